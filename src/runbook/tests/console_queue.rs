//! The console's runner never loses a call to a full control queue: it is
//! offered again on the next tick until the source takes it; a closed queue
//! or an unwritable journal stops the run with an error on screen.

use std::collections::BTreeMap;
use std::fs::OpenOptions;

use tokio::sync::mpsc;

use super::super::drive::SimDriver;
use super::super::engine::{Need, Outcome, Runner, bind_params};
use super::{cfg, runbook, sim_at};
use crate::calls::Backend;
use crate::source::Control;
use crate::ui::runbooks::{ConsoleRun, Modal, RunbookUi, Screen};

/// A console run of scale-out whose next need is its first call.
fn at_first_call() -> (RunbookUi, SimDriver) {
    let rb = runbook("scale-out");
    let given: BTreeMap<String, String> =
        [("cluster", "prod"), ("service", "api"), ("target", "9")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let p = bind_params(&rb, &given).unwrap();
    let mut r = Runner::new(rb, p, cfg(true), "queue".into()).unwrap();
    let mut b = SimDriver::new(sim_at("steady", 60_000));
    loop {
        let snap = b.snapshot();
        let now = b.now();
        match r.poll(now, &snap) {
            // Asked again, the runner names the same call (not made yet).
            Need::Call(_) => break,
            Need::Wait { until } => b.advance_to(until),
            Need::Arm { phrase } => r.arm(now, &phrase, true).unwrap(),
            Need::Confirm { .. } => r.confirm(now, true, true),
            Need::Checkpoint(ask) => r.answer(now, &ask.choices[0], "", &[], true).unwrap(),
            Need::Finished(s) => panic!("finished before a call: {s:?}"),
        }
    }
    let ui = RunbookUi {
        screen: Screen::Run(Box::new(ConsoleRun {
            runner: r,
            modal: Modal::None,
            in_flight: None,
            next_id: 0,
            dismissed: None,
            step_cursor: 0,
            abort_armed: false,
            outbox: Default::default(),
        })),
        ..RunbookUi::default()
    };
    (ui, b)
}

/// One tick of the console's loop: drive, send each control as the event
/// loop does (`try_send`), hand refusals back.
fn tick(ui: &mut RunbookUi, b: &mut SimDriver, tx: &mpsc::Sender<Control>) -> usize {
    let snap = b.snapshot();
    let now = b.now();
    let out = ui.drive(&snap, now);
    let n = out.len();
    for c in out {
        if let Err(e) = tx.try_send(c) {
            ui.send_failed(e, now);
        }
    }
    n
}

fn run(ui: &RunbookUi) -> &ConsoleRun {
    match &ui.screen {
        Screen::Run(r) => r,
        _ => panic!("a run is shown"),
    }
}

#[test]
fn a_full_queue_does_not_lose_the_call() {
    let (mut ui, mut b) = at_first_call();
    let (tx, mut rx) = mpsc::channel::<Control>(1);
    tx.try_send(Control::Pause(false)).unwrap(); // full
    for _ in 0..5 {
        assert_eq!(tick(&mut ui, &mut b, &tx), 1, "the call is offered");
        assert!(run(&ui).outbox.has_pending(), "kept, not dropped");
        assert_eq!(run(&ui).in_flight, Some(1));
    }
    // The source drains its queue: the same call (same id) goes through, once.
    assert_eq!(rx.try_recv().unwrap(), Control::Pause(false));
    tick(&mut ui, &mut b, &tx);
    let Ok(Control::Apply(id, call)) = rx.try_recv() else {
        panic!("the call reached the source")
    };
    assert_eq!(id, 1);
    assert!(!run(&ui).outbox.has_pending());
    assert_eq!(tick(&mut ui, &mut b, &tx), 0, "waits for the answer");
    assert!(rx.try_recv().is_err(), "sent once");
    // The answer comes back and the run goes on.
    let res = b.call(&call);
    ui.call_result(id, res, b.now());
    assert_eq!(run(&ui).in_flight, None);
    assert!(!run(&ui).runner.is_finished());
}

#[test]
fn a_closed_queue_stops_the_run_with_an_error() {
    let (mut ui, mut b) = at_first_call();
    let (tx, rx) = mpsc::channel::<Control>(1);
    drop(rx); // the source task is gone
    tick(&mut ui, &mut b, &tx);
    let (msg, error) = ui.message.clone().expect("said on screen");
    assert!(
        error && msg.contains("stopped taking runbook calls"),
        "{msg}"
    );
    let s = run(&ui).runner.summary().cloned().expect("stopped");
    assert_eq!(s.outcome, Outcome::Failed);
    assert_eq!(tick(&mut ui, &mut b, &tx), 0, "nothing more is sent");
}

#[test]
fn an_unwritable_journal_stops_the_console_run_with_an_error() {
    let (mut ui, mut b) = at_first_call();
    let (tx, mut rx) = mpsc::channel::<Control>(4);
    assert_eq!(tick(&mut ui, &mut b, &tx), 1);
    let Ok(Control::Apply(id, call)) = rx.try_recv() else {
        panic!("the call was sent")
    };
    let Screen::Run(r) = &mut ui.screen else {
        panic!()
    };
    let full = OpenOptions::new().append(true).open("/dev/full").unwrap();
    r.runner.journal.write_to(full);
    let res = b.call(&call);
    ui.call_result(id, res, b.now());
    assert_eq!(tick(&mut ui, &mut b, &tx), 0, "nothing more is sent");
    assert!(rx.try_recv().is_err());
    let (msg, error) = ui.message.clone().expect("said on screen");
    assert!(error, "{msg}");
    assert!(
        msg.contains("journal write failed") && msg.contains("No space left"),
        "{msg}"
    );
    assert_eq!(
        run(&ui).runner.summary().map(|s| s.outcome),
        Some(Outcome::Failed)
    );
}
