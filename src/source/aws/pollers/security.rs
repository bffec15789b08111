//! The review's security posture: ECR repositories of the images (freshness
//! `ecr`) and GuardDuty (freshness `guardduty`), every ten minutes. Fills
//! `Parts::ecr_repositories` and `Parts::guardduty`.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::Poller;
use crate::model::{DataKind, FleetSnapshot};
use crate::source::aws::{AwsSource, Intervals, Parts, now_ms, record, security};

pub(super) struct Ecr;

impl Poller for Ecr {
    fn kind(&self) -> DataKind {
        DataKind::Ecr
    }

    fn every(&self, iv: &Intervals) -> Duration {
        iv.posture
    }

    fn read<'a>(
        &'a self,
        src: &'a AwsSource,
        base: &'a FleetSnapshot,
        part: &'a mut Parts,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let now = now_ms();
            let r = security::fetch_repositories(src, base).await;
            let res = r.as_ref().map(|_| ()).map_err(Clone::clone);
            if let Ok(v) = r {
                part.ecr_repositories = Some(Arc::new(v));
            }
            record(part, DataKind::Ecr, now, res);
        })
    }

    fn fill(&self, from: &mut Parts, into: &mut Parts) {
        into.ecr_repositories = from.ecr_repositories.take();
    }
}

pub(super) struct GuardDuty;

impl Poller for GuardDuty {
    fn kind(&self) -> DataKind {
        DataKind::Guardduty
    }

    fn every(&self, iv: &Intervals) -> Duration {
        iv.posture
    }

    fn read<'a>(
        &'a self,
        src: &'a AwsSource,
        _base: &'a FleetSnapshot,
        part: &'a mut Parts,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let now = now_ms();
            let r = security::fetch_guardduty(src).await;
            let res = r.as_ref().map(|_| ()).map_err(Clone::clone);
            if let Ok(mut g) = r {
                src.place(&mut g.account, &mut g.region);
                part.guardduty = Some(Arc::new(vec![g]));
            }
            record(part, DataKind::Guardduty, now, res);
        })
    }

    fn fill(&self, from: &mut Parts, into: &mut Parts) {
        into.guardduty = from.guardduty.take();
    }
}
