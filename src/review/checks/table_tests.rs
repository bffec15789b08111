//! Table tests: each check fires on its shape and stays quiet when the
//! shape is fixed (the newer checks and judgments: controls, tags,
//! environments, alarms, right-sizing, deployment controllers).

use std::sync::Arc;

use super::tests::{base, run};
use crate::model::*;
use crate::review::{ReviewConfig, evaluate};
use crate::source::sim::{Simulator, scenario::Scenario};

#[test]
fn ops09_names_each_untagged_resource_with_its_control() {
    let (mut snap, mut svc) = base();
    snap.services = vec![std::sync::Arc::new(svc.clone())];
    let hits = run("OPS-09", &snap, &svc);
    let ev: Vec<String> = hits.iter().flat_map(|h| h.evidence.clone()).collect();
    assert!(ev.contains(&"service s has no tags".to_string()), "{ev:?}");
    assert!(
        ev.contains(&"task definition app:2 has no tags".to_string()),
        "{ev:?}"
    );
    // One finding per resource, each with its own control.
    let controls: Vec<Vec<&str>> = hits
        .iter()
        .map(|h| crate::review::controls::of_finding("OPS-09", &h.evidence))
        .collect();
    assert_eq!(controls, [vec!["ECS.13"], vec!["ECS.14"], vec!["ECS.15"]]);
    // Tags of its own (not AWS's `aws:` ones) on each: nothing.
    svc.tags.insert("Owner".into(), "team".into());
    let tag = |snap: &mut FleetSnapshot, k: &str| {
        Arc::make_mut(
            Arc::make_mut(&mut snap.task_definitions)
                .get_mut("arn:aws:ecs:us-east-1:1:task-definition/app:2")
                .unwrap(),
        )
        .tags
        .insert(k.into(), "x".into());
    };
    snap.services = vec![std::sync::Arc::new(svc.clone())];
    tag(&mut snap, "aws:cloudformation:stack-name");
    let left: Vec<String> = run("OPS-09", &snap, &svc)
        .iter()
        .flat_map(|h| h.evidence.clone())
        .collect();
    assert!(
        left.contains(&"task definition app:2 has no tags".to_string()),
        "an aws: tag is not the team's: {left:?}"
    );
    tag(&mut snap, "Owner");
    snap.services = vec![std::sync::Arc::new(svc.clone())];
    let left: Vec<String> = run("OPS-09", &snap, &svc)
        .iter()
        .flat_map(|h| h.evidence.clone())
        .collect();
    assert!(left.iter().all(|e| e.starts_with("cluster ")), "{left:?}");
}

#[test]
fn an_untagged_service_is_not_silently_passed_by_environment_checks() {
    let (mut snap, mut svc) = base();
    svc.desired_count = 1;
    snap.services = vec![std::sync::Arc::new(svc.clone())];
    let r = evaluate(&snap, &ReviewConfig::default());
    let skipped: Vec<&str> = r
        .not_evaluated
        .iter()
        .filter(|n| n.reason.contains("no Environment tag"))
        .map(|n| n.id)
        .collect();
    assert_eq!(
        skipped,
        ["COST-03", "REL-04", "REL-16", "SUS-01"],
        "{:?}",
        r.not_evaluated
    );
    let n = r.not_evaluated.iter().find(|n| n.id == "REL-04").unwrap();
    assert_eq!(n.services, ["c/s"]);
    assert!(
        !n.missing_data,
        "not a read failure: the gate does not count it"
    );
    assert!(!r.findings.iter().any(|f| f.id == "REL-04"));
    // Under a default environment they are evaluated: one task in prod.
    let cfg = ReviewConfig {
        default_environment: Some("prod".into()),
        ..ReviewConfig::default()
    };
    let r = evaluate(&snap, &cfg);
    assert!(
        !r.not_evaluated
            .iter()
            .any(|n| n.reason.contains("no Environment tag"))
    );
    assert!(
        r.findings.iter().any(|f| f.id == "REL-04"),
        "{:?}",
        r.findings
    );
    // A tagged service is evaluated by its tag.
    svc.tags.insert("Environment".into(), "dev".into());
    snap.services = vec![std::sync::Arc::new(svc)];
    let r = evaluate(&snap, &ReviewConfig::default());
    assert!(
        !r.not_evaluated
            .iter()
            .any(|n| n.reason.contains("no Environment tag"))
    );
    assert!(!r.findings.iter().any(|f| f.id == "REL-04"));
}

