//! CloudWatch metrics (GetMetricData) of the services and their target
//! groups. Fills `Parts::metrics`; reads the target groups the ELBv2 poller
//! filled, so a one-shot read runs it in the second round.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::Poller;
use crate::model::{DataKind, FleetSnapshot};
use crate::source::aws::{AwsSource, Intervals, Parts, cloudwatch, now_ms, record};

pub(super) struct Metrics;

impl Poller for Metrics {
    fn kind(&self) -> DataKind {
        DataKind::Metrics
    }

    fn every(&self, iv: &Intervals) -> Duration {
        iv.metrics
    }

    fn second_round(&self) -> bool {
        true
    }

    fn read<'a>(
        &'a self,
        src: &'a AwsSource,
        base: &'a FleetSnapshot,
        part: &'a mut Parts,
    ) -> BoxFuture<'a, ()> {
        Box::pin(read(src, base, part))
    }

    fn fill(&self, from: &mut Parts, into: &mut Parts) {
        into.metrics = from.metrics.take();
    }
}

async fn read(src: &AwsSource, base: &FleetSnapshot, part: &mut Parts) {
    let now = now_ms();
    let tgs = part.target_groups.clone().unwrap_or_default();
    let r = cloudwatch::fetch_metrics(src, &base.services, &tgs).await;
    let res = r.as_ref().map(|_| ()).map_err(Clone::clone);
    if let Ok(m) = r {
        part.metrics = Some(Arc::new(m));
    }
    record(part, DataKind::Metrics, now, res);
}
