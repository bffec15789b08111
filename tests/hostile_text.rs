//! Issue 11, the untrusted-text part: a scenario whose names, tags, images
//! and alarms carry escape sequences, C1 controls, bidi overrides, line
//! separators, invisible characters and CJK, through every printer of
//! `ecsdeck status` and `ecsdeck review` (the real binary).

use std::process::Command;

use ecsdeck::sanitize::width;

/// Service names as the scenario spells them (TOML escapes).
const NAMES: [(&str, &str); 7] = [
    ("pay\\u202Egnp.exe", "pay\u{202e}gnp.exe"),
    ("c1\\u009B31mcsi\\u001B[2J", "c1\u{9b}31mcsi\u{1b}[2J"),
    ("line\\u2028sep\\u2029", "line\u{2028}sep\u{2029}"),
    (
        "日本語サービス決済東京リージョン本番",
        "日本語サービス決済東京リージョン本番",
    ),
    (
        "x\\n# FORGED heading\\n| a | b |\\n> [ok](https://e) `c` \\u0026#x202E;",
        "x\n# FORGED heading\n| a | b |\n> [ok](https://e) `c` &#x202E;",
    ),
    (
        "a\\u200Bp\\u200Di\\uFEFF\\U000E0041e\\u0301\\u0301🚀👍\\U0001F3FD",
        "a\u{200b}p\u{200d}i\u{feff}\u{e0041}e\u{301}\u{301}🚀👍\u{1f3fd}",
    ),
    ("LONG", "LONG"),
];

fn scenario() -> String {
    let long = format!("svc-{}", "長".repeat(150)) + &"y".repeat(150);
    let mut t = String::from(
        r#"[scenario]
name = "hostile\u001B]0;pwned\u0007\u202E"
seed = 3
start = "2026-11-23T10:00:00Z"
azs = ["us-east-1a", "us-east-1b"]

[[clusters]]
name = "prod\u001B[31m日本"
tags = { Environment = "prod\u202E", Owner = "\u001B]52;c;ZXZpbA==\u0007o\u2028wner" }

[[task_definitions]]
family = "app\u009B1m"
revision = 1
cpu = "256"
memory = "512"
tags = { Environment = "prod\u202E" }
[[task_definitions.containers]]
name = "app\u202E\u2028"
image = "evil.example/app\u001B[2J\u202E:latest"
"#,
    );
    for (i, (name, _)) in NAMES.iter().enumerate() {
        let name = if *name == "LONG" { long.as_str() } else { name };
        t.push_str(&format!(
            "\n[[services]]\ncluster = \"prod\\u001B[31m日本\"\nname = \"{name}\"\ntask_definition = \"app\\u009B1m:1\"\ndesired = {}\ntags = {{ Environment = \"prod\\u202E\", Owner = \"\\u009B2J\\u2028team\" }}\n",
            1 + i % 2
        ));
    }
    t.push_str(&format!(
        "\n[[alarms]]\nname = \"cpu\\u202E\\u009B\\u2028high\"\nservice = \"prod\\u001B[31m日本/{}\"\nmetric = \"CPUUtilization\"\nthreshold = 0\nevaluation_periods = 1\n",
        NAMES[0].0
    ));
    t
}

fn run(args: &[&str]) -> (String, i32) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.toml");
    std::fs::write(&path, scenario()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(args)
        .arg("--demo")
        .arg("--scenario")
        .arg(&path)
        .arg("--at")
        .arg("3m")
        .arg("--data-dir")
        .arg(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("run ecsdeck");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "exit {code}: {stderr}");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(!stdout.is_empty(), "{stderr}");
    (stdout, code)
}

/// No byte of the output can do anything to a terminal but print.
fn assert_tty_safe(what: &str, out: &str) {
    for (i, c) in out.char_indices() {
        let bad = (c.is_control() && c != '\n')
            || matches!(c,
                '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}'
                | '\u{2028}' | '\u{2029}' | '\u{61c}' | '\u{feff}' | '\u{e0000}'..='\u{e0fff}'
                | '\u{1f3fb}'..='\u{1f3ff}');
        assert!(
            !bad,
            "{what}: raw U+{:04X} at byte {i}: {:?}",
            c as u32,
            &out[out.floor_char_boundary(i.saturating_sub(40))..out.ceil_char_boundary(i + 40)]
        );
    }
}

#[test]
fn status_json_escapes_and_keeps_the_truth() {
    let (out, _) = run(&["status", "--format", "json"]);
    assert_tty_safe("status json", &out);
    assert!(out.contains("\\u202e") && out.contains("\\u009b") && out.contains("\\u2028"));
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    // The JSON still carries the names exactly (escaped, not sanitized).
    let names: Vec<&str> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for (_, raw) in NAMES.iter().filter(|(n, _)| *n != "LONG") {
        assert!(names.contains(raw), "{raw:?} not in {names:?}");
    }
    assert_eq!(v["source"]["label"], "hostile\u{1b}]0;pwned\u{7}\u{202e}");
    assert!(
        v["services"][0]["cluster"]
            .as_str()
            .unwrap()
            .contains('\u{1b}')
    );
}

