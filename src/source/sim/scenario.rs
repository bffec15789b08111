//! Scenario files: a fleet, a load curve and timed events, in TOML.
//! Built-ins are embedded from `assets/scenarios/`. Errors name the file,
//! the line and the field; nothing here panics on bad input.

use std::path::Path;

use toml::Spanned;

use crate::model::ServiceId;

/// Built-in scenarios, embedded at build time.
const BUILTIN: &[(&str, &str)] = &[
    (
        "region-outage",
        include_str!("../../../assets/scenarios/region-outage.toml"),
    ),
    (
        "steady",
        include_str!("../../../assets/scenarios/steady.toml"),
    ),
    (
        "az-outage",
        include_str!("../../../assets/scenarios/az-outage.toml"),
    ),
    (
        "bad-deploy",
        include_str!("../../../assets/scenarios/bad-deploy.toml"),
    ),
    (
        "scale-out",
        include_str!("../../../assets/scenarios/scale-out.toml"),
    ),
    (
        "seed-review",
        include_str!("../../../assets/scenarios/seed-review.toml"),
    ),
    (
        "dr-pilot-light",
        include_str!("../../../assets/scenarios/dr-pilot-light.toml"),
    ),
    (
        "twins",
        include_str!("../../../assets/scenarios/twins.toml"),
    ),
];

mod spec;
mod validate;
pub use spec::*;
pub use validate::{MAX_FLEET_TASKS, MAX_TASKS_PER_SERVICE};

/// `file:line: field: message`; without a line (the file can't be read) `file: message`;
/// without a file (no such built-in) `field: message`.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{}", self.shown())]
pub struct ScenarioError {
    pub file: String,
    /// 0: the error is not about a line (the file can't be read, no such built-in).
    pub line: usize,
    pub field: String,
    pub message: String,
}

impl ScenarioError {
    fn shown(&self) -> String {
        match (self.line, self.file.is_empty()) {
            (0, true) => format!("{}: {}", self.field, self.message),
            (0, false) => format!("{}: {}", self.file, self.message),
            _ => format!(
                "{}:{}: {}: {}",
                self.file, self.line, self.field, self.message
            ),
        }
    }
}

/// The longest simulated time a scenario's durations and `--at` may name
/// (31 days: `status --at` runs every second of it).
pub const MAX_SIM_MS: i64 = 31 * 86_400_000;

