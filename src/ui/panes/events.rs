//! The service view's ECS service events.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::detail::{current, gone, scrolled};
use super::{Cx, PaneView};
use super::{hhmmss, safe};
use crate::ui::app::{App, Pane};

pub fn render_events(f: &mut Frame, area: Rect, app: &App, key: &str, focused: bool) {
    let theme = &app.theme;
    let Some((svc, _)) = current(app, key) else {
        return gone(f, area, app, Pane::Events, focused);
    };
    let lines: Vec<Line> = if svc.events.is_empty() {
        vec![Line::from(Span::styled(
            "no service events reported",
            theme.dim(),
        ))]
    } else {
        svc.events
            .iter()
            .map(|e| {
                let m = safe(&e.message).into_owned();
                let style =
                    if m.contains("unable") || m.contains("failed") || m.contains("rolling back") {
                        theme.warn()
                    } else {
                        theme.base()
                    };
                Line::from(vec![
                    Span::styled(format!("{} ", hhmmss(e.created_at)), theme.dim()),
                    Span::styled(m, style),
                ])
            })
            .collect()
    };
    scrolled(
        f,
        area,
        app,
        Pane::Events,
        focused,
        Some(format!("{}", svc.events.len())),
        lines,
    );
}

pub struct EventsPane;

impl PaneView for EventsPane {
    fn id(&self) -> Pane {
        Pane::Events
    }
    fn title(&self) -> &'static str {
        "Events"
    }
    fn kinds(&self) -> &'static [&'static str] {
        &["ecs"]
    }
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize> {
        render_events(f, area, cx.app, cx.service_key(), cx.focused);
        None
    }
}
