//! Semantic checks of a parsed scenario: every number within the bounds ECS
//! (or CloudWatch, ELB, Application Auto Scaling) documents, or — where no
//! AWS bound exists — a bound of the simulator's own, so that a scenario
//! can neither hang the simulator nor make it compute NaN. Each error names
//! the line of the offending key (of its table when the key was left out).
//!
//! Sources of the AWS bounds:
//! - ECS service quotas (tasks per service 5,000; services per cluster 5,000;
//!   clusters per account 10,000; containers per task definition 10; subnets
//!   per awsvpc configuration 16):
//!   <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html>
//! - ECS API reference: capacity provider strategy base 0–100,000 and weight
//!   0–1,000; container health check startPeriod 0–300 s; Fargate stopTimeout
//!   at most 120 s; port mappings 0–65,535; container memory at least 6 MiB.
//! - ELB target group attributes: deregistration delay 0–3,600 s.
//! - CloudWatch PutMetricAlarm: at least 1 evaluation period, period ×
//!   evaluation periods at most one day for periods under an hour (1,440 for
//!   the simulator's 60 s period); 1 ≤ datapoints to alarm ≤ evaluation
//!   periods; a finite threshold.
//! - CloudWatch Logs PutRetentionPolicy: the fixed list of retention days.

use std::collections::BTreeSet;

use toml::de::{DeTable, DeValue};

use super::{COMPARISONS, METRICS, Scenario, ScenarioError, line_of, parse_duration_ms};

/// ECS quota "Tasks per service" (the desired count).
pub const MAX_TASKS_PER_SERVICE: i32 = 5_000;
/// ECS quota "Services per cluster".
pub const MAX_SERVICES_PER_CLUSTER: usize = 5_000;
/// ECS quota "Clusters per account" (per Region).
pub const MAX_CLUSTERS: usize = 10_000;
/// ECS quota "Containers per task definition".
pub const MAX_CONTAINERS: usize = 10;
/// ECS quota "Subnets per awsvpc configuration": a service has a subnet per AZ.
pub const MAX_AZS: usize = 16;
/// The simulator's own bound (ECS has none for a whole fleet): the sum over
/// services of the most tasks each can be asked to run (its desired count,
/// its auto scaling maximum, its `set_desired` events) — ten services at
/// ECS's quota. Every simulated second costs time linear in it, and a task
/// about 3 KiB of memory (50,000 tasks: ~150 MB).
pub const MAX_FLEET_TASKS: i64 = 50_000;
/// The simulator's bound on load multipliers (curve points, `load` events).
pub const MAX_LOAD: f64 = 1_000.0;
/// The simulator's bound on requests per second of a service at load 1.
pub const MAX_BASE_RPS: f64 = 1_000_000.0;
/// CloudWatch Logs retention values (days).
pub const RETENTION_DAYS: &[i32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Where the keys of the scenario text are, from a second, untyped parse.
struct Lines<'a> {
    text: &'a str,
    root: Option<DeValue<'a>>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines {
            text,
            root: DeTable::parse(text)
                .ok()
                .map(|t| DeValue::Table(t.into_inner())),
        }
    }

    /// The line of the value at `path` (`services[0].autoscaling.max`,
    /// `load.curve[2][1]`); for a key the file leaves out, the line of the
    /// nearest table it would be in.
    fn line(&self, path: &str) -> usize {
        let Some(mut v) = self.root.as_ref() else {
            return 1;
        };
        let mut at: Option<usize> = None;
        for seg in segments(path) {
            let next = match seg {
                Seg::Key(k) => v.get(k),
                Seg::Index(i) => v.get(i),
            };
            let Some(n) = next else { break };
            at = Some(n.span().start);
            v = n.get_ref();
        }
        at.map_or(1, |o| line_of(self.text, o))
    }
}

enum Seg<'p> {
    Key(&'p str),
    Index(usize),
}

/// `a[1].b[2][0]` → a, 1, b, 2, 0.
fn segments(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !key.is_empty() {
            out.push(Seg::Key(key));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            match idx.trim_end_matches(']').parse() {
                Ok(i) => out.push(Seg::Index(i)),
                Err(_) => return out,
            }
        }
    }
    out
}

struct Checker<'a> {
    lines: Lines<'a>,
    origin: &'a str,
}

