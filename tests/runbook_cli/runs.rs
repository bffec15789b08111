use super::*;

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
            &[
                "cluster=prod",
                "service=web",
                "stop_alarms=prod-web-p99-latency",
            ],
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
            "--param",
            "stop_alarms=prod-web-p99-latency",
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
            "cluster=staging",
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

#[test]
fn a_run_id_is_not_a_path() {
    let d = tempfile::tempdir().unwrap();
    let out = ecsdeck(d.path(), &["runbook", "report", "../../etc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a run id"));
}
