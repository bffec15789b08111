//! An action block's own fields and the checks every action shares: no
//! unknown key, each value of its kind (text, task count, duration).

use serde::{Deserialize, Serialize};

use super::RunbookAction;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A string (may use `${…}`).
    Text,
    /// A task count: a literal number ≥ 0, or a string with `${…}`.
    Count,
    /// A duration (`30s`, `5m`), or a string with `${…}`.
    Duration,
    /// Any value; the action checks it.
    Any,
}

/// An action's fields as written (everything but `op`, the target keys,
/// `save_as` and the common keys).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fields(pub toml::Table);

impl Fields {
    pub fn get(&self, key: &str) -> Option<&toml::Value> {
        self.0.get(key)
    }
    pub fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }
    /// A string field (a field of kind `Text` or `Duration` is a string
    /// once checked).
    pub fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.as_str())
    }
}

/// A field that fails its check: the parser adds the file and line.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    /// The key it is about (its line is the one reported).
    pub key: String,
    /// Report at the `op` line instead (a missing key has no line).
    pub at_op: bool,
    pub message: String,
}

impl FieldError {
    pub fn at(key: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            key: key.into(),
            at_op: false,
            message: message.into(),
        }
    }

    /// `op` needs `key`.
    pub fn missing(op: &str, key: &str) -> FieldError {
        FieldError {
            key: key.into(),
            at_op: true,
            message: format!("`{op}` needs `{key}`"),
        }
    }
}

/// Every check of a block's fields: keys, kinds, then the action's own.
pub fn check(a: &dyn RunbookAction, f: &Fields, save_as: bool) -> Result<(), FieldError> {
    let spec = a.fields();
    for (key, v) in &f.0 {
        let Some((_, kind)) = spec.iter().find(|(k, _)| k == key) else {
            let known: Vec<String> = spec.iter().map(|(k, _)| format!("`{k}`")).collect();
            return Err(FieldError::at(
                key,
                format!(
                    "unknown field `{key}` for `{}`, expected {}",
                    a.op(),
                    if known.is_empty() {
                        "none (only op, cluster, service, region, account, save_as)".into()
                    } else {
                        format!("one of {}", known.join(", "))
                    }
                ),
            ));
        };
        check_kind(key, *kind, v)?;
    }
    a.check(f, save_as)
}

fn check_kind(key: &str, kind: FieldKind, v: &toml::Value) -> Result<(), FieldError> {
    match kind {
        FieldKind::Any => Ok(()),
        FieldKind::Text => match v {
            toml::Value::String(_) => Ok(()),
            other => Err(FieldError::at(
                key,
                format!("invalid type: {}, expected a string", other.type_str()),
            )),
        },
        FieldKind::Duration => match v {
            toml::Value::String(s) if s.contains("${") => Ok(()),
            toml::Value::String(s) => humantime::parse_duration(s).map(|_| ()).map_err(|e| {
                FieldError::at(
                    key,
                    format!("{s:?} is not a duration: {e} (try 30s, 5m, 1h)"),
                )
            }),
            other => Err(FieldError::at(
                key,
                format!("invalid type: {}, expected a string", other.type_str()),
            )),
        },
        FieldKind::Count => check_count(key, v),
    }
}

/// A count written as a literal: a number ≥ 0 (`${…}` is checked when the
/// run binds it).
fn check_count(key: &str, v: &toml::Value) -> Result<(), FieldError> {
    let n = match v {
        toml::Value::Integer(n) => Some(*n),
        toml::Value::String(s) if s.contains("${") => return Ok(()),
        toml::Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n < 0 => Err(FieldError::at(
            key,
            format!("{n} is negative: a task count is 0 or more"),
        )),
        Some(n) if n > i64::from(i32::MAX) => Err(FieldError::at(
            key,
            format!("{n} is too large for a task count"),
        )),
        Some(_) => Ok(()),
        None => Err(FieldError::at(
            key,
            format!("{v} is not a task count (a number, or \"${{param.…}}\")"),
        )),
    }
}
