//! Checks of a parsed runbook: actions, durations, the front matter and its
//! references (steps, parameters, variables).

use super::*;
use crate::actions::{stop_tasks, sustain_release};

/// A literal duration must parse; one with `${…}` is checked when the run starts.
pub(super) fn check_duration(
    ctx: &Ctx,
    key: &str,
    v: Option<&str>,
    line: usize,
) -> Result<(), ParseError> {
    match v {
        Some(s) if !s.contains("${") => humantime::parse_duration(s).map(|_| ()).map_err(|e| {
            ctx.err(
                line,
                Some(key),
                format!("{s:?} is not a duration: {e} (try 30s, 5m, 1h)"),
            )
        }),
        _ => Ok(()),
    }
}

/// The op's own checks (`src/actions/<op>.rs`): its fields, their kinds,
/// which it needs; the error names the line of the key (or of `op`).
pub(super) fn check_action(
    ctx: &Ctx,
    a: &Action,
    at: &dyn Fn(Option<&str>) -> usize,
) -> Result<(), ParseError> {
    crate::actions::fields::check(a.op.action(), &a.fields, a.save_as.is_some()).map_err(|e| {
        let line = if e.at_op {
            at(Some("op"))
        } else {
            at(Some(&e.key))
        };
        ctx.err(line, Some(&e.key), e.message)
    })?;
    if let Some(u) = &a.until {
        if a.op.mutates() {
            return Err(ctx.err(
                at(Some("until")),
                Some("until"),
                format!(
                    "{} changes something: only a read is repeated until its answer holds",
                    a.op.name()
                ),
            ));
        }
        crate::runbook::cond::check_op(&u.op)
            .map_err(|m| ctx.err(at(Some("until")), Some("until"), m))?;
    } else if a.interval.is_some() {
        return Err(ctx.err(
            at(Some("interval")),
            Some("interval"),
            "`interval` repeats a read: it needs `until`",
        ));
    }
    check_duration(ctx, "interval", a.interval.as_deref(), at(Some("interval")))
}

/// Cross-references: step ids, markers, params, saves.
pub(super) fn validate(
    ctx: &Ctx,
    rb: &Runbook,
    meta_text: &str,
    meta_line: usize,
    text: &str,
    var_strings: &[(String, usize)],
) -> Result<(), ParseError> {
    let meta_at = |key: &str| {
        key_line(meta_text, key)
            .map(|l| meta_line + l)
            .unwrap_or(meta_line)
    };
    if rb.meta.id.is_empty()
        || !rb
            .meta
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ctx.err(
            meta_at("id"),
            Some("id"),
            format!("{:?}: use letters, digits, '-' and '_'", rb.meta.id),
        ));
    }
    if rb.steps.is_empty() {
        return Err(ctx.err(0, None, "no steps: add `## Step title {#id}` sections"));
    }
    // Mutating steps are armed by a phrase the operator types: it must exist.
    let mutating: Vec<&str> = rb
        .steps
        .iter()
        .filter(|s| matches!(&s.block, Block::Action(a) if a.op.mutates()))
        .map(|s| s.id.as_str())
        .collect();
    let arm = rb.meta.safety.arm_phrase.as_deref().unwrap_or("");
    if !mutating.is_empty() && arm.trim().is_empty() {
        let line = if rb.meta.safety.arm_phrase.is_some() {
            meta_at("arm_phrase")
        } else {
            key_line(meta_text, "safety").map_or(meta_line, |l| meta_line + l)
        };
        return Err(ctx.err(
            line,
            Some("safety.arm_phrase"),
            format!(
                "{} (step{} {}): set a phrase the operator types to arm them, e.g. arm_phrase = \"${{param.service}}\"",
                if rb.meta.safety.arm_phrase.is_none() {
                    "missing, and this runbook has mutating steps"
                } else {
                    "is blank, and this runbook has mutating steps"
                },
                if mutating.len() == 1 { "" } else { "s" },
                mutating.join(", ")
            ),
        ));
    }
    if let Some(f) = rb.meta.safety.max_scale_factor
        && (f.is_nan() || f < 0.0)
    {
        return Err(ctx.err(
            meta_at("max_scale_factor"),
            Some("safety.max_scale_factor"),
            format!("{f} is not a factor: use a number of 0 or more, e.g. 3"),
        ));
    }
    let ids: BTreeSet<&str> = rb.steps.iter().map(|s| s.id.as_str()).collect();
    let step_ref = |line: usize, key: &str, id: &str| {
        if ids.contains(id) {
            Ok(())
        } else {
            Err(ctx.err(line, Some(key), format!("no step with id {id:?}")))
        }
    };
    let flow_ref = |line: usize, key: &str, f: &Option<Flow>| match f {
        Some(Flow::Goto(id)) => step_ref(line, key, id),
        _ => Ok(()),
    };
    for s in &rb.steps {
        let c = s.common();
        flow_ref(s.line, "on_failure", &c.on_failure)?;
        flow_ref(s.line, "on_timeout", &c.on_timeout)?;
        if let Some(n) = &c.next {
            step_ref(s.line, "next", n)?;
        }
        match &s.block {
            Block::Checkpoint(cp) => {
                for ch in &cp.choices {
                    if let Some(id) = ch.strip_prefix("goto:") {
                        step_ref(s.line, "choices", id)?;
                    }
                }
            }
            Block::Action(a) if a.op.is(sustain_release::OP) => {
                let target = a.fields.str("step").unwrap_or_default();
                step_ref(s.line, "step", target)?;
                let ok = rb.steps.iter().any(|t| {
                    t.id == target
                        && matches!(&t.block, Block::Action(x) if x.op.is(stop_tasks::OP) && x.fields.has("sustain"))
                });
                if !ok {
                    return Err(ctx.err(
                        s.line,
                        Some("step"),
                        format!("{target:?} is not an `ecs.stop_tasks` step with `sustain`"),
                    ));
                }
            }
            _ => {}
        }
    }
    for id in &rb.meta.stop_policy.cleanup {
        step_ref(meta_at("cleanup"), "cleanup", id)?;
    }
    check_duration(
        ctx,
        "poll",
        Some(&rb.meta.stop_policy.poll),
        meta_at("poll"),
    )?;
    let marks: BTreeSet<&str> = rb
        .steps
        .iter()
        .filter_map(|s| s.common().mark.as_deref())
        .collect();
    let tl = &rb.meta.timeline;
    for (key, m) in [
        ("rto_start", &tl.rto_start),
        ("rto_end", &tl.rto_end),
        ("ttd_marker", &tl.ttd_marker),
    ] {
        if let Some(m) = m
            && !marks.contains(m.as_str())
        {
            return Err(ctx.err(
                meta_at(key),
                Some(key),
                format!("no step sets the marker {m:?} (`mark = \"{m}\"`)"),
            ));
        }
    }
    check_duration(
        ctx,
        "rto_target",
        tl.rto_target.as_deref(),
        meta_at("rto_target"),
    )?;

    check_params(ctx, rb, &meta_at)?;
    check_variables(ctx, rb, meta_text, meta_line, text, var_strings)
}

