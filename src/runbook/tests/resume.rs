//! `--resume`: a run killed at any point continues from its journal.

use super::*;

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
    let mut backend = SimDriver::new(sim_at("steady", 60_000));
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
fn resume_az(dir: &std::path::Path, id: &str) -> (Summary, Vec<Event>, SimDriver, Vec<String>) {
    let mut c = cfg(true);
    c.data_dir = Some(dir.to_path_buf());
    let mut r = Runner::resume(runbook("gameday-az-outage"), c, id.into()).unwrap();
    let mut backend = SimDriver::new(sim_at("steady", 0));
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

fn spread(backend: &mut SimDriver) -> usize {
    use crate::runbook::drive::Backend;
    let snap = backend.snapshot();
    let svc = snap.service_in("prod/api", None).unwrap();
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
        // The impairment's duration is over (or it was released).
        l.contains("\"kind\":\"sustain_end\"")
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
    use crate::runbook::drive::Backend;
    use crate::runbook::engine::{CallOutput, PlannedCall};
    struct NoRelease(SimDriver);
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
            if c.is::<crate::actions::sustain_release::ReleaseAz>() {
                Err("throttled".into())
            } else {
                self.0.call(c)
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
    let mut backend = NoRelease(SimDriver::new(sim_at("steady", 60_000)));
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
