//! The write plan: which writer each value takes, decided once from the decoded value and the
//! host ([`path`]), and the key-API writers.
//!
//! - [`Path::ServerRestore`]: the server's own `RESTORE`, called from the module with a payload
//!   this host reads (`native.rs`; `payload_for_target` re-encodes only where the layout must
//!   change). The server adopts listpacks, intsets and quicklist nodes whole, sizes tables once
//!   and fires native's events: every class measured at or below the key API's cost on 7.0.15,
//!   8.2.3 and Valkey 9.1.2 (README, Performance), and the only way to write streams and module
//!   values exactly. No delete-first: the server replaces the old value only once the new one
//!   has loaded, all or nothing.
//! - [`Path::KeyApi`]: when the built-in `RESTORE` is renamed or disabled. Each writer starts
//!   from an absent key (the old value is deleted first) and creates it with its first write
//!   (the server's `dbAdd`: the `new` event). Strings that are canonical integers go through
//!   `SET` so the server int-encodes them; sets go through `SADD` because the API has no set
//!   writer; on 7.2+ and Valkey large hashes go in with one `HSET`, and Valkey's large zsets are
//!   sized by a `ZADD` first, because only a command sizes a table as native does. A write
//!   refused half-way leaves no partial key (the command's guard). Streams and module values
//!   cannot be written this way: an error names the reason.

use restore_core::decode::value::{canonical_i64, Element, Hash, IntBuf, Set, SortedSet, Value};
use restore_core::decode::{Checks, Decoded};

use super::errors::{Reply, Unsupported};
use super::fault;
use super::ffi::{self, Ctx, Key, OwnedString, RString};
use super::field_ttl;
use super::native;

/// Members per SADD call. One call for all members lets 7.2+ size the set once (its dict is
/// then as compact as native's); the bound keeps the argument vector sane for huge sets.
const SADD_BATCH: usize = 1 << 20;

/// Which writer a value takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// The server's own RESTORE, fed a payload this host reads.
    ServerRestore,
    /// The module key API (and SET/SADD/HSET/ZADD), element by element.
    KeyApi,
}

/// What the decoder checks. A value handed to the server whole is checked in full: with
/// `sanitize-dump-payload no` (the default) the server trusts a listpack's entries to be
/// distinct. The key API's writers find a repeated element themselves; the decoder checks
/// for one only when there is an old value to protect (REPLACE of an existing key).
pub fn checks(ctx: Ctx, existed: bool) -> Checks {
    Checks {
        duplicates: existed || native::available(ctx),
    }
}

/// The path for `value` on this host, by measurement (`make profile`, README): the server's
/// RESTORE wherever it is callable, except for strings that are not integers, which one
/// `StringSet` writes for less than the call costs (the same encoding, memory and events as
/// native: `new`, then `restore`). On Redis 6.0 (no `SetAbsExpire`) such a string with a TTL
/// goes to RESTORE too: only there is its expiry exactly the one the replicas and the AOF get.
pub fn path(ctx: Ctx, value: &Value<'_>, has_ttl: bool) -> Path {
    if !native::available(ctx) {
        return Path::KeyApi;
    }
    match value {
        Value::String(s) if !is_integer(s.as_element()) && (!has_ttl || ffi::has_abs_expire()) => {
            Path::KeyApi
        }
        _ => Path::ServerRestore,
    }
}

/// Whether the server stores this string as an integer (`int` encoding; native RESTORE does).
fn is_integer(e: Element<'_>) -> bool {
    match e {
        Element::Int(_) => true,
        Element::Bytes(b) => b.len() <= 20 && canonical_i64(b).is_some(),
    }
}

/// Converts an element into a new string object.
fn element_string(ctx: Ctx, e: Element<'_>) -> OwnedString {
    let mut buf: IntBuf = [0; 20];
    OwnedString::new(ctx, e.bytes(&mut buf))
}

fn failed(what: impl Into<String>) -> Reply {
    Reply::WriteFailed(what.into())
}

/// A `-0` score that the key API would store as `0` on 7.0+ and Valkey (the server's own RESTORE
/// keeps it; this is the key-API path only).
fn negative_zero_lost_by_api(ctx: Ctx, zset: &SortedSet<'_>) -> bool {
    zset.negative_zero && super::host::host(ctx).rdb_version >= 10
}

