//! `:ctx`: pick the AWS profiles and regions the console reads, and switch
//! to that set without a restart. The picker is a keymap component (its
//! keys are [`Context::CtxPicker`]'s); the switch asks the app's
//! [`FleetBuilder`] for a new source, shuts the old one down and forgets
//! what belonged to it (rows, metrics, logs, the selection). Runbook
//! journals and notes are the operator's and stay.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::source::context::{Choices, ContextSet};
use crate::source::{Control, SourceHandle};
use crate::ui::app::{App, Effect, LogView, View};
use crate::ui::keymap::{self, Action, Context};
use crate::ui::theme::Theme;
use crate::ui::widgets::safe;

/// The picker's two lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Profiles,
    Regions,
}

/// The open `:ctx` dialog.
#[derive(Debug, Clone)]
pub struct CtxPicker {
    pub choices: Choices,
    pub profiles: Vec<bool>,
    pub regions: Vec<bool>,
    pub column: Column,
    /// Cursor in each list.
    pub cursor: [usize; 2],
    /// Why Enter did nothing (one line).
    pub error: Option<String>,
}

/// What a key did to the picker.
#[derive(Debug, PartialEq, Eq)]
pub enum Picked {
    Open,
    Cancel,
    Apply(ContextSet),
}

impl CtxPicker {
    /// The choices with `current` checked; a profile or region of the set
    /// the files do not name (the default chain, an `--region` typed by
    /// hand) is offered too, first, so it can be kept or dropped.
    pub fn new(mut choices: Choices, current: &ContextSet) -> CtxPicker {
        for (list, cur) in [
            (&mut choices.profiles, &current.profiles),
            (&mut choices.regions, &current.regions),
        ] {
            let missing: Vec<String> = cur.iter().filter(|c| !list.contains(c)).cloned().collect();
            for (i, c) in missing.into_iter().enumerate() {
                list.insert(i.min(list.len()), c);
            }
        }
        let checked = |all: &[String], cur: &[String]| -> Vec<bool> {
            all.iter().map(|x| cur.contains(x)).collect()
        };
        let profiles = checked(&choices.profiles, &current.profiles);
        let regions = checked(&choices.regions, &current.regions);
        let first = |v: &[bool]| v.iter().position(|b| *b).unwrap_or(0);
        CtxPicker {
            cursor: [first(&profiles), first(&regions)],
            profiles,
            regions,
            choices,
            column: Column::Profiles,
            error: None,
        }
    }

    fn col(&self) -> usize {
        match self.column {
            Column::Profiles => 0,
            Column::Regions => 1,
        }
    }

    fn len(&self) -> usize {
        match self.column {
            Column::Profiles => self.profiles.len(),
            Column::Regions => self.regions.len(),
        }
    }

    /// The set checked, in list order.
    pub fn set(&self) -> ContextSet {
        let pick = |names: &[String], on: &[bool]| {
            names
                .iter()
                .zip(on)
                .filter(|(_, b)| **b)
                .map(|(n, _)| n.clone())
                .collect()
        };
        ContextSet {
            profiles: pick(&self.choices.profiles, &self.profiles),
            regions: pick(&self.choices.regions, &self.regions),
        }
    }

    pub fn on_key(&mut self, key: &ratatui::crossterm::event::KeyEvent) -> Picked {
        let c = self.col();
        match keymap::lookup(Context::CtxPicker, key) {
            Some(Action::Down) => {
                self.cursor[c] = (self.cursor[c] + 1).min(self.len().saturating_sub(1))
            }
            Some(Action::Up) => self.cursor[c] = self.cursor[c].saturating_sub(1),
            Some(Action::SwitchField) => {
                self.column = match self.column {
                    Column::Profiles => Column::Regions,
                    Column::Regions => Column::Profiles,
                }
            }
            Some(Action::Toggle) => {
                let list = match self.column {
                    Column::Profiles => &mut self.profiles,
                    Column::Regions => &mut self.regions,
                };
                if let Some(b) = list.get_mut(self.cursor[c]) {
                    *b = !*b;
                }
                self.error = None;
            }
            Some(Action::Submit) => {
                let set = self.set();
                if set.profiles.is_empty() || set.regions.is_empty() {
                    self.error = Some("check at least one profile and one region".into());
                } else {
                    return Picked::Apply(set);
                }
            }
            Some(Action::Back) => return Picked::Cancel,
            _ => {}
        }
        Picked::Open
    }
}