#[test]
fn ops03_wants_30_days_by_default_and_a_customer_key() {
    use crate::model::LogGroup;
    let (mut snap, svc) = base();
    let td = Arc::make_mut(
        Arc::make_mut(&mut snap.task_definitions)
            .get_mut("arn:aws:ecs:us-east-1:1:task-definition/app:2")
            .unwrap(),
    );
    td.container_definitions[0].log_configuration = Some(crate::model::LogConfiguration {
        log_driver: "awslogs".into(),
        options: [("awslogs-group".to_string(), "/ecs/app".to_string())]
            .into_iter()
            .collect(),
    });
    let group = |days: Option<i32>, kms: Option<&str>| LogGroup {
        name: "/ecs/app".into(),
        retention_in_days: days,
        kms_key_id: kms.map(str::to_string),
        ..Default::default()
    };
    snap.log_groups = Arc::new(vec![group(Some(1), None)]);
    snap.services = vec![std::sync::Arc::new(svc.clone())];
    let ev: Vec<String> = run("OPS-03", &snap, &svc)
        .iter()
        .flat_map(|h| h.evidence.clone())
        .collect();
    assert_eq!(
        ev,
        [
            "log group /ecs/app retentionInDays=1 < policy minimum 30",
            "log group /ecs/app kmsKeyId absent (no customer-managed key)"
        ]
    );
    let fix = run("OPS-03", &snap, &svc)[0].fix.to_string();
    assert!(fix.ends_with("--retention-in-days 90"), "{fix}");
    snap.log_groups = Arc::new(vec![group(Some(30), Some("arn:aws:kms:us-east-1:1:key/k"))]);
    assert!(run("OPS-03", &snap, &svc).is_empty());
}

#[test]
fn perf01_right_sizes_down_to_what_the_task_uses() {
    use crate::model::{MetricSeries, ServiceMetrics};
    // Seed 001: a Fargate task at 2048 cpu / 256 MiB (not a valid size).
    let (mut snap, mut svc) = base();
    svc.task_definition = "arn:aws:ecs:us-east-1:1:task-definition/app:1".into();
    svc.deployments[0].task_definition = svc.task_definition.clone();
    snap.services = vec![std::sync::Arc::new(svc.clone())];
    let fix = |snap: &FleetSnapshot| run("PERF-01", snap, &svc)[0].fix.to_string();
    // No utilisation read: what the containers reserve (nothing here).
    assert!(
        fix(&snap).contains("cpu=\"256\" memory=\"512\"")
            && fix(&snap).contains("no utilisation was read"),
        "{}",
        fix(&snap)
    );
    // 20 % of 2048 at p95 and 50 % of 256 MiB: 410 × 1.3 cpu, 128 × 1.3 MiB.
    let series = |v: f64| MetricSeries {
        period_seconds: 60,
        end: 0,
        values: vec![v; 60],
    };
    let m = ServiceMetrics {
        cpu: series(20.0),
        memory: series(50.0),
        ..Default::default()
    };
    snap.metrics = Arc::new([(svc.id(), m)].into_iter().collect());
    let f = fix(&snap);
    assert!(f.contains("cpu=\"1024\" memory=\"2048\""), "{f}");
    assert!(!f.contains("4096"), "not the next size up: {f}");
}

// ------------------------------------------------------------ table tests

/// The evidence `check` gives on the base service after `edit`.
pub(super) fn evidence_after(
    check: &str,
    edit: impl FnOnce(&mut FleetSnapshot, &mut Service),
) -> Vec<String> {
    let (mut snap, mut svc) = base();
    edit(&mut snap, &mut svc);
    snap.services = vec![std::sync::Arc::new(svc.clone())];
    run(check, &snap, &svc)
        .iter()
        .flat_map(|h| h.evidence.clone())
        .collect()
}

pub(super) fn td_mut(snap: &mut FleetSnapshot) -> &mut TaskDefinition {
    Arc::make_mut(
        Arc::make_mut(&mut snap.task_definitions)
            .get_mut("arn:aws:ecs:us-east-1:1:task-definition/app:2")
            .unwrap(),
    )
}

