//! Stream bodies (types 15, 19, 21, 26, 27): byte 0 picks the layout (1 to 5), the rest is the
//! body given to `stream::read_stream`. It must never panic and stay within the allocation
//! bound; an accepted stream must satisfy the stream invariants (`check_accepted`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use restore_asking_fuzz::{alloc_meter, invariants, stream_version_from_byte, STREAM_TYPES};
use restore_core::decode::cursor::Cursor;
use restore_core::decode::stream;
use restore_core::decode::{Decoded, Value};

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let version = stream_version_from_byte(first);
    let ((result, consumed), usage) = alloc_meter::measure(|| {
        let mut c = Cursor::new(body);
        let result = stream::read_stream(&mut c, version);
        (result, c.offset())
    });
    alloc_meter::assert_within_bound(usage, body.len(), "stream::read_stream");
    if let Ok(s) = result {
        assert!(consumed <= body.len());
        assert_eq!(s.version, version);
        let type_id = STREAM_TYPES[usize::from(version - 1)];
        let decoded = Decoded {
            rdb_version: 13,
            type_id,
            type_offset: 0,
            key_meta: Vec::new(),
            value: Value::Stream(Box::new(s)),
        };
        invariants::check_accepted(&decoded);
    }
});
