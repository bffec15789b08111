//! The whole screen: status line, panes (a grid at 160x48, tabs at 80x24),
//! footer / command line, help overlay. A pure function of `&App`.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Tabs};

use crate::model::ServiceHealth;
use crate::ui::app::{App, Input, Pane, View};
use crate::ui::keymap::{self, BINDINGS, CONTEXTS};
use crate::ui::panes::{self, detail, findings, fleet, logs, safe, services};

/// Below this size the panes collapse into tabs.
pub const WIDE_MIN_WIDTH: u16 = 120;
pub const WIDE_MIN_HEIGHT: u16 = 32;

pub fn is_compact(area: Rect) -> bool {
    area.width < WIDE_MIN_WIDTH || area.height < WIDE_MIN_HEIGHT
}

pub fn draw(f: &mut Frame, app: &App) {
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
        crate::ui::runbooks::render(f, body, &app.runbooks, &app.theme, app.source_now());
    } else if compact {
        render_tabs(f, body, app);
    } else {
        match app.view.clone() {
            View::Fleet => render_fleet_grid(f, body, app),
            View::Service(key) => render_service_grid(f, body, app, &key),
            View::Findings => render_pane(f, body, app, Pane::Findings, false),
            View::Runbooks => {}
        }
    }
    render_footer(f, footer, app);
    if app.help {
        render_help(f, area, app);
    }
}

fn render_pane(f: &mut Frame, area: Rect, app: &App, pane: Pane, compact: bool) {
    let focused = app.focused() == pane;
    let key = match &app.view {
        View::Service(k) => Some(k.clone()),
        _ => None,
    };
    match pane {
        Pane::Services => services::render(f, area, app, focused, compact),
        Pane::Alarms => fleet::render_alarms(f, area, app, focused),
        Pane::Timeline => fleet::render_timeline(f, area, app, focused),
        Pane::Logs => logs::render(f, area, app, focused),
        Pane::Rollout => detail::render_rollout(f, area, app, key.as_ref(), focused),
        Pane::Tasks => detail::render_tasks(f, area, app, key.as_ref(), focused),
        Pane::Metrics => detail::render_metrics(f, area, app, key.as_ref(), focused),
        Pane::SvcAlarms => detail::render_alarms(f, area, app, key.as_ref(), focused),
        Pane::Events => detail::render_events(f, area, app, key.as_ref(), focused),
        Pane::Findings => findings::render_fleet(f, area, app, focused),
        Pane::SvcFindings => findings::render_service(f, area, app, focused),
        Pane::Runbook => {
            crate::ui::runbooks::render(f, area, &app.runbooks, &app.theme, app.source_now())
        }
    }
}

fn render_fleet_grid(f: &mut Frame, area: Rect, app: &App) {
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
    render_pane(f, table, app, Pane::Services, false);
    render_pane(f, alarms, app, Pane::Alarms, false);
    render_pane(f, timeline, app, Pane::Timeline, false);
    render_pane(f, logs_area, app, Pane::Logs, false);
}

fn render_service_grid(f: &mut Frame, area: Rect, app: &App, key: &crate::model::ServiceId) {
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
    render_pane(f, rollout, app, Pane::Rollout, false);
    render_pane(f, metrics, app, Pane::Metrics, false);
    render_pane(f, tasks, app, Pane::Tasks, false);
    render_pane(f, alarms, app, Pane::SvcAlarms, false);
    render_pane(f, findings_area, app, Pane::SvcFindings, false);
    render_pane(f, events, app, Pane::Events, false);
    render_pane(f, logs_area, app, Pane::Logs, false);
}

