//! GameDays: guardrails are required, the drill is measured on healthy
//! replacements, and no verdict is given without a finish.

use super::*;
use crate::model::AlarmState;

const API: &[(&str, &str)] = &[("cluster", "prod"), ("service", "api")];

fn crash(params: &[(&str, &str)], sim: Simulator) -> Run {
    let mut p = API.to_vec();
    p.extend_from_slice(params);
    run(
        runbook("gameday-task-crash"),
        sim,
        &p,
        true,
        &Answers::default(),
        true,
    )
}

/// The AZ GameDay on prod/api of steady at 5m with `extra` parameters, --yes.
fn az_drill(extra: &[(&str, &str)]) -> Run {
    let mut p = API.to_vec();
    p.extend_from_slice(extra);
    run(
        runbook("gameday-az-outage"),
        sim_at("steady", 5 * 60_000),
        &p,
        true,
        &Answers::default(),
        true,
    )
}

fn refused_before_anything_ran(r: &Run) -> String {
    assert_eq!(r.summary.outcome, Outcome::Aborted, "{:?}", r.summary);
    assert!(kinds(&r.events, "step_start").is_empty(), "nothing ran");
    assert!(kinds(&r.events, "api_call").is_empty());
    r.summary.reason.clone().unwrap_or_default()
}

#[test]
fn the_demo_guards_a_gameday_out_of_the_box() {
    let r = crash(&[], sim_at("steady", 5 * 60_000));
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?}",
        r.summary.reason
    );
    let warned: Vec<String> = kinds(&r.events, "warning")
        .iter()
        .map(|e| e.detail()["message"].to_string())
        .collect();
    assert!(warned.is_empty(), "guarded, no warnings: {warned:?}");
}

#[test]
fn a_missing_stop_alarm_refuses_the_start_naming_it() {
    let r = crash(
        &[("stop_alarms", "prod-api-5xx, prod-api-errors")],
        sim_at("steady", 5 * 60_000),
    );
    let why = refused_before_anything_ran(&r);
    assert!(
        why.contains("\"prod-api-errors\" does not exist in 123456789012 us-east-1")
            && why.contains("unguarded")
            && why.contains("--param stop_alarms="),
        "{why}"
    );
    // Named by hand, a team's own alarms guard the drill.
    let r = crash(
        &[("stop_alarms", "prod-api-5xx,prod-api-unhealthy-hosts")],
        sim_at("steady", 5 * 60_000),
    );
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?}",
        r.summary.reason
    );
}

/// The task-crash drill on a snapshot whose `alarm` is in `state`.
fn with_alarm_state(alarm: &str, state: AlarmState) -> Summary {
    let set = |snap: &mut crate::model::FleetSnapshot| {
        let mut alarms = (*snap.alarms).clone();
        for a in alarms.iter_mut().filter(|a| a.name == alarm) {
            a.state = state;
            a.state_reason = "Insufficient Data: 5 datapoints were unknown.".into();
        }
        snap.alarms = alarms.into();
    };
    let mut r = runner(runbook("gameday-task-crash"), API);
    drive(
        &mut r,
        &mut SimDriver::new(sim_at("steady", 5 * 60_000)),
        &set,
    )
    .expect("refused at the start, before any checkpoint")
}

#[test]
fn a_stop_alarm_without_data_or_already_firing_refuses_the_start() {
    let s = with_alarm_state("prod-api-p99-latency", AlarmState::InsufficientData);
    assert_eq!(s.outcome, Outcome::Aborted);
    let why = s.reason.unwrap_or_default();
    assert!(
        why.contains("\"prod-api-p99-latency\" is INSUFFICIENT_DATA")
            && why.contains("could not stop the drill"),
        "{why}"
    );
    let s = with_alarm_state("prod-api-5xx", AlarmState::Alarm);
    assert_eq!(s.outcome, Outcome::Aborted);
    let why = s.reason.unwrap_or_default();
    assert!(
        why.contains("\"prod-api-5xx\" is already in ALARM"),
        "{why}"
    );
}

