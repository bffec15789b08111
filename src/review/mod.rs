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

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use rustc_hash::FxHashMap;

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
    /// Shared by every finding of the service (a fleet review makes tens of
    /// thousands of findings: one allocation per service, not per finding).
    pub cluster: Arc<str>,
    pub service: Option<Arc<str>>,
    /// The service's ARN: tells apart same-named services of two regions
    /// (not in the report: `cluster`/`service` are the contract there).
    #[serde(skip)]
    pub service_arn: Arc<str>,
    /// ARN of the service, task definition, cluster, alarm or log group.
    pub resource: Arc<str>,
    /// The exact fields and values that triggered it.
    pub evidence: Vec<String>,
    pub remediation: &'static str,
    /// The CLI change that fixes it.
    pub fix: Cow<'static, str>,
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
    pub alarms: Vec<&'a Alarm>,
    pub target_groups: Vec<&'a TargetGroup>,
    pub scalable: Option<&'a ScalableTarget>,
    pub metrics: Option<&'a ServiceMetrics>,
    index: &'a Index,
    /// The first service of its cluster (cluster-level checks report once).
    pub first_in_cluster: bool,
    /// p95 CPU and max memory over the metric window, computed once for the
    /// checks that read them.
    stats: std::cell::OnceCell<(Option<f64>, f64)>,
}

fn hash1(a: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    a.hash(&mut h);
    h.finish()
}

fn hash2(a: &str, b: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    a.hash(&mut h);
    b.hash(&mut h);
    h.finish()
}

/// `(cluster, service)` of an alarm attributed to a service.
fn alarm_key(a: &Alarm) -> Option<(&str, &str)> {
    a.service_key.as_deref()?.split_once('/')
}

/// `(cluster, service)` of an ECS scalable target.
fn scalable_key(t: &ScalableTarget) -> Option<(&str, &str)> {
    t.resource_id.strip_prefix("service/")?.split_once('/')
}

/// Fleet-wide lookups, built once per snapshot collection. It holds
/// positions into the snapshot's collections, not borrows, so the review
/// cache keeps it across snapshots for as long as those collections are the
/// same `Arc`s. Every lookup checks the key it finds, so a hash collision
/// can't attribute one service's alarm to another.
#[derive(Default, Clone)]
pub struct Index {
    /// Alarm positions by (cluster, service), from the alarm's `service_key`.
    alarms: hashbrown::HashTable<Vec<u32>>,
    target_groups: hashbrown::HashTable<u32>,
    /// By (cluster, service), from `service/<cluster>/<service>`.
    scalable: hashbrown::HashTable<u32>,
    log_groups: hashbrown::HashTable<u32>,
    clusters: hashbrown::HashTable<u32>,
    /// Task definitions by ARN (a hash lookup instead of a BTreeMap walk
    /// comparing long ARNs).
    tds: hashbrown::HashTable<u32>,
    td_list: Vec<Arc<TaskDefinition>>,
    /// Position of the first service of each cluster.
    first_in_cluster: hashbrown::HashTable<u32>,
}

impl Index {
    pub fn new(snap: &FleetSnapshot) -> Index {
        let mut ix = Index::default();
        ix.index_collections(snap);
        ix.index_services(snap);
        ix
    }

