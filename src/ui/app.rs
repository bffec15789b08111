//! App state and `update`: the one owner of what the console shows. Sources
//! send owned updates; keys become [`Action`]s; drawing reads `&App` only.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use regex::{Regex, RegexBuilder};

use crate::model::TimelineEvent;
use crate::model::rows::{self, ServiceRow};
use crate::review::{self, Finding, ReviewCache, ReviewConfig};
use crate::source::{Control, Update};
use crate::store::{Store, StoredLine};
use crate::ui::keymap::{self, Action, Context};
use crate::ui::theme::Theme;

/// Which screen is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// All services, alarms, the fleet timeline and logs.
    Fleet,
    /// One service in detail, by its id (twins in two regions or accounts
    /// are two services).
    Service(crate::model::ServiceId),
    /// Review findings across the fleet, by pillar and severity.
    Findings,
    /// Runbooks: the list, a parameter form, or a run in progress.
    Runbooks,
}

/// A pane: one rectangle of the screen (or one tab at 80x24).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Services,
    Alarms,
    Timeline,
    Logs,
    Rollout,
    Tasks,
    Metrics,
    SvcAlarms,
    Events,
    Findings,
    SvcFindings,
    Runbook,
}

impl Pane {
    pub fn title(self) -> &'static str {
        match self {
            Pane::Services => "Services",
            Pane::Alarms => "Alarms",
            Pane::Timeline => "Timeline",
            Pane::Logs => "Logs",
            Pane::Rollout => "Deployments & scaling",
            Pane::Tasks => "Tasks & targets by AZ",
            Pane::Metrics => "Metrics",
            Pane::SvcAlarms => "Alarms",
            Pane::Events => "Events",
            Pane::Findings => "Findings",
            Pane::SvcFindings => "Findings",
            Pane::Runbook => "Runbook",
        }
    }

    /// Short name for the tab bar at 80 columns.
    pub fn tab(self) -> &'static str {
        match self {
            Pane::Services => "Services",
            Pane::Alarms => "Alarms",
            Pane::Timeline => "Timeline",
            Pane::Logs => "Logs",
            Pane::Rollout => "Rollout",
            Pane::Tasks => "AZ",
            Pane::Metrics => "Metrics",
            Pane::SvcAlarms => "Alarms",
            Pane::Events => "Events",
            Pane::Findings => "Findings",
            Pane::SvcFindings => "Findings",
            Pane::Runbook => "Runbook",
        }
    }

    pub fn context(self) -> Context {
        match self {
            Pane::Services | Pane::Alarms | Pane::Findings => Context::Table,
            Pane::Timeline => Context::Timeline,
            Pane::Logs => Context::Logs,
            _ => Context::Scroll,
        }
    }
}

impl View {
    pub fn panes(&self) -> &'static [Pane] {
        match self {
            View::Fleet => &[Pane::Services, Pane::Alarms, Pane::Timeline, Pane::Logs],
            View::Service(_) => &[
                Pane::Rollout,
                Pane::Tasks,
                Pane::Metrics,
                Pane::SvcAlarms,
                Pane::SvcFindings,
                Pane::Events,
                Pane::Logs,
            ],
            View::Findings => &[Pane::Findings],
            View::Runbooks => &[Pane::Runbook],
        }
    }
}

/// What the bottom line is being used for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Normal,
    Command(String),
    Filter(String),
}

/// A pane's filter: the text typed and the case-insensitive regex built from
/// it (a literal match when the text is not a valid regex).
#[derive(Debug, Clone)]
pub struct Filter {
    pub text: String,
    pub regex: Regex,
    /// True when the text was not a valid regex and is matched literally.
    pub literal: bool,
}

