//! Screens as a user sees them: TestBackend + insta, from simulator scenarios
//! at fixed simulated times, at 160x48 and 80x24.

use ecsdeck::source::Update;
use ecsdeck::source::sim::{Simulator, scenario::Scenario};
use ecsdeck::ui::app::{ApiCalls, App, Pane, View};
use ecsdeck::ui::draw::draw;
use ecsdeck::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[path = "support/ui.rs"]
mod support;
use support::*;

#[test]
fn fleet_every_scenario_wide_and_compact() {
    for (scenario, secs) in [
        ("steady", 300),
        ("az-outage", 360),
        ("bad-deploy", 420),
        ("scale-out", 1200),
        ("seed-review", 120),
        ("region-outage", 240),
    ] {
        let mut app = app_at(scenario, secs);
        insta::assert_snapshot!(
            format!("fleet_{scenario}_160x48"),
            screen(&mut app, 160, 48)
        );
        insta::assert_snapshot!(format!("fleet_{scenario}_80x24"), screen(&mut app, 80, 24));
    }
}

#[test]
fn service_detail_wide_and_every_tab_compact() {
    let mut app = app_at("az-outage", 360);
    let first = app.rows[0].key.clone();
    select_service(&mut app, &first);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Service(app.rows[0].id.clone()));
    insta::assert_snapshot!("detail_az_outage_160x48", screen(&mut app, 160, 48));
    for (i, pane) in app.view.panes().iter().enumerate() {
        insta::assert_snapshot!(
            format!(
                "detail_az_outage_80x24_{i}_{}",
                ecsdeck::ui::panes::of(*pane).tab()
            ),
            screen(&mut app, 80, 24)
        );
        key(&mut app, KeyCode::Tab);
    }
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.view, View::Fleet);
}

#[test]
fn bad_deploy_detail_shows_breaker() {
    // prod/api deploys a crashing revision at 1m; by 4m the breaker has
    // tripped and the rollback is rolling.
    let mut app = app_at("bad-deploy", 240);
    let row = app.rows.iter().find(|r| r.key == "prod/api").unwrap();
    assert_eq!(
        row.health.as_str(),
        "failed",
        "a FAILED rollout shows as failed while rolling back"
    );
    assert!(app.open_service_named("prod/api"));
    insta::assert_snapshot!("detail_bad_deploy_160x48", screen(&mut app, 160, 48));
    // staging/api has no breaker: it keeps trying.
    assert!(app.open_service_named("staging/api"));
    insta::assert_snapshot!(
        "detail_bad_deploy_no_breaker_80x24",
        screen(&mut app, 80, 24)
    );
}

#[test]
fn help_overlay() {
    let mut app = app_at("steady", 60);
    key(&mut app, KeyCode::Char('?'));
    assert!(app.help);
    insta::assert_snapshot!("help_160x48", screen(&mut app, 160, 48));
    insta::assert_snapshot!("help_80x24", screen(&mut app, 80, 24));
    // Scrolled to the end: the commands, from the same table as the parser.
    for _ in 0..200 {
        key(&mut app, KeyCode::Char('j'));
    }
    let end = screen(&mut app, 160, 48);
    assert!(end.contains(":runbooks"));
    insta::assert_snapshot!("help_commands_160x48", end);
    key(&mut app, KeyCode::Char('x'));
    assert!(!app.help);
}

#[test]
fn filter_and_command_line() {
    let mut app = app_at("steady", 60);
    key(&mut app, KeyCode::Char('/'));
    keys(&mut app, "api");
    insta::assert_snapshot!("services_filter_typing_160x48", screen(&mut app, 160, 48));
    key(&mut app, KeyCode::Enter);
    assert!(
        app.visible_rows()
            .iter()
            .all(|r| r.key.to_lowercase().contains("api") || r.task_definition.contains("api"))
    );
    key(&mut app, KeyCode::Char(':'));
    keys(&mut app, "nonsense");
    key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("command_unknown_80x24", screen(&mut app, 80, 24));
    key(&mut app, KeyCode::Char(':'));
    keys(&mut app, "alarms");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.focused(), Pane::Alarms);
}

