//! Security checks.

use super::*;

pub(super) fn sec01<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let mut out = vec![];
    if let Some(n) = &c.svc.network_configuration
        && n.assign_public_ip == "ENABLED"
    {
        out.extend(hit(
            High,
            &c.svc.arn,
            vec!["awsvpcConfiguration.assignPublicIp=ENABLED".into()],
            svc_fix(
                c,
                "--network-configuration 'awsvpcConfiguration={subnets=[<private>],assignPublicIp=DISABLED}'",
            ),
        ));
    }
    // ECS.16: task sets (EXTERNAL and CODE_DEPLOY controllers) carry their
    // own network configuration.
    let ev: Vec<String> = c
        .svc
        .task_sets
        .iter()
        .filter(|t| t.assign_public_ip)
        .map(|t| format!("task set {} ({}) assignPublicIp=ENABLED", t.id, t.status))
        .collect();
    out.extend(hit_if!(
        High,
        &c.svc.arn,
        ev,
        "create the task sets with awsvpcConfiguration assignPublicIp=DISABLED (aws ecs create-task-set … --network-configuration) and delete the public ones"
    ));
    out
}

pub(super) fn sec02<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td() else { return vec![] };
    let mut ev = vec![];
    for d in &td.container_definitions {
        for kv in &d.environment {
            if crate::model::secret::looks_secret(&kv.name, &kv.value) {
                // Never the value: a report must not leak the secret it found.
                let what = if crate::model::secret::holds_aws_key(&kv.name, &kv.value) {
                    " holds an AWS access key and"
                } else {
                    ""
                };
                ev.push(format!(
                    "container {} environment {}{what} is set in plaintext (value withheld)",
                    d.name, kv.name
                ));
            }
        }
    }
    hit_if!(
        Critical,
        &td.arn,
        ev,
        "move them to containerDefinitions[].secrets[].valueFrom (Secrets Manager / SSM ARN) and rotate what was exposed"
    )
}

pub(super) fn sec03<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td().filter(|_| c.is_linux()) else {
        return vec![];
    };
    let ev: Vec<String> = td
        .container_definitions
        .iter()
        .filter(|d| d.readonly_root_filesystem != Some(true))
        .map(|d| {
            format!(
                "container {} readonlyRootFilesystem={}",
                d.name,
                d.readonly_root_filesystem
                    .map_or("absent".into(), |b| b.to_string())
            )
        })
        .collect();
    hit_if!(
        High,
        &td.arn,
        ev,
        "set readonlyRootFilesystem=true with a writable volume for /tmp",
    )
}

pub(super) fn sec04<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td().filter(|_| c.is_linux()) else {
        return vec![];
    };
    let ev: Vec<String> = td
        .container_definitions
        .iter()
        .filter(|d| match d.user.as_deref() {
            None | Some("") | Some("root") | Some("0") => true,
            Some(u) => u.starts_with("0:") || u.starts_with("root:"),
        })
        .map(|d| {
            format!(
                "container {} user={}",
                d.name,
                d.user.as_deref().unwrap_or("unset")
            )
        })
        .collect();
    hit_if!(
        Medium,
        &td.arn,
        ev,
        "set \"user\": \"1000:1000\" (or USER in the Dockerfile)",
    )
}

pub(super) fn sec05<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td() else { return vec![] };
    let mut ev = vec![];
    if td.pid_mode.as_deref() == Some("host") {
        ev.push("pidMode=host".to_string());
    }
    if td.network_mode == "host" {
        ev.push("networkMode=host".to_string());
    }
    for d in &td.container_definitions {
        if d.privileged == Some(true) {
            ev.push(format!("container {} privileged=true", d.name));
        }
        if !d.capabilities_add.is_empty() {
            ev.push(format!(
                "container {} linuxParameters.capabilities.add={:?}",
                d.name, d.capabilities_add
            ));
        }
    }
    hit_if!(
        High,
        &td.arn,
        ev,
        "remove privileged, host namespaces and added capabilities; drop ALL",
    )
}

/// Wildcard statements in a policy document: `Allow` of `*` or `svc:*` on
/// `Resource` `*` with no Condition. Statement and Action may be an object or
/// a string, or arrays of them.
/// Actions on data (objects, items, secrets, keys, messages): on
/// `"Resource": "*"` they reach every bucket, table or secret of the account.
fn data_plane(action: &str) -> bool {
    const ACTIONS: &[&str] = &[
        "s3:getobject",
        "s3:putobject",
        "s3:deleteobject",
        "s3:getobjectversion",
        "dynamodb:getitem",
        "dynamodb:putitem",
        "dynamodb:updateitem",
        "dynamodb:deleteitem",
        "dynamodb:query",
        "dynamodb:scan",
        "dynamodb:batchgetitem",
        "dynamodb:batchwriteitem",
        "secretsmanager:getsecretvalue",
        "ssm:getparameter",
        "ssm:getparameters",
        "ssm:getparametersbypath",
        "kms:decrypt",
        "kms:encrypt",
        "kms:generatedatakey",
        "sqs:sendmessage",
        "sqs:receivemessage",
        "sqs:deletemessage",
        "sns:publish",
        "kinesis:putrecord",
        "kinesis:putrecords",
    ];
    ACTIONS.contains(&action.to_ascii_lowercase().as_str())
}

