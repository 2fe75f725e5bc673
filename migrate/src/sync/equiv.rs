//! Equivalents for commands and options an older target lacks: what `translate`'s table sends
//! in their place, each doing on the target what the command did on the source. Where no
//! command of the target does it, a short Lua script does (every target has `EVAL`), with the
//! command's keys as its keys, so that a cluster target routes it to the same slot.
//!
//! They rest on the table's one fact: a master propagates a conditional write only when it
//! took effect, and the target holds what the source held; so a condition that held there
//! holds on the target, and dropping it changes nothing (`NOMKSTREAM`, `IFEQ`, `DELIFEQ`,
//! `MSETEX NX`, a one-member `ZADD GT`).

use super::argv::{int, is, name, Action};

fn bytes(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn eval(script: &str, keys: &[&Vec<u8>], args: Vec<Vec<u8>>) -> Action {
    let mut argv = vec![
        bytes("EVAL"),
        bytes(script),
        keys.len().to_string().into_bytes(),
    ];
    argv.extend(keys.iter().map(|k| k.to_vec()));
    argv.extend(args);
    Action::Send(vec![argv])
}

fn bad(argv: &[Vec<u8>]) -> Action {
    // The source ran it, so this does not happen; refused rather than guessed at.
    Action::Refuse(format!("{} with arguments it does not take", name(argv)))
}

/// `LMOVE src dst <from> <to>` (6.2; `BLMOVE` is propagated as it): `RPOPLPUSH` for
/// `RIGHT LEFT`, else a script doing the pop and the push.
const LMOVE: &str = "local v = redis.call(ARGV[1], KEYS[1]) \
if v then redis.call(ARGV[2], KEYS[2], v) end return v";

pub fn lmove(argv: Vec<Vec<u8>>) -> Action {
    let side = |a: Option<&Vec<u8>>| match a {
        Some(a) if is(a, "LEFT") => Some("L"),
        Some(a) if is(a, "RIGHT") => Some("R"),
        _ => None,
    };
    let (Some(from), Some(to), 5) = (side(argv.get(3)), side(argv.get(4)), argv.len()) else {
        return Action::Refuse("an LMOVE with bad arguments".into());
    };
    if (from, to) == ("R", "L") {
        return Action::Send(vec![vec![
            bytes("RPOPLPUSH"),
            argv[1].clone(),
            argv[2].clone(),
        ]]);
    }
    eval(
        LMOVE,
        &[&argv[1], &argv[2]],
        vec![
            format!("{from}POP").into_bytes(),
            format!("{to}PUSH").into_bytes(),
        ],
    )
}

/// Stores a flat `member, score, …` list as the sorted set `dst`, which is deleted first and
/// left absent when the list is empty, as every `…STORE` command does.
const ZSTORE: &str = "local function store(dst, m) redis.call('DEL', dst) local a = {} \
for i = 1, #m, 2 do a[#a + 1] = m[i + 1] a[#a + 1] = m[i] \
if #a >= 1000 then redis.call('ZADD', dst, unpack(a)) a = {} end end \
if #a > 0 then redis.call('ZADD', dst, unpack(a)) end return #m / 2 end ";

/// `ZDIFFSTORE dst n k1 … kn` (6.2): the members of `k1` (a sorted set, or a set with scores
/// of 1) in none of the others, with their scores in `k1`.
const ZDIFFSTORE: &str = "local function kind(k) return redis.call('TYPE', k)['ok'] end \
local function members(k) if kind(k) == 'set' then local m = {} \
for _, x in ipairs(redis.call('SMEMBERS', k)) do m[#m + 1] = x m[#m + 1] = '1' end return m end \
return redis.call('ZRANGE', k, 0, -1, 'WITHSCORES') end \
local kinds = {} for j = 3, #KEYS do kinds[j] = kind(KEYS[j]) end \
local m, out = members(KEYS[2]), {} \
for i = 1, #m, 2 do local keep = true \
for j = 3, #KEYS do local k = KEYS[j] \
if (kinds[j] == 'set' and redis.call('SISMEMBER', k, m[i]) == 1) \
or (kinds[j] == 'zset' and redis.call('ZSCORE', k, m[i])) then keep = false break end end \
if keep then out[#out + 1] = m[i] out[#out + 1] = m[i + 1] end end \
return store(KEYS[1], out)";

pub fn zdiffstore(argv: Vec<Vec<u8>>) -> Action {
    let n = int(argv.get(2)).and_then(|n| usize::try_from(n).ok());
    let Some(n) = n.filter(|&n| n >= 1 && argv.len() == 3 + n) else {
        return bad(&argv);
    };
    let keys: Vec<&Vec<u8>> = std::iter::once(&argv[1]).chain(&argv[3..3 + n]).collect();
    eval(&format!("{ZSTORE}{ZDIFFSTORE}"), &keys, Vec::new())
}

/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]` (6.2): the range
/// read with the commands older releases have for it, stored.
const ZRANGESTORE: &str = "local src, a, b, by, rev = KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4] == 'REV' \
local lim = {} if ARGV[5] then lim = {'LIMIT', ARGV[5], ARGV[6]} end local m \
if by == 'BYSCORE' then \
m = redis.call(rev and 'ZREVRANGEBYSCORE' or 'ZRANGEBYSCORE', src, a, b, 'WITHSCORES', unpack(lim)) \
elseif by == 'BYLEX' then m = {} \
for _, x in ipairs(redis.call(rev and 'ZREVRANGEBYLEX' or 'ZRANGEBYLEX', src, a, b, unpack(lim))) do \
m[#m + 1] = x m[#m + 1] = redis.call('ZSCORE', src, x) end \
else m = redis.call(rev and 'ZREVRANGE' or 'ZRANGE', src, a, b, 'WITHSCORES') end \
return store(KEYS[1], m)";

pub fn zrangestore(argv: Vec<Vec<u8>>) -> Action {
    if argv.len() < 5 {
        return bad(&argv);
    }
    let (mut by, mut rev, mut limit) = ("-", "-", None);
    let mut i = 5;
    while i < argv.len() {
        let a = &argv[i];
        if is(a, "BYSCORE") {
            by = "BYSCORE";
        } else if is(a, "BYLEX") {
            by = "BYLEX";
        } else if is(a, "REV") {
            rev = "REV";
        } else if is(a, "LIMIT") && i + 2 < argv.len() {
            limit = Some((argv[i + 1].clone(), argv[i + 2].clone()));
            i += 2;
        } else {
            return bad(&argv);
        }
        i += 1;
    }
    let mut args = vec![argv[3].clone(), argv[4].clone(), bytes(by), bytes(rev)];
    if let Some((off, count)) = limit {
        args.extend([off, count]);
    }
    eval(
        &format!("{ZSTORE}{ZRANGESTORE}"),
        &[&argv[1], &argv[2]],
        args,
    )
}

/// `GEOSEARCHSTORE dst src FROMMEMBER m|FROMLONLAT lon lat BYRADIUS r unit [ASC|DESC]
/// [COUNT n] [STOREDIST]` (6.2) is `GEORADIUSBYMEMBER`/`GEORADIUS … STORE|STOREDIST dst`, the
/// same search; `BYBOX` and `COUNT … ANY` have no such equivalent.
pub fn geosearchstore(argv: Vec<Vec<u8>>) -> Action {
    if argv.len() < 3 {
        return bad(&argv);
    }
    let (mut from, mut radius, mut order, mut count, mut dist) = (None, None, None, None, false);
    let mut i = 3;
    let arg = |j: usize| argv.get(j).cloned();
    while i < argv.len() {
        let a = &argv[i];
        if is(a, "FROMMEMBER") {
            from = arg(i + 1).map(|m| vec![m]);
            i += 2;
        } else if is(a, "FROMLONLAT") {
            from = arg(i + 1).zip(arg(i + 2)).map(|(x, y)| vec![x, y]);
            i += 3;
        } else if is(a, "BYRADIUS") {
            radius = arg(i + 1).zip(arg(i + 2));
            i += 3;
        } else if is(a, "ASC") || is(a, "DESC") {
            order = Some(a.clone());
            i += 1;
        } else if is(a, "COUNT") {
            count = arg(i + 1);
            i += 2;
        } else if is(a, "STOREDIST") {
            dist = true;
            i += 1;
        } else if is(a, "BYBOX") || is(a, "ANY") {
            let what = String::from_utf8_lossy(a).to_uppercase();
            return Action::Refuse(format!(
                "the target has no GEOSEARCHSTORE command, and its GEORADIUS has no {what}"
            ));
        } else {
            return bad(&argv);
        }
    }
    let (Some(from), Some((r, unit))) = (from, radius) else {
        return bad(&argv);
    };
    let by_member = from.len() == 1;
    let mut out = vec![
        bytes(if by_member {
            "GEORADIUSBYMEMBER"
        } else {
            "GEORADIUS"
        }),
        argv[2].clone(),
    ];
    out.extend(from);
    out.extend([r, unit]);
    out.extend(order);
    if let Some(n) = count {
        out.extend([bytes("COUNT"), n]);
    }
    out.extend([
        bytes(if dist { "STOREDIST" } else { "STORE" }),
        argv[1].clone(),
    ]);
    Action::Send(vec![out])
}

