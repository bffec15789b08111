//! `ecsdeck runbook …` through the real binary: the public contracts (command
//! lines, JSON fields, exit codes) on the simulator.

use std::path::Path;
use std::process::{Command, Output};

fn ecsdeck(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run ecsdeck")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn list_json_contract() {
    let d = tempfile::tempdir().unwrap();
    let out = ecsdeck(d.path(), &["runbook", "list", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let ids: Vec<&str> = v["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
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
    for r in v["runbooks"].as_array().unwrap() {
        assert!(r["title"].is_string() && r["kind"].is_string());
    }
}

#[test]
fn validate_names_file_and_line_and_exits_1() {
    let d = tempfile::tempdir().unwrap();
    let out = ecsdeck(d.path(), &["runbook", "validate"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let bad = d.path().join("bad.runbook.md");
    std::fs::write(
        &bad,
        "+++\nid = \"bad\"\ntitle = \"Bad\"\nkind = \"gameday\"\n+++\n\n## One {#one}\n```verify\nsource = \"ecs.service\"\nop = \">=\"\nvalue = 1\ntimeout = \"soon\"\n```\n",
    )
    .unwrap();
    let out = ecsdeck(d.path(), &["runbook", "validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bad.runbook.md:12: `timeout`"), "{text}");
    // A user runbook directory is validated with the embedded ones.
    let out = ecsdeck(
        d.path(),
        &[
            "--runbooks",
            d.path().to_str().unwrap(),
            "runbook",
            "validate",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn user_runbook_overrides_an_embedded_one() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("mine.runbook.md"),
        "+++\nid = \"scale-out\"\ntitle = \"Our own scale-out\"\nkind = \"operational\"\n+++\n\n## Read {#read}\nDo it by hand.\n",
    )
    .unwrap();
    // <data dir>/runbooks is read by default.
    let out = ecsdeck(d.path(), &["runbook", "list", "--format", "json"]);
    let v = json(&out);
    let so = v["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "scale-out")
        .unwrap();
    assert_eq!(so["title"], "Our own scale-out");
}

/// Each shipped runbook, headless on the simulator, answered from a file.
#[test]
fn every_runbook_runs_to_the_end_with_an_answers_file() {
    let d = tempfile::tempdir().unwrap();
    let answers = d.path().join("answers.toml");
    let cases: &[(&str, &str, &str, &[&str], &str)] = &[
        (
            "scale-out",
            "steady",
            "1m",
            &["cluster=prod", "service=api", "target=9"],
            "arm_phrase = \"api\"\n[steps.approve]\nchoice = \"continue\"\nnote = \"event\"\n[steps.raise-floor]\nconfirm = true\n[steps.scale]\nconfirm = true\n[steps.confirm]\nchoice = \"goto:restore\"\nnote = \"done\"\n[steps.restore]\nconfirm = true\n[steps.restore-desired]\nconfirm = true\n",
        ),
        (
            "rollback",
            "bad-deploy",
            "80s",
            &["cluster=prod", "service=api", "incident=INC-7"],
            "arm_phrase = \"api\"\n[steps.review]\nchoice = \"continue\"\nnote = \"diff is the new checkout flag\"\n[steps.stop-deployment]\nconfirm = true\n[steps.redeploy]\nconfirm = true\n[steps.wrap-up]\nchoice = \"end\"\nnote = \"pipeline paused\"\n",
        ),
        (
            "gameday-az-outage",
            "steady",
            "5m",
            &[
                "cluster=prod",
                "service=api",
                "az=us-east-1b",
                "duration=3m",
            ],
            "arm_phrase = \"IMPAIR us-east-1b\"\n[steps.go]\nchoice = \"continue\"\nnote = \"go\"\napproved_by = [\"alice\", \"bob\"]\n[steps.inject]\nconfirm = true\n[steps.observe]\nchoice = \"continue\"\nnote = \"no 5xx\"\n[steps.debrief]\nchoice = \"end\"\nnote = \"fine\"\n",
        ),
        (
            "gameday-task-crash",
            "steady",
            "5m",
            &["cluster=prod", "service=web"],
            "arm_phrase = \"CRASH web\"\n[steps.go]\nchoice = \"continue\"\nnote = \"go\"\n[steps.crash]\nconfirm = true\n[steps.debrief]\nchoice = \"end\"\nnote = \"ok\"\n",
        ),
        (
            "dr-region-failover",
            "dr-pilot-light",
            "2m",
            &[
                "cluster=prod",
                "service=api",
                "primary_region=us-east-1",
                "standby_region=us-west-2",
                "standby_cluster=prod-dr",
                "target=15m",
            ],
            "arm_phrase = \"FAILOVER us-west-2\"\n[steps.go]\nchoice = \"continue\"\nnote = \"drill\"\n[steps.standby-floor]\nconfirm = true\n[steps.scale-standby]\nconfirm = true\n[steps.switch]\nchoice = \"continue\"\nnote = \"DNS switched\"\n[steps.switch-back]\nchoice = \"continue\"\nnote = \"back\"\n[steps.scale-back-floor]\nconfirm = true\n[steps.scale-back]\nconfirm = true\n[steps.debrief]\nchoice = \"end\"\nnote = \"RTO ok\"\n",
        ),
    ];
    for (id, scenario, at, params, ans) in cases {
        std::fs::write(&answers, ans).unwrap();
        let mut args = vec![
            "--demo",
            "--scenario",
            scenario,
            "--write",
            "runbook",
            "run",
            id,
            "--at",
            at,
            "--format",
            "json",
            "--answers",
        ];
        let a = answers.to_str().unwrap().to_string();
        args.push(&a);
        let ps: Vec<String> = params.iter().map(|p| p.to_string()).collect();
        for p in &ps {
            args.push("--param");
            args.push(p);
        }
        let out = ecsdeck(d.path(), &args);
        let v = json(&out);
        assert_eq!(
            v["outcome"],
            "completed",
            "{id}: {v}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(0), "{id}");
        for field in [
            "run_id",
            "runbook",
            "outcome",
            "rto_seconds",
            "rto_target_seconds",
            "ttd_seconds",
            "journal",
            "report",
        ] {
            assert!(v.get(field).is_some(), "{id}: no {field}");
        }
        assert!(v["rto_seconds"].is_number(), "{id}: RTO measured: {v}");
        let journal = std::fs::read_to_string(v["journal"].as_str().unwrap()).unwrap();
        // No auto-approval: every answer came from the file.
        assert!(!journal.contains("\"auto\":true"), "{id}");
        assert!(Path::new(v["report"].as_str().unwrap()).exists());
        // `runbook report` re-renders the same report.
        let run_id = v["run_id"].as_str().unwrap();
        let out = ecsdeck(d.path(), &["runbook", "report", run_id]);
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("## Timeline"));
    }
}

#[test]
fn refusals_and_exit_codes() {
    let d = tempfile::tempdir().unwrap();
    // A missing required parameter is refused headless: exit 2, nothing run.
    let out = ecsdeck(
        d.path(),
        &[
            "--demo",
            "runbook",
            "run",
            "scale-out",
            "--param",
            "cluster=prod",
            "--yes",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("missing required parameters for scale-out: service, target")
    );
    // A blocking finding refuses the GameDay: exit 1, outcome aborted, why.
    let out = ecsdeck(
        d.path(),
        &[
            "--demo",
            "--write",
            "runbook",
            "run",
            "gameday-az-outage",
            "--param",
            "cluster=prod",
            "--param",
            "service=web",
            "--param",
            "az=us-east-1a",
            "--yes",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["outcome"], "aborted");
    assert!(v["reason"].as_str().unwrap().contains("OPS-06"), "{v}");
    // Without --write: a dry run, nothing changes, the plan is in the journal.
    let out = ecsdeck(
        d.path(),
        &[
            "--demo",
            "runbook",
            "run",
            "gameday-task-crash",
            "--param",
            "cluster=prod",
            "--param",
            "service=api",
            "--yes",
            "--format",
            "json",
            "--at",
            "5m",
        ],
    );
    let v = json(&out);
    assert_eq!(v["dry_run"], true);
    let journal = std::fs::read_to_string(v["journal"].as_str().unwrap()).unwrap();
    assert!(journal.contains("\"kind\":\"dry_run\""));
    assert!(!journal.contains("\"kind\":\"api_call\""));
}

#[test]
fn resume_continues_an_interrupted_run() {
    // A run interrupted after its crash call: simulate `kill -9` by cutting
    // the journal of a finished run back to that point (plus a torn line).
    let d = tempfile::tempdir().unwrap();
    let args = [
        "--demo",
        "--write",
        "runbook",
        "run",
        "gameday-task-crash",
        "--param",
        "cluster=prod",
        "--param",
        "service=api",
        "--yes",
        "--format",
        "json",
        "--at",
        "5m",
    ];
    let v = json(&ecsdeck(d.path(), &args));
    let path = v["journal"].as_str().unwrap().to_string();
    let text = std::fs::read_to_string(&path).unwrap();
    let cut: Vec<&str> = text
        .lines()
        .take_while(|l| !l.contains("\"kind\":\"step_start\"") || !l.contains("\"replaced\""))
        .collect();
    assert!(cut.iter().any(|l| l.contains("StopTasks")));
    std::fs::write(&path, cut.join("\n") + "\n{\"ts\":17").unwrap();
    std::fs::remove_file(v["report"].as_str().unwrap()).unwrap();
    let run_id = v["run_id"].as_str().unwrap();
    let out = ecsdeck(
        d.path(),
        &[
            "--demo",
            "--write",
            "runbook",
            "run",
            "gameday-task-crash",
            "--resume",
            run_id,
            "--yes",
            "--format",
            "json",
        ],
    );
    let v2 = json(&out);
    assert_eq!(
        v2["outcome"],
        "completed",
        "{v2} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v2["run_id"], run_id);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("\"kind\":\"run_start\"").count(), 1);
    assert_eq!(
        text.matches("\"api\":\"StopTasks\"").count(),
        2,
        "the crash call was not repeated (before + after)"
    );
    assert!(text.contains("\"kind\":\"resume\""));
}

// ------------------------------------------------------------ issue 11

/// Run the binary, killed (and the test failed) if it takes over `secs`.
fn ecsdeck_within(data: &Path, args: &[&str], secs: u64) -> Output {
    use std::time::{Duration, Instant};
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run ecsdeck");
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ecsdeck {args:?} did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(st.success());
}

const AZ_ANSWERS: &str = "arm_phrase = \"IMPAIR us-east-1b\"\n[steps.go]\nchoice = \"continue\"\nnote = \"go\"\napproved_by = [\"alice\", \"bob\"]\n[steps.inject]\nconfirm = true\n[steps.observe]\nchoice = \"continue\"\nnote = \"no 5xx\"\n[steps.debrief]\nchoice = \"end\"\nnote = \"fine\"\n";

/// The AZ GameDay on the demo, answered from `answers`; extra args appended.
fn az_gameday(d: &Path, answers: &Path, extra: &[&str]) -> Output {
    let a = answers.to_str().unwrap();
    let mut args = vec![
        "--demo",
        "--write",
        "runbook",
        "run",
        "gameday-az-outage",
        "--format",
        "json",
        "--answers",
        a,
    ];
    args.extend_from_slice(extra);
    ecsdeck(d, &args)
}

const AZ_PARAMS: &[&str] = &[
    "--at",
    "5m",
    "--param",
    "cluster=prod",
    "--param",
    "service=api",
    "--param",
    "az=us-east-1b",
    "--param",
    "duration=3m",
];

#[test]
fn duplicate_approvers_in_an_answers_file_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let answers = d.path().join("answers.toml");
    for dup in ["[\"alice\", \"alice\"]", "[\"alice\", \" ALICE\"]"] {
        std::fs::write(&answers, AZ_ANSWERS.replace("[\"alice\", \"bob\"]", dup)).unwrap();
        let out = az_gameday(d.path(), &answers, AZ_PARAMS);
        assert_eq!(out.status.code(), Some(1), "{dup}");
        let v = json(&out);
        assert_eq!(v["outcome"], "aborted", "{dup}: {v}");
        assert!(
            v["reason"].as_str().unwrap().contains("listed twice"),
            "{dup}: {v}"
        );
        let journal = std::fs::read_to_string(v["journal"].as_str().unwrap()).unwrap();
        assert!(
            !journal.contains("\"kind\":\"checkpoint_response\""),
            "{dup}: the checkpoint was not passed"
        );
        assert!(!journal.contains("StopTasks"), "{dup}: nothing was stopped");
    }
}

fn write_runbook(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const SCALE_RB: &str = "+++\nid = \"mine\"\ntitle = \"Mine\"\nkind = \"operational\"\n[params.cluster]\ntype = \"string\"\nrequired = true\n[params.service]\ntype = \"string\"\nrequired = true\n[params.n]\ntype = \"int\"\nrequired = true\n[safety]\narm_phrase = \"go\"\n+++\n\n## Approve {#approve}\n```checkpoint\nprompt = \"Scale?\"\nchoices = [\"continue\", \"abort\"]\n```\n\n## Scale {#scale}\n```action\nop = \"ecs.scale\"\ndesired = \"${param.n}\"\n```\n";

fn validate_one(d: &Path, text: &str) -> (Option<i32>, String) {
    let p = write_runbook(&d.join("check"), "x.runbook.md", text);
    let out = ecsdeck(d, &["runbook", "validate", p.to_str().unwrap()]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn validate_refuses_fence_typos_missing_arm_phrases_and_negative_counts() {
    let d = tempfile::tempdir().unwrap();
    let (code, text) = validate_one(d.path(), SCALE_RB);
    assert_eq!(code, Some(0), "{text}");
    for (from, to, want) in [
        (
            "```checkpoint",
            "```checkpiont",
            "x.runbook.md:19: unknown block type \"checkpiont\"",
        ),
        (
            "```checkpoint",
            "```bogus",
            "x.runbook.md:19: unknown block type \"bogus\"",
        ),
        (
            "arm_phrase = \"go\"\n",
            "",
            "x.runbook.md:14: `safety.arm_phrase`: missing",
        ),
        (
            "arm_phrase = \"go\"",
            "arm_phrase = \"\"",
            "x.runbook.md:15: `safety.arm_phrase`: is blank",
        ),
        (
            "desired = \"${param.n}\"",
            "desired = -2",
            "x.runbook.md:27: `desired`: -2 is negative",
        ),
        (
            "arm_phrase = \"go\"",
            "arm_phrase = \"go\"\nmax_scale_factor = -1.5",
            "x.runbook.md:16: `safety.max_scale_factor`: -1.5 is not a factor",
        ),
        (
            "desired = \"${param.n}\"",
            "desired = \"${param.n\"",
            "x.runbook.md:27: unclosed `${` in \"${param.n\": end the variable with `}`",
        ),
    ] {
        assert!(SCALE_RB.contains(from), "{from}");
        let (code, text) = validate_one(d.path(), &SCALE_RB.replacen(from, to, 1));
        assert_eq!(code, Some(1), "{to}: {text}");
        assert!(text.contains(want), "{to}: want {want:?} in {text:?}");
        assert_eq!(text.lines().count(), 1, "one line: {text:?}");
    }
    let (_, text) = validate_one(
        d.path(),
        &SCALE_RB.replacen("```checkpoint", "```checkpiont", 1),
    );
    assert!(
        text.trim_end().ends_with("did you mean checkpoint?"),
        "{text}"
    );
    // A BOM is no error.
    let (code, text) = validate_one(d.path(), &format!("\u{feff}{SCALE_RB}"));
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn a_fence_typo_does_not_let_a_run_skip_its_checkpoint() {
    // Installed as a user runbook, the typo makes it fail to load: it cannot run.
    let d = tempfile::tempdir().unwrap();
    write_runbook(
        &d.path().join("runbooks"),
        "mine.runbook.md",
        &SCALE_RB.replacen("```checkpoint", "```checkpiont", 1),
    );
    let out = ecsdeck(
        d.path(),
        &[
            "--demo",
            "--write",
            "runbook",
            "run",
            "mine",
            "--yes",
            "--param",
            "cluster=prod",
            "--param",
            "service=api",
            "--param",
            "n=7",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no runbook \"mine\""));
    assert!(!d.path().join("runs").exists(), "no run started");
}

#[test]
fn negative_and_duplicate_params_are_refused_before_anything_runs() {
    let d = tempfile::tempdir().unwrap();
    write_runbook(&d.path().join("runbooks"), "mine.runbook.md", SCALE_RB);
    let run = |extra: &[&str]| {
        let mut args = vec![
            "--demo",
            "--write",
            "runbook",
            "run",
            "mine",
            "--yes",
            "--param",
            "cluster=prod",
            "--param",
            "service=api",
        ];
        args.extend_from_slice(extra);
        ecsdeck(d.path(), &args)
    };
    let out = run(&["--param", "n=-3"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--param n=-3: negative, and step scale uses it as `desired`"),
        "{err}"
    );
    let out = run(&["--param", "n=3", "--param", "n=30"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        "ecsdeck: --param n is given twice (n=3 and n=30): pass it once"
    );
    assert!(!d.path().join("runs").exists(), "nothing ran");
    // Given once, it runs.
    let out = run(&["--param", "n=3", "--format", "json"]);
    assert_eq!(json(&out)["outcome"], "completed");
}

/// Cut a journal right after its first line that matches.
fn cut_journal_after(path: &Path, pred: impl Fn(&str) -> bool) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let mut keep = vec![];
    for l in text.lines() {
        keep.push(l);
        if pred(l) {
            std::fs::write(path, keep.join("\n") + "\n").unwrap();
            return keep.len();
        }
    }
    panic!("no line to cut after in {}", path.display());
}

fn is_first_stop_tasks_result(l: &str) -> bool {
    l.contains("\"api\":\"StopTasks\"") && l.contains("\"phase\":\"after\"")
}

#[test]
fn resume_after_the_stop_tasks_result_releases_the_az() {
    // The issue's reproduction: a finished GameDay's journal cut right after
    // the first StopTasks "after" line, as if killed there, then --resume.
    let d = tempfile::tempdir().unwrap();
    let answers = d.path().join("answers.toml");
    std::fs::write(&answers, AZ_ANSWERS).unwrap();
    let first = az_gameday(d.path(), &answers, AZ_PARAMS);
    let v = json(&first);
    assert_eq!(v["outcome"], "completed", "{v}");
    let path = v["journal"].as_str().unwrap().to_string();
    let run_id = v["run_id"].as_str().unwrap().to_string();
    let full = std::fs::read_to_string(&path).unwrap();
    // The uninterrupted run: the rebalanced check passes once the AZ is back.
    let rebalanced_ok = |text: &str| {
        text.lines().any(|l| {
            l.contains("\"kind\":\"condition_met\"") && l.contains("\"step\":\"rebalanced\"")
        })
    };
    assert!(rebalanced_ok(&full));
    cut_journal_after(Path::new(&path), is_first_stop_tasks_result);
    std::fs::remove_file(v["report"].as_str().unwrap()).unwrap();
    let out = az_gameday(d.path(), &answers, &["--resume", &run_id]);
    let v2 = json(&out);
    assert_eq!(
        v2["outcome"],
        "completed",
        "{v2} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let resumed = &text[text.find("\"kind\":\"resume\"").unwrap()..];
    // The resumed run made the ReleaseAz call …
    assert!(
        resumed.lines().any(|l| l.contains("\"api\":\"ReleaseAz\"")
            && l.contains("\"phase\":\"after\"")
            && l.contains("\"ok\":true")),
        "no ReleaseAz after the resume:\n{resumed}"
    );
    // … the simulator's AZ was released: tasks came back to it, so the
    // rebalanced check passed (with the AZ kept impaired it times out) …
    assert!(rebalanced_ok(resumed), "{resumed}");
    // … and the impairment was rebuilt, not the StopTasks call repeated.
    assert!(resumed.contains("\"rebuilt\":true"));
    assert_eq!(
        text.lines()
            .filter(|l| is_first_stop_tasks_result(l) && !l.contains("\"sweep\":true"))
            .count(),
        1
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("step inject had made its calls"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The report renders the whole run.
    let out = ecsdeck(d.path(), &["runbook", "report", &run_id]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("✓ ReleaseAz"));
}

#[test]
fn a_garbage_last_journal_line_is_cut_on_resume_and_report_still_works() {
    let d = tempfile::tempdir().unwrap();
    let answers = d.path().join("answers.toml");
    std::fs::write(&answers, AZ_ANSWERS).unwrap();
    let v = json(&az_gameday(d.path(), &answers, AZ_PARAMS));
    let path = v["journal"].as_str().unwrap().to_string();
    let run_id = v["run_id"].as_str().unwrap().to_string();
    let kept = cut_journal_after(Path::new(&path), is_first_stop_tasks_result);
    // A whole garbage line, with its newline (the torn line of the issue).
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"ts\":17,\"wall\n");
    std::fs::write(&path, &text).unwrap();
    // `runbook report` renders the run so far and says the last line was cut.
    let out = ecsdeck(d.path(), &["runbook", "report", &run_id]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("## Timeline"));
    assert!(
        md.contains(&format!(":{}: the journal's last line was cut", kept + 1)),
        "{md}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("last line was cut"));
    // Resume cuts it, says so once on stderr and in the journal, and goes on.
    let out = az_gameday(d.path(), &answers, &["--resume", &run_id]);
    let v2 = json(&out);
    assert_eq!(v2["outcome"], "completed", "{v2}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("last line was cut").count(), 1, "{err}");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("{\"ts\":17,\"wall"), "the garbage is gone");
    assert!(text.contains("\"kind\":\"warning\"") && text.contains("last line was cut"));
    for (i, l) in text.lines().enumerate() {
        assert!(
            serde_json::from_str::<serde_json::Value>(l).is_ok(),
            "line {} is not JSON: {l}",
            i + 1
        );
    }
    // And the report works from then on.
    let out = ecsdeck(d.path(), &["runbook", "report", &run_id]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("Outcome: **completed**"), "{md}");
    assert!(!md.contains("- Journal:"), "nothing torn any more: {md}");
}

#[test]
fn printers_sanitize_hostile_titles_operators_and_params() {
    let d = tempfile::tempdir().unwrap();
    let hostile = SCALE_RB
        .replace(
            "title = \"Mine\"",
            "title = \"\\u001b[2J\\u001b[Hpwned \\u001b]52;c;ZWNobyBoaQ==\\u0007\"",
        )
        .replace("## Scale {#scale}", "## Scale \\u001b[31m {#scale}")
        .replace(
            "type = \"int\"",
            "type = \"int\"\nprompt = \"\\u001b]0;t\\u0007count\"",
        );
    write_runbook(&d.path().join("runbooks"), "mine.runbook.md", &hostile);
    let no_esc = |what: &str, out: &Output| {
        assert!(
            !out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07),
            "{what}: {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!out.stderr.contains(&0x1b), "{what}: stderr");
    };
    let out = ecsdeck(d.path(), &["runbook", "list"]);
    assert_eq!(out.status.code(), Some(0));
    no_esc("list", &out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("mine                   operational  pwned")
    );
    let out = ecsdeck(d.path(), &["runbook", "show", "mine"]);
    no_esc("show", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("— pwned"));
    let out = ecsdeck(d.path(), &["runbook", "validate"]);
    no_esc("validate", &out);
    // A run whose operator and parameters carry OSC 52 (clipboard write).
    let out = ecsdeck(
        d.path(),
        &[
            "--demo",
            "--write",
            "runbook",
            "run",
            "mine",
            "--yes",
            "--operator",
            "mallory\u{1b}]52;c;cm0gLXJmIH4=\u{7}",
            "--param",
            "cluster=prod\u{1b}]52;c;eA==\u{7}",
            "--param",
            "service=api|x",
            "--param",
            "n=7",
        ],
    );
    no_esc("run (text)", &out);
    let text = String::from_utf8_lossy(&out.stdout);
    let run_id = text
        .lines()
        .find_map(|l| l.strip_prefix("journal: "))
        .and_then(|p| Path::new(p.trim()).parent())
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| panic!("no journal line in {text}"));
    let out = ecsdeck(d.path(), &["runbook", "report", &run_id]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    no_esc("report", &out);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("operator mallory"), "{md}");
    assert!(md.contains("cluster=prod"), "{md}");
    let report = std::fs::read(d.path().join("runs").join(&run_id).join("report.md")).unwrap();
    assert!(!report.contains(&0x1b), "report.md is sanitized too");
}

#[test]
fn a_fifo_and_a_dev_zero_link_in_the_runbook_dir_do_not_hang_list() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("runbooks");
    write_runbook(&dir, "mine.runbook.md", SCALE_RB);
    mkfifo(&dir.join("fifo.runbook.md"));
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.runbook.md")).unwrap();
    let out = ecsdeck_within(d.path(), &["runbook", "list", "--format", "json"], 20);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let ids: Vec<&str> = v["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"mine") && ids.contains(&"scale-out"),
        "{ids:?}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().any(|l| l.starts_with("ecsdeck: ")
            && l.ends_with("fifo.runbook.md: not a regular file (a FIFO); refusing to read it")),
        "{err}"
    );
    assert!(
        err.lines().any(|l| l.ends_with(
            "zero.runbook.md: not a regular file (a character device); refusing to read it"
        )),
        "{err}"
    );
    let out = ecsdeck_within(d.path(), &["runbook", "validate"], 20);
    assert_eq!(out.status.code(), Some(1));
    // An answers file that is a FIFO is refused, not waited on.
    let fifo = d.path().join("answers.toml");
    mkfifo(&fifo);
    let out = ecsdeck_within(
        d.path(),
        &[
            "--demo",
            "runbook",
            "run",
            "mine",
            "--answers",
            fifo.to_str().unwrap(),
            "--param",
            "cluster=prod",
            "--param",
            "service=api",
            "--param",
            "n=3",
        ],
        20,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file (a FIFO)"));
}

#[test]
fn a_run_id_is_not_a_path() {
    let d = tempfile::tempdir().unwrap();
    let out = ecsdeck(d.path(), &["runbook", "report", "../../etc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a run id"));
}

/// A journal write that fails for real mid-run (the file-size limit is hit:
/// `EFBIG`, with `SIGXFSZ` ignored as a process may have it) stops the run:
/// exit non-zero, one line naming the journal and the OS error, no summary.
#[test]
fn a_failed_journal_write_stops_the_run_with_one_line() {
    use std::os::unix::process::CommandExt;
    let d = tempfile::tempdir().unwrap();
    let limit: u64 = 6000;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecsdeck"));
    cmd.args([
        "--demo",
        "--write",
        "runbook",
        "run",
        "scale-out",
        "--yes",
        "--at",
        "1m",
        "--format",
        "json",
        "--param",
        "cluster=prod",
        "--param",
        "service=api",
        "--param",
        "target=9",
        "--data-dir",
    ])
    .arg(d.path())
    .env("NO_COLOR", "1")
    .env_remove("AWS_PROFILE");
    // SAFETY: between fork and exec only async-signal-safe calls are made.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: limit as libc::rlim_t,
                rlim_max: limit as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().expect("run ecsdeck");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(out.stdout.is_empty(), "no summary: {:?}", out.stdout);
    let runs: Vec<_> = std::fs::read_dir(d.path().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1);
    let journal = runs[0].join("journal.jsonl");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(&format!(
            "ecsdeck: {}: journal write failed: ",
            journal.display()
        )),
        "{stderr}"
    );
    assert!(lines[0].contains("File too large"), "{stderr}");
    // The run got somewhere before the disk refused (not a start-up error),
    // and stopped there: the journal is no longer than the limit.
    let len = std::fs::metadata(&journal).unwrap().len();
    assert!(len > 1000 && len <= limit, "{len}");
}
