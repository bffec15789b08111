//! The typed key of [`FleetSnapshot::freshness`]: which data kind was read
//! where (account, region; the profile while its account is not known).
//! The strings of the status line (`kind`, `kind@region`,
//! `kind@region@account`) and the `errors` JSON are made from it at the
//! edge; nothing parses them back.

use std::fmt;
use std::sync::Arc;

use super::{EpochMs, FleetSnapshot, Freshness};

/// A kind of data a source reads. Ordered as its name, so a map keyed by
/// [`FreshKey`] keeps the order the string keys had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DataKind {
    Autoscaling,
    Cloudwatch,
    Ec2,
    Ecr,
    Ecs,
    Elbv2,
    Guardduty,
    Iam,
    Logs,
    Metrics,
    /// The simulator's single kind: it reads everything at once.
    Sim,
}

impl DataKind {
    /// The name used in JSON (`errors[].kind`) and on screen.
    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::Autoscaling => "autoscaling",
            DataKind::Cloudwatch => "cloudwatch",
            DataKind::Ec2 => "ec2",
            DataKind::Ecr => "ecr",
            DataKind::Ecs => "ecs",
            DataKind::Elbv2 => "elbv2",
            DataKind::Guardduty => "guardduty",
            DataKind::Iam => "iam",
            DataKind::Logs => "logs",
            DataKind::Metrics => "metrics",
            DataKind::Sim => "sim",
        }
    }

    /// The kind named `s` ([`DataKind::as_str`]).
    pub fn parse(s: &str) -> Option<DataKind> {
        super::DATA_KINDS
            .into_iter()
            .chain([DataKind::Sim])
            .find(|k| k.as_str() == s)
    }
}

impl fmt::Display for DataKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One data kind read in one place. Ordered by kind, then region, then
/// account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FreshKey {
    pub kind: DataKind,
    pub region: Arc<str>,
    /// "" while not known.
    pub account: Arc<str>,
    /// The profile that reads this place, named only while its account is
    /// not known and the fleet reads several profiles.
    pub profile: Option<Arc<str>>,
}

impl FreshKey {
    pub fn new(kind: DataKind, account: &str, region: &str) -> FreshKey {
        FreshKey {
            kind,
            region: Arc::from(region),
            account: Arc::from(account),
            profile: None,
        }
    }

    /// The same place, another kind.
    pub fn with_kind(&self, kind: DataKind) -> FreshKey {
        FreshKey {
            kind,
            ..self.clone()
        }
    }

    /// Same account and region (and profile) as `o`.
    pub fn same_place(&self, o: &FreshKey) -> bool {
        self.region == o.region && self.account == o.account && self.profile == o.profile
    }

    /// Read in `account`/`region`; an unknown account ("") matches any
    /// (a source that failed before it learnt its account).
    pub fn is_at(&self, account: &str, region: &str) -> bool {
        &*self.region == region && (self.account.is_empty() || &*self.account == account)
    }
}

impl FleetSnapshot {
    /// The first source's place (its kinds show without a suffix).
    pub fn home_key(&self, kind: DataKind) -> FreshKey {
        let region = self.source.region.split(',').next().unwrap_or_default();
        FreshKey::new(kind, &self.source.account, region)
    }

    /// The freshness of `kind` in the first source's place.
    pub fn fresh_home(&self, kind: DataKind) -> Option<&Freshness> {
        self.freshness.get(&self.home_key(kind))
    }

