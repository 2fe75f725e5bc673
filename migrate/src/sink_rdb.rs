//! The file sink: an RDB file for a target release (`--target-version redis-7.0`, or
//! `--target-rdb 10`), that the release loads at boot without the module.
//!
//! Each key gets exactly what a server of that release without the module would be sent
//! (`plan::prepare`: the payload as it is where the release reads it, else the core's
//! re-encoding, with the same field-TTL policy and the same refusals), and goes into the file
//! through the core's [`RdbWriter`]. Keys already expired are left out. The file is streamed
//! (the writer stages 64 KiB, the output buffer is 1 MiB) to `PATH.tmp`, synced and renamed to
//! `PATH` only once complete; `-` streams to standard output.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Stdout, Write};
use std::path::{Path, PathBuf};

use restore_core::decode;
use restore_core::rdb::RDB_OPCODE_KEY_META;
use restore_core::rdb_writer::{HeaderInfo, KeyAttrs, RdbWriter};
use restore_core::release::{self, Engine, Family as PayloadFamily, Feature, Release};

use std::time::Duration;

use crate::checkpoint::SourceId;
use crate::cli::{End, FieldTtlPolicy, MigrateArgs};
use crate::conn::{self, Endpoint, Family, ServerInfo};
use crate::error::{fatal, usage, Result};
use crate::plan::{self, Prepared};
use crate::pos::Pos;
use crate::sink::{Outcome, Sink};
use crate::source::{now_ms, Batch, Lru, Rec, Source};

/// The release lines a file can be written for: those whose RDB format is known record by
/// record (Redis 5.0-8.4: RDB 9-12; Valkey 7.2-9.1: RDB 11 and 80).
fn writable(r: &Release) -> bool {
    match r.server {
        Engine::Redis => (0x050000..=0x080400).contains(&r.version),
        Engine::Valkey => (0x070200..=0x090100).contains(&r.version),
    }
}

fn release_name(r: &Release) -> String {
    let engine = match r.server {
        Engine::Redis => "redis",
        Engine::Valkey => "valkey",
    };
    format!("{engine}-{}.{}", r.version >> 16, (r.version >> 8) & 0xff)
}

/// Every name `--target-version` takes.
pub fn release_names() -> Vec<String> {
    release::RELEASES
        .iter()
        .filter(|r| writable(r))
        .map(release_name)
        .collect()
}

/// The release a file is written for, from `--target-version` or `--target-rdb`.
pub fn release_for(a: &MigrateArgs) -> Result<&'static Release> {
    let names = || release_names().join(", ");
    match (&a.target_version, a.target_rdb) {
        (Some(_), Some(_)) => Err(usage(
            "--target-version and --target-rdb both name the file's format: give one",
        )),
        (None, None) => Err(usage(format!(
            "TARGET {:?} is a file: say which release will load it with --target-version ({}) or --target-rdb N",
            a.target,
            names()
        ))),
        (Some(name), None) => {
            // The same names as --source-version (a patch release names its line).
            let (family, (major, minor, patch)) = conn::parse_release(name)?;
            let engine = match family {
                Family::Redis => Engine::Redis,
                Family::Valkey => Engine::Valkey,
            };
            release::release(engine, major << 16 | minor << 8 | patch.min(255))
                .filter(|r| writable(r))
                .ok_or_else(|| {
                    usage(format!(
                        "--target-version {name}: not a release an RDB file can be written for ({})",
                        names()
                    ))
                })
        }
        (None, Some(v)) => {
            // RDB 11 is written by Redis 7.2 and Valkey 7.2-8.1 alike (both load either).
            let engine = if v >= release::FIRST_VALKEY_RDB_VERSION {
                Engine::Valkey
            } else {
                Engine::Redis
            };
            let r = release::line_writing(engine, v);
            if r.rdb_version == v && writable(r) {
                Ok(r)
            } else {
                Err(usage(format!(
                    "--target-rdb {v}: not an RDB version a file can be written for (9, 10, 11, 12, 80)"
                )))
            }
        }
    }
}

/// What a server of `r` is, as far as what it can hold goes (no module: the server loads the
/// file itself).
pub fn server_info_of(r: &Release) -> ServerInfo {
    let (family, name) = match r.server {
        Engine::Redis => (Family::Redis, "redis"),
        Engine::Valkey => (Family::Valkey, "valkey"),
    };
    let version = (r.version >> 16, (r.version >> 8) & 0xff, 0);
    ServerInfo {
        family,
        version,
        label: format!(
            "{name} {}.{} (an RDB {} file)",
            version.0, version.1, r.rdb_version
        ),
        rdb_version: r.rdb_version,
        cluster: false,
        module: false,
        field_ttls: r.has(Feature::HashFieldTtls),
        pexpiretime: version >= (7, 0, 0),
        max_bulk: None,
        notes: Vec::new(),
    }
}

