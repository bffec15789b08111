//! Checks: what fires and what doesn't, on the seed-review scenario and on
//! hand-made edge cases from the catalogue.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::*;
use crate::model::*;
use crate::review::{ReviewConfig, evaluate};
use crate::source::sim::{Simulator, scenario::Scenario};

fn seed_review() -> FleetSnapshot {
    let mut sim = Simulator::new(Scenario::builtin("seed-review").unwrap(), None);
    sim.run_until(120_000);
    sim.snapshot()
}

fn ids_for(snap: &FleetSnapshot, key: &str) -> BTreeSet<&'static str> {
    let r = evaluate(snap, &ReviewConfig::default());
    r.findings
        .iter()
        .filter(|f| format!("{}/{}", f.cluster, f.service.as_deref().unwrap_or("")) == key)
        .map(|f| f.id)
        .collect()
}

#[test]
fn seed_review_finds_what_the_seeds_found() {
    let snap = seed_review();
    let mono = ids_for(&snap, "legacy/monolith");
    for id in [
        "PERF-01", // 2048 cpu / 256 MiB
        "REL-10",  // no autoscaling
        "REL-01",  // no circuit breaker / rollback
        "REL-03",  // rolling 50/200 with desired 2
        "OPS-06",  // no alarms
        "SEC-02",  // plaintext secrets
        "SEC-06",  // wildcard task role
        "OPS-03",  // log group without retention
        "COST-04", // missing cost tags
        "REL-09",  // no container health check
        "REL-15",  // :latest
    ] {
        assert!(mono.contains(id), "monolith should raise {id}: {mono:?}");
    }
    let reports = ids_for(&snap, "legacy/reports");
    assert!(reports.contains("REL-05"), "single AZ: {reports:?}");
    assert!(reports.contains("SEC-01"), "public IP: {reports:?}");
    assert!(
        reports.contains("REL-01"),
        "breaker without rollback: {reports:?}"
    );
    let checkout = ids_for(&snap, "prod/checkout");
    assert!(
        checkout.is_empty(),
        "the well-architected service raises nothing: {checkout:?}"
    );
}

#[test]
fn secret_values_never_reach_the_evidence() {
    let r = evaluate(&seed_review(), &ReviewConfig::default());
    let sec02: Vec<_> = r.findings.iter().filter(|f| f.id == "SEC-02").collect();
    assert!(!sec02.is_empty());
    for f in sec02 {
        assert_eq!(f.severity, Severity::Critical);
        let ev = f.evidence.join(" ");
        for secret in [
            "hunter2",
            "wJalrXUtnFEMI",
            "sk_live",
            "AKIAIOSFODNN7EXAMPLE",
            "dev-secret-change-me",
        ] {
            assert!(!ev.contains(secret), "evidence leaks {secret}: {ev}");
        }
        assert!(
            ev.contains("DB_PASSWORD") || ev.contains("SECRET_KEY"),
            "{ev}"
        );
    }
}

#[test]
fn not_evaluated_checks_say_why() {
    let r = evaluate(&seed_review(), &ReviewConfig::default());
    let (by_design, untagged): (Vec<_>, Vec<_>) =
        r.not_evaluated.iter().partition(|n| n.services.is_empty());
    let ids: Vec<_> = by_design.iter().map(|n| n.id).collect();
    // Only EventBridge is unread by design: SEC-07 (task volumes), SEC-08
    // (ECR) and SEC-09 (GuardDuty) are evaluated.
    assert_eq!(ids, ["OPS-08"]);
    assert!(by_design.iter().all(|n| n.reason.starts_with("needs")));
    // The seed's untagged services: their environment checks say so.
    let (untagged, other): (Vec<_>, Vec<_>) = untagged
        .into_iter()
        .partition(|n| n.reason.contains("no Environment tag"));
    let ids: Vec<_> = untagged.iter().map(|n| n.id).collect();
    assert_eq!(ids, ["COST-03", "REL-04", "SUS-01"]);
    assert!(untagged.iter().all(|n| !n.missing_data));
    // An image from outside ECR has no ECR settings to judge: listed.
    let ids: Vec<_> = other.iter().map(|n| (n.id, n.missing_data)).collect();
    assert_eq!(ids, [("SEC-08", false)]);
    assert!(other[0].reason.contains("no image"), "{}", other[0].reason);
    assert_eq!(CHECKS.len(), 49, "every catalogue check is registered");
}

