//! Verify conditions over a [`FleetSnapshot`]: the same snapshots the panes
//! show. A source is a list of JSON objects with the API's field names
//! (`runningCount`, `TargetHealth.State`); `select` is a dotted path with
//! `[n]` indexes; `where` filters; `agg` reduces; `op` compares.

use serde_json::{Map, Value};

use super::Condition;
use super::vars::{Scope, display, resolve_value};
pub use crate::calls::{ServiceRef, find_service};
use crate::model::{AlarmState, DataKind, EpochMs, FleetSnapshot, Service};

pub const SOURCES: &[&str] = &[
    "ecs.service",
    "ecs.tasks",
    "elbv2.targets",
    "cloudwatch.alarm",
    "autoscaling.target",
    "ec2.service_subnets",
    "run.impairments",
];
pub const OPS: &[&str] = &["==", "!=", ">=", "<=", ">", "<", "in", "exists", "missing"];
pub const AGGS: &[&str] = &["count", "sum", "min", "max", "distinct"];

pub fn check_op(op: &str) -> Result<(), String> {
    if OPS.contains(&op) {
        Ok(())
    } else {
        Err(format!("unknown op {op:?} (one of {})", OPS.join(" ")))
    }
}

/// Static checks of one condition: (key, message) on error.
pub fn check_condition(c: &Condition) -> Result<(), (&'static str, String)> {
    if !SOURCES.contains(&c.source.as_str()) {
        return Err((
            "source",
            format!(
                "unknown source {:?} (one of {})",
                c.source,
                SOURCES.join(", ")
            ),
        ));
    }
    check_op(&c.op).map_err(|m| ("op", m))?;
    if let Some(a) = &c.agg
        && !AGGS.contains(&a.as_str())
    {
        return Err((
            "agg",
            format!("unknown agg {a:?} (one of {})", AGGS.join(" ")),
        ));
    }
    for f in &c.filters {
        check_op(&f.op).map_err(|m| ("where", m))?;
    }
    let unary = matches!(c.op.as_str(), "exists" | "missing");
    if !unary && c.value.is_none() && c.value_from.is_none() {
        return Err((
            "value",
            format!("op {:?} needs `value` or `value_from`", c.op),
        ));
    }
    if c.source == "cloudwatch.alarm" && c.name.is_none() {
        return Err((
            "name",
            "a cloudwatch.alarm condition needs the alarm `name`".into(),
        ));
    }
    Ok(())
}

fn norm(k: &str) -> String {
    k.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

fn get_key<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).or_else(|| {
        let n = norm(key);
        obj.iter().find(|(k, _)| norm(k) == n).map(|(_, v)| v)
    })
}

/// Values at `path` under `root`. A key applied to an array maps over it.
pub fn select_path<'a>(root: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut cur: Vec<&Value> = vec![root];
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let (key, idxs) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        let mut next = vec![];
        for v in cur {
            let base: Vec<&Value> = if key.is_empty() {
                vec![v]
            } else {
                match v {
                    Value::Object(o) => get_key(o, key).into_iter().collect(),
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|x| x.as_object().and_then(|o| get_key(o, key)))
                        .collect(),
                    _ => vec![],
                }
            };
            for mut b in base {
                let mut ok = true;
                for idx in idxs.split('[').filter(|s| !s.is_empty()) {
                    let n: Option<usize> = idx.trim_end_matches(']').parse().ok();
                    match (b, n) {
                        (Value::Array(a), Some(n)) if n < a.len() => b = &a[n],
                        _ => {
                            ok = false;
                            break;
                        }
                    }
                }
                if ok {
                    next.push(b);
                }
            }
        }
        cur = next;
    }
    cur
}