/// Standard output or the temporary file.
enum Out {
    File(File),
    Stdout(Stdout),
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Out::File(f) => f.write(buf),
            Out::Stdout(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Out::File(f) => f.flush(),
            Out::Stdout(s) => s.flush(),
        }
    }
}

pub struct RdbSink {
    /// `None`: standard output.
    path: Option<PathBuf>,
    tmp: Option<PathBuf>,
    writer: Option<RdbWriter<BufWriter<Out>>>,
    info: ServerInfo,
    release: &'static Release,
    persist: bool,
    no_lru: bool,
    target_db: Option<u32>,
    db: Option<u32>,
    /// The source's counts for the next database, for its RESIZEDB.
    size_hint: Option<(u32, (u64, u64))>,
    expired: u64,
}

impl RdbSink {
    /// Starts the file (its header is written at once: a path that cannot be written fails
    /// before the source is read).
    pub fn create(a: &MigrateArgs) -> Result<RdbSink> {
        let release = release_for(a)?;
        for (set, flag, why) in [
            (
                a.resume.is_some(),
                "--resume",
                "a file is written whole, in one run",
            ),
            (
                a.limit.is_some(),
                "--limit",
                "a file is written whole, in one run",
            ),
            (
                a.verify,
                "--verify",
                "load the file on a server, then run `restore-migrate verify SOURCE redis://...`",
            ),
        ] {
            if set {
                return Err(usage(format!(
                    "{flag} does not apply to a file target: {why}"
                )));
            }
        }
        let (path, tmp, out) = if a.target == "-" {
            (None, None, Out::Stdout(std::io::stdout()))
        } else {
            let path = PathBuf::from(&a.target);
            let mut tmp = path.clone().into_os_string();
            tmp.push(".tmp");
            let tmp = PathBuf::from(tmp);
            let file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)
                .map_err(|e| fatal(format!("{}: {e}", tmp.display())))?;
            (Some(path), Some(tmp), Out::File(file))
        };
        let header = HeaderInfo {
            ctime: now_ms() / 1000,
            used_mem: 0,
        };
        let writer = RdbWriter::new(BufWriter::with_capacity(1 << 20, out), release, header)
            .map_err(|e| fatal(format!("{}: {e}", a.target)))?;
        Ok(RdbSink {
            path,
            tmp,
            writer: Some(writer),
            info: server_info_of(release),
            release,
            persist: a.field_ttl_policy == FieldTtlPolicy::Persist,
            no_lru: a.no_lru,
            target_db: a.target_db,
            db: None,
            size_hint: None,
            expired: 0,
        })
    }

    pub fn describe(&self) -> String {
        let to = match &self.path {
            Some(p) => p.display().to_string(),
            None => "standard output".into(),
        };
        format!(
            "{to} (an RDB {} file for {}, {})",
            self.release.rdb_version,
            release_name(self.release),
            if self.release.server == Engine::Valkey && self.release.rdb_version >= 80 {
                "VALKEY magic"
            } else {
                "REDIS magic"
            }
        )
    }

    fn io_error(&self, e: impl std::fmt::Display) -> crate::error::Fatal {
        let at = match &self.tmp {
            Some(t) => t.display().to_string(),
            None => "standard output".into(),
        };
        fatal(format!("writing {at}: {e}"))
    }

    fn writer(&mut self) -> Result<&mut RdbWriter<BufWriter<Out>>> {
        self.writer
            .as_mut()
            .ok_or_else(|| fatal("the RDB file is already complete"))
    }
}

/// Where the type byte is in an object (after a Redis 8.6+ key-metadata block).
fn type_offset(payload: &[u8]) -> std::result::Result<usize, String> {
    let env = decode::split_envelope(payload).map_err(|e| format!("bad payload: {e}"))?;
    if env.object.first() == Some(&RDB_OPCODE_KEY_META)
        && PayloadFamily::of(env.rdb_version) == PayloadFamily::Redis
    {
        let d = decode::decode(payload).map_err(|e| format!("bad payload: {e}"))?;
        return Ok(d.type_offset);
    }
    Ok(0)
}

impl Sink for RdbSink {
    fn name(&self) -> String {
        self.describe()
    }

    fn is_cluster(&self) -> bool {
        false
    }

