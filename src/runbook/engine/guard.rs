//! The run's start and its guards: preconditions, stop conditions, sustained impairments.

use super::*;

impl Runner {
    pub(super) fn start_run(&mut self, now: EpochMs, snap: &FleetSnapshot) -> Option<Need> {
        let detail = crate::runbook::events::RunStart {
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
    pub(super) fn preconditions(
        &mut self,
        now: EpochMs,
        snap: &FleetSnapshot,
    ) -> Result<(), String> {
        let safety = self.rb.meta.safety.clone();
        // Guardrails that cannot be read are no guardrails: a GameDay does not
        // start without them; other runbooks (an incident's rollback must go
        // on) start with a warning in the journal.
        let alarms_readable = snap.source.kind != "aws"
            || snap.freshness.iter().any(|(k, f)| {
                k.kind == crate::model::DataKind::Cloudwatch && f.updated_at.is_some()
            });
        if !self.rb.meta.stop_conditions.is_empty() && !alarms_readable {
            // Say why: a read that failed is not a source without alarms.
            let why = snap
                .freshness
                .iter()
                .filter(|(k, _)| k.kind == crate::model::DataKind::Cloudwatch)
                .find_map(|(_, f)| f.error.clone());
            let msg = match why {
                Some(e) => format!(
                    "its stop conditions cannot be checked: CloudWatch alarms could not be read ({e})"
                ),
                None => "its stop conditions cannot be checked: this source does not read CloudWatch alarms".to_string(),
            };
            let msg = msg.as_str();
            if self.rb.meta.kind == crate::runbook::Kind::Gameday {
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
        // Twins: a name that several places hold is never resolved to the
        // first of them; the run does not start until it names one.
        if !r.service.is_empty()
            && let Err(e) = crate::calls::lookup_service(snap, &r)
            && !e.ends_with("not found")
        {
            return Err(format!("refused: {e}"));
        }
        if self.rb.meta.kind == crate::runbook::Kind::Gameday && alarms_readable {
            self.guardrails_ready(snap)?;
        }
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

    /// Each stop condition's alarm name, region and account, interpolated;
    /// region and account default to the run's `region` / `account` params.
    fn stop_condition_places(&self) -> Vec<(String, Option<String>, Option<String>)> {
        let run = self.default_ref();
        let fill = |v: &Option<String>, dflt: &Option<String>| match v {
            Some(v) => Some(self.interp(v).unwrap_or_else(|_| v.clone())),
            None => dflt.clone(),
        };
        self.rb
            .meta
            .stop_conditions
            .iter()
            .flat_map(|c| {
                // One name, or several separated by commas (`${param.stop_alarms}`).
                let names = self.interp(&c.alarm).unwrap_or_else(|_| c.alarm.clone());
                let (region, account) =
                    (fill(&c.region, &run.region), fill(&c.account, &run.account));
                names
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .map(|n| (n.to_string(), region.clone(), account.clone()))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The stop condition alarm `name` of the run's place: the region and
    /// account given, else the service's (of twins' alarms of one name,
    /// never the other place's). `Err`: the place, for a message.
    fn stop_alarm<'s>(
        &self,
        snap: &'s FleetSnapshot,
        name: &str,
        region: &Option<String>,
        account: &Option<String>,
    ) -> Result<&'s crate::model::Alarm, String> {
        let run = self.default_ref();
        let r = ServiceRef {
            region: region.clone().or(run.region.clone()),
            account: account.clone().or(run.account.clone()),
            ..run
        };
        crate::calls::alarm_at(snap, name, &r)
    }

    /// A GameDay's guardrails must guard: each stop-condition alarm exists in
    /// the run's place and has data, as FIS requires of its stop conditions.
    fn guardrails_ready(&self, snap: &FleetSnapshot) -> Result<(), String> {
        let conds = self.stop_condition_places();
        if conds.is_empty() {
            return Ok(());
        }
        let hint = if self.params.contains_key("stop_alarms") {
            " (name the service's own alarms with --param stop_alarms=a,b)"
        } else {
            ""
        };
        for (name, region, account) in &conds {
            let a = self
                .stop_alarm(snap, name, region, account)
                .map_err(|place| {
                    format!(
                        "refused: stop condition alarm {name:?} does not exist in {place}: \
                     a GameDay does not run unguarded{hint}"
                    )
                })?;
            match a.state {
                AlarmState::InsufficientData => {
                    return Err(format!(
                        "refused: stop condition alarm {name:?} is INSUFFICIENT_DATA ({}): \
                         it could not stop the drill{hint}",
                        a.state_reason
                    ));
                }
                AlarmState::Alarm => {
                    return Err(format!(
                        "refused: stop condition alarm {name:?} is already in ALARM ({}): \
                         the steady state does not hold",
                        a.state_reason
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }

    pub(super) fn check_stop_conditions(&mut self, now: EpochMs, snap: &FleetSnapshot) {
        let policy = self.rb.meta.stop_policy.clone();
        let poll = dur_ms(&policy.poll).unwrap_or(15_000).max(1000);
        self.stop_next = now + poll;
        let since = self.stop_since;
        self.stop_since = now;
        let conds = self.stop_condition_places();
        for (name, region, account) in conds {
            // Of twins' alarms of one name, the one in the run's (or the
            // condition's) region and account.
            let Ok(a) = self.stop_alarm(snap, &name, &region, &account) else {
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
            let detail = crate::runbook::events::StopConditionHit {
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
    pub(super) fn end_sustain(&mut self, now: EpochMs, s: Sustain, why: &str) {
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
            sustain_release::release(s.target, s.az, s.experiment),
        ));
    }

    /// Hand the next side call (sweep, release) to the driver.
    pub(super) fn next_side_call(&mut self, now: EpochMs) -> Option<Need> {
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
    pub(super) fn due_sustains(&mut self, now: EpochMs, snap: &FleetSnapshot) -> Option<Need> {
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
                if let Some(x) = &s.experiment {
                    // Follow the experiment: FIS may stop it on a stop condition.
                    let call = PlannedCall::new(
                        s.target.clone(),
                        &crate::actions::fis::FisStatusCall {
                            experiment: x.clone(),
                        },
                    );
                    self.side_calls.push_back((s.step.clone(), call));
                }
                let ids = if s.cut {
                    vec![]
                } else {
                    tasks_in_az(snap, &s.target.as_ref(), &s.az)
                };
                if !ids.is_empty() {
                    let call = PlannedCall::new(
                        s.target.clone(),
                        &stop_tasks::StopTasksCall {
                            az: Some(s.az.clone()),
                            task_ids: ids,
                            reason: s.reason.clone(),
                            impair_ms: None,
                            fis: None,
                        },
                    );
                    let step = s.step.clone();
                    self.side_calls.push_back((step, call));
                }
            }
            i += 1;
        }
        self.next_side_call(now)
    }

    pub(super) fn release_all_sustains(&mut self, now: EpochMs) -> Option<Need> {
        if self.sustains.is_empty() && self.side_calls.is_empty() {
            return None;
        }
        for s in std::mem::take(&mut self.sustains) {
            self.end_sustain(now, s, "run ending");
        }
        self.next_side_call(now)
    }
}
