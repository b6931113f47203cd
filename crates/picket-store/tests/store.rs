//! The store's behaviour through its public interface, on real files.

mod common;

use std::sync::{Arc, Barrier};

use common::*;
use picket_store::{
    history, verify, Command, CommandError, DataDir, Effect, Store, StoreError, StoreOptions,
};

fn open_dir(dir: &std::path::Path, options: &StoreOptions) -> Store<Account> {
    Store::<Account>::open(dir, "accounts", options)
        .expect("open")
        .0
}

#[test]
fn commands_are_decided_stored_and_survive_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let options = small_options();
    {
        let store = open_dir(tmp.path(), &options);
        open(&store, "alice");
        assert_eq!(change(&store, "alice", Change::Deposit(10)).unwrap(), 1);
        // Refused: stored with its reason, the version moves on.
        match change(&store, "alice", Change::Withdraw(25)) {
            Err(CommandError::Refused { version, error }) => {
                assert_eq!(version, 2);
                assert_eq!(
                    error,
                    Refusal::Insufficient {
                        balance: 10,
                        wanted: 25
                    }
                );
            }
            other => panic!("{other:?}"),
        }
        // A no-op is answered and not stored.
        assert_eq!(change(&store, "alice", Change::Deposit(0)).unwrap(), 2);
        assert_eq!(change(&store, "alice", Change::Withdraw(4)).unwrap(), 3);
        assert!(matches!(
            change(&store, "bob", Change::Deposit(1)),
            Err(CommandError::NotFound(_))
        ));
        let again =
            store.create_blocking(Command::new("alice", actor(), Open { owner: "x".into() }));
        assert!(matches!(again, Err(CommandError::AlreadyExists(_))));
        let nobody = store.create_blocking(Command::new(
            "carol",
            actor(),
            Open {
                owner: String::new(),
            },
        ));
        assert!(matches!(
            nobody,
            Err(CommandError::InitRefused(Refusal::NoOwner))
        ));
        assert!(store.get("carol").is_none());
        assert_eq!(store.ids(), vec!["alice".to_string()]);
        // No close: the next start must replay the log.
    }
    let store = open_dir(tmp.path(), &options);
    let alice = store.get("alice").unwrap();
    assert_eq!(
        (alice.version, alice.state.balance, alice.state.movements),
        (3, 6, 2)
    );

    let h = history(tmp.path(), "alice").unwrap();
    let labels: Vec<String> = h.iter().map(|e| e.command.to_string()).collect();
    assert_eq!(
        labels,
        [
            "open owner=owner of alice",
            "deposit amount=10",
            "withdraw amount=25",
            "withdraw amount=4"
        ]
    );
    assert_eq!(
        h[2].effect,
        Effect::Error("balance 10 is less than 25".into())
    );
    assert_eq!(h[0].actor.as_str(), "user:test");
    assert!(matches!(h[1].effect, Effect::Events(ref e) if e.len() == 1));
    assert_eq!(h.last().unwrap().hash, alice.head);
}

#[test]
fn startup_uses_the_snapshot_and_falls_back_to_the_backup_and_to_a_full_replay() {
    let tmp = tempfile::tempdir().unwrap();
    let options = small_options();
    {
        let store = open_dir(tmp.path(), &options);
        for i in 0..20 {
            open(&store, &format!("a{i}"));
        }
        for round in 0..30 {
            for i in 0..20 {
                change(&store, &format!("a{i}"), Change::Deposit(round + 1)).unwrap();
            }
        }
        store.close();
    }
    let expect = |store: &Store<Account>| {
        for i in 0..20 {
            let a = store.get(&format!("a{i}")).unwrap();
            assert_eq!((a.version, a.state.balance), (30, 465));
        }
    };
    let (store, report) = Store::<Account>::open(tmp.path(), "accounts", &options).unwrap();
    assert_eq!(report.snapshot.as_deref(), Some("snapshot"));
    assert_eq!(report.replayed, 0, "a clean close leaves nothing to replay");
    expect(&store);
    drop(store);

    // An unreadable snapshot is set aside; the backup one is used.
    std::fs::write(tmp.path().join("snapshot"), b"garbage").unwrap();
    let (store, report) = Store::<Account>::open(tmp.path(), "accounts", &options).unwrap();
    assert_eq!(report.snapshot.as_deref(), Some("snapshot.bak"));
    assert!(report.replayed > 0);
    assert!(tmp.path().join("corrupt/snapshot").exists());
    expect(&store);
    drop(store);

    // Without any snapshot: a full replay.
    for f in ["snapshot", "snapshot.bak"] {
        let _ = std::fs::remove_file(tmp.path().join(f));
    }
    let (store, report) = Store::<Account>::open(tmp.path(), "accounts", &options).unwrap();
    assert_eq!(report.snapshot, None);
    assert_eq!(report.replayed, 20 * 31);
    expect(&store);
}

