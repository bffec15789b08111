//! The journal's events, typed. On disk each event is one JSON line
//! `{"ts","wall","seq","step"?,"kind","detail","aws_request_id"?,"operator"?}`
//! (a contract, see the README): [`Body`] is the `kind` with its `detail`.
//!
//! A kind this version does not know (a journal from a newer ecsdeck), or a
//! known kind whose detail cannot be read as its kind (not an object, a
//! field of the wrong type, a missing outcome, state or phase), is kept as
//! [`Body::Other`] with its detail as written: it loads, is shown, and is
//! written back unchanged. A missing field of a known kind reads as empty
//! (as the untyped journal's readers did).

use serde::de::Deserializer;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::calls::{PlannedCall, Target};
use crate::model::EpochMs;

/// One journal line.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The source's clock (simulated on the demo), epoch ms.
    pub ts: EpochMs,
    /// Wall clock, RFC 3339.
    pub wall: String,
    pub seq: u64,
    pub step: Option<String>,
    /// `kind` and `detail`.
    pub body: Body,
    pub aws_request_id: Option<String>,
    pub operator: Option<String>,
}

impl Event {
    /// The `kind` as written on disk.
    pub fn kind(&self) -> &str {
        self.body.kind()
    }
    /// The `detail` as written on disk (built on each call: for display and
    /// tests, not for hot paths).
    pub fn detail(&self) -> Value {
        self.body.detail()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Completed,
    Aborted,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Aborted => "aborted",
            Outcome::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Running,
    Done,
    Skipped,
    Failed,
    TimedOut,
    DryRun,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Done => "done",
            StepState::Skipped => "skipped",
            StepState::Failed => "failed",
            StepState::TimedOut => "timed_out",
            StepState::DryRun => "dry_run",
        }
    }
}

/// A field some events of a kind have and others don't: absent stays
/// absent, `null` stays `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `phase` of an `api_call`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallPhase {
    Before,
    After,
}

/// `api_call`: `before` a call is sent (`change`, `index` of `of`, or
/// `sweep`), and `after` it answered (`ok`, `request_ids`, `output` or
/// `error`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiCall {
    pub phase: CallPhase,
    /// None: a sweep's answer with no call left in its queue.
    pub call: Option<PlannedCall>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub change: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub index: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub of: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub sweep: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub ok: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub error: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub request_ids: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub output: Option<Value>,
}

impl ApiCall {
    pub fn before(call: PlannedCall) -> ApiCall {
        ApiCall {
            phase: CallPhase::Before,
            change: Some(call.describe()),
            call: Some(call),
            index: None,
            of: None,
            sweep: None,
            ok: None,
            error: None,
            request_ids: None,
            output: None,
        }
    }
    pub fn after(call: Option<PlannedCall>, ok: bool) -> ApiCall {
        ApiCall {
            phase: CallPhase::After,
            call,
            change: None,
            index: None,
            of: None,
            sweep: None,
            ok: Some(ok),
            error: None,
            request_ids: None,
            output: None,
        }
    }
    /// An answer that succeeded.
    pub fn succeeded(&self) -> bool {
        self.phase == CallPhase::After && self.ok == Some(true)
    }
    pub fn is_sweep(&self) -> bool {
        self.sweep == Some(true)
    }
    /// The error of a failed answer.
    pub fn error(&self) -> Option<&str> {
        self.error.as_ref().and_then(|e| e.as_deref())
    }
}

/// `dry_run`: an action's planned calls (`calls`, `changes`), or a verify
/// evaluated once (`ok`, `conditions`, `would_wait`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DryRun {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub calls: Option<Vec<PlannedCall>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub changes: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub ok: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub conditions: Option<Vec<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub would_wait: Option<String>,
}

