//! ECS: ListClusters/DescribeClusters, ListServices + DescribeServices (10 a
//! call), ListTasks + DescribeTasks (100 a call, RUNNING and STOPPED),
//! DescribeTaskDefinition (cached by ARN). SDK types become model types here.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_ecs::types as t;
use futures::stream::{self, StreamExt, TryStreamExt};

use super::{AwsSource, bump, describe_error};
use crate::model::*;

/// DescribeServices takes at most 10 services a call.
pub const DESCRIBE_SERVICES_MAX: usize = 10;
/// DescribeTasks takes at most 100 tasks a call.
pub const DESCRIBE_TASKS_MAX: usize = 100;
/// Describe batches in flight at once per cluster.
const CONCURRENT: usize = 4;

fn ms(d: Option<&aws_sdk_ecs::primitives::DateTime>) -> Option<i64> {
    d.and_then(|d| d.to_millis().ok())
}

fn s(o: Option<&str>) -> String {
    o.unwrap_or_default().to_string()
}

fn tags(v: &[t::Tag]) -> BTreeMap<String, String> {
    v.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn strategy(v: &[t::CapacityProviderStrategyItem]) -> Vec<CapacityProviderItem> {
    v.iter()
        .map(|c| CapacityProviderItem {
            capacity_provider: c.capacity_provider().to_string(),
            base: c.base(),
            weight: c.weight(),
        })
        .collect()
}

pub fn convert_cluster(c: &t::Cluster, region: &str) -> Cluster {
    let insights = c
        .settings()
        .iter()
        .find(|s| s.name().map(|n| n.as_str()) == Some("containerInsights"))
        .and_then(|s| s.value())
        .unwrap_or("disabled")
        .to_string();
    Cluster {
        name: s(c.cluster_name()),
        arn: s(c.cluster_arn()),
        account: crate::model::id::arn_account(c.cluster_arn().unwrap_or_default())
            .unwrap_or_default()
            .to_string(),
        region: region.to_string(),
        status: s(c.status()),
        container_insights: insights,
        tags: tags(c.tags()),
        default_capacity_provider_strategy: strategy(c.default_capacity_provider_strategy()),
        // Named here, described by read_capacity_providers.
        capacity_providers: c
            .capacity_providers()
            .iter()
            .filter(|n| !n.starts_with("FARGATE"))
            .map(|n| crate::model::CapacityProvider {
                name: n.clone(),
                ..Default::default()
            })
            .collect(),
        capacity_providers_unread: None,
    }
}

fn convert_deployment(d: &t::Deployment) -> Deployment {
    let status = match d.status() {
        Some("PRIMARY") => DeploymentStatus::Primary,
        Some("ACTIVE") => DeploymentStatus::Active,
        _ => DeploymentStatus::Inactive,
    };
    Deployment {
        id: s(d.id()),
        status,
        task_definition: s(d.task_definition()),
        desired_count: d.desired_count(),
        pending_count: d.pending_count(),
        running_count: d.running_count(),
        failed_tasks: d.failed_tasks(),
        rollout_state: d.rollout_state().and_then(|r| match r.as_str() {
            "IN_PROGRESS" => Some(RolloutState::InProgress),
            "COMPLETED" => Some(RolloutState::Completed),
            "FAILED" => Some(RolloutState::Failed),
            _ => None,
        }),
        rollout_state_reason: d.rollout_state_reason().map(str::to_string),
        created_at: ms(d.created_at()).unwrap_or(0),
        updated_at: ms(d.updated_at()).unwrap_or(0),
    }
}

pub fn convert_service(v: &t::Service, region: &str, cluster: &str) -> Service {
    let dc = v.deployment_configuration();
    Service {
        account: crate::model::id::arn_account(v.service_arn().unwrap_or_default())
            .unwrap_or_default()
            .to_string(),
        region: region.to_string(),
        cluster: cluster.to_string(),
        name: s(v.service_name()),
        arn: s(v.service_arn()),
        status: s(v.status()),
        desired_count: v.desired_count(),
        running_count: v.running_count(),
        pending_count: v.pending_count(),
        launch_type: v
            .launch_type()
            .map(|l| l.as_str().to_string())
            .unwrap_or_default(),
        capacity_provider_strategy: strategy(v.capacity_provider_strategy()),
        platform_version: v.platform_version().map(str::to_string),
        platform_family: v.platform_family().map(str::to_string),
        task_definition: s(v.task_definition()),
        deployment_controller: v
            .deployment_controller()
            .map(|c| c.r#type().as_str().to_string())
            .unwrap_or_else(|| "ECS".into()),
        deployment_configuration: DeploymentConfiguration {
            minimum_healthy_percent: dc.and_then(|d| d.minimum_healthy_percent()).unwrap_or(100),
            maximum_percent: dc.and_then(|d| d.maximum_percent()).unwrap_or(200),
            deployment_circuit_breaker: dc.and_then(|d| d.deployment_circuit_breaker()).map(|b| {
                DeploymentCircuitBreaker {
                    enable: b.enable(),
                    rollback: b.rollback(),
                }
            }),
            alarms: dc.and_then(|d| d.alarms()).map(|a| DeploymentAlarms {
                alarm_names: a.alarm_names().to_vec(),
                enable: a.enable(),
                rollback: a.rollback(),
            }),
            strategy: dc
                .and_then(|d| d.strategy())
                .map(|x| x.as_str().to_string()),
            bake_time_in_minutes: dc.and_then(|d| d.bake_time_in_minutes()),
        },
        deployments: v.deployments().iter().map(convert_deployment).collect(),
        load_balancers: v
            .load_balancers()
            .iter()
            .map(|l| LoadBalancerRef {
                target_group_arn: s(l.target_group_arn()),
                container_name: s(l.container_name()),
                container_port: l.container_port().unwrap_or(0),
            })
            .collect(),
        network_configuration: v
            .network_configuration()
            .and_then(|n| n.awsvpc_configuration())
            .map(|a| NetworkConfiguration {
                subnets: a.subnets().to_vec(),
                security_groups: a.security_groups().to_vec(),
                assign_public_ip: a
                    .assign_public_ip()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| "DISABLED".into()),
            }),
        health_check_grace_period_seconds: v.health_check_grace_period_seconds(),
        availability_zone_rebalancing: v
            .availability_zone_rebalancing()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
        enable_execute_command: v.enable_execute_command(),
        propagate_tags: v
            .propagate_tags()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "NONE".into()),
        enable_ecs_managed_tags: v.enable_ecs_managed_tags(),
        tags: tags(v.tags()),
        created_at: ms(v.created_at()).unwrap_or(0),
        events: v
            .events()
            .iter()
            .map(|e| ServiceEvent {
                id: s(e.id()),
                created_at: ms(e.created_at()).unwrap_or(0),
                message: s(e.message()),
            })
            .collect(),
        tasks: vec![],
        subnets: vec![],
        deployment_history: vec![],
        task_sets: v
            .task_sets()
            .iter()
            .map(|ts| crate::model::TaskSet {
                id: s(ts.id()),
                status: s(ts.status()),
                task_definition: s(ts.task_definition()),
                assign_public_ip: ts
                    .network_configuration()
                    .and_then(|n| n.awsvpc_configuration())
                    .and_then(|a| a.assign_public_ip())
                    == Some(&t::AssignPublicIp::Enabled),
            })
            .collect(),
    }
}

