//! Scenario files: a fleet, a load curve and timed events, in TOML.
//! Built-ins are embedded from `assets/scenarios/`. Errors name the file,
//! the line and the field; nothing here panics on bad input.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

/// Built-in scenarios, embedded at build time.
const BUILTIN: &[(&str, &str)] = &[
    (
        "steady",
        include_str!("../../../assets/scenarios/steady.toml"),
    ),
    (
        "az-outage",
        include_str!("../../../assets/scenarios/az-outage.toml"),
    ),
    (
        "bad-deploy",
        include_str!("../../../assets/scenarios/bad-deploy.toml"),
    ),
    (
        "scale-out",
        include_str!("../../../assets/scenarios/scale-out.toml"),
    ),
    (
        "seed-review",
        include_str!("../../../assets/scenarios/seed-review.toml"),
    ),
    (
        "dr-pilot-light",
        include_str!("../../../assets/scenarios/dr-pilot-light.toml"),
    ),
    (
        "twins",
        include_str!("../../../assets/scenarios/twins.toml"),
    ),
];

mod validate;
pub use validate::{MAX_FLEET_TASKS, MAX_TASKS_PER_SERVICE};

/// `file:line: field: message`; without a line (the file can't be read) `file: message`;
/// without a file (no such built-in) `field: message`.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{}", self.shown())]
pub struct ScenarioError {
    pub file: String,
    /// 0: the error is not about a line (the file can't be read, no such built-in).
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl ScenarioError {
    fn shown(&self) -> String {
        match (self.line, self.file.is_empty()) {
            (0, true) => format!("{}: {}", self.field, self.message),
            (0, false) => format!("{}: {}", self.file, self.message),
            _ => format!(
                "{}:{}: {}: {}",
                self.file, self.line, self.field, self.message
            ),
        }
    }
}

/// The longest simulated time a scenario's durations and `--at` may name
/// (31 days: `status --at` runs every second of it).
pub const MAX_SIM_MS: i64 = 31 * 86_400_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub scenario: Meta,
    #[serde(default)]
    pub load: Load,
    pub clusters: Vec<ClusterSpec>,
    pub task_definitions: Vec<TaskDefSpec>,
    pub services: Vec<ServiceSpec>,
    #[serde(default)]
    pub alarms: Vec<AlarmSpec>,
    #[serde(default)]
    pub log_groups: Vec<LogGroupSpec>,
    #[serde(default)]
    pub events: Vec<EventSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_region")]
    pub region: String,
    #[serde(default = "default_account")]
    pub account: String,
    #[serde(default = "default_azs")]
    pub azs: Vec<String>,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// RFC 3339 start of the simulated clock.
    #[serde(default = "default_start")]
    pub start: Spanned<String>,
}

fn default_region() -> String {
    "us-east-1".into()
}
fn default_account() -> String {
    "123456789012".into()
}
fn default_azs() -> Vec<String> {
    vec![
        "us-east-1a".into(),
        "us-east-1b".into(),
        "us-east-1c".into(),
    ]
}
fn default_seed() -> u64 {
    42
}
fn default_start() -> Spanned<String> {
    Spanned::new(0..0, "2026-11-23T10:00:00Z".into())
}

/// Piecewise-linear load multiplier over simulated time; holds the last value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Load {
    /// `[["0s", 1.0], ["10m", 3.0], ...]`
    #[serde(default)]
    pub curve: Vec<(Spanned<String>, f64)>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    pub name: String,
    #[serde(default = "enabled")]
    pub container_insights: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub default_capacity_providers: Vec<CapacityProviderSpec>,
    /// The cluster's region (default: the scenario's): a DR scenario puts
    /// its standby cluster in a second region.
    #[serde(default)]
    pub region: Option<String>,
    /// The cluster's account (default: the scenario's), 12 digits.
    #[serde(default)]
    pub account: Option<String>,
}

