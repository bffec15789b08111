//! The moto server harness shared by the AWS integration tests: starts
//! `moto_server` (behind the CloudWatch CBOR shim) on a free port and stops
//! it on drop.
#![allow(dead_code)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Moto {
    child: Child,
    pub url: String,
}

impl Moto {
    pub fn start() -> Option<Moto> {
        Self::start_denying(&[])
    }

    /// moto behind the shim, which answers AccessDenied for `deny` (IAM
    /// action names, e.g. `ecs:DescribeTaskDefinition`): the permission
    /// tests' denying proxy.
    pub fn start_denying(deny: &[&str]) -> Option<Moto> {
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
        // moto's own app behind the CloudWatch CBOR shim, with the venv's
        // Python (the one beside `moto_server`).
        let python = std::path::Path::new(&bin).with_file_name("python");
        let shim = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/moto_shim.py");
        let mut args = vec![shim.to_string(), port.to_string()];
        if !deny.is_empty() {
            args.push("--deny".into());
            args.push(deny.join(","));
        }
        let child = Command::new(python)
            .args(&args)
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
pub async fn sdk_conf(url: &str, region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new(region.to_string()))
        .load()
        .await
}

pub fn fake_credentials() {
    // SAFETY: set before any thread of this test reads the environment.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
        std::env::set_var("AWS_REGION", "us-east-1");
    }
}
