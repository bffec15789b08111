//! Task lifecycles: a new task, its phases from PROVISIONING to STOPPED,
//! planned failures, AZ impairment stops, health, and the running counts.

use super::*;
use rand::Rng;

impl Engine {
    pub(super) fn new_task(&mut self, si: usize, deployment: &str, td: &str, az: &str) -> SimTask {
        let id = self.rand_hex(32);
        let now = self.now();
        let az_index = self.azs.iter().position(|a| a == az).unwrap_or(0);
        let s = &mut self.services[si];
        s.next_ip = s.next_ip.wrapping_add(1);
        let ip = format!(
            "10.{}.{}.{}",
            si % 200,
            16 * az_index + (s.next_ip / 250) as usize % 16,
            s.next_ip % 250 + 4
        );
        let behaviour = s.behaviour_by_td.get(td).copied().unwrap_or_default();
        let region = &s.svc.region;
        let account = &self.account;
        let cluster = s.svc.cluster.clone();
        let image = self
            .task_definitions
            .get(td)
            .and_then(|t| t.container_definitions.first())
            .map(|c| c.image.clone())
            .unwrap_or_default();
        let subnet = s
            .svc
            .subnets
            .iter()
            .find(|n| n.availability_zone == az)
            .map(|n| n.subnet_id.clone());
        let task = Task {
            arn: format!("arn:aws:ecs:{region}:{account}:task/{cluster}/{id}"),
            id,
            cluster,
            group: format!("service:{}", s.svc.name),
            task_definition: td.to_string(),
            last_status: "PROVISIONING".into(),
            desired_status: "RUNNING".into(),
            health_status: "UNKNOWN".into(),
            availability_zone: Some(az.to_string()),
            subnet_id: subnet,
            private_ip: Some(ip),
            launch_type: if s.svc.launch_type.is_empty() {
                "FARGATE".into()
            } else {
                s.svc.launch_type.clone()
            },
            capacity_provider: s
                .svc
                .capacity_provider_strategy
                .first()
                .map(|c| c.capacity_provider.clone()),
            created_at: now,
            started_at: None,
            stopping_at: None,
            stopped_at: None,
            stop_code: None,
            stopped_reason: None,
            containers: vec![Container {
                name: s.container.clone(),
                last_status: "PENDING".into(),
                exit_code: None,
                reason: None,
                health_status: "UNKNOWN".into(),
                image,
            }],
            started_by: deployment.to_string(),
        };
        let fail_at = match behaviour {
            Behaviour::Healthy => None,
            Behaviour::FailsToStart => Some((
                now + 8_000 + (self.rng.random::<u32>() % 6_000) as i64,
                behaviour,
            )),
            // Comes up, fails its health checks for a while, then exits.
            Behaviour::Crashes => Some((
                now + 100_000 + (self.rng.random::<u32>() % 30_000) as i64,
                behaviour,
            )),
            Behaviour::Oom => Some((
                now + 120_000 + (self.rng.random::<u32>() % 120_000) as i64,
                behaviour,
            )),
        };
        SimTask {
            task,
            deployment: deployment.to_string(),
            // Fargate capacity + ENI attachment: 20–40 s.
            phase_until: now + 20_000 + (self.rng.random::<u32>() % 20_000) as i64,
            healthy_at: None,
            fail_at,
            stop: None,
            target_state: s.target_group.map(|_| TargetState::Initial),
            target_since: now,
        }
    }

