//! Small drawing helpers shared by the panes, the runbook view and the
//! overlays: the one door from untrusted text to spans, a pane's frame,
//! times, health symbols. They know nothing of the app.

use std::borrow::Cow;

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use crate::model::{EpochMs, ServiceHealth};
use crate::sanitize::sanitize;
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

/// Clamp a scroll offset so that `len` items fill `height` rows without
/// scrolling past the end.
pub fn clamp_scroll(offset: usize, len: usize, height: usize) -> usize {
    offset.min(len.saturating_sub(height))
}

/// Inner rectangle of a bordered block.
pub fn inner(area: Rect) -> Rect {
    Block::default().borders(Borders::ALL).inner(area)
}
