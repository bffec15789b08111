//! One overall deadline for a one-shot command (`--timeout`): every read
//! of a refresh races the same instant, and a miss names the time spent.

use std::time::Duration;

/// The overall deadline of a one-shot command (`--timeout`).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub started: tokio::time::Instant,
    pub limit: Duration,
}

impl Deadline {
    pub fn after(limit: Duration) -> Deadline {
        Deadline {
            started: tokio::time::Instant::now(),
            limit,
        }
    }

    pub fn at(&self) -> tokio::time::Instant {
        self.started + self.limit
    }

    /// The error of a kind that had not answered by the deadline, with the
    /// time really spent.
    pub fn missed(&self, kind: &str) -> String {
        format!(
            "{kind}: no answer within {:.1}s (the --timeout of {}s ran out)",
            self.started.elapsed().as_secs_f64(),
            self.limit.as_secs()
        )
    }
}

/// Run `f` to its end, or until the deadline (None: it ran out).
pub async fn within<F: std::future::Future>(deadline: Option<Deadline>, f: F) -> Option<F::Output> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d.at(), f).await.ok(),
        None => Some(f.await),
    }
}
