//! Sorted-set scores: text doubles (type 3), binary doubles (type 5) and score entries of
//! ziplists and listpacks. NaN is rejected everywhere; a text score must be a complete number.

use super::cursor::Cursor;
use super::element::Element;
use super::error::{DecodeError, ErrorKind, Result};

const TEXT_NAN: u8 = 253;
const TEXT_POS_INF: u8 = 254;
const TEXT_NEG_INF: u8 = 255;

/// Parses a decimal floating-point text strictly: the whole text, ASCII, `inf`/`-inf` allowed.
pub fn parse_text(text: &[u8], offset: usize) -> Result<f64> {
    let bad = DecodeError::new(ErrorKind::InvalidDouble, offset);
    let s = std::str::from_utf8(text).map_err(|_| bad)?;
    if s.is_empty() || s.len() > 128 || s.bytes().any(|b| b.is_ascii_whitespace()) {
        return Err(bad);
    }
    let v: f64 = s.parse().map_err(|_| bad)?;
    if v.is_nan() {
        return Err(DecodeError::new(ErrorKind::NanScore, offset));
    }
    Ok(v)
}

/// A score stored as a ziplist/listpack element: an integer entry, or number text.
pub fn from_element(e: Element<'_>, offset: usize) -> Result<f64> {
    match e {
        Element::Int(i) => Ok(i as f64),
        Element::Bytes(b) => parse_text(b, offset),
    }
}

/// Type 3: a length-prefixed text double, or one of three special bytes.
pub fn read_text_double(c: &mut Cursor<'_>) -> Result<f64> {
    let offset = c.offset();
    match c.read_u8()? {
        TEXT_NAN => Err(DecodeError::new(ErrorKind::NanScore, offset)),
        TEXT_POS_INF => Ok(f64::INFINITY),
        TEXT_NEG_INF => Ok(f64::NEG_INFINITY),
        len => parse_text(c.read_bytes(usize::from(len))?, offset),
    }
}

/// Type 5: an 8-byte little-endian IEEE-754 double.
pub fn read_binary_double(c: &mut Cursor<'_>) -> Result<f64> {
    let offset = c.offset();
    let v = f64::from_bits(c.read_u64_le()?);
    if v.is_nan() {
        return Err(DecodeError::new(ErrorKind::NanScore, offset));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_scores() {
        assert_eq!(parse_text(b"1.5", 0), Ok(1.5));
        assert_eq!(parse_text(b"-inf", 0), Ok(f64::NEG_INFINITY));
        assert_eq!(parse_text(b"inf", 0), Ok(f64::INFINITY));
        assert_eq!(parse_text(b"0.10000000000000001", 0), Ok(0.1));
        assert!(parse_text(b"-0", 0).unwrap().is_sign_negative());
        assert_eq!(parse_text(b"9007199254740993", 0), Ok(9007199254740992.0));
        assert_eq!(
            parse_text(b"4.9406564584124654e-324", 0),
            Ok(f64::from_bits(1))
        );
        for bad in [&b""[..], b"abc", b"1.5abc", b" 1", b"1 ", b"\xff"] {
            assert_eq!(
                parse_text(bad, 0).unwrap_err().kind,
                ErrorKind::InvalidDouble,
                "{bad:?}"
            );
        }
        assert_eq!(parse_text(b"nan", 0).unwrap_err().kind, ErrorKind::NanScore);
    }

    #[test]
    fn text_double_specials() {
        assert_eq!(
            read_text_double(&mut Cursor::new(&[254])),
            Ok(f64::INFINITY)
        );
        assert_eq!(
            read_text_double(&mut Cursor::new(&[255])),
            Ok(f64::NEG_INFINITY)
        );
        assert_eq!(
            read_text_double(&mut Cursor::new(&[253])).unwrap_err().kind,
            ErrorKind::NanScore
        );
        assert_eq!(
            read_text_double(&mut Cursor::new(&[3, b'2', b'.', b'5'])),
            Ok(2.5)
        );
        assert!(read_text_double(&mut Cursor::new(&[0])).is_err());
    }

    #[test]
    fn binary_doubles() {
        assert_eq!(
            read_binary_double(&mut Cursor::new(&(-0.0f64).to_le_bytes())).map(f64::to_bits),
            Ok((-0.0f64).to_bits())
        );
        assert_eq!(
            read_binary_double(&mut Cursor::new(&f64::NAN.to_le_bytes()))
                .unwrap_err()
                .kind,
            ErrorKind::NanScore
        );
        assert_eq!(
            read_binary_double(&mut Cursor::new(&f64::MIN_POSITIVE.to_le_bytes())),
            Ok(f64::MIN_POSITIVE)
        );
    }

    #[test]
    fn element_scores() {
        assert_eq!(
            from_element(Element::Int(i64::MAX), 0),
            Ok(9223372036854775807.0)
        );
        assert_eq!(from_element(Element::Bytes(b"3.25"), 0), Ok(3.25));
    }
}
