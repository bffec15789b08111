//! `ecs.resolve_revision`: read-only, the last known-good task definition
//! of the service (saved under `save_as`), from ECS's service deployment
//! history (ListServiceDeployments, DescribeServiceDeployments,
//! DescribeServiceRevisions); where that cannot be read, from the
//! deployments ecsdeck saw; where even those are empty, from the operator
//! (`task_definition`). When ECS is already rolling back on its own, the
//! answer says so (`automaticRollback`) and names where it goes.

use aws_sdk_ecs::types::ServiceDeploymentStatus;
use futures::FutureExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::codedeploy;
use super::known_good::{self, AutoRollback, Now};
use super::{AwsClients, FieldError, FieldKind, Fields, Plan, RunbookAction, SimBackend};
use crate::calls::{CallArgs, CallOutput, PlannedCall, find_service_by_target};
use crate::model::{FleetSnapshot, ServiceDeploymentRecord, short_task_definition};

pub struct ResolveRevision;

pub const OP: &str = "ecs.resolve_revision";

/// Where the answer came from (`from` in its detail).
pub const FROM_HISTORY: &str = "ecs:ListServiceDeployments";
pub const FROM_SEEN: &str = "deployments ecsdeck saw";
pub const FROM_NAMED: &str = "task_definition parameter";
pub const FROM_AUTOMATIC: &str = "ECS's own rollback";
pub const FROM_CODEDEPLOY: &str = "CodeDeploy's original task set";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolveRevisionCall {
    pub current: String,
    /// Revisions failing now (never the answer).
    #[serde(default)]
    pub failing: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_rollback: Option<AutoRollback>,
    /// Known-good from the deployments the snapshot showed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<String>,
    /// `task_definition` as the runbook gave it (family:revision or ARN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named: Option<String>,
    /// A deployment (not ECS's own rollback) is in progress.
    #[serde(default)]
    pub in_progress: bool,
    /// CODE_DEPLOY: the deployment is CodeDeploy's, and so is the rollback.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub code_deploy: bool,
    /// A blue/green, linear or canary strategy, whose deployments report
    /// no rolloutState: ECS's service deployments say whether one is in
    /// progress.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_rolling: bool,
}

impl CallArgs for ResolveRevisionCall {
    const KIND: &'static str = "ResolveRevision";
}

impl ResolveRevisionCall {
    fn now(&self) -> Now {
        Now {
            failing: self.failing.clone(),
            automatic_rollback: self.automatic_rollback.clone(),
        }
    }
}

