//! The config file (TOML) under the platform config dir, or `--config FILE`.
//!
//! ```toml
//! theme = "dark"          # dark | light | high-contrast | a file in <config dir>/themes
//! [demo]
//! scenario = "steady"     # default scenario for --demo
//! speed = 1.0             # simulated seconds per real second
//! seed = 42
//! [review]
//! environment_tag = "Environment"   # decides prod vs non-prod checks
//! prod_values = ["prod", "production"]
//! required_tags = ["Owner", "Environment", "CostCenter", "Application"]
//! suppressions = "/path/to/suppressions.toml"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub theme: Option<String>,
    #[serde(default)]
    pub demo: DemoConfig,
    #[serde(default)]
    pub review: ReviewSection,
    /// The file this was read from (None: defaults, no file).
    #[serde(skip)]
    pub file: Option<String>,
    /// The line of each key the file sets (`theme`, `demo.scenario`, …).
    #[serde(skip)]
    lines: BTreeMap<String, usize>,
}

/// `[review]`: what the checks treat as prod, which tags are required, and
/// where accepted findings (suppressions) are listed.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReviewSection {
    pub environment_tag: Option<String>,
    pub prod_values: Option<Vec<String>>,
    pub required_tags: Option<Vec<String>>,
    pub min_log_retention_days: Option<i32>,
    /// The environment of a service with no environment tag (unset: its
    /// prod-only and non-prod-only checks are listed as not evaluated).
    pub default_environment: Option<String>,
    /// Suppressions file (default: suppressions.toml in the config dir).
    pub suppressions: Option<std::path::PathBuf>,
}

