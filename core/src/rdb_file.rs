//! RDB files read as a stream of records, in bounded memory.
//!
//! ```text
//! file    = magic ("REDIS" + 4 digits | "VALKEY" + 3 digits) | record* | 0xFF | [CRC-64 u64 LE]
//! record  = 0xFA AUX str str            | 0xFE SELECTDB len      | 0xFB RESIZEDB len len
//!         | 0xFD EXPIRETIME u32 LE (s)  | 0xFC EXPIRETIME_MS i64 LE
//!         | 0xF8 IDLE len               | 0xF9 FREQ u8           | 0xF1 KEY_NOEVICT
//!         | 0xF7 MODULE_AUX len(id) len(2) len(when) annotated... len(0)
//!         | 0xF5 FUNCTION2 str          | 0xF4 SLOT_INFO len len len
//!         | 0xF2 HASH_TEMPLATE len(id) len(n) n×str          (Redis 8.10)
//!         | 0xF3 SLOT_IMPORT str len(n) n×(len len)          (Valkey files only)
//!         | [0xF3 key-metadata block] type str(key) object   (a key; 0xF3 here in Redis files)
//! ```
//! Expiry, idle and freq opcodes belong to the key that follows them. A key record becomes a
//! DUMP payload: `[metadata] type object | file version u16 LE | CRC-64`, exactly what DUMP on
//! the writing server would have produced (template references 30/32 are resolved against the
//! file's template records into the self-contained 29/31 forms DUMP writes).
//!
//! Objects are not length-prefixed, so each record is *framed*: its outer layout (lengths,
//! strings, fixed-size fields) is walked without decoding blobs, which finds where it ends.
//! Validation of the object itself is left to the decoder (`crate::decode`) or the receiving
//! server, so a bad object inside a well-framed record is a per-key error, not the file's end.
//!
//! Memory: one read buffer, grown by doubling only while a single record does not fit (so at
//! most twice the largest record, and never above [`RdbFile::with_max_record`]'s limit), plus the
//! template registry (the file's template records, which precede the keys).

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use crate::decode::cursor::Cursor;
use crate::decode::error::{DecodeError, ErrorKind};
use crate::decode::length::{read_blob, read_len, read_string};
use crate::decode::listpack;
use crate::decode::module_type::walk_annotated;
use crate::decode::value::{Element, RdbString};
use crate::encode::{finish_payload, put_len, put_string};
use crate::rdb::*;
use crate::release::is_known_rdb_version;

/// Redis development trees after 8.10: a key attribute without payload (not in `crate::rdb`:
/// no release writes it yet).
pub const RDB_OPCODE_KEY_NOEVICT: u8 = 241;

const TEMPLATE_FIELDS_LISTPACK: u64 = 0;
const TEMPLATE_FIELDS_PLAIN: u64 = 1;

/// The read buffer's starting size, and the default limit on one record.
const INITIAL_BUFFER: usize = 1 << 20;
pub const DEFAULT_MAX_RECORD: usize = 1 << 30;

/// What went wrong, with the file offset where it was found.
#[derive(Debug)]
pub enum FileError {
    Io(std::io::Error),
    /// The first 9 bytes are not an RDB magic.
    NotRdb,
    UnsupportedVersion(u16),
    /// The file ends inside the record that starts at `offset`.
    Truncated {
        offset: u64,
    },
    /// A record that cannot be framed: the file cannot be read past it.
    Corrupt {
        offset: u64,
        reason: String,
    },
    /// One record larger than the configured limit (or a corrupt length claiming so).
    RecordTooLarge {
        offset: u64,
        limit: usize,
    },
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::Io(e) => write!(f, "read error: {e}"),
            FileError::NotRdb => write!(f, "not an RDB file (no REDIS or VALKEY magic)"),
            FileError::UnsupportedVersion(v) => {
                write!(
                    f,
                    "RDB format version {v} is not one any known server writes"
                )
            }
            FileError::Truncated { offset } => {
                write!(
                    f,
                    "truncated: the file ends inside the record at byte {offset}"
                )
            }
            FileError::Corrupt { offset, reason } => {
                write!(f, "corrupt record at byte {offset}: {reason}")
            }
            FileError::RecordTooLarge { offset, limit } => write!(
                f,
                "the record at byte {offset} is larger than the {limit}-byte limit (or corrupt)"
            ),
        }
    }
}

