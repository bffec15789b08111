//! Target tracking scaling and its scaling activities.

use super::*;

impl Engine {
    /// Target tracking: scale out after 3 high datapoints, in after 15 low
    /// ones, with cooldowns and min/max.
    pub(super) fn autoscale(&mut self) {
        let now = self.now();
        for si in 0..self.services.len() {
            let Some(ti) = self.services[si].autoscaling else {
                continue;
            };
            let target = self.scalable_targets[ti].clone();
            let Some(p) = target.policies.first() else {
                continue;
            };
            let s = &self.services[si];
            let running = s.svc.running_count.max(1) as f64;
            let metric = match p.predefined_metric_type.as_str() {
                "ECSServiceAverageMemoryUtilization" => s.metrics.memory.last(),
                "ALBRequestCountPerTarget" => s.metrics.requests.last().map(|r| r / running),
                _ => s.metrics.cpu.last(),
            }
            .filter(|v| v.is_finite());
            let Some(metric) = metric else { continue };
            let desired = s.svc.desired_count;
            let s = &mut self.services[si];
            if metric > p.target_value {
                s.high_streak += 1;
                s.low_streak = 0;
            } else if metric < p.target_value * 0.9 {
                s.low_streak += 1;
                s.high_streak = 0;
            } else {
                s.high_streak = 0;
                s.low_streak = 0;
            }
            let wanted = ((running * metric / p.target_value).ceil() as i32)
                .clamp(target.min_capacity, target.max_capacity);
            let alarm_id = format!("{:08x}-{:04x}", si * 7919 + 13, ti);
            let direction = if s.high_streak >= 3
                && wanted > desired
                && now - s.last_scale_out >= p.scale_out_cooldown as i64 * 1000
            {
                s.last_scale_out = now;
                "High"
            } else if s.low_streak >= 15
                && !p.disable_scale_in
                && wanted < desired
                && now - s.last_scale_in >= p.scale_in_cooldown as i64 * 1000
                && now - s.last_scale_out >= p.scale_in_cooldown as i64 * 1000
            {
                s.last_scale_in = now;
                "Low"
            } else {
                continue;
            };
            s.high_streak = 0;
            s.low_streak = 0;

            let _ = self.set_desired_at(si, wanted);
            self.record_activity(
                si,
                wanted,
                format!(
                    "monitor alarm TargetTracking-{}-Alarm{direction}-{alarm_id} in state ALARM triggered policy {}",
                    target.resource_id, p.policy_name
                ),
            );
        }
    }

    pub(super) fn record_activity(&mut self, si: usize, desired: i32, cause: String) {
        let now = self.now();
        let id = self.rand_hex(32);
        let s = &self.services[si];
        let activity_id = format!(
            "{}-{}-{}-{}-{}",
            &id[..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..32]
        );
        self.activities.push_front(ScalingActivity {
            activity_id,
            resource_id: s.svc.scaling_resource_id(),
            account: s.svc.account.clone(),
            region: s.svc.region.clone(),
            description: format!("Setting desired count to {desired}."),
            cause,
            status_code: "Successful".into(),
            status_message: Some(format!(
                "Successfully set desired count to {desired}. Change successfully fulfilled by ecs."
            )),
            start_time: now,
            end_time: Some(now + 1_000),
        });
        self.activities.truncate(MAX_ACTIVITIES);
    }
}
