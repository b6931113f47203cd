//! `picket store verify` against deliberate edits: records edited,
//! removed or reordered, by someone who recomputes every checksum and even
//! the log chain. Only the hash chains can tell, and they do.

mod common;

use std::path::Path;

use common::*;
use picket_store::{verify, DataDir, StoreOptions};
use sha2::{Digest, Sha256};

struct Frame {
    log_prev: [u8; 32],
    payload: Vec<u8>,
}

/// The layout is documented in the crate (`frame.rs`); an attacker can
/// read it too.
fn parse(bytes: &[u8]) -> Vec<Frame> {
    let mut out = Vec::new();
    let mut at = 20;
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let mut log_prev = [0; 32];
        log_prev.copy_from_slice(&bytes[at + 8..at + 40]);
        out.push(Frame {
            log_prev,
            payload: bytes[at + 40..at + 40 + len].to_vec(),
        });
        at += 40 + len;
    }
    out
}

fn encode(header: &[u8], frames: &[Frame], rechain: bool) -> Vec<u8> {
    let mut out = header.to_vec();
    let mut chain = frames.first().map(|f| f.log_prev).unwrap_or([0; 32]);
    for f in frames {
        let prev = if rechain { chain } else { f.log_prev };
        let len = (f.payload.len() as u32).to_le_bytes();
        let crc = crc32c::crc32c_append(
            crc32c::crc32c_append(crc32c::crc32c(&len), &prev),
            &f.payload,
        );
        out.extend_from_slice(&len);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&prev);
        out.extend_from_slice(&f.payload);
        let record: [u8; 32] = Sha256::digest(&f.payload).into();
        let mut h = Sha256::new();
        h.update(prev);
        h.update(record);
        chain = h.finalize().into();
    }
    out
}

fn build(root: &Path) {
    let (dir, _) = DataDir::open(root).unwrap();
    let options = StoreOptions {
        segment_size: 1 << 20,
        snapshot_every: 1_000_000,
        ..StoreOptions::default()
    };
    let (store, _) = dir.store::<Account>("accounts", &options).unwrap();
    for id in ["a", "b"] {
        open(&store, id);
    }
    for i in 1..=5 {
        change(&store, "a", Change::Deposit(i)).unwrap();
        change(&store, "b", Change::Deposit(10 * i)).unwrap();
    }
}

fn segment(root: &Path) -> std::path::PathBuf {
    root.join("store/accounts/log/0000000001.seg")
}

/// Applies `edit` to the frames of a fresh store and returns verify's
/// findings.
fn tampered(edit: impl FnOnce(&mut Vec<Frame>), rechain: bool) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    let v = verify(tmp.path()).unwrap();
    assert!(v.is_ok(), "{:?}", v.stores[0].findings);
    let bytes = std::fs::read(segment(tmp.path())).unwrap();
    let mut frames = parse(&bytes);
    edit(&mut frames);
    std::fs::write(segment(tmp.path()), encode(&bytes[..20], &frames, rechain)).unwrap();
    let v = verify(tmp.path()).unwrap();
    v.stores[0]
        .findings
        .iter()
        .map(|f| f.problem.clone())
        .collect()
}

fn replace(frame: &mut Frame, from: &str, to: &str) {
    let text = String::from_utf8(frame.payload.clone()).unwrap();
    assert!(text.contains(from), "{text}");
    frame.payload = text.replacen(from, to, 1).into_bytes();
}

// Frames: 0 open a, 1 open b, then a v1, b v1, a v2, b v2, ...

#[test]
fn an_edited_record_is_found() {
    let findings = tampered(
        |f| replace(&mut f[2], "\"deposited\":1", "\"deposited\":9"),
        false,
    );
    assert!(
        findings.iter().any(|p| p.contains("log chain broken")),
        "{findings:?}"
    );
    // With the log chain recomputed, the aggregate chain still tells.
    let findings = tampered(
        |f| replace(&mut f[2], "\"deposited\":1", "\"deposited\":9"),
        true,
    );
    assert!(
        findings
            .iter()
            .any(|p| p.contains("'a' version 2") && p.contains("edited")),
        "{findings:?}"
    );
}

#[test]
fn a_removed_record_is_found() {
    let findings = tampered(
        |f| {
            f.remove(4);
        },
        true,
    );
    assert!(
        findings
            .iter()
            .any(|p| p.contains("'a' version 3 follows version 1") && p.contains("removed")),
        "{findings:?}"
    );
    // A whole aggregate removed: only the log chain can tell.
    let findings = tampered(
        |f| {
            let mut i = 0;
            f.retain(|_| {
                i += 1;
                i % 2 == 1
            });
        },
        false,
    );
    assert!(
        findings.iter().any(|p| p.contains("log chain broken")),
        "{findings:?}"
    );
}

#[test]
fn reordered_records_are_found() {
    let findings = tampered(|f| f.swap(2, 4), true);
    assert!(
        findings
            .iter()
            .any(|p| p.contains("'a' version 2 follows version 0")),
        "{findings:?}"
    );
    // Records of different aggregates swapped: each chain is intact, the
    // log chain is not.
    let findings = tampered(|f| f.swap(2, 3), false);
    assert!(
        findings.iter().any(|p| p.contains("log chain broken")),
        "{findings:?}"
    );
}

#[test]
fn the_head_changes_when_the_newest_record_is_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    build(tmp.path());
    let before = verify(tmp.path()).unwrap().stores[0].head;
    let bytes = std::fs::read(segment(tmp.path())).unwrap();
    let mut frames = parse(&bytes);
    let last = frames.len() - 1;
    replace(&mut frames[last], "\"deposited\":50", "\"deposited\":51");
    std::fs::write(segment(tmp.path()), encode(&bytes[..20], &frames, true)).unwrap();
    let v = verify(tmp.path()).unwrap();
    // Nothing follows it, so the chains alone cannot tell; the head that
    // an operator kept can.
    assert!(v.is_ok());
    assert_ne!(v.stores[0].head, before);
}
