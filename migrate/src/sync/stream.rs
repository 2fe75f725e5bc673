//! The replication stream as commands: RESP arrays of bulk strings, parsed from a buffer that
//! may end in the middle of one (then: "incomplete", and nothing is consumed), as mini-redis's
//! `Frame::check` does. A master only ever writes arrays of bulk strings to its replicas
//! (`replicationFeedSlaves` → `feedReplicationBufferWithObject`), so anything else is a
//! corrupt stream, reported with its offset.
//!
//! ```text
//! *<argc>\r\n  ( $<len>\r\n <len bytes> \r\n ){argc}
//! ```

/// Bounds on a declared argument count and bulk length: beyond what any server accepts from
/// a client (`proto-max-multibulk-len` is at most 2^31, a bulk string under 4 GiB), so only a
/// corrupt stream reaches them. Memory is bounded by the bytes present, not by these.
const MAX_ARGC: u64 = 1 << 31;
const MAX_BULK: u64 = (1 << 32) - 1;

/// One command of the stream and the bytes it takes (its share of the replication offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub argv: Vec<Vec<u8>>,
    pub len: usize,
}

/// Parses the command at the start of `buf`: `Ok(None)` when `buf` ends before it does.
pub fn parse(buf: &[u8]) -> Result<Option<Frame>, String> {
    let mut at = 0usize;
    let Some(argc) = header(buf, &mut at, b'*', MAX_ARGC)? else {
        return Ok(None);
    };
    // A declared count is a claim: grow as arguments arrive, do not pre-allocate by it.
    let mut argv = Vec::with_capacity((argc as usize).min(64));
    for _ in 0..argc {
        let Some(len) = header(buf, &mut at, b'$', MAX_BULK)? else {
            return Ok(None);
        };
        let len = len as usize;
        let end = match at.checked_add(len).and_then(|e| e.checked_add(2)) {
            Some(e) if e <= buf.len() => e,
            _ => return Ok(None),
        };
        if &buf[end - 2..end] != b"\r\n" {
            return Err(format!(
                "a bulk string of {len} bytes not followed by CRLF at byte {}",
                end - 2
            ));
        }
        argv.push(buf[at..end - 2].to_vec());
        at = end;
    }
    if argv.is_empty() {
        return Err("an empty command".into());
    }
    Ok(Some(Frame { argv, len: at }))
}

/// `<kind><decimal>\r\n` at `*at`, advancing past it.
fn header(buf: &[u8], at: &mut usize, kind: u8, max: u64) -> Result<Option<u64>, String> {
    let rest = &buf[*at..];
    let Some(&first) = rest.first() else {
        return Ok(None);
    };
    if first != kind {
        return Err(format!(
            "expected '{}' at byte {}, found {:?}",
            kind as char,
            *at,
            String::from_utf8_lossy(&rest[..rest.len().min(16)])
        ));
    }
    // 20 digits hold any u64; a longer line is not a length.
    let Some(nl) = rest.iter().take(24).position(|&b| b == b'\n') else {
        return if rest.len() >= 24 {
            Err(format!("a length line too long at byte {}", *at))
        } else {
            Ok(None)
        };
    };
    if nl < 2 || rest[nl - 1] != b'\r' {
        return Err(format!("a length line without CRLF at byte {}", *at));
    }
    let digits = &rest[1..nl - 1];
    let n = std::str::from_utf8(digits)
        .ok()
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|d| d.parse::<u64>().ok())
        .filter(|&n| n <= max)
        .ok_or_else(|| {
            format!(
                "a bad length {:?} at byte {}",
                String::from_utf8_lossy(digits),
                *at
            )
        })?;
    *at += nl + 1;
    Ok(Some(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(args: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    #[test]
    fn a_command_and_its_length() {
        let mut buf = enc(&[b"SET", b"k\r\n\x00", b""]);
        let n = buf.len();
        buf.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        let f = parse(&buf).unwrap().unwrap();
        assert_eq!(f.argv, vec![b"SET".to_vec(), b"k\r\n\x00".to_vec(), vec![]]);
        assert_eq!(f.len, n);
        let g = parse(&buf[n..]).unwrap().unwrap();
        assert_eq!(g.argv, vec![b"PING".to_vec()]);
    }

    #[test]
    fn every_prefix_is_incomplete_not_an_error() {
        let buf = enc(&[b"HSET", b"h", b"field", b"12345678901234567890"]);
        for cut in 0..buf.len() {
            assert_eq!(parse(&buf[..cut]), Ok(None), "cut at {cut}");
        }
        assert!(parse(&buf).unwrap().is_some());
    }

    #[test]
    fn garbage_is_an_error_with_its_offset() {
        for (bad, says) in [
            (&b"+OK\r\n"[..], "expected '*' at byte 0"),
            (b"*1\r\n:1\r\n", "expected '$' at byte 4"),
            (b"*x\r\n", "bad length"),
            (b"*-1\r\n", "bad length"),
            (b"*1\n", "without CRLF"),
            (b"*0\r\n", "empty command"),
            (b"*1\r\n$1\r\nab\r\n", "not followed by CRLF"),
            (b"*1\r\n$99999999999999999999999\r\n", "too long"),
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad:?}: {e}");
        }
    }

    #[test]
    fn a_huge_declared_count_allocates_nothing_up_front() {
        assert_eq!(parse(b"*2147483648\r\n$1\r\n"), Ok(None));
        assert!(parse(b"*2147483649\r\n").is_err());
    }
}
