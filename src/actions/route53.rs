//! Route 53 for DR traffic: `route53.records` reads a name's record sets
//! and their health checks and says which region Route 53 answers;
//! `route53.shift` UPSERTs them toward a region (a failover pair swaps
//! where PRIMARY and SECONDARY point, weighted sets give it all the
//! weight); `route53.change_status` reads a change until it is INSYNC.
//! The model (answer, shift) is [`crate::model::dns`], the same for the
//! simulator and AWS.

use aws_sdk_route53::operation::RequestId;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, RrType,
};
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall};
use crate::model::dns::{self, Alias, RecordSet};

/// A DNS name as Route 53 writes it: lower case, one trailing dot.
pub fn fqdn(name: &str) -> String {
    let n = name.trim().trim_end_matches('.').to_ascii_lowercase();
    format!("{n}.")
}

fn regions_of(s: &str) -> Vec<String> {
    s.split(',')
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .collect()
}

/// The read's answer: the record sets, the regions answered, and the one
/// region when there is exactly one.
pub fn records_detail(zone: &str, zone_id: &str, name: &str, sets: &[RecordSet]) -> Value {
    let answer = dns::answer(sets);
    json!({
        "zone": zone,
        "zoneId": zone_id,
        "name": name,
        "sets": sets,
        "answer": answer,
        "answerRegion": if answer.len() == 1 { json!(answer[0]) } else { Value::Null },
    })
}

fn build<T>(r: Result<T, aws_sdk_route53::error::BuildError>) -> Result<T, String> {
    r.map_err(|e| format!("Route 53 request: {e}"))
}

// ------------------------------------------------------------ read

pub struct Records;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordsCall {
    pub zone: String,
    pub name: String,
    /// The regions whose names tell where a record set points.
    pub regions: Vec<String>,
}

impl CallArgs for RecordsCall {
    const KIND: &'static str = "Route53Records";
}

impl RunbookAction for Records {
    fn op(&self) -> &'static str {
        "route53.records"
    }
    fn mutates(&self) -> bool {
        false
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(RecordsCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "route53:ListResourceRecordSets"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[
            ("hosted_zone", FieldKind::Text),
            ("record_name", FieldKind::Text),
            ("regions", FieldKind::Text),
        ]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        for k in ["hosted_zone", "record_name", "regions"] {
            if !f.has(k) {
                return Err(FieldError::missing(self.op(), k));
            }
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let zone = p.text("hosted_zone")?.unwrap_or_default();
        let name = p.text("record_name")?.unwrap_or_default();
        if zone.trim().is_empty() || name.trim().is_empty() {
            return Err("route53.records needs a hosted_zone and a record_name".into());
        }
        Ok(vec![PlannedCall::new(
            p.target.clone(),
            &RecordsCall {
                zone: zone.trim().to_string(),
                name: fqdn(&name),
                regions: regions_of(&p.text("regions")?.unwrap_or_default()),
            },
        )])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        match c.args::<RecordsCall>() {
            Some(a) => format!("read {} in hosted zone {}", a.name, a.zone),
            None => "read record sets".into(),
        }
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c
            .args::<RecordsCall>()
            .ok_or("malformed Route53Records call")?;
        let (zone_id, sets) = sim.dns_records(&a.zone, &a.name)?;
        Ok(records_detail(&a.zone, &zone_id, &a.name, &sets))
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c
                .args::<RecordsCall>()
                .ok_or("malformed Route53Records call")?;
            let mut ids = vec![];
            let zone_id = zone_id(aws, &a.zone, &mut ids).await?;
            let mut sets = read_sets(aws, &zone_id, &a.name, &a.regions, &mut ids).await?;
            for s in &mut sets {
                if let Some(hc) = s.health_check_id.clone() {
                    s.healthy = health(aws, &hc, &mut ids).await?;
                }
            }
            Ok(CallOutput {
                request_ids: ids,
                detail: records_detail(&a.zone, &zone_id, &a.name, &sets),
            })
        }
        .boxed()
    }
}

