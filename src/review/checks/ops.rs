//! Operational excellence checks.

use super::*;

pub(super) fn ops01<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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
    cluster_hit(
        sev,
        &cl.arn,
        vec![format!("cluster {} containerInsights={v}", cl.name)],
        format!(
            "aws ecs update-cluster-settings --cluster {} --settings name=containerInsights,value=enhanced",
            cl.name
        ),
    )
}

pub(super) fn ops02<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn log_groups<'a>(c: &Ctx<'a>) -> Vec<&'a str> {
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

pub(super) fn ops03<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let mut out = vec![];
    for g in log_groups(c) {
        let Some(lg) = c.log_group(g) else {
            continue;
        };
        let ev = match lg.retention_in_days {
            None => Some(format!(
                "log group {g} retentionInDays absent (never expires)"
            )),
            Some(d) if d < c.cfg.min_log_retention_days => Some(format!(
                "log group {g} retentionInDays={d} < policy minimum {}",
                c.cfg.min_log_retention_days
            )),
            Some(_) => None,
        };
        if let Some(ev) = ev {
            // The smallest retention CloudWatch Logs accepts at or above
            // both the policy's minimum and 90 days.
            const VALID: [i32; 22] = [
                1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                2557, 2922, 3288, 3653,
            ];
            let want = c.cfg.min_log_retention_days.max(90);
            let days = VALID.into_iter().find(|d| *d >= want).unwrap_or(3653);
            out.extend(hit(
                Medium,
                g,
                vec![ev],
                format!(
                    "aws logs put-retention-policy --log-group-name {g} --retention-in-days {days}"
                ),
            ));
        }
        // Application logs may carry personal data: encrypt them with a
        // key the team controls (seed 003).
        if lg.kms_key_id.as_deref().is_none_or(str::is_empty) {
            out.extend(hit(
                Low,
                g,
                vec![format!(
                    "log group {g} kmsKeyId absent (no customer-managed key)"
                )],
                format!("aws logs associate-kms-key --log-group-name {g} --kms-key-id <key arn>"),
            ));
        }
    }
    out
}

pub(super) fn ops04<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

/// Security Hub ECS.13/14/15: a resource with no tag of its own (`aws:`
/// tags are AWS's, not the team's).
pub(super) fn ops09<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let untagged =
        |t: &std::collections::BTreeMap<String, String>| !t.keys().any(|k| !k.starts_with("aws:"));
    let mut out = vec![];
    if untagged(&c.svc.tags) {
        out.extend(hit(
            Low,
            &c.svc.arn,
            vec![format!("service {} has no tags", c.svc.name)],
            format!(
                "aws ecs tag-resource --resource-arn {} --tags key=Owner,value=… key=Environment,value=…",
                c.svc.arn
            ),
        ));
    }
    // A cluster's own: once, on its first service.
    if c.first_in_cluster
        && let Some(cl) = c.cluster()
        && untagged(&cl.tags)
    {
        out.extend(cluster_hit(
            Low,
            &cl.arn,
            vec![format!("cluster {} has no tags", cl.name)],
            format!(
                "aws ecs tag-resource --resource-arn {} --tags key=Owner,value=…",
                cl.arn
            ),
        ));
    }
    if let Some(td) = c.td()
        && untagged(&td.tags)
    {
        out.extend(hit(
            Low,
            &td.arn,
            vec![format!(
                "task definition {} has no tags",
                td.family_revision()
            )],
            format!(
                "aws ecs tag-resource --resource-arn {} --tags key=Owner,value=…",
                td.arn
            ),
        ));
    }
    out
}

pub(super) fn alarms_on<'c, 'a>(c: &'c Ctx<'a>) -> &'c [&'a crate::model::Alarm] {
    c.alarms()
}

pub(super) fn ops05<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn ops06<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
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

pub(super) fn ops07<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    alarms_on(c)
        .iter()
        .filter(|a| a.alarm_actions.is_empty() || !a.actions_enabled)
        .flat_map(|a| {
            let ev = if a.alarm_actions.is_empty() { format!("alarm {} AlarmActions=[]", a.name) } else { format!("alarm {} ActionsEnabled=false", a.name) };
            hit(High, &a.arn, vec![ev], format!("aws cloudwatch enable-alarm-actions --alarm-names {} (and set --alarm-actions <sns>)", a.name))
        })
        .collect()
}
