//! Binding a run's parameters: defaults, types, bounds, choices.

use super::*;
use crate::actions::FieldKind;

/// Check and type the given parameters against the runbook; fill defaults.
/// Missing required parameters are listed in the error.
pub fn bind_params(
    rb: &Runbook,
    given: &BTreeMap<String, String>,
) -> Result<Map<String, Value>, String> {
    for k in given.keys() {
        if !rb.meta.params.contains_key(k) {
            let known: Vec<&str> = rb.meta.params.keys().map(|s| s.as_str()).collect();
            return Err(format!(
                "unknown parameter {k:?} for {} (parameters: {})",
                rb.meta.id,
                known.join(", ")
            ));
        }
    }
    let mut out = Map::new();
    let missing: Vec<String> = rb
        .meta
        .params
        .iter()
        .filter(|(n, p)| p.required && p.default.is_none() && !given.contains_key(*n))
        .map(|(n, _)| n.clone())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing required parameter{} for {}: {} (pass --param {}=…)",
            if missing.len() > 1 { "s" } else { "" },
            rb.meta.id,
            missing.join(", "),
            missing[0]
        ));
    }
    for (name, spec) in &rb.meta.params {
        let raw: Option<String> = match given.get(name) {
            Some(v) => Some(v.clone()),
            None => match &spec.default {
                Some(toml::Value::String(s)) => {
                    let scope = ParamScope(&out);
                    Some(
                        interpolate(s, &scope)
                            .map_err(|e| format!("--param {name}: default: {e}"))?,
                    )
                }
                Some(other) => Some(display(&resolve_value(other, &ParamScope(&out))?)),
                None => None,
            },
        };
        let Some(raw) = raw else {
            continue;
        };
        let v = match spec.ty {
            ParamType::String => {
                if raw.is_empty() && spec.required {
                    return Err(format!("--param {name}: must not be empty"));
                }
                Value::String(raw.clone())
            }
            ParamType::Int => {
                let n: i64 = raw
                    .trim()
                    .parse()
                    .map_err(|_| format!("--param {name}={raw}: not an integer"))?;
                if let Some(lo) = spec.min
                    && n < lo
                {
                    return Err(format!("--param {name}={n}: below the minimum {lo}"));
                }
                if let Some(hi) = spec.max
                    && n > hi
                {
                    return Err(format!("--param {name}={n}: above the maximum {hi}"));
                }
                Value::from(n)
            }
            ParamType::Duration => {
                dur_ms(&raw).map_err(|e| format!("--param {name}: {e}"))?;
                Value::String(raw.clone())
            }
            ParamType::Bool => match raw.as_str() {
                "true" | "yes" | "1" => Value::Bool(true),
                "false" | "no" | "0" => Value::Bool(false),
                _ => return Err(format!("--param {name}={raw}: not true/false")),
            },
        };
        if !spec.choices.is_empty() && !spec.choices.contains(&raw) {
            return Err(format!(
                "--param {name}={raw}: one of {}",
                spec.choices.join(", ")
            ));
        }
        out.insert(name.clone(), v);
    }
    check_counts(rb, &out)?;
    Ok(out)
}

/// Task counts that are one parameter (`desired = "${param.target}"`) are
/// refused at binding when negative, before anything runs. Counts from other
/// expressions are checked when the step plans its call.
pub(super) fn check_counts(rb: &Runbook, params: &Map<String, Value>) -> Result<(), String> {
    for step in &rb.steps {
        let Block::Action(a) = &step.block else {
            continue;
        };
        let counts =
            a.op.action()
                .fields()
                .iter()
                .filter(|(_, k)| *k == FieldKind::Count);
        for (key, _) in counts {
            let Some(toml::Value::String(s)) = a.fields.get(key) else {
                continue;
            };
            let refs = vars::references(s);
            let [r] = refs.as_slice() else { continue };
            let Some(name) = r.strip_prefix("param.") else {
                continue;
            };
            if s.trim() != format!("${{{r}}}") {
                continue;
            }
            if let Some(n) = params.get(name).and_then(as_i64)
                && n < 0
            {
                return Err(format!(
                    "--param {name}={n}: negative, and step {} uses it as `{key}` (a task count is 0 or more)",
                    step.id
                ));
            }
        }
    }
    Ok(())
}

/// `--param k=v …` as a map; a parameter given twice is refused (naming it)
/// rather than one of the values being kept silently.
pub fn collect_params(given: &[(String, String)]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for (k, v) in given {
        if let Some(first) = out.insert(k.clone(), v.clone()) {
            return Err(format!(
                "--param {k} is given twice ({k}={first} and {k}={v}): pass it once"
            ));
        }
    }
    Ok(out)
}

pub(super) struct ParamScope<'a>(&'a Map<String, Value>);

impl Scope for ParamScope<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        name.strip_prefix("param.")
            .and_then(|n| self.0.get(n).cloned())
    }
}
