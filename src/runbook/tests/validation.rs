//! Parser refusals: fences, arm phrases, counts, variables, unreadable files.

use super::*;

#[test]
fn unknown_fence_tags_are_errors_with_file_and_line() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "```verify",
            "```verfiy",
            "t.runbook.md:20: unknown block type \"verfiy\": a fenced block is `action`, `verify`, `checkpoint` or `note` (text shown as is) — did you mean verify?",
        ),
        (
            "```action",
            "```Action",
            "t.runbook.md:14: unknown block type \"Action\"",
        ),
        (
            "```verify",
            "```bogus",
            "t.runbook.md:20: unknown block type \"bogus\"",
        ),
        (
            "```verify",
            "```",
            "t.runbook.md:20: a fenced block without a type",
        ),
        (
            "## Two {#two}\n",
            "## Two {#two}\n```sh\necho hi\n```\n",
            "t.runbook.md:20: unknown block type \"sh\"",
        ),
        (
            "+++\n\n## One",
            "+++\n\n```text\nintro\n```\n\n## One",
            "t.runbook.md:13: unknown block type \"text\"",
        ),
    ];
    for (from, to, want) in cases {
        let got = bad(from, to);
        assert!(got.starts_with(want), "{to:?}: want {want:?}, got {got:?}");
    }
    assert!(!bad("```verify", "```bogus").contains("did you mean"));
    // The issue's case: a checkpoint typo in the shipped GameDay is an error
    // on the fence's line, not a read step that lets the run go on.
    let text = embedded("gameday-az-outage.runbook.md");
    let line = text.lines().position(|l| l == "```checkpoint").unwrap() + 1;
    let e = parse(
        &text.replacen("```checkpoint", "```checkpiont", 1),
        "g.runbook.md",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with(&format!(
            "g.runbook.md:{line}: unknown block type \"checkpiont\""
        )),
        "{e}"
    );
    assert!(e.ends_with("did you mean checkpoint?"), "{e}");
    // `note` is text shown as is: part of the step's prose, not its block.
    let rb = parse(
        &GOOD.replacen(
            "## Two {#two}\n",
            "## Two {#two}\n```note\nrun `aws ecs describe-services`\n```\n",
            1,
        ),
        "t",
    )
    .unwrap();
    assert_eq!(rb.steps[1].kind(), "verify");
    assert!(
        rb.steps[1].body.contains("describe-services"),
        "{}",
        rb.steps[1].body
    );
}

pub(super) const SCALE: &str = r#"+++
id = "s"
title = "S"
kind = "operational"
[params.cluster]
type = "string"
required = true
[params.service]
type = "string"
required = true
[params.n]
type = "int"
required = true
[safety]
arm_phrase = "go"
+++

## Scale {#scale}
```action
op = "ecs.scale"
desired = "${param.n}"
```
"#;

#[test]
fn mutating_runbooks_need_an_arm_phrase() {
    assert!(parse(SCALE, "s.runbook.md").is_ok());
    let e = parse(&SCALE.replace("arm_phrase = \"go\"\n", ""), "s.runbook.md")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("s.runbook.md:14: `safety.arm_phrase`: missing, and this runbook has mutating steps (step scale)"),
        "{e}"
    );
    let e = parse(
        &SCALE.replace("[safety]\narm_phrase = \"go\"\n", ""),
        "s.runbook.md",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`safety.arm_phrase`: missing"), "{e}");
    let e = parse(&SCALE.replace("\"go\"", "\"  \""), "s.runbook.md")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("s.runbook.md:15: `safety.arm_phrase`: is blank"),
        "{e}"
    );
    // Read-only runbooks need none.
    assert!(parse(GOOD, "t").unwrap().meta.safety.arm_phrase.is_none());
    // A phrase that is empty once filled in refuses to arm.
    let text = SCALE
        .replace("arm_phrase = \"go\"", "arm_phrase = \"${param.p}\"")
        .replace(
            "[safety]",
            "[params.p]\ntype = \"string\"\ndefault = \"\"\n[safety]",
        );
    let rb = parse(&text, "s").unwrap();
    // staging/api: no auto scaling, so desiredCount is the way to scale.
    let r = run(
        rb,
        sim_at("steady", 60_000),
        &[("cluster", "staging"), ("service", "api"), ("n", "3")],
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    assert!(
        r.summary
            .reason
            .as_deref()
            .unwrap()
            .contains("arm phrase is empty"),
        "{:?}",
        r.summary.reason
    );
    assert!(kinds(&r.events, "api_call").is_empty(), "nothing changed");
}

