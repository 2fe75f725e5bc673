//! The streaming RDB file reader: files built from every vector, every record kind, template
//! references, and truncated or corrupt files (an error with an offset, never a panic).

use restore_testkit::vectors::{self, Vector};

use std::io::Read;

use restore_core::decode;
use restore_core::encode::{put_len, put_string};
use restore_core::rdb::*;
use restore_core::rdb_file::*;

/// An RDB file: magic for `version`, the records, EOF and the CRC-64 of it all.
fn file(version: u16, records: &[u8]) -> Vec<u8> {
    let mut out = if version >= 80 {
        format!("VALKEY{version:03}").into_bytes()
    } else {
        format!("REDIS{version:04}").into_bytes()
    };
    out.extend_from_slice(records);
    out.push(RDB_OPCODE_EOF);
    if version >= 5 {
        let crc = decode::payload::crc64(&out);
        out.extend_from_slice(&crc.to_le_bytes());
    }
    out
}

/// The record a server writes for a key whose DUMP payload is `payload`.
fn key_record(out: &mut Vec<u8>, key: &[u8], payload: &[u8]) {
    let d = decode::decode(payload).unwrap();
    let object = &payload[..payload.len() - 10];
    out.extend_from_slice(&object[..=d.type_offset]);
    put_string(out, key);
    out.extend_from_slice(&object[d.type_offset + 1..]);
}

/// A reader that hands out at most `step` bytes per read: records straddle every boundary.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn read_all(r: impl Read, max_record: usize) -> Result<Vec<Record>, FileError> {
    let mut f = RdbFile::new(r).with_max_record(max_record);
    let mut out = Vec::new();
    while let Some(rec) = f.next_record()? {
        out.push(rec);
    }
    Ok(out)
}

fn keys(records: &[Record]) -> Vec<&KeyRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Key(k) => Some(k),
            _ => None,
        })
        .collect()
}

#[test]
fn every_vector_comes_back_as_its_own_payload() {
    let vectors: Vec<_> = vectors::all()
        .iter()
        .map(Vector::parts)
        .filter(|(_, dump, _)| decode::decode(dump).is_ok())
        // Re-stamped footers (no server writes a 22 into a version-11 file) are DUMP-only.
        .filter(|(_, dump, _)| {
            dump[0] < 22 || decode::split_envelope(dump).unwrap().rdb_version > 11
        })
        .collect();
    assert!(vectors.len() > 100, "{} vectors", vectors.len());
    let mut versions: Vec<u16> = vectors
        .iter()
        .map(|(_, d, _)| decode::split_envelope(d).unwrap().rdb_version)
        .collect();
    versions.sort();
    versions.dedup();
    let mut total = 0;
    for version in versions {
        let mine: Vec<_> = vectors
            .iter()
            .filter(|(_, d, _)| decode::split_envelope(d).unwrap().rdb_version == version)
            .collect();
        let mut records = Vec::new();
        records.extend_from_slice(&[RDB_OPCODE_SELECTDB, 3]);
        for (i, (_, dump, _)) in mine.iter().enumerate() {
            if i % 2 == 0 {
                records.push(RDB_OPCODE_EXPIRETIME_MS);
                records.extend_from_slice(&(1_900_000_000_000i64 + i as i64).to_le_bytes());
            }
            key_record(&mut records, format!("key:{i}").as_bytes(), dump);
        }
        let data = file(version, &records);
        // Whole, and one byte per read with a buffer that must grow from its smallest size.
        for (step, max) in [(usize::MAX, DEFAULT_MAX_RECORD), (1, 1 << 24), (7, 1 << 24)] {
            let recs = read_all(Trickle { data: &data, step }, max)
                .unwrap_or_else(|e| panic!("version {version} step {step}: {e}"));
            let ks = keys(&recs);
            assert_eq!(ks.len(), mine.len(), "version {version}");
            for (i, (k, (_, dump, path))) in ks.iter().zip(&mine).enumerate() {
                assert_eq!(k.payload, *dump, "{}", path.display());
                assert_eq!(k.key, format!("key:{i}").as_bytes());
                assert_eq!(k.db, 3);
                let want = (i % 2 == 0).then_some(1_900_000_000_000i64 + i as i64);
                assert_eq!(k.expire_ms, want);
            }
            assert_eq!(
                recs.last(),
                Some(&Record::End {
                    checksum: if version >= 5 {
                        Checksum::Ok
                    } else {
                        Checksum::Absent
                    }
                })
            );
        }
        total += mine.len();
    }
    assert_eq!(total, vectors.len());
    eprintln!("{total} vectors read back from RDB files");
}

