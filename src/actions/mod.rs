//! Runbook actions: one file per `op`, one line each in [`REGISTRY`].
//!
//! An action holds everything about itself: its op name, whether it
//! mutates, the fence fields it takes and their checks, its plan (the exact
//! change, as [`PlannedCall`]s the operator confirms), the simulator's apply
//! and the AWS call. It sits above [`crate::calls`] and [`crate::model`] and
//! below both `runbook/` and `source/`: the simulator reaches it through the
//! narrow [`SimBackend`] trait, AWS through the clients in [`AwsClients`], so
//! no module imports one that imports it back.

pub mod check_fit;
pub mod codedeploy;
mod dr_readiness;
mod dr_size;
pub mod fields;
pub mod fis;
mod force_new_deployment;
pub mod known_good;
pub mod rds;
pub mod resolve_revision;
pub mod route53;
pub mod scale;
mod set_capacity;
pub mod snapshot;
pub mod stop_deployment;
pub mod stop_tasks;
pub mod sustain_release;
mod update_service;

use futures::future::BoxFuture;
use serde_json::Value;

pub use fields::{FieldError, FieldKind, Fields};

use crate::calls::{CallOutput, PlannedCall, Target};
use crate::model::{FleetSnapshot, Service};

/// Every action a runbook can name. Adding one: a file in `src/actions/`
/// and a line here.
pub static REGISTRY: &[&dyn RunbookAction] = &[
    &snapshot::Snapshot,
    &scale::Scale,
    &set_capacity::SetCapacity,
    &check_fit::CheckFit,
    &dr_size::DrSize,
    &dr_readiness::DrReadiness,
    &update_service::UpdateService,
    &force_new_deployment::ForceNewDeployment,
    &resolve_revision::ResolveRevision,
    &stop_deployment::StopDeployment,
    &codedeploy::StopCodeDeploy,
    &stop_tasks::StopTasks,
    &sustain_release::SustainRelease,
    &fis::FollowExperiment,
    &route53::Records,
    &route53::Shift,
    &route53::ChangeStatus,
    &rds::Replication,
    &rds::Promote,
];

/// One runbook action (see the module docs and the README's "Adding a
/// runbook action").
pub trait RunbookAction: Sync {
    /// The `op = "…"` a runbook writes.
    fn op(&self) -> &'static str;
    /// Whether it changes anything (needs `--write`, the arm phrase and a
    /// confirmation, and is journaled before and after).
    fn mutates(&self) -> bool;
    /// The journal's `api` tag of the call it plans (`None`: it plans no
    /// call of its own, like `snapshot`).
    fn call_kind(&self) -> Option<&'static str>;
    /// The AWS API its call makes, as the journal and the confirmation name it.
    fn aws_api(&self) -> &'static str;
    /// Its own fence fields (beyond `op`, the target keys, `save_as` and the
    /// common keys) and what each holds; any other key is refused.
    fn fields(&self) -> &'static [(&'static str, FieldKind)];
    /// Checks beyond the fields' kinds (which are required, which go
    /// together). `save_as`: whether the block names one.
    fn check(&self, f: &Fields, save_as: bool) -> Result<(), FieldError>;
    /// The calls with old → new values, from the snapshot. Refusals start
    /// with `refused:`.
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String>;
    /// The exact change of one of its calls: service, field, old → new.
    fn describe(&self, c: &PlannedCall) -> String;
    /// A change to the value it already has.
    fn is_noop(&self, _c: &PlannedCall) -> bool {
        false
    }
    /// Perform one of its calls on the simulator; the answer's detail.
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String>;
    /// Perform one of its calls on AWS.
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>>;
}

/// The action named `op`.
pub fn by_op(op: &str) -> Option<&'static dyn RunbookAction> {
    REGISTRY.iter().copied().find(|a| a.op() == op)
}

/// The action that plans calls of `kind`.
pub fn by_call(kind: &str) -> Option<&'static dyn RunbookAction> {
    REGISTRY
        .iter()
        .copied()
        .find(|a| a.call_kind() == Some(kind))
}

/// The op names, in registry order.
pub fn op_names() -> Vec<&'static str> {
    REGISTRY.iter().map(|a| a.op()).collect()
}

