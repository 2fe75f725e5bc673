//! Connections and what a server says about itself: family, version, the RDB version its DUMP
//! writes and its RESTORE reads, cluster mode, the module. Endpoints (URLs, TLS, credentials,
//! Sentinel) are in `endpoint.rs`; TLS sessions of the client's own (`--sni`, the replica link)
//! in `tls.rs`, with `relay.rs` handing them to redis-rs and `socket.rs` to the replica link.

mod endpoint;
mod relay;
mod socket;
mod tls;

pub use endpoint::{EndOpts, Endpoint, Secret};
pub use socket::Socket;

use std::sync::OnceLock;

use redis::{Connection, Value};
use restore_core::release::{self, Engine, Feature};

use crate::error::{fatal, usage, Result};

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
    /// `proto-max-bulk-len`, where `CONFIG GET` answers it (targets): larger payloads would
    /// make the server close the connection.
    pub max_bulk: Option<u64>,
    /// What could not be asked (a managed service's limits), for the summary.
    pub notes: Vec<String>,
}

/// One field of an `INFO` section, or `None` where INFO (or the section) is not answered.
pub fn info_field_of(con: &mut Connection, section: &str, field: &str) -> Option<String> {
    let v = cmd("INFO").arg(section).query::<Value>(con).ok()?;
    let text = String::from_utf8_lossy(as_bytes(&v)?).into_owned();
    info_field(&text, field).map(str::to_string)
}

/// One range of a `CLUSTER SLOTS` reply: its first and last slot and the master's address
/// (`default_host` where the node does not say, as `?` or an empty host means).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotRange {
    pub first: u16,
    pub last: u16,
    pub host: String,
    pub port: u16,
}

/// The ranges of a `CLUSTER SLOTS` reply, in its order; malformed entries are left out.
pub fn slot_ranges(reply: &Value, default_host: &str) -> Vec<SlotRange> {
    let Value::Array(ranges) = reply else {
        return Vec::new();
    };
    let slot = |v: Option<&Value>| v.and_then(as_int).map(|n| n.clamp(0, 16383) as u16);
    ranges
        .iter()
        .filter_map(|r| {
            let Value::Array(parts) = r else { return None };
            let Some(Value::Array(node)) = parts.get(2) else {
                return None;
            };
            let host = node
                .first()
                .and_then(as_bytes)
                .map(|h| String::from_utf8_lossy(h).into_owned())
                .filter(|h| !h.is_empty() && h != "?")
                .unwrap_or_else(|| default_host.to_string());
            Some(SlotRange {
                first: slot(parts.first())?,
                last: slot(parts.get(1))?,
                host,
                port: u16::try_from(node.get(1).and_then(as_int)?).ok()?,
            })
        })
        .collect()
}

