//! Log traffic: access and application lines per running task, error bursts
//! when things fail, and — every ~97 simulated seconds — a hostile line
//! (escape sequences, control characters, a 10 kB line, invalid UTF-8) so
//! that sanitizing is always exercised.

use rand::Rng;

use super::engine::{Engine, rng_of};
use crate::model::LogLine;

const PATHS: &[&str] = &[
    "/api/orders",
    "/api/orders/{id}",
    "/api/cart",
    "/api/users/{id}",
    "/health",
    "/api/search?q=boots",
    "/api/checkout",
];

/// Emit this second's lines for service `si`.
pub fn emit(e: &mut Engine, si: usize, now: i64, load: f64) {
    let s = &e.services[si];
    let Some(group) = s.log_group.clone() else {
        return;
    };
    // Positions, not copies: a line names one task, the service may have thousands.
    let running: Vec<usize> = s
        .tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.task.is_running())
        .map(|(i, _)| i)
        .collect();
    if running.is_empty() {
        return;
    }
    let key = s.svc.key();
    let sid = s.svc.id();
    let container = s.container.clone();
    let err_rate = s.metrics.http_5xx.last().unwrap_or(0.0)
        / s.metrics.requests.last().unwrap_or(1.0).max(1.0);
    let has_lb = s.target_group.is_some();
    // Sampled volume: proportional to load, capped at 20 lines/s per service.
    let lines = ((s.base_rps * load / 40.0).ceil() as usize).clamp(1, 20);
    let failing: Vec<String> = s
        .tasks
        .iter()
        .filter(|t| {
            t.task.last_status == "DEACTIVATING"
                && t.task.stop_code.as_deref() != Some("ServiceSchedulerInitiated")
        })
        .map(|t| t.task.id.clone())
        .collect();
    let mut out = Vec::with_capacity(lines + 4);
    for _ in 0..lines {
        let pick = running[rng_of(e).random::<u32>() as usize % running.len()];
        let (task, ip) = {
            let t = &e.services[si].tasks[pick].task;
            (t.id.clone(), t.private_ip.clone().unwrap_or_default())
        };
        let rng = rng_of(e);
        let ts = now - 1_000 + (rng.random::<u32>() % 1_000) as i64;
        let msg = if has_lb {
            let path = PATHS[rng.random::<u32>() as usize % PATHS.len()]
                .replace("{id}", &(rng.random::<u32>() % 100_000).to_string());
            let error = rng.random::<f64>() < err_rate;
            let status = if error {
                [500, 502, 503][rng.random::<u32>() as usize % 3]
            } else if rng.random::<f64>() < 0.03 {
                404
            } else {
                200
            };
            let latency = if error {
                1.2 + rng.random::<f64>() * 4.0
            } else {
                0.004 + rng.random::<f64>() * 0.08
            };
            if error {
                format!(
                    "{{\"level\":\"ERROR\",\"ts\":{ts},\"msg\":\"request failed\",\"path\":\"{path}\",\"status\":{status},\"error\":\"upstream connect error or disconnect/reset before headers\",\"latency_ms\":{:.0}}}",
                    latency * 1000.0
                )
            } else {
                format!(
                    "10.{}.{}.{} - - [{}] \"GET {path} HTTP/1.1\" {status} {} \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" {latency:.3} from {ip}",
                    rng.random::<u8>() % 4,
                    rng.random::<u8>(),
                    rng.random::<u8>(),
                    clf_time(ts),
                    200 + rng.random::<u32>() % 4000,
                )
            }
        } else {
            let job = rng.random::<u32>() % 1_000_000;
            match rng.random::<u32>() % 4 {
                0 => format!(
                    "{{\"level\":\"INFO\",\"msg\":\"job started\",\"job_id\":{job},\"queue\":\"default\"}}"
                ),
                1 => format!(
                    "{{\"level\":\"INFO\",\"msg\":\"job finished\",\"job_id\":{job},\"duration_ms\":{}}}",
                    rng.random::<u32>() % 900
                ),
                2 => format!(
                    "{{\"level\":\"DEBUG\",\"msg\":\"polled queue\",\"messages\":{}}}",
                    rng.random::<u32>() % 10
                ),
                _ => format!(
                    "{{\"level\":\"WARN\",\"msg\":\"retrying job\",\"job_id\":{job},\"attempt\":2}}"
                ),
            }
        };
        out.push((task, ts, msg));
    }
    for id in failing {
        let rng = rng_of(e);
        if rng.random::<f64>() < 0.5 {
            out.push((id.clone(), now, "FATAL: unhandled exception: java.lang.IllegalStateException: connection pool exhausted".into()));
            out.push((
                id,
                now,
                "\tat com.example.orders.Pool.acquire(Pool.java:212)".into(),
            ));
        }
    }
    for (task, ts, message) in out {
        let id = e.next_log_id;
        e.next_log_id += 1;
        e.logs.push(LogLine {
            id,
            timestamp: ts,
            service_key: key.clone(),
            service: Some(sid.clone()),
            log_group: group.clone(),
            log_stream: format!("ecs/{container}/{task}"),
            message,
        });
    }
}

/// One hostile line, cycling through the kinds, on a random service's stream.
pub fn hostile(e: &mut Engine, now: i64) {
    let candidates: Vec<usize> = (0..e.services.len())
        .filter(|i| {
            e.services[*i].log_group.is_some()
                && e.services[*i].tasks.iter().any(|t| t.task.is_running())
        })
        .collect();
    if candidates.is_empty() {
        return;
    }
    let kind = (now / 97_000) as usize % 6;
    let si = candidates[rng_of(e).random::<u32>() as usize % candidates.len()];
    let s = &e.services[si];
    let Some(task) = s.tasks.iter().find(|t| t.task.is_running()) else {
        return;
    };
    let bytes: Vec<u8> = match kind {
        0 => b"\x1b[31;1mERROR\x1b[0m payment declined \x1b[2J\x1b[H (screen clear attempt)".to_vec(),
        1 => b"user-agent: \x1b]0;you have been pwned\x07 \x1b]52;c;ZWNobyBoYWNrZWQ=\x1b\\ (title + clipboard)".to_vec(),
        2 => b"bell\x07 backspace\x08\x08 carriage\rreturn vt\x0b ff\x0c nul\x00 del\x7f end".to_vec(),
        3 => {
            let mut v = b"huge line: ".to_vec();
            v.extend(std::iter::repeat_n(b'A', 10_240));
            v
        }
        4 => b"invalid utf-8: \xff\xfe\xc3\x28 and a lone continuation \x80 byte".to_vec(),
        _ => "bidi trick: \u{202e}gnp.exe \u{2066}isolated\u{2069} and DCS \u{1b}P1$r0m\u{1b}\\".as_bytes().to_vec(),
    };
    let message = String::from_utf8_lossy(&bytes).into_owned();
    let line = LogLine {
        id: e.next_log_id,
        timestamp: now,
        service_key: s.svc.key(),
        service: Some(s.svc.id()),
        log_group: s.log_group.clone().unwrap_or_default(),
        log_stream: format!("ecs/{}/{}", s.container, task.task.id),
        message,
    };
    e.next_log_id += 1;
    e.logs.push(line);
}

/// Common Log Format time: `23/Nov/2026:10:00:01 +0000`.
fn clf_time(ms: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    let month = s[5..7].parse::<usize>().unwrap_or(1).clamp(1, 12);
    format!(
        "{}/{}/{}:{} +0000",
        &s[8..10],
        MONTHS[month - 1],
        &s[0..4],
        &s[11..19]
    )
}
