//! The drill report: Markdown rendered from the journal alone, so
//! `ecsdeck runbook report RUN_ID` can re-render it at any time.

use std::fmt::Write;

use serde_json::Value;

use super::Runbook;
use super::events::{
    ApiCall, Body, CallPhase, DryRun, Event, Outcome, RunEnd, RunStart, StepState, StopConditionHit,
};
use crate::calls::fmt_dur;

/// Untrusted text (a runbook, the journal, AWS) on one Markdown line: line
/// breaks become " / " (a value must not start a heading or a list of its
/// own); then [`crate::sanitize::markdown`] removes escape sequences and
/// control characters and escapes Markdown syntax.
fn one_line(s: &str) -> String {
    s.replace("\r\n", " / ").replace(['\n', '\r'], " / ")
}

fn text(s: &str) -> String {
    crate::sanitize::markdown::text(&one_line(s))
}

/// [`text`] for a table cell (`|` is escaped there too).
fn cell(s: &str) -> String {
    text(s)
}

/// An inline code span that its content cannot close.
fn code(s: &str) -> String {
    crate::sanitize::markdown::code(&one_line(s))
}

fn s(v: &Value) -> String {
    super::vars::display(v)
}

/// `T+mm:ss` of `ts` after `t0`.
fn rel(ts: i64, t0: i64) -> String {
    let d = (ts - t0).max(0) / 1000;
    format!("T+{:02}:{:02}:{:02}", d / 3600, d % 3600 / 60, d % 60)
}

/// Which of two words a flag picks.
fn pick(flag: bool, yes: &'static str, no: &'static str) -> &'static str {
    if flag { yes } else { no }
}

/// `(auto-approved, --yes)` when an answer was automatic.
fn auto(flag: bool, spaced: bool) -> &'static str {
    match (flag, spaced) {
        (true, true) => " (auto-approved, --yes)",
        (true, false) => "(auto-approved, --yes)",
        (false, _) => "",
    }
}

/// The line of an `api_call`.
fn describe_call(c: &ApiCall, request_id: Option<&str>) -> String {
    if c.phase == CallPhase::Before {
        return format!("→ {}", c.change.as_deref().unwrap_or(""));
    }
    let api = c
        .call
        .as_ref()
        .and_then(|call| serde_json::to_value(call).ok())
        .and_then(|v| v["api"].as_str().map(str::to_string));
    format!(
        "{} {}{}",
        pick(c.ok == Some(true), "✓", "✗"),
        api.as_deref().unwrap_or("call"),
        match (c.error(), request_id) {
            (Some(err), _) => format!(": {err}"),
            (_, Some(id)) => format!(" (request {id})"),
            _ => String::new(),
        }
    )
}

fn describe_dry_run(d: &DryRun) -> String {
    match &d.changes {
        Some(c) => format!("dry run: would {}", c.join("; ")),
        None => format!(
            "dry run: would wait up to {} for {}",
            d.would_wait.as_deref().unwrap_or(""),
            d.conditions.as_deref().unwrap_or_default().join("; ")
        ),
    }
}

