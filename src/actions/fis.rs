//! AWS FIS for a GameDay's AZ impairment (`ecs.stop_tasks` with `sustain`
//! and `fis_role_arn`): one experiment template per run with two actions,
//! `aws:ecs:stop-task` on the service's tasks in the AZ and
//! `aws:network:disrupt-connectivity` on its subnets there for the
//! duration, guarded by the run's stop-condition alarms as FIS stop
//! conditions. The release stops the experiment if it still runs.

use aws_sdk_fis::operation::RequestId;
use aws_sdk_fis::types::{
    CreateExperimentTemplateActionInput, CreateExperimentTemplateStopConditionInput,
    CreateExperimentTemplateTargetInput, ExperimentStatus,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AwsClients;
use crate::calls::{CallArgs, CallOutput};

/// What the experiment targets and how it is guarded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FisSpec {
    pub role_arn: String,
    /// Task ARNs in the AZ (stopped by `aws:ecs:stop-task`).
    pub task_arns: Vec<String>,
    /// Subnet ARNs of the service in the AZ (`aws:network:disrupt-connectivity`).
    pub subnet_arns: Vec<String>,
    /// CloudWatch alarm ARNs: FIS stops the experiment when one alarms.
    pub stop_alarm_arns: Vec<String>,
    pub duration_ms: i64,
    /// `aws:network:disrupt-connectivity` on the subnets (the operator opts in).
    #[serde(default)]
    pub disrupt_connectivity: bool,
}

/// An ISO 8601 duration FIS takes (`PT15M`, `PT90S`).
pub fn iso_duration(ms: i64) -> String {
    let s = (ms / 1000).max(1);
    if s % 60 == 0 {
        format!("PT{}M", s / 60)
    } else {
        format!("PT{s}S")
    }
}

/// The simulator's experiment id for a run step: `EXP` and 17 characters,
/// as FIS writes them.
pub fn sim_id(seed: &str) -> String {
    let h = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyz";
    let tail: String = (0..17)
        .map(|i| ALPHABET[((h.rotate_left(i * 7)) % 62) as usize] as char)
        .collect();
    format!("EXP{tail}")
}

fn build<T>(r: Result<T, aws_sdk_fis::error::BuildError>) -> Result<T, String> {
    r.map_err(|e| format!("FIS request: {e}"))
}

/// CreateExperimentTemplate and StartExperiment: the experiment id and the
/// call's detail.
pub async fn start(
    aws: &AwsClients<'_>,
    spec: &FisSpec,
    label: &str,
    az: &str,
    reason: &str,
) -> Result<CallOutput, String> {
    let fis = aws.fis;
    let mut request_ids = vec![];
    let mut req = fis
        .create_experiment_template()
        .description(format!("ecsdeck: {az} impaired under {label} ({reason})"))
        .role_arn(&spec.role_arn)
        .tags("ecsdeck", "gameday");
    for arn in &spec.stop_alarm_arns {
        req = req.stop_conditions(build(
            CreateExperimentTemplateStopConditionInput::builder()
                .source("aws:cloudwatch:alarm")
                .value(arn)
                .build(),
        )?);
    }
    if !spec.task_arns.is_empty() {
        req = req
            .targets(
                "Tasks",
                build(
                    CreateExperimentTemplateTargetInput::builder()
                        .resource_type("aws:ecs:task")
                        .set_resource_arns(Some(spec.task_arns.clone()))
                        .selection_mode("ALL")
                        .build(),
                )?,
            )
            .actions(
                "stop-tasks",
                build(
                    CreateExperimentTemplateActionInput::builder()
                        .action_id("aws:ecs:stop-task")
                        .targets("Tasks", "Tasks")
                        .build(),
                )?,
            );
    }
    if spec.disrupt_connectivity {
        req = req
            .targets(
                "Subnets",
                build(
                    CreateExperimentTemplateTargetInput::builder()
                        .resource_type("aws:ec2:subnet")
                        .set_resource_arns(Some(spec.subnet_arns.clone()))
                        .selection_mode("ALL")
                        .build(),
                )?,
            )
            .actions(
                "disrupt-connectivity",
                build(
                    CreateExperimentTemplateActionInput::builder()
                        .action_id("aws:network:disrupt-connectivity")
                        .parameters("duration", iso_duration(spec.duration_ms))
                        .parameters("scope", "all")
                        .targets("Subnets", "Subnets")
                        .build(),
                )?,
            );
    }
    let t = req
        .send()
        .await
        .map_err(|e| aws.err("fis:CreateExperimentTemplate", &e))?;
    request_ids.extend(super::request_ids(t.request_id()));
    let template = t
        .experiment_template()
        .and_then(|t| t.id())
        .ok_or("fis:CreateExperimentTemplate answered no template id")?
        .to_string();
    let x = fis
        .start_experiment()
        .experiment_template_id(&template)
        .send()
        .await
        .map_err(|e| aws.err("fis:StartExperiment", &e))?;
    request_ids.extend(super::request_ids(x.request_id()));
    let e = x.experiment();
    let id = e
        .and_then(|e| e.id())
        .ok_or("fis:StartExperiment answered no experiment id")?;
    let state = e
        .and_then(|e| e.state())
        .and_then(|s| s.status())
        .map(|s| s.as_str().to_string());
    Ok(CallOutput {
        request_ids,
        detail: json!({
            "experimentId": id,
            "experimentTemplateId": template,
            "state": state,
        }),
    })
}

