//! The AWS source: ECS clusters, services, deployments, tasks and task
//! definitions; EC2 subnets (AZ, free IPs); IAM task-role policies;
//! Application Auto Scaling targets, policies and activities; ELBv2 target
//! health per AZ; CloudWatch alarms, alarm history and metrics; CloudWatch
//! Logs groups and tails. Batched to the API maxima, paginated, converted to
//! the model at the edge.
//!
//! In the console each resource kind has its own poller (interval + jitter;
//! the next read of a kind starts only after the previous one finished), and
//! a failing API degrades only its own part (`freshness[kind].error`).

pub mod actions;
mod autoscaling;
pub mod cloudwatch;
pub mod contexts;
mod deadline;
pub mod ec2;
mod ecs;
pub mod elbv2;
mod fleet;
pub mod iam;
mod identity;
pub mod logs;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use tokio::sync::{mpsc, watch};

pub use deadline::{Deadline, within};
pub use fleet::{AwsFleet, merge};

use crate::model::{DataKind, FleetSnapshot, FreshKey, Freshness, SourceInfo};
use crate::source::{Control, SourceHandle, UPDATE_CHANNEL_BOUND, Update};

/// How to reach AWS: the standard credential chain plus the CLI's overrides.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// The profile of this source (the first `--profile` of a fleet).
    pub profile: Option<String>,
    /// Every `--profile` given: each is read in every region and merged.
    pub profiles: Vec<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
    /// Only these clusters (names); empty = every cluster of the region.
    pub clusters: Vec<String>,
    /// Every `--region` given (a DR drill watches two); `region` is the first.
    pub regions: Vec<String>,
}

/// API calls made, for the status line and the batching proof.
#[derive(Debug, Default)]
pub struct CallCounts {
    pub list_clusters: AtomicU64,
    pub describe_clusters: AtomicU64,
    pub list_services: AtomicU64,
    pub describe_services: AtomicU64,
    pub list_tasks: AtomicU64,
    pub describe_tasks: AtomicU64,
    pub describe_task_definition: AtomicU64,
    pub autoscaling: AtomicU64,
    pub elbv2: AtomicU64,
    pub cloudwatch: AtomicU64,
    pub logs: AtomicU64,
    pub ec2: AtomicU64,
    pub iam: AtomicU64,
    /// STS GetCallerIdentity and IAM ListAccountAliases, once per source.
    pub identity: AtomicU64,
    /// Calls answered with a throttling error (after the SDK's retries).
    pub throttles: AtomicU64,
}

