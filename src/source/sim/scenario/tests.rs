use super::*;

const BASE: &str = r#"[scenario]
name = "t"

[[clusters]]
name = "prod"

[[task_definitions]]
family = "api"
revision = 1
[[task_definitions.containers]]
name = "api"
image = "x:1"

[[services]]
cluster = "prod"
name = "api"
task_definition = "api:1"
desired = 2
"#;

#[test]
fn every_builtin_parses() {
    for n in Scenario::builtin_names() {
        let s = Scenario::builtin(n).unwrap_or_else(|e| panic!("{e}"));
        assert!(s.clusters.len() >= 2, "{n}: at least two clusters");
        let regions: std::collections::BTreeSet<_> = s
            .clusters
            .iter()
            .map(|c| {
                c.region
                    .clone()
                    .unwrap_or_else(|| s.scenario.region.clone())
            })
            .collect();
        assert_eq!(
            s.scenario.azs.len(),
            3 * regions.len(),
            "{n}: three AZs per region"
        );
    }
    assert!(Scenario::parse(BASE, "base.toml").is_ok());
}

#[test]
fn malformed_scenarios_name_file_line_and_field() {
    let cases: &[(&str, &str)] = &[
        ("cluster = \"prod\"", "cluster = \"prd\""),
        ("task_definition = \"api:1\"", "task_definition = \"api:9\""),
        ("desired = 2", "desired = 2\nmin_healthy_percent = 150"),
        ("desired = 2", "desired = 2\nmax_percent = 50"),
        ("desired = 2", "desired = 2\ncolour = \"red\""),
        ("desired = 2", "desired = \"two\""),
        (
            "desired = 2",
            "desired = 2\n\n[[events]]\nat = \"soon\"\naction = \"deploy\"",
        ),
        (
            "desired = 2",
            "desired = 2\n\n[[events]]\nat = \"1m\"\naction = \"explode\"",
        ),
        (
            "desired = 2",
            "desired = 2\n\n[[events]]\nat = \"1m\"\naction = \"impair_az\"\naz = \"mars-1a\"",
        ),
        (
            "desired = 2",
            "desired = 2\n\n[[alarms]]\nname = \"a\"\nservice = \"prod/api\"\nmetric = \"Vibes\"\nthreshold = 1",
        ),
    ];
    let want_field = [
        "services[0].cluster",
        "services[0].task_definition",
        "services[0].min_healthy_percent",
        "services[0].max_percent",
        "colour",
        "desired",
        "events[0].at",
        "events[0].action",
        "events[0].az",
        "alarms[0].metric",
    ];
    for ((from, to), field) in cases.iter().zip(want_field) {
        let text = BASE.replace(from, to);
        let e = Scenario::parse(&text, "bad.toml").unwrap_err();
        assert_eq!(e.file, "bad.toml");
        assert_eq!(e.field, field, "{e}");
        let line = text.lines().nth(e.line - 1).unwrap_or_default();
        assert!(
            line.contains(field.rsplit('.').next().unwrap())
                || line.contains("action")
                || line.contains("desired"),
            "line {} ({line:?}) should be the offending one: {e}",
            e.line
        );
    }
}

#[test]
fn unknown_builtin_lists_the_known_ones() {
    let e = Scenario::builtin("nope").unwrap_err().to_string();
    assert!(e.contains("steady") && e.contains("az-outage"), "{e}");
    assert!(e.starts_with("scenario: \"nope\" is not a built-in"), "{e}");
    assert!(!e.contains(":0:"), "no fake line: {e}");
}

