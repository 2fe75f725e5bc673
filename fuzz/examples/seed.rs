//! Builds the seed corpora for every fuzz target from the golden vectors.
//!
//! `cargo run --release --example seed -- <vectors dir> <corpus dir>` (see `seed.sh`). For each
//! `*.dump` under the vectors dir (recursively, corrupt ones included):
//! - `object`, `payload`: the version byte (`byte_for_version`) + the object bytes;
//! - `stream`: the layout byte + the body of types 15, 19, 21, 26 and 27;
//! - `string`: every string object at the top of a body (type 0 values, the blob string of
//!   packed types, every quicklist node), LZF-compressed ones included;
//! - `listpack`, `ziplist`, `intset`, `zipmap`: the inner blobs, decompressed, taken from the
//!   decoded value (or, for streams, from their node list).
//!
//! Files are named by a hash of their content, so re-running adds nothing twice.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use restore_asking_fuzz::{byte_for_version, STREAM_TYPES};
use restore_core::decode::cursor::Cursor;
use restore_core::decode::length::{read_blob, read_len, read_string};
use restore_core::decode::payload::decode_object;
use restore_core::decode::value::{HashRepr, ListNode, SetRepr, SortedSetRepr, StringList, Value};

#[derive(Default)]
struct Corpora {
    files: BTreeMap<&'static str, BTreeMap<u64, Vec<u8>>>,
}

impl Corpora {
    fn add(&mut self, target: &'static str, bytes: &[u8]) {
        self.files
            .entry(target)
            .or_default()
            .insert(fnv1a(bytes), bytes.to_vec());
    }

    fn write(&self, dir: &Path) -> std::io::Result<()> {
        for (target, files) in &self.files {
            let sub = dir.join(target);
            std::fs::create_dir_all(&sub)?;
            for (hash, bytes) in files {
                std::fs::write(sub.join(format!("{hash:016x}")), bytes)?;
            }
            println!("{:>9}: {:5} seeds", target, files.len());
        }
        Ok(())
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    })
}

fn dumps(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            dumps(&path, out);
        } else if path.extension().is_some_and(|e| e == "dump") {
            out.push(path);
        }
    }
}

/// The raw bytes of the string object at the cursor, and advances past it.
fn raw_string<'a>(c: &mut Cursor<'a>, all: &'a [u8]) -> Option<&'a [u8]> {
    let start = c.offset();
    read_string(c).ok()?;
    all.get(start..c.offset())
}

/// Seeds from a stream body: its node listpacks (`LEN nodes`, then `STR id`, `STR listpack`).
fn stream_nodes(body: &[u8], corpora: &mut Corpora) {
    let mut c = Cursor::new(body);
    let Ok(n) = read_len(&mut c) else { return };
    for _ in 0..n.min(10_000) {
        let (Ok(_), Ok(lp)) = (read_blob(&mut c), read_blob(&mut c)) else {
            return;
        };
        corpora.add("listpack", &lp);
    }
}

/// Seeds from the top-level strings of a body: whole string values, packed blobs, quicklist
/// nodes (compressed or not).
fn strings(type_id: u8, body: &[u8], corpora: &mut Corpora) {
    let mut c = Cursor::new(body);
    match type_id {
        0 | 9..=13 | 16 | 17 | 20 => {
            if let Some(s) = raw_string(&mut c, body) {
                corpora.add("string", s);
            }
        }
        14 | 18 => {
            let Ok(n) = read_len(&mut c) else { return };
            for _ in 0..n.min(10_000) {
                if type_id == 18 && read_len(&mut c).is_err() {
                    return;
                }
                match raw_string(&mut c, body) {
                    Some(s) => corpora.add("string", s),
                    None => return,
                }
            }
        }
        _ => {}
    }
}

fn blobs(value: &Value<'_>, corpora: &mut Corpora) {
    match value {
        Value::List(list) => {
            for node in &list.nodes {
                match node {
                    ListNode::Ziplist(b) => corpora.add("ziplist", b),
                    ListNode::Listpack(b) => corpora.add("listpack", b),
                    ListNode::Plain(_) | ListNode::Strings(_) => {}
                }
            }
        }
        Value::Set(set) => match &set.repr {
            SetRepr::Intset(b) => corpora.add("intset", b),
            SetRepr::Listpack(b) => corpora.add("listpack", b),
            SetRepr::Plain(_) => {}
        },
        Value::SortedSet(zset) => match &zset.repr {
            SortedSetRepr::Ziplist(b) => corpora.add("ziplist", b),
            SortedSetRepr::Listpack(b) => corpora.add("listpack", b),
            SortedSetRepr::Plain(_) => {}
        },
        Value::Hash(hash) => match &hash.repr {
            HashRepr::Zipmap(b) => corpora.add("zipmap", b),
            HashRepr::Ziplist(b) => corpora.add("ziplist", b),
            HashRepr::Listpack(b) | HashRepr::ListpackWithTtl(b) => corpora.add("listpack", b),
            HashRepr::Template { fields, values } => {
                for list in [fields, values] {
                    match list {
                        StringList::Listpack(b) | StringList::ListpackAfterId(b) => {
                            corpora.add("listpack", b)
                        }
                        StringList::Plain(_) => {}
                    }
                }
            }
            HashRepr::Plain(_) | HashRepr::PlainWithTtl(_) => {}
        },
        Value::String(_)
        | Value::Stream(_)
        | Value::Module(_)
        | Value::Array(_)
        | Value::PathHash(_) => {}
    }
}

