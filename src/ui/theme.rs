//! Themes: TOML files (`themes/*.toml` embedded; user themes in
//! `<config dir>/themes/NAME.toml`). `NO_COLOR` turns every colour off and
//! leaves emphasis to bold/reverse.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// Built-in themes, embedded at build time.
pub const BUILTIN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub fg: Color,
    pub bg: Color,
    pub dim: Color,
    pub accent: Color,
    pub border: Color,
    pub border_focused: Color,
    pub title: Color,
    pub header: Color,
    pub selected_fg: Color,
    pub selected_bg: Color,
    pub ok: Color,
    pub warn: Color,
    pub bad: Color,
    pub info: Color,
    pub spark: Color,
    /// True when colours are off (`NO_COLOR`): styles use modifiers only.
    pub mono: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    #[error("unknown theme {0:?} (built-in: dark, light, high-contrast; or a file in {1})")]
    Unknown(String, String),
    /// Not readable, not a regular file, over the size cap, not UTF-8.
    #[error(transparent)]
    Read(#[from] crate::files::ReadError),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: Option<String>,
    colors: BTreeMap<String, toml::Spanned<String>>,
}

const KEYS: &[&str] = &[
    "fg",
    "bg",
    "dim",
    "accent",
    "border",
    "border_focused",
    "title",
    "header",
    "selected_fg",
    "selected_bg",
    "ok",
    "warn",
    "bad",
    "info",
    "spark",
];

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Theme {
    /// Parse a theme file's text. `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Theme, ThemeError> {
        let tf: ThemeFile = toml::from_str(text).map_err(|e| ThemeError::Invalid {
            file: file.to_string(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().to_string(),
        })?;
        let mut colors = BTreeMap::new();
        for (k, v) in &tf.colors {
            let line = line_of(text, v.span().start);
            if !KEYS.contains(&k.as_str()) {
                return Err(ThemeError::Invalid {
                    file: file.into(),
                    line,
                    message: format!("colors.{k}: unknown key (known: {})", KEYS.join(", ")),
                });
            }
            let c = Color::from_str(v.get_ref().trim()).map_err(|_| ThemeError::Invalid {
                file: file.into(),
                line,
                message: format!(
                    "colors.{k}: {:?} is not a colour (a name, #rrggbb, an index or reset)",
                    v.get_ref()
                ),
            })?;
            colors.insert(k.clone(), c);
        }
        let get = |k: &str| -> Result<Color, ThemeError> {
            colors.get(k).copied().ok_or_else(|| ThemeError::Invalid {
                file: file.into(),
                line: 1,
                message: format!("colors.{k}: missing"),
            })
        };
        Ok(Theme {
            name: tf.name.unwrap_or_else(|| file.to_string()),
            fg: get("fg")?,
            bg: get("bg")?,
            dim: get("dim")?,
            accent: get("accent")?,
            border: get("border")?,
            border_focused: get("border_focused")?,
            title: get("title")?,
            header: get("header")?,
            selected_fg: get("selected_fg")?,
            selected_bg: get("selected_bg")?,
            ok: get("ok")?,
            warn: get("warn")?,
            bad: get("bad")?,
            info: get("info")?,
            spark: get("spark")?,
            mono: false,
        })
    }

    /// A built-in theme, or `<themes_dir>/NAME.toml`.
    pub fn load(name: &str, themes_dir: Option<&Path>) -> Result<Theme, ThemeError> {
        if let Some((n, text)) = BUILTIN.iter().find(|(n, _)| *n == name) {
            return Theme::parse(text, &format!("themes/{n}.toml"));
        }
        let path = if name.ends_with(".toml") {
            Some(Path::new(name).to_path_buf())
        } else {
            themes_dir.map(|d| d.join(format!("{name}.toml")))
        };
        let unknown = || {
            ThemeError::Unknown(
                name.to_string(),
                themes_dir.map_or_else(|| "the config dir".into(), |d| d.display().to_string()),
            )
        };
        let Some(p) = path else {
            return Err(unknown());
        };
        // A regular file of at most 4 MiB: a FIFO or a device is refused, not read.
        match crate::files::read_text(&p) {
            Ok(text) => Theme::parse(&text, &p.display().to_string()),
            Err(e) if e.is_not_found() => Err(unknown()),
            Err(e) => Err(ThemeError::Read(e)),
        }
    }

    pub fn default_dark() -> Theme {
        // The embedded dark theme is tested to parse.
        Theme::parse(BUILTIN[0].1, "themes/dark.toml").unwrap_or_else(|_| Theme::monochrome())
    }

    /// No colours at all: what `NO_COLOR` asks for.
    pub fn monochrome() -> Theme {
        Theme {
            name: "no-color".into(),
            fg: Color::Reset,
            bg: Color::Reset,
            dim: Color::Reset,
            accent: Color::Reset,
            border: Color::Reset,
            border_focused: Color::Reset,
            title: Color::Reset,
            header: Color::Reset,
            selected_fg: Color::Reset,
            selected_bg: Color::Reset,
            ok: Color::Reset,
            warn: Color::Reset,
            bad: Color::Reset,
            info: Color::Reset,
            spark: Color::Reset,
            mono: true,
        }
    }

    /// Apply `NO_COLOR` (any non-empty value, per no-color.org).
    pub fn honour_no_color(self, no_color: Option<&str>) -> Theme {
        match no_color {
            Some(v) if !v.is_empty() => Theme::monochrome(),
            _ => self,
        }
    }

    pub fn base(&self) -> Style {
        Style::default().fg(self.fg).bg(self.bg)
    }
    pub fn dim(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default().fg(self.dim)
        }
    }
    pub fn ok(&self) -> Style {
        Style::default().fg(self.ok)
    }
    pub fn warn(&self) -> Style {
        let s = Style::default().fg(self.warn);
        if self.mono {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }
    pub fn bad(&self) -> Style {
        Style::default().fg(self.bad).add_modifier(Modifier::BOLD)
    }
    pub fn info(&self) -> Style {
        Style::default().fg(self.info)
    }
    pub fn accent(&self) -> Style {
        Style::default().fg(self.accent)
    }
    pub fn header(&self) -> Style {
        Style::default()
            .fg(self.header)
            .add_modifier(Modifier::BOLD)
    }
    pub fn title(&self) -> Style {
        Style::default().fg(self.title).add_modifier(Modifier::BOLD)
    }
    pub fn border(&self, focused: bool) -> Style {
        if focused {
            Style::default()
                .fg(self.border_focused)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().fg(self.border)
        }
    }
    pub fn selected(&self) -> Style {
        if self.mono {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
                .fg(self.selected_fg)
                .bg(self.selected_bg)
                .add_modifier(Modifier::BOLD)
        }
    }
    pub fn spark(&self) -> Style {
        Style::default().fg(self.spark)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        for (name, text) in BUILTIN {
            let t = Theme::parse(text, name).unwrap();
            assert_eq!(&t.name, name);
        }
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let bad = "name = \"x\"\n[colors]\nfg = \"#c8ccd4\"\nbg = \"chartreuse-ish\"\n";
        let e = Theme::parse(bad, "mine.toml").unwrap_err().to_string();
        assert!(e.starts_with("mine.toml:4: colors.bg"), "{e}");
        let e = Theme::parse("name = \n", "broken.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("broken.toml:1:"), "{e}");
        let missing = "[colors]\nfg = \"red\"\n";
        let e = Theme::parse(missing, "m.toml").unwrap_err().to_string();
        assert!(e.contains("colors.bg: missing"), "{e}");
        let e = Theme::load("nope", None).unwrap_err().to_string();
        assert!(e.contains("unknown theme"), "{e}");
    }

    #[test]
    fn fifos_and_devices_are_refused_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("piped.toml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // By name in the themes dir, and by path.
        for name in ["piped", fifo.to_str().unwrap()] {
            let e = Theme::load(name, Some(dir.path())).unwrap_err().to_string();
            assert!(
                e.ends_with("piped.toml: not a regular file (a FIFO); refusing to read it"),
                "{e}"
            );
        }
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.toml")).unwrap();
        let e = Theme::load("zero", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("a character device"), "{e}");
        let e = Theme::load("absent", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("unknown theme \"absent\""), "{e}");
        std::fs::write(dir.path().join("mine.toml"), BUILTIN[1].1).unwrap();
        assert!(Theme::load("mine", Some(dir.path())).is_ok());
    }

    #[test]
    fn no_color() {
        let t = Theme::default_dark().honour_no_color(Some("1"));
        assert!(t.mono);
        let t = Theme::default_dark().honour_no_color(Some(""));
        assert!(!t.mono);
    }
}