/// What the simulator offers actions: the few primitives they need.
/// `Target` carries the account and region the call resolved to, so a twin
/// elsewhere is never the one changed.
pub trait SimBackend {
    fn snapshot(&self) -> FleetSnapshot;
    /// UpdateService desiredCount; the old count.
    fn set_desired_count(&mut self, t: &Target, n: i32) -> Result<i32, String>;
    /// RegisterScalableTarget; the old (min, max).
    fn set_scalable_target(
        &mut self,
        t: &Target,
        resource_id: &str,
        min: i32,
        max: i32,
    ) -> Result<(i32, i32), String>;
    /// A rolling deployment of `family:revision`; the deployment id.
    fn deploy(&mut self, t: &Target, family_revision: &str) -> Result<String, String>;
    /// StopServiceDeployment ROLLBACK of the deployment in progress: the
    /// rollout's id and the revision it rolls back to.
    fn rollback_deployment(&mut self, t: &Target) -> Result<(String, String), String>;
    fn stop_task(&mut self, t: &Target, task_id: &str, reason: &str) -> Result<(), String>;
    /// The AZ takes no new tasks of this service (for `ms`, or until released).
    fn impair_service_az(&mut self, t: &Target, az: &str, ms: Option<i64>);
    fn release_service_az(&mut self, t: &Target, az: &str);
    /// The network of the service's subnet in the AZ is cut (for `ms`):
    /// tasks there stay RUNNING, fail their ELB health checks and are
    /// replaced where ECS places them.
    fn disrupt_service_az(&mut self, t: &Target, az: &str, ms: Option<i64>);
    /// A hosted zone's (id or name) record sets of `name`, with their
    /// health; the zone's id.
    fn dns_records(
        &self,
        zone: &str,
        name: &str,
    ) -> Result<(String, Vec<crate::model::dns::RecordSet>), String>;
    /// ChangeResourceRecordSets UPSERTs; the change id (PENDING until in sync).
    fn dns_change(
        &mut self,
        zone_id: &str,
        sets: &[crate::model::dns::RecordSet],
    ) -> Result<String, String>;
    /// GetChange: `PENDING` or `INSYNC`.
    fn dns_change_status(&self, id: &str) -> Result<String, String>;
    /// A global cluster or replica as seen from `region`.
    fn db_state(&self, id: &str, region: &str) -> Result<crate::model::database::DbState, String>;
    /// Start a promotion; the call's detail.
    fn db_promote(&mut self, p: &crate::model::database::Promotion) -> Result<Value, String>;
}

/// The SDK clients of the account and region a call goes to. A new AWS
/// service for an action is one field here, filled where the source
/// builds its clients.
pub struct AwsClients<'a> {
    pub ecs: &'a aws_sdk_ecs::Client,
    pub aas: &'a aws_sdk_applicationautoscaling::Client,
    pub ec2: &'a aws_sdk_ec2::Client,
    pub codedeploy: &'a aws_sdk_codedeploy::Client,
    pub fis: &'a aws_sdk_fis::Client,
    pub route53: &'a aws_sdk_route53::Client,
    pub rds: &'a aws_sdk_rds::Client,
    pub cw: &'a aws_sdk_cloudwatch::Client,
    /// The RDS client of the same account in another region (a DR read
    /// looks at the writer where it is), when that region is connected.
    pub rds_in: &'a (dyn Fn(&str) -> Option<aws_sdk_rds::Client> + Sync),
    /// The source's error text for a failed request (counts throttles).
    pub describe_error: fn(&str, &(dyn std::error::Error + 'static)) -> String,
}

impl AwsClients<'_> {
    pub fn err<E: std::error::Error + 'static>(&self, api: &str, e: &E) -> String {
        (self.describe_error)(api, e)
    }
}

/// A runbook duration (`"10m"`, `"90s"`) in milliseconds.
pub fn dur_ms(s: &str) -> Result<i64, String> {
    humantime::parse_duration(s.trim())
        .map(|d| d.as_millis() as i64)
        .map_err(|e| format!("{s:?} is not a duration: {e}"))
}

/// The request id of an SDK answer, as the journal keeps it.
pub fn request_ids(id: Option<&str>) -> Vec<String> {
    id.map(|s| vec![s.to_string()]).unwrap_or_default()
}

/// The runbook's limits an action's plan honours.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub max_scale_factor: Option<f64>,
    pub max_tasks_stopped_pct: Option<u32>,
}