/// The databases an `INFO keyspace` text lists, with their key counts, ascending.
pub fn keyspace(text: &str) -> Vec<(u32, u64)> {
    let mut dbs: Vec<(u32, u64)> = text
        .lines()
        .filter_map(|line| {
            let (db, rest) = line.strip_prefix("db")?.split_once(':')?;
            let keys = rest
                .split(',')
                .find_map(|kv| kv.strip_prefix("keys="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            Some((db.parse().ok()?, keys))
        })
        .collect();
    dbs.sort_unstable();
    dbs
}

/// The databases with keys on `con`, from `INFO keyspace` (an error where it is refused).
pub fn keyspace_dbs(con: &mut Connection, who: &str) -> Result<Vec<u32>> {
    let info = query(con, who, cmd("INFO").arg("keyspace"))?;
    let text = String::from_utf8_lossy(as_bytes(&info).unwrap_or_default());
    Ok(keyspace(&text).into_iter().map(|(db, _)| db).collect())
}

/// `CONFIG GET name`'s value, or `None` where CONFIG is renamed, refused or silent.
pub fn config_get(con: &mut Connection, name: &str) -> Option<String> {
    match cmd("CONFIG").arg("GET").arg(name).query::<Value>(con) {
        Ok(Value::Array(kv)) if kv.len() == 2 => {
            as_bytes(&kv[1]).map(|b| String::from_utf8_lossy(b).into_owned())
        }
        Ok(Value::Map(kv)) => kv
            .first()
            .and_then(|(_, v)| as_bytes(v))
            .map(|b| String::from_utf8_lossy(b).into_owned()),
        _ => None,
    }
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

/// Command names as a server knows them. Managed services rename commands (ElastiCache and its
/// peers: `CONFIG`, `CLIENT`, …); `--rename CONFIG=MYCONFIG` says so, once for the run, and
/// every command the client sends is built through [`cmd`].
static RENAMES: OnceLock<Vec<(String, String)>> = OnceLock::new();

/// Sets the renames (`NAME=NEW`, case-insensitive names) for the run; only the first call counts.
pub fn set_renames(pairs: &[String]) -> Result<()> {
    let mut renames = Vec::new();
    for p in pairs {
        let (from, to) = p
            .split_once('=')
            .filter(|(f, t)| !f.is_empty() && !t.is_empty())
            .ok_or_else(|| {
                usage(format!(
                    "--rename {p:?}: not NAME=NEW (e.g. CONFIG=MYCONFIG)"
                ))
            })?;
        renames.push((from.to_string(), to.to_string()));
    }
    let _ = RENAMES.set(renames);
    Ok(())
}

/// A command by its standard name, as this run's servers know it. Called for every command
/// of every key: no allocation beyond the command's own, and none at all to look a name up.
pub fn cmd(name: &str) -> redis::Cmd {
    let renamed = RENAMES
        .get()
        .and_then(|r| r.iter().find(|(from, _)| from.eq_ignore_ascii_case(name)));
    match renamed {
        Some((_, to)) => redis::cmd(to),
        None => redis::cmd(name),
    }
}

/// A pipeline packed by hand, for the per-key read path: one buffer for all its commands and
/// no `redis::Cmd` each (two allocations and ~450 instructions apiece, measured with
/// callgrind). Names go through the run's renames as [`cmd`]'s do.
pub struct Packed {
    buf: Vec<u8>,
    count: usize,
}

impl Packed {
    /// With room for `bytes` of commands, so that the buffer is not copied as it grows.
    pub fn with_capacity(bytes: usize) -> Packed {
        Packed {
            buf: Vec::with_capacity(bytes),
            count: 0,
        }
    }

    /// Appends one command: its standard name and its arguments.
    pub fn add(&mut self, name: &str, args: &[&[u8]]) {
        let name = RENAMES
            .get()
            .and_then(|r| r.iter().find(|(from, _)| from.eq_ignore_ascii_case(name)))
            .map_or(name, |(_, to)| to.as_str());
        let mut head = itoa::Buffer::new();
        self.buf.push(b'*');
        self.buf
            .extend_from_slice(head.format(1 + args.len()).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
        for a in std::iter::once(name.as_bytes()).chain(args.iter().copied()) {
            self.buf.push(b'$');
            self.buf.extend_from_slice(head.format(a.len()).as_bytes());
            self.buf.extend_from_slice(b"\r\n");
            self.buf.extend_from_slice(a);
            self.buf.extend_from_slice(b"\r\n");
        }
        self.count += 1;
    }

    /// Commands added so far: the replies [`Packed::recv`] waits for.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Writes every command, without waiting for a reply.
    pub fn send(&self, con: &mut Connection) -> redis::RedisResult<()> {
        con.send_packed_command(&self.buf)
    }

    /// The `count` replies of a pipeline sent before, in order; an error reply is a value
    /// (`Value::ServerError`), as with an `ignore_errors` pipeline.
    pub fn recv(con: &mut Connection, count: usize) -> redis::RedisResult<Vec<Value>> {
        let mut replies = Vec::with_capacity(count);
        while replies.len() < count {
            match con.recv_response()? {
                Value::Push { .. } => {}
                v => replies.push(v),
            }
        }
        Ok(replies)
    }
}

/// A release given on the command line (`redis-7.0`, `valkey-8.0.1`), for a server that does
/// not say what it is (INFO and HELLO refused).
pub fn parse_release(s: &str) -> Result<(Family, (u32, u32, u32))> {
    let (name, v) = s
        .split_once('-')
        .ok_or_else(|| usage(format!("{s:?}: not a release (redis-7.0, valkey-8.0.1, …)")))?;
    let family = match name.to_ascii_lowercase().as_str() {
        "redis" => Family::Redis,
        "valkey" => Family::Valkey,
        _ => {
            return Err(usage(format!(
                "{s:?}: not a release (redis-7.0, valkey-8.0.1, …)"
            )))
        }
    };
    let version = parse_version(v);
    if version.0 == 0 {
        return Err(usage(format!(
            "{s:?}: not a release (redis-7.0, valkey-8.0.1, …)"
        )));
    }
    Ok((family, version))
}

/// `HELLO`'s server name and version (Redis 6.0+, Valkey), for servers whose `INFO server` is
/// stripped or refused.
fn hello(con: &mut Connection) -> Option<(Family, (u32, u32, u32))> {
    let v = cmd("HELLO").arg(2).query::<Value>(con).ok()?;
    let pairs: Vec<(String, String)> = match v {
        Value::Array(items) => items
            .chunks(2)
            .filter_map(|kv| {
                let k = as_bytes(kv.first()?)?;
                let v = as_bytes(kv.get(1)?)?;
                Some((
                    String::from_utf8_lossy(k).into_owned(),
                    String::from_utf8_lossy(v).into_owned(),
                ))
            })
            .collect(),
        Value::Map(kv) => kv
            .iter()
            .filter_map(|(k, v)| {
                Some((
                    String::from_utf8_lossy(as_bytes(k)?).into_owned(),
                    String::from_utf8_lossy(as_bytes(v)?).into_owned(),
                ))
            })
            .collect(),
        _ => return None,
    };
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let version = parse_version(get("version")?);
    let family = match get("server") {
        Some("valkey") => Family::Valkey,
        _ => Family::Redis,
    };
    (version.0 > 0).then_some((family, version))
}

/// What a server is. Each source of the answer is optional, as on managed services: `INFO
/// server`, else `HELLO`, else `assumed` (`--source-version`/`--target-version`); cluster mode
/// from `INFO cluster`, else `CLUSTER INFO`; the module from `COMMAND INFO`. What could not be
/// asked is said in `notes`.
pub fn server_info(
    con: &mut Connection,
    who: &str,
    assumed: Option<(Family, (u32, u32, u32))>,
) -> Result<ServerInfo> {
    let mut notes = Vec::new();
    let info = cmd("INFO")
        .arg("server")
        .query::<Value>(con)
        .ok()
        .and_then(|v| as_bytes(&v).map(|b| String::from_utf8_lossy(b).into_owned()))
        .unwrap_or_default();
    let from_info = match info_field(&info, "valkey_version") {
        Some(v) => Some((Family::Valkey, parse_version(v))),
        None => info_field(&info, "redis_version").map(|v| (Family::Redis, parse_version(v))),
    };
    let (family, version) = match (from_info, assumed) {
        (_, Some(a)) => a,
        (Some(i), None) => i,
        (None, None) => match hello(con) {
            Some(h) => {
                notes.push(format!(
                    "{who} does not answer INFO server: its version is HELLO's"
                ));
                h
            }
            None => {
                return Err(usage(format!(
                    "{who} says neither in INFO server nor in HELLO what it is: name its release with --source-version / --target-version (e.g. redis-7.0, valkey-8.0)"
                )))
            }
        },
    };
    let cluster = match cmd("INFO").arg("cluster").query::<Value>(con) {
        Ok(v) if as_bytes(&v).is_some_and(|b| !b.is_empty()) => {
            String::from_utf8_lossy(as_bytes(&v).unwrap_or_default()).contains("cluster_enabled:1")
        }
        _ => matches!(
            cmd("CLUSTER").arg("INFO").query::<Value>(con),
            Ok(Value::BulkString(_))
        ),
    };
    let module = match cmd("COMMAND")
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
        max_bulk: None,
        notes,
    })
}

/// A cluster master with slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Master {
    pub id: String,
    pub host: String,
    pub port: u16,
    /// The lowest slot it serves: a name for it that a failover keeps.
    pub first_slot: u16,
}

/// The masters with slots of a cluster (in slot order) and the ids of all its nodes (sorted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masters {
    pub masters: Vec<Master>,
    pub all_ids: Vec<String>,
}

