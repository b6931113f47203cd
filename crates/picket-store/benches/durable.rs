//! Durable commands per second and startup time: the segmented log with
//! group commit against Krill's layout (a JSON file per command, written
//! to a temporary file, synced, renamed and its directory synced), which is
//! this crate's data format 1.
//!
//! `cargo bench -p picket-store` prints a table. `BENCH_SECONDS` sets how
//! long each throughput run lasts (default 3), `BENCH_EVENTS` the size of
//! the startup store (default 1,000,000), `BENCH_DIR` where files go
//! (default: a temporary directory under the target directory, which is on
//! the same disk as the data would be), `BENCH_ROUNDS` how often each run
//! is repeated (default 3; the table shows medians: these machines share
//! their disks, whose speed drifts by a third from one minute to the next).
//! `BENCH_WRITERS=1,8` picks the writer counts, `BENCH_ONLY_LOG` leaves out
//! the file-per-command runs and `BENCH_ONLY_TASKS` runs only the async
//! writers (for profiling).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use picket_store::format1::{self, Format1Record};
use picket_store::{
    Actor, Aggregate, Command, CommandSummary, Describe, Effect, Store, StoreOptions,
};
use serde::{Deserialize, Serialize};

/// A counter: the smallest aggregate with a real event.
#[derive(Clone, Serialize, Deserialize)]
struct Counter {
    total: u64,
}

struct Add(u64);

impl Describe for Add {
    fn summary(&self) -> CommandSummary {
        CommandSummary::new("add").arg("amount", self.0)
    }
}

struct Create;

impl Describe for Create {
    fn summary(&self) -> CommandSummary {
        CommandSummary::new("create")
    }
}

#[derive(Clone, Serialize, Deserialize)]
struct Added(u64);

impl Aggregate for Counter {
    type InitCommand = Create;
    type Command = Add;
    type InitEvent = ();
    type Event = Added;
    type Error = String;

    fn process_init(_: &str, _: &Create) -> Result<(), String> {
        Ok(())
    }
    fn init(_: &str, _: ()) -> Counter {
        Counter { total: 0 }
    }
    fn process(&self, c: &Add) -> Result<Vec<Added>, String> {
        Ok(vec![Added(c.0)])
    }
    fn apply(&mut self, e: Added) {
        self.total += e.0;
    }
}