    /// Everything but the services.
    fn index_collections(&mut self, snap: &FleetSnapshot) {
        let alarms = &snap.alarms;
        self.alarms = hashbrown::HashTable::new();
        for (i, a) in alarms.iter().enumerate() {
            let Some((c, s)) = alarm_key(a) else { continue };
            let h = hash2(c, s);
            match self
                .alarms
                .find_mut(h, |v| alarm_key(&alarms[v[0] as usize]) == Some((c, s)))
            {
                Some(v) => v.push(i as u32),
                None => {
                    self.alarms.insert_unique(h, vec![i as u32], |v| {
                        let (c, s) = alarm_key(&alarms[v[0] as usize]).unwrap_or_default();
                        hash2(c, s)
                    });
                }
            }
        }
        fn build<T>(
            items: &[T],
            key: impl Fn(&T) -> Option<u64>,
            same: impl Fn(&T, &T) -> bool,
        ) -> hashbrown::HashTable<u32> {
            let mut t = hashbrown::HashTable::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                let Some(h) = key(x) else { continue };
                // The first of equal keys wins, as a map's first insert would.
                if t.find(h, |j: &u32| same(&items[*j as usize], x)).is_none() {
                    t.insert_unique(h, i as u32, |j: &u32| {
                        key(&items[*j as usize]).unwrap_or_default()
                    });
                }
            }
            t
        }
        self.target_groups = build(
            &snap.target_groups,
            |t| Some(hash1(&t.arn)),
            |a, b| a.arn == b.arn,
        );
        self.scalable = build(
            &snap.scalable_targets,
            |t| scalable_key(t).map(|(c, s)| hash2(c, s)),
            |a, b| scalable_key(a) == scalable_key(b),
        );
        self.log_groups = build(
            &snap.log_groups,
            |l| Some(hash1(&l.name)),
            |a, b| a.name == b.name,
        );
        self.clusters = build(
            &snap.clusters,
            |c| Some(hash1(&c.name)),
            |a, b| a.name == b.name,
        );
        self.td_list = snap.task_definitions.values().cloned().collect();
        self.tds = build(
            &self.td_list,
            |t| Some(hash1(&t.arn)),
            |a, b| a.arn == b.arn,
        );
    }

    fn task_definition<'a>(
        &'a self,
        snap: &'a FleetSnapshot,
        arn: &str,
    ) -> Option<&'a TaskDefinition> {
        self.tds
            .find(hash1(arn), |i| self.td_list[*i as usize].arn == arn)
            .map(|i| &*self.td_list[*i as usize])
            .or_else(|| snap.task_definition(arn))
    }

    fn index_services(&mut self, snap: &FleetSnapshot) {
        self.first_in_cluster = hashbrown::HashTable::new();
        let services = &snap.services;
        for (i, s) in services.iter().enumerate() {
            let h = hash1(&s.cluster);
            if self
                .first_in_cluster
                .find(h, |j| services[*j as usize].cluster == s.cluster)
                .is_none()
            {
                self.first_in_cluster
                    .insert_unique(h, i as u32, |j| hash1(&services[*j as usize].cluster));
            }
        }
    }

    pub fn log_group<'a>(&self, snap: &'a FleetSnapshot, name: &str) -> Option<&'a LogGroup> {
        let groups = &snap.log_groups;
        self.log_groups
            .find(hash1(name), |i| groups[*i as usize].name == name)
            .map(|i| &groups[*i as usize])
    }
}

impl<'a> Ctx<'a> {
    /// p95 of CPUUtilization (None under 10 datapoints) and the max of
    /// MemoryUtilization (NaN without datapoints), over the metric window.
    pub fn cpu_p95_mem_max(&self) -> Option<(Option<f64>, f64)> {
        let m = self.metrics?;
        Some(*self.stats.get_or_init(|| {
            let max_mem = m
                .memory
                .values
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .fold(f64::NAN, f64::max);
            (checks::p95(&m.cpu.values), max_mem)
        }))
    }

    /// The log group of that name, if the source read it.
    pub fn log_group(&self, name: &str) -> Option<&'a LogGroup> {
        self.index.log_group(self.snap, name)
    }

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
    Service(for<'a> fn(&Ctx<'a>) -> Vec<Hit<'a>>),
    /// Needs data this build does not read.
    NotEvaluated(&'static str),
}

/// What a check function returns when it fires.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit<'a> {
    pub severity: Severity,
    /// Usually an ARN the snapshot holds (borrowed, not copied).
    pub resource: Cow<'a, str>,
    pub evidence: Vec<String>,
    pub fix: Cow<'static, str>,
}

pub use checks::CHECKS;

/// Findings per pillar and severity.
pub type Counts = BTreeMap<Pillar, BTreeMap<Severity, usize>>;

/// Add (`by` = 1) or take away (-1) one finding from `counts`; a count that
/// reaches 0 is removed, so counts built up and down equal counts built once.
fn count(counts: &mut Counts, f: &Finding, by: isize) {
    for p in f.pillars {
        let per = counts.entry(*p).or_default();
        let n = per.entry(f.severity).or_default();
        *n = n.saturating_add_signed(by);
        if *n == 0 {
            per.remove(&f.severity);
        }
        if per.is_empty() {
            counts.remove(p);
        }
    }
}