impl App {
    /// The set being read: the one given (`--profile` × `--region`, or the
    /// last `:ctx`), its gaps filled from what the source reported (no
    /// `--profile` is the default chain's, no `--region` the profile's own).
    pub fn current_set(&self) -> ContextSet {
        let mut set = self.context.clone().unwrap_or_default();
        if set.profiles.is_empty() {
            set.profiles.push("default".into());
        }
        if set.regions.is_empty() {
            let reported = &self.store.snapshot.source.region;
            set.regions = reported
                .split(',')
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect();
        }
        set
    }

    /// `:ctx`: open the picker over the profiles of the AWS files.
    pub(crate) fn open_ctx_picker(&mut self) {
        if self.refuse_during_run() {
            return;
        }
        let Some(builder) = &self.fleet_builder else {
            self.message = Some((
                ":ctx: no AWS configuration to read profiles from".into(),
                true,
            ));
            return;
        };
        let choices = Choices::from_profiles(builder.profiles());
        self.ctx_picker = Some(CtxPicker::new(choices, &self.current_set()));
    }

    /// A runbook run in progress acts on the set it started on: no switch.
    pub(crate) fn refuse_during_run(&mut self) -> bool {
        let running = self
            .runbooks
            .running()
            .filter(|r| !r.runner.is_finished())
            .map(|r| r.runner.run_id.clone());
        if let Some(id) = &running {
            self.message = Some((
                format!(
                    ":ctx: runbook run {id} is in progress on this set: finish or abort it first"
                ),
                true,
            ));
            self.ctx_picker = None;
        }
        running.is_some()
    }

    /// A key while the picker is open.
    pub(crate) fn ctx_key(&mut self, key: &ratatui::crossterm::event::KeyEvent) -> Vec<Effect> {
        let Some(p) = &mut self.ctx_picker else {
            return vec![];
        };
        match p.on_key(key) {
            Picked::Open => vec![],
            Picked::Cancel => {
                self.ctx_picker = None;
                vec![]
            }
            Picked::Apply(set) => {
                if self.refuse_during_run() {
                    return vec![];
                }
                // The builder's check is cheap (the AWS files' stat and
                // read, bounded): a set that cannot be read keeps the
                // picker open, saying why.
                if let Some(Err(e)) = self.fleet_builder.as_ref().map(|b| b.check(&set)) {
                    let kept = self.current_set().label(usize::MAX);
                    if let Some(p) = &mut self.ctx_picker {
                        p.error = Some(format!("{e}; still reading {kept}"));
                    }
                    return vec![];
                }
                self.ctx_picker = None;
                vec![Effect::Switch(set)]
            }
        }
    }

    /// Forget what belonged to the old set; the notes, runbook journals,
    /// filters, theme and the runbook view stay.
    pub fn reset_for(&mut self, set: ContextSet, source_label: String) {
        self.store = Default::default();
        self.rows.clear();
        self.review_cache = Default::default();
        self.badges.clear();
        self.api_samples.clear();
        self.cursor.clear();
        self.offsets.clear();
        self.logs = LogView::default();
        self.paused = false;
        self.silent_secs = 0;
        self.quit_armed = false;
        if matches!(self.view, View::Service(_)) {
            self.view = View::Fleet;
            self.focus = 0;
        }
        self.runbooks.source_label = source_label;
        self.message = Some((format!("reading {}", safe(&set.label(usize::MAX))), false));
        self.context = Some(set);
    }
}

