//! Listpack blobs (hash/zset/set listpacks, quicklist 2 nodes, stream nodes).
//!
//! ```text
//! total_bytes u32 LE | num_elements u16 LE (0xFFFF = unknown) | entry* | 0xFF
//! entry = encoding+data | backlen (1-5 bytes, the encoding+data size, read backwards)
//!   0xxxxxxx            7-bit uint            110xxxxx yyyyyyyy   13-bit int
//!   10xxxxxx + data     6-bit-length string   1110xxxx yyyyyyyy   12-bit-length string
//!   F0 u32 LE + data    32-bit-length string  F1 i16 | F2 i24 | F3 i32 | F4 i64 (all LE)
//! ```
//! Validation is the native deep check (`lpValidateIntegrity` + `lpValidateNext`), always on,
//! plus: backlen bytes must be exactly what the writer emits.

use super::cursor::Cursor;
use super::element::Element;
use super::error::{Base, DecodeError, ErrorKind, Result};

/// Bytes before the first entry: total bytes (u32) and element count (u16).
pub const HEADER_SIZE: usize = 6;
const NUMELE_UNKNOWN: u16 = 0xffff;
const EOF: u8 = 0xff;

/// Size of the backlen field the writer emits for an entry of `enc_len` bytes.
fn backlen_size(enc_len: usize) -> usize {
    match enc_len {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Checks that `bytes` is the writer's backlen encoding of `enc_len`.
fn backlen_matches(bytes: &[u8], enc_len: usize) -> bool {
    let n = bytes.len();
    bytes.iter().enumerate().all(|(i, &b)| {
        let shift = 7 * (n - 1 - i);
        let group = ((enc_len >> shift) & 0x7f) as u8;
        if i == 0 {
            b == group && (enc_len >> shift) <= 0x7f
        } else {
            b == group | 0x80
        }
    })
}

/// For each first byte of an entry, the size of its encoding and data where the byte alone
/// says it: 7-bit uints, 6-bit-length strings, 13-bit and fixed-width integers (1 to 64 bytes,
/// so a one-byte backlen); 0 where it does not (12- and 32-bit-length strings, whose length
/// follows) and for the bytes no entry starts with (F5-FF).
static FIXED_SIZE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = match b as u8 {
            0x00..=0x7f => 1,
            0x80..=0xbf => 1 + (b as u8 & 0x3f),
            0xc0..=0xdf => 2,
            0xf1 => 3,
            0xf2 => 4,
            0xf3 => 5,
            0xf4 => 9,
            _ => 0,
        };
        b += 1;
    }
    t
};

/// Where the entry at `pos` of `body` ends (after its backlen), when its first byte says its
/// size and its backlen is that size: the common case of [`validate`], one table lookup and
/// one compare.
#[inline(always)]
fn fixed_entry_end(body: &[u8], pos: usize) -> Option<usize> {
    let size = usize::from(FIXED_SIZE[usize::from(*body.get(pos)?)]);
    (size != 0 && body.get(pos + size) == Some(&(size as u8))).then_some(pos + size + 1)
}

