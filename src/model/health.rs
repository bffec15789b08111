//! Service health classification shared by the console and `ecsdeck status`.

use serde::Serialize;

use super::{AlarmState, DeploymentStatus, FleetSnapshot, RolloutState, Service};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceHealth {
    Steady,
    Deploying,
    Degraded,
    Failed,
}

impl ServiceHealth {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Steady => "steady",
            Self::Deploying => "deploying",
            Self::Degraded => "degraded",
            Self::Failed => "failed",
        }
    }

    /// Whether `ecsdeck status` counts this as unhealthy (exit 1).
    pub fn is_unhealthy(self) -> bool {
        matches!(self, Self::Degraded | Self::Failed)
    }
}

/// Classify a service:
/// - **failed**: a deployment's rollout is FAILED (including while the circuit
///   breaker rolls back), or tasks are wanted and none runs;
/// - **deploying**: more than one deployment, or the PRIMARY rollout is in progress;
/// - **degraded**: fewer running than desired, an alarm of the service in ALARM,
///   or unhealthy targets;
/// - **steady**: otherwise (a service parked at desired 0 is steady).
pub fn classify(snap: &FleetSnapshot, svc: &Service) -> ServiceHealth {
    let in_alarm = snap.alarms_for(svc).any(|a| a.state == AlarmState::Alarm);
    let unhealthy_targets = snap
        .target_groups_for(svc)
        .flat_map(|tg| tg.targets.iter())
        .any(|t| t.state == super::TargetState::Unhealthy);
    classify_with(svc, in_alarm, unhealthy_targets)
}

/// [`classify`] with the facts that need fleet-wide lookups precomputed:
/// any alarm of the service in ALARM, any of its targets unhealthy.
pub fn classify_with(svc: &Service, in_alarm: bool, unhealthy_targets: bool) -> ServiceHealth {
    if svc.deployments.iter().any(|d| {
        d.status != DeploymentStatus::Inactive && d.rollout_state == Some(RolloutState::Failed)
    }) {
        return ServiceHealth::Failed;
    }
    if svc.desired_count > 0 && svc.running_count == 0 {
        return ServiceHealth::Failed;
    }
    let deploying = svc.deployments.len() > 1
        || svc
            .primary_deployment()
            .is_some_and(|d| d.rollout_state == Some(RolloutState::InProgress));
    // A rollout whose new tasks keep failing is not just "deploying".
    let failing = svc.primary_deployment().is_some_and(|d| d.failed_tasks > 0);
    if deploying && !in_alarm && !unhealthy_targets && !failing {
        return ServiceHealth::Deploying;
    }
    if svc.running_count < svc.desired_count || in_alarm || unhealthy_targets || failing {
        return ServiceHealth::Degraded;
    }
    if deploying {
        return ServiceHealth::Deploying;
    }
    ServiceHealth::Steady
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Deployment;

    fn dep(status: DeploymentStatus, rollout: RolloutState) -> Deployment {
        Deployment {
            id: "ecs-svc/1".into(),
            status,
            task_definition: "td".into(),
            desired_count: 2,
            pending_count: 0,
            running_count: 2,
            failed_tasks: 0,
            rollout_state: Some(rollout),
            rollout_state_reason: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn svc(desired: i32, running: i32, deps: Vec<Deployment>) -> Service {
        Service {
            cluster: "c".into(),
            name: "s".into(),
            desired_count: desired,
            running_count: running,
            deployments: deps,
            ..Default::default()
        }
    }

    #[test]
    fn table() {
        let snap = FleetSnapshot::default();
        let cases = [
            (
                svc(
                    2,
                    2,
                    vec![dep(DeploymentStatus::Primary, RolloutState::Completed)],
                ),
                ServiceHealth::Steady,
            ),
            (
                svc(
                    0,
                    0,
                    vec![dep(DeploymentStatus::Primary, RolloutState::Completed)],
                ),
                ServiceHealth::Steady,
            ),
            (
                svc(
                    3,
                    2,
                    vec![dep(DeploymentStatus::Primary, RolloutState::Completed)],
                ),
                ServiceHealth::Degraded,
            ),
            (
                svc(
                    3,
                    0,
                    vec![dep(DeploymentStatus::Primary, RolloutState::Completed)],
                ),
                ServiceHealth::Failed,
            ),
            (
                svc(
                    2,
                    2,
                    vec![
                        dep(DeploymentStatus::Primary, RolloutState::InProgress),
                        dep(DeploymentStatus::Active, RolloutState::Completed),
                    ],
                ),
                ServiceHealth::Deploying,
            ),
            (
                svc(
                    2,
                    2,
                    vec![
                        dep(DeploymentStatus::Primary, RolloutState::InProgress),
                        dep(DeploymentStatus::Active, RolloutState::Failed),
                    ],
                ),
                ServiceHealth::Failed,
            ),
        ];
        for (i, (s, want)) in cases.iter().enumerate() {
            assert_eq!(classify(&snap, s), *want, "case {i}");
        }
    }
}