#[test]
fn logs_paused_filtered_wrapped() {
    let mut app = app_at("bad-deploy", 300);
    app.focus = 3; // Logs in the fleet view
    assert_eq!(app.focused(), Pane::Logs);
    insta::assert_snapshot!("logs_follow_160x48", screen(&mut app, 160, 48));
    key(&mut app, KeyCode::PageUp);
    assert!(!app.logs.follow);
    insta::assert_snapshot!("logs_paused_160x48", screen(&mut app, 160, 48));
    key(&mut app, KeyCode::Char('w'));
    key(&mut app, KeyCode::Char('G'));
    assert!(app.logs.follow);
    key(&mut app, KeyCode::Char('/'));
    keys(&mut app, "ERROR|FATAL");
    key(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("logs_filtered_wrapped_80x24", screen(&mut app, 80, 24));
}

#[test]
fn timeline_pane_compact() {
    let mut app = app_at("az-outage", 600);
    app.focus = 2;
    assert_eq!(app.focused(), Pane::Timeline);
    insta::assert_snapshot!("timeline_80x24", screen(&mut app, 80, 24));
    key(&mut app, KeyCode::Char('e'));
    insta::assert_snapshot!("timeline_trouble_only_80x24", screen(&mut app, 80, 24));
}

#[test]
fn no_escape_sequence_reaches_the_screen() {
    // Collect the simulator's hostile log lines and put only those on screen.
    let mut sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    sim.run_until(900_000);
    let hostile: Vec<_> = sim
        .take_logs()
        .into_iter()
        .filter(|l| l.message.chars().any(|c| c.is_control() || c == '\u{fffd}'))
        .collect();
    assert!(
        hostile.iter().any(|l| l.message.contains('\u{1b}')),
        "the simulator sends escape sequences"
    );
    let mut app = App::new(Theme::default_dark());
    app.apply(Update::Snapshot(std::sync::Arc::new(sim.snapshot())));
    app.apply(Update::Logs(hostile));
    app.focus = 3;
    for wrap in [false, true] {
        app.logs.wrap = wrap;
        let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
        term.draw(|f| draw(f, &app)).unwrap();
        for cell in term.backend().buffer().content() {
            let sym = cell.symbol();
            assert!(
                !sym.chars().any(|c| c.is_control() || c == '\u{1b}'),
                "control char {sym:?} on screen"
            );
        }
    }
}

#[test]
fn no_color_means_no_colour() {
    let mut app = app_at("az-outage", 360);
    app.theme = Theme::default_dark().honour_no_color(Some("1"));
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    term.draw(|f| draw(f, &app)).unwrap();
    for cell in term.backend().buffer().content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset);
        assert_eq!(cell.bg, ratatui::style::Color::Reset);
    }
}

#[test]
fn themes_switch_live() {
    let mut app = app_at("steady", 30);
    for name in ["light", "high-contrast", "dark"] {
        key(&mut app, KeyCode::Char(':'));
        keys(&mut app, &format!("theme {name}"));
        key(&mut app, KeyCode::Enter);
        assert_eq!(app.theme.name, name);
    }
    key(&mut app, KeyCode::Char(':'));
    keys(&mut app, "theme nope");
    key(&mut app, KeyCode::Enter);
    assert!(
        app.message
            .as_ref()
            .is_some_and(|(m, err)| *err && m.contains("unknown theme"))
    );
    let _ = screen(&mut app, 80, 24);
}

#[test]
fn pause_is_shown_and_sent_to_the_source() {
    let mut app = app_at("steady", 10);
    key(&mut app, KeyCode::Char(':'));
    keys(&mut app, "pause");
    let effects = app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(
        effects,
        vec![ecsdeck::ui::app::Effect::Control(
            ecsdeck::source::Control::Pause(true)
        )]
    );
    assert!(
        screen(&mut app, 160, 48)
            .lines()
            .next()
            .unwrap()
            .contains("PAUSED")
    );
    key(&mut app, KeyCode::Char(':'));
    keys(&mut app, "resume");
    key(&mut app, KeyCode::Enter);
    assert!(
        !screen(&mut app, 160, 48)
            .lines()
            .next()
            .unwrap()
            .contains("PAUSED")
    );
}

#[test]
fn any_terminal_size_renders_without_panic() {
    let mut app = app_at("bad-deploy", 200);
    for view in 0..2 {
        if view == 1 {
            assert!(app.open_service_named("prod/api"));
        }
        for help in [false, true] {
            app.help = help;
            for focus in 0..app.view.panes().len() {
                app.focus = focus;
                for (w, h) in [
                    (1, 1),
                    (2, 3),
                    (10, 4),
                    (20, 6),
                    (40, 10),
                    (79, 23),
                    (119, 31),
                    (120, 32),
                    (300, 100),
                ] {
                    let _ = screen(&mut app, w, h);
                }
            }
        }
    }
}

