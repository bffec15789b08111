//! One file per pane. Each `render` reads `&App` only; every string that came
//! from a source goes through `sanitize` (see [`safe`]) before it is a `Span`.

pub mod detail;
pub mod findings;
pub mod fleet;
pub mod logs;
pub mod services;

use std::borrow::Cow;

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use crate::model::{EpochMs, ServiceHealth};
use crate::sanitize::sanitize;
use crate::ui::app::App;
use crate::ui::theme::Theme;

/// Untrusted text → display text. The one door from source data to spans.
pub fn safe(s: &str) -> Cow<'_, str> {
    sanitize(s)
}

/// A pane's frame: title, focus highlight, and an optional right-hand note
/// (filter, counts, age).
pub fn block<'a>(title: &'a str, note: Option<String>, focused: bool, theme: &Theme) -> Block<'a> {
    let mut b = Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(theme.border(focused))
        .title(Span::styled(format!(" {title} "), theme.title()));
    if let Some(n) = note {
        b = b.title(Line::from(Span::styled(format!(" {n} "), theme.dim())).right_aligned());
    }
    b
}

/// The source kinds (freshness keys) a pane's data comes from.
pub fn pane_kinds(pane: crate::ui::app::Pane) -> &'static [&'static str] {
    use crate::ui::app::Pane;
    match pane {
        Pane::Services | Pane::Events => &["ecs"],
        Pane::Alarms | Pane::SvcAlarms => &["cloudwatch"],
        Pane::Logs => &["logs"],
        Pane::Metrics => &["metrics"],
        Pane::Rollout => &["ecs", "autoscaling"],
        Pane::Tasks => &["ecs", "elbv2", "ec2"],
        Pane::Timeline | Pane::Findings | Pane::SvcFindings | Pane::Runbook => &[],
    }
}

/// On AWS, how old a pane's data is ("12s"), or its error when the API that
/// feeds it fails (the pane degrades, the app does not). None on the demo.
pub fn age_note(app: &App, pane: crate::ui::app::Pane) -> Option<String> {
    let snap = &app.store.snapshot;
    if snap.source.kind != "aws" {
        return None;
    }
    let mut age: Option<i64> = None;
    let mut never = false;
    for kind in pane_kinds(pane) {
        for (k, f) in &snap.freshness {
            if k != kind && !k.strip_prefix(kind).is_some_and(|r| r.starts_with('@')) {
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
pub fn with_age(app: &App, pane: crate::ui::app::Pane, note: Option<String>) -> Option<String> {
    match (note, age_note(app, pane)) {
        (Some(n), Some(a)) if !n.is_empty() => Some(format!("{n} · {a}")),
        (_, Some(a)) => Some(a),
        (n, None) => n,
    }
}

/// `HH:MM:SS` (UTC) of an epoch-millisecond time.
pub fn hhmmss(ms: EpochMs) -> String {
    let secs = ms.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

/// A compact duration: `42s`, `3m`, `2h05m`, `3d`.
pub fn short_duration(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h{:02}m", s / 3600, (s / 60) % 60),
        _ => format!("{}d", s / 86_400),
    }
}

/// The symbol that stands for a health state.
pub fn health_symbol(h: ServiceHealth) -> &'static str {
    match h {
        ServiceHealth::Steady => "●",
        ServiceHealth::Deploying => "◐",
        ServiceHealth::Degraded => "▲",
        ServiceHealth::Failed => "✖",
    }
}

/// Symbol + word for a service's health (never colour alone).
pub fn health_badge(h: ServiceHealth, theme: &Theme) -> Span<'static> {
    let style = match h {
        ServiceHealth::Steady => theme.ok(),
        ServiceHealth::Deploying => theme.info(),
        ServiceHealth::Degraded => theme.warn(),
        ServiceHealth::Failed => theme.bad(),
    };
    Span::styled(format!("{} {}", health_symbol(h), h.as_str()), style)
}

/// Style for an alarm state word.
pub fn alarm_style(state: crate::model::AlarmState, theme: &Theme) -> Style {
    match state {
        crate::model::AlarmState::Alarm => theme.bad(),
        crate::model::AlarmState::InsufficientData => theme.dim(),
        crate::model::AlarmState::Ok => theme.ok(),
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
    let core = |k: &str| k == "sim" || k == "ecs" || k.starts_with("ecs@");
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

/// Clamp a scroll offset so that `len` items fill `height` rows without
/// scrolling past the end.
pub fn clamp_scroll(offset: usize, len: usize, height: usize) -> usize {
    offset.min(len.saturating_sub(height))
}

/// The visible window of a selectable list: first index such that `selected`
/// is on screen, remembering the previous offset so the list doesn't jump.
pub fn list_offset(app: &App, pane: crate::ui::app::Pane, selected: usize, height: usize) -> usize {
    let mut offsets = app.offsets.borrow_mut();
    let prev = offsets.get(&pane).copied().unwrap_or(0);
    let height = height.max(1);
    let off = if selected < prev {
        selected
    } else if selected >= prev + height {
        selected + 1 - height
    } else {
        prev
    };
    offsets.insert(pane, off);
    off
}

/// Inner rectangle of a bordered block.
pub fn inner(area: Rect) -> Rect {
    Block::default().borders(Borders::ALL).inner(area)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::model::{FleetSnapshot, Freshness};
    use crate::source::Update;
    use crate::ui::app::App;
    use crate::ui::theme::Theme;

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
        snap.freshness.insert("ecs".into(), fresh(2));
        snap.freshness.insert("ecs@us-west-2".into(), fresh(4));
        snap.freshness.insert("logs".into(), fresh(200));
        let mut app = App::new(Theme::default_dark());
        app.apply(Update::Snapshot(Arc::new(snap.clone())));
        assert_eq!(super::data_age_secs(&app), 4, "the older ECS region");
        // Log groups are read every 5 minutes: 200 s is not stale for them,
        // 20 s is for ECS (read every 10 s) only past 30 s.
        let iv = crate::source::aws::Intervals::default();
        assert!(200 <= iv.stale_after_secs("logs"));
        assert_eq!(iv.stale_after_secs("ecs@us-west-2"), 30);
        assert_eq!(iv.stale_after_secs("metrics"), 180);
        // Without ECS (the demo's "sim", or nothing core): the oldest.
        snap.freshness.clear();
        snap.freshness.insert("logs".into(), fresh(50));
        app.apply(Update::Snapshot(Arc::new(snap)));
        assert_eq!(super::data_age_secs(&app), 50);
    }
}