/// Decodes the entry at `pos` of `body` (the listpack up to, not including, its terminating
/// 0xFF, so no entry can reach it) without a cursor: the element and where the next entry
/// starts. Every encoding whose entry is shorter than 128 bytes (a one-byte backlen), and
/// 12-bit-length strings of any size, are read here; `None` for the rest (32-bit-length
/// strings) and for anything malformed, which [`entry_general`] then reads or refuses. So this
/// never accepts what the general decoder refuses, nor reads it differently (tested on every
/// first byte, backlen byte and room).
#[inline(always)]
fn entry<'b>(body: &'b [u8], pos: usize) -> Option<(Element<'b>, usize)> {
    let rest = body.get(pos..)?;
    let b0 = *rest.first()?;
    // (element, encoding + data size): each arm reads only bytes before `rest[enc_len]`, the
    // backlen, whose presence is checked below before anything is returned.
    let (element, enc_len) = match b0 {
        0x00..=0x7f => (Element::Int(i64::from(b0)), 1),
        0x80..=0xbf => {
            let enc_len = 1 + usize::from(b0 & 0x3f);
            (Element::Bytes(rest.get(1..enc_len)?), enc_len)
        }
        0xc0..=0xdf => {
            let u = (i64::from(b0 & 0x1f) << 8) | i64::from(*rest.get(1)?);
            // 13-bit two's complement.
            (Element::Int(if u < 4096 { u } else { u - 8192 }), 2)
        }
        0xe0..=0xef => {
            let enc_len = 2 + ((usize::from(b0 & 0x0f) << 8) | usize::from(*rest.get(1)?));
            let data = rest.get(2..enc_len)?;
            if enc_len >= 128 {
                // A two-byte backlen (entries of 128..=4097 bytes).
                let backlen = rest.get(enc_len..enc_len + 2)?;
                if backlen != [(enc_len >> 7) as u8, (enc_len & 0x7f) as u8 | 0x80] {
                    return None;
                }
                return Some((Element::Bytes(data), pos + enc_len + 2));
            }
            (Element::Bytes(data), enc_len)
        }
        0xf1 => {
            let b = rest.get(1..3)?;
            (Element::Int(i64::from(i16::from_le_bytes([b[0], b[1]]))), 3)
        }
        0xf2 => {
            let b = rest.get(1..4)?;
            let v = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
            (Element::Int(i64::from(v)), 4)
        }
        0xf3 => {
            let b = rest.get(1..5)?;
            (
                Element::Int(i64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))),
                5,
            )
        }
        0xf4 => {
            let b: [u8; 8] = rest.get(1..9)?.try_into().ok()?;
            (Element::Int(i64::from_le_bytes(b)), 9)
        }
        _ => return None,
    };
    // A one-byte backlen: the entry's size.
    if *rest.get(enc_len)? != enc_len as u8 {
        return None;
    }
    Some((element, pos + enc_len + 1))
}

/// [`entry`] for every encoding, and for the fast path's inputs when they are malformed.
fn entry_general<'b>(c: &mut Cursor<'b>) -> Result<Element<'b>> {
    let start = c.position();
    let b0 = c.read_u8()?;
    let element = if b0 & 0x80 == 0 {
        Element::Int(i64::from(b0 & 0x7f))
    } else if b0 & 0xc0 == 0x80 {
        Element::Bytes(c.read_bytes(usize::from(b0 & 0x3f))?)
    } else if b0 & 0xe0 == 0xc0 {
        let u = (u16::from(b0 & 0x1f) << 8) | u16::from(c.read_u8()?);
        // 13-bit two's complement.
        Element::Int(if u < 4096 {
            i64::from(u)
        } else {
            i64::from(u) - 8192
        })
    } else if b0 & 0xf0 == 0xe0 {
        let len = (usize::from(b0 & 0x0f) << 8) | usize::from(c.read_u8()?);
        Element::Bytes(c.read_bytes(len)?)
    } else {
        match b0 {
            0xf0 => {
                let len = c.read_u32_le()?;
                Element::Bytes(c.read_bytes_u64(u64::from(len))?)
            }
            0xf1 => Element::Int(i64::from(i16::from_le_bytes(c.read_array()?))),
            0xf2 => {
                let [a, b, d] = c.read_array::<3>()?;
                Element::Int(i64::from(i32::from_le_bytes([0, a, b, d]) >> 8))
            }
            0xf3 => Element::Int(i64::from(i32::from_le_bytes(c.read_array()?))),
            0xf4 => Element::Int(i64::from_le_bytes(c.read_array()?)),
            // F5..FE are unused; FF only ends the listpack.
            _ => return Err(c.err(ErrorKind::InvalidListpack)),
        }
    };
    let enc_len = c.position() - start;
    let backlen = c.read_bytes(backlen_size(enc_len))?;
    if !backlen_matches(backlen, enc_len) {
        return Err(c.err(ErrorKind::InvalidListpack));
    }
    Ok(element)
}

/// The entry at `pos` through [`entry_general`]: the encodings [`entry`] leaves to it, or the
/// error for the entry at `pos`.
#[cold]
#[inline(never)]
fn entry_slow(body: &[u8], pos: usize, base: Base) -> Result<(Element<'_>, usize)> {
    let bad = || base.error(ErrorKind::InvalidListpack, pos);
    let mut c = Cursor::with_base(body, base);
    c.skip(pos).map_err(|_| bad())?;
    let element = entry_general(&mut c).map_err(|_| bad())?;
    Ok((element, c.position()))
}

