//! Typed identities. A service is (account, region, cluster, name): twins,
//! the same cluster and service names in two regions or two accounts, are
//! the normal case in DR and never share anything keyed by these ids.
//!
//! The parts are `Arc<str>`: an id clones by bumping counters, compares
//! field by field (short strings), and hashes without allocating.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The account the simulator puts its resources in unless the scenario
/// names another.
pub const DEMO_ACCOUNT: &str = "123456789012";

/// An AWS account id: exactly 12 ASCII digits.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account of an ARN (`arn:partition:service:region:account:resource`),
/// when it has a valid one (IAM and other global ARNs have no region but
/// do have an account).
pub fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    (parts.next()? == "arn").then_some(())?;
    let account = parts.nth(3)?;
    is_account_id(account).then_some(account)
}

/// The region of an ARN, when it has one.
pub fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    (parts.next()? == "arn").then_some(())?;
    let region = parts.nth(2)?;
    (!region.is_empty()).then_some(region)
}

fn part(s: &str) -> Arc<str> {
    Arc::from(s)
}

/// A service: `account/region/cluster/name` qualified, `cluster/name` short.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId {
    pub account: Arc<str>,
    pub region: Arc<str>,
    pub cluster: Arc<str>,
    pub name: Arc<str>,
}

impl ServiceId {
    pub fn new(account: &str, region: &str, cluster: &str, name: &str) -> ServiceId {
        ServiceId {
            account: part(account),
            region: part(region),
            cluster: part(cluster),
            name: part(name),
        }
    }

    /// `cluster/name`: what the console shows when the fleet spans one
    /// account and one region.
    pub fn short(&self) -> String {
        format!("{}/{}", self.cluster, self.name)
    }

    /// `account/region/cluster/name`.
    pub fn qualified(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.account, self.region, self.cluster, self.name
        )
    }

    /// Parse [`ServiceId::qualified`].
    pub fn parse_qualified(s: &str) -> Option<ServiceId> {
        let mut it = s.splitn(4, '/');
        let (a, r, c, n) = (it.next()?, it.next()?, it.next()?, it.next()?);
        (!c.is_empty() && !n.is_empty() && !n.contains('/')).then(|| ServiceId::new(a, r, c, n))
    }

    /// Same account, region and cluster.
    pub fn cluster_id(&self) -> ClusterId {
        ClusterId {
            account: self.account.clone(),
            region: self.region.clone(),
            name: self.cluster.clone(),
        }
    }

    /// Its Application Auto Scaling target.
    pub fn scalable_target_id(&self) -> ScalableTargetId {
        ScalableTargetId {
            account: self.account.clone(),
            region: self.region.clone(),
            resource_id: part(&format!("service/{}/{}", self.cluster, self.name)),
        }
    }

    /// Matches a short key (`cluster/name`).
    pub fn has_short(&self, key: &str) -> bool {
        key.len() == self.cluster.len() + 1 + self.name.len()
            && key.starts_with(&*self.cluster)
            && key.as_bytes()[self.cluster.len()] == b'/'
            && key.ends_with(&*self.name)
    }
}

/// The short form (`cluster/name`).
impl fmt::Display for ServiceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.cluster, self.name)
    }
}

/// Serialized as the qualified string, so a map keyed by ids stays a JSON
/// object.
impl Serialize for ServiceId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.qualified())
    }
}

impl<'de> Deserialize<'de> for ServiceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ServiceId::parse_qualified(&s).ok_or_else(|| {
            serde::de::Error::custom(format!("not an account/region/cluster/service id: {s}"))
        })
    }
}

/// A cluster: (account, region, name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClusterId {
    pub account: Arc<str>,
    pub region: Arc<str>,
    pub name: Arc<str>,
}

impl ClusterId {
    pub fn new(account: &str, region: &str, name: &str) -> ClusterId {
        ClusterId {
            account: part(account),
            region: part(region),
            name: part(name),
        }
    }
}

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A CloudWatch alarm: (account, region, name); alarm names are unique
/// per account and region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AlarmId {
    pub account: Arc<str>,
    pub region: Arc<str>,
    pub name: Arc<str>,
}

impl AlarmId {
    pub fn new(account: &str, region: &str, name: &str) -> AlarmId {
        AlarmId {
            account: part(account),
            region: part(region),
            name: part(name),
        }
    }
}

impl fmt::Display for AlarmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A target group: its ARN, which already carries account and region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TargetGroupId(pub Arc<str>);

impl TargetGroupId {
    pub fn new(arn: &str) -> TargetGroupId {
        TargetGroupId(part(arn))
    }
    pub fn account(&self) -> Option<&str> {
        arn_account(&self.0)
    }
    pub fn region(&self) -> Option<&str> {
        arn_region(&self.0)
    }
}

impl fmt::Display for TargetGroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A CloudWatch Logs group: (account, region, name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogGroupId {
    pub account: Arc<str>,
    pub region: Arc<str>,
    pub name: Arc<str>,
}

impl LogGroupId {
    pub fn new(account: &str, region: &str, name: &str) -> LogGroupId {
        LogGroupId {
            account: part(account),
            region: part(region),
            name: part(name),
        }
    }
}

impl fmt::Display for LogGroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// An Application Auto Scaling target: (account, region, resource id
/// `service/<cluster>/<service>`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScalableTargetId {
    pub account: Arc<str>,
    pub region: Arc<str>,
    pub resource_id: Arc<str>,
}

