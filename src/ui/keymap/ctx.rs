//! The keys of the `:ctx` picker (the AWS profiles and regions read): help
//! lists them, the footer and the dialog's foot show them.

use super::*;

pub const BINDINGS: &[Binding] = &[
    b!(
        CtxPicker,
        [(KeyCode::Char(' '), N)],
        "Space",
        Toggle,
        "check / uncheck",
        true
    ),
    b!(
        CtxPicker,
        [(KeyCode::Char('j'), N), (KeyCode::Down, N)],
        "j/↓",
        Down,
        "next",
        false
    ),
    b!(
        CtxPicker,
        [(KeyCode::Char('k'), N), (KeyCode::Up, N)],
        "k/↑",
        Up,
        "previous",
        false
    ),
    b!(
        CtxPicker,
        [
            (KeyCode::Tab, N),
            (KeyCode::BackTab, S),
            (KeyCode::BackTab, N),
            (KeyCode::Left, N),
            (KeyCode::Right, N)
        ],
        "Tab",
        SwitchField,
        "profiles / regions",
        true
    ),
    b!(
        CtxPicker,
        [(KeyCode::Enter, N)],
        "Enter",
        Submit,
        "read this set",
        true
    ),
    b!(CtxPicker, [(KeyCode::Esc, N)], "Esc", Back, "cancel", true),
];
