//! A service's deployment history, as ECS's ListServiceDeployments /
//! DescribeServiceDeployments / DescribeServiceRevisions give it: which
//! revision each deployment targeted, how it ended, and where a rollback
//! went. The simulator keeps it as ECS does; on AWS it is read on demand
//! (by `ecs.resolve_revision`), not polled.

use serde::{Deserialize, Serialize};

use super::EpochMs;

/// ECS's `ServiceDeploymentStatus`, as its API spells it.
pub mod status {
    pub const PENDING: &str = "PENDING";
    pub const IN_PROGRESS: &str = "IN_PROGRESS";
    pub const SUCCESSFUL: &str = "SUCCESSFUL";
    pub const STOPPED: &str = "STOPPED";
    pub const ROLLBACK_IN_PROGRESS: &str = "ROLLBACK_IN_PROGRESS";
    pub const ROLLBACK_SUCCESSFUL: &str = "ROLLBACK_SUCCESSFUL";
    pub const ROLLBACK_FAILED: &str = "ROLLBACK_FAILED";
}

/// One service deployment.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ServiceDeploymentRecord {
    /// `arn:aws:ecs:…:service-deployment/cluster/service/id`.
    pub arn: String,
    /// ECS's `ServiceDeploymentStatus` (see [`status`]).
    pub status: String,
    pub status_reason: Option<String>,
    /// The task definition ARN of the revision it deployed (its target).
    pub task_definition: String,
    /// Where its rollback went (`rollback.serviceRevisionArn`'s task
    /// definition), once it rolled back.
    pub rollback_to: Option<String>,
    /// Why it rolled back ("circuit breaker…", "alarm…", "user…").
    pub rollback_reason: Option<String>,
    pub started_at: EpochMs,
    pub finished_at: Option<EpochMs>,
    /// The DescribeServices deployment ids (`ecs-svc/…`) it ran as: the
    /// rollout, then its rollback's.
    #[serde(default)]
    pub deployment_ids: Vec<String>,
}

impl ServiceDeploymentRecord {
    /// The revision this deployment left running when it ended well: its
    /// target when SUCCESSFUL, its rollback's when ROLLBACK_SUCCESSFUL.
    pub fn good_revision(&self) -> Option<&str> {
        match self.status.as_str() {
            status::SUCCESSFUL => Some(&self.task_definition),
            status::ROLLBACK_SUCCESSFUL => self.rollback_to.as_deref(),
            _ => None,
        }
    }

    /// Deploying now, not rolling back (PENDING or IN_PROGRESS).
    pub fn in_progress(&self) -> bool {
        matches!(self.status.as_str(), status::PENDING | status::IN_PROGRESS)
    }

    /// A rollback is running (the circuit breaker's, an alarm's or a user's).
    pub fn rolling_back(&self) -> bool {
        self.status == status::ROLLBACK_IN_PROGRESS
    }
}

/// History kept per service (ECS keeps more; a rollback needs the last few).
pub const HISTORY_CAP: usize = 20;
