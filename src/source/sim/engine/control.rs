//! What scenario events and runbook actions change: deployments, desired
//! counts, scalable targets, AZ impairments and task stops.

use super::*;
use rand::Rng;

impl Engine {
    pub(super) fn run_due_events(&mut self) {
        while self.events.front().is_some_and(|e| e.at_ms <= self.elapsed) {
            let Some(e) = self.events.pop_front() else {
                break;
            };
            self.apply_action(e.action);
        }
    }

    pub(crate) fn apply_action(&mut self, a: EventAction) {
        match a {
            EventAction::Deploy {
                service,
                task_definition,
            } => {
                if let Some(si) = self.index_of_id(&service) {
                    let _ = self.deploy_at(si, &task_definition);
                }
            }
            EventAction::ImpairAz { az, duration_ms } => self.impair_az(&az, duration_ms),
            EventAction::ReleaseAz { az } => self.release_az(&az),
            EventAction::SetDesired { service, count } => {
                if let Some(si) = self.index_of_id(&service) {
                    let _ = self.set_desired_at(si, count);
                }
            }
            EventAction::StopTask { service, count } => {
                if let Some(si) = self.index_of_id(&service) {
                    // The running tasks in order; a stopped one leaves the list.
                    let mut running: Vec<usize> = self.services[si]
                        .tasks
                        .iter()
                        .enumerate()
                        .filter(|(_, t)| t.task.is_running())
                        .map(|(i, _)| i)
                        .collect();
                    let now = self.now();
                    for _ in 0..count {
                        if running.is_empty() {
                            break;
                        }
                        let k = self.rng.random::<u32>() as usize % running.len();
                        let i = running.remove(k);
                        let t = &mut self.services[si].tasks[i];
                        begin_stop(
                            t,
                            now,
                            "UserInitiated",
                            "Task stopped by user (GameDay)",
                            Some(0),
                        );
                    }
                }
            }
            EventAction::Load { factor } => self.load_factor = factor,
        }
    }

    /// The service with exactly this identity.
    pub(crate) fn index_of_id(&self, id: &ServiceId) -> Option<usize> {
        self.services.iter().position(|s| s.svc.id() == *id)
    }

    /// The service with this cluster and name in `account` and `region`
    /// (each unset or empty: any).
    pub(crate) fn service_index_at(
        &self,
        account: Option<&str>,
        region: Option<&str>,
        cluster: &str,
        name: &str,
    ) -> Option<usize> {
        let ok = |want: Option<&str>, have: &str| want.is_none_or(|w| w.is_empty() || w == have);
        self.services.iter().position(|s| {
            s.svc.cluster == cluster
                && s.svc.name == name
                && ok(account, &s.svc.account)
                && ok(region, &s.svc.region)
        })
    }

    /// The key of a service's own AZ impairments: its full identity, so a
    /// twin keeps the AZ.
    pub(crate) fn impair_key(&self, si: usize) -> String {
        self.services[si].svc.id().qualified()
    }

    /// A rolling deployment of `family:revision` (of the service's own
    /// account and region) on service `si`.
    pub fn deploy_at(&mut self, si: usize, family_rev: &str) -> Result<String, String> {
        let svc = &self.services[si].svc;
        let td = td_arn(&svc.region, &svc.account, family_rev);
        let td = if self.task_definitions.contains_key(&td) {
            td
        } else {
            td_arn(&self.region, &self.account, family_rev)
        };
        if !self.task_definitions.contains_key(&td) {
            return Err(format!("no task definition {family_rev}"));
        }
        Ok(self.start_deployment(si, td))
    }

    /// StopServiceDeployment ROLLBACK on service `si`: the deployment in
    /// progress rolls back to the last revision that completed.
    pub fn rollback_at(&mut self, si: usize) -> Result<(String, String), String> {
        let svc = &self.services[si].svc;
        let Some(p) = svc
            .primary_deployment()
            .filter(|d| d.rollout_state == Some(RolloutState::InProgress))
        else {
            return Err(format!(
                "{}: no service deployment in progress to stop",
                svc.key()
            ));
        };
        if svc.deployment_history.iter().any(|r| r.rolling_back()) {
            return Err(format!(
                "{}: the service deployment is already rolling back",
                svc.key()
            ));
        }
        if p.task_definition == self.services[si].last_completed_td {
            return Err(format!(
                "{}: the deployment in progress is of {}, the last revision that completed: nothing to roll back to",
                svc.key(),
                short_task_definition(&p.task_definition)
            ));
        }
        Ok(self.start_rollback(si, "StopServiceDeployment ROLLBACK requested by the user"))
    }

