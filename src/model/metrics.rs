//! CloudWatch metric series of a service, as the panes and checks read them.

use serde::{Deserialize, Serialize};

use super::EpochMs;

/// One metric's datapoints at a fixed period, oldest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MetricSeries {
    pub period_seconds: i32,
    /// Timestamp of the last datapoint.
    pub end: EpochMs,
    pub values: Vec<f64>,
}

impl MetricSeries {
    /// Equal, with NaN gaps equal to themselves (`==` says a series with a
    /// gap differs from itself).
    pub fn same(&self, other: &MetricSeries) -> bool {
        self.end == other.end
            && self.period_seconds == other.period_seconds
            && self.values.len() == other.values.len()
            && self
                .values
                .iter()
                .zip(&other.values)
                .all(|(p, q)| p.to_bits() == q.to_bits())
    }

    pub fn last(&self) -> Option<f64> {
        self.values.last().copied()
    }
}

impl ServiceMetrics {
    /// Equal, NaN gaps included (see [`MetricSeries::same`]).
    pub fn same(&self, o: &ServiceMetrics) -> bool {
        self.cpu.same(&o.cpu)
            && self.memory.same(&o.memory)
            && self.requests.same(&o.requests)
            && self.http_5xx.same(&o.http_5xx)
            && self.latency_p99_ms.same(&o.latency_p99_ms)
    }
}

/// The metrics the console draws as sparklines for one service.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ServiceMetrics {
    /// AWS/ECS CPUUtilization, percent.
    pub cpu: MetricSeries,
    /// AWS/ECS MemoryUtilization, percent.
    pub memory: MetricSeries,
    /// AWS/ApplicationELB RequestCount per period.
    pub requests: MetricSeries,
    /// AWS/ApplicationELB HTTPCode_Target_5XX_Count per period.
    pub http_5xx: MetricSeries,
    /// AWS/ApplicationELB TargetResponseTime p99, milliseconds.
    pub latency_p99_ms: MetricSeries,
}
