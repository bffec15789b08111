//! One small function per check of `shared/review-criteria.md`. Each reads
//! the model through [`Ctx`] and returns the hits, with the fields and values
//! that triggered them as evidence.

use super::Pillar::*;
use super::Severity::*;
use super::{Check, Ctx, Hit, Input, Kind, Severity, fargate};
use crate::model::{AzSpread, DeploymentStatus, RolloutState, short_task_definition};

const DOC: &str = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/";

/// A hit when there is evidence, nothing otherwise.
/// A hit when there is evidence. A macro so that the fix text is only
/// formatted for checks that fire (most checks of most services don't).
macro_rules! hit_if {
    ($severity:expr, $resource:expr, $evidence:expr, $fix:expr $(,)?) => {{
        let evidence: Vec<String> = $evidence;
        if evidence.is_empty() {
            vec![]
        } else {
            hit($severity, $resource, evidence, $fix)
        }
    }};
}

fn hit<'r>(
    severity: Severity,
    resource: &'r str,
    evidence: Vec<String>,
    fix: impl Into<std::borrow::Cow<'static, str>>,
) -> Vec<Hit<'r>> {
    vec![Hit {
        severity,
        resource: std::borrow::Cow::Borrowed(resource),
        evidence,
        fix: fix.into(),
        cluster_level: false,
    }]
}

/// A hit about the cluster (reported once, naming no service).
fn cluster_hit<'r>(
    severity: Severity,
    resource: &'r str,
    evidence: Vec<String>,
    fix: impl Into<std::borrow::Cow<'static, str>>,
) -> Vec<Hit<'r>> {
    let mut h = hit(severity, resource, evidence, fix);
    h[0].cluster_level = true;
    h
}

fn svc_fix(c: &Ctx, args: &str) -> String {
    format!(
        "aws ecs update-service --cluster {} --service {} {args}",
        c.svc.cluster, c.svc.name
    )
}

fn td_name(c: &Ctx) -> String {
    c.td()
        .map(|t| t.family_revision())
        .unwrap_or_else(|| short_task_definition(&c.svc.task_definition).to_string())
}

fn has_lb(c: &Ctx) -> bool {
    !c.svc.load_balancers.is_empty()
}

// The checks, one file per pillar (the hit_if! macro above is in scope
// in each: it is defined before the modules).
mod cost;
mod elb;
mod ops;
mod perf;
mod rel;
mod sec;
mod sus;

use cost::*;
use elb::*;
use ops::*;
pub(crate) use perf::p95;
use perf::*;
use rel::*;
use sec::*;
use sus::*;

/// A check evaluated per service: `reads [..]` names every input it may
/// read through [`Ctx`] beyond the service itself, and a trailing `clock`
/// says it reads the snapshot's clock (its verdict can change with time
/// alone, so the console's cache re-evaluates it). Debug builds assert both
/// declarations on every evaluation.
macro_rules! check {
    ($id:expr, $title:expr, [$($p:ident),+], $rem:expr, $doc:expr, $f:expr, reads [$($i:ident),*] $(, $clock:ident)?) => {
        Check {
            id: $id,
            title: $title,
            pillars: &[$($p),+],
            remediation: $rem,
            doc_url: $doc,
            needs: &[$(Input::$i),*],
            clock: check!(@clock $($clock)?),
            kind: Kind::Service($f),
        }
    };
    (@clock clock) => { true };
    (@clock) => { false };
}
macro_rules! needs {
    ($id:expr, $title:expr, [$($p:ident),+], $rem:expr, $why:expr) => {
        Check {
            id: $id,
            title: $title,
            pillars: &[$($p),+],
            remediation: $rem,
            doc_url: DOC,
            needs: &[],
            clock: false,
            kind: Kind::NotEvaluated($why),
        }
    };
}

