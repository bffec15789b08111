//! Parser table tests and headless runs of every shipped runbook on the simulator.

use std::collections::BTreeMap;

use super::drive::{Answers, SimBackend, run_headless};
use super::engine::{Outcome, RunConfig, Runner, Summary, bind_params};
use super::journal::Event;
use super::*;
use crate::source::sim::{Simulator, scenario::Scenario};

mod console_queue;
mod journal_contract;
mod journal_failure;

fn embedded(name: &str) -> &'static str {
    EMBEDDED.iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn every_embedded_runbook_parses() {
    let lib = Library::load(&[]);
    assert!(lib.problems.is_empty(), "{:?}", lib.problems);
    let ids: Vec<&str> = lib.runbooks.iter().map(|r| r.meta.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "scale-out",
            "rollback",
            "gameday-az-outage",
            "gameday-task-crash",
            "dr-region-failover"
        ]
    );
    // The parameter contract of the issue.
    let params =
        |id: &str| -> Vec<String> { lib.get(id).unwrap().meta.params.keys().cloned().collect() };
    for (id, want) in [
        ("scale-out", &["cluster", "service", "target"][..]),
        ("rollback", &["cluster", "service", "incident"]),
        (
            "gameday-az-outage",
            &["cluster", "service", "az", "duration"],
        ),
        ("gameday-task-crash", &["cluster", "service"]),
        (
            "dr-region-failover",
            &[
                "cluster",
                "service",
                "primary_region",
                "standby_region",
                "target",
            ],
        ),
    ] {
        let have = params(id);
        for w in want {
            assert!(
                have.iter().any(|h| h == w),
                "{id} lacks param {w}: {have:?}"
            );
        }
    }
}

#[test]
fn steps_blocks_and_intro_are_read() {
    let rb = parse(embedded("gameday-az-outage.runbook.md"), "x").unwrap();
    assert!(rb.intro.contains("Hypothesis"), "{}", rb.intro);
    let inject = &rb.steps[rb.step_index("inject").unwrap()];
    assert_eq!(inject.title, "Impair the AZ");
    assert!(inject.body.contains("sweep"), "{}", inject.body);
    let Block::Action(a) = &inject.block else {
        panic!("inject is an action")
    };
    assert_eq!(a.op, Op::StopTasks);
    assert_eq!(a.common.mark.as_deref(), Some("inject"));
    let recover = &rb.steps[rb.step_index("recover").unwrap()];
    let Block::Verify(v) = &recover.block else {
        panic!()
    };
    assert_eq!(v.all.len(), 2);
    assert_eq!(v.hold.as_deref(), Some("1m"));
    // Line numbers are 1-based lines of the heading in the file.
    let text = embedded("gameday-az-outage.runbook.md");
    let line = text
        .lines()
        .position(|l| l.starts_with("## Impair the AZ"))
        .unwrap()
        + 1;
    assert_eq!(inject.line, line);
}

const GOOD: &str = r#"+++
id = "t"
title = "T"
kind = "operational"
[params.cluster]
type = "string"
required = true
[params.service]
type = "string"
required = true
+++

## One {#one}
```action
op = "snapshot"
save_as = "s"
```

## Two {#two}
```verify
source = "ecs.service"
select = "runningCount"
op = ">="
value = 1
timeout = "1m"
```
"#;

/// Replace `from` by `to` in GOOD and parse; the error as a string.
fn bad(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    parse(&GOOD.replacen(from, to, 1), "t.runbook.md")
        .map(|_| String::new())
        .unwrap_or_else(|e| e.to_string())
}

#[test]
fn valid_minimal_runbook() {
    let rb = parse(GOOD, "t").unwrap();
    assert_eq!(rb.steps.len(), 2);
    assert_eq!(rb.steps[1].kind(), "verify");
}

#[test]
fn invalid_runbooks_name_file_line_and_key() {
    let cases: &[(&str, &str, &str)] = &[
        // (replace, with, expected substring)
        (
            "+++\nid",
            "id",
            "t.runbook.md:1: a runbook starts with TOML front matter",
        ),
        (
            "kind = \"operational\"",
            "kind = \"chaos\"",
            "t.runbook.md:4",
        ),
        ("kind = \"operational\"", "kidn = \"operational\"", "`kidn`"),
        (
            "op = \"snapshot\"",
            "op = \"snapshot\"\nsave_ass = 1",
            "t.runbook.md:16: `save_ass`",
        ),
        (
            "op = \"snapshot\"",
            "op = \"ecs.explode\"",
            "t.runbook.md:15: `op`",
        ),
        (
            "timeout = \"1m\"",
            "timeout = \"soon\"",
            "t.runbook.md:25: `timeout`: \"soon\" is not a duration",
        ),
        (
            "source = \"ecs.service\"",
            "source = \"ecs.servce\"",
            "`source`: unknown source",
        ),
        ("op = \">=\"", "op = \"~=\"", "`op`: unknown op"),
        (
            "value = 1\n",
            "value = 1\non_timeout = \"goto:nowhere\"\n",
            "`on_timeout`: no step with id \"nowhere\"",
        ),
        (
            "value = 1\n",
            "value = 1\non_timeout = \"retry\"\n",
            "expected \"abort\", \"continue\" or \"goto:<step id>\"",
        ),
        (
            "save_as = \"s\"",
            "save_as = \"s\"\ndesired = \"${param.nope}\"",
            "unknown variable ${param.nope}",
        ),
        (
            "## Two {#two}",
            "## Two {#one}",
            "t.runbook.md:19: duplicate step id \"one\"",
        ),
        (
            "## Two {#two}\n",
            "## Two {#two}\n```checkpoint\nprompt = \"x\"\n```\n",
            "more than one action/verify/checkpoint block",
        ),
        (
            "op = \"snapshot\"\nsave_as = \"s\"",
            "op = \"snapshot\"",
            "`save_as`: `snapshot` needs `save_as`",
        ),
        ("value = 1\n", "value = 1\n[[all]\n", "t.runbook.md:25"),
        (
            "+++\n\n## One",
            "[timeline]\nrto_end = \"never-set\"\n+++\n\n## One",
            "`rto_end`: no step sets the marker",
        ),
        (
            "required = true\n+++",
            "required = true\n\n## One",
            "front matter is not closed",
        ),
    ];
    for (from, to, want) in cases {
        let got = bad(from, to);
        assert!(
            got.contains(want),
            "replacing {from:?}: want {want:?}, got {got:?}"
        );
    }
}

