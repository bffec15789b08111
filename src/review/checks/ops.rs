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

/// What an alarm on one metric must do to protect the service (the
/// catalogue's "> 80 % for 3 × 1 min" and its kin): alarm in the right
/// direction, at a threshold that can be reached in time, over a window
/// of at most 15 minutes.
struct Wanted {
    ns: &'static str,
    metric: &'static str,
    above: bool,
    /// The loosest threshold that still protects (above: at most; below: at least).
    bound: f64,
    /// The command's statistic, threshold and comparison.
    statistic: &'static str,
    threshold: &'static str,
}

const MAX_WINDOW_S: i64 = 900;

fn judge(a: &crate::model::Alarm, w: &Wanted) -> Result<(), String> {
    let above = a.comparison_operator.starts_with("GreaterThan");
    let below = a.comparison_operator.starts_with("LessThan");
    let window = i64::from(a.period) * i64::from(a.evaluation_periods.max(1));
    let why = if w.above && !above || !w.above && !below {
        format!("{} alarms the wrong way", a.comparison_operator)
    } else if w.above && a.threshold > w.bound || !w.above && a.threshold < w.bound {
        format!(
            "threshold {} never protects (catalogue: {} {})",
            a.threshold,
            if w.above { "at most" } else { "at least" },
            w.bound
        )
    } else if window > MAX_WINDOW_S {
        format!(
            "{} × {} s is {} min to alarm (catalogue: at most 15 min)",
            a.evaluation_periods,
            a.period,
            window / 60
        )
    } else {
        return Ok(());
    };
    Err(format!("alarm {} on {} {}: {why}", a.name, w.ns, w.metric))
}

/// The service's alarms on the metric: `Ok` when one protects, else
/// why each of them does not (empty: there is none).
fn judged(alarms: &[&crate::model::Alarm], w: &Wanted) -> Result<(), Vec<String>> {
    let on: Vec<&&crate::model::Alarm> = alarms
        .iter()
        .filter(|a| a.namespace == w.ns && a.metric_name == w.metric)
        .collect();
    let mut why = vec![];
    for a in on {
        match judge(a, w) {
            Ok(()) => return Ok(()),
            Err(e) => why.push(e),
        }
    }
    Err(why)
}

fn put_alarm(w: &Wanted, name: &str, dims: &str) -> String {
    format!(
        "aws cloudwatch put-metric-alarm --alarm-name {name} --namespace {} --metric-name {} --dimensions {dims} --statistic {} --period 60 --evaluation-periods 3 --datapoints-to-alarm 2 --threshold {} --comparison-operator {} --treat-missing-data {} --alarm-actions <on-call SNS topic ARN>",
        w.ns,
        w.metric,
        w.statistic,
        w.threshold,
        if w.above {
            "GreaterThanThreshold"
        } else {
            "LessThanThreshold"
        },
        if w.above { "notBreaching" } else { "breaching" },
    )
}

/// The findings of the alarms checks: one evidence line per metric not
/// protected, and the put-metric-alarm command for each.
fn alarm_hits<'a>(c: &Ctx<'a>, sev: Severity, wanted: &[(Wanted, String)]) -> Vec<Hit<'a>> {
    let alarms = alarms_on(c);
    let mut ev = vec![];
    let mut fixes = vec![];
    for (w, dims) in wanted {
        if let Err(why) = judged(alarms, w) {
            if why.is_empty() {
                ev.push(format!(
                    "no {} {} alarm for {}/{}",
                    w.ns, w.metric, c.svc.cluster, c.svc.name
                ));
            } else {
                ev.extend(why);
            }
            let name = format!("{}-{}-{}", c.svc.cluster, c.svc.name, w.metric);
            fixes.push(put_alarm(w, &name, dims));
        }
    }
    if ev.is_empty() {
        return vec![];
    }
    hit(sev, &c.svc.arn, ev, fixes.join(" ; "))
}

pub(super) fn ops05<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let dims = format!(
        "Name=ClusterName,Value={} Name=ServiceName,Value={}",
        c.svc.cluster, c.svc.name
    );
    let sat = |metric| Wanted {
        ns: "AWS/ECS",
        metric,
        above: true,
        bound: 90.0,
        statistic: "Average",
        threshold: "80",
    };
    alarm_hits(
        c,
        Medium,
        &[
            (sat("CPUUtilization"), dims.clone()),
            (sat("MemoryUtilization"), dims),
        ],
    )
}

/// `app/name/id` and `targetgroup/name/id`: the ELB dimension values of a
/// target group's ARNs.
fn elb_dims(tg: &crate::model::TargetGroup) -> String {
    let tail = |arn: &str, from: &str| arn.find(from).map(|i| arn[i + from.len()..].to_string());
    let lb = tg
        .load_balancer_arn
        .as_deref()
        .and_then(|a| tail(a, ":loadbalancer/"))
        .unwrap_or_else(|| "<app/name/id>".into());
    let t = tail(&tg.arn, ":targetgroup/")
        .map(|t| format!("targetgroup/{t}"))
        .unwrap_or_else(|| "<targetgroup/name/id>".into());
    format!("Name=LoadBalancer,Value={lb} Name=TargetGroup,Value={t}")
}

pub(super) fn ops06<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let mut wanted = vec![];
    if has_lb(c) {
        let dims = c
            .target_groups_if_read()
            .first()
            .map(|tg| elb_dims(tg))
            .unwrap_or_else(|| {
                "Name=LoadBalancer,Value=<app/name/id> Name=TargetGroup,Value=<targetgroup/name/id>"
                    .into()
            });
        wanted.push((
            Wanted {
                ns: "AWS/ApplicationELB",
                metric: "HTTPCode_Target_5XX_Count",
                above: true,
                bound: 1000.0,
                statistic: "Sum",
                threshold: "10",
            },
            dims.clone(),
        ));
        wanted.push((
            Wanted {
                ns: "AWS/ApplicationELB",
                metric: "UnHealthyHostCount",
                above: true,
                bound: 1.0,
                statistic: "Maximum",
                threshold: "0",
            },
            dims,
        ));
    }
    wanted.push((
        Wanted {
            ns: "ECS/ContainerInsights",
            metric: "RunningTaskCount",
            above: false,
            bound: 1.0,
            statistic: "Minimum",
            threshold: "1",
        },
        format!(
            "Name=ClusterName,Value={} Name=ServiceName,Value={}",
            c.svc.cluster, c.svc.name
        ),
    ));
    alarm_hits(c, High, &wanted)
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
