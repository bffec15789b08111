//! Services on the CODE_DEPLOY deployment controller: their deployments
//! are CodeDeploy's. [`find_active`] finds the deployment in progress of a
//! service (the ECS deployment group whose `ecsServices` name it);
//! `codedeploy.stop_deployment` stops it with auto-rollback (CodeDeploy
//! routes traffic back to the original task set) and follows the stop and
//! its rollback deployment with GetDeployment to their end.
//!
//! The simulator keeps one CodeDeploy deployment per ECS rollout of such a
//! service ([`sim_active`]); its stop is the rollout's rollback.

use std::time::Duration;

use aws_sdk_codedeploy::operation::RequestId;
use aws_sdk_codedeploy::types::{ComputePlatform, DeploymentStatus};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall, find_service_by_target};
use crate::model::{RolloutState, Service};

/// The deployment controller these actions are for.
pub const CONTROLLER: &str = "CODE_DEPLOY";

/// CodeDeploy's statuses of a deployment that has not ended.
const ACTIVE: [DeploymentStatus; 5] = [
    DeploymentStatus::Created,
    DeploymentStatus::Queued,
    DeploymentStatus::InProgress,
    DeploymentStatus::Ready,
    DeploymentStatus::Baking,
];

/// Poll interval of GetDeployment while a stop or rollback runs.
const POLL: Duration = Duration::from_secs(5);

/// A CodeDeploy deployment of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    pub deployment_id: String,
    pub application: String,
    pub deployment_group: String,
    pub status: String,
    /// The task definition the deployment rolls out (its AppSpec's
    /// `TaskDefinition`), where the AppSpec names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
}

/// The `TaskDefinition` an ECS AppSpec (YAML or JSON) names.
fn appspec_task_definition(content: &str) -> Option<String> {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"["']?TaskDefinition["']?\s*:\s*["']?([A-Za-z0-9:/_.-]+)"#)
            .unwrap_or_else(|e| unreachable!("{e}"))
    });
    RE.captures(content).map(|c| c[1].to_string())
}

/// The simulator's CodeDeploy deployment id of an ECS rollout: `d-` and
/// nine characters, as CodeDeploy writes them.
pub fn sim_id(ecs_deployment: &str) -> String {
    let h = ecs_deployment
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let tail: String = (0..9)
        .map(|i| ALPHABET[((h >> (i * 6)) % 36) as usize] as char)
        .collect();
    format!("d-{tail}")
}

/// On the simulator: the CodeDeploy deployment in progress of `svc`, which
/// is its ECS rollout in progress.
pub fn sim_active(svc: &Service) -> Option<Found> {
    let d = svc
        .primary_deployment()
        .filter(|d| d.rollout_state == Some(RolloutState::InProgress))?;
    Some(Found {
        deployment_id: sim_id(&d.id),
        application: format!("AppECS-{}-{}", svc.cluster, svc.name),
        deployment_group: format!("DgpECS-{}-{}", svc.cluster, svc.name),
        status: "InProgress".into(),
        task_definition: Some(d.task_definition.clone()),
    })
}

/// What to say when nothing is in progress.
pub fn none_active(label: &str) -> String {
    format!(
        "refused: {label} is deployed by CodeDeploy (CODE_DEPLOY) and no CodeDeploy deployment of it is in progress: \
         to roll back a deployment that completed, redeploy the previous revision in CodeDeploy \
         (aws deploy create-deployment with the earlier AppSpec)"
    )
}

fn cluster_matches(given: &str, cluster: &str) -> bool {
    given == cluster || given.rsplit('/').next() == Some(cluster)
}

