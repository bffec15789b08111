//! The console's shared types: which view and pane, what the bottom line
//! is used for, a pane's filter, the log pane's state, what the event loop
//! does for the app. They sit below the app, the panes and the runbook view
//! (no module imports one that imports it back).

use std::sync::Arc;

use regex::{Regex, RegexBuilder};

use crate::source::Control;
use crate::ui::keymap::Context;

/// Which screen is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// All services, alarms, the fleet timeline and logs.
    Fleet,
    /// One service in detail, by key (`cluster/service`).
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
    /// The keymap context of the pane's keys (the app dispatches keys by
    /// it; help and the footer list them). Its title, state and render are
    /// the pane's own: see [`crate::ui::panes::PaneView`].
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

/// What a frame learned that the next one needs: the first row each list
/// pane showed (so a list does not jump). The draw returns it; the app
/// keeps it ([`crate::ui::app::App::remember`]). Nothing mutates while
/// drawing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Drawn {
    pub list_offsets: Vec<(Pane, usize)>,
}

/// Something the event loop must do on the app's behalf.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Control(Control),
    /// `:ctx`: read this set of AWS profiles and regions from now on.
    Switch(crate::source::context::ContextSet),
}

/// What the status line says of the API calls made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ApiCalls {
    SoFar(u64),
    PerMin(f64),
}
