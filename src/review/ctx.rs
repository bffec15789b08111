//! What one check sees of one service ([`Ctx`]), the fleet-wide lookups it
//! is built from ([`Index`]), and which of its inputs the source could not
//! read ([`Input`], [`Readiness`]).
//!
//! A check reads its inputs through `Ctx`'s accessors, which note what it
//! touched. When a touched input could not be read for that service (a
//! denied call, an API that failed), the check is *not evaluated* there,
//! naming the API: absent data never passes a check.

use std::cell::Cell;
use std::sync::Arc;

use super::{ReviewConfig, checks};
use crate::model::{
    Alarm, CapacityProvider, Cluster, DataKind, EcrRepository, FleetSnapshot, GuardDuty, IamRole,
    LoadBalancerPosture, LogGroup, ScalableTarget, Service, ServiceMetrics, Subnet, TargetGroup,
    TaskDefinition,
};

/// An input a check may read beyond the service itself, and the API (and
/// source kind, the key of `FleetSnapshot::freshness`) it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Input {
    TaskDefinition,
    TaskRole,
    TargetGroups,
    Alarms,
    Metrics,
    LogGroups,
    Scaling,
    Subnets,
    /// The load balancers' attributes and listeners.
    LoadBalancers,
    /// The cluster's Auto Scaling group capacity providers.
    CapacityProviders,
    /// The ECR repositories of the images.
    Repositories,
    GuardDuty,
}

impl Input {
    pub const ALL: [Input; 12] = [
        Input::TaskDefinition,
        Input::TaskRole,
        Input::TargetGroups,
        Input::Alarms,
        Input::Metrics,
        Input::LogGroups,
        Input::Scaling,
        Input::Subnets,
        Input::LoadBalancers,
        Input::CapacityProviders,
        Input::Repositories,
        Input::GuardDuty,
    ];

    fn bit(self) -> u16 {
        1 << self as u16
    }

    /// The freshness kind that reads it.
    pub fn kind(self) -> DataKind {
        match self {
            Input::TaskDefinition => DataKind::Ecs,
            Input::TaskRole => DataKind::Iam,
            Input::TargetGroups => DataKind::Elbv2,
            Input::Alarms => DataKind::Cloudwatch,
            Input::Metrics => DataKind::Metrics,
            Input::LogGroups => DataKind::Logs,
            Input::Scaling => DataKind::Autoscaling,
            Input::Subnets => DataKind::Ec2,
            Input::LoadBalancers => DataKind::Elbv2,
            Input::CapacityProviders => DataKind::Ecs,
            Input::Repositories => DataKind::Ecr,
            Input::GuardDuty => DataKind::Guardduty,
        }
    }

    /// The API calls behind it, as a policy would name them.
    pub fn api(self) -> &'static str {
        match self {
            Input::TaskDefinition => "ecs:DescribeTaskDefinition",
            Input::TaskRole => "iam:ListRolePolicies / GetRolePolicy / ListAttachedRolePolicies",
            Input::TargetGroups => {
                "elasticloadbalancing:DescribeTargetGroups / DescribeTargetHealth / DescribeLoadBalancers"
            }
            Input::Alarms => "cloudwatch:DescribeAlarms",
            Input::Metrics => "cloudwatch:GetMetricData",
            Input::LogGroups => "logs:DescribeLogGroups",
            Input::Scaling => {
                "application-autoscaling:DescribeScalableTargets / DescribeScalingPolicies"
            }
            Input::Subnets => "ec2:DescribeSubnets",
            Input::LoadBalancers => {
                "elasticloadbalancing:DescribeLoadBalancerAttributes / DescribeListeners"
            }
            Input::CapacityProviders => "ecs:DescribeCapacityProviders",
            Input::Repositories => "ecr:DescribeRepositories / GetLifecyclePolicy",
            Input::GuardDuty => "guardduty:ListDetectors / GetDetector",
        }
    }
}

/// Which inputs the snapshot's source could not read: whole kinds per
/// region (never read successfully), and single resources (a task
/// definition, a role) named in `FleetSnapshot::unread`. The simulator
/// reads everything: its readiness is empty.
#[derive(Debug, Clone, Default)]
pub struct Readiness {
    /// ((account, region), input, reason) for each kind never read there.
    kinds: Vec<((String, String), Input, String)>,
    /// The snapshot's resource-level gaps (ARN or name → "api: error").
    unread: Arc<std::collections::BTreeMap<String, String>>,
}

