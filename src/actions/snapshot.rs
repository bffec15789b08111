//! `snapshot`: save the service's state now under `save_as` (read-only; no
//! call: the runner reads the snapshot it already has).

use futures::FutureExt;
use futures::future::BoxFuture;
use serde_json::Value;

use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallOutput, PlannedCall};

pub struct Snapshot;

pub const OP: &str = "snapshot";

impl RunbookAction for Snapshot {
    fn op(&self) -> &'static str {
        OP
    }
    fn mutates(&self) -> bool {
        false
    }
    fn call_kind(&self) -> Option<&'static str> {
        None
    }
    fn aws_api(&self) -> &'static str {
        "(snapshot)"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        &[]
    }
    fn check(&self, _f: &Fields, save_as: bool) -> Result<(), FieldError> {
        if !save_as {
            return Err(FieldError::missing(self.op(), "save_as"));
        }
        Ok(())
    }
    fn plan(&self, _p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        Ok(vec![])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        format!("snapshot of {}", c.target.label())
    }
    fn sim_apply(&self, _sim: &mut dyn SimBackend, _c: &PlannedCall) -> Result<Value, String> {
        Err("snapshot makes no call".into())
    }
    fn aws_call<'a>(
        &'a self,
        _aws: &'a AwsClients<'a>,
        _c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move { Err("snapshot makes no call".into()) }.boxed()
    }
}
