//! The services table across clusters.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::{block, data_age_secs, health_badge, inner, list_offset, safe, with_age};
use crate::model::RolloutState;
use crate::model::rows::ServiceRow;
use crate::ui::app::{App, Pane};
use crate::ui::panes::findings::{letter, severity_style};
use crate::ui::panes::{Cx, PaneView};
use crate::ui::theme::Theme;

pub fn render(f: &mut Frame, area: Rect, app: &App, focused: bool, compact: bool) -> Option<usize> {
    let theme = &app.theme;
    let rows = app.visible_rows();
    let total = app.rows.len();
    let mut note = if rows.len() == total {
        format!("{total}")
    } else {
        format!("{}/{total}", rows.len())
    };
    if let Some(flt) = app.filters.get(&Pane::Services) {
        note = format!(
            "/{}{} · {note}",
            safe(&flt.text),
            if flt.literal { " (literal)" } else { "" }
        );
    }
    let b = block(
        "Services",
        with_age(app, Pane::Services, Some(note)),
        focused,
        theme,
    );
    if !app.store.has_snapshot {
        f.render_widget(
            Paragraph::new(Span::styled("waiting for the first snapshot…", theme.dim())).block(b),
            area,
        );
        return None;
    }
    if rows.is_empty() {
        let msg = if total == 0 {
            "no services in this fleet"
        } else {
            "no service matches the filter (Esc clears it)"
        };
        f.render_widget(
            Paragraph::new(Span::styled(msg, theme.dim())).block(b),
            area,
        );
        return None;
    }
    let height = inner(area).height.saturating_sub(1) as usize;
    let selected = app.cursor(Pane::Services).min(rows.len() - 1);
    let offset = list_offset(app, Pane::Services, selected, height);
    let age = data_age_secs(app);
    let multi_region = app.rows.iter().any(|r| r.region != app.rows[0].region);

    let header_cells: Vec<&str> = if compact {
        vec!["HEALTH", "SERVICE", "D/R/P", "ROLLOUT", "AZ", "ALM", "FIND"]
    } else {
        let mut h = vec![
            "HEALTH",
            "CLUSTER",
            "SERVICE",
            "DES/RUN/PEND",
            "ROLLOUT",
            "TASK DEF",
            "TASKS PER AZ",
            "ALARMS",
            "FINDINGS",
            "AGE",
        ];
        if multi_region {
            h.insert(1, "REGION");
        }
        h
    };
    let header = Row::new(
        header_cells
            .into_iter()
            .map(|h| Cell::from(Span::styled(h, theme.header()))),
    );

    let body: Vec<Row> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, r)| {
            let badge = badge_span(app, r, compact);
            let row = if compact {
                compact_row(r, theme, badge)
            } else {
                wide_row(r, theme, age, multi_region, badge)
            };
            if i == selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();

    let widths: Vec<Constraint> = if compact {
        vec![
            Constraint::Length(11),
            Constraint::Fill(1),
            Constraint::Length(8),
            Constraint::Length(11),
            Constraint::Length(13),
            Constraint::Length(3),
            Constraint::Length(5),
        ]
    } else {
        let mut w = vec![
            Constraint::Length(12),
            Constraint::Length(14),
            Constraint::Fill(2),
            Constraint::Length(12),
            Constraint::Length(17),
            Constraint::Length(20),
            Constraint::Length(16),
            Constraint::Fill(1),
            Constraint::Length(9),
            Constraint::Length(4),
        ];
        if multi_region {
            w.insert(1, Constraint::Length(14));
        }
        w
    };
    let table = Table::new(body, widths)
        .header(header)
        .block(b)
        .column_spacing(1);
    f.render_widget(table, area);
    Some(offset)
}

fn counts(r: &ServiceRow) -> String {
    format!("{}/{}/{}", r.desired, r.running, r.pending)
}

fn counts_span(r: &ServiceRow, theme: &Theme) -> Span<'static> {
    let style = if r.running < r.desired {
        theme.warn()
    } else {
        theme.base()
    };
    Span::styled(counts(r), style)
}

