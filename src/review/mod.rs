//! The findings engine: one small pure function per check of
//! `shared/review-criteria.md`, over the model only (no SDK, no ratatui).
//!
//! [`evaluate`] runs every check against a snapshot and returns the findings
//! (only checks that fired), the checks it could not evaluate with the
//! reason, and the checks that were suppressed.

mod checks;
pub mod fargate;
pub mod report;
pub mod suppress;

use std::collections::BTreeMap;

use serde::Serialize;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::model::{
    Alarm, Cluster, FleetSnapshot, LogGroup, ScalableTarget, Service, ServiceMetrics, TargetGroup,
    TaskDefinition,
};

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
    pub pillars: &'static [Pillar],
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

/// What a check function sees for one service: the service and everything
/// about it, looked up once (the checks never scan the fleet).
pub struct Ctx<'a> {
    pub snap: &'a FleetSnapshot,
    pub cfg: &'a ReviewConfig,
    pub svc: &'a Service,
    pub cluster: Option<&'a Cluster>,
    /// The PRIMARY deployment's task definition.
    pub td: Option<&'a TaskDefinition>,
    pub alarms: &'a [&'a Alarm],
    pub target_groups: Vec<&'a TargetGroup>,
    pub scalable: Option<&'a ScalableTarget>,
    pub metrics: Option<&'a ServiceMetrics>,
    pub log_groups: &'a FxHashMap<&'a str, &'a LogGroup>,
    /// The first service of its cluster (cluster-level checks report once).
    pub first_in_cluster: bool,
}

/// Fleet-wide lookups built once per evaluation.
pub struct Index<'a> {
    /// By (cluster, service), from the alarm's `service_key`.
    alarms: FxHashMap<(&'a str, &'a str), Vec<&'a Alarm>>,
    target_groups: FxHashMap<&'a str, &'a TargetGroup>,
    /// By (cluster, service), from `service/<cluster>/<service>`.
    scalable: FxHashMap<(&'a str, &'a str), &'a ScalableTarget>,
    /// By (cluster, service), from the `cluster/service` metrics key.
    metrics: FxHashMap<(&'a str, &'a str), &'a ServiceMetrics>,
    log_groups: FxHashMap<&'a str, &'a LogGroup>,
    clusters: FxHashMap<&'a str, &'a Cluster>,
    first_in_cluster: FxHashMap<&'a str, usize>,
}