/// Every numeric field is checked against its documented bound, and the
/// error names the line of the offending key (its table's line when the
/// key is missing). `(replace, with, "file:line: field")`.
#[test]
fn semantic_errors_name_the_line_of_the_key() {
    const ALARM: &str = "desired = 2\n\n[[alarms]]\nname = \"a\"\nservice = \"prod/api\"\nmetric = \"CPUUtilization\"\nthreshold = 1";
    const EVENT: &str = "desired = 2\n\n[[events]]\nat = \"1m\"";
    let d = "desired = 2";
    let alarm = |extra: &str| ALARM.replace("threshold = 1", extra);
    let event = |extra: &str| format!("{EVENT}\n{extra}");
    let cases: Vec<(&str, String, &str)> = vec![
        // services (desired is line 18 of BASE)
        (d, "desired = -1".into(), "bad.toml:18: services[0].desired: -1 is not within 0..=5000"),
        (d, "desired = 50000".into(), "bad.toml:18: services[0].desired: 50000 is not within 0..=5000: ECS's quota"),
        (d, "desired = 2\nautoscaling = { min = 5, max = 2, target = 50 }".into(), "bad.toml:19: services[0].autoscaling.max: max 2 is below min 5"),
        (d, "desired = 2\n\n[services.autoscaling]\nmin = 1\nmax = 4\ntarget = nan".into(), "bad.toml:23: services[0].autoscaling.target"),
        (d, "desired = 2\n\n[services.autoscaling]\nmin = -1\nmax = 4\ntarget = 50".into(), "bad.toml:21: services[0].autoscaling.min"),
        (d, "desired = 2\nautoscaling = { min = 1, max = 9000, target = 50 }".into(), "bad.toml:19: services[0].autoscaling.max: 9000"),
        (d, "desired = 2\nautoscaling = { min = 1, max = 2, target = 0 }".into(), "bad.toml:19: services[0].autoscaling.target"),
        (d, "desired = 2\nautoscaling = { min = 1, max = 2, target = 50, metric = \"vibes\" }".into(), "bad.toml:19: services[0].autoscaling.metric"),
        (d, "desired = 2\nautoscaling = { min = 1, max = 2, target = 50, scale_in_cooldown = -5 }".into(), "bad.toml:19: services[0].autoscaling.scale_in_cooldown"),
        (d, "desired = 2\nazs = []".into(), "bad.toml:19: services[0].azs: a service needs at least one AZ"),
        (d, "desired = 2\nazs = [\"us-east-1a\",\n  \"us-east-1a\"]".into(), "bad.toml:20: services[0].azs[1]: \"us-east-1a\" is defined twice"),
        (d, "desired = 2\nderegistration_delay = 3601".into(), "bad.toml:19: services[0].deregistration_delay"),
        (d, "desired = 2\nhealth_check_grace_period = -1".into(), "bad.toml:19: services[0].health_check_grace_period"),
        (d, "desired = 2\nbase_rps = nan".into(), "bad.toml:19: services[0].base_rps: NaN is not a number"),
        (d, "desired = 2\nbase_rps = 1e300".into(), "bad.toml:19: services[0].base_rps"),
        (d, "desired = 2\ncpu_per_rps = inf".into(), "bad.toml:19: services[0].cpu_per_rps: inf"),
        (d, "desired = 2\ncpu_per_rps = -0.5".into(), "bad.toml:19: services[0].cpu_per_rps"),
        (d, "desired = 2\ncapacity_providers = [{ provider = \"FARGATE\", weight = -1 }]".into(), "bad.toml:19: services[0].capacity_providers[0].weight"),
        (d, "desired = 2\n\n[[services]]\ncluster = \"prod\"\nname = \"api\"\ntask_definition = \"api:1\"\ndesired = 1".into(), "bad.toml:22: services[1].name: service \"prod/api\" is defined twice"),
        // alarms (threshold is line 24)
        (d, alarm("threshold = nan"), "bad.toml:24: alarms[0].threshold: NaN is not a finite threshold"),
        (d, alarm("threshold = -inf"), "bad.toml:24: alarms[0].threshold"),
        (d, alarm("threshold = 1\nevaluation_periods = 0"), "bad.toml:25: alarms[0].evaluation_periods: 0 is not within 1..=1440"),
        (d, alarm("threshold = 1\nevaluation_periods = 3\ndatapoints_to_alarm = 4"), "bad.toml:26: alarms[0].datapoints_to_alarm: 4 is not within 1..=3"),
        (d, alarm("threshold = 1\ndatapoints_to_alarm = 0"), "bad.toml:25: alarms[0].datapoints_to_alarm"),
        (d, alarm("threshold = 1\ncomparison = \"Bigger\""), "bad.toml:25: alarms[0].comparison"),
        // events ([[events]] is line 20, at line 21)
        (d, event("action = \"set_desired\"\nservice = \"prod/api\"\ncount = -3"), "bad.toml:24: events[0].count: -3 is not within 0..=5000"),
        (d, event("action = \"set_desired\"\nservice = \"prod/api\"\ncount = 50000"), "bad.toml:24: events[0].count"),
        (d, event("action = \"set_desired\"\nservice = \"prod/api\""), "bad.toml:20: events[0].count: \"set_desired\" needs count"),
        (d, event("action = \"stop_task\"\nservice = \"prod/api\"\ncount = 0"), "bad.toml:24: events[0].count: 0 is not within 1..=5000"),
        (d, event("action = \"load\"\nfactor = nan"), "bad.toml:23: events[0].factor: NaN"),
        (d, event("action = \"load\"\nfactor = 1e9"), "bad.toml:23: events[0].factor"),
        (d, event("action = \"load\""), "bad.toml:20: events[0].factor: \"load\" needs factor"),
        (d, event("action = \"impair_az\"\naz = \"us-east-1a\"\nduration = \"0s\""), "bad.toml:24: events[0].duration: \"0s\" must be longer than 0s"),
        (d, event("action = \"impair_az\"\naz = \"us-east-1a\"\nduration = \"40d\""), "bad.toml:24: events[0].duration: \"40d\" is longer than the simulator runs"),
        (d, event("action = \"release_az\"\naz = \"us-east-1a\"").replace("\"1m\"", "\"999999999999h\""), "bad.toml:21: events[0].at"),
        // load curve (appended after the service: [load] is line 20)
        (d, "desired = 2\n\n[load]\ncurve = [[\"0s\", 1.0],\n  [\"5m\", nan]]".into(), "bad.toml:22: load.curve[1][1]: NaN"),
        (d, "desired = 2\n\n[load]\ncurve = [[\"0s\", -1.0]]".into(), "bad.toml:21: load.curve[0][1]"),
        (d, "desired = 2\n\n[load]\ncurve = [[\"32d\", 1.0]]".into(), "bad.toml:21: load.curve[0][0]"),
        // scenario and task definitions
        ("name = \"t\"", "name = \"t\"\nazs = []".into(), "bad.toml:3: scenario.azs: a scenario needs at least one Availability Zone"),
        ("name = \"t\"", "name = \"t\"\nazs = [\"a\", \"\"]".into(), "bad.toml:3: scenario.azs[1]"),
        ("name = \"t\"", "name = \"t\"\nstart = \"1960-01-01T00:00:00Z\"".into(), "bad.toml:3: scenario.start"),
        ("revision = 1", "revision = 0".into(), "bad.toml:9: task_definitions[0].revision"),
        ("revision = 1", "revision = 1\ncpu = \"lots\"".into(), "bad.toml:10: task_definitions[0].cpu"),
        ("image = \"x:1\"", "image = \"x:1\"\nport = 70000".into(), "bad.toml:13: task_definitions[0].containers[0].port"),
        ("image = \"x:1\"", "image = \"x:1\"\nhealth_check_start_period = 301".into(), "bad.toml:13: task_definitions[0].containers[0].health_check_start_period"),
        ("image = \"x:1\"", "image = \"x:1\"\nmemory = 512\nmemory_reservation = 1024".into(), "bad.toml:14: task_definitions[0].containers[0].memory_reservation"),
        ("image = \"x:1\"", "image = \"x:1\"\nstop_timeout = 121".into(), "bad.toml:13: task_definitions[0].containers[0].stop_timeout"),
        (d, "desired = 2\n\n[[log_groups]]\nname = \"/ecs/api\"\nretention_days = 13".into(), "bad.toml:22: log_groups[0].retention_days: 13 is not a CloudWatch Logs retention"),
        ("name = \"prod\"", "name = \"prod\"\ndefault_capacity_providers = [{ provider = \"FARGATE\", base = 100001 }]".into(), "bad.toml:6: clusters[0].default_capacity_providers[0].base"),
    ];
    for (from, to, want) in &cases {
        assert!(BASE.contains(from), "{from}");
        let text = BASE.replacen(from, to, 1);
        let e = Scenario::parse(&text, "bad.toml")
            .err()
            .unwrap_or_else(|| panic!("accepted:\n{text}"))
            .to_string();
        assert!(e.starts_with(want), "want {want:?}\n got {e:?}\nin\n{text}");
    }
    // Inside the bounds: accepted.
    for ok in [
        "desired = 5000",
        "desired = 0",
        "desired = 2\nautoscaling = { min = 0, max = 5000, target = 50 }",
    ] {
        let text = BASE.replace(d, ok);
        assert!(Scenario::parse(&text, "ok.toml").is_ok(), "{ok}");
    }
}

