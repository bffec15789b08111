//! The console refuses what its source cannot do: one line, state unchanged.

use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::source::sim::{Simulator, scenario::Scenario};

fn app_with(caps: Capabilities) -> App {
    let sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    let mut app = App::new(Theme::default_dark());
    app.set_capabilities(caps);
    app.apply(Update::Snapshot(Arc::new(sim.snapshot())));
    app
}

fn without(cap: Capability) -> Capabilities {
    let mut c = crate::source::sim::CAPABILITIES;
    match cap {
        Capability::Pause => c.pause = false,
        Capability::Speed => c.speed = false,
        Capability::LiveTail => c.live_tail = false,
        Capability::Writes => c.writes = false,
        Capability::Contexts => c.contexts = false,
    }
    c
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// The bottom line is an error naming the command and the refusal.
fn refused(app: &App, what: &str, cap: Capability) -> bool {
    app.message
        .as_ref()
        .is_some_and(|(m, err)| *err && m.starts_with(what) && m.ends_with(cap.refusal()))
}

#[test]
fn pause_and_resume_are_refused_without_the_pause_capability() {
    let mut app = app_with(without(Capability::Pause));
    assert_eq!(app.run_command("pause"), vec![]);
    assert!(!app.paused, "nothing pauses, so PAUSED is not shown");
    assert!(
        refused(&app, ":pause", Capability::Pause),
        "{:?}",
        app.message
    );
    assert_eq!(app.run_command("resume"), vec![]);
    assert!(refused(&app, ":resume", Capability::Pause));
    // With it, the same command pauses the source.
    let mut app = app_with(crate::source::sim::CAPABILITIES);
    assert_eq!(
        app.run_command("pause"),
        vec![Effect::Control(Control::Pause(true))]
    );
    assert!(app.paused);
}

#[test]
fn speed_is_refused_without_the_speed_capability() {
    let mut app = app_with(without(Capability::Speed));
    assert_eq!(app.run_command("speed 10"), vec![]);
    assert!(
        refused(&app, ":speed", Capability::Speed),
        "{:?}",
        app.message
    );
    // Pausing is a capability of its own.
    assert_eq!(
        app.run_command("pause"),
        vec![Effect::Control(Control::Pause(true))]
    );
    let mut app = app_with(crate::source::sim::CAPABILITIES);
    assert_eq!(
        app.run_command("speed 10"),
        vec![Effect::Control(Control::SetSpeed(10.0))]
    );
}

#[test]
fn aws_refuses_the_demo_clock_commands() {
    let mut app = app_with(crate::source::aws::CAPABILITIES);
    for (cmd, cap) in [
        ("pause", Capability::Pause),
        ("resume", Capability::Pause),
        ("speed 2", Capability::Speed),
    ] {
        assert_eq!(app.run_command(cmd), vec![], ":{cmd}");
        let name = cmd.split_whitespace().next().unwrap();
        assert!(refused(&app, &format!(":{name}:"), cap), ":{cmd}");
        assert!(!app.paused);
    }
}

#[test]
fn following_logs_is_refused_without_a_live_tail() {
    let mut app = app_with(without(Capability::LiveTail));
    app.focus = 3;
    assert_eq!(app.focused(), Pane::Logs);
    app.logs.follow = false;
    press(&mut app, KeyCode::Char('f'));
    assert!(!app.logs.follow, "no tail to follow");
    assert!(
        refused(&app, "f", Capability::LiveTail),
        "{:?}",
        app.message
    );
    // Pausing a following pane is always possible; following again is not.
    let mut app = app_with(crate::source::sim::CAPABILITIES);
    app.focus = 3;
    app.logs.follow = false;
    press(&mut app, KeyCode::Char('f'));
    assert!(app.logs.follow);
}

/// A runbook whose required parameters the console fills in itself (the
/// selected service's cluster and name).
fn prefilled(r: &crate::runbook::Runbook) -> bool {
    r.meta
        .params
        .iter()
        .all(|(k, p)| !p.required || p.default.is_some() || k == "cluster" || k == "service")
}

#[test]
fn a_write_run_is_refused_on_a_source_that_cannot_write() {
    for (caps, starts) in [
        (without(Capability::Writes), false),
        (crate::source::sim::CAPABILITIES, true),
    ] {
        let mut app = app_with(caps);
        app.runbooks.write = true;
        app.runbooks.fixed_run_id = Some("caps-test".into());
        app.run_command("runbooks");
        let i = app
            .runbooks
            .library
            .runbooks
            .iter()
            .position(prefilled)
            .expect("a runbook the console can start");
        app.runbooks.list_cursor = i;
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Enter);
        match &app.runbooks.screen {
            crate::ui::runbooks::Screen::Params(form) => {
                assert!(!starts, "{:?}", form.error);
                assert_eq!(form.error.as_deref(), Some(Capability::Writes.refusal()));
            }
            crate::ui::runbooks::Screen::Run(_) => assert!(starts, "started without writes"),
            crate::ui::runbooks::Screen::List => panic!("back on the list"),
        }
        assert_eq!(app.runbooks.running().is_some(), starts);
    }
}

#[test]
fn a_dry_run_needs_no_writes() {
    let mut app = app_with(Capabilities::NONE);
    assert!(!app.runbooks.write);
    app.runbooks.fixed_run_id = Some("caps-dry".into());
    app.run_command("runbooks");
    let i = app
        .runbooks
        .library
        .runbooks
        .iter()
        .position(prefilled)
        .unwrap();
    app.runbooks.list_cursor = i;
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Enter);
    assert!(app.runbooks.running().is_some());
}