fn rollout_span(r: &ServiceRow, theme: &Theme, compact: bool) -> Span<'static> {
    match r.rollout {
        Some(RolloutState::Completed) if r.deployments.len() <= 1 => {
            Span::styled("COMPLETED", theme.dim())
        }
        Some(RolloutState::Failed) => Span::styled(
            if compact {
                "FAILED".to_string()
            } else {
                format!("FAILED ({} failed)", r.failed_tasks)
            },
            theme.bad(),
        ),
        Some(_) => {
            let note = if r
                .deployments
                .iter()
                .any(|d| d.rollout_state.as_deref() == Some("FAILED"))
            {
                "ROLLBACK"
            } else {
                "IN_PROGRESS"
            };
            let style = if note == "ROLLBACK" {
                theme.bad()
            } else {
                theme.info()
            };
            if compact {
                Span::styled(note.to_string(), style)
            } else {
                Span::styled(format!("{note} ×{}", r.deployments.len()), style)
            }
        }
        None => Span::styled("—", theme.dim()),
    }
}

fn spread_span(r: &ServiceRow, theme: &Theme) -> Span<'static> {
    if r.spread.counts.is_empty() && r.spread.unknown == 0 {
        return Span::styled("—", theme.dim());
    }
    // Imbalance is marked with a symbol too, not by colour alone.
    if r.spread.is_imbalanced() {
        Span::styled(format!("{}!", r.spread.compact()), theme.warn())
    } else {
        Span::styled(r.spread.compact(), theme.base())
    }
}

fn alarms_cell(r: &ServiceRow, theme: &Theme) -> Line<'static> {
    match r.alarms_in_alarm.len() {
        0 => Line::from(Span::styled("—", theme.dim())),
        1 => Line::from(Span::styled(
            format!("⚠ {}", safe(&r.alarms_in_alarm[0])),
            theme.bad(),
        )),
        n => Line::from(Span::styled(
            format!("⚠ {n}: {}", safe(&r.alarms_in_alarm[0])),
            theme.bad(),
        )),
    }
}

/// Worst severity (a letter, never colour alone) and how many findings.
fn badge_span(app: &App, r: &ServiceRow, compact: bool) -> Span<'static> {
    match app.badges.get(&r.key) {
        None => Span::styled("—", app.theme.dim()),
        Some((sev, n)) => {
            let text = if compact {
                format!("{}{n}", letter(*sev))
            } else {
                format!("{} {n}", sev.as_str())
            };
            Span::styled(text, severity_style(*sev, &app.theme))
        }
    }
}

fn wide_row(
    r: &ServiceRow,
    theme: &Theme,
    age: u64,
    multi_region: bool,
    badge: Span<'static>,
) -> Row<'static> {
    let mut cells = vec![
        Cell::from(health_badge(r.health, theme)),
        Cell::from(safe(&r.cluster).into_owned()),
        Cell::from(safe(&r.name).into_owned()),
        Cell::from(counts_span(r, theme)),
        Cell::from(rollout_span(r, theme, false)),
        Cell::from(safe(&r.task_definition).into_owned()),
        Cell::from(spread_span(r, theme)),
        Cell::from(alarms_cell(r, theme)),
        Cell::from(badge),
        Cell::from(Span::styled(
            format!("{age}s"),
            if age > 30 { theme.warn() } else { theme.dim() },
        )),
    ];
    if multi_region {
        cells.insert(1, Cell::from(safe(&r.region).into_owned()));
    }
    Row::new(cells)
}

fn compact_row(r: &ServiceRow, theme: &Theme, badge: Span<'static>) -> Row<'static> {
    let alarms = match r.alarms_in_alarm.len() {
        0 => Span::styled("—", theme.dim()),
        n => Span::styled(format!("⚠{n}"), theme.bad()),
    };
    Row::new(vec![
        Cell::from(health_badge(r.health, theme)),
        Cell::from(safe(&r.key).into_owned()),
        Cell::from(counts_span(r, theme)),
        Cell::from(rollout_span(r, theme, true)),
        Cell::from(spread_span(r, theme)),
        Cell::from(alarms),
        Cell::from(badge),
    ])
}

pub struct ServicesPane;

impl PaneView for ServicesPane {
    fn id(&self) -> Pane {
        Pane::Services
    }
    fn title(&self) -> &'static str {
        "Services"
    }
    fn kinds(&self) -> &'static [&'static str] {
        &["ecs"]
    }
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize> {
        render(f, area, cx.app, cx.focused, cx.compact)
    }
}