/// A switch under way: the new source is being connected (off the event
/// loop); the old one is read until it is ready.
pub struct Pending {
    pub set: ContextSet,
    /// How a runbook journal names the new source.
    pub label: String,
}

/// Start switching to `set`: the builder's check, then the future that
/// connects the new source (the caller runs it off the event loop). None
/// (nothing done) without a builder, or when the check refuses the set (one
/// line on the bottom line; the old set is kept and still read).
pub fn begin_switch(
    app: &mut App,
    set: ContextSet,
) -> Option<(Pending, futures::future::BoxFuture<'static, SourceHandle>)> {
    let builder = app.fleet_builder.as_ref()?;
    let kept = app.current_set().label(usize::MAX);
    if let Err(e) = builder.check(&set) {
        app.message = Some((
            format!(":ctx: {}; still reading {}", safe(&e), safe(&kept)),
            true,
        ));
        return None;
    }
    let label = builder.source_label(&set);
    let connect = builder.connect(&set);
    // The status line still names the old set, read until then.
    app.message = Some((
        format!("connecting to {}…", safe(&set.label(usize::MAX))),
        false,
    ));
    Some((Pending { set, label }, connect))
}

/// Finish a switch with the new source `next`: the old one shut down, the
/// old set's data forgotten. A runbook run started meanwhile acts on the
/// old set: then `next` is shut down instead, and the bottom line says so.
/// True when the console now reads `next`.
pub fn finish_switch(
    app: &mut App,
    source: &mut SourceHandle,
    pending: Pending,
    next: SourceHandle,
) -> bool {
    if app.refuse_during_run() {
        shut_down(&next);
        return false;
    }
    let old = std::mem::replace(source, next);
    shut_down(&old);
    app.reset_for(pending.set, pending.label);
    app.set_capabilities(source.capabilities);
    app.silent_after = (2 * source.heartbeat.as_secs()).max(5);
    let first = source.snapshots.borrow().clone();
    if !first.source.kind.is_empty() {
        app.apply(crate::source::Update::Snapshot(first));
    }
    true
}

/// The console's connect task ended: [`finish_switch`] with its source, or,
/// should the task have died, one line and the old set kept.
pub fn connected(
    app: &mut App,
    source: &mut SourceHandle,
    pending: Pending,
    next: Result<SourceHandle, tokio::task::JoinError>,
) -> bool {
    match next {
        Ok(next) => finish_switch(app, source, pending, next),
        Err(e) => {
            app.message = Some((
                format!(
                    ":ctx: connecting to {} failed ({e}); still reading the old set",
                    safe(&pending.set.label(usize::MAX))
                ),
                true,
            ));
            false
        }
    }
}

fn shut_down(source: &SourceHandle) {
    if source.control.try_send(Control::Shutdown).is_err() {
        // A full queue: the shutdown waits its turn, the console does not.
        let control = source.control.clone();
        tokio::spawn(async move {
            let _ = control.send(Control::Shutdown).await;
        });
    }
}