/// Validates `blob` as a listpack and calls `f` with each element in order. Returns the number of
/// elements. `base` is the blob's payload offset, for error positions.
///
/// Generic over `f` (not `dyn`): the per-element call inlines, which matters for the stream
/// node walker, called for every element of every node.
pub fn walk<'b, E, F>(blob: &'b [u8], base: Base, mut f: F) -> core::result::Result<usize, E>
where
    E: From<DecodeError>,
    F: FnMut(Element<'b>) -> core::result::Result<(), E>,
{
    walk_at(blob, base, |e, _| f(e))
}

/// [`walk`], calling `f` with each element and its position in `blob`, for callers whose own
/// checks report the offending element.
#[inline]
pub fn walk_at<'b, E, F>(blob: &'b [u8], base: Base, mut f: F) -> core::result::Result<usize, E>
where
    E: From<DecodeError>,
    F: FnMut(Element<'b>, usize) -> core::result::Result<(), E>,
{
    let (body, numele) = header(blob, base)?;
    let mut count = 0usize;
    let mut pos = HEADER_SIZE;
    while pos < body.len() {
        let (element, next) = match entry(body, pos) {
            Some(read) => read,
            None => entry_slow(body, pos, base)?,
        };
        f(element, pos)?;
        pos = next;
        count += 1;
    }
    check_count(numele, count, base)?;
    Ok(count)
}

/// Checks the header and terminator of `blob`; returns the bytes before the terminator (no
/// entry may reach it) and the declared element count.
#[inline]
fn header(blob: &[u8], base: Base) -> Result<(&[u8], u16)> {
    let invalid_header = || base.error(ErrorKind::InvalidListpack, 0);
    let Some((&EOF, body)) = blob.split_last() else {
        return Err(invalid_header());
    };
    let Some(header) = body.first_chunk::<HEADER_SIZE>() else {
        return Err(invalid_header());
    };
    let total = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
    let numele = u16::from_le_bytes([header[4], header[5]]);
    if usize::try_from(total).ok() != Some(blob.len()) {
        return Err(invalid_header());
    }
    Ok((body, numele))
}

/// The declared element count, unless unknown (0xFFFF), must be the count walked.
#[inline]
fn check_count(numele: u16, count: usize, base: Base) -> Result<()> {
    if numele != NUMELE_UNKNOWN && usize::from(numele) != count {
        return Err(base.error(ErrorKind::InvalidListpack, 4));
    }
    Ok(())
}

/// [`walk_at`] for listpacks of keys and values (hash fields and their values: `stride` 2):
/// `f` is called with every `stride`-th element (the first, and so on) and its position; the
/// others are validated without being read, as [`validate`] does. Returns the number of
/// elements, all included.
#[inline]
pub fn walk_keys_at<'b, E, F>(
    blob: &'b [u8],
    base: Base,
    stride: usize,
    mut f: F,
) -> core::result::Result<usize, E>
where
    E: From<DecodeError>,
    F: FnMut(Element<'b>, usize) -> core::result::Result<(), E>,
{
    let (body, numele) = header(blob, base)?;
    let mut count = 0usize;
    let mut pos = HEADER_SIZE;
    let mut until_key = 0usize;
    while pos < body.len() {
        if until_key == 0 {
            let (element, next) = match entry(body, pos) {
                Some(read) => read,
                None => entry_slow(body, pos, base)?,
            };
            f(element, pos)?;
            pos = next;
            until_key = stride;
        } else {
            pos = match fixed_entry_end(body, pos) {
                Some(end) => end,
                None => match entry(body, pos) {
                    Some((_, next)) => next,
                    None => entry_slow(body, pos, base)?.1,
                },
            };
        }
        until_key -= 1;
        count += 1;
    }
    check_count(numele, count, base)?;
    Ok(count)
}

/// Validates `blob` as a listpack, as [`walk`] does, without reading its elements: the walk of
/// a list's quicklist nodes, which only needs their structure (half the instructions of a
/// walk that decodes every element). Returns the number of elements.
pub fn validate(blob: &[u8], base: Base) -> Result<usize> {
    let (body, numele) = header(blob, base)?;
    let mut count = 0usize;
    let mut pos = HEADER_SIZE;
    while pos < body.len() {
        pos = match fixed_entry_end(body, pos) {
            Some(end) => end,
            None => match entry(body, pos) {
                Some((_, next)) => next,
                None => entry_slow(body, pos, base)?.1,
            },
        };
        count += 1;
    }
    check_count(numele, count, base)?;
    Ok(count)
}

/// A listpack read entry by entry, for walkers that decide as they go which entries they read
/// and which they only validate (a stream node's fields and values). Every entry is validated
/// as [`walk`] validates it, in order; [`Entries::finish`] then checks the declared count.
pub struct Entries<'b> {
    body: &'b [u8],
    pos: usize,
    base: Base,
    count: usize,
    numele: u16,
}

