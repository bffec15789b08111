//! EC2 DescribeSubnets: the AZ and free IP count of each subnet the services
//! and tasks use. Subnets rarely change: known ones are re-read every five
//! minutes (for the IP headroom), unknown ones at once.

use std::collections::HashMap;

use aws_sdk_ec2::types::Filter;

use super::{AwsSource, bump, describe_error, now_ms};
use crate::model::Subnet;

/// Subnet ids per DescribeSubnets call (as values of one `subnet-id` filter,
/// which, unlike `SubnetIds`, does not fail the call on a deleted subnet).
pub const SUBNETS_PER_CALL: usize = 100;
const REFRESH_MS: i64 = 5 * 60 * 1000;

pub fn convert(s: &aws_sdk_ec2::types::Subnet) -> Subnet {
    Subnet {
        subnet_id: s.subnet_id().unwrap_or_default().to_string(),
        availability_zone: s.availability_zone().unwrap_or_default().to_string(),
        available_ip_address_count: s.available_ip_address_count().unwrap_or(0),
    }
}

/// The subnets named by `ids`, from the cache or EC2.
pub async fn subnets(src: &AwsSource, ids: &[String]) -> Result<HashMap<String, Subnet>, String> {
    let now = now_ms();
    let mut cache = src.subnets.lock().await;
    let stale = cache.read_at.is_none_or(|at| now - at > REFRESH_MS);
    let mut wanted: Vec<String> = ids
        .iter()
        .filter(|id| stale || !cache.by_id.contains_key(*id))
        .cloned()
        .collect();
    wanted.sort();
    wanted.dedup();
    for batch in wanted.chunks(SUBNETS_PER_CALL) {
        let mut pages = src
            .ec2
            .describe_subnets()
            .filters(
                Filter::builder()
                    .name("subnet-id")
                    .set_values(Some(batch.to_vec()))
                    .build(),
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            bump(&src.calls.ec2);
            let page = page.map_err(|e| describe_error("ec2:DescribeSubnets", &e))?;
            for s in page.subnets() {
                let s = convert(s);
                cache.by_id.insert(s.subnet_id.clone(), s);
            }
        }
    }
    if stale {
        cache.read_at = Some(now);
    }
    Ok(ids
        .iter()
        .filter_map(|id| Some((id.clone(), cache.by_id.get(id)?.clone())))
        .collect())
}

#[derive(Debug, Default)]
pub struct SubnetCache {
    pub by_id: HashMap<String, Subnet>,
    pub read_at: Option<i64>,
}
