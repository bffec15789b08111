//! `:runbooks`: pick a runbook, fill its parameters, and run it step by step
//! in the console. The runner is the same as headless (`runbook::engine`);
//! its calls go to the source as [`Control::Apply`] and come back as
//! [`Update::CallResult`](crate::source::Update::CallResult).
//!
//! Notes are written to `<run dir>/notes-draft.md` on every keystroke, so a
//! crash or a dropped SSH session never loses what was typed.

use std::path::PathBuf;
use std::time::Instant;

use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui_textarea::TextArea;
use tokio::sync::mpsc::error::TrySendError;

use crate::model::FleetSnapshot;
use crate::review::ReviewConfig;
use crate::runbook::engine::{
    CheckpointAsk, Need, RunConfig, Runner, StepState, bind_params, fmt_dur,
};
use crate::runbook::outbox::{CallOutbox, Refused};
use crate::runbook::{Block as RbBlock, Library, journal};
use crate::sanitize::fit;
use crate::source::Control;
use crate::ui::panes::{block, safe};
use crate::ui::theme::Theme;

pub enum Screen {
    List,
    Params(ParamForm),
    Run(Box<ConsoleRun>),
}

pub struct ParamForm {
    pub runbook: usize,
    /// (name, prompt, value, required)
    pub fields: Vec<(String, String, String, bool)>,
    pub cursor: usize,
    pub error: Option<String>,
}

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

pub struct ConsoleRun {
    pub runner: Runner,
    pub modal: Modal,
    /// Id of the call sent to the source and not answered yet.
    pub in_flight: Option<u64>,
    pub next_id: u64,
    /// The need the operator closed a dialog on (not reopened by itself).
    pub dismissed: Option<String>,
    pub step_cursor: usize,
    /// Press X twice to abort.
    pub abort_armed: bool,
    /// The in-flight call while the source's queue has not taken it.
    pub outbox: CallOutbox,
}

pub struct RunbookUi {
    pub library: Library,
    pub screen: Screen,
    pub list_cursor: usize,
    pub write: bool,
    pub data_dir: Option<PathBuf>,
    pub operator: String,
    pub review: ReviewConfig,
    pub source_label: String,
    pub message: Option<(String, bool)>,
    /// Run id to use instead of a fresh one (screen tests).
    pub fixed_run_id: Option<String>,
    /// Runs in the data dir that never ended (a dropped SSH session, a
    /// crash): (run id, runbook id), newest first. Listed under the runbooks.
    pub interrupted: Vec<(String, String)>,
}

impl Default for RunbookUi {
    fn default() -> Self {
        RunbookUi {
            library: Library::load(&[]),
            screen: Screen::List,
            list_cursor: 0,
            write: false,
            data_dir: None,
            operator: std::env::var("USER").unwrap_or_else(|_| "operator".into()),
            review: ReviewConfig::default(),
            source_label: String::new(),
            message: None,
            fixed_run_id: None,
            interrupted: Vec::new(),
        }
    }
}

fn need_key(n: &Need) -> String {
    match n {
        Need::Confirm { step, .. } => format!("confirm:{step}"),
        Need::Arm { .. } => "arm".into(),
        Need::Checkpoint(a) => format!("cp:{}:{}", a.step, a.prompt),
        _ => String::new(),
    }
}

fn new_textarea(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(text.lines().map(str::to_string).collect());
    t.set_cursor_line_style(ratatui::style::Style::default());
    t
}

impl ConsoleRun {
    fn draft_path(&self) -> Option<PathBuf> {
        self.runner
            .run_dir
            .as_ref()
            .map(|d| d.join("notes-draft.md"))
    }

    /// Save what is being typed (never lost, even on a crash).
    fn save_draft(&self) {
        let text = match &self.modal {
            Modal::Answer(a) => a.note.lines().join("\n"),
            Modal::Note(t) => t.lines().join("\n"),
            _ => return,
        };
        if let Some(p) = self.draft_path() {
            let _ = std::fs::write(p, text);
        }
    }

