//! Drawing the runbook view: the list, the parameter form, the run (steps,
//! the selected step, the journal) with its open dialog on top.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Paragraph, Wrap};

use super::{ConsoleRun, ParamForm, RunbookUi, Screen, dialogs};
use crate::runbook::Block as RbBlock;
use crate::runbook::engine::{StepState, fmt_dur};
use crate::sanitize::fit;
use crate::ui::theme::Theme;
use crate::ui::widgets::{block, safe};

fn state_mark(s: StepState, current: bool, theme: &Theme) -> Span<'static> {
    let (t, st) = match s {
        _ if current => ("▶", theme.accent()),
        StepState::Pending => ("·", theme.dim()),
        StepState::Running => ("▶", theme.accent()),
        StepState::Done => ("✓", theme.ok()),
        StepState::Skipped => ("–", theme.dim()),
        StepState::Failed => ("✗", theme.bad()),
        StepState::TimedOut => ("⏱", theme.warn()),
        StepState::DryRun => ("○", theme.info()),
    };
    Span::styled(t, st)
}

pub fn render(f: &mut Frame, area: Rect, ui: &RunbookUi, theme: &Theme, now: i64) {
    match &ui.screen {
        Screen::List => render_list(f, area, ui, theme),
        Screen::Params(form) => render_params(f, area, ui, form, theme),
        Screen::Run(run) => render_run(f, area, run, theme, now),
    }
}

fn render_list(f: &mut Frame, area: Rect, ui: &RunbookUi, theme: &Theme) {
    let mode = if ui.write {
        "--write: actions are made after confirmation"
    } else {
        "read-only: actions are shown, not made (start with --write)"
    };
    let b = block("Runbooks", Some(mode.into()), true, theme);
    let mut lines = vec![];
    for (i, r) in ui.library.runbooks.iter().enumerate() {
        let st = if i == ui.list_cursor {
            theme.selected()
        } else {
            theme.base()
        };
        lines.push(Line::from(vec![
            Span::styled(format!(" {} ", fit(&r.meta.id, 21)), st),
            Span::styled(format!("{:<12}", r.meta.kind.as_str()), theme.dim()),
            Span::styled(safe(&r.meta.title).into_owned(), st),
        ]));
    }
    for p in &ui.library.problems {
        lines.push(Line::from(Span::styled(
            format!(" ✗ {}", safe(&p.error)),
            theme.bad(),
        )));
    }
    if !ui.interrupted.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(
            " Interrupted runs (Enter resumes from the journal):",
            theme.header(),
        )));
        let n = ui.library.runbooks.len();
        for (i, (id, rb)) in ui.interrupted.iter().enumerate() {
            let st = if n + i == ui.list_cursor {
                theme.selected()
            } else {
                theme.warn()
            };
            lines.push(Line::from(vec![
                Span::styled(format!(" {} ", fit(rb, 21)), st),
                Span::styled(safe(id).into_owned(), st),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        " Enter: fill parameters and start · j/k: move · Esc: back",
        theme.dim(),
    )));
    f.render_widget(Paragraph::new(lines).block(b), area);
}

