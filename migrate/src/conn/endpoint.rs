//! Endpoints: a URL and the options of its end (TLS files, credentials) turned into
//! connections. Every connection the client makes — source, target, each cluster node, verify —
//! comes from an `Endpoint`, so TLS and credentials reach all of them.
//!
//! ```text
//! redis://[user:password@]host:port[/db]      valkey://…   plain TCP (IPv6 as [::1])
//! rediss://…  valkeys://…                     TLS (or --tls with redis://)
//! unix:///path/to.sock[?db=N]  redis+unix://…  valkey+unix://…
//! redis+sentinel://[user:password@]host:port[,host:port…]/master-name[/db]
//! ```
//!
//! `--sni NAME` presents NAME instead of the URL's host (SNI and certificate verification);
//! redis-rs cannot, so such a connection is a TLS session of our own (`tls.rs`) behind a local
//! relay (`relay.rs`), and every connection of that end goes that way, cluster nodes and
//! sentinels included.
//!
//! A password never leaves this file as text: `display` has none, a URL that does not parse is
//! shown with `***` in its place, and [`Secret`] prints as `***`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use redis::{
    Client, ClientTlsConfig, Connection, ConnectionAddr, ConnectionInfo, IntoConnectionInfo,
};
use redis::{TlsCertificates, Value};

use super::relay;
use super::socket::Socket;
use super::tls::{self, TlsClient};
use crate::error::{fatal, usage, Result};

/// How long a connection waits for a server that is loading its dataset.
const LOADING_WAIT: Duration = Duration::from_secs(300);

/// A password: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: String) -> Secret {
        Secret(s)
    }

    /// Reads a password file: its first line, without the line end.
    pub fn from_file(path: &str) -> Result<Secret> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| usage(format!("password file {path}: {e}")))?;
        Ok(Secret(text.lines().next().unwrap_or_default().to_string()))
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The options of one end (source or target) besides its URL.
#[derive(Debug, Clone, Default)]
pub struct EndOpts {
    /// TLS even for a redis:// URL.
    pub tls: bool,
    pub cacert: Option<PathBuf>,
    pub cacert_dir: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    /// Accept any certificate and host name.
    pub insecure: bool,
    /// The server name to send and verify instead of the URL's host.
    pub sni: Option<String>,
    /// ACL user and password, over the URL's.
    pub user: Option<String>,
    pub password: Option<Secret>,
}

/// Where Sentinel finds the master.
#[derive(Clone)]
struct Sentinel {
    nodes: Vec<(String, u16)>,
    master: String,
}

/// A server to connect to, and how.
#[derive(Clone)]
pub struct Endpoint {
    info: ConnectionInfo,
    tls: Option<TlsCertificates>,
    insecure: bool,
    /// `--sni`: the session settings with its name; connections go through a relay.
    sni: Option<TlsClient>,
    sentinel: Option<Sentinel>,
    /// The URL without its password, for messages and the checkpoint.
    pub display: String,
    /// Whether the URL named a database.
    pub db_given: bool,
}

/// `url` with the password between `:` and `@` of its authority replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let auth_end = rest.find('/').unwrap_or(rest.len());
    match rest[..auth_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            format!("{scheme}://{user}:***{}", &rest[at..])
        }
        None => url.to_string(),
    }
}

fn read_pem(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| usage(format!("{what} {}: {e}", path.display())))
}