/// The hosted zone's id: given as an id, or looked up by its name (two
/// zones of that name, public and private, must be told apart by id).
async fn zone_id(
    aws: &AwsClients<'_>,
    zone: &str,
    ids: &mut Vec<String>,
) -> Result<String, String> {
    let zone = zone.trim();
    if !zone.contains('.') {
        return Ok(zone.trim_start_matches("/hostedzone/").to_string());
    }
    let want = fqdn(zone);
    let out = aws
        .route53
        .list_hosted_zones_by_name()
        .dns_name(&want)
        .send()
        .await
        .map_err(|e| aws.err("route53:ListHostedZonesByName", &e))?;
    ids.extend(super::request_ids(out.request_id()));
    let found: Vec<String> = out
        .hosted_zones()
        .iter()
        .filter(|z| fqdn(z.name()) == want)
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_string())
        .collect();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(format!("no hosted zone named {want}")),
        many => Err(format!(
            "{} hosted zones are named {want} ({}): give hosted_zone as the id",
            many.len(),
            many.join(", ")
        )),
    }
}

/// Every A/AAAA/CNAME record set of `name` (paged).
async fn read_sets(
    aws: &AwsClients<'_>,
    zone_id: &str,
    name: &str,
    regions: &[String],
    ids: &mut Vec<String>,
) -> Result<Vec<RecordSet>, String> {
    let mut sets = vec![];
    let mut next: Option<(String, Option<RrType>, Option<String>)> =
        Some((name.into(), None, None));
    let mut pages = 0;
    while let Some((start, rtype, ident)) = next.take() {
        pages += 1;
        if pages > 20 {
            return Err(format!(
                "route53:ListResourceRecordSets: {name} spans over 20 pages"
            ));
        }
        let out = aws
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .start_record_name(&start)
            .set_start_record_type(rtype)
            .set_start_record_identifier(ident)
            .send()
            .await
            .map_err(|e| aws.err("route53:ListResourceRecordSets", &e))?;
        ids.extend(super::request_ids(out.request_id()));
        let mut past = false;
        for r in out.resource_record_sets() {
            if fqdn(r.name()) != name {
                past = true;
                break;
            }
            if matches!(r.r#type(), RrType::A | RrType::Aaaa | RrType::Cname) {
                sets.push(from_sdk(r, regions));
            }
        }
        if out.is_truncated() && !past && out.next_record_name().map(fqdn).as_deref() == Some(name)
        {
            next = Some((
                name.into(),
                out.next_record_type().cloned(),
                out.next_record_identifier().map(str::to_string),
            ));
        }
    }
    Ok(sets)
}

/// A health check's status: healthy when most Route 53 checkers report
/// success (as Route 53 decides), `None` when none reported.
async fn health(
    aws: &AwsClients<'_>,
    hc: &str,
    ids: &mut Vec<String>,
) -> Result<Option<bool>, String> {
    let out = aws
        .route53
        .get_health_check_status()
        .health_check_id(hc)
        .send()
        .await
        .map_err(|e| aws.err("route53:GetHealthCheckStatus", &e))?;
    ids.extend(super::request_ids(out.request_id()));
    let obs = out.health_check_observations();
    if obs.is_empty() {
        return Ok(None);
    }
    let ok = obs
        .iter()
        .filter(|o| {
            o.status_report()
                .and_then(|s| s.status())
                .is_some_and(|s| s.starts_with("Success"))
        })
        .count();
    Ok(Some(ok * 2 > obs.len()))
}

fn from_sdk(r: &ResourceRecordSet, regions: &[String]) -> RecordSet {
    let values: Vec<String> = r
        .resource_records()
        .iter()
        .map(|v| v.value().to_string())
        .collect();
    let alias = r.alias_target().map(|a| Alias {
        dns_name: a.dns_name().to_string(),
        hosted_zone_id: a.hosted_zone_id().to_string(),
        evaluate_target_health: a.evaluate_target_health(),
    });
    let latency = r.region().map(|x| x.as_str().to_string());
    let mut texts: Vec<&str> = vec![];
    if let Some(l) = &latency {
        texts.push(l);
    }
    if let Some(a) = &alias {
        texts.push(&a.dns_name);
    }
    texts.extend(values.iter().map(String::as_str));
    if let Some(s) = r.set_identifier() {
        texts.push(s);
    }
    RecordSet {
        name: fqdn(r.name()),
        rtype: r.r#type().as_str().to_string(),
        set_identifier: r.set_identifier().map(str::to_string),
        failover: r.failover().map(|f| f.as_str().to_string()),
        weight: r.weight(),
        ttl: r.ttl(),
        region: dns::region_of(&texts, regions),
        values,
        alias,
        health_check_id: r.health_check_id().map(str::to_string),
        healthy: None,
    }
}

