//! RDB files written for a target release, record by record, in bounded memory: the mirror of
//! [`crate::rdb_file`].
//!
//! ```text
//! file    = magic | AUX* | FUNCTION2* | (SELECTDB [RESIZEDB] key*)* | 0xFF | [CRC-64 u64 LE]
//! magic   = "REDIS" + 4 digits            (every Redis; Valkey up to RDB 11)
//!         | "VALKEY" + 3 digits           (Valkey 9+, RDB 80 and up)
//! AUX     = 0xFA str str                  (RDB 7+, Redis 3.2)
//! key     = [0xFC EXPIRETIME_MS i64 LE] [0xF8 IDLE len] [0xF9 FREQ u8]   (IDLE/FREQ: RDB 8+)
//!           [0xF3 key-metadata block] type str(key) value                (metadata: Redis 8.6+)
//! ```
//! The value bytes are those of a DUMP payload for the target, from the one encoder that decides
//! layouts ([`crate::encode::payload_for_target`]): a key record is that payload's object with
//! the key name after the type byte, and without its 10-byte footer. No rule about which
//! release reads which layout lives here.
//!
//! Memory: a 64 KiB staging buffer for the small records (opcodes, key names, small values);
//! larger values go straight from the payload to the output. The CRC-64 is kept as a running
//! digest over everything written, as the server's `rio` does.

use std::fmt;
use std::io::Write;

use crate::decode::payload::Decoded;
use crate::encode::{payload_for_target, put_len, put_string, EncodeOptions, Engine, Target};
use crate::rdb::*;
use crate::release::Release;
use crate::unsupported::Unsupported;

const FOOTER_SIZE: usize = 10;
/// Records are staged up to this size; values at least this large are written directly.
const STAGING: usize = 64 << 10;

/// The first RDB version of each record kind (`rdb.h`'s history).
const FIRST_AUX_VERSION: u16 = 7; // Redis 3.2: AUX, RESIZEDB
const FIRST_LRU_LFU_VERSION: u16 = 8; // Redis 4.0: IDLE, FREQ, aof-preamble
const FIRST_FUNCTION_VERSION: u16 = 10; // Redis 7.0: FUNCTION2, aof-base
const FIRST_CHECKSUM_VERSION: u16 = 5; // Redis 2.6 wrote 6; 5 added the CRC-64
/// The oldest version written: Redis 2.6's, the first release with DUMP (and EXPIRETIME_MS).
const OLDEST_WRITTEN: u16 = 6;

/// What went wrong while writing.
#[derive(Debug)]
pub enum WriteError {
    Io(std::io::Error),
    /// A valid value the target cannot hold (nothing was written for the key).
    Unsupported(Unsupported),
    /// Function libraries are saved in RDB files from version 10 (Redis 7.0) on.
    NoFunctions {
        target: String,
    },
    /// An RDB version no release writes, or older than any release with `DUMP`.
    UnsupportedVersion(u16),
    /// [`RdbWriter::key_object`] was given no type byte at `type_offset`.
    NoTypeByte,
}

impl fmt::Display for WriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Io(e) => write!(f, "write error: {e}"),
            WriteError::Unsupported(u) => u.fmt(f),
            WriteError::NoFunctions { target } => write!(
                f,
                "{target} has no functions (Redis 7.0+, RDB 10): function libraries cannot be written for it"
            ),
            WriteError::UnsupportedVersion(v) => write!(
                f,
                "RDB version {v} is not one a release with DUMP writes (6..=15, 80, 81)"
            ),
            WriteError::NoTypeByte => f.write_str("a key's object has no type byte"),
        }
    }
}

impl std::error::Error for WriteError {}

impl From<std::io::Error> for WriteError {
    fn from(e: std::io::Error) -> Self {
        WriteError::Io(e)
    }
}

impl From<Unsupported> for WriteError {
    fn from(u: Unsupported) -> Self {
        WriteError::Unsupported(u)
    }
}

/// What the header's AUX fields say about the save (the server writes its clock and memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderInfo {
    /// Unix seconds.
    pub ctime: i64,
    pub used_mem: u64,
}

/// What precedes a key's type byte besides its metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyAttrs {
    /// Absolute expiry in Unix milliseconds.
    pub expire_ms: Option<i64>,
    /// LRU idle time in seconds (dropped for targets before RDB 8).
    pub idle_seconds: Option<u64>,
    /// LFU counter (dropped for targets before RDB 8).
    pub freq: Option<u8>,
}

/// A streaming writer of an RDB file for one target release.
pub struct RdbWriter<W: Write> {
    out: W,
    staged: Vec<u8>,
    digest: crc_fast::Digest,
    written: u64,
    release: Release,
}

