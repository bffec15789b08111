//! ELBv2: the target groups the services register with, each target's health
//! and AZ, the load balancer's AZs, and the deregistration delay.
//!
//! Calls: DescribeTargetGroups (20 ARNs a call), DescribeLoadBalancers (20 a
//! call), DescribeTargetHealth (one per target group), and
//! DescribeTargetGroupAttributes (one per target group, cached for ten
//! minutes: it changes only when someone edits the target group), and per
//! load balancer DescribeLoadBalancerAttributes and DescribeListeners (the
//! review's ELB controls; cached likewise).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_sdk_elasticloadbalancingv2::types as t;

use super::{AwsSource, bump, describe_error, now_ms};
use crate::model::{Service, TargetGroup, TargetHealth, TargetState};

/// Most ARNs one DescribeTargetGroups / DescribeLoadBalancers call takes.
pub const ARNS_PER_CALL: usize = 20;
const ATTRIBUTES_TTL_MS: i64 = 10 * 60 * 1000;
/// Per-group calls in flight at once (well inside ELBv2's describe rate).
const CONCURRENT: usize = 8;

pub fn convert_state(s: Option<&t::TargetHealthStateEnum>) -> TargetState {
    match s {
        Some(t::TargetHealthStateEnum::Healthy) => TargetState::Healthy,
        Some(t::TargetHealthStateEnum::Initial) => TargetState::Initial,
        Some(t::TargetHealthStateEnum::Unhealthy)
        | Some(t::TargetHealthStateEnum::UnhealthyDraining) => TargetState::Unhealthy,
        Some(t::TargetHealthStateEnum::Unused) => TargetState::Unused,
        Some(t::TargetHealthStateEnum::Draining) => TargetState::Draining,
        _ => TargetState::Unavailable,
    }
}

/// One target's health. Its AZ: what ELBv2 says (only for targets outside
/// the VPC, "all"), else the AZ of the task that owns the target's IP.
pub fn convert_target(d: &t::TargetHealthDescription, ip_az: &HashMap<&str, &str>) -> TargetHealth {
    let target = d.target();
    let id = target.and_then(|t| t.id()).unwrap_or_default().to_string();
    let az = target
        .and_then(|t| t.availability_zone())
        .filter(|z| *z != "all")
        .map(str::to_string)
        .or_else(|| ip_az.get(id.as_str()).map(|z| z.to_string()));
    let health = d.target_health();
    TargetHealth {
        port: target.and_then(|t| t.port()).unwrap_or(0),
        availability_zone: az,
        state: convert_state(health.and_then(|h| h.state())),
        reason: health
            .and_then(|h| h.reason())
            .map(|r| r.as_str().to_string()),
        description: health.and_then(|h| h.description()).map(str::to_string),
        id,
    }
}

