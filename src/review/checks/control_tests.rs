//! Table tests of the checks that carry AWS's controls beyond the task
//! definition: load balancers (ELB.1/4/5/6/12), capacity providers
//! (ECS.19), task sets (ECS.16), EFS (ECS.18), ECR (ECR.1–3), GuardDuty
//! and the execution role. Each fires on its shape, names its control, and
//! is quiet once the shape is fixed; what was not read is never passed.

use std::sync::Arc;

use super::table_tests::{evidence_after, td_mut};
use super::tests::base;
use crate::model::*;
use crate::review::{ReviewConfig, controls, evaluate};

fn lb(attrs: &[(&str, &str)], listeners: &[(&str, i32, bool)]) -> LoadBalancerPosture {
    LoadBalancerPosture {
        arn: "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/abc".into(),
        name: "web".into(),
        kind: "application".into(),
        attributes: attrs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        listeners: listeners
            .iter()
            .map(|(p, port, r)| Listener {
                port: *port,
                protocol: p.to_string(),
                redirects_to_https: *r,
            })
            .collect(),
        unread: None,
    }
}

const HARDENED: &[(&str, &str)] = &[
    ("access_logs.s3.enabled", "true"),
    ("deletion_protection.enabled", "true"),
    ("routing.http.drop_invalid_header_fields.enabled", "true"),
    ("routing.http.desync_mitigation_mode", "strictest"),
];

fn behind(p: Option<LoadBalancerPosture>) -> impl FnOnce(&mut FleetSnapshot, &mut Service) {
    move |snap, s| {
        s.load_balancers = vec![LoadBalancerRef {
            target_group_arn: "arn:tg".into(),
            container_name: "app".into(),
            container_port: 80,
        }];
        snap.target_groups = Arc::new(vec![TargetGroup {
            arn: "arn:tg".into(),
            name: "tg".into(),
            load_balancer_arn: Some(
                "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/abc".into(),
            ),
            load_balancer_azs: vec!["a".into(), "b".into()],
            load_balancer: p,
            ..Default::default()
        }]);
    }
}

fn controls_of(check: &str, ev: &[String]) -> Vec<&'static str> {
    controls::of_finding(check, ev)
}

#[test]
fn an_elb_with_defaults_fails_each_elb_control_and_a_hardened_one_passes() {
    let defaults = lb(
        &[
            ("access_logs.s3.enabled", "false"),
            ("deletion_protection.enabled", "false"),
            ("routing.http.drop_invalid_header_fields.enabled", "false"),
            ("routing.http.desync_mitigation_mode", "monitor"),
        ],
        &[("HTTP", 80, false), ("HTTPS", 443, false)],
    );
    let ev = evidence_after("SEC-12", behind(Some(defaults.clone())));
    assert_eq!(
        ev,
        [
            "load balancer web listener HTTP:80 does not redirect to HTTPS",
            "load balancer web routing.http.drop_invalid_header_fields.enabled=false",
            "load balancer web routing.http.desync_mitigation_mode=monitor",
        ]
    );
    assert_eq!(controls_of("SEC-12", &ev), ["ELB.1", "ELB.4", "ELB.12"]);
    let ev = evidence_after("OPS-10", behind(Some(defaults.clone())));
    assert_eq!(ev, ["load balancer web access_logs.s3.enabled=false"]);
    assert_eq!(controls_of("OPS-10", &ev), ["ELB.5"]);
    let ev = evidence_after("REL-17", behind(Some(defaults)));
    assert_eq!(ev, ["load balancer web deletion_protection.enabled=false"]);
    assert_eq!(controls_of("REL-17", &ev), ["ELB.6"]);

    let hardened = lb(HARDENED, &[("HTTP", 80, true), ("HTTPS", 443, false)]);
    for id in ["SEC-12", "OPS-10", "REL-17"] {
        assert!(
            evidence_after(id, behind(Some(hardened.clone()))).is_empty(),
            "{id}"
        );
    }
    // A network load balancer has no HTTP settings: SEC-12 does not apply.
    let mut nlb = lb(&[], &[("TCP", 443, false)]);
    nlb.kind = "network".into();
    assert!(evidence_after("SEC-12", behind(Some(nlb))).is_empty());
}