#[test]
fn findings_view_and_badges() {
    let mut app = app_at("seed-review", 120);
    key(&mut app, KeyCode::Char(':'));
    keys(&mut app, "findings");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Findings);
    insta::assert_snapshot!("findings_160x48", screen(&mut app, 160, 48));
    insta::assert_snapshot!("findings_80x24", screen(&mut app, 80, 24));
    // Filter to the critical ones, open the first one's service.
    key(&mut app, KeyCode::Char('/'));
    keys(&mut app, "critical");
    key(&mut app, KeyCode::Enter);
    assert!(app.visible_findings().iter().all(|f| f.id == "SEC-02"));
    key(&mut app, KeyCode::Esc); // clears the filter
    key(&mut app, KeyCode::Enter);
    assert!(matches!(app.view, View::Service(_)));
    let svc_pane = app
        .view
        .panes()
        .iter()
        .position(|p| *p == Pane::SvcFindings)
        .unwrap();
    app.focus = svc_pane;
    insta::assert_snapshot!("detail_findings_80x24", screen(&mut app, 80, 24));
    // The well-architected service shows no finding.
    assert!(app.open_service_named("prod/checkout"));
    app.focus = svc_pane;
    assert!(screen(&mut app, 80, 24).contains("no finding: every evaluated check passes"));
}

#[test]
fn log_scope_and_stream_keys() {
    let mut app = app_at("steady", 30);
    app.focus = 3;
    assert_eq!(app.focused(), Pane::Logs);
    assert_eq!(app.log_scope(), None, "all services by default");
    key(&mut app, KeyCode::Char('a'));
    let selected = app.selected_row().unwrap().key.clone();
    assert_eq!(
        app.log_scope(),
        Some(app.selected_row().unwrap().id.clone()),
        "a: the selected service"
    );
    assert!(
        app.log_window(50)
            .iter()
            .all(|l| *l.service_key == *selected)
    );
    key(&mut app, KeyCode::Char('s'));
    let stream = app.logs.stream.clone().expect("s picks the first stream");
    assert!(app.log_window(50).iter().all(|l| l.log_stream == stream));
    assert!(screen(&mut app, 160, 48).contains(&*stream));
    // Cycling past the last stream comes back to all streams.
    for _ in 0..100 {
        key(&mut app, KeyCode::Char('s'));
        if app.logs.stream.is_none() {
            break;
        }
    }
    assert!(app.logs.stream.is_none());
    // Paused, new lines don't move the view.
    key(&mut app, KeyCode::Char('f'));
    assert!(!app.logs.follow);
    let before: Vec<u64> = app.log_window(10).iter().map(|l| l.seq).collect();
    let mut sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    sim.run_until(60_000);
    app.apply(Update::Logs(sim.take_logs()));
    let after: Vec<u64> = app.log_window(10).iter().map(|l| l.seq).collect();
    assert_eq!(before, after);
    key(&mut app, KeyCode::Char('G'));
    assert!(app.logs.follow);
    assert_ne!(
        app.log_window(10).iter().map(|l| l.seq).collect::<Vec<_>>(),
        before
    );
}

/// The rollback form: the optional `task_definition` (the operator's own
/// target) shows what empty means, with no empty "[default ]".
#[test]
fn rollback_params_form() {
    let mut rig = Rig::new("bad-deploy", 60);
    select_service(&mut rig.app, "prod/api");
    keys(&mut rig.app, ":runbooks");
    key(&mut rig.app, KeyCode::Enter);
    keys(&mut rig.app, "j");
    key(&mut rig.app, KeyCode::Enter);
    let s = screen(&mut rig.app, 160, 48);
    assert!(s.contains("task_definition"), "{s}");
    assert!(!s.contains("[default ]"), "{s}");
    insta::assert_snapshot!("rollback_params_160x48", s);
}

