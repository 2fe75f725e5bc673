//! The basic elements every container holds: string objects (bytes or an integer encoding),
//! collection elements, and the validated blobs of packed encodings. A leaf: the formats
//! (`length`, `listpack`, `ziplist`, ...) build these, and [`super::value`] builds on them.

use std::borrow::Cow;

/// A string object: raw bytes (borrowed, or owned after LZF) or an integer encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdbString<'a> {
    Bytes(Cow<'a, [u8]>),
    Int(i64),
}

impl<'a> RdbString<'a> {
    pub fn as_element(&self) -> Element<'_> {
        match self {
            RdbString::Bytes(b) => Element::Bytes(b),
            RdbString::Int(i) => Element::Int(*i),
        }
    }

    /// Length in bytes of the string this represents.
    pub fn len(&self) -> usize {
        self.as_element().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One element of a collection: bytes, or an integer that stands for its decimal text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

/// Room for the decimal text of any `i64`.
pub type IntBuf = [u8; 20];

/// Writes the decimal text of `v` into `buf` and returns it.
pub fn format_i64(v: i64, buf: &mut IntBuf) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Parses `s` as Redis's `string2ll` does: an optional `-`, digits, no leading zeros (except
/// "0"), no `+`, no spaces, and it must fit in an `i64`. `-0` is not canonical.
pub fn canonical_i64(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let (neg, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits {
        [] => return None,
        [b'0'] => return if neg { None } else { Some(0) },
        [b'0', ..] => return None,
        _ => {}
    }
    let mut acc: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        acc = acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if neg {
        if acc <= i64::MAX as u64 + 1 {
            Some((acc as i64).wrapping_neg())
        } else {
            None
        }
    } else {
        i64::try_from(acc).ok()
    }
}

impl<'a> Element<'a> {
    /// The element's bytes; integers are formatted into `buf`.
    pub fn bytes<'b>(&'b self, buf: &'b mut IntBuf) -> &'b [u8] {
        match self {
            Element::Bytes(b) => b,
            Element::Int(i) => format_i64(*i, buf),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Element::Bytes(b) => b.len(),
            Element::Int(i) => format_i64(*i, &mut [0; 20]).len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The identity of the element for duplicate detection: `"5"` and the integer 5 are the
    /// same member, `"05"` is not.
    #[inline]
    pub fn key(&self) -> ElementKey<'a> {
        match *self {
            Element::Int(i) => ElementKey::Int(i),
            Element::Bytes(b) => match canonical_i64(b) {
                Some(i) => ElementKey::Int(i),
                None => ElementKey::Bytes(b),
            },
        }
    }

    /// The element as an integer if it is one (or a canonical decimal string).
    #[inline]
    pub fn as_i64(&self) -> Option<i64> {
        match self.key() {
            ElementKey::Int(i) => Some(i),
            ElementKey::Bytes(_) => None,
        }
    }
}

/// Canonical form of an element, for duplicate detection (hashing or sorting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ElementKey<'a> {
    Bytes(&'a [u8]),
    Int(i64),
}

/// A validated ziplist, listpack, intset or zipmap blob.
pub type Blob<'a> = Cow<'a, [u8]>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers_follow_string2ll() {
        for (s, v) in [
            ("0", Some(0)),
            ("-1", Some(-1)),
            ("9223372036854775807", Some(i64::MAX)),
            ("-9223372036854775808", Some(i64::MIN)),
            ("9223372036854775808", None),
            ("-0", None),
            ("05", None),
            ("+5", None),
            (" 5", None),
            ("", None),
            ("-", None),
            ("1.5", None),
            ("99999999999999999999", None),
        ] {
            assert_eq!(canonical_i64(s.as_bytes()), v, "{s:?}");
        }
    }

    #[test]
    fn formats_every_i64() {
        let mut buf = [0; 20];
        for v in [0, 7, -7, 12345, i64::MAX, i64::MIN] {
            assert_eq!(format_i64(v, &mut buf), v.to_string().as_bytes());
        }
    }

    #[test]
    fn integer_and_text_are_the_same_member() {
        assert_eq!(Element::Bytes(b"5").key(), Element::Int(5).key());
        assert_ne!(Element::Bytes(b"05").key(), Element::Int(5).key());
    }
}
