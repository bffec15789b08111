use super::*;

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
    seed_checkout_repository(&conf).await;
}

/// checkout's image repository scans on push, keeps tags immutable and
/// expires old images (ECR.1-3): SEC-08 is evaluated and passes.
async fn seed_checkout_repository(conf: &aws_config::SdkConfig) {
    let ecr = aws_sdk_ecr::Client::new(conf);
    ecr.create_repository()
        .repository_name("checkout")
        .image_scanning_configuration(
            aws_sdk_ecr::types::ImageScanningConfiguration::builder()
                .scan_on_push(true)
                .build(),
        )
        .image_tag_mutability(aws_sdk_ecr::types::ImageTagMutability::Immutable)
        .send()
        .await
        .unwrap();
    ecr.put_lifecycle_policy()
        .repository_name("checkout")
        .lifecycle_policy_text(r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#)
        .send()
        .await
        .unwrap();
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
    // Running tasks alarm when they fall below 1: a low-side alarm.
    {
        use aws_sdk_cloudwatch::types as cw;
        let dim = |n: &str, v: &str| cw::Dimension::builder().name(n).value(v).build();
        cwc.put_metric_alarm()
            .alarm_name("checkout-running")
            .namespace("ECS/ContainerInsights")
            .metric_name("RunningTaskCount")
            .dimensions(dim("ClusterName", "shop"))
            .dimensions(dim("ServiceName", "checkout"))
            .statistic(cw::Statistic::Minimum)
            .period(60)
            .evaluation_periods(3)
            .threshold(1.0)
            .comparison_operator(cw::ComparisonOperator::LessThanThreshold)
            .alarm_actions("arn:aws:sns:us-east-1:123456789012:on-call")
            .actions_enabled(true)
            .send()
            .await
            .unwrap();
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(conf);
    logs.create_log_group()
        .log_group_name("/ecs/checkout")
        .kms_key_id("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
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
    // (REL-05) and no task role (SEC-06); it has no tags (OPS-09).
    assert_eq!(
        ids("legacy"),
        [
            "COST-04", "OPS-02", "OPS-05", "OPS-06", "OPS-09", "REL-01", "REL-04", "REL-07",
            "REL-09", "REL-10", "REL-15", "SEC-02", "SEC-03", "SEC-04"
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
