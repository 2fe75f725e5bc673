//! Sorted-set scores: text doubles (type 3), binary doubles (type 5) and score entries of
//! ziplists and listpacks. NaN is rejected everywhere; a text score must be a complete number.
//!
//! Every score is read to the exact double the server's loader reads (`strtod` on the text,
//! `(double)` on an integer entry, the bits of a binary double): `-0`, subnormals, the largest
//! finite values and integers above 2^53 included. Of these, only `-0` can be lost on the way
//! into the server: see [`is_negative_zero`].

use super::cursor::Cursor;
use super::element::Element;
use super::error::{DecodeError, ErrorKind, Result};

const TEXT_NAN: u8 = 253;
const TEXT_POS_INF: u8 = 254;
const TEXT_NEG_INF: u8 = 255;

/// Parses a decimal floating-point text strictly: the whole text, ASCII, `inf`/`-inf` allowed.
/// The caller knows where the text is, so it places the error.
pub fn parse_text(text: &[u8]) -> core::result::Result<f64, ErrorKind> {
    let bad = ErrorKind::InvalidDouble;
    let s = std::str::from_utf8(text).map_err(|_| bad)?;
    if s.is_empty() || s.len() > 128 || s.bytes().any(|b| b.is_ascii_whitespace()) {
        return Err(bad);
    }
    let v: f64 = s.parse().map_err(|_| bad)?;
    if v.is_nan() {
        return Err(ErrorKind::NanScore);
    }
    Ok(v)
}

/// A score stored as a ziplist/listpack element: an integer entry, or number text.
pub fn from_element(e: Element<'_>) -> core::result::Result<f64, ErrorKind> {
    match e {
        Element::Int(i) => Ok(i as f64),
        Element::Bytes(b) => parse_text(b),
    }
}

/// Checks a score stored as a ziplist/listpack element as [`from_element`] does, and says
/// whether it is `-0`, without computing the double where the text's form settles both: plain
/// decimals with an optional small exponent (`-?D+(.D+)?([eE][+-]?D{1,3})?`, the exponent at
/// most 150 either way, at most 128 bytes: Redis 7 writes `%.17g`, Redis 8 the shortest form,
/// e.g. `1.2345678901234e+5`) are always finite numbers (no more than 10^278, no nonzero
/// mantissa below 10^-277), so valid and not NaN, and `-0` exactly when the sign is `-` and
/// every mantissa digit is 0. Parsing the text was most of the validation of a listpack zset
/// (300-400 instructions a score, bench/profile.py); other forms (`inf`, `.5`, large
/// exponents) are parsed.
pub fn check_element(e: Element<'_>) -> core::result::Result<bool, ErrorKind> {
    let text = match e {
        Element::Int(_) => return Ok(false),
        Element::Bytes(b) => b,
    };
    match plain_decimal(text) {
        Some(zero_mantissa) => Ok(zero_mantissa && text.first() == Some(&b'-')),
        None => from_element(e).map(is_negative_zero),
    }
}

/// For a text of the form [`check_element`] settles, whether every mantissa digit is 0. One
/// pass over the bytes (splitting the text at `.` and `e` first took as long as parsing it).
fn plain_decimal(text: &[u8]) -> Option<bool> {
    if text.len() > 128 {
        return None;
    }
    let mut i = usize::from(text.first() == Some(&b'-'));
    // The OR of every mantissa digit's value: 0 when all are 0.
    let mut digits_or = 0u8;
    let mut digits = |i: &mut usize| -> bool {
        let start = *i;
        while let Some(d) = text
            .get(*i)
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|&d| d <= 9)
        {
            digits_or |= d;
            *i += 1;
        }
        *i > start
    };
    if !digits(&mut i) {
        return None;
    }
    if text.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if let Some(&e) = text.get(i) {
        // `e` or `E`, an optional sign, then 1 to 3 digits worth at most 150.
        if e | 0x20 != b'e' {
            return None;
        }
        i += 1;
        if matches!(text.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exponent = &text[i.min(text.len())..];
        if exponent.is_empty() || exponent.len() > 3 {
            return None;
        }
        let mut value = 0u32;
        for &b in exponent {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            value = value * 10 + u32::from(d);
        }
        if value > 150 {
            return None;
        }
    }
    Some(digits_or == 0)
}

