//! The call types shared by runbooks and sources: what a runbook asks a
//! backend to do ([`PlannedCall`]), what comes back ([`CallOutput`]), the
//! service it is about ([`Target`], [`ServiceRef`]) and the headless
//! [`Backend`] interface. It sits below both `runbook/` and `source/`, so
//! neither imports the other to talk about a call.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{EpochMs, FleetSnapshot, Service};

/// Which service a condition or action is about: cluster and name, and
/// where the runbook names them, the region and the account. A twin (same
/// cluster and name in another region or account) is never the match once
/// the runbook names its region and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    pub cluster: String,
    pub service: String,
    pub region: Option<String>,
    pub account: Option<String>,
}

impl ServiceRef {
    pub fn new(cluster: &str, service: &str, region: Option<&str>) -> ServiceRef {
        ServiceRef {
            cluster: cluster.into(),
            service: service.into(),
            region: region.map(str::to_string),
            account: None,
        }
    }
}

/// `want` unset or empty matches anything.
fn matches_opt(want: Option<&str>, have: &str) -> bool {
    want.is_none_or(|w| w.is_empty() || w == have)
}

/// The one service `r` names, or `None` when none or several match (twins
/// in two regions or accounts and `r` names neither): a reader never takes
/// the first of equal names.
pub fn find_service<'a>(snap: &'a FleetSnapshot, r: &ServiceRef) -> Option<&'a Service> {
    lookup_service(snap, r).ok()
}

/// The alarm `name` in the place of `r`: the region and account `r` names,
/// else those of its service. Of twins' alarms of one name it is never the
/// other place's. `Err`: the place looked in ("account region").
pub fn alarm_at<'a>(
    snap: &'a FleetSnapshot,
    name: &str,
    r: &ServiceRef,
) -> Result<&'a crate::model::Alarm, String> {
    let svc = lookup_service(snap, r).ok();
    let given = |v: &Option<String>| v.clone().filter(|x| !x.is_empty());
    let region = given(&r.region).or_else(|| svc.map(|s| s.region.clone()));
    let account = given(&r.account).or_else(|| svc.map(|s| s.account.clone()));
    let at = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
    snap.alarms
        .iter()
        .find(|a| a.name == name && at(&region, &a.region) && at(&account, &a.account))
        .ok_or_else(|| {
            format!(
                "{} {}",
                account.unwrap_or_default(),
                region.unwrap_or_default()
            )
            .trim()
            .to_string()
        })
}

/// The one service `r` names; the error says "not found", or names every
/// place of an ambiguous name so the operator can pick one.
pub fn lookup_service<'a>(snap: &'a FleetSnapshot, r: &ServiceRef) -> Result<&'a Service, String> {
    let mut hits = snap.services.iter().filter(|s| {
        s.cluster == r.cluster
            && s.name == r.service
            && matches_opt(r.region.as_deref(), &s.region)
            && matches_opt(r.account.as_deref(), &s.account)
    });
    let first = hits
        .next()
        .ok_or_else(|| format!("service {}/{} not found", r.cluster, r.service))?;
    let rest: Vec<&Arc<Service>> = hits.collect();
    if rest.is_empty() {
        return Ok(first);
    }
    let places: Vec<String> = std::iter::once(first)
        .chain(rest)
        .map(|s| {
            if s.account.is_empty() {
                s.region.clone()
            } else {
                format!("{} {}", s.account, s.region)
            }
        })
        .collect();
    Err(format!(
        "service {}/{} is in {} places ({}): name one with --param region=… (and account=…) where the runbook takes them, or connect one region with --region",
        r.cluster,
        r.service,
        places.len(),
        places.join(", ")
    ))
}

/// The service a call is pinned to: its region (named, else resolved) and
/// account.
pub fn find_service_by_target<'a>(snap: &'a FleetSnapshot, t: &Target) -> Option<&'a Service> {
    let (account, region) = t.place();
    find_service(
        snap,
        &ServiceRef {
            cluster: t.cluster.clone(),
            service: t.service.clone(),
            region: region.map(str::to_string),
            account: account.map(str::to_string),
        },
    )
}

/// One mutating (or read-only lookup) call a backend performs.
///
/// The call's kind and fields belong to the runbook action that plans it
/// (`src/actions/<name>.rs`, typed as a [`CallArgs`]); here it is kept as
/// data so this module knows no action. In the journal it is one object:
/// `{"api": <kind>, "target": {…}, <the action's fields in order>}` (the
/// format the closed enum it replaced wrote, byte for byte). `describe`,
/// `mutates`, `is_noop` and `api` are answered by the action registry.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCall {
    /// The journal's `api` tag: `Scale`, `StopTasks`, `ReleaseAz` …
    pub kind: String,
    pub target: Target,
    /// The action's own fields, in its declaration order.
    pub args: Vec<(String, Value)>,
}

