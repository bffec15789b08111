//! The data tier of a DR run: an Aurora Global Database or an RDS read
//! replica, as `rds.replication` reads it from the simulator or AWS, and
//! how `rds.promote` moves its writer to the standby region.

use serde::{Deserialize, Serialize};

/// What kind of replication the identifier names.
pub const GLOBAL_CLUSTER: &str = "global-cluster";
/// An RDS DB instance read replica (PromoteReadReplica).
pub const READ_REPLICA: &str = "read-replica";
/// An Aurora/Multi-AZ DB cluster read replica (PromoteReadReplicaDBCluster).
pub const REPLICA_CLUSTER: &str = "replica-cluster";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DbMember {
    pub region: String,
    /// Cluster or instance identifier (not the ARN).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    pub writer: bool,
    /// `available`, `failing-over`, `modifying`, `unreachable` …
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DbState {
    pub kind: String,
    /// The global cluster's identifier, or the replica's.
    pub id: String,
    pub members: Vec<DbMember>,
    /// The global cluster's status (or the replica's).
    pub status: String,
    /// The region that takes writes now: `None` while none does (a
    /// failover in progress, the writer's region unreachable).
    #[serde(default)]
    pub writable_in: Option<String>,
    /// The replication lag of the member in the standby region, seconds:
    /// the data a failover now would lose. `None`: not measured (the
    /// metric could not be read or has no datapoints), never 0.
    #[serde(default)]
    pub lag_seconds: Option<f64>,
    /// The metric it came from (`AuroraGlobalDBRPOLag`,
    /// `AuroraGlobalDBReplicationLag`, `ReplicaLag`) or why it is missing.
    #[serde(default)]
    pub lag_source: Option<String>,
    /// Whether the writer could be read and is available.
    pub writer_available: bool,
}

impl DbState {
    pub fn writer(&self) -> Option<&DbMember> {
        self.members.iter().find(|m| m.writer)
    }
    pub fn member_in(&self, region: &str) -> Option<&DbMember> {
        self.members.iter().find(|m| m.region == region)
    }
}

/// One promotion call, as `rds.promote` plans it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Promotion {
    /// `FailoverGlobalCluster`, `SwitchoverGlobalCluster`,
    /// `PromoteReadReplica`, `PromoteReadReplicaDBCluster`.
    pub api: String,
    pub id: String,
    /// The member that becomes the writer (its ARN for a global cluster).
    pub target: String,
    pub target_region: String,
    pub from_region: Option<String>,
    pub allow_data_loss: bool,
    /// Why this call (the mode and what the read showed).
    pub why: String,
}

