//! App state and `update`: the one owner of what the console shows. Sources
//! send owned updates; keys become [`Action`]s; drawing reads `&App` only.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::model::TimelineEvent;
use crate::model::rows::{self, ServiceRow};
use crate::review::{self, Finding, ReviewCache, ReviewConfig};
use crate::source::{Capabilities, Capability, Control, Update};
use crate::store::{Store, StoredLine};
use crate::ui::keymap::{self, Action};
use crate::ui::theme::Theme;

pub use crate::ui::view::{ApiCalls, Drawn, Effect, Filter, Input, LogView, Pane, View};

pub struct App {
    pub store: Store,
    pub rows: Vec<ServiceRow>,
    pub view: View,
    /// Index into `view.panes()`.
    pub focus: usize,
    /// Selected row per list pane, and scroll offset per scrolling pane.
    pub cursor: HashMap<Pane, usize>,
    pub filters: HashMap<Pane, Filter>,
    pub logs: LogView,
    pub timeline_bad_only: bool,
    pub input: Input,
    pub help: bool,
    pub help_scroll: usize,
    pub theme: Theme,
    pub themes_dir: Option<PathBuf>,
    /// Feedback on the bottom line: (text, is_error).
    pub message: Option<(String, bool)>,
    /// Shown on the status line for the whole session (the demo opened
    /// because no AWS credentials were found).
    pub notice: Option<String>,
    pub quit: bool,
    /// Real seconds since the source last sent anything (set by the event loop).
    pub silent_secs: u64,
    /// Past this many silent seconds the status line says "source silent"
    /// (twice the source's heartbeat: an AWS refresh every 10 s is not
    /// silence).
    pub silent_after: u64,
    /// Whether `NO_COLOR` is set: theme switches keep colours off.
    pub no_color: bool,
    /// Rows of the last drawn list panes (for PgUp/PgDn).
    pub page: usize,
    /// First row shown of each list pane in the last frame (see
    /// [`App::remember`]), so lists don't jump.
    pub offsets: HashMap<Pane, usize>,
    /// Only these clusters (`--cluster`); empty = all.
    pub clusters: Vec<String>,
    /// The user paused the source (`:pause`): silence is expected.
    pub paused: bool,
    /// Review findings of the latest snapshot.
    pub review_cache: ReviewCache,
    pub review_config: ReviewConfig,
    /// Accepted findings: hidden while their suppression is active.
    pub suppressions: Vec<review::suppress::Suppression>,
    /// Per service key: the worst severity and the number of findings.
    /// Worst severity and count of each service's findings (twins have
    /// their own).
    pub badges: HashMap<crate::model::ServiceId, (review::Severity, usize)>,
    /// `:runbooks`: the library and the run in progress.
    pub runbooks: crate::ui::runbooks::RunbookUi,
    /// `q` was pressed once during a runbook run.
    pub quit_armed: bool,
    /// (source time, AWS API calls so far) of recent snapshots, for calls/min.
    pub api_samples: std::collections::VecDeque<(i64, u64)>,
    /// What the source can do (see [`App::set_capabilities`]); nothing
    /// until it says.
    pub capabilities: Capabilities,
    /// Starts a source for another set of AWS profiles and regions (`:ctx`);
    /// None on the demo.
    pub fleet_builder: Option<Box<dyn crate::source::context::FleetBuilder>>,
    /// The AWS profiles and regions read (None on the demo).
    pub context: Option<crate::source::context::ContextSet>,
    /// The open `:ctx` picker.
    pub ctx_picker: Option<crate::ui::ctx::CtxPicker>,
}

impl App {
    pub fn new(theme: Theme) -> App {
        App {
            store: Store::default(),
            rows: Vec::new(),
            view: View::Fleet,
            focus: 0,
            cursor: HashMap::new(),
            filters: HashMap::new(),
            logs: LogView::default(),
            timeline_bad_only: false,
            input: Input::Normal,
            help: false,
            help_scroll: 0,
            theme,
            themes_dir: None,
            message: None,
            notice: None,
            quit: false,
            silent_secs: 0,
            silent_after: 5,
            no_color: false,
            page: 10,
            offsets: Default::default(),
            clusters: Vec::new(),
            paused: false,
            review_cache: ReviewCache::default(),
            review_config: ReviewConfig::default(),
            suppressions: Vec::new(),
            badges: HashMap::new(),
            runbooks: Default::default(),
            quit_armed: false,
            api_samples: Default::default(),
            capabilities: Capabilities::NONE,
            fleet_builder: None,
            context: None,
            ctx_picker: None,
        }
    }

    /// Keep what the last frame learned (where each list's window starts).
    pub fn remember(&mut self, drawn: Drawn) {
        self.offsets.extend(drawn.list_offsets);
    }

    /// What the source declared it can do: commands that need more are
    /// refused with one line (see [`App::refuse_without`]).
    pub fn set_capabilities(&mut self, caps: Capabilities) {
        self.capabilities = caps;
        self.runbooks.can_write = caps.writes;
    }

    /// `Some(refusal)` when the source lacks `cap`: the bottom line says so
    /// and the caller leaves its state alone.
    fn refuse_without(&mut self, what: &str, cap: Capability) -> bool {
        match self.capabilities.check(cap) {
            Ok(()) => false,
            Err(why) => {
                self.message = Some((format!("{what}: {why}"), true));
                true
            }
        }
    }