fn to_sdk(r: &RecordSet) -> Result<ResourceRecordSet, String> {
    let mut b = ResourceRecordSet::builder()
        .name(&r.name)
        .r#type(RrType::from(r.rtype.as_str()))
        .set_set_identifier(r.set_identifier.clone())
        .set_weight(r.weight)
        .set_failover(r.failover.as_deref().map(ResourceRecordSetFailover::from))
        .set_health_check_id(r.health_check_id.clone());
    match &r.alias {
        Some(a) => {
            b = b.alias_target(build(
                AliasTarget::builder()
                    .dns_name(&a.dns_name)
                    .hosted_zone_id(&a.hosted_zone_id)
                    .evaluate_target_health(a.evaluate_target_health)
                    .build(),
            )?);
        }
        None => {
            b = b.set_ttl(r.ttl);
            for v in &r.values {
                b = b.resource_records(build(ResourceRecord::builder().value(v).build())?);
            }
        }
    }
    build(b.build())
}

// ------------------------------------------------------------ change

pub struct Shift;

/// One UPSERT: the record set as it was and as it becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Upsert {
    pub old: RecordSet,
    pub new: RecordSet,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShiftCall {
    pub zone_id: String,
    pub name: String,
    pub to_region: String,
    pub upserts: Vec<Upsert>,
    /// `health-check`: Route 53's health checks move the answer; nothing
    /// is changed (the answer is verified after).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub health_check: bool,
}

impl CallArgs for ShiftCall {
    const KIND: &'static str = "Route53Shift";
}

fn upsert_line(u: &Upsert) -> String {
    let place = |r: &RecordSet| {
        r.region
            .clone()
            .unwrap_or_else(|| "(region unknown)".into())
    };
    if u.old.weight != u.new.weight && u.old.target() == u.new.target() {
        format!(
            "Route 53 {}: weight {} → {} ({})",
            u.old.label(),
            u.old.weight.unwrap_or(0),
            u.new.weight.unwrap_or(0),
            place(&u.new)
        )
    } else {
        format!(
            "Route 53 {}: {} ({}) → {} ({})",
            u.old.label(),
            u.old.target(),
            place(&u.old),
            u.new.target(),
            place(&u.new)
        )
    }
}

