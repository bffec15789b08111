use super::*;
use crate::panes::seed_every_pane;

/// `n` more Fargate services in `shop` beside `api` (from [`seed_every_pane`]),
/// each with its own target group, `tasks` tasks spread over the three AZ
/// subnets (their IPs registered as targets), and two alarms.
async fn seed_more_services(url: &str, n: usize, tasks: usize) {
    use aws_sdk_elasticloadbalancingv2::types as elb;
    let conf = sdk_conf(url, "us-east-1").await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let ecs = aws_sdk_ecs::Client::new(&conf);
    let elbv2 = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let cwc = aws_sdk_cloudwatch::Client::new(&conf);
    let api = ecs
        .describe_services()
        .cluster("shop")
        .services("api")
        .send()
        .await
        .unwrap();
    let api = &api.services()[0];
    let td = api.task_definition().unwrap().to_string();
    let net = api.network_configuration().unwrap().clone();
    let subnets = net.awsvpc_configuration().unwrap().subnets().to_vec();
    let sg = net.awsvpc_configuration().unwrap().security_groups()[0].clone();
    let vpc = ec2
        .describe_subnets()
        .subnet_ids(&subnets[0])
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    for i in 0..n {
        let name = format!("svc-{i:03}");
        let tg = elbv2
            .create_target_group()
            .name(format!("shop-{name}"))
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
        ecs.create_service()
            .cluster("shop")
            .service_name(&name)
            .task_definition(&td)
            .desired_count(tasks as i32)
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
        let mut targets = Vec::new();
        for k in 0..tasks {
            let out = ecs
                .run_task()
                .cluster("shop")
                .task_definition(&td)
                .launch_type(t::LaunchType::Fargate)
                .group(format!("service:{name}"))
                .network_configuration(
                    t::NetworkConfiguration::builder()
                        .awsvpc_configuration(
                            t::AwsVpcConfiguration::builder()
                                .subnets(&subnets[k % subnets.len()])
                                .security_groups(&sg)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .send()
                .await
                .unwrap();
            let ip = out.tasks()[0]
                .attachments()
                .iter()
                .flat_map(|a| a.details())
                .find(|d| d.name() == Some("privateIPv4Address"))
                .and_then(|d| d.value())
                .unwrap()
                .to_string();
            targets.push(elb::TargetDescription::builder().id(ip).port(8080).build());
        }
        elbv2
            .register_targets()
            .target_group_arn(&tg_arn)
            .set_targets(Some(targets))
            .send()
            .await
            .unwrap();
        for (suffix, metric) in [("cpu", "CPUUtilization"), ("mem", "MemoryUtilization")] {
            put_service_alarm(
                &cwc,
                &format!("shop-{name}-{suffix}"),
                ("AWS/ECS", metric),
                ("shop", &name),
                None,
            )
            .await;
        }
    }
}

/// The fleet of the AWS issue's measurement: 30 services (more than three
/// DescribeServices batches), 264 tasks (more than two DescribeTasks
/// batches), 30 target groups, 62 alarms. One full refresh of every kind
/// must make exactly the batching minimum of calls, lose nothing, and
/// `ecsdeck status` must read it all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fleet_past_every_batch_size_is_read_whole_with_the_fewest_calls() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    seed_every_pane(&moto.url).await;
    let (more, per) = (29, 9);
    seed_more_services(&moto.url, more, per).await;
    let services = 1 + more;
    let tasks = 3 + more * per;
    let target_groups = services;
    let src = AwsSource::connect(AwsOptions {
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.url.clone()),
        ..Default::default()
    })
    .await;
    let started = Instant::now();
    let snap = src.fetch().await;
    let took = started.elapsed();
    // Nothing dropped.
    assert_eq!(snap.services.len(), services);
    let read_tasks: usize = snap.services.iter().map(|s| s.tasks.len()).sum();
    assert_eq!(read_tasks, tasks, "every task, each under its service");
    assert!(
        snap.services
            .iter()
            .all(|s| s.tasks.iter().all(|t| t.availability_zone.is_some()))
    );
    assert_eq!(snap.target_groups.len(), target_groups);
    let targets: usize = snap.target_groups.iter().map(|g| g.targets.len()).sum();
    assert_eq!(targets, tasks);
    assert!(
        snap.target_groups
            .iter()
            .flat_map(|g| &g.targets)
            .all(|t| t.availability_zone.is_some()),
        "every target has its task's AZ"
    );
    assert_eq!(snap.alarms.len(), 2 + 2 * more);
    assert_eq!(snap.metrics.len(), services);
    // Calls against the batching minimum.
    use std::sync::atomic::Ordering::Relaxed;
    let c = &src.calls;
    let ceil = |n: usize, per: usize| n.div_ceil(per) as u64;
    let ecs_min = 1 // ListClusters
        + 1 // DescribeClusters
        + ceil(services, 100) // ListServices, 100 a page
        + ceil(services, 10) // DescribeServices
        // ListTasks: RUNNING pages + STOPPED (empty). moto answers ListTasks
        // in one page whatever the count, so one call per status here.
        + 2
        + ceil(tasks, 100) // DescribeTasks
        + 1; // DescribeTaskDefinition: one revision
    let ecs = c.list_clusters.load(Relaxed)
        + c.describe_clusters.load(Relaxed)
        + c.list_services.load(Relaxed)
        + c.describe_services.load(Relaxed)
        + c.list_tasks.load(Relaxed)
        + c.describe_tasks.load(Relaxed)
        + c.describe_task_definition.load(Relaxed);
    // DescribeTargetGroups (20 a call) + DescribeLoadBalancers (for AZs)
    // + DescribeTargetHealth and DescribeTargetGroupAttributes per group
    // (no batch form exists; attributes are then cached for 10 minutes),
    // and DescribeLoadBalancerAttributes + DescribeListeners per load
    // balancer (the ELB controls; cached likewise).
    let load_balancers = {
        let mut v: Vec<&str> = snap
            .target_groups
            .iter()
            .filter_map(|t| t.load_balancer_arn.as_deref())
            .collect();
        v.sort_unstable();
        v.dedup();
        v.len() as u64
    };
    let elbv2_min = ceil(target_groups, 20) + 1 + 2 * target_groups as u64 + 2 * load_balancers;
    // DescribeAlarms (100 a page) + GetMetricData (500 queries a call, 5 a
    // service) + DescribeAlarmHistory once (moto: not available, not asked again).
    let cloudwatch_min = ceil(snap.alarms.len(), 100) + ceil(services * 5, 500) + 1;
    let rows = [
        ("ecs", ecs, ecs_min),
        ("elbv2", c.elbv2.load(Relaxed), elbv2_min),
        ("cloudwatch", c.cloudwatch.load(Relaxed), cloudwatch_min),
        ("ec2", c.ec2.load(Relaxed), 1), // DescribeSubnets, 100 ids a call
        // ListRolePolicies + GetRolePolicy + ListAttachedRolePolicies: one role.
        ("iam", c.iam.load(Relaxed), 3),
        ("logs", c.logs.load(Relaxed), 1), // DescribeLogGroups
    ];
    let mut report = String::new();
    for (kind, got, min) in rows {
        report.push_str(&format!("{kind} {got} (minimum {min}); "));
    }
    eprintln!(
        "full refresh of {services} services / {tasks} tasks / {target_groups} target groups against moto: {took:?}, {} calls: {report}autoscaling {}",
        c.total(),
        c.autoscaling.load(Relaxed)
    );
    for (kind, got, min) in rows {
        assert_eq!(got, min, "{kind}: {report}");
    }
    assert_eq!(c.describe_services.load(Relaxed), ceil(services, 10));
    assert_eq!(c.describe_tasks.load(Relaxed), ceil(tasks, 100));
    // A second refresh: revisions, subnets, roles, attributes and the
    // history verdict are cached.
    let before = c.total();
    let started = Instant::now();
    let again = src.fetch().await;
    eprintln!(
        "second refresh (caches warm): {:?}, {} calls",
        started.elapsed(),
        c.total() - before
    );
    assert_eq!(again.services.len(), services);
    assert_eq!(
        c.describe_task_definition.load(Relaxed),
        1,
        "revisions are immutable: described once"
    );
    assert_eq!(c.ec2.load(Relaxed), 1, "subnets cached");
    assert_eq!(c.iam.load(Relaxed), 3, "roles cached");

    // The whole process: `ecsdeck status` reads the same fleet. Its own
    // peak RSS comes from wait4 on its pid (not the test's other children).
    // Twice: the second run sees moto warm (moto loads each service's
    // backend on its first call).
    for run in ["first", "second"] {
        let data = tempfile::tempdir().unwrap();
        let json = data.path().join("status.json");
        let started = Instant::now();
        // Reaped below by wait4, which also gives its own rusage.
        // ECSDECK_MEASURE_BIN: time another build of ecsdeck (e.g. release).
        let bin = std::env::var("ECSDECK_MEASURE_BIN")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_ecsdeck").to_string());
        #[allow(clippy::zombie_processes)]
        let child = Command::new(&bin)
            .args([
                "status",
                "--format",
                "json",
                "--region",
                "us-east-1",
                "--endpoint-url",
            ])
            .arg(&moto.url)
            .arg("--data-dir")
            .arg(data.path())
            .stdout(std::fs::File::create(&json).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut status = 0;
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut ru) };
        let took = started.elapsed();
        assert_eq!(pid, child.id() as i32);
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&json).unwrap()).expect("status JSON");
        assert_eq!(v["services"].as_array().unwrap().len(), services);
        eprintln!(
            "ecsdeck status ({services} services, {tasks} tasks, every kind) against moto, {run} run: {took:?} wall, peak RSS {} MB ({bin})",
            ru.ru_maxrss / 1024
        );
    }
}
