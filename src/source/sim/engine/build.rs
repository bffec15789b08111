//! A scenario's services as the simulator starts them: the service, its
//! target group and scalable target, and the simulator's state for it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use rand::RngCore;
use rand_chacha::ChaCha8Rng;

use super::{SimAlarm, SimService};
use crate::model::*;
use crate::source::sim::scenario::{Behaviour, Scenario, ServiceSpec, TaskDefSpec};

/// What building each service of a scenario shares.
pub(super) struct Setup<'a> {
    pub sc: &'a Scenario,
    /// The scenario's default account and region.
    pub account: &'a String,
    pub region: &'a String,
    pub start: i64,
    pub task_definitions: &'a BTreeMap<String, Arc<TaskDefinition>>,
    pub behaviour_by_td: &'a BTreeMap<String, Behaviour>,
}

impl Setup<'_> {
    /// Service `si` of the scenario, with its target group and scalable
    /// target (pushed to the fleet's lists, referred to by position).
    pub(super) fn service(
        &self,
        si: usize,
        s: &ServiceSpec,
        rng: &mut ChaCha8Rng,
        target_groups: &mut Vec<TargetGroup>,
        scalable_targets: &mut Vec<ScalableTarget>,
    ) -> SimService {
        let Setup {
            sc,
            account,
            region,
            start,
            task_definitions,
            behaviour_by_td,
        } = *self;
        let cluster = s.cluster.get_ref().clone();
        // The service lives where its cluster does (account, region).
        let (svc_account, svc_region) = sc
            .cluster_of(s)
            .map(|c| sc.place_of(c))
            .unwrap_or_else(|| (account.clone(), region.clone()));
        let td = td_arn(region, account, s.task_definition.get_ref());
        let tdef = task_definitions.get(&td).cloned();
        let Container {
            name: container,
            port,
            health_check,
            start_period_ms,
            log_group,
        } = Container::of(tdef.as_deref(), &s.name);
        let azs: Vec<String> = s
            .azs
            .as_ref()
            .map(|v| v.iter().map(|a| a.get_ref().clone()).collect())
            .unwrap_or_else(|| sc.scenario.azs.clone());
        let subnets = subnets(si, &azs, s.subnet_free_ips);
        let mut load_balancers = Vec::new();
        let target_group = s.target_group.as_ref().map(|name| {
            let arn = format!(
                "arn:aws:elasticloadbalancing:{svc_region}:{svc_account}:targetgroup/{name}/{:016x}",
                rng.next_u64()
            );
            load_balancers.push(LoadBalancerRef { target_group_arn: arn.clone(), container_name: container.clone(), container_port: port });
            target_groups.push(target_group(sc, s, si, name, arn, (&svc_account, &svc_region), &cluster));
            target_groups.len() - 1
        });
        let autoscaling = s.autoscaling.as_ref().map(|a| {
            scalable_targets.push(scalable_target(
                a,
                &cluster,
                &s.name,
                &svc_account,
                &svc_region,
            ));
            scalable_targets.len() - 1
        });
        let (launch_type, capacity_provider_strategy) = capacity(s);
        let deployment_id = format!(
            "ecs-svc/{:019}",
            rng.next_u64() % 10_000_000_000_000_000_000
        );
        let mut svc = Service {
            account: svc_account.clone(),
            region: svc_region.clone(),
            cluster: cluster.clone(),
            name: s.name.clone(),
            arn: format!(
                "arn:aws:ecs:{svc_region}:{svc_account}:service/{cluster}/{}",
                s.name
            ),
            status: "ACTIVE".into(),
            desired_count: s.desired,
            running_count: 0,
            pending_count: 0,
            launch_type,
            capacity_provider_strategy,
            platform_version: Some(s.platform_version.clone()),
            platform_family: Some("Linux".into()),
            task_definition: td.clone(),
            deployment_controller: s.deployment_controller.clone().unwrap_or("ECS".into()),
            deployment_configuration: deployment_configuration(s),
            deployments: vec![first_deployment(
                deployment_id.clone(),
                &td,
                s.desired,
                start,
            )],
            load_balancers,
            network_configuration: Some(NetworkConfiguration {
                subnets: subnets.iter().map(|n| n.subnet_id.clone()).collect(),
                security_groups: vec![format!("sg-{:08x}", si)],
                assign_public_ip: if s.assign_public_ip {
                    "ENABLED"
                } else {
                    "DISABLED"
                }
                .into(),
            }),
            health_check_grace_period_seconds: s
                .health_check_grace_period
                .or(s.target_group.as_ref().map(|_| 60)),
            availability_zone_rebalancing: if s.az_rebalancing {
                "ENABLED"
            } else {
                "DISABLED"
            }
            .into(),
            enable_execute_command: s.execute_command,
            propagate_tags: s.propagate_tags.clone(),
            enable_ecs_managed_tags: s.ecs_managed_tags,
            tags: s.tags.clone(),
            created_at: start - 30 * 86_400_000,
            events: vec![],
            tasks: vec![],
            subnets,
            deployment_history: vec![],
            task_sets: vec![],
        };
        svc.deployment_history = vec![first_record(&svc, &deployment_id, start)];
        SimService {
            svc,
            tasks: vec![],
            behaviour_by_td: behaviour_by_td.clone(),
            base_rps: s.base_rps,
            cpu_per_rps: s.cpu_per_rps,
            az_rebalancing: s.az_rebalancing,
            target_group,
            last_completed_td: td,
            health_check,
            start_period_ms,
            log_group,
            container,
            metrics: ServiceMetrics::default(),
            steady_reported: true,
            last_placement_event: i64::MIN / 2,
            last_rebalance: i64::MIN / 2,
            rebalance_task: None,
            next_ip: 10,
            failures_this_minute: 0,
            unhealthy_hosts: 0.0,
            autoscaling,
            high_streak: 0,
            low_streak: 0,
            last_scale_out: i64::MIN / 2,
            last_scale_in: i64::MIN / 2,
        }
    }
}

