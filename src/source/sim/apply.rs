//! The simulator as a [`SimBackend`]: the few primitives runbook actions
//! use (`src/actions/`). Each call names the service by its identity (the
//! account and region it resolved to), so of two twins only the named one
//! changes.

use super::Simulator;
use crate::actions::SimBackend;
use crate::calls::{CallOutput, PlannedCall, Target};
use crate::model::FleetSnapshot;
use crate::model::database::{DbState, Promotion};
use crate::model::dns::RecordSet;

/// Perform one call on the simulator (the headless backend and the
/// console's simulator source both use this).
pub fn apply_to_sim(sim: &mut Simulator, c: &PlannedCall) -> Result<CallOutput, String> {
    crate::actions::apply_sim(sim, c)
}

impl Simulator {
    /// The engine's index of the service a call is pinned to.
    fn index_of(&self, t: &Target) -> Result<usize, String> {
        let (account, region) = t.place();
        self.engine
            .service_index_at(account, region, &t.cluster, &t.service)
            .ok_or_else(|| format!("no service {}", t.label()))
    }
}

impl SimBackend for Simulator {
    fn snapshot(&self) -> FleetSnapshot {
        Simulator::snapshot(self)
    }

    fn set_desired_count(&mut self, t: &Target, n: i32) -> Result<i32, String> {
        let si = self.index_of(t)?;
        self.engine.set_desired_at(si, n)
    }

    fn set_scalable_target(
        &mut self,
        t: &Target,
        resource_id: &str,
        min: i32,
        max: i32,
    ) -> Result<(i32, i32), String> {
        let si = self.index_of(t)?;
        self.engine
            .set_scalable_target_at(si, resource_id, min, max)
    }

    fn deploy(&mut self, t: &Target, family_revision: &str) -> Result<String, String> {
        let si = self.index_of(t)?;
        self.engine.deploy_at(si, family_revision)
    }

    fn rollback_deployment(&mut self, t: &Target) -> Result<(String, String), String> {
        let si = self.index_of(t)?;
        self.engine.rollback_at(si)
    }

    fn stop_task(&mut self, t: &Target, task_id: &str, reason: &str) -> Result<(), String> {
        let si = self.index_of(t)?;
        self.engine
            .stop_task_by_id(si, task_id, reason, "UserInitiated")
    }

    fn impair_service_az(&mut self, t: &Target, az: &str, ms: Option<i64>) {
        if let Ok(si) = self.index_of(t) {
            self.engine.impair_service_az(si, az, ms);
        }
    }

    fn release_service_az(&mut self, t: &Target, az: &str) {
        if let Ok(si) = self.index_of(t) {
            self.engine.release_service_az(si, az);
        }
    }

    fn disrupt_service_az(&mut self, t: &Target, az: &str, ms: Option<i64>) {
        if let Ok(si) = self.index_of(t) {
            self.engine.disrupt_service_az(si, az, ms);
        }
    }

    fn dns_records(&self, zone: &str, name: &str) -> Result<(String, Vec<RecordSet>), String> {
        self.engine.dns_records(zone, name)
    }

    fn dns_change(&mut self, zone_id: &str, sets: &[RecordSet]) -> Result<String, String> {
        self.engine.dns_change(zone_id, sets)
    }

    fn dns_change_status(&self, id: &str) -> Result<String, String> {
        self.engine.dns_change_status(id)
    }

    fn db_state(&self, id: &str, region: &str) -> Result<DbState, String> {
        self.engine.db_state(id, region)
    }

    fn db_promote(&mut self, p: &Promotion) -> Result<serde_json::Value, String> {
        self.engine.db_promote(p)
    }
}