    fn load_function(&mut self, code: &[u8]) -> std::result::Result<(), String> {
        let w = self.writer().map_err(|e| e.to_string())?;
        w.function(code).map_err(|e| e.to_string())
    }

    fn size_hint(&mut self, db: u32, sizes: (u64, u64)) {
        self.size_hint = Some((self.target_db.unwrap_or(db), sizes));
    }

    fn write(&mut self, db: u32, recs: &[Rec], _maybe_written: bool) -> Result<Vec<Outcome>> {
        if recs.is_empty() {
            return Ok(Vec::new()); // no SELECTDB for a batch of function libraries alone
        }
        let db = self.target_db.unwrap_or(db);
        if self.db != Some(db) {
            // The source's counts for this database, when they came with it (RESIZEDB).
            let sizes = match self.size_hint.take() {
                Some((d, sizes)) if d == db => Some(sizes),
                _ => None,
            };
            let r = self.writer()?.select_db(u64::from(db), sizes);
            r.map_err(|e| self.io_error(e))?;
            self.db = Some(db);
        }
        let now = now_ms();
        let mut outcomes = Vec::with_capacity(recs.len());
        for rec in recs {
            if rec.expire_ms.is_some_and(|t| t <= now) {
                self.expired += 1;
                outcomes.push(Outcome::Skipped);
                continue;
            }
            let payload = match plan::prepare(rec, &self.info, false, self.persist) {
                Prepared::Send(p, _) => p,
                Prepared::Expired => {
                    self.expired += 1;
                    outcomes.push(Outcome::Skipped);
                    continue;
                }
                Prepared::Refuse(why) => {
                    outcomes.push(Outcome::Failed(why));
                    continue;
                }
            };
            let at = match type_offset(&payload) {
                Ok(at) => at,
                Err(why) => {
                    outcomes.push(Outcome::Failed(why));
                    continue;
                }
            };
            let (idle_seconds, freq) = match rec.lru.filter(|_| !self.no_lru) {
                Some(Lru::Idle(s)) => (Some(s), None),
                Some(Lru::Freq(f)) => (None, Some(f)),
                None => (None, None),
            };
            let attrs = KeyAttrs {
                expire_ms: rec.expire_ms,
                idle_seconds,
                freq,
            };
            let object = &payload[..payload.len().saturating_sub(10)];
            let r = self.writer()?.key_object(&rec.key, &attrs, object, at);
            r.map_err(|e| self.io_error(e))?;
            outcomes.push(Outcome::Copied);
        }
        Ok(outcomes)
    }

    /// `EOF` and the checksum, then (a path) fsync, rename over `PATH`, and sync the directory.
    fn finish(&mut self) -> Result<()> {
        let Some(w) = self.writer.take() else {
            return Ok(());
        };
        let out = w.finish().map_err(|e| self.io_error(e))?;
        let out = out.into_inner().map_err(|e| self.io_error(e.error()))?;
        if let (Out::File(f), Some(tmp), Some(path)) = (out, &self.tmp, &self.path) {
            f.sync_all().map_err(|e| self.io_error(e))?;
            drop(f);
            std::fs::rename(tmp, path).map_err(|e| {
                fatal(format!(
                    "renaming {} to {}: {e}",
                    tmp.display(),
                    path.display()
                ))
            })?;
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            if let Ok(d) = File::open(dir.unwrap_or(Path::new("."))) {
                let _ = d.sync_all();
            }
            self.tmp = None;
        }
        if self.expired > 0 {
            eprintln!(
                "restore-migrate: {} keys already expired were left out of the file",
                self.expired
            );
        }
        Ok(())
    }
}

/// A live source's function libraries (`FUNCTION LIST WITHCODE`; none before 7.0), which a
/// file holds as the server's own `SAVE` would. Read once, from the node named (a cluster's
/// masters hold the same libraries). Server targets do not take them from a live source.
pub fn live_functions(a: &MigrateArgs) -> Result<Vec<Vec<u8>>> {
    let ep = Endpoint::parse(&a.source, &a.end_opts(End::Source)?)?;
    let mut con = ep.connect(Duration::from_secs(a.timeout))?;
    let who = format!("source {}", ep.display);
    let assumed = match &a.source_version {
        Some(v) => Some(conn::parse_release(v)?),
        None => None,
    };
    let info = conn::server_info(&mut con, &who, assumed)?;
    if info.version < (7, 0, 0) {
        return Ok(Vec::new());
    }
    let reply = conn::query(
        &mut con,
        &who,
        conn::cmd("FUNCTION").arg("LIST").arg("WITHCODE"),
    )?;
    let mut codes = Vec::new();
    library_codes(&reply, &mut codes);
    Ok(codes)
}