/// `sustain_start`: an AZ impairment kept up by sweeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SustainStart {
    pub step: String,
    pub target: Target,
    pub az: String,
    pub reason: String,
    pub until: EpochMs,
    pub interval: i64,
    pub next: EpochMs,
    /// The FIS experiment that keeps the AZ impaired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<String>,
    /// The experiment cuts the AZ's network (no sweeps).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cut: bool,
    /// Rebuilt by `--resume` from an interrupted step.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub rebuilt: Option<bool>,
}

/// `run_start`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunStart {
    pub runbook: String,
    pub version: u32,
    pub title: String,
    pub origin: String,
    pub params: Map<String, Value>,
    pub write: bool,
    pub source: String,
}

/// `run_end`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEnd {
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub rto_seconds: Option<f64>,
    pub ttd_seconds: Option<f64>,
    pub rto_target_seconds: Option<f64>,
    pub rto_met: Option<bool>,
    /// DR: the region serving traffic at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving_region: Option<String>,
    /// DR: the replication lag at the promotion, its target, the verdict
    /// and why it is what it is (the metric, or why it was not measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_target_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_met: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpo_note: Option<String>,
}

/// `stop_condition`: a stop alarm fired.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StopConditionHit {
    pub alarm: String,
    pub state: String,
    pub reason: String,
    pub from_history: bool,
    /// `abort` | `pause`.
    pub action: String,
}

/// `checkpoint_response`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckpointResponse {
    pub choice: String,
    pub note: String,
    pub approved_by: Vec<String>,
    pub auto: bool,
    pub prose: bool,
}

/// An event's `kind` with its `detail`. The variants' names are the kinds
/// (snake_case); their fields are the detail's keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Body {
    RunStart(RunStart),
    Param {
        #[serde(default)]
        name: String,
        #[serde(default)]
        value: Value,
    },
    /// `--resume` continues the journal after event `from_seq`.
    Resume {
        #[serde(default)]
        from_seq: Option<u64>,
    },
    Warning {
        #[serde(default)]
        message: String,
    },
    /// A start refused by blocking findings (`{id, title, evidence}`) or
    /// blocking checks that could not be evaluated (`{id, not_evaluated}`).
    Blocked {
        #[serde(default)]
        findings: Vec<Value>,
    },
    StepStart {
        #[serde(default)]
        title: String,
        /// prose | action | verify | checkpoint.
        #[serde(default)]
        kind: String,
        #[serde(default)]
        cleanup: bool,
    },
    Poll {
        #[serde(default)]
        ok: bool,
        #[serde(default)]
        conditions: Vec<String>,
    },
    ConditionMet {
        #[serde(default)]
        since: EpochMs,
        #[serde(default)]
        held_ms: i64,
    },
    Timeout {
        #[serde(default)]
        after_ms: i64,
        /// The flow taken, as serde writes a [`super::Flow`].
        #[serde(default)]
        then: Value,
    },
    ApiCall(ApiCall),
    DryRun(DryRun),
    NoChange {
        #[serde(default)]
        already: Vec<String>,
    },
    Save {
        #[serde(default)]
        name: String,
        #[serde(default)]
        value: Value,
    },
    SustainStart(SustainStart),
    SustainEnd {
        #[serde(default)]
        step: String,
        #[serde(default)]
        az: String,
        #[serde(default)]
        why: String,
    },
    Error {
        #[serde(default)]
        error: String,
        /// The flow taken, as serde writes a [`super::Flow`].
        #[serde(default)]
        then: Value,
    },
    Marker {
        #[serde(default)]
        name: String,
        #[serde(default)]
        at: EpochMs,
    },
    StepEnd {
        state: StepState,
        #[serde(default)]
        next: Option<String>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            deserialize_with = "present"
        )]
        interrupted: Option<bool>,
    },
    Armed {
        #[serde(default)]
        auto: bool,
    },
    Confirmation {
        #[serde(default)]
        yes: bool,
        #[serde(default)]
        auto: bool,
        #[serde(default)]
        changes: Vec<String>,
    },
    CheckpointResponse(CheckpointResponse),
    Note {
        #[serde(default)]
        text: String,
    },
    StopCondition(StopConditionHit),
    Abort {
        #[serde(default)]
        reason: String,
        outcome: Outcome,
        #[serde(default)]
        cleanup: Vec<String>,
    },
    Cleanup {
        #[serde(default)]
        steps: Vec<String>,
    },
    RunEnd(RunEnd),
    /// A kind this version does not know, or a detail not of its kind's
    /// shape: kept as written.
    #[serde(skip)]
    Other {
        #[serde(default)]
        kind: String,
        #[serde(default)]
        detail: Value,
    },
}

