//! DR against moto, the whole runbook through the binary in two regions:
//! `dr-region-failover` scales the standby up (UpdateService, request id
//! journaled), switches the Route 53 failover pair toward it
//! (ChangeResourceRecordSets, GetChange INSYNC, the answer read back),
//! switches the Aurora Global Database over to it (SwitchoverGlobalCluster,
//! which the test shim adds to moto) with the replication lag read from
//! CloudWatch as the RPO; `dr-region-failback` takes all of it back.
//!
//! moto's ECS starts no service tasks: the tasks each region serves with
//! are run by hand (RunTask in group `service:api` on a registered
//! container instance) and stay RUNNING.

use super::*;

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";

/// One region's side: cluster `prod`, service `api` behind a load balancer
/// (`desired`), `tasks` RUNNING tasks, the `prod-api-5xx` alarm in OK. The
/// load balancer's DNS name and hosted zone id.
async fn seed_region(url: &str, region: &str, desired: i32, tasks: i32) -> (String, String) {
    use aws_sdk_elasticloadbalancingv2::types as elb;
    let conf = sdk_conf(url, region).await;
    let ec2 = aws_sdk_ec2::Client::new(&conf);
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.7.0.0/16")
        .send()
        .await
        .unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    let mut subnets = vec![];
    for (i, az) in ["a", "b"].iter().enumerate() {
        let s = ec2
            .create_subnet()
            .vpc_id(&vpc)
            .cidr_block(format!("10.7.{i}.0/24"))
            .availability_zone(format!("{region}{az}"))
            .send()
            .await
            .unwrap();
        subnets.push(s.subnet().unwrap().subnet_id().unwrap().to_string());
    }
    let elbc = aws_sdk_elasticloadbalancingv2::Client::new(&conf);
    let lb = elbc
        .create_load_balancer()
        .name("prod-api")
        .set_subnets(Some(subnets))
        .send()
        .await
        .unwrap();
    let lb = &lb.load_balancers()[0];
    let (lb_arn, dns, zone) = (
        lb.load_balancer_arn().unwrap().to_string(),
        lb.dns_name().unwrap().to_string(),
        lb.canonical_hosted_zone_id().unwrap().to_string(),
    );
    let tg = elbc
        .create_target_group()
        .name("prod-api")
        .protocol(elb::ProtocolEnum::Http)
        .port(8080)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let tg = tg.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    elbc.create_listener()
        .load_balancer_arn(&lb_arn)
        .protocol(elb::ProtocolEnum::Http)
        .port(80)
        .default_actions(
            elb::Action::builder()
                .r#type(elb::ActionTypeEnum::Forward)
                .target_group_arn(&tg)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let ecs = aws_sdk_ecs::Client::new(&conf);
    ecs.create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .unwrap();
    let td = register_bridge_td(&ecs, "api", "shop-api:2.14.1").await;
    ecs.create_service()
        .cluster("prod")
        .service_name("api")
        .task_definition(&td)
        .desired_count(desired)
        .launch_type(t::LaunchType::Ec2)
        .load_balancers(
            t::LoadBalancer::builder()
                .target_group_arn(&tg)
                .container_name("api")
                .container_port(8080)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let instance = moto_ec2_instance_in(url, region);
    let doc = format!(
        r#"{{"instanceId":"{instance}","region":"{region}","availabilityZone":"{region}a"}}"#
    );
    let res = |n: &str, v: i32| {
        t::Resource::builder()
            .name(n)
            .r#type("INTEGER")
            .integer_value(v)
            .build()
    };
    ecs.register_container_instance()
        .cluster("prod")
        .instance_identity_document(doc)
        .total_resources(res("CPU", 100_000))
        .total_resources(res("MEMORY", 1_000_000))
        .send()
        .await
        .unwrap();
    if tasks > 0 {
        ecs.run_task()
            .cluster("prod")
            .task_definition(&td)
            .count(tasks)
            .group("service:api")
            .send()
            .await
            .unwrap();
    }
    let cwc = aws_sdk_cloudwatch::Client::new(&conf);
    put_service_alarm(
        &cwc,
        "prod-api-5xx",
        ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"),
        ("prod", "api"),
        None,
    )
    .await;
    cwc.set_alarm_state()
        .alarm_name("prod-api-5xx")
        .state_value(aws_sdk_cloudwatch::types::StateValue::Ok)
        .state_reason("quiet")
        .send()
        .await
        .unwrap();
    (dns, zone)
}

/// `api.shop.example.com`: a failover pair of aliases to each region's load
/// balancer, each with a health check. The hosted zone id.
async fn seed_dns(url: &str, east: &(String, String), west: &(String, String)) -> String {
    use aws_sdk_route53::types as r53;
    let conf = sdk_conf(url, EAST).await;
    let r = aws_sdk_route53::Client::new(&conf);
    let zone = r
        .create_hosted_zone()
        .name("shop.example.com")
        .caller_reference("dr-test")
        .send()
        .await
        .unwrap();
    let zone = zone
        .hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string();
    let mut changes = vec![];
    for (set, role, (dns, hz)) in [
        ("primary", r53::ResourceRecordSetFailover::Primary, east),
        ("secondary", r53::ResourceRecordSetFailover::Secondary, west),
    ] {
        let hc = r
            .create_health_check()
            .caller_reference(format!("hc-{set}"))
            .health_check_config(
                r53::HealthCheckConfig::builder()
                    .r#type(r53::HealthCheckType::Http)
                    .fully_qualified_domain_name(dns)
                    .port(80)
                    .resource_path("/health")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let hc = hc.health_check().unwrap().id().to_string();
        changes.push(
            r53::Change::builder()
                .action(r53::ChangeAction::Create)
                .resource_record_set(
                    r53::ResourceRecordSet::builder()
                        .name("api.shop.example.com.")
                        .r#type(r53::RrType::A)
                        .set_identifier(set)
                        .failover(role)
                        .health_check_id(hc)
                        .alias_target(
                            r53::AliasTarget::builder()
                                .dns_name(dns)
                                .hosted_zone_id(hz)
                                .evaluate_target_health(true)
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        );
    }
    r.change_resource_record_sets()
        .hosted_zone_id(&zone)
        .change_batch(
            r53::ChangeBatch::builder()
                .set_changes(Some(changes))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    zone
}

/// The global database `shop`: the writer `shop-east`, the secondary
/// `shop-west`, and `lag_ms` of AuroraGlobalDBRPOLag published for it.
async fn seed_global_db(url: &str, lag_ms: f64) {
    let west = sdk_conf(url, WEST).await;
    let east = sdk_conf(url, EAST).await;
    // Created in us-west-2 (moto keeps a global cluster in the region that
    // created it; AWS answers DescribeGlobalClusters from any region).
    aws_sdk_rds::Client::new(&west)
        .create_global_cluster()
        .global_cluster_identifier("shop")
        .engine("aurora-postgresql")
        .send()
        .await
        .unwrap();
    for (conf, id) in [(&east, "shop-east"), (&west, "shop-west")] {
        aws_sdk_rds::Client::new(conf)
            .create_db_cluster()
            .db_cluster_identifier(id)
            .engine("aurora-postgresql")
            .global_cluster_identifier("shop")
            .master_username("shop")
            .master_user_password("not-a-secret-123")
            .send()
            .await
            .unwrap();
    }
    use aws_sdk_cloudwatch::types as cw;
    aws_sdk_cloudwatch::Client::new(&west)
        .put_metric_data()
        .namespace("AWS/RDS")
        .metric_data(
            cw::MetricDatum::builder()
                .metric_name("AuroraGlobalDBRPOLag")
                .dimensions(
                    cw::Dimension::builder()
                        .name("DBClusterIdentifier")
                        .value("shop-west")
                        .build(),
                )
                .value(lag_ms)
                .unit(cw::StandardUnit::Milliseconds)
                .timestamp(std::time::SystemTime::now().into())
                .build(),
        )
        .send()
        .await
        .unwrap();
}

/// Where the PRIMARY record set of the name points (its alias DNS name).
async fn primary_alias(url: &str, zone: &str) -> String {
    let conf = sdk_conf(url, EAST).await;
    let out = aws_sdk_route53::Client::new(&conf)
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    out.resource_record_sets()
        .iter()
        .find(|r| r.failover() == Some(&aws_sdk_route53::types::ResourceRecordSetFailover::Primary))
        .and_then(|r| r.alias_target())
        .map(|a| a.dns_name().to_string())
        .unwrap_or_default()
}

async fn writer(url: &str) -> String {
    let conf = sdk_conf(url, WEST).await;
    let out = aws_sdk_rds::Client::new(&conf)
        .describe_global_clusters()
        .global_cluster_identifier("shop")
        .send()
        .await
        .unwrap();
    out.global_clusters()[0]
        .global_cluster_members()
        .iter()
        .find(|m| m.is_writer() == Some(true))
        .and_then(|m| m.db_cluster_arn())
        .unwrap_or_default()
        .to_string()
}

async fn desired(url: &str, region: &str) -> i32 {
    let conf = sdk_conf(url, region).await;
    let out = aws_sdk_ecs::Client::new(&conf)
        .describe_services()
        .cluster("prod")
        .services("api")
        .send()
        .await
        .unwrap();
    out.services()[0].desired_count()
}

fn dr_run(url: &str, data: &std::path::Path, runbook: &str, extra: &[&str]) -> serde_json::Value {
    let mut args: Vec<String> = [
        "--write",
        "--region",
        EAST,
        "--region",
        WEST,
        "--endpoint-url",
        url,
        "--data-dir",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(data.display().to_string());
    args.extend(["runbook", "run", runbook].map(String::from));
    for p in [
        "cluster=prod",
        "service=api",
        "primary_region=us-east-1",
        "standby_region=us-west-2",
        "hosted_zone=shop.example.com",
        "record_name=api.shop.example.com",
        "global_cluster=shop",
        "target=30m",
    ]
    .iter()
    .chain(extra)
    {
        args.push("--param".into());
        args.push(p.to_string());
    }
    args.extend(["--yes", "--format", "json"].map(String::from));
    let out = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(&args)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {} / {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(
        v["outcome"],
        "completed",
        "{v}\n{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(v["report"].as_str().unwrap_or_default()).unwrap_or_default()
    );
    v
}

/// Every successful call of a run: (api, request id).
fn calls(summary: &serde_json::Value) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(summary["journal"].as_str().unwrap()).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| {
            e["kind"] == "api_call" && e["detail"]["phase"] == "after" && e["detail"]["ok"] == true
        })
        .map(|e| {
            (
                e["detail"]["call"]["api"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e["aws_request_id"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_region_failover_and_its_failback_move_traffic_data_and_capacity() {
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    // Tasks stay RUNNING however often they are described.
    http_post(
        &moto.url,
        "/moto-api/state-manager/set-transition",
        &[("Content-Type", "application/json")],
        r#"{"model_name":"ecs::task","transition":{"progression":"manual","times":1000000}}"#,
    );
    let east = seed_region(&moto.url, EAST, 2, 2).await;
    let west = seed_region(&moto.url, WEST, 0, 2).await;
    let zone = seed_dns(&moto.url, &east, &west).await;
    seed_global_db(&moto.url, 1500.0).await;
    assert_eq!(primary_alias(&moto.url, &zone).await, east.0);
    assert!(writer(&moto.url).await.ends_with(":shop-east"));
    let data = tempfile::tempdir().unwrap();

    let v = dr_run(&moto.url, data.path(), "dr-region-failover", &[]);
    assert_eq!(v["serving_region"], WEST);
    assert_eq!(v["rpo_seconds"], 1.5, "AuroraGlobalDBRPOLag 1500 ms: {v}");
    assert_eq!(v["rpo_target_seconds"], 900.0);
    assert_eq!(v["rpo_met"], true);
    assert!(v["rto_seconds"].as_f64().is_some(), "{v}");
    let made = calls(&v);
    let apis: Vec<&str> = made.iter().map(|(a, _)| a.as_str()).collect();
    for want in [
        "Scale",
        "Route53Records",
        "Route53Shift",
        "Route53ChangeStatus",
        "RdsReplication",
        "RdsPromote",
    ] {
        assert!(apis.contains(&want), "{want}: {apis:?}");
    }
    // Each change is journaled with the request id AWS gave it.
    for (api, rid) in &made {
        if ["Scale", "Route53Shift", "RdsPromote"].contains(&api.as_str()) {
            assert!(!rid.is_empty(), "{api} has no request id: {made:?}");
        }
    }
    // moto's state: the standby scaled up, the PRIMARY record set points
    // at it, its cluster writes.
    assert_eq!(desired(&moto.url, WEST).await, 2);
    assert_eq!(primary_alias(&moto.url, &zone).await, west.0);
    assert!(writer(&moto.url).await.ends_with(":shop-west"));
    let report = std::fs::read_to_string(v["report"].as_str().unwrap()).unwrap();
    assert!(
        report.contains("- DNS: Route 53 api.shop.example.com. A PRIMARY (set primary)"),
        "{report}"
    );
    assert!(
        report.contains("- Data tier: RDS SwitchoverGlobalCluster shop"),
        "{report}"
    );
    assert!(
        report.contains("- RPO: **1.5 s** (AuroraGlobalDBRPOLag)"),
        "{report}"
    );

    let v = dr_run(
        &moto.url,
        data.path(),
        "dr-region-failback",
        &["standby_count=0"],
    );
    assert_eq!(v["serving_region"], EAST);
    assert_eq!(primary_alias(&moto.url, &zone).await, east.0);
    assert!(writer(&moto.url).await.ends_with(":shop-east"));
    assert_eq!(desired(&moto.url, WEST).await, 0, "a pilot light again");
}

/// A cross-region read replica on moto: `rds.replication` reads it (its
/// source in us-east-1, ReplicaLag from CloudWatch), `rds.promote` makes
/// it a standalone writer (PromoteReadReplica), and moto's state says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_region_read_replica_is_read_and_promoted() {
    use ecsdeck::actions::rds::{PromoteCall, ReplicationCall};
    use ecsdeck::calls::{PlannedCall, ServiceRef, Target};
    let Some(moto) = Moto::start() else { return };
    fake_credentials();
    let east = sdk_conf(&moto.url, EAST).await;
    let west = sdk_conf(&moto.url, WEST).await;
    let src = aws_sdk_rds::Client::new(&east)
        .create_db_instance()
        .db_instance_identifier("shop")
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .master_username("shop")
        .master_user_password("not-a-secret-123")
        .allocated_storage(20)
        .send()
        .await
        .unwrap();
    let src_arn = src
        .db_instance()
        .unwrap()
        .db_instance_arn()
        .unwrap()
        .to_string();
    let rds = aws_sdk_rds::Client::new(&west);
    rds.create_db_instance_read_replica()
        .db_instance_identifier("shop-replica")
        .source_db_instance_identifier(&src_arn)
        .send()
        .await
        .unwrap();
    use aws_sdk_cloudwatch::types as cw;
    aws_sdk_cloudwatch::Client::new(&west)
        .put_metric_data()
        .namespace("AWS/RDS")
        .metric_data(
            cw::MetricDatum::builder()
                .metric_name("ReplicaLag")
                .dimensions(
                    cw::Dimension::builder()
                        .name("DBInstanceIdentifier")
                        .value("shop-replica")
                        .build(),
                )
                .value(3.0)
                .unit(cw::StandardUnit::Seconds)
                .timestamp(std::time::SystemTime::now().into())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let source = AwsSource::connect(AwsOptions {
        region: Some(WEST.into()),
        endpoint_url: Some(moto.url.clone()),
        ..Default::default()
    })
    .await;
    let target = Target::from_ref(&ServiceRef::new("prod", "api", Some(WEST)));
    let read = PlannedCall::new(
        target.clone(),
        &ReplicationCall {
            kind: "replica".into(),
            id: "shop-replica".into(),
        },
    );
    let out = ecsdeck::source::aws::actions::perform(&source, &read)
        .await
        .unwrap();
    let state: ecsdeck::model::database::DbState =
        serde_json::from_value(out.detail.clone()).unwrap();
    assert_eq!(state.kind, "read-replica", "{state:?}");
    assert_eq!(state.lag_seconds, Some(3.0), "{state:?}");
    let writer = state.writer().unwrap();
    assert_eq!((writer.region.as_str(), writer.id.as_str()), (EAST, "shop"));
    assert!(!out.request_ids.is_empty());
    let p = ecsdeck::model::database::promotion(&state, WEST, "auto")
        .unwrap()
        .unwrap();
    assert_eq!(p.api, "PromoteReadReplica");
    let promote = PlannedCall::new(
        target.clone(),
        &PromoteCall {
            promotion: Some(p),
            to_region: WEST.into(),
            id: "shop-replica".into(),
        },
    );
    let done = ecsdeck::source::aws::actions::perform(&source, &promote)
        .await
        .unwrap();
    assert_eq!(done.request_ids.len(), 1, "journaled with its request id");
    // moto's state: no longer a replica; read again, it takes writes.
    let d = rds
        .describe_db_instances()
        .db_instance_identifier("shop-replica")
        .send()
        .await
        .unwrap();
    assert_eq!(
        d.db_instances()[0].read_replica_source_db_instance_identifier(),
        None
    );
    let again = ecsdeck::source::aws::actions::perform(&source, &read)
        .await
        .unwrap();
    assert_eq!(again.detail["writableIn"], WEST, "{}", again.detail);
}
