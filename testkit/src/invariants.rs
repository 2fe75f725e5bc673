//! What must hold for every value the decoder accepts, whatever bytes it came from.
//!
//! Used by the fuzz targets and by `core/tests/properties.rs`, so a property test and a fuzzer
//! check exactly the same things. Every check panics with a message naming the broken invariant: to
//! libFuzzer and proptest a panic is a finding.

use std::collections::HashSet;

use restore_core::decode::stream::{Stream, StreamId};
use restore_core::decode::value::{Element, ElementKey, Value};
use restore_core::decode::{DecodeError, Decoded};

/// Largest field expiry Redis can hold (`EB_EXPIRE_TIME_MAX`).
const EB_EXPIRE_TIME_MAX: u64 = (1 << 48) - 1;

/// An element's identity, owned, so it can outlive the walk that produced it.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Key {
    Int(i64),
    Bytes(Vec<u8>),
}

fn key(e: Element<'_>) -> Key {
    match e.key() {
        ElementKey::Int(i) => Key::Int(i),
        ElementKey::Bytes(b) => Key::Bytes(b.to_vec()),
    }
}

/// Walks every element of an accepted value and checks that the walk succeeds, agrees with the
/// value's `len`, and that the value is what native would hold: non-empty aggregates, unique
/// members and fields, no NaN score, field TTLs in range.
pub fn check_accepted(decoded: &Decoded<'_>) {
    match &decoded.value {
        Value::String(_) => {}
        Value::List(list) => {
            let mut n = 0usize;
            list.for_each(|_| {
                n += 1;
                Ok::<_, DecodeError>(())
            })
            .expect("an accepted list must walk");
            assert_eq!(
                n, list.len,
                "list: walked {n} elements, len says {}",
                list.len
            );
            assert!(n > 0, "accepted an empty list");
        }
        Value::Set(set) => {
            let mut seen = HashSet::new();
            let mut n = 0usize;
            set.for_each(|e| {
                n += 1;
                assert!(
                    seen.insert(key(e)),
                    "accepted a set with a duplicate member {e:?}"
                );
                Ok::<_, DecodeError>(())
            })
            .expect("an accepted set must walk");
            assert_eq!(n, set.len, "set: walked {n} members, len says {}", set.len);
            assert!(n > 0, "accepted an empty set");
        }
        Value::SortedSet(zset) => {
            let mut seen = HashSet::new();
            let mut n = 0usize;
            zset.for_each(|m, score| {
                n += 1;
                assert!(!score.is_nan(), "accepted a NaN score for {m:?}");
                assert!(
                    seen.insert(key(m)),
                    "accepted a sorted set with a duplicate member {m:?}"
                );
                Ok::<_, DecodeError>(())
            })
            .expect("an accepted sorted set must walk");
            assert_eq!(
                n, zset.len,
                "zset: walked {n} members, len says {}",
                zset.len
            );
            assert!(n > 0, "accepted an empty sorted set");
        }
        Value::Hash(hash) => {
            // Redis caps field expiries at 2^48 - 1 (and 0 means "none"); Valkey's `HASH_2` (type
            // 22 under a Valkey or re-stamped footer) takes any non-negative time, 0 included.
            let redis_ttls = decoded.type_id != 22 || (12..80).contains(&decoded.rdb_version);
            let ttl_range = if redis_ttls {
                1..=EB_EXPIRE_TIME_MAX
            } else {
                0..=i64::MAX as u64
            };
            let mut seen = HashSet::new();
            let mut n = 0usize;
            hash.for_each(|f, _, ttl| {
                n += 1;
                assert!(
                    seen.insert(key(f)),
                    "accepted a hash with a duplicate field {f:?}"
                );
                if let Some(t) = ttl {
                    assert!(
                        ttl_range.contains(&t),
                        "accepted field TTL {t} for {f:?} (type {})",
                        decoded.type_id
                    );
                }
                Ok::<_, DecodeError>(())
            })
            .expect("an accepted hash must walk");
            assert_eq!(
                n, hash.len,
                "hash: walked {n} fields, len says {}",
                hash.len
            );
            assert!(n > 0, "accepted an empty hash");
        }
        Value::Module(m) => {
            // The body runs up to and including the EOF opcode (a zero length byte).
            assert_eq!(m.body.last(), Some(&0), "module body does not end with EOF");
        }
        Value::Stream(stream) => check_stream(stream),
        Value::Array(array) => {
            assert!(!array.items.is_empty(), "accepted an empty array");
            let mut seen = HashSet::new();
            for (index, _) in &array.items {
                assert!(*index != u64::MAX, "accepted array index 2^64-1");
                assert!(
                    seen.insert(*index),
                    "accepted a repeated array index {index}"
                );
            }
        }
        Value::PathHash(tree) => {
            // An emptied tree is a value; a path never is without fields.
            assert_eq!(
                decoded.rdb_version, 81,
                "path hash under footer {}",
                decoded.rdb_version
            );
            let mut paths = HashSet::new();
            let mut total = 0;
            for p in &tree.paths {
                assert!(
                    paths.insert(key(p.path.as_element())),
                    "accepted a repeated path {:?}",
                    p.path
                );
                assert!(
                    !p.fields.is_empty(),
                    "accepted path {:?} with no fields",
                    p.path
                );
                let mut fields = HashSet::new();
                for (f, _) in &p.fields {
                    assert!(
                        fields.insert(key(f.as_element())),
                        "accepted a repeated field {f:?} in path {:?}",
                        p.path
                    );
                }
                total += p.fields.len();
            }
            assert_eq!(
                total, tree.fields,
                "path hash: {total} fields, the count says {}",
                tree.fields
            );
        }
    }
    for class in &decoded.key_meta {
        assert_eq!(
            class.body.last(),
            Some(&0),
            "key metadata value does not end with EOF"
        );
    }
}

