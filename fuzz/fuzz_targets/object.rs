//! The whole decoder without the footer: byte 0 picks the RDB version, the rest is the object
//! (type byte + body) given to `decode_object`, which skips the CRC check. Every accepted value
//! must walk cleanly and be what native would hold; allocations stay within the bound. The
//! same object decoded with duplicates left to the writer differs only by duplicates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restore_asking_fuzz::{alloc_meter, invariants, split_versioned};
use restore_core::decode::payload::{decode_object, decode_object_with, Checks};
use restore_core::decode::ErrorKind;

fuzz_target!(|data: &[u8]| {
    let Some((version, object)) = split_versioned(data) else {
        return;
    };
    let (result, usage) = alloc_meter::measure(|| decode_object(object, version));
    alloc_meter::assert_within_bound(usage, object.len(), "decode_object");
    if let Ok(decoded) = &result {
        assert_eq!(decoded.rdb_version, version);
        assert_eq!(Some(&decoded.type_id), object.get(decoded.type_offset));
        invariants::check_accepted(decoded);
    }
    // With duplicates left to the writer (no old value to protect): never a panic, the same
    // bound, and it only ever accepts more, and only by duplicates.
    let relaxed = Checks { duplicates: false };
    let (lenient, usage) = alloc_meter::measure(|| decode_object_with(object, version, relaxed));
    alloc_meter::assert_within_bound(usage, object.len(), "decode_object_with");
    match (&result, &lenient) {
        (Ok(_), Err(e)) => panic!("accepted in full, refused without the duplicate check: {e}"),
        (Err(e), Ok(_)) => assert_eq!(
            e.kind,
            ErrorKind::Duplicate,
            "accepted {e} without the duplicate check"
        ),
        _ => {}
    }
});
