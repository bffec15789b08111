//! Reliability checks.

use super::*;

pub(super) fn rel01<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    match c.svc.deployment_controller.as_str() {
        "ECS" | "" => {}
        "CODE_DEPLOY" => {
            c.not_evaluated(
                "not evaluated: CODE_DEPLOY service: its rollback is the deployment group's autoRollbackConfiguration (codedeploy:GetDeploymentGroup), which the review does not read yet".into(),
            );
            return vec![];
        }
        other => {
            c.not_evaluated(format!(
                "not evaluated: {other} deployment controller: rollback is the external tool's"
            ));
            return vec![];
        }
    }
    let dc = &c.svc.deployment_configuration;
    if !dc.is_rolling() {
        // Blue/green, linear and canary: no circuit breaker; a failed
        // deployment rolls back on its deployment alarms.
        let strategy = dc.strategy.as_deref().unwrap_or_default();
        let ev = match &dc.alarms {
            Some(a) if !a.alarm_names.is_empty() && a.enable && a.rollback => return vec![],
            Some(a) => format!(
                "strategy={strategy}: deploymentConfiguration.alarms {} alarms, enable={} rollback={} (the circuit breaker does not apply)",
                a.alarm_names.len(),
                a.enable,
                a.rollback
            ),
            None => format!(
                "strategy={strategy}: no deployment alarms with rollback (the circuit breaker does not apply)"
            ),
        };
        return hit(
            High,
            &c.svc.arn,
            vec![ev],
            svc_fix(
                c,
                "--deployment-configuration 'alarms={alarmNames=[<5xx>,<latency>],enable=true,rollback=true}'",
            ),
        );
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

pub(super) fn rel02<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn rel03<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn rel04<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if c.environment_or_skip().is_none() || !c.is_prod() {
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

pub(super) fn rel05<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn rel06<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn rel07<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn rel08<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn rel09<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn rel10<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn rel11<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn rel12<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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
    // The clock is read only where the verdict depends on it: the console
    // re-evaluates those services as time passes, and only those.
    if c.svc.deployments.len() > 1
        && let Some(newest) = c.svc.deployments.iter().map(|d| d.created_at).max()
        && c.now() - newest > 30 * MIN_MS
    {
        ev.push(format!(
            "{} deployments for {} min",
            c.svc.deployments.len(),
            (c.now() - newest) / MIN_MS
        ));
    }
    if c.svc.running_count < c.svc.desired_count
        && let Some(p) = c.svc.primary_deployment()
        && c.now() - p.updated_at.max(p.created_at) > 10 * MIN_MS
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

pub(super) fn rel13<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let crashes: Vec<&crate::model::Task> = c
        .svc
        .tasks
        .iter()
        .filter(|t| t.is_stopped() && t.stopped_at.is_some_and(|at| c.now() - at <= 60 * MIN_MS))
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

pub(super) fn rel14<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn rel15<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn rel16<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let s = &c.svc.capacity_provider_strategy;
    let spot = s
        .iter()
        .any(|p| p.capacity_provider == "FARGATE_SPOT" && p.weight > 0);
    let base = s
        .iter()
        .any(|p| p.capacity_provider == "FARGATE" && p.base >= 1);
    if !spot || base || c.environment_or_skip().is_none() || !c.is_prod() {
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

/// ECS.19: the cluster's Auto Scaling group capacity providers protect
/// instances running tasks from scale-in (once per cluster).
pub(super) fn rel18<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if !c.first_in_cluster {
        return vec![];
    }
    let Some(cl) = c.cluster() else { return vec![] };
    if cl.capacity_providers_unread.is_some() {
        // Touched: the gap names ecs:DescribeCapacityProviders.
        c.capacity_providers();
        return vec![];
    }
    let ev: Vec<String> = c
        .capacity_providers()
        .iter()
        .filter(|p| p.managed_termination_protection != "ENABLED")
        .map(|p| {
            format!(
                "capacity provider {} managedTerminationProtection={}",
                p.name, p.managed_termination_protection
            )
        })
        .collect();
    let fix = c
        .capacity_providers()
        .iter()
        .filter(|p| p.managed_termination_protection != "ENABLED")
        .map(|p| {
            format!(
                "aws ecs update-capacity-provider --name {} --auto-scaling-group-provider 'managedTerminationProtection=ENABLED,managedScaling={{status=ENABLED}}'",
                p.name
            )
        })
        .collect::<Vec<_>>()
        .join(" ; ");
    if ev.is_empty() {
        return vec![];
    }
    cluster_hit(Medium, &cl.arn, ev, fix)
}
