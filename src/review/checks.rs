//! One small function per check of `shared/review-criteria.md`. Each reads
//! the model through [`Ctx`] and returns the hits, with the fields and values
//! that triggered them as evidence.

use std::sync::LazyLock;

use regex::Regex;

use super::Pillar::*;
use super::Severity::*;
use super::{Check, Ctx, Hit, Kind, Severity, fargate};
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
    }]
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

// ---------------------------------------------------------------- REL

fn rel01<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if !matches!(c.svc.deployment_controller.as_str(), "ECS" | "") {
        return vec![];
    }
    let b = c
        .svc
        .deployment_configuration
        .deployment_circuit_breaker
        .as_ref();
    if b.is_some_and(|b| b.enable && b.rollback) {
        return vec![];
    }
    let ev = match b {
        None => "deploymentConfiguration.deploymentCircuitBreaker absent".to_string(),
        Some(b) => format!(
            "deploymentCircuitBreaker.enable={} .rollback={}",
            b.enable, b.rollback
        ),
    };
    hit(
        High,
        &c.svc.arn,
        vec![ev],
        svc_fix(
            c,
            "--deployment-configuration 'deploymentCircuitBreaker={enable=true,rollback=true}'",
        ),
    )
}

fn rel02<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if !has_lb(c) {
        return vec![];
    }
    let ev = match &c.svc.deployment_configuration.alarms {
        Some(a) if !a.alarm_names.is_empty() && a.enable && a.rollback => return vec![],
        Some(a) => format!(
            "deploymentConfiguration.alarms: {} alarms, enable={} rollback={}",
            a.alarm_names.len(),
            a.enable,
            a.rollback
        ),
        None => "load-balanced service with no deploymentConfiguration.alarms".to_string(),
    };
    hit(
        Medium,
        &c.svc.arn,
        vec![ev],
        svc_fix(
            c,
            "--deployment-configuration 'alarms={alarmNames=[<5xx-alarm>],enable=true,rollback=true}'",
        ),
    )
}

fn rel03<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let d = &c.svc.deployment_configuration;
    let desired = c.svc.desired_count;
    let sev = if d.minimum_healthy_percent == 0 {
        High
    } else if (d.minimum_healthy_percent < 100 && desired <= 2) || d.maximum_percent <= 100 {
        Medium
    } else {
        return vec![];
    };
    let ev = format!(
        "minimumHealthyPercent={} maximumPercent={} desiredCount={desired}",
        d.minimum_healthy_percent, d.maximum_percent
    );
    hit(
        sev,
        &c.svc.arn,
        vec![ev],
        svc_fix(
            c,
            "--deployment-configuration 'minimumHealthyPercent=100,maximumPercent=200'",
        ),
    )
}

fn rel04<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if !c.is_prod() {
        return vec![];
    }
    let min = c.scalable().map(|t| t.min_capacity);
    let mut ev = vec![];
    if c.svc.desired_count < 2 {
        ev.push(format!(
            "desiredCount={} in a prod service",
            c.svc.desired_count
        ));
    }
    if let Some(m) = min.filter(|m| *m < 2) {
        ev.push(format!("scalable target MinCapacity={m}"));
    }
    hit_if!(High, &c.svc.arn, ev, svc_fix(c, "--desired-count 3"))
}

fn rel05<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if c.subnets().is_empty() {
        return vec![];
    }
    let mut azs: Vec<&str> = c
        .svc
        .subnets
        .iter()
        .map(|s| s.availability_zone.as_str())
        .collect();
    azs.sort();
    azs.dedup();
    let sev = match azs.len() {
        0 | 1 => High,
        2 => Low,
        _ => return vec![],
    };
    let ev = vec![format!(
        "subnets {} span {} AZ(s): {}",
        c.subnets().len(),
        azs.len(),
        azs.join(", ")
    )];
    hit(
        sev,
        &c.svc.arn,
        ev,
        svc_fix(
            c,
            "--network-configuration 'awsvpcConfiguration={subnets=[<one per AZ>]}'",
        ),
    )
}

fn rel06<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    // The shape first (no allocation); the spread only for the evidence.
    let shape = AzSpread::shape(c.svc);
    let sev = if shape.single_az && shape.subnet_azs > 1 {
        High
    } else if shape.skew > 1 {
        Medium
    } else {
        return vec![];
    };
    let ev = vec![format!(
        "running tasks per AZ: {}",
        AzSpread::of(c.svc).compact()
    )];
    hit(
        sev,
        &c.svc.arn,
        ev,
        svc_fix(
            c,
            "--availability-zone-rebalancing ENABLED --force-new-deployment",
        ),
    )
}

fn rel07<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if c.svc.availability_zone_rebalancing == "ENABLED" {
        return vec![];
    }
    let v = if c.svc.availability_zone_rebalancing.is_empty() {
        "absent"
    } else {
        &c.svc.availability_zone_rebalancing
    };
    hit(
        Medium,
        &c.svc.arn,
        vec![format!("availabilityZoneRebalancing={v}")],
        svc_fix(c, "--availability-zone-rebalancing ENABLED"),
    )
}

