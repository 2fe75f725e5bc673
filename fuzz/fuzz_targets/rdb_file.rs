//! RDB files: `rdb_file::RdbFile` over the raw input, read in chunks of 1 to 8 bytes (the first
//! byte picks the size) so records straddle every refill. It never panics, stops (every record
//! consumes bytes), keeps its buffer within the record limit, and every key it hands out is a
//! payload whose footer checks out.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restore_core::decode;
use restore_core::rdb_file::{RdbFile, Record};

struct Chunks<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

const LIMIT: usize = 1 << 16;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let step = usize::from(first % 8) + 1;
    let mut f = RdbFile::new(Chunks { data: rest, step }).with_max_record(LIMIT);
    let mut records = 0usize;
    while let Ok(Some(r)) = f.next_record() {
        records += 1;
        assert!(records <= rest.len(), "more records than bytes");
        assert!(f.buffer_capacity() <= (1 << 20).max(LIMIT));
        if let Record::Key(k) = r {
            assert!(k.offset < k.end_offset && k.end_offset <= rest.len() as u64);
            decode::split_envelope(&k.payload).expect("a payload the reader built");
        }
    }
});
