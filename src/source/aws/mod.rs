//! The AWS source (first slice): ECS clusters, services, deployments, tasks
//! and task definitions through the SDK, batched to the API maxima and
//! paginated, converted to the model at the edge.
//!
//! Application Auto Scaling targets, policies and activities are read too.
//! Not yet read here (the rest of the AWS issue): ELBv2 target health,
//! CloudWatch alarms and metrics, CloudWatch Logs, EC2 subnets, IAM. Panes
//! that need them say the source has no data.

pub mod actions;
mod autoscaling;
mod ecs;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use tokio::sync::{mpsc, watch};

use crate::model::{FleetSnapshot, Freshness, SourceInfo};
use crate::source::{Control, SourceHandle, UPDATE_CHANNEL_BOUND, Update};

/// How to reach AWS: the standard credential chain plus the CLI's overrides.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
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
    pub(crate) opts: AwsOptions,
    pub region: String,
    pub calls: Arc<CallCounts>,
    /// Task definitions are immutable per revision: cached by ARN.
    pub(crate) td_cache: tokio::sync::Mutex<BTreeMap<String, Arc<crate::model::TaskDefinition>>>,
}

/// Throttling errors seen by any source (the status line's count).
pub static THROTTLES: AtomicU64 = AtomicU64::new(0);

