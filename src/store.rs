//! The UI task's state of the world: the latest snapshot plus bounded ring
//! buffers for the timeline and the logs. Only the UI task owns it; sources
//! send owned updates (see `source`).

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::model::{FleetSnapshot, LogLine, TimelineEvent, timeline};
use crate::sanitize::sanitize;

/// Timeline entries kept.
pub const TIMELINE_CAP: usize = 10_000;
/// Log lines kept.
pub const LOG_LINES_CAP: usize = 100_000;
/// Bytes of log text kept (sanitized text only).
pub const LOG_BYTES_CAP: usize = 48 * 1024 * 1024;
/// Warnings kept for the status line.
pub const WARNINGS_CAP: usize = 20;

/// A log line as the console keeps it: sanitized once, at ingestion.
#[derive(Debug, Clone)]
pub struct StoredLine {
    /// The store's own sequence number: contiguous, so a line's position in
    /// the buffer is `seq - first_seq`.
    pub seq: u64,
    /// The source's id (CloudWatch eventId where available).
    pub id: u64,
    pub timestamp: i64,
    pub service_key: Arc<str>,
    /// The service it is from, when the source could tell.
    pub service: Option<crate::model::ServiceId>,
    pub log_stream: Arc<str>,
    /// Sanitized text: safe to put in a `Span`.
    pub text: String,
}

#[derive(Debug, Default)]
pub struct LogBuffer {
    lines: VecDeque<StoredLine>,
    bytes: usize,
    /// Total lines ever ingested (for the "dropped" count and scroll anchoring).
    pub ingested: u64,
    /// Lines evicted because of the caps.
    pub evicted: u64,
    interned: HashMap<String, Arc<str>>,
    last_service: Option<Arc<str>>,
    last_stream: Option<Arc<str>>,
}

impl LogBuffer {
    fn intern(&mut self, s: &str) -> Arc<str> {
        // Consecutive lines mostly share their service and stream: compare
        // with the last two names before hashing.
        for last in [&self.last_service, &self.last_stream]
            .into_iter()
            .flatten()
        {
            if &**last == s {
                return last.clone();
            }
        }
        if let Some(a) = self.interned.get(s) {
            return a.clone();
        }
        // Bound the intern table too: streams come and go with tasks.
        if self.interned.len() > 50_000 {
            self.interned.clear();
        }
        let a: Arc<str> = Arc::from(s);
        self.interned.insert(s.to_string(), a.clone());
        a
    }

    pub fn push(&mut self, line: LogLine) {
        // Clean text (the common case) is moved in, not copied.
        let text = match sanitize(&line.message) {
            Cow::Borrowed(_) => line.message,
            Cow::Owned(clean) => clean,
        };
        let service_key = self.intern(&line.service_key);
        self.last_service = Some(service_key.clone());
        let log_stream = self.intern(&line.log_stream);
        self.last_stream = Some(log_stream.clone());
        self.bytes += text.len();
        self.lines.push_back(StoredLine {
            seq: self.ingested,
            id: line.id,
            timestamp: line.timestamp,
            service_key,
            service: line.service,
            log_stream,
            text,
        });
        self.ingested += 1;
        while self.lines.len() > LOG_LINES_CAP || self.bytes > LOG_BYTES_CAP {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.text.len();
                self.evicted += 1;
            } else {
                break;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &StoredLine> + ExactSizeIterator {
        self.lines.iter()
    }

    pub fn get(&self, i: usize) -> Option<&StoredLine> {
        self.lines.get(i)
    }

    /// Sequence number of the oldest line kept.
    pub fn first_seq(&self) -> Option<u64> {
        self.lines.front().map(|l| l.seq)
    }

    /// Position of the line with sequence number `seq`, if still kept.
    pub fn position_of(&self, seq: u64) -> Option<usize> {
        let first = self.first_seq()?;
        let pos = usize::try_from(seq.checked_sub(first)?).ok()?;
        (pos < self.lines.len()).then_some(pos)
    }
}

#[derive(Debug)]
pub struct Store {
    pub snapshot: Arc<FleetSnapshot>,
    /// False until the first snapshot arrived.
    pub has_snapshot: bool,
    pub timeline: VecDeque<TimelineEvent>,
    pub logs: LogBuffer,
    pub warnings: VecDeque<String>,
    /// Bumped on every change; the renderer redraws only when it moved.
    pub generation: u64,
}

impl Default for Store {
    fn default() -> Self {
        Self {
            snapshot: Arc::new(FleetSnapshot::default()),
            has_snapshot: false,
            timeline: VecDeque::new(),
            logs: LogBuffer::default(),
            warnings: VecDeque::new(),
            generation: 0,
        }
    }
}

impl Store {
    pub fn apply_snapshot(&mut self, next: Arc<FleetSnapshot>) {
        let prev = self.has_snapshot.then(|| self.snapshot.as_ref());
        let events = timeline::diff(prev, &next);
        for e in events {
            self.timeline.push_back(e);
        }
        while self.timeline.len() > TIMELINE_CAP {
            self.timeline.pop_front();
        }
        self.snapshot = next;
        self.has_snapshot = true;
        self.generation += 1;
    }

    pub fn apply_logs(&mut self, lines: Vec<LogLine>) {
        if lines.is_empty() {
            return;
        }
        for l in lines {
            self.logs.push(l);
        }
        self.generation += 1;
    }

    pub fn warn(&mut self, w: String) {
        let w = sanitize(&w).into_owned();
        if self.warnings.back() == Some(&w) {
            return;
        }
        self.warnings.push_back(w);
        while self.warnings.len() > WARNINGS_CAP {
            self.warnings.pop_front();
        }
        self.generation += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(i: u64, msg: &str) -> LogLine {
        LogLine {
            id: i,
            timestamp: i as i64,
            service_key: "prod/api".into(),
            service: None,
            log_group: "/ecs/api".into(),
            log_stream: "ecs/api/abc".into(),
            message: msg.into(),
        }
    }

    #[test]
    fn logs_are_sanitized_and_bounded() {
        let mut b = LogBuffer::default();
        b.push(line(0, "\u{1b}[31mred\u{1b}[0m"));
        assert_eq!(b.get(0).unwrap().text, "red");
        for i in 1..(LOG_LINES_CAP as u64 + 10) {
            b.push(line(i, "x"));
        }
        assert_eq!(b.len(), LOG_LINES_CAP);
        assert_eq!(b.evicted, 10);
        assert_eq!(b.get(0).unwrap().id, 10);
        assert_eq!(b.position_of(10), Some(0));
        assert_eq!(b.position_of(9), None);
        assert_eq!(
            b.position_of(LOG_LINES_CAP as u64 + 9),
            Some(LOG_LINES_CAP - 1)
        );
        assert_eq!(b.bytes(), LOG_LINES_CAP);
    }
}
