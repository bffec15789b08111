//! Runbook screens at the moments they are trusted: a GameDay refused for a
//! missing guardrail, and a rollback that follows the circuit breaker's own
//! rollback instead of fighting it. TestBackend + insta at 160x48 and 80x24.

use ratatui::crossterm::event::KeyCode;

#[path = "support/ui.rs"]
#[allow(dead_code)] // shared with ui_snapshots, which uses all of it
mod support;
use support::*;

/// Open runbook number `n` (0-based, in the list's order) for the selected
/// service and move to its `tabs`-th field.
fn open_runbook(rig: &mut Rig, n: usize, tabs: usize) {
    keys(&mut rig.app, ":runbooks");
    key(&mut rig.app, KeyCode::Enter);
    for _ in 0..n {
        keys(&mut rig.app, "j");
    }
    key(&mut rig.app, KeyCode::Enter);
    for _ in 0..tabs {
        key(&mut rig.app, KeyCode::Tab);
    }
}

#[test]
fn a_gameday_without_its_stop_alarm_is_refused_on_screen() {
    // prod/web has a p99 alarm but no 5XX alarm: the task-crash GameDay's
    // default guardrails are not all there, so it does not start.
    let mut rig = Rig::new("steady", 300);
    select_service(&mut rig.app, "prod/web");
    open_runbook(&mut rig, 3, 0);
    key(&mut rig.app, KeyCode::Enter);
    rig.run(2);
    let s = screen(&mut rig.app, 160, 48);
    assert!(s.contains("prod-web-5xx"), "{s}");
    assert!(s.contains("unguarded"), "{s}");
    assert!(!s.contains("Crash one task ✓"), "{s}");
    insta::assert_snapshot!("gameday_refused_missing_alarm_160x48", s);
    insta::assert_snapshot!(
        "gameday_refused_missing_alarm_80x24",
        screen(&mut rig.app, 80, 24)
    );
    let r = rig.app.runbooks.running();
    if let Some(r) = r {
        assert!(
            r.runner
                .journal
                .events
                .iter()
                .all(|e| e.kind() != "api_call")
        );
    }
}

#[test]
fn a_rollback_follows_the_circuit_breaker_on_screen() {
    // bad-deploy at 4m: the breaker is already rolling prod/api back to
    // api:42. The run says so and follows; it does not stop the breaker.
    let mut rig = Rig::new("bad-deploy", 240);
    select_service(&mut rig.app, "prod/api");
    open_runbook(&mut rig, 1, 2);
    keys(&mut rig.app, "INC-1");
    key(&mut rig.app, KeyCode::Enter);
    // Following changes nothing: no arm phrase, no confirmation.
    rig.run(4);
    let s = screen(&mut rig.app, 160, 48);
    assert!(s.contains("already rolling"), "{s}");
    insta::assert_snapshot!("rollback_follows_breaker_160x48", s);
    insta::assert_snapshot!(
        "rollback_follows_breaker_80x24",
        screen(&mut rig.app, 80, 24)
    );
    rig.run(240);
    let s = screen(&mut rig.app, 160, 48);
    insta::assert_snapshot!("rollback_follows_breaker_done_160x48", s);
    let r = rig.app.runbooks.running().unwrap();
    let apis: Vec<String> = r
        .runner
        .journal
        .events
        .iter()
        .filter(|e| e.kind() == "api_call")
        .filter_map(|e| e.detail()["call"]["api"].as_str().map(String::from))
        .collect();
    assert!(
        !apis
            .iter()
            .any(|a| a == "StopDeployment" || a == "UpdateService"),
        "{apis:?}"
    );
}

#[test]
fn the_dr_forms_fit_a_small_terminal() {
    let mut rig = Rig::new("region-outage", 60);
    select_service(&mut rig.app, "prod/api");
    open_runbook(&mut rig, 4, 0);
    let s = screen(&mut rig.app, 80, 24);
    assert!(
        s.contains("target_count") && s.contains("standby_alarm"),
        "{s}"
    );
    insta::assert_snapshot!("dr_failover_form_80x24", s);
    // The form scrolls: the last field, being edited, is in view.
    for _ in 0..20 {
        key(&mut rig.app, KeyCode::Tab);
    }
    let s = screen(&mut rig.app, 80, 24);
    assert!(s.contains("›rpo_target"), "{s}");
    insta::assert_snapshot!("dr_failover_form_scrolled_80x24", s);
    key(&mut rig.app, KeyCode::Esc);
    key(&mut rig.app, KeyCode::Esc);
    open_runbook(&mut rig, 5, 0);
    let s = screen(&mut rig.app, 80, 24);
    assert!(s.contains("standby_count"), "{s}");
    insta::assert_snapshot!("dr_failback_form_80x24", s);
}
