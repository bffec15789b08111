//! The panes. Each implements [`PaneView`]: its title, its keys (a keymap
//! context, which feeds help and the footer), and a render from an
//! immutable draw context ([`Cx`]). Its state (cursor, filter, the first
//! row shown) is kept by the app per pane; a render reads it and returns
//! what the next frame needs, never mutating. Adding a pane: one impl, and
//! one line in [`of`]. Every string that came from a source goes through
//! `sanitize` (see [`safe`]) before it is a `Span`.

pub mod detail;
pub mod events;
pub mod findings;
pub mod fleet;
pub mod logs;
pub mod metrics;
pub mod rollout;
pub mod runbook;
pub mod services;
pub mod svc_alarms;
pub mod tasks;

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::ui::keymap::Context;
use crate::ui::view::{Pane, View};

use crate::ui::app::App;
pub use crate::ui::widgets::{
    alarm_style, block, clamp_scroll, health_badge, health_symbol, hhmmss, inner, safe,
    short_duration,
};

/// What a pane draws from: the app, read only, and where it is drawn.
pub struct Cx<'a> {
    pub app: &'a App,
    pub focused: bool,
    /// 80x24: the pane fills the body under a tab bar.
    pub compact: bool,
}

impl Cx<'_> {
    /// The open service (the service view).
    pub fn service_key(&self) -> Option<&crate::model::ServiceId> {
        match &self.app.view {
            View::Service(k) => Some(k),
            _ => None,
        }
    }
}

/// One pane of the console.
pub trait PaneView: Sync {
    fn id(&self) -> Pane;
    fn title(&self) -> &'static str;
    /// The short name on the tab bar at 80 columns.
    fn tab(&self) -> &'static str {
        self.title()
    }
    /// The keymap context of its keys (help and the footer list them).
    fn keys(&self) -> Context {
        self.id().context()
    }
    /// The data kinds (freshness keys) it shows; their age and errors go
    /// on its border.
    fn kinds(&self) -> &'static [&'static str] {
        &[]
    }
    /// Draw the pane. A list returns the first row it showed, which the
    /// next frame starts from.
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize>;
}

/// The registry: every pane, by id.
pub fn of(pane: Pane) -> &'static dyn PaneView {
    match pane {
        Pane::Services => &services::ServicesPane,
        Pane::Alarms => &fleet::AlarmsPane,
        Pane::Timeline => &fleet::TimelinePane,
        Pane::Logs => &logs::LogsPane,
        Pane::Rollout => &rollout::RolloutPane,
        Pane::Tasks => &tasks::TasksPane,
        Pane::Metrics => &metrics::MetricsPane,
        Pane::SvcAlarms => &svc_alarms::SvcAlarmsPane,
        Pane::Events => &events::EventsPane,
        Pane::Findings => &findings::FindingsPane,
        Pane::SvcFindings => &findings::SvcFindingsPane,
        Pane::Runbook => &runbook::RunbookPane,
    }
}

/// The source kinds (freshness keys) a pane's data comes from.
pub fn pane_kinds(pane: Pane) -> &'static [&'static str] {
    of(pane).kinds()
}

/// On AWS, how old a pane's data is ("12s"), or its error when the API that
/// feeds it fails (the pane degrades, the app does not). None on the demo.
pub fn age_note(app: &App, pane: Pane) -> Option<String> {
    let snap = &app.store.snapshot;
    if snap.source.kind != "aws" {
        return None;
    }
    let mut age: Option<i64> = None;
    let mut never = false;
    for kind in pane_kinds(pane) {
        for (k, f) in &snap.freshness {
            if k.kind.as_str() != *kind {
                continue;
            }
            if let Some(e) = &f.error {
                // Short: the note shares the border with the pane's title
                // (the status line has the whole message).
                let e = safe(e);
                let short = if e.chars().count() > 40 {
                    e.chars().take(39).collect::<String>() + "…"
                } else {
                    e.to_string()
                };
                return Some(match f.updated_at {
                    None => format!("⚠ not read: {short}"),
                    Some(u) => format!(
                        "{}s ⚠ partly read: {short}",
                        ((snap.at - u).max(0) / 1000) as u64 + app.silent_secs
                    ),
                });
            }
            match f.updated_at {
                Some(u) => age = Some(age.unwrap_or(0).max(snap.at - u)),
                None => never = true,
            }
        }
    }
    if never {
        return Some("not read yet".into());
    }
    age.map(|a| format!("{}s", (a.max(0) / 1000) as u64 + app.silent_secs))
}

/// `note · age` (either may be missing).
pub fn with_age(app: &App, pane: Pane, note: Option<String>) -> Option<String> {
    match (note, age_note(app, pane)) {
        (Some(n), Some(a)) if !n.is_empty() => Some(format!("{n} · {a}")),
        (_, Some(a)) => Some(a),
        (n, None) => n,
    }
}

