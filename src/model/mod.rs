//! Plain domain types and pure logic. No I/O, no AWS SDK types, no ratatui.
//!
//! Field names follow ECS / CloudWatch / ELBv2 vocabulary (snake_case of the API
//! fields) so that the review checks and the AWS conversion read naturally.

pub mod az;
pub mod database;
pub mod dns;
mod fresh;
pub mod health;
pub mod history;
pub mod id;
mod metrics;
pub mod posture;
pub mod rows;
pub mod secret;
mod snapshot;
pub mod timeline;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use az::AzSpread;
pub use fresh::{DataKind, FreshKey};
pub use health::ServiceHealth;
pub use history::ServiceDeploymentRecord;
pub use id::{AlarmId, ClusterId, LogGroupId, ScalableTargetId, ServiceId, TargetGroupId};
pub use metrics::{MetricSeries, ServiceMetrics};
pub use posture::{
    CapacityProvider, EcrRepository, EfsVolume, GuardDuty, Listener, LoadBalancerPosture, TaskSet,
    Volume,
};
pub use timeline::{TimelineEvent, TimelineKind};

/// Milliseconds since the Unix epoch. Simulated or real, depending on the source.
pub type EpochMs = i64;

/// Everything the console knows about the fleet at one instant. Immutable once
/// published: the UI, the status command, the review engine and runbook
/// verification all read the same `Arc<FleetSnapshot>`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetSnapshot {
    /// The source's clock when this snapshot was assembled.
    pub at: EpochMs,
    pub source: SourceInfo,
    /// The collections below are shared (`Arc`) for the same reason as the
    /// services: a source hands out the previous `Arc` while a collection is
    /// unchanged, so consumers tell "unchanged" by pointer instead of
    /// comparing thousands of alarms or metric points. Change one with
    /// `Arc::make_mut`.
    pub clusters: Arc<Vec<Cluster>>,
    /// All services of all clusters, ordered by (region, cluster, name).
    /// Shared: a source hands out the same `Arc` while a service is unchanged,
    /// so consumers (the review cache) can tell "unchanged" by pointer.
    pub services: Vec<Arc<Service>>,
    /// Task definitions by ARN (immutable per revision).
    pub task_definitions: Arc<BTreeMap<String, Arc<TaskDefinition>>>,
    pub target_groups: Arc<Vec<TargetGroup>>,
    pub scalable_targets: Arc<Vec<ScalableTarget>>,
    pub scaling_activities: Arc<Vec<ScalingActivity>>,
    pub alarms: Arc<Vec<Alarm>>,
    pub log_groups: Arc<Vec<LogGroup>>,
    /// The ECR repositories of the fleet's images.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ecr_repositories: Arc<Vec<EcrRepository>>,
    /// GuardDuty per place read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guardduty: Arc<Vec<GuardDuty>>,
    /// Metric series by service: twins in two regions or accounts have
    /// their own.
    pub metrics: Arc<BTreeMap<ServiceId, ServiceMetrics>>,
    /// Account id → its alias (`iam:ListAccountAliases`), where known.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub account_aliases: BTreeMap<String, String>,
    /// Per source kind and place: when it last succeeded and its last error.
    #[serde(serialize_with = "fresh::serialize_map")]
    pub freshness: BTreeMap<FreshKey, Freshness>,
    /// Single resources a source could not read although their kind was
    /// read (a task definition or task role whose call was denied): ARN or
    /// name → "api: error". The review does not evaluate the checks that
    /// need them on the services that use them.
    pub unread: Arc<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SourceInfo {
    /// "demo" or "aws".
    pub kind: String,
    /// Scenario name (demo) or profile (aws).
    pub label: String,
    pub region: String,
    /// The account read (the first one's when several are merged).
    #[serde(default)]
    pub account: String,
    /// Simulation speed factor (demo only).
    pub speed: Option<f64>,
    pub seed: Option<u64>,
    /// AWS API calls made since start (AWS only; the status line shows a rate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_calls: Option<u64>,
    /// Of those, how many were throttled (AWS only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttles: Option<u64>,
}

