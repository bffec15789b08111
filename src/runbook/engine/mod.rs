//! The runner: a sans-IO state machine over one runbook run.
//!
//! A driver (headless or the console) calls [`Runner::poll`] with the
//! source's clock and the latest snapshot; the runner journals what happens
//! and answers with what it needs next ([`Need`]): time to pass, an API call
//! made, the arm phrase, a confirmation, or a checkpoint answer. It never
//! sleeps, never calls AWS and never draws, so the same runner drives the
//! simulator in virtual time, AWS in real time, and the console.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::cond::{self, CondResult, EvalCtx, ServiceRef};
use super::events::{ApiCall, Body, CallPhase};
pub use super::events::{Outcome, StepState};
use super::journal::{Event, Journal};
use super::vars::{self, Scope, as_i64, display, interpolate, resolve_value};
use super::{Block, Flow, OnTrigger, ParamType, Runbook};
use crate::actions::{snapshot, stop_tasks, sustain_release};
pub use crate::calls::{CallOutput, PlannedCall, Target, fmt_dur};
use crate::model::{AlarmState, EpochMs, FleetSnapshot, short_task_definition};
use crate::review::ReviewConfig;

mod answers;
mod flow;
mod guard;
mod params;
mod plan;
mod poll;
mod resume;
mod steps;

pub use params::{bind_params, collect_params};
use plan::tasks_in_az;
pub use plan::{snapshot_save, td_diff};

/// What the runner needs from its driver.
#[derive(Debug, Clone, PartialEq)]
pub enum Need {
    /// Nothing to do before this source time (poll again then, or on a new snapshot).
    Wait {
        until: EpochMs,
    },
    /// Perform this call and report with [`Runner::call_done`].
    Call(PlannedCall),
    /// Type the arm phrase ([`Runner::arm`]) before the first mutating step.
    Arm {
        phrase: String,
    },
    /// Confirm this step's changes ([`Runner::confirm`]).
    Confirm {
        step: String,
        changes: Vec<String>,
    },
    /// Answer a checkpoint ([`Runner::answer`]).
    Checkpoint(CheckpointAsk),
    Finished(Summary),
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointAsk {
    pub step: String,
    pub prompt: String,
    pub choices: Vec<String>,
    pub require_note: bool,
    pub approvers: u32,
    /// A prose step: read and acknowledge.
    pub prose: bool,
    /// Lines of a task definition diff, when the checkpoint asks for one.
    pub diff: Vec<String>,
}

/// The `--format json` summary (a public contract: add fields, never rename).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub run_id: String,
    pub runbook: String,
    pub outcome: Outcome,
    pub rto_seconds: Option<f64>,
    pub rto_target_seconds: Option<f64>,
    pub ttd_seconds: Option<f64>,
    pub journal: PathBuf,
    pub report: PathBuf,
    /// Why the run aborted or failed.
    pub reason: Option<String>,
    /// No `--write`: actions were shown, not made.
    pub dry_run: bool,
    /// RTO within target (None without a target or an RTO).
    pub rto_met: Option<bool>,
    pub stop_conditions_hit: Vec<String>,
    /// DR runbooks: the region serving traffic when the run ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serving_region: Option<String>,
    /// DR runbooks: the replication lag at the data tier's promotion (the
    /// data lost), seconds; null when not measured (no data tier, no lag
    /// datapoints, a dry run), never 0 for unknown.
    pub rpo_seconds: Option<f64>,
    pub rpo_target_seconds: Option<f64>,
    /// RPO within target (None without both, or when the run did not complete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpo_met: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Sustain {
    step: String,
    target: Target,
    az: String,
    reason: String,
    until: EpochMs,
    interval: i64,
    next: EpochMs,
    /// The FIS experiment that keeps the AZ impaired (no sweeps then; the
    /// release stops it).
    experiment: Option<String>,
    /// The experiment cuts the AZ's network: no StopTask sweeps, only its
    /// status is followed.
    cut: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    /// The run has not started (preconditions not checked yet).
    Init,
    /// The current step has not begun.
    Start,
    Verify {
        started: EpochMs,
        next_poll: EpochMs,
        timeout_at: EpochMs,
        interval: i64,
        hold: i64,
        true_since: Option<EpochMs>,
    },
    Arm {
        then: Vec<PlannedCall>,
    },
    Confirm {
        calls: Vec<PlannedCall>,
    },
    Calls {
        queue: VecDeque<PlannedCall>,
        outputs: Vec<CallOutput>,
        /// The front call's "before" record is in the journal.
        logged: bool,
    },
    Checkpoint(CheckpointAsk),
    /// A read with `until` that did not hold yet: read again at `at`.
    ReadAgain {
        at: EpochMs,
    },
    /// A stop condition fired with `on_trigger = "pause"`.
    StopPaused {
        ask: CheckpointAsk,
        resume: Box<Phase>,
    },
    Done,
}