/// One line for a journal event, or None for events the timeline leaves out.
/// An event of a kind this version does not know is shown by its kind.
pub fn describe(e: &Event) -> Option<String> {
    Some(match &e.body {
        Body::RunStart(st) => format!(
            "run started ({}, {})",
            st.source,
            pick(st.write, "--write", "dry run")
        ),
        Body::StepStart { title, .. } => format!("step: {title}"),
        Body::StepEnd { state, .. } => match state {
            StepState::Done => return None,
            st => format!("step {}", st.as_str()),
        },
        Body::ApiCall(c) => describe_call(c, e.aws_request_id.as_deref()),
        Body::DryRun(d) => describe_dry_run(d),
        Body::ConditionMet { held_ms, .. } => format!("condition met (held {})", fmt_dur(*held_ms)),
        Body::Timeout { after_ms, then } => {
            format!("timed out after {} → {}", fmt_dur(*after_ms), s(then))
        }
        Body::Marker { name, .. } => format!("marker {name}"),
        Body::CheckpointResponse(r) => {
            if r.prose {
                return None;
            }
            format!("answer: {}{}", r.choice, auto(r.auto, true))
        }
        Body::Confirmation { yes, auto: a, .. } => format!(
            "{} {}",
            pick(*yes, "confirmed", "declined"),
            auto(*a, false)
        ),
        Body::Armed { .. } => "armed".into(),
        Body::StopCondition(hit) => {
            format!("STOP CONDITION: alarm {} ({})", hit.alarm, hit.action)
        }
        Body::Abort { reason, .. } => format!("abort: {reason}"),
        Body::Blocked { .. } => "refused: blocking findings".into(),
        Body::Cleanup { .. } => "cleanup steps start".into(),
        Body::SustainStart(su) => format!("impairment of {} sustained", su.az),
        Body::SustainEnd { az, why, .. } => format!("impairment of {az} ends ({why})"),
        Body::Error { error, .. } => format!("error: {error}"),
        Body::Warning { message } => format!("warning: {message}"),
        Body::Resume { .. } => "resumed".into(),
        Body::RunEnd(end) => format!("run ended: {}", end.outcome.as_str()),
        Body::Other { kind, .. } => format!("event {kind:?} (not known to this version)"),
        Body::Param { .. }
        | Body::Poll { .. }
        | Body::NoChange { .. }
        | Body::Save { .. }
        | Body::Note { .. } => return None,
    })
}

pub fn render(rb: &Runbook, events: &[Event]) -> String {
    render_with(rb, events, &[])
}

/// [`render`], with lines about the journal itself (a torn last line).
pub fn render_with(rb: &Runbook, events: &[Event], journal_notes: &[String]) -> String {
    let mut out = String::new();
    let t0 = events.first().map(|e| e.ts).unwrap_or(0);
    let start = events.iter().find_map(|e| match &e.body {
        Body::RunStart(st) => Some((e, st)),
        _ => None,
    });
    let end: Option<&RunEnd> = events.iter().rev().find_map(|e| match &e.body {
        Body::RunEnd(end) => Some(end),
        _ => None,
    });
    let _ = writeln!(out, "# Drill report: {}\n", text(&rb.meta.title));
    if let Some((st, detail)) = start {
        start_lines(&mut out, rb, st, detail);
    }
    for n in journal_notes {
        let _ = writeln!(out, "- Journal: {}", text(n));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "## Result\n");
    result_lines(&mut out, rb, end);
    impairment_lines(&mut out, events);
    if let (Some((_, st)), Some(end)) = (start, end) {
        dr_lines(&mut out, rb, &st.params, end);
        dr_changes(&mut out, events);
    }
    let _ = writeln!(out, "\n## Timeline\n");
    let _ = writeln!(out, "| time | step | event |");
    let _ = writeln!(out, "|---|---|---|");
    for e in events {
        if let Some(line) = describe(e) {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                rel(e.ts, t0),
                cell(e.step.as_deref().unwrap_or("")),
                cell(&line)
            );
        }
    }
    let notes: Vec<(&Event, &str)> = events
        .iter()
        .filter_map(|e| match &e.body {
            Body::Note { text } => Some((e, text.as_str())),
            _ => None,
        })
        .collect();
    let _ = writeln!(out, "\n## Notes\n");
    if notes.is_empty() {
        let _ = writeln!(out, "(none)");
    }
    for (n, note) in notes {
        let _ = writeln!(
            out,
            "- {} {} {}: {}",
            rel(n.ts, t0),
            code(n.step.as_deref().unwrap_or("-")),
            text(n.operator.as_deref().unwrap_or("")),
            text(note)
        );
    }
    let stops: Vec<(&Event, &StopConditionHit)> = events
        .iter()
        .filter_map(|e| match &e.body {
            Body::StopCondition(hit) => Some((e, hit)),
            _ => None,
        })
        .collect();
    let _ = writeln!(out, "\n## Stop conditions\n");
    if stops.is_empty() {
        let _ = writeln!(out, "None fired.");
    }
    for (st, hit) in stops {
        let _ = writeln!(
            out,
            "- {} alarm {} {}{} → {}",
            rel(st.ts, t0),
            code(&hit.alarm),
            text(&hit.state),
            if hit.from_history {
                " (seen in alarm history)"
            } else {
                ""
            },
            text(&hit.action)
        );
    }
    let _ = writeln!(out, "\n## Follow-ups\n");
    let mut follow = vec![];
    for e in events {
        match &e.body {
            Body::Timeout { .. } => follow.push(format!(
                "Step {} timed out: find out why it did not converge.",
                code(e.step.as_deref().unwrap_or("?"))
            )),
            Body::Error { error, .. } => follow.push(format!(
                "Step {} failed: {}",
                code(e.step.as_deref().unwrap_or("?")),
                text(error)
            )),
            Body::Warning { message } => follow.push(text(message)),
            _ => {}
        }
    }
    if let Some(e) = end {
        if e.rto_met == Some(false) {
            follow.push("RTO missed its target: review capacity headroom, health-check grace and scaling speed.".into());
        }
        if rb.meta.timeline.ttd_marker.is_some()
            && e.ttd_seconds.is_none()
            && e.outcome == Outcome::Completed
        {
            follow.push(
                "Nothing detected the impairment: add or tune the alarm that should page.".into(),
            );
        }
    }
    if follow.is_empty() {
        let _ = writeln!(out, "None recorded.");
    }
    for f in follow {
        let _ = writeln!(out, "- {f}");
    }
    out
}