impl RunbookAction for ResolveRevision {
    fn op(&self) -> &'static str {
        OP
    }
    fn mutates(&self) -> bool {
        false
    }
    fn call_kind(&self) -> Option<&'static str> {
        Some(ResolveRevisionCall::KIND)
    }
    fn aws_api(&self) -> &'static str {
        "ecs:ListServiceDeployments+DescribeServiceDeployments+DescribeServiceRevisions+DescribeTaskDefinition"
    }
    fn fields(&self) -> &'static [(&'static str, FieldKind)] {
        // `which`: `previous-successful` (the only one so far);
        // `task_definition`: the operator's choice (empty: find it).
        &[
            ("which", FieldKind::Text),
            ("task_definition", FieldKind::Text),
        ]
    }
    fn check(&self, f: &Fields, save_as: bool) -> Result<(), FieldError> {
        if !save_as {
            return Err(FieldError::missing(self.op(), "save_as"));
        }
        match f.str("which") {
            None | Some("previous-successful") => Ok(()),
            Some(other) => Err(FieldError::at(
                "which",
                format!("`which` = {other:?}: the only one is \"previous-successful\""),
            )),
        }
    }
    fn plan(&self, p: &Plan<'_>) -> Result<Vec<PlannedCall>, String> {
        let svc = p.svc;
        if svc.deployment_controller == "EXTERNAL" {
            return Err(format!(
                "refused: {} uses the EXTERNAL deployment controller: its task sets belong to another tool, roll back there",
                p.target.label()
            ));
        }
        let code_deploy = svc.deployment_controller == codedeploy::CONTROLLER;
        let now = known_good::now_of(svc);
        let named = p.text("task_definition")?.filter(|s| !s.trim().is_empty());
        if code_deploy
            && let Some(n) = &named
            && !known_good::names(n, &svc.task_definition)
        {
            return Err(format!(
                "refused: {} is deployed by CodeDeploy, whose rollback returns to the original task set ({}); \
                 to go to {n}, deploy it in CodeDeploy",
                p.target.label(),
                short_task_definition(&svc.task_definition)
            ));
        }
        if let Some(n) = &named
            && let Some(f) = now.failing.iter().find(|f| known_good::names(n, f))
        {
            return Err(format!(
                "refused: task_definition {n} is {}, the revision failing now",
                short_task_definition(f)
            ));
        }
        // A rolling deployment says so in its rolloutState; any strategy's
        // shows in the service deployments (where the source keeps them).
        let in_progress = now.automatic_rollback.is_none()
            && (svc
                .primary_deployment()
                .is_some_and(|d| d.rollout_state == Some(crate::model::RolloutState::InProgress))
                || svc.deployment_history.iter().any(|r| r.in_progress()));
        let call = ResolveRevisionCall {
            in_progress,
            code_deploy,
            not_rolling: !svc.deployment_configuration.is_rolling(),
            current: svc.task_definition.clone(),
            seen: known_good::from_seen(svc, &now),
            failing: now.failing,
            automatic_rollback: now.automatic_rollback,
            named,
        };
        Ok(vec![PlannedCall::new(p.target.clone(), &call)])
    }
    fn describe(&self, c: &PlannedCall) -> String {
        let Some(a) = c.args::<ResolveRevisionCall>() else {
            return format!(
                "find the last known-good task definition of {}",
                c.target.label()
            );
        };
        if a.code_deploy {
            return format!(
                "find the CodeDeploy deployment in progress of {} (CODE_DEPLOY): its rollback returns to the original task set",
                c.target.label()
            );
        }
        match (&a.named, &a.automatic_rollback) {
            (Some(n), _) => format!(
                "check that task definition {n} exists (the rollback target named for {})",
                c.target.label()
            ),
            (None, Some(r)) => format!(
                "ECS is already rolling {} back from {} to {}: follow it",
                c.target.label(),
                short_task_definition(&r.from),
                short_task_definition(&r.to)
            ),
            (None, None) => format!(
                "find the last known-good task definition of {} (failing: {})",
                c.target.label(),
                a.failing
                    .iter()
                    .map(|f| short_task_definition(f))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    fn sim_apply(&self, sim: &mut dyn SimBackend, c: &PlannedCall) -> Result<Value, String> {
        let a = c
            .args::<ResolveRevisionCall>()
            .ok_or("malformed ResolveRevision call")?;
        let snap = sim.snapshot();
        let svc = find_service_by_target(&snap, &c.target)
            .ok_or_else(|| format!("service {} not found", c.target.label()))?;
        if a.code_deploy {
            let f = codedeploy::sim_active(svc)
                .ok_or_else(|| codedeploy::none_active(&c.target.label()))?;
            let td = known_good::from_history(&svc.deployment_history, &a.now())
                .or_else(|| a.seen.clone())
                .ok_or_else(|| {
                    known_good::none_found(&a.current, "no CodeDeploy deployment of it ended well")
                })?;
            let mut v = answer(&snap, &a, &td, FROM_CODEDEPLOY, None);
            codedeploy_failing(&mut v, &f);
            v["codeDeploy"] = json!(f);
            return Ok(v);
        }
        if let Some(n) = &a.named {
            let td = snap
                .task_definitions
                .keys()
                .find(|arn| known_good::names(n, arn))
                .cloned()
                .ok_or_else(|| {
                    format!("task definition {n} does not exist (DescribeTaskDefinition)")
                })?;
            return Ok(answer(&snap, &a, &td, FROM_NAMED, None));
        }
        if let Some(r) = &a.automatic_rollback {
            return Ok(answer(&snap, &a, &r.to, FROM_AUTOMATIC, None));
        }
        // The simulator keeps ECS's history, as ListServiceDeployments gives it.
        if let Some(td) = known_good::from_history(&svc.deployment_history, &a.now()) {
            return Ok(answer(&snap, &a, &td, FROM_HISTORY, None));
        }
        match &a.seen {
            Some(td) => Ok(answer(&snap, &a, td, FROM_SEEN, None)),
            None => Err(known_good::none_found(
                &a.current,
                "no deployment in the service's history ended well other than the failing one",
            )),
        }
    }
    fn aws_call<'a>(
        &'a self,
        aws: &'a AwsClients<'a>,
        c: &'a PlannedCall,
    ) -> BoxFuture<'a, Result<CallOutput, String>> {
        async move {
            let a = c
                .args::<ResolveRevisionCall>()
                .ok_or("malformed ResolveRevision call")?;
            resolve_on_aws(aws, c, &a).await
        }
        .boxed()
    }
}