/// `COPY src dst [DB n] [REPLACE]` (6.2): the key's `DUMP` restored under the new name, with
/// what is left of its TTL, in database `n` if named (a script's `SELECT` is its own).
const COPY: &str = "local v = redis.call('DUMP', KEYS[1]) if not v then return 0 end \
local ttl = redis.call('PTTL', KEYS[1]) if ttl < 0 then ttl = 0 end \
if ARGV[1] ~= '' then redis.call('SELECT', ARGV[1]) end \
if ARGV[2] == 'REPLACE' then redis.call('RESTORE', KEYS[2], ttl, v, 'REPLACE') \
else redis.call('RESTORE', KEYS[2], ttl, v) end return 1";

pub fn copy(argv: Vec<Vec<u8>>) -> Action {
    if argv.len() < 3 {
        return bad(&argv);
    }
    let (mut db, mut replace) = (Vec::new(), Vec::new());
    let mut i = 3;
    while i < argv.len() {
        if is(&argv[i], "DB") && i + 1 < argv.len() {
            db = argv[i + 1].clone();
            i += 2;
        } else if is(&argv[i], "REPLACE") {
            replace = bytes("REPLACE");
            i += 1;
        } else {
            return bad(&argv);
        }
    }
    eval(COPY, &[&argv[1], &argv[2]], vec![db, replace])
}

