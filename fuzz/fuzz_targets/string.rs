//! RDB lengths and string objects (raw, integer, LZF): `read_string`, `read_blob`, `read_len`
//! and `read_count` on the raw input. LZF output is compared with a reference decompressor
//! written from liblzf's `lzf_decompress` (`src/lzf_ref.rs`): native accepts exactly when it
//! produces `ulen` bytes.
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use restore_asking_fuzz::{alloc_meter, is_within, lzf_ref};
use restore_core::decode::cursor::Cursor;
use restore_core::decode::length::{read_blob, read_count, read_len, read_string};
use restore_core::decode::RdbString;

/// An RDB length, read independently of the crate: (value, bytes used).
fn ref_len(d: &[u8]) -> Option<(u64, usize)> {
    let b = *d.first()?;
    match b >> 6 {
        0 => Some((u64::from(b & 0x3f), 1)),
        1 => Some(((u64::from(b & 0x3f) << 8) | u64::from(*d.get(1)?), 2)),
        _ => match b {
            0x80 => Some((
                u64::from(u32::from_be_bytes(d.get(1..5)?.try_into().ok()?)),
                5,
            )),
            0x81 => Some((u64::from_be_bytes(d.get(1..9)?.try_into().ok()?), 9)),
            _ => None,
        },
    }
}

/// What native (with our ulen = 0 rule) makes of an LZF string at the start of `d`.
fn reference_lzf_string(d: &[u8]) -> Option<Vec<u8>> {
    if d.first() != Some(&0xc3) {
        return None;
    }
    let (clen, a) = ref_len(&d[1..])?;
    let (ulen, b) = ref_len(&d[1 + a..])?;
    let start = 1 + a + b;
    let clen = usize::try_from(clen).ok()?;
    let data = d.get(start..start.checked_add(clen)?)?;
    if ulen == 0 || ulen > d.len() as u64 * 100 {
        return None; // a ulen over 100x the input cannot be produced (LZF peaks at 88:1)
    }
    let out = lzf_ref::decompress(data, ulen as usize)?;
    (out.len() as u64 == ulen).then_some(out)
}

fuzz_target!(|data: &[u8]| {
    let ((result, consumed), usage) = alloc_meter::measure(|| {
        let mut c = Cursor::new(data);
        let r = read_string(&mut c);
        (r, c.offset())
    });
    alloc_meter::assert_within_bound(usage, data.len(), "read_string");
    match &result {
        Ok(s) => {
            assert!(consumed <= data.len());
            match s {
                RdbString::Bytes(Cow::Borrowed(b)) => {
                    assert!(is_within(data, b), "a borrowed string outside the input");
                    assert!(b.len() < data.len());
                }
                RdbString::Bytes(Cow::Owned(v)) => {
                    assert!(!v.is_empty(), "accepted an LZF string with ulen 0");
                    let want = reference_lzf_string(data);
                    assert_eq!(
                        want.as_deref(),
                        Some(&v[..]),
                        "LZF output differs from liblzf"
                    );
                }
                RdbString::Int(_) => assert!((2..=5).contains(&consumed)),
            }
        }
        Err(_) => {
            // Where liblzf would have produced the string, so must we.
            if let Some(out) = reference_lzf_string(data) {
                panic!(
                    "rejected an LZF string liblzf decodes to {} bytes: {result:?}",
                    out.len()
                );
            }
        }
    }

    if let Ok(s) = &result {
        // `read_blob` is `read_string` minus the integer encodings.
        let blob = read_blob(&mut Cursor::new(data));
        match s {
            RdbString::Bytes(b) => assert_eq!(blob.as_deref().ok(), Some(&b[..])),
            RdbString::Int(_) => assert!(blob.is_err()),
        }
    }
    let mut c = Cursor::new(data);
    let len = read_len(&mut c);
    assert_eq!(len.ok(), ref_len(data).map(|(n, _)| n));
    for min in [1, 2, 3, 9] {
        let mut c = Cursor::new(data);
        if let Ok(n) = read_count(&mut c, min) {
            assert!(
                n.saturating_mul(min) <= c.remaining(),
                "count {n} x {min} > {} bytes left",
                c.remaining()
            );
        }
    }
});