/// Masters of a cluster, from `CLUSTER NODES`. A master flagged `fail` or `fail?` serves slots
/// nobody can read now: that stops the run (its keys would be missed without a word).
pub fn cluster_masters(con: &mut Connection, who: &str, default_host: &str) -> Result<Masters> {
    let nodes = query(con, who, cmd("CLUSTER").arg("NODES"))?;
    let text = String::from_utf8_lossy(as_bytes(&nodes).unwrap_or_default()).into_owned();
    parse_cluster_nodes(&text, default_host).map_err(|e| fatal(format!("{who}: {e}")))
}

fn parse_cluster_nodes(text: &str, default_host: &str) -> std::result::Result<Masters, String> {
    let mut masters = Vec::new();
    let mut all_ids = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 8 {
            continue;
        }
        all_ids.push(parts[0].to_string());
        let flags = parts[2];
        if !flags.split(',').any(|f| f == "master") {
            continue;
        }
        // Slots: "0-5460", "7", and "[slot->-id]" / "[slot-<-id]" for slots on the move.
        let first_slot = parts[8..]
            .iter()
            .filter(|s| !s.starts_with('['))
            .filter_map(|s| s.split('-').next()?.parse::<u16>().ok())
            .min();
        let Some(first_slot) = first_slot else {
            continue; // a master without slots holds no keys
        };
        let addr = parts[1].split('@').next().unwrap_or("");
        if flags.split(',').any(|f| f == "fail" || f == "fail?") {
            return Err(format!(
                "the master {} ({addr}, slots from {first_slot}) is flagged {flags}: its keys cannot be read; wait for a failover (or fix the node) and run again",
                parts[0]
            ));
        }
        let (host, port) = addr
            .rsplit_once(':')
            .ok_or_else(|| format!("CLUSTER NODES: an address {addr:?}"))?;
        let host = if host.is_empty() { default_host } else { host };
        let port = port
            .parse()
            .map_err(|_| format!("CLUSTER NODES: an address {addr:?}"))?;
        masters.push(Master {
            id: parts[0].to_string(),
            host: host.to_string(),
            port,
            first_slot,
        });
    }
    masters.sort_by_key(|m| m.first_slot);
    all_ids.sort();
    if masters.is_empty() {
        return Err("CLUSTER NODES lists no master with slots".into());
    }
    Ok(Masters { masters, all_ids })
}