#[test]
fn rel01_judges_each_deployment_controller_by_its_own_rollback() {
    let breaker = |s: &mut Service| {
        s.deployment_configuration.deployment_circuit_breaker =
            Some(crate::model::DeploymentCircuitBreaker {
                enable: true,
                rollback: true,
            });
    };
    assert!(evidence_after("REL-01", |_, s| breaker(s)).is_empty());
    assert_eq!(
        evidence_after("REL-01", |_, _| {}),
        ["deploymentConfiguration.deploymentCircuitBreaker absent"]
    );
    // Blue/green: the breaker does not apply; deployment alarms do.
    let ev = evidence_after("REL-01", |_, s| {
        breaker(s);
        s.deployment_configuration.strategy = Some("BLUE_GREEN".into());
    });
    assert!(
        ev[0].starts_with("strategy=BLUE_GREEN: no deployment alarms"),
        "{ev:?}"
    );
    assert!(
        evidence_after("REL-01", |_, s| {
            s.deployment_configuration.strategy = Some("CANARY".into());
            s.deployment_configuration.alarms = Some(crate::model::DeploymentAlarms {
                alarm_names: vec!["api-5xx".into()],
                enable: true,
                rollback: true,
            });
        })
        .is_empty()
    );
    // CODE_DEPLOY and EXTERNAL: listed as not evaluated, never passed.
    for (controller, why) in [
        ("CODE_DEPLOY", "autoRollbackConfiguration"),
        ("EXTERNAL", "external tool"),
    ] {
        let (mut snap, mut svc) = base();
        svc.deployment_controller = controller.into();
        snap.services = vec![std::sync::Arc::new(svc)];
        let r = evaluate(&snap, &ReviewConfig::default());
        let n = r
            .not_evaluated
            .iter()
            .find(|n| n.id == "REL-01")
            .expect(controller);
        assert!(n.reason.contains(why) && n.services == ["c/s"], "{n:?}");
        assert!(!r.findings.iter().any(|f| f.id == "REL-01"));
    }
}

#[test]
fn sec05_names_each_host_namespace_and_privilege() {
    assert!(evidence_after("SEC-05", |_, _| {}).is_empty());
    let ev = evidence_after("SEC-05", |snap, _| {
        let td = td_mut(snap);
        td.pid_mode = Some("host".into());
        td.network_mode = "host".into();
        td.container_definitions[0].privileged = Some(true);
    });
    assert!(ev.contains(&"pidMode=host".to_string()), "{ev:?}");
    assert!(ev.contains(&"networkMode=host".to_string()), "{ev:?}");
    assert!(ev.iter().any(|e| e.contains("privileged=true")), "{ev:?}");
}

#[test]
fn sec10_flags_exec_without_session_logs() {
    assert!(evidence_after("SEC-10", |_, _| {}).is_empty());
    let ev = evidence_after("SEC-10", |_, s| s.enable_execute_command = true);
    assert!(
        ev.iter()
            .any(|e| e.contains("Exec sessions are not logged")),
        "{ev:?}"
    );
}

#[test]
fn ops04_flags_blocking_awslogs_only() {
    let with_mode = |mode: &'static str| {
        move |snap: &mut FleetSnapshot, _: &mut Service| {
            td_mut(snap).container_definitions[0].log_configuration =
                Some(crate::model::LogConfiguration {
                    log_driver: "awslogs".into(),
                    options: [("mode".to_string(), mode.to_string())]
                        .into_iter()
                        .collect(),
                });
        }
    };
    assert_eq!(
        evidence_after("OPS-04", with_mode("blocking")),
        ["container app awslogs mode=blocking"]
    );
    assert!(evidence_after("OPS-04", with_mode("non-blocking")).is_empty());
}

#[test]
fn rel08_wants_a_grace_period_behind_a_load_balancer() {
    let behind_lb = |s: &mut Service| {
        s.load_balancers = vec![crate::model::LoadBalancerRef {
            target_group_arn: "arn:tg".into(),
            container_name: "app".into(),
            container_port: 80,
        }];
    };
    assert!(
        evidence_after("REL-08", |_, _| {}).is_empty(),
        "no load balancer"
    );
    assert_eq!(
        evidence_after("REL-08", |_, s| behind_lb(s)),
        ["load balancer attached and healthCheckGracePeriodSeconds=0"]
    );
    assert!(
        evidence_after("REL-08", |_, s| {
            behind_lb(s);
            s.health_check_grace_period_seconds = Some(60);
        })
        .is_empty()
    );
}

