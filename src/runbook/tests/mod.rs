//! Parser table tests and headless runs of every shipped runbook on the simulator.

use std::collections::BTreeMap;

use super::drive::{Answers, SimDriver, run_headless};
use super::engine::{Outcome, RunConfig, Runner, Summary, bind_params};
use super::journal::Event;
use super::*;
use crate::source::sim::{Simulator, scenario::Scenario};

mod alarms;
mod answers;
mod console_queue;
mod controllers;
mod dr;
mod dr_traffic;
mod gameday;
mod journal_contract;
mod journal_failure;
mod resume;
mod scale_out;
mod secrets;
mod shipped_runs;
mod untrusted;
mod validation;

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
            "dr-region-failover",
            "dr-region-failback"
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
    assert_eq!(a.op.name(), "ecs.stop_tasks");
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
            "save_as = \"s\"\ncluster = \"${param.nope}\"",
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
        (
            "save_as = \"s\"",
            "save_as = \"s\"\ndesired = 3",
            "t.runbook.md:17: `desired`: unknown field `desired` for `snapshot`",
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
    backend: SimDriver,
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
    let mut backend = SimDriver::new(sim);
    let summary = run_headless(&mut r, &mut backend, answers, yes, &mut |_| {}).unwrap();
    Run {
        summary,
        events: r.journal.events.clone(),
        backend,
    }
}

/// Drive `r` with --yes answers (arm, confirm) until it finishes, or until
/// its first checkpoint (`Err`); `tweak` edits each snapshot the runner
/// sees (an AWS-shaped read, a denied kind).
fn drive(
    r: &mut Runner,
    b: &mut SimDriver,
    tweak: &dyn Fn(&mut crate::model::FleetSnapshot),
) -> Result<Summary, super::engine::CheckpointAsk> {
    use super::drive::Backend;
    use super::engine::Need;
    for _ in 0..10_000 {
        let mut snap = (*b.snapshot()).clone();
        tweak(&mut snap);
        let now = b.now();
        match r.poll(now, &snap) {
            Need::Wait { until } => b.advance_to(until),
            Need::Call(c) => {
                let res = b.call(&c);
                r.call_done(b.now(), res);
            }
            Need::Arm { phrase } => r.arm(now, &phrase, true).unwrap(),
            Need::Confirm { .. } => r.confirm(now, true, true),
            Need::Checkpoint(ask) => return Err(ask),
            Need::Finished(s) => return Ok(s),
        }
    }
    panic!("the run neither finished nor asked")
}

/// A runner of `rb` with `params` (write on).
fn runner(rb: Runbook, params: &[(&str, &str)]) -> Runner {
    let given: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let p = bind_params(&rb, &given).unwrap();
    Runner::new(rb, p, cfg(true), "run-test".into()).unwrap()
}

/// When the run set marker `name` (panics naming the steps when it did not).
fn marker(r: &Run, name: &str) -> i64 {
    kinds(&r.events, "marker")
        .into_iter()
        .find(|e| e.detail()["name"] == name)
        .map(|e| e.detail()["at"].as_i64().unwrap())
        .unwrap_or_else(|| panic!("no marker {name}: {:?}", step_states(&r.events)))
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