#[test]
fn runbook_console_run() {
    let mut rig = Rig::new("steady", 300);
    select_service(&mut rig.app, "prod/api");
    keys(&mut rig.app, ":runbooks");
    key(&mut rig.app, KeyCode::Enter);
    assert_eq!(rig.app.view, View::Runbooks);
    insta::assert_snapshot!("runbooks_list_160x48", screen(&mut rig.app, 160, 48));
    insta::assert_snapshot!("runbooks_list_80x24", screen(&mut rig.app, 80, 24));
    keys(&mut rig.app, "jj");
    key(&mut rig.app, KeyCode::Enter);
    key(&mut rig.app, KeyCode::Tab);
    key(&mut rig.app, KeyCode::Tab);
    keys(&mut rig.app, "us-east-1c");
    key(&mut rig.app, KeyCode::Tab);
    keys(&mut rig.app, "5m");
    insta::assert_snapshot!("runbook_params_160x48", screen(&mut rig.app, 160, 48));
    key(&mut rig.app, KeyCode::Enter);
    rig.run(1);
    // Go / no-go needs two named approvals and a note.
    keys(&mut rig.app, "Dashboards open; on-call paged by test page.");
    rig.app
        .on_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT));
    // The same person twice (another case, a stray space) is one approval.
    keys(&mut rig.app, "alice, Alice ");
    rig.app
        .on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    let s = screen(&mut rig.app, 160, 48);
    assert!(s.contains("twice"), "duplicate approvers refused: {s}");
    insta::assert_snapshot!("runbook_checkpoint_duplicate_approvers_160x48", s);
    for _ in 0.."alice, Alice ".len() {
        key(&mut rig.app, KeyCode::Backspace);
    }
    keys(&mut rig.app, "alice, bob");
    insta::assert_snapshot!(
        "runbook_checkpoint_notes_160x48",
        screen(&mut rig.app, 160, 48)
    );
    rig.app
        .on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
    rig.run(1);
    keys(&mut rig.app, "IMPAIR us-east-1");
    insta::assert_snapshot!("runbook_arm_80x24", screen(&mut rig.app, 80, 24));
    keys(&mut rig.app, "c");
    key(&mut rig.app, KeyCode::Enter);
    rig.run(0);
    insta::assert_snapshot!("runbook_confirm_160x48", screen(&mut rig.app, 160, 48));
    keys(&mut rig.app, "y");
    // Recovery is being verified: progress, conditions, markers.
    rig.run(40);
    insta::assert_snapshot!(
        "runbook_verify_progress_160x48",
        screen(&mut rig.app, 160, 48)
    );
    insta::assert_snapshot!(
        "runbook_verify_progress_80x24",
        screen(&mut rig.app, 80, 24)
    );
    let r = rig.app.runbooks.running().unwrap();
    assert!(r.runner.markers.contains_key("inject"));
    assert!(r.runner.journal.events.iter().any(|e| e.kind() == "note"
        && e.detail()["text"] == "Dashboards open; on-call paged by test page."));
    // A run in progress: the first q warns, the second quits.
    key(&mut rig.app, KeyCode::Char('q'));
    assert!(!rig.app.quit);
    assert!(
        rig.app
            .message
            .as_ref()
            .unwrap()
            .0
            .contains("--resume gameday-az-outage-test")
    );
    key(&mut rig.app, KeyCode::Char('q'));
    assert!(rig.app.quit);
}

#[test]
fn aws_status_line_shows_api_rate_and_throttles() {
    let mut sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    sim.run_until(60_000);
    let mut app = App::new(Theme::default_dark());
    for (i, (calls, throttled)) in [(100u64, 0u64), (112, 3)].into_iter().enumerate() {
        sim.run_until(60_000 * (i as i64 + 2));
        let mut snap = sim.snapshot();
        snap.source.kind = "aws".into();
        snap.source.label = "prod-readonly".into();
        snap.source.seed = None;
        snap.source.api_calls = Some(calls);
        snap.source.throttles = Some(throttled);
        // As the AWS source reports it: every kind read just now.
        snap.freshness.clear();
        snap.mark_read(&ecsdeck::model::DATA_KINDS, snap.at);
        app.apply(Update::Snapshot(std::sync::Arc::new(snap)));
        if i == 0 {
            // Under a minute of samples: no extrapolated rate, the calls so far.
            assert_eq!(app.api_calls(), Some(ApiCalls::SoFar(100)));
            let s = screen(&mut app, 160, 48);
            let first = s.lines().next().unwrap();
            assert!(
                first.contains("100 calls so far") && !first.contains("/min"),
                "{first}"
            );
        }
    }
    assert_eq!(app.api_calls(), Some(ApiCalls::PerMin(12.0)));
    let s = screen(&mut app, 160, 48);
    let first = s.lines().next().unwrap();
    assert!(
        first.contains("12 calls/min") && first.contains("3 throttled"),
        "{first}"
    );
    insta::assert_snapshot!("aws_status_line_160x48", s);
}