impl ScalableTargetId {
    pub fn new(account: &str, region: &str, resource_id: &str) -> ScalableTargetId {
        ScalableTargetId {
            account: part(account),
            region: part(region),
            resource_id: part(resource_id),
        }
    }

    /// The ECS service it scales, when it is an ECS service's target.
    pub fn service_id(&self) -> Option<ServiceId> {
        let (c, s) = self.resource_id.strip_prefix("service/")?.split_once('/')?;
        Some(ServiceId::new(&self.account, &self.region, c, s))
    }
}

impl fmt::Display for ScalableTargetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.resource_id)
    }
}

/// The ids of the model's resources.
mod of_resources {
    use super::*;
    use crate::model::{Alarm, Cluster, LogGroup, ScalableTarget, TargetGroup};

    impl Cluster {
        pub fn id(&self) -> ClusterId {
            ClusterId::new(&self.account, &self.region, &self.name)
        }
    }

    impl Alarm {
        pub fn id(&self) -> AlarmId {
            AlarmId::new(&self.account, &self.region, &self.name)
        }

        /// The service this alarm concerns, in the alarm's own account and
        /// region.
        pub fn service_id(&self) -> Option<ServiceId> {
            let (c, s) = self.service_key.as_deref()?.split_once('/')?;
            Some(ServiceId::new(&self.account, &self.region, c, s))
        }
    }

    impl TargetGroup {
        pub fn id(&self) -> TargetGroupId {
            TargetGroupId::new(&self.arn)
        }
    }

    impl LogGroup {
        pub fn id(&self) -> LogGroupId {
            LogGroupId::new(&self.account, &self.region, &self.name)
        }
    }

    impl ScalableTarget {
        pub fn id(&self) -> ScalableTargetId {
            ScalableTargetId::new(&self.account, &self.region, &self.resource_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twins_differ_by_region_and_by_account_and_order_by_account_first() {
        let east = ServiceId::new("111111111111", "us-east-1", "prod", "api");
        let west = ServiceId::new("111111111111", "us-west-2", "prod", "api");
        let other = ServiceId::new("222222222222", "us-east-1", "prod", "api");
        assert_ne!(east, west);
        assert_ne!(east, other);
        assert_eq!(east.to_string(), west.to_string());
        assert_eq!(east.short(), "prod/api");
        assert!(east < west && west < other);
        let mut set = std::collections::HashSet::new();
        set.extend([east.clone(), west.clone(), other.clone(), east.clone()]);
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn qualified_round_trips_and_bad_ids_are_refused() {
        let id = ServiceId::new("111111111111", "eu-west-1", "prod", "api");
        assert_eq!(id.qualified(), "111111111111/eu-west-1/prod/api");
        assert_eq!(
            ServiceId::parse_qualified(&id.qualified()),
            Some(id.clone())
        );
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"111111111111/eu-west-1/prod/api\"");
        assert_eq!(serde_json::from_str::<ServiceId>(&json).unwrap(), id);
        assert_eq!(ServiceId::parse_qualified("prod/api"), None);
        assert_eq!(ServiceId::parse_qualified("a/b/c/d/e"), None);
        assert!(serde_json::from_str::<ServiceId>("\"x\"").is_err());
    }

    #[test]
    fn short_keys_match_exactly() {
        let id = ServiceId::new("111111111111", "us-east-1", "prod", "api");
        assert!(id.has_short("prod/api"));
        assert!(!id.has_short("prod/apj"));
        assert!(!id.has_short("prod-api"));
        assert!(!id.has_short("pro/dapi"));
        assert!(!id.has_short("prod/api2"));
    }

    #[test]
    fn accounts_and_regions_come_from_arns() {
        let arn = "arn:aws:ecs:us-west-2:210987654321:service/prod/api";
        assert_eq!(arn_account(arn), Some("210987654321"));
        assert_eq!(arn_region(arn), Some("us-west-2"));
        assert_eq!(
            arn_account("arn:aws:iam::123456789012:role/x"),
            Some("123456789012")
        );
        assert_eq!(arn_region("arn:aws:iam::123456789012:role/x"), None);
        assert_eq!(arn_account("arn:aws:iam::aws:policy/Admin"), None);
        assert_eq!(arn_account("not-an-arn"), None);
        assert_eq!(arn_account(""), None);
        assert!(is_account_id(DEMO_ACCOUNT));
        assert!(!is_account_id("12345678901"));
        assert!(!is_account_id("12345678901x"));
    }

    #[test]
    fn scalable_targets_know_their_service() {
        let t = ScalableTargetId::new("111111111111", "us-west-2", "service/prod/api");
        assert_eq!(
            t.service_id(),
            Some(ServiceId::new("111111111111", "us-west-2", "prod", "api"))
        );
        let id = ServiceId::new("111111111111", "us-west-2", "prod", "api");
        assert_eq!(id.scalable_target_id(), t);
        assert_eq!(
            ScalableTargetId::new("1", "r", "table/x").service_id(),
            None
        );
    }
}
