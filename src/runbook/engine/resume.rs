//! `--resume`: rebuild a run's state from its journal.

use super::*;

impl Runner {
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
    pub(super) fn rebuild_after_resume(&mut self, now: EpochMs) {
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
                answers::release_of(Some(c))
                    .is_some_and(|(target, az)| target == s.target && az == s.az)
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
                sustain_release::release(s.target.clone(), s.az.clone(), s.experiment.clone()),
            ));
        }
    }

    /// A release call succeeded: the impairment it ends is no longer in force.
    pub(super) fn mark_released(&mut self, target: &Target, az: &str) {
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
    pub(super) fn impairments_in_force(&self) -> Vec<String> {
        self.sustains
            .iter()
            .chain(&self.unreleased)
            .map(|s| format!("{} of {} (step {})", s.az, s.target.label(), s.step))
            .collect()
    }

    /// Rebuild state from journal events: saves, markers, arming, step
    /// states, sustained impairments (started, ended, released), the abort and
    /// its cleanup queue, and where to continue.
    pub(super) fn replay(&mut self, events: &[Event]) {
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
                && let Some((target, az)) = answers::release_of(c.call.as_ref())
            {
                self.mark_released(&target, &az);
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
                        experiment: s.experiment.clone(),
                        cut: s.cut,
                    };
                    sustained |= started.is_some()
                        && self.rb.step_index(&s.step) == started
                        && step_idx == started;
                    self.sustains.retain(|x| x.step != s.step);
                    self.sustains.push(s);
                }
                _ => self.replay_run_event(e),
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
        // A read repeated until its answer holds starts again: its last
        // answer may not have held, and reading again changes nothing.
        let read_loop = started.is_some_and(
            |i| matches!(&self.rb.steps[i].block, Block::Action(a) if a.until.is_some()),
        );
        self.cur = match (started, next_after) {
            (Some(i), _) if read_loop => Some(i),
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

    /// [`Runner::replay`]: the events about the run as a whole (sustains
    /// ending, an abort and its cleanup, stop conditions hit).
    fn replay_run_event(&mut self, e: &Event) {
        match &e.body {
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
}
