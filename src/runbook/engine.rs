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
use super::{Block, Flow, OnTrigger, Op, ParamType, Runbook};
pub use crate::calls::{CallOutput, PlannedCall, Target, fmt_dur};
use crate::model::{AlarmState, EpochMs, FleetSnapshot, short_task_definition};
use crate::review::ReviewConfig;

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

fn dur_ms(s: &str) -> Result<i64, String> {
    humantime::parse_duration(s.trim())
        .map(|d| d.as_millis() as i64)
        .map_err(|e| format!("{s:?} is not a duration: {e}"))
}

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

/// Check and type the given parameters against the runbook; fill defaults.
/// Missing required parameters are listed in the error.
pub fn bind_params(
    rb: &Runbook,
    given: &BTreeMap<String, String>,
) -> Result<Map<String, Value>, String> {
    for k in given.keys() {
        if !rb.meta.params.contains_key(k) {
            let known: Vec<&str> = rb.meta.params.keys().map(|s| s.as_str()).collect();
            return Err(format!(
                "unknown parameter {k:?} for {} (parameters: {})",
                rb.meta.id,
                known.join(", ")
            ));
        }
    }
    let mut out = Map::new();
    let missing: Vec<String> = rb
        .meta
        .params
        .iter()
        .filter(|(n, p)| p.required && p.default.is_none() && !given.contains_key(*n))
        .map(|(n, _)| n.clone())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing required parameter{} for {}: {} (pass --param {}=…)",
            if missing.len() > 1 { "s" } else { "" },
            rb.meta.id,
            missing.join(", "),
            missing[0]
        ));
    }
    for (name, spec) in &rb.meta.params {
        let raw: Option<String> = match given.get(name) {
            Some(v) => Some(v.clone()),
            None => match &spec.default {
                Some(toml::Value::String(s)) => {
                    let scope = ParamScope(&out);
                    Some(
                        interpolate(s, &scope)
                            .map_err(|e| format!("--param {name}: default: {e}"))?,
                    )
                }
                Some(other) => Some(display(&resolve_value(other, &ParamScope(&out))?)),
                None => None,
            },
        };
        let Some(raw) = raw else {
            continue;
        };
        let v = match spec.ty {
            ParamType::String => {
                if raw.is_empty() && spec.required {
                    return Err(format!("--param {name}: must not be empty"));
                }
                Value::String(raw.clone())
            }
            ParamType::Int => {
                let n: i64 = raw
                    .trim()
                    .parse()
                    .map_err(|_| format!("--param {name}={raw}: not an integer"))?;
                if let Some(lo) = spec.min
                    && n < lo
                {
                    return Err(format!("--param {name}={n}: below the minimum {lo}"));
                }
                if let Some(hi) = spec.max
                    && n > hi
                {
                    return Err(format!("--param {name}={n}: above the maximum {hi}"));
                }
                Value::from(n)
            }
            ParamType::Duration => {
                dur_ms(&raw).map_err(|e| format!("--param {name}: {e}"))?;
                Value::String(raw.clone())
            }
            ParamType::Bool => match raw.as_str() {
                "true" | "yes" | "1" => Value::Bool(true),
                "false" | "no" | "0" => Value::Bool(false),
                _ => return Err(format!("--param {name}={raw}: not true/false")),
            },
        };
        if !spec.choices.is_empty() && !spec.choices.contains(&raw) {
            return Err(format!(
                "--param {name}={raw}: one of {}",
                spec.choices.join(", ")
            ));
        }
        out.insert(name.clone(), v);
    }
    check_counts(rb, &out)?;
    Ok(out)
}

/// Task counts that are one parameter (`desired = "${param.target}"`) are
/// refused at binding when negative, before anything runs. Counts from other
/// expressions are checked when the step plans its call.
fn check_counts(rb: &Runbook, params: &Map<String, Value>) -> Result<(), String> {
    for step in &rb.steps {
        let Block::Action(a) = &step.block else {
            continue;
        };
        for (key, v) in [
            ("desired", &a.desired),
            ("min", &a.min),
            ("max", &a.max),
            ("max_at_least", &a.max_at_least),
        ] {
            let Some(toml::Value::String(s)) = v else {
                continue;
            };
            let refs = vars::references(s);
            let [r] = refs.as_slice() else { continue };
            let Some(name) = r.strip_prefix("param.") else {
                continue;
            };
            if s.trim() != format!("${{{r}}}") {
                continue;
            }
            if let Some(n) = params.get(name).and_then(as_i64)
                && n < 0
            {
                return Err(format!(
                    "--param {name}={n}: negative, and step {} uses it as `{key}` (a task count is 0 or more)",
                    step.id
                ));
            }
        }
    }
    Ok(())
}

/// `--param k=v …` as a map; a parameter given twice is refused (naming it)
/// rather than one of the values being kept silently.
pub fn collect_params(given: &[(String, String)]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (k, v) in given {
        if let Some(first) = out.insert(k.clone(), v.clone()) {
            return Err(format!(
                "--param {k} is given twice ({k}={first} and {k}={v}): pass it once"
            ));
        }
    }
    Ok(out)
}

