//! The findings engine: one small pure function per check of
//! `shared/review-criteria.md`, over the model only (no SDK, no ratatui).
//!
//! [`evaluate`] runs every check against a snapshot and returns the findings
//! (only checks that fired), the checks it could not evaluate with the
//! reason, and the checks that were suppressed.

pub mod cache;
mod checks;
pub mod controls;
pub mod ctx;
pub mod fargate;
pub mod report;
pub mod suppress;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

pub use cache::ReviewCache;
pub use ctx::{Ctx, Input};
use ctx::{Index, Readiness, ctx_with};

use crate::model::{FleetSnapshot, Service, TaskDefinition};

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
    /// Where the service is: twins in two regions or accounts have their
    /// own findings (added fields of the report).
    pub account: Arc<str>,
    pub region: Arc<str>,
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
    /// The AWS Security Hub controls this finding covers (`ECS.4`,
    /// `CloudWatch.16`): an added field.
    pub controls: Vec<&'static str>,
}

/// A check that was not evaluated: by design (it needs data no source of
/// this build reads), or because an input it needed could not be read for
/// some services (`missing_data`; those services are listed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotEvaluated {
    pub id: &'static str,
    pub title: &'static str,
    pub reason: String,
    /// True when the check's input could not be read (an error, a denial):
    /// the gate (`--fail-on`) counts it unless `--allow-missing-data`.
    /// False for checks this build does not evaluate by design.
    pub missing_data: bool,
    /// The most severe finding the check can make (what the gate compares).
    pub severity: Severity,
    /// `cluster/service` of each service it was not evaluated on (empty
    /// for a check not evaluated by design, which is never evaluated).
    pub services: Vec<String>,
}

/// One check not evaluated on one service for want of an input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Gap {
    /// Index into [`CHECKS`].
    pub check: u16,
    pub service: Arc<str>,
    pub reason: String,
    /// An input could not be read (the gate counts it); false: the check
    /// does not apply as configured (no environment tag).
    pub missing_data: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewConfig {
    /// Tag whose value says prod or not.
    pub environment_tag: String,
    /// Values of that tag meaning production (case-insensitive).
    pub prod_values: Vec<String>,
    /// Cost-allocation tags every resource should carry.
    pub required_tags: Vec<String>,
    /// Minimum log retention in days (0 = any retention is fine; default 30).
    pub min_log_retention_days: i32,
    /// The environment of a service with no environment tag; `None`: its
    /// environment-dependent checks are not evaluated (and say so).
    pub default_environment: Option<String>,
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
            min_log_retention_days: 30,
            default_environment: None,
        }
    }
}

/// A check's fixed metadata.
pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub pillars: &'static [Pillar],
    pub remediation: &'static str,
    pub doc_url: &'static str,
    /// Every input beyond the service itself the check may read (through
    /// [`Ctx`]'s accessors; asserted in debug builds).
    pub needs: &'static [Input],
    /// It reads the snapshot's clock ([`Ctx::now`]): its verdict can change
    /// with time alone, so the console's cache re-evaluates it as time
    /// passes even when nothing else changed.
    pub clock: bool,
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
    /// About the service's cluster, not the service (a cluster setting):
    /// its finding names no service.
    pub cluster_level: bool,
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

    /// Checks at or above `threshold` that could not be evaluated on some
    /// service because their input could not be read: unless the caller
    /// allows missing data, these fail the gate too (a check that could not
    /// look is not a check that passed).
    pub fn missing_at(&self, threshold: Severity) -> impl Iterator<Item = &NotEvaluated> {
        self.not_evaluated
            .iter()
            .filter(move |n| n.missing_data && n.severity <= threshold)
    }

    /// Pillars whose score counts only what could be read (some check of
    /// the pillar was not evaluated for want of data): their score is an
    /// upper bound, and every report says so.
    pub fn incomplete_pillars(&self) -> Vec<Pillar> {
        Pillar::ALL
            .into_iter()
            .filter(|p| {
                self.not_evaluated.iter().any(|n| {
                    n.missing_data && CHECKS.iter().any(|c| c.id == n.id && c.pillars.contains(p))
                })
            })
            .collect()
    }
}

/// Run every check over every service of the snapshot.
pub fn evaluate(snap: &FleetSnapshot, cfg: &ReviewConfig) -> Review {
    let index = Index::new(snap);
    let ready = Readiness::of(snap);
    let n = snap.services.len();
    // Two halves of the fleet on two threads for big fleets (the checks are
    // pure functions over shared, immutable data).
    let per_half = |range: std::ops::Range<usize>| {
        let mut out = Vec::with_capacity(range.len() * 8);
        let mut gaps = Vec::new();
        for i in range {
            let e = evaluate_ranked(snap, cfg, &index, &ready, i, &snap.services[i]);
            out.extend(e.found);
            gaps.extend(e.gaps);
        }
        (out, gaps)
    };
    let (findings, gaps) = if n >= 200 {
        let ((a, ga), (b, gb)) = std::thread::scope(|s| {
            let h = s.spawn(|| per_half(n / 2..n));
            let a = per_half(0..n / 2);
            (a, h.join().unwrap_or_default())
        });
        (
            in_report_order(a.into_iter().chain(b)),
            ga.into_iter().chain(gb).collect::<Vec<_>>(),
        )
    } else {
        let (a, g) = per_half(0..n);
        (in_report_order(a.into_iter()), g)
    };
    Review {
        findings,
        not_evaluated: not_evaluated_with(&gaps),
        suppressed: vec![],
    }
}

