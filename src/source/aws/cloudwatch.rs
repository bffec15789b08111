//! CloudWatch: metric alarms (DescribeAlarms, paginated), their state
//! history (DescribeAlarmHistory, re-read only when an alarm's state changed),
//! and the services' sparkline metrics (GetMetricData, 500 queries a call).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types as t;

use super::{AwsSource, bump, describe_error, now_ms};
use crate::model::{
    Alarm, AlarmHistoryItem, AlarmState, MetricSeries, Service, ServiceMetrics, TargetGroup,
};

/// Most queries one GetMetricData call takes.
pub const QUERIES_PER_CALL: usize = 500;
/// Sparkline window: an hour of one-minute points.
pub const METRIC_PERIOD_SECS: i32 = 60;
pub const METRIC_POINTS: usize = 60;
/// History reads per refresh (the rest come on the next ones).
const HISTORY_READS_PER_REFRESH: usize = 50;
/// History reads in flight at once.
const HISTORY_CONCURRENT: usize = 8;
/// Alarms whose state changed longer ago than this get no history read.
const HISTORY_HORIZON_MS: i64 = 24 * 3600 * 1000;

fn ms(d: Option<&DateTime>) -> Option<i64> {
    d.and_then(|d| d.to_millis().ok())
}

pub fn convert_state(s: Option<&t::StateValue>) -> AlarmState {
    match s {
        Some(t::StateValue::Alarm) => AlarmState::Alarm,
        Some(t::StateValue::Ok) => AlarmState::Ok,
        _ => AlarmState::InsufficientData,
    }
}

fn state_from_str(s: &str) -> AlarmState {
    match s {
        "ALARM" => AlarmState::Alarm,
        "OK" => AlarmState::Ok,
        _ => AlarmState::InsufficientData,
    }
}

/// `targetgroup/name/id` (the CloudWatch dimension) from a target group ARN.
pub fn target_group_dimension(arn: &str) -> &str {
    arn.rsplit_once(':').map_or(arn, |(_, d)| d)
}

/// `app/name/id` (the CloudWatch dimension) from a load balancer ARN.
pub fn load_balancer_dimension(arn: &str) -> &str {
    arn.split_once(":loadbalancer/").map_or(arn, |(_, d)| d)
}

/// The service an alarm concerns, told from its dimensions: ClusterName +
/// ServiceName (ECS metrics), or TargetGroup (ALB metrics).
pub fn service_key_of(
    dims: &BTreeMap<String, String>,
    services: &[Arc<Service>],
) -> Option<String> {
    if let (Some(c), Some(s)) = (dims.get("ClusterName"), dims.get("ServiceName")) {
        return Some(format!("{c}/{s}"));
    }
    let tg = dims.get("TargetGroup")?;
    services
        .iter()
        .find(|s| {
            s.load_balancers
                .iter()
                .any(|l| target_group_dimension(&l.target_group_arn) == tg)
        })
        .map(|s| s.key())
}

pub fn convert_alarm(a: &t::MetricAlarm, services: &[Arc<Service>]) -> Alarm {
    let dimensions: BTreeMap<String, String> = a
        .dimensions()
        .iter()
        .filter_map(|d| Some((d.name()?.to_string(), d.value()?.to_string())))
        .collect();
    Alarm {
        name: a.alarm_name().unwrap_or_default().to_string(),
        arn: a.alarm_arn().unwrap_or_default().to_string(),
        account: crate::model::id::arn_account(a.alarm_arn().unwrap_or_default())
            .unwrap_or_default()
            .to_string(),
        region: crate::model::id::arn_region(a.alarm_arn().unwrap_or_default())
            .unwrap_or_default()
            .to_string(),
        namespace: a.namespace().unwrap_or_default().to_string(),
        metric_name: a.metric_name().unwrap_or_default().to_string(),
        service_key: service_key_of(&dimensions, services),
        dimensions,
        statistic: a
            .statistic()
            .map(|s| s.as_str().to_string())
            .or_else(|| a.extended_statistic().map(str::to_string))
            .unwrap_or_default(),
        period: a.period().unwrap_or(60),
        comparison_operator: a
            .comparison_operator()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        threshold: a.threshold().unwrap_or(0.0),
        evaluation_periods: a.evaluation_periods().unwrap_or(1),
        datapoints_to_alarm: a
            .datapoints_to_alarm()
            .or(a.evaluation_periods())
            .unwrap_or(1),
        state: convert_state(a.state_value()),
        state_reason: a.state_reason().unwrap_or_default().to_string(),
        state_updated_at: ms(a.state_updated_timestamp()).unwrap_or(0),
        actions_enabled: a.actions_enabled().unwrap_or(false),
        alarm_actions: a.alarm_actions().to_vec(),
        history: vec![],
    }
}

