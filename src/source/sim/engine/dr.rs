//! What a DR drill touches beyond ECS: Route 53 names whose record sets
//! point at services (health checks follow the services' healthy tasks;
//! traffic goes where Route 53 answers) and databases replicated to a
//! second region with lag (a region lost stops replication; a failover,
//! switchover or promotion takes its time, as RDS does).

use serde_json::{Value, json};

use super::Engine;
use crate::model::database::{
    DbMember, DbState, GLOBAL_CLUSTER, Promotion, READ_REPLICA, REPLICA_CLUSTER,
};
use crate::model::dns::{self, Alias, RecordSet};
use crate::model::{EpochMs, TargetState};
use crate::source::sim::scenario::Scenario;

/// A change is in sync on every Route 53 server this long after it is made.
const DNS_SYNC_MS: i64 = 30_000;
/// A health check changes status after three checks 10 s apart agree
/// (Route 53's fast interval and default failure threshold).
const HEALTH_FLIP_MS: i64 = 30_000;
/// How long RDS takes: a global failover, a switchover, a promotion.
const FAILOVER_MS: i64 = 60_000;
const SWITCHOVER_MS: i64 = 90_000;
const PROMOTE_MS: i64 = 120_000;

#[derive(Debug, Clone)]
pub(crate) struct SimName {
    pub zone: String,
    pub zone_id: String,
    pub name: String,
    pub rps: f64,
    pub sets: Vec<RecordSet>,
    /// Each load balancer's DNS name and health check id → the service.
    pub targets: Vec<(String, usize)>,
    pub checks: Vec<(String, usize)>,
    /// Each health check's status as Route 53 reports it, and since when
    /// the service has disagreed with it.
    pub status: Vec<(String, bool, Option<EpochMs>)>,
}

#[derive(Debug, Clone)]
pub(crate) struct SimDb {
    pub kind: String,
    pub id: String,
    /// (region, id, writer); the writer first at the start.
    pub members: Vec<(String, String, bool)>,
    pub lag_ms: i64,
    /// The lag at the last replicated write (kept when replication stops).
    pub last_lag_ms: i64,
    /// A promotion in progress: the region that becomes the writer, when.
    pub pending: Option<(String, EpochMs, &'static str)>,
    /// A replica once promoted: it replicates no more.
    pub standalone: bool,
}

fn zone_id_of(zone: &str) -> String {
    let h = zone.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("Z{:013X}", h & 0xF_FFFF_FFFF_FFFF)
}

/// The ELB hosted zone id of a region (as Route 53 aliases name it).
fn elb_zone(region: &str) -> String {
    match region {
        "us-east-1" => "Z35SXDOTRQ7X7K",
        "us-west-2" => "Z1H1FL5HABSF5",
        _ => "Z2P70J7HTTTPLU",
    }
    .into()
}

pub(super) fn build_dns(sc: &Scenario, e: &Engine) -> Vec<SimName> {
    sc.dns
        .iter()
        .map(|d| {
            let mut n = SimName {
                zone: crate::actions::route53::fqdn(&d.zone),
                zone_id: d.zone_id.clone().unwrap_or_else(|| zone_id_of(&d.zone)),
                name: crate::actions::route53::fqdn(&d.name),
                rps: 0.0,
                sets: vec![],
                targets: vec![],
                checks: vec![],
                status: vec![],
            };
            let mut rps = 0.0;
            for r in &d.records {
                let (cluster, service) = r.service.get_ref().split_once('/').unwrap_or(("", ""));
                let si = e
                    .service_index_at(r.account.as_deref(), Some(&r.region), cluster, service)
                    .unwrap_or(0);
                rps += e.services[si].base_rps;
                let lb = format!(
                    "dualstack.{cluster}-{service}-alb.{}.elb.amazonaws.com.",
                    r.region
                );
                let hc = r.health_check.then(|| format!("hc-{}-{}", r.region, r.set));
                n.targets.push((lb.clone(), si));
                if let Some(h) = &hc {
                    n.checks.push((h.clone(), si));
                }
                n.sets.push(RecordSet {
                    name: n.name.clone(),
                    rtype: "A".into(),
                    set_identifier: Some(r.set.clone()),
                    failover: r.failover.as_ref().map(|f| f.get_ref().clone()),
                    weight: r.weight,
                    ttl: None,
                    values: vec![],
                    alias: Some(Alias {
                        dns_name: lb,
                        hosted_zone_id: elb_zone(&r.region),
                        evaluate_target_health: true,
                    }),
                    health_check_id: hc,
                    region: Some(r.region.clone()),
                    healthy: None,
                });
            }
            n.rps = d.rps.unwrap_or(rps);
            n
        })
        .collect()
}

pub(super) fn build_dbs(sc: &Scenario) -> Vec<SimDb> {
    sc.databases
        .iter()
        .map(|d| {
            let lag_ms = humantime::parse_duration(d.lag.get_ref())
                .map(|x| x.as_millis() as i64)
                .unwrap_or(1000);
            let kind = d.kind.get_ref().clone();
            SimDb {
                id: match &d.id {
                    Some(id) if kind == GLOBAL_CLUSTER => id.clone(),
                    _ => d.reader.id.clone(),
                },
                kind,
                members: vec![
                    (d.writer.region.clone(), d.writer.id.clone(), true),
                    (d.reader.region.clone(), d.reader.id.clone(), false),
                ],
                lag_ms,
                last_lag_ms: lag_ms,
                pending: None,
                standalone: false,
            }
        })
        .collect()
}

impl Engine {
    /// Every AZ of `region` the scenario knows is impaired: the region is lost.
    pub(crate) fn region_down(&self, region: &str) -> bool {
        let mut azs = self
            .azs
            .iter()
            .filter(|a| a.strip_prefix(region).is_some_and(|t| t.len() == 1))
            .peekable();
        azs.peek().is_some() && azs.all(|a| self.impaired.contains_key(a.as_str()))
    }