impl<'a> Index<'a> {
    pub fn new(snap: &'a FleetSnapshot) -> Index<'a> {
        let mut alarms: FxHashMap<(&str, &str), Vec<&Alarm>> = FxHashMap::default();
        for a in &snap.alarms {
            if let Some((c, s)) = a.service_key.as_deref().and_then(|k| k.split_once('/')) {
                alarms.entry((c, s)).or_default().push(a);
            }
        }
        let mut first_in_cluster = FxHashMap::default();
        for (i, s) in snap.services.iter().enumerate() {
            first_in_cluster.entry(s.cluster.as_str()).or_insert(i);
        }
        Index {
            alarms,
            target_groups: snap
                .target_groups
                .iter()
                .map(|t| (t.arn.as_str(), t))
                .collect(),
            scalable: snap
                .scalable_targets
                .iter()
                .filter_map(|t| {
                    let (c, s) = t.resource_id.strip_prefix("service/")?.split_once('/')?;
                    Some(((c, s), t))
                })
                .collect(),
            metrics: snap
                .metrics
                .iter()
                .filter_map(|(k, m)| Some((k.split_once('/')?, m)))
                .collect(),
            log_groups: snap
                .log_groups
                .iter()
                .map(|l| (l.name.as_str(), l))
                .collect(),
            clusters: snap.clusters.iter().map(|c| (c.name.as_str(), c)).collect(),
            first_in_cluster,
        }
    }
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
    /// Findings an active suppression accepted.
    pub suppressed: Vec<(Finding, suppress::Suppression)>,
}

impl Review {
    /// Findings per pillar and severity (a finding counts for each of its pillars).
    pub fn counts(&self) -> BTreeMap<Pillar, BTreeMap<Severity, usize>> {
        let mut out: BTreeMap<Pillar, BTreeMap<Severity, usize>> = BTreeMap::new();
        for f in &self.findings {
            for p in f.pillars {
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
    let index = Index::new(snap);
    let skip = unreadable(snap);
    let n = snap.services.len();
    // Two halves of the fleet on two threads for big fleets (the checks are
    // pure functions over shared, immutable data).
    let per_half = |range: std::ops::Range<usize>| {
        let mut out = Vec::with_capacity(range.len() * 8);
        for i in range {
            out.extend(evaluate_service_skipping(
                snap,
                cfg,
                &index,
                i,
                &snap.services[i],
                &skip,
            ));
        }
        out
    };
    let findings = if n >= 200 {
        let (a, b) = std::thread::scope(|s| {
            let h = s.spawn(|| per_half(n / 2..n));
            let a = per_half(0..n / 2);
            (a, h.join().unwrap_or_default())
        });
        sorted_by_buckets(a.into_iter().chain(b))
    } else {
        sorted_by_buckets(per_half(0..n).into_iter())
    };
    Review {
        findings,
        not_evaluated: not_evaluated_for(&skip),
        suppressed: vec![],
    }
}

/// The API each data-dependent check reads beyond ECS, by check id. A check
/// whose data the source did not read is reported as not evaluated rather
/// than firing on absent data (no alarms read ≠ no alarms).
pub fn data_needs(id: &str) -> Option<(&'static str, &'static str)> {
    Some(match id {
        "OPS-05" | "OPS-06" | "OPS-07" => ("cloudwatch", "cloudwatch:DescribeAlarms"),
        "PERF-02" | "COST-01" | "SUS-02" => ("metrics", "cloudwatch:GetMetricData"),
        "OPS-03" => ("logs", "logs:DescribeLogGroups"),
        "SEC-06" => ("iam", "iam:GetRolePolicy / ListAttachedRolePolicies"),
        "REL-05" => ("ec2", "ec2:DescribeSubnets"),
        "REL-14" => ("elbv2", "elasticloadbalancing:DescribeLoadBalancers"),
        "REL-04" | "REL-10" | "REL-11" | "SUS-01" | "PERF-03" => (
            "autoscaling",
            "application-autoscaling:DescribeScalableTargets",
        ),
        _ => return None,
    })
}

/// Checks (id → reason) whose data this snapshot's source did not read. The
/// simulator models everything; AWS reports per API in `freshness`.
pub fn unreadable(snap: &FleetSnapshot) -> Vec<(&'static str, String)> {
    if snap.source.kind != "aws" {
        return vec![];
    }
    CHECKS
        .iter()
        .filter_map(|c| {
            let (kind, api) = data_needs(c.id)?;
            // Every region's reading of it (`kind`, `kind@us-west-2`, …).
            let readings: Vec<&crate::model::Freshness> = snap
                .freshness
                .iter()
                .filter(|(k, _)| {
                    *k == kind || k.strip_prefix(kind).is_some_and(|r| r.starts_with('@'))
                })
                .map(|(_, f)| f)
                .collect();
            let reason = match readings.iter().find(|f| f.updated_at.is_none()) {
                _ if readings.is_empty() => {
                    format!("needs {api}, which this source does not read yet")
                }
                Some(f) => format!("needs {api}: {}", f.error.as_deref().unwrap_or("not read")),
                None => return None,
            };
            Some((c.id, reason))
        })
        .collect()
}

/// The checks not evaluated: those that need other services, then those
/// whose data the source did not read.
pub fn not_evaluated_for(skip: &[(&'static str, String)]) -> Vec<NotEvaluated> {
    let mut out = not_evaluated();
    out.extend(skip.iter().filter_map(|(id, reason)| {
        let c = CHECKS.iter().find(|c| c.id == *id)?;
        Some(NotEvaluated {
            id: c.id,
            title: c.title,
            reason: reason.clone(),
        })
    }));
    out
}

/// The checks this build cannot evaluate, with the reason.
pub fn not_evaluated() -> Vec<NotEvaluated> {
    CHECKS
        .iter()
        .filter_map(|c| match c.kind {
            Kind::NotEvaluated(reason) => Some(NotEvaluated {
                id: c.id,
                title: c.title,
                reason: reason.to_string(),
            }),
            Kind::Service(_) => None,
        })
        .collect()
}

fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    (a.severity, a.id, &a.resource).cmp(&(b.severity, b.id, &b.resource))
}

pub(crate) fn sort(findings: &mut [Finding]) {
    findings.sort_by(order);
}

/// The same order as [`sort`], cheaper for a whole fleet: findings arrive
/// service by service (services are ordered by region, cluster, name, and so
/// are their ARNs), so each (severity, id) bucket is nearly sorted by
/// resource already, and each finding moves twice instead of once per
/// merge pass.
fn sorted_by_buckets(findings: impl Iterator<Item = Finding>) -> Vec<Finding> {
    let mut buckets: std::collections::BTreeMap<(Severity, &'static str), Vec<Finding>> =
        std::collections::BTreeMap::new();
    let mut total = 0;
    for f in findings {
        total += 1;
        buckets.entry((f.severity, f.id)).or_default().push(f);
    }
    let mut out = Vec::with_capacity(total);
    for (_, mut b) in buckets {
        b.sort_by(|x, y| x.resource.cmp(&y.resource));
        out.append(&mut b);
    }
    out
}
/// Every check on one service (the unit of incremental re-evaluation).
pub fn evaluate_service(
    snap: &FleetSnapshot,
    cfg: &ReviewConfig,
    index: &Index,
    position: usize,
    svc: &Service,
) -> Vec<Finding> {
    evaluate_service_skipping(snap, cfg, index, position, svc, &[])
}

fn evaluate_service_skipping(
    snap: &FleetSnapshot,
    cfg: &ReviewConfig,
    index: &Index,
    position: usize,
    svc: &Service,
    skip: &[(&'static str, String)],
) -> Vec<Finding> {
    let ctx = ctx_with(snap, cfg, index, position, svc);
    let mut out = Vec::new();
    for check in CHECKS {
        if let Kind::Service(f) = check.kind
            && !skip.iter().any(|(id, _)| *id == check.id)
        {
            out.extend(f(&ctx).into_iter().map(|hit| finding(check, svc, hit)));
        }
    }
    out
}

fn merge_sorted(a: Vec<Finding>, b: Vec<Finding>) -> Vec<Finding> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let mut a = a.into_iter().peekable();
    let mut b = b.into_iter().peekable();
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => order(x, y) != std::cmp::Ordering::Greater,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        out.extend(if take_a { a.next() } else { b.next() });
    }
    out
}

pub(crate) fn ctx_with<'a>(
    snap: &'a FleetSnapshot,
    cfg: &'a ReviewConfig,
    index: &'a Index<'a>,
    position: usize,
    svc: &'a Service,
) -> Ctx<'a> {
    let td_arn = svc
        .primary_deployment()
        .map(|d| d.task_definition.as_str())
        .unwrap_or(svc.task_definition.as_str());
    let key = (svc.cluster.as_str(), svc.name.as_str());
    Ctx {
        snap,
        cfg,
        svc,
        cluster: index.clusters.get(svc.cluster.as_str()).copied(),
        td: snap.task_definition(td_arn),
        alarms: index.alarms.get(&key).map_or(&[], Vec::as_slice),
        target_groups: svc
            .load_balancers
            .iter()
            .filter_map(|lb| {
                index
                    .target_groups
                    .get(lb.target_group_arn.as_str())
                    .copied()
            })
            .collect(),
        scalable: index.scalable.get(&key).copied(),
        metrics: index.metrics.get(&key).copied(),
        log_groups: &index.log_groups,
        first_in_cluster: index.first_in_cluster.get(svc.cluster.as_str()) == Some(&position),
    }
}

fn finding(check: &Check, svc: &Service, hit: Hit) -> Finding {
    Finding {
        id: check.id,
        title: check.title,
        severity: hit.severity,
        pillar: check.pillars[0],
        pillars: check.pillars,
        cluster: svc.cluster.clone(),
        service: Some(svc.name.clone()),
        resource: hit.resource,
        evidence: hit.evidence,
        remediation: check.remediation,
        fix: hit.fix,
        doc_url: check.doc_url,
    }
}

/// The inputs of one service's checks, kept to tell whether they changed.
#[derive(Clone, PartialEq)]
struct Inputs {
    service: std::sync::Arc<Service>,
    td: Option<std::sync::Arc<TaskDefinition>>,
    cluster: Option<Cluster>,
    alarms: Vec<Alarm>,
    target_groups: Vec<TargetGroup>,
    scalable: Option<ScalableTarget>,
    metrics: Option<ServiceMetrics>,
    log_groups: Vec<LogGroup>,
    first_in_cluster: bool,
}

/// Incremental evaluation: only services whose inputs changed since the last
/// snapshot are re-checked; the review is patched in place.
#[derive(Default)]
pub struct ReviewCache {
    /// By service ARN.
    inputs: FxHashMap<String, Inputs>,
    /// Checks skipped for want of data, as of the last update.
    skip: Vec<(&'static str, String)>,
    review: Review,
    /// Services re-evaluated by the last [`ReviewCache::update`].
    pub last_evaluated: usize,
}

impl ReviewCache {
    /// The review as of the last update.
    pub fn review(&self) -> &Review {
        &self.review
    }

    pub fn update(&mut self, snap: &FleetSnapshot, cfg: &ReviewConfig) -> &Review {
        let skip = unreadable(snap);
        if skip != self.skip {
            // What the source reads changed: everything is re-checked.
            self.inputs.clear();
            self.review.findings.clear();
            self.skip = skip;
        }
        let index = Index::new(snap);
        // (cluster, service) of services re-evaluated or gone.
        let mut changed: Vec<(&str, &str)> = Vec::new();
        let mut added: Vec<Finding> = Vec::new();
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        for (i, svc) in snap.services.iter().enumerate() {
            // Keyed by ARN: unique across regions, and looked up without allocating.
            let key = svc.arn.as_str();
            let ctx = ctx_with(snap, cfg, &index, i, svc);
            let td_arn = svc
                .primary_deployment()
                .map(|d| d.task_definition.as_str())
                .unwrap_or(&svc.task_definition);
            let same = self
                .inputs
                .get(key)
                .is_some_and(|old| unchanged(old, &ctx, svc, snap, td_arn));
            if !same {
                added.extend(evaluate_service_skipping(
                    snap, cfg, &index, i, svc, &self.skip,
                ));
                self.inputs
                    .insert(key.to_string(), Inputs::of(&ctx, svc, snap, td_arn));
                changed.push((svc.cluster.as_str(), svc.name.as_str()));
            }
            seen.insert(key);
        }
        let gone: Vec<String> = self
            .inputs
            .keys()
            .filter(|k| !seen.contains(k.as_str()))
            .cloned()
            .collect();
        let mut gone_names: Vec<(String, String)> = Vec::new();
        for k in &gone {
            if let Some(old) = self.inputs.remove(k) {
                gone_names.push((old.service.cluster.clone(), old.service.name.clone()));
            }
        }
        changed.extend(gone_names.iter().map(|(c, n)| (c.as_str(), n.as_str())));
        self.last_evaluated = changed.len() - gone_names.len();
        if !changed.is_empty() {
            let hit = |f: &Finding| {
                let svc = f.service.as_deref().unwrap_or("");
                changed
                    .iter()
                    .any(|(c, n)| *n == svc && *c == f.cluster.as_str())
            };
            let mut kept = std::mem::take(&mut self.review.findings);
            if changed.len() <= 16 {
                kept.retain(|f| !hit(f));
            } else {
                let drop: FxHashSet<(&str, &str)> = changed.iter().copied().collect();
                kept.retain(|f| {
                    !drop.contains(&(f.cluster.as_str(), f.service.as_deref().unwrap_or("")))
                });
            }
            // Both sides are sorted: merge instead of sorting everything again.
            sort(&mut added);
            self.review.findings = merge_sorted(kept, added);
        }
        self.review.not_evaluated = not_evaluated_for(&self.skip);
        &self.review
    }
}

impl Inputs {
    fn of(ctx: &Ctx, svc: &std::sync::Arc<Service>, snap: &FleetSnapshot, td_arn: &str) -> Inputs {
        Inputs {
            service: svc.clone(),
            td: snap.task_definitions.get(td_arn).cloned(),
            cluster: ctx.cluster.cloned(),
            alarms: ctx.alarms.iter().map(|a| (*a).clone()).collect(),
            target_groups: ctx.target_groups.iter().map(|t| (*t).clone()).collect(),
            scalable: ctx.scalable.cloned(),
            metrics: ctx.metrics.cloned(),
            log_groups: service_log_groups(ctx).into_iter().cloned().collect(),
            first_in_cluster: ctx.first_in_cluster,
        }
    }
}

fn service_log_groups<'a>(ctx: &Ctx<'a>) -> Vec<&'a LogGroup> {
    ctx.td.map_or_else(Vec::new, |t| {
        t.container_definitions
            .iter()
            .filter_map(|d| d.log_configuration.as_ref()?.options.get("awslogs-group"))
            .filter_map(|g| ctx.log_groups.get(g.as_str()).copied())
            .collect()
    })
}

/// Metric series equal, treating NaN gaps as equal to themselves.
fn same_metrics(a: Option<&ServiceMetrics>, b: Option<&ServiceMetrics>) -> bool {
    let series = |x: &crate::model::MetricSeries, y: &crate::model::MetricSeries| {
        x.end == y.end
            && x.period_seconds == y.period_seconds
            && x.values.len() == y.values.len()
            && x.values
                .iter()
                .zip(&y.values)
                .all(|(p, q)| p.to_bits() == q.to_bits())
    };
    match (a, b) {
        (Some(a), Some(b)) => {
            series(&a.cpu, &b.cpu)
                && series(&a.memory, &b.memory)
                && series(&a.requests, &b.requests)
                && series(&a.http_5xx, &b.http_5xx)
                && series(&a.latency_p99_ms, &b.latency_p99_ms)
        }
        (None, None) => true,
        _ => false,
    }
}

/// Compare a service's recorded inputs with the current ones without
/// cloning the current ones.
fn unchanged(
    old: &Inputs,
    ctx: &Ctx,
    svc: &std::sync::Arc<Service>,
    snap: &FleetSnapshot,
    td_arn: &str,
) -> bool {
    old.first_in_cluster == ctx.first_in_cluster
        // Sources hand out the same Arc for an unchanged service.
        && (std::sync::Arc::ptr_eq(&old.service, svc) || *old.service == **svc)
        && match (&old.td, snap.task_definitions.get(td_arn)) {
            (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b) || a == b,
            (None, None) => true,
            _ => false,
        }
        && old.cluster.as_ref() == ctx.cluster
        && old.scalable.as_ref() == ctx.scalable
        && same_metrics(old.metrics.as_ref(), ctx.metrics)
        && old.alarms.len() == ctx.alarms.len()
        && old.alarms.iter().zip(ctx.alarms).all(|(a, b)| a == *b)
        && old.target_groups.len() == ctx.target_groups.len()
        && old
            .target_groups
            .iter()
            .zip(&ctx.target_groups)
            .all(|(a, b)| a == *b)
        && {
            let now = service_log_groups(ctx);
            old.log_groups.len() == now.len() && old.log_groups.iter().zip(now).all(|(a, b)| a == b)
        }
}
