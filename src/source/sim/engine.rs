//! The simulator's state and its one-second tick: task lifecycles, the
//! service scheduler (rolling deployments, circuit breaker, AZ placement and
//! rebalancing), ALB target health, per-minute metrics, alarms and target
//! tracking, and log traffic.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::logs;
use super::scenario::{
    Behaviour, EventAction, MAX_TASKS_PER_SERVICE, Scenario, TaskDefSpec, TimedEvent,
};
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

impl SimService {
    /// The value an alarm on this service's `metric` reads from a sample.
    fn alarm_value(&self, metric: &str, i: Option<usize>) -> Option<f64> {
        let m = &self.metrics;
        let at = |s: &MetricSeries| match i {
            Some(i) => s.values.get(i).copied(),
            None => s.last(),
        };
        match metric {
            "CPUUtilization" => at(&m.cpu),
            "MemoryUtilization" => at(&m.memory),
            "RequestCount" => at(&m.requests),
            "HTTPCode_Target_5XX_Count" => at(&m.http_5xx),
            "TargetResponseTime" => at(&m.latency_p99_ms).map(|v| v / 1000.0),
            "UnHealthyHostCount" => Some(self.unhealthy_hosts),
            "RunningTaskCount" => Some(self.svc.running_count as f64),
            _ => None,
        }
        .filter(|v| v.is_finite())
    }

    /// Datapoints for an alarm from the back-filled metric history.
    fn alarm_backfill(&self, a: &Alarm) -> VecDeque<Option<f64>> {
        (0..self.metrics.cpu.values.len())
            .map(|i| self.alarm_value(&a.metric_name, Some(i)))
            .collect()
    }
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
    pub(crate) logs: Vec<LogLine>,
    pub(crate) next_log_id: u64,
    pub(crate) next_event_id: u64,
    pub(crate) speed: Option<f64>,
}

fn td_arn(region: &str, account: &str, family_rev: &str) -> String {
    format!("arn:aws:ecs:{region}:{account}:task-definition/{family_rev}")
}