impl PartialEq for Readiness {
    fn eq(&self, o: &Self) -> bool {
        self.kinds == o.kinds && (Arc::ptr_eq(&self.unread, &o.unread) || self.unread == o.unread)
    }
}

impl Readiness {
    pub fn of(snap: &FleetSnapshot) -> Readiness {
        let mut kinds = Vec::new();
        if snap.source.kind == "aws" {
            // Each place read (account, region) has its `ecs` key; the
            // other kinds of that place share its place.
            for ecs in snap.places_read() {
                let p = snap.place_of(ecs);
                let place = (p.account.to_string(), p.region.to_string());
                for input in Input::ALL {
                    let key = ecs.with_kind(input.kind());
                    let reason = match snap.freshness.get(&key) {
                        None => format!("needs {}, which this source did not read", input.api()),
                        Some(f) if f.updated_at.is_none() => format!(
                            "needs {}: {}",
                            input.api(),
                            f.error.as_deref().unwrap_or("not read")
                        ),
                        Some(_) => continue,
                    };
                    kinds.push((place.clone(), input, reason));
                }
            }
        }
        Readiness {
            kinds,
            unread: snap.unread.clone(),
        }
    }

    /// Nothing is missing anywhere.
    pub fn is_complete(&self) -> bool {
        self.kinds.is_empty() && self.unread.is_empty()
    }

    /// Inputs not read in `svc`'s place. A place whose account is not
    /// known (every read of it failed) holds no service.
    fn kind_missing(&self, svc: &Service) -> u16 {
        self.kinds
            .iter()
            .filter(|((a, r), _, _)| *r == svc.region && *a == svc.account)
            .fold(0, |m, (_, i, _)| m | i.bit())
    }
}

/// What a check function sees for one service: the service and everything
/// about it, looked up once (the checks never scan the fleet).
pub struct Ctx<'a> {
    pub snap: &'a FleetSnapshot,
    pub cfg: &'a ReviewConfig,
    pub svc: &'a Service,
    cluster: Option<&'a Cluster>,
    /// The PRIMARY deployment's task definition (its ARN, and what was read).
    td_arn: &'a str,
    td: Option<&'a TaskDefinition>,
    alarms: Vec<&'a Alarm>,
    target_groups: Vec<&'a TargetGroup>,
    scalable: Option<&'a ScalableTarget>,
    metrics: Option<&'a ServiceMetrics>,
    index: &'a Index,
    /// The first service of its cluster (cluster-level checks report once).
    pub first_in_cluster: bool,
    /// p95 CPU and max memory over the metric window, computed once for the
    /// checks that read them.
    stats: std::cell::OnceCell<(Option<f64>, f64)>,
    /// Inputs the current check touched (bits of [`Input`]).
    touched: Cell<u16>,
    /// What the current check declared: its inputs (bits) and whether it
    /// may read the clock (debug builds assert reads against these).
    declared: Cell<(u16, bool)>,
    /// Some check read the clock since the context was made.
    read_clock: Cell<bool>,
    /// Inputs the source could not read for this service.
    missing: u16,
    /// The current check does not apply as configured (why).
    skipped: std::cell::RefCell<Option<String>>,
    ready: &'a Readiness,
}

fn hash1(a: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    a.hash(&mut h);
    h.finish()
}

/// The parts of a key: (account, region, …names). Twins in two regions or
/// accounts have different keys.
type Key<'a> = [&'a str; 4];

fn hash_key(k: &Key<'_>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    k.hash(&mut h);
    h.finish()
}

/// (account, region, cluster, service) of a service.
fn service_key(s: &Service) -> Key<'_> {
    [&s.account, &s.region, &s.cluster, &s.name]
}

/// (account, region, cluster, service) of an alarm attributed to a service.
fn alarm_key(a: &Alarm) -> Option<Key<'_>> {
    let (c, s) = a.service_key.as_deref()?.split_once('/')?;
    Some([&a.account, &a.region, c, s])
}