#[test]
fn rel14_wants_the_load_balancer_in_two_azs() {
    let with_lb = |azs: &'static [&'static str]| {
        move |snap: &mut FleetSnapshot, s: &mut Service| {
            s.load_balancers = vec![crate::model::LoadBalancerRef {
                target_group_arn: "arn:tg".into(),
                container_name: "app".into(),
                container_port: 80,
            }];
            snap.target_groups = Arc::new(vec![crate::model::TargetGroup {
                arn: "arn:tg".into(),
                name: "tg".into(),
                load_balancer_arn: Some("arn:lb".into()),
                load_balancer_azs: azs.iter().map(|a| a.to_string()).collect(),
                ..Default::default()
            }]);
        }
    };
    assert_eq!(
        evidence_after("REL-14", with_lb(&["us-east-1a"])),
        ["load balancer of tg in 1 AZ(s)"]
    );
    assert!(evidence_after("REL-14", with_lb(&["us-east-1a", "us-east-1b"])).is_empty());
}

fn with_scalable(
    snap: &mut FleetSnapshot,
    min: i32,
    max: i32,
    policies: Vec<crate::model::TargetTrackingPolicy>,
) {
    snap.scalable_targets = Arc::new(vec![crate::model::ScalableTarget {
        resource_id: "service/c/s".into(),
        min_capacity: min,
        max_capacity: max,
        policies,
        ..Default::default()
    }]);
}

fn cpu_policy(target: f64) -> crate::model::TargetTrackingPolicy {
    crate::model::TargetTrackingPolicy {
        policy_name: "cpu".into(),
        predefined_metric_type: "ECSServiceAverageCPUUtilization".into(),
        target_value: target,
        ..Default::default()
    }
}

fn with_metrics(snap: &mut FleetSnapshot, svc: &Service, cpu: f64, mem: f64, requests: f64) {
    use crate::model::{MetricSeries, ServiceMetrics};
    let series = |v: f64| MetricSeries {
        period_seconds: 60,
        end: 0,
        values: vec![v; 60],
    };
    let m = ServiceMetrics {
        cpu: series(cpu),
        memory: series(mem),
        requests: series(requests),
        ..Default::default()
    };
    snap.metrics = Arc::new([(svc.id(), m)].into_iter().collect());
}

#[test]
fn rel11_wants_a_target_tracking_policy_at_a_sane_target() {
    assert_eq!(
        evidence_after("REL-11", |snap, _| with_scalable(snap, 2, 10, vec![])),
        ["scalable target without a TargetTrackingScaling policy"]
    );
    let ev = evidence_after("REL-11", |snap, _| {
        with_scalable(snap, 2, 10, vec![cpu_policy(95.0)])
    });
    assert_eq!(ev, ["cpu ECSServiceAverageCPUUtilization TargetValue=95"]);
    assert!(
        evidence_after("REL-11", |snap, _| with_scalable(
            snap,
            2,
            10,
            vec![cpu_policy(60.0)]
        ))
        .is_empty()
    );
    assert!(
        evidence_after("REL-11", |_, _| {}).is_empty(),
        "no scalable target: REL-10's"
    );
}

#[test]
fn perf03_flags_a_service_at_its_scaling_ceiling() {
    let ev = evidence_after("PERF-03", |snap, s| {
        with_scalable(snap, 1, 2, vec![cpu_policy(60.0)]);
        s.desired_count = 2;
    });
    assert_eq!(ev, ["desiredCount=2 is at MaxCapacity=2"]);
    assert!(
        evidence_after("PERF-03", |snap, _| with_scalable(
            snap,
            1,
            10,
            vec![cpu_policy(60.0)]
        ))
        .is_empty()
    );
}

#[test]
fn cost01_and_sus02_read_utilisation() {
    let ev = evidence_after("COST-01", |snap, s| with_metrics(snap, s, 5.0, 10.0, 100.0));
    assert!(ev[0].starts_with("p95 CPU 5% and max memory 10%"), "{ev:?}");
    assert!(
        evidence_after("COST-01", |snap, s| with_metrics(
            snap, s, 50.0, 60.0, 100.0
        ))
        .is_empty()
    );
    let ev = evidence_after("SUS-02", |snap, s| with_metrics(snap, s, 1.0, 10.0, 0.0));
    assert!(ev[0].contains("0 requests"), "{ev:?}");
    assert!(
        evidence_after("SUS-02", |snap, s| with_metrics(snap, s, 1.0, 10.0, 5.0)).is_empty(),
        "it serves requests"
    );
}

