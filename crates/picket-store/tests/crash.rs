//! Crash safety: a child process issues commands as fast as it can and is
//! killed with SIGKILL at random moments; after every kill the store opens,
//! every command the child saw answered is there, and the chains verify.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use picket_store::{verify, DataDir, StoreOptions};

const ACCOUNTS: usize = 16;
const KILLS: usize = 200;

fn options() -> StoreOptions {
    StoreOptions {
        snapshot_every: 300,
        segment_size: 256 << 10,
        ..StoreOptions::default()
    }
}

/// The child: deposits 1 into random accounts from four threads and prints
/// every answered command.
#[test]
#[ignore = "run by the crash test as its child process"]
fn crash_child() {
    let Some(root) = std::env::var_os("PICKET_STORE_CHILD") else {
        return;
    };
    let (dir, _) = DataDir::open(Path::new(&root)).unwrap();
    let (store, _) = dir.store::<Account>("accounts", &options()).unwrap();
    for i in 0..ACCOUNTS {
        let id = format!("acct{i}");
        if store.get(&id).is_none() {
            open(&store, &id);
        }
    }
    let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    println!("ready");
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let store = store.clone();
            let out = out.clone();
            std::thread::spawn(move || {
                let mut x = seed() ^ (t + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                loop {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let id = format!("acct{}", x as usize % ACCOUNTS);
                    let v = change(&store, &id, Change::Deposit(1)).unwrap();
                    let mut out = out.lock().unwrap();
                    let _ = writeln!(out, "ack {id} {v}");
                    let _ = out.flush();
                }
            })
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
}

fn seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1
}

#[test]
fn killed_at_random_moments_loses_nothing_answered() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let mut acked: HashMap<String, u64> = HashMap::new();
    let mut rng = seed();
    let mut total_acks = 0usize;
    let mut recoveries = 0usize;
    for kill in 0..KILLS {
        let mut child = child("crash_child", root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => lines.push(l),
                    Err(_) => break,
                }
            }
            lines
        });
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // From right after the start (often mid-startup) to well into the run.
        std::thread::sleep(Duration::from_micros(rng % 60_000));
        // SAFETY: kill(2) with a pid we own; no memory is involved.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGKILL);
        }
        let _ = child.wait();
        for line in reader.join().unwrap() {
            let Some((id, v)) = line.strip_prefix("ack ").and_then(|l| l.split_once(' ')) else {
                continue;
            };
            let v: u64 = v.parse().unwrap();
            let e = acked.entry(id.to_string()).or_default();
            *e = (*e).max(v);
            total_acks += 1;
        }

        let (dir, _) = DataDir::open(root).unwrap();
        let (store, report) = dir.store::<Account>("accounts", &options()).unwrap();
        if report.needs_attention() {
            recoveries += 1;
        }
        assert!(
            !report.recovered || report.failure.is_none(),
            "kill {kill}: a kill must only ever leave a torn tail, not a broken log: {report:?}"
        );
        for (id, v) in &acked {
            let a = store
                .get(id)
                .unwrap_or_else(|| panic!("kill {kill}: {id} lost"));
            assert!(
                a.version >= *v,
                "kill {kill}: {id} answered at {v}, found {}",
                a.version
            );
            // Every version after creation is one deposit of 1.
            assert_eq!(a.state.balance as u64, a.version, "kill {kill}: {id}");
        }
        // Let the next child start from what is on disk now.
        for id in store.ids() {
            let v = store.get(&id).unwrap().version;
            acked.insert(id, v);
        }
        drop(store);
        drop(dir);
        if kill % 20 == 19 || kill == KILLS - 1 {
            let v = verify(root).unwrap();
            assert!(v.is_ok(), "kill {kill}: {:?}", v.stores[0].findings);
        }
    }
    eprintln!("{KILLS} kills, {total_acks} answered commands checked, {recoveries} starts set a torn tail aside");
    assert!(total_acks > 0);
}