pub fn convert_task(v: &t::Task) -> Task {
    let arn = s(v.task_arn());
    let detail = |name: &str| {
        v.attachments()
            .iter()
            .flat_map(|a| a.details())
            .find(|d| d.name() == Some(name))
            .and_then(|d| d.value())
            .map(str::to_string)
    };
    Task {
        id: arn.rsplit('/').next().unwrap_or(&arn).to_string(),
        arn,
        cluster: s(v.cluster_arn())
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string(),
        group: s(v.group()),
        task_definition: s(v.task_definition_arn()),
        last_status: s(v.last_status()),
        desired_status: s(v.desired_status()),
        health_status: v
            .health_status()
            .map(|h| h.as_str().to_string())
            .unwrap_or_else(|| "UNKNOWN".into()),
        // None when the endpoint doesn't say (moto): shown as "unknown AZ".
        availability_zone: v
            .availability_zone()
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        subnet_id: detail("subnetId"),
        private_ip: detail("privateIPv4Address"),
        launch_type: v
            .launch_type()
            .map(|l| l.as_str().to_string())
            .unwrap_or_default(),
        capacity_provider: v.capacity_provider_name().map(str::to_string),
        created_at: ms(v.created_at()).unwrap_or(0),
        started_at: ms(v.started_at()),
        stopping_at: ms(v.stopping_at()),
        stopped_at: ms(v.stopped_at()),
        stop_code: v.stop_code().map(|c| c.as_str().to_string()),
        stopped_reason: v.stopped_reason().map(str::to_string),
        containers: v
            .containers()
            .iter()
            .map(|c| Container {
                name: s(c.name()),
                last_status: s(c.last_status()),
                exit_code: c.exit_code(),
                reason: c.reason().map(str::to_string),
                health_status: c
                    .health_status()
                    .map(|h| h.as_str().to_string())
                    .unwrap_or_else(|| "UNKNOWN".into()),
                image: s(c.image()),
            })
            .collect(),
        started_by: s(v.started_by()),
    }
}