    fn clear_draft(&self) {
        if let Some(p) = self.draft_path() {
            let _ = std::fs::remove_file(p);
        }
    }

    fn draft(&self) -> String {
        self.draft_path()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default()
    }
}

impl RunbookUi {
    /// Look for runs of this source that never ended (newest first, at most 5).
    pub fn scan_interrupted(&mut self) {
        self.interrupted.clear();
        let Some(dir) = self.data_dir.as_ref().map(|d| d.join("runs")) else {
            return;
        };
        let mut runs: Vec<(std::time::SystemTime, String, String)> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let journal = e.path().join("journal.jsonl");
                let modified = std::fs::metadata(&journal)
                    .and_then(|m| m.modified())
                    .ok()?;
                let events = journal::read(&journal).ok()?;
                let start = events.iter().find(|e| e.kind() == "run_start")?;
                if events.iter().any(|e| e.kind() == "run_end")
                    || start.detail()["source"] != self.source_label.as_str()
                {
                    return None;
                }
                let id = e.file_name().to_string_lossy().into_owned();
                let runbook = start.detail()["runbook"].as_str()?.to_string();
                Some((modified, id, runbook))
            })
            .collect();
        runs.sort_by_key(|r| std::cmp::Reverse(r.0));
        self.interrupted = runs.into_iter().take(5).map(|(_, i, r)| (i, r)).collect();
    }

    fn resume(&self, run_id: &str, runbook: &str) -> Result<Box<ConsoleRun>, String> {
        if self.source_label.starts_with("demo:") {
            // The console's simulator restarted with this session; only the
            // headless resume replays the run's calls into a simulator.
            return Err(format!(
                "on the demo, resume with: ecsdeck --demo --write runbook run {runbook} --resume {run_id}"
            ));
        }
        let rb = self
            .library
            .get(runbook)
            .cloned()
            .ok_or_else(|| format!("runbook {runbook} is not installed"))?;
        let cfg = RunConfig {
            write: self.write,
            operator: self.operator.clone(),
            review: self.review.clone(),
            data_dir: self.data_dir.clone(),
            source: self.source_label.clone(),
        };
        let runner = Runner::resume(rb, cfg, run_id.to_string())?;
        Ok(Box::new(ConsoleRun {
            step_cursor: runner.cur.unwrap_or(0),
            runner,
            modal: Modal::None,
            in_flight: None,
            next_id: 0,
            dismissed: None,
            abort_armed: false,
            outbox: CallOutbox::default(),
        }))
    }

    pub fn running(&self) -> Option<&ConsoleRun> {
        match &self.screen {
            Screen::Run(r) => Some(r),
            _ => None,
        }
    }

    /// Advance the runner over the latest snapshot; open dialogs it needs;
    /// return calls to send to the source.
    pub fn drive(&mut self, snap: &FleetSnapshot, now: i64) -> Vec<Control> {
        let Screen::Run(run) = &mut self.screen else {
            return vec![];
        };
        if let Some(c) = run.outbox.retry() {
            // The queue was full: offer the same call again.
            return vec![c];
        }
        let mut out = vec![];
        if run.in_flight.is_some() || run.runner.is_finished() {
            return out;
        }
        let need = run.runner.poll(now, snap);
        match &need {
            Need::Call(c) => {
                run.next_id += 1;
                run.in_flight = Some(run.next_id);
                out.push(Control::Apply(run.next_id, c.clone()));
            }
            Need::Finished(s) if run.runner.journal_error().is_some() => {
                // Stopped: its journal could not be written.
                run.modal = Modal::None;
                let e = run.runner.journal_error().unwrap_or_default();
                self.message = Some((format!("{} stopped: {e}", s.run_id), true));
            }
            Need::Finished(s) => {
                run.modal = Modal::None;
                self.message = Some((
                    format!(
                        "{} {}{}",
                        s.run_id,
                        s.outcome.as_str(),
                        s.rto_seconds
                            .map(|r| format!(" · RTO {}", fmt_dur((r * 1000.0) as i64)))
                            .unwrap_or_default()
                    ),
                    false,
                ));
            }
            Need::Wait { .. } => {}
            n => {
                let key = need_key(n);
                if matches!(run.modal, Modal::None)
                    && run.dismissed.as_deref() != Some(key.as_str())
                {
                    run.modal = match n {
                        Need::Confirm { changes, .. } => Modal::Confirm(changes.clone()),
                        Need::Arm { phrase } => Modal::Arm {
                            phrase: phrase.clone(),
                            typed: String::new(),
                            error: None,
                        },
                        Need::Checkpoint(ask) => {
                            let draft = run.draft();
                            Modal::Answer(Box::new(AnswerForm {
                                ask: ask.clone(),
                                choice: 0,
                                note: new_textarea(&draft),
                                approvers: String::new(),
                                on_approvers: false,
                                error: None,
                            }))
                        }
                        _ => Modal::None,
                    };
                }
            }
        }
        if let Some(i) = run.runner.cur {
            run.step_cursor = i;
        }
        out
    }

    /// The source's queue did not take `err`'s control: a runbook call is
    /// kept and offered again (said when it stays stuck); a closed queue
    /// stops the run.
    pub fn send_failed(&mut self, err: TrySendError<Control>, now: i64) {
        let Screen::Run(run) = &mut self.screen else {
            return;
        };
        match run.outbox.refused(err, run.in_flight, Instant::now()) {
            Some(Refused::Stuck(m)) => self.message = Some((m, true)),
            Some(Refused::Closed(m)) => {
                run.in_flight = None;
                run.runner.halt(now, &m);
                self.message = Some((m, true));
            }
            Some(Refused::Retrying) | None => {}
        }
    }

    pub fn call_result(
        &mut self,
        id: u64,
        res: Result<crate::runbook::engine::CallOutput, String>,
        now: i64,
    ) {
        if let Screen::Run(run) = &mut self.screen
            && run.in_flight == Some(id)
        {
            run.in_flight = None;
            run.outbox.answered();
            run.runner.call_done(now, res);
        }
    }

    fn start(&self, form: &ParamForm) -> Result<Box<ConsoleRun>, String> {
        let rb = self.library.runbooks[form.runbook].clone();
        let given = form
            .fields
            .iter()
            .filter(|(_, _, v, _)| !v.trim().is_empty())
            .map(|(k, _, v, _)| (k.clone(), v.trim().to_string()))
            .collect();
        let params = bind_params(&rb, &given)?;
        let cfg = RunConfig {
            write: self.write,
            operator: self.operator.clone(),
            review: self.review.clone(),
            data_dir: self.data_dir.clone(),
            source: self.source_label.clone(),
        };
        let id = self
            .fixed_run_id
            .clone()
            .unwrap_or_else(|| journal::new_run_id(&rb.meta.id));
        let runner = Runner::new(rb, params, cfg, id).map_err(|e| format!("journal: {e}"))?;
        Ok(Box::new(ConsoleRun {
            runner,
            modal: Modal::None,
            in_flight: None,
            next_id: 0,
            dismissed: None,
            step_cursor: 0,
            abort_armed: false,
            outbox: CallOutbox::default(),
        }))
    }

    /// Keys of the runbook view. `now` is the source clock. Returns false
    /// when the key is not for us (the app handles it: `:`, Esc to leave).
    pub fn on_key(&mut self, key: KeyEvent, now: i64, prefill: (&str, &str)) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match &mut self.screen {
            Screen::List => match key.code {
                KeyCode::Char('j') | KeyCode::Down => {
                    let n = self.library.runbooks.len() + self.interrupted.len();
                    self.list_cursor = (self.list_cursor + 1).min(n.saturating_sub(1));
                    true
                }
                KeyCode::Char('k') | KeyCode::Up => {
                    self.list_cursor = self.list_cursor.saturating_sub(1);
                    true
                }
                KeyCode::Enter => {
                    if let Some((id, rb)) = self
                        .list_cursor
                        .checked_sub(self.library.runbooks.len())
                        .and_then(|i| self.interrupted.get(i))
                        .cloned()
                    {
                        match self.resume(&id, &rb) {
                            Ok(run) => {
                                self.message = Some((format!("resumed {id}"), false));
                                self.screen = Screen::Run(run);
                            }
                            Err(e) => self.message = Some((e, true)),
                        }
                        return true;
                    }
                    let Some(rb) = self.library.runbooks.get(self.list_cursor) else {
                        return true;
                    };
                    let fields = rb
                        .meta
                        .params
                        .iter()
                        .map(|(k, p)| {
                            let v = match k.as_str() {
                                "cluster" => prefill.0.to_string(),
                                "service" => prefill.1.to_string(),
                                _ => String::new(),
                            };
                            let prompt = p.prompt.clone().unwrap_or_else(|| k.clone());
                            let default = p
                                .default
                                .as_ref()
                                .map(|d| format!(" [default {}]", d.to_string().trim_matches('"')))
                                .unwrap_or_default();
                            (
                                k.clone(),
                                format!("{prompt}{default}"),
                                v,
                                p.required && p.default.is_none(),
                            )
                        })
                        .collect();
                    self.screen = Screen::Params(ParamForm {
                        runbook: self.list_cursor,
                        fields,
                        cursor: 0,
                        error: None,
                    });
                    true
                }
                _ => false,
            },
            Screen::Params(form) => {
                match key.code {
                    KeyCode::Esc => self.screen = Screen::List,
                    KeyCode::Up | KeyCode::BackTab => form.cursor = form.cursor.saturating_sub(1),
                    KeyCode::Down | KeyCode::Tab => {
                        form.cursor = (form.cursor + 1).min(form.fields.len().saturating_sub(1))
                    }
                    KeyCode::Backspace => {
                        if let Some(f) = form.fields.get_mut(form.cursor) {
                            f.2.pop();
                        }
                    }
                    KeyCode::Char(c) if !ctrl => {
                        if let Some(f) = form.fields.get_mut(form.cursor)
                            && f.2.chars().count() < 200
                        {
                            f.2.push(c);
                        }
                    }
                    KeyCode::Enter => {
                        let started = match &self.screen {
                            Screen::Params(f) => self.start(f),
                            _ => return true,
                        };
                        match started {
                            Ok(run) => self.screen = Screen::Run(run),
                            Err(e) => {
                                if let Screen::Params(f) = &mut self.screen {
                                    f.error = Some(e);
                                }
                            }
                        }
                    }
                    _ => {}
                }
                true
            }
            Screen::Run(run) => {
                let modal = std::mem::replace(&mut run.modal, Modal::None);
                run.modal = match modal {
                    Modal::None => {
                        match key.code {
                            KeyCode::Char('j') | KeyCode::Down => {
                                run.step_cursor = (run.step_cursor + 1)
                                    .min(run.runner.rb.steps.len().saturating_sub(1))
                            }
                            KeyCode::Char('k') | KeyCode::Up => {
                                run.step_cursor = run.step_cursor.saturating_sub(1)
                            }
                            KeyCode::Char('n') => {
                                let d = run.draft();
                                run.modal = Modal::Note(Box::new(new_textarea(&d)));
                                return true;
                            }
                            KeyCode::Char('a') | KeyCode::Enter => {
                                // Reopen a dialog closed with Esc.
                                run.dismissed = None;
                            }
                            KeyCode::Char('X') => {
                                if run.abort_armed {
                                    run.runner.operator_abort(now, "aborted from the console");
                                    run.abort_armed = false;
                                    self.message =
                                        Some(("aborting: cleanup steps run now".into(), true));
                                } else {
                                    run.abort_armed = true;
                                    self.message = Some((
                                        "press X again to abort the run (its cleanup steps run)"
                                            .into(),
                                        true,
                                    ));
                                }
                                return true;
                            }
                            KeyCode::Char('L') if run.runner.is_finished() => {
                                self.screen = Screen::List;
                                return true;
                            }
                            _ => return false,
                        }
                        run.abort_armed = false;
                        Modal::None
                    }
                    Modal::Confirm(changes) => match key.code {
                        KeyCode::Char('y') | KeyCode::Char('Y') => {
                            run.runner.confirm(now, true, false);
                            Modal::None
                        }
                        KeyCode::Char('n') | KeyCode::Char('N') => {
                            run.runner.confirm(now, false, false);
                            Modal::None
                        }
                        KeyCode::Esc => {
                            run.dismissed = Some(format!(
                                "confirm:{}",
                                run.runner
                                    .cur
                                    .map(|i| run.runner.rb.steps[i].id.clone())
                                    .unwrap_or_default()
                            ));
                            Modal::None
                        }
                        _ => Modal::Confirm(changes),
                    },
                    Modal::Arm {
                        phrase,
                        mut typed,
                        error,
                    } => match key.code {
                        KeyCode::Esc => {
                            run.dismissed = Some("arm".into());
                            Modal::None
                        }
                        KeyCode::Enter => match run.runner.arm(now, &typed, false) {
                            Ok(()) => Modal::None,
                            Err(e) => Modal::Arm {
                                phrase,
                                typed: String::new(),
                                error: Some(e),
                            },
                        },
                        KeyCode::Backspace => {
                            typed.pop();
                            Modal::Arm {
                                phrase,
                                typed,
                                error,
                            }
                        }
                        KeyCode::Char(c) if !ctrl => {
                            typed.push(c);
                            Modal::Arm {
                                phrase,
                                typed,
                                error,
                            }
                        }
                        _ => Modal::Arm {
                            phrase,
                            typed,
                            error,
                        },
                    },
                    Modal::Answer(mut a) => {
                        let submit = (ctrl && key.code == KeyCode::Char('s'))
                            || (a.ask.prose && key.code == KeyCode::Enter)
                            || (key.code == KeyCode::Enter
                                && key.modifiers.contains(KeyModifiers::ALT));
                        if submit {
                            let note = a.note.lines().join("\n");
                            // Names separated by commas; the runner refuses a
                            // name given twice (any case or spacing).
                            let approvers = crate::runbook::approvals::parse_field(&a.approvers);
                            let choice =
                                a.ask.choices[a.choice.min(a.ask.choices.len() - 1)].clone();
                            match run.runner.answer(now, &choice, &note, &approvers, false) {
                                Ok(()) => {
                                    run.clear_draft();
                                    Modal::None
                                }
                                Err(e) => {
                                    a.error = Some(e);
                                    Modal::Answer(a)
                                }
                            }
                        } else {
                            match key.code {
                                KeyCode::Esc => {
                                    run.dismissed =
                                        Some(format!("cp:{}:{}", a.ask.step, a.ask.prompt));
                                    Modal::None
                                }
                                KeyCode::Tab => {
                                    a.choice = (a.choice + 1) % a.ask.choices.len().max(1);
                                    Modal::Answer(a)
                                }
                                KeyCode::BackTab if a.ask.approvers > 0 => {
                                    a.on_approvers = !a.on_approvers;
                                    Modal::Answer(a)
                                }
                                _ if a.on_approvers => {
                                    match key.code {
                                        KeyCode::Backspace => {
                                            a.approvers.pop();
                                            // Editing answers the error shown.
                                            a.error = None;
                                        }
                                        KeyCode::Char(c) if !ctrl => {
                                            a.approvers.push(c);
                                            a.error = None;
                                        }
                                        _ => {}
                                    }
                                    Modal::Answer(a)
                                }
                                _ => {
                                    a.note.input(key);
                                    run.modal = Modal::Answer(a);
                                    run.save_draft();
                                    return true;
                                }
                            }
                        }
                    }
                    Modal::Note(mut t) => {
                        if ctrl && key.code == KeyCode::Char('s') {
                            run.runner.note(now, &t.lines().join("\n"));
                            run.clear_draft();
                            self.message = Some(("note saved to the journal".into(), false));
                            Modal::None
                        } else if key.code == KeyCode::Esc {
                            // The draft stays on disk; `n` reopens it.
                            Modal::None
                        } else {
                            t.input(key);
                            run.modal = Modal::Note(t);
                            run.save_draft();
                            return true;
                        }
                    }
                };
                true
            }
        }
    }
}

