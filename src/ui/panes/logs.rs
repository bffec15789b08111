//! The log tail: follow / pause with scrollback, regex filter, wrap, stream
//! choice. Lines were sanitized once when they entered the store.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::{Cx, PaneView};
use super::{block, hhmmss, inner, safe, with_age};
use crate::store::StoredLine;
use crate::ui::app::{App, Pane};
use crate::ui::theme::Theme;

pub fn render(f: &mut Frame, area: Rect, app: &App, focused: bool) {
    let theme = &app.theme;
    let scope = app.log_scope();
    let mut note = vec![
        scope.as_ref().map_or_else(
            || "all services".to_string(),
            |s| {
                // Twins: the title names the place the lines are from.
                let snap = &app.store.snapshot;
                let place = crate::model::FleetSnapshot::place_prefix(
                    (snap.spans_accounts(), snap.spans_regions()),
                    &s.account,
                    &s.region,
                );
                safe(&format!("{place}{}", s.short())).into_owned()
            },
        ),
        app.logs
            .stream
            .as_deref()
            .map_or_else(|| "all streams".to_string(), |s| safe(s).into_owned()),
    ];
    if let Some(flt) = app.filters.get(&Pane::Logs) {
        note.push(format!(
            "/{}{}",
            safe(&flt.text),
            if flt.literal { " (literal)" } else { "" }
        ));
    }
    if app.logs.wrap {
        note.push("wrap".into());
    }
    note.push(if app.logs.follow {
        "following".into()
    } else {
        "PAUSED (G follows)".into()
    });
    let buf = &app.store.logs;
    if buf.evicted > 0 {
        note.push(format!("{} kept", buf.len()));
    }
    let b = block(
        "Logs",
        with_age(app, Pane::Logs, Some(note.join(" · "))),
        focused,
        theme,
    );
    let area_inner = inner(area);
    let height = area_inner.height as usize;
    let width = area_inner.width.max(1) as usize;
    if height == 0 {
        f.render_widget(b, area);
        return;
    }
    let window = app.log_window(height);
    if window.is_empty() {
        let msg = if buf.is_empty() {
            "no log lines yet"
        } else {
            "no line matches (scope, stream or filter)"
        };
        f.render_widget(
            Paragraph::new(Span::styled(msg, theme.dim())).block(b),
            area,
        );
        return;
    }
    let show_service = scope.is_none();
    let lines: Vec<Line> = window
        .iter()
        .map(|l| log_line(l, theme, show_service))
        .collect();
    let mut p = Paragraph::new(lines.clone()).block(b);
    if app.logs.wrap {
        // Keep the newest line at the bottom: skip the wrapped rows that don't fit.
        let rows: usize = lines.iter().map(|l| l.width().max(1).div_ceil(width)).sum();
        let skip = rows.saturating_sub(height);
        p = p
            .wrap(Wrap { trim: false })
            .scroll((skip.min(u16::MAX as usize) as u16, 0));
    }
    f.render_widget(p, area);
}

fn log_line<'a>(l: &'a StoredLine, theme: &Theme, show_service: bool) -> Line<'a> {
    let stream = short_stream(&l.log_stream);
    let mut spans = vec![Span::styled(
        format!("{} ", hhmmss(l.timestamp)),
        theme.dim(),
    )];
    if show_service {
        let svc = l.service_key.rsplit('/').next().unwrap_or(&l.service_key);
        spans.push(Span::styled(format!("{} ", safe(svc)), theme.accent()));
    }
    spans.push(Span::styled(format!("{} ", safe(stream)), theme.dim()));
    spans.push(Span::styled(l.text.as_str(), line_style(&l.text, theme)));
    Line::from(spans)
}

/// `ecs/api/0123456789abcdef…` → `api/01234567`.
fn short_stream(stream: &str) -> &str {
    let s = stream.strip_prefix("ecs/").unwrap_or(stream);
    match s.rfind('/') {
        Some(i) if s.len() > i + 9 => s.get(..i + 9).unwrap_or(s),
        _ => s,
    }
}

fn line_style(text: &str, theme: &Theme) -> ratatui::style::Style {
    if text.contains("ERROR")
        || text.contains("FATAL")
        || text.contains("panic")
        || text.contains("Exception")
    {
        theme.bad()
    } else if text.contains("WARN") {
        theme.warn()
    } else {
        theme.base()
    }
}

/// Display width of a line (for wrap calculations in tests).
pub fn width_of(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

pub struct LogsPane;

impl PaneView for LogsPane {
    fn id(&self) -> Pane {
        Pane::Logs
    }
    fn title(&self) -> &'static str {
        "Logs"
    }
    fn kinds(&self) -> &'static [&'static str] {
        &["logs"]
    }
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize> {
        render(f, area, cx.app, cx.focused);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_shortened() {
        assert_eq!(short_stream("ecs/api/0123456789abcdef0123"), "api/01234567");
        assert_eq!(short_stream("custom"), "custom");
        assert_eq!(width_of("日本"), 4);
    }
}