#[test]
fn an_operational_runbook_still_runs_with_a_warning_when_its_alarm_is_missing() {
    // scale-out is not a GameDay: during an incident it must run.
    let r = run(
        runbook("scale-out"),
        sim_at("steady", 60_000),
        &[
            ("cluster", "prod"),
            ("service", "api"),
            ("target", "8"),
            ("alarm_prefix", "nope"),
        ],
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
    assert!(kinds(&r.events, "warning").iter().any(|e| {
        e.detail()["message"]
            .as_str()
            .unwrap_or("")
            .contains("\"nope-5xx\" not found")
    }));
}

#[test]
fn the_replacement_counts_once_it_serves_not_once_it_runs() {
    let r = crash(&[], sim_at("steady", 5 * 60_000));
    assert_eq!(r.summary.outcome, Outcome::Completed);
    let rto = r.summary.rto_seconds.unwrap();
    assert_eq!(r.summary.rto_target_seconds, Some(30.0));
    assert_eq!(r.summary.rto_met, Some(rto <= 30.0));
    // At the "replaced" marker, every running task's target is healthy.
    let at = kinds(&r.events, "marker")
        .into_iter()
        .find(|e| e.detail()["name"] == "replaced")
        .unwrap()
        .detail()["at"]
        .as_i64()
        .unwrap();
    let crash_at = kinds(&r.events, "marker")
        .into_iter()
        .find(|e| e.detail()["name"] == "crash")
        .unwrap()
        .ts;
    // The replacement started after the crash.
    let snap = r.backend.sim.snapshot();
    let svc = snap.service_in("prod/api", None).unwrap();
    let newest = svc
        .running_tasks()
        .filter(|t| t.created_at >= crash_at)
        .count();
    assert!(newest >= 1, "a replacement started after the crash");
    assert!(at > crash_at);
    // It took at least a health check's worth of time: running alone
    // (seconds) would be too soon to serve.
    assert!(
        rto >= 10.0,
        "rto {rto} s is too short to be a healthy target"
    );
}

#[test]
fn an_aborted_drill_gives_no_verdict() {
    // The operator aborts at the debrief: the RTO was measured, but the
    // drill did not finish, so it neither passes nor fails.
    let answers = Answers::parse(
        "arm_phrase = \"CRASH api\"\n[steps.go]\nchoice = \"continue\"\nnote = \"go\"\n[steps.crash]\nconfirm = true\n",
        "a.toml",
    )
    .unwrap();
    let r = run(
        runbook("gameday-task-crash"),
        sim_at("steady", 5 * 60_000),
        API,
        true,
        &answers,
        false,
    );
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    assert!(r.summary.rto_seconds.is_some(), "measured");
    assert_eq!(r.summary.rto_met, None, "no verdict");
    let text = crate::runbook::commands::summary_text(&r.summary);
    assert!(text.contains("no verdict"), "{text}");
    assert!(!text.contains("PASS") && !text.contains("FAIL"), "{text}");
}

#[test]
fn with_an_fis_role_the_az_is_impaired_by_an_experiment_and_released_by_stopping_it() {
    let r = az_drill(&[
        ("az", "us-east-1a"),
        ("duration", "3m"),
        ("fis_role_arn", "arn:aws:iam::123456789012:role/fis-gameday"),
        ("disrupt_connectivity", "true"),
    ]);
    // With the subnet's network cut, ECS (which does not know) keeps placing
    // replacements back into the AZ, where they fail their health checks:
    // capacity stays short, 5XX rise, and the guardrail stops the drill.
    // The abort's cleanup stops the experiment; no verdict is given.
    assert_eq!(
        r.summary.outcome,
        Outcome::Aborted,
        "{:?}",
        r.summary.reason
    );
    assert!(
        r.summary
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("stop condition"),
        "{:?}",
        r.summary.reason
    );
    assert_eq!(r.summary.rto_met, None);
    let calls = kinds(&r.events, "api_call");
    let inject = calls
        .iter()
        .find(|e| e.detail()["phase"] == "after" && e.detail()["call"]["api"] == "StopTasks")
        .unwrap();
    let fis = &inject.detail()["call"]["fis"];
    assert_eq!(
        fis["role_arn"],
        "arn:aws:iam::123456789012:role/fis-gameday"
    );
    assert_eq!(fis["duration_ms"], 180_000);
    let subnets = fis["subnet_arns"].as_array().unwrap();
    assert_eq!(
        subnets.len(),
        1,
        "the service's subnet in us-east-1a: {fis}"
    );
    assert!(
        subnets[0]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:ec2:us-east-1:123456789012:subnet/")
    );
    let alarms: Vec<&str> = fis["stop_alarm_arns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(alarms.len(), 2, "5xx and p99: {alarms:?}");
    assert!(alarms.iter().all(|a| a.starts_with("arn:aws:cloudwatch:")));
    let id = inject.detail()["output"]["experimentId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(id.starts_with("EXP"));
    // FIS keeps the AZ impaired: no StopTask sweeps; the release names the
    // experiment, which is stopped if it still runs.
    assert!(
        !calls
            .iter()
            .any(|e| e.detail()["sweep"] == true && e.detail()["call"]["api"] == "StopTasks"),
        "no StopTask sweeps under FIS"
    );
    let start = kinds(&r.events, "sustain_start");
    assert_eq!(start[0].detail()["experiment"], id.as_str());
    let release = calls
        .iter()
        .find(|e| e.detail()["phase"] == "before" && e.detail()["call"]["api"] == "ReleaseAz")
        .unwrap();
    assert_eq!(release.detail()["call"]["experiment"], id.as_str());
    // The report says which way the drill ran.
    let md = crate::runbook::report::render(&runbook("gameday-az-outage"), &r.events);
    assert!(
        md.contains(&format!(
            "- Impairment of us-east-1a: AWS FIS experiment {id} (stop-task, disrupt-connectivity)"
        )),
        "{md}"
    );
    // The simulator rehearsed the cut: tasks in the AZ failed their ELB
    // health checks and ECS replaced them, back into the same AZ.
    let snap = r.backend.sim.snapshot();
    let svc = snap.service_in("prod/api", None).unwrap();
    assert!(
        svc.tasks
            .iter()
            .any(|t| t.availability_zone.as_deref() == Some("us-east-1a")
                && t.stopped_reason
                    .as_deref()
                    .is_some_and(|r| r.contains("failed ELB health checks"))),
        "replaced for failed health checks in us-east-1a"
    );
}

#[test]
fn an_fis_drill_needs_its_stop_alarms_as_arns() {
    // A stop alarm named that does not exist: the GameDay refuses before FIS.
    let r = az_drill(&[
        ("az", "us-east-1a"),
        ("fis_role_arn", "arn:aws:iam::123456789012:role/fis"),
        ("stop_alarms", "prod-api-5xx,nope"),
    ]);
    let why = refused_before_anything_ran(&r);
    assert!(why.contains("\"nope\" does not exist"), "{why}");
}

#[test]
fn two_tasks_over_three_azs_are_even_a_lost_az_is_not() {
    let spread = |sim: &Simulator, svc: &str| {
        let (cluster, name) = svc.split_once('/').unwrap();
        let items = crate::runbook::cond::items(
            &sim.snapshot(),
            "ecs.service",
            &crate::calls::ServiceRef::new(cluster, name, None),
            None,
            false,
            0,
        )
        .unwrap();
        (
            items[0]["azSpread"].as_i64().unwrap(),
            items[0]["runningTasksByAz"].clone(),
        )
    };
    // staging/api: 2 tasks over 3 AZs, 0/1/1, as even as 2 tasks get.
    let sim = sim_at("steady", 5 * 60_000);
    let (s, by_az) = spread(&sim, "staging/api");
    assert_eq!(
        by_az.as_object().unwrap().len(),
        3,
        "every subnet AZ counts: {by_az}"
    );
    assert_eq!(s, 1, "{by_az}");
    // az-outage: us-east-1a lost under prod/api, 0/3/3.
    let (s, by_az) = spread(&sim_at("az-outage", 4 * 60_000), "prod/api");
    assert_eq!(s, 3, "{by_az}");
}

#[test]
fn fis_without_the_network_cut_keeps_the_az_impaired_by_sweeps() {
    let r = az_drill(&[
        ("az", "us-east-1a"),
        ("duration", "3m"),
        ("fis_role_arn", "arn:aws:iam::123456789012:role/fis-gameday"),
    ]);
    // ECS places replacements back into the AZ and the sweeps stop them:
    // capacity stays short until a guardrail stops the drill, as on AWS.
    assert_ne!(r.summary.outcome, Outcome::Failed, "{:?}", r.summary.reason);
    let calls = kinds(&r.events, "api_call");
    let inject = calls
        .iter()
        .find(|e| e.detail()["phase"] == "after" && e.detail()["call"]["api"] == "StopTasks")
        .unwrap();
    assert_eq!(
        inject.detail()["call"]["fis"]["disrupt_connectivity"],
        false
    );
    let sweeps = kinds(&r.events, "sustain_start")[0].detail()["interval"]
        .as_i64()
        .unwrap();
    assert_eq!(
        sweeps, 20_000,
        "StopTask sweeps every 20 s keep the AZ impaired"
    );
    let md = crate::runbook::report::render(&runbook("gameday-az-outage"), &r.events);
    assert!(
        md.contains("(stop-task), kept by StopTask sweeps every 20s"),
        "{md}"
    );
}

#[test]
fn an_experiment_fis_stops_ends_the_impairment_and_says_why() {
    use crate::calls::CallOutput;
    use crate::runbook::drive::Backend;
    use crate::runbook::engine::Need;
    // FIS stops the experiment on its own (a stop condition): the runner,
    // which follows it with GetExperiment, ends the impairment then.
    let mut p = API.to_vec();
    p.extend_from_slice(&[
        ("az", "us-east-1a"),
        ("duration", "30m"),
        ("fis_role_arn", "arn:aws:iam::123456789012:role/fis-gameday"),
        ("disrupt_connectivity", "true"),
    ]);
    let mut r = runner(runbook("gameday-az-outage"), &p);
    let mut b = SimDriver::new(sim_at("steady", 5 * 60_000));
    let mut polls = 0;
    for _ in 0..10_000 {
        let snap = b.snapshot();
        let now = b.now();
        match r.poll(now, &snap) {
            Need::Wait { until } => b.advance_to(until),
            Need::Call(c) if c.args::<crate::actions::fis::FisStatusCall>().is_some() => {
                polls += 1;
                let state = if polls >= 2 { "stopped" } else { "running" };
                r.call_done(
                    b.now(),
                    Ok(CallOutput {
                        request_ids: vec![format!("fis-{polls}")],
                        detail: serde_json::json!({"state": state, "reason": "Experiment stopped by stop condition"}),
                    }),
                );
            }
            Need::Call(c) => {
                let res = b.call(&c);
                r.call_done(b.now(), res);
            }
            Need::Arm { phrase } => r.arm(now, &phrase, true).unwrap(),
            Need::Confirm { .. } => r.confirm(now, true, true),
            Need::Checkpoint(ask) => {
                let choice = ask.choices[0].clone();
                r.answer(now, &choice, "ok", &["alice".into(), "bob".into()], false)
                    .unwrap();
            }
            Need::Finished(_) => break,
        }
    }
    let ended: Vec<String> = r
        .journal
        .events
        .iter()
        .filter(|e| e.kind() == "sustain_end")
        .map(|e| e.detail()["why"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        ended
            .iter()
            .any(|w| w == "FIS experiment stopped: Experiment stopped by stop condition"),
        "{ended:?}"
    );
    assert!(polls >= 2, "followed with GetExperiment: {polls}");
}