/// Parameters: defaults of the right type, min ≤ max.
fn check_params(
    ctx: &Ctx,
    rb: &Runbook,
    meta_at: &dyn Fn(&str) -> usize,
) -> Result<(), ParseError> {
    for (name, p) in &rb.meta.params {
        if let Some(d) = &p.default {
            let ok = match (p.ty, d) {
                (ParamType::Int, toml::Value::Integer(_)) => true,
                (ParamType::Bool, toml::Value::Boolean(_)) => true,
                (ParamType::String, toml::Value::String(_)) => true,
                (ParamType::Duration, toml::Value::String(s)) => {
                    s.contains("${") || humantime::parse_duration(s).is_ok()
                }
                (_, toml::Value::String(s)) => s.contains("${"),
                _ => false,
            };
            if !ok {
                return Err(ctx.err(
                    meta_at(name),
                    Some(&format!("params.{name}.default")),
                    format!("{d} is not a valid {:?}", p.ty).to_lowercase(),
                ));
            }
        }
        if let (Some(lo), Some(hi)) = (p.min, p.max)
            && lo > hi
        {
            return Err(ctx.err(meta_at(name), Some(&format!("params.{name}")), "min > max"));
        }
    }

    Ok(())
}

/// Variables: `${param.x}` must be declared, `${save.x…}` saved by some
/// step; each error names the line the variable is on.
fn check_variables(
    ctx: &Ctx,
    rb: &Runbook,
    meta_text: &str,
    meta_line: usize,
    text: &str,
    var_strings: &[(String, usize)],
) -> Result<(), ParseError> {
    let saves: BTreeSet<&str> = rb
        .steps
        .iter()
        .filter_map(|s| match &s.block {
            Block::Action(a) => a.save_as.as_deref(),
            _ => None,
        })
        .collect();
    let check_refs = |text: &str, line: usize| -> Result<(), ParseError> {
        if let Some(at) = vars::unclosed(text) {
            return Err(ctx.err(
                line,
                None,
                format!("unclosed `${{` in {at:?}: end the variable with `}}`"),
            ));
        }
        for r in vars::references(text) {
            let mut parts = r.splitn(3, '.');
            let root = parts.next().unwrap_or("");
            let name = parts.next().unwrap_or("");
            let ok = match root {
                "param" => rb.meta.params.contains_key(name),
                "save" => saves.contains(name),
                "run" => name == "id",
                "timeline" => matches!(name, "rto" | "ttd" | "rto_target" | "rpo"),
                _ => false,
            };
            if !ok {
                return Err(ctx.err(
                    line,
                    None,
                    format!(
                        "unknown variable ${{{r}}} (use ${{param.<declared>}}, ${{save.<save_as>.…}}, ${{run.id}}, ${{timeline.rto|ttd|rpo}})"
                    ),
                ));
            }
        }
        Ok(())
    };
    // Line by line, so that an error names the line it is on.
    for (n, l) in meta_text.lines().enumerate() {
        check_refs(l, meta_line + n)?;
    }
    for l in rb.intro.lines() {
        check_refs(l, line_containing(text, meta_line, l).unwrap_or(0))?;
    }
    for s in &rb.steps {
        check_refs(&s.title, s.line)?;
        for (n, l) in s.body.lines().enumerate() {
            let line = line_containing(text, s.line, l).unwrap_or(s.line + n);
            check_refs(l, line)?;
        }
    }
    for (v, line) in var_strings {
        check_refs(v, *line)?;
    }
    Ok(())
}
