//! The findings engine: one small pure function per check of
//! `shared/review-criteria.md`, over the model only (no SDK, no ratatui).
//!
//! [`evaluate`] runs every check against a snapshot and returns the findings
//! (only checks that fired), the checks it could not evaluate with the
//! reason, and the checks that were suppressed.

mod checks;
pub mod fargate;
pub mod report;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Cluster, FleetSnapshot, Service, TaskDefinition};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "critical" => Some(Severity::Critical),
            "high" => Some(Severity::High),
            "medium" => Some(Severity::Medium),
            "low" => Some(Severity::Low),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Pillar {
    #[serde(rename = "OPS")]
    Ops,
    #[serde(rename = "SEC")]
    Sec,
    #[serde(rename = "REL")]
    Rel,
    #[serde(rename = "PERF")]
    Perf,
    #[serde(rename = "COST")]
    Cost,
    #[serde(rename = "SUS")]
    Sus,
}

impl Pillar {
    pub const ALL: [Pillar; 6] = [
        Pillar::Ops,
        Pillar::Sec,
        Pillar::Rel,
        Pillar::Perf,
        Pillar::Cost,
        Pillar::Sus,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Pillar::Ops => "OPS",
            Pillar::Sec => "SEC",
            Pillar::Rel => "REL",
            Pillar::Perf => "PERF",
            Pillar::Cost => "COST",
            Pillar::Sus => "SUS",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Pillar::Ops => "Operational excellence",
            Pillar::Sec => "Security",
            Pillar::Rel => "Reliability",
            Pillar::Perf => "Performance efficiency",
            Pillar::Cost => "Cost optimization",
            Pillar::Sus => "Sustainability",
        }
    }
}

/// One check that fired, on one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// The first of `pillars`.
    pub pillar: Pillar,
    pub pillars: Vec<Pillar>,
    pub cluster: String,
    pub service: Option<String>,
    /// ARN of the service, task definition, cluster, alarm or log group.
    pub resource: String,
    /// The exact fields and values that triggered it.
    pub evidence: Vec<String>,
    pub remediation: &'static str,
    /// The CLI change that fixes it.
    pub fix: String,
    pub doc_url: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotEvaluated {
    pub id: &'static str,
    pub title: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewConfig {
    /// Tag whose value says prod or not.
    pub environment_tag: String,
    /// Values of that tag meaning production (case-insensitive).
    pub prod_values: Vec<String>,
    /// Cost-allocation tags every resource should carry.
    pub required_tags: Vec<String>,
    /// Minimum log retention in days (0 = any retention is fine).
    pub min_log_retention_days: i32,
}

impl Default for ReviewConfig {
    fn default() -> Self {
        ReviewConfig {
            environment_tag: "Environment".into(),
            prod_values: vec!["prod".into(), "production".into()],
            required_tags: vec![
                "Owner".into(),
                "Environment".into(),
                "CostCenter".into(),
                "Application".into(),
            ],
            min_log_retention_days: 0,
        }
    }
}

/// What a check function sees for one service.
pub struct Ctx<'a> {
    pub snap: &'a FleetSnapshot,
    pub cfg: &'a ReviewConfig,
    pub svc: &'a Service,
    pub cluster: Option<&'a Cluster>,
    /// The PRIMARY deployment's task definition.
    pub td: Option<&'a TaskDefinition>,
}

impl Ctx<'_> {
    /// The environment tag of the service, its task definition, or its cluster.
    pub fn environment(&self) -> Option<&str> {
        let k = &self.cfg.environment_tag;
        self.svc
            .tags
            .get(k)
            .or_else(|| self.td.and_then(|t| t.tags.get(k)))
            .or_else(|| self.cluster.and_then(|c| c.tags.get(k)))
            .map(String::as_str)
    }

    pub fn is_prod(&self) -> bool {
        self.environment().is_some_and(|e| {
            self.cfg
                .prod_values
                .iter()
                .any(|p| p.eq_ignore_ascii_case(e))
        })
    }

    /// Fargate: launchType FARGATE, or a FARGATE/FARGATE_SPOT capacity
    /// provider (the service's strategy, else the cluster default).
    pub fn is_fargate(&self) -> bool {
        if self.svc.launch_type == "FARGATE" {
            return true;
        }
        let strategy =
            if self.svc.capacity_provider_strategy.is_empty() && self.svc.launch_type.is_empty() {
                self.cluster
                    .map(|c| c.default_capacity_provider_strategy.as_slice())
                    .unwrap_or_default()
            } else {
                self.svc.capacity_provider_strategy.as_slice()
            };
        strategy
            .iter()
            .any(|c| c.capacity_provider == "FARGATE" || c.capacity_provider == "FARGATE_SPOT")
    }

    pub fn is_linux(&self) -> bool {
        self.td
            .and_then(|t| t.operating_system_family.as_deref())
            .is_none_or(|f| f.eq_ignore_ascii_case("LINUX"))
    }

    pub fn service_name(&self) -> String {
        format!("{}/{}", self.svc.cluster, self.svc.name)
    }
}

