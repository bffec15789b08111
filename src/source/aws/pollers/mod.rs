//! The console's pollers. A poller is one file: its kind, interval, the
//! calls it makes and the part of the snapshot it fills, registered in
//! [`POLLERS`]. ECS ([`ecs`]) is the base the others hang off; the log tail
//! ([`tail`]) follows what the operator looks at.
//!
//! Adding a poller: one file implementing [`Poller`], one line in [`POLLERS`].

mod alarms;
mod autoscaling;
mod ecs;
mod elbv2;
mod log_groups;
mod metrics;
mod security;
mod tail;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{mpsc, watch};

use super::{
    AwsFleet, AwsSource, CAPABILITIES, Deadline, Intervals, Parts, actions, jitter, merge, now_ms,
    record, within,
};
use crate::model::{DataKind, FleetSnapshot, FreshKey, ServiceId};
use crate::source::{Control, SourceHandle, UPDATE_CHANNEL_BOUND, Update};

/// One resource kind read at its own interval after the ECS base.
pub(crate) trait Poller: Send + Sync {
    /// The kind it reads: its freshness key in each place.
    fn kind(&self) -> DataKind;
    /// How often the console reads it (with jitter).
    fn every(&self, iv: &Intervals) -> Duration;
    /// Read again right after a runbook action.
    fn after_action(&self) -> bool {
        false
    }
    /// Reads what another poller filled: a one-shot read runs it after the
    /// others.
    fn second_round(&self) -> bool {
        false
    }
    /// Its calls: read into `part` (a copy of this place's latest parts).
    fn read<'a>(
        &'a self,
        src: &'a AwsSource,
        base: &'a FleetSnapshot,
        part: &'a mut Parts,
    ) -> BoxFuture<'a, ()>;
    /// Move the part of the snapshot it fills from `from` to `into`.
    fn fill(&self, from: &mut Parts, into: &mut Parts);
}

/// Every poller after ECS, in the order a one-shot read starts them.
pub(crate) static POLLERS: &[&dyn Poller] = &[
    &autoscaling::Autoscaling,
    &elbv2::Elbv2,
    &alarms::Alarms,
    &log_groups::LogGroups,
    &metrics::Metrics,
    &security::Ecr,
    &security::GuardDuty,
];

/// Run one poller, unless this place could not be set up (its AWS config
/// file unreadable): then the kind fails with that reason and no call is
/// made.
async fn read_kind(p: &dyn Poller, src: &AwsSource, base: &FleetSnapshot, part: &mut Parts) {
    match &src.setup_error {
        Some(e) => record(part, p.kind(), now_ms(), Err(e.clone())),
        None => p.read(src, base, part).await,
    }
}

pub(super) struct Shared {
    fleet: AwsFleet,
    /// Per region (same order as `fleet.sources`).
    parts: Vec<std::sync::Mutex<Parts>>,
    /// A part changed: publish a new snapshot.
    changed: tokio::sync::Notify,
    /// Per region: read ECS now (after a runbook action).
    refresh_now: Vec<tokio::sync::Notify>,
}

/// Start the console's pollers: one task per resource kind and region, a
/// publisher that merges the parts into snapshots, a log tailer, and the
/// control loop (runbook actions, log focus, shutdown).
pub fn spawn(fleet: AwsFleet, iv: Intervals) -> SourceHandle {
    let (tx, updates) = mpsc::channel(UPDATE_CHANNEL_BOUND);
    let (snap_tx, snapshots) = watch::channel(Arc::new(FleetSnapshot::default()));
    let (control, mut control_rx) = mpsc::channel(16);
    let n = fleet.sources.len();
    let shared = Arc::new(Shared {
        fleet,
        parts: (0..n).map(|_| Default::default()).collect(),
        changed: tokio::sync::Notify::new(),
        refresh_now: (0..n).map(|_| tokio::sync::Notify::new()).collect(),
    });
    let (follow_tx, follow_rx) = watch::channel::<Option<Option<ServiceId>>>(None);
    let mut tasks = tokio::task::JoinSet::new();
    for r in 0..n {
        let (base_tx, base_rx) = watch::channel::<Option<Arc<FleetSnapshot>>>(None);
        // ECS (+ subnets, roles): the base every other kind hangs off.
        tasks.spawn(ecs::poll_ecs(shared.clone(), r, base_tx, iv.ecs));
        for &poller in POLLERS {
            let every = poller.every(&iv);
            tasks.spawn(poll_kind(shared.clone(), r, poller, every, base_rx.clone()));
        }
    }
    // Publisher: merge the regions' parts into one snapshot.
    tasks.spawn(publish(shared.clone(), tx.clone(), snap_tx));
    // Log tailer.
    {
        let sh = shared.clone();
        let tx = tx.clone();
        let snaps = snapshots.clone();
        tasks.spawn(tail::tail_logs(sh, tx, snaps, follow_rx, iv.log_poll));
    }
    tokio::spawn(async move {
        while let Some(c) = control_rx.recv().await {
            match c {
                Control::Shutdown => break,
                Control::FollowLogs(scope) => {
                    let _ = follow_tx.send(Some(scope));
                }
                Control::Apply(id, call) => {
                    // A runbook action; the reads right after show its effect.
                    let (account, region) = call.target().place();
                    let i = shared.fleet.source_for(account, region).unwrap_or(0);
                    let res = actions::perform_in(&shared.fleet, i, &call).await;
                    shared.refresh_now[i].notify_waiters();
                    if tx.send(Update::CallResult(id, res)).await.is_err() {
                        break;
                    }
                }
                Control::SetSpeed(_) | Control::Pause(_) => {}
            }
        }
        tasks.shutdown().await;
    });
    SourceHandle {
        updates,
        snapshots,
        control,
        capabilities: CAPABILITIES,
        // ECS is the fastest poller (+10% jitter, plus the refresh itself).
        heartbeat: iv.ecs.mul_f64(1.1) + Duration::from_secs(2),
    }
}