/// Whether `score` is `-0`. Redis 7.0+ and Valkey write a listpack score that is an integer as
/// an integer entry (`zzlInsertAt`: `double2ll`), so ZADD and the module API's `ZsetAdd` store
/// `-0` as `0`, in the listpack and in a skiplist converted from it; only the server's loader
/// keeps a payload's `"-0"` text entry. `DEBUG DIGEST-VALUE` prints scores with `%.17g`, so the
/// two differ there (and in `ZSCORE`) though they compare equal.
pub fn is_negative_zero(score: f64) -> bool {
    score.to_bits() == (-0.0f64).to_bits()
}

/// Type 3: a length-prefixed text double, or one of three special bytes.
pub fn read_text_double(c: &mut Cursor<'_>) -> Result<f64> {
    let offset = c.offset();
    match c.read_u8()? {
        TEXT_NAN => Err(DecodeError::new(ErrorKind::NanScore, offset)),
        TEXT_POS_INF => Ok(f64::INFINITY),
        TEXT_NEG_INF => Ok(f64::NEG_INFINITY),
        len => parse_text(c.read_bytes(usize::from(len))?)
            .map_err(|kind| DecodeError::new(kind, offset)),
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
        assert_eq!(parse_text(b"1.5"), Ok(1.5));
        assert_eq!(parse_text(b"-inf"), Ok(f64::NEG_INFINITY));
        assert_eq!(parse_text(b"inf"), Ok(f64::INFINITY));
        assert_eq!(parse_text(b"0.10000000000000001"), Ok(0.1));
        assert!(parse_text(b"-0").unwrap().is_sign_negative());
        assert_eq!(parse_text(b"9007199254740993"), Ok(9007199254740992.0));
        assert_eq!(
            parse_text(b"4.9406564584124654e-324"),
            Ok(f64::from_bits(1))
        );
        for bad in [&b""[..], b"abc", b"1.5abc", b" 1", b"1 ", b"\xff"] {
            assert_eq!(
                parse_text(bad).unwrap_err(),
                ErrorKind::InvalidDouble,
                "{bad:?}"
            );
        }
        assert_eq!(parse_text(b"nan").unwrap_err(), ErrorKind::NanScore);
    }

    /// The plain-decimal shortcut agrees with parsing on every text it takes, and on the texts
    /// around its edges.
    #[test]
    fn score_checks_agree_with_parsing() {
        let long = format!("{}.5", "9".repeat(126));
        let too_long = format!("{}.5", "9".repeat(127));
        let texts = [
            "0",
            "-0",
            "-0.0",
            "0.000",
            "-00.00",
            "1",
            "-1",
            "007",
            "1.5",
            "-123456.789",
            "1.",
            ".5",
            "-.0",
            "-",
            ".",
            "",
            "1e5",
            "-0e5",
            "-1e-400",
            "inf",
            "-inf",
            "nan",
            "+1",
            "1.2.3",
            "1..2",
            " 1",
            "1 ",
            "0x10",
            "١",
            &long,
            &too_long,
            "1.2345678901234e+5",
            "-1.5E-05",
            "1e150",
            "-1e-150",
            "-0e-150",
            "-0.0e+7",
            "1e151",
            "-1e-151",
            "-1e-400",
            "-0e-400",
            "1e400",
            "1e",
            "1e+",
            "1e+-5",
            "1e1.5",
            "1e0001",
            "-e5",
            "e5",
            "1.e5",
            "-1.0e-5e5",
            "-0.000e+150",
        ];
        for t in texts {
            let e = Element::Bytes(t.as_bytes());
            assert_eq!(
                check_element(e),
                from_element(e).map(is_negative_zero),
                "{t:?}"
            );
        }
        assert_eq!(check_element(Element::Int(0)), Ok(false));
    }

    /// The same on random texts of digits, signs, points and exponent marks.
    #[test]
    fn score_checks_agree_with_parsing_on_random_texts() {
        let alphabet = b"0000123456789..--+eE";
        let mut rng = restore_testkit::rng::XorShift::new(0x853c_49e6_748f_ea9b);
        for _ in 0..200_000 {
            let seed = rng.next_u64();
            let len = (seed % 12) as usize;
            let text: Vec<u8> = (0..len)
                .map(|k| alphabet[((seed >> (4 + 5 * k)) % alphabet.len() as u64) as usize])
                .collect();
            let e = Element::Bytes(&text);
            assert_eq!(
                check_element(e),
                from_element(e).map(is_negative_zero),
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
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

    /// The double of each text is the one the server's `strtod` reads: correctly rounded,
    /// `-0` and underflow to `-0` keep the sign, overflow is infinite (the loaders ignore ERANGE).
    #[test]
    fn text_scores_keep_their_exact_bits() {
        let bits = |t: &[u8]| parse_text(t).map(f64::to_bits);
        let neg_zero = (-0.0f64).to_bits();
        for t in [&b"-0"[..], b"-0.0", b"-0e9", b"-1e-400"] {
            assert_eq!(bits(t), Ok(neg_zero), "{t:?}");
        }
        assert_eq!(bits(b"0"), Ok(0));
        assert_eq!(bits(b"1e-400"), Ok(0), "underflow keeps the sign: +0");
        // The largest finite values, and past them (strtod's HUGE_VAL).
        assert_eq!(parse_text(b"1.7976931348623157e308"), Ok(f64::MAX));
        assert_eq!(parse_text(b"-1.7976931348623157e308"), Ok(f64::MIN));
        assert_eq!(
            parse_text(b"1e+308").map(f64::to_bits),
            Ok(1e308f64.to_bits())
        );
        assert_eq!(parse_text(b"1.8e308"), Ok(f64::INFINITY));
        // Subnormals: the largest, the smallest, and a %.17g text of one (Redis < 7.2).
        assert_eq!(bits(b"2.2250738585072009e-308"), Ok(0x000f_ffff_ffff_ffff));
        assert_eq!(bits(b"-4.9406564584124654e-324"), Ok(neg_zero | 1));
        assert_eq!(
            bits(b"-9.9999999999999991e-309"),
            Ok((-1e-308f64).to_bits())
        );
        // Integers above 2^53: round to nearest, ties to even, like strtod.
        assert_eq!(parse_text(b"9007199254740995"), Ok(9007199254740996.0));
        assert_eq!(parse_text(b"9007199254740997"), Ok(9007199254740996.0));
        assert_eq!(
            parse_text(b"18446744073709551617"),
            Ok(18446744073709551616.0)
        );
        // Stricter than strtod: no server writes hex text.
        assert!(parse_text(b"0x1p3").is_err());
    }

    #[test]
    fn negative_zero() {
        assert!(is_negative_zero(-0.0));
        assert!(is_negative_zero(parse_text(b"-0").unwrap()));
        assert!(!is_negative_zero(0.0));
        assert!(
            !is_negative_zero(-f64::from_bits(1)),
            "the smallest negative subnormal"
        );
        assert!(!is_negative_zero(f64::NEG_INFINITY));
    }

    /// An integer entry is `(double)` of it, as `zzlGetScore` reads it: exact up to 2^53, then
    /// rounded to nearest, ties to even.
    #[test]
    fn integer_entries_convert_like_a_c_cast() {
        let int = |i: i64| from_element(Element::Int(i));
        assert_eq!(int(1 << 53), Ok(9007199254740992.0));
        assert_eq!(int((1 << 53) + 1), Ok(9007199254740992.0));
        assert_eq!(int((1 << 53) + 3), Ok(9007199254740996.0));
        assert_eq!(int(i64::MIN), Ok(-9223372036854775808.0));
        assert_eq!(
            int(0).map(f64::to_bits),
            Ok(0),
            "an integer entry is never -0"
        );
    }

    #[test]
    fn element_scores() {
        assert_eq!(
            from_element(Element::Int(i64::MAX)),
            Ok(9223372036854775807.0)
        );
        assert_eq!(from_element(Element::Bytes(b"3.25")), Ok(3.25));
    }
}