/// Through the key API on 7.0+ a -0 score added while the zset was a listpack became 0, and
/// stayed 0 when the zset became a skiplist. In a skiplist it is removed and added again, which
/// keeps its sign; in a listpack nothing can.
fn keep_negative_zeros(ctx: Ctx, key: RString, k: &Key, zset: &SortedSet<'_>) -> Result<(), Reply> {
    if !negative_zero_lost_by_api(ctx, zset) {
        return Ok(());
    }
    let subcommand = OwnedString::new(ctx, b"ENCODING");
    let encoding = ffi::call(ctx, c"OBJECT", &[subcommand.as_ptr(), key]).string();
    if encoding.as_deref() != Some(b"skiplist") {
        return Ok(());
    }
    zset.for_each(|m, score| {
        if restore_core::decode::score::is_negative_zero(score) {
            let member = element_string(ctx, m);
            k.zset_rem(&member).map_err(failed)?;
            k.zset_add(score, &member).map_err(failed)?;
        }
        Ok(())
    })
}
/// Writes `value` under the absent `key` through `k` (the key opened for writing) and the
/// key API. `now` is read only when the value [`has_field_ttls`]. On error the caller removes
/// any partial key.
/// Writers that call a command (`SET`, `HSET`, `ZADD`, `SADD`) close `k` first: the command
/// changes the key under the handle.
pub fn write_with_api(
    ctx: Ctx,
    key: RString,
    k: Key,
    value: &Value<'_>,
    now: i64,
) -> Result<(), Reply> {
    match value {
        Value::String(s) => write_string(ctx, key, k, s.as_element()),
        Value::List(list) => {
            let mut writes = fault::Writes::new(key);
            list.for_each(|e| {
                writes.next()?;
                k.list_push_tail(&element_string(ctx, e)).map_err(failed)
            })
        }
        Value::Hash(hash) => {
            if sized_by_one_call(ctx, hash.len, c"hash-max-listpack-entries") {
                drop(k);
                write_hash_in_one_call(ctx, key, hash, now)?;
            } else {
                write_hash_by_field(ctx, key, k, hash, now)?;
            }
            if hash.has_field_ttls() {
                field_ttl::apply(ctx, key, hash, now)?;
            }
            Ok(())
        }
        Value::SortedSet(zset) => write_zset(ctx, key, k, zset),
        Value::Set(set) => {
            drop(k);
            write_set(ctx, key, set)
        }
        // Refused by `preflight` on this path.
        Value::Stream(_) | Value::Module(_) | Value::Array(_) | Value::PathHash(_) => {
            Err(Reply::BadData)
        }
    }
}

/// One HSET of every live field: on 7.2+ and Valkey it sizes the table for all of them.
fn write_hash_in_one_call(ctx: Ctx, key: RString, hash: &Hash<'_>, now: i64) -> Result<(), Reply> {
    let mut argv = Vec::with_capacity(2 * hash.len);
    hash.for_each(|f, v, ttl| {
        if field_ttl::is_live(ttl, now) {
            argv.push(element_string(ctx, f));
            argv.push(element_string(ctx, v));
        }
        Ok::<_, Reply>(())
    })?;
    call_with_key(ctx, c"HSET", key, &argv, (argv.len() / 2) as i64)
}

/// HashSet of every live field through the open key `k`.
fn write_hash_by_field(
    ctx: Ctx,
    key: RString,
    k: Key,
    hash: &Hash<'_>,
    now: i64,
) -> Result<(), Reply> {
    let mut placeholder = table_placeholder(ctx, hash, now);
    if let Some((name, value)) = &placeholder {
        k.hash_set(name, value).map_err(failed)?;
    }
    let mut writes = fault::Writes::new(key);
    let mut written = 0usize;
    hash.for_each(|f, v, ttl| {
        if !field_ttl::is_live(ttl, now) {
            return Ok(()); // already expired: not restored
        }
        writes.next()?;
        written += 1;
        let updated = k
            .hash_set(&element_string(ctx, f), &element_string(ctx, v))
            .map_err(failed)?;
        if let Some((name, _)) = placeholder.take() {
            // The hash is a table now and has a real field: the placeholder goes, unless that
            // field had its name (then it is the real field's value).
            if !updated {
                k.hash_delete(&name).map_err(failed)?;
            }
            return Ok(());
        }
        if updated {
            return Err(Reply::BadData); // validated away; never trust a second copy
        }
        Ok(())
    })?;
    // HashSet looks the field up, then adds it: two rehash steps per field.
    let lookups = rehash_lookups_needed(ctx, key, written, 2, b"hashtable");
    repeat_lookup(ctx, lookups, |probe| k.hash_has_field(probe));
    Ok(())
}