/// Switch the console to `set` in one go ([`begin_switch`], the connect
/// awaited, [`finish_switch`]); the console runs the connect off its event
/// loop instead. False (nothing done) when the switch was refused.
pub async fn switch(app: &mut App, source: &mut SourceHandle, set: ContextSet) -> bool {
    let Some((pending, connect)) = begin_switch(app, set) else {
        return false;
    };
    let next = connect.await;
    finish_switch(app, source, pending, next)
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

/// The picker over `area`.
pub fn render(f: &mut Frame, area: Rect, p: &CtxPicker, theme: &Theme) {
    let r = centered(
        area,
        area.width.saturating_sub(4).min(90),
        area.height.saturating_sub(4).min(30),
    );
    if r.width < 4 || r.height < 4 {
        return;
    }
    f.render_widget(Clear, r);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent())
        .title(" Profiles × regions (:ctx) ");
    let inner = block.inner(r);
    f.render_widget(block, r);
    // An error (a path in it) gets two lines, wrapped.
    let head_h = if p.error.is_some() || p.choices.error.is_some() {
        2
    } else {
        1
    };
    let [head, lists, foot] = Layout::vertical([
        Constraint::Length(head_h),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(inner);
    let (text, style) = match (&p.error, &p.choices.error) {
        (Some(e), _) => (safe(e).into_owned(), theme.bad()),
        (None, Some(e)) => (safe(e).into_owned(), theme.bad()),
        (None, None) => (
            format!(
                "read: {}",
                safe(&p.set().label(inner.width.saturating_sub(6) as usize))
            ),
            theme.info(),
        ),
    };
    f.render_widget(
        Paragraph::new(Line::styled(text, style)).wrap(ratatui::widgets::Wrap { trim: true }),
        head,
    );
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Fill(1)]).areas(lists);
    let cols = [
        (
            left,
            "Profiles",
            &p.choices.profiles,
            &p.profiles,
            Column::Profiles,
        ),
        (
            right,
            "Regions",
            &p.choices.regions,
            &p.regions,
            Column::Regions,
        ),
    ];
    for (i, (area, title, names, on, col)) in cols.into_iter().enumerate() {
        render_list(
            f,
            area,
            (title, names, on),
            p.cursor[i],
            p.column == col,
            theme,
        );
    }
    f.render_widget(
        Paragraph::new(Line::styled(
            fit_hint(&keymap::hint(Context::CtxPicker), foot.width as usize),
            theme.dim(),
        )),
        foot,
    );
}

/// The dialog's key hint in `width`: whole `key: what` entries only (at 80
/// columns the last ones are dropped rather than cut; the footer under the
/// dialog lists every key).
fn fit_hint(hint: &str, width: usize) -> String {
    let mut out = String::new();
    for entry in hint.split(" · ") {
        let next = if out.is_empty() {
            entry.to_string()
        } else {
            format!("{out} · {entry}")
        };
        if next.chars().count() > width {
            break;
        }
        out = next;
    }
    out
}