impl RunbookAction for Shift {
    fn op(&self) -> &'static str {
        "route53.shift"
    }
    fn mutates(&self) -> bool {
        true
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(ShiftCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "route53:ChangeResourceRecordSets"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[
            ("records", FieldKind::Any),
            ("to_region", FieldKind::Text),
            ("mode", FieldKind::Text),
        ]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        for k in ["records", "to_region"] {
            if !f.has(k) {
                return Err(FieldError::missing(self.op(), k));
            }
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let v = (p.resolve)(p.fields.get("records").ok_or("no records")?)?;
        let to = p.text("to_region")?.unwrap_or_default();
        let sets: Vec<RecordSet> = serde_json::from_value(v["sets"].clone())
            .map_err(|e| format!("`records` is not a route53.records answer: {e}"))?;
        let zone_id = v["zoneId"].as_str().unwrap_or_default().to_string();
        let name = v["name"].as_str().unwrap_or_default().to_string();
        let mode = p.text("mode")?.unwrap_or_else(|| "change".into());
        let health_check = match mode.trim() {
            "change" => false,
            "health-check" => true,
            m => return Err(format!("refused: dns_mode {m:?}: change or health-check")),
        };
        let new = if health_check {
            vec![]
        } else {
            dns::shift(&sets, &to).map_err(|e| format!("refused: {name}: {e}"))?
        };
        let upserts = new
            .into_iter()
            .filter_map(|n| {
                let old = sets
                    .iter()
                    .find(|o| o.set_identifier == n.set_identifier && o.rtype == n.rtype)?
                    .clone();
                Some(Upsert { old, new: n })
            })
            .collect();
        Ok(vec![PlannedCall::new(
            p.target.clone(),
            &ShiftCall {
                zone_id,
                name,
                to_region: to,
                upserts,
                health_check,
            },
        )])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        match c.args::<ShiftCall>() {
            Some(a) if a.health_check => format!(
                "Route 53 {}: no change (its health checks fail it over to {}; the answer is verified next)",
                a.name, a.to_region
            ),
            Some(a) if a.upserts.is_empty() => {
                format!("Route 53 {} already answers {}", a.name, a.to_region)
            }
            Some(a) => a
                .upserts
                .iter()
                .map(upsert_line)
                .collect::<Vec<_>>()
                .join("; "),
            None => "change record sets".into(),
        }
    }
    fn is_noop(&self, c: &PlannedCall) -> bool {
        c.args::<ShiftCall>().is_some_and(|a| a.upserts.is_empty())
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c.args::<ShiftCall>().ok_or("malformed Route53Shift call")?;
        let new: Vec<RecordSet> = a.upserts.iter().map(|u| u.new.clone()).collect();
        let id = sim.dns_change(&a.zone_id, &new)?;
        Ok(json!({"changeId": id, "status": "PENDING", "upserts": new.len()}))
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c.args::<ShiftCall>().ok_or("malformed Route53Shift call")?;
            let mut batch = ChangeBatch::builder()
                .comment(format!("ecsdeck: {} toward {}", a.name, a.to_region));
            for u in &a.upserts {
                batch = batch.changes(build(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(to_sdk(&u.new)?)
                        .build(),
                )?);
            }
            let out = aws
                .route53
                .change_resource_record_sets()
                .hosted_zone_id(&a.zone_id)
                .change_batch(build(batch.build())?)
                .send()
                .await
                .map_err(|e| aws.err("route53:ChangeResourceRecordSets", &e))?;
            let info = out.change_info();
            Ok(CallOutput {
                request_ids: super::request_ids(out.request_id()),
                detail: json!({
                    "changeId": info.map(|i| i.id().trim_start_matches("/change/").to_string()),
                    "status": info.map(|i| i.status().as_str().to_string()),
                    "upserts": a.upserts.len(),
                }),
            })
        }
        .boxed()
    }
}

// ------------------------------------------------------------ GetChange

pub struct ChangeStatus;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeStatusCall {
    pub change_id: String,
}

impl CallArgs for ChangeStatusCall {
    const KIND: &'static str = "Route53ChangeStatus";
}

impl RunbookAction for ChangeStatus {
    fn op(&self) -> &'static str {
        "route53.change_status"
    }
    fn mutates(&self) -> bool {
        false
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(ChangeStatusCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "route53:GetChange"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[("change_id", FieldKind::Text)]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        if !f.has("change_id") {
            return Err(FieldError::missing(self.op(), "change_id"));
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let id = p
            .text("change_id")?
            .filter(|s| !s.trim().is_empty())
            .ok_or("no Route 53 change id")?;
        Ok(vec![PlannedCall::new(
            p.target.clone(),
            &ChangeStatusCall {
                change_id: id.trim().trim_start_matches("/change/").to_string(),
            },
        )])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        let id = c
            .args::<ChangeStatusCall>()
            .map(|a| a.change_id)
            .unwrap_or_default();
        format!("GetChange {id}")
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c
            .args::<ChangeStatusCall>()
            .ok_or("malformed Route53ChangeStatus call")?;
        let status = sim.dns_change_status(&a.change_id)?;
        Ok(json!({"changeId": a.change_id, "status": status}))
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c
                .args::<ChangeStatusCall>()
                .ok_or("malformed Route53ChangeStatus call")?;
            let out = aws
                .route53
                .get_change()
                .id(&a.change_id)
                .send()
                .await
                .map_err(|e| aws.err("route53:GetChange", &e))?;
            Ok(CallOutput {
                request_ids: super::request_ids(out.request_id()),
                detail: json!({
                    "changeId": a.change_id,
                    "status": out.change_info().map(|i| i.status().as_str().to_string()),
                }),
            })
        }
        .boxed()
    }
}