/// A score per pillar from its counts (see [`Review::scores`]).
pub fn scores_of(counts: &Counts) -> BTreeMap<Pillar, u32> {
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

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Review {
    /// Sorted by severity, then check id, then service (cluster, name).
    pub findings: Vec<Finding>,
    pub not_evaluated: Vec<NotEvaluated>,
    /// Findings an active suppression accepted.
    pub suppressed: Vec<(Finding, suppress::Suppression)>,
}

impl Review {
    /// Findings per pillar and severity (a finding counts for each of its pillars).
    pub fn counts(&self) -> Counts {
        let mut out = Counts::new();
        for f in &self.findings {
            count(&mut out, f, 1);
        }
        out
    }

    /// A score per pillar: 100 minus weighted findings (critical 25, high 10,
    /// medium 4, low 1), floored at 0 — computed, not claimed.
    pub fn scores(&self) -> BTreeMap<Pillar, u32> {
        scores_of(&self.counts())
    }

    /// True when any finding is at or above `threshold` (for `--fail-on`).
    pub fn fails_at(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity <= threshold)
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
            out.extend(evaluate_ranked(
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
        in_report_order(a.into_iter().chain(b))
    } else {
        in_report_order(per_half(0..n).into_iter())
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

/// Report order: severity, then check id, then the service's place in the
/// fleet (the snapshot's order: region, cluster, name), then the order the
/// check reported its findings in. All integers: ordering 10,000 findings
/// compares no strings.
type OrderKey = (Severity, u16, u32, u32);

/// Each check's place in id order, by its index in [`CHECKS`].
fn ranks() -> &'static [u16] {
    static RANKS: std::sync::LazyLock<Vec<u16>> = std::sync::LazyLock::new(|| {
        let mut by_id: Vec<usize> = (0..CHECKS.len()).collect();
        by_id.sort_by_key(|i| CHECKS[*i].id);
        let mut ranks = vec![0u16; CHECKS.len()];
        for (rank, i) in by_id.into_iter().enumerate() {
            ranks[i] = rank as u16;
        }
        ranks
    });
    &RANKS
}

/// Findings that arrive service by service in fleet order, each with its
/// check's rank, put in report order ([`OrderKey`]) by one counting pass:
/// one bucket per (severity, check), filled in arrival order. No sort.
fn in_report_order(findings: impl Iterator<Item = (u16, Finding)>) -> Vec<Finding> {
    let checks = CHECKS.len().max(1);
    let mut buckets: Vec<Vec<Finding>> = (0..4 * checks).map(|_| Vec::new()).collect();
    let mut total = 0;
    for (rank, f) in findings {
        total += 1;
        buckets[f.severity as usize * checks + rank as usize].push(f);
    }
    let mut out = Vec::with_capacity(total);
    for mut b in buckets {
        out.append(&mut b);
    }
    out
}

/// Every check on one service (the unit of incremental re-evaluation), each
/// finding with its check's rank in id order.
fn evaluate_ranked(
    snap: &FleetSnapshot,
    cfg: &ReviewConfig,
    index: &Index,
    position: usize,
    svc: &Service,
    skip: &[(&'static str, String)],
) -> Vec<(u16, Finding)> {
    let ctx = ctx_with(snap, cfg, index, position, svc);
    let ranks = ranks();
    let mut ids: Option<Ids> = None;
    let mut out = Vec::new();
    for (i, check) in CHECKS.iter().enumerate() {
        if let Kind::Service(f) = check.kind
            && !skip.iter().any(|(id, _)| *id == check.id)
        {
            for hit in f(&ctx) {
                let ids = ids.get_or_insert_with(|| Ids::of(svc, ctx.td));
                out.push((ranks[i], finding(check, ids, hit)));
            }
        }
    }
    out
}

/// A service's names, shared by all its findings.
struct Ids {
    cluster: Arc<str>,
    service: Arc<str>,
    arn: Arc<str>,
    td_arn: Option<Arc<str>>,
}

impl Ids {
    fn of(svc: &Service, td: Option<&TaskDefinition>) -> Ids {
        Ids {
            cluster: svc.cluster.as_str().into(),
            service: svc.name.as_str().into(),
            arn: svc.arn.as_str().into(),
            td_arn: td.map(|t| t.arn.as_str().into()),
        }
    }

    /// The resource, shared when it is the service or its task definition.
    fn resource(&self, r: &str) -> Arc<str> {
        if *r == *self.arn {
            self.arn.clone()
        } else if let Some(t) = self.td_arn.as_ref().filter(|t| ***t == *r) {
            t.clone()
        } else {
            r.into()
        }
    }
}

pub(crate) fn ctx_with<'a>(
    snap: &'a FleetSnapshot,
    cfg: &'a ReviewConfig,
    index: &'a Index,
    position: usize,
    svc: &'a Service,
) -> Ctx<'a> {
    let td_arn = svc
        .primary_deployment()
        .map(|d| d.task_definition.as_str())
        .unwrap_or(svc.task_definition.as_str());
    let (c, n) = (svc.cluster.as_str(), svc.name.as_str());
    let alarms = index
        .alarms
        .find(hash2(c, n), |v| {
            alarm_key(&snap.alarms[v[0] as usize]) == Some((c, n))
        })
        .map_or_else(Vec::new, |v| {
            v.iter().map(|i| &snap.alarms[*i as usize]).collect()
        });
    let target_groups = svc
        .load_balancers
        .iter()
        .filter_map(|lb| {
            let arn = lb.target_group_arn.as_str();
            index
                .target_groups
                .find(hash1(arn), |i| snap.target_groups[*i as usize].arn == arn)
                .map(|i| &snap.target_groups[*i as usize])
        })
        .collect();
    let scalable = index
        .scalable
        .find(hash2(c, n), |i| {
            scalable_key(&snap.scalable_targets[*i as usize]) == Some((c, n))
        })
        .map(|i| &snap.scalable_targets[*i as usize]);
    let cluster = index
        .clusters
        .find(hash1(c), |i| snap.clusters[*i as usize].name == c)
        .map(|i| &snap.clusters[*i as usize]);
    let first = index
        .first_in_cluster
        .find(hash1(c), |i| snap.services[*i as usize].cluster == c);
    let mut key = String::with_capacity(c.len() + 1 + n.len());
    key.push_str(c);
    key.push('/');
    key.push_str(n);
    Ctx {
        snap,
        cfg,
        svc,
        cluster,
        td: index.task_definition(snap, td_arn),
        alarms,
        target_groups,
        scalable,
        metrics: snap.metrics.get(&key),
        index,
        first_in_cluster: first == Some(&(position as u32)),
        stats: std::cell::OnceCell::new(),
    }
}

fn finding(check: &Check, ids: &Ids, hit: Hit) -> Finding {
    Finding {
        id: check.id,
        title: check.title,
        severity: hit.severity,
        pillar: check.pillars[0],
        pillars: check.pillars,
        cluster: ids.cluster.clone(),
        service: Some(ids.service.clone()),
        service_arn: ids.arn.clone(),
        resource: ids.resource(&hit.resource),
        evidence: hit.evidence,
        remediation: check.remediation,
        fix: hit.fix,
        doc_url: check.doc_url,
    }
}

/// A finding in the cache's ordered set, under its [`OrderKey`].
#[derive(Clone)]
struct Ordered(OrderKey, Arc<Finding>);

impl PartialEq for Ordered {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl Eq for Ordered {}
impl PartialOrd for Ordered {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ordered {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.cmp(&o.0)
    }
}

/// One service's findings as of the last update.
struct Entry {
    /// Its position in the last snapshot (part of its findings' keys).
    position: u32,
    /// The update that last saw it (entries not seen are gone services).
    seen: u64,
    /// Each with its check's rank.
    findings: Vec<(u16, Arc<Finding>)>,
}

impl Entry {
    fn keyed(&self) -> impl Iterator<Item = Ordered> + '_ {
        self.findings
            .iter()
            .enumerate()
            .map(|(k, (rank, f))| Ordered((f.severity, *rank, self.position, k as u32), f.clone()))
    }
}

/// Incremental evaluation: only services whose inputs changed since the
/// last snapshot are re-checked, and only their findings move in the
/// ordered set.
///
/// The fast path: when the snapshot's collections (alarms, target groups,
/// metrics, …) are the same `Arc`s as last time and the services are the
/// same list, a service is unchanged when its `Arc` is, so an update costs
/// a pointer comparison per service plus the checks of the changed ones.
/// Otherwise each service's inputs are compared with the last snapshot's,
/// by pointer first and by value when the pointers differ.
#[derive(Default)]
pub struct ReviewCache {
    /// By service ARN.
    entries: FxHashMap<String, Entry>,
    ordered: std::collections::BTreeSet<Ordered>,
    counts: Counts,
    /// Checks skipped for want of data, as of the last update.
    skip: Vec<(&'static str, String)>,
    not_evaluated: Vec<NotEvaluated>,
    cfg: Option<ReviewConfig>,
    /// The last snapshot (a shallow copy: its collections are `Arc`s) and
    /// the index built over it.
    basis: Option<FleetSnapshot>,
    index: Index,
    generation: u64,
    /// Services re-evaluated by the last [`ReviewCache::update`].
    pub last_evaluated: usize,
}

/// The collections a service's checks read are the same `Arc`s.
fn same_collections(a: &FleetSnapshot, b: &FleetSnapshot) -> bool {
    Arc::ptr_eq(&a.clusters, &b.clusters)
        && Arc::ptr_eq(&a.task_definitions, &b.task_definitions)
        && Arc::ptr_eq(&a.target_groups, &b.target_groups)
        && Arc::ptr_eq(&a.scalable_targets, &b.scalable_targets)
        && Arc::ptr_eq(&a.alarms, &b.alarms)
        && Arc::ptr_eq(&a.log_groups, &b.log_groups)
        && Arc::ptr_eq(&a.metrics, &b.metrics)
}

/// The same services at the same positions (each maybe changed).
fn same_layout(a: &FleetSnapshot, b: &FleetSnapshot) -> bool {
    a.services.len() == b.services.len()
        && a.services
            .iter()
            .zip(&b.services)
            .all(|(x, y)| Arc::ptr_eq(x, y) || (x.arn == y.arn && x.cluster == y.cluster))
}

fn same_ref<T: PartialEq>(a: &T, b: &T) -> bool {
    std::ptr::eq(a, b) || a == b
}

fn same_refs<T: PartialEq>(a: &[&T], b: &[&T]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_ref(*x, *y))
}

/// Everything one service's checks read is equal in both contexts.
fn same_inputs(old: &Ctx, new: &Ctx) -> bool {
    old.first_in_cluster == new.first_in_cluster
        && same_ref(old.svc, new.svc)
        && match (old.td, new.td) {
            (Some(a), Some(b)) => same_ref(a, b),
            (None, None) => true,
            _ => false,
        }
        && match (old.cluster, new.cluster) {
            (Some(a), Some(b)) => same_ref(a, b),
            (None, None) => true,
            _ => false,
        }
        && match (old.scalable, new.scalable) {
            (Some(a), Some(b)) => same_ref(a, b),
            (None, None) => true,
            _ => false,
        }
        && match (old.metrics, new.metrics) {
            (Some(a), Some(b)) => std::ptr::eq(a, b) || a.same(b),
            (None, None) => true,
            _ => false,
        }
        && same_refs(&old.alarms, &new.alarms)
        && same_refs(&old.target_groups, &new.target_groups)
        && {
            let (a, b) = (service_log_groups(old), service_log_groups(new));
            same_refs(&a, &b)
        }
}

fn service_log_groups<'a>(ctx: &Ctx<'a>) -> Vec<&'a LogGroup> {
    ctx.td.map_or_else(Vec::new, |t| {
        t.container_definitions
            .iter()
            .filter_map(|d| d.log_configuration.as_ref()?.options.get("awslogs-group"))
            .filter_map(|g| ctx.log_group(g))
            .collect()
    })
}

impl ReviewCache {
    /// Findings in report order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> + '_ {
        self.ordered.iter().map(|o| &*o.1)
    }

    pub fn len(&self) -> usize {
        self.ordered.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ordered.is_empty()
    }

    /// Findings per pillar and severity, kept up to date by each update.
    pub fn counts(&self) -> &Counts {
        &self.counts
    }

    pub fn scores(&self) -> BTreeMap<Pillar, u32> {
        scores_of(&self.counts)
    }

    pub fn not_evaluated(&self) -> &[NotEvaluated] {
        &self.not_evaluated
    }

    /// The findings of one service (by ARN), in the order found.
    pub fn for_service(&self, arn: &str) -> impl Iterator<Item = &Finding> + '_ {
        self.entries
            .get(arn)
            .into_iter()
            .flat_map(|e| e.findings.iter().map(|(_, f)| &**f))
    }

    /// The review as of the last update, as one list (what [`evaluate`]
    /// returns for the same snapshot).
    pub fn review(&self) -> Review {
        Review {
            findings: self.findings().cloned().collect(),
            not_evaluated: self.not_evaluated.clone(),
            suppressed: vec![],
        }
    }

    fn reset(&mut self) {
        self.entries.clear();
        self.ordered.clear();
        self.counts.clear();
        self.basis = None;
    }

    /// Replace one service's findings. With `keep_order` false the ordered
    /// set and counts are left alone (the caller rebuilds them).
    fn set_findings(
        &mut self,
        arn: &str,
        position: u32,
        found: Vec<(u16, Finding)>,
        keep_order: bool,
    ) {
        let generation = self.generation;
        let entry = self.entries.entry(arn.to_string()).or_insert(Entry {
            position,
            seen: generation,
            findings: vec![],
        });
        if keep_order {
            for o in entry.keyed() {
                count(&mut self.counts, &o.1, -1);
                self.ordered.remove(&o);
            }
        }
        entry.position = position;
        entry.seen = generation;
        entry.findings = found.into_iter().map(|(r, f)| (r, Arc::new(f))).collect();
        if keep_order {
            for o in entry.keyed() {
                count(&mut self.counts, &o.1, 1);
                self.ordered.insert(o);
            }
        }
    }

    /// The ordered set and counts from the entries (after services moved).
    fn rebuild_order(&mut self) {
        self.ordered.clear();
        self.counts.clear();
        for e in self.entries.values() {
            for o in e.keyed() {
                count(&mut self.counts, &o.1, 1);
                self.ordered.insert(o);
            }
        }
    }

    pub fn update(&mut self, snap: &FleetSnapshot, cfg: &ReviewConfig) {
        let skip = unreadable(snap);
        if skip != self.skip || self.cfg.as_ref() != Some(cfg) {
            // What the source reads, or the policy, changed: all re-checked.
            self.reset();
            self.not_evaluated = not_evaluated_for(&skip);
            self.skip = skip;
            self.cfg = Some(cfg.clone());
        }
        self.generation += 1;
        let prev = self.basis.take();
        let old_index = std::mem::take(&mut self.index);
        let mut evaluated = 0;
        match prev {
            Some(prev) if same_collections(&prev, snap) && same_layout(&prev, snap) => {
                // Fast path: only services whose Arc changed.
                self.index = old_index;
                for (i, (old, svc)) in prev.services.iter().zip(&snap.services).enumerate() {
                    if Arc::ptr_eq(old, svc) || **old == **svc {
                        continue;
                    }
                    let found = evaluate_ranked(snap, cfg, &self.index, i, svc, &self.skip);
                    self.set_findings(&svc.arn, i as u32, found, true);
                    evaluated += 1;
                }
                // Nothing came or went: no entry is gone. (`seen` is only
                // read by the full path, which marks every present service.)
            }
            prev => {
                // Services came, went or moved: their keys change, so the
                // order is rebuilt once at the end instead of patched.
                let moved = !prev.as_ref().is_some_and(|p| same_layout(p, snap));
                let index = if prev.as_ref().is_some_and(|p| same_collections(p, snap)) {
                    let mut ix = old_index.clone();
                    ix.index_services(snap);
                    ix
                } else {
                    Index::new(snap)
                };
                for (i, svc) in snap.services.iter().enumerate() {
                    let unchanged = match (&prev, self.entries.get(svc.arn.as_str())) {
                        (Some(p), Some(e)) => {
                            let pos = e.position as usize;
                            p.services.get(pos).is_some_and(|old| {
                                old.arn == svc.arn && {
                                    let a = ctx_with(p, cfg, &old_index, pos, old);
                                    let b = ctx_with(snap, cfg, &index, i, svc);
                                    same_inputs(&a, &b)
                                }
                            })
                        }
                        _ => false,
                    };
                    if unchanged {
                        let generation = self.generation;
                        if let Some(e) = self.entries.get_mut(svc.arn.as_str()) {
                            e.position = i as u32;
                            e.seen = generation;
                        }
                    } else {
                        let found = evaluate_ranked(snap, cfg, &index, i, svc, &self.skip);
                        self.set_findings(&svc.arn, i as u32, found, !moved);
                        evaluated += 1;
                    }
                }
                // Services gone since the last snapshot (a service gone
                // means the layout changed, so the order is rebuilt below).
                let generation = self.generation;
                self.entries.retain(|_, e| e.seen == generation);
                if moved {
                    self.rebuild_order();
                }
                self.index = index;
            }
        }
        self.basis = Some(snap.clone());
        self.last_evaluated = evaluated;
    }
}
