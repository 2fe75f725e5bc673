//! What each command of the source's stream becomes on the target: the one table of it.
//!
//! Every command is sent as it is where the target has it (its command names are learned
//! from the target's `COMMAND`, its options from its release below), rewritten into an exact
//! equivalent where one exists (the longer ones, scripts mostly, are in `equiv.rs`), or
//! refused: the sync stops, naming the command, its key and the stream offset. Nothing is
//! skipped without being counted and named in the summary. `tests/integration/
//! sync_every_write.py` runs every write command of each source line into each older host
//! (test_client_sync.sh).
//!
//! Rewrites rest on one fact: a master propagates a conditional write only when it took
//! effect, and the target holds what the source held; so a condition that held there holds
//! on the target, and dropping it (EXPIRE's NX/XX/GT/LT, HSETEX's FNX/FXX) changes nothing.

use std::borrow::Cow;
use std::collections::HashSet;

use super::argv::{int, is, name, Action, Control};
use super::equiv;
use crate::conn::{Family, ServerInfo};
use crate::plan::{self, Prepared, Via};
use crate::report::show_key;
use crate::source::Rec;
use crate::target::key_slot;

/// What the target is, for the table.
#[derive(Debug, Clone)]
pub struct Caps {
    /// Lower-case command names (`COMMAND`'s answer).
    pub commands: HashSet<Vec<u8>>,
    pub family: Family,
    pub version: (u32, u32, u32),
    /// Hash field TTLs (Redis 7.4+, Valkey 9+).
    pub field_ttls: bool,
    /// `--field-ttl-policy persist`: fields are written without their TTLs where the target
    /// has none.
    pub persist: bool,
    /// `--target-db`: every database is written into one, so commands that name another
    /// database (MOVE, SWAPDB, COPY … DB) cannot keep their meaning.
    pub one_db: bool,
    /// A cluster target: one database, so a source database other than 0 is refused unless
    /// `merge_dbs` (`--merge-dbs`) lets every database land in it.
    pub cluster: bool,
    pub merge_dbs: bool,
    /// The target as `migrate` sees it, for the payloads of `RESTORE` in the stream: what its
    /// RESTORE reads, and whether `RESTORE.ASKING` is there (and not `--no-module`).
    pub server: ServerInfo,
    pub use_module: bool,
}

/// The release that brought something, per family (`None`: that family has none yet).
#[derive(Debug, Clone, Copy)]
struct Since {
    redis: (u32, u32, u32),
    valkey: Option<(u32, u32, u32)>,
}

/// Brought by Redis at `v`; Valkey forked from 7.2 and has everything up to it.
const fn redis(v: (u32, u32, u32)) -> Since {
    Since {
        redis: v,
        valkey: if v.0 < 7 || (v.0 == 7 && v.1 <= 2) {
            Some((7, 2, 0))
        } else {
            None
        },
    }
}

const R62: Since = redis((6, 2, 0));
const R70: Since = redis((7, 0, 0));
const R82: Since = redis((8, 2, 0));

impl Caps {
    fn has(&self, s: Since) -> bool {
        match self.family {
            Family::Redis => self.version >= s.redis,
            Family::Valkey => s.valkey.is_some_and(|v| self.version >= v),
        }
    }

    fn has_command(&self, name: &[u8]) -> bool {
        self.commands.contains(name)
    }
}

/// How one command is taken.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Select,
    Multi,
    Exec,
    Consumed,
    Replconf,
    /// `SET`: `PXAT`/`EXAT` (6.2) become `PX`; `GET` (6.2, a reply only) is dropped;
    /// `IFEQ` (Valkey 8.1) is dropped where the target lacks it (it held on the source).
    Set,
    /// `EXPIRE` and kin: `NX`/`XX`/`GT`/`LT` (7.0) dropped (they held on the source).
    Expire,
    /// `HSETEX` (8.0): `HSET` of its fields under `persist` on a target without field TTLs;
    /// `HSET` and the fields' expiry on one with field TTLs but not the command (7.4).
    Hsetex,
    /// `HGETEX` (8.0): its expiry on the fields where the target lacks it (7.4), else as
    /// `FieldTtl`.
    Hgetex,
    /// `HEXPIRE` and kin: nothing under `persist` on a target without field TTLs.
    FieldTtl,
    /// `HPERSIST`: nothing to do on a target without field TTLs.
    FieldPersist,
    /// `LPOP`/`RPOP key count` (6.2): `count` single pops.
    PopCount,
    /// Options the target must have, from argument `from` on: `(option, arguments it takes,
    /// since)`; `strip` drops them on an older target (the metadata it keeps has no place
    /// there), else they are refused.
    Options {
        from: usize,
        opts: &'static [(&'static str, usize, Since)],
        strip: bool,
        /// The options end at the first number (`ZADD`'s first score): what follows is data.
        until_number: bool,
        /// Only for this subcommand (argument 1); other subcommands are sent as they are.
        sub: Option<&'static str>,
    },
    /// `XADD`: its options (before the ID) made the target's: `NOMKSTREAM` (6.2) dropped (the
    /// stream was there), `MINID` (6.2) done by a script, `KEEPREF` (8.2) dropped (what older
    /// releases do); `DELREF`/`ACKED` refused.
    Xadd,
    /// `XTRIM`: as `XADD`'s trimming options.
    Xtrim,
    /// `XGROUP`: `CREATECONSUMER` (6.2) as an `XREADGROUP` of the new consumer's own (empty)
    /// history; `ENTRIESREAD` (7.0) dropped (older streams keep no such count).
    Xgroup,
    /// `ZADD … GT|LT` (6.2): see [`equiv::zadd_cond`].
    Zadd,
    /// `BITOP DIFF|DIFF1|ANDOR|ONE` (8.2): refused where the target lacks them.
    Bitop,
    /// `MSETEX` (Valkey 9.1): one `SET` per key where the target lacks it, each then taken as
    /// a `SET` of the stream.
    Msetex,
    /// `FUNCTION RESTORE payload`: the payload re-footed where the target's RESTORE would
    /// refuse its version (the libraries in it are the same records in every release).
    Function,
    /// A command the target may lack: sent as it is where the target has it, else what the
    /// function makes of it (`equiv.rs`).
    Instead(fn(Vec<Vec<u8>>) -> Action),
    /// `RESTORE` / `RESTORE-ASKING` (a `MIGRATE` into the source, or `restore-migrate`
    /// itself): the payload goes as `migrate` sends one (`plan::prepare`): as it is where the
    /// target reads it, to `RESTORE.ASKING` where the module is, else re-encoded.
    Restore,
}

/// `RESTORE key ttl payload [options]` as the target takes it (see [`Rule::Restore`]).
fn restore(mut argv: Vec<Vec<u8>>, caps: &Caps) -> Action {
    if argv.len() < 4 {
        // The source ran it, so this does not happen; the target's reply would say why.
        return Action::Send(vec![argv]);
    }
    let rec = Rec {
        key: std::mem::take(&mut argv[1]),
        payload: std::mem::take(&mut argv[3]),
        expire_ms: None,
        lru: None,
    };
    // What prepare says, owned, so that the record can be taken apart after it.
    let outcome = match plan::prepare(&rec, &caps.server, caps.use_module, caps.persist) {
        Prepared::Send(Cow::Borrowed(_), via) => Ok((None, via)),
        Prepared::Send(Cow::Owned(p), via) => Ok((Some(p), via)),
        Prepared::Expired => Err(None),
        Prepared::Refuse(why) => Err(Some(why)),
    };
    let (replacement, via) = match outcome {
        Ok(o) => o,
        Err(Some(why)) => return Action::Refuse(why),
        // Every field of a hash with field TTLs has expired: RESTORE creates nothing, and
        // with REPLACE it removes what was there.
        Err(None) if argv[4..].iter().any(|a| is(a, "REPLACE")) => {
            return Action::Send(vec![vec![b"DEL".to_vec(), rec.key]])
        }
        Err(None) => return Action::Dropped("RESTORE of a hash whose fields have all expired"),
    };
    argv[1] = rec.key;
    argv[3] = replacement.unwrap_or(rec.payload);
    match via {
        // RESTORE-ASKING keeps its name where the target reads the payload: its cluster
        // semantics (an importing slot) are the source's.
        Via::Native => {}
        Via::Module => argv[0] = b"RESTORE.ASKING".to_vec(),
    }
    Action::Send(vec![argv])
}