impl<'b> Entries<'b> {
    /// Checks the header and terminator of `blob`.
    pub fn new(blob: &'b [u8], base: Base) -> Result<Self> {
        let (body, numele) = header(blob, base)?;
        Ok(Entries {
            body,
            pos: HEADER_SIZE,
            base,
            count: 0,
            numele,
        })
    }

    /// Whether every entry was read.
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.pos >= self.body.len()
    }

    /// Position in the blob of the next entry.
    #[inline(always)]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Reads the next entry; call only when not [`is_empty`](Self::is_empty).
    #[inline(always)]
    pub fn next_element(&mut self) -> Result<Element<'b>> {
        let (element, next) = match entry(self.body, self.pos) {
            Some(read) => read,
            None => entry_slow(self.body, self.pos, self.base)?,
        };
        self.pos = next;
        self.count += 1;
        Ok(element)
    }

    /// Validates the next entry without reading it; call only when not
    /// [`is_empty`](Self::is_empty).
    #[inline(always)]
    pub fn skip(&mut self) -> Result<()> {
        self.pos = match fixed_entry_end(self.body, self.pos) {
            Some(end) => end,
            None => match entry(self.body, self.pos) {
                Some((_, next)) => next,
                None => entry_slow(self.body, self.pos, self.base)?.1,
            },
        };
        self.count += 1;
        Ok(())
    }

    /// Checks the declared count, once every entry was read; returns the count.
    pub fn finish(self) -> Result<usize> {
        check_count(self.numele, self.count, self.base)?;
        Ok(self.count)
    }
}

/// Calls `f` with each element of an already validated listpack.
pub fn for_each<'b, E: From<DecodeError>>(
    blob: &'b [u8],
    f: &mut dyn FnMut(Element<'b>) -> core::result::Result<(), E>,
) -> core::result::Result<(), E> {
    walk(blob, Base::payload(0), f).map(|_| ())
}

