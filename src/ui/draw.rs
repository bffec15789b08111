//! The whole screen: status line, panes (a grid at 160x48, tabs at 80x24),
//! footer / command line, help overlay. A pure function of `&App`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Tabs};

use crate::model::ServiceHealth;
use crate::ui::app::{App, Drawn, Input, Pane, View};
use crate::ui::keymap;
use crate::ui::panes::{self, Cx, detail, safe};

/// Below this size the panes collapse into tabs.
pub const WIDE_MIN_WIDTH: u16 = 120;
pub const WIDE_MIN_HEIGHT: u16 = 32;

pub fn is_compact(area: Rect) -> bool {
    area.width < WIDE_MIN_WIDTH || area.height < WIDE_MIN_HEIGHT
}

/// Draw a frame (what it learned is dropped: see [`frame`]).
pub fn draw(f: &mut Frame, app: &App) {
    let _ = frame(f, app);
}

/// Draw a frame from `&App` and return what the next frame needs (the
/// event loop hands it to [`App::remember`]).
pub fn frame(f: &mut Frame, app: &App) -> Drawn {
    let mut out = Drawn::default();
    let area = f.area();
    f.render_widget(Block::default().style(app.theme.base()), area);
    let [status, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(area);
    render_status(f, status, app);
    let compact = is_compact(area);
    if app.view == View::Runbooks {
        render_pane(f, body, app, Pane::Runbook, compact, &mut out);
    } else if compact {
        render_tabs(f, body, app, &mut out);
    } else {
        match &app.view {
            View::Fleet => render_fleet_grid(f, body, app, &mut out),
            View::Service(key) => render_service_grid(f, body, app, key, &mut out),
            View::Findings => render_pane(f, body, app, Pane::Findings, false, &mut out),
            View::Runbooks => {}
        }
    }
    render_footer(f, footer, app);
    if let Some(p) = &app.ctx_picker {
        crate::ui::ctx::render(f, body, p, &app.theme);
    }
    if app.help {
        crate::ui::help::render(f, area, &app.theme, app.help_scroll);
    }
    out
}

fn render_pane(f: &mut Frame, area: Rect, app: &App, pane: Pane, compact: bool, out: &mut Drawn) {
    let cx = Cx {
        app,
        focused: app.focused() == pane,
        compact,
    };
    if let Some(first) = panes::of(pane).render(f, area, &cx) {
        out.list_offsets.push((pane, first));
    }
}

fn render_fleet_grid(f: &mut Frame, area: Rect, app: &App, out: &mut Drawn) {
    // The table takes what its rows need (up to 45 %); the rest goes to
    // alarms/timeline and logs.
    let rows = app.visible_rows().len().clamp(1, 1000) as u16 + 3;
    let table_h = rows.min((area.height * 45 / 100).max(6));
    let [table, middle, logs_area] = Layout::vertical([
        Constraint::Length(table_h),
        Constraint::Percentage(30),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [alarms, timeline] =
        Layout::horizontal([Constraint::Percentage(38), Constraint::Fill(1)]).areas(middle);
    render_pane(f, table, app, Pane::Services, false, out);
    render_pane(f, alarms, app, Pane::Alarms, false, out);
    render_pane(f, timeline, app, Pane::Timeline, false, out);
    render_pane(f, logs_area, app, Pane::Logs, false, out);
}

fn render_service_grid(
    f: &mut Frame,
    area: Rect,
    app: &App,
    key: &crate::model::ServiceId,
    out: &mut Drawn,
) {
    let [header, row1, row2, logs_area] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Percentage(30),
        Constraint::Percentage(34),
        Constraint::Fill(1),
    ])
    .areas(area);
    detail::render_header(f, header, app, Some(key));
    let [rollout, metrics] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Fill(1)]).areas(row1);
    let [tasks, alarms, findings_area] = Layout::horizontal([
        Constraint::Percentage(40),
        Constraint::Percentage(30),
        Constraint::Fill(1),
    ])
    .areas(row2);
    let [events, logs_area] =
        Layout::horizontal([Constraint::Percentage(35), Constraint::Fill(1)]).areas(logs_area);
    render_pane(f, rollout, app, Pane::Rollout, false, out);
    render_pane(f, metrics, app, Pane::Metrics, false, out);
    render_pane(f, tasks, app, Pane::Tasks, false, out);
    render_pane(f, alarms, app, Pane::SvcAlarms, false, out);
    render_pane(f, findings_area, app, Pane::SvcFindings, false, out);
    render_pane(f, events, app, Pane::Events, false, out);
    render_pane(f, logs_area, app, Pane::Logs, false, out);
}

