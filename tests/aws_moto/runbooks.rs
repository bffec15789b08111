use super::*;

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
        let td = register_bridge_td(&ecs, "api", image).await;
        arns.push(td);
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
    // Under auto scaling only the scalable target moves (on AWS,
    // Application Auto Scaling then sets desiredCount to the new minimum;
    // moto does not emulate that, the simulator does).
    assert_eq!(apis, ["SetCapacity", "SetCapacity"], "{calls:#?}");
    assert!(calls.iter().all(|c| c["detail"]["ok"] == true));
    // Every call's AWS request id is in the journal.
    assert!(
        calls
            .iter()
            .all(|c| c["aws_request_id"].as_str().is_some_and(|r| !r.is_empty())),
        "{calls:#?}"
    );
    // The change happened (the floor went to 4) and was restored.
    assert_eq!(
        calls[0]["detail"]["output"],
        serde_json::json!({"min": 4, "max": 10})
    );
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

    // rollback: moto has no ListServiceDeployments and its deployments
    // complete at once, so no known-good revision is known: never "the
    // previous revision number" (api:1 may never have run): the run fails
    // at once, naming the API and the parameter.
    let rollback = |extra: &[&str]| {
        let mut args = vec![
            "rollback",
            "--param",
            "cluster=prod",
            "--param",
            "service=api",
            "--param",
            "incident=INC-42",
            "--param",
            "wait=3s",
        ];
        args.extend_from_slice(extra);
        ecsdeck_runbook(&moto.url, data.path(), &args)
    };
    let (s, _) = rollback(&[]);
    assert_eq!(s["outcome"], "failed", "{s}");
    let why = s["reason"].as_str().unwrap_or_default();
    assert!(
        why.contains("ecs:ListServiceDeployments") && why.contains("task_definition="),
        "{why}"
    );
    // A named revision that does not exist is refused, naming it.
    let (s, _) = rollback(&["--param", "task_definition=api:9"]);
    assert_eq!(s["outcome"], "failed", "{s}");
    assert!(
        s["reason"].as_str().unwrap_or_default().contains("api:9"),
        "{s}"
    );
    // The operator names it: redeployed.
    let (s, out) = rollback(&["--param", "task_definition=api:1"]);
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

/// `prod/api` in `region` with `desired` tasks (no scalable target).
async fn seed_twin(url: &str, region: &str, desired: i32) {
    let ecs = aws_sdk_ecs::Client::new(&sdk_conf(url, region).await);
    ecs.create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .unwrap();
    let td = register_bridge_td(&ecs, "api", "shop-api:1.0").await;
    let arn = td;
    ecs.create_service()
        .cluster("prod")
        .service_name("api")
        .task_definition(arn)
        .desired_count(desired)
        .launch_type(t::LaunchType::Ec2)
        .send()
        .await
        .unwrap();
}

async fn desired_in(url: &str, region: &str) -> i32 {
    let ecs = aws_sdk_ecs::Client::new(&sdk_conf(url, region).await);
    let svc = ecs
        .describe_services()
        .cluster("prod")
        .services("api")
        .send()
        .await
        .unwrap();
    svc.services()[0].desired_count()
}

/// Twins: `prod/api` in us-east-1 (2 tasks) and us-west-2 (3 tasks). A
/// scale-out run with `--region us-west-2` changes only us-west-2's service,
/// and every call in the journal names us-west-2 (and the account).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_out_in_one_region_leaves_the_twin_alone() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    seed_twin(&moto.url, "us-east-1", 2).await;
    seed_twin(&moto.url, "us-west-2", 3).await;
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(["--write", "--region", "us-west-2", "--endpoint-url"])
        .arg(&moto.url)
        .arg("--data-dir")
        .arg(data.path())
        .args(["runbook", "run", "scale-out"])
        .args(["--param", "cluster=prod", "--param", "service=api"])
        .args(["--param", "target=5", "--param", "require_steady=false"])
        .args(["--param", "wait=3s", "--yes", "--format", "json"])
        .output()
        .unwrap();
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    assert_eq!(s["outcome"], "completed", "{s}");
    let calls = journal_calls(&s);
    let scales: Vec<&serde_json::Value> = calls
        .iter()
        .filter(|c| c["detail"]["call"]["api"] == "Scale")
        .collect();
    assert!(!scales.is_empty(), "{calls:#?}");
    assert_eq!(scales[0]["detail"]["output"]["desiredCount"], 5);
    for c in &calls {
        let call = c["detail"]["call"].to_string();
        assert!(call.contains("us-west-2"), "{call}");
        assert!(!call.contains("us-east-1"), "{call}");
        assert!(call.contains("123456789012"), "the account: {call}");
    }
    // The twin was never touched; the us-west-2 service was scaled out and
    // restored to its 3 (no scalable target: the skipped floor restore
    // still leads to the desired-count restore).
    assert_eq!(desired_in(&moto.url, "us-east-1").await, 2);
    assert_eq!(scales.len(), 2, "out and back: {calls:#?}");
    assert_eq!(scales[1]["detail"]["output"]["desiredCount"], 3);
    assert_eq!(desired_in(&moto.url, "us-west-2").await, 3);
}