pub(super) fn base() -> (FleetSnapshot, Service) {
    let td = TaskDefinition {
        arn: "arn:aws:ecs:us-east-1:1:task-definition/app:2".into(),
        family: "app".into(),
        revision: 2,
        cpu: Some("512".into()),
        memory: Some("1024".into()),
        network_mode: "awsvpc".into(),
        operating_system_family: Some("LINUX".into()),
        cpu_architecture: Some("ARM64".into()),
        container_definitions: vec![ContainerDefinition {
            name: "app".into(),
            image: "repo/app:1.2.3".into(),
            essential: true,
            ..Default::default()
        }],
        ..Default::default()
    };
    let old = TaskDefinition {
        arn: "arn:aws:ecs:us-east-1:1:task-definition/app:1".into(),
        cpu: Some("2048".into()),
        memory: Some("256".into()),
        ..td.clone()
    };
    let svc = Service {
        cluster: "c".into(),
        name: "s".into(),
        arn: "arn:aws:ecs:us-east-1:1:service/c/s".into(),
        launch_type: String::new(),
        capacity_provider_strategy: vec![CapacityProviderItem {
            capacity_provider: "FARGATE_SPOT".into(),
            base: 0,
            weight: 1,
        }],
        // The service field says app:1; the PRIMARY deployment runs app:2.
        task_definition: old.arn.clone(),
        deployments: vec![Deployment {
            id: "ecs-svc/1".into(),
            status: DeploymentStatus::Primary,
            task_definition: td.arn.clone(),
            desired_count: 2,
            pending_count: 0,
            running_count: 2,
            failed_tasks: 0,
            rollout_state: Some(RolloutState::Completed),
            rollout_state_reason: None,
            created_at: 0,
            updated_at: 0,
        }],
        desired_count: 2,
        running_count: 2,
        platform_version: Some("LATEST".into()),
        ..Default::default()
    };
    let snap = FleetSnapshot {
        clusters: Arc::new(vec![Cluster {
            name: "c".into(),
            ..Default::default()
        }]),
        task_definitions: Arc::new(
            [
                (td.arn.clone(), Arc::new(td)),
                (old.arn.clone(), Arc::new(old)),
            ]
            .into_iter()
            .collect(),
        ),
        ..Default::default()
    };
    (snap, svc)
}

pub(super) fn run(check: &str, snap: &FleetSnapshot, svc: &Service) -> Vec<Hit<'static>> {
    let cfg = ReviewConfig::default();
    let index = crate::review::ctx::Index::new(snap);
    let ready = crate::review::ctx::Readiness::of(snap);
    let ctx = crate::review::ctx::ctx_with(snap, &cfg, &index, &ready, 0, svc);
    let c = CHECKS.iter().find(|c| c.id == check).unwrap();
    ctx.begin_check(c);
    match c.kind {
        Kind::Service(f) => f(&ctx)
            .into_iter()
            .map(|h| Hit {
                resource: h.resource.into_owned().into(),
                ..h
            })
            .collect(),
        Kind::NotEvaluated(_) => vec![],
    }
}

#[test]
fn perf01_reads_the_primary_deployment_and_capacity_provider_fargate() {
    let (mut snap, svc) = base();
    snap.services = vec![std::sync::Arc::new(svc.clone())];
    assert!(
        run("PERF-01", &snap, &svc).is_empty(),
        "app:2 (512/1024) is valid; app:1 would not be"
    );
    // cpu/memory are strings: unparsable ones are a finding, not a panic.
    let td = Arc::make_mut(
        Arc::make_mut(&mut snap.task_definitions)
            .get_mut("arn:aws:ecs:us-east-1:1:task-definition/app:2")
            .unwrap(),
    );
    td.cpu = Some("0.5 vCPU".into());
    let hits = run("PERF-01", &snap, &svc);
    assert_eq!(hits.len(), 1);
    assert!(hits[0].evidence[0].contains("not numbers"));
    // EC2 services are out of scope for the Fargate size table.
    let mut ec2 = svc.clone();
    ec2.capacity_provider_strategy.clear();
    ec2.launch_type = "EC2".into();
    assert!(run("PERF-01", &snap, &ec2).is_empty());
    // Cluster default strategy counts when the service sets neither.
    let mut dflt = svc.clone();
    dflt.capacity_provider_strategy.clear();
    Arc::make_mut(&mut snap.clusters)[0].default_capacity_provider_strategy =
        vec![CapacityProviderItem {
            capacity_provider: "FARGATE".into(),
            base: 1,
            weight: 1,
        }];
    assert_eq!(run("PERF-01", &snap, &dflt).len(), 1);
}