    /// UpdateService desiredCount of service `si`; the old count.
    pub fn set_desired_at(&mut self, si: usize, count: i32) -> Result<i32, String> {
        if !(0..=MAX_TASKS_PER_SERVICE).contains(&count) {
            return Err(format!(
                "desired count {count} is not within 0..={MAX_TASKS_PER_SERVICE} (ECS's quota of tasks per service)"
            ));
        }
        let s = &mut self.services[si];
        let old = s.svc.desired_count;
        s.svc.desired_count = count;
        if let Some(d) = s.svc.deployments.first_mut() {
            d.desired_count = count;
        }
        s.steady_reported = false;
        Ok(old)
    }

    /// RegisterScalableTarget of service `si` (its own account and region);
    /// the old (min, max).
    pub fn set_scalable_target_at(
        &mut self,
        si: usize,
        resource_id: &str,
        min: i32,
        max: i32,
    ) -> Result<(i32, i32), String> {
        if min < 0 || max < min || max > MAX_TASKS_PER_SERVICE {
            return Err(format!(
                "need 0 ≤ min ≤ max ≤ {MAX_TASKS_PER_SERVICE} (got {min}..{max})"
            ));
        }
        let (account, region) = (
            self.services[si].svc.account.clone(),
            self.services[si].svc.region.clone(),
        );
        let t = self
            .scalable_targets
            .iter_mut()
            .find(|t| t.resource_id == resource_id && t.account == account && t.region == region)
            .ok_or_else(|| format!("no scalable target {resource_id}"))?;
        let old = (t.min_capacity, t.max_capacity);
        t.min_capacity = min;
        t.max_capacity = max;
        {
            let desired = self.services[si].svc.desired_count;
            let clamped = desired.clamp(min, max);
            if clamped != desired {
                let _ = self.set_desired_at(si, clamped);
                self.record_activity(
                    si,
                    clamped,
                    "a change to the scalable target's minimum or maximum capacity".into(),
                );
            }
        }
        Ok(old)
    }

    pub fn impair_az(&mut self, az: &str, duration_ms: Option<i64>) {
        let until = duration_ms.map(|d| self.elapsed + d);
        self.impaired.insert(az.to_string(), until);
    }

    pub fn release_az(&mut self, az: &str) {
        self.impaired.remove(az);
    }

    /// Impair an AZ for one service only (a GameDay's blast radius): its
    /// tasks there stop and none are placed there until released.
    pub fn impair_service_az(&mut self, si: usize, az: &str, duration_ms: Option<i64>) {
        let until = duration_ms.map(|d| self.elapsed + d);
        let key = self.impair_key(si);
        self.impaired.insert(format!("{az}|{key}"), until);
    }

    pub fn release_service_az(&mut self, si: usize, az: &str) {
        let key = self.impair_key(si);
        self.impaired.remove(&format!("{az}|{key}"));
        self.disrupted.remove(&format!("{az}|{key}"));
    }

    /// Cut the network of service `si`'s subnet in `az` (FIS
    /// disrupt-connectivity): placement is not blocked, ECS does not know.
    pub fn disrupt_service_az(&mut self, si: usize, az: &str, duration_ms: Option<i64>) {
        let until = duration_ms.map(|d| self.elapsed + d);
        let key = self.impair_key(si);
        self.disrupted.insert(format!("{az}|{key}"), until);
    }

    /// Whether the network of `az` is cut for service `si`.
    pub(super) fn az_disrupted(&self, si: usize, az: &str) -> bool {
        self.disrupted
            .contains_key(&format!("{az}|{}", self.impair_key(si)))
    }

    /// Whether `az` is impaired for service `si` (fleet-wide or for it alone).
    pub(super) fn az_impaired(
        impaired: &BTreeMap<String, Option<i64>>,
        key: &str,
        az: &str,
    ) -> bool {
        impaired.contains_key(az) || impaired.contains_key(&format!("{az}|{key}"))
    }

    pub(super) fn expire_impairments(&mut self) {
        let now = self.elapsed;
        self.impaired
            .retain(|_, until| until.is_none_or(|u| u > now));
        self.disrupted
            .retain(|_, until| until.is_none_or(|u| u > now));
    }

    pub(crate) fn stop_task_by_id(
        &mut self,
        si: usize,
        id: &str,
        reason: &str,
        code: &str,
    ) -> Result<(), String> {
        let now = self.now();
        let t = self.services[si]
            .tasks
            .iter_mut()
            .find(|t| t.task.id == id || t.task.arn == id)
            .ok_or_else(|| format!("no task {id}"))?;
        if is_leaving(&t.task) {
            return Err(format!("task {id} is already {}", t.task.last_status));
        }
        begin_stop(t, now, code, reason, Some(0));
        Ok(())
    }
}
