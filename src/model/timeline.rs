//! The fleet timeline, derived from consecutive snapshots so that the simulator
//! and AWS produce it the same way: deployments, scaling activities, alarm
//! transitions and task stops across all services.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::{EpochMs, FleetSnapshot, RolloutState, short_task_definition};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    Deployment,
    Scaling,
    Alarm,
    TaskStopped,
}

impl TimelineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deployment => "deploy",
            Self::Scaling => "scaling",
            Self::Alarm => "alarm",
            Self::TaskStopped => "task",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEvent {
    pub at: EpochMs,
    pub kind: TimelineKind,
    /// `cluster/service`, when the event concerns one service (display).
    pub service_key: Option<String>,
    /// The service it concerns (its identity: twins' events stay apart).
    #[serde(skip)]
    pub service: Option<super::ServiceId>,
    /// One line. Untrusted parts are sanitized by the UI, not here.
    pub summary: String,
    /// True for events that mean trouble (failed rollout, ALARM, crash).
    pub bad: bool,
}

/// Events that happened between `prev` and `next`, oldest first. With no
/// `prev`, the history visible in `next` (scaling activities, alarm history,
/// stopped tasks, deployments) seeds the timeline.
pub fn diff(prev: Option<&FleetSnapshot>, next: &FleetSnapshot) -> Vec<TimelineEvent> {
    let mut out = Vec::new();
    deployments(prev, next, &mut out);
    scaling(prev, next, &mut out);
    alarms(prev, next, &mut out);
    task_stops(prev, next, &mut out);
    out.sort_by_key(|e| e.at);
    out
}

fn deployments(prev: Option<&FleetSnapshot>, next: &FleetSnapshot, out: &mut Vec<TimelineEvent>) {
    // (deployment id) -> rollout state in prev
    let before: HashMap<&str, Option<RolloutState>> = prev
        .map(|p| {
            p.services
                .iter()
                .flat_map(|s| s.deployments.iter())
                .map(|d| (d.id.as_str(), d.rollout_state))
                .collect()
        })
        .unwrap_or_default();
    for s in &next.services {
        let key = s.key();
        for d in &s.deployments {
            let td = short_task_definition(&d.task_definition);
            let prior = before.get(d.id.as_str());
            if prior.is_none()
                && (prev.is_some() || d.rollout_state == Some(RolloutState::InProgress))
            {
                out.push(TimelineEvent {
                    at: d.created_at,
                    kind: super::TimelineKind::Deployment,
                    service_key: Some(key.clone()),
                    service: Some(s.id()),
                    summary: format!("started deployment {} of {td}", d.id),
                    bad: false,
                });
            }
            let changed = match prior {
                Some(p) => *p != d.rollout_state,
                None => prev.is_some() && d.rollout_state != Some(RolloutState::InProgress),
            };
            if !changed {
                continue;
            }
            match d.rollout_state {
                Some(RolloutState::Completed) => out.push(TimelineEvent {
                    at: d.updated_at,
                    kind: TimelineKind::Deployment,
                    service_key: Some(key.clone()),
                    service: Some(s.id()),
                    summary: format!("deployment {} of {td} COMPLETED", d.id),
                    bad: false,
                }),
                Some(RolloutState::Failed) => out.push(TimelineEvent {
                    at: d.updated_at,
                    kind: TimelineKind::Deployment,
                    service_key: Some(key.clone()),
                    service: Some(s.id()),
                    summary: format!(
                        "deployment {} of {td} FAILED: {}",
                        d.id,
                        d.rollout_state_reason
                            .as_deref()
                            .unwrap_or("no reason given")
                    ),
                    bad: true,
                }),
                _ => {}
            }
        }
    }
}

fn scaling(prev: Option<&FleetSnapshot>, next: &FleetSnapshot, out: &mut Vec<TimelineEvent>) {
    let seen: HashSet<&str> = prev
        .map(|p| {
            p.scaling_activities
                .iter()
                .map(|a| a.activity_id.as_str())
                .collect()
        })
        .unwrap_or_default();
    for a in next.scaling_activities.iter() {
        if seen.contains(a.activity_id.as_str()) {
            continue;
        }
        let svc = a.resource_id.strip_prefix("service/").map(str::to_string);
        let id = super::ScalableTargetId::new(&a.account, &a.region, &a.resource_id).service_id();
        out.push(TimelineEvent {
            at: a.start_time,
            kind: TimelineKind::Scaling,
            service_key: svc,
            service: id,
            summary: format!("{} ({})", a.description, a.status_code),
            bad: a.status_code == "Failed",
        });
    }
}

