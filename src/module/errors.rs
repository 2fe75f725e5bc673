//! Every reply string of the command, in one place, with its native error code prefix.

use restore_core::decode::{DecodeError, ErrorClass, ErrorKind};

/// A non-OK outcome of `RESTORE.ASKING`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    WrongArity,
    SyntaxError,
    NotAnInteger,
    InvalidIdletime,
    InvalidFreq,
    InvalidTtl,
    BusyKey,
    VersionOrChecksum,
    BadData,
    /// A valid payload of a kind this server cannot hold.
    Unsupported(Unsupported),
    /// A write the server refused half-way (the partial key was removed).
    WriteFailed(String),
}

impl Reply {
    /// The error text, code first, exactly as native RESTORE words it.
    pub fn message(&self) -> String {
        match self {
            Reply::WrongArity => {
                "ERR wrong number of arguments for 'restore.asking' command".into()
            }
            Reply::SyntaxError => "ERR syntax error".into(),
            Reply::NotAnInteger => "ERR value is not an integer or out of range".into(),
            Reply::InvalidIdletime => "ERR Invalid IDLETIME value, must be >= 0".into(),
            Reply::InvalidFreq => "ERR Invalid FREQ value, must be >= 0 and <= 255".into(),
            Reply::InvalidTtl => "ERR Invalid TTL value, must be >= 0".into(),
            Reply::BusyKey => "BUSYKEY Target key name already exists.".into(),
            Reply::VersionOrChecksum => "ERR DUMP payload version or checksum are wrong".into(),
            Reply::BadData => "ERR Bad data format".into(),
            Reply::Unsupported(why) => format!("ERR {}", why.message()),
            Reply::WriteFailed(why) => format!("ERR restore failed, nothing was written: {why}"),
        }
    }
}

impl From<DecodeError> for Reply {
    fn from(e: DecodeError) -> Self {
        match e.class() {
            ErrorClass::VersionOrChecksum => Reply::VersionOrChecksum,
            ErrorClass::BadData => Reply::BadData,
            ErrorClass::Unsupported => match e.kind {
                ErrorKind::PreGaModuleValue => Reply::Unsupported(Unsupported::PreGaModuleValue),
                _ => Reply::BadData,
            },
        }
    }
}

/// Well-formed payloads this server cannot hold: never `Bad data format`, always what is
/// missing and, where there is one, what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsupported {
    /// Type 6: modules before 4.0 GA wrote values no loader can walk without the module.
    PreGaModuleValue,
    /// The owning module is not loaded (or refused the value).
    ModuleType { type_name: String, encver: u16 },
    /// Field TTLs on a server without them, under the `reject` policy.
    NoFieldTtls,
    /// A Valkey field expiry past Redis's `EB_EXPIRE_TIME_MAX`.
    FieldTtlBeyondRedisLimit,
    /// A Redis 8.8 array on a server without the type.
    NoArrayType { elements: usize },
    /// A Redis 8.6+ key-metadata class that may not be dropped.
    KeyMetadata { class: String, version: u8 },
}

impl Unsupported {
    pub fn message(&self) -> String {
        match self {
            Unsupported::PreGaModuleValue => {
                "Pre-release module format (type 6) is not supported".into()
            }
            Unsupported::ModuleType { type_name, encver } => format!(
                "module type '{type_name}' (encoding version {encver}) is not loaded on this server, or its module rejected the value"
            ),
            Unsupported::NoFieldTtls => "this server has no hash field TTLs; CONFIG SET restore.field-ttl-policy persist restores the fields without them".into(),
            Unsupported::FieldTtlBeyondRedisLimit => {
                "a hash field expires after 2^48-1 ms, later than this server can hold".into()
            }
            Unsupported::NoArrayType { elements } => format!(
                "this server has no array type (Redis 8.8+, RDB type 28); the payload holds an array of {elements} elements"
            ),
            Unsupported::KeyMetadata { class, version } => format!(
                "key metadata class 'META-{class}' (version {version}, Redis 8.6+) cannot be attached on this server and is not marked ignorable"
            ),
        }
    }
}
