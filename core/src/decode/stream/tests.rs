//! Stream layouts built byte by byte, one test per layout detail and per validation rule.

use super::*;
use crate::decode::error::Base;
use crate::decode::listpack::tests::{build, entry_bytes};
use crate::decode::{decode, Value};
use crate::encode::finish_payload;

// ---------------------------------------------------------------------------------------------
// Builders

/// A listpack element.
#[derive(Clone, Copy)]
enum Lp {
    I(i64),
    S(&'static [u8]),
}
use Lp::{I, S};

/// Encodes an element in the writer's narrowest form.
fn lp_element(e: Lp) -> Vec<u8> {
    match e {
        I(v @ 0..=127) => vec![v as u8, 0x01],
        I(v @ -4096..=4095) => {
            let u = (v as u16) & 0x1fff;
            entry_bytes(&[0xc0 | (u >> 8) as u8, u as u8], &[])
        }
        I(v) => entry_bytes(&[0xf4], &v.to_le_bytes()),
        S(s) => {
            assert!(s.len() < 64);
            entry_bytes(&[0x80 | s.len() as u8], s)
        }
    }
}

fn listpack(elements: &[Lp]) -> Vec<u8> {
    let encoded: Vec<Vec<u8>> = elements.iter().map(|&e| lp_element(e)).collect();
    let refs: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
    build(&refs, elements.len() as u16)
}

/// An RDB body under construction.
#[derive(Default, Clone)]
struct Body(Vec<u8>);

impl Body {
    /// A `LEN` in the writer's form.
    fn len(mut self, n: u64) -> Self {
        match n {
            0..=63 => self.0.push(n as u8),
            64..=16383 => self.0.extend_from_slice(&[0x40 | (n >> 8) as u8, n as u8]),
            _ if n <= u32::MAX as u64 => {
                self.0.push(0x80);
                self.0.extend_from_slice(&(n as u32).to_be_bytes());
            }
            _ => {
                self.0.push(0x81);
                self.0.extend_from_slice(&n.to_be_bytes());
            }
        }
        self
    }
    /// A raw `STR`.
    fn str(self, s: &[u8]) -> Self {
        let mut b = self.len(s.len() as u64);
        b.0.extend_from_slice(s);
        b
    }
    /// Two `LEN`s.
    fn id(self, ms: u64, seq: u64) -> Self {
        self.len(ms).len(seq)
    }
    fn id128(mut self, ms: u64, seq: u64) -> Self {
        self.0
            .extend_from_slice(&StreamId::new(ms, seq).to_be_bytes());
        self
    }
    fn ms(mut self, t: i64) -> Self {
        self.0.extend_from_slice(&t.to_le_bytes());
        self
    }
    fn raw(mut self, b: &[u8]) -> Self {
        self.0.extend_from_slice(b);
        self
    }
    /// A node: key STR then listpack STR.
    fn node(self, ms: u64, seq: u64, lp: &[u8]) -> Self {
        self.str(&StreamId::new(ms, seq).to_be_bytes()).str(lp)
    }
    /// v2+ metadata after `last_id`: first, max-deleted, entries_added.
    fn meta(self, first: (u64, u64), max_deleted: (u64, u64), added: u64) -> Self {
        self.id(first.0, first.1)
            .id(max_deleted.0, max_deleted.1)
            .len(added)
    }
}

fn read(body: &Body, version: u8) -> Result<Stream<'_>> {
    let mut c = Cursor::new(&body.0);
    let s = read_stream(&mut c, version)?;
    assert!(c.is_empty(), "{} bytes left", c.remaining());
    Ok(s)
}

fn kind(body: &Body, version: u8) -> ErrorKind {
    read(body, version).expect_err("accepted").kind
}

fn text(e: &Element<'_>) -> String {
    let mut buf = [0; 20];
    String::from_utf8(e.bytes(&mut buf).to_vec()).unwrap()
}

/// Every entry as (id, deleted, "f=v f=v").
fn entries(s: &Stream<'_>, include_deleted: bool) -> Vec<(String, bool, String)> {
    let mut out = Vec::new();
    s.for_each_entry(include_deleted, |id, deleted, pairs| {
        let fields: Vec<String> = pairs
            .iter()
            .map(|(f, v)| format!("{}={}", text(f), text(v)))
            .collect();
        out.push((id.to_string(), deleted, fields.join(" ")));
        Ok::<_, DecodeError>(())
    })
    .unwrap();
    out
}

fn name(s: &RdbString<'_>) -> String {
    text(&s.as_element())
}

/// One node, key 1-1, with a single live entry 1-1 {a: 1}.
fn one_entry_node() -> Vec<u8> {
    listpack(&[
        I(1),
        I(0),
        I(1),
        S(b"a"),
        I(0), // master: 1 live, 0 deleted, fields [a], terminator
        I(2),
        I(0),
        I(0),
        I(1),
        I(4), // 1-1 SAMEFIELDS a=1, lp_count 1 + 3
    ])
}

/// A v2 stream of `one_entry_node` and no groups.
fn one_entry_stream() -> Body {
    Body::default()
        .len(1)
        .node(1, 1, &one_entry_node()) // 1 node
        .len(1)
        .id(1, 1) // length 1, last 1-1
        .meta((1, 1), (0, 0), 1) // first 1-1, max-deleted 0-0, added 1
}

// ---------------------------------------------------------------------------------------------
// dump-format.md §4.6.3: XADD 1-1 a 1 b 2, 1-2 a 3 b 4, 2-0 c 5, 3-5 a 6 b 7; XDEL 1-2.

fn example_node() -> Vec<u8> {
    listpack(&[
        I(3),
        I(1),
        I(2),
        S(b"a"),
        S(b"b"),
        I(0), // master: 3 live, 1 deleted, fields [a, b]
        I(2),
        I(0),
        I(0),
        I(1),
        I(2),
        I(5), // 1-1 SAMEFIELDS a=1 b=2, lp_count 5
        I(3),
        I(0),
        I(1),
        I(3),
        I(4),
        I(5), // 1-2 DELETED|SAMEFIELDS
        I(0),
        I(1),
        I(-1),
        I(1),
        S(b"c"),
        I(5),
        I(6), // 2-0: ms+1, seq-1, own fields c=5, lp_count 6
        I(2),
        I(2),
        I(4),
        I(6),
        I(7),
        I(5), // 3-5 SAMEFIELDS a=6 b=7
    ])
}

