//! Zipmap blobs: `zipmap::walk` on the raw input. An accepted zipmap borrows every key and value
//! from itself, matches its count byte (unless 254+), and walks the same through `for_each`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restore_asking_fuzz::{alloc_meter, is_within};
use restore_core::decode::{zipmap, DecodeError};

fuzz_target!(|data: &[u8]| {
    let (result, usage) =
        alloc_meter::measure(|| zipmap::walk(data, 0.into(), |_, _, _| Ok::<_, DecodeError>(())));
    alloc_meter::assert_within_bound(usage, data.len(), "zipmap::walk");
    let Ok(n) = result else { return };

    assert!(
        data[0] >= 254 || usize::from(data[0]) == n,
        "count byte {} but {n} pairs",
        data[0]
    );
    assert_eq!(data.last(), Some(&0xff));
    let mut pairs = 0;
    zipmap::for_each(data, |k, v| {
        assert!(
            is_within(data, k) && is_within(data, v),
            "a key or value outside the blob"
        );
        pairs += 1;
        Ok::<_, DecodeError>(())
    })
    .unwrap();
    assert_eq!(pairs, n);
});