/// ZsetAdd of every member, with the decoded doubles, through the open key `k`.
fn write_zset(ctx: Ctx, key: RString, mut k: Key, zset: &SortedSet<'_>) -> Result<(), Reply> {
    // Highest score first: a listpack-encoded zset then takes each member at its head instead
    // of walking (and re-parsing every score of) the whole listpack per insert.
    let mut members: Vec<(Element<'_>, f64)> = Vec::with_capacity(zset.len);
    zset.for_each(|m, score| {
        members.push((m, score));
        Ok::<_, Reply>(())
    })?;
    members.sort_by(|a, b| b.1.total_cmp(&a.1));
    if members.iter().any(|(_, s)| s.is_nan()) {
        return Err(Reply::BadData);
    }
    // ZsetAdd looks each member up, then adds it: a growing table. On Redis that ends mid-move,
    // which lookups finish afterwards (two rehash steps per member); Valkey's table can end up
    // to 18% larger than native's, so there one ZADD of the first member repeated once per
    // member sizes it first. (A ZADD of all members would size it too, but printing every score
    // and parsing it back costs 1.5x the whole restore.)
    let mut rest = &members[..];
    if super::host::host(ctx).valkey
        && sized_by_one_call(ctx, members.len(), c"zset-max-listpack-entries")
    {
        drop(k);
        let (first, score) = members[0];
        // Rust prints the shortest text that parses back to the same double; the server's
        // strtod reads it exactly (inf, -inf and -0 included).
        let pair = [
            OwnedString::new(ctx, score.to_string().as_bytes()),
            element_string(ctx, first),
        ];
        let mut argv: Vec<RString> = Vec::with_capacity(1 + 2 * members.len());
        argv.push(key);
        for _ in 0..members.len() {
            argv.extend(pair.iter().map(OwnedString::as_ptr));
        }
        let reply = ffi::call(ctx, c"ZADD", &argv);
        if let Some(e) = reply.error() {
            return Err(failed(e));
        }
        if reply.integer() != Some(1) {
            return Err(failed("ZADD sizing the table did not add one member"));
        }
        rest = &members[1..];
        k = Key::open(ctx, key, ffi::MODE_WRITE);
    } else if super::host::zset_add_first_long_member_crashes() && !members.is_empty() {
        // Redis 6.0: ZsetAdd into an empty key converts its new, empty ziplist when the first
        // member does not fit one, and that conversion asserts: ZADD picks the encoding first.
        drop(k);
        let (first, score) = members[0];
        let pair = [
            OwnedString::new(ctx, score.to_string().as_bytes()),
            element_string(ctx, first),
        ];
        let argv = [key, pair[0].as_ptr(), pair[1].as_ptr()];
        if let Some(e) = ffi::call(ctx, c"ZADD", &argv).error() {
            return Err(failed(e));
        }
        rest = &members[1..];
        k = Key::open(ctx, key, ffi::MODE_WRITE);
    }
    let mut writes = fault::Writes::new(key);
    rest.iter().try_for_each(|&(m, score)| {
        writes.next()?;
        match k.zset_add(score, &element_string(ctx, m)) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Reply::BadData),
            Err(e) => Err(failed(e)),
        }
    })?;
    keep_negative_zeros(ctx, key, &k, zset)?;
    let lookups = rehash_lookups_needed(ctx, key, members.len(), 2, b"skiplist");
    repeat_lookup(ctx, lookups, |probe| k.zset_has_member(probe));
    Ok(())
}

/// Whether the server's HSET/SADD size a new value's table for all the elements of the call
/// (7.2+, Valkey): 7.0's grow it as elements arrive.
fn commands_size_tables(ctx: Ctx) -> bool {
    let host = super::host::host(ctx);
    host.valkey || host.rdb_version >= 11
}

/// 7.0 keeps a new hash in a listpack until it outgrows `hash-max-listpack-entries`, and
/// `HashSet` searches that listpack for every field before adding it (7.0's `lpFind`: a third of
/// a 10k-field restore), where native loads a hash that large straight into a table. This is a
/// field whose value is longer than `hash-max-listpack-value`: written first, it makes the hash
/// a table at once, and it is deleted once the first real field is in. `None` for hashes that
/// stay listpacks, and when the limit is too large to exceed cheaply.
///
/// Only on 7.0 (7.2+ and Valkey write hashes past the limit with one HSET, never here), and only
/// for hashes of at least `MIN_FIELDS`: reading the limit is a `CONFIG GET` (~10k instructions,
/// more than a small hash's whole restore), and a shorter listpack phase costs less than that.
/// Skipping it only ever costs time: HashSet converts the hash itself.
fn table_placeholder(ctx: Ctx, hash: &Hash<'_>, now: i64) -> Option<(OwnedString, OwnedString)> {
    const NAME: &[u8] = b"\0restore.asking placeholder";
    const MAX_VALUE: usize = 64 * 1024;
    const MIN_FIELDS: usize = 128;
    if commands_size_tables(ctx) || hash.len < MIN_FIELDS {
        return None;
    }
    let live = if hash.has_field_ttls() {
        field_ttl::live_fields(hash, now)
    } else {
        hash.len
    };
    if live <= config_usize(ctx, c"hash-max-listpack-entries")? {
        return None;
    }
    let value_limit = config_usize(ctx, c"hash-max-listpack-value")?;
    if value_limit >= MAX_VALUE {
        return None;
    }
    Some((
        OwnedString::new(ctx, NAME),
        OwnedString::new(ctx, &vec![b'x'; value_limit + 1]),
    ))
}

