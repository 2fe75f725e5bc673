//! Module configs (`CONFIG GET/SET restore.*`, also accepted as `MODULE LOAD` arguments).

use std::sync::Mutex;

use redis_module::enum_configuration;

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
    FIELD_TTL_POLICY.lock().map(|p| p.clone()).unwrap_or_else(|e| e.into_inner().clone())
}
