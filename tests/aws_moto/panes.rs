use super::*;

/// Three default-VPC subnets (one per AZ), a security group, an ALB with a
/// listener forwarding to an IP target group: (subnets, sg, target group ARN).
async fn seed_alb(
    ec2: &aws_sdk_ec2::Client,
    elbv2: &aws_sdk_elasticloadbalancingv2::Client,
) -> (Vec<String>, String, String) {
    use aws_sdk_elasticloadbalancingv2::types as elb;
    // The default VPC's subnets, one per AZ: take three AZs.
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
    let three: Vec<String> = by_az.values().take(3).cloned().collect();
    assert_eq!(three.len(), 3, "moto's default VPC has a subnet per AZ");
    let sg = ec2
        .describe_security_groups()
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .group_id()
        .unwrap()
        .to_string();
    let lb = elbv2
        .create_load_balancer()
        .name("shop")
        .set_subnets(Some(three.clone()))
        .security_groups(&sg)
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
        .name("shop-api")
        .protocol(elb::ProtocolEnum::Http)
        .port(8080)
        .vpc_id(&vpc)
        .target_type(elb::TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap();
    let tg_arn = tg.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    elbv2
        .create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(elb::ProtocolEnum::Http)
        .port(80)
        .default_actions(
            elb::Action::builder()
                .r#type(elb::ActionTypeEnum::Forward)
                .target_group_arn(&tg_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    (three, sg, tg_arn)
}

/// The service's CPU alarm (in ALARM), its target group's 5XX alarm, and
/// CPU datapoints over the last minutes.
async fn seed_service_alarms(cwc: &aws_sdk_cloudwatch::Client, tg_arn: &str) {
    use aws_sdk_cloudwatch::types as cw;
    // Alarms: CPU of the service (in ALARM), 5XX of its target group.
    let dims = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(n, v)| cw::Dimension::builder().name(*n).value(*v).build())
            .collect::<Vec<_>>()
    };
    put_service_alarm(
        cwc,
        "shop-api-cpu-high",
        ("AWS/ECS", "CPUUtilization"),
        ("shop", "api"),
        None,
    )
    .await;
    let tg_dim = tg_arn.rsplit_once(':').unwrap().1.to_string();
    cwc.put_metric_alarm()
        .alarm_name("shop-api-5xx")
        .namespace("AWS/ApplicationELB")
        .metric_name("HTTPCode_Target_5XX_Count")
        .set_dimensions(Some(dims(&[("TargetGroup", &tg_dim)])))
        .statistic(cw::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(10.0)
        .comparison_operator(cw::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    cwc.set_alarm_state()
        .alarm_name("shop-api-cpu-high")
        .state_value(cw::StateValue::Alarm)
        .state_reason("Threshold Crossed: 3 datapoints were greater than 80.0")
        .send()
        .await
        .unwrap();
    // CPU datapoints over the last minutes.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let minute = now / 60 * 60;
    let mut put = cwc.put_metric_data().namespace("AWS/ECS");
    for (i, v) in [40.0, 55.0, 91.0].iter().enumerate() {
        put = put.metric_data(
            cw::MetricDatum::builder()
                .metric_name("CPUUtilization")
                .set_dimensions(Some(dims(&[
                    ("ClusterName", "shop"),
                    ("ServiceName", "api"),
                ])))
                .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                    minute - 60 * (3 - i as i64),
                ))
                .value(*v)
                .build(),
        );
    }
    put.send().await.unwrap();
}

/// The service's log group (7-day retention) and its stream.
async fn seed_log_group(logs: &aws_sdk_cloudwatchlogs::Client) {
    // Logs: 7-day retention, three events (one with an escape sequence).
    logs.create_log_group()
        .log_group_name("/ecs/shop-api")
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name("/ecs/shop-api")
        .retention_in_days(7)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("/ecs/shop-api")
        .log_stream_name("shop/api/0123456789abcdef")
        .send()
        .await
        .unwrap();
}

/// A fleet that exercises every pane: three AZ subnets, an ALB and a target
/// group with targets, a task role with a wildcard policy, alarms (one in
/// ALARM), metric datapoints, and a log group with events. Returns the
/// target group ARN.
pub(crate) async fn seed_every_pane(url: &str) -> String {
    use aws_sdk_elasticloadbalancingv2::types as elb;
    let conf = sdk_conf(url, "us-east-1").await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let iam = aws_sdk_iam::Client::new(&conf);
    let cwc = aws_sdk_cloudwatch::Client::new(&conf);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    http_post(
        url,
        "/moto-api/state-manager/set-transition",
        &[("Content-Type", "application/json")],
        r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000}}"#,
    );
    let (three, sg, tg_arn) = seed_alb(&ec2, &elbv2).await;
    // A task role allowed everything on everything.
    let role = iam
        .create_role()
        .role_name("shop-api-task")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    iam.put_role_policy()
        .role_name("shop-api-task")
        .policy_name("everything")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    ecs.create_cluster()
        .cluster_name("shop")
        .send()
        .await
        .unwrap();
    let td = ecs
        .register_task_definition()
        .family("shop-api")
        .network_mode(t::NetworkMode::Awsvpc)
        .requires_compatibilities(t::Compatibility::Fargate)
        .cpu("256")
        .memory("512")
        .task_role_arn(&role_arn)
        .container_definitions(
            t::ContainerDefinition::builder()
                .name("api")
                .image("shop/api:1")
                .memory(512)
                .essential(true)
                .port_mappings(t::PortMapping::builder().container_port(8080).build())
                .log_configuration(
                    t::LogConfiguration::builder()
                        .log_driver(t::LogDriver::Awslogs)
                        .options("awslogs-group", "/ecs/shop-api")
                        .options("awslogs-region", "us-east-1")
                        .options("awslogs-stream-prefix", "shop")
                        .build()
                        .unwrap(),
                )
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
    let net = t::NetworkConfiguration::builder()
        .awsvpc_configuration(
            t::AwsVpcConfiguration::builder()
                .set_subnets(Some(three.clone()))
                .security_groups(&sg)
                .build()
                .unwrap(),
        )
        .build();
    ecs.create_service()
        .cluster("shop")
        .service_name("api")
        .task_definition(&td)
        .desired_count(3)
        .launch_type(t::LaunchType::Fargate)
        .network_configuration(net.clone())
        .load_balancers(
            t::LoadBalancer::builder()
                .target_group_arn(&tg_arn)
                .container_name("api")
                .container_port(8080)
                .build(),
        )
        .send()
        .await
        .unwrap();
    // Three tasks, one per subnet; their IPs registered as targets.
    for subnet in &three {
        let out = ecs
            .run_task()
            .cluster("shop")
            .task_definition(&td)
            .launch_type(t::LaunchType::Fargate)
            .group("service:api")
            .network_configuration(
                t::NetworkConfiguration::builder()
                    .awsvpc_configuration(
                        t::AwsVpcConfiguration::builder()
                            .subnets(subnet)
                            .security_groups(&sg)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let task = &out.tasks()[0];
        let ip = task
            .attachments()
            .iter()
            .flat_map(|a| a.details())
            .find(|d| d.name() == Some("privateIPv4Address"))
            .and_then(|d| d.value())
            .expect("moto gives awsvpc tasks an IP")
            .to_string();
        elbv2
            .register_targets()
            .target_group_arn(&tg_arn)
            .targets(elb::TargetDescription::builder().id(ip).port(8080).build())
            .send()
            .await
            .unwrap();
    }
    seed_service_alarms(&cwc, &tg_arn).await;
    seed_log_group(&logs).await;
    put_logs(url, &["GET /health 200", "POST /cart 500", "\u{1b}[2Jboom"]).await;
    tg_arn
}

async fn put_logs(url: &str, lines: &[&str]) {
    let conf = sdk_conf(url, "us-east-1").await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&conf);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let mut put = logs
        .put_log_events()
        .log_group_name("/ecs/shop-api")
        .log_stream_name("shop/api/0123456789abcdef");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pane_reads_from_moto() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    let tg_arn = seed_every_pane(&moto.url).await;
    let src = AwsSource::connect(AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.url.clone()),
        ..Default::default()
    })
    .await;
    let started = Instant::now();
    let snap = src.fetch().await;
    let took = started.elapsed();
    for kind in {
        use ecsdeck::model::DataKind::*;
        [Ecs, Ec2, Iam, Elbv2, Metrics, Logs]
    } {
        let f = snap.fresh_home(kind).unwrap();
        assert!(
            f.updated_at.is_some() && f.error.is_none(),
            "{kind}: {:?}",
            snap.freshness
        );
    }
    // moto answers 500 to DescribeAlarmHistory: the alarms are read, the
    // history is said to be unavailable.
    let cw = snap
        .fresh_home(ecsdeck::model::DataKind::Cloudwatch)
        .unwrap();
    assert!(cw.updated_at.is_some(), "{:?}", snap.freshness);
    assert_eq!(
        cw.error.as_deref(),
        Some("cloudwatch:DescribeAlarmHistory: not available from this endpoint")
    );

    let api = snap.service_in("shop/api", None).expect("service read");
    // EC2: the service's subnets span three AZs; every task has its AZ.
    let mut azs: Vec<&str> = api
        .subnets
        .iter()
        .map(|s| s.availability_zone.as_str())
        .collect();
    azs.dedup();
    assert_eq!(azs.len(), 3, "{:?}", api.subnets);
    assert!(api.subnets.iter().all(|s| s.available_ip_address_count > 0));
    assert_eq!(api.tasks.len(), 3);
    let mut task_azs: Vec<&str> = api
        .tasks
        .iter()
        .map(|t| t.availability_zone.as_deref().expect("AZ from the subnet"))
        .collect();
    task_azs.sort();
    assert_eq!(task_azs, azs);
    // ELBv2: the target group, its targets healthy, each with its task's AZ.
    let tgs: Vec<_> = snap.target_groups_for(api).collect();
    assert_eq!(tgs.len(), 1);
    assert_eq!(tgs[0].arn, tg_arn);
    assert_eq!(tgs[0].load_balancer_azs.len(), 3);
    assert_eq!(tgs[0].targets.len(), 3);
    let mut target_azs: Vec<&str> = tgs[0]
        .targets
        .iter()
        .map(|t| t.availability_zone.as_deref().expect("target AZ"))
        .collect();
    target_azs.sort();
    assert_eq!(target_azs, azs);
    // CloudWatch: both alarms attributed to the service, one in ALARM.
    let alarms: Vec<_> = snap.alarms_for(api).collect();
    assert_eq!(alarms.len(), 2, "{:?}", snap.alarms);
    let cpu = alarms
        .iter()
        .find(|a| a.name == "shop-api-cpu-high")
        .unwrap();
    assert_eq!(cpu.state, ecsdeck::model::AlarmState::Alarm);
    assert!(cpu.state_reason.contains("Threshold Crossed"));
    // Metrics: the CPU datapoints come through GetMetricData.
    let m = snap.metrics_for(api).expect("metrics");
    assert_eq!(
        m.cpu.values.len(),
        ecsdeck::source::aws::cloudwatch::METRIC_POINTS
    );
    let tail: Vec<f64> = m.cpu.values[m.cpu.values.len() - 3..].to_vec();
    assert_eq!(tail, vec![40.0, 55.0, 91.0], "{:?}", m.cpu);
    // Logs: the group's retention.
    assert_eq!(snap.log_groups.len(), 1);
    assert_eq!(snap.log_groups[0].retention_in_days, Some(7));
    // IAM: the task role's wildcard policy, decoded.
    let td = snap.task_definition(&api.task_definition).unwrap();
    let role = td.task_role.as_ref().expect("task role read");
    assert!(
        role.policies[0].document.contains(r#""Action":"s3:*""#),
        "{role:?}"
    );
    // The review now evaluates what it could not before, and SEC-06 fires.
    let review = ecsdeck::review::evaluate(&snap, &Default::default());
    assert!(
        review
            .findings
            .iter()
            .any(|f| f.id == "SEC-06" && f.service.as_deref() == Some("api")),
        "{:?}",
        review.findings.iter().map(|f| f.id).collect::<Vec<_>>()
    );
    for id in ["SEC-06", "REL-05", "OPS-03", "OPS-06"] {
        assert!(
            !review.not_evaluated.iter().any(|n| n.id == id),
            "{id} is evaluated now"
        );
    }
    // Logs tail by FilterLogEvents polling: three events, then none again
    // (de-duplicated by eventId), then only the new one.
    let target = ecsdeck::source::aws::logs::targets(&snap, api)
        .pop()
        .expect("awslogs target");
    assert_eq!(target.stream_prefix.as_deref(), Some("shop/api/"));
    let mut tail = ecsdeck::source::aws::logs::PollTail::new(target);
    let mut id = 0;
    let lines = tail.poll(&src, &mut id).await.unwrap();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[1].message, "POST /cart 500");
    assert!(tail.poll(&src, &mut id).await.unwrap().is_empty());
    put_logs(&moto.url, &["GET /health 200 again"]).await;
    let lines = tail.poll(&src, &mut id).await.unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].service_key, "shop/api");
    let calls_first = src.calls.total();
    let started = Instant::now();
    let _ = src.fetch().await;
    eprintln!(
        "second refresh (caches warm): {:?}, {} calls",
        started.elapsed(),
        src.calls.total() - calls_first
    );
    console_pollers_stream_every_kind_and_the_followed_logs(&moto.url).await;
    use std::sync::atomic::Ordering::Relaxed;
    eprintln!(
        "one full refresh (1 service, every pane) against moto: {:?}, {} calls (ecs {} elbv2 {} cloudwatch {} logs {} ec2 {} iam {} autoscaling {})",
        took,
        src.calls.total(),
        src.calls.describe_services.load(Relaxed) + src.calls.list_services.load(Relaxed),
        src.calls.elbv2.load(Relaxed),
        src.calls.cloudwatch.load(Relaxed),
        src.calls.logs.load(Relaxed),
        src.calls.ec2.load(Relaxed),
        src.calls.iam.load(Relaxed),
        src.calls.autoscaling.load(Relaxed),
    );
}

