//! The journal's JSONL is a contract: journals written before events were
//! typed (tests/fixtures/journals, from real `--demo` runs of the built-in
//! runbooks) load, re-serialize to the same line, and re-render the same
//! report; kinds this version does not know are kept and shown.

use std::path::{Path, PathBuf};

use super::super::events::{Body, Event};
use super::super::{Library, journal, report};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/journals")
}

/// Every `*.jsonl` fixture with its expected report (when there is one).
fn journals() -> Vec<(PathBuf, Option<String>)> {
    let mut out: Vec<(PathBuf, Option<String>)> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .map(|p| {
            let md = std::fs::read_to_string(p.with_extension("report.md")).ok();
            (p, md)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn old_journals_reserialize_byte_for_byte() {
    let all = journals();
    assert!(all.len() >= 12, "fixtures missing: {}", all.len());
    let mut kinds = std::collections::BTreeSet::new();
    for (path, _) in &all {
        let text = std::fs::read_to_string(path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let e: Event = serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("{}:{}: {err}", path.display(), n + 1));
            let again = crate::sanitize::json::to_string(&e).unwrap();
            assert_eq!(again, line, "{}:{}", path.display(), n + 1);
            if path.ends_with("future-kinds.jsonl") {
                continue;
            }
            assert!(
                !matches!(e.body, Body::Other { .. }),
                "{}:{}: {} did not load as its typed kind",
                path.display(),
                n + 1,
                e.kind()
            );
            kinds.insert(e.kind().to_string());
        }
    }
    // The real runs cover most kinds (the rest are built by the engine tests).
    for k in [
        "run_start",
        "param",
        "step_start",
        "api_call",
        "poll",
        "condition_met",
        "checkpoint_response",
        "confirmation",
        "dry_run",
        "marker",
        "no_change",
        "note",
        "save",
        "sustain_start",
        "sustain_end",
        "blocked",
        "abort",
        "warning",
        "step_end",
        "run_end",
        "armed",
    ] {
        assert!(kinds.contains(k), "no fixture has a {k} event");
    }
}

#[test]
fn old_journals_render_the_same_report() {
    let lib = Library::load(&[]);
    let mut n = 0;
    for (path, md) in journals() {
        let Some(md) = md else { continue };
        let events = journal::read(&path).unwrap();
        let id = events
            .iter()
            .find_map(|e| match &e.body {
                Body::RunStart(s) => Some(s.runbook.clone()),
                _ => None,
            })
            .unwrap();
        let rb = lib.get(&id).unwrap();
        assert_eq!(report::render(rb, &events), md, "{}", path.display());
        n += 1;
    }
    assert!(n >= 12, "{n} reports compared");
}

#[test]
fn unknown_kinds_are_kept_and_shown() {
    let path = fixtures().join("future-kinds.jsonl");
    let events = journal::read(&path).unwrap();
    assert_eq!(events.len(), 4);
    // A kind this version does not know, kept with its detail.
    match &events[1].body {
        Body::Other { kind, detail } => {
            assert_eq!(kind, "chaos_probe");
            assert_eq!(detail["nested"]["a"][0], true);
        }
        b => panic!("{b:?}"),
    }
    assert_eq!(events[1].aws_request_id.as_deref(), Some("req-1"));
    // A known kind whose detail is of the wrong type (`marker` with a numeric name) and an
    // event without a detail object: kept as written, not an error.
    assert!(matches!(&events[2].body, Body::Other { kind, .. } if kind == "marker"));
    assert!(matches!(&events[3].body, Body::Other { kind, .. } if kind == "heartbeat"));
    let lib = Library::load(&[]);
    let md = report::render(lib.get("scale-out").unwrap(), &events);
    assert!(md.contains("event \"chaos_probe\""), "{md}");
    assert!(md.contains("event \"heartbeat\""), "{md}");
}

#[test]
fn typed_events_write_the_same_detail_as_before() {
    // Shapes that only the engine tests produce, checked against the JSON
    // the untyped journal wrote for them.
    let cases = [
        (
            "step_end",
            r#"{"interrupted":true,"next":null,"state":"failed"}"#,
        ),
        ("timeout", r#"{"after_ms":600000,"then":"Abort"}"#),
        ("error", r#"{"error":"boom","then":{"Goto":"cleanup"}}"#),
        ("cleanup", r#"{"steps":["restore"]}"#),
        (
            "stop_condition",
            r#"{"action":"abort","alarm":"prod-api-5xx","from_history":false,"reason":"Threshold crossed","state":"ALARM"}"#,
        ),
        (
            "api_call",
            r#"{"call":null,"error":null,"ok":true,"phase":"after","request_ids":[],"sweep":true}"#,
        ),
        (
            "api_call",
            r#"{"call":{"api":"ForceNewDeployment","target":{"cluster":"prod","service":"api"}},"error":"throttled","ok":false,"phase":"after"}"#,
        ),
        (
            "api_call",
            r#"{"call":{"api":"ResolveRevision","current":"td:1","target":{"cluster":"prod","region":"us-west-2","service":"api"}},"ok":true,"output":null,"phase":"after","request_ids":[]}"#,
        ),
        ("resume", r#"{"from_seq":null}"#),
    ];
    for (kind, detail) in cases {
        let v: serde_json::Value = serde_json::from_str(detail).unwrap();
        let body = Body::from_parts(kind.into(), v.clone());
        assert!(!matches!(body, Body::Other { .. }), "{kind}: {detail}");
        assert_eq!(body.kind(), kind);
        assert_eq!(serde_json::to_string(&body.detail()).unwrap(), detail);
    }
}
