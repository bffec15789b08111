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
    fn source(&self, t: &Target) -> Result<usize, String> {
        let (account, region) = t.place();
        let i = self.fleet.source_for(account, region).ok_or_else(|| {
            format!(
                "{} {} is not connected",
                account.unwrap_or("account"),
                region.unwrap_or("region")
            )
        })?;
        Ok(i)
    }
}

/// Perform one call with the clients of the fleet's source `i` (the
/// action's own file makes the SDK request: `src/actions/`); a DR read
/// reaches the same account's other regions of the fleet.
pub async fn perform_in(fleet: &AwsFleet, i: usize, c: &PlannedCall) -> Result<CallOutput, String> {
    let src = &fleet.sources[i];
    let account = src.account();
    let rds_in = |region: &str| {
        let a = (!account.is_empty()).then_some(account.as_str());
        fleet
            .source_for(a, Some(region))
            .map(|j| fleet.sources[j].rds.clone())
    };
    perform_with(src, &rds_in, c).await
}

/// Perform one call with one source's clients (other regions unreached).
pub async fn perform(src: &AwsSource, c: &PlannedCall) -> Result<CallOutput, String> {
    let region = src.region.clone();
    let rds_in = |r: &str| (r == region).then(|| src.rds.clone());
    perform_with(src, &rds_in, c).await
}

async fn perform_with(
    src: &AwsSource,
    rds_in: &(dyn Fn(&str) -> Option<aws_sdk_rds::Client> + Sync),
    c: &PlannedCall,
) -> Result<CallOutput, String> {
    let clients = AwsClients {
        ecs: &src.ecs,
        aas: &src.aas,
        ec2: &src.ec2,
        codedeploy: &src.codedeploy,
        fis: &src.fis,
        route53: &src.route53,
        rds: &src.rds,
        cw: &src.cw,
        rds_in,
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
        let i = self.source(c.target())?;
        let res = self.rt.block_on(perform_in(&self.fleet, i, c));
        self.cached = None;
        res
    }
}