fn enabled() -> String {
    "enabled".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacityProviderSpec {
    pub provider: String,
    #[serde(default)]
    pub base: i32,
    #[serde(default = "one")]
    pub weight: i32,
}

fn one() -> i32 {
    1
}

/// How tasks of a revision behave in the simulator.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Starts, passes health checks, runs.
    #[default]
    Healthy,
    /// The image can't be pulled: TaskFailedToStart.
    FailsToStart,
    /// The essential container exits with code 1 shortly after starting.
    Crashes,
    /// Killed for memory (exit 137) after a few minutes.
    Oom,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskDefSpec {
    pub family: String,
    pub revision: i32,
    pub cpu: Option<String>,
    pub memory: Option<String>,
    #[serde(default = "awsvpc")]
    pub network_mode: String,
    pub cpu_architecture: Option<String>,
    #[serde(default = "linux")]
    pub operating_system_family: String,
    /// Task role name (ARN is derived) and its policy documents (JSON).
    pub task_role: Option<String>,
    #[serde(default)]
    pub task_role_policies: Vec<PolicySpec>,
    pub execution_role: Option<String>,
    #[serde(default)]
    pub behaviour: Behaviour,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub containers: Vec<ContainerSpec>,
}

fn awsvpc() -> String {
    "awsvpc".into()
}
fn linux() -> String {
    "LINUX".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub name: String,
    pub arn: Option<String>,
    #[serde(default)]
    pub document: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    #[serde(default = "yes")]
    pub essential: bool,
    pub port: Option<i32>,
    pub cpu: Option<i32>,
    pub memory: Option<i32>,
    pub memory_reservation: Option<i32>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// name → valueFrom (Secrets Manager / SSM ARN).
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// A container health check (CMD-SHELL curl …) with this start period.
    pub health_check_start_period: Option<i32>,
    #[serde(default)]
    pub health_check: bool,
    /// awslogs group; None = no log configuration.
    pub log_group: Option<String>,
    pub log_mode: Option<String>,
    pub readonly_root_filesystem: Option<bool>,
    pub user: Option<String>,
    pub privileged: Option<bool>,
    #[serde(default)]
    pub capabilities_add: Vec<String>,
    pub stop_timeout: Option<i32>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoscalingSpec {
    pub min: i32,
    pub max: i32,
    /// "cpu" | "memory" | "requests" (ALBRequestCountPerTarget).
    #[serde(default = "cpu")]
    pub metric: String,
    pub target: f64,
    #[serde(default = "sixty")]
    pub scale_out_cooldown: i32,
    #[serde(default = "three_hundred")]
    pub scale_in_cooldown: i32,
    #[serde(default)]
    pub scheduled_actions: Vec<String>,
}

fn cpu() -> String {
    "cpu".into()
}
fn sixty() -> i32 {
    60
}
fn three_hundred() -> i32 {
    300
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakerSpec {
    pub enable: bool,
    pub rollback: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub cluster: Spanned<String>,
    /// Which of same-named clusters (twins in two regions or accounts):
    /// the cluster's region and account. Default: the first of the name.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    pub name: String,
    /// `family:revision` of a task definition in this scenario.
    pub task_definition: Spanned<String>,
    pub desired: i32,
    #[serde(default)]
    pub launch_type: Option<String>,
    #[serde(default)]
    pub capacity_providers: Vec<CapacityProviderSpec>,
    #[serde(default = "latest")]
    pub platform_version: String,
    /// AZs of the service's subnets (default: every scenario AZ).
    pub azs: Option<Vec<Spanned<String>>>,
    #[serde(default = "hundred")]
    pub min_healthy_percent: Spanned<i32>,
    #[serde(default = "two_hundred")]
    pub max_percent: Spanned<i32>,
    pub circuit_breaker: Option<BreakerSpec>,
    /// Alarm names that gate deployments (deploymentConfiguration.alarms).
    #[serde(default)]
    pub deployment_alarms: Vec<String>,
    /// Behind an ALB target group of this name.
    pub target_group: Option<String>,
    #[serde(default = "thirty")]
    pub deregistration_delay: i32,
    pub health_check_grace_period: Option<i32>,
    pub autoscaling: Option<AutoscalingSpec>,
    #[serde(default = "yes")]
    pub az_rebalancing: bool,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default = "service_str")]
    pub propagate_tags: String,
    #[serde(default = "yes")]
    pub ecs_managed_tags: bool,
    #[serde(default)]
    pub assign_public_ip: bool,
    #[serde(default)]
    pub execute_command: bool,
    /// Requests per second at load 1.0.
    #[serde(default = "base_rps")]
    pub base_rps: f64,
    /// CPU percent of one task per request/s.
    #[serde(default = "cpu_per_rps")]
    pub cpu_per_rps: f64,
}

fn latest() -> String {
    "LATEST".into()
}
fn hundred() -> Spanned<i32> {
    Spanned::new(0..0, 100)
}
fn two_hundred() -> Spanned<i32> {
    Spanned::new(0..0, 200)
}
fn thirty() -> i32 {
    30
}
fn service_str() -> String {
    "SERVICE".into()
}
fn base_rps() -> f64 {
    100.0
}
fn cpu_per_rps() -> f64 {
    1.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmSpec {
    pub name: String,
    /// `cluster/service` the alarm watches.
    pub service: Spanned<String>,
    /// CPUUtilization | MemoryUtilization | RequestCount | HTTPCode_Target_5XX_Count |
    /// UnHealthyHostCount | TargetResponseTime | RunningTaskCount
    pub metric: Spanned<String>,
    pub threshold: f64,
    #[serde(default = "gt")]
    pub comparison: Spanned<String>,
    #[serde(default = "three")]
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: Option<i32>,
    pub statistic: Option<String>,
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default = "yes")]
    pub actions_enabled: bool,
}