pub fn convert_task_definition(d: &t::TaskDefinition, tag_list: &[t::Tag]) -> TaskDefinition {
    TaskDefinition {
        arn: s(d.task_definition_arn()),
        family: s(d.family()),
        revision: d.revision(),
        cpu: d.cpu().map(str::to_string),
        memory: d.memory().map(str::to_string),
        network_mode: d
            .network_mode()
            .map(|n| n.as_str().to_string())
            .unwrap_or_default(),
        pid_mode: d.pid_mode().map(|p| p.as_str().to_string()),
        requires_compatibilities: d
            .requires_compatibilities()
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        cpu_architecture: d
            .runtime_platform()
            .and_then(|r| r.cpu_architecture())
            .map(|a| a.as_str().to_string()),
        operating_system_family: d
            .runtime_platform()
            .and_then(|r| r.operating_system_family())
            .map(|o| o.as_str().to_string()),
        task_role_arn: d.task_role_arn().map(str::to_string),
        execution_role_arn: d.execution_role_arn().map(str::to_string),
        task_role: None,
        execution_role: None,
        volumes: d
            .volumes()
            .iter()
            .map(|v| crate::model::Volume {
                name: s(v.name()),
                efs: v
                    .efs_volume_configuration()
                    .map(|e| crate::model::EfsVolume {
                        file_system_id: e.file_system_id().to_string(),
                        transit_encryption: e.transit_encryption()
                            == Some(&t::EfsTransitEncryption::Enabled),
                    }),
            })
            .collect(),
        container_definitions: d
            .container_definitions()
            .iter()
            .map(|c| ContainerDefinition {
                name: s(c.name()),
                image: s(c.image()),
                essential: c.essential().unwrap_or(true),
                cpu: Some(c.cpu()).filter(|v| *v > 0),
                memory: c.memory(),
                memory_reservation: c.memory_reservation(),
                port_mappings: c
                    .port_mappings()
                    .iter()
                    .filter_map(|p| p.container_port())
                    .collect(),
                environment: c
                    .environment()
                    .iter()
                    .map(|kv| KeyValue {
                        name: s(kv.name()),
                        value: s(kv.value()),
                    })
                    .collect(),
                secrets: c
                    .secrets()
                    .iter()
                    .map(|x| SecretRef {
                        name: x.name().to_string(),
                        value_from: x.value_from().to_string(),
                    })
                    .collect(),
                health_check: c.health_check().map(|h| HealthCheck {
                    command: h.command().to_vec(),
                    interval: h.interval().unwrap_or(30),
                    timeout: h.timeout().unwrap_or(5),
                    retries: h.retries().unwrap_or(3),
                    start_period: h.start_period(),
                }),
                log_configuration: c.log_configuration().map(|l| LogConfiguration {
                    log_driver: l.log_driver().as_str().to_string(),
                    options: l
                        .options()
                        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                        .unwrap_or_default(),
                }),
                readonly_root_filesystem: c.readonly_root_filesystem(),
                user: c.user().map(str::to_string),
                privileged: c.privileged(),
                capabilities_add: c
                    .linux_parameters()
                    .and_then(|l| l.capabilities())
                    .map(|k| k.add().to_vec())
                    .unwrap_or_default(),
                stop_timeout: c.stop_timeout(),
            })
            .collect(),
        tags: tags(tag_list),
        registered_at: ms(d.registered_at()).unwrap_or(0),
    }
}