/// A small file with every kind of record.
fn every_record() -> Vec<u8> {
    let mut r = Vec::new();
    r.push(RDB_OPCODE_AUX);
    put_string(&mut r, b"redis-ver");
    put_string(&mut r, b"8.10.0");
    r.push(RDB_OPCODE_AUX);
    put_string(&mut r, b"ctime");
    r.extend_from_slice(&[0xc2, 1, 2, 3, 4]); // an int-encoded aux value
    r.push(RDB_OPCODE_MODULE_AUX);
    put_len(&mut r, 0x1234_5678_9abc_d000); // module id
    r.extend_from_slice(&[2, 2, 2, 7, 5, 1, b'x', 0]); // when UINT 2, UINT 7, STRING "x", EOF
    r.push(RDB_OPCODE_FUNCTION2);
    put_string(
        &mut r,
        b"#!lua name=lib\nredis.register_function('f', function() return 1 end)",
    );
    r.push(RDB_OPCODE_HASH_TEMPLATE);
    put_len(&mut r, 5);
    put_len(&mut r, 2);
    put_string(&mut r, b"id");
    put_string(&mut r, b"name");
    r.extend_from_slice(&[RDB_OPCODE_SELECTDB, 0, RDB_OPCODE_RESIZEDB, 2, 1]);
    r.extend_from_slice(&[RDB_OPCODE_SLOT_INFO, 0x41, 0x00, 2, 1]);
    // A key with a seconds expiry, idle time and freq.
    r.push(RDB_OPCODE_EXPIRETIME);
    r.extend_from_slice(&2_000_000_000u32.to_le_bytes());
    r.extend_from_slice(&[RDB_OPCODE_IDLE, 0x40, 0x10, RDB_OPCODE_FREQ, 9]);
    r.push(0);
    put_string(&mut r, b"s");
    put_string(&mut r, b"hello");
    // A template array reference: template 5, values "7", "Ada".
    r.push(32);
    put_string(&mut r, b"t");
    put_len(&mut r, 5);
    put_string(&mut r, b"7");
    put_string(&mut r, b"Ada");
    file(15, &r)
}

#[test]
fn every_record_kind() {
    let recs = read_all(every_record().as_slice(), DEFAULT_MAX_RECORD).unwrap();
    assert_eq!(
        recs[0],
        Record::Aux {
            key: b"redis-ver".to_vec(),
            value: b"8.10.0".to_vec()
        }
    );
    assert_eq!(
        recs[1],
        Record::Aux {
            key: b"ctime".to_vec(),
            value: 0x04030201.to_string().into_bytes()
        }
    );
    assert!(matches!(&recs[2], Record::ModuleAux { when: 2, .. }));
    assert!(matches!(&recs[3], Record::Function { code } if code.starts_with(b"#!lua")));
    assert_eq!(recs[4], Record::HashTemplate { id: 5, fields: 2 });
    assert_eq!(recs[5], Record::SelectDb(0));
    assert_eq!(
        recs[6],
        Record::ResizeDb {
            keys: 2,
            expires: 1
        }
    );
    assert_eq!(
        recs[7],
        Record::SlotInfo {
            slot: 256,
            keys: 2,
            expires: 1
        }
    );
    let ks = keys(&recs);
    assert_eq!(ks[0].key, b"s");
    assert_eq!(ks[0].expire_ms, Some(2_000_000_000_000));
    assert_eq!(ks[0].idle_seconds, Some(0x10));
    assert_eq!(ks[0].freq, Some(9));
    assert_eq!(ks[1].expire_ms, None);
    // The reference became a self-contained template hash DUMP would write.
    let d = decode::decode(&ks[1].payload).unwrap();
    assert_eq!(d.type_id, 31);
    let decode::Value::Hash(h) = d.value else {
        panic!("not a hash")
    };
    let mut pairs = Vec::new();
    h.for_each(|f, v, _| {
        let (mut a, mut b) = ([0; 20], [0; 20]);
        pairs.push((f.bytes(&mut a).to_vec(), v.bytes(&mut b).to_vec()));
        Ok::<_, decode::DecodeError>(())
    })
    .unwrap();
    assert_eq!(
        pairs,
        vec![
            (b"id".to_vec(), b"7".to_vec()),
            (b"name".to_vec(), b"Ada".to_vec())
        ]
    );
    assert_eq!(
        recs.last(),
        Some(&Record::End {
            checksum: Checksum::Ok
        })
    );
}