/// 80x24: a tab bar of the view's panes and the focused pane below it.
fn render_tabs(f: &mut Frame, area: Rect, app: &App, out: &mut Drawn) {
    let theme = &app.theme;
    let panes = app.view.panes();
    let (header_h, key) = match &app.view {
        View::Service(k) => (1, Some(k.clone())),
        _ => (0, None),
    };
    let [header, tabs_area, body] = Layout::vertical([
        Constraint::Length(header_h),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(area);
    if let Some(k) = &key {
        detail::render_header(f, header, app, Some(k));
    }
    let titles: Vec<Line> = panes
        .iter()
        .map(|p| Line::from(panes::of(*p).tab()))
        .collect();
    let tabs = Tabs::new(titles)
        .select(app.focus.min(panes.len() - 1))
        .style(theme.dim())
        .highlight_style(theme.selected())
        .divider("│");
    f.render_widget(tabs, tabs_area);
    render_pane(f, body, app, app.focused(), true, out);
}

fn render_status(f: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let snap = &app.store.snapshot;
    let src = &snap.source;
    let narrow = area.width < WIDE_MIN_WIDTH;
    let mut spans = vec![Span::styled(
        if narrow { "ecsdeck " } else { " ecsdeck " },
        theme.title(),
    )];
    let sep = || Span::styled(if narrow { "│" } else { " │ " }, theme.dim());
    if let Some(n) = &app.notice {
        let short = if narrow {
            "DEMO (no AWS creds)"
        } else {
            n.as_str()
        };
        spans.push(Span::styled(format!(" {} ", safe(short)), theme.bad()));
        spans.push(sep());
    }
    if app.store.has_snapshot {
        let mut source = format!("{}:{}", safe(&src.kind), safe(&src.label));
        if app.context.is_some() {
            // `:ctx`: the set read, profiles × regions (shortened to fit);
            // no `--profile` is the default chain's, shown as `default`.
            let set = app.current_set();
            source = format!("{}:{}", safe(&src.kind), context_label(&set, narrow));
        } else if !narrow {
            if let Some(seed) = src.seed {
                source.push_str(&format!(" · seed {seed}"));
            }
            if !src.region.is_empty() {
                source.push_str(&format!(" · {}", safe(&src.region)));
            }
        }
        spans.push(Span::styled(source, theme.accent()));
        spans.push(sep());
        let clock = match (src.speed, narrow) {
            (Some(x), false) => format!("sim {} UTC ×{}", panes::hhmmss(snap.at), trim_float(x)),
            (Some(x), true) => format!("{} ×{}", panes::hhmmss(snap.at), trim_float(x)),
            (None, _) => format!("{} UTC", panes::hhmmss(snap.at)),
        };
        spans.push(Span::raw(clock));
        if app.paused {
            spans.push(Span::styled(" PAUSED", theme.warn()));
        }
        spans.push(sep());
        spans.extend(staleness_spans(app, narrow));
        spans.push(sep());
        spans.extend(health_counts(app, narrow));
        let errors = error_spans(app);
        if !errors.is_empty() {
            spans.push(sep());
            spans.extend(errors);
        }
    } else {
        let to = app
            .context
            .as_ref()
            .map(|set| format!(" to {}", context_label(set, narrow)))
            .unwrap_or_default();
        spans.push(Span::styled(format!("connecting{to}…"), theme.dim()));
    }
    if let Some(w) = app.store.warnings.back() {
        spans.push(sep());
        spans.push(Span::styled(format!("⚠ {w}"), theme.warn()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The set of AWS profiles × regions read, sanitized (profile names come
/// from the user's AWS files), short enough for the status line.
fn context_label(set: &crate::source::context::ContextSet, narrow: bool) -> String {
    safe(&set.label(if narrow { 22 } else { 48 })).into_owned()
}

fn trim_float(x: f64) -> String {
    if x == x.trunc() {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// `data 0s` for one source, or per source when there are several / errors.
fn staleness_spans(app: &App, narrow: bool) -> Vec<Span<'static>> {
    let theme = &app.theme;
    let snap = &app.store.snapshot;
    let mut out = Vec::new();
    let age = panes::data_age_secs(app);
    let style = if age > 30 || app.silent_secs > app.silent_after {
        theme.warn()
    } else {
        theme.dim()
    };
    out.push(Span::styled(
        if narrow {
            format!("{age}s")
        } else {
            format!("data {age}s")
        },
        style,
    ));
    if app.silent_secs > app.silent_after {
        out.push(Span::styled(
            format!(" (source silent {}s)", app.silent_secs),
            theme.warn(),
        ));
    }
    // AWS: the API budget being spent, and throttling.
    match app.api_calls() {
        Some(crate::ui::app::ApiCalls::PerMin(rate)) => out.push(Span::styled(
            if narrow {
                format!(" {rate:.0}/m")
            } else {
                format!(" · {rate:.0} calls/min")
            },
            theme.dim(),
        )),
        Some(crate::ui::app::ApiCalls::SoFar(n)) => out.push(Span::styled(
            if narrow {
                format!(" {n} calls")
            } else {
                format!(" · {n} calls so far")
            },
            theme.dim(),
        )),
        None => {}
    }
    if let Some(t) = snap.source.throttles.filter(|t| *t > 0) {
        out.push(Span::styled(format!(" · {t} throttled"), theme.warn()));
    }
    // Several sources (AWS pollers): each kind that is failing or stale,
    // with its age (a failing kind stays listed: one that vanished from the
    // list looked fine). Fresh kinds are not listed: the line is for the
    // health counts, and eight ages pushed them off a 160-column screen.
    if snap.freshness.len() > 1 && !narrow {
        for (name, f) in &snap.freshness {
            let a = f
                .updated_at
                .map_or(u64::MAX, |u| ((snap.at - u).max(0) / 1000) as u64);
            let stale = a > crate::source::aws::Intervals::default().stale_after_secs(name.kind);
            if f.error.is_none() && !stale {
                continue;
            }
            let st = if f.updated_at.is_none() {
                theme.bad()
            } else {
                theme.warn()
            };
            let age = if a == u64::MAX {
                "never".to_string()
            } else {
                format!("{a}s")
            };
            let mark = if f.error.is_some() { "✗" } else { "" };
            let name = snap.key_label(name);
            out.push(Span::styled(format!(" {}{mark} {age}", safe(&name)), st));
        }
    }
    out
}

/// The errors of the failing kinds, ECS's first (everything hangs off
/// it), after the health counts so that a long message never hides them.
fn error_spans(app: &App) -> Vec<Span<'static>> {
    let theme = &app.theme;
    let snap = &app.store.snapshot;
    let mut errors: Vec<_> = snap
        .freshness
        .iter()
        .filter(|(_, f)| f.error.is_some())
        .collect();
    errors.sort_by_key(|(name, _)| name.kind != crate::model::DataKind::Ecs);
    errors
        .iter()
        .take(2)
        .map(|(name, f)| {
            Span::styled(
                format!(
                    " {}: {}",
                    safe(&snap.key_label(name)),
                    safe(f.error.as_deref().unwrap_or(""))
                ),
                theme.bad(),
            )
        })
        .collect()
}

fn health_counts(app: &App, narrow: bool) -> Vec<Span<'static>> {
    let theme = &app.theme;
    let count = |h: ServiceHealth| app.rows.iter().filter(|r| r.health == h).count();
    let mut out = vec![Span::raw(if narrow {
        format!("{} svc ", app.rows.len())
    } else {
        format!("{} services ", app.rows.len())
    })];
    for (h, style) in [
        (ServiceHealth::Steady, theme.ok()),
        (ServiceHealth::Deploying, theme.info()),
        (ServiceHealth::Degraded, theme.warn()),
        (ServiceHealth::Failed, theme.bad()),
    ] {
        let n = count(h);
        if n > 0 {
            let word = if narrow {
                panes::health_symbol(h)
            } else {
                h.as_str()
            };
            out.push(Span::styled(format!("{n} {word} "), style));
        }
    }
    out
}

fn render_footer(f: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let line = match &app.input {
        Input::Command(t) => Line::from(vec![
            Span::styled(":", theme.accent()),
            Span::raw(t.clone()),
            Span::styled("█", theme.accent()),
            Span::styled(command_hint(t), theme.dim()),
        ]),
        Input::Filter(t) => {
            let hint = match app.filters.get(&app.focused()) {
                Some(flt) if flt.literal => " (not a valid regex: matching literally)",
                _ => "",
            };
            Line::from(vec![
                Span::styled("/", theme.accent()),
                Span::raw(t.clone()),
                Span::styled("█", theme.accent()),
                Span::styled(format!("{hint}   Enter keep · Esc clear"), theme.dim()),
            ])
        }
        Input::Normal => {
            let mut spans = Vec::new();
            if let Some((msg, err)) = &app.message {
                spans.push(Span::styled(
                    format!("{msg}  "),
                    if *err { theme.bad() } else { theme.info() },
                ));
            }
            // The runbook view: its screen's keys, or its open dialog's.
            let context = if app.ctx_picker.is_some() {
                keymap::Context::CtxPicker
            } else if app.view == View::Runbooks {
                app.runbooks.context()
            } else {
                app.focused().context()
            };
            let keys = keymap::footer(context);
            for (k, h) in keys {
                spans.push(Span::styled(format!(" {k}"), theme.accent()));
                spans.push(Span::styled(format!(" {h} "), theme.dim()));
            }
            Line::from(spans)
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

/// While a command is typed: what Enter does, and the commands it may
/// become (all of the short hint while nothing is typed).
fn command_hint(typed: &str) -> String {
    use crate::ui::commands;
    let word = typed.split_whitespace().next().unwrap_or("");
    if word.is_empty() {
        return format!(
            "   Enter run · Esc cancel · {}",
            commands::hint().replace(':', "")
        );
    }
    if typed.contains(char::is_whitespace) {
        return "   Enter run · Esc cancel".into();
    }
    match commands::candidates(word).as_slice() {
        [] => "   no such command (Backspace, or Esc cancel)".into(),
        found => format!("   Enter run · Tab complete · {}", found.join(" ")),
    }
}