#[test]
fn interrupted_runs_are_listed_and_resumed() {
    use ecsdeck::runbook::engine::{RunConfig, Runner, bind_params};
    // A run that was cut off after its first steps (an SSH session dropped).
    let data = tempfile::tempdir().unwrap();
    let sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    let snap = sim.snapshot();
    let lib = ecsdeck::runbook::Library::load(&[]);
    let rb = lib.get("gameday-task-crash").unwrap().clone();
    let params = bind_params(
        &rb,
        &[("cluster", "prod"), ("service", "api")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
    .unwrap();
    let cfg = |source: &str| RunConfig {
        write: true,
        operator: "test".into(),
        review: Default::default(),
        data_dir: Some(data.path().to_path_buf()),
        source: source.into(),
    };
    let mut r = Runner::new(
        rb,
        params,
        cfg("aws:prod@us-east-1"),
        "gameday-task-crash-cut".into(),
    )
    .unwrap();
    let _ = r.poll(snap.at, &snap); // steady, snapshot, then waits at go
    drop(r);

    let mut app = App::new(Theme::default_dark());
    app.apply(Update::Snapshot(std::sync::Arc::new(snap)));
    app.runbooks.data_dir = Some(data.path().to_path_buf());
    app.runbooks.source_label = "aws:prod@us-east-1".into();
    app.runbooks.write = true;
    app.set_capabilities(ecsdeck::source::aws::CAPABILITIES);
    keys(&mut app, ":runbooks");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.runbooks.interrupted.len(), 1);
    // Past the shipped runbooks to the interrupted run.
    for _ in 0..ecsdeck::runbook::EMBEDDED.len() {
        key(&mut app, KeyCode::Char('j'));
    }
    insta::assert_snapshot!("runbooks_interrupted_80x24", screen(&mut app, 80, 24));
    key(&mut app, KeyCode::Enter);
    let run = app.runbooks.running().expect("resumed");
    assert_eq!(run.runner.run_id, "gameday-task-crash-cut");
    assert_eq!(run.runner.rb.steps[run.runner.cur.unwrap()].id, "go");
    // Another source's runs are not offered.
    app.runbooks.source_label = "aws:other@eu-west-1".into();
    app.runbooks.scan_interrupted();
    assert!(app.runbooks.interrupted.is_empty());
}

#[test]
fn the_demo_opened_for_want_of_credentials_says_so_on_screen() {
    let sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    let mut app = App::new(Theme::default_dark());
    app.notice = Some("DEMO: no AWS credentials found, simulated data".into());
    app.apply(Update::Snapshot(std::sync::Arc::new(sim.snapshot())));
    let wide = screen(&mut app, 160, 48);
    assert!(
        wide.lines()
            .next()
            .unwrap()
            .contains("no AWS credentials found")
    );
    insta::assert_snapshot!("demo_notice_160x48", wide);
    let narrow = screen(&mut app, 80, 24);
    assert!(
        narrow
            .lines()
            .next()
            .unwrap()
            .contains("DEMO (no AWS creds)")
    );
    insta::assert_snapshot!("demo_notice_80x24", narrow);
}

#[test]
fn aws_status_line_keeps_a_failing_kind_listed_with_its_error() {
    let mut sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
    sim.run_until(120_000);
    let mut snap = sim.snapshot();
    snap.source.kind = "aws".into();
    snap.source.label = "prod-readonly".into();
    snap.source.seed = None;
    snap.source.api_calls = Some(40);
    let at = snap.at;
    snap.freshness.clear();
    for (kind, age_s, error) in [
        (
            "ecs",
            95,
            Some("ecs:ListClusters: dispatch failure: connection refused"),
        ),
        ("ec2", 95, None),
        ("iam", 95, None),
        ("autoscaling", 5, None),
        ("elbv2", 5, None),
        ("cloudwatch", 5, None),
        ("metrics", 5, None),
        ("logs", 5, None),
    ] {
        snap.set_fresh(
            ecsdeck::model::DataKind::parse(kind).unwrap(),
            ecsdeck::model::Freshness {
                updated_at: Some(at - age_s * 1000),
                error: error.map(str::to_string),
            },
        );
    }
    let mut app = App::new(Theme::default_dark());
    app.apply(Update::Snapshot(std::sync::Arc::new(snap)));
    let s = screen(&mut app, 160, 48);
    let first = s.lines().next().unwrap();
    // The failing ECS stays listed, with its age and its error; the kinds
    // read off it (ec2, iam) show that they are as old as it is.
    assert!(first.contains("ecs✗ 95s"), "{first}");
    assert!(
        first.contains("ec2 95s") && first.contains("iam 95s"),
        "{first}"
    );
    assert!(first.contains("ecs: ecs:ListClusters"), "{first}");
    assert!(
        !first.contains("cloudwatch"),
        "fresh kinds are not listed: {first}"
    );
    insta::assert_snapshot!("aws_status_line_ecs_down_160x48", s);
}

#[test]
fn findings_with_unread_inputs_show_bounded_scores_and_partial_panes() {
    let mut sim = Simulator::new(Scenario::builtin("seed-review").unwrap(), None);
    sim.run_until(120_000);
    let mut snap = sim.snapshot();
    snap.source.kind = "aws".into();
    snap.source.label = "audit".into();
    snap.source.seed = None;
    let at = snap.at;
    snap.freshness.clear();
    for kind in [
        "ecs",
        "ec2",
        "iam",
        "autoscaling",
        "elbv2",
        "cloudwatch",
        "metrics",
        "logs",
    ] {
        snap.set_fresh(
            ecsdeck::model::DataKind::parse(kind).unwrap(),
            ecsdeck::model::Freshness {
                updated_at: Some(at),
                error: (kind == "ecs").then(|| {
                    "ecs:DescribeTaskDefinition: AccessDeniedException: User: arn:aws:iam::1:user/ro is not authorized (2 task definitions not read)".to_string()
                }),
            },
        );
    }
    // Every revision was denied.
    let arns: Vec<String> = snap.task_definitions.keys().cloned().collect();
    let unread = std::sync::Arc::make_mut(&mut snap.unread);
    for arn in arns {
        unread.insert(
            arn,
            "ecs:DescribeTaskDefinition: AccessDeniedException: not authorized".into(),
        );
    }
    std::sync::Arc::make_mut(&mut snap.task_definitions).clear();
    let mut app = App::new(Theme::default_dark());
    app.apply(Update::Snapshot(std::sync::Arc::new(snap)));
    let fleet = screen(&mut app, 160, 48);
    // The Services pane says its data was partly read, without hiding its title.
    let border = fleet.lines().nth(1).unwrap();
    assert!(
        border.contains(" Services ") && border.contains("partly read"),
        "{border}"
    );
    insta::assert_snapshot!("fleet_unread_task_definitions_160x48", fleet);
    keys(&mut app, ":findings");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Findings);
    let s = screen(&mut app, 160, 48);
    assert!(s.contains("≤"), "bounded scores: {s}");
    insta::assert_snapshot!("findings_unread_task_definitions_160x48", s);
    insta::assert_snapshot!(
        "findings_unread_task_definitions_80x24",
        screen(&mut app, 80, 24)
    );
}

