//! Per-service summary rows, computed once per snapshot (not per frame) and
//! shared by the services table and `ecsdeck status`.

use std::collections::HashMap;

use serde::Serialize;

use super::{AlarmState, AzSpread, FleetSnapshot, RolloutState, ServiceHealth, health};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentSummary {
    pub status: String,
    pub rollout_state: Option<String>,
    pub task_definition: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRow {
    /// Index into `snapshot.services`.
    pub index: usize,
    /// (account, region, cluster, name): what selections and lookups use.
    pub id: super::ServiceId,
    /// `cluster/name`: the short display.
    pub key: String,
    pub account: String,
    pub region: String,
    pub cluster: String,
    pub name: String,
    pub health: ServiceHealth,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    /// The PRIMARY deployment's rollout state.
    pub rollout: Option<RolloutState>,
    /// PRIMARY's `family:revision`.
    pub task_definition: String,
    pub spread: AzSpread,
    pub alarms_in_alarm: Vec<String>,
    pub deployments: Vec<DeploymentSummary>,
    /// Failed tasks of the PRIMARY deployment.
    pub failed_tasks: i32,
}

/// Build the rows for every service of the snapshot, in snapshot order.
pub fn build(snap: &FleetSnapshot) -> Vec<ServiceRow> {
    // By service id: an alarm in ALARM in one region does not degrade the
    // twin in another.
    let mut alarms_by_service: HashMap<super::ServiceId, Vec<String>> = HashMap::new();
    // An alarm without a place (built by hand) concerns every service of
    // its key, as [`FleetSnapshot::alarms_for`] has it.
    let mut unplaced: HashMap<&str, Vec<String>> = HashMap::new();
    for a in snap.alarms.iter().filter(|a| a.state == AlarmState::Alarm) {
        match (a.service_id(), a.service_key.as_deref()) {
            (_, Some(k)) if a.account.is_empty() && a.region.is_empty() => {
                unplaced.entry(k).or_default().push(a.name.clone());
            }
            (Some(id), _) => alarms_by_service
                .entry(id)
                .or_default()
                .push(a.name.clone()),
            _ => {}
        }
    }
    let unhealthy_groups: std::collections::HashSet<&str> = snap
        .target_groups
        .iter()
        .filter(|tg| {
            tg.targets
                .iter()
                .any(|t| t.state == super::TargetState::Unhealthy)
        })
        .map(|tg| tg.arn.as_str())
        .collect();
    snap.services
        .iter()
        .enumerate()
        .map(|(index, s)| {
            let key = s.key();
            let id = s.id();
            let mut in_alarm = alarms_by_service.get(&id).cloned().unwrap_or_default();
            if let Some(v) = unplaced.get(key.as_str()) {
                in_alarm.extend(v.iter().cloned());
            }
            let primary = s.primary_deployment();
            ServiceRow {
                index,
                account: s.account.clone(),
                region: s.region.clone(),
                cluster: s.cluster.clone(),
                name: s.name.clone(),
                health: health::classify_with(
                    s,
                    !in_alarm.is_empty(),
                    s.load_balancers
                        .iter()
                        .any(|lb| unhealthy_groups.contains(lb.target_group_arn.as_str())),
                ),
                desired: s.desired_count,
                running: s.running_count,
                pending: s.pending_count,
                rollout: primary.and_then(|d| d.rollout_state),
                task_definition: primary
                    .map(|d| super::short_task_definition(&d.task_definition).to_string())
                    .unwrap_or_else(|| {
                        super::short_task_definition(&s.task_definition).to_string()
                    }),
                spread: AzSpread::of(s),
                alarms_in_alarm: in_alarm,
                deployments: s
                    .deployments
                    .iter()
                    .map(|d| DeploymentSummary {
                        status: d.status.as_str().to_string(),
                        rollout_state: d.rollout_state.map(|r| r.as_str().to_string()),
                        task_definition: super::short_task_definition(&d.task_definition)
                            .to_string(),
                    })
                    .collect(),
                failed_tasks: primary.map_or(0, |d| d.failed_tasks),
                key,
                id,
            }
        })
        .collect()
}
