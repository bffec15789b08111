//! CloudWatch Logs: the log groups named by the services' awslogs
//! configuration (retention, for OPS-03), and the tail of the services the
//! operator looks at.
//!
//! Tail: StartLiveTail against AWS; FilterLogEvents polling as the fallback
//! (a custom endpoint, or live tail refused): each poll re-queries a trailing
//! window and drops events already seen, by eventId in a bounded set.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use super::{AwsSource, bump, describe_error, now_ms};
use crate::model::{FleetSnapshot, LogGroup, LogLine, Service};

const GROUPS_REFRESH_MS: i64 = 5 * 60 * 1000;
/// How far back the first poll of a tail reads.
pub const FIRST_WINDOW_MS: i64 = 5 * 60 * 1000;
/// The trailing window re-read on every poll: CloudWatch Logs may deliver an
/// event seconds after its timestamp.
pub const TRAILING_WINDOW_MS: i64 = 30 * 1000;
/// Event ids remembered per tail for de-duplication.
pub const SEEN_CAP: usize = 20_000;
/// Pages per poll (1 MB / 10,000 events each): a flood is cut, not queued.
const PAGES_PER_POLL: usize = 5;

/// The log groups of `groups` (names), with their retention.
pub async fn fetch_groups(src: &AwsSource, groups: &[String]) -> Result<Vec<LogGroup>, String> {
    let now = now_ms();
    let mut cache = src.log_groups.lock().await;
    let stale = cache.read_at.is_none_or(|at| now - at > GROUPS_REFRESH_MS);
    for name in groups {
        if !stale && cache.by_name.contains_key(name) {
            continue;
        }
        let mut pages = src
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .into_paginator()
            .send();
        let mut found = None;
        while let Some(page) = pages.next().await {
            bump(&src.calls.logs);
            let page = page.map_err(|e| describe_error("logs:DescribeLogGroups", &e))?;
            if let Some(g) = page
                .log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(name.as_str()))
            {
                found = Some((
                    LogGroup {
                        name: name.clone(),
                        account: String::new(),
                        region: String::new(),
                        retention_in_days: g.retention_in_days(),
                        kms_key_id: g.kms_key_id().map(str::to_string),
                    },
                    g.log_group_arn()
                        .map(str::to_string)
                        .or_else(|| g.arn().map(|a| a.trim_end_matches(":*").to_string())),
                ));
                break;
            }
        }
        match found {
            Some(f) => {
                cache.by_name.insert(name.clone(), f);
            }
            // A group named in a task definition that does not exist: the
            // awslogs driver creates it only with awslogs-create-group.
            None => {
                cache.by_name.remove(name);
            }
        }
    }
    if stale {
        cache.read_at = Some(now);
    }
    Ok(groups
        .iter()
        .filter_map(|g| cache.by_name.get(g).map(|(lg, _)| lg.clone()))
        .collect())
}

#[derive(Debug, Default)]
pub struct GroupCache {
    /// Name → (group, ARN without `:*`).
    pub by_name: HashMap<String, (LogGroup, Option<String>)>,
    pub read_at: Option<i64>,
}

