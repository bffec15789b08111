//! The service view's header and what its panes share: the open service,
//! a scrolling text pane, "this service is gone". The panes themselves:
//! `rollout`, `tasks`, `metrics`, `svc_alarms`, `events`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{block, clamp_scroll, health_badge, inner, safe, with_age};
use crate::model::Service;
use crate::model::ServiceId;
use crate::model::rows::ServiceRow;
use crate::ui::app::{App, Pane};

/// The open service and its row, if it still exists.
pub(super) fn current<'a>(
    app: &'a App,
    key: Option<&ServiceId>,
) -> Option<(&'a Service, &'a ServiceRow)> {
    let row = app.rows.iter().find(|r| Some(&r.id) == key)?;
    let svc = app.store.snapshot.services.get(row.index)?;
    Some((svc, row))
}

/// A scrolling text pane: lines, clamped scroll offset from the cursor.
pub(super) fn scrolled(
    f: &mut Frame,
    area: Rect,
    app: &App,
    pane: Pane,
    focused: bool,
    note: Option<String>,
    lines: Vec<Line>,
) {
    let h = inner(area).height as usize;
    let off = clamp_scroll(app.cursor(pane), lines.len(), h);
    let title = super::of(pane).title();
    let p = Paragraph::new(lines)
        .block(block(title, with_age(app, pane, note), focused, &app.theme))
        .scroll((off.min(u16::MAX as usize) as u16, 0));
    f.render_widget(p, area);
}

pub(super) fn gone(f: &mut Frame, area: Rect, app: &App, pane: Pane, focused: bool) {
    f.render_widget(
        Paragraph::new(Span::styled(
            "this service is no longer in the fleet (Esc goes back)",
            app.theme.warn(),
        ))
        .block(block(super::of(pane).title(), None, focused, &app.theme)),
        area,
    );
}

/// One or two header lines: identity, size, counts, deployment configuration.
pub fn render_header(f: &mut Frame, area: Rect, app: &App, key: Option<&ServiceId>) {
    let theme = &app.theme;
    let Some((svc, row)) = current(app, key) else {
        f.render_widget(
            Paragraph::new(Span::styled(
                format!(
                    "{} — gone",
                    safe(&key.map(ServiceId::short).unwrap_or_default())
                ),
                theme.warn(),
            )),
            area,
        );
        return;
    };
    let snap = &app.store.snapshot;
    let td = snap.task_definition(&row_td_arn(svc));
    let size = td
        .map(|t| {
            format!(
                "{} cpu / {} MiB",
                t.cpu.as_deref().map(safe).unwrap_or_else(|| "?".into()),
                t.memory.as_deref().map(safe).unwrap_or_else(|| "?".into())
            )
        })
        .unwrap_or_else(|| "size unknown".into());
    let launch = if !svc.launch_type.is_empty() {
        svc.launch_type.clone()
    } else {
        svc.capacity_provider_strategy
            .iter()
            .map(|c| format!("{}:{}/{}", c.capacity_provider, c.base, c.weight))
            .collect::<Vec<_>>()
            .join(",")
    };
    let dc = &svc.deployment_configuration;
    let breaker = match &dc.deployment_circuit_breaker {
        Some(b) if b.enable && b.rollback => "breaker+rollback",
        Some(b) if b.enable => "breaker (no rollback)",
        _ => "no circuit breaker",
    };
    let line1 = Line::from(vec![
        Span::styled(format!("{} ", safe(&svc.name)), theme.title()),
        Span::styled(
            if snap.spans_accounts() {
                format!(
                    "{} · {} {} ",
                    safe(&svc.cluster),
                    safe(&svc.account),
                    safe(&svc.region)
                )
            } else {
                format!("{} · {} ", safe(&svc.cluster), safe(&svc.region))
            },
            theme.dim(),
        ),
        health_badge(row.health, theme),
        Span::raw(format!(
            "   desired {} · running {} · pending {}",
            svc.desired_count, svc.running_count, svc.pending_count
        )),
    ]);
    let line2 = Line::from(vec![Span::styled(
        format!(
            "{} · {size} · {} {} · rolling {}/{} · {breaker} · AZ rebalancing {} · spread {}",
            safe(&row.task_definition),
            safe(&launch),
            svc.platform_version
                .as_deref()
                .map(safe)
                .unwrap_or_default(),
            dc.minimum_healthy_percent,
            dc.maximum_percent,
            if svc.availability_zone_rebalancing.is_empty() {
                "?"
            } else {
                &svc.availability_zone_rebalancing
            },
            row.spread.compact(),
        ),
        theme.dim(),
    )]);
    f.render_widget(Paragraph::new(vec![line1, line2]), area);
}

fn row_td_arn(svc: &Service) -> String {
    svc.primary_deployment()
        .map(|d| d.task_definition.clone())
        .unwrap_or_else(|| svc.task_definition.clone())
}
