//! After a step: its results, where next, abort and cleanup, the end of the run.

use super::*;

pub(super) fn state_word(s: StepState) -> &'static str {
    match s {
        StepState::Failed => "failed",
        StepState::TimedOut => "timed out",
        _ => "ended",
    }
}

impl Runner {
    pub(super) fn after_calls(&mut self, i: usize, now: EpochMs, outputs: Vec<CallOutput>) {
        self.after_calls_inner(i, now, outputs, true, true, false);
    }

    /// What a step's calls leave behind (a save, a sustained impairment),
    /// then the step's end. On resume (`rebuilt`), only the effects the
    /// journal lacks are made (`save`, `sustain`).
    pub(super) fn after_calls_inner(
        &mut self,
        i: usize,
        now: EpochMs,
        outputs: Vec<CallOutput>,
        save: bool,
        sustain: bool,
        rebuilt: bool,
    ) {
        let step = self.rb.steps[i].clone();
        if !rebuilt
            && let Block::Action(a) = &step.block
            && let Some(u) = &a.until
            && !self.read_holds(i, now, u, &outputs)
        {
            return;
        }
        if let Block::Action(a) = &step.block {
            // Any action's answer can be saved (`snapshot` saves its own):
            // one call's detail, or the list of them.
            if save
                && !a.op.is(snapshot::OP)
                && let Some(name) = &a.save_as
            {
                let v = match outputs.as_slice() {
                    [one] => one.detail.clone(),
                    many => Value::Array(many.iter().map(|o| o.detail.clone()).collect()),
                };
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
                && a.op.is(stop_tasks::OP)
                && let (Some(sus), Some(az)) = (a.fields.str("sustain"), a.fields.str("az"))
            {
                let until = self
                    .interp(sus)
                    .ok()
                    .and_then(|s| dur_ms(&s).ok())
                    .unwrap_or(0);
                let interval = a
                    .fields
                    .str("sweep_interval")
                    .and_then(|s| self.interp(s).ok())
                    .and_then(|s| dur_ms(&s).ok())
                    .unwrap_or(20_000)
                    .max(1000);
                // An FIS experiment that cuts the AZ's network keeps it
                // impaired: no sweeps then (stop-task alone does not).
                let first = outputs.first().map(|o| &o.detail);
                let experiment = first
                    .and_then(|d| d["experimentId"].as_str())
                    .map(str::to_string);
                let cut = first.is_some_and(|d| d["disruptConnectivity"] == true);
                // Under FIS its status is followed every 30 s (or each sweep).
                let interval = if cut { 30_000 } else { interval };
                let next = now + interval;
                let s = Sustain {
                    step: step.id.clone(),
                    target: Target::from_ref(&self.action_ref(a)),
                    az: self.interp(az).unwrap_or_default(),
                    reason: self
                        .interp(a.fields.str("reason").unwrap_or("ecsdeck runbook"))
                        .unwrap_or_default(),
                    until: now + until,
                    interval,
                    next,
                    experiment,
                    cut,
                };
                let detail = crate::runbook::events::SustainStart {
                    step: s.step.clone(),
                    target: s.target.clone(),
                    az: s.az.clone(),
                    reason: s.reason.clone(),
                    until: s.until,
                    interval: s.interval,
                    next: s.next,
                    experiment: s.experiment.clone(),
                    cut: s.cut,
                    rebuilt: rebuilt.then_some(true),
                };
                self.log(now, Some(i), Body::SustainStart(detail));
                self.sustains.push(s);
            }
        }
        self.end_step(i, now, StepState::Done, None, None);
    }

    /// An action's `until` over its answer. Not holding: read again after
    /// `interval`, or time out (and then `on_timeout`); in a dry run after
    /// a planned change, waiting proves nothing: it ends as a dry run.
    fn read_holds(
        &mut self,
        i: usize,
        now: EpochMs,
        u: &crate::runbook::Filter,
        outputs: &[CallOutput],
    ) -> bool {
        let answer = match outputs {
            [one] => one.detail.clone(),
            many => Value::Array(many.iter().map(|o| o.detail.clone()).collect()),
        };
        let want = match u.value.as_ref().map(|v| resolve_value(v, &self.scope())) {
            Some(Err(e)) => {
                self.fail_step(i, now, format!("until: {e}"));
                return false;
            }
            Some(Ok(v)) => Some(v),
            None => None,
        };
        let got = cond::select_path(&answer, &u.select)
            .into_iter()
            .next()
            .cloned();
        let ok = cond::compare(got.as_ref(), &u.op, want.as_ref());
        let text = format!(
            "{} = {} (want {} {})",
            u.select,
            got.as_ref().map_or("(none)".into(), display),
            u.op,
            want.as_ref().map(display).unwrap_or_default()
        );
        self.log(
            now,
            Some(i),
            Body::Poll {
                ok,
                conditions: vec![text.clone()],
            },
        );
        if ok {
            return true;
        }
        let Some(mut rl) = self.read_loop else {
            return true;
        };
        if self.dry_run()
            && self
                .journal
                .events
                .iter()
                .any(|e| matches!(e.body, Body::DryRun(_)))
        {
            let detail = crate::runbook::events::DryRun {
                calls: None,
                changes: None,
                ok: Some(false),
                conditions: Some(vec![text]),
                would_wait: Some(fmt_dur(rl.timeout_at - rl.started)),
            };
            self.log(now, Some(i), Body::DryRun(detail));
            self.end_step(i, now, StepState::DryRun, None, None);
            return false;
        }
        if now >= rl.timeout_at {
            // The last answer is kept: what it said when the wait ended.
            if let Block::Action(a) = &self.rb.steps[i].block
                && let Some(name) = a.save_as.clone()
            {
                self.log(
                    now,
                    Some(i),
                    Body::Save {
                        name: name.clone(),
                        value: answer.clone(),
                    },
                );
                self.saves.insert(name, answer);
            }
            let flow = self.rb.steps[i]
                .common()
                .on_timeout
                .clone()
                .unwrap_or(Flow::Abort);
            self.log(
                now,
                Some(i),
                Body::Timeout {
                    after_ms: now - rl.started,
                    then: json!(flow),
                },
            );
            self.end_step(i, now, StepState::TimedOut, Some(flow), None);
            return false;
        }
        rl.last = now;
        self.read_loop = Some(rl);
        self.phase = Phase::ReadAgain {
            at: (now + rl.interval).min(rl.timeout_at),
        };
        false
    }

    pub(super) fn fail_step(&mut self, i: usize, now: EpochMs, error: String) {
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
    pub(super) fn end_step(
        &mut self,
        i: usize,
        now: EpochMs,
        state: StepState,
        flow: Option<Flow>,
        mark_at: Option<EpochMs>,
    ) {
        self.states[i] = state;
        self.phase = Phase::Start;
        self.read_loop = None;
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
    pub(super) fn begin_abort(&mut self, now: EpochMs, outcome: Outcome, reason: String) {
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

    /// Where traffic is served at the end (`[timeline] serving_region`, else
    /// `serving_region_before`; a dry run switches nothing).
    fn serving_region(&self) -> Option<String> {
        let tl = &self.rb.meta.timeline;
        let fill = |t: &Option<String>| {
            t.as_deref()
                .and_then(|t| self.interp(t).ok())
                .filter(|s| !s.trim().is_empty())
        };
        let after = if self.cfg.write {
            tl.serving_region
                .iter()
                .find_map(|t| fill(&Some(t.clone())))
        } else {
            None
        };
        after.or_else(|| fill(&tl.serving_region_before))
    }

    /// The RPO (`[timeline] rpo_seconds`), its target and note. Only a
    /// run that made its changes has one: a dry run promoted nothing.
    fn rpo(&self) -> (Option<f64>, Option<f64>, Option<String>) {
        let tl = &self.rb.meta.timeline;
        let target = tl
            .rpo_target
            .as_deref()
            .and_then(|t| self.interp(t).ok())
            .and_then(|t| dur_ms(&t).ok())
            .map(|ms| ms as f64 / 1000.0);
        if tl.rpo_seconds.is_none() {
            return (None, target, None);
        }
        if !self.cfg.write {
            return (None, target, Some("dry run: nothing was promoted".into()));
        }
        let fill = |t: &Option<String>| {
            t.as_deref()
                .and_then(|t| self.interp(t).ok())
                .filter(|s| !s.trim().is_empty() && s != "null")
        };
        let rpo = fill(&tl.rpo_seconds).and_then(|s| s.trim().parse::<f64>().ok());
        let note = fill(&tl.rpo_note).or_else(|| {
            rpo.is_none()
                .then(|| "not measured: no data tier was read (global_cluster, db_replica)".into())
        });
        (rpo, target, note)
    }

    pub(super) fn finish(
        &mut self,
        now: EpochMs,
        mut outcome: Outcome,
        mut reason: Option<String>,
    ) {
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
        // No verdict without a finish: an aborted or failed drill neither
        // passes nor fails its target, whatever was measured before it stopped.
        let rto_met = match (rto, target, outcome) {
            (Some(r), Some(t), Outcome::Completed) => Some(r <= t),
            _ => None,
        };
        let serving_region = self.serving_region();
        let (rpo, rpo_target, rpo_note) = self.rpo();
        let rpo_met = match (rpo, rpo_target, outcome) {
            (Some(r), Some(t), Outcome::Completed) => Some(r <= t),
            _ => None,
        };
        self.log(
            now,
            None,
            Body::RunEnd(crate::runbook::events::RunEnd {
                outcome,
                reason: reason.clone(),
                rto_seconds: rto,
                ttd_seconds: ttd,
                rto_target_seconds: target,
                rto_met,
                serving_region: serving_region.clone(),
                rpo_seconds: rpo,
                rpo_target_seconds: rpo_target,
                rpo_met,
                rpo_note,
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
            serving_region,
            rpo_seconds: rpo,
            rpo_target_seconds: rpo_target,
            rpo_met,
        };
        if let Some(d) = &self.run_dir {
            let md = crate::runbook::report::render(&self.rb, &self.journal.events);
            if let Err(e) = std::fs::write(d.join("report.md"), md) {
                tracing::error!("report write failed: {e}");
            }
        }
        self.finished = Some(summary);
    }
}