    fn service_healthy(&self, si: usize) -> bool {
        self.services.get(si).is_some_and(|s| {
            s.tasks
                .iter()
                .any(|t| t.task.is_running() && t.target_state == Some(TargetState::Healthy))
        })
    }

    fn name_sets(&self, n: &SimName) -> Vec<RecordSet> {
        n.sets
            .iter()
            .map(|r| {
                let healthy = r
                    .health_check_id
                    .as_ref()
                    .and_then(|h| n.status.iter().find(|(id, ..)| id == h).map(|s| s.1));
                RecordSet {
                    healthy,
                    ..r.clone()
                }
            })
            .collect()
    }

    /// Health checks follow their services (after [`HEALTH_FLIP_MS`] of
    /// disagreement; at once at the start).
    fn check_health(&mut self, k: usize, at_once: bool) {
        let now = self.now();
        let raw: Vec<(String, bool)> = self.dns[k]
            .checks
            .iter()
            .map(|(h, si)| (h.clone(), self.service_healthy(*si)))
            .collect();
        let n = &mut self.dns[k];
        for (h, ok) in raw {
            match n.status.iter_mut().find(|s| s.0 == h) {
                None => n.status.push((h, ok, None)),
                Some(s) if s.1 == ok => s.2 = None,
                Some(s) => {
                    let since = *s.2.get_or_insert(now);
                    if at_once || now - since >= HEALTH_FLIP_MS {
                        s.1 = ok;
                        s.2 = None;
                    }
                }
            }
        }
    }

    /// Traffic follows Route 53: the services a name answers share its rps.
    pub(super) fn route_traffic(&mut self, at_once: bool) {
        for k in 0..self.dns.len() {
            self.check_health(k, at_once);
            let n = self.dns[k].clone();
            let sets = self.name_sets(&n);
            let answered: Vec<usize> = dns::answer(&sets)
                .iter()
                .filter_map(|region| sets.iter().find(|r| r.region.as_deref() == Some(region)))
                .filter_map(|r| {
                    let lb = &r.alias.as_ref()?.dns_name;
                    n.targets.iter().find(|(t, _)| t == lb).map(|(_, si)| *si)
                })
                .collect();
            for (_, si) in &n.targets {
                let share = if answered.contains(si) {
                    n.rps / answered.len() as f64
                } else {
                    0.0
                };
                self.services[*si].base_rps = share;
            }
        }
    }

    pub(crate) fn dns_records(
        &self,
        zone: &str,
        name: &str,
    ) -> Result<(String, Vec<RecordSet>), String> {
        let z = crate::actions::route53::fqdn(zone);
        let want = crate::actions::route53::fqdn(name);
        let n = self
            .dns
            .iter()
            .find(|n| (n.zone_id == zone.trim() || n.zone == z) && n.name == want)
            .ok_or_else(|| format!("NoSuchHostedZone or no record sets: {want} in {zone}"))?;
        Ok((n.zone_id.clone(), self.name_sets(n)))
    }

    pub(crate) fn dns_change(
        &mut self,
        zone_id: &str,
        sets: &[RecordSet],
    ) -> Result<String, String> {
        let now = self.now();
        for new in sets {
            let n = self
                .dns
                .iter_mut()
                .find(|n| n.zone_id == zone_id && n.name == new.name)
                .ok_or_else(|| format!("NoSuchHostedZone: {zone_id} has no {}", new.name))?;
            let r = n
                .sets
                .iter_mut()
                .find(|r| r.set_identifier == new.set_identifier && r.rtype == new.rtype)
                .ok_or_else(|| format!("InvalidChangeBatch: no record set {}", new.label()))?;
            *r = RecordSet {
                healthy: None,
                ..new.clone()
            };
        }
        let id = format!("C{:019}", now + self.dns_changes.len() as i64);
        self.dns_changes.push((id.clone(), now + DNS_SYNC_MS));
        self.route_traffic(false);
        Ok(id)
    }

    pub(crate) fn dns_change_status(&self, id: &str) -> Result<String, String> {
        let (_, at) = self
            .dns_changes
            .iter()
            .find(|(c, _)| c == id)
            .ok_or_else(|| format!("NoSuchChange: {id}"))?;
        Ok(if self.now() >= *at {
            "INSYNC"
        } else {
            "PENDING"
        }
        .into())
    }

