//! Headless runs of every shipped runbook on the simulator, and start refusals.

use super::*;

#[test]
fn gameday_az_outage_on_steady_measures_rto_and_ttd() {
    let r = run(
        runbook("gameday-az-outage"),
        sim_at("steady", 5 * 60_000),
        &[
            ("cluster", "prod"),
            ("service", "api"),
            ("az", "us-east-1a"),
            ("duration", "5m"),
        ],
        true,
        &Answers::default(),
        true,
    );
    let s = &r.summary;
    assert_eq!(
        s.outcome,
        Outcome::Completed,
        "{:?}\n{:#?}",
        s.reason,
        step_states(&r.events)
    );
    let rto = s.rto_seconds.expect("RTO measured");
    assert!(rto > 0.0 && rto < 900.0, "rto {rto}");
    assert_eq!(s.rto_target_seconds, Some(60.0), "the AZ-loss default");
    // The running-tasks alarm fires while capacity is being restored; its
    // history puts detection at the transition, before the step even began.
    let ttd = s
        .ttd_seconds
        .expect("the running-tasks alarm detects the loss");
    assert!(ttd > 0.0 && ttd <= rto + 60.0, "ttd {ttd} rto {rto}");
    // Tasks were stopped with the GameDay reason, in that AZ only.
    let calls = kinds(&r.events, "api_call");
    let stop = calls
        .iter()
        .find(|e| e.detail()["phase"] == "after" && e.detail()["call"]["api"] == "StopTasks")
        .expect("a StopTask call");
    assert!(
        !stop.detail()["call"]["task_ids"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(stop.aws_request_id.is_some(), "request id journaled");
    // The AZ was released and the service is whole again, spread over 3 AZs.
    let snap = r.backend.sim.snapshot();
    let svc = snap.service_in("prod/api", None).unwrap();
    let azs: std::collections::BTreeSet<_> = svc
        .running_tasks()
        .filter_map(|t| t.availability_zone.clone())
        .collect();
    assert_eq!(azs.len(), 3, "rebalanced over the three AZs");
    // Blast radius: the other services kept their tasks in that AZ.
    for other in ["prod/web", "prod/worker", "prod/payments"] {
        let o = snap.service_in(other, None).unwrap();
        assert!(
            !o.tasks.iter().any(|t| t
                .stopped_reason
                .as_deref()
                .is_some_and(|r| r.contains("impaired"))),
            "{other} was hit"
        );
        assert_eq!(o.running_count, o.desired_count, "{other}");
    }
    // The impairment lasted its duration (5m, to a sweep), then ended on
    // its own, and the AZ was released.
    let inject = kinds(&r.events, "marker")
        .into_iter()
        .find(|e| e.detail()["name"] == "inject")
        .unwrap()
        .ts;
    let ended = kinds(&r.events, "sustain_end");
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].detail()["why"], "duration over");
    let lasted = ended[0].ts - inject;
    assert!(
        (5 * 60_000..5 * 60_000 + 30_000).contains(&lasted),
        "impaired for {lasted} ms"
    );
    assert!(
        calls
            .iter()
            .any(|e| e.detail()["phase"] == "after" && e.detail()["call"]["api"] == "ReleaseAz")
    );
    // Rebalanced evenly: at most one task between AZs.
    let mut per_az = std::collections::BTreeMap::<String, i32>::new();
    for t in svc.running_tasks() {
        *per_az
            .entry(t.availability_zone.clone().unwrap())
            .or_default() += 1;
    }
    let (most, fewest) = (
        per_az.values().max().unwrap(),
        per_az.values().min().unwrap(),
    );
    assert!(most - fewest <= 1, "{per_az:?}");
    assert_eq!(
        step_states(&r.events)
            .iter()
            .find(|(s, _)| s == "rebalanced")
            .unwrap()
            .1,
        "done"
    );
    // Arm phrase and confirmations were auto-approved and say so.
    assert!(
        kinds(&r.events, "armed")
            .iter()
            .all(|e| e.detail()["auto"] == true)
    );
    assert!(
        kinds(&r.events, "confirmation")
            .iter()
            .all(|e| e.detail()["auto"] == true)
    );
    // The impaired window ends when the impairment does, not later.
    let window = kinds(&r.events, "condition_met")
        .into_iter()
        .find(|e| e.step.as_deref() == Some("impaired-window"))
        .unwrap();
    assert!(window.ts >= ended[0].ts && window.ts - ended[0].ts <= 10_000);
    // Virtual time: the whole GameDay ran in simulated minutes.
    let span = r.events.last().unwrap().ts - r.events[0].ts;
    assert!(span > 5 * 60_000, "{span}");
}

