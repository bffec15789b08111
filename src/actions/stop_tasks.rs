//! `ecs.stop_tasks`: StopTask for running tasks (all, one or a count, in
//! an AZ), within `max_tasks_stopped_pct`; with `sustain`, the AZ stays
//! impaired for the service (the runner sweeps it) until released.

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend, as_i64, show,
};
use crate::calls::{CallArgs, CallOutput, PlannedCall, fmt_dur};
use crate::model::Task;

pub struct StopTasks;

pub const OP: &str = "ecs.stop_tasks";

/// StopTask for each id; with `impair_ms`, the AZ also takes no new tasks
/// for that long where the backend can do that (the simulator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopTasksCall {
    pub az: Option<String>,
    pub task_ids: Vec<String>,
    pub reason: String,
    pub impair_ms: Option<i64>,
    /// Impair through an AWS FIS experiment instead of StopTask sweeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fis: Option<super::fis::FisSpec>,
}

impl CallArgs for StopTasksCall {
    const KIND: &'static str = "StopTasks";
}

impl RunbookAction for StopTasks {
    fn op(&self) -> &'static str {
        OP
    }
    fn mutates(&self) -> bool {
        true
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(StopTasksCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "ecs:StopTask"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[
            ("az", FieldKind::Text),
            ("select", FieldKind::Any),
            ("reason", FieldKind::Text),
            ("sustain", FieldKind::Duration),
            ("sweep_interval", FieldKind::Duration),
            ("fis_role_arn", FieldKind::Text),
            ("fis_stop_alarms", FieldKind::Text),
            ("fis_disrupt_connectivity", FieldKind::Any),
        ]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        if !(f.has("select") || f.has("az")) {
            return Err(FieldError::missing(self.op(), "select"));
        }
        if let Some(toml::Value::Integer(n)) = f.get("select")
            && *n < 0
        {
            return Err(FieldError::at(
                "select",
                format!("{n} is negative: all, one or a count of 0 or more"),
            ));
        }
        if f.has("sustain") && !f.has("az") {
            return Err(FieldError::at(
                "sustain",
                "`sustain` keeps an AZ impaired: it needs `az`",
            ));
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let az = p.text("az")?;
        let reason = (p.interp)(
            p.fields
                .str("reason")
                .unwrap_or("ecsdeck runbook ${run.id}"),
        )?;
        let running: Vec<&Task> = p
            .svc
            .tasks
            .iter()
            .filter(|t| t.is_running() && t.desired_status != "STOPPED")
            .collect();
        let in_scope: Vec<&Task> = running
            .iter()
            .copied()
            .filter(|t| {
                az.as_deref()
                    .is_none_or(|z| t.availability_zone.as_deref() == Some(z))
            })
            .collect();
        let sel = p
            .fields
            .get("select")
            .map(|v| (p.resolve)(v))
            .transpose()?
            .unwrap_or(Value::String("all".into()));
        let n = match &sel {
            Value::String(s) if s == "all" => in_scope.len(),
            Value::String(s) if s == "one" => 1.min(in_scope.len()),
            other => as_i64(other)
                .map(|n| (n.max(0) as usize).min(in_scope.len()))
                .ok_or_else(|| format!("select = {}: all, one or a count", show(other)))?,
        };
        if let Some(pct) = p.limits.max_tasks_stopped_pct {
            let limit = (running.len() as u64 * u64::from(pct) / 100) as usize;
            if n > limit {
                return Err(format!(
                    "refused: stopping {n} of {} running tasks exceeds max_tasks_stopped_pct {pct}% ({limit})",
                    running.len()
                ));
            }
        }
        if n == 0 && az.is_none() {
            return Err("no running task to stop".into());
        }
        let impair_ms = match (p.text("sustain")?, &az) {
            (Some(s), Some(_)) => Some(dur_ms(&s)?),
            _ => None,
        };
        let chosen: Vec<&Task> = in_scope.iter().take(n).copied().collect();
        let fis = match p.text("fis_role_arn")?.filter(|r| !r.trim().is_empty()) {
            Some(role) => Some(fis_spec(p, role, az.as_deref(), impair_ms, &chosen)?),
            None => None,
        };
        let call = StopTasksCall {
            az,
            task_ids: chosen.iter().map(|t| t.id.clone()).collect(),
            reason,
            impair_ms,
            fis,
        };
        Ok(vec![PlannedCall::new(p.target.clone(), &call)])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        let Some(a) = c.args::<StopTasksCall>() else {
            return format!("StopTask in {}", c.target.label());
        };
        let ids = if a.task_ids.len() <= 6 {
            format!(" [{}]", a.task_ids.join(", "))
        } else {
            format!(
                " [{}, … {} more]",
                a.task_ids[..4].join(", "),
                a.task_ids.len() - 4
            )
        };
        let mut s = format!(
            "StopTask × {} in {}{}{ids}: reason {:?}",
            a.task_ids.len(),
            c.target.label(),
            a.az.as_deref()
                .map(|z| format!(" / {z}"))
                .unwrap_or_default(),
            a.reason,
        );
        if let Some(f) = &a.fis {
            let network = if f.disrupt_connectivity {
                format!(
                    " and disrupt the connectivity of {} for {}",
                    f.subnet_arns
                        .iter()
                        .map(|s| s.rsplit('/').next().unwrap_or(s))
                        .collect::<Vec<_>>()
                        .join(", "),
                    fmt_dur(f.duration_ms)
                )
            } else {
                format!(
                    "; keep it impaired for {} (StopTask sweeps)",
                    fmt_dur(f.duration_ms)
                )
            };
            return format!(
                "FIS experiment (role {}): stop {} task(s) of {} in {}{network}; FIS stops it when {} alarms",
                f.role_arn,
                a.task_ids.len(),
                c.target.label(),
                a.az.as_deref().unwrap_or("the AZ"),
                f.stop_alarm_arns
                    .iter()
                    .map(|s| s.rsplit(':').next().unwrap_or(s))
                    .collect::<Vec<_>>()
                    .join(" or "),
            );
        }
        if let Some(ms) = a.impair_ms {
            s.push_str(&format!(
                "; keep {} impaired for {}",
                a.az.as_deref().unwrap_or("the AZ"),
                fmt_dur(ms)
            ));
        }
        s
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c
            .args::<StopTasksCall>()
            .ok_or("malformed StopTasks call")?;
        for id in &a.task_ids {
            sim.stop_task(&c.target, id, &a.reason)?;
        }
        match (&a.az, a.impair_ms, &a.fis) {
            // FIS cuts the subnet's network: ECS may place tasks back there.
            (Some(az), Some(ms), Some(f)) if f.disrupt_connectivity => {
                sim.disrupt_service_az(&c.target, az, Some(ms));
            }
            // FIS stop-task alone: the sweeps keep the AZ empty.
            (_, _, Some(_)) => {}
            // This service only: the rest of the fleet keeps the AZ.
            (Some(az), Some(ms), None) => sim.impair_service_az(&c.target, az, Some(ms)),
            _ => {}
        }
        if a.fis.is_some() {
            // The simulator rehearses the experiment (above): the tasks
            // stop, and with the network cut those ECS places there again
            // fail their health checks.
            let seed = format!(
                "{}/{}/{}",
                c.target.label(),
                a.az.as_deref().unwrap_or(""),
                a.task_ids.join(",")
            );
            return Ok(
                json!({"stopped": a.task_ids, "experimentId": super::fis::sim_id(&seed), "state": "running",
                    "disruptConnectivity": a.fis.as_ref().is_some_and(|f| f.disrupt_connectivity)}),
            );
        }
        Ok(json!({"stopped": a.task_ids}))
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c
                .args::<StopTasksCall>()
                .ok_or("malformed StopTasks call")?;
            if let Some(f) = &a.fis {
                let az = a.az.as_deref().unwrap_or_default();
                let mut out = super::fis::start(aws, f, &c.target.label(), az, &a.reason).await?;
                out.detail["stopped"] = json!(a.task_ids);
                out.detail["disruptConnectivity"] = json!(f.disrupt_connectivity);
                return Ok(out);
            }
            let mut ids = vec![];
            for id in &a.task_ids {
                let out = aws
                    .ecs
                    .stop_task()
                    .cluster(&c.target.cluster)
                    .task(id)
                    .reason(&a.reason)
                    .send()
                    .await
                    .map_err(|e| aws.err("ecs:StopTask", &e))?;
                ids.extend(super::request_ids(
                    aws_sdk_ecs::operation::RequestId::request_id(&out),
                ));
            }
            Ok(CallOutput {
                request_ids: ids,
                detail: json!({"stopped": a.task_ids}),
            })
        }
        .boxed()
    }
}

