//! Ziplist blobs: `ziplist::walk` on the raw input. An accepted ziplist must have a header that
//! matches what was walked, borrow every string from itself, and walk the same through `for_each`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restore_asking_fuzz::{alloc_meter, is_within};
use restore_core::decode::value::Element;
use restore_core::decode::{ziplist, DecodeError};

fuzz_target!(|data: &[u8]| {
    let (result, usage) =
        alloc_meter::measure(|| ziplist::walk(data, 0.into(), &mut |_| Ok::<_, DecodeError>(())));
    alloc_meter::assert_within_bound(usage, data.len(), "ziplist::walk");
    let Ok(n) = result else { return };

    assert_eq!(
        u32::from_le_bytes(data[..4].try_into().unwrap()) as usize,
        data.len()
    );
    let zltail = u32::from_le_bytes(data[4..8].try_into().unwrap()) as usize;
    assert!(zltail < data.len());
    let zllen = u16::from_le_bytes([data[8], data[9]]);
    assert!(
        zllen == 0xffff || usize::from(zllen) == n,
        "header says {zllen}, walked {n}"
    );
    assert_eq!(data.last(), Some(&0xff));

    let mut all = Vec::new();
    ziplist::for_each(data, &mut |e| {
        all.push(e);
        Ok::<_, DecodeError>(())
    })
    .expect("for_each() disagrees with walk()");
    assert_eq!(all.len(), n);
    for e in &all {
        if let Element::Bytes(b) = e {
            assert!(is_within(data, b), "an element outside the blob");
        }
    }
});
