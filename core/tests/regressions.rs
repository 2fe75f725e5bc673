//! Inputs the fuzzers found, one test each, named after what broke.

use restore_core::decode::value::Value;
use restore_core::decode::{decode, DecodeError};

/// A payload around `object`: the crate's own footer writer.
fn with_footer(object: &[u8], version: u16) -> Vec<u8> {
    restore_core::encode::finish_payload(object.to_vec(), version)
}

/// Found by the `object` fuzz target (invariant "Redis field TTLs are 1..=2^48-1; 0 is none").
/// Type 24 stores `ttl` relative to `minExpire`: expiry = `ttl + minExpire - 1`, and native
/// (rdb.c, `RDB_TYPE_HASH_METADATA`) creates the field *without* a TTL when that sum is 0, which
/// it is for `minExpire = 0, ttl = 1`. Old failure: the decoder reported `Some(0)` (expire at the
/// epoch), so the module dropped a field that native RESTORE keeps forever. Either reading it as
/// no TTL or rejecting the payload (no genuine writer produces it) is fine; an expiry of 0 is not.
#[test]
fn hash_metadata_relative_ttl_summing_to_zero_is_not_an_expiry_at_the_epoch() {
    let object = [
        24, // RDB_TYPE_HASH_METADATA
        0, 0, 0, 0, 0, 0, 0, 0, // minExpire = 0 (MS, i64 LE)
        1, // one field
        1, // ttl = 1: expiry = 1 + 0 - 1 = 0
        1, b'f', // field "f"
        1, b'v', // value "v"
    ];
    let payload = with_footer(&object, 12);
    let Ok(decoded) = decode(&payload) else {
        return;
    };
    let Value::Hash(hash) = &decoded.value else {
        panic!("not a hash: {:?}", decoded.value)
    };
    hash.for_each(|_, _, ttl| {
        assert_eq!(ttl, None, "native keeps this field without a TTL");
        Ok::<_, DecodeError>(())
    })
    .unwrap();
}
