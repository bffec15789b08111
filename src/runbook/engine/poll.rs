//! Driving: [`Runner::poll`] and the transitions of one step.

use super::*;

impl Runner {
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
    pub(super) fn step_once(&mut self, now: EpochMs, snap: &FleetSnapshot) -> Option<Need> {
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
            phase @ Phase::Verify { .. } => self.verify_tick(i, now, snap, phase),
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
            } => self.calls_tick(i, now, queue, outputs, logged),
            Phase::ReadAgain { at } => {
                if now >= at {
                    if let Block::Action(a) = &self.rb.steps[i].block {
                        let a = a.clone();
                        self.action_step(i, now, snap, &a);
                    }
                    None
                } else {
                    self.phase = Phase::ReadAgain { at };
                    Some(Need::Wait {
                        until: self.wake_time(at),
                    })
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

    /// A verify step's tick: poll when due, hold, time out, or wait.
    fn verify_tick(
        &mut self,
        i: usize,
        now: EpochMs,
        snap: &FleetSnapshot,
        phase: Phase,
    ) -> Option<Need> {
        let Phase::Verify {
            started,
            next_poll,
            timeout_at,
            interval,
            hold,
            mut true_since,
        } = phase
        else {
            self.phase = phase;
            return None;
        };
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
            let fatal: Vec<String> = results
                .iter()
                .filter(|r| r.fatal)
                .map(|r| r.text.clone())
                .collect();
            self.last_results = results;
            self.log(now, Some(i), Body::Poll { ok, conditions });
            if !fatal.is_empty() {
                // It can never hold: fail now, not at the timeout.
                self.fail_step(i, now, fatal.join("; "));
                return None;
            }
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

    /// A step's calls: hand out the next one (journaled first), or finish
    /// the step when all are made.
    fn calls_tick(
        &mut self,
        i: usize,
        now: EpochMs,
        queue: VecDeque<PlannedCall>,
        outputs: Vec<CallOutput>,
        logged: bool,
    ) -> Option<Need> {
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

    /// The next time something is due: `t`, the next stop-condition poll, the next sweep.
    pub(super) fn wake_time(&self, t: EpochMs) -> EpochMs {
        let mut w = t;
        if self.cleanup.is_none() && !self.rb.meta.stop_conditions.is_empty() {
            w = w.min(self.stop_next);
        }
        for s in &self.sustains {
            w = w.min(s.next.min(s.until));
        }
        w
    }

    pub(super) fn arm_phrase(&self) -> Option<String> {
        self.rb
            .meta
            .safety
            .arm_phrase
            .as_deref()
            .map(|p| self.interp(p).unwrap_or_else(|_| p.to_string()))
    }
}