fn alarms(prev: Option<&FleetSnapshot>, next: &FleetSnapshot, out: &mut Vec<TimelineEvent>) {
    // By (account, region, name): twins' alarms share names.
    let newest_before: HashMap<[&str; 3], EpochMs> = prev
        .map(|p| {
            p.alarms
                .iter()
                .map(|a| {
                    (
                        [a.account.as_str(), a.region.as_str(), a.name.as_str()],
                        a.history.first().map_or(i64::MIN, |h| h.timestamp),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    for a in next.alarms.iter() {
        let since = newest_before
            .get(&[a.account.as_str(), a.region.as_str(), a.name.as_str()])
            .copied()
            .unwrap_or(i64::MIN);
        for h in a.history.iter().filter(|h| h.timestamp > since) {
            out.push(TimelineEvent {
                at: h.timestamp,
                kind: TimelineKind::Alarm,
                service_key: a.service_key.clone(),
                service: a.service_id(),
                summary: format!(
                    "{} {} → {}",
                    a.name,
                    h.old_state.as_str(),
                    h.new_state.as_str()
                ),
                bad: h.new_state == super::AlarmState::Alarm,
            });
        }
    }
}

fn task_stops(prev: Option<&FleetSnapshot>, next: &FleetSnapshot, out: &mut Vec<TimelineEvent>) {
    let stopped_before: HashSet<&str> = prev
        .map(|p| {
            p.services
                .iter()
                .flat_map(|s| s.tasks.iter())
                .filter(|t| t.is_stopped())
                .map(|t| t.arn.as_str())
                .collect()
        })
        .unwrap_or_default();
    for s in &next.services {
        for t in s.tasks.iter().filter(|t| t.is_stopped()) {
            if stopped_before.contains(t.arn.as_str()) {
                continue;
            }
            let exit = t
                .exit_code()
                .map(|c| format!(" exit {c}"))
                .unwrap_or_default();
            let bad = t.stopped_abnormally();
            out.push(TimelineEvent {
                at: t.stopped_at.unwrap_or(next.at),
                kind: TimelineKind::TaskStopped,
                service_key: Some(s.key()),
                service: Some(s.id()),
                summary: format!(
                    "task {} stopped in {}: {}{exit}",
                    t.id.get(..8).unwrap_or(&t.id),
                    t.availability_zone
                        .as_deref()
                        .unwrap_or(super::az::UNKNOWN_AZ),
                    t.stopped_reason.as_deref().unwrap_or("(no reason)")
                ),
                bad,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn snap_with(rollout: RolloutState, stopped: bool) -> FleetSnapshot {
        let mut task = Task {
            arn: "arn:task/1".into(),
            id: "1".into(),
            last_status: "RUNNING".into(),
            availability_zone: Some("us-east-1a".into()),
            ..Default::default()
        };
        if stopped {
            task.last_status = "STOPPED".into();
            task.stop_code = Some("EssentialContainerExited".into());
            task.stopped_reason = Some("Essential container in task exited".into());
            task.stopped_at = Some(5);
        }
        FleetSnapshot {
            at: 10,
            services: vec![Arc::new(Service {
                cluster: "prod".into(),
                name: "api".into(),
                deployments: vec![Deployment {
                    id: "ecs-svc/1".into(),
                    status: DeploymentStatus::Primary,
                    task_definition: "arn:aws:ecs:us-east-1:1:task-definition/api:7".into(),
                    desired_count: 1,
                    pending_count: 0,
                    running_count: 1,
                    failed_tasks: 0,
                    rollout_state: Some(rollout),
                    rollout_state_reason: Some("tasks failed to start".into()),
                    created_at: 1,
                    updated_at: 9,
                }],
                tasks: vec![task],
                ..Default::default()
            })],
            ..Default::default()
        }
    }

    #[test]
    fn rollout_failure_and_task_stop_are_reported_once() {
        let a = snap_with(RolloutState::InProgress, false);
        let first = diff(None, &a);
        assert_eq!(first.len(), 1, "{first:?}");
        assert!(first[0].summary.contains("started deployment"));
        let b = snap_with(RolloutState::Failed, true);
        let ev = diff(Some(&a), &b);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(ev[0].kind, TimelineKind::TaskStopped);
        assert!(ev[0].bad);
        assert!(ev[1].summary.contains("api:7 FAILED"));
        assert!(diff(Some(&b), &b).is_empty());
    }
}