fn build_task_definition(
    region: &str,
    account: &str,
    t: &TaskDefSpec,
    start: i64,
) -> TaskDefinition {
    let fr = format!("{}:{}", t.family, t.revision);
    let role_arn = |r: &str| format!("arn:aws:iam::{account}:role/{r}");
    TaskDefinition {
        arn: td_arn(region, account, &fr),
        family: t.family.clone(),
        revision: t.revision,
        cpu: t.cpu.clone(),
        memory: t.memory.clone(),
        network_mode: t.network_mode.clone(),
        pid_mode: None,
        requires_compatibilities: vec!["FARGATE".into()],
        cpu_architecture: t.cpu_architecture.clone(),
        operating_system_family: Some(t.operating_system_family.clone()),
        task_role_arn: t.task_role.as_deref().map(role_arn),
        execution_role_arn: t.execution_role.as_deref().map(role_arn),
        task_role: t.task_role.as_deref().map(|r| IamRole {
            arn: role_arn(r),
            policies: t
                .task_role_policies
                .iter()
                .map(|p| RolePolicy {
                    name: p.name.clone(),
                    policy_arn: p.arn.clone(),
                    document: p.document.clone(),
                })
                .collect(),
        }),
        container_definitions: t
            .containers
            .iter()
            .map(|c| ContainerDefinition {
                name: c.name.clone(),
                image: c.image.clone(),
                essential: c.essential,
                cpu: c.cpu,
                memory: c.memory,
                memory_reservation: c.memory_reservation,
                port_mappings: c.port.into_iter().collect(),
                environment: c
                    .environment
                    .iter()
                    .map(|(k, v)| KeyValue {
                        name: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
                secrets: c
                    .secrets
                    .iter()
                    .map(|(k, v)| SecretRef {
                        name: k.clone(),
                        value_from: v.clone(),
                    })
                    .collect(),
                health_check: (c.health_check || c.health_check_start_period.is_some()).then(
                    || HealthCheck {
                        command: vec![
                            "CMD-SHELL".into(),
                            format!(
                                "curl -fsS http://localhost:{}/health || exit 1",
                                c.port.unwrap_or(8080)
                            ),
                        ],
                        interval: 30,
                        timeout: 5,
                        retries: 3,
                        start_period: c.health_check_start_period.or(Some(15)),
                    },
                ),
                log_configuration: c.log_group.as_ref().map(|g| LogConfiguration {
                    log_driver: "awslogs".into(),
                    options: {
                        let mut o = BTreeMap::from([
                            ("awslogs-group".to_string(), g.clone()),
                            ("awslogs-region".to_string(), region.to_string()),
                            ("awslogs-stream-prefix".to_string(), "ecs".to_string()),
                        ]);
                        if let Some(m) = &c.log_mode {
                            o.insert("mode".into(), m.clone());
                        }
                        o
                    },
                }),
                readonly_root_filesystem: c.readonly_root_filesystem,
                user: c.user.clone(),
                privileged: c.privileged,
                capabilities_add: c.capabilities_add.clone(),
                stop_timeout: c.stop_timeout,
            })
            .collect(),
        tags: t.tags.clone(),
        registered_at: start - 86_400_000,
    }
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
            logs: vec![],
            next_log_id: 1,
            next_event_id: 1,
            speed: None,
        };
        e.warm_start();
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

    /// The AZs a task of service `si` can be placed in (its subnets' AZs
    /// that are not impaired, in subnet order) with the tasks not leaving
    /// in each: one pass over the tasks.
    fn az_load(&self, si: usize) -> Vec<(String, usize)> {
        let s = &self.services[si];
        let key = s.svc.id().qualified();
        let mut load: Vec<(String, usize)> = s
            .svc
            .subnets
            .iter()
            .map(|n| n.availability_zone.clone())
            .filter(|az| !Self::az_impaired(&self.impaired, &key, az))
            .map(|az| (az, 0))
            .collect();
        for t in &s.tasks {
            if is_leaving(&t.task) {
                continue;
            }
            if let Some(az) = t.task.availability_zone.as_deref()
                && let Some(e) = load.iter_mut().find(|(a, _)| a == az)
            {
                e.1 += 1;
            }
        }
        load
    }

    /// Where the next task of service `si` goes: the least loaded usable AZ.
    fn pick_az(&mut self, si: usize) -> Option<String> {
        take_least(&mut self.az_load(si))
    }

    fn new_task(&mut self, si: usize, deployment: &str, td: &str, az: &str) -> SimTask {
        let id = self.rand_hex(32);
        let now = self.now();
        let az_index = self.azs.iter().position(|a| a == az).unwrap_or(0);
        let s = &mut self.services[si];
        s.next_ip = s.next_ip.wrapping_add(1);
        let ip = format!(
            "10.{}.{}.{}",
            si % 200,
            16 * az_index + (s.next_ip / 250) as usize % 16,
            s.next_ip % 250 + 4
        );
        let behaviour = s.behaviour_by_td.get(td).copied().unwrap_or_default();
        let region = &s.svc.region;
        let account = &self.account;
        let cluster = s.svc.cluster.clone();
        let image = self
            .task_definitions
            .get(td)
            .and_then(|t| t.container_definitions.first())
            .map(|c| c.image.clone())
            .unwrap_or_default();
        let subnet = s
            .svc
            .subnets
            .iter()
            .find(|n| n.availability_zone == az)
            .map(|n| n.subnet_id.clone());
        let task = Task {
            arn: format!("arn:aws:ecs:{region}:{account}:task/{cluster}/{id}"),
            id,
            cluster,
            group: format!("service:{}", s.svc.name),
            task_definition: td.to_string(),
            last_status: "PROVISIONING".into(),
            desired_status: "RUNNING".into(),
            health_status: "UNKNOWN".into(),
            availability_zone: Some(az.to_string()),
            subnet_id: subnet,
            private_ip: Some(ip),
            launch_type: if s.svc.launch_type.is_empty() {
                "FARGATE".into()
            } else {
                s.svc.launch_type.clone()
            },
            capacity_provider: s
                .svc
                .capacity_provider_strategy
                .first()
                .map(|c| c.capacity_provider.clone()),
            created_at: now,
            started_at: None,
            stopping_at: None,
            stopped_at: None,
            stop_code: None,
            stopped_reason: None,
            containers: vec![Container {
                name: s.container.clone(),
                last_status: "PENDING".into(),
                exit_code: None,
                reason: None,
                health_status: "UNKNOWN".into(),
                image,
            }],
            started_by: deployment.to_string(),
        };
        let fail_at = match behaviour {
            Behaviour::Healthy => None,
            Behaviour::FailsToStart => Some((
                now + 8_000 + (self.rng.random::<u32>() % 6_000) as i64,
                behaviour,
            )),
            // Comes up, fails its health checks for a while, then exits.
            Behaviour::Crashes => Some((
                now + 100_000 + (self.rng.random::<u32>() % 30_000) as i64,
                behaviour,
            )),
            Behaviour::Oom => Some((
                now + 120_000 + (self.rng.random::<u32>() % 120_000) as i64,
                behaviour,
            )),
        };
        SimTask {
            task,
            deployment: deployment.to_string(),
            // Fargate capacity + ENI attachment: 20–40 s.
            phase_until: now + 20_000 + (self.rng.random::<u32>() % 20_000) as i64,
            healthy_at: None,
            fail_at,
            stop: None,
            target_state: s.target_group.map(|_| TargetState::Initial),
            target_since: now,
        }
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
        self.emit_logs();
        self.prune(now);
    }

    fn run_due_events(&mut self) {
        while self.events.front().is_some_and(|e| e.at_ms <= self.elapsed) {
            let Some(e) = self.events.pop_front() else {
                break;
            };
            self.apply_action(e.action);
        }
    }

    pub(crate) fn apply_action(&mut self, a: EventAction) {
        match a {
            EventAction::Deploy {
                service,
                task_definition,
            } => {
                let _ = self.deploy(&service, &task_definition);
            }
            EventAction::ImpairAz { az, duration_ms } => self.impair_az(&az, duration_ms),
            EventAction::ReleaseAz { az } => self.release_az(&az),
            EventAction::SetDesired { service, count } => {
                let _ = self.set_desired(&service, count);
            }
            EventAction::StopTask { service, count } => {
                if let Some(si) = self.service_index(&service) {
                    // The running tasks in order; a stopped one leaves the list.
                    let mut running: Vec<usize> = self.services[si]
                        .tasks
                        .iter()
                        .enumerate()
                        .filter(|(_, t)| t.task.is_running())
                        .map(|(i, _)| i)
                        .collect();
                    let now = self.now();
                    for _ in 0..count {
                        if running.is_empty() {
                            break;
                        }
                        let k = self.rng.random::<u32>() as usize % running.len();
                        let i = running.remove(k);
                        let t = &mut self.services[si].tasks[i];
                        begin_stop(
                            t,
                            now,
                            "UserInitiated",
                            "Task stopped by user (GameDay)",
                            Some(0),
                        );
                    }
                }
            }
            EventAction::Load { factor } => self.load_factor = factor,
        }
    }

    /// The first service `cluster/name` (of twins, the first in the scenario).
    pub(crate) fn service_index(&self, key: &str) -> Option<usize> {
        self.services.iter().position(|s| s.svc.key() == key)
    }

    /// The service with this cluster and name in `account` and `region`
    /// (each unset or empty: any).
    pub(crate) fn service_index_at(
        &self,
        account: Option<&str>,
        region: Option<&str>,
        cluster: &str,
        name: &str,
    ) -> Option<usize> {
        let ok = |want: Option<&str>, have: &str| want.is_none_or(|w| w.is_empty() || w == have);
        self.services.iter().position(|s| {
            s.svc.cluster == cluster
                && s.svc.name == name
                && ok(account, &s.svc.account)
                && ok(region, &s.svc.region)
        })
    }

    /// The key of a service's own AZ impairments: its full identity, so a
    /// twin keeps the AZ.
    pub(crate) fn impair_key(&self, si: usize) -> String {
        self.services[si].svc.id().qualified()
    }

    pub fn deploy(&mut self, key: &str, family_rev: &str) -> Result<String, String> {
        let si = self
            .service_index(key)
            .ok_or_else(|| format!("no service {key}"))?;
        self.deploy_at(si, family_rev)
    }

    /// A rolling deployment of `family:revision` (of the service's own
    /// account and region) on service `si`.
    pub fn deploy_at(&mut self, si: usize, family_rev: &str) -> Result<String, String> {
        let svc = &self.services[si].svc;
        let td = td_arn(&svc.region, &svc.account, family_rev);
        let td = if self.task_definitions.contains_key(&td) {
            td
        } else {
            td_arn(&self.region, &self.account, family_rev)
        };
        if !self.task_definitions.contains_key(&td) {
            return Err(format!("no task definition {family_rev}"));
        }
        Ok(self.start_deployment(si, td))
    }

    fn start_deployment(&mut self, si: usize, td: String) -> String {
        let id = format!(
            "ecs-svc/{:019}",
            self.rng.next_u64() % 10_000_000_000_000_000_000
        );
        let now = self.now();
        let s = &mut self.services[si];
        for d in &mut s.svc.deployments {
            if d.status == DeploymentStatus::Primary {
                d.status = DeploymentStatus::Active;
                d.updated_at = now;
            }
        }
        s.svc.deployments.insert(
            0,
            Deployment {
                id: id.clone(),
                status: DeploymentStatus::Primary,
                task_definition: td.clone(),
                desired_count: s.svc.desired_count,
                pending_count: 0,
                running_count: 0,
                failed_tasks: 0,
                rollout_state: Some(RolloutState::InProgress),
                rollout_state_reason: Some("ECS deployment in progress.".into()),
                created_at: now,
                updated_at: now,
            },
        );
        s.svc.task_definition = td;
        s.steady_reported = false;
        id
    }

    pub fn set_desired(&mut self, key: &str, count: i32) -> Result<i32, String> {
        let si = self
            .service_index(key)
            .ok_or_else(|| format!("no service {key}"))?;
        self.set_desired_at(si, count)
    }

    /// UpdateService desiredCount of service `si`; the old count.
    pub fn set_desired_at(&mut self, si: usize, count: i32) -> Result<i32, String> {
        if !(0..=MAX_TASKS_PER_SERVICE).contains(&count) {
            return Err(format!(
                "desired count {count} is not within 0..={MAX_TASKS_PER_SERVICE} (ECS's quota of tasks per service)"
            ));
        }
        let s = &mut self.services[si];
        let old = s.svc.desired_count;
        s.svc.desired_count = count;
        if let Some(d) = s.svc.deployments.first_mut() {
            d.desired_count = count;
        }
        s.steady_reported = false;
        Ok(old)
    }

    pub fn set_scalable_target(
        &mut self,
        resource_id: &str,
        min: i32,
        max: i32,
    ) -> Result<(i32, i32), String> {
        let key = resource_id
            .strip_prefix("service/")
            .unwrap_or(resource_id)
            .to_string();
        let si = self
            .service_index(&key)
            .ok_or_else(|| format!("no scalable target {resource_id}"))?;
        self.set_scalable_target_at(si, resource_id, min, max)
    }

    /// RegisterScalableTarget of service `si` (its own account and region);
    /// the old (min, max).
    pub fn set_scalable_target_at(
        &mut self,
        si: usize,
        resource_id: &str,
        min: i32,
        max: i32,
    ) -> Result<(i32, i32), String> {
        if min < 0 || max < min || max > MAX_TASKS_PER_SERVICE {
            return Err(format!(
                "need 0 ≤ min ≤ max ≤ {MAX_TASKS_PER_SERVICE} (got {min}..{max})"
            ));
        }
        let (account, region) = (
            self.services[si].svc.account.clone(),
            self.services[si].svc.region.clone(),
        );
        let t = self
            .scalable_targets
            .iter_mut()
            .find(|t| t.resource_id == resource_id && t.account == account && t.region == region)
            .ok_or_else(|| format!("no scalable target {resource_id}"))?;
        let old = (t.min_capacity, t.max_capacity);
        t.min_capacity = min;
        t.max_capacity = max;
        {
            let desired = self.services[si].svc.desired_count;
            let clamped = desired.clamp(min, max);
            if clamped != desired {
                let _ = self.set_desired_at(si, clamped);
                self.record_activity(
                    si,
                    clamped,
                    "a change to the scalable target's minimum or maximum capacity".into(),
                );
            }
        }
        Ok(old)
    }

    pub fn impair_az(&mut self, az: &str, duration_ms: Option<i64>) {
        let until = duration_ms.map(|d| self.elapsed + d);
        self.impaired.insert(az.to_string(), until);
    }

    pub fn release_az(&mut self, az: &str) {
        self.impaired.remove(az);
    }

    /// Impair an AZ for one service only (a GameDay's blast radius): its
    /// tasks there stop and none are placed there until released.
    pub fn impair_service_az(&mut self, si: usize, az: &str, duration_ms: Option<i64>) {
        let until = duration_ms.map(|d| self.elapsed + d);
        let key = self.impair_key(si);
        self.impaired.insert(format!("{az}|{key}"), until);
    }

    pub fn release_service_az(&mut self, si: usize, az: &str) {
        let key = self.impair_key(si);
        self.impaired.remove(&format!("{az}|{key}"));
    }

    /// Whether `az` is impaired for service `si` (fleet-wide or for it alone).
    fn az_impaired(impaired: &BTreeMap<String, Option<i64>>, key: &str, az: &str) -> bool {
        impaired.contains_key(az) || impaired.contains_key(&format!("{az}|{key}"))
    }

    fn expire_impairments(&mut self) {
        let now = self.elapsed;
        self.impaired
            .retain(|_, until| until.is_none_or(|u| u > now));
    }

    pub(crate) fn stop_task_by_id(
        &mut self,
        si: usize,
        id: &str,
        reason: &str,
        code: &str,
    ) -> Result<(), String> {
        let now = self.now();
        let t = self.services[si]
            .tasks
            .iter_mut()
            .find(|t| t.task.id == id || t.task.arn == id)
            .ok_or_else(|| format!("no task {id}"))?;
        if is_leaving(&t.task) {
            return Err(format!("task {id} is already {}", t.task.last_status));
        }
        begin_stop(t, now, code, reason, Some(0));
        Ok(())
    }

    fn advance_tasks(&mut self, si: usize) {
        let now = self.now();
        let key = self.impair_key(si);
        let impaired: Vec<String> = self
            .impaired
            .keys()
            .filter_map(|k| match k.split_once('|') {
                None => Some(k.clone()),
                Some((az, who)) if who == key => Some(az.to_string()),
                Some(_) => None,
            })
            .collect();
        let dereg_ms = self.services[si].target_group.map_or(0, |i| {
            self.target_groups[i].deregistration_delay_seconds as i64 * 1000
        });
        let health_check = self.services[si].health_check;
        let start_period = self.services[si].start_period_ms;
        let tg_arn = self.services[si]
            .target_group
            .map(|i| self.target_groups[i].arn.clone());
        let mut failures: Vec<(String, bool)> = Vec::new();
        let mut rng_vals: Vec<u32> = (0..self.services[si].tasks.len())
            .map(|_| self.rng.random::<u32>())
            .collect();
        let s = &mut self.services[si];
        for t in s.tasks.iter_mut() {
            let roll = rng_vals.pop().unwrap_or(0);
            let jitter = (roll % 15_000) as i64;
            // AZ impairment: anything not yet stopped in an impaired AZ goes.
            if !impaired.is_empty()
                && let Some(az) = t
                    .task
                    .availability_zone
                    .as_ref()
                    .filter(|az| impaired.contains(az))
                    .cloned()
                && !is_leaving(&t.task)
            {
                begin_stop(
                    t,
                    now,
                    "TerminationNotice",
                    &format!(
                        "Task stopped due to an infrastructure event in {az}: the Availability Zone is impaired."
                    ),
                    None,
                );
                failures.push((t.deployment.clone(), false));
                continue;
            }
            if let Some((at, how)) = t.fail_at
                && now >= at
                && !is_leaving(&t.task)
            {
                t.fail_at = None;
                match how {
                    Behaviour::FailsToStart => begin_stop(
                        t,
                        now,
                        "TaskFailedToStart",
                        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref: not found",
                        None,
                    ),
                    Behaviour::Crashes => match &tg_arn {
                        // Behind an ALB the target fails first and ECS replaces the task.
                        Some(arn) if roll.is_multiple_of(2) => begin_stop(
                            t,
                            now,
                            "ServiceSchedulerInitiated",
                            &format!("Task failed ELB health checks in (target-group {arn})"),
                            Some(143),
                        ),
                        _ => begin_stop(
                            t,
                            now,
                            "EssentialContainerExited",
                            "Essential container in task exited",
                            Some(1),
                        ),
                    },
                    Behaviour::Oom => begin_stop(
                        t,
                        now,
                        "EssentialContainerExited",
                        "OutOfMemoryError: Container killed due to memory usage",
                        Some(137),
                    ),
                    Behaviour::Healthy => {}
                }
                failures.push((t.deployment.clone(), true));
                continue;
            }
            if now < t.phase_until {
                continue;
            }
            match t.task.last_status.as_str() {
                "PROVISIONING" => {
                    // Image pull: 15–30 s.
                    t.task.last_status = "PENDING".into();
                    t.phase_until = now + 15_000 + jitter;
                }
                "PENDING" => {
                    t.task.last_status = "ACTIVATING".into();
                    t.phase_until = now + 4_000;
                }
                "ACTIVATING" => {
                    t.task.last_status = "RUNNING".into();
                    t.task.started_at = Some(now);
                    for c in &mut t.task.containers {
                        c.last_status = "RUNNING".into();
                    }
                    t.healthy_at = Some(now + start_period.max(10_000));
                    t.phase_until = i64::MAX;
                }
                "DEACTIVATING" => {
                    t.task.last_status = "STOPPING".into();
                    t.phase_until = now + 2_000;
                }
                "STOPPING" => {
                    t.task.last_status = "DEPROVISIONING".into();
                    t.phase_until = now + 2_000;
                    // Containers that never ran, or whose host went away, have
                    // no exit code; a graceful stop exits 0.
                    let graceful = matches!(
                        t.task.stop_code.as_deref(),
                        Some("ServiceSchedulerInitiated") | Some("UserInitiated")
                    );
                    let exit = t.stop.as_ref().and_then(|s| s.2).or(graceful.then_some(0));
                    let started = t.task.started_at.is_some();
                    for c in &mut t.task.containers {
                        c.last_status = "STOPPED".into();
                        if c.exit_code.is_none() && started {
                            c.exit_code = exit;
                        }
                    }
                }
                "DEPROVISIONING" => {
                    t.task.last_status = "STOPPED".into();
                    t.task.desired_status = "STOPPED".into();
                    t.task.stopped_at = Some(now);
                    t.phase_until = i64::MAX;
                }
                _ => {}
            }
        }
        settle_health(&mut s.tasks, now, health_check, dereg_ms);
        s.failures_this_minute += failures.len() as u32;
        for (dep, counts) in failures {
            if counts {
                self.record_failure(si, &dep);
            }
        }
    }

    /// A task of `dep` failed: count it against the deployment and trip the
    /// circuit breaker when the threshold is reached.
    fn record_failure(&mut self, si: usize, dep: &str) {
        let now = self.now();
        let s = &mut self.services[si];
        let breaker = s
            .svc
            .deployment_configuration
            .deployment_circuit_breaker
            .clone();
        let desired = s.svc.desired_count;
        let Some(d) = s.svc.deployments.iter_mut().find(|d| d.id == dep) else {
            return;
        };
        if d.rollout_state != Some(RolloutState::InProgress) {
            return;
        }
        d.failed_tasks += 1;
        d.updated_at = now;
        let threshold = breaker_threshold(desired);
        let Some(b) = breaker.filter(|b| b.enable) else {
            return;
        };
        if d.failed_tasks < threshold {
            return;
        }
        d.rollout_state = Some(RolloutState::Failed);
        d.rollout_state_reason = Some(format!(
            "ECS deployment circuit breaker: tasks failed to start. ({} failed, threshold {threshold})",
            d.failed_tasks
        ));
        let failed_id = d.id.clone();
        let name = s.svc.name.clone();
        self.service_event(
            si,
            format!(
                "(service {name}) deployment {failed_id} deployment failed: tasks failed to start."
            ),
        );
        if b.rollback {
            let target = self.services[si].last_completed_td.clone();
            let new_id = self.start_deployment(si, target.clone());
            // The failed deployment keeps its FAILED state while it drains.
            self.service_event(
                si,
                format!(
                    "(service {name}) rolling back to deployment {new_id} ({}).",
                    short_task_definition(&target)
                ),
            );
        }
    }

    /// The service scheduler: start and stop tasks toward the desired count,
    /// honouring minimumHealthyPercent / maximumPercent during deployments.
    fn schedule(&mut self, si: usize) {
        let now = self.now();
        let (desired, min_pct, max_pct) = {
            let s = &self.services[si].svc;
            (
                s.desired_count.max(0) as usize,
                s.deployment_configuration.minimum_healthy_percent.max(0) as usize,
                s.deployment_configuration.maximum_percent.max(100) as usize,
            )
        };
        let max_total = (desired * max_pct / 100).max(desired);
        let min_healthy = (desired * min_pct).div_ceil(100);
        let primary = self.services[si].svc.deployments.first().cloned();
        let Some(primary) = primary else { return };
        let primary_failed = primary.rollout_state == Some(RolloutState::Failed);

        let active = |s: &SimService, pred: &dyn Fn(&SimTask) -> bool| {
            s.tasks
                .iter()
                .filter(|t| !is_leaving(&t.task) && pred(t))
                .count()
        };
        let s = &self.services[si];
        let total_active = active(s, &|_| true);
        let primary_active = active(s, &|t| t.deployment == primary.id);
        let healthy = s.tasks.iter().filter(|t| is_healthy(t, now)).count();

        // 1. Start primary tasks up to desired, within maximumPercent.
        if !primary_failed && primary_active < desired && total_active < max_total {
            let n = (desired - primary_active).min(max_total - total_active);
            let mut started = Vec::new();
            // Counted once; each placement adds to its AZ (linear, not a
            // pass over the tasks per task placed).
            let mut load = self.az_load(si);
            for _ in 0..n {
                match take_least(&mut load) {
                    Some(az) => {
                        let t = self.new_task(si, &primary.id, &primary.task_definition, &az);
                        started.push(t.task.id.clone());
                        self.services[si].tasks.push(t);
                    }
                    None => {
                        if now - self.services[si].last_placement_event >= 60_000 {
                            self.services[si].last_placement_event = now;
                            let name = self.services[si].svc.name.clone();
                            self.service_event(si, format!("(service {name}) was unable to place a task. Reason: Capacity is unavailable at this time. Please try again later or in a different availability zone."));
                        }
                        break;
                    }
                }
            }
            if !started.is_empty() {
                let name = self.services[si].svc.name.clone();
                let list = started
                    .iter()
                    .map(|id| format!("(task {id})"))
                    .collect::<Vec<_>>()
                    .join(" ");
                self.service_event(
                    si,
                    format!(
                        "(service {name}) has started {} tasks: {list}.",
                        started.len()
                    ),
                );
            }
        }

        let old_active = active(&self.services[si], &|t| t.deployment != primary.id);
        // 2. Stop old-deployment tasks: those beyond the desired count (new
        //    ones took their place) or in the way of maximumPercent, never
        //    letting healthy tasks drop below minimumHealthyPercent.
        if old_active > 0 {
            let s = &self.services[si];
            let total_active = active(s, &|_| true);
            let primary_active = active(s, &|t| t.deployment == primary.id);
            let surplus = total_active.saturating_sub(desired);
            let need_room = if primary_failed {
                0
            } else {
                desired
                    .saturating_sub(primary_active)
                    .saturating_sub(max_total.saturating_sub(total_active))
            };
            let wanted = surplus.max(need_room);
            let mut old: Vec<(bool, String)> = s
                .tasks
                .iter()
                .filter(|t| t.deployment != primary.id && !is_leaving(&t.task))
                .map(|t| (is_healthy(t, now), t.task.id.clone()))
                .collect();
            old.sort(); // unhealthy (false) first
            let unhealthy_old = old.iter().filter(|o| !o.0).count();
            let healthy_budget = healthy.saturating_sub(min_healthy);
            let n = unhealthy_old.min(wanted)
                + (wanted.saturating_sub(unhealthy_old)).min(healthy_budget);
            let ids: Vec<String> = old.into_iter().take(n).map(|(_, id)| id).collect();
            self.scheduler_stop(si, &ids, &primary.id);
        }

        // 3. Scale in: more primary tasks than desired. An AZ-rebalancing
        //    replacement first has to become healthy; then a task in the
        //    most loaded AZ goes.
        let primary_active = self.services[si]
            .tasks
            .iter()
            .filter(|t| !is_leaving(&t.task) && t.deployment == primary.id)
            .count();
        if let Some(rb) = self.services[si].rebalance_task.clone() {
            let state = self.services[si]
                .tasks
                .iter()
                .find(|t| t.task.id == rb)
                .map(|t| (is_leaving(&t.task), is_healthy(t, now)));
            match state {
                Some((false, false)) => return self.rebalance(si, false), // still starting
                Some((false, true)) if primary_active > desired => {
                    self.services[si].rebalance_task = None;
                    if let Some((id, az)) = self.most_loaded_task(si, Some(&rb)) {
                        let reason =
                            format!("AZ rebalancing initiated by (deployment {})", primary.id);
                        let _ = self.stop_task_by_id(si, &id, &reason, "ServiceSchedulerInitiated");
                        let name = self.services[si].svc.name.clone();
                        self.service_event(si, format!("(service {name}) has stopped 1 running tasks: (task {id}) in {az} to rebalance Availability Zones."));
                    }
                }
                _ => self.services[si].rebalance_task = None,
            }
        } else if primary_active > desired {
            // One at a time (an event each), each pick seeing the AZ counts
            // the previous stops left.
            for i in self.scale_in_order(si, primary_active - desired, None) {
                self.scheduler_stop_at(si, &[i], &primary.id);
            }
        }

        // 4. Old deployments with nothing left are done.
        //    A FAILED one stays visible until the rollback completes.
        let rolling_back = primary.rollout_state == Some(RolloutState::InProgress);
        let s = &mut self.services[si];
        let tasks = &s.tasks;
        s.svc.deployments.retain(|d| {
            d.status == DeploymentStatus::Primary
                || (rolling_back && d.rollout_state == Some(RolloutState::Failed))
                || tasks
                    .iter()
                    .any(|t| t.deployment == d.id && !is_leaving(&t.task))
        });

        // 5. Completion and steady state.
        let steady = self.complete(si, &primary, desired, now);

        // 6. AZ rebalancing once things are steady.
        self.rebalance(si, steady);
    }

    /// A rolling deployment whose new tasks are healthy and whose old ones
    /// are gone completes; a service whose tasks all run and are healthy
    /// reaches a steady state (once each, as ECS's events say).
    fn complete(&mut self, si: usize, primary: &Deployment, desired: usize, now: i64) -> bool {
        let s = &self.services[si];
        let primary_healthy = s
            .tasks
            .iter()
            .filter(|t| t.deployment == primary.id && is_healthy(t, now))
            .count();
        let only_primary = s.svc.deployments.iter().all(|d| {
            d.status == DeploymentStatus::Primary || d.rollout_state == Some(RolloutState::Failed)
        });
        let nothing_old = !s
            .tasks
            .iter()
            .any(|t| t.deployment != primary.id && !is_leaving(&t.task));
        if primary.rollout_state == Some(RolloutState::InProgress)
            && only_primary
            && nothing_old
            && primary_healthy >= desired
        {
            let name = s.svc.name.clone();
            let td = primary.task_definition.clone();
            if let Some(d) = self.services[si].svc.deployments.first_mut() {
                d.rollout_state = Some(RolloutState::Completed);
                d.rollout_state_reason = Some(format!("ECS deployment {} completed.", primary.id));
                d.updated_at = now;
            }
            self.services[si].last_completed_td = td;
            self.services[si]
                .svc
                .deployments
                .retain(|d| d.status == DeploymentStatus::Primary);
            self.service_event(
                si,
                format!(
                    "(service {name}) deployment {} deployment completed.",
                    primary.id
                ),
            );
        }
        let s = &self.services[si];
        let steady = only_primary
            && s.svc
                .deployments
                .first()
                .is_some_and(|d| d.rollout_state != Some(RolloutState::InProgress))
            && s.tasks.iter().filter(|t| is_healthy(t, now)).count() == desired
            && s.tasks.iter().filter(|t| !is_leaving(&t.task)).count() == desired;
        if steady && !s.steady_reported {
            let name = s.svc.name.clone();
            self.services[si].steady_reported = true;
            self.service_event(si, format!("(service {name}) has reached a steady state."));
        } else if !steady
            && s.steady_reported
            && s.tasks
                .iter()
                .any(|t| !is_leaving(&t.task) && !t.task.is_running())
        {
            self.services[si].steady_reported = false;
        }
        steady
    }

    /// Stop tasks on the scheduler's behalf and say so in the service events.
    fn scheduler_stop(&mut self, si: usize, ids: &[String], deployment: &str) {
        if ids.is_empty() {
            return;
        }
        // One index of the tasks, not a search per id.
        let at: Vec<usize> = {
            let mut by_id = std::collections::HashMap::with_capacity(self.services[si].tasks.len());
            for (i, t) in self.services[si].tasks.iter().enumerate() {
                by_id.entry(t.task.id.as_str()).or_insert(i);
            }
            ids.iter()
                .filter_map(|id| by_id.get(id.as_str()).copied())
                .collect()
        };
        self.scheduler_stop_at(si, &at, deployment);
    }

    /// [`Engine::scheduler_stop`] of the tasks at these positions.
    fn scheduler_stop_at(&mut self, si: usize, at: &[usize], deployment: &str) {
        if at.is_empty() {
            return;
        }
        let now = self.now();
        let reason = format!("Scaling activity initiated by (deployment {deployment})");
        let mut ids = Vec::with_capacity(at.len());
        for &i in at {
            let Some(t) = self.services[si].tasks.get_mut(i) else {
                continue;
            };
            if !is_leaving(&t.task) {
                begin_stop(t, now, "ServiceSchedulerInitiated", &reason, Some(0));
            }
            ids.push(t.task.id.clone());
        }
        let name = self.services[si].svc.name.clone();
        let list = ids
            .iter()
            .map(|id| format!("(task {id})"))
            .collect::<Vec<_>>()
            .join(" ");
        self.service_event(
            si,
            format!(
                "(service {name}) has stopped {} running tasks: {list}.",
                ids.len()
            ),
        );
    }

    /// ECS AZ rebalancing: when steady and the spread is off by more than
    /// one, start a task in the least loaded AZ; once it is healthy the
    /// scheduler stops one in the most loaded AZ (step 3 above).
    fn rebalance(&mut self, si: usize, steady: bool) {
        let now = self.now();
        let s = &self.services[si];
        if !s.az_rebalancing
            || !steady
            || s.rebalance_task.is_some()
            || now - s.last_rebalance < 30_000
        {
            return;
        }
        let key = s.svc.id().qualified();
        let usable: Vec<String> = s
            .svc
            .subnets
            .iter()
            .map(|n| n.availability_zone.clone())
            .filter(|az| !Self::az_impaired(&self.impaired, &key, az))
            .collect();
        if usable.len() < 2 {
            return;
        }
        let count = |az: &str| {
            s.tasks
                .iter()
                .filter(|t| !is_leaving(&t.task) && t.task.availability_zone.as_deref() == Some(az))
                .count()
        };
        let max_n = usable.iter().map(|a| count(a)).max().unwrap_or(0);
        let min_n = usable.iter().map(|a| count(a)).min().unwrap_or(0);
        if max_n <= min_n + 1 {
            return;
        }
        let Some(primary) = s.svc.deployments.first().cloned() else {
            return;
        };
        let Some(az) = self.pick_az(si) else { return };
        let t = self.new_task(si, &primary.id, &primary.task_definition, &az);
        let id = t.task.id.clone();
        self.services[si].tasks.push(t);
        self.services[si].rebalance_task = Some(id.clone());
        self.services[si].last_rebalance = now;
        let name = self.services[si].svc.name.clone();
        self.service_event(si, format!("(service {name}) is rebalancing tasks across Availability Zones: started (task {id}) in {az}."));
    }

    /// A running task in the most loaded AZ (healthy ones last to go is not
    /// what ECS does: it balances first), never `except`.
    fn most_loaded_task(&self, si: usize, except: Option<&str>) -> Option<(String, String)> {
        let i = *self.scale_in_order(si, 1, except).first()?;
        let t = &self.services[si].tasks[i].task;
        Some((
            t.id.clone(),
            t.availability_zone.clone().unwrap_or_default(),
        ))
    }

    /// The positions of the next `n` tasks to stop when scaling in, in
    /// order: each is the task not leaving with the greatest (tasks not
    /// leaving in its AZ, not yet running, id) once the ones before it
    /// stopped — [`Engine::most_loaded_task`] asked `n` times, in
    /// O(tasks · log tasks + n · AZs) instead of O(n · tasks²). `except`
    /// counts in its AZ but is never picked.
    fn scale_in_order(&self, si: usize, n: usize, except: Option<&str>) -> Vec<usize> {
        let tasks = &self.services[si].tasks;
        // Per AZ: its count, and its candidates sorted so the best is last.
        let mut groups: Vec<(Option<&str>, usize, Vec<usize>)> = Vec::new();
        for (i, t) in tasks.iter().enumerate() {
            if is_leaving(&t.task) {
                continue;
            }
            let az = t.task.availability_zone.as_deref();
            let g = match groups.iter().position(|g| g.0 == az) {
                Some(g) => g,
                None => {
                    groups.push((az, 0, Vec::new()));
                    groups.len() - 1
                }
            };
            groups[g].1 += 1;
            if Some(t.task.id.as_str()) != except {
                groups[g].2.push(i);
            }
        }
        let key = |i: usize| {
            let t = &tasks[i].task;
            (!t.is_running(), t.id.as_str())
        };
        for g in &mut groups {
            g.2.sort_by(|a, b| key(*a).cmp(&key(*b)));
        }
        let mut out = Vec::with_capacity(n.min(tasks.len()));
        while out.len() < n {
            let best = groups
                .iter()
                .enumerate()
                .filter_map(|(gi, g)| Some((gi, g.1, key(*g.2.last()?))))
                .max_by(|a, b| (a.1, a.2).cmp(&(b.1, b.2)));
            let Some((gi, _, _)) = best else { break };
            let g = &mut groups[gi];
            if let Some(i) = g.2.pop() {
                out.push(i);
                g.1 -= 1;
            }
        }
        out
    }

    fn update_targets(&mut self, si: usize) {
        let now = self.now();
        let Some(tgi) = self.services[si].target_group else {
            return;
        };
        let s = &mut self.services[si];
        for t in &mut s.tasks {
            let Some(state) = t.target_state else {
                continue;
            };
            let next = match t.task.last_status.as_str() {
                "PROVISIONING" | "PENDING" => Some(TargetState::Initial),
                "ACTIVATING" => Some(TargetState::Initial),
                "RUNNING" => {
                    if t.healthy_at.is_some_and(|h| now >= h + 10_000) {
                        Some(TargetState::Healthy)
                    } else if t.fail_at.is_some_and(|(_, b)| b == Behaviour::Crashes)
                        && t.healthy_at.is_some_and(|h| now >= h)
                    {
                        Some(TargetState::Unhealthy)
                    } else {
                        Some(TargetState::Initial)
                    }
                }
                "DEACTIVATING" => Some(TargetState::Draining),
                _ => None,
            };
            match next {
                Some(n) if n != state => {
                    t.target_state = Some(n);
                    t.target_since = now;
                }
                Some(_) => {}
                None => t.target_state = None,
            }
        }
        let targets: Vec<TargetHealth> = s
            .tasks
            .iter()
            .filter_map(|t| {
                let state = t.target_state?;
                // Targets register once the task has an IP (after PROVISIONING).
                if t.task.last_status == "PROVISIONING" {
                    return None;
                }
                let (reason, description) = match state {
                    TargetState::Initial => (
                        Some("Elb.RegistrationInProgress"),
                        Some("Target registration is in progress"),
                    ),
                    TargetState::Draining => (
                        Some("Target.DeregistrationInProgress"),
                        Some("Target deregistration is in progress"),
                    ),
                    TargetState::Unhealthy => (
                        Some("Target.ResponseCodeMismatch"),
                        Some("Health checks failed with these codes: [502]"),
                    ),
                    _ => (None, None),
                };
                Some(TargetHealth {
                    id: t.task.private_ip.clone().unwrap_or_default(),
                    port: s
                        .svc
                        .load_balancers
                        .first()
                        .map_or(8080, |l| l.container_port),
                    availability_zone: t.task.availability_zone.clone(),
                    state,
                    reason: reason.map(str::to_string),
                    description: description.map(str::to_string),
                })
            })
            .collect();
        s.unhealthy_hosts = targets
            .iter()
            .filter(|t| t.state == TargetState::Unhealthy)
            .count() as f64;
        self.target_groups[tgi].targets = targets;
    }

    fn refresh_counts(&mut self) {
        for s in &mut self.services {
            let running = s.tasks.iter().filter(|t| t.task.is_running()).count() as i32;
            let pending = s
                .tasks
                .iter()
                .filter(|t| {
                    matches!(
                        t.task.last_status.as_str(),
                        "PROVISIONING" | "PENDING" | "ACTIVATING"
                    )
                })
                .count() as i32;
            s.svc.running_count = running;
            s.svc.pending_count = pending;
            let desired = s.svc.desired_count;
            for d in &mut s.svc.deployments {
                let mine = |t: &&SimTask| t.deployment == d.id;
                d.running_count = s
                    .tasks
                    .iter()
                    .filter(mine)
                    .filter(|t| t.task.is_running())
                    .count() as i32;
                d.pending_count = s
                    .tasks
                    .iter()
                    .filter(mine)
                    .filter(|t| {
                        matches!(
                            t.task.last_status.as_str(),
                            "PROVISIONING" | "PENDING" | "ACTIVATING"
                        )
                    })
                    .count() as i32;
                if d.status == DeploymentStatus::Primary {
                    d.desired_count = desired;
                } else {
                    d.desired_count = d.running_count;
                }
            }
        }
    }

    /// One datapoint per service per minute; `live` = the clock is running
    /// (false while back-filling history at start).
    fn sample_metrics(&mut self, live: bool) {
        let end = self.now();
        let load = self.load_at(self.elapsed.max(0));
        for si in 0..self.services.len() {
            let noise: [f64; 4] = [
                self.rng.random::<f64>() - 0.5,
                self.rng.random::<f64>() - 0.5,
                self.rng.random::<f64>() - 0.5,
                self.rng.random::<f64>(),
            ];
            let s = &mut self.services[si];
            let running = s.tasks.iter().filter(|t| t.task.is_running()).count() as f64;
            let desired = s.svc.desired_count.max(0) as f64;
            let rps = s.base_rps * load;
            let push = |series: &mut MetricSeries, v: Option<f64>| {
                series.period_seconds = 60;
                series.end = end;
                series.values.push(v.unwrap_or(f64::NAN));
                if series.values.len() > METRIC_POINTS {
                    series.values.remove(0);
                }
            };
            let (cpu, mem, req, err, p99) = if running > 0.0 {
                let cpu = (rps * s.cpu_per_rps / running + 4.0 + noise[0] * 4.0).clamp(0.5, 100.0);
                let mem = (38.0 + 12.0 * load.min(3.0) + noise[1] * 3.0).clamp(1.0, 100.0);
                let missing = if desired > 0.0 {
                    ((desired - running) / desired).max(0.0)
                } else {
                    0.0
                };
                let failing = if live {
                    s.failures_this_minute as f64
                } else {
                    0.0
                };
                let err_rate = 0.0004
                    + missing * 0.03
                    + if cpu > 90.0 { 0.04 } else { 0.0 }
                    + failing * 0.004
                    + s.unhealthy_hosts * 0.01;
                let requests = rps * 60.0;
                let err = (requests * err_rate * (0.8 + noise[3] * 0.4)).round();
                let p99 = 85.0 * (1.0 + (cpu / 100.0).powi(4) * 12.0) * (1.0 + noise[2] * 0.2)
                    + missing * 400.0;
                (
                    Some(cpu),
                    Some(mem),
                    Some(requests.round()),
                    Some(err),
                    Some(p99),
                )
            } else {
                (
                    None,
                    None,
                    Some(0.0),
                    Some(if desired > 0.0 {
                        (rps * 60.0).round()
                    } else {
                        0.0
                    }),
                    None,
                )
            };
            let has_lb = s.target_group.is_some();
            push(&mut s.metrics.cpu, cpu);
            push(&mut s.metrics.memory, mem);
            push(&mut s.metrics.requests, if has_lb { req } else { None });
            push(&mut s.metrics.http_5xx, if has_lb { err } else { None });
            push(
                &mut s.metrics.latency_p99_ms,
                if has_lb { p99 } else { None },
            );
            s.failures_this_minute = 0;
        }
        if !live {
            return;
        }
        // Alarm datapoints from the same samples.
        for a in &mut self.alarms {
            let v = self.services[a.service].alarm_value(&a.alarm.metric_name, None);
            a.points.push_back(v);
            while a.points.len() > 60 {
                a.points.pop_front();
            }
        }
    }

    fn evaluate_alarms(&mut self) {
        let now = self.now();
        for a in &mut self.alarms {
            let n = a.alarm.evaluation_periods.max(1) as usize;
            let m = a.alarm.datapoints_to_alarm.clamp(1, n as i32) as usize;
            let window: Vec<Option<f64>> = a.points.iter().rev().take(n).copied().collect();
            let present: Vec<f64> = window.iter().flatten().copied().collect();
            let breaching: Vec<f64> = present
                .iter()
                .copied()
                .filter(|v| breaches(&a.alarm, *v))
                .collect();
            let next = if present.is_empty() {
                AlarmState::InsufficientData
            } else if breaching.len() >= m {
                AlarmState::Alarm
            } else {
                AlarmState::Ok
            };
            if next == a.alarm.state {
                continue;
            }
            let old = a.alarm.state;
            let op = match a.alarm.comparison_operator.as_str() {
                "GreaterThanThreshold" => "greater than",
                "GreaterThanOrEqualToThreshold" => "greater than or equal to",
                "LessThanThreshold" => "less than",
                _ => "less than or equal to",
            };
            let pts = present
                .iter()
                .take(5)
                .map(|v| format!("{v:.1} ({})", fmt_cw_time(now)))
                .collect::<Vec<_>>()
                .join(", ");
            let reason = match next {
                AlarmState::Alarm => format!(
                    "Threshold Crossed: {} out of the last {n} datapoints [{pts}] were {op} the threshold ({:.1}) (minimum {m} datapoints for OK -> ALARM transition).",
                    breaching.len(),
                    a.alarm.threshold
                ),
                AlarmState::Ok => format!(
                    "Threshold Crossed: {} datapoints [{pts}] were not {op} the threshold ({:.1}) (minimum 1 datapoint for ALARM -> OK transition).",
                    present.len() - breaching.len(),
                    a.alarm.threshold
                ),
                AlarmState::InsufficientData => {
                    "Insufficient Data: no datapoints were received for the last evaluation periods.".into()
                }
            };
            a.alarm.history.insert(
                0,
                AlarmHistoryItem {
                    timestamp: now,
                    old_state: old,
                    new_state: next,
                    summary: format!("Alarm updated from {} to {}", old.as_str(), next.as_str()),
                    reason: reason.clone(),
                },
            );
            a.alarm.history.truncate(MAX_HISTORY);
            a.alarm.state = next;
            a.alarm.state_reason = reason;
            a.alarm.state_updated_at = now;
        }
    }

    /// Target tracking: scale out after 3 high datapoints, in after 15 low
    /// ones, with cooldowns and min/max.
    fn autoscale(&mut self) {
        let now = self.now();
        for si in 0..self.services.len() {
            let Some(ti) = self.services[si].autoscaling else {
                continue;
            };
            let target = self.scalable_targets[ti].clone();
            let Some(p) = target.policies.first() else {
                continue;
            };
            let s = &self.services[si];
            let running = s.svc.running_count.max(1) as f64;
            let metric = match p.predefined_metric_type.as_str() {
                "ECSServiceAverageMemoryUtilization" => s.metrics.memory.last(),
                "ALBRequestCountPerTarget" => s.metrics.requests.last().map(|r| r / running),
                _ => s.metrics.cpu.last(),
            }
            .filter(|v| v.is_finite());
            let Some(metric) = metric else { continue };
            let desired = s.svc.desired_count;
            let s = &mut self.services[si];
            if metric > p.target_value {
                s.high_streak += 1;
                s.low_streak = 0;
            } else if metric < p.target_value * 0.9 {
                s.low_streak += 1;
                s.high_streak = 0;
            } else {
                s.high_streak = 0;
                s.low_streak = 0;
            }
            let wanted = ((running * metric / p.target_value).ceil() as i32)
                .clamp(target.min_capacity, target.max_capacity);
            let alarm_id = format!("{:08x}-{:04x}", si * 7919 + 13, ti);
            let direction = if s.high_streak >= 3
                && wanted > desired
                && now - s.last_scale_out >= p.scale_out_cooldown as i64 * 1000
            {
                s.last_scale_out = now;
                "High"
            } else if s.low_streak >= 15
                && !p.disable_scale_in
                && wanted < desired
                && now - s.last_scale_in >= p.scale_in_cooldown as i64 * 1000
                && now - s.last_scale_out >= p.scale_in_cooldown as i64 * 1000
            {
                s.last_scale_in = now;
                "Low"
            } else {
                continue;
            };
            s.high_streak = 0;
            s.low_streak = 0;

            let _ = self.set_desired_at(si, wanted);
            self.record_activity(
                si,
                wanted,
                format!(
                    "monitor alarm TargetTracking-{}-Alarm{direction}-{alarm_id} in state ALARM triggered policy {}",
                    target.resource_id, p.policy_name
                ),
            );
        }
    }

    fn record_activity(&mut self, si: usize, desired: i32, cause: String) {
        let now = self.now();
        let id = self.rand_hex(32);
        let s = &self.services[si];
        let activity_id = format!(
            "{}-{}-{}-{}-{}",
            &id[..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..32]
        );
        self.activities.push_front(ScalingActivity {
            activity_id,
            resource_id: s.svc.scaling_resource_id(),
            account: s.svc.account.clone(),
            region: s.svc.region.clone(),
            description: format!("Setting desired count to {desired}."),
            cause,
            status_code: "Successful".into(),
            status_message: Some(format!(
                "Successfully set desired count to {desired}. Change successfully fulfilled by ecs."
            )),
            start_time: now,
            end_time: Some(now + 1_000),
        });
        self.activities.truncate(MAX_ACTIVITIES);
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

    // ---- output ----

    pub fn snapshot(&self) -> FleetSnapshot {
        let now = self.now();
        let mut published = self.published.lock().unwrap_or_else(|e| e.into_inner());
        let prev = published.as_ref();
        let services: Vec<Arc<Service>> = self
            .services
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let mut svc = s.svc.clone();
                svc.tasks = s.tasks.iter().map(|t| t.task.clone()).collect();
                match prev.and_then(|p| p.services.get(i)) {
                    Some(old) if **old == svc => old.clone(),
                    _ => Arc::new(svc),
                }
            })
            .collect();
        let metrics = self
            .services
            .iter()
            .map(|s| (s.svc.id(), s.metrics.clone()))
            .collect();
        let mut snap = FleetSnapshot {
            at: now,
            source: SourceInfo {
                kind: "demo".into(),
                label: self.scenario_name.clone(),
                region: self.region.clone(),
                account: self.account.clone(),
                speed: self.speed,
                seed: Some(self.seed),
                ..Default::default()
            },
            clusters: Arc::new(self.clusters.clone()),
            services,
            task_definitions: Arc::new(self.task_definitions.clone()),
            target_groups: Arc::new(self.target_groups.clone()),
            scalable_targets: Arc::new(self.scalable_targets.clone()),
            scaling_activities: Arc::new(self.activities.iter().cloned().collect()),
            alarms: Arc::new(self.alarms.iter().map(|a| a.alarm.clone()).collect()),
            log_groups: Arc::new(self.log_groups.clone()),
            metrics: Arc::new(metrics),
            account_aliases: BTreeMap::new(),
            freshness: BTreeMap::from([(
                crate::model::FreshKey::new(
                    crate::model::DataKind::Sim,
                    &self.account,
                    &self.region,
                ),
                Freshness {
                    updated_at: Some(now),
                    error: None,
                },
            )]),
            // The simulator reads everything.
            unread: Default::default(),
        };
        if let Some(p) = prev {
            snap.share_unchanged(p);
        }
        *published = Some(snap.clone());
        snap
    }
}