fn render_list(
    f: &mut Frame,
    area: Rect,
    (title, names, on): (&str, &[String], &[bool]),
    cursor: usize,
    focused: bool,
    theme: &Theme,
) {
    let n = on.iter().filter(|b| **b).count();
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(if focused { theme.accent() } else { theme.dim() })
        .title(format!(" {title} ({n}/{}) ", names.len()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let h = inner.height.max(1) as usize;
    let first = cursor.saturating_sub(h - 1);
    let lines: Vec<Line> = names
        .iter()
        .zip(on)
        .enumerate()
        .skip(first)
        .take(h)
        .map(|(i, (name, checked))| {
            let mark = if *checked { "[x] " } else { "[ ] " };
            let here = focused && i == cursor;
            let style = if here {
                theme.selected()
            } else if *checked {
                theme.ok()
            } else {
                theme.base()
            };
            Line::from(vec![
                Span::styled(if here { "▶ " } else { "  " }, theme.accent()),
                Span::styled(format!("{mark}{}", safe(name)), style),
            ])
        })
        .collect();
    if names.is_empty() {
        f.render_widget(
            Paragraph::new(Line::styled("  none found", theme.dim())),
            inner,
        );
    } else {
        f.render_widget(Paragraph::new(lines), inner);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use futures::future::BoxFuture;
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use tokio::sync::{mpsc, watch};

    use super::*;
    use crate::model::FleetSnapshot;
    use crate::source::context::{FleetBuilder, KnownProfile};
    use crate::source::sim::{Simulator, scenario::Scenario};
    use crate::source::{Capabilities, Capability, Update};
    use crate::ui::theme::Theme;

    /// A builder that records the sets it is asked for and hands out
    /// sources that send nothing.
    struct Fake {
        asked: Arc<Mutex<Vec<ContextSet>>>,
        /// What `check` says (None: the set can be connected).
        refuse: Option<String>,
    }

    fn quiet_source(caps: Capabilities) -> (SourceHandle, mpsc::Receiver<Control>) {
        let (_tx, updates) = mpsc::channel(1);
        let (_snap_tx, snapshots) = watch::channel(Arc::new(FleetSnapshot::default()));
        let (control, control_rx) = mpsc::channel(4);
        let h = SourceHandle {
            updates,
            snapshots,
            control,
            capabilities: caps,
            heartbeat: std::time::Duration::from_secs(11),
        };
        (h, control_rx)
    }

    impl FleetBuilder for Fake {
        fn profiles(&self) -> Result<Vec<KnownProfile>, String> {
            Ok(["prod", "staging"]
                .iter()
                .map(|n| KnownProfile {
                    name: n.to_string(),
                    region: None,
                })
                .collect())
        }
        fn connect(&self, set: &ContextSet) -> BoxFuture<'static, SourceHandle> {
            self.asked.lock().unwrap().push(set.clone());
            let (h, _) = quiet_source(crate::source::aws::CAPABILITIES);
            Box::pin(async move { h })
        }
        fn source_label(&self, set: &ContextSet) -> String {
            format!("fake:{}", set.label(usize::MAX))
        }
        fn check(&self, _set: &ContextSet) -> Result<(), String> {
            self.refuse.clone().map_or(Ok(()), Err)
        }
    }

    fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
        app.on_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    /// A console on AWS reading `prod × us-east-1`, with rows on screen.
    fn aws_app(asked: &Arc<Mutex<Vec<ContextSet>>>) -> App {
        let mut app = App::new(Theme::default_dark());
        app.set_capabilities(crate::source::aws::CAPABILITIES);
        let sim = Simulator::new(Scenario::builtin("steady").unwrap(), None);
        app.apply(Update::Snapshot(Arc::new(sim.snapshot())));
        app.context = Some(ContextSet {
            profiles: vec!["prod".into()],
            regions: vec!["us-east-1".into()],
        });
        app.fleet_builder = Some(Box::new(Fake {
            asked: asked.clone(),
            refuse: None,
        }));
        app
    }

    #[tokio::test]
    async fn switching_reads_the_chosen_set_and_forgets_the_old_one() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let mut app = aws_app(&asked);
        assert!(!app.rows.is_empty());
        app.cursor.insert(crate::ui::app::Pane::Services, 2);
        app.runbooks.library = crate::runbook::Library::load(&[]);
        let runbooks = app.runbooks.library.runbooks.len();
        assert_eq!(app.run_command("ctx"), vec![]);
        let p = app.ctx_picker.as_ref().expect("the picker opens");
        assert_eq!(p.set(), app.current_set(), "the current set is checked");
        // staging too, and us-west-2 (the fourth commercial region).
        press(&mut app, KeyCode::Down);
        press(&mut app, KeyCode::Char(' '));
        press(&mut app, KeyCode::Tab);
        for _ in 0..3 {
            press(&mut app, KeyCode::Char('j'));
        }
        press(&mut app, KeyCode::Char(' '));
        let want = ContextSet {
            profiles: vec!["prod".into(), "staging".into()],
            regions: vec!["us-east-1".into(), "us-west-2".into()],
        };
        let effects = press(&mut app, KeyCode::Enter);
        assert_eq!(effects, vec![Effect::Switch(want.clone())]);
        assert!(app.ctx_picker.is_none());

        let (mut old, mut old_control) = quiet_source(crate::source::aws::CAPABILITIES);
        assert!(switch(&mut app, &mut old, want.clone()).await);
        assert_eq!(
            *asked.lock().unwrap(),
            std::slice::from_ref(&want),
            "built once, for the set"
        );
        assert_eq!(old_control.try_recv().ok(), Some(Control::Shutdown));
        assert!(app.rows.is_empty() && !app.store.has_snapshot);
        assert!(app.store.logs.is_empty());
        assert_eq!(app.cursor(crate::ui::app::Pane::Services), 0);
        assert_eq!(app.context.as_ref(), Some(&want));
        assert_eq!(
            app.runbooks.source_label,
            "fake:prod,staging × us-east-1,us-west-2"
        );
        assert_eq!(
            app.runbooks.library.runbooks.len(),
            runbooks,
            "runbooks kept"
        );
        assert_eq!(app.silent_after, 22, "the new source's heartbeat");
    }

    #[tokio::test]
    async fn a_refused_switch_keeps_the_old_set_and_says_why_in_one_line() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let mut app = aws_app(&asked);
        app.fleet_builder = Some(Box::new(Fake {
            asked: asked.clone(),
            refuse: Some(
                "AWS config file /x/config: not a regular file (a FIFO); refusing to read it"
                    .into(),
            ),
        }));
        let rows = app.rows.len();
        let (mut old, mut old_control) = quiet_source(crate::source::aws::CAPABILITIES);
        let want = ContextSet {
            profiles: vec!["staging".into()],
            regions: vec!["us-west-2".into()],
        };
        assert!(!switch(&mut app, &mut old, want).await);
        assert!(asked.lock().unwrap().is_empty(), "nothing connected");
        assert!(old_control.try_recv().is_err(), "the old source goes on");
        assert_eq!(app.rows.len(), rows, "its data is kept");
        assert_eq!(
            app.context.as_ref().map(|c| c.profiles.clone()),
            Some(vec!["prod".to_string()])
        );
        let (m, err) = app.message.clone().unwrap();
        assert!(err && !m.contains('\n'));
        assert_eq!(
            m,
            ":ctx: AWS config file /x/config: not a regular file (a FIFO); refusing to read it; \
             still reading prod × us-east-1"
        );
    }

    #[test]
    fn esc_cancels_and_an_empty_set_is_not_applied() {
        let asked = Arc::new(Mutex::new(Vec::new()));
        let mut app = aws_app(&asked);
        app.run_command("ctx");
        // Uncheck the only profile: Enter says why and stays open.
        press(&mut app, KeyCode::Char(' '));
        assert_eq!(press(&mut app, KeyCode::Enter), vec![]);
        let p = app.ctx_picker.as_ref().unwrap();
        assert_eq!(
            p.error.as_deref(),
            Some("check at least one profile and one region")
        );
        assert_eq!(press(&mut app, KeyCode::Esc), vec![]);
        assert!(app.ctx_picker.is_none());
        assert!(!app.rows.is_empty(), "nothing switched");
        assert!(asked.lock().unwrap().is_empty());
    }

    #[test]
    fn a_profile_of_the_set_the_files_do_not_name_is_offered_checked() {
        let choices = Choices::from_profiles(Ok(vec![KnownProfile {
            name: "prod".into(),
            region: None,
        }]));
        let cur = ContextSet {
            profiles: vec!["default".into()],
            regions: vec!["xx-test-1".into()],
        };
        let p = CtxPicker::new(choices, &cur);
        assert_eq!(p.choices.profiles, ["default", "prod"]);
        assert_eq!(p.choices.regions[0], "xx-test-1");
        assert_eq!(p.set(), cur);
    }

    #[test]
    fn the_key_hint_drops_whole_entries_to_fit() {
        let h = "Space: check · Tab: switch · Esc: cancel";
        assert_eq!(fit_hint(h, 100), h);
        assert_eq!(fit_hint(h, 30), "Space: check · Tab: switch");
        assert_eq!(fit_hint(h, 5), "");
    }

    #[test]
    fn the_demo_refuses_ctx() {
        let mut app = App::new(Theme::default_dark());
        app.set_capabilities(crate::source::sim::CAPABILITIES);
        assert_eq!(app.run_command("ctx"), vec![]);
        assert!(app.ctx_picker.is_none());
        let (m, err) = app.message.clone().unwrap();
        assert!(
            err && m == format!(":ctx: {}", Capability::Contexts.refusal()),
            "{m}"
        );
    }
}
