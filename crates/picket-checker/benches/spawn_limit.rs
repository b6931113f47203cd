//! The machine's raw limit for running a plugin: a minimal program that
//! does nothing but start `check_dummy 0 text` (or `SPAWN_PLUGIN`) and
//! read its output, `SPAWN_CONCURRENCY` at a time (default 64), for
//! `SPAWN_SECONDS` (default 10). The checker's forked-plugin rate is
//! measured against this (bench/checks.py).
//!
//! `cargo bench -p picket-checker --bench spawn_limit`

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let plugin = std::env::var("SPAWN_PLUGIN")
        .unwrap_or_else(|_| "/usr/lib/nagios/plugins/check_dummy".to_string());
    let concurrency: usize = env_or("SPAWN_CONCURRENCY", 64);
    let seconds: f64 = env_or("SPAWN_SECONDS", 10.0);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(seconds);
    let threads: Vec<_> = (0..concurrency)
        .map(|_| {
            let (plugin, done) = (plugin.clone(), done.clone());
            std::thread::spawn(move || {
                while Instant::now() < until {
                    let out = Command::new(&plugin)
                        .args(["0", "spawn limit"])
                        .stdin(Stdio::null())
                        .output();
                    if out.is_ok() {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    let n = done.load(Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "spawn limit: {n} runs of {plugin} in {elapsed:.1} s with {concurrency} at a time: {:.0} runs/s",
        n as f64 / elapsed
    );
}
