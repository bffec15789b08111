//! Command-line definitions. Global options are accepted before or after a
//! subcommand (`global = true`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "ecsdeck",
    version,
    about = "A terminal operations console for AWS ECS",
    long_about = "A terminal operations console for AWS ECS: live service health per AZ, \
                  alarms, scaling, metrics and logs. --demo opens the built-in simulator; \
                  without AWS credentials only the console opens it by itself (and says so); \
                  one-shot commands exit 2."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args, Default)]
pub struct GlobalOpts {
    /// Use the built-in ECS simulator instead of AWS.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Simulator scenario: a built-in name (steady, az-outage, bad-deploy, scale-out,
    /// seed-review, dr-pilot-light) or a path to a scenario TOML file.
    #[arg(long, global = true, value_name = "NAME|FILE")]
    pub scenario: Option<String>,
    /// Simulator RNG seed (default: the scenario's).
    #[arg(long, global = true, value_name = "N")]
    pub seed: Option<u64>,
    /// Simulated seconds per real second in the console (demo only).
    #[arg(long, global = true, value_name = "X")]
    pub speed: Option<f64>,
    /// AWS profile (shared config/credentials); repeatable to watch several
    /// accounts at once.
    #[arg(long, global = true, env = "AWS_PROFILE")]
    pub profile: Vec<String>,
    /// AWS region; repeatable to watch several regions at once.
    #[arg(long, global = true)]
    pub region: Vec<String>,
    /// Custom AWS endpoint (e.g. a local emulator).
    #[arg(long, global = true, env = "AWS_ENDPOINT_URL", value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Only these clusters (repeatable; default: all clusters of the region).
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Vec<String>,
    /// Allow mutating actions (each still asks for confirmation).
    #[arg(long, global = true)]
    pub write: bool,
    /// Theme: dark, light, high-contrast, or a theme file in the config dir.
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// Config file (default: config.toml in the platform config dir).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory for notes, journals and state (default: the platform data dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// One-shot commands (status, review): give up on AWS after this long
    /// in all (default 30s); what has not answered by then is reported as
    /// failed, with the time it was given.
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
    /// Extra runbook directory (`*.runbook.md`), after `<data dir>/runbooks`; a
    /// runbook with the id of an embedded one replaces it.
    #[arg(long, global = true, value_name = "DIR")]
    pub runbooks: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a one-shot fleet summary and exit 0 (all steady), 1 (any degraded or failed) or 2 (error).
    Status(StatusArgs),
    /// Review the fleet against the Well-Architected checks; exit 0 when nothing
    /// is at or above --fail-on, 1 otherwise, 2 on error.
    Review(ReviewArgs),
    /// Open the console (the default when no subcommand is given).
    Tui,
    /// List the built-in simulator scenarios.
    Scenarios,
    /// Embedded runbooks: list, show, validate, run headless, report.
    #[command(subcommand)]
    Runbook(RunbookCommand),
}