// ------------------------------------------------------------------ drawing

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
        Screen::Run(run) => render_run(f, area, ui, run, theme, now),
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
    for (i, (name, prompt, value, required)) in form.fields.iter().enumerate() {
        let cur = i == form.cursor;
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
    }
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
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(b),
        area,
    );
}

fn render_run(
    f: &mut Frame,
    area: Rect,
    ui: &RunbookUi,
    run: &ConsoleRun,
    theme: &Theme,
    now: i64,
) {
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
    // Steps with their states.
    let mode = if r.dry_run() { "DRY RUN" } else { "LIVE" };
    let b = block("Steps", Some(mode.into()), true, theme);
    let mut lines = vec![];
    let h = steps_area.height.saturating_sub(2) as usize;
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
    f.render_widget(Paragraph::new(lines).block(b), steps_area);

    // The selected step: prose, block, live progress.
    let i = run.step_cursor.min(r.rb.steps.len().saturating_sub(1));
    let step = &r.rb.steps[i];
    let title = format!("{} · {}", r.rb.meta.id, r.run_id);
    let b = block(&title, Some(r.phase_label()), false, theme);
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
        for c in &r.last_results {
            lines.push(Line::from(vec![
                Span::styled(
                    if c.ok { " ✓ " } else { " ✗ " },
                    if c.ok { theme.ok() } else { theme.warn() },
                ),
                Span::raw(safe(&c.text).into_owned()),
            ]));
        }
    }
    lines.push(Line::raw(""));
    // Markers and the recent journal.
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
    let room = detail_area.height.saturating_sub(2) as usize;
    let journal_room = room.saturating_sub(lines.len() + 1);
    if journal_room > 1 {
        lines.push(Line::from(Span::styled("journal", theme.dim())));
        let evs: Vec<String> = r
            .journal
            .events
            .iter()
            .filter_map(|e| {
                crate::runbook::report::describe(e).map(|d| {
                    format!(
                        "{} {:<12} {}",
                        crate::ui::panes::hhmmss(e.ts),
                        e.step.as_deref().unwrap_or(""),
                        d
                    )
                })
            })
            .collect();
        for e in evs.iter().skip(evs.len().saturating_sub(journal_room - 1)) {
            lines.push(Line::from(Span::styled(safe(e).into_owned(), theme.dim())));
        }
    }
    f.render_widget(
        Paragraph::new(Text::from(lines))
            .wrap(Wrap { trim: false })
            .block(b),
        detail_area,
    );

    render_modal(f, area, run, theme);
    let _ = ui;
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    r
}

