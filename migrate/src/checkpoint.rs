//! The resume file: where the source stood after the last batch the target confirmed, and the
//! batch that was being written when the run stopped (its keys are rewritten with REPLACE on
//! resume, since some of them may already be there). Written by rename, so a crash leaves
//! either the old or the new state, never half of one.
//!
//! ```text
//! restore-migrate checkpoint 1
//! source <what the source is>
//! target <what the target is>
//! done <position>          (absent before the first batch)
//! inflight <position>      (the batch being written; equals done between batches)
//! counts <copied> <failed> <skipped> <bytes>
//! complete <0|1>
//! ```

use std::io::Write;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub source: String,
    pub target: String,
    pub done: Option<String>,
    pub inflight: Option<String>,
    pub copied: u64,
    pub failed: u64,
    pub skipped: u64,
    pub bytes: u64,
    pub complete: bool,
}

const MAGIC: &str = "restore-migrate checkpoint 1";

impl Checkpoint {
    pub fn load(path: &str) -> Result<Option<Checkpoint>, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{path}: {e}")),
        };
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err(format!("{path}: not a restore-migrate checkpoint"));
        }
        let mut c = Checkpoint::default();
        for line in lines {
            let (k, v) = line.split_once(' ').unwrap_or((line, ""));
            match k {
                "source" => c.source = v.to_string(),
                "target" => c.target = v.to_string(),
                "done" => c.done = Some(v.to_string()),
                "inflight" => c.inflight = Some(v.to_string()),
                "complete" => c.complete = v == "1",
                "counts" => {
                    let n: Vec<u64> = v.split(' ').filter_map(|x| x.parse().ok()).collect();
                    if n.len() == 4 {
                        (c.copied, c.failed, c.skipped, c.bytes) = (n[0], n[1], n[2], n[3]);
                    }
                }
                _ => return Err(format!("{path}: unknown line {line:?}")),
            }
        }
        Ok(Some(c))
    }

    pub fn save(&self, path: &str) -> Result<(), String> {
        let mut text = format!("{MAGIC}\nsource {}\ntarget {}\n", self.source, self.target);
        if let Some(d) = &self.done {
            text += &format!("done {d}\n");
        }
        if let Some(i) = &self.inflight {
            text += &format!("inflight {i}\n");
        }
        text += &format!(
            "counts {} {} {} {}\ncomplete {}\n",
            self.copied,
            self.failed,
            self.skipped,
            self.bytes,
            u8::from(self.complete)
        );
        let tmp = format!("{path}.tmp");
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_data()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| format!("{path}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let dir = std::env::temp_dir().join(format!("ck-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ck").to_string_lossy().into_owned();
        assert_eq!(Checkpoint::load(&path).unwrap(), None);
        let c = Checkpoint {
            source: "dump.rdb (RDB 12)".into(),
            target: "redis://127.0.0.1:6379".into(),
            done: Some("file 1234".into()),
            inflight: Some("file 2345".into()),
            copied: 10,
            failed: 1,
            skipped: 2,
            bytes: 999,
            complete: false,
        };
        c.save(&path).unwrap();
        assert_eq!(Checkpoint::load(&path).unwrap(), Some(c));
        std::fs::write(&path, "something else\n").unwrap();
        assert!(Checkpoint::load(&path).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
