//! Every real stream payload in `tests/vectors/` decodes to what its source server reported
//! (`XINFO STREAM FULL`, or XINFO/XPENDING on 5.0), and every corrupt payload made from a stream
//! that native servers reject is rejected.

use std::collections::BTreeMap;
use std::path::Path;

use restore_core::decode::stream::{Stream, StreamId};
use restore_core::decode::value::{Element, IntBuf, RdbString};
use restore_core::decode::{self, DecodeError, Value};
use serde_json::Value as Json;

use restore_testkit::vectors::{bytes_of, select, Vector};

fn owned(e: Element<'_>) -> Vec<u8> {
    let mut buf: IntBuf = [0; 20];
    e.bytes(&mut buf).to_vec()
}

fn string(s: &RdbString<'_>) -> Vec<u8> {
    owned(s.as_element())
}

fn id(j: &Json) -> StreamId {
    let s = j.as_str().unwrap();
    let (ms, seq) = s.split_once('-').unwrap();
    StreamId::new(ms.parse().unwrap(), seq.parse().unwrap())
}

fn ids(j: &Json) -> Vec<StreamId> {
    j.as_array().unwrap().iter().map(id).collect()
}

fn check(want: &Json, s: &Stream<'_>, path: &Path) {
    // Live entries, in ID order, fields in entry order.
    let mut got = Vec::new();
    s.for_each_entry(false, |id, deleted, pairs| {
        assert!(!deleted);
        let fields: Vec<Vec<u8>> = pairs
            .iter()
            .flat_map(|&(f, v)| [owned(f), owned(v)])
            .collect();
        got.push((id, fields));
        Ok::<_, DecodeError>(())
    })
    .unwrap();
    let expected: Vec<(StreamId, Vec<Vec<u8>>)> = want["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                id(&e[0]),
                e[1].as_array().unwrap().iter().map(bytes_of).collect(),
            )
        })
        .collect();
    assert_eq!(got, expected, "{path:?}: entries");

    assert_eq!(Some(s.length), want["length"].as_u64(), "{path:?}: length");
    assert_eq!(s.last_id, id(&want["last_id"]), "{path:?}: last_id");
    // Absent (null) on v1 sources; the derived values are checked against the live entries.
    match &want["first_id"] {
        Json::Null => assert_eq!(
            s.first_id,
            expected.first().map_or(StreamId::ZERO, |e| e.0),
            "{path:?}"
        ),
        j => assert_eq!(s.first_id, id(j), "{path:?}: first_id"),
    }
    match &want["max_deleted_id"] {
        Json::Null => assert_eq!(s.max_deleted_id, StreamId::ZERO, "{path:?}"),
        j => assert_eq!(s.max_deleted_id, id(j), "{path:?}: max_deleted_id"),
    }
    match &want["entries_added"] {
        Json::Null => assert_eq!(s.entries_added, s.length, "{path:?}"),
        j => assert_eq!(Some(s.entries_added), j.as_u64(), "{path:?}: entries_added"),
    }

    let groups = want["groups"].as_array().unwrap();
    assert_eq!(s.groups.len(), groups.len(), "{path:?}: groups");
    for (g, wg) in s.groups.iter().zip(groups) {
        let at = format!(
            "{path:?} group {}",
            String::from_utf8_lossy(&string(&g.name))
        );
        assert_eq!(string(&g.name), bytes_of(&wg["name"]), "{at}");
        assert_eq!(
            g.last_id,
            id(&wg["last_delivered_id"]),
            "{at}: last_delivered_id"
        );
        // null: unknown on 7.0+, absent before.
        assert_eq!(
            g.entries_read,
            wg["entries_read"].as_u64(),
            "{at}: entries_read"
        );
        assert!(g.nacked.is_empty());

        let pel: Vec<(StreamId, Vec<u8>, u64)> = g
            .pel
            .iter()
            .map(|p| {
                (
                    p.id,
                    string(&g.consumers[p.consumer.unwrap()].name),
                    p.delivery_count,
                )
            })
            .collect();
        let want_pel: Vec<(StreamId, Vec<u8>, u64)> = wg["pel"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (id(&p[0]), bytes_of(&p[1]), p[2].as_u64().unwrap()))
            .collect();
        assert_eq!(pel, want_pel, "{at}: pel");
        if let Some(times) = wg["pel_delivery_time_ms"].as_object() {
            let got: BTreeMap<String, i64> = g
                .pel
                .iter()
                .map(|p| (p.id.to_string(), p.delivery_time))
                .collect();
            let want: BTreeMap<String, i64> = times
                .iter()
                .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
                .collect();
            assert_eq!(got, want, "{at}: pel_delivery_time_ms");
        }

        let consumers = wg["consumers"].as_array().unwrap();
        assert_eq!(g.consumers.len(), consumers.len(), "{at}: consumers");
        for (c, wc) in g.consumers.iter().zip(consumers) {
            assert_eq!(string(&c.name), bytes_of(&wc["name"]), "{at}");
            assert_eq!(c.pending, ids(&wc["pending"]), "{at}: pending");
            if let Some(t) = wc["seen_time_ms"].as_i64() {
                assert_eq!(c.seen_time, t, "{at}: seen_time_ms");
            }
            match wc["active_time_ms"].as_i64() {
                Some(t) => assert_eq!(c.active_time, Some(t), "{at}: active_time_ms"),
                None => assert!(s.version >= 3 || c.active_time.is_none(), "{at}"),
            }
            if s.version < 3 {
                assert_eq!(c.active_time, None, "{at}");
            }
        }
    }
}

