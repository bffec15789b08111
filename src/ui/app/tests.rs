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

/// `:ctx`'s builder, offering `prod` and `staging`; its sources send nothing.
struct TwoProfiles;

use crate::source::context::FleetBuilder;

impl FleetBuilder for TwoProfiles {
    fn profiles(&self) -> Result<Vec<crate::source::context::KnownProfile>, String> {
        Ok(["prod", "staging"]
            .into_iter()
            .map(|n| crate::source::context::KnownProfile {
                name: n.into(),
                region: None,
            })
            .collect())
    }

    fn connect(
        &self,
        _set: &crate::source::context::ContextSet,
    ) -> futures::future::BoxFuture<'static, crate::source::SourceHandle> {
        let (_tx, updates) = tokio::sync::mpsc::channel(1);
        let (_stx, snapshots) =
            tokio::sync::watch::channel(Arc::new(crate::model::FleetSnapshot::default()));
        let (control, _crx) = tokio::sync::mpsc::channel(1);
        let h = crate::source::SourceHandle {
            updates,
            snapshots,
            control,
            capabilities: crate::source::aws::CAPABILITIES,
            heartbeat: std::time::Duration::from_secs(11),
        };
        Box::pin(async move { h })
    }

    fn source_label(&self, set: &crate::source::context::ContextSet) -> String {
        format!("test:{}", set.label(usize::MAX))
    }
}

/// A console on AWS reading `prod × us-east-1`, able to switch.
fn aws_with_contexts() -> App {
    let mut app = app_with(crate::source::aws::CAPABILITIES);
    app.context = Some(crate::source::context::ContextSet {
        profiles: vec!["prod".into()],
        regions: vec!["us-east-1".into()],
    });
    app.fleet_builder = Some(Box::new(TwoProfiles));
    app
}

/// One line on the bottom line, an error.
fn one_error_line(app: &App) -> String {
    let (m, err) = app.message.clone().expect("a message");
    assert!(err, "{m}");
    assert!(!m.contains('\n'), "one line: {m:?}");
    m
}

#[test]
fn ctx_is_refused_on_a_source_without_contexts() {
    // The demo, even with a builder at hand: nothing opens, nothing switches.
    let mut app = app_with(crate::source::sim::CAPABILITIES);
    app.fleet_builder = Some(Box::new(TwoProfiles));
    keys_typed(&mut app, ":ctx");
    assert_eq!(press(&mut app, KeyCode::Enter), vec![]);
    assert!(app.ctx_picker.is_none());
    let m = one_error_line(&app);
    assert_eq!(m, format!(":ctx: {}", Capability::Contexts.refusal()));
    assert!(refused(&app, ":ctx", Capability::Contexts));
    assert!(!app.rows.is_empty(), "the fleet is kept");
    // The same command on AWS opens the picker.
    let mut app = aws_with_contexts();
    assert_eq!(app.run_command("ctx"), vec![]);
    assert!(app.ctx_picker.is_some(), "{:?}", app.message);
}

fn keys_typed(app: &mut App, s: &str) {
    for c in s.chars() {
        press(app, KeyCode::Char(c));
    }
}

#[test]
fn ctx_is_refused_while_a_runbook_run_is_in_progress() {
    let mut app = aws_with_contexts();
    app.runbooks.fixed_run_id = Some("ctx-during-run".into());
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
    let run = app.runbooks.running().expect("a run in progress");
    assert!(!run.runner.is_finished());
    // `:ctx` does not open: a switch would orphan the run's targets.
    assert_eq!(app.run_command("ctx"), vec![]);
    assert!(app.ctx_picker.is_none());
    let m = one_error_line(&app);
    assert_eq!(
        m,
        ":ctx: runbook run ctx-during-run is in progress on this set: finish or abort it first"
    );
    // A picker already open when the run started: Enter switches nothing.
    let set = app.current_set();
    let choices = crate::source::context::Choices::from_profiles(Ok(vec![]));
    app.ctx_picker = Some(crate::ui::ctx::CtxPicker::new(choices, &set));
    app.message = None;
    assert_eq!(press(&mut app, KeyCode::Enter), vec![], "no Effect::Switch");
    assert!(app.ctx_picker.is_none(), "the picker closes");
    assert!(one_error_line(&app).contains("ctx-during-run is in progress"));
    assert_eq!(app.context, Some(set), "the set is kept");
    assert!(app.runbooks.running().is_some(), "the run goes on");
}

/// The console connects the new set off its event loop; until it is ready
/// the old set is read, and a run started meanwhile keeps it.
#[tokio::test]
async fn a_switch_under_way_keeps_the_old_set_until_it_is_ready() {
    use crate::ui::ctx::{begin_switch, finish_switch};
    let want = crate::source::context::ContextSet {
        profiles: vec!["staging".into()],
        regions: vec!["us-west-2".into()],
    };
    let mut app = aws_with_contexts();
    let old = app.context.clone();
    let rows = app.rows.len();
    let (pending, connect) = begin_switch(&mut app, want.clone()).expect("the set can be read");
    assert_eq!(app.context, old, "still the old set while connecting");
    assert_eq!(app.rows.len(), rows, "and its rows");
    let (m, err) = app.message.clone().unwrap();
    assert!(!err);
    assert_eq!(m, "connecting to staging × us-west-2…");
    // A runbook run starts before the new source is ready.
    app.runbooks.fixed_run_id = Some("ctx-meanwhile".into());
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
    let mut source = TwoProfiles.connect(old.as_ref().unwrap()).await;
    let next = connect.await;
    assert!(!finish_switch(&mut app, &mut source, pending, next));
    assert_eq!(app.context, old, "the run's set is kept");
    assert_eq!(app.rows.len(), rows);
    assert!(one_error_line(&app).contains("ctx-meanwhile is in progress"));
    // Without a run the same switch goes through.
    let mut app = aws_with_contexts();
    let (pending, connect) = begin_switch(&mut app, want.clone()).unwrap();
    let next = connect.await;
    assert!(finish_switch(&mut app, &mut source, pending, next));
    assert_eq!(app.context, Some(want));
    assert!(app.rows.is_empty(), "the old set's rows are forgotten");
}