impl Body {
    pub fn kind(&self) -> &str {
        match self {
            Body::RunStart(_) => "run_start",
            Body::Param { .. } => "param",
            Body::Resume { .. } => "resume",
            Body::Warning { .. } => "warning",
            Body::Blocked { .. } => "blocked",
            Body::StepStart { .. } => "step_start",
            Body::Poll { .. } => "poll",
            Body::ConditionMet { .. } => "condition_met",
            Body::Timeout { .. } => "timeout",
            Body::ApiCall(_) => "api_call",
            Body::DryRun(_) => "dry_run",
            Body::NoChange { .. } => "no_change",
            Body::Save { .. } => "save",
            Body::SustainStart(_) => "sustain_start",
            Body::SustainEnd { .. } => "sustain_end",
            Body::Error { .. } => "error",
            Body::Marker { .. } => "marker",
            Body::StepEnd { .. } => "step_end",
            Body::Armed { .. } => "armed",
            Body::Confirmation { .. } => "confirmation",
            Body::CheckpointResponse(_) => "checkpoint_response",
            Body::Note { .. } => "note",
            Body::StopCondition(_) => "stop_condition",
            Body::Abort { .. } => "abort",
            Body::Cleanup { .. } => "cleanup",
            Body::RunEnd(_) => "run_end",
            Body::Other { kind, .. } => kind,
        }
    }

    /// The `detail` as written on disk.
    pub fn detail(&self) -> Value {
        if let Body::Other { detail, .. } = self {
            return detail.clone();
        }
        match serde_json::to_value(self) {
            Ok(Value::Object(mut o)) => o.remove("detail").unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// The typed body of `kind` with `detail`; [`Body::Other`] when the kind
    /// is unknown or the detail is not of its shape.
    pub fn from_parts(kind: String, detail: Value) -> Body {
        let tagged = serde_json::json!({"kind": kind, "detail": detail});
        match serde_json::from_value::<Body>(tagged) {
            Ok(b) => b,
            Err(_) => Body::Other { kind, detail },
        }
    }
}

/// The line as it is on disk (field order kept: ts, wall, seq, step, kind,
/// detail, aws_request_id, operator).
#[derive(Serialize, Deserialize)]
struct RawEvent {
    ts: EpochMs,
    wall: String,
    seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    step: Option<String>,
    kind: String,
    #[serde(default)]
    detail: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aws_request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    operator: Option<String>,
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Event", 8)?;
        st.serialize_field("ts", &self.ts)?;
        st.serialize_field("wall", &self.wall)?;
        st.serialize_field("seq", &self.seq)?;
        if let Some(step) = &self.step {
            st.serialize_field("step", step)?;
        }
        st.serialize_field("kind", self.kind())?;
        st.serialize_field("detail", &self.detail())?;
        if let Some(id) = &self.aws_request_id {
            st.serialize_field("aws_request_id", id)?;
        }
        if let Some(op) = &self.operator {
            st.serialize_field("operator", op)?;
        }
        st.end()
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = RawEvent::deserialize(d)?;
        Ok(Event {
            ts: r.ts,
            wall: r.wall,
            seq: r.seq,
            step: r.step,
            body: Body::from_parts(r.kind, r.detail),
            aws_request_id: r.aws_request_id,
            operator: r.operator,
        })
    }
}