fn render_params(f: &mut Frame, area: Rect, ui: &RunbookUi, form: &ParamForm, theme: &Theme) {
    let rb = &ui.library.runbooks[form.runbook];
    let b = block(&rb.meta.title, Some(rb.meta.id.clone()), true, theme);
    let mut lines = vec![
        Line::from(Span::styled(
            " Parameters (Tab/↑↓ move, Enter start, Esc back)",
            theme.dim(),
        )),
        Line::raw(""),
    ];
    // A long form scrolls so that the field being edited stays in view.
    let inner_w = usize::from(area.width.saturating_sub(2)).max(1);
    let rows = |l: &Line| l.width().max(1).div_ceil(inner_w);
    let mut cursor_rows = (0, 0);
    for (i, (name, prompt, value, required)) in form.fields.iter().enumerate() {
        let cur = i == form.cursor;
        if cur {
            cursor_rows.0 = lines.iter().map(rows).sum::<usize>();
        }
        lines.push(Line::from(vec![
            Span::styled(
                format!(" {}{:<16}", if cur { "›" } else { " " }, name),
                if cur { theme.accent() } else { theme.base() },
            ),
            Span::styled(
                format!("{value}{}", if cur { "▏" } else { "" }),
                if cur { theme.selected() } else { theme.base() },
            ),
            Span::styled(
                format!(
                    "  {}{}",
                    if *required && value.is_empty() {
                        "required · "
                    } else {
                        ""
                    },
                    safe(prompt)
                ),
                theme.dim(),
            ),
        ]));
        if cur {
            cursor_rows.1 = cursor_rows.0 + lines.last().map_or(1, rows);
        }
    }
    let visible = usize::from(area.height.saturating_sub(2));
    let offset = cursor_rows.1.saturating_sub(visible);
    if let Some(e) = &form.error {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(
            format!(" {}", safe(e)),
            theme.bad(),
        )));
    }
    if !ui.write {
        lines.push(Line::raw(""));
        lines.push(Line::from(Span::styled(" Dry run: ecsdeck was started without --write; action steps show the calls they would make.", theme.warn())));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(offset).unwrap_or(u16::MAX), 0))
            .block(b),
        area,
    );
}

fn render_run(f: &mut Frame, area: Rect, run: &ConsoleRun, theme: &Theme, now: i64) {
    let r = &run.runner;
    let narrow = area.width < 100;
    let [steps_area, detail_area] = if narrow {
        Layout::vertical([
            Constraint::Length((r.rb.steps.len() as u16 + 2).min(area.height / 2)),
            Constraint::Fill(1),
        ])
        .areas(area)
    } else {
        Layout::horizontal([Constraint::Length(38), Constraint::Fill(1)]).areas(area)
    };
    render_steps(f, steps_area, run, theme);

    // The selected step: prose, block, live progress.
    let i = run.step_cursor.min(r.rb.steps.len().saturating_sub(1));
    let title = format!("{} · {}", r.rb.meta.id, r.run_id);
    let b = block(&title, Some(r.phase_label()), false, theme);
    let mut lines = step_lines(run, i, theme, now);
    lines.push(Line::raw(""));
    lines.extend(outcome_lines(run, theme, now));
    let room = detail_area.height.saturating_sub(2) as usize;
    let journal_room = room.saturating_sub(lines.len() + 1);
    if journal_room > 1 {
        lines.extend(journal_lines(run, journal_room - 1, theme));
    }
    f.render_widget(
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: false })
            .block(b),
        detail_area,
    );

    dialogs::render(f, area, &run.modal, theme);
}

/// The steps with their states.
fn render_steps(f: &mut Frame, area: Rect, run: &ConsoleRun, theme: &Theme) {
    let r = &run.runner;
    let mode = if r.dry_run() { "DRY RUN" } else { "LIVE" };
    let b = block("Steps", Some(mode.into()), true, theme);
    let mut lines = vec![];
    let h = area.height.saturating_sub(2) as usize;
    let first = run.step_cursor.saturating_sub(h.saturating_sub(1));
    for (i, s) in r.rb.steps.iter().enumerate().skip(first).take(h) {
        let current = r.cur == Some(i) && !r.is_finished();
        let st = if i == run.step_cursor {
            theme.selected()
        } else if s.common().detached && r.states[i] == StepState::Pending {
            theme.dim()
        } else {
            theme.base()
        };
        lines.push(Line::from(vec![
            Span::raw(" "),
            state_mark(r.states[i], current, theme),
            Span::styled(format!(" {}", safe(&s.title)), st),
        ]));
    }
    f.render_widget(Paragraph::new(lines).block(b), area);
}