/// Groups: g1 read everything (alice got 1-1, bob 2-0 and 3-5, bob acked 2-0); g2 created at `$`
/// with an idle consumer.
fn example_body() -> Body {
    Body::default()
        .len(1)
        .node(1, 1, &example_node())
        .len(3)
        .id(3, 5) // length 3, last 3-5
        .meta((1, 1), (1, 2), 4) // first 1-1, max-deleted 1-2, entries_added 4
        .len(2) // groups
        .str(b"g1")
        .id(3, 5)
        .len(3) // name, last delivered 3-5, entries_read 3
        .len(2) // PEL
        .id128(1, 1)
        .ms(1_700_000_000_001)
        .len(1) //   1-1, delivered at, 1 delivery
        .id128(3, 5)
        .ms(1_700_000_000_002)
        .len(2) //   3-5, 2 deliveries
        .len(2) // consumers
        .str(b"alice")
        .ms(1_700_000_000_010)
        .len(1)
        .id128(1, 1)
        .str(b"bob")
        .ms(1_700_000_000_011)
        .len(1)
        .id128(3, 5)
        .str(b"g2")
        .id(3, 5)
        .len(u64::MAX) // entries_read unknown: 81 ff x 8
        .len(0) // empty PEL
        .len(1)
        .str(b"idle")
        .ms(1_700_000_000_020)
        .len(0)
}