/// Every `library_code` value of a `FUNCTION LIST WITHCODE` reply (RESP2 flat arrays or RESP3
/// maps).
fn library_codes(v: &redis::Value, out: &mut Vec<Vec<u8>>) {
    use redis::Value;
    let is_name = |v: &Value| match v {
        Value::BulkString(b) => b == b"library_code",
        Value::SimpleString(s) => s == "library_code",
        _ => false,
    };
    match v {
        Value::Array(items) => {
            for pair in items.windows(2) {
                if let (true, Value::BulkString(code)) = (is_name(&pair[0]), &pair[1]) {
                    out.push(code.clone());
                }
            }
            items.iter().for_each(|i| library_codes(i, out));
        }
        Value::Map(kv) => {
            for (k, v) in kv {
                match (is_name(k), v) {
                    (true, Value::BulkString(code)) => out.push(code.clone()),
                    _ => library_codes(v, out),
                }
            }
        }
        _ => {}
    }
}

/// A source whose first batch also carries `functions` (a live source's libraries, for a file).
pub struct WithFunctions {
    pub inner: Box<dyn Source>,
    pub functions: Vec<Vec<u8>>,
}

impl Source for WithFunctions {
    fn next_batch(&mut self) -> Result<Option<Batch>> {
        let functions = std::mem::take(&mut self.functions);
        match self.inner.next_batch()? {
            Some(mut b) => {
                b.functions.splice(0..0, functions);
                Ok(Some(b))
            }
            // No keys at all: the libraries alone (the position is unused: a file target
            // keeps no checkpoint).
            None if !functions.is_empty() => Ok(Some(Batch {
                db: 0,
                recs: Vec::new(),
                skipped: 0,
                functions,
                pos: Pos::File { offset: 0 },
                source_bytes: 0,
                db_sizes: None,
                expiry_slack_ms: 0,
            })),
            None => Ok(None),
        }
    }
    fn seek(&mut self, pos: &Pos) -> Result<()> {
        self.inner.seek(pos)
    }
    fn identity(&self) -> SourceId {
        self.inner.identity()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn databases(&self) -> Option<Vec<u32>> {
        self.inner.databases()
    }
    fn total(&self) -> Option<(u64, bool)> {
        self.inner.total()
    }
    fn notes(&self) -> Vec<String> {
        self.inner.notes()
    }
}

impl Drop for RdbSink {
    /// A run that stopped leaves no partial file behind (only a complete one is renamed).
    fn drop(&mut self) {
        if let Some(tmp) = &self.tmp {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use restore_core::rdb_writer::target_of;

    #[test]
    fn release_names_cover_redis_5_to_8_4_and_valkey_7_2_to_9_1() {
        let names = release_names();
        for n in [
            "redis-5.0",
            "redis-6.0",
            "redis-6.2",
            "redis-7.0",
            "redis-7.2",
            "redis-7.4",
            "redis-8.0",
            "redis-8.2",
            "redis-8.4",
            "valkey-7.2",
            "valkey-8.0",
            "valkey-8.1",
            "valkey-9.0",
            "valkey-9.1",
        ] {
            assert!(names.iter().any(|x| x == n), "{n} in {names:?}");
        }
        for n in ["redis-4.0", "redis-8.6", "valkey-9.2"] {
            assert!(!names.iter().any(|x| x == n), "{n}");
        }
    }

    #[test]
    fn library_codes_from_resp2_and_resp3_replies() {
        use redis::Value::{Array, BulkString, Map, SimpleString};
        let lib = |name: &str, code: &[u8]| {
            vec![
                BulkString(b"library_name".to_vec()),
                BulkString(name.as_bytes().to_vec()),
                BulkString(b"functions".to_vec()),
                Array(vec![]),
                BulkString(b"library_code".to_vec()),
                BulkString(code.to_vec()),
            ]
        };
        let resp2 = Array(vec![
            Array(lib("a", b"#!lua name=a")),
            Array(lib("b", b"#!lua name=b")),
        ]);
        let mut out = vec![];
        library_codes(&resp2, &mut out);
        assert_eq!(out, [b"#!lua name=a".to_vec(), b"#!lua name=b".to_vec()]);
        let resp3 = Array(vec![Map(vec![
            (
                SimpleString("library_name".into()),
                BulkString(b"c".to_vec()),
            ),
            (
                SimpleString("library_code".into()),
                BulkString(b"#!lua name=c".to_vec()),
            ),
        ])]);
        let mut out = vec![];
        library_codes(&resp3, &mut out);
        assert_eq!(out, [b"#!lua name=c".to_vec()]);
    }

    #[test]
    fn the_release_info_says_what_it_holds() {
        let r = release::release(Engine::Redis, 0x070000).unwrap();
        let i = server_info_of(r);
        assert_eq!((i.rdb_version, i.field_ttls, i.module), (10, false, false));
        assert_eq!(target_of(r), plan::core_target(&i));
        let v = release::release(Engine::Valkey, 0x090100).unwrap();
        assert!(server_info_of(v).field_ttls);
        assert_eq!(target_of(v), plan::core_target(&server_info_of(v)));
    }
}

#[cfg(test)]
mod file_tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use restore_core::encode::{finish_payload, put_string};
    use restore_core::rdb_file::{RdbFile, Record};

    fn args(extra: &[&str]) -> MigrateArgs {
        let argv = ["restore-migrate", "migrate", "src.rdb"]
            .iter()
            .chain(extra);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Migrate(a) | Command::Verify(a) => a,
            Command::Sync(_) => panic!("a migrate command line was parsed as sync"),
        }
    }