/// What fails is the CodeDeploy deployment's revision (its AppSpec's task
/// definition), else the deployment itself.
fn codedeploy_failing(v: &mut Value, f: &codedeploy::Found) {
    let (failing, short) = match &f.task_definition {
        Some(td) => (td.clone(), short_task_definition(td).to_string()),
        None => {
            let d = format!("CodeDeploy deployment {}", f.deployment_id);
            (d.clone(), d)
        }
    };
    v["failing"] = Value::from(failing);
    v["failingRevision"] = Value::from(short);
}

/// The detail saved under `save_as`.
fn answer(
    snap: &FleetSnapshot,
    a: &ResolveRevisionCall,
    td: &str,
    from: &str,
    history_error: Option<&str>,
) -> Value {
    let images: Vec<String> = snap
        .task_definition(td)
        .map(|t| {
            t.container_definitions
                .iter()
                .map(|c| c.image.clone())
                .collect()
        })
        .unwrap_or_default();
    detail(a, td, from, history_error, images)
}

fn detail(
    a: &ResolveRevisionCall,
    td: &str,
    from: &str,
    history_error: Option<&str>,
    images: Vec<String>,
) -> Value {
    let failing = a
        .automatic_rollback
        .as_ref()
        .map(|r| r.from.clone())
        .or_else(|| a.failing.first().cloned())
        .unwrap_or_else(|| a.current.clone());
    let mut v = json!({
        "taskDefinition": td,
        "familyRevision": short_task_definition(td),
        "current": a.current,
        "failing": failing,
        "failingRevision": short_task_definition(&failing),
        "images": images,
        "from": from,
        "automaticRollback": a.automatic_rollback.is_some() && a.named.is_none(),
        "route": route(a, td),
        "rollbackReason": a.automatic_rollback.as_ref().map(|r| r.reason.clone()),
    });
    if let (Some(e), Value::Object(o)) = (history_error, &mut v) {
        o.insert("historyError".into(), Value::from(e));
    }
    v
}

/// How the rollback gets there: `follow` ECS's own rollback (to this
/// revision), `stop` the deployment in progress with rollback, or
/// `redeploy` the revision (UpdateService; a named revision, or nothing in
/// progress).
fn route(a: &ResolveRevisionCall, td: &str) -> &'static str {
    if a.code_deploy {
        return "codedeploy";
    }
    match (&a.automatic_rollback, &a.named) {
        (Some(_), None) => "follow",
        (Some(r), Some(_)) if known_good::names(td, &r.to) => "follow",
        (_, Some(_)) => "redeploy",
        (None, None) if a.in_progress => "stop",
        (None, None) => "redeploy",
    }
}