fn rel08<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if !has_lb(c) {
        return vec![];
    }
    let mut ev = vec![];
    if c.svc.health_check_grace_period_seconds.unwrap_or(0) == 0 {
        ev.push("load balancer attached and healthCheckGracePeriodSeconds=0".to_string());
    }
    let stop_timeout = c
        .td()
        .and_then(|t| {
            t.container_definitions
                .iter()
                .filter_map(|d| d.stop_timeout)
                .max()
        })
        .unwrap_or(30);
    for tg in c.target_groups().iter() {
        if tg.deregistration_delay_seconds > stop_timeout.max(30) * 4 {
            ev.push(format!(
                "{} deregistration_delay.timeout_seconds={} vs container stopTimeout={stop_timeout}s",
                tg.name, tg.deregistration_delay_seconds
            ));
        }
    }
    hit_if!(
        Medium,
        &c.svc.arn,
        ev,
        svc_fix(c, "--health-check-grace-period-seconds 60"),
    )
}

fn rel09<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td() else { return vec![] };
    let missing: Vec<String> = td
        .container_definitions
        .iter()
        .filter(|d| d.essential && d.health_check.is_none())
        .map(|d| format!("container {} (essential) has no healthCheck", d.name))
        .collect();
    if missing.is_empty() {
        return vec![];
    }
    hit(
        Medium,
        &td.arn,
        missing,
        "add \"healthCheck\": {\"command\": [\"CMD-SHELL\", \"curl -f http://localhost/health || exit 1\"], \"startPeriod\": 30} and register a new revision",
    )
}

fn rel10<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let rid = c.svc.scaling_resource_id();
    let fix = || {
        format!(
            "aws application-autoscaling register-scalable-target --service-namespace ecs --resource-id {rid} --scalable-dimension ecs:service:DesiredCount --min-capacity 2 --max-capacity 10"
        )
    };
    let ev = match c.scalable() {
        None => vec![format!("no scalable target for {rid}")],
        Some(t) => {
            let mut ev = vec![];
            if t.max_capacity == t.min_capacity {
                ev.push(format!("MinCapacity=MaxCapacity={}", t.min_capacity));
            }
            if t.dynamic_scaling_in_suspended
                || t.dynamic_scaling_out_suspended
                || t.scheduled_scaling_suspended
            {
                ev.push("SuspendedState has a suspended activity".to_string());
            }
            ev
        }
    };
    hit_if!(Medium, &c.svc.arn, ev, fix())
}

fn rel11<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(t) = c.scalable() else {
        return vec![];
    };
    let fix = || {
        format!(
            "aws application-autoscaling put-scaling-policy --policy-type TargetTrackingScaling --resource-id {} --target-tracking-scaling-policy-configuration 'TargetValue=60,PredefinedMetricSpecification={{PredefinedMetricType=ECSServiceAverageCPUUtilization}}'",
            t.resource_id
        )
    };
    if t.policies.is_empty() {
        return hit(
            Medium,
            &c.svc.arn,
            vec!["scalable target without a TargetTrackingScaling policy".into()],
            fix(),
        );
    }
    let high: Vec<String> = t
        .policies
        .iter()
        .filter(|p| {
            p.predefined_metric_type.starts_with("ECSServiceAverage") && p.target_value > 85.0
        })
        .map(|p| {
            format!(
                "{} {} TargetValue={}",
                p.policy_name, p.predefined_metric_type, p.target_value
            )
        })
        .collect();
    if high.is_empty() {
        return vec![];
    }
    hit(Medium, &c.svc.arn, high, fix())
}

const MIN_MS: i64 = 60_000;

fn rel12<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let now = c.snap.at;
    let mut ev = vec![];
    for d in &c.svc.deployments {
        if d.rollout_state == Some(RolloutState::Failed) && d.status != DeploymentStatus::Inactive {
            ev.push(format!(
                "deployment {} ({}) rolloutState=FAILED failedTasks={}: {}",
                d.id,
                short_task_definition(&d.task_definition),
                d.failed_tasks,
                d.rollout_state_reason.as_deref().unwrap_or("")
            ));
        }
    }
    if c.svc.deployments.len() > 1
        && let Some(newest) = c.svc.deployments.iter().map(|d| d.created_at).max()
        && now - newest > 30 * MIN_MS
    {
        ev.push(format!(
            "{} deployments for {} min",
            c.svc.deployments.len(),
            (now - newest) / MIN_MS
        ));
    }
    if c.svc.running_count < c.svc.desired_count
        && let Some(p) = c.svc.primary_deployment()
        && now - p.updated_at.max(p.created_at) > 10 * MIN_MS
    {
        ev.push(format!(
            "runningCount={} < desiredCount={} for over 10 min",
            c.svc.running_count, c.svc.desired_count
        ));
    }
    hit_if!(
        High,
        &c.svc.arn,
        ev,
        "open the rollback runbook: ecsdeck runbook run rollback --param cluster=… --param service=…"
    )
}

fn rel13<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let now = c.snap.at;
    let crashes: Vec<&crate::model::Task> = c
        .svc
        .tasks
        .iter()
        .filter(|t| t.is_stopped() && t.stopped_at.is_some_and(|at| now - at <= 60 * MIN_MS))
        .filter(|t| {
            matches!(
                t.stop_code.as_deref(),
                Some("EssentialContainerExited") | Some("TaskFailedToStart")
            ) || t.exit_code() == Some(137)
                || t.stopped_reason
                    .as_deref()
                    .is_some_and(|r| r.contains("OutOfMemory"))
        })
        .collect();
    if crashes.len() < 3 {
        return vec![];
    }
    let mut ev = vec![format!("{} task stops in the last hour", crashes.len())];
    ev.extend(crashes.iter().take(3).map(|t| {
        format!(
            "task {} stopCode={} exit={} reason={}",
            t.id.get(..8).unwrap_or(&t.id),
            t.stop_code.as_deref().unwrap_or("-"),
            t.exit_code().map_or("-".into(), |e| e.to_string()),
            t.stopped_reason.as_deref().unwrap_or("-")
        )
    }));
    hit(
        High,
        &c.svc.arn,
        ev,
        "fix the cause or move up a size; aws ssm start-automation-execution --document-name AWSSupport-TroubleshootECSTaskFailedToStart",
    )
}

