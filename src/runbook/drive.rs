//! Headless driving: a [`Backend`] (the simulator in virtual time, or AWS in
//! real time) and a loop that answers the runner from an answers file or
//! `--yes`.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::engine::{CallOutput, Need, PlannedCall, Runner, Summary};
use crate::actions::resolve_revision::ResolveRevisionCall;
use crate::actions::sustain_release::ReleaseAz;
pub use crate::calls::Backend;
use crate::model::{EpochMs, FleetSnapshot};
use crate::source::sim::Simulator;
pub use crate::source::sim::apply_to_sim;
use serde::Deserialize;

/// The simulator as a backend: time is virtual, so a 15-minute GameDay takes
/// as long as simulating it does.
pub struct SimDriver {
    pub sim: Simulator,
    cached: Option<(EpochMs, Arc<FleetSnapshot>)>,
    calls: u64,
}

impl SimDriver {
    pub fn new(sim: Simulator) -> SimDriver {
        SimDriver {
            sim,
            cached: None,
            calls: 0,
        }
    }
}

impl SimDriver {
    /// Rebuild the simulator's state for `--resume`: replay the run's
    /// successful calls at the simulated times they were made (the simulator is
    /// deterministic, so this is the state the run left), then catch up to the
    /// last journaled time.
    pub fn replay(&mut self, events: &[super::journal::Event]) -> Result<(), String> {
        let start = self.sim.now() - self.sim.elapsed_ms();
        for e in events {
            if let super::events::Body::ApiCall(c) = &e.body
                && c.succeeded()
            {
                let call = c
                    .call
                    .clone()
                    .ok_or_else(|| format!("journal seq {}: an answer without its call", e.seq))?;
                self.sim.run_until(e.ts - start);
                if !call.is::<ResolveRevisionCall>() {
                    self.call(&call)?;
                }
            }
        }
        if let Some(last) = events.last() {
            self.sim.run_until(last.ts - start);
        }
        let _ = self.sim.take_logs();
        self.cached = None;
        Ok(())
    }
}

impl Backend for SimDriver {
    fn now(&self) -> EpochMs {
        self.sim.now()
    }

    fn snapshot(&mut self) -> Arc<FleetSnapshot> {
        let now = self.sim.now();
        match &self.cached {
            Some((t, s)) if *t == now => s.clone(),
            _ => {
                let s = Arc::new(self.sim.snapshot());
                self.cached = Some((now, s.clone()));
                s
            }
        }
    }

    fn advance_to(&mut self, t: EpochMs) {
        let now = self.sim.now();
        // At least one tick, so that a wait always moves the clock.
        self.sim.step((t - now).max(1000));
        let _ = self.sim.take_logs();
    }

    fn call(&mut self, c: &PlannedCall) -> Result<CallOutput, String> {
        self.calls += 1;
        self.cached = None;
        let mut out = apply_to_sim(&mut self.sim, c)?;
        if c.mutates() || c.is::<ReleaseAz>() {
            out.request_ids = vec![format!("sim-{:08x}", self.calls)];
        }
        Ok(out)
    }
}

/// Checkpoint answers by step id (`--answers FILE`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    /// The arm phrase, typed.
    pub arm_phrase: Option<String>,
    /// Operator name recorded in the journal.
    pub operator: Option<String>,
    #[serde(default)]
    pub steps: BTreeMap<String, StepAnswer>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepAnswer {
    pub choice: Option<String>,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub approved_by: Vec<String>,
    /// Confirmation of a mutating step (default: not confirmed).
    pub confirm: Option<bool>,
}

impl Answers {
    pub fn parse(text: &str, file: &str) -> Result<Answers, String> {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(0);
            format!("{file}:{line}: {}", e.message())
        })
    }
}

/// Drive `runner` to the end. `on_event` sees every new journal event (for
/// progress output). Errors: a checkpoint with no answer and no `--yes`.
pub fn run_headless(
    runner: &mut Runner,
    backend: &mut dyn Backend,
    answers: &Answers,
    yes: bool,
    on_event: &mut dyn FnMut(&super::journal::Event),
) -> Result<Summary, String> {
    let mut seen = runner.journal.events.len();
    let mut flush = |runner: &Runner, seen: &mut usize| {
        for e in &runner.journal.events[*seen..] {
            on_event(e);
        }
        *seen = runner.journal.events.len();
    };
    let mut last_failed: Option<String> = None;
    loop {
        let snap = backend.snapshot();
        let now = backend.now();
        let need = runner.poll(now, &snap);
        flush(runner, &mut seen);
        if let Some(e) = runner.journal_error() {
            // One line naming the file and the OS error; nothing more is sent.
            return Err(e.to_string());
        }
        match need {
            Need::Finished(s) => return Ok(s),
            Need::Wait { until } => backend.advance_to(until),
            Need::Call(c) => {
                let res = backend.call(&c);
                runner.call_done(backend.now(), res);
            }
            Need::Arm { phrase } => {
                let (typed, auto) = match (&answers.arm_phrase, yes) {
                    (Some(p), _) => (p.clone(), false),
                    (None, true) => (phrase.clone(), true),
                    (None, false) => {
                        runner.operator_abort(
                            now,
                            "no arm phrase given (answers file `arm_phrase`, or --yes)",
                        );
                        continue;
                    }
                };
                if let Err(e) = runner.arm(now, &typed, auto) {
                    runner.operator_abort(now, &e);
                }
            }
            Need::Confirm { step, .. } => {
                let a = answers.steps.get(&step).and_then(|a| a.confirm);
                match (a, yes) {
                    (Some(c), _) => runner.confirm(now, c, false),
                    (None, true) => runner.confirm(now, true, true),
                    // Not confirmed is not done. During cleanup the step is
                    // skipped; otherwise the run stops and says what to add.
                    (None, false) if runner.is_cleaning_up() => runner.confirm(now, false, false),
                    (None, false) => runner.operator_abort(
                        now,
                        &format!(
                            "step {step:?} needs a confirmation: add [steps.{step}] confirm = true to the answers file, or pass --yes"
                        ),
                    ),
                }
            }
            Need::Checkpoint(ask) => {
                let a = answers.steps.get(&ask.step);
                let res = match (a.and_then(|a| a.choice.clone()), yes, ask.prose) {
                    (Some(choice), _, _) => {
                        let a = a.cloned().unwrap_or_default();
                        runner.answer(now, &choice, &a.note, &a.approved_by, false)
                    }
                    (None, true, _) | (None, _, true) => {
                        let note = a.map(|a| a.note.clone()).unwrap_or_default();
                        let auto = !ask.prose;
                        runner.answer(now, &ask.choices[0], &note, &[], auto)
                    }
                    (None, false, false) => Err(format!(
                        "checkpoint {:?} has no answer: add [steps.{}] choice = \"…\" to the answers file, or pass --yes",
                        ask.step, ask.step
                    )),
                };
                if let Err(e) = res {
                    if last_failed.as_deref() == Some(ask.step.as_str()) {
                        // Already aborting and asked again (a cleanup checkpoint):
                        // take the first choice so that cleanup completes.
                        runner
                            .answer(now, &ask.choices[0], "", &[], true)
                            .map_err(|e| format!("checkpoint {}: {e}", ask.step))?;
                    } else {
                        runner.operator_abort(now, &format!("checkpoint {}: {e}", ask.step));
                        last_failed = Some(ask.step.clone());
                    }
                }
            }
        }
    }
}
