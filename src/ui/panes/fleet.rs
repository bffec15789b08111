//! Fleet-wide panes: alarms and the timeline.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Cx, PaneView};
use super::{alarm_style, block, hhmmss, inner, list_offset, safe, short_duration, with_age};
use crate::ui::app::{App, Pane, View};

fn filter_note(app: &App, pane: Pane, count: String) -> String {
    match app.filters.get(&pane) {
        Some(f) => format!(
            "/{}{} · {count}",
            safe(&f.text),
            if f.literal { " (literal)" } else { "" }
        ),
        None => count,
    }
}

/// All alarms, ALARM first.
pub fn render_alarms(f: &mut Frame, area: Rect, app: &App, focused: bool) -> Option<usize> {
    let theme = &app.theme;
    let snap = &app.store.snapshot;
    let idx = app.visible_alarms();
    let in_alarm = snap
        .alarms
        .iter()
        .filter(|a| a.state == crate::model::AlarmState::Alarm)
        .count();
    let note = filter_note(
        app,
        Pane::Alarms,
        format!("{in_alarm} in ALARM · {}", snap.alarms.len()),
    );
    let b = block(
        "Alarms",
        with_age(app, Pane::Alarms, Some(note)),
        focused,
        theme,
    );
    let height = inner(area).height as usize;
    if idx.is_empty() {
        let msg = if snap.alarms.is_empty() {
            "no alarms"
        } else {
            "no alarm matches the filter"
        };
        f.render_widget(
            Paragraph::new(Span::styled(msg, theme.dim())).block(b),
            area,
        );
        return None;
    }
    let selected = app.cursor(Pane::Alarms).min(idx.len() - 1);
    let offset = list_offset(app, Pane::Alarms, selected, height);
    // Twins: an alarm of prod/api names its region (and account) when the
    // fleet spans several.
    let spans = (snap.spans_accounts(), snap.spans_regions());
    let lines: Vec<Line> = idx
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, ai)| {
            let a = &snap.alarms[*ai];
            let since = short_duration(snap.at - a.state_updated_at);
            let state = match a.state {
                crate::model::AlarmState::Alarm => "ALARM",
                crate::model::AlarmState::InsufficientData => "NODATA",
                crate::model::AlarmState::Ok => "OK",
            };
            let mut line = Line::from(vec![
                Span::styled(format!("{state:<6} "), alarm_style(a.state, theme)),
                Span::raw(safe(&a.name).into_owned()),
                Span::styled(
                    format!(
                        "  {} {}{since}",
                        a.service_key.as_deref().map(safe).unwrap_or_default(),
                        safe(&crate::model::FleetSnapshot::place_prefix(
                            spans, &a.account, &a.region
                        )),
                    ),
                    theme.dim(),
                ),
            ]);
            if i == selected && focused {
                line = line.style(theme.selected());
            }
            line
        })
        .collect();
    f.render_widget(Paragraph::new(lines).block(b), area);
    Some(offset)
}

/// The fleet timeline (or the open service's), newest first.
pub fn render_timeline(f: &mut Frame, area: Rect, app: &App, focused: bool) -> Option<usize> {
    let theme = &app.theme;
    let events = app.visible_timeline();
    let mut count = format!("{}", events.len());
    if app.timeline_bad_only {
        count = format!("trouble only · {count}");
    }
    let note = filter_note(app, Pane::Timeline, count);
    let b = block("Timeline", Some(note), focused, theme);
    if events.is_empty() {
        f.render_widget(
            Paragraph::new(Span::styled("nothing has happened yet", theme.dim())).block(b),
            area,
        );
        return None;
    }
    let height = inner(area).height as usize;
    let selected = app.cursor(Pane::Timeline).min(events.len() - 1);
    let offset = list_offset(app, Pane::Timeline, selected, height);
    let show_service = matches!(app.view, View::Fleet);
    let spans_of_fleet = (
        app.store.snapshot.spans_accounts(),
        app.store.snapshot.spans_regions(),
    );
    let lines: Vec<Line> = events
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, e)| {
            let style = if e.bad { theme.bad() } else { theme.base() };
            let mut spans = vec![
                Span::styled(format!("{} ", hhmmss(e.at)), theme.dim()),
                Span::styled(format!("{:<7} ", e.kind.as_str()), theme.info()),
            ];
            if show_service && let Some(k) = &e.service_key {
                let place = e
                    .service
                    .as_ref()
                    .map(|id| {
                        crate::model::FleetSnapshot::place_prefix(
                            spans_of_fleet,
                            &id.account,
                            &id.region,
                        )
                    })
                    .unwrap_or_default();
                spans.push(Span::styled(
                    format!("{}{} ", safe(&place), safe(k)),
                    theme.accent(),
                ));
            }
            spans.push(Span::styled(safe(&e.summary).into_owned(), style));
            let mut line = Line::from(spans);
            if i == selected && focused {
                line = line.style(theme.selected());
            }
            line
        })
        .collect();
    f.render_widget(Paragraph::new(lines).block(b), area);
    Some(offset)
}

pub struct AlarmsPane;

impl PaneView for AlarmsPane {
    fn id(&self) -> Pane {
        Pane::Alarms
    }
    fn title(&self) -> &'static str {
        "Alarms"
    }
    fn kinds(&self) -> &'static [&'static str] {
        &["cloudwatch"]
    }
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize> {
        render_alarms(f, area, cx.app, cx.focused)
    }
}

pub struct TimelinePane;

impl PaneView for TimelinePane {
    fn id(&self) -> Pane {
        Pane::Timeline
    }
    fn title(&self) -> &'static str {
        "Timeline"
    }
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize> {
        render_timeline(f, area, cx.app, cx.focused)
    }
}