/// What the simulator needs of a service's first container.
struct Container {
    name: String,
    port: i32,
    health_check: bool,
    start_period_ms: i64,
    log_group: Option<String>,
}

impl Container {
    fn of(tdef: Option<&TaskDefinition>, service: &str) -> Container {
        let container = tdef
            .as_ref()
            .and_then(|t| t.container_definitions.first())
            .map(|c| c.name.clone())
            .unwrap_or_else(|| service.to_string());
        let port = tdef
            .as_ref()
            .and_then(|t| t.container_definitions.first())
            .and_then(|c| c.port_mappings.first().copied())
            .unwrap_or(8080);
        let health_check = tdef.as_ref().is_some_and(|t| {
            t.container_definitions
                .iter()
                .any(|c| c.health_check.is_some())
        });
        let start_period_ms = tdef
            .as_ref()
            .and_then(|t| {
                t.container_definitions
                    .iter()
                    .find_map(|c| c.health_check.as_ref()?.start_period)
            })
            .unwrap_or(0) as i64
            * 1000;
        let log_group = tdef.as_ref().and_then(|t| {
            t.container_definitions.iter().find_map(|c| {
                c.log_configuration
                    .as_ref()?
                    .options
                    .get("awslogs-group")
                    .cloned()
            })
        });
        Container {
            name: container,
            port,
            health_check,
            start_period_ms,
            log_group,
        }
    }
}

/// The scalable target of a service under target tracking.
fn scalable_target(
    a: &crate::source::sim::scenario::AutoscalingSpec,
    cluster: &str,
    service: &str,
    account: &str,
    region: &str,
) -> ScalableTarget {
    let (metric, name) = match a.metric.as_str() {
        "memory" => ("ECSServiceAverageMemoryUtilization", "memory"),
        "requests" => ("ALBRequestCountPerTarget", "requests"),
        _ => ("ECSServiceAverageCPUUtilization", "cpu"),
    };
    ScalableTarget {
        resource_id: format!("service/{cluster}/{service}"),
        account: account.to_string(),
        region: region.to_string(),
        min_capacity: a.min,
        max_capacity: a.max,
        dynamic_scaling_in_suspended: false,
        dynamic_scaling_out_suspended: false,
        scheduled_scaling_suspended: false,
        policies: vec![TargetTrackingPolicy {
            policy_name: format!("{name}{}-target-tracking", a.target),
            predefined_metric_type: metric.into(),
            target_value: a.target,
            scale_out_cooldown: a.scale_out_cooldown,
            scale_in_cooldown: a.scale_in_cooldown,
            disable_scale_in: false,
        }],
        scheduled_actions: a.scheduled_actions.clone(),
    }
}

