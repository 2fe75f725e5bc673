//! The writer against the reader: for every valid vector and every release in the table, the
//! value written into an RDB file for that release comes back from `RdbFile` as the same value
//! (field TTLs per policy where the release has none), with its key, database, expiry and
//! LRU/LFU attributes, and the object bytes the encoder chose; the file's header, AUX fields,
//! function libraries and checksum read back as written.

use restore_core::decode;
use restore_core::encode::{payload_for_target, EncodeOptions, FieldTtlPolicy};
use restore_core::rdb_file::{Checksum, Header, RdbFile, Record};
use restore_core::rdb_writer::{target_of, HeaderInfo, KeyAttrs, RdbWriter, WriteError};
use restore_core::release::{Engine, Release, RELEASES};

use restore_testkit::canon::canon;
use restore_testkit::vectors;

const LIBRARY: &[u8] = b"#!lua name=lib\nredis.register_function('f', function() return 1 end)";
const DBS: [u64; 2] = [0, 7];

/// What a key is expected to read back as.
struct Expected {
    db: u64,
    key: Vec<u8>,
    attrs: KeyAttrs,
    /// The encoder's object bytes (its payload without the footer).
    object: Vec<u8>,
    source: usize,
}

fn attrs_for(i: usize) -> KeyAttrs {
    KeyAttrs {
        expire_ms: i.is_multiple_of(3).then_some(4_000_000_000_000 + i as i64),
        idle_seconds: i.is_multiple_of(2).then_some(i as u64 * 1000),
        freq: i.is_multiple_of(5).then_some((i % 256) as u8),
    }
}

/// Writes every vector the release can hold into one file (alternating between two
/// databases), and returns the file with what each key should read back as.
fn write_file(
    rel: &Release,
    payloads: &[(String, &[u8])],
    policy: FieldTtlPolicy,
) -> (Vec<u8>, Vec<Expected>, usize) {
    let opts = EncodeOptions {
        field_ttl_policy: policy,
        now_ms: 0,
    };
    let target = target_of(rel);
    let info = HeaderInfo {
        ctime: 1_765_000_000,
        used_mem: 123_456,
    };
    let mut w = RdbWriter::new(Vec::new(), rel, info).unwrap();
    if rel.rdb_version >= 10 {
        w.function(LIBRARY).unwrap();
    } else {
        assert!(matches!(
            w.function(LIBRARY),
            Err(WriteError::NoFunctions { .. })
        ));
    }
    let (mut expected, mut refused) = (vec![], 0);
    for (n, db) in DBS.into_iter().enumerate() {
        w.select_db(db, Some((payloads.len() as u64 / 2, 0)))
            .unwrap();
        for (i, (name, bytes)) in payloads.iter().enumerate().skip(n).step_by(2) {
            let d = decode::decode(bytes).unwrap();
            let attrs = attrs_for(i);
            match w.key(name.as_bytes(), &attrs, &d, bytes, &opts) {
                Ok(()) => {}
                Err(WriteError::Unsupported(why)) => {
                    // The encoder's refusal, unchanged.
                    assert_eq!(payload_for_target(&d, bytes, target, &opts), Err(why));
                    refused += 1;
                    continue;
                }
                Err(e) => panic!("{name}: {e}"),
            }
            let out = payload_for_target(&d, bytes, target, &opts).unwrap();
            expected.push(Expected {
                db,
                key: name.as_bytes().to_vec(),
                attrs,
                object: out[..out.len() - 10].to_vec(),
                source: i,
            });
        }
    }
    (w.finish().unwrap(), expected, refused)
}

