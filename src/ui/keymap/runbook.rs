//! The keys of the runbook view and of its dialogs: the help overlay lists
//! them, the footer shows the open screen's or dialog's, and the line at a
//! dialog's foot is made of them ([`super::hint`]).

use super::*;

pub const BINDINGS: &[Binding] = &[
    b!(
        RunbookList,
        [(KeyCode::Char('j'), N), (KeyCode::Down, N)],
        "j/↓",
        Down,
        "next",
        true
    ),
    b!(
        RunbookList,
        [(KeyCode::Char('k'), N), (KeyCode::Up, N)],
        "k/↑",
        Up,
        "previous",
        false
    ),
    b!(
        RunbookList,
        [(KeyCode::Enter, N)],
        "Enter",
        Start,
        "start / resume (fill the parameters, or resume from the journal)",
        true
    ),
    b!(
        RunbookList,
        [(KeyCode::Char(':'), N), (KeyCode::Char(':'), S)],
        ":",
        CommandLine,
        "command",
        true
    ),
    b!(RunbookList, [(KeyCode::Esc, N)], "Esc", Back, "fleet", true),
    b!(
        RunbookParams,
        [(KeyCode::Tab, N), (KeyCode::Down, N)],
        "Tab/↓",
        NextField,
        "next field",
        true
    ),
    b!(
        RunbookParams,
        [
            (KeyCode::BackTab, S),
            (KeyCode::BackTab, N),
            (KeyCode::Up, N)
        ],
        "S-Tab/↑",
        PrevField,
        "previous field",
        false
    ),
    b!(
        RunbookParams,
        [(KeyCode::Enter, N)],
        "Enter",
        Start,
        "start the run",
        true
    ),
    b!(
        RunbookParams,
        [(KeyCode::Esc, N)],
        "Esc",
        Back,
        "back to the list",
        true
    ),
    b!(
        RunbookRun,
        [(KeyCode::Char('j'), N), (KeyCode::Down, N)],
        "j/↓",
        Down,
        "next step",
        true
    ),
    b!(
        RunbookRun,
        [(KeyCode::Char('k'), N), (KeyCode::Up, N)],
        "k/↑",
        Up,
        "previous step",
        false
    ),
    b!(
        RunbookRun,
        [(KeyCode::Char('n'), N)],
        "n",
        OpenNote,
        "note (to the journal; the draft is kept)",
        true
    ),
    b!(
        RunbookRun,
        [(KeyCode::Enter, N), (KeyCode::Char('a'), N)],
        "Enter",
        Reopen,
        "reopen dialog (one closed with Esc)",
        true
    ),
    b!(
        RunbookRun,
        [(KeyCode::Char('X'), S), (KeyCode::Char('X'), N)],
        "X X",
        Abort,
        "abort (twice; the cleanup steps run)",
        true
    ),
    b!(
        RunbookRun,
        [(KeyCode::Char('L'), S), (KeyCode::Char('L'), N)],
        "L",
        BackToList,
        "list of runbooks (once the run ended)",
        false
    ),
    b!(
        RunbookRun,
        [(KeyCode::Char(':'), N), (KeyCode::Char(':'), S)],
        ":",
        CommandLine,
        "command",
        true
    ),
    b!(
        RunbookRun,
        [(KeyCode::Esc, N)],
        "Esc",
        Back,
        "fleet (the run goes on)",
        true
    ),
    // ---- the dialogs (the line at their foot is made of these) ----
    b!(
        Confirm,
        [
            (KeyCode::Char('y'), N),
            (KeyCode::Char('Y'), S),
            (KeyCode::Char('Y'), N)
        ],
        "y",
        Yes,
        "make them",
        true
    ),
    b!(
        Confirm,
        [
            (KeyCode::Char('n'), N),
            (KeyCode::Char('N'), S),
            (KeyCode::Char('N'), N)
        ],
        "n",
        No,
        "decline (aborts, or skips an optional step)",
        true
    ),
    b!(Confirm, [(KeyCode::Esc, N)], "Esc", Later, "later", true),
    b!(Arm, [(KeyCode::Enter, N)], "Enter", Submit, "arm", true),
    b!(Arm, [(KeyCode::Esc, N)], "Esc", Later, "later", true),
    b!(
        Read,
        [
            (KeyCode::Enter, N),
            (KeyCode::Char('s'), C),
            (KeyCode::Enter, A)
        ],
        "Enter",
        Submit,
        "continue",
        true
    ),
    b!(Read, [(KeyCode::Esc, N)], "Esc", Later, "later", true),
    b!(
        Checkpoint,
        [(KeyCode::Char('s'), C), (KeyCode::Enter, A)],
        "Ctrl-S",
        Submit,
        "answer",
        true
    ),
    b!(
        Checkpoint,
        [(KeyCode::Tab, N)],
        "Tab",
        NextChoice,
        "next choice",
        true
    ),
    b!(
        Checkpoint,
        [(KeyCode::Esc, N)],
        "Esc",
        Later,
        "later (the draft is kept)",
        true
    ),
    b!(
        CheckpointApprovers,
        [(KeyCode::Char('s'), C), (KeyCode::Enter, A)],
        "Ctrl-S",
        Submit,
        "answer",
        true
    ),
    b!(
        CheckpointApprovers,
        [(KeyCode::Tab, N)],
        "Tab",
        NextChoice,
        "choice",
        true
    ),
    b!(
        CheckpointApprovers,
        [(KeyCode::BackTab, S), (KeyCode::BackTab, N)],
        "Shift-Tab",
        SwitchField,
        "approvers/note",
        true
    ),
    b!(
        CheckpointApprovers,
        [(KeyCode::Esc, N)],
        "Esc",
        Later,
        "later (draft kept)",
        true
    ),
    b!(
        Note,
        [(KeyCode::Char('s'), C)],
        "Ctrl-S",
        Submit,
        "save to the journal",
        true
    ),
    b!(
        Note,
        [(KeyCode::Esc, N)],
        "Esc",
        Later,
        "keep as draft",
        true
    ),
];
