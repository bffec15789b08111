//! Review findings: the fleet view (`:findings`, grouped by pillar and
//! severity with computed scores) and the open service's findings.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{Cx, PaneView};
use super::{block, clamp_scroll, inner, list_offset, safe};
use crate::review::{Finding, Pillar, Severity};
use crate::sanitize::fit;
use crate::ui::app::{App, Pane, finding_key};
use crate::ui::theme::Theme;

pub fn severity_style(s: Severity, theme: &Theme) -> Style {
    match s {
        Severity::Critical | Severity::High => theme.bad(),
        Severity::Medium => theme.warn(),
        Severity::Low => theme.dim(),
    }
}

/// `C` `H` `M` `L`: the severity as a letter (never colour alone).
pub fn letter(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "C",
        Severity::High => "H",
        Severity::Medium => "M",
        Severity::Low => "L",
    }
}

fn filter_note(app: &App, count: String) -> String {
    match app.filters.get(&Pane::Findings) {
        Some(f) => format!(
            "/{}{} · {count}",
            safe(&f.text),
            if f.literal { " (literal)" } else { "" }
        ),
        None => count,
    }
}

/// The fleet's findings: pillar scores on top, then one line per finding.
pub fn render_fleet(f: &mut Frame, area: Rect, app: &App, focused: bool) -> Option<usize> {
    let theme = &app.theme;
    let findings = app.visible_findings();
    let b = block(
        "Findings",
        Some(filter_note(
            app,
            format!(
                "{} · {} not evaluated",
                findings.len(),
                app.review().not_evaluated().len()
            ),
        )),
        focused,
        theme,
    );
    let body = b.inner(area);
    f.render_widget(b, area);
    let [summary, list] =
        Layout::vertical([Constraint::Length(8), Constraint::Fill(1)]).areas(body);
    let counts = app.review().counts();
    let scores = app.review().scores();
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<24}{:>6}  {:>4} {:>4} {:>4} {:>4}",
            "PILLAR", "SCORE", "CRIT", "HIGH", "MED", "LOW"
        ),
        theme.header(),
    ))];
    let incomplete = crate::review::incomplete_pillars(app.review().not_evaluated());
    for p in Pillar::ALL {
        let c = |s: Severity| counts.get(&p).and_then(|m| m.get(&s)).copied().unwrap_or(0);
        let score = scores.get(&p).copied().unwrap_or(100);
        // A pillar with checks that could not read their data scores at
        // most this: never shown as a plain (healthy-looking) number.
        let shown = if incomplete.contains(&p) {
            format!("≤{score}")
        } else {
            score.to_string()
        };
        let style = if incomplete.contains(&p) {
            theme.warn()
        } else if score < 50 {
            theme.bad()
        } else if score < 80 {
            theme.warn()
        } else {
            theme.ok()
        };
        lines.push(Line::from(vec![
            Span::raw(format!("{:<24}", p.name())),
            Span::styled(format!("{shown:>6}"), style),
            Span::raw(format!(
                "  {:>4} {:>4} {:>4} {:>4}",
                c(Severity::Critical),
                c(Severity::High),
                c(Severity::Medium),
                c(Severity::Low)
            )),
        ]));
    }
    f.render_widget(Paragraph::new(lines), summary);
    if findings.is_empty() {
        let msg = if app.review().is_empty() {
            "no check fired"
        } else {
            "no finding matches the filter"
        };
        f.render_widget(Paragraph::new(Span::styled(msg, theme.dim())), list);
        return None;
    }
    let height = list.height as usize;
    let selected = app.cursor(Pane::Findings).min(findings.len() - 1);
    let offset = list_offset(app, Pane::Findings, selected, height);
    let rows: Vec<Line> = findings
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, x)| {
            let mut line = Line::from(vec![
                Span::styled(
                    format!("{} ", letter(x.severity)),
                    severity_style(x.severity, theme),
                ),
                Span::styled(format!("{:<8}", x.id), theme.accent()),
                Span::raw(format!("{} ", fit(&finding_key(x), 22))),
                Span::raw(format!("{} ", x.title)),
                Span::styled(
                    x.evidence
                        .first()
                        .map(|e| safe(e).into_owned())
                        .unwrap_or_default(),
                    theme.dim(),
                ),
            ]);
            if i == selected && focused {
                line = line.style(theme.selected());
            }
            line
        })
        .collect();
    f.render_widget(Paragraph::new(rows), list);
    Some(offset)
}

/// The open service's findings with evidence and remediation.
pub fn render_service(f: &mut Frame, area: Rect, app: &App, focused: bool) {
    let theme = &app.theme;
    let findings: Vec<&Finding> = app.visible_findings();
    let mut lines = Vec::new();
    for x in &findings {
        lines.push(Line::from(vec![
            Span::styled(
                format!("{} ", letter(x.severity)),
                severity_style(x.severity, theme),
            ),
            Span::styled(format!("{} ", x.id), theme.accent()),
            Span::raw(x.title),
        ]));
        for e in &x.evidence {
            lines.push(Line::from(Span::styled(
                format!("    {}", safe(e)),
                theme.dim(),
            )));
        }
        lines.push(Line::from(Span::styled(
            format!("    → {}", x.remediation),
            theme.info(),
        )));
    }
    if findings.is_empty() {
        lines.push(Line::from(Span::styled(
            "no finding: every evaluated check passes",
            theme.ok(),
        )));
    }
    let h = inner(area).height as usize;
    let off = clamp_scroll(app.cursor(Pane::SvcFindings), lines.len(), h);
    let note = format!("{}", findings.len());
    f.render_widget(
        Paragraph::new(lines)
            .scroll((off.min(u16::MAX as usize) as u16, 0))
            .block(block("Findings", Some(note), focused, theme)),
        area,
    );
}

pub struct FindingsPane;

impl PaneView for FindingsPane {
    fn id(&self) -> Pane {
        Pane::Findings
    }
    fn title(&self) -> &'static str {
        "Findings"
    }
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize> {
        render_fleet(f, area, cx.app, cx.focused)
    }
}

pub struct SvcFindingsPane;

impl PaneView for SvcFindingsPane {
    fn id(&self) -> Pane {
        Pane::SvcFindings
    }
    fn title(&self) -> &'static str {
        "Findings"
    }
    fn render(&self, f: &mut Frame, area: Rect, cx: &Cx) -> Option<usize> {
        render_service(f, area, cx.app, cx.focused);
        None
    }
}
