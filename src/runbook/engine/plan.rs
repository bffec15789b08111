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
    let s = crate::calls::lookup_service(snap, r)?;
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
                // By name, so a changed value is one line; a value that
                // looks secret (the SEC-02 detector) is never shown.
                let env = |c: &'_ crate::model::ContainerDefinition| {
                    c.environment
                        .iter()
                        .map(|e| (e.name.clone(), e.value.clone()))
                        .collect::<BTreeMap<_, _>>()
                };
                let (ea, eb) = (env(ca), env(cb));
                let shown =
                    |n: &str, v: &str| format!("{n}={}", crate::model::secret::shown_value(n, v));
                for (n, va) in &ea {
                    match eb.get(n) {
                        None => out.push(format!("  {} env - {}", ca.name, shown(n, va))),
                        Some(vb) if vb != va => {
                            let secret = crate::model::secret::looks_secret(n, va)
                                || crate::model::secret::looks_secret(n, vb);
                            out.push(if secret {
                                format!("  {} env ~ {n} (value changed, masked)", ca.name)
                            } else {
                                format!("  {} env ~ {n}: {va} → {vb}", ca.name)
                            });
                        }
                        Some(_) => {}
                    }
                }
                for (n, vb) in &eb {
                    if !ea.contains_key(n) {
                        out.push(format!("  {} env + {}", ca.name, shown(n, vb)));
                    }
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
        let opt = |o: &Option<String>, dflt: Option<String>| {
            o.as_ref()
                .map(|r| self.interp(r).unwrap_or_default())
                .or(dflt)
        };
        ServiceRef {
            cluster: pick(&a.cluster, d.cluster.clone()),
            service: pick(&a.service, d.service.clone()),
            region: opt(&a.region, d.region),
            account: opt(&a.account, d.account),
        }
    }

    /// Turn an action block into concrete calls with old → new values
    /// (the op's own plan, `src/actions/<op>.rs`).
    pub(super) fn plan_action(
        &self,
        a: &crate::runbook::Action,
        snap: &FleetSnapshot,
    ) -> Result<Vec<PlannedCall>, String> {
        let r = self.action_ref(a);
        let svc = crate::calls::lookup_service(snap, &r)?;
        let scope = self.scope();
        let safety = &self.rb.meta.safety;
        let plan = crate::actions::Plan {
            fields: &a.fields,
            snap,
            svc,
            target: Target::resolved(&r, svc),
            limits: crate::actions::Limits {
                max_scale_factor: safety.max_scale_factor,
                max_tasks_stopped_pct: safety.max_tasks_stopped_pct,
            },
            resolve: &|v| resolve_value(v, &scope),
            interp: &|s| self.interp(s),
        };
        a.op.action().plan(&plan)
    }
}
