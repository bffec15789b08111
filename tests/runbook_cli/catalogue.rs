use super::*;

#[test]
fn list_json_contract() {
    let d = tempfile::tempdir().unwrap();
    let out = ecsdeck(d.path(), &["runbook", "list", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let ids: Vec<&str> = v["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "scale-out",
            "rollback",
            "gameday-az-outage",
            "gameday-task-crash",
            "dr-region-failover",
            "dr-region-failback"
        ]
    );
    for r in v["runbooks"].as_array().unwrap() {
        assert!(r["title"].is_string() && r["kind"].is_string());
    }
}

#[test]
fn validate_names_file_and_line_and_exits_1() {
    let d = tempfile::tempdir().unwrap();
    let out = ecsdeck(d.path(), &["runbook", "validate"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let bad = d.path().join("bad.runbook.md");
    std::fs::write(
        &bad,
        "+++\nid = \"bad\"\ntitle = \"Bad\"\nkind = \"gameday\"\n+++\n\n## One {#one}\n```verify\nsource = \"ecs.service\"\nop = \">=\"\nvalue = 1\ntimeout = \"soon\"\n```\n",
    )
    .unwrap();
    let out = ecsdeck(d.path(), &["runbook", "validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bad.runbook.md:12: `timeout`"), "{text}");
    // A user runbook directory is validated with the embedded ones.
    let out = ecsdeck(
        d.path(),
        &[
            "--runbooks",
            d.path().to_str().unwrap(),
            "runbook",
            "validate",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn user_runbook_overrides_an_embedded_one() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("mine.runbook.md"),
        "+++\nid = \"scale-out\"\ntitle = \"Our own scale-out\"\nkind = \"operational\"\n+++\n\n## Read {#read}\nDo it by hand.\n",
    )
    .unwrap();
    // <data dir>/runbooks is read by default.
    let out = ecsdeck(d.path(), &["runbook", "list", "--format", "json"]);
    let v = json(&out);
    let so = v["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "scale-out")
        .unwrap();
    assert_eq!(so["title"], "Our own scale-out");
}

fn validate_one(d: &Path, text: &str) -> (Option<i32>, String) {
    let p = write_runbook(&d.join("check"), "x.runbook.md", text);
    let out = ecsdeck(d, &["runbook", "validate", p.to_str().unwrap()]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn validate_refuses_fence_typos_missing_arm_phrases_and_negative_counts() {
    let d = tempfile::tempdir().unwrap();
    let (code, text) = validate_one(d.path(), SCALE_RB);
    assert_eq!(code, Some(0), "{text}");
    for (from, to, want) in [
        (
            "```checkpoint",
            "```checkpiont",
            "x.runbook.md:19: unknown block type \"checkpiont\"",
        ),
        (
            "```checkpoint",
            "```bogus",
            "x.runbook.md:19: unknown block type \"bogus\"",
        ),
        (
            "arm_phrase = \"go\"\n",
            "",
            "x.runbook.md:14: `safety.arm_phrase`: missing",
        ),
        (
            "arm_phrase = \"go\"",
            "arm_phrase = \"\"",
            "x.runbook.md:15: `safety.arm_phrase`: is blank",
        ),
        (
            "desired = \"${param.n}\"",
            "desired = -2",
            "x.runbook.md:27: `desired`: -2 is negative",
        ),
        (
            "arm_phrase = \"go\"",
            "arm_phrase = \"go\"\nmax_scale_factor = -1.5",
            "x.runbook.md:16: `safety.max_scale_factor`: -1.5 is not a factor",
        ),
        (
            "desired = \"${param.n}\"",
            "desired = \"${param.n\"",
            "x.runbook.md:27: unclosed `${` in \"${param.n\": end the variable with `}`",
        ),
    ] {
        assert!(SCALE_RB.contains(from), "{from}");
        let (code, text) = validate_one(d.path(), &SCALE_RB.replacen(from, to, 1));
        assert_eq!(code, Some(1), "{to}: {text}");
        assert!(text.contains(want), "{to}: want {want:?} in {text:?}");
        assert_eq!(text.lines().count(), 1, "one line: {text:?}");
    }
    let (_, text) = validate_one(
        d.path(),
        &SCALE_RB.replacen("```checkpoint", "```checkpiont", 1),
    );
    assert!(
        text.trim_end().ends_with("did you mean checkpoint?"),
        "{text}"
    );
    // A BOM is no error.
    let (code, text) = validate_one(d.path(), &format!("\u{feff}{SCALE_RB}"));
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn printers_sanitize_hostile_titles_operators_and_params() {
    let d = tempfile::tempdir().unwrap();
    let hostile = SCALE_RB
        .replace(
            "title = \"Mine\"",
            "title = \"\\u001b[2J\\u001b[Hpwned \\u001b]52;c;ZWNobyBoaQ==\\u0007\"",
        )
        .replace("## Scale {#scale}", "## Scale \\u001b[31m {#scale}")
        .replace(
            "type = \"int\"",
            "type = \"int\"\nprompt = \"\\u001b]0;t\\u0007count\"",
        );
    write_runbook(&d.path().join("runbooks"), "mine.runbook.md", &hostile);
    let no_esc = |what: &str, out: &Output| {
        assert!(
            !out.stdout.contains(&0x1b) && !out.stdout.contains(&0x07),
            "{what}: {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!out.stderr.contains(&0x1b), "{what}: stderr");
    };
    let out = ecsdeck(d.path(), &["runbook", "list"]);
    assert_eq!(out.status.code(), Some(0));
    no_esc("list", &out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("mine                   operational  pwned")
    );
    let out = ecsdeck(d.path(), &["runbook", "show", "mine"]);
    no_esc("show", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("— pwned"));
    let out = ecsdeck(d.path(), &["runbook", "validate"]);
    no_esc("validate", &out);
    // A run whose operator and parameters carry OSC 52 (clipboard write).
    let out = ecsdeck(
        d.path(),
        &[
            "--demo",
            "--write",
            "runbook",
            "run",
            "mine",
            "--yes",
            "--operator",
            "mallory\u{1b}]52;c;cm0gLXJmIH4=\u{7}",
            "--param",
            "cluster=prod\u{1b}]52;c;eA==\u{7}",
            "--param",
            "service=api|x",
            "--param",
            "n=7",
        ],
    );
    no_esc("run (text)", &out);
    let text = String::from_utf8_lossy(&out.stdout);
    let run_id = text
        .lines()
        .find_map(|l| l.strip_prefix("journal: "))
        .and_then(|p| Path::new(p.trim()).parent())
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| panic!("no journal line in {text}"));
    let out = ecsdeck(d.path(), &["runbook", "report", &run_id]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    no_esc("report", &out);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("operator mallory"), "{md}");
    assert!(md.contains("cluster=prod"), "{md}");
    let report = std::fs::read(d.path().join("runs").join(&run_id).join("report.md")).unwrap();
    assert!(!report.contains(&0x1b), "report.md is sanitized too");
}

#[test]
fn a_fifo_and_a_dev_zero_link_in_the_runbook_dir_do_not_hang_list() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("runbooks");
    write_runbook(&dir, "mine.runbook.md", SCALE_RB);
    mkfifo(&dir.join("fifo.runbook.md"));
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.runbook.md")).unwrap();
    let out = ecsdeck_within(d.path(), &["runbook", "list", "--format", "json"], 20);
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    let ids: Vec<&str> = v["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"mine") && ids.contains(&"scale-out"),
        "{ids:?}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().any(|l| l.starts_with("ecsdeck: ")
            && l.ends_with("fifo.runbook.md: not a regular file (a FIFO); refusing to read it")),
        "{err}"
    );
    assert!(
        err.lines().any(|l| l.ends_with(
            "zero.runbook.md: not a regular file (a character device); refusing to read it"
        )),
        "{err}"
    );
    let out = ecsdeck_within(d.path(), &["runbook", "validate"], 20);
    assert_eq!(out.status.code(), Some(1));
    // An answers file that is a FIFO is refused, not waited on.
    let fifo = d.path().join("answers.toml");
    mkfifo(&fifo);
    let out = ecsdeck_within(
        d.path(),
        &[
            "--demo",
            "runbook",
            "run",
            "mine",
            "--answers",
            fifo.to_str().unwrap(),
            "--param",
            "cluster=prod",
            "--param",
            "service=api",
            "--param",
            "n=3",
        ],
        20,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file (a FIFO)"));
}