/// An accepted stream walks cleanly in strictly increasing ID order, agrees with its metadata,
/// and its consumer groups are consistent: every group-PEL entry owned by exactly one consumer
/// (or, type 27 only, by the NACK zone), every consumer-PEL ID in the group PEL.
fn check_stream(s: &Stream<'_>) {
    assert!((1..=5).contains(&s.version), "stream version {}", s.version);
    let (mut live, mut total) = (0u64, 0u64);
    let mut prev: Option<StreamId> = None;
    s.for_each_entry(true, |id, deleted, _| {
        assert!(
            prev.is_none_or(|p| p < id),
            "stream entries out of order: {prev:?} then {id}"
        );
        prev = Some(id);
        total += 1;
        live += u64::from(!deleted);
        Ok::<_, DecodeError>(())
    })
    .expect("an accepted stream must walk");
    assert_eq!(
        live, s.length,
        "stream: {live} live entries, length says {}",
        s.length
    );
    let counted: u64 = s
        .nodes
        .iter()
        .map(|n| n.counts.live + n.counts.deleted)
        .sum();
    assert_eq!(
        total, counted,
        "stream: walked {total} entries, node counts say {counted}"
    );
    if let Some(max) = prev {
        assert!(max <= s.last_id, "entry {max} above last_id {}", s.last_id);
    }
    assert!(
        s.entries_added >= s.length,
        "entries_added {} < length {}",
        s.entries_added,
        s.length
    );
    assert!(
        s.max_deleted_id <= s.last_id,
        "max_deleted_id above last_id"
    );
    assert_eq!(
        s.idmp.is_some(),
        s.version >= 4,
        "IDMP state presence vs version {}",
        s.version
    );

    let mut group_names = HashSet::new();
    for g in &s.groups {
        assert!(
            group_names.insert(key(g.name.as_element())),
            "duplicate group name {:?}",
            g.name
        );
        assert!(
            s.version >= 5 || g.nacked.is_empty(),
            "a NACK zone before type 27"
        );
        let mut consumer_names = HashSet::new();
        for c in &g.consumers {
            assert!(
                consumer_names.insert(key(c.name.as_element())),
                "duplicate consumer {:?}",
                c.name
            );
            assert_eq!(
                c.active_time.is_some(),
                s.version >= 3,
                "active_time presence vs version"
            );
        }
        let mut ids = HashSet::new();
        for e in &g.pel {
            assert!(ids.insert(e.id), "duplicate PEL id {}", e.id);
            match e.consumer {
                Some(k) => {
                    let owner = g.consumers.get(k).expect("PEL owner index out of range");
                    assert_eq!(
                        owner.pending.iter().filter(|&&id| id == e.id).count(),
                        1,
                        "PEL {} not in its owner",
                        e.id
                    );
                }
                None => assert!(g.nacked.contains(&e.id), "PEL {} owned by nobody", e.id),
            }
        }
        let claimed: usize =
            g.consumers.iter().map(|c| c.pending.len()).sum::<usize>() + g.nacked.len();
        assert_eq!(
            claimed,
            g.pel.len(),
            "consumer PELs + NACK zone hold {claimed} ids, group PEL {}",
            g.pel.len()
        );
        for c in &g.consumers {
            for id in &c.pending {
                assert!(
                    ids.contains(id),
                    "consumer PEL id {id} not in the group PEL"
                );
            }
        }
    }
}