fn render_modal(f: &mut Frame, area: Rect, run: &ConsoleRun, theme: &Theme) {
    let w = area.width.saturating_sub(8).min(96);
    match &run.modal {
        Modal::None => {}
        Modal::Confirm(changes) => {
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
                "y: make them · n: decline (aborts, or skips an optional step) · Esc: later",
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
        Modal::Arm {
            phrase,
            typed,
            error,
        } => {
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
                "Enter: arm · Esc: later",
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
        Modal::Answer(a) => {
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
            let mut cl = vec![Span::raw("choice: ")];
            for (i, c) in a.ask.choices.iter().enumerate() {
                cl.push(Span::styled(
                    format!(" {c} "),
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
            f.render_widget(Paragraph::new(cls), choices_a);
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
            let help = if a.ask.prose {
                "Enter: continue · Esc: later"
            } else if a.ask.approvers > 0 {
                "Ctrl-S: answer · Tab: choice · Shift-Tab: approvers/note · Esc: later (draft kept)"
            } else {
                "Ctrl-S: answer · Tab: next choice · Esc: later (the draft is kept)"
            };
            f.render_widget(Paragraph::new(Span::styled(help, theme.dim())), help_a);
        }
        Modal::Note(t) => {
            let r = centered(area, w, 12);
            f.render_widget(Clear, r);
            let mut ta = (**t).clone();
            ta.set_block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.accent())
                    .title(" Note (Ctrl-S: save to the journal · Esc: keep as draft) "),
            );
            f.render_widget(&ta, r);
        }
    }
}