impl ReviewSection {
    pub fn to_review_config(&self) -> crate::review::ReviewConfig {
        let d = crate::review::ReviewConfig::default();
        crate::review::ReviewConfig {
            environment_tag: self.environment_tag.clone().unwrap_or(d.environment_tag),
            prod_values: self.prod_values.clone().unwrap_or(d.prod_values),
            required_tags: self.required_tags.clone().unwrap_or(d.required_tags),
            min_log_retention_days: self
                .min_log_retention_days
                .unwrap_or(d.min_log_retention_days),
            default_environment: self
                .default_environment
                .clone()
                .filter(|e| !e.trim().is_empty()),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DemoConfig {
    pub scenario: Option<String>,
    pub speed: Option<f64>,
    pub seed: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    /// Not readable, not a regular file, over the size cap, not UTF-8.
    #[error(transparent)]
    Read(#[from] crate::files::ReadError),
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line of every key and of every key of a table, as `a` and `a.b`.
fn key_lines(text: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let Ok(root) = toml::de::DeTable::parse(text) else {
        return out;
    };
    for (k, v) in root.get_ref() {
        out.insert(k.get_ref().to_string(), line_of(text, k.span().start));
        if let toml::de::DeValue::Table(t) = v.get_ref() {
            for (k2, _) in t {
                out.insert(
                    format!("{}.{}", k.get_ref(), k2.get_ref()),
                    line_of(text, k2.span().start),
                );
            }
        }
    }
    out
}

impl Config {
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            file: file.to_string(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().trim().to_string(),
        })?;
        cfg.file = Some(file.to_string());
        cfg.lines = key_lines(text);
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            file: file.into(),
            line: cfg.lines.get(key).copied().unwrap_or(1),
            message: format!("{key}: {message}"),
        };
        if let Some(s) = cfg.demo.speed
            && !(s > 0.0 && s <= 1000.0)
        {
            return Err(invalid(
                "demo.speed",
                format!("{s} is out of range (0 < speed ≤ 1000)"),
            ));
        }
        if let Some(d) = cfg.review.min_log_retention_days
            && !(1..=3653).contains(&d)
        {
            return Err(invalid(
                "review.min_log_retention_days",
                format!(
                    "{d} is out of range (1 ≤ days ≤ 3653, CloudWatch Logs' longest retention)"
                ),
            ));
        }
        for (key, v) in [("theme", &cfg.theme), ("demo.scenario", &cfg.demo.scenario)] {
            if v.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(invalid(key, "empty".into()));
            }
        }
        Ok(cfg)
    }

    /// `file:line` of `key` (`demo.scenario`, `review.suppressions`) when
    /// the config file sets it, for errors about its value.
    pub fn blame(&self, key: &str) -> Option<String> {
        let file = self.file.as_ref()?;
        let line = self.lines.get(key)?;
        Some(format!("{file}:{line}"))
    }

    /// Load `explicit` (must exist) or `default_path` (may be absent).
    pub fn load(
        explicit: Option<&Path>,
        default_path: Option<PathBuf>,
    ) -> Result<Config, ConfigError> {
        let (path, must_exist) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => match default_path {
                Some(p) => (p, false),
                None => return Ok(Config::default()),
            },
        };
        // A regular file of at most 4 MiB: `--config /dev/zero` or a FIFO is refused.
        match crate::files::read_text(&path) {
            Ok(text) => Config::parse(&text, &path.display().to_string()),
            Err(e) if e.is_not_found() && !must_exist => Ok(Config::default()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid() {
        let c = Config::parse(
            "theme = \"light\"\n[demo]\nscenario = \"az-outage\"\nspeed = 10\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert_eq!(c.demo.speed, Some(10.0));
        let cases = [
            ("theme = 3\n", "c.toml:1:"),
            ("\n\n[demo]\nsped = 2\n", "c.toml:4:"),
            ("[demo]\nspeed = -1\n", "c.toml:2: demo.speed"),
            ("theme = \"x\"\n[demo\n", "c.toml:2:"),
        ];
        for (text, want) in cases {
            let e = Config::parse(text, "c.toml").unwrap_err().to_string();
            assert!(e.starts_with(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn review_section() {
        let c = Config::parse(
            "[review]\nenvironment_tag = \"Stage\"\nprod_values = [\"live\"]\n",
            "c.toml",
        )
        .unwrap();
        let r = c.review.to_review_config();
        assert_eq!(r.environment_tag, "Stage");
        assert_eq!(r.prod_values, ["live"]);
        assert_eq!(r.required_tags.len(), 4, "defaults where unset");
        assert!(Config::parse("[review]\nenvironment = 1\n", "c.toml").is_err());
    }

    #[test]
    fn errors_and_blame_name_the_line_of_the_key() {
        let text = "theme = \"dark\"\n\n[review]\nenvironment_tag = \"Stage\"\n\n[demo]\nseed = 1\nscenario = \"nope\"\nspeed = 0\n";
        let e = Config::parse(text, "c.toml").unwrap_err().to_string();
        assert!(
            e.starts_with("c.toml:9: demo.speed: 0 is out of range"),
            "{e}"
        );
        // `speed` inside another key's value does not fool the line finder.
        let text = "[review]\nrequired_tags = [\"speed\"]\n[demo]\nspeed = 5000\n";
        let e = Config::parse(text, "c.toml").unwrap_err().to_string();
        assert!(e.starts_with("c.toml:4: demo.speed"), "{e}");
        let e = Config::parse("[review]\nmin_log_retention_days = -3\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("c.toml:2: review.min_log_retention_days: -3"),
            "{e}"
        );
        let e = Config::parse("[demo]\n\nscenario = \" \"\n", "c.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("c.toml:3: demo.scenario: empty"), "{e}");
        let c = Config::parse(
            "theme = \"dark\"\n[demo]\nseed = 1\nscenario = \"nope\"\n[review]\nsuppressions = \"s.toml\"\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(c.blame("demo.scenario").as_deref(), Some("c.toml:4"));
        assert_eq!(c.blame("review.suppressions").as_deref(), Some("c.toml:6"));
        assert_eq!(c.blame("theme").as_deref(), Some("c.toml:1"));
        assert_eq!(c.blame("demo.speed"), None, "not set in the file");
        assert_eq!(Config::default().blame("theme"), None);
    }

    #[test]
    fn devices_fifos_and_huge_files_are_refused() {
        let e = Config::load(Some(Path::new("/dev/zero")), None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "/dev/zero: not a regular file (a character device); refusing to read it"
        );
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config.toml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // The default path too: present but not a regular file is an error, not "absent".
        for (explicit, default) in [(Some(fifo.as_path()), None), (None, Some(fifo.clone()))] {
            let e = Config::load(explicit, default).unwrap_err().to_string();
            assert!(e.ends_with("(a FIFO); refusing to read it"), "{e}");
        }
        let big = dir.path().join("big.toml");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(crate::files::MAX_FILE_BYTES + 1).unwrap();
        let e = Config::load(Some(&big), None).unwrap_err().to_string();
        assert!(e.contains("over the 4194304-byte limit"), "{e}");
    }

    #[test]
    fn missing_default_is_fine_missing_explicit_is_not() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Config::load(None, Some(dir.path().join("none.toml"))).unwrap(),
            Config::default()
        );
        assert!(Config::load(Some(&dir.path().join("none.toml")), None).is_err());
    }
}