#[test]
fn wildcard_policies_in_every_shape() {
    let cases = [
        (
            r#"{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            vec!["*"],
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:*"],"Resource":["*"]}]}"#,
            vec!["s3:GetObject", "s3:*"],
        ),
        (
            // Data-plane actions on every resource of the account.
            r#"{"Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:DeleteObject","secretsmanager:GetSecretValue","ssm:GetParameters","logs:PutLogEvents"],"Resource":"*"}]}"#,
            vec![
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "secretsmanager:GetSecretValue",
                "ssm:GetParameters",
            ],
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}"#,
            vec!["s3:Get*"],
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}"#,
            vec![],
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}]}"#,
            vec![],
        ),
        (
            r#"{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#,
            vec![],
        ),
    ];
    for (doc, want) in cases {
        assert_eq!(wildcard_statements(doc).unwrap(), want, "{doc}");
    }
    assert!(wildcard_statements("not json").is_err());
}

#[test]
fn sec06_managed_policies_and_shared_roles() {
    let (mut snap, svc) = base();
    let td = Arc::make_mut(
        Arc::make_mut(&mut snap.task_definitions)
            .get_mut("arn:aws:ecs:us-east-1:1:task-definition/app:2")
            .unwrap(),
    );
    td.task_role_arn = Some("arn:aws:iam::1:role/r".into());
    td.execution_role_arn = Some("arn:aws:iam::1:role/r".into());
    td.task_role = Some(IamRole {
        arn: "arn:aws:iam::1:role/r".into(),
        policies: vec![RolePolicy {
            name: "admin".into(),
            policy_arn: Some("arn:aws:iam::aws:policy/AdministratorAccess".into()),
            document: String::new(),
        }],
    });
    let hits = run("SEC-06", &snap, &svc);
    let ev = hits[0].evidence.join(" | ");
    assert!(
        ev.contains("taskRoleArn == executionRoleArn") && ev.contains("AdministratorAccess"),
        "{ev}"
    );
}

#[test]
fn images_tags_and_digests() {
    for (img, pinned) in [
        ("repo/app:1.2.3", true),
        ("repo/app@sha256:abc", true),
        ("repo/app:latest", false),
        ("repo/app", false),
        ("registry:5000/app", false),
        ("registry:5000/app:2", true),
    ] {
        assert_eq!(image_is_pinned(img), pinned, "{img}");
    }
}

#[test]
fn live_checks_follow_the_fleet() {
    // REL-06 appears in the AZ outage and clears after rebalancing; REL-12 in
    // the bad deploy while the breaker's FAILED deployment is visible.
    let cfg = ReviewConfig::default();
    let mut sim = Simulator::new(Scenario::builtin("az-outage").unwrap(), None);
    let has = |snap: &FleetSnapshot, id: &str, key: &str| {
        evaluate(snap, &cfg).findings.iter().any(|f| {
            f.id == id && format!("{}/{}", f.cluster, f.service.as_deref().unwrap_or("")) == key
        })
    };
    assert!(!has(&sim.snapshot(), "REL-06", "prod/api"));
    sim.run_until(8 * 60_000);
    assert!(
        has(&sim.snapshot(), "REL-06", "prod/api"),
        "a:0 b:3 c:3 during the outage"
    );
    sim.run_until(25 * 60_000);
    assert!(
        !has(&sim.snapshot(), "REL-06", "prod/api"),
        "rebalanced after release"
    );
    let mut sim = Simulator::new(Scenario::builtin("bad-deploy").unwrap(), None);
    sim.run_until(4 * 60_000);
    assert!(
        has(&sim.snapshot(), "REL-12", "prod/api"),
        "breaker tripped"
    );
    sim.run_until(15 * 60_000);
    assert!(!has(&sim.snapshot(), "REL-12", "prod/api"), "rolled back");
    assert!(
        has(&sim.snapshot(), "REL-13", "staging/api"),
        "keeps failing to start"
    );
}