/// Age of the data for a service (or the whole fleet), in seconds: the
/// source's clock minus the last successful refresh, plus any real time the
/// source has been silent.
pub fn data_age_secs(app: &App) -> u64 {
    // The fleet view's age: the simulator's, or ECS's (every region's); the
    // slower kinds (metrics every minute, log groups every 5 min) show their
    // own ages beside it instead of making the whole view look stale.
    let snap = &app.store.snapshot;
    let core = |k: &crate::model::FreshKey| {
        matches!(
            k.kind,
            crate::model::DataKind::Sim | crate::model::DataKind::Ecs
        )
    };
    let updated = |f: &crate::model::Freshness| f.updated_at;
    let oldest_core = snap
        .freshness
        .iter()
        .filter(|(k, _)| core(k))
        .filter_map(|(_, f)| updated(f))
        .min();
    let oldest = oldest_core
        .or_else(|| snap.freshness.values().filter_map(updated).min())
        .unwrap_or(snap.at);
    ((snap.at - oldest).max(0) / 1000) as u64 + app.silent_secs
}

/// The visible window of a selectable list: first index such that `selected`
/// is on screen, starting from the last frame's so the list doesn't jump.
pub fn list_offset(app: &App, pane: Pane, selected: usize, height: usize) -> usize {
    let prev = app.offsets.get(&pane).copied().unwrap_or(0);
    let height = height.max(1);
    if selected < prev {
        selected
    } else if selected >= prev + height {
        selected + 1 - height
    } else {
        prev
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::model::{FleetSnapshot, Freshness};
    use crate::source::Update;
    use crate::ui::app::App;
    use crate::ui::theme::Theme;

    #[test]
    fn a_list_keeps_its_window_between_frames() {
        use crate::ui::view::{Drawn, Pane};
        let mut app = App::new(Theme::default_dark());
        app.offsets.insert(Pane::Alarms, 5);
        // Inside the window: kept; above or below it: the window follows.
        assert_eq!(super::list_offset(&app, Pane::Alarms, 7, 4), 5);
        assert_eq!(super::list_offset(&app, Pane::Alarms, 3, 4), 3);
        assert_eq!(super::list_offset(&app, Pane::Alarms, 12, 4), 9);
        assert_eq!(app.offsets[&Pane::Alarms], 5, "drawing changes nothing");
        app.remember(Drawn {
            list_offsets: vec![(Pane::Alarms, 9)],
        });
        assert_eq!(app.offsets[&Pane::Alarms], 9);
    }

    #[test]
    fn every_pane_is_registered_under_its_own_id() {
        use crate::ui::view::View;
        for view in [
            View::Fleet,
            View::Service(crate::model::ServiceId::new("", "", "", "")),
            View::Findings,
            View::Runbooks,
        ] {
            for p in view.panes() {
                assert_eq!(super::of(*p).id(), *p);
                assert!(!super::of(*p).title().is_empty());
            }
        }
    }

    #[test]
    fn the_fleet_age_is_ecs_not_the_slowest_kind() {
        let at = 1_000_000;
        let fresh = |secs: i64| Freshness {
            updated_at: Some(at - secs * 1000),
            error: None,
        };
        let mut snap = FleetSnapshot {
            at,
            ..Default::default()
        };
        snap.source.kind = "aws".into();
        snap.set_fresh(crate::model::DataKind::Ecs, fresh(2));
        snap.freshness.insert(
            crate::model::FreshKey::new(crate::model::DataKind::Ecs, "", "us-west-2"),
            fresh(4),
        );
        snap.set_fresh(crate::model::DataKind::Logs, fresh(200));
        let mut app = App::new(Theme::default_dark());
        app.apply(Update::Snapshot(Arc::new(snap.clone())));
        assert_eq!(super::data_age_secs(&app), 4, "the older ECS region");
        // Log groups are read every 5 minutes: 200 s is not stale for them,
        // 20 s is for ECS (read every 10 s) only past 30 s.
        let iv = crate::source::aws::Intervals::default();
        assert!(200 <= iv.stale_after_secs(crate::model::DataKind::Logs));
        assert_eq!(iv.stale_after_secs(crate::model::DataKind::Ecs), 30);
        assert_eq!(iv.stale_after_secs(crate::model::DataKind::Metrics), 180);
        // Without ECS (the demo's "sim", or nothing core): the oldest.
        snap.freshness.clear();
        snap.set_fresh(crate::model::DataKind::Logs, fresh(50));
        app.apply(Update::Snapshot(Arc::new(snap)));
        assert_eq!(super::data_age_secs(&app), 50);
    }
}
