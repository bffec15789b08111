//! `${param.x}`, `${save.name.path}`, `${run.id}`, `${timeline.rto}`: the only
//! substitutions a runbook can make. No expressions.

use serde_json::Value;

use super::cond::select_path;

/// The names referenced in `text` (`param.service`, `save.before.service.desiredCount`, …).
pub fn references(text: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                out.push(after[..j].trim());
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

/// The text from the first `${` that has no closing `}` (at most 40
/// characters of it, for an error message), if there is one.
pub fn unclosed(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => rest = &after[j + 1..],
            None => {
                let from = &rest[i..];
                let end = from.char_indices().nth(40).map_or(from.len(), |(k, _)| k);
                return Some(&from[..end]);
            }
        }
    }
    None
}

/// What variables resolve against.
pub trait Scope {
    fn lookup(&self, name: &str) -> Option<Value>;
}

/// Look `name` up in a JSON root: `save.before.service.desiredCount` →
/// `root["save"]["before"]` then the path `service.desiredCount`.
pub fn lookup_json(root: &Value, name: &str) -> Option<Value> {
    select_path(root, name).into_iter().next().cloned()
}

/// A JSON value as text: strings bare, numbers without a trailing `.0`.
pub use crate::actions::show as display;

/// Substitute every `${…}`; an unknown name is an error naming it.
pub fn interpolate(text: &str, scope: &dyn Scope) -> Result<String, String> {
    if !text.contains("${") {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find('}') else {
            return Err(format!("unclosed ${{ in {text:?}"));
        };
        let name = after[..j].trim();
        match scope.lookup(name) {
            Some(v) => out.push_str(&display(&v)),
            None => return Err(format!("${{{name}}} has no value here")),
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Interpolate a TOML value from a block: strings are substituted and, when
/// the whole string was one variable, keep that variable's JSON type.
pub fn resolve_value(v: &toml::Value, scope: &dyn Scope) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => {
            let refs = references(s);
            let t = s.trim();
            if refs.len() == 1
                && t.starts_with("${")
                && t.ends_with('}')
                && t.matches("${").count() == 1
            {
                scope
                    .lookup(refs[0])
                    .ok_or_else(|| format!("${{{}}} has no value here", refs[0]))?
            } else {
                Value::String(interpolate(s, scope)?)
            }
        }
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => Value::from(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| resolve_value(x, scope))
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, x)| Ok((k.clone(), resolve_value(x, scope)?)))
                .collect::<Result<_, String>>()?,
        ),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
    })
}

/// A JSON value as an integer (numbers, or strings holding one).
pub use crate::actions::as_i64;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct J(Value);
    impl Scope for J {
        fn lookup(&self, name: &str) -> Option<Value> {
            lookup_json(&self.0, name)
        }
    }

    #[test]
    fn substitutes_and_keeps_types() {
        let s = J(json!({"param": {"service": "api", "target": 12},
                         "save": {"before": {"service": {"desiredCount": 6}}}}));
        assert_eq!(
            interpolate("scale ${param.service} to ${param.target}", &s).unwrap(),
            "scale api to 12"
        );
        assert_eq!(
            resolve_value(
                &toml::Value::String("${save.before.service.desiredCount}".into()),
                &s
            )
            .unwrap(),
            json!(6)
        );
        assert_eq!(
            resolve_value(&toml::Value::String("n=${param.target}".into()), &s).unwrap(),
            json!("n=12")
        );
        let e = interpolate("${param.nope}", &s).unwrap_err();
        assert!(e.contains("param.nope"), "{e}");
        assert_eq!(references("a ${x.y} b ${ z }"), vec!["x.y", "z"]);
    }
}
