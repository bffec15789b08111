//! Where facts come from, behind one interface.
//!
//! A source runs as its own tokio task(s) and talks to the UI only through
//! channels (bottom's style): it sends owned [`Update`]s over a bounded mpsc,
//! publishes the latest snapshot on a `watch` channel (what runbook
//! verification reads), and takes [`Control`] messages back.

pub mod sim;

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::model::{FleetSnapshot, LogLine};

/// Bound of the update channel: producers wait (back-pressure) rather than
/// grow memory when the UI is slow.
pub const UPDATE_CHANNEL_BOUND: usize = 256;

#[derive(Debug)]
pub enum Update {
    /// A new full snapshot of the fleet.
    Snapshot(Arc<FleetSnapshot>),
    /// New log lines, oldest first. Messages are raw (untrusted).
    Logs(Vec<LogLine>),
    /// A non-fatal problem to show in the status line.
    Warning(String),
}

/// Messages from the UI to the source.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    /// Simulation speed factor (demo only; ignored by AWS).
    SetSpeed(f64),
    /// Pause or resume the simulated clock (demo only).
    Pause(bool),
    /// Stop producing and end the source task.
    Shutdown,
}

/// What the UI holds of a running source.
pub struct SourceHandle {
    pub updates: mpsc::Receiver<Update>,
    pub snapshots: watch::Receiver<Arc<FleetSnapshot>>,
    pub control: mpsc::Sender<Control>,
}