#[test]
fn a_command_the_source_cannot_honour_is_refused_on_screen() {
    // AWS has no clock to pause: `:pause` says so and PAUSED is not shown.
    let mut app = app_at("steady", 10);
    app.set_capabilities(ecsdeck::source::aws::CAPABILITIES);
    keys(&mut app, ":pause");
    let effects = app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(effects, vec![]);
    let s = screen(&mut app, 160, 48);
    assert!(!s.lines().next().unwrap().contains("PAUSED"));
    insta::assert_snapshot!("command_refused_pause_160x48", s);
}

#[test]
fn tab_completes_a_command_name() {
    let mut app = app_at("steady", 10);
    keys(&mut app, ":r");
    insta::assert_snapshot!("command_candidates_80x24", screen(&mut app, 80, 24));
    keys(&mut app, "unb");
    key(&mut app, KeyCode::Tab);
    assert_eq!(
        app.input,
        ecsdeck::ui::app::Input::Command("runbooks".into())
    );
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.view, View::Runbooks);
}

/// Between two ordinary AWS refreshes (ECS every 10 s) the source is not
/// "silent"; past twice its heartbeat it is, and the data age keeps growing
/// either way (it is never younger than the truth).
#[test]
fn source_silent_only_past_twice_the_heartbeat() {
    let mut app = app_at("steady", 5);
    app.silent_after = 24;
    app.silent_secs = 12;
    let s = screen(&mut app, 160, 48);
    let status = s.lines().next().unwrap_or_default();
    assert!(!status.contains("source silent"), "{status}");
    assert!(status.contains("data 12s"), "{status}");
    app.silent_secs = 25;
    let s = screen(&mut app, 160, 48);
    let status = s.lines().next().unwrap_or_default();
    assert!(status.contains("(source silent 25s)"), "{status}");
    assert!(status.contains("data 25s"), "{status}");
}

