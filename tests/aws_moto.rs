//! The AWS source against a real API peer: moto's server mode on loopback.
//! The harness starts `moto_server` on a free port, seeds it through the Rust
//! SDK, runs ecsdeck's own AWS source and `ecsdeck status` against it, and
//! stops it at the end (also when a test fails: `Drop`).
//!
//! `scripts/test.sh` installs moto into `.venv` and sets
//! `ECSDECK_MOTO_SERVER`; with `ECSDECK_REQUIRE_MOTO=1` (as the script sets)
//! a missing moto fails the test instead of skipping it.

use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_ecs::types as t;
use ecsdeck::source::aws::{AwsOptions, AwsSource};

mod moto;
use moto::{Moto, fake_credentials, sdk_conf};

async fn seed(url: &str, clusters: &[(&str, usize)]) {
    let conf = sdk_conf(url, "us-east-1").await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let td = ecs
        .register_task_definition()
        .family("web")
        // Bridge mode: awsvpc services need subnets, which moto checks
        // against its EC2 backend (seeding EC2 needs aws-sdk-ec2, not built yet).
        .network_mode(t::NetworkMode::Bridge)
        .requires_compatibilities(t::Compatibility::Ec2)
        .cpu("256")
        .memory("512")
        .container_definitions(
            t::ContainerDefinition::builder()
                .name("web")
                .image("nginx:1.27")
                .memory(512)
                .essential(true)
                .build(),
        )
        .send()
        .await
        .expect("register task definition");
    let td_arn = td
        .task_definition()
        .and_then(|d| d.task_definition_arn())
        .unwrap()
        .to_string();
    for (cluster, n) in clusters {
        ecs.create_cluster()
            .cluster_name(*cluster)
            .send()
            .await
            .expect("create cluster");
        for i in 0..*n {
            ecs.create_service()
                .cluster(*cluster)
                .service_name(format!("svc-{i:03}"))
                .task_definition(&td_arn)
                .desired_count(2)
                .launch_type(t::LaunchType::Ec2)
                .send()
                .await
                .expect("create service");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_batches_and_paginates_against_moto() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    seed(&moto.url, &[("prod", 25), ("batch", 3)]).await;
    let src = AwsSource::connect(AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.url.clone()),
        ..Default::default()
    })
    .await;
    let snap = src.fetch().await;
    assert!(
        snap.freshness["ecs"].error.is_none(),
        "{:?}",
        snap.freshness
    );
    assert_eq!(snap.clusters.len(), 2);
    assert_eq!(
        snap.services.len(),
        28,
        "no service dropped past the batch size"
    );
    assert!(
        snap.services
            .iter()
            .all(|s| s.desired_count == 2 && s.region == "us-east-1")
    );
    let prod: Vec<_> = snap
        .services
        .iter()
        .filter(|s| s.cluster == "prod")
        .collect();
    assert_eq!(prod.len(), 25);
    assert_eq!(prod[24].name, "svc-024");
    // The batching minimum: ceil(25/10) + ceil(3/10) DescribeServices calls.
    let calls = &src.calls;
    use std::sync::atomic::Ordering::Relaxed;
    assert_eq!(calls.describe_services.load(Relaxed), 3 + 1);
    assert_eq!(
        calls.describe_task_definition.load(Relaxed),
        1,
        "one task definition, described once"
    );
    // Immutable revisions are cached: a second refresh doesn't describe it again.
    let _ = src.fetch().await;
    assert_eq!(calls.describe_task_definition.load(Relaxed), 1);
    let td = snap.task_definitions.values().next().unwrap();
    assert_eq!(
        (td.cpu.as_deref(), td.memory.as_deref()),
        (Some("256"), Some("512"))
    );
    eprintln!(
        "aws calls for one refresh of 28 services: {}",
        calls.total() / 2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_command_against_moto() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    seed(&moto.url, &[("prod", 12)]).await;
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args([
            "status",
            "--format",
            "json",
            "--region",
            "us-east-1",
            "--endpoint-url",
            &moto.url,
            "--data-dir",
        ])
        .arg(data.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let services = v["services"].as_array().unwrap();
    assert_eq!(services.len(), 12);
    for s in services {
        assert_eq!(s["region"], "us-east-1");
        assert_eq!(s["cluster"], "prod");
        assert_eq!(s["desired"], 2);
        // moto never starts tasks for a service: desired 2, running 0 → failed.
        assert_eq!(s["health"], "failed");
    }
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(v["source"]["kind"], "aws");
}

/// A service `prod/api` on revision 2 of `api` (revision 1 registered before),
/// desired 2, with a scalable target 2..10.
async fn seed_runbook_fleet(url: &str) {
    let conf = sdk_conf(url, "us-east-1").await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    ecs.create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .unwrap();
    let mut arns = vec![];
    for image in ["shop-api:1.0", "shop-api:1.1"] {
        let td = ecs
            .register_task_definition()
            .family("api")
            .network_mode(t::NetworkMode::Bridge)
            .requires_compatibilities(t::Compatibility::Ec2)
            .container_definitions(
                t::ContainerDefinition::builder()
                    .name("api")
                    .image(image)
                    .memory(512)
                    .essential(true)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        arns.push(
            td.task_definition()
                .unwrap()
                .task_definition_arn()
                .unwrap()
                .to_string(),
        );
    }
    ecs.create_service()
        .cluster("prod")
        .service_name("api")
        .task_definition(&arns[1])
        .desired_count(2)
        .launch_type(t::LaunchType::Ec2)
        .send()
        .await
        .unwrap();
    let aas = aws_sdk_applicationautoscaling::Client::new(&conf);
    use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
    aas.register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id("service/prod/api")
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(2)
        .max_capacity(10)
        .send()
        .await
        .unwrap();
}

fn ecsdeck_runbook(
    url: &str,
    data: &std::path::Path,
    args: &[&str],
) -> (serde_json::Value, std::process::Output) {
    let out = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args([
            "--write",
            "--region",
            "us-east-1",
            "--endpoint-url",
            url,
            "--data-dir",
        ])
        .arg(data)
        .args(["runbook", "run"])
        .args(args)
        .args(["--yes", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out)
}

fn journal_calls(summary: &serde_json::Value) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(summary["journal"].as_str().unwrap()).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["kind"] == "api_call" && e["detail"]["phase"] == "after")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runbooks_change_and_restore_a_moto_fleet() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    seed_runbook_fleet(&moto.url).await;
    let data = tempfile::tempdir().unwrap();
    let conf = sdk_conf(&moto.url, "us-east-1").await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let aas = aws_sdk_applicationautoscaling::Client::new(&conf);

    // scale-out: moto never starts tasks, so the waits time out (after the
    // short `wait`), the investigate checkpoint's first choice restores.
    let (s, out) = ecsdeck_runbook(
        &moto.url,
        data.path(),
        &[
            "scale-out",
            "--param",
            "cluster=prod",
            "--param",
            "service=api",
            "--param",
            "target=4",
            "--param",
            "require_steady=false",
            "--param",
            "wait=3s",
        ],
    );
    assert_eq!(
        s["outcome"],
        "completed",
        "{s} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
    let calls = journal_calls(&s);
    let apis: Vec<&str> = calls
        .iter()
        .map(|c| c["detail"]["call"]["api"].as_str().unwrap())
        .collect();
    assert_eq!(
        apis,
        ["SetCapacity", "Scale", "SetCapacity", "Scale"],
        "{calls:#?}"
    );
    assert!(calls.iter().all(|c| c["detail"]["ok"] == true));
    // Every call's AWS request id is in the journal.
    assert!(
        calls
            .iter()
            .all(|c| c["aws_request_id"].as_str().is_some_and(|r| !r.is_empty())),
        "{calls:#?}"
    );
    // The change happened (UpdateService answered desiredCount 4) and was restored.
    assert_eq!(calls[1]["detail"]["output"]["desiredCount"], 4);
    let svc = ecs
        .describe_services()
        .cluster("prod")
        .services("api")
        .send()
        .await
        .unwrap();
    assert_eq!(svc.services()[0].desired_count(), 2);
    let st = aas
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .send()
        .await
        .unwrap();
    let st = &st.scalable_targets()[0];
    assert_eq!((st.min_capacity(), st.max_capacity()), (2, 10));

    // rollback: resolves api:1 through ListTaskDefinitions and redeploys it.
    let (s, out) = ecsdeck_runbook(
        &moto.url,
        data.path(),
        &[
            "rollback",
            "--param",
            "cluster=prod",
            "--param",
            "service=api",
            "--param",
            "incident=INC-42",
            "--param",
            "wait=3s",
        ],
    );
    let svc = ecs
        .describe_services()
        .cluster("prod")
        .services("api")
        .send()
        .await
        .unwrap();
    assert!(
        svc.services()[0]
            .task_definition()
            .unwrap()
            .ends_with("task-definition/api:1"),
        "{s} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = journal_calls(&s);
    let redeploy = calls
        .iter()
        .find(|c| {
            c["detail"]["call"]["api"] == "UpdateService"
                || c["detail"]["call"]["api"] == "StopDeployment"
        })
        .expect("a redeploy call");
    assert!(redeploy["aws_request_id"].as_str().is_some());
    // moto never completes a rollout: the run ends aborted at the escalation
    // checkpoint (its first choice), having made the change.
    assert!(
        s["outcome"] == "completed" || s["outcome"] == "aborted",
        "{s}"
    );
    let report = std::fs::read_to_string(s["report"].as_str().unwrap()).unwrap();
    assert!(report.contains("# Drill report"), "{report}");
}

/// A service alarm on `metric` > 80 for 3 minutes, with ClusterName and
/// ServiceName dimensions, routed to `action` when given.
async fn put_service_alarm(
    cwc: &aws_sdk_cloudwatch::Client,
    name: &str,
    (ns, metric): (&str, &str),
    (cluster, service): (&str, &str),
    action: Option<&str>,
) {
    use aws_sdk_cloudwatch::types as cw;
    let dim = |n: &str, v: &str| cw::Dimension::builder().name(n).value(v).build();
    cwc.put_metric_alarm()
        .alarm_name(name)
        .namespace(ns)
        .metric_name(metric)
        .dimensions(dim("ClusterName", cluster))
        .dimensions(dim("ServiceName", service))
        .statistic(cw::Statistic::Average)
        .period(60)
        .evaluation_periods(3)
        .threshold(80.0)
        .comparison_operator(cw::ComparisonOperator::GreaterThanThreshold)
        .set_alarm_actions(action.map(|a| vec![a.to_string()]))
        .set_actions_enabled(action.map(|_| true))
        .send()
        .await
        .unwrap();
}

/// A misconfigured service and a well-configured one, seeded through the SDK.
async fn seed_review_fleet(url: &str) {
    let conf = sdk_conf(url, "us-east-1").await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let tags = |env: &str| {
        vec![
            t::Tag::builder().key("Environment").value(env).build(),
            t::Tag::builder().key("Owner").value("shop").build(),
            t::Tag::builder().key("CostCenter").value("cc-1").build(),
            t::Tag::builder().key("Application").value("shop").build(),
        ]
    };
    ecs.create_cluster()
        .cluster_name("shop")
        .set_tags(Some(tags("prod")))
        .settings(
            t::ClusterSetting::builder()
                .name(t::ClusterSettingName::ContainerInsights)
                .value("enhanced")
                .build(),
        )
        .send()
        .await
        .unwrap();
    // legacy: a plaintext secret in the environment, no health check, no logs,
    // root user, no circuit breaker, one task, no auto scaling.
    let bad = ecs
        .register_task_definition()
        .family("legacy")
        .network_mode(t::NetworkMode::Bridge)
        .requires_compatibilities(t::Compatibility::Ec2)
        .container_definitions(
            t::ContainerDefinition::builder()
                .name("legacy")
                .image("legacy:latest")
                .memory(512)
                .essential(true)
                .environment(
                    t::KeyValuePair::builder()
                        .name("DB_PASSWORD")
                        .value("hunter2")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let good = ecs
        .register_task_definition()
        .family("checkout")
        .network_mode(t::NetworkMode::Bridge)
        .requires_compatibilities(t::Compatibility::Ec2)
        .cpu("512")
        .memory("1024")
        .set_tags(Some(tags("prod")))
        .container_definitions(
            t::ContainerDefinition::builder()
                .name("checkout")
                .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout@sha256:4f1c3b9e2d7a8c6b5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d")
                .memory(1024)
                .essential(true)
                .user("1000:1000")
                .readonly_root_filesystem(true)
                .secrets(t::Secret::builder().name("DB_PASSWORD").value_from("arn:aws:secretsmanager:us-east-1:123456789012:secret:db").build().unwrap())
                .health_check(
                    t::HealthCheck::builder()
                        .set_command(Some(vec!["CMD-SHELL".into(), "curl -f http://localhost/health || exit 1".into()]))
                        .interval(10)
                        .timeout(5)
                        .retries(3)
                        .start_period(20)
                        .build()
                        .unwrap(),
                )
                .log_configuration(
                    t::LogConfiguration::builder()
                        .log_driver(t::LogDriver::Awslogs)
                        .options("awslogs-group", "/ecs/checkout")
                        .options("awslogs-region", "us-east-1")
                        .options("mode", "non-blocking")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let arn =
        |o: &aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionOutput| {
            o.task_definition()
                .unwrap()
                .task_definition_arn()
                .unwrap()
                .to_string()
        };
    ecs.create_service()
        .cluster("shop")
        .service_name("legacy")
        .task_definition(arn(&bad))
        .desired_count(1)
        .launch_type(t::LaunchType::Ec2)
        .send()
        .await
        .unwrap();
    ecs.create_service()
        .cluster("shop")
        .service_name("checkout")
        .task_definition(arn(&good))
        .desired_count(3)
        .launch_type(t::LaunchType::Ec2)
        .set_tags(Some(tags("prod")))
        .propagate_tags(t::PropagateTags::Service)
        .enable_ecs_managed_tags(true)
        .send()
        .await
        .unwrap();
    // moto only keeps deploymentConfiguration from UpdateService.
    ecs.update_service()
        .cluster("shop")
        .service("checkout")
        .deployment_configuration(
            t::DeploymentConfiguration::builder()
                .minimum_healthy_percent(100)
                .maximum_percent(200)
                .deployment_circuit_breaker(
                    t::DeploymentCircuitBreaker::builder()
                        .enable(true)
                        .rollback(true)
                        .build(),
                )
                .build(),
        )
        .health_check_grace_period_seconds(30)
        .availability_zone_rebalancing(t::AvailabilityZoneRebalancing::Enabled)
        .enable_ecs_managed_tags(true)
        .propagate_tags(t::PropagateTags::Service)
        .send()
        .await
        .unwrap();
    seed_checkout_watch(&conf).await;
}

/// checkout scales with target tracking, is watched by saturation and
/// availability alarms routed to on-call, and its log group keeps 30 days.
async fn seed_checkout_watch(conf: &aws_config::SdkConfig) {
    let aas = aws_sdk_applicationautoscaling::Client::new(conf);
    use aws_sdk_applicationautoscaling::types as at;
    aas.register_scalable_target()
        .service_namespace(at::ServiceNamespace::Ecs)
        .resource_id("service/shop/checkout")
        .scalable_dimension(at::ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(3)
        .max_capacity(12)
        .send()
        .await
        .unwrap();
    aas.put_scaling_policy()
        .service_namespace(at::ServiceNamespace::Ecs)
        .resource_id("service/shop/checkout")
        .scalable_dimension(at::ScalableDimension::EcsServiceDesiredCount)
        .policy_name("cpu60")
        .policy_type(at::PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            at::TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(60.0)
                .predefined_metric_specification(
                    at::PredefinedMetricSpecification::builder()
                        .predefined_metric_type(at::MetricType::EcsServiceAverageCpuUtilization)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // checkout is watched: saturation and availability alarms routed to
    // on-call, and its log group keeps 30 days. legacy has neither.
    let cwc = aws_sdk_cloudwatch::Client::new(conf);
    for (name, ns, metric) in [
        ("checkout-cpu", "AWS/ECS", "CPUUtilization"),
        ("checkout-mem", "AWS/ECS", "MemoryUtilization"),
        (
            "checkout-running",
            "ECS/ContainerInsights",
            "RunningTaskCount",
        ),
    ] {
        put_service_alarm(
            &cwc,
            name,
            (ns, metric),
            ("shop", "checkout"),
            Some("arn:aws:sns:us-east-1:123456789012:on-call"),
        )
        .await;
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(conf);
    logs.create_log_group()
        .log_group_name("/ecs/checkout")
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name("/ecs/checkout")
        .retention_in_days(30)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_names_the_expected_checks_per_service_against_moto() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    seed_review_fleet(&moto.url).await;
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args([
            "review",
            "--format",
            "json",
            "--region",
            "us-east-1",
            "--endpoint-url",
            &moto.url,
            "--data-dir",
        ])
        .arg(data.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let ids = |svc: &str| -> Vec<String> {
        let mut ids: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["service"] == svc)
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    // Exactly these, and nothing on the well-configured service. Every
    // source is read now, so the alarm checks run: legacy has no alarm at
    // all (OPS-05 saturation, OPS-06 availability); it logs nowhere, so
    // OPS-03 (retention) has no group to judge; bridge mode has no subnets
    // (REL-05) and no task role (SEC-06).
    assert_eq!(
        ids("legacy"),
        [
            "COST-04", "OPS-02", "OPS-05", "OPS-06", "REL-01", "REL-04", "REL-07", "REL-09",
            "REL-10", "REL-15", "SEC-02", "SEC-03", "SEC-04"
        ]
    );
    assert_eq!(ids("checkout"), Vec::<String>::new(), "no false positives");
    // The plaintext secret's value never reaches the report.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("hunter2"));
    let not_eval: Vec<(&str, &str)> = v["not_evaluated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n["reason"].as_str().unwrap()))
        .collect();
    // Read from CloudWatch, Logs, EC2 and IAM: evaluated. Auto scaling is
    // read too (REL-10 fired on legacy above).
    for id in [
        "OPS-03", "OPS-05", "OPS-06", "OPS-07", "SEC-06", "REL-05", "PERF-02", "REL-10",
    ] {
        assert!(
            !not_eval.iter().any(|(i, _)| *i == id),
            "{id}: {not_eval:?}"
        );
    }
    // What needs services ecsdeck does not read says which.
    let (_, why) = not_eval
        .iter()
        .find(|(i, _)| *i == "OPS-08")
        .expect("OPS-08 (EventBridge) not evaluated");
    assert!(why.contains("needs"), "{why}");
    // High findings exist: exit 1 with the default --fail-on high.
    assert_eq!(out.status.code(), Some(1));
}

/// `n` services in `cluster` of `region`.
async fn seed_region(url: &str, region: &str, cluster: &str, n: usize) {
    let conf = sdk_conf(url, region).await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let td = ecs
        .register_task_definition()
        .family("api")
        .network_mode(t::NetworkMode::Bridge)
        .requires_compatibilities(t::Compatibility::Ec2)
        .container_definitions(
            t::ContainerDefinition::builder()
                .name("api")
                .image("api:1")
                .memory(512)
                .essential(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let arn = td
        .task_definition()
        .unwrap()
        .task_definition_arn()
        .unwrap()
        .to_string();
    ecs.create_cluster()
        .cluster_name(cluster)
        .send()
        .await
        .unwrap();
    for i in 0..n {
        ecs.create_service()
            .cluster(cluster)
            .service_name(format!("svc-{i}"))
            .task_definition(&arn)
            .desired_count(1)
            .launch_type(t::LaunchType::Ec2)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reads_every_region_given() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    seed_region(&moto.url, "us-east-1", "prod", 2).await;
    seed_region(&moto.url, "us-west-2", "prod-dr", 1).await;
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args([
            "status",
            "--format",
            "json",
            "--region",
            "us-east-1",
            "--region",
            "us-west-2",
            "--endpoint-url",
            &moto.url,
            "--data-dir",
        ])
        .arg(data.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let rows: Vec<(String, String)> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["region"].as_str().unwrap().to_string(),
                s["cluster"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("us-east-1".to_string(), "prod".to_string()),
            ("us-east-1".to_string(), "prod".to_string()),
            ("us-west-2".to_string(), "prod-dr".to_string()),
        ]
    );
}

/// A bare HTTP/1.1 POST to moto (for what the Rust SDKs this build carries
/// can't call: EC2, moto's own state manager). Returns the body.
fn http_post(url: &str, path: &str, headers: &[(&str, &str)], body: &str) -> String {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or(out)
}

/// An EC2 instance in moto (RunInstances over the Query API), its id.
fn moto_ec2_instance(url: &str) -> String {
    let body = http_post(
        url,
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0",
            ),
        ],
        "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&MinCount=1&MaxCount=1",
    );
    let start = body.find("<instanceId>").expect("RunInstances answered") + "<instanceId>".len();
    let end = start + body[start..].find('<').unwrap();
    body[start..end].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_tasks_than_a_describe_batch_are_all_read() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    // Tasks stay RUNNING however often they are described.
    http_post(
        &moto.url,
        "/moto-api/state-manager/set-transition",
        &[("Content-Type", "application/json")],
        r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000}}"#,
    );
    let instance = moto_ec2_instance(&moto.url);
    let conf = sdk_conf(&moto.url, "us-east-1").await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    ecs.create_cluster()
        .cluster_name("big")
        .send()
        .await
        .unwrap();
    let doc = format!(
        r#"{{"instanceId":"{instance}","region":"us-east-1","availabilityZone":"us-east-1a"}}"#
    );
    ecs.register_container_instance()
        .cluster("big")
        .instance_identity_document(doc)
        .total_resources(
            t::Resource::builder()
                .name("CPU")
                .r#type("INTEGER")
                .integer_value(1_000_000)
                .build(),
        )
        .total_resources(
            t::Resource::builder()
                .name("MEMORY")
                .r#type("INTEGER")
                .integer_value(10_000_000)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let td = ecs
        .register_task_definition()
        .family("w")
        .container_definitions(
            t::ContainerDefinition::builder()
                .name("w")
                .image("w:1")
                .memory(16)
                .cpu(1)
                .essential(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let td = td
        .task_definition()
        .unwrap()
        .task_definition_arn()
        .unwrap()
        .to_string();
    ecs.create_service()
        .cluster("big")
        .service_name("api")
        .task_definition(&td)
        .desired_count(260)
        .launch_type(t::LaunchType::Ec2)
        .send()
        .await
        .unwrap();
    for _ in 0..26 {
        ecs.run_task()
            .cluster("big")
            .task_definition(&td)
            .count(10)
            .group("service:api")
            .send()
            .await
            .unwrap();
    }
    let src = AwsSource::connect(AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.url.clone()),
        ..Default::default()
    })
    .await;
    let snap = src.fetch().await;
    assert!(
        snap.freshness["ecs"].error.is_none(),
        "{:?}",
        snap.freshness
    );
    let api = snap.services.iter().find(|s| s.name == "api").unwrap();
    let running = api
        .tasks
        .iter()
        .filter(|t| t.last_status == "RUNNING")
        .count();
    assert_eq!(running, 260, "no task dropped past the batch of 100");
    use std::sync::atomic::Ordering::Relaxed;
    // The batching minimum: ceil(260/100) DescribeTasks calls.
    assert_eq!(src.calls.describe_tasks.load(Relaxed), 3);
    eprintln!(
        "aws calls for one refresh of 1 service / 260 tasks: {}",
        src.calls.total()
    );
}

/// Three default-VPC subnets (one per AZ), a security group, an ALB with a
/// listener forwarding to an IP target group: (subnets, sg, target group ARN).
async fn seed_alb(
    ec2: &aws_sdk_ec2::Client,
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
) -> (Vec<String>, String, String) {
    use aws_sdk_elasticloadbalancingv2::types as elb;
    // The default VPC's subnets, one per AZ: take three AZs.
    let subnets = ec2.describe_subnets().send().await.unwrap();
    let mut by_az: std::collections::BTreeMap<String, String> = Default::default();
    let mut vpc = String::new();
    for s in subnets.subnets() {
        if s.default_for_az() == Some(true) {
            by_az
                .entry(s.availability_zone().unwrap().to_string())
                .or_insert_with(|| s.subnet_id().unwrap().to_string());
            vpc = s.vpc_id().unwrap().to_string();
        }
    }
    let three: Vec<String> = by_az.values().take(3).cloned().collect();
    assert_eq!(three.len(), 3, "moto's default VPC has a subnet per AZ");
    let sg = ec2
        .describe_security_groups()
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .group_id()
        .unwrap()
        .to_string();
    let lb = elbv2
        .create_load_balancer()
        .name("shop")
        .set_subnets(Some(three.clone()))
        .security_groups(&sg)
        .r#type(elb::LoadBalancerTypeEnum::Application)
        .send()
        .await
        .unwrap();
    let lb_arn = lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let tg = elbv2
        .create_target_group()
        .name("shop-api")
        .protocol(elb::ProtocolEnum::Http)
        .port(8080)
        .vpc_id(&vpc)
        .target_type(elb::TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap();
    let tg_arn = tg.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    elbv2
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(elb::ProtocolEnum::Http)
        .port(80)
        .default_actions(
            elb::Action::builder()
                .r#type(elb::ActionTypeEnum::Forward)
                .target_group_arn(&tg_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    (three, sg, tg_arn)
}

/// The service's CPU alarm (in ALARM), its target group's 5XX alarm, and
/// CPU datapoints over the last minutes.
async fn seed_service_alarms(cwc: &aws_sdk_cloudwatch::Client, tg_arn: &str) {
    use aws_sdk_cloudwatch::types as cw;
    // Alarms: CPU of the service (in ALARM), 5XX of its target group.
    let dims = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(n, v)| cw::Dimension::builder().name(*n).value(*v).build())
            .collect::<Vec<_>>()
    };
    put_service_alarm(
        cwc,
        "shop-api-cpu-high",
        ("AWS/ECS", "CPUUtilization"),
        ("shop", "api"),
        None,
    )
    .await;
    let tg_dim = tg_arn.rsplit_once(':').unwrap().1.to_string();
    cwc.put_metric_alarm()
        .alarm_name("shop-api-5xx")
        .namespace("AWS/ApplicationELB")
        .metric_name("HTTPCode_Target_5XX_Count")
        .set_dimensions(Some(dims(&[("TargetGroup", &tg_dim)])))
        .statistic(cw::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(10.0)
        .comparison_operator(cw::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    cwc.set_alarm_state()
        .alarm_name("shop-api-cpu-high")
        .state_value(cw::StateValue::Alarm)
        .state_reason("Threshold Crossed: 3 datapoints were greater than 80.0")
        .send()
        .await
        .unwrap();
    // CPU datapoints over the last minutes.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let minute = now / 60 * 60;
    let mut put = cwc.put_metric_data().namespace("AWS/ECS");
    for (i, v) in [40.0, 55.0, 91.0].iter().enumerate() {
        put = put.metric_data(
            cw::MetricDatum::builder()
                .metric_name("CPUUtilization")
                .set_dimensions(Some(dims(&[
                    ("ClusterName", "shop"),
                    ("ServiceName", "api"),
                ])))
                .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                    minute - 60 * (3 - i as i64),
                ))
                .value(*v)
                .build(),
        );
    }
    put.send().await.unwrap();
}

/// The service's log group (7-day retention) and its stream.
async fn seed_log_group(logs: &aws_sdk_cloudwatchlogs::Client) {
    // Logs: 7-day retention, three events (one with an escape sequence).
    logs.create_log_group()
        .log_group_name("/ecs/shop-api")
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name("/ecs/shop-api")
        .retention_in_days(7)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("/ecs/shop-api")
        .log_stream_name("shop/api/0123456789abcdef")
        .send()
        .await
        .unwrap();
}

/// A fleet that exercises every pane: three AZ subnets, an ALB and a target
/// group with targets, a task role with a wildcard policy, alarms (one in
/// ALARM), metric datapoints, and a log group with events. Returns the
/// target group ARN.
async fn seed_every_pane(url: &str) -> String {
    use aws_sdk_elasticloadbalancingv2::types as elb;
    let conf = sdk_conf(url, "us-east-1").await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let iam = aws_sdk_iam::Client::new(&conf);
    let cwc = aws_sdk_cloudwatch::Client::new(&conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    http_post(
        url,
        "/moto-api/state-manager/set-transition",
        &[("Content-Type", "application/json")],
        r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000}}"#,
    );
    let (three, sg, tg_arn) = seed_alb(&ec2, &elbv2).await;
    // A task role allowed everything on everything.
    let role = iam
        .create_role()
        .role_name("shop-api-task")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    iam.put_role_policy()
        .role_name("shop-api-task")
        .policy_name("everything")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    ecs.create_cluster()
        .cluster_name("shop")
        .send()
        .await
        .unwrap();
    let td = ecs
        .register_task_definition()
        .family("shop-api")
        .network_mode(t::NetworkMode::Awsvpc)
        .requires_compatibilities(t::Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .task_role_arn(&role_arn)
        .container_definitions(
            t::ContainerDefinition::builder()
                .name("api")
                .image("shop/api:1")
                .memory(512)
                .essential(true)
                .port_mappings(t::PortMapping::builder().container_port(8080).build())
                .log_configuration(
                    t::LogConfiguration::builder()
                        .log_driver(t::LogDriver::Awslogs)
                        .options("awslogs-group", "/ecs/shop-api")
                        .options("awslogs-region", "us-east-1")
                        .options("awslogs-stream-prefix", "shop")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let td = td
        .task_definition()
        .unwrap()
        .task_definition_arn()
        .unwrap()
        .to_string();
    let net = t::NetworkConfiguration::builder()
        .awsvpc_configuration(
            t::AwsVpcConfiguration::builder()
                .set_subnets(Some(three.clone()))
                .security_groups(&sg)
                .build()
                .unwrap(),
        )
        .build();
    ecs.create_service()
        .cluster("shop")
        .service_name("api")
        .task_definition(&td)
        .desired_count(3)
        .launch_type(t::LaunchType::Fargate)
        .network_configuration(net.clone())
        .load_balancers(
            t::LoadBalancer::builder()
                .target_group_arn(&tg_arn)
                .container_name("api")
                .container_port(8080)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Three tasks, one per subnet; their IPs registered as targets.
    for subnet in &three {
        let out = ecs
            .run_task()
            .cluster("shop")
            .task_definition(&td)
            .launch_type(t::LaunchType::Fargate)
            .group("service:api")
            .network_configuration(
                t::NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        t::AwsVpcConfiguration::builder()
                            .subnets(subnet)
                            .security_groups(&sg)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let task = &out.tasks()[0];
        let ip = task
            .attachments()
            .iter()
            .flat_map(|a| a.details())
            .find(|d| d.name() == Some("privateIPv4Address"))
            .and_then(|d| d.value())
            .expect("moto gives awsvpc tasks an IP")
            .to_string();
        elbv2
            .register_targets()
            .target_group_arn(&tg_arn)
            .targets(elb::TargetDescription::builder().id(ip).port(8080).build())
            .send()
            .await
            .unwrap();
    }
    seed_service_alarms(&cwc, &tg_arn).await;
    seed_log_group(&logs).await;
    put_logs(url, &["GET /health 200", "POST /cart 500", "\u{1b}[2Jboom"]).await;
    tg_arn
}

async fn put_logs(url: &str, lines: &[&str]) {
    let conf = sdk_conf(url, "us-east-1").await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut put = logs
        .put_log_events()
        .log_group_name("/ecs/shop-api")
        .log_stream_name("shop/api/0123456789abcdef");
    for (i, l) in lines.iter().enumerate() {
        put = put.log_events(
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(now - 1000 + i as i64)
                .message(*l)
                .build()
                .unwrap(),
        );
    }
    put.send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pane_reads_from_moto() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    let tg_arn = seed_every_pane(&moto.url).await;
    let src = AwsSource::connect(AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.url.clone()),
        ..Default::default()
    })
    .await;
    let started = Instant::now();
    let snap = src.fetch().await;
    let took = started.elapsed();
    for kind in ["ecs", "ec2", "iam", "elbv2", "metrics", "logs"] {
        let f = &snap.freshness[kind];
        assert!(
            f.updated_at.is_some() && f.error.is_none(),
            "{kind}: {:?}",
            snap.freshness
        );
    }
    // moto answers 500 to DescribeAlarmHistory: the alarms are read, the
    // history is said to be unavailable.
    let cw = &snap.freshness["cloudwatch"];
    assert!(cw.updated_at.is_some(), "{:?}", snap.freshness);
    assert_eq!(
        cw.error.as_deref(),
        Some("cloudwatch:DescribeAlarmHistory: not available from this endpoint")
    );

    let api = snap.service_in("shop/api", None).expect("service read");
    // EC2: the service's subnets span three AZs; every task has its AZ.
    let mut azs: Vec<&str> = api
        .subnets
        .iter()
        .map(|s| s.availability_zone.as_str())
        .collect();
    azs.dedup();
    assert_eq!(azs.len(), 3, "{:?}", api.subnets);
    assert!(api.subnets.iter().all(|s| s.available_ip_address_count > 0));
    assert_eq!(api.tasks.len(), 3);
    let mut task_azs: Vec<&str> = api
        .tasks
        .iter()
        .map(|t| t.availability_zone.as_deref().expect("AZ from the subnet"))
        .collect();
    task_azs.sort();
    assert_eq!(task_azs, azs);
    // ELBv2: the target group, its targets healthy, each with its task's AZ.
    let tgs: Vec<_> = snap.target_groups_for(api).collect();
    assert_eq!(tgs.len(), 1);
    assert_eq!(tgs[0].arn, tg_arn);
    assert_eq!(tgs[0].load_balancer_azs.len(), 3);
    assert_eq!(tgs[0].targets.len(), 3);
    let mut target_azs: Vec<&str> = tgs[0]
        .targets
        .iter()
        .map(|t| t.availability_zone.as_deref().expect("target AZ"))
        .collect();
    target_azs.sort();
    assert_eq!(target_azs, azs);
    // CloudWatch: both alarms attributed to the service, one in ALARM.
    let alarms: Vec<_> = snap.alarms_for(api).collect();
    assert_eq!(alarms.len(), 2, "{:?}", snap.alarms);
    let cpu = alarms
        .iter()
        .find(|a| a.name == "shop-api-cpu-high")
        .unwrap();
    assert_eq!(cpu.state, ecsdeck::model::AlarmState::Alarm);
    assert!(cpu.state_reason.contains("Threshold Crossed"));
    // Metrics: the CPU datapoints come through GetMetricData.
    let m = snap.metrics_for(api).expect("metrics");
    assert_eq!(
        m.cpu.values.len(),
        ecsdeck::source::aws::cloudwatch::METRIC_POINTS
    );
    let tail: Vec<f64> = m.cpu.values[m.cpu.values.len() - 3..].to_vec();
    assert_eq!(tail, vec![40.0, 55.0, 91.0], "{:?}", m.cpu);
    // Logs: the group's retention.
    assert_eq!(snap.log_groups.len(), 1);
    assert_eq!(snap.log_groups[0].retention_in_days, Some(7));
    // IAM: the task role's wildcard policy, decoded.
    let td = snap.task_definition(&api.task_definition).unwrap();
    let role = td.task_role.as_ref().expect("task role read");
    assert!(
        role.policies[0].document.contains(r#""Action":"s3:*""#),
        "{role:?}"
    );
    // The review now evaluates what it could not before, and SEC-06 fires.
    let review = ecsdeck::review::evaluate(&snap, &Default::default());
    assert!(
        review
            .findings
            .iter()
            .any(|f| f.id == "SEC-06" && f.service.as_deref() == Some("api")),
        "{:?}",
        review.findings.iter().map(|f| f.id).collect::<Vec<_>>()
    );
    for id in ["SEC-06", "REL-05", "OPS-03", "OPS-06"] {
        assert!(
            !review.not_evaluated.iter().any(|n| n.id == id),
            "{id} is evaluated now"
        );
    }
    // Logs tail by FilterLogEvents polling: three events, then none again
    // (de-duplicated by eventId), then only the new one.
    let target = ecsdeck::source::aws::logs::targets(&snap, api)
        .pop()
        .expect("awslogs target");
    assert_eq!(target.stream_prefix.as_deref(), Some("shop/api/"));
    let mut tail = ecsdeck::source::aws::logs::PollTail::new(target);
    let mut id = 0;
    let lines = tail.poll(&src, &mut id).await.unwrap();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[1].message, "POST /cart 500");
    assert!(tail.poll(&src, &mut id).await.unwrap().is_empty());
    put_logs(&moto.url, &["GET /health 200 again"]).await;
    let lines = tail.poll(&src, &mut id).await.unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].service_key, "shop/api");
    let calls_first = src.calls.total();
    let started = Instant::now();
    let _ = src.fetch().await;
    eprintln!(
        "second refresh (caches warm): {:?}, {} calls",
        started.elapsed(),
        src.calls.total() - calls_first
    );
    console_pollers_stream_every_kind_and_the_followed_logs(&moto.url).await;
    use std::sync::atomic::Ordering::Relaxed;
    eprintln!(
        "one full refresh (1 service, every pane) against moto: {:?}, {} calls (ecs {} elbv2 {} cloudwatch {} logs {} ec2 {} iam {} autoscaling {})",
        took,
        src.calls.total(),
        src.calls.describe_services.load(Relaxed) + src.calls.list_services.load(Relaxed),
        src.calls.elbv2.load(Relaxed),
        src.calls.cloudwatch.load(Relaxed),
        src.calls.logs.load(Relaxed),
        src.calls.ec2.load(Relaxed),
        src.calls.iam.load(Relaxed),
        src.calls.autoscaling.load(Relaxed),
    );
}

/// The console's path: one poller per kind publishing merged snapshots, and
/// the log tail of the service the operator follows.
async fn console_pollers_stream_every_kind_and_the_followed_logs(url: &str) {
    use ecsdeck::source::{Control, Update};
    let fleet = ecsdeck::source::aws::AwsFleet::connect(AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(url.to_string()),
        ..Default::default()
    })
    .await;
    let iv = ecsdeck::source::aws::Intervals {
        log_poll: Duration::from_millis(300),
        ..Default::default()
    };
    let mut h = ecsdeck::source::aws::spawn(fleet, iv);
    h.control
        .send(Control::FollowLogs(Some("shop/api".into())))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut full, mut log_lines) = (false, Vec::new());
    while !(full && log_lines.len() >= 4) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "full={full} logs={log_lines:?}");
        match tokio::time::timeout(left, h.updates.recv()).await {
            Ok(Some(Update::Snapshot(s))) => {
                full = ecsdeck::model::DATA_KINDS
                    .iter()
                    .all(|k| s.freshness.get(*k).is_some_and(|f| f.updated_at.is_some()))
                    && !s.target_groups.is_empty()
                    && !s.alarms.is_empty();
            }
            Ok(Some(Update::Logs(l))) => log_lines.extend(l),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!("full={full} logs={log_lines:?}"),
        }
    }
    assert!(log_lines.iter().all(|l| l.service_key == "shop/api"));
    let mut ids: Vec<u64> = log_lines.iter().map(|l| l.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), log_lines.len(), "no event delivered twice");
    h.control.send(Control::Shutdown).await.unwrap();
}

/// `n` more Fargate services in `shop` beside `api` (from [`seed_every_pane`]),
/// each with its own target group, `tasks` tasks spread over the three AZ
/// subnets (their IPs registered as targets), and two alarms.
async fn seed_more_services(url: &str, n: usize, tasks: usize) {
    use aws_sdk_elasticloadbalancingv2::types as elb;
    let conf = sdk_conf(url, "us-east-1").await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let cwc = aws_sdk_cloudwatch::Client::new(&conf);
    let api = ecs
        .describe_services()
        .cluster("shop")
        .services("api")
        .send()
        .await
        .unwrap();
    let api = &api.services()[0];
    let td = api.task_definition().unwrap().to_string();
    let net = api.network_configuration().unwrap().clone();
    let subnets = net.awsvpc_configuration().unwrap().subnets().to_vec();
    let sg = net.awsvpc_configuration().unwrap().security_groups()[0].clone();
    let vpc = ec2
        .describe_subnets()
        .subnet_ids(&subnets[0])
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    for i in 0..n {
        let name = format!("svc-{i:03}");
        let tg = elbv2
            .create_target_group()
            .name(format!("shop-{name}"))
            .protocol(elb::ProtocolEnum::Http)
            .port(8080)
            .vpc_id(&vpc)
            .target_type(elb::TargetTypeEnum::Ip)
            .send()
            .await
            .unwrap();
        let tg_arn = tg.target_groups()[0]
            .target_group_arn()
            .unwrap()
            .to_string();
        ecs.create_service()
            .cluster("shop")
            .service_name(&name)
            .task_definition(&td)
            .desired_count(tasks as i32)
            .launch_type(t::LaunchType::Fargate)
            .network_configuration(net.clone())
            .load_balancers(
                t::LoadBalancer::builder()
                    .target_group_arn(&tg_arn)
                    .container_name("api")
                    .container_port(8080)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let mut targets = Vec::new();
        for k in 0..tasks {
            let out = ecs
                .run_task()
                .cluster("shop")
                .task_definition(&td)
                .launch_type(t::LaunchType::Fargate)
                .group(format!("service:{name}"))
                .network_configuration(
                    t::NetworkConfiguration::builder()
                        .awsvpc_configuration(
                            t::AwsVpcConfiguration::builder()
                                .subnets(&subnets[k % subnets.len()])
                                .security_groups(&sg)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .send()
                .await
                .unwrap();
            let ip = out.tasks()[0]
                .attachments()
                .iter()
                .flat_map(|a| a.details())
                .find(|d| d.name() == Some("privateIPv4Address"))
                .and_then(|d| d.value())
                .unwrap()
                .to_string();
            targets.push(elb::TargetDescription::builder().id(ip).port(8080).build());
        }
        elbv2
            .register_targets()
            .target_group_arn(&tg_arn)
            .set_targets(Some(targets))
            .send()
            .await
            .unwrap();
        for (suffix, metric) in [("cpu", "CPUUtilization"), ("mem", "MemoryUtilization")] {
            put_service_alarm(
                &cwc,
                &format!("shop-{name}-{suffix}"),
                ("AWS/ECS", metric),
                ("shop", &name),
                None,
            )
            .await;
        }
    }
}

/// The fleet of the AWS issue's measurement: 30 services (more than three
/// DescribeServices batches), 264 tasks (more than two DescribeTasks
/// batches), 30 target groups, 62 alarms. One full refresh of every kind
/// must make exactly the batching minimum of calls, lose nothing, and
/// `ecsdeck status` must read it all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_past_every_batch_size_is_read_whole_with_the_fewest_calls() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    seed_every_pane(&moto.url).await;
    let (more, per) = (29, 9);
    seed_more_services(&moto.url, more, per).await;
    let services = 1 + more;
    let tasks = 3 + more * per;
    let target_groups = services;
    let src = AwsSource::connect(AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.url.clone()),
        ..Default::default()
    })
    .await;
    let started = Instant::now();
    let snap = src.fetch().await;
    let took = started.elapsed();
    // Nothing dropped.
    assert_eq!(snap.services.len(), services);
    let read_tasks: usize = snap.services.iter().map(|s| s.tasks.len()).sum();
    assert_eq!(read_tasks, tasks, "every task, each under its service");
    assert!(
        snap.services
            .iter()
            .all(|s| s.tasks.iter().all(|t| t.availability_zone.is_some()))
    );
    assert_eq!(snap.target_groups.len(), target_groups);
    let targets: usize = snap.target_groups.iter().map(|g| g.targets.len()).sum();
    assert_eq!(targets, tasks);
    assert!(
        snap.target_groups
            .iter()
            .flat_map(|g| &g.targets)
            .all(|t| t.availability_zone.is_some()),
        "every target has its task's AZ"
    );
    assert_eq!(snap.alarms.len(), 2 + 2 * more);
    assert_eq!(snap.metrics.len(), services);
    // Calls against the batching minimum.
    use std::sync::atomic::Ordering::Relaxed;
    let c = &src.calls;
    let ceil = |n: usize, per: usize| n.div_ceil(per) as u64;
    let ecs_min = 1 // ListClusters
        + 1 // DescribeClusters
        + ceil(services, 100) // ListServices, 100 a page
        + ceil(services, 10) // DescribeServices
        // ListTasks: RUNNING pages + STOPPED (empty). moto answers ListTasks
        // in one page whatever the count, so one call per status here.
        + 2
        + ceil(tasks, 100) // DescribeTasks
        + 1; // DescribeTaskDefinition: one revision
    let ecs = c.list_clusters.load(Relaxed)
        + c.describe_clusters.load(Relaxed)
        + c.list_services.load(Relaxed)
        + c.describe_services.load(Relaxed)
        + c.list_tasks.load(Relaxed)
        + c.describe_tasks.load(Relaxed)
        + c.describe_task_definition.load(Relaxed);
    // DescribeTargetGroups (20 a call) + DescribeLoadBalancers (for AZs)
    // + DescribeTargetHealth and DescribeTargetGroupAttributes per group
    // (no batch form exists; attributes are then cached for 10 minutes).
    let elbv2_min = ceil(target_groups, 20) + 1 + 2 * target_groups as u64;
    // DescribeAlarms (100 a page) + GetMetricData (500 queries a call, 5 a
    // service) + DescribeAlarmHistory once (moto: not available, not asked again).
    let cloudwatch_min = ceil(snap.alarms.len(), 100) + ceil(services * 5, 500) + 1;
    let rows = [
        ("ecs", ecs, ecs_min),
        ("elbv2", c.elbv2.load(Relaxed), elbv2_min),
        ("cloudwatch", c.cloudwatch.load(Relaxed), cloudwatch_min),
        ("ec2", c.ec2.load(Relaxed), 1), // DescribeSubnets, 100 ids a call
        // ListRolePolicies + GetRolePolicy + ListAttachedRolePolicies: one role.
        ("iam", c.iam.load(Relaxed), 3),
        ("logs", c.logs.load(Relaxed), 1), // DescribeLogGroups
    ];
    let mut report = String::new();
    for (kind, got, min) in rows {
        report.push_str(&format!("{kind} {got} (minimum {min}); "));
    }
    eprintln!(
        "full refresh of {services} services / {tasks} tasks / {target_groups} target groups against moto: {took:?}, {} calls: {report}autoscaling {}",
        c.total(),
        c.autoscaling.load(Relaxed)
    );
    for (kind, got, min) in rows {
        assert_eq!(got, min, "{kind}: {report}");
    }
    assert_eq!(c.describe_services.load(Relaxed), ceil(services, 10));
    assert_eq!(c.describe_tasks.load(Relaxed), ceil(tasks, 100));
    // A second refresh: revisions, subnets, roles, attributes and the
    // history verdict are cached.
    let before = c.total();
    let started = Instant::now();
    let again = src.fetch().await;
    eprintln!(
        "second refresh (caches warm): {:?}, {} calls",
        started.elapsed(),
        c.total() - before
    );
    assert_eq!(again.services.len(), services);
    assert_eq!(
        c.describe_task_definition.load(Relaxed),
        1,
        "revisions are immutable: described once"
    );
    assert_eq!(c.ec2.load(Relaxed), 1, "subnets cached");
    assert_eq!(c.iam.load(Relaxed), 3, "roles cached");

    // The whole process: `ecsdeck status` reads the same fleet. Its own
    // peak RSS comes from wait4 on its pid (not the test's other children).
    // Twice: the second run sees moto warm (moto loads each service's
    // backend on its first call).
    for run in ["first", "second"] {
        let data = tempfile::tempdir().unwrap();
        let json = data.path().join("status.json");
        let started = Instant::now();
        // Reaped below by wait4, which also gives its own rusage.
        // ECSDECK_MEASURE_BIN: time another build of ecsdeck (e.g. release).
        let bin = std::env::var("ECSDECK_MEASURE_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_ecsdeck").to_string());
        #[allow(clippy::zombie_processes)]
        let child = Command::new(&bin)
            .args([
                "status",
                "--format",
                "json",
                "--region",
                "us-east-1",
                "--endpoint-url",
            ])
            .arg(&moto.url)
            .arg("--data-dir")
            .arg(data.path())
            .stdout(std::fs::File::create(&json).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut status = 0;
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut ru) };
        let took = started.elapsed();
        assert_eq!(pid, child.id() as i32);
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&json).unwrap()).expect("status JSON");
        assert_eq!(v["services"].as_array().unwrap().len(), services);
        eprintln!(
            "ecsdeck status ({services} services, {tasks} tasks, every kind) against moto, {run} run: {took:?} wall, peak RSS {} MB ({bin})",
            ru.ru_maxrss / 1024
        );
    }
}

/// An account with nothing in it: every kind is read, nothing fails, and
/// `ecsdeck status` says so with exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_account_is_read_cleanly() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    let src = AwsSource::connect(AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.url.clone()),
        ..Default::default()
    })
    .await;
    let snap = src.fetch().await;
    assert!(snap.clusters.is_empty() && snap.services.is_empty());
    for kind in ecsdeck::model::DATA_KINDS {
        let f = &snap.freshness[kind];
        assert!(f.updated_at.is_some() && f.error.is_none(), "{kind}: {f:?}");
    }
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args([
            "status",
            "--format",
            "json",
            "--region",
            "us-east-1",
            "--endpoint-url",
        ])
        .arg(&moto.url)
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["services"].as_array().unwrap().len(), 0);
    assert_eq!(out.status.code(), Some(0), "{v}");
}

/// `ecsdeck ARGS --region us-east-1 --endpoint-url URL --data-dir TMP`.
fn ecsdeck_against(url: &str, args: &[&str]) -> std::process::Output {
    let data = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(args)
        .args(["--region", "us-east-1", "--endpoint-url", url, "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap()
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_task_definition_read_leaves_its_checks_not_evaluated_and_fails_the_gate() {
    let Some(moto) = Moto::start_denying(&["ecs:DescribeTaskDefinition"]) else {
        return;
    };
    fake_credentials();
    seed_review_fleet(&moto.url).await;
    let out = ecsdeck_against(&moto.url, &["review", "--format", "json"]);
    let v = json_of(&out);
    let fired: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap(),
                f["service"].as_str().unwrap_or(""),
            )
        })
        .collect();
    // What needs the task definition did not fire on absent data…
    for id in ["OPS-02", "SEC-02", "SEC-03", "REL-09", "SEC-04"] {
        assert!(
            !fired.iter().any(|(i, _)| *i == id),
            "{id} fired: {fired:?}"
        );
    }
    // …what needs only the service still did.
    assert!(fired.contains(&("REL-01", "legacy")), "{fired:?}");
    // Each is listed as not evaluated, naming the API and the services.
    let ne = v["not_evaluated"].as_array().unwrap();
    for id in ["OPS-02", "SEC-02", "SEC-03", "REL-09", "SEC-04"] {
        let n = ne
            .iter()
            .find(|n| n["id"] == id && n["missing_data"] == true)
            .unwrap_or_else(|| panic!("{id} not listed: {ne:?}"));
        let reason = n["reason"].as_str().unwrap();
        assert!(
            reason.contains("ecs:DescribeTaskDefinition") && reason.contains("not authorized"),
            "{reason}"
        );
        let services: Vec<&str> = n["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert!(services.contains(&"shop/legacy"), "{id}: {services:?}");
    }
    // The score of a pillar with unevaluated checks is not called complete.
    assert!(
        v["incomplete_pillars"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "SEC"),
        "{}",
        v["incomplete_pillars"]
    );
    // The failed read is in `errors`.
    let errors = v["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["kind"] == "ecs"
            && e["region"] == "us-east-1"
            && e["message"]
                .as_str()
                .unwrap()
                .contains("ecs:DescribeTaskDefinition")),
        "{errors:?}"
    );
    assert_eq!(out.status.code(), Some(1));
    // The gate: no critical finding could be made (SEC-02, the plaintext
    // secret, reads the task definition), yet --fail-on critical fails,
    // because the critical check could not look.
    let out = ecsdeck_against(
        &moto.url,
        &["review", "--format", "json", "--fail-on", "critical"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("SEC-02 (critical) not evaluated"),
        "{stderr}"
    );
    let out = ecsdeck_against(
        &moto.url,
        &[
            "review",
            "--format",
            "json",
            "--fail-on",
            "critical",
            "--allow-missing-data",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failed_kind_is_reported_and_a_blind_status_is_not_healthy() {
    let Some(moto) = Moto::start_denying(&[
        "cloudwatch:DescribeAlarms",
        "application-autoscaling:DescribeScalableTargets",
    ]) else {
        return;
    };
    fake_credentials();
    // One service parked at desired 0: steady on what ECS says.
    let conf = sdk_conf(&moto.url, "us-east-1").await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let td = ecs
        .register_task_definition()
        .family("idle")
        .network_mode(t::NetworkMode::Bridge)
        .container_definitions(
            t::ContainerDefinition::builder()
                .name("idle")
                .image("nginx:1.27")
                .memory(128)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let td_arn = td
        .task_definition()
        .and_then(|d| d.task_definition_arn())
        .unwrap()
        .to_string();
    ecs.create_cluster()
        .cluster_name("ops")
        .send()
        .await
        .unwrap();
    ecs.create_service()
        .cluster("ops")
        .service_name("idle")
        .task_definition(&td_arn)
        .desired_count(0)
        .send()
        .await
        .unwrap();
    let out = ecsdeck_against(&moto.url, &["status", "--format", "json"]);
    let v = json_of(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(v["services"][0]["health"], "steady", "{v}");
    let kinds: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"cloudwatch") && kinds.contains(&"autoscaling"),
        "every failed kind, not the first: {kinds:?}"
    );
    // One stderr line per failed kind.
    assert!(
        stderr.contains("not read: cloudwatch (us-east-1)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not read: autoscaling (us-east-1)"),
        "{stderr}"
    );
    // Alarms could not be read: "steady" is not the whole truth.
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot call the fleet healthy"), "{stderr}");
    let out = ecsdeck_against(
        &moto.url,
        &["status", "--format", "text", "--allow-missing-data"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An endpoint that accepts connections and never answers.
fn silent_endpoint() -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        let start = Instant::now();
        // Bounded: it stops by itself after two minutes.
        while !flag.load(std::sync::atomic::Ordering::Relaxed)
            && start.elapsed() < Duration::from_secs(120)
        {
            if let Ok((conn, _)) = listener.accept() {
                held.push(conn);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    (url, stop)
}

#[test]
fn a_silent_endpoint_fails_within_the_deadline() {
    fake_credentials();
    let (url, stop) = silent_endpoint();
    for (args, limit) in [
        (vec!["status", "--timeout", "3s"], 3.0),
        (vec!["review", "--format", "json", "--timeout", "2s"], 2.0),
    ] {
        let started = Instant::now();
        let out = ecsdeck_against(&url, &args);
        let took = started.elapsed().as_secs_f64();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        // The deadline holds (with room for process start and a slow CI
        // machine; before, this took 120 s).
        assert!(took < limit + 10.0, "{args:?} took {took:.1}s: {stderr}");
        // The message gives the real elapsed time and the limit.
        assert!(
            stderr.contains("no answer within")
                && stderr.contains(&format!("--timeout of {limit}s")),
            "{stderr}"
        );
        assert!(!stderr.contains("after 60s"), "{stderr}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
}
