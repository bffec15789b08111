//! A moto fleet shaped to each AWS control the review covers: every control
//! fires on its shape (read through the real SDK from moto), and the clean
//! service raises nothing High or Critical.

use super::*;

const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// Two default-VPC subnets in different AZs and the default security group.
async fn subnets_and_sg(ec2: &aws_sdk_ec2::Client) -> (Vec<String>, String, String) {
    let subnets = ec2.describe_subnets().send().await.unwrap();
    let mut by_az: std::collections::BTreeMap<String, String> = Default::default();
    let mut vpc = String::new();
    for s in subnets.subnets() {
        if s.default_for_az() == Some(true) {
            by_az
                .entry(s.availability_zone().unwrap().to_string())
                .or_insert_with(|| s.subnet_id().unwrap().to_string());
            vpc = s.vpc_id().unwrap().to_string();
        }
    }
    let two: Vec<String> = by_az.values().take(2).cloned().collect();
    let sg = ec2
        .describe_security_groups()
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .group_id()
        .unwrap()
        .to_string();
    (two, sg, vpc)
}

/// An ALB over `subnets` with an HTTP listener (redirecting to HTTPS when
/// `hardened`, with access logs, deletion protection, invalid headers
/// dropped), forwarding to a new IP target group: (load balancer ARN,
/// target group ARN).
async fn alb(
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
    name: &str,
    subnets: &[String],
    sg: &str,
    vpc: &str,
    hardened: bool,
) -> (String, String) {
    use aws_sdk_elasticloadbalancingv2::types as elb;
    let lb = elbv2
        .create_load_balancer()
        .name(name)
        .set_subnets(Some(subnets.to_vec()))
        .security_groups(sg)
        .r#type(elb::LoadBalancerTypeEnum::Application)
        .send()
        .await
        .unwrap();
    let lb_arn = lb.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let tg = elbv2
        .create_target_group()
        .name(format!("{name}-tg"))
        .protocol(elb::ProtocolEnum::Http)
        .port(8080)
        .vpc_id(vpc)
        .target_type(elb::TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap();
    let tg_arn = tg.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let action = if hardened {
        elb::Action::builder()
            .r#type(elb::ActionTypeEnum::Redirect)
            .redirect_config(
                elb::RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .status_code(elb::RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build()
    } else {
        elb::Action::builder()
            .r#type(elb::ActionTypeEnum::Forward)
            .target_group_arn(&tg_arn)
            .build()
    };
    elbv2
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(elb::ProtocolEnum::Http)
        .port(80)
        .default_actions(action)
        .send()
        .await
        .unwrap();
    if hardened {
        let attr = |k: &str, v: &str| {
            elb::LoadBalancerAttribute::builder()
                .key(k)
                .value(v)
                .build()
        };
        elbv2
            .modify_load_balancer_attributes()
            .load_balancer_arn(&lb_arn)
            .attributes(attr("access_logs.s3.enabled", "true"))
            .attributes(attr("access_logs.s3.bucket", "lb-logs"))
            .attributes(attr("deletion_protection.enabled", "true"))
            .attributes(attr(
                "routing.http.drop_invalid_header_fields.enabled",
                "true",
            ))
            .attributes(attr("routing.http.desync_mitigation_mode", "strictest"))
            .send()
            .await
            .unwrap();
    }
    (lb_arn, tg_arn)
}

/// The clean service's availability alarms (OPS-06), routed to on-call.
async fn availability_alarms(cwc: &aws_sdk_cloudwatch::Client, lb_arn: &str, tg_arn: &str) {
    use aws_sdk_cloudwatch::types as cw;
    let tail = |arn: &str, from: &str| arn[arn.find(from).unwrap() + from.len()..].to_string();
    let lb = tail(lb_arn, ":loadbalancer/");
    let tg = format!("targetgroup/{}", tail(tg_arn, ":targetgroup/"));
    let dim = |n: &str, v: &str| cw::Dimension::builder().name(n).value(v).build();
    for (name, ns, metric, stat, threshold, op, dims) in [
        (
            "clean-5xx",
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            cw::Statistic::Sum,
            10.0,
            cw::ComparisonOperator::GreaterThanThreshold,
            vec![dim("LoadBalancer", &lb), dim("TargetGroup", &tg)],
        ),
        (
            "clean-unhealthy",
            "AWS/ApplicationELB",
            "UnHealthyHostCount",
            cw::Statistic::Maximum,
            0.0,
            cw::ComparisonOperator::GreaterThanThreshold,
            vec![dim("LoadBalancer", &lb), dim("TargetGroup", &tg)],
        ),
        (
            "clean-running",
            "ECS/ContainerInsights",
            "RunningTaskCount",
            cw::Statistic::Minimum,
            1.0,
            cw::ComparisonOperator::LessThanThreshold,
            vec![dim("ClusterName", "clean"), dim("ServiceName", "clean")],
        ),
    ] {
        cwc.put_metric_alarm()
            .alarm_name(name)
            .namespace(ns)
            .metric_name(metric)
            .set_dimensions(Some(dims))
            .statistic(stat)
            .period(60)
            .evaluation_periods(3)
            .threshold(threshold)
            .comparison_operator(op)
            .alarm_actions("arn:aws:sns:us-east-1:123456789012:on-call")
            .actions_enabled(true)
            .send()
            .await
            .unwrap();
    }
}

/// ECR repository `name`: scan on push, immutable tags and a lifecycle
/// policy when `hardened`, else create-repository's defaults.
async fn repository(ecr: &aws_sdk_ecr::Client, name: &str, hardened: bool) {
    use aws_sdk_ecr::types as e;
    let mut r = ecr.create_repository().repository_name(name);
    if hardened {
        r = r
            .image_scanning_configuration(
                e::ImageScanningConfiguration::builder()
                    .scan_on_push(true)
                    .build(),
            )
            .image_tag_mutability(e::ImageTagMutability::Immutable);
    }
    r.send().await.unwrap();
    if hardened {
        ecr.put_lifecycle_policy()
            .repository_name(name)
            .lifecycle_policy_text(
                r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#,
            )
            .send()
            .await
            .unwrap();
    }
}

fn tags(env: &str) -> Vec<t::Tag> {
    [
        ("Environment", env),
        ("Owner", "audit"),
        ("CostCenter", "cc-9"),
        ("Application", "audit"),
    ]
    .iter()
    .map(|(k, v)| t::Tag::builder().key(*k).value(*v).build())
    .collect()
}

/// The shaped fleet: cluster `audit` (no Container Insights, no tags, an
/// Auto Scaling group capacity provider without managed termination
/// protection) with `hostile` (EC2, host network and PID, privileged,
/// writable root, root user, AWS keys and a credentialed URL, no logging,
/// an EFS volume in the clear, an ECR image from a lax repository) and
/// `public` (Fargate 1.3.0, public IP, behind a one-AZ ALB with ELBv2's
/// defaults); cluster `clean` with the well-configured `clean`.
async fn seed(url: &str) {
    let conf = sdk_conf(url, "us-east-1").await;
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let ecr = aws_sdk_ecr::Client::new(&conf);
    let gd = aws_sdk_guardduty::Client::new(&conf);
    let (subnets, sg, vpc) = subnets_and_sg(&ec2).await;

    repository(&ecr, "hostile", false).await;
    repository(&ecr, "clean", true).await;
    // GuardDuty on, runtime monitoring not: SEC-09.
    gd.create_detector().enable(true).send().await.unwrap();

    ecs.create_cluster()
        .cluster_name("audit")
        .settings(
            t::ClusterSetting::builder()
                .name(t::ClusterSettingName::ContainerInsights)
                .value("disabled")
                .build(),
        )
        .send()
        .await
        .unwrap();
    ecs.create_capacity_provider()
        .name("audit-asg")
        .auto_scaling_group_provider(
            t::AutoScalingGroupProvider::builder()
                .auto_scaling_group_arn("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:1:autoScalingGroupName/audit")
                .managed_termination_protection(t::ManagedTerminationProtection::Disabled)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    ecs.put_cluster_capacity_providers()
        .cluster("audit")
        .capacity_providers("audit-asg")
        .capacity_providers("FARGATE")
        .set_default_capacity_provider_strategy(Some(vec![]))
        .send()
        .await
        .unwrap();

    let hostile = ecs
        .register_task_definition()
        .family("hostile")
        .network_mode(t::NetworkMode::Host)
        .pid_mode(t::PidMode::Host)
        .requires_compatibilities(t::Compatibility::Ec2)
        .volumes(
            t::Volume::builder()
                .name("shared")
                .efs_volume_configuration(
                    t::EfsVolumeConfiguration::builder()
                        .file_system_id("fs-12345678")
                        .transit_encryption(t::EfsTransitEncryption::Disabled)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .container_definitions(
            t::ContainerDefinition::builder()
                .name("hostile")
                .image(format!("{REGISTRY}/hostile:1.0"))
                .memory(512)
                .essential(true)
                .privileged(true)
                .readonly_root_filesystem(false)
                .environment(
                    t::KeyValuePair::builder()
                        .name("AWS_ACCESS_KEY_ID")
                        .value("AKIAIOSFODNN7EXAMPLE")
                        .build(),
                )
                .environment(
                    t::KeyValuePair::builder()
                        .name("DATABASE_URL")
                        .value("postgres://app:s3cr3t-pw@db.internal:5432/app")
                        .build(),
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
        .cluster("audit")
        .service_name("hostile")
        .task_definition(arn(&hostile))
        .desired_count(1)
        .launch_type(t::LaunchType::Ec2)
        .send()
        .await
        .unwrap();

    seed_fargate(&ecs, &elbv2, &conf, (&subnets, &sg, &vpc)).await;
}

/// `public` (behind the lax one-AZ ALB) in `audit`, and the clean cluster
/// and service.
async fn seed_fargate(
    ecs: &aws_sdk_ecs::Client,
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
    conf: &aws_config::SdkConfig,
    (subnets, sg, vpc): (&[String], &str, &str),
) {
    let arn =
        |o: &aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionOutput| {
            o.task_definition()
                .unwrap()
                .task_definition_arn()
                .unwrap()
                .to_string()
        };
    let fargate_td = |family: &str, image: String, logs: bool| {
        let mut c = t::ContainerDefinition::builder()
            .name(family)
            .image(image)
            .essential(true)
            .user("1000:1000")
            .readonly_root_filesystem(true)
            .port_mappings(t::PortMapping::builder().container_port(8080).build());
        if logs {
            c = c.log_configuration(
                t::LogConfiguration::builder()
                    .log_driver(t::LogDriver::Awslogs)
                    .options("awslogs-group", format!("/ecs/{family}"))
                    .options("awslogs-region", "us-east-1")
                    .options("mode", "non-blocking")
                    .build()
                    .unwrap(),
            );
        }
        ecs.register_task_definition()
            .family(family)
            .network_mode(t::NetworkMode::Awsvpc)
            .requires_compatibilities(t::Compatibility::Fargate)
            .cpu("512")
            .memory("1024")
            .set_tags(Some(tags("prod")))
            .container_definitions(c.build())
            .send()
    };
    let public_td = fargate_td("public", format!("{REGISTRY}/hostile:1.0"), false)
        .await
        .unwrap();
    let (_, lax_tg) = alb(elbv2, "lax", &subnets[..1], sg, vpc, false).await;
    ecs.create_service()
        .cluster("audit")
        .service_name("public")
        .task_definition(arn(&public_td))
        .desired_count(2)
        .launch_type(t::LaunchType::Fargate)
        .platform_version("1.3.0")
        .network_configuration(
            t::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    t::AwsVpcConfiguration::builder()
                        .set_subnets(Some(subnets.to_vec()))
                        .security_groups(sg)
                        .assign_public_ip(t::AssignPublicIp::Enabled)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .load_balancers(
            t::LoadBalancer::builder()
                .target_group_arn(&lax_tg)
                .container_name("public")
                .container_port(8080)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // The clean service in a clean, tagged cluster with Container Insights.
    ecs.create_cluster()
        .cluster_name("clean")
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
    let clean_td = fargate_td(
        "clean",
        format!("{REGISTRY}/clean@sha256:4f1c3b9e2d7a8c6b5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d"),
        true,
    )
    .await
    .unwrap();
    let (clean_lb, clean_tg) = alb(elbv2, "clean", subnets, sg, vpc, true).await;
    availability_alarms(&aws_sdk_cloudwatch::Client::new(conf), &clean_lb, &clean_tg).await;
    ecs.create_service()
        .cluster("clean")
        .service_name("clean")
        .task_definition(arn(&clean_td))
        .desired_count(3)
        .launch_type(t::LaunchType::Fargate)
        .platform_version("LATEST")
        .set_tags(Some(tags("prod")))
        .propagate_tags(t::PropagateTags::Service)
        .enable_ecs_managed_tags(true)
        .network_configuration(
            t::NetworkConfiguration::builder()
                .awsvpc_configuration(
                    t::AwsVpcConfiguration::builder()
                        .set_subnets(Some(subnets.to_vec()))
                        .security_groups(sg)
                        .assign_public_ip(t::AssignPublicIp::Disabled)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .load_balancers(
            t::LoadBalancer::builder()
                .target_group_arn(&clean_tg)
                .container_name("clean")
                .container_port(8080)
                .build(),
        )
        .send()
        .await
        .unwrap();
    ecs.update_service()
        .cluster("clean")
        .service("clean")
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
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_control_fires_on_its_shape_and_the_clean_service_raises_nothing_high() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    seed(&moto.url).await;
    let out = ecsdeck_against(&moto.url, &["review", "--format", "json"]);
    let v = json_of(&out);
    let findings = v["findings"].as_array().unwrap();
    let controls_of = |svc: Option<&str>| -> std::collections::BTreeSet<String> {
        findings
            .iter()
            .filter(|f| match svc {
                Some(s) => f["service"] == s,
                None => true,
            })
            .flat_map(|f| f["controls"].as_array().unwrap().iter())
            .map(|c| c.as_str().unwrap().to_string())
            .collect()
    };
    let on = |svc: &str, want: &[&str]| {
        let got = controls_of(Some(svc));
        let missing: Vec<&&str> = want.iter().filter(|c| !got.contains(**c)).collect();
        assert!(
            missing.is_empty(),
            "{svc}: {missing:?} did not fire; got {got:?}\n{}",
            serde_json::to_string_pretty(&v["not_evaluated"]).unwrap()
        );
    };
    on(
        "hostile",
        &[
            "ECS.3", "ECS.4", "ECS.5", "ECS.8", "ECS.9", "ECS.13", "ECS.17", "ECS.18", "ECS.20",
            "ECR.1", "ECR.2", "ECR.3",
        ],
    );
    on(
        "public",
        &[
            "ECS.2", "ECS.9", "ECS.10", "ELB.1", "ELB.4", "ELB.5", "ELB.6", "ELB.13",
        ],
    );
    // Cluster settings: once, naming the cluster, not a service.
    let cluster_controls: std::collections::BTreeSet<String> = findings
        .iter()
        .filter(|f| f["service"].is_null() && f["cluster"] == "audit")
        .flat_map(|f| f["controls"].as_array().unwrap().iter())
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    for c in ["ECS.12", "ECS.14", "ECS.19"] {
        assert!(cluster_controls.contains(c), "{c}: {cluster_controls:?}");
    }
    // GuardDuty is on without runtime monitoring: SEC-09 fires.
    assert!(
        findings.iter().any(|f| f["id"] == "SEC-09"),
        "SEC-09: {}",
        serde_json::to_string_pretty(&v["not_evaluated"]).unwrap()
    );
    // The credentialed URL and the AWS key are caught, their values never shown.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("DATABASE_URL"), "SEC-02 names the variable");
    assert!(!text.contains("s3cr3t-pw") && !text.contains("AKIAIOSFODNN7EXAMPLE"));
    // The clean service: nothing High or Critical.
    let loud: Vec<String> = findings
        .iter()
        .filter(|f| f["service"] == "clean" || f["cluster"] == "clean")
        .filter(|f| f["severity"] == "high" || f["severity"] == "critical")
        .map(|f| format!("{} {}", f["id"], f["evidence"]))
        .collect();
    assert!(loud.is_empty(), "{loud:?}");
    // Everything they need was read from moto: the ECR, ELB and GuardDuty
    // checks were evaluated, not skipped.
    let not_eval: Vec<String> = v["not_evaluated"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["missing_data"] == true)
        .map(|n| format!("{} {}", n["id"], n["reason"]))
        .collect();
    for id in [
        "SEC-08", "SEC-09", "SEC-12", "OPS-10", "REL-17", "REL-18", "SEC-07",
    ] {
        assert!(
            !not_eval.iter().any(|n| n.starts_with(&format!("\"{id}\""))),
            "{id}: {not_eval:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_ecr_and_guardduty_leave_their_controls_not_evaluated_naming_the_api() {
    let Some(moto) = Moto::start_denying(&["ecr:DescribeRepositories", "guardduty:ListDetectors"])
    else {
        return;
    };
    fake_credentials();
    seed(&moto.url).await;
    let out = ecsdeck_against(&moto.url, &["review", "--format", "json"]);
    let v = json_of(&out);
    assert!(
        !v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "SEC-08" || f["id"] == "SEC-09"),
        "a denied read never passes nor fires"
    );
    let reason = |id: &str| -> String {
        v["not_evaluated"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id)
            .map(|n| n["reason"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{id} not listed: {}", v["not_evaluated"]))
    };
    assert!(
        reason("SEC-08").contains("ecr:DescribeRepositories"),
        "{}",
        reason("SEC-08")
    );
    assert!(
        reason("SEC-09").contains("guardduty:ListDetectors"),
        "{}",
        reason("SEC-09")
    );
    // The gate fails on what it could not read.
    assert_ne!(out.status.code(), Some(0));
}
