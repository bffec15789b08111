//! Embedded runbooks: a Markdown format with TOML front matter and one fenced
//! block per step (`../shared/runbook-format.md`, simplified), a library of
//! embedded and user runbooks, and a sans-IO runner (`engine`) that the
//! headless driver (`drive`) and the console both step.
//!
//! Nothing here talks to AWS or draws: actions are described as
//! [`crate::calls::PlannedCall`]s that a backend performs.

pub mod approvals;
pub mod commands;
pub mod cond;
pub mod drive;
pub mod engine;
pub mod events;
pub mod journal;
pub mod outbox;
pub mod parse;
pub mod report;
pub mod vars;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

pub use parse::{ParseError, parse};

/// One parsed runbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    pub meta: FrontMatter,
    /// Prose before the first step (hypothesis, context).
    pub intro: String,
    pub steps: Vec<Step>,
    /// Where it came from: `embedded:scale-out.runbook.md` or a path.
    pub origin: String,
}

impl Runbook {
    pub fn step_index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Operational,
    Incident,
    Gameday,
    Dr,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Operational => "operational",
            Kind::Incident => "incident",
            Kind::Gameday => "gameday",
            Kind::Dr => "dr",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontMatter {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub version: u32,
    pub kind: Kind,
    #[serde(default)]
    pub owner: String,
    /// In declaration order: the console prompts in this order.
    #[serde(default)]
    pub params: IndexMap<String, ParamSpec>,
    #[serde(default)]
    pub safety: Safety,
    #[serde(default)]
    pub stop_conditions: Vec<StopCondition>,
    #[serde(default)]
    pub stop_policy: StopPolicy,
    #[serde(default)]
    pub timeline: TimelineSpec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    String,
    Int,
    Duration,
    Bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    #[serde(rename = "type")]
    pub ty: ParamType,
    #[serde(default)]
    pub required: bool,
    /// May refer to earlier parameters: `"${param.cluster}-${param.service}"`.
    pub default: Option<toml::Value>,
    pub prompt: Option<String>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    /// Allowed values (strings).
    #[serde(default)]
    pub choices: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Safety {
    /// Informational: every run without `--write` is a dry run anyway.
    #[serde(default)]
    pub dry_run_default: bool,
    /// Typed once by the operator before the first mutating step.
    pub arm_phrase: Option<String>,
    /// Checkpoints with `approvers` need this many named approvals at least.
    #[serde(default)]
    pub requires_approvals: u32,
    /// The service's tag values allowed for this runbook, by tag key.
    #[serde(default)]
    pub allowed_env_tags: BTreeMap<String, Vec<String>>,
    /// `ecs.stop_tasks` never stops more than this share of running tasks per sweep.
    pub max_tasks_stopped_pct: Option<u32>,
    /// Review check ids that refuse the start while they fire on the service.
    #[serde(default)]
    pub blocking_findings: Vec<String>,
    /// `ecs.scale` / `autoscaling.set_capacity` refuse a new count above
    /// `factor × current` — except from 0, where there is nothing to scale by.
    pub max_scale_factor: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopCondition {
    /// Alarm name (may use `${param.…}`).
    pub alarm: String,
    /// Region of the alarm (default: the run's region, `${param.region}`).
    pub region: Option<String>,
    /// Account of the alarm (default: the run's account, `${param.account}`).
    #[serde(default)]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnTrigger {
    #[default]
    Abort,
    Pause,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopPolicy {
    #[serde(default = "default_poll")]
    pub poll: String,
    #[serde(default)]
    pub include_history: bool,
    #[serde(default)]
    pub on_trigger: OnTrigger,
    /// Step ids run, in order, when the run aborts.
    #[serde(default)]
    pub cleanup: Vec<String>,
}

fn default_poll() -> String {
    "15s".into()
}

impl Default for StopPolicy {
    fn default() -> Self {
        StopPolicy {
            poll: default_poll(),
            include_history: false,
            on_trigger: OnTrigger::Abort,
            cleanup: vec![],
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineSpec {
    pub rto_start: Option<String>,
    pub rto_end: Option<String>,
    /// A duration, possibly `${param.target}`.
    pub rto_target: Option<String>,
    pub ttd_marker: Option<String>,
    /// The region serving traffic at the end (DR), e.g.
    /// `${save.switched.service.region}`; where it cannot be filled in (the
    /// switch was not reached) or in a dry run, `serving_region_before`.
    /// A list: the first that can be filled in (e.g. the Route 53 answer
    /// read after the switch, else the one read before it).
    #[serde(default, deserialize_with = "one_or_many")]
    pub serving_region: Vec<String>,
    pub serving_region_before: Option<String>,
    /// DR: the data a failover lost, seconds (the replication lag at the
    /// promotion), e.g. `${save.db.lagSeconds}`; not filled in: not measured.
    pub rpo_seconds: Option<String>,
    /// Why the RPO is what it is or is missing, e.g. `${save.db.lagSource}`.
    pub rpo_note: Option<String>,
    /// A duration, possibly `${param.rpo_target}`.
    pub rpo_target: Option<String>,
}

/// A string, or a list of them.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// One `## Title {#id}` section.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    pub title: String,
    /// The prose under the heading, as Markdown source.
    pub body: String,
    /// 1-based line of the heading in the file.
    pub line: usize,
    pub block: Block,
}

impl Step {
    pub fn common(&self) -> &Common {
        static PROSE: Common = Common {
            when: None,
            on_failure: None,
            on_timeout: None,
            mark: None,
            detached: false,
            optional: false,
            next: None,
            timeout: None,
        };
        match &self.block {
            Block::Prose => &PROSE,
            Block::Action(a) => &a.common,
            Block::Verify(v) => &v.common,
            Block::Checkpoint(c) => &c.common,
        }
    }

    pub fn kind(&self) -> &'static str {
        match &self.block {
            Block::Prose => "prose",
            Block::Action(_) => "action",
            Block::Verify(_) => "verify",
            Block::Checkpoint(_) => "checkpoint",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// Read and acknowledge.
    Prose,
    Action(Box<Action>),
    Verify(Verify),
    Checkpoint(Checkpoint),
}

/// `abort` | `continue` | `goto:<step>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Flow {
    Abort,
    Continue,
    Goto(String),
}

impl Flow {
    pub fn parse(s: &str) -> Result<Flow, String> {
        match s {
            "abort" => Ok(Flow::Abort),
            "continue" => Ok(Flow::Continue),
            _ => match s.strip_prefix("goto:") {
                Some(id) if !id.is_empty() => Ok(Flow::Goto(id.to_string())),
                _ => Err(format!(
                    "{s:?}: expected \"abort\", \"continue\" or \"goto:<step id>\""
                )),
            },
        }
    }
}

impl<'de> Deserialize<'de> for Flow {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Flow::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A `when` guard: the step is skipped when false.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// `save.<name>.<path>` (the `save.` may be left out) or `param.<name>`.
    #[serde(rename = "ref")]
    pub reference: String,
    pub op: String,
    pub value: Option<toml::Value>,
}

/// The keys of [`Common`], split off each block before the rest is read.
pub const COMMON_KEYS: &[&str] = &[
    "when",
    "on_failure",
    "on_timeout",
    "mark",
    "detached",
    "optional",
    "next",
    "timeout",
];

/// Keys every block takes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Common {
    pub when: Option<When>,
    pub on_failure: Option<Flow>,
    pub on_timeout: Option<Flow>,
    /// Timeline marker set when the step succeeds.
    pub mark: Option<String>,
    /// Reached only by `goto`/`next`/cleanup.
    #[serde(default)]
    pub detached: bool,
    /// The operator may skip it.
    #[serde(default)]
    pub optional: bool,
    pub next: Option<String>,
    pub timeout: Option<String>,
}

/// An action's operation: one entry of the action registry
/// ([`crate::actions::REGISTRY`]), one file each in `src/actions/`.
pub use crate::actions::Op;

/// An action block: its op, the service it acts on, and the op's own fields
/// (checked by the op's action).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Action {
    pub op: Op,
    /// Filled by the parser from the common keys.
    #[serde(skip)]
    pub common: Common,
    /// Target service (default `${param.cluster}` / `${param.service}`).
    pub cluster: Option<String>,
    pub service: Option<String>,
    pub region: Option<String>,
    /// The service's account (default `${param.account}` when the runbook
    /// has that parameter): of twins in two accounts, the one acted on.
    pub account: Option<String>,
    pub save_as: Option<String>,
    /// A read-only action repeated every `interval` (default 10 s) until
    /// its answer holds this (`until = { select, op, value }`), within the
    /// step's `timeout` (default 10 m; then `on_timeout`).
    pub until: Option<Filter>,
    pub interval: Option<String>,
    /// Everything else: the op's own fields (`desired`, `az`, `select` …).
    #[serde(flatten)]
    pub fields: crate::actions::Fields,
}

/// One condition of a verify block.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub source: String,
    pub select: Option<String>,
    #[serde(default, rename = "where")]
    pub filters: Vec<Filter>,
    pub agg: Option<String>,
    pub op: String,
    pub value: Option<toml::Value>,
    pub value_from: Option<String>,
    /// Alarm name for `cloudwatch.alarm`.
    pub name: Option<String>,
    #[serde(default)]
    pub include_history: bool,
    pub cluster: Option<String>,
    pub service: Option<String>,
    pub region: Option<String>,
    /// The service's account (default `${param.account}` when the runbook
    /// has that parameter).
    pub account: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub select: String,
    pub op: String,
    pub value: Option<toml::Value>,
}

/// A verify block as written: either one condition inline or `[[all]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRaw {
    /// Filled by the parser from the common keys.
    #[serde(skip)]
    pub common: Common,
    pub hold: Option<String>,
    pub interval: Option<String>,
    #[serde(default)]
    pub all: Vec<Condition>,
    pub source: Option<String>,
    pub select: Option<String>,
    #[serde(default, rename = "where")]
    pub filters: Vec<Filter>,
    pub agg: Option<String>,
    pub op: Option<String>,
    pub value: Option<toml::Value>,
    pub value_from: Option<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub include_history: bool,
    pub cluster: Option<String>,
    pub service: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verify {
    pub common: Common,
    pub hold: Option<String>,
    pub interval: Option<String>,
    /// All must hold at once.
    pub all: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// Filled by the parser from the common keys.
    #[serde(skip)]
    pub common: Common,
    pub prompt: String,
    #[serde(default)]
    pub require_note: bool,
    /// Named approvals needed (0 = the operator alone).
    #[serde(default)]
    pub approvers: u32,
    /// `continue` | `abort` | `end` | `goto:<id>`; the first is the default.
    #[serde(default = "default_choices")]
    pub choices: Vec<String>,
    /// Two task definition refs to show the difference of.
    pub diff: Option<[String; 2]>,
}

fn default_choices() -> Vec<String> {
    vec!["continue".into(), "abort".into()]
}

// ---------------------------------------------------------------- library

/// The runbooks compiled into the binary (from `runbooks/`).
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "scale-out.runbook.md",
        include_str!("../../runbooks/scale-out.runbook.md"),
    ),
    (
        "rollback.runbook.md",
        include_str!("../../runbooks/rollback.runbook.md"),
    ),
    (
        "gameday-az-outage.runbook.md",
        include_str!("../../runbooks/gameday-az-outage.runbook.md"),
    ),
    (
        "gameday-task-crash.runbook.md",
        include_str!("../../runbooks/gameday-task-crash.runbook.md"),
    ),
    (
        "dr-region-failover.runbook.md",
        include_str!("../../runbooks/dr-region-failover.runbook.md"),
    ),
    (
        "dr-region-failback.runbook.md",
        include_str!("../../runbooks/dr-region-failback.runbook.md"),
    ),
];

/// A runbook that failed to load: shown by `runbook validate` and `list`.
#[derive(Debug, Clone)]
pub struct LoadProblem {
    pub origin: String,
    pub error: String,
}

/// Embedded runbooks, overridden by id by the user directories (later wins).
#[derive(Debug, Clone, Default)]
pub struct Library {
    pub runbooks: Vec<Runbook>,
    pub problems: Vec<LoadProblem>,
}

impl Library {
    pub fn load(user_dirs: &[PathBuf]) -> Library {
        let mut lib = Library::default();
        for (name, text) in EMBEDDED {
            match parse(text, &format!("embedded:{name}")) {
                Ok(rb) => lib.insert(rb),
                Err(e) => lib.problems.push(LoadProblem {
                    origin: format!("embedded:{name}"),
                    error: e.to_string(),
                }),
            }
        }
        for dir in user_dirs {
            for path in runbook_files(dir) {
                match load_file(&path) {
                    Ok(rb) => lib.insert(rb),
                    Err(e) => lib.problems.push(LoadProblem {
                        origin: path.display().to_string(),
                        error: e,
                    }),
                }
            }
        }
        lib
    }

    fn insert(&mut self, rb: Runbook) {
        match self.runbooks.iter_mut().find(|r| r.meta.id == rb.meta.id) {
            Some(slot) => *slot = rb,
            None => self.runbooks.push(rb),
        }
    }

    pub fn get(&self, id: &str) -> Option<&Runbook> {
        self.runbooks.iter().find(|r| r.meta.id == id)
    }
}

/// `*.runbook.md` files in `dir`, sorted (a missing dir is empty).
pub fn runbook_files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".runbook.md"))
        })
        .collect();
    out.sort();
    out
}

/// Read and parse one runbook file. Only a regular file under the size cap is
/// read (a link to `/dev/zero` or a FIFO is refused at once, never opened for
/// a blocking read); the error names the file.
pub fn load_file(path: &Path) -> Result<Runbook, String> {
    let text = crate::files::read_text(path).map_err(|e| e.to_string())?;
    parse(&text, &path.display().to_string()).map_err(|e| e.to_string())
}