#[test]
fn fail_on_thresholds_and_scores() {
    let r = evaluate(&seed_review(), &ReviewConfig::default());
    assert!(r.fails_at(Severity::Critical));
    assert!(r.fails_at(Severity::Low));
    let clean = crate::review::Review::default();
    assert!(!clean.fails_at(Severity::Low));
    assert!(clean.scores().values().all(|s| *s == 100));
    assert!(r.scores()[&crate::review::Pillar::Sec] < 100);
}

#[test]
fn sarif_and_json_shapes() {
    let snap = seed_review();
    let r = evaluate(&snap, &ReviewConfig::default());
    let s = crate::review::report::sarif(&r);
    assert_eq!(s["version"], "2.1.0");
    let rules = s["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 49);
    let ops03 = rules.iter().find(|r| r["id"] == "OPS-03").unwrap();
    assert_eq!(
        ops03["properties"]["controls"],
        serde_json::json!(["CloudWatch.16"])
    );
    for res in s["runs"][0]["results"].as_array().unwrap() {
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], res["ruleId"]);
        assert!(["error", "warning", "note"].contains(&res["level"].as_str().unwrap()));
    }
    let j = crate::review::report::json(&r, &snap);
    for f in j["findings"].as_array().unwrap() {
        for k in [
            "id",
            "severity",
            "pillar",
            "cluster",
            "service",
            "evidence",
            "remediation",
            "controls",
        ] {
            assert!(f.get(k).is_some(), "findings[].{k}");
        }
        assert!(["critical", "high", "medium", "low"].contains(&f["severity"].as_str().unwrap()));
    }
    assert!(
        j["not_evaluated"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n.get("reason").is_some())
    );
    assert!(j["suppressed"].is_array());
    let md = crate::review::report::markdown(&r, &snap);
    assert!(md.contains("## Executive summary") && md.contains("## Priority action plan"));
    assert!(md.contains("- Controls: ECS.8"), "{md}");
    assert!(
        md.contains("REL-04 Redundant task count on legacy/"),
        "an untagged service's skipped check names it: {md}"
    );
    assert!(!md.contains("hunter2"));
}

/// The console's cache and `ecsdeck review` agree while time alone moves a
/// verdict: staging/api in bad-deploy keeps two deployments from 2 min on
/// (its new revision cannot start), and REL-12 fires once that has lasted
/// 30 min. Every 10 s for 34 min, the two agree.
#[test]
fn the_cache_follows_the_clock_through_31_minutes_of_two_deployments() {
    let cfg = ReviewConfig::default();
    let mut sim = Simulator::new(Scenario::builtin("bad-deploy").unwrap(), None);
    let mut cache = crate::review::ReviewCache::default();
    let stuck = |r: &crate::review::Review| {
        r.findings.iter().any(|f| {
            f.id == "REL-12"
                && &*f.cluster == "staging"
                && f.evidence.iter().any(|e| e.contains("deployments for"))
        })
    };
    let mut fired_at = None;
    for step in 1..=(34 * 6) {
        sim.run_until(step * 10_000);
        let snap = sim.snapshot();
        cache.update(&snap, &cfg);
        let full = evaluate(&snap, &cfg);
        assert_eq!(cache.review(), full, "at {}s", step * 10);
        if fired_at.is_none() && stuck(&full) {
            fired_at = Some(step * 10);
        }
    }
    let fired_at = fired_at.expect("REL-12 fired on staging/api within 34 min");
    assert!(
        (32 * 60..=33 * 60).contains(&fired_at),
        "fired at {fired_at}s"
    );
}