use super::dur_ms;

/// The FIS experiment of an AZ impairment: the chosen tasks, the
/// service's subnets in the AZ, and the stop alarms' ARNs (they must exist).
fn fis_spec(
    p: &Plan<'_>,
    role_arn: String,
    az: Option<&str>,
    impair_ms: Option<i64>,
    chosen: &[&Task],
) -> Result<super::fis::FisSpec, String> {
    let (Some(az), Some(duration_ms)) = (az, impair_ms) else {
        return Err("`fis_role_arn` impairs an AZ through FIS: it needs `az` and `sustain`".into());
    };
    let svc = p.svc;
    let subnet_arns: Vec<String> = svc
        .subnets
        .iter()
        .filter(|s| s.availability_zone == az)
        .map(|s| {
            format!(
                "arn:aws:ec2:{}:{}:subnet/{}",
                svc.region, svc.account, s.subnet_id
            )
        })
        .collect();
    if subnet_arns.is_empty() {
        return Err(format!(
            "refused: {} has no subnet in {az} whose connectivity FIS could disrupt",
            p.target.label()
        ));
    }
    let names = p.text("fis_stop_alarms")?.unwrap_or_default();
    let mut stop_alarm_arns = vec![];
    for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let a = p
            .snap
            .alarms
            .iter()
            .find(|a| a.name == name && a.region == svc.region && a.account == svc.account)
            .ok_or_else(|| {
                format!(
                    "refused: stop alarm {name:?} not found in {} {}: FIS needs its ARN",
                    svc.account, svc.region
                )
            })?;
        stop_alarm_arns.push(a.arn.clone());
    }
    let disrupt_connectivity = match p.fields.get("fis_disrupt_connectivity") {
        Some(v) => match (p.resolve)(v)? {
            Value::Bool(b) => b,
            Value::String(s) => s == "true",
            _ => false,
        },
        None => false,
    };
    Ok(super::fis::FisSpec {
        disrupt_connectivity,
        role_arn,
        task_arns: chosen.iter().map(|t| t.arn.clone()).collect(),
        subnet_arns,
        stop_alarm_arns,
        duration_ms,
    })
}