/// Target groups of `services`, with their targets' health.
pub async fn fetch(src: &AwsSource, services: &[Arc<Service>]) -> Result<Vec<TargetGroup>, String> {
    let elb = &src.elb;
    let mut arns: Vec<String> = services
        .iter()
        .flat_map(|s| s.load_balancers.iter().map(|l| l.target_group_arn.clone()))
        .filter(|a| !a.is_empty())
        .collect();
    arns.sort();
    arns.dedup();
    if arns.is_empty() {
        return Ok(vec![]);
    }
    let ip_az: HashMap<&str, &str> = services
        .iter()
        .flat_map(|s| s.tasks.iter())
        .filter_map(|t| Some((t.private_ip.as_deref()?, t.availability_zone.as_deref()?)))
        .collect();

    let mut groups: Vec<TargetGroup> = Vec::new();
    for batch in arns.chunks(ARNS_PER_CALL) {
        bump(&src.calls.elbv2);
        match elb
            .describe_target_groups()
            .set_target_group_arns(Some(batch.to_vec()))
            .send()
            .await
        {
            Ok(out) => groups.extend(out.target_groups().iter().map(convert_group)),
            // One deleted target group fails the whole batch: ask one by
            // one and skip the missing (a service deleted mid-refresh).
            Err(e) if is_not_found(&e) => {
                for arn in batch {
                    bump(&src.calls.elbv2);
                    match elb
                        .describe_target_groups()
                        .target_group_arns(arn)
                        .send()
                        .await
                    {
                        Ok(out) => groups.extend(out.target_groups().iter().map(convert_group)),
                        Err(e) if is_not_found(&e) => {}
                        Err(e) => {
                            return Err(describe_error(
                                "elasticloadbalancing:DescribeTargetGroups",
                                &e,
                            ));
                        }
                    }
                }
            }
            Err(e) => {
                return Err(describe_error(
                    "elasticloadbalancing:DescribeTargetGroups",
                    &e,
                ));
            }
        }
    }

    // The load balancers' AZs.
    let mut lb_arns: Vec<String> = groups
        .iter()
        .filter_map(|g| g.load_balancer_arn.clone())
        .collect();
    lb_arns.sort();
    lb_arns.dedup();
    let mut lb_azs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut lb_meta: BTreeMap<String, (String, String)> = BTreeMap::new();
    for batch in lb_arns.chunks(ARNS_PER_CALL) {
        bump(&src.calls.elbv2);
        let out = elb
            .describe_load_balancers()
            .set_load_balancer_arns(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| describe_error("elasticloadbalancing:DescribeLoadBalancers", &e))?;
        for lb in out.load_balancers() {
            let mut azs: Vec<String> = lb
                .availability_zones()
                .iter()
                .filter_map(|z| z.zone_name().map(str::to_string))
                .collect();
            azs.sort();
            let arn = lb.load_balancer_arn().unwrap_or_default().to_string();
            lb_meta.insert(
                arn.clone(),
                (
                    lb.load_balancer_name().unwrap_or_default().to_string(),
                    lb.r#type()
                        .map_or("application", |t| t.as_str())
                        .to_string(),
                ),
            );
            lb_azs.insert(arn, azs);
        }
    }
    let now = now_ms();
    let postures: BTreeMap<String, crate::model::LoadBalancerPosture> = {
        use futures::stream::StreamExt;
        futures::stream::iter(lb_meta)
            .map(|(arn, (name, kind))| async move {
                let p = posture(src, &arn, &name, &kind, now).await;
                (arn, p)
            })
            .buffer_unordered(CONCURRENT)
            .collect()
            .await
    };
    for g in groups.iter_mut() {
        g.load_balancer = g
            .load_balancer_arn
            .as_ref()
            .and_then(|a| postures.get(a))
            .cloned();
    }

    // One DescribeTargetHealth per group (there is no batch form): a few at
    // a time, so 300 groups take 300/CONCURRENT round trips, not 300.
    use futures::stream::TryStreamExt;
    futures::stream::iter(groups.iter_mut().map(Ok))
        .try_for_each_concurrent(CONCURRENT, |g| read_group(src, g, &lb_azs, &ip_az, now))
        .await?;
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(groups)
}

/// One group's targets (health and AZ) and its deregistration delay.
async fn read_group(
    src: &AwsSource,
    g: &mut TargetGroup,
    lb_azs: &BTreeMap<String, Vec<String>>,
    ip_az: &HashMap<&str, &str>,
    now: i64,
) -> Result<(), String> {
    let elb = &src.elb;
    if let Some(lb) = &g.load_balancer_arn {
        g.load_balancer_azs = lb_azs.get(lb).cloned().unwrap_or_default();
    }
    bump(&src.calls.elbv2);
    match elb
        .describe_target_health()
        .target_group_arn(&g.arn)
        .send()
        .await
    {
        Ok(out) => {
            g.targets = out
                .target_health_descriptions()
                .iter()
                .map(|d| convert_target(d, ip_az))
                .collect();
            g.targets
                .sort_by(|a, b| (&a.availability_zone, &a.id).cmp(&(&b.availability_zone, &b.id)));
        }
        // Deleted since DescribeTargetGroups: no targets, no error.
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => {
            return Err(describe_error(
                "elasticloadbalancing:DescribeTargetHealth",
                &e,
            ));
        }
    }
    let cached = src
        .tg_attributes
        .lock()
        .await
        .get(&g.arn)
        .filter(|(at, _)| now - at < ATTRIBUTES_TTL_MS)
        .map(|(_, d)| *d);
    g.deregistration_delay_seconds = match cached {
        Some(d) => d,
        None => {
            bump(&src.calls.elbv2);
            let d = match elb
                .describe_target_group_attributes()
                .target_group_arn(&g.arn)
                .send()
                .await
            {
                Ok(out) => out
                    .attributes()
                    .iter()
                    .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
                    .and_then(|a| a.value()?.parse().ok())
                    .unwrap_or(300),
                // The attribute is a nicety: keep the default, don't fail the pane.
                Err(_) => 300,
            };
            src.tg_attributes
                .lock()
                .await
                .insert(g.arn.clone(), (now, d));
            d
        }
    };
    Ok(())
}