/// Every data kind an AWS refresh reads: the kinds of the keys of
/// [`FleetSnapshot::freshness`] (one key per kind and place).
pub const DATA_KINDS: [DataKind; 10] = [
    DataKind::Ecs,
    DataKind::Ec2,
    DataKind::Iam,
    DataKind::Autoscaling,
    DataKind::Elbv2,
    DataKind::Cloudwatch,
    DataKind::Metrics,
    DataKind::Logs,
    DataKind::Ecr,
    DataKind::Guardduty,
];

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Freshness {
    /// Source clock at the last successful refresh.
    pub updated_at: Option<EpochMs>,
    /// Last error, if the last refresh failed ("AccessDenied: ecs:DescribeTasks").
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
    pub arn: String,
    /// The 12-digit account id.
    #[serde(default)]
    pub account: String,
    pub region: String,
    pub status: String,
    /// `settings[name=containerInsights].value`: "enabled" | "enhanced" | "disabled".
    pub container_insights: String,
    pub tags: BTreeMap<String, String>,
    pub default_capacity_provider_strategy: Vec<CapacityProviderItem>,
    /// The cluster's Auto Scaling group capacity providers
    /// (DescribeCapacityProviders; FARGATE and FARGATE_SPOT are not listed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capacity_providers: Vec<CapacityProvider>,
    /// "api: error" when the capacity providers could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_providers_unread: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CapacityProviderItem {
    pub capacity_provider: String,
    pub base: i32,
    pub weight: i32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeploymentCircuitBreaker {
    pub enable: bool,
    pub rollback: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeploymentAlarms {
    pub alarm_names: Vec<String>,
    pub enable: bool,
    pub rollback: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DeploymentConfiguration {
    pub minimum_healthy_percent: i32,
    pub maximum_percent: i32,
    pub deployment_circuit_breaker: Option<DeploymentCircuitBreaker>,
    pub alarms: Option<DeploymentAlarms>,
    /// ROLLING | BLUE_GREEN | LINEAR | CANARY (`None`: not reported, rolling).
    /// Only ROLLING deployments report a `rolloutState`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bake_time_in_minutes: Option<i32>,
}

impl DeploymentConfiguration {
    /// Whether deployments of this strategy report `rolloutState` (only
    /// rolling updates do).
    pub fn is_rolling(&self) -> bool {
        self.strategy.as_deref().is_none_or(|s| s == "ROLLING")
    }
}

impl Default for DeploymentConfiguration {
    fn default() -> Self {
        Self {
            minimum_healthy_percent: 100,
            maximum_percent: 200,
            deployment_circuit_breaker: None,
            alarms: None,
            strategy: None,
            bake_time_in_minutes: None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoadBalancerRef {
    pub target_group_arn: String,
    pub container_name: String,
    pub container_port: i32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct NetworkConfiguration {
    pub subnets: Vec<String>,
    pub security_groups: Vec<String>,
    /// "ENABLED" | "DISABLED".
    pub assign_public_ip: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Subnet {
    pub subnet_id: String,
    pub availability_zone: String,
    pub available_ip_address_count: i32,
}

/// The status of a deployment as ECS reports it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentStatus {
    Primary,
    Active,
    Inactive,
}

impl DeploymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "PRIMARY",
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RolloutState {
    InProgress,
    Completed,
    Failed,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Deployment {
    /// `ecs-svc/1234567890123456789`.
    pub id: String,
    pub status: DeploymentStatus,
    /// Task definition ARN.
    pub task_definition: String,
    pub desired_count: i32,
    pub pending_count: i32,
    pub running_count: i32,
    pub failed_tasks: i32,
    pub rollout_state: Option<RolloutState>,
    pub rollout_state_reason: Option<String>,
    pub created_at: EpochMs,
    pub updated_at: EpochMs,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServiceEvent {
    pub id: String,
    pub created_at: EpochMs,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Service {
    /// The 12-digit account id.
    #[serde(default)]
    pub account: String,
    pub region: String,
    pub cluster: String,
    pub name: String,
    pub arn: String,
    /// "ACTIVE" | "DRAINING" | "INACTIVE".
    pub status: String,
    pub desired_count: i32,
    pub running_count: i32,
    pub pending_count: i32,
    /// "FARGATE" | "EC2" | "EXTERNAL" | "" when a capacity provider strategy is used.
    pub launch_type: String,
    pub capacity_provider_strategy: Vec<CapacityProviderItem>,
    pub platform_version: Option<String>,
    pub platform_family: Option<String>,
    /// Task definition ARN of the service (the PRIMARY deployment's).
    pub task_definition: String,
    /// "ECS" | "CODE_DEPLOY" | "EXTERNAL".
    pub deployment_controller: String,
    pub deployment_configuration: DeploymentConfiguration,
    pub deployments: Vec<Deployment>,
    pub load_balancers: Vec<LoadBalancerRef>,
    pub network_configuration: Option<NetworkConfiguration>,
    pub health_check_grace_period_seconds: Option<i32>,
    /// "ENABLED" | "DISABLED".
    pub availability_zone_rebalancing: String,
    pub enable_execute_command: bool,
    /// "SERVICE" | "TASK_DEFINITION" | "NONE".
    pub propagate_tags: String,
    pub enable_ecs_managed_tags: bool,
    pub tags: BTreeMap<String, String>,
    pub created_at: EpochMs,
    /// Newest first, as ECS returns them (bounded to 100).
    pub events: Vec<ServiceEvent>,
    /// Tasks of this service: running and recently stopped.
    pub tasks: Vec<Task>,
    /// Subnets the service places into, with their AZs (from EC2 DescribeSubnets).
    pub subnets: Vec<Subnet>,
    /// Its service deployments, newest first (the simulator's; empty on
    /// AWS, where `ecs.resolve_revision` reads them when it needs them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployment_history: Vec<ServiceDeploymentRecord>,
    /// Task sets (EXTERNAL and CODE_DEPLOY controllers), from DescribeServices.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub task_sets: Vec<TaskSet>,
}

impl Service {
    /// `cluster/name`: the short display of the service. Not an identity:
    /// twins in two regions or accounts share it (see [`Service::id`]).
    pub fn key(&self) -> String {
        service_key(&self.cluster, &self.name)
    }

    /// (account, region, cluster, name).
    pub fn id(&self) -> ServiceId {
        ServiceId::new(&self.account, &self.region, &self.cluster, &self.name)
    }

    /// Whether its short key (`cluster/name`) is `key` (no allocation).
    pub fn has_key(&self, key: &str) -> bool {
        key.len() == self.cluster.len() + 1 + self.name.len()
            && key.starts_with(self.cluster.as_str())
            && key.as_bytes()[self.cluster.len()] == b'/'
            && key.ends_with(self.name.as_str())
    }

    /// Whether this is the service `id` names (no allocation).
    pub fn is(&self, id: &ServiceId) -> bool {
        *id.name == *self.name
            && *id.cluster == *self.cluster
            && *id.region == *self.region
            && *id.account == *self.account
    }

    pub fn primary_deployment(&self) -> Option<&Deployment> {
        self.deployments
            .iter()
            .find(|d| d.status == DeploymentStatus::Primary)
    }

    /// Tasks whose lastStatus is RUNNING.
    pub fn running_tasks(&self) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(|t| t.last_status == "RUNNING")
    }

    /// The service's Application Auto Scaling resource id: `service/<cluster>/<name>`.
    pub fn scaling_resource_id(&self) -> String {
        format!("service/{}/{}", self.cluster, self.name)
    }
}

pub fn service_key(cluster: &str, name: &str) -> String {
    format!("{cluster}/{name}")
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Container {
    pub name: String,
    pub last_status: String,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub health_status: String,
    pub image: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Task {
    pub arn: String,
    /// The short id (last ARN segment).
    pub id: String,
    pub cluster: String,
    /// `service:<name>` as ECS sets it for service tasks.
    pub group: String,
    pub task_definition: String,
    /// PROVISIONING | PENDING | ACTIVATING | RUNNING | DEACTIVATING | STOPPING | DEPROVISIONING | STOPPED.
    pub last_status: String,
    pub desired_status: String,
    /// HEALTHY | UNHEALTHY | UNKNOWN.
    pub health_status: String,
    /// None when the source cannot tell (e.g. moto): shown as "unknown AZ".
    pub availability_zone: Option<String>,
    pub subnet_id: Option<String>,
    pub private_ip: Option<String>,
    pub launch_type: String,
    pub capacity_provider: Option<String>,
    pub created_at: EpochMs,
    pub started_at: Option<EpochMs>,
    pub stopping_at: Option<EpochMs>,
    pub stopped_at: Option<EpochMs>,
    /// TaskFailedToStart | EssentialContainerExited | UserInitiated | ServiceSchedulerInitiated | SpotInterruption | TerminationNotice.
    pub stop_code: Option<String>,
    pub stopped_reason: Option<String>,
    pub containers: Vec<Container>,
    /// The deployment this task belongs to (`startedBy` for service tasks).
    pub started_by: String,
}

impl Task {
    pub fn is_running(&self) -> bool {
        self.last_status == "RUNNING"
    }
    pub fn is_stopped(&self) -> bool {
        self.last_status == "STOPPED"
    }

    /// Stopped for a reason an operator should look at: anything but a
    /// scheduler or user stop, and any stop whose reason says something failed
    /// (ELB health checks).
    pub fn stopped_abnormally(&self) -> bool {
        !matches!(
            self.stop_code.as_deref(),
            Some("ServiceSchedulerInitiated") | Some("UserInitiated")
        ) || self
            .stopped_reason
            .as_deref()
            .is_some_and(|r| r.contains("failed"))
    }

    /// The first container exit code, if any container exited.
    pub fn exit_code(&self) -> Option<i32> {
        self.containers.iter().find_map(|c| c.exit_code)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct KeyValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SecretRef {
    pub name: String,
    pub value_from: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct HealthCheck {
    pub command: Vec<String>,
    pub interval: i32,
    pub timeout: i32,
    pub retries: i32,
    pub start_period: Option<i32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogConfiguration {
    /// "awslogs" | "awsfirelens" | ...
    pub log_driver: String,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ContainerDefinition {
    pub name: String,
    pub image: String,
    pub essential: bool,
    pub cpu: Option<i32>,
    pub memory: Option<i32>,
    pub memory_reservation: Option<i32>,
    pub port_mappings: Vec<i32>,
    pub environment: Vec<KeyValue>,
    pub secrets: Vec<SecretRef>,
    pub health_check: Option<HealthCheck>,
    pub log_configuration: Option<LogConfiguration>,
    pub readonly_root_filesystem: Option<bool>,
    pub user: Option<String>,
    pub privileged: Option<bool>,
    pub capabilities_add: Vec<String>,
    pub stop_timeout: Option<i32>,
}

/// An IAM policy document attached to a role (inline or managed).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RolePolicy {
    pub name: String,
    /// Set for managed policies (e.g. `arn:aws:iam::aws:policy/AdministratorAccess`).
    pub policy_arn: Option<String>,
    /// The policy document as JSON text.
    pub document: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct IamRole {
    pub arn: String,
    pub policies: Vec<RolePolicy>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TaskDefinition {
    pub arn: String,
    pub family: String,
    pub revision: i32,
    /// Task-level cpu, as ECS returns it: a string ("512").
    pub cpu: Option<String>,
    /// Task-level memory in MiB, as a string ("1024").
    pub memory: Option<String>,
    pub network_mode: String,
    pub pid_mode: Option<String>,
    pub requires_compatibilities: Vec<String>,
    /// "X86_64" | "ARM64".
    pub cpu_architecture: Option<String>,
    /// "LINUX" | "WINDOWS_SERVER_2022_CORE" | ...
    pub operating_system_family: Option<String>,
    pub task_role_arn: Option<String>,
    pub execution_role_arn: Option<String>,
    /// The task role with its policy documents, when the source can read IAM.
    pub task_role: Option<IamRole>,
    /// The execution role with its policy documents, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_role: Option<IamRole>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Volume>,
    pub container_definitions: Vec<ContainerDefinition>,
    pub tags: BTreeMap<String, String>,
    pub registered_at: EpochMs,
}

impl TaskDefinition {
    /// `family:revision`.
    pub fn family_revision(&self) -> String {
        format!("{}:{}", self.family, self.revision)
    }
}

/// `family:revision` from a task definition ARN (or the input when it is not an ARN).
pub fn short_task_definition(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum TargetState {
    Initial,
    Healthy,
    Unhealthy,
    Unused,
    Draining,
    Unavailable,
}

impl TargetState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::Healthy => "healthy",
            Self::Unhealthy => "unhealthy",
            Self::Unused => "unused",
            Self::Draining => "draining",
            Self::Unavailable => "unavailable",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TargetHealth {
    /// Target id (an IP for awsvpc tasks).
    pub id: String,
    pub port: i32,
    pub availability_zone: Option<String>,
    pub state: TargetState,
    pub reason: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TargetGroup {
    pub arn: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub region: String,
    pub name: String,
    pub load_balancer_arn: Option<String>,
    /// AZs the load balancer is enabled in.
    pub load_balancer_azs: Vec<String>,
    pub deregistration_delay_seconds: i32,
    pub targets: Vec<TargetHealth>,
    /// The load balancer's attributes and listeners, once read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer: Option<LoadBalancerPosture>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TargetTrackingPolicy {
    pub policy_name: String,
    /// "ECSServiceAverageCPUUtilization" | "ECSServiceAverageMemoryUtilization" | "ALBRequestCountPerTarget".
    pub predefined_metric_type: String,
    pub target_value: f64,
    pub scale_out_cooldown: i32,
    pub scale_in_cooldown: i32,
    pub disable_scale_in: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ScalableTarget {
    /// `service/<cluster>/<service>`.
    pub resource_id: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub region: String,
    pub min_capacity: i32,
    pub max_capacity: i32,
    pub dynamic_scaling_in_suspended: bool,
    pub dynamic_scaling_out_suspended: bool,
    pub scheduled_scaling_suspended: bool,
    pub policies: Vec<TargetTrackingPolicy>,
    /// Names of scheduled actions (SUS-01).
    pub scheduled_actions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScalingActivity {
    pub activity_id: String,
    pub resource_id: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub region: String,
    /// "Setting desired count to 6."
    pub description: String,
    /// "monitor alarm TargetTracking-... in state ALARM triggered policy cpu-tt"
    pub cause: String,
    /// "Successful" | "InProgress" | "Failed" | ...
    pub status_code: String,
    pub status_message: Option<String>,
    pub start_time: EpochMs,
    pub end_time: Option<EpochMs>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "OK",
            Self::Alarm => "ALARM",
            Self::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AlarmHistoryItem {
    pub timestamp: EpochMs,
    pub old_state: AlarmState,
    pub new_state: AlarmState,
    /// "Alarm updated from OK to ALARM".
    pub summary: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Alarm {
    pub name: String,
    pub arn: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub region: String,
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: BTreeMap<String, String>,
    pub statistic: String,
    pub period: i32,
    /// "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold" | "LessThanOrEqualToThreshold".
    pub comparison_operator: String,
    pub threshold: f64,
    pub evaluation_periods: i32,
    pub datapoints_to_alarm: i32,
    pub state: AlarmState,
    pub state_reason: String,
    pub state_updated_at: EpochMs,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    /// Newest first.
    pub history: Vec<AlarmHistoryItem>,
    /// `cluster/service` this alarm concerns, when it can be told from its dimensions.
    pub service_key: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogGroup {
    pub name: String,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub region: String,
    /// None = never expire.
    pub retention_in_days: Option<i32>,
    pub kms_key_id: Option<String>,
}

/// One log event, already attributed to a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Monotonic id within the source (CloudWatch eventId where available).
    pub id: u64,
    pub timestamp: EpochMs,
    /// `cluster/service`.
    pub service_key: String,
    /// The service it is from (twins' lines stay apart); None when the
    /// source can't tell the place.
    pub service: Option<ServiceId>,
    pub log_group: String,
    pub log_stream: String,
    /// Raw message. Untrusted: sanitize before display.
    pub message: String,
}

/// Where one freshness key was read (see [`FleetSnapshot::place_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub kind: DataKind,
    pub region: &'a str,
    /// "" when not known.
    pub account: &'a str,
    /// The profile, when its account is not known.
    pub profile: Option<&'a str>,
}

/// One data kind of one region that failed, or read with problems (the
/// `errors` of `status` and `review` JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataError {
    /// The source kind: ecs, ec2, iam, autoscaling, elbv2, cloudwatch, metrics, logs.
    pub kind: String,
    /// The account whose read failed ("" when the source could not tell).
    pub account: String,
    /// The profile, when its account is not known (its reads failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    pub region: String,
    pub message: String,
    /// False when the kind was not read at all; true when it was read but
    /// part of it failed (a task definition denied, alarm history not served).
    pub partial: bool,
}
