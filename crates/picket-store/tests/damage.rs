//! Torn writes and flipped bits in every kind of file the store writes:
//! startup either recovers (setting data aside and saying so) or refuses
//! with an error that names the file. It never serves state that differs
//! from what the history says, and never panics. `verify` sees every
//! flipped bit.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use common::*;
use picket_store::{verify, DataDir, StoreOptions};

fn options() -> StoreOptions {
    StoreOptions {
        snapshot_every: 40,
        segment_size: 3 << 10,
        ..StoreOptions::default()
    }
}

type Reference = HashMap<(String, u64), Account>;

/// Builds a data directory with several segments, both snapshots and
/// records after the newest snapshot, and the state of every aggregate at
/// every version.
fn build(root: &Path) -> (Reference, HashMap<String, u64>) {
    let mut reference = Reference::new();
    let mut latest = HashMap::new();
    let (dir, _) = DataDir::open(root).unwrap();
    let (store, _) = dir.store::<Account>("accounts", &options()).unwrap();
    let mut note = |store: &picket_store::Store<Account>, id: &str| {
        let v = store.get(id).unwrap();
        reference.insert((id.to_string(), v.version), v.state.clone());
        latest.insert(id.to_string(), v.version);
    };
    for i in 0..5 {
        let id = format!("acct{i}");
        open(&store, &id);
        note(&store, &id);
    }
    for round in 0..40u32 {
        for i in 0..5u32 {
            let id = format!("acct{i}");
            let c = if (round + i) % 3 == 2 {
                Change::Withdraw(7)
            } else {
                Change::Deposit(i64::from(round + i + 1))
            };
            let _ = change(&store, &id, c);
            note(&store, &id);
        }
        if round == 30 {
            store.snapshot_now();
        }
    }
    // No close: the newest records are only in the log.
    drop(store);
    (reference, latest)
}

fn files(root: &Path) -> Vec<PathBuf> {
    let store = root.join("store/accounts");
    let mut out = vec![
        root.join("store/FORMAT"),
        store.join("snapshot"),
        store.join("snapshot.bak"),
    ];
    let mut segs: Vec<PathBuf> = std::fs::read_dir(store.join("log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    segs.sort();
    // The first, one in the middle (where the older snapshot points) and
    // the last (where writes end): each segment is damaged the same way.
    let n = segs.len();
    out.extend([0, n / 2, n - 1].iter().map(|&i| segs[i].clone()));
    out.dedup();
    for f in &out {
        assert!(f.exists(), "{} was not written", f.display());
    }
    out
}

enum Damage {
    Truncate(usize),
    Flip(usize, u8),
}

/// Opens a damaged copy and checks the outcome; returns a label for the
/// summary.
fn check(
    damaged: &Path,
    recover: bool,
    what: &str,
    reference: &Reference,
    latest: &HashMap<String, u64>,
) -> &'static str {
    let options = StoreOptions {
        recover,
        ..options()
    };
    let opened = DataDir::open(damaged).and_then(|(dir, _)| {
        let (store, report) = dir.store::<Account>("accounts", &options)?;
        Ok((dir, store, report))
    });
    match opened {
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.contains(&*damaged.to_string_lossy()),
                "{what}: the error must name the file: {text}"
            );
            "refused"
        }
        Ok((_dir, store, report)) => {
            let mut lost = false;
            for (id, newest) in latest {
                match store.get(id) {
                    Some(v) => {
                        let want = &reference[&(id.clone(), v.version)];
                        assert_eq!(
                            &v.state, want,
                            "{what}: '{id}' at version {} differs",
                            v.version
                        );
                        lost |= v.version < *newest;
                    }
                    None => lost = true,
                }
            }
            assert!(
                !lost || report.needs_attention(),
                "{what}: data is missing but startup said nothing: {report:?}"
            );
            if recover {
                // Recovery leaves a log whose every record verifies.
                drop(store);
                drop(_dir);
                let v = verify(damaged).unwrap();
                assert!(
                    v.is_ok(),
                    "{what}: after recovery: {:?}",
                    v.stores[0].findings
                );
            }
            if report.needs_attention() {
                "recovered"
            } else {
                "unaffected"
            }
        }
    }
}

#[test]
fn torn_writes_and_bit_flips_in_every_file() {
    let tmp = tempfile::tempdir().unwrap();
    let pristine = tmp.path().join("pristine");
    let (reference, latest) = build(&pristine);
    let mut outcomes: HashMap<(String, &'static str), usize> = HashMap::new();
    let mut case = 0;
    for file in files(&pristine) {
        let rel = file.strip_prefix(&pristine).unwrap().to_path_buf();
        let len = std::fs::metadata(&file).unwrap().len() as usize;
        let kind = if rel.starts_with("store/accounts/log") {
            "segment"
        } else {
            rel.file_name().unwrap().to_str().unwrap()
        };
        // Every byte of small files and of the headers, then a spread.
        let mut positions: Vec<usize> = (0..len.min(48)).collect();
        positions.extend((48..len).step_by((len / 24).max(1)));
        positions.push(len.saturating_sub(1));
        let mut damages: Vec<Damage> = Vec::new();
        for &p in &positions {
            damages.push(Damage::Truncate(p));
            damages.push(Damage::Flip(p, 1 << (p % 8)));
        }
        for damage in damages {
            case += 1;
            let copy = tmp.path().join(format!("case{case}"));
            copy_dir(&pristine, &copy);
            let target = copy.join(&rel);
            if kind == "snapshot.bak" {
                // Otherwise the newest snapshot is used and the backup is
                // never read.
                std::fs::remove_file(copy.join("store/accounts/snapshot")).unwrap();
            }
            let mut bytes = std::fs::read(&target).unwrap();
            let what = match damage {
                Damage::Truncate(p) => {
                    bytes.truncate(p);
                    format!("{} cut to {p} bytes", rel.display())
                }
                Damage::Flip(p, bit) => {
                    bytes[p] ^= bit;
                    format!("{} bit {bit:#x} flipped at byte {p}", rel.display())
                }
            };
            std::fs::write(&target, &bytes).unwrap();
            if let Damage::Flip(..) = damage {
                if kind != "FORMAT" {
                    let v = verify(&copy).unwrap();
                    assert!(!v.is_ok(), "{what}: verify did not notice");
                }
            }
            let outcome = check(&copy, false, &what, &reference, &latest);
            *outcomes.entry((kind.to_string(), outcome)).or_default() += 1;
            if kind == "segment" {
                // Forced recovery reads every segment, so damage before
                // the snapshot is found and set aside too.
                let forced = tmp.path().join(format!("case{case}-forced"));
                copy_dir(&pristine, &forced);
                std::fs::write(forced.join(&rel), &bytes).unwrap();
                let outcome = check(&forced, true, &what, &reference, &latest);
                *outcomes
                    .entry(("segment, forced recovery".into(), outcome))
                    .or_default() += 1;
                std::fs::remove_dir_all(&forced).unwrap();
            }
            std::fs::remove_dir_all(&copy).unwrap();
        }
    }
    let mut summary: Vec<_> = outcomes.into_iter().collect();
    summary.sort();
    eprintln!("{case} damaged copies: {summary:?}");
    // Each kind of file was damaged in ways that needed recovery.
    for kind in ["segment", "snapshot", "snapshot.bak"] {
        assert!(
            summary
                .iter()
                .any(|((k, o), _)| k == kind && *o == "recovered"),
            "{kind}"
        );
    }
    assert!(summary
        .iter()
        .any(|((k, o), _)| k == "FORMAT" && *o == "refused"));
}
