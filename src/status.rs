//! `ecsdeck status`: a one-shot fleet summary for scripts and SSH checks.
//!
//! JSON contract (documented in the README; add fields, never rename):
//! `services[]` with `.region`, `.cluster`, `.name`, `.health`
//! (steady|deploying|degraded|failed), `.desired`, `.running`, `.pending`,
//! `.tasks_by_az` {az: count}, `.alarms_in_alarm` [names], `.deployments`
//! [{`status`, `rollout_state`, `task_definition`}].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::model::az::UNKNOWN_AZ;
use crate::model::rows::{DeploymentSummary, ServiceRow};
use crate::model::{FleetSnapshot, ServiceHealth};
use crate::sanitize::sanitize;

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub source: SourceSummary,
    /// Source clock of the snapshot, RFC 3339.
    pub at: String,
    pub summary: BTreeMap<&'static str, usize>,
    pub services: Vec<ServiceStatus>,
    /// Every data kind of every region that failed or read with problems.
    pub errors: Vec<crate::model::DataError>,
}

#[derive(Debug, Serialize)]
pub struct SourceSummary {
    pub kind: String,
    pub label: String,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ServiceStatus {
    pub region: String,
    pub cluster: String,
    pub name: String,
    pub health: ServiceHealth,
    pub desired: i32,
    pub running: i32,
    pub pending: i32,
    pub tasks_by_az: BTreeMap<String, u32>,
    pub alarms_in_alarm: Vec<String>,
    pub deployments: Vec<DeploymentSummary>,
}

pub fn rfc3339(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

pub fn report(snap: &FleetSnapshot, rows: &[ServiceRow]) -> StatusReport {
    let mut summary = BTreeMap::new();
    summary.insert("services", rows.len());
    for h in [
        ServiceHealth::Steady,
        ServiceHealth::Deploying,
        ServiceHealth::Degraded,
        ServiceHealth::Failed,
    ] {
        summary.insert(h.as_str(), rows.iter().filter(|r| r.health == h).count());
    }
    StatusReport {
        source: SourceSummary {
            kind: snap.source.kind.clone(),
            label: snap.source.label.clone(),
            region: snap.source.region.clone(),
            seed: snap.source.seed,
        },
        at: rfc3339(snap.at),
        summary,
        errors: snap.errors(),
        services: rows
            .iter()
            .map(|r| {
                let mut tasks_by_az = r.spread.counts.clone();
                if r.spread.unknown > 0 {
                    tasks_by_az.insert(UNKNOWN_AZ.to_string(), r.spread.unknown);
                }
                ServiceStatus {
                    region: r.region.clone(),
                    cluster: r.cluster.clone(),
                    name: r.name.clone(),
                    health: r.health,
                    desired: r.desired,
                    running: r.running,
                    pending: r.pending,
                    tasks_by_az,
                    alarms_in_alarm: r.alarms_in_alarm.clone(),
                    deployments: r.deployments.clone(),
                }
            })
            .collect(),
    }
}

/// The kinds health is judged on beyond ECS (alarms in ALARM, unhealthy
/// targets) that were not read, as `kind (region)`: while any is, a fleet
/// that looks healthy may not be.
pub fn health_unread(snap: &FleetSnapshot) -> Vec<String> {
    snap.errors()
        .into_iter()
        .filter(|e| !e.partial && (e.kind == "cloudwatch" || e.kind == "elbv2"))
        .map(|e| format!("{} ({})", e.kind, sanitize(&e.region)))
        .collect()
}

/// 0 when no service is degraded or failed, 1 otherwise.
pub fn exit_code(rows: &[ServiceRow]) -> i32 {
    if rows.iter().any(|r| r.health.is_unhealthy()) {
        1
    } else {
        0
    }
}

/// The text form: one line per service, every source string sanitized.
pub fn render_text(rep: &StatusReport) -> String {
    let s = |x: &str| sanitize(x).into_owned();
    let mut out = String::new();
    let seed = rep
        .source
        .seed
        .map(|n| format!(" seed {n}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "ecsdeck status · {} {}{seed} · {} · {}",
        s(&rep.source.kind),
        s(&rep.source.label),
        s(&rep.source.region),
        rep.at
    );
    let _ = writeln!(
        out,
        "{:<10} {:<16} {:<24} {:>11}  {:<24} {:<20} ALARMS",
        "HEALTH", "CLUSTER", "SERVICE", "DES/RUN/PND", "DEPLOYMENTS", "TASKS PER AZ"
    );
    for r in &rep.services {
        let deps = r
            .deployments
            .iter()
            .map(|d| {
                let st = d.rollout_state.as_deref().unwrap_or("-");
                format!("{}:{}", d.status.get(..1).unwrap_or("?"), st)
            })
            .collect::<Vec<_>>()
            .join(",");
        let azs = r
            .tasks_by_az
            .iter()
            .map(|(az, n)| format!("{}:{n}", crate::model::az::az_short(az)))
            .collect::<Vec<_>>()
            .join(" ");
        let alarms = if r.alarms_in_alarm.is_empty() {
            "-".to_string()
        } else {
            r.alarms_in_alarm
                .iter()
                .map(|a| s(a))
                .collect::<Vec<_>>()
                .join(",")
        };
        let _ = writeln!(
            out,
            "{:<10} {:<16} {:<24} {:>11}  {:<24} {:<20} {alarms}",
            r.health.as_str(),
            s(&r.cluster),
            s(&r.name),
            format!("{}/{}/{}", r.desired, r.running, r.pending),
            deps,
            azs
        );
    }
    let counts = ["steady", "deploying", "degraded", "failed"]
        .iter()
        .map(|k| format!("{} {k}", rep.summary.get(k).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(out, "{} services: {counts}", rep.services.len());
    out
}
