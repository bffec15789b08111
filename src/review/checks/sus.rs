//! Sustainability checks.

use super::*;

pub(super) fn sus01<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if c.environment_or_skip().is_none() || c.is_prod() {
        return vec![];
    }
    if c.scalable()
        .is_some_and(|t| !t.scheduled_actions.is_empty())
    {
        return vec![];
    }
    hit(
        Low,
        &c.svc.arn,
        vec![format!(
            "{}={} service with no off-hours scheduled action",
            c.cfg.environment_tag,
            c.environment().unwrap_or("")
        )],
        format!(
            "aws application-autoscaling put-scheduled-action --service-namespace ecs --resource-id {} --schedule 'cron(0 20 ? * MON-FRI *)' --scalable-target-action MinCapacity=0,MaxCapacity=0",
            c.svc.scaling_resource_id()
        ),
    )
}

pub(super) fn sus02<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(m) = c.metrics() else {
        return vec![];
    };
    if c.svc.running_count == 0 || m.cpu.values.len() < 10 || m.requests.values.is_empty() {
        return vec![];
    }
    let avg_cpu =
        m.cpu.values.iter().filter(|x| x.is_finite()).sum::<f64>() / m.cpu.values.len() as f64;
    let requests: f64 = m.requests.values.iter().filter(|x| x.is_finite()).sum();
    if avg_cpu < 5.0 && requests == 0.0 {
        return hit(
            Low,
            &c.svc.arn,
            vec![format!(
                "{} tasks, average CPU {avg_cpu:.1}% and 0 requests over {} min",
                c.svc.running_count,
                m.cpu.values.len()
            )],
            svc_fix(c, "--desired-count 0"),
        );
    }
    vec![]
}