/// The awslogs group names of the services' current task definitions.
pub fn group_names(snap: &FleetSnapshot) -> Vec<String> {
    let mut v: Vec<String> = snap
        .services
        .iter()
        .flat_map(|s| targets(snap, s))
        .map(|t| t.group)
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Where one container of a service writes: its group and stream prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TailTarget {
    pub service_key: String,
    pub service: crate::model::ServiceId,
    pub group: String,
    /// `prefix/container/` (the awslogs stream name is prefix/container/task-id).
    pub stream_prefix: Option<String>,
}

/// The awslogs destinations of a service's current task definition.
pub fn targets(snap: &FleetSnapshot, s: &Service) -> Vec<TailTarget> {
    let Some(td) = snap.task_definition(&s.task_definition) else {
        return vec![];
    };
    td.container_definitions
        .iter()
        .filter_map(|c| {
            let lc = c.log_configuration.as_ref()?;
            if lc.log_driver != "awslogs" {
                return None;
            }
            Some(TailTarget {
                service_key: s.key(),
                service: s.id(),
                group: lc.options.get("awslogs-group")?.clone(),
                stream_prefix: lc
                    .options
                    .get("awslogs-stream-prefix")
                    .map(|p| format!("{p}/{}/", c.name)),
            })
        })
        .collect()
}

/// Event ids already delivered, bounded: the oldest are forgotten first.
#[derive(Debug, Default)]
pub struct SeenIds {
    set: HashSet<String>,
    order: VecDeque<String>,
}

impl SeenIds {
    /// True when `id` is new.
    pub fn insert(&mut self, id: &str) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() >= SEEN_CAP
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        self.set.insert(id.to_string());
        self.order.push_back(id.to_string());
        true
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// One polled tail (FilterLogEvents).
#[derive(Debug)]
pub struct PollTail {
    pub target: TailTarget,
    seen: SeenIds,
    /// Newest event timestamp delivered.
    newest: Option<i64>,
}

impl PollTail {
    pub fn new(target: TailTarget) -> PollTail {
        PollTail {
            target,
            seen: SeenIds::default(),
            newest: None,
        }
    }

    /// New events since the last poll, oldest first. `next_id` numbers them.
    pub async fn poll(
        &mut self,
        src: &AwsSource,
        next_id: &mut u64,
    ) -> Result<Vec<LogLine>, String> {
        let now = now_ms();
        let start = match self.newest {
            Some(n) => (n - TRAILING_WINDOW_MS).max(now - FIRST_WINDOW_MS),
            None => now - FIRST_WINDOW_MS,
        };
        let mut pages = src
            .logs
            .filter_log_events()
            .log_group_name(&self.target.group)
            .set_log_stream_name_prefix(self.target.stream_prefix.clone())
            .start_time(start)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        let mut n = 0;
        while let Some(page) = pages.next().await {
            bump(&src.calls.logs);
            let page = page.map_err(|e| describe_error("logs:FilterLogEvents", &e))?;
            for e in page.events() {
                let id = e.event_id().unwrap_or_default();
                if !id.is_empty() && !self.seen.insert(id) {
                    continue;
                }
                let ts = e.timestamp().unwrap_or(now);
                self.newest = Some(self.newest.map_or(ts, |n| n.max(ts)));
                *next_id += 1;
                out.push(LogLine {
                    id: *next_id,
                    timestamp: ts,
                    service_key: self.target.service_key.clone(),
                    service: Some(self.target.service.clone()),
                    log_group: self.target.group.clone(),
                    log_stream: e.log_stream_name().unwrap_or_default().to_string(),
                    message: e.message().unwrap_or_default().to_string(),
                });
            }
            n += 1;
            if n >= PAGES_PER_POLL {
                break;
            }
        }
        out.sort_by_key(|l| (l.timestamp, l.id));
        Ok(out)
    }
}

/// What the console asks to follow: one service, or (None) the fleet.
pub fn follow_targets(
    snap: &FleetSnapshot,
    scope: Option<&crate::model::ServiceId>,
) -> Vec<TailTarget> {
    /// A fleet-wide tail follows at most this many services, the least
    /// healthy first (each is a call per poll).
    const FLEET_TAIL_SERVICES: usize = 6;
    let mut services: Vec<&Arc<Service>> = match scope {
        Some(k) => snap.services.iter().filter(|s| s.id() == *k).collect(),
        None => snap.services.iter().collect(),
    };
    if scope.is_none() {
        services.sort_by_key(|s| {
            (
                std::cmp::Reverse(s.desired_count - s.running_count),
                std::cmp::Reverse(s.deployments.len()),
            )
        });
        services.truncate(FLEET_TAIL_SERVICES);
    }
    let mut v: Vec<TailTarget> = services.iter().flat_map(|s| targets(snap, s)).collect();
    v.dedup();
    v
}

/// Live tail (StartLiveTail) of `targets` until the stream ends, `stop`
/// fires, or an error (returned: the caller falls back to polling).
pub async fn live_tail(
    src: &AwsSource,
    targets: &[TailTarget],
    tx: &tokio::sync::mpsc::Sender<crate::source::Update>,
    next_id: &mut u64,
    mut stop: impl std::future::Future<Output = ()> + Unpin,
) -> Result<(), String> {
    // Live tail takes group ARNs (at most 10 groups a session).
    let arns: HashMap<String, String> = {
        let cache = src.log_groups.lock().await;
        targets
            .iter()
            .filter_map(|t| Some((cache.by_name.get(&t.group)?.1.clone()?, t.group.clone())))
            .collect()
    };
    if arns.is_empty() {
        return Err("logs:StartLiveTail: the log groups are not known yet".into());
    }
    let mut req = src.logs.start_live_tail();
    for arn in arns.keys().take(10) {
        req = req.log_group_identifiers(arn);
    }
    // Stream prefixes apply only to a single-group session.
    if arns.len() == 1 {
        for p in targets.iter().filter_map(|t| t.stream_prefix.clone()) {
            req = req.log_stream_name_prefixes(p);
        }
    }
    bump(&src.calls.logs);
    // A live tail session streams for hours: no operation timeout on it.
    let mut out = req
        .customize()
        .config_override(
            aws_sdk_cloudwatchlogs::config::Builder::default()
                .timeout_config(aws_config::timeout::TimeoutConfig::disabled()),
        )
        .send()
        .await
        .map_err(|e| describe_error("logs:StartLiveTail", &e))?;
    loop {
        let ev = tokio::select! {
            _ = &mut stop => return Ok(()),
            ev = out.response_stream.recv() => ev,
        };
        let ev = match ev {
            Ok(Some(ev)) => ev,
            Ok(None) => return Ok(()),
            Err(e) => return Err(describe_error("logs:StartLiveTail", &e)),
        };
        let aws_sdk_cloudwatchlogs::types::StartLiveTailResponseStream::SessionUpdate(u) = ev
        else {
            continue;
        };
        let mut lines = Vec::new();
        for e in u.session_results() {
            let group_id = e.log_group_identifier().unwrap_or_default();
            let group = arns
                .iter()
                .find(|(arn, _)| {
                    group_id == arn.as_str() || group_id.ends_with(&format!(":{}", arns[*arn]))
                })
                .map(|(_, g)| g.clone())
                .unwrap_or_else(|| group_id.rsplit(':').next().unwrap_or(group_id).to_string());
            let stream = e.log_stream_name().unwrap_or_default();
            let Some(t) = targets.iter().find(|t| {
                t.group == group
                    && t.stream_prefix
                        .as_deref()
                        .is_none_or(|p| stream.starts_with(p))
            }) else {
                continue;
            };
            *next_id += 1;
            lines.push(LogLine {
                id: *next_id,
                timestamp: e.timestamp().unwrap_or_else(now_ms),
                service_key: t.service_key.clone(),
                service: Some(t.service.clone()),
                log_group: group,
                log_stream: stream.to_string(),
                message: e.message().unwrap_or_default().to_string(),
            });
        }
        if !lines.is_empty() && tx.send(crate::source::Update::Logs(lines)).await.is_err() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seen_ids_are_bounded_and_deduplicate() {
        let mut s = SeenIds::default();
        assert!(s.insert("a"));
        assert!(!s.insert("a"), "a repeat is not new");
        for i in 0..SEEN_CAP + 10 {
            s.insert(&i.to_string());
        }
        assert_eq!(s.len(), SEEN_CAP, "bounded");
        assert!(s.insert("a"), "the oldest was forgotten first");
    }
}
