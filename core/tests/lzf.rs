//! The LZF decompressor against the reference written from liblzf (`testkit/src/lzf_ref.rs`):
//! the same output, or the same refusal, for valid streams of every shape (runs, short and long
//! periods, literals, near both ends of the fast loop's margins) and for each of them mutated.

use restore_core::decode::lzf::decompress;
use restore_testkit::lzf_ref;
use restore_testkit::rng::XorShift;

/// What native accepts: exactly `ulen` bytes from the reference.
fn reference(input: &[u8], ulen: usize) -> Option<Vec<u8>> {
    lzf_ref::decompress(input, ulen).filter(|out| out.len() == ulen)
}

/// Data of a mixture of shapes: runs of one byte, repeats of a short or long pattern, random
/// bytes, words.
fn data(rng: &mut XorShift, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let n = 1 + rng.below(300);
        match rng.below(4) {
            0 => out.extend(std::iter::repeat_n(rng.next_u64() as u8, n)),
            1 => {
                let period = 1 + rng.below(40);
                let pattern: Vec<u8> = (0..period).map(|_| rng.next_u64() as u8).collect();
                out.extend(pattern.iter().cycle().take(n));
            }
            2 => out.extend((0..n).map(|_| rng.next_u64() as u8)),
            _ => {
                for _ in 0..n / 6 {
                    out.extend_from_slice([&b"field:"[..], b"value", b"12345", b" "][rng.below(4)]);
                }
            }
        }
    }
    out.truncate(len);
    out
}

#[test]
fn agrees_with_the_reference() {
    let mut rng = XorShift::new(0x2545_f491_4f6c_dd1d);
    let mut sizes: Vec<usize> = (0..64)
        .chain([279, 280, 281, 296, 297, 300, 1000])
        .collect();
    sizes.extend((0..40).map(|_| rng.below(5000)));
    sizes.extend([70_000, 150_000]);
    for len in sizes {
        for window in [1, 16, 300, 8192] {
            let original = data(&mut rng, len);
            let compressed = lzf_ref::compress(&original, window);
            assert_eq!(
                decompress(&compressed, len),
                Some(original.clone()),
                "{len}"
            );
            for ulen in [len.saturating_sub(1), len + 1] {
                assert_eq!(decompress(&compressed, ulen), reference(&compressed, ulen));
            }
            let mutations = if len > 10_000 { 20 } else { 60 };
            for _ in 0..mutations {
                let mut m = compressed.clone();
                if m.is_empty() {
                    break;
                }
                match rng.below(3) {
                    0 => {
                        let at = rng.below(m.len());
                        m[at] = rng.next_u64() as u8;
                    }
                    1 => m.truncate(rng.below(m.len())),
                    _ => {
                        let at = rng.below(m.len());
                        m.insert(at, rng.next_u64() as u8);
                    }
                }
                assert_eq!(decompress(&m, len), reference(&m, len), "{len} mutated");
            }
        }
    }
}