#[test]
fn a_stale_expected_version_is_refused_and_not_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open_dir(tmp.path(), &small_options());
    open(&store, "a");
    let seen = store.get("a").unwrap().version;
    change(&store, "a", Change::Deposit(5)).unwrap();
    let stale =
        store.command_blocking(Command::new("a", actor(), Change::Deposit(1)).expecting(seen));
    match stale {
        Err(CommandError::Conflict {
            expected, actual, ..
        }) => assert_eq!((expected, actual), (0, 1)),
        other => panic!("{other:?}"),
    }
    let fresh = store
        .command_blocking(Command::new("a", actor(), Change::Deposit(1)).expecting(1))
        .unwrap();
    assert_eq!(fresh.version, 2);
    assert_eq!(history(tmp.path(), "a").unwrap().len(), 3);
}

#[test]
fn commands_to_one_aggregate_are_serialised_and_to_many_run_together() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open_dir(tmp.path(), &StoreOptions::default());
    open(&store, "shared");
    for t in 0..8 {
        open(&store, &format!("own{t}"));
    }
    let threads = 8;
    let per = 200;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let store = store.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let mut versions = Vec::new();
                for _ in 0..per {
                    versions.push(change(&store, "shared", Change::Deposit(1)).unwrap());
                    change(&store, &format!("own{t}"), Change::Deposit(1)).unwrap();
                }
                versions
            })
        })
        .collect();
    let mut all: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_unstable();
    // Every command to the shared account got its own version: none was
    // decided on a state that missed another.
    assert_eq!(all, (1..=(threads * per) as u64).collect::<Vec<_>>());
    let shared = store.get("shared").unwrap();
    assert_eq!(shared.state.balance, (threads * per) as i64);
    for t in 0..threads {
        assert_eq!(
            store.get(&format!("own{t}")).unwrap().state.balance,
            per as i64
        );
    }
    // Under concurrency the writer syncs many commands at once; the log
    // and chains are intact.
    store.close();
    let tmp_root = tmp.path();
    let segs = std::fs::read_dir(tmp_root.join("log")).unwrap().count();
    assert!(segs >= 1);
}

#[test]
fn commands_from_async_tasks() {
    let tmp = tempfile::tempdir().unwrap();
    let store = open_dir(tmp.path(), &StoreOptions::default());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        store
            .create(Command::new("x", actor(), Open { owner: "o".into() }))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .command(Command::new("x", actor(), Change::Deposit(2)))
                        .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
    });
    assert_eq!(store.get("x").unwrap().state.balance, 128);
}

#[test]
fn the_data_directory_is_locked_versioned_and_refuses_downgrades() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, migration) = DataDir::open(tmp.path()).unwrap();
    assert!(migration.is_none());
    match DataDir::open(tmp.path()) {
        Err(StoreError::Locked { .. }) => {}
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened twice"),
    }
    let (store, _) = dir.store::<Account>("accounts", &small_options()).unwrap();
    open(&store, "a");
    drop(store);
    drop(dir);
    std::fs::write(tmp.path().join("store/FORMAT"), "picket-store-format 9\n").unwrap();
    let err = DataDir::open(tmp.path()).err().expect("refused");
    let text = err.to_string();
    assert!(
        text.contains("newer Picket") && text.contains("format 9"),
        "{text}"
    );
    std::fs::write(tmp.path().join("store/FORMAT"), "garbage").unwrap();
    let text = DataDir::open(tmp.path())
        .err()
        .expect("refused")
        .to_string();
    assert!(
        text.contains("FORMAT") && text.contains("not a Picket data format"),
        "{text}"
    );
    assert!(matches!(
        DataDir::open(tmp.path()).err(),
        Some(StoreError::Format { .. })
    ));
    assert!(verify(tmp.path()).is_err(), "verify refuses too");
}

