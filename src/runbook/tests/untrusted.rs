//! Printers and the report sanitize untrusted text.

use super::validation::SCALE;
use super::*;

#[test]
fn printers_sanitize_untrusted_text() {
    use crate::cli::Format;
    let hostile = SCALE
        .replace(
            "title = \"S\"",
            "title = \"\\u001b[2Jpwned \\u001b]52;c;ZWNobw==\\u0007\"",
        )
        .replace("## Scale {#scale}", "## Scale \u{1b}[31mred {#scale}")
        .replace(
            "type = \"int\"",
            "type = \"int\"\nprompt = \"\\u001b]0;title\\u0007count\"",
        );
    let rb = parse(&hostile, "h.runbook.md").unwrap();
    let lib = Library {
        runbooks: vec![rb.clone()],
        problems: vec![LoadProblem {
            origin: "x".into(),
            error: "x.runbook.md:1: bad \u{1b}[2J".into(),
        }],
    };
    let l = commands::list(&lib, Format::Text);
    assert!(l.stdout.contains("pwned"), "{}", l.stdout);
    assert!(
        !l.stdout.contains('\u{1b}') && !l.stdout.contains('\u{7}'),
        "{:?}",
        l.stdout
    );
    assert!(!l.stderr.contains('\u{1b}'), "{:?}", l.stderr);
    let show = commands::show_text(&rb);
    assert!(
        show.contains("pwned") && show.contains("count") && show.contains("red"),
        "{show}"
    );
    assert!(
        !show.chars().any(|c| c.is_control() && c != '\n'),
        "{show:?}"
    );
    let v = commands::validate(&lib, &[]);
    assert!(!v.stdout.contains('\u{1b}'), "{:?}", v.stdout);
    // The report: operator, parameters, notes, alarms; Markdown kept whole.
    let ev = |seq: u64, kind: &str, step: Option<&str>, detail: serde_json::Value| Event {
        ts: 1000 * seq as i64,
        wall: "2026-01-01T00:00:00Z".into(),
        seq,
        step: step.map(str::to_string),
        body: crate::runbook::events::Body::from_parts(kind.into(), detail),
        aws_request_id: None,
        operator: Some("mallory\u{1b}]52;c;cm0gLXJm\u{7}".into()),
    };
    let events = vec![
        ev(
            1,
            "run_start",
            None,
            serde_json::json!({"runbook": "s", "source": "demo:\u{1b}[2J", "write": true,
            "params": {"cluster": "prod\u{1b}]52;c;eA==\u{7}", "service": "a|b\n# injected", "n": 3}}),
        ),
        ev(
            2,
            "step_start",
            Some("scale"),
            serde_json::json!({"title": "Scale | \u{1b}[31mnow\nnext"}),
        ),
        ev(
            3,
            "note",
            Some("scale"),
            serde_json::json!({"text": "line one\nline | two \u{1b}[2J"}),
        ),
        ev(
            4,
            "stop_condition",
            Some("scale"),
            serde_json::json!({"alarm": "a`b\u{1b}[1m", "state": "ALARM", "action": "abort"}),
        ),
        ev(
            5,
            "run_end",
            None,
            serde_json::json!({"outcome": "aborted", "reason": "because\u{1b}[2J"}),
        ),
    ];
    let md = report::render_with(
        &rb,
        &events,
        &["j.jsonl:9: the journal's last line was cut".into()],
    );
    assert!(!md.contains('\u{1b}') && !md.contains('\u{7}'), "{md:?}");
    assert!(md.contains("operator mallory"), "{md}");
    // Markdown syntax in values is escaped (`\|`, `\#`): it renders as text.
    assert!(md.contains("service=a\\|b / \\# injected"), "{md}");
    assert!(!md.lines().any(|l| l.starts_with("# injected")), "{md}");
    let row = md.lines().find(|l| l.contains("step: Scale")).unwrap();
    assert_eq!(row, "| T+00:00:01 | scale | step: Scale \\| now / next |");
    assert!(md.contains("line one / line \\| two"), "{md}");
    assert!(md.contains("alarm ``a`b`` ALARM"), "{md}");
    assert!(
        md.contains("- Journal: j.jsonl:9: the journal's last line was cut"),
        "{md}"
    );
}
