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
