//! Runbook calls applied to the simulator (the headless backend and the
//! console's simulator source both use this).

use serde_json::json;

use super::Simulator;
use crate::calls::{CallOutput, PlannedCall, find_service, previous_task_definition};
use crate::model::short_task_definition;

/// Perform one call on the simulator (the headless backend and the
/// console's simulator source both use this).
pub fn apply_to_sim(sim: &mut Simulator, c: &PlannedCall) -> Result<CallOutput, String> {
    let detail = match c {
        PlannedCall::Scale { target, to, .. } => {
            let old = sim.set_desired_count(&target.cluster, &target.service, *to)?;
            json!({"old": old, "desiredCount": to})
        }
        PlannedCall::SetCapacity {
            resource_id, to, ..
        } => {
            let old = sim.set_scalable_target(resource_id, to.0, to.1)?;
            json!({"old": [old.0, old.1]})
        }
        PlannedCall::UpdateService { target, to, .. } => {
            let id = sim.deploy(&target.cluster, &target.service, short_task_definition(to))?;
            json!({"deployment": id})
        }
        PlannedCall::ForceNewDeployment { target } => {
            let snap = sim.snapshot();
            let td = find_service(&snap, &target.as_ref())
                .map(|s| s.task_definition.clone())
                .ok_or("service not found")?;
            let id = sim.deploy(&target.cluster, &target.service, short_task_definition(&td))?;
            json!({"deployment": id})
        }
        PlannedCall::StopDeployment {
            target,
            rollback_to,
            ..
        } => {
            // The simulator has no StopServiceDeployment: a rollback is a
            // new deployment of the previous task definition, as ECS does.
            let td = rollback_to
                .as_deref()
                .ok_or("no previous deployment to roll back to")?;
            let id = sim.deploy(&target.cluster, &target.service, short_task_definition(td))?;
            json!({"deployment": id, "rolled_back_to": td})
        }
        PlannedCall::StopTasks {
            target,
            az,
            task_ids,
            reason,
            impair_ms,
        } => {
            for id in task_ids {
                sim.stop_task(&target.cluster, &target.service, id, reason)?;
            }
            if let (Some(az), Some(ms)) = (az, impair_ms) {
                // This service only: the rest of the fleet keeps the AZ.
                sim.impair_service_az(&target.cluster, &target.service, az, Some(*ms));
            }
            json!({"stopped": task_ids})
        }
        PlannedCall::ReleaseAz { target, az } => {
            sim.release_service_az(&target.cluster, &target.service, az);
            json!({"released": az})
        }
        PlannedCall::ResolveRevision { target, .. } => {
            let snap = sim.snapshot();
            previous_task_definition(&snap, &target.as_ref())?
        }
    };
    Ok(CallOutput {
        request_ids: vec![],
        detail,
    })
}