/// The table: commands that need more than "sent where the target has it".
const TABLE: &[(&str, Rule)] = &[
    ("select", Rule::Select),
    ("multi", Rule::Multi),
    ("exec", Rule::Exec),
    ("ping", Rule::Consumed),
    ("replconf", Rule::Replconf),
    ("set", Rule::Set),
    ("expire", Rule::Expire),
    ("pexpire", Rule::Expire),
    ("expireat", Rule::Expire),
    ("pexpireat", Rule::Expire),
    ("hsetex", Rule::Hsetex),
    ("hexpire", Rule::FieldTtl),
    ("hpexpire", Rule::FieldTtl),
    ("hexpireat", Rule::FieldTtl),
    ("hpexpireat", Rule::FieldTtl),
    ("hgetex", Rule::Hgetex),
    ("hpersist", Rule::FieldPersist),
    ("lpop", Rule::PopCount),
    ("rpop", Rule::PopCount),
    ("xadd", Rule::Xadd),
    ("xtrim", Rule::Xtrim),
    ("xgroup", Rule::Xgroup),
    ("zadd", Rule::Zadd),
    ("bitop", Rule::Bitop),
    ("msetex", Rule::Msetex),
    ("function", Rule::Function),
    ("lmove", Rule::Instead(equiv::lmove)),
    ("zdiffstore", Rule::Instead(equiv::zdiffstore)),
    ("zrangestore", Rule::Instead(equiv::zrangestore)),
    ("geosearchstore", Rule::Instead(equiv::geosearchstore)),
    ("copy", Rule::Instead(equiv::copy)),
    ("hgetdel", Rule::Instead(equiv::hgetdel)),
    ("delifeq", Rule::Instead(equiv::delifeq)),
    ("spublish", Rule::Instead(equiv::spublish)),
    ("xdelex", Rule::Instead(equiv::xdelex)),
    ("xackdel", Rule::Instead(equiv::xackdel)),
    ("restore", Rule::Restore),
    ("restore-asking", Rule::Restore),
    // FLUSHALL/FLUSHDB/SCRIPT FLUSH SYNC (6.2): flushing at once is what they did before.
    (
        "flushall",
        Rule::Options {
            from: 1,
            opts: &[("SYNC", 0, R62)],
            strip: true,
            until_number: false,
            sub: None,
        },
    ),
    (
        "flushdb",
        Rule::Options {
            from: 1,
            opts: &[("SYNC", 0, R62)],
            strip: true,
            until_number: false,
            sub: None,
        },
    ),
    (
        "script",
        Rule::Options {
            from: 2,
            opts: &[("SYNC", 0, R62), ("ASYNC", 0, R62)],
            strip: true,
            until_number: false,
            sub: Some("FLUSH"),
        },
    ),
    (
        "xsetid",
        Rule::Options {
            from: 3,
            opts: &[("ENTRIESADDED", 1, R70), ("MAXDELETEDID", 1, R70)],
            strip: true,
            until_number: false,
            sub: None,
        },
    ),
];

fn lower(b: &[u8]) -> Vec<u8> {
    b.to_ascii_lowercase()
}

/// What `argv` becomes on a target with `caps`, at `now_ms` (for relative expiries).
pub fn translate(argv: Vec<Vec<u8>>, caps: &Caps, now_ms: i64) -> Action {
    let cmd = lower(&argv[0]);
    let rule = TABLE
        .iter()
        .find(|(n, _)| n.as_bytes() == cmd.as_slice())
        .map(|(_, r)| *r);
    let missing = |caps: &Caps| {
        Action::Refuse(format!(
            "the target has no {} command ({:?} {}.{}.{})",
            name(&argv),
            caps.family,
            caps.version.0,
            caps.version.1,
            caps.version.2
        ))
    };
    if (caps.one_db || caps.cluster) && moves_between_dbs(&cmd, &argv) {
        return Action::Refuse(format!(
            "{} names another database, and {}",
            name(&argv),
            if caps.cluster {
                "a cluster target has database 0 only"
            } else {
                "--target-db writes every database into one"
            }
        ));
    }
    match rule {
        Some(Rule::Select) => match int(argv.get(1)).and_then(|d| u32::try_from(d).ok()) {
            Some(db) if db != 0 && caps.cluster && !caps.merge_dbs => {
                Action::Refuse(format!(
                    "the source writes database {db} and a cluster target has only database 0: keys of the same name would overwrite each other; pass --merge-dbs to merge them anyway"
                ))
            }
            Some(db) => Action::Control(Control::Select(db)),
            None => Action::Refuse("a SELECT without a database number".into()),
        },
        Some(Rule::Multi) => Action::Control(Control::Multi),
        Some(Rule::Exec) => Action::Control(Control::Exec),
        Some(Rule::Consumed) => Action::Control(Control::Nothing),
        Some(Rule::Replconf) => {
            if argv.get(1).is_some_and(|a| is(a, "GETACK")) {
                Action::Control(Control::GetAck)
            } else {
                Action::Control(Control::Nothing)
            }
        }
        Some(Rule::Instead(f)) if !caps.has_command(&cmd) => f(argv),
        Some(Rule::Msetex) if !caps.has_command(&cmd) => match equiv::msetex(argv) {
            Ok(sets) => {
                let mut out = Vec::new();
                for argv in sets {
                    match set(argv, caps, now_ms) {
                        Action::Send(cmds) => out.extend(cmds),
                        other => return other,
                    }
                }
                Action::Send(out)
            }
            Err(refused) => refused,
        },
        Some(Rule::Restore) => restore(argv, caps),
        // Field TTLs without the 8.0 commands (Redis 7.4): its own field-TTL commands.
        Some(Rule::Hsetex) if caps.field_ttls && !caps.has_command(&cmd) => equiv::hsetex(argv),
        Some(Rule::Hgetex) if caps.field_ttls && !caps.has_command(&cmd) => equiv::hgetex(argv),
        _ if !caps.has_command(&cmd) && !field_ttl_fallback(rule, caps) => missing(caps),
        None => Action::Send(vec![argv]),
        Some(Rule::Set) => set(argv, caps, now_ms),
        Some(Rule::Expire) => {
            if caps.has(R70) {
                return Action::Send(vec![argv]);
            }
            let mut out = argv;
            out.truncate(3);
            Action::Send(vec![out])
        }
        Some(Rule::Hsetex) => hsetex(argv, caps),
        Some(Rule::Hgetex) => field_ttl_rule(argv, caps),
        Some(Rule::FieldTtl) => field_ttl_rule(argv, caps),
        Some(Rule::FieldPersist) => {
            if caps.field_ttls {
                Action::Send(vec![argv])
            } else {
                Action::Dropped("HPERSIST on a target without field TTLs (nothing to do)")
            }
        }
        Some(Rule::PopCount) => {
            if argv.len() < 3 || caps.has(R62) {
                return Action::Send(vec![argv]);
            }
            match int(argv.get(2)) {
                Some(n) if (0..=1_000_000).contains(&n) => {
                    Action::Send((0..n).map(|_| argv[..2].to_vec()).collect())
                }
                _ => Action::Refuse("a pop count out of range".into()),
            }
        }
        Some(Rule::Options {
            from,
            opts,
            strip,
            until_number,
            sub,
        }) => {
            if sub.is_some_and(|s| !argv.get(1).is_some_and(|a| is(a, s))) {
                return Action::Send(vec![argv]);
            }
            options(argv, caps, from, opts, strip, until_number)
        }
        Some(Rule::Xadd) => xadd(argv, caps),
        Some(Rule::Xtrim) => xtrim(argv, caps),
        Some(Rule::Xgroup) => xgroup(argv, caps),
        Some(Rule::Zadd) if !caps.has(R62) => equiv::zadd_cond(argv),
        Some(Rule::Bitop) => bitop(argv, caps),
        Some(Rule::Function) => function(argv, caps),
        Some(Rule::Zadd | Rule::Msetex | Rule::Instead(_)) => Action::Send(vec![argv]),
    }
}

fn moves_between_dbs(cmd: &[u8], argv: &[Vec<u8>]) -> bool {
    match cmd {
        b"move" | b"swapdb" => true,
        b"copy" => argv.iter().skip(3).any(|a| is(a, "DB")),
        _ => false,
    }
}

/// Field-TTL commands are taken by their rule even where the target lacks them.
fn field_ttl_fallback(rule: Option<Rule>, caps: &Caps) -> bool {
    matches!(
        rule,
        Some(Rule::Hsetex | Rule::Hgetex | Rule::FieldTtl | Rule::FieldPersist)
    ) && !caps.field_ttls
}

/// The field-TTL commands every target with field TTLs has: as they are there; elsewhere
/// dropped under `persist`, refused under `reject`.
fn field_ttl_rule(argv: Vec<Vec<u8>>, caps: &Caps) -> Action {
    if caps.field_ttls {
        Action::Send(vec![argv])
    } else if caps.persist {
        Action::Dropped("hash field TTLs not kept (--field-ttl-policy persist)")
    } else {
        field_ttl_refused(&argv)
    }
}

fn field_ttl_refused(argv: &[Vec<u8>]) -> Action {
    Action::Refuse(format!(
        "the target has no hash field TTLs ({} sets one); run with --field-ttl-policy persist to write the fields without their TTLs",
        name(argv)
    ))
}

/// Whether the target has `SET … IFEQ` (Valkey 8.1). Redis 8.4's `IFEQ` and kin are dropped
/// as well: exact either way, since the condition held on the source.
fn has_ifeq(caps: &Caps) -> bool {
    caps.family == Family::Valkey && caps.version >= (8, 1, 0)
}

