//! A GameDay's AZ impairment through AWS FIS against moto: the experiment
//! template (stop-task on the AZ's tasks, disrupt-connectivity on its
//! subnets, the stop alarms as stop conditions), StartExperiment, and the
//! release that stops it while it runs.

use ecsdeck::actions::fis::FisSpec;
use ecsdeck::actions::stop_tasks::StopTasksCall;
use ecsdeck::actions::sustain_release;
use ecsdeck::calls::{PlannedCall, ServiceRef, Target};

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_fis_experiment_impairs_the_az_and_the_release_stops_it() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    let conf = sdk_conf(&moto.url, "us-east-1").await;
    let cwc = aws_sdk_cloudwatch::Client::new(&conf);
    put_service_alarm(
        &cwc,
        "prod-api-5xx",
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("prod", "api"),
        None,
    )
    .await;
    let alarm_arn = cwc
        .describe_alarms()
        .alarm_names("prod-api-5xx")
        .send()
        .await
        .unwrap()
        .metric_alarms()[0]
        .alarm_arn()
        .unwrap()
        .to_string();
    let src = AwsSource::connect(AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.url.clone()),
        ..Default::default()
    })
    .await;
    let target = Target::from_ref(&ServiceRef::new("prod", "api", Some("us-east-1")));
    let spec = FisSpec {
        role_arn: "arn:aws:iam::123456789012:role/fis-gameday".into(),
        task_arns: vec!["arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef".into()],
        subnet_arns: vec!["arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0aa".into()],
        stop_alarm_arns: vec![alarm_arn.clone()],
        duration_ms: 15 * 60_000,
        disrupt_connectivity: true,
    };
    let call = PlannedCall::new(
        target.clone(),
        &StopTasksCall {
            az: Some("us-east-1a".into()),
            task_ids: vec!["0123456789abcdef".into()],
            reason: "GameDay".into(),
            impair_ms: Some(15 * 60_000),
            fis: Some(spec),
        },
    );
    let out = ecsdeck::source::aws::actions::perform(&src, &call)
        .await
        .unwrap();
    let id = out.detail["experimentId"].as_str().unwrap().to_string();
    let template = out.detail["experimentTemplateId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        out.request_ids.len(),
        2,
        "CreateExperimentTemplate and StartExperiment"
    );
    // The template moto keeps is the experiment ecsdeck asked for.
    let fis = aws_sdk_fis::Client::new(&conf);
    let t = fis
        .get_experiment_template()
        .id(&template)
        .send()
        .await
        .unwrap();
    let t = t.experiment_template().unwrap();
    assert_eq!(
        t.role_arn(),
        Some("arn:aws:iam::123456789012:role/fis-gameday")
    );
    let actions = t.actions().unwrap();
    assert_eq!(
        actions["disrupt-connectivity"].action_id(),
        Some("aws:network:disrupt-connectivity")
    );
    assert_eq!(
        actions["disrupt-connectivity"].parameters().unwrap()["duration"],
        "PT15M"
    );
    assert_eq!(actions["stop-tasks"].action_id(), Some("aws:ecs:stop-task"));
    let stops: Vec<&str> = t
        .stop_conditions()
        .iter()
        .filter_map(|c| c.value())
        .collect();
    assert_eq!(stops, [alarm_arn.as_str()]);
    // The runner follows it with GetExperiment.
    let follow = PlannedCall::new(
        target.clone(),
        &ecsdeck::actions::fis::FisStatusCall {
            experiment: id.clone(),
        },
    );
    let out = ecsdeck::source::aws::actions::perform(&src, &follow)
        .await
        .unwrap();
    assert_eq!(out.detail["experimentId"], id.as_str());
    assert!(out.detail["state"].as_str().is_some(), "{}", out.detail);
    assert_eq!(out.request_ids.len(), 1);
    // The release stops the experiment while it runs, and says so; a second
    // release finds it ended and calls nothing more.
    let release = sustain_release::release(target.clone(), "us-east-1a".into(), Some(id.clone()));
    let out = ecsdeck::source::aws::actions::perform(&src, &release)
        .await
        .unwrap();
    assert_eq!(out.detail["experimentId"], id.as_str());
    let state = fis.get_experiment().id(&id).send().await.unwrap();
    let status = state
        .experiment()
        .and_then(|e| e.state())
        .and_then(|s| s.status())
        .map(|s| s.as_str().to_string())
        .unwrap();
    if out.detail["stopped"] == true {
        assert!(
            status == "stopping" || status == "stopped",
            "{status}: {}",
            out.detail
        );
    } else {
        // moto moved it to its end on its own before the release.
        assert!(status == "completed" || status == "stopped", "{status}");
    }
    let again = ecsdeck::source::aws::actions::perform(&src, &release)
        .await
        .unwrap();
    assert_eq!(again.detail["stopped"], false, "{}", again.detail);
}
