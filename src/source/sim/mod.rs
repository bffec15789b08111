//! Deterministic in-process ECS simulator: seeded RNG and its own clock
//! (manual in tests, scaled real time in the console, instant for
//! `status --at`). The same scenarios drive `--demo`, the screen snapshots
//! and GameDay rehearsals.

mod apply;
mod engine;
mod logs;
pub mod scenario;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::model::{EpochMs, FleetSnapshot, LogLine, ScalableTargetId, ServiceId};
use crate::source::{Control, SourceHandle, UPDATE_CHANNEL_BOUND, Update};
pub use apply::apply_to_sim;
pub use engine::breaker_threshold;
use engine::{Engine, TICK_MS};
use scenario::Scenario;

/// The simulator. Time advances only through [`Simulator::step`] /
/// [`Simulator::run_until`], in fixed one-second ticks, so results don't
/// depend on how the caller chunks time.
pub struct Simulator {
    engine: Engine,
    /// Simulated ms not yet turned into a tick.
    pending_ms: i64,
}

impl Simulator {
    /// A simulator at the scenario's start; `seed` overrides the scenario's.
    pub fn new(scenario: Scenario, seed: Option<u64>) -> Simulator {
        Simulator {
            engine: Engine::new(&scenario, seed),
            pending_ms: 0,
        }
    }

    /// The simulated clock, epoch ms.
    pub fn now(&self) -> EpochMs {
        self.engine.now()
    }

    /// Simulated ms since the scenario started.
    pub fn elapsed_ms(&self) -> i64 {
        self.engine.elapsed
    }

    /// Advance the clock by `dt_ms` (whole ticks run; the remainder carries).
    pub fn step(&mut self, dt_ms: i64) {
        self.pending_ms += dt_ms.max(0);
        while self.pending_ms >= TICK_MS {
            self.pending_ms -= TICK_MS;
            self.engine.tick();
        }
    }

    /// Run until `elapsed_ms` since the start (no-op if already past it).
    pub fn run_until(&mut self, elapsed_ms: i64) {
        let target = elapsed_ms - self.engine.elapsed - self.pending_ms;
        if target > 0 {
            self.step(target);
        }
    }

    pub fn snapshot(&self) -> FleetSnapshot {
        self.engine.snapshot()
    }

    /// Log lines produced since the last call, oldest first.
    pub fn take_logs(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.engine.logs)
    }

    /// Shown in the status line.
    pub fn set_speed_label(&mut self, speed: f64) {
        self.engine.speed = Some(speed);
    }

    // ---- control API (what runbook actions call) ----

    /// Tests: the id of the first service `cluster/name`.
    #[cfg(test)]
    pub(crate) fn id_of(&self, key: &str) -> ServiceId {
        let (c, n) = key.split_once('/').expect("cluster/name");
        self.engine
            .services
            .iter()
            .find(|s| s.svc.cluster == c && s.svc.name == n)
            .map(|s| s.svc.id())
            .expect(key)
    }

    /// The engine's index of the service with exactly this identity.
    fn index_of_service(&self, id: &ServiceId) -> Result<usize, String> {
        self.engine
            .index_of_id(id)
            .ok_or_else(|| format!("no service {}", id.qualified()))
    }

    /// UpdateService desiredCount. Returns the old count.
    pub fn set_desired_count(&mut self, id: &ServiceId, n: i32) -> Result<i32, String> {
        let si = self.index_of_service(id)?;
        self.engine.set_desired_at(si, n)
    }

    /// RegisterScalableTarget min/max of an ECS service's target. Returns
    /// the old (min, max).
    pub fn set_scalable_target(
        &mut self,
        target: &ScalableTargetId,
        min: i32,
        max: i32,
    ) -> Result<(i32, i32), String> {
        let si = target
            .service_id()
            .and_then(|id| self.engine.index_of_id(&id))
            .ok_or_else(|| format!("no scalable target {target}"))?;
        self.engine
            .set_scalable_target_at(si, &target.resource_id, min, max)
    }

    /// StopTask.
    pub fn stop_task(&mut self, id: &ServiceId, task_id: &str, reason: &str) -> Result<(), String> {
        let si = self.index_of_service(id)?;
        self.engine
            .stop_task_by_id(si, task_id, reason, "UserInitiated")
    }

    /// Impair an AZ (for `duration_ms`, or until released).
    pub fn impair_az(&mut self, az: &str, duration_ms: Option<i64>) {
        self.engine.impair_az(az, duration_ms);
    }

    pub fn release_az(&mut self, az: &str) {
        self.engine.release_az(az);
    }

    /// UpdateService taskDefinition (`family:revision`): a rolling deployment.
    /// Returns the new deployment id.
    pub fn deploy(&mut self, id: &ServiceId, family_revision: &str) -> Result<String, String> {
        let si = self.index_of_service(id)?;
        self.engine.deploy_at(si, family_revision)
    }
}