fn rel14<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    c.target_groups()
        .iter()
        .filter(|tg| tg.load_balancer_arn.is_some() && tg.load_balancer_azs.len() < 2)
        .flat_map(|tg| {
            hit(
                Medium,
                tg.load_balancer_arn.as_deref().unwrap_or(&tg.arn),
                vec![format!(
                    "load balancer of {} in {} AZ(s)",
                    tg.name,
                    tg.load_balancer_azs.len()
                )],
                "aws elbv2 set-subnets --load-balancer-arn … --subnets <one per AZ>",
            )
        })
        .collect()
}

fn rel15<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td() else { return vec![] };
    let ev: Vec<String> = td
        .container_definitions
        .iter()
        .filter(|d| !image_is_pinned(&d.image))
        .map(|d| format!("container {} image {}", d.name, d.image))
        .collect();
    hit_if!(
        Medium,
        &td.arn,
        ev,
        "pin a version tag or @sha256 digest and register a new revision; set the ECR repository to IMMUTABLE"
    )
}

/// A tag other than `latest`, or a digest.
pub fn image_is_pinned(image: &str) -> bool {
    if image.contains("@sha256:") {
        return true;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, tag)) => !tag.is_empty() && tag != "latest",
        None => false,
    }
}

fn rel16<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let s = &c.svc.capacity_provider_strategy;
    let spot = s
        .iter()
        .any(|p| p.capacity_provider == "FARGATE_SPOT" && p.weight > 0);
    let base = s
        .iter()
        .any(|p| p.capacity_provider == "FARGATE" && p.base >= 1);
    if !spot || base || !c.is_prod() {
        return vec![];
    }
    hit(
        Medium,
        &c.svc.arn,
        vec!["FARGATE_SPOT weight>0 and no FARGATE base ≥ 1 in a prod service".into()],
        svc_fix(
            c,
            "--capacity-provider-strategy capacityProvider=FARGATE,base=2,weight=1 capacityProvider=FARGATE_SPOT,weight=1",
        ),
    )
}

// ---------------------------------------------------------------- OPS

fn ops01<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(cl) = c.cluster() else { return vec![] };
    // Once per cluster: on the first service of the cluster.
    if !c.first_in_cluster {
        return vec![];
    }
    let (sev, v) = match cl.container_insights.as_str() {
        "enhanced" => return vec![],
        "enabled" => (Low, "enabled (not enhanced)"),
        other => (Medium, if other.is_empty() { "absent" } else { other }),
    };
    hit(
        sev,
        &cl.arn,
        vec![format!("cluster {} containerInsights={v}", cl.name)],
        format!(
            "aws ecs update-cluster-settings --cluster {} --settings name=containerInsights,value=enhanced",
            cl.name
        ),
    )
}

fn ops02<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td() else { return vec![] };
    let ev: Vec<String> = td
        .container_definitions
        .iter()
        .filter(|d| {
            d.log_configuration
                .as_ref()
                .is_none_or(|l| l.log_driver.is_empty())
        })
        .map(|d| format!("container {} has no logConfiguration.logDriver", d.name))
        .collect();
    hit_if!(
        High,
        &td.arn,
        ev,
        "set logConfiguration {logDriver: awslogs, options: {awslogs-group, awslogs-region, awslogs-stream-prefix}}"
    )
}

fn log_groups<'a>(c: &Ctx<'a>) -> Vec<&'a str> {
    let mut v: Vec<&str> = c
        .td()
        .map(|t| {
            t.container_definitions
                .iter()
                .filter_map(|d| {
                    d.log_configuration
                        .as_ref()?
                        .options
                        .get("awslogs-group")
                        .map(String::as_str)
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v.dedup();
    v
}

fn ops03<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let mut out = vec![];
    for g in log_groups(c) {
        let Some(lg) = c.log_group(g) else {
            continue;
        };
        let ev = match lg.retention_in_days {
            None => format!("log group {g} retentionInDays absent (never expires)"),
            Some(d) if d < c.cfg.min_log_retention_days => format!(
                "log group {g} retentionInDays={d} < policy minimum {}",
                c.cfg.min_log_retention_days
            ),
            Some(_) => continue,
        };
        out.extend(hit(
            Medium,
            g,
            vec![ev],
            format!("aws logs put-retention-policy --log-group-name {g} --retention-in-days 90"),
        ));
    }
    out
}

fn ops04<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td() else { return vec![] };
    let ev: Vec<String> = td
        .container_definitions
        .iter()
        .filter(|d| {
            d.log_configuration.as_ref().is_some_and(|l| {
                l.log_driver == "awslogs"
                    && l.options.get("mode").map(String::as_str) == Some("blocking")
            })
        })
        .map(|d| format!("container {} awslogs mode=blocking", d.name))
        .collect();
    hit_if!(
        Low,
        &td.arn,
        ev,
        "set logConfiguration.options mode=non-blocking and max-buffer-size=25m (or keep blocking on purpose for audit logs)"
    )
}

fn alarms_on<'c, 'a>(c: &'c Ctx<'a>) -> &'c [&'a crate::model::Alarm] {
    c.alarms()
}

