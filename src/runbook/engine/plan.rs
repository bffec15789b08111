//! Planning an action's calls from the snapshot, and what a step saves or diffs.

use super::*;

/// Ids of running tasks of a service in an AZ.
pub(super) fn tasks_in_az(snap: &FleetSnapshot, r: &ServiceRef, az: &str) -> Vec<String> {
    cond::find_service(snap, r)
        .map(|s| {
            s.tasks
                .iter()
                .filter(|t| {
                    !t.is_stopped()
                        && t.desired_status != "STOPPED"
                        && t.availability_zone.as_deref() == Some(az)
                })
                .map(|t| t.id.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// What `op = "snapshot"` saves: the service, its PRIMARY deployment, its
/// scalable target (absent when none) and a task summary.
pub fn snapshot_save(snap: &FleetSnapshot, r: &ServiceRef) -> Result<Value, String> {
    let s = cond::find_service(snap, r)
        .ok_or_else(|| format!("service {}/{} not found", r.cluster, r.service))?;
    let view = cond::service_view(s);
    let primary = s.primary_deployment().map(|d| {
        json!({"id": d.id, "taskDefinition": d.task_definition,
               "status": d.status.as_str(),
               "rolloutState": d.rollout_state.map(|x| x.as_str())})
    });
    let mut by_az: BTreeMap<String, usize> = BTreeMap::new();
    for t in s.running_tasks() {
        *by_az
            .entry(
                t.availability_zone
                    .clone()
                    .unwrap_or_else(|| "unknown".into()),
            )
            .or_default() += 1;
    }
    let mut out = json!({
        "service": view,
        "primary": primary,
        "deployment": primary,
        "tasks": {"running": s.running_tasks().count(), "distinct_az": by_az.len(), "by_az": by_az},
    });
    if let Some(st) = snap.scalable_target(s) {
        out["scalable"] = json!({"ResourceId": st.resource_id, "MinCapacity": st.min_capacity, "MaxCapacity": st.max_capacity});
    }
    Ok(out)
}

/// Lines describing how task definition `a` differs from `b`: image, cpu,
/// memory, environment names, secrets.
pub fn td_diff(snap: &FleetSnapshot, a: &str, b: &str, saves: &Map<String, Value>) -> Vec<String> {
    let find = |arn: &str| {
        snap.task_definitions
            .values()
            .find(|t| t.arn == arn || t.family_revision() == short_task_definition(arn))
            .cloned()
    };
    let (Some(ta), Some(tb)) = (find(a), find(b)) else {
        // Fall back on what resolve_revision saved.
        let imgs: Vec<String> = saves
            .values()
            .filter_map(|v| v.get("images"))
            .map(|v| v.to_string())
            .collect();
        return vec![format!(
            "{} → {} (definitions not both loaded{})",
            short_task_definition(a),
            short_task_definition(b),
            if imgs.is_empty() {
                String::new()
            } else {
                format!("; images {}", imgs.join(", "))
            }
        )];
    };
    let mut out = vec![format!(
        "{} → {}",
        ta.family_revision(),
        tb.family_revision()
    )];
    let line = |out: &mut Vec<String>, what: &str, x: String, y: String| {
        if x != y {
            out.push(format!("  {what}: {x} → {y}"));
        }
    };
    line(
        &mut out,
        "cpu",
        ta.cpu.clone().unwrap_or_default(),
        tb.cpu.clone().unwrap_or_default(),
    );
    line(
        &mut out,
        "memory",
        ta.memory.clone().unwrap_or_default(),
        tb.memory.clone().unwrap_or_default(),
    );
    for ca in &ta.container_definitions {
        let cb = tb.container_definitions.iter().find(|c| c.name == ca.name);
        match cb {
            None => out.push(format!("  container {} removed", ca.name)),
            Some(cb) => {
                line(
                    &mut out,
                    &format!("{} image", ca.name),
                    ca.image.clone(),
                    cb.image.clone(),
                );
                let names = |c: &crate::model::ContainerDefinition| {
                    c.environment
                        .iter()
                        .map(|e| format!("{}={}", e.name, e.value))
                        .collect::<BTreeSet<_>>()
                };
                let (ea, eb) = (names(ca), names(cb));
                for x in ea.difference(&eb) {
                    out.push(format!("  {} env - {x}", ca.name));
                }
                for x in eb.difference(&ea) {
                    out.push(format!("  {} env + {x}", ca.name));
                }
                let secrets = |c: &crate::model::ContainerDefinition| {
                    c.secrets
                        .iter()
                        .map(|s| s.name.clone())
                        .collect::<BTreeSet<_>>()
                };
                let (sa, sb) = (secrets(ca), secrets(cb));
                for x in sa.difference(&sb) {
                    out.push(format!("  {} secret - {x}", ca.name));
                }
                for x in sb.difference(&sa) {
                    out.push(format!("  {} secret + {x}", ca.name));
                }
            }
        }
    }
    for cb in &tb.container_definitions {
        if !ta.container_definitions.iter().any(|c| c.name == cb.name) {
            out.push(format!("  container {} added", cb.name));
        }
    }
    if out.len() == 1 {
        out.push("  (no difference in images, cpu, memory, environment or secrets)".into());
    }
    out
}

impl Runner {
    pub(super) fn action_ref(&self, a: &crate::runbook::Action) -> ServiceRef {
        let d = self.default_ref();
        let pick = |o: &Option<String>, dflt: String| match o {
            Some(s) => self.interp(s).unwrap_or(dflt),
            None => dflt,
        };
        ServiceRef {
            cluster: pick(&a.cluster, d.cluster.clone()),
            service: pick(&a.service, d.service.clone()),
            region: a
                .region
                .as_ref()
                .map(|r| self.interp(r).unwrap_or_default())
                .or(d.region),
        }
    }

    /// Turn an action block into concrete calls with old → new values.
    pub(super) fn plan_action(
        &self,
        i: usize,
        a: &crate::runbook::Action,
        snap: &FleetSnapshot,
    ) -> Result<Vec<PlannedCall>, String> {
        let r = self.action_ref(a);
        let svc = cond::find_service(snap, &r)
            .ok_or_else(|| format!("service {}/{} not found", r.cluster, r.service))?;
        let target = Target::resolved(&r, svc);
        let scope = self.scope();
        let int = |v: &Option<toml::Value>, key: &str| -> Result<Option<i32>, String> {
            match v {
                None => Ok(None),
                Some(v) => {
                    let j = resolve_value(v, &scope)?;
                    let n = as_i64(&j)
                        .ok_or_else(|| format!("`{key}` = {} is not a number", display(&j)))?;
                    if n < 0 {
                        return Err(format!(
                            "refused: `{key}` = {n} is negative (a task count is 0 or more)"
                        ));
                    }
                    i32::try_from(n)
                        .map(Some)
                        .map_err(|_| format!("refused: `{key}` = {n} is too large a task count"))
                }
            }
        };
        let factor_guard = |from: i32, to: i32| -> Result<(), String> {
            if let Some(f) = self.rb.meta.safety.max_scale_factor
                && from > 0
                && f64::from(to) > f64::from(from) * f
            {
                return Err(format!(
                    "refused: {from} → {to} is more than max_scale_factor {f}× (raise it in the runbook or scale in steps)"
                ));
            }
            Ok(())
        };
        Ok(match a.op {
            Op::EcsScale => {
                let to = int(&a.desired, "desired")?.unwrap_or(0);
                factor_guard(svc.desired_count, to)?;
                vec![PlannedCall::Scale {
                    target,
                    from: svc.desired_count,
                    to,
                }]
            }
            Op::SetCapacity => {
                let st = snap
                    .scalable_target(svc)
                    .ok_or_else(|| format!("{} has no scalable target", svc.key()))?;
                let from = (st.min_capacity, st.max_capacity);
                let min = int(&a.min, "min")?.unwrap_or(from.0);
                let mut max = int(&a.max, "max")?.unwrap_or(from.1);
                if let Some(at_least) = int(&a.max_at_least, "max_at_least")? {
                    max = max.max(at_least);
                }
                if min > max {
                    return Err(format!("min {min} > max {max}"));
                }
                factor_guard(from.0.max(svc.desired_count), min)?;
                vec![PlannedCall::SetCapacity {
                    target,
                    resource_id: st.resource_id.clone(),
                    from,
                    to: (min, max),
                }]
            }
            Op::UpdateService => {
                let td = self.interp(a.task_definition.as_deref().unwrap_or_default())?;
                if td.is_empty() {
                    return Err("task_definition is empty".into());
                }
                vec![PlannedCall::UpdateService {
                    target,
                    from: svc.task_definition.clone(),
                    to: td,
                }]
            }
            Op::ForceNewDeployment => vec![PlannedCall::ForceNewDeployment { target }],
            Op::StopDeployment => {
                let d = svc
                    .primary_deployment()
                    .filter(|d| d.rollout_state == Some(crate::model::RolloutState::InProgress))
                    .ok_or("no deployment in progress to stop")?;
                // Where a rollback goes: the deployment being replaced, else
                // the block's `task_definition` (the resolved known-good one).
                let rollback_to = svc
                    .deployments
                    .iter()
                    .find(|x| x.status != crate::model::DeploymentStatus::Primary)
                    .map(|x| x.task_definition.clone())
                    .or(match &a.task_definition {
                        Some(t) => Some(self.interp(t)?),
                        None => None,
                    });
                vec![PlannedCall::StopDeployment {
                    target,
                    deployment_id: d.id.clone(),
                    stop_type: a.stop_type.clone().unwrap_or_else(|| "ROLLBACK".into()),
                    rollback_to,
                }]
            }
            Op::ResolveRevision => vec![PlannedCall::ResolveRevision {
                target,
                current: svc.task_definition.clone(),
            }],
            Op::StopTasks => {
                let _ = i;
                self.plan_stop_tasks(a, svc, target)?
            }
            Op::Snapshot | Op::SustainRelease => vec![],
        })
    }

    /// `ecs.stop_tasks`: which running tasks (all, one or a count, in the
    /// AZ), within `max_tasks_stopped_pct`.
    fn plan_stop_tasks(
        &self,
        a: &crate::runbook::Action,
        svc: &crate::model::Service,
        target: Target,
    ) -> Result<Vec<PlannedCall>, String> {
        let scope = self.scope();
        let az = a.az.as_deref().map(|z| self.interp(z)).transpose()?;
        let reason = self.interp(a.reason.as_deref().unwrap_or("ecsdeck runbook ${run.id}"))?;
        let running: Vec<&crate::model::Task> = svc
            .tasks
            .iter()
            .filter(|t| t.is_running() && t.desired_status != "STOPPED")
            .collect();
        let in_scope: Vec<&crate::model::Task> = running
            .iter()
            .copied()
            .filter(|t| {
                az.as_deref()
                    .is_none_or(|z| t.availability_zone.as_deref() == Some(z))
            })
            .collect();
        let sel = a
            .select
            .as_ref()
            .map(|v| resolve_value(v, &scope))
            .transpose()?
            .unwrap_or(Value::String("all".into()));
        let n = match &sel {
            Value::String(s) if s == "all" => in_scope.len(),
            Value::String(s) if s == "one" => 1.min(in_scope.len()),
            other => as_i64(other)
                .map(|n| (n.max(0) as usize).min(in_scope.len()))
                .ok_or_else(|| format!("select = {}: all, one or a count", display(other)))?,
        };
        if let Some(pct) = self.rb.meta.safety.max_tasks_stopped_pct {
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
        let impair_ms = match (&a.sustain, &az) {
            (Some(s), Some(_)) => Some(dur_ms(&self.interp(s)?)?),
            _ => None,
        };
        Ok(vec![PlannedCall::StopTasks {
            target,
            az,
            task_ids: in_scope.iter().take(n).map(|t| t.id.clone()).collect(),
            reason,
            impair_ms,
        }])
    }
}