#[test]
fn garbage_never_panics() {
    // A few hostile shapes; the fuzz test in tests/ does this at scale.
    for text in [
        "",
        "+++",
        "+++\n+++\n",
        "+++\nid=1\n+++\n## x\n```action\n",
        "+++\nid=\"a\"\ntitle=\"b\"\nkind=\"gameday\"\n+++\n## \n```verify\n[[all]]\n```",
        "+++\nid=\"a\"\ntitle=\"b\"\nkind=\"gameday\"\n+++\n```action\nop=\"snapshot\"\n```",
    ] {
        let _ = parse(text, "g");
    }
}

// ------------------------------------------------------------ headless runs

struct Run {
    summary: Summary,
    events: Vec<Event>,
    backend: SimBackend,
}

fn runbook(id: &str) -> Runbook {
    Library::load(&[]).get(id).unwrap().clone()
}

fn cfg(write: bool) -> RunConfig {
    RunConfig {
        write,
        operator: "test".into(),
        review: crate::review::ReviewConfig::default(),
        data_dir: None,
        source: "demo:test".into(),
    }
}

fn sim_at(scenario: &str, at_ms: i64) -> Simulator {
    let mut sim = Simulator::new(Scenario::builtin(scenario).unwrap(), None);
    sim.run_until(at_ms);
    sim
}

fn run(
    rb: Runbook,
    sim: Simulator,
    params: &[(&str, &str)],
    write: bool,
    answers: &Answers,
    yes: bool,
) -> Run {
    let given: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let p = bind_params(&rb, &given).unwrap();
    let mut r = Runner::new(rb, p, cfg(write), "run-test".into()).unwrap();
    let mut backend = SimBackend::new(sim);
    let summary = run_headless(&mut r, &mut backend, answers, yes, &mut |_| {}).unwrap();
    Run {
        summary,
        events: r.journal.events.clone(),
        backend,
    }
}

fn kinds<'a>(events: &'a [Event], kind: &str) -> Vec<&'a Event> {
    events.iter().filter(|e| e.kind() == kind).collect()
}

