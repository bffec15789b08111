//! What the screen tests share: a console fed by the simulator, a frame
//! drawn as the console draws it, keys, and a rig that answers a console
//! run's calls (included by `tests/ui_snapshots.rs`).

use ecsdeck::source::Update;
use ecsdeck::source::sim::{Simulator, scenario::Scenario};
use ecsdeck::ui::app::{App, Pane};
use ecsdeck::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Run `scenario` to `secs` simulated seconds, feeding the app every simulated
/// second as the live console does (so the timeline is built the same way).
pub fn app_at(scenario: &str, secs: i64) -> App {
    let mut sim = Simulator::new(Scenario::builtin(scenario).expect("builtin scenario"), None);
    let mut app = App::new(Theme::default_dark());
    app.set_capabilities(ecsdeck::source::sim::CAPABILITIES);
    app.apply(Update::Snapshot(std::sync::Arc::new(sim.snapshot())));
    for t in 1..=secs {
        sim.run_until(t * 1000);
        app.apply(Update::Snapshot(std::sync::Arc::new(sim.snapshot())));
        app.apply(Update::Logs(sim.take_logs()));
    }
    app
}

/// Draw a frame as the console does: what it learned (where each list's
/// window starts) is kept for the next one.
pub fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    let mut drawn = ecsdeck::ui::app::Drawn::default();
    term.draw(|f| drawn = ecsdeck::ui::draw::frame(f, app))
        .unwrap();
    app.remember(drawn);
    term.backend().to_string()
}

pub fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

pub fn keys(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

pub fn select_service(app: &mut App, key_: &str) {
    let pos = app
        .visible_rows()
        .iter()
        .position(|r| r.key == key_)
        .expect("service exists");
    app.cursor.insert(Pane::Services, pos);
}

/// A console run of `gameday-az-outage` on the simulator: the calls the app
/// sends go to the simulator as the live source does it.
pub struct Rig {
    pub sim: Simulator,
    pub app: App,
}

impl Rig {
    pub fn new(scenario: &str, secs: i64) -> Rig {
        let mut sim = Simulator::new(Scenario::builtin(scenario).unwrap(), None);
        sim.run_until(secs * 1000);
        let mut app = App::new(Theme::default_dark());
        app.set_capabilities(ecsdeck::source::sim::CAPABILITIES);
        app.apply(Update::Snapshot(std::sync::Arc::new(sim.snapshot())));
        app.runbooks.write = true;
        app.runbooks.fixed_run_id = Some("gameday-az-outage-test".into());
        app.runbooks.source_label = "demo:test".into();
        Rig { sim, app }
    }

    /// Let `secs` simulated seconds pass, one snapshot a second, answering calls.
    pub fn run(&mut self, secs: i64) {
        for _ in 0..=secs {
            for e in self.app.drive_runbook() {
                let ecsdeck::ui::app::Effect::Control(ecsdeck::source::Control::Apply(id, call)) =
                    e
                else {
                    continue;
                };
                let res = ecsdeck::runbook::drive::apply_to_sim(&mut self.sim, &call);
                self.app.apply(Update::CallResult(id, res));
            }
            self.sim.step(1000);
            self.app
                .apply(Update::Snapshot(std::sync::Arc::new(self.sim.snapshot())));
        }
    }
}

/// `:ctx` without AWS: a builder whose profiles are given (as the user's
/// AWS files would name them) and whose sources hand out `snapshot` once.
pub struct FakeContexts {
    pub profiles: Vec<ecsdeck::source::context::KnownProfile>,
    pub snapshot: std::sync::Arc<ecsdeck::model::FleetSnapshot>,
    /// The files could not be read (one line): listing and switching fail.
    pub refuse: Option<String>,
}

impl FakeContexts {
    /// Profiles by name, with the region each names (if any).
    pub fn new(
        profiles: &[(&str, Option<&str>)],
        snapshot: ecsdeck::model::FleetSnapshot,
    ) -> FakeContexts {
        FakeContexts {
            profiles: profiles
                .iter()
                .map(|(n, r)| ecsdeck::source::context::KnownProfile {
                    name: n.to_string(),
                    region: r.map(str::to_string),
                })
                .collect(),
            snapshot: std::sync::Arc::new(snapshot),
            refuse: None,
        }
    }
}

impl ecsdeck::source::context::FleetBuilder for FakeContexts {
    fn profiles(&self) -> Result<Vec<ecsdeck::source::context::KnownProfile>, String> {
        match &self.refuse {
            Some(e) => Err(e.clone()),
            None => Ok(self.profiles.clone()),
        }
    }

    fn check(&self, _set: &ecsdeck::source::context::ContextSet) -> Result<(), String> {
        self.refuse.clone().map_or(Ok(()), Err)
    }

    fn connect(
        &self,
        _set: &ecsdeck::source::context::ContextSet,
    ) -> futures::future::BoxFuture<'static, ecsdeck::source::SourceHandle> {
        let (_tx, updates) = tokio::sync::mpsc::channel(1);
        let (_snap_tx, snapshots) = tokio::sync::watch::channel(self.snapshot.clone());
        let (control, _control_rx) = tokio::sync::mpsc::channel(4);
        let h = ecsdeck::source::SourceHandle {
            updates,
            snapshots,
            control,
            capabilities: ecsdeck::source::aws::CAPABILITIES,
            heartbeat: std::time::Duration::from_secs(11),
        };
        Box::pin(async move { h })
    }

    fn source_label(&self, set: &ecsdeck::source::context::ContextSet) -> String {
        format!("fake:{}", set.label(usize::MAX))
    }
}

/// A scenario's fleet at `secs` as the AWS source reports it (profile
/// `prod`, the regions given): every kind read just now.
pub fn as_aws(scenario: &str, secs: i64, regions: &str) -> ecsdeck::model::FleetSnapshot {
    let mut sim = Simulator::new(Scenario::builtin(scenario).unwrap(), None);
    sim.run_until(secs * 1000);
    let mut snap = sim.snapshot();
    snap.source.kind = "aws".into();
    snap.source.label = "prod".into();
    snap.source.region = regions.into();
    snap.source.seed = None;
    snap.source.speed = None;
    snap.source.api_calls = Some(40);
    snap.freshness.clear();
    snap.mark_read(&ecsdeck::model::DATA_KINDS, snap.at);
    snap
}