/// On AWS: the CodeDeploy deployment in progress of `cluster/service`
/// (ListApplications → ListDeploymentGroups → GetDeploymentGroup's
/// `ecsServices` → ListDeployments of the active statuses).
pub async fn find_active(
    aws: &AwsClients<'_>,
    cluster: &str,
    service: &str,
    request_ids: &mut Vec<String>,
) -> Result<Option<Found>, String> {
    let cd = aws.codedeploy;
    let mut apps = vec![];
    let mut pages = cd.list_applications().into_paginator().send();
    while let Some(p) = pages.next().await {
        let p = p.map_err(|e| aws.err("codedeploy:ListApplications", &e))?;
        apps.extend(p.applications().iter().cloned());
    }
    for app in apps {
        let mut groups = vec![];
        let mut pages = cd
            .list_deployment_groups()
            .application_name(&app)
            .into_paginator()
            .send();
        while let Some(p) = pages.next().await {
            let p = p.map_err(|e| aws.err("codedeploy:ListDeploymentGroups", &e))?;
            groups.extend(p.deployment_groups().iter().cloned());
        }
        for group in groups {
            let g = cd
                .get_deployment_group()
                .application_name(&app)
                .deployment_group_name(&group)
                .send()
                .await
                .map_err(|e| aws.err("codedeploy:GetDeploymentGroup", &e))?;
            let Some(info) = g.deployment_group_info() else {
                continue;
            };
            let ours = info.compute_platform() != Some(&ComputePlatform::Lambda)
                && info.ecs_services().iter().any(|s| {
                    s.service_name() == Some(service)
                        && s.cluster_name()
                            .is_some_and(|c| cluster_matches(c, cluster))
                });
            if !ours {
                continue;
            }
            let listed = cd
                .list_deployments()
                .application_name(&app)
                .deployment_group_name(&group)
                .set_include_only_statuses(Some(ACTIVE.to_vec()))
                .send()
                .await
                .map_err(|e| aws.err("codedeploy:ListDeployments", &e))?;
            request_ids.extend(super::request_ids(listed.request_id()));
            if let Some(id) = listed.deployments().first() {
                let st = deployment_state(aws, id, request_ids).await?;
                return Ok(Some(Found {
                    deployment_id: id.clone(),
                    application: app.clone(),
                    deployment_group: group.clone(),
                    status: st.status,
                    task_definition: st.task_definition,
                }));
            }
            return Ok(None);
        }
    }
    Ok(None)
}

/// What GetDeployment says of a deployment.
struct State {
    status: String,
    /// Once stopped with rollback: the rollback deployment's id.
    rollback: Option<String>,
    task_definition: Option<String>,
}

/// GetDeployment of `id`.
async fn deployment_state(
    aws: &AwsClients<'_>,
    id: &str,
    request_ids: &mut Vec<String>,
) -> Result<State, String> {
    let out = aws
        .codedeploy
        .get_deployment()
        .deployment_id(id)
        .send()
        .await
        .map_err(|e| aws.err("codedeploy:GetDeployment", &e))?;
    request_ids.extend(super::request_ids(out.request_id()));
    let info = out.deployment_info();
    let status = info
        .and_then(|i| i.status())
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    let rollback = info
        .and_then(|i| i.rollback_info())
        .and_then(|r| r.rollback_deployment_id())
        .map(str::to_string);
    let task_definition = info
        .and_then(|i| i.revision())
        .and_then(|r| r.app_spec_content())
        .and_then(|c| c.content())
        .and_then(appspec_task_definition);
    Ok(State {
        status,
        rollback,
        task_definition,
    })
}

fn ended(status: &str) -> bool {
    matches!(status, "Succeeded" | "Failed" | "Stopped")
}

pub struct StopCodeDeploy;

pub const OP: &str = "codedeploy.stop_deployment";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopCodeDeployCall {
    pub deployment_id: String,
    /// How long to follow the stop and its rollback (ms).
    pub wait_ms: i64,
}

impl CallArgs for StopCodeDeployCall {
    const KIND: &'static str = "StopCodeDeploy";
}

impl RunbookAction for StopCodeDeploy {
    fn op(&self) -> &'static str {
        OP
    }
    fn mutates(&self) -> bool {
        true
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(StopCodeDeployCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "codedeploy:StopDeployment+GetDeployment"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[
            ("deployment_id", FieldKind::Text),
            ("wait", FieldKind::Text),
        ]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        if !f.has("deployment_id") {
            return Err(FieldError::missing(self.op(), "deployment_id"));
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        if p.svc.deployment_controller != CONTROLLER {
            return Err(format!(
                "refused: {} is not deployed by CodeDeploy (deployment controller {})",
                p.target.label(),
                p.svc.deployment_controller
            ));
        }
        let id = p
            .text("deployment_id")?
            .filter(|s| !s.trim().is_empty())
            .ok_or("no CodeDeploy deployment id to stop")?;
        let wait = p.text("wait")?.unwrap_or_else(|| "10m".into());
        let wait_ms = super::dur_ms(&wait).map_err(|e| format!("`wait`: {e}"))?;
        Ok(vec![PlannedCall::new(
            p.target.clone(),
            &StopCodeDeployCall {
                deployment_id: id,
                wait_ms,
            },
        )])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        let id = c
            .args::<StopCodeDeployCall>()
            .map(|a| a.deployment_id)
            .unwrap_or_default();
        format!(
            "CodeDeploy StopDeployment {id} of {} with autoRollbackEnabled=true (traffic goes back to the original task set)",
            c.target.label()
        )
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c
            .args::<StopCodeDeployCall>()
            .ok_or("malformed StopCodeDeploy call")?;
        let snap = sim.snapshot();
        let svc = find_service_by_target(&snap, &c.target)
            .ok_or_else(|| format!("service {} not found", c.target.label()))?;
        match sim_active(svc) {
            Some(f) if f.deployment_id == a.deployment_id => {}
            _ => {
                return Err(format!(
                    "codedeploy:StopDeployment: DeploymentAlreadyCompletedException: deployment {} is not in progress",
                    a.deployment_id
                ));
            }
        }
        let (rollout, td) = sim.rollback_deployment(&c.target)?;
        Ok(json!({
            "deploymentId": a.deployment_id,
            "status": "Stopped",
            "rollbackDeploymentId": sim_id(&rollout),
            "rollbackStatus": "InProgress",
            "rolledBackTo": td,
        }))
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c
                .args::<StopCodeDeployCall>()
                .ok_or("malformed StopCodeDeploy call")?;
            stop_on_aws(aws, &a).await
        }
        .boxed()
    }
}

