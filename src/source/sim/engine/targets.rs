//! ALB target health of each service's tasks.

use super::*;

impl Engine {
    pub(super) fn update_targets(&mut self, si: usize) {
        let now = self.now();
        let Some(tgi) = self.services[si].target_group else {
            return;
        };
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
        let s = &mut self.services[si];
        for (t, cut) in s.tasks.iter_mut().zip(cut) {
            let Some(state) = t.target_state else {
                continue;
            };
            let next = match t.task.last_status.as_str() {
                // Its network is cut: the load balancer's checks time out.
                "RUNNING" if cut => Some(TargetState::Unhealthy),
                "PROVISIONING" | "PENDING" => Some(TargetState::Initial),
                "ACTIVATING" => Some(TargetState::Initial),
                "RUNNING" => {
                    if t.healthy_at.is_some_and(|h| now >= h + 10_000) {
                        Some(TargetState::Healthy)
                    } else if t.fail_at.is_some_and(|(_, b)| b == Behaviour::Crashes)
                        && t.healthy_at.is_some_and(|h| now >= h)
                    {
                        Some(TargetState::Unhealthy)
                    } else {
                        Some(TargetState::Initial)
                    }
                }
                "DEACTIVATING" => Some(TargetState::Draining),
                _ => None,
            };
            match next {
                Some(n) if n != state => {
                    t.target_state = Some(n);
                    t.target_since = now;
                }
                Some(_) => {}
                None => t.target_state = None,
            }
        }
        let targets: Vec<TargetHealth> = s
            .tasks
            .iter()
            .filter_map(|t| {
                let state = t.target_state?;
                // Targets register once the task has an IP (after PROVISIONING).
                if t.task.last_status == "PROVISIONING" {
                    return None;
                }
                let (reason, description) = match state {
                    TargetState::Initial => (
                        Some("Elb.RegistrationInProgress"),
                        Some("Target registration is in progress"),
                    ),
                    TargetState::Draining => (
                        Some("Target.DeregistrationInProgress"),
                        Some("Target deregistration is in progress"),
                    ),
                    TargetState::Unhealthy => (
                        Some("Target.ResponseCodeMismatch"),
                        Some("Health checks failed with these codes: [502]"),
                    ),
                    _ => (None, None),
                };
                Some(TargetHealth {
                    id: t.task.private_ip.clone().unwrap_or_default(),
                    port: s
                        .svc
                        .load_balancers
                        .first()
                        .map_or(8080, |l| l.container_port),
                    availability_zone: t.task.availability_zone.clone(),
                    state,
                    reason: reason.map(str::to_string),
                    description: description.map(str::to_string),
                })
            })
            .collect();
        s.unhealthy_hosts = targets
            .iter()
            .filter(|t| t.state == TargetState::Unhealthy)
            .count() as f64;
        self.target_groups[tgi].targets = targets;
    }
}