fn ops05<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let alarms = alarms_on(c);
    let has = |m: &str| {
        alarms
            .iter()
            .any(|a| a.namespace == "AWS/ECS" && a.metric_name == m)
    };
    let missing: Vec<&str> = ["CPUUtilization", "MemoryUtilization"]
        .into_iter()
        .filter(|m| !has(m))
        .collect();
    if missing.is_empty() {
        return vec![];
    }
    hit(
        Medium,
        &c.svc.arn,
        vec![format!(
            "no AWS/ECS alarm on {} (ClusterName={}, ServiceName={})",
            missing.join(", "),
            c.svc.cluster,
            c.svc.name
        )],
        format!(
            "aws cloudwatch put-metric-alarm --namespace AWS/ECS --metric-name {} --dimensions Name=ClusterName,Value={} Name=ServiceName,Value={} --statistic Average --period 60 --evaluation-periods 3 --threshold 80 --comparison-operator GreaterThanThreshold --alarm-actions <sns>",
            missing[0], c.svc.cluster, c.svc.name
        ),
    )
}

fn ops06<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let alarms = alarms_on(c);
    let has = |ns: &str, m: &str| {
        alarms
            .iter()
            .any(|a| a.namespace == ns && a.metric_name == m)
    };
    let mut missing = vec![];
    if has_lb(c) {
        if !has("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count") {
            missing.push("AWS/ApplicationELB HTTPCode_Target_5XX_Count");
        }
        if !has("AWS/ApplicationELB", "UnHealthyHostCount") {
            missing.push("AWS/ApplicationELB UnHealthyHostCount");
        }
    }
    if !has("ECS/ContainerInsights", "RunningTaskCount") {
        missing.push("ECS/ContainerInsights RunningTaskCount");
    }
    if missing.is_empty() {
        return vec![];
    }
    hit(
        High,
        &c.svc.arn,
        vec![format!("no alarm on {}", missing.join(", "))],
        "aws cloudwatch put-metric-alarm … for each missing metric, routed to on-call",
    )
}

fn ops07<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    alarms_on(c)
        .iter()
        .filter(|a| a.alarm_actions.is_empty() || !a.actions_enabled)
        .flat_map(|a| {
            let ev = if a.alarm_actions.is_empty() { format!("alarm {} AlarmActions=[]", a.name) } else { format!("alarm {} ActionsEnabled=false", a.name) };
            hit(High, &a.arn, vec![ev], format!("aws cloudwatch enable-alarm-actions --alarm-names {} (and set --alarm-actions <sns>)", a.name))
        })
        .collect()
}

// ---------------------------------------------------------------- SEC

fn sec01<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    match &c.svc.network_configuration {
        Some(n) if n.assign_public_ip == "ENABLED" => hit(
            High,
            &c.svc.arn,
            vec!["awsvpcConfiguration.assignPublicIp=ENABLED".into()],
            svc_fix(
                c,
                "--network-configuration 'awsvpcConfiguration={subnets=[<private>],assignPublicIp=DISABLED}'",
            ),
        ),
        _ => vec![],
    }
}

static SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)PASS|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL")
        .unwrap_or_else(|e| unreachable!("{e}"))
});

fn sec02<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td() else { return vec![] };
    let mut ev = vec![];
    for d in &td.container_definitions {
        for kv in &d.environment {
            let named = matches!(
                kv.name.as_str(),
                "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "ECS_ENGINE_AUTH_DATA"
            );
            if named || (SECRET_NAME.is_match(&kv.name) && !kv.value.is_empty()) {
                // Never the value: a report must not leak the secret it found.
                ev.push(format!(
                    "container {} environment {} is set in plaintext (value withheld)",
                    d.name, kv.name
                ));
            }
        }
    }
    hit_if!(
        Critical,
        &td.arn,
        ev,
        "move them to containerDefinitions[].secrets[].valueFrom (Secrets Manager / SSM ARN) and rotate what was exposed"
    )
}

fn sec03<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td().filter(|_| c.is_linux()) else {
        return vec![];
    };
    let ev: Vec<String> = td
        .container_definitions
        .iter()
        .filter(|d| d.readonly_root_filesystem != Some(true))
        .map(|d| {
            format!(
                "container {} readonlyRootFilesystem={}",
                d.name,
                d.readonly_root_filesystem
                    .map_or("absent".into(), |b| b.to_string())
            )
        })
        .collect();
    hit_if!(
        High,
        &td.arn,
        ev,
        "set readonlyRootFilesystem=true with a writable volume for /tmp",
    )
}

fn sec04<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td().filter(|_| c.is_linux()) else {
        return vec![];
    };
    let ev: Vec<String> = td
        .container_definitions
        .iter()
        .filter(|d| match d.user.as_deref() {
            None | Some("") | Some("root") | Some("0") => true,
            Some(u) => u.starts_with("0:") || u.starts_with("root:"),
        })
        .map(|d| {
            format!(
                "container {} user={}",
                d.name,
                d.user.as_deref().unwrap_or("unset")
            )
        })
        .collect();
    hit_if!(
        Medium,
        &td.arn,
        ev,
        "set \"user\": \"1000:1000\" (or USER in the Dockerfile)",
    )
}

fn sec05<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td() else { return vec![] };
    let mut ev = vec![];
    if td.pid_mode.as_deref() == Some("host") {
        ev.push("pidMode=host".to_string());
    }
    if td.network_mode == "host" {
        ev.push("networkMode=host".to_string());
    }
    for d in &td.container_definitions {
        if d.privileged == Some(true) {
            ev.push(format!("container {} privileged=true", d.name));
        }
        if !d.capabilities_add.is_empty() {
            ev.push(format!(
                "container {} linuxParameters.capabilities.add={:?}",
                d.name, d.capabilities_add
            ));
        }
    }
    hit_if!(
        High,
        &td.arn,
        ev,
        "remove privileged, host namespaces and added capabilities; drop ALL",
    )
}

