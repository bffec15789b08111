//! Checks of a parsed runbook: actions, durations, the front matter and its
//! references (steps, parameters, variables).

use super::*;

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

pub(super) fn check_action(
    ctx: &Ctx,
    a: &Action,
    at: &dyn Fn(Option<&str>) -> usize,
) -> Result<(), ParseError> {
    let need = |key: &'static str, present: bool| {
        if present {
            Ok(())
        } else {
            Err(ctx.err(
                at(Some("op")),
                Some(key),
                format!("`{}` needs `{key}`", a.op.name()),
            ))
        }
    };
    match a.op {
        Op::Snapshot | Op::ResolveRevision => need("save_as", a.save_as.is_some())?,
        Op::EcsScale => need("desired", a.desired.is_some())?,
        Op::SetCapacity => need(
            "min",
            a.min.is_some() || a.max.is_some() || a.max_at_least.is_some(),
        )?,
        Op::UpdateService => need("task_definition", a.task_definition.is_some())?,
        Op::StopTasks => need("select", a.select.is_some() || a.az.is_some())?,
        Op::SustainRelease => need("step", a.step.is_some())?,
        Op::ForceNewDeployment | Op::StopDeployment => {}
    }
    // Counts written as literals: a number ≥ 0 (`${…}` is checked when the run binds it).
    for (key, v) in [
        ("desired", &a.desired),
        ("min", &a.min),
        ("max", &a.max),
        ("max_at_least", &a.max_at_least),
    ] {
        let Some(v) = v else { continue };
        let n = match v {
            toml::Value::Integer(n) => Some(*n),
            toml::Value::String(s) if s.contains("${") => continue,
            toml::Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n < 0 => {
                return Err(ctx.err(
                    at(Some(key)),
                    Some(key),
                    format!("{n} is negative: a task count is 0 or more"),
                ));
            }
            Some(n) if n > i64::from(i32::MAX) => {
                return Err(ctx.err(
                    at(Some(key)),
                    Some(key),
                    format!("{n} is too large for a task count"),
                ));
            }
            Some(_) => {}
            None => {
                return Err(ctx.err(
                    at(Some(key)),
                    Some(key),
                    format!("{v} is not a task count (a number, or \"${{param.…}}\")"),
                ));
            }
        }
    }
    if let Some(toml::Value::Integer(n)) = &a.select
        && *n < 0
    {
        return Err(ctx.err(
            at(Some("select")),
            Some("select"),
            format!("{n} is negative: all, one or a count of 0 or more"),
        ));
    }
    if a.op == Op::StopTasks && a.sustain.is_some() && a.az.is_none() {
        return Err(ctx.err(
            at(Some("sustain")),
            Some("sustain"),
            "`sustain` keeps an AZ impaired: it needs `az`",
        ));
    }
    for k in ["sustain", "sweep_interval"] {
        let v = if k == "sustain" {
            &a.sustain
        } else {
            &a.sweep_interval
        };
        check_duration(ctx, k, v.as_deref(), at(Some(k)))?;
    }
    Ok(())
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
            Block::Action(a) if a.op == Op::SustainRelease => {
                let target = a.step.as_deref().unwrap_or_default();
                step_ref(s.line, "step", target)?;
                let ok = rb.steps.iter().any(|t| {
                    t.id == target
                        && matches!(&t.block, Block::Action(x) if x.op == Op::StopTasks && x.sustain.is_some())
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
                "timeline" => matches!(name, "rto" | "ttd" | "rto_target"),
                _ => false,
            };
            if !ok {
                return Err(ctx.err(
                    line,
                    None,
                    format!(
                        "unknown variable ${{{r}}} (use ${{param.<declared>}}, ${{save.<save_as>.…}}, ${{run.id}}, ${{timeline.rto|ttd}})"
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