/// Twins in two regions and two accounts: the account and region columns
/// appear (wide), the compact list tells them apart, and each service view
/// is its own.
#[test]
fn twins_in_two_accounts_and_two_regions() {
    let mut app = app_at("twins", 240);
    let api: Vec<_> = app.rows.iter().filter(|r| r.key == "prod/api").collect();
    assert_eq!(api.len(), 3, "three prod/api twins");
    insta::assert_snapshot!("fleet_twins_160x48", screen(&mut app, 160, 48));
    insta::assert_snapshot!("fleet_twins_80x24", screen(&mut app, 80, 24));
    let west = app
        .rows
        .iter()
        .find(|r| r.key == "prod/api" && r.region == "us-west-2")
        .unwrap()
        .id
        .clone();
    app.open_service(west.clone());
    // Its logs are its own, not the us-east-1 twin's.
    let lines = app.log_window(200);
    assert!(!lines.is_empty(), "the standby logs too");
    assert!(lines.iter().all(|l| l.service.as_ref() == Some(&west)));
    let s = screen(&mut app, 160, 48);
    assert!(s.contains("us-west-2"), "{s}");
    assert!(
        !s.contains("prod-api-cpu-high"),
        "the east alarm is not the west twin's\n{s}"
    );
    // The logs pane's title names the twin's place.
    assert!(
        s.contains("111122223333 us-west-2 prod/api"),
        "logs title names the place\n{s}"
    );
    insta::assert_snapshot!("service_twin_west_160x48", s);
}

/// `:ctx` on AWS: the picker over the profiles of the user's AWS files and
/// the regions (the current set checked, staging and us-west-2 added, the
/// cursor on us-west-2), then the switch and the set on the status line
/// (in full at 160 columns, shortened at 80).
#[tokio::test]
async fn ctx_picker_and_the_set_on_the_status_line() {
    use ecsdeck::source::context::ContextSet;
    use ecsdeck::source::context::FleetBuilder;
    let set = |p: &[&str], r: &[&str]| ContextSet {
        profiles: p.iter().map(|s| s.to_string()).collect(),
        regions: r.iter().map(|s| s.to_string()).collect(),
    };
    let builder = FakeContexts::new(
        &[
            ("ci-readonly", None),
            ("default", Some("us-east-1")),
            ("prod", Some("us-east-1")),
            ("sandbox", Some("eu-west-1")),
            ("staging", Some("us-west-2")),
        ],
        // What the new set reads: two accounts, two regions.
        as_aws("twins", 240, "us-east-1,us-west-2"),
    );
    // The console opened on one profile in one region.
    let first = set(&["prod"], &["us-east-1"]);
    let mut source = builder.connect(&first).await;
    let mut app = App::new(Theme::default_dark());
    app.set_capabilities(source.capabilities);
    app.apply(Update::Snapshot(std::sync::Arc::new(as_aws(
        "steady",
        240,
        "us-east-1",
    ))));
    app.context = Some(first);
    app.fleet_builder = Some(Box::new(builder));
    let s = screen(&mut app, 160, 48);
    assert!(
        s.lines().next().unwrap().contains("aws:prod × us-east-1"),
        "{s}"
    );

    keys(&mut app, ":ctx");
    key(&mut app, KeyCode::Enter);
    assert!(app.ctx_picker.is_some(), "{:?}", app.message);
    // The cursor starts on prod (checked); two down is staging.
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Tab);
    keys(&mut app, "jjj");
    key(&mut app, KeyCode::Char(' '));
    let want = set(&["prod", "staging"], &["us-east-1", "us-west-2"]);
    assert_eq!(app.ctx_picker.as_ref().unwrap().set(), want);
    let wide = screen(&mut app, 160, 48);
    assert!(wide.contains("▶ [x] us-west-2"), "{wide}");
    insta::assert_snapshot!("ctx_picker_160x48", wide);
    let narrow = screen(&mut app, 80, 24);
    assert!(narrow.contains("▶ [x] us-west-2"), "{narrow}");
    insta::assert_snapshot!("ctx_picker_80x24", narrow);

    let effects = app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(
        effects,
        vec![ecsdeck::ui::app::Effect::Switch(want.clone())]
    );
    // Connecting (off the event loop in the console): the old set is read
    // and named on the status line until the new one is ready.
    let (pending, connect) =
        ecsdeck::ui::ctx::begin_switch(&mut app, want).expect("the set can be read");
    let narrow = screen(&mut app, 80, 24);
    assert!(
        narrow
            .lines()
            .next()
            .unwrap()
            .contains("aws:prod × us-east-1"),
        "{narrow}"
    );
    insta::assert_snapshot!("ctx_connecting_80x24", narrow);
    let next = connect.await;
    assert!(ecsdeck::ui::ctx::finish_switch(
        &mut app,
        &mut source,
        pending,
        next
    ));
    let wide = screen(&mut app, 160, 48);
    assert!(
        wide.lines()
            .next()
            .unwrap()
            .contains("aws:prod,staging × us-east-1,us-west-2"),
        "{wide}"
    );
    insta::assert_snapshot!("ctx_status_line_two_profiles_two_regions_160x48", wide);
    let narrow = screen(&mut app, 80, 24);
    assert!(
        narrow
            .lines()
            .next()
            .unwrap()
            .contains("aws:prod+1 × us-east-1+1"),
        "{narrow}"
    );
    insta::assert_snapshot!("ctx_status_line_two_profiles_two_regions_80x24", narrow);
}