/// Wildcard statements in a policy document: `Allow` of `*` or `svc:*` on
/// `Resource` `*` with no Condition. Statement and Action may be an object or
/// a string, or arrays of them.
pub fn wildcard_statements(doc: &str) -> Result<Vec<String>, String> {
    let v: serde_json::Value =
        serde_json::from_str(doc).map_err(|e| format!("policy is not JSON: {e}"))?;
    let stmts = match &v["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        o @ serde_json::Value::Object(_) => vec![o.clone()],
        _ => vec![],
    };
    let list = |x: &serde_json::Value| -> Vec<String> {
        match x {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => vec![],
        }
    };
    let mut out = vec![];
    for s in stmts {
        if s["Effect"] != "Allow" || !s["Condition"].is_null() {
            continue;
        }
        if !list(&s["Resource"]).iter().any(|r| r == "*") {
            continue;
        }
        for a in list(&s["Action"]) {
            if a == "*" || a.ends_with(":*") {
                out.push(a);
            }
        }
    }
    Ok(out)
}

fn sec06<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td() else { return vec![] };
    let mut ev = vec![];
    if let (Some(t), Some(e)) = (&td.task_role_arn, &td.execution_role_arn)
        && t == e
    {
        ev.push(format!("taskRoleArn == executionRoleArn ({t})"));
    }
    if let Some(role) = c.task_role() {
        for p in &role.policies {
            if let Some(arn) = &p.policy_arn {
                let name = arn.rsplit('/').next().unwrap_or(arn);
                if name == "AdministratorAccess"
                    || name == "PowerUserAccess"
                    || name.ends_with("FullAccess")
                {
                    ev.push(format!("task role has managed policy {name}"));
                }
            }
            match wildcard_statements(&p.document) {
                Ok(w) if !w.is_empty() => ev.push(format!(
                    "task role policy {} allows {} on Resource \"*\" without a Condition",
                    p.name,
                    w.join(", ")
                )),
                Ok(_) => {}
                Err(e) if !p.document.is_empty() => ev.push(format!(
                    "task role policy {} could not be read: {e}",
                    p.name
                )),
                Err(_) => {}
            }
        }
    }
    hit_if!(
        High,
        td.task_role_arn.as_deref().unwrap_or(&td.arn),
        ev,
        "scope actions to resource ARNs (IAM Access Analyzer policy generation) and separate task and execution roles"
    )
}

fn sec10<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if !c.svc.enable_execute_command {
        return vec![];
    }
    let awslogs = c.td().is_some_and(|t| {
        t.container_definitions.iter().any(|d| {
            d.log_configuration
                .as_ref()
                .is_some_and(|l| l.log_driver == "awslogs")
        })
    });
    let mut ev = vec!["enableExecuteCommand=true".to_string()];
    if !awslogs {
        ev.push("no awslogs driver in the task definition: Exec sessions are not logged (DEFAULT logging)".into());
    }
    let sev = if !awslogs {
        Medium
    } else if c.is_prod() {
        Low
    } else {
        return vec![];
    };
    hit(sev, &c.svc.arn, ev, svc_fix(c, "--disable-execute-command"))
}

fn sec11<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if !c.is_fargate() {
        return vec![];
    }
    let pv = c.svc.platform_version.as_deref().unwrap_or("LATEST");
    let ok = if c.is_linux() {
        matches!(pv, "LATEST" | "1.4.0")
    } else {
        matches!(pv, "LATEST" | "1.0.0")
    };
    if ok {
        return vec![];
    }
    hit(
        Medium,
        &c.svc.arn,
        vec![format!("platformVersion={pv}")],
        svc_fix(c, "--platform-version LATEST"),
    )
}

// ---------------------------------------------------------------- PERF

fn perf01<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if !c.is_fargate() {
        return vec![];
    }
    let Some(td) = c.td() else { return vec![] };
    let (Some(cpu_s), Some(mem_s)) = (&td.cpu, &td.memory) else {
        return hit(
            Medium,
            &td.arn,
            vec![format!(
                "{} has no task-level cpu/memory (required on Fargate)",
                td_name(c)
            )],
            "set task-level cpu and memory to a valid Fargate size",
        );
    };
    let (Ok(cpu), Ok(mem)) = (cpu_s.trim().parse::<u32>(), mem_s.trim().parse::<u32>()) else {
        return hit(
            Medium,
            &td.arn,
            vec![format!("cpu={cpu_s:?} memory={mem_s:?} are not numbers")],
            "set task-level cpu and memory to a valid Fargate size",
        );
    };
    let mut ev = vec![];
    let valid = if c.is_linux() {
        fargate::valid_linux(cpu, mem)
    } else {
        fargate::valid_windows(cpu, mem)
    };
    if !valid {
        ev.push(format!(
            "taskDefinition {} cpu=\"{cpu_s}\" memory=\"{mem_s}\" is not a valid Fargate size",
            td.family_revision()
        ));
    }
    let sum_cpu: i32 = td.container_definitions.iter().filter_map(|d| d.cpu).sum();
    let sum_mem: i32 = td
        .container_definitions
        .iter()
        .filter_map(|d| d.memory.or(d.memory_reservation))
        .sum();
    if sum_cpu as i64 > cpu as i64 || sum_mem as i64 > mem as i64 {
        ev.push(format!("containers ask for cpu {sum_cpu} / memory {sum_mem} MiB, more than the task's {cpu} / {mem}"));
    }
    if ev.is_empty() {
        return vec![];
    }
    let fix = match fargate::nearest(cpu, mem) {
        Some((c2, m2)) => {
            format!("register a revision with cpu=\"{c2}\" memory=\"{m2}\" (nearest valid size)")
        }
        None => "use a valid Fargate size".into(),
    };
    hit(Medium, &td.arn, ev, fix)
}

