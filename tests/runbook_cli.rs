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
