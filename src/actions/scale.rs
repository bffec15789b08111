//! `ecs.scale`: UpdateService desiredCount.

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall};
use crate::model::DataKind;

pub struct Scale;

/// The call: desiredCount `from` → `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScaleCall {
    pub from: i32,
    pub to: i32,
}

impl CallArgs for ScaleCall {
    const KIND: &'static str = "Scale";
}

impl RunbookAction for Scale {
    fn op(&self) -> &'static str {
        "ecs.scale"
    }
    fn mutates(&self) -> bool {
        true
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(ScaleCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "ecs:UpdateService"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[("desired", FieldKind::Count)]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        if !f.has("desired") {
            return Err(FieldError::missing(self.op(), "desired"));
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let to = p.count("desired")?.unwrap_or(0);
        let from = p.svc.desired_count;
        let svc = p.svc;
        // Under Application Auto Scaling a desiredCount set by hand is
        // undone by its policies (or undoes theirs): the capacity moves
        // through the scalable target's min/max instead.
        if let Some(t) = p.snap.scalable_target(svc) {
            if from == to {
                return Ok(vec![PlannedCall::new(
                    p.target.clone(),
                    &ScaleCall { from, to },
                )]);
            }
            return Err(format!(
                "refused: {} is under Application Auto Scaling ({} MinCapacity {}, MaxCapacity {}): \
                 setting desiredCount {from} → {to} by hand goes behind its policies' back; \
                 change MinCapacity/MaxCapacity (autoscaling.set_capacity) instead",
                p.target.label(),
                t.resource_id,
                t.min_capacity,
                t.max_capacity
            ));
        }
        if from != to
            && !p
                .snap
                .read_ok_at(DataKind::Autoscaling, &svc.account, &svc.region)
        {
            let why = p
                .snap
                .read_error_at(DataKind::Autoscaling, &svc.account, &svc.region)
                .unwrap_or("not read yet");
            return Err(format!(
                "refused: cannot tell whether {} is under Application Auto Scaling \
                 (application-autoscaling:DescribeScalableTargets: {why}); \
                 a desiredCount set by hand could fight its policies",
                p.target.label()
            ));
        }
        p.factor_guard(from, to)?;
        Ok(vec![PlannedCall::new(
            p.target.clone(),
            &ScaleCall { from, to },
        )])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        match c.args::<ScaleCall>() {
            Some(a) => format!(
                "UpdateService {}: desiredCount {} → {}",
                c.target.label(),
                a.from,
                a.to
            ),
            None => format!("UpdateService {}: desiredCount", c.target.label()),
        }
    }
    fn is_noop(&self, c: &PlannedCall) -> bool {
        c.args::<ScaleCall>().is_some_and(|a| a.from == a.to)
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c.args::<ScaleCall>().ok_or("malformed Scale call")?;
        let old = sim.set_desired_count(&c.target, a.to)?;
        Ok(json!({"old": old, "desiredCount": a.to}))
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c.args::<ScaleCall>().ok_or("malformed Scale call")?;
            let out = aws
                .ecs
                .update_service()
                .cluster(&c.target.cluster)
                .service(&c.target.service)
                .desired_count(a.to)
                .send()
                .await
                .map_err(|e| aws.err("ecs:UpdateService", &e))?;
            Ok(CallOutput {
                request_ids: super::request_ids(aws_sdk_ecs::operation::RequestId::request_id(
                    &out,
                )),
                detail: json!({"desiredCount": out.service().map(|s| s.desired_count())}),
            })
        }
        .boxed()
    }
}