    /// Every reading of `kind`, any place.
    pub fn fresh_of(&self, kind: DataKind) -> impl Iterator<Item = (&FreshKey, &Freshness)> + '_ {
        self.freshness.iter().filter(move |(k, _)| k.kind == kind)
    }

    /// Whether `kind` was read without error in `account`/`region` (the
    /// simulator reads every place at once under its one kind). While it is
    /// not, what is missing from the snapshot may still exist.
    pub fn read_ok_at(&self, kind: DataKind, account: &str, region: &str) -> bool {
        let ok = |f: &Freshness| f.updated_at.is_some() && f.error.is_none();
        self.fresh_of(kind)
            .any(|(k, f)| k.is_at(account, region) && ok(f))
            || self.fresh_of(DataKind::Sim).any(|(_, f)| ok(f))
    }

    /// The error of the last read of `kind` in `account`/`region`, if it failed.
    pub fn read_error_at(&self, kind: DataKind, account: &str, region: &str) -> Option<&str> {
        self.fresh_of(kind)
            .filter(|(k, _)| k.is_at(account, region))
            .find_map(|(_, f)| f.error.as_deref())
    }

    /// Record `f` for `kind` in the first source's place.
    pub fn set_fresh(&mut self, kind: DataKind, f: Freshness) {
        let key = self.home_key(kind);
        self.freshness.insert(key, f);
    }

    /// Record each of `kinds` as read at `at` without error, in the first
    /// source's place (replay, and a snapshot shaped as the AWS source
    /// reports one).
    pub fn mark_read(&mut self, kinds: &[DataKind], at: EpochMs) {
        for kind in kinds {
            self.set_fresh(
                *kind,
                Freshness {
                    updated_at: Some(at),
                    error: None,
                },
            );
        }
    }

    /// The key as the status line names it: `kind` for the first source's
    /// place, `kind@region` for another region, and with several profiles
    /// `kind@region@account` (`kind@region@profile` while the account is
    /// not known).
    pub fn key_label(&self, key: &FreshKey) -> String {
        let home = self.home_key(key.kind);
        if key.profile.is_none() && key.same_place(&home) {
            return key.kind.as_str().to_string();
        }
        if let Some(p) = &key.profile {
            return format!("{}@{}@{p}", key.kind, key.region);
        }
        if self.source.label.contains(',') {
            format!("{}@{}@{}", key.kind, key.region, key.account)
        } else {
            format!("{}@{}", key.kind, key.region)
        }
    }
}

/// The map as JSON: an object keyed `kind@region@account` (the profile in
/// place of an unknown account).
pub(super) fn serialize_map<S: serde::Serializer>(
    m: &std::collections::BTreeMap<FreshKey, Freshness>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(m.iter().map(|(k, v)| {
        let who = k.profile.as_deref().unwrap_or(&k.account);
        (format!("{}@{}@{who}", k.kind, k.region), v)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_order_as_their_names_and_round_trip() {
        let mut all: Vec<DataKind> = super::super::DATA_KINDS.to_vec();
        all.push(DataKind::Sim);
        let mut by_name = all.clone();
        by_name.sort_by_key(|k| k.as_str());
        all.sort();
        assert_eq!(all, by_name);
        for k in all {
            assert_eq!(DataKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(DataKind::parse("ecs@us-east-1"), None);
    }

    #[test]
    fn labels_are_the_status_lines_names() {
        let mut snap = FleetSnapshot::default();
        snap.source.region = "us-east-1,us-west-2".into();
        snap.source.account = "111111111111".into();
        snap.source.label = "a".into();
        let home = FreshKey::new(DataKind::Ecs, "111111111111", "us-east-1");
        let west = FreshKey::new(DataKind::Cloudwatch, "111111111111", "us-west-2");
        assert_eq!(snap.home_key(DataKind::Ecs), home);
        assert_eq!(snap.key_label(&home), "ecs");
        assert_eq!(snap.key_label(&west), "cloudwatch@us-west-2");
        snap.source.label = "a,b".into();
        let other = FreshKey::new(DataKind::Ecs, "222222222222", "us-east-1");
        assert_eq!(snap.key_label(&other), "ecs@us-east-1@222222222222");
        let unknown = FreshKey {
            profile: Some("b".into()),
            ..FreshKey::new(DataKind::Ecs, "", "us-east-1")
        };
        assert_eq!(snap.key_label(&unknown), "ecs@us-east-1@b");
        assert!(home < west.with_kind(DataKind::Ecs));
        assert!(west < home, "kind first");
    }
}