    pub(super) fn advance_tasks(&mut self, si: usize) {
        let now = self.now();
        let key = self.impair_key(si);
        let impaired: Vec<String> = self
            .impaired
            .keys()
            .filter_map(|k| match k.split_once('|') {
                None => Some(k.clone()),
                Some((az, who)) if who == key => Some(az.to_string()),
                Some(_) => None,
            })
            .collect();
        let dereg_ms = self.services[si].target_group.map_or(0, |i| {
            self.target_groups[i].deregistration_delay_seconds as i64 * 1000
        });
        let health_check = self.services[si].health_check;
        let start_period = self.services[si].start_period_ms;
        let tg_arn = self.services[si]
            .target_group
            .map(|i| self.target_groups[i].arn.clone());
        let cut: Vec<bool> = self.services[si]
            .tasks
            .iter()
            .map(|t| {
                t.task
                    .availability_zone
                    .as_deref()
                    .is_some_and(|az| self.az_disrupted(si, az))
            })
            .collect();
        let mut failures: Vec<(String, bool)> = Vec::new();
        let mut rng_vals: Vec<u32> = (0..self.services[si].tasks.len())
            .map(|_| self.rng.random::<u32>())
            .collect();
        let s = &mut self.services[si];
        for (t, cut) in s.tasks.iter_mut().zip(cut) {
            let roll = rng_vals.pop().unwrap_or(0);
            if az_fault(t, now, cut, tg_arn.as_deref(), &impaired) {
                failures.push((t.deployment.clone(), false));
                continue;
            }
            let jitter = (roll % 15_000) as i64;
            if let Some((at, how)) = t.fail_at
                && now >= at
                && !is_leaving(&t.task)
            {
                t.fail_at = None;
                match how {
                    Behaviour::FailsToStart => begin_stop(
                        t,
                        now,
                        "TaskFailedToStart",
                        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref: not found",
                        None,
                    ),
                    Behaviour::Crashes => match &tg_arn {
                        // Behind an ALB the target fails first and ECS replaces the task.
                        Some(arn) if roll.is_multiple_of(2) => begin_stop(
                            t,
                            now,
                            "ServiceSchedulerInitiated",
                            &format!("Task failed ELB health checks in (target-group {arn})"),
                            Some(143),
                        ),
                        _ => begin_stop(
                            t,
                            now,
                            "EssentialContainerExited",
                            "Essential container in task exited",
                            Some(1),
                        ),
                    },
                    Behaviour::Oom => begin_stop(
                        t,
                        now,
                        "EssentialContainerExited",
                        "OutOfMemoryError: Container killed due to memory usage",
                        Some(137),
                    ),
                    Behaviour::Healthy => {}
                }
                failures.push((t.deployment.clone(), true));
                continue;
            }
            if now < t.phase_until {
                continue;
            }
            match t.task.last_status.as_str() {
                "PROVISIONING" => {
                    // Image pull: 15–30 s.
                    t.task.last_status = "PENDING".into();
                    t.phase_until = now + 15_000 + jitter;
                }
                "PENDING" => {
                    t.task.last_status = "ACTIVATING".into();
                    t.phase_until = now + 4_000;
                }
                "ACTIVATING" => {
                    t.task.last_status = "RUNNING".into();
                    t.task.started_at = Some(now);
                    for c in &mut t.task.containers {
                        c.last_status = "RUNNING".into();
                    }
                    t.healthy_at = Some(now + start_period.max(10_000));
                    t.phase_until = i64::MAX;
                }
                "DEACTIVATING" => {
                    t.task.last_status = "STOPPING".into();
                    t.phase_until = now + 2_000;
                }
                "STOPPING" => {
                    t.task.last_status = "DEPROVISIONING".into();
                    t.phase_until = now + 2_000;
                    // Containers that never ran, or whose host went away, have
                    // no exit code; a graceful stop exits 0.
                    let graceful = matches!(
                        t.task.stop_code.as_deref(),
                        Some("ServiceSchedulerInitiated") | Some("UserInitiated")
                    );
                    let exit = t.stop.as_ref().and_then(|s| s.2).or(graceful.then_some(0));
                    let started = t.task.started_at.is_some();
                    for c in &mut t.task.containers {
                        c.last_status = "STOPPED".into();
                        if c.exit_code.is_none() && started {
                            c.exit_code = exit;
                        }
                    }
                }
                "DEPROVISIONING" => {
                    t.task.last_status = "STOPPED".into();
                    t.task.desired_status = "STOPPED".into();
                    t.task.stopped_at = Some(now);
                    t.phase_until = i64::MAX;
                }
                _ => {}
            }
        }
        settle_health(&mut s.tasks, now, health_check, dereg_ms);
        s.failures_this_minute += failures.len() as u32;
        for (dep, counts) in failures {
            if counts {
                self.record_failure(si, &dep);
            }
        }
    }

