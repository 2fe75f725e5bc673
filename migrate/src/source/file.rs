//! An RDB file read as a stream of records by the core (`restore_core::rdb_file`), in batches
//! of one database each. Its position is the byte offset after a batch's last record; its
//! identity is its size and a digest of its first 64 KiB and last 8 bytes (the CRC-64 footer
//! of RDB 5+ files digests the whole file), so a file replaced at the same path is not taken
//! for the one a checkpoint was made from.
//!
//! `sync` reads its replica link's snapshot with the same source ([`FileSource::stream`]), from
//! a spool file still being written: one reader for both, on the reader thread of `copy`.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};

use restore_core::rdb_file::{Checksum, KeyRecord, RdbFile, Record};

use super::{glob_match, now_ms, Batch, Filter, Lru, Rec, Source};
use crate::checkpoint::SourceId;
use crate::error::{Fatal, Result};
use crate::pos::Pos;

/// What a file source reads: a file, or any byte stream (`sync`'s spool, read as it grows).
type Input = BufReader<Box<dyn Read + Send>>;

pub struct FileSource {
    /// The file's path, or what the stream is, for messages.
    path: String,
    reader: RdbFile<Input>,
    /// Size and digest of a file (see the module comment); `None` for a stream.
    id: Option<(u64, u64)>,
    /// What a CRC-64 mismatch means for this input, for its message.
    corrupt: &'static str,
    filter: Filter,
    batch: usize,
    max_batch_bytes: usize,
    /// Keys whose record ends at or before this offset were copied by an earlier run.
    resume_after: u64,
    pending: Option<KeyRecord>,
    functions: Vec<Vec<u8>>,
    notes: Vec<String>,
    version: u16,
    writer: Option<String>,
    done: bool,
    /// The database the last SELECTDB named, and the RESIZEDB counts of each database not yet
    /// handed on (a batch of one database ends only when the next one's records are read).
    selected: u64,
    sizes: std::collections::BTreeMap<u64, (u64, u64)>,
}

/// Size and digest of the file at `path` (see the module comment).
fn identify(f: &mut File) -> std::io::Result<(u64, u64)> {
    let size = f.metadata()?.len();
    let mut head = vec![0; size.min(64 << 10) as usize];
    f.read_exact(&mut head)?;
    let mut tail = [0u8; 8];
    if size >= 8 {
        f.seek(SeekFrom::Start(size - 8))?;
        f.read_exact(&mut tail)?;
    }
    head.extend_from_slice(&tail);
    f.seek(SeekFrom::Start(0))?;
    Ok((size, restore_core::decode::payload::crc64(&head)))
}

impl FileSource {
    pub fn open(
        path: &str,
        filter: Filter,
        batch: usize,
        max_batch_bytes: usize,
        max_record: usize,
    ) -> Result<FileSource> {
        let err = |e: &dyn std::fmt::Display| Fatal::File(format!("{path}: {e}"));
        let mut f = File::open(path).map_err(|e| err(&e))?;
        let id = identify(&mut f).map_err(|e| err(&e))?;
        let mut src = FileSource::new(
            path,
            Box::new(f),
            filter,
            batch,
            max_batch_bytes,
            max_record,
        )?;
        src.id = Some(id);
        Ok(src)
    }

    /// Every key of the RDB payload `input` delivers (read to its end, as it arrives), named
    /// `what` in messages; a CRC-64 mismatch means it arrived corrupt.
    pub fn stream(
        what: &str,
        input: Box<dyn Read + Send>,
        batch: usize,
        max_batch_bytes: usize,
        max_record: usize,
    ) -> Result<FileSource> {
        let mut src = FileSource::new(
            what,
            input,
            Filter::default(),
            batch,
            max_batch_bytes,
            max_record,
        )?;
        src.corrupt = "it arrived corrupt; run again";
        Ok(src)
    }

    fn new(
        path: &str,
        input: Box<dyn Read + Send>,
        filter: Filter,
        batch: usize,
        max_batch_bytes: usize,
        max_record: usize,
    ) -> Result<FileSource> {
        let mut reader =
            RdbFile::new(BufReader::with_capacity(1 << 16, input)).with_max_record(max_record);
        let header = reader
            .header()
            .map_err(|e| Fatal::File(format!("{path}: {e}")))?;
        Ok(FileSource {
            path: path.to_string(),
            reader,
            id: None,
            corrupt: "the file is corrupt",
            filter,
            batch,
            max_batch_bytes,
            resume_after: 0,
            pending: None,
            functions: Vec::new(),
            notes: Vec::new(),
            version: header.version,
            writer: None,
            done: false,
            selected: 0,
            sizes: Default::default(),
        })
    }

