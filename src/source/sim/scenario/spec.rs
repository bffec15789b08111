//! The scenario file's shape: what serde reads, with defaults.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use crate::model::ServiceId;

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
    /// Route 53 names whose record sets point at services (DR traffic).
    #[serde(default)]
    pub dns: Vec<DnsSpec>,
    /// Replicated databases (an Aurora Global Database, a read replica).
    #[serde(default)]
    pub databases: Vec<DatabaseSpec>,
    /// The clusters' load balancers (`<cluster>-alb`): attributes and
    /// listeners. One not listed has ELBv2's defaults.
    #[serde(default)]
    pub load_balancers: Vec<LoadBalancerSpec>,
    /// ECR repositories of the images. An ECR image whose repository is
    /// not listed has create-repository's defaults.
    #[serde(default)]
    pub ecr_repositories: Vec<EcrRepositorySpec>,
    /// GuardDuty per place; a place not listed has no detector.
    #[serde(default)]
    pub guardduty: Vec<GuardDutySpec>,
}

/// A load balancer's hardening, as ELBv2's attributes and listeners.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancerSpec {
    pub name: String,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub access_logs: bool,
    #[serde(default)]
    pub deletion_protection: bool,
    #[serde(default)]
    pub drop_invalid_headers: bool,
    /// "monitor" | "defensive" | "strictest".
    #[serde(default = "defensive")]
    pub desync_mode: String,
    /// "HTTPS:443", "HTTP:80", or "HTTP:80>HTTPS" (redirects to HTTPS).
    #[serde(default = "http_listener")]
    pub listeners: Vec<String>,
}

fn defensive() -> String {
    "defensive".into()
}
fn http_listener() -> Vec<String> {
    vec!["HTTP:80".into()]
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcrRepositorySpec {
    /// The repository URI, as images name it (without tag or digest).
    pub uri: String,
    #[serde(default)]
    pub scan_on_push: bool,
    #[serde(default)]
    pub immutable: bool,
    #[serde(default)]
    pub lifecycle_policy: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardDutySpec {
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub runtime_monitoring: bool,
    #[serde(default)]
    pub ecs_fargate_agent: bool,
}

/// A Route 53 name in a hosted zone: its record sets, each pointing at a
/// service's load balancer, health-checked by default. Traffic to the
/// name goes where Route 53 answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSpec {
    /// The hosted zone's name (`example.com.`).
    pub zone: String,
    /// Its id (default: derived from the name, `Z…`).
    pub zone_id: Option<String>,
    pub name: String,
    /// Requests per second to the name (default: its services' base_rps).
    pub rps: Option<f64>,
    pub records: Vec<DnsRecordSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsRecordSpec {
    pub set: String,
    /// `PRIMARY` or `SECONDARY` (a failover pair), or …
    pub failover: Option<Spanned<String>>,
    /// … a weight (weighted sets).
    pub weight: Option<i64>,
    /// `cluster/service` behind the record's load balancer.
    pub service: Spanned<String>,
    pub region: String,
    pub account: Option<String>,
    #[serde(default = "yes")]
    pub health_check: bool,
}

/// A database replicated from `writer` to `reader` in another region.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    /// `global-cluster`, `read-replica` or `replica-cluster`.
    pub kind: Spanned<String>,
    /// The global cluster's identifier (a replica is named by `reader.id`).
    pub id: Option<String>,
    pub writer: DbPlaceSpec,
    pub reader: DbPlaceSpec,
    /// Typical replication lag (`800ms`, `2s`).
    #[serde(default = "one_second")]
    pub lag: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbPlaceSpec {
    pub region: String,
    pub id: String,
}

fn one_second() -> Spanned<String> {
    Spanned::new(0..0, "1s".into())
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
    /// Auto Scaling group capacity providers (not FARGATE / FARGATE_SPOT).
    #[serde(default)]
    pub asg_capacity_providers: Vec<AsgProviderSpec>,
    /// The cluster's region (default: the scenario's): a DR scenario puts
    /// its standby cluster in a second region.
    #[serde(default)]
    pub region: Option<String>,
    /// The cluster's account (default: the scenario's), 12 digits.
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AsgProviderSpec {
    pub name: String,
    #[serde(default = "yes")]
    pub managed_termination_protection: bool,
}

fn yes() -> bool {
    true
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
    pub execution_role_policies: Vec<PolicySpec>,
    /// EFS volumes (ECS.18).
    #[serde(default)]
    pub efs_volumes: Vec<EfsVolumeSpec>,
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
pub struct EfsVolumeSpec {
    pub name: String,
    pub file_system_id: String,
    #[serde(default = "yes")]
    pub transit_encryption: bool,
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
    /// Free IPs in each of its subnets before its own tasks take theirs
    /// (default 250: a /24 with room to spare).
    #[serde(default = "subnet_ips")]
    pub subnet_free_ips: i32,
    #[serde(default = "hundred")]
    pub min_healthy_percent: Spanned<i32>,
    #[serde(default = "two_hundred")]
    pub max_percent: Spanned<i32>,
    pub circuit_breaker: Option<BreakerSpec>,
    /// ECS | CODE_DEPLOY | EXTERNAL (default ECS). A CODE_DEPLOY service's
    /// deployments are CodeDeploy's (the simulator keeps one CodeDeploy
    /// deployment per ECS rollout).
    #[serde(default)]
    pub deployment_controller: Option<String>,
    /// ROLLING | BLUE_GREEN | LINEAR | CANARY (ECS-native; default: not
    /// reported, rolling). The simulator rolls every strategy; only a
    /// rolling one reports `rolloutState`, as ECS does.
    #[serde(default)]
    pub strategy: Option<String>,
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
fn subnet_ips() -> i32 {
    250
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
    /// Which of same-named services (twins in two regions or accounts):
    /// its region and account. Unset: the only one of that name.
    pub region: Option<String>,
    pub account: Option<String>,
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
    /// Which of same-named services (twins): its region and account.
    /// Unset: the only one of that name.
    pub region: Option<String>,
    pub account: Option<String>,
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
        service: ServiceId,
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
        service: ServiceId,
        count: i32,
    },
    StopTask {
        service: ServiceId,
        count: i32,
    },
    /// Multiply the load curve by `factor` from now on.
    Load {
        factor: f64,
    },
}