#[test]
fn cluster_settings_are_reported_once_per_cluster_naming_no_service() {
    let (mut snap, svc) = base();
    let mut other = svc.clone();
    other.name = "t".into();
    other.arn = "arn:aws:ecs:us-east-1:1:service/c/t".into();
    snap.services = vec![std::sync::Arc::new(svc), std::sync::Arc::new(other)];
    let r = evaluate(&snap, &ReviewConfig::default());
    let ops01: Vec<_> = r.findings.iter().filter(|f| f.id == "OPS-01").collect();
    assert_eq!(ops01.len(), 1, "{ops01:?}");
    assert_eq!(ops01[0].service, None);
    assert_eq!(&*ops01[0].cluster, "c");
    let cluster_tags: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.id == "OPS-09" && f.evidence[0].starts_with("cluster "))
        .collect();
    assert_eq!(cluster_tags.len(), 1);
    assert_eq!(cluster_tags[0].service, None);
    assert_eq!(cluster_tags[0].controls, ["ECS.14"]);
}

fn alarm(
    metric: &str,
    ns: &str,
    cmp: &str,
    threshold: f64,
    period: i32,
    periods: i32,
) -> crate::model::Alarm {
    crate::model::Alarm {
        name: format!("a-{metric}"),
        arn: format!("arn:aws:cloudwatch:us-east-1:1:alarm:a-{metric}"),
        namespace: ns.into(),
        metric_name: metric.into(),
        dimensions: [("ClusterName", "c"), ("ServiceName", "s")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        comparison_operator: cmp.into(),
        threshold,
        period,
        evaluation_periods: periods,
        datapoints_to_alarm: periods,
        service_key: Some("c/s".into()),
        account: String::new(),
        region: String::new(),
        statistic: "Average".into(),
        state: crate::model::AlarmState::Ok,
        state_reason: String::new(),
        state_updated_at: 0,
        actions_enabled: true,
        alarm_actions: vec!["arn:aws:sns:us-east-1:1:oncall".into()],
        history: vec![],
    }
}

#[test]
fn ops05_passes_only_alarms_that_protect() {
    let with = |alarms: Vec<crate::model::Alarm>| {
        move |snap: &mut FleetSnapshot, _: &mut Service| snap.alarms = Arc::new(alarms)
    };
    let gt = "GreaterThanThreshold";
    // 99 % over 60 one-minute periods protects nothing.
    let ev = evidence_after(
        "OPS-05",
        with(vec![
            alarm("CPUUtilization", "AWS/ECS", gt, 99.0, 60, 60),
            alarm("MemoryUtilization", "AWS/ECS", gt, 80.0, 60, 3),
        ]),
    );
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert!(ev[0].contains("threshold 99 never protects"), "{ev:?}");
    let ev = evidence_after(
        "OPS-05",
        with(vec![
            alarm("CPUUtilization", "AWS/ECS", gt, 80.0, 60, 60),
            alarm(
                "MemoryUtilization",
                "AWS/ECS",
                "LessThanThreshold",
                80.0,
                60,
                3,
            ),
        ]),
    );
    assert!(
        ev[0].contains("60 min to alarm") && ev[1].contains("alarms the wrong way"),
        "{ev:?}"
    );
    assert!(
        evidence_after(
            "OPS-05",
            with(vec![
                alarm("CPUUtilization", "AWS/ECS", gt, 80.0, 60, 3),
                alarm("MemoryUtilization", "AWS/ECS", gt, 80.0, 60, 3),
            ])
        )
        .is_empty()
    );
    // The fix is the command, with the service's dimensions.
    let (mut snap, mut svc) = base();
    with(vec![])(&mut snap, &mut svc);
    snap.services = vec![std::sync::Arc::new(svc.clone())];
    let fix = run("OPS-05", &snap, &svc)[0].fix.to_string();
    assert!(
        fix.contains("aws cloudwatch put-metric-alarm --alarm-name c-s-CPUUtilization --namespace AWS/ECS --metric-name CPUUtilization --dimensions Name=ClusterName,Value=c Name=ServiceName,Value=s"),
        "{fix}"
    );
    assert!(fix.contains("--metric-name MemoryUtilization"), "{fix}");
}

#[test]
fn max_severity_bounds_every_finding_of_every_scenario() {
    for name in Scenario::builtin_names() {
        let mut sim = Simulator::new(Scenario::builtin(name).unwrap(), None);
        for t in [60_000, 240_000, 900_000, 2_400_000] {
            sim.run_until(t);
            let r = evaluate(&sim.snapshot(), &ReviewConfig::default());
            for f in &r.findings {
                assert!(
                    f.severity >= crate::review::max_severity(f.id),
                    "{name}@{t}: {} at {:?} above its catalogue severity",
                    f.id,
                    f.severity
                );
            }
        }
    }
}