/// Step `i`: its title, prose, block, and (the current one) its progress.
fn step_lines(run: &ConsoleRun, i: usize, theme: &Theme, now: i64) -> Vec<Line<'static>> {
    let r = &run.runner;
    let step = &r.rb.steps[i];
    let mut lines: Vec<Line> = vec![Line::from(Span::styled(
        format!("{}  ({})", safe(&step.title), step.kind()),
        theme.header(),
    ))];
    if !step.body.is_empty() {
        // Markdown paragraphs: soft line breaks join, blank lines separate.
        let body = r.display_text(&step.body);
        for para in body.split("\n\n").take(4) {
            let joined: Vec<&str> = para.lines().map(str::trim).collect();
            lines.push(Line::raw(safe(&joined.join(" ")).into_owned()));
        }
    }
    match &step.block {
        RbBlock::Action(a) => lines.push(Line::from(Span::styled(
            format!("action: {}", a.op.name()),
            theme.info(),
        ))),
        RbBlock::Verify(v) => {
            let hold = v
                .hold
                .as_deref()
                .map(|h| format!(", hold {h}"))
                .unwrap_or_default();
            lines.push(Line::from(Span::styled(
                format!("verify: all of {} condition(s){hold}", v.all.len()),
                theme.info(),
            )));
        }
        _ => {}
    }
    if r.cur == Some(i) {
        if let Some((elapsed, timeout, holding, hold)) = r.verify_progress(now) {
            lines.push(Line::raw(""));
            let mut spans = vec![Span::raw(format!(
                "waiting {} of {}",
                fmt_dur(elapsed),
                fmt_dur(timeout)
            ))];
            if let Some(hs) = holding {
                spans.push(Span::styled(
                    format!(" · holding {} of {}", fmt_dur(hs), fmt_dur(hold)),
                    theme.ok(),
                ));
            }
            lines.push(Line::from(spans));
        }
        // What still fails first: on a small terminal it is what must show.
        let (failing, holding): (Vec<_>, Vec<_>) = r.last_results.iter().partition(|c| !c.ok);
        for c in failing.into_iter().chain(holding) {
            lines.push(Line::from(vec![
                Span::styled(
                    if c.ok { " ✓ " } else { " ✗ " },
                    if c.ok { theme.ok() } else { theme.warn() },
                ),
                Span::raw(safe(&c.text).into_owned()),
            ]));
        }
    }
    lines
}

/// Markers, and the outcome once the run ended.
fn outcome_lines(run: &ConsoleRun, theme: &Theme, now: i64) -> Vec<Line<'static>> {
    let r = &run.runner;
    let mut lines = Vec::new();
    if !r.markers.is_empty() {
        let t0 = r.journal.events.first().map(|e| e.ts).unwrap_or(now);
        let m: Vec<String> = r
            .markers
            .iter()
            .map(|(k, v)| format!("{k} +{}", fmt_dur(v - t0)))
            .collect();
        lines.push(Line::from(Span::styled(
            format!("markers: {}", m.join(" · ")),
            theme.accent(),
        )));
    }
    if let Some(s) = r.summary() {
        lines.push(Line::from(Span::styled(
            format!(
                "{}{}{}",
                s.outcome.as_str().to_uppercase(),
                s.reason
                    .as_deref()
                    .map(|x| format!(": {x}"))
                    .unwrap_or_default(),
                s.rto_seconds
                    .map(|x| format!(" · RTO {}", fmt_dur((x * 1000.0) as i64)))
                    .unwrap_or_default()
            ),
            if s.outcome == crate::runbook::engine::Outcome::Completed {
                theme.ok()
            } else {
                theme.bad()
            },
        )));
        lines.push(Line::from(Span::styled(
            format!("report: {}", s.report.display()),
            theme.dim(),
        )));
    }
    lines
}

/// The newest `n` journal events, under a `journal` heading.
fn journal_lines(run: &ConsoleRun, n: usize, theme: &Theme) -> Vec<Line<'static>> {
    let r = &run.runner;
    let mut lines = vec![Line::from(Span::styled("journal", theme.dim()))];
    let evs: Vec<String> = r
        .journal
        .events
        .iter()
        .filter_map(|e| {
            crate::runbook::report::describe(e).map(|d| {
                format!(
                    "{} {:<12} {}",
                    crate::ui::widgets::hhmmss(e.ts),
                    e.step.as_deref().unwrap_or(""),
                    d
                )
            })
        })
        .collect();
    for e in evs.iter().skip(evs.len().saturating_sub(n)) {
        lines.push(Line::from(Span::styled(safe(e).into_owned(), theme.dim())));
    }
    lines
}