#[test]
fn worked_example_from_the_spec() {
    let body = example_body();
    // The 2-0 entry's seq_delta -1 is the 13-bit integer df ff.
    assert!(example_node().windows(2).any(|w| w == [0xdf, 0xff]));
    // entries_read unknown is written as 81 ff ff ff ff ff ff ff ff.
    assert!(body
        .0
        .windows(9)
        .any(|w| w == [0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));

    let s = read(&body, 2).unwrap();
    assert_eq!(s.version, 2);
    assert_eq!(s.nodes.len(), 1);
    assert_eq!(s.nodes[0].master_id, StreamId::new(1, 1));
    assert_eq!(
        s.nodes[0].counts,
        NodeCounts {
            live: 3,
            deleted: 1
        }
    );
    assert_eq!(
        (s.length, s.last_id, s.first_id),
        (3, StreamId::new(3, 5), StreamId::new(1, 1))
    );
    assert_eq!(
        (s.max_deleted_id, s.entries_added),
        (StreamId::new(1, 2), 4)
    );
    assert_eq!(
        entries(&s, true),
        [
            ("1-1".into(), false, "a=1 b=2".into()),
            ("1-2".into(), true, "a=3 b=4".into()),
            ("2-0".into(), false, "c=5".into()),
            ("3-5".into(), false, "a=6 b=7".into()),
        ]
    );
    assert_eq!(entries(&s, false).len(), 3);

    let [g1, g2] = &s.groups[..] else {
        panic!("two groups")
    };
    assert_eq!(
        (name(&g1.name), g1.last_id, g1.entries_read),
        ("g1".into(), StreamId::new(3, 5), Some(3))
    );
    assert_eq!(
        g1.pel,
        [
            PendingEntry {
                id: StreamId::new(1, 1),
                delivery_time: 1_700_000_000_001,
                delivery_count: 1,
                consumer: Some(0)
            },
            PendingEntry {
                id: StreamId::new(3, 5),
                delivery_time: 1_700_000_000_002,
                delivery_count: 2,
                consumer: Some(1)
            },
        ]
    );
    assert_eq!(name(&g1.consumers[1].name), "bob");
    assert_eq!(g1.consumers[1].pending, [StreamId::new(3, 5)]);
    assert_eq!(
        (g1.consumers[1].seen_time, g1.consumers[1].active_time),
        (1_700_000_000_011, None)
    );
    assert!(g1.nacked.is_empty());
    assert_eq!(
        (name(&g2.name), g2.entries_read, g2.pel.len()),
        ("g2".into(), None, 0)
    );
    assert_eq!(name(&g2.consumers[0].name), "idle");
    assert!(s.idmp.is_none());
}

#[test]
fn worked_example_through_the_full_decode() {
    let mut object = vec![19]; // RDB_TYPE_STREAM_LISTPACKS_2
    object.extend_from_slice(&example_body().0);
    let payload = finish_payload(object.to_vec(), 10);
    let decoded = decode(&payload).unwrap();
    assert_eq!((decoded.type_id, decoded.value.type_name()), (19, "stream"));
    let Value::Stream(s) = decoded.value else {
        panic!("not a stream")
    };
    assert_eq!(s.length, 3);
    assert_eq!(entries(&s, true).len(), 4);
}

// ---------------------------------------------------------------------------------------------
// Layout details

#[test]
fn stream_ids_order_print_and_round_trip() {
    assert!(StreamId::new(1, u64::MAX) < StreamId::new(2, 0));
    assert_eq!(
        StreamId::new(1_700_000_000_000, 7).to_string(),
        "1700000000000-7"
    );
    let id = StreamId::new(0x0102030405060708, 0x1112131415161718);
    assert_eq!(id.to_be_bytes()[..3], [1, 2, 3]);
    assert_eq!(StreamId::from_be_bytes(id.to_be_bytes()), id);
}

#[test]
fn negative_seq_delta_wraps() {
    // Master 5-10; the entry 7-3 has ms_delta 2 and seq_delta -7.
    let lp = listpack(&[
        I(1),
        I(0),
        I(1),
        S(b"f"),
        I(0), // master
        I(2),
        I(2),
        I(-7),
        S(b"v"),
        I(4), // SAMEFIELDS f=v
    ]);
    let body = Body::default()
        .len(1)
        .node(5, 10, &lp)
        .len(1)
        .id(7, 3)
        .meta((7, 3), (0, 0), 1)
        .len(0);
    let s = read(&body, 2).unwrap();
    assert_eq!(entries(&s, false), [("7-3".into(), false, "f=v".into())]);
}

#[test]
fn seq_delta_wraps_across_the_whole_u64_range() {
    // Master 1-(2^64-1); entry 2-0: seq_delta = 0 - (2^64-1) = 1 in wrapping arithmetic.
    let lp = listpack(&[
        I(1),
        I(0),
        I(1),
        S(b"f"),
        I(0),
        I(2),
        I(1),
        I(1),
        S(b"v"),
        I(4),
    ]);
    let body = Body::default()
        .len(1)
        .node(1, u64::MAX, &lp)
        .len(1)
        .id(2, 0)
        .meta((2, 0), (0, 0), 1)
        .len(0);
    assert_eq!(entries(&read(&body, 2).unwrap(), false)[0].0, "2-0");
}

#[test]
fn ids_near_the_top_of_the_range() {
    // Master (2^64-1)-0 with an entry (2^64-1)-9: no overflow on ms + 0.
    let lp = listpack(&[
        I(1),
        I(0),
        I(1),
        S(b"f"),
        I(0),
        I(2),
        I(0),
        I(9),
        S(b"v"),
        I(4),
    ]);
    let body = Body::default()
        .len(1)
        .node(u64::MAX, 0, &lp)
        .len(1)
        .id(u64::MAX, 9)
        .meta((u64::MAX, 9), (0, 0), 1)
        .len(0);
    assert_eq!(
        entries(&read(&body, 2).unwrap(), false)[0].0,
        format!("{}-9", u64::MAX)
    );
}

#[test]
fn samefields_and_own_fields() {
    let lp = listpack(&[
        I(2),
        I(0),
        I(2),
        S(b"x"),
        S(b"y"),
        I(0), // master fields [x, y]
        I(0),
        I(0),
        I(0),
        I(2),
        S(b"y"),
        I(1),
        S(b"x"),
        I(2),
        I(8), // 1-0 own fields y=1 x=2 (order kept), 2*2+4
        I(2),
        I(0),
        I(1),
        I(3),
        I(4),
        I(5), // 1-1 SAMEFIELDS x=3 y=4, 2+3
    ]);
    let body = Body::default()
        .len(1)
        .node(1, 0, &lp)
        .len(2)
        .id(1, 1)
        .meta((1, 0), (0, 0), 2)
        .len(0);
    assert_eq!(
        entries(&read(&body, 2).unwrap(), false),
        [
            ("1-0".into(), false, "y=1 x=2".into()),
            ("1-1".into(), false, "x=3 y=4".into())
        ]
    );
}

#[test]
fn own_fields_may_repeat_a_field_name() {
    // XADD s 1-0 a 1 a 2 is legal.
    let lp = listpack(&[
        I(1),
        I(0),
        I(2),
        S(b"a"),
        S(b"a"),
        I(0),
        I(2),
        I(0),
        I(0),
        I(1),
        I(2),
        I(5),
    ]);
    let body = Body::default()
        .len(1)
        .node(1, 0, &lp)
        .len(1)
        .id(1, 0)
        .meta((1, 0), (0, 0), 1)
        .len(0);
    assert_eq!(entries(&read(&body, 2).unwrap(), false)[0].2, "a=1 a=2");
}

#[test]
fn integer_elements_may_be_decimal_strings() {
    // Native's lpGetIntegerIfValid accepts a string "1" where an integer is due.
    let lp = listpack(&[
        S(b"1"),
        S(b"0"),
        S(b"1"),
        S(b"a"),
        S(b"0"),
        S(b"2"),
        S(b"0"),
        S(b"0"),
        I(1),
        S(b"4"),
    ]);
    let body = Body::default()
        .len(1)
        .node(1, 1, &lp)
        .len(1)
        .id(1, 1)
        .meta((1, 1), (0, 0), 1)
        .len(0);
    assert_eq!(
        entries(&read(&body, 2).unwrap(), false),
        [("1-1".into(), false, "a=1".into())]
    );
}

#[test]
fn lzf_compressed_node_listpack() {
    let lp = listpack(&[
        I(3),
        I(0),
        I(1),
        S(b"field-name-long"),
        I(0),
        I(2),
        I(0),
        I(0),
        S(b"value-value-value"),
        I(4),
        I(2),
        I(0),
        I(1),
        S(b"value-value-value"),
        I(4),
        I(2),
        I(0),
        I(2),
        S(b"value-value-value"),
        I(4),
    ]);
    let compressed = lzf::compress(&lp).unwrap();
    assert!(compressed.len() < lp.len());
    let body = Body::default()
        .len(1)
        .str(&StreamId::new(1, 0).to_be_bytes())
        .raw(&[0xc3])
        .len(compressed.len() as u64)
        .len(lp.len() as u64)
        .raw(&compressed) // LZF STR
        .len(3)
        .id(1, 2)
        .meta((1, 0), (0, 0), 3)
        .len(0);
    let s = read(&body, 2).unwrap();
    assert!(matches!(s.nodes[0].listpack, std::borrow::Cow::Owned(_)));
    assert_eq!(
        entries(&s, false)[2],
        (
            "1-2".into(),
            false,
            "field-name-long=value-value-value".into()
        )
    );
}

#[test]
fn node_listpacks_are_borrowed() {
    let body = one_entry_stream().len(0);
    let s = read(&body, 2).unwrap();
    assert!(matches!(s.nodes[0].listpack, std::borrow::Cow::Borrowed(_)));
}

#[test]
fn several_nodes_iterate_in_order() {
    let second = listpack(&[
        I(1),
        I(0),
        I(1),
        S(b"b"),
        I(0),
        I(2),
        I(0),
        I(0),
        I(2),
        I(4),
    ]);
    let body = Body::default()
        .len(2)
        .node(1, 1, &one_entry_node())
        .node(5, 0, &second)
        .len(2)
        .id(5, 0)
        .meta((1, 1), (0, 0), 2)
        .len(0);
    let s = read(&body, 2).unwrap();
    assert_eq!(
        entries(&s, false),
        [
            ("1-1".into(), false, "a=1".into()),
            ("5-0".into(), false, "b=2".into())
        ]
    );
}

#[test]
fn iteration_stops_at_the_first_callback_error() {
    let body = example_body();
    let s = read(&body, 2).unwrap();
    let mut calls = 0;
    let r = s.for_each_entry(false, |_, _, _| {
        calls += 1;
        Err(DecodeError::new(ErrorKind::InvalidStream, 99))
    });
    assert_eq!((r.unwrap_err().offset, calls), (99, 1));
}

#[test]
fn v1_derives_the_newer_metadata() {
    // Type 15: no first/max-deleted/entries_added, no entries_read, no active_time.
    let body = Body::default()
        .len(1)
        .node(1, 1, &example_node())
        .len(3)
        .id(3, 5)
        .len(1)
        .str(b"g")
        .id(2, 0)
        .len(1)
        .id128(1, 1)
        .ms(5)
        .len(1) // group: no entries_read
        .len(1)
        .str(b"c")
        .ms(6)
        .len(1)
        .id128(1, 1);
    let s = read(&body, 1).unwrap();
    assert_eq!(
        (s.first_id, s.max_deleted_id, s.entries_added),
        (StreamId::new(1, 1), StreamId::ZERO, 3)
    );
    assert_eq!(s.groups[0].entries_read, None);
    assert_eq!(s.groups[0].consumers[0].active_time, None);
}

#[test]
fn v1_first_id_skips_deleted_entries() {
    // The first entry 1-1 is deleted: first_id is the first live one.
    let lp = listpack(&[
        I(1),
        I(1),
        I(1),
        S(b"a"),
        I(0),
        I(3),
        I(0),
        I(0),
        I(1),
        I(4),
        I(2),
        I(0),
        I(1),
        I(2),
        I(4),
    ]);
    let body = Body::default()
        .len(1)
        .node(1, 1, &lp)
        .len(1)
        .id(1, 2)
        .len(0);
    assert_eq!(read(&body, 1).unwrap().first_id, StreamId::new(1, 2));
    let empty = Body::default().len(0).len(0).id(0, 0).len(0);
    assert_eq!(read(&empty, 1).unwrap().first_id, StreamId::ZERO);
}

#[test]
fn v3_reads_active_time() {
    let body = one_entry_stream()
        .len(1)
        .str(b"g")
        .id(1, 1)
        .len(1)
        .len(1)
        .id128(1, 1)
        .ms(10)
        .len(1)
        .len(1)
        .str(b"c")
        .ms(20)
        .ms(-1)
        .len(1)
        .id128(1, 1); // seen 20, active -1 (never active)
    let s = read(&body, 3).unwrap();
    let c = &s.groups[0].consumers[0];
    assert_eq!((c.seen_time, c.active_time), (20, Some(-1)));
}

#[test]
fn empty_stream_with_a_group_and_dangling_pel() {
    // XGROUP CREATE … MKSTREAM, entries delivered then deleted: PEL IDs need not exist (S19).
    let body = Body::default()
        .len(0) // no nodes
        .len(0)
        .id(9, 9) // length 0, last 9-9
        .meta((0, 0), (9, 9), 3)
        .len(1)
        .str(b"g")
        .id(100, 0)
        .len(u64::MAX) // group last_id beyond the stream's (S19)
        .len(1)
        .id128(4, 4)
        .ms(1)
        .len(1)
        .len(1)
        .str(b"c")
        .ms(1)
        .len(1)
        .id128(4, 4);
    let s = read(&body, 2).unwrap();
    assert!(s.nodes.is_empty());
    assert_eq!(s.groups[0].last_id, StreamId::new(100, 0));
    assert_eq!(entries(&s, true), []);
}

#[test]
fn node_with_only_deleted_entries() {
    let lp = listpack(&[
        I(0),
        I(1),
        I(1),
        S(b"a"),
        I(0),
        I(3),
        I(0),
        I(0),
        I(1),
        I(4),
    ]);
    let body = Body::default()
        .len(1)
        .node(1, 1, &lp)
        .len(0)
        .id(1, 1)
        .meta((0, 0), (1, 1), 1)
        .len(0);
    let s = read(&body, 2).unwrap();
    assert_eq!(
        s.nodes[0].counts,
        NodeCounts {
            live: 0,
            deleted: 1
        }
    );
    assert_eq!(entries(&s, false), []);
    assert_eq!(entries(&s, true), [("1-1".into(), true, "a=1".into())]);
}

#[test]
fn last_id_above_the_entries() {
    // After XDEL of the tail or XSETID.
    let body = Body::default()
        .len(1)
        .node(1, 1, &one_entry_node())
        .len(1)
        .id(50, 0)
        .meta((1, 1), (0, 0), 1)
        .len(0);
    assert!(read(&body, 2).is_ok());
}

#[test]
fn nodes_are_counted_against_remaining_bytes() {
    let body = Body::default().len(1 << 40);
    assert_eq!(kind(&body, 2), ErrorKind::LengthTooLarge);
    let body = one_entry_stream().len(1 << 40);
    assert_eq!(kind(&body, 2), ErrorKind::LengthTooLarge);
    let body = one_entry_stream()
        .len(1)
        .str(b"g")
        .id(1, 1)
        .len(0)
        .len(1 << 30);
    assert_eq!(kind(&body, 2), ErrorKind::LengthTooLarge);
    let body = one_entry_stream()
        .len(1)
        .str(b"g")
        .id(1, 1)
        .len(0)
        .len(0)
        .len(1 << 30);
    assert_eq!(kind(&body, 2), ErrorKind::LengthTooLarge);
}

#[test]
fn unknown_layout_versions() {
    assert_eq!(
        kind(&one_entry_stream().len(0), 0),
        ErrorKind::InvalidStream
    );
    assert_eq!(
        kind(&one_entry_stream().len(0), 6),
        ErrorKind::InvalidStream
    );
}

// ---------------------------------------------------------------------------------------------
// Validation, one test per rule (validation.md §3.9)

/// A v2 stream with one node holding `lp`, whose key is 1-1.
fn with_node(lp: &[u8], length: u64, last: (u64, u64)) -> Body {
    Body::default()
        .len(1)
        .node(1, 1, lp)
        .len(length)
        .id(last.0, last.1)
        .meta((1, 1), (0, 0), length)
        .len(0)
}

#[test]
fn s1_node_key_must_be_16_bytes() {
    for key in [&[0u8; 15][..], &[0; 17], &[]] {
        let body = Body::default()
            .len(1)
            .str(key)
            .str(&one_entry_node())
            .len(1)
            .id(1, 1)
            .meta((1, 1), (0, 0), 1)
            .len(0);
        assert_eq!(kind(&body, 2), ErrorKind::InvalidStream);
    }
    // An INT-encoded key is never 16 bytes.
    let body = Body::default()
        .len(1)
        .raw(&[0xc0, 0x01])
        .str(&one_entry_node())
        .len(1)
        .id(1, 1)
        .meta((1, 1), (0, 0), 1)
        .len(0);
    assert_eq!(kind(&body, 2), ErrorKind::InvalidStream);
}

#[test]
fn s2_node_listpack_header() {
    let mut lp = one_entry_node();
    lp[0] += 1; // total_bytes off by one
    assert_eq!(
        kind(&with_node(&lp, 1, (1, 1)), 2),
        ErrorKind::InvalidListpack
    );
}

#[test]
fn s3_master_entry() {
    let bad_masters: [&[Lp]; 6] = [
        &[S(b"x"), I(0), I(1), S(b"a"), I(0)], // count not an integer
        &[I(-1), I(0), I(1), S(b"a"), I(0)],   // negative count
        &[I(1), I(-1), I(1), S(b"a"), I(0)],   // negative deleted
        &[I(1), I(0), I(0), I(0)],             // no master fields
        &[I(1), I(0), I(2), S(b"a"), I(0)],    // a master field missing (terminator eaten)
        &[I(1), I(0), I(1), S(b"a"), I(7)],    // terminator not 0
    ];
    for master in bad_masters {
        let mut elements = master.to_vec();
        elements.extend_from_slice(&[I(2), I(0), I(0), I(1), I(4)]);
        let body = with_node(&listpack(&elements), 1, (1, 1));
        assert_eq!(
            kind(&body, 2),
            ErrorKind::InvalidStream,
            "{}",
            elements.len()
        );
    }
}

#[test]
fn s3_entries() {
    let master = [I(1), I(0), I(1), S(b"a"), I(0)];
    let bad_entries: [&[Lp]; 11] = [
        &[I(6), I(0), I(0), I(1), I(4)],                // unknown flag bit 4
        &[I(-2), I(0), I(0), I(1), I(4)],               // negative flags
        &[S(b"x"), I(0), I(0), I(1), I(4)],             // flags not an integer
        &[I(2), I(-1), I(1), I(1), I(4)],               // ms_delta -1: 0-2, below the key 1-1
        &[I(2), I(0), S(b"x"), I(1), I(4)],             // seq_delta not an integer
        &[I(2), I(0), I(0), I(1), I(5)],                // lp_count 5, want 1 + 3
        &[I(0), I(0), I(0), I(1), S(b"a"), I(1), I(5)], // own fields: lp_count 5, want 2 + 4
        &[I(0), I(0), I(0), I(0), I(4)],                // own fields: zero fields
        &[I(0), I(0), I(0), I(-1), I(3)],               // own fields: negative count
        &[I(2), I(0), I(0), I(1)],                      // truncated: no lp_count
        &[I(2), I(0), I(0), I(1), I(4), I(0)],          // an element after the last entry
    ];
    for entry in bad_entries {
        let mut elements = master.to_vec();
        elements.extend_from_slice(entry);
        assert_eq!(
            kind(&with_node(&listpack(&elements), 1, (1, 1)), 2),
            ErrorKind::InvalidStream
        );
    }
}

#[test]
fn ms_delta_is_negative_for_gaps_of_2_pow_63() {
    // Redis 5.0.14 stream_extreme_ids: master 0-1, entry 18446744073709551615-717110 is stored
    // with ms_delta -1 (the u64 difference written as an i64).
    let lp = listpack(&[
        I(1),
        I(0),
        I(1),
        S(b"f"),
        I(0),
        I(2),
        I(-1),
        I(717_109),
        S(b"v"),
        I(4),
    ]);
    let body = Body::default()
        .len(1)
        .node(0, 1, &lp)
        .len(1)
        .id(u64::MAX, 717_110)
        .meta((u64::MAX, 717_110), (0, 0), 1)
        .len(0);
    assert_eq!(
        entries(&read(&body, 2).unwrap(), false)[0].0,
        format!("{}-717110", u64::MAX)
    );
}

#[test]
fn s3_ms_must_not_wrap_past_the_top() {
    // Master (2^64-1)-0 and ms_delta 1: the entry would be 0-0, below its key.
    let lp = listpack(&[
        I(1),
        I(0),
        I(1),
        S(b"a"),
        I(0),
        I(2),
        I(1),
        I(0),
        I(1),
        I(4),
    ]);
    let body = Body::default()
        .len(1)
        .node(u64::MAX, 0, &lp)
        .len(1)
        .id(u64::MAX, 0)
        .meta((0, 0), (0, 0), 1)
        .len(0);
    assert_eq!(kind(&body, 2), ErrorKind::InvalidStream);
}

#[test]
fn s3_entry_count_overflow() {
    // count + deleted overflows u64: i64::MAX each is fine, the sum is not reachable anyway.
    let lp = listpack(&[
        I(i64::MAX),
        I(i64::MAX),
        I(1),
        S(b"a"),
        I(0),
        I(2),
        I(0),
        I(0),
        I(1),
        I(4),
    ]);
    assert_eq!(
        kind(&with_node(&lp, 1, (1, 1)), 2),
        ErrorKind::InvalidStream
    );
}

#[test]
fn s4_node_listpack_must_not_be_empty() {
    let empty = build(&[], 0);
    assert_eq!(
        kind(&with_node(&empty, 0, (1, 1)), 2),
        ErrorKind::InvalidStream
    );
}

#[test]
fn s4_node_must_hold_an_entry() {
    // A master entry and nothing else ("stream with no records" crashed native XREAD).
    let lp = listpack(&[I(0), I(0), I(1), S(b"a"), I(0)]);
    assert_eq!(
        kind(&with_node(&lp, 0, (1, 1)), 2),
        ErrorKind::InvalidStream
    );
}

#[test]
fn s5_node_keys_unique_and_ascending() {
    let second = listpack(&[
        I(1),
        I(0),
        I(1),
        S(b"a"),
        I(0),
        I(2),
        I(0),
        I(0),
        I(1),
        I(4),
    ]);
    let body = Body::default()
        .len(2)
        .node(1, 1, &one_entry_node())
        .node(1, 1, &second)
        .len(2)
        .id(1, 1)
        .meta((1, 1), (0, 0), 2)
        .len(0);
    assert_eq!(kind(&body, 2), ErrorKind::Duplicate);
    let body = Body::default()
        .len(2)
        .node(5, 0, &second)
        .node(1, 1, &one_entry_node())
        .len(2)
        .id(5, 0)
        .meta((1, 1), (0, 0), 2)
        .len(0);
    assert_eq!(kind(&body, 2), ErrorKind::InvalidStream);
}

#[test]
fn s6_metadata_must_be_readable() {
    let full = example_body();
    for cut in 0..full.0.len() {
        let body = Body(full.0[..cut].to_vec());
        assert!(read(&body, 2).is_err(), "accepted a cut at {cut}");
    }
}

#[test]
fn s7_length_needs_a_node() {
    let body = Body::default()
        .len(0)
        .len(1)
        .id(1, 1)
        .meta((1, 1), (0, 0), 1)
        .len(0);
    assert_eq!(kind(&body, 2), ErrorKind::InvalidStream);
}

#[test]
fn s8_length_equals_live_entries() {
    for length in [0, 2, 5] {
        let body = Body::default()
            .len(1)
            .node(1, 1, &one_entry_node())
            .len(length)
            .id(1, 1)
            .meta((1, 1), (0, 0), 9)
            .len(0);
        assert_eq!(kind(&body, 2), ErrorKind::InvalidStream, "{length}");
    }
    // v1 too.
    let body = Body::default()
        .len(1)
        .node(1, 1, &one_entry_node())
        .len(2)
        .id(1, 1)
        .len(0);
    assert_eq!(kind(&body, 1), ErrorKind::InvalidStream);
}

#[test]
fn s9_entry_below_its_node_key() {
    // Node key 1-1, entry 1-0 (seq_delta -1).
    let lp = listpack(&[
        I(1),
        I(0),
        I(1),
        S(b"a"),
        I(0),
        I(2),
        I(0),
        I(-1),
        I(1),
        I(4),
    ]);
    assert_eq!(
        kind(&with_node(&lp, 1, (1, 1)), 2),
        ErrorKind::InvalidStream
    );
}

#[test]
fn s9_entries_strictly_increasing_in_a_node() {
    // 1-2 then 1-2 again, then 1-2 then 1-1.
    for second_seq in [1, 0] {
        let lp = listpack(&[
            I(2),
            I(0),
            I(1),
            S(b"a"),
            I(0),
            I(2),
            I(0),
            I(1),
            I(1),
            I(4),
            I(2),
            I(0),
            I(second_seq),
            I(1),
            I(4),
        ]);
        assert_eq!(
            kind(&with_node(&lp, 2, (9, 9)), 2),
            ErrorKind::InvalidStream
        );
    }
}

#[test]
fn s9_entries_below_the_next_node_key() {
    // Node 1-1 holds 1-1 and 7-0; the next node's key is 5-0.
    let first = listpack(&[
        I(2),
        I(0),
        I(1),
        S(b"a"),
        I(0),
        I(2),
        I(0),
        I(0),
        I(1),
        I(4),
        I(2),
        I(6),
        I(-1),
        I(1),
        I(4),
    ]);
    let second = listpack(&[
        I(1),
        I(0),
        I(1),
        S(b"a"),
        I(0),
        I(2),
        I(0),
        I(0),
        I(1),
        I(4),
    ]);
    let body = Body::default()
        .len(2)
        .node(1, 1, &first)
        .node(5, 0, &second)
        .len(3)
        .id(9, 9)
        .meta((1, 1), (0, 0), 3)
        .len(0);
    assert_eq!(kind(&body, 2), ErrorKind::InvalidStream);
}

#[test]
fn s10_live_deleted_split_matches_the_flags() {
    // The master says 2 live, 0 deleted; one entry is flagged deleted. Total matches, split not.
    let lp = listpack(&[
        I(2),
        I(0),
        I(1),
        S(b"a"),
        I(0),
        I(2),
        I(0),
        I(0),
        I(1),
        I(4),
        I(3),
        I(0),
        I(1),
        I(1),
        I(4),
    ]);
    assert_eq!(
        kind(&with_node(&lp, 2, (1, 2)), 2),
        ErrorKind::InvalidStream
    );
    assert_eq!(
        kind(&with_node(&lp, 1, (1, 2)), 2),
        ErrorKind::InvalidStream
    );
}

#[test]
fn s11_last_id_at_least_the_largest_entry() {
    let body = with_node(&one_entry_node(), 1, (1, 0));
    assert_eq!(kind(&body, 2), ErrorKind::InvalidStream);
    // Deleted entries count: the only entry 1-2 is a tombstone, last_id 1-1.
    let lp = listpack(&[
        I(0),
        I(1),
        I(1),
        S(b"a"),
        I(0),
        I(3),
        I(0),
        I(1),
        I(1),
        I(4),
    ]);
    let body = Body::default()
        .len(1)
        .node(1, 1, &lp)
        .len(0)
        .id(1, 1)
        .meta((0, 0), (1, 1), 1)
        .len(0);
    assert_eq!(kind(&body, 2), ErrorKind::InvalidStream);
}

/// `one_entry_stream` with the given groups (count included).
fn with_groups(groups: Body) -> Body {
    one_entry_stream().raw(&groups.0)
}

#[test]
fn s12_group_names_unique() {
    let g = Body::default()
        .len(2)
        .str(b"g")
        .id(1, 1)
        .len(0)
        .len(0)
        .len(0)
        .str(b"g")
        .id(1, 1)
        .len(0)
        .len(0)
        .len(0);
    assert_eq!(kind(&with_groups(g), 2), ErrorKind::Duplicate);
    // INT-encoded 5 and the text "5" are the same name.
    let g = Body::default()
        .len(2)
        .raw(&[0xc0, 5])
        .id(1, 1)
        .len(0)
        .len(0)
        .len(0)
        .str(b"5")
        .id(1, 1)
        .len(0)
        .len(0)
        .len(0);
    assert_eq!(kind(&with_groups(g), 2), ErrorKind::Duplicate);
    let g = Body::default()
        .len(2)
        .str(b"05")
        .id(1, 1)
        .len(0)
        .len(0)
        .len(0)
        .str(b"5")
        .id(1, 1)
        .len(0)
        .len(0)
        .len(0);
    assert!(read(&with_groups(g), 2).is_ok());
}

#[test]
fn s13_group_pel_ids_unique() {
    let g = Body::default()
        .len(1)
        .str(b"g")
        .id(1, 1)
        .len(1)
        .len(2)
        .id128(1, 1)
        .ms(0)
        .len(1)
        .id128(1, 1)
        .ms(0)
        .len(1)
        .len(1)
        .str(b"c")
        .ms(0)
        .len(1)
        .id128(1, 1);
    assert_eq!(kind(&with_groups(g), 2), ErrorKind::Duplicate);
}

#[test]
fn s13_group_pel_order_is_free() {
    let g = Body::default()
        .len(1)
        .str(b"g")
        .id(1, 1)
        .len(1)
        .len(2)
        .id128(2, 0)
        .ms(0)
        .len(1)
        .id128(1, 1)
        .ms(0)
        .len(1)
        .len(1)
        .str(b"c")
        .ms(0)
        .len(2)
        .id128(1, 1)
        .id128(2, 0);
    let body = with_groups(g);
    let s = read(&body, 2).unwrap();
    assert_eq!(s.groups[0].pel[0].id, StreamId::new(2, 0));
}

#[test]
fn s14_consumer_names_unique() {
    let g = Body::default()
        .len(1)
        .str(b"g")
        .id(1, 1)
        .len(1)
        .len(0)
        .len(2)
        .str(b"c")
        .ms(0)
        .len(0)
        .str(b"c")
        .ms(0)
        .len(0);
    assert_eq!(kind(&with_groups(g), 2), ErrorKind::Duplicate);
}

#[test]
fn s15_consumer_pel_ids_in_the_group_pel() {
    let g = Body::default()
        .len(1)
        .str(b"g")
        .id(1, 1)
        .len(1)
        .len(1)
        .id128(1, 1)
        .ms(0)
        .len(1)
        .len(1)
        .str(b"c")
        .ms(0)
        .len(2)
        .id128(1, 1)
        .id128(1, 2);
    assert_eq!(kind(&with_groups(g), 2), ErrorKind::InvalidStream);
}

#[test]
fn s16_consumer_pel_without_duplicates() {
    let g = Body::default()
        .len(1)
        .str(b"g")
        .id(1, 1)
        .len(1)
        .len(1)
        .id128(1, 1)
        .ms(0)
        .len(1)
        .len(1)
        .str(b"c")
        .ms(0)
        .len(2)
        .id128(1, 1)
        .id128(1, 1);
    assert_eq!(kind(&with_groups(g), 2), ErrorKind::Duplicate);
}

#[test]
fn s17_one_owner_per_pel_entry() {
    // Two consumers sharing one NACK: a use-after-free in native until 2026.
    let g = Body::default()
        .len(1)
        .str(b"g")
        .id(1, 1)
        .len(1)
        .len(1)
        .id128(1, 1)
        .ms(0)
        .len(1)
        .len(2)
        .str(b"a")
        .ms(0)
        .len(1)
        .id128(1, 1)
        .str(b"b")
        .ms(0)
        .len(1)
        .id128(1, 1);
    assert_eq!(kind(&with_groups(g), 2), ErrorKind::InvalidStream);
}

#[test]
fn s18_every_pel_entry_has_an_owner() {
    let g = Body::default()
        .len(1)
        .str(b"g")
        .id(1, 1)
        .len(1)
        .len(2)
        .id128(1, 1)
        .ms(0)
        .len(1)
        .id128(1, 2)
        .ms(0)
        .len(1)
        .len(1)
        .str(b"c")
        .ms(0)
        .len(1)
        .id128(1, 1);
    assert_eq!(kind(&with_groups(g), 2), ErrorKind::InvalidStream);
    // With no consumers at all.
    let g = Body::default()
        .len(1)
        .str(b"g")
        .id(1, 1)
        .len(1)
        .len(1)
        .id128(1, 1)
        .ms(0)
        .len(1)
        .len(0);
    assert_eq!(kind(&with_groups(g), 2), ErrorKind::InvalidStream);
}

#[test]
fn entries_added_and_max_deleted_as_xsetid_requires() {
    // entries_added below length.
    let body = Body::default()
        .len(1)
        .node(1, 1, &one_entry_node())
        .len(1)
        .id(1, 1)
        .meta((1, 1), (0, 0), 0)
        .len(0);
    assert_eq!(kind(&body, 2), ErrorKind::InvalidStream);
    // entries_added above i64::MAX.
    let body = Body::default()
        .len(1)
        .node(1, 1, &one_entry_node())
        .len(1)
        .id(1, 1)
        .meta((1, 1), (0, 0), 1 << 63)
        .len(0);
    assert_eq!(kind(&body, 2), ErrorKind::InvalidStream);
    // max_deleted above last_id.
    let body = Body::default()
        .len(1)
        .node(1, 1, &one_entry_node())
        .len(1)
        .id(1, 1)
        .meta((1, 1), (1, 2), 2)
        .len(0);
    assert_eq!(kind(&body, 2), ErrorKind::InvalidStream);
}

#[test]
fn entries_read_is_an_i64_or_unknown() {
    let group = |n: u64| {
        Body::default()
            .len(1)
            .str(b"g")
            .id(1, 1)
            .len(n)
            .len(0)
            .len(0)
    };
    assert_eq!(
        read(&with_groups(group(u64::MAX)), 2).unwrap().groups[0].entries_read,
        None
    );
    assert_eq!(
        read(&with_groups(group(i64::MAX as u64)), 2)
            .unwrap()
            .groups[0]
            .entries_read,
        Some(i64::MAX as u64)
    );
    // Above entries_added is not checked (XSETID can lower entries_added below a group's count).
    assert_eq!(
        read(&with_groups(group(7)), 2).unwrap().groups[0].entries_read,
        Some(7)
    );
    assert_eq!(
        kind(&with_groups(group(1 << 63)), 2),
        ErrorKind::InvalidStream
    );
    assert_eq!(
        kind(&with_groups(group(u64::MAX - 1)), 2),
        ErrorKind::InvalidStream
    );
}

// ---------------------------------------------------------------------------------------------
// Types 26 and 27

/// IDMP trailer with no producers.
fn no_idmp() -> Body {
    Body::default().len(100).len(100).len(0).len(0).len(0)
}

/// A group with PEL 1-1 (owned by c), 1-2 and 1-3 (not owned), then `nacked`.
fn nack_group(nacked: &[(u64, u64)]) -> Body {
    let mut g = Body::default()
        .len(1)
        .str(b"g")
        .id(1, 3)
        .len(3)
        .len(3)
        .id128(1, 1)
        .ms(1)
        .len(1)
        .id128(1, 2)
        .ms(2)
        .len(1)
        .id128(1, 3)
        .ms(3)
        .len(1)
        .len(1)
        .str(b"c")
        .ms(0)
        .ms(0)
        .len(1)
        .id128(1, 1)
        .len(nacked.len() as u64);
    for &(ms, seq) in nacked {
        g = g.id128(ms, seq);
    }
    g
}

#[test]
fn v5_nack_zone() {
    let body = with_groups(nack_group(&[(1, 3), (1, 2)])).raw(&no_idmp().0);
    let s = read(&body, 5).unwrap();
    let g = &s.groups[0];
    assert_eq!(g.nacked, [StreamId::new(1, 3), StreamId::new(1, 2)]);
    assert_eq!(
        g.pel.iter().map(|p| p.consumer).collect::<Vec<_>>(),
        [Some(0), None, None]
    );
}

#[test]
fn v5_nack_zone_rules() {
    let cases: [(&[(u64, u64)], ErrorKind); 4] = [
        (&[(1, 2)], ErrorKind::InvalidStream), // 1-3 neither owned nor nacked (S18)
        (&[(1, 2), (1, 3), (1, 9)], ErrorKind::InvalidStream), // 1-9 not in the group PEL
        (&[(1, 2), (1, 3), (1, 1)], ErrorKind::InvalidStream), // 1-1 has a consumer
        (&[(1, 2), (1, 3), (1, 2)], ErrorKind::Duplicate), // nacked twice
    ];
    for (nacked, want) in cases {
        let body = with_groups(nack_group(nacked)).raw(&no_idmp().0);
        assert_eq!(kind(&body, 5), want, "{nacked:?}");
    }
}

#[test]
fn nack_zone_is_only_in_v5() {
    // The same group read as v4 has no NACK zone: the count byte becomes the IDMP duration, and
    // the ownerless entries fail S18 first.
    let body = with_groups(nack_group(&[(1, 2), (1, 3)])).raw(&no_idmp().0);
    assert_eq!(kind(&body, 4), ErrorKind::InvalidStream);
}

#[test]
fn v4_idmp_state() {
    let idmp = Body::default()
        .len(100)
        .len(1000) // duration 100 s, max 1000 IIDs per producer
        .len(3) // producers
        .str(b"p1")
        .len(3) //   p1: three IIDs, one repeated
        .str(b"i1")
        .id(1, 1)
        .str(b"i2")
        .id(1, 1)
        .str(b"i1")
        .id(1, 1)
        .str(b"gone")
        .len(0) //   all expired when saved: skipped
        .str(b"p2")
        .len(1)
        .raw(&[0xc0, 7])
        .id(1, 1)
        .len(40)
        .len(2); // iids_added, iids_duplicates
    let body = one_entry_stream().len(0).raw(&idmp.0);
    let s = read(&body, 4).unwrap();
    let i = s.idmp.as_ref().unwrap();
    assert_eq!(
        (i.duration, i.max_entries, i.iids_added, i.iids_duplicates),
        (100, 1000, 40, 2)
    );
    assert_eq!(i.producers.len(), 2);
    let iids: Vec<String> = i.producers[0]
        .entries
        .iter()
        .map(|e| name(&e.iid))
        .collect();
    assert_eq!(iids, ["i1", "i2"]);
    assert_eq!(name(&i.producers[1].entries[0].iid), "7");
    assert_eq!(i.producers[1].entries[0].stream_id, StreamId::new(1, 1));
}

#[test]
fn v4_repeated_producer() {
    let idmp = Body::default()
        .len(100)
        .len(100)
        .len(2)
        .str(b"p")
        .len(1)
        .str(b"i")
        .id(1, 1)
        .str(b"p")
        .len(1)
        .str(b"j")
        .id(1, 1)
        .len(2)
        .len(0);
    assert_eq!(
        kind(&one_entry_stream().len(0).raw(&idmp.0), 4),
        ErrorKind::Duplicate
    );
    // An empty producer is skipped before the duplicate check, as native does.
    let idmp = Body::default()
        .len(100)
        .len(100)
        .len(2)
        .str(b"p")
        .len(0)
        .str(b"p")
        .len(1)
        .str(b"j")
        .id(1, 1)
        .len(1)
        .len(0);
    assert!(read(&one_entry_stream().len(0).raw(&idmp.0), 4).is_ok());
}

#[test]
fn v4_consumers_have_active_time() {
    let g = Body::default()
        .len(1)
        .str(b"g")
        .id(1, 1)
        .len(1)
        .len(0)
        .len(1)
        .str(b"c")
        .ms(5)
        .ms(6)
        .len(0);
    let body = with_groups(g).raw(&no_idmp().0);
    let s = read(&body, 4).unwrap();
    assert_eq!(s.groups[0].consumers[0].active_time, Some(6));
}

/// A bad element k of a node listpack is reported at element k, in the payload or, for an
/// LZF-compressed node, in the decompressed listpack.
#[test]
fn node_errors_point_at_the_offending_element() {
    // one_entry_node, with its master field count (element 2), its entry flags (5) or its
    // lp_count (9) broken.
    let elements = [
        I(1),
        I(0),
        I(1),
        S(b"a"),
        I(0),
        I(2),
        I(0),
        I(0),
        I(1),
        I(4),
    ];
    let at = |k: usize| -> usize {
        6 + elements[..k]
            .iter()
            .map(|&e| lp_element(e).len())
            .sum::<usize>()
    };
    for (k, bad) in [(2, I(-1)), (5, I(64)), (9, I(5))] {
        let mut broken = elements;
        broken[k] = bad;
        let lp = listpack(&broken);
        let walk = |base| {
            node::walk(&lp, base, StreamId::new(1, 0), None, &mut |_, _, _| {
                Ok::<_, DecodeError>(())
            })
            .unwrap_err()
        };
        let e = walk(Base::payload(100));
        assert_eq!(
            (e.kind, e.offset, e.decompressed),
            (ErrorKind::InvalidStream, 100 + at(k), None),
            "element {k}"
        );
        let e = walk(Base::decompressed(40));
        assert_eq!((e.offset, e.decompressed), (at(k), Some(40)));
    }
}

/// The validating walk (no scratch: fields and values skipped) and the materialising walk give
/// the same result for every node: the same entries, counts and error (kind and place). Every
/// node of the stream vectors, and each with elements replaced by others of every kind.
#[test]
fn validating_and_materialising_node_walks_agree() {
    type Walked = (
        core::result::Result<NodeCounts, DecodeError>,
        Vec<(StreamId, bool)>,
    );
    let walk = |lp: &[u8], master: StreamId, materialise: bool| -> Walked {
        let mut seen = Vec::new();
        let mut scratch = node::Scratch::default();
        let counts = node::walk(
            lp,
            Base::payload(9),
            master,
            materialise.then_some(&mut scratch),
            &mut |id, deleted, _| {
                seen.push((id, deleted));
                Ok::<_, DecodeError>(())
            },
        );
        (counts, seen)
    };
    let mut nodes: Vec<(Vec<u8>, StreamId)> = Vec::new();
    for v in stream_vector_payloads() {
        if let Ok(d) = decode(&v) {
            if let Value::Stream(s) = d.value {
                nodes.extend(s.nodes.iter().map(|n| (n.listpack.to_vec(), n.master_id)));
            }
        }
    }
    assert!(nodes.len() > 20, "stream vectors found: {}", nodes.len());
    let kinds = [
        I(0),
        I(1),
        I(2),
        I(3),
        I(-1),
        I(5000),
        S(b"x"),
        S(b"12"),
        S(b""),
    ];
    let mut rng = restore_testkit::rng::XorShift::new(0x9e37_79b9_7f4a_7c15);
    let mut next = move || rng.next_u64();
    let (mut accepted, mut refused) = (0, 0);
    let mut agree = |lp: &[u8], master: StreamId| {
        let validated = walk(lp, master, false);
        match &validated.0 {
            Ok(_) => accepted += 1,
            Err(_) => refused += 1,
        }
        assert_eq!(validated, walk(lp, master, true));
    };
    for (lp, master) in nodes.iter().take(200) {
        agree(lp, *master);
        // Elements of the node, each replaced by another kind, 40 times.
        let Ok(elements) = crate::decode::listpack::elements(lp, 0.into()) else {
            continue;
        };
        for _ in 0..40 {
            let mut encoded: Vec<Vec<u8>> = elements
                .iter()
                .map(|e| match *e {
                    Element::Int(i) => lp_element(I(i)),
                    Element::Bytes(b) => {
                        entry_bytes(&[0xe0 | (b.len() >> 8) as u8, b.len() as u8], b)
                    }
                })
                .collect();
            let k = (next() as usize) % encoded.len();
            encoded[k] = lp_element(kinds[(next() as usize) % kinds.len()]);
            if next() % 4 == 0 {
                encoded.truncate((next() as usize) % encoded.len());
            }
            let refs: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
            let mut lp = build(&refs, encoded.len() as u16);
            if next() % 8 == 0 {
                let at = 6 + (next() as usize) % (lp.len() - 6);
                lp[at] = next() as u8;
            }
            agree(&lp, *master);
        }
    }
    assert!(
        accepted > 1000 && refused > 1000,
        "{accepted} accepted, {refused} refused"
    );
}

/// The stream payloads of `tests/vectors` (read here: the core's unit tests do not use the
/// testkit).
fn stream_vector_payloads() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut out = Vec::new();
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "dump")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().contains("stream"))
            {
                out.extend(std::fs::read(&p).ok());
            }
        }
    }
    out
}