fn set(argv: Vec<Vec<u8>>, caps: &Caps, now_ms: i64) -> Action {
    let old = !caps.has(R62);
    let ifeq = has_ifeq(caps);
    if !old && ifeq {
        return Action::Send(vec![argv]);
    }
    let mut it = argv.into_iter();
    let mut out: Vec<Vec<u8>> = it.by_ref().take(3).collect();
    while let Some(opt) = it.next() {
        let cond = ["IFEQ", "IFNE", "IFDEQ", "IFDNE"]
            .iter()
            .any(|c| is(&opt, c));
        if cond && !ifeq {
            it.next(); // a condition that held on the source
            continue;
        }
        if cond || !old {
            let takes = cond || ["EX", "PX", "EXAT", "PXAT"].iter().any(|o| is(&opt, o));
            out.push(opt);
            if takes {
                out.extend(it.next());
            }
            continue;
        }
        if is(&opt, "GET") {
            continue; // a reply, not a write
        }
        let at_ms = if is(&opt, "PXAT") {
            Some(1)
        } else if is(&opt, "EXAT") {
            Some(1000)
        } else {
            None
        };
        match at_ms {
            Some(scale) => {
                let Some(t) = int(it.next().as_ref()).and_then(|t| t.checked_mul(scale)) else {
                    return Action::Refuse("SET with a bad expiry time".into());
                };
                // Already past: a 1 ms TTL expires it at once, as the source did.
                out.push(b"PX".to_vec());
                out.push((t - now_ms).max(1).to_string().into_bytes());
            }
            None => out.push(opt),
        }
    }
    Action::Send(vec![out])
}

fn hsetex(argv: Vec<Vec<u8>>, caps: &Caps) -> Action {
    if caps.field_ttls {
        return Action::Send(vec![argv]);
    }
    if !caps.persist {
        return field_ttl_refused(&argv);
    }
    let Some(fields) = equiv::fields_at(&argv) else {
        return Action::Refuse("HSETEX without FIELDS".into());
    };
    let n = int(argv.get(fields + 1)).unwrap_or(-1);
    let pairs = &argv[(fields + 2).min(argv.len())..];
    if n < 1 || pairs.len() as i64 != 2 * n {
        return Action::Refuse("HSETEX with a field count that does not match".into());
    }
    let mut out = vec![b"HSET".to_vec(), argv[1].clone()];
    out.extend_from_slice(pairs);
    Action::Send(vec![out])
}

fn options(
    argv: Vec<Vec<u8>>,
    caps: &Caps,
    from: usize,
    opts: &[(&str, usize, Since)],
    strip: bool,
    until_number: bool,
) -> Action {
    let mut out: Vec<Vec<u8>> = argv[..from.min(argv.len())].to_vec();
    let mut i = from;
    while i < argv.len() {
        let number = || {
            std::str::from_utf8(&argv[i])
                .ok()
                .is_some_and(|a| a.parse::<f64>().is_ok())
        };
        if until_number && number() {
            out.extend_from_slice(&argv[i..]);
            break;
        }
        match opts.iter().find(|(o, _, _)| is(&argv[i], o)) {
            Some((o, takes, since)) if !caps.has(*since) => {
                if !strip {
                    return Action::Refuse(format!("the target has no {} option {o}", name(&argv)));
                }
                i += 1 + takes;
            }
            _ => {
                out.push(argv[i].clone());
                i += 1;
            }
        }
    }
    Action::Send(vec![out])
}

/// `MAXLEN|MINID [=|~] threshold [LIMIT count]` at `i`, as XADD and XTRIM take it.
struct Trim {
    minid: bool,
    /// `=` or `~` as given.
    mark: Option<Vec<u8>>,
    threshold: Vec<u8>,
    limit: Option<Vec<u8>>,
    /// The argument after it.
    next: usize,
}

impl Trim {
    fn parse(argv: &[Vec<u8>], i: usize) -> Option<Trim> {
        let minid = is(argv.get(i)?, "MINID");
        if !minid && !is(&argv[i], "MAXLEN") {
            return None;
        }
        let mark = argv
            .get(i + 1)
            .filter(|x| x.as_slice() == b"=" || x.as_slice() == b"~")
            .cloned();
        let at = i + 1 + usize::from(mark.is_some());
        let threshold = argv.get(at)?.clone();
        let (limit, next) = match argv.get(at + 1) {
            Some(l) if is(l, "LIMIT") => (Some(argv.get(at + 2)?.clone()), at + 3),
            _ => (None, at + 1),
        };
        Some(Trim {
            minid,
            mark,
            threshold,
            limit,
            next,
        })
    }

    /// An exact trim: a master propagates `~` as `=` with the threshold it trimmed to. Its
    /// `LIMIT` then changes nothing (the trim removes what the master removed), and a target
    /// takes `LIMIT` without `~` only from its own master: it is dropped.
    fn exact(&self) -> bool {
        self.mark.as_deref() != Some(b"~")
    }

    /// The options as the target takes them; `Err` when it cannot (its why).
    fn options(&self, cmd: &str, caps: &Caps) -> std::result::Result<Vec<Vec<u8>>, String> {
        let mut out = vec![if self.minid {
            b"MINID".to_vec()
        } else {
            b"MAXLEN".to_vec()
        }];
        out.extend(self.mark.clone());
        out.push(self.threshold.clone());
        if let Some(n) = &self.limit {
            if !self.exact() {
                if !caps.has(R62) {
                    return Err(format!("the target has no {cmd} option LIMIT"));
                }
                out.extend([b"LIMIT".to_vec(), n.clone()]);
            }
        }
        Ok(out)
    }
}

/// Redis 8.2's `KEEPREF|DELREF|ACKED` of XADD and XTRIM where the target lacks them: `KEEPREF`
/// is what older releases do, dropped; the others are refused.
fn ref_option(cmd: &str, a: &[u8], caps: &Caps) -> std::result::Result<bool, Action> {
    if caps.has(R82) {
        return Ok(true);
    }
    if is(a, "KEEPREF") {
        return Ok(false);
    }
    Err(Action::Refuse(format!(
        "the target has no {cmd} option {}",
        String::from_utf8_lossy(a).to_uppercase()
    )))
}

fn is_ref(a: &[u8]) -> bool {
    is(a, "KEEPREF") || is(a, "DELREF") || is(a, "ACKED")
}

fn xadd(argv: Vec<Vec<u8>>, caps: &Caps) -> Action {
    // XADD key [NOMKSTREAM] [KEEPREF|DELREF|ACKED] [MAXLEN|MINID [=|~] n [LIMIT c]] id f v...
    let mut out = argv[..2.min(argv.len())].to_vec();
    let mut minid = None;
    let mut i = 2;
    while i < argv.len() {
        let a = &argv[i];
        if is(a, "NOMKSTREAM") {
            // Dropped on an older target: the stream existed, or nothing was propagated.
            if caps.has(R62) {
                out.push(a.clone());
            }
            i += 1;
        } else if is_ref(a) {
            match ref_option("XADD", a, caps) {
                Ok(true) => out.push(a.clone()),
                Ok(false) => {}
                Err(refused) => return refused,
            }
            i += 1;
        } else if let Some(t) = Trim::parse(&argv, i) {
            if t.minid && !caps.has(R62) {
                if !t.exact() {
                    return Action::Refuse("the target has no XADD option MINID ~".into());
                }
                minid = Some(t.threshold.clone());
            } else {
                match t.options("XADD", caps) {
                    Ok(o) => out.extend(o),
                    Err(why) => return Action::Refuse(why),
                }
            }
            i = t.next;
        } else {
            break; // the ID
        }
    }
    out.extend_from_slice(&argv[i.min(argv.len())..]);
    match minid {
        Some(min) => equiv::xadd_minid(&out[1], &min, &out[2..]),
        None => Action::Send(vec![out]),
    }
}

fn xtrim(argv: Vec<Vec<u8>>, caps: &Caps) -> Action {
    // XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] [KEEPREF|DELREF|ACKED]
    let Some(t) = Trim::parse(&argv, 2) else {
        return Action::Send(vec![argv]); // the target's reply says what is wrong
    };
    let mut refs = Vec::new();
    for a in &argv[t.next.min(argv.len())..] {
        if !is_ref(a) {
            return Action::Send(vec![argv]);
        }
        match ref_option("XTRIM", a, caps) {
            Ok(true) => refs.push(a.clone()),
            Ok(false) => {}
            Err(refused) => return refused,
        }
    }
    if t.minid && !caps.has(R62) {
        if !t.exact() {
            return Action::Refuse("the target has no XTRIM option MINID ~".into());
        }
        return equiv::xtrim_minid(&argv[1], &t.threshold);
    }
    let mut out = argv[..2].to_vec();
    match t.options("XTRIM", caps) {
        Ok(o) => out.extend(o),
        Err(why) => return Action::Refuse(why),
    }
    out.extend(refs);
    Action::Send(vec![out])
}

fn xgroup(argv: Vec<Vec<u8>>, caps: &Caps) -> Action {
    if argv.get(1).is_some_and(|a| is(a, "CREATECONSUMER")) && !caps.has(R62) {
        return equiv::createconsumer(argv);
    }
    options(argv, caps, 4, &[("ENTRIESREAD", 1, R70)], true, false)
}

/// `RDB_OPCODE_FUNCTION2`: each library in a `FUNCTION DUMP` payload (Redis 7.0+, Valkey).
const RDB_OPCODE_FUNCTION2: u8 = 245;