#[derive(Debug, Subcommand)]
pub enum RunbookCommand {
    /// List the embedded and user runbooks.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print a runbook: parameters, safety, steps.
    Show { id: String },
    /// Validate runbook files (default: every embedded and user runbook); exit 1 on any error.
    Validate { files: Vec<PathBuf> },
    /// Run a runbook headless (for rehearsals and CI). On the demo the clock is virtual.
    /// Exit 0 when completed, 1 when aborted or failed, 2 on error.
    Run(RunArgs),
    /// Re-render the Markdown drill report of a run from its journal.
    Report { run_id: String },
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Runbook id (see `ecsdeck runbook list`).
    pub id: String,
    /// A parameter, `name=value` (repeatable).
    #[arg(long = "param", value_name = "K=V", value_parser = parse_kv)]
    pub params: Vec<(String, String)>,
    /// TOML answers: `arm_phrase`, and `[steps.<id>] choice, note, approved_by, confirm`.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Take every checkpoint's first choice, type the arm phrase and confirm every
    /// step; the journal records these as auto-approved.
    #[arg(long)]
    pub yes: bool,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Continue an interrupted run from its journal.
    #[arg(long, value_name = "RUN_ID")]
    pub resume: Option<String>,
    /// Demo only: run the simulator to this simulated time before the run starts.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub at: Option<std::time::Duration>,
    /// Operator name for the journal (default: $USER).
    #[arg(long, value_name = "NAME")]
    pub operator: Option<String>,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("{s:?}: expected name=value")),
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Judge health on what could be read: without it, a fleet that looks
    /// healthy while alarms or target health could not be read exits 2.
    #[arg(long)]
    pub allow_missing_data: bool,
    /// Demo only: run the simulator to this simulated time first (e.g. 4m, 90s, 1h).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub at: Option<std::time::Duration>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ReviewFormat {
    #[default]
    Md,
    Json,
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    High,
    Medium,
    Low,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[arg(long, value_enum, default_value_t = ReviewFormat::Md)]
    pub format: ReviewFormat,
    /// Exit 1 when a finding at or above this severity exists, or a check at
    /// or above it could not be evaluated because its data could not be read.
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
    /// Write the report here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Demo only: run the simulator to this simulated time first.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub at: Option<std::time::Duration>,
    /// Suppressions file (default: [review].suppressions, or suppressions.toml in the config dir).
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// Pass the gate although checks at or above --fail-on could not be
    /// evaluated because their data could not be read (they stay listed).
    #[arg(long)]
    pub allow_missing_data: bool,
}

/// `--timeout`: a duration from 1 s to 1 h.
pub fn parse_timeout(s: &str) -> Result<std::time::Duration, String> {
    let d = parse_duration(s)?;
    if d < std::time::Duration::from_secs(1) || d > std::time::Duration::from_secs(3600) {
        return Err(format!("--timeout {s}: must be from 1s to 1h"));
    }
    Ok(d)
}

/// The longest `--at`: the simulator runs every simulated second up to it.
pub const MAX_AT: std::time::Duration =
    std::time::Duration::from_millis(crate::source::sim::scenario::MAX_SIM_MS as u64);

/// `--at DURATION` (status, review, runbook run): at most [`MAX_AT`] (31 days).
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("invalid duration {s:?}: {e} (try 90s, 4m, 1h30m)"))?;
    if d > MAX_AT {
        return Err(format!(
            "{s:?} is more than the simulator runs to: at most 31 days (744h)"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn globals_after_subcommand() {
        let cli = Cli::try_parse_from([
            "ecsdeck",
            "status",
            "--demo",
            "--scenario",
            "az-outage",
            "--at",
            "4m",
            "--format",
            "json",
        ])
        .unwrap();
        assert!(cli.global.demo);
        assert_eq!(cli.global.scenario.as_deref(), Some("az-outage"));
        let Some(Command::Status(s)) = cli.command else {
            panic!("not status")
        };
        assert_eq!(s.at, Some(std::time::Duration::from_secs(240)));
        assert_eq!(s.format, Format::Json);
    }

    #[test]
    fn at_is_capped_at_31_days() {
        assert_eq!(parse_duration("31d"), Ok(MAX_AT));
        assert_eq!(parse_duration("744h"), Ok(MAX_AT));
        for too_long in ["744h 1s", "32d", "999999h", "99999999999999999y"] {
            let e = parse_duration(too_long).unwrap_err();
            assert!(
                e.contains("at most 31 days") || e.starts_with("invalid duration"),
                "{too_long}: {e}"
            );
        }
        assert!(
            parse_duration("999999h")
                .unwrap_err()
                .contains("at most 31 days (744h)")
        );
        for sub in ["status", "review"] {
            let e = Cli::try_parse_from(["ecsdeck", sub, "--at", "999999h"]).unwrap_err();
            assert!(e.to_string().contains("at most 31 days"), "{e}");
        }
        let e = Cli::try_parse_from(["ecsdeck", "runbook", "run", "scale-out", "--at", "32d"])
            .unwrap_err();
        assert!(e.to_string().contains("at most 31 days"), "{e}");
    }
}
