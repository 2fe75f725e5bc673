//! Hash field TTLs (payload types 22–25): applied with HPEXPIREAT where the server has field
//! TTLs (Redis 7.4+, Valkey 9+); elsewhere `restore.field-ttl-policy` decides.

use crate::decode::value::Hash;

use super::errors::Reply;
use super::ffi::{Ctx, RString};

pub fn preflight(_ctx: Ctx) -> Result<(), Reply> {
    Err(Reply::Unsupported(
        "hash field TTLs are not supported on this server (see restore.field-ttl-policy)".into(),
    ))
}

pub fn apply(_ctx: Ctx, _key: RString, _hash: &Hash<'_>) -> Result<(), Reply> {
    Err(Reply::Unsupported("hash field TTLs are not supported on this server".into()))
}