impl Filter {
    pub fn new(text: &str) -> Option<Filter> {
        if text.is_empty() {
            return None;
        }
        let build = |p: &str| {
            RegexBuilder::new(p)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
        };
        match build(text) {
            Ok(regex) => Some(Filter {
                text: text.into(),
                regex,
                literal: false,
            }),
            Err(_) => build(&regex::escape(text)).ok().map(|regex| Filter {
                text: text.into(),
                regex,
                literal: true,
            }),
        }
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.regex.is_match(s)
    }
}

/// The log pane's state.
#[derive(Debug, Clone)]
pub struct LogView {
    /// Follow the newest line; false = paused at `anchor`.
    pub follow: bool,
    /// When paused: the store sequence number of the bottom line shown.
    pub anchor: u64,
    pub wrap: bool,
    /// Only this stream (None = every stream of the scope).
    pub stream: Option<Arc<str>>,
    /// In the fleet view: every service (true) or the selected one (false).
    pub all_services: bool,
}

impl Default for LogView {
    fn default() -> Self {
        Self {
            follow: true,
            anchor: 0,
            wrap: false,
            stream: None,
            all_services: true,
        }
    }
}

/// Something the event loop must do on the app's behalf.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Control(Control),
}

/// What the status line says of the API calls made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ApiCalls {
    SoFar(u64),
    PerMin(f64),
}

pub struct App {
    pub store: Store,
    pub rows: Vec<ServiceRow>,
    pub view: View,
    /// Index into `view.panes()`.
    pub focus: usize,
    /// Selected row per list pane, and scroll offset per scrolling pane.
    pub cursor: HashMap<Pane, usize>,
    pub filters: HashMap<Pane, Filter>,
    pub logs: LogView,
    pub timeline_bad_only: bool,
    pub input: Input,
    pub help: bool,
    pub help_scroll: usize,
    pub theme: Theme,
    pub themes_dir: Option<PathBuf>,
    /// Feedback on the bottom line: (text, is_error).
    pub message: Option<(String, bool)>,
    /// Shown on the status line for the whole session (the demo opened
    /// because no AWS credentials were found).
    pub notice: Option<String>,
    pub quit: bool,
    /// Real seconds since the source last sent anything (set by the event loop).
    pub silent_secs: u64,
    /// Whether `NO_COLOR` is set: theme switches keep colours off.
    pub no_color: bool,
    /// Rows of the last drawn list panes (for PgUp/PgDn).
    pub page: usize,
    /// Scroll offsets of list panes, kept by the renderer so lists don't jump.
    pub offsets: std::cell::RefCell<HashMap<Pane, usize>>,
    /// Only these clusters (`--cluster`); empty = all.
    pub clusters: Vec<String>,
    /// The user paused the source (`:pause`): silence is expected.
    pub paused: bool,
    /// Review findings of the latest snapshot.
    pub review_cache: ReviewCache,
    pub review_config: ReviewConfig,
    /// Accepted findings: hidden while their suppression is active.
    pub suppressions: Vec<review::suppress::Suppression>,
    /// Per service key: the worst severity and the number of findings.
    /// Worst severity and count of each service's findings (twins have
    /// their own).
    pub badges: HashMap<crate::model::ServiceId, (review::Severity, usize)>,
    /// `:runbooks`: the library and the run in progress.
    pub runbooks: crate::ui::runbooks::RunbookUi,
    /// `q` was pressed once during a runbook run.
    pub quit_armed: bool,
    /// (source time, AWS API calls so far) of recent snapshots, for calls/min.
    pub api_samples: std::collections::VecDeque<(i64, u64)>,
}

impl App {
    pub fn new(theme: Theme) -> App {
        App {
            store: Store::default(),
            rows: Vec::new(),
            view: View::Fleet,
            focus: 0,
            cursor: HashMap::new(),
            filters: HashMap::new(),
            logs: LogView::default(),
            timeline_bad_only: false,
            input: Input::Normal,
            help: false,
            help_scroll: 0,
            theme,
            themes_dir: None,
            message: None,
            notice: None,
            quit: false,
            silent_secs: 0,
            no_color: false,
            page: 10,
            offsets: Default::default(),
            clusters: Vec::new(),
            paused: false,
            review_cache: ReviewCache::default(),
            review_config: ReviewConfig::default(),
            suppressions: Vec::new(),
            badges: HashMap::new(),
            runbooks: Default::default(),
            quit_armed: false,
            api_samples: Default::default(),
        }
    }