/// `ZADD … GT|LT … score member …` (6.2) with several members: each member added where it is
/// new (unless `XX`), updated where its new score is greater (`GT`) or less (`LT`).
const ZADD_COND: &str = "local gt, xx = ARGV[1] == 'GT', ARGV[2] == 'XX' \
for i = 3, #ARGV, 2 do local cur = redis.call('ZSCORE', KEYS[1], ARGV[i + 1]) \
if cur then local n, c = tonumber(ARGV[i]), tonumber(cur) \
if (gt and n > c) or (not gt and n < c) then redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end \
elseif not xx then redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end end return 1";

/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member …` on a target without `GT`/`LT`: one
/// member is updated only where the condition held (the source propagates only a change), so
/// the condition is dropped; several go through the script.
pub fn zadd_cond(argv: Vec<Vec<u8>>) -> Action {
    let flags = argv
        .iter()
        .skip(2)
        .take_while(|a| {
            ["NX", "XX", "GT", "LT", "CH", "INCR"]
                .iter()
                .any(|f| is(a, f))
        })
        .count();
    let pairs = &argv[(2 + flags).min(argv.len())..];
    let cond = argv[2..2 + flags]
        .iter()
        .find(|a| is(a, "GT") || is(a, "LT"));
    let Some(cond) = cond.cloned() else {
        return Action::Send(vec![argv]);
    };
    if pairs.len() == 2 {
        let out = argv
            .iter()
            .enumerate()
            .filter(|(i, a)| !(*i >= 2 && *i < 2 + flags && (is(a, "GT") || is(a, "LT"))))
            .map(|(_, a)| a.clone())
            .collect();
        return Action::Send(vec![out]);
    }
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return bad(&argv);
    }
    let xx = argv[2..2 + flags].iter().any(|a| is(a, "XX"));
    let mut args = vec![
        cond.to_ascii_uppercase(),
        bytes(if xx { "XX" } else { "-" }),
    ];
    args.extend(pairs.iter().cloned());
    eval(ZADD_COND, &[&argv[1]], args)
}

/// Deletes the entries of stream `KEYS[1]` before ID `ARGV[1]` (a `MINID` trim, 6.2); the
/// entry at that ID, if any, stays. `XRANGE`'s end is inclusive, so that entry is read first
/// to be told apart by its own ID.
const XTRIM_MINID: &str = "local function trim(k, min) \
if not string.find(min, '-', 1, true) then min = min .. '-0' end \
local at = redis.call('XRANGE', k, min, min) local keep = at[1] and at[1][1] local n = 0 \
while true do local ids = {} \
for _, e in ipairs(redis.call('XRANGE', k, '-', min, 'COUNT', 1000)) do \
if e[1] ~= keep then ids[#ids + 1] = e[1] end end \
if #ids == 0 then return n end n = n + redis.call('XDEL', k, unpack(ids)) end end ";

/// `XTRIM key MINID = id` on a target before 6.2.
pub fn xtrim_minid(key: &[u8], min: &[u8]) -> Action {
    eval(
        &format!("{XTRIM_MINID}return trim(KEYS[1], ARGV[1])"),
        &[&key.to_vec()],
        vec![min.to_vec()],
    )
}

/// `XADD key MINID = id <id> field value …` on a target before 6.2: the entry added, then
/// the trim, in that order as XADD does. The `XADD` goes as a command of its own (the batch's
/// `MULTI` keeps the two together): an entry of more than ~4,000 fields passed through a
/// script would overflow Lua's `unpack`.
pub fn xadd_minid(key: &[u8], min: &[u8], rest: &[Vec<u8>]) -> Action {
    let mut xadd = vec![bytes("XADD"), key.to_vec()];
    xadd.extend(rest.iter().cloned());
    match xtrim_minid(key, min) {
        Action::Send(mut cmds) => {
            cmds.insert(0, xadd);
            Action::Send(cmds)
        }
        other => other,
    }
}

/// `MSETEX n k v … [NX|XX] [EX|PX|EXAT|PXAT t|KEEPTTL]` (Valkey 9.1): one `SET k v [expiry]`
/// per key (in the batch's `MULTI`, so together as MSETEX); `NX`/`XX` held on the source.
pub fn msetex(argv: Vec<Vec<u8>>) -> Result<Vec<Vec<Vec<u8>>>, Action> {
    let n = int(argv.get(1)).and_then(|n| usize::try_from(n).ok());
    let Some(n) = n.filter(|&n| n >= 1 && argv.len() >= 2 + 2 * n) else {
        return Err(bad(&argv));
    };
    let mut expiry = Vec::new();
    let mut i = 2 + 2 * n;
    while i < argv.len() {
        let a = &argv[i];
        if is(a, "NX") || is(a, "XX") {
            i += 1;
        } else if is(a, "KEEPTTL") {
            expiry = vec![a.clone()];
            i += 1;
        } else if ["EX", "PX", "EXAT", "PXAT"].iter().any(|o| is(a, o)) && i + 1 < argv.len() {
            expiry = vec![a.clone(), argv[i + 1].clone()];
            i += 2;
        } else {
            return Err(bad(&argv));
        }
    }
    Ok(argv[2..2 + 2 * n]
        .chunks(2)
        .map(|kv| {
            let mut set = vec![bytes("SET"), kv[0].clone(), kv[1].clone()];
            set.extend(expiry.iter().cloned());
            set
        })
        .collect())
}

/// `HGETDEL key FIELDS n f…` (Redis 8.0, Valkey 9.0): `HDEL key f…`.
pub fn hgetdel(argv: Vec<Vec<u8>>) -> Action {
    let n = int(argv.get(3)).and_then(|n| usize::try_from(n).ok());
    match n {
        Some(n) if n >= 1 && argv.len() == 4 + n && is(&argv[2], "FIELDS") => {
            let mut out = vec![bytes("HDEL"), argv[1].clone()];
            out.extend(argv[4..].iter().cloned());
            Action::Send(vec![out])
        }
        _ => bad(&argv),
    }
}

/// `DELIFEQ key value` (Valkey 9.0; its sources propagate a `DEL`): `DEL key`.
pub fn delifeq(argv: Vec<Vec<u8>>) -> Action {
    if argv.len() != 3 {
        return bad(&argv);
    }
    Action::Send(vec![vec![bytes("DEL"), argv[1].clone()]])
}

/// Where `FIELDS` stands in `HSETEX`/`HGETEX key … FIELDS n …`: looked for after the key,
/// which may itself be named "fields".
pub fn fields_at(argv: &[Vec<u8>]) -> Option<usize> {
    argv.iter()
        .skip(2)
        .position(|a| is(a, "FIELDS"))
        .map(|i| i + 2)
}

/// The field-expiry command that does what an `HSETEX`/`HGETEX` expiry option does.
fn field_expiry(option: &[u8]) -> Option<&'static str> {
    [
        ("EX", "HEXPIRE"),
        ("PX", "HPEXPIRE"),
        ("EXAT", "HEXPIREAT"),
        ("PXAT", "HPEXPIREAT"),
    ]
    .into_iter()
    .find(|(o, _)| is(option, o))
    .map(|(_, cmd)| cmd)
}

/// `HSETEX key [FNX|FXX] [EX|PX|EXAT|PXAT t|KEEPTTL] FIELDS n field value …` (Redis 8.0; 8.x
/// propagates `PXAT`) on a target with field TTLs but not the command (Redis 7.4): `HSET`, then
/// the option's expiry on those fields (`HPEXPIREAT` and kin), or `HPERSIST` where there is none
/// (`HSETEX` without one leaves the fields without TTLs), in the batch's `MULTI`. `KEEPTTL`: a
/// script that puts each field's TTL back after its `HSET` (which clears it on 7.4).
/// `FNX`/`FXX` are dropped (see above).
pub fn hsetex(argv: Vec<Vec<u8>>) -> Action {
    let Some(at) = fields_at(&argv) else {
        return bad(&argv);
    };
    let pairs = &argv[(at + 2).min(argv.len())..];
    let n = int(argv.get(at + 1)).and_then(|n| usize::try_from(n).ok());
    if n.is_none_or(|n| n == 0 || pairs.len() != 2 * n) {
        return bad(&argv);
    }
    let mut expiry: Option<(&str, &Vec<u8>)> = None;
    let mut keep = false;
    let mut i = 2;
    while i < at {
        let a = &argv[i];
        match (field_expiry(a), argv.get(i + 1)) {
            (Some(cmd), Some(t)) if i + 1 < at => {
                expiry = Some((cmd, t));
                i += 2;
            }
            _ if is(a, "FNX") || is(a, "FXX") => i += 1,
            _ if is(a, "KEEPTTL") => {
                keep = true;
                i += 1;
            }
            _ => return bad(&argv),
        }
    }
    if keep {
        return eval(HSET_KEEPTTL, &[&argv[1]], pairs.to_vec());
    }
    let mut hset = vec![bytes("HSET"), argv[1].clone()];
    hset.extend_from_slice(pairs);
    let mut ttl = match expiry {
        Some((cmd, t)) => vec![bytes(cmd), argv[1].clone(), t.clone()],
        None => vec![bytes("HPERSIST"), argv[1].clone()],
    };
    ttl.push(bytes("FIELDS"));
    ttl.push(argv[at + 1].clone());
    ttl.extend(pairs.iter().step_by(2).cloned());
    Action::Send(vec![hset, ttl])
}

/// `HSETEX … KEEPTTL` on 7.4: each field's expiry read, the fields set, the expiries put back
/// (one field a call: no `unpack`, whose limit a wide command would pass).
const HSET_KEEPTTL: &str = "local at = {} \
for i = 1, #ARGV, 2 do at[i] = redis.call('HPEXPIRETIME', KEYS[1], 'FIELDS', 1, ARGV[i])[1] end \
for i = 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end \
for i = 1, #ARGV, 2 do if at[i] > 0 then \
redis.call('HPEXPIREAT', KEYS[1], at[i], 'FIELDS', 1, ARGV[i]) end end return 0";

/// `HGETEX key [EX|PX|EXAT|PXAT t|PERSIST] FIELDS n field …` (Redis 8.0, which propagates it as
/// `HPEXPIREAT`/`HPERSIST`; a Valkey 9 source may not) on a target with field TTLs but not the
/// command (7.4): what it did to the fields' TTLs, or nothing for a plain read.
pub fn hgetex(argv: Vec<Vec<u8>>) -> Action {
    let Some(at) = fields_at(&argv) else {
        return bad(&argv);
    };
    let n = int(argv.get(at + 1)).and_then(|n| usize::try_from(n).ok());
    if n.is_none_or(|n| n == 0 || argv.len() != at + 2 + n) {
        return bad(&argv);
    }
    let mut out = match &argv[2..at] {
        [] => return Action::Dropped("HGETEX without an expiry option (a read)"),
        [p] if is(p, "PERSIST") => vec![bytes("HPERSIST"), argv[1].clone()],
        [o, t] => match field_expiry(o) {
            Some(cmd) => vec![bytes(cmd), argv[1].clone(), t.clone()],
            None => return bad(&argv),
        },
        _ => return bad(&argv),
    };
    out.extend_from_slice(&argv[at..]);
    Action::Send(vec![out])
}

/// `SPUBLISH channel message` (7.0) on a target without shard channels: nobody there can be
/// subscribed to one, so the message reaches no one; counted, not sent.
pub fn spublish(_argv: Vec<Vec<u8>>) -> Action {
    Action::Dropped("SPUBLISH on a target without shard channels (no subscriber to reach)")
}

/// Where `IDS` starts after the reference option of Redis 8.2's stream commands, if any, at
/// `i`: past `KEEPREF` (what older releases do); `Err` naming `DELREF`/`ACKED` (which they
/// cannot do).
fn past_ref(argv: &[Vec<u8>], i: usize) -> Result<usize, String> {
    match argv.get(i) {
        Some(a) if is(a, "KEEPREF") => Ok(i + 1),
        Some(a) if is(a, "DELREF") || is(a, "ACKED") => {
            Err(String::from_utf8_lossy(a).to_uppercase())
        }
        _ => Ok(i),
    }
}

/// `… IDS n id…` from argument `at`: the IDs.
fn ids(argv: &[Vec<u8>], at: usize) -> Option<&[Vec<u8>]> {
    let n = usize::try_from(int(argv.get(at + 1))?).ok()?;
    (argv.get(at).is_some_and(|a| is(a, "IDS")) && n >= 1 && argv.len() == at + 2 + n)
        .then(|| &argv[at + 2..])
}

/// `XDELEX key [KEEPREF] IDS n id…` (Redis 8.2): `XDEL key id…`.
pub fn xdelex(argv: Vec<Vec<u8>>) -> Action {
    let at = match past_ref(&argv, 2) {
        Ok(at) => at,
        Err(o) => {
            return Action::Refuse(format!(
                "the target has no XDELEX command, and its XDEL cannot do {o}"
            ))
        }
    };
    let Some(ids) = ids(&argv, at) else {
        return bad(&argv);
    };
    let mut out = vec![bytes("XDEL"), argv[1].clone()];
    out.extend(ids.iter().cloned());
    Action::Send(vec![out])
}

/// `XACKDEL key group [KEEPREF] IDS n id…` (Redis 8.2): `XACK key group id…`, then
/// `XDEL key id…`.
pub fn xackdel(argv: Vec<Vec<u8>>) -> Action {
    let at = match past_ref(&argv, 3) {
        Ok(at) => at,
        Err(o) => {
            return Action::Refuse(format!(
                "the target has no XACKDEL command, and XACK with XDEL cannot do {o}"
            ))
        }
    };
    let (Some(ids), Some(group)) = (ids(&argv, at), argv.get(2)) else {
        return bad(&argv);
    };
    let mut ack = vec![bytes("XACK"), argv[1].clone(), group.clone()];
    ack.extend(ids.iter().cloned());
    let mut del = vec![bytes("XDEL"), argv[1].clone()];
    del.extend(ids.iter().cloned());
    Action::Send(vec![ack, del])
}

/// `XGROUP CREATECONSUMER key group consumer` (6.2): `XREADGROUP … STREAMS key 0`, which
/// creates the consumer and reads only its own pending entries (none: it is new).
pub fn createconsumer(argv: Vec<Vec<u8>>) -> Action {
    if argv.len() != 5 {
        return bad(&argv);
    }
    Action::Send(vec![vec![
        bytes("XREADGROUP"),
        bytes("GROUP"),
        argv[3].clone(),
        argv[4].clone(),
        bytes("COUNT"),
        bytes("1"),
        bytes("STREAMS"),
        argv[2].clone(),
        bytes("0"),
    ]])
}