/// A StateUpdate history item; its `historyData` JSON carries the states.
pub fn convert_history(h: &t::AlarmHistoryItem) -> Option<AlarmHistoryItem> {
    #[derive(serde::Deserialize)]
    struct State {
        #[serde(rename = "stateValue")]
        value: String,
        #[serde(rename = "stateReason", default)]
        reason: String,
    }
    #[derive(serde::Deserialize)]
    struct Data {
        #[serde(rename = "oldState")]
        old: State,
        #[serde(rename = "newState")]
        new: State,
    }
    let data: Data = serde_json::from_str(h.history_data()?).ok()?;
    Some(AlarmHistoryItem {
        timestamp: ms(h.timestamp())?,
        old_state: state_from_str(&data.old.value),
        new_state: state_from_str(&data.new.value),
        summary: h.history_summary().unwrap_or_default().to_string(),
        reason: data.new.reason,
    })
}

/// History read per alarm, keyed by name, with the state time it was read at.
#[derive(Debug, Default)]
pub struct HistoryCache {
    pub by_alarm: HashMap<String, (i64, Vec<AlarmHistoryItem>)>,
    /// Set once the endpoint answered that it does not serve the history.
    pub unavailable: Option<String>,
}

/// Metric alarms of the region, with history where it matters. The second
/// value is a history problem (alarms were still read).
pub async fn fetch_alarms(
    src: &AwsSource,
    services: &[Arc<Service>],
) -> Result<(Vec<Alarm>, Option<String>), String> {
    let mut alarms = Vec::new();
    let mut pages = src
        .cw
        .describe_alarms()
        .alarm_types(t::AlarmType::MetricAlarm)
        .max_records(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        bump(&src.calls.cloudwatch);
        let page = page.map_err(|e| describe_error("cloudwatch:DescribeAlarms", &e))?;
        alarms.extend(
            page.metric_alarms()
                .iter()
                .map(|a| convert_alarm(a, services)),
        );
    }
    let now = now_ms();
    let mut cache = src.alarm_history.lock().await;
    let mut failure = None;
    if cache.unavailable.is_none() {
        // The alarms that concern a service and changed state recently (or
        // are in ALARM), whose history is not read yet for this state.
        let mut due: Vec<&Alarm> = alarms
            .iter()
            .filter(|a| a.service_key.is_some() || a.state == AlarmState::Alarm)
            .filter(|a| {
                a.state == AlarmState::Alarm || now - a.state_updated_at < HISTORY_HORIZON_MS
            })
            .filter(|a| {
                cache
                    .by_alarm
                    .get(&a.name)
                    .is_none_or(|(at, _)| *at != a.state_updated_at)
            })
            .collect();
        due.sort_by_key(|a| std::cmp::Reverse(a.state_updated_at));
        // A few at a time; no SDK retries: history is a nicety that the next
        // refresh asks for again, and an endpoint that does not serve it
        // (moto: HTTP 500) must not cost a round of backoff.
        let no_retry = aws_sdk_cloudwatch::config::Builder::default()
            .retry_config(aws_config::retry::RetryConfig::disabled());
        let read = |a: &Alarm| {
            let call = src
                .cw
                .describe_alarm_history()
                .alarm_name(&a.name)
                .history_item_type(t::HistoryItemType::StateUpdate)
                .max_records(10)
                .customize()
                .config_override(no_retry.clone())
                .send();
            let (name, at) = (a.name.clone(), a.state_updated_at);
            async move {
                bump(&src.calls.cloudwatch);
                (name, at, call.await)
            }
        };
        let mut due = due.into_iter().take(HISTORY_READS_PER_REFRESH);
        // The first one alone: an endpoint that does not serve history is
        // asked once, not HISTORY_CONCURRENT times.
        let first = due.next().map(read);
        let rest: Vec<_> = due.map(read).collect();
        use futures::stream::StreamExt;
        let mut results = futures::stream::iter(first)
            .buffered(1)
            .chain(futures::stream::iter(rest).buffer_unordered(HISTORY_CONCURRENT));
        let mut failed = None;
        while let Some((name, at, res)) = results.next().await {
            match res {
                Ok(out) => {
                    let mut items: Vec<AlarmHistoryItem> = out
                        .alarm_history_items()
                        .iter()
                        .filter_map(convert_history)
                        .collect();
                    items.sort_by_key(|h| std::cmp::Reverse(h.timestamp));
                    cache.by_alarm.insert(name, (at, items));
                }
                Err(e) => {
                    let line = describe_error("cloudwatch:DescribeAlarmHistory", &e);
                    // Not served (moto), or not allowed: stop asking.
                    if line.ends_with("not available from this endpoint")
                        || line.contains("AccessDenied")
                    {
                        cache.unavailable = Some(line);
                        break;
                    }
                    failed.get_or_insert(line);
                }
            }
        }
        drop(results);
        failure = failed;
    }
    for a in &mut alarms {
        if let Some((_, h)) = cache.by_alarm.get(&a.name) {
            a.history = h.clone();
        }
    }
    alarms.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((alarms, failure.or_else(|| cache.unavailable.clone())))
}

