//! The service detail: header, deployments & scaling, tasks and targets by
//! AZ, metrics as sparklines, alarms with history, service events.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::{
    alarm_style, block, clamp_scroll, health_badge, hhmmss, inner, safe, short_duration, with_age,
};
use crate::model::az::{UNKNOWN_AZ, az_short, targets_by_az};
use crate::model::rows::ServiceRow;
use crate::model::{
    DeploymentStatus, FleetSnapshot, MetricSeries, RolloutState, Service, ServiceId, TargetState,
    short_task_definition,
};
use crate::sanitize::fit;
use crate::ui::app::{App, Pane};
use crate::ui::theme::Theme;

/// The open service and its row, if it still exists.
fn current<'a>(app: &'a App, key: Option<&ServiceId>) -> Option<(&'a Service, &'a ServiceRow)> {
    let row = app.rows.iter().find(|r| Some(&r.id) == key)?;
    let svc = app.store.snapshot.services.get(row.index)?;
    Some((svc, row))
}

/// A scrolling text pane: lines, clamped scroll offset from the cursor.
fn scrolled(
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
    let title = pane.title();
    let p = Paragraph::new(lines)
        .block(block(title, with_age(app, pane, note), focused, &app.theme))
        .scroll((off.min(u16::MAX as usize) as u16, 0));
    f.render_widget(p, area);
}

fn gone(f: &mut Frame, area: Rect, app: &App, pane: Pane, focused: bool) {
    f.render_widget(
        Paragraph::new(Span::styled(
            "this service is no longer in the fleet (Esc goes back)",
            app.theme.warn(),
        ))
        .block(block(pane.title(), None, focused, &app.theme)),
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
            format!("{} · {} ", safe(&svc.cluster), safe(&svc.region)),
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

pub fn render_rollout(
    f: &mut Frame,
    area: Rect,
    app: &App,
    key: Option<&ServiceId>,
    focused: bool,
) {
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

pub fn render_tasks(f: &mut Frame, area: Rect, app: &App, key: Option<&ServiceId>, focused: bool) {
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

struct MetricRow<'a> {
    label: &'static str,
    unit: &'static str,
    series: &'a MetricSeries,
    scale: f64,
    /// Fixed top of the scale (percentages), or None to fit the data.
    max: Option<u64>,
}

pub fn render_metrics(
    f: &mut Frame,
    area: Rect,
    app: &App,
    key: Option<&ServiceId>,
    focused: bool,
) {
    let theme = &app.theme;
    let Some((svc, _)) = current(app, key) else {
        return gone(f, area, app, Pane::Metrics, focused);
    };
    let b = block(
        "Metrics",
        with_age(app, Pane::Metrics, Some("last hour, 1-min".into())),
        focused,
        theme,
    );
    let inner_area = b.inner(area);
    f.render_widget(b, area);
    let Some(m) = app.store.snapshot.metrics_for(svc) else {
        f.render_widget(
            Paragraph::new(Span::styled("no metrics from this source", theme.dim())),
            inner_area,
        );
        return;
    };
    let rows = [
        MetricRow {
            label: "CPU",
            unit: "%",
            series: &m.cpu,
            scale: 10.0,
            max: Some(1000),
        },
        MetricRow {
            label: "Memory",
            unit: "%",
            series: &m.memory,
            scale: 10.0,
            max: Some(1000),
        },
        MetricRow {
            label: "Requests",
            unit: "/min",
            series: &m.requests,
            scale: 1.0,
            max: None,
        },
        MetricRow {
            label: "5XX",
            unit: "/min",
            series: &m.http_5xx,
            scale: 1.0,
            max: None,
        },
        MetricRow {
            label: "p99",
            unit: "ms",
            series: &m.latency_p99_ms,
            scale: 1.0,
            max: None,
        },
    ];
    let per = (inner_area.height / rows.len() as u16).clamp(1, 3);
    let areas = Layout::vertical(rows.iter().map(|_| Constraint::Length(per))).split(inner_area);
    for (r, a) in rows.iter().zip(areas.iter()) {
        let [label_area, spark_area] =
            Layout::horizontal([Constraint::Length(24), Constraint::Fill(1)]).areas(*a);
        let last = r.series.last();
        let max = r.series.values.iter().copied().fold(f64::NAN, f64::max);
        let text = match last {
            Some(v) => format!("{:<9}{:>7}{:<5}", r.label, fmt_value(v), r.unit),
            None => format!("{:<9}{:>7}", r.label, "no data"),
        };
        let peak = if max.is_finite() {
            format!("max {}", fmt_value(max))
        } else {
            String::new()
        };
        let style = metric_style(r.label, last, theme);
        f.render_widget(
            Paragraph::new(vec![
                Line::from(Span::styled(text, style)),
                Line::from(Span::styled(format!("         {peak}"), theme.dim())),
            ]),
            label_area,
        );
        let data: Vec<u64> = r
            .series
            .values
            .iter()
            .map(|v| (v.max(0.0) * r.scale).round() as u64)
            .collect();
        let start = data.len().saturating_sub(spark_area.width as usize);
        let mut spark = Sparkline::default()
            .data(&data[start..])
            .style(theme.spark());
        if let Some(m) = r.max {
            spark = spark.max(m);
        }
        f.render_widget(spark, spark_area);
    }
}

fn fmt_value(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn metric_style(label: &str, last: Option<f64>, theme: &Theme) -> Style {
    match (label, last) {
        ("CPU" | "Memory", Some(v)) if v >= 85.0 => theme.bad(),
        ("CPU" | "Memory", Some(v)) if v >= 70.0 => theme.warn(),
        ("5XX", Some(v)) if v > 0.0 => theme.warn(),
        _ => theme.base(),
    }
}

pub fn render_alarms(f: &mut Frame, area: Rect, app: &App, key: Option<&ServiceId>, focused: bool) {
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

pub fn render_events(f: &mut Frame, area: Rect, app: &App, key: Option<&ServiceId>, focused: bool) {
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