#[test]
fn a_stop_condition_mid_run_aborts_and_runs_cleanup() {
    // A load spike during the GameDay: the scale-out scenario's spike (from
    // 5m) trips prod-api-5xx, one of the runbook's guardrails.
    let r = run(
        runbook("gameday-az-outage"),
        sim_at("scale-out", 4 * 60_000),
        &[
            ("cluster", "prod"),
            ("service", "api"),
            ("az", "us-east-1b"),
        ],
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    assert_eq!(
        r.summary.stop_conditions_hit,
        vec!["prod-api-5xx".to_string()]
    );
    assert!(
        r.summary
            .reason
            .as_deref()
            .unwrap()
            .contains("stop condition"),
        "{:?}",
        r.summary.reason
    );
    let states = step_states(&r.events);
    // Cleanup ran after the abort: release-az, then rebalanced.
    let abort_seq = kinds(&r.events, "abort")[0].seq;
    let cleanup: Vec<&String> = kinds(&r.events, "step_start")
        .iter()
        .filter(|e| e.seq > abort_seq)
        .map(|e| e.step.as_ref().unwrap())
        .collect();
    assert_eq!(cleanup, ["release-az", "rebalanced"], "{states:?}");
    assert!(!states.iter().any(|(s, _)| s == "debrief"), "{states:?}");
    // The AZ takes tasks again after the cleanup released it.
    assert!(
        kinds(&r.events, "api_call")
            .iter()
            .any(|e| e.detail()["call"]["api"] == "ReleaseAz")
    );
}

#[test]
fn a_blocking_finding_refuses_the_start() {
    // prod/web has no availability alarms (OPS-06) in the steady scenario;
    // its latency alarm guards the drill.
    let r = run(
        runbook("gameday-az-outage"),
        sim_at("steady", 60_000),
        &[
            ("cluster", "prod"),
            ("service", "web"),
            ("az", "us-east-1a"),
            ("stop_alarms", "prod-web-p99-latency"),
        ],
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    let reason = r.summary.reason.clone().unwrap();
    assert!(reason.contains("OPS-06"), "{reason}");
    assert!(kinds(&r.events, "step_start").is_empty(), "nothing ran");
    assert!(kinds(&r.events, "api_call").is_empty());
}

#[test]
fn scale_out_raises_the_floor_and_restores_it() {
    let r = run(
        runbook("scale-out"),
        sim_at("steady", 60_000),
        &[("cluster", "prod"), ("service", "api"), ("target", "10")],
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
    assert!(r.summary.rto_seconds.is_some());
    let apis: Vec<String> = kinds(&r.events, "api_call")
        .iter()
        .filter(|e| e.detail()["phase"] == "after")
        .map(|e| e.detail()["call"]["api"].as_str().unwrap().to_string())
        .collect();
    // Under auto scaling the capacity moves through the scalable target
    // only: raising the floor to 10 scales the service to 10, and the
    // restore puts min/max back; desiredCount is never set by hand.
    assert_eq!(apis, ["CheckFit", "SetCapacity", "SetCapacity"]);
    let skipped = |id: &str| {
        kinds(&r.events, "step_end")
            .iter()
            .any(|e| e.step.as_deref() == Some(id) && e.detail()["state"] == "skipped")
    };
    assert!(skipped("scale"));
    let snap = r.backend.sim.snapshot();
    let st = snap
        .scalable_targets
        .iter()
        .find(|t| t.resource_id == "service/prod/api")
        .unwrap();
    assert_eq!(
        (st.min_capacity, st.max_capacity),
        (6, 24),
        "floor restored"
    );
    // Target tracking, not the runbook, scales back in when the load allows.
    assert_eq!(snap.service_in("prod/api", None).unwrap().desired_count, 10);
    let mut sim = r.backend.sim;
    sim.run_until(sim.elapsed_ms() + 40 * 60_000);
    let later = sim
        .snapshot()
        .service_in("prod/api", None)
        .unwrap()
        .desired_count;
    assert!((6..10).contains(&later), "scaled in by its policy: {later}");
}

#[test]
fn scale_out_works_from_zero() {
    let mut sim = sim_at("steady", 0);
    // staging/api has no autoscaling: park it at zero.
    sim.set_desired_count(&sim.id_of("staging/api"), 0).unwrap();
    sim.run_until(5 * 60_000);
    assert_eq!(
        sim.snapshot()
            .service_in("staging/api", None)
            .unwrap()
            .running_count,
        0
    );
    let answers = Answers::parse(
        r#"
arm_phrase = "api"
[steps.approve]
choice = "continue"
note = "Black Friday"
[steps.scale]
confirm = true
[steps.confirm]
choice = "end"
note = "keep it"
"#,
        "answers.toml",
    )
    .unwrap();
    let r = run(
        runbook("scale-out"),
        sim,
        &[("cluster", "staging"), ("service", "api"), ("target", "2")],
        true,
        &answers,
        false,
    );
    // staging/api's new revision cannot start in this scenario only after 2m;
    // the service here runs api-staging at its initial revision.
    let scale = kinds(&r.events, "api_call")
        .into_iter()
        .find(|e| e.detail()["phase"] == "after" && e.detail()["call"]["api"] == "Scale")
        .expect("scaled from 0");
    assert_eq!(scale.detail()["call"]["from"], 0);
    assert_eq!(scale.detail()["call"]["to"], 2);
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?}",
        r.summary.reason
    );
    let notes: Vec<String> = kinds(&r.events, "note")
        .iter()
        .map(|e| e.detail()["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(notes, ["Black Friday", "keep it"]);
    assert!(
        kinds(&r.events, "checkpoint_response")
            .iter()
            .all(|e| e.detail()["auto"] == false)
    );
}

#[test]
fn scale_factor_guard_refuses_a_typo() {
    let r = run(
        runbook("scale-out"),
        sim_at("steady", 60_000),
        &[("cluster", "prod"), ("service", "api"), ("target", "60")],
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(r.summary.outcome, Outcome::Failed);
    assert!(
        r.summary
            .reason
            .as_deref()
            .unwrap()
            .contains("max_scale_factor"),
        "{:?}",
        r.summary.reason
    );
    // Nothing was changed (the cleanup's restores had nothing to restore):
    // the only call is the read-only fit check.
    let apis: Vec<String> = kinds(&r.events, "api_call")
        .iter()
        .filter_map(|e| e.detail()["call"]["api"].as_str().map(String::from))
        .collect();
    assert!(apis.iter().all(|a| *a == "CheckFit"), "{apis:?}");
    assert!(!kinds(&r.events, "no_change").is_empty());
}

#[test]
fn without_write_it_is_a_dry_run() {
    let before = sim_at("steady", 60_000).snapshot();
    let r = run(
        runbook("scale-out"),
        sim_at("steady", 60_000),
        &[("cluster", "prod"), ("service", "api"), ("target", "10")],
        false,
        &Answers::default(),
        true,
    );
    assert!(r.summary.dry_run);
    // Only the read-only fit check calls anything.
    assert!(
        kinds(&r.events, "api_call")
            .iter()
            .all(|e| e.detail()["call"]["api"] == "CheckFit"),
        "no change made"
    );
    let planned: Vec<String> = kinds(&r.events, "dry_run")
        .iter()
        .filter_map(|e| e.detail()["changes"].as_array().cloned())
        .flatten()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert!(
        planned.iter().any(|c| c
            == "RegisterScalableTarget service/prod/api: MinCapacity 6 → 10, MaxCapacity 24 → 24"),
        "{planned:?}"
    );
    let after = r.backend.sim.snapshot();
    assert_eq!(
        after.service_in("prod/api", None).unwrap().desired_count,
        before.service_in("prod/api", None).unwrap().desired_count
    );
}

#[test]
fn rollback_stops_the_bad_deployment() {
    // bad-deploy: prod/api starts deploying the crashing api:43 at 1m.
    let r = run(
        runbook("rollback"),
        sim_at("bad-deploy", 80_000),
        &[
            ("cluster", "prod"),
            ("service", "api"),
            ("incident", "INC-1234"),
        ],
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
    let good = kinds(&r.events, "save")
        .into_iter()
        .find(|e| e.detail()["name"] == "good")
        .unwrap();
    assert!(
        good.detail()["value"]["taskDefinition"]
            .as_str()
            .unwrap()
            .ends_with("api:42")
    );
    let snap = r.backend.sim.snapshot();
    assert!(
        snap.service_in("prod/api", None)
            .unwrap()
            .task_definition
            .ends_with("api:42")
    );
    assert!(r.summary.rto_seconds.is_some());
    // The review checkpoint showed the diff.
    assert!(kinds(&r.events, "checkpoint_response").len() >= 2);
}

fn rollback_at(at_ms: i64, extra: &[(&str, &str)]) -> Run {
    let mut params = vec![
        ("cluster", "prod"),
        ("service", "api"),
        ("incident", "INC-1"),
    ];
    params.extend_from_slice(extra);
    run(
        runbook("rollback"),
        sim_at("bad-deploy", at_ms),
        &params,
        true,
        &Answers::default(),
        true,
    )
}

fn saved_good(r: &Run) -> serde_json::Value {
    kinds(&r.events, "save")
        .into_iter()
        .find(|e| e.detail()["name"] == "good")
        .map(|e| e.detail()["value"].clone())
        .unwrap_or_default()
}

fn assert_completed(r: &Run) {
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?} {:?}",
        r.summary.reason,
        step_states(&r.events)
    );
}

/// prod/api runs api:42 and its deployment COMPLETED; the service.
fn ends_on_api42_completed(r: &Run) -> crate::model::Service {
    let snap = r.backend.sim.snapshot();
    let svc = snap.service_in("prod/api", None).unwrap().clone();
    assert!(svc.task_definition.ends_with("api:42"));
    assert_eq!(
        svc.deployments[0].rollout_state,
        Some(crate::model::RolloutState::Completed)
    );
    svc
}

fn calls_made(r: &Run) -> Vec<String> {
    kinds(&r.events, "api_call")
        .into_iter()
        .filter_map(|e| e.detail()["call"]["api"].as_str().map(str::to_string))
        .collect()
}

/// bad-deploy at 4m: the circuit breaker is already rolling back to api:42.
/// The run follows it (no StopServiceDeployment, no UpdateService) and ends
/// on api:42 COMPLETED; api:43 is never called known-good.
#[test]
fn rollback_follows_a_breaker_rollback_that_is_already_running() {
    let r = rollback_at(240_000, &[]);
    assert_completed(&r);
    let good = saved_good(&r);
    assert_eq!(good["familyRevision"], "api:42", "{good}");
    assert_eq!(good["failingRevision"], "api:43", "{good}");
    assert_eq!(good["route"], "follow", "{good}");
    assert_eq!(good["automaticRollback"], true, "{good}");
    let calls = calls_made(&r);
    assert!(
        !calls
            .iter()
            .any(|c| c == "StopDeployment" || c == "UpdateService"),
        "{calls:?}"
    );
    let svc = ends_on_api42_completed(&r);
    // ECS's history says how it ended.
    assert_eq!(svc.deployment_history[0].status, "ROLLBACK_SUCCESSFUL");
}

/// bad-deploy at 2m, before the breaker trips: the deployment in progress
/// is stopped with rollback, to api:42 from ECS's history.
#[test]
fn rollback_before_the_breaker_stops_the_deployment_to_the_last_good_one() {
    let r = rollback_at(100_000, &[]);
    assert_completed(&r);
    let good = saved_good(&r);
    assert_eq!(good["familyRevision"], "api:42", "{good}");
    assert_eq!(good["route"], "stop", "{good}");
    assert_eq!(good["from"], "ecs:ListServiceDeployments", "{good}");
    assert!(calls_made(&r).iter().any(|c| c == "StopDeployment"));
    ends_on_api42_completed(&r);
}

/// A named target must exist and must not be the failing revision.
#[test]
fn rollback_takes_a_named_revision_that_exists_and_is_not_failing() {
    let r = rollback_at(100_000, &[("task_definition", "api:99")]);
    assert_eq!(r.summary.outcome, Outcome::Failed);
    assert!(
        r.summary
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("api:99 does not exist"),
        "{:?}",
        r.summary.reason
    );
    let r = rollback_at(100_000, &[("task_definition", "api:43")]);
    assert_eq!(r.summary.outcome, Outcome::Failed);
    assert!(
        r.summary
            .reason
            .as_deref()
            .unwrap_or_default()
            .contains("failing now"),
        "{:?}",
        r.summary.reason
    );
    let r = rollback_at(100_000, &[("task_definition", "api:42")]);
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?}",
        r.summary.reason
    );
    let good = saved_good(&r);
    assert_eq!(
        (good["from"].as_str(), good["route"].as_str()),
        (Some("task_definition parameter"), Some("redeploy"))
    );
}

#[test]
fn gameday_task_crash_measures_replacement_time() {
    let r = run(
        runbook("gameday-task-crash"),
        sim_at("steady", 5 * 60_000),
        &[("cluster", "prod"), ("service", "api")],
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
    let rto = r.summary.rto_seconds.unwrap();
    assert!(rto > 0.0 && rto < 300.0, "{rto}");
    assert_eq!(r.summary.rto_target_seconds, Some(30.0));
}

#[test]
fn a_blocking_check_that_could_not_read_its_data_refuses_the_start() {
    // AWS, everything read but auto scaling (denied): REL-04 (redundant task
    // count, which reads the scalable target's MinCapacity) cannot say the
    // target is safe to crash tasks of.
    let mut snap = sim_at("steady", 60_000).snapshot();
    snap.source.kind = "aws".into();
    snap.freshness.clear();
    snap.mark_read(&crate::model::DATA_KINDS, snap.at);
    snap.set_fresh(
        crate::model::DataKind::Autoscaling,
        crate::model::Freshness {
            updated_at: None,
            error: Some("application-autoscaling:DescribeScalableTargets: AccessDenied".into()),
        },
    );
    let rb = runbook("gameday-task-crash");
    let p = bind_params(
        &rb,
        &[("cluster", "prod"), ("service", "api")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
    .unwrap();
    let mut r = Runner::new(rb, p, cfg(true), "blind".into()).unwrap();
    let _ = r.poll(snap.at, &snap);
    let s = r.summary().expect("refused at once");
    assert_eq!(s.outcome, Outcome::Aborted);
    let reason = s.reason.as_deref().unwrap();
    assert!(
        reason.contains("blocking checks could not be evaluated on prod/api")
            && reason.contains("REL-04")
            && reason.contains("AccessDenied"),
        "{reason}"
    );
    assert!(kinds(&r.journal.events, "api_call").is_empty());
}

/// Stop conditions name an alarm; of twins' alarms, the guard reads the
/// one in the run's region (and account). In `twins`, only us-east-1's
/// prod/api has `prod-api-cpu-high`: a run pinned to us-west-2 is not
/// stopped by the other region's alarm, a run pinned to us-east-1 is.
#[test]
fn stop_conditions_read_the_alarm_in_the_runs_region_and_account() {
    const RB: &str = "+++\nid = \"guarded\"\ntitle = \"Guarded wait\"\nversion = 1\nkind = \"operational\"\n\n[params.cluster]\ntype = \"string\"\nrequired = true\n\n[params.service]\ntype = \"string\"\nrequired = true\n\n[params.region]\ntype = \"string\"\nrequired = true\n\n[params.account]\ntype = \"string\"\ndefault = \"111122223333\"\n\n[[stop_conditions]]\nalarm = \"prod-api-cpu-high\"\n\n[stop_policy]\npoll = \"15s\"\non_trigger = \"abort\"\ninclude_history = true\n+++\n\n# Guarded\n\n## Hold {#hold}\n```verify\ntimeout = \"5m\"\non_timeout = \"continue\"\nsource = \"ecs.service\"\nselect = \"desiredCount\"\nop = \"==\"\nvalue = 999\n```\n";
    let go = |region: &str, account: &str| {
        let rb = parse(RB, "guarded.runbook.md").unwrap();
        run(
            rb,
            sim_at("twins", 10 * 60_000),
            &[
                ("cluster", "prod"),
                ("service", "api"),
                ("region", region),
                ("account", account),
            ],
            false,
            &Answers::default(),
            true,
        )
    };
    let east = go("us-east-1", "111122223333");
    assert_eq!(
        east.summary.stop_conditions_hit,
        vec!["prod-api-cpu-high".to_string()],
        "{:?}",
        east.summary
    );
    assert_eq!(east.summary.outcome, Outcome::Aborted);
    for (region, account) in [("us-west-2", "111122223333"), ("us-east-1", "444455556666")] {
        let other = go(region, account);
        assert!(
            other.summary.stop_conditions_hit.is_empty(),
            "{region}/{account}: {:?}",
            other.summary
        );
        assert_ne!(
            other.summary.outcome,
            Outcome::Aborted,
            "{region}/{account}"
        );
        assert!(
            kinds(&other.events, "warning")
                .iter()
                .any(|e| e.detail()["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("not found")),
            "{region}/{account}: the guard says it cannot find the alarm there"
        );
    }
}