/// The least loaded AZ of `load` (the first of equals), counted one more.
fn take_least(load: &mut [(String, usize)]) -> Option<String> {
    let i = (0..load.len()).min_by_key(|&i| load[i].1)?;
    load[i].1 += 1;
    Some(load[i].0.clone())
}

/// Circuit-breaker failure threshold as ECS computes it.
pub fn breaker_threshold(desired: i32) -> i32 {
    ((desired as f64 * 0.5).ceil() as i32).clamp(3, 200)
}

fn breaches(a: &Alarm, v: f64) -> bool {
    match a.comparison_operator.as_str() {
        "GreaterThanThreshold" => v > a.threshold,
        "GreaterThanOrEqualToThreshold" => v >= a.threshold,
        "LessThanThreshold" => v < a.threshold,
        _ => v <= a.threshold,
    }
}

/// `23/11/26 10:01:00`, CloudWatch's datapoint format in state reasons.
fn fmt_cw_time(ms: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    // 2026-11-23T10:01:00Z
    format!("{}/{}/{} {}", &s[8..10], &s[5..7], &s[2..4], &s[11..19])
}

/// The task has left (or is leaving) RUNNING.
pub(crate) fn is_leaving(t: &Task) -> bool {
    matches!(
        t.last_status.as_str(),
        "DEACTIVATING" | "STOPPING" | "DEPROVISIONING" | "STOPPED"
    )
}

