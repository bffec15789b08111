//! `dr.size`: read-only, no API call: how many tasks a DR standby needs,
//! saved under `save_as` as `{count}`: `target_count` when above 0, else
//! the primary's last running count, at least its desired count (in a
//! region outage the primary may run none).

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall};

pub struct DrSize;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrSizeCall {
    pub count: i32,
    pub why: String,
}

impl CallArgs for DrSizeCall {
    const KIND: &'static str = "DrSize";
}

impl DrSizeCall {
    fn detail(&self) -> Value {
        json!({"count": self.count, "why": self.why})
    }
}

impl RunbookAction for DrSize {
    fn op(&self) -> &'static str {
        "dr.size"
    }
    fn mutates(&self) -> bool {
        false
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(DrSizeCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "(none: from the snapshot)"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[
            ("running", FieldKind::Count),
            ("desired", FieldKind::Count),
            ("target_count", FieldKind::Count),
        ]
    }
    fn check(&self, f: &Fields, save_as: bool) -> Result<(), FieldError> {
        if !save_as {
            return Err(FieldError::missing(self.op(), "save_as"));
        }
        if !f.has("running") {
            return Err(FieldError::missing(self.op(), "running"));
        }
        Ok(())
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let running = p.count("running")?.unwrap_or(0);
        let desired = p.count("desired")?.unwrap_or(0);
        let call = match p.count("target_count")?.filter(|n| *n > 0) {
            Some(n) => DrSizeCall {
                count: n,
                why: format!("target_count {n}"),
            },
            None if running >= desired => DrSizeCall {
                count: running,
                why: format!("the primary's {running} running tasks"),
            },
            None => DrSizeCall {
                count: desired,
                why: format!("the primary's desired count {desired} ({running} running)"),
            },
        };
        if call.count < 1 {
            return Err(
                "the primary runs no task and wants none: pass target_count to size the standby"
                    .into(),
            );
        }
        Ok(vec![PlannedCall::new(p.target.clone(), &call)])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        match c.args::<DrSizeCall>() {
            Some(a) => format!("the standby needs {} tasks: {}", a.count, a.why),
            None => "size the standby".into(),
        }
    }
    fn sim_apply(&self, _sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c.args::<DrSizeCall>().ok_or("malformed DrSize call")?;
        Ok(a.detail())
    }
    fn aws_call<'a>(
        &'a self,
        _aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c.args::<DrSizeCall>().ok_or("malformed DrSize call")?;
            Ok(CallOutput {
                request_ids: vec![],
                detail: a.detail(),
            })
        }
        .boxed()
    }
}