/// A load balancer's attributes and listeners, from the cache when read in
/// the last ten minutes. A failed read is kept on the posture (`unread`),
/// not cached: the controls that need it are not evaluated, and the next
/// refresh asks again.
async fn posture(
    src: &AwsSource,
    arn: &str,
    name: &str,
    kind: &str,
    now: i64,
) -> crate::model::LoadBalancerPosture {
    if let Some((_, p)) = src
        .lb_posture
        .lock()
        .await
        .get(arn)
        .filter(|(at, _)| now - at < ATTRIBUTES_TTL_MS)
    {
        return p.clone();
    }
    let mut p = crate::model::LoadBalancerPosture {
        arn: arn.to_string(),
        name: name.to_string(),
        kind: kind.to_string(),
        ..Default::default()
    };
    let elb = &src.elb;
    bump(&src.calls.elbv2);
    match elb
        .describe_load_balancer_attributes()
        .load_balancer_arn(arn)
        .send()
        .await
    {
        Ok(out) => {
            p.attributes = out
                .attributes()
                .iter()
                .filter_map(|a| Some((a.key()?.to_string(), a.value()?.to_string())))
                .collect();
        }
        Err(e) => {
            p.unread = Some(describe_error(
                "elasticloadbalancing:DescribeLoadBalancerAttributes",
                &e,
            ));
            return p;
        }
    }
    let mut pages = elb
        .describe_listeners()
        .load_balancer_arn(arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        bump(&src.calls.elbv2);
        match page {
            Ok(out) => p
                .listeners
                .extend(out.listeners().iter().map(convert_listener)),
            Err(e) => {
                p.unread = Some(describe_error("elasticloadbalancing:DescribeListeners", &e));
                return p;
            }
        }
    }
    p.listeners.sort_by_key(|l| l.port);
    src.lb_posture
        .lock()
        .await
        .insert(arn.to_string(), (now, p.clone()));
    p
}

/// A listener, and whether its default action redirects to HTTPS.
pub fn convert_listener(l: &t::Listener) -> crate::model::Listener {
    let redirects_to_https = l.default_actions().iter().any(|a| {
        a.r#type() == Some(&t::ActionTypeEnum::Redirect)
            && a.redirect_config()
                .and_then(|r| r.protocol())
                .is_some_and(|p| p.eq_ignore_ascii_case("HTTPS"))
    });
    crate::model::Listener {
        port: l.port().unwrap_or(0),
        protocol: l
            .protocol()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
        redirects_to_https,
    }
}

fn convert_group(g: &t::TargetGroup) -> TargetGroup {
    TargetGroup {
        arn: g.target_group_arn().unwrap_or_default().to_string(),
        account: crate::model::id::arn_account(g.target_group_arn().unwrap_or_default())
            .unwrap_or_default()
            .to_string(),
        region: crate::model::id::arn_region(g.target_group_arn().unwrap_or_default())
            .unwrap_or_default()
            .to_string(),
        name: g.target_group_name().unwrap_or_default().to_string(),
        load_balancer_arn: g.load_balancer_arns().first().cloned(),
        load_balancer_azs: vec![],
        deregistration_delay_seconds: 300,
        targets: vec![],
        load_balancer: None,
    }
}

fn is_not_found<E: std::error::Error>(e: &E) -> bool {
    let mut msg = format!("{e:?}");
    if let Some(s) = e.source() {
        msg.push_str(&s.to_string());
    }
    msg.contains("NotFound")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_take_the_az_of_the_task_that_owns_their_ip() {
        let d = t::TargetHealthDescription::builder()
            .target(
                t::TargetDescription::builder()
                    .id("10.0.1.5")
                    .port(8080)
                    .build(),
            )
            .target_health(
                t::TargetHealth::builder()
                    .state(t::TargetHealthStateEnum::Unhealthy)
                    .reason(t::TargetHealthReasonEnum::FailedHealthChecks)
                    .description("Health checks failed with these codes: [503]")
                    .build(),
            )
            .build();
        let ip_az = HashMap::from([("10.0.1.5", "eu-west-1a")]);
        let th = convert_target(&d, &ip_az);
        assert_eq!(th.availability_zone.as_deref(), Some("eu-west-1a"));
        assert_eq!(th.state, TargetState::Unhealthy);
        assert_eq!(th.reason.as_deref(), Some("Target.FailedHealthChecks"));
        assert_eq!(th.port, 8080);
        // An IP no task owns: unknown AZ, not dropped.
        let th = convert_target(&d, &HashMap::new());
        assert_eq!(th.availability_zone, None);
        // A target ELBv2 places itself ("all" = outside the VPC) is not an AZ.
        let d = t::TargetHealthDescription::builder()
            .target(
                t::TargetDescription::builder()
                    .id("10.9.0.1")
                    .availability_zone("all")
                    .build(),
            )
            .build();
        assert_eq!(convert_target(&d, &HashMap::new()).availability_zone, None);
        assert_eq!(
            convert_target(&d, &HashMap::new()).state,
            TargetState::Unavailable
        );
    }
}
