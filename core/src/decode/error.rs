//! The one error type of the decoder.
//!
//! Every failure is a flat, `Copy` value: what went wrong and where (a byte offset into the
//! payload, or into the decompressed blob for data inside an LZF string). The module layer maps
//! each [`ErrorClass`] to exactly one native reply string.

use core::fmt;

/// How a decode failure is reported to a client. Native RESTORE has only two payload errors;
/// `Unsupported` is ours, for well-formed payloads this server cannot hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// `ERR DUMP payload version or checksum are wrong`
    VersionOrChecksum,
    /// `ERR Bad data format`
    BadData,
    /// A valid payload that this host cannot represent (module type not loaded, ...).
    Unsupported,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    // --- envelope ---
    /// Fewer than 10 bytes: no room for the footer.
    PayloadTooShort,
    /// The footer's RDB version is one no server has written.
    UnsupportedRdbVersion(u16),
    /// The CRC-64 over the payload does not match the footer.
    ChecksumMismatch,

    // --- primitives ---
    /// A read ran past the end of the object (or of a blob).
    UnexpectedEnd,
    /// An RDB length used an invalid first byte (0x82..=0xBF, or 0xC0.. where a plain length is due).
    InvalidLength,
    /// A string object used an unknown special encoding (0xC4..=0xFF).
    InvalidStringEncoding,
    /// LZF data that does not decompress to exactly the declared length.
    InvalidLzf,
    /// A text score that is not a number.
    InvalidDouble,
    /// A length or count too large for the bytes that remain.
    LengthTooLarge,
    /// Bytes left between the end of the object and the footer.
    TrailingBytes,

    // --- objects ---
    /// The type byte names no object type we know.
    UnknownType(u8),
    /// An aggregate with no elements where native rejects that.
    EmptyCollection,
    /// A repeated set member, hash field, sorted-set member, group, consumer or PEL id.
    Duplicate,
    /// A sorted-set score that is NaN.
    NanScore,
    /// A pair encoding (hash, sorted set) with an odd number of entries.
    OddElementCount,
    /// A ziplist whose header, entries or terminator are inconsistent.
    InvalidZiplist,
    /// A listpack whose header, entries or terminator are inconsistent.
    InvalidListpack,
    /// An intset with a bad width, size, or unsorted members.
    InvalidIntset,
    /// A zipmap whose lengths or terminator are inconsistent.
    InvalidZipmap,
    /// A quicklist with no nodes, an empty node, or an unknown node container.
    InvalidQuicklist,
    /// A stream whose nodes, entries, ids or consumer groups are inconsistent.
    InvalidStream,
    /// A hash field TTL out of range or out of order.
    InvalidFieldTtl,
    /// A module value whose annotated opcodes are malformed.
    InvalidModuleValue,
    /// Type 6 (pre-GA module format): cannot be parsed without the module.
    PreGaModuleValue,
    /// A Redis 8.6+ key-metadata block (opcode 243) that is malformed.
    InvalidKeyMetadata,
    /// A Redis 8.8 array (type 28) with a bad count, index, tag or element.
    InvalidArray,
    /// A Redis 8.10 template hash (29, 31) with bad field names or a value count that differs.
    InvalidTemplateHash,
    /// Types 30 and 32 refer to a template registry that only RDB files carry.
    TemplateReference(u8),
}

/// A decode failure: what, and the byte offset where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    pub kind: ErrorKind,
    /// A payload offset; or, when `decompressed` is set, an offset in the decompressed bytes of
    /// an LZF-compressed blob.
    pub offset: usize,
    /// `Some(at)`: `offset` counts in the decompressed bytes of the LZF string at payload
    /// offset `at`, not in the payload.
    pub decompressed: Option<usize>,
}

impl DecodeError {
    pub const fn new(kind: ErrorKind, offset: usize) -> Self {
        DecodeError {
            kind,
            offset,
            decompressed: None,
        }
    }

    /// Where the error is, as a person reads it: `1234`, or `1234 (in the decompressed blob at
    /// 56)`.
    pub fn offset_text(&self) -> String {
        match self.decompressed {
            None => self.offset.to_string(),
            Some(at) => format!("{} (in the decompressed blob at {at})", self.offset),
        }
    }

