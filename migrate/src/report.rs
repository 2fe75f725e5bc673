//! What a run tells its user: key names as text, the failed-keys file, and the summary (text
//! lines, or one JSON object with `--json`).

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};

use crate::checkpoint::Counts;
use crate::error::{Fatal, Result};

/// A key as text: printable ASCII as it is, `\\`, `\t`, `\n` and everything else as C escapes
/// (`\xNN`), so a binary key name is shown and written unambiguously on one line.
pub fn show_key(k: &[u8]) -> String {
    let mut s = String::with_capacity(k.len());
    for &b in k {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\t' => s.push_str("\\t"),
            b'\n' => s.push_str("\\n"),
            b' '..=b'~' => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s
}

/// The inverse of [`show_key`] (`--keys-from` reads `--failed-keys` files with it).
pub fn parse_key(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        match b.get(i + 1)? {
            b'\\' => out.push(b'\\'),
            b't' => out.push(b'\t'),
            b'n' => out.push(b'\n'),
            b'x' => {
                let hex = std::str::from_utf8(b.get(i + 2..i + 4)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            _ => return None,
        }
        i += 2;
    }
    Some(out)
}

/// `--failed-keys FILE`: every failed key, `db<TAB>key<TAB>reason`, flushed per batch.
pub struct FailedKeys {
    path: String,
    out: BufWriter<File>,
}

impl FailedKeys {
    /// Appends when a run continues a checkpoint (the earlier runs' failures stay listed).
    pub fn open(path: &str, append: bool) -> Result<FailedKeys> {
        let f = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .map_err(|e| Fatal::Usage(format!("--failed-keys {path}: {e}")))?;
        Ok(FailedKeys {
            path: path.to_string(),
            out: BufWriter::new(f),
        })
    }

    pub fn add(&mut self, db: u32, key: &[u8], why: &str) -> Result<()> {
        let why = why.replace(['\n', '\t'], " ");
        writeln!(self.out, "{db}\t{}\t{why}", show_key(key)).map_err(|e| self.err(e))
    }

    pub fn flush(&mut self) -> Result<()> {
        self.out.flush().map_err(|e| self.err(e))
    }

    fn err(&self, e: std::io::Error) -> Fatal {
        Fatal::Usage(format!("--failed-keys {}: {e}", self.path))
    }
}

/// The keys of a `--keys-from` file, by database.
pub type KeyList = std::collections::BTreeMap<u32, std::collections::BTreeSet<Vec<u8>>>;

/// Reads a `--failed-keys` file (`db<TAB>key[<TAB>anything]` per line) as a key list.
pub fn read_key_list(path: &str) -> Result<KeyList> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Fatal::Usage(format!("--keys-from {path}: {e}")))?;
    let mut keys = KeyList::new();
    for (n, line) in text.lines().enumerate() {
        if line.is_empty() {
            continue;
        }
        let mut cols = line.split('\t');
        let db = cols.next().and_then(|d| d.parse::<u32>().ok());
        let key = cols.next().and_then(parse_key);
        match (db, key) {
            (Some(db), Some(key)) => {
                keys.entry(db).or_default().insert(key);
            }
            _ => {
                return Err(Fatal::Usage(format!(
                    "--keys-from {path}: line {} is not <db><TAB><key as --failed-keys writes it>",
                    n + 1
                )))
            }
        }
    }
    Ok(keys)
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The end of a `migrate` run.
pub struct Summary {
    /// This run's keys.
    pub run: Counts,
    /// Every run of the checkpoint, this one included (= `run` without `--resume`).
    pub total: Counts,
    pub seconds: f64,
    pub notes: Vec<String>,
    /// Stopped by `--limit`.
    pub stopped: bool,
    pub resumable: bool,
    pub exit: u8,
}

impl Summary {
    /// On stdout, or on stderr where stdout carries the RDB file being written (`-`).
    pub fn print(&self, json: bool, to_stderr: bool) {
        let text = self.text(json);
        if to_stderr {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    }

    fn text(&self, json: bool) -> String {
        use std::fmt::Write;
        if json {
            return format!("{}\n", self.json());
        }
        let mut out = String::new();
        let r = self.run;
        let secs = self.seconds.max(1e-6);
        let mb = r.bytes as f64 / 1e6;
        let _ = writeln!(
            out,
            "restore-migrate: {} copied, {} failed, {} skipped (expired or gone), {mb:.1} MB of payload in {secs:.1} s ({:.0} keys/s, {:.1} MB/s)",
            r.copied,
            r.failed,
            r.skipped,
            r.copied as f64 / secs,
            mb / secs
        );
        if self.total != self.run {
            let t = self.total;
            let _ = writeln!(
            out,
                "restore-migrate: over every run of this checkpoint: {} copied, {} failed, {} skipped",
                t.copied, t.failed, t.skipped
            );
        }
        for n in &self.notes {
            let _ = writeln!(out, "restore-migrate: note: {n}");
        }
        if self.stopped {
            let _ = writeln!(
                out,
                "restore-migrate: stopped after {} keys (--limit){}",
                r.keys(),
                if self.resumable {
                    "; run again with the same --resume to continue"
                } else {
                    ""
                }
            );
        }
        out
    }

    fn json(&self) -> String {
        let counts = |c: Counts| {
            format!(
                "{{\"copied\":{},\"failed\":{},\"skipped\":{},\"bytes\":{}}}",
                c.copied, c.failed, c.skipped, c.bytes
            )
        };
        let notes: Vec<String> = self.notes.iter().map(|n| json_str(n)).collect();
        format!(
            "{{\"run\":{},\"total\":{},\"seconds\":{:.3},\"stopped\":{},\"notes\":[{}],\"exit\":{}}}",
            counts(self.run),
            counts(self.total),
            self.seconds,
            self.stopped,
            notes.join(","),
            self.exit
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_round_trip_through_their_text() {
        for k in [
            b"plain:key".to_vec(),
            b"tab\there\nnewline \\ back".to_vec(),
            (0u8..=255).collect(),
        ] {
            let shown = show_key(&k);
            assert!(!shown.contains('\t') && !shown.contains('\n'));
            assert_eq!(parse_key(&shown), Some(k));
        }
        assert_eq!(parse_key("bad\\q"), None);
        assert_eq!(parse_key("bad\\x4"), None);
    }

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }
}