type Res = Result<(), ScenarioError>;

impl Checker<'_> {
    fn err(&self, field: String, message: String) -> ScenarioError {
        ScenarioError {
            file: self.origin.into(),
            line: self.lines.line(&field),
            field,
            message,
        }
    }

    fn fail(&self, field: String, message: String) -> Res {
        Err(self.err(field, message))
    }

    /// `lo ≤ v ≤ hi`, else "`v` is not within lo..=hi (why)".
    fn int(&self, field: String, v: i64, lo: i64, hi: i64, why: &str) -> Res {
        if (lo..=hi).contains(&v) {
            return Ok(());
        }
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(": {why}")
        };
        self.fail(field, format!("{v} is not within {lo}..={hi}{why}"))
    }

    /// A finite number within `lo..=hi` (NaN and infinities are refused).
    fn float(&self, field: String, v: f64, lo: f64, hi: f64, what: &str) -> Res {
        if v.is_finite() && v >= lo && v <= hi {
            return Ok(());
        }
        self.fail(
            field,
            format!("{v} is not a number within {lo}..={hi} ({what})"),
        )
    }

    /// A duration within the simulated time the simulator runs to.
    fn duration(&self, field: String, s: &str, positive: bool) -> Result<i64, ScenarioError> {
        let ms = parse_duration_ms(s).map_err(|m| self.err(field.clone(), m))?;
        if positive && ms <= 0 {
            return Err(self.err(field, format!("{s:?} must be longer than 0s")));
        }
        Ok(ms)
    }

    fn unique<'s>(&self, seen: &mut BTreeSet<&'s str>, field: String, name: &'s str) -> Res {
        if seen.insert(name) {
            return Ok(());
        }
        self.fail(field, format!("{name:?} is defined twice"))
    }
}

pub(super) fn validate(sc: &Scenario, text: &str, origin: &str) -> Res {
    let c = Checker {
        lines: Lines::new(text),
        origin,
    };
    meta(sc, &c)?;
    places::accounts(sc, &c)?;
    let td_names = task_definitions(sc, &c)?;
    places::clusters(sc, &c)?;
    services(sc, &c, &td_names)?;
    alarms(sc, &c)?;
    log_groups(sc, &c)?;
    events(sc, &c, &td_names)?;
    dr::dns(sc, &c)?;
    dr::databases(sc, &c)?;
    posture(sc, &c)?;
    fleet_size(sc, &c)
}

/// Load balancers name a cluster's (`<cluster>-alb`) with valid listeners
/// and desync mode; ECR repositories are ECR URIs.
fn posture(sc: &Scenario, c: &Checker) -> Res {
    for (i, l) in sc.load_balancers.iter().enumerate() {
        if !sc
            .clusters
            .iter()
            .any(|k| format!("{}-alb", k.name) == l.name)
        {
            return c.fail(
                format!("load_balancers[{i}].name"),
                format!(
                    "{:?} is no cluster's load balancer (they are named <cluster>-alb: {})",
                    l.name,
                    some_of(sc.clusters.iter().map(|k| &k.name))
                ),
            );
        }
        if !["monitor", "defensive", "strictest"].contains(&l.desync_mode.as_str()) {
            return c.fail(
                format!("load_balancers[{i}].desync_mode"),
                format!("{:?} is not monitor, defensive or strictest", l.desync_mode),
            );
        }
        for (j, s) in l.listeners.iter().enumerate() {
            if crate::source::sim::engine::posture::listener(s).is_none() {
                return c.fail(
                    format!("load_balancers[{i}].listeners[{j}]"),
                    format!(
                        "{s:?} is not a listener (\"HTTPS:443\", \"HTTP:80\" or \"HTTP:80>HTTPS\")"
                    ),
                );
            }
        }
    }
    for (i, r) in sc.ecr_repositories.iter().enumerate() {
        if crate::model::posture::ecr_repository_of(&r.uri).is_none() || r.uri.contains([':', '@'])
        {
            return c.fail(
                format!("ecr_repositories[{i}].uri"),
                format!(
                    "{:?} is not an ECR repository URI (<account>.dkr.ecr.<region>.amazonaws.com/<name>)",
                    r.uri
                ),
            );
        }
    }
    Ok(())
}