fn camel(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    let mut up = false;
    for c in k.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// snake_case model JSON → the API's camelCase.
fn camelize(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (camel(&k), camelize(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(camelize).collect()),
        x => x,
    }
}

/// The service as `ecs.service` shows it (no tasks or events).
pub fn service_view(s: &Service) -> Value {
    let mut v = serde_json::to_value(Service {
        tasks: vec![],
        events: vec![],
        ..s.clone()
    })
    .unwrap_or(Value::Null);
    if let Value::Object(o) = &mut v {
        o.remove("tasks");
        o.remove("events");
    }
    camelize(v)
}

/// Running tasks per AZ of the service (its subnets' AZs count with 0), and
/// the spread: the most minus the fewest. Tasks of an unknown AZ are not
/// counted in either.
fn az_counts(s: &Service) -> (std::collections::BTreeMap<String, usize>, usize) {
    let mut by_az: std::collections::BTreeMap<String, usize> = s
        .subnets
        .iter()
        .map(|n| (n.availability_zone.clone(), 0))
        .collect();
    for t in s.running_tasks() {
        if let Some(az) = &t.availability_zone {
            *by_az.entry(az.clone()).or_default() += 1;
        }
    }
    let most = by_az.values().max().copied().unwrap_or(0);
    let fewest = by_az.values().min().copied().unwrap_or(0);
    (by_az, most - fewest)
}

/// A task's load balancer target state (`None`: the service has no load
/// balancer, or the task's target cannot be told: no IP), and whether it is
/// healthy by every check it has: RUNNING and meant to be, its container
/// health check not failing (HEALTHY where the task reports one), and its
/// target healthy where the service is behind a load balancer.
fn task_health(
    snap: &FleetSnapshot,
    s: &Service,
    t: &crate::model::Task,
) -> (Option<String>, bool) {
    let behind_lb = !s.load_balancers.is_empty();
    let target = t.private_ip.as_deref().and_then(|ip| {
        snap.target_groups_for(s)
            .flat_map(|tg| tg.targets.iter())
            .find(|x| x.id == ip)
            .map(|x| x.state.as_str().to_string())
    });
    let target_ok = !behind_lb || t.private_ip.is_none() || target.as_deref() == Some("healthy");
    let checked = snap.task_definition(&t.task_definition).is_some_and(|td| {
        td.container_definitions
            .iter()
            .any(|c| c.health_check.is_some())
    });
    let container_ok = if checked {
        t.health_status == "HEALTHY"
    } else {
        t.health_status != "UNHEALTHY"
    };
    let healthy =
        t.last_status == "RUNNING" && t.desired_status == "RUNNING" && container_ok && target_ok;
    let shown = if behind_lb {
        Some(target.unwrap_or_else(|| {
            if t.private_ip.is_some() {
                "unregistered"
            } else {
                "unknown"
            }
            .to_string()
        }))
    } else {
        None
    };
    (shown, healthy)
}

/// The place whose alarms were read without error, as "account region",
/// when the alarm condition of `r` looks there: the region (and account)
/// named, else the service's. `None` while they are not read (or failed),
/// when a missing alarm may still appear.
fn alarms_read_at(snap: &FleetSnapshot, r: &ServiceRef) -> Option<String> {
    let svc = crate::calls::lookup_service(snap, r).ok();
    let region = r
        .region
        .clone()
        .filter(|x| !x.is_empty())
        .or_else(|| svc.map(|s| s.region.clone()))?;
    let account = r
        .account
        .clone()
        .filter(|x| !x.is_empty())
        .or_else(|| svc.map(|s| s.account.clone()))
        .unwrap_or_default();
    let read = snap.read_ok_at(DataKind::Cloudwatch, &account, &region);
    read.then(|| format!("{account} {region}").trim().to_string())
}

/// The items of `source` for service `r`. `name` is the alarm's; `since`
/// bounds the alarm history considered when `include_history`.
pub fn items(
    snap: &FleetSnapshot,
    source: &str,
    r: &ServiceRef,
    name: Option<&str>,
    include_history: bool,
    since: EpochMs,
) -> Result<Vec<Value>, String> {
    if source == "cloudwatch.alarm" {
        let name = name.unwrap_or_default();
        // Of twins' alarms of one name, the one in the region (and account)
        // named, else the service's.
        let a = crate::calls::alarm_at(snap, name, r)
            .map_err(|_| format!("alarm {name:?} not found"))?;
        // Brief ALARM states revert within seconds: with include_history, the
        // first transition to ALARM since `since` counts, at its own time.
        let went_alarm = a
            .history
            .iter()
            .filter(|h| include_history && h.new_state == AlarmState::Alarm && h.timestamp >= since)
            .map(|h| h.timestamp)
            .min();
        let state = if went_alarm.is_some() {
            AlarmState::Alarm
        } else {
            a.state
        };
        return Ok(vec![serde_json::json!({
            "AlarmTransitionAt": went_alarm,
            "AlarmName": a.name,
            "StateValue": state.as_str(),
            "StateReason": a.state_reason,
            "StateUpdatedTimestamp": a.state_updated_at,
        })]);
    }
    let s = crate::calls::lookup_service(snap, r)?;
    Ok(match source {
        "ecs.service" => {
            let mut v = service_view(s);
            if let Value::Object(o) = &mut v {
                let (by_az, spread) = az_counts(s);
                o.insert("runningTasksByAz".into(), serde_json::json!(by_az));
                o.insert("azSpread".into(), serde_json::json!(spread));
                let healthy = s.tasks.iter().filter(|t| task_health(snap, s, t).1).count();
                o.insert("healthyTaskCount".into(), serde_json::json!(healthy));
            }
            vec![v]
        }
        "ecs.tasks" => s
            .tasks
            .iter()
            .map(|t| {
                let mut v = camelize(serde_json::to_value(t).unwrap_or(Value::Null));
                let (target, healthy) = task_health(snap, s, t);
                if let Value::Object(o) = &mut v {
                    o.insert("targetHealth".into(), serde_json::json!(target));
                    o.insert("healthy".into(), Value::Bool(healthy));
                }
                v
            })
            .collect(),
        "elbv2.targets" => snap
            .target_groups_for(s)
            .flat_map(|tg| {
                tg.targets.iter().map(move |t| {
                    serde_json::json!({
                        "Id": t.id,
                        "Port": t.port,
                        "AvailabilityZone": t.availability_zone,
                        "TargetGroupArn": tg.arn,
                        "TargetHealth": {
                            "State": t.state.as_str(),
                            "Reason": t.reason,
                            "Description": t.description,
                        },
                    })
                })
            })
            .collect(),
        "autoscaling.target" => snap
            .scalable_target(s)
            .map(|t| {
                serde_json::json!({
                    "ResourceId": t.resource_id,
                    "MinCapacity": t.min_capacity,
                    "MaxCapacity": t.max_capacity,
                })
            })
            .into_iter()
            .collect(),
        "ec2.service_subnets" => s
            .subnets
            .iter()
            .map(|n| {
                serde_json::json!({
                    "SubnetId": n.subnet_id,
                    "AvailabilityZone": n.availability_zone,
                    "AvailableIpAddressCount": n.available_ip_address_count,
                })
            })
            .collect(),
        other => return Err(format!("unknown source {other:?}")),
    })
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(_) | Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// Compare `lhs op rhs`.
pub fn compare(lhs: Option<&Value>, op: &str, rhs: Option<&Value>) -> bool {
    // An empty list counts as missing: `loadBalancers` of a service without one.
    let present = lhs.is_some_and(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()));
    match op {
        "exists" => return present,
        "missing" => return !present,
        _ => {}
    }
    let (Some(l), Some(r)) = (lhs, rhs) else {
        return false;
    };
    if op == "in" {
        return match r {
            Value::Array(a) => a.iter().any(|x| compare(Some(l), "==", Some(x))),
            other => compare(Some(l), "==", Some(other)),
        };
    }
    // Numbers (or numeric strings) compare as numbers, anything else as text.
    match (num(l), num(r)) {
        (Some(a), Some(b)) => ordered(&a, op, &b),
        _ => ordered(&display(l), op, &display(r)),
    }
}

fn ordered<T: PartialOrd>(a: &T, op: &str, b: &T) -> bool {
    match op {
        "==" => a == b,
        "!=" => a != b,
        ">=" => a >= b,
        "<=" => a <= b,
        ">" => a > b,
        "<" => a < b,
        _ => false,
    }
}

/// One evaluation of one condition.
#[derive(Debug, Clone, PartialEq)]
pub struct CondResult {
    pub ok: bool,
    /// When the condition became true, if the data says (an alarm's
    /// history); otherwise it is true as of now.
    pub at: Option<EpochMs>,
    /// "ecs.service runningCount = 4, want ≥ 6".
    pub text: String,
    pub observed: Value,
    /// It can never become true: its alarm does not exist although the
    /// place's alarms were read. The step fails at once instead of polling
    /// to its timeout.
    pub fatal: bool,
}

/// Why a condition could not be evaluated.
#[derive(Debug)]
struct CondError {
    msg: String,
    fatal: bool,
}

impl From<String> for CondError {
    fn from(msg: String) -> CondError {
        CondError { msg, fatal: false }
    }
}

pub struct EvalCtx<'a> {
    pub snap: &'a FleetSnapshot,
    pub default_ref: &'a ServiceRef,
    pub scope: &'a dyn Scope,
    /// Start of the verify step (alarm history window).
    pub since: EpochMs,
    /// The run's impairments in force (`run.impairments`): `{step, az, until}`.
    pub impairments: &'a [Value],
}

