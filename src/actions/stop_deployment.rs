//! `ecs.stop_deployment`: StopServiceDeployment (ROLLBACK) of the deployment
//! in progress; where the API is missing, redeploy the previous revision.

use aws_sdk_ecs::types::{ServiceDeploymentStatus, StopServiceDeploymentStopType};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::known_good;
use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall};
use crate::model::{RolloutState, short_task_definition};

pub struct StopDeployment;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopDeploymentCall {
    pub deployment_id: String,
    pub stop_type: String,
    pub rollback_to: Option<String>,
    /// ECS is already rolling back (why): nothing to stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub already_rolling_back: Option<String>,
}

impl CallArgs for StopDeploymentCall {
    const KIND: &'static str = "StopDeployment";
}

impl RunbookAction for StopDeployment {
    fn op(&self) -> &'static str {
        "ecs.stop_deployment"
    }
    fn mutates(&self) -> bool {
        true
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(StopDeploymentCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "ecs:StopServiceDeployment"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[
            ("stop_type", FieldKind::Text),
            ("task_definition", FieldKind::Text),
        ]
    }
    fn check(&self, _f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let svc = p.svc;
        // A rolling deployment in progress says so; blue/green, linear and
        // canary ones report no rolloutState (ECS finds the service
        // deployment in progress at call time).
        let d = svc
            .primary_deployment()
            .filter(|d| {
                d.rollout_state == Some(RolloutState::InProgress)
                    || (d.rollout_state.is_none() && !svc.deployment_configuration.is_rolling())
            })
            .ok_or("no deployment in progress to stop")?;
        let now = known_good::now_of(svc);
        if let Some(r) = &now.automatic_rollback {
            // It started on its own since the run looked: follow it, don't
            // stop the rollback (a no-op the journal names).
            let call = StopDeploymentCall {
                deployment_id: d.id.clone(),
                stop_type: "ROLLBACK".into(),
                rollback_to: Some(r.to.clone()),
                already_rolling_back: Some(r.reason.clone()),
            };
            return Ok(vec![PlannedCall::new(p.target.clone(), &call)]);
        }
        // Where a rollback goes: the block's `task_definition` (the
        // resolved known-good one), else a completed deployment being
        // replaced; never the revision failing now.
        let rollback_to = p
            .text("task_definition")?
            .filter(|t| !t.trim().is_empty())
            .or_else(|| known_good::from_seen(svc, &now));
        if let Some(t) = &rollback_to
            && now.failing.iter().any(|f| known_good::names(t, f))
        {
            return Err(format!(
                "refused: {} is the revision failing now, not a rollback target",
                short_task_definition(t)
            ));
        }
        let call = StopDeploymentCall {
            deployment_id: d.id.clone(),
            stop_type: p.fields.str("stop_type").unwrap_or("ROLLBACK").to_string(),
            rollback_to,
            already_rolling_back: None,
        };
        Ok(vec![PlannedCall::new(p.target.clone(), &call)])
    }
    fn is_noop(&self, c: &PlannedCall) -> bool {
        c.args::<StopDeploymentCall>()
            .is_some_and(|a| a.already_rolling_back.is_some())
    }
    fn describe(&self, c: &PlannedCall) -> String {
        let Some(a) = c.args::<StopDeploymentCall>() else {
            return format!("StopServiceDeployment {}", c.target.label());
        };
        if let Some(why) = &a.already_rolling_back {
            return format!(
                "{} is already rolling back to {} ({why}): following it",
                c.target.label(),
                a.rollback_to
                    .as_deref()
                    .map(short_task_definition)
                    .unwrap_or("the last revision that completed")
            );
        }
        format!(
            "StopServiceDeployment {}: {} stopType={} (back to {})",
            c.target.label(),
            a.deployment_id,
            a.stop_type,
            a.rollback_to
                .as_deref()
                .map(short_task_definition)
                .unwrap_or("the previous deployment")
        )
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c
            .args::<StopDeploymentCall>()
            .ok_or("malformed StopDeployment call")?;
        // As StopServiceDeployment ROLLBACK: the service deployment turns
        // ROLLBACK_IN_PROGRESS toward the last revision that completed.
        let (id, td) = sim.rollback_deployment(&c.target)?;
        if let Some(want) = &a.rollback_to
            && !known_good::names(want, &td)
        {
            return Ok(
                json!({"deployment": id, "rolled_back_to": td, "planned": want,
                "note": "ECS rolls back to the last revision that completed, not the one planned"}),
            );
        }
        Ok(json!({"deployment": id, "rolled_back_to": td}))
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c
                .args::<StopDeploymentCall>()
                .ok_or("malformed StopDeployment call")?;
            stop_on_aws(aws, c, a.rollback_to.as_deref()).await
        }
        .boxed()
    }
}

async fn stop_on_aws(
    aws: &AwsClients<'_>,
    c: &PlannedCall,
    rollback_to: Option<&str>,
) -> Result<CallOutput, String> {
    let rid = |id: Option<&str>| super::request_ids(id);
    // StopServiceDeployment needs the service deployment ARN.
    let listed = aws
        .ecs
        .list_service_deployments()
        .cluster(&c.target.cluster)
        .service(&c.target.service)
        .status(ServiceDeploymentStatus::InProgress)
        .send()
        .await;
    let arn = listed
        .as_ref()
        .ok()
        .and_then(|o| o.service_deployments().first())
        .and_then(|d| d.service_deployment_arn().map(str::to_string));
    if let Some(arn) = arn {
        let out = aws
            .ecs
            .stop_service_deployment()
            .service_deployment_arn(&arn)
            .stop_type(StopServiceDeploymentStopType::Rollback)
            .send()
            .await
            .map_err(|e| aws.err("ecs:StopServiceDeployment", &e))?;
        return Ok(CallOutput {
            request_ids: rid(aws_sdk_ecs::operation::RequestId::request_id(&out)),
            detail: json!({"serviceDeploymentArn": arn}),
        });
    }
    // No ListServiceDeployments here (older API, or an emulator): roll
    // back the way ECS does, by deploying the previous revision.
    let why = match &listed {
        Err(e) => aws.err("ecs:ListServiceDeployments", e),
        Ok(_) => "no IN_PROGRESS service deployment listed".into(),
    };
    let td =
        rollback_to.ok_or_else(|| format!("{why}; and no previous task definition to redeploy"))?;
    let out = aws
        .ecs
        .update_service()
        .cluster(&c.target.cluster)
        .service(&c.target.service)
        .task_definition(td)
        .send()
        .await
        .map_err(|e| aws.err("ecs:UpdateService", &e))?;
    Ok(CallOutput {
        request_ids: rid(aws_sdk_ecs::operation::RequestId::request_id(&out)),
        detail: json!({"fallback": why, "redeployed": td}),
    })
}