/// The release: GetExperiment, and StopExperiment while it still runs.
pub async fn stop(aws: &AwsClients<'_>, id: &str, az: &str) -> Result<CallOutput, String> {
    let fis = aws.fis;
    let got = fis
        .get_experiment()
        .id(id)
        .send()
        .await
        .map_err(|e| aws.err("fis:GetExperiment", &e))?;
    let mut request_ids = super::request_ids(got.request_id());
    let status = got
        .experiment()
        .and_then(|e| e.state())
        .and_then(|s| s.status())
        .cloned();
    let running = matches!(
        status,
        Some(ExperimentStatus::Pending | ExperimentStatus::Initiating | ExperimentStatus::Running)
    );
    let mut stopped = false;
    if running {
        let out = fis
            .stop_experiment()
            .id(id)
            .send()
            .await
            .map_err(|e| aws.err("fis:StopExperiment", &e))?;
        request_ids.extend(super::request_ids(out.request_id()));
        stopped = true;
    }
    Ok(CallOutput {
        request_ids,
        detail: json!({
            "released": az,
            "experimentId": id,
            "state": status.map(|s| s.as_str().to_string()),
            "stopped": stopped,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_iso_8601_as_fis_takes_them() {
        assert_eq!(iso_duration(15 * 60_000), "PT15M");
        assert_eq!(iso_duration(90_000), "PT90S");
        assert_eq!(iso_duration(0), "PT1S");
    }

    #[test]
    fn sim_ids_look_like_fis_ids() {
        let a = sim_id("run-1/inject");
        assert_eq!(a, sim_id("run-1/inject"));
        assert_ne!(a, sim_id("run-2/inject"));
        assert!(a.starts_with("EXP") && a.len() == 20, "{a}");
    }
}

/// `fis.experiment_status`: read-only GetExperiment of a running
/// experiment (the runner follows its GameDay's experiment with it; FIS may
/// stop it on a stop condition).
pub struct FollowExperiment;

pub const STATUS_OP: &str = "fis.experiment_status";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FisStatusCall {
    pub experiment: String,
}

impl CallArgs for FisStatusCall {
    const KIND: &'static str = "FisStatus";
}

/// A state FIS does not leave.
pub fn ended(state: &str) -> bool {
    matches!(state, "completed" | "stopped" | "failed" | "cancelled")
}

impl super::RunbookAction for FollowExperiment {
    fn op(&self) -> &'static str {
        STATUS_OP
    }
    fn mutates(&self) -> bool {
        false
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(FisStatusCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "fis:GetExperiment"
    }
    fn fields(&self) -> &'static [(&'static str, super::FieldKind)] {
        &[("experiment_id", super::FieldKind::Text)]
    }
    fn check(&self, f: &super::Fields, _save_as: bool) -> Result<(), super::FieldError> {
        if !f.has("experiment_id") {
            return Err(super::FieldError::missing(self.op(), "experiment_id"));
        }
        Ok(())
    }
    fn plan(&self, p: &super::Plan<'_>) -> Result<Vec<crate::calls::PlannedCall>, String> {
        let experiment = p
            .text("experiment_id")?
            .filter(|s| !s.trim().is_empty())
            .ok_or("no FIS experiment id")?;
        Ok(vec![crate::calls::PlannedCall::new(
            p.target.clone(),
            &FisStatusCall { experiment },
        )])
    }
    fn describe(&self, c: &crate::calls::PlannedCall) -> String {
        let x = c
            .args::<FisStatusCall>()
            .map(|a| a.experiment)
            .unwrap_or_default();
        format!("GetExperiment {x}")
    }
    fn sim_apply(
        &self,
        _sim: &mut dyn super::SimBackend,
        c: &crate::calls::PlannedCall,
    ) -> Result<serde_json::Value, String> {
        // The rehearsed experiment runs until its impairment ends (the
        // runner knows when); the run's own guardrails stop it sooner.
        let a = c
            .args::<FisStatusCall>()
            .ok_or("malformed FisStatus call")?;
        Ok(json!({"experimentId": a.experiment, "state": "running"}))
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a crate::calls::PlannedCall,
    ) -> futures::future::BoxFuture<'a, Result<CallOutput, String>> {
        use futures::FutureExt;
        async move {
            let a = c
                .args::<FisStatusCall>()
                .ok_or("malformed FisStatus call")?;
            let got = aws
                .fis
                .get_experiment()
                .id(&a.experiment)
                .send()
                .await
                .map_err(|e| aws.err("fis:GetExperiment", &e))?;
            let state = got.experiment().and_then(|e| e.state());
            Ok(CallOutput {
                request_ids: super::request_ids(got.request_id()),
                detail: json!({
                    "experimentId": a.experiment,
                    "state": state.and_then(|s| s.status()).map(|s| s.as_str().to_string()),
                    "reason": state.and_then(|s| s.reason()),
                }),
            })
        }
        .boxed()
    }
}