fn function(mut argv: Vec<Vec<u8>>, caps: &Caps) -> Action {
    if !argv.get(1).is_some_and(|a| is(a, "RESTORE")) || argv.len() < 3 {
        return Action::Send(vec![argv]);
    }
    let (version, object) = match restore_core::decode::split_envelope(&argv[2]) {
        Ok(env) => (env.rdb_version, env.object),
        Err(e) => {
            return Action::Refuse(format!("a FUNCTION RESTORE payload that is not one: {e}"))
        }
    };
    if plan::core_target(&caps.server).accepts_footer(version) {
        return Action::Send(vec![argv]);
    }
    if object.first().is_some_and(|&b| b != RDB_OPCODE_FUNCTION2) {
        return Action::Refuse(format!(
            "a FUNCTION RESTORE payload of RDB version {version} that holds no library the target reads"
        ));
    }
    argv[2] = restore_core::encode::refoot(object, caps.server.rdb_version);
    Action::Send(vec![argv])
}

/// `BITOP`'s operations of Redis 8.2.
const BITOP_82: &[&str] = &["DIFF", "DIFF1", "ANDOR", "ONE"];

fn bitop(argv: Vec<Vec<u8>>, caps: &Caps) -> Action {
    match argv.get(1) {
        Some(op) if !caps.has(R82) && BITOP_82.iter().any(|o| is(op, o)) => {
            Action::Refuse(format!(
                "the target has no BITOP operation {}",
                String::from_utf8_lossy(op).to_uppercase()
            ))
        }
        _ => Action::Send(vec![argv]),
    }
}

/// Where a command goes on a cluster target: the keys that choose its slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The keys at these argument positions: all in one slot, or the sync stops (a cluster
    /// runs no command across slots, and splitting would change its meaning).
    Keys(Vec<usize>),
    /// Every `step`-th argument from `from` on is a key, followed by `step - 1` values
    /// (`DEL k…`: 1, `MSET k v…`: 2): split per slot, each part meaning what it meant.
    Split { from: usize, step: usize },
    /// No key, and every master must do it (`FLUSHALL`, `FUNCTION LOAD`).
    Everywhere,
    /// No key, and one master does it for the cluster (`PUBLISH`: the bus spreads it).
    Anywhere,
    /// The sync stops: why.
    Refuse(&'static str),
}