    fn wanted(&self, k: &KeyRecord) -> bool {
        if k.end_offset <= self.resume_after {
            return false;
        }
        if self.filter.db.is_some_and(|db| u64::from(db) != k.db) {
            return false;
        }
        if let Some(p) = &self.filter.pattern {
            if !glob_match(p, &k.key) {
                return false;
            }
        }
        if let Some(t) = self.filter.key_type {
            if type_name_of(k.type_id) != t.name() {
                return false;
            }
        }
        if let Some(keys) = &self.filter.keys {
            let listed = u32::try_from(k.db)
                .ok()
                .and_then(|db| keys.get(&db))
                .is_some_and(|set| set.contains(&k.key));
            if !listed {
                return false;
            }
        }
        true
    }

    fn note(&mut self, note: String) {
        if !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

/// The key to copy that a file record holds.
fn rec_of(k: KeyRecord) -> Rec {
    Rec {
        key: k.key,
        payload: k.payload,
        expire_ms: k.expire_ms,
        lru: match (k.freq, k.idle_seconds) {
            (Some(f), _) => Some(Lru::Freq(f)),
            (None, Some(s)) => Some(Lru::Idle(s)),
            _ => None,
        },
    }
}

/// The `TYPE` name of an RDB type id.
pub fn type_name_of(type_id: u8) -> &'static str {
    match type_id {
        0 => "string",
        1 | 10 | 14 | 18 => "list",
        2 | 11 | 20 => "set",
        3 | 5 | 12 | 17 => "zset",
        4 | 9 | 13 | 16 | 22..=25 | 29..=32 => "hash",
        15 | 19 | 21 | 26 | 27 => "stream",
        6 | 7 => "module",
        28 => "array",
        _ => "unknown",
    }
}

impl Source for FileSource {
    fn next_batch(&mut self) -> Result<Option<Batch>> {
        if self.done && self.pending.is_none() {
            return Ok(None);
        }
        let now = now_ms();
        let mut recs = Vec::new();
        let (mut skipped, mut bytes) = (0u64, 0usize);
        let mut db: Option<u64> = None;
        let mut last_end = None;
        loop {
            let rec = match self.pending.take() {
                Some(k) => Record::Key(k),
                None if self.done => break,
                None => match self.reader.next_record() {
                    Ok(Some(r)) => r,
                    Ok(None) => {
                        self.done = true;
                        break;
                    }
                    Err(e) => return Err(Fatal::File(format!("{}: {e}", self.path))),
                },
            };
            match rec {
                Record::Key(k) => {
                    if !self.wanted(&k) {
                        continue;
                    }
                    if db.is_some_and(|d| d != k.db)
                        || recs.len() >= self.batch
                        || bytes >= self.max_batch_bytes
                    {
                        self.pending = Some(k);
                        break;
                    }
                    db = Some(k.db);
                    last_end = Some(k.end_offset);
                    if k.expire_ms.is_some_and(|t| t <= now) {
                        skipped += 1;
                        continue;
                    }
                    bytes += k.payload.len();
                    recs.push(rec_of(k));
                }
                Record::Aux { key, value } => {
                    if key == b"redis-ver" || key == b"valkey-ver" {
                        let name = if key == b"valkey-ver" {
                            "valkey"
                        } else {
                            "redis"
                        };
                        self.writer = Some(format!("{name} {}", String::from_utf8_lossy(&value)));
                    }
                }
                Record::Function { code } => {
                    if self.resume_after == 0 {
                        self.functions.push(code);
                    }
                }
                Record::ModuleAux { module, .. } => self.note(format!(
                    "module aux data of '{module}' not copied (no command writes it)"
                )),
                Record::End { checksum } => match checksum {
                    Checksum::Ok => self.note("file checksum ok".into()),
                    Checksum::Absent => self.note("file has no checksum".into()),
                    Checksum::Mismatch { computed, stored } => {
                        return Err(Fatal::File(format!(
                        "{}: its CRC-64 is {stored:016x} but its contents give {computed:016x}: {}",
                        self.path, self.corrupt
                    )))
                    }
                },
                Record::SelectDb(db) => self.selected = db,
                Record::ResizeDb { keys, expires } => {
                    self.sizes.insert(self.selected, (keys, expires));
                }
                Record::SlotInfo { .. }
                | Record::SlotImport { .. }
                | Record::HashTemplate { .. } => {}
            }
        }
        let functions = std::mem::take(&mut self.functions);
        if recs.is_empty() && functions.is_empty() && skipped == 0 && self.done {
            return Ok(None);
        }
        let offset = last_end.unwrap_or_else(|| self.resume_after.max(self.reader.offset()));
        let db = u32::try_from(db.unwrap_or(0))
            .map_err(|_| Fatal::File(format!("{}: a database number above 2^32", self.path)))?;
        // Counts of a filtered read would overstate what is copied (a target sizing a table
        // for them wastes memory): only an unfiltered read passes them on.
        let unfiltered = self.filter.pattern.is_none()
            && self.filter.key_type.is_none()
            && self.filter.keys.is_none();
        let db_sizes = match self.sizes.remove(&u64::from(db)) {
            Some(sizes) if unfiltered && !recs.is_empty() => Some(sizes),
            Some(sizes) if recs.is_empty() => {
                self.sizes.insert(u64::from(db), sizes); // for the batch with its keys
                None
            }
            _ => None,
        };
        Ok(Some(Batch {
            db,
            recs,
            skipped,
            functions,
            pos: Pos::File { offset },
            source_bytes: self.reader.offset(),
            db_sizes,
            expiry_slack_ms: 0,
        }))
    }

