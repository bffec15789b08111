//! Rollback of a CODE_DEPLOY service against moto: ecsdeck finds the
//! CodeDeploy deployment in progress (ListApplications, ListDeploymentGroups,
//! GetDeploymentGroup, ListDeployments), stops it with auto-rollback
//! (StopDeployment, which the test shim adds to moto) and follows it with
//! GetDeployment.

use super::*;

/// `shop/api` on the CODE_DEPLOY controller (desired 0: moto starts no
/// tasks), its CodeDeploy application and deployment group, a deployment in
/// progress, and the `shop-api-5xx` alarm in OK. The deployment's id.
async fn seed_codedeploy(url: &str) -> String {
    let conf = sdk_conf(url, "us-east-1").await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    ecs.create_cluster()
        .cluster_name("shop")
        .send()
        .await
        .unwrap();
    let td = register_bridge_td(&ecs, "api", "shop-api:1.0").await;
    // api:2, the revision the CodeDeploy deployment rolls out.
    let new_arn = register_bridge_td(&ecs, "api", "shop-api:1.1").await;
    ecs.create_service()
        .cluster("shop")
        .service_name("api")
        .task_definition(&td)
        .desired_count(0)
        .launch_type(t::LaunchType::Ec2)
        .deployment_controller(
            t::DeploymentController::builder()
                .r#type(t::DeploymentControllerType::CodeDeploy)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    use aws_sdk_codedeploy::types as cd;
    let cdc = aws_sdk_codedeploy::Client::new(&conf);
    cdc.create_application()
        .application_name("AppECS-shop-api")
        .compute_platform(cd::ComputePlatform::Ecs)
        .send()
        .await
        .unwrap();
    // Another application's group names another service: not ours.
    cdc.create_application()
        .application_name("AppECS-shop-web")
        .compute_platform(cd::ComputePlatform::Ecs)
        .send()
        .await
        .unwrap();
    for (app, group, service) in [
        ("AppECS-shop-web", "DgpECS-shop-web", "web"),
        ("AppECS-shop-api", "DgpECS-shop-api", "api"),
    ] {
        cdc.create_deployment_group()
            .application_name(app)
            .deployment_group_name(group)
            .service_role_arn("arn:aws:iam::123456789012:role/codedeploy")
            .ecs_services(
                cd::EcsService::builder()
                    .service_name(service)
                    .cluster_name("shop")
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    let revision = cd::RevisionLocation::builder()
        .revision_type(cd::RevisionLocationType::AppSpecContent)
        .app_spec_content(
            cd::AppSpecContent::builder()
                .content(format!(
                    "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: \"{new_arn}\"\n"
                ))
                .build(),
        )
        .build();
    let web = cdc
        .create_deployment()
        .application_name("AppECS-shop-web")
        .deployment_group_name("DgpECS-shop-web")
        .revision(revision.clone())
        .send()
        .await
        .unwrap();
    let d = cdc
        .create_deployment()
        .application_name("AppECS-shop-api")
        .deployment_group_name("DgpECS-shop-api")
        .revision(revision)
        .send()
        .await
        .unwrap();
    assert_ne!(web.deployment_id(), d.deployment_id());
    let cwc = aws_sdk_cloudwatch::Client::new(&conf);
    put_service_alarm(
        &cwc,
        "shop-api-5xx",
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("shop", "api"),
        None,
    )
    .await;
    cwc.set_alarm_state()
        .alarm_name("shop-api-5xx")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Ok)
        .state_reason("quiet")
        .send()
        .await
        .unwrap();
    d.deployment_id().unwrap().to_string()
}

fn rollback(url: &str, data: &std::path::Path) -> (serde_json::Value, std::process::Output) {
    let out = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(["--write", "--region", "us-east-1", "--endpoint-url", url])
        .arg("--data-dir")
        .arg(data)
        .args(["runbook", "run", "rollback"])
        .args(["--param", "cluster=shop", "--param", "service=api"])
        .args(["--param", "incident=INC-9", "--param", "wait=5s"])
        .args(["--yes", "--format", "json"])
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    (v, out)
}

fn journal(summary: &serde_json::Value) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(summary["journal"].as_str().unwrap()).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_codedeploy_deployment_is_stopped_with_rollback_and_followed() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    let id = seed_codedeploy(&moto.url).await;
    let data = tempfile::tempdir().unwrap();
    let (s, out) = rollback(&moto.url, data.path());
    let events = journal(&s);
    let good = events
        .iter()
        .find(|e| e["kind"] == "save" && e["detail"]["name"] == "good")
        .map(|e| e["detail"]["value"].clone())
        .unwrap_or_else(|| panic!("{s} {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(good["route"], "codedeploy", "{good}");
    assert_eq!(good["codeDeploy"]["deploymentId"], id.as_str(), "{good}");
    assert_eq!(good["codeDeploy"]["application"], "AppECS-shop-api");
    assert_eq!(good["codeDeploy"]["deploymentGroup"], "DgpECS-shop-api");
    // Known-good is the original task set's revision; failing is the one
    // the deployment's AppSpec rolls out.
    assert_eq!(good["familyRevision"], "api:1", "{good}");
    assert_eq!(good["failingRevision"], "api:2", "{good}");
    let stop = events
        .iter()
        .find(|e| {
            e["kind"] == "api_call"
                && e["detail"]["phase"] == "after"
                && e["detail"]["call"]["api"] == "StopCodeDeploy"
        })
        .unwrap_or_else(|| panic!("{s}"));
    assert_eq!(stop["detail"]["ok"], true, "{stop}");
    assert_eq!(stop["detail"]["output"]["status"], "Stopped", "{stop}");
    assert_eq!(
        stop["detail"]["output"]["rollbackStatus"], "Succeeded",
        "{stop}"
    );
    assert!(
        stop["aws_request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    // On the original task set, nothing else deploying: the rollout step
    // passes at once. (The SLO step holds its alarm OK for 2m, longer than
    // this test waits: it escalates, and --yes takes the escalation's
    // first choice, abort.)
    let stable = events
        .iter()
        .find(|e| e["kind"] == "step_end" && e["step"] == "wait-stable")
        .unwrap_or_else(|| panic!("{s}"));
    assert_eq!(stable["detail"]["state"], "done", "{stable}");
    assert!(
        s["outcome"] == "completed" || s["outcome"] == "aborted",
        "{s}"
    );
    // In moto: the deployment stopped, and CodeDeploy's rollback of it exists.
    let cdc = aws_sdk_codedeploy::Client::new(&sdk_conf(&moto.url, "us-east-1").await);
    let d = cdc
        .get_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap();
    let info = d.deployment_info().unwrap();
    assert_eq!(info.status().map(|s| s.as_str()), Some("Stopped"));
    let rb = info
        .rollback_info()
        .unwrap()
        .rollback_deployment_id()
        .unwrap();
    assert_eq!(stop["detail"]["output"]["rollbackDeploymentId"], rb);
    // Run again: nothing is in progress any more, so it refuses and says
    // what to do, changing nothing.
    let (s, _) = rollback(&moto.url, data.path());
    assert_eq!(s["outcome"], "failed", "{s}");
    let why = s["reason"].as_str().unwrap_or_default();
    assert!(
        why.contains("no CodeDeploy deployment of it is in progress"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_stop_fails_naming_the_api_and_changes_nothing() {
    let Some(moto) = Moto::start_denying(&["codedeploy:StopDeployment"]) else {
        return;
    };
    fake_credentials();
    let id = seed_codedeploy(&moto.url).await;
    let data = tempfile::tempdir().unwrap();
    let (s, _) = rollback(&moto.url, data.path());
    assert_eq!(s["outcome"], "failed", "{s}");
    let why = s["reason"].as_str().unwrap_or_default();
    assert!(why.contains("codedeploy:StopDeployment"), "{why}");
    let cdc = aws_sdk_codedeploy::Client::new(&sdk_conf(&moto.url, "us-east-1").await);
    let d = cdc
        .get_deployment()
        .deployment_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.deployment_info().unwrap().status().map(|s| s.as_str()),
        Some("Created"),
        "untouched"
    );
}
