//! The call types shared by runbooks and sources: what a runbook asks a
//! backend to do ([`PlannedCall`]), what comes back ([`CallOutput`]), the
//! service it is about ([`Target`], [`ServiceRef`]) and the headless
//! [`Backend`] interface. It sits below both `runbook/` and `source/`, so
//! neither imports the other to talk about a call.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::model::{DeploymentStatus, EpochMs, FleetSnapshot, Service, short_task_definition};

/// Which service (and region) a condition or action is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    pub cluster: String,
    pub service: String,
    pub region: Option<String>,
}

pub fn find_service<'a>(snap: &'a FleetSnapshot, r: &ServiceRef) -> Option<&'a Service> {
    snap.services
        .iter()
        .find(|s| {
            s.cluster == r.cluster
                && s.name == r.service
                && r.region
                    .as_deref()
                    .is_none_or(|rg| rg.is_empty() || s.region == rg)
        })
        .map(|s| &**s)
}

/// One mutating (or read-only lookup) call a backend performs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "api")]
pub enum PlannedCall {
    /// UpdateService desiredCount.
    Scale { target: Target, from: i32, to: i32 },
    /// RegisterScalableTarget MinCapacity/MaxCapacity.
    SetCapacity {
        target: Target,
        resource_id: String,
        from: (i32, i32),
        to: (i32, i32),
    },
    /// UpdateService taskDefinition.
    UpdateService {
        target: Target,
        from: String,
        to: String,
    },
    /// UpdateService forceNewDeployment.
    ForceNewDeployment { target: Target },
    /// StopServiceDeployment (ROLLBACK); backends without it redeploy `rollback_to`.
    StopDeployment {
        target: Target,
        deployment_id: String,
        stop_type: String,
        rollback_to: Option<String>,
    },
    /// StopTask for each id; with `impair_ms`, the AZ also takes no new tasks
    /// for that long where the backend can do that (the simulator).
    StopTasks {
        target: Target,
        az: Option<String>,
        task_ids: Vec<String>,
        reason: String,
        impair_ms: Option<i64>,
    },
    /// End an AZ impairment (simulator) / a sweep.
    ReleaseAz { target: Target, az: String },
    /// Read-only: the last known-good task definition of the service.
    ResolveRevision { target: Target, current: String },
}

/// A service in a region (serialisable twin of [`ServiceRef`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub cluster: String,
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The account and region of the service the call resolved to (added
    /// to the journal; older journals have neither). `region` stays what
    /// the runbook named, and the label with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_region: Option<String>,
}

impl Target {
    pub fn from_ref(r: &ServiceRef) -> Target {
        Target {
            cluster: r.cluster.clone(),
            service: r.service.clone(),
            region: r.region.clone(),
            account: None,
            service_region: None,
        }
    }

    /// The region the call goes to: the one named, else the one resolved.
    pub fn place(&self) -> (Option<&str>, Option<&str>) {
        let region = self
            .region
            .as_deref()
            .filter(|r| !r.is_empty())
            .or(self.service_region.as_deref());
        (self.account.as_deref(), region)
    }

    /// Pinned to the service it resolved to: its region and account, so a
    /// twin elsewhere is never the one acted on.
    pub fn resolved(r: &ServiceRef, svc: &crate::model::Service) -> Target {
        let mut t = Target::from_ref(r);
        t.service_region = Some(svc.region.clone()).filter(|r| !r.is_empty());
        t.account = Some(svc.account.clone()).filter(|a| !a.is_empty());
        t
    }
    pub fn as_ref(&self) -> ServiceRef {
        ServiceRef {
            cluster: self.cluster.clone(),
            service: self.service.clone(),
            region: self.region.clone(),
        }
    }
    pub fn label(&self) -> String {
        match &self.region {
            Some(r) => format!("{}/{} ({r})", self.cluster, self.service),
            None => format!("{}/{}", self.cluster, self.service),
        }
    }
}

