//! The service scheduler: rolling deployments within minimum/maximum
//! percent, the circuit breaker and rollback, completion and steady state.

use super::*;
use rand::RngCore;

impl Engine {
    /// A new service deployment of `td` (UpdateService): one in progress
    /// is superseded (STOPPED), as in ECS.
    pub(super) fn start_deployment(&mut self, si: usize, td: String) -> String {
        let now = self.now();
        let id = self.start_rollout(si, td.clone());
        let s = &mut self.services[si].svc;
        for r in &mut s.deployment_history {
            if matches!(
                r.status.as_str(),
                history::status::IN_PROGRESS | history::status::ROLLBACK_IN_PROGRESS
            ) {
                r.status = history::status::STOPPED.into();
                r.status_reason = Some("superseded by a newer service deployment".into());
                r.finished_at = Some(now);
            }
        }
        let arn =
            super::build::service_deployment_arn(&s.region, &s.account, &s.cluster, &s.name, &id);
        s.deployment_history.insert(
            0,
            ServiceDeploymentRecord {
                arn,
                status: history::status::IN_PROGRESS.into(),
                status_reason: None,
                task_definition: td,
                rollback_to: None,
                rollback_reason: None,
                started_at: now,
                finished_at: None,
                deployment_ids: vec![id.clone()],
            },
        );
        s.deployment_history.truncate(history::HISTORY_CAP);
        id
    }

    /// Roll the service deployment in progress back to the last revision
    /// that completed (the circuit breaker's, an alarm's, or
    /// StopServiceDeployment ROLLBACK): ECS makes no new service deployment,
    /// the one in progress turns ROLLBACK_IN_PROGRESS. The rollout's id and
    /// the revision it goes to.
    pub(super) fn start_rollback(&mut self, si: usize, reason: &str) -> (String, String) {
        let target = self.services[si].last_completed_td.clone();
        let id = self.start_rollout(si, target.clone());
        let s = &mut self.services[si].svc;
        if let Some(r) = s
            .deployment_history
            .iter_mut()
            .find(|r| r.status == history::status::IN_PROGRESS)
        {
            r.status = history::status::ROLLBACK_IN_PROGRESS.into();
            r.rollback_to = Some(target.clone());
            r.rollback_reason = Some(reason.to_string());
            r.deployment_ids.push(id.clone());
        }
        (id, target)
    }

    /// The DescribeServices side of a deployment: a new PRIMARY.
    fn start_rollout(&mut self, si: usize, td: String) -> String {
        let id = format!(
            "ecs-svc/{:019}",
            self.rng.next_u64() % 10_000_000_000_000_000_000
        );
        let now = self.now();
        let s = &mut self.services[si];
        for d in &mut s.svc.deployments {
            if d.status == DeploymentStatus::Primary {
                d.status = DeploymentStatus::Active;
                d.updated_at = now;
            }
        }
        s.svc.deployments.insert(
            0,
            Deployment {
                id: id.clone(),
                status: DeploymentStatus::Primary,
                task_definition: td.clone(),
                desired_count: s.svc.desired_count,
                pending_count: 0,
                running_count: 0,
                failed_tasks: 0,
                rollout_state: Some(RolloutState::InProgress),
                rollout_state_reason: Some("ECS deployment in progress.".into()),
                created_at: now,
                updated_at: now,
            },
        );
        s.svc.task_definition = td;
        s.steady_reported = false;
        id
    }

    /// A task of `dep` failed: count it against the deployment and trip the
    /// circuit breaker when the threshold is reached.
    pub(super) fn record_failure(&mut self, si: usize, dep: &str) {
        let now = self.now();
        let s = &mut self.services[si];
        // The circuit breaker is the ECS deployment controller's only
        // (CodeDeploy's and an external controller's deployments are theirs).
        let breaker = s
            .svc
            .deployment_configuration
            .deployment_circuit_breaker
            .clone()
            .filter(|_| s.svc.deployment_controller == "ECS");
        let desired = s.svc.desired_count;
        let Some(d) = s.svc.deployments.iter_mut().find(|d| d.id == dep) else {
            return;
        };
        if d.rollout_state != Some(RolloutState::InProgress) {
            return;
        }
        d.failed_tasks += 1;
        d.updated_at = now;
        let threshold = breaker_threshold(desired);
        let Some(b) = breaker.filter(|b| b.enable) else {
            return;
        };
        if d.failed_tasks < threshold {
            return;
        }
        d.rollout_state = Some(RolloutState::Failed);
        d.rollout_state_reason = Some(format!(
            "ECS deployment circuit breaker: tasks failed to start. ({} failed, threshold {threshold})",
            d.failed_tasks
        ));
        let failed_id = d.id.clone();
        let name = s.svc.name.clone();
        if !b.rollback
            && let Some(r) = s
                .svc
                .deployment_history
                .iter_mut()
                .find(|r| r.deployment_ids.contains(&failed_id))
        {
            r.status = history::status::STOPPED.into();
            r.status_reason = d.rollout_state_reason.clone();
            r.finished_at = Some(now);
        }
        self.service_event(
            si,
            format!(
                "(service {name}) deployment {failed_id} deployment failed: tasks failed to start."
            ),
        );
        if b.rollback {
            let (new_id, target) =
                self.start_rollback(si, "ECS deployment circuit breaker: tasks failed to start.");
            // The failed deployment keeps its FAILED state while it drains.
            self.service_event(
                si,
                format!(
                    "(service {name}) rolling back to deployment {new_id} ({}).",
                    short_task_definition(&target)
                ),
            );
        }
    }

