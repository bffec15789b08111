//! IAM: the task and execution roles' inline and attached policies, for
//! SEC-06. Policies change rarely; a role is re-read every ten minutes.

use std::collections::HashMap;

use super::{AwsSource, bump, describe_error, now_ms};
use crate::model::{IamRole, RolePolicy};

const REFRESH_MS: i64 = 10 * 60 * 1000;

/// IAM returns policy documents URL-encoded (RFC 3986).
pub fn decode_document(doc: &str) -> String {
    percent_encoding::percent_decode_str(doc)
        .decode_utf8_lossy()
        .into_owned()
}

/// The role's name from its ARN (`arn:aws:iam::1:role/path/name` → `name`).
pub fn role_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

#[derive(Debug, Default)]
pub struct RoleCache {
    pub by_arn: HashMap<String, (i64, std::sync::Arc<IamRole>)>,
}

/// What [`roles`] read: the roles, and those it could not read (ARN →
/// error). After one failure the remaining uncached roles are not tried
/// (IAM's read actions take no resource-level condition that would let one
/// role through and deny the next, and a silent endpoint would cost a
/// timeout per role); they are reported with the same error.
#[derive(Debug, Default)]
pub struct Roles {
    pub read: HashMap<String, std::sync::Arc<IamRole>>,
    pub unread: Vec<(String, String)>,
}

/// The roles named by `arns`, from the cache or IAM.
pub async fn roles(src: &AwsSource, arns: &[String]) -> Roles {
    let now = now_ms();
    let mut out = Roles::default();
    let mut failed: Option<String> = None;
    for arn in arns {
        let cached = src
            .roles
            .lock()
            .await
            .by_arn
            .get(arn)
            .filter(|(at, _)| now - at < REFRESH_MS)
            .map(|(_, r)| r.clone());
        let role = match (cached, &failed) {
            (Some(r), _) => r,
            (None, Some(e)) => {
                out.unread.push((arn.clone(), e.clone()));
                continue;
            }
            (None, None) => match read_role(src, arn).await {
                Ok(r) => {
                    let r = std::sync::Arc::new(r);
                    src.roles
                        .lock()
                        .await
                        .by_arn
                        .insert(arn.clone(), (now, r.clone()));
                    r
                }
                Err(e) => {
                    out.unread.push((arn.clone(), e.clone()));
                    failed = Some(e);
                    continue;
                }
            },
        };
        out.read.insert(arn.clone(), role);
    }
    out
}

async fn read_role(src: &AwsSource, arn: &str) -> Result<IamRole, String> {
    let iam = &src.iam;
    let name = role_name(arn);
    let mut policies = Vec::new();
    let mut pages = iam
        .list_role_policies()
        .role_name(name)
        .into_paginator()
        .send();
    let mut inline = Vec::new();
    while let Some(page) = pages.next().await {
        bump(&src.calls.iam);
        let page = page.map_err(|e| describe_error("iam:ListRolePolicies", &e))?;
        inline.extend(page.policy_names().iter().cloned());
    }
    for p in inline {
        bump(&src.calls.iam);
        let out = iam
            .get_role_policy()
            .role_name(name)
            .policy_name(&p)
            .send()
            .await
            .map_err(|e| describe_error("iam:GetRolePolicy", &e))?;
        policies.push(RolePolicy {
            name: p,
            policy_arn: None,
            document: decode_document(out.policy_document()),
        });
    }
    let mut pages = iam
        .list_attached_role_policies()
        .role_name(name)
        .into_paginator()
        .send();
    let mut attached = Vec::new();
    while let Some(page) = pages.next().await {
        bump(&src.calls.iam);
        let page = page.map_err(|e| describe_error("iam:ListAttachedRolePolicies", &e))?;
        attached.extend(
            page.attached_policies()
                .iter()
                .filter_map(|p| Some((p.policy_name()?.to_string(), p.policy_arn()?.to_string()))),
        );
    }
    for (pname, parn) in attached {
        // AWS-managed policies are judged by name (AdministratorAccess,
        // *FullAccess); customer-managed ones by their default version.
        let document = if parn.starts_with("arn:aws:iam::aws:") {
            String::new()
        } else {
            bump(&src.calls.iam);
            let p = iam
                .get_policy()
                .policy_arn(&parn)
                .send()
                .await
                .map_err(|e| describe_error("iam:GetPolicy", &e))?;
            let version = p
                .policy()
                .and_then(|p| p.default_version_id())
                .unwrap_or("v1")
                .to_string();
            bump(&src.calls.iam);
            let v = iam
                .get_policy_version()
                .policy_arn(&parn)
                .version_id(version)
                .send()
                .await
                .map_err(|e| describe_error("iam:GetPolicyVersion", &e))?;
            v.policy_version()
                .and_then(|v| v.document())
                .map(decode_document)
                .unwrap_or_default()
        };
        policies.push(RolePolicy {
            name: pname,
            policy_arn: Some(parn),
            document,
        });
    }
    Ok(IamRole {
        arn: arn.to_string(),
        policies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_url_decoded_and_roles_named_from_arns() {
        assert_eq!(
            decode_document("%7B%22Statement%22%3A%5B%7B%22Action%22%3A%22s3%3A%2A%22%7D%5D%7D"),
            r#"{"Statement":[{"Action":"s3:*"}]}"#
        );
        assert_eq!(
            role_name("arn:aws:iam::123:role/service/app-task"),
            "app-task"
        );
    }
}
