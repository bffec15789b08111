//! Whole-process time to the first frame on `--demo`, measured through a real
//! pseudo-terminal (160x48): spawn, wait until the first frame's services
//! table is on the pty, then quit. Also reports peak RSS of a process holding
//! 100,000 log lines in the console's log buffer.
//!
//! `cargo bench --bench startup`.

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};

fn openpty(cols: u16, rows: u16) -> (OwnedFd, OwnedFd) {
    let mut master = 0;
    let mut slave = 0;
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty fills two fds we then own; the winsize pointer is valid.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &ws,
        )
    };
    assert_eq!(rc, 0, "openpty failed");
    // SAFETY: both fds were just returned by openpty and are owned by nobody else.
    unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) }
}

/// Spawn the binary on a fresh pty and return the time until `needle` shows.
fn time_to_first_frame(needle: &[u8]) -> Duration {
    let (master, slave) = openpty(160, 48);
    let data = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ecsdeck"))
        .args(["--demo", "--data-dir"])
        .arg(data.path())
        .env("TERM", "xterm-256color")
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let mut reader = std::fs::File::from(master.try_clone().unwrap());
    let mut seen = Vec::new();
    let mut buf = [0u8; 65536];
    let elapsed = loop {
        let n = reader.read(&mut buf).unwrap();
        assert!(n > 0, "pty closed before the first frame");
        seen.extend_from_slice(&buf[..n]);
        if seen.windows(needle.len()).any(|w| w == needle) {
            break start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no first frame");
    };
    let mut writer = std::fs::File::from(master);
    use std::io::Write;
    let _ = writer.write_all(b"q");
    // Keep draining the pty while the app restores the terminal and exits:
    // a full pty buffer would block its last writes, and this wait forever.
    let drain = std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
    });
    let _ = child.wait();
    drop(writer);
    let _ = drain.join();
    elapsed
}

fn startup(c: &mut Criterion) {
    let mut g = c.benchmark_group("startup");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("demo_time_to_first_frame_pty_160x48", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| time_to_first_frame(b"TASKS PER AZ"))
                .sum()
        })
    });
    g.finish();
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn memory(_c: &mut Criterion) {
    // Peak RSS of this process after buffering 100k log lines the way the
    // console does (sanitized, interned service/stream names).
    let before = vm_hwm_kib();
    let mut buf = ecsdeck::store::LogBuffer::default();
    for i in 0..100_000u64 {
        let message = if i % 50 == 2 {
            "y".repeat(10_000)
        } else {
            format!(
                "10.0.1.{} - - [23/Nov/2026:10:00:00 +0000] \"GET /api/orders/{i} HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" 0.012",
                i % 250
            )
        };
        buf.push(ecsdeck::model::LogLine {
            id: i,
            timestamp: i as i64,
            service_key: format!("prod/svc-{}", i % 20),
            service: None,
            log_group: "/ecs/prod".into(),
            log_stream: format!("ecs/app/{:032x}", i % 60),
            message,
        });
    }
    let after = vm_hwm_kib();
    println!(
        "memory: 100k log lines buffered ({} kept, {} text bytes): peak RSS {:.1} MiB (bench process before: {:.1} MiB)",
        buf.len(),
        buf.bytes(),
        after as f64 / 1024.0,
        before as f64 / 1024.0
    );
}

criterion_group!(benches, memory, startup);
criterion_main!(benches);
