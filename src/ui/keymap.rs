//! The keymap: one table of bindings per context. The help overlay and the
//! footer are generated from it (gitui's `commands()` idea), so what the
//! screen says is what the keys do.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What a key asks the app to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    CommandLine,
    Filter,
    ClearFilter,
    NextPane,
    PrevPane,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Enter,
    Back,
    ToggleFollow,
    ToggleWrap,
    NextStream,
    ToggleScope,
    ToggleBadOnly,
    /// Ctrl-Z: the run loop stops the job before the app sees the key.
    Suspend,
    // ---- the runbook view and its dialogs ----
    /// Start the selected runbook (or resume the selected interrupted run).
    Start,
    NextField,
    PrevField,
    /// Open the notes editor.
    OpenNote,
    /// Reopen a dialog closed with Esc.
    Reopen,
    /// Abort the run (pressed twice).
    Abort,
    /// Back to the runbook list (a finished run).
    BackToList,
    /// Confirm: make the changes.
    Yes,
    /// Confirm: decline them.
    No,
    /// Close a dialog for now (it waits; a draft is kept).
    Later,
    /// Answer the dialog (arm, checkpoint, note).
    Submit,
    NextChoice,
    /// Checkpoint: between the approvers field and the note.
    SwitchField,
    /// A picker: check or uncheck the entry under the cursor.
    Toggle,
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Global,
    /// Selectable lists: services, alarms, timeline.
    Table,
    /// Read-only panes that scroll: detail sections.
    Scroll,
    Logs,
    Timeline,
    /// `:runbooks`: the list of runbooks and interrupted runs.
    RunbookList,
    /// A runbook's parameter form.
    RunbookParams,
    /// A run in progress (no dialog open).
    RunbookRun,
    /// Dialog: confirm the changes of an action step.
    Confirm,
    /// Dialog: type the arm phrase.
    Arm,
    /// Dialog: a prose checkpoint (read and continue).
    Read,
    /// Dialog: a checkpoint with choices and a note.
    Checkpoint,
    /// Dialog: a checkpoint that also needs approvers.
    CheckpointApprovers,
    /// Dialog: the notes editor.
    Note,
    /// Dialog: `:ctx`, the AWS profiles and regions to read.
    CtxPicker,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Global",
            Context::Table => "Lists (services, alarms, timeline)",
            Context::Scroll => "Detail sections",
            Context::Logs => "Logs",
            Context::Timeline => "Timeline",
            Context::RunbookList => "Runbooks",
            Context::RunbookParams => "Runbook parameters",
            Context::RunbookRun => "Runbook run",
            Context::Confirm => "Dialog: confirm changes",
            Context::Arm => "Dialog: arm the run",
            Context::Read => "Dialog: read and continue",
            Context::Checkpoint => "Dialog: checkpoint",
            Context::CheckpointApprovers => "Dialog: checkpoint with approvers",
            Context::Note => "Dialog: note",
            Context::CtxPicker => "Dialog: profiles and regions (:ctx)",
        }
    }

    /// Whether the global keys apply here too. Not in the runbook view and
    /// its dialogs: their keys are their own (text is typed there), and the
    /// footer lists only them.
    pub fn with_globals(self) -> bool {
        !matches!(
            self,
            Context::RunbookList
                | Context::RunbookParams
                | Context::RunbookRun
                | Context::Confirm
                | Context::Arm
                | Context::Read
                | Context::Checkpoint
                | Context::CheckpointApprovers
                | Context::Note
                | Context::CtxPicker
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub context: Context,
    pub keys: &'static [(KeyCode, KeyModifiers)],
    /// How the keys are shown ("j/↓").
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
    /// Shown in the footer (the short list), not only in the help overlay.
    pub footer: bool,
}

const N: KeyModifiers = KeyModifiers::NONE;
const S: KeyModifiers = KeyModifiers::SHIFT;
const C: KeyModifiers = KeyModifiers::CONTROL;
const A: KeyModifiers = KeyModifiers::ALT;

macro_rules! b {
    ($ctx:ident, [$($k:expr),+], $label:expr, $act:ident, $help:expr, $footer:expr) => {
        Binding {
            context: Context::$ctx,
            keys: &[$($k),+],
            label: $label,
            action: Action::$act,
            help: $help,
            footer: $footer,
        }
    };
}

mod ctx;
mod runbook;

/// Every binding: the panes' ([`BINDINGS`]), then the runbook view's and
/// its dialogs' ([`runbook::BINDINGS`]), then the `:ctx` picker's.
pub fn bindings() -> impl Iterator<Item = &'static Binding> {
    BINDINGS
        .iter()
        .chain(runbook::BINDINGS)
        .chain(ctx::BINDINGS)
}

