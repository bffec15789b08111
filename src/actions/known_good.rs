//! Which revision a rollback goes to, and whether ECS is already rolling
//! back. Pure: the simulator and AWS feed it the same shapes.
//!
//! Known-good is the revision the last service deployment that ended well
//! left running (SUCCESSFUL: its target; ROLLBACK_SUCCESSFUL: its
//! rollback's), never a revision that is failing now and never "the
//! previous revision number" (which may never have run).

use serde::{Deserialize, Serialize};

use crate::model::{
    DeploymentStatus, RolloutState, Service, ServiceDeploymentRecord, short_task_definition,
};

/// A rollback ECS is running on its own (the circuit breaker's, an alarm's
/// or one a user asked for elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoRollback {
    /// The revision rolled back from.
    pub from: String,
    /// The revision it goes to.
    pub to: String,
    pub reason: String,
}

/// What is wrong now, from DescribeServices' deployments and, where the
/// source keeps it, the service deployment history.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Now {
    /// Task definition ARNs failing now: a known-good is never one of them.
    pub failing: Vec<String>,
    pub automatic_rollback: Option<AutoRollback>,
}

/// The state of `svc` as a rollback sees it.
pub fn now_of(svc: &Service) -> Now {
    let primary = svc.primary_deployment();
    let failed: Vec<_> = svc
        .deployments
        .iter()
        .filter(|d| d.status != DeploymentStatus::Primary)
        .filter(|d| d.rollout_state == Some(RolloutState::Failed))
        .collect();
    let from_history = svc
        .deployment_history
        .iter()
        .find(|r| r.rolling_back())
        .and_then(|r| {
            Some(AutoRollback {
                from: r.task_definition.clone(),
                to: r.rollback_to.clone()?,
                reason: r.rollback_reason.clone().unwrap_or_default(),
            })
        });
    // DescribeServices alone: a PRIMARY in progress beside a FAILED one is
    // the circuit breaker's rollback to the PRIMARY's revision.
    let from_deployments = primary
        .filter(|p| p.rollout_state == Some(RolloutState::InProgress))
        .and_then(|p| {
            let f = failed
                .iter()
                .find(|f| f.task_definition != p.task_definition)?;
            Some(AutoRollback {
                from: f.task_definition.clone(),
                to: p.task_definition.clone(),
                reason: f
                    .rollout_state_reason
                    .clone()
                    .unwrap_or_else(|| "the deployment failed".into()),
            })
        });
    let automatic_rollback = from_history.or(from_deployments);
    let mut failing: Vec<String> = failed.iter().map(|d| d.task_definition.clone()).collect();
    match &automatic_rollback {
        Some(a) => failing.push(a.from.clone()),
        None => failing.extend(primary.map(|p| p.task_definition.clone())),
    }
    failing.sort();
    failing.dedup();
    Now {
        failing,
        automatic_rollback,
    }
}

/// The revision the newest deployment that ended well left running, other
/// than a failing one. `history` in any order.
pub fn from_history<'a>(
    history: impl IntoIterator<Item = &'a ServiceDeploymentRecord>,
    now: &Now,
) -> Option<String> {
    let mut ended_well: Vec<_> = history
        .into_iter()
        .filter_map(|r| Some((r.finished_at.unwrap_or(r.started_at), r.good_revision()?)))
        .filter(|(_, td)| !now.failing.iter().any(|f| f == td))
        .collect();
    ended_well.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    ended_well.first().map(|(_, td)| td.to_string())
}

/// Known-good from what DescribeServices showed, where no history can be
/// read: an ACTIVE deployment that had completed (the one being replaced).
pub fn from_seen(svc: &Service, now: &Now) -> Option<String> {
    svc.deployments
        .iter()
        .filter(|d| d.status != DeploymentStatus::Primary)
        .filter(|d| d.rollout_state == Some(RolloutState::Completed))
        .filter(|d| !now.failing.contains(&d.task_definition))
        .max_by_key(|d| d.created_at)
        .map(|d| d.task_definition.clone())
}

