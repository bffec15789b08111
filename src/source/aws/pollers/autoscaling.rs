//! Application Auto Scaling: scalable targets, policies and activities. Fills
//! `Parts::autoscaling`; read again right after a runbook action.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::Poller;
use crate::model::{DataKind, FleetSnapshot};
use crate::source::aws::{AwsSource, Intervals, Parts, autoscaling, record_partial};

pub(super) struct Autoscaling;

impl Poller for Autoscaling {
    fn kind(&self) -> DataKind {
        DataKind::Autoscaling
    }

    fn every(&self, iv: &Intervals) -> Duration {
        iv.autoscaling
    }

    fn after_action(&self) -> bool {
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
        into.autoscaling = from.autoscaling.take();
    }
}

async fn read(src: &AwsSource, _base: &FleetSnapshot, part: &mut Parts) {
    let mut tmp = src.empty_snapshot();
    let now = tmp.at;
    let r = autoscaling::fetch(src, &mut tmp).await;
    let (account, region) = (src.account(), &src.region);
    for t in Arc::make_mut(&mut tmp.scalable_targets) {
        (t.account, t.region) = (account.clone(), region.clone());
    }
    for a in Arc::make_mut(&mut tmp.scaling_activities) {
        (a.account, a.region) = (account.clone(), region.clone());
    }
    if r.is_ok() {
        part.autoscaling = Some((tmp.scalable_targets, tmp.scaling_activities));
    }
    record_partial(part, DataKind::Autoscaling, now, r);
}