impl PlannedCall {
    pub fn api(&self) -> &'static str {
        match self {
            PlannedCall::Scale { .. } => "ecs:UpdateService",
            PlannedCall::SetCapacity { .. } => "application-autoscaling:RegisterScalableTarget",
            PlannedCall::UpdateService { .. } | PlannedCall::ForceNewDeployment { .. } => {
                "ecs:UpdateService"
            }
            PlannedCall::StopDeployment { .. } => "ecs:StopServiceDeployment",
            PlannedCall::StopTasks { .. } => "ecs:StopTask",
            PlannedCall::ReleaseAz { .. } => "(end of AZ impairment)",
            PlannedCall::ResolveRevision { .. } => "ecs:DescribeServices+DescribeTaskDefinition",
        }
    }

    /// The service (and region) the call is for.
    pub fn target(&self) -> &Target {
        match self {
            PlannedCall::Scale { target, .. }
            | PlannedCall::SetCapacity { target, .. }
            | PlannedCall::UpdateService { target, .. }
            | PlannedCall::ForceNewDeployment { target }
            | PlannedCall::StopDeployment { target, .. }
            | PlannedCall::StopTasks { target, .. }
            | PlannedCall::ReleaseAz { target, .. }
            | PlannedCall::ResolveRevision { target, .. } => target,
        }
    }

    /// A change to the value it already has (restoring what was not changed).
    pub fn is_noop(&self) -> bool {
        match self {
            PlannedCall::Scale { from, to, .. } => from == to,
            PlannedCall::SetCapacity { from, to, .. } => from == to,
            PlannedCall::UpdateService { from, to, .. } => from == to,
            _ => false,
        }
    }

    pub fn mutates(&self) -> bool {
        !matches!(
            self,
            PlannedCall::ResolveRevision { .. } | PlannedCall::ReleaseAz { .. }
        )
    }

    /// The exact change: service, field, old → new.
    pub fn describe(&self) -> String {
        match self {
            PlannedCall::Scale { target, from, to } => format!(
                "UpdateService {}: desiredCount {from} → {to}",
                target.label()
            ),
            PlannedCall::SetCapacity {
                resource_id,
                from,
                to,
                ..
            } => format!(
                "RegisterScalableTarget {resource_id}: MinCapacity {} → {}, MaxCapacity {} → {}",
                from.0, to.0, from.1, to.1
            ),
            PlannedCall::UpdateService { target, from, to } => format!(
                "UpdateService {}: taskDefinition {} → {}",
                target.label(),
                short_task_definition(from),
                short_task_definition(to)
            ),
            PlannedCall::ForceNewDeployment { target } => format!(
                "UpdateService {}: forceNewDeployment = true",
                target.label()
            ),
            PlannedCall::StopDeployment {
                target,
                deployment_id,
                stop_type,
                rollback_to,
            } => format!(
                "StopServiceDeployment {}: {deployment_id} stopType={stop_type} (back to {})",
                target.label(),
                rollback_to
                    .as_deref()
                    .map(short_task_definition)
                    .unwrap_or("the previous deployment")
            ),
            PlannedCall::StopTasks {
                target,
                az,
                task_ids,
                reason,
                impair_ms,
            } => {
                let ids = if task_ids.len() <= 6 {
                    format!(" [{}]", task_ids.join(", "))
                } else {
                    format!(
                        " [{}, … {} more]",
                        task_ids[..4].join(", "),
                        task_ids.len() - 4
                    )
                };
                let mut s = format!(
                    "StopTask × {} in {}{}{ids}: reason {reason:?}",
                    task_ids.len(),
                    target.label(),
                    az.as_deref().map(|a| format!(" / {a}")).unwrap_or_default(),
                );
                if let Some(ms) = impair_ms {
                    s.push_str(&format!(
                        "; keep {} impaired for {}",
                        az.as_deref().unwrap_or("the AZ"),
                        fmt_dur(*ms)
                    ));
                }
                s
            }
            PlannedCall::ReleaseAz { az, .. } => {
                format!("release {az}: stop sweeping, allow placement")
            }
            PlannedCall::ResolveRevision { target, current } => format!(
                "find the last known-good task definition of {} (now {})",
                target.label(),
                short_task_definition(current)
            ),
        }
    }
}

/// What a backend answers for a call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallOutput {
    /// AWS request ids (one per API request made).
    pub request_ids: Vec<String>,
    /// Call-specific output (ResolveRevision: `{taskDefinition, …}`).
    pub detail: Value,
}

pub fn fmt_dur(ms: i64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, s % 3600 / 60, s % 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Where a headless run reads the fleet and makes its calls.
pub trait Backend {
    /// The source clock.
    fn now(&self) -> EpochMs;
    /// The fleet now (a backend may reuse a recent read).
    fn snapshot(&mut self) -> Arc<FleetSnapshot>;
    /// Let time pass until `t` (virtual on the simulator, a sleep on AWS).
    fn advance_to(&mut self, t: EpochMs);
    /// Perform one call.
    fn call(&mut self, c: &PlannedCall) -> Result<CallOutput, String>;
}

/// The last known-good task definition of a service: the task definition of
/// the deployment that is not PRIMARY (during or right after a deployment),
/// else the newest earlier revision of the same family that is known.
pub fn previous_task_definition(
    snap: &FleetSnapshot,
    r: &ServiceRef,
) -> Result<serde_json::Value, String> {
    let svc = find_service(snap, r)
        .ok_or_else(|| format!("service {}/{} not found", r.cluster, r.service))?;
    let current = svc.task_definition.clone();
    let from_deployments = svc
        .deployments
        .iter()
        .filter(|d| d.status != DeploymentStatus::Primary && d.task_definition != current)
        .max_by_key(|d| d.created_at)
        .map(|d| d.task_definition.clone());
    let cur_td = snap.task_definition(&current);
    let from_family = cur_td.and_then(|cur| {
        snap.task_definitions
            .values()
            .filter(|t| t.family == cur.family && t.revision < cur.revision)
            .max_by_key(|t| t.revision)
            .map(|t| t.arn.clone())
    });
    let good = from_deployments.or(from_family).ok_or_else(|| {
        format!(
            "no earlier revision of {} is known (pass the revision by hand)",
            short_task_definition(&current)
        )
    })?;
    let images: Vec<String> = snap
        .task_definition(&good)
        .map(|t| {
            t.container_definitions
                .iter()
                .map(|c| c.image.clone())
                .collect()
        })
        .unwrap_or_default();
    Ok(json!({
        "taskDefinition": good,
        "familyRevision": short_task_definition(&good),
        "current": current,
        "images": images,
    }))
}