pub fn endpoint_host(e: &Endpoint) -> String {
    e.host()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: &str = "\
07c3 127.0.0.1:30004@31004 slave e7d1 0 1426238317239 4 connected
67ed 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922
292f 127.0.0.1:30003@31003 master - 0 1426238318243 3 connected 10923-16383 [10924->-e7d1]
e7d1 :30001@31001 myself,master - 0 0 1 connected 0-5460
";

    #[test]
    fn slot_ranges_name_each_master_and_fill_in_an_unnamed_host() {
        let node = |h: &str, p: i64| {
            Value::Array(vec![
                Value::BulkString(h.into()),
                Value::Int(p),
                Value::BulkString(b"id".to_vec()),
            ])
        };
        let reply = Value::Array(vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(5460),
                node("10.0.0.1", 7000),
            ]),
            Value::Array(vec![Value::Int(5461), Value::Int(16383), node("?", 7001)]),
            Value::Array(vec![Value::Int(1)]),
        ]);
        assert_eq!(
            slot_ranges(&reply, "db.example"),
            vec![
                SlotRange {
                    first: 0,
                    last: 5460,
                    host: "10.0.0.1".into(),
                    port: 7000
                },
                SlotRange {
                    first: 5461,
                    last: 16383,
                    host: "db.example".into(),
                    port: 7001
                },
            ]
        );
        assert_eq!(slot_ranges(&Value::Nil, "x"), vec![]);
    }

    #[test]
    fn keyspace_lists_databases_ascending_with_their_key_counts() {
        let text = "# Keyspace\r\ndb10:keys=3,expires=0,avg_ttl=0\r\ndb0:keys=1200,expires=5,avg_ttl=9\r\n";
        assert_eq!(keyspace(text), vec![(0, 1200), (10, 3)]);
        assert_eq!(keyspace("# Keyspace\r\n"), vec![]);
    }

    #[test]
    fn masters_in_slot_order_named_by_their_first_slot() {
        let m = parse_cluster_nodes(NODES, "10.0.0.9").unwrap();
        let firsts: Vec<(u16, &str, u16)> = m
            .masters
            .iter()
            .map(|m| (m.first_slot, m.host.as_str(), m.port))
            .collect();
        assert_eq!(
            firsts,
            [
                (0, "10.0.0.9", 30001),
                (5461, "127.0.0.1", 30002),
                (10923, "127.0.0.1", 30003)
            ]
        );
        assert_eq!(m.all_ids, ["07c3", "292f", "67ed", "e7d1"]);
    }

    #[test]
    fn a_failed_master_stops_the_run_instead_of_being_skipped() {
        for flag in ["master,fail", "master,fail?"] {
            let text = NODES.replace(
                "67ed 127.0.0.1:30002@31002 master",
                &format!("67ed 127.0.0.1:30002@31002 {flag}"),
            );
            let e = parse_cluster_nodes(&text, "h").unwrap_err();
            assert!(e.contains("67ed") && e.contains("slots from 5461"), "{e}");
        }
    }
}
