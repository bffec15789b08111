use super::*;

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
    // The reproduction: a finished GameDay's journal cut right after
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