#[test]
fn archived_segments_are_not_read_at_startup_but_stay_in_the_history() {
    let tmp = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        snapshot_every: 1_000_000,
        segment_size: 4 << 10,
        ..StoreOptions::default()
    };
    let store = open_dir(tmp.path(), &options);
    open(&store, "a");
    for _ in 0..200 {
        change(&store, "a", Change::Deposit(1)).unwrap();
    }
    store.snapshot_now();
    let moved = store.archive(0).unwrap();
    assert!(moved.len() > 3, "{moved:?}");
    store.close();
    drop(store);
    let (store, report) = Store::<Account>::open(tmp.path(), "accounts", &options).unwrap();
    assert_eq!(report.snapshot.as_deref(), Some("snapshot"));
    assert_eq!(store.get("a").unwrap().state.balance, 200);
    assert_eq!(history(tmp.path(), "a").unwrap().len(), 201);
    drop(store);
    // A recovery replays archived segments too.
    let forced = StoreOptions {
        recover: true,
        ..options.clone()
    };
    let (store, report) = Store::<Account>::open(tmp.path(), "accounts", &forced).unwrap();
    assert!(report.recovered);
    assert_eq!(report.replayed, 201);
    assert_eq!(store.get("a").unwrap().version, 200);
    drop(store);
    // If the archive is removed, normal startup still works from the
    // snapshot, and a full replay says what is missing.
    std::fs::remove_dir_all(tmp.path().join("archived")).unwrap();
    let (store, _) = Store::<Account>::open(tmp.path(), "accounts", &options).unwrap();
    assert_eq!(store.get("a").unwrap().state.balance, 200);
    drop(store);
    for f in ["snapshot", "snapshot.bak"] {
        std::fs::remove_file(tmp.path().join(f)).unwrap();
    }
    let err = Store::<Account>::open(tmp.path(), "accounts", &options)
        .err()
        .unwrap();
    assert!(err.to_string().contains("restore `archived/`"), "{err}");
}

#[test]
fn a_write_torn_inside_prepared_space_is_set_aside_without_recovery() {
    let tmp = tempfile::tempdir().unwrap();
    let options = small_options();
    {
        let store = open_dir(tmp.path(), &options);
        open(&store, "a");
        change(&store, "a", Change::Deposit(3)).unwrap();
    }
    // What a power cut leaves when the first page of a batch reached the
    // disk and the rest of it did not: a frame header and part of its
    // payload, then the zeros the writer had prepared.
    let seg = tmp.path().join("log/0000000001.seg");
    let mut bytes = std::fs::read(&seg).unwrap();
    let mut torn = vec![0u8; 40 + 30];
    torn[..4].copy_from_slice(&200u32.to_le_bytes());
    torn[40..].copy_from_slice(&[b'{'; 30]);
    bytes.extend_from_slice(&torn);
    bytes.extend_from_slice(&vec![0u8; 1 << 20]);
    std::fs::write(&seg, &bytes).unwrap();

    let (store, report) = Store::<Account>::open(tmp.path(), "accounts", &options).unwrap();
    assert!(!report.recovered, "{report:?}");
    assert_eq!(report.set_aside.len(), 1, "{report:?}");
    assert_eq!(
        std::fs::metadata(&report.set_aside[0].path).unwrap().len(),
        70
    );
    assert_eq!(store.get("a").unwrap().state.balance, 3);
    change(&store, "a", Change::Deposit(1)).unwrap();
    store.close();
    drop(store);
    let (store, _) = Store::<Account>::open(tmp.path(), "accounts", &options).unwrap();
    assert_eq!(store.get("a").unwrap().state.balance, 4);
}
