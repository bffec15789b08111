//! The AWS source against a real API peer: moto's server mode on loopback.
//! The harness starts `moto_server` on a free port, seeds it through the Rust
//! SDK, runs ecsdeck's own AWS source and `ecsdeck status` against it, and
//! stops it at the end (also when a test fails: `Drop`).
//!
//! `scripts/test.sh` installs moto into `.venv` and sets
//! `ECSDECK_MOTO_SERVER`; with `ECSDECK_REQUIRE_MOTO=1` (as the script sets)
//! a missing moto fails the test instead of skipping it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_ecs::types as t;
use ecsdeck::source::aws::{AwsOptions, AwsSource};

struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    fn start() -> Option<Moto> {
        let bin = std::env::var("ECSDECK_MOTO_SERVER").ok().or_else(|| {
            let local = concat!(env!("CARGO_MANIFEST_DIR"), "/.venv/bin/moto_server");
            std::path::Path::new(local)
                .exists()
                .then(|| local.to_string())
        });
        let Some(bin) = bin else {
            assert!(
                std::env::var("ECSDECK_REQUIRE_MOTO").is_err(),
                "moto_server not found: run scripts/test.sh (it installs moto into .venv)"
            );
            eprintln!("skipping: moto_server not installed (scripts/test.sh installs it)");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "moto_server did not come up"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// SDK config pointed at moto, in `region`.
async fn sdk_conf(url: &str, region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new(region.to_string()))
        .load()
        .await
}

fn fake_credentials() {
    // SAFETY: set before any thread of this test reads the environment.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_REGION", "us-east-1");
    }
}

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
    let aas = aws_sdk_applicationautoscaling::Client::new(&conf);
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
    // Exactly these, and nothing on the well-configured service.
    assert_eq!(
        ids("legacy"),
        [
            "COST-04", "OPS-02", "REL-01", "REL-04", "REL-07", "REL-09", "REL-10", "REL-15",
            "SEC-02", "SEC-03", "SEC-04"
        ]
    );
    assert_eq!(ids("checkout"), Vec::<String>::new(), "no false positives");
    // The plaintext secret's value never reaches the report.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("hunter2"));
    // Checks whose data this source does not read yet are not evaluated,
    // with the API they need, rather than firing on absent data.
    let not_eval: Vec<(&str, &str)> = v["not_evaluated"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].as_str().unwrap(), n["reason"].as_str().unwrap()))
        .collect();
    for id in ["OPS-05", "OPS-06", "OPS-07"] {
        let (_, why) = not_eval
            .iter()
            .find(|(i, _)| *i == id)
            .unwrap_or_else(|| panic!("{id} evaluated"));
        assert!(why.contains("cloudwatch:DescribeAlarms"), "{id}: {why}");
    }
    for id in ["OPS-03", "SEC-06", "REL-05", "REL-14", "PERF-02"] {
        assert!(not_eval.iter().any(|(i, _)| *i == id), "{id}");
    }
    // Auto scaling is read: its checks ran (REL-10 fired on legacy above).
    assert!(!not_eval.iter().any(|(i, _)| *i == "REL-10"));
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