#[test]
fn negative_counts_and_factors_are_refused() {
    let lit = |from: &str, to: &str| {
        parse(&SCALE.replacen(from, to, 1), "s.runbook.md")
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string())
    };
    let e = lit("desired = \"${param.n}\"", "desired = -1");
    assert_eq!(
        e,
        "s.runbook.md:21: `desired`: -1 is negative: a task count is 0 or more"
    );
    let e = lit("desired = \"${param.n}\"", "desired = \"-2\"");
    assert!(
        e.starts_with("s.runbook.md:21: `desired`: -2 is negative"),
        "{e}"
    );
    let e = lit("desired = \"${param.n}\"", "desired = \"many\"");
    assert!(e.contains("is not a task count"), "{e}");
    let e = lit(
        "arm_phrase = \"go\"",
        "arm_phrase = \"go\"\nmax_scale_factor = -3",
    );
    assert!(
        e.starts_with("s.runbook.md:16: `safety.max_scale_factor`: -3 is not a factor"),
        "{e}"
    );
    let e = lit(
        "arm_phrase = \"go\"",
        "arm_phrase = \"go\"\nmax_scale_factor = nan",
    );
    assert!(e.contains("is not a factor"), "{e}");
    assert_eq!(
        lit(
            "arm_phrase = \"go\"",
            "arm_phrase = \"go\"\nmax_scale_factor = 3"
        ),
        ""
    );
    let e = lit(
        "op = \"ecs.scale\"\ndesired = \"${param.n}\"",
        "op = \"autoscaling.set_capacity\"\nmin = -4",
    );
    assert!(e.contains("`min`: -4 is negative"), "{e}");
    // From a parameter: refused when the parameters are bound.
    let rb = parse(SCALE, "s").unwrap();
    let given = |n: &str| {
        [("cluster", "prod"), ("service", "api"), ("n", n)]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let e = bind_params(&rb, &given("-3")).unwrap_err();
    assert_eq!(
        e,
        "--param n=-3: negative, and step scale uses it as `desired` (a task count is 0 or more)"
    );
    assert!(bind_params(&rb, &given("3")).is_ok());
    // From an expression: refused when the step plans its call.
    let rb = parse(&SCALE.replace("\"${param.n}\"", "\"-${param.n}\""), "s").unwrap();
    let r = run(
        rb,
        sim_at("steady", 60_000),
        &[("cluster", "prod"), ("service", "api"), ("n", "3")],
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(r.summary.outcome, Outcome::Failed);
    let reason = r.summary.reason.clone().unwrap();
    assert!(reason.contains("`desired` = -3 is negative"), "{reason}");
    assert!(kinds(&r.events, "api_call").is_empty());
    // Too large for ECS's 32-bit count: refused, not wrapped around.
    let rb = parse(SCALE, "s").unwrap();
    let r = run(
        rb,
        sim_at("steady", 60_000),
        &[("cluster", "prod"), ("service", "api"), ("n", "4294967297")],
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(r.summary.outcome, Outcome::Failed);
    assert!(
        r.summary.reason.as_deref().unwrap().contains("too large"),
        "{:?}",
        r.summary.reason
    );
}

#[test]
fn a_sustain_needs_an_az() {
    let text = SCALE.replace(
        "op = \"ecs.scale\"\ndesired = \"${param.n}\"",
        "op = \"ecs.stop_tasks\"\nselect = \"all\"\nsustain = \"5m\"",
    );
    let e = parse(&text, "s.runbook.md").unwrap_err().to_string();
    assert!(
        e.starts_with("s.runbook.md:22: `sustain`: `sustain` keeps an AZ impaired: it needs `az`"),
        "{e}"
    );
}

#[test]
fn an_unclosed_variable_is_one_line_naming_file_and_line() {
    let e = parse(
        &SCALE.replace("\"${param.n}\"", "\"${param.n\""),
        "s.runbook.md",
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "s.runbook.md:21: unclosed `${` in \"${param.n\": end the variable with `}`"
    );
    // In a prompt of a multi-line block, the line is the string's.
    let e = bad(
        "timeout = \"1m\"\n",
        "timeout = \"1m\"\n[[all]]\nsource = \"ecs.service\"\nselect = \"runningCount\"\nop = \">=\"\nvalue = \"${save.s\"\n",
    );
    assert!(e.starts_with("t.runbook.md:30: unclosed"), "{e}");
    // Front matter and prose, too.
    let e = parse(
        &SCALE.replace("arm_phrase = \"go\"", "arm_phrase = \"${param.service\""),
        "s.runbook.md",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("s.runbook.md:15: unclosed"), "{e}");
    let e = parse(
        &SCALE.replace(
            "## Scale {#scale}\n",
            "## Scale {#scale}\nScale to ${param.n now.\n",
        ),
        "s.runbook.md",
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("s.runbook.md:19: unclosed"), "{e}");
    // No Rust struct in any of them.
    for bad in ["Action {", "Some(", "String(\""] {
        assert!(!e.contains(bad), "{e}");
    }
    // An unknown variable in a block names its line, not the step's.
    let e = parse(
        &SCALE.replace("\"${param.n}\"", "\"${param.m}\""),
        "s.runbook.md",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("s.runbook.md:21: unknown variable ${param.m}"),
        "{e}"
    );
}

#[test]
fn a_bom_is_ignored() {
    let rb = parse(&format!("\u{feff}{GOOD}"), "t").unwrap();
    assert_eq!(rb.steps.len(), 2);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("b.runbook.md");
    std::fs::write(&p, format!("\u{feff}{GOOD}")).unwrap();
    assert_eq!(load_file(&p).unwrap().meta.id, "t");
}

#[test]
fn a_parameter_given_twice_is_refused() {
    use crate::runbook::engine::collect_params;
    let kv = |k: &str, v: &str| (k.to_string(), v.to_string());
    let e = collect_params(&[kv("target", "3"), kv("cluster", "prod"), kv("target", "30")])
        .unwrap_err();
    assert_eq!(
        e,
        "--param target is given twice (target=3 and target=30): pass it once"
    );
    assert!(collect_params(&[kv("target", "3"), kv("target", "3")]).is_err());
    let m = collect_params(&[kv("a", "1"), kv("b", "2")]).unwrap();
    assert_eq!(m.len(), 2);
}

#[test]
fn unreadable_runbook_files_are_problems_not_hangs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.runbook.md"), SCALE).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.runbook.md")).unwrap();
    let fifo = dir.path().join("fifo.runbook.md");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    std::fs::create_dir(dir.path().join("dir.runbook.md")).unwrap();
    let t = std::time::Instant::now();
    let lib = Library::load(&[dir.path().to_path_buf()]);
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    assert!(lib.get("s").is_some(), "the good one is listed");
    let errs: Vec<&str> = lib.problems.iter().map(|p| p.error.as_str()).collect();
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(
        errs.iter()
            .any(|e| e
                .ends_with("fifo.runbook.md: not a regular file (a FIFO); refusing to read it")),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.ends_with(
            "zero.runbook.md: not a regular file (a character device); refusing to read it"
        )),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("dir.runbook.md: not a regular file (a directory)")),
        "{errs:?}"
    );
}

// ------------------------------------------------------------ resume rebuilds