impl CallCounts {
    pub fn total(&self) -> u64 {
        [
            &self.list_clusters,
            &self.describe_clusters,
            &self.list_services,
            &self.describe_services,
            &self.list_tasks,
            &self.describe_tasks,
            &self.describe_task_definition,
            &self.autoscaling,
            &self.elbv2,
            &self.cloudwatch,
            &self.logs,
            &self.ec2,
            &self.iam,
            &self.identity,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

pub struct AwsSource {
    pub(crate) ecs: aws_sdk_ecs::Client,
    pub(crate) aas: aws_sdk_applicationautoscaling::Client,
    pub(crate) elb: aws_sdk_elasticloadbalancingv2::Client,
    pub(crate) cw: aws_sdk_cloudwatch::Client,
    pub(crate) logs: aws_sdk_cloudwatchlogs::Client,
    pub(crate) ec2: aws_sdk_ec2::Client,
    pub(crate) iam: aws_sdk_iam::Client,
    pub(crate) sts: aws_sdk_sts::Client,
    pub(crate) opts: AwsOptions,
    pub region: String,
    /// The account this source reads, learnt from the ARNs ECS returns
    /// ("" until then).
    pub(crate) account: std::sync::Mutex<String>,
    /// Asked once: the account (STS) and its alias (IAM).
    pub(crate) identity: tokio::sync::Mutex<identity::Identity>,
    pub calls: Arc<CallCounts>,
    /// Task definitions are immutable per revision: cached by ARN.
    pub(crate) td_cache: tokio::sync::Mutex<BTreeMap<String, Arc<crate::model::TaskDefinition>>>,
    pub(crate) subnets: tokio::sync::Mutex<ec2::SubnetCache>,
    pub(crate) roles: tokio::sync::Mutex<iam::RoleCache>,
    pub(crate) tg_attributes: tokio::sync::Mutex<std::collections::HashMap<String, (i64, i32)>>,
    pub(crate) alarm_history: tokio::sync::Mutex<cloudwatch::HistoryCache>,
    pub(crate) log_groups: tokio::sync::Mutex<logs::GroupCache>,
}

/// Throttling errors seen by any source (the status line's count).
pub static THROTTLES: AtomicU64 = AtomicU64::new(0);

/// An error the SDK has no model for (AccessDenied on CloudWatch, say) is
/// displayed as its metadata's Debug form, `Error { code: "AccessDenied",
/// message: "User: … is not authorized …", … }`: made `AccessDenied: User: …`.
fn unmodeled(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("Error { code: \"")?;
    let (code, rest) = rest.split_once('"')?;
    let message = rest
        .split_once("message: \"")
        .and_then(|(_, m)| m.split_once("\"").map(|(m, _)| m));
    Some(match message {
        Some(m) => format!("{code}: {m}"),
        None => code.to_string(),
    })
}

/// One line for an error, as the status line shows it ("AccessDenied: ...").
pub fn describe_error<E: std::error::Error + ?Sized>(op: &str, e: &E) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    let msg = unmodeled(msg.lines().next().unwrap_or(""))
        .unwrap_or_else(|| msg.lines().next().unwrap_or("").to_string());
    if msg.contains("Throttl") || msg.contains("Rate exceeded") || msg.contains("TooManyRequests") {
        THROTTLES.fetch_add(1, Ordering::Relaxed);
    }
    // An HTML page where an API answer should be (moto's 500 for what it
    // does not implement): JSON/XML clients say "malformed", the CBOR client
    // says it met '<' (0x3c).
    if msg.contains("malformed")
        || msg.contains("<html")
        || msg.contains("500")
        || msg.contains("unexpected type 0x3c")
    {
        return format!("{op}: not available from this endpoint");
    }
    let lower = msg.to_lowercase();
    if lower.contains("expired") && lower.contains("sso") {
        return format!("{op}: the SSO token expired: run `aws sso login`");
    }
    if lower.contains("expiredtoken")
        || lower.contains("security token included in the request is expired")
    {
        return format!(
            "{op}: the session credentials expired: refresh them (aws sso login, or new session keys)"
        );
    }
    format!("{op}: {msg}")
}

impl AwsSource {
    pub async fn connect(opts: AwsOptions) -> AwsSource {
        // Timeouts: an endpoint that stops answering must not hang a poller
        // or `ecsdeck status` (the SDK sets no operation timeout by default).
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .operation_attempt_timeout(std::time::Duration::from_secs(20))
            .operation_timeout(std::time::Duration::from_secs(60))
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::adaptive())
            .timeout_config(timeouts);
        if let Some(p) = &opts.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &opts.region {
            loader = loader.region(aws_config::Region::new(r.clone()));
        }
        if let Some(u) = &opts.endpoint_url {
            loader = loader.endpoint_url(u);
        }
        let conf = loader.load().await;
        let region = conf
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| "us-east-1".into());
        AwsSource {
            ecs: aws_sdk_ecs::Client::new(&conf),
            aas: aws_sdk_applicationautoscaling::Client::new(&conf),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&conf),
            cw: aws_sdk_cloudwatch::Client::new(&conf),
            logs: aws_sdk_cloudwatchlogs::Client::new(&conf),
            ec2: aws_sdk_ec2::Client::new(&conf),
            iam: aws_sdk_iam::Client::new(&conf),
            sts: aws_sdk_sts::Client::new(&conf),
            opts,
            region,
            account: Default::default(),
            identity: Default::default(),
            calls: Arc::new(CallCounts::default()),
            td_cache: Default::default(),
            subnets: Default::default(),
            roles: Default::default(),
            tg_attributes: Default::default(),
            alarm_history: Default::default(),
            log_groups: Default::default(),
        }
    }

    /// The freshness key of `kind` read by this source.
    pub fn key(&self, kind: DataKind) -> FreshKey {
        FreshKey::new(kind, &self.account(), &self.region)
    }

    fn empty_snapshot(&self) -> FleetSnapshot {
        FleetSnapshot {
            at: now_ms(),
            source: SourceInfo {
                kind: "aws".into(),
                label: self
                    .opts
                    .profile
                    .clone()
                    .unwrap_or_else(|| "default".into()),
                region: self.region.clone(),
                account: self.account(),
                speed: None,
                seed: None,
                api_calls: None,
                throttles: None,
            },
            ..Default::default()
        }
    }

    /// ECS (clusters, services, tasks, task definitions), with the AZ of
    /// each subnet (EC2) and the task roles' policies (IAM) folded in. The
    /// snapshot's freshness has `ecs`, `ec2` and `iam`.
    pub async fn read_ecs(&self) -> FleetSnapshot {
        let mut snap = self.empty_snapshot();
        let now = snap.at;
        let (fresh, ()) = tokio::join!(ecs::fetch_ecs(self, &mut snap), self.ask_identity());
        let ecs_failed = fresh.is_err();
        self.learn_account(&mut snap);
        snap.freshness
            .insert(self.key(DataKind::Ecs), freshness_partial(now, fresh));
        if ecs_failed {
            // Nothing hangs off a failed ECS read: the other kinds are not
            // tried (each would wait out its own timeout on a silent endpoint).
            return snap;
        }
        // Subnets: the AZ of tasks that carry none (moto; EC2 tasks in
        // bridge mode carry theirs), the services' configured subnets.
        let ids: Vec<String> = snap
            .services
            .iter()
            .flat_map(|s| {
                s.network_configuration
                    .iter()
                    .flat_map(|n| n.subnets.iter().cloned())
                    .chain(s.tasks.iter().filter_map(|t| t.subnet_id.clone()))
            })
            .collect();
        if !ids.is_empty() {
            let fresh = match ec2::subnets(self, &ids).await {
                Ok(by_id) => {
                    for s in &mut snap.services {
                        let s = Arc::make_mut(s);
                        s.subnets = s
                            .network_configuration
                            .iter()
                            .flat_map(|n| n.subnets.iter())
                            .filter_map(|id| by_id.get(id).cloned())
                            .collect();
                        for t in &mut s.tasks {
                            if t.availability_zone.is_none()
                                && let Some(sub) = t.subnet_id.as_ref().and_then(|id| by_id.get(id))
                            {
                                t.availability_zone = Some(sub.availability_zone.clone());
                            }
                        }
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            };
            snap.freshness
                .insert(self.key(DataKind::Ec2), freshness(now, fresh));
        } else {
            snap.freshness
                .insert(self.key(DataKind::Ec2), freshness(now, Ok(())));
        }
        // Task roles (SEC-06).
        let mut role_arns: Vec<String> = snap
            .task_definitions
            .values()
            .filter_map(|t| t.task_role_arn.clone())
            .collect();
        role_arns.sort();
        role_arns.dedup();
        let roles = iam::roles(self, &role_arns).await;
        for td in std::sync::Arc::make_mut(&mut snap.task_definitions).values_mut() {
            let role = td.task_role_arn.as_ref().and_then(|a| roles.read.get(a));
            if td.task_role.as_ref() != role.map(|r| &**r) {
                Arc::make_mut(td).task_role = role.map(|r| (**r).clone());
            }
        }
        let fresh = match roles.unread.first() {
            None => Ok(vec![]),
            // Every role failed: IAM as a whole was not read.
            Some((_, e)) if roles.read.is_empty() => Err(e.clone()),
            Some((_, e)) => Ok(vec![format!(
                "{e} ({} role{} not read)",
                roles.unread.len(),
                if roles.unread.len() == 1 { "" } else { "s" }
            )]),
        };
        if !roles.unread.is_empty() {
            let unread = std::sync::Arc::make_mut(&mut snap.unread);
            for (arn, e) in roles.unread {
                unread.insert(arn, e);
            }
        }
        snap.freshness
            .insert(self.key(DataKind::Iam), freshness_partial(now, fresh));
        self.note_alias(&mut snap);
        snap
    }

    pub async fn read_autoscaling(&self, part: &mut Parts) {
        let mut tmp = self.empty_snapshot();
        let now = tmp.at;
        let r = autoscaling::fetch(self, &mut tmp).await;
        let (account, region) = (self.account(), &self.region);
        for t in Arc::make_mut(&mut tmp.scalable_targets) {
            (t.account, t.region) = (account.clone(), region.clone());
        }
        for a in Arc::make_mut(&mut tmp.scaling_activities) {
            (a.account, a.region) = (account.clone(), region.clone());
        }
        if r.is_ok() {
            part.autoscaling = Some((tmp.scalable_targets, tmp.scaling_activities));
        }
        record_partial(part, DataKind::Autoscaling, now, r);
    }

    pub async fn read_elbv2(&self, services: &[Arc<crate::model::Service>], part: &mut Parts) {
        let now = now_ms();
        let r = elbv2::fetch(self, services).await;
        let res = r.as_ref().map(|_| ()).map_err(Clone::clone);
        if let Ok(mut tgs) = r {
            for t in tgs.iter_mut() {
                self.place(&mut t.account, &mut t.region);
            }
            part.target_groups = Some(Arc::new(tgs));
        }
        record(part, DataKind::Elbv2, now, res);
    }

    pub async fn read_alarms(&self, services: &[Arc<crate::model::Service>], part: &mut Parts) {
        let now = now_ms();
        let r =
            cloudwatch::fetch_alarms(self, services)
                .await
                .map(|(mut alarms, history_error)| {
                    for a in alarms.iter_mut() {
                        self.place(&mut a.account, &mut a.region);
                    }
                    part.alarms = Some(Arc::new(alarms));
                    history_error
                });
        record_partial(part, DataKind::Cloudwatch, now, r);
    }

    pub async fn read_metrics(&self, services: &[Arc<crate::model::Service>], part: &mut Parts) {
        let now = now_ms();
        let tgs = part.target_groups.clone().unwrap_or_default();
        let r = cloudwatch::fetch_metrics(self, services, &tgs).await;
        let res = r.as_ref().map(|_| ()).map_err(Clone::clone);
        if let Ok(m) = r {
            part.metrics = Some(Arc::new(m));
        }
        record(part, DataKind::Metrics, now, res);
    }

    pub async fn read_log_groups(&self, base: &FleetSnapshot, part: &mut Parts) {
        let now = now_ms();
        let r = logs::fetch_groups(self, &logs::group_names(base)).await;
        let res = r.as_ref().map(|_| ()).map_err(Clone::clone);
        if let Ok(mut g) = r {
            for l in g.iter_mut() {
                self.place(&mut l.account, &mut l.region);
            }
            part.log_groups = Some(Arc::new(g));
        }
        record(part, DataKind::Logs, now, res);
    }

    /// One full refresh of everything this source reads: ECS first, then
    /// what hangs off it, concurrently.
    pub async fn fetch(&self) -> FleetSnapshot {
        self.fetch_by(None).await
    }

    /// [`AwsSource::fetch`] within a deadline (one-shot commands): what
    /// has not answered by then is recorded as failed with the time it was
    /// given. When ECS fails, nothing else is tried.
    pub async fn fetch_by(&self, deadline: Option<Deadline>) -> FleetSnapshot {
        let base = match within(deadline, self.read_ecs()).await {
            Some(b) => b,
            None => {
                let mut snap = self.empty_snapshot();
                snap.freshness.insert(
                    self.key(DataKind::Ecs),
                    freshness(
                        snap.at,
                        Err(deadline.map(|d| d.missed("ecs")).unwrap_or_default()),
                    ),
                );
                snap
            }
        };
        if base
            .freshness
            .get(&self.key(DataKind::Ecs))
            .is_some_and(|f| f.updated_at.is_none())
        {
            return self.assemble(&Parts {
                ecs: Some(Arc::new(base)),
                ..Default::default()
            });
        }
        let (mut a, mut b, mut c, mut d) = (
            Parts::default(),
            Parts::default(),
            Parts::default(),
            Parts::default(),
        );
        let (ra, rb, rc, rd) = futures::join!(
            within(deadline, self.read_autoscaling(&mut a)),
            within(deadline, self.read_elbv2(&base.services, &mut b)),
            within(deadline, self.read_alarms(&base.services, &mut c)),
            within(deadline, self.read_log_groups(&base, &mut d)),
        );
        let now = now_ms();
        for (done, part, kind) in [
            (ra.is_some(), &mut a, DataKind::Autoscaling),
            (rb.is_some(), &mut b, DataKind::Elbv2),
            (rc.is_some(), &mut c, DataKind::Cloudwatch),
            (rd.is_some(), &mut d, DataKind::Logs),
        ] {
            if !done && let Some(dl) = deadline {
                record(part, kind, now, Err(dl.missed(kind.as_str())));
            }
        }
        let mut parts = Parts {
            ecs: None,
            autoscaling: a.autoscaling,
            target_groups: b.target_groups,
            alarms: c.alarms,
            metrics: None,
            log_groups: d.log_groups,
            freshness: [a.freshness, b.freshness, c.freshness, d.freshness]
                .into_iter()
                .flatten()
                .collect(),
        };
        let mut m = parts.clone();
        if within(deadline, self.read_metrics(&base.services, &mut m))
            .await
            .is_some()
        {
            parts.metrics = m.metrics;
            parts.freshness = m.freshness;
        } else if let Some(dl) = deadline {
            record(
                &mut parts,
                DataKind::Metrics,
                now_ms(),
                Err(dl.missed("metrics")),
            );
        }
        parts.ecs = Some(Arc::new(base));
        self.assemble(&parts)
    }

    /// One snapshot from the latest of each part.
    pub fn assemble(&self, parts: &Parts) -> FleetSnapshot {
        let mut snap = match &parts.ecs {
            Some(base) => (**base).clone(),
            None => self.empty_snapshot(),
        };
        if let Some((targets, activities)) = &parts.autoscaling {
            snap.scalable_targets = targets.clone();
            snap.scaling_activities = activities.clone();
        }
        snap.target_groups = parts.target_groups.clone().unwrap_or_default();
        snap.alarms = parts.alarms.clone().unwrap_or_default();
        snap.metrics = parts.metrics.clone().unwrap_or_default();
        snap.log_groups = parts.log_groups.clone().unwrap_or_default();
        // Keyed by the account as known now (it may have been learnt after
        // a kind was recorded).
        snap.freshness = std::mem::take(&mut snap.freshness)
            .into_iter()
            .map(|(k, v)| (self.key(k.kind), v))
            .collect();
        for (k, v) in &parts.freshness {
            snap.freshness.insert(self.key(*k), v.clone());
        }
        // One clear line for an expired SSO session, naming the profile.
        if let Some(p) = &self.opts.profile {
            for e in snap.freshness.values_mut().filter_map(|f| f.error.as_mut()) {
                name_profile(e, p);
            }
        }
        snap.source.api_calls = Some(self.calls.total());
        snap.source.throttles = Some(THROTTLES.load(Ordering::Relaxed));
        snap
    }
}

/// The latest reading of each resource kind of one region.
#[derive(Debug, Default, Clone)]
pub struct Parts {
    pub ecs: Option<Arc<FleetSnapshot>>,
    /// Shared: assembling a snapshot hands out these `Arc`s, the same ones
    /// until the kind is read again.
    #[allow(clippy::type_complexity)]
    pub autoscaling: Option<(
        Arc<Vec<crate::model::ScalableTarget>>,
        Arc<Vec<crate::model::ScalingActivity>>,
    )>,
    pub target_groups: Option<Arc<Vec<crate::model::TargetGroup>>>,
    pub alarms: Option<Arc<Vec<crate::model::Alarm>>>,
    pub metrics: Option<Arc<BTreeMap<crate::model::ServiceId, crate::model::ServiceMetrics>>>,
    pub log_groups: Option<Arc<Vec<crate::model::LogGroup>>>,
    pub freshness: BTreeMap<DataKind, Freshness>,
}

/// Record a reading that succeeded with a secondary error (history or
/// activities not served), or failed: on success the kind is fresh and
/// shows the secondary error; on failure as [`record`].
fn record_partial(part: &mut Parts, kind: DataKind, now: i64, r: Result<Option<String>, String>) {
    match r {
        Ok(error) => {
            part.freshness.insert(
                kind,
                Freshness {
                    updated_at: Some(now),
                    error,
                },
            );
        }
        Err(e) => record(part, kind, now, Err(e)),
    }
}

/// Record a reading of `kind`: on an error the previous data stays and so
/// does its time (the pane shows how old it is, and the error).
fn record(part: &mut Parts, kind: DataKind, now: i64, r: Result<(), String>) {
    let mut f = freshness(now, r);
    if f.updated_at.is_none() {
        f.updated_at = part.freshness.get(&kind).and_then(|p| p.updated_at);
    }
    part.freshness.insert(kind, f);
}

/// A reading that may have succeeded with problems around it (read, and
/// the problems shown), or failed.
fn freshness_partial(now: i64, r: Result<Vec<String>, String>) -> Freshness {
    match r {
        Ok(problems) => Freshness {
            updated_at: Some(now),
            error: (!problems.is_empty()).then(|| problems.join("; ")),
        },
        Err(e) => freshness(now, Err(e)),
    }
}

fn freshness(now: i64, r: Result<(), String>) -> Freshness {
    match r {
        Ok(()) => Freshness {
            updated_at: Some(now),
            error: None,
        },
        Err(e) => Freshness {
            updated_at: None,
            error: Some(e),
        },
    }
}

/// `run \`aws sso login\`` → `run \`aws sso login --profile X\``.
fn name_profile(error: &mut String, profile: &str) {
    if error.ends_with("run `aws sso login`") {
        error.truncate(error.len() - 1);
        error.push_str(&format!(" --profile {profile}`"));
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// How often each resource kind is read in the console (each with ±10%
/// jitter, so pollers of several consoles or kinds do not align).
#[derive(Debug, Clone, Copy)]
pub struct Intervals {
    pub ecs: Duration,
    pub autoscaling: Duration,
    pub elbv2: Duration,
    pub alarms: Duration,
    pub metrics: Duration,
    pub log_groups: Duration,
    pub log_poll: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            ecs: Duration::from_secs(10),
            autoscaling: Duration::from_secs(30),
            elbv2: Duration::from_secs(15),
            alarms: Duration::from_secs(20),
            metrics: Duration::from_secs(60),
            log_groups: Duration::from_secs(300),
            log_poll: Duration::from_secs(3),
        }
    }
}

impl Intervals {
    /// How old a kind's data (in any place) may get before the status line
    /// calls it stale: three of its refreshes missed. Log groups are read
    /// every 5 min, so 48 s old is fresh for them.
    pub fn stale_after_secs(&self, kind: DataKind) -> u64 {
        let every = match kind {
            DataKind::Ecs | DataKind::Ec2 | DataKind::Iam => self.ecs,
            DataKind::Autoscaling => self.autoscaling,
            DataKind::Elbv2 => self.elbv2,
            DataKind::Cloudwatch => self.alarms,
            DataKind::Metrics => self.metrics,
            DataKind::Logs => self.log_groups,
            DataKind::Sim => Duration::from_secs(10),
        };
        (3 * every.as_secs()).max(30)
    }
}

/// `d` ± 10%.
pub fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let f = 0.9 + 0.2 * f64::from(nanos % 1000) / 1000.0;
    d.mul_f64(f)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Autoscaling,
    Elbv2,
    Alarms,
    Metrics,
    LogGroups,
}

