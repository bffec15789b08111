//! Availability-zone grouping: how a service's running tasks spread over AZs.

use std::collections::BTreeMap;

use super::{FleetSnapshot, Service, TargetGroup, TargetState};

/// Label used when the source cannot tell a task's AZ (e.g. moto).
pub const UNKNOWN_AZ: &str = "unknown AZ";

/// Running-task counts per AZ for one service, over every AZ the service may
/// place into (its subnets' AZs) plus any AZ a task was seen in, so an AZ that
/// lost all its tasks still shows up as `c:0`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AzSpread {
    pub counts: BTreeMap<String, u32>,
    /// Running tasks whose AZ is unknown.
    pub unknown: u32,
}

/// What [`AzSpread::of`] tells about balance, computed without building it
/// (no allocation up to 16 AZs): the REL-06 check asks it of every service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// As [`AzSpread::skew`].
    pub skew: u32,
    /// As [`AzSpread::single_az`].
    pub single_az: bool,
    /// Distinct AZs of the service's subnets.
    pub subnet_azs: usize,
}

impl AzSpread {
    pub fn shape(svc: &Service) -> Shape {
        const MAX: usize = 16;
        let mut azs: [(&str, u32); MAX] = [("", 0); MAX];
        let mut n = 0;
        let slow = || {
            let a = AzSpread::of(svc);
            let subnet_azs = svc
                .subnets
                .iter()
                .map(|s| s.availability_zone.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            Shape {
                skew: a.skew(),
                single_az: a.single_az(),
                subnet_azs,
            }
        };
        for s in &svc.subnets {
            let az = s.availability_zone.as_str();
            if !azs[..n].iter().any(|(a, _)| *a == az) {
                if n == MAX {
                    return slow();
                }
                azs[n] = (az, 0);
                n += 1;
            }
        }
        let subnet_azs = n;
        let mut unknown = 0;
        for t in svc.running_tasks() {
            match t.availability_zone.as_deref() {
                Some(az) => match azs[..n].iter_mut().find(|(a, _)| *a == az) {
                    Some(e) => e.1 += 1,
                    None => {
                        if n == MAX {
                            return slow();
                        }
                        azs[n] = (az, 1);
                        n += 1;
                    }
                },
                None => unknown += 1,
            }
        }
        let counts = azs[..n].iter().map(|(_, c)| *c);
        let skew = if n < 2 {
            0
        } else {
            counts.clone().max().unwrap_or(0) - counts.clone().min().unwrap_or(0)
        };
        let total: u32 = counts.clone().sum::<u32>() + unknown;
        let populated = counts.filter(|c| *c > 0).count();
        Shape {
            skew,
            single_az: total >= 2 && unknown == 0 && populated == 1,
            subnet_azs,
        }
    }

    pub fn of(svc: &Service) -> Self {
        let mut counts: BTreeMap<String, u32> = svc
            .subnets
            .iter()
            .map(|s| (s.availability_zone.clone(), 0))
            .collect();
        let mut unknown = 0;
        for t in svc.running_tasks() {
            match &t.availability_zone {
                Some(az) => match counts.get_mut(az) {
                    Some(n) => *n += 1,
                    None => {
                        counts.insert(az.clone(), 1);
                    }
                },
                None => unknown += 1,
            }
        }
        Self { counts, unknown }
    }

    pub fn total(&self) -> u32 {
        self.counts.values().sum::<u32>() + self.unknown
    }

    /// max − min over the known AZs (0 with fewer than two AZs).
    pub fn skew(&self) -> u32 {
        if self.counts.len() < 2 {
            return 0;
        }
        let max = self.counts.values().max().copied().unwrap_or(0);
        let min = self.counts.values().min().copied().unwrap_or(0);
        max - min
    }

    /// Imbalanced when the per-AZ max − min exceeds one task (REL-06 medium),
    /// or when two or more tasks all sit in a single AZ of several.
    pub fn is_imbalanced(&self) -> bool {
        self.skew() > 1 || self.single_az()
    }

    /// ≥ 2 running tasks, all in one AZ (REL-06 high).
    pub fn single_az(&self) -> bool {
        let populated = self.counts.values().filter(|c| **c > 0).count();
        self.total() >= 2 && self.unknown == 0 && populated == 1
    }

    /// Compact form: `a:3 b:3 c:0` (AZ suffix letter; full name when no suffix).
    pub fn compact(&self) -> String {
        let mut parts: Vec<String> = self
            .counts
            .iter()
            .map(|(az, n)| format!("{}:{n}", az_short(az)))
            .collect();
        if self.unknown > 0 {
            parts.push(format!("?:{}", self.unknown));
        }
        parts.join(" ")
    }
}

/// `us-east-1a` → `a`; `use1-az1` → `az1`; anything else unchanged.
pub fn az_short(az: &str) -> &str {
    if let Some(pos) = az.rfind("-az") {
        return &az[pos + 1..];
    }
    match az.char_indices().last() {
        Some((i, c))
            if c.is_ascii_lowercase() && az[..i].ends_with(|d: char| d.is_ascii_digit()) =>
        {
            &az[i..]
        }
        _ => az,
    }
}

/// Target counts per AZ and state for the target groups of one service.
pub fn targets_by_az<'a>(
    groups: impl Iterator<Item = &'a TargetGroup>,
) -> BTreeMap<String, BTreeMap<TargetState, u32>> {
    let mut out: BTreeMap<String, BTreeMap<TargetState, u32>> = BTreeMap::new();
    for tg in groups {
        for t in &tg.targets {
            let az = t
                .availability_zone
                .clone()
                .unwrap_or_else(|| UNKNOWN_AZ.to_string());
            *out.entry(az).or_default().entry(t.state).or_default() += 1;
        }
    }
    out
}

