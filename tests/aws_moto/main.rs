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

mod codedeploy;
mod controls;
mod dr;
mod failures;
mod fis;
mod fleet;
#[path = "../moto/mod.rs"]
mod moto;
mod panes;
mod review;
mod runbooks;
mod scale;
use moto::{Moto, fake_credentials, sdk_conf};

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

/// Register revision n+1 of `family`: one essential bridge-mode EC2
/// container `family` running `image` (512 MiB). Its ARN.
async fn register_bridge_td(ecs: &aws_sdk_ecs::Client, family: &str, image: &str) -> String {
    let td = ecs
        .register_task_definition()
        .family(family)
        .network_mode(t::NetworkMode::Bridge)
        .requires_compatibilities(t::Compatibility::Ec2)
        .container_definitions(
            t::ContainerDefinition::builder()
                .name(family)
                .image(image)
                .memory(512)
                .essential(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    td.task_definition()
        .unwrap()
        .task_definition_arn()
        .unwrap()
        .to_string()
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
    moto_ec2_instance_in(url, "us-east-1")
}

/// An EC2 instance in moto in `region`, its id.
fn moto_ec2_instance_in(url: &str, region: &str) -> String {
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/ec2/aws4_request, SignedHeaders=host, Signature=0"
    );
    let body = http_post(
        url,
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", &auth),
        ],
        "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b&MinCount=1&MaxCount=1",
    );
    let start = body.find("<instanceId>").expect("RunInstances answered") + "<instanceId>".len();
    let end = start + body[start..].find('<').unwrap();
    body[start..end].to_string()
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
