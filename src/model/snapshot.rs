//! Lookups and bookkeeping over a [`FleetSnapshot`]: every lookup of a
//! service's resources matches its account and region, so twins never
//! share alarms, scaling, metrics or target groups.

use std::sync::Arc;

use super::*;

impl FleetSnapshot {
    /// Every kind of every place whose last reading failed or had
    /// problems, in (kind, region, account) order.
    pub fn errors(&self) -> Vec<DataError> {
        self.freshness
            .iter()
            .filter_map(|(key, f)| {
                let p = self.place_of(key);
                Some(DataError {
                    kind: p.kind.as_str().to_string(),
                    account: p.account.to_string(),
                    profile: p.profile.map(str::to_string),
                    region: p.region.to_string(),
                    message: f.error.clone()?,
                    partial: f.updated_at.is_some(),
                })
            })
            .collect()
    }

    /// Where a freshness key was read.
    pub fn place_of<'a>(&'a self, key: &'a FreshKey) -> Place<'a> {
        Place {
            kind: key.kind,
            region: &key.region,
            account: &key.account,
            profile: key.profile.as_deref(),
        }
    }

    /// Every place read, by its `ecs` key (every AWS read records one).
    pub fn places_read(&self) -> impl Iterator<Item = &FreshKey> + '_ {
        self.freshness.keys().filter(|k| k.kind == DataKind::Ecs)
    }

    /// Keys of any place never read successfully.
    pub fn unread_kinds(&self) -> impl Iterator<Item = &FreshKey> {
        self.freshness
            .iter()
            .filter(|(_, f)| f.updated_at.is_none())
            .map(|(k, _)| k)
    }

    /// Hand out `prev`'s `Arc` for every service and collection that did not
    /// change, so consumers (the review cache) see "unchanged" by pointer.
    /// Sources call it before publishing; the comparisons run there, not on
    /// the UI thread.
    pub fn share_unchanged(&mut self, prev: &FleetSnapshot) {
        let old: rustc_hash::FxHashMap<&str, &Arc<Service>> =
            prev.services.iter().map(|s| (s.arn.as_str(), s)).collect();
        for s in &mut self.services {
            if let Some(o) = old.get(s.arn.as_str())
                && !Arc::ptr_eq(o, s)
                && ***o == **s
            {
                *s = Arc::clone(o);
            }
        }
        fn share<T: PartialEq>(new: &mut Arc<T>, old: &Arc<T>) {
            if !Arc::ptr_eq(new, old) && **new == **old {
                *new = Arc::clone(old);
            }
        }
        share(&mut self.clusters, &prev.clusters);
        share(&mut self.task_definitions, &prev.task_definitions);
        share(&mut self.target_groups, &prev.target_groups);
        share(&mut self.scalable_targets, &prev.scalable_targets);
        share(&mut self.scaling_activities, &prev.scaling_activities);
        share(&mut self.alarms, &prev.alarms);
        share(&mut self.log_groups, &prev.log_groups);
        share(&mut self.ecr_repositories, &prev.ecr_repositories);
        share(&mut self.guardduty, &prev.guardduty);
        if !Arc::ptr_eq(&self.metrics, &prev.metrics)
            && self.metrics.len() == prev.metrics.len()
            && self
                .metrics
                .iter()
                .zip(prev.metrics.iter())
                .all(|((k, a), (l, b))| k == l && a.same(b))
        {
            self.metrics = Arc::clone(&prev.metrics);
        }
    }

    /// The service `id` names.
    pub fn service(&self, id: &ServiceId) -> Option<&Service> {
        self.services.iter().find(|s| s.is(id)).map(|s| &**s)
    }

    /// The services whose short key (`cluster/name`) is `key`: one, or
    /// several twins in other regions or accounts (a runbook parameter or a
    /// typed name resolves through this and must then pick one).
    pub fn services_named<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Service> + 'a {
        self.services
            .iter()
            .filter(move |s| s.has_key(key))
            .map(|s| &**s)
    }

    /// The service with short key `key` in `region` (any region when
    /// `None`, then the first in (account, region) order).
    pub fn service_in(&self, key: &str, region: Option<&str>) -> Option<&Service> {
        self.services
            .iter()
            .find(|s| s.has_key(key) && region.is_none_or(|r| s.region == r))
            .map(|s| &**s)
    }

    /// The accounts the fleet spans, sorted.
    pub fn accounts(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.services.iter().map(|s| s.account.as_str()).collect();
        v.extend(self.clusters.iter().map(|c| c.account.as_str()));
        v.sort_unstable();
        v.dedup();
        v
    }

    /// More than one account is read: services, and places read (a
    /// profile whose reads failed counts, by its name).
    pub fn spans_accounts(&self) -> bool {
        let mut seen: Vec<String> = self.accounts().iter().map(|a| a.to_string()).collect();
        for key in self.places_read() {
            let p = self.place_of(key);
            seen.push(match p.profile {
                Some(name) => format!("profile {name}"),
                None => p.account.to_string(),
            });
        }
        seen.retain(|a| !a.is_empty());
        seen.sort_unstable();
        seen.dedup();
        seen.len() > 1
    }

    /// Where a row is, for lines that name a service in a fleet of several
    /// places: `us-west-2 `, `444455556666 us-east-1 `, or nothing when the
    /// fleet spans one account and one region. `spans` is
    /// ([`Self::spans_accounts`], [`Self::spans_regions`]), computed once
    /// per frame by the caller.
    pub fn place_prefix(spans: (bool, bool), account: &str, region: &str) -> String {
        match spans {
            (true, _) => format!("{account} {region} "),
            (false, true) => format!("{region} "),
            (false, false) => String::new(),
        }
    }

    /// More than one region is read.
    pub fn spans_regions(&self) -> bool {
        self.regions().len() > 1 || self.source.region.contains(',')
    }

    /// The regions the fleet spans, sorted.
    pub fn regions(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.services.iter().map(|s| s.region.as_str()).collect();
        v.extend(self.clusters.iter().map(|c| c.region.as_str()));
        v.sort_unstable();
        v.dedup();
        v
    }

    pub fn task_definition(&self, arn: &str) -> Option<&TaskDefinition> {
        self.task_definitions.get(arn).map(|a| a.as_ref())
    }

    pub fn scalable_target(&self, svc: &Service) -> Option<&ScalableTarget> {
        let rid = svc.scaling_resource_id();
        self.scalable_targets
            .iter()
            .find(|t| t.resource_id == rid && same_place(&t.account, &t.region, svc))
    }

    /// Newest first.
    pub fn scaling_activities_for<'a>(
        &'a self,
        svc: &'a Service,
    ) -> impl Iterator<Item = &'a ScalingActivity> + 'a {
        let rid = svc.scaling_resource_id();
        self.scaling_activities
            .iter()
            .filter(move |a| a.resource_id == rid && same_place(&a.account, &a.region, svc))
    }

    pub fn alarms_for<'a>(&'a self, svc: &'a Service) -> impl Iterator<Item = &'a Alarm> + 'a {
        let key = svc.key();
        self.alarms.iter().filter(move |a| {
            a.service_key.as_deref() == Some(key.as_str()) && same_place(&a.account, &a.region, svc)
        })
    }

    pub fn target_groups_for<'a>(
        &'a self,
        svc: &'a Service,
    ) -> impl Iterator<Item = &'a TargetGroup> + 'a {
        self.target_groups.iter().filter(move |tg| {
            svc.load_balancers
                .iter()
                .any(|lb| lb.target_group_arn == tg.arn)
        })
    }

    pub fn metrics_for(&self, svc: &Service) -> Option<&ServiceMetrics> {
        self.metrics.get(&svc.id())
    }

    /// The AZs seen anywhere in the fleet (subnets, tasks, targets), sorted.
    pub fn availability_zones(&self) -> Vec<String> {
        let mut azs: Vec<String> = self
            .services
            .iter()
            .flat_map(|s| {
                s.subnets
                    .iter()
                    .map(|n| n.availability_zone.clone())
                    .chain(s.tasks.iter().filter_map(|t| t.availability_zone.clone()))
            })
            .collect();
        azs.sort();
        azs.dedup();
        azs
    }
}

/// A resource read in `account`/`region` belongs with `svc`'s. Every
/// source fills both; a resource that lacks them (built by hand) matches
/// on what it has.
pub(crate) fn same_place(account: &str, region: &str, svc: &Service) -> bool {
    (account.is_empty() || account == svc.account) && (region.is_empty() || region == svc.region)
}

#[cfg(test)]
mod tests;
