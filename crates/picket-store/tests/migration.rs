//! Upgrading data written in format 1 (Krill's file-per-command layout),
//! from files committed to the repository.

mod common;

use std::path::Path;

use common::*;
use picket_store::{history, verify, DataDir, Effect, FORMAT_VERSION};

fn fixture() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/format-1"),
        tmp.path(),
    );
    tmp
}

fn check_upgraded(root: &Path) {
    let (dir, _) = DataDir::open(root).unwrap();
    let (store, report) = dir.store::<Account>("accounts", &small_options()).unwrap();
    assert_eq!(report.replayed, 10);
    let alice = store.get("alice").unwrap();
    assert_eq!(
        (
            alice.version,
            alice.state.balance,
            alice.state.owner.as_str()
        ),
        (2, 70, "Alice")
    );
    let bob = store.get("bob").unwrap();
    assert_eq!((bob.version, bob.state.balance), (2, 12));
    let carol = store.get("carol/ops").unwrap();
    assert_eq!(
        (carol.version, carol.state.balance, carol.state.closed),
        (3, 7, true)
    );
    // The upgraded store takes new commands on top of the old history.
    change(&store, "alice", Change::Deposit(1)).unwrap();
    drop(store);
    drop(dir);
    assert!(verify(root).unwrap().is_ok());
    let h = history(&root.join("store/accounts"), "bob").unwrap();
    assert_eq!(h[1].actor.as_str(), "user:bob");
    assert_eq!(
        h[1].effect,
        Effect::Error("balance 0 is less than 5".into())
    );
    assert_eq!(h[1].time, 1763885105000);
}

#[test]
fn format_1_data_is_upgraded_at_startup() {
    let tmp = fixture();
    let root = tmp.path();
    let (dir, migration) = DataDir::open(root).unwrap();
    let migration = migration.expect("an upgrade ran");
    assert_eq!((migration.from, migration.to), (1, FORMAT_VERSION));
    assert_eq!(migration.stores, vec![("accounts".to_string(), 10)]);
    // The old data is kept, untouched.
    assert!(root
        .join("store.format-1/accounts/carol%2Fops/command-3.json")
        .exists());
    assert_eq!(
        std::fs::read_to_string(root.join("store/FORMAT")).unwrap(),
        format!("picket-store-format {FORMAT_VERSION}\n")
    );
    drop(dir);
    check_upgraded(root);
    // Opening again does not upgrade again.
    assert!(DataDir::open(root).unwrap().1.is_none());
}

#[test]
fn an_upgrade_interrupted_before_the_swap_runs_again_and_one_interrupted_during_it_completes() {
    // Stopped while converting: a leftover staging directory is rebuilt.
    let tmp = fixture();
    std::fs::create_dir_all(tmp.path().join("store.upgrade/accounts/log")).unwrap();
    std::fs::write(
        tmp.path().join("store.upgrade/accounts/log/0000000001.seg"),
        b"half",
    )
    .unwrap();
    drop(DataDir::open(tmp.path()).unwrap());
    check_upgraded(tmp.path());

    // Stopped between the two renames: the old data was moved away, the new
    // data is complete in the staging directory.
    let tmp = fixture();
    drop(DataDir::open(tmp.path()).unwrap());
    std::fs::rename(tmp.path().join("store"), tmp.path().join("store.upgrade")).unwrap();
    let (_, migration) = DataDir::open(tmp.path()).unwrap();
    assert!(migration.is_none());
    check_upgraded(tmp.path());
}

#[test]
fn damaged_format_1_data_is_not_upgraded() {
    let tmp = fixture();
    let bad = tmp.path().join("store/accounts/bob/command-1.json");
    std::fs::write(&bad, b"{\"id\": \"bob\", \"vers").unwrap();
    let err = DataDir::open(tmp.path()).err().expect("refused");
    assert!(err.to_string().contains("command-1.json"), "{err}");
    // Nothing was changed: the old data is where it was.
    assert!(tmp
        .path()
        .join("store/accounts/alice/command-2.json")
        .exists());
    assert!(!tmp.path().join("store.format-1").exists());
}
