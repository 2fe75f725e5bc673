//! Well-formed payloads a target cannot hold: never `Bad data format`, always what is missing
//! and, where there is one, what to do about it. Shared by the module (which replies
//! `ERR <message>`) and the migration client (a per-key error).

use core::fmt;

/// A valid value that a given target server cannot hold, and why.
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
    /// Every field of a hash with field TTLs has expired: nothing is left to restore. Callers
    /// treat it as an already-expired key (the module checks before it gets here).
    NoLiveFields,
    /// A Redis 8.8 array on a server without the type.
    NoArrayType { elements: usize },
    /// A Valkey 9.2 path hash on a server without the type.
    NoPathHashType { paths: usize, fields: usize },
    /// A Redis 8.6+ key-metadata class that may not be dropped.
    KeyMetadata { class: String, version: u8 },
    /// A type the target's release predates (streams before Redis 5.0, module values before
    /// 4.0): `what` and the first release that has it.
    TypeTooNew {
        what: &'static str,
        since: &'static str,
    },
    /// The value can only be written by the server's own `RESTORE`, which this server has
    /// renamed or disabled (`rename-command RESTORE ""`).
    NeedsNativeRestore { what: &'static str },
}

impl Unsupported {
    /// The reason, without an error code (the module prefixes `ERR `).
    pub fn message(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsupported::PreGaModuleValue => {
                f.write_str("Pre-release module format (type 6) is not supported")
            }
            Unsupported::ModuleType { type_name, encver } => write!(
                f,
                "module type '{type_name}' (encoding version {encver}) is not loaded on this server, or its module rejected the value"
            ),
            Unsupported::NoFieldTtls => f.write_str(
                "this server has no hash field TTLs; CONFIG SET restore.field-ttl-policy persist restores the fields without them",
            ),
            Unsupported::FieldTtlBeyondRedisLimit => {
                f.write_str("a hash field expires after 2^48-1 ms, later than this server can hold")
            }
            Unsupported::NoLiveFields => {
                f.write_str("every field of the hash has expired: nothing to restore")
            }
            Unsupported::NoArrayType { elements } => write!(
                f,
                "this server has no array type (Redis 8.8+, RDB type 28); the payload holds an array of {elements} elements"
            ),
            Unsupported::NoPathHashType { paths, fields } => write!(
                f,
                "this server has no path hash type (Valkey 9.2+, RDB type 23); the payload holds a path hash of {paths} paths, {fields} fields"
            ),
            Unsupported::KeyMetadata { class, version } => write!(
                f,
                "key metadata class 'META-{class}' (version {version}, Redis 8.6+) cannot be attached on this server and is not marked ignorable"
            ),
            Unsupported::TypeTooNew { what, since } => {
                write!(f, "this server has no {what} type ({since}+)")
            }
            Unsupported::NeedsNativeRestore { what } => write!(
                f,
                "a {what} can only be restored through the server's own RESTORE, which is renamed or disabled on this server (rename-command)"
            ),
        }
    }
}

impl std::error::Error for Unsupported {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_is_missing() {
        assert_eq!(
            Unsupported::NoArrayType { elements: 3 }.message(),
            "this server has no array type (Redis 8.8+, RDB type 28); the payload holds an array of 3 elements"
        );
        assert_eq!(
            Unsupported::NoPathHashType {
                paths: 2,
                fields: 5
            }
            .message(),
            "this server has no path hash type (Valkey 9.2+, RDB type 23); the payload holds a path hash of 2 paths, 5 fields"
        );
        assert!(Unsupported::NoFieldTtls
            .message()
            .contains("restore.field-ttl-policy persist"));
        assert_eq!(
            Unsupported::TypeTooNew {
                what: "stream",
                since: "Redis 5.0"
            }
            .to_string(),
            "this server has no stream type (Redis 5.0+)"
        );
        assert!(Unsupported::NeedsNativeRestore { what: "stream" }
            .message()
            .contains("rename-command"));
    }
}
