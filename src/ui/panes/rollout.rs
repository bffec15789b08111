//! The service view's deployments (with the circuit breaker's count) and
//! Application Auto Scaling: target, policies, recent activities.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::detail::{current, gone, scrolled};
use super::{Cx, PaneView};
use super::{hhmmss, safe};
use crate::model::{DeploymentStatus, RolloutState, short_task_definition};
use crate::ui::app::{App, Pane};

fn progress_bar(running: i32, desired: i32, width: usize) -> String {
    let desired = desired.max(0) as usize;
    let running = running.max(0) as usize;
    // Nothing wanted (a drained or failed deployment): an empty bar.
    let filled = (running * width)
        .checked_div(desired)
        .map_or(0, |f| f.min(width));
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// Circuit-breaker failure threshold as ECS computes it.
fn breaker_threshold(desired: i32) -> i32 {
    ((desired as f64 * 0.5).ceil() as i32).clamp(3, 200)
}

pub fn render_rollout(f: &mut Frame, area: Rect, app: &App, key: &str, focused: bool) {
    let theme = &app.theme;
    let Some((svc, _)) = current(app, key) else {
        return gone(f, area, app, Pane::Rollout, focused);
    };
    let snap = &app.store.snapshot;
    let mut lines = Vec::new();
    for d in &svc.deployments {
        let (state, style) = match d.rollout_state {
            Some(RolloutState::Completed) => ("COMPLETED", theme.ok()),
            Some(RolloutState::InProgress) => ("IN_PROGRESS", theme.info()),
            Some(RolloutState::Failed) => ("FAILED", theme.bad()),
            None => ("—", theme.dim()),
        };
        let status_style = if d.status == DeploymentStatus::Primary {
            theme.accent()
        } else {
            theme.dim()
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<8}", d.status.as_str()), status_style),
            Span::raw(format!(
                "{} ",
                safe(short_task_definition(&d.task_definition))
            )),
            Span::styled(format!("{state} "), style),
            Span::styled(progress_bar(d.running_count, d.desired_count, 12), style),
            Span::raw(format!(
                " {}/{} running, {} pending, {} failed",
                d.running_count, d.desired_count, d.pending_count, d.failed_tasks
            )),
        ]));
        let mut detail = format!("        {} · started {}", safe(&d.id), hhmmss(d.created_at));
        if let Some(b) = &svc.deployment_configuration.deployment_circuit_breaker
            && b.enable
            && d.rollout_state == Some(RolloutState::InProgress)
        {
            detail.push_str(&format!(
                " · breaker {}/{}",
                d.failed_tasks,
                breaker_threshold(d.desired_count)
            ));
        }
        lines.push(Line::from(Span::styled(detail, theme.dim())));
        if let Some(r) = &d.rollout_state_reason {
            lines.push(Line::from(Span::styled(
                format!("        {}", safe(r)),
                theme.dim(),
            )));
        }
    }
    if svc.deployments.is_empty() {
        lines.push(Line::from(Span::styled(
            "no deployments reported",
            theme.dim(),
        )));
    }
    lines.push(Line::default());
    match snap.scalable_target(svc) {
        Some(t) => {
            let mut l = vec![
                Span::styled("Scaling ", theme.header()),
                Span::raw(format!(
                    "min {} · max {} · desired {}",
                    t.min_capacity, t.max_capacity, svc.desired_count
                )),
            ];
            if svc.desired_count >= t.max_capacity {
                l.push(Span::styled("  at max", theme.warn()));
            }
            if t.dynamic_scaling_in_suspended || t.dynamic_scaling_out_suspended {
                l.push(Span::styled("  suspended", theme.warn()));
            }
            lines.push(Line::from(l));
            for p in &t.policies {
                lines.push(Line::from(Span::styled(
                    format!(
                        "  {} · {} target {} · cooldown out {}s in {}s{}",
                        safe(&p.policy_name),
                        safe(&p.predefined_metric_type),
                        p.target_value,
                        p.scale_out_cooldown,
                        p.scale_in_cooldown,
                        if p.disable_scale_in {
                            " · scale-in disabled"
                        } else {
                            ""
                        }
                    ),
                    theme.dim(),
                )));
            }
            for a in snap.scaling_activities_for(svc).take(4) {
                let style = if a.status_code == "Successful" {
                    theme.base()
                } else {
                    theme.warn()
                };
                lines.push(Line::from(vec![
                    Span::styled(format!("  {} ", hhmmss(a.start_time)), theme.dim()),
                    Span::styled(format!("{} ", safe(&a.description)), style),
                    Span::styled(
                        format!("{} · {}", safe(&a.status_code), safe(&a.cause)),
                        theme.dim(),
                    ),
                ]));
            }
        }
        None => lines.push(Line::from(vec![
            Span::styled("Scaling ", theme.header()),
            Span::styled(
                "no Application Auto Scaling target: fixed desired count",
                theme.warn(),
            ),
        ])),
    }
    scrolled(
        f,
        area,
        app,
        Pane::Rollout,
        focused,
        Some(format!("{} deployments", svc.deployments.len())),
        lines,
    );
}

pub struct RolloutPane;

impl PaneView for RolloutPane {
    fn id(&self) -> Pane {
        Pane::Rollout
    }
    fn title(&self) -> &'static str {
        "Deployments & scaling"
    }
    fn tab(&self) -> &'static str {
        "Rollout"
    }
    fn kinds(&self) -> &'static [&'static str] {
        &["ecs", "autoscaling"]
    }
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize> {
        render_rollout(f, area, cx.app, cx.service_key(), cx.focused);
        None
    }
}
