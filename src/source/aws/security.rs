//! The review's security posture outside ECS: the ECR repositories of the
//! services' images (ECR.1–3) and GuardDuty's runtime monitoring (SEC-09).
//!
//! Calls, every ten minutes: DescribeRepositories (100 names a call, per
//! registry and region) and GetLifecyclePolicy per repository; ListDetectors
//! and GetDetector per place. A repository that could not be read carries
//! its error (`unread`), so its checks are not evaluated, naming the API.

use std::collections::BTreeMap;

use super::{AwsSource, bump, describe_error};
use crate::model::{EcrRepository, FleetSnapshot, GuardDuty, posture::ecr_repository_of};

/// Most names one DescribeRepositories call takes.
const NAMES_PER_CALL: usize = 100;

/// (registry, region, name) of every ECR image of the snapshot's task
/// definitions, sorted.
pub fn image_repositories(base: &FleetSnapshot) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = base
        .task_definitions
        .values()
        .flat_map(|t| t.container_definitions.iter())
        .filter_map(|c| ecr_repository_of(&c.image))
        .map(|(a, r, n)| (a.to_string(), r.to_string(), n.to_string()))
        .collect();
    v.sort();
    v.dedup();
    v
}

fn client_in(src: &AwsSource, region: &str) -> aws_sdk_ecr::Client {
    if region == src.region {
        return src.ecr.clone();
    }
    aws_sdk_ecr::Client::from_conf(
        src.ecr
            .config()
            .to_builder()
            .region(aws_sdk_ecr::config::Region::new(region.to_string()))
            .build(),
    )
}

/// The repositories of the images, each read or carrying why not. Err when
/// none could be read (ECR as a whole was not).
pub async fn fetch_repositories(
    src: &AwsSource,
    base: &FleetSnapshot,
) -> Result<Vec<EcrRepository>, String> {
    let wanted = image_repositories(base);
    let mut by_place: BTreeMap<(&str, &str), Vec<&str>> = BTreeMap::new();
    for (a, r, n) in &wanted {
        by_place.entry((a, r)).or_default().push(n);
    }
    let mut out = Vec::new();
    for ((account, region), names) in by_place {
        let ecr = client_in(src, region);
        for batch in names.chunks(NAMES_PER_CALL) {
            let repo = |name: &str| EcrRepository {
                uri: format!("{account}.dkr.ecr.{region}.amazonaws.com/{name}"),
                name: name.to_string(),
                account: account.to_string(),
                region: region.to_string(),
                ..Default::default()
            };
            bump(&src.calls.posture);
            let r = ecr
                .describe_repositories()
                .registry_id(account)
                .set_repository_names(Some(batch.iter().map(|s| s.to_string()).collect()))
                .send()
                .await;
            let found = match r {
                Ok(o) => o.repositories().to_vec(),
                // One missing name fails the batch: ask one by one.
                Err(e) if format!("{e:?}").contains("RepositoryNotFound") => {
                    let mut found = vec![];
                    for name in batch {
                        bump(&src.calls.posture);
                        match ecr
                            .describe_repositories()
                            .registry_id(account)
                            .repository_names(*name)
                            .send()
                            .await
                        {
                            Ok(o) => found.extend(o.repositories().iter().cloned()),
                            Err(e) => {
                                let mut r = repo(name);
                                r.unread = Some(
                                    if format!("{e:?}").contains("RepositoryNotFound") {
                                        format!(
                                            "ecr:DescribeRepositories: repository {name} not found in {account} {region}"
                                        )
                                    } else {
                                        describe_error("ecr:DescribeRepositories", &e)
                                    },
                                );
                                out.push(r);
                            }
                        }
                    }
                    found
                }
                Err(e) => {
                    let why = describe_error("ecr:DescribeRepositories", &e);
                    out.extend(batch.iter().map(|n| EcrRepository {
                        unread: Some(why.clone()),
                        ..repo(n)
                    }));
                    continue;
                }
            };
            for f in found {
                let name = f.repository_name().unwrap_or_default();
                let mut r = repo(name);
                r.scan_on_push = f
                    .image_scanning_configuration()
                    .is_some_and(|c| c.scan_on_push());
                r.tag_mutability = f
                    .image_tag_mutability()
                    .map_or("MUTABLE", |m| m.as_str())
                    .to_string();
                bump(&src.calls.posture);
                match ecr
                    .get_lifecycle_policy()
                    .registry_id(account)
                    .repository_name(name)
                    .send()
                    .await
                {
                    Ok(_) => r.lifecycle_policy = Some(true),
                    Err(e) if format!("{e:?}").contains("LifecyclePolicyNotFound") => {
                        r.lifecycle_policy = Some(false)
                    }
                    Err(e) => r.unread = Some(describe_error("ecr:GetLifecyclePolicy", &e)),
                }
                out.push(r);
            }
        }
    }
    out.sort_by(|a, b| a.uri.cmp(&b.uri));
    if !out.is_empty()
        && let Some(e) = out.iter().find_map(|r| r.unread.clone())
        && out.iter().all(|r| r.unread.is_some())
    {
        return Err(e);
    }
    Ok(out)
}

/// GuardDuty in this source's place: its detector and runtime monitoring.
pub async fn fetch_guardduty(src: &AwsSource) -> Result<GuardDuty, String> {
    let gd = &src.guardduty;
    let mut g = GuardDuty {
        region: src.region.clone(),
        ..Default::default()
    };
    bump(&src.calls.posture);
    let ids = gd
        .list_detectors()
        .send()
        .await
        .map_err(|e| describe_error("guardduty:ListDetectors", &e))?;
    let Some(id) = ids.detector_ids().first() else {
        return Ok(g);
    };
    bump(&src.calls.posture);
    let d = gd
        .get_detector()
        .detector_id(id)
        .send()
        .await
        .map_err(|e| describe_error("guardduty:GetDetector", &e))?;
    g.detector_id = Some(id.clone());
    use aws_sdk_guardduty::types::{FeatureAdditionalConfiguration, FeatureStatus};
    let runtime = d
        .features()
        .iter()
        .find(|f| f.name().is_some_and(|n| n.as_str() == "RUNTIME_MONITORING"));
    g.runtime_monitoring = d.status().is_none_or(|s| s.as_str() == "ENABLED")
        && runtime.is_some_and(|f| f.status() == Some(&FeatureStatus::Enabled));
    g.ecs_fargate_agent = g.runtime_monitoring
        && runtime.is_some_and(|f| {
            f.additional_configuration().iter().any(|a| {
                a.name() == Some(&FeatureAdditionalConfiguration::EcsFargateAgentManagement)
                    && a.status() == Some(&FeatureStatus::Enabled)
            })
        });
    Ok(g)
}