/// The header lines of a run: runbook, start, source, mode, parameters.
fn start_lines(out: &mut String, rb: &Runbook, st: &Event, detail: &RunStart) {
    let _ = writeln!(
        out,
        "- Runbook: {} v{} ({})",
        code(&rb.meta.id),
        rb.meta.version,
        rb.meta.kind.as_str()
    );
    let _ = writeln!(
        out,
        "- Started: {} (source clock {}), operator {}",
        text(&st.wall),
        st.ts,
        text(st.operator.as_deref().unwrap_or("?"))
    );
    let _ = writeln!(out, "- Source: {}", text(&detail.source));
    let _ = writeln!(
        out,
        "- Mode: {}",
        if detail.write {
            "live (--write)"
        } else {
            "dry run (no --write): no change was made"
        }
    );
    let ps: Vec<String> = detail
        .params
        .iter()
        .map(|(k, v)| format!("{}={}", text(k), text(&s(v))))
        .collect();
    let _ = writeln!(out, "- Parameters: {}", ps.join(", "));
}

/// How each AZ impairment ran: through an FIS experiment, or StopTask
/// sweeps (no `fis_role_arn`).
fn impairment_lines(out: &mut String, events: &[Event]) {
    for e in events {
        let Body::SustainStart(st) = &e.body else {
            continue;
        };
        if st.rebuilt == Some(true) {
            continue;
        }
        let how = match &st.experiment {
            Some(x) if st.cut => {
                format!(
                    "AWS FIS experiment {} (stop-task, disrupt-connectivity)",
                    text(x)
                )
            }
            Some(x) => format!(
                "AWS FIS experiment {} (stop-task), kept by StopTask sweeps every {}",
                text(x),
                fmt_dur(st.interval)
            ),
            None => format!(
                "StopTask sweeps every {} (no FIS role given)",
                fmt_dur(st.interval)
            ),
        };
        let _ = writeln!(out, "- Impairment of {}: {how}", text(&st.az));
    }
}

/// DR: what was switched, and what fail-back will need.
fn dr_lines(out: &mut String, rb: &Runbook, params: &serde_json::Map<String, Value>, end: &RunEnd) {
    let Some(serving) = &end.serving_region else {
        return;
    };
    let p = |k: &str| params.get(k).map(s).unwrap_or_default();
    let (primary, standby) = (p("primary_region"), p("standby_region"));
    let failover = rb.meta.id == "dr-region-failover";
    let (from, to) = if failover {
        (&primary, &standby)
    } else {
        (&standby, &primary)
    };
    if serving == to {
        let _ = writeln!(
            out,
            "- Switched: traffic from {} to **{}**",
            text(from),
            text(to)
        );
    } else {
        let _ = writeln!(out, "- Not switched: **{}** still serves", text(serving));
    }
    if failover && serving == to {
        let _ = writeln!(
            out,
            "- Fail-back will need: `ecsdeck runbook run dr-region-failback --param cluster={} --param service={} --param primary_region={} --param standby_region={} --param standby_cluster={}`, started deliberately; until then {} keeps its capacity",
            text(&p("cluster")),
            text(&p("service")),
            text(&primary),
            text(&standby),
            text(&p("standby_cluster")),
            text(&standby)
        );
    }
}