/// The bindings of the fleet and service views.
pub const BINDINGS: &[Binding] = &[
    b!(
        Global,
        [(KeyCode::Char('?'), N), (KeyCode::Char('?'), S)],
        "?",
        Help,
        "help: all keys",
        true
    ),
    b!(
        Global,
        [(KeyCode::Char(':'), N), (KeyCode::Char(':'), S)],
        ":",
        CommandLine,
        "command (the commands are listed below; Tab completes them)",
        true
    ),
    b!(
        Global,
        [(KeyCode::Char('/'), N)],
        "/",
        Filter,
        "filter the focused pane (regex, case-insensitive)",
        true
    ),
    b!(
        Global,
        [(KeyCode::Tab, N)],
        "Tab",
        NextPane,
        "next pane",
        true
    ),
    b!(
        Global,
        [(KeyCode::BackTab, S), (KeyCode::BackTab, N)],
        "S-Tab",
        PrevPane,
        "previous pane",
        false
    ),
    b!(
        Global,
        [(KeyCode::Esc, N)],
        "Esc",
        Back,
        "back / clear filter / close",
        true
    ),
    b!(
        Global,
        [(KeyCode::Char('q'), N), (KeyCode::Char('c'), C)],
        "q",
        Quit,
        "quit",
        true
    ),
    b!(
        Global,
        [(KeyCode::Char('z'), C)],
        "C-z",
        Suspend,
        "suspend to the shell (fg returns)",
        false
    ),
    b!(
        Table,
        [(KeyCode::Char('j'), N), (KeyCode::Down, N)],
        "j/↓",
        Down,
        "next row",
        false
    ),
    b!(
        Table,
        [(KeyCode::Char('k'), N), (KeyCode::Up, N)],
        "k/↑",
        Up,
        "previous row",
        false
    ),
    b!(
        Table,
        [(KeyCode::PageDown, N), (KeyCode::Char('f'), C)],
        "PgDn",
        PageDown,
        "page down",
        false
    ),
    b!(
        Table,
        [(KeyCode::PageUp, N), (KeyCode::Char('b'), C)],
        "PgUp",
        PageUp,
        "page up",
        false
    ),
    b!(
        Table,
        [(KeyCode::Char('g'), N), (KeyCode::Home, N)],
        "g",
        Top,
        "first row",
        false
    ),
    b!(
        Table,
        [
            (KeyCode::Char('G'), S),
            (KeyCode::Char('G'), N),
            (KeyCode::End, N)
        ],
        "G",
        Bottom,
        "last row",
        false
    ),
    b!(
        Table,
        [(KeyCode::Enter, N)],
        "Enter",
        Enter,
        "open the service",
        true
    ),
    b!(
        Table,
        [(KeyCode::Char('x'), N)],
        "x",
        ClearFilter,
        "clear the filter",
        false
    ),
    b!(
        Timeline,
        [(KeyCode::Char('j'), N), (KeyCode::Down, N)],
        "j/↓",
        Down,
        "next event",
        false
    ),
    b!(
        Timeline,
        [(KeyCode::Char('k'), N), (KeyCode::Up, N)],
        "k/↑",
        Up,
        "previous event",
        false
    ),
    b!(
        Timeline,
        [(KeyCode::PageDown, N)],
        "PgDn",
        PageDown,
        "page down",
        false
    ),
    b!(
        Timeline,
        [(KeyCode::PageUp, N)],
        "PgUp",
        PageUp,
        "page up",
        false
    ),
    b!(
        Timeline,
        [(KeyCode::Char('g'), N), (KeyCode::Home, N)],
        "g",
        Top,
        "newest event",
        false
    ),
    b!(
        Timeline,
        [
            (KeyCode::Char('G'), S),
            (KeyCode::Char('G'), N),
            (KeyCode::End, N)
        ],
        "G",
        Bottom,
        "oldest event",
        false
    ),
    b!(
        Timeline,
        [(KeyCode::Enter, N)],
        "Enter",
        Enter,
        "open the event's service",
        true
    ),
    b!(
        Timeline,
        [(KeyCode::Char('e'), N)],
        "e",
        ToggleBadOnly,
        "only trouble (failures, ALARM, crashes)",
        true
    ),
    b!(
        Timeline,
        [(KeyCode::Char('x'), N)],
        "x",
        ClearFilter,
        "clear the filter",
        false
    ),
    b!(
        Scroll,
        [(KeyCode::Char('j'), N), (KeyCode::Down, N)],
        "j/↓",
        Down,
        "scroll down",
        false
    ),
    b!(
        Scroll,
        [(KeyCode::Char('k'), N), (KeyCode::Up, N)],
        "k/↑",
        Up,
        "scroll up",
        false
    ),
    b!(
        Scroll,
        [(KeyCode::PageDown, N)],
        "PgDn",
        PageDown,
        "page down",
        false
    ),
    b!(
        Scroll,
        [(KeyCode::PageUp, N)],
        "PgUp",
        PageUp,
        "page up",
        false
    ),
    b!(
        Scroll,
        [(KeyCode::Char('g'), N), (KeyCode::Home, N)],
        "g",
        Top,
        "top",
        false
    ),
    b!(
        Logs,
        [(KeyCode::Char('k'), N), (KeyCode::Up, N)],
        "k/↑",
        Up,
        "scroll back (pauses)",
        false
    ),
    b!(
        Logs,
        [(KeyCode::Char('j'), N), (KeyCode::Down, N)],
        "j/↓",
        Down,
        "scroll forward",
        false
    ),
    b!(
        Logs,
        [(KeyCode::PageUp, N)],
        "PgUp",
        PageUp,
        "page back (pauses)",
        false
    ),
    b!(
        Logs,
        [(KeyCode::PageDown, N)],
        "PgDn",
        PageDown,
        "page forward",
        false
    ),
    b!(
        Logs,
        [(KeyCode::Char('g'), N), (KeyCode::Home, N)],
        "g",
        Top,
        "oldest kept line",
        false
    ),
    b!(
        Logs,
        [
            (KeyCode::Char('G'), S),
            (KeyCode::Char('G'), N),
            (KeyCode::End, N)
        ],
        "G",
        Bottom,
        "newest line, follow",
        false
    ),
    b!(
        Logs,
        [(KeyCode::Char('f'), N), (KeyCode::Char(' '), N)],
        "f/Space",
        ToggleFollow,
        "follow / pause",
        true
    ),
    b!(
        Logs,
        [(KeyCode::Char('w'), N)],
        "w",
        ToggleWrap,
        "wrap long lines",
        true
    ),
    b!(
        Logs,
        [(KeyCode::Char('s'), N)],
        "s",
        NextStream,
        "next stream (all → each task's)",
        true
    ),
    b!(
        Logs,
        [(KeyCode::Char('a'), N)],
        "a",
        ToggleScope,
        "all services / selected service",
        true
    ),
    b!(
        Logs,
        [(KeyCode::Char('x'), N)],
        "x",
        ClearFilter,
        "clear the filter",
        false
    ),
];

