//! `autoscaling.set_capacity`: RegisterScalableTarget MinCapacity/MaxCapacity.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall};

pub struct SetCapacity;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetCapacityCall {
    pub resource_id: String,
    pub from: (i32, i32),
    pub to: (i32, i32),
}

impl CallArgs for SetCapacityCall {
    const KIND: &'static str = "SetCapacity";
}

impl RunbookAction for SetCapacity {
    fn op(&self) -> &'static str {
        "autoscaling.set_capacity"
    }
    fn mutates(&self) -> bool {
        true
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(SetCapacityCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "application-autoscaling:RegisterScalableTarget"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[
            ("min", FieldKind::Count),
            ("max", FieldKind::Count),
            ("max_at_least", FieldKind::Count),
        ]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        if !(f.has("min") || f.has("max") || f.has("max_at_least")) {
            return Err(FieldError::missing(self.op(), "min"));
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let svc = p.svc;
        let st = p
            .snap
            .scalable_target(svc)
            .ok_or_else(|| format!("{} has no scalable target", svc.key()))?;
        let from = (st.min_capacity, st.max_capacity);
        let min = p.count("min")?.unwrap_or(from.0);
        let mut max = p.count("max")?.unwrap_or(from.1);
        if let Some(at_least) = p.count("max_at_least")? {
            max = max.max(at_least);
        }
        if min > max {
            return Err(format!("min {min} > max {max}"));
        }
        p.factor_guard(from.0.max(svc.desired_count), min)?;
        let call = SetCapacityCall {
            resource_id: st.resource_id.clone(),
            from,
            to: (min, max),
        };
        Ok(vec![PlannedCall::new(p.target.clone(), &call)])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        match c.args::<SetCapacityCall>() {
            Some(a) => format!(
                "RegisterScalableTarget {}: MinCapacity {} → {}, MaxCapacity {} → {}",
                a.resource_id, a.from.0, a.to.0, a.from.1, a.to.1
            ),
            None => format!("RegisterScalableTarget {}", c.target.label()),
        }
    }
    fn is_noop(&self, c: &PlannedCall) -> bool {
        c.args::<SetCapacityCall>().is_some_and(|a| a.from == a.to)
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c
            .args::<SetCapacityCall>()
            .ok_or("malformed SetCapacity call")?;
        let old = sim.set_scalable_target(&c.target, &a.resource_id, a.to.0, a.to.1)?;
        Ok(json!({"old": [old.0, old.1]}))
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c
                .args::<SetCapacityCall>()
                .ok_or("malformed SetCapacity call")?;
            let out = aws
                .aas
                .register_scalable_target()
                .service_namespace(ServiceNamespace::Ecs)
                .resource_id(&a.resource_id)
                .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                .min_capacity(a.to.0)
                .max_capacity(a.to.1)
                .send()
                .await
                .map_err(|e| aws.err("application-autoscaling:RegisterScalableTarget", &e))?;
            Ok(CallOutput {
                request_ids: super::request_ids(
                    aws_sdk_applicationautoscaling::operation::RequestId::request_id(&out),
                ),
                detail: json!({"min": a.to.0, "max": a.to.1}),
            })
        }
        .boxed()
    }
}
