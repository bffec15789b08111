//! A runbook call on its way to the source. The console hands calls to the
//! source over a bounded control queue; a full queue must not lose one (the
//! run would wait for an answer that never comes, without a word). The call
//! is kept and offered again on the next tick until the queue takes it; a
//! queue that stays full is said on screen, and a closed one (the source is
//! gone) stops the run.

use std::time::{Duration, Instant};

use tokio::sync::mpsc::error::TrySendError;

use crate::calls::PlannedCall;
use crate::source::Control;

/// A queue full for this long is shown as an error (retries go on).
pub const STUCK_AFTER: Duration = Duration::from_secs(5);

/// What the console should do about a call the queue did not take.
#[derive(Debug, Clone, PartialEq)]
pub enum Refused {
    /// Kept; offered again on the next tick.
    Retrying,
    /// Kept, but the queue has been full for [`STUCK_AFTER`]: show this.
    Stuck(String),
    /// The source is gone: stop the run with this.
    Closed(String),
}

#[derive(Debug, Default)]
pub struct CallOutbox {
    /// The call not taken yet, by its id.
    pending: Option<(u64, PlannedCall)>,
    /// When the queue first refused it.
    since: Option<Instant>,
    /// The stuck message was given for this refusal.
    told: bool,
    attempts: u32,
}

impl CallOutbox {
    /// The call to offer again, if one was refused.
    pub fn retry(&mut self) -> Option<Control> {
        self.pending
            .take()
            .map(|(id, call)| Control::Apply(id, call))
    }

    /// Whether a refused call waits to be offered again.
    pub fn has_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// The queue refused `err`'s control. Only a runbook call is kept (other
    /// controls are not the runner's); `in_flight` is the id the run waits for.
    pub fn refused(
        &mut self,
        err: TrySendError<Control>,
        in_flight: Option<u64>,
        now: Instant,
    ) -> Option<Refused> {
        let closed = matches!(err, TrySendError::Closed(_));
        let Control::Apply(id, call) = err.into_inner() else {
            return None;
        };
        if in_flight != Some(id) {
            return None;
        }
        if closed {
            self.pending = None;
            return Some(Refused::Closed(format!(
                "the source stopped taking runbook calls; {} was not sent",
                call.describe()
            )));
        }
        self.attempts += 1;
        let since = *self.since.get_or_insert(now);
        let waited = now.saturating_duration_since(since);
        let msg = format!(
            "runbook call not taken by the source for {}s (its queue is full, {} tries): {}; retrying",
            waited.as_secs(),
            self.attempts,
            call.describe()
        );
        self.pending = Some((id, call));
        if waited >= STUCK_AFTER && !self.told {
            self.told = true;
            return Some(Refused::Stuck(msg));
        }
        Some(Refused::Retrying)
    }

    /// The call's answer came back: it was taken.
    pub fn answered(&mut self) {
        *self = CallOutbox::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::Target;
    use tokio::sync::mpsc;

    fn call() -> PlannedCall {
        PlannedCall::new(
            Target::from_ref(&crate::calls::ServiceRef::new("prod", "api", None)),
            &crate::actions::scale::ScaleCall { from: 3, to: 6 },
        )
    }

    #[test]
    fn a_full_queue_keeps_the_call_and_it_is_sent_when_there_is_room() {
        let (tx, mut rx) = mpsc::channel::<Control>(1);
        tx.try_send(Control::Pause(true)).unwrap(); // the queue is full
        let mut ob = CallOutbox::default();
        let t0 = Instant::now();
        // Tick after tick the queue stays full: the call is kept each time.
        let mut offered = Control::Apply(7, call());
        for i in 0..3u64 {
            let err = tx.try_send(offered).unwrap_err();
            let r = ob.refused(err, Some(7), t0 + Duration::from_secs(i));
            assert_eq!(r, Some(Refused::Retrying));
            offered = ob.retry().expect("kept, not dropped");
        }
        // Full for longer than STUCK_AFTER: said once, still kept.
        let err = tx.try_send(offered).unwrap_err();
        match ob.refused(err, Some(7), t0 + STUCK_AFTER) {
            Some(Refused::Stuck(m)) => {
                assert!(
                    m.contains("queue is full") && m.contains("desiredCount 3 → 6"),
                    "{m}"
                )
            }
            r => panic!("{r:?}"),
        }
        let err = tx.try_send(ob.retry().unwrap()).unwrap_err();
        assert_eq!(
            ob.refused(err, Some(7), t0 + STUCK_AFTER * 2),
            Some(Refused::Retrying)
        );
        // The source drains its queue: the next offer goes through, once.
        assert_eq!(rx.try_recv().unwrap(), Control::Pause(true));
        tx.try_send(ob.retry().unwrap()).unwrap();
        assert!(ob.retry().is_none());
        assert_eq!(rx.try_recv().unwrap(), Control::Apply(7, call()));
        assert!(rx.try_recv().is_err());
        ob.answered();
        assert!(!ob.has_pending());
    }

    #[test]
    fn a_closed_queue_is_an_error_and_other_controls_are_not_kept() {
        let (tx, rx) = mpsc::channel::<Control>(1);
        let mut ob = CallOutbox::default();
        let now = Instant::now();
        tx.try_send(Control::Pause(true)).unwrap();
        let err = tx.try_send(Control::SetSpeed(2.0)).unwrap_err();
        assert_eq!(ob.refused(err, Some(1), now), None);
        // A call the run no longer waits for is not kept either.
        let err = tx.try_send(Control::Apply(1, call())).unwrap_err();
        assert_eq!(ob.refused(err, Some(2), now), None);
        assert!(!ob.has_pending());
        drop(rx);
        let err = tx.try_send(Control::Apply(2, call())).unwrap_err();
        match ob.refused(err, Some(2), now) {
            Some(Refused::Closed(m)) => assert!(m.contains("stopped taking"), "{m}"),
            r => panic!("{r:?}"),
        }
        assert!(!ob.has_pending());
    }
}
