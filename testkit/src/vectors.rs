//! The real DUMP payloads under `tests/vectors/` (`<source>/<case>.dump` with `<case>.json`
//! beside it; `/work/shared/vectors/README.md` and `tests/vectors/` describe the JSON), loaded
//! once per test binary.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use restore_core::decode::ErrorClass;
use serde_json::Value as Json;

/// Where the vectors are.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

/// One vector: a payload and what is known about it.
#[derive(Debug)]
pub struct Vector {
    /// The `.dump` file.
    pub path: PathBuf,
    pub json: Json,
    /// The whole payload, footer included.
    pub dump: Vec<u8>,
}

impl Vector {
    /// `<source>/<case>`, for messages.
    pub fn name(&self) -> String {
        let dir = self.path.parent().and_then(Path::file_name);
        let file = self.path.file_stem();
        format!(
            "{}/{}",
            dir.map_or_else(String::new, |d| d.to_string_lossy().into_owned()),
            file.map_or_else(String::new, |f| f.to_string_lossy().into_owned())
        )
    }

    /// `(json, dump, path)`, for destructuring.
    pub fn parts(&self) -> (&Json, &[u8], &Path) {
        (&self.json, &self.dump, &self.path)
    }

    /// A mutated payload (`tests/vectors/corrupt/`): see [`Vector::expects_error`].
    pub fn is_corrupt(&self) -> bool {
        self.json["corrupt"].as_bool() == Some(true)
    }

    /// The type byte and body (everything before the 10-byte footer; empty if there is none).
    pub fn object(&self) -> &[u8] {
        &self.dump[..self.dump.len().saturating_sub(10)]
    }

    /// The footer's RDB version, if the payload has a footer.
    pub fn version(&self) -> Option<u16> {
        let f = self.dump.len().checked_sub(10)?;
        Some(u16::from_le_bytes([self.dump[f], self.dump[f + 1]]))
    }

    /// A corrupt vector that every native server rejects (`"expect": "error"`; the others,
    /// `"any"`, a server may accept).
    pub fn expects_error(&self) -> bool {
        self.json["expect"] == "error"
    }

    /// For a vector that [`Vector::expects_error`], the class of the native rejection the JSON
    /// records (the source server's reply where it was asked, else Redis 7.0.15's). `None`
    /// where no reply was measured (e.g. no server of that release exists here).
    pub fn expected_error_class(&self) -> Option<ErrorClass> {
        if !self.expects_error() {
            return None;
        }
        let reply = self.json["native_source_reply"]
            .as_str()
            .filter(|r| r.starts_with("ERROR: "))
            .or_else(|| self.json["native_7_0_15_reply"].as_str())
            .filter(|r| r.starts_with("ERROR: "))?;
        if reply.contains("DUMP payload version or checksum are wrong") {
            Some(ErrorClass::VersionOrChecksum)
        } else if reply.contains("Bad data format") {
            Some(ErrorClass::BadData)
        } else {
            panic!("{}: no error class for the reply {reply:?}", self.name())
        }
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir:?}: {e}"));
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "dump") {
            out.push(path);
        }
    }
}

/// Every vector, in path order, loaded on first use.
pub fn all() -> &'static [Vector] {
    static VECTORS: OnceLock<Vec<Vector>> = OnceLock::new();
    VECTORS.get_or_init(|| {
        let mut paths = Vec::new();
        collect(&dir(), &mut paths);
        paths.sort();
        let out: Vec<Vector> = paths
            .into_iter()
            .map(|path| {
                let json_path = path.with_extension("json");
                let json = std::fs::read(&json_path)
                    .map_err(|e| e.to_string())
                    .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
                    .unwrap_or_else(|e| panic!("{json_path:?}: {e}"));
                let dump = std::fs::read(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
                Vector { path, json, dump }
            })
            .collect();
        assert!(
            out.len() > 1000,
            "expected the full vector set under {:?}, found {}",
            dir(),
            out.len()
        );
        out
    })
}

/// The vectors whose JSON satisfies `keep`.
pub fn select(keep: impl Fn(&Json) -> bool) -> impl Iterator<Item = &'static Vector> {
    all().iter().filter(move |v| keep(&v.json))
}

/// Decodes a hex string.
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