/// The same with nothing but the clock changing: the services are the same
/// `Arc`s, so only the clock can make the cache re-check them.
#[test]
fn a_clock_check_is_re_evaluated_when_only_the_clock_moved() {
    let cfg = ReviewConfig::default();
    let mut sim = Simulator::new(Scenario::builtin("bad-deploy").unwrap(), None);
    sim.run_until(5 * 60_000);
    let snap = sim.snapshot();
    let mut cache = crate::review::ReviewCache::default();
    cache.update(&snap, &cfg);
    assert!(
        !cache
            .review()
            .findings
            .iter()
            .any(|f| f.id == "REL-12" && &*f.cluster == "staging")
    );
    let mut later = snap.clone();
    later.at += 40 * 60_000;
    cache.update(&later, &cfg);
    let full = evaluate(&later, &cfg);
    assert!(
        full.findings
            .iter()
            .any(|f| f.id == "REL-12" && &*f.cluster == "staging"),
        "40 min later REL-12 fires on the full review"
    );
    assert_eq!(cache.review(), full);
    // Only the services whose checks read the clock were re-checked.
    assert!(
        cache.last_evaluated < later.services.len(),
        "{} of {}",
        cache.last_evaluated,
        later.services.len()
    );
    // And with the clock still, nothing is.
    cache.update(&later, &cfg);
    assert_eq!(cache.last_evaluated, 0);
}

/// Each check declares what it reads (`reads [..]`, `clock`); debug builds
/// assert it on every evaluation, so running every scenario over time
/// proves the declarations.
#[test]
fn every_check_declares_what_it_reads() {
    let cfg = ReviewConfig::default();
    for name in Scenario::builtin_names() {
        let mut sim = Simulator::new(Scenario::builtin(name).unwrap(), None);
        for t in [0, 90_000, 600_000, 2_400_000] {
            sim.run_until(t);
            let _ = evaluate(&sim.snapshot(), &cfg);
        }
    }
    // A check that reads the clock says so, and only REL-12/13 do today.
    let clocked: Vec<&str> = CHECKS.iter().filter(|c| c.clock).map(|c| c.id).collect();
    assert_eq!(clocked, ["REL-12", "REL-13"]);
}

#[test]
fn the_cache_re_evaluates_only_what_changed() {
    let cfg = ReviewConfig::default();
    let mut sim = Simulator::new(Scenario::builtin("az-outage").unwrap(), None);
    sim.run_until(30_000);
    let mut cache = crate::review::ReviewCache::default();
    cache.update(&sim.snapshot(), &cfg);
    let first = cache.review();
    assert_eq!(cache.last_evaluated, 5, "everything the first time");
    assert_eq!(first, evaluate(&sim.snapshot(), &cfg));
    cache.update(&sim.snapshot(), &cfg);
    let again = cache.review();
    assert_eq!(cache.last_evaluated, 0, "nothing changed");
    assert_eq!(again, first);
    // One service changes: one re-evaluation, same result as a full run.
    let mut snap = sim.snapshot();
    std::sync::Arc::make_mut(&mut snap.services[1])
        .deployment_configuration
        .deployment_circuit_breaker = None;
    cache.update(&snap, &cfg);
    let inc = cache.review();
    assert_eq!(cache.last_evaluated, 1);
    assert_eq!(inc, evaluate(&snap, &cfg));
    // The fleet moves (AZ outage): results still equal a full evaluation.
    for t in [4, 8, 20] {
        sim.run_until(t * 60_000);
        let snap = sim.snapshot();
        cache.update(&snap, &cfg);
        assert_eq!(cache.review(), evaluate(&snap, &cfg), "at {t} min");
    }
}

#[test]
fn the_cache_follows_collections_and_services_coming_and_going() {
    let cfg = ReviewConfig::default();
    let base = seed_review();
    let mut cache = crate::review::ReviewCache::default();
    cache.update(&base, &cfg);
    assert_eq!(cache.last_evaluated, base.services.len());
    assert_eq!(cache.review(), evaluate(&base, &cfg));
    // The same collections and services: nothing re-checked.
    cache.update(&base.clone(), &cfg);
    assert_eq!(cache.last_evaluated, 0);
    // One service's alarm changes: a new alarms Arc, that service re-checked.
    let mut snap = base.clone();
    let i = snap
        .alarms
        .iter()
        .position(|a| a.service_key.is_some())
        .expect("an alarm on a service");
    Arc::make_mut(&mut snap.alarms)[i].actions_enabled ^= true;
    cache.update(&snap, &cfg);
    assert_eq!(cache.last_evaluated, 1);
    assert_eq!(cache.review(), evaluate(&snap, &cfg));
    // A new alarms Arc with the same alarms: compared, nothing re-checked.
    let mut same = snap.clone();
    same.alarms = Arc::new((*snap.alarms).clone());
    cache.update(&same, &cfg);
    assert_eq!(cache.last_evaluated, 0);
    // A service goes: its findings go; at most the next of its cluster
    // (now the first, for cluster-level checks) is re-checked.
    let mut fewer = same.clone();
    let gone = fewer.services.remove(0);
    cache.update(&fewer, &cfg);
    assert!(cache.last_evaluated <= 1, "{}", cache.last_evaluated);
    assert_eq!(cache.review(), evaluate(&fewer, &cfg));
    assert!(cache.for_service(&gone.id()).next().is_none());
    assert!(!cache.findings().any(|f| *f.service_arn == *gone.arn));
    // And comes back.
    cache.update(&same, &cfg);
    assert_eq!(cache.review(), evaluate(&same, &cfg));
    assert_eq!(cache.counts(), &cache.review().counts());
    assert_eq!(cache.scores(), cache.review().scores());
    // A changed policy re-checks everything.
    let strict = ReviewConfig {
        min_log_retention_days: 400,
        ..ReviewConfig::default()
    };
    cache.update(&same, &strict);
    assert_eq!(cache.last_evaluated, same.services.len());
    assert_eq!(cache.review(), evaluate(&same, &strict));
}

