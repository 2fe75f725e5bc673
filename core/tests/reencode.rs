//! Streams re-encoded for an older server's RESTORE decode back to the same stream: every
//! stream vector, from every source, through both target layouts.

use std::path::Path;

use restore_core::decode::stream::{Stream, StreamId};
use restore_core::decode::{self, DecodeError, Value};
use restore_core::encode::{stream_payload, StreamFormat};

type Entry = (StreamId, bool, Vec<(Vec<u8>, Vec<u8>)>);

fn entries(s: &Stream<'_>) -> Vec<Entry> {
    let mut out = Vec::new();
    s.for_each_entry(true, |id, deleted, fields| {
        let owned = fields
            .iter()
            .map(|(f, v)| {
                let (mut a, mut b) = ([0; 20], [0; 20]);
                (f.bytes(&mut a).to_vec(), v.bytes(&mut b).to_vec())
            })
            .collect();
        out.push((id, deleted, owned));
        Ok::<_, DecodeError>(())
    })
    .unwrap();
    out
}

#[test]
fn every_stream_vector_survives_reencoding() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors");
    let mut checked = 0;
    for dir in std::fs::read_dir(&root).unwrap().flatten() {
        for file in std::fs::read_dir(dir.path()).unwrap().flatten() {
            let path = file.path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if dir.file_name() == "corrupt"
                || !name.starts_with("stream")
                || !name.ends_with(".dump")
            {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let Value::Stream(original) = decode::decode(&bytes).unwrap().value else {
                panic!("{path:?}")
            };
            for format in [StreamFormat::V2, StreamFormat::V3] {
                let payload = stream_payload(&original, format);
                let decoded =
                    decode::decode(&payload).unwrap_or_else(|e| panic!("{path:?} {format:?}: {e}"));
                assert_eq!(decoded.type_id, format.type_id());
                let Value::Stream(copy) = decoded.value else {
                    panic!()
                };
                assert_eq!(entries(&copy), entries(&original), "{path:?}");
                assert_eq!(
                    (
                        copy.length,
                        copy.last_id,
                        copy.first_id,
                        copy.max_deleted_id,
                        copy.entries_added
                    ),
                    (
                        original.length,
                        original.last_id,
                        original.first_id,
                        original.max_deleted_id,
                        original.entries_added
                    ),
                    "{path:?}"
                );
                assert_eq!(copy.groups.len(), original.groups.len());
                for (g, o) in copy.groups.iter().zip(&original.groups) {
                    assert_eq!((&g.name, g.last_id), (&o.name, o.last_id));
                    if original.version > 1 {
                        assert_eq!(g.entries_read, o.entries_read, "{path:?}");
                    }
                    let pel = |g: &restore_core::decode::stream::ConsumerGroup<'_>| {
                        g.pel
                            .iter()
                            .map(|p| (p.id, p.delivery_time, p.delivery_count))
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(pel(g), pel(o));
                    for (c, oc) in g.consumers.iter().zip(&o.consumers) {
                        assert_eq!(
                            (&c.name, c.seen_time, &c.pending),
                            (&oc.name, oc.seen_time, &oc.pending)
                        );
                        if format == StreamFormat::V3 {
                            assert_eq!(c.active_time, Some(oc.active_time.unwrap_or(oc.seen_time)));
                        }
                    }
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 145, "only {checked} stream vectors");
}