#[test]
fn the_fleet_as_a_whole_is_bounded() {
    // 10 services of 5,000 each is the bound; one task more is over it.
    let mut text = BASE.replace("desired = 2", "desired = 5000");
    for i in 1..10 {
        text.push_str(&format!(
            "\n[[services]]\ncluster = \"prod\"\nname = \"s{i}\"\ntask_definition = \"api:1\"\ndesired = 5000\n"
        ));
    }
    assert!(Scenario::parse(&text, "big.toml").is_ok());
    let over = format!(
        "{text}\n[[services]]\ncluster = \"prod\"\nname = \"last\"\ntask_definition = \"api:1\"\ndesired = 1\n"
    );
    let e = Scenario::parse(&over, "big.toml").unwrap_err();
    assert_eq!(e.field, "services[10].desired", "{e}");
    assert_eq!(over.lines().nth(e.line - 1), Some("desired = 1"), "{e}");
    assert!(e.message.contains("50000"), "{e}");
    // Auto scaling maxima and set_desired events count too.
    let scaled = text.replace(
        "name = \"s1\"\ntask_definition = \"api:1\"\ndesired = 5000",
        "name = \"s1\"\ntask_definition = \"api:1\"\ndesired = 1\nautoscaling = { min = 1, max = 5000, target = 50 }",
    );
    assert!(Scenario::parse(&scaled, "big.toml").is_ok());
    let evented = format!(
        "{over}\n[[events]]\nat = \"1m\"\naction = \"set_desired\"\nservice = \"prod/last\"\ncount = 0\n"
    )
    .replace("name = \"last\"\ntask_definition = \"api:1\"\ndesired = 1", "name = \"last\"\ntask_definition = \"api:1\"\ndesired = 0");
    assert!(Scenario::parse(&evented, "big.toml").is_ok());
    let e = Scenario::parse(&evented.replace("count = 0", "count = 1"), "big.toml").unwrap_err();
    assert_eq!(e.field, "services[10].desired", "{e}");
}

