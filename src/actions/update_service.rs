//! `ecs.update_service`: UpdateService taskDefinition (a rolling deployment).

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall};
use crate::model::short_task_definition;

pub struct UpdateService;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateServiceCall {
    pub from: String,
    pub to: String,
}

impl CallArgs for UpdateServiceCall {
    const KIND: &'static str = "UpdateService";
}

impl RunbookAction for UpdateService {
    fn op(&self) -> &'static str {
        "ecs.update_service"
    }
    fn mutates(&self) -> bool {
        true
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(UpdateServiceCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "ecs:UpdateService"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[("task_definition", FieldKind::Text)]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        if !f.has("task_definition") {
            return Err(FieldError::missing(self.op(), "task_definition"));
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let td = p.text("task_definition")?.unwrap_or_default();
        if td.is_empty() {
            return Err("task_definition is empty".into());
        }
        let call = UpdateServiceCall {
            from: p.svc.task_definition.clone(),
            to: td,
        };
        Ok(vec![PlannedCall::new(p.target.clone(), &call)])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        match c.args::<UpdateServiceCall>() {
            Some(a) => format!(
                "UpdateService {}: taskDefinition {} → {}",
                c.target.label(),
                short_task_definition(&a.from),
                short_task_definition(&a.to)
            ),
            None => format!("UpdateService {}: taskDefinition", c.target.label()),
        }
    }
    fn is_noop(&self, c: &PlannedCall) -> bool {
        c.args::<UpdateServiceCall>()
            .is_some_and(|a| a.from == a.to)
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c
            .args::<UpdateServiceCall>()
            .ok_or("malformed UpdateService call")?;
        let id = sim.deploy(&c.target, short_task_definition(&a.to))?;
        Ok(json!({"deployment": id}))
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c
                .args::<UpdateServiceCall>()
                .ok_or("malformed UpdateService call")?;
            let out = aws
                .ecs
                .update_service()
                .cluster(&c.target.cluster)
                .service(&c.target.service)
                .task_definition(&a.to)
                .send()
                .await
                .map_err(|e| aws.err("ecs:UpdateService", &e))?;
            Ok(CallOutput {
                request_ids: super::request_ids(aws_sdk_ecs::operation::RequestId::request_id(
                    &out,
                )),
                detail: json!({"taskDefinition": out.service().and_then(|s| s.task_definition())}),
            })
        }
        .boxed()
    }
}