    /// The clock runbook steps are timed by: the simulator's, or the wall
    /// clock on AWS (whose snapshots come every few seconds).
    pub fn source_now(&self) -> i64 {
        let snap = &self.store.snapshot;
        if snap.source.kind == "aws" {
            crate::source::aws::now_ms()
        } else {
            snap.at
        }
    }

    /// Quit, unless a runbook run is in progress: then the first `q` says so
    /// and a second one quits (`:q!` quits at once). The journal keeps the
    /// run; `ecsdeck runbook run ID --resume RUN_ID` continues it.
    pub fn request_quit(&mut self) {
        let running = self
            .runbooks
            .running()
            .filter(|r| !r.runner.is_finished())
            .map(|r| r.runner.run_id.clone());
        match running {
            Some(id) if !self.quit_armed => {
                self.quit_armed = true;
                self.message = Some((
                    format!(
                        "runbook run {id} is in progress: q again to quit (resume it with --resume {id})"
                    ),
                    true,
                ));
            }
            _ => self.quit = true,
        }
    }

    /// The AWS API budget spent (None on the demo): per minute over the
    /// last few minutes once a minute of samples exists; before that, the
    /// calls made so far (a rate extrapolated from the first seconds read
    /// thousands a minute when 36 calls had been made).
    pub fn api_calls(&self) -> Option<ApiCalls> {
        let (t0, c0) = *self.api_samples.front()?;
        let (t1, c1) = *self.api_samples.back()?;
        if t1 - t0 < 60_000 {
            return Some(ApiCalls::SoFar(c1));
        }
        Some(ApiCalls::PerMin(
            c1.saturating_sub(c0) as f64 * 60_000.0 / (t1 - t0) as f64,
        ))
    }

    /// Step the runbook run over the latest snapshot (after updates, on ticks).
    pub fn drive_runbook(&mut self) -> Vec<Effect> {
        if !self.store.has_snapshot {
            return vec![];
        }
        let now = self.source_now();
        let snap = self.store.snapshot.clone();
        let out = self.runbooks.drive(&snap, now);
        if let Some(m) = self.runbooks.message.take() {
            self.message = Some(m);
        }
        out.into_iter().map(Effect::Control).collect()
    }

    pub fn focused(&self) -> Pane {
        let panes = self.view.panes();
        panes[self.focus.min(panes.len() - 1)]
    }

    pub fn cursor(&self, pane: Pane) -> usize {
        self.cursor.get(&pane).copied().unwrap_or(0)
    }