/// Every check of the catalogue, in catalogue order.
pub static CHECKS: &[Check] = &[
    check!(
        "REL-01",
        "Deployment circuit breaker with rollback",
        [Rel],
        "Enable the deployment circuit breaker with rollback",
        "https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentCircuitBreaker.html",
        rel01,
        reads []
    ),
    check!(
        "REL-02",
        "Deployments gated by alarms",
        [Rel],
        "Attach 5XX/latency alarms to deployments with enable+rollback",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html",
        rel02,
        reads []
    ),
    check!(
        "REL-03",
        "Safe rolling-update bounds",
        [Rel],
        "Use minimumHealthyPercent 100 / maximumPercent 200",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html",
        rel03,
        reads []
    ),
    check!(
        "REL-04",
        "Redundant task count",
        [Rel],
        "Run at least 2 tasks (3 for a 3-AZ spread) in prod",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-options.html",
        rel04,
        reads [Scaling, TaskDefinition]
    ),
    check!(
        "REL-05",
        "Subnets span at least two AZs",
        [Rel],
        "Add private subnets in 2–3 AZs",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html",
        rel05,
        reads[Subnets]
    ),
    check!(
        "REL-06",
        "Running tasks actually spread over AZs",
        [Rel],
        "Turn on AZ rebalancing, or force a new deployment",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-rebalancing.html",
        rel06,
        reads []
    ),
    check!(
        "REL-07",
        "AZ rebalancing on",
        [Rel],
        "Enable availabilityZoneRebalancing",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-rebalancing.html",
        rel07,
        reads []
    ),
    check!(
        "REL-08",
        "Health-check grace period and draining",
        [Rel],
        "Grace ≥ p99 cold start; align deregistration delay with stopTimeout",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/load-balancer-healthcheck.html",
        rel08,
        reads [TargetGroups, TaskDefinition]
    ),
    check!(
        "REL-09",
        "Container health checks",
        [Rel],
        "Add a CMD-SHELL health check with startPeriod",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html",
        rel09,
        reads[TaskDefinition]
    ),
    check!(
        "REL-10",
        "Service auto scaling registered and active",
        [Rel, Perf],
        "Register a scalable target with min ≥ 2 and max ≥ peak",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html",
        rel10,
        reads[Scaling]
    ),
    check!(
        "REL-11",
        "Target-tracking policy",
        [Rel, Perf],
        "Target tracking on CPU (50–70) or ALBRequestCountPerTarget",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-targettracking.html",
        rel11,
        reads[Scaling]
    ),
    check!(
        "REL-12",
        "Deployment stuck or failed",
        [Rel, Ops],
        "Open the rollback runbook",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html",
        rel12,
        reads [], clock
    ),
    check!(
        "REL-13",
        "Crash loop or OOM",
        [Rel, Perf],
        "Fix the cause or move up a size",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html",
        rel13,
        reads [], clock
    ),
    check!(
        "REL-14",
        "Load balancer in at least two AZs",
        [Rel],
        "Add load balancer subnets in more AZs",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-subnets.html",
        rel14,
        reads[TargetGroups]
    ),
    check!(
        "REL-15",
        "Immutable image references",
        [Rel, Ops],
        "Pin a version tag or @sha256 digest",
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html",
        rel15,
        reads[TaskDefinition]
    ),
    check!(
        "REL-16",
        "Spot without an on-demand base",
        [Rel, Cost],
        "Add FARGATE with base = minimum healthy tasks",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html",
        rel16,
        reads[TaskDefinition]
    ),
    check!(
        "REL-17",
        "Load balancer deletion protection",
        [Rel],
        "Turn on deletion protection",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#deletion-protection",
        rel17,
        reads[TaskDefinition, TargetGroups, LoadBalancers]
    ),
    check!(
        "REL-18",
        "Capacity providers with managed termination protection",
        [Rel],
        "Turn on managed termination protection (and instance scale-in protection on the group)",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-termination-protection.html",
        rel18,
        reads[CapacityProviders]
    ),
    check!(
        "OPS-01",
        "Container Insights",
        [Ops],
        "Turn on Container Insights (enhanced)",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContainerInsights.html",
        ops01,
        reads []
    ),
    check!(
        "OPS-02",
        "Logging configured",
        [Ops, Sec],
        "Use awslogs (or awsfirelens) on every container",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html",
        ops02,
        reads[TaskDefinition]
    ),
    check!(
        "OPS-03",
        "Log retention set, logs encrypted",
        [Ops, Cost, Sus],
        "Set a retention policy (30–365 days) and a customer-managed KMS key",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html",
        ops03,
        reads [LogGroups, TaskDefinition]
    ),
    check!(
        "OPS-04",
        "awslogs delivery mode",
        [Ops, Rel],
        "Use mode=non-blocking with max-buffer-size",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html",
        ops04,
        reads[TaskDefinition]
    ),
    check!(
        "OPS-05",
        "Saturation alarms",
        [Ops, Perf],
        "Alarm on AWS/ECS CPU and memory per service",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html",
        ops05,
        reads[Alarms]
    ),
    check!(
        "OPS-06",
        "Availability alarms",
        [Ops, Rel],
        "Alarm on 5XX, unhealthy hosts and running tasks, routed to on-call",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html",
        ops06,
        reads[Alarms, TargetGroups]
    ),
    check!(
        "OPS-07",
        "Alarm actions configured and enabled",
        [Ops],
        "Give every alarm an enabled action",
        "https://docs.aws.amazon.com/config/latest/developerguide/cloudwatch-alarm-action-check.html",
        ops07,
        reads[Alarms]
    ),
    needs!(
        "OPS-08",
        "Deployment and placement failures routed",
        [Ops],
        "EventBridge rule → SNS/chat",
        "needs EventBridge (events:ListRules), which this build does not read"
    ),
    check!(
        "OPS-09",
        "Services, clusters and task definitions tagged",
        [Ops, Cost],
        "Tag every ECS service, cluster and task definition",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html",
        ops09,
        reads[TaskDefinition]
    ),
    check!(
        "OPS-10",
        "Load balancer access logs",
        [Ops, Sec],
        "Turn on access logs to S3",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html",
        ops10,
        reads[TargetGroups, LoadBalancers]
    ),
    check!(
        "SEC-01",
        "No auto-assigned public IP",
        [Sec],
        "Private subnets with assignPublicIp=DISABLED",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html",
        sec01,
        reads []
    ),
    check!(
        "SEC-02",
        "No secrets in plaintext environment",
        [Sec],
        "Move secrets to secrets[].valueFrom and rotate them",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
        sec02,
        reads[TaskDefinition]
    ),
    check!(
        "SEC-03",
        "Read-only root filesystem",
        [Sec],
        "readonlyRootFilesystem=true plus a writable /tmp volume",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html",
        sec03,
        reads[TaskDefinition]
    ),
    check!(
        "SEC-04",
        "Non-root user",
        [Sec],
        "Run as a non-root user",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html",
        sec04,
        reads[TaskDefinition]
    ),
    check!(
        "SEC-05",
        "No privileged mode, host namespaces or added capabilities",
        [Sec],
        "Remove them and drop ALL capabilities",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html",
        sec05,
        reads[TaskDefinition]
    ),
    check!(
        "SEC-06",
        "Task and execution roles least privilege",
        [Sec],
        "Scope actions to resource ARNs; separate the two roles",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
        sec06,
        reads [TaskDefinition, TaskRole]
    ),
    check!(
        "SEC-07",
        "EFS in-transit encryption",
        [Sec],
        "Set transitEncryption=ENABLED on each EFS volume",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/efs-volumes.html",
        sec07,
        reads[TaskDefinition]
    ),
    check!(
        "SEC-08",
        "Image scanning, immutable tags, lifecycle policy",
        [Sec, Ops],
        "Scan on push, IMMUTABLE tags and a lifecycle policy on each ECR repository",
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html",
        sec08,
        reads[TaskDefinition, Repositories]
    ),
    check!(
        "SEC-09",
        "GuardDuty Runtime Monitoring for Fargate",
        [Sec],
        "Turn on Runtime Monitoring with ECS Fargate agent management",
        "https://docs.aws.amazon.com/guardduty/latest/ug/runtime-monitoring.html",
        sec09,
        reads[GuardDuty]
    ),
    check!(
        "SEC-10",
        "ECS Exec audited",
        [Sec],
        "Log Exec sessions (OVERRIDE/DEFAULT + KMS) or turn Exec off",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html",
        sec10,
        reads[TaskDefinition]
    ),
    check!(
        "SEC-11",
        "Latest Fargate platform version",
        [Sec, Ops],
        "Use platform version LATEST",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-fargate.html",
        sec11,
        reads[TaskDefinition]
    ),
    check!(
        "SEC-12",
        "Load balancer hardened: HTTPS redirect, invalid headers dropped, desync mitigation",
        [Sec],
        "Redirect HTTP to HTTPS; drop invalid header fields; desync mode defensive or strictest",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#load-balancer-attributes",
        sec12,
        reads[TargetGroups, LoadBalancers]
    ),
    check!(
        "PERF-01",
        "Valid Fargate size",
        [Perf],
        "Right-size to the smallest valid cpu/memory combination that holds the observed use",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html",
        perf01,
        reads[TaskDefinition, Metrics]
    ),
    check!(
        "PERF-02",
        "CPU/memory saturation",
        [Perf],
        "Lower the scaling target or move up one size",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html",
        perf02,
        reads[Metrics]
    ),
    check!(
        "PERF-03",
        "Scaling ceiling and IP headroom",
        [Perf, Rel],
        "Raise MaxCapacity; use bigger or more subnets",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html",
        perf03,
        reads [Scaling, Subnets]
    ),
    check!(
        "COST-01",
        "Right-size (Compute Optimizer fallback)",
        [Cost, Sus],
        "Step down to the next valid Fargate size",
        "https://docs.aws.amazon.com/compute-optimizer/latest/ug/view-ecs-recommendations.html",
        cost01,
        reads[Metrics]
    ),
    check!(
        "COST-02",
        "Graviton (ARM64)",
        [Cost, Sus],
        "Build multi-arch images and run ARM64",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-arm64.html",
        cost02,
        reads[TaskDefinition]
    ),
    check!(
        "COST-03",
        "Fargate Spot for tolerant non-prod",
        [Cost],
        "Add a FARGATE_SPOT weight (keep a FARGATE base)",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html",
        cost03,
        reads[TaskDefinition]
    ),
    check!(
        "COST-04",
        "Cost-allocation tags and propagation",
        [Cost, Ops],
        "Tag resources; propagate tags; ECS managed tags",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html",
        cost04,
        reads []
    ),
    check!(
        "SUS-01",
        "Non-prod scaled down off-hours",
        [Sus, Cost],
        "Scheduled actions to zero at nights and weekends",
        "https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html",
        sus01,
        reads [Scaling, TaskDefinition]
    ),
    check!(
        "SUS-02",
        "Idle service",
        [Sus, Cost],
        "Scale to zero or decommission",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html",
        sus02,
        reads[Metrics]
    ),
];

#[cfg(test)]
mod control_tests;
#[cfg(test)]
mod table_tests;
#[cfg(test)]
mod tests;
