//! The service view's metrics as sparklines: CPU, memory, requests, 5XX,
//! p99 latency over the last hour.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::detail::{current, gone};
use super::{Cx, PaneView};
use super::{block, with_age};
use crate::model::MetricSeries;
use crate::ui::app::{App, Pane};
use crate::ui::theme::Theme;

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
    key: Option<&crate::model::ServiceId>,
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
        // A NaN point is a minute with no datum (no load balancer, say):
        // `no data`, never `NaN/min`.
        let last = r.series.last().filter(|v| v.is_finite());
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

pub struct MetricsPane;

impl PaneView for MetricsPane {
    fn id(&self) -> Pane {
        Pane::Metrics
    }
    fn title(&self) -> &'static str {
        "Metrics"
    }
    fn kinds(&self) -> &'static [&'static str] {
        &["metrics"]
    }
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize> {
        render_metrics(f, area, cx.app, cx.service_key(), cx.focused);
        None
    }
}
