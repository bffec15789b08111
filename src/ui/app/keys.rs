//! Keys: the bottom line (command, filter), help, the runbook view, then
//! the keymap's actions on the focused pane.

use super::*;

impl App {
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit = true;
            return vec![];
        }
        match self.input.clone() {
            Input::Command(text) => return self.on_input_key(key, text, true),
            Input::Filter(text) => return self.on_input_key(key, text, false),
            Input::Normal => {}
        }
        if self.ctx_picker.is_some() {
            return self.ctx_key(&key);
        }
        if self.help {
            match key.code {
                KeyCode::Char('j') | KeyCode::Down => self.help_scroll += 1,
                KeyCode::Char('k') | KeyCode::Up => {
                    self.help_scroll = self.help_scroll.saturating_sub(1)
                }
                KeyCode::Char('q') => self.request_quit(),
                _ => self.help = false,
            }
            return vec![];
        }
        if self.view == View::Runbooks {
            let now = self.source_now();
            let [cluster, service, region, account] = self
                .selected_row()
                .map(|r| {
                    [
                        r.cluster.to_string(),
                        r.name.to_string(),
                        r.region.to_string(),
                        r.account.to_string(),
                    ]
                })
                .unwrap_or_default();
            let prefill = crate::ui::runbooks::Prefill {
                cluster: &cluster,
                service: &service,
                region: &region,
                account: &account,
            };
            let handled = self.runbooks.on_key(key, now, prefill);
            if let Some(m) = self.runbooks.message.take() {
                self.message = Some(m);
            }
            if handled {
                return vec![];
            }
            if key.code == KeyCode::Esc {
                self.show_fleet(Pane::Services);
                return vec![];
            }
        }
        let context = self.focused().context();
        match keymap::lookup(context, &key) {
            Some(a) => self.do_action(a),
            None => vec![],
        }
    }

    pub(super) fn on_input_key(
        &mut self,
        key: KeyEvent,
        mut text: String,
        command: bool,
    ) -> Vec<Effect> {
        match key.code {
            KeyCode::Esc => {
                self.input = Input::Normal;
                if !command {
                    // Esc while typing a filter cancels it.
                    self.filters.remove(&self.focused());
                }
                vec![]
            }
            KeyCode::Enter => {
                self.input = Input::Normal;
                if command {
                    self.run_command(&text)
                } else {
                    self.set_filter(&text);
                    vec![]
                }
            }
            KeyCode::Tab if command => {
                if let Some(done) = crate::ui::commands::complete(&text) {
                    text = done;
                }
                self.input = Input::Command(text);
                vec![]
            }
            KeyCode::Backspace if text.is_empty() => {
                self.input = Input::Normal;
                vec![]
            }
            KeyCode::Backspace | KeyCode::Char(_) => {
                match key.code {
                    KeyCode::Char(c)
                        if !key.modifiers.contains(KeyModifiers::CONTROL)
                            && text.chars().count() < 200 =>
                    {
                        text.push(c)
                    }
                    KeyCode::Backspace => {
                        text.pop();
                    }
                    _ => {}
                }
                if !command {
                    self.set_filter(&text);
                }
                self.input = if command {
                    Input::Command(text)
                } else {
                    Input::Filter(text)
                };
                vec![]
            }
            _ => vec![],
        }
    }

    pub(super) fn set_filter(&mut self, text: &str) {
        let pane = self.focused();
        match Filter::new(text) {
            Some(f) => {
                self.filters.insert(pane, f);
            }
            None => {
                self.filters.remove(&pane);
            }
        }
        self.cursor.insert(pane, 0);
    }

    pub(super) fn show_fleet(&mut self, pane: Pane) {
        self.view = View::Fleet;
        self.focus = View::Fleet
            .panes()
            .iter()
            .position(|p| *p == pane)
            .unwrap_or(0);
    }

    pub(super) fn list_len(&self, pane: Pane) -> usize {
        match pane {
            Pane::Services => self.visible_rows().len(),
            Pane::Alarms => self.visible_alarms().len(),
            Pane::Timeline => self.visible_timeline().len(),
            Pane::Findings => self.visible_findings().len(),
            // Scrolling panes clamp at draw time.
            _ => usize::MAX,
        }
    }

    pub(super) fn move_cursor(&mut self, pane: Pane, delta: isize) {
        let len = self.list_len(pane);
        let cur = self.cursor(pane) as isize;
        let max = len.saturating_sub(1).min(isize::MAX as usize) as isize;
        let next = (cur + delta).clamp(0, max.max(0));
        self.cursor.insert(pane, next as usize);
    }

    pub fn do_action(&mut self, action: Action) -> Vec<Effect> {
        let pane = self.focused();
        let page = self.page.max(1) as isize;
        self.message = None;
        match action {
            Action::Quit => self.request_quit(),
            // Handled by the run loop (the terminal must be restored first).
            Action::Suspend => {}
            Action::Help => {
                self.help = true;
                self.help_scroll = 0;
            }
            Action::CommandLine => self.input = Input::Command(String::new()),
            Action::Filter => {
                let current = self
                    .filters
                    .get(&pane)
                    .map(|f| f.text.clone())
                    .unwrap_or_default();
                self.input = Input::Filter(current);
            }
            Action::ClearFilter => {
                self.filters.remove(&pane);
            }
            Action::NextPane => self.focus = (self.focus + 1) % self.view.panes().len(),
            Action::PrevPane => {
                let n = self.view.panes().len();
                self.focus = (self.focus + n - 1) % n;
            }
            Action::Up if pane == Pane::Logs => self.scroll_logs(-1),
            Action::Down if pane == Pane::Logs => self.scroll_logs(1),
            Action::PageUp if pane == Pane::Logs => self.scroll_logs(-page),
            Action::PageDown if pane == Pane::Logs => self.scroll_logs(page),
            Action::Top if pane == Pane::Logs => {
                self.logs.follow = false;
                self.logs.anchor = self.store.logs.first_seq().unwrap_or(0);
                self.scroll_logs(page - 1);
            }
            Action::Bottom if pane == Pane::Logs => self.logs.follow = true,
            Action::Up => self.move_cursor(pane, -1),
            Action::Down => self.move_cursor(pane, 1),
            Action::PageUp => self.move_cursor(pane, -page),
            Action::PageDown => self.move_cursor(pane, page),
            Action::Top => {
                self.cursor.insert(pane, 0);
            }
            Action::Bottom => self.move_cursor(pane, isize::MAX / 2),
            Action::Enter => self.drill_down(pane),
            Action::Back => {
                if self.filters.remove(&pane).is_some() {
                    // First Esc clears the focused pane's filter.
                } else if self.view != View::Fleet {
                    self.view = View::Fleet;
                    self.focus = 0;
                }
            }
            Action::ToggleFollow
                if !self.logs.follow && self.refuse_without("f", Capability::LiveTail) => {}
            Action::ToggleFollow => {
                if self.logs.follow {
                    self.logs.follow = false;
                    self.logs.anchor = self.newest_matching_seq();
                } else {
                    self.logs.follow = true;
                }
            }
            Action::ToggleWrap => self.logs.wrap = !self.logs.wrap,
            Action::NextStream => self.next_stream(),
            Action::ToggleScope => {
                self.logs.all_services = !self.logs.all_services;
                self.logs.stream = None;
            }
            Action::ToggleBadOnly => {
                self.timeline_bad_only = !self.timeline_bad_only;
                self.cursor.insert(Pane::Timeline, 0);
            }
            // The runbook view and its dialogs handle their own.
            Action::Start
            | Action::NextField
            | Action::PrevField
            | Action::OpenNote
            | Action::Reopen
            | Action::Abort
            | Action::BackToList
            | Action::Yes
            | Action::No
            | Action::Later
            | Action::Submit
            | Action::NextChoice
            | Action::SwitchField
            | Action::Toggle => {}
        }
        vec![]
    }

    pub(super) fn drill_down(&mut self, pane: Pane) {
        let key = match pane {
            Pane::Services => self.selected_row().map(|r| r.id.clone()),
            Pane::Alarms => {
                let idx = self.visible_alarms();
                idx.get(self.cursor(pane))
                    .and_then(|i| self.store.snapshot.alarms[*i].service_id())
            }
            Pane::Timeline => self
                .visible_timeline()
                .get(self.cursor(pane))
                .and_then(|e| e.service.clone()),
            Pane::Findings => self
                .visible_findings()
                .get(self.cursor(pane))
                .and_then(|f| finding_service(f)),
            _ => None,
        };
        if let Some(key) = key {
            if let Some(pos) = self.rows.iter().position(|r| r.id == key) {
                // Keep the services cursor on the opened service (unfiltered list).
                if !self.filters.contains_key(&Pane::Services) {
                    self.cursor.insert(Pane::Services, pos);
                }
            }
            self.open_service(key);
        }
    }

    /// Open the service whose short key is `key` (the first of twins, in
    /// fleet order); false when there is none.
    pub fn open_service_named(&mut self, key: &str) -> bool {
        match self.rows.iter().find(|r| r.key == key) {
            Some(r) => {
                let id = r.id.clone();
                self.open_service(id);
                true
            }
            None => false,
        }
    }

    pub fn open_service(&mut self, id: crate::model::ServiceId) {
        self.view = View::Service(id);
        self.focus = 0;
        self.logs.stream = None;
        for p in [
            Pane::Rollout,
            Pane::Tasks,
            Pane::Metrics,
            Pane::SvcAlarms,
            Pane::Events,
        ] {
            self.cursor.remove(&p);
        }
    }

    pub(super) fn newest_matching_seq(&self) -> u64 {
        self.log_window(1).last().map_or(0, |l| l.seq)
    }

    /// Scroll the log pane by `delta` matching lines (negative = back in time).
    pub(super) fn scroll_logs(&mut self, delta: isize) {
        let scope = self.log_scope();
        let buf = &self.store.logs;
        if buf.is_empty() {
            return;
        }
        let start = if self.logs.follow {
            buf.len() - 1
        } else {
            buf.position_of(self.logs.anchor).unwrap_or(buf.len() - 1)
        };
        let mut pos = start;
        let mut moved = 0isize;
        if delta < 0 {
            while moved > delta && pos > 0 {
                pos -= 1;
                if buf
                    .get(pos)
                    .is_some_and(|l| self.log_line_matches(l, scope.as_ref()))
                {
                    moved -= 1;
                }
            }
            self.logs.follow = false;
        } else {
            while moved < delta && pos + 1 < buf.len() {
                pos += 1;
                if buf
                    .get(pos)
                    .is_some_and(|l| self.log_line_matches(l, scope.as_ref()))
                {
                    moved += 1;
                }
            }
            if pos + 1 >= buf.len() {
                self.logs.follow = true;
                return;
            }
        }
        if let Some(l) = buf.get(pos) {
            self.logs.anchor = l.seq;
        }
    }

    /// Cycle the stream filter: all streams → each stream seen recently → all.
    pub(super) fn next_stream(&mut self) {
        let scope = self.log_scope();
        let mut streams: Vec<Arc<str>> = self
            .store
            .logs
            .iter()
            .rev()
            .take(5_000)
            .filter(|l| {
                scope.as_ref().is_none_or(|s| match &l.service {
                    Some(from) => from == s,
                    None => *l.service_key == *s.short(),
                })
            })
            .map(|l| l.log_stream.clone())
            .collect();
        streams.sort();
        streams.dedup();
        self.logs.stream = match &self.logs.stream {
            None => streams.first().cloned(),
            Some(cur) => streams
                .iter()
                .position(|s| s == cur)
                .and_then(|i| streams.get(i + 1).cloned()),
        };
        self.message = Some((
            format!(
                "stream: {}",
                self.logs.stream.as_deref().unwrap_or("all streams")
            ),
            false,
        ));
    }
}