/// (account, region, cluster, service) of an ECS scalable target.
fn scalable_key(t: &ScalableTarget) -> Option<Key<'_>> {
    let (c, s) = t.resource_id.strip_prefix("service/")?.split_once('/')?;
    Some([&t.account, &t.region, c, s])
}

/// (account, region, name, "") of a cluster.
fn cluster_key(c: &Cluster) -> Key<'_> {
    [&c.account, &c.region, &c.name, ""]
}

/// (account, region, name, "") of a log group.
fn repo_key(r: &EcrRepository) -> Key<'_> {
    [r.account.as_str(), r.region.as_str(), r.name.as_str(), ""]
}

fn log_group_key(l: &LogGroup) -> Key<'_> {
    [&l.account, &l.region, &l.name, ""]
}

/// Fleet-wide lookups, built once per snapshot collection. It holds
/// positions into the snapshot's collections, not borrows, so the review
/// cache keeps it across snapshots for as long as those collections are the
/// same `Arc`s. Every lookup checks the key it finds, so a hash collision
/// can't attribute one service's alarm to another.
#[derive(Default, Clone)]
pub struct Index {
    /// Alarm positions by (account, region, cluster, service), from the
    /// alarm's place and `service_key`.
    alarms: hashbrown::HashTable<Vec<u32>>,
    /// By ARN (which holds account and region).
    target_groups: hashbrown::HashTable<u32>,
    /// By (account, region, cluster, service), from `service/<cluster>/<service>`.
    scalable: hashbrown::HashTable<u32>,
    /// By (account, region, name).
    log_groups: hashbrown::HashTable<u32>,
    /// By (account, region, name).
    clusters: hashbrown::HashTable<u32>,
    /// Task definitions by ARN (a hash lookup instead of a BTreeMap walk
    /// comparing long ARNs).
    tds: hashbrown::HashTable<u32>,
    td_list: Vec<Arc<TaskDefinition>>,
    /// Position of the first service of each cluster.
    first_in_cluster: hashbrown::HashTable<u32>,
    /// ECR repositories by (account, region, name).
    repositories: hashbrown::HashTable<u32>,
}

impl Index {
    pub fn new(snap: &FleetSnapshot) -> Index {
        let mut ix = Index::default();
        ix.index_collections(snap);
        ix.index_services(snap);
        ix
    }

    /// Everything but the services.
    fn index_collections(&mut self, snap: &FleetSnapshot) {
        let alarms = &snap.alarms;
        self.alarms = hashbrown::HashTable::new();
        for (i, a) in alarms.iter().enumerate() {
            let Some(k) = alarm_key(a) else { continue };
            let h = hash_key(&k);
            match self
                .alarms
                .find_mut(h, |v| alarm_key(&alarms[v[0] as usize]) == Some(k))
            {
                Some(v) => v.push(i as u32),
                None => {
                    self.alarms.insert_unique(h, vec![i as u32], |v| {
                        alarm_key(&alarms[v[0] as usize]).map_or(0, |k| hash_key(&k))
                    });
                }
            }
        }
        fn build<T>(
            items: &[T],
            key: impl Fn(&T) -> Option<u64>,
            same: impl Fn(&T, &T) -> bool,
        ) -> hashbrown::HashTable<u32> {
            let mut t = hashbrown::HashTable::with_capacity(items.len());
            for (i, x) in items.iter().enumerate() {
                let Some(h) = key(x) else { continue };
                // The first of equal keys wins, as a map's first insert would.
                if t.find(h, |j: &u32| same(&items[*j as usize], x)).is_none() {
                    t.insert_unique(h, i as u32, |j: &u32| {
                        key(&items[*j as usize]).unwrap_or_default()
                    });
                }
            }
            t
        }
        self.target_groups = build(
            &snap.target_groups,
            |t| Some(hash1(&t.arn)),
            |a, b| a.arn == b.arn,
        );
        self.scalable = build(
            &snap.scalable_targets,
            |t| scalable_key(t).map(|k| hash_key(&k)),
            |a, b| scalable_key(a) == scalable_key(b),
        );
        self.log_groups = build(
            &snap.log_groups,
            |l| Some(hash_key(&log_group_key(l))),
            |a, b| log_group_key(a) == log_group_key(b),
        );
        self.clusters = build(
            &snap.clusters,
            |c| Some(hash_key(&cluster_key(c))),
            |a, b| cluster_key(a) == cluster_key(b),
        );
        self.repositories = build(
            &snap.ecr_repositories,
            |r| Some(hash_key(&repo_key(r))),
            |a, b| repo_key(a) == repo_key(b),
        );
        self.td_list = snap.task_definitions.values().cloned().collect();
        self.tds = build(
            &self.td_list,
            |t| Some(hash1(&t.arn)),
            |a, b| a.arn == b.arn,
        );
    }

