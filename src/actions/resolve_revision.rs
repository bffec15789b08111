//! `ecs.resolve_revision`: read-only, the last known-good task definition
//! of the service (saved under `save_as`).

use aws_sdk_ecs::types::SortOrder;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall, previous_task_definition_of};
use crate::model::short_task_definition;

pub struct ResolveRevision;

pub const OP: &str = "ecs.resolve_revision";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolveRevisionCall {
    pub current: String,
}

impl CallArgs for ResolveRevisionCall {
    const KIND: &'static str = "ResolveRevision";
}

impl RunbookAction for ResolveRevision {
    fn op(&self) -> &'static str {
        OP
    }
    fn mutates(&self) -> bool {
        false
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(ResolveRevisionCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "ecs:DescribeServices+DescribeTaskDefinition"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        // `which`: `previous-successful` (the only one so far).
        &[("which", FieldKind::Text)]
    }
    fn check(&self, _f: &Fields, save_as: bool) -> Result<(), FieldError> {
        if !save_as {
            return Err(FieldError::missing(self.op(), "save_as"));
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let call = ResolveRevisionCall {
            current: p.svc.task_definition.clone(),
        };
        Ok(vec![PlannedCall::new(p.target.clone(), &call)])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        let current = c
            .args::<ResolveRevisionCall>()
            .map(|a| a.current)
            .unwrap_or_default();
        format!(
            "find the last known-good task definition of {} (now {})",
            c.target.label(),
            short_task_definition(&current)
        )
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let snap = sim.snapshot();
        previous_task_definition_of(&snap, &c.target)
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c
                .args::<ResolveRevisionCall>()
                .ok_or("malformed ResolveRevision call")?;
            resolve_on_aws(aws, &a.current).await
        }
        .boxed()
    }
}

/// `family:revision` → revision number.
fn revision_of(arn: &str) -> Option<i32> {
    arn.rsplit(':').next()?.parse().ok()
}

/// The newest earlier revision of the service's task definition family,
/// with its images (ListTaskDefinitions + DescribeTaskDefinition).
async fn resolve_on_aws(aws: &AwsClients<'_>, current: &str) -> Result<CallOutput, String> {
    let family = short_task_definition(current)
        .split(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let cur_rev = revision_of(current).unwrap_or(i32::MAX);
    let mut arns = vec![];
    let mut pages = aws
        .ecs
        .list_task_definitions()
        .family_prefix(&family)
        .sort(SortOrder::Desc)
        .into_paginator()
        .send();
    while let Some(p) = pages.next().await {
        let p = p.map_err(|e| aws.err("ecs:ListTaskDefinitions", &e))?;
        arns.extend(p.task_definition_arns().iter().cloned());
    }
    let good = arns
        .into_iter()
        .filter(|a| {
            short_task_definition(a).split(':').next() == Some(family.as_str())
                && revision_of(a).is_some_and(|r| r < cur_rev)
        })
        .max_by_key(|a| revision_of(a))
        .ok_or_else(|| format!("no earlier revision of {family} than {cur_rev}"))?;
    let td = aws
        .ecs
        .describe_task_definition()
        .task_definition(&good)
        .send()
        .await
        .map_err(|e| aws.err("ecs:DescribeTaskDefinition", &e))?;
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
        request_ids: super::request_ids(aws_sdk_ecs::operation::RequestId::request_id(&td)),
        detail: json!({
            "taskDefinition": good,
            "familyRevision": short_task_definition(&good),
            "current": current,
            "images": images,
        }),
    })
}
