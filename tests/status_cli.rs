//! `ecsdeck status`: the JSON contract, determinism and exit codes, through the
//! real binary.

use std::process::Command;

fn ecsdeck(args: &[&str]) -> std::process::Output {
    let data = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(args)
        .arg("--data-dir")
        .arg(data.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("run ecsdeck")
}

fn json(args: &[&str]) -> (serde_json::Value, i32) {
    let out = ecsdeck(args);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (v, out.status.code().unwrap())
}

#[test]
fn json_contract_fields() {
    let (v, _) = json(&[
        "status",
        "--demo",
        "--scenario",
        "steady",
        "--at",
        "5m",
        "--format",
        "json",
    ]);
    let services = v["services"].as_array().expect("services[]");
    assert!(services.len() >= 4, "a demo fleet has several services");
    for s in services {
        for field in [
            "region",
            "cluster",
            "name",
            "health",
            "desired",
            "running",
            "pending",
            "tasks_by_az",
            "alarms_in_alarm",
            "deployments",
        ] {
            assert!(s.get(field).is_some(), "missing .{field} in {s}");
        }
        let h = s["health"].as_str().unwrap();
        assert!(
            ["steady", "deploying", "degraded", "failed"].contains(&h),
            "{h}"
        );
        assert!(s["tasks_by_az"].is_object());
        for d in s["deployments"].as_array().unwrap() {
            for field in ["status", "rollout_state", "task_definition"] {
                assert!(d.get(field).is_some(), "missing deployments[].{field}");
            }
        }
    }
    let clusters: std::collections::BTreeSet<_> = services
        .iter()
        .map(|s| s["cluster"].as_str().unwrap())
        .collect();
    assert!(clusters.len() >= 2, "at least two clusters");
}

#[test]
fn deterministic_for_scenario_seed_and_time() {
    let args = [
        "status",
        "--demo",
        "--scenario",
        "az-outage",
        "--at",
        "4m",
        "--format",
        "json",
    ];
    let a = ecsdeck(&args);
    let b = ecsdeck(&args);
    assert_eq!(a.stdout, b.stdout);
    let c = ecsdeck(&[
        "status",
        "--demo",
        "--scenario",
        "az-outage",
        "--at",
        "4m",
        "--format",
        "json",
        "--seed",
        "7",
    ]);
    assert_ne!(a.stdout, c.stdout, "the seed matters");
}

#[test]
fn exit_codes_follow_health() {
    let (v, code) = json(&[
        "status",
        "--demo",
        "--scenario",
        "steady",
        "--at",
        "5m",
        "--format",
        "json",
    ]);
    let unhealthy = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| matches!(s["health"].as_str(), Some("degraded" | "failed")));
    assert_eq!(code, i32::from(unhealthy));
    assert!(!unhealthy, "steady is steady at 5m: {v}");
    let (v, code) = json(&[
        "status",
        "--demo",
        "--scenario",
        "az-outage",
        "--at",
        "4m",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "an AZ outage degrades services: {v}");
    let out = ecsdeck(&["status", "--demo", "--scenario", "no-such-scenario"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-scenario"));
}

#[test]
fn malformed_scenario_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(
        &path,
        "[scenario]\nname = \"broken\"\nseed = \"not a number\"\n",
    )
    .unwrap();
    let out = ecsdeck(&["status", "--demo", "--scenario", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.toml") && err.contains(":3"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn text_format_is_sanitized_and_readable() {
    let out = ecsdeck(&["status", "--demo", "--scenario", "bad-deploy", "--at", "6m"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("ecsdeck status · demo bad-deploy"),
        "{text}"
    );
    assert!(text.contains("services:"));
    assert!(!text.contains('\u{1b}'));
}

#[test]
fn globals_work_after_the_subcommand_and_config_errors_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "theme = \"dark\"\n[demo]\nspeed = \"fast\"\n").unwrap();
    let out = ecsdeck(&["status", "--demo", "--config", cfg.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("config.toml:3"), "{err}");
}

#[test]
fn cluster_option_limits_the_fleet() {
    let (v, _) = json(&[
        "status",
        "--demo",
        "--cluster",
        "staging",
        "--format",
        "json",
    ]);
    let services = v["services"].as_array().unwrap();
    assert!(!services.is_empty());
    assert!(services.iter().all(|s| s["cluster"] == "staging"), "{v}");
    assert_eq!(v["summary"]["services"], services.len());
}

#[test]
fn review_report_formats_and_exit_codes() {
    let (v, code) = json(&[
        "review",
        "--demo",
        "--scenario",
        "seed-review",
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "seed-review has high findings");
    let ids: std::collections::BTreeSet<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["service"] == "checkout")
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        ids.is_empty(),
        "no false positives on the well-architected service: {ids:?}"
    );
    // Only critical counts: SEC-02 is critical, so still 1.
    let out = ecsdeck(&[
        "review",
        "--demo",
        "--scenario",
        "seed-review",
        "--fail-on",
        "critical",
        "--format",
        "sarif",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    // The prod/checkout cluster alone passes at any threshold.
    let out = ecsdeck(&[
        "review",
        "--demo",
        "--scenario",
        "seed-review",
        "--cluster",
        "prod",
        "--fail-on",
        "low",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("review.md");
    let out = ecsdeck(&[
        "review",
        "--demo",
        "--scenario",
        "seed-review",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let md = std::fs::read_to_string(&path).unwrap();
    assert!(md.starts_with("# ECS Well-Architected review"));
    let bad = ecsdeck(&["review", "--demo", "--fail-on", "sometimes"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn suppressions_hide_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("suppressions.toml");
    // The simulated clock is 2026-11-23: one suppression active, one expired.
    std::fs::write(
        &path,
        "[[suppress]]\nid = \"REL-07\"\nresource = \"legacy/*\"\nreason = \"decommissioning\"\nexpires = \"2026-12-31\"\n\n\
         [[suppress]]\nid = \"SEC-04\"\nresource = \"legacy/monolith\"\nreason = \"vendor image\"\nexpires = \"2026-10-01\"\n",
    )
    .unwrap();
    let (v, _) = json(&[
        "review",
        "--demo",
        "--scenario",
        "seed-review",
        "--format",
        "json",
        "--suppressions",
        path.to_str().unwrap(),
    ]);
    let findings = v["findings"].as_array().unwrap();
    assert!(
        !findings.iter().any(|f| f["id"] == "REL-07"),
        "active suppression hides REL-07"
    );
    let sup = v["suppressed"].as_array().unwrap();
    assert!(
        sup.iter()
            .any(|f| f["id"] == "REL-07" && f["suppression"]["reason"] == "decommissioning")
    );
    let sec04 = findings
        .iter()
        .find(|f| f["id"] == "SEC-04" && f["service"] == "monolith")
        .expect("expired: fires again");
    assert!(
        sec04["evidence"]
            .to_string()
            .contains("suppression expired 2026-10-01"),
        "{sec04}"
    );
    std::fs::write(&path, "[[suppress]]\nid = \"NOPE-1\"\nresource = \"*\"\nreason = \"x\"\nexpires = \"2026-12-31\"\n").unwrap();
    let out = ecsdeck(&["review", "--demo", "--suppressions", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("suppressions.toml:2"));
}

/// Run ecsdeck, failing (not hanging) if it takes longer than 20 s.
fn ecsdeck_within(args: &[&str]) -> std::process::Output {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(args)
        .arg("--data-dir")
        .arg(data.path())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run ecsdeck");
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            panic!("ecsdeck {args:?} did not end within 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &std::path::Path) {
    let st = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(st.success());
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn config_dev_zero_and_fifo_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("config.toml");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    for args in [
        vec!["--config", "/dev/zero", "status", "--demo"],
        vec!["status", "--demo", "--config", "/dev/zero"],
        vec!["--config", fifo, "status", "--demo"],
        vec!["review", "--demo", "--config", fifo],
    ] {
        let out = ecsdeck_within(&args);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("not a regular file") && err.contains("refusing to read it"),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn theme_scenario_and_suppressions_fifos_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("piped.toml");
    mkfifo(&fifo);
    let fifo = fifo.to_str().unwrap();
    // The theme is read before the console opens.
    for args in [
        vec!["--demo", "--theme", fifo],
        vec!["status", "--demo", "--scenario", fifo],
        vec!["review", "--demo", "--suppressions", fifo],
    ] {
        let out = ecsdeck_within(&args);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("piped.toml: not a regular file (a FIFO); refusing to read it"),
            "{args:?}: {err}"
        );
    }
    // Named by the config, the error says where.
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, format!("[review]\nsuppressions = {fifo:?}\n")).unwrap();
    let out = ecsdeck_within(&["review", "--demo", "--config", cfg.to_str().unwrap()]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("config.toml:2: review.suppressions: ") && err.contains("(a FIFO)"),
        "{err}"
    );
}

#[test]
fn at_over_31_days_is_refused() {
    for sub in ["status", "review"] {
        let out = ecsdeck_within(&[sub, "--demo", "--at", "999999h"]);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("at most 31 days (744h)"), "{err}");
    }
    let out = ecsdeck_within(&["runbook", "run", "scale-out", "--demo", "--at", "32d"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("at most 31 days"));
}

#[test]
fn unknown_scenarios_are_blamed_on_where_they_were_named() {
    let out = ecsdeck_within(&["status", "--demo", "--scenario", "nope"]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.starts_with(
            "ecsdeck: --scenario: \"nope\" is not a built-in scenario (built-in: steady, az-outage,"
        ),
        "{err}"
    );
    assert!(!err.contains(":0:"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "theme = \"dark\"\n[demo]\nscenario = \"nope\"\n").unwrap();
    let out = ecsdeck_within(&["status", "--demo", "--config", cfg.to_str().unwrap()]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("config.toml:3: demo.scenario: \"nope\" is not a built-in scenario"),
        "{err}"
    );
    assert!(!err.contains("nope:0"), "{err}");
    // A path in the config that does not exist: the config's line, then the path.
    std::fs::write(&cfg, "[demo]\n\nscenario = \"gone.toml\"\n").unwrap();
    let out = ecsdeck_within(&["status", "--demo", "--config", cfg.to_str().unwrap()]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("config.toml:3: demo.scenario: gone.toml: No such file"),
        "{err}"
    );
    // --scenario wins over the config.
    let (v, _) = json(&[
        "status",
        "--demo",
        "--config",
        cfg.to_str().unwrap(),
        "--scenario",
        "steady",
        "--format",
        "json",
    ]);
    assert_eq!(v["source"]["label"], "steady");
}

#[test]
fn scenario_bounds_are_checked_at_the_line_of_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.toml");
    let base = "[scenario]\nname = \"big\"\n\n[[clusters]]\nname = \"prod\"\n\n[[task_definitions]]\nfamily = \"app\"\nrevision = 1\n[[task_definitions.containers]]\nname = \"app\"\nimage = \"x:1\"\n\n[[services]]\ncluster = \"prod\"\nname = \"app\"\ntask_definition = \"app:1\"\ndesired = DESIRED\nautoscaling = { min = MIN, max = 4, target = 50 }\n";
    for (desired, min, want) in [
        (
            "50000",
            "1",
            "big.toml:18: services[0].desired: 50000 is not within 0..=5000",
        ),
        ("-2", "1", "big.toml:18: services[0].desired: -2"),
        (
            "2",
            "9",
            "big.toml:19: services[0].autoscaling.max: max 4 is below min 9",
        ),
    ] {
        let text = base.replace("DESIRED", desired).replace("MIN", min);
        std::fs::write(&path, text).unwrap();
        let out = ecsdeck_within(&["status", "--demo", "--scenario", path.to_str().unwrap()]);
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "want {want:?} in {err}");
    }
}
