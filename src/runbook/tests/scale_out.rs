//! Scale-out under auto scaling and in tight subnets: the target must fit
//! the free IPs, and desiredCount is never forced behind auto scaling.

use super::*;
use crate::model::{DataKind, Freshness};

/// steady, with `free` IPs in each of prod/api's subnets before its tasks.
fn tight_sim(free: i32) -> Simulator {
    let text = include_str!("../../../assets/scenarios/steady.toml");
    let anchor = "name = \"api\"\ntask_definition = \"api:42\"";
    assert!(text.contains(anchor), "steady.toml changed: fix this test");
    let text = text.replacen(anchor, &format!("{anchor}\nsubnet_free_ips = {free}"), 1);
    let mut sim = Simulator::new(Scenario::parse(&text, "tight.toml").unwrap(), None);
    sim.run_until(60_000);
    sim
}

#[test]
fn a_target_that_does_not_fit_the_subnets_is_refused_with_the_numbers() {
    // 3 subnets of 4 free IPs, 2 tasks in each: 6 free; 14 tasks need 8 more.
    let r = run(
        runbook("scale-out"),
        tight_sim(4),
        &[("cluster", "prod"), ("service", "api"), ("target", "14")],
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(r.summary.outcome, Outcome::Failed);
    let reason = r.summary.reason.clone().unwrap_or_default();
    assert!(
        reason.contains("does not fit")
            && reason.contains("need 8 more IPs")
            && reason.contains("6 free")
            && reason.contains("subnet-00000000a 2"),
        "{reason}"
    );
    let changed = kinds(&r.events, "api_call")
        .iter()
        .any(|e| e.detail()["call"]["api"] != "CheckFit");
    assert!(!changed, "nothing scaled");
    // 12 fits (6 more in 6 free), and the run goes on to scale.
    let r = run(
        runbook("scale-out"),
        tight_sim(4),
        &[("cluster", "prod"), ("service", "api"), ("target", "12")],
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?}",
        r.summary.reason
    );
    // Without the check (check_fit=false) the refusal is the operator's call.
    let r = run(
        runbook("scale-out"),
        tight_sim(4),
        &[
            ("cluster", "prod"),
            ("service", "api"),
            ("target", "14"),
            ("check_fit", "false"),
        ],
        true,
        &Answers::default(),
        true,
    );
    assert!(
        kinds(&r.events, "api_call")
            .iter()
            .all(|e| e.detail()["call"]["api"] != "CheckFit")
    );
}

/// A runbook that sets desiredCount by hand.
fn scale_by_hand() -> Runbook {
    parse(super::validation::SCALE, "s.runbook.md").unwrap()
}

#[test]
fn desired_count_is_never_forced_under_auto_scaling() {
    let mut r = runner(
        scale_by_hand(),
        &[("cluster", "prod"), ("service", "api"), ("n", "9")],
    );
    let mut b = SimDriver::new(sim_at("steady", 60_000));
    let s = drive(&mut r, &mut b, &|_| {}).unwrap();
    assert_eq!(s.outcome, Outcome::Failed);
    let reason = s.reason.unwrap_or_default();
    assert!(
        reason.contains("under Application Auto Scaling")
            && reason.contains("service/prod/api MinCapacity 6, MaxCapacity 24")
            && reason.contains("autoscaling.set_capacity"),
        "{reason}"
    );
    assert_eq!(
        b.sim
            .snapshot()
            .service_in("prod/api", None)
            .unwrap()
            .desired_count,
        6
    );
}

#[test]
fn desired_count_is_not_set_while_auto_scaling_could_not_be_read() {
    // AWS-shaped: auto scaling denied, so no scalable target is known, and
    // the service might still be under one.
    let deny = |snap: &mut crate::model::FleetSnapshot| {
        snap.source.kind = "aws".into();
        snap.freshness.clear();
        snap.mark_read(&crate::model::DATA_KINDS, snap.at);
        snap.set_fresh(
            DataKind::Autoscaling,
            Freshness {
                updated_at: None,
                error: Some("application-autoscaling:DescribeScalableTargets: AccessDenied".into()),
            },
        );
        snap.scalable_targets = Default::default();
    };
    let mut r = runner(
        scale_by_hand(),
        &[("cluster", "staging"), ("service", "api"), ("n", "3")],
    );
    let s = drive(&mut r, &mut SimDriver::new(sim_at("steady", 60_000)), &deny).unwrap();
    assert_eq!(s.outcome, Outcome::Failed);
    let reason = s.reason.unwrap_or_default();
    assert!(
        reason.contains("cannot tell whether staging/api is under Application Auto Scaling")
            && reason.contains("AccessDenied"),
        "{reason}"
    );
    // Read, and no scalable target: desiredCount is the way.
    let mut r = runner(
        scale_by_hand(),
        &[("cluster", "staging"), ("service", "api"), ("n", "3")],
    );
    let mut b = SimDriver::new(sim_at("steady", 60_000));
    let s = drive(&mut r, &mut b, &|_| {}).unwrap();
    assert_eq!(s.outcome, Outcome::Completed, "{:?}", s.reason);
    assert_eq!(
        b.sim
            .snapshot()
            .service_in("staging/api", None)
            .unwrap()
            .desired_count,
        3
    );
}