struct ParamScope<'a>(&'a Map<String, Value>);
impl Scope for ParamScope<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        name.strip_prefix("param.")
            .and_then(|n| self.0.get(n).cloned())
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
        })
    }

    /// Continue a run from its journal (`--resume`). The step that was in
    /// progress starts again; if one of its calls had begun and not finished,
    /// [`Runner::uncertain_resume`] is set and the confirmation says so.
    pub fn resume(rb: Runbook, cfg: RunConfig, run_id: String) -> Result<Runner, String> {
        let dir = cfg
            .data_dir
            .as_ref()
            .ok_or("no data dir")?
            .join("runs")
            .join(&run_id);
        let journal = Journal::reopen(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let events = journal.events.clone();
        let start = events
            .iter()
            .find_map(|e| match &e.body {
                Body::RunStart(s) => Some(s),
                _ => None,
            })
            .ok_or("the journal has no run_start")?;
        if start.runbook != rb.meta.id {
            return Err(format!(
                "run {run_id} is of runbook {:?}, not {}",
                start.runbook, rb.meta.id
            ));
        }
        if start.source != cfg.source {
            return Err(format!(
                "run {run_id} ran on {:?}, not {}: resume it against the same source (same --scenario/--seed, or the same account)",
                start.source, cfg.source
            ));
        }
        if let Some(end) = events.iter().find_map(|e| match &e.body {
            Body::RunEnd(end) => Some(end),
            _ => None,
        }) {
            return Err(format!(
                "run {run_id} already ended ({}); see `ecsdeck runbook report {run_id}`",
                end.outcome.as_str()
            ));
        }
        let params = start.params.clone();
        let repaired = journal.repaired.clone();
        let mut r = Runner::new_with_journal(rb, params, cfg, run_id, journal, Some(dir));
        r.replay(&events);
        let now = r.now_hint();
        // Alarm history is read from where the journal stops, not from the epoch.
        r.stop_since = now;
        let resumed = Body::Resume {
            from_seq: events.last().map(|e| e.seq),
        };
        let op = Some(r.cfg.operator.clone());
        if let Err(e) = r.journal.append(now, None, resumed, None, op) {
            r.journal_failed(&e);
        }
        if let Some(msg) = repaired {
            r.resume_notes.push(msg.clone());
            r.log(now, None, Body::Warning { message: msg });
        }
        r.rebuild_after_resume(now);
        Ok(r)
    }

    /// After [`Runner::replay`]: finish the step whose calls were all made
    /// (its saves, sustained impairment, marker and end, as if it had not been
    /// interrupted), and queue the release of every impairment that ended
    /// without a successful release call.
    fn rebuild_after_resume(&mut self, now: EpochMs) {
        if let Some(it) = self.interrupted.take() {
            let id = self.rb.steps[it.step].id.clone();
            self.resume_notes.push(format!(
                "step {id} had made its calls when the run stopped: it is finished from the journal (its calls are not repeated)"
            ));
            self.cur = Some(it.step);
            self.after_calls_inner(it.step, it.at, it.outputs, !it.saved, !it.sustained, true);
        }
        for s in self.unreleased.clone() {
            let queued = self.side_calls.iter().any(|(_, c)| {
                matches!(c, PlannedCall::ReleaseAz { target, az } if *target == s.target && *az == s.az)
            });
            if queued {
                continue;
            }
            self.resume_notes.push(format!(
                "the impairment of {} by step {} ended without a release: releasing it now",
                s.az, s.step
            ));
            self.log(
                now,
                self.rb.step_index(&s.step),
                Body::Warning {
                    message: format!(
                        "resume: {} (step {}) was not released yet; releasing it",
                        s.az, s.step
                    ),
                },
            );
            self.side_calls.push_back((
                s.step.clone(),
                PlannedCall::ReleaseAz {
                    target: s.target.clone(),
                    az: s.az.clone(),
                },
            ));
        }
    }

    /// A release call succeeded: the impairment it ends is no longer in force.
    fn mark_released(&mut self, target: &Target, az: &str) {
        let mut steps = vec![];
        self.unreleased.retain(|s| {
            let hit = s.target == *target && s.az == az;
            if hit {
                steps.push(s.step.clone());
            }
            !hit
        });
        self.released.extend(steps);
    }

    /// Impairments still in force: sustains running, or ended and not released.
    fn impairments_in_force(&self) -> Vec<String> {
        self.sustains
            .iter()
            .chain(&self.unreleased)
            .map(|s| format!("{} of {} (step {})", s.az, s.target.label(), s.step))
            .collect()
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

    /// Rebuild state from journal events: saves, markers, arming, step
    /// states, sustained impairments (started, ended, released), the abort and
    /// its cleanup queue, and where to continue.
    fn replay(&mut self, events: &[Event]) {
        let mut started: Option<usize> = None;
        let mut next_after: Option<Option<usize>> = None;
        let mut open_call = false;
        // Of the started step: calls made, calls planned (None: not recorded),
        // their outputs, and which of its after-call effects are journaled.
        let mut calls_done = 0u64;
        let mut calls_planned: Option<u64> = None;
        let mut outputs: Vec<CallOutput> = vec![];
        let mut last_call_ts = 0;
        let mut saved = false;
        let mut sustained = false;
        for e in events {
            let step_idx = e.step.as_deref().and_then(|s| self.rb.step_index(s));
            // Any successful release (a step's or a side call) ends an impairment.
            if let Body::ApiCall(c) = &e.body
                && c.succeeded()
                && let Some(PlannedCall::ReleaseAz { target, az }) = &c.call
            {
                self.mark_released(target, az);
            }
            match &e.body {
                Body::Save { name, value } => {
                    self.saves.insert(name.clone(), value.clone());
                    saved |= started.is_some() && step_idx == started;
                }
                Body::Marker { name, at } => {
                    self.markers.entry(name.clone()).or_insert(*at);
                }
                Body::Armed { .. } => self.armed = true,
                Body::StepStart { .. } => {
                    started = step_idx;
                    open_call = false;
                    calls_done = 0;
                    calls_planned = None;
                    outputs.clear();
                    saved = false;
                    sustained = false;
                    if let Some(i) = step_idx {
                        self.states[i] = StepState::Running;
                    }
                }
                Body::ApiCall(c) if e.step.is_some() && step_idx == started && !c.is_sweep() => {
                    open_call = c.phase == CallPhase::Before;
                    if open_call {
                        calls_planned = c.of.or(calls_planned);
                    }
                    if c.succeeded() {
                        calls_done += 1;
                        last_call_ts = e.ts;
                        outputs.push(CallOutput {
                            request_ids: c.request_ids.clone().unwrap_or_default(),
                            detail: c.output.clone().unwrap_or(Value::Null),
                        });
                    }
                }
                Body::StepEnd { state, next, .. } => {
                    if let Some(i) = step_idx {
                        self.states[i] = match state {
                            StepState::Pending | StepState::Running => StepState::Done,
                            s => *s,
                        };
                    }
                    started = None;
                    next_after = Some(next.as_deref().and_then(|n| self.rb.step_index(n)));
                }
                Body::SustainStart(s) => {
                    let s = Sustain {
                        step: s.step.clone(),
                        target: s.target.clone(),
                        az: s.az.clone(),
                        reason: s.reason.clone(),
                        until: s.until,
                        interval: s.interval,
                        next: s.next,
                    };
                    sustained |= started.is_some()
                        && self.rb.step_index(&s.step) == started
                        && step_idx == started;
                    self.sustains.retain(|x| x.step != s.step);
                    self.sustains.push(s);
                }
                Body::SustainEnd { step, .. } => {
                    // Ended, but in force until its release call succeeds.
                    let (ended, kept): (Vec<Sustain>, Vec<Sustain>) =
                        std::mem::take(&mut self.sustains)
                            .into_iter()
                            .partition(|s| &s.step == step);
                    self.sustains = kept;
                    self.unreleased.extend(ended);
                }
                Body::Abort {
                    reason,
                    outcome,
                    cleanup,
                } => {
                    let q: VecDeque<usize> = cleanup
                        .iter()
                        .filter_map(|s| self.rb.step_index(s))
                        .collect();
                    let outcome = match outcome {
                        Outcome::Failed => Outcome::Failed,
                        _ => Outcome::Aborted,
                    };
                    self.ending = Some((outcome, Some(reason.clone())));
                    self.cleanup = Some(q);
                }
                Body::StopCondition(hit) => {
                    self.stop_hits.push(hit.alarm.clone());
                }
                _ => {}
            }
        }
        if let Some(q) = &mut self.cleanup {
            // Cleanup steps already ended are not run again, nor is the one
            // in progress queued a second time (it is resumed below).
            q.retain(|i| {
                matches!(self.states[*i], StepState::Pending | StepState::Running)
                    && Some(*i) != started
            });
        }
        let all_made = calls_planned.is_none_or(|n| calls_done >= n);
        self.cur = match (started, next_after) {
            (Some(i), _) if !open_call && calls_done > 0 && all_made => {
                // Killed between its last call's result and its end: the
                // step is finished from the journal when the run continues
                // (its calls are not repeated; what they left in force —
                // a sustained impairment, a saved revision — is rebuilt).
                self.interrupted = Some(Interrupted {
                    step: i,
                    outputs: std::mem::take(&mut outputs),
                    at: last_call_ts,
                    saved,
                    sustained,
                });
                Some(i)
            }
            (Some(i), _) => {
                self.uncertain_resume = open_call;
                Some(i)
            }
            (None, Some(n)) => n,
            (None, None) => self.first_step(),
        };
        if self.cleanup.is_some() && started.is_none() {
            self.cur = self.cleanup.as_mut().and_then(|q| q.pop_front());
        }
        self.phase = if self.cur.is_some() || self.ending.is_some() {
            Phase::Start
        } else {
            Phase::Init
        };
        if self.cur.is_none() {
            self.ending.get_or_insert((Outcome::Completed, None));
        }
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

    /// Advance as far as possible at `now` over `snap`; say what is needed next.
    pub fn poll(&mut self, now: EpochMs, snap: &FleetSnapshot) -> Need {
        for _ in 0..10_000 {
            if let Some(e) = self.journal_error.clone() {
                self.halt(now, &e);
            }
            if let Some(s) = &self.finished {
                return Need::Finished(s.clone());
            }
            if let Some(n) = self.step_once(now, snap) {
                if self.journal_error.is_some() {
                    // Its journal line is not on disk: not sent, not asked.
                    continue;
                }
                return n;
            }
        }
        self.finish(
            now,
            Outcome::Failed,
            Some("runbook loops without waiting".into()),
        );
        Need::Finished(self.finished.clone().expect("finished"))
    }

    /// One transition; `Some(need)` when the driver must act.
    fn step_once(&mut self, now: EpochMs, snap: &FleetSnapshot) -> Option<Need> {
        if matches!(self.phase, Phase::Init) {
            return self.start_run(now, snap);
        }
        // A side call (sweep/release) already handed out: wait for its result.
        if self.side_in_flight.is_some() {
            return self.side_calls.front().map(|(_, c)| Need::Call(c.clone()));
        }
        if let Some(n) = self.due_sustains(now, snap) {
            return Some(n);
        }
        if self.cleanup.is_none() && now >= self.stop_next && !matches!(self.phase, Phase::Done) {
            self.check_stop_conditions(now, snap);
            if self.finished.is_some()
                || matches!(self.phase, Phase::StopPaused { .. })
                || self.cleanup.is_some()
            {
                return None;
            }
        }
        let Some(i) = self.cur else {
            let (o, r) = self.ending.clone().unwrap_or((Outcome::Completed, None));
            if let Some(n) = self.release_all_sustains(now) {
                return Some(n);
            }
            self.finish(now, o, r);
            return None;
        };
        let phase = std::mem::replace(&mut self.phase, Phase::Done);
        match phase {
            Phase::Init | Phase::Done => {
                self.phase = Phase::Start;
                None
            }
            Phase::Start => {
                self.begin_step(i, now, snap);
                None
            }
            Phase::Verify {
                started,
                next_poll,
                timeout_at,
                interval,
                hold,
                mut true_since,
            } => {
                if now >= next_poll {
                    // Alarm history is read from the start of the measured
                    // window (the rto_start marker) when there is one.
                    let window = self
                        .rb
                        .meta
                        .timeline
                        .rto_start
                        .as_ref()
                        .and_then(|m| self.markers.get(m).copied())
                        .map_or(started, |t| t.min(started));
                    let results = self.evaluate_verify(i, snap, window);
                    let ok = results.iter().all(|r| r.ok);
                    let conditions = results.iter().map(|r| r.text.clone()).collect();
                    self.last_results = results;
                    self.log(now, Some(i), Body::Poll { ok, conditions });
                    if ok {
                        // An alarm seen in its history became true earlier.
                        let at = self
                            .last_results
                            .iter()
                            .filter_map(|r| r.at)
                            .max()
                            .unwrap_or(now)
                            .min(now);
                        let since = *true_since.get_or_insert(at);
                        if now - since >= hold {
                            self.log(
                                now,
                                Some(i),
                                Body::ConditionMet {
                                    since,
                                    held_ms: now - since,
                                },
                            );
                            self.end_step(i, now, StepState::Done, None, Some(since));
                            return None;
                        }
                    } else {
                        true_since = None;
                    }
                    if now >= timeout_at {
                        let flow = self.rb.steps[i]
                            .common()
                            .on_timeout
                            .clone()
                            .unwrap_or(Flow::Abort);
                        self.log(
                            now,
                            Some(i),
                            Body::Timeout {
                                after_ms: now - started,
                                then: json!(flow),
                            },
                        );
                        self.end_step(i, now, StepState::TimedOut, Some(flow), None);
                        return None;
                    }
                    let mut np = now + interval;
                    if let Some(t) = true_since {
                        np = np.min(t + hold).max(now + 1);
                    }
                    self.phase = Phase::Verify {
                        started,
                        next_poll: np.min(timeout_at.max(now + 1)),
                        timeout_at,
                        interval,
                        hold,
                        true_since,
                    };
                    None
                } else {
                    let until = self.wake_time(next_poll);
                    self.phase = Phase::Verify {
                        started,
                        next_poll,
                        timeout_at,
                        interval,
                        hold,
                        true_since,
                    };
                    Some(Need::Wait { until })
                }
            }
            Phase::Arm { then } => {
                let phrase = self.arm_phrase().unwrap_or_default();
                self.phase = Phase::Arm { then };
                Some(Need::Arm { phrase })
            }
            Phase::Confirm { calls } => {
                let mut changes: Vec<String> = calls.iter().map(|c| c.describe()).collect();
                if self.uncertain_resume {
                    changes.push(
                        "note: this step was interrupted; its call may already have been made"
                            .into(),
                    );
                }
                let step = self.rb.steps[i].id.clone();
                self.phase = Phase::Confirm { calls };
                Some(Need::Confirm { step, changes })
            }
            Phase::Calls {
                queue,
                outputs,
                logged,
            } => {
                if let Some(c) = queue.front().cloned() {
                    if !logged {
                        let id = self.rb.steps[i].id.clone();
                        // `index` of `of`: a resume tells a step whose calls
                        // were all made from one cut between two of them.
                        let of = outputs.len() + queue.len();
                        let index = outputs.len() + 1;
                        let before = ApiCall {
                            index: Some(index as u64),
                            of: Some(of as u64),
                            ..ApiCall::before(c.clone())
                        };
                        self.log_call(now, Some(&id), before, None);
                    }
                    self.phase = Phase::Calls {
                        queue,
                        outputs,
                        logged: true,
                    };
                    Some(Need::Call(c))
                } else {
                    self.after_calls(i, now, outputs);
                    None
                }
            }
            Phase::Checkpoint(ask) => {
                self.phase = Phase::Checkpoint(ask.clone());
                Some(Need::Checkpoint(ask))
            }
            Phase::StopPaused { ask, resume } => {
                self.phase = Phase::StopPaused {
                    ask: ask.clone(),
                    resume,
                };
                Some(Need::Checkpoint(ask))
            }
        }
    }

    /// The next time something is due: `t`, the next stop-condition poll, the next sweep.
    fn wake_time(&self, t: EpochMs) -> EpochMs {
        let mut w = t;
        if self.cleanup.is_none() && !self.rb.meta.stop_conditions.is_empty() {
            w = w.min(self.stop_next);
        }
        for s in &self.sustains {
            w = w.min(s.next.min(s.until));
        }
        w
    }

    fn arm_phrase(&self) -> Option<String> {
        self.rb
            .meta
            .safety
            .arm_phrase
            .as_deref()
            .map(|p| self.interp(p).unwrap_or_else(|_| p.to_string()))
    }

    fn start_run(&mut self, now: EpochMs, snap: &FleetSnapshot) -> Option<Need> {
        let detail = super::events::RunStart {
            runbook: self.rb.meta.id.clone(),
            version: self.rb.meta.version,
            title: self.rb.meta.title.clone(),
            origin: self.rb.origin.clone(),
            params: self.params.clone(),
            write: self.cfg.write,
            source: self.cfg.source.clone(),
        };
        self.log(now, None, Body::RunStart(detail));
        let params: Vec<(String, Value)> = self
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in params {
            self.log(now, None, Body::Param { name: k, value: v });
        }
        self.stop_next = now;
        self.stop_since = now;
        self.phase = Phase::Start;
        self.cur = self.first_step();
        if let Err(reason) = self.preconditions(now, snap) {
            self.log(
                now,
                None,
                Body::Abort {
                    reason: reason.clone(),
                    outcome: Outcome::Aborted,
                    cleanup: vec![],
                },
            );
            self.finish(now, Outcome::Aborted, Some(reason));
        }
        None
    }

    /// Blocking findings and allowed environment tags.
    fn preconditions(&mut self, now: EpochMs, snap: &FleetSnapshot) -> Result<(), String> {
        let safety = self.rb.meta.safety.clone();
        // Guardrails that cannot be read are no guardrails: a GameDay does not
        // start without them; other runbooks (an incident's rollback must go
        // on) start with a warning in the journal.
        let alarms_readable = snap.source.kind != "aws"
            || snap
                .freshness
                .iter()
                .any(|(k, f)| k.starts_with("cloudwatch") && f.updated_at.is_some());
        if !self.rb.meta.stop_conditions.is_empty() && !alarms_readable {
            let msg = "its stop conditions cannot be checked: this source does not read CloudWatch alarms";
            if self.rb.meta.kind == super::Kind::Gameday {
                return Err(format!("refused: {msg}"));
            }
            self.log(
                now,
                None,
                Body::Warning {
                    message: format!("{msg}; the run is not guarded"),
                },
            );
        }
        let r = self.default_ref();
        let svc = cond::find_service(snap, &r);
        if !safety.allowed_env_tags.is_empty() {
            let Some(svc) = svc else {
                return Err(format!("service {}/{} not found", r.cluster, r.service));
            };
            for (tag, allowed) in &safety.allowed_env_tags {
                let cluster_tag = snap
                    .clusters
                    .iter()
                    .find(|c| c.name == svc.cluster)
                    .and_then(|c| c.tags.get(tag));
                let v = svc.tags.get(tag).or(cluster_tag);
                if !v.is_some_and(|v| allowed.iter().any(|a| a.eq_ignore_ascii_case(v))) {
                    return Err(format!(
                        "refused: tag {tag} of {}/{} is {} (this runbook runs only where it is one of {})",
                        r.cluster,
                        r.service,
                        v.map(|v| format!("{v:?}"))
                            .unwrap_or_else(|| "missing".into()),
                        allowed.join(", ")
                    ));
                }
            }
        }
        if !safety.blocking_findings.is_empty() {
            let Some(svc) = svc else {
                return Err(format!(
                    "service {}/{} not found, so the blocking findings ({}) cannot be checked",
                    r.cluster,
                    r.service,
                    safety.blocking_findings.join(", ")
                ));
            };
            let review = crate::review::evaluate(snap, &self.cfg.review);
            let hits: Vec<&crate::review::Finding> = review
                .findings
                .iter()
                .filter(|f| {
                    *f.cluster == *svc.cluster
                        && f.service.as_deref() == Some(svc.name.as_str())
                        && safety.blocking_findings.iter().any(|b| b == f.id)
                })
                .collect();
            // A blocking check that could not read its data on the target
            // cannot say the way is clear: refused, naming the API.
            let target = format!("{}/{}", svc.cluster, svc.name);
            let blind: Vec<&crate::review::NotEvaluated> = review
                .not_evaluated
                .iter()
                .filter(|n| {
                    n.missing_data
                        && n.services.contains(&target)
                        && safety.blocking_findings.iter().any(|b| b == n.id)
                })
                .collect();
            if !blind.is_empty() {
                let findings: Vec<Value> = blind
                    .iter()
                    .map(|n| json!({"id": n.id, "not_evaluated": n.reason}))
                    .collect();
                self.log(now, None, Body::Blocked { findings });
                let why: Vec<String> = blind
                    .iter()
                    .map(|n| format!("{} ({})", n.id, n.reason))
                    .collect();
                return Err(format!(
                    "refused: blocking checks could not be evaluated on {target}: {}",
                    why.join(" | ")
                ));
            }
            if !hits.is_empty() {
                let findings: Vec<Value> = hits
                    .iter()
                    .map(|f| json!({"id": f.id, "title": f.title, "evidence": f.evidence}))
                    .collect();
                self.log(now, None, Body::Blocked { findings });
                let why: Vec<String> = hits
                    .iter()
                    .map(|f| format!("{} {} ({})", f.id, f.title, f.evidence.join("; ")))
                    .collect();
                return Err(format!(
                    "refused: blocking findings fire on {}/{}: {}",
                    svc.cluster,
                    svc.name,
                    why.join(" | ")
                ));
            }
        }
        Ok(())
    }

    fn check_stop_conditions(&mut self, now: EpochMs, snap: &FleetSnapshot) {
        let policy = self.rb.meta.stop_policy.clone();
        let poll = dur_ms(&policy.poll).unwrap_or(15_000).max(1000);
        self.stop_next = now + poll;
        let since = self.stop_since;
        self.stop_since = now;
        let names: Vec<String> = self
            .rb
            .meta
            .stop_conditions
            .iter()
            .map(|c| self.interp(&c.alarm).unwrap_or_else(|_| c.alarm.clone()))
            .collect();
        for name in names {
            let Some(a) = snap.alarms.iter().find(|a| a.name == name) else {
                if self.stop_missing_warned.insert(name.clone()) {
                    self.log(
                        now,
                        None,
                        Body::Warning {
                            message: format!(
                                "stop condition alarm {name:?} not found: not guarding on it"
                            ),
                        },
                    );
                }
                continue;
            };
            let in_history = policy.include_history
                && a.history
                    .iter()
                    .any(|h| h.new_state == AlarmState::Alarm && h.timestamp > since);
            let firing = a.state == AlarmState::Alarm;
            if !firing {
                self.stop_acked.remove(&name);
            }
            if !(firing || in_history) || self.stop_acked.contains(&name) {
                continue;
            }
            self.stop_hits.push(name.clone());
            let detail = super::events::StopConditionHit {
                alarm: name.clone(),
                state: a.state.as_str().to_string(),
                reason: a.state_reason.clone(),
                from_history: !firing,
                action: match policy.on_trigger {
                    OnTrigger::Abort => "abort",
                    OnTrigger::Pause => "pause",
                }
                .to_string(),
            };
            let step = self.cur;
            self.log(now, step, Body::StopCondition(detail));
            match policy.on_trigger {
                OnTrigger::Abort => {
                    self.begin_abort(
                        now,
                        Outcome::Aborted,
                        format!("stop condition: alarm {name} went to ALARM"),
                    );
                }
                OnTrigger::Pause => {
                    let resume = Box::new(std::mem::replace(&mut self.phase, Phase::Done));
                    self.phase = Phase::StopPaused {
                        ask: CheckpointAsk {
                            step: step
                                .map(|i| self.rb.steps[i].id.clone())
                                .unwrap_or_default(),
                            prompt: format!(
                                "Stop condition: alarm {name} is in ALARM ({}). Continue or abort?",
                                a.state_reason
                            ),
                            choices: vec!["abort".into(), "continue".into()],
                            require_note: false,
                            approvers: 0,
                            prose: false,
                            diff: vec![],
                        },
                        resume,
                    };
                    self.stop_acked.insert(name);
                }
            }
            return;
        }
    }

    /// A sustained impairment ends: journal it and queue its release.
    fn end_sustain(&mut self, now: EpochMs, s: Sustain, why: &str) {
        self.log(
            now,
            self.rb.step_index(&s.step),
            Body::SustainEnd {
                step: s.step.clone(),
                az: s.az.clone(),
                why: why.to_string(),
            },
        );
        // In force until the release call succeeds.
        self.unreleased.push(s.clone());
        self.side_calls.push_back((
            s.step,
            PlannedCall::ReleaseAz {
                target: s.target,
                az: s.az,
            },
        ));
    }

    /// Hand the next side call (sweep, release) to the driver.
    fn next_side_call(&mut self, now: EpochMs) -> Option<Need> {
        let (step, call) = self.side_calls.front().cloned()?;
        self.side_in_flight = Some(step.clone());
        let before = ApiCall {
            sweep: Some(true),
            ..ApiCall::before(call.clone())
        };
        self.log_call(now, Some(&step), before, None);
        Some(Need::Call(call))
    }

    /// Sweeps that are due, and sustains that ended.
    fn due_sustains(&mut self, now: EpochMs, snap: &FleetSnapshot) -> Option<Need> {
        let mut i = 0;
        while i < self.sustains.len() {
            if now >= self.sustains[i].until {
                let s = self.sustains.remove(i);
                self.end_sustain(now, s, "duration over");
                continue;
            }
            let s = &mut self.sustains[i];
            if now >= s.next {
                s.next = now + s.interval;
                let ids = tasks_in_az(snap, &s.target.as_ref(), &s.az);
                if !ids.is_empty() {
                    let call = PlannedCall::StopTasks {
                        target: s.target.clone(),
                        az: Some(s.az.clone()),
                        task_ids: ids,
                        reason: s.reason.clone(),
                        impair_ms: None,
                    };
                    let step = s.step.clone();
                    self.side_calls.push_back((step, call));
                }
            }
            i += 1;
        }
        self.next_side_call(now)
    }

    fn release_all_sustains(&mut self, now: EpochMs) -> Option<Need> {
        if self.sustains.is_empty() && self.side_calls.is_empty() {
            return None;
        }
        for s in std::mem::take(&mut self.sustains) {
            self.end_sustain(now, s, "run ending");
        }
        self.next_side_call(now)
    }

    fn evaluate_verify(&self, i: usize, snap: &FleetSnapshot, since: EpochMs) -> Vec<CondResult> {
        let Block::Verify(v) = &self.rb.steps[i].block else {
            return vec![];
        };
        let scope = self.scope();
        let dr = self.default_ref();
        let cx = EvalCtx {
            snap,
            default_ref: &dr,
            scope: &scope,
            since,
        };
        v.all.iter().map(|c| cond::evaluate(c, &cx)).collect()
    }

    fn when_holds(&self, i: usize) -> Result<bool, String> {
        let Some(w) = &self.rb.steps[i].common().when else {
            return Ok(true);
        };
        let r = w.reference.trim();
        let name = if r.starts_with("param.") || r.starts_with("save.") {
            r.to_string()
        } else {
            format!("save.{r}")
        };
        let got = self.scope().lookup(&name);
        let want = w
            .value
            .as_ref()
            .map(|v| resolve_value(v, &self.scope()))
            .transpose()?;
        Ok(cond::compare(got.as_ref(), &w.op, want.as_ref()))
    }

    fn begin_step(&mut self, i: usize, now: EpochMs, snap: &FleetSnapshot) {
        self.states[i] = StepState::Running;
        let step = self.rb.steps[i].clone();
        let title = self.interp(&step.title).unwrap_or(step.title.clone());
        let cleanup = self.cleanup.is_some();
        self.log(
            now,
            Some(i),
            Body::StepStart {
                title: title.clone(),
                kind: step.kind().to_string(),
                cleanup,
            },
        );
        match self.when_holds(i) {
            Ok(true) => {}
            Ok(false) => {
                self.end_step(i, now, StepState::Skipped, None, None);
                return;
            }
            Err(e) => {
                self.fail_step(i, now, format!("when: {e}"));
                return;
            }
        }
        match &step.block {
            Block::Prose => {
                let body = self.interp(&step.body).unwrap_or(step.body.clone());
                self.phase = Phase::Checkpoint(CheckpointAsk {
                    step: step.id.clone(),
                    prompt: if body.is_empty() { title } else { body },
                    choices: vec!["continue".into()],
                    require_note: false,
                    approvers: 0,
                    prose: true,
                    diff: vec![],
                });
            }
            Block::Checkpoint(cp) => {
                let prompt = match self.interp(&cp.prompt) {
                    Ok(p) => p,
                    Err(e) => {
                        self.fail_step(i, now, format!("prompt: {e}"));
                        return;
                    }
                };
                let diff = match &cp.diff {
                    Some([a, b]) => {
                        let a = self.interp(a).unwrap_or_default();
                        let b = self.interp(b).unwrap_or_default();
                        td_diff(snap, &a, &b, &self.saves)
                    }
                    None => vec![],
                };
                let approvers = cp.approvers.max(if cp.approvers > 0 {
                    self.rb.meta.safety.requires_approvals
                } else {
                    0
                });
                self.phase = Phase::Checkpoint(CheckpointAsk {
                    step: step.id.clone(),
                    prompt,
                    choices: cp.choices.clone(),
                    require_note: cp.require_note,
                    approvers,
                    prose: false,
                    diff,
                });
            }
            Block::Verify(v) => {
                let parse = |s: &Option<String>, d: i64| -> Result<i64, String> {
                    match s {
                        Some(s) => dur_ms(&self.interp(s)?),
                        None => Ok(d),
                    }
                };
                let (interval, hold, timeout) = match (
                    parse(&v.interval, DEFAULT_INTERVAL_MS),
                    parse(&v.hold, 0),
                    parse(&v.common.timeout, DEFAULT_TIMEOUT_MS),
                ) {
                    (Ok(a), Ok(b), Ok(c)) => (a.max(1000), b, c),
                    (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                        self.fail_step(i, now, e);
                        return;
                    }
                };
                if self.dry_run()
                    && self
                        .journal
                        .events
                        .iter()
                        .any(|e| matches!(e.body, Body::DryRun(_)))
                {
                    // After a planned (not made) change, waiting proves nothing:
                    // evaluate once and show what it would wait for.
                    let results = self.evaluate_verify(i, snap, now);
                    let conditions = results.iter().map(|r| r.text.clone()).collect();
                    let ok = results.iter().all(|r| r.ok);
                    let detail = super::events::DryRun {
                        calls: None,
                        changes: None,
                        ok: Some(ok),
                        conditions: Some(conditions),
                        would_wait: Some(fmt_dur(timeout)),
                    };
                    self.last_results = results;
                    self.log(now, Some(i), Body::DryRun(detail));
                    self.end_step(i, now, StepState::DryRun, None, None);
                    return;
                }
                self.phase = Phase::Verify {
                    started: now,
                    next_poll: now,
                    timeout_at: now + timeout,
                    interval,
                    hold,
                    true_since: None,
                };
            }
            Block::Action(a) => {
                if a.op == Op::Snapshot {
                    let save = a.save_as.clone().unwrap_or_default();
                    match snapshot_save(snap, &self.action_ref(a)) {
                        Ok(v) => {
                            self.log(
                                now,
                                Some(i),
                                Body::Save {
                                    name: save.clone(),
                                    value: v.clone(),
                                },
                            );
                            self.saves.insert(save, v);
                            self.end_step(i, now, StepState::Done, None, None);
                        }
                        Err(e) => self.fail_step(i, now, e),
                    }
                    return;
                }
                if a.op == Op::SustainRelease {
                    let target = a.step.clone().unwrap_or_default();
                    let ending: Vec<Sustain> = self
                        .sustains
                        .iter()
                        .filter(|s| s.step == target)
                        .cloned()
                        .collect();
                    self.sustains.retain(|s| s.step != target);
                    for s in ending {
                        self.log(
                            now,
                            Some(i),
                            Body::SustainEnd {
                                step: s.step.clone(),
                                az: s.az.clone(),
                                why: "released".into(),
                            },
                        );
                        self.unreleased.push(s);
                    }
                    // Everything of that step still in force is released,
                    // including an impairment that ended earlier and whose
                    // release failed or was interrupted.
                    let calls: VecDeque<PlannedCall> = self
                        .unreleased
                        .iter()
                        .filter(|s| s.step == target)
                        .map(|s| PlannedCall::ReleaseAz {
                            target: s.target.clone(),
                            az: s.az.clone(),
                        })
                        .collect();
                    let impaired = self
                        .rb
                        .step_index(&target)
                        .is_some_and(|t| self.states[t] == StepState::Done);
                    if calls.is_empty() && impaired && !self.released.contains(&target) {
                        // The impairment was made and nothing says it ended:
                        // doing nothing here would report a release that
                        // did not happen.
                        self.fail_step(
                            i,
                            now,
                            format!(
                                "step {target} impaired an AZ, but no record of that impairment is left to release: check the service and release the AZ by hand"
                            ),
                        );
                        return;
                    }
                    self.phase = Phase::Calls {
                        queue: calls,
                        outputs: vec![],
                        logged: false,
                    };
                    return;
                }
                let calls = match self.plan_action(i, a, snap) {
                    Ok(c) => c,
                    Err(e) => {
                        self.fail_step(i, now, e);
                        return;
                    }
                };
                let (calls, noop): (Vec<PlannedCall>, Vec<PlannedCall>) =
                    calls.into_iter().partition(|c| !c.is_noop());
                if !noop.is_empty() {
                    let what: Vec<String> = noop.iter().map(|c| c.describe()).collect();
                    self.log(now, Some(i), Body::NoChange { already: what });
                    if calls.is_empty() {
                        self.end_step(i, now, StepState::Done, None, None);
                        return;
                    }
                }
                let mutating = calls.iter().any(|c| c.mutates());
                if mutating && !self.cfg.write {
                    let changes: Vec<String> = calls.iter().map(|c| c.describe()).collect();
                    self.log(
                        now,
                        Some(i),
                        Body::DryRun(super::events::DryRun {
                            calls: Some(calls.clone()),
                            changes: Some(changes.clone()),
                            ok: None,
                            conditions: None,
                            would_wait: None,
                        }),
                    );
                    self.end_step(i, now, StepState::DryRun, None, None);
                    return;
                }
                if mutating && !self.armed {
                    // Every mutating run is armed; a runbook without a phrase
                    // does not validate, and an empty one refuses to arm.
                    self.phase = Phase::Arm { then: calls };
                } else if mutating {
                    self.phase = Phase::Confirm { calls };
                } else {
                    self.phase = Phase::Calls {
                        queue: calls.into(),
                        outputs: vec![],
                        logged: false,
                    };
                }
            }
        }
    }

    fn action_ref(&self, a: &super::Action) -> ServiceRef {
        let d = self.default_ref();
        let pick = |o: &Option<String>, dflt: String| match o {
            Some(s) => self.interp(s).unwrap_or(dflt),
            None => dflt,
        };
        ServiceRef {
            cluster: pick(&a.cluster, d.cluster.clone()),
            service: pick(&a.service, d.service.clone()),
            region: a
                .region
                .as_ref()
                .map(|r| self.interp(r).unwrap_or_default())
                .or(d.region),
        }
    }

    /// Turn an action block into concrete calls with old → new values.
    fn plan_action(
        &self,
        i: usize,
        a: &super::Action,
        snap: &FleetSnapshot,
    ) -> Result<Vec<PlannedCall>, String> {
        let r = self.action_ref(a);
        let target = Target::from_ref(&r);
        let svc = cond::find_service(snap, &r)
            .ok_or_else(|| format!("service {}/{} not found", r.cluster, r.service))?;
        let scope = self.scope();
        let int = |v: &Option<toml::Value>, key: &str| -> Result<Option<i32>, String> {
            match v {
                None => Ok(None),
                Some(v) => {
                    let j = resolve_value(v, &scope)?;
                    let n = as_i64(&j)
                        .ok_or_else(|| format!("`{key}` = {} is not a number", display(&j)))?;
                    if n < 0 {
                        return Err(format!(
                            "refused: `{key}` = {n} is negative (a task count is 0 or more)"
                        ));
                    }
                    i32::try_from(n)
                        .map(Some)
                        .map_err(|_| format!("refused: `{key}` = {n} is too large a task count"))
                }
            }
        };
        let factor_guard = |from: i32, to: i32| -> Result<(), String> {
            if let Some(f) = self.rb.meta.safety.max_scale_factor
                && from > 0
                && f64::from(to) > f64::from(from) * f
            {
                return Err(format!(
                    "refused: {from} → {to} is more than max_scale_factor {f}× (raise it in the runbook or scale in steps)"
                ));
            }
            Ok(())
        };
        Ok(match a.op {
            Op::EcsScale => {
                let to = int(&a.desired, "desired")?.unwrap_or(0);
                factor_guard(svc.desired_count, to)?;
                vec![PlannedCall::Scale {
                    target,
                    from: svc.desired_count,
                    to,
                }]
            }
            Op::SetCapacity => {
                let st = snap
                    .scalable_target(svc)
                    .ok_or_else(|| format!("{} has no scalable target", svc.key()))?;
                let from = (st.min_capacity, st.max_capacity);
                let min = int(&a.min, "min")?.unwrap_or(from.0);
                let mut max = int(&a.max, "max")?.unwrap_or(from.1);
                if let Some(at_least) = int(&a.max_at_least, "max_at_least")? {
                    max = max.max(at_least);
                }
                if min > max {
                    return Err(format!("min {min} > max {max}"));
                }
                factor_guard(from.0.max(svc.desired_count), min)?;
                vec![PlannedCall::SetCapacity {
                    target,
                    resource_id: st.resource_id.clone(),
                    from,
                    to: (min, max),
                }]
            }
            Op::UpdateService => {
                let td = self.interp(a.task_definition.as_deref().unwrap_or_default())?;
                if td.is_empty() {
                    return Err("task_definition is empty".into());
                }
                vec![PlannedCall::UpdateService {
                    target,
                    from: svc.task_definition.clone(),
                    to: td,
                }]
            }
            Op::ForceNewDeployment => vec![PlannedCall::ForceNewDeployment { target }],
            Op::StopDeployment => {
                let d = svc
                    .primary_deployment()
                    .filter(|d| d.rollout_state == Some(crate::model::RolloutState::InProgress))
                    .ok_or("no deployment in progress to stop")?;
                // Where a rollback goes: the deployment being replaced, else
                // the block's `task_definition` (the resolved known-good one).
                let rollback_to = svc
                    .deployments
                    .iter()
                    .find(|x| x.status != crate::model::DeploymentStatus::Primary)
                    .map(|x| x.task_definition.clone())
                    .or(match &a.task_definition {
                        Some(t) => Some(self.interp(t)?),
                        None => None,
                    });
                vec![PlannedCall::StopDeployment {
                    target,
                    deployment_id: d.id.clone(),
                    stop_type: a.stop_type.clone().unwrap_or_else(|| "ROLLBACK".into()),
                    rollback_to,
                }]
            }
            Op::ResolveRevision => vec![PlannedCall::ResolveRevision {
                target,
                current: svc.task_definition.clone(),
            }],
            Op::StopTasks => {
                let az = a.az.as_deref().map(|z| self.interp(z)).transpose()?;
                let reason =
                    self.interp(a.reason.as_deref().unwrap_or("ecsdeck runbook ${run.id}"))?;
                let running: Vec<&crate::model::Task> = svc
                    .tasks
                    .iter()
                    .filter(|t| t.is_running() && t.desired_status != "STOPPED")
                    .collect();
                let in_scope: Vec<&crate::model::Task> = running
                    .iter()
                    .copied()
                    .filter(|t| {
                        az.as_deref()
                            .is_none_or(|z| t.availability_zone.as_deref() == Some(z))
                    })
                    .collect();
                let sel = a
                    .select
                    .as_ref()
                    .map(|v| resolve_value(v, &scope))
                    .transpose()?
                    .unwrap_or(Value::String("all".into()));
                let n = match &sel {
                    Value::String(s) if s == "all" => in_scope.len(),
                    Value::String(s) if s == "one" => 1.min(in_scope.len()),
                    other => as_i64(other)
                        .map(|n| (n.max(0) as usize).min(in_scope.len()))
                        .ok_or_else(|| {
                            format!("select = {}: all, one or a count", display(other))
                        })?,
                };
                if let Some(pct) = self.rb.meta.safety.max_tasks_stopped_pct {
                    let limit = (running.len() as u64 * u64::from(pct) / 100) as usize;
                    if n > limit {
                        return Err(format!(
                            "refused: stopping {n} of {} running tasks exceeds max_tasks_stopped_pct {pct}% ({limit})",
                            running.len()
                        ));
                    }
                }
                if n == 0 && az.is_none() {
                    return Err("no running task to stop".into());
                }
                let impair_ms = match (&a.sustain, &az) {
                    (Some(s), Some(_)) => Some(dur_ms(&self.interp(s)?)?),
                    _ => None,
                };
                let _ = i;
                vec![PlannedCall::StopTasks {
                    target,
                    az,
                    task_ids: in_scope.iter().take(n).map(|t| t.id.clone()).collect(),
                    reason,
                    impair_ms,
                }]
            }
            Op::Snapshot | Op::SustainRelease => vec![],
        })
    }

    fn after_calls(&mut self, i: usize, now: EpochMs, outputs: Vec<CallOutput>) {
        self.after_calls_inner(i, now, outputs, true, true, false);
    }

    /// What a step's calls leave behind (a save, a sustained impairment),
    /// then the step's end. On resume (`rebuilt`), only the effects the
    /// journal lacks are made (`save`, `sustain`).
    fn after_calls_inner(
        &mut self,
        i: usize,
        now: EpochMs,
        outputs: Vec<CallOutput>,
        save: bool,
        sustain: bool,
        rebuilt: bool,
    ) {
        let step = self.rb.steps[i].clone();
        if let Block::Action(a) = &step.block {
            if save
                && a.op == Op::ResolveRevision
                && let Some(name) = &a.save_as
            {
                let v = outputs
                    .first()
                    .map(|o| o.detail.clone())
                    .unwrap_or(Value::Null);
                self.log(
                    now,
                    Some(i),
                    Body::Save {
                        name: name.clone(),
                        value: v.clone(),
                    },
                );
                self.saves.insert(name.clone(), v);
            }
            if sustain
                && a.op == Op::StopTasks
                && let (Some(sus), Some(az)) = (&a.sustain, &a.az)
            {
                let until = self
                    .interp(sus)
                    .ok()
                    .and_then(|s| dur_ms(&s).ok())
                    .unwrap_or(0);
                let interval = a
                    .sweep_interval
                    .as_deref()
                    .and_then(|s| self.interp(s).ok())
                    .and_then(|s| dur_ms(&s).ok())
                    .unwrap_or(20_000)
                    .max(1000);
                let s = Sustain {
                    step: step.id.clone(),
                    target: Target::from_ref(&self.action_ref(a)),
                    az: self.interp(az).unwrap_or_default(),
                    reason: self
                        .interp(a.reason.as_deref().unwrap_or("ecsdeck runbook"))
                        .unwrap_or_default(),
                    until: now + until,
                    interval,
                    next: now + interval,
                };
                let detail = super::events::SustainStart {
                    step: s.step.clone(),
                    target: s.target.clone(),
                    az: s.az.clone(),
                    reason: s.reason.clone(),
                    until: s.until,
                    interval: s.interval,
                    next: s.next,
                    rebuilt: rebuilt.then_some(true),
                };
                self.log(now, Some(i), Body::SustainStart(detail));
                self.sustains.push(s);
            }
        }
        self.end_step(i, now, StepState::Done, None, None);
    }

    fn fail_step(&mut self, i: usize, now: EpochMs, error: String) {
        let flow = self.rb.steps[i]
            .common()
            .on_failure
            .clone()
            .unwrap_or(Flow::Abort);
        self.log(
            now,
            Some(i),
            Body::Error {
                error: error.clone(),
                then: json!(flow),
            },
        );
        if matches!(flow, Flow::Abort) && self.ending.is_none() {
            self.ending = Some((
                Outcome::Failed,
                Some(format!("step {}: {error}", self.rb.steps[i].id)),
            ));
        }
        self.end_step(i, now, StepState::Failed, Some(flow), None);
    }

    /// End step `i` and choose the next one. `mark_at` overrides the marker time.
    fn end_step(
        &mut self,
        i: usize,
        now: EpochMs,
        state: StepState,
        flow: Option<Flow>,
        mark_at: Option<EpochMs>,
    ) {
        self.states[i] = state;
        self.phase = Phase::Start;
        self.last_results.clear();
        self.uncertain_resume = false;
        if state == StepState::Done
            && let Some(m) = self.rb.steps[i].common().mark.clone()
        {
            // The first time counts (a loop back through a step keeps it).
            if !self.markers.contains_key(&m) {
                let at = mark_at.unwrap_or(now);
                self.markers.insert(m.clone(), at);
                self.log(
                    now,
                    Some(i),
                    Body::Marker {
                        name: m.clone(),
                        at,
                    },
                );
            }
        }
        // Where next.
        let next: Option<usize> = if let Some(q) = &mut self.cleanup {
            q.pop_front()
        } else {
            match flow {
                Some(Flow::Abort) => {
                    let (o, r) = self.ending.clone().unwrap_or((
                        Outcome::Failed,
                        Some(format!(
                            "step {} {}",
                            self.rb.steps[i].id,
                            state_word(state)
                        )),
                    ));
                    self.log(
                        now,
                        Some(i),
                        Body::StepEnd {
                            state,
                            next: None,
                            interrupted: None,
                        },
                    );
                    self.begin_abort(now, o, r.unwrap_or_default());
                    return;
                }
                Some(Flow::Goto(id)) => self.rb.step_index(&id),
                Some(Flow::Continue) | None => match (&self.rb.steps[i].common().next, state) {
                    (Some(n), StepState::Done | StepState::DryRun) => self.rb.step_index(n),
                    _ => self.next_sequential(i),
                },
            }
        };
        if next.is_some_and(|n| n <= i) {
            self.jumps += 1;
        }
        let next_id = next.map(|n| self.rb.steps[n].id.clone());
        self.log(
            now,
            Some(i),
            Body::StepEnd {
                state,
                next: next_id.clone(),
                interrupted: None,
            },
        );
        if self.jumps > MAX_JUMPS {
            self.cur = None;
            self.ending = Some((
                Outcome::Failed,
                Some("too many jumps back: the runbook loops".into()),
            ));
            return;
        }
        if let Some(n) = next {
            self.states[n] = StepState::Pending;
        }
        self.cur = next;
    }

    /// Stop the normal flow: journal, then run the cleanup steps.
    fn begin_abort(&mut self, now: EpochMs, outcome: Outcome, reason: String) {
        if self.cleanup.is_some() {
            return;
        }
        if let Some(i) = self.cur
            && self.states[i] == StepState::Running
        {
            self.states[i] = StepState::Failed;
            self.log(
                now,
                Some(i),
                Body::StepEnd {
                    state: StepState::Failed,
                    next: None,
                    interrupted: Some(true),
                },
            );
        }
        let ids: Vec<String> = self.rb.meta.stop_policy.cleanup.clone();
        self.log(
            now,
            self.cur,
            Body::Abort {
                reason: reason.clone(),
                outcome,
                cleanup: ids.clone(),
            },
        );
        self.ending = Some((outcome, Some(reason)));
        let mut q: VecDeque<usize> = ids.iter().filter_map(|s| self.rb.step_index(s)).collect();
        if !q.is_empty() {
            self.log(now, None, Body::Cleanup { steps: ids });
        }
        self.cur = q.pop_front();
        self.cleanup = Some(q);
        self.phase = Phase::Start;
    }

    fn finish(&mut self, now: EpochMs, mut outcome: Outcome, mut reason: Option<String>) {
        if self.finished.is_some() {
            return;
        }
        // Never healthier than the truth: an impairment still in force (its
        // release failed or never ran) is not a completed run.
        let in_force = self.impairments_in_force();
        if !in_force.is_empty() {
            let msg = format!(
                "still impaired: {} — the release did not succeed; release it by hand",
                in_force.join(", ")
            );
            self.log(
                now,
                None,
                Body::Warning {
                    message: msg.clone(),
                },
            );
            if outcome == Outcome::Completed {
                outcome = Outcome::Failed;
                reason = Some(msg);
            }
        }
        self.phase = Phase::Done;
        self.cur = None;
        let tl = &self.rb.meta.timeline;
        let span = |a: &Option<String>, b: &Option<String>| -> Option<f64> {
            let a = self.markers.get(a.as_ref()?)?;
            let b = self.markers.get(b.as_ref()?)?;
            Some((b - a) as f64 / 1000.0)
        };
        let rto = span(&tl.rto_start, &tl.rto_end);
        let ttd = span(&tl.rto_start, &tl.ttd_marker);
        let target = tl
            .rto_target
            .as_deref()
            .and_then(|t| self.interp(t).ok())
            .and_then(|t| dur_ms(&t).ok())
            .map(|ms| ms as f64 / 1000.0);
        let rto_met = match (rto, target) {
            (Some(r), Some(t)) => Some(r <= t),
            _ => None,
        };
        self.log(
            now,
            None,
            Body::RunEnd(super::events::RunEnd {
                outcome,
                reason: reason.clone(),
                rto_seconds: rto,
                ttd_seconds: ttd,
                rto_target_seconds: target,
                rto_met,
            }),
        );
        let dir = self.run_dir.clone().unwrap_or_default();
        let summary = Summary {
            run_id: self.run_id.clone(),
            runbook: self.rb.meta.id.clone(),
            outcome,
            rto_seconds: rto,
            rto_target_seconds: target,
            ttd_seconds: ttd,
            journal: dir.join("journal.jsonl"),
            report: dir.join("report.md"),
            reason,
            dry_run: !self.cfg.write,
            rto_met,
            stop_conditions_hit: self.stop_hits.clone(),
        };
        if let Some(d) = &self.run_dir {
            let md = super::report::render(&self.rb, &self.journal.events);
            if let Err(e) = std::fs::write(d.join("report.md"), md) {
                tracing::error!("report write failed: {e}");
            }
        }
        self.finished = Some(summary);
    }

    // ------------------------------------------------------------ answers

    /// The backend's answer to the last [`Need::Call`].
    pub fn call_done(&mut self, now: EpochMs, result: Result<CallOutput, String>) {
        if let Some(step) = self.side_in_flight.take() {
            let call = self.side_calls.pop_front().map(|(_, c)| c);
            let (ok, err, rid) = match &result {
                Ok(o) => (true, None, o.request_ids.first().cloned()),
                Err(e) => (false, Some(e.clone()), None),
            };
            let ids = result
                .as_ref()
                .map(|o| o.request_ids.clone())
                .unwrap_or_default();
            let after = ApiCall {
                error: Some(err),
                request_ids: Some(ids),
                sweep: Some(true),
                ..ApiCall::after(call.clone(), ok)
            };
            self.log_call(now, Some(&step), after, rid);
            if ok && let Some(PlannedCall::ReleaseAz { target, az }) = &call {
                self.mark_released(target, az);
            }
            return;
        }
        let Some(i) = self.cur else { return };
        let Phase::Calls {
            mut queue,
            mut outputs,
            ..
        } = std::mem::replace(&mut self.phase, Phase::Start)
        else {
            return;
        };
        let call = queue.pop_front();
        let step_id = self.rb.steps[i].id.clone();
        match result {
            Ok(out) => {
                if let Some(PlannedCall::ReleaseAz { target, az }) = &call {
                    self.mark_released(target, az);
                }
                let rid = out.request_ids.first().cloned();
                self.log_call(
                    now,
                    Some(&step_id),
                    ApiCall {
                        request_ids: Some(out.request_ids.clone()),
                        output: Some(out.detail.clone()),
                        ..ApiCall::after(call.clone(), true)
                    },
                    rid,
                );
                outputs.push(out);
                if queue.is_empty() {
                    // End the step at once: a resume must not repeat a call
                    // whose result is already journaled.
                    self.after_calls(i, now, outputs);
                } else {
                    self.phase = Phase::Calls {
                        queue,
                        outputs,
                        logged: false,
                    };
                }
            }
            Err(e) => {
                self.log_call(
                    now,
                    Some(&step_id),
                    ApiCall {
                        error: Some(Some(e.clone())),
                        ..ApiCall::after(call.clone(), false)
                    },
                    None,
                );
                self.fail_step(i, now, e);
            }
        }
    }

    /// The operator typed the arm phrase. `auto`: `--yes`.
    pub fn arm(&mut self, now: EpochMs, typed: &str, auto: bool) -> Result<(), String> {
        let Phase::Arm { then } = &self.phase else {
            return Err("not waiting for the arm phrase".into());
        };
        let want = self.arm_phrase().unwrap_or_default();
        if want.trim().is_empty() {
            return Err(
                "this runbook's arm phrase is empty (after its variables were filled in): it cannot be armed"
                    .into(),
            );
        }
        if typed.trim() != want.trim() {
            return Err(format!("that is not the arm phrase (type: {want})"));
        }
        let calls = then.clone();
        self.armed = true;
        self.log(now, self.cur, Body::Armed { auto });
        self.phase = Phase::Confirm { calls };
        Ok(())
    }

    /// Yes/no to a step's changes. No to an optional step skips it; no to any
    /// other step aborts the run (nothing is done that was not confirmed).
    pub fn confirm(&mut self, now: EpochMs, yes: bool, auto: bool) {
        let Some(i) = self.cur else { return };
        let Phase::Confirm { calls } = std::mem::replace(&mut self.phase, Phase::Start) else {
            return;
        };
        let changes: Vec<String> = calls.iter().map(|c| c.describe()).collect();
        self.log(
            now,
            Some(i),
            Body::Confirmation {
                yes,
                auto,
                changes: changes.clone(),
            },
        );
        if yes {
            self.phase = Phase::Calls {
                queue: calls.into(),
                outputs: vec![],
                logged: false,
            };
        } else if self.rb.steps[i].common().optional || self.cleanup.is_some() {
            // An optional step, or a cleanup step (the run is already
            // aborting): declined means skipped, and the run goes on.
            self.end_step(i, now, StepState::Skipped, None, None);
        } else {
            self.begin_abort(
                now,
                Outcome::Aborted,
                format!("operator declined step {}", self.rb.steps[i].id),
            );
        }
    }

    /// Answer the open checkpoint (or the stop-condition pause).
    pub fn answer(
        &mut self,
        now: EpochMs,
        choice: &str,
        note: &str,
        approved_by: &[String],
        auto: bool,
    ) -> Result<(), String> {
        let ask = match &self.phase {
            Phase::Checkpoint(a) => a.clone(),
            Phase::StopPaused { ask, .. } => ask.clone(),
            _ => return Err("no checkpoint is open".into()),
        };
        if !ask.choices.iter().any(|c| c == choice) {
            return Err(format!(
                "{choice:?} is not one of {}",
                ask.choices.join(", ")
            ));
        }
        if ask.require_note && note.trim().is_empty() && !auto {
            return Err("this checkpoint needs a note".into());
        }
        if ask.approvers > 0 && !auto && choice != "abort" {
            // Approvals count people: a name given twice is refused, not counted twice.
            let distinct = super::approvals::check_distinct(approved_by)?;
            if (ask.approvers as usize) > distinct {
                return Err(format!(
                    "needs {} named approval{} from distinct people (got {distinct})",
                    ask.approvers,
                    if ask.approvers == 1 { "" } else { "s" },
                ));
            }
        }
        let step = self.cur;
        self.log(
            now,
            step,
            Body::CheckpointResponse(super::events::CheckpointResponse {
                choice: choice.to_string(),
                note: note.to_string(),
                approved_by: approved_by.to_vec(),
                auto,
                prose: ask.prose,
            }),
        );
        if !note.trim().is_empty() {
            self.log(
                now,
                step,
                Body::Note {
                    text: note.to_string(),
                },
            );
        }
        if let Phase::StopPaused { resume, .. } = std::mem::replace(&mut self.phase, Phase::Start) {
            if choice == "abort" {
                self.begin_abort(
                    now,
                    Outcome::Aborted,
                    "operator aborted on a stop condition".into(),
                );
            } else {
                self.phase = *resume;
            }
            return Ok(());
        }
        let Some(i) = step else { return Ok(()) };
        match choice {
            "continue" => self.end_step(i, now, StepState::Done, Some(Flow::Continue), None),
            "end" => {
                self.end_step(i, now, StepState::Done, None, None);
                if self.cleanup.is_none() {
                    self.cur = None;
                    self.ending = Some((Outcome::Completed, None));
                }
            }
            "abort" => {
                self.states[i] = StepState::Done;
                self.log(
                    now,
                    Some(i),
                    Body::StepEnd {
                        state: StepState::Done,
                        next: None,
                        interrupted: None,
                    },
                );
                self.begin_abort(
                    now,
                    Outcome::Aborted,
                    format!("operator chose abort at {}", self.rb.steps[i].id),
                );
            }
            goto => {
                let flow = Flow::parse(goto)?;
                self.end_step(i, now, StepState::Done, Some(flow), None);
            }
        }
        Ok(())
    }

    /// A free note from the operator, at any time.
    pub fn note(&mut self, now: EpochMs, text: &str) {
        if !text.trim().is_empty() {
            self.log(
                now,
                self.cur,
                Body::Note {
                    text: text.to_string(),
                },
            );
        }
    }

    /// The operator aborts the run (cleanup runs).
    pub fn operator_abort(&mut self, now: EpochMs, reason: &str) {
        if self.finished.is_none() {
            self.begin_abort(now, Outcome::Aborted, format!("operator: {reason}"));
        }
    }
}

fn state_word(s: StepState) -> &'static str {
    match s {
        StepState::Failed => "failed",
        StepState::TimedOut => "timed out",
        _ => "ended",
    }
}

/// Ids of running tasks of a service in an AZ.
fn tasks_in_az(snap: &FleetSnapshot, r: &ServiceRef, az: &str) -> Vec<String> {
    cond::find_service(snap, r)
        .map(|s| {
            s.tasks
                .iter()
                .filter(|t| {
                    !t.is_stopped()
                        && t.desired_status != "STOPPED"
                        && t.availability_zone.as_deref() == Some(az)
                })
                .map(|t| t.id.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// What `op = "snapshot"` saves: the service, its PRIMARY deployment, its
/// scalable target (absent when none) and a task summary.
pub fn snapshot_save(snap: &FleetSnapshot, r: &ServiceRef) -> Result<Value, String> {
    let s = cond::find_service(snap, r)
        .ok_or_else(|| format!("service {}/{} not found", r.cluster, r.service))?;
    let view = cond::service_view(s);
    let primary = s.primary_deployment().map(|d| {
        json!({"id": d.id, "taskDefinition": d.task_definition,
               "status": d.status.as_str(),
               "rolloutState": d.rollout_state.map(|x| x.as_str())})
    });
    let mut by_az: BTreeMap<String, usize> = BTreeMap::new();
    for t in s.running_tasks() {
        *by_az
            .entry(
                t.availability_zone
                    .clone()
                    .unwrap_or_else(|| "unknown".into()),
            )
            .or_default() += 1;
    }
    let mut out = json!({
        "service": view,
        "primary": primary,
        "deployment": primary,
        "tasks": {"running": s.running_tasks().count(), "distinct_az": by_az.len(), "by_az": by_az},
    });
    if let Some(st) = snap.scalable_target(s) {
        out["scalable"] = json!({"ResourceId": st.resource_id, "MinCapacity": st.min_capacity, "MaxCapacity": st.max_capacity});
    }
    Ok(out)
}

/// Lines describing how task definition `a` differs from `b`: image, cpu,
/// memory, environment names, secrets.
pub fn td_diff(snap: &FleetSnapshot, a: &str, b: &str, saves: &Map<String, Value>) -> Vec<String> {
    let find = |arn: &str| {
        snap.task_definitions
            .values()
            .find(|t| t.arn == arn || t.family_revision() == short_task_definition(arn))
            .cloned()
    };
    let (Some(ta), Some(tb)) = (find(a), find(b)) else {
        // Fall back on what resolve_revision saved.
        let imgs: Vec<String> = saves
            .values()
            .filter_map(|v| v.get("images"))
            .map(|v| v.to_string())
            .collect();
        return vec![format!(
            "{} → {} (definitions not both loaded{})",
            short_task_definition(a),
            short_task_definition(b),
            if imgs.is_empty() {
                String::new()
            } else {
                format!("; images {}", imgs.join(", "))
            }
        )];
    };
    let mut out = vec![format!(
        "{} → {}",
        ta.family_revision(),
        tb.family_revision()
    )];
    let line = |out: &mut Vec<String>, what: &str, x: String, y: String| {
        if x != y {
            out.push(format!("  {what}: {x} → {y}"));
        }
    };
    line(
        &mut out,
        "cpu",
        ta.cpu.clone().unwrap_or_default(),
        tb.cpu.clone().unwrap_or_default(),
    );
    line(
        &mut out,
        "memory",
        ta.memory.clone().unwrap_or_default(),
        tb.memory.clone().unwrap_or_default(),
    );
    for ca in &ta.container_definitions {
        let cb = tb.container_definitions.iter().find(|c| c.name == ca.name);
        match cb {
            None => out.push(format!("  container {} removed", ca.name)),
            Some(cb) => {
                line(
                    &mut out,
                    &format!("{} image", ca.name),
                    ca.image.clone(),
                    cb.image.clone(),
                );
                let names = |c: &crate::model::ContainerDefinition| {
                    c.environment
                        .iter()
                        .map(|e| format!("{}={}", e.name, e.value))
                        .collect::<BTreeSet<_>>()
                };
                let (ea, eb) = (names(ca), names(cb));
                for x in ea.difference(&eb) {
                    out.push(format!("  {} env - {x}", ca.name));
                }
                for x in eb.difference(&ea) {
                    out.push(format!("  {} env + {x}", ca.name));
                }
                let secrets = |c: &crate::model::ContainerDefinition| {
                    c.secrets
                        .iter()
                        .map(|s| s.name.clone())
                        .collect::<BTreeSet<_>>()
                };
                let (sa, sb) = (secrets(ca), secrets(cb));
                for x in sa.difference(&sb) {
                    out.push(format!("  {} secret - {x}", ca.name));
                }
                for x in sb.difference(&sa) {
                    out.push(format!("  {} secret + {x}", ca.name));
                }
            }
        }
    }
    for cb in &tb.container_definitions {
        if !ta.container_definitions.iter().any(|c| c.name == cb.name) {
            out.push(format!("  container {} added", cb.name));
        }
    }
    if out.len() == 1 {
        out.push("  (no difference in images, cpu, memory, environment or secrets)".into());
    }
    out
}

impl vars::Scope for Map<String, Value> {
    fn lookup(&self, name: &str) -> Option<Value> {
        vars::lookup_json(&Value::Object(self.clone()), name)
    }
}
