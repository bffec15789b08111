//! CloudWatch alarms and their history. Fills `Parts::alarms`; freshness
//! `cloudwatch` (history not served is a secondary error).

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::Poller;
use crate::model::{DataKind, FleetSnapshot};
use crate::source::aws::{AwsSource, Intervals, Parts, cloudwatch, now_ms, record_partial};

pub(super) struct Alarms;

impl Poller for Alarms {
    fn kind(&self) -> DataKind {
        DataKind::Cloudwatch
    }

    fn every(&self, iv: &Intervals) -> Duration {
        iv.alarms
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
        into.alarms = from.alarms.take();
    }
}

async fn read(src: &AwsSource, base: &FleetSnapshot, part: &mut Parts) {
    let now = now_ms();
    let r =
        cloudwatch::fetch_alarms(src, &base.services)
            .await
            .map(|(mut alarms, history_error)| {
                for a in alarms.iter_mut() {
                    src.place(&mut a.account, &mut a.region);
                }
                part.alarms = Some(Arc::new(alarms));
                history_error
            });
    record_partial(part, DataKind::Cloudwatch, now, r);
}
