//! CloudWatch Logs groups named by the services' awslogs configuration
//! (retention, encryption). Fills `Parts::log_groups`; freshness `logs`.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;

use super::Poller;
use crate::model::{DataKind, FleetSnapshot};
use crate::source::aws::{AwsSource, Intervals, Parts, logs, now_ms, record};

pub(super) struct LogGroups;

impl Poller for LogGroups {
    fn kind(&self) -> DataKind {
        DataKind::Logs
    }

    fn every(&self, iv: &Intervals) -> Duration {
        iv.log_groups
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
        into.log_groups = from.log_groups.take();
    }
}

async fn read(src: &AwsSource, base: &FleetSnapshot, part: &mut Parts) {
    let now = now_ms();
    let r = logs::fetch_groups(src, &logs::group_names(base)).await;
    let res = r.as_ref().map(|_| ()).map_err(Clone::clone);
    if let Ok(mut g) = r {
        for l in g.iter_mut() {
            src.place(&mut l.account, &mut l.region);
        }
        part.log_groups = Some(Arc::new(g));
    }
    record(part, DataKind::Logs, now, res);
}
