//! The simulator's state and its one-second tick: task lifecycles, the
//! service scheduler (rolling deployments, circuit breaker, AZ placement and
//! rebalancing), ALB target health, per-minute metrics, alarms and target
//! tracking, and log traffic.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::logs;
use super::scenario::{Behaviour, EventAction, MAX_TASKS_PER_SERVICE, Scenario, TimedEvent};
use crate::model::*;

pub const TICK_MS: i64 = 1_000;
const MINUTE_MS: i64 = 60_000;
const METRIC_POINTS: usize = 60;
const MAX_EVENTS: usize = 100;
const MAX_ACTIVITIES: usize = 50;
const MAX_HISTORY: usize = 50;
/// Stopped tasks stay visible this long (ECS keeps them about an hour).
const STOPPED_RETENTION_MS: i64 = 3_600_000;
const MAX_STOPPED_PER_SERVICE: usize = 50;

#[derive(Debug, Clone)]
pub(crate) struct SimTask {
    pub task: Task,
    pub deployment: String,
    /// Simulated ms when the current lifecycle phase ends.
    pub phase_until: i64,
    /// When the task counts as healthy (container and target checks).
    pub healthy_at: Option<i64>,
    /// Failure planned for this task (crash time and how).
    pub fail_at: Option<(i64, Behaviour)>,
    /// Why it is stopping (set when it leaves RUNNING).
    pub stop: Option<(String, String, Option<i32>)>,
    pub target_state: Option<TargetState>,
    pub target_since: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct SimService {
    pub svc: Service,
    pub tasks: Vec<SimTask>,
    pub behaviour_by_td: BTreeMap<String, Behaviour>,
    pub base_rps: f64,
    pub cpu_per_rps: f64,
    pub az_rebalancing: bool,
    pub target_group: Option<usize>,
    pub last_completed_td: String,
    pub health_check: bool,
    pub start_period_ms: i64,
    pub log_group: Option<String>,
    pub container: String,
    pub metrics: ServiceMetrics,
    pub steady_reported: bool,
    pub last_placement_event: i64,
    pub last_rebalance: i64,
    /// The extra task started to rebalance AZs, until it is healthy.
    pub rebalance_task: Option<String>,
    pub next_ip: u32,
    /// Per-minute counts for the current minute.
    pub failures_this_minute: u32,
    pub unhealthy_hosts: f64,
    pub autoscaling: Option<usize>,
    pub high_streak: u32,
    pub low_streak: u32,
    pub last_scale_out: i64,
    pub last_scale_in: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct SimAlarm {
    pub alarm: Alarm,
    pub service: usize,
    /// Datapoints, oldest first (None = missing).
    pub points: VecDeque<Option<f64>>,
}

pub struct Engine {
    pub(crate) rng: ChaCha8Rng,
    pub(crate) scenario_name: String,
    pub(crate) region: String,
    pub(crate) account: String,
    pub(crate) seed: u64,
    pub(crate) start: i64,
    pub(crate) elapsed: i64,
    pub(crate) azs: Vec<String>,
    pub(crate) impaired: BTreeMap<String, Option<i64>>,
    /// AZs whose network is cut for one service (`{az}|{service}`, until):
    /// its tasks there stay RUNNING but fail their ELB health checks, and
    /// ECS, not knowing why, replaces them where placement allows (the AZ
    /// included).
    pub(crate) disrupted: BTreeMap<String, Option<i64>>,
    /// The last snapshot: an unchanged service or collection is handed out
    /// as the same `Arc`, so consumers compare pointers, not contents.
    published: std::sync::Mutex<Option<FleetSnapshot>>,
    pub(crate) curve: Vec<(i64, f64)>,
    pub(crate) load_factor: f64,
    pub(crate) events: VecDeque<TimedEvent>,
    pub(crate) clusters: Vec<Cluster>,
    pub(crate) task_definitions: BTreeMap<String, Arc<TaskDefinition>>,
    pub(crate) services: Vec<SimService>,
    pub(crate) target_groups: Vec<TargetGroup>,
    pub(crate) scalable_targets: Vec<ScalableTarget>,
    pub(crate) activities: VecDeque<ScalingActivity>,
    pub(crate) alarms: Vec<SimAlarm>,
    pub(crate) log_groups: Vec<LogGroup>,
    pub(crate) ecr_repositories: Vec<EcrRepository>,
    pub(crate) guardduty: Vec<GuardDuty>,
    pub(crate) logs: Vec<LogLine>,
    pub(crate) next_log_id: u64,
    pub(crate) next_event_id: u64,
    pub(crate) speed: Option<f64>,
    /// Route 53 names (DR scenarios) and the changes made to them (id, in sync at).
    pub(crate) dns: Vec<dr::SimName>,
    pub(crate) dns_changes: Vec<(String, i64)>,
    /// Replicated databases (DR scenarios).
    pub(crate) dbs: Vec<dr::SimDb>,
}

impl Engine {
    pub fn new(sc: &Scenario, seed: Option<u64>) -> Engine {
        let seed = seed.unwrap_or(sc.scenario.seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let region = sc.scenario.region.clone();
        let account = sc.scenario.account.clone();
        let start = sc.start_ms();
        let task_definitions: BTreeMap<String, Arc<TaskDefinition>> = sc
            .task_definitions
            .iter()
            .map(|t| {
                let td = build_task_definition(&region, &account, t, start);
                (td.arn.clone(), Arc::new(td))
            })
            .collect();
        let behaviour_by_td: BTreeMap<String, Behaviour> = sc
            .task_definitions
            .iter()
            .map(|t| {
                (
                    td_arn(&region, &account, &format!("{}:{}", t.family, t.revision)),
                    t.behaviour,
                )
            })
            .collect();
        let clusters: Vec<Cluster> = sc
            .clusters
            .iter()
            .map(|c| Cluster {
                name: c.name.clone(),
                arn: format!(
                    "arn:aws:ecs:{}:{}:cluster/{}",
                    c.region.as_deref().unwrap_or(&region),
                    c.account.as_deref().unwrap_or(&account),
                    c.name
                ),
                account: c.account.clone().unwrap_or_else(|| account.clone()),
                region: c.region.clone().unwrap_or_else(|| region.clone()),
                status: "ACTIVE".into(),
                container_insights: c.container_insights.clone(),
                tags: c.tags.clone(),
                default_capacity_provider_strategy: c
                    .default_capacity_providers
                    .iter()
                    .map(|p| CapacityProviderItem {
                        capacity_provider: p.provider.clone(),
                        base: p.base,
                        weight: p.weight,
                    })
                    .collect(),
                capacity_providers: posture::capacity_providers(
                    c,
                    c.account.as_deref().unwrap_or(&account),
                    c.region.as_deref().unwrap_or(&region),
                ),
                capacity_providers_unread: None,
            })
            .collect();
        let mut target_groups = Vec::new();
        let mut scalable_targets = Vec::new();
        let mut services = Vec::new();
        let setup = build::Setup {
            sc,
            account: &account,
            region: &region,
            start,
            task_definitions: &task_definitions,
            behaviour_by_td: &behaviour_by_td,
        };
        for (si, s) in sc.services.iter().enumerate() {
            services.push(setup.service(
                si,
                s,
                &mut rng,
                &mut target_groups,
                &mut scalable_targets,
            ));
        }
        let alarms = build::alarms(sc, &services, start);
        // A scenario's log groups exist in every (account, region) its
        // clusters are in, as a stack deployed to each would create them.
        let places: std::collections::BTreeSet<(String, String)> = clusters
            .iter()
            .map(|c| (c.account.clone(), c.region.clone()))
            .collect();
        let log_groups = places
            .iter()
            .flat_map(|(account, region)| {
                sc.log_groups.iter().map(|l| LogGroup {
                    name: l.name.clone(),
                    account: account.clone(),
                    region: region.clone(),
                    retention_in_days: l.retention_days,
                    kms_key_id: l.kms_key_id.clone(),
                })
            })
            .collect();
        let ecr_repositories =
            posture::ecr_repositories(sc, task_definitions.values().map(|t| &**t));
        let guardduty = posture::guardduty(sc, &places);
        let mut e = Engine {
            rng,
            scenario_name: sc.scenario.name.clone(),
            region,
            account,
            seed,
            start,
            elapsed: 0,
            azs: sc.scenario.azs.clone(),
            impaired: BTreeMap::new(),
            disrupted: BTreeMap::new(),
            published: Default::default(),
            curve: sc.curve(),
            load_factor: 1.0,
            events: sc.timed_events().into(),
            clusters,
            task_definitions,
            services,
            target_groups,
            scalable_targets,
            activities: VecDeque::new(),
            alarms,
            log_groups,
            ecr_repositories,
            guardduty,
            logs: vec![],
            next_log_id: 1,
            next_event_id: 1,
            speed: None,
            dns: vec![],
            dns_changes: vec![],
            dbs: dr::build_dbs(sc),
        };
        e.dns = dr::build_dns(sc, &e);
        e.warm_start();
        e.route_traffic(true);
        e
    }

    pub fn now(&self) -> i64 {
        self.start + self.elapsed
    }

    /// The fleet as it was before the clock started: every service at its
    /// desired count, running and healthy, with an hour of metric history.
    fn warm_start(&mut self) {
        let now = self.now();
        debug_assert_eq!(now, self.start);
        for si in 0..self.services.len() {
            let desired = self.services[si].svc.desired_count;
            let dep = self.services[si].svc.deployments[0].id.clone();
            let td = self.services[si].svc.task_definition.clone();
            let mut load = self.az_load(si);
            for _ in 0..desired {
                let Some(az) = take_least(&mut load) else {
                    break;
                };
                let mut t = self.new_task(si, &dep, &td, &az);
                let age = 3_600_000 + (self.rng.random::<u32>() % 7_200_000) as i64;
                t.task.last_status = "RUNNING".into();
                t.task.created_at = now - age;
                t.task.started_at = Some(now - age + 20_000);
                t.task.health_status = if self.services[si].health_check {
                    "HEALTHY"
                } else {
                    "UNKNOWN"
                }
                .into();
                t.healthy_at = Some(now - age + 30_000);
                t.fail_at = None;
                if t.target_state.is_some() {
                    t.target_state = Some(TargetState::Healthy);
                }
                for c in &mut t.task.containers {
                    c.last_status = "RUNNING".into();
                }
                self.services[si].tasks.push(t);
            }
        }
        self.refresh_counts();
        for _ in 0..METRIC_POINTS {
            self.elapsed -= MINUTE_MS;
        }
        // Backfill an hour of metrics without moving anything else.
        for _ in 0..METRIC_POINTS {
            self.elapsed += MINUTE_MS;
            self.sample_metrics(false);
        }
        for s in &mut self.services {
            s.failures_this_minute = 0;
        }
        // Alarms start in the state the back-filled hour puts them in, with
        // no history (they have been in it since before the clock started).
        for a in &mut self.alarms {
            a.points = self.services[a.service].alarm_backfill(&a.alarm);
        }
        self.evaluate_alarms();
        for a in &mut self.alarms {
            a.alarm.history.clear();
            a.alarm.state_updated_at = now - 3_600_000;
        }
        self.refresh_counts();
    }

    fn load_at(&self, t: i64) -> f64 {
        let c = &self.curve;
        // The first point after `t` (the curve is sorted by time).
        let after = c.partition_point(|p| p.0 <= t);
        let base = match (after < c.len()).then_some(after) {
            None => c.last().map_or(1.0, |p| p.1),
            Some(0) => c[0].1,
            Some(i) => {
                let (t0, v0) = c[i - 1];
                let (t1, v1) = c[i];
                v0 + (v1 - v0) * ((t - t0) as f64 / (t1 - t0).max(1) as f64)
            }
        };
        base * self.load_factor
    }

    fn rand_hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.rng.next_u64()));
        }
        s.truncate(n);
        s
    }

    pub(crate) fn service_event(&mut self, si: usize, message: String) {
        let id = self.next_event_id;
        self.next_event_id += 1;
        let ev = ServiceEvent {
            id: format!("{:08x}-{id:04x}-4000-8000-{:012x}", id, id),
            created_at: self.now(),
            message,
        };
        let events = &mut self.services[si].svc.events;
        events.insert(0, ev);
        events.truncate(MAX_EVENTS);
    }

    // ---- the tick ----

    /// Advance one simulated second.
    pub fn tick(&mut self) {
        self.elapsed += TICK_MS;
        let now = self.now();
        self.run_due_events();
        self.expire_impairments();
        for si in 0..self.services.len() {
            self.advance_tasks(si);
            self.schedule(si);
            self.update_targets(si);
        }
        if self.elapsed % MINUTE_MS == 0 {
            self.sample_metrics(true);
            self.evaluate_alarms();
            self.autoscale();
        }
        self.refresh_counts();
        if !self.dns.is_empty() {
            self.route_traffic(false);
        }
        if !self.dbs.is_empty() {
            self.replicate();
        }
        self.emit_logs();
        self.prune(now);
    }

    fn emit_logs(&mut self) {
        let now = self.now();
        let load = self.load_at(self.elapsed);
        for si in 0..self.services.len() {
            logs::emit(self, si, now, load);
        }
        if self.elapsed % 97_000 == 0 {
            logs::hostile(self, now);
        }
    }

    fn prune(&mut self, now: i64) {
        for s in &mut self.services {
            s.tasks.retain(|t| {
                t.task
                    .stopped_at
                    .is_none_or(|at| now - at < STOPPED_RETENTION_MS)
            });
            let stopped = s.tasks.iter().filter(|t| t.task.is_stopped()).count();
            if stopped > MAX_STOPPED_PER_SERVICE {
                let mut drop = stopped - MAX_STOPPED_PER_SERVICE;
                s.tasks.retain(|t| {
                    if drop > 0 && t.task.is_stopped() {
                        drop -= 1;
                        false
                    } else {
                        true
                    }
                });
            }
        }
    }
}

pub(crate) fn rng_of(e: &mut Engine) -> &mut ChaCha8Rng {
    &mut e.rng
}

mod build;
mod control;
mod deploy;
mod dr;
mod metrics;
mod placement;
pub(crate) mod posture;
mod scaling;
mod snapshot;
mod targets;
mod tasks;

use build::{build_task_definition, td_arn};
pub use deploy::breaker_threshold;
use placement::take_least;
pub(crate) use tasks::is_leaving;
use tasks::{begin_stop, is_healthy};

#[cfg(test)]
mod tests;