/// The service's deployment configuration, as the scenario gives it.
fn deployment_configuration(s: &ServiceSpec) -> DeploymentConfiguration {
    DeploymentConfiguration {
        minimum_healthy_percent: *s.min_healthy_percent.get_ref(),
        maximum_percent: *s.max_percent.get_ref(),
        deployment_circuit_breaker: s
            .circuit_breaker
            .as_ref()
            .map(|b| DeploymentCircuitBreaker {
                enable: b.enable,
                rollback: b.rollback,
            }),
        alarms: (!s.deployment_alarms.is_empty()).then(|| DeploymentAlarms {
            alarm_names: s.deployment_alarms.clone(),
            enable: true,
            rollback: true,
        }),
        strategy: s.strategy.clone(),
        bake_time_in_minutes: None,
    }
}

/// The PRIMARY deployment a service starts with: completed a day ago.
/// The service deployment that created the service: SUCCESSFUL a day ago.
fn first_record(svc: &Service, deployment_id: &str, start: i64) -> ServiceDeploymentRecord {
    ServiceDeploymentRecord {
        arn: service_deployment_arn(
            &svc.region,
            &svc.account,
            &svc.cluster,
            &svc.name,
            deployment_id,
        ),
        status: history::status::SUCCESSFUL.into(),
        status_reason: None,
        task_definition: svc.task_definition.clone(),
        rollback_to: None,
        rollback_reason: None,
        started_at: start - 86_400_000,
        finished_at: Some(start - 86_300_000),
        deployment_ids: vec![deployment_id.to_string()],
    }
}

/// A service deployment's ARN, as ECS forms it (its id is the rollout's).
pub(super) fn service_deployment_arn(
    region: &str,
    account: &str,
    cluster: &str,
    service: &str,
    deployment_id: &str,
) -> String {
    let id = deployment_id.trim_start_matches("ecs-svc/");
    format!("arn:aws:ecs:{region}:{account}:service-deployment/{cluster}/{service}/{id}")
}

fn first_deployment(id: String, td: &str, desired: i32, start: i64) -> Deployment {
    Deployment {
        id,
        status: DeploymentStatus::Primary,
        task_definition: td.to_string(),
        desired_count: desired,
        pending_count: 0,
        running_count: 0,
        failed_tasks: 0,
        rollout_state: Some(RolloutState::Completed),
        rollout_state_reason: Some("ECS deployment ecs-svc completed.".into()),
        created_at: start - 86_400_000,
        updated_at: start - 86_300_000,
    }
}

/// One subnet per AZ, with `free` IPs before the service's own tasks
/// take theirs (the snapshot subtracts them).
fn subnets(si: usize, azs: &[String], free: i32) -> Vec<Subnet> {
    azs.iter()
        .map(|az| Subnet {
            subnet_id: format!(
                "subnet-{:08x}{}",
                (si as u32).wrapping_mul(2654435761),
                crate::model::az::az_short(az)
            ),
            availability_zone: az.clone(),
            available_ip_address_count: free,
        })
        .collect()
}

/// Launch type and capacity provider strategy: FARGATE unless the scenario
/// names a launch type or capacity providers.
fn capacity(s: &ServiceSpec) -> (String, Vec<CapacityProviderItem>) {
    let launch_type = match (&s.launch_type, s.capacity_providers.is_empty()) {
        (Some(l), _) => l.clone(),
        (None, true) => "FARGATE".into(),
        (None, false) => String::new(),
    };
    let strategy = s
        .capacity_providers
        .iter()
        .map(|p| CapacityProviderItem {
            capacity_provider: p.provider.clone(),
            base: p.base,
            weight: p.weight,
        })
        .collect();
    (launch_type, strategy)
}

