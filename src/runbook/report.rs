//! The drill report: Markdown rendered from the journal alone, so
//! `ecsdeck runbook report RUN_ID` can re-render it at any time.

use std::fmt::Write;

use serde_json::Value;

use super::Runbook;
use super::journal::Event;
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

/// One line for a journal event, or None for events the timeline leaves out.
pub fn describe(e: &Event) -> Option<String> {
    let d = &e.detail;
    Some(match e.kind.as_str() {
        "run_start" => format!(
            "run started ({}, {})",
            s(&d["source"]),
            if d["write"] == true {
                "--write"
            } else {
                "dry run"
            }
        ),
        "step_start" => format!("step: {}", s(&d["title"])),
        "step_end" => match d["state"].as_str() {
            Some("done") | None => return None,
            Some(st) => format!("step {st}"),
        },
        "api_call" if d["phase"] == "after" => format!(
            "{} {}{}",
            if d["ok"] == true { "✓" } else { "✗" },
            d["call"]["api"].as_str().unwrap_or("call"),
            match (&d["error"], e.aws_request_id.as_deref()) {
                (Value::String(err), _) => format!(": {err}"),
                (_, Some(id)) => format!(" (request {id})"),
                _ => String::new(),
            }
        ),
        "api_call" => format!("→ {}", s(&d["change"])),
        "dry_run" => match d.get("changes") {
            Some(Value::Array(c)) => format!(
                "dry run: would {}",
                c.iter().map(s).collect::<Vec<_>>().join("; ")
            ),
            _ => format!(
                "dry run: would wait up to {} for {}",
                s(&d["would_wait"]),
                d["conditions"]
                    .as_array()
                    .map(|a| a.iter().map(s).collect::<Vec<_>>().join("; "))
                    .unwrap_or_default()
            ),
        },
        "condition_met" => format!(
            "condition met (held {})",
            fmt_dur(d["held_ms"].as_i64().unwrap_or(0))
        ),
        "timeout" => format!(
            "timed out after {} → {}",
            fmt_dur(d["after_ms"].as_i64().unwrap_or(0)),
            s(&d["then"])
        ),
        "marker" => format!("marker **{}**", s(&d["name"])),
        "checkpoint_response" => {
            if d["prose"] == true {
                return None;
            }
            format!(
                "answer: {}{}",
                s(&d["choice"]),
                if d["auto"] == true {
                    " (auto-approved, --yes)"
                } else {
                    ""
                }
            )
        }
        "confirmation" => format!(
            "{} {}",
            if d["yes"] == true {
                "confirmed"
            } else {
                "declined"
            },
            if d["auto"] == true {
                "(auto-approved, --yes)"
            } else {
                ""
            }
        ),
        "armed" => "armed".into(),
        "stop_condition" => format!(
            "STOP CONDITION: alarm {} ({})",
            s(&d["alarm"]),
            s(&d["action"])
        ),
        "abort" => format!("abort: {}", s(&d["reason"])),
        "blocked" => "refused: blocking findings".into(),
        "cleanup" => "cleanup steps start".into(),
        "sustain_start" => format!("impairment of {} sustained", s(&d["az"])),
        "sustain_end" => format!("impairment of {} ends ({})", s(&d["az"]), s(&d["why"])),
        "error" => format!("error: {}", s(&d["error"])),
        "warning" => format!("warning: {}", s(&d["message"])),
        "resume" => "resumed".into(),
        "run_end" => format!("run ended: {}", s(&d["outcome"])),
        _ => return None,
    })
}

pub fn render(rb: &Runbook, events: &[Event]) -> String {
    render_with(rb, events, &[])
}

