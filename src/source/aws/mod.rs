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
mod pollers;
mod security;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;

pub use deadline::{Deadline, within};
pub use fleet::{AwsFleet, merge};
pub use pollers::spawn;

use crate::model::{DataKind, FleetSnapshot, FreshKey, Freshness, SourceInfo};

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
    /// ECR and GuardDuty (the review's security posture).
    pub posture: AtomicU64,
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
            &self.posture,
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
    pub(crate) codedeploy: aws_sdk_codedeploy::Client,
    pub(crate) fis: aws_sdk_fis::Client,
    pub(crate) route53: aws_sdk_route53::Client,
    pub(crate) rds: aws_sdk_rds::Client,
    pub(crate) ecr: aws_sdk_ecr::Client,
    pub(crate) guardduty: aws_sdk_guardduty::Client,
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
    /// Load balancer attributes and listeners by ARN, with when they were read.
    pub(crate) lb_posture: tokio::sync::Mutex<
        std::collections::HashMap<String, (i64, crate::model::LoadBalancerPosture)>,
    >,
    pub(crate) alarm_history: tokio::sync::Mutex<cloudwatch::HistoryCache>,
    pub(crate) log_groups: tokio::sync::Mutex<logs::GroupCache>,
    /// The AWS config or credentials file could not be read safely (not a
    /// regular file, too large, not UTF-8): every read fails with this, and
    /// the SDK is never let near the file (a FIFO would block it for good).
    pub(crate) setup_error: Option<String>,
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
    /// Connect, reading the AWS config and credentials files first through
    /// the files guard (see [`AwsSource::connect_with`]).
    pub async fn connect(opts: AwsOptions) -> AwsSource {
        let files = contexts::read_profile_files(&aws_types::os_shim_internal::Env::real());
        Self::connect_with(opts, &files).await
    }

    /// Connect with the AWS config and credentials files already read
    /// (through the files guard): the SDK gets their text and never reads
    /// them itself; a file that could not be read fails every data kind.
    pub async fn connect_with(opts: AwsOptions, files: &contexts::ProfileFiles) -> AwsSource {
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
        let setup_error = match files {
            Ok(found) if found.is_empty() => None,
            Ok(found) => {
                let mut b = aws_runtime::env_config::file::EnvConfigFiles::builder();
                for (kind, text) in found {
                    b = b.with_contents(*kind, text.clone());
                }
                loader = loader.profile_files(b.build());
                None
            }
            Err(e) => {
                // An empty config in place of the files: the SDK reads
                // neither, and every data kind reports `e`.
                loader = loader.profile_files(
                    aws_runtime::env_config::file::EnvConfigFiles::builder()
                        .with_contents(aws_runtime::env_config::file::EnvConfigFileKind::Config, "")
                        .build(),
                );
                Some(e.clone())
            }
        };
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
            codedeploy: aws_sdk_codedeploy::Client::new(&conf),
            fis: aws_sdk_fis::Client::new(&conf),
            route53: aws_sdk_route53::Client::new(&conf),
            rds: aws_sdk_rds::Client::new(&conf),
            ecr: aws_sdk_ecr::Client::new(&conf),
            guardduty: aws_sdk_guardduty::Client::new(&conf),
            opts,
            region,
            account: Default::default(),
            identity: Default::default(),
            calls: Arc::new(CallCounts::default()),
            td_cache: Default::default(),
            subnets: Default::default(),
            roles: Default::default(),
            tg_attributes: Default::default(),
            lb_posture: Default::default(),
            alarm_history: Default::default(),
            log_groups: Default::default(),
            setup_error,
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
        let mut parts = pollers::read_once(self, &base, deadline).await;
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
        snap.ecr_repositories = parts.ecr_repositories.clone().unwrap_or_default();
        snap.guardduty = parts.guardduty.clone().unwrap_or_default();
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
    pub ecr_repositories: Option<Arc<Vec<crate::model::EcrRepository>>>,
    pub guardduty: Option<Arc<Vec<crate::model::GuardDuty>>>,
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
    /// ECR repositories and GuardDuty (slow to change).
    pub posture: Duration,
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
            posture: Duration::from_secs(600),
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
            DataKind::Sim => Duration::from_secs(10),
            _ => pollers::POLLERS
                .iter()
                .find(|p| p.kind() == kind)
                .map_or(self.ecs, |p| p.every(self)),
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