fn gt() -> Spanned<String> {
    Spanned::new(0..0, "GreaterThanThreshold".into())
}
fn three() -> i32 {
    3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogGroupSpec {
    pub name: String,
    pub retention_days: Option<i32>,
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// Simulated time since start ("3m", "90s").
    pub at: Spanned<String>,
    /// deploy | impair_az | release_az | set_desired | stop_task | load
    pub action: Spanned<String>,
    pub service: Option<Spanned<String>>,
    pub task_definition: Option<Spanned<String>>,
    pub az: Option<Spanned<String>>,
    pub duration: Option<Spanned<String>>,
    pub count: Option<i32>,
    pub factor: Option<f64>,
}

/// What the engine reads: a validated, resolved scenario.
#[derive(Debug, Clone)]
pub struct TimedEvent {
    pub at_ms: i64,
    pub action: EventAction,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventAction {
    Deploy {
        service: String,
        task_definition: String,
    },
    ImpairAz {
        az: String,
        duration_ms: Option<i64>,
    },
    ReleaseAz {
        az: String,
    },
    SetDesired {
        service: String,
        count: i32,
    },
    StopTask {
        service: String,
        count: i32,
    },
    /// Multiply the load curve by `factor` from now on.
    Load {
        factor: f64,
    },
}

/// A duration of at most [`MAX_SIM_MS`], in ms.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration ({e}; try 90s, 4m, 1h)"))?;
    match i64::try_from(d.as_millis()) {
        Ok(ms) if ms <= MAX_SIM_MS => Ok(ms),
        _ => Err(format!(
            "{s:?} is longer than the simulator runs (at most 31 days)"
        )),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Scenario {
    /// (account, region) of a cluster.
    pub fn place_of(&self, c: &ClusterSpec) -> (String, String) {
        (
            c.account
                .clone()
                .unwrap_or_else(|| self.scenario.account.clone()),
            c.region
                .clone()
                .unwrap_or_else(|| self.scenario.region.clone()),
        )
    }

    /// The cluster a service is in: by name, and by region and account
    /// when it names them.
    pub fn cluster_of(&self, s: &ServiceSpec) -> Option<&ClusterSpec> {
        self.clusters.iter().find(|c| {
            let (account, region) = self.place_of(c);
            c.name == *s.cluster.get_ref()
                && s.region.as_ref().is_none_or(|r| *r == region)
                && s.account.as_ref().is_none_or(|a| *a == account)
        })
    }

    pub fn builtin_names() -> &'static [&'static str] {
        &[
            "steady",
            "az-outage",
            "bad-deploy",
            "scale-out",
            "seed-review",
            "dr-pilot-light",
            "twins",
        ]
    }

    pub fn builtin(name: &str) -> Result<Scenario, ScenarioError> {
        match BUILTIN.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Scenario::parse(text, &format!("assets/scenarios/{n}.toml")),
            None => Err(ScenarioError {
                file: String::new(),
                line: 0,
                field: "scenario".into(),
                message: format!(
                    "{name:?} is not a built-in scenario (built-in: {}; or give a path to a .toml file)",
                    Self::builtin_names().join(", ")
                ),
            }),
        }
    }

    /// Read and parse a scenario file: a regular file of at most 4 MiB
    /// ([`crate::files::read_text`]).
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        use crate::files::ReadError;
        let file = path.display().to_string();
        let text = crate::files::read_text(path).map_err(|e| {
            let (line, message) = match e {
                ReadError::Io { source, .. } => (0, source.to_string()),
                ReadError::NotUtf8 { line, .. } => (line, "not UTF-8 text".into()),
                other => {
                    let m = other.to_string();
                    let m = m
                        .strip_prefix(&format!("{file}: "))
                        .unwrap_or(&m)
                        .to_string();
                    (0, m)
                }
            };
            ScenarioError {
                file: file.clone(),
                line,
                field: "file".into(),
                message,
            }
        })?;
        Scenario::parse(&text, &file)
    }

    /// Parse and validate. `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let sc: Scenario = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim().to_string();
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            // toml names the key in "unknown field `x`"/"missing field `x`"
            // messages; for type errors the key is the one on that line.
            let field = msg
                .split('`')
                .nth(1)
                .map(str::to_string)
                .or_else(|| {
                    let l = text.lines().nth(line.saturating_sub(1))?;
                    let (k, _) = l.split_once('=')?;
                    Some(k.trim().to_string())
                })
                .unwrap_or_else(|| "toml".into());
            ScenarioError {
                file: origin.into(),
                line,
                field,
                message: msg,
            }
        })?;
        validate::validate(&sc, text, origin)?;
        Ok(sc)
    }

    /// Simulated start time, epoch ms.
    pub fn start_ms(&self) -> i64 {
        humantime::parse_rfc3339(self.scenario.start.get_ref())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64)
    }

    /// The load curve as (ms, multiplier), sorted.
    pub fn curve(&self) -> Vec<(i64, f64)> {
        let mut c: Vec<(i64, f64)> = self
            .load
            .curve
            .iter()
            .filter_map(|(t, v)| parse_duration_ms(t.get_ref()).ok().map(|ms| (ms, *v)))
            .collect();
        c.sort_by_key(|p| p.0);
        c
    }

    /// Timed events, sorted by time (validated, so parse failures can't happen).
    pub fn timed_events(&self) -> Vec<TimedEvent> {
        let s = |o: &Option<Spanned<String>>| {
            o.as_ref().map(|x| x.get_ref().clone()).unwrap_or_default()
        };
        let mut out: Vec<TimedEvent> = self
            .events
            .iter()
            .filter_map(|e| {
                let at_ms = parse_duration_ms(e.at.get_ref()).ok()?;
                let action = match e.action.get_ref().as_str() {
                    "deploy" => EventAction::Deploy {
                        service: s(&e.service),
                        task_definition: s(&e.task_definition),
                    },
                    "impair_az" => EventAction::ImpairAz {
                        az: s(&e.az),
                        duration_ms: e
                            .duration
                            .as_ref()
                            .and_then(|d| parse_duration_ms(d.get_ref()).ok()),
                    },
                    "release_az" => EventAction::ReleaseAz { az: s(&e.az) },
                    "set_desired" => EventAction::SetDesired {
                        service: s(&e.service),
                        count: e.count.unwrap_or(0),
                    },
                    "stop_task" => EventAction::StopTask {
                        service: s(&e.service),
                        count: e.count.unwrap_or(1),
                    },
                    "load" => EventAction::Load {
                        factor: e.factor.unwrap_or(1.0),
                    },
                    _ => return None,
                };
                Some(TimedEvent { at_ms, action })
            })
            .collect();
        out.sort_by_key(|e| e.at_ms);
        out
    }

    /// A large synthetic fleet for benchmarks: `services` services with
    /// `tasks_per_service` tasks each, over two clusters and three AZs.
    pub fn synthetic(services: usize, tasks_per_service: usize) -> Scenario {
        let mut text = String::from(
            "[scenario]\nname = \"synthetic\"\n\n[[clusters]]\nname = \"prod\"\n\n[[clusters]]\nname = \"batch\"\n\n\
             [[task_definitions]]\nfamily = \"app\"\nrevision = 1\ncpu = \"512\"\nmemory = \"1024\"\n\
             [[task_definitions.containers]]\nname = \"app\"\nimage = \"example/app:1.0.0\"\nport = 8080\nhealth_check = true\nlog_group = \"/ecs/app\"\n\n",
        );
        for i in 0..services {
            let cluster = if i % 2 == 0 { "prod" } else { "batch" };
            text.push_str(&format!(
                "[[services]]\ncluster = \"{cluster}\"\nname = \"svc-{i:04}\"\ntask_definition = \"app:1\"\ndesired = {tasks_per_service}\ntarget_group = \"tg-{i:04}\"\nbase_rps = 50\ncpu_per_rps = 0.3\n\n"
            ));
            if i % 3 == 0 {
                text.push_str(&format!(
                    "[[alarms]]\nname = \"svc-{i:04}-cpu\"\nservice = \"{cluster}/svc-{i:04}\"\nmetric = \"CPUUtilization\"\nthreshold = 80\n\n"
                ));
            }
        }
        Scenario::parse(&text, "synthetic")
            .unwrap_or_else(|e| unreachable!("synthetic scenario is valid: {e}"))
    }
}

