//! Where facts come from, behind one interface.
//!
//! A source runs as its own tokio task(s) and talks to the UI only through
//! channels (bottom's style): it sends owned [`Update`]s over a bounded mpsc,
//! publishes the latest snapshot on a `watch` channel (what runbook
//! verification reads), and takes [`Control`] messages back.

pub mod aws;
pub mod context;
pub mod sim;

use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use crate::calls::{CallOutput, PlannedCall};
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
    /// The answer to a [`Control::Apply`], by its id.
    CallResult(u64, Result<CallOutput, String>),
}

/// Messages from the UI to the source.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    /// Simulation speed factor (demo only; ignored by AWS).
    SetSpeed(f64),
    /// Pause or resume the simulated clock (demo only).
    Pause(bool),
    /// Perform a runbook action (the console's runner asks; the result comes
    /// back as [`Update::CallResult`] with the same id, then a fresh snapshot).
    Apply(u64, PlannedCall),
    /// The logs the console shows: one service (its account, region,
    /// cluster and name: a twin elsewhere is another service), or None for
    /// the fleet. AWS tails only what is asked (each tail costs calls), with
    /// the client of the service's own account and region; the simulator
    /// produces every service's logs anyway.
    FollowLogs(Option<crate::model::ServiceId>),
    /// Stop producing and end the source task.
    Shutdown,
}

/// One thing a source may or may not be able to do. The console refuses a
/// command that needs one the source lacks, with [`Capability::refusal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Stop and restart its clock (`:pause`, `:resume`).
    Pause,
    /// Run its clock faster or slower (`:speed`).
    Speed,
    /// Stream new log lines as they are written (the logs pane follows).
    LiveTail,
    /// Make changes (runbook actions started with `--write`).
    Writes,
    /// Read another set of AWS profiles and regions (`:ctx`).
    Contexts,
}

impl Capability {
    /// Why a command needing this is refused: one line for the bottom line.
    pub fn refusal(self) -> &'static str {
        match self {
            Capability::Pause => "this source cannot pause: its data is live (the demo can)",
            Capability::Speed => {
                "this source has no clock to speed up: its data is live (the demo has)"
            }
            Capability::LiveTail => {
                "this source has no live log tail: the lines shown are all it sent"
            }
            Capability::Writes => {
                "this source cannot make changes: start without --write for a dry run"
            }
            Capability::Contexts => {
                "this source has no AWS profiles or regions to switch: the demo is one simulated fleet"
            }
        }
    }
}

/// What a source supports, declared by its `spawn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub pause: bool,
    pub speed: bool,
    pub live_tail: bool,
    pub writes: bool,
    pub contexts: bool,
}

impl Capabilities {
    /// Nothing claimed (what the console assumes before a source says).
    pub const NONE: Capabilities = Capabilities {
        pause: false,
        speed: false,
        live_tail: false,
        writes: false,
        contexts: false,
    };

    pub fn has(self, c: Capability) -> bool {
        match c {
            Capability::Pause => self.pause,
            Capability::Speed => self.speed,
            Capability::LiveTail => self.live_tail,
            Capability::Writes => self.writes,
            Capability::Contexts => self.contexts,
        }
    }

    /// `Ok` when the source can, else the one-line refusal.
    pub fn check(self, c: Capability) -> Result<(), &'static str> {
        if self.has(c) {
            Ok(())
        } else {
            Err(c.refusal())
        }
    }
}

/// What the UI holds of a running source.
pub struct SourceHandle {
    pub updates: mpsc::Receiver<Update>,
    pub snapshots: watch::Receiver<Arc<FleetSnapshot>>,
    pub control: mpsc::Sender<Control>,
    /// What this source can do; the console refuses the rest.
    pub capabilities: Capabilities,
    /// The longest a healthy source goes between two updates (the AWS
    /// source's fastest poll, with its jitter): the console calls the source
    /// silent only past twice this, not between two ordinary refreshes.
    pub heartbeat: std::time::Duration,
}

/// Whether the standard AWS credential chain has anything to work with:
/// environment keys, a profile, web identity, container credentials, or a
/// shared config/credentials file. (IMDS is not probed: that would cost a
/// network timeout at start-up off EC2.)
pub fn aws_credentials_present(
    profile: Option<&str>,
    env: &dyn Fn(&str) -> Option<String>,
) -> bool {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    if profile.is_some_and(|p| !p.is_empty())
        || set("AWS_ACCESS_KEY_ID")
        || set("AWS_PROFILE")
        || set("AWS_WEB_IDENTITY_TOKEN_FILE")
        || set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        || set("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    {
        return true;
    }
    let home = env("HOME").unwrap_or_default();
    let files = [
        env("AWS_SHARED_CREDENTIALS_FILE").unwrap_or_else(|| format!("{home}/.aws/credentials")),
        env("AWS_CONFIG_FILE").unwrap_or_else(|| format!("{home}/.aws/config")),
    ];
    // Through the files guard: a FIFO here would block a plain read for
    // good. A file that is there but can't be read safely counts as present,
    // so the AWS source runs and names it instead of the demo's starting.
    files
        .iter()
        .any(|f| match crate::files::read_text(std::path::Path::new(f)) {
            Ok(t) => t.lines().any(|l| l.trim_start().starts_with('[')),
            Err(e) => !e.is_not_found(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_detection() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().display().to_string();
        let none = |k: &str| (k == "HOME").then(|| home.clone());
        assert!(!aws_credentials_present(None, &none));
        assert!(aws_credentials_present(Some("prod"), &none));
        assert!(
            !aws_credentials_present(Some(""), &none),
            "AWS_PROFILE= (empty) is no profile"
        );
        let keys = |k: &str| match k {
            "HOME" => Some(home.clone()),
            "AWS_ACCESS_KEY_ID" => Some("AKIA".into()),
            _ => None,
        };
        assert!(aws_credentials_present(None, &keys));
        std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
        std::fs::write(
            dir.path().join(".aws/config"),
            "[default]\nregion = us-east-1\n",
        )
        .unwrap();
        assert!(aws_credentials_present(None, &none));
    }
}