    /// Replication each tick: the lag wanders around its typical value
    /// while the writer's region is up, and stays at its last value (the
    /// data the reader lacks) once it is lost; promotions complete.
    pub(super) fn replicate(&mut self) {
        let now = self.now();
        let elapsed = self.elapsed;
        for k in 0..self.dbs.len() {
            let writer_region = self.dbs[k]
                .members
                .iter()
                .find(|m| m.2)
                .map(|m| m.0.clone())
                .unwrap_or_default();
            let up = !self.region_down(&writer_region);
            let d = &mut self.dbs[k];
            if up && !d.standalone {
                // ±30 % around the typical lag, a fixed function of time.
                let wobble = ((elapsed / 1000).wrapping_mul(2_654_435_761) % 61) - 30;
                d.last_lag_ms = (d.lag_ms + d.lag_ms * wobble / 100).max(0);
            }
            if let Some((region, at, _)) = d.pending.clone()
                && now >= at
            {
                for m in &mut d.members {
                    m.2 = m.0 == region;
                }
                if d.kind != GLOBAL_CLUSTER {
                    d.standalone = true;
                    d.members.retain(|m| m.2);
                }
                d.pending = None;
            }
        }
    }

    pub(crate) fn db_state(&self, id: &str, region: &str) -> Result<DbState, String> {
        let d = self
            .dbs
            .iter()
            .find(|d| {
                d.id == id
                    || d.members
                        .iter()
                        .any(|m| m.1 == id && d.kind != GLOBAL_CLUSTER)
            })
            .ok_or_else(|| format!("DBClusterNotFoundFault: {id}"))?;
        let busy = d.pending.as_ref().map(|p| p.2);
        let members: Vec<DbMember> = d
            .members
            .iter()
            .map(|(r, mid, writer)| DbMember {
                region: r.clone(),
                id: mid.clone(),
                arn: Some(format!(
                    "arn:aws:rds:{r}:{}:{}:{mid}",
                    self.account,
                    if d.kind == READ_REPLICA {
                        "db"
                    } else {
                        "cluster"
                    }
                )),
                writer: *writer,
                status: if self.region_down(r) {
                    "unreachable".into()
                } else if busy.is_some() {
                    busy.unwrap_or_default().into()
                } else {
                    "available".into()
                },
            })
            .collect();
        let writer = members.iter().find(|m| m.writer);
        let writer_available = writer.is_some_and(|w| w.status == "available");
        let reader_here = members.iter().any(|m| !m.writer && m.region == region);
        let (lag_seconds, lag_source) = if reader_here && !d.standalone {
            let metric = match d.kind.as_str() {
                GLOBAL_CLUSTER => "AuroraGlobalDBRPOLag",
                REPLICA_CLUSTER => "AuroraBinlogReplicaLag",
                _ => "ReplicaLag",
            };
            (
                Some(d.last_lag_ms as f64 / 1000.0),
                Some(metric.to_string()),
            )
        } else {
            (None, None)
        };
        Ok(DbState {
            kind: d.kind.clone(),
            id: d.id.clone(),
            writable_in: writer
                .filter(|w| w.status == "available")
                .map(|w| w.region.clone()),
            status: busy.unwrap_or("available").into(),
            members,
            lag_seconds,
            lag_source,
            writer_available,
        })
    }

    pub(crate) fn db_promote(&mut self, p: &Promotion) -> Result<Value, String> {
        let now = self.now();
        let writer_up = {
            let d = self
                .dbs
                .iter()
                .find(|d| d.id == p.id)
                .ok_or_else(|| format!("DBClusterNotFoundFault: {}", p.id))?;
            let w = d
                .members
                .iter()
                .find(|m| m.2)
                .map(|m| m.0.clone())
                .unwrap_or_default();
            !self.region_down(&w)
        };
        let d = self
            .dbs
            .iter_mut()
            .find(|d| d.id == p.id)
            .ok_or_else(|| format!("DBClusterNotFoundFault: {}", p.id))?;
        if d.pending.is_some() {
            return Err(format!("InvalidGlobalClusterStateFault: {} is busy", p.id));
        }
        if !d.members.iter().any(|m| m.0 == p.target_region) {
            return Err(format!(
                "InvalidParameterValue: no member in {}",
                p.target_region
            ));
        }
        let (ms, status) = match p.api.as_str() {
            "SwitchoverGlobalCluster" if !writer_up => {
                return Err(format!(
                    "InvalidGlobalClusterStateFault: the writer of {} is not available: a switchover needs it (fail over with AllowDataLoss)",
                    p.id
                ));
            }
            "SwitchoverGlobalCluster" => (SWITCHOVER_MS, "switching-over"),
            "FailoverGlobalCluster" => (FAILOVER_MS, "failing-over"),
            _ => (PROMOTE_MS, "modifying"),
        };
        d.pending = Some((p.target_region.clone(), now + ms, status));
        Ok(json!({"api": p.api, "id": p.id, "target": p.target, "status": status}))
    }
}