/// On AWS: the named revision checked, ECS's own rollback followed, else
/// the history read; where it cannot be read (an older API, an emulator,
/// a denied permission), the deployments seen.
async fn resolve_on_aws(
    aws: &AwsClients<'_>,
    c: &PlannedCall,
    a: &ResolveRevisionCall,
) -> Result<CallOutput, String> {
    let mut request_ids = vec![];
    if a.code_deploy {
        // CodeDeploy's rollback returns to the original (PRIMARY) task set,
        // which DescribeServices reports as the service's task definition.
        let f =
            codedeploy::find_active(aws, &c.target.cluster, &c.target.service, &mut request_ids)
                .await?
                .ok_or_else(|| codedeploy::none_active(&c.target.label()))?;
        let (arn, images) = describe_td(aws, &a.current, &mut request_ids).await?;
        let mut v = detail(a, &arn, FROM_CODEDEPLOY, None, images);
        codedeploy_failing(&mut v, &f);
        v["codeDeploy"] = json!(f);
        return Ok(CallOutput {
            request_ids,
            detail: v,
        });
    }
    // Blue/green, linear and canary deployments report no rolloutState:
    // whether one is in progress is ECS's service deployments' to say.
    let mut a = a.clone();
    if a.not_rolling
        && !a.in_progress
        && a.named.is_none()
        && a.automatic_rollback.is_none()
        && in_progress_on_aws(aws, c, &mut request_ids).await
    {
        a.in_progress = true;
    }
    let a = &a;
    let (td, from, history_error) = if let Some(n) = &a.named {
        (n.clone(), FROM_NAMED, None)
    } else if let Some(r) = &a.automatic_rollback {
        (r.to.clone(), FROM_AUTOMATIC, None)
    } else {
        // ECS's history first; else what DescribeServices showed.
        let (found, history_error, why) = match history_on_aws(aws, c, &mut request_ids).await {
            Ok(h) => (
                known_good::from_history(&h, &a.now()),
                None,
                "no service deployment in ECS's history ended well other than the failing one"
                    .to_string(),
            ),
            Err(e) => (
                None,
                Some(e.clone()),
                format!(
                    "the deployment history could not be read ({e}) and ecsdeck saw no other deployment complete"
                ),
            ),
        };
        match (found, &a.seen) {
            (Some(td), _) => (td, FROM_HISTORY, None),
            (None, Some(td)) => (td.clone(), FROM_SEEN, history_error),
            (None, None) => return Err(known_good::none_found(&a.current, &why)),
        }
    };
    // It must exist; its images show in the answer.
    let (arn, images) = describe_td(aws, &td, &mut request_ids).await?;
    Ok(CallOutput {
        request_ids,
        detail: detail(a, &arn, from, history_error.as_deref(), images),
    })
}

/// Whether a service deployment is PENDING or IN_PROGRESS (false where
/// ListServiceDeployments cannot be read).
async fn in_progress_on_aws(
    aws: &AwsClients<'_>,
    c: &PlannedCall,
    request_ids: &mut Vec<String>,
) -> bool {
    let listed = aws
        .ecs
        .list_service_deployments()
        .cluster(&c.target.cluster)
        .service(&c.target.service)
        .status(ServiceDeploymentStatus::InProgress)
        .status(ServiceDeploymentStatus::Pending)
        .max_results(1)
        .send()
        .await;
    match listed {
        Ok(o) => {
            request_ids.extend(super::request_ids(
                aws_sdk_ecs::operation::RequestId::request_id(&o),
            ));
            !o.service_deployments().is_empty()
        }
        Err(_) => false,
    }
}