    fn task_definition<'a>(
        &'a self,
        snap: &'a FleetSnapshot,
        arn: &str,
    ) -> Option<&'a TaskDefinition> {
        self.tds
            .find(hash1(arn), |i| self.td_list[*i as usize].arn == arn)
            .map(|i| &*self.td_list[*i as usize])
            .or_else(|| snap.task_definition(arn))
    }

    pub(super) fn index_services(&mut self, snap: &FleetSnapshot) {
        self.first_in_cluster = hashbrown::HashTable::new();
        let services = &snap.services;
        // (account, region, cluster): a twin cluster in another region
        // reports its cluster-level findings too.
        let cluster_of = |s: &Service| {
            let [a, r, c, _] = service_key(s);
            hash_key(&[a, r, c, ""])
        };
        let same_cluster = |x: &Service, y: &Service| {
            x.cluster == y.cluster && x.region == y.region && x.account == y.account
        };
        for (i, s) in services.iter().enumerate() {
            let h = cluster_of(s);
            if self
                .first_in_cluster
                .find(h, |j| same_cluster(&services[*j as usize], s))
                .is_none()
            {
                self.first_in_cluster
                    .insert_unique(h, i as u32, |j| cluster_of(&services[*j as usize]));
            }
        }
    }

    /// The ECR repository `name` of registry `account` in `region`.
    pub fn repository<'a>(
        &self,
        snap: &'a FleetSnapshot,
        account: &str,
        region: &str,
        name: &str,
    ) -> Option<&'a EcrRepository> {
        let k = [account, region, name, ""];
        let repos = &snap.ecr_repositories;
        self.repositories
            .find(hash_key(&k), |i| repo_key(&repos[*i as usize]) == k)
            .map(|i| &repos[*i as usize])
    }

    /// The log group `name` in `svc`'s account and region. A group read
    /// without a place (a hand-built snapshot) is found by its name.
    pub fn log_group<'a>(
        &self,
        snap: &'a FleetSnapshot,
        svc: &Service,
        name: &str,
    ) -> Option<&'a LogGroup> {
        let groups = &snap.log_groups;
        let k = [svc.account.as_str(), svc.region.as_str(), name, ""];
        self.log_groups
            .find(hash_key(&k), |i| log_group_key(&groups[*i as usize]) == k)
            .or_else(|| {
                let k = ["", "", name, ""];
                self.log_groups
                    .find(hash_key(&k), |i| log_group_key(&groups[*i as usize]) == k)
            })
            .map(|i| &groups[*i as usize])
    }
}

impl<'a> Ctx<'a> {
    fn touch(&self, input: Input) {
        debug_assert!(
            self.declared.get().0 & input.bit() != 0,
            "a check read {input:?} without declaring it in `reads [..]`"
        );
        self.touched.set(self.touched.get() | input.bit());
    }

    /// Start a check: nothing touched yet.
    pub(super) fn begin_check(&self, check: &super::Check) {
        self.touched.set(0);
        self.skipped.borrow_mut().take();
        let bits = check.needs.iter().fold(0, |m, i| m | i.bit());
        self.declared.set((bits, check.clock));
    }

    /// The snapshot's clock, for a check declared `clock`: noted, so the
    /// console's cache knows this service's verdict depends on the time.
    pub fn now(&self) -> crate::model::EpochMs {
        debug_assert!(
            self.declared.get().1,
            "a check read the clock without declaring `clock`"
        );
        self.read_clock.set(true);
        self.snap.at
    }

