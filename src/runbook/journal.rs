//! The run journal: append-only JSONL, one event per line, `fsync`ed after
//! every event so that `kill -9` loses nothing already shown.
//! `<data dir>/runs/<run_id>/journal.jsonl`.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::EpochMs;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The source's clock (simulated on the demo), epoch ms.
    pub ts: EpochMs,
    /// Wall clock, RFC 3339.
    pub wall: String,
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// run_start, param, step_start, api_call, poll, condition_met, checkpoint_response,
    /// note, marker, stop_condition, abort, cleanup, step_end, run_end, warning, dry_run.
    pub kind: String,
    #[serde(default)]
    pub detail: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

pub struct Journal {
    path: PathBuf,
    file: Option<File>,
    seq: u64,
    /// Everything written so far (the report and the console read this).
    pub events: Vec<Event>,
}

impl Journal {
    /// Create `<dir>/journal.jsonl` (dir created). Fails if it exists.
    pub fn create(dir: &Path) -> std::io::Result<Journal> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("journal.jsonl");
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)?;
        Ok(Journal {
            path,
            file: Some(file),
            seq: 0,
            events: vec![],
        })
    }

    /// Open an existing journal to continue it (`--resume`).
    pub fn reopen(dir: &Path) -> std::io::Result<Journal> {
        let path = dir.join("journal.jsonl");
        // Cut a torn last line (the process died mid-write) before appending.
        let bytes = std::fs::read(&path)?;
        let keep = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        if keep < bytes.len() {
            OpenOptions::new()
                .write(true)
                .open(&path)?
                .set_len(keep as u64)?;
        }
        let events = read(&path)?;
        let file = OpenOptions::new().append(true).open(&path)?;
        Ok(Journal {
            seq: events.last().map(|e| e.seq).unwrap_or(0),
            path,
            file: Some(file),
            events,
        })
    }

    /// A journal that keeps events in memory only (tests, previews).
    pub fn in_memory() -> Journal {
        Journal {
            path: PathBuf::new(),
            file: None,
            seq: 0,
            events: vec![],
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append and flush to disk. A write error is returned; the event is still
    /// kept in memory so the run can report it.
    pub fn append(
        &mut self,
        ts: EpochMs,
        step: Option<&str>,
        kind: &str,
        detail: Value,
        aws_request_id: Option<String>,
        operator: Option<String>,
    ) -> std::io::Result<()> {
        self.seq += 1;
        let ev = Event {
            ts,
            wall: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            seq: self.seq,
            step: step.map(str::to_string),
            kind: kind.to_string(),
            detail,
            aws_request_id,
            operator,
        };
        let res = match &mut self.file {
            Some(f) => crate::sanitize::json::to_string(&ev)
                .map_err(std::io::Error::other)
                .and_then(|mut line| {
                    line.push('\n');
                    f.write_all(line.as_bytes())?;
                    f.sync_data()
                }),
            None => Ok(()),
        };
        self.events.push(ev);
        res
    }
}

/// Read a journal. A torn last line (the process died mid-write) is skipped;
/// a bad line elsewhere is an error naming it.
pub fn read(path: &Path) -> std::io::Result<Vec<Event>> {
    let f = File::open(path)?;
    let lines: Vec<String> = BufReader::new(f).lines().collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(lines.len());
    let n = lines.len();
    for (i, l) in lines.iter().enumerate() {
        if l.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Event>(l) {
            Ok(e) => out.push(e),
            Err(_) if i + 1 == n => break,
            Err(e) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}:{}: {e}", path.display(), i + 1),
                ));
            }
        }
    }
    Ok(out)
}

/// A new run id: `<runbook>-<UTC yyyymmddThhmmss>-<4 hex>`.
pub fn new_run_id(runbook: &str) -> String {
    let now = std::time::SystemTime::now();
    let stamp = humantime::format_rfc3339_seconds(now)
        .to_string()
        .replace(['-', ':'], "")
        .trim_end_matches('Z')
        .to_string();
    let nanos = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{runbook}-{stamp}-{:04x}",
        (nanos ^ std::process::id()) & 0xffff
    )
}
