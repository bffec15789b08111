//! `ecs.check_fit`: read-only, whether `desired` tasks of an awsvpc service
//! fit in the free IPs of its subnets (each task holds one ENI, one IP).
//! On AWS the subnets are read fresh (DescribeSubnets); on the simulator
//! from its snapshot. A target that does not fit is refused with the
//! numbers; subnets that cannot be read leave the check *not evaluated*,
//! naming the API, never passed.

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall, find_service_by_target};

pub struct CheckFit;

pub const OP: &str = "ecs.check_fit";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckFitCall {
    pub desired: i32,
    /// Tasks holding an IP now (running + pending).
    pub holding: i32,
    /// The service's subnets (empty: not awsvpc, nothing to check).
    pub subnets: Vec<String>,
}

impl CallArgs for CheckFitCall {
    const KIND: &'static str = "CheckFit";
}

impl CheckFitCall {
    fn needed(&self) -> i32 {
        (self.desired - self.holding).max(0)
    }

    /// The answer from the free IP count of each subnet.
    fn judge(&self, label: &str, free: &[(String, i32)]) -> Result<Value, String> {
        let total: i64 = free.iter().map(|(_, n)| i64::from(*n)).sum();
        let each = free
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let needed = self.needed();
        if i64::from(needed) > total {
            return Err(format!(
                "refused: {label} does not fit: {} tasks need {needed} more IPs ({} hold one now), \
                 and its subnets have {total} free ({each}); add subnets or free addresses first",
                self.desired, self.holding
            ));
        }
        Ok(json!({
            "fits": true,
            "desired": self.desired,
            "needed": needed,
            "free": total,
            "subnets": free.iter().map(|(s, n)| json!({"SubnetId": s, "AvailableIpAddressCount": n})).collect::<Vec<_>>(),
        }))
    }
}

impl RunbookAction for CheckFit {
    fn op(&self) -> &'static str {
        OP
    }
    fn mutates(&self) -> bool {
        false
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(CheckFitCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "ec2:DescribeSubnets"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[("desired", FieldKind::Count)]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        if !f.has("desired") {
            return Err(FieldError::missing(self.op(), "desired"));
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let desired = p.count("desired")?.unwrap_or(0);
        let subnets = p
            .svc
            .network_configuration
            .as_ref()
            .map(|n| n.subnets.clone())
            .unwrap_or_default();
        let call = CheckFitCall {
            desired,
            holding: p.svc.running_count + p.svc.pending_count,
            subnets,
        };
        Ok(vec![PlannedCall::new(p.target.clone(), &call)])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        match c.args::<CheckFitCall>() {
            Some(a) if a.subnets.is_empty() => format!(
                "{} is not awsvpc: its tasks take no IPs of their own (nothing to check)",
                c.target.label()
            ),
            Some(a) => format!(
                "check that {} tasks of {} fit: {} more IPs in subnets {}",
                a.desired,
                c.target.label(),
                a.needed(),
                a.subnets.join(", ")
            ),
            None => format!("check that the tasks of {} fit", c.target.label()),
        }
    }
    fn is_noop(&self, c: &PlannedCall) -> bool {
        c.args::<CheckFitCall>()
            .is_some_and(|a| a.subnets.is_empty() || a.needed() == 0)
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c.args::<CheckFitCall>().ok_or("malformed CheckFit call")?;
        let snap = sim.snapshot();
        let svc = find_service_by_target(&snap, &c.target)
            .ok_or_else(|| format!("service {} not found", c.target.label()))?;
        let free: Vec<(String, i32)> = a
            .subnets
            .iter()
            .map(|id| {
                let n = svc
                    .subnets
                    .iter()
                    .find(|s| &s.subnet_id == id)
                    .map_or(0, |s| s.available_ip_address_count);
                (id.clone(), n)
            })
            .collect();
        a.judge(&c.target.label(), &free)
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c.args::<CheckFitCall>().ok_or("malformed CheckFit call")?;
            let out = aws
                .ec2
                .describe_subnets()
                .set_subnet_ids(Some(a.subnets.clone()))
                .send()
                .await
                .map_err(|e| {
                    format!(
                        "not evaluated: the free IPs of {} could not be read ({}); \
                         pass check_fit=false to scale without this check",
                        a.subnets.join(", "),
                        aws.err("ec2:DescribeSubnets", &e)
                    )
                })?;
            let free: Vec<(String, i32)> = a
                .subnets
                .iter()
                .map(|id| {
                    let n = out
                        .subnets()
                        .iter()
                        .find(|s| s.subnet_id() == Some(id.as_str()))
                        .and_then(|s| s.available_ip_address_count())
                        .unwrap_or(0);
                    (id.clone(), n)
                })
                .collect();
            let detail = a.judge(&c.target.label(), &free)?;
            Ok(CallOutput {
                request_ids: super::request_ids(aws_sdk_ec2::operation::RequestId::request_id(
                    &out,
                )),
                detail,
            })
        }
        .boxed()
    }
}