/// 80x24: a tab bar of the view's panes and the focused pane below it.
fn render_tabs(f: &mut Frame, area: Rect, app: &App) {
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
    let titles: Vec<Line> = panes.iter().map(|p| Line::from(p.tab())).collect();
    let tabs = Tabs::new(titles)
        .select(app.focus.min(panes.len() - 1))
        .style(theme.dim())
        .highlight_style(theme.selected())
        .divider("│");
    f.render_widget(tabs, tabs_area);
    render_pane(f, body, app, app.focused(), true);
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
        if !narrow {
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
        spans.push(Span::styled("connecting…", theme.dim()));
    }
    if let Some(w) = app.store.warnings.back() {
        spans.push(sep());
        spans.push(Span::styled(format!("⚠ {w}"), theme.warn()));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
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
    let style = if age > 30 || app.silent_secs > 5 {
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
    if app.silent_secs > 5 {
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
            let stale = a > crate::source::aws::Intervals::default().stale_after_secs(name);
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
            out.push(Span::styled(format!(" {}{mark} {age}", safe(name)), st));
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
    errors.sort_by_key(|(name, _)| !(name.as_str() == "ecs" || name.starts_with("ecs@")));
    errors
        .iter()
        .take(2)
        .map(|(name, f)| {
            Span::styled(
                format!(
                    " {}: {}",
                    safe(name),
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
            Span::styled(
                "   Enter run · Esc cancel · svc alarms timeline logs findings runbooks theme NAME q",
                theme.dim(),
            ),
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
            use crate::ui::runbooks::Screen;
            let runbook_keys: &[(&str, &str)] = match app.runbooks.screen {
                Screen::List => &[
                    ("j/k", "select"),
                    ("Enter", "start / resume"),
                    (":", "command"),
                    ("Esc", "fleet"),
                ],
                Screen::Params(_) => &[("Tab/↑↓", "field"), ("Enter", "start"), ("Esc", "back")],
                Screen::Run(_) => &[
                    ("j/k", "step"),
                    ("n", "note"),
                    ("Enter", "reopen dialog"),
                    ("X X", "abort"),
                    (":", "command"),
                    ("Esc", "fleet"),
                ],
            };
            let keys: Vec<(&str, &str)> = if app.view == View::Runbooks {
                runbook_keys.to_vec()
            } else {
                keymap::footer(app.focused().context())
                    .into_iter()
                    .collect()
            };
            for (k, h) in keys {
                spans.push(Span::styled(format!(" {k}"), theme.accent()));
                spans.push(Span::styled(format!(" {h} "), theme.dim()));
            }
            Line::from(spans)
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

fn render_help(f: &mut Frame, area: Rect, app: &App) {
    let theme = &app.theme;
    let w = area.width.saturating_sub(4).min(88);
    let h = area.height.saturating_sub(2);
    let [popup] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(popup);
    let mut lines = Vec::new();
    for ctx in CONTEXTS {
        lines.push(Line::from(Span::styled(ctx.title(), theme.header())));
        for b in BINDINGS.iter().filter(|b| b.context == *ctx) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<10}", b.label), theme.accent()),
                Span::raw(b.help),
            ]));
        }
        lines.push(Line::default());
    }
    lines.push(Line::from(Span::styled("Commands", theme.header())));
    for (c, h) in [
        (":svc", "services (fleet view)"),
        (":alarms", "alarms pane"),
        (":timeline", "fleet timeline"),
        (":logs", "logs pane"),
        (":findings", "review findings by pillar and severity"),
        (":theme NAME", "dark, light, high-contrast, or a theme file"),
        (":speed X", "simulation speed (demo)"),
        (
            ":pause / :resume",
            "stop or restart the simulated clock (demo)",
        ),
        (":q", "quit"),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!("  {c:<18}"), theme.accent()),
            Span::raw(h),
        ]));
    }
    let total = lines.len();
    let inner_h = h.saturating_sub(2) as usize;
    let off = panes::clamp_scroll(app.help_scroll, total, inner_h);
    f.render_widget(Clear, popup);
    f.render_widget(
        Paragraph::new(lines)
            .scroll((off as u16, 0))
            .style(theme.base())
            .block(panes::block(
                "Help — any key closes, j/k scroll",
                None,
                true,
                theme,
            )),
        popup,
    );
}
