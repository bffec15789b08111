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

fn fake_credentials() {
    // SAFETY: set before any thread of this test reads the environment.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_REGION", "us-east-1");
    }
}

async fn seed(url: &str, clusters: &[(&str, usize)]) {
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .load()
        .await;
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
