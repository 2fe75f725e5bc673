//! Argument parsing, exactly as native `RESTORE` does it (`restoreCommand` in cluster.c):
//! options first, left to right, then the TTL (after the BUSYKEY check).

use restore_core::decode::value::canonical_i64;

use super::errors::Reply;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RestoreOptions {
    pub replace: bool,
    pub absttl: bool,
    /// IDLETIME seconds.
    pub idle_seconds: Option<i64>,
    /// FREQ counter, 0..=255.
    pub freq: Option<u8>,
}

/// Parses an integer argument with the server's strict rules (`string2ll`).
pub fn parse_integer(arg: &[u8]) -> Result<i64, Reply> {
    canonical_i64(arg).ok_or(Reply::NotAnInteger)
}

impl RestoreOptions {
    /// Parses `argv[4..]` (tests).
    #[cfg(test)]
    pub fn parse<A: AsRef<[u8]>>(options: &[A]) -> Result<Self, Reply> {
        Self::parse_with(options.len(), |i| options[i].as_ref())
    }

    /// Parses the `n` options after the payload, given by index (no argument vector is built).
    /// IDLETIME is only an option when no FREQ came before it, and vice versa; a keyword without
    /// a value falls through to the syntax error, like native.
    pub fn parse_with<'a>(n: usize, option: impl Fn(usize) -> &'a [u8]) -> Result<Self, Reply> {
        let mut opts = RestoreOptions::default();
        let mut i = 0;
        while i < n {
            let token = option(i);
            let has_value = i + 1 < n;
            if token.eq_ignore_ascii_case(b"REPLACE") {
                opts.replace = true;
            } else if token.eq_ignore_ascii_case(b"ABSTTL") {
                opts.absttl = true;
            } else if token.eq_ignore_ascii_case(b"IDLETIME") && has_value && opts.freq.is_none() {
                let idle = parse_integer(option(i + 1))?;
                if idle < 0 {
                    return Err(Reply::InvalidIdletime);
                }
                opts.idle_seconds = Some(idle);
                i += 1;
            } else if token.eq_ignore_ascii_case(b"FREQ")
                && has_value
                && opts.idle_seconds.is_none()
            {
                let freq = parse_integer(option(i + 1))?;
                opts.freq = Some(u8::try_from(freq).map_err(|_| Reply::InvalidFreq)?);
                i += 1;
            } else {
                return Err(Reply::SyntaxError);
            }
            i += 1;
        }
        Ok(opts)
    }
}

/// Parses the TTL argument: a strict integer, not negative.
pub fn parse_ttl(arg: &[u8]) -> Result<i64, Reply> {
    let ttl = parse_integer(arg)?;
    if ttl < 0 {
        return Err(Reply::InvalidTtl);
    }
    Ok(ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<RestoreOptions, Reply> {
        RestoreOptions::parse(args)
    }

    #[test]
    fn options_are_case_insensitive_and_repeatable() {
        let o = parse(&["rePlace", "AbsTTL", "REPLACE", "absttl"]).unwrap();
        assert!(o.replace && o.absttl);
        assert_eq!(
            parse(&["IDLETIME", "5", "idletime", "7"])
                .unwrap()
                .idle_seconds,
            Some(7)
        );
        assert_eq!(
            parse(&["FREQ", "5", "freq", "255"]).unwrap().freq,
            Some(255)
        );
    }

    #[test]
    fn idletime_and_freq_exclude_each_other() {
        assert_eq!(
            parse(&["IDLETIME", "0", "FREQ", "5"]),
            Err(Reply::SyntaxError)
        );
        assert_eq!(
            parse(&["FREQ", "5", "IDLETIME", "0"]),
            Err(Reply::SyntaxError)
        );
        assert_eq!(parse(&["IDLETIME"]), Err(Reply::SyntaxError));
        assert_eq!(parse(&["REPLACE", "FREQ"]), Err(Reply::SyntaxError));
        assert_eq!(parse(&["BOGUS"]), Err(Reply::SyntaxError));
    }

    #[test]
    fn first_error_wins_left_to_right() {
        assert_eq!(
            parse(&["IDLETIME", "-1", "BOGUS"]),
            Err(Reply::InvalidIdletime)
        );
        assert_eq!(parse(&["BOGUS", "IDLETIME", "-1"]), Err(Reply::SyntaxError));
        assert_eq!(parse(&["FREQ", "256"]), Err(Reply::InvalidFreq));
        assert_eq!(parse(&["FREQ", "-1"]), Err(Reply::InvalidFreq));
        assert_eq!(parse(&["IDLETIME", "1.5"]), Err(Reply::NotAnInteger));
    }

    #[test]
    fn integers_are_strict() {
        for bad in [
            "abc",
            "1.5",
            "+5",
            "05",
            " 5",
            "",
            "1e3",
            "-0",
            "9223372036854775808",
        ] {
            assert_eq!(
                parse_ttl(bad.as_bytes()),
                Err(Reply::NotAnInteger),
                "{bad:?}"
            );
        }
        assert_eq!(parse_ttl(b"-5"), Err(Reply::InvalidTtl));
        assert_eq!(parse_ttl(b"9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_ttl(b"0"), Ok(0));
    }
}
