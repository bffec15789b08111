//! Runbook actions on AWS: the [`Backend`] a headless run uses against a real
//! account (or moto). Reads come from [`AwsSource::fetch`] per region; each
//! mutating call is one SDK request whose request id goes to the journal.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_sdk_ecs::operation::RequestId;
use aws_sdk_ecs::types::{ServiceDeploymentStatus, SortOrder, StopServiceDeploymentStopType};
use serde_json::json;

use super::{AwsFleet, AwsOptions, AwsSource, describe_error, now_ms};
use crate::calls::{Backend, CallOutput, PlannedCall, Target};
use crate::model::{EpochMs, FleetSnapshot};

/// A full re-read at most this often while a run polls.
const REFRESH_MS: i64 = 5_000;

pub struct AwsBackend {
    rt: tokio::runtime::Runtime,
    /// Every region the run touches: `--region`s plus any `*region` parameter.
    fleet: AwsFleet,
    cached: Option<(EpochMs, Arc<FleetSnapshot>)>,
}

impl AwsBackend {
    /// `extra_regions`: regions the run names beyond `--region` (its
    /// `*region` parameters, [`crate::runbook::engine::Runner::param_regions`]).
    pub fn connect(mut opts: AwsOptions, extra_regions: &[String]) -> Result<AwsBackend, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        for r in extra_regions {
            if !opts.regions.contains(r) {
                opts.regions.push(r.clone());
            }
        }
        let fleet = rt.block_on(AwsFleet::connect(opts));
        Ok(AwsBackend {
            rt,
            fleet,
            cached: None,
        })
    }

    /// The source of the call's account and region (the first one when it
    /// names neither).
    fn source(&self, t: &Target) -> Result<&AwsSource, String> {
        let (account, region) = t.place();
        let i = self.fleet.source_for(account, region).ok_or_else(|| {
            format!(
                "{} {} is not connected",
                account.unwrap_or("account"),
                region.unwrap_or("region")
            )
        })?;
        Ok(&self.fleet.sources[i])
    }
}

fn rid<T: RequestId>(out: &T) -> Vec<String> {
    out.request_id()
        .map(|s| vec![s.to_string()])
        .unwrap_or_default()
}

fn aas_rid<T: aws_sdk_applicationautoscaling::operation::RequestId>(out: &T) -> Vec<String> {
    out.request_id()
        .map(|s| vec![s.to_string()])
        .unwrap_or_default()
}

/// `family:revision` → revision number.
fn revision_of(arn: &str) -> Option<i32> {
    arn.rsplit(':').next()?.parse().ok()
}

