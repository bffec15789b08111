//! The DR parts of a scenario: Route 53 names and replicated databases.

use std::collections::BTreeSet;

use super::{Checker, Res, Scenario};
use crate::model::database::{GLOBAL_CLUSTER, READ_REPLICA, REPLICA_CLUSTER};

pub(super) fn dns(sc: &Scenario, c: &Checker) -> Res {
    let mut names = BTreeSet::new();
    for (i, d) in sc.dns.iter().enumerate() {
        let f = |k: &str| format!("dns[{i}].{k}");
        if d.zone.trim().is_empty() || !d.zone.contains('.') {
            return c.fail(
                f("zone"),
                format!("{:?} is not a zone name (example.com.)", d.zone),
            );
        }
        let fq = |s: &str| s.trim().trim_end_matches('.').to_ascii_lowercase();
        if !fq(&d.name).ends_with(&fq(&d.zone)) {
            return c.fail(
                f("name"),
                format!("{:?} is not in zone {:?}", d.name, d.zone),
            );
        }
        if !names.insert(fq(&d.name)) {
            return c.fail(f("name"), format!("{:?} is defined twice", d.name));
        }
        if let Some(r) = d.rps {
            c.float(f("rps"), r, 0.0, 1e6, "requests per second")?;
        }
        if d.records.is_empty() {
            return c.fail(f("records"), "a name needs at least one record set".into());
        }
        let mut sets = BTreeSet::new();
        let mut roles = vec![];
        for (j, r) in d.records.iter().enumerate() {
            let g = |k: &str| format!("dns[{i}].records[{j}].{k}");
            if !sets.insert(r.set.as_str()) {
                return c.fail(g("set"), format!("{:?} is defined twice", r.set));
            }
            if let Err(e) =
                sc.service_id(r.service.get_ref(), Some(&r.region), r.account.as_deref())
            {
                return c.fail(g("service"), e);
            }
            match (&r.failover, r.weight) {
                (Some(fo), None) => {
                    let v = fo.get_ref().as_str();
                    if v != "PRIMARY" && v != "SECONDARY" {
                        return c.fail(g("failover"), format!("{v:?}: PRIMARY or SECONDARY"));
                    }
                    roles.push(v.to_string());
                }
                (None, Some(w)) => {
                    c.int(g("weight"), w, 0, 255, "Route 53 weights are 0 to 255")?
                }
                (None, None) if d.records.len() == 1 => {}
                _ => {
                    return c.fail(
                        g("failover"),
                        "give each record set of a name `failover` (PRIMARY/SECONDARY) or `weight`, not both".into(),
                    );
                }
            }
        }
        roles.sort();
        if !roles.is_empty() && roles != ["PRIMARY", "SECONDARY"] {
            return c.fail(
                f("records"),
                "a failover name has one PRIMARY and one SECONDARY".into(),
            );
        }
    }
    Ok(())
}

pub(super) fn databases(sc: &Scenario, c: &Checker) -> Res {
    let regions: BTreeSet<&str> = sc
        .clusters
        .iter()
        .map(|k| k.region.as_deref().unwrap_or(&sc.scenario.region))
        .collect();
    let mut ids = BTreeSet::new();
    for (i, d) in sc.databases.iter().enumerate() {
        let f = |k: &str| format!("databases[{i}].{k}");
        let kind = d.kind.get_ref().as_str();
        if ![GLOBAL_CLUSTER, READ_REPLICA, REPLICA_CLUSTER].contains(&kind) {
            return c.fail(
                f("kind"),
                format!("{kind:?}: one of {GLOBAL_CLUSTER}, {READ_REPLICA}, {REPLICA_CLUSTER}"),
            );
        }
        if kind == GLOBAL_CLUSTER && d.id.as_deref().is_none_or(|s| s.trim().is_empty()) {
            return c.fail(f("id"), "a global cluster needs its `id`".into());
        }
        for (k, p) in [("writer", &d.writer), ("reader", &d.reader)] {
            if !regions.contains(p.region.as_str()) {
                return c.fail(
                    format!("databases[{i}].{k}.region"),
                    format!(
                        "{:?}: no cluster of the scenario is in that region",
                        p.region
                    ),
                );
            }
            if p.id.trim().is_empty() {
                return c.fail(
                    format!("databases[{i}].{k}.id"),
                    "an identifier can't be empty".into(),
                );
            }
        }
        if d.writer.region == d.reader.region {
            return c.fail(
                f("reader"),
                "the reader replicates to another region than the writer".into(),
            );
        }
        let id = d.id.clone().unwrap_or_else(|| d.reader.id.clone());
        if !ids.insert(id.clone()) {
            return c.fail(f("id"), format!("{id:?} is defined twice"));
        }
        c.duration(f("lag"), d.lag.get_ref(), false)?;
    }
    Ok(())
}