/// Profile names come from the user's files: an escape sequence in one is
/// removed before the picker shows it.
#[test]
fn a_hostile_profile_name_is_sanitized_in_the_picker() {
    let mut app = App::new(Theme::default_dark());
    app.set_capabilities(ecsdeck::source::aws::CAPABILITIES);
    app.apply(Update::Snapshot(std::sync::Arc::new(as_aws(
        "steady",
        60,
        "us-east-1",
    ))));
    app.fleet_builder = Some(Box::new(FakeContexts::new(
        &[("evil\u{1b}]52;c;aGk=\u{7}\u{1b}[2J", None), ("prod", None)],
        as_aws("steady", 60, "us-east-1"),
    )));
    app.run_command("ctx");
    assert!(app.ctx_picker.is_some());
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    term.draw(|f| draw(f, &app)).unwrap();
    let mut text = String::new();
    for cell in term.backend().buffer().content() {
        let sym = cell.symbol();
        assert!(
            !sym.chars().any(|c| c.is_control()),
            "control char {sym:?} on screen"
        );
        text.push_str(sym);
    }
    assert!(text.contains("[ ] evil"), "the profile is listed");
}

/// An AWS file that is a FIFO: the picker says so on its first lines (only
/// the set being read is offered), Enter keeps it open saying why, and a
/// switch refused later (the file swapped meanwhile) keeps the old set.
#[tokio::test]
async fn ctx_with_an_unreadable_aws_file_keeps_the_old_set() {
    use ecsdeck::source::context::{ContextSet, FleetBuilder};
    let why =
        "AWS config file /home/me/.aws/config: not a regular file (a FIFO); refusing to read it";
    let mut builder = FakeContexts::new(&[], as_aws("steady", 60, "us-east-1"));
    builder.refuse = Some(why.into());
    let first = ContextSet {
        profiles: vec!["prod".into()],
        regions: vec!["us-east-1".into()],
    };
    let mut source = FakeContexts::new(&[], as_aws("steady", 60, "us-east-1"))
        .connect(&first)
        .await;
    let mut app = App::new(Theme::default_dark());
    app.set_capabilities(source.capabilities);
    app.apply(Update::Snapshot(source.snapshots.borrow().clone()));
    app.context = Some(first.clone());
    app.fleet_builder = Some(Box::new(builder));
    app.run_command("ctx");
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("not a regular file (a FIFO);"), "{s}");
    assert!(s.contains("refusing to read it"), "{s}");
    insta::assert_snapshot!("ctx_picker_aws_file_refused_80x24", s);
    // Enter: the set cannot be read now; the picker says why and stays.
    let effects = app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(effects, vec![], "no switch");
    let p = app.ctx_picker.as_ref().expect("the picker stays open");
    assert_eq!(
        p.error.as_deref(),
        Some(format!("{why}; still reading prod × us-east-1").as_str())
    );
    let s = screen(&mut app, 80, 24);
    assert!(s.contains("still reading prod × us-east-1"), "{s}");
    insta::assert_snapshot!("ctx_picker_switch_refused_80x24", s);
    key(&mut app, KeyCode::Esc);
    assert!(app.ctx_picker.is_none());
    // The file turned into a FIFO after Enter: the switch itself refuses.
    assert!(!ecsdeck::ui::ctx::switch(&mut app, &mut source, first.clone()).await);
    assert_eq!(app.context.as_ref(), Some(&first), "the old set is kept");
    assert!(!app.rows.is_empty(), "and its data");
    let s = screen(&mut app, 160, 48);
    assert!(
        s.lines()
            .last()
            .unwrap()
            .contains(&format!(":ctx: {why}; still reading prod × us-east-1")),
        "{s}"
    );
    insta::assert_snapshot!("ctx_switch_refused_160x48", s);
}
