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
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

impl Config {
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            file: file.to_string(),
            line: e.span().map_or(1, |s| {
                text[..s.start.min(text.len())].matches('\n').count() + 1
            }),
            message: e.message().trim().to_string(),
        })?;
        if let Some(s) = cfg.demo.speed
            && !(s > 0.0 && s <= 1000.0)
        {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("speed"))
                .map_or(1, |i| i + 1);
            return Err(ConfigError::Invalid {
                file: file.into(),
                line,
                message: format!("demo.speed: {s} is out of range (0 < speed ≤ 1000)"),
            });
        }
        Ok(cfg)
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
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                Ok(Config::default())
            }
            Err(e) => Err(ConfigError::Io {
                file: path.display().to_string(),
                source: e,
            }),
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
    fn missing_default_is_fine_missing_explicit_is_not() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Config::load(None, Some(dir.path().join("none.toml"))).unwrap(),
            Config::default()
        );
        assert!(Config::load(Some(&dir.path().join("none.toml")), None).is_err());
    }
}
