//! Listpack blobs: `listpack::walk` on the raw input. An accepted listpack must have a header
//! that matches what was walked, borrow every string from itself, and walk the same way through
//! `for_each` and `elements`; an error from the callback must stop the walk.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restore_asking_fuzz::{alloc_meter, is_within};
use restore_core::decode::listpack;
use restore_core::decode::value::Element;
use restore_core::decode::{DecodeError, ErrorKind};

fuzz_target!(|data: &[u8]| {
    let (result, usage) =
        alloc_meter::measure(|| listpack::walk(data, 0.into(), &mut |_| Ok::<_, DecodeError>(())));
    alloc_meter::assert_within_bound(usage, data.len(), "listpack::walk");
    let Ok(n) = result else { return };

    assert_eq!(
        u32::from_le_bytes(data[..4].try_into().unwrap()) as usize,
        data.len()
    );
    let numele = u16::from_le_bytes([data[4], data[5]]);
    assert!(
        numele == 0xffff || usize::from(numele) == n,
        "header says {numele}, walked {n}"
    );
    assert_eq!(data.last(), Some(&0xff));

    let all = listpack::elements(data, 0.into()).expect("elements() disagrees with walk()");
    assert_eq!(all.len(), n);
    for e in &all {
        if let Element::Bytes(b) = e {
            assert!(is_within(data, b), "an element outside the blob");
        }
    }
    let mut again = Vec::new();
    listpack::for_each(data, &mut |e| {
        again.push(e);
        Ok::<_, DecodeError>(())
    })
    .unwrap();
    assert_eq!(again, all);

    if n > 0 {
        let stop = DecodeError::new(ErrorKind::Duplicate, 12345);
        let mut seen = 0;
        let r = listpack::walk(data, 0.into(), &mut |_| {
            seen += 1;
            if seen == n / 2 + 1 {
                Err(stop)
            } else {
                Ok(())
            }
        });
        assert_eq!(r, Err(stop));
        assert_eq!(seen, n / 2 + 1);
    }
});
