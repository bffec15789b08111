//! A failed journal write stops the run with a visible error, and nothing
//! more is sent to the source. The writes fail for real (`/dev/full`).

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::sync::Arc;

use super::super::drive::{Answers, SimDriver, run_headless};
use super::super::engine::{Need, Outcome, Runner, bind_params};
use super::{cfg, runbook, sim_at};
use crate::calls::{Backend, CallOutput, PlannedCall};
use crate::model::{EpochMs, FleetSnapshot};

/// The simulator, counting the calls it is asked to make.
struct Counting {
    inner: SimDriver,
    calls: usize,
}

impl Backend for Counting {
    fn now(&self) -> EpochMs {
        self.inner.now()
    }
    fn snapshot(&mut self) -> Arc<FleetSnapshot> {
        self.inner.snapshot()
    }
    fn advance_to(&mut self, t: EpochMs) {
        self.inner.advance_to(t)
    }
    fn call(&mut self, c: &PlannedCall) -> Result<CallOutput, String> {
        self.calls += 1;
        self.inner.call(c)
    }
}

fn dev_full() -> std::fs::File {
    OpenOptions::new().append(true).open("/dev/full").unwrap()
}

fn scale_out(dir: &std::path::Path) -> Runner {
    let rb = runbook("scale-out");
    let given: BTreeMap<String, String> =
        [("cluster", "prod"), ("service", "api"), ("target", "9")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let p = bind_params(&rb, &given).unwrap();
    let mut c = cfg(true);
    c.data_dir = Some(dir.to_path_buf());
    Runner::new(rb, p, c, "jfail".into()).unwrap()
}

#[test]
fn a_journal_that_cannot_be_written_stops_the_headless_run_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = scale_out(dir.path());
    r.journal.write_to(dev_full());
    let mut b = Counting {
        inner: SimDriver::new(sim_at("steady", 60_000)),
        calls: 0,
    };
    let err = run_headless(&mut r, &mut b, &Answers::default(), true, &mut |_| {}).unwrap_err();
    let path = dir.path().join("runs/jfail/journal.jsonl");
    assert!(
        err.starts_with(&format!("{}: journal write failed: ", path.display())),
        "{err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(b.calls, 0, "nothing is sent once the journal fails");
    assert_eq!(r.summary().map(|s| s.outcome), Some(Outcome::Failed));
}

#[test]
fn a_journal_failing_mid_run_stops_it_and_sends_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = scale_out(dir.path());
    let mut b = SimDriver::new(sim_at("steady", 60_000));
    // Run (as --yes) to the first call, make it, then the disk fills up.
    let mut sent = 0;
    loop {
        let snap = b.snapshot();
        let now = b.now();
        match r.poll(now, &snap) {
            Need::Call(c) => {
                sent += 1;
                let res = b.call(&c);
                r.journal.write_to(dev_full());
                r.call_done(b.now(), res);
                break;
            }
            Need::Wait { until } => b.advance_to(until),
            Need::Arm { phrase } => r.arm(now, &phrase, true).unwrap(),
            Need::Confirm { .. } => r.confirm(now, true, true),
            Need::Checkpoint(ask) => r.answer(now, &ask.choices[0], "", &[], true).unwrap(),
            Need::Finished(s) => panic!("finished before a call: {s:?}"),
        }
    }
    assert_eq!(sent, 1);
    assert!(r.journal_error().is_some());
    // Every later poll: stopped, failed, the error as its reason.
    for _ in 0..3 {
        let snap = b.snapshot();
        match r.poll(b.now(), &snap) {
            Need::Finished(s) => {
                assert_eq!(s.outcome, Outcome::Failed);
                let reason = s.reason.unwrap();
                assert!(
                    reason.contains("journal.jsonl: journal write failed"),
                    "{reason}"
                );
                assert!(reason.contains("No space left on device"), "{reason}");
            }
            n => panic!("the run went on: {n:?}"),
        }
        b.advance_to(b.now() + 60_000);
    }
    // What reached the disk ends before the failure: the call's answer is
    // not there, and the run has no end line.
    let on_disk =
        super::super::journal::read(&dir.path().join("runs/jfail/journal.jsonl")).unwrap();
    assert!(on_disk.iter().all(|e| e.kind() != "run_end"));
    assert!(on_disk.len() < r.journal.events.len());
}