/// No vector holds a zipmap (only Redis <= 2.4 wrote them): a few are made here, as blobs and
/// as whole type-9 objects.
fn zipmaps(corpora: &mut Corpora) {
    let mut long = vec![2, 1, b'k', 0xfe];
    long.extend_from_slice(&300u32.to_le_bytes());
    long.push(2); // free
    long.extend(std::iter::repeat_n(b'v', 300 + 2));
    long.extend_from_slice(&[3, b'a', b'b', b'c', 0, 0, 0xff]);
    let blobs: [Vec<u8>; 4] = [
        // {id: abc} with one free byte after the value.
        vec![1, 2, b'i', b'd', 3, 1, b'a', b'b', b'c', b'?', 0xff],
        // Two pairs, count unknown (254), an empty value.
        vec![254, 1, b'a', 1, 0, b'1', 2, b'b', b'b', 0, 0, 0xff],
        // A 300-byte value (5-byte length) with 2 free bytes, then {abc: ""}.
        long,
        vec![0, 0xff],
    ];
    for blob in blobs {
        corpora.add("zipmap", &blob);
        // As a string object (14-bit length), and as a type-9 object of an RDB 6 payload.
        let string = [
            &[0x40 | (blob.len() >> 8) as u8, blob.len() as u8][..],
            &blob,
        ]
        .concat();
        corpora.add("string", &string);
        let object = [&[byte_for_version(6).unwrap_or(0), 9][..], &string].concat();
        corpora.add("object", &object);
        corpora.add("payload", &object);
    }
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let vectors = PathBuf::from(args.get(1).map_or("../tests/vectors", String::as_str));
    let out = PathBuf::from(args.get(2).map_or("corpus", String::as_str));
    let mut paths = Vec::new();
    dumps(&vectors, &mut paths);
    paths.sort();
    if paths.is_empty() {
        eprintln!("no .dump files under {}", vectors.display());
        std::process::exit(1);
    }

    let mut corpora = Corpora::default();
    for path in &paths {
        let dump = std::fs::read(path)?;
        if dump.len() < 11 {
            continue;
        }
        let footer = dump.len() - 10;
        let version = u16::from_le_bytes([dump[footer], dump[footer + 1]]);
        let object = &dump[..footer];
        let mut versioned = vec![byte_for_version(version).unwrap_or(0)];
        versioned.extend_from_slice(object);
        corpora.add("object", &versioned);
        corpora.add("payload", &versioned);

        let (type_id, body) = (object[0], &object[1..]);
        // rdb_file: the object as a key record of a one-key file (read in 1-byte chunks).
        if type_id != 243 && restore_core::release::is_known_rdb_version(version) {
            let mut file = vec![0u8];
            if version >= 80 {
                file.extend_from_slice(format!("VALKEY{version:03}").as_bytes());
            } else {
                file.extend_from_slice(format!("REDIS{version:04}").as_bytes());
            }
            file.extend_from_slice(&[0xfe, 0x00, type_id, 0x01, b'k']);
            file.extend_from_slice(body);
            file.push(0xff);
            let crc = restore_core::decode::payload::crc64(&file[1..]);
            file.extend_from_slice(&crc.to_le_bytes());
            corpora.add("rdb_file", &file);
        }
        if let Some(layout) = STREAM_TYPES.iter().position(|&t| t == type_id) {
            let mut seed = vec![layout as u8];
            seed.extend_from_slice(body);
            corpora.add("stream", &seed);
            stream_nodes(body, &mut corpora);
        }
        strings(type_id, body, &mut corpora);
        if let Ok(decoded) = decode_object(object, version) {
            blobs(&decoded.value, &mut corpora);
        }
    }
    zipmaps(&mut corpora);
    println!("{} dumps from {}", paths.len(), vectors.display());
    corpora.write(&out)
}
