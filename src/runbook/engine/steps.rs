//! Beginning a step: `when`, verify, checkpoint, action.

use super::*;

impl Runner {
    pub(super) fn evaluate_verify(
        &self,
        i: usize,
        snap: &FleetSnapshot,
        since: EpochMs,
    ) -> Vec<CondResult> {
        let Block::Verify(v) = &self.rb.steps[i].block else {
            return vec![];
        };
        let scope = self.scope();
        let dr = self.default_ref();
        let impairments: Vec<Value> = self
            .sustains
            .iter()
            .map(|s| json!({"step": s.step, "az": s.az, "until": s.until}))
            .collect();
        let cx = EvalCtx {
            snap,
            default_ref: &dr,
            scope: &scope,
            since,
            impairments: &impairments,
        };
        v.all.iter().map(|c| cond::evaluate(c, &cx)).collect()
    }

    pub(super) fn when_holds(&self, i: usize) -> Result<bool, String> {
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

    pub(super) fn begin_step(&mut self, i: usize, now: EpochMs, snap: &FleetSnapshot) {
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
                // A step that does not apply keeps the chain: its `next`
                // still follows (a service without a scalable target must
                // still get its desired count restored).
                let flow = step.common().next.clone().map(Flow::Goto);
                self.end_step(i, now, StepState::Skipped, flow, None);
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
            Block::Checkpoint(cp) => self.begin_checkpoint(i, now, snap, &step.id, cp),
            Block::Verify(v) => self.begin_verify(i, now, snap, v),
            Block::Action(a) if a.op.is(snapshot::OP) => self.snapshot_step(i, now, snap, a),
            Block::Action(a) if a.op.is(sustain_release::OP) => self.release_step(i, now, a),
            Block::Action(a) => self.action_step(i, now, snap, a),
        }
    }

    /// A checkpoint: its prompt, choices, approvers and diff.
    fn begin_checkpoint(
        &mut self,
        i: usize,
        now: EpochMs,
        snap: &FleetSnapshot,
        id: &str,
        cp: &crate::runbook::Checkpoint,
    ) {
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
            step: id.to_string(),
            prompt,
            choices: cp.choices.clone(),
            require_note: cp.require_note,
            approvers,
            prose: false,
            diff,
        });
    }

    /// A verify block: poll until its conditions hold (once, in a dry run
    /// after a planned change).
    fn begin_verify(
        &mut self,
        i: usize,
        now: EpochMs,
        snap: &FleetSnapshot,
        v: &crate::runbook::Verify,
    ) {
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
            let detail = crate::runbook::events::DryRun {
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

    /// `snapshot`: save the service's state now.
    fn snapshot_step(
        &mut self,
        i: usize,
        now: EpochMs,
        snap: &FleetSnapshot,
        a: &crate::runbook::Action,
    ) {
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
    }

    /// `sustain.release`: end a step's sweeps and release its AZ.
    fn release_step(&mut self, i: usize, now: EpochMs, a: &crate::runbook::Action) {
        let target = a.fields.str("step").unwrap_or_default().to_string();
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
            .map(|s| sustain_release::release(s.target.clone(), s.az.clone(), s.experiment.clone()))
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
    }

    /// Any other action: plan its calls, then dry run, arm, confirm or call.
    pub(super) fn action_step(
        &mut self,
        i: usize,
        now: EpochMs,
        snap: &FleetSnapshot,
        a: &crate::runbook::Action,
    ) {
        if a.until.is_some() && self.read_loop.is_none() {
            let ms = |s: &Option<String>, d: i64| -> Result<i64, String> {
                s.as_deref().map_or(Ok(d), |s| dur_ms(&self.interp(s)?))
            };
            match (
                ms(&a.interval, DEFAULT_INTERVAL_MS),
                ms(&a.common.timeout, DEFAULT_TIMEOUT_MS),
            ) {
                (Ok(interval), Ok(timeout)) => {
                    self.read_loop = Some(ReadLoop {
                        started: now,
                        timeout_at: now + timeout,
                        interval: interval.max(1000),
                        last: now,
                    });
                }
                (Err(e), _) | (_, Err(e)) => {
                    self.fail_step(i, now, e);
                    return;
                }
            }
        }
        let calls = match self.plan_action(a, snap) {
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
                Body::DryRun(crate::runbook::events::DryRun {
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