#[test]
fn an_unread_load_balancer_is_not_evaluated_naming_the_api() {
    let mut p = lb(&[], &[]);
    p.unread = Some(
        "elasticloadbalancing:DescribeLoadBalancerAttributes: AccessDenied: not allowed".into(),
    );
    let (mut snap, mut svc) = base();
    behind(Some(p))(&mut snap, &mut svc);
    snap.services = vec![Arc::new(svc)];
    let r = evaluate(&snap, &ReviewConfig::default());
    for id in ["SEC-12", "OPS-10", "REL-17"] {
        assert!(!r.findings.iter().any(|f| f.id == id), "{id}");
        let n = r
            .not_evaluated
            .iter()
            .find(|n| n.id == id)
            .unwrap_or_else(|| panic!("{id} not listed: {:?}", r.not_evaluated));
        assert!(
            n.missing_data,
            "{id}: a read failure counts against the gate"
        );
        assert!(
            n.reason.contains("DescribeLoadBalancerAttributes"),
            "{id}: {}",
            n.reason
        );
    }
    // Never described at all: listed too, not passed.
    let (mut snap, mut svc) = base();
    behind(None)(&mut snap, &mut svc);
    snap.services = vec![Arc::new(svc)];
    let r = evaluate(&snap, &ReviewConfig::default());
    let n = r.not_evaluated.iter().find(|n| n.id == "OPS-10").unwrap();
    assert!(n.reason.contains("load balancer web"), "{}", n.reason);
}

#[test]
fn rel18_wants_managed_termination_protection_once_per_cluster() {
    let provider = |mtp: &str| CapacityProvider {
        name: "asg-cp".into(),
        managed_termination_protection: mtp.into(),
        managed_scaling: "ENABLED".into(),
        ..Default::default()
    };
    let with = |mtp: &'static str| {
        move |snap: &mut FleetSnapshot, _: &mut Service| {
            Arc::make_mut(&mut snap.clusters)[0].capacity_providers = vec![provider(mtp)];
        }
    };
    let ev = evidence_after("REL-18", with("DISABLED"));
    assert_eq!(
        ev,
        ["capacity provider asg-cp managedTerminationProtection=DISABLED"]
    );
    assert_eq!(controls_of("REL-18", &ev), ["ECS.19"]);
    assert!(evidence_after("REL-18", with("ENABLED")).is_empty());
    // Not described: not evaluated, naming the call.
    let (mut snap, svc) = base();
    let c = &mut Arc::make_mut(&mut snap.clusters)[0];
    c.capacity_providers = vec![CapacityProvider {
        name: "asg-cp".into(),
        ..Default::default()
    }];
    c.capacity_providers_unread = Some("ecs:DescribeCapacityProviders: AccessDenied".into());
    snap.services = vec![Arc::new(svc)];
    let r = evaluate(&snap, &ReviewConfig::default());
    assert!(!r.findings.iter().any(|f| f.id == "REL-18"));
    let n = r.not_evaluated.iter().find(|n| n.id == "REL-18").unwrap();
    assert!(
        n.reason.contains("ecs:DescribeCapacityProviders"),
        "{}",
        n.reason
    );
}

#[test]
fn sec01_covers_task_sets_as_ecs16() {
    let ev = evidence_after("SEC-01", |_, s| {
        s.task_sets = vec![TaskSet {
            id: "ecs-svc/9".into(),
            status: "PRIMARY".into(),
            assign_public_ip: true,
            ..Default::default()
        }];
    });
    assert_eq!(ev, ["task set ecs-svc/9 (PRIMARY) assignPublicIp=ENABLED"]);
    assert_eq!(controls_of("SEC-01", &ev), ["ECS.16"]);
    let ev = evidence_after("SEC-01", |_, s| {
        s.network_configuration = Some(NetworkConfiguration {
            assign_public_ip: "ENABLED".into(),
            ..Default::default()
        });
    });
    assert_eq!(controls_of("SEC-01", &ev), ["ECS.2"]);
    assert!(
        evidence_after("SEC-01", |_, s| {
            s.task_sets = vec![TaskSet::default()];
        })
        .is_empty()
    );
}

#[test]
fn sec07_wants_efs_volumes_encrypted_in_transit() {
    let with = |enc: bool| {
        move |snap: &mut FleetSnapshot, _: &mut Service| {
            td_mut(snap).volumes = vec![Volume {
                name: "data".into(),
                efs: Some(EfsVolume {
                    file_system_id: "fs-1".into(),
                    transit_encryption: enc,
                }),
            }];
        }
    };
    let ev = evidence_after("SEC-07", with(false));
    assert_eq!(ev, ["volume data (EFS fs-1) transitEncryption=DISABLED"]);
    assert_eq!(controls_of("SEC-07", &ev), ["ECS.18"]);
    assert!(evidence_after("SEC-07", with(true)).is_empty());
}

const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api:1.4";

