//! Connections and what a server says about itself: family, version, the RDB version its DUMP
//! writes and its RESTORE reads, cluster mode, the module.

use std::time::Duration;

use redis::{Connection, ConnectionAddr, ConnectionInfo, IntoConnectionInfo, Value};
use restore_core::release::{self, Engine, Feature};

/// A fatal error: the run cannot go on (exit status 2).
#[derive(Debug)]
pub struct Fatal(pub String);

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub type Result<T> = std::result::Result<T, Fatal>;

pub fn fatal(msg: impl Into<String>) -> Fatal {
    Fatal(msg.into())
}

/// A parsed `redis://[user:password@]host:port[/db]` URL.
#[derive(Clone)]
pub struct Endpoint {
    pub info: ConnectionInfo,
    /// The URL without its password, for messages and the checkpoint.
    pub display: String,
    /// Whether the URL named a database.
    pub db_given: bool,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint> {
        let info = url
            .into_connection_info()
            .map_err(|e| fatal(format!("{url}: not a redis:// URL ({e})")))?;
        let redis = info.redis_settings().clone().set_skip_set_lib_name();
        let info = info.set_redis_settings(redis);
        let (host, port) = host_port(info.addr());
        let path = url.split_once("://").map_or("", |(_, rest)| rest);
        let db_given = path.split_once('/').is_some_and(|(_, db)| !db.is_empty());
        let user = info
            .redis_settings()
            .username()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let db = info.redis_settings().db();
        let display = format!(
            "redis://{user}{host}:{port}{}",
            if db_given {
                format!("/{db}")
            } else {
                String::new()
            }
        );
        Ok(Endpoint {
            info,
            display,
            db_given,
        })
    }

    pub fn db(&self) -> i64 {
        self.info.redis_settings().db()
    }

    /// The same credentials at another address (a cluster node), database 0.
    pub fn at(&self, host: &str, port: u16) -> Endpoint {
        let redis = self.info.redis_settings().clone().set_db(0);
        let info = self
            .info
            .clone()
            .set_addr(ConnectionAddr::Tcp(host.to_string(), port))
            .set_redis_settings(redis);
        Endpoint {
            info,
            display: format!("{host}:{port}"),
            db_given: false,
        }
    }

    pub fn connect(&self, timeout: Duration) -> Result<Connection> {
        let client = redis::Client::open(self.info.clone())
            .map_err(|e| fatal(format!("{}: {e}", self.display)))?;
        let con = client
            .get_connection_with_timeout(timeout)
            .map_err(|e| fatal(describe_connect_error(&self.display, &e)))?;
        let _ = con.set_read_timeout(Some(timeout));
        let _ = con.set_write_timeout(Some(timeout));
        Ok(con)
    }
}

fn host_port(addr: &ConnectionAddr) -> (String, u16) {
    match addr {
        ConnectionAddr::Tcp(h, p) => (h.clone(), *p),
        ConnectionAddr::TcpTls { host, port, .. } => (host.clone(), *port),
        other => (format!("{other:?}"), 0),
    }
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
        format!("{who}: the server requires a password (redis://user:password@host:port): {text}")
    } else if lower.contains("refused") {
        format!("{who}: connection refused (is the server running and reachable?)")
    } else if lower.contains("timed out") || lower.contains("timeout") {
        format!("{who}: no answer (timed out)")
    } else {
        format!("{who}: cannot connect: {text}")
    }
}

/// A server error reply as text (`ERR ...`, `BUSYKEY ...`).
pub fn error_text(v: &Value) -> Option<String> {
    match v {
        Value::ServerError(e) => Some(match e.details() {
            Some(d) => format!("{} {d}", e.code()),
            None => e.code().to_string(),
        }),
        _ => None,
    }
}

pub fn as_bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

pub fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::BulkString(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        _ => None,
    }
}

/// Runs one command; a server error becomes a fatal error naming `who`.
pub fn query(con: &mut Connection, who: &str, cmd: &redis::Cmd) -> Result<Value> {
    let v: Value = cmd.query(con).map_err(|e| fatal(format!("{who}: {e}")))?;
    Ok(v)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Redis,
    Valkey,
}