fn actor() -> Actor {
    Actor::new("user:bench")
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `writers` threads for `seconds`, each calling `step(writer, n)`
/// until the time is up; returns completed steps per second.
fn run(writers: usize, seconds: u64, step: impl Fn(usize, u64) + Send + Sync + 'static) -> f64 {
    let step = Arc::new(step);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let (step, stop, done) = (step.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    step(w, n);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(seconds));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn log_throughput(dir: &Path, writers: usize, seconds: u64) -> f64 {
    let (store, _) = Store::<Counter>::open(dir, "bench", &StoreOptions::default()).unwrap();
    for w in 0..writers {
        store
            .create_blocking(Command::new(format!("w{w}"), actor(), Create))
            .unwrap();
    }
    let ids: Vec<String> = (0..writers).map(|w| format!("w{w}")).collect();
    let s = store.clone();
    let rate = run(writers, seconds, move |w, _| {
        s.command_blocking(Command::new(ids[w].clone(), actor(), Add(1)))
            .unwrap();
    });
    store.close();
    rate
}

/// The same with the writers as tasks on a two-thread async runtime, the
/// way the node's API handlers call the store.
fn log_throughput_async(dir: &Path, writers: usize, seconds: u64) -> f64 {
    let (store, _) = Store::<Counter>::open(dir, "bench", &StoreOptions::default()).unwrap();
    for w in 0..writers {
        store
            .create_blocking(Command::new(format!("w{w}"), actor(), Create))
            .unwrap();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let rate = rt.block_on(async {
        let tasks: Vec<_> = (0..writers)
            .map(|w| {
                let (store, stop, done) = (store.clone(), stop.clone(), done.clone());
                let id = format!("w{w}");
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        store
                            .command(Command::new(id.clone(), actor(), Add(1)))
                            .await
                            .unwrap();
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
    });
    store.close();
    rate
}

fn baseline_throughput(dir: &Path, writers: usize, seconds: u64) -> f64 {
    let store = dir.join("bench");
    let now = picket_store::now_millis();
    for w in 0..writers {
        format1::write_record(&store, &record(&format!("w{w}"), 0, now)).unwrap();
    }
    run(writers, seconds, move |w, n| {
        let r = record(&format!("w{w}"), n, picket_store::now_millis());
        format1::write_record(&store, &r).unwrap();
    })
}

fn record(id: &str, version: u64, time: i64) -> Format1Record {
    Format1Record {
        id: id.to_string(),
        version,
        time,
        actor: actor(),
        command: if version == 0 {
            CommandSummary::new("create")
        } else {
            Add(1).summary()
        },
        effect: if version == 0 {
            Effect::Init(serde_json::Value::Null)
        } else {
            Effect::Events(vec![serde_json::json!(1)])
        },
    }
}

/// Fills a log store with `events` events over 1,000 counters, submitting
/// without waiting so that the writer batches freely.
fn fill(dir: &Path, events: u64) -> Duration {
    let start = Instant::now();
    let (store, _) = Store::<Counter>::open(dir, "bench", &StoreOptions::default()).unwrap();
    let aggregates = 1000u64;
    for a in 0..aggregates {
        store
            .create_blocking(Command::new(format!("c{a}"), actor(), Create))
            .unwrap();
    }
    let mut pending = Vec::with_capacity(1 << 16);
    for i in 0..events.saturating_sub(aggregates) {
        let id = format!("c{}", i % aggregates);
        pending.push(store.submit(Command::new(id, actor(), Add(1))).unwrap());
        if pending.len() == 1 << 16 {
            for p in pending.drain(..) {
                p.wait().unwrap();
            }
        }
    }
    for p in pending {
        p.wait().unwrap();
    }
    store.close();
    start.elapsed()
}

fn time_open(dir: &Path) -> (Duration, u64) {
    let start = Instant::now();
    let (store, report) = Store::<Counter>::open(dir, "bench", &StoreOptions::default()).unwrap();
    let took = start.elapsed();
    if report.needs_attention() {
        eprintln!("{report:?}");
    }
    let total: u64 = store
        .ids()
        .iter()
        .map(|id| store.get(id).unwrap().state.total)
        .sum();
    drop(store);
    std::hint::black_box(total);
    (took, report.replayed)
}

/// Krill's warm-up: list the aggregates, read every command file of each,
/// apply its events.
fn baseline_open(store: &Path) -> (Duration, u64) {
    #[derive(Deserialize)]
    struct Replay {
        version: u64,
        effect: Effect<serde::de::IgnoredAny, u64>,
    }
    let start = Instant::now();
    let mut records = 0;
    for entry in std::fs::read_dir(store).unwrap() {
        let dir = entry.unwrap().path();
        let mut total = 0u64;
        for v in 0.. {
            let Ok(bytes) = std::fs::read(dir.join(format!("command-{v}.json"))) else {
                break;
            };
            let r: Replay = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(r.version, v);
            if let Effect::Events(e) = r.effect {
                total += e.iter().sum::<u64>();
            }
            records += 1;
        }
        std::hint::black_box(total);
    }
    (start.elapsed(), records)
}

fn baseline_fill(store: &Path, events: u64) {
    // Written without syncs: only the read side is measured here.
    let aggregates = 100u64;
    let now = picket_store::now_millis();
    for a in 0..aggregates {
        let dir = format1::aggregate_dir(store, &format!("c{a}"));
        std::fs::create_dir_all(&dir).unwrap();
        for v in 0..events / aggregates {
            let r = record(&format!("c{a}"), v, now);
            std::fs::write(
                dir.join(format!("command-{v}.json")),
                serde_json::to_vec(&r).unwrap(),
            )
            .unwrap();
        }
    }
}

fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

fn fresh(base: &Path, name: &str) -> PathBuf {
    let dir = base.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn main() {
    let seconds = env_u64("BENCH_SECONDS", 3);
    let events = env_u64("BENCH_EVENTS", 1_000_000);
    let base = match std::env::var_os("BENCH_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-store"),
    };
    std::fs::create_dir_all(&base).unwrap();

    let rounds = env_u64("BENCH_ROUNDS", 3).max(1) as usize;
    println!(
        "durable commands per second ({seconds} s per run, one aggregate per writer; \
         median of {rounds} rounds, the designs taking turns so that a slow spell of the disk \
         falls on all of them; ratios are the median of each round's, with their range)"
    );
    println!("| writers | log, threads | log, async tasks | file per command (Krill), threads | ratio (threads) | ratio (tasks) |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let only_log = std::env::var_os("BENCH_ONLY_LOG").is_some();
    let counts: Vec<usize> = match std::env::var("BENCH_WRITERS") {
        Ok(v) => v.split(',').filter_map(|n| n.parse().ok()).collect(),
        Err(_) => vec![1, 8, 64],
    };
    let only_tasks = std::env::var_os("BENCH_ONLY_TASKS").is_some();
    for writers in counts {
        let (mut log, mut tasks, mut files) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            if !only_tasks {
                log.push(log_throughput(&fresh(&base, "log"), writers, seconds));
            }
            tasks.push(log_throughput_async(&fresh(&base, "log"), writers, seconds));
            if !only_log && !only_tasks {
                files.push(baseline_throughput(
                    &fresh(&base, "files"),
                    writers,
                    seconds,
                ));
            }
        }
        let rate = |v: &[f64]| median(v).map_or(String::new(), |m| format!("{m:.0}"));
        let ratio = |v: &[f64]| {
            let r: Vec<f64> = v.iter().zip(&files).map(|(a, b)| a / b).collect();
            let (Some(m), Some(lo), Some(hi)) = (
                median(&r),
                r.iter().copied().reduce(f64::min),
                r.iter().copied().reduce(f64::max),
            ) else {
                return String::new();
            };
            format!("{m:.1}x ({lo:.1}–{hi:.1})")
        };
        println!(
            "| {writers} | {} | {} | {} | {} | {} |",
            rate(&log),
            rate(&tasks),
            rate(&files),
            ratio(&log),
            ratio(&tasks)
        );
    }
    let _ = std::fs::remove_dir_all(base.join("files"));

    let dir = fresh(&base, "startup");
    let filled = fill(&dir, events);
    println!();
    println!(
        "startup of a store holding {events} events (1,000 aggregates; filled in {:.2} s)",
        filled.as_secs_f64()
    );
    let (t, replayed) = time_open(&dir);
    println!(
        "- from its snapshot: {:.3} s ({replayed} records replayed)",
        t.as_secs_f64()
    );
    for f in ["snapshot", "snapshot.bak"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    let (t, replayed) = time_open(&dir);
    println!(
        "- without snapshots, a full replay: {:.3} s ({replayed} records, {:.0} records/s)",
        t.as_secs_f64(),
        replayed as f64 / t.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);

    let baseline_events = events.min(100_000);
    let dir = fresh(&base, "startup-files");
    baseline_fill(&dir, baseline_events);
    let (t, records) = baseline_open(&dir);
    println!(
        "- file per command, {records} events: {:.3} s ({:.0} records/s)",
        t.as_secs_f64(),
        records as f64 / t.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