/// Who is running and how.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// `--write`: mutating actions are made (after arm + confirm); otherwise dry run.
    pub write: bool,
    pub operator: String,
    pub review: ReviewConfig,
    /// Where `runs/<id>/` goes; None keeps the journal in memory (tests).
    pub data_dir: Option<PathBuf>,
    /// `source.kind:label` for the journal.
    pub source: String,
}

/// Default poll interval of verify steps.
const DEFAULT_INTERVAL_MS: i64 = 10_000;
/// Default verify timeout.
const DEFAULT_TIMEOUT_MS: i64 = 10 * 60_000;
/// A runaway loop of gotos ends the run.
const MAX_JUMPS: u32 = 500;

pub struct Runner {
    pub rb: Runbook,
    pub run_id: String,
    pub run_dir: Option<PathBuf>,
    pub params: Map<String, Value>,
    saves: Map<String, Value>,
    /// Marker → source time.
    pub markers: BTreeMap<String, EpochMs>,
    pub journal: Journal,
    cfg: RunConfig,
    armed: bool,
    pub cur: Option<usize>,
    phase: Phase,
    pub states: Vec<StepState>,
    sustains: Vec<Sustain>,
    stop_next: EpochMs,
    stop_since: EpochMs,
    /// Alarms the operator chose to continue past (until they leave ALARM).
    stop_acked: BTreeSet<String>,
    stop_missing_warned: BTreeSet<String>,
    cleanup: Option<VecDeque<usize>>,
    ending: Option<(Outcome, Option<String>)>,
    finished: Option<Summary>,
    jumps: u32,
    /// The last verify evaluation (for the console).
    pub last_results: Vec<CondResult>,
    pub stop_hits: Vec<String>,
    /// Calls waiting to be made that are not a step's (sustain sweeps, releases).
    side_calls: VecDeque<(String, PlannedCall)>,
    side_in_flight: Option<String>,
    /// The step being resumed had a call begun and not finished.
    pub uncertain_resume: bool,
    /// Sustained impairments that ended (`sustain_end`) and whose release
    /// call has not succeeded yet: they are still in force.
    unreleased: Vec<Sustain>,
    /// Steps whose impairment was released (a successful ReleaseAz).
    released: BTreeSet<String>,
    /// A step killed after its last call's result and before its end: its
    /// after-call effects are rebuilt when the resumed run continues.
    interrupted: Option<Interrupted>,
    /// What `--resume` repaired or rebuilt, one line each (also journaled).
    pub resume_notes: Vec<String>,
    /// The first journal write that failed (see [`Runner::journal_error`]).
    journal_error: Option<String>,
    /// The current step's read-until loop.
    read_loop: Option<ReadLoop>,
}

/// A read repeated until its answer holds (an action's `until`).
#[derive(Debug, Clone, Copy)]
struct ReadLoop {
    started: EpochMs,
    timeout_at: EpochMs,
    interval: i64,
    /// When the last read's answer came.
    last: EpochMs,
}

/// See [`Runner::interrupted`].
#[derive(Debug, Clone)]
struct Interrupted {
    step: usize,
    outputs: Vec<CallOutput>,
    at: EpochMs,
    saved: bool,
    sustained: bool,
}

use crate::actions::dur_ms;

/// Scope for `${…}`: params, saves, run, timeline.
struct VarScope<'a> {
    params: &'a Map<String, Value>,
    saves: &'a Map<String, Value>,
    run_id: &'a str,
    markers: &'a BTreeMap<String, EpochMs>,
    rb: &'a Runbook,
}

