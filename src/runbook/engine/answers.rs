//! What the driver answers: call results, the arm phrase, confirmations, checkpoints, notes, aborts.

use super::*;

/// The target and AZ a `ReleaseAz` call releases.
pub(super) fn release_of(c: Option<&PlannedCall>) -> Option<(Target, String)> {
    let c = c?;
    c.args::<sustain_release::ReleaseAz>()
        .map(|r| (c.target.clone(), r.az))
}

impl Runner {
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
            let status = call
                .as_ref()
                .and_then(|c| c.args::<crate::actions::fis::FisStatusCall>());
            let after = ApiCall {
                error: Some(err),
                request_ids: Some(ids),
                sweep: Some(true),
                output: status
                    .as_ref()
                    .and(result.as_ref().ok())
                    .map(|o| o.detail.clone()),
                ..ApiCall::after(call.clone(), ok)
            };
            self.log_call(now, Some(&step), after, rid);
            if ok && let Some((target, az)) = release_of(call.as_ref()) {
                self.mark_released(&target, &az);
            }
            // The experiment ended on FIS's side (a stop condition, a
            // failure): the impairment is over; its release follows.
            if let (Some(st), Ok(out)) = (status, &result)
                && let Some(state) = out.detail["state"].as_str()
                && crate::actions::fis::ended(state)
                && let Some(k) = self
                    .sustains
                    .iter()
                    .position(|s| s.experiment.as_deref() == Some(st.experiment.as_str()))
            {
                let s = self.sustains.remove(k);
                let why = match out.detail["reason"].as_str() {
                    Some(r) => format!("FIS experiment {state}: {r}"),
                    None => format!("FIS experiment {state}"),
                };
                self.end_sustain(now, s, &why);
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
                if let Some((target, az)) = release_of(call.as_ref()) {
                    self.mark_released(&target, &az);
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
            let distinct = crate::runbook::approvals::check_distinct(approved_by)?;
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
            Body::CheckpointResponse(crate::runbook::events::CheckpointResponse {
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
                // During cleanup, "end" ends the cleanup too: the steps left
                // in it are not run (a scale-out aborted mid-incident keeps
                // its capacity).
                if let Some(q) = &mut self.cleanup
                    && !q.is_empty()
                {
                    let left: Vec<String> =
                        q.drain(..).map(|n| self.rb.steps[n].id.clone()).collect();
                    self.log(
                        now,
                        Some(i),
                        Body::Warning {
                            message: format!(
                                "cleanup ended at {}; not run: {}",
                                self.rb.steps[i].id,
                                left.join(", ")
                            ),
                        },
                    );
                }
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