/// A check's fixed metadata.
pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub pillars: &'static [Pillar],
    pub remediation: &'static str,
    pub doc_url: &'static str,
    pub kind: Kind,
}

pub enum Kind {
    /// Evaluated per service.
    Service(fn(&Ctx) -> Vec<Hit>),
    /// Needs data this build does not read.
    NotEvaluated(&'static str),
}

/// What a check function returns when it fires.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub severity: Severity,
    pub resource: String,
    pub evidence: Vec<String>,
    pub fix: String,
}

pub use checks::CHECKS;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Review {
    /// Sorted by severity, then id, then resource.
    pub findings: Vec<Finding>,
    pub not_evaluated: Vec<NotEvaluated>,
}

impl Review {
    /// Findings per pillar and severity (a finding counts for each of its pillars).
    pub fn counts(&self) -> BTreeMap<Pillar, BTreeMap<Severity, usize>> {
        let mut out: BTreeMap<Pillar, BTreeMap<Severity, usize>> = BTreeMap::new();
        for f in &self.findings {
            for p in &f.pillars {
                *out.entry(*p).or_default().entry(f.severity).or_default() += 1;
            }
        }
        out
    }

    /// A score per pillar: 100 minus weighted findings (critical 25, high 10,
    /// medium 4, low 1), floored at 0 — computed, not claimed.
    pub fn scores(&self) -> BTreeMap<Pillar, u32> {
        let counts = self.counts();
        Pillar::ALL
            .iter()
            .map(|p| {
                let penalty: usize = counts.get(p).map_or(0, |m| {
                    m.iter()
                        .map(|(s, n)| {
                            n * match s {
                                Severity::Critical => 25,
                                Severity::High => 10,
                                Severity::Medium => 4,
                                Severity::Low => 1,
                            }
                        })
                        .sum()
                });
                (*p, 100u32.saturating_sub(penalty as u32))
            })
            .collect()
    }

    /// True when any finding is at or above `threshold` (for `--fail-on`).
    pub fn fails_at(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity <= threshold)
    }

    pub fn for_service<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| {
            f.service
                .as_deref()
                .is_some_and(|s| s == key.rsplit('/').next().unwrap_or(key))
                && key.starts_with(&format!("{}/", f.cluster))
        })
    }
}

/// Run every check over every service of the snapshot.
pub fn evaluate(snap: &FleetSnapshot, cfg: &ReviewConfig) -> Review {
    let mut findings = Vec::new();
    let mut not_evaluated = Vec::new();
    for check in CHECKS {
        match check.kind {
            Kind::NotEvaluated(reason) => not_evaluated.push(NotEvaluated {
                id: check.id,
                title: check.title,
                reason: reason.to_string(),
            }),
            Kind::Service(f) => {
                for svc in &snap.services {
                    let ctx = ctx_for(snap, cfg, svc);
                    for hit in f(&ctx) {
                        findings.push(finding(check, svc, hit));
                    }
                }
            }
        }
    }
    findings.sort_by(|a, b| (a.severity, a.id, &a.resource).cmp(&(b.severity, b.id, &b.resource)));
    Review {
        findings,
        not_evaluated,
    }
}

pub(crate) fn ctx_for<'a>(
    snap: &'a FleetSnapshot,
    cfg: &'a ReviewConfig,
    svc: &'a Service,
) -> Ctx<'a> {
    let td_arn = svc
        .primary_deployment()
        .map(|d| d.task_definition.as_str())
        .unwrap_or(svc.task_definition.as_str());
    Ctx {
        snap,
        cfg,
        svc,
        cluster: snap.clusters.iter().find(|c| c.name == svc.cluster),
        td: snap.task_definition(td_arn),
    }
}

fn finding(check: &Check, svc: &Service, hit: Hit) -> Finding {
    Finding {
        id: check.id,
        title: check.title,
        severity: hit.severity,
        pillar: check.pillars[0],
        pillars: check.pillars.to_vec(),
        cluster: svc.cluster.clone(),
        service: Some(svc.name.clone()),
        resource: hit.resource,
        evidence: hit.evidence,
        remediation: check.remediation,
        fix: hit.fix,
        doc_url: check.doc_url,
    }
}