/// Pillars with a check not evaluated for want of data: their score counts
/// only what could be read.
pub fn incomplete_pillars(not_evaluated: &[NotEvaluated]) -> Vec<Pillar> {
    Pillar::ALL
        .into_iter()
        .filter(|p| {
            not_evaluated.iter().any(|n| {
                n.missing_data && CHECKS.iter().any(|c| c.id == n.id && c.pillars.contains(p))
            })
        })
        .collect()
}

/// The most severe finding each check can make, from the catalogue's
/// severity column (`shared/review-criteria.md`). A check whose input could
/// not be read is weighed at this severity by the gate: it might have fired
/// at it.
pub fn max_severity(id: &str) -> Severity {
    use Severity::*;
    match id {
        "SEC-02" => Critical,
        "REL-01" | "REL-03" | "REL-04" | "REL-05" | "REL-06" | "REL-12" | "REL-13" | "OPS-02"
        | "OPS-06" | "OPS-07" | "SEC-01" | "SEC-03" | "SEC-05" | "SEC-06" | "SEC-08"
        | "PERF-02" => High,
        "OPS-04" | "OPS-08" | "COST-02" | "COST-03" | "COST-04" | "SUS-01" | "SUS-02" => Low,
        _ => Medium,
    }
}

/// The checks not evaluated: those this build cannot evaluate, then those
/// that were not evaluated on some services for want of an input (one
/// entry per check and reason, listing the services, in fleet order).
pub(crate) fn not_evaluated_with(gaps: &[Gap]) -> Vec<NotEvaluated> {
    let mut out = not_evaluated();
    let mut order: Vec<&Gap> = gaps.iter().collect();
    // By check (stable: services stay in fleet order within a check).
    order.sort_by_key(|g| CHECKS[g.check as usize].id);
    for g in order {
        let c = &CHECKS[g.check as usize];
        match out.iter_mut().find(|n| {
            !n.services.is_empty()
                && n.missing_data == g.missing_data
                && n.id == c.id
                && n.reason == g.reason
        }) {
            Some(n) => n.services.push(g.service.to_string()),
            None => out.push(NotEvaluated {
                id: c.id,
                title: c.title,
                reason: g.reason.clone(),
                missing_data: g.missing_data,
                severity: max_severity(c.id),
                services: vec![g.service.to_string()],
            }),
        }
    }
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
                missing_data: false,
                severity: max_severity(c.id),
                services: vec![],
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
/// finding with its check's rank in id order, and the checks that touched
/// an input the source could not read for it (not evaluated there: their
/// hits, if any, were made on partial data and are dropped).
fn evaluate_ranked(
    snap: &FleetSnapshot,
    cfg: &ReviewConfig,
    index: &Index,
    ready: &Readiness,
    position: usize,
    svc: &Service,
) -> Evaluated {
    let ctx = ctx_with(snap, cfg, index, ready, position, svc);
    let ranks = ranks();
    let mut ids: Option<Ids> = None;
    let mut out = Vec::new();
    let mut gaps = Vec::new();
    for (i, check) in CHECKS.iter().enumerate() {
        if let Kind::Service(f) = check.kind {
            ctx.begin_check(check);
            let hits = f(&ctx);
            let missing = ctx.gaps();
            if missing != 0 {
                let ids = ids.get_or_insert_with(|| Ids::of(svc, ctx.td_untracked()));
                gaps.push(Gap {
                    check: i as u16,
                    service: ids.qualified.clone(),
                    reason: ctx.gap_reason(missing),
                    missing_data: true,
                });
                continue;
            }
            if let Some(reason) = ctx.take_skipped() {
                let ids = ids.get_or_insert_with(|| Ids::of(svc, ctx.td_untracked()));
                gaps.push(Gap {
                    check: i as u16,
                    service: ids.qualified.clone(),
                    reason,
                    missing_data: false,
                });
                continue;
            }
            for hit in hits {
                let ids = ids.get_or_insert_with(|| Ids::of(svc, ctx.td_untracked()));
                out.push((ranks[i], finding(check, ids, hit)));
            }
        }
    }
    Evaluated {
        found: out,
        gaps,
        clock: ctx.read_clock(),
    }
}

/// One service's checks: the findings (with their check's rank), the checks
/// not evaluated for want of data, and whether a check read the clock.
struct Evaluated {
    found: Vec<(u16, Finding)>,
    gaps: Vec<Gap>,
    clock: bool,
}

/// A service's names, shared by all its findings.
struct Ids {
    account: Arc<str>,
    region: Arc<str>,
    cluster: Arc<str>,
    service: Arc<str>,
    arn: Arc<str>,
    td_arn: Option<Arc<str>>,
    /// `cluster/service`.
    qualified: Arc<str>,
}

impl Ids {
    fn of(svc: &Service, td: Option<&TaskDefinition>) -> Ids {
        Ids {
            account: svc.account.as_str().into(),
            region: svc.region.as_str().into(),
            cluster: svc.cluster.as_str().into(),
            service: svc.name.as_str().into(),
            arn: svc.arn.as_str().into(),
            td_arn: td.map(|t| t.arn.as_str().into()),
            qualified: format!("{}/{}", svc.cluster, svc.name).into(),
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

fn finding(check: &Check, ids: &Ids, hit: Hit) -> Finding {
    Finding {
        id: check.id,
        title: check.title,
        severity: hit.severity,
        pillar: check.pillars[0],
        pillars: check.pillars,
        cluster: ids.cluster.clone(),
        service: (!hit.cluster_level).then(|| ids.service.clone()),
        account: ids.account.clone(),
        region: ids.region.clone(),
        service_arn: ids.arn.clone(),
        resource: ids.resource(&hit.resource),
        controls: controls::of_finding(check.id, &hit.evidence),
        evidence: hit.evidence,
        remediation: check.remediation,
        fix: hit.fix,
        doc_url: check.doc_url,
    }
}