pub(super) fn p95(values: &[f64]) -> Option<f64> {
    // A metric window is 60 points: select in a stack buffer, not a Vec.
    let mut buf = [0.0f64; 128];
    let mut heap = Vec::new();
    let v: &mut [f64] = if values.len() <= buf.len() {
        let mut n = 0;
        for x in values.iter().copied().filter(|x| x.is_finite()) {
            buf[n] = x;
            n += 1;
        }
        &mut buf[..n]
    } else {
        heap.extend(values.iter().copied().filter(|x| x.is_finite()));
        &mut heap
    };
    if v.len() < 10 {
        return None;
    }
    let k = (v.len() * 95 / 100).min(v.len() - 1);
    // Selection, not a full sort: O(n).
    Some(*v.select_nth_unstable_by(k, f64::total_cmp).1)
}

fn perf02<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let (Some(m), Some((p95_cpu, max_mem))) = (c.metrics(), c.cpu_p95_mem_max()) else {
        return vec![];
    };
    let mut ev = vec![];
    if let Some(p) = p95_cpu.filter(|p| *p > 80.0) {
        ev.push(format!(
            "p95 CPUUtilization {p:.0}% over the last {} min",
            m.cpu.values.len()
        ));
    }
    if max_mem > 90.0 {
        ev.push(format!("max MemoryUtilization {max_mem:.0}%"));
    }
    hit_if!(
        High,
        &c.svc.arn,
        ev,
        "lower the scaling target or move up one Fargate size",
    )
}

fn perf03<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(t) = c.scalable() else {
        return vec![];
    };
    let mut ev = vec![];
    if c.svc.desired_count >= t.max_capacity && t.max_capacity > t.min_capacity {
        ev.push(format!(
            "desiredCount={} is at MaxCapacity={}",
            c.svc.desired_count, t.max_capacity
        ));
    }
    let free: i64 = c
        .svc
        .subnets
        .iter()
        .map(|s| s.available_ip_address_count as i64)
        .sum();
    let headroom = (t.max_capacity - c.svc.running_count) as i64;
    if !c.subnets().is_empty() && free < headroom {
        ev.push(format!(
            "{free} free IPs in the service's subnets < {headroom} tasks of scaling headroom"
        ));
    }
    hit_if!(
        Medium,
        &c.svc.arn,
        ev,
        format!(
            "aws application-autoscaling register-scalable-target --resource-id {} --max-capacity {}",
            t.resource_id,
            t.max_capacity * 2
        ),
    )
}

// ---------------------------------------------------------------- COST / SUS

fn cost01<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let (Some(m), Some((Some(cpu), max_mem))) = (c.metrics(), c.cpu_p95_mem_max()) else {
        return vec![];
    };
    if cpu < 20.0 && max_mem < 40.0 {
        return hit(
            Medium,
            &c.svc.arn,
            vec![format!(
                "p95 CPU {cpu:.0}% and max memory {max_mem:.0}% over the last {} min (Compute Optimizer fallback)",
                m.cpu.values.len()
            )],
            "step down to the next valid Fargate size",
        );
    }
    vec![]
}

fn cost02<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td().filter(|_| c.is_linux() && c.is_fargate()) else {
        return vec![];
    };
    let spot = c
        .svc
        .capacity_provider_strategy
        .iter()
        .any(|p| p.capacity_provider == "FARGATE_SPOT");
    match td.cpu_architecture.as_deref() {
        Some("ARM64") => vec![],
        _ if spot => vec![],
        arch => hit(
            Low,
            &td.arn,
            vec![format!(
                "runtimePlatform.cpuArchitecture={}",
                arch.unwrap_or("absent (X86_64)")
            )],
            "build a multi-arch image and set runtimePlatform.cpuArchitecture=ARM64",
        ),
    }
}

fn cost03<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if c.is_prod() || c.environment().is_none() || !c.is_linux() || !c.is_fargate() {
        return vec![];
    }
    if c.td().and_then(|t| t.cpu_architecture.as_deref()) == Some("ARM64") {
        return vec![];
    }
    if c.svc
        .capacity_provider_strategy
        .iter()
        .any(|p| p.capacity_provider == "FARGATE_SPOT")
    {
        return vec![];
    }
    hit(
        Low,
        &c.svc.arn,
        vec![format!(
            "{}={} service without FARGATE_SPOT",
            c.cfg.environment_tag,
            c.environment().unwrap_or("")
        )],
        svc_fix(
            c,
            "--capacity-provider-strategy capacityProvider=FARGATE,base=1,weight=1 capacityProvider=FARGATE_SPOT,weight=3",
        ),
    )
}

fn cost04<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let missing: Vec<&str> = c
        .cfg
        .required_tags
        .iter()
        .filter(|k| !c.svc.tags.contains_key(*k))
        .map(String::as_str)
        .collect();
    let mut ev = vec![];
    if !missing.is_empty() {
        ev.push(format!("service tags missing {}", missing.join(", ")));
    }
    if !matches!(c.svc.propagate_tags.as_str(), "SERVICE" | "TASK_DEFINITION") {
        ev.push(format!(
            "propagateTags={}",
            if c.svc.propagate_tags.is_empty() {
                "absent"
            } else {
                &c.svc.propagate_tags
            }
        ));
    }
    if !c.svc.enable_ecs_managed_tags {
        ev.push("enableECSManagedTags=false".into());
    }
    hit_if!(
        Low,
        &c.svc.arn,
        ev,
        format!(
            "aws ecs tag-resource --resource-arn {} --tags key=Owner,value=… ; {}",
            c.svc.arn,
            svc_fix(c, "--propagate-tags SERVICE --enable-ecs-managed-tags")
        ),
    )
}

