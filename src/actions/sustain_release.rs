//! `sustain.release`: end the sweeps of an `ecs.stop_tasks` step with
//! `sustain` and release its AZ. The runner plans the `ReleaseAz` calls
//! from the sweeps in force (and on abort, for those still held).

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall, Target};

pub struct SustainRelease;

pub const OP: &str = "sustain.release";

/// End an AZ impairment (simulator) / a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseAz {
    pub az: String,
    /// The FIS experiment keeping it impaired: stopped if still running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
}

impl CallArgs for ReleaseAz {
    const KIND: &'static str = "ReleaseAz";
}

/// The call releasing `az` for `target` (and stopping its FIS experiment).
pub fn release(target: Target, az: String, experiment: Option<String>) -> PlannedCall {
    PlannedCall::new(target, &ReleaseAz { az, experiment })
}

impl RunbookAction for SustainRelease {
    fn op(&self) -> &'static str {
        OP
    }
    fn mutates(&self) -> bool {
        false
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(ReleaseAz::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "(end of AZ impairment)"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        // `step`: the `ecs.stop_tasks` step whose sweep ends (the parser
        // checks that it is one, with `sustain`).
        &[("step", FieldKind::Text)]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        if !f.has("step") {
            return Err(FieldError::missing(self.op(), "step"));
        }
        Ok(())
    }
    fn plan(&self, _p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        // The runner knows the sweeps in force; it plans the releases.
        Ok(vec![])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        match c.args::<ReleaseAz>() {
            Some(ReleaseAz {
                az,
                experiment: Some(x),
            }) => format!("release {az}: stop FIS experiment {x} if it still runs"),
            a => format!(
                "release {}: stop sweeping, allow placement",
                a.map(|a| a.az).unwrap_or_default()
            ),
        }
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c.args::<ReleaseAz>().ok_or("malformed ReleaseAz call")?;
        sim.release_service_az(&c.target, &a.az);
        Ok(json!({"released": a.az}))
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        // Sweeps end when the runner stops asking; an FIS experiment is
        // stopped if it still runs.
        async move {
            let a = c.args::<ReleaseAz>().ok_or("malformed ReleaseAz call")?;
            if let Some(x) = &a.experiment {
                return super::fis::stop(aws, x, &a.az).await;
            }
            Ok(CallOutput {
                request_ids: vec![],
                detail: json!({"released": a.az}),
            })
        }
        .boxed()
    }
}
