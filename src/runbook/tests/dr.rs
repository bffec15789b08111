//! DR: a failover ends failed over, aborts never take down the serving
//! side, and fail-back is its own runbook.

use super::*;

const FAILOVER: &[(&str, &str)] = &[
    ("cluster", "prod"),
    ("service", "api"),
    ("primary_region", "us-east-1"),
    ("standby_region", "us-west-2"),
    ("standby_cluster", "prod-dr"),
    ("target", "20m"),
];

/// dr-region-failover of prod/api to prod-dr in us-west-2.
fn failover(sim: Simulator, write: bool, answers: &Answers, yes: bool) -> Run {
    run(
        runbook("dr-region-failover"),
        sim,
        FAILOVER,
        write,
        answers,
        yes,
    )
}

fn standby(sim: &Simulator) -> (i32, i32) {
    let snap = sim.snapshot();
    let svc = snap.service_in("prod-dr/api", None).unwrap();
    let t = snap.scalable_target(svc).unwrap();
    (t.min_capacity, svc.desired_count)
}

fn answers(extra: &str) -> Answers {
    Answers::parse(
        &format!(
            "arm_phrase = \"FAILOVER us-west-2\"\n[steps.go]\nchoice = \"continue\"\nnote = \"drill\"\n[steps.standby-floor]\nconfirm = true\n{extra}"
        ),
        "a.toml",
    )
    .unwrap()
}

#[test]
fn a_failover_ends_failed_over_with_the_standby_still_scaled_up() {
    let r = failover(
        sim_at("dr-pilot-light", 5 * 60_000),
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?} {:?}",
        r.summary.reason,
        step_states(&r.events)
    );
    assert_eq!(r.summary.rto_met, Some(true));
    // RTO ends when the standby serves (healthy, its 5XX alarm OK), not at
    // the operator's answer.
    assert!(marker(&r, "standby-serving") >= marker(&r, "traffic-switched"));
    let apis: Vec<String> = kinds(&r.events, "api_call")
        .iter()
        .filter(|e| e.detail()["phase"] == "after")
        .map(|e| e.detail()["call"]["api"].as_str().unwrap().to_string())
        .collect();
    // Sized from the primary, checked to fit, the floor raised: nothing
    // scales the standby back.
    assert_eq!(
        apis,
        ["DrReadiness", "DrSize", "CheckFit", "SetCapacity"],
        "{apis:?}"
    );
    let size = kinds(&r.events, "save")
        .into_iter()
        .find(|e| e.detail()["name"] == "size")
        .unwrap();
    assert_eq!(size.detail()["value"]["count"], 6);
    let (min, desired) = standby(&r.backend.sim);
    assert_eq!((min, desired), (6, 6), "still failed over");
    assert_eq!(r.summary.serving_region.as_deref(), Some("us-west-2"));
    // Then a fail-back, started deliberately, completes: the primary serves
    // again and the standby returns to its standby capacity.
    let mut sim = r.backend.sim;
    sim.run_until(sim.elapsed_ms() + 60_000);
    let back = run(
        runbook("dr-region-failback"),
        sim,
        &[
            ("cluster", "prod"),
            ("service", "api"),
            ("primary_region", "us-east-1"),
            ("standby_region", "us-west-2"),
            ("standby_cluster", "prod-dr"),
        ],
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(
        back.summary.outcome,
        Outcome::Completed,
        "{:?} {:?}",
        back.summary.reason,
        step_states(&back.events)
    );
    assert_eq!(standby(&back.backend.sim).0, 1, "warm standby floor again");
    assert_eq!(back.summary.serving_region.as_deref(), Some("us-east-1"));
}

#[test]
fn an_abort_never_scales_down_the_side_that_serves() {
    let fo = |extra: &str| {
        failover(
            sim_at("dr-pilot-light", 5 * 60_000),
            true,
            &answers(extra),
            false,
        )
    };
    // At go: nothing was done, nothing undone.
    let r = failover(
        sim_at("dr-pilot-light", 5 * 60_000),
        true,
        &Answers::parse("[steps.go]\nchoice = \"abort\"\nnote = \"no\"\n", "a.toml").unwrap(),
        false,
    );
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    assert_eq!(standby(&r.backend.sim), (1, 1));
    // At the switch (the primary still serves): the standby's scale-up is
    // undone.
    let r = fo(
        "[steps.switch]\nchoice = \"abort\"\nnote = \"DNS change failed\"\n[steps.undo-floor]\nconfirm = true\n",
    );
    assert_eq!(
        r.summary.outcome,
        Outcome::Aborted,
        "{:?}",
        r.summary.reason
    );
    assert_eq!(
        standby(&r.backend.sim).0,
        1,
        "floor undone: {:?}",
        step_states(&r.events)
    );
    assert_eq!(
        r.summary.serving_region.as_deref(),
        Some("us-east-1"),
        "still the primary"
    );
    // After the switch (the standby serves): it keeps its capacity; the
    // cleanup ends at keep-serving and undoes nothing.
    let r = fo("[steps.switch]\nchoice = \"continue\"\nnote = \"switched\"\n");
    assert_eq!(
        r.summary.outcome,
        Outcome::Aborted,
        "{:?}",
        r.summary.reason
    );
    assert_eq!(
        standby(&r.backend.sim),
        (6, 6),
        "{:?}",
        step_states(&r.events)
    );
    assert_eq!(r.summary.serving_region.as_deref(), Some("us-west-2"));
    let asked = kinds(&r.events, "checkpoint_response");
    assert_eq!(asked.last().unwrap().step.as_deref(), Some("keep-serving"));
    assert!(
        !kinds(&r.events, "api_call")
            .iter()
            .any(|e| e.step.as_deref().is_some_and(|s| s.starts_with("undo"))),
        "nothing undone"
    );
}