    fn string_rec(key: &[u8], value: &[u8], expire_ms: Option<i64>) -> Rec {
        let mut object = vec![0u8];
        put_string(&mut object, value);
        Rec {
            key: key.to_vec(),
            payload: finish_payload(object, 12),
            expire_ms,
            lru: Some(Lru::Idle(7)),
        }
    }

    #[test]
    fn the_release_comes_from_exactly_one_flag() {
        let name = |a: &[&str]| release_for(&args(a)).map(release_name);
        assert_eq!(
            name(&["o.rdb", "--target-version", "redis-7.0"]),
            Ok("redis-7.0".into())
        );
        assert_eq!(
            name(&["o.rdb", "--target-version", "Valkey-9.1"]),
            Ok("valkey-9.1".into())
        );
        assert_eq!(
            name(&["o.rdb", "--target-rdb", "9"]),
            Ok("redis-6.2".into())
        );
        assert_eq!(
            name(&["o.rdb", "--target-rdb", "80"]),
            Ok("valkey-9.1".into())
        );
        assert_eq!(
            name(&["o.rdb", "--target-version", "redis-7.0.15"]),
            Ok("redis-7.0".into())
        );
        for bad in [
            &["o.rdb"][..],
            &[
                "o.rdb",
                "--target-version",
                "redis-7.0",
                "--target-rdb",
                "10",
            ],
            &["o.rdb", "--target-version", "redis-4.0"],
            &["o.rdb", "--target-version", "valkey-9.2"],
            &["o.rdb", "--target-rdb", "13"],
            &["o.rdb", "--target-rdb", "8"],
        ] {
            assert!(
                matches!(release_for(&args(bad)), Err(crate::error::Fatal::Usage(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_complete_file_is_renamed_into_place_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("rdbout-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.rdb");
        let a = args(&[path.to_str().unwrap(), "--target-version", "redis-7.0"]);
        let mut sink = RdbSink::create(&a).unwrap();
        let recs = [
            string_rec(b"k", b"v", Some(4_000_000_000_000)),
            string_rec(b"gone", b"v", Some(1)),
        ];
        let outcomes = sink.write(3, &recs, false).unwrap();
        assert_eq!(outcomes, [Outcome::Copied, Outcome::Skipped]);
        assert!(!path.exists(), "renamed only when complete");
        sink.finish().unwrap();
        assert!(path.exists() && !dir.join("out.rdb.tmp").exists());
        let file = std::fs::read(&path).unwrap();
        assert_eq!(&file[..9], b"REDIS0010");
        let mut r = RdbFile::new(file.as_slice());
        let mut keys = vec![];
        while let Some(rec) = r.next_record().unwrap() {
            if let Record::Key(k) = rec {
                keys.push((k.db, k.key, k.expire_ms, k.idle_seconds));
            }
        }
        assert_eq!(keys, [(3, b"k".to_vec(), Some(4_000_000_000_000), Some(7))]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_run_that_stops_leaves_no_file() {
        let dir = std::env::temp_dir().join(format!("rdbout-stop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.rdb");
        let a = args(&[path.to_str().unwrap(), "--target-version", "valkey-8.0"]);
        let mut sink = RdbSink::create(&a).unwrap();
        sink.write(0, &[string_rec(b"k", b"v", None)], false)
            .unwrap();
        drop(sink);
        assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
