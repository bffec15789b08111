//! The services of a scenario: task definitions they name, counts,
//! deployment settings, auto scaling and AZs.

use std::collections::BTreeSet;

use super::*;

pub(super) fn services(sc: &Scenario, c: &Checker, td_names: &BTreeSet<String>) -> Res {
    let mut seen = BTreeSet::new();
    let mut per_cluster = std::collections::BTreeMap::<&str, usize>::new();
    let cluster_names: BTreeSet<&str> = sc.clusters.iter().map(|c| c.name.as_str()).collect();
    for (i, s) in sc.services.iter().enumerate() {
        let f = |k: &str| format!("services[{i}].{k}");
        if !cluster_names.contains(s.cluster.get_ref().as_str()) {
            return c.fail(
                f("cluster"),
                format!("unknown cluster {:?}", s.cluster.get_ref()),
            );
        }
        let Some(home) = sc.cluster_of(s) else {
            return c.fail(
                f("region"),
                format!(
                    "no cluster {:?} in that region and account",
                    s.cluster.get_ref()
                ),
            );
        };
        let n = per_cluster.entry(s.cluster.get_ref()).or_default();
        *n += 1;
        if *n > MAX_SERVICES_PER_CLUSTER {
            return c.fail(
                f("cluster"),
                format!(
                    "more than {MAX_SERVICES_PER_CLUSTER} services in cluster {:?} (ECS's quota)",
                    s.cluster.get_ref()
                ),
            );
        }
        if s.name.trim().is_empty() {
            return c.fail(f("name"), "a service name can't be empty".into());
        }
        let (account, region) = sc.place_of(home);
        let key = format!("{}/{}", s.cluster.get_ref(), s.name);
        if !seen.insert(format!("{account}/{region}/{key}")) {
            return c.fail(f("name"), format!("service {key:?} is defined twice"));
        }
        if !td_names.contains(s.task_definition.get_ref()) {
            return c.fail(
                f("task_definition"),
                format!(
                    "unknown task definition {:?} (known: {})",
                    s.task_definition.get_ref(),
                    some_of(td_names)
                ),
            );
        }
        c.int(
            f("desired"),
            s.desired.into(),
            0,
            MAX_TASKS_PER_SERVICE.into(),
            "ECS's quota of tasks per service",
        )?;
        c.int(
            f("min_healthy_percent"),
            (*s.min_healthy_percent.get_ref()).into(),
            0,
            100,
            "",
        )?;
        c.int(
            f("max_percent"),
            (*s.max_percent.get_ref()).into(),
            100,
            200,
            "",
        )?;
        if let Some(azs) = &s.azs {
            service_azs(sc, c, i, azs)?;
        }
        capacity_providers(
            c,
            &format!("services[{i}].capacity_providers"),
            &s.capacity_providers,
        )?;
        for (key, v, allowed) in [
            (
                "deployment_controller",
                &s.deployment_controller,
                &["ECS", "CODE_DEPLOY", "EXTERNAL"][..],
            ),
            (
                "strategy",
                &s.strategy,
                &["ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"][..],
            ),
        ] {
            if let Some(v) = v
                && !allowed.contains(&v.as_str())
            {
                return Err(c.err(
                    f(key),
                    format!("{v:?} is not one of {}", allowed.join(", ")),
                ));
            }
        }
        c.int(
            f("subnet_free_ips"),
            s.subnet_free_ips.into(),
            0,
            65_531,
            "IPs per subnet",
        )?;
        c.int(
            f("deregistration_delay"),
            s.deregistration_delay.into(),
            0,
            3_600,
            "seconds (ELB)",
        )?;
        if let Some(g) = s.health_check_grace_period {
            c.int(
                f("health_check_grace_period"),
                g.into(),
                0,
                i32::MAX.into(),
                "seconds",
            )?;
        }
        c.float(
            f("base_rps"),
            s.base_rps,
            0.0,
            MAX_BASE_RPS,
            "requests per second at load 1",
        )?;
        c.float(
            f("cpu_per_rps"),
            s.cpu_per_rps,
            0.0,
            100.0,
            "CPU percent of a task per request/s",
        )?;
        if let Some(a) = &s.autoscaling {
            autoscaling(c, i, a)?;
        }
    }
    Ok(())
}

/// A service's target tracking: bounds within ECS's quota, a known metric,
/// a target in range.
fn autoscaling(c: &Checker, i: usize, a: &super::super::AutoscalingSpec) -> Res {
    let g = |k: &str| format!("services[{i}].autoscaling.{k}");
    c.int(
        g("min"),
        a.min.into(),
        0,
        MAX_TASKS_PER_SERVICE.into(),
        "ECS's quota of tasks per service",
    )?;
    c.int(
        g("max"),
        a.max.into(),
        0,
        MAX_TASKS_PER_SERVICE.into(),
        "ECS's quota of tasks per service",
    )?;
    if a.max < a.min {
        return c.fail(g("max"), format!("max {} is below min {}", a.max, a.min));
    }
    if !["cpu", "memory", "requests"].contains(&a.metric.as_str()) {
        return c.fail(
            g("metric"),
            format!("unknown metric {:?} (cpu, memory, requests)", a.metric),
        );
    }
    let hi = if a.metric == "requests" {
        1_000_000.0
    } else {
        100.0
    };
    if !(a.target.is_finite() && a.target > 0.0 && a.target <= hi) {
        return c.fail(
            g("target"),
            format!(
                "{} is not a target value within 0 < target ≤ {hi}",
                a.target
            ),
        );
    }
    c.int(
        g("scale_out_cooldown"),
        a.scale_out_cooldown.into(),
        0,
        i32::MAX.into(),
        "seconds",
    )?;
    c.int(
        g("scale_in_cooldown"),
        a.scale_in_cooldown.into(),
        0,
        i32::MAX.into(),
        "seconds",
    )
}

/// A service's own AZs: at least one, each one of the scenario's, once.
fn service_azs(sc: &Scenario, c: &Checker, i: usize, azs: &[toml::Spanned<String>]) -> Res {
    if azs.is_empty() {
        return c.fail(
            format!("services[{i}].azs"),
            "a service needs at least one AZ (leave azs out for all the scenario's)".into(),
        );
    }
    let mut seen_az = BTreeSet::new();
    for (j, az) in azs.iter().enumerate() {
        let g = format!("services[{i}].azs[{j}]");
        if !sc.scenario.azs.contains(az.get_ref()) {
            return c.fail(
                g,
                format!("{:?} is not one of the scenario's AZs", az.get_ref()),
            );
        }
        c.unique(&mut seen_az, g, az.get_ref())?;
    }
    Ok(())
}