/// How the writer moves to `to`. `mode`: `auto` (a switchover while the
/// writer is available, else a failover that allows data loss),
/// `switchover`, or `failover`. `Ok(None)`: `to` already takes writes.
pub fn promotion(s: &DbState, to: &str, mode: &str) -> Result<Option<Promotion>, String> {
    if s.kind == GLOBAL_CLUSTER
        && s.writable_in.as_deref() == Some(to)
        && s.writer().is_some_and(|w| w.region == to)
    {
        return Ok(None);
    }
    // A replica is promoted where it is; a global cluster's member in `to`.
    let replica = matches!(s.kind.as_str(), READ_REPLICA | REPLICA_CLUSTER);
    let member = if replica {
        let m = s
            .members
            .iter()
            .find(|m| m.id == s.id)
            .ok_or_else(|| format!("{} {} is not among its members", s.kind, s.id))?;
        if m.region != to {
            return Err(format!(
                "{} {} is in {}, not in {to}",
                s.kind, s.id, m.region
            ));
        }
        Some(m)
    } else {
        s.member_in(to)
    };
    let member = member.ok_or_else(|| {
        format!(
            "{} {} has no member in {to} (members: {})",
            s.kind,
            s.id,
            s.members
                .iter()
                .map(|m| format!("{} in {}", m.id, m.region))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    let from = s.writer().map(|w| w.region.clone());
    let lag = match s.lag_seconds {
        Some(l) => format!("replication lag {l:.1} s"),
        None => "replication lag not measured".into(),
    };
    let (api, allow, why) = match (s.kind.as_str(), mode) {
        (GLOBAL_CLUSTER, "switchover") => (
            "SwitchoverGlobalCluster",
            false,
            "planned switchover, no data loss".to_string(),
        ),
        (GLOBAL_CLUSTER, "failover") => (
            "FailoverGlobalCluster",
            true,
            format!("failover allowing data loss ({lag})"),
        ),
        (GLOBAL_CLUSTER, "auto") if s.writer_available => (
            "SwitchoverGlobalCluster",
            false,
            "the writer is available: planned switchover, no data loss".to_string(),
        ),
        (GLOBAL_CLUSTER, "auto") => (
            "FailoverGlobalCluster",
            true,
            format!("the writer is not available: failover allowing data loss ({lag})"),
        ),
        (READ_REPLICA, _) => (
            "PromoteReadReplica",
            false,
            format!("the replica becomes a standalone writer, no way back to replication ({lag})"),
        ),
        (REPLICA_CLUSTER, _) => (
            "PromoteReadReplicaDBCluster",
            false,
            format!(
                "the replica cluster becomes a standalone writer, no way back to replication ({lag})"
            ),
        ),
        (k, m) => {
            return Err(format!(
                "cannot promote {k} with db_failover = {m:?} (auto, switchover or failover)"
            ));
        }
    };
    if replica && member.writer {
        return Ok(None);
    }
    Ok(Some(Promotion {
        api: api.into(),
        id: s.id.clone(),
        target: if s.kind == GLOBAL_CLUSTER {
            member.arn.clone().unwrap_or_else(|| member.id.clone())
        } else {
            member.id.clone()
        },
        target_region: to.into(),
        from_region: from,
        allow_data_loss: allow,
        why,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(writer_available: bool) -> DbState {
        DbState {
            kind: GLOBAL_CLUSTER.into(),
            id: "shop".into(),
            members: vec![
                DbMember {
                    region: "us-east-1".into(),
                    id: "shop-east".into(),
                    arn: Some("arn:aws:rds:us-east-1:1:cluster:shop-east".into()),
                    writer: true,
                    status: "available".into(),
                },
                DbMember {
                    region: "us-west-2".into(),
                    id: "shop-west".into(),
                    arn: Some("arn:aws:rds:us-west-2:1:cluster:shop-west".into()),
                    writer: false,
                    status: "available".into(),
                },
            ],
            status: "available".into(),
            writable_in: writer_available.then(|| "us-east-1".into()),
            lag_seconds: Some(1.2),
            lag_source: Some("AuroraGlobalDBRPOLag".into()),
            writer_available,
        }
    }

    #[test]
    fn auto_switches_over_while_the_writer_is_up_and_fails_over_when_it_is_not() {
        let p = promotion(&global(true), "us-west-2", "auto")
            .unwrap()
            .unwrap();
        assert_eq!(p.api, "SwitchoverGlobalCluster");
        assert!(!p.allow_data_loss);
        assert_eq!(p.target, "arn:aws:rds:us-west-2:1:cluster:shop-west");
        let p = promotion(&global(false), "us-west-2", "auto")
            .unwrap()
            .unwrap();
        assert_eq!(p.api, "FailoverGlobalCluster");
        assert!(p.allow_data_loss);
        assert!(p.why.contains("1.2 s"), "{}", p.why);
    }

    #[test]
    fn the_writer_already_there_is_no_change_and_a_missing_member_is_named() {
        let mut s = global(true);
        s.members[0].writer = false;
        s.members[1].writer = true;
        s.writable_in = Some("us-west-2".into());
        assert_eq!(promotion(&s, "us-west-2", "auto").unwrap(), None);
        let e = promotion(&global(true), "eu-west-1", "auto").unwrap_err();
        assert!(e.contains("no member in eu-west-1"), "{e}");
        assert!(promotion(&global(true), "us-west-2", "sideways").is_err());
    }

    #[test]
    fn a_replica_is_promoted_where_it_is_even_beside_its_source() {
        let m = |id: &str, writer: bool| DbMember {
            region: "us-west-2".into(),
            id: id.into(),
            arn: None,
            writer,
            status: "available".into(),
        };
        let s = DbState {
            kind: READ_REPLICA.into(),
            id: "shop-replica".into(),
            members: vec![m("shop", true), m("shop-replica", false)],
            status: "available".into(),
            writable_in: Some("us-west-2".into()),
            lag_seconds: Some(3.0),
            lag_source: Some("ReplicaLag".into()),
            writer_available: true,
        };
        let p = promotion(&s, "us-west-2", "auto").unwrap().unwrap();
        assert_eq!(
            (p.api.as_str(), p.target.as_str()),
            ("PromoteReadReplica", "shop-replica")
        );
        assert!(
            promotion(&s, "eu-west-1", "auto")
                .unwrap_err()
                .contains("is in us-west-2")
        );
    }
}
