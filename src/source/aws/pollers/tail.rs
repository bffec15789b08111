//! The log tail of what the console shows: StartLiveTail, or
//! FilterLogEvents polling when live tail is not available.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::Shared;
use crate::model::FleetSnapshot;
use crate::source::Update;
use crate::source::aws::{jitter, logs};

/// Follow the logs the console shows: live tail against AWS, polling when
/// live tail is not available. Re-targets when the operator moves (after a
/// short pause, so scrolling through rows does not start a tail per row).
pub(super) async fn tail_logs(
    sh: Arc<Shared>,
    tx: mpsc::Sender<Update>,
    mut snaps: watch::Receiver<Arc<FleetSnapshot>>,
    mut follow: watch::Receiver<Option<Option<String>>>,
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
        let targets = logs::follow_targets(&snap, scope.as_deref());
        if targets.is_empty() {
            // Not known yet (first snapshot, task definitions): wait for either.
            tokio::select! {
                r = follow.changed() => if r.is_err() { return },
                r = snaps.changed() => if r.is_err() { return },
            }
            continue;
        }
        let region_of = |key: &str| {
            snap.services
                .iter()
                .find(|s| s.key() == key)
                .map(|s| s.region.clone())
        };
        let source_for = |key: &str| {
            let r = region_of(key);
            sh.fleet
                .sources
                .iter()
                .find(|s| r.as_deref().is_none_or(|r| r.is_empty() || s.region == r))
                .unwrap_or(&sh.fleet.sources[0])
        };
        let one_region = targets.iter().all(|t| {
            std::ptr::eq(
                source_for(&t.service_key),
                source_for(&targets[0].service_key),
            )
        });
        if !custom_endpoint && live_failed.is_none() && one_region {
            let src = source_for(&targets[0].service_key);
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
                let src = source_for(&t.target.service_key);
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