#[test]
fn every_stream_vector_decodes_to_what_its_server_reported() {
    let all: Vec<_> = select(|j| j["type"] == "stream" && j["corrupt"].as_bool() != Some(true))
        .map(Vector::parts)
        .collect();
    let mut per_version = BTreeMap::new();
    for (json, dump, path) in &all {
        let decoded = decode::decode(dump).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        assert_eq!(
            Some(decoded.type_id as u64),
            json["type_byte"].as_u64(),
            "{path:?}"
        );
        assert_eq!(
            Some(decoded.rdb_version as u64),
            json["rdb_version"].as_u64(),
            "{path:?}"
        );
        let Value::Stream(s) = &decoded.value else {
            panic!("{path:?}: not a stream")
        };
        assert_eq!(
            s.version,
            match decoded.type_id {
                15 => 1,
                19 => 2,
                21 => 3,
                t => panic!("type {t}"),
            }
        );
        check(&json["value"], s, path);
        *per_version.entry(s.version).or_insert(0) += 1;
    }
    assert!(all.len() >= 150, "only {} stream vectors", all.len());
    assert!(per_version.len() == 3, "{per_version:?}");
}

#[test]
fn deleted_entries_are_tombstones_between_live_ones() {
    // XDEL vectors keep their tombstones in the node listpacks: iterating with them gives a
    // strictly increasing superset of the live entries.
    for (json, dump, path) in select(|j| j["case"] == "stream_xdel").map(Vector::parts) {
        let decoded = decode::decode(dump).unwrap();
        let Value::Stream(s) = &decoded.value else {
            unreachable!()
        };
        let mut all = Vec::new();
        s.for_each_entry(true, |id, deleted, _| {
            all.push((id, deleted));
            Ok::<_, DecodeError>(())
        })
        .unwrap();
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "{path:?}");
        let live = all.iter().filter(|e| !e.1).count() as u64;
        assert_eq!(live, s.length, "{path:?}");
        let tombstones: u64 = s.nodes.iter().map(|n| n.counts.deleted).sum();
        assert_eq!(all.len() as u64 - live, tombstones, "{path:?}");
        assert_eq!(Some(live), json["value"]["length"].as_u64());
    }
}

#[test]
fn every_corrupt_stream_vector_is_rejected() {
    let mut rejected = 0;
    for v in select(|j| j["corrupt"].as_bool() == Some(true) && j["derived_from_type"] == "stream")
    {
        if v.expects_error() {
            let e = decode::decode(&v.dump).expect_err(&v.name());
            if let Some(class) = v.expected_error_class() {
                assert_eq!(e.class(), class, "{}: {e}", v.name());
            }
            rejected += 1;
        }
    }
    assert!(rejected >= 16, "only {rejected} corrupt stream vectors");
}

#[test]
fn mutated_streams_fail_cleanly_or_keep_every_invariant() {
    // Each byte of each body XORed with a few masks (CRC skipped): no panic, and whatever is
    // accepted iterates without error and keeps the invariants the decoder promises.
    // One source per layout (v1, v2, v3) and every case but the 5 KB big-values one.
    let sources = ["redis-6.2.14", "redis-7.0.15", "redis-8.2.3"];
    let mut accepted = 0;
    for (_, dump, path) in select(|j| {
        j["type"] == "stream"
            && j["corrupt"].as_bool() != Some(true)
            && sources.iter().any(|s| j["source"] == *s)
            && j["case"] != "stream_big_values"
    })
    .map(Vector::parts)
    {
        let footer = dump.len() - 10;
        let version = u16::from_le_bytes([dump[footer], dump[footer + 1]]);
        for pos in 1..footer {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut object = dump[..footer].to_vec();
                object[pos] ^= mask;
                let Ok(decoded) = decode::payload::decode_object(&object, version) else {
                    continue;
                };
                let Value::Stream(s) = &decoded.value else {
                    continue;
                };
                accepted += 1;
                let mut prev: Option<StreamId> = None;
                let mut live = 0;
                s.for_each_entry(true, |id, deleted, pairs| {
                    assert!(
                        prev.is_none_or(|p| p < id),
                        "{path:?} @{pos}^{mask:#x}: order"
                    );
                    assert!(!pairs.is_empty());
                    prev = Some(id);
                    live += u64::from(!deleted);
                    Ok::<_, DecodeError>(())
                })
                .unwrap_or_else(|e| panic!("{path:?} @{pos}^{mask:#x}: accepted but {e}"));
                assert_eq!(live, s.length, "{path:?} @{pos}^{mask:#x}");
                assert!(
                    prev.is_none_or(|p| p <= s.last_id),
                    "{path:?} @{pos}^{mask:#x}"
                );
                for g in &s.groups {
                    for p in &g.pel {
                        assert!(p
                            .consumer
                            .is_some_and(|k| g.consumers[k].pending.contains(&p.id)));
                    }
                }
            }
        }
    }
    // Flips in entry values, times and names are legitimately accepted.
    assert!(accepted > 1000, "only {accepted} mutants accepted");
}