    /// Apply an update from the source.
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Snapshot(s) => {
                // `--cluster`: the rest of the fleet is not there at all.
                let s = if self.clusters.is_empty() {
                    s
                } else {
                    let mut only = (*s).clone();
                    only.services.retain(|x| self.clusters.contains(&x.cluster));
                    std::sync::Arc::make_mut(&mut only.clusters)
                        .retain(|x| self.clusters.contains(&x.name));
                    Arc::new(only)
                };
                if let Some(calls) = s.source.api_calls {
                    self.api_samples.push_back((s.at, calls));
                    while self
                        .api_samples
                        .front()
                        .is_some_and(|(t, _)| s.at - t > 5 * 60_000)
                    {
                        self.api_samples.pop_front();
                    }
                }
                self.store.apply_snapshot(s);
                self.rows = rows::build(&self.store.snapshot);
                // Only services whose inputs changed are re-checked.
                self.review_cache
                    .update(&self.store.snapshot, &self.review_config);
                self.badges.clear();
                let now = self.store.snapshot.at;
                for f in self.review_cache.findings().filter(|f| {
                    review::suppress::suppression_for(&self.suppressions, f, now).is_none()
                }) {
                    let Some(id) = finding_service(f) else {
                        continue;
                    };
                    let b = self.badges.entry(id).or_insert((f.severity, 0));
                    b.0 = b.0.min(f.severity);
                    b.1 += 1;
                }
            }
            Update::Logs(lines) => self.store.apply_logs(lines),
            Update::Warning(w) => self.store.warn(w),
            Update::CallResult(id, res) => {
                let now = self.source_now();
                self.runbooks.call_result(id, res, now);
            }
        }
    }

    // ---- derived lists (shared by drawing and key handling) ----

    /// Service rows that pass the services filter.
    pub fn visible_rows(&self) -> Vec<&ServiceRow> {
        let f = self.filters.get(&Pane::Services);
        self.rows
            .iter()
            .filter(|r| {
                f.is_none_or(|f| {
                    f.is_match(&r.key)
                        || f.is_match(r.health.as_str())
                        || f.is_match(&r.task_definition)
                        || r.alarms_in_alarm.iter().any(|a| f.is_match(a))
                })
            })
            .collect()
    }

    /// The row under the cursor in the services table.
    pub fn selected_row(&self) -> Option<&ServiceRow> {
        let rows = self.visible_rows();
        let i = self
            .cursor(Pane::Services)
            .min(rows.len().saturating_sub(1));
        rows.get(i).copied()
    }

    /// The service the view is about: the open one, or the selected row.
    pub fn current_service_id(&self) -> Option<crate::model::ServiceId> {
        match &self.view {
            View::Service(k) => Some(k.clone()),
            _ => self.selected_row().map(|r| r.id.clone()),
        }
    }

    /// Alarm indices (into the snapshot) for the fleet alarms pane: ALARM first,
    /// then INSUFFICIENT_DATA, then OK; filtered.
    pub fn visible_alarms(&self) -> Vec<usize> {
        let snap = &self.store.snapshot;
        let f = self.filters.get(&Pane::Alarms);
        let mut idx: Vec<usize> = (0..snap.alarms.len())
            .filter(|i| {
                let a = &snap.alarms[*i];
                f.is_none_or(|f| {
                    f.is_match(&a.name)
                        || f.is_match(a.state.as_str())
                        || a.service_key.as_deref().is_some_and(|k| f.is_match(k))
                })
            })
            .collect();
        idx.sort_by_key(|i| {
            let a = &snap.alarms[*i];
            let rank = match a.state {
                crate::model::AlarmState::Alarm => 0,
                crate::model::AlarmState::InsufficientData => 1,
                crate::model::AlarmState::Ok => 2,
            };
            (rank, std::cmp::Reverse(a.state_updated_at))
        });
        idx
    }

    /// Review findings of the latest snapshot, kept up to date incrementally.
    pub fn review(&self) -> &ReviewCache {
        &self.review_cache
    }

    /// Findings for the findings pane (fleet) or the open service, filtered.
    pub fn visible_findings(&self) -> Vec<&Finding> {
        let f = self.filters.get(&Pane::Findings);
        let scope = match &self.view {
            View::Service(k) => Some(k),
            _ => None,
        };
        self.review()
            .findings()
            .filter(|x| scope.is_none_or(|k| finding_is_for(x, k)))
            .filter(|x| {
                review::suppress::suppression_for(&self.suppressions, x, self.store.snapshot.at)
                    .is_none()
            })
            .filter(|x| {
                f.is_none_or(|f| {
                    f.is_match(x.id)
                        || f.is_match(x.title)
                        || f.is_match(x.severity.as_str())
                        || f.is_match(x.pillar.code())
                        || f.is_match(&finding_key(x))
                        || x.evidence.iter().any(|e| f.is_match(e))
                })
            })
            .collect()
    }

    /// Timeline events, newest first, filtered (and scoped to the open service).
    pub fn visible_timeline(&self) -> Vec<&TimelineEvent> {
        let f = self.filters.get(&Pane::Timeline);
        let scope = match &self.view {
            View::Service(k) => Some(k),
            _ => None,
        };
        self.store
            .timeline
            .iter()
            .rev()
            .filter(|e| !self.timeline_bad_only || e.bad)
            .filter(|e| scope.is_none_or(|k| e.service.as_ref() == Some(k)))
            .filter(|e| f.is_none_or(|f| f.is_match(&e.summary) || f.is_match(e.kind.as_str())))
            .collect()
    }

    /// The service the logs pane shows (None = all services).
    pub fn log_scope(&self) -> Option<String> {
        match &self.view {
            View::Service(k) => Some(k.short()),
            _ if self.logs.all_services => None,
            _ => self.selected_row().map(|r| r.key.clone()),
        }
    }

    pub fn log_line_matches(&self, l: &StoredLine, scope: Option<&str>) -> bool {
        scope.is_none_or(|s| &*l.service_key == s)
            // The open service's own lines, not its twin's elsewhere.
            && match (&self.view, &l.service) {
                (View::Service(id), Some(from)) => from == id,
                _ => true,
            }
            && self
                .logs
                .stream
                .as_ref()
                .is_none_or(|st| *st == l.log_stream)
            && self
                .filters
                .get(&Pane::Logs)
                .is_none_or(|f| f.is_match(&l.text))
    }

    /// Up to `max` matching log lines ending at the anchor (or the newest
    /// line when following), oldest first.
    pub fn log_window(&self, max: usize) -> Vec<&StoredLine> {
        let scope = self.log_scope();
        let buf = &self.store.logs;
        let end = if self.logs.follow {
            buf.len()
        } else {
            buf.position_of(self.logs.anchor)
                .map_or(buf.len(), |p| p + 1)
        };
        let mut out: Vec<&StoredLine> = (0..end)
            .rev()
            .filter_map(|i| buf.get(i))
            .filter(|l| self.log_line_matches(l, scope.as_deref()))
            .take(max)
            .collect();
        out.reverse();
        out
    }

    // ---- keys ----

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
            let (cluster, service) = self
                .selected_row()
                .map(|r| (r.cluster.clone(), r.name.clone()))
                .unwrap_or_default();
            let handled = self.runbooks.on_key(key, now, (&cluster, &service));
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

    fn on_input_key(&mut self, key: KeyEvent, mut text: String, command: bool) -> Vec<Effect> {
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

    fn set_filter(&mut self, text: &str) {
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

    /// Run a `:` command.
    pub fn run_command(&mut self, line: &str) -> Vec<Effect> {
        let mut words = line.split_whitespace();
        let Some(cmd) = words.next() else {
            return vec![];
        };
        let arg = words.next();
        self.message = None;
        match cmd {
            "q!" | "qa" => self.quit = true,
            "q" | "quit" => self.request_quit(),
            "svc" | "services" | "s" => self.show_fleet(Pane::Services),
            "alarms" | "alarm" | "a" => self.show_fleet(Pane::Alarms),
            "timeline" | "tl" | "t" => self.show_fleet(Pane::Timeline),
            "findings" | "review" | "f" => {
                self.view = View::Findings;
                self.focus = 0;
            }
            "runbooks" | "runbook" | "rb" => {
                self.view = View::Runbooks;
                self.focus = 0;
                if matches!(self.runbooks.screen, crate::ui::runbooks::Screen::List) {
                    self.runbooks.scan_interrupted();
                }
            }
            "logs" | "log" | "l" => {
                let panes = self.view.panes();
                self.focus = panes.iter().position(|p| *p == Pane::Logs).unwrap_or(0);
            }
            "help" | "h" => self.help = true,
            "theme" => match arg {
                None => {
                    self.message = Some((
                        format!(
                            "theme: {} (try :theme dark|light|high-contrast)",
                            self.theme.name
                        ),
                        false,
                    ))
                }
                Some(name) => match Theme::load(name, self.themes_dir.as_deref()) {
                    Ok(t) => {
                        self.theme = if self.no_color {
                            Theme::monochrome()
                        } else {
                            t
                        };
                        self.message = Some((format!("theme {name}"), false));
                    }
                    Err(e) => self.message = Some((e.to_string(), true)),
                },
            },
            "speed" => match arg.and_then(|a| a.trim_end_matches('x').parse::<f64>().ok()) {
                Some(x) if x > 0.0 && x <= 1000.0 => {
                    self.message = Some((format!("speed ×{x}"), false));
                    return vec![Effect::Control(Control::SetSpeed(x))];
                }
                _ => self.message = Some(("usage: :speed X (0 < X ≤ 1000)".into(), true)),
            },
            "pause" => {
                self.paused = true;
                self.message = Some((
                    "paused: the source sends nothing until :resume".into(),
                    false,
                ));
                return vec![Effect::Control(Control::Pause(true))];
            }
            "resume" => {
                self.paused = false;
                return vec![Effect::Control(Control::Pause(false))];
            }
            other => {
                self.message = Some((
                    format!(
                        "unknown command :{other} (try :svc :alarms :timeline :logs :findings :runbooks :theme NAME :q)"
                    ),
                    true,
                ))
            }
        }
        vec![]
    }

    fn show_fleet(&mut self, pane: Pane) {
        self.view = View::Fleet;
        self.focus = View::Fleet
            .panes()
            .iter()
            .position(|p| *p == pane)
            .unwrap_or(0);
    }

    fn list_len(&self, pane: Pane) -> usize {
        match pane {
            Pane::Services => self.visible_rows().len(),
            Pane::Alarms => self.visible_alarms().len(),
            Pane::Timeline => self.visible_timeline().len(),
            Pane::Findings => self.visible_findings().len(),
            // Scrolling panes clamp at draw time.
            _ => usize::MAX,
        }
    }

    fn move_cursor(&mut self, pane: Pane, delta: isize) {
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
        }
        vec![]
    }

    fn drill_down(&mut self, pane: Pane) {
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

    fn newest_matching_seq(&self) -> u64 {
        self.log_window(1).last().map_or(0, |l| l.seq)
    }

    /// Scroll the log pane by `delta` matching lines (negative = back in time).
    fn scroll_logs(&mut self, delta: isize) {
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
                    .is_some_and(|l| self.log_line_matches(l, scope.as_deref()))
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
                    .is_some_and(|l| self.log_line_matches(l, scope.as_deref()))
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
    fn next_stream(&mut self) {
        let scope = self.log_scope();
        let mut streams: Vec<Arc<str>> = self
            .store
            .logs
            .iter()
            .rev()
            .take(5_000)
            .filter(|l| scope.as_deref().is_none_or(|s| &*l.service_key == s))
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

/// Whether a finding concerns the service `id` (no allocation: this runs
/// over every finding of the fleet for each frame of the service view).
pub fn finding_is_for(f: &Finding, id: &crate::model::ServiceId) -> bool {
    f.service.as_deref() == Some(&*id.name)
        && *f.cluster == *id.cluster
        && *f.region == *id.region
        && *f.account == *id.account
}

/// The service a finding concerns.
pub fn finding_service(f: &Finding) -> Option<crate::model::ServiceId> {
    let s = f.service.as_deref()?;
    Some(crate::model::ServiceId::new(
        &f.account, &f.region, &f.cluster, s,
    ))
}

/// `cluster/service` of a finding (the cluster alone for cluster-level ones).
pub fn finding_key(f: &Finding) -> String {
    match &f.service {
        Some(s) => format!("{}/{s}", f.cluster),
        None => f.cluster.to_string(),
    }
}
