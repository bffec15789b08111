//! Which account a source reads: learnt from the ARNs ECS returns (free),
//! and asked once of STS GetCallerIdentity (needs no permission) so that a
//! failing read still names its account. The alias comes from
//! `iam:ListAccountAliases` when allowed.

use std::sync::Arc;
use std::time::Duration;

use super::{AwsSource, bump, describe_error};
use crate::model::FleetSnapshot;

/// What a source learnt of its account, once.
#[derive(Debug, Default)]
pub(crate) struct Identity {
    asked: bool,
    alias: Option<String>,
    /// `iam:ListAccountAliases: AccessDenied…`: no alias, shown as a
    /// partial read of `iam`.
    alias_error: Option<String>,
}

/// An identity call that does not answer does not hold up the ECS read.
const IDENTITY_WAIT: Duration = Duration::from_secs(10);

impl AwsSource {
    /// The account this source reads ("" before ECS answered once).
    pub fn account(&self) -> String {
        self.account
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Learn the account from the ARNs ECS returned, and give it to what
    /// came without one.
    pub(crate) fn learn_account(&self, snap: &mut FleetSnapshot) {
        let seen = snap
            .clusters
            .iter()
            .map(|c| c.account.as_str())
            .chain(snap.services.iter().map(|s| s.account.as_str()))
            .find(|a| !a.is_empty())
            .map(str::to_string);
        if let Some(a) = seen {
            *self.account.lock().unwrap_or_else(|e| e.into_inner()) = a;
        }
        let account = self.account();
        snap.source.account.clone_from(&account);
        for c in Arc::make_mut(&mut snap.clusters)
            .iter_mut()
            .filter(|c| c.account.is_empty())
        {
            c.account.clone_from(&account);
        }
        for s in snap.services.iter_mut().filter(|s| s.account.is_empty()) {
            Arc::make_mut(s).account.clone_from(&account);
        }
    }

    /// Fill an empty account or region with this source's.
    pub(crate) fn place(&self, account: &mut String, region: &mut String) {
        if account.is_empty() {
            *account = self.account();
        }
        if region.is_empty() {
            region.clone_from(&self.region);
        }
    }

    /// Ask STS who we are and IAM for the alias, once per source. A failure
    /// is not an error of its own: without credentials the ECS read says
    /// so, and the account is then learnt from the ARNs when they come.
    pub(crate) async fn ask_identity(&self) {
        let mut id = self.identity.lock().await;
        if id.asked {
            return;
        }
        id.asked = true;
        bump(&self.calls.identity);
        let who = tokio::time::timeout(IDENTITY_WAIT, self.sts.get_caller_identity().send()).await;
        let Ok(Ok(who)) = who else { return };
        if let Some(a) = who.account().filter(|a| crate::model::id::is_account_id(a)) {
            *self.account.lock().unwrap_or_else(|e| e.into_inner()) = a.to_string();
        }
        bump(&self.calls.identity);
        match tokio::time::timeout(IDENTITY_WAIT, self.iam.list_account_aliases().send()).await {
            Ok(Ok(out)) => id.alias = out.account_aliases().first().cloned(),
            Ok(Err(e)) => {
                id.alias_error = Some(describe_error("iam:ListAccountAliases", &e));
            }
            Err(_) => {
                id.alias_error = Some("iam:ListAccountAliases: no answer".into());
            }
        }
    }

    /// The alias into the snapshot; a denied alias as a partial `iam` read.
    pub(crate) fn note_alias(&self, snap: &mut FleetSnapshot) {
        let Ok(id) = self.identity.try_lock() else {
            return;
        };
        let account = self.account();
        if let Some(alias) = &id.alias
            && !account.is_empty()
        {
            snap.account_aliases.insert(account, alias.clone());
        }
        if let Some(e) = &id.alias_error
            && let Some(f) = snap
                .freshness
                .get_mut(&self.key(crate::model::DataKind::Iam))
            && f.updated_at.is_some()
        {
            f.error = Some(match f.error.take() {
                Some(prev) => format!("{prev}; {e}"),
                None => e.clone(),
            });
        }
    }
}
