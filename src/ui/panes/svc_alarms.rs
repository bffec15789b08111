//! The service view's CloudWatch alarms with their recent history.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::detail::{current, gone, scrolled};
use super::{Cx, PaneView};
use super::{alarm_style, hhmmss, safe};
use crate::model::FleetSnapshot;
use crate::ui::app::{App, Pane};

pub fn render_alarms(f: &mut Frame, area: Rect, app: &App, key: &str, focused: bool) {
    let theme = &app.theme;
    let Some((svc, _)) = current(app, key) else {
        return gone(f, area, app, Pane::SvcAlarms, focused);
    };
    let snap: &FleetSnapshot = &app.store.snapshot;
    let mut lines = Vec::new();
    let mut alarms: Vec<_> = snap.alarms_for(svc).collect();
    alarms.sort_by_key(|a| (a.state != crate::model::AlarmState::Alarm, a.name.clone()));
    for a in &alarms {
        let op = match a.comparison_operator.as_str() {
            "GreaterThanThreshold" => ">",
            "GreaterThanOrEqualToThreshold" => "≥",
            "LessThanThreshold" => "<",
            "LessThanOrEqualToThreshold" => "≤",
            other => other,
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<6} ", short_state(a.state)),
                alarm_style(a.state, theme),
            ),
            Span::raw(safe(&a.name).into_owned()),
            Span::styled(
                format!(
                    "  {} {op} {} · {} of {} × {}s{}",
                    safe(&a.metric_name),
                    a.threshold,
                    a.datapoints_to_alarm,
                    a.evaluation_periods,
                    a.period,
                    if a.alarm_actions.is_empty() || !a.actions_enabled {
                        " · no actions"
                    } else {
                        ""
                    }
                ),
                theme.dim(),
            ),
        ]));
        for h in a.history.iter().take(3) {
            lines.push(Line::from(vec![
                Span::styled(format!("   {} ", hhmmss(h.timestamp)), theme.dim()),
                Span::styled(
                    format!(
                        "{} → {} ",
                        short_state(h.old_state),
                        short_state(h.new_state)
                    ),
                    alarm_style(h.new_state, theme),
                ),
                Span::styled(safe(&h.reason).into_owned(), theme.dim()),
            ]));
        }
    }
    if alarms.is_empty() {
        lines.push(Line::from(Span::styled(
            "no CloudWatch alarms watch this service",
            theme.warn(),
        )));
    }
    let n_alarm = alarms
        .iter()
        .filter(|a| a.state == crate::model::AlarmState::Alarm)
        .count();
    scrolled(
        f,
        area,
        app,
        Pane::SvcAlarms,
        focused,
        Some(format!("{n_alarm}/{} in ALARM", alarms.len())),
        lines,
    );
}

fn short_state(s: crate::model::AlarmState) -> &'static str {
    match s {
        crate::model::AlarmState::Alarm => "ALARM",
        crate::model::AlarmState::Ok => "OK",
        crate::model::AlarmState::InsufficientData => "NODATA",
    }
}

pub struct SvcAlarmsPane;

impl PaneView for SvcAlarmsPane {
    fn id(&self) -> Pane {
        Pane::SvcAlarms
    }
    fn title(&self) -> &'static str {
        "Alarms"
    }
    fn kinds(&self) -> &'static [&'static str] {
        &["cloudwatch"]
    }
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize> {
        render_alarms(f, area, cx.app, cx.service_key(), cx.focused);
        None
    }
}
