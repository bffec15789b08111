//! Application Auto Scaling: scalable targets of ECS services, their
//! target-tracking policies and scheduled actions, and scaling activities.

use std::sync::Arc;

use aws_sdk_applicationautoscaling::types as t;

use super::{AwsSource, bump, describe_error};
use crate::model::{FleetSnapshot, ScalableTarget, ScalingActivity, TargetTrackingPolicy};

fn ms(d: Option<&aws_sdk_applicationautoscaling::primitives::DateTime>) -> Option<i64> {
    d.and_then(|d| d.to_millis().ok())
}

pub fn convert_target(v: &t::ScalableTarget) -> ScalableTarget {
    let susp = v.suspended_state();
    ScalableTarget {
        resource_id: v.resource_id().to_string(),
        // Filled in by the source, which knows where it read it.
        account: String::new(),
        region: String::new(),
        min_capacity: v.min_capacity(),
        max_capacity: v.max_capacity(),
        dynamic_scaling_in_suspended: susp
            .and_then(|s| s.dynamic_scaling_in_suspended())
            .unwrap_or(false),
        dynamic_scaling_out_suspended: susp
            .and_then(|s| s.dynamic_scaling_out_suspended())
            .unwrap_or(false),
        scheduled_scaling_suspended: susp
            .and_then(|s| s.scheduled_scaling_suspended())
            .unwrap_or(false),
        policies: vec![],
        scheduled_actions: vec![],
    }
}

pub fn convert_policy(p: &t::ScalingPolicy) -> Option<TargetTrackingPolicy> {
    let c = p.target_tracking_scaling_policy_configuration()?;
    Some(TargetTrackingPolicy {
        policy_name: p.policy_name().to_string(),
        predefined_metric_type: c
            .predefined_metric_specification()
            .map(|m| m.predefined_metric_type().as_str().to_string())
            .unwrap_or_else(|| "Custom".into()),
        target_value: c.target_value(),
        scale_out_cooldown: c.scale_out_cooldown().unwrap_or(300),
        scale_in_cooldown: c.scale_in_cooldown().unwrap_or(300),
        disable_scale_in: c.disable_scale_in().unwrap_or(false),
    })
}

pub fn convert_activity(a: &t::ScalingActivity) -> ScalingActivity {
    ScalingActivity {
        activity_id: a.activity_id().to_string(),
        resource_id: a.resource_id().to_string(),
        account: String::new(),
        region: String::new(),
        description: a.description().to_string(),
        cause: a.cause().to_string(),
        status_code: a.status_code().as_str().to_string(),
        status_message: a.status_message().map(str::to_string),
        start_time: ms(Some(a.start_time())).unwrap_or(0),
        end_time: ms(a.end_time()),
    }
}

/// Targets and policies; activities are best effort (moto answers 500):
/// their failure is returned separately so the pane can say so.
pub async fn fetch(src: &AwsSource, snap: &mut FleetSnapshot) -> Result<Option<String>, String> {
    let c = &src.aas;
    let mut pages = c
        .describe_scalable_targets()
        .service_namespace(t::ServiceNamespace::Ecs)
        .into_paginator()
        .send();
    let mut targets = vec![];
    while let Some(page) = pages.next().await {
        bump(&src.calls.autoscaling);
        let page = page
            .map_err(|e| describe_error("application-autoscaling:DescribeScalableTargets", &e))?;
        targets.extend(page.scalable_targets().iter().map(convert_target));
    }
    if targets.is_empty() {
        snap.scalable_targets = Arc::new(targets);
        return Ok(None);
    }
    let mut pages = c
        .describe_scaling_policies()
        .service_namespace(t::ServiceNamespace::Ecs)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        bump(&src.calls.autoscaling);
        let page = page
            .map_err(|e| describe_error("application-autoscaling:DescribeScalingPolicies", &e))?;
        for p in page.scaling_policies() {
            if let (Some(tt), Some(target)) = (
                convert_policy(p),
                targets
                    .iter_mut()
                    .find(|x| x.resource_id == p.resource_id()),
            ) {
                target.policies.push(tt);
            }
        }
    }
    snap.scalable_targets = Arc::new(targets);
    let mut activities = vec![];
    // No SDK retries: the next refresh asks again, and an endpoint that does
    // not serve activities (moto: HTTP 500) must not cost a round of backoff.
    // (Paged by hand: a customized operation has no paginator.)
    let mut activity_error = None;
    let mut token: Option<String> = None;
    loop {
        bump(&src.calls.autoscaling);
        let page = c
            .describe_scaling_activities()
            .service_namespace(t::ServiceNamespace::Ecs)
            .set_next_token(token.take())
            .customize()
            .config_override(
                aws_sdk_applicationautoscaling::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        match page {
            Ok(p) => {
                activities.extend(p.scaling_activities().iter().map(convert_activity));
                token = p.next_token().map(str::to_string);
            }
            Err(e) => {
                activity_error = Some(describe_error(
                    "application-autoscaling:DescribeScalingActivities",
                    &e,
                ));
                break;
            }
        }
        if token.is_none() || activities.len() >= 200 {
            break;
        }
    }
    activities.sort_by_key(|a| std::cmp::Reverse(a.start_time));
    snap.scaling_activities = Arc::new(activities);
    Ok(activity_error)
}
