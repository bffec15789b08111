//! The service view's tasks and ALB targets by availability zone, and the
//! recently stopped tasks with their stop codes and reasons.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::detail::{current, gone, scrolled};
use super::{Cx, PaneView};
use super::{hhmmss, safe, short_duration};
use crate::model::az::{UNKNOWN_AZ, az_short, targets_by_az};
use crate::model::{TargetState, short_task_definition};
use crate::sanitize::fit;
use crate::ui::app::{App, Pane};

pub fn render_tasks(f: &mut Frame, area: Rect, app: &App, key: &str, focused: bool) {
    let theme = &app.theme;
    let Some((svc, row)) = current(app, key) else {
        return gone(f, area, app, Pane::Tasks, focused);
    };
    let snap = &app.store.snapshot;
    let targets = targets_by_az(snap.target_groups_for(svc));
    let mut azs: Vec<String> = row.spread.counts.keys().cloned().collect();
    for az in targets.keys() {
        if !azs.contains(az) {
            azs.push(az.clone());
        }
    }
    if row.spread.unknown > 0 && !azs.iter().any(|a| a == UNKNOWN_AZ) {
        azs.push(UNKNOWN_AZ.into());
    }
    let max = row
        .spread
        .counts
        .values()
        .copied()
        .max()
        .unwrap_or(0)
        .max(row.spread.unknown);
    let min = row.spread.counts.values().copied().min().unwrap_or(0);
    let mut lines = Vec::new();
    for az in &azs {
        let n = if az == UNKNOWN_AZ {
            row.spread.unknown
        } else {
            row.spread.counts.get(az).copied().unwrap_or(0)
        };
        let low = row.spread.counts.len() > 1 && n == min && max > n + 1;
        let az_style = if low || (n == 0 && svc.desired_count > 0) {
            theme.warn()
        } else {
            theme.header()
        };
        let mut spans = vec![
            Span::styled(fit(az_short(az), 4).into_owned(), az_style),
            Span::styled(format!("{} ", "■".repeat(n.min(20) as usize)), az_style),
            Span::raw(format!("{n} running")),
        ];
        if let Some(t) = targets.get(az) {
            spans.push(Span::styled("  targets ", theme.dim()));
            for (state, count) in t {
                let style = match state {
                    TargetState::Healthy => theme.ok(),
                    TargetState::Unhealthy => theme.bad(),
                    TargetState::Draining | TargetState::Initial => theme.warn(),
                    _ => theme.dim(),
                };
                spans.push(Span::styled(format!("{count} {} ", state.as_str()), style));
            }
        }
        lines.push(Line::from(spans));
        let tasks: Vec<_> = svc
            .tasks
            .iter()
            .filter(|t| !t.is_stopped())
            .filter(|t| t.availability_zone.as_deref().unwrap_or(UNKNOWN_AZ) == az)
            .collect();
        for t in tasks {
            let hstyle = match t.health_status.as_str() {
                "HEALTHY" => theme.ok(),
                "UNHEALTHY" => theme.bad(),
                _ => theme.dim(),
            };
            lines.push(Line::from(vec![
                Span::styled(format!("    {:.8} ", safe(&t.id)), theme.dim()),
                Span::raw(fit(&t.last_status, 13).into_owned()),
                Span::styled(fit(&t.health_status, 10).into_owned(), hstyle),
                Span::styled(
                    format!(
                        "{} {}",
                        safe(short_task_definition(&t.task_definition)),
                        t.started_at
                            .map(|s| format!("up {}", short_duration(snap.at - s)))
                            .unwrap_or_default()
                    ),
                    theme.dim(),
                ),
            ]));
        }
    }
    let stopped: Vec<_> = {
        let mut v: Vec<_> = svc.tasks.iter().filter(|t| t.is_stopped()).collect();
        v.sort_by_key(|t| std::cmp::Reverse(t.stopped_at.unwrap_or(0)));
        v
    };
    if !stopped.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("Recently stopped ({})", stopped.len()),
            theme.header(),
        )));
        for t in stopped.iter().take(12) {
            let exit = t
                .exit_code()
                .map(|c| format!(" exit {c}"))
                .unwrap_or_default();
            let bad = t.stopped_abnormally();
            lines.push(Line::from(vec![
                Span::styled(
                    format!(
                        "  {} {:.8} {} ",
                        t.stopped_at.map(hhmmss).unwrap_or_default(),
                        safe(&t.id),
                        safe(az_short(t.availability_zone.as_deref().unwrap_or("?")))
                    ),
                    theme.dim(),
                ),
                Span::styled(
                    format!(
                        "{}{exit}: {}",
                        t.stop_code.as_deref().map(safe).unwrap_or_default(),
                        t.stopped_reason.as_deref().map(safe).unwrap_or_default()
                    ),
                    if bad { theme.bad() } else { theme.dim() },
                ),
            ]));
        }
    }
    let note = format!("{} running · {}", row.spread.total(), row.spread.compact());
    scrolled(f, area, app, Pane::Tasks, focused, Some(note), lines);
}

pub struct TasksPane;

impl PaneView for TasksPane {
    fn id(&self) -> Pane {
        Pane::Tasks
    }
    fn title(&self) -> &'static str {
        "Tasks & targets by AZ"
    }
    fn tab(&self) -> &'static str {
        "AZ"
    }
    fn kinds(&self) -> &'static [&'static str] {
        &["ecs", "elbv2", "ec2"]
    }
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize> {
        render_tasks(f, area, cx.app, cx.service_key(), cx.focused);
        None
    }
}