/// Running tasks per AZ across the whole fleet.
pub fn fleet_tasks_by_az(snap: &FleetSnapshot) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for s in &snap.services {
        for t in s.running_tasks() {
            let az = t
                .availability_zone
                .clone()
                .unwrap_or_else(|| UNKNOWN_AZ.to_string());
            *out.entry(az).or_default() += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Subnet, Task};

    fn svc(subnet_azs: &[&str], task_azs: &[Option<&str>]) -> Service {
        Service {
            subnets: subnet_azs
                .iter()
                .enumerate()
                .map(|(i, az)| Subnet {
                    subnet_id: format!("subnet-{i}"),
                    availability_zone: az.to_string(),
                    available_ip_address_count: 250,
                })
                .collect(),
            tasks: task_azs
                .iter()
                .map(|az| Task {
                    last_status: "RUNNING".into(),
                    availability_zone: az.map(str::to_string),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn empty_az_still_counted() {
        let s = svc(
            &["us-east-1a", "us-east-1b", "us-east-1c"],
            &[Some("us-east-1a"), Some("us-east-1a"), Some("us-east-1b")],
        );
        let spread = AzSpread::of(&s);
        assert_eq!(spread.compact(), "a:2 b:1 c:0");
        assert_eq!(spread.skew(), 2);
        assert!(spread.is_imbalanced());
        assert!(!spread.single_az());
    }

    #[test]
    fn balanced_and_single() {
        let s = svc(
            &["us-east-1a", "us-east-1b"],
            &[Some("us-east-1a"), Some("us-east-1b")],
        );
        assert!(!AzSpread::of(&s).is_imbalanced());
        let s = svc(&["us-east-1a"], &[Some("us-east-1a"), Some("us-east-1a")]);
        let spread = AzSpread::of(&s);
        assert!(spread.single_az());
        assert!(spread.is_imbalanced());
    }

    #[test]
    fn unknown_az_is_shown_not_dropped() {
        let s = svc(&[], &[None, None, Some("eu-west-1b")]);
        let spread = AzSpread::of(&s);
        assert_eq!(spread.compact(), "b:1 ?:2");
        assert_eq!(spread.total(), 3);
        assert!(!spread.single_az());
    }

    #[test]
    fn shape_agrees_with_the_spread() {
        let cases: Vec<(Vec<&str>, Vec<Option<&str>>)> = vec![
            (vec![], vec![]),
            (vec!["a1"], vec![Some("a1"), Some("a1")]),
            (
                vec!["a1", "b1", "a1"],
                vec![Some("a1"), Some("a1"), Some("a1")],
            ),
            (
                vec!["a1", "b1", "c1"],
                vec![Some("a1"), Some("b1"), Some("d1"), None],
            ),
            (vec!["a1", "b1"], vec![Some("c1"), Some("c1")]),
            (
                vec!["a1", "b1", "c1"],
                vec![Some("a1"), Some("a1"), Some("a1"), Some("b1")],
            ),
        ];
        // And more AZs than the fast path holds.
        let many: Vec<String> = (0..20).map(|i| format!("z{i}")).collect();
        let many_refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let mut all = cases;
        all.push((
            many_refs.clone(),
            many_refs.iter().map(|z| Some(*z)).collect(),
        ));
        for (subnets, tasks) in all {
            let s = svc(&subnets, &tasks);
            let a = AzSpread::of(&s);
            let mut distinct = subnets.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(
                AzSpread::shape(&s),
                Shape {
                    skew: a.skew(),
                    single_az: a.single_az(),
                    subnet_azs: distinct.len()
                },
                "{subnets:?} {tasks:?}"
            );
        }
    }

    #[test]
    fn short_names() {
        assert_eq!(az_short("us-east-1a"), "a");
        assert_eq!(az_short("use1-az4"), "az4");
        assert_eq!(az_short("weird"), "weird");
    }
}
