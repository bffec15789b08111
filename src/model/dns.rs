//! Route 53 record sets as the DR runbooks read and change them: one model
//! for the simulator and AWS (`route53.records`, `route53.shift`), and what
//! Route 53 answers for a name given its health checks.

use serde::{Deserialize, Serialize};

/// One record set of a name (the fields ChangeResourceRecordSets needs to
/// UPSERT it back, plus where it points and its health).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordSet {
    pub name: String,
    #[serde(rename = "type")]
    pub rtype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_identifier: Option<String>,
    /// `PRIMARY` / `SECONDARY` of a failover routing policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    /// Plain values (A, AAAA, CNAME …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<Alias>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_id: Option<String>,
    /// The region it points at (from its alias, values, latency region or
    /// set identifier), when one of the run's regions is named there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Its health check's status: `None` without a health check, or when
    /// the status could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthy: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alias {
    pub dns_name: String,
    pub hosted_zone_id: String,
    pub evaluate_target_health: bool,
}

impl RecordSet {
    /// What it points at, for a confirmation: the alias or the values.
    pub fn target(&self) -> String {
        match &self.alias {
            Some(a) => format!("alias {}", a.dns_name),
            None => self.values.join(","),
        }
    }

    /// The label of one record set: its routing and set identifier.
    pub fn label(&self) -> String {
        let routing = match (&self.failover, self.weight) {
            (Some(f), _) => f.clone(),
            (None, Some(w)) => format!("weight {w}"),
            _ => "simple".into(),
        };
        match &self.set_identifier {
            Some(s) => format!("{} {} {routing} (set {s})", self.name, self.rtype),
            None => format!("{} {} {routing}", self.name, self.rtype),
        }
    }

    /// The same record set pointing where `other` points (its alias,
    /// values and health check), keeping its own name, type, routing and
    /// set identifier.
    pub fn pointing_as(&self, other: &RecordSet) -> RecordSet {
        RecordSet {
            ttl: other.ttl.or(self.ttl),
            values: other.values.clone(),
            alias: other.alias.clone(),
            health_check_id: other.health_check_id.clone(),
            region: other.region.clone(),
            healthy: other.healthy,
            ..self.clone()
        }
    }
}

/// The first of `regions` named where a record set points (alias DNS name,
/// values, set identifier), longest first so `us-east-1` never matches
/// inside a longer name.
pub fn region_of(texts: &[&str], regions: &[String]) -> Option<String> {
    let mut rs: Vec<&String> = regions.iter().filter(|r| !r.is_empty()).collect();
    rs.sort_by_key(|r| std::cmp::Reverse(r.len()));
    texts.iter().find_map(|t| {
        let t = t.to_ascii_lowercase();
        rs.iter()
            .find(|r| {
                t.match_indices(r.as_str()).any(|(i, _)| {
                    // Not inside a longer region name (`us-east-10`).
                    !t[i + r.len()..].starts_with(|c: char| c.is_ascii_digit())
                })
            })
            .map(|r| (*r).clone())
    })
}

/// The regions Route 53 answers for a name: a failover pair answers the
/// PRIMARY while it is healthy (or has no health check) and the SECONDARY
/// otherwise; weighted sets answer their healthy non-zero weights (all
/// non-zero weights when none is healthy, as Route 53 does); a simple
/// record answers itself.
pub fn answer(sets: &[RecordSet]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    let mut push = |r: &RecordSet| {
        let region = r.region.clone().unwrap_or_else(|| "(unknown)".into());
        if !out.contains(&region) {
            out.push(region);
        }
    };
    let primary = sets
        .iter()
        .find(|r| r.failover.as_deref() == Some("PRIMARY"));
    let secondary = sets
        .iter()
        .find(|r| r.failover.as_deref() == Some("SECONDARY"));
    if primary.is_some() || secondary.is_some() {
        match (primary, secondary) {
            (Some(p), Some(s)) if p.healthy == Some(false) => push(s),
            (Some(p), _) => push(p),
            (None, Some(s)) => push(s),
            (None, None) => {}
        }
        return out;
    }
    let weighted: Vec<&RecordSet> = sets
        .iter()
        .filter(|r| r.weight.is_some_and(|w| w > 0))
        .collect();
    if sets.iter().any(|r| r.weight.is_some()) {
        let healthy: Vec<&&RecordSet> = weighted
            .iter()
            .filter(|r| r.healthy != Some(false))
            .collect();
        if healthy.is_empty() {
            weighted.iter().for_each(|r| push(r));
        } else {
            healthy.iter().for_each(|r| push(r));
        }
        return out;
    }
    sets.iter().for_each(&mut push);
    out
}

