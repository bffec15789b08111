//! The run journal: append-only JSONL, one event per line, `fsync`ed after
//! every event so that `kill -9` loses nothing already shown.
//! `<data dir>/runs/<run_id>/journal.jsonl`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

pub use super::events::{Body, Event};
use crate::model::EpochMs;

pub struct Journal {
    path: PathBuf,
    file: Option<File>,
    seq: u64,
    /// Everything written so far (the report and the console read this).
    pub events: Vec<Event>,
    /// [`Journal::reopen`] cut a torn last line: what it did, in one line.
    pub repaired: Option<String>,
}

/// The largest journal read back. A 3-hour GameDay writes well under 10 MiB.
pub const MAX_JOURNAL_BYTES: u64 = 64 * 1024 * 1024;

/// A last line that is not a whole event: the process died while writing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornLine {
    /// 1-based line number in the file.
    pub line: usize,
    /// Where the valid part of the file ends (the torn line starts here).
    pub keep: u64,
    /// Bytes cut: the torn line, and blank lines around it.
    pub bytes: u64,
}

/// A journal as read from disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub events: Vec<Event>,
    /// The last line was cut (it is left out of `events`).
    pub torn: Option<TornLine>,
    /// The last whole event is not followed by a newline.
    pub unterminated: bool,
}

impl Loaded {
    /// One line for an operator: the last line was cut.
    pub fn torn_message(&self, path: &Path) -> Option<String> {
        self.torn.as_ref().map(|t| {
            format!(
                "{}:{}: the journal's last line was cut (the run stopped while writing it, {} bytes): it is left out",
                path.display(),
                t.line,
                t.bytes
            )
        })
    }
}

/// A run id names a directory under `<data dir>/runs`: letters, digits,
/// `-`, `_` and `.`, not starting with a dot (no `..`, no `/`).
pub fn check_run_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 200
        && !id.starts_with('.')
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{:?} is not a run id (letters, digits, '-', '_' and '.'; see <data dir>/runs)",
            crate::sanitize::sanitize(id)
        ))
    }
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
            repaired: None,
        })
    }

    /// Open an existing journal to continue it (`--resume`). A torn last
    /// line (the process died mid-write, with or without its newline) is cut
    /// back to the last whole event before anything is appended, so it never
    /// ends up in the middle of the file; [`Journal::repaired`] says so.
    pub fn reopen(dir: &Path) -> std::io::Result<Journal> {
        let path = dir.join("journal.jsonl");
        let loaded = load(&path)?;
        let mut repaired = None;
        if let Some(t) = &loaded.torn {
            OpenOptions::new()
                .write(true)
                .open(&path)?
                .set_len(t.keep)?;
            repaired = Some(format!(
                "{}:{}: the journal's last line was cut (the run stopped while writing it): removed its {} bytes before continuing",
                path.display(),
                t.line,
                t.bytes
            ));
        }
        let mut file = OpenOptions::new().append(true).open(&path)?;
        if loaded.unterminated {
            file.write_all(b"\n")?;
            file.sync_data()?;
        }
        let events = loaded.events;
        Ok(Journal {
            seq: events.last().map(|e| e.seq).unwrap_or(0),
            path,
            file: Some(file),
            events,
            repaired,
        })
    }

    /// A journal that keeps events in memory only (tests, previews).
    pub fn in_memory() -> Journal {
        Journal {
            path: PathBuf::new(),
            file: None,
            seq: 0,
            events: vec![],
            repaired: None,
        }
    }

    /// Tests: from now on, write to `file` instead (e.g. `/dev/full`, to
    /// make the next write fail for real).
    #[cfg(test)]
    pub(crate) fn write_to(&mut self, file: File) {
        self.file = Some(file);
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
        body: Body,
        aws_request_id: Option<String>,
        operator: Option<String>,
    ) -> std::io::Result<()> {
        self.seq += 1;
        let ev = Event {
            ts,
            wall: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            seq: self.seq,
            step: step.map(str::to_string),
            body,
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
/// a bad line elsewhere is an error naming it. See [`load`].
pub fn read(path: &Path) -> std::io::Result<Vec<Event>> {
    load(path).map(|l| l.events)
}

/// The bytes of a journal: a regular file (never a FIFO or device, which
/// could block or never end) of at most [`MAX_JOURNAL_BYTES`]. Bytes, not
/// text: a torn last line may end in the middle of a UTF-8 character.
fn read_bytes(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt;
    let bad = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidData, m);
    let meta = std::fs::metadata(path)?;
    if !meta.file_type().is_file() {
        return Err(bad(format!(
            "{}: not a regular file; refusing to read it",
            path.display()
        )));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.file_type().is_file() {
        return Err(bad(format!(
            "{}: not a regular file; refusing to read it",
            path.display()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_JOURNAL_BYTES) as usize);
    file.take(MAX_JOURNAL_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_JOURNAL_BYTES {
        return Err(bad(format!(
            "{}: over the {MAX_JOURNAL_BYTES}-byte limit for a journal",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Read a journal and say whether its last line was torn. Blank lines are
/// skipped; a line that is not an event is an error naming file and line,
/// unless it is the last one (then it is [`Loaded::torn`]).
pub fn load(path: &Path) -> std::io::Result<Loaded> {
    let bytes = read_bytes(path)?;
    let mut events = vec![];
    let mut keep = 0usize;
    let mut unterminated = false;
    let mut pos = 0usize;
    let mut n = 0usize;
    while pos < bytes.len() {
        n += 1;
        let end = bytes[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| pos + i);
        let next = (end + 1).min(bytes.len());
        let raw = &bytes[pos..end];
        pos = next;
        if raw.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let parsed = std::str::from_utf8(raw)
            .map_err(|_| "not UTF-8 text".to_string())
            .and_then(|t| serde_json::from_str::<Event>(t).map_err(|e| e.to_string()));
        match parsed {
            Ok(e) => {
                events.push(e);
                keep = next;
                unterminated = end == bytes.len();
            }
            Err(e) => {
                let rest_blank = bytes[next..].iter().all(|b| b.is_ascii_whitespace());
                if rest_blank {
                    return Ok(Loaded {
                        events,
                        torn: Some(TornLine {
                            line: n,
                            keep: keep as u64,
                            bytes: (bytes.len() - keep) as u64,
                        }),
                        unterminated,
                    });
                }
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}:{n}: {e}", path.display()),
                ));
            }
        }
    }
    Ok(Loaded {
        events,
        torn: None,
        unterminated,
    })
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
