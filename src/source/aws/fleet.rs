//! Several sources read as one fleet: one per (profile, region), read
//! concurrently and merged into one snapshot whose every row carries its
//! account and region.

use std::sync::Arc;

use super::{AwsOptions, AwsSource, Deadline};
use crate::model::{FleetSnapshot, FreshKey};

/// One source per (`--profile`, `--region`), read together and merged into
/// one snapshot whose every service carries its account and region.
pub struct AwsFleet {
    pub sources: Vec<AwsSource>,
}

/// Every (profile, region) to read, in the order given: profiles outer.
/// No `--profile` is the default chain's; no `--region` the profile's own.
pub fn places(opts: &AwsOptions) -> Vec<(Option<String>, Option<String>)> {
    let mut profiles: Vec<Option<String>> = Vec::new();
    for p in opts.profiles.iter().cloned().map(Some) {
        if !profiles.contains(&p) {
            profiles.push(p);
        }
    }
    if profiles.is_empty() {
        profiles.push(opts.profile.clone());
    }
    let mut regions: Vec<Option<String>> = Vec::new();
    for r in opts.regions.iter().cloned().map(Some) {
        if !regions.contains(&r) {
            regions.push(r);
        }
    }
    if regions.is_empty() {
        regions.push(opts.region.clone());
    }
    profiles
        .iter()
        .flat_map(|p| regions.iter().map(move |r| (p.clone(), r.clone())))
        .collect()
}

impl AwsFleet {
    pub async fn connect(opts: AwsOptions) -> AwsFleet {
        // The files are read once, through the files guard, for every place.
        let files = super::contexts::read_profile_files(&aws_types::os_shim_internal::Env::real());
        let files = &files;
        let connects = places(&opts).into_iter().map(|(profile, region)| {
            AwsSource::connect_with(
                AwsOptions {
                    profile,
                    region,
                    ..opts.clone()
                },
                files,
            )
        });
        AwsFleet {
            sources: futures::future::join_all(connects).await,
        }
    }

    /// One full refresh of every profile and region (concurrently), merged.
    pub async fn fetch(&self) -> FleetSnapshot {
        self.fetch_by(None).await
    }

    /// [`AwsFleet::fetch`] within a deadline.
    pub async fn fetch_by(&self, deadline: Option<Deadline>) -> FleetSnapshot {
        let snaps =
            futures::future::join_all(self.sources.iter().map(|s| s.fetch_by(deadline))).await;
        merge(snaps)
    }

    /// The source reading `account` (when known) in `region` (when given):
    /// the first one when the call names neither.
    pub fn source_for(&self, account: Option<&str>, region: Option<&str>) -> Option<usize> {
        self.sources.iter().position(|s| {
            region.is_none_or(|r| r.is_empty() || s.region == r)
                && account.is_none_or(|a| {
                    let mine = s.account();
                    mine.is_empty() || mine == a
                })
        })
    }

    pub fn calls(&self) -> u64 {
        self.sources.iter().map(|s| s.calls.total()).sum()
    }
}

/// The freshness key of a later source's reading: with one profile an
/// account not known is the first source's (one profile reads one account);
/// with several, the profile is named while its account is not known (see
/// [`FleetSnapshot::errors`]).
fn place_key(
    mut k: FreshKey,
    s: &FleetSnapshot,
    home_account: &str,
    several_profiles: bool,
) -> FreshKey {
    if k.account.is_empty() {
        if several_profiles {
            k.profile = Some(Arc::from(s.source.label.as_str()));
        } else {
            k.account = Arc::from(home_account);
        }
    }
    k
}

