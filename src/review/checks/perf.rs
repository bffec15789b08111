//! Performance efficiency checks.

use super::*;

pub(super) fn perf01<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if !c.is_fargate() {
        return vec![];
    }
    let Some(td) = c.td() else { return vec![] };
    let (Some(cpu_s), Some(mem_s)) = (&td.cpu, &td.memory) else {
        return hit(
            Medium,
            &td.arn,
            vec![format!(
                "{} has no task-level cpu/memory (required on Fargate)",
                td_name(c)
            )],
            "set task-level cpu and memory to a valid Fargate size",
        );
    };
    let (Ok(cpu), Ok(mem)) = (cpu_s.trim().parse::<u32>(), mem_s.trim().parse::<u32>()) else {
        return hit(
            Medium,
            &td.arn,
            vec![format!("cpu={cpu_s:?} memory={mem_s:?} are not numbers")],
            "set task-level cpu and memory to a valid Fargate size",
        );
    };
    let mut ev = vec![];
    let valid = if c.is_linux() {
        fargate::valid_linux(cpu, mem)
    } else {
        fargate::valid_windows(cpu, mem)
    };
    if !valid {
        ev.push(format!(
            "taskDefinition {} cpu=\"{cpu_s}\" memory=\"{mem_s}\" is not a valid Fargate size",
            td.family_revision()
        ));
    }
    let sum_cpu: i32 = td.container_definitions.iter().filter_map(|d| d.cpu).sum();
    let sum_mem: i32 = td
        .container_definitions
        .iter()
        .filter_map(|d| d.memory.or(d.memory_reservation))
        .sum();
    if sum_cpu as i64 > cpu as i64 || sum_mem as i64 > mem as i64 {
        ev.push(format!("containers ask for cpu {sum_cpu} / memory {sum_mem} MiB, more than the task's {cpu} / {mem}"));
    }
    if ev.is_empty() {
        return vec![];
    }
    hit(
        Medium,
        &td.arn,
        ev,
        right_size(c, cpu, mem, sum_cpu, sum_mem),
    )
}

/// Headroom over the observed peak a right-size keeps.
const HEADROOM: f64 = 1.3;

/// The smallest valid size that holds what the task uses (p95 CPU, peak
/// memory, with 30 % headroom) and what its containers reserve; without
/// metrics, what the containers reserve (never simply the next size up).
fn right_size(c: &Ctx, cpu: u32, mem: u32, sum_cpu: i32, sum_mem: i32) -> String {
    let floor_cpu = f64::from(sum_cpu.max(0));
    let floor_mem = f64::from(sum_mem.max(0));
    let (need_cpu, need_mem, why) = match c.cpu_p95_mem_max_if_read() {
        Some((Some(p95), max_mem)) if max_mem.is_finite() => {
            let used_cpu = p95 / 100.0 * f64::from(cpu);
            let used_mem = max_mem / 100.0 * f64::from(mem);
            (
                (used_cpu * HEADROOM).max(floor_cpu),
                (used_mem * HEADROOM).max(floor_mem),
                format!(
                    "holds p95 CPU {p95:.0} % of {cpu} and peak memory {max_mem:.0} % of {mem} MiB with 30 % headroom"
                ),
            )
        }
        _ => (
            floor_cpu,
            floor_mem,
            "holds what the containers reserve; no utilisation was read".to_string(),
        ),
    };
    match fargate::smallest_holding(need_cpu, need_mem) {
        Some((c2, m2)) => format!(
            "register a revision with cpu=\"{c2}\" memory=\"{m2}\" (the smallest valid size that {why})"
        ),
        None => "use a valid Fargate size (up to 16 vCPU / 120 GiB)".into(),
    }
}

pub(crate) fn p95(values: &[f64]) -> Option<f64> {
    // A metric window is 60 points: select in a stack buffer, not a Vec.
    let mut buf = [0.0f64; 128];
    let mut heap = Vec::new();
    let v: &mut [f64] = if values.len() <= buf.len() {
        let mut n = 0;
        for x in values.iter().copied().filter(|x| x.is_finite()) {
            buf[n] = x;
            n += 1;
        }
        &mut buf[..n]
    } else {
        heap.extend(values.iter().copied().filter(|x| x.is_finite()));
        &mut heap
    };
    if v.len() < 10 {
        return None;
    }
    let k = (v.len() * 95 / 100).min(v.len() - 1);
    // Selection, not a full sort: O(n).
    Some(*v.select_nth_unstable_by(k, f64::total_cmp).1)
}

pub(super) fn perf02<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let (Some(m), Some((p95_cpu, max_mem))) = (c.metrics(), c.cpu_p95_mem_max()) else {
        return vec![];
    };
    let mut ev = vec![];
    if let Some(p) = p95_cpu.filter(|p| *p > 80.0) {
        ev.push(format!(
            "p95 CPUUtilization {p:.0}% over the last {} min",
            m.cpu.values.len()
        ));
    }
    if max_mem > 90.0 {
        ev.push(format!("max MemoryUtilization {max_mem:.0}%"));
    }
    hit_if!(
        High,
        &c.svc.arn,
        ev,
        "lower the scaling target or move up one Fargate size",
    )
}

pub(super) fn perf03<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(t) = c.scalable() else {
        return vec![];
    };
    let mut ev = vec![];
    if c.svc.desired_count >= t.max_capacity && t.max_capacity > t.min_capacity {
        ev.push(format!(
            "desiredCount={} is at MaxCapacity={}",
            c.svc.desired_count, t.max_capacity
        ));
    }
    let free: i64 = c
        .svc
        .subnets
        .iter()
        .map(|s| s.available_ip_address_count as i64)
        .sum();
    let headroom = (t.max_capacity - c.svc.running_count) as i64;
    if !c.subnets().is_empty() && free < headroom {
        ev.push(format!(
            "{free} free IPs in the service's subnets < {headroom} tasks of scaling headroom"
        ));
    }
    hit_if!(
        Medium,
        &c.svc.arn,
        ev,
        format!(
            "aws application-autoscaling register-scalable-target --resource-id {} --max-capacity {}",
            t.resource_id,
            t.max_capacity * 2
        ),
    )
}
