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
];

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{file}:{line}: {field}: {message}")]
pub struct ScenarioError {
    pub file: String,
    pub line: usize,
    pub field: String,
    pub message: String,
}

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

pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    humantime::parse_duration(s.trim())
        .map(|d| d.as_millis() as i64)
        .map_err(|e| format!("{s:?} is not a duration ({e}; try 90s, 4m, 1h)"))
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Scenario {
    pub fn builtin_names() -> &'static [&'static str] {
        &[
            "steady",
            "az-outage",
            "bad-deploy",
            "scale-out",
            "seed-review",
            "dr-pilot-light",
        ]
    }

    pub fn builtin(name: &str) -> Result<Scenario, ScenarioError> {
        match BUILTIN.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Scenario::parse(text, &format!("assets/scenarios/{n}.toml")),
            None => Err(ScenarioError {
                file: name.into(),
                line: 0,
                field: "scenario".into(),
                message: format!(
                    "no built-in scenario {name:?} (built-in: {}; or give a path to a .toml file)",
                    Self::builtin_names().join(", ")
                ),
            }),
        }
    }

    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            file: path.display().to_string(),
            line: 0,
            field: "file".into(),
            message: e.to_string(),
        })?;
        Scenario::parse(&text, &path.display().to_string())
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
        sc.validate(text, origin)?;
        Ok(sc)
    }

    fn validate(&self, text: &str, origin: &str) -> Result<(), ScenarioError> {
        let err = |span: std::ops::Range<usize>, field: String, message: String| ScenarioError {
            file: origin.into(),
            line: if span.is_empty() && span.start == 0 {
                1
            } else {
                line_of(text, span.start)
            },
            field,
            message,
        };
        let start = &self.scenario.start;
        if humantime::parse_rfc3339(start.get_ref()).is_err() {
            return Err(err(
                start.span(),
                "scenario.start".into(),
                format!("{:?} is not an RFC 3339 time", start.get_ref()),
            ));
        }
        if self.clusters.is_empty() {
            return Err(err(
                0..0,
                "clusters".into(),
                "a scenario needs at least one cluster".into(),
            ));
        }
        for (i, (t, v)) in self.load.curve.iter().enumerate() {
            parse_duration_ms(t.get_ref())
                .map_err(|m| err(t.span(), format!("load.curve[{i}]"), m))?;
            if !(v.is_finite() && *v >= 0.0) {
                return Err(err(
                    t.span(),
                    format!("load.curve[{i}]"),
                    format!("load {v} must be ≥ 0"),
                ));
            }
        }
        let td_names: Vec<String> = self
            .task_definitions
            .iter()
            .map(|t| format!("{}:{}", t.family, t.revision))
            .collect();
        for (i, s) in self.services.iter().enumerate() {
            let f = |k: &str| format!("services[{i}].{k}");
            if !self.clusters.iter().any(|c| &c.name == s.cluster.get_ref()) {
                return Err(err(
                    s.cluster.span(),
                    f("cluster"),
                    format!("unknown cluster {:?}", s.cluster.get_ref()),
                ));
            }
            if !td_names.contains(s.task_definition.get_ref()) {
                return Err(err(
                    s.task_definition.span(),
                    f("task_definition"),
                    format!(
                        "unknown task definition {:?} (known: {})",
                        s.task_definition.get_ref(),
                        td_names.join(", ")
                    ),
                ));
            }
            let min = *s.min_healthy_percent.get_ref();
            if !(0..=100).contains(&min) {
                return Err(err(
                    s.min_healthy_percent.span(),
                    f("min_healthy_percent"),
                    format!("{min} is not within 0..=100"),
                ));
            }
            let max = *s.max_percent.get_ref();
            if !(100..=200).contains(&max) {
                return Err(err(
                    s.max_percent.span(),
                    f("max_percent"),
                    format!("{max} is not within 100..=200"),
                ));
            }
            if s.desired < 0 {
                return Err(err(0..0, f("desired"), "must be ≥ 0".into()));
            }
            if let Some(azs) = &s.azs {
                for az in azs {
                    if !self.scenario.azs.contains(az.get_ref()) {
                        return Err(err(
                            az.span(),
                            f("azs"),
                            format!("{:?} is not one of the scenario's AZs", az.get_ref()),
                        ));
                    }
                }
            }
            if let Some(a) = &s.autoscaling
                && (a.min < 0 || a.max < a.min || a.target <= 0.0)
            {
                return Err(err(
                    0..0,
                    f("autoscaling"),
                    "needs 0 ≤ min ≤ max and target > 0".into(),
                ));
            }
        }
        let svc_keys: Vec<String> = self
            .services
            .iter()
            .map(|s| format!("{}/{}", s.cluster.get_ref(), s.name))
            .collect();
        for (i, a) in self.alarms.iter().enumerate() {
            if !svc_keys.contains(a.service.get_ref()) {
                return Err(err(
                    a.service.span(),
                    format!("alarms[{i}].service"),
                    format!("unknown service {:?}", a.service.get_ref()),
                ));
            }
            if !METRICS.contains(&a.metric.get_ref().as_str()) {
                return Err(err(
                    a.metric.span(),
                    format!("alarms[{i}].metric"),
                    format!(
                        "unknown metric {:?} (known: {})",
                        a.metric.get_ref(),
                        METRICS.join(", ")
                    ),
                ));
            }
            if !COMPARISONS.contains(&a.comparison.get_ref().as_str()) {
                return Err(err(
                    a.comparison.span(),
                    format!("alarms[{i}].comparison"),
                    format!("unknown comparison {:?}", a.comparison.get_ref()),
                ));
            }
        }
        for (i, e) in self.events.iter().enumerate() {
            let f = |k: &str| format!("events[{i}].{k}");
            parse_duration_ms(e.at.get_ref()).map_err(|m| err(e.at.span(), f("at"), m))?;
            let need = |o: &Option<Spanned<String>>, k: &str| -> Result<(), ScenarioError> {
                if o.is_none() {
                    return Err(err(
                        e.action.span(),
                        f(k),
                        format!("{:?} needs {k}", e.action.get_ref()),
                    ));
                }
                Ok(())
            };
            match e.action.get_ref().as_str() {
                "deploy" => {
                    need(&e.service, "service")?;
                    need(&e.task_definition, "task_definition")?;
                    let td = e
                        .task_definition
                        .as_ref()
                        .map(|t| t.get_ref().clone())
                        .unwrap_or_default();
                    if !td_names.contains(&td) {
                        let sp = e.task_definition.as_ref().map_or(0..0, |t| t.span());
                        return Err(err(
                            sp,
                            f("task_definition"),
                            format!("unknown task definition {td:?}"),
                        ));
                    }
                }
                "impair_az" | "release_az" => {
                    need(&e.az, "az")?;
                    let az =
                        e.az.as_ref()
                            .map(|a| a.get_ref().clone())
                            .unwrap_or_default();
                    if !self.scenario.azs.contains(&az) {
                        let sp = e.az.as_ref().map_or(0..0, |t| t.span());
                        return Err(err(
                            sp,
                            f("az"),
                            format!("{az:?} is not one of the scenario's AZs"),
                        ));
                    }
                    if let Some(d) = &e.duration {
                        parse_duration_ms(d.get_ref())
                            .map_err(|m| err(d.span(), f("duration"), m))?;
                    }
                }
                "set_desired" | "stop_task" => need(&e.service, "service")?,
                "load" => {
                    if e.factor.is_none_or(|x| !(x.is_finite() && x >= 0.0)) {
                        return Err(err(
                            e.action.span(),
                            f("factor"),
                            "\"load\" needs factor ≥ 0".into(),
                        ));
                    }
                }
                other => {
                    return Err(err(
                        e.action.span(),
                        f("action"),
                        format!(
                            "unknown action {other:?} (deploy, impair_az, release_az, set_desired, stop_task, load)"
                        ),
                    ));
                }
            }
            if let Some(s) = &e.service
                && !svc_keys.contains(s.get_ref())
            {
                return Err(err(
                    s.span(),
                    f("service"),
                    format!("unknown service {:?}", s.get_ref()),
                ));
            }
        }
        Ok(())
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
    }

    #[test]
    fn synthetic_is_large() {
        let s = Scenario::synthetic(100, 10);
        assert_eq!(s.services.len(), 100);
        assert!(s.services.iter().all(|x| x.desired == 10));
    }
}