fn meta(sc: &Scenario, c: &Checker) -> Res {
    let m = &sc.scenario;
    let start = m.start.get_ref();
    let start_ok = humantime::parse_rfc3339(start)
        .ok()
        .is_some_and(|t| t.duration_since(std::time::UNIX_EPOCH).is_ok());
    if !start_ok {
        return c.fail(
            "scenario.start".into(),
            format!("{start:?} is not an RFC 3339 time after 1970 (e.g. 2026-11-23T10:00:00Z)"),
        );
    }
    if m.azs.is_empty() {
        return c.fail(
            "scenario.azs".into(),
            "a scenario needs at least one Availability Zone".into(),
        );
    }
    if m.azs.len() > MAX_AZS {
        return c.fail(
            "scenario.azs".into(),
            format!("{} AZs; at most {MAX_AZS}", m.azs.len()),
        );
    }
    let mut seen = BTreeSet::new();
    for (i, az) in m.azs.iter().enumerate() {
        let f = format!("scenario.azs[{i}]");
        if az.trim().is_empty() {
            return c.fail(f, "an AZ name can't be empty".into());
        }
        c.unique(&mut seen, f, az)?;
    }
    for (i, (t, v)) in sc.load.curve.iter().enumerate() {
        c.duration(format!("load.curve[{i}][0]"), t.get_ref(), false)?;
        c.float(
            format!("load.curve[{i}][1]"),
            *v,
            0.0,
            MAX_LOAD,
            "a load multiplier",
        )?;
    }
    Ok(())
}

fn task_definitions(sc: &Scenario, c: &Checker) -> Result<BTreeSet<String>, ScenarioError> {
    let mut names = BTreeSet::new();
    for (i, t) in sc.task_definitions.iter().enumerate() {
        let f = |k: &str| format!("task_definitions[{i}].{k}");
        if t.family.trim().is_empty() {
            return Err(c.err(f("family"), "a family name can't be empty".into()));
        }
        // Revisions start at 1; ECS keeps up to 1,000,000 per family.
        c.int(
            f("revision"),
            t.revision.into(),
            1,
            1_000_000,
            "ECS numbers revisions from 1",
        )?;
        for (k, v) in [("cpu", &t.cpu), ("memory", &t.memory)] {
            if let Some(v) = v
                && !task_size_ok(v)
            {
                return Err(c.err(
                    f(k),
                    format!(
                        "{v:?} is not a task {k} size (a positive integer, or a number with {})",
                        if k == "cpu" { "\"vCPU\"" } else { "\"GB\"" }
                    ),
                ));
            }
        }
        if t.containers.is_empty() {
            return Err(c.err(
                f("containers"),
                "a task definition needs at least one container".into(),
            ));
        }
        if t.containers.len() > MAX_CONTAINERS {
            return Err(c.err(
                f("containers"),
                format!(
                    "{} containers; ECS allows at most {MAX_CONTAINERS} per task definition",
                    t.containers.len()
                ),
            ));
        }
        for (j, k) in t.containers.iter().enumerate() {
            let g = |x: &str| format!("task_definitions[{i}].containers[{j}].{x}");
            if let Some(p) = k.port {
                c.int(g("port"), p.into(), 0, 65_535, "a TCP port")?;
            }
            if let Some(v) = k.cpu {
                c.int(g("cpu"), v.into(), 0, 196_608, "CPU units")?;
            }
            if let Some(v) = k.memory {
                c.int(
                    g("memory"),
                    v.into(),
                    6,
                    1 << 20,
                    "MiB; ECS needs at least 6",
                )?;
            }
            if let Some(v) = k.memory_reservation {
                let hi = k.memory.unwrap_or(1 << 20);
                c.int(
                    g("memory_reservation"),
                    v.into(),
                    6,
                    hi.max(6).into(),
                    "MiB, at most the container's memory",
                )?;
            }
            if let Some(v) = k.health_check_start_period {
                c.int(g("health_check_start_period"), v.into(), 0, 300, "seconds")?;
            }
            if let Some(v) = k.stop_timeout {
                c.int(g("stop_timeout"), v.into(), 0, 120, "seconds on Fargate")?;
            }
        }
        let name = format!("{}:{}", t.family, t.revision);
        if names.contains(&name) {
            return Err(c.err(f("revision"), format!("{name:?} is defined twice")));
        }
        names.insert(name);
    }
    Ok(names)
}