/// dr-pilot-light with the standby's block edited.
fn standby_with(from: &str, to: &str) -> Simulator {
    let text = include_str!("../../../assets/scenarios/dr-pilot-light.toml");
    assert!(
        text.contains(from),
        "dr-pilot-light.toml changed: fix this test"
    );
    let text = text.replacen(from, to, 1);
    let mut sim = Simulator::new(Scenario::parse(&text, "dr.toml").unwrap(), None);
    sim.run_until(5 * 60_000);
    sim
}

#[test]
fn a_standby_that_is_not_ready_is_refused_listing_why() {
    let go = |sim: Simulator| failover(sim, true, &Answers::default(), true);
    // Ready on the demo: the readiness step passes and says what it checked.
    let r = go(sim_at("dr-pilot-light", 5 * 60_000));
    let ready = kinds(&r.events, "api_call")
        .into_iter()
        .find(|e| e.detail()["phase"] == "after" && e.detail()["call"]["api"] == "DrReadiness")
        .unwrap();
    let passed = ready.detail()["output"]["passed"].to_string();
    assert!(
        passed.contains("family api and its images match")
            && passed.contains("alarm prod-dr-api-5xx exists")
            && passed.contains("behind a load balancer"),
        "{passed}"
    );
    // Its alarm missing: refused before anything is scaled.
    let r = go(standby_with(
        "name = \"prod-dr-api-5xx\"",
        "name = \"prod-dr-api-errors\"",
    ));
    assert_eq!(r.summary.outcome, Outcome::Failed);
    let why = r.summary.reason.clone().unwrap_or_default();
    assert!(
        why.contains("not ready to take over")
            && why.contains("alarm prod-dr-api-5xx does not exist"),
        "{why}"
    );
    assert_eq!(standby(&r.backend.sim), (1, 1), "nothing scaled");
}

#[test]
fn a_primary_that_cannot_be_read_is_not_evaluated_and_the_failover_goes_on() {
    // A region outage: the primary's service is not in the snapshot.
    let hide = |snap: &mut crate::model::FleetSnapshot| {
        snap.services.retain(|s| s.region != "us-east-1");
    };
    let mut r = runner(
        runbook("dr-region-failover"),
        &[
            ("cluster", "prod"),
            ("service", "api"),
            ("primary_region", "us-east-1"),
            ("standby_region", "us-west-2"),
            ("standby_cluster", "prod-dr"),
            ("target_count", "6"),
        ],
    );
    let mut b = SimDriver::new(sim_at("dr-pilot-light", 5 * 60_000));
    // It reaches the go / no-go, sized by target_count.
    let ask = drive(&mut r, &mut b, &hide).expect_err("the go / no-go");
    assert_eq!(ask.step, "go");
    assert!(ask.prompt.contains("to 6 tasks"), "{}", ask.prompt);
    let ready = r
        .journal
        .events
        .iter()
        .find(|e| {
            e.kind() == "api_call"
                && e.detail()["phase"] == "after"
                && e.detail()["call"]["api"] == "DrReadiness"
        })
        .expect("readiness ran");
    let ne = ready.detail()["output"]["not_evaluated"].to_string();
    assert!(
        ne.contains("the primary prod/api in us-east-1 was not read"),
        "{ne}"
    );
}

#[test]
fn a_dry_run_switches_nothing_so_the_primary_still_serves() {
    let r = failover(
        sim_at("dr-pilot-light", 5 * 60_000),
        false,
        &Answers::default(),
        true,
    );
    assert!(r.summary.dry_run);
    assert_eq!(r.summary.serving_region.as_deref(), Some("us-east-1"));
    let md = crate::runbook::report::render(&runbook("dr-region-failover"), &r.events);
    assert!(
        md.contains("- Not switched: **us-east-1** still serves"),
        "{md}"
    );
}

#[test]
fn a_region_outage_is_failed_over_to_the_pilot_light() {
    // region-outage: us-east-1 is lost at 2m; the standby prod/api in
    // us-west-2 runs 0 tasks (a pilot light).
    let params = &[
        ("cluster", "prod"),
        ("service", "api"),
        ("primary_region", "us-east-1"),
        ("standby_region", "us-west-2"),
    ];
    let r = run(
        runbook("dr-region-failover"),
        sim_at("region-outage", 3 * 60_000),
        params,
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?} {:?}",
        r.summary.reason,
        step_states(&r.events)
    );
    assert_eq!(r.summary.serving_region.as_deref(), Some("us-west-2"));
    assert!(r.summary.rto_seconds.is_some());
    // The drill report says what was switched and what fail-back needs.
    let md = crate::runbook::report::render(&runbook("dr-region-failover"), &r.events);
    assert!(
        md.contains("- Switched: traffic from us-east-1 to **us-west-2**"),
        "{md}"
    );
    assert!(
        md.contains("- Fail-back will need: `ecsdeck runbook run dr-region-failback --param cluster=prod --param service=api --param primary_region=us-east-1 --param standby_region=us-west-2 --param standby_cluster=prod`"),
        "{md}"
    );
    let snap = r.backend.sim.snapshot();
    let standby = snap.service_in("prod/api", Some("us-west-2")).unwrap();
    assert_eq!(
        standby.running_count, 6,
        "sized from the primary's desired count"
    );
    let primary = snap.service_in("prod/api", Some("us-east-1")).unwrap();
    assert_eq!(primary.running_count, 0, "the primary region is down");
}