/// The UPSERTs that move a name's answer to `to` (a region): a failover
/// pair swaps where PRIMARY and SECONDARY point (so the PRIMARY answers
/// the standby and the old primary waits as SECONDARY: a fail-back is the
/// same swap); weighted sets give `to` all the weight and the others 0.
/// Empty when the answer is already `to` by the records themselves.
pub fn shift(sets: &[RecordSet], to: &str) -> Result<Vec<RecordSet>, String> {
    if sets.is_empty() {
        return Err("no record sets of that name".into());
    }
    let primary = sets
        .iter()
        .find(|r| r.failover.as_deref() == Some("PRIMARY"));
    let secondary = sets
        .iter()
        .find(|r| r.failover.as_deref() == Some("SECONDARY"));
    if let (Some(p), Some(s)) = (primary, secondary) {
        if p.region.as_deref() == Some(to) {
            return Ok(vec![]);
        }
        if s.region.as_deref() != Some(to) {
            return Err(format!(
                "neither record set of the failover pair points at {to} (PRIMARY: {}, SECONDARY: {})",
                p.target(),
                s.target()
            ));
        }
        return Ok(vec![p.pointing_as(s), s.pointing_as(p)]);
    }
    if primary.is_some() || secondary.is_some() {
        return Err("a failover record set without its pair: add the other one first".into());
    }
    if sets.iter().any(|r| r.weight.is_some()) {
        let total: i64 = sets.iter().filter_map(|r| r.weight).sum::<i64>().max(1);
        let ours = sets
            .iter()
            .filter(|r| r.region.as_deref() == Some(to))
            .count();
        if ours == 0 {
            return Err(format!("no weighted record set points at {to}"));
        }
        let each = (total / ours as i64).clamp(1, 255);
        let mut out = vec![];
        for r in sets {
            let w = if r.region.as_deref() == Some(to) {
                each
            } else {
                0
            };
            if r.weight != Some(w) {
                out.push(RecordSet {
                    weight: Some(w),
                    ..r.clone()
                });
            }
        }
        return Ok(out);
    }
    Err(format!(
        "{} has no failover or weighted record sets: ecsdeck changes only those (point a simple record by hand)",
        sets[0].name
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(set: &str, failover: Option<&str>, weight: Option<i64>, region: &str) -> RecordSet {
        RecordSet {
            name: "api.example.com.".into(),
            rtype: "A".into(),
            set_identifier: Some(set.into()),
            failover: failover.map(str::to_string),
            weight,
            ttl: Some(60),
            values: vec![format!("10.0.0.{}", set.len())],
            alias: None,
            health_check_id: Some(format!("hc-{set}")),
            region: Some(region.into()),
            healthy: Some(true),
        }
    }

    #[test]
    fn a_failover_pair_answers_the_primary_until_its_health_check_fails() {
        let mut sets = vec![
            rs("east", Some("PRIMARY"), None, "us-east-1"),
            rs("west", Some("SECONDARY"), None, "us-west-2"),
        ];
        assert_eq!(answer(&sets), ["us-east-1"]);
        sets[0].healthy = Some(false);
        assert_eq!(answer(&sets), ["us-west-2"]);
        sets[0].healthy = None;
        assert_eq!(answer(&sets), ["us-east-1"], "unknown health is not failed");
    }

    #[test]
    fn shifting_a_failover_pair_swaps_where_they_point_and_back() {
        let sets = vec![
            rs("east", Some("PRIMARY"), None, "us-east-1"),
            rs("west", Some("SECONDARY"), None, "us-west-2"),
        ];
        let moved = shift(&sets, "us-west-2").unwrap();
        assert_eq!(moved.len(), 2);
        assert_eq!(moved[0].failover.as_deref(), Some("PRIMARY"));
        assert_eq!(moved[0].set_identifier.as_deref(), Some("east"));
        assert_eq!(moved[0].region.as_deref(), Some("us-west-2"));
        assert_eq!(moved[0].health_check_id.as_deref(), Some("hc-west"));
        assert_eq!(answer(&moved), ["us-west-2"]);
        assert!(shift(&moved, "us-west-2").unwrap().is_empty());
        let back = shift(&moved, "us-east-1").unwrap();
        assert_eq!(back, sets);
    }

    #[test]
    fn shifting_weights_gives_the_standby_all_of_it() {
        let sets = vec![
            rs("east", None, Some(100), "us-east-1"),
            rs("west", None, Some(0), "us-west-2"),
        ];
        assert_eq!(answer(&sets), ["us-east-1"]);
        let moved = shift(&sets, "us-west-2").unwrap();
        let w: Vec<_> = moved.iter().map(|r| (r.region.clone(), r.weight)).collect();
        assert_eq!(
            w,
            [
                (Some("us-east-1".into()), Some(0)),
                (Some("us-west-2".into()), Some(100))
            ]
        );
        assert_eq!(answer(&moved), ["us-west-2"]);
    }

    #[test]
    fn refusals_name_what_is_missing() {
        let sets = vec![
            rs("east", Some("PRIMARY"), None, "us-east-1"),
            rs("west", Some("SECONDARY"), None, "eu-west-1"),
        ];
        assert!(shift(&sets, "us-west-2").unwrap_err().contains("neither"));
        assert!(shift(&[], "us-west-2").is_err());
        let mut simple = rs("x", None, None, "us-east-1");
        simple.set_identifier = None;
        assert!(
            shift(&[simple], "us-west-2")
                .unwrap_err()
                .contains("simple")
        );
    }

    #[test]
    fn regions_are_found_where_records_point() {
        let regions = vec!["us-east-1".to_string(), "us-west-2".to_string()];
        assert_eq!(
            region_of(
                &["dualstack.prod-api-1.us-west-2.elb.amazonaws.com."],
                &regions
            )
            .as_deref(),
            Some("us-west-2")
        );
        assert_eq!(region_of(&["alb.us-east-10.example"], &regions), None);
        assert_eq!(region_of(&["10.0.0.1"], &regions), None);
    }
}