/// Validates a listpack and returns its elements (for tests and small structures).
pub fn elements(blob: &[u8], base: Base) -> Result<Vec<Element<'_>>> {
    let mut out = Vec::new();
    walk(blob, base, &mut |e| {
        out.push(e);
        Ok::<_, DecodeError>(())
    })?;
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One entry through the fast path or the general decoder: the element and the bytes read.
    /// One entry as the walk reads it (the fast path, else the general decoder), or through
    /// the general decoder alone: the element and the bytes read. The fast path alone, where it
    /// reads an entry, must read it as the general decoder does.
    fn decode(blob: &[u8], general: bool) -> Option<(Element<'_>, usize)> {
        let slow = entry_slow(blob, 0, Base::payload(7)).ok();
        if general {
            return slow;
        }
        match entry(blob, 0) {
            Some(fast) => {
                assert_eq!(Some(fast), slow, "{blob:?}");
                Some(fast)
            }
            None => slow,
        }
    }

    /// The fast path reads every valid entry of the encodings it covers (all but 32-bit-length
    /// strings), so the general decoder only sees those and malformed entries.
    #[test]
    fn entry_fast_path_covers_every_encoding_but_long_strings() {
        let mut entries: Vec<Vec<u8>> = vec![
            vec![0x05, 0x01],
            entry_bytes(&[0x83], b"abc"),
            vec![0xdf, 0xff, 0x02],
            entry_bytes(&[0xe0, 200], &[b'x'; 200]),
            entry_bytes(&[0xef, 0xff], &[b'x'; 4095]),
            entry_bytes(&[0xf1], &(-300i16).to_le_bytes()),
            entry_bytes(&[0xf2], &[0x40, 0x42, 0x0f]),
            entry_bytes(&[0xf3], &i32::MIN.to_le_bytes()),
            entry_bytes(&[0xf4], &i64::MAX.to_le_bytes()),
        ];
        for e in &entries {
            let (_, next) = entry(e, 0).unwrap_or_else(|| panic!("{:x?}", &e[..3]));
            assert_eq!(next, e.len());
        }
        entries.push(entry_bytes(&[0xf0, 3, 0, 0, 0], b"abc"));
        assert!(entry(entries.last().unwrap(), 0).is_none());
        assert!(decode(entries.last().unwrap(), false).is_some());
    }

    /// The fast path of `entry` agrees with the general decoder on every first byte, every
    /// backlen byte and every room left before the end: same element and size, or both refused.
    #[test]
    fn entry_fast_path_agrees_with_the_general_decoder() {
        for b0 in 0..=255u8 {
            for backlen in 0..=255u8 {
                for room in 0..=70usize {
                    // room bytes after b0 up to the end marker; the byte at enc_len is `backlen`.
                    let enc_len = if b0 & 0xc0 == 0x80 {
                        1 + usize::from(b0 & 0x3f)
                    } else {
                        1
                    };
                    let mut blob = vec![b0];
                    blob.extend((1..=room).map(|i| if i == enc_len { backlen } else { i as u8 }));
                    assert_eq!(
                        decode(&blob, false),
                        decode(&blob, true),
                        "b0 {b0:#x} backlen {backlen} room {room}"
                    );
                }
            }
        }
    }

    /// The same for 12-bit-length strings of every length, each backlen byte right or off by one.
    #[test]
    fn entry_fast_path_agrees_on_twelve_bit_strings() {
        for len in 0..4096usize {
            let good = entry_bytes(&[0xe0 | (len >> 8) as u8, len as u8], &vec![b'x'; len]);
            let backlen_at = 2 + len;
            for room in [good.len() - 1, good.len(), good.len() + 1] {
                for (i, delta) in [(0, 0u8), (0, 1), (0, 0x80), (1, 1), (1, 0x80)] {
                    let mut blob = good.clone();
                    blob.resize(room, b'y');
                    if let Some(b) = blob.get_mut(backlen_at + i) {
                        *b = b.wrapping_add(delta);
                    }
                    assert_eq!(
                        decode(&blob, false),
                        decode(&blob, true),
                        "len {len} room {room} byte {i} +{delta}"
                    );
                }
            }
        }
    }

    /// `validate` (no elements) and `walk` agree on every listpack: the same count, or the same
    /// error. Listpacks of every kind of entry, then each with one byte changed anywhere.
    #[test]
    fn validate_agrees_with_walk() {
        let kinds: Vec<Vec<u8>> = vec![
            vec![0x05, 0x01],
            entry_bytes(&[0x83], b"abc"),
            entry_bytes(&[0x80], b""),
            vec![0xdf, 0xff, 0x02],
            entry_bytes(&[0xe0, 5], b"hello"),
            entry_bytes(&[0xe0, 200], &[b'x'; 200]),
            entry_bytes(&[0xf1], &(-300i16).to_le_bytes()),
            entry_bytes(&[0xf2], &[0x40, 0x42, 0x0f]),
            entry_bytes(&[0xf3], &i32::MIN.to_le_bytes()),
            entry_bytes(&[0xf4], &i64::MAX.to_le_bytes()),
            entry_bytes(&[0xf0, 3, 0, 0, 0], b"abc"),
        ];
        let mut rng = restore_testkit::rng::XorShift::new(0x2545_f491_4f6c_dd1d);
        let mut next = move || rng.next_u64();
        let agree = |blob: &[u8]| {
            let walked = walk(blob, Base::payload(3), |_| Ok::<_, DecodeError>(()));
            assert_eq!(validate(blob, Base::payload(3)), walked, "{blob:x?}");
            for stride in 1..4 {
                let mut all = Vec::new();
                let walked = walk_at(blob, Base::payload(3), |e, at| {
                    all.push((e, at));
                    Ok::<_, DecodeError>(())
                });
                let mut keys = Vec::new();
                let keyed = walk_keys_at(blob, Base::payload(3), stride, |e, at| {
                    keys.push((e, at));
                    Ok::<_, DecodeError>(())
                });
                assert_eq!(keyed, walked, "{blob:x?}");
                if walked.is_ok() {
                    let every: Vec<_> = all.into_iter().step_by(stride).collect();
                    assert_eq!(keys, every, "{blob:x?}");
                }
            }
        };
        for _ in 0..300 {
            let n = (next() % 12) as usize;
            let entries: Vec<&[u8]> = (0..n)
                .map(|_| kinds[(next() % kinds.len() as u64) as usize].as_slice())
                .collect();
            let good = build(&entries, n as u16);
            agree(&good);
            for at in 0..good.len() {
                let mut bad = good.clone();
                bad[at] = next() as u8;
                agree(&bad);
            }
        }
    }

    /// Builds a listpack from raw entries (each entry's encoding+data and backlen, as bytes).
    pub fn build(entries: &[&[u8]], numele: u16) -> Vec<u8> {
        let mut out = vec![0; 6];
        for e in entries {
            out.extend_from_slice(e);
        }
        out.push(0xff);
        let total = out.len() as u32;
        out[..4].copy_from_slice(&total.to_le_bytes());
        out[4..6].copy_from_slice(&numele.to_le_bytes());
        out
    }

    /// Encodes one entry the way the writer would, with a given encoding header and data.
    pub fn entry_bytes(header: &[u8], data: &[u8]) -> Vec<u8> {
        let enc_len = header.len() + data.len();
        let mut out = header.to_vec();
        out.extend_from_slice(data);
        let n = backlen_size(enc_len);
        for i in 0..n {
            let shift = 7 * (n - 1 - i);
            let group = ((enc_len >> shift) & 0x7f) as u8;
            out.push(if i == 0 { group } else { group | 0x80 });
        }
        out
    }

    fn one(entry: Vec<u8>) -> Result<Vec<Element<'static>>> {
        let blob: &'static [u8] = Box::leak(build(&[&entry], 1).into_boxed_slice());
        elements(blob, 0.into())
    }

    #[test]
    fn seven_bit_uint() {
        assert_eq!(one(vec![0x7f, 0x01]).unwrap(), [Element::Int(127)]);
    }

    #[test]
    fn six_bit_string() {
        assert_eq!(
            one(entry_bytes(&[0x83], b"abc")).unwrap(),
            [Element::Bytes(b"abc")]
        );
        assert_eq!(
            one(entry_bytes(&[0x80], b"")).unwrap(),
            [Element::Bytes(b"")]
        );
    }

    #[test]
    fn thirteen_bit_int() {
        assert_eq!(
            one(vec![0xc0 | 0x0f, 0xff, 0x02]).unwrap(),
            [Element::Int(4095)]
        );
        assert_eq!(one(vec![0xdf, 0xff, 0x02]).unwrap(), [Element::Int(-1)]);
        assert_eq!(one(vec![0xd0, 0x00, 0x02]).unwrap(), [Element::Int(-4096)]);
    }

    #[test]
    fn twelve_bit_string() {
        let data = vec![b'x'; 200];
        assert_eq!(
            one(entry_bytes(&[0xe0, 200], &data)).unwrap(),
            [Element::Bytes(&data[..])]
        );
        // A short string in a 12-bit header is legal (non-narrowest).
        assert_eq!(
            one(entry_bytes(&[0xe0, 1], b"z")).unwrap(),
            [Element::Bytes(b"z")]
        );
    }

    #[test]
    fn thirty_two_bit_string() {
        let data = vec![b'y'; 5000];
        let hdr = [0xf0, 0x88, 0x13, 0, 0];
        let e = entry_bytes(&hdr, &data);
        assert_eq!(e.len(), 5005 + 2);
        assert_eq!(one(e).unwrap(), [Element::Bytes(&data[..])]);
    }

    #[test]
    fn sixteen_bit_int() {
        assert_eq!(
            one(entry_bytes(&[0xf1], &(-300i16).to_le_bytes())).unwrap(),
            [Element::Int(-300)]
        );
    }

    #[test]
    fn twenty_four_bit_int() {
        // -8388608 (i24 min) and 8388607 (max): where other decoders broke.
        assert_eq!(
            one(entry_bytes(&[0xf2], &[0x00, 0x00, 0x80])).unwrap(),
            [Element::Int(-8388608)]
        );
        assert_eq!(
            one(entry_bytes(&[0xf2], &[0xff, 0xff, 0x7f])).unwrap(),
            [Element::Int(8388607)]
        );
        assert_eq!(
            one(entry_bytes(&[0xf2], &[0x40, 0x42, 0x0f])).unwrap(),
            [Element::Int(1_000_000)]
        );
    }

    #[test]
    fn thirty_two_bit_int() {
        assert_eq!(
            one(entry_bytes(&[0xf3], &i32::MIN.to_le_bytes())).unwrap(),
            [Element::Int(i32::MIN.into())]
        );
    }

    #[test]
    fn sixty_four_bit_int() {
        assert_eq!(
            one(entry_bytes(&[0xf4], &i64::MAX.to_le_bytes())).unwrap(),
            [Element::Int(i64::MAX)]
        );
        // Non-narrowest: a 64-bit entry holding 1 is accepted, as native does.
        assert_eq!(
            one(entry_bytes(&[0xf4], &1i64.to_le_bytes())).unwrap(),
            [Element::Int(1)]
        );
    }

    #[test]
    fn backlen_thresholds_follow_the_writer() {
        assert_eq!(backlen_size(127), 1);
        assert_eq!(backlen_size(128), 2);
        assert_eq!(backlen_size(16382), 2);
        assert_eq!(backlen_size(16383), 3);
        // A 16383-byte entry has a 3-byte backlen.
        let data = vec![b'q'; 16378];
        let e = entry_bytes(&[0xf0, 0xfa, 0x3f, 0, 0], &data);
        assert_eq!(e.len(), 16383 + 3);
        assert_eq!(one(e).unwrap().len(), 1);
    }

    #[test]
    fn rejects_bad_backlen() {
        assert!(one(vec![0x05, 0x02]).is_err());
        assert!(one(vec![0x83, b'a', b'b', b'c', 0x05]).is_err());
    }

    #[test]
    fn rejects_unused_encodings_and_inner_eof() {
        for b in 0xf5..=0xfe {
            assert!(one(vec![b, 0x01]).is_err(), "{b:#x}");
        }
        let blob = build(&[&[0xff], &[0x01, 0x01]], 2);
        assert!(elements(&blob, 0.into()).is_err());
    }

    #[test]
    fn rejects_bad_headers() {
        let good = build(&[&[0x01, 0x01]], 1);
        assert!(elements(&good, 0.into()).is_ok());
        let mut wrong_total = good.clone();
        wrong_total[0] += 1;
        assert!(elements(&wrong_total, 0.into()).is_err());
        let mut wrong_count = good.clone();
        wrong_count[4] = 2;
        assert!(elements(&wrong_count, 0.into()).is_err());
        let mut unknown_count = good.clone();
        unknown_count[4] = 0xff;
        unknown_count[5] = 0xff;
        assert!(elements(&unknown_count, 0.into()).is_ok());
        let mut no_eof = good;
        *no_eof.last_mut().unwrap() = 0xfe;
        assert!(elements(&no_eof, 0.into()).is_err());
        assert!(elements(&[6, 0, 0, 0, 0, 0], 0.into()).is_err());
        assert_eq!(elements(&[7, 0, 0, 0, 0, 0, 0xff], 0.into()).unwrap(), []);
    }

    #[test]
    fn rejects_entries_that_reach_the_end_byte() {
        // A string claiming more bytes than remain before the terminator.
        let blob = build(&[&[0x85, b'a', b'b']], 1);
        assert!(elements(&blob, 0.into()).is_err());
        // A 32-bit length near u32::MAX must not overflow.
        let blob = build(&[&[0xf0, 0xff, 0xff, 0xff, 0xff, 0x01]], 1);
        assert!(elements(&blob, 0.into()).is_err());
    }

    /// A corruption at element k is reported at element k's offset, not the listpack's.
    #[test]
    fn errors_point_at_the_offending_entry() {
        let entries: Vec<Vec<u8>> = (0..5).map(|i| entry_bytes(&[0x81], &[b'a' + i])).collect();
        for k in 0..entries.len() {
            let mut bad = entries.clone();
            let last = bad[k].len() - 1;
            bad[k][last] = 9; // a backlen that is not the entry's size
            let refs: Vec<&[u8]> = bad.iter().map(Vec::as_slice).collect();
            let blob = build(&refs, 5);
            let at = HEADER_SIZE + entries[..k].iter().map(Vec::len).sum::<usize>();
            let e = elements(&blob, Base::payload(100)).unwrap_err();
            assert_eq!(
                (e.kind, e.offset, e.decompressed),
                (ErrorKind::InvalidListpack, 100 + at, None)
            );
            let e = elements(&blob, Base::decompressed(40)).unwrap_err();
            assert_eq!((e.offset, e.decompressed), (at, Some(40)));
        }
    }
}