/// `family:revision` or an ARN names `arn`.
pub fn names(named: &str, arn: &str) -> bool {
    let named = named.trim();
    !named.is_empty()
        && (named == arn || short_task_definition(named) == short_task_definition(arn))
}

/// Why no known-good could be found, with what the operator can do.
pub fn none_found(current: &str, why: &str) -> String {
    format!(
        "no known-good revision of {}: {why}; name one with --param task_definition=family:revision (or its ARN)",
        short_task_definition(current)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Deployment, history::status};

    fn dep(id: &str, st: DeploymentStatus, td: &str, r: RolloutState, at: i64) -> Deployment {
        Deployment {
            id: id.into(),
            status: st,
            task_definition: td.into(),
            desired_count: 0,
            pending_count: 0,
            running_count: 0,
            failed_tasks: 0,
            rollout_state: Some(r),
            rollout_state_reason: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn rec(st: &str, td: &str, to: Option<&str>, at: i64) -> ServiceDeploymentRecord {
        ServiceDeploymentRecord {
            status: st.into(),
            task_definition: td.into(),
            rollback_to: to.map(str::to_string),
            started_at: at,
            finished_at: Some(at + 1),
            ..Default::default()
        }
    }

    #[test]
    fn a_breaker_rollback_is_followed_and_its_failing_revision_excluded() {
        // bad-deploy at 4m: PRIMARY api:42 rolling back, api:43 FAILED.
        let svc = Service {
            task_definition: "api:42".into(),
            deployments: vec![
                dep(
                    "b",
                    DeploymentStatus::Primary,
                    "api:42",
                    RolloutState::InProgress,
                    2,
                ),
                dep(
                    "a",
                    DeploymentStatus::Active,
                    "api:43",
                    RolloutState::Failed,
                    1,
                ),
            ],
            ..Default::default()
        };
        let now = now_of(&svc);
        assert_eq!(now.failing, vec!["api:43".to_string()]);
        let auto = now.automatic_rollback.clone().expect("a rollback runs");
        assert_eq!((auto.from.as_str(), auto.to.as_str()), ("api:43", "api:42"));
        // Seen deployments offer nothing but the failing one.
        assert_eq!(from_seen(&svc, &now), None);
    }

    #[test]
    fn before_the_breaker_the_replaced_deployment_is_known_good() {
        let svc = Service {
            deployments: vec![
                dep(
                    "b",
                    DeploymentStatus::Primary,
                    "api:43",
                    RolloutState::InProgress,
                    2,
                ),
                dep(
                    "a",
                    DeploymentStatus::Active,
                    "api:42",
                    RolloutState::Completed,
                    1,
                ),
            ],
            ..Default::default()
        };
        let now = now_of(&svc);
        assert_eq!(now.failing, vec!["api:43".to_string()]);
        assert_eq!(now.automatic_rollback, None);
        assert_eq!(from_seen(&svc, &now).as_deref(), Some("api:42"));
    }

    #[test]
    fn history_gives_the_last_revision_that_ended_well_never_a_failing_one() {
        let now = Now {
            failing: vec!["api:45".into()],
            automatic_rollback: None,
        };
        let h = [
            // api:45 completed, then turned bad: it is failing now.
            rec(status::SUCCESSFUL, "api:45", None, 50),
            // api:44 was rolled back to api:41: 41 ran, 44 never did.
            rec(status::ROLLBACK_SUCCESSFUL, "api:44", Some("api:41"), 40),
            rec(status::SUCCESSFUL, "api:42", None, 20),
            rec(status::STOPPED, "api:43", None, 30),
        ];
        assert_eq!(from_history(&h, &now).as_deref(), Some("api:41"));
        // Only the failing one ran: nothing.
        assert_eq!(from_history(&h[..1], &now), None);
        // Not "the previous revision number": api:44 never ran.
        assert_ne!(from_history(&h, &now).as_deref(), Some("api:44"));
    }

    #[test]
    fn a_named_revision_matches_by_arn_or_family_revision() {
        let arn = "arn:aws:ecs:us-east-1:1:task-definition/api:42";
        assert!(names("api:42", arn));
        assert!(names(arn, arn));
        assert!(!names("api:4", arn));
        assert!(!names("", arn));
    }
}
