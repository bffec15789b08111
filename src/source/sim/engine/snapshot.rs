//! The fleet as consumers see it: unchanged parts shared by pointer.

use super::*;

impl Engine {
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
                // Only rolling deployments report a rolloutState (ECS).
                if !svc.deployment_configuration.is_rolling() {
                    for d in &mut svc.deployments {
                        d.rollout_state = None;
                        d.rollout_state_reason = None;
                    }
                }
                // Each awsvpc task holds one IP of its subnet until it stops.
                for n in &mut svc.subnets {
                    let held = svc
                        .tasks
                        .iter()
                        .filter(|t| {
                            t.last_status != "STOPPED"
                                && t.availability_zone.as_deref()
                                    == Some(n.availability_zone.as_str())
                        })
                        .count() as i32;
                    n.available_ip_address_count = (n.available_ip_address_count - held).max(0);
                }
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
            ecr_repositories: Arc::new(self.ecr_repositories.clone()),
            guardduty: Arc::new(self.guardduty.clone()),
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