/// The simulator can do everything the console asks of a source but
/// switch AWS profiles and regions (`:ctx`): it is one simulated fleet.
pub const CAPABILITIES: crate::source::Capabilities = crate::source::Capabilities {
    pause: true,
    speed: true,
    live_tail: true,
    writes: true,
    contexts: false,
};

/// Real-time step of the console's simulation loop.
const REAL_STEP: Duration = Duration::from_millis(100);

/// Run the simulator as a source: every 100 ms of real time it advances by
/// 100 ms × speed, publishes each new simulated second's snapshot on the
/// watch channel and as an `Update`, and sends the log lines.
pub fn spawn(mut sim: Simulator, speed: f64) -> SourceHandle {
    sim.set_speed_label(speed);
    let (tx, updates) = mpsc::channel(UPDATE_CHANNEL_BOUND);
    let first = Arc::new(sim.snapshot());
    let (snap_tx, snapshots) = watch::channel(first);
    let (control, mut control_rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut speed = speed;
        let mut paused = false;
        let mut interval = tokio::time::interval(REAL_STEP);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut carry = 0.0f64;
        loop {
            tokio::select! {
                c = control_rx.recv() => match c {
                    Some(Control::SetSpeed(x)) => {
                        speed = x;
                        sim.set_speed_label(x);
                    }
                    Some(Control::Pause(p)) => paused = p,
                    Some(Control::Apply(id, call)) => {
                        let res = apply_to_sim(&mut sim, &call).map(|mut o| {
                            if call.mutates() {
                                o.request_ids = vec![format!("sim-{id:08x}")];
                            }
                            o
                        });
                        if tx.send(Update::CallResult(id, res)).await.is_err() {
                            break;
                        }
                        // The runner sees the change at once.
                        let snap = Arc::new(sim.snapshot());
                        let _ = snap_tx.send(snap.clone());
                        if tx.send(Update::Snapshot(snap)).await.is_err() {
                            break;
                        }
                    }
                    Some(Control::FollowLogs(_)) => {}
                    Some(Control::Shutdown) | None => break,
                },
                _ = interval.tick() => {
                    if paused {
                        continue;
                    }
                    carry += REAL_STEP.as_millis() as f64 * speed;
                    let dt = carry.floor() as i64;
                    carry -= dt as f64;
                    let before = sim.elapsed_ms() / 1000;
                    sim.step(dt);
                    let logs = sim.take_logs();
                    if !logs.is_empty() && tx.send(Update::Logs(logs)).await.is_err() {
                        break;
                    }
                    if sim.elapsed_ms() / 1000 != before {
                        let snap = Arc::new(sim.snapshot());
                        let _ = snap_tx.send(snap.clone());
                        if tx.send(Update::Snapshot(snap)).await.is_err() {
                            break;
                        }
                    }
                }
            }
        }
    });
    SourceHandle {
        updates,
        snapshots,
        control,
        capabilities: CAPABILITIES,
        heartbeat: std::time::Duration::from_secs(1),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod twins_tests;
