//! `ecs.force_new_deployment`: UpdateService forceNewDeployment.

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall, find_service_by_target};
use crate::model::short_task_definition;

pub struct ForceNewDeployment;

/// No fields of its own: the target is all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForceNewDeploymentCall {}

impl CallArgs for ForceNewDeploymentCall {
    const KIND: &'static str = "ForceNewDeployment";
}

impl RunbookAction for ForceNewDeployment {
    fn op(&self) -> &'static str {
        "ecs.force_new_deployment"
    }
    fn mutates(&self) -> bool {
        true
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(ForceNewDeploymentCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "ecs:UpdateService"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[]
    }
    fn check(&self, _f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        Ok(vec![PlannedCall::new(
            p.target.clone(),
            &ForceNewDeploymentCall {},
        )])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        format!(
            "UpdateService {}: forceNewDeployment = true",
            c.target.label()
        )
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let snap = sim.snapshot();
        let td = find_service_by_target(&snap, &c.target)
            .map(|s| s.task_definition.clone())
            .ok_or("service not found")?;
        let id = sim.deploy(&c.target, short_task_definition(&td))?;
        Ok(json!({"deployment": id}))
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let out = aws
                .ecs
                .update_service()
                .cluster(&c.target.cluster)
                .service(&c.target.service)
                .force_new_deployment(true)
                .send()
                .await
                .map_err(|e| aws.err("ecs:UpdateService", &e))?;
            Ok(CallOutput {
                request_ids: super::request_ids(aws_sdk_ecs::operation::RequestId::request_id(
                    &out,
                )),
                detail: json!({}),
            })
        }
        .boxed()
    }
}