/// A duration of at most [`MAX_SIM_MS`], in ms.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("{s:?} is not a duration ({e}; try 90s, 4m, 1h)"))?;
    match i64::try_from(d.as_millis()) {
        Ok(ms) if ms <= MAX_SIM_MS => Ok(ms),
        _ => Err(format!(
            "{s:?} is longer than the simulator runs (at most 31 days)"
        )),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Scenario {
    /// (account, region) of a cluster.
    pub fn place_of(&self, c: &ClusterSpec) -> (String, String) {
        (
            c.account
                .clone()
                .unwrap_or_else(|| self.scenario.account.clone()),
            c.region
                .clone()
                .unwrap_or_else(|| self.scenario.region.clone()),
        )
    }

    /// The cluster a service is in: by name, and by region and account
    /// when it names them.
    pub fn cluster_of(&self, s: &ServiceSpec) -> Option<&ClusterSpec> {
        self.clusters.iter().find(|c| {
            let (account, region) = self.place_of(c);
            c.name == *s.cluster.get_ref()
                && s.region.as_ref().is_none_or(|r| *r == region)
                && s.account.as_ref().is_none_or(|a| *a == account)
        })
    }

    /// The service `cluster/name` an alarm or event names, in `region` and
    /// `account` when given; unset, the only one of that name. Of twins
    /// left unnamed the error lists every place.
    pub fn service_id(
        &self,
        key: &str,
        region: Option<&str>,
        account: Option<&str>,
    ) -> Result<ServiceId, String> {
        let ok = |want: Option<&str>, have: &str| want.is_none_or(|w| w == have);
        let found: Vec<ServiceId> = self
            .services
            .iter()
            .filter(|s| format!("{}/{}", s.cluster.get_ref(), s.name) == key)
            .filter_map(|s| {
                let (a, r) = self.place_of(self.cluster_of(s)?);
                (ok(account, &a) && ok(region, &r))
                    .then(|| ServiceId::new(&a, &r, s.cluster.get_ref(), &s.name))
            })
            .collect();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(format!(
                "unknown service {key:?}{}",
                place_words(region, account)
            )),
            many => Err(format!(
                "service {key:?} is in {} places ({}): name one with region = and account =",
                many.len(),
                many.iter()
                    .map(|id| format!("{} {}", id.account, id.region))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    pub fn builtin_names() -> &'static [&'static str] {
        &[
            "steady",
            "az-outage",
            "bad-deploy",
            "scale-out",
            "seed-review",
            "dr-pilot-light",
            "twins",
            "region-outage",
        ]
    }

    pub fn builtin(name: &str) -> Result<Scenario, ScenarioError> {
        match BUILTIN.iter().find(|(n, _)| *n == name) {
            Some((n, text)) => Scenario::parse(text, &format!("assets/scenarios/{n}.toml")),
            None => Err(ScenarioError {
                file: String::new(),
                line: 0,
                field: "scenario".into(),
                message: format!(
                    "{name:?} is not a built-in scenario (built-in: {}; or give a path to a .toml file)",
                    Self::builtin_names().join(", ")
                ),
            }),
        }
    }

    /// Read and parse a scenario file: a regular file of at most 4 MiB
    /// ([`crate::files::read_text`]).
    pub fn from_file(path: &Path) -> Result<Scenario, ScenarioError> {
        use crate::files::ReadError;
        let file = path.display().to_string();
        let text = crate::files::read_text(path).map_err(|e| {
            let (line, message) = match e {
                ReadError::Io { source, .. } => (0, source.to_string()),
                ReadError::NotUtf8 { line, .. } => (line, "not UTF-8 text".into()),
                other => {
                    let m = other.to_string();
                    let m = m
                        .strip_prefix(&format!("{file}: "))
                        .unwrap_or(&m)
                        .to_string();
                    (0, m)
                }
            };
            ScenarioError {
                file: file.clone(),
                line,
                field: "file".into(),
                message,
            }
        })?;
        Scenario::parse(&text, &file)
    }

    /// Parse and validate. `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Scenario, ScenarioError> {
        let sc: Scenario = toml::from_str(text).map_err(|e| {
            let msg = e.message().trim().to_string();
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            // toml names the key in "unknown field `x`"/"missing field `x`"
            // messages; for type errors the key is the one on that line.
            let field = msg
                .split('`')
                .nth(1)
                .map(str::to_string)
                .or_else(|| {
                    let l = text.lines().nth(line.saturating_sub(1))?;
                    let (k, _) = l.split_once('=')?;
                    Some(k.trim().to_string())
                })
                .unwrap_or_else(|| "toml".into());
            ScenarioError {
                file: origin.into(),
                line,
                field,
                message: msg,
            }
        })?;
        validate::validate(&sc, text, origin)?;
        Ok(sc)
    }

    /// Simulated start time, epoch ms.
    pub fn start_ms(&self) -> i64 {
        humantime::parse_rfc3339(self.scenario.start.get_ref())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64)
    }

    /// The load curve as (ms, multiplier), sorted.
    pub fn curve(&self) -> Vec<(i64, f64)> {
        let mut c: Vec<(i64, f64)> = self
            .load
            .curve
            .iter()
            .filter_map(|(t, v)| parse_duration_ms(t.get_ref()).ok().map(|ms| (ms, *v)))
            .collect();
        c.sort_by_key(|p| p.0);
        c
    }

    /// Timed events, sorted by time (validated, so parse failures can't happen).
    pub fn timed_events(&self) -> Vec<TimedEvent> {
        let s = |o: &Option<Spanned<String>>| {
            o.as_ref().map(|x| x.get_ref().clone()).unwrap_or_default()
        };
        let mut out: Vec<TimedEvent> = self
            .events
            .iter()
            .filter_map(|e| {
                let at_ms = parse_duration_ms(e.at.get_ref()).ok()?;
                let id = || {
                    self.service_id(&s(&e.service), e.region.as_deref(), e.account.as_deref())
                        .ok()
                };
                let action = match e.action.get_ref().as_str() {
                    "deploy" => EventAction::Deploy {
                        service: id()?,
                        task_definition: s(&e.task_definition),
                    },
                    "impair_az" => EventAction::ImpairAz {
                        az: s(&e.az),
                        duration_ms: e
                            .duration
                            .as_ref()
                            .and_then(|d| parse_duration_ms(d.get_ref()).ok()),
                    },
                    "release_az" => EventAction::ReleaseAz { az: s(&e.az) },
                    "set_desired" => EventAction::SetDesired {
                        service: id()?,
                        count: e.count.unwrap_or(0),
                    },
                    "stop_task" => EventAction::StopTask {
                        service: id()?,
                        count: e.count.unwrap_or(1),
                    },
                    "load" => EventAction::Load {
                        factor: e.factor.unwrap_or(1.0),
                    },
                    _ => return None,
                };
                Some(TimedEvent { at_ms, action })
            })
            .collect();
        out.sort_by_key(|e| e.at_ms);
        out
    }

    /// A large synthetic fleet for benchmarks: `services` services with
    /// `tasks_per_service` tasks each, over two clusters and three AZs.
    pub fn synthetic(services: usize, tasks_per_service: usize) -> Scenario {
        let mut text = String::from(
            "[scenario]\nname = \"synthetic\"\n\n[[clusters]]\nname = \"prod\"\n\n[[clusters]]\nname = \"batch\"\n\n\
             [[task_definitions]]\nfamily = \"app\"\nrevision = 1\ncpu = \"512\"\nmemory = \"1024\"\n\
             [[task_definitions.containers]]\nname = \"app\"\nimage = \"example/app:1.0.0\"\nport = 8080\nhealth_check = true\nlog_group = \"/ecs/app\"\n\n",
        );
        for i in 0..services {
            let cluster = if i % 2 == 0 { "prod" } else { "batch" };
            text.push_str(&format!(
                "[[services]]\ncluster = \"{cluster}\"\nname = \"svc-{i:04}\"\ntask_definition = \"app:1\"\ndesired = {tasks_per_service}\ntarget_group = \"tg-{i:04}\"\nbase_rps = 50\ncpu_per_rps = 0.3\n\n"
            ));
            if i % 3 == 0 {
                text.push_str(&format!(
                    "[[alarms]]\nname = \"svc-{i:04}-cpu\"\nservice = \"{cluster}/svc-{i:04}\"\nmetric = \"CPUUtilization\"\nthreshold = 80\n\n"
                ));
            }
        }
        Scenario::parse(&text, "synthetic")
            .unwrap_or_else(|e| unreachable!("synthetic scenario is valid: {e}"))
    }
}

pub const METRICS: &[&str] = &[
    "CPUUtilization",
    "MemoryUtilization",
    "RequestCount",
    "HTTPCode_Target_5XX_Count",
    "UnHealthyHostCount",
    "TargetResponseTime",
    "RunningTaskCount",
];

pub const COMPARISONS: &[&str] = &[
    "GreaterThanThreshold",
    "GreaterThanOrEqualToThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];

#[cfg(test)]
mod tests;

fn place_words(region: Option<&str>, account: Option<&str>) -> String {
    match (account, region) {
        (None, None) => String::new(),
        (a, r) => format!(
            " in {}",
            [a, r].into_iter().flatten().collect::<Vec<_>>().join(" ")
        ),
    }
}
