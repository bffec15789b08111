//! One-shot commands never pass on simulated data: without AWS credentials
//! and without `--demo` they exit 2 with one line saying what to do, through
//! the real binary in an environment with no AWS configuration at all.

use std::process::Command;

/// Run ecsdeck with nothing of AWS in the environment (an empty HOME, no
/// AWS_* variables).
fn bare(args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(args)
        .arg("--data-dir")
        .arg(data.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("run ecsdeck")
}

#[test]
fn one_shot_commands_without_credentials_exit_2_instead_of_using_the_demo() {
    for args in [
        vec!["status"],
        vec!["status", "--format", "json"],
        vec!["review"],
        vec!["review", "--format", "json", "--fail-on", "low"],
        vec![
            "runbook",
            "run",
            "scale-out",
            "--param",
            "cluster=prod",
            "--param",
            "service=api",
            "--param",
            "desired=4",
            "--yes",
        ],
    ] {
        let out = bare(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{args:?} printed a report: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        // One line that says how to give credentials or pass --demo.
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains("no AWS credentials found") && stderr.contains("--demo"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn the_same_commands_run_on_the_demo_when_asked() {
    let out = bare(&["status", "--demo", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"]["kind"], "demo");
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1));
    // The simulator reads everything: no data errors, nothing unevaluated
    // for want of data.
    assert_eq!(v["errors"], serde_json::json!([]));
    let out = bare(&["review", "--demo", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["not_evaluated"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["missing_data"] == false),
        "{}",
        v["not_evaluated"]
    );
    assert_eq!(v["incomplete_pillars"], serde_json::json!([]));
}

/// Run ecsdeck with `AWS_CONFIG_FILE` (or the credentials file) pointing at
/// a FIFO nobody writes: a plain read would block for good.
fn with_fifo(var: &str, args: &[&str]) -> (Option<i32>, String, std::time::Duration) {
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let fifo = home.path().join("config");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path and a mode.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let t0 = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(args)
        .args([
            "--region",
            "us-east-1",
            "--endpoint-url",
            "http://127.0.0.1:1",
        ])
        .arg("--data-dir")
        .arg(data.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env(var, &fifo)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run ecsdeck");
    // A hang is a failure, not a stuck test: kill it after a minute.
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if t0.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    (
        status.and_then(|s| s.code()),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        t0.elapsed(),
    )
}

#[test]
fn an_aws_config_file_that_is_a_fifo_is_named_not_waited_on() {
    for var in ["AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"] {
        for args in [
            vec!["status"],
            vec!["review", "--format", "json"],
            vec![
                "runbook",
                "run",
                "scale-out",
                "--param",
                "cluster=prod",
                "--param",
                "service=api",
                "--param",
                "target=4",
                "--yes",
            ],
        ] {
            let (code, stderr, took) = with_fifo(var, &args);
            assert_eq!(code, Some(2), "{var} {args:?} ({took:?}): {stderr}");
            assert!(
                stderr.contains("not a regular file (a FIFO)") && stderr.contains("/config"),
                "{var} {args:?}: {stderr}"
            );
        }
    }
}