/// [`render`], with lines about the journal itself (a torn last line).
pub fn render_with(rb: &Runbook, events: &[Event], journal_notes: &[String]) -> String {
    let mut out = String::new();
    let t0 = events.first().map(|e| e.ts).unwrap_or(0);
    let start = events.iter().find(|e| e.kind == "run_start");
    let end = events.iter().rev().find(|e| e.kind == "run_end");
    let _ = writeln!(out, "# Drill report: {}\n", text(&rb.meta.title));
    if let Some(st) = start {
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
        let _ = writeln!(out, "- Source: {}", text(&s(&st.detail["source"])));
        let _ = writeln!(
            out,
            "- Mode: {}",
            if st.detail["write"] == true {
                "live (--write)"
            } else {
                "dry run (no --write): no change was made"
            }
        );
        if let Some(p) = st.detail["params"].as_object() {
            let ps: Vec<String> = p
                .iter()
                .map(|(k, v)| format!("{}={}", text(k), text(&s(v))))
                .collect();
            let _ = writeln!(out, "- Parameters: {}", ps.join(", "));
        }
    }
    for n in journal_notes {
        let _ = writeln!(out, "- Journal: {}", text(n));
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "## Result\n");
    match end {
        Some(e) => {
            let d = &e.detail;
            let _ = writeln!(
                out,
                "- Outcome: **{}**{}",
                text(&s(&d["outcome"])),
                match d["reason"].as_str() {
                    Some(r) => format!(" — {}", text(r)),
                    None => String::new(),
                }
            );
            let secs = |k: &str| d[k].as_f64().map(|x| fmt_dur((x * 1000.0) as i64));
            match (secs("rto_seconds"), secs("rto_target_seconds")) {
                (Some(r), Some(t)) => {
                    let pass = if d["rto_met"] == true { "PASS" } else { "FAIL" };
                    let _ = writeln!(out, "- RTO: **{r}** against a target of {t}: **{pass}**");
                }
                (Some(r), None) => {
                    let _ = writeln!(out, "- RTO: **{r}** (no target)");
                }
                (None, _) => {
                    let _ = writeln!(out, "- RTO: not measured (a marker was not reached)");
                }
            }
            match secs("ttd_seconds") {
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
    let notes: Vec<&Event> = events.iter().filter(|e| e.kind == "note").collect();
    let _ = writeln!(out, "\n## Notes\n");
    if notes.is_empty() {
        let _ = writeln!(out, "(none)");
    }
    for n in notes {
        let _ = writeln!(
            out,
            "- {} {} {}: {}",
            rel(n.ts, t0),
            code(n.step.as_deref().unwrap_or("-")),
            text(n.operator.as_deref().unwrap_or("")),
            text(n.detail["text"].as_str().unwrap_or(""))
        );
    }
    let stops: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind == "stop_condition")
        .collect();
    let _ = writeln!(out, "\n## Stop conditions\n");
    if stops.is_empty() {
        let _ = writeln!(out, "None fired.");
    }
    for st in stops {
        let _ = writeln!(
            out,
            "- {} alarm {} {}{} → {}",
            rel(st.ts, t0),
            code(&s(&st.detail["alarm"])),
            text(&s(&st.detail["state"])),
            if st.detail["from_history"] == true {
                " (seen in alarm history)"
            } else {
                ""
            },
            text(&s(&st.detail["action"]))
        );
    }
    let _ = writeln!(out, "\n## Follow-ups\n");
    let mut follow = vec![];
    for e in events {
        match e.kind.as_str() {
            "timeout" => follow.push(format!(
                "Step {} timed out: find out why it did not converge.",
                code(e.step.as_deref().unwrap_or("?"))
            )),
            "error" => follow.push(format!(
                "Step {} failed: {}",
                code(e.step.as_deref().unwrap_or("?")),
                text(&s(&e.detail["error"]))
            )),
            "warning" => follow.push(text(&s(&e.detail["message"]))),
            _ => {}
        }
    }
    if let Some(e) = end {
        if e.detail["rto_met"] == false {
            follow.push("RTO missed its target: review capacity headroom, health-check grace and scaling speed.".into());
        }
        if rb.meta.timeline.ttd_marker.is_some()
            && e.detail["ttd_seconds"].is_null()
            && e.detail["outcome"] == "completed"
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
