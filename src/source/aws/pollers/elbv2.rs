//! ELBv2: target groups and their targets' health per AZ. Fills
//! `Parts::target_groups`.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::Poller;
use crate::model::{DataKind, FleetSnapshot};
use crate::source::aws::{AwsSource, Intervals, Parts, elbv2, now_ms, record};

pub(super) struct Elbv2;

impl Poller for Elbv2 {
    fn kind(&self) -> DataKind {
        DataKind::Elbv2
    }

    fn every(&self, iv: &Intervals) -> Duration {
        iv.elbv2
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
        into.target_groups = from.target_groups.take();
    }
}

async fn read(src: &AwsSource, base: &FleetSnapshot, part: &mut Parts) {
    let now = now_ms();
    let r = elbv2::fetch(src, &base.services).await;
    let res = r.as_ref().map(|_| ()).map_err(Clone::clone);
    if let Ok(mut tgs) = r {
        for t in tgs.iter_mut() {
            src.place(&mut t.account, &mut t.region);
        }
        part.target_groups = Some(Arc::new(tgs));
    }
    record(part, DataKind::Elbv2, now, res);
}
