//! What a target's error reply to a write means for the run: the one table of it.
//!
//! Per key: the key is listed as failed and the run goes on (`BUSYKEY`, a payload the target
//! refuses, a value it cannot hold). Retry: the server is busy for a while (`LOADING`,
//! `TRYAGAIN`, `CLUSTERDOWN`, `BUSY`): the keys are sent again after a pause. Anything else
//! stops the run before the batch is committed — out of memory, a read-only replica after a
//! failover, a missing permission or command would fail every further key the same way, and
//! a million failed keys with a checkpoint marked complete is the failure this prevents.

/// How the run takes one error reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    PerKey,
    Retry,
    /// Stop, with what to do about it.
    Stop(&'static str),
}

/// Replies that concern the key alone: native RESTORE's and RESTORE.ASKING's refusals of a
/// payload or a key (src/module/errors.rs words them).
const PER_KEY: &[&str] = &[
    "BUSYKEY",
    "ERR Bad data format",
    "ERR DUMP payload version or checksum are wrong",
    "ERR Invalid TTL value",
    "ERR this server has no",
    "ERR key metadata class",
    "ERR module type",
    "ERR Pre-release module format",
    "ERR a hash field expires after",
    "ERR every field of the hash has expired",
    "ERR restore failed, nothing was written",
];

const RETRY: &[&str] = &["LOADING", "TRYAGAIN", "CLUSTERDOWN", "BUSY "];

const STOP: &[(&str, &str)] = &[
    ("OOM", "the target is out of memory (maxmemory): free memory or raise maxmemory, then run again with the same --resume"),
    ("READONLY", "the target is a read-only replica (after a failover?): point TARGET at the master and run again with the same --resume"),
    ("MASTERDOWN", "the target replica has lost its master: point TARGET at the master and run again with the same --resume"),
    ("NOPERM", "the user lacks a permission on the target: grant it (e.g. +restore +restore.asking and the key pattern) and run again with the same --resume"),
    ("NOAUTH", "the target requires authentication: give the user and password, and run again with the same --resume"),
    ("WRONGPASS", "the target refused the credentials: fix them and run again with the same --resume"),
    ("MISCONF", "the target cannot persist and refuses writes (stop-writes-on-bgsave-error): fix its disk, then run again with the same --resume"),
    ("NOREPLICAS", "the target has too few replicas for min-replicas-to-write: run again with the same --resume once they are back"),
    ("ERR unknown command", "the target lacks the command (RESTORE renamed, or the module not loaded?): load the module, or run with --no-module, then again with the same --resume"),
    ("ERR max number of clients", "the target has no free connection: run again with the same --resume"),
];

const STOP_OTHER: &str = "an error the client does not take as the key's own: fix its cause and run again with the same --resume";

pub fn classify(reply: &str) -> Class {
    if PER_KEY.iter().any(|p| reply.starts_with(p)) {
        return Class::PerKey;
    }
    if RETRY.iter().any(|p| reply.starts_with(p)) {
        return Class::Retry;
    }
    let advice = STOP
        .iter()
        .find(|(p, _)| reply.starts_with(p))
        .map_or(STOP_OTHER, |(_, a)| a);
    Class::Stop(advice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keys_own_refusals_are_per_key() {
        for r in [
            "BUSYKEY Target key name already exists.",
            "ERR Bad data format",
            "ERR DUMP payload version or checksum are wrong",
            "ERR this server has no hash field TTLs; CONFIG SET restore.field-ttl-policy persist restores the fields without them",
            "ERR this server has no array type (Redis 8.8+, RDB type 28); the payload holds an array of 3 elements",
            "ERR key metadata class 'META-XXXX' (version 1, Redis 8.6+) cannot be attached",
        ] {
            assert_eq!(classify(r), Class::PerKey, "{r}");
        }
    }

    #[test]
    fn a_busy_server_is_retried() {
        for r in [
            "LOADING Redis is loading the dataset in memory",
            "TRYAGAIN Multiple keys request during rehashing of slot",
            "CLUSTERDOWN The cluster is down",
            "BUSY Redis is busy running a script.",
        ] {
            assert_eq!(classify(r), Class::Retry, "{r}");
        }
    }

    #[test]
    fn what_would_fail_every_key_stops_the_run() {
        for (r, says) in [
            (
                "OOM command not allowed when used memory > 'maxmemory'.",
                "maxmemory",
            ),
            (
                "READONLY You can't write against a read only replica.",
                "master",
            ),
            (
                "NOPERM this user has no permissions to run the 'restore' command",
                "grant",
            ),
            (
                "ERR unknown command 'RESTORE.ASKING', with args beginning with: ",
                "--no-module",
            ),
            ("MASTERDOWN Link with MASTER is down", "master"),
            ("ERR something new", "fix its cause"),
        ] {
            match classify(r) {
                Class::Stop(advice) => assert!(advice.contains(says), "{r}: {advice}"),
                other => panic!("{r}: {other:?}"),
            }
        }
    }
}