fn sus01<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if c.is_prod() || c.environment().is_none() {
        return vec![];
    }
    if c.scalable()
        .is_some_and(|t| !t.scheduled_actions.is_empty())
    {
        return vec![];
    }
    hit(
        Low,
        &c.svc.arn,
        vec![format!(
            "{}={} service with no off-hours scheduled action",
            c.cfg.environment_tag,
            c.environment().unwrap_or("")
        )],
        format!(
            "aws application-autoscaling put-scheduled-action --service-namespace ecs --resource-id {} --schedule 'cron(0 20 ? * MON-FRI *)' --scalable-target-action MinCapacity=0,MaxCapacity=0",
            c.svc.scaling_resource_id()
        ),
    )
}

fn sus02<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(m) = c.metrics() else {
        return vec![];
    };
    if c.svc.running_count == 0 || m.cpu.values.len() < 10 || m.requests.values.is_empty() {
        return vec![];
    }
    let avg_cpu =
        m.cpu.values.iter().filter(|x| x.is_finite()).sum::<f64>() / m.cpu.values.len() as f64;
    let requests: f64 = m.requests.values.iter().filter(|x| x.is_finite()).sum();
    if avg_cpu < 5.0 && requests == 0.0 {
        return hit(
            Low,
            &c.svc.arn,
            vec![format!(
                "{} tasks, average CPU {avg_cpu:.1}% and 0 requests over {} min",
                c.svc.running_count,
                m.cpu.values.len()
            )],
            svc_fix(c, "--desired-count 0"),
        );
    }
    vec![]
}