pub fn wildcard_statements(doc: &str) -> Result<Vec<String>, String> {
    let v: serde_json::Value =
        serde_json::from_str(doc).map_err(|e| format!("policy is not JSON: {e}"))?;
    let stmts = match &v["Statement"] {
        serde_json::Value::Array(a) => a.clone(),
        o @ serde_json::Value::Object(_) => vec![o.clone()],
        _ => vec![],
    };
    let list = |x: &serde_json::Value| -> Vec<String> {
        match x {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(a) => a
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => vec![],
        }
    };
    let mut out = vec![];
    for s in stmts {
        if s["Effect"] != "Allow" || !s["Condition"].is_null() {
            continue;
        }
        if !list(&s["Resource"]).iter().any(|r| r == "*") {
            continue;
        }
        for a in list(&s["Action"]) {
            if a.contains('*') || data_plane(&a) {
                out.push(a);
            }
        }
    }
    Ok(out)
}

/// Managed policies that grant far more than a task needs.
fn broad_managed(p: &crate::model::RolePolicy) -> Option<&str> {
    let arn = p.policy_arn.as_deref()?;
    let name = arn.rsplit('/').next().unwrap_or(arn);
    (name == "AdministratorAccess" || name == "PowerUserAccess" || name.ends_with("FullAccess"))
        .then_some(name)
}

/// Actions an execution role must not hold on every resource: reading
/// any secret or parameter (it needs only the task's own, by ARN).
fn secret_read(action: &str) -> bool {
    let a = action.to_ascii_lowercase();
    a == "*"
        || (a.starts_with("secretsmanager:")
            && (a.contains('*') || a == "secretsmanager:getsecretvalue"))
        || (a.starts_with("ssm:") && (a.contains('*') || a.starts_with("ssm:getparameter")))
        || (a.starts_with("kms:") && (a.contains('*') || a == "kms:decrypt"))
}

pub(super) fn sec06<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td() else { return vec![] };
    let mut ev = vec![];
    if let (Some(t), Some(e)) = (&td.task_role_arn, &td.execution_role_arn)
        && t == e
    {
        ev.push(format!("taskRoleArn == executionRoleArn ({t})"));
    }
    if let Some(role) = c.task_role() {
        for p in &role.policies {
            if let Some(name) = broad_managed(p) {
                ev.push(format!("task role has managed policy {name}"));
            }
            match wildcard_statements(&p.document) {
                Ok(w) if !w.is_empty() => ev.push(format!(
                    "task role policy {} allows {} on Resource \"*\" without a Condition",
                    p.name,
                    w.join(", ")
                )),
                Ok(_) => {}
                Err(e) if !p.document.is_empty() => ev.push(format!(
                    "task role policy {} could not be read: {e}",
                    p.name
                )),
                Err(_) => {}
            }
        }
    }
    // The execution role pulls images and writes logs ("*" is normal for
    // ecr:GetAuthorizationToken); reading every secret is not.
    if td.execution_role_arn != td.task_role_arn
        && let Some(role) = c.execution_role()
    {
        for p in &role.policies {
            if let Some(name) = broad_managed(p) {
                ev.push(format!("execution role has managed policy {name}"));
            }
            match wildcard_statements(&p.document) {
                Ok(w) => {
                    let w: Vec<String> = w.into_iter().filter(|a| secret_read(a)).collect();
                    if !w.is_empty() {
                        ev.push(format!(
                            "execution role policy {} allows {} on Resource \"*\" without a Condition",
                            p.name,
                            w.join(", ")
                        ));
                    }
                }
                Err(e) if !p.document.is_empty() => ev.push(format!(
                    "execution role policy {} could not be read: {e}",
                    p.name
                )),
                Err(_) => {}
            }
        }
    }
    hit_if!(
        High,
        td.task_role_arn
            .as_deref()
            .or(td.execution_role_arn.as_deref())
            .unwrap_or(&td.arn),
        ev,
        "scope actions to resource ARNs (IAM Access Analyzer policy generation; the execution role to the task's own secrets and parameters) and separate task and execution roles"
    )
}

pub(super) fn sec07<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let Some(td) = c.td() else { return vec![] };
    let ev: Vec<String> = td
        .volumes
        .iter()
        .filter_map(|v| Some((v, v.efs.as_ref()?)))
        .filter(|(_, e)| !e.transit_encryption)
        .map(|(v, e)| {
            format!(
                "volume {} (EFS {}) transitEncryption=DISABLED",
                v.name, e.file_system_id
            )
        })
        .collect();
    hit_if!(
        High,
        &td.arn,
        ev,
        "register a revision with volumes[].efsVolumeConfiguration.transitEncryption=ENABLED"
    )
}

