//! The run's dialogs: confirm the changes, arm the run, a checkpoint (with
//! choices, approvers and a note), the notes editor. Each is a component:
//! its keymap context (so help and the footer list its keys, and the line at
//! its foot is made from them), its key handling and its render.

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui_textarea::TextArea;

use super::ConsoleRun;
use crate::runbook::engine::CheckpointAsk;
use crate::ui::keymap::{self, Action, Context};
use crate::ui::theme::Theme;
use crate::ui::widgets::safe;

pub enum Modal {
    None,
    Confirm(Vec<String>),
    Arm {
        phrase: String,
        typed: String,
        error: Option<String>,
    },
    Answer(Box<AnswerForm>),
    Note(Box<TextArea<'static>>),
}

pub struct AnswerForm {
    pub ask: CheckpointAsk,
    pub choice: usize,
    pub note: TextArea<'static>,
    pub approvers: String,
    pub on_approvers: bool,
    pub error: Option<String>,
}

pub fn new_textarea(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(text.lines().map(str::to_string).collect());
    t.set_cursor_line_style(ratatui::style::Style::default());
    t
}

impl Modal {
    /// The keymap context of the open dialog (the run's, with none open).
    pub fn context(&self) -> Context {
        match self {
            Modal::None => Context::RunbookRun,
            Modal::Confirm(_) => Context::Confirm,
            Modal::Arm { .. } => Context::Arm,
            Modal::Answer(a) if a.ask.prose => Context::Read,
            Modal::Answer(a) if a.ask.approvers > 0 => Context::CheckpointApprovers,
            Modal::Answer(_) => Context::Checkpoint,
            Modal::Note(_) => Context::Note,
        }
    }
}

/// A text key (not Ctrl-something).
fn typed(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => Some(c),
        _ => None,
    }
}

impl ConsoleRun {
    /// A key while a dialog is open; returns a message for the bottom line.
    pub(super) fn dialog_key(&mut self, key: KeyEvent, now: i64) -> Option<(String, bool)> {
        let action = keymap::lookup(self.modal.context(), &key);
        let modal = std::mem::replace(&mut self.modal, Modal::None);
        let mut message = None;
        self.modal = match modal {
            Modal::None => Modal::None,
            Modal::Confirm(changes) => self.confirm_key(action, changes, now),
            Modal::Arm {
                phrase,
                typed,
                error,
            } => self.arm_key(action, &key, phrase, typed, error, now),
            Modal::Answer(a) => self.answer_key(action, &key, a, now),
            Modal::Note(mut t) => match action {
                Some(Action::Submit) => {
                    self.runner.note(now, &t.lines().join("\n"));
                    self.clear_draft();
                    message = Some(("note saved to the journal".into(), false));
                    Modal::None
                }
                // The draft stays on disk; `n` reopens it.
                Some(Action::Later) => Modal::None,
                _ => {
                    t.input(key);
                    self.modal = Modal::Note(t);
                    self.save_draft();
                    return None;
                }
            },
        };
        message
    }

    fn confirm_key(&mut self, action: Option<Action>, changes: Vec<String>, now: i64) -> Modal {
        match action {
            Some(Action::Yes) => {
                self.runner.confirm(now, true, false);
                Modal::None
            }
            Some(Action::No) => {
                self.runner.confirm(now, false, false);
                Modal::None
            }
            Some(Action::Later) => {
                self.dismissed = Some(format!(
                    "confirm:{}",
                    self.runner
                        .cur
                        .map(|i| self.runner.rb.steps[i].id.clone())
                        .unwrap_or_default()
                ));
                Modal::None
            }
            _ => Modal::Confirm(changes),
        }
    }

    fn arm_key(
        &mut self,
        action: Option<Action>,
        key: &KeyEvent,
        phrase: String,
        mut text: String,
        error: Option<String>,
        now: i64,
    ) -> Modal {
        match action {
            Some(Action::Later) => {
                self.dismissed = Some("arm".into());
                return Modal::None;
            }
            Some(Action::Submit) => {
                return match self.runner.arm(now, &text, false) {
                    Ok(()) => Modal::None,
                    Err(e) => Modal::Arm {
                        phrase,
                        typed: String::new(),
                        error: Some(e),
                    },
                };
            }
            _ => {}
        }
        if key.code == KeyCode::Backspace {
            text.pop();
        } else if let Some(c) = typed(key) {
            text.push(c);
        }
        Modal::Arm {
            phrase,
            typed: text,
            error,
        }
    }

    fn answer_key(
        &mut self,
        action: Option<Action>,
        key: &KeyEvent,
        mut a: Box<AnswerForm>,
        now: i64,
    ) -> Modal {
        match action {
            Some(Action::Submit) => {
                let note = a.note.lines().join("\n");
                // Names separated by commas; the runner refuses a name
                // given twice (any case or spacing).
                let approvers = crate::runbook::approvals::parse_field(&a.approvers);
                let choice = a.ask.choices[a.choice.min(a.ask.choices.len() - 1)].clone();
                match self.runner.answer(now, &choice, &note, &approvers, false) {
                    Ok(()) => {
                        self.clear_draft();
                        Modal::None
                    }
                    Err(e) => {
                        a.error = Some(e);
                        Modal::Answer(a)
                    }
                }
            }
            Some(Action::Later) => {
                self.dismissed = Some(format!("cp:{}:{}", a.ask.step, a.ask.prompt));
                Modal::None
            }
            Some(Action::NextChoice) => {
                a.choice = (a.choice + 1) % a.ask.choices.len().max(1);
                Modal::Answer(a)
            }
            Some(Action::SwitchField) => {
                a.on_approvers = !a.on_approvers;
                Modal::Answer(a)
            }
            _ if a.on_approvers => {
                if key.code == KeyCode::Backspace {
                    a.approvers.pop();
                    // Editing answers the error shown.
                    a.error = None;
                } else if let Some(c) = typed(key) {
                    a.approvers.push(c);
                    a.error = None;
                }
                Modal::Answer(a)
            }
            _ => {
                a.note.input(*key);
                self.modal = Modal::Answer(a);
                self.save_draft();
                std::mem::replace(&mut self.modal, Modal::None)
            }
        }
    }
}

