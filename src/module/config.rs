//! Module configs (`CONFIG GET/SET restore.*`, also accepted as `MODULE LOAD` arguments).

use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::sync::Mutex;

use redis_module::configuration::ConfigurationContext;
use redis_module::{enum_configuration, ConfigurationValue, RedisError};

enum_configuration! {
    /// What to do with hash field TTLs on a server that has none (Redis < 7.4, Valkey < 9).
    #[allow(non_camel_case_types)]
    #[derive(PartialEq, Eq, Debug)]
    pub enum FieldTtlPolicy {
        /// Refuse the payload with an error naming this config.
        reject = 0,
        /// Restore the live fields without their TTLs.
        persist = 1,
    }
}

pub static FIELD_TTL_POLICY: Mutex<FieldTtlPolicy> = Mutex::new(FieldTtlPolicy::reject);

pub fn field_ttl_policy() -> FieldTtlPolicy {
    // A poisoned lock only means a panic elsewhere; the value itself is always valid.
    FIELD_TTL_POLICY
        .lock()
        .map(|p| p.clone())
        .unwrap_or_else(|e| e.into_inner().clone())
}

/// (Its own module: the macro imports a trait name each time it is used.)
mod intercept_mode {
    use redis_module::enum_configuration;
    enum_configuration! {
        /// Which client `RESTORE` / `RESTORE-ASKING` commands the command filter routes to
        /// `RESTORE.ASKING`.
        #[allow(non_camel_case_types)]
        #[derive(PartialEq, Eq, Debug)]
        pub enum InterceptMode {
            /// None: the built-in commands run as usual.
            off = 0,
            /// Only payloads this server's own RESTORE would refuse (newer RDB version, unknown type).
            newer = 1,
            /// All of them.
            all = 2,
        }
    }
}
pub use intercept_mode::InterceptMode;

/// `restore.intercept`, kept in an atomic: the command filter reads it for every command.
pub struct InterceptConfig(AtomicU8);

pub static INTERCEPT: InterceptConfig = InterceptConfig(AtomicU8::new(InterceptMode::off as u8));

impl InterceptConfig {
    pub fn mode(&self) -> InterceptMode {
        InterceptMode::try_from(i32::from(self.0.load(Relaxed))).unwrap_or(InterceptMode::off)
    }
}

impl ConfigurationValue<InterceptMode> for InterceptConfig {
    fn get(&self, _ctx: &ConfigurationContext) -> InterceptMode {
        self.mode()
    }

    fn set(&self, _ctx: &ConfigurationContext, val: InterceptMode) -> Result<(), RedisError> {
        self.0.store(i32::from(val) as u8, Relaxed);
        Ok(())
    }
}