/// One call per batch of `per` items, CONCURRENT in flight, answers in
/// batch order; the first error ends it.
async fn in_batches<T, O, E, Fut>(
    items: &[T],
    per: usize,
    call: impl FnMut(&[T]) -> Fut,
) -> Result<Vec<O>, E>
where
    Fut: std::future::Future<Output = Result<O, E>>,
{
    // The calls are built first (owned futures), then run: a stream closure
    // borrowing the chunks trips the spawned pollers' lifetime bounds.
    let calls: Vec<Fut> = items.chunks(per).map(call).collect();
    stream::iter(calls).buffered(CONCURRENT).try_collect().await
}

/// One problem line per service DescribeServices answered under `failures`
/// (MISSING: deleted between ListServices and now; or any other reason).
pub fn service_failures<'a>(
    cluster: &str,
    failures: impl Iterator<Item = &'a t::Failure>,
) -> Vec<String> {
    failures
        .map(|f| {
            format!(
                "ecs:DescribeServices: {} in cluster {cluster} not described: {}{}",
                f.arn().unwrap_or("a service"),
                f.reason().unwrap_or("no reason given"),
                f.detail().map(|d| format!(" ({d})")).unwrap_or_default()
            )
        })
        .collect()
}

/// Everything ECS says about the fleet, into `snap`. An error reading the
/// clusters, services or tasks ends this refresh with one line for the
/// status line (partial data is kept). What it could read around is
/// returned as problems: task definitions not read (named in
/// `snap.unread`), services and tasks ECS answered under `failures`.
pub async fn fetch_ecs(src: &AwsSource, snap: &mut FleetSnapshot) -> Result<Vec<String>, String> {
    let mut problems: Vec<String> = Vec::new();
    read_clusters(src, snap).await?;
    let clusters = Arc::clone(&snap.clusters);
    for cluster in clusters.iter() {
        let Some(mut services) = read_services(src, cluster, &mut problems).await? else {
            // Deleted between ListClusters and now: not an error.
            std::sync::Arc::make_mut(&mut snap.clusters).retain(|c| c.arn != cluster.arn);
            continue;
        };
        let tasks = read_tasks(src, cluster, &mut problems).await?;
        for svc in &mut services {
            let group = format!("service:{}", svc.name);
            svc.tasks = tasks.iter().filter(|t| t.group == group).cloned().collect();
            svc.cluster = cluster.name.clone();
        }
        snap.services
            .extend(services.into_iter().map(std::sync::Arc::new));
    }
    read_task_definitions(src, snap, &mut problems).await;
    snap.services
        .sort_by(|a, b| (&a.cluster, &a.name).cmp(&(&b.cluster, &b.name)));
    Ok(problems)
}

/// ListClusters (paginated, filtered by `--cluster`), then DescribeClusters
/// (100 a call), into `snap.clusters`.
async fn read_clusters(src: &AwsSource, snap: &mut FleetSnapshot) -> Result<(), String> {
    let ecs = &src.ecs;
    // Clusters: ListClusters (paginated), then DescribeClusters (100 a call).
    let mut arns = Vec::new();
    // Page sizes at the API maximum: fewer calls than the defaults (10 services).
    let mut pages = ecs.list_clusters().max_results(100).into_paginator().send();
    while let Some(page) = pages.next().await {
        bump(&src.calls.list_clusters);
        let page = page.map_err(|e| describe_error("ecs:ListClusters", &e))?;
        arns.extend(page.cluster_arns().iter().cloned());
    }
    if !src.opts.clusters.is_empty() {
        arns.retain(|a| {
            src.opts
                .clusters
                .iter()
                .any(|c| a.ends_with(&format!("/{c}")) || a == c)
        });
    }
    for batch in arns.chunks(100) {
        bump(&src.calls.describe_clusters);
        let out = ecs
            .describe_clusters()
            .set_clusters(Some(batch.to_vec()))
            .include(t::ClusterField::Settings)
            .include(t::ClusterField::Tags)
            .send()
            .await
            .map_err(|e| describe_error("ecs:DescribeClusters", &e))?;
        std::sync::Arc::make_mut(&mut snap.clusters).extend(
            out.clusters()
                .iter()
                .map(|c| convert_cluster(c, &src.region)),
        );
    }
    read_capacity_providers(src, snap).await;
    Ok(())
}

