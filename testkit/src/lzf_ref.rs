//! An LZF reference, written from liblzf (`lzf_d.c`) and the format notes in
//! spec/dump-format.md §2.3, independent of the `lzf` crate the decoder uses.
//!
//! Used by the `string` fuzz target (differential check of decompression) and the core's tests,
//! which need LZF strings: the `lzf` crate's compressor overflows (a debug-build
//! panic at compress.rs:89) on some inputs, and only its decompressor is the code under test.
//!
//! ```text
//! 000LLLLL + L+1 literal bytes                 literal run, 1..=32 bytes
//! LLLooooo oooooooo                            back-reference, length L+2 (L 1..=6)
//! 111ooooo LLLLLLLL oooooooo                   back-reference, length L+9 (9..=264)
//! offset = o + 1 bytes back from the output end (1..=8192); copies may overlap their source
//! ```

/// liblzf's decompressor, byte by byte: `None` where it fails (E2BIG: output beyond `ulen`;
/// EINVAL: input cut short or a reference before the output start). Native accepts a string
/// exactly when this returns `ulen` bytes.
pub fn decompress(input: &[u8], ulen: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < 32 {
            let n = ctrl + 1;
            if out.len() + n > ulen || i + n > input.len() {
                return None;
            }
            out.extend_from_slice(&input[i..i + n]);
            i += n;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += usize::from(*input.get(i)?);
                i += 1;
            }
            let off = ((ctrl & 0x1f) << 8) + usize::from(*input.get(i)?) + 1;
            i += 1;
            if out.len() + len + 2 > ulen || off > out.len() {
                return None;
            }
            let start = out.len() - off;
            for k in 0..len + 2 {
                out.push(out[start + k]);
            }
        }
    }
    Some(out)
}

/// A valid (not optimal) LZF encoding of `data`: greedy back-references found within the last
/// `window` bytes (at most 8192). Works for any input, incompressible ones included.
pub fn compress(data: &[u8], window: usize) -> Vec<u8> {
    const MAX_LEN: usize = 264;
    let window = window.clamp(1, 8192);
    let mut out = Vec::with_capacity(data.len() + data.len() / 32 + 1);
    let mut literals: Vec<u8> = Vec::new();
    let flush = |out: &mut Vec<u8>, literals: &mut Vec<u8>| {
        for chunk in literals.chunks(32) {
            out.push((chunk.len() - 1) as u8);
            out.extend_from_slice(chunk);
        }
        literals.clear();
    };
    let mut i = 0;
    while i < data.len() {
        let (mut best_len, mut best_off) = (0, 0);
        for off in 1..=window.min(i) {
            let mut len = 0;
            while len < MAX_LEN && i + len < data.len() && data[i + len] == data[i + len - off] {
                len += 1;
            }
            if len > best_len {
                (best_len, best_off) = (len, off);
                if len == MAX_LEN {
                    break;
                }
            }
        }
        if best_len < 3 {
            literals.push(data[i]);
            i += 1;
            continue;
        }
        flush(&mut out, &mut literals);
        let (l, o) = (best_len - 2, best_off - 1);
        if l < 7 {
            out.push(((l << 5) | (o >> 8)) as u8);
        } else {
            out.push(((7 << 5) | (o >> 8)) as u8);
            out.push((l - 7) as u8);
        }
        out.push(o as u8);
        i += best_len;
    }
    flush(&mut out, &mut literals);
    out
}