    /// Some check of this context read the clock.
    pub(super) fn read_clock(&self) -> bool {
        self.read_clock.get()
    }

    /// The inputs the check since [`Ctx::begin_check`] touched that the
    /// source could not read (0: the check was evaluated on real data).
    pub(super) fn gaps(&self) -> u16 {
        self.touched.get() & self.missing
    }

    /// Why the inputs of `gaps` are missing, one clause each.
    pub(super) fn gap_reason(&self, gaps: u16) -> String {
        let mut out: Vec<String> = Vec::new();
        for input in Input::ALL.into_iter().filter(|i| gaps & i.bit() != 0) {
            let kind = self
                .ready
                .kinds
                .iter()
                .find(|((a, r), i, _)| {
                    *r == self.svc.region && *a == self.svc.account && *i == input
                })
                .map(|(_, _, why)| why.clone());
            let why = kind
                .or_else(|| {
                    self.resources_of(input)
                        .into_iter()
                        .find_map(|r| self.ready.unread.get(r))
                        .map(|e| format!("needs {e}"))
                })
                .or_else(|| self.posture_error(input).map(|e| format!("needs {e}")));
            out.push(why.unwrap_or_else(|| format!("needs {}", input.api())));
        }
        out.join("; ")
    }

    /// The resources of this service an input reads (task definition ARN,
    /// role ARN, target group ARNs, log group names).
    fn resources_of(&self, input: Input) -> Vec<&'a str> {
        match input {
            Input::TaskDefinition => vec![self.td_arn],
            Input::TaskRole => self.td.map_or_else(Vec::new, |t| {
                [t.task_role_arn.as_deref(), t.execution_role_arn.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect()
            }),
            Input::TargetGroups => self
                .svc
                .load_balancers
                .iter()
                .map(|l| l.target_group_arn.as_str())
                .collect(),
            Input::LogGroups => self.td.map_or_else(Vec::new, |t| {
                t.container_definitions
                    .iter()
                    .filter_map(|d| d.log_configuration.as_ref()?.options.get("awslogs-group"))
                    .map(String::as_str)
                    .collect()
            }),
            Input::Alarms
            | Input::Metrics
            | Input::Scaling
            | Input::Subnets
            | Input::LoadBalancers
            | Input::CapacityProviders
            | Input::Repositories
            | Input::GuardDuty => vec![],
        }
    }