/// One line for an error, as the status line shows it ("AccessDenied: ...").
pub fn describe_error<E: std::error::Error>(op: &str, e: &E) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    let msg = msg.lines().next().unwrap_or("").to_string();
    if msg.contains("Throttl") || msg.contains("Rate exceeded") || msg.contains("TooManyRequests") {
        THROTTLES.fetch_add(1, Ordering::Relaxed);
    }
    if msg.contains("malformed") || msg.contains("<html") || msg.contains("500") {
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
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).retry_config(RetryConfig::adaptive());
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
            opts,
            region,
            calls: Arc::new(CallCounts::default()),
            td_cache: Default::default(),
        }
    }

    /// One full refresh of what this slice reads.
    pub async fn fetch(&self) -> FleetSnapshot {
        let now = now_ms();
        let mut snap = FleetSnapshot {
            at: now,
            source: SourceInfo {
                kind: "aws".into(),
                label: self
                    .opts
                    .profile
                    .clone()
                    .unwrap_or_else(|| "default".into()),
                region: self.region.clone(),
                speed: None,
                seed: None,
                api_calls: None,
                throttles: None,
            },
            ..Default::default()
        };
        let fresh = match ecs::fetch_ecs(self, &mut snap).await {
            Ok(()) => Freshness {
                updated_at: Some(now),
                error: None,
            },
            Err(e) => Freshness {
                updated_at: None,
                error: Some(e),
            },
        };
        snap.freshness.insert("ecs".into(), fresh);
        let fresh = match autoscaling::fetch(self, &mut snap).await {
            Ok(activity_error) => Freshness {
                updated_at: Some(now),
                error: activity_error,
            },
            Err(e) => Freshness {
                updated_at: None,
                error: Some(e),
            },
        };
        snap.freshness.insert("autoscaling".into(), fresh);
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

/// Hand out the previous refresh's `Arc` for every service that did not
/// change, so consumers (the review cache) see "unchanged" by pointer. The
/// comparison runs here, in the source task, not on the UI thread.
pub fn reuse_unchanged(fresh: &mut FleetSnapshot, prev: &FleetSnapshot) {
    let old: std::collections::HashMap<&str, &Arc<crate::model::Service>> =
        prev.services.iter().map(|s| (s.arn.as_str(), s)).collect();
    for s in &mut fresh.services {
        if let Some(o) = old.get(s.arn.as_str())
            && ***o == **s
        {
            *s = Arc::clone(o);
        }
    }
}

/// One source per `--region`, read together and merged into one snapshot
/// whose every service carries its region.
pub struct AwsFleet {
    pub sources: Vec<AwsSource>,
}

impl AwsFleet {
    pub async fn connect(opts: AwsOptions) -> AwsFleet {
        let mut regions = opts.regions.clone();
        regions.dedup();
        if regions.len() <= 1 {
            let region = regions.first().cloned().or(opts.region.clone());
            return AwsFleet {
                sources: vec![AwsSource::connect(AwsOptions { region, ..opts }).await],
            };
        }
        let connects = regions.iter().map(|r| {
            AwsSource::connect(AwsOptions {
                region: Some(r.clone()),
                ..opts.clone()
            })
        });
        AwsFleet {
            sources: futures::future::join_all(connects).await,
        }
    }

    /// One full refresh of every region (concurrently), merged.
    pub async fn fetch(&self) -> FleetSnapshot {
        let snaps = futures::future::join_all(self.sources.iter().map(|s| s.fetch())).await;
        merge(snaps)
    }

    pub fn calls(&self) -> u64 {
        self.sources.iter().map(|s| s.calls.total()).sum()
    }
}

/// Merge per-region snapshots. Services stay ordered by (region, cluster,
/// name); freshness keys of later regions get an `@region` suffix.
pub fn merge(snaps: Vec<FleetSnapshot>) -> FleetSnapshot {
    let mut it = snaps.into_iter();
    let mut merged = it.next().unwrap_or_default();
    let mut regions = vec![merged.source.region.clone()];
    for s in it {
        regions.push(s.source.region.clone());
        merged.clusters.extend(s.clusters);
        merged.services.extend(s.services);
        merged.task_definitions.extend(s.task_definitions);
        merged.scalable_targets.extend(s.scalable_targets);
        merged.scaling_activities.extend(s.scaling_activities);
        merged.target_groups.extend(s.target_groups);
        merged.alarms.extend(s.alarms);
        merged.log_groups.extend(s.log_groups);
        merged.metrics.extend(s.metrics);
        for (k, v) in s.freshness {
            merged
                .freshness
                .insert(format!("{k}@{}", s.source.region), v);
        }
        merged.source.api_calls = match (merged.source.api_calls, s.source.api_calls) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        merged.at = merged.at.max(s.at);
    }
    if regions.len() > 1 {
        merged.source.region = regions.join(",");
        merged.services.sort_by(|a, b| {
            (&a.region, &a.cluster, &a.name).cmp(&(&b.region, &b.cluster, &b.name))
        });
    }
    merged
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

/// Poll every `interval` (a refresh never queues behind one in flight: the
/// next starts only after the previous finished).
pub fn spawn(fleet: AwsFleet, interval: Duration) -> SourceHandle {
    let (tx, updates) = mpsc::channel(UPDATE_CHANNEL_BOUND);
    let (snap_tx, snapshots) = watch::channel(Arc::new(FleetSnapshot::default()));
    let (control, mut control_rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let mut previous: Option<Arc<FleetSnapshot>> = None;
        loop {
            let mut fresh = fleet.fetch().await;
            if let Some(prev) = &previous {
                reuse_unchanged(&mut fresh, prev);
            }
            let snap = Arc::new(fresh);
            previous = Some(snap.clone());
            for f in snap.freshness.values() {
                if let Some(e) = &f.error
                    && tx.send(Update::Warning(e.clone())).await.is_err()
                {
                    return;
                }
            }
            let _ = snap_tx.send(snap.clone());
            if tx.send(Update::Snapshot(snap)).await.is_err() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                c = control_rx.recv() => match c {
                    Some(Control::Shutdown) | None => return,
                    Some(Control::Apply(id, call)) => {
                        // A runbook action; the refresh right after shows its effect.
                        let region = call.target().region.as_deref();
                        let src = fleet
                            .sources
                            .iter()
                            .find(|s| region.is_none_or(|r| s.region == r))
                            .unwrap_or(&fleet.sources[0]);
                        let res = actions::perform(src, &call).await;
                        if tx.send(Update::CallResult(id, res)).await.is_err() {
                            return;
                        }
                    }
                    Some(_) => {}
                },
            }
        }
    });
    SourceHandle {
        updates,
        snapshots,
        control,
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