/// An awsvpc service `edge/gw` (desired 1, no auto scaling) in one /28
/// subnet of its own: 11 free IPs, as EC2 counts them.
async fn seed_small_subnet(url: &str) -> String {
    let conf = sdk_conf(url, "us-east-1").await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let subnet = ec2
        .create_subnet()
        .vpc_id(&vpc)
        .cidr_block("10.9.1.0/28")
        .availability_zone("us-east-1a")
        .send()
        .await
        .unwrap();
    let subnet = subnet.subnet().unwrap().subnet_id().unwrap().to_string();
    let sg = ec2
        .create_security_group()
        .group_name("gw")
        .description("gw")
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let sg = sg.group_id().unwrap().to_string();
    let ecs = aws_sdk_ecs::Client::new(&conf);
    ecs.create_cluster()
        .cluster_name("edge")
        .send()
        .await
        .unwrap();
    let td = ecs
        .register_task_definition()
        .family("gw")
        .network_mode(t::NetworkMode::Awsvpc)
        .requires_compatibilities(t::Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .container_definitions(
            t::ContainerDefinition::builder()
                .name("gw")
                .image("gw:1")
                .essential(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    ecs.create_service()
        .cluster("edge")
        .service_name("gw")
        .task_definition(td.task_definition().unwrap().task_definition_arn().unwrap())
        .desired_count(1)
        .launch_type(t::LaunchType::Fargate)
        .network_configuration(
            t::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    t::AwsVpcConfiguration::builder()
                        .subnets(&subnet)
                        .security_groups(&sg)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    subnet
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_out_refuses_a_target_its_subnets_cannot_hold() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    let subnet = seed_small_subnet(&moto.url).await;
    let data = tempfile::tempdir().unwrap();
    let scale = |target: &str| {
        ecsdeck_runbook(
            &moto.url,
            data.path(),
            &[
                "scale-out",
                "--param",
                "cluster=edge",
                "--param",
                "service=gw",
                "--param",
                &format!("target={target}"),
                "--param",
                "require_steady=false",
                "--param",
                "wait=3s",
            ],
        )
    };
    // The /28 has 11 free IPs: 5 tasks fit, 14 do not.
    let (s, _) = scale("5");
    let calls = journal_calls(&s);
    let fit = calls
        .iter()
        .find(|c| c["detail"]["call"]["api"] == "CheckFit")
        .unwrap_or_else(|| panic!("{calls:#?}"));
    assert_eq!(fit["detail"]["ok"], true, "{fit}");
    assert_eq!(fit["detail"]["output"]["free"], 11, "{fit}");
    assert!(
        fit["aws_request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    assert!(calls.iter().any(|c| c["detail"]["call"]["api"] == "Scale"));
    let (s, _) = scale("14");
    assert_eq!(s["outcome"], "failed", "{s}");
    let why = s["reason"].as_str().unwrap_or_default();
    assert!(
        why.contains("does not fit")
            && why.contains("14 tasks need")
            && why.contains(&format!("11 free ({subnet} 11)")),
        "{why}"
    );
    assert!(
        journal_calls(&s)
            .iter()
            .all(|c| c["detail"]["call"]["api"] == "CheckFit"),
        "nothing scaled"
    );
}
