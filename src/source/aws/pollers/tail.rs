//! The log tail of what the console shows: StartLiveTail, or
//! FilterLogEvents polling when live tail is not available.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::Shared;
use crate::model::{FleetSnapshot, ServiceId};
use crate::source::Update;
use crate::source::aws::{AwsSource, jitter, logs};

/// Follow the logs the console shows: live tail against AWS, polling when
/// live tail is not available. Re-targets when the operator moves (after a
/// short pause, so scrolling through rows does not start a tail per row).
pub(super) async fn tail_logs(
    sh: Arc<Shared>,
    tx: mpsc::Sender<Update>,
    mut snaps: watch::Receiver<Arc<FleetSnapshot>>,
    mut follow: watch::Receiver<Option<Option<ServiceId>>>,
    poll_every: Duration,
) {
    let mut next_id: u64 = 0;
    let mut live_failed: Option<String> = None;
    let custom_endpoint = sh
        .fleet
        .sources
        .iter()
        .any(|s| s.opts.endpoint_url.is_some());
    loop {
        // Nothing asked yet: wait.
        let Some(scope) = follow.borrow_and_update().clone() else {
            if follow.changed().await.is_err() {
                return;
            }
            continue;
        };
        let snap = snaps.borrow_and_update().clone();
        let targets = logs::follow_targets(&snap, scope.as_ref());
        // Each service's logs are read with the client of its own account
        // and region, never a twin's elsewhere: a service no source reads
        // is not tailed.
        let targets: Vec<logs::TailTarget> = targets
            .into_iter()
            .filter(|t| sh.source_of(&t.service).is_some())
            .collect();
        if targets.is_empty() {
            // Not known yet (first snapshot, task definitions): wait for either.
            tokio::select! {
                r = follow.changed() => if r.is_err() { return },
                r = snaps.changed() => if r.is_err() { return },
            }
            continue;
        }
        // Live tail: one session, so one place's client.
        let first = sh.source_of(&targets[0].service);
        let one_place = first.filter(|f| {
            targets.iter().all(|t| {
                sh.source_of(&t.service)
                    .is_some_and(|s| std::ptr::eq(s, *f))
            })
        });
        if !custom_endpoint
            && live_failed.is_none()
            && let Some(src) = one_place
        {
            let mut f2 = follow.clone();
            let stop = Box::pin(async move {
                let _ = f2.changed().await;
            });
            match logs::live_tail(src, &targets, &tx, &mut next_id, stop).await {
                Ok(()) => {
                    if tx.is_closed() {
                        return;
                    }
                    // Re-target (follow changed) or the session ended: loop.
                    let _ = follow.has_changed();
                    continue;
                }
                Err(e) => {
                    let line = format!("{e}; tailing with FilterLogEvents polling instead");
                    live_failed = Some(line.clone());
                    if tx.send(Update::Warning(line)).await.is_err() {
                        return;
                    }
                }
            }
        }
        // Polling.
        let mut tails: Vec<logs::PollTail> = targets.into_iter().map(logs::PollTail::new).collect();
        let mut last_error: Option<String> = None;
        loop {
            let mut lines = Vec::new();
            for t in &mut tails {
                let Some(src) = sh.source_of(&t.target.service) else {
                    continue;
                };
                match t.poll(src, &mut next_id).await {
                    Ok(l) => lines.extend(l),
                    Err(e) => {
                        if last_error.as_ref() != Some(&e) {
                            last_error = Some(e.clone());
                            if tx.send(Update::Warning(e)).await.is_err() {
                                return;
                            }
                        }
                    }
                }
            }
            if !lines.is_empty() {
                lines.sort_by_key(|l| (l.timestamp, l.id));
                if tx.send(Update::Logs(lines)).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(jitter(poll_every)) => {}
                r = follow.changed() => {
                    if r.is_err() { return }
                    // Let a burst of moves settle before re-targeting.
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    break;
                }
            }
        }
    }
}

impl Shared {
    /// The source reading `id`'s account (when known) and region.
    fn source_of(&self, id: &ServiceId) -> Option<&AwsSource> {
        let account = Some(&*id.account).filter(|a| !a.is_empty());
        let region = Some(&*id.region).filter(|r| !r.is_empty());
        self.fleet
            .source_for(account, region)
            .map(|i| &self.fleet.sources[i])
    }
}
