//! The configuration the review's AWS controls judge, as the scenario
//! declares it, else as AWS creates it by default: a load balancer's
//! attributes and listeners, capacity providers, ECR repositories and
//! GuardDuty.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{
    CapacityProvider, EcrRepository, GuardDuty, Listener, LoadBalancerPosture, TaskDefinition,
    posture::ecr_repository_of,
};
use crate::source::sim::scenario::{ClusterSpec, Scenario};

/// A cluster's Auto Scaling group capacity providers.
pub(super) fn capacity_providers(
    c: &ClusterSpec,
    account: &str,
    region: &str,
) -> Vec<CapacityProvider> {
    c.asg_capacity_providers
        .iter()
        .map(|p| CapacityProvider {
            name: p.name.clone(),
            auto_scaling_group_arn: Some(format!(
                "arn:aws:autoscaling:{region}:{account}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/{}",
                p.name
            )),
            managed_termination_protection: if p.managed_termination_protection {
                "ENABLED"
            } else {
                "DISABLED"
            }
            .into(),
            managed_scaling: "ENABLED".into(),
        })
        .collect()
}

/// The posture of the load balancer `name` in `region`: the scenario's,
/// else ELBv2's defaults for a new ALB (no access logs, no deletion
/// protection, invalid headers kept, defensive desync, one HTTP listener).
pub(super) fn load_balancer(
    sc: &Scenario,
    arn: &str,
    name: &str,
    region: &str,
) -> LoadBalancerPosture {
    let spec = sc
        .load_balancers
        .iter()
        .find(|l| l.name == name && l.region.as_deref().is_none_or(|r| r == region));
    let flag = |b: bool| if b { "true" } else { "false" }.to_string();
    let (logs, deletion, headers, desync, listeners) = match spec {
        Some(s) => (
            s.access_logs,
            s.deletion_protection,
            s.drop_invalid_headers,
            s.desync_mode.clone(),
            s.listeners.iter().filter_map(|l| listener(l)).collect(),
        ),
        None => (
            false,
            false,
            false,
            "defensive".to_string(),
            vec![Listener {
                port: 80,
                protocol: "HTTP".into(),
                redirects_to_https: false,
            }],
        ),
    };
    LoadBalancerPosture {
        arn: arn.to_string(),
        name: name.to_string(),
        kind: "application".into(),
        attributes: BTreeMap::from([
            ("access_logs.s3.enabled".to_string(), flag(logs)),
            ("deletion_protection.enabled".to_string(), flag(deletion)),
            (
                "routing.http.drop_invalid_header_fields.enabled".to_string(),
                flag(headers),
            ),
            ("routing.http.desync_mitigation_mode".to_string(), desync),
        ]),
        listeners,
        unread: None,
    }
}

/// "HTTPS:443", "HTTP:80", "HTTP:80>HTTPS" (validated with the scenario).
pub(crate) fn listener(s: &str) -> Option<Listener> {
    let (head, redirect) = match s.split_once('>') {
        Some((h, to)) if to.eq_ignore_ascii_case("HTTPS") => (h, true),
        Some(_) => return None,
        None => (s, false),
    };
    let (protocol, port) = head.split_once(':')?;
    let protocol = protocol.to_ascii_uppercase();
    if !["HTTP", "HTTPS"].contains(&protocol.as_str()) {
        return None;
    }
    Some(Listener {
        port: port.parse().ok().filter(|p| (1..=65535).contains(p))?,
        protocol,
        redirects_to_https: redirect,
    })
}

/// The ECR repositories the task definitions' images come from: the
/// scenario's, else create-repository's defaults.
pub(super) fn ecr_repositories<'a>(
    sc: &Scenario,
    tds: impl Iterator<Item = &'a TaskDefinition>,
) -> Vec<EcrRepository> {
    let uris: BTreeSet<(String, String, String)> = tds
        .flat_map(|t| t.container_definitions.iter())
        .filter_map(|c| ecr_repository_of(&c.image))
        .map(|(a, r, n)| (a.to_string(), r.to_string(), n.to_string()))
        .collect();
    uris.into_iter()
        .map(|(account, region, name)| {
            let uri = format!("{account}.dkr.ecr.{region}.amazonaws.com/{name}");
            let spec = sc.ecr_repositories.iter().find(|r| r.uri == uri);
            EcrRepository {
                scan_on_push: spec.is_some_and(|s| s.scan_on_push),
                tag_mutability: if spec.is_some_and(|s| s.immutable) {
                    "IMMUTABLE"
                } else {
                    "MUTABLE"
                }
                .into(),
                lifecycle_policy: Some(spec.is_some_and(|s| s.lifecycle_policy)),
                uri,
                name,
                account,
                region,
                unread: None,
            }
        })
        .collect()
}

/// GuardDuty in each place the clusters are in.
pub(super) fn guardduty(sc: &Scenario, places: &BTreeSet<(String, String)>) -> Vec<GuardDuty> {
    places
        .iter()
        .map(|(account, region)| {
            let spec = sc.guardduty.iter().find(|g| {
                g.region.as_deref().is_none_or(|r| r == region)
                    && g.account.as_deref().is_none_or(|a| a == account)
            });
            GuardDuty {
                account: account.clone(),
                region: region.clone(),
                detector_id: spec.map(|_| format!("sim{}", region.replace('-', ""))),
                runtime_monitoring: spec.is_some_and(|s| s.runtime_monitoring),
                ecs_fargate_agent: spec.is_some_and(|s| s.ecs_fargate_agent),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_parse_protocol_port_and_redirect() {
        let l = listener("HTTP:80>HTTPS").unwrap();
        assert_eq!(
            (l.port, l.protocol.as_str(), l.redirects_to_https),
            (80, "HTTP", true)
        );
        let l = listener("https:443").unwrap();
        assert_eq!(
            (l.port, l.protocol.as_str(), l.redirects_to_https),
            (443, "HTTPS", false)
        );
        for bad in ["HTTP", "HTTP:0", "TCP:80", "HTTP:80>FTP", "HTTP:x"] {
            assert!(listener(bad).is_none(), "{bad}");
        }
    }
}