/// What a plan reads: the block's fields (with the run's `${…}` resolved
/// through `resolve`/`interp`), the fleet, the service and where to act.
pub struct Plan<'a> {
    pub fields: &'a Fields,
    pub snap: &'a FleetSnapshot,
    pub svc: &'a Service,
    pub target: Target,
    pub limits: Limits,
    /// A field value with `${…}` resolved (a whole reference keeps its type).
    pub resolve: &'a dyn Fn(&toml::Value) -> Result<Value, String>,
    /// A string with `${…}` interpolated.
    pub interp: &'a dyn Fn(&str) -> Result<String, String>,
}

impl Plan<'_> {
    /// A text field, interpolated.
    pub fn text(&self, key: &str) -> Result<Option<String>, String> {
        self.fields.str(key).map(|s| (self.interp)(s)).transpose()
    }

    /// A task count field: a number ≥ 0 that fits an i32.
    pub fn count(&self, key: &str) -> Result<Option<i32>, String> {
        let Some(v) = self.fields.get(key) else {
            return Ok(None);
        };
        let j = (self.resolve)(v)?;
        let n = as_i64(&j).ok_or_else(|| format!("`{key}` = {} is not a number", show(&j)))?;
        if n < 0 {
            return Err(format!(
                "refused: `{key}` = {n} is negative (a task count is 0 or more)"
            ));
        }
        i32::try_from(n)
            .map(Some)
            .map_err(|_| format!("refused: `{key}` = {n} is too large a task count"))
    }

    /// `max_scale_factor`: a new count above `factor × current` is refused,
    /// except from 0.
    pub fn factor_guard(&self, from: i32, to: i32) -> Result<(), String> {
        if let Some(f) = self.limits.max_scale_factor
            && from > 0
            && f64::from(to) > f64::from(from) * f
        {
            return Err(format!(
                "refused: {from} → {to} is more than max_scale_factor {f}× (raise it in the runbook or scale in steps)"
            ));
        }
        Ok(())
    }
}

/// A JSON value as an integer (numbers, or strings holding one).
pub fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A JSON value as text: strings bare, numbers without a trailing `.0`.
pub fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Apply a call to the simulator (the headless backend and the console's
/// simulator source both use this).
pub fn apply_sim(sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<CallOutput, String> {
    let a = by_call(&c.kind).ok_or_else(|| format!("unknown call {:?}", c.kind))?;
    Ok(CallOutput {
        request_ids: vec![],
        detail: a.sim_apply(sim, c)?,
    })
}

/// Perform a call on AWS.
pub async fn perform_aws(aws: &AwsClients<'_>, c: &PlannedCall) -> Result<CallOutput, String> {
    let a = by_call(&c.kind).ok_or_else(|| format!("unknown call {:?}", c.kind))?;
    a.aws_call(aws, c).await
}

/// Answered by the call's action; a kind no action owns (a journal from a
/// newer ecsdeck) is described plainly and counted as mutating.
impl PlannedCall {
    pub fn api(&self) -> &'static str {
        by_call(&self.kind).map_or("(unknown call)", |a| a.aws_api())
    }

    pub fn mutates(&self) -> bool {
        by_call(&self.kind).is_none_or(|a| a.mutates())
    }

    pub fn is_noop(&self) -> bool {
        by_call(&self.kind).is_some_and(|a| a.is_noop(self))
    }

    /// The exact change: service, field, old → new.
    pub fn describe(&self) -> String {
        match by_call(&self.kind) {
            Some(a) => a.describe(self),
            None => format!("{} {}", self.kind, self.target.label()),
        }
    }
}

/// The runbook's `op`: one entry of [`REGISTRY`].
#[derive(Clone, Copy)]
pub struct Op(&'static dyn RunbookAction);

impl Op {
    pub fn named(name: &str) -> Option<Op> {
        by_op(name).map(Op)
    }
    pub fn name(self) -> &'static str {
        self.0.op()
    }
    pub fn mutates(self) -> bool {
        self.0.mutates()
    }
    pub fn action(self) -> &'static dyn RunbookAction {
        self.0
    }
    pub fn is(self, name: &str) -> bool {
        self.0.op() == name
    }
}

impl PartialEq for Op {
    fn eq(&self, o: &Op) -> bool {
        self.name() == o.name()
    }
}
impl Eq for Op {}

impl std::fmt::Debug for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Op({:?})", self.name())
    }
}

impl serde::Serialize for Op {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Op {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        static NAMES: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
        let s = <String as serde::Deserialize>::deserialize(d)?;
        Op::named(&s)
            .ok_or_else(|| serde::de::Error::unknown_variant(&s, NAMES.get_or_init(op_names)))
    }
}

#[cfg(test)]
mod tests;