/// "512", "1024", "0.5 vCPU", "2 GB": what RegisterTaskDefinition takes.
fn task_size_ok(s: &str) -> bool {
    let s = s.trim();
    let num = s
        .strip_suffix("vCPU")
        .or_else(|| s.strip_suffix("vcpu"))
        .or_else(|| s.strip_suffix("GB"))
        .or_else(|| s.strip_suffix("gb"));
    match num {
        Some(n) => n
            .trim()
            .parse::<f64>()
            .is_ok_and(|x| x.is_finite() && x > 0.0 && x <= 1_000_000.0),
        None => s.parse::<u32>().is_ok_and(|x| x > 0),
    }
}

fn capacity_providers(c: &Checker, at: &str, items: &[super::CapacityProviderSpec]) -> Res {
    for (i, p) in items.iter().enumerate() {
        let f = |k: &str| format!("{at}[{i}].{k}");
        if p.provider.trim().is_empty() {
            return c.fail(f("provider"), "a capacity provider needs a name".into());
        }
        c.int(f("base"), p.base.into(), 0, 100_000, "")?;
        c.int(f("weight"), p.weight.into(), 0, 1_000, "")?;
    }
    // ECS: "Capacity providers per cluster: 20".
    if items.len() > 20 {
        return c.fail(
            at.into(),
            format!("{} capacity providers; at most 20", items.len()),
        );
    }
    Ok(())
}

/// "a, b, c" of at most ten names, "…" after.
fn some_of<'s>(names: impl IntoIterator<Item = &'s String>) -> String {
    let mut v: Vec<&str> = names.into_iter().take(11).map(String::as_str).collect();
    if v.len() > 10 {
        v[10] = "…";
    }
    v.join(", ")
}

fn alarms(sc: &Scenario, c: &Checker) -> Res {
    let mut seen = BTreeSet::new();
    for (i, a) in sc.alarms.iter().enumerate() {
        let f = |k: &str| format!("alarms[{i}].{k}");
        if a.name.trim().is_empty() {
            return c.fail(f("name"), "an alarm name can't be empty".into());
        }
        let id = match sc.service_id(
            a.service.get_ref(),
            a.region.as_deref(),
            a.account.as_deref(),
        ) {
            Ok(id) => id,
            Err(e) => return c.fail(f("service"), e),
        };
        // Alarm names are unique per account and region, as in CloudWatch:
        // twins may both have `prod-api-5xx`.
        if !seen.insert((id.account, id.region, a.name.as_str())) {
            return c.fail(f("name"), format!("{:?} is defined twice", a.name));
        }
        if !METRICS.contains(&a.metric.get_ref().as_str()) {
            return c.fail(
                f("metric"),
                format!(
                    "unknown metric {:?} (known: {})",
                    a.metric.get_ref(),
                    METRICS.join(", ")
                ),
            );
        }
        if !COMPARISONS.contains(&a.comparison.get_ref().as_str()) {
            return c.fail(
                f("comparison"),
                format!(
                    "unknown comparison {:?} (known: {})",
                    a.comparison.get_ref(),
                    COMPARISONS.join(", ")
                ),
            );
        }
        if !a.threshold.is_finite() {
            return c.fail(
                f("threshold"),
                format!("{} is not a finite threshold", a.threshold),
            );
        }
        // 60 s periods: period × evaluation periods ≤ one day.
        c.int(
            f("evaluation_periods"),
            a.evaluation_periods.into(),
            1,
            1_440,
            "CloudWatch evaluates at most a day of 60 s periods",
        )?;
        if let Some(m) = a.datapoints_to_alarm {
            c.int(
                f("datapoints_to_alarm"),
                m.into(),
                1,
                a.evaluation_periods.into(),
                "at most evaluation_periods",
            )?;
        }
    }
    Ok(())
}