struct Shared {
    fleet: AwsFleet,
    /// Per region (same order as `fleet.sources`).
    parts: Vec<std::sync::Mutex<Parts>>,
    /// A part changed: publish a new snapshot.
    changed: tokio::sync::Notify,
    /// Per region: read ECS now (after a runbook action).
    refresh_now: Vec<tokio::sync::Notify>,
}

/// AWS is live: it has no clock to pause or speed up. It tails logs
/// (StartLiveTail, or FilterLogEvents polling), makes runbook changes and
/// reads alarm history.
pub const CAPABILITIES: crate::source::Capabilities = crate::source::Capabilities {
    pause: false,
    speed: false,
    live_tail: true,
    writes: true,
    contexts: true,
};

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
    let (follow_tx, follow_rx) = watch::channel::<Option<Option<String>>>(None);
    let mut tasks = tokio::task::JoinSet::new();
    for r in 0..n {
        let (base_tx, base_rx) = watch::channel::<Option<Arc<FleetSnapshot>>>(None);
        // ECS (+ subnets, roles): the base every other kind hangs off.
        tasks.spawn(poll_ecs(shared.clone(), r, base_tx, iv.ecs));
        for (kind, every) in [
            (Kind::Autoscaling, iv.autoscaling),
            (Kind::Elbv2, iv.elbv2),
            (Kind::Alarms, iv.alarms),
            (Kind::Metrics, iv.metrics),
            (Kind::LogGroups, iv.log_groups),
        ] {
            tasks.spawn(poll_kind(shared.clone(), r, kind, every, base_rx.clone()));
        }
    }
    // Publisher: merge the regions' parts into one snapshot.
    tasks.spawn(publish(shared.clone(), tx.clone(), snap_tx));
    // Log tailer.
    {
        let sh = shared.clone();
        let tx = tx.clone();
        let snaps = snapshots.clone();
        tasks.spawn(tail_logs(sh, tx, snaps, follow_rx, iv.log_poll));
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
                    let res = actions::perform(&shared.fleet.sources[i], &call).await;
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

/// ECS (+ subnets, roles) of one region: the base every other kind hangs
/// off. An ECS error keeps the previous services on screen.
async fn poll_ecs(
    sh: Arc<Shared>,
    r: usize,
    base_tx: watch::Sender<Option<Arc<FleetSnapshot>>>,
    every: Duration,
) {
    loop {
        let base = Arc::new(sh.fleet.sources[r].read_ecs().await);
        {
            let mut p = sh.parts[r].lock().unwrap_or_else(|e| e.into_inner());
            // An ECS error keeps the previous services on screen.
            let failed = base
                .freshness
                .iter()
                .any(|(k, f)| k.kind == DataKind::Ecs && f.updated_at.is_none());
            if failed && let Some(prev) = &p.ecs {
                let mut kept = (**prev).clone();
                for (k, v) in &base.freshness {
                    let mut v = v.clone();
                    if v.updated_at.is_none() {
                        v.updated_at = prev.freshness.get(k).and_then(|f| f.updated_at);
                    }
                    kept.freshness.insert(k.clone(), v);
                }
                p.ecs = Some(Arc::new(kept));
            } else {
                p.ecs = Some(base.clone());
            }
            let _ = base_tx.send(p.ecs.clone());
        }
        sh.changed.notify_one();
        tokio::select! {
            _ = tokio::time::sleep(jitter(every)) => {}
            _ = sh.refresh_now[r].notified() => {}
        }
    }
}

/// One kind of one region, read after the first ECS reading, at its own
/// interval (auto scaling also right after a runbook action).
async fn poll_kind(
    sh: Arc<Shared>,
    r: usize,
    kind: Kind,
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
        match kind {
            Kind::Autoscaling => src.read_autoscaling(&mut part).await,
            Kind::Elbv2 => src.read_elbv2(&base.services, &mut part).await,
            Kind::Alarms => src.read_alarms(&base.services, &mut part).await,
            Kind::Metrics => src.read_metrics(&base.services, &mut part).await,
            Kind::LogGroups => src.read_log_groups(&base, &mut part).await,
        }
        {
            let mut p = sh.parts[r].lock().unwrap_or_else(|e| e.into_inner());
            let key = match kind {
                Kind::Autoscaling => {
                    p.autoscaling = part.autoscaling;
                    DataKind::Autoscaling
                }
                Kind::Elbv2 => {
                    p.target_groups = part.target_groups;
                    DataKind::Elbv2
                }
                Kind::Alarms => {
                    p.alarms = part.alarms;
                    DataKind::Cloudwatch
                }
                Kind::Metrics => {
                    p.metrics = part.metrics;
                    DataKind::Metrics
                }
                Kind::LogGroups => {
                    p.log_groups = part.log_groups;
                    DataKind::Logs
                }
            };
            if let Some(f) = part.freshness.remove(&key) {
                p.freshness.insert(key, f);
            }
        }
        sh.changed.notify_one();
        tokio::select! {
            _ = tokio::time::sleep(jitter(every)) => {}
            _ = sh.refresh_now[r].notified(), if kind == Kind::Autoscaling => {}
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

/// Follow the logs the console shows: live tail against AWS, polling when
/// live tail is not available. Re-targets when the operator moves (after a
/// short pause, so scrolling through rows does not start a tail per row).
async fn tail_logs(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct E(&'static str);
    impl std::fmt::Display for E {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for E {}

    #[test]
    fn errors_become_one_actionable_line() {
        assert_eq!(
            describe_error(
                "ecs:ListClusters",
                &E("the SSO session has expired or is invalid")
            ),
            "ecs:ListClusters: the SSO token expired: run `aws sso login`"
        );
        assert!(
            describe_error(
                "ecs:ListClusters",
                &E("ExpiredTokenException: The security token included in the request is expired")
            )
            .contains("session credentials expired")
        );
        assert_eq!(
            describe_error(
                "application-autoscaling:DescribeScalingActivities",
                &E("<!doctype html><html>500 Internal Server Error")
            ),
            "application-autoscaling:DescribeScalingActivities: not available from this endpoint"
        );
        assert_eq!(
            describe_error(
                "cloudwatch:DescribeAlarms",
                &E(
                    r#"Error { code: "AccessDenied", message: "User: arn:aws:iam::1:user/x is not authorized to perform: cloudwatch:DescribeAlarms", aws_request_id: "r" }"#
                )
            ),
            "cloudwatch:DescribeAlarms: AccessDenied: User: arn:aws:iam::1:user/x is not authorized to perform: cloudwatch:DescribeAlarms"
        );
        let mut e = describe_error("ecs:ListClusters", &E("SSO token expired"));
        name_profile(&mut e, "prod-ro");
        assert!(e.ends_with("run `aws sso login --profile prod-ro`"), "{e}");
        let before = THROTTLES.load(Ordering::Relaxed);
        let _ = describe_error(
            "ecs:DescribeTasks",
            &E("ThrottlingException: Rate exceeded"),
        );
        assert!(
            THROTTLES.load(Ordering::Relaxed) > before,
            "throttles are counted"
        );
    }
}