/// StopDeployment with auto-rollback, then GetDeployment every 5 s until
/// the deployment has stopped and its rollback deployment has ended
/// (bounded by `wait_ms`).
async fn stop_on_aws(aws: &AwsClients<'_>, a: &StopCodeDeployCall) -> Result<CallOutput, String> {
    let id = &a.deployment_id;
    let out = aws
        .codedeploy
        .stop_deployment()
        .deployment_id(id)
        .auto_rollback_enabled(true)
        .send()
        .await
        .map_err(|e| aws.err("codedeploy:StopDeployment", &e))?;
    let mut request_ids = super::request_ids(out.request_id());
    let stop_status = out.status().map(|s| s.as_str().to_string());
    let deadline = tokio::time::Instant::now() + Duration::from_millis(a.wait_ms.max(0) as u64);
    let too_late = |what: &str| {
        format!(
            "{what} after {}: see CodeDeploy (aws deploy get-deployment --deployment-id {id})",
            crate::runbook::engine::fmt_dur(a.wait_ms)
        )
    };
    // The stop first …
    let (status, rollback) = loop {
        let st = deployment_state(aws, id, &mut request_ids).await?;
        let (status, rollback) = (st.status, st.rollback);
        if ended(&status) && (rollback.is_some() || status != "Stopped") {
            break (status, rollback);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(too_late(&format!("deployment {id} still {status}")));
        }
        tokio::time::sleep(POLL).await;
    };
    let Some(rb) = rollback else {
        return Err(format!(
            "deployment {id} ended {status} and CodeDeploy started no rollback deployment (codedeploy:GetDeployment rollbackInfo)"
        ));
    };
    // … then its rollback.
    let rb_status = loop {
        let s = deployment_state(aws, &rb, &mut request_ids).await?.status;
        if ended(&s) {
            break s;
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(too_late(&format!("rollback deployment {rb} still {s}")));
        }
        tokio::time::sleep(POLL).await;
    };
    if rb_status != "Succeeded" {
        return Err(format!(
            "the rollback deployment {rb} of {id} ended {rb_status} (codedeploy:GetDeployment)"
        ));
    }
    Ok(CallOutput {
        request_ids,
        detail: json!({
            "deploymentId": id,
            "stopStatus": stop_status,
            "status": status,
            "rollbackDeploymentId": rb,
            "rollbackStatus": rb_status,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_ids_look_like_codedeploy_ids_and_are_stable() {
        let a = sim_id("ecs-svc/123");
        assert_eq!(a, sim_id("ecs-svc/123"));
        assert_ne!(a, sim_id("ecs-svc/124"));
        assert_eq!(a.len(), 11);
        assert!(a.starts_with("d-"));
        assert!(
            a[2..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
    }

    #[test]
    fn the_appspec_names_the_task_definition() {
        let yaml = "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: \"arn:aws:ecs:us-east-1:1:task-definition/api:43\"\n";
        assert_eq!(
            appspec_task_definition(yaml).as_deref(),
            Some("arn:aws:ecs:us-east-1:1:task-definition/api:43")
        );
        let json =
            r#"{"Resources":[{"TargetService":{"Properties":{"TaskDefinition":"api:43"}}}]}"#;
        assert_eq!(appspec_task_definition(json).as_deref(), Some("api:43"));
        assert_eq!(appspec_task_definition("version: 0.0"), None);
    }

    #[test]
    fn a_cluster_is_matched_by_name_or_arn() {
        assert!(cluster_matches("prod", "prod"));
        assert!(cluster_matches(
            "arn:aws:ecs:us-east-1:1:cluster/prod",
            "prod"
        ));
        assert!(!cluster_matches("prod-dr", "prod"));
    }
}