#[test]
fn checks_without_their_data_are_not_evaluated_on_aws() {
    use crate::model::Freshness;
    let mut snap = crate::source::sim::Simulator::new(
        crate::source::sim::scenario::Scenario::builtin("steady").unwrap(),
        None,
    )
    .snapshot();
    // The simulator models everything: nothing is skipped.
    assert!(crate::review::ctx::Readiness::of(&snap).is_complete());
    snap.source.kind = "aws".into();
    std::sync::Arc::make_mut(&mut snap.alarms).clear();
    snap.freshness.clear();
    snap.set_fresh(
        crate::model::DataKind::Ecs,
        Freshness {
            updated_at: Some(1),
            error: None,
        },
    );
    snap.set_fresh(
        crate::model::DataKind::Autoscaling,
        Freshness {
            updated_at: None,
            error: Some("AccessDenied: application-autoscaling:DescribeScalableTargets".into()),
        },
    );
    let review = crate::review::evaluate(&snap, &crate::review::ReviewConfig::default());
    // No alarms were read, so "no alarms" is not a finding.
    assert!(!review.findings.iter().any(|f| f.id == "OPS-06"));
    let why = |id: &str| {
        review
            .not_evaluated
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.reason.clone())
            .unwrap_or_default()
    };
    assert!(
        why("OPS-06").contains("which this source did not read"),
        "{}",
        why("OPS-06")
    );
    assert!(why("REL-10").contains("AccessDenied"), "{}", why("REL-10"));
    // The incremental cache agrees with the full evaluation.
    let mut cache = crate::review::ReviewCache::default();
    cache.update(&snap, &crate::review::ReviewConfig::default());
    assert_eq!(cache.review(), review);
}

/// The seed-review fleet as an AWS source would report it: every kind read.
fn as_aws(mut snap: FleetSnapshot) -> FleetSnapshot {
    snap.source.kind = "aws".into();
    snap.freshness.clear();
    snap.mark_read(&crate::model::DATA_KINDS, snap.at);
    snap
}