// ------------------------------------------------------------------ drawing

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}

/// The open dialog over `area` (nothing when none is open).
pub fn render(f: &mut Frame, area: Rect, modal: &Modal, theme: &Theme) {
    let w = area.width.saturating_sub(8).min(96);
    match modal {
        Modal::None => {}
        Modal::Confirm(changes) => render_confirm(f, area, w, changes, theme),
        Modal::Arm {
            phrase,
            typed,
            error,
        } => render_arm(f, area, w, (phrase, typed, error.as_deref()), theme),
        Modal::Answer(a) => render_answer(f, area, w, a, modal.context(), theme),
        Modal::Note(t) => {
            let r = centered(area, w, 12);
            f.render_widget(Clear, r);
            let mut ta = (**t).clone();
            ta.set_block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.accent())
                    .title(format!(" Note ({}) ", keymap::hint(Context::Note))),
            );
            f.render_widget(&ta, r);
        }
    }
}

fn render_confirm(f: &mut Frame, area: Rect, w: u16, changes: &[String], theme: &Theme) {
    let inner_w = w.saturating_sub(2).max(1) as usize;
    let wrapped: u16 = changes
        .iter()
        .map(|c| (c.chars().count() + 2).div_ceil(inner_w) as u16)
        .sum();
    let r = centered(area, w, wrapped + 6);
    f.render_widget(Clear, r);
    let mut lines = vec![Line::from(Span::styled(
        "This step will make these changes:",
        theme.header(),
    ))];
    for c in changes {
        lines.push(Line::from(Span::styled(
            format!("  {}", safe(c)),
            theme.warn(),
        )));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        keymap::hint(Context::Confirm),
        theme.dim(),
    )));
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.bad())
                .title(" Confirm "),
        ),
        r,
    );
}

fn render_arm(
    f: &mut Frame,
    area: Rect,
    w: u16,
    (phrase, typed, error): (&str, &str, Option<&str>),
    theme: &Theme,
) {
    let r = centered(area, w, 7);
    f.render_widget(Clear, r);
    let mut lines = vec![
        Line::raw(format!(
            "Type the arm phrase to allow this run's changes: {}",
            safe(phrase)
        )),
        Line::from(Span::styled(format!("> {typed}▏"), theme.selected())),
    ];
    if let Some(e) = error {
        lines.push(Line::from(Span::styled(safe(e).into_owned(), theme.bad())));
    }
    lines.push(Line::from(Span::styled(
        keymap::hint(Context::Arm),
        theme.dim(),
    )));
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.bad())
                .title(" Arm "),
        ),
        r,
    );
}

fn render_answer(
    f: &mut Frame,
    area: Rect,
    w: u16,
    a: &AnswerForm,
    context: Context,
    theme: &Theme,
) {
    let diff = a.ask.diff.len() as u16;
    let r = centered(area, w, (14 + diff).min(area.height));
    f.render_widget(Clear, r);
    let title = if a.ask.prose {
        " Read and continue "
    } else {
        " Checkpoint "
    };
    let outer = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .title(title);
    let inner = outer.inner(r);
    f.render_widget(outer, r);
    let [prompt_a, choices_a, note_a, help_a] = Layout::vertical([
        Constraint::Length(2 + diff + u16::from(a.error.is_some())),
        Constraint::Length(1 + u16::from(a.ask.approvers > 0)),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let mut pl = vec![Line::raw(safe(&a.ask.prompt).into_owned())];
    for d in &a.ask.diff {
        pl.push(Line::from(Span::styled(safe(d).into_owned(), theme.info())));
    }
    if let Some(e) = &a.error {
        pl.push(Line::from(Span::styled(safe(e).into_owned(), theme.bad())));
    }
    f.render_widget(Paragraph::new(pl).wrap(Wrap { trim: false }), prompt_a);
    f.render_widget(Paragraph::new(choice_lines(a, theme)), choices_a);
    if !a.ask.prose {
        let mut ta = a.note.clone();
        ta.set_block(
            Block::default()
                .borders(Borders::TOP)
                .title(if a.ask.require_note {
                    " note (required) "
                } else {
                    " note "
                }),
        );
        f.render_widget(&ta, note_a);
    }
    f.render_widget(
        Paragraph::new(Span::styled(keymap::hint(context), theme.dim())),
        help_a,
    );
}

/// The choices, and the approvers field when the checkpoint needs them.
fn choice_lines(a: &AnswerForm, theme: &Theme) -> Vec<Line<'static>> {
    let mut cl = vec![Span::raw("choice: ")];
    for (i, c) in a.ask.choices.iter().enumerate() {
        cl.push(Span::styled(
            format!(" {} ", safe(c)),
            if i == a.choice {
                theme.selected()
            } else {
                theme.dim()
            },
        ));
    }
    let mut cls = vec![Line::from(cl)];
    if a.ask.approvers > 0 {
        cls.push(Line::from(vec![
            Span::raw(format!(
                "approved by ({} needed, comma-separated): ",
                a.ask.approvers
            )),
            Span::styled(
                format!("{}{}", a.approvers, if a.on_approvers { "▏" } else { "" }),
                if a.on_approvers {
                    theme.selected()
                } else {
                    theme.base()
                },
            ),
        ]));
    }
    cls
}