impl Scope for VarScope<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        let (root, rest) = name.split_once('.').unwrap_or((name, ""));
        match root {
            "param" => self.params.get(rest).cloned(),
            "save" => {
                let (n, path) = rest.split_once('.').unwrap_or((rest, ""));
                let v = self.saves.get(n)?;
                if path.is_empty() {
                    Some(v.clone())
                } else {
                    cond::select_path(v, path).into_iter().next().cloned()
                }
            }
            "run" if rest == "id" => Some(Value::String(self.run_id.to_string())),
            "timeline" if rest == "rpo" => {
                // The RPO as far as it is known now (`[timeline] rpo_seconds`).
                let secs = self
                    .rb
                    .meta
                    .timeline
                    .rpo_seconds
                    .as_deref()
                    .and_then(|t| interpolate(t, self).ok())
                    .and_then(|s| s.trim().parse::<f64>().ok());
                Some(Value::String(match secs {
                    Some(s) => format!("{s:.1} s"),
                    None => "not measured".into(),
                }))
            }
            "timeline" => {
                let tl = &self.rb.meta.timeline;
                let span = |a: &Option<String>, b: &Option<String>| -> Option<i64> {
                    Some(self.markers.get(b.as_ref()?)? - self.markers.get(a.as_ref()?)?)
                };
                let v = match rest {
                    "rto" => span(&tl.rto_start, &tl.rto_end),
                    "ttd" => span(&tl.rto_start, &tl.ttd_marker),
                    _ => None,
                };
                Some(Value::String(
                    v.map(fmt_dur).unwrap_or_else(|| "n/a".into()),
                ))
            }
            _ => None,
        }
    }
}

impl Runner {
    /// A new run. With a data dir, the journal is created at once.
    pub fn new(
        rb: Runbook,
        params: Map<String, Value>,
        cfg: RunConfig,
        run_id: String,
    ) -> std::io::Result<Runner> {
        let (journal, run_dir) = match &cfg.data_dir {
            Some(d) => {
                let dir = d.join("runs").join(&run_id);
                (Journal::create(&dir)?, Some(dir))
            }
            None => (Journal::in_memory(), None),
        };
        let n = rb.steps.len();
        Ok(Runner {
            rb,
            run_id,
            run_dir,
            params,
            saves: Map::new(),
            markers: BTreeMap::new(),
            journal,
            cfg,
            armed: false,
            cur: None,
            phase: Phase::Init,
            states: vec![StepState::Pending; n],
            sustains: vec![],
            stop_next: 0,
            stop_since: 0,
            stop_acked: BTreeSet::new(),
            stop_missing_warned: BTreeSet::new(),
            cleanup: None,
            ending: None,
            finished: None,
            jumps: 0,
            last_results: vec![],
            stop_hits: vec![],
            side_calls: VecDeque::new(),
            side_in_flight: None,
            uncertain_resume: false,
            unreleased: vec![],
            released: BTreeSet::new(),
            interrupted: None,
            resume_notes: vec![],
            journal_error: None,
            read_loop: None,
        })
    }

    fn new_with_journal(
        rb: Runbook,
        params: Map<String, Value>,
        cfg: RunConfig,
        run_id: String,
        journal: Journal,
        run_dir: Option<PathBuf>,
    ) -> Runner {
        let mut r = Runner::new(
            rb,
            params,
            RunConfig {
                data_dir: None,
                ..cfg.clone()
            },
            run_id,
        )
        .expect("in-memory runner");
        r.cfg = cfg;
        r.journal = journal;
        r.run_dir = run_dir;
        r
    }

    fn now_hint(&self) -> EpochMs {
        self.journal.events.last().map(|e| e.ts).unwrap_or(0)
    }