fn is_healthy(t: &SimTask, now: i64) -> bool {
    t.task.is_running()
        && t.healthy_at.is_some_and(|h| now >= h)
        && t.fail_at.is_none_or(|(_, b)| b == Behaviour::Oom)
}

fn begin_stop(t: &mut SimTask, now: i64, code: &str, reason: &str, exit: Option<i32>) {
    let was_running = t.task.is_running();
    t.task.desired_status = "STOPPED".into();
    t.task.stop_code = Some(code.into());
    t.task.stopped_reason = Some(reason.into());
    t.task.stopping_at = Some(now);
    t.stop = Some((code.into(), reason.into(), exit));
    t.fail_at = None;
    if let Some(e) = exit {
        for c in &mut t.task.containers {
            c.exit_code = Some(e);
            if e == 137 {
                c.reason = Some("OutOfMemoryError: Container killed due to memory usage".into());
            }
        }
    }
    if was_running {
        t.task.last_status = "DEACTIVATING".into();
        // Draining time is set by the caller's next pass (deregistration delay).
        t.phase_until = i64::MAX;
    } else {
        t.task.last_status = "STOPPING".into();
        t.phase_until = now + 1_000;
    }
    t.task.health_status = "UNKNOWN".into();
}

pub(crate) fn rng_of(e: &mut Engine) -> &mut ChaCha8Rng {
    &mut e.rng
}