    fn seek(&mut self, pos: &Pos) -> Result<()> {
        match pos {
            Pos::File { offset } => {
                self.resume_after = *offset;
                Ok(())
            }
            other => Err(Fatal::Checkpoint(format!(
                "the checkpoint's position {other} is not from an RDB file"
            ))),
        }
    }

    fn identity(&self) -> SourceId {
        // A stream is never checkpointed (`sync` keeps its own state file).
        let (size, digest) = self.id.unwrap_or_default();
        SourceId::File { size, digest }
    }

    fn describe(&self) -> String {
        format!(
            "{} (RDB {}{}, {} bytes)",
            self.path,
            self.version,
            self.writer
                .as_ref()
                .map(|w| format!(", written by {w}"))
                .unwrap_or_default(),
            self.id.map_or(0, |(size, _)| size)
        )
    }

    fn databases(&self) -> Option<Vec<u32>> {
        None
    }

    fn total(&self) -> Option<(u64, bool)> {
        self.id.map(|(size, _)| (size, true))
    }

    fn notes(&self) -> Vec<String> {
        self.notes.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An RDB 9 payload: database 0, "a" = "1" expired in 1970, "b" = "2"; its CRC-64 footer
    /// right, or off by one.
    fn snapshot(crc_right: bool) -> Vec<u8> {
        let mut b = b"REDIS0009".to_vec();
        b.extend_from_slice(&[0xFE, 0x00]); // SELECTDB 0
        b.push(0xFC); // EXPIRETIME_MS, 8 bytes little-endian
        b.extend_from_slice(&1000u64.to_le_bytes());
        b.extend_from_slice(&[0x00, 0x01, b'a', 0x01, b'1']); // string "a" = "1"
        b.extend_from_slice(&[0x00, 0x01, b'b', 0x01, b'2']); // string "b" = "2"
        b.push(0xFF); // EOF; the CRC-64 covers everything up to here
        let crc = restore_core::decode::payload::crc64(&b) + u64::from(!crc_right);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    fn stream(bytes: Vec<u8>) -> FileSource {
        FileSource::stream(
            "the source's snapshot",
            Box::new(std::io::Cursor::new(bytes)),
            1000,
            64 << 20,
            1 << 20,
        )
        .unwrap()
    }

    #[test]
    fn a_stream_yields_its_keys_and_counts_the_expired_ones() {
        let mut src = stream(snapshot(true));
        let b = src.next_batch().unwrap().expect("a batch");
        assert_eq!((b.db, b.skipped), (0, 1));
        let keys: Vec<&[u8]> = b.recs.iter().map(|r| r.key.as_slice()).collect();
        assert_eq!(keys, [b"b".as_slice()]);
        assert!(src.next_batch().unwrap().is_none());
        assert_eq!(src.notes(), ["file checksum ok"]);
    }

    #[test]
    fn a_stream_that_arrived_corrupt_is_fatal_and_says_so() {
        match stream(snapshot(false)).next_batch() {
            Err(Fatal::File(why)) => {
                assert!(
                    why.starts_with("the source's snapshot: its CRC-64 is"),
                    "{why}"
                );
                assert!(why.ends_with("it arrived corrupt; run again"), "{why}");
            }
            other => panic!("a CRC-64 mismatch must be fatal: {other:?}"),
        }
    }
}