    /// What could not be read of a resource that carries its own reading
    /// error (a load balancer's attributes, a cluster's capacity
    /// providers, an image's repository), for this service.
    fn posture_error(&self, input: Input) -> Option<&'a str> {
        match input {
            Input::LoadBalancers => self
                .target_groups
                .iter()
                .find_map(|t| t.load_balancer.as_ref()?.unread.as_deref()),
            Input::CapacityProviders => self.cluster?.capacity_providers_unread.as_deref(),
            Input::Repositories => self
                .image_repositories()
                .into_iter()
                .find_map(|(_, r)| r?.unread.as_deref()),
            _ => None,
        }
    }

    fn posture_missing(&self) -> u16 {
        [
            Input::LoadBalancers,
            Input::CapacityProviders,
            Input::Repositories,
        ]
        .into_iter()
        .filter(|i| self.posture_error(*i).is_some())
        .fold(0, |m, i| m | i.bit())
    }

    fn missing_of(&self) -> u16 {
        let mut m = self.ready.kind_missing(self.svc);
        if !self.ready.unread.is_empty() {
            for input in Input::ALL {
                if self
                    .resources_of(input)
                    .iter()
                    .any(|r| self.ready.unread.contains_key(*r))
                {
                    m |= input.bit();
                }
            }
        }
        m
    }

    /// The service's cluster (read with the services).
    pub fn cluster(&self) -> Option<&'a Cluster> {
        self.cluster
    }

    /// The PRIMARY deployment's task definition.
    pub fn td(&self) -> Option<&'a TaskDefinition> {
        self.touch(Input::TaskDefinition);
        self.td
    }

    /// The task definition without noting a read (identity, not evidence).
    pub(super) fn td_untracked(&self) -> Option<&'a TaskDefinition> {
        self.td
    }

    /// The task role's policies (IAM), when the task definition names a role.
    pub fn task_role(&self) -> Option<&'a IamRole> {
        let td = self.td()?;
        // Without a role there is nothing IAM could have failed to tell.
        if td.task_role_arn.is_some() {
            self.touch(Input::TaskRole);
        }
        td.task_role.as_ref()
    }

    /// The execution role's policies (IAM), when the task definition names one.
    pub fn execution_role(&self) -> Option<&'a IamRole> {
        let td = self.td()?;
        if td.execution_role_arn.is_some() {
            self.touch(Input::TaskRole);
        }
        td.execution_role.as_ref()
    }

    /// The load balancers in front of the service's target groups, each
    /// once, with their attributes and listeners (None: not read).
    pub fn load_balancers(&self) -> Vec<(&'a str, Option<&'a LoadBalancerPosture>)> {
        if !self.svc.load_balancers.is_empty() {
            self.touch(Input::TargetGroups);
            self.touch(Input::LoadBalancers);
        }
        let mut out: Vec<(&'a str, Option<&'a LoadBalancerPosture>)> = Vec::new();
        for t in &self.target_groups {
            let Some(arn) = t.load_balancer_arn.as_deref() else {
                continue;
            };
            if !out.iter().any(|(a, _)| *a == arn) {
                out.push((arn, t.load_balancer.as_ref()));
            }
        }
        out
    }

    /// The cluster's Auto Scaling group capacity providers.
    pub fn capacity_providers(&self) -> &'a [CapacityProvider] {
        let Some(c) = self.cluster else { return &[] };
        if !c.capacity_providers.is_empty() {
            self.touch(Input::CapacityProviders);
        }
        &c.capacity_providers
    }

    /// Each ECR repository the task definition's images come from (the
    /// image, and the repository when ECR was read).
    pub fn repositories(&self) -> Vec<(&'a str, Option<&'a EcrRepository>)> {
        let v = self.image_repositories();
        if !v.is_empty() {
            self.touch(Input::Repositories);
        }
        v
    }

    fn image_repositories(&self) -> Vec<(&'a str, Option<&'a EcrRepository>)> {
        let Some(td) = self.td else { return vec![] };
        let mut out: Vec<(&'a str, Option<&'a EcrRepository>)> = Vec::new();
        for c in &td.container_definitions {
            let Some((account, region, name)) = crate::model::posture::ecr_repository_of(&c.image)
            else {
                continue;
            };
            if out.iter().any(|(i, _)| *i == c.image.as_str()) {
                continue;
            }
            let repo = self.index.repository(self.snap, account, region, name);
            out.push((c.image.as_str(), repo));
        }
        out
    }

    /// GuardDuty in the service's account and region.
    pub fn guardduty(&self) -> Option<&'a GuardDuty> {
        self.touch(Input::GuardDuty);
        self.guardduty_untracked()
    }

    fn guardduty_untracked(&self) -> Option<&'a GuardDuty> {
        self.snap
            .guardduty
            .iter()
            .find(|g| g.region == self.svc.region && g.account == self.svc.account)
    }

    /// Alarms attributed to the service.
    pub fn alarms(&self) -> &[&'a Alarm] {
        self.touch(Input::Alarms);
        &self.alarms
    }

    /// The target groups of the service's load balancers that were read.
    pub fn target_groups(&self) -> &[&'a TargetGroup] {
        if !self.svc.load_balancers.is_empty() {
            self.touch(Input::TargetGroups);
        }
        &self.target_groups
    }

    /// [`Ctx::target_groups`] when they were read, else none, without
    /// marking them touched (for a fix text that names them).
    pub fn target_groups_if_read(&self) -> &[&'a TargetGroup] {
        if self.missing & Input::TargetGroups.bit() != 0 {
            return &[];
        }
        &self.target_groups
    }

    /// The service's scalable target (Application Auto Scaling).
    pub fn scalable(&self) -> Option<&'a ScalableTarget> {
        self.touch(Input::Scaling);
        self.scalable
    }

    /// The service's metric series (CloudWatch).
    pub fn metrics(&self) -> Option<&'a ServiceMetrics> {
        self.touch(Input::Metrics);
        self.metrics
    }

    /// The service's configured subnets with their AZ and free IPs (EC2).
    pub fn subnets(&self) -> &'a [Subnet] {
        if self
            .svc
            .network_configuration
            .as_ref()
            .is_some_and(|n| !n.subnets.is_empty())
        {
            self.touch(Input::Subnets);
        }
        &self.svc.subnets
    }

    /// [`Ctx::cpu_p95_mem_max`] when the metrics were read, else `None`
    /// without marking them touched: for a check whose verdict does not
    /// need them (only its fix text does), a missing metric is no gap.
    pub fn cpu_p95_mem_max_if_read(&self) -> Option<(Option<f64>, f64)> {
        if self.missing & Input::Metrics.bit() != 0 {
            return None;
        }
        self.cpu_p95_mem_max()
    }

    /// p95 of CPUUtilization (None under 10 datapoints) and the max of
    /// MemoryUtilization (NaN without datapoints), over the metric window.
    pub fn cpu_p95_mem_max(&self) -> Option<(Option<f64>, f64)> {
        let m = self.metrics()?;
        Some(*self.stats.get_or_init(|| {
            let max_mem = m
                .memory
                .values
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .fold(f64::NAN, f64::max);
            (checks::p95(&m.cpu.values), max_mem)
        }))
    }

    /// The log group of that name, if the source read it.
    pub fn log_group(&self, name: &str) -> Option<&'a LogGroup> {
        self.touch(Input::LogGroups);
        self.index.log_group(self.snap, self.svc, name)
    }

    /// The environment tag of the service, its task definition, or its cluster.
    pub fn environment(&self) -> Option<&str> {
        let k = &self.cfg.environment_tag;
        self.svc
            .tags
            .get(k)
            .or_else(|| self.td().and_then(|t| t.tags.get(k)))
            .or_else(|| self.cluster.and_then(|c| c.tags.get(k)))
            .map(String::as_str)
            .or(self.cfg.default_environment.as_deref())
    }

    /// The environment, or the check is listed as not evaluated on this
    /// service (no environment tag and no `[review] default_environment`):
    /// a check for prod or for non-prod must not pass silently.
    pub fn environment_or_skip(&self) -> Option<&str> {
        let e = self.environment();
        if e.is_none() {
            *self.skipped.borrow_mut() = Some(format!(
                "not evaluated: no {} tag on the service, its task definition or cluster (set it, or [review] default_environment)",
                self.cfg.environment_tag
            ));
        }
        e
    }

    /// The current check does not apply to this service as it is, for a
    /// reason it lists (not a read failure: the gate does not count it).
    pub fn not_evaluated(&self, why: String) {
        *self.skipped.borrow_mut() = Some(why);
    }

    pub(super) fn take_skipped(&self) -> Option<String> {
        self.skipped.borrow_mut().take()
    }

    pub fn is_prod(&self) -> bool {
        self.environment().is_some_and(|e| {
            self.cfg
                .prod_values
                .iter()
                .any(|p| p.eq_ignore_ascii_case(e))
        })
    }

    /// Fargate: launchType FARGATE, or a FARGATE/FARGATE_SPOT capacity
    /// provider (the service's strategy, else the cluster default).
    pub fn is_fargate(&self) -> bool {
        if self.svc.launch_type == "FARGATE" {
            return true;
        }
        let strategy =
            if self.svc.capacity_provider_strategy.is_empty() && self.svc.launch_type.is_empty() {
                self.cluster
                    .map(|c| c.default_capacity_provider_strategy.as_slice())
                    .unwrap_or_default()
            } else {
                self.svc.capacity_provider_strategy.as_slice()
            };
        strategy
            .iter()
            .any(|c| c.capacity_provider == "FARGATE" || c.capacity_provider == "FARGATE_SPOT")
    }

    pub fn is_linux(&self) -> bool {
        self.td()
            .and_then(|t| t.operating_system_family.as_deref())
            .is_none_or(|f| f.eq_ignore_ascii_case("LINUX"))
    }

    pub fn service_name(&self) -> String {
        format!("{}/{}", self.svc.cluster, self.svc.name)
    }

    /// Everything this service's checks read is equal in both contexts
    /// (the review cache's test for "unchanged").
    pub(super) fn same_inputs(&self, new: &Ctx) -> bool {
        fn same_ref<T: PartialEq>(a: &T, b: &T) -> bool {
            std::ptr::eq(a, b) || a == b
        }
        fn same_opt<T: PartialEq>(a: Option<&T>, b: Option<&T>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => same_ref(a, b),
                (None, None) => true,
                _ => false,
            }
        }
        fn same_refs<T: PartialEq>(a: &[&T], b: &[&T]) -> bool {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_ref(*x, *y))
        }
        let old = self;
        old.first_in_cluster == new.first_in_cluster
            && old.missing == new.missing
            && same_ref(old.svc, new.svc)
            && same_opt(old.td, new.td)
            && same_opt(old.cluster, new.cluster)
            && same_opt(old.scalable, new.scalable)
            && match (old.metrics, new.metrics) {
                (Some(a), Some(b)) => std::ptr::eq(a, b) || a.same(b),
                (None, None) => true,
                _ => false,
            }
            && same_refs(&old.alarms, &new.alarms)
            && same_refs(&old.target_groups, &new.target_groups)
            && same_refs(&old.service_log_groups(), &new.service_log_groups())
            && old.image_repositories() == new.image_repositories()
            && same_opt(old.guardduty_untracked(), new.guardduty_untracked())
    }

    fn service_log_groups(&self) -> Vec<&'a LogGroup> {
        self.td.map_or_else(Vec::new, |t| {
            t.container_definitions
                .iter()
                .filter_map(|d| d.log_configuration.as_ref()?.options.get("awslogs-group"))
                .filter_map(|g| self.index.log_group(self.snap, self.svc, g))
                .collect()
        })
    }
}