/// RUNNING tasks past their start period become HEALTHY (with a health
/// check); tasks leaving RUNNING wait for their target to drain.
fn settle_health(tasks: &mut [SimTask], now: i64, health_check: bool, dereg_ms: i64) {
    for t in tasks {
        if t.task.is_running()
            && let Some(h) = t.healthy_at
            && now >= h
            && health_check
            && t.task.health_status != "HEALTHY"
        {
            t.task.health_status = "HEALTHY".into();
            for c in &mut t.task.containers {
                c.health_status = "HEALTHY".into();
            }
        }
        if t.task.last_status == "DEACTIVATING" && t.phase_until == i64::MAX {
            t.phase_until = now + dereg_ms.max(1_000);
        }
    }
}

mod build;

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition `scale_in_order` replaces: ask `most_loaded_task`'s
    /// original rule (max of (tasks in the AZ, not running, id) over the
    /// tasks not leaving) once per stop, the stopped one leaving.
    fn one_pick_at_a_time(e: &Engine, si: usize, n: usize, except: Option<&str>) -> Vec<usize> {
        let tasks = &e.services[si].tasks;
        let mut gone = vec![false; tasks.len()];
        let mut out = Vec::new();
        for _ in 0..n {
            let alive = |i: usize| !gone[i] && !is_leaving(&tasks[i].task);
            let per_az = |az: &Option<String>| {
                (0..tasks.len())
                    .filter(|&j| alive(j) && tasks[j].task.availability_zone == *az)
                    .count()
            };
            let pick = (0..tasks.len())
                .filter(|&i| alive(i) && Some(tasks[i].task.id.as_str()) != except)
                .max_by_key(|&i| {
                    let t = &tasks[i].task;
                    (per_az(&t.availability_zone), !t.is_running(), t.id.clone())
                });
            let Some(i) = pick else { break };
            gone[i] = true;
            out.push(i);
        }
        out
    }

    fn uneven_fleet() -> (Engine, usize) {
        let sc = Scenario::builtin("az-outage").unwrap();
        let mut e = Engine::new(&sc, Some(3));
        let si = e.service_index("prod/api").unwrap();
        // Uneven AZs, tasks in every state: impair, scale out, release.
        e.impair_az("us-east-1a", None);
        e.set_desired("prod/api", 40).unwrap();
        for _ in 0..90 {
            e.tick();
        }
        e.release_az("us-east-1a");
        e.set_desired("prod/api", 70).unwrap();
        for _ in 0..25 {
            e.tick();
        }
        (e, si)
    }

    #[test]
    fn scale_in_order_is_one_pick_at_a_time() {
        let (e, si) = uneven_fleet();
        let tasks = &e.services[si].tasks;
        let states: std::collections::BTreeSet<&str> =
            tasks.iter().map(|t| t.task.last_status.as_str()).collect();
        assert!(states.len() >= 3, "a mix of states: {states:?}");
        let alive = tasks.iter().filter(|t| !is_leaving(&t.task)).count();
        for n in [0, 1, 7, alive / 2, alive, alive + 5] {
            assert_eq!(
                e.scale_in_order(si, n, None),
                one_pick_at_a_time(&e, si, n, None),
                "n = {n}"
            );
        }
        let except = tasks
            .iter()
            .find(|t| !is_leaving(&t.task))
            .map(|t| t.task.id.clone());
        assert_eq!(
            e.scale_in_order(si, alive, except.as_deref()),
            one_pick_at_a_time(&e, si, alive, except.as_deref())
        );
    }

    #[test]
    fn az_load_counts_what_the_old_pick_counted() {
        let (mut e, si) = uneven_fleet();
        e.impair_service_az(si, "us-east-1b", None);
        let load = e.az_load(si);
        let s = &e.services[si];
        let want: Vec<(String, usize)> = s
            .svc
            .subnets
            .iter()
            .map(|n| n.availability_zone.clone())
            .filter(|az| az != "us-east-1b")
            .map(|az| {
                let n = s
                    .tasks
                    .iter()
                    .filter(|t| {
                        !is_leaving(&t.task) && t.task.availability_zone.as_deref() == Some(&az)
                    })
                    .count();
                (az, n)
            })
            .collect();
        assert_eq!(load, want);
        let mut l = vec![("a".to_string(), 2), ("b".into(), 1), ("c".into(), 1)];
        assert_eq!(take_least(&mut l).as_deref(), Some("b"), "first of equals");
        assert_eq!(take_least(&mut l).as_deref(), Some("c"));
        assert_eq!(take_least(&mut l).as_deref(), Some("a"));
        assert_eq!(take_least(&mut []), None);
    }
}