    fn scope(&self) -> VarScope<'_> {
        VarScope {
            params: &self.params,
            saves: &self.saves,
            run_id: &self.run_id,
            markers: &self.markers,
            rb: &self.rb,
        }
    }

    fn interp(&self, s: &str) -> Result<String, String> {
        interpolate(s, &self.scope())
    }

    /// Text with its variables filled in where they have values (for display).
    pub fn display_text(&self, s: &str) -> String {
        self.interp(s).unwrap_or_else(|_| s.to_string())
    }

    fn default_ref(&self) -> ServiceRef {
        let p = |k: &str| self.params.get(k).map(display).unwrap_or_default();
        ServiceRef {
            cluster: p("cluster"),
            service: p("service"),
            region: self.params.get("region").map(display),
            account: self.params.get("account").map(display),
        }
    }

    fn log(&mut self, now: EpochMs, step: Option<usize>, body: Body) {
        let step = step.map(|i| self.rb.steps[i].id.clone());
        let op = Some(self.cfg.operator.clone());
        if let Err(e) = self.journal.append(now, step.as_deref(), body, None, op) {
            self.journal_failed(&e);
        }
    }

    fn log_call(
        &mut self,
        now: EpochMs,
        step: Option<&str>,
        call: ApiCall,
        request_id: Option<String>,
    ) {
        let op = Some(self.cfg.operator.clone());
        if let Err(e) = self
            .journal
            .append(now, step, Body::ApiCall(call), request_id, op)
        {
            self.journal_failed(&e);
        }
    }

    /// The first failed journal write: the run stops at the next
    /// [`Runner::poll`], and nothing more is sent.
    fn journal_failed(&mut self, e: &std::io::Error) {
        if self.journal_error.is_none() {
            let msg = format!(
                "{}: journal write failed: {e}; the run is stopped (no further action is sent)",
                self.journal.path().display()
            );
            tracing::error!("{msg}");
            self.journal_error = Some(msg);
        }
    }

    /// Why the run stopped when its journal could not be written.
    pub fn journal_error(&self) -> Option<&str> {
        self.journal_error.as_deref()
    }

    /// Stop the run now, as failed, without cleanup steps or releases: what
    /// would run them cannot be trusted (the journal cannot be written, the
    /// source is gone).
    pub fn halt(&mut self, now: EpochMs, reason: &str) {
        if self.finished.is_none() {
            self.side_calls.clear();
            self.side_in_flight = None;
            self.cleanup = None;
            self.finish(now, Outcome::Failed, Some(reason.to_string()));
        }
    }

    /// Regions named by the run's parameters (`primary_region`, `standby_region`, …).
    pub fn param_regions(&self) -> Vec<String> {
        self.params
            .iter()
            .filter(|(k, _)| k.ends_with("region"))
            .filter_map(|(_, v)| v.as_str().map(str::to_string))
            .filter(|r| !r.is_empty())
            .collect()
    }

    fn first_step(&self) -> Option<usize> {
        self.rb.steps.iter().position(|s| !s.common().detached)
    }

    fn next_sequential(&self, i: usize) -> Option<usize> {
        (i + 1..self.rb.steps.len()).find(|j| !self.rb.steps[*j].common().detached)
    }

    pub fn is_finished(&self) -> bool {
        self.finished.is_some()
    }

    /// The run is aborting and running its cleanup steps.
    pub fn is_cleaning_up(&self) -> bool {
        self.cleanup.is_some()
    }

    pub fn summary(&self) -> Option<&Summary> {
        self.finished.as_ref()
    }

    pub fn dry_run(&self) -> bool {
        !self.cfg.write
    }

    /// What the current phase is, in a few words (the console's status).
    pub fn phase_label(&self) -> String {
        match &self.phase {
            Phase::Init => "starting".into(),
            Phase::Start => "next step".into(),
            Phase::Verify {
                timeout_at,
                true_since,
                hold,
                ..
            } => match true_since {
                Some(t) => format!(
                    "holding {} (until {})",
                    fmt_dur(*hold),
                    fmt_dur(*t + *hold - *t)
                ),
                None => format!(
                    "waiting (timeout at +{})",
                    fmt_dur(*timeout_at - self.step_started().unwrap_or(*timeout_at))
                ),
            },
            Phase::Arm { .. } => "type the arm phrase".into(),
            Phase::Confirm { .. } => "confirm the change".into(),
            Phase::Calls { .. } => "calling".into(),
            Phase::ReadAgain { at } => format!(
                "reading again in {}",
                fmt_dur((*at - self.read_loop.map_or(*at, |r| r.last)).max(0))
            ),
            Phase::Checkpoint(_) => "waiting for your answer".into(),
            Phase::StopPaused { .. } => "paused by a stop condition".into(),
            Phase::Done => "finished".into(),
        }
    }

    fn step_started(&self) -> Option<EpochMs> {
        match &self.phase {
            Phase::Verify { started, .. } => Some(*started),
            _ => None,
        }
    }

    /// Verify progress: (elapsed since step start, timeout, holding since).
    pub fn verify_progress(&self, now: EpochMs) -> Option<(i64, i64, Option<i64>, i64)> {
        match &self.phase {
            Phase::Verify {
                started,
                timeout_at,
                true_since,
                hold,
                ..
            } => Some((
                now - started,
                timeout_at - started,
                true_since.map(|t| now - t),
                *hold,
            )),
            _ => None,
        }
    }

    // ------------------------------------------------------------ driving

    // ------------------------------------------------------------ answers
}

impl vars::Scope for Map<String, Value> {
    fn lookup(&self, name: &str) -> Option<Value> {
        vars::lookup_json(&Value::Object(self.clone()), name)
    }
}