/// How each command's keys lie, for a cluster target (the commands not listed take their
/// first argument as their one key).
#[derive(Debug, Clone, Copy)]
enum Keys {
    /// `Route::Split`.
    Split(usize, usize),
    /// Arguments 1 and 2 (`RENAME a b`, `SMOVE`, `LMOVE`, `COPY`).
    Two,
    /// Every argument from this one on (`SUNIONSTORE dst k…`, `PFMERGE`, `BITOP op dst k…`).
    AllFrom(usize),
    /// Every other argument from 1 (`MSETNX k v k v`): all in one slot.
    Pairs,
    /// `ZUNIONSTORE dst numkeys k…`: the destination and the `numkeys` after it.
    DestNumkeys,
    /// `EVAL script numkeys k…` (and `EVALSHA`, `FCALL`).
    Numkeys,
    /// The key is argument 2 (`XGROUP CREATE key …`).
    Second,
    /// `SORT key … STORE dst`, `GEORADIUS key … STORE|STOREDIST dst`.
    Sort,
    /// `MSETEX n k v …`: the `n` keys, all in one slot.
    NumkeysPairs,
    /// `XREADGROUP … STREAMS k… id…`: the streams.
    Streams,
    Everywhere,
    Anywhere,
    Refuse(&'static str),
}

const CLUSTER_TABLE: &[(&str, Keys)] = &[
    ("del", Keys::Split(1, 1)),
    ("unlink", Keys::Split(1, 1)),
    ("touch", Keys::Split(1, 1)),
    ("mset", Keys::Split(1, 2)),
    ("msetnx", Keys::Pairs),
    ("rename", Keys::Two),
    ("renamenx", Keys::Two),
    ("smove", Keys::Two),
    ("lmove", Keys::Two),
    ("blmove", Keys::Two),
    ("rpoplpush", Keys::Two),
    ("brpoplpush", Keys::Two),
    ("copy", Keys::Two),
    ("zrangestore", Keys::Two),
    ("geosearchstore", Keys::Two),
    ("sunionstore", Keys::AllFrom(1)),
    ("sinterstore", Keys::AllFrom(1)),
    ("sdiffstore", Keys::AllFrom(1)),
    ("pfmerge", Keys::AllFrom(1)),
    ("bitop", Keys::AllFrom(2)),
    ("zunionstore", Keys::DestNumkeys),
    ("zinterstore", Keys::DestNumkeys),
    ("zdiffstore", Keys::DestNumkeys),
    ("eval", Keys::Numkeys),
    ("evalsha", Keys::Numkeys),
    ("eval_ro", Keys::Numkeys),
    ("evalsha_ro", Keys::Numkeys),
    ("fcall", Keys::Numkeys),
    ("xgroup", Keys::Second),
    ("sort", Keys::Sort),
    ("georadius", Keys::Sort),
    ("georadiusbymember", Keys::Sort),
    ("msetex", Keys::NumkeysPairs),
    ("xreadgroup", Keys::Streams),
    ("flushall", Keys::Everywhere),
    ("flushdb", Keys::Everywhere),
    ("function", Keys::Everywhere),
    ("script", Keys::Everywhere),
    ("publish", Keys::Anywhere),
    (
        "swapdb",
        Keys::Refuse("a cluster has one database: SWAPDB cannot keep its meaning"),
    ),
    (
        "move",
        Keys::Refuse("a cluster has one database: MOVE cannot keep its meaning"),
    ),
];

/// On a cluster target: a command `route` cannot place becomes a refusal here, in the stream's
/// order, so what comes before it is applied as for any other refusal.
pub fn on_cluster(action: Action) -> Action {
    let Action::Send(cmds) = &action else {
        return action;
    };
    for argv in cmds {
        match route(argv) {
            Route::Refuse(why) => return Action::Refuse(why.into()),
            Route::Keys(at) if cross_slot(argv, &at) => {
                return Action::Refuse(cross_slot_why(argv, &at))
            }
            _ => {}
        }
    }
    action
}

/// Whether the keys at `at` lie in more than one slot.
pub fn cross_slot(argv: &[Vec<u8>], at: &[usize]) -> bool {
    at.iter()
        .any(|&i| key_slot(&argv[i]) != key_slot(&argv[at[0]]))
}

/// Why a command across slots stops the sync: its keys with their slots.
pub fn cross_slot_why(argv: &[Vec<u8>], at: &[usize]) -> String {
    let keys: Vec<String> = at
        .iter()
        .map(|&i| format!("{} (slot {})", show_key(&argv[i]), key_slot(&argv[i])))
        .collect();
    format!(
        "its keys {} lie in different slots, and a cluster runs no command across slots (split, it would not do the same)",
        keys.join(", ")
    )
}

/// Where `argv` (as `translate` made it) goes on a cluster target.
pub fn route(argv: &[Vec<u8>]) -> Route {
    let cmd = lower(&argv[0]);
    let keys = CLUSTER_TABLE
        .iter()
        .find(|(n, _)| n.as_bytes() == cmd.as_slice())
        .map(|(_, k)| *k);
    let n = argv.len();
    let positions = |v: Vec<usize>| -> Route {
        if v.is_empty() || v.iter().any(|&i| i >= n) {
            Route::Refuse("its keys are not where the command's syntax puts them")
        } else {
            Route::Keys(v)
        }
    };
    let numkeys = |at: usize| int(argv.get(at)).and_then(|k| usize::try_from(k).ok());
    match keys {
        None if n > 1 => Route::Keys(vec![1]),
        None => Route::Refuse("a command without a key that the cluster table does not name"),
        Some(Keys::Split(from, step)) => {
            if n <= from || !(n - from).is_multiple_of(step) {
                Route::Refuse("its keys are not where the command's syntax puts them")
            } else {
                Route::Split { from, step }
            }
        }
        Some(Keys::Two) => positions(vec![1, 2]),
        Some(Keys::AllFrom(from)) => positions((from..n).collect()),
        Some(Keys::Pairs) => positions((1..n).step_by(2).collect()),
        Some(Keys::DestNumkeys) => match numkeys(2) {
            Some(k) => positions(std::iter::once(1).chain(3..3 + k).collect()),
            None => Route::Refuse("a bad numkeys"),
        },
        Some(Keys::Numkeys) => match numkeys(2) {
            // A script without keys runs on any master: it can write none on a cluster.
            Some(0) => Route::Anywhere,
            Some(k) => positions((3..3 + k).collect()),
            None => Route::Refuse("a bad numkeys"),
        },
        Some(Keys::Second) => positions(vec![2]),
        Some(Keys::Sort) => {
            let mut v = vec![1];
            // SORT takes BY/GET patterns, never keys: only STORE's argument is one.
            if let Some(i) = argv
                .iter()
                .skip(2)
                .position(|a| is(a, "STORE") || is(a, "STOREDIST"))
            {
                v.push(i + 3);
            }
            positions(v)
        }
        Some(Keys::NumkeysPairs) => match numkeys(1) {
            Some(k) if k >= 1 => positions((0..k).map(|i| 2 + 2 * i).collect()),
            _ => Route::Refuse("a bad numkeys"),
        },
        Some(Keys::Streams) => match argv.iter().position(|a| is(a, "STREAMS")) {
            Some(at) if (n - at - 1).is_multiple_of(2) && n > at + 1 => {
                positions((at + 1..at + 1 + (n - at - 1) / 2).collect())
            }
            _ => Route::Refuse("its keys are not where the command's syntax puts them"),
        },
        Some(Keys::Everywhere) => Route::Everywhere,
        Some(Keys::Anywhere) => Route::Anywhere,
        Some(Keys::Refuse(why)) => Route::Refuse(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(family: Family, v: (u32, u32, u32), field_ttls: bool, persist: bool) -> Caps {
        let names = "set get del incr expire pexpire pexpireat lpush lpop rpop xadd xtrim xgroup xsetid hset hdel copy";
        let mut commands: HashSet<Vec<u8>> =
            names.split(' ').map(|s| s.as_bytes().to_vec()).collect();
        if field_ttls {
            for c in "hexpire hpexpire hexpireat hpexpireat hpersist hpexpiretime".split(' ') {
                commands.insert(c.as_bytes().to_vec());
            }
        }
        // HSETEX and HGETEX came with Redis 8.0 and Valkey 9.0, after 7.4's field TTLs.
        if field_ttls && (family == Family::Valkey || v >= (8, 0, 0)) {
            commands.insert(b"hsetex".to_vec());
            commands.insert(b"hgetex".to_vec());
        }
        Caps {
            commands,
            family,
            version: v,
            field_ttls,
            persist,
            one_db: false,
            cluster: false,
            merge_dbs: false,
            server: ServerInfo {
                family,
                version: v,
                label: format!("{family:?} {}.{}.{}", v.0, v.1, v.2),
                rdb_version: match (family, v) {
                    (Family::Valkey, v) if v >= (9, 0, 0) => 80,
                    (_, v) if v >= (7, 4, 0) => 12,
                    (_, v) if v >= (7, 2, 0) => 11,
                    (_, v) if v >= (7, 0, 0) => 10,
                    _ => 9,
                },
                cluster: false,
                module: false,
                field_ttls,
                pexpiretime: v >= (7, 0, 0),
                max_bulk: None,
                notes: Vec::new(),
            },
            use_module: false,
        }
    }

    /// A DUMP payload of `object` with footer version `version`.
    fn dump(object: &[u8], version: u16) -> Vec<u8> {
        let mut p = object.to_vec();
        p.extend_from_slice(&version.to_le_bytes());
        let crc = restore_core::decode::payload::crc64(&p);
        p.extend_from_slice(&crc.to_le_bytes());
        p
    }

    #[test]
    fn restore_in_the_stream_is_sent_as_migrate_sends_it() {
        let string = [0u8, 1, b'v'];
        let restore = |payload: Vec<u8>, caps: &Caps| {
            let argv = vec![
                b"RESTORE".to_vec(),
                b"k".to_vec(),
                b"0".to_vec(),
                payload,
                b"REPLACE".to_vec(),
            ];
            translate(argv, caps, 0)
        };
        let old = caps(Family::Redis, (7, 0, 15), false, false);
        // A payload the target reads: as it is.
        let same = dump(&string, 10);
        assert_eq!(
            restore(same.clone(), &old),
            Action::Send(vec![vec![
                b"RESTORE".to_vec(),
                b"k".to_vec(),
                b"0".to_vec(),
                same,
                b"REPLACE".to_vec()
            ]])
        );
        // A newer footer on a type the target reads: restamped for its RESTORE, module or not.
        let newer = dump(&string, 12);
        let mut with_module = old.clone();
        with_module.use_module = true;
        for c in [&old, &with_module] {
            match restore(newer.clone(), c) {
                Action::Send(cmds) => {
                    assert_eq!(cmds[0][0], b"RESTORE");
                    assert_eq!(cmds[0][3], dump(&string, 10));
                }
                other => panic!("{other:?}"),
            }
        }
        // A type the target lacks (7.2's set listpack into 7.0): to RESTORE.ASKING as it is
        // where the module is.
        let set_listpack = dump(&[20u8, 0], 11);
        match restore(set_listpack.clone(), &with_module) {
            Action::Send(cmds) => {
                assert_eq!(cmds[0][0], b"RESTORE.ASKING");
                assert_eq!(cmds[0][3], set_listpack);
            }
            other => panic!("{other:?}"),
        }
        // A payload that is not one: the sync stops.
        let mut bad = dump(&string, 12);
        bad[1] ^= 1;
        assert!(matches!(restore(bad, &old), Action::Refuse(_)));
    }

    fn v(args: &str) -> Vec<Vec<u8>> {
        args.split(' ').map(|s| s.as_bytes().to_vec()).collect()
    }

    fn sent(a: Action) -> Vec<String> {
        match a {
            Action::Send(cmds) => cmds
                .iter()
                .map(|c| {
                    c.iter()
                        .map(|x| String::from_utf8_lossy(x).into_owned())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect(),
            other => panic!("not sent: {other:?}"),
        }
    }

    fn refused(a: Action) -> String {
        match a {
            Action::Refuse(why) => why,
            other => panic!("not refused: {other:?}"),
        }
    }

    const R60: (u32, u32, u32) = (6, 0, 20);
    const R74: (u32, u32, u32) = (7, 4, 0);

    #[test]
    fn control_commands_are_the_appliers() {
        let c = caps(Family::Redis, R60, false, false);
        assert_eq!(
            translate(v("SELECT 3"), &c, 0),
            Action::Control(Control::Select(3))
        );
        assert_eq!(
            translate(v("multi"), &c, 0),
            Action::Control(Control::Multi)
        );
        assert_eq!(translate(v("EXEC"), &c, 0), Action::Control(Control::Exec));
        assert_eq!(
            translate(v("PING"), &c, 0),
            Action::Control(Control::Nothing)
        );
        assert_eq!(
            translate(v("REPLCONF GETACK *"), &c, 0),
            Action::Control(Control::GetAck)
        );
        assert!(matches!(translate(v("SELECT x"), &c, 0), Action::Refuse(_)));
    }

    #[test]
    fn set_pxat_and_exat_become_px_before_6_2() {
        let old = caps(Family::Redis, R60, false, false);
        assert_eq!(
            sent(translate(v("SET k v PXAT 10500"), &old, 10_000)),
            ["SET k v PX 500"]
        );
        assert_eq!(
            sent(translate(v("SET k v EXAT 11 NX"), &old, 10_000)),
            ["SET k v PX 1000 NX"]
        );
        // Already expired on the source: expires at once on the target.
        assert_eq!(
            sent(translate(v("SET k v PXAT 5"), &old, 10_000)),
            ["SET k v PX 1"]
        );
        assert_eq!(
            sent(translate(v("SET k v GET KEEPTTL"), &old, 0)),
            ["SET k v KEEPTTL"]
        );
        // A value that looks like an option is a value.
        assert_eq!(sent(translate(v("SET k GET"), &old, 0)), ["SET k GET"]);
        let new = caps(Family::Valkey, (8, 0, 1), false, false);
        assert_eq!(
            sent(translate(v("SET k v PXAT 10500"), &new, 0)),
            ["SET k v PXAT 10500"]
        );
    }

    #[test]
    fn expire_conditions_dropped_before_7_0() {
        let old = caps(Family::Redis, (6, 2, 16), false, false);
        assert_eq!(
            sent(translate(v("PEXPIREAT k 123 GT"), &old, 0)),
            ["PEXPIREAT k 123"]
        );
        let new = caps(Family::Redis, (7, 0, 15), false, false);
        assert_eq!(
            sent(translate(v("PEXPIREAT k 123 GT"), &new, 0)),
            ["PEXPIREAT k 123 GT"]
        );
    }

    #[test]
    fn hsetex_and_hgetex_into_redis_7_4_are_its_own_field_ttl_commands() {
        // 7.4 has field TTLs but neither command (8.0).
        let r74 = caps(Family::Redis, R74, true, false);
        let r82 = caps(Family::Redis, (8, 2, 3), true, false);
        let cases = [
            (
                "HSETEX h FNX PXAT 1796695877887 FIELDS 2 a 1 b 2",
                vec!["HSET h a 1 b 2", "HPEXPIREAT h 1796695877887 FIELDS 2 a b"],
            ),
            (
                "HSETEX h EX 100 FIELDS 1 a 1",
                vec!["HSET h a 1", "HEXPIRE h 100 FIELDS 1 a"],
            ),
            // Without an option HSETEX leaves the fields without TTLs.
            (
                "HSETEX h FIELDS 2 e 5 f 6",
                vec!["HSET h e 5 f 6", "HPERSIST h FIELDS 2 e f"],
            ),
            ("HGETEX h PX 5 FIELDS 1 a", vec!["HPEXPIRE h 5 FIELDS 1 a"]),
            ("HGETEX h PERSIST FIELDS 1 a", vec!["HPERSIST h FIELDS 1 a"]),
        ];
        for (c, want) in cases {
            assert_eq!(sent(translate(v(c), &r74, 0)), want, "{c}");
            assert_eq!(sent(translate(v(c), &r82, 0)), [c], "{c}");
        }
        // KEEPTTL: a script that puts the fields' TTLs back after the HSET.
        match translate(v("HSETEX h FXX KEEPTTL FIELDS 1 a 9"), &r74, 0) {
            Action::Send(cmds) => {
                assert_eq!(cmds.len(), 1);
                assert_eq!(cmds[0][0], b"EVAL");
                assert_eq!(&cmds[0][2..], &v("1 h a 9")[..]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            translate(v("HGETEX h FIELDS 1 a"), &r74, 0),
            Action::Dropped(_)
        ));
        // A key named "fields".
        assert_eq!(
            sent(translate(v("HSETEX fields PXAT 9 FIELDS 1 a 1"), &r74, 0)),
            ["HSET fields a 1", "HPEXPIREAT fields 9 FIELDS 1 a"]
        );
        let persist = caps(Family::Redis, (7, 2, 6), false, true);
        assert_eq!(
            sent(translate(v("HSETEX FIELDS FIELDS 1 a 1"), &persist, 0)),
            ["HSET FIELDS a 1"]
        );
        assert!(matches!(
            translate(v("HSETEX h EX 1 FIELDS 2 a 1"), &r74, 0),
            Action::Refuse(_)
        ));
    }

    #[test]
    fn field_ttl_commands_follow_the_policy() {
        let reject = caps(Family::Redis, (7, 2, 6), false, false);
        let persist = caps(Family::Redis, (7, 2, 6), false, true);
        let has = caps(Family::Redis, (8, 0, 0), true, false);
        let hsetex = "HSETEX h FNX PXAT 99 FIELDS 2 a 1 b 2";
        assert!(refused(translate(v(hsetex), &reject, 0)).contains("--field-ttl-policy persist"));
        assert_eq!(sent(translate(v(hsetex), &persist, 0)), ["HSET h a 1 b 2"]);
        assert_eq!(sent(translate(v(hsetex), &has, 0)), [hsetex]);
        assert!(matches!(
            translate(v("HSETEX h FIELDS 2 a 1"), &persist, 0),
            Action::Refuse(_)
        ));
        for c in [
            "HPEXPIREAT h 99 FIELDS 1 a",
            "HEXPIRE h 9 FIELDS 1 a",
            "HGETEX h PX 5 FIELDS 1 a",
        ] {
            assert!(
                matches!(translate(v(c), &reject, 0), Action::Refuse(_)),
                "{c}"
            );
            assert!(
                matches!(translate(v(c), &persist, 0), Action::Dropped(_)),
                "{c}"
            );
            assert_eq!(sent(translate(v(c), &has, 0)), [c]);
        }
        assert!(matches!(
            translate(v("HPERSIST h FIELDS 1 a"), &reject, 0),
            Action::Dropped(_)
        ));
    }

    #[test]
    fn pops_with_a_count_become_single_pops_before_6_2() {
        let old = caps(Family::Redis, R60, false, false);
        assert_eq!(
            sent(translate(v("LPOP l 3"), &old, 0)),
            ["LPOP l", "LPOP l", "LPOP l"]
        );
        assert_eq!(sent(translate(v("RPOP l"), &old, 0)), ["RPOP l"]);
        let new = caps(Family::Redis, (6, 2, 16), false, false);
        assert_eq!(sent(translate(v("LPOP l 3"), &new, 0)), ["LPOP l 3"]);
    }

    #[test]
    fn stream_metadata_of_7_0_is_dropped_where_older_streams_have_none() {
        let old = caps(Family::Redis, (6, 2, 16), false, false);
        assert_eq!(
            sent(translate(v("XGROUP SETID s g 5-0 ENTRIESREAD 3"), &old, 0)),
            ["XGROUP SETID s g 5-0"]
        );
        assert_eq!(
            sent(translate(
                v("XSETID s 5-0 ENTRIESADDED 9 MAXDELETEDID 2-0"),
                &old,
                0
            )),
            ["XSETID s 5-0"]
        );
        let new = caps(Family::Valkey, (7, 2, 7), false, false);
        let c = "XGROUP SETID s g 5-0 ENTRIESREAD 3";
        assert_eq!(sent(translate(v(c), &new, 0)), [c]);
    }

    /// The one command of `a`, sent.
    fn one(a: Action) -> String {
        let s = sent(a);
        assert_eq!(s.len(), 1, "{s:?}");
        s[0].clone()
    }

    #[test]
    fn stream_options_the_target_lacks_are_made_its_own_or_refused() {
        let r60 = caps(Family::Redis, R60, false, false);
        let r70 = caps(Family::Redis, (7, 0, 15), false, false);
        let v9 = caps(Family::Valkey, (9, 1, 2), true, false);
        let r82 = caps(Family::Redis, (8, 2, 3), true, false);
        // MINID (6.2): the entry added, then a script deleting those before the threshold
        // (the XADD outside the script: Lua's unpack cannot take an entry of 4,000+ fields).
        let s = sent(translate(v("XADD s MINID = 5 1-1 f v"), &r60, 0));
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(s[0], "XADD s 1-1 f v");
        assert!(
            s[1].starts_with("EVAL ") && s[1].ends_with(" 1 s 5"),
            "{s:?}"
        );
        let wide: Vec<String> = (0..5000)
            .flat_map(|i| [format!("f{i}"), "v".into()])
            .collect();
        let s = sent(translate(
            v(&format!("XADD s MINID = 5 1-1 {}", wide.join(" "))),
            &r60,
            0,
        ));
        assert!(s[0].starts_with("XADD s 1-1 f0 v f1 v") && !s[1].contains("f4999"));
        let s = one(translate(v("XTRIM s MINID 5"), &r60, 0));
        assert!(s.starts_with("EVAL ") && s.ends_with(" 1 s 5"), "{s}");
        assert!(refused(translate(v("XADD s MINID ~ 5 1-1 f v"), &r60, 0)).contains("MINID ~"));
        assert_eq!(
            one(translate(v("XADD s MINID = 5 1-1 f v"), &r70, 0)),
            "XADD s MINID = 5 1-1 f v"
        );
        assert_eq!(
            one(translate(v("XADD s MAXLEN = 5 1-1 f v"), &r60, 0)),
            "XADD s MAXLEN = 5 1-1 f v"
        );
        // NOMKSTREAM (6.2): the stream was there, or nothing was propagated.
        assert_eq!(
            one(translate(v("XADD s NOMKSTREAM * f v"), &r60, 0)),
            "XADD s * f v"
        );
        // A field named like an option comes after the ID.
        assert_eq!(
            one(translate(v("XADD s 1-1 MINID v"), &r60, 0)),
            "XADD s 1-1 MINID v"
        );
        // A master propagates `~ … LIMIT` as `= <what it trimmed to> LIMIT`, which no server
        // takes from a client: LIMIT is dropped on every target.
        for c in [&r60, &r70, &r82, &v9] {
            assert_eq!(
                one(translate(v("XADD s MAXLEN = 2 LIMIT 5 5-1 f v"), c, 0)),
                "XADD s MAXLEN = 2 5-1 f v"
            );
            assert_eq!(
                one(translate(v("XTRIM s MAXLEN = 3 LIMIT 5"), c, 0)),
                "XTRIM s MAXLEN = 3"
            );
        }
        assert_eq!(
            one(translate(v("XTRIM s MAXLEN ~ 2 LIMIT 5"), &r70, 0)),
            "XTRIM s MAXLEN ~ 2 LIMIT 5"
        );
        assert!(refused(translate(v("XTRIM s MAXLEN ~ 2 LIMIT 5"), &r60, 0)).contains("LIMIT"));
        // KEEPREF (8.2) is what older releases do; DELREF and ACKED they cannot.
        assert_eq!(
            one(translate(v("XADD s KEEPREF MAXLEN 1 1-1 f v"), &v9, 0)),
            "XADD s MAXLEN 1 1-1 f v"
        );
        assert!(refused(translate(v("XADD s DELREF 1-1 f v"), &v9, 0)).contains("DELREF"));
        assert_eq!(
            one(translate(v("XADD s ACKED 1-1 f v"), &r82, 0)),
            "XADD s ACKED 1-1 f v"
        );
        assert_eq!(
            one(translate(v("XTRIM s MAXLEN 0 KEEPREF"), &r70, 0)),
            "XTRIM s MAXLEN 0"
        );
        assert!(refused(translate(v("XTRIM s MAXLEN 0 ACKED"), &v9, 0)).contains("ACKED"));
        assert_eq!(
            one(translate(v("XTRIM s MAXLEN 0 DELREF"), &r82, 0)),
            "XTRIM s MAXLEN 0 DELREF"
        );
    }

    #[test]
    fn xdelex_and_xackdel_become_xdel_and_xack_where_the_target_lacks_them() {
        let v9 = caps(Family::Valkey, (9, 1, 2), true, false);
        assert_eq!(
            sent(translate(v("XDELEX s IDS 2 1-1 2-1"), &v9, 0)),
            ["XDEL s 1-1 2-1"]
        );
        assert_eq!(
            sent(translate(v("XDELEX s KEEPREF IDS 1 1-1"), &v9, 0)),
            ["XDEL s 1-1"]
        );
        assert!(refused(translate(v("XDELEX s DELREF IDS 1 1-1"), &v9, 0)).contains("DELREF"));
        assert_eq!(
            sent(translate(v("XACKDEL s g IDS 2 1-1 2-1"), &v9, 0)),
            ["XACK s g 1-1 2-1", "XDEL s 1-1 2-1"]
        );
        assert!(refused(translate(v("XACKDEL s g ACKED IDS 1 1-1"), &v9, 0)).contains("ACKED"));
        assert!(matches!(
            translate(v("XDELEX s IDS 3 1-1"), &v9, 0),
            Action::Refuse(_)
        ));
        let mut r82 = caps(Family::Redis, (8, 2, 3), true, false);
        r82.commands.insert(b"xdelex".to_vec());
        let c = "XDELEX s DELREF IDS 1 1-1";
        assert_eq!(sent(translate(v(c), &r82, 0)), [c]);
    }

    #[test]
    fn lmove_becomes_rpoplpush_or_a_script_before_6_2() {
        let old = caps(Family::Redis, R60, false, false);
        assert_eq!(
            sent(translate(v("LMOVE a b RIGHT LEFT"), &old, 0)),
            ["RPOPLPUSH a b"]
        );
        let s = sent(translate(v("LMOVE a b left right"), &old, 0));
        assert!(
            s[0].starts_with("EVAL ") && s[0].ends_with(" 2 a b LPOP RPUSH"),
            "{s:?}"
        );
        assert!(matches!(
            translate(v("LMOVE a b UP LEFT"), &old, 0),
            Action::Refuse(_)
        ));
        let mut new = caps(Family::Redis, (6, 2, 16), false, false);
        new.commands.insert(b"lmove".to_vec());
        assert_eq!(
            sent(translate(v("LMOVE a b LEFT RIGHT"), &new, 0)),
            ["LMOVE a b LEFT RIGHT"]
        );
    }

    #[test]
    fn zadd_gt_and_lt_before_6_2_keep_their_meaning() {
        let mut old = caps(Family::Redis, R60, false, false);
        old.commands.insert(b"zadd".to_vec());
        // One member: updated only where the condition held, so without it.
        assert_eq!(
            one(translate(v("ZADD z GT CH 5 a"), &old, 0)),
            "ZADD z CH 5 a"
        );
        assert_eq!(
            one(translate(v("ZADD z XX LT INCR -1 a"), &old, 0)),
            "ZADD z XX INCR -1 a"
        );
        // Several: each through the script, the condition and XX passed on.
        let s = one(translate(v("ZADD z xx gt 5 a 6 b"), &old, 0));
        assert!(
            s.starts_with("EVAL ") && s.ends_with(" 1 z GT XX 5 a 6 b"),
            "{s}"
        );
        let s = one(translate(v("ZADD z LT 5 a 6 b"), &old, 0));
        assert!(s.ends_with(" 1 z LT - 5 a 6 b"), "{s}");
        assert_eq!(one(translate(v("ZADD z NX 5 a"), &old, 0)), "ZADD z NX 5 a");
        let mut new = caps(Family::Redis, (6, 2, 16), false, false);
        new.commands.insert(b"zadd".to_vec());
        let c = "ZADD z GT CH 5 a 6 b";
        assert_eq!(one(translate(v(c), &new, 0)), c);
    }

    #[test]
    fn commands_of_6_2_become_what_6_0_has() {
        let mut old = caps(Family::Redis, R60, false, false);
        old.commands.remove(&b"copy"[..]);
        let script_of = |c: &str| {
            let s = one(translate(v(c), &old, 0));
            assert!(s.starts_with("EVAL "), "{c}: {s}");
            s
        };
        let s = script_of("ZDIFFSTORE d 2 a b");
        assert!(s.ends_with(" 3 d a b"), "{s}");
        let s = script_of("ZRANGESTORE d src (1 +inf BYSCORE REV LIMIT 0 5");
        assert!(s.ends_with(" 2 d src (1 +inf BYSCORE REV 0 5"), "{s}");
        let s = script_of("ZRANGESTORE d src 0 -1");
        assert!(s.ends_with(" 2 d src 0 -1 - -"), "{s}");
        let s = script_of("COPY a b DB 3 REPLACE");
        assert!(s.ends_with(" 2 a b 3 REPLACE"), "{s}");
        assert!(s.contains("redis.call('DUMP', KEYS[1])"));
        assert_eq!(
            one(translate(
                v("GEOSEARCHSTORE d g FROMMEMBER p BYRADIUS 5 km ASC COUNT 3"),
                &old,
                0
            )),
            "GEORADIUSBYMEMBER g p 5 km ASC COUNT 3 STORE d"
        );
        assert_eq!(
            one(translate(
                v("GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 300 km STOREDIST"),
                &old,
                0
            )),
            "GEORADIUS g 15 37 300 km STOREDIST d"
        );
        assert!(refused(translate(
            v("GEOSEARCHSTORE d g FROMMEMBER p BYBOX 1 1 km"),
            &old,
            0
        ))
        .contains("BYBOX"));
        assert!(refused(translate(
            v("GEOSEARCHSTORE d g FROMMEMBER p BYRADIUS 5 km COUNT 1 ANY"),
            &old,
            0
        ))
        .contains("ANY"));
        // XGROUP CREATECONSUMER: a read of the new consumer's own history creates it.
        assert_eq!(
            one(translate(v("XGROUP CREATECONSUMER s g c"), &old, 0)),
            "XREADGROUP GROUP g c COUNT 1 STREAMS s 0"
        );
        assert_eq!(
            one(translate(v("XGROUP SETID s g 0"), &old, 0)),
            "XGROUP SETID s g 0"
        );
        let new = caps(Family::Redis, (6, 2, 16), false, false);
        let c = "XGROUP CREATECONSUMER s g c";
        assert_eq!(one(translate(v(c), &new, 0)), c);
        // FLUSHALL/FLUSHDB/SCRIPT FLUSH SYNC: flushing at once is what 6.0 does.
        for c in ["flushall", "flushdb", "script"] {
            old.commands.insert(c.as_bytes().to_vec());
        }
        assert_eq!(one(translate(v("FLUSHALL SYNC"), &old, 0)), "FLUSHALL");
        assert_eq!(one(translate(v("FLUSHDB ASYNC"), &old, 0)), "FLUSHDB ASYNC");
        assert_eq!(
            one(translate(v("SCRIPT FLUSH SYNC"), &old, 0)),
            "SCRIPT FLUSH"
        );
        assert_eq!(
            one(translate(v("SCRIPT LOAD SYNC"), &old, 0)),
            "SCRIPT LOAD SYNC"
        );
    }

    #[test]
    fn valkey_and_redis_8_commands_become_what_the_target_has() {
        let r82 = caps(Family::Redis, (8, 2, 3), true, false);
        let r60 = caps(Family::Redis, R60, false, false);
        let v81 = caps(Family::Valkey, (8, 1, 0), false, false);
        // SET IFEQ (Valkey 8.1): the condition held on the source.
        assert_eq!(
            one(translate(v("SET k v IFEQ a PXAT 10500"), &r82, 0)),
            "SET k v PXAT 10500"
        );
        assert_eq!(
            one(translate(v("SET k v IFEQ a PXAT 10500"), &r60, 10_000)),
            "SET k v PX 500"
        );
        let c = "SET k v IFEQ a PXAT 10500";
        assert_eq!(one(translate(v(c), &v81, 0)), c);
        // MSETEX (Valkey 9.1): one SET per key, each a SET of the stream.
        assert_eq!(
            sent(translate(v("MSETEX 2 a 1 b 2 PXAT 10500"), &r82, 0)),
            ["SET a 1 PXAT 10500", "SET b 2 PXAT 10500"]
        );
        assert_eq!(
            sent(translate(v("MSETEX 2 a 1 b 2 PXAT 10500"), &r60, 10_000)),
            ["SET a 1 PX 500", "SET b 2 PX 500"]
        );
        assert_eq!(
            sent(translate(v("MSETEX 1 c 3 XX KEEPTTL"), &r82, 0)),
            ["SET c 3 KEEPTTL"]
        );
        assert_eq!(sent(translate(v("MSETEX 1 c 3"), &r82, 0)), ["SET c 3"]);
        assert!(matches!(
            translate(v("MSETEX 2 a 1"), &r82, 0),
            Action::Refuse(_)
        ));
        let mut v91 = caps(Family::Valkey, (9, 1, 2), true, false);
        v91.commands.insert(b"msetex".to_vec());
        let c = "MSETEX 2 a 1 b 2 PXAT 10500";
        assert_eq!(sent(translate(v(c), &v91, 0)), [c]);
        // HGETDEL, DELIFEQ: the deletes they did.
        assert_eq!(
            sent(translate(v("HGETDEL h FIELDS 2 a b"), &r60, 0)),
            ["HDEL h a b"]
        );
        assert_eq!(sent(translate(v("DELIFEQ k v"), &r82, 0)), ["DEL k"]);
        // SPUBLISH on a target without shard channels reaches nobody: counted, not sent.
        assert!(matches!(
            translate(v("SPUBLISH ch m"), &r60, 0),
            Action::Dropped(_)
        ));
        // BITOP's operations of 8.2 have no equivalent.
        let mut r72 = caps(Family::Redis, (7, 2, 6), false, false);
        r72.commands.insert(b"bitop".to_vec());
        assert!(refused(translate(v("BITOP DIFF d a b"), &r72, 0)).contains("operation DIFF"));
        assert_eq!(
            one(translate(v("BITOP OR d a b"), &r72, 0)),
            "BITOP OR d a b"
        );
        let mut r82 = r82;
        r82.commands.insert(b"bitop".to_vec());
        assert_eq!(
            one(translate(v("BITOP ONE d a b"), &r82, 0)),
            "BITOP ONE d a b"
        );
    }

    #[test]
    fn function_restore_payloads_are_re_footed_for_the_target() {
        let lib = [245u8, 3, b'a', b'b', b'c'];
        let restore = |payload: Vec<u8>, c: &Caps| {
            let argv = vec![
                b"FUNCTION".to_vec(),
                b"RESTORE".to_vec(),
                payload,
                b"REPLACE".to_vec(),
            ];
            match translate(argv, c, 0) {
                Action::Send(cmds) => cmds[0][2].clone(),
                other => panic!("{other:?}"),
            }
        };
        let mut r70 = caps(Family::Redis, (7, 0, 15), false, false);
        r70.commands.insert(b"function".to_vec());
        let mut v9 = caps(Family::Valkey, (9, 1, 2), true, false);
        v9.commands.insert(b"function".to_vec());
        // What the target reads goes as it is; a newer (or the other family's) is re-footed.
        assert_eq!(restore(dump(&lib, 10), &r70), dump(&lib, 10));
        assert_eq!(restore(dump(&lib, 12), &r70), dump(&lib, 10));
        assert_eq!(restore(dump(&lib, 80), &r70), dump(&lib, 10));
        assert_eq!(restore(dump(&lib, 12), &v9), dump(&lib, 80));
        assert_eq!(restore(dump(&lib, 11), &v9), dump(&lib, 11));
        let argv = vec![b"FUNCTION".to_vec(), b"RESTORE".to_vec(), b"junk".to_vec()];
        assert!(matches!(translate(argv, &r70, 0), Action::Refuse(_)));
        assert_eq!(
            one(translate(v("FUNCTION DELETE lib"), &r70, 0)),
            "FUNCTION DELETE lib"
        );
    }

    #[test]
    fn messages_name_the_key_where_the_cluster_table_puts_it() {
        let k = |c: &str| crate::sync::apply::key_of(&v(c));
        assert_eq!(k("SET a 1"), "a");
        assert_eq!(k("BITOP DIFF d a b"), "d");
        assert_eq!(k("MSETEX 2 a 1 b 2"), "a");
        assert_eq!(k("EVAL s 1 k x"), "k");
        assert_eq!(k("EVAL s 0"), "-");
        assert_eq!(k("XGROUP CREATE s g $"), "s");
        assert_eq!(k("XREADGROUP GROUP g c STREAMS s 0"), "s");
        assert_eq!(k("FUNCTION LOAD x"), "-");
        assert_eq!(k("SWAPDB 0 1"), "-");
        assert_eq!(k("MOVE k 1"), "k");
        assert_eq!(k("DEL a b"), "a");
    }

    #[test]
    fn commands_naming_another_database_are_refused_under_target_db() {
        let mut c = caps(Family::Redis, (7, 0, 15), false, false);
        for n in ["move", "swapdb", "copy"] {
            c.commands.insert(n.as_bytes().to_vec());
        }
        assert_eq!(sent(translate(v("MOVE k 1"), &c, 0)), ["MOVE k 1"]);
        c.one_db = true;
        for cmd in ["MOVE k 1", "SWAPDB 0 1", "COPY a b DB 2 REPLACE"] {
            assert!(
                refused(translate(v(cmd), &c, 0)).contains("--target-db"),
                "{cmd}"
            );
        }
        assert_eq!(
            sent(translate(v("COPY a b REPLACE"), &c, 0)),
            ["COPY a b REPLACE"]
        );
    }

    #[test]
    fn a_command_the_target_lacks_is_refused_by_name() {
        let c = caps(Family::Redis, R60, false, false);
        assert!(refused(translate(v("LMPOP 1 l LEFT"), &c, 0)).contains("no LMPOP command"));
        assert_eq!(sent(translate(v("incr n"), &c, 0)), ["incr n"]);
    }
    #[test]
    fn cluster_routes_split_only_what_keeps_its_meaning() {
        let r = |c: &str| route(&v(c));
        assert_eq!(r("INCR k"), Route::Keys(vec![1]));
        assert_eq!(r("DEL a b c"), Route::Split { from: 1, step: 1 });
        assert_eq!(r("unlink a"), Route::Split { from: 1, step: 1 });
        assert_eq!(r("TOUCH a b"), Route::Split { from: 1, step: 1 });
        assert_eq!(r("MSET a 1 b 2"), Route::Split { from: 1, step: 2 });
        assert!(matches!(r("MSET a 1 b"), Route::Refuse(_)));
        assert_eq!(r("MSETNX a 1 b 2"), Route::Keys(vec![1, 3]));
        for c in [
            "RENAME a b",
            "SMOVE a b m",
            "LMOVE a b LEFT RIGHT",
            "RPOPLPUSH a b",
            "COPY a b",
        ] {
            assert_eq!(r(c), Route::Keys(vec![1, 2]), "{c}");
        }
        assert_eq!(r("SUNIONSTORE d a b"), Route::Keys(vec![1, 2, 3]));
        assert_eq!(r("BITOP AND d a b"), Route::Keys(vec![2, 3, 4]));
        assert_eq!(
            r("ZUNIONSTORE d 2 a b WEIGHTS 1 2"),
            Route::Keys(vec![1, 3, 4])
        );
        assert_eq!(r("EVAL s 2 a b x"), Route::Keys(vec![3, 4]));
        assert_eq!(r("EVAL s 0"), Route::Anywhere);
        assert!(matches!(r("EVAL s 3 a"), Route::Refuse(_)));
        assert_eq!(r("SORT l BY x STORE d"), Route::Keys(vec![1, 5]));
        assert_eq!(
            r("GEORADIUS g 15 37 300 km STOREDIST d"),
            Route::Keys(vec![1, 7])
        );
        assert_eq!(r("GEORADIUSBYMEMBER g p 5 km"), Route::Keys(vec![1]));
        assert_eq!(r("MSETEX 2 a 1 b 2 PXAT 9"), Route::Keys(vec![2, 4]));
        assert!(matches!(r("MSETEX 3 a 1"), Route::Refuse(_)));
        assert_eq!(
            r("XREADGROUP GROUP g c COUNT 1 STREAMS s t 0 0"),
            Route::Keys(vec![7, 8])
        );
        assert_eq!(r("XGROUP CREATE s g $"), Route::Keys(vec![2]));
    }

    #[test]
    fn select_of_another_database_is_refused_on_a_cluster_without_merge_dbs() {
        let mut c = caps(Family::Redis, (7, 2, 6), false, false);
        c.cluster = true;
        assert_eq!(
            translate(v("SELECT 0"), &c, 0),
            Action::Control(Control::Select(0))
        );
        c.commands.insert(b"copy".to_vec());
        assert!(refused(translate(v("COPY a b DB 1"), &c, 0)).contains("database 0 only"));
        assert!(refused(translate(v("SELECT 1"), &c, 0)).contains("--merge-dbs"));
        c.merge_dbs = true;
        assert_eq!(
            translate(v("SELECT 1"), &c, 0),
            Action::Control(Control::Select(1))
        );
    }

    #[test]
    fn a_command_across_slots_is_refused_before_it_is_batched() {
        let send = |c: &str| Action::Send(vec![v(c)]);
        // "a" and "b" hash to different slots, "{a}x" to a's.
        let why = refused(on_cluster(send("RENAME a b")));
        assert!(why.contains("a (slot 15495), b (slot 3300)"), "{why}");
        assert_eq!(on_cluster(send("RENAME a {a}x")), send("RENAME a {a}x"));
        assert_eq!(on_cluster(send("DEL a b")), send("DEL a b"));
        assert!(matches!(on_cluster(send("SWAPDB 0 1")), Action::Refuse(_)));
        assert_eq!(on_cluster(Action::Dropped("x")), Action::Dropped("x"));
    }

    #[test]
    fn cluster_routes_keyless_commands_by_rule() {
        let r = |c: &str| route(&v(c));
        assert_eq!(r("FLUSHALL"), Route::Everywhere);
        assert_eq!(r("flushdb ASYNC"), Route::Everywhere);
        assert_eq!(r("FUNCTION LOAD code"), Route::Everywhere);
        assert_eq!(r("SCRIPT FLUSH"), Route::Everywhere);
        assert_eq!(r("PUBLISH ch m"), Route::Anywhere);
        assert!(matches!(r("SWAPDB 0 1"), Route::Refuse(w) if w.contains("SWAPDB")));
        assert!(matches!(r("MOVE k 1"), Route::Refuse(_)));
        assert!(matches!(r("NOSUCHKEYLESS"), Route::Refuse(_)));
    }
}
