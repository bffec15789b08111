//! ECS (clusters, services, tasks, task definitions) with EC2 subnets and
//! IAM task roles folded in: the base every other poller hangs off. Fills
//! `Parts::ecs`; freshness `ecs`, `ec2`, `iam`. Not in [`super::POLLERS`]:
//! it runs first and hands its reading to the others.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Shared;
use crate::model::{DataKind, FleetSnapshot};
use crate::source::aws::{AwsSource, ec2, ecs, freshness, freshness_partial, iam, jitter};

impl AwsSource {
    /// ECS (clusters, services, tasks, task definitions), with the AZ of
    /// each subnet (EC2) and the task roles' policies (IAM) folded in. The
    /// snapshot's freshness has `ecs`, `ec2` and `iam`.
    pub async fn read_ecs(&self) -> FleetSnapshot {
        let mut snap = self.empty_snapshot();
        let now = snap.at;
        if let Some(e) = &self.setup_error {
            snap.freshness
                .insert(self.key(DataKind::Ecs), freshness(now, Err(e.clone())));
            return snap;
        }
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
        // Task and execution roles (SEC-06).
        let mut role_arns: Vec<String> = snap
            .task_definitions
            .values()
            .flat_map(|t| [t.task_role_arn.clone(), t.execution_role_arn.clone()])
            .flatten()
            .collect();
        role_arns.sort();
        role_arns.dedup();
        let roles = iam::roles(self, &role_arns).await;
        for td in std::sync::Arc::make_mut(&mut snap.task_definitions).values_mut() {
            let role = td.task_role_arn.as_ref().and_then(|a| roles.read.get(a));
            if td.task_role.as_ref() != role.map(|r| &**r) {
                Arc::make_mut(td).task_role = role.map(|r| (**r).clone());
            }
            let exec = td
                .execution_role_arn
                .as_ref()
                .and_then(|a| roles.read.get(a));
            if td.execution_role.as_ref() != exec.map(|r| &**r) {
                Arc::make_mut(td).execution_role = exec.map(|r| (**r).clone());
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
}

/// ECS (+ subnets, roles) of one region: the base every other kind hangs
/// off. An ECS error keeps the previous services on screen.
pub(super) async fn poll_ecs(
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