#[test]
fn status_text_is_sanitized_and_aligned_by_display_width() {
    let (out, _) = run(&["status"]);
    assert_tty_safe("status text", &out);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("ecsdeck status · demo hostile"),
        "{}",
        lines[0]
    );
    let table = &lines[1..lines.len() - 1];
    assert_eq!(table.len(), 1 + NAMES.len(), "{out}");
    // Column starts in cells: HEALTH, CLUSTER, SERVICE, DES/RUN/PND,
    // DEPLOYMENTS, TASKS PER AZ, ALARMS.
    let starts = [0usize, 11, 28, 53, 66, 91, 112];
    let header = table[0];
    for (s, title) in starts.iter().zip([
        "HEALTH",
        "CLUSTER",
        "SERVICE",
        "DES/RUN/PND",
        "DEPLOYMENTS",
        "TASKS",
        "ALARMS",
    ]) {
        assert!(
            cells(header, *s).trim_start().starts_with(title),
            "{header}"
        );
    }
    for line in table {
        for (k, s) in starts.iter().enumerate().skip(1) {
            // A cell boundary at every column start, after a separator.
            let before = prefix(line, *s)
                .unwrap_or_else(|| panic!("no char boundary at cell {s} in {line:?}"));
            assert!(before.ends_with(' '), "column {k} of {line:?}");
            assert_eq!(width(before), *s);
        }
    }
    // The SERVICE column of every row: 24 cells, cut with `…`.
    let svc: Vec<&str> = table[1..]
        .iter()
        .map(|l| prefix(cells(l, 28), 24).unwrap())
        .collect();
    assert!(svc.iter().any(|s| s.starts_with("paygnp.exe ")), "{svc:?}");
    assert!(svc.iter().any(|s| s.starts_with("c1csi ")), "{svc:?}");
    assert!(svc.iter().any(|s| s.starts_with("line sep  ")), "{svc:?}");
    assert!(svc.contains(&"日本語サービス決済東京… "), "{svc:?}");
    assert!(svc.contains(&"x# FORGED heading| a | …"), "{svc:?}");
    assert!(
        svc.iter().any(|s| s.starts_with("apie\u{301}\u{301}🚀👍 ")),
        "{svc:?}"
    );
    assert!(svc.contains(&"svc-長長長長長長長長長… "), "{svc:?}");
    for s in &svc {
        assert_eq!(width(s), 24, "{s:?}");
    }
}

/// The part of `line` from cell `col` on.
fn cells(line: &str, col: usize) -> &str {
    &line[prefix(line, col)
        .unwrap_or_else(|| panic!("{col} in {line:?}"))
        .len()..]
}

/// The prefix of `line` that is exactly `col` cells wide, if a character
/// boundary falls there (zero-width marks stay with their base).
fn prefix(line: &str, col: usize) -> Option<&str> {
    let mut end = 0;
    let mut w = 0;
    for (i, c) in line.char_indices() {
        if w == col && width(&line[i..i + c.len_utf8()]) > 0 {
            return Some(&line[..i]);
        }
        if w > col {
            return None;
        }
        w += width(&line[i..i + c.len_utf8()]);
        end = i + c.len_utf8();
    }
    (w == col).then_some(&line[..end])
}

#[test]
fn review_json_and_sarif_escape_and_parse() {
    for format in ["json", "sarif"] {
        let (out, _) = run(&["review", "--format", format]);
        assert_tty_safe(format, &out);
        let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
        if format == "json" {
            let findings = v["findings"].as_array().unwrap();
            assert!(!findings.is_empty());
            assert!(
                findings.iter().any(|f| f["service"] == NAMES[0].1),
                "findings keep the raw name, escaped"
            );
        } else {
            assert_eq!(v["version"], "2.1.0");
            assert!(!v["runs"][0]["results"].as_array().unwrap().is_empty());
        }
    }
}

#[test]
fn review_markdown_cannot_be_forged() {
    use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
    let (md, _) = run(&["review", "--format", "md"]);
    assert_tty_safe("md", &md);
    assert!(md.starts_with("# ECS Well-Architected review"));
    for l in md.lines() {
        assert!(!l.starts_with("# FORGED") && !l.starts_with("| a"), "{l}");
    }
    // Parsed, the document has only the headings, tables and lists the
    // report writes; no link, image or HTML from the fleet.
    let mut heading: Option<(HeadingLevel, String)> = None;
    let mut headings = Vec::new();
    let mut tables = 0;
    for ev in Parser::new_ext(&md, pulldown_cmark::Options::all()) {
        match ev {
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, String::new())),
            Event::End(TagEnd::Heading(_)) => headings.extend(heading.take()),
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, h)) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::Start(Tag::Table(_)) => tables += 1,
            Event::Start(Tag::Link { .. } | Tag::Image { .. })
            | Event::Html(_)
            | Event::InlineHtml(_)
            | Event::InlineMath(_)
            | Event::DisplayMath(_) => panic!("{ev:?} in the report"),
            _ => {}
        }
    }
    assert_eq!(tables, 1, "the pillar table only");
    let h1: Vec<_> = headings
        .iter()
        .filter(|(l, _)| *l == HeadingLevel::H1)
        .collect();
    assert_eq!(h1.len(), 1, "{h1:?}");
    for (level, h) in &headings {
        if *level == HeadingLevel::H3 {
            // "### ID title — cluster/service (severity)"
            let id = h.split(' ').next().unwrap();
            assert!(
                id.len() >= 5
                    && id.contains('-')
                    && id
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'),
                "{h}"
            );
            assert!(h.ends_with(')'), "{h}");
        }
    }
    // The hostile name shows as text, whole, inside a finding heading.
    assert!(
        headings
            .iter()
            .any(|(_, h)| h.contains("x# FORGED heading| a | b |> [ok](https://e) `c` &#x202E;")),
        "{headings:?}"
    );
}