fn step_states(events: &[Event]) -> Vec<(String, String)> {
    kinds(events, "step_end")
        .iter()
        .map(|e| {
            (
                e.step.clone().unwrap_or_default(),
                e.detail()["state"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

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
    assert_eq!(s.rto_target_seconds, Some(300.0));
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
    let svc = snap.service("prod/api").unwrap();
    let azs: std::collections::BTreeSet<_> = svc
        .running_tasks()
        .filter_map(|t| t.availability_zone.clone())
        .collect();
    assert_eq!(azs.len(), 3, "rebalanced over the three AZs");
    // Blast radius: the other services kept their tasks in that AZ.
    for other in ["prod/web", "prod/worker", "prod/payments"] {
        let o = snap.service(other).unwrap();
        assert!(
            !o.tasks.iter().any(|t| t
                .stopped_reason
                .as_deref()
                .is_some_and(|r| r.contains("impaired"))),
            "{other} was hit"
        );
        assert_eq!(o.running_count, o.desired_count, "{other}");
    }
    assert!(
        kinds(&r.events, "sustain_end")
            .iter()
            .any(|e| e.detail()["why"] == "released")
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
    // Hold of the impaired window is the duration parameter.
    let window = kinds(&r.events, "condition_met")
        .into_iter()
        .find(|e| e.step.as_deref() == Some("impaired-window"))
        .unwrap();
    assert!(window.detail()["held_ms"].as_i64().unwrap() >= 5 * 60_000);
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
    // prod/web has no availability alarms (OPS-06) in the steady scenario.
    let r = run(
        runbook("gameday-az-outage"),
        sim_at("steady", 60_000),
        &[
            ("cluster", "prod"),
            ("service", "web"),
            ("az", "us-east-1a"),
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
    // Raising the floor to 10 already scales the service to 10, so the
    // desired-count step has nothing to change; on the way back both move.
    assert_eq!(apis, ["SetCapacity", "SetCapacity", "Scale"]);
    assert!(
        kinds(&r.events, "no_change")
            .iter()
            .any(|e| e.step.as_deref() == Some("scale"))
    );
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
    assert_eq!(snap.service("prod/api").unwrap().desired_count, 6);
}

#[test]
fn scale_out_works_from_zero() {
    let mut sim = sim_at("steady", 0);
    // staging/api has no autoscaling: park it at zero.
    sim.set_desired_count("staging", "api", 0).unwrap();
    sim.run_until(5 * 60_000);
    assert_eq!(
        sim.snapshot().service("staging/api").unwrap().running_count,
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
    // Nothing was changed (the cleanup's restores had nothing to restore).
    assert!(
        kinds(&r.events, "api_call").is_empty(),
        "{:?}",
        kinds(&r.events, "api_call")
    );
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
    assert!(kinds(&r.events, "api_call").is_empty(), "no call made");
    let planned: Vec<String> = kinds(&r.events, "dry_run")
        .iter()
        .filter_map(|e| e.detail()["changes"].as_array().cloned())
        .flatten()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert!(
        planned
            .iter()
            .any(|c| c == "UpdateService prod/api: desiredCount 6 → 10"),
        "{planned:?}"
    );
    let after = r.backend.sim.snapshot();
    assert_eq!(
        after.service("prod/api").unwrap().desired_count,
        before.service("prod/api").unwrap().desired_count
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
        snap.service("prod/api")
            .unwrap()
            .task_definition
            .ends_with("api:42")
    );
    assert!(r.summary.rto_seconds.is_some());
    // The review checkpoint showed the diff.
    assert!(kinds(&r.events, "checkpoint_response").len() >= 2);
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
fn dr_failover_scales_the_standby_and_back() {
    let r = run(
        runbook("dr-region-failover"),
        sim_at("dr-pilot-light", 5 * 60_000),
        &[
            ("cluster", "prod"),
            ("service", "api"),
            ("primary_region", "us-east-1"),
            ("standby_region", "us-west-2"),
            ("standby_cluster", "prod-dr"),
            ("target", "20m"),
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
    assert!(r.summary.rto_seconds.is_some());
    assert_eq!(r.summary.rto_met, Some(true));
    let calls: Vec<String> = kinds(&r.events, "api_call")
        .iter()
        .filter(|e| e.detail()["phase"] == "after")
        .map(|e| e.detail()["call"]["api"].as_str().unwrap().to_string())
        .collect();
    // Floor up (which scales the standby to 6, so desired needs no call),
    // then the floor and desired back down.
    assert_eq!(calls, ["SetCapacity", "SetCapacity", "Scale"]);
    let floor = kinds(&r.events, "api_call")
        .into_iter()
        .find(|e| e.detail()["phase"] == "after")
        .unwrap();
    assert_eq!(floor.detail()["call"]["from"], serde_json::json!([1, 24]));
    assert_eq!(floor.detail()["call"]["to"], serde_json::json!([6, 24]));
    let snap = r.backend.sim.snapshot();
    let standby = snap.service("prod-dr/api").unwrap();
    assert_eq!(standby.region, "us-west-2");
    assert_eq!(standby.desired_count, 1);
}

#[test]
fn missing_and_bad_params_are_refused() {
    let rb = runbook("scale-out");
    let p = |kv: &[(&str, &str)]| {
        bind_params(
            &rb,
            &kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    };
    let e = p(&[("cluster", "prod")]).unwrap_err();
    assert!(e.contains("service, target"), "{e}");
    let e = p(&[("cluster", "prod"), ("service", "api"), ("target", "ten")]).unwrap_err();
    assert!(e.contains("not an integer"), "{e}");
    let e = p(&[("cluster", "prod"), ("service", "api"), ("target", "0")]).unwrap_err();
    assert!(e.contains("below the minimum 1"), "{e}");
    let e = p(&[
        ("cluster", "prod"),
        ("service", "api"),
        ("target", "3"),
        ("tagret", "4"),
    ])
    .unwrap_err();
    assert!(e.contains("unknown parameter \"tagret\""), "{e}");
    let ok = p(&[("cluster", "prod"), ("service", "api"), ("target", "3")]).unwrap();
    assert_eq!(
        ok["alarm_prefix"], "prod-api",
        "defaults refer to earlier params"
    );
}

#[test]
fn a_checkpoint_without_an_answer_is_refused_headless() {
    let r = run(
        runbook("gameday-task-crash"),
        sim_at("steady", 60_000),
        &[("cluster", "prod"), ("service", "api")],
        true,
        &Answers::default(),
        false,
    );
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    assert!(
        r.summary
            .reason
            .as_deref()
            .unwrap()
            .contains("has no answer"),
        "{:?}",
        r.summary.reason
    );
    assert!(
        !kinds(&r.events, "api_call").iter().any(|_| true),
        "nothing was done"
    );
}

#[test]
fn approvals_are_enforced_from_answers() {
    let answers = Answers::parse(
        "arm_phrase = \"IMPAIR us-east-1a\"\n[steps.go]\nchoice = \"continue\"\nnote = \"go\"\napproved_by = [\"alice\"]\n",
        "a.toml",
    )
    .unwrap();
    let r = run(
        runbook("gameday-az-outage"),
        sim_at("steady", 60_000),
        &[
            ("cluster", "prod"),
            ("service", "api"),
            ("az", "us-east-1a"),
        ],
        true,
        &answers,
        false,
    );
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    assert!(
        r.summary
            .reason
            .as_deref()
            .unwrap()
            .contains("2 named approvals"),
        "{:?}",
        r.summary.reason
    );
}

#[test]
fn journal_survives_a_kill_and_resume_continues() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook("gameday-task-crash");
    let params = bind_params(
        &rb,
        &[("cluster", "prod"), ("service", "api")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
    .unwrap();
    let mut c = cfg(true);
    c.data_dir = Some(dir.path().to_path_buf());
    let mut r = Runner::new(rb.clone(), params, c.clone(), "crash-1".into()).unwrap();
    let mut backend = SimBackend::new(sim_at("steady", 5 * 60_000));
    // Drive by hand until the crash call is made, then "kill" the runner.
    use super::drive::Backend;
    use super::engine::Need;
    let mut made = false;
    for _ in 0..200 {
        let snap = backend.snapshot();
        let now = backend.now();
        match r.poll(now, &snap) {
            Need::Wait { until } => backend.advance_to(until),
            Need::Call(call) => {
                let res = backend.call(&call);
                r.call_done(backend.now(), res);
                made = true;
                break;
            }
            Need::Arm { phrase } => r.arm(now, &phrase, true).unwrap(),
            Need::Confirm { .. } => r.confirm(now, true, true),
            Need::Checkpoint(a) => r.answer(now, &a.choices[0], "ok", &[], true).unwrap(),
            Need::Finished(_) => panic!("finished early"),
        }
    }
    assert!(made);
    let shown = r.journal.events.len();
    drop(r);
    // Everything shown is on disk.
    let on_disk = journal::read(&dir.path().join("runs/crash-1/journal.jsonl")).unwrap();
    assert_eq!(on_disk.len(), shown);
    // A torn last line (killed mid-write) is skipped.
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("runs/crash-1/journal.jsonl"))
        .unwrap()
        .write_all(b"{\"ts\":1,\"wal")
        .unwrap();
    let mut r2 = Runner::resume(rb, c, "crash-1".into()).unwrap();
    assert_eq!(
        r2.cur.map(|i| r2.rb.steps[i].id.clone()).as_deref(),
        Some("replaced")
    );
    let s = run_headless(
        &mut r2,
        &mut backend,
        &Answers::default(),
        true,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(s.outcome, Outcome::Completed);
    let all = journal::read(&dir.path().join("runs/crash-1/journal.jsonl")).unwrap();
    assert!(all.iter().any(|e| e.kind() == "resume"));
    assert_eq!(all.len(), r2.journal.events.len());
    assert!(dir.path().join("runs/crash-1/report.md").exists());
    assert_eq!(kinds(&r2.journal.events, "run_start").len(), 1);
}

#[test]
fn unreadable_guardrails_refuse_a_gameday_and_warn_otherwise() {
    // An AWS source that does not read CloudWatch: no stop condition can fire.
    let mut snap = sim_at("steady", 60_000).snapshot();
    snap.source.kind = "aws".into();
    snap.freshness.clear();
    snap.freshness.insert(
        "ecs".into(),
        crate::model::Freshness {
            updated_at: Some(snap.at),
            error: None,
        },
    );
    let start = |id: &str, params: &[(&str, &str)]| {
        let rb = runbook(id);
        let p = bind_params(
            &rb,
            &params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .unwrap();
        let mut r = Runner::new(rb, p, cfg(true), "g".into()).unwrap();
        let _ = r.poll(snap.at, &snap);
        r
    };
    let g = start(
        "gameday-task-crash",
        &[("cluster", "prod"), ("service", "api")],
    );
    let s = g.summary().expect("refused at once");
    assert_eq!(s.outcome, Outcome::Aborted);
    assert!(
        s.reason
            .as_deref()
            .unwrap()
            .contains("stop conditions cannot be checked")
    );
    let o = start(
        "scale-out",
        &[("cluster", "prod"), ("service", "api"), ("target", "8")],
    );
    assert!(o.summary().is_none(), "an operational runbook goes on");
    assert!(o.journal.events.iter().any(|e| {
        e.kind() == "warning"
            && e.detail()["message"]
                .as_str()
                .unwrap()
                .contains("not guarded")
    }));
}

#[test]
fn a_mutating_step_without_a_confirmation_is_not_made() {
    let answers = Answers::parse(
        "arm_phrase = \"CRASH api\"\n[steps.go]\nchoice = \"continue\"\nnote = \"go\"\n",
        "a.toml",
    )
    .unwrap();
    let r = run(
        runbook("gameday-task-crash"),
        sim_at("steady", 60_000),
        &[("cluster", "prod"), ("service", "api")],
        true,
        &answers,
        false,
    );
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    let reason = r.summary.reason.clone().unwrap();
    assert!(reason.contains("[steps.crash] confirm = true"), "{reason}");
    assert!(
        kinds(&r.events, "api_call").is_empty(),
        "nothing was stopped"
    );
}

#[test]
fn unconfirmed_cleanup_steps_are_skipped_not_looped() {
    // scale-out raises the floor, then stops at the hand-over checkpoint (no
    // answer): its cleanup restores are real changes the answers file does
    // not confirm, so they are skipped and the run ends.
    let answers = Answers::parse(
        "arm_phrase = \"api\"\n[steps.approve]\nchoice = \"continue\"\nnote = \"go\"\n[steps.raise-floor]\nconfirm = true\n",
        "a.toml",
    )
    .unwrap();
    let r = run(
        runbook("scale-out"),
        sim_at("steady", 60_000),
        &[("cluster", "prod"), ("service", "api"), ("target", "8")],
        true,
        &answers,
        false,
    );
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    let made: Vec<&str> = kinds(&r.events, "api_call")
        .iter()
        .filter(|e| e.detail()["phase"] == "after")
        .map(|e| e.step.as_deref().unwrap())
        .collect();
    assert_eq!(made, ["raise-floor"], "only the confirmed change was made");
    let skipped: Vec<&str> = kinds(&r.events, "step_end")
        .iter()
        .filter(|e| e.detail()["state"] == "skipped")
        .map(|e| e.step.as_deref().unwrap())
        .collect();
    assert!(skipped.contains(&"restore"), "{skipped:?}");
}

// ------------------------------------------------------------ issue 11

fn az_answers(approved_by: &str) -> Answers {
    Answers::parse(
        &format!(
            "arm_phrase = \"IMPAIR us-east-1a\"\n[steps.go]\nchoice = \"continue\"\nnote = \"go\"\napproved_by = {approved_by}\n[steps.inject]\nconfirm = true\n[steps.observe]\nchoice = \"continue\"\nnote = \"ok\"\n[steps.debrief]\nchoice = \"end\"\nnote = \"done\"\n"
        ),
        "a.toml",
    )
    .unwrap()
}

const AZ_PARAMS: &[(&str, &str)] = &[
    ("cluster", "prod"),
    ("service", "api"),
    ("az", "us-east-1a"),
    ("duration", "3m"),
];

#[test]
fn duplicate_approvers_in_answers_do_not_pass_the_checkpoint() {
    for dup in [
        "[\"alice\", \"alice\"]",
        "[\"alice\", \" Alice \"]",
        "[\"Bob\", \"BOB\"]",
    ] {
        let r = run(
            runbook("gameday-az-outage"),
            sim_at("steady", 60_000),
            AZ_PARAMS,
            true,
            &az_answers(dup),
            false,
        );
        assert_eq!(r.summary.outcome, Outcome::Aborted, "{dup}");
        let reason = r.summary.reason.clone().unwrap();
        assert!(reason.contains("listed twice"), "{dup}: {reason}");
        assert!(
            kinds(&r.events, "checkpoint_response").is_empty(),
            "{dup}: the checkpoint was not answered"
        );
        assert!(
            kinds(&r.events, "api_call").is_empty(),
            "{dup}: nothing was stopped"
        );
    }
    // Two distinct people pass it.
    let r = run(
        runbook("gameday-az-outage"),
        sim_at("steady", 60_000),
        AZ_PARAMS,
        true,
        &az_answers("[\"alice\", \"bob\"]"),
        false,
    );
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?}",
        r.summary.reason
    );
}

/// Drive a runner with `--yes`-like answers until the checkpoint `step` is open.
fn drive_to_checkpoint(r: &mut Runner, backend: &mut SimBackend, step: &str) -> i64 {
    use super::drive::Backend;
    use super::engine::Need;
    for _ in 0..10_000 {
        let snap = backend.snapshot();
        let now = backend.now();
        match r.poll(now, &snap) {
            Need::Wait { until } => backend.advance_to(until),
            Need::Call(call) => {
                let res = backend.call(&call);
                r.call_done(backend.now(), res);
            }
            Need::Arm { phrase } => r.arm(now, &phrase, true).unwrap(),
            Need::Confirm { .. } => r.confirm(now, true, true),
            Need::Checkpoint(a) if a.step == step => return now,
            Need::Checkpoint(a) => r.answer(now, &a.choices[0], "ok", &[], true).unwrap(),
            Need::Finished(s) => panic!("finished before {step}: {s:?}"),
        }
    }
    panic!("never reached {step}")
}

#[test]
fn duplicate_approvers_in_the_console_field_are_refused() {
    use crate::ui::runbooks::{AnswerForm, ConsoleRun, Modal, RunbookUi, Screen};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let rb = runbook("gameday-az-outage");
    let given = AZ_PARAMS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let p = bind_params(&rb, &given).unwrap();
    let mut r = Runner::new(rb, p, cfg(true), "console".into()).unwrap();
    let mut backend = SimBackend::new(sim_at("steady", 60_000));
    let now = drive_to_checkpoint(&mut r, &mut backend, "go");
    let snap = {
        use super::drive::Backend;
        backend.snapshot()
    };
    let super::engine::Need::Checkpoint(ask) = r.poll(now, &snap) else {
        panic!("the go checkpoint is open")
    };
    assert_eq!(ask.approvers, 2);
    let mut ui = RunbookUi::default();
    let submit = |ui: &mut RunbookUi, field: &str| -> Option<String> {
        let Screen::Run(run) = &mut ui.screen else {
            panic!("a run is shown")
        };
        run.modal = Modal::Answer(Box::new(AnswerForm {
            ask: ask.clone(),
            choice: 0,
            note: ratatui_textarea::TextArea::new(vec!["go".to_string()]),
            approvers: field.to_string(),
            on_approvers: false,
            error: None,
        }));
        let key = KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL);
        ui.on_key(key, now, ("", ""));
        let Screen::Run(run) = &ui.screen else {
            panic!("still a run")
        };
        match &run.modal {
            Modal::Answer(a) => Some(a.error.clone().unwrap_or_default()),
            _ => None,
        }
    };
    ui.screen = Screen::Run(Box::new(ConsoleRun {
        runner: r,
        modal: Modal::None,
        in_flight: None,
        next_id: 0,
        dismissed: None,
        step_cursor: 0,
        abort_armed: false,
        outbox: Default::default(),
    }));
    for field in ["alice,alice", "alice, Alice", "alice ,  ALICE  ,"] {
        let err = submit(&mut ui, field).expect("the dialog stays open");
        assert!(err.contains("listed twice"), "{field}: {err}");
    }
    let Screen::Run(run) = &ui.screen else {
        panic!()
    };
    assert!(
        kinds(&run.runner.journal.events, "checkpoint_response").is_empty(),
        "not answered"
    );
    // One name is one approval: still short of two.
    let err = submit(&mut ui, "alice").expect("still open");
    assert!(err.contains("got 1"), "{err}");
    assert_eq!(submit(&mut ui, "alice, bob"), None, "answered");
    let Screen::Run(run) = &ui.screen else {
        panic!()
    };
    let resp = kinds(&run.runner.journal.events, "checkpoint_response");
    assert_eq!(resp.len(), 1);
    assert_eq!(
        resp[0].detail()["approved_by"],
        serde_json::json!(["alice", "bob"])
    );
}

#[test]
fn unknown_fence_tags_are_errors_with_file_and_line() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "```verify",
            "```verfiy",
            "t.runbook.md:20: unknown block type \"verfiy\": a fenced block is `action`, `verify`, `checkpoint` or `note` (text shown as is) — did you mean verify?",
        ),
        (
            "```action",
            "```Action",
            "t.runbook.md:14: unknown block type \"Action\"",
        ),
        (
            "```verify",
            "```bogus",
            "t.runbook.md:20: unknown block type \"bogus\"",
        ),
        (
            "```verify",
            "```",
            "t.runbook.md:20: a fenced block without a type",
        ),
        (
            "## Two {#two}\n",
            "## Two {#two}\n```sh\necho hi\n```\n",
            "t.runbook.md:20: unknown block type \"sh\"",
        ),
        (
            "+++\n\n## One",
            "+++\n\n```text\nintro\n```\n\n## One",
            "t.runbook.md:13: unknown block type \"text\"",
        ),
    ];
    for (from, to, want) in cases {
        let got = bad(from, to);
        assert!(got.starts_with(want), "{to:?}: want {want:?}, got {got:?}");
    }
    assert!(!bad("```verify", "```bogus").contains("did you mean"));
    // The issue's case: a checkpoint typo in the shipped GameDay is an error
    // on the fence's line, not a read step that lets the run go on.
    let text = embedded("gameday-az-outage.runbook.md");
    let line = text.lines().position(|l| l == "```checkpoint").unwrap() + 1;
    let e = parse(
        &text.replacen("```checkpoint", "```checkpiont", 1),
        "g.runbook.md",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with(&format!(
            "g.runbook.md:{line}: unknown block type \"checkpiont\""
        )),
        "{e}"
    );
    assert!(e.ends_with("did you mean checkpoint?"), "{e}");
    // `note` is text shown as is: part of the step's prose, not its block.
    let rb = parse(
        &GOOD.replacen(
            "## Two {#two}\n",
            "## Two {#two}\n```note\nrun `aws ecs describe-services`\n```\n",
            1,
        ),
        "t",
    )
    .unwrap();
    assert_eq!(rb.steps[1].kind(), "verify");
    assert!(
        rb.steps[1].body.contains("describe-services"),
        "{}",
        rb.steps[1].body
    );
}

const SCALE: &str = r#"+++
id = "s"
title = "S"
kind = "operational"
[params.cluster]
type = "string"
required = true
[params.service]
type = "string"
required = true
[params.n]
type = "int"
required = true
[safety]
arm_phrase = "go"
+++

## Scale {#scale}
```action
op = "ecs.scale"
desired = "${param.n}"
```
"#;

#[test]
fn mutating_runbooks_need_an_arm_phrase() {
    assert!(parse(SCALE, "s.runbook.md").is_ok());
    let e = parse(&SCALE.replace("arm_phrase = \"go\"\n", ""), "s.runbook.md")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("s.runbook.md:14: `safety.arm_phrase`: missing, and this runbook has mutating steps (step scale)"),
        "{e}"
    );
    let e = parse(
        &SCALE.replace("[safety]\narm_phrase = \"go\"\n", ""),
        "s.runbook.md",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`safety.arm_phrase`: missing"), "{e}");
    let e = parse(&SCALE.replace("\"go\"", "\"  \""), "s.runbook.md")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("s.runbook.md:15: `safety.arm_phrase`: is blank"),
        "{e}"
    );
    // Read-only runbooks need none.
    assert!(parse(GOOD, "t").unwrap().meta.safety.arm_phrase.is_none());
    // A phrase that is empty once filled in refuses to arm.
    let text = SCALE
        .replace("arm_phrase = \"go\"", "arm_phrase = \"${param.p}\"")
        .replace(
            "[safety]",
            "[params.p]\ntype = \"string\"\ndefault = \"\"\n[safety]",
        );
    let rb = parse(&text, "s").unwrap();
    let r = run(
        rb,
        sim_at("steady", 60_000),
        &[("cluster", "prod"), ("service", "api"), ("n", "7")],
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    assert!(
        r.summary
            .reason
            .as_deref()
            .unwrap()
            .contains("arm phrase is empty"),
        "{:?}",
        r.summary.reason
    );
    assert!(kinds(&r.events, "api_call").is_empty(), "nothing changed");
}

#[test]
fn negative_counts_and_factors_are_refused() {
    let lit = |from: &str, to: &str| {
        parse(&SCALE.replacen(from, to, 1), "s.runbook.md")
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string())
    };
    let e = lit("desired = \"${param.n}\"", "desired = -1");
    assert_eq!(
        e,
        "s.runbook.md:21: `desired`: -1 is negative: a task count is 0 or more"
    );
    let e = lit("desired = \"${param.n}\"", "desired = \"-2\"");
    assert!(
        e.starts_with("s.runbook.md:21: `desired`: -2 is negative"),
        "{e}"
    );
    let e = lit("desired = \"${param.n}\"", "desired = \"many\"");
    assert!(e.contains("is not a task count"), "{e}");
    let e = lit(
        "arm_phrase = \"go\"",
        "arm_phrase = \"go\"\nmax_scale_factor = -3",
    );
    assert!(
        e.starts_with("s.runbook.md:16: `safety.max_scale_factor`: -3 is not a factor"),
        "{e}"
    );
    let e = lit(
        "arm_phrase = \"go\"",
        "arm_phrase = \"go\"\nmax_scale_factor = nan",
    );
    assert!(e.contains("is not a factor"), "{e}");
    assert_eq!(
        lit(
            "arm_phrase = \"go\"",
            "arm_phrase = \"go\"\nmax_scale_factor = 3"
        ),
        ""
    );
    let e = lit(
        "op = \"ecs.scale\"\ndesired = \"${param.n}\"",
        "op = \"autoscaling.set_capacity\"\nmin = -4",
    );
    assert!(e.contains("`min`: -4 is negative"), "{e}");
    // From a parameter: refused when the parameters are bound.
    let rb = parse(SCALE, "s").unwrap();
    let given = |n: &str| {
        [("cluster", "prod"), ("service", "api"), ("n", n)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let e = bind_params(&rb, &given("-3")).unwrap_err();
    assert_eq!(
        e,
        "--param n=-3: negative, and step scale uses it as `desired` (a task count is 0 or more)"
    );
    assert!(bind_params(&rb, &given("3")).is_ok());
    // From an expression: refused when the step plans its call.
    let rb = parse(&SCALE.replace("\"${param.n}\"", "\"-${param.n}\""), "s").unwrap();
    let r = run(
        rb,
        sim_at("steady", 60_000),
        &[("cluster", "prod"), ("service", "api"), ("n", "3")],
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(r.summary.outcome, Outcome::Failed);
    let reason = r.summary.reason.clone().unwrap();
    assert!(reason.contains("`desired` = -3 is negative"), "{reason}");
    assert!(kinds(&r.events, "api_call").is_empty());
    // Too large for ECS's 32-bit count: refused, not wrapped around.
    let rb = parse(SCALE, "s").unwrap();
    let r = run(
        rb,
        sim_at("steady", 60_000),
        &[("cluster", "prod"), ("service", "api"), ("n", "4294967297")],
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(r.summary.outcome, Outcome::Failed);
    assert!(
        r.summary.reason.as_deref().unwrap().contains("too large"),
        "{:?}",
        r.summary.reason
    );
}

#[test]
fn a_sustain_needs_an_az() {
    let text = SCALE.replace(
        "op = \"ecs.scale\"\ndesired = \"${param.n}\"",
        "op = \"ecs.stop_tasks\"\nselect = \"all\"\nsustain = \"5m\"",
    );
    let e = parse(&text, "s.runbook.md").unwrap_err().to_string();
    assert!(
        e.starts_with("s.runbook.md:22: `sustain`: `sustain` keeps an AZ impaired: it needs `az`"),
        "{e}"
    );
}

#[test]
fn an_unclosed_variable_is_one_line_naming_file_and_line() {
    let e = parse(
        &SCALE.replace("\"${param.n}\"", "\"${param.n\""),
        "s.runbook.md",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "s.runbook.md:21: unclosed `${` in \"${param.n\": end the variable with `}`"
    );
    // In a prompt of a multi-line block, the line is the string's.
    let e = bad(
        "timeout = \"1m\"\n",
        "timeout = \"1m\"\n[[all]]\nsource = \"ecs.service\"\nselect = \"runningCount\"\nop = \">=\"\nvalue = \"${save.s\"\n",
    );
    assert!(e.starts_with("t.runbook.md:30: unclosed"), "{e}");
    // Front matter and prose, too.
    let e = parse(
        &SCALE.replace("arm_phrase = \"go\"", "arm_phrase = \"${param.service\""),
        "s.runbook.md",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("s.runbook.md:15: unclosed"), "{e}");
    let e = parse(
        &SCALE.replace(
            "## Scale {#scale}\n",
            "## Scale {#scale}\nScale to ${param.n now.\n",
        ),
        "s.runbook.md",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("s.runbook.md:19: unclosed"), "{e}");
    // No Rust struct in any of them.
    for bad in ["Action {", "Some(", "String(\""] {
        assert!(!e.contains(bad), "{e}");
    }
    // An unknown variable in a block names its line, not the step's.
    let e = parse(
        &SCALE.replace("\"${param.n}\"", "\"${param.m}\""),
        "s.runbook.md",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("s.runbook.md:21: unknown variable ${param.m}"),
        "{e}"
    );
}

#[test]
fn a_bom_is_ignored() {
    let rb = parse(&format!("\u{feff}{GOOD}"), "t").unwrap();
    assert_eq!(rb.steps.len(), 2);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("b.runbook.md");
    std::fs::write(&p, format!("\u{feff}{GOOD}")).unwrap();
    assert_eq!(load_file(&p).unwrap().meta.id, "t");
}

#[test]
fn a_parameter_given_twice_is_refused() {
    use super::engine::collect_params;
    let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
    let e = collect_params(&[kv("target", "3"), kv("cluster", "prod"), kv("target", "30")])
        .unwrap_err();
    assert_eq!(
        e,
        "--param target is given twice (target=3 and target=30): pass it once"
    );
    assert!(collect_params(&[kv("target", "3"), kv("target", "3")]).is_err());
    let m = collect_params(&[kv("a", "1"), kv("b", "2")]).unwrap();
    assert_eq!(m.len(), 2);
}

#[test]
fn unreadable_runbook_files_are_problems_not_hangs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.runbook.md"), SCALE).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.runbook.md")).unwrap();
    let fifo = dir.path().join("fifo.runbook.md");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    std::fs::create_dir(dir.path().join("dir.runbook.md")).unwrap();
    let t = std::time::Instant::now();
    let lib = Library::load(&[dir.path().to_path_buf()]);
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    assert!(lib.get("s").is_some(), "the good one is listed");
    let errs: Vec<&str> = lib.problems.iter().map(|p| p.error.as_str()).collect();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(
        errs.iter()
            .any(|e| e
                .ends_with("fifo.runbook.md: not a regular file (a FIFO); refusing to read it")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.ends_with(
            "zero.runbook.md: not a regular file (a character device); refusing to read it"
        )),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("dir.runbook.md: not a regular file (a directory)")),
        "{errs:?}"
    );
}

// ------------------------------------------------------------ resume rebuilds

/// Run the AZ GameDay to its end with a journal on disk; the journal path.
fn az_run_on_disk(dir: &std::path::Path, id: &str) -> std::path::PathBuf {
    let rb = runbook("gameday-az-outage");
    let given = AZ_PARAMS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let p = bind_params(&rb, &given).unwrap();
    let mut c = cfg(true);
    c.data_dir = Some(dir.to_path_buf());
    let mut r = Runner::new(rb, p, c, id.into()).unwrap();
    let mut backend = SimBackend::new(sim_at("steady", 60_000));
    let s = run_headless(
        &mut r,
        &mut backend,
        &az_answers("[\"alice\", \"bob\"]"),
        false,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(s.outcome, Outcome::Completed, "{:?}", s.reason);
    dir.join("runs").join(id).join("journal.jsonl")
}

/// Keep the journal's lines up to and including the first that matches.
fn cut_after(path: &std::path::Path, pred: impl Fn(&str) -> bool) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut keep = vec![];
    for l in text.lines() {
        keep.push(l);
        if pred(l) {
            std::fs::write(path, keep.join("\n") + "\n").unwrap();
            return;
        }
    }
    panic!("no such line");
}

/// Resume `id` on a simulator that replays the journal; the summary, events
/// and the simulator afterwards.
fn resume_az(dir: &std::path::Path, id: &str) -> (Summary, Vec<Event>, SimBackend, Vec<String>) {
    let mut c = cfg(true);
    c.data_dir = Some(dir.to_path_buf());
    let mut r = Runner::resume(runbook("gameday-az-outage"), c, id.into()).unwrap();
    let mut backend = SimBackend::new(sim_at("steady", 0));
    backend.replay(&r.journal.events.clone()).unwrap();
    let notes = r.resume_notes.clone();
    let s = run_headless(
        &mut r,
        &mut backend,
        &az_answers("[\"alice\", \"bob\"]"),
        false,
        &mut |_| {},
    )
    .unwrap();
    (s, r.journal.events.clone(), backend, notes)
}

fn spread(backend: &mut SimBackend) -> usize {
    use super::drive::Backend;
    let snap = backend.snapshot();
    let svc = snap.service("prod/api").unwrap();
    svc.running_tasks()
        .filter_map(|t| t.availability_zone.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

fn release_calls_after_resume(events: &[Event]) -> usize {
    let at = events.iter().position(|e| e.kind() == "resume").unwrap();
    events[at..]
        .iter()
        .filter(|e| {
            e.kind() == "api_call"
                && e.detail()["phase"] == "after"
                && e.detail()["ok"] == true
                && e.detail()["call"]["api"] == "ReleaseAz"
        })
        .count()
}

#[test]
fn resume_after_the_stop_tasks_result_rebuilds_the_sustain_and_releases_the_az() {
    let dir = tempfile::tempdir().unwrap();
    let path = az_run_on_disk(dir.path(), "az-1");
    cut_after(&path, |l| {
        l.contains("\"api\":\"StopTasks\"") && l.contains("\"phase\":\"after\"")
    });
    let (s, events, mut backend, notes) = resume_az(dir.path(), "az-1");
    assert_eq!(s.outcome, Outcome::Completed, "{:?}", s.reason);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("step inject had made its calls")),
        "{notes:?}"
    );
    // The sustain is rebuilt from the journal (its sweeps go on) …
    let rebuilt = kinds(&events, "sustain_start");
    assert_eq!(rebuilt.len(), 1);
    assert_eq!(rebuilt[0].detail()["rebuilt"], true);
    // … the inject call is not repeated, its marker is kept …
    let stops = events
        .iter()
        .filter(|e| {
            e.kind() == "api_call"
                && e.detail()["phase"] == "after"
                && e.detail()["call"]["api"] == "StopTasks"
                && e.detail()["sweep"] != true
        })
        .count();
    assert_eq!(stops, 1);
    assert!(s.rto_seconds.is_some());
    // … and release-az releases the AZ: the service spreads over 3 AZs again.
    assert_eq!(release_calls_after_resume(&events), 1);
    assert_eq!(spread(&mut backend), 3);
    // The journal reads back whole, and a second read gives the same run.
    let on_disk = journal::read(&path).unwrap();
    assert_eq!(on_disk.len(), events.len());
}

#[test]
fn resume_after_an_unfinished_release_releases_the_az() {
    // Killed after release-az journaled the end of the sustain and before
    // its ReleaseAz call: the impairment is still in force.
    let dir = tempfile::tempdir().unwrap();
    let path = az_run_on_disk(dir.path(), "az-2");
    cut_after(&path, |l| {
        l.contains("\"kind\":\"sustain_end\"") && l.contains("\"why\":\"released\"")
    });
    let (s, events, mut backend, notes) = resume_az(dir.path(), "az-2");
    assert_eq!(s.outcome, Outcome::Completed, "{:?}", s.reason);
    assert!(
        notes.iter().any(|n| n.contains("ended without a release")),
        "{notes:?}"
    );
    assert_eq!(release_calls_after_resume(&events), 1);
    assert_eq!(spread(&mut backend), 3);
}

#[test]
fn a_release_step_with_nothing_to_release_is_not_completed() {
    // A journal that lost the sustain (here: its line removed) must not
    // resume into a "completed" run whose release did nothing.
    let dir = tempfile::tempdir().unwrap();
    let path = az_run_on_disk(dir.path(), "az-3");
    cut_after(&path, |l| {
        l.contains("\"kind\":\"step_end\"") && l.contains("\"step\":\"inject\"")
    });
    let text = std::fs::read_to_string(&path).unwrap();
    let text: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("\"kind\":\"sustain_start\""))
        .collect();
    std::fs::write(&path, text.join("\n") + "\n").unwrap();
    let (s, events, _, _) = resume_az(dir.path(), "az-3");
    assert_ne!(s.outcome, Outcome::Completed);
    let err = kinds(&events, "error");
    assert!(
        err.iter().any(|e| e.step.as_deref() == Some("release-az")
            && e.detail()["error"]
                .as_str()
                .unwrap()
                .contains("no record of that impairment")),
        "{err:?}"
    );
}

#[test]
fn a_failed_release_is_never_completed() {
    use super::drive::Backend;
    use super::engine::{CallOutput, PlannedCall};
    struct NoRelease(SimBackend);
    impl Backend for NoRelease {
        fn now(&self) -> i64 {
            self.0.now()
        }
        fn snapshot(&mut self) -> std::sync::Arc<crate::model::FleetSnapshot> {
            self.0.snapshot()
        }
        fn advance_to(&mut self, t: i64) {
            self.0.advance_to(t)
        }
        fn call(&mut self, c: &PlannedCall) -> Result<CallOutput, String> {
            match c {
                PlannedCall::ReleaseAz { .. } => Err("throttled".into()),
                _ => self.0.call(c),
            }
        }
    }
    let rb = runbook("gameday-az-outage");
    let given = AZ_PARAMS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let p = bind_params(&rb, &given).unwrap();
    let mut r = Runner::new(rb, p, cfg(true), "nr".into()).unwrap();
    let mut backend = NoRelease(SimBackend::new(sim_at("steady", 60_000)));
    let s = run_headless(
        &mut r,
        &mut backend,
        &az_answers("[\"alice\", \"bob\"]"),
        false,
        &mut |_| {},
    )
    .unwrap();
    assert_ne!(s.outcome, Outcome::Completed, "{s:?}");
    assert!(
        kinds(&r.journal.events, "warning")
            .iter()
            .any(|e| e.detail()["message"]
                .as_str()
                .unwrap()
                .contains("still impaired: us-east-1a of prod/api")),
        "the end says what is left impaired"
    );
}

#[test]
fn a_garbage_last_journal_line_is_cut_before_appending() {
    let dir = tempfile::tempdir().unwrap();
    let path = az_run_on_disk(dir.path(), "az-4");
    cut_after(&path, |l| {
        l.contains("\"api\":\"StopTasks\"") && l.contains("\"phase\":\"after\"")
    });
    let lines_before = std::fs::read_to_string(&path).unwrap().lines().count();
    // A whole garbage line, newline included (and a torn UTF-8 character).
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(b"{\"ts\":17,\"note\":\"caf\xc3\n")
        .unwrap();
    let loaded = journal::load(&path).unwrap();
    let torn = loaded.torn.clone().expect("the last line is torn");
    assert_eq!(torn.line, lines_before + 1);
    assert!(
        loaded
            .torn_message(&path)
            .unwrap()
            .contains("last line was cut")
    );
    let (s, events, _, notes) = resume_az(dir.path(), "az-4");
    assert_eq!(s.outcome, Outcome::Completed, "{:?}", s.reason);
    assert!(
        notes.iter().any(|n| n.contains("last line was cut")),
        "{notes:?}"
    );
    assert!(
        kinds(&events, "warning")
            .iter()
            .any(|e| e.detail()["message"]
                .as_str()
                .unwrap()
                .contains("last line was cut")),
        "journaled"
    );
    // The garbage is gone: the whole file reads back, nothing torn.
    let after = journal::load(&path).unwrap();
    assert!(after.torn.is_none());
    assert_eq!(after.events.len(), events.len());
    let text = std::fs::read(&path).unwrap();
    assert!(!text.windows(9).any(|w| w == b"\"ts\":17,\""));
}

#[test]
fn a_journal_without_its_last_newline_is_continued_on_a_new_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = az_run_on_disk(dir.path(), "az-5");
    cut_after(&path, |l| {
        l.contains("\"api\":\"StopTasks\"") && l.contains("\"phase\":\"after\"")
    });
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.trim_end()).unwrap();
    let (s, events, _, _) = resume_az(dir.path(), "az-5");
    assert_eq!(s.outcome, Outcome::Completed, "{:?}", s.reason);
    assert_eq!(journal::read(&path).unwrap().len(), events.len());
}

// ------------------------------------------------------------ printers

#[test]
fn printers_sanitize_untrusted_text() {
    use crate::cli::Format;
    let hostile = SCALE
        .replace(
            "title = \"S\"",
            "title = \"\\u001b[2Jpwned \\u001b]52;c;ZWNobw==\\u0007\"",
        )
        .replace("## Scale {#scale}", "## Scale \u{1b}[31mred {#scale}")
        .replace(
            "type = \"int\"",
            "type = \"int\"\nprompt = \"\\u001b]0;title\\u0007count\"",
        );
    let rb = parse(&hostile, "h.runbook.md").unwrap();
    let lib = Library {
        runbooks: vec![rb.clone()],
        problems: vec![LoadProblem {
            origin: "x".into(),
            error: "x.runbook.md:1: bad \u{1b}[2J".into(),
        }],
    };
    let l = commands::list(&lib, Format::Text);
    assert!(l.stdout.contains("pwned"), "{}", l.stdout);
    assert!(
        !l.stdout.contains('\u{1b}') && !l.stdout.contains('\u{7}'),
        "{:?}",
        l.stdout
    );
    assert!(!l.stderr.contains('\u{1b}'), "{:?}", l.stderr);
    let show = commands::show_text(&rb);
    assert!(
        show.contains("pwned") && show.contains("count") && show.contains("red"),
        "{show}"
    );
    assert!(
        !show.chars().any(|c| c.is_control() && c != '\n'),
        "{show:?}"
    );
    let v = commands::validate(&lib, &[]);
    assert!(!v.stdout.contains('\u{1b}'), "{:?}", v.stdout);
    // The report: operator, parameters, notes, alarms; Markdown kept whole.
    let ev = |seq: u64, kind: &str, step: Option<&str>, detail: serde_json::Value| Event {
        ts: 1000 * seq as i64,
        wall: "2026-01-01T00:00:00Z".into(),
        seq,
        step: step.map(str::to_string),
        body: crate::runbook::events::Body::from_parts(kind.into(), detail),
        aws_request_id: None,
        operator: Some("mallory\u{1b}]52;c;cm0gLXJm\u{7}".into()),
    };
    let events = vec![
        ev(
            1,
            "run_start",
            None,
            serde_json::json!({"runbook": "s", "source": "demo:\u{1b}[2J", "write": true,
            "params": {"cluster": "prod\u{1b}]52;c;eA==\u{7}", "service": "a|b\n# injected", "n": 3}}),
        ),
        ev(
            2,
            "step_start",
            Some("scale"),
            serde_json::json!({"title": "Scale | \u{1b}[31mnow\nnext"}),
        ),
        ev(
            3,
            "note",
            Some("scale"),
            serde_json::json!({"text": "line one\nline | two \u{1b}[2J"}),
        ),
        ev(
            4,
            "stop_condition",
            Some("scale"),
            serde_json::json!({"alarm": "a`b\u{1b}[1m", "state": "ALARM", "action": "abort"}),
        ),
        ev(
            5,
            "run_end",
            None,
            serde_json::json!({"outcome": "aborted", "reason": "because\u{1b}[2J"}),
        ),
    ];
    let md = report::render_with(
        &rb,
        &events,
        &["j.jsonl:9: the journal's last line was cut".into()],
    );
    assert!(!md.contains('\u{1b}') && !md.contains('\u{7}'), "{md:?}");
    assert!(md.contains("operator mallory"), "{md}");
    // Markdown syntax in values is escaped (`\|`, `\#`): it renders as text.
    assert!(md.contains("service=a\\|b / \\# injected"), "{md}");
    assert!(!md.lines().any(|l| l.starts_with("# injected")), "{md}");
    let row = md.lines().find(|l| l.contains("step: Scale")).unwrap();
    assert_eq!(row, "| T+00:00:01 | scale | step: Scale \\| now / next |");
    assert!(md.contains("line one / line \\| two"), "{md}");
    assert!(md.contains("alarm ``a`b`` ALARM"), "{md}");
    assert!(
        md.contains("- Journal: j.jsonl:9: the journal's last line was cut"),
        "{md}"
    );
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
    snap.freshness.insert(
        "autoscaling".into(),
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