/// The typed fields of one call kind (everything but `api` and `target`).
pub trait CallArgs: Serialize + serde::de::DeserializeOwned {
    /// The journal's `api` tag.
    const KIND: &'static str;
}

/// A JSON object's entries in the order written (serde_json's `Map` sorts).
struct Ordered(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Ordered, A::Error> {
                let mut out = vec![];
                while let Some((k, v)) = m.next_entry::<String, Value>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(V)
    }
}

impl PlannedCall {
    /// A call of kind `A::KIND` on `target`.
    pub fn new<A: CallArgs>(target: Target, args: &A) -> PlannedCall {
        // Through text, so the fields keep their declaration order.
        let args = serde_json::to_string(args)
            .ok()
            .and_then(|s| serde_json::from_str::<Ordered>(&s).ok())
            .map(|o| o.0)
            .unwrap_or_default();
        PlannedCall {
            kind: A::KIND.to_string(),
            target,
            args,
        }
    }

    /// The call's fields as `A`, when it is of that kind.
    pub fn args<A: CallArgs>(&self) -> Option<A> {
        if self.kind != A::KIND {
            return None;
        }
        let map: serde_json::Map<String, Value> = self.args.iter().cloned().collect();
        serde_json::from_value(Value::Object(map)).ok()
    }

    /// Whether the call is of kind `A::KIND`.
    pub fn is<A: CallArgs>(&self) -> bool {
        self.kind == A::KIND
    }

    /// The service (and region) the call is for.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// One field, raw.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.args.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

impl Serialize for PlannedCall {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2 + self.args.len()))?;
        m.serialize_entry("api", &self.kind)?;
        m.serialize_entry("target", &self.target)?;
        for (k, v) in &self.args {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for PlannedCall {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let Ordered(entries) = Ordered::deserialize(d)?;
        let (mut kind, mut target, mut args) = (None, None, vec![]);
        for (k, v) in entries {
            match k.as_str() {
                "api" => {
                    kind = Some(
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| D::Error::custom("`api` is not a string"))?,
                    )
                }
                "target" => target = Some(serde_json::from_value(v).map_err(D::Error::custom)?),
                _ => args.push((k, v)),
            }
        }
        Ok(PlannedCall {
            kind: kind.ok_or_else(|| D::Error::missing_field("api"))?,
            target: target.ok_or_else(|| D::Error::missing_field("target"))?,
            args,
        })
    }
}

/// A service in a region (serialisable twin of [`ServiceRef`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub cluster: String,
    pub service: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The account and region of the service the call resolved to (added
    /// to the journal; older journals have neither). `region` stays what
    /// the runbook named, and the label with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_region: Option<String>,
}

impl Target {
    pub fn from_ref(r: &ServiceRef) -> Target {
        Target {
            cluster: r.cluster.clone(),
            service: r.service.clone(),
            region: r.region.clone(),
            account: r.account.clone().filter(|a| !a.is_empty()),
            service_region: None,
        }
    }

    /// The region the call goes to: the one named, else the one resolved.
    pub fn place(&self) -> (Option<&str>, Option<&str>) {
        let region = self
            .region
            .as_deref()
            .filter(|r| !r.is_empty())
            .or(self.service_region.as_deref());
        (self.account.as_deref(), region)
    }

    /// Pinned to the service it resolved to: its region and account, so a
    /// twin elsewhere is never the one acted on.
    pub fn resolved(r: &ServiceRef, svc: &crate::model::Service) -> Target {
        let mut t = Target::from_ref(r);
        t.service_region = Some(svc.region.clone()).filter(|r| !r.is_empty());
        t.account = Some(svc.account.clone()).filter(|a| !a.is_empty());
        t
    }
    pub fn as_ref(&self) -> ServiceRef {
        ServiceRef {
            cluster: self.cluster.clone(),
            service: self.service.clone(),
            region: self.region.clone(),
            account: self.account.clone(),
        }
    }
    pub fn label(&self) -> String {
        match &self.region {
            Some(r) => format!("{}/{} ({r})", self.cluster, self.service),
            None => format!("{}/{}", self.cluster, self.service),
        }
    }
}

/// What a backend answers for a call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallOutput {
    /// AWS request ids (one per API request made).
    pub request_ids: Vec<String>,
    /// Call-specific output (ResolveRevision: `{taskDefinition, …}`).
    pub detail: Value,
}

pub fn fmt_dur(ms: i64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, s % 3600 / 60, s % 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// Where a headless run reads the fleet and makes its calls.
pub trait Backend {
    /// The source clock.
    fn now(&self) -> EpochMs;
    /// The fleet now (a backend may reuse a recent read).
    fn snapshot(&mut self) -> Arc<FleetSnapshot>;
    /// Let time pass until `t` (virtual on the simulator, a sleep on AWS).
    fn advance_to(&mut self, t: EpochMs);
    /// Perform one call.
    fn call(&mut self, c: &PlannedCall) -> Result<CallOutput, String>;
}
