//! Parameters, answers files, approvals and confirmations (headless and console).

use super::*;

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
    let mut backend = SimDriver::new(sim_at("steady", 5 * 60_000));
    // Drive by hand until the crash call is made, then "kill" the runner.
    use crate::runbook::drive::Backend;
    use crate::runbook::engine::Need;
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
    snap.set_fresh(
        crate::model::DataKind::Ecs,
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
fn an_abort_after_scaling_keeps_the_capacity_unless_told_to_restore() {
    // scale-out raises the floor, then stops at the hand-over checkpoint (no
    // answer): the cleanup asks whether to restore, and without an answer
    // keeps the capacity (during an incident it is usually still needed).
    let base = "arm_phrase = \"api\"\n[steps.approve]\nchoice = \"continue\"\nnote = \"go\"\n[steps.raise-floor]\nconfirm = true\n";
    let scale = |extra: &str| {
        let answers = Answers::parse(&format!("{base}{extra}"), "a.toml").unwrap();
        run(
            runbook("scale-out"),
            sim_at("steady", 60_000),
            &[("cluster", "prod"), ("service", "api"), ("target", "8")],
            true,
            &answers,
            false,
        )
    };
    let floor = |r: &Run| {
        let snap = r.backend.sim.snapshot();
        let svc = snap.service_in("prod/api", None).unwrap();
        let t = snap.scalable_target(svc).unwrap();
        (t.min_capacity, t.max_capacity, svc.desired_count)
    };
    let made = |r: &Run| -> Vec<String> {
        kinds(&r.events, "api_call")
            .iter()
            .filter(|e| e.detail()["phase"] == "after")
            .map(|e| e.step.clone().unwrap())
            .collect()
    };
    let r = scale("");
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    assert_eq!(made(&r), ["fit", "raise-floor"], "nothing restored");
    assert_eq!(floor(&r), (8, 24, 8), "capacity kept");
    let asked = kinds(&r.events, "checkpoint_response");
    let last = asked.last().unwrap();
    assert_eq!(last.step.as_deref(), Some("keep-capacity"));
    assert_eq!(last.detail()["choice"], "end");
    let warned: Vec<String> = kinds(&r.events, "warning")
        .iter()
        .map(|e| e.detail()["message"].as_str().unwrap().to_string())
        .collect();
    assert!(
        warned
            .iter()
            .any(|w| w.contains("cleanup ended at keep-capacity") && w.contains("restore")),
        "{warned:?}"
    );
    // Told to restore (and the restore confirmed): the floor goes back, and
    // auto scaling, not the runbook, takes desiredCount down from there.
    let r =
        scale("[steps.keep-capacity]\nchoice = \"continue\"\n[steps.restore]\nconfirm = true\n");
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    assert_eq!(made(&r), ["fit", "raise-floor", "restore"]);
    assert_eq!(floor(&r).0, 6);
    // Told to restore but the restore not confirmed: skipped, not looped.
    let r = scale("[steps.keep-capacity]\nchoice = \"continue\"\n");
    assert_eq!(made(&r), ["fit", "raise-floor"]);
    let skipped: Vec<&str> = kinds(&r.events, "step_end")
        .iter()
        .filter(|e| e.detail()["state"] == "skipped")
        .map(|e| e.step.as_deref().unwrap())
        .collect();
    assert!(skipped.contains(&"restore"), "{skipped:?}");
}

// ------------------------------------------------------------ issue 11

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
fn drive_to_checkpoint(r: &mut Runner, backend: &mut SimDriver, step: &str) -> i64 {
    use crate::runbook::drive::Backend;
    use crate::runbook::engine::Need;
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
    let mut backend = SimDriver::new(sim_at("steady", 60_000));
    let now = drive_to_checkpoint(&mut r, &mut backend, "go");
    let snap = {
        use crate::runbook::drive::Backend;
        backend.snapshot()
    };
    let crate::runbook::engine::Need::Checkpoint(ask) = r.poll(now, &snap) else {
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
        ui.on_key(key, now, crate::ui::runbooks::Prefill::default());
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
