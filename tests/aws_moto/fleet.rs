use super::*;

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
        snap.fresh_home(ecsdeck::model::DataKind::Ecs)
            .unwrap()
            .error
            .is_none(),
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
        snap.fresh_home(ecsdeck::model::DataKind::Ecs)
            .unwrap()
            .error
            .is_none(),
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
        let f = snap.fresh_home(kind).unwrap();
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