    pub fn class(&self) -> ErrorClass {
        match self.kind {
            ErrorKind::PayloadTooShort
            | ErrorKind::UnsupportedRdbVersion(_)
            | ErrorKind::ChecksumMismatch => ErrorClass::VersionOrChecksum,
            ErrorKind::PreGaModuleValue => ErrorClass::Unsupported,
            _ => ErrorClass::BadData,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::PayloadTooShort => f.write_str("payload shorter than its footer"),
            ErrorKind::UnsupportedRdbVersion(v) => write!(f, "unsupported RDB version {v}"),
            ErrorKind::ChecksumMismatch => f.write_str("CRC-64 mismatch"),
            ErrorKind::UnexpectedEnd => f.write_str("unexpected end of data"),
            ErrorKind::InvalidLength => f.write_str("invalid length encoding"),
            ErrorKind::InvalidStringEncoding => f.write_str("invalid string encoding"),
            ErrorKind::InvalidLzf => f.write_str("invalid LZF data"),
            ErrorKind::InvalidDouble => f.write_str("invalid score"),
            ErrorKind::LengthTooLarge => f.write_str("declared length exceeds the payload"),
            ErrorKind::TrailingBytes => f.write_str("trailing bytes after the object"),
            ErrorKind::UnknownType(t) => write!(f, "unknown object type {t}"),
            ErrorKind::EmptyCollection => f.write_str("empty collection"),
            ErrorKind::Duplicate => f.write_str("duplicate element"),
            ErrorKind::NanScore => f.write_str("NaN score"),
            ErrorKind::OddElementCount => f.write_str("odd element count in a pair encoding"),
            ErrorKind::InvalidZiplist => f.write_str("invalid ziplist"),
            ErrorKind::InvalidListpack => f.write_str("invalid listpack"),
            ErrorKind::InvalidIntset => f.write_str("invalid intset"),
            ErrorKind::InvalidZipmap => f.write_str("invalid zipmap"),
            ErrorKind::InvalidQuicklist => f.write_str("invalid quicklist"),
            ErrorKind::InvalidStream => f.write_str("invalid stream"),
            ErrorKind::InvalidFieldTtl => f.write_str("invalid hash field TTL"),
            ErrorKind::InvalidModuleValue => f.write_str("invalid module value"),
            ErrorKind::PreGaModuleValue => {
                f.write_str("pre-GA module value (type 6) is not supported")
            }
            ErrorKind::InvalidKeyMetadata => f.write_str("invalid key metadata block"),
            ErrorKind::InvalidArray => f.write_str("invalid array"),
            ErrorKind::InvalidTemplateHash => f.write_str("invalid template hash"),
            ErrorKind::TemplateReference(t) => write!(
                f,
                "type {t} refers to a hash template registry, which only RDB files carry"
            ),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.kind, self.offset_text())
    }
}

/// Where a packed blob's bytes are, so that errors inside it point at the offending element:
/// the payload offset of its first byte, or, for an LZF-compressed blob, the payload offset of
/// the compressed string (offsets then count in the decompressed bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Base {
    start: usize,
    decompressed: Option<usize>,
}

impl Base {
    /// A blob whose bytes start at payload offset `start`.
    pub const fn payload(start: usize) -> Self {
        Base {
            start,
            decompressed: None,
        }
    }

    /// A blob decompressed from the LZF string at payload offset `string_at`.
    pub const fn decompressed(string_at: usize) -> Self {
        Base {
            start: 0,
            decompressed: Some(string_at),
        }
    }

    /// The offset that byte `pos` of the blob is reported at.
    #[inline]
    pub const fn offset(self, pos: usize) -> usize {
        self.start.saturating_add(pos)
    }

    /// An error of `kind` at byte `pos` of the blob.
    #[cold]
    pub fn error(self, kind: ErrorKind, pos: usize) -> DecodeError {
        DecodeError {
            kind,
            offset: self.offset(pos),
            decompressed: self.decompressed,
        }
    }
}

impl From<usize> for Base {
    fn from(start: usize) -> Self {
        Base::payload(start)
    }
}

impl std::error::Error for DecodeError {}

pub type Result<T> = core::result::Result<T, DecodeError>;