fn opt_str(s: &Option<String>, scope: &dyn Scope) -> Result<Option<String>, String> {
    s.as_deref()
        .map(|x| super::vars::interpolate(x, scope))
        .transpose()
}

pub fn evaluate(c: &Condition, cx: &EvalCtx) -> CondResult {
    match eval_inner(c, cx) {
        Ok(r) => r,
        Err(e) => CondResult {
            ok: false,
            at: None,
            text: format!("{}: {}", c.source, e.msg),
            observed: Value::Null,
            fatal: e.fatal,
        },
    }
}

fn eval_inner(c: &Condition, cx: &EvalCtx) -> Result<CondResult, CondError> {
    let scope = cx.scope;
    let r = ServiceRef {
        cluster: opt_str(&c.cluster, scope)?.unwrap_or_else(|| cx.default_ref.cluster.clone()),
        service: opt_str(&c.service, scope)?.unwrap_or_else(|| cx.default_ref.service.clone()),
        region: opt_str(&c.region, scope)?.or_else(|| cx.default_ref.region.clone()),
        account: opt_str(&c.account, scope)?.or_else(|| cx.default_ref.account.clone()),
    };
    let name = opt_str(&c.name, scope)?;
    let its = if c.source == "run.impairments" {
        Ok(cx.impairments.to_vec())
    } else {
        items(
            cx.snap,
            &c.source,
            &r,
            name.as_deref(),
            c.include_history,
            cx.since,
        )
    };
    let mut its = match its {
        Ok(its) => its,
        Err(msg) if c.source == "cloudwatch.alarm" => {
            return Err(match alarms_read_at(cx.snap, &r) {
                Some(place) => CondError {
                    msg: format!(
                        "{msg}: no metric alarm of that name in {place} (cloudwatch:DescribeAlarms read it)"
                    ),
                    fatal: true,
                },
                None => CondError { msg, fatal: false },
            });
        }
        Err(msg) => return Err(msg.into()),
    };
    for f in &c.filters {
        let want = f
            .value
            .as_ref()
            .map(|v| resolve_value(v, scope))
            .transpose()?;
        its.retain(|it| {
            let got = select_path(it, &f.select).into_iter().next();
            compare(got, &f.op, want.as_ref())
        });
    }
    let select = c.select.as_deref().unwrap_or("");
    let values: Vec<Value> = its
        .iter()
        .flat_map(|it| {
            if select.is_empty() {
                vec![it.clone()]
            } else {
                select_path(it, select)
                    .into_iter()
                    .flat_map(|v| match (v, &c.agg) {
                        (Value::Array(a), Some(_)) => a.clone(),
                        (x, _) => vec![x.clone()],
                    })
                    .collect()
            }
        })
        .collect();
    let observed: Option<Value> = match c.agg.as_deref() {
        Some("count") => Some(Value::from(values.len())),
        Some("distinct") => {
            let mut d: Vec<String> = values
                .iter()
                .filter(|v| !v.is_null())
                .map(display)
                .collect();
            d.sort();
            d.dedup();
            Some(Value::from(d.len()))
        }
        Some("sum") => Some(Value::from(values.iter().filter_map(num).sum::<f64>())),
        Some("min") => values
            .iter()
            .filter_map(num)
            .reduce(f64::min)
            .map(Value::from),
        Some("max") => values
            .iter()
            .filter_map(num)
            .reduce(f64::max)
            .map(Value::from),
        _ => values.first().cloned(),
    };
    let want: Option<Value> = match (&c.value, &c.value_from) {
        (Some(v), _) => Some(resolve_value(v, scope)?),
        (None, Some(path)) => its
            .first()
            .and_then(|it| select_path(it, path).into_iter().next().cloned()),
        (None, None) => None,
    };
    let ok = compare(observed.as_ref(), &c.op, want.as_ref());
    let what = match (&c.agg, select) {
        (Some(a), "") => format!("{a}()"),
        (Some(a), s) => format!("{a}({s})"),
        (None, "") => "value".to_string(),
        (None, s) => s.to_string(),
    };
    let subject = match (&c.source[..], &name) {
        ("cloudwatch.alarm", Some(n)) => format!("alarm {n}"),
        (src, _) => src.to_string(),
    };
    let obs = observed.as_ref().map(display).unwrap_or_else(|| "—".into());
    let text = match &want {
        Some(w) => format!("{subject} {what} = {obs}, want {} {}", c.op, display(w)),
        None => format!("{subject} {what} = {obs}, want {}", c.op),
    };
    let at = its
        .first()
        .and_then(|it| it.get("AlarmTransitionAt"))
        .and_then(Value::as_i64)
        .filter(|_| ok && c.op == "==");
    Ok(CondResult {
        ok,
        at,
        text,
        observed: observed.unwrap_or(Value::Null),
        fatal: false,
    })
}