/// The scenario's alarms, each on the service it names (skipped when the
/// service is not in the scenario: validation reports that).
pub(super) fn alarms(sc: &Scenario, services: &[SimService], start: i64) -> Vec<SimAlarm> {
    sc.alarms
        .iter()
        .filter_map(|a| alarm(sc, a, services, start))
        .collect()
}

fn alarm(
    sc: &Scenario,
    a: &crate::source::sim::scenario::AlarmSpec,
    services: &[SimService],
    start: i64,
) -> Option<SimAlarm> {
    let id = sc
        .service_id(
            a.service.get_ref(),
            a.region.as_deref(),
            a.account.as_deref(),
        )
        .ok()?;
    let si = services.iter().position(|s| s.svc.id() == id)?;
    let s = &services[si].svc;
    let metric = a.metric.get_ref().clone();
    let (namespace, dims, stat) = match metric.as_str() {
        "CPUUtilization" | "MemoryUtilization" => (
            "AWS/ECS",
            BTreeMap::from([
                ("ClusterName".into(), s.cluster.clone()),
                ("ServiceName".into(), s.name.clone()),
            ]),
            "Average",
        ),
        "RunningTaskCount" => (
            "ECS/ContainerInsights",
            BTreeMap::from([
                ("ClusterName".into(), s.cluster.clone()),
                ("ServiceName".into(), s.name.clone()),
            ]),
            "Average",
        ),
        _ => {
            let tg = s
                .load_balancers
                .first()
                .map(|l| {
                    l.target_group_arn
                        .rsplit(':')
                        .next()
                        .unwrap_or("")
                        .to_string()
                })
                .unwrap_or_default();
            (
                "AWS/ApplicationELB",
                BTreeMap::from([
                    ("TargetGroup".into(), tg),
                    (
                        "LoadBalancer".into(),
                        format!("app/{}-alb/0000000000000000", s.cluster),
                    ),
                ]),
                if metric == "TargetResponseTime" {
                    "p99"
                } else {
                    "Sum"
                },
            )
        }
    };
    Some(SimAlarm {
        alarm: Alarm {
            name: a.name.clone(),
            arn: format!(
                "arn:aws:cloudwatch:{}:{}:alarm:{}",
                s.region, s.account, a.name
            ),
            account: s.account.clone(),
            region: s.region.clone(),
            namespace: namespace.into(),
            metric_name: metric,
            dimensions: dims,
            statistic: a.statistic.clone().unwrap_or_else(|| stat.into()),
            period: 60,
            comparison_operator: a.comparison.get_ref().clone(),
            threshold: a.threshold,
            evaluation_periods: a.evaluation_periods,
            datapoints_to_alarm: a.datapoints_to_alarm.unwrap_or(a.evaluation_periods),
            state: AlarmState::InsufficientData,
            state_reason: "Unchecked: Initial alarm creation".into(),
            state_updated_at: start,
            actions_enabled: a.actions_enabled,
            alarm_actions: a.actions.clone(),
            history: vec![],
            service_key: Some(s.key()),
        },
        service: si,
        points: VecDeque::new(),
    })
}

pub(super) fn td_arn(region: &str, account: &str, family_rev: &str) -> String {
    format!("arn:aws:ecs:{region}:{account}:task-definition/{family_rev}")
}

/// The service's target group behind its cluster's load balancer.
fn target_group(
    sc: &Scenario,
    s: &ServiceSpec,
    si: usize,
    name: &str,
    arn: String,
    (account, region): (&str, &str),
    cluster: &str,
) -> TargetGroup {
    let lb_name = format!("{cluster}-alb");
    let lb_arn = format!(
        "arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{lb_name}/{si:016x}"
    );
    TargetGroup {
        arn,
        account: account.to_string(),
        region: region.to_string(),
        name: name.to_string(),
        load_balancer: Some(super::posture::load_balancer(sc, &lb_arn, &lb_name, region)),
        load_balancer_arn: Some(lb_arn),
        load_balancer_azs: sc.scenario.azs.clone(),
        deregistration_delay_seconds: s.deregistration_delay,
        targets: vec![],
    }
}

