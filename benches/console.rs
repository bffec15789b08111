//! Criterion benches for the console's hot paths:
//! - render one 160x48 frame of a fleet of 1,000 services / 10,000 tasks;
//! - ingest + sanitize log lines (the log flood path);
//! - simulate one hour of the `scale-out` scenario;
//! - build the per-snapshot rows and timeline diff for the large fleet.
//!
//! `cargo bench --bench console`. Figures go in the closing notes.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ecsdeck::model::{LogLine, rows, timeline};
use ecsdeck::source::Update;
use ecsdeck::source::sim::{Simulator, scenario::Scenario};
use ecsdeck::store::LogBuffer;
use ecsdeck::ui::app::App;
use ecsdeck::ui::draw::draw;
use ecsdeck::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn large_app() -> (App, Simulator) {
    let mut sim = Simulator::new(Scenario::synthetic(1_000, 10), Some(1));
    sim.run_until(120_000);
    let mut app = App::new(Theme::default_dark());
    app.apply(Update::Snapshot(Arc::new(sim.snapshot())));
    app.apply(Update::Logs(sim.take_logs()));
    (app, sim)
}

fn render(c: &mut Criterion) {
    let (mut app, _sim) = large_app();
    let tasks: usize = app
        .store
        .snapshot
        .services
        .iter()
        .map(|s| s.tasks.len())
        .sum();
    assert!(
        app.rows.len() >= 1_000 && tasks >= 10_000,
        "{} services, {tasks} tasks",
        app.rows.len()
    );
    let mut term = Terminal::new(TestBackend::new(160, 48)).unwrap();
    c.bench_function("render_fleet_160x48_1000svc_10000tasks", |b| {
        b.iter(|| {
            term.draw(|f| draw(f, black_box(&app))).unwrap();
        })
    });
    let id = app.rows[500].id.clone();
    app.open_service(id);
    c.bench_function("render_detail_160x48_1000svc", |b| {
        b.iter(|| {
            term.draw(|f| draw(f, black_box(&app))).unwrap();
        })
    });
}

fn snapshot_ingest(c: &mut Criterion) {
    let (_app, mut sim) = large_app();
    let a = sim.snapshot();
    sim.step(1_000);
    let b_snap = sim.snapshot();
    c.bench_function("rows_build_1000svc", |b| {
        b.iter(|| rows::build(black_box(&a)))
    });
    c.bench_function("timeline_diff_1000svc", |b| {
        b.iter(|| timeline::diff(Some(black_box(&a)), black_box(&b_snap)))
    });
}

/// Realistic lines with a share of hostile ones (escapes, controls, long).
pub fn sample_lines(n: usize) -> Vec<LogLine> {
    let long = "x".repeat(10_000);
    (0..n)
        .map(|i| {
            let message = match i % 50 {
                0 => "\u{1b}[31mERROR\u{1b}[0m upstream timed out \u{1b}]0;pwned\u{7}".to_string(),
                1 => format!("bell\u{7} backspace\u{8} cr\r {i}"),
                2 => long.clone(),
                3 => "{\"level\":\"info\",\"msg\":\"ümlaut ✓ 日本\",\"latency_ms\":12}".to_string(),
                _ => format!(
                    "10.0.{}.{} - - [23/Nov/2026:10:00:{:02} +0000] \"GET /api/orders/{i} HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\" 0.012",
                    i % 3,
                    i % 250,
                    i % 60
                ),
            };
            LogLine {
                id: i as u64,
                timestamp: 1_795_000_000_000 + i as i64,
                service_key: format!("prod/svc-{}", i % 20),
                service: None,
                log_group: "/ecs/prod".into(),
                log_stream: format!("ecs/app/{:032x}", i % 60),
                message,
            }
        })
        .collect()
}

fn logs(c: &mut Criterion) {
    let lines = sample_lines(100_000);
    let mut g = c.benchmark_group("logs");
    g.throughput(Throughput::Elements(lines.len() as u64));
    g.sample_size(20);
    g.bench_function("ingest_sanitize_100k", |b| {
        b.iter_batched(
            || lines.clone(),
            |batch| {
                let mut buf = LogBuffer::default();
                for l in batch {
                    buf.push(l);
                }
                buf
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();
}

fn simulate(c: &mut Criterion) {
    let mut g = c.benchmark_group("sim");
    g.sample_size(10);
    g.bench_function("scale_out_one_hour", |b| {
        b.iter(|| {
            let mut sim = Simulator::new(Scenario::builtin("scale-out").unwrap(), None);
            sim.run_until(3_600_000);
            black_box(sim.take_logs().len())
        })
    });
    g.finish();
}

fn review(c: &mut Criterion) {
    let (_app, sim) = large_app();
    let snap = sim.snapshot();
    let cfg = ecsdeck::review::ReviewConfig::default();
    c.bench_function("review_all_checks_1000svc", |b| {
        b.iter(|| ecsdeck::review::evaluate(black_box(&snap), &cfg))
    });
    // Incremental: one service of 1,000 changed since the last snapshot.
    let mut cache = ecsdeck::review::ReviewCache::default();
    cache.update(&snap, &cfg);
    let mut changed = snap.clone();
    let mut flip = false;
    c.bench_function("review_incremental_1_of_1000svc", |b| {
        b.iter(|| {
            flip = !flip;
            std::sync::Arc::make_mut(&mut changed.services[500]).desired_count =
                if flip { 11 } else { 10 };
            cache.update(black_box(&changed), &cfg);
            cache.len()
        })
    });
}

criterion_group!(benches, render, snapshot_ingest, logs, simulate, review);
criterion_main!(benches);
