//! `dr.readiness`: read-only, no API call (from the snapshot): whether the
//! standby (the block's target) can take over from the primary. Its task
//! definition family and images match the primary's, its alarm exists, and
//! behind a load balancer its target group is registered with one. A check
//! whose input is missing (the primary's region is down, say) is *not
//! evaluated* and says so; a check that fails refuses the failover, listing
//! every failure.

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall, ServiceRef, lookup_service};
use crate::model::{FleetSnapshot, Service};

pub struct DrReadiness;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrReadinessCall {
    pub passed: Vec<String>,
    pub not_evaluated: Vec<String>,
}

impl CallArgs for DrReadinessCall {
    const KIND: &'static str = "DrReadiness";
}

impl DrReadinessCall {
    fn detail(&self) -> Value {
        json!({"ready": true, "passed": self.passed, "not_evaluated": self.not_evaluated})
    }
}

/// `family` and `container=image` of the service's task definition.
fn images(snap: &FleetSnapshot, s: &Service) -> Option<(String, Vec<String>)> {
    let td = snap.task_definition(&s.task_definition)?;
    let mut imgs: Vec<String> = td
        .container_definitions
        .iter()
        .map(|c| format!("{}={}", c.name, c.image))
        .collect();
    imgs.sort();
    Some((td.family.clone(), imgs))
}

impl RunbookAction for DrReadiness {
    fn op(&self) -> &'static str {
        "dr.readiness"
    }
    fn mutates(&self) -> bool {
        false
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(DrReadinessCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "(none: from the snapshot)"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[
            ("primary_cluster", FieldKind::Text),
            ("primary_region", FieldKind::Text),
            ("alarm", FieldKind::Text),
        ]
    }
    fn check(&self, f: &Fields, _save_as: bool) -> Result<(), FieldError> {
        if !f.has("primary_region") {
            return Err(FieldError::missing(self.op(), "primary_region"));
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let standby = p.svc;
        let mut passed = vec![];
        let mut failed = vec![];
        let mut not_evaluated = vec![];
        let primary_ref = ServiceRef {
            cluster: p
                .text("primary_cluster")?
                .unwrap_or_else(|| p.target.cluster.clone()),
            service: p.target.service.clone(),
            region: p.text("primary_region")?,
            account: None,
        };
        // Family and images.
        match (
            lookup_service(p.snap, &primary_ref).ok(),
            images(p.snap, standby),
        ) {
            (None, _) => not_evaluated.push(format!(
                "images: the primary {}/{} in {} was not read",
                primary_ref.cluster,
                primary_ref.service,
                primary_ref.region.as_deref().unwrap_or("")
            )),
            (_, None) => not_evaluated.push(format!(
                "images: the standby's task definition {} was not read",
                standby.task_definition
            )),
            (Some(primary), Some((s_family, s_imgs))) => match images(p.snap, primary) {
                None => not_evaluated.push(format!(
                    "images: the primary's task definition {} was not read",
                    primary.task_definition
                )),
                Some((p_family, _)) if p_family != s_family => failed.push(format!(
                    "the standby runs family {s_family}, the primary {p_family}"
                )),
                Some((_, p_imgs)) if p_imgs != s_imgs => failed.push(format!(
                    "the standby's images ({}) differ from the primary's ({})",
                    s_imgs.join(", "),
                    p_imgs.join(", ")
                )),
                Some((family, _)) => passed.push(format!("family {family} and its images match")),
            },
        }
        // The standby's alarm.
        if let Some(name) = p.text("alarm")?.filter(|a| !a.trim().is_empty()) {
            let found = p.snap.alarms.iter().any(|a| {
                a.name == name && a.region == standby.region && a.account == standby.account
            });
            if found {
                passed.push(format!("alarm {name} exists"));
            } else if p.snap.read_ok_at(
                crate::model::DataKind::Cloudwatch,
                &standby.account,
                &standby.region,
            ) {
                failed.push(format!(
                    "alarm {name} does not exist in {} {}",
                    standby.account, standby.region
                ));
            } else {
                not_evaluated.push(format!("alarm {name}: the standby's alarms were not read"));
            }
        }
        // Behind its load balancer.
        if standby.load_balancers.is_empty() {
            passed.push("no load balancer to register with".into());
        } else {
            let tgs: Vec<_> = p.snap.target_groups_for(standby).collect();
            if tgs.is_empty() {
                not_evaluated.push("target group: not read".into());
            } else if tgs.iter().all(|t| t.load_balancer_arn.is_some()) {
                passed.push("its target group is behind a load balancer".into());
            } else {
                failed.push("its target group is not registered with a load balancer".into());
            }
        }
        if !failed.is_empty() {
            return Err(format!(
                "refused: {} is not ready to take over: {}",
                p.target.label(),
                failed.join("; ")
            ));
        }
        Ok(vec![PlannedCall::new(
            p.target.clone(),
            &DrReadinessCall {
                passed,
                not_evaluated,
            },
        )])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        match c.args::<DrReadinessCall>() {
            Some(a) if a.not_evaluated.is_empty() => {
                format!("{} is ready: {}", c.target.label(), a.passed.join("; "))
            }
            Some(a) => format!(
                "{} is ready as far as read: {}; not evaluated: {}",
                c.target.label(),
                a.passed.join("; "),
                a.not_evaluated.join("; ")
            ),
            None => "check the standby".into(),
        }
    }
    fn sim_apply(&self, _sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c
            .args::<DrReadinessCall>()
            .ok_or("malformed DrReadiness call")?;
        Ok(a.detail())
    }
    fn aws_call<'a>(
        &'a self,
        _aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c
                .args::<DrReadinessCall>()
                .ok_or("malformed DrReadiness call")?;
            Ok(CallOutput {
                request_ids: vec![],
                detail: a.detail(),
            })
        }
        .boxed()
    }
}
