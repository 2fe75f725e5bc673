//! LZF decompression, as Redis stores compressed strings (`lzf_d.c`'s format).
//!
//! ```text
//! 000LLLLL                      literal run: the next L+1 bytes
//! LLLOOOOO oooooooo             back reference: L+2 bytes from O·256+o+1 bytes back (L < 7)
//! 111OOOOO LLLLLLLL oooooooo    the same with length 7+L+2
//! ```
//! Safe code, written for speed: the output is allocated once, and most copies are fixed-size
//! chunks (see [`WILD`]). The `lzf` crate's decoder, which this crate used before, runs at about
//! half the speed of Redis's C; it remains a dev-dependency to cross-check this one.

/// The chunk references of 16 bytes back or more are copied in: a fixed-size copy is a couple
/// of vector moves where a short variable one is a `memcpy` call.
const WILD: usize = 16;

/// Decompresses `input` into exactly `out_len` bytes; `None` when the data is malformed (a
/// truncated instruction, a reference before the start) or does not produce exactly `out_len`.
///
/// The output is allocated once and never zeroed: it grows by what is decompressed (zeroing it
/// first was a tenth of the instructions). [`fast`] runs every instruction far enough from
/// both ends; this checked loop the rest.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len);
    let mut ip = fast(input, &mut out, out_len)?;
    let in_len = input.len();
    while ip < in_len {
        let ctrl = usize::from(input[ip]);
        ip += 1;
        if ctrl < 32 {
            // A literal run of 1..=32 bytes.
            let len = ctrl + 1;
            let run = input.get(ip..ip + len)?;
            if len > out_len - out.len() {
                return None;
            }
            out.extend_from_slice(run);
            ip += len;
            continue;
        }
        let mut len = ctrl >> 5;
        if len == 7 {
            len += usize::from(*input.get(ip)?);
            ip += 1;
        }
        len += 2;
        let back = ((ctrl & 0x1f) << 8) + usize::from(*input.get(ip)?) + 1;
        ip += 1;
        if len > out_len - out.len() {
            return None;
        }
        let start = out.len().checked_sub(back)?;
        repeat(&mut out, start, len);
    }
    (out.len() == out_len).then_some(out)
}

/// Appends `len` bytes that repeat `out[start..]` (a back reference, overlapping its own
/// output when it is shorter than `len`): each copy takes bytes already there, twice as many
/// each time.
#[inline]
fn repeat(out: &mut Vec<u8>, start: usize, len: usize) {
    let end = out.len() + len;
    while out.len() < end {
        let n = (end - out.len()).min(out.len() - start);
        out.extend_from_within(start..start + n);
    }
}

/// Input bytes one instruction reads at most: a control byte, then a 32-byte literal (or 2
/// more bytes of a reference).
const MAX_IN: usize = 1 + 32;
/// Output bytes one instruction writes at most: a reference of 264 bytes, its last chunk
/// rounded up to [`WILD`] (a literal writes 32, then gives back what it does not hold).
const MAX_OUT: usize = 264 + WILD;

/// The instructions far enough from both ends that whatever they read and write is in range
/// (the output's capacity, less [`MAX_OUT`]; the input, less [`MAX_IN`]): literals appended as
/// one fixed 32-byte copy and cut back to their length, references of 16 bytes back or more
/// in 16-byte chunks (each chunk's source lies wholly before it), nothing reallocated. Stops
/// before the first instruction that could come near an end, and returns where; `None` for a
/// reference before the start.
#[inline]
fn fast(input: &[u8], out: &mut Vec<u8>, out_len: usize) -> Option<usize> {
    let mut ip = 0usize;
    let in_end = input.len().saturating_sub(MAX_IN);
    let out_end = out_len.saturating_sub(MAX_OUT);
    while ip < in_end && out.len() < out_end {
        let ins: &[u8; MAX_IN] = input[ip..].first_chunk()?;
        let ctrl = usize::from(ins[0]);
        let op = out.len();
        if ctrl < 32 {
            let run: &[u8; 32] = ins[1..].first_chunk()?;
            out.extend_from_slice(run);
            out.truncate(op + ctrl + 1);
            ip += ctrl + 2;
            continue;
        }
        let long = usize::from(ctrl >> 5 == 7);
        let len = (ctrl >> 5) + 2 + long * usize::from(ins[1]);
        let back = ((ctrl & 0x1f) << 8) + usize::from(ins[1 + long]) + 1;
        ip += 2 + long;
        let start = op.checked_sub(back)?;
        if back >= WILD {
            let mut from = start;
            while out.len() < op + len {
                let chunk: [u8; WILD] = *out[from..].first_chunk()?;
                out.extend_from_slice(&chunk);
                from += WILD;
            }
            out.truncate(op + len);
        } else {
            repeat(out, start, len);
        }
    }
    Some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shape the compressor produces, checked against the `lzf` crate in both directions.
    #[test]
    fn agrees_with_the_lzf_crate() {
        let mut inputs: Vec<Vec<u8>> = vec![
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".to_vec(),
            b"abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc".to_vec(),
            (0..5000u32).map(|i| (i % 251) as u8).collect(),
            (0..70000u32)
                .map(|i| (i.wrapping_mul(2654435761) >> 27) as u8)
                .collect(),
        ];
        let text: Vec<u8> = "the quick brown fox jumps over the lazy dog; "
            .repeat(200)
            .into_bytes();
        inputs.push(text);
        for input in &inputs {
            let compressed = lzf::compress(input).unwrap();
            assert_eq!(
                decompress(&compressed, input.len()).as_deref(),
                Some(&input[..])
            );
            // Exactly the declared length: one byte less or more is refused, as native does.
            assert_eq!(decompress(&compressed, input.len() - 1), None);
            assert_eq!(decompress(&compressed, input.len() + 1), None);
        }
    }

    #[test]
    fn malformed_input_is_refused() {
        // A back reference before the start, a truncated literal, a truncated reference.
        assert_eq!(decompress(&[0x20, 0x00], 3), None);
        assert_eq!(decompress(&[0x03, b'a', b'b'], 4), None);
        assert_eq!(decompress(&[0x00, b'a', 0xe0], 10), None);
        assert_eq!(decompress(&[0x00, b'a', 0x20], 3), None);
        // A run of 9 from one byte back: "a" then nine more.
        assert_eq!(
            decompress(&[0x00, b'a', 0xe0, 0x00, 0x00], 10).as_deref(),
            Some(&b"aaaaaaaaaa"[..])
        );
        assert_eq!(decompress(&[], 0).as_deref(), Some(&b""[..]));
    }
}
