//! Running a `:` command of the table ([`crate::ui::commands::COMMANDS`]).

use super::*;

impl App {
    /// Run a `:` command (the table is [`crate::ui::commands::COMMANDS`]).
    pub fn run_command(&mut self, line: &str) -> Vec<Effect> {
        use crate::ui::commands::{self, Cmd};
        self.message = None;
        let (spec, arg) = match commands::parse(line) {
            Ok(Some(found)) => found,
            Ok(None) => return vec![],
            Err(other) => {
                self.message = Some((
                    format!("unknown command :{other} (try {})", commands::hint()),
                    true,
                ));
                return vec![];
            }
        };
        if let Some(cap) = spec.needs
            && self.refuse_without(&format!(":{}", spec.name()), cap)
        {
            return vec![];
        }
        match spec.cmd {
            Cmd::QuitNow => self.quit = true,
            Cmd::Quit => self.request_quit(),
            Cmd::Services => self.show_fleet(Pane::Services),
            Cmd::Alarms => self.show_fleet(Pane::Alarms),
            Cmd::Timeline => self.show_fleet(Pane::Timeline),
            Cmd::Findings => {
                self.view = View::Findings;
                self.focus = 0;
            }
            Cmd::Runbooks => {
                self.view = View::Runbooks;
                self.focus = 0;
                if matches!(self.runbooks.screen, crate::ui::runbooks::Screen::List) {
                    self.runbooks.scan_interrupted();
                }
            }
            Cmd::Logs => {
                let panes = self.view.panes();
                self.focus = panes.iter().position(|p| *p == Pane::Logs).unwrap_or(0);
            }
            Cmd::Ctx => self.open_ctx_picker(),
            Cmd::Help => self.help = true,
            Cmd::Theme => self.theme_command(arg),
            Cmd::Speed => match arg.and_then(|a| a.trim_end_matches('x').parse::<f64>().ok()) {
                Some(x) if x > 0.0 && x <= 1000.0 => {
                    self.message = Some((format!("speed ×{x}"), false));
                    return vec![Effect::Control(Control::SetSpeed(x))];
                }
                _ => self.message = Some(("usage: :speed X (0 < X ≤ 1000)".into(), true)),
            },
            Cmd::Pause => {
                self.paused = true;
                self.message = Some((
                    "paused: the source sends nothing until :resume".into(),
                    false,
                ));
                return vec![Effect::Control(Control::Pause(true))];
            }
            Cmd::Resume => {
                self.paused = false;
                return vec![Effect::Control(Control::Pause(false))];
            }
        }
        vec![]
    }

    pub(super) fn theme_command(&mut self, arg: Option<&str>) {
        match arg {
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
        }
    }
}
