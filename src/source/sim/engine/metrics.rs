//! Per-minute metrics and the alarms that read them.

use super::*;
use rand::Rng;

impl SimService {
    /// The value an alarm on this service's `metric` reads from a sample.
    pub(super) fn alarm_value(&self, metric: &str, i: Option<usize>) -> Option<f64> {
        let m = &self.metrics;
        let at = |s: &MetricSeries| match i {
            Some(i) => s.values.get(i).copied(),
            None => s.last(),
        };
        match metric {
            "CPUUtilization" => at(&m.cpu),
            "MemoryUtilization" => at(&m.memory),
            "RequestCount" => at(&m.requests),
            "HTTPCode_Target_5XX_Count" => at(&m.http_5xx),
            "TargetResponseTime" => at(&m.latency_p99_ms).map(|v| v / 1000.0),
            "UnHealthyHostCount" => Some(self.unhealthy_hosts),
            "RunningTaskCount" => Some(self.svc.running_count as f64),
            _ => None,
        }
        .filter(|v| v.is_finite())
    }

    /// Datapoints for an alarm from the back-filled metric history.
    pub(super) fn alarm_backfill(&self, a: &Alarm) -> VecDeque<Option<f64>> {
        (0..self.metrics.cpu.values.len())
            .map(|i| self.alarm_value(&a.metric_name, Some(i)))
            .collect()
    }
}

impl Engine {
    /// One datapoint per service per minute; `live` = the clock is running
    /// (false while back-filling history at start).
    pub(super) fn sample_metrics(&mut self, live: bool) {
        let end = self.now();
        let load = self.load_at(self.elapsed.max(0));
        for si in 0..self.services.len() {
            let noise: [f64; 4] = [
                self.rng.random::<f64>() - 0.5,
                self.rng.random::<f64>() - 0.5,
                self.rng.random::<f64>() - 0.5,
                self.rng.random::<f64>(),
            ];
            let s = &mut self.services[si];
            let running = s.tasks.iter().filter(|t| t.task.is_running()).count() as f64;
            let desired = s.svc.desired_count.max(0) as f64;
            let rps = s.base_rps * load;
            let push = |series: &mut MetricSeries, v: Option<f64>| {
                series.period_seconds = 60;
                series.end = end;
                series.values.push(v.unwrap_or(f64::NAN));
                if series.values.len() > METRIC_POINTS {
                    series.values.remove(0);
                }
            };
            let (cpu, mem, req, err, p99) = if running > 0.0 {
                let cpu = (rps * s.cpu_per_rps / running + 4.0 + noise[0] * 4.0).clamp(0.5, 100.0);
                let mem = (38.0 + 12.0 * load.min(3.0) + noise[1] * 3.0).clamp(1.0, 100.0);
                let missing = if desired > 0.0 {
                    ((desired - running) / desired).max(0.0)
                } else {
                    0.0
                };
                let failing = if live {
                    s.failures_this_minute as f64
                } else {
                    0.0
                };
                let err_rate = 0.0004
                    + missing * 0.03
                    + if cpu > 90.0 { 0.04 } else { 0.0 }
                    + failing * 0.004
                    + s.unhealthy_hosts * 0.01;
                let requests = rps * 60.0;
                let err = (requests * err_rate * (0.8 + noise[3] * 0.4)).round();
                let p99 = 85.0 * (1.0 + (cpu / 100.0).powi(4) * 12.0) * (1.0 + noise[2] * 0.2)
                    + missing * 400.0;
                (
                    Some(cpu),
                    Some(mem),
                    Some(requests.round()),
                    Some(err),
                    Some(p99),
                )
            } else {
                (
                    None,
                    None,
                    Some(0.0),
                    Some(if desired > 0.0 {
                        (rps * 60.0).round()
                    } else {
                        0.0
                    }),
                    None,
                )
            };
            let has_lb = s.target_group.is_some();
            push(&mut s.metrics.cpu, cpu);
            push(&mut s.metrics.memory, mem);
            push(&mut s.metrics.requests, if has_lb { req } else { None });
            push(&mut s.metrics.http_5xx, if has_lb { err } else { None });
            push(
                &mut s.metrics.latency_p99_ms,
                if has_lb { p99 } else { None },
            );
            s.failures_this_minute = 0;
        }
        if !live {
            return;
        }
        // Alarm datapoints from the same samples.
        for a in &mut self.alarms {
            let v = self.services[a.service].alarm_value(&a.alarm.metric_name, None);
            a.points.push_back(v);
            while a.points.len() > 60 {
                a.points.pop_front();
            }
        }
    }