macro_rules! check {
    ($id:expr, $title:expr, [$($p:ident),+], $rem:expr, $doc:expr, $f:expr) => {
        Check { id: $id, title: $title, pillars: &[$($p),+], remediation: $rem, doc_url: $doc, kind: Kind::Service($f) }
    };
}
macro_rules! needs {
    ($id:expr, $title:expr, [$($p:ident),+], $rem:expr, $why:expr) => {
        Check { id: $id, title: $title, pillars: &[$($p),+], remediation: $rem, doc_url: DOC, kind: Kind::NotEvaluated($why) }
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
        rel01
    ),
    check!(
        "REL-02",
        "Deployments gated by alarms",
        [Rel],
        "Attach 5XX/latency alarms to deployments with enable+rollback",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html",
        rel02
    ),
    check!(
        "REL-03",
        "Safe rolling-update bounds",
        [Rel],
        "Use minimumHealthyPercent 100 / maximumPercent 200",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html",
        rel03
    ),
    check!(
        "REL-04",
        "Redundant task count",
        [Rel],
        "Run at least 2 tasks (3 for a 3-AZ spread) in prod",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-options.html",
        rel04
    ),
    check!(
        "REL-05",
        "Subnets span at least two AZs",
        [Rel],
        "Add private subnets in 2–3 AZs",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-networking.html",
        rel05
    ),
    check!(
        "REL-06",
        "Running tasks actually spread over AZs",
        [Rel],
        "Turn on AZ rebalancing, or force a new deployment",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-rebalancing.html",
        rel06
    ),
    check!(
        "REL-07",
        "AZ rebalancing on",
        [Rel],
        "Enable availabilityZoneRebalancing",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-rebalancing.html",
        rel07
    ),
    check!(
        "REL-08",
        "Health-check grace period and draining",
        [Rel],
        "Grace ≥ p99 cold start; align deregistration delay with stopTimeout",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/load-balancer-healthcheck.html",
        rel08
    ),
    check!(
        "REL-09",
        "Container health checks",
        [Rel],
        "Add a CMD-SHELL health check with startPeriod",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html",
        rel09
    ),
    check!(
        "REL-10",
        "Service auto scaling registered and active",
        [Rel, Perf],
        "Register a scalable target with min ≥ 2 and max ≥ peak",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html",
        rel10
    ),
    check!(
        "REL-11",
        "Target-tracking policy",
        [Rel, Perf],
        "Target tracking on CPU (50–70) or ALBRequestCountPerTarget",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-autoscaling-targettracking.html",
        rel11
    ),
    check!(
        "REL-12",
        "Deployment stuck or failed",
        [Rel, Ops],
        "Open the rollback runbook",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html",
        rel12
    ),
    check!(
        "REL-13",
        "Crash loop or OOM",
        [Rel, Perf],
        "Fix the cause or move up a size",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-errors.html",
        rel13
    ),
    check!(
        "REL-14",
        "Load balancer in at least two AZs",
        [Rel],
        "Add load balancer subnets in more AZs",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-subnets.html",
        rel14
    ),
    check!(
        "REL-15",
        "Immutable image references",
        [Rel, Ops],
        "Pin a version tag or @sha256 digest",
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html",
        rel15
    ),
    check!(
        "REL-16",
        "Spot without an on-demand base",
        [Rel, Cost],
        "Add FARGATE with base = minimum healthy tasks",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html",
        rel16
    ),
    check!(
        "OPS-01",
        "Container Insights",
        [Ops],
        "Turn on Container Insights (enhanced)",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/ContainerInsights.html",
        ops01
    ),
    check!(
        "OPS-02",
        "Logging configured",
        [Ops, Sec],
        "Use awslogs (or awsfirelens) on every container",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html",
        ops02
    ),
    check!(
        "OPS-03",
        "Log retention set",
        [Ops, Cost, Sus],
        "Set a retention policy (30–365 days)",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html",
        ops03
    ),
    check!(
        "OPS-04",
        "awslogs delivery mode",
        [Ops, Rel],
        "Use mode=non-blocking with max-buffer-size",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html",
        ops04
    ),
    check!(
        "OPS-05",
        "Saturation alarms",
        [Ops, Perf],
        "Alarm on AWS/ECS CPU and memory per service",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html",
        ops05
    ),
    check!(
        "OPS-06",
        "Availability alarms",
        [Ops, Rel],
        "Alarm on 5XX, unhealthy hosts and running tasks, routed to on-call",
        "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html",
        ops06
    ),
    check!(
        "OPS-07",
        "Alarm actions configured and enabled",
        [Ops],
        "Give every alarm an enabled action",
        "https://docs.aws.amazon.com/config/latest/developerguide/cloudwatch-alarm-action-check.html",
        ops07
    ),
    needs!(
        "OPS-08",
        "Deployment and placement failures routed",
        [Ops],
        "EventBridge rule → SNS/chat",
        "needs EventBridge (events:ListRules), which this build does not read"
    ),
    check!(
        "SEC-01",
        "No auto-assigned public IP",
        [Sec],
        "Private subnets with assignPublicIp=DISABLED",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html",
        sec01
    ),
    check!(
        "SEC-02",
        "No secrets in plaintext environment",
        [Sec],
        "Move secrets to secrets[].valueFrom and rotate them",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/specifying-sensitive-data.html",
        sec02
    ),
    check!(
        "SEC-03",
        "Read-only root filesystem",
        [Sec],
        "readonlyRootFilesystem=true plus a writable /tmp volume",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html",
        sec03
    ),
    check!(
        "SEC-04",
        "Non-root user",
        [Sec],
        "Run as a non-root user",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html",
        sec04
    ),
    check!(
        "SEC-05",
        "No privileged mode, host namespaces or added capabilities",
        [Sec],
        "Remove them and drop ALL capabilities",
        "https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html",
        sec05
    ),
    check!(
        "SEC-06",
        "Task and execution roles least privilege",
        [Sec],
        "Scope actions to resource ARNs; separate the two roles",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html",
        sec06
    ),
    needs!(
        "SEC-07",
        "EFS in-transit encryption",
        [Sec],
        "Set transitEncryption=ENABLED",
        "needs task definition volumes, which the model does not carry yet"
    ),
    needs!(
        "SEC-08",
        "Image scanning and vulnerabilities",
        [Sec],
        "Enhanced scanning, immutable tags, rebuild",
        "needs ECR (DescribeRepositories, DescribeImageScanFindings), which this build does not read"
    ),
    needs!(
        "SEC-09",
        "GuardDuty Runtime Monitoring for Fargate",
        [Sec],
        "Turn on Runtime Monitoring with ECS Fargate agent management",
        "needs GuardDuty (ListDetectors, GetDetector), which this build does not read"
    ),
    check!(
        "SEC-10",
        "ECS Exec audited",
        [Sec],
        "Log Exec sessions (OVERRIDE/DEFAULT + KMS) or turn Exec off",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html",
        sec10
    ),
    check!(
        "SEC-11",
        "Latest Fargate platform version",
        [Sec, Ops],
        "Use platform version LATEST",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/platform-fargate.html",
        sec11
    ),
    check!(
        "PERF-01",
        "Valid Fargate size",
        [Perf],
        "Use the nearest valid cpu/memory combination",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-cpu-memory-error.html",
        perf01
    ),
    check!(
        "PERF-02",
        "CPU/memory saturation",
        [Perf],
        "Lower the scaling target or move up one size",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html",
        perf02
    ),
    check!(
        "PERF-03",
        "Scaling ceiling and IP headroom",
        [Perf, Rel],
        "Raise MaxCapacity; use bigger or more subnets",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-auto-scaling.html",
        perf03
    ),
    check!(
        "COST-01",
        "Right-size (Compute Optimizer fallback)",
        [Cost, Sus],
        "Step down to the next valid Fargate size",
        "https://docs.aws.amazon.com/compute-optimizer/latest/ug/view-ecs-recommendations.html",
        cost01
    ),
    check!(
        "COST-02",
        "Graviton (ARM64)",
        [Cost, Sus],
        "Build multi-arch images and run ARM64",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-arm64.html",
        cost02
    ),
    check!(
        "COST-03",
        "Fargate Spot for tolerant non-prod",
        [Cost],
        "Add a FARGATE_SPOT weight (keep a FARGATE base)",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-capacity-providers.html",
        cost03
    ),
    check!(
        "COST-04",
        "Cost-allocation tags and propagation",
        [Cost, Ops],
        "Tag resources; propagate tags; ECS managed tags",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-using-tags.html",
        cost04
    ),
    check!(
        "SUS-01",
        "Non-prod scaled down off-hours",
        [Sus, Cost],
        "Scheduled actions to zero at nights and weekends",
        "https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html",
        sus01
    ),
    check!(
        "SUS-02",
        "Idle service",
        [Sus, Cost],
        "Scale to zero or decommission",
        "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/cloudwatch-metrics.html",
        sus02
    ),
];

#[cfg(test)]
mod tests;