fn log_groups(sc: &Scenario, c: &Checker) -> Res {
    for (i, g) in sc.log_groups.iter().enumerate() {
        if let Some(d) = g.retention_days
            && !RETENTION_DAYS.contains(&d)
        {
            return c.fail(
                format!("log_groups[{i}].retention_days"),
                format!(
                    "{d} is not a CloudWatch Logs retention (one of {})",
                    RETENTION_DAYS
                        .iter()
                        .map(|d| d.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
    }
    Ok(())
}

fn events(sc: &Scenario, c: &Checker, td_names: &BTreeSet<String>) -> Res {
    for (i, e) in sc.events.iter().enumerate() {
        let f = |k: &str| format!("events[{i}].{k}");
        c.duration(f("at"), e.at.get_ref(), false)?;
        let action = e.action.get_ref().as_str();
        let need = |present: bool, k: &str| -> Res {
            if present {
                return Ok(());
            }
            c.fail(f(k), format!("{action:?} needs {k}"))
        };
        match action {
            "deploy" => {
                need(e.service.is_some(), "service")?;
                need(e.task_definition.is_some(), "task_definition")?;
                let td = e.task_definition.as_ref().map(|t| t.get_ref().as_str());
                if let Some(td) = td
                    && !td_names.contains(td)
                {
                    return c.fail(
                        f("task_definition"),
                        format!("unknown task definition {td:?}"),
                    );
                }
            }
            "impair_az" | "release_az" => {
                need(e.az.is_some(), "az")?;
                if let Some(az) = &e.az
                    && !sc.scenario.azs.contains(az.get_ref())
                {
                    return c.fail(
                        f("az"),
                        format!("{:?} is not one of the scenario's AZs", az.get_ref()),
                    );
                }
                if let Some(d) = &e.duration {
                    c.duration(f("duration"), d.get_ref(), true)?;
                }
            }
            "set_desired" => {
                need(e.service.is_some(), "service")?;
                need(e.count.is_some(), "count")?;
                if let Some(n) = e.count {
                    c.int(
                        f("count"),
                        n.into(),
                        0,
                        MAX_TASKS_PER_SERVICE.into(),
                        "ECS's quota of tasks per service",
                    )?;
                }
            }
            "stop_task" => {
                need(e.service.is_some(), "service")?;
                if let Some(n) = e.count {
                    c.int(
                        f("count"),
                        n.into(),
                        1,
                        MAX_TASKS_PER_SERVICE.into(),
                        "tasks to stop",
                    )?;
                }
            }
            "load" => {
                need(e.factor.is_some(), "factor")?;
                if let Some(x) = e.factor {
                    c.float(f("factor"), x, 0.0, MAX_LOAD, "a load multiplier")?;
                }
            }
            other => {
                return c.fail(
                    f("action"),
                    format!(
                        "unknown action {other:?} (deploy, impair_az, release_az, set_desired, stop_task, load)"
                    ),
                );
            }
        }
        if let Some(s) = &e.service
            && let Err(err) = sc.service_id(s.get_ref(), e.region.as_deref(), e.account.as_deref())
        {
            return c.fail(f("service"), err);
        }
    }
    Ok(())
}

/// The whole fleet at its largest stays within [`MAX_FLEET_TASKS`].
fn fleet_size(sc: &Scenario, c: &Checker) -> Res {
    let mut by_events = std::collections::BTreeMap::<&str, i32>::new();
    for e in &sc.events {
        if let (true, Some(s), Some(n)) = (e.action.get_ref() == "set_desired", &e.service, e.count)
        {
            let m = by_events.entry(s.get_ref().as_str()).or_default();
            *m = (*m).max(n);
        }
    }
    let mut total: i64 = 0;
    for (i, s) in sc.services.iter().enumerate() {
        let key = format!("{}/{}", s.cluster.get_ref(), s.name);
        let by_events = by_events.get(key.as_str()).copied().unwrap_or(0);
        let peak = s
            .desired
            .max(s.autoscaling.as_ref().map_or(0, |a| a.max))
            .max(by_events);
        total += i64::from(peak.max(0));
        if total > MAX_FLEET_TASKS {
            return c.fail(
                format!("services[{i}].desired"),
                format!(
                    "the fleet would run more than {MAX_FLEET_TASKS} tasks (the simulator's bound; each service at its desired count, auto scaling maximum or set_desired events)"
                ),
            );
        }
    }
    Ok(())
}

mod dr;
mod places;
mod services;
use services::services;
#[cfg(test)]
mod tests;