/// The newest earlier revision of the service's task definition family,
/// with its images (ListTaskDefinitions + DescribeTaskDefinition).
async fn resolve_revision(ecs: &aws_sdk_ecs::Client, current: &str) -> Result<CallOutput, String> {
    let family = crate::model::short_task_definition(current)
        .split(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let cur_rev = revision_of(current).unwrap_or(i32::MAX);
    let mut arns = vec![];
    let mut pages = ecs
        .list_task_definitions()
        .family_prefix(&family)
        .sort(SortOrder::Desc)
        .into_paginator()
        .send();
    while let Some(p) = pages.next().await {
        let p = p.map_err(|e| describe_error("ecs:ListTaskDefinitions", &e))?;
        arns.extend(p.task_definition_arns().iter().cloned());
    }
    let good = arns
        .into_iter()
        .filter(|a| {
            crate::model::short_task_definition(a).split(':').next() == Some(family.as_str())
                && revision_of(a).is_some_and(|r| r < cur_rev)
        })
        .max_by_key(|a| revision_of(a))
        .ok_or_else(|| format!("no earlier revision of {family} than {cur_rev}"))?;
    let td = ecs
        .describe_task_definition()
        .task_definition(&good)
        .send()
        .await
        .map_err(|e| describe_error("ecs:DescribeTaskDefinition", &e))?;
    let images: Vec<String> = td
        .task_definition()
        .map(|t| {
            t.container_definitions()
                .iter()
                .filter_map(|c| c.image().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok(CallOutput {
        request_ids: rid(&td),
        detail: json!({
            "taskDefinition": good,
            "familyRevision": crate::model::short_task_definition(&good),
            "current": current,
            "images": images,
        }),
    })
}

pub async fn perform(src: &AwsSource, c: &PlannedCall) -> Result<CallOutput, String> {
    let ecs = &src.ecs;
    Ok(match c {
        PlannedCall::Scale { target, to, .. } => {
            let out = ecs
                .update_service()
                .cluster(&target.cluster)
                .service(&target.service)
                .desired_count(*to)
                .send()
                .await
                .map_err(|e| describe_error("ecs:UpdateService", &e))?;
            CallOutput {
                request_ids: rid(&out),
                detail: json!({"desiredCount": out.service().map(|s| s.desired_count())}),
            }
        }
        PlannedCall::SetCapacity {
            resource_id, to, ..
        } => {
            let out = src
                .aas
                .register_scalable_target()
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id(resource_id)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .min_capacity(to.0)
                .max_capacity(to.1)
                .send()
                .await
                .map_err(|e| {
                    describe_error("application-autoscaling:RegisterScalableTarget", &e)
                })?;
            CallOutput {
                request_ids: aas_rid(&out),
                detail: json!({"min": to.0, "max": to.1}),
            }
        }
        PlannedCall::UpdateService { target, to, .. } => {
            let out = ecs
                .update_service()
                .cluster(&target.cluster)
                .service(&target.service)
                .task_definition(to)
                .send()
                .await
                .map_err(|e| describe_error("ecs:UpdateService", &e))?;
            CallOutput {
                request_ids: rid(&out),
                detail: json!({"taskDefinition": out.service().and_then(|s| s.task_definition())}),
            }
        }
        PlannedCall::ForceNewDeployment { target } => {
            let out = ecs
                .update_service()
                .cluster(&target.cluster)
                .service(&target.service)
                .force_new_deployment(true)
                .send()
                .await
                .map_err(|e| describe_error("ecs:UpdateService", &e))?;
            CallOutput {
                request_ids: rid(&out),
                detail: json!({}),
            }
        }
        PlannedCall::StopDeployment {
            target,
            rollback_to,
            ..
        } => {
            // StopServiceDeployment needs the service deployment ARN.
            let listed = ecs
                .list_service_deployments()
                .cluster(&target.cluster)
                .service(&target.service)
                .status(ServiceDeploymentStatus::InProgress)
                .send()
                .await;
            let arn = listed
                .as_ref()
                .ok()
                .and_then(|o| o.service_deployments().first())
                .and_then(|d| d.service_deployment_arn().map(str::to_string));
            match arn {
                Some(arn) => {
                    let out = ecs
                        .stop_service_deployment()
                        .service_deployment_arn(&arn)
                        .stop_type(StopServiceDeploymentStopType::Rollback)
                        .send()
                        .await
                        .map_err(|e| describe_error("ecs:StopServiceDeployment", &e))?;
                    CallOutput {
                        request_ids: rid(&out),
                        detail: json!({"serviceDeploymentArn": arn}),
                    }
                }
                None => {
                    // No ListServiceDeployments here (older API, or an emulator):
                    // roll back the way ECS does, by deploying the previous revision.
                    let why = match &listed {
                        Err(e) => describe_error("ecs:ListServiceDeployments", e),
                        Ok(_) => "no IN_PROGRESS service deployment listed".into(),
                    };
                    let td = rollback_to.as_deref().ok_or_else(|| {
                        format!("{why}; and no previous task definition to redeploy")
                    })?;
                    let out = ecs
                        .update_service()
                        .cluster(&target.cluster)
                        .service(&target.service)
                        .task_definition(td)
                        .send()
                        .await
                        .map_err(|e| describe_error("ecs:UpdateService", &e))?;
                    CallOutput {
                        request_ids: rid(&out),
                        detail: json!({"fallback": why, "redeployed": td}),
                    }
                }
            }
        }
        PlannedCall::StopTasks {
            target,
            task_ids,
            reason,
            ..
        } => {
            let mut ids = vec![];
            for id in task_ids {
                let out = ecs
                    .stop_task()
                    .cluster(&target.cluster)
                    .task(id)
                    .reason(reason)
                    .send()
                    .await
                    .map_err(|e| describe_error("ecs:StopTask", &e))?;
                ids.extend(rid(&out));
            }
            CallOutput {
                request_ids: ids,
                detail: json!({"stopped": task_ids}),
            }
        }
        // Sweeps end when the runner stops asking; nothing to call.
        PlannedCall::ReleaseAz { az, .. } => CallOutput {
            request_ids: vec![],
            detail: json!({"released": az}),
        },
        PlannedCall::ResolveRevision { current, .. } => resolve_revision(ecs, current).await?,
    })
}

impl Backend for AwsBackend {
    fn now(&self) -> EpochMs {
        now_ms()
    }

    fn snapshot(&mut self) -> Arc<FleetSnapshot> {
        let now = now_ms();
        if let Some((t, s)) = &self.cached
            && now - t < REFRESH_MS
        {
            return s.clone();
        }
        let snap = Arc::new(self.rt.block_on(self.fleet.fetch()));
        self.cached = Some((now, snap.clone()));
        snap
    }

    fn advance_to(&mut self, t: EpochMs) {
        let wait = (t - now_ms()).clamp(50, 60_000);
        std::thread::sleep(Duration::from_millis(wait as u64));
    }

    fn call(&mut self, c: &PlannedCall) -> Result<CallOutput, String> {
        let src = self.source(c.target())?;
        let res = self.rt.block_on(perform(src, c));
        self.cached = None;
        res
    }
}
