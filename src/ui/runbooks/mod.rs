//! `:runbooks`: pick a runbook, fill its parameters, and run it step by step
//! in the console. The runner is the same as headless (`runbook::engine`);
//! its calls go to the source as [`Control::Apply`] and come back as
//! [`Update::CallResult`](crate::source::Update::CallResult).
//!
//! Notes are written to `<run dir>/notes-draft.md` on every keystroke, so a
//! crash or a dropped SSH session never loses what was typed.

mod dialogs;
mod keys;
mod render;

use std::path::PathBuf;
use std::time::Instant;

use tokio::sync::mpsc::error::TrySendError;

use crate::model::FleetSnapshot;

/// What the selected service fills into a runbook's parameters of the same
/// names.
#[derive(Debug, Clone, Copy, Default)]
pub struct Prefill<'a> {
    pub cluster: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
}
use crate::review::ReviewConfig;
use crate::runbook::engine::{Need, RunConfig, Runner, bind_params, fmt_dur};
use crate::runbook::outbox::{CallOutbox, Refused};
use crate::runbook::{Library, journal};
use crate::source::Control;

use dialogs::new_textarea;
pub use dialogs::{AnswerForm, Modal};
pub use render::render;

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
    /// The source can make changes (its capabilities): a `--write` run on
    /// one that cannot is refused at its start.
    pub can_write: bool,
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
            can_write: false,
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
            .and_then(|p| crate::files::read_text(&p).ok())
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
        if self.write && !self.can_write {
            return Err(crate::source::Capability::Writes.refusal().to_string());
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
        if self.write && !self.can_write {
            return Err(crate::source::Capability::Writes.refusal().to_string());
        }
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
}
