//! Identity against moto: twins (the same cluster and service names) in two
//! regions and in two accounts are read, shown, reviewed and reported each
//! in its own place. The second account sits behind STS AssumeRole, the way
//! moto keeps accounts apart: a profile with `role_arn` + `source_profile`
//! in a temporary AWS config, read through the standard credential chain.
//!
//! One test function: the AWS config files are process-wide environment.

mod moto;

use std::process::Command;

use aws_sdk_cloudwatch::types as cw;
use aws_sdk_ecs::types as t;
use ecsdeck::source::aws::{AwsFleet, AwsOptions};
use moto::Moto;

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";
/// moto's default account, and the one behind the role.
const MAIN: &str = "123456789012";
const OTHER: &str = "210987654321";

/// AWS config with a `default` profile (static keys) and `other`, which
/// assumes a role in [`OTHER`]; both pointed at moto.
fn aws_files(dir: &std::path::Path, url: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let config = dir.join("config");
    let credentials = dir.join("credentials");
    std::fs::write(
        &config,
        format!(
            "[default]\nregion = {EAST}\nendpoint_url = {url}\n\n\
             [profile other]\nrole_arn = arn:aws:iam::{OTHER}:role/x\nsource_profile = default\n\
             region = {EAST}\nendpoint_url = {url}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        &credentials,
        "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    (config, credentials)
}

async fn conf(profile: &str, region: &str, url: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .profile_name(profile)
        .endpoint_url(url)
        .region(aws_config::Region::new(region.to_string()))
        .load()
        .await
}

/// `prod/api` in one place: `desired` tasks, the alarm `prod-api-cpu`
/// (in ALARM when `alarm`), CPU datapoints when `metrics`.
async fn seed_twin(c: &aws_config::SdkConfig, desired: i32, alarm: bool, metrics: bool) {
    let ecs = aws_sdk_ecs::Client::new(c);
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
                .log_configuration(
                    t::LogConfiguration::builder()
                        .log_driver(t::LogDriver::Awslogs)
                        .options("awslogs-group", "/ecs/prod-api")
                        .options("awslogs-stream-prefix", "prod")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let arn = td.task_definition().unwrap().task_definition_arn().unwrap();
    ecs.create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .unwrap();
    ecs.create_service()
        .cluster("prod")
        .service_name("api")
        .task_definition(arn)
        .desired_count(desired)
        .launch_type(t::LaunchType::Ec2)
        .send()
        .await
        .unwrap();
    let cwc = aws_sdk_cloudwatch::Client::new(c);
    let dim = |n: &str, v: &str| cw::Dimension::builder().name(n).value(v).build();
    cwc.put_metric_alarm()
        .alarm_name("prod-api-cpu")
        .namespace("AWS/ECS")
        .metric_name("CPUUtilization")
        .dimensions(dim("ClusterName", "prod"))
        .dimensions(dim("ServiceName", "api"))
        .statistic(cw::Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(80.0)
        .comparison_operator(cw::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    cwc.set_alarm_state()
        .alarm_name("prod-api-cpu")
        .state_value(if alarm {
            cw::StateValue::Alarm
        } else {
            cw::StateValue::Ok
        })
        .state_reason("seeded")
        .send()
        .await
        .unwrap();
    if metrics {
        let minute = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            / 60
            * 60;
        let mut put = cwc.put_metric_data().namespace("AWS/ECS");
        for (i, v) in [40.0, 55.0, 91.0].iter().enumerate() {
            put = put.metric_data(
                cw::MetricDatum::builder()
                    .metric_name("CPUUtilization")
                    .dimensions(dim("ClusterName", "prod"))
                    .dimensions(dim("ServiceName", "api"))
                    .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                        minute - 60 * (3 - i as i64),
                    ))
                    .value(*v)
                    .build(),
            );
        }
        put.send().await.unwrap();
    }
}

fn ecsdeck(
    files: &(std::path::PathBuf, std::path::PathBuf),
    args: &[&str],
) -> std::process::Output {
    let data = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(args)
        .arg("--data-dir")
        .arg(data.path())
        .env("AWS_CONFIG_FILE", &files.0)
        .env("AWS_SHARED_CREDENTIALS_FILE", &files.1)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
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

/// The `prod/api` rows of a status JSON: (account, region, desired, alarms).
fn api_rows(v: &serde_json::Value) -> Vec<(String, String, i64, Vec<String>)> {
    let mut rows: Vec<_> = v["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["cluster"] == "prod" && s["name"] == "api")
        .map(|s| {
            (
                s["account"].as_str().unwrap().to_string(),
                s["region"].as_str().unwrap().to_string(),
                s["desired"].as_i64().unwrap(),
                s["alarms_in_alarm"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn screen(app: &ecsdeck::ui::app::App) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(160, 48)).unwrap();
    term.draw(|f| ecsdeck::ui::draw::draw(f, app)).unwrap();
    term.backend().to_string()
}

/// (a) Two regions, same names: status, review, the console's rows, the
/// service view and its metrics, and the findings, each in its region.
async fn same_names_in_two_regions(url: &str, files: &(std::path::PathBuf, std::path::PathBuf)) {
    seed_twin(&conf("default", EAST, url).await, 3, true, true).await;
    seed_twin(&conf("default", WEST, url).await, 1, false, false).await;
    let regions = ["--region", EAST, "--region", WEST, "--endpoint-url", url];
    let status = |fmt: &str| {
        let mut a = vec!["status", "--format", fmt, "--allow-missing-data"];
        a.extend(regions);
        ecsdeck(files, &a)
    };
    let v = json_of(&status("json"));
    assert_eq!(
        api_rows(&v),
        [
            (
                MAIN.into(),
                EAST.into(),
                3,
                vec!["prod-api-cpu".to_string()]
            ),
            (MAIN.into(), WEST.into(), 1, vec![]),
        ],
        "{v}"
    );
    let text = String::from_utf8(status("text").stdout).unwrap();
    assert!(text.lines().nth(1).unwrap().starts_with("REGION"), "{text}");
    assert!(
        !text.contains("ACCOUNT"),
        "one account: no account column\n{text}"
    );
    let east_line = text.lines().find(|l| l.starts_with(EAST)).expect(&text);
    let west_line = text.lines().find(|l| l.starts_with(WEST)).expect(&text);
    assert!(
        east_line.contains("prod-api-cpu") && east_line.contains("3/0/3"),
        "{text}"
    );
    assert!(
        !west_line.contains("prod-api-cpu") && west_line.contains("1/0/1"),
        "{text}"
    );
    // Review: each finding names its region; the two differ where their
    // data does (the alarm, the metrics).
    let mut a = vec!["review", "--format", "json"];
    a.extend(regions);
    let r = json_of(&ecsdeck(files, &a));
    let ids = |region: &str| -> std::collections::BTreeSet<String> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["service"] == "api" && f["region"] == region)
            .inspect(|f| assert_eq!(f["account"], MAIN, "{f}"))
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (east, west) = (ids(EAST), ids(WEST));
    assert!(!east.is_empty() && !west.is_empty(), "{r}");
    let total = r["findings"].as_array().unwrap().len();
    assert_eq!(
        total,
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["region"] == EAST || f["region"] == WEST)
            .count(),
        "every finding is in one of the two regions"
    );
    // The console, fed from the AWS source.
    let fleet = AwsFleet::connect(AwsOptions {
        profile: Some("default".into()),
        region: Some(EAST.into()),
        regions: vec![EAST.into(), WEST.into()],
        endpoint_url: Some(url.into()),
        ..Default::default()
    })
    .await;
    let snap = std::sync::Arc::new(fleet.fetch().await);
    let mut app = ecsdeck::ui::app::App::new(ecsdeck::ui::theme::Theme::default_dark());
    app.apply(ecsdeck::source::Update::Snapshot(snap.clone()));
    let twins: Vec<_> = app.rows.iter().filter(|r| r.key == "prod/api").collect();
    assert_eq!(twins.len(), 2);
    assert_ne!(twins[0].id, twins[1].id);
    let by_region = |region: &str| {
        app.rows
            .iter()
            .find(|r| r.key == "prod/api" && r.region == region)
            .unwrap()
            .clone()
    };
    let (e, w) = (by_region(EAST), by_region(WEST));
    assert_eq!((e.desired, w.desired), (3, 1));
    assert_eq!(e.alarms_in_alarm, ["prod-api-cpu"]);
    assert!(w.alarms_in_alarm.is_empty());
    let cpu = |region: &str| {
        let svc = snap.service(&by_region(region).id).unwrap();
        snap.metrics_for(svc)
            .map(|m| m.cpu.values.iter().filter(|v| v.is_finite()).count())
            .unwrap_or(0)
    };
    assert!(cpu(EAST) > 0, "east has its datapoints");
    assert_eq!(cpu(WEST), 0, "west has none of east's");
    app.open_service(e.id.clone());
    let east_screen = screen(&app);
    assert!(east_screen.contains("ALARM  prod-api-cpu"), "{east_screen}");
    assert!(east_screen.contains(EAST), "{east_screen}");
    app.open_service(w.id.clone());
    let west_screen = screen(&app);
    assert!(west_screen.contains("OK     prod-api-cpu"), "{west_screen}");
    assert!(
        !west_screen.contains("ALARM  prod-api-cpu"),
        "{west_screen}"
    );
    // The findings pane of each service view shows its own.
    let findings_east: Vec<_> = app_findings(&mut app, &e.id);
    let findings_west: Vec<_> = app_findings(&mut app, &w.id);
    assert_eq!(findings_east.len(), east.len());
    assert_eq!(findings_west.len(), west.len());
}

/// `lines` in `/ecs/prod-api` of one place (the twins' awslogs group).
async fn put_twin_logs(c: &aws_config::SdkConfig, lines: &[&str]) {
    let logs = aws_sdk_cloudwatchlogs::Client::new(c);
    logs.create_log_group()
        .log_group_name("/ecs/prod-api")
        .send()
        .await
        .unwrap();
    let stream = "prod/api/0123456789abcdef";
    logs.create_log_stream()
        .log_group_name("/ecs/prod-api")
        .log_stream_name(stream)
        .send()
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut put = logs
        .put_log_events()
        .log_group_name("/ecs/prod-api")
        .log_stream_name(stream);
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

/// (a2) Following a twin's logs tails its own region's group, with that
/// region's client: each twin shows only its own lines.
async fn each_twin_follows_its_own_regions_logs(url: &str) {
    use ecsdeck::source::{Control, Update};
    put_twin_logs(&conf("default", EAST, url).await, &["east one", "east two"]).await;
    put_twin_logs(&conf("default", WEST, url).await, &["west one", "west two"]).await;
    let fleet = AwsFleet::connect(AwsOptions {
        profile: Some("default".into()),
        region: Some(EAST.into()),
        regions: vec![EAST.into(), WEST.into()],
        endpoint_url: Some(url.into()),
        ..Default::default()
    })
    .await;
    let iv = ecsdeck::source::aws::Intervals {
        log_poll: std::time::Duration::from_millis(300),
        ..Default::default()
    };
    let mut h = ecsdeck::source::aws::spawn(fleet, iv);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(40);
    let mut ids: Option<[ecsdeck::model::ServiceId; 2]> = None;
    let mut lines: Vec<ecsdeck::model::LogLine> = Vec::new();
    let seen = |lines: &[ecsdeck::model::LogLine], id: &ecsdeck::model::ServiceId| {
        lines
            .iter()
            .filter(|l| l.service.as_ref() == Some(id))
            .count()
    };
    loop {
        let done = ids
            .as_ref()
            .is_some_and(|[e, w]| seen(&lines, e) >= 2 && seen(&lines, w) >= 2);
        if done {
            break;
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        assert!(!left.is_zero(), "{lines:?}");
        match tokio::time::timeout(left, h.updates.recv()).await {
            Ok(Some(Update::Snapshot(s))) if ids.is_none() => {
                let twin = |region: &str| {
                    s.services
                        .iter()
                        .find(|x| x.key() == "prod/api" && x.region == region)
                        .filter(|x| s.task_definition(&x.task_definition).is_some())
                        .map(|x| x.id())
                };
                if let (Some(e), Some(w)) = (twin(EAST), twin(WEST)) {
                    h.control
                        .send(Control::FollowLogs(Some(e.clone())))
                        .await
                        .unwrap();
                    ids = Some([e, w]);
                }
            }
            Ok(Some(Update::Logs(l))) => {
                lines.extend(l);
                // East's lines are in: follow west.
                if let Some([e, w]) = &ids
                    && seen(&lines, e) >= 2
                    && seen(&lines, w) == 0
                {
                    h.control
                        .send(Control::FollowLogs(Some(w.clone())))
                        .await
                        .unwrap();
                }
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!("{lines:?}"),
        }
    }
    let [e, w] = ids.unwrap();
    for l in &lines {
        let from = l.service.as_ref().expect("a tailed line names its service");
        let want = if *from == e {
            "east"
        } else {
            assert_eq!(*from, w, "{l:?}");
            "west"
        };
        assert!(l.message.starts_with(want), "{want}'s twin shows {l:?}");
    }
    h.control.send(Control::Shutdown).await.unwrap();
}

/// The findings the console shows in the service view of `id`, by check id.
fn app_findings(
    app: &mut ecsdeck::ui::app::App,
    id: &ecsdeck::model::ServiceId,
) -> Vec<&'static str> {
    app.open_service(id.clone());
    let mut v: Vec<&'static str> = app
        .visible_findings()
        .iter()
        .inspect(|f| assert_eq!(*f.region, *id.region))
        .map(|f| f.id)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// (b) Two accounts, the second behind AssumeRole: both read, `.account`
/// right on each row, an account column in the text.
async fn same_names_in_two_accounts(url: &str, files: &(std::path::PathBuf, std::path::PathBuf)) {
    // Seeded through the assumed role's credentials.
    let other = conf("other", EAST, url).await;
    let who = aws_sdk_sts::Client::new(&other)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        who.account(),
        Some(OTHER),
        "moto puts the role's calls in its account"
    );
    seed_twin(&other, 5, false, false).await;
    let args = [
        "--profile",
        "default",
        "--profile",
        "other",
        "--region",
        EAST,
        "--endpoint-url",
        url,
    ];
    let mut a = vec!["status", "--format", "json", "--allow-missing-data"];
    a.extend(args);
    let v = json_of(&ecsdeck(files, &a));
    assert_eq!(
        api_rows(&v),
        [
            (
                MAIN.into(),
                EAST.into(),
                3,
                vec!["prod-api-cpu".to_string()]
            ),
            (OTHER.into(), EAST.into(), 5, vec![]),
        ],
        "{v}"
    );
    assert_eq!(v["source"]["label"], "default,other", "{v}");
    let mut a = vec!["status", "--format", "text", "--allow-missing-data"];
    a.extend(args);
    let text = String::from_utf8(ecsdeck(files, &a).stdout).unwrap();
    assert!(
        text.lines().nth(1).unwrap().starts_with("ACCOUNT"),
        "{text}"
    );
    assert!(
        !text.contains("REGION"),
        "one region: no region column\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with(OTHER) && l.contains("5/0/5")),
        "{text}"
    );
}

/// (c) Every failing kind, with its account and region.
async fn every_failure_names_its_account_and_region() {
    let Some(moto) = Moto::start_denying(&["cloudwatch:DescribeAlarms"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let files = aws_files(dir.path(), &moto.url);
    use_files(&files);
    seed_twin_ecs_only(&conf("default", EAST, &moto.url).await).await;
    seed_twin_ecs_only(&conf("other", WEST, &moto.url).await).await;
    let out = ecsdeck(
        &files,
        &[
            "status",
            "--format",
            "json",
            "--profile",
            "default",
            "--profile",
            "other",
            "--region",
            EAST,
            "--region",
            WEST,
            "--endpoint-url",
            &moto.url,
        ],
    );
    let v = json_of(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut failed: Vec<(String, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "cloudwatch")
        .map(|e| {
            (
                e["account"].as_str().unwrap().to_string(),
                e["region"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    failed.sort();
    assert_eq!(
        failed,
        [
            (MAIN.to_string(), EAST.to_string()),
            (MAIN.to_string(), WEST.to_string()),
            (OTHER.to_string(), EAST.to_string()),
            (OTHER.to_string(), WEST.to_string()),
        ],
        "{v}"
    );
    for (account, region) in &failed {
        let line = format!("not read: cloudwatch ({account}, {region})");
        assert!(stderr.contains(&line), "{line} in {stderr}");
    }
    assert_eq!(
        out.status.code(),
        Some(2),
        "blind to alarms: not healthy\n{stderr}"
    );
}

async fn seed_twin_ecs_only(c: &aws_config::SdkConfig) {
    let ecs = aws_sdk_ecs::Client::new(c);
    ecs.create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .unwrap();
}

/// Point this process's credential chain at `files`.
fn use_files(files: &(std::path::PathBuf, std::path::PathBuf)) {
    // SAFETY: the only test of this binary, which reads these variables
    // only while loading an SDK config after this returns.
    unsafe {
        std::env::set_var("AWS_CONFIG_FILE", &files.0);
        std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &files.1);
        std::env::remove_var("AWS_ACCESS_KEY_ID");
        std::env::remove_var("AWS_SECRET_ACCESS_KEY");
        std::env::remove_var("AWS_PROFILE");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twins_in_two_regions_and_two_accounts_are_each_in_their_place() {
    let Some(moto) = Moto::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let files = aws_files(dir.path(), &moto.url);
    use_files(&files);
    same_names_in_two_regions(&moto.url, &files).await;
    each_twin_follows_its_own_regions_logs(&moto.url).await;
    same_names_in_two_accounts(&moto.url, &files).await;
    drop(moto);
    every_failure_names_its_account_and_region().await;
}
