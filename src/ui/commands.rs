//! The `:` commands: one table feeds the parser, the help overlay, the
//! hints on the bottom line and Tab completion, so they cannot disagree.

use crate::source::Capability;

/// What a command does (the app runs it, see `App::run_command`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Services,
    Alarms,
    Timeline,
    Logs,
    Findings,
    Runbooks,
    Ctx,
    Theme,
    Speed,
    Pause,
    Resume,
    Help,
    Quit,
    QuitNow,
}

#[derive(Debug)]
pub struct CommandSpec {
    pub cmd: Cmd,
    /// The name first, then its aliases.
    pub names: &'static [&'static str],
    /// The argument's placeholder ("NAME"), or "" for none.
    pub arg: &'static str,
    pub help: &'static str,
    /// The source capability the command needs (refused without it).
    pub needs: Option<Capability>,
    /// Listed in the short hint (the bottom line), not only in help.
    pub hint: bool,
}

impl CommandSpec {
    pub fn name(&self) -> &'static str {
        self.names[0]
    }

    /// `:theme NAME`, as help and hints show it.
    pub fn usage(&self) -> String {
        if self.arg.is_empty() {
            format!(":{}", self.name())
        } else {
            format!(":{} {}", self.name(), self.arg)
        }
    }
}

macro_rules! c {
    ($cmd:ident, [$($n:expr),+], $arg:expr, $help:expr, $needs:expr, $hint:expr) => {
        CommandSpec {
            cmd: Cmd::$cmd,
            names: &[$($n),+],
            arg: $arg,
            help: $help,
            needs: $needs,
            hint: $hint,
        }
    };
}

pub const COMMANDS: &[CommandSpec] = &[
    c!(
        Services,
        ["svc", "services", "s"],
        "",
        "services (fleet view)",
        None,
        true
    ),
    c!(
        Alarms,
        ["alarms", "alarm", "a"],
        "",
        "alarms pane",
        None,
        true
    ),
    c!(
        Timeline,
        ["timeline", "tl", "t"],
        "",
        "fleet timeline",
        None,
        true
    ),
    c!(Logs, ["logs", "log", "l"], "", "logs pane", None, true),
    c!(
        Findings,
        ["findings", "review", "f"],
        "",
        "review findings by pillar and severity",
        None,
        true
    ),
    c!(
        Runbooks,
        ["runbooks", "runbook", "rb"],
        "",
        "runbooks: pick one, fill its parameters, run it step by step",
        None,
        true
    ),
    c!(
        Ctx,
        ["ctx", "context"],
        "",
        "AWS profiles × regions read: pick any set, read at once (AWS)",
        Some(Capability::Contexts),
        true
    ),
    c!(
        Theme,
        ["theme"],
        "NAME",
        "dark, light, high-contrast, or a theme file",
        None,
        true
    ),
    c!(
        Speed,
        ["speed"],
        "X",
        "simulation speed (demo)",
        Some(Capability::Speed),
        false
    ),
    c!(
        Pause,
        ["pause"],
        "",
        "stop the simulated clock (demo)",
        Some(Capability::Pause),
        false
    ),
    c!(
        Resume,
        ["resume"],
        "",
        "restart the simulated clock (demo)",
        Some(Capability::Pause),
        false
    ),
    c!(Help, ["help", "h"], "", "this help", None, false),
    c!(
        Quit,
        ["q", "quit"],
        "",
        "quit (while a runbook runs: asks again)",
        None,
        true
    ),
    c!(
        QuitNow,
        ["q!", "qa"],
        "",
        "quit at once (the journal keeps a run)",
        None,
        false
    ),
];

/// The command of a line and its first argument; `Err` names an unknown
/// command; `Ok(None)` for an empty line.
pub fn parse(line: &str) -> Result<Option<(&'static CommandSpec, Option<&str>)>, String> {
    let mut words = line.split_whitespace();
    let Some(word) = words.next() else {
        return Ok(None);
    };
    match COMMANDS.iter().find(|c| c.names.contains(&word)) {
        Some(spec) => Ok(Some((spec, words.next()))),
        None => Err(word.to_string()),
    }
}

/// `:svc :alarms … :q`: the commands of the short hint, with arguments.
pub fn hint() -> String {
    COMMANDS
        .iter()
        .filter(|c| c.hint)
        .map(CommandSpec::usage)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The names that complete `prefix` (one per command: its name, or the
/// first alias that matches), in table order.
pub fn candidates(prefix: &str) -> Vec<&'static str> {
    COMMANDS
        .iter()
        .filter_map(|c| c.names.iter().find(|n| n.starts_with(prefix)).copied())
        .collect()
}

/// Tab on the command line: the command word completed as far as it is
/// unambiguous (a lone match gets a space when it takes an argument).
/// `None` when nothing completes (an argument is being typed, or no match).
pub fn complete(text: &str) -> Option<String> {
    if text.contains(char::is_whitespace) {
        return None;
    }
    let found = candidates(text);
    match found.as_slice() {
        [] => None,
        [one] => {
            let spec = COMMANDS.iter().find(|c| c.names.contains(one))?;
            Some(if spec.arg.is_empty() {
                one.to_string()
            } else {
                format!("{one} ")
            })
        }
        many => {
            let first = many[0];
            let common = (text.len()..=first.len())
                .rev()
                .find(|&n| many.iter().all(|m| m.get(..n) == first.get(..n)))
                .unwrap_or(text.len());
            (common > text.len()).then(|| first[..common].to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_to_its_command() {
        for c in COMMANDS {
            for n in c.names {
                let (spec, arg) = parse(n).unwrap().unwrap();
                assert_eq!(spec.cmd, c.cmd, ":{n}");
                assert_eq!(arg, None);
            }
        }
        let (spec, arg) = parse("theme light").unwrap().unwrap();
        assert_eq!((spec.cmd, arg), (Cmd::Theme, Some("light")));
        assert_eq!(parse("nonsense x").unwrap_err(), "nonsense");
        assert!(parse("  ").unwrap().is_none());
    }

    #[test]
    fn no_name_is_used_twice() {
        let mut seen = std::collections::HashSet::new();
        for n in COMMANDS.iter().flat_map(|c| c.names) {
            assert!(seen.insert(n), ":{n} twice");
        }
    }

    #[test]
    fn the_hint_lists_the_hinted_commands() {
        assert_eq!(
            hint(),
            ":svc :alarms :timeline :logs :findings :runbooks :ctx :theme NAME :q"
        );
    }

    #[test]
    fn tab_completes_the_command_word() {
        assert_eq!(complete("runb").as_deref(), Some("runbooks"));
        assert_eq!(complete("the").as_deref(), Some("theme "));
        assert_eq!(complete("pa").as_deref(), Some("pause"));
        assert_eq!(candidates("r"), ["review", "runbooks", "resume"]);
        assert_eq!(complete("r"), None, "nothing common past r");
        assert_eq!(complete("zz"), None);
        assert_eq!(complete("theme li"), None, "arguments are not completed");
        assert_eq!(complete("q").as_deref(), None, "q, quit, q! … are all q");
    }
}
