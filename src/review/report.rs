//! A review as Markdown (for people), JSON (for machines) and SARIF 2.1.0
//! (for code-scanning UIs).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{CHECKS, Pillar, Review, Severity};
use crate::model::FleetSnapshot;
use crate::sanitize::markdown::{code, text};
use crate::sanitize::sanitize;

/// Untrusted text for SARIF (JSON: the writer escapes, this keeps what a
/// code-scanning UI shows the same as the console).
fn clean(s: &str) -> String {
    sanitize(s).into_owned()
}

/// JSON contract: `findings[]` (only checks that fired) with `.id`,
/// `.severity`, `.pillar`, `.pillars`, `.title`, `.cluster`, `.service`,
/// `.resource`, `.evidence`, `.remediation`, `.fix`, `.doc_url`;
/// `not_evaluated[]` with `.id`, `.title`, `.reason`; `suppressed[]`;
/// `summary` with counts and pillar scores.
pub fn json(review: &Review, snap: &FleetSnapshot) -> Value {
    let counts = review.counts();
    let scores = review.scores();
    let by_sev = |s: Severity| review.findings.iter().filter(|f| f.severity == s).count();
    let incomplete = review.incomplete_pillars();
    json!({
        "source": { "kind": snap.source.kind, "label": snap.source.label, "region": snap.source.region },
        "at": crate::status::rfc3339(snap.at),
        "summary": {
            "services": snap.services.len(),
            "findings": review.findings.len(),
            "critical": by_sev(Severity::Critical),
            "high": by_sev(Severity::High),
            "medium": by_sev(Severity::Medium),
            "low": by_sev(Severity::Low),
            "pillars": Pillar::ALL.iter().map(|p| (p.code().to_string(), json!({
                "score": scores.get(p).copied().unwrap_or(100),
                "findings": counts.get(p).map_or(0, |m| m.values().sum::<usize>()),
                // False: some check of the pillar could not read its data,
                // so the score is an upper bound.
                "complete": !incomplete.contains(p),
            }))).collect::<serde_json::Map<String, Value>>(),
        },
        "incomplete_pillars": incomplete.iter().map(|p| p.code()).collect::<Vec<_>>(),
        "errors": snap.errors(),
        "findings": review.findings,
        "not_evaluated": review.not_evaluated,
        "suppressed": review.suppressed.iter().map(|(f, s)| {
            let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
            v["suppression"] = json!({ "reason": s.reason, "expires": s.expires, "resource": s.resource });
            v
        }).collect::<Vec<_>>(),
    })
}

/// A Markdown review in the spirit of the seed reviews. Every value from the
/// fleet or a user file is sanitized and escaped for its place: inline text
/// with [`text`], code spans with [`code`].
pub fn markdown(review: &Review, snap: &FleetSnapshot) -> String {
    let mut o = String::new();
    summary_md(&mut o, review, snap);
    plan_md(&mut o, review);
    pillars_md(&mut o, review);
    appendix_md(&mut o, review, snap);
    o
}

/// Title, source, executive summary and the pillar scores.
fn summary_md(o: &mut String, review: &Review, snap: &FleetSnapshot) {
    let scores = review.scores();
    let counts = review.counts();
    let incomplete = review.incomplete_pillars();
    let missing = review
        .not_evaluated
        .iter()
        .filter(|n| n.missing_data)
        .count();
    let _ = writeln!(o, "# ECS Well-Architected review\n");
    let _ = writeln!(
        o,
        "**Source:** {} {} ({}) · **At:** {} · **Services:** {}\n",
        text(&snap.source.kind),
        code(&snap.source.label),
        text(&snap.source.region),
        crate::status::rfc3339(snap.at),
        snap.services.len()
    );
    let _ = writeln!(o, "## Executive summary\n");
    let sev = |s: Severity| review.findings.iter().filter(|f| f.severity == s).count();
    let _ = writeln!(
        o,
        "{} findings: **{} critical**, **{} high**, {} medium, {} low. {} checks could not be evaluated from this source.\n",
        review.findings.len(),
        sev(Severity::Critical),
        sev(Severity::High),
        sev(Severity::Medium),
        sev(Severity::Low),
        review.not_evaluated.len()
    );
    if missing > 0 {
        let _ = writeln!(
            o,
            "**Incomplete:** {missing} check(s) could not read their data (see *Not evaluated*); a score marked ≤ is an upper bound.\n"
        );
    }
    let _ = writeln!(
        o,
        "| Pillar | Score | Critical | High | Medium | Low |\n|---|---:|---:|---:|---:|---:|"
    );
    for p in Pillar::ALL {
        let c = |s: Severity| counts.get(&p).and_then(|m| m.get(&s)).copied().unwrap_or(0);
        let _ = writeln!(
            o,
            "| {} | {}{}/100 | {} | {} | {} | {} |",
            p.name(),
            if incomplete.contains(&p) { "≤" } else { "" },
            scores.get(&p).copied().unwrap_or(100),
            c(Severity::Critical),
            c(Severity::High),
            c(Severity::Medium),
            c(Severity::Low)
        );
    }
    let _ = writeln!(
        o,
        "\nScores are computed: 100 − (25 × critical + 10 × high + 4 × medium + 1 × low), at least 0.\n"
    );
}