fn repo(scan: bool, mutability: &str, lifecycle: Option<bool>) -> EcrRepository {
    EcrRepository {
        uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/shop/api".into(),
        name: "shop/api".into(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        scan_on_push: scan,
        tag_mutability: mutability.into(),
        lifecycle_policy: lifecycle,
        unread: None,
    }
}

fn with_repo(r: Option<EcrRepository>) -> impl FnOnce(&mut FleetSnapshot, &mut Service) {
    move |snap, _| {
        td_mut(snap).container_definitions[0].image = IMAGE.into();
        snap.ecr_repositories = Arc::new(r.into_iter().collect());
    }
}

#[test]
fn sec08_judges_the_ecr_repositories_of_the_images() {
    let ev = evidence_after(
        "SEC-08",
        with_repo(Some(repo(false, "MUTABLE", Some(false)))),
    );
    assert_eq!(
        ev,
        [
            "repository shop/api scanOnPush=false",
            "repository shop/api imageTagMutability=MUTABLE",
            "repository shop/api has no lifecycle policy",
        ]
    );
    assert_eq!(controls_of("SEC-08", &ev), ["ECR.1", "ECR.2", "ECR.3"]);
    assert!(
        evidence_after(
            "SEC-08",
            with_repo(Some(repo(true, "IMMUTABLE", Some(true))))
        )
        .is_empty()
    );
    // A repository that could not be read: not evaluated, naming ECR.
    let mut r = repo(false, "MUTABLE", None);
    r.unread = Some("ecr:DescribeRepositories: AccessDeniedException: no".into());
    let (mut snap, mut svc) = base();
    with_repo(Some(r))(&mut snap, &mut svc);
    snap.services = vec![Arc::new(svc)];
    let out = evaluate(&snap, &ReviewConfig::default());
    assert!(!out.findings.iter().any(|f| f.id == "SEC-08"));
    let n = out.not_evaluated.iter().find(|n| n.id == "SEC-08").unwrap();
    assert!(
        n.missing_data && n.reason.contains("ecr:DescribeRepositories"),
        "{n:?}"
    );
    // No image from ECR: listed as not evaluated (nothing to judge), not passed.
    let (mut snap, svc) = base();
    snap.services = vec![Arc::new(svc)];
    let out = evaluate(&snap, &ReviewConfig::default());
    let n = out.not_evaluated.iter().find(|n| n.id == "SEC-08").unwrap();
    assert!(n.reason.contains("no image"), "{}", n.reason);
}

#[test]
fn sec09_reads_guardduty_runtime_monitoring_and_the_fargate_agent() {
    let with = |g: Option<GuardDuty>| {
        move |snap: &mut FleetSnapshot, _: &mut Service| {
            snap.guardduty = Arc::new(g.into_iter().collect());
        }
    };
    let gd = |id: Option<&str>, rm: bool, agent: bool| GuardDuty {
        detector_id: id.map(str::to_string),
        runtime_monitoring: rm,
        ecs_fargate_agent: agent,
        ..Default::default()
    };
    assert_eq!(
        evidence_after("SEC-09", with(Some(gd(None, false, false)))),
        ["no GuardDuty detector in  "]
    );
    assert_eq!(
        evidence_after("SEC-09", with(Some(gd(Some("d1"), true, false)))),
        ["detector d1 ECS_FARGATE_AGENT_MANAGEMENT not ENABLED"]
    );
    assert!(evidence_after("SEC-09", with(Some(gd(Some("d1"), true, true)))).is_empty());
    // Not read in the place: listed, not passed.
    let (mut snap, svc) = base();
    snap.services = vec![Arc::new(svc)];
    let out = evaluate(&snap, &ReviewConfig::default());
    let n = out.not_evaluated.iter().find(|n| n.id == "SEC-09").unwrap();
    assert!(n.reason.contains("GuardDuty was not read"), "{}", n.reason);
}

#[test]
fn sec06_reads_the_execution_role_for_secret_reads_on_every_resource() {
    let with = |doc: &'static str| {
        move |snap: &mut FleetSnapshot, _: &mut Service| {
            let td = td_mut(snap);
            td.execution_role_arn = Some("arn:aws:iam::1:role/exec".into());
            td.execution_role = Some(IamRole {
                arn: "arn:aws:iam::1:role/exec".into(),
                policies: vec![RolePolicy {
                    name: "pull".into(),
                    policy_arn: None,
                    document: doc.into(),
                }],
            });
        }
    };
    let ev = evidence_after(
        "SEC-06",
        with(
            r#"{"Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","logs:CreateLogStream"],"Resource":"*"},{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","ssm:GetParameters"],"Resource":"*"}]}"#,
        ),
    );
    assert_eq!(
        ev,
        [
            "execution role policy pull allows secretsmanager:GetSecretValue, ssm:GetParameters on Resource \"*\" without a Condition"
        ]
    );
    // Pulling images and writing logs on "*" is what an execution role does.
    assert!(
        evidence_after(
            "SEC-06",
            with(
                r#"{"Statement":{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","logs:PutLogEvents"],"Resource":"*"}}"#
            )
        )
        .is_empty()
    );
    // Scoped to the task's own secret: fine.
    assert!(
        evidence_after(
            "SEC-06",
            with(
                r#"{"Statement":{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:1:secret:db-AbCdEf"}}"#
            )
        )
        .is_empty()
    );
}