pub const METRICS: &[&str] = &[
    "CPUUtilization",
    "MemoryUtilization",
    "RequestCount",
    "HTTPCode_Target_5XX_Count",
    "UnHealthyHostCount",
    "TargetResponseTime",
    "RunningTaskCount",
];

pub const COMPARISONS: &[&str] = &[
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"[scenario]
name = "t"

[[clusters]]
name = "prod"

[[task_definitions]]
family = "api"
revision = 1
[[task_definitions.containers]]
name = "api"
image = "x:1"

[[services]]
cluster = "prod"
name = "api"
task_definition = "api:1"
desired = 2
"#;

    #[test]
    fn every_builtin_parses() {
        for n in Scenario::builtin_names() {
            let s = Scenario::builtin(n).unwrap_or_else(|e| panic!("{e}"));
            assert!(s.clusters.len() >= 2, "{n}: at least two clusters");
            let regions: std::collections::BTreeSet<_> = s
                .clusters
                .iter()
                .map(|c| {
                    c.region
                        .clone()
                        .unwrap_or_else(|| s.scenario.region.clone())
                })
                .collect();
            assert_eq!(
                s.scenario.azs.len(),
                3 * regions.len(),
                "{n}: three AZs per region"
            );
        }
        assert!(Scenario::parse(BASE, "base.toml").is_ok());
    }

    #[test]
    fn malformed_scenarios_name_file_line_and_field() {
        let cases: &[(&str, &str)] = &[
            ("cluster = \"prod\"", "cluster = \"prd\""),
            ("task_definition = \"api:1\"", "task_definition = \"api:9\""),
            ("desired = 2", "desired = 2\nmin_healthy_percent = 150"),
            ("desired = 2", "desired = 2\nmax_percent = 50"),
            ("desired = 2", "desired = 2\ncolour = \"red\""),
            ("desired = 2", "desired = \"two\""),
            (
                "desired = 2",
                "desired = 2\n\n[[events]]\nat = \"soon\"\naction = \"deploy\"",
            ),
            (
                "desired = 2",
                "desired = 2\n\n[[events]]\nat = \"1m\"\naction = \"explode\"",
            ),
            (
                "desired = 2",
                "desired = 2\n\n[[events]]\nat = \"1m\"\naction = \"impair_az\"\naz = \"mars-1a\"",
            ),
            (
                "desired = 2",
                "desired = 2\n\n[[alarms]]\nname = \"a\"\nservice = \"prod/api\"\nmetric = \"Vibes\"\nthreshold = 1",
            ),
        ];
        let want_field = [
            "services[0].cluster",
            "services[0].task_definition",
            "services[0].min_healthy_percent",
            "services[0].max_percent",
            "colour",
            "desired",
            "events[0].at",
            "events[0].action",
            "events[0].az",
            "alarms[0].metric",
        ];
        for ((from, to), field) in cases.iter().zip(want_field) {
            let text = BASE.replace(from, to);
            let e = Scenario::parse(&text, "bad.toml").unwrap_err();
            assert_eq!(e.file, "bad.toml");
            assert_eq!(e.field, field, "{e}");
            let line = text.lines().nth(e.line - 1).unwrap_or_default();
            assert!(
                line.contains(field.rsplit('.').next().unwrap())
                    || line.contains("action")
                    || line.contains("desired"),
                "line {} ({line:?}) should be the offending one: {e}",
                e.line
            );
        }
    }

    #[test]
    fn unknown_builtin_lists_the_known_ones() {
        let e = Scenario::builtin("nope").unwrap_err().to_string();
        assert!(e.contains("steady") && e.contains("az-outage"), "{e}");
        assert!(e.starts_with("scenario: \"nope\" is not a built-in"), "{e}");
        assert!(!e.contains(":0:"), "no fake line: {e}");
    }

    /// Every numeric field is checked against its documented bound, and the
    /// error names the line of the offending key (its table's line when the
    /// key is missing). `(replace, with, "file:line: field")`.
    #[test]
    fn semantic_errors_name_the_line_of_the_key() {
        const ALARM: &str = "desired = 2\n\n[[alarms]]\nname = \"a\"\nservice = \"prod/api\"\nmetric = \"CPUUtilization\"\nthreshold = 1";
        const EVENT: &str = "desired = 2\n\n[[events]]\nat = \"1m\"";
        let d = "desired = 2";
        let alarm = |extra: &str| ALARM.replace("threshold = 1", extra);
        let event = |extra: &str| format!("{EVENT}\n{extra}");
        let cases: Vec<(&str, String, &str)> = vec![
            // services (desired is line 18 of BASE)
            (d, "desired = -1".into(), "bad.toml:18: services[0].desired: -1 is not within 0..=5000"),
            (d, "desired = 50000".into(), "bad.toml:18: services[0].desired: 50000 is not within 0..=5000: ECS's quota"),
            (d, "desired = 2\nautoscaling = { min = 5, max = 2, target = 50 }".into(), "bad.toml:19: services[0].autoscaling.max: max 2 is below min 5"),
            (d, "desired = 2\n\n[services.autoscaling]\nmin = 1\nmax = 4\ntarget = nan".into(), "bad.toml:23: services[0].autoscaling.target"),
            (d, "desired = 2\n\n[services.autoscaling]\nmin = -1\nmax = 4\ntarget = 50".into(), "bad.toml:21: services[0].autoscaling.min"),
            (d, "desired = 2\nautoscaling = { min = 1, max = 9000, target = 50 }".into(), "bad.toml:19: services[0].autoscaling.max: 9000"),
            (d, "desired = 2\nautoscaling = { min = 1, max = 2, target = 0 }".into(), "bad.toml:19: services[0].autoscaling.target"),
            (d, "desired = 2\nautoscaling = { min = 1, max = 2, target = 50, metric = \"vibes\" }".into(), "bad.toml:19: services[0].autoscaling.metric"),
            (d, "desired = 2\nautoscaling = { min = 1, max = 2, target = 50, scale_in_cooldown = -5 }".into(), "bad.toml:19: services[0].autoscaling.scale_in_cooldown"),
            (d, "desired = 2\nazs = []".into(), "bad.toml:19: services[0].azs: a service needs at least one AZ"),
            (d, "desired = 2\nazs = [\"us-east-1a\",\n  \"us-east-1a\"]".into(), "bad.toml:20: services[0].azs[1]: \"us-east-1a\" is defined twice"),
            (d, "desired = 2\nderegistration_delay = 3601".into(), "bad.toml:19: services[0].deregistration_delay"),
            (d, "desired = 2\nhealth_check_grace_period = -1".into(), "bad.toml:19: services[0].health_check_grace_period"),
            (d, "desired = 2\nbase_rps = nan".into(), "bad.toml:19: services[0].base_rps: NaN is not a number"),
            (d, "desired = 2\nbase_rps = 1e300".into(), "bad.toml:19: services[0].base_rps"),
            (d, "desired = 2\ncpu_per_rps = inf".into(), "bad.toml:19: services[0].cpu_per_rps: inf"),
            (d, "desired = 2\ncpu_per_rps = -0.5".into(), "bad.toml:19: services[0].cpu_per_rps"),
            (d, "desired = 2\ncapacity_providers = [{ provider = \"FARGATE\", weight = -1 }]".into(), "bad.toml:19: services[0].capacity_providers[0].weight"),
            (d, "desired = 2\n\n[[services]]\ncluster = \"prod\"\nname = \"api\"\ntask_definition = \"api:1\"\ndesired = 1".into(), "bad.toml:22: services[1].name: service \"prod/api\" is defined twice"),
            // alarms (threshold is line 24)
            (d, alarm("threshold = nan"), "bad.toml:24: alarms[0].threshold: NaN is not a finite threshold"),
            (d, alarm("threshold = -inf"), "bad.toml:24: alarms[0].threshold"),
            (d, alarm("threshold = 1\nevaluation_periods = 0"), "bad.toml:25: alarms[0].evaluation_periods: 0 is not within 1..=1440"),
            (d, alarm("threshold = 1\nevaluation_periods = 3\ndatapoints_to_alarm = 4"), "bad.toml:26: alarms[0].datapoints_to_alarm: 4 is not within 1..=3"),
            (d, alarm("threshold = 1\ndatapoints_to_alarm = 0"), "bad.toml:25: alarms[0].datapoints_to_alarm"),
            (d, alarm("threshold = 1\ncomparison = \"Bigger\""), "bad.toml:25: alarms[0].comparison"),
            // events ([[events]] is line 20, at line 21)
            (d, event("action = \"set_desired\"\nservice = \"prod/api\"\ncount = -3"), "bad.toml:24: events[0].count: -3 is not within 0..=5000"),
            (d, event("action = \"set_desired\"\nservice = \"prod/api\"\ncount = 50000"), "bad.toml:24: events[0].count"),
            (d, event("action = \"set_desired\"\nservice = \"prod/api\""), "bad.toml:20: events[0].count: \"set_desired\" needs count"),
            (d, event("action = \"stop_task\"\nservice = \"prod/api\"\ncount = 0"), "bad.toml:24: events[0].count: 0 is not within 1..=5000"),
            (d, event("action = \"load\"\nfactor = nan"), "bad.toml:23: events[0].factor: NaN"),
            (d, event("action = \"load\"\nfactor = 1e9"), "bad.toml:23: events[0].factor"),
            (d, event("action = \"load\""), "bad.toml:20: events[0].factor: \"load\" needs factor"),
            (d, event("action = \"impair_az\"\naz = \"us-east-1a\"\nduration = \"0s\""), "bad.toml:24: events[0].duration: \"0s\" must be longer than 0s"),
            (d, event("action = \"impair_az\"\naz = \"us-east-1a\"\nduration = \"40d\""), "bad.toml:24: events[0].duration: \"40d\" is longer than the simulator runs"),
            (d, event("action = \"release_az\"\naz = \"us-east-1a\"").replace("\"1m\"", "\"999999999999h\""), "bad.toml:21: events[0].at"),
            // load curve (appended after the service: [load] is line 20)
            (d, "desired = 2\n\n[load]\ncurve = [[\"0s\", 1.0],\n  [\"5m\", nan]]".into(), "bad.toml:22: load.curve[1][1]: NaN"),
            (d, "desired = 2\n\n[load]\ncurve = [[\"0s\", -1.0]]".into(), "bad.toml:21: load.curve[0][1]"),
            (d, "desired = 2\n\n[load]\ncurve = [[\"32d\", 1.0]]".into(), "bad.toml:21: load.curve[0][0]"),
            // scenario and task definitions
            ("name = \"t\"", "name = \"t\"\nazs = []".into(), "bad.toml:3: scenario.azs: a scenario needs at least one Availability Zone"),
            ("name = \"t\"", "name = \"t\"\nazs = [\"a\", \"\"]".into(), "bad.toml:3: scenario.azs[1]"),
            ("name = \"t\"", "name = \"t\"\nstart = \"1960-01-01T00:00:00Z\"".into(), "bad.toml:3: scenario.start"),
            ("revision = 1", "revision = 0".into(), "bad.toml:9: task_definitions[0].revision"),
            ("revision = 1", "revision = 1\ncpu = \"lots\"".into(), "bad.toml:10: task_definitions[0].cpu"),
            ("image = \"x:1\"", "image = \"x:1\"\nport = 70000".into(), "bad.toml:13: task_definitions[0].containers[0].port"),
            ("image = \"x:1\"", "image = \"x:1\"\nhealth_check_start_period = 301".into(), "bad.toml:13: task_definitions[0].containers[0].health_check_start_period"),
            ("image = \"x:1\"", "image = \"x:1\"\nmemory = 512\nmemory_reservation = 1024".into(), "bad.toml:14: task_definitions[0].containers[0].memory_reservation"),
            ("image = \"x:1\"", "image = \"x:1\"\nstop_timeout = 121".into(), "bad.toml:13: task_definitions[0].containers[0].stop_timeout"),
            (d, "desired = 2\n\n[[log_groups]]\nname = \"/ecs/api\"\nretention_days = 13".into(), "bad.toml:22: log_groups[0].retention_days: 13 is not a CloudWatch Logs retention"),
            ("name = \"prod\"", "name = \"prod\"\ndefault_capacity_providers = [{ provider = \"FARGATE\", base = 100001 }]".into(), "bad.toml:6: clusters[0].default_capacity_providers[0].base"),
        ];
        for (from, to, want) in &cases {
            assert!(BASE.contains(from), "{from}");
            let text = BASE.replacen(from, to, 1);
            let e = Scenario::parse(&text, "bad.toml")
                .err()
                .unwrap_or_else(|| panic!("accepted:\n{text}"))
                .to_string();
            assert!(e.starts_with(want), "want {want:?}\n got {e:?}\nin\n{text}");
        }
        // Inside the bounds: accepted.
        for ok in [
            "desired = 5000",
            "desired = 0",
            "desired = 2\nautoscaling = { min = 0, max = 5000, target = 50 }",
        ] {
            let text = BASE.replace(d, ok);
            assert!(Scenario::parse(&text, "ok.toml").is_ok(), "{ok}");
        }
    }

    #[test]
    fn the_fleet_as_a_whole_is_bounded() {
        // 10 services of 5,000 each is the bound; one task more is over it.
        let mut text = BASE.replace("desired = 2", "desired = 5000");
        for i in 1..10 {
            text.push_str(&format!(
                "\n[[services]]\ncluster = \"prod\"\nname = \"s{i}\"\ntask_definition = \"api:1\"\ndesired = 5000\n"
            ));
        }
        assert!(Scenario::parse(&text, "big.toml").is_ok());
        let over = format!(
            "{text}\n[[services]]\ncluster = \"prod\"\nname = \"last\"\ntask_definition = \"api:1\"\ndesired = 1\n"
        );
        let e = Scenario::parse(&over, "big.toml").unwrap_err();
        assert_eq!(e.field, "services[10].desired", "{e}");
        assert_eq!(over.lines().nth(e.line - 1), Some("desired = 1"), "{e}");
        assert!(e.message.contains("50000"), "{e}");
        // Auto scaling maxima and set_desired events count too.
        let scaled = text.replace(
            "name = \"s1\"\ntask_definition = \"api:1\"\ndesired = 5000",
            "name = \"s1\"\ntask_definition = \"api:1\"\ndesired = 1\nautoscaling = { min = 1, max = 5000, target = 50 }",
        );
        assert!(Scenario::parse(&scaled, "big.toml").is_ok());
        let evented = format!(
            "{over}\n[[events]]\nat = \"1m\"\naction = \"set_desired\"\nservice = \"prod/last\"\ncount = 0\n"
        )
        .replace("name = \"last\"\ntask_definition = \"api:1\"\ndesired = 1", "name = \"last\"\ntask_definition = \"api:1\"\ndesired = 0");
        assert!(Scenario::parse(&evented, "big.toml").is_ok());
        let e =
            Scenario::parse(&evented.replace("count = 0", "count = 1"), "big.toml").unwrap_err();
        assert_eq!(e.field, "services[10].desired", "{e}");
    }

    #[test]
    fn unreadable_files_are_refused_without_a_fake_line() {
        let e = Scenario::from_file(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "/dev/zero: not a regular file (a character device); refusing to read it"
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("s.toml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = Scenario::from_file(&fifo).unwrap_err().to_string();
        assert!(
            e.ends_with("s.toml: not a regular file (a FIFO); refusing to read it"),
            "{e}"
        );
        let e = Scenario::from_file(&dir.path().join("none.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("none.toml: No such file or directory (os error 2)"),
            "{e}"
        );
        assert!(!e.contains(":0:"), "{e}");
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, b"[scenario]\nname = \"\xff\"\n").unwrap();
        let e = Scenario::from_file(&bad).unwrap_err().to_string();
        assert!(e.ends_with("bad.toml:2: file: not UTF-8 text"), "{e}");
    }

    #[test]
    fn synthetic_is_large() {
        let s = Scenario::synthetic(100, 10);
        assert_eq!(s.services.len(), 100);
        assert!(s.services.iter().all(|x| x.desired == 10));
    }

    #[test]
    fn durations_are_bounded() {
        assert_eq!(parse_duration_ms("31d"), Ok(MAX_SIM_MS));
        assert!(parse_duration_ms("31d 1ms").is_err());
        // Past i64 ms: refused, not wrapped to a negative time.
        let e = parse_duration_ms("500000000000y").unwrap_err();
        assert!(
            e.contains("not a duration") || e.contains("at most 31 days"),
            "{e}"
        );
    }
}
