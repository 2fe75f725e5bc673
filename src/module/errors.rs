//! Every reply string of the command, in one place, with its native error code prefix.

use restore_core::decode::{DecodeError, ErrorClass, ErrorKind};
/// Shared with the migration client: the core says what a target cannot hold and why.
pub use restore_core::Unsupported;

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
            Reply::Unsupported(why) => format!("ERR {why}"),
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