pub(crate) fn ctx_with<'a>(
    snap: &'a FleetSnapshot,
    cfg: &'a ReviewConfig,
    index: &'a Index,
    ready: &'a Readiness,
    position: usize,
    svc: &'a Service,
) -> Ctx<'a> {
    let td_arn = svc
        .primary_deployment()
        .map(|d| d.task_definition.as_str())
        .unwrap_or(svc.task_definition.as_str());
    let k = service_key(svc);
    let alarms = index
        .alarms
        .find(hash_key(&k), |v| {
            alarm_key(&snap.alarms[v[0] as usize]) == Some(k)
        })
        .map_or_else(Vec::new, |v| {
            v.iter().map(|i| &snap.alarms[*i as usize]).collect()
        });
    let target_groups = svc
        .load_balancers
        .iter()
        .filter_map(|lb| {
            let arn = lb.target_group_arn.as_str();
            index
                .target_groups
                .find(hash1(arn), |i| snap.target_groups[*i as usize].arn == arn)
                .map(|i| &snap.target_groups[*i as usize])
        })
        .collect();
    let scalable = index
        .scalable
        .find(hash_key(&k), |i| {
            scalable_key(&snap.scalable_targets[*i as usize]) == Some(k)
        })
        .map(|i| &snap.scalable_targets[*i as usize]);
    let ck = [k[0], k[1], k[2], ""];
    let cluster = index
        .clusters
        .find(hash_key(&ck), |i| {
            cluster_key(&snap.clusters[*i as usize]) == ck
        })
        .map(|i| &snap.clusters[*i as usize]);
    let first = index.first_in_cluster.find(hash_key(&ck), |i| {
        let [a, r, c, _] = service_key(&snap.services[*i as usize]);
        [a, r, c, ""] == ck
    });
    let mut ctx = Ctx {
        snap,
        cfg,
        svc,
        cluster,
        td_arn,
        td: index.task_definition(snap, td_arn),
        alarms,
        target_groups,
        scalable,
        metrics: snap.metrics_for(svc),
        index,
        first_in_cluster: first == Some(&(position as u32)),
        stats: std::cell::OnceCell::new(),
        touched: Cell::new(0),
        skipped: Default::default(),
        declared: Cell::new((0, false)),
        read_clock: Cell::new(false),
        missing: 0,
        ready,
    };
    if !ready.is_complete() {
        ctx.missing = ctx.missing_of();
    }
    ctx.missing |= ctx.posture_missing();
    ctx
}