    pub(super) fn evaluate_alarms(&mut self) {
        let now = self.now();
        for a in &mut self.alarms {
            let n = a.alarm.evaluation_periods.max(1) as usize;
            let m = a.alarm.datapoints_to_alarm.clamp(1, n as i32) as usize;
            let window: Vec<Option<f64>> = a.points.iter().rev().take(n).copied().collect();
            let present: Vec<f64> = window.iter().flatten().copied().collect();
            let breaching: Vec<f64> = present
                .iter()
                .copied()
                .filter(|v| breaches(&a.alarm, *v))
                .collect();
            let next = if present.is_empty() {
                AlarmState::InsufficientData
            } else if breaching.len() >= m {
                AlarmState::Alarm
            } else {
                AlarmState::Ok
            };
            if next == a.alarm.state {
                continue;
            }
            let old = a.alarm.state;
            let op = match a.alarm.comparison_operator.as_str() {
                "GreaterThanThreshold" => "greater than",
                "GreaterThanOrEqualToThreshold" => "greater than or equal to",
                "LessThanThreshold" => "less than",
                _ => "less than or equal to",
            };
            let pts = present
                .iter()
                .take(5)
                .map(|v| format!("{v:.1} ({})", fmt_cw_time(now)))
                .collect::<Vec<_>>()
                .join(", ");
            let reason = match next {
                AlarmState::Alarm => format!(
                    "Threshold Crossed: {} out of the last {n} datapoints [{pts}] were {op} the threshold ({:.1}) (minimum {m} datapoints for OK -> ALARM transition).",
                    breaching.len(),
                    a.alarm.threshold
                ),
                AlarmState::Ok => format!(
                    "Threshold Crossed: {} datapoints [{pts}] were not {op} the threshold ({:.1}) (minimum 1 datapoint for ALARM -> OK transition).",
                    present.len() - breaching.len(),
                    a.alarm.threshold
                ),
                AlarmState::InsufficientData => {
                    "Insufficient Data: no datapoints were received for the last evaluation periods.".into()
                }
            };
            a.alarm.history.insert(
                0,
                AlarmHistoryItem {
                    timestamp: now,
                    old_state: old,
                    new_state: next,
                    summary: format!("Alarm updated from {} to {}", old.as_str(), next.as_str()),
                    reason: reason.clone(),
                },
            );
            a.alarm.history.truncate(MAX_HISTORY);
            a.alarm.state = next;
            a.alarm.state_reason = reason;
            a.alarm.state_updated_at = now;
        }
    }
}

pub(super) fn breaches(a: &Alarm, v: f64) -> bool {
    match a.comparison_operator.as_str() {
        "GreaterThanThreshold" => v > a.threshold,
        "GreaterThanOrEqualToThreshold" => v >= a.threshold,
        "LessThanThreshold" => v < a.threshold,
        _ => v <= a.threshold,
    }
}

/// `23/11/26 10:01:00`, CloudWatch's datapoint format in state reasons.
pub(super) fn fmt_cw_time(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    // 2026-11-23T10:01:00Z
    format!("{}/{}/{} {}", &s[8..10], &s[5..7], &s[2..4], &s[11..19])
}
