//! DR with its traffic and data tier on the demo: Route 53 switched and
//! waited for, the global database promoted and its lag the RPO, and the
//! way back.

use super::*;
use crate::actions::SimBackend;

const OUTAGE: &[(&str, &str)] = &[
    ("cluster", "prod"),
    ("service", "api"),
    ("primary_region", "us-east-1"),
    ("standby_region", "us-west-2"),
    ("hosted_zone", "shop.example.com"),
    ("record_name", "api.shop.example.com"),
    ("global_cluster", "shop"),
];

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut p: Vec<_> = OUTAGE
        .iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .copied()
        .collect();
    p.extend_from_slice(extra);
    p
}

fn answer(sim: &Simulator) -> Vec<String> {
    let (_, sets) = sim
        .dns_records("shop.example.com.", "api.shop.example.com")
        .unwrap();
    crate::model::dns::answer(&sets)
}

fn writer(sim: &Simulator) -> Option<String> {
    sim.db_state("shop", "us-west-2").unwrap().writable_in
}

/// The change text of the run's first `api` call.
fn change_of(r: &Run, api: &str) -> String {
    kinds(&r.events, "api_call")
        .into_iter()
        .find(|e| e.detail()["call"]["api"] == api)
        .and_then(|e| e.detail()["change"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no {api} call: {:?}", step_states(&r.events)))
}

fn made(r: &Run) -> Vec<String> {
    kinds(&r.events, "api_call")
        .iter()
        .filter(|e| e.detail()["phase"] == "after" && e.detail()["ok"] == true)
        .map(|e| e.detail()["call"]["api"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_region_outage_fails_over_dns_and_data_then_fails_back() {
    let sim = sim_at("region-outage", 3 * 60_000);
    assert_eq!(
        answer(&sim),
        ["us-west-2"],
        "the health check failed it over"
    );
    assert_eq!(writer(&sim), None, "the writer's region is lost");
    let r = run(
        runbook("dr-region-failover"),
        sim,
        OUTAGE,
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?} {:?}",
        r.summary.reason,
        step_states(&r.events)
    );
    assert_eq!(r.summary.serving_region.as_deref(), Some("us-west-2"));
    assert!(r.summary.rto_seconds.is_some());
    let rpo = r.summary.rpo_seconds.expect("RPO measured");
    assert!((1.0..=3.0).contains(&rpo), "about the 2 s lag: {rpo}");
    assert_eq!(r.summary.rpo_target_seconds, Some(900.0));
    assert_eq!(r.summary.rpo_met, Some(true));
    // The change, its sync, the promotion and its completion, in order;
    // RTO ends only once all of it is done and the standby serves.
    let apis = made(&r);
    let pos = |a: &str| {
        apis.iter()
            .position(|x| x == a)
            .unwrap_or_else(|| panic!("{a}: {apis:?}"))
    };
    assert!(pos("SetCapacity") < pos("Route53Shift"));
    assert!(pos("Route53Shift") < pos("Route53ChangeStatus"));
    assert!(pos("Route53ChangeStatus") < pos("RdsPromote"));
    assert!(marker(&r, "traffic-switched") <= marker(&r, "standby-serving"));
    assert!(marker(&r, "data-promoted") <= marker(&r, "standby-serving"));
    let change = change_of(&r, "RdsPromote");
    assert!(
        change.contains("FailoverGlobalCluster") && change.contains("AllowDataLoss"),
        "the writer is lost: a failover that allows data loss: {change}"
    );
    let md = crate::runbook::report::render(&runbook("dr-region-failover"), &r.events);
    assert!(md.contains("- RPO: **"), "{md}");
    assert!(
        md.contains("(AuroraGlobalDBRPOLag) against a target of 15m00s: **PASS**"),
        "{md}"
    );
    assert!(
        md.contains("- DNS: Route 53 api.shop.example.com. A PRIMARY (set primary): alias dualstack.prod-api-alb.us-east-1.elb.amazonaws.com. (us-east-1) → alias dualstack.prod-api-alb.us-west-2.elb.amazonaws.com. (us-west-2)"),
        "{md}"
    );
    assert!(
        md.contains("- Data tier: RDS FailoverGlobalCluster shop"),
        "{md}"
    );

    let mut sim = r.backend.sim;
    assert_eq!(answer(&sim), ["us-west-2"]);
    assert_eq!(writer(&sim).as_deref(), Some("us-west-2"));
    let standby = |sim: &Simulator| {
        sim.snapshot()
            .service_in("prod/api", Some("us-west-2"))
            .unwrap()
            .desired_count
    };
    assert_eq!(standby(&sim), 6, "the standby stays scaled up");
    // us-east-1 comes back at 45m: the answer stays on the standby (the
    // PRIMARY points there now), and the old writer rejoins as a reader.
    sim.run_until(50 * 60_000);
    assert_eq!(answer(&sim), ["us-west-2"], "no flip back on its own");
    assert_eq!(writer(&sim).as_deref(), Some("us-west-2"));

    let back = run(
        runbook("dr-region-failback"),
        sim,
        &with(&[("standby_count", "0")]),
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(
        back.summary.outcome,
        Outcome::Completed,
        "{:?} {:?}",
        back.summary.reason,
        step_states(&back.events)
    );
    assert_eq!(back.summary.serving_region.as_deref(), Some("us-east-1"));
    let change = change_of(&back, "RdsPromote");
    assert!(
        change.contains("SwitchoverGlobalCluster") && !change.contains("AllowDataLoss"),
        "{change}"
    );
    let sim = back.backend.sim;
    assert_eq!(answer(&sim), ["us-east-1"]);
    assert_eq!(
        sim.db_state("shop", "us-east-1")
            .unwrap()
            .writable_in
            .as_deref(),
        Some("us-east-1")
    );
    let snap = sim.snapshot();
    let svc = snap.service_in("prod/api", Some("us-west-2")).unwrap();
    assert_eq!(
        snap.scalable_target(svc).unwrap().min_capacity,
        0,
        "back to a pilot light's floor (target tracking scales it in)"
    );
}

#[test]
fn health_check_mode_changes_no_record_and_waits_for_the_answer() {
    let r = run(
        runbook("dr-region-failover"),
        sim_at("region-outage", 3 * 60_000),
        &with(&[("dns_mode", "health-check")]),
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?}",
        r.summary.reason
    );
    assert!(
        !made(&r).contains(&"Route53Shift".to_string()),
        "{:?}",
        made(&r)
    );
    let why = kinds(&r.events, "no_change");
    assert!(
        why.iter().any(|e| e
            .detail()
            .to_string()
            .contains("its health checks fail it over")),
        "{why:?}"
    );
    assert!(marker(&r, "traffic-switched") > 0);
}

#[test]
fn a_switchover_refused_in_an_outage_keeps_the_standby_serving() {
    // A switchover needs the writer: with us-east-1 lost RDS refuses it.
    let r = run(
        runbook("dr-region-failover"),
        sim_at("region-outage", 3 * 60_000),
        &with(&[("db_failover", "switchover")]),
        true,
        &Answers::default(),
        true,
    );
    assert_ne!(r.summary.outcome, Outcome::Completed);
    let reason = r.summary.reason.clone().unwrap_or_default();
    let errors: Vec<String> = kinds(&r.events, "error")
        .iter()
        .map(|e| e.detail().to_string())
        .collect();
    assert!(
        errors.iter().any(|e| e.contains("a switchover needs it")),
        "{reason} {errors:?}"
    );
    // DNS was switched before: the standby serves and keeps its capacity.
    assert_eq!(r.summary.serving_region.as_deref(), Some("us-west-2"));
    let snap = r.backend.sim.snapshot();
    assert_eq!(
        snap.service_in("prod/api", Some("us-west-2"))
            .unwrap()
            .desired_count,
        6,
        "{:?}",
        step_states(&r.events)
    );
    assert_eq!(
        r.summary.rpo_met, None,
        "no verdict for a run that did not finish"
    );
}

#[test]
fn a_dry_run_reads_dns_and_data_but_changes_and_waits_for_nothing() {
    let r = run(
        runbook("dr-region-failover"),
        sim_at("region-outage", 3 * 60_000),
        OUTAGE,
        false,
        &Answers::default(),
        true,
    );
    let apis = made(&r);
    assert!(apis.contains(&"Route53Records".to_string()), "{apis:?}");
    assert!(apis.contains(&"RdsReplication".to_string()), "{apis:?}");
    assert!(!apis.contains(&"Route53Shift".to_string()), "{apis:?}");
    assert!(!apis.contains(&"RdsPromote".to_string()), "{apis:?}");
    assert_eq!(r.summary.rpo_seconds, None, "nothing was promoted");
    assert_eq!(r.summary.serving_region.as_deref(), Some("us-east-1"));
    // The reads with `until` after a planned change end as dry runs at
    // once instead of polling for ten minutes.
    let reads = kinds(&r.events, "api_call")
        .iter()
        .filter(|e| e.step.as_deref() == Some("db-writable") && e.detail()["phase"] == "after")
        .count();
    assert_eq!(reads, 1, "{:?}", step_states(&r.events));
}

#[test]
fn until_is_for_reads_only_and_interval_needs_it() {
    let head = "+++\nid = \"u\"\ntitle = \"u\"\nkind = \"operational\"\n[params.cluster]\ntype = \"string\"\ndefault = \"prod\"\n[params.service]\ntype = \"string\"\ndefault = \"api\"\n[safety]\narm_phrase = \"GO\"\n+++\n## s {#s}\n";
    let bad = format!(
        "{head}```action\nop = \"ecs.scale\"\ndesired = 2\nuntil = {{ select = \"x\", op = \"==\", value = 1 }}\n```\n"
    );
    let e = parse(&bad, "u.runbook.md").unwrap_err().to_string();
    assert!(
        e.contains("only a read is repeated") && e.contains("u.runbook.md:"),
        "{e}"
    );
    let bad = format!(
        "{head}```action\nop = \"route53.change_status\"\nchange_id = \"C1\"\ninterval = \"5s\"\n```\n"
    );
    let e = parse(&bad, "u.runbook.md").unwrap_err().to_string();
    assert!(e.contains("needs `until`"), "{e}");
    let bad = format!(
        "{head}```action\nop = \"route53.change_status\"\nchange_id = \"C1\"\nuntil = {{ select = \"status\", op = \"~\", value = \"INSYNC\" }}\n```\n"
    );
    assert!(parse(&bad, "u.runbook.md").is_err());
}

/// region-outage with its standby in another account (two profiles).
fn cross_account() -> Simulator {
    let text = include_str!("../../../assets/scenarios/region-outage.toml");
    let edits = [
        (
            "[[clusters]]\nname = \"prod\"\nregion = \"us-west-2\"\n",
            "[[clusters]]\nname = \"prod\"\nregion = \"us-west-2\"\naccount = \"444455556666\"\n",
        ),
        (
            "service = \"prod/api\"\nregion = \"us-west-2\"\nmetric",
            "service = \"prod/api\"\nregion = \"us-west-2\"\naccount = \"444455556666\"\nmetric",
        ),
        (
            "service = \"prod/api\"\nregion = \"us-west-2\"\n\n",
            "service = \"prod/api\"\nregion = \"us-west-2\"\naccount = \"444455556666\"\n\n",
        ),
    ];
    let mut text = text.to_string();
    for (from, to) in edits {
        assert!(
            text.contains(from),
            "region-outage.toml changed: fix this test ({from:?})"
        );
        text = text.replacen(from, to, 1);
    }
    // An Aurora global database does not span accounts: none here.
    let cut = text.find("[[databases]]").unwrap();
    let end = text[cut..].find("lag = \"2s\"").unwrap() + cut + "lag = \"2s\"".len();
    text.replace_range(cut..end, "");
    let mut sim = Simulator::new(Scenario::parse(&text, "x.toml").unwrap(), None);
    sim.run_until(3 * 60_000);
    sim
}

#[test]
fn the_standby_may_be_in_another_account() {
    let params: Vec<_> = with(&[
        ("global_cluster", ""),
        ("account", "123456789012"),
        ("standby_account", "444455556666"),
    ]);
    let r = run(
        runbook("dr-region-failover"),
        cross_account(),
        &params,
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?} {:?}",
        r.summary.reason,
        step_states(&r.events)
    );
    assert_eq!(r.summary.serving_region.as_deref(), Some("us-west-2"));
    // Every change to the standby went to its own account.
    for e in kinds(&r.events, "api_call") {
        let call = &e.detail()["call"];
        if matches!(
            call["api"].as_str(),
            Some("SetCapacity" | "Scale" | "CheckFit")
        ) {
            assert_eq!(call["target"]["account"], "444455556666", "{call}");
        }
    }
    let snap = r.backend.sim.snapshot();
    let standby = snap
        .services
        .iter()
        .find(|s| s.key() == "prod/api" && s.account == "444455556666")
        .unwrap();
    assert_eq!(standby.desired_count, 6);
    assert_eq!(answer(&r.backend.sim), ["us-west-2"]);
}

#[test]
fn an_abort_at_each_point_keeps_the_side_that_serves() {
    let answers = |extra: &str| {
        Answers::parse(
            &format!("arm_phrase = \"FAILOVER us-west-2\"\n[steps.standby-floor]\nconfirm = true\n{extra}"),
            "a.toml",
        )
        .unwrap()
    };
    let standby = |r: &Run| {
        let snap = r.backend.sim.snapshot();
        let s = snap.service_in("prod/api", Some("us-west-2")).unwrap();
        (
            snap.scalable_target(s).unwrap().min_capacity,
            s.desired_count,
        )
    };
    // At go: nothing done, nothing undone; Route 53's health checks
    // already answer the standby in this outage, and the run says so.
    let r = run(
        runbook("dr-region-failover"),
        sim_at("region-outage", 3 * 60_000),
        OUTAGE,
        true,
        &answers("[steps.go]\nchoice = \"abort\"\nnote = \"no\"\n"),
        false,
    );
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    assert_eq!(standby(&r), (0, 0));
    assert_eq!(
        r.summary.serving_region.as_deref(),
        Some("us-west-2"),
        "not the dead primary"
    );
    // The Route 53 change declined: the standby, scaled up and perhaps
    // answering already, keeps its capacity.
    let r = run(
        runbook("dr-region-failover"),
        sim_at("region-outage", 3 * 60_000),
        OUTAGE,
        true,
        &answers(
            "[steps.go]\nchoice = \"continue\"\nnote = \"go\"\n[steps.dns-switch]\nconfirm = false\n",
        ),
        false,
    );
    assert_eq!(
        r.summary.outcome,
        Outcome::Aborted,
        "{:?}",
        step_states(&r.events)
    );
    assert_eq!(standby(&r), (6, 6), "{:?}", step_states(&r.events));
    let asked = kinds(&r.events, "checkpoint_response");
    assert_eq!(
        asked.last().unwrap().step.as_deref(),
        Some("keep-serving-dns")
    );
    assert_eq!(r.summary.serving_region.as_deref(), Some("us-west-2"));
    // Not converging (investigate → abort) before the switch: the
    // standby's scale-up is undone, the primary is untouched.
    let r = run(
        runbook("dr-region-failover"),
        sim_at("region-outage", 3 * 60_000),
        &with(&[
            ("record_name", ""),
            ("hosted_zone", ""),
            ("global_cluster", ""),
        ]),
        true,
        &answers(
            "[steps.go]\nchoice = \"continue\"\nnote = \"go\"\n[steps.switch]\nchoice = \"abort\"\nnote = \"DNS by hand failed\"\n[steps.undo-floor]\nconfirm = true\n",
        ),
        false,
    );
    assert_eq!(r.summary.outcome, Outcome::Aborted);
    assert_eq!(standby(&r).0, 0, "{:?}", step_states(&r.events));
}

/// region-outage with its text edited (`from` → `to`, each once).
fn outage_with(edits: &[(&str, &str)]) -> Simulator {
    let mut text = include_str!("../../../assets/scenarios/region-outage.toml").to_string();
    for (from, to) in edits {
        assert!(
            text.contains(from),
            "region-outage.toml changed: fix this test ({from:?})"
        );
        text = text.replacen(from, to, 1);
    }
    let mut sim = Simulator::new(Scenario::parse(&text, "x.toml").unwrap(), None);
    sim.run_until(3 * 60_000);
    sim
}

#[test]
fn weighted_record_sets_give_the_standby_all_the_weight_and_back() {
    let sim = outage_with(&[
        ("failover = \"PRIMARY\"", "weight = 100"),
        ("failover = \"SECONDARY\"", "weight = 0"),
    ]);
    // Every non-zero weight is unhealthy: Route 53 answers them anyway.
    assert_eq!(answer(&sim), ["us-east-1"]);
    let r = run(
        runbook("dr-region-failover"),
        sim,
        &with(&[("global_cluster", "")]),
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?}",
        r.summary.reason
    );
    let shift = change_of(&r, "Route53Shift");
    assert!(
        shift.contains("weight 100 → 0 (us-east-1)")
            && shift.contains("weight 0 → 100 (us-west-2)"),
        "{shift}"
    );
    assert_eq!(answer(&r.backend.sim), ["us-west-2"]);
    assert_eq!(r.summary.rpo_seconds, None);
    assert!(
        crate::runbook::report::render(&runbook("dr-region-failover"), &r.events)
            .contains("- RPO: not measured (not measured: no data tier was read"),
        "no data tier, said so"
    );
}

#[test]
fn a_read_replica_is_promoted_to_a_standalone_writer() {
    let sim = outage_with(&[(
        "kind = \"global-cluster\"\nid = \"shop\"\n",
        "kind = \"read-replica\"\n",
    )]);
    let r = run(
        runbook("dr-region-failover"),
        sim,
        &with(&[("global_cluster", ""), ("db_replica", "shop-west")]),
        true,
        &Answers::default(),
        true,
    );
    assert_eq!(
        r.summary.outcome,
        Outcome::Completed,
        "{:?}",
        r.summary.reason
    );
    let promote = change_of(&r, "RdsPromote");
    assert!(
        promote.contains("RDS PromoteReadReplica shop-west"),
        "{promote}"
    );
    assert!(r.summary.rpo_seconds.is_some_and(|s| s > 0.0));
    let s = r.backend.sim.db_state("shop-west", "us-west-2").unwrap();
    assert_eq!(s.writable_in.as_deref(), Some("us-west-2"));
    assert_eq!(s.members.len(), 1, "it replicates no more: {s:?}");
}

#[test]
fn a_resumed_read_loop_reads_again_until_its_answer_holds() {
    let dir = tempfile::tempdir().unwrap();
    let rb = runbook("dr-region-failover");
    let given = OUTAGE
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let p = bind_params(&rb, &given).unwrap();
    let mut c = cfg(true);
    c.data_dir = Some(dir.path().to_path_buf());
    let mut r = Runner::new(rb, p, c.clone(), "dr-1".into()).unwrap();
    let mut backend = SimDriver::new(sim_at("region-outage", 3 * 60_000));
    let s = run_headless(&mut r, &mut backend, &Answers::default(), true, &mut |_| {}).unwrap();
    assert_eq!(s.outcome, Outcome::Completed);
    // Killed right after the first GetChange answered PENDING.
    let journal = dir.path().join("runs/dr-1/journal.jsonl");
    let text = std::fs::read_to_string(&journal).unwrap();
    let mut keep = vec![];
    for l in text.lines() {
        keep.push(l);
        if l.contains("\"step\":\"dns-insync\"")
            && l.contains("\"kind\":\"api_call\"")
            && l.contains("\"phase\":\"after\"")
        {
            break;
        }
    }
    assert!(
        keep.last().unwrap().contains("PENDING"),
        "{:?}",
        keep.last()
    );
    std::fs::write(&journal, keep.join("\n") + "\n").unwrap();
    let mut r = Runner::resume(runbook("dr-region-failover"), c, "dr-1".into()).unwrap();
    let mut backend = SimDriver::new(sim_at("region-outage", 0));
    backend.replay(&r.journal.events.clone()).unwrap();
    let s = run_headless(&mut r, &mut backend, &Answers::default(), true, &mut |_| {}).unwrap();
    assert_eq!(s.outcome, Outcome::Completed, "{:?}", s.reason);
    let events = r.journal.events.clone();
    let insync_reads = events
        .iter()
        .filter(|e| e.step.as_deref() == Some("dns-insync") && e.kind() == "api_call")
        .filter(|e| e.detail()["phase"] == "after")
        .count();
    assert!(insync_reads > 1, "read again after the resume");
    assert!(
        events
            .iter()
            .any(|e| e.step.as_deref() == Some("dns-insync")
                && e.kind() == "poll"
                && e.detail()["ok"] == true),
        "the resumed step ended only once it held"
    );
    assert_eq!(s.serving_region.as_deref(), Some("us-west-2"));
}
