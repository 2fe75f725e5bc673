//! Intset blobs: `intset::validate` on the raw input. An accepted intset has exactly the size its
//! header claims and strictly increasing members, and `for_each` yields them all.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restore_asking_fuzz::alloc_meter;
use restore_core::decode::{intset, DecodeError};

fuzz_target!(|data: &[u8]| {
    let (result, usage) = alloc_meter::measure(|| intset::validate(data, 0.into()));
    alloc_meter::assert_within_bound(usage, data.len(), "intset::validate");
    let Ok(n) = result else { return };

    let width = u32::from_le_bytes(data[..4].try_into().unwrap()) as usize;
    assert!(matches!(width, 2 | 4 | 8));
    assert!(n > 0);
    assert_eq!(data.len(), 8 + n * width);
    let mut members = Vec::new();
    intset::for_each(data, |v| {
        members.push(v);
        Ok::<_, DecodeError>(())
    })
    .unwrap();
    assert_eq!(members.len(), n);
    assert!(
        members.windows(2).all(|w| w[0] < w[1]),
        "members not strictly increasing"
    );
});