/// The target a release's `RESTORE` and loader are: its engine and RDB version.
pub fn target_of(release: &Release) -> Target {
    Target {
        engine: release.server,
        rdb_version: release.rdb_version,
    }
}

/// The version a release's `INFO` reports, as `redis-ver`/`valkey-ver` (its line's `.0`).
fn version_text(release: &Release) -> String {
    let v = release.version;
    format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

/// Appends a string as `rdbSaveRawString` would for short decimal integers (an integer
/// encoding), else plainly. The loader reads either; this keeps the header as a server writes it.
fn put_aux_string(out: &mut Vec<u8>, s: &[u8]) {
    let int = std::str::from_utf8(s)
        .ok()
        .filter(|t| t.len() <= 11)
        .and_then(|t| t.parse::<i64>().ok().filter(|n| n.to_string() == t));
    const ENC: u8 = RDB_ENCVAL << 6;
    match int {
        Some(n) if i8::try_from(n).is_ok() => out.extend([ENC | RDB_ENC_INT8, n as i8 as u8]),
        Some(n) if i16::try_from(n).is_ok() => {
            out.push(ENC | RDB_ENC_INT16);
            out.extend_from_slice(&(n as i16).to_le_bytes());
        }
        Some(n) if i32::try_from(n).is_ok() => {
            out.push(ENC | RDB_ENC_INT32);
            out.extend_from_slice(&(n as i32).to_le_bytes());
        }
        _ => put_string(out, s),
    }
}

impl<W: Write> RdbWriter<W> {
    /// Starts a file for `release`: the magic, and the AUX fields that release writes
    /// (`redis-ver` or `valkey-ver`, `redis-bits`, `ctime`, `used-mem`, `aof-preamble` or
    /// `aof-base`), where its version has AUX fields at all.
    pub fn new(out: W, release: &Release, info: HeaderInfo) -> Result<Self, WriteError> {
        let version = release.rdb_version;
        if version < OLDEST_WRITTEN || !crate::release::is_known_rdb_version(version) {
            return Err(WriteError::UnsupportedVersion(version));
        }
        let mut w = RdbWriter {
            out,
            staged: Vec::with_capacity(STAGING),
            digest: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Redis),
            written: 0,
            release: *release,
        };
        let magic = if release.server == Engine::Valkey && version >= 80 {
            format!("VALKEY{version:03}")
        } else {
            format!("REDIS{version:04}")
        };
        w.staged.extend_from_slice(magic.as_bytes());
        if version >= FIRST_AUX_VERSION {
            let ver_key: &[u8] = match release.server {
                Engine::Redis => b"redis-ver",
                Engine::Valkey => b"valkey-ver",
            };
            w.aux(ver_key, version_text(release).as_bytes())?;
            w.aux(b"redis-bits", b"64")?;
            w.aux(b"ctime", info.ctime.to_string().as_bytes())?;
            w.aux(b"used-mem", info.used_mem.to_string().as_bytes())?;
            if version >= FIRST_FUNCTION_VERSION {
                w.aux(b"aof-base", b"0")?;
            } else if version >= FIRST_LRU_LFU_VERSION {
                w.aux(b"aof-preamble", b"0")?;
            }
        }
        Ok(w)
    }

    /// The release the file is written for.
    pub fn release(&self) -> &Release {
        &self.release
    }

    /// The target its values are encoded for.
    pub fn target(&self) -> Target {
        target_of(&self.release)
    }

    /// Bytes written so far (staged ones included).
    pub fn bytes_written(&self) -> u64 {
        self.written + self.staged.len() as u64
    }

    fn version(&self) -> u16 {
        self.release.rdb_version
    }

    /// An AUX field (ignored by loaders that do not know its name). Nothing is written for
    /// versions before 7, which have no AUX records.
    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> Result<(), WriteError> {
        if self.version() >= FIRST_AUX_VERSION {
            self.staged.push(RDB_OPCODE_AUX);
            put_aux_string(&mut self.staged, key);
            put_aux_string(&mut self.staged, value);
            self.spill()?;
        }
        Ok(())
    }

    /// A function library (its `FUNCTION LOAD` source), as `FUNCTION2`.
    pub fn function(&mut self, code: &[u8]) -> Result<(), WriteError> {
        if self.version() < FIRST_FUNCTION_VERSION {
            return Err(WriteError::NoFunctions {
                target: format!(
                    "{} {} (RDB {})",
                    self.release.server.name(),
                    version_text(&self.release),
                    self.version()
                ),
            });
        }
        self.staged.push(RDB_OPCODE_FUNCTION2);
        self.put_str(code)
    }

    /// `SELECTDB db`, and the hash-table size hints (`RESIZEDB`, RDB 7+) when known.
    pub fn select_db(&mut self, db: u64, sizes: Option<(u64, u64)>) -> Result<(), WriteError> {
        self.staged.push(RDB_OPCODE_SELECTDB);
        put_len(&mut self.staged, db);
        if let (Some((keys, expires)), true) = (sizes, self.version() >= FIRST_AUX_VERSION) {
            self.staged.push(RDB_OPCODE_RESIZEDB);
            put_len(&mut self.staged, keys);
            put_len(&mut self.staged, expires);
        }
        self.spill()
    }

    /// A key whose value is the DUMP payload `payload` (decoded as `decoded`), re-encoded by
    /// [`payload_for_target`] where the target needs it. A value the target cannot hold is
    /// [`WriteError::Unsupported`], and nothing is written for it.
    pub fn key(
        &mut self,
        key: &[u8],
        attrs: &KeyAttrs,
        decoded: &Decoded<'_>,
        payload: &[u8],
        opts: &EncodeOptions,
    ) -> Result<(), WriteError> {
        let target = self.target();
        let out = payload_for_target(decoded, payload, target, opts)?;
        // The encoder keeps the key-metadata block exactly when the target reads it.
        let type_offset = if target.reads_key_meta() {
            decoded.type_offset
        } else {
            0
        };
        let object = &out[..out.len().saturating_sub(FOOTER_SIZE)];
        self.key_object(key, attrs, object, type_offset)
    }

    /// A key from object bytes already in a layout the target reads (`[metadata] type value`,
    /// a payload without its footer); `type_offset` is where the type byte is.
    pub fn key_object(
        &mut self,
        key: &[u8],
        attrs: &KeyAttrs,
        object: &[u8],
        type_offset: usize,
    ) -> Result<(), WriteError> {
        let (meta, typed) = object.split_at(type_offset.min(object.len()));
        let Some((&type_id, value)) = typed.split_first() else {
            return Err(WriteError::NoTypeByte);
        };
        let s = &mut self.staged;
        if let Some(ms) = attrs.expire_ms {
            s.push(RDB_OPCODE_EXPIRETIME_MS);
            s.extend_from_slice(&ms.to_le_bytes());
        }
        if self.release.rdb_version >= FIRST_LRU_LFU_VERSION {
            if let Some(idle) = attrs.idle_seconds {
                s.push(RDB_OPCODE_IDLE);
                put_len(s, idle);
            }
            if let Some(freq) = attrs.freq {
                s.extend([RDB_OPCODE_FREQ, freq]);
            }
        }
        s.extend_from_slice(meta);
        s.push(type_id);
        put_string(s, key);
        self.put_bytes(value)
    }

    /// Ends the file: `EOF`, then the CRC-64 of everything before it (RDB 5+). Returns the
    /// output, flushed.
    pub fn finish(mut self) -> Result<W, WriteError> {
        self.staged.push(RDB_OPCODE_EOF);
        self.flush_staged()?;
        if self.version() >= FIRST_CHECKSUM_VERSION {
            let crc = self.digest.finalize();
            self.out.write_all(&crc.to_le_bytes())?;
            self.written += 8;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    /// A length-prefixed string.
    fn put_str(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        put_len(&mut self.staged, bytes.len() as u64);
        self.put_bytes(bytes)
    }

    /// Raw bytes: staged when small, else written through (zero-copy from the payload).
    fn put_bytes(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        if bytes.len() < STAGING {
            self.staged.extend_from_slice(bytes);
            return self.spill();
        }
        self.flush_staged()?;
        self.digest.update(bytes);
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Writes the staged bytes out once they pass the staging size.
    fn spill(&mut self) -> Result<(), WriteError> {
        if self.staged.len() >= STAGING {
            self.flush_staged()?;
        }
        Ok(())
    }

    fn flush_staged(&mut self) -> Result<(), WriteError> {
        self.digest.update(&self.staged);
        self.out.write_all(&self.staged)?;
        self.written += self.staged.len() as u64;
        self.staged.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{release, Engine};

    fn line(server: Engine, major: u32, minor: u32) -> &'static Release {
        release(server, major << 16 | minor << 8).unwrap()
    }

    const INFO: HeaderInfo = HeaderInfo {
        ctime: 1_700_000_000,
        used_mem: 1_000_000,
    };

    /// The bytes after the header (magic and AUX fields) of a file with `body` written into it.
    fn body(rel: &Release, body: impl FnOnce(&mut RdbWriter<Vec<u8>>)) -> (Vec<u8>, Vec<u8>) {
        let header = RdbWriter::new(Vec::new(), rel, INFO)
            .unwrap()
            .finish()
            .unwrap();
        let header_len = header.len() - 1 - if rel.rdb_version >= 5 { 8 } else { 0 };
        let mut w = RdbWriter::new(Vec::new(), rel, INFO).unwrap();
        body(&mut w);
        let file = w.finish().unwrap();
        (file[..header_len].to_vec(), file[header_len..].to_vec())
    }

    fn crc(bytes: &[u8]) -> [u8; 8] {
        crate::decode::payload::crc64(bytes).to_le_bytes()
    }

    #[test]
    fn redis_7_0_header_is_what_the_server_writes() {
        let file = RdbWriter::new(Vec::new(), line(Engine::Redis, 7, 0), INFO)
            .unwrap()
            .finish()
            .unwrap();
        let mut want = b"REDIS0010".to_vec();
        want.extend(b"\xfa\x09redis-ver\x057.0.0"); // AUX, plain strings
        want.extend(b"\xfa\x0aredis-bits\xc0\x40"); // 64 as an 8-bit integer encoding
        want.extend(b"\xfa\x05ctime\xc2"); // a 32-bit integer encoding
        want.extend(1_700_000_000i32.to_le_bytes());
        want.extend(b"\xfa\x08used-mem\xc2");
        want.extend(1_000_000i32.to_le_bytes());
        want.extend(b"\xfa\x08aof-base\xc0\x00"); // 7.0+: aof-base
        want.push(0xff); // EOF
        let c = crc(&want);
        want.extend(c); // CRC-64 of everything before it, LE
        assert_eq!(file, want);
    }

    #[test]
    fn valkey_9_opens_with_its_own_magic_and_version_key() {
        let file = RdbWriter::new(Vec::new(), line(Engine::Valkey, 9, 0), INFO)
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(&file[..9], b"VALKEY080");
        assert_eq!(&file[9..27], b"\xfa\x0avalkey-ver\x059.0.0");
        // Valkey 7.2-8.1 write RDB 11 under the Redis magic.
        let file = RdbWriter::new(Vec::new(), line(Engine::Valkey, 8, 0), INFO)
            .unwrap()
            .finish()
            .unwrap();
        assert_eq!(&file[..9], b"REDIS0011");
        assert_eq!(&file[9..11], b"\xfa\x0a");
    }

    #[test]
    fn aux_fields_by_version() {
        let names = |rel: &Release| {
            let file = RdbWriter::new(Vec::new(), rel, INFO)
                .unwrap()
                .finish()
                .unwrap();
            let text = String::from_utf8_lossy(&file).into_owned();
            ["redis-ver", "aof-preamble", "aof-base", "ctime"].map(|n| text.contains(n))
        };
        // 6.2 (RDB 9): aof-preamble; 3.2 (RDB 7): neither; 2.8 (RDB 6): no AUX at all.
        assert_eq!(names(line(Engine::Redis, 6, 2)), [true, true, false, true]);
        assert_eq!(names(line(Engine::Redis, 3, 2)), [true, false, false, true]);
        assert_eq!(
            names(line(Engine::Redis, 2, 8)),
            [false, false, false, false]
        );
        let file = RdbWriter::new(Vec::new(), line(Engine::Redis, 2, 8), INFO)
            .unwrap()
            .finish()
            .unwrap();
        let mut want = b"REDIS0006\xff".to_vec(); // magic, EOF
        let c = crc(&want);
        want.extend(c);
        assert_eq!(file, want);
    }

    #[test]
    fn select_db_with_and_without_resize_hints() {
        let (_, b) = body(line(Engine::Redis, 7, 2), |w| {
            w.select_db(0, Some((3, 1))).unwrap();
            w.select_db(300, None).unwrap();
        });
        assert_eq!(
            &b[..b.len() - 9],
            [
                0xfe, 0x00, // SELECTDB 0
                0xfb, 0x03, 0x01, // RESIZEDB 3 keys, 1 with an expiry
                0xfe, 0x41, 0x2c, // SELECTDB 300 (a 14-bit length)
            ]
        );
        // Before RDB 7 there is no RESIZEDB.
        let (_, b) = body(line(Engine::Redis, 3, 0), |w| {
            w.select_db(2, Some((3, 1))).unwrap()
        });
        assert_eq!(&b[..b.len() - 9], [0xfe, 0x02]);
    }

    #[test]
    fn key_record_with_expiry_idle_and_freq() {
        let object = [RDB_TYPE_STRING, 0x01, b'v']; // type 0, "v"
        let attrs = KeyAttrs {
            expire_ms: Some(0x0102_0304_0506),
            idle_seconds: Some(100),
            freq: Some(5),
        };
        let (_, b) = body(line(Engine::Redis, 6, 0), |w| {
            w.key_object(b"k", &attrs, &object, 0).unwrap()
        });
        let want = [
            0xfc, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00, 0x00, // EXPIRETIME_MS, i64 LE
            0xf8, 0x40, 0x64, // IDLE 100 (a 14-bit length)
            0xf9, 0x05, // FREQ 5
            0x00, // type: string
            0x01, b'k', // key
            0x01, b'v', // value
            0xff, // EOF
        ];
        assert_eq!(&b[..b.len() - 8], want);
        // Redis 3.2 (RDB 7) has no IDLE or FREQ: the expiry stays, the rest is dropped.
        let (_, b) = body(line(Engine::Redis, 3, 2), |w| {
            w.key_object(b"k", &attrs, &object, 0).unwrap()
        });
        assert_eq!(&b[..9], &want[..9]);
        assert_eq!(&b[9..b.len() - 8], &want[14..]);
    }

    #[test]
    fn key_metadata_goes_before_the_type_byte() {
        // `[0xF3 meta] type value` -> `[0xF3 meta] type key value`.
        let object = [RDB_OPCODE_KEY_META, 0xAA, 0xBB, RDB_TYPE_STRING, 0x01, b'v'];
        let (_, b) = body(line(Engine::Redis, 8, 6), |w| {
            w.key_object(b"k", &KeyAttrs::default(), &object, 3)
                .unwrap()
        });
        assert_eq!(
            &b[..b.len() - 9],
            [0xf3, 0xaa, 0xbb, 0x00, 0x01, b'k', 0x01, b'v']
        );
    }

    #[test]
    fn functions_from_rdb_10_on() {
        let (_, b) = body(line(Engine::Redis, 7, 0), |w| w.function(b"#!lua").unwrap());
        assert_eq!(&b[..b.len() - 9], b"\xf5\x05#!lua"); // FUNCTION2, string
        let mut w = RdbWriter::new(Vec::new(), line(Engine::Redis, 6, 2), INFO).unwrap();
        let err = w.function(b"#!lua").unwrap_err();
        assert!(matches!(err, WriteError::NoFunctions { .. }));
        assert_eq!(
            err.to_string(),
            "Redis 6.2.0 (RDB 9) has no functions (Redis 7.0+, RDB 10): function libraries cannot be written for it"
        );
    }

    #[test]
    fn large_values_are_written_through_and_checksummed() {
        let big = vec![b'x'; 3 * STAGING + 7];
        let mut object = vec![RDB_TYPE_STRING];
        put_string(&mut object, &big);
        let mut w = RdbWriter::new(Vec::new(), line(Engine::Redis, 7, 2), INFO).unwrap();
        w.select_db(0, None).unwrap();
        for i in 0..3 {
            w.key_object(format!("k{i}").as_bytes(), &KeyAttrs::default(), &object, 0)
                .unwrap();
        }
        let n = w.bytes_written();
        let file = w.finish().unwrap();
        assert_eq!(file.len() as u64, n + 9);
        let (data, stored) = file.split_at(file.len() - 8);
        assert_eq!(stored, crc(data));
    }

    #[test]
    fn unknown_and_pre_dump_versions_are_refused() {
        let mut rel = *line(Engine::Redis, 7, 0);
        for v in [0u16, 5, 16, 79, 82] {
            rel.rdb_version = v;
            assert!(matches!(
                RdbWriter::new(Vec::new(), &rel, INFO),
                Err(WriteError::UnsupportedVersion(x)) if x == v
            ));
        }
    }

    #[test]
    fn aux_integers_use_the_shortest_integer_encoding() {
        let enc = |s: &str| {
            let mut out = vec![];
            put_aux_string(&mut out, s.as_bytes());
            out
        };
        assert_eq!(enc("-128"), [0xc0, 0x80]);
        assert_eq!(enc("300"), [0xc1, 0x2c, 0x01]);
        assert_eq!(enc("-2147483648"), [0xc2, 0, 0, 0, 0x80]);
        // Not canonical, or too wide for 32 bits: plain strings.
        assert_eq!(enc("007"), b"\x03007");
        assert_eq!(enc("4294967296"), b"\x0a4294967296");
        assert_eq!(enc("+1"), b"\x02+1");
    }
}