    /// The service scheduler: start and stop tasks toward the desired count,
    /// honouring minimumHealthyPercent / maximumPercent during deployments.
    pub(super) fn schedule(&mut self, si: usize) {
        let now = self.now();
        let (desired, min_pct, max_pct) = {
            let s = &self.services[si].svc;
            (
                s.desired_count.max(0) as usize,
                s.deployment_configuration.minimum_healthy_percent.max(0) as usize,
                s.deployment_configuration.maximum_percent.max(100) as usize,
            )
        };
        let max_total = (desired * max_pct / 100).max(desired);
        let min_healthy = (desired * min_pct).div_ceil(100);
        let primary = self.services[si].svc.deployments.first().cloned();
        let Some(primary) = primary else { return };
        let primary_failed = primary.rollout_state == Some(RolloutState::Failed);

        let active = |s: &SimService, pred: &dyn Fn(&SimTask) -> bool| {
            s.tasks
                .iter()
                .filter(|t| !is_leaving(&t.task) && pred(t))
                .count()
        };
        let s = &self.services[si];
        let total_active = active(s, &|_| true);
        let primary_active = active(s, &|t| t.deployment == primary.id);
        let healthy = s.tasks.iter().filter(|t| is_healthy(t, now)).count();

        // 1. Start primary tasks up to desired, within maximumPercent.
        if !primary_failed && primary_active < desired && total_active < max_total {
            let n = (desired - primary_active).min(max_total - total_active);
            let mut started = Vec::new();
            // Counted once; each placement adds to its AZ (linear, not a
            // pass over the tasks per task placed).
            let mut load = self.az_load(si);
            for _ in 0..n {
                match take_least(&mut load) {
                    Some(az) => {
                        let t = self.new_task(si, &primary.id, &primary.task_definition, &az);
                        started.push(t.task.id.clone());
                        self.services[si].tasks.push(t);
                    }
                    None => {
                        if now - self.services[si].last_placement_event >= 60_000 {
                            self.services[si].last_placement_event = now;
                            let name = self.services[si].svc.name.clone();
                            self.service_event(si, format!("(service {name}) was unable to place a task. Reason: Capacity is unavailable at this time. Please try again later or in a different availability zone."));
                        }
                        break;
                    }
                }
            }
            if !started.is_empty() {
                let name = self.services[si].svc.name.clone();
                let list = started
                    .iter()
                    .map(|id| format!("(task {id})"))
                    .collect::<Vec<_>>()
                    .join(" ");
                self.service_event(
                    si,
                    format!(
                        "(service {name}) has started {} tasks: {list}.",
                        started.len()
                    ),
                );
            }
        }

        let old_active = active(&self.services[si], &|t| t.deployment != primary.id);
        // 2. Stop old-deployment tasks: those beyond the desired count (new
        //    ones took their place) or in the way of maximumPercent, never
        //    letting healthy tasks drop below minimumHealthyPercent.
        if old_active > 0 {
            let s = &self.services[si];
            let total_active = active(s, &|_| true);
            let primary_active = active(s, &|t| t.deployment == primary.id);
            let surplus = total_active.saturating_sub(desired);
            let need_room = if primary_failed {
                0
            } else {
                desired
                    .saturating_sub(primary_active)
                    .saturating_sub(max_total.saturating_sub(total_active))
            };
            let wanted = surplus.max(need_room);
            let mut old: Vec<(bool, String)> = s
                .tasks
                .iter()
                .filter(|t| t.deployment != primary.id && !is_leaving(&t.task))
                .map(|t| (is_healthy(t, now), t.task.id.clone()))
                .collect();
            old.sort(); // unhealthy (false) first
            let unhealthy_old = old.iter().filter(|o| !o.0).count();
            let healthy_budget = healthy.saturating_sub(min_healthy);
            let n = unhealthy_old.min(wanted)
                + (wanted.saturating_sub(unhealthy_old)).min(healthy_budget);
            let ids: Vec<String> = old.into_iter().take(n).map(|(_, id)| id).collect();
            self.scheduler_stop(si, &ids, &primary.id);
        }

        // 3. Scale in: more primary tasks than desired. An AZ-rebalancing
        //    replacement first has to become healthy; then a task in the
        //    most loaded AZ goes.
        let primary_active = self.services[si]
            .tasks
            .iter()
            .filter(|t| !is_leaving(&t.task) && t.deployment == primary.id)
            .count();
        if let Some(rb) = self.services[si].rebalance_task.clone() {
            let state = self.services[si]
                .tasks
                .iter()
                .find(|t| t.task.id == rb)
                .map(|t| (is_leaving(&t.task), is_healthy(t, now)));
            match state {
                Some((false, false)) => return self.rebalance(si, false), // still starting
                Some((false, true)) if primary_active > desired => {
                    self.services[si].rebalance_task = None;
                    if let Some((id, az)) = self.most_loaded_task(si, Some(&rb)) {
                        let reason =
                            format!("AZ rebalancing initiated by (deployment {})", primary.id);
                        let _ = self.stop_task_by_id(si, &id, &reason, "ServiceSchedulerInitiated");
                        let name = self.services[si].svc.name.clone();
                        self.service_event(si, format!("(service {name}) has stopped 1 running tasks: (task {id}) in {az} to rebalance Availability Zones."));
                    }
                }
                _ => self.services[si].rebalance_task = None,
            }
        } else if primary_active > desired {
            // One at a time (an event each), each pick seeing the AZ counts
            // the previous stops left.
            for i in self.scale_in_order(si, primary_active - desired, None) {
                self.scheduler_stop_at(si, &[i], &primary.id);
            }
        }

        // 4. Old deployments with nothing left are done.
        //    A FAILED one stays visible until the rollback completes.
        let rolling_back = primary.rollout_state == Some(RolloutState::InProgress);
        let s = &mut self.services[si];
        let tasks = &s.tasks;
        s.svc.deployments.retain(|d| {
            d.status == DeploymentStatus::Primary
                || (rolling_back && d.rollout_state == Some(RolloutState::Failed))
                || tasks
                    .iter()
                    .any(|t| t.deployment == d.id && !is_leaving(&t.task))
        });

        // 5. Completion and steady state.
        let steady = self.complete(si, &primary, desired, now);

        // 6. AZ rebalancing once things are steady.
        self.rebalance(si, steady);
    }