/// DescribeCapacityProviders (100 a call) for the clusters' Auto Scaling
/// group providers. A failure leaves them unread on each cluster that has
/// some (ECS.19 is then not evaluated there), not the whole kind failed.
async fn read_capacity_providers(src: &AwsSource, snap: &mut FleetSnapshot) {
    let mut names: Vec<String> = snap
        .clusters
        .iter()
        .flat_map(|c| c.capacity_providers.iter().map(|p| p.name.clone()))
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return;
    }
    let mut read: BTreeMap<String, crate::model::CapacityProvider> = BTreeMap::new();
    let mut error = None;
    for batch in names.chunks(100) {
        bump(&src.calls.describe_clusters);
        match src
            .ecs
            .describe_capacity_providers()
            .set_capacity_providers(Some(batch.to_vec()))
            .send()
            .await
        {
            Ok(out) => {
                for p in out.capacity_providers() {
                    let asg = p.auto_scaling_group_provider();
                    read.insert(
                        s(p.name()),
                        crate::model::CapacityProvider {
                            name: s(p.name()),
                            auto_scaling_group_arn: asg
                                .map(|a| a.auto_scaling_group_arn().to_string()),
                            managed_termination_protection: asg
                                .and_then(|a| a.managed_termination_protection())
                                .map_or("DISABLED", |m| m.as_str())
                                .to_string(),
                            managed_scaling: asg
                                .and_then(|a| a.managed_scaling())
                                .and_then(|m| m.status())
                                .map_or("DISABLED", |m| m.as_str())
                                .to_string(),
                        },
                    );
                }
            }
            Err(e) => {
                error = Some(describe_error("ecs:DescribeCapacityProviders", &e));
                break;
            }
        }
    }
    for c in std::sync::Arc::make_mut(&mut snap.clusters).iter_mut() {
        if c.capacity_providers.is_empty() {
            continue;
        }
        match &error {
            Some(e) => c.capacity_providers_unread = Some(e.clone()),
            None => {
                for p in c.capacity_providers.iter_mut() {
                    if let Some(r) = read.get(&p.name) {
                        *p = r.clone();
                    }
                }
            }
        }
    }
}

/// The services of one cluster (None: the cluster is gone). Services ECS
/// answered under `failures` are named in `problems`.
async fn read_services(
    src: &AwsSource,
    cluster: &crate::model::Cluster,
    problems: &mut Vec<String>,
) -> Result<Option<Vec<Service>>, String> {
    let ecs = &src.ecs;
    let mut service_arns = Vec::new();
    let mut pages = ecs
        .list_services()
        .cluster(&cluster.arn)
        .max_results(100)
        .into_paginator()
        .send();
    let mut gone = false;
    while let Some(page) = pages.next().await {
        bump(&src.calls.list_services);
        let page = match page {
            Ok(p) => p,
            // Deleted between ListClusters and now: not an error.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_cluster_not_found_exception()) =>
            {
                gone = true;
                break;
            }
            Err(e) => return Err(describe_error("ecs:ListServices", &e)),
        };
        service_arns.extend(page.service_arns().iter().cloned());
    }
    if gone {
        return Ok(None);
    }
    // Batches a few at a time, in order (a 1,000-service cluster is 100
    // DescribeServices calls: 100/CONCURRENT round trips).
    let outs = in_batches(&service_arns, DESCRIBE_SERVICES_MAX, |batch| {
        bump(&src.calls.describe_services);
        ecs.describe_services()
            .cluster(&cluster.arn)
            .set_services(Some(batch.to_vec()))
            .include(t::ServiceField::Tags)
            .send()
    })
    .await
    .map_err(|e| describe_error("ecs:DescribeServices", &e))?;
    // A service ECS could not describe is named, not dropped in silence.
    problems.extend(service_failures(
        &cluster.name,
        outs.iter().flat_map(|out| out.failures()),
    ));
    let services: Vec<Service> = outs
        .iter()
        .flat_map(|out| out.services())
        .map(|v| convert_service(v, &src.region, &cluster.name))
        .collect();
    Ok(Some(services))
}