    /// The clock runbook steps are timed by: the simulator's, or the wall
    /// clock on AWS (whose snapshots come every few seconds).
    pub fn source_now(&self) -> i64 {
        let snap = &self.store.snapshot;
        if snap.source.kind == "aws" {
            crate::source::aws::now_ms()
        } else {
            snap.at
        }
    }

    /// Quit, unless a runbook run is in progress: then the first `q` says so
    /// and a second one quits (`:q!` quits at once). The journal keeps the
    /// run; `ecsdeck runbook run ID --resume RUN_ID` continues it.
    pub fn request_quit(&mut self) {
        let running = self
            .runbooks
            .running()
            .filter(|r| !r.runner.is_finished())
            .map(|r| r.runner.run_id.clone());
        match running {
            Some(id) if !self.quit_armed => {
                self.quit_armed = true;
                self.message = Some((
                    format!(
                        "runbook run {id} is in progress: q again to quit (resume it with --resume {id})"
                    ),
                    true,
                ));
            }
            _ => self.quit = true,
        }
    }

    /// The AWS API budget spent (None on the demo): per minute over the
    /// last few minutes once a minute of samples exists; before that, the
    /// calls made so far (a rate extrapolated from the first seconds read
    /// thousands a minute when 36 calls had been made).
    pub fn api_calls(&self) -> Option<ApiCalls> {
        let (t0, c0) = *self.api_samples.front()?;
        let (t1, c1) = *self.api_samples.back()?;
        if t1 - t0 < 60_000 {
            return Some(ApiCalls::SoFar(c1));
        }
        Some(ApiCalls::PerMin(
            c1.saturating_sub(c0) as f64 * 60_000.0 / (t1 - t0) as f64,
        ))
    }

    /// Step the runbook run over the latest snapshot (after updates, on ticks).
    pub fn drive_runbook(&mut self) -> Vec<Effect> {
        if !self.store.has_snapshot {
            return vec![];
        }
        let now = self.source_now();
        let snap = self.store.snapshot.clone();
        let out = self.runbooks.drive(&snap, now);
        if let Some(m) = self.runbooks.message.take() {
            self.message = Some(m);
        }
        out.into_iter().map(Effect::Control).collect()
    }

    pub fn focused(&self) -> Pane {
        let panes = self.view.panes();
        panes[self.focus.min(panes.len() - 1)]
    }

    pub fn cursor(&self, pane: Pane) -> usize {
        self.cursor.get(&pane).copied().unwrap_or(0)
    }

    /// Apply an update from the source.
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Snapshot(s) => {
                // `--cluster`: the rest of the fleet is not there at all.
                let s = if self.clusters.is_empty() {
                    s
                } else {
                    let mut only = (*s).clone();
                    only.services.retain(|x| self.clusters.contains(&x.cluster));
                    std::sync::Arc::make_mut(&mut only.clusters)
                        .retain(|x| self.clusters.contains(&x.name));
                    Arc::new(only)
                };
                if let Some(calls) = s.source.api_calls {
                    self.api_samples.push_back((s.at, calls));
                    while self
                        .api_samples
                        .front()
                        .is_some_and(|(t, _)| s.at - t > 5 * 60_000)
                    {
                        self.api_samples.pop_front();
                    }
                }
                self.store.apply_snapshot(s);
                self.rows = rows::build(&self.store.snapshot);
                // Only services whose inputs changed are re-checked.
                self.review_cache
                    .update(&self.store.snapshot, &self.review_config);
                self.badges.clear();
                let now = self.store.snapshot.at;
                for f in self.review_cache.findings().filter(|f| {
                    review::suppress::suppression_for(&self.suppressions, f, now).is_none()
                }) {
                    let Some(id) = finding_service(f) else {
                        continue;
                    };
                    let b = self.badges.entry(id).or_insert((f.severity, 0));
                    b.0 = b.0.min(f.severity);
                    b.1 += 1;
                }
            }
            Update::Logs(lines) => self.store.apply_logs(lines),
            Update::Warning(w) => self.store.warn(w),
            Update::CallResult(id, res) => {
                let now = self.source_now();
                self.runbooks.call_result(id, res, now);
            }
        }
    }
}

/// Whether a finding concerns the service `id` (no allocation: this runs
/// over every finding of the fleet for each frame of the service view).
pub fn finding_is_for(f: &Finding, id: &crate::model::ServiceId) -> bool {
    f.service.as_deref() == Some(&*id.name)
        && *f.cluster == *id.cluster
        && *f.region == *id.region
        && *f.account == *id.account
}

/// The service a finding concerns.
pub fn finding_service(f: &Finding) -> Option<crate::model::ServiceId> {
    let s = f.service.as_deref()?;
    Some(crate::model::ServiceId::new(
        &f.account, &f.region, &f.cluster, s,
    ))
}

/// `cluster/service` of a finding (the cluster alone for cluster-level ones).
pub fn finding_key(f: &Finding) -> String {
    match &f.service {
        Some(s) => format!("{}/{s}", f.cluster),
        None => f.cluster.to_string(),
    }
}

mod command;
mod keys;
mod lists;
#[cfg(test)]
mod tests;