/// The console's path: one poller per kind publishing merged snapshots, and
/// the log tail of the service the operator follows.
async fn console_pollers_stream_every_kind_and_the_followed_logs(url: &str) {
    use ecsdeck::source::{Control, Update};
    let fleet = ecsdeck::source::aws::AwsFleet::connect(AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(url.to_string()),
        ..Default::default()
    })
    .await;
    let iv = ecsdeck::source::aws::Intervals {
        log_poll: Duration::from_millis(300),
        ..Default::default()
    };
    let mut h = ecsdeck::source::aws::spawn(fleet, iv);
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut full, mut log_lines, mut following) = (false, Vec::new(), false);
    while !(full && log_lines.len() >= 4) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "full={full} logs={log_lines:?}");
        match tokio::time::timeout(left, h.updates.recv()).await {
            Ok(Some(Update::Snapshot(s))) => {
                // Follow the service by its id, once the source has read it.
                if !following && let Some(api) = s.services.iter().find(|s| s.key() == "shop/api") {
                    h.control
                        .send(Control::FollowLogs(Some(api.id())))
                        .await
                        .unwrap();
                    following = true;
                }
                full = ecsdeck::model::DATA_KINDS
                    .iter()
                    .all(|k| s.fresh_home(*k).is_some_and(|f| f.updated_at.is_some()))
                    && !s.target_groups.is_empty()
                    && !s.alarms.is_empty();
            }
            Ok(Some(Update::Logs(l))) => log_lines.extend(l),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => panic!("full={full} logs={log_lines:?}"),
        }
    }
    assert!(log_lines.iter().all(|l| l.service_key == "shop/api"));
    let mut ids: Vec<u64> = log_lines.iter().map(|l| l.id).collect();
    ids.dedup();
    assert_eq!(ids.len(), log_lines.len(), "no event delivered twice");
    h.control.send(Control::Shutdown).await.unwrap();
}