impl std::error::Error for FileError {}

impl From<std::io::Error> for FileError {
    fn from(e: std::io::Error) -> Self {
        FileError::Io(e)
    }
}

/// The end-of-file checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    Ok,
    /// Files before version 5 have none; `rdbchecksum no` writes 0.
    Absent,
    Mismatch {
        computed: u64,
        stored: u64,
    },
}

/// One key, ready for `RESTORE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub db: u64,
    pub key: Vec<u8>,
    /// Absolute expiry in Unix milliseconds.
    pub expire_ms: Option<i64>,
    pub idle_seconds: Option<u64>,
    pub freq: Option<u8>,
    pub type_id: u8,
    /// `[metadata] type object | version | CRC-64`, as DUMP writes it.
    pub payload: Vec<u8>,
    /// File offset where this key's record (its attribute opcodes included) starts and ends.
    pub offset: u64,
    pub end_offset: u64,
}

/// One record of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Aux {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    SelectDb(u64),
    ResizeDb {
        keys: u64,
        expires: u64,
    },
    SlotInfo {
        slot: u64,
        keys: u64,
        expires: u64,
    },
    SlotImport {
        job: Vec<u8>,
    },
    /// Module auxiliary data (not part of any key): the module's 9-character type name.
    ModuleAux {
        module: String,
        when: u64,
    },
    /// A function library (`FUNCTION LOAD` source code).
    Function {
        code: Vec<u8>,
    },
    HashTemplate {
        id: u64,
        fields: usize,
    },
    Key(KeyRecord),
    End {
        checksum: Checksum,
    },
}

/// The file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u16,
    /// `VALKEY` magic: type ids above 21 have Valkey's meaning.
    pub valkey: bool,
}

#[derive(Default)]
struct KeyAttrs {
    start: Option<u64>,
    expire_ms: Option<i64>,
    idle: Option<u64>,
    freq: Option<u8>,
}

/// A streaming reader of RDB records.
pub struct RdbFile<R> {
    src: R,
    buf: Vec<u8>,
    start: usize,
    filled: usize,
    /// File offset of `buf[0]`.
    base: u64,
    eof: bool,
    max_record: usize,
    digest: crc_fast::Digest,
    header: Option<Header>,
    attrs: KeyAttrs,
    db: u64,
    templates: HashMap<u64, Vec<Vec<u8>>>,
    finished: bool,
}

/// Why a record could not be framed from the bytes at hand.
enum Frame {
    /// It continues past the bytes read so far.
    More,
    Bad(DecodeError),
}

impl From<DecodeError> for Frame {
    fn from(e: DecodeError) -> Self {
        match e.kind {
            ErrorKind::UnexpectedEnd | ErrorKind::LengthTooLarge => Frame::More,
            _ => Frame::Bad(e),
        }
    }
}

type FrameResult<T> = Result<T, Frame>;

fn bad(kind: ErrorKind, offset: usize) -> Frame {
    Frame::Bad(DecodeError::new(kind, offset))
}

/// What one record parsed into.
enum Parsed {
    Record(Record),
    Expire(i64),
    Idle(u64),
    Freq(u8),
    NoEvict,
    Template(u64, Vec<Vec<u8>>),
    /// A key: key name and object bytes (metadata, type, value).
    Key {
        key: Vec<u8>,
        type_id: u8,
        object: Vec<u8>,
    },
    End(u64),
}

