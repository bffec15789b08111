//! Where the scenario's resources are: account ids, and clusters unique
//! per (account, region, name) so that twins are two clusters.

use std::collections::BTreeSet;

use super::{Checker, MAX_CLUSTERS, Res, Scenario, capacity_providers};

/// Account ids: 12 digits, the scenario's and each cluster's.
pub(super) fn accounts(sc: &Scenario, c: &Checker) -> Res {
    let bad = |a: &str| !crate::model::id::is_account_id(a);
    if bad(&sc.scenario.account) {
        return c.fail(
            "scenario.account".into(),
            format!(
                "{:?} is not an AWS account id (12 digits)",
                sc.scenario.account
            ),
        );
    }
    for (i, cl) in sc.clusters.iter().enumerate() {
        if let Some(a) = cl.account.as_deref().filter(|a| bad(a)) {
            return c.fail(
                format!("clusters[{i}].account"),
                format!("{a:?} is not an AWS account id (12 digits)"),
            );
        }
    }
    Ok(())
}

pub(super) fn clusters(sc: &Scenario, c: &Checker) -> Res {
    if sc.clusters.is_empty() {
        return c.fail(
            "clusters".into(),
            "a scenario needs at least one cluster".into(),
        );
    }
    if sc.clusters.len() > MAX_CLUSTERS {
        return c.fail(
            "clusters".into(),
            format!(
                "{} clusters; ECS's quota is {MAX_CLUSTERS} a Region",
                sc.clusters.len()
            ),
        );
    }
    // Twins: the same name in another region or account is another cluster.
    let mut seen = BTreeSet::new();
    for (i, cl) in sc.clusters.iter().enumerate() {
        let f = format!("clusters[{i}].name");
        if cl.name.trim().is_empty() {
            return c.fail(f, "a cluster name can't be empty".into());
        }
        let (account, region) = sc.place_of(cl);
        if !seen.insert((account, region, cl.name.as_str())) {
            return c.fail(f, format!("{:?} is defined twice", cl.name));
        }
        capacity_providers(
            c,
            &format!("clusters[{i}].default_capacity_providers"),
            &cl.default_capacity_providers,
        )?;
    }
    Ok(())
}