#[test]
fn a_truncated_file_is_an_error_at_every_length() {
    let data = every_record();
    for len in 0..data.len() - 8 {
        let err = read_all(&data[..len], DEFAULT_MAX_RECORD).unwrap_err();
        assert!(
            matches!(err, FileError::Truncated { .. } | FileError::NotRdb),
            "{len}: {err}"
        );
    }
}

#[test]
fn corrupt_files_are_refused_with_an_offset() {
    let data = every_record();
    // Every single-byte change either reads (perhaps differently) or fails cleanly.
    for i in 9..data.len() {
        for x in [0x80u8, 0xff, 0x01] {
            let mut bad = data.clone();
            bad[i] ^= x;
            let _ = read_all(bad.as_slice(), 1 << 16);
        }
    }
    let mut crc = data.clone();
    let n = crc.len();
    crc[n - 1] ^= 1;
    let recs = read_all(crc.as_slice(), DEFAULT_MAX_RECORD).unwrap();
    assert!(matches!(
        recs.last(),
        Some(Record::End {
            checksum: Checksum::Mismatch { .. }
        })
    ));
    assert!(matches!(
        read_all(&b"RADIS0011"[..], 1 << 20),
        Err(FileError::NotRdb)
    ));
    assert!(matches!(
        read_all(&b"REDIS0016\xff"[..], 1 << 20),
        Err(FileError::UnsupportedVersion(16))
    ));
    // A reference to a template the file never defined.
    let mut r = vec![32];
    put_string(&mut r, b"t");
    put_len(&mut r, 9);
    let err = read_all(file(15, &r).as_slice(), 1 << 20).unwrap_err();
    assert!(
        matches!(err, FileError::Corrupt { offset: 12, .. }),
        "{err}"
    );
    // A string claiming 1 GB stops at the record limit, not at the end of memory.
    let mut r = vec![0];
    put_string(&mut r, b"k");
    r.extend_from_slice(&[0x80, 0x40, 0, 0, 0]);
    r.extend_from_slice(&[0; 100]);
    let big = file(11, &r);
    let err = read_all(
        std::io::Read::chain(big.as_slice(), std::io::repeat(0)),
        1 << 16,
    )
    .unwrap_err();
    assert!(
        matches!(err, FileError::RecordTooLarge { offset: 9, .. }),
        "{err}"
    );
}

#[test]
fn module_value_strings_are_framed_not_decompressed() {
    // A module value whose STRING operand is LZF that does not decompress (a literal run of 1
    // with no byte after it): the reader frames the key with its strings skipped as they are,
    // the decoder (which shares the opcode walk) refuses the payload at the string.
    let mut r = vec![RDB_TYPE_MODULE_2];
    put_string(&mut r, b"m");
    put_len(&mut r, 0x45e2_5238_df91_2c03); // ReJSON-RL, encver 3
    r.extend_from_slice(&[RDB_MODULE_OPCODE_UINT as u8, 7]);
    r.extend_from_slice(&[RDB_MODULE_OPCODE_STRING as u8, 0xc3, 1, 5, 0x00]);
    r.push(RDB_MODULE_OPCODE_EOF as u8);
    let recs = read_all(file(11, &r).as_slice(), 1 << 20).unwrap();
    let ks = keys(&recs);
    assert_eq!((ks.len(), ks[0].type_id), (1, RDB_TYPE_MODULE_2));
    let err = decode::decode(&ks[0].payload).unwrap_err();
    assert_eq!(err.kind, decode::ErrorKind::InvalidLzf);
    // At the string's header: after the type, the module id, UINT 7 and the STRING opcode.
    assert_eq!(err.offset, 13);
    // An unknown opcode is the module value's fault, at the opcode, for both.
    let mut bad = r.clone();
    bad[14] = 6;
    let err = read_all(file(11, &bad).as_slice(), 1 << 20).unwrap_err();
    assert!(
        matches!(err, FileError::Corrupt { offset: 23, .. }),
        "{err}"
    );
    let mut payload = ks[0].payload.clone();
    payload[12] = 6;
    let payload = restore_core::encode::finish_payload(payload[..payload.len() - 10].to_vec(), 11);
    let err = decode::decode(&payload).unwrap_err();
    assert_eq!(
        (err.kind, err.offset),
        (decode::ErrorKind::InvalidModuleValue, 12)
    );
}
