//! Configuration the review judges against AWS's own controls and that
//! nothing else in the console needs: a load balancer's attributes and
//! listeners (ELB.1/4/5/6/12), a cluster's capacity providers (ECS.19),
//! task sets (ECS.16), EFS volumes (ECS.18), the ECR repositories of the
//! images (ECR.1–3) and GuardDuty's runtime monitoring (SEC-09).
//!
//! Every reading that can fail on its own carries `unread`: the API and its
//! error. A check that needs it is then *not evaluated*, naming the API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A load balancer's hardening: what DescribeLoadBalancerAttributes and
/// DescribeListeners say. Carried by each target group it fronts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoadBalancerPosture {
    pub arn: String,
    pub name: String,
    /// "application" | "network" | "gateway".
    pub kind: String,
    /// The attributes as ELBv2 returns them (`access_logs.s3.enabled` → "true").
    pub attributes: BTreeMap<String, String>,
    pub listeners: Vec<Listener>,
    /// "api: error" when the attributes or listeners could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<String>,
}

impl LoadBalancerPosture {
    /// The attribute `key` is "true".
    pub fn enabled(&self, key: &str) -> bool {
        self.attributes.get(key).is_some_and(|v| v == "true")
    }

    pub fn is_application(&self) -> bool {
        self.kind == "application"
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Listener {
    pub port: i32,
    /// "HTTP" | "HTTPS" | "TCP" | "TLS" | ...
    pub protocol: String,
    /// The default action redirects to HTTPS (ELB.1).
    pub redirects_to_https: bool,
}

/// A cluster's capacity provider backed by an Auto Scaling group.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CapacityProvider {
    pub name: String,
    pub auto_scaling_group_arn: Option<String>,
    /// `managedTerminationProtection`: "ENABLED" | "DISABLED".
    pub managed_termination_protection: String,
    /// `managedScaling.status`.
    pub managed_scaling: String,
}

/// A task set of a service with an EXTERNAL or CODE_DEPLOY controller.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct TaskSet {
    pub id: String,
    /// "PRIMARY" | "ACTIVE" | "DRAINING".
    pub status: String,
    pub task_definition: String,
    /// `networkConfiguration.awsvpcConfiguration.assignPublicIp == ENABLED`.
    pub assign_public_ip: bool,
}

/// A task definition volume; only EFS volumes carry what the review reads.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Volume {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efs: Option<EfsVolume>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EfsVolume {
    pub file_system_id: String,
    /// `transitEncryption == ENABLED`.
    pub transit_encryption: bool,
}

/// An ECR repository an image of the fleet comes from.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EcrRepository {
    /// `<registry>.dkr.ecr.<region>.amazonaws.com/<name>`: how images name it.
    pub uri: String,
    pub name: String,
    pub account: String,
    pub region: String,
    pub scan_on_push: bool,
    /// "MUTABLE" | "IMMUTABLE" | "MUTABLE_WITH_EXCLUSION" | ...
    pub tag_mutability: String,
    /// A lifecycle policy exists (None: it could not be read).
    pub lifecycle_policy: Option<bool>,
    /// "api: error" when the repository could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<String>,
}

impl EcrRepository {
    pub fn immutable(&self) -> bool {
        self.tag_mutability.starts_with("IMMUTABLE")
    }
}

/// GuardDuty in one place (account, region).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct GuardDuty {
    pub account: String,
    pub region: String,
    /// The detector, if GuardDuty is on.
    pub detector_id: Option<String>,
    /// `Features[RUNTIME_MONITORING].Status == ENABLED`.
    pub runtime_monitoring: bool,
    /// `AdditionalConfiguration[ECS_FARGATE_AGENT_MANAGEMENT].Status == ENABLED`.
    pub ecs_fargate_agent: bool,
}

/// The registry, region and repository name of an ECR image reference
/// (`123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1.4` →
/// ("123456789012", "eu-west-1", "shop/api")). Other registries: None.
pub fn ecr_repository_of(image: &str) -> Option<(&str, &str, &str)> {
    let (host, rest) = image.split_once('/')?;
    let mut parts = host.split('.');
    let account = parts.next()?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if parts.next()? != "dkr" || !parts.next()?.starts_with("ecr") {
        return None;
    }
    let region = parts.next()?;
    if region.is_empty() || !host.contains(".amazonaws.com") {
        return None;
    }
    let no_digest = rest.split_once('@').map_or(rest, |(n, _)| n);
    let name = match no_digest.rsplit_once(':') {
        Some((n, tag)) if !tag.contains('/') => n,
        _ => no_digest,
    };
    (!name.is_empty()).then_some((account, region, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_image_references_name_their_repository() {
        assert_eq!(
            ecr_repository_of("123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1.4"),
            Some(("123456789012", "eu-west-1", "shop/api"))
        );
        assert_eq!(
            ecr_repository_of(
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout@sha256:4f1c3b9e"
            ),
            Some(("123456789012", "us-east-1", "checkout"))
        );
        assert_eq!(
            ecr_repository_of("123456789012.dkr.ecr.us-east-1.amazonaws.com/web"),
            Some(("123456789012", "us-east-1", "web"))
        );
        for other in [
            "nginx:1.25",
            "public.ecr.aws/nginx/nginx:1",
            "ghcr.io/acme/api:2",
            "localhost:5000/api",
            "12345.dkr.ecr.us-east-1.amazonaws.com/x",
        ] {
            assert_eq!(ecr_repository_of(other), None, "{other}");
        }
    }
}