pub(super) fn sec08<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    let repos = c.repositories();
    if repos.is_empty() {
        if c.td().is_some() {
            c.not_evaluated(
                "not evaluated: no image of the task definition is in ECR (scanning, tag immutability and lifecycle are ECR settings)".into(),
            );
        }
        return vec![];
    }
    let mut out = vec![];
    let mut unseen = vec![];
    for (image, repo) in repos {
        let Some(r) = repo else {
            unseen.push(image);
            continue;
        };
        if r.unread.is_some() {
            continue;
        }
        let mut ev = vec![];
        let mut fix = vec![];
        if !r.scan_on_push {
            ev.push(format!("repository {} scanOnPush=false", r.name));
            fix.push(format!(
                "aws ecr put-image-scanning-configuration --repository-name {} --image-scanning-configuration scanOnPush=true",
                r.name
            ));
        }
        if !r.immutable() {
            ev.push(format!(
                "repository {} imageTagMutability={}",
                r.name, r.tag_mutability
            ));
            fix.push(format!(
                "aws ecr put-image-tag-mutability --repository-name {} --image-tag-mutability IMMUTABLE",
                r.name
            ));
        }
        if r.lifecycle_policy == Some(false) {
            ev.push(format!("repository {} has no lifecycle policy", r.name));
            fix.push(format!(
                "aws ecr put-lifecycle-policy --repository-name {} --lifecycle-policy-text file://lifecycle.json",
                r.name
            ));
        }
        let sev = if r.scan_on_push { Medium } else { High };
        out.extend(hit_if!(sev, &r.uri, ev, fix.join(" ; ")));
    }
    if !unseen.is_empty() && out.is_empty() {
        c.not_evaluated(format!(
            "not evaluated: the ECR repositories of {} were not read (ecsdeck reads ECR in the regions it reads)",
            unseen.join(", ")
        ));
    }
    out
}

/// GuardDuty runtime monitoring in the service's account and region, with
/// the ECS Fargate agent for Fargate (reported once per cluster, on its
/// first service).
pub(super) fn sec09<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if !c.first_in_cluster {
        return vec![];
    }
    let g = c.guardduty();
    let ev = match g {
        None => {
            c.not_evaluated(format!(
                "not evaluated: GuardDuty was not read in {} {}",
                c.svc.account, c.svc.region
            ));
            return vec![];
        }
        Some(g) if g.detector_id.is_none() => {
            vec![format!(
                "no GuardDuty detector in {} {}",
                g.account, g.region
            )]
        }
        Some(g) => {
            let mut ev = vec![];
            if !g.runtime_monitoring {
                ev.push(format!(
                    "detector {} RUNTIME_MONITORING not ENABLED",
                    g.detector_id.as_deref().unwrap_or_default()
                ));
            }
            if c.is_fargate() && !g.ecs_fargate_agent {
                ev.push(format!(
                    "detector {} ECS_FARGATE_AGENT_MANAGEMENT not ENABLED",
                    g.detector_id.as_deref().unwrap_or_default()
                ));
            }
            ev
        }
    };
    if ev.is_empty() {
        return vec![];
    }
    let resource = c.cluster().map_or(c.svc.arn.as_str(), |cl| cl.arn.as_str());
    let fix = match g.and_then(|g| g.detector_id.as_deref()) {
        Some(d) => format!(
            "aws guardduty update-detector --detector-id {d} --features 'Name=RUNTIME_MONITORING,Status=ENABLED,AdditionalConfiguration=[{{Name=ECS_FARGATE_AGENT_MANAGEMENT,Status=ENABLED}}]'"
        ),
        None => "aws guardduty create-detector --enable --features 'Name=RUNTIME_MONITORING,Status=ENABLED,AdditionalConfiguration=[{Name=ECS_FARGATE_AGENT_MANAGEMENT,Status=ENABLED}]'".to_string(),
    };
    cluster_hit(Medium, resource, ev, fix)
}

pub(super) fn sec10<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if !c.svc.enable_execute_command {
        return vec![];
    }
    let awslogs = c.td().is_some_and(|t| {
        t.container_definitions.iter().any(|d| {
            d.log_configuration
                .as_ref()
                .is_some_and(|l| l.log_driver == "awslogs")
        })
    });
    let mut ev = vec!["enableExecuteCommand=true".to_string()];
    if !awslogs {
        ev.push("no awslogs driver in the task definition: Exec sessions are not logged (DEFAULT logging)".into());
    }
    let sev = if !awslogs {
        Medium
    } else if c.is_prod() {
        Low
    } else {
        return vec![];
    };
    hit(sev, &c.svc.arn, ev, svc_fix(c, "--disable-execute-command"))
}

pub(super) fn sec11<'a>(c: &Ctx<'a>) -> Vec<Hit<'a>> {
    if !c.is_fargate() {
        return vec![];
    }
    let pv = c.svc.platform_version.as_deref().unwrap_or("LATEST");
    let ok = if c.is_linux() {
        matches!(pv, "LATEST" | "1.4.0")
    } else {
        matches!(pv, "LATEST" | "1.0.0")
    };
    if ok {
        return vec![];
    }
    hit(
        Medium,
        &c.svc.arn,
        vec![format!("platformVersion={pv}")],
        svc_fix(c, "--platform-version LATEST"),
    )
}