    /// A rolling deployment whose new tasks are healthy and whose old ones
    /// are gone completes; a service whose tasks all run and are healthy
    /// reaches a steady state (once each, as ECS's events say).
    pub(super) fn complete(
        &mut self,
        si: usize,
        primary: &Deployment,
        desired: usize,
        now: i64,
    ) -> bool {
        let s = &self.services[si];
        let primary_healthy = s
            .tasks
            .iter()
            .filter(|t| t.deployment == primary.id && is_healthy(t, now))
            .count();
        let only_primary = s.svc.deployments.iter().all(|d| {
            d.status == DeploymentStatus::Primary || d.rollout_state == Some(RolloutState::Failed)
        });
        let nothing_old = !s
            .tasks
            .iter()
            .any(|t| t.deployment != primary.id && !is_leaving(&t.task));
        if primary.rollout_state == Some(RolloutState::InProgress)
            && only_primary
            && nothing_old
            && primary_healthy >= desired
        {
            let name = s.svc.name.clone();
            let td = primary.task_definition.clone();
            if let Some(d) = self.services[si].svc.deployments.first_mut() {
                d.rollout_state = Some(RolloutState::Completed);
                d.rollout_state_reason = Some(format!("ECS deployment {} completed.", primary.id));
                d.updated_at = now;
            }
            self.services[si].last_completed_td = td;
            if let Some(r) = self.services[si]
                .svc
                .deployment_history
                .iter_mut()
                .find(|r| r.deployment_ids.contains(&primary.id))
            {
                let done = match r.status.as_str() {
                    history::status::ROLLBACK_IN_PROGRESS => {
                        Some(history::status::ROLLBACK_SUCCESSFUL)
                    }
                    history::status::IN_PROGRESS => Some(history::status::SUCCESSFUL),
                    _ => None,
                };
                if let Some(done) = done {
                    r.status = done.into();
                    r.finished_at = Some(now);
                }
            }
            self.services[si]
                .svc
                .deployments
                .retain(|d| d.status == DeploymentStatus::Primary);
            self.service_event(
                si,
                format!(
                    "(service {name}) deployment {} deployment completed.",
                    primary.id
                ),
            );
        }
        let s = &self.services[si];
        let steady = only_primary
            && s.svc
                .deployments
                .first()
                .is_some_and(|d| d.rollout_state != Some(RolloutState::InProgress))
            && s.tasks.iter().filter(|t| is_healthy(t, now)).count() == desired
            && s.tasks.iter().filter(|t| !is_leaving(&t.task)).count() == desired;
        if steady && !s.steady_reported {
            let name = s.svc.name.clone();
            self.services[si].steady_reported = true;
            self.service_event(si, format!("(service {name}) has reached a steady state."));
        } else if !steady
            && s.steady_reported
            && s.tasks
                .iter()
                .any(|t| !is_leaving(&t.task) && !t.task.is_running())
        {
            self.services[si].steady_reported = false;
        }
        steady
    }
}

/// Circuit-breaker failure threshold as ECS computes it.
pub fn breaker_threshold(desired: i32) -> i32 {
    ((desired as f64 * 0.5).ceil() as i32).clamp(3, 200)
}