fn policies(specs: &[crate::source::sim::scenario::PolicySpec]) -> Vec<RolePolicy> {
    specs
        .iter()
        .map(|p| RolePolicy {
            name: p.name.clone(),
            policy_arn: p.arn.clone(),
            document: p.document.clone(),
        })
        .collect()
}

pub(super) fn build_task_definition(
    region: &str,
    account: &str,
    t: &TaskDefSpec,
    start: i64,
) -> TaskDefinition {
    let fr = format!("{}:{}", t.family, t.revision);
    let role_arn = |r: &str| format!("arn:aws:iam::{account}:role/{r}");
    TaskDefinition {
        arn: td_arn(region, account, &fr),
        family: t.family.clone(),
        revision: t.revision,
        cpu: t.cpu.clone(),
        memory: t.memory.clone(),
        network_mode: t.network_mode.clone(),
        pid_mode: None,
        requires_compatibilities: vec!["FARGATE".into()],
        cpu_architecture: t.cpu_architecture.clone(),
        operating_system_family: Some(t.operating_system_family.clone()),
        task_role_arn: t.task_role.as_deref().map(role_arn),
        execution_role_arn: t.execution_role.as_deref().map(role_arn),
        task_role: t.task_role.as_deref().map(|r| IamRole {
            arn: role_arn(r),
            policies: policies(&t.task_role_policies),
        }),
        execution_role: t.execution_role.as_deref().map(|r| IamRole {
            arn: role_arn(r),
            policies: policies(&t.execution_role_policies),
        }),
        volumes: t
            .efs_volumes
            .iter()
            .map(|v| crate::model::Volume {
                name: v.name.clone(),
                efs: Some(crate::model::EfsVolume {
                    file_system_id: v.file_system_id.clone(),
                    transit_encryption: v.transit_encryption,
                }),
            })
            .collect(),
        container_definitions: t
            .containers
            .iter()
            .map(|c| ContainerDefinition {
                name: c.name.clone(),
                image: c.image.clone(),
                essential: c.essential,
                cpu: c.cpu,
                memory: c.memory,
                memory_reservation: c.memory_reservation,
                port_mappings: c.port.into_iter().collect(),
                environment: c
                    .environment
                    .iter()
                    .map(|(k, v)| KeyValue {
                        name: k.clone(),
                        value: v.clone(),
                    })
                    .collect(),
                secrets: c
                    .secrets
                    .iter()
                    .map(|(k, v)| SecretRef {
                        name: k.clone(),
                        value_from: v.clone(),
                    })
                    .collect(),
                health_check: (c.health_check || c.health_check_start_period.is_some()).then(
                    || HealthCheck {
                        command: vec![
                            "CMD-SHELL".into(),
                            format!(
                                "curl -fsS http://localhost:{}/health || exit 1",
                                c.port.unwrap_or(8080)
                            ),
                        ],
                        interval: 30,
                        timeout: 5,
                        retries: 3,
                        start_period: c.health_check_start_period.or(Some(15)),
                    },
                ),
                log_configuration: c.log_group.as_ref().map(|g| LogConfiguration {
                    log_driver: "awslogs".into(),
                    options: {
                        let mut o = BTreeMap::from([
                            ("awslogs-group".to_string(), g.clone()),
                            ("awslogs-region".to_string(), region.to_string()),
                            ("awslogs-stream-prefix".to_string(), "ecs".to_string()),
                        ]);
                        if let Some(m) = &c.log_mode {
                            o.insert("mode".into(), m.clone());
                        }
                        o
                    },
                }),
                readonly_root_filesystem: c.readonly_root_filesystem,
                user: c.user.clone(),
                privileged: c.privileged,
                capabilities_add: c.capabilities_add.clone(),
                stop_timeout: c.stop_timeout,
            })
            .collect(),
        tags: t.tags.clone(),
        registered_at: start - 86_400_000,
    }
}