/// The cluster's tasks, RUNNING and recently STOPPED (tasks ECS could not
/// describe are counted in `problems`).
async fn read_tasks(
    src: &AwsSource,
    cluster: &crate::model::Cluster,
    problems: &mut Vec<String>,
) -> Result<Vec<crate::model::Task>, String> {
    let ecs = &src.ecs;
    // Tasks of the cluster, RUNNING and recently STOPPED, then grouped by service.
    let mut task_arns = Vec::new();
    for status in [t::DesiredStatus::Running, t::DesiredStatus::Stopped] {
        let mut pages = ecs
            .list_tasks()
            .cluster(&cluster.arn)
            .desired_status(status)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            bump(&src.calls.list_tasks);
            let page = page.map_err(|e| describe_error("ecs:ListTasks", &e))?;
            task_arns.extend(page.task_arns().iter().cloned());
        }
    }
    task_arns.sort();
    task_arns.dedup();
    let outs = in_batches(&task_arns, DESCRIBE_TASKS_MAX, |batch| {
        bump(&src.calls.describe_tasks);
        ecs.describe_tasks()
            .cluster(&cluster.arn)
            .set_tasks(Some(batch.to_vec()))
            .send()
    })
    .await
    .map_err(|e| describe_error("ecs:DescribeTasks", &e))?;
    let task_failures = outs.iter().flat_map(|out| out.failures()).count();
    if task_failures > 0 {
        let first = outs.iter().flat_map(|out| out.failures()).next();
        problems.push(format!(
            "ecs:DescribeTasks: {task_failures} task(s) in cluster {} not described: {}",
            cluster.name,
            first
                .map(|f| format!(
                    "{} {}",
                    f.arn().unwrap_or("?"),
                    f.reason().unwrap_or("no reason given")
                ))
                .unwrap_or_default()
        ));
    }
    Ok(outs
        .iter()
        .flat_map(|out| out.tasks())
        .map(convert_task)
        .collect())
}