/// A numeric config of this server (`CONFIG GET`).
fn config_usize(ctx: Ctx, name: &std::ffi::CStr) -> Option<usize> {
    let get = OwnedString::new(ctx, b"GET");
    let name = OwnedString::new(ctx, name.to_bytes());
    ffi::call(ctx, c"CONFIG", &[get.as_ptr(), name.as_ptr()])
        .array_string(1)
        .and_then(|v| std::str::from_utf8(&v).ok()?.parse::<usize>().ok())
}

/// Whether a value of `len` elements is sized by one command (HSET; on Valkey, the sizing ZADD):
/// where the command sizes the table once, as native RESTORE does (adding elements one by one
/// leaves it mid-resize: up to 15% more memory, measured). Only for values past the listpack
/// limit (`config`): small ones are listpacks either way and keep the event-free key API.
fn sized_by_one_call(ctx: Ctx, len: usize, config: &std::ffi::CStr) -> bool {
    if !commands_size_tables(ctx) {
        return false;
    }
    len > config_usize(ctx, config).unwrap_or(usize::MAX)
}

/// Calls `cmd key args...` and checks that it added `expected` new elements (anything else
/// means a duplicate slipped through, which is never half-trusted).
fn call_with_key(
    ctx: Ctx,
    cmd: &std::ffi::CStr,
    key: RString,
    args: &[OwnedString],
    expected: i64,
) -> Result<(), Reply> {
    let mut argv: Vec<RString> = Vec::with_capacity(args.len() + 1);
    argv.push(key);
    argv.extend(args.iter().map(OwnedString::as_ptr));
    let reply = ffi::call(ctx, cmd, &argv);
    if let Some(e) = reply.error() {
        return Err(failed(e));
    }
    if reply.integer() != Some(expected) {
        return Err(Reply::BadData);
    }
    Ok(())
}

fn write_string(ctx: Ctx, key: RString, k: Key, value: Element<'_>) -> Result<(), Reply> {
    let mut buf: IntBuf = [0; 20];
    let bytes = value.bytes(&mut buf);
    if canonical_i64(bytes).is_some() {
        drop(k);
        // Only SET int-encodes (and shares 0..9999), which is what native RESTORE stores.
        let reply = ffi::call_set(ctx, key, bytes);
        return match reply.error() {
            None => Ok(()),
            Some(e) => Err(failed(e)),
        };
    }
    k.string_set(&OwnedString::new(ctx, bytes)).map_err(failed)
}

fn write_set(ctx: Ctx, key: RString, set: &Set<'_>) -> Result<(), Reply> {
    let mut batch: Vec<OwnedString> = Vec::with_capacity(set.len.min(SADD_BATCH));
    let mut writes = fault::Writes::new(key);
    let mut flush = |batch: &mut Vec<OwnedString>| -> Result<(), Reply> {
        writes.next()?;
        call_with_key(ctx, c"SADD", key, batch, batch.len() as i64)?;
        batch.clear();
        Ok(())
    };
    set.for_each(|m| {
        batch.push(element_string(ctx, m));
        if batch.len() == SADD_BATCH {
            flush(&mut batch)?;
        }
        Ok::<_, Reply>(())
    })?;
    if !batch.is_empty() {
        flush(&mut batch)?;
    }
    // On 7.0, SADD adds each member with one rehash step. Lookups for a member that is not
    // there (SREM of it removes nothing, fires no event, and replies 0) finish the move.
    let lookups = if commands_size_tables(ctx) {
        0
    } else {
        rehash_lookups_needed(ctx, key, set.len, 1, b"hashtable")
    };
    if lookups > 0 {
        let probe = absent_member(ctx, key);
        let mut argv: Vec<RString> = Vec::with_capacity(lookups + 1);
        argv.push(key);
        argv.extend(std::iter::repeat_n(probe.as_ptr(), lookups));
        let reply = ffi::call(ctx, c"SREM", &argv);
        if reply.integer() != Some(0) {
            return Err(failed("SREM of an absent member removed something"));
        }
    }
    Ok(())
}