#[test]
fn unreadable_files_are_refused_without_a_fake_line() {
    let e = Scenario::from_file(Path::new("/dev/zero"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "/dev/zero: not a regular file (a character device); refusing to read it"
    );
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("s.toml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let e = Scenario::from_file(&fifo).unwrap_err().to_string();
    assert!(
        e.ends_with("s.toml: not a regular file (a FIFO); refusing to read it"),
        "{e}"
    );
    let e = Scenario::from_file(&dir.path().join("none.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.ends_with("none.toml: No such file or directory (os error 2)"),
        "{e}"
    );
    assert!(!e.contains(":0:"), "{e}");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, b"[scenario]\nname = \"\xff\"\n").unwrap();
    let e = Scenario::from_file(&bad).unwrap_err().to_string();
    assert!(e.ends_with("bad.toml:2: file: not UTF-8 text"), "{e}");
}

#[test]
fn synthetic_is_large() {
    let s = Scenario::synthetic(100, 10);
    assert_eq!(s.services.len(), 100);
    assert!(s.services.iter().all(|x| x.desired == 10));
}

#[test]
fn durations_are_bounded() {
    assert_eq!(parse_duration_ms("31d"), Ok(MAX_SIM_MS));
    assert!(parse_duration_ms("31d 1ms").is_err());
    // Past i64 ms: refused, not wrapped to a negative time.
    let e = parse_duration_ms("500000000000y").unwrap_err();
    assert!(
        e.contains("not a duration") || e.contains("at most 31 days"),
        "{e}"
    );
}
