//! Keys of the runbook view: the list, the parameter form, the run. Every
//! key is looked up in the keymap (its context is the screen's, or the open
//! dialog's), so help and the footer say what these do.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::dialogs::{Modal, new_textarea};
use super::{ParamForm, Prefill, RunbookUi, Screen};
use crate::ui::keymap::{self, Action, Context};

impl RunbookUi {
    /// The keymap context of what is shown: the screen, or its dialog.
    pub fn context(&self) -> Context {
        match &self.screen {
            Screen::List => Context::RunbookList,
            Screen::Params(_) => Context::RunbookParams,
            Screen::Run(r) => r.modal.context(),
        }
    }

    /// Keys of the runbook view. `now` is the source clock. Returns false
    /// when the key is not for us (the app handles it: `:`, Esc to leave).
    pub fn on_key(&mut self, key: KeyEvent, now: i64, prefill: Prefill<'_>) -> bool {
        let action = keymap::lookup(self.context(), &key);
        match &mut self.screen {
            Screen::List => self.list_key(action, prefill),
            Screen::Params(_) => {
                self.params_key(action, &key);
                true
            }
            Screen::Run(run) if !matches!(run.modal, Modal::None) => {
                if let Some(m) = run.dialog_key(key, now) {
                    self.message = Some(m);
                }
                true
            }
            Screen::Run(_) => self.run_key(action, now),
        }
    }

    fn list_key(&mut self, action: Option<Action>, prefill: Prefill<'_>) -> bool {
        match action {
            Some(Action::Down) => {
                let n = self.library.runbooks.len() + self.interrupted.len();
                self.list_cursor = (self.list_cursor + 1).min(n.saturating_sub(1));
            }
            Some(Action::Up) => self.list_cursor = self.list_cursor.saturating_sub(1),
            Some(Action::Start) => self.open_selected(prefill),
            _ => return false,
        }
        true
    }

    /// Enter on the list: resume an interrupted run, or fill a runbook's
    /// parameters (the selected service prefills `cluster`, `service`, `region` and
    /// `account`: a twin in another region or account is never the target).
    fn open_selected(&mut self, prefill: Prefill<'_>) {
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
            return;
        }
        let Some(rb) = self.library.runbooks.get(self.list_cursor) else {
            return;
        };
        let fields = rb
            .meta
            .params
            .iter()
            .map(|(k, p)| {
                let v = match k.as_str() {
                    "cluster" => prefill.cluster.to_string(),
                    "service" => prefill.service.to_string(),
                    "region" => prefill.region.to_string(),
                    "account" => prefill.account.to_string(),
                    _ => String::new(),
                };
                let prompt = p.prompt.clone().unwrap_or_else(|| k.clone());
                let default = p
                    .default
                    .as_ref()
                    .map(|d| d.to_string().trim_matches('"').to_string())
                    // An empty default means "optional": the prompt says what empty does.
                    .filter(|d| !d.is_empty())
                    .map(|d| format!(" [default {d}]"))
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
    }

    fn params_key(&mut self, action: Option<Action>, key: &KeyEvent) {
        let Screen::Params(form) = &mut self.screen else {
            return;
        };
        match action {
            Some(Action::Back) => self.screen = Screen::List,
            Some(Action::PrevField) => form.cursor = form.cursor.saturating_sub(1),
            Some(Action::NextField) => {
                form.cursor = (form.cursor + 1).min(form.fields.len().saturating_sub(1))
            }
            Some(Action::Start) => {
                let started = match &self.screen {
                    Screen::Params(f) => self.start(f),
                    _ => return,
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
            _ => match key.code {
                KeyCode::Backspace => {
                    if let Some(f) = form.fields.get_mut(form.cursor) {
                        f.2.pop();
                    }
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    if let Some(f) = form.fields.get_mut(form.cursor)
                        && f.2.chars().count() < 200
                    {
                        f.2.push(c);
                    }
                }
                _ => {}
            },
        }
    }

    /// A run with no dialog open.
    fn run_key(&mut self, action: Option<Action>, now: i64) -> bool {
        let Screen::Run(run) = &mut self.screen else {
            return false;
        };
        match action {
            Some(Action::Down) => {
                run.step_cursor =
                    (run.step_cursor + 1).min(run.runner.rb.steps.len().saturating_sub(1))
            }
            Some(Action::Up) => run.step_cursor = run.step_cursor.saturating_sub(1),
            Some(Action::OpenNote) => {
                let d = run.draft();
                run.modal = Modal::Note(Box::new(new_textarea(&d)));
                return true;
            }
            // Reopen a dialog closed with Esc.
            Some(Action::Reopen) => run.dismissed = None,
            Some(Action::Abort) => {
                if run.abort_armed {
                    run.runner.operator_abort(now, "aborted from the console");
                    run.abort_armed = false;
                    self.message = Some(("aborting: cleanup steps run now".into(), true));
                } else {
                    run.abort_armed = true;
                    self.message = Some((
                        "press X again to abort the run (its cleanup steps run)".into(),
                        true,
                    ));
                }
                return true;
            }
            Some(Action::BackToList) if run.runner.is_finished() => {
                self.screen = Screen::List;
                return true;
            }
            _ => return false,
        }
        run.abort_armed = false;
        true
    }
}
