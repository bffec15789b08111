//! Cost optimization checks.

use super::*;

pub(super) fn cost01<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let (Some(m), Some((Some(cpu), max_mem))) = (c.metrics(), c.cpu_p95_mem_max()) else {
        return vec![];
    };
    if cpu < 20.0 && max_mem < 40.0 {
        return hit(
            Medium,
            &c.svc.arn,
            vec![format!(
                "p95 CPU {cpu:.0}% and max memory {max_mem:.0}% over the last {} min (Compute Optimizer fallback)",
                m.cpu.values.len()
            )],
            "step down to the next valid Fargate size",
        );
    }
    vec![]
}

pub(super) fn cost02<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td().filter(|_| c.is_linux() && c.is_fargate()) else {
        return vec![];
    };
    let spot = c
        .svc
        .capacity_provider_strategy
        .iter()
        .any(|p| p.capacity_provider == "FARGATE_SPOT");
    match td.cpu_architecture.as_deref() {
        Some("ARM64") => vec![],
        _ if spot => vec![],
        arch => hit(
            Low,
            &td.arn,
            vec![format!(
                "runtimePlatform.cpuArchitecture={}",
                arch.unwrap_or("absent (X86_64)")
            )],
            "build a multi-arch image and set runtimePlatform.cpuArchitecture=ARM64",
        ),
    }
}

pub(super) fn cost03<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if c.environment_or_skip().is_none() || c.is_prod() || !c.is_linux() || !c.is_fargate() {
        return vec![];
    }
    if c.td().and_then(|t| t.cpu_architecture.as_deref()) == Some("ARM64") {
        return vec![];
    }
    if c.svc
        .capacity_provider_strategy
        .iter()
        .any(|p| p.capacity_provider == "FARGATE_SPOT")
    {
        return vec![];
    }
    hit(
        Low,
        &c.svc.arn,
        vec![format!(
            "{}={} service without FARGATE_SPOT",
            c.cfg.environment_tag,
            c.environment().unwrap_or("")
        )],
        svc_fix(
            c,
            "--capacity-provider-strategy capacityProvider=FARGATE,base=1,weight=1 capacityProvider=FARGATE_SPOT,weight=3",
        ),
    )
}

pub(super) fn cost04<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let missing: Vec<&str> = c
        .cfg
        .required_tags
        .iter()
        .filter(|k| !c.svc.tags.contains_key(*k))
        .map(String::as_str)
        .collect();
    let mut ev = vec![];
    if !missing.is_empty() {
        ev.push(format!("service tags missing {}", missing.join(", ")));
    }
    if !matches!(c.svc.propagate_tags.as_str(), "SERVICE" | "TASK_DEFINITION") {
        ev.push(format!(
            "propagateTags={}",
            if c.svc.propagate_tags.is_empty() {
                "absent"
            } else {
                &c.svc.propagate_tags
            }
        ));
    }
    if !c.svc.enable_ecs_managed_tags {
        ev.push("enableECSManagedTags=false".into());
    }
    hit_if!(
        Low,
        &c.svc.arn,
        ev,
        format!(
            "aws ecs tag-resource --resource-arn {} --tags key=Owner,value=… ; {}",
            c.svc.arn,
            svc_fix(c, "--propagate-tags SERVICE --enable-ecs-managed-tags")
        ),
    )
}