/// Looks a probe up `n` times (any probe: each lookup moves the table's rehash one step).
fn repeat_lookup(ctx: Ctx, n: usize, lookup: impl Fn(&OwnedString) -> bool) {
    if n > 0 {
        let probe = OwnedString::new(ctx, b"");
        (0..n).for_each(|_| {
            lookup(&probe);
        });
    }
}

/// A short string that is not a member of the set at `key`.
fn absent_member(ctx: Ctx, key: RString) -> OwnedString {
    let mut n = 0u64;
    loop {
        let probe = OwnedString::new(ctx, format!("\0restore.asking probe {n}").as_bytes());
        let reply = ffi::call(ctx, c"SISMEMBER", &[key, probe.as_ptr()]);
        if reply.integer() != Some(1) {
            return probe;
        }
        n += 1;
    }
}

/// Redis's dict grows a hash table by doubling when it is full, then moves the old table's
/// buckets to the new one a step per later insert or lookup. A value written element by element
/// (the module API has no size hint) therefore ends with the old table still allocated: 65 KB
/// more than native on a 10k-element hash, set or zset, 5-11% (native sizes the table once).
/// This returns how many lookups finish the move, from the growth rule: about 63% of the old
/// table's buckets hold entries (3/4 with margin), and each insert since the last growth moved
/// `steps_per_insert` of them. 0 on Valkey (its hashtable ends within 0.3% of native's, measured)
/// and when the value is not in a hash table (`encoding`, as OBJECT ENCODING names it).
fn rehash_lookups_needed(
    ctx: Ctx,
    key: RString,
    n: usize,
    steps_per_insert: usize,
    encoding: &[u8],
) -> usize {
    let host = super::host::host(ctx);
    if host.valkey || n < 16 {
        return 0;
    }
    let old_table = n.next_power_of_two() / 2;
    let since_growth = n - old_table;
    let needed = (old_table * 3 / 4).saturating_sub(steps_per_insert * since_growth);
    if needed == 0 {
        return 0;
    }
    let subcommand = OwnedString::new(ctx, b"ENCODING");
    let reply = ffi::call(ctx, c"OBJECT", &[subcommand.as_ptr(), key]);
    if reply.string().as_deref() != Some(encoding) {
        return 0;
    }
    needed + 64
}

/// Checks, before anything is deleted or written, that this server can hold `decoded` on
/// `path` (what `payload_for_target` would refuse, and what only the server's RESTORE writes).
pub fn preflight(ctx: Ctx, decoded: &Decoded<'_>, path: Path) -> Result<(), Reply> {
    // No module API attaches key metadata: classes the source marked ignorable are dropped,
    // as a server without the class drops them; any other refuses the restore, as it would.
    if let Some(class) = decoded.key_meta.iter().find(|c| !c.allow_ignore()) {
        return Err(Reply::Unsupported(Unsupported::KeyMetadata {
            class: class.name_str(),
            version: class.version(),
        }));
    }
    match &decoded.value {
        Value::Hash(h) if h.any_field_ttl() => field_ttl::preflight(ctx, h),
        Value::Array(a) if !super::host::host(ctx).has_arrays() => {
            Err(Reply::Unsupported(Unsupported::NoArrayType {
                elements: a.items.len(),
            }))
        }
        Value::PathHash(p) if !super::host::host(ctx).has_path_hashes() => {
            Err(Reply::Unsupported(Unsupported::NoPathHashType {
                paths: p.paths.len(),
                fields: p.fields,
            }))
        }
        Value::Stream(_) | Value::Module(_) | Value::Array(_) | Value::PathHash(_)
            if path == Path::KeyApi =>
        {
            let what = match decoded.value {
                Value::Stream(_) => "stream",
                Value::Module(_) => "module value",
                Value::PathHash(_) => "path hash",
                _ => "array",
            };
            Err(Reply::Unsupported(Unsupported::NeedsNativeRestore { what }))
        }
        _ => Ok(()),
    }
}

/// Whether `value` has field TTLs: the only part of a value compared with the clock.
pub fn has_field_ttls(value: &Value<'_>) -> bool {
    matches!(value, Value::Hash(h) if h.has_field_ttls())
}

/// Whether nothing of `value` would be written at `now` (every hash field already expired):
/// then the restore behaves like one whose key TTL already passed.
pub fn nothing_to_write(value: &Value<'_>, now: i64) -> bool {
    matches!(value, Value::Hash(h) if h.has_field_ttls() && field_ttl::live_fields(h, now) == 0)
}