/// Task definitions of the services' deployments, cached by ARN (they are
/// immutable). A revision not read is named in `snap.unread`.
async fn read_task_definitions(
    src: &AwsSource,
    snap: &mut FleetSnapshot,
    problems: &mut Vec<String>,
) {
    let ecs = &src.ecs;
    let mut wanted: Vec<String> = snap
        .services
        .iter()
        .flat_map(|s| {
            s.deployments
                .iter()
                .map(|d| d.task_definition.clone())
                .chain([s.task_definition.clone()])
        })
        .filter(|a| !a.is_empty())
        .collect();
    wanted.sort();
    wanted.dedup();
    let mut cache = src.td_cache.lock().await;
    // After one failure the rest are not tried: ecs:DescribeTaskDefinition
    // takes no resource-level permission (a denial denies them all), and a
    // silent endpoint would cost a timeout per revision.
    let mut failed: Option<String> = None;
    let mut unread = 0usize;
    for arn in wanted {
        if !cache.contains_key(&arn) {
            let got = match &failed {
                Some(e) => Err(e.clone()),
                None => {
                    bump(&src.calls.describe_task_definition);
                    ecs.describe_task_definition()
                        .task_definition(&arn)
                        .include(t::TaskDefinitionField::Tags)
                        .send()
                        .await
                        .map_err(|e| describe_error("ecs:DescribeTaskDefinition", &e))
                }
            };
            match got {
                Ok(out) => {
                    if let Some(td) = out.task_definition() {
                        cache.insert(
                            arn.clone(),
                            Arc::new(convert_task_definition(td, out.tags())),
                        );
                    }
                }
                Err(e) => {
                    failed.get_or_insert(e.clone());
                    std::sync::Arc::make_mut(&mut snap.unread).insert(arn.clone(), e);
                    unread += 1;
                    continue;
                }
            }
        }
        if let Some(td) = cache.get(&arn) {
            std::sync::Arc::make_mut(&mut snap.task_definitions).insert(arn, td.clone());
        }
    }
    if let Some(e) = failed {
        problems.push(format!(
            "{e} ({unread} task definition{} not read)",
            if unread == 1 { "" } else { "s" }
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_ecs_could_not_describe_are_named_with_the_reason() {
        let failures = [
            t::Failure::builder()
                .arn("arn:aws:ecs:us-east-1:1:service/prod/gone")
                .reason("MISSING")
                .build(),
            t::Failure::builder()
                .arn("arn:aws:ecs:us-east-1:1:service/prod/odd")
                .reason("INTERNAL")
                .detail("try again")
                .build(),
        ];
        assert_eq!(
            service_failures("prod", failures.iter()),
            [
                "ecs:DescribeServices: arn:aws:ecs:us-east-1:1:service/prod/gone in cluster prod not described: MISSING",
                "ecs:DescribeServices: arn:aws:ecs:us-east-1:1:service/prod/odd in cluster prod not described: INTERNAL (try again)",
            ]
        );
    }

    #[test]
    fn service_conversion_keeps_what_the_checks_read() {
        let svc = t::Service::builder()
            .service_name("api")
            .service_arn("arn:aws:ecs:eu-west-1:1:service/prod/api")
            .desired_count(3)
            .running_count(2)
            .pending_count(1)
            .launch_type(t::LaunchType::Fargate)
            .task_definition("arn:aws:ecs:eu-west-1:1:task-definition/api:7")
            .deployment_configuration(
                t::DeploymentConfiguration::builder()
                    .minimum_healthy_percent(50)
                    .maximum_percent(200)
                    .deployment_circuit_breaker(
                        t::DeploymentCircuitBreaker::builder()
                            .enable(true)
                            .rollback(false)
                            .build(),
                    )
                    .build(),
            )
            .deployments(
                t::Deployment::builder()
                    .id("ecs-svc/1")
                    .status("PRIMARY")
                    .task_definition("arn:aws:ecs:eu-west-1:1:task-definition/api:7")
                    .rollout_state(t::DeploymentRolloutState::Failed)
                    .failed_tasks(4)
                    .build(),
            )
            .tags(t::Tag::builder().key("Environment").value("prod").build())
            .build();
        let s = convert_service(&svc, "eu-west-1", "prod");
        assert_eq!(
            (s.desired_count, s.running_count, s.pending_count),
            (3, 2, 1)
        );
        assert_eq!(s.launch_type, "FARGATE");
        assert_eq!(s.deployment_configuration.minimum_healthy_percent, 50);
        assert_eq!(
            s.deployment_configuration.deployment_circuit_breaker,
            Some(DeploymentCircuitBreaker {
                enable: true,
                rollback: false
            })
        );
        assert_eq!(s.deployments[0].rollout_state, Some(RolloutState::Failed));
        assert_eq!(s.deployments[0].failed_tasks, 4);
        assert_eq!(s.tags["Environment"], "prod");
        assert_eq!(
            crate::model::health::classify(&FleetSnapshot::default(), &s),
            ServiceHealth::Failed
        );
    }

    #[test]
    fn tasks_without_an_az_are_unknown_not_dropped() {
        let task = t::Task::builder()
            .task_arn("arn:aws:ecs:eu-west-1:1:task/prod/0123abcd")
            .group("service:api")
            .last_status("RUNNING")
            .attachments(
                t::Attachment::builder()
                    .details(
                        t::KeyValuePair::builder()
                            .name("subnetId")
                            .value("subnet-1")
                            .build(),
                    )
                    .details(
                        t::KeyValuePair::builder()
                            .name("privateIPv4Address")
                            .value("10.0.0.9")
                            .build(),
                    )
                    .build(),
            )
            .build();
        let t = convert_task(&task);
        assert_eq!(t.id, "0123abcd");
        assert_eq!(t.availability_zone, None);
        assert_eq!(t.subnet_id.as_deref(), Some("subnet-1"));
        assert_eq!(t.private_ip.as_deref(), Some("10.0.0.9"));
        let svc = Service {
            tasks: vec![t],
            ..Default::default()
        };
        assert_eq!(AzSpread::of(&svc).compact(), "?:1");
    }
}