/// What a server is.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub family: Family,
    pub version: (u32, u32, u32),
    /// e.g. `redis 7.0.15`, `valkey 9.1.2`.
    pub label: String,
    /// The RDB version its DUMP writes (and the newest its RESTORE reads).
    pub rdb_version: u16,
    pub cluster: bool,
    /// `RESTORE.ASKING` is there.
    pub module: bool,
    /// Hash field TTLs (Redis 7.4+, Valkey 9+).
    pub field_ttls: bool,
    /// `PEXPIRETIME` (7.0+).
    pub pexpiretime: bool,
}

fn parse_version(s: &str) -> (u32, u32, u32) {
    let mut it = s.trim().split('.').map(|p| p.parse().unwrap_or(0));
    (
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
    )
}

/// The release table's engine and `0x00MMmmpp` form of a server version.
fn release_key(family: Family, v: (u32, u32, u32)) -> (Engine, u32) {
    let engine = match family {
        Family::Redis => Engine::Redis,
        Family::Valkey => Engine::Valkey,
    };
    (
        engine,
        v.0.min(255) << 16 | v.1.min(255) << 8 | v.2.min(255),
    )
}

fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines().find_map(|l| {
        l.strip_prefix(field)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

pub fn server_info(con: &mut Connection, who: &str) -> Result<ServerInfo> {
    let info = query(con, who, redis::cmd("INFO").arg("server"))?;
    let info = String::from_utf8_lossy(as_bytes(&info).unwrap_or_default()).into_owned();
    let (family, version) = match info_field(&info, "valkey_version") {
        Some(v) => (Family::Valkey, parse_version(v)),
        None => (
            Family::Redis,
            parse_version(info_field(&info, "redis_version").unwrap_or("0")),
        ),
    };
    let cluster_info = query(con, who, redis::cmd("INFO").arg("cluster"))?;
    let cluster = String::from_utf8_lossy(as_bytes(&cluster_info).unwrap_or_default())
        .contains("cluster_enabled:1");
    let module = match redis::cmd("COMMAND")
        .arg("INFO")
        .arg("restore.asking")
        .query::<Value>(con)
    {
        Ok(Value::Array(items)) => items.first().is_some_and(|i| !matches!(i, Value::Nil)),
        _ => false,
    };
    let (engine, packed) = release_key(family, version);
    let name = match family {
        Family::Redis => "redis",
        Family::Valkey => "valkey",
    };
    Ok(ServerInfo {
        family,
        version,
        label: format!("{name} {}.{}.{}", version.0, version.1, version.2),
        rdb_version: release::rdb_version_written(engine, packed),
        cluster,
        module,
        field_ttls: release::has(engine, packed, Feature::HashFieldTtls),
        pexpiretime: version >= (7, 0, 0),
    })
}

/// Masters of a cluster, from `CLUSTER NODES`: (host, port), sorted.
pub fn cluster_masters(
    con: &mut Connection,
    who: &str,
    default_host: &str,
) -> Result<Vec<(String, u16)>> {
    let nodes = query(con, who, redis::cmd("CLUSTER").arg("NODES"))?;
    let text = String::from_utf8_lossy(as_bytes(&nodes).unwrap_or_default()).into_owned();
    let mut out = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 3 {
            continue;
        }
        let flags = parts[2];
        if !flags.split(',').any(|f| f == "master") || flags.contains("fail") {
            continue;
        }
        // Masters without slots hold no keys.
        if parts.len() <= 8 {
            continue;
        }
        let addr = parts[1].split('@').next().unwrap_or("");
        if let Some((host, port)) = addr.rsplit_once(':') {
            let host = if host.is_empty() { default_host } else { host };
            if let Ok(port) = port.parse() {
                out.push((host.to_string(), port));
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(fatal(format!(
            "{who}: CLUSTER NODES lists no master with slots"
        )));
    }
    Ok(out)
}

pub fn endpoint_host(e: &Endpoint) -> String {
    host_port(e.info.addr()).0
}