#[test]
fn every_vector_round_trips_through_a_file_for_every_release() {
    let payloads: Vec<(String, &[u8])> = vectors::select(|j| j["expect"].as_str() != Some("error"))
        .filter(|v| decode::decode(&v.dump).is_ok())
        .map(|v| (v.name(), v.dump.as_slice()))
        .collect();
    assert!(payloads.len() > 900, "{}", payloads.len());
    let (mut keys, mut refused) = (0, 0);
    for rel in RELEASES {
        let target = target_of(rel);
        for policy in [FieldTtlPolicy::Reject, FieldTtlPolicy::Persist] {
            let what = format!(
                "{} {:x} (RDB {}) {policy:?}",
                rel.server.name(),
                rel.version,
                rel.rdb_version
            );
            let (file, expected, r) = write_file(rel, &payloads, policy);
            refused += r;
            let mut reader = RdbFile::new(file.as_slice());
            assert_eq!(
                reader.header().unwrap(),
                Header {
                    version: rel.rdb_version,
                    valkey: rel.server == Engine::Valkey && rel.rdb_version >= 80,
                },
                "{what}"
            );
            let mut expected = expected.iter();
            let (mut aux, mut functions, mut end) = (vec![], 0, None);
            while let Some(record) = reader.next_record().unwrap() {
                match record {
                    Record::Aux { key, .. } => aux.push(String::from_utf8(key).unwrap()),
                    Record::Function { code } => {
                        assert_eq!(code, LIBRARY, "{what}");
                        functions += 1;
                    }
                    Record::SelectDb(_) | Record::ResizeDb { .. } => {}
                    Record::Key(k) => {
                        let e = expected.next().expect("no more keys were written");
                        let name = String::from_utf8_lossy(&e.key);
                        assert_eq!((k.db, &k.key), (e.db, &e.key), "{what}");
                        assert_eq!(k.expire_ms, e.attrs.expire_ms, "{what} {name}");
                        let lru = rel.rdb_version >= 8;
                        assert_eq!(
                            (k.idle_seconds, k.freq),
                            (
                                e.attrs.idle_seconds.filter(|_| lru),
                                e.attrs.freq.filter(|_| lru)
                            ),
                            "{what} {name}"
                        );
                        // The record holds exactly the encoder's object, under the file's version.
                        let object = &k.payload[..k.payload.len() - 10];
                        assert!(object == e.object.as_slice(), "{what} {name}: object");
                        let again = decode::decode(&k.payload)
                            .unwrap_or_else(|err| panic!("{what} {name}: {err}"));
                        assert_eq!(again.rdb_version, rel.rdb_version);
                        let source = decode::decode(payloads[e.source].1).unwrap();
                        let keep_ttls = target.has_field_ttls();
                        let v1 = again.type_id == 15;
                        assert_eq!(
                            canon(&again.value, keep_ttls, v1),
                            canon(&source.value, keep_ttls, v1),
                            "{what} {name}"
                        );
                        keys += 1;
                    }
                    Record::End { checksum } => end = Some(checksum),
                    other => panic!("{what}: unexpected {other:?}"),
                }
            }
            assert!(expected.next().is_none(), "{what}: keys missing");
            assert_eq!(end, Some(Checksum::Ok), "{what}");
            assert_eq!(functions, usize::from(rel.rdb_version >= 10), "{what}");
            let ver = match rel.server {
                Engine::Redis => "redis-ver",
                Engine::Valkey => "valkey-ver",
            };
            if rel.rdb_version >= 7 {
                assert_eq!(aux[..4], [ver, "redis-bits", "ctime", "used-mem"], "{what}");
            } else {
                assert!(aux.is_empty(), "{what}");
            }
        }
    }
    // Every release holds most vectors; some refuse some (streams before 5.0, field TTLs under
    // reject, arrays and path hashes outside their lines).
    assert!(keys > RELEASES.len() * 2 * 800, "{keys}");
    assert!(refused > 0, "{refused}");
    eprintln!("{keys} keys read back, {refused} refused");
}

#[test]
fn a_file_written_to_a_failing_output_is_an_io_error() {
    struct Full(usize);
    impl std::io::Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 < buf.len() {
                return Err(std::io::Error::other("disk full"));
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let rel = RELEASES.iter().find(|r| r.rdb_version == 11).unwrap();
    let mut w = RdbWriter::new(Full(100), rel, HeaderInfo::default()).unwrap();
    w.select_db(0, None).unwrap();
    let big = vec![0u8; 1 << 20];
    assert!(matches!(
        w.key_object(b"k", &KeyAttrs::default(), &big, 0),
        Err(WriteError::Io(_))
    ));
}