#[test]
fn a_task_definition_that_could_not_be_read_leaves_its_checks_not_evaluated() {
    let snap = as_aws(seed_review());
    let full = evaluate(&snap, &ReviewConfig::default());
    assert!(full.not_evaluated.iter().all(|n| !n.missing_data));
    // One service's revision was denied: it is missing from the snapshot and
    // named in `unread`.
    let victim = snap
        .services
        .iter()
        .find(|s| {
            full.findings
                .iter()
                .any(|f| f.service_arn.as_ref() == s.arn && f.id == "REL-09")
        })
        .expect("a service with a REL-09 finding")
        .clone();
    let td_arn = victim.primary_deployment().unwrap().task_definition.clone();
    let mut denied = snap.clone();
    Arc::make_mut(&mut denied.task_definitions).remove(&td_arn);
    Arc::make_mut(&mut denied.unread).insert(
        td_arn.clone(),
        "ecs:DescribeTaskDefinition: AccessDeniedException: not authorized".into(),
    );
    let r = evaluate(&denied, &ReviewConfig::default());
    let name = format!("{}/{}", victim.cluster, victim.name);
    // REL-09 reads the task definition: not evaluated on that service…
    assert!(
        !r.findings
            .iter()
            .any(|f| f.id == "REL-09" && f.service_arn.as_ref() == victim.arn)
    );
    let n = r
        .not_evaluated
        .iter()
        .find(|n| n.id == "REL-09" && n.missing_data)
        .expect("REL-09 not evaluated");
    assert_eq!(n.services, std::slice::from_ref(&name));
    assert!(
        n.reason
            .contains("ecs:DescribeTaskDefinition: AccessDenied"),
        "{}",
        n.reason
    );
    // …evaluated everywhere else: other services keep their findings.
    let others = |rv: &crate::review::Review| {
        rv.findings
            .iter()
            .filter(|f| f.service_arn.as_ref() != victim.arn)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(others(&r), others(&full));
    // A check that reads only the service still fires on the victim.
    let service_only: Vec<_> = full
        .findings
        .iter()
        .filter(|f| f.service_arn.as_ref() == victim.arn && f.id == "REL-01")
        .collect();
    for f in service_only {
        assert!(r.findings.contains(f), "{} vanished", f.id);
    }
    // Every not-evaluated entry names the service and the API.
    for n in r.not_evaluated.iter().filter(|n| n.missing_data) {
        assert_eq!(n.services, std::slice::from_ref(&name), "{}", n.id);
        assert!(n.reason.contains("DescribeTaskDefinition"), "{}", n.reason);
    }
    // The gate: the missing checks count at their catalogue severity.
    assert!(!r.missing_at(Severity::High).any(|n| n.id == "REL-09"));
    assert!(r.missing_at(Severity::Medium).any(|n| n.id == "REL-09"));
    assert!(r.incomplete_pillars().contains(&crate::review::Pillar::Rel));
    // The Markdown report says so: an upper-bound score, the check, its
    // severity and the service; the complete report has none of it.
    let md = crate::review::report::markdown(&r, &denied);
    assert!(md.contains("| Reliability | ≤"), "{md}");
    assert!(md.contains("**Incomplete:**"), "{md}");
    let line = md
        .lines()
        .find(|l| l.starts_with("- **REL-09**"))
        .unwrap_or_else(|| panic!("REL-09 under Not evaluated:\n{md}"));
    assert!(
        line.contains("medium, data not read") && line.contains(&name),
        "{line}"
    );
    let md_full = crate::review::report::markdown(&full, &snap);
    assert!(!md_full.contains('≤') && !md_full.contains("**Incomplete:**"));
    // The console's cache agrees, and follows the denial going away.
    let mut cache = crate::review::ReviewCache::default();
    cache.update(&denied, &ReviewConfig::default());
    assert_eq!(cache.review(), r);
    cache.update(&snap, &ReviewConfig::default());
    assert_eq!(cache.review(), full);
    cache.update(&denied, &ReviewConfig::default());
    assert_eq!(cache.review(), r);
}

#[test]
fn a_kind_not_read_in_one_region_only_touches_the_checks_that_read_it() {
    let snap = as_aws(seed_review());
    let full = evaluate(&snap, &ReviewConfig::default());
    let mut blind = snap.clone();
    blind.set_fresh(
        crate::model::DataKind::Cloudwatch,
        Freshness {
            updated_at: None,
            error: Some("cloudwatch:DescribeAlarms: AccessDenied".into()),
        },
    );
    Arc::make_mut(&mut blind.alarms).clear();
    let r = evaluate(&blind, &ReviewConfig::default());
    let alarm_checks = ["OPS-05", "OPS-06", "OPS-07"];
    for f in &r.findings {
        assert!(
            !alarm_checks.contains(&f.id),
            "{} fired without alarms",
            f.id
        );
    }
    for id in alarm_checks {
        if full.findings.iter().any(|f| f.id == id) {
            assert!(
                r.not_evaluated
                    .iter()
                    .any(|n| n.id == id && n.missing_data && n.reason.contains("AccessDenied")),
                "{id}: {:?}",
                r.not_evaluated
            );
        }
    }
    // Checks that do not read alarms are untouched.
    let no_alarms = |rv: &crate::review::Review| {
        rv.findings
            .iter()
            .filter(|f| !alarm_checks.contains(&f.id) && f.id != "REL-02")
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(no_alarms(&r), no_alarms(&full));
}