/// The five sparkline series of one service, as GetMetricData queries.
fn queries_for(i: usize, s: &Service, tgs: &[TargetGroup]) -> Vec<t::MetricDataQuery> {
    let dim = |n: &str, v: &str| t::Dimension::builder().name(n).value(v).build();
    let q = |k: &str, ns: &str, name: &str, stat: &str, dims: Vec<t::Dimension>| {
        t::MetricDataQuery::builder()
            .id(format!("s{i}_{k}"))
            .metric_stat(
                t::MetricStat::builder()
                    .metric(
                        t::Metric::builder()
                            .namespace(ns)
                            .metric_name(name)
                            .set_dimensions(Some(dims))
                            .build(),
                    )
                    .period(METRIC_PERIOD_SECS)
                    .stat(stat)
                    .build(),
            )
            .return_data(true)
            .build()
    };
    let ecs = || vec![dim("ClusterName", &s.cluster), dim("ServiceName", &s.name)];
    let mut out = vec![
        q("cpu", "AWS/ECS", "CPUUtilization", "Average", ecs()),
        q("mem", "AWS/ECS", "MemoryUtilization", "Average", ecs()),
    ];
    // ALB metrics of the service's first target group with a load balancer.
    let tg = s.load_balancers.iter().find_map(|l| {
        tgs.iter()
            .find(|g| g.arn == l.target_group_arn && g.load_balancer_arn.is_some())
    });
    if let Some(g) = tg {
        let lb = load_balancer_dimension(g.load_balancer_arn.as_deref().unwrap_or_default());
        let alb = || {
            vec![
                dim("TargetGroup", target_group_dimension(&g.arn)),
                dim("LoadBalancer", lb),
            ]
        };
        out.push(q("req", "AWS/ApplicationELB", "RequestCount", "Sum", alb()));
        out.push(q(
            "5xx",
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            "Sum",
            alb(),
        ));
        out.push(q(
            "p99",
            "AWS/ApplicationELB",
            "TargetResponseTime",
            "p99",
            alb(),
        ));
    }
    out
}

/// Datapoints into a regular series of `METRIC_POINTS` slots ending at `end`.
/// Missing points: 0 for counts (ALB publishes no zero), the previous value
/// for averages.
pub fn to_series(ts: &[i64], values: &[f64], end: i64, is_count: bool, scale: f64) -> MetricSeries {
    let period = METRIC_PERIOD_SECS as i64 * 1000;
    let start = end - period * METRIC_POINTS as i64;
    let mut slots: Vec<Option<f64>> = vec![None; METRIC_POINTS];
    for (t, v) in ts.iter().zip(values) {
        if *t < start || *t >= end {
            continue;
        }
        let i = ((t - start) / period) as usize;
        if i < METRIC_POINTS {
            slots[i] = Some(v * scale);
        }
    }
    let mut prev = None;
    let values = if slots.iter().all(Option::is_none) {
        vec![]
    } else {
        slots
            .into_iter()
            .map(|v| {
                let v = match v {
                    Some(v) => Some(v),
                    None if is_count => Some(0.0),
                    None => prev,
                };
                prev = v.or(prev);
                v.unwrap_or(0.0)
            })
            .collect()
    };
    MetricSeries {
        period_seconds: METRIC_PERIOD_SECS,
        end,
        values,
    }
}

