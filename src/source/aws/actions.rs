//! Runbook actions on AWS: the [`Backend`] a headless run uses against a real
//! account (or moto). Reads come from [`AwsSource::fetch`] per region; each
//! mutating call is one SDK request whose request id goes to the journal.

use std::sync::Arc;
use std::time::Duration;

use super::{AwsFleet, AwsOptions, AwsSource, describe_error, now_ms};
use crate::actions::AwsClients;
use crate::calls::{Backend, CallOutput, PlannedCall, Target};
use crate::model::{EpochMs, FleetSnapshot};

/// A full re-read at most this often while a run polls.
const REFRESH_MS: i64 = 5_000;

pub struct AwsBackend {
    rt: tokio::runtime::Runtime,
    /// Every region the run touches: `--region`s plus any `*region` parameter.
    fleet: AwsFleet,
    cached: Option<(EpochMs, Arc<FleetSnapshot>)>,
}

impl AwsBackend {
    /// `extra_regions`: regions the run names beyond `--region` (its
    /// `*region` parameters, [`crate::runbook::engine::Runner::param_regions`]).
    pub fn connect(mut opts: AwsOptions, extra_regions: &[String]) -> Result<AwsBackend, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        for r in extra_regions {
            if !opts.regions.contains(r) {
                opts.regions.push(r.clone());
            }
        }
        let fleet = rt.block_on(AwsFleet::connect(opts));
        Ok(AwsBackend {
            rt,
            fleet,
            cached: None,
        })
    }

    /// The source of the call's account and region (the first one when it
    /// names neither).
    fn source(&self, t: &Target) -> Result<&AwsSource, String> {
        let (account, region) = t.place();
        let i = self.fleet.source_for(account, region).ok_or_else(|| {
            format!(
                "{} {} is not connected",
                account.unwrap_or("account"),
                region.unwrap_or("region")
            )
        })?;
        Ok(&self.fleet.sources[i])
    }
}

/// Perform one call with this source's clients (the action's own file
/// makes the SDK request: `src/actions/`).
pub async fn perform(src: &AwsSource, c: &PlannedCall) -> Result<CallOutput, String> {
    let clients = AwsClients {
        ecs: &src.ecs,
        aas: &src.aas,
        ec2: &src.ec2,
        codedeploy: &src.codedeploy,
        fis: &src.fis,
        describe_error: describe_dyn,
    };
    crate::actions::perform_aws(&clients, c).await
}

fn describe_dyn(op: &str, e: &(dyn std::error::Error + 'static)) -> String {
    describe_error(op, e)
}

impl Backend for AwsBackend {
    fn now(&self) -> EpochMs {
        now_ms()
    }

    fn snapshot(&mut self) -> Arc<FleetSnapshot> {
        let now = now_ms();
        if let Some((t, s)) = &self.cached
            && now - t < REFRESH_MS
        {
            return s.clone();
        }
        let snap = Arc::new(self.rt.block_on(self.fleet.fetch()));
        self.cached = Some((now, snap.clone()));
        snap
    }

    fn advance_to(&mut self, t: EpochMs) {
        let wait = (t - now_ms()).clamp(50, 60_000);
        std::thread::sleep(Duration::from_millis(wait as u64));
    }

    fn call(&mut self, c: &PlannedCall) -> Result<CallOutput, String> {
        let src = self.source(c.target())?;
        let res = self.rt.block_on(perform(src, c));
        self.cached = None;
        res
    }
}