/// DescribeTaskDefinition: it exists; its ARN and images.
async fn describe_td(
    aws: &AwsClients<'_>,
    td: &str,
    request_ids: &mut Vec<String>,
) -> Result<(String, Vec<String>), String> {
    let out = aws
        .ecs
        .describe_task_definition()
        .task_definition(td)
        .send()
        .await
        .map_err(|e| {
            format!(
                "task definition {td} does not exist or cannot be read: {}",
                aws.err("ecs:DescribeTaskDefinition", &e)
            )
        })?;
    request_ids.extend(super::request_ids(
        aws_sdk_ecs::operation::RequestId::request_id(&out),
    ));
    let t = out.task_definition();
    let arn = t
        .and_then(|t| t.task_definition_arn())
        .unwrap_or(td)
        .to_string();
    let images = t
        .map(|t| {
            t.container_definitions()
                .iter()
                .filter_map(|c| c.image().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    Ok((arn, images))
}

/// The service's deployments that ended well, newest first (at most 20:
/// one page of ListServiceDeployments, one DescribeServiceDeployments and
/// one DescribeServiceRevisions).
async fn history_on_aws(
    aws: &AwsClients<'_>,
    c: &PlannedCall,
    request_ids: &mut Vec<String>,
) -> Result<Vec<ServiceDeploymentRecord>, String> {
    use aws_sdk_ecs::operation::RequestId;
    let listed = aws
        .ecs
        .list_service_deployments()
        .cluster(&c.target.cluster)
        .service(&c.target.service)
        .status(ServiceDeploymentStatus::Successful)
        .status(ServiceDeploymentStatus::RollbackSuccessful)
        .max_results(20)
        .send()
        .await
        .map_err(|e| aws.err("ecs:ListServiceDeployments", &e))?;
    request_ids.extend(super::request_ids(listed.request_id()));
    let arns: Vec<String> = listed
        .service_deployments()
        .iter()
        .filter_map(|d| d.service_deployment_arn().map(str::to_string))
        .collect();
    if arns.is_empty() {
        return Ok(vec![]);
    }
    let described = aws
        .ecs
        .describe_service_deployments()
        .set_service_deployment_arns(Some(arns))
        .send()
        .await
        .map_err(|e| aws.err("ecs:DescribeServiceDeployments", &e))?;
    request_ids.extend(super::request_ids(described.request_id()));
    let ms = |t: Option<&aws_sdk_ecs::primitives::DateTime>| t.and_then(|t| t.to_millis().ok());
    // (service deployment, its target revision ARN, its rollback's)
    let mut rows = vec![];
    let mut revisions = vec![];
    for d in described.service_deployments() {
        let target = d
            .target_service_revision()
            .and_then(|r| r.arn())
            .map(str::to_string);
        let back = d
            .rollback()
            .and_then(|r| r.service_revision_arn())
            .map(str::to_string);
        revisions.extend(target.iter().chain(back.iter()).cloned());
        let rec = ServiceDeploymentRecord {
            arn: d.service_deployment_arn().unwrap_or_default().to_string(),
            status: d
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            status_reason: d.status_reason().map(str::to_string),
            task_definition: String::new(),
            rollback_to: None,
            rollback_reason: d.rollback().and_then(|r| r.reason()).map(str::to_string),
            started_at: ms(d.started_at().or(d.created_at())).unwrap_or(0),
            finished_at: ms(d.finished_at()),
            deployment_ids: vec![],
        };
        rows.push((rec, target, back));
    }
    revisions.sort();
    revisions.dedup();
    revisions.truncate(20);
    let mut td_of = std::collections::HashMap::new();
    if !revisions.is_empty() {
        let r = aws
            .ecs
            .describe_service_revisions()
            .set_service_revision_arns(Some(revisions))
            .send()
            .await
            .map_err(|e| aws.err("ecs:DescribeServiceRevisions", &e))?;
        request_ids.extend(super::request_ids(r.request_id()));
        for rev in r.service_revisions() {
            if let (Some(arn), Some(td)) = (rev.service_revision_arn(), rev.task_definition()) {
                td_of.insert(arn.to_string(), td.to_string());
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|(mut rec, target, back)| {
            rec.task_definition = target
                .and_then(|t| td_of.get(&t).cloned())
                .unwrap_or_default();
            rec.rollback_to = back.and_then(|b| td_of.get(&b).cloned());
            rec
        })
        .collect())
}
