//! The DR data tier: `rds.replication` reads an Aurora Global Database or
//! an RDS read replica from the standby region (members, the writer, the
//! replication lag that is the RPO of a failover now); `rds.promote` moves
//! the writer there (FailoverGlobalCluster allowing data loss in an outage,
//! SwitchoverGlobalCluster for a planned drill, PromoteReadReplica /
//! PromoteReadReplicaDBCluster for a replica). The model is
//! [`crate::model::database`], the same for the simulator and AWS.

use aws_sdk_cloudwatch::types::{Dimension, Statistic};
use aws_sdk_rds::operation::RequestId;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall};
use crate::model::database::{
    self, DbMember, DbState, GLOBAL_CLUSTER, Promotion, READ_REPLICA, REPLICA_CLUSTER,
};

/// The region of an RDS ARN (`arn:aws:rds:us-west-2:…`).
pub fn arn_region(arn: &str) -> Option<&str> {
    let mut p = arn.split(':');
    (p.next()? == "arn").then_some(())?;
    p.next()?;
    (p.next()? == "rds").then_some(())?;
    p.next().filter(|r| !r.is_empty())
}

/// The identifier at the end of an RDS ARN (or the text itself).
pub fn arn_id(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

// ------------------------------------------------------------ read

pub struct Replication;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationCall {
    /// `global-cluster` or `replica` (an instance or a cluster: read says).
    pub kind: String,
    pub id: String,
}

impl CallArgs for ReplicationCall {
    const KIND: &'static str = "RdsReplication";
}

impl RunbookAction for Replication {
    fn op(&self) -> &'static str {
        "rds.replication"
    }
    fn mutates(&self) -> bool {
        false
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(ReplicationCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "rds:DescribeGlobalClusters"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[
            ("global_cluster", FieldKind::Text),
            ("db_replica", FieldKind::Text),
        ]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        if !f.has("global_cluster") && !f.has("db_replica") {
            return Err(FieldError::missing(self.op(), "global_cluster"));
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let g = p.text("global_cluster")?.unwrap_or_default();
        let r = p.text("db_replica")?.unwrap_or_default();
        let call = match (g.trim(), r.trim()) {
            ("", "") => return Err("rds.replication: no global_cluster or db_replica".into()),
            (g, "") => ReplicationCall {
                kind: GLOBAL_CLUSTER.into(),
                id: g.into(),
            },
            ("", r) => ReplicationCall {
                kind: "replica".into(),
                id: r.into(),
            },
            _ => return Err("give global_cluster or db_replica, not both".into()),
        };
        Ok(vec![PlannedCall::new(p.target.clone(), &call)])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        match c.args::<ReplicationCall>() {
            Some(a) => format!("read {} {} and its replication lag", a.kind, a.id),
            None => "read the data tier".into(),
        }
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c
            .args::<ReplicationCall>()
            .ok_or("malformed RdsReplication call")?;
        let (_, region) = c.target.place();
        let s = sim.db_state(&a.id, region.unwrap_or_default())?;
        serde_json::to_value(s).map_err(|e| e.to_string())
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c
                .args::<ReplicationCall>()
                .ok_or("malformed RdsReplication call")?;
            let mut ids = vec![];
            let region = c.target.place().1.unwrap_or_default().to_string();
            let s = if a.kind == GLOBAL_CLUSTER {
                read_global(aws, &a.id, &region, &mut ids).await?
            } else {
                read_replica(aws, &a.id, &region, &mut ids).await?
            };
            Ok(CallOutput {
                request_ids: ids,
                detail: serde_json::to_value(s).map_err(|e| e.to_string())?,
            })
        }
        .boxed()
    }
}

/// A member's status, read in its own region (`unreachable` when that
/// region does not answer, which is what a region outage looks like).
async fn cluster_status(
    aws: &AwsClients<'_>,
    arn: &str,
    region: &str,
    ids: &mut Vec<String>,
) -> String {
    let Some(rds) = (aws.rds_in)(region) else {
        return format!("not read ({region} is not connected)");
    };
    match rds
        .describe_db_clusters()
        .db_cluster_identifier(arn)
        .send()
        .await
    {
        Ok(o) => {
            ids.extend(super::request_ids(o.request_id()));
            o.db_clusters()
                .first()
                .and_then(|c| c.status())
                .unwrap_or("unknown")
                .to_string()
        }
        Err(e) => format!("unreachable ({})", aws.err("rds:DescribeDBClusters", &e)),
    }
}

async fn instance_status(
    aws: &AwsClients<'_>,
    id: &str,
    region: &str,
    ids: &mut Vec<String>,
) -> String {
    let Some(rds) = (aws.rds_in)(region) else {
        return format!("not read ({region} is not connected)");
    };
    match rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
    {
        Ok(o) => {
            ids.extend(super::request_ids(o.request_id()));
            o.db_instances()
                .first()
                .and_then(|c| c.db_instance_status())
                .unwrap_or("unknown")
                .to_string()
        }
        Err(e) => format!("unreachable ({})", aws.err("rds:DescribeDBInstances", &e)),
    }
}

/// The latest datapoint of an RDS lag metric in seconds (`scale`: what one
/// unit is in seconds), from the last 10 minutes; `Err`: why not measured.
async fn lag(
    aws: &AwsClients<'_>,
    metric: &str,
    dim: &str,
    id: &str,
    scale: f64,
    ids: &mut Vec<String>,
) -> Result<f64, String> {
    let now = std::time::SystemTime::now();
    let start = now - std::time::Duration::from_secs(600);
    let out = aws
        .cw
        .get_metric_statistics()
        .namespace("AWS/RDS")
        .metric_name(metric)
        .dimensions(Dimension::builder().name(dim).value(id).build())
        .start_time(start.into())
        // Past now: the current minute's datapoint is the freshest lag.
        .end_time((now + std::time::Duration::from_secs(60)).into())
        .period(60)
        .statistics(Statistic::Maximum)
        .send()
        .await
        .map_err(|e| aws.err("cloudwatch:GetMetricStatistics", &e))?;
    ids.extend(aws_sdk_cloudwatch::operation::RequestId::request_id(&out).map(str::to_string));
    out.datapoints()
        .iter()
        .filter_map(|d| Some((d.timestamp()?.secs(), d.maximum()?)))
        .max_by_key(|(t, _)| *t)
        .map(|(_, v)| v * scale)
        .ok_or_else(|| format!("{metric}: no datapoints in the last 10 minutes"))
}

fn put_lag(s: &mut DbState, r: Result<f64, String>, metric: &str) {
    match r {
        Ok(v) => {
            s.lag_seconds = Some(v);
            s.lag_source = Some(metric.into());
        }
        Err(e) => s.lag_source = Some(format!("not measured: {e}")),
    }
}

async fn read_global(
    aws: &AwsClients<'_>,
    id: &str,
    standby: &str,
    ids: &mut Vec<String>,
) -> Result<DbState, String> {
    let out = aws
        .rds
        .describe_global_clusters()
        .global_cluster_identifier(id)
        .send()
        .await
        .map_err(|e| aws.err("rds:DescribeGlobalClusters", &e))?;
    ids.extend(super::request_ids(out.request_id()));
    let g = out
        .global_clusters()
        .first()
        .ok_or_else(|| format!("rds:DescribeGlobalClusters: no global cluster {id}"))?;
    let mut members = vec![];
    for m in g.global_cluster_members() {
        let arn = m.db_cluster_arn().unwrap_or_default();
        let region = arn_region(arn).unwrap_or(standby).to_string();
        let status = cluster_status(aws, arn, &region, ids).await;
        members.push(DbMember {
            region,
            id: arn_id(arn).to_string(),
            arn: Some(arn.to_string()),
            writer: m.is_writer().unwrap_or(false),
            status,
        });
    }
    let status = g.status().unwrap_or("unknown").to_string();
    let failing_over = g.failover_state().is_some_and(|f| f.status().is_some());
    let writer_available = members.iter().any(|m| m.writer && m.status == "available");
    let mut s = DbState {
        kind: GLOBAL_CLUSTER.into(),
        id: id.into(),
        writable_in: members
            .iter()
            .find(|m| m.writer && m.status == "available")
            .filter(|_| status == "available" && !failing_over)
            .map(|m| m.region.clone()),
        members,
        status,
        lag_seconds: None,
        lag_source: None,
        writer_available,
    };
    if let Some(m) = s.member_in(standby).filter(|m| !m.writer).cloned() {
        let mut r = lag(
            aws,
            "AuroraGlobalDBRPOLag",
            "DBClusterIdentifier",
            &m.id,
            0.001,
            ids,
        )
        .await;
        let mut metric = "AuroraGlobalDBRPOLag";
        if r.is_err() {
            // Engines before Aurora MySQL 3 / PostgreSQL 12 publish only this.
            r = lag(
                aws,
                "AuroraGlobalDBReplicationLag",
                "DBClusterIdentifier",
                &m.id,
                0.001,
                ids,
            )
            .await;
            metric = "AuroraGlobalDBReplicationLag";
        }
        put_lag(&mut s, r, metric);
    }
    Ok(s)
}

async fn read_replica(
    aws: &AwsClients<'_>,
    id: &str,
    standby: &str,
    ids: &mut Vec<String>,
) -> Result<DbState, String> {
    match aws
        .rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
    {
        Ok(out) => {
            ids.extend(super::request_ids(out.request_id()));
            let db = out
                .db_instances()
                .first()
                .ok_or_else(|| format!("rds:DescribeDBInstances: no DB instance {id}"))?;
            let status = db.db_instance_status().unwrap_or("unknown").to_string();
            let source = db
                .read_replica_source_db_instance_identifier()
                .map(str::to_string);
            let mut members = vec![];
            if let Some(src) = &source {
                let region = arn_region(src).unwrap_or(standby).to_string();
                let st = instance_status(aws, arn_id(src), &region, ids).await;
                members.push(DbMember {
                    region,
                    id: arn_id(src).to_string(),
                    arn: Some(src.clone()),
                    writer: true,
                    status: st,
                });
            }
            members.push(DbMember {
                region: standby.into(),
                id: id.into(),
                arn: db.db_instance_arn().map(str::to_string),
                writer: source.is_none(),
                status: status.clone(),
            });
            let mut s = replica_state(READ_REPLICA, id, members, status);
            if source.is_some() {
                let r = lag(aws, "ReplicaLag", "DBInstanceIdentifier", id, 1.0, ids).await;
                put_lag(&mut s, r, "ReplicaLag");
            }
            Ok(s)
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_db_instance_not_found_fault()) =>
        {
            read_replica_cluster(aws, id, standby, ids).await
        }
        Err(e) => Err(aws.err("rds:DescribeDBInstances", &e)),
    }
}

async fn read_replica_cluster(
    aws: &AwsClients<'_>,
    id: &str,
    standby: &str,
    ids: &mut Vec<String>,
) -> Result<DbState, String> {
    let out = aws
        .rds
        .describe_db_clusters()
        .db_cluster_identifier(id)
        .send()
        .await
        .map_err(|e| aws.err("rds:DescribeDBClusters", &e))?;
    ids.extend(super::request_ids(out.request_id()));
    let c = out
        .db_clusters()
        .first()
        .ok_or_else(|| format!("no DB instance or DB cluster {id}"))?;
    let status = c.status().unwrap_or("unknown").to_string();
    let source = c.replication_source_identifier().map(str::to_string);
    let mut members = vec![];
    if let Some(src) = &source {
        let region = arn_region(src).unwrap_or(standby).to_string();
        let st = cluster_status(aws, src, &region, ids).await;
        members.push(DbMember {
            region,
            id: arn_id(src).to_string(),
            arn: Some(src.clone()),
            writer: true,
            status: st,
        });
    }
    members.push(DbMember {
        region: standby.into(),
        id: id.into(),
        arn: c.db_cluster_arn().map(str::to_string),
        writer: source.is_none(),
        status: status.clone(),
    });
    let mut s = replica_state(REPLICA_CLUSTER, id, members, status);
    if source.is_some() {
        let r = lag(
            aws,
            "AuroraBinlogReplicaLag",
            "DBClusterIdentifier",
            id,
            1.0,
            ids,
        )
        .await;
        put_lag(&mut s, r, "AuroraBinlogReplicaLag");
    }
    Ok(s)
}

/// A replica's state: the source writes while it is available; once
/// promoted, the replica does.
pub fn replica_state(kind: &str, id: &str, members: Vec<DbMember>, status: String) -> DbState {
    let writer = members.iter().find(|m| m.writer);
    let writer_available = writer.is_some_and(|w| w.status == "available");
    DbState {
        kind: kind.into(),
        id: id.into(),
        writable_in: writer
            .filter(|w| w.status == "available")
            .map(|w| w.region.clone()),
        members,
        status,
        lag_seconds: None,
        lag_source: None,
        writer_available,
    }
}

// ------------------------------------------------------------ promote

pub struct Promote;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PromoteCall {
    /// `None`: the standby already takes writes.
    pub promotion: Option<Promotion>,
    pub to_region: String,
    pub id: String,
}

impl CallArgs for PromoteCall {
    const KIND: &'static str = "RdsPromote";
}

impl RunbookAction for Promote {
    fn op(&self) -> &'static str {
        "rds.promote"
    }
    fn mutates(&self) -> bool {
        true
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(PromoteCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "rds:FailoverGlobalCluster/SwitchoverGlobalCluster/PromoteReadReplica"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[
            ("state", FieldKind::Any),
            ("to_region", FieldKind::Text),
            ("mode", FieldKind::Text),
        ]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        for k in ["state", "to_region"] {
            if !f.has(k) {
                return Err(FieldError::missing(self.op(), k));
            }
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let v = (p.resolve)(p.fields.get("state").ok_or("no state")?)?;
        let s: DbState = serde_json::from_value(v)
            .map_err(|e| format!("`state` is not an rds.replication answer: {e}"))?;
        let to = p.text("to_region")?.unwrap_or_default();
        let mode = p.text("mode")?.unwrap_or_else(|| "auto".into());
        let promotion =
            database::promotion(&s, &to, mode.trim()).map_err(|e| format!("refused: {e}"))?;
        Ok(vec![PlannedCall::new(
            p.target.clone(),
            &PromoteCall {
                promotion,
                to_region: to,
                id: s.id,
            },
        )])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        match c.args::<PromoteCall>() {
            Some(PromoteCall {
                promotion: Some(p), ..
            }) => format!(
                "RDS {} {}: writer {} → {} ({}){}: {}",
                p.api,
                p.id,
                p.from_region.as_deref().unwrap_or("(none)"),
                p.target_region,
                arn_id(&p.target),
                if p.allow_data_loss {
                    ", AllowDataLoss"
                } else {
                    ""
                },
                p.why
            ),
            Some(a) => format!("RDS {} already takes writes in {}", a.id, a.to_region),
            None => "promote the data tier".into(),
        }
    }
    fn is_noop(&self, c: &PlannedCall) -> bool {
        c.args::<PromoteCall>()
            .is_some_and(|a| a.promotion.is_none())
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c.args::<PromoteCall>().ok_or("malformed RdsPromote call")?;
        let p = a.promotion.ok_or("nothing to promote")?;
        sim.db_promote(&p)
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c.args::<PromoteCall>().ok_or("malformed RdsPromote call")?;
            let p = a.promotion.ok_or("nothing to promote")?;
            let rds = aws.rds;
            let (rid, status) = match p.api.as_str() {
                "FailoverGlobalCluster" => {
                    let o = rds
                        .failover_global_cluster()
                        .global_cluster_identifier(&p.id)
                        .target_db_cluster_identifier(&p.target)
                        .allow_data_loss(p.allow_data_loss)
                        .send()
                        .await
                        .map_err(|e| aws.err("rds:FailoverGlobalCluster", &e))?;
                    (
                        o.request_id().map(str::to_string),
                        o.global_cluster()
                            .and_then(|g| g.status())
                            .map(str::to_string),
                    )
                }
                "SwitchoverGlobalCluster" => {
                    let o = rds
                        .switchover_global_cluster()
                        .global_cluster_identifier(&p.id)
                        .target_db_cluster_identifier(&p.target)
                        .send()
                        .await
                        .map_err(|e| aws.err("rds:SwitchoverGlobalCluster", &e))?;
                    (
                        o.request_id().map(str::to_string),
                        o.global_cluster()
                            .and_then(|g| g.status())
                            .map(str::to_string),
                    )
                }
                "PromoteReadReplica" => {
                    let o = rds
                        .promote_read_replica()
                        .db_instance_identifier(&p.target)
                        .send()
                        .await
                        .map_err(|e| aws.err("rds:PromoteReadReplica", &e))?;
                    (
                        o.request_id().map(str::to_string),
                        o.db_instance()
                            .and_then(|d| d.db_instance_status())
                            .map(str::to_string),
                    )
                }
                "PromoteReadReplicaDBCluster" => {
                    let o = rds
                        .promote_read_replica_db_cluster()
                        .db_cluster_identifier(&p.target)
                        .send()
                        .await
                        .map_err(|e| aws.err("rds:PromoteReadReplicaDBCluster", &e))?;
                    (
                        o.request_id().map(str::to_string),
                        o.db_cluster().and_then(|d| d.status()).map(str::to_string),
                    )
                }
                other => return Err(format!("unknown promotion {other}")),
            };
            Ok(CallOutput {
                request_ids: rid.into_iter().collect(),
                detail: json!({"api": p.api, "id": p.id, "target": p.target, "status": status}),
            })
        }
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_their_region_and_id() {
        let a = "arn:aws:rds:us-west-2:123456789012:cluster:shop-west";
        assert_eq!(arn_region(a), Some("us-west-2"));
        assert_eq!(arn_id(a), "shop-west");
        assert_eq!(arn_region("shop-west"), None);
        assert_eq!(arn_id("shop-west"), "shop-west");
    }
}