/// The last hour of the services' sparkline metrics, keyed by `cluster/service`.
pub async fn fetch_metrics(
    src: &AwsSource,
    services: &[Arc<Service>],
    tgs: &[TargetGroup],
) -> Result<BTreeMap<crate::model::ServiceId, ServiceMetrics>, String> {
    let period = METRIC_PERIOD_SECS as i64 * 1000;
    let end = now_ms() / period * period;
    let start = end - period * METRIC_POINTS as i64;
    let queries: Vec<t::MetricDataQuery> = services
        .iter()
        .enumerate()
        .flat_map(|(i, s)| queries_for(i, s, tgs))
        .collect();
    let mut results: HashMap<String, (Vec<i64>, Vec<f64>)> = HashMap::new();
    for batch in queries.chunks(QUERIES_PER_CALL) {
        let mut pages = src
            .cw
            .get_metric_data()
            .set_metric_data_queries(Some(batch.to_vec()))
            .start_time(DateTime::from_millis(start))
            .end_time(DateTime::from_millis(end))
            .scan_by(t::ScanBy::TimestampAscending)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            bump(&src.calls.cloudwatch);
            let page = page.map_err(|e| describe_error("cloudwatch:GetMetricData", &e))?;
            for r in page.metric_data_results() {
                let e = results
                    .entry(r.id().unwrap_or_default().to_string())
                    .or_default();
                e.0.extend(r.timestamps().iter().filter_map(|d| d.to_millis().ok()));
                e.1.extend(r.values());
            }
        }
    }
    let mut out = BTreeMap::new();
    for (i, s) in services.iter().enumerate() {
        let series = |k: &str, count: bool, scale: f64| {
            results
                .get(&format!("s{i}_{k}"))
                .map(|(ts, vs)| to_series(ts, vs, end, count, scale))
                .unwrap_or_default()
        };
        let m = ServiceMetrics {
            cpu: series("cpu", false, 1.0),
            memory: series("mem", false, 1.0),
            requests: series("req", true, 1.0),
            http_5xx: series("5xx", true, 1.0),
            latency_p99_ms: series("p99", false, 1000.0),
        };
        out.insert(s.id(), m);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_from_arns() {
        assert_eq!(
            target_group_dimension(
                "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/api/6d0ecf831eec9f09"
            ),
            "targetgroup/api/6d0ecf831eec9f09"
        );
        assert_eq!(
            load_balancer_dimension(
                "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/web/50dc6c495c0c9188"
            ),
            "app/web/50dc6c495c0c9188"
        );
    }

    #[test]
    fn alarm_conversion_names_the_service_and_reads_history_data() {
        let a = t::MetricAlarm::builder()
            .alarm_name("prod-api-5xx")
            .namespace("AWS/ApplicationELB")
            .metric_name("HTTPCode_Target_5XX_Count")
            .dimensions(
                t::Dimension::builder()
                    .name("TargetGroup")
                    .value("targetgroup/api/abc")
                    .build(),
            )
            .statistic(t::Statistic::Sum)
            .comparison_operator(t::ComparisonOperator::GreaterThanThreshold)
            .threshold(5.0)
            .evaluation_periods(3)
            .state_value(t::StateValue::Alarm)
            .build();
        let svc = Service {
            cluster: "prod".into(),
            name: "api".into(),
            load_balancers: vec![crate::model::LoadBalancerRef {
                target_group_arn: "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/api/abc"
                    .into(),
                container_name: "api".into(),
                container_port: 8080,
            }],
            ..Default::default()
        };
        let alarm = convert_alarm(&a, &[Arc::new(svc)]);
        assert_eq!(alarm.service_key.as_deref(), Some("prod/api"));
        assert_eq!(alarm.state, AlarmState::Alarm);
        assert_eq!(alarm.statistic, "Sum");
        assert_eq!(
            alarm.datapoints_to_alarm, 3,
            "defaults to evaluation periods"
        );

        let h = t::AlarmHistoryItem::builder()
            .timestamp(DateTime::from_millis(1_000))
            .history_summary("Alarm updated from OK to ALARM")
            .history_data(r#"{"version":"1.0","oldState":{"stateValue":"OK","stateReason":"fine"},"newState":{"stateValue":"ALARM","stateReason":"Threshold Crossed: 3 datapoints"}}"#)
            .build();
        let item = convert_history(&h).unwrap();
        assert_eq!(
            (item.old_state, item.new_state),
            (AlarmState::Ok, AlarmState::Alarm)
        );
        assert_eq!(item.reason, "Threshold Crossed: 3 datapoints");
        // A configuration-update item has no states: skipped, not a panic.
        let h = t::AlarmHistoryItem::builder()
            .timestamp(DateTime::from_millis(1_000))
            .history_data("{}")
            .build();
        assert!(convert_history(&h).is_none());
    }

    #[test]
    fn series_are_regular_with_gaps_filled_by_kind() {
        let end = 3_600_000;
        let ts = [end - 120_000, end - 60_000];
        let s = to_series(&ts, &[10.0, 20.0], end, false, 1.0);
        assert_eq!(s.values.len(), METRIC_POINTS);
        assert_eq!(&s.values[57..], &[0.0, 10.0, 20.0]);
        let s = to_series(&[end - 180_000, end - 60_000], &[4.0, 6.0], end, true, 1.0);
        assert_eq!(&s.values[56..], &[0.0, 4.0, 0.0, 6.0]);
        let s = to_series(&[end - 180_000, end - 60_000], &[4.0, 6.0], end, false, 1.0);
        assert_eq!(
            &s.values[56..],
            &[0.0, 4.0, 4.0, 6.0],
            "averages carry the last value"
        );
        assert!(
            to_series(&[], &[], end, true, 1.0).values.is_empty(),
            "no data ≠ zeros"
        );
        // Latency in seconds → milliseconds.
        let s = to_series(&[end - 60_000], &[0.25], end, false, 1000.0);
        assert_eq!(s.last(), Some(250.0));
    }
}
