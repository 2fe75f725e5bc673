//! The whole decoder through the public entry point: byte 0 picks the RDB version, the rest is
//! the object; a correct footer (version + CRC-64/Jones) is appended so mutations get past the
//! checksum, and `decode` runs on the result. The raw input is also decoded as a payload as-is,
//! for the envelope checks themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restore_asking_fuzz::{alloc_meter, invariants, split_versioned};
use restore_core::decode::decode;
use restore_core::decode::payload::decode_object;
use restore_core::encode::finish_payload;

fuzz_target!(|data: &[u8]| {
    let _ = decode(data);
    let Some((version, object)) = split_versioned(data) else {
        return;
    };
    let payload = finish_payload(object.to_vec(), version);
    let (result, usage) = alloc_meter::measure(|| decode(&payload));
    alloc_meter::assert_within_bound(usage, payload.len(), "decode");
    // With a good footer and a known version, `decode` is `decode_object` on the object bytes.
    let direct = decode_object(object, version);
    match (&result, &direct) {
        (Ok(a), Ok(b)) => assert_eq!((a.type_id, a.rdb_version), (b.type_id, b.rdb_version)),
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("decode and decode_object disagree: {a:?} vs {b:?}"),
    }
    if let Ok(decoded) = &result {
        invariants::check_accepted(decoded);
    }
});