/// One kind of one region, read after the first ECS reading, at its own
/// interval (auto scaling also right after a runbook action).
async fn poll_kind(
    sh: Arc<Shared>,
    r: usize,
    poller: &'static dyn Poller,
    every: Duration,
    mut base_rx: watch::Receiver<Option<Arc<FleetSnapshot>>>,
) {
    loop {
        // Wait for the first ECS reading.
        let base = loop {
            if let Some(b) = base_rx.borrow_and_update().clone() {
                break b;
            }
            if base_rx.changed().await.is_err() {
                return;
            }
        };
        let src = &sh.fleet.sources[r];
        // Work on a copy of this region's parts (the lock is not
        // held across a call); write back only this kind.
        let mut part = sh.parts[r]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        read_kind(poller, src, &base, &mut part).await;
        {
            let mut p = sh.parts[r].lock().unwrap_or_else(|e| e.into_inner());
            poller.fill(&mut part, &mut p);
            let key = poller.kind();
            if let Some(f) = part.freshness.remove(&key) {
                p.freshness.insert(key, f);
            }
        }
        sh.changed.notify_one();
        tokio::select! {
            _ = tokio::time::sleep(jitter(every)) => {}
            _ = sh.refresh_now[r].notified(), if poller.after_action() => {}
        }
    }
}

/// Merge the regions' parts into one snapshot whenever a poller changed
/// one; a warning once per new error.
async fn publish(
    sh: Arc<Shared>,
    tx: mpsc::Sender<Update>,
    snap_tx: watch::Sender<Arc<FleetSnapshot>>,
) {
    let mut previous: Option<Arc<FleetSnapshot>> = None;
    let mut warned: BTreeMap<FreshKey, String> = BTreeMap::new();
    loop {
        sh.changed.notified().await;
        // Let pollers finishing together make one snapshot.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let snaps: Vec<FleetSnapshot> = sh
            .fleet
            .sources
            .iter()
            .zip(&sh.parts)
            .map(|(src, p)| src.assemble(&p.lock().unwrap_or_else(|e| e.into_inner())))
            .collect();
        let mut fresh = merge(snaps);
        fresh.at = now_ms();
        if let Some(prev) = &previous {
            fresh.share_unchanged(prev);
        }
        let snap = Arc::new(fresh);
        previous = Some(snap.clone());
        // A warning once per new error, not on every snapshot.
        for (k, f) in &snap.freshness {
            match &f.error {
                Some(e) if warned.get(k) != Some(e) => {
                    warned.insert(k.clone(), e.clone());
                    if tx.send(Update::Warning(e.clone())).await.is_err() {
                        return;
                    }
                }
                Some(_) => {}
                None => {
                    warned.remove(k);
                }
            }
        }
        let _ = snap_tx.send(snap.clone());
        if tx.send(Update::Snapshot(snap)).await.is_err() {
            return;
        }
    }
}

/// Every poller once after the ECS reading `base` (one-shot commands): the
/// first round concurrently, then those that read what it filled. A poller
/// that has not answered by the deadline is recorded as failed with the time
/// it was given.
pub(super) async fn read_once(
    src: &AwsSource,
    base: &FleetSnapshot,
    deadline: Option<Deadline>,
) -> Parts {
    let mut parts = Parts::default();
    for second in [false, true] {
        let round: Vec<&dyn Poller> = POLLERS
            .iter()
            .copied()
            .filter(|p| p.second_round() == second)
            .collect();
        let mut reads: Vec<Parts> = round.iter().map(|_| parts.clone()).collect();
        let done = futures::future::join_all(
            round
                .iter()
                .zip(reads.iter_mut())
                .map(|(p, part)| within(deadline, read_kind(*p, src, base, part))),
        )
        .await;
        let now = now_ms();
        for ((p, mut part), done) in round.iter().zip(reads).zip(done) {
            let kind = p.kind();
            if done.is_none()
                && let Some(dl) = deadline
            {
                record(&mut part, kind, now, Err(dl.missed(kind.as_str())));
            }
            p.fill(&mut part, &mut parts);
            if let Some(f) = part.freshness.remove(&kind) {
                parts.freshness.insert(kind, f);
            }
        }
    }
    parts
}