/// The action bound to `key` in `context` (falling back to global bindings).
pub fn lookup(context: Context, key: &KeyEvent) -> Option<Action> {
    let matches = |b: &&Binding| {
        b.keys.iter().any(|(code, mods)| {
            *code == key.code
                && (*mods == key.modifiers
                    || (*mods == N
                        && key.modifiers == S
                        && matches!(code, KeyCode::Char(c) if !c.is_ascii_lowercase())))
        })
    };
    bindings()
        .filter(|b| b.context == context)
        .find(matches)
        .or_else(|| {
            bindings()
                .filter(|b| context.with_globals() && b.context == Context::Global)
                .find(matches)
        })
        .map(|b| b.action)
}

/// The line at a dialog's foot: `y: make them · n: decline … · Esc: later`.
pub fn hint(context: Context) -> String {
    bindings()
        .filter(|b| b.context == context && b.footer)
        .map(|b| format!("{}: {}", b.label, b.help))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Footer entries for a context: its own footer bindings, then the global ones.
pub fn footer(context: Context) -> Vec<(&'static str, &'static str)> {
    let own = bindings()
        .filter(|b| b.context == context && b.footer)
        .map(|b| (b.label, short_help(b.help)));
    let global = bindings()
        .filter(|b| context.with_globals() && b.context == Context::Global && b.footer)
        .map(|b| (b.label, short_help(b.help)));
    own.chain(global).collect()
}

/// The first words of a help text, up to ':' or '(' — enough for the footer.
fn short_help(help: &'static str) -> &'static str {
    let end = help.find([':', '(']).unwrap_or(help.len());
    help[..end].trim_end()
}

/// All contexts in help-overlay order.
pub const CONTEXTS: &[Context] = &[
    Context::Global,
    Context::Table,
    Context::Timeline,
    Context::Logs,
    Context::Scroll,
    Context::RunbookList,
    Context::RunbookParams,
    Context::RunbookRun,
    Context::Confirm,
    Context::Arm,
    Context::Read,
    Context::Checkpoint,
    Context::CheckpointApprovers,
    Context::Note,
    Context::CtxPicker,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode, m: KeyModifiers) -> KeyEvent {
        KeyEvent::new(c, m)
    }

    #[test]
    fn context_first_then_global() {
        assert_eq!(
            lookup(Context::Table, &key(KeyCode::Char('j'), N)),
            Some(Action::Down)
        );
        assert_eq!(
            lookup(Context::Logs, &key(KeyCode::Char('f'), N)),
            Some(Action::ToggleFollow)
        );
        assert_eq!(lookup(Context::Table, &key(KeyCode::Char('f'), N)), None);
        assert_eq!(
            lookup(Context::Logs, &key(KeyCode::Char('q'), N)),
            Some(Action::Quit)
        );
        assert_eq!(
            lookup(Context::Table, &key(KeyCode::Char('G'), S)),
            Some(Action::Bottom)
        );
        assert_eq!(
            lookup(Context::Table, &key(KeyCode::Char('?'), S)),
            Some(Action::Help)
        );
        assert_eq!(
            lookup(Context::Table, &key(KeyCode::Char('c'), C)),
            Some(Action::Quit)
        );
    }

    #[test]
    fn no_key_bound_twice_in_a_context() {
        for ctx in CONTEXTS {
            let mut seen = std::collections::HashSet::new();
            for b in bindings().filter(|b| b.context == *ctx) {
                for k in b.keys {
                    assert!(seen.insert(*k), "{ctx:?}: {k:?} bound twice");
                }
            }
        }
    }

    #[test]
    fn dialogs_take_only_their_own_keys() {
        // A `q` typed into the arm phrase is text, not quit.
        assert_eq!(lookup(Context::Arm, &key(KeyCode::Char('q'), N)), None);
        assert_eq!(
            lookup(Context::Confirm, &key(KeyCode::Char('Y'), S)),
            Some(Action::Yes)
        );
        assert_eq!(
            lookup(Context::Checkpoint, &key(KeyCode::Enter, A)),
            Some(Action::Submit)
        );
        assert_eq!(lookup(Context::Checkpoint, &key(KeyCode::Enter, N)), None);
        assert_eq!(
            hint(Context::Confirm),
            "y: make them · n: decline (aborts, or skips an optional step) · Esc: later"
        );
        assert_eq!(
            footer(Context::Arm),
            [("Enter", "arm"), ("Esc", "later")],
            "no global keys under a dialog"
        );
    }

    #[test]
    fn footer_short() {
        let f = footer(Context::Logs);
        assert!(
            f.iter()
                .any(|(k, h)| *k == "f/Space" && *h == "follow / pause")
        );
        assert!(f.iter().any(|(k, _)| *k == "q"));
    }
}