    pub(super) fn refresh_counts(&mut self) {
        for s in &mut self.services {
            let running = s.tasks.iter().filter(|t| t.task.is_running()).count() as i32;
            let pending = s
                .tasks
                .iter()
                .filter(|t| {
                    matches!(
                        t.task.last_status.as_str(),
                        "PROVISIONING" | "PENDING" | "ACTIVATING"
                    )
                })
                .count() as i32;
            s.svc.running_count = running;
            s.svc.pending_count = pending;
            let desired = s.svc.desired_count;
            for d in &mut s.svc.deployments {
                let mine = |t: &&SimTask| t.deployment == d.id;
                d.running_count = s
                    .tasks
                    .iter()
                    .filter(mine)
                    .filter(|t| t.task.is_running())
                    .count() as i32;
                d.pending_count = s
                    .tasks
                    .iter()
                    .filter(mine)
                    .filter(|t| {
                        matches!(
                            t.task.last_status.as_str(),
                            "PROVISIONING" | "PENDING" | "ACTIVATING"
                        )
                    })
                    .count() as i32;
                if d.status == DeploymentStatus::Primary {
                    d.desired_count = desired;
                } else {
                    d.desired_count = d.running_count;
                }
            }
        }
    }
}

/// The task has left (or is leaving) RUNNING.
pub(crate) fn is_leaving(t: &Task) -> bool {
    matches!(
        t.last_status.as_str(),
        "DEACTIVATING" | "STOPPING" | "DEPROVISIONING" | "STOPPED"
    )
}

pub(super) fn is_healthy(t: &SimTask, now: i64) -> bool {
    t.task.is_running()
        && t.healthy_at.is_some_and(|h| now >= h)
        && t.fail_at.is_none_or(|(_, b)| b == Behaviour::Oom)
}

pub(super) fn begin_stop(t: &mut SimTask, now: i64, code: &str, reason: &str, exit: Option<i32>) {
    let was_running = t.task.is_running();
    t.task.desired_status = "STOPPED".into();
    t.task.stop_code = Some(code.into());
    t.task.stopped_reason = Some(reason.into());
    t.task.stopping_at = Some(now);
    t.stop = Some((code.into(), reason.into(), exit));
    t.fail_at = None;
    if let Some(e) = exit {
        for c in &mut t.task.containers {
            c.exit_code = Some(e);
            if e == 137 {
                c.reason = Some("OutOfMemoryError: Container killed due to memory usage".into());
            }
        }
    }
    if was_running {
        t.task.last_status = "DEACTIVATING".into();
        // Draining time is set by the caller's next pass (deregistration delay).
        t.phase_until = i64::MAX;
    } else {
        t.task.last_status = "STOPPING".into();
        t.phase_until = now + 1_000;
    }
    t.task.health_status = "UNKNOWN".into();
}

/// RUNNING tasks past their start period become HEALTHY (with a health
/// check); tasks leaving RUNNING wait for their target to drain.
pub(super) fn settle_health(tasks: &mut [SimTask], now: i64, health_check: bool, dereg_ms: i64) {
    for t in tasks {
        if t.task.is_running()
            && let Some(h) = t.healthy_at
            && now >= h
            && health_check
            && t.task.health_status != "HEALTHY"
        {
            t.task.health_status = "HEALTHY".into();
            for c in &mut t.task.containers {
                c.health_status = "HEALTHY".into();
            }
        }
        if t.task.last_status == "DEACTIVATING" && t.phase_until == i64::MAX {
            t.phase_until = now + dereg_ms.max(1_000);
        }
    }
}

/// An AZ fault stops `t` now: its AZ impaired (anything not yet stopped
/// there goes), or its subnet's network cut and its target unhealthy for
/// 30 s, the load balancer's unhealthy threshold (ECS replaces it).
fn az_fault(
    t: &mut SimTask,
    now: i64,
    cut: bool,
    tg_arn: Option<&str>,
    impaired: &[String],
) -> bool {
    if is_leaving(&t.task) {
        return false;
    }
    if cut
        && let Some(arn) = tg_arn
        && t.target_state == Some(TargetState::Unhealthy)
        && now - t.target_since >= 30_000
    {
        begin_stop(
            t,
            now,
            "ServiceSchedulerInitiated",
            &format!("Task failed ELB health checks in (target-group {arn})"),
            Some(143),
        );
        return true;
    }
    if let Some(az) = t
        .task
        .availability_zone
        .as_ref()
        .filter(|az| impaired.contains(az))
        .cloned()
    {
        begin_stop(
            t,
            now,
            "TerminationNotice",
            &format!(
                "Task stopped due to an infrastructure event in {az}: the Availability Zone is impaired."
            ),
            None,
        );
        return true;
    }
    false
}
