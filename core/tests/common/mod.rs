//! What the vector tests share: the vectors on disk and the JSON byte-string forms.
#![allow(dead_code)] // each test crate uses its own part

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

pub fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

/// Every `(json, dump bytes, json path)` whose JSON satisfies `keep`, in path order.
pub fn vectors(keep: impl Fn(&Json) -> bool) -> Vec<(Json, Vec<u8>, PathBuf)> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(vector_dir())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs.into_iter().filter(|d| d.is_dir()) {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for path in files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
        {
            let json: Json = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            if keep(&json) {
                let dump = std::fs::read(path.with_extension("dump")).unwrap();
                out.push((json, dump, path));
            }
        }
    }
    out
}

pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A JSON byte string: text, or `{"hex": ...}`.
pub fn bytes_of(j: &Json) -> Vec<u8> {
    match j {
        Json::String(s) => s.as_bytes().to_vec(),
        Json::Object(o) => hex(o["hex"].as_str().unwrap()),
        other => panic!("not a byte string: {other}"),
    }
}
