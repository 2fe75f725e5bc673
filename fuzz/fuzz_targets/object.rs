//! The whole decoder without the footer: byte 0 picks the RDB version, the rest is the object
//! (type byte + body) given to `decode_object`, which skips the CRC check. Every accepted value
//! must walk cleanly and be what native would hold; allocations stay within the bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restore_asking::decode::payload::decode_object;
use restore_asking_fuzz::{alloc_meter, invariants, split_versioned};

fuzz_target!(|data: &[u8]| {
    let Some((version, object)) = split_versioned(data) else { return };
    let (result, usage) = alloc_meter::measure(|| decode_object(object, version));
    alloc_meter::assert_within_bound(usage, object.len(), "decode_object");
    if let Ok(decoded) = &result {
        assert_eq!(decoded.rdb_version, version);
        assert_eq!(Some(&decoded.type_id), object.get(decoded.type_offset));
        invariants::check_accepted(decoded);
    }
});