/// Merge per-source snapshots. Services stay ordered by (account, region,
/// cluster, name); freshness keys name their place (see [`place_key`]).
pub fn merge(snaps: Vec<FleetSnapshot>) -> FleetSnapshot {
    let mut labels: Vec<String> = Vec::new();
    let mut regions: Vec<String> = Vec::new();
    for s in &snaps {
        if !labels.contains(&s.source.label) {
            labels.push(s.source.label.clone());
        }
        if !regions.contains(&s.source.region) {
            regions.push(s.source.region.clone());
        }
    }
    let several_profiles = labels.len() > 1;
    let mut it = snaps.into_iter().enumerate();
    let Some((_, mut merged)) = it.next() else {
        return FleetSnapshot::default();
    };
    let many = it.len() > 0;
    for (_, s) in it {
        Arc::make_mut(&mut merged.clusters).extend(s.clusters.iter().cloned());
        merged.services.extend(s.services.iter().cloned());
        Arc::make_mut(&mut merged.task_definitions).extend(
            s.task_definitions
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        Arc::make_mut(&mut merged.scalable_targets).extend(s.scalable_targets.iter().cloned());
        Arc::make_mut(&mut merged.scaling_activities).extend(s.scaling_activities.iter().cloned());
        Arc::make_mut(&mut merged.target_groups).extend(s.target_groups.iter().cloned());
        Arc::make_mut(&mut merged.alarms).extend(s.alarms.iter().cloned());
        Arc::make_mut(&mut merged.log_groups).extend(s.log_groups.iter().cloned());
        Arc::make_mut(&mut merged.ecr_repositories).extend(s.ecr_repositories.iter().cloned());
        Arc::make_mut(&mut merged.guardduty).extend(s.guardduty.iter().cloned());
        Arc::make_mut(&mut merged.metrics)
            .extend(s.metrics.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged.account_aliases.extend(
            s.account_aliases
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        if !s.unread.is_empty() {
            Arc::make_mut(&mut merged.unread)
                .extend(s.unread.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        for (k, v) in s.freshness.iter() {
            let k = place_key(k.clone(), &s, &merged.source.account, several_profiles);
            merged.freshness.insert(k, v.clone());
        }
        merged.source.api_calls = match (merged.source.api_calls, s.source.api_calls) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        merged.at = merged.at.max(s.at);
    }
    if many {
        merged.source.region = regions.join(",");
        merged.source.label = labels.join(",");
        merged.services.sort_by(|a, b| {
            (&a.account, &a.region, &a.cluster, &a.name)
                .cmp(&(&b.account, &b.region, &b.cluster, &b.name))
        });
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(profiles: &[&str], regions: &[&str]) -> AwsOptions {
        AwsOptions {
            profile: profiles.first().map(|p| p.to_string()),
            profiles: profiles.iter().map(|p| p.to_string()).collect(),
            region: regions.first().map(|r| r.to_string()),
            regions: regions.iter().map(|r| r.to_string()).collect(),
            endpoint_url: None,
            clusters: vec![],
        }
    }

    #[test]
    fn every_profile_is_read_in_every_region_once() {
        let p = places(&opts(&["a", "b", "a"], &["r1", "r2", "r1"]));
        let want = [("a", "r1"), ("a", "r2"), ("b", "r1"), ("b", "r2")];
        assert_eq!(p.len(), want.len());
        for ((pp, rr), (wp, wr)) in p.iter().zip(want) {
            assert_eq!((pp.as_deref(), rr.as_deref()), (Some(wp), Some(wr)));
        }
        // One profile, as before: one source per region.
        assert_eq!(places(&opts(&["a"], &["r1", "r2"])).len(), 2);
        // Nothing given: the default chain, the profile's region.
        assert_eq!(places(&opts(&[], &[])), vec![(None, None)]);
    }

    fn snap(label: &str, account: &str, region: &str, error: Option<&str>) -> FleetSnapshot {
        let mut s = FleetSnapshot::default();
        s.source.label = label.into();
        s.source.account = account.into();
        s.source.region = region.into();
        s.set_fresh(
            crate::model::DataKind::Cloudwatch,
            crate::model::Freshness {
                updated_at: None,
                error: error.map(str::to_string),
            },
        );
        s
    }

    #[test]
    fn every_failing_kind_names_its_account_and_region() {
        let m = merge(vec![
            snap("a", "111111111111", "us-east-1", Some("e1")),
            snap("a", "111111111111", "us-west-2", Some("e2")),
            snap("b", "222222222222", "us-east-1", Some("e3")),
            snap("c", "", "us-east-1", Some("e4")),
        ]);
        let got: Vec<(String, String, String)> = m
            .errors()
            .into_iter()
            .map(|e| (e.account, e.region, e.message))
            .collect();
        let want = [
            ("111111111111", "us-east-1", "e1"),
            ("111111111111", "us-west-2", "e2"),
            ("222222222222", "us-east-1", "e3"),
            ("", "us-east-1", "e4"),
        ];
        assert_eq!(got.len(), 4, "{got:?}");
        for w in want {
            assert!(
                got.iter()
                    .any(|g| (g.0.as_str(), g.1.as_str(), g.2.as_str()) == w),
                "{w:?} in {got:?}"
            );
        }
        assert_eq!(m.source.region, "us-east-1,us-west-2");
        assert_eq!(m.source.label, "a,b,c");
    }

    #[test]
    fn one_profile_keeps_its_keys() {
        let m = merge(vec![
            snap("a", "111111111111", "us-east-1", None),
            snap("a", "111111111111", "us-west-2", None),
        ]);
        let keys: Vec<String> = m.freshness.keys().map(|k| m.key_label(k)).collect();
        assert_eq!(keys, ["cloudwatch", "cloudwatch@us-west-2"]);
        let m = merge(vec![
            snap("a", "111111111111", "us-west-2", None),
            snap("b", "222222222222", "us-east-1", None),
            snap("c", "", "us-east-1", None),
        ]);
        let keys: Vec<String> = m.freshness.keys().map(|k| m.key_label(k)).collect();
        assert_eq!(
            keys,
            [
                "cloudwatch@us-east-1@c",
                "cloudwatch@us-east-1@222222222222",
                "cloudwatch"
            ]
        );
    }

    #[test]
    fn a_target_records_the_place_it_resolved_to_and_old_journals_load() {
        use crate::calls::Target;
        let old = r#"{"cluster":"prod","service":"api"}"#;
        let t: Target = serde_json::from_str(old).unwrap();
        assert_eq!(t.place(), (None, None));
        let t: Target = serde_json::from_str(
            r#"{"cluster":"prod","service":"api","account":"210987654321","service_region":"us-west-2"}"#,
        )
        .unwrap();
        assert_eq!(t.place(), (Some("210987654321"), Some("us-west-2")));
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains(r#""account":"210987654321""#), "{json}");
        // A region the runbook named wins over the resolved one.
        let named: Target = serde_json::from_str(
            r#"{"cluster":"prod","service":"api","region":"us-east-1","service_region":"us-west-2"}"#,
        )
        .unwrap();
        assert_eq!(named.place().1, Some("us-east-1"));
    }
}