impl<R: Read> RdbFile<R> {
    pub fn new(src: R) -> Self {
        RdbFile {
            src,
            buf: vec![0; INITIAL_BUFFER],
            start: 0,
            filled: 0,
            base: 0,
            eof: false,
            max_record: DEFAULT_MAX_RECORD,
            digest: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Redis),
            header: None,
            attrs: KeyAttrs::default(),
            db: 0,
            templates: HashMap::new(),
            finished: false,
        }
    }

    /// Refuses records larger than `limit` bytes (the buffer never grows beyond it).
    pub fn with_max_record(mut self, limit: usize) -> Self {
        self.max_record = limit.max(64);
        self
    }

    /// File offset of the next unread byte.
    pub fn offset(&self) -> u64 {
        self.base + self.start as u64
    }

    /// The bytes of the read buffer (what the reader holds in memory besides the templates).
    pub fn buffer_capacity(&self) -> usize {
        self.buf.len()
    }

    /// Reads the magic and version (done by the first `next` if not called).
    pub fn header(&mut self) -> Result<Header, FileError> {
        if let Some(h) = self.header {
            return Ok(h);
        }
        while self.filled - self.start < 9 && !self.eof {
            self.refill()?;
        }
        let magic = &self.buf[self.start..self.filled.min(self.start + 9)];
        let digits = |d: &[u8]| -> Option<u16> {
            if d.iter().all(u8::is_ascii_digit) {
                std::str::from_utf8(d).ok()?.parse().ok()
            } else {
                None
            }
        };
        let header = if magic.len() < 9 {
            None
        } else if &magic[..5] == RDB_MAGIC_REDIS {
            digits(&magic[5..9]).map(|version| Header {
                version,
                valkey: false,
            })
        } else if &magic[..6] == RDB_MAGIC_VALKEY {
            digits(&magic[6..9]).map(|version| Header {
                version,
                valkey: true,
            })
        } else {
            None
        };
        let header = header.ok_or(FileError::NotRdb)?;
        if !is_known_rdb_version(header.version) {
            return Err(FileError::UnsupportedVersion(header.version));
        }
        self.digest.update(&self.buf[self.start..self.start + 9]);
        self.start += 9;
        self.header = Some(header);
        Ok(header)
    }

    /// The next record, or `None` after the end record.
    pub fn next_record(&mut self) -> Result<Option<Record>, FileError> {
        let header = self.header()?;
        loop {
            if self.finished {
                return Ok(None);
            }
            let data = &self.buf[self.start..self.filled];
            let record_at = self.offset();
            match parse_record(data, header, &self.templates) {
                Ok((used, parsed)) => {
                    let hashed = if matches!(parsed, Parsed::End(_)) {
                        1
                    } else {
                        used
                    };
                    self.digest.update(&data[..hashed]);
                    self.start += used;
                    if let Some(r) = self.apply(parsed, record_at, header) {
                        return Ok(Some(r));
                    }
                }
                Err(Frame::More) if self.eof => {
                    let offset = self.attrs.start.unwrap_or(record_at);
                    return Err(FileError::Truncated { offset });
                }
                Err(Frame::More) => self.refill()?,
                Err(Frame::Bad(e)) => {
                    return Err(FileError::Corrupt {
                        // In an LZF blob, the compressed string's offset (the reason says where).
                        offset: record_at + e.decompressed.unwrap_or(e.offset) as u64,
                        reason: e.to_string(),
                    });
                }
            }
        }
    }

    fn apply(&mut self, parsed: Parsed, record_at: u64, header: Header) -> Option<Record> {
        match parsed {
            Parsed::Expire(ms) => {
                self.attrs.start.get_or_insert(record_at);
                self.attrs.expire_ms = Some(ms);
                None
            }
            Parsed::Idle(s) => {
                self.attrs.start.get_or_insert(record_at);
                self.attrs.idle = Some(s);
                None
            }
            Parsed::Freq(f) => {
                self.attrs.start.get_or_insert(record_at);
                self.attrs.freq = Some(f);
                None
            }
            Parsed::NoEvict => {
                self.attrs.start.get_or_insert(record_at);
                None
            }
            Parsed::Template(id, fields) => {
                let n = fields.len();
                self.templates.insert(id, fields);
                Some(Record::HashTemplate { id, fields: n })
            }
            Parsed::Key {
                key,
                type_id,
                object,
            } => {
                let attrs = std::mem::take(&mut self.attrs);
                Some(Record::Key(KeyRecord {
                    db: self.db,
                    key,
                    expire_ms: attrs.expire_ms,
                    idle_seconds: attrs.idle,
                    freq: attrs.freq,
                    type_id,
                    payload: finish_payload(object, header.version),
                    offset: attrs.start.unwrap_or(record_at),
                    end_offset: self.offset(),
                }))
            }
            Parsed::Record(r) => {
                if let Record::SelectDb(db) = r {
                    self.db = db;
                }
                Some(r)
            }
            Parsed::End(stored) => {
                self.finished = true;
                let computed = self.digest.finalize();
                let checksum = if header.version < 5 || stored == 0 {
                    Checksum::Absent
                } else if stored == computed {
                    Checksum::Ok
                } else {
                    Checksum::Mismatch { computed, stored }
                };
                Some(Record::End { checksum })
            }
        }
    }

    /// Moves the unread bytes to the front, grows the buffer if a record fills it, reads more.
    fn refill(&mut self) -> Result<(), FileError> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.filled, 0);
            self.base += self.start as u64;
            self.filled -= self.start;
            self.start = 0;
        }
        if self.filled == self.buf.len() {
            if self.buf.len() >= self.max_record {
                return Err(FileError::RecordTooLarge {
                    offset: self.base,
                    limit: self.max_record,
                });
            }
            let size = self.buf.len().saturating_mul(2).min(self.max_record);
            self.buf.resize(size, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.filled..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.filled += n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Framing: pure functions over the bytes at hand. `Frame::More` means "read more and retry".

fn parse_record(
    data: &[u8],
    header: Header,
    templates: &HashMap<u64, Vec<Vec<u8>>>,
) -> FrameResult<(usize, Parsed)> {
    let mut c = Cursor::new(data);
    let opcode = c.read_u8()?;
    let parsed = match opcode {
        RDB_OPCODE_EOF => {
            let stored = if header.version >= 5 {
                c.read_u64_le()?
            } else {
                0
            };
            Parsed::End(stored)
        }
        RDB_OPCODE_SELECTDB => Parsed::Record(Record::SelectDb(read_len(&mut c)?)),
        RDB_OPCODE_RESIZEDB => Parsed::Record(Record::ResizeDb {
            keys: read_len(&mut c)?,
            expires: read_len(&mut c)?,
        }),
        RDB_OPCODE_EXPIRETIME => Parsed::Expire(i64::from(c.read_u32_le()? as i32) * 1000),
        RDB_OPCODE_EXPIRETIME_MS => Parsed::Expire(c.read_i64_le()?),
        RDB_OPCODE_IDLE => Parsed::Idle(read_len(&mut c)?),
        RDB_OPCODE_FREQ => Parsed::Freq(c.read_u8()?),
        RDB_OPCODE_KEY_NOEVICT if !header.valkey => Parsed::NoEvict,
        RDB_OPCODE_AUX => Parsed::Record(Record::Aux {
            key: string_bytes(&mut c)?,
            value: string_bytes(&mut c)?,
        }),
        RDB_OPCODE_SLOT_INFO => Parsed::Record(Record::SlotInfo {
            slot: read_len(&mut c)?,
            keys: read_len(&mut c)?,
            expires: read_len(&mut c)?,
        }),
        VALKEY_RDB_OPCODE_SLOT_IMPORT if header.valkey => {
            let job = string_bytes(&mut c)?;
            let n = read_len(&mut c)?;
            for _ in 0..n {
                read_len(&mut c)?;
                read_len(&mut c)?;
            }
            Parsed::Record(Record::SlotImport { job })
        }
        RDB_OPCODE_MODULE_AUX => {
            let at = c.offset();
            let id = read_len(&mut c)?;
            if read_len(&mut c)? != RDB_MODULE_OPCODE_UINT {
                return Err(bad(ErrorKind::InvalidModuleValue, at));
            }
            let when = read_len(&mut c)?;
            skip_annotated(&mut c)?;
            let (name, _) = crate::decode::module_type::split_module_id(id);
            Parsed::Record(Record::ModuleAux {
                module: String::from_utf8_lossy(&name).into_owned(),
                when,
            })
        }
        RDB_OPCODE_FUNCTION2 => Parsed::Record(Record::Function {
            code: string_bytes(&mut c)?,
        }),
        RDB_OPCODE_FUNCTION_PRE_GA => {
            return Err(bad(ErrorKind::UnknownType(RDB_OPCODE_FUNCTION_PRE_GA), 0))
        }
        RDB_OPCODE_HASH_TEMPLATE if !header.valkey => {
            let id = read_len(&mut c)?;
            let n = read_len(&mut c)?;
            let mut fields = Vec::new();
            for _ in 0..n {
                fields.push(string_bytes(&mut c)?);
            }
            if fields.is_empty() {
                return Err(bad(ErrorKind::InvalidTemplateHash, 1));
            }
            Parsed::Template(id, fields)
        }
        _ => return parse_key(data, header, templates),
    };
    Ok((c.offset(), parsed))
}

/// `[0xF3 metadata] type key value`: the key name, and the object DUMP would write.
fn parse_key(
    data: &[u8],
    header: Header,
    templates: &HashMap<u64, Vec<Vec<u8>>>,
) -> FrameResult<(usize, Parsed)> {
    let mut c = Cursor::new(data);
    if !header.valkey && c.peek_u8()? == RDB_OPCODE_KEY_META {
        c.read_u8()?;
        let n = read_len(&mut c)?;
        if !(1..=7).contains(&n) {
            return Err(bad(ErrorKind::InvalidKeyMetadata, 1));
        }
        for _ in 0..n {
            c.read_bytes(4)?;
            skip_annotated(&mut c)?;
        }
    }
    let type_at = c.offset();
    let type_id = c.read_u8()?;
    let key_at = c.offset();
    let key = string_bytes(&mut c)?;
    let value_at = c.offset();
    let object_start = |object: &mut Vec<u8>| object.extend_from_slice(&data[..type_at]);
    let mut object = Vec::new();
    match type_id {
        RDB_TYPE_HASH_TMPL_LP_REF => {
            // lp([template id, v1..vN]) -> 29: names as plain strings, the same values listpack.
            let blob = read_blob(&mut c)?;
            let id = first_int(&blob, value_at)?;
            let names = templates
                .get(&id)
                .ok_or_else(|| bad(ErrorKind::TemplateReference(type_id), value_at))?;
            object_start(&mut object);
            object.push(RDB_TYPE_HASH_TMPL_LP);
            put_template_names(&mut object, names);
            put_string(&mut object, &blob);
        }
        RDB_TYPE_HASH_TMPL_ARRAY_REF => {
            let id = read_len(&mut c)?;
            let names = templates
                .get(&id)
                .ok_or_else(|| bad(ErrorKind::TemplateReference(type_id), value_at))?;
            let values_at = c.offset();
            for _ in 0..names.len() {
                skip_string(&mut c)?;
            }
            object_start(&mut object);
            object.push(RDB_TYPE_HASH_TMPL_ARRAY);
            put_template_names(&mut object, names);
            object.extend_from_slice(&data[values_at..c.offset()]);
        }
        _ => {
            skip_object(&mut c, type_id, header.valkey, header.version)?;
            object.reserve_exact(type_at + 1 + c.offset() - value_at);
            object.extend_from_slice(&data[..key_at]);
            object.extend_from_slice(&data[value_at..c.offset()]);
        }
    }
    Ok((
        c.offset(),
        Parsed::Key {
            key,
            type_id,
            object,
        },
    ))
}

fn put_template_names(out: &mut Vec<u8>, names: &[Vec<u8>]) {
    put_len(out, TEMPLATE_FIELDS_PLAIN);
    put_len(out, names.len() as u64);
    for n in names {
        put_string(out, n);
    }
}

/// The first entry of a listpack, which must be an integer (a template id).
fn first_int(blob: &[u8], at: usize) -> FrameResult<u64> {
    let mut first = None;
    listpack::walk(blob, at.into(), &mut |e: Element<'_>| {
        if first.is_none() {
            first = Some(e.as_i64());
        }
        Ok::<_, DecodeError>(())
    })
    .map_err(Frame::Bad)?;
    match first.flatten() {
        Some(id) if id >= 0 => Ok(id as u64),
        _ => Err(bad(ErrorKind::InvalidTemplateHash, at)),
    }
}

/// A string object's bytes (integer encodings as decimal text, LZF decompressed).
fn string_bytes(c: &mut Cursor<'_>) -> FrameResult<Vec<u8>> {
    Ok(match read_string(c)? {
        RdbString::Bytes(b) => b.into_owned(),
        RdbString::Int(i) => i.to_string().into_bytes(),
    })
}

/// Skips a string object without decompressing it.
fn skip_string(c: &mut Cursor<'_>) -> FrameResult<()> {
    let at = c.offset();
    let first = c.peek_u8()?;
    if first >> 6 == 3 {
        c.read_u8()?;
        match first & 0x3f {
            0 => c.read_bytes(1).map(|_| ())?,
            1 => c.read_bytes(2).map(|_| ())?,
            2 => c.read_bytes(4).map(|_| ())?,
            3 => {
                let clen = read_len(c)?;
                read_len(c)?;
                c.read_bytes_u64(clen)?;
            }
            _ => return Err(bad(ErrorKind::InvalidStringEncoding, at)),
        }
    } else {
        let n = read_len(c)?;
        c.read_bytes_u64(n)?;
    }
    Ok(())
}

fn skip_strings(c: &mut Cursor<'_>, n: u64) -> FrameResult<()> {
    for _ in 0..n {
        skip_string(c)?;
    }
    Ok(())
}

/// A type-3 score: one length byte (253 NaN, 254 +inf, 255 -inf) then that many ASCII bytes.
fn skip_text_double(c: &mut Cursor<'_>) -> FrameResult<()> {
    let n = c.read_u8()?;
    if n < 253 {
        c.read_bytes(usize::from(n))?;
    }
    Ok(())
}

/// A module-serialized value: `len opcode | operand` up to `len 0`, its strings skipped without
/// decompressing them.
fn skip_annotated(c: &mut Cursor<'_>) -> FrameResult<()> {
    walk_annotated(c, Frame::from, skip_string)
}

fn skip_id(c: &mut Cursor<'_>) -> FrameResult<()> {
    read_len(c)?;
    read_len(c)?;
    Ok(())
}

/// Stream layouts 1 (type 15) to 5 (type 27); see `decode::stream`.
fn skip_stream(c: &mut Cursor<'_>, version: u8) -> FrameResult<()> {
    let nodes = read_len(c)?;
    skip_strings(c, nodes.saturating_mul(2))?;
    read_len(c)?; // length
    skip_id(c)?; // last id
    if version >= 2 {
        skip_id(c)?; // first id
        skip_id(c)?; // max deleted id
        read_len(c)?; // entries added
    }
    let groups = read_len(c)?;
    for _ in 0..groups {
        skip_string(c)?;
        skip_id(c)?;
        if version >= 2 {
            read_len(c)?; // entries read
        }
        let pel = read_len(c)?;
        for _ in 0..pel {
            c.read_bytes(16 + 8)?;
            read_len(c)?;
        }
        let consumers = read_len(c)?;
        for _ in 0..consumers {
            skip_string(c)?;
            c.read_bytes(if version >= 3 { 16 } else { 8 })?;
            let n = read_len(c)?;
            c.read_bytes_u64(n.saturating_mul(16))?;
        }
        if version >= 5 {
            let n = read_len(c)?;
            c.read_bytes_u64(n.saturating_mul(16))?;
        }
    }
    if version >= 4 {
        read_len(c)?; // duration
        read_len(c)?; // max entries
        let producers = read_len(c)?;
        for _ in 0..producers {
            skip_string(c)?;
            let n = read_len(c)?;
            for _ in 0..n {
                skip_string(c)?;
                skip_id(c)?;
            }
        }
        read_len(c)?; // iids added
        read_len(c)?; // iids duplicates
    }
    Ok(())
}

/// Skips an object body of `type_id`. `valkey`: ids above 21 have Valkey's meaning.
fn skip_object(c: &mut Cursor<'_>, type_id: u8, valkey: bool, version: u16) -> FrameResult<()> {
    let at = c.offset().saturating_sub(1);
    match type_id {
        RDB_TYPE_STRING => skip_string(c),
        RDB_TYPE_LIST | RDB_TYPE_SET | RDB_TYPE_LIST_QUICKLIST => {
            let n = read_len(c)?;
            skip_strings(c, n)
        }
        RDB_TYPE_ZSET => {
            let n = read_len(c)?;
            for _ in 0..n {
                skip_string(c)?;
                skip_text_double(c)?;
            }
            Ok(())
        }
        RDB_TYPE_ZSET_2 => {
            let n = read_len(c)?;
            for _ in 0..n {
                skip_string(c)?;
                c.read_bytes(8)?;
            }
            Ok(())
        }
        RDB_TYPE_HASH => {
            let n = read_len(c)?;
            skip_strings(c, n.saturating_mul(2))
        }
        RDB_TYPE_MODULE_2 => {
            read_len(c)?;
            skip_annotated(c)
        }
        RDB_TYPE_HASH_ZIPMAP
        | RDB_TYPE_LIST_ZIPLIST
        | RDB_TYPE_SET_INTSET
        | RDB_TYPE_ZSET_ZIPLIST
        | RDB_TYPE_HASH_ZIPLIST
        | RDB_TYPE_HASH_LISTPACK
        | RDB_TYPE_ZSET_LISTPACK
        | RDB_TYPE_SET_LISTPACK => skip_string(c),
        RDB_TYPE_LIST_QUICKLIST_2 => {
            let n = read_len(c)?;
            for _ in 0..n {
                read_len(c)?;
                skip_string(c)?;
            }
            Ok(())
        }
        RDB_TYPE_STREAM_LISTPACKS => skip_stream(c, 1),
        RDB_TYPE_STREAM_LISTPACKS_2 => skip_stream(c, 2),
        RDB_TYPE_STREAM_LISTPACKS_3 => skip_stream(c, 3),
        // Valkey 9 HASH_2: n × (field, value, ms64 expire_at).
        VALKEY_RDB_TYPE_HASH_2 if valkey => {
            let n = read_len(c)?;
            for _ in 0..n {
                skip_strings(c, 2)?;
                c.read_bytes(8)?;
            }
            Ok(())
        }
        // Valkey 9.2 PATH_HASH: n × (path, len fields, fields × (field, value)).
        VALKEY_RDB_TYPE_PATH_HASH if valkey && version >= 81 => {
            let n = read_len(c)?;
            for _ in 0..n {
                skip_string(c)?;
                let fields = read_len(c)?;
                skip_strings(c, fields.saturating_mul(2))?;
            }
            Ok(())
        }
        _ if valkey => Err(bad(ErrorKind::UnknownType(type_id), at)),
        // Redis 7.4 RC: n × (len ttl, field, value); 24 adds a leading ms64 minimum.
        RDB_TYPE_HASH_METADATA_PRE_GA | RDB_TYPE_HASH_METADATA => {
            if type_id == RDB_TYPE_HASH_METADATA {
                c.read_bytes(8)?;
            }
            let n = read_len(c)?;
            for _ in 0..n {
                read_len(c)?;
                skip_strings(c, 2)?;
            }
            Ok(())
        }
        RDB_TYPE_HASH_LISTPACK_EX_PRE_GA => skip_string(c),
        RDB_TYPE_HASH_LISTPACK_EX => {
            c.read_bytes(8)?;
            skip_string(c)
        }
        RDB_TYPE_STREAM_LISTPACKS_4 => skip_stream(c, 4),
        RDB_TYPE_STREAM_LISTPACKS_5 => skip_stream(c, 5),
        RDB_TYPE_ARRAY => {
            let n = read_len(c)?;
            if read_len(c)? == 1 {
                read_len(c)?;
            }
            for _ in 0..n {
                read_len(c)?;
                let tag_at = c.offset();
                match read_len(c)? {
                    0 | 3 => skip_string(c)?,
                    1 | 2 => {
                        c.read_bytes(8)?;
                    }
                    _ => return Err(bad(ErrorKind::InvalidArray, tag_at)),
                }
            }
            Ok(())
        }
        RDB_TYPE_HASH_TMPL_LP | RDB_TYPE_HASH_TMPL_ARRAY => {
            let fmt_at = c.offset();
            let n = match read_len(c)? {
                TEMPLATE_FIELDS_LISTPACK => {
                    let lp_at = c.offset();
                    let blob = read_blob(c)?;
                    listpack::walk(&blob, lp_at.into(), &mut |_| Ok::<_, DecodeError>(()))
                        .map_err(Frame::Bad)? as u64
                }
                TEMPLATE_FIELDS_PLAIN => {
                    let n = read_len(c)?;
                    skip_strings(c, n)?;
                    n
                }
                _ => return Err(bad(ErrorKind::InvalidTemplateHash, fmt_at)),
            };
            if type_id == RDB_TYPE_HASH_TMPL_LP {
                skip_string(c)
            } else {
                skip_strings(c, n)
            }
        }
        _ => Err(bad(ErrorKind::UnknownType(type_id), at)),
    }
}