/// The CA certificates of a directory: every `.pem`, `.crt` and `.cer` file, concatenated.
fn read_pem_dir(dir: &Path) -> Result<Vec<u8>> {
    let err = |e: std::io::Error| usage(format!("--cacert-dir {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(err)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "pem" || x == "crt" || x == "cer")
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        out.extend(std::fs::read(&f).map_err(err)?);
        out.push(b'\n');
    }
    if out.is_empty() {
        return Err(usage(format!(
            "--cacert-dir {}: no .pem, .crt or .cer file in it",
            dir.display()
        )));
    }
    Ok(out)
}

impl Endpoint {
    pub fn parse(url: &str, opts: &EndOpts) -> Result<Endpoint> {
        let (info, sentinel) = match url.split_once("://") {
            Some(("redis+sentinel" | "valkey+sentinel", rest)) => parse_sentinel(url, rest)?,
            _ => (
                url.into_connection_info()
                    .map_err(|e| usage(format!("{}: not a redis:// URL ({e})", redact(url))))?,
                None,
            ),
        };
        let mut redis = info.redis_settings().clone().set_skip_set_lib_name();
        if let Some(u) = &opts.user {
            redis = redis.set_username(u.clone());
        }
        if let Some(p) = &opts.password {
            redis = redis.set_password(p.expose());
        }
        let mut info = info.set_redis_settings(redis);
        let tls_url = matches!(info.addr(), ConnectionAddr::TcpTls { .. });
        let tls_wanted = tls_url || opts.tls;
        let tls_files = opts.cacert.is_some()
            || opts.cacert_dir.is_some()
            || opts.cert.is_some()
            || opts.key.is_some();
        if tls_files && !tls_wanted {
            return Err(usage(format!(
                "{}: TLS files given for a plain connection: use a rediss:// URL or --tls",
                redact(url)
            )));
        }
        if matches!(info.addr(), ConnectionAddr::Unix(_)) && tls_wanted {
            return Err(usage(format!("{}: TLS over a unix socket", redact(url))));
        }
        if opts.sni.is_some() && !tls_wanted {
            return Err(usage(format!(
                "{}: --sni for a plain connection: use a rediss:// URL or --tls",
                redact(url)
            )));
        }
        let tls = if tls_wanted {
            let root_cert = match (&opts.cacert, &opts.cacert_dir) {
                (Some(f), None) => Some(read_pem(f, "--cacert")?),
                (None, Some(d)) => Some(read_pem_dir(d)?),
                (Some(f), Some(d)) => {
                    let mut all = read_pem(f, "--cacert")?;
                    all.push(b'\n');
                    all.extend(read_pem_dir(d)?);
                    Some(all)
                }
                (None, None) => None,
            };
            let client_tls = match (&opts.cert, &opts.key) {
                (Some(c), Some(k)) => Some(ClientTlsConfig {
                    client_cert: read_pem(c, "--cert")?,
                    client_key: read_pem(k, "--key")?,
                }),
                (None, None) => None,
                _ => return Err(usage("--cert and --key go together (mutual TLS)")),
            };
            Some(TlsCertificates {
                client_tls,
                root_cert,
            })
        } else {
            None
        };
        let sni = match (&opts.sni, &tls) {
            (Some(name), Some(certs)) => Some(TlsClient::new(
                certs,
                opts.insecure,
                Some(tls::server_name(name)?),
            )?),
            _ => None,
        };
        let mut ep = Endpoint {
            info: info.clone(),
            tls,
            insecure: opts.insecure,
            sni,
            sentinel,
            display: String::new(),
            db_given: false,
        };
        // The address in the form TLS (or not) wants; for Sentinel a placeholder until resolved.
        if let ConnectionAddr::Tcp(h, p)
        | ConnectionAddr::TcpTls {
            host: h, port: p, ..
        } = info.addr().clone()
        {
            info = info.set_addr(ep.addr_for(&h, p));
            ep.info = info;
        }
        ep.db_given = url_names_db(url, ep.sentinel.is_some());
        ep.display = ep.make_display(url);
        Ok(ep)
    }

    /// A TCP address at `host:port` with this endpoint's TLS setting.
    fn addr_for(&self, host: &str, port: u16) -> ConnectionAddr {
        if self.tls.is_some() {
            ConnectionAddr::TcpTls {
                host: host.to_string(),
                port,
                insecure: self.insecure,
                tls_params: None,
            }
        } else {
            ConnectionAddr::Tcp(host.to_string(), port)
        }
    }

    fn make_display(&self, url: &str) -> String {
        let user = self
            .info
            .redis_settings()
            .username()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let db = if self.db_given {
            format!("/{}", self.db())
        } else {
            String::new()
        };
        if let Some(s) = &self.sentinel {
            let nodes: Vec<String> = s.nodes.iter().map(|(h, p)| host_port(h, *p)).collect();
            return format!(
                "redis+sentinel://{user}{}/{}{db}",
                nodes.join(","),
                s.master
            );
        }
        match self.info.addr() {
            ConnectionAddr::Unix(path) => format!("unix://{}{db}", path.display()),
            ConnectionAddr::TcpTls { host, port, .. } => {
                let scheme = if url.starts_with("valkey") {
                    "valkeys"
                } else {
                    "rediss"
                };
                format!("{scheme}://{user}{}{db}", host_port(host, *port))
            }
            ConnectionAddr::Tcp(host, port) => {
                format!("redis://{user}{}{db}", host_port(host, *port))
            }
            other => format!("{other:?}"),
        }
    }

    pub fn db(&self) -> i64 {
        self.info.redis_settings().db()
    }

    /// The host of a TCP endpoint (a cluster node's default host); empty otherwise.
    pub fn host(&self) -> String {
        match self.info.addr() {
            ConnectionAddr::Tcp(h, _) | ConnectionAddr::TcpTls { host: h, .. } => h.clone(),
            _ => String::new(),
        }
    }

    /// A socket of our own to the server (through Sentinel to the master), TLS as the end
    /// says: what a replica link speaking RESP itself needs. `timeout` bounds the connection.
    pub fn open_socket(&self, timeout: Duration) -> Result<Socket> {
        let addr = match &self.sentinel {
            Some(s) => {
                let (host, port) = self.resolve(s, timeout)?;
                self.addr_for(&host, port)
            }
            None => self.info.addr().clone(),
        };
        let err = |e: std::io::Error| fatal(describe_connect_error(&self.display, &e.into()));
        match addr {
            ConnectionAddr::Unix(path) => Socket::unix(&path, timeout).map_err(err),
            ConnectionAddr::TcpTls { host, port, .. } => {
                let client = match (&self.sni, &self.tls) {
                    (Some(c), _) => c.clone(),
                    (None, Some(certs)) => TlsClient::new(certs, self.insecure, None)?,
                    (None, None) => return Err(fatal("TLS without settings (a bug)")),
                };
                let session = client.connect(&host, port, timeout).map_err(err)?;
                Ok(Socket::Tls(Box::new(session)))
            }
            ConnectionAddr::Tcp(host, port) => Socket::tcp(&host, port, timeout).map_err(err),
            other => Err(usage(format!("{}: {other:?} not supported", self.display))),
        }
    }

    /// The ACL user and password to `AUTH` with, if any.
    pub fn credentials(&self) -> (Option<&str>, Option<&str>) {
        let s = self.info.redis_settings();
        (s.username(), s.password())
    }

    #[cfg(test)]
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    pub fn is_sentinel(&self) -> bool {
        self.sentinel.is_some()
    }

    /// The same credentials and TLS at another address (a cluster node), database 0.
    pub fn at(&self, host: &str, port: u16) -> Endpoint {
        let redis = self.info.redis_settings().clone().set_db(0);
        let info = self
            .info
            .clone()
            .set_addr(self.addr_for(host, port))
            .set_redis_settings(redis);
        Endpoint {
            info,
            tls: self.tls.clone(),
            insecure: self.insecure,
            sni: self.sni.clone(),
            sentinel: None,
            display: host_port(host, port),
            db_given: false,
        }
    }

    /// Connects (through Sentinel to the current master where the URL names one), with
    /// `timeout` for the connection and for every reply.
    pub fn connect(&self, timeout: Duration) -> Result<Connection> {
        let mut info = self.info.clone();
        if let Some(s) = &self.sentinel {
            let (host, port) = self.resolve(s, timeout)?;
            info = info.set_addr(self.addr_for(&host, port));
        }
        let (mut con, relay_failure) = self
            .open(info, timeout)
            .map_err(|e| fatal(describe_connect_error(&self.display, &e)))?;
        // Through a relay, a closed connection is best explained by the session's failure.
        let explain = |e: redis::RedisError| match relay_failure.as_ref().and_then(|f| f.get()) {
            Some(why) => redis::RedisError::from(std::io::Error::other(why.clone())),
            None => e,
        };
        let _ = con.set_read_timeout(Some(timeout));
        let _ = con.set_write_timeout(Some(timeout));
        // A first round trip here: TLS completes its handshake on first use, and a server
        // that wants a password says so to PING; either is then reported as a connection
        // failure in words that say what to do, not at some later command. A server still
        // loading its dataset (a restart, a replica's first sync) is waited for.
        let started = std::time::Instant::now();
        let mut pause = Duration::from_millis(100);
        loop {
            let code = match super::cmd("PING").query::<Value>(&mut con) {
                Err(e) => match e.code() {
                    Some("LOADING") => "LOADING".to_string(),
                    _ => return Err(fatal(describe_connect_error(&self.display, &explain(e)))),
                },
                Ok(Value::ServerError(e)) => e.code().to_string(),
                Ok(_) => return Ok(con),
            };
            match code.as_str() {
                "NOAUTH" => {
                    return Err(fatal(format!(
                        "{}: the server requires a password (in the URL, RESTORE_MIGRATE_SOURCE_PASSWORD / RESTORE_MIGRATE_TARGET_PASSWORD, or --source-password-file / --target-password-file)",
                        self.display
                    )))
                }
                "LOADING" if started.elapsed() < LOADING_WAIT => {
                    if pause == Duration::from_millis(100) {
                        eprintln!(
                            "restore-migrate: {}: LOADING: the server is loading its dataset; trying again in {} ms, for up to {} s",
                            self.display,
                            pause.as_millis(),
                            LOADING_WAIT.as_secs()
                        );
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                "LOADING" => {
                    return Err(fatal(format!(
                        "{}: still loading its dataset after {} s; run again once it answers",
                        self.display,
                        LOADING_WAIT.as_secs()
                    )))
                }
                // PING refused for another reason (an ACL without it): the connection works.
                _ => return Ok(con),
            }
        }
    }

    /// A redis-rs connection to `info`'s address: directly, or with `--sni` through a relay
    /// over a session of our own (the handshake done first, so a certificate that does not
    /// hold the name fails here), with the relay's failure slot.
    fn open(
        &self,
        info: ConnectionInfo,
        timeout: Duration,
    ) -> redis::RedisResult<(Connection, Option<relay::Failure>)> {
        if let (Some(sni), ConnectionAddr::TcpTls { host, port, .. }) = (&self.sni, info.addr()) {
            let session = sni.connect(host, *port, timeout)?;
            let relay = relay::start(session, self.display.clone(), timeout)?;
            let info = info.set_addr(ConnectionAddr::Unix(relay.path.clone()));
            // The relay's socket and directory go when `relay` does: once connected.
            let con = Client::open(info)?
                .get_connection_with_timeout(timeout)
                .map_err(|e| match relay.failure.get() {
                    Some(why) => std::io::Error::other(why.clone()).into(),
                    None => e,
                })?;
            return Ok((con, Some(relay.failure.clone())));
        }
        let con = match &self.tls {
            Some(certs) => Client::build_with_tls(info, certs.clone()),
            None => Client::open(info),
        }?
        .get_connection_with_timeout(timeout)?;
        Ok((con, None))
    }

    /// The master's address, from the first sentinel that knows it.
    fn resolve(&self, s: &Sentinel, timeout: Duration) -> Result<(String, u16)> {
        let mut why = Vec::new();
        for (host, port) in &s.nodes {
            let reply = self
                .addr_for(host, *port)
                .into_connection_info()
                .and_then(|info| self.open(info, timeout))
                .and_then(|(mut con, _)| {
                    super::cmd("SENTINEL")
                        .arg("get-master-addr-by-name")
                        .arg(&s.master)
                        .query::<Value>(&mut con)
                });
            match reply {
                Ok(Value::Array(a)) if a.len() == 2 => {
                    let h = super::as_bytes(&a[0]).map(|b| String::from_utf8_lossy(b).into_owned());
                    let p = super::as_int(&a[1]).and_then(|p| u16::try_from(p).ok());
                    if let (Some(h), Some(p)) = (h, p) {
                        return Ok((h, p));
                    }
                    why.push(format!("{}: an address {a:?}", host_port(host, *port)));
                }
                Ok(Value::Nil) => why.push(format!(
                    "{}: no master named {}",
                    host_port(host, *port),
                    s.master
                )),
                Ok(other) => why.push(format!("{}: {other:?}", host_port(host, *port))),
                Err(e) => why.push(format!("{}: {e}", host_port(host, *port))),
            }
        }
        Err(fatal(format!(
            "{}: no sentinel gave the master's address ({})",
            self.display,
            why.join("; ")
        )))
    }
}

/// `host:port`, with brackets around an IPv6 address.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Whether the URL names a database (`/N` after the authority, `?db=N` for sockets; for
/// Sentinel `/master/N`).
fn url_names_db(url: &str, sentinel: bool) -> bool {
    let Some((_, rest)) = url.split_once("://") else {
        return false;
    };
    if rest.contains("db=") {
        return true;
    }
    if url.starts_with("unix") || url.contains("+unix") {
        return false;
    }
    let path = rest.split_once('/').map_or("", |(_, p)| p);
    let path = path.split('?').next().unwrap_or_default();
    if sentinel {
        path.split_once('/').is_some_and(|(_, db)| !db.is_empty())
    } else {
        !path.is_empty()
    }
}

/// `redis+sentinel://[user:password@]h:p[,h:p…]/master[/db]`.
fn parse_sentinel(url: &str, rest: &str) -> Result<(ConnectionInfo, Option<Sentinel>)> {
    let bad = |why: &str| usage(format!("{}: {why}", redact(url)));
    let (authority, path) = rest
        .split_once('/')
        .ok_or_else(|| bad("no master name (redis+sentinel://host:port/master-name)"))?;
    let (userinfo, hosts) = match authority.rfind('@') {
        Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
        None => (None, authority),
    };
    let mut nodes = Vec::new();
    for h in hosts.split(',').filter(|h| !h.is_empty()) {
        let (host, port) = match h.rsplit_once(':') {
            Some((host, port)) if !host.ends_with(']') || h.starts_with('[') => {
                (host, port.parse().map_err(|_| bad("a sentinel port"))?)
            }
            _ => (h, 26379),
        };
        nodes.push((host.trim_matches(['[', ']']).to_string(), port));
    }
    if nodes.is_empty() {
        return Err(bad("no sentinel address"));
    }
    let (master, db) = match path.split_once('/') {
        Some((m, db)) => (
            m,
            Some(db.parse::<i64>().map_err(|_| bad("a database number"))?),
        ),
        None => (path, None),
    };
    if master.is_empty() {
        return Err(bad("no master name"));
    }
    let mut redis = redis::RedisConnectionInfo::default();
    if let Some(ui) = userinfo {
        let (user, pass) = ui.split_once(':').unwrap_or((ui, ""));
        let decode =
            |s: &str| percent_decode(s).ok_or_else(|| bad("bad %-escape in the credentials"));
        if !user.is_empty() {
            redis = redis.set_username(decode(user)?);
        }
        if !pass.is_empty() {
            redis = redis.set_password(decode(pass)?);
        }
    }
    if let Some(db) = db {
        redis = redis.set_db(db);
    }
    let info = ConnectionAddr::Tcp(nodes[0].0.clone(), nodes[0].1)
        .into_connection_info()
        .map_err(|e| bad(&e.to_string()))?
        .set_redis_settings(redis);
    Ok((
        info,
        Some(Sentinel {
            nodes,
            master: master.to_string(),
        }),
    ))
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn describe_connect_error(who: &str, e: &redis::RedisError) -> String {
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("wrongpass")
        || lower.contains("authentication failed")
        || lower.contains("invalid password")
        || lower.contains("invalid username-password")
    {
        format!("{who}: authentication failed (wrong user or password): {text}")
    } else if lower.contains("noauth") || lower.contains("authentication required") {
        format!("{who}: the server requires a password (in the URL, RESTORE_MIGRATE_SOURCE_PASSWORD / RESTORE_MIGRATE_TARGET_PASSWORD, or --source-password-file / --target-password-file): {text}")
    } else if lower.contains("certificaterequired") {
        format!("{who}: TLS: the server requires a client certificate ({text}): give it with --cert and --key (--source-cert / --target-cert, …)")
    } else if lower.contains("not valid for name") || lower.contains("notvalidforname") {
        format!("{who}: TLS: the server's certificate is not valid for the name checked ({text}); connect by a name it holds, or give one with --sni (--source-sni / --target-sni)")
    } else if lower.contains("certificate")
        || lower.contains("unknownissuer")
        || lower.contains("invalid peer")
    {
        format!("{who}: TLS: the server's certificate is not trusted ({text}); give its CA with --cacert (or --insecure to skip verification)")
    } else if lower.contains("refused") {
        format!("{who}: connection refused (is the server running and reachable?)")
    } else if lower.contains("timed out") || lower.contains("timeout") {
        format!("{who}: no answer (timed out)")
    } else {
        format!("{who}: cannot connect: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Endpoint {
        Endpoint::parse(url, &EndOpts::default()).unwrap()
    }

    #[test]
    fn passwords_are_never_displayed() {
        let ep = parse("redis://mig:s3cret@127.0.0.1:6380/2");
        assert_eq!(ep.display, "redis://mig@127.0.0.1:6380/2");
        assert_eq!(redact("redis://mig:s3cret@h:1/0"), "redis://mig:***@h:1/0");
        assert_eq!(redact("redis://:s3cret@h:1"), "redis://:***@h:1");
        assert_eq!(redact("redis://h:1/a@b"), "redis://h:1/a@b");
        let e = Endpoint::parse("redis://u:s3cret@h:notaport", &EndOpts::default())
            .err()
            .unwrap()
            .to_string();
        assert!(!e.contains("s3cret"), "{e}");
        assert_eq!(format!("{:?}", Secret::new("s3cret".into())), "***");
    }

    #[test]
    fn tls_unix_and_ipv6_urls() {
        assert!(parse("rediss://127.0.0.1:6380").is_tls());
        assert_eq!(parse("valkeys://h:1").display, "valkeys://h:1");
        let tls = Endpoint::parse(
            "redis://h:1",
            &EndOpts {
                tls: true,
                ..EndOpts::default()
            },
        )
        .unwrap();
        assert!(tls.is_tls());
        assert_eq!(tls.display, "rediss://h:1");
        assert!(tls.at("n2", 7).is_tls(), "cluster nodes keep TLS");
        let sock = parse("unix:///run/redis.sock?db=3");
        assert_eq!(sock.display, "unix:///run/redis.sock/3");
        assert!(sock.db_given && sock.db() == 3);
        assert_eq!(parse("redis://[::1]:6379").display, "redis://[::1]:6379");
        let e = Endpoint::parse(
            "redis://h:1",
            &EndOpts {
                cacert: Some("/x".into()),
                ..EndOpts::default()
            },
        )
        .err()
        .unwrap()
        .to_string();
        assert!(e.contains("--tls"), "{e}");
    }

    #[test]
    fn sni_wants_tls_and_a_name() {
        let with = |url: &str, sni: &str| {
            Endpoint::parse(
                url,
                &EndOpts {
                    sni: Some(sni.into()),
                    ..EndOpts::default()
                },
            )
        };
        let ep = with("rediss://127.0.0.1:6380", "redis.test").unwrap();
        assert!(
            ep.at("10.0.0.2", 7).sni.is_some(),
            "cluster nodes keep the name"
        );
        let e = with("redis://127.0.0.1:6379", "redis.test").err().unwrap();
        assert!(
            e.to_string().contains("--sni for a plain connection"),
            "{e}"
        );
        let e = with("rediss://127.0.0.1:6380", "not a name").err().unwrap();
        assert!(e.to_string().contains("not a DNS name"), "{e}");
    }

    #[test]
    fn sentinel_urls() {
        let ep = parse("redis+sentinel://u:p%40ss@s1:26379,s2/mymaster/4");
        assert!(ep.is_sentinel());
        assert_eq!(
            ep.display,
            "redis+sentinel://u@s1:26379,s2:26379/mymaster/4"
        );
        assert_eq!(ep.db(), 4);
        assert_eq!(ep.info.redis_settings().password(), Some("p@ss"));
        assert!(Endpoint::parse("redis+sentinel://s1:26379", &EndOpts::default()).is_err());
    }
}