/// The findings in priority order, one line each.
fn plan_md(o: &mut String, review: &Review) {
    let _ = writeln!(o, "## Priority action plan\n");
    if review.findings.is_empty() {
        let _ = writeln!(o, "Nothing to do: no check fired.\n");
    }
    for (i, f) in review.findings.iter().enumerate() {
        let _ = writeln!(
            o,
            "{}. **{}** [{}] {} — {}: {}",
            i + 1,
            f.severity.as_str().to_uppercase(),
            f.id,
            f.title,
            code(&format!(
                "{}/{}",
                f.cluster,
                f.service.as_deref().unwrap_or("-")
            )),
            f.remediation
        );
    }
}

/// Each pillar's findings with evidence, remediation and fix.
fn pillars_md(o: &mut String, review: &Review) {
    for p in Pillar::ALL {
        let fs: Vec<_> = review.findings.iter().filter(|f| f.pillar == p).collect();
        if fs.is_empty() {
            continue;
        }
        let _ = writeln!(o, "\n## {}\n", p.name());
        for f in fs {
            let _ = writeln!(
                o,
                "### {} {} — {}/{} ({})\n",
                f.id,
                f.title,
                text(&f.cluster),
                text(f.service.as_deref().unwrap_or("-")),
                f.severity.as_str()
            );
            let _ = writeln!(o, "- Resource: {}", code(&f.resource));
            for e in &f.evidence {
                let _ = writeln!(o, "- Evidence: {}", text(e));
            }
            if !f.controls.is_empty() {
                let _ = writeln!(o, "- Controls: {}", f.controls.join(", "));
            }
            let _ = writeln!(o, "- Remediation: {}", f.remediation);
            let _ = writeln!(o, "- Fix: {}", code(&f.fix));
            let _ = writeln!(o, "- Docs: {}\n", f.doc_url);
        }
    }
}

/// Suppressed findings, checks not evaluated, data not read.
fn appendix_md(o: &mut String, review: &Review, snap: &FleetSnapshot) {
    if !review.suppressed.is_empty() {
        let _ = writeln!(o, "\n## Suppressed\n");
        for (f, s) in &review.suppressed {
            let _ = writeln!(
                o,
                "- {} {} — {}/{}: {} (until {})",
                f.id,
                f.title,
                text(&f.cluster),
                text(f.service.as_deref().unwrap_or("-")),
                text(&s.reason),
                text(&s.expires)
            );
        }
    }
    if !review.not_evaluated.is_empty() {
        let _ = writeln!(o, "\n## Not evaluated\n");
        for n in review.not_evaluated.iter().filter(|n| n.missing_data) {
            let _ = writeln!(
                o,
                "- **{}** {} ({}, data not read) on {}: {}",
                n.id,
                n.title,
                n.severity.as_str(),
                text(&n.services.join(", ")),
                text(&n.reason)
            );
        }
        for n in review.not_evaluated.iter().filter(|n| !n.missing_data) {
            if n.services.is_empty() {
                let _ = writeln!(o, "- {} {}: {}", n.id, n.title, text(&n.reason));
            } else {
                let _ = writeln!(
                    o,
                    "- {} {} on {}: {}",
                    n.id,
                    n.title,
                    text(&n.services.join(", ")),
                    text(&n.reason)
                );
            }
        }
    }
    let errors = snap.errors();
    if !errors.is_empty() {
        let _ = writeln!(o, "\n## Data not read\n");
        for e in &errors {
            let _ = writeln!(
                o,
                "- {} {} ({}): {}",
                if e.partial {
                    "partly read:"
                } else {
                    "not read:"
                },
                text(&e.kind),
                text(&e.region),
                text(&e.message)
            );
        }
    }
}

/// SARIF 2.1.0: one rule per check, one result per finding.
pub fn sarif(review: &Review) -> Value {
    let rules: Vec<Value> = CHECKS
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.title.replace(|ch: char| !ch.is_ascii_alphanumeric(), ""),
                "shortDescription": { "text": c.title },
                "help": { "text": c.remediation },
                "helpUri": c.doc_url,
                "properties": {
                    "tags": c.pillars.iter().map(|p| p.code()).collect::<Vec<_>>(),
                    "controls": crate::review::controls::of_check(c.id),
                },
            })
        })
        .collect();
    let results: Vec<Value> = review
        .findings
        .iter()
        .map(|f| {
            let level = match f.severity {
                Severity::Critical | Severity::High => "error",
                Severity::Medium => "warning",
                Severity::Low => "note",
            };
            json!({
                "ruleId": f.id,
                "ruleIndex": CHECKS.iter().position(|c| c.id == f.id).unwrap_or(0),
                "level": level,
                "message": { "text": format!("{} on {}/{}: {}", f.title, clean(&f.cluster), clean(f.service.as_deref().unwrap_or("-")), f.evidence.iter().map(|e| clean(e)).collect::<Vec<_>>().join("; ")) },
                "locations": [{
                    "logicalLocations": [{ "fullyQualifiedName": clean(&f.resource), "kind": "resource" }]
                }],
                "properties": { "severity": f.severity.as_str(), "cluster": clean(&f.cluster), "service": f.service.as_deref().map(clean), "controls": f.controls },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "ecsdeck",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}