/// DR: the traffic and data-tier changes the run made (successful calls).
fn dr_changes(out: &mut String, events: &[Event]) {
    for e in events {
        let Body::ApiCall(a) = &e.body else { continue };
        let (Some(c), Some(true)) = (&a.call, a.ok) else {
            continue;
        };
        let what = match c.kind.as_str() {
            "Route53Shift" => "DNS",
            "RdsPromote" => "Data tier",
            _ => continue,
        };
        let ids = a
            .request_ids
            .as_ref()
            .filter(|v| !v.is_empty())
            .map(|v| format!(" (request {})", text(&v.join(", "))))
            .unwrap_or_default();
        let _ = writeln!(out, "- {what}: {}{ids}", text(&c.describe()));
    }
}

/// `- RPO: …`: the replication lag at the promotion against its target.
fn rpo_line(out: &mut String, d: &RunEnd) {
    let note = d
        .rpo_note
        .as_deref()
        .map(|n| format!(" ({})", text(n)))
        .unwrap_or_default();
    match (d.rpo_seconds, d.rpo_target_seconds) {
        (Some(r), Some(t)) => {
            let pass = match d.rpo_met {
                Some(m) => pick(m, "PASS", "FAIL"),
                None => "no verdict (the run did not complete)",
            };
            let _ = writeln!(
                out,
                "- RPO: **{r:.1} s**{note} against a target of {}: **{pass}**",
                fmt_dur((t * 1000.0) as i64)
            );
        }
        (Some(r), None) => {
            let _ = writeln!(out, "- RPO: **{r:.1} s**{note} (no target)");
        }
        (None, _) if d.rpo_note.is_some() => {
            let _ = writeln!(out, "- RPO: not measured{note}");
        }
        (None, _) => {}
    }
}

/// The `## Result` lines: outcome, RTO against its target, TTD.
fn result_lines(out: &mut String, rb: &Runbook, end: Option<&RunEnd>) {
    match end {
        Some(d) => {
            let _ = writeln!(
                out,
                "- Outcome: **{}**{}",
                text(d.outcome.as_str()),
                match d.reason.as_deref() {
                    Some(r) => format!(" — {}", text(r)),
                    None => String::new(),
                }
            );
            let secs = |x: Option<f64>| x.map(|x| fmt_dur((x * 1000.0) as i64));
            match (secs(d.rto_seconds), secs(d.rto_target_seconds)) {
                (Some(r), Some(t)) => {
                    let pass = match d.rto_met {
                        Some(m) => pick(m, "PASS", "FAIL"),
                        None => "no verdict (the run did not complete)",
                    };
                    let _ = writeln!(out, "- RTO: **{r}** against a target of {t}: **{pass}**");
                }
                (Some(r), None) => {
                    let _ = writeln!(out, "- RTO: **{r}** (no target)");
                }
                (None, _) => {
                    let _ = writeln!(out, "- RTO: not measured (a marker was not reached)");
                }
            }
            rpo_line(out, d);
            match secs(d.ttd_seconds) {
                Some(t) => {
                    let _ = writeln!(out, "- TTD (time to detect): **{t}**");
                }
                None if rb.meta.timeline.ttd_marker.is_some() => {
                    let _ = writeln!(
                        out,
                        "- TTD: not detected within the step's timeout — a detection gap"
                    );
                }
                None => {}
            }
        }
        None => {
            let _ = writeln!(
                out,
                "- The run has not ended (it can be continued with `--resume`)."
            );
        }
    }
}
