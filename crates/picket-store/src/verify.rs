//! `picket store verify`: checking every record, both hash chains and the
//! snapshots of every store, without knowing the aggregates' types.
//!
//! A finding names the file and byte where the history stops being what was
//! written: a frame whose checksum fails, a record whose log chain or
//! aggregate chain does not continue, versions that skip or repeat, or a
//! snapshot that describes records the log does not have.

use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;
use serde::de::IgnoredAny;
use serde::Serialize;

use crate::chain::Hash;
use crate::datadir::{self, STORE_DIR};
use crate::error::StoreError;
use crate::open::{fits, Fit};
use crate::record::RecordKey;
use crate::scan::{self, End};
use crate::snapshot;

/// The result for a whole data directory.
#[derive(Debug, Serialize)]
pub struct Verification {
    pub stores: Vec<StoreVerification>,
}

impl Verification {
    pub fn is_ok(&self) -> bool {
        self.stores.iter().all(|s| s.findings.is_empty())
    }
}

#[derive(Debug, Serialize)]
pub struct StoreVerification {
    pub store: String,
    pub segments: usize,
    pub records: u64,
    pub aggregates: usize,
    /// The log chain after the last record: keep it elsewhere to be able to
    /// tell later that nothing up to here changed.
    pub head: Hash,
    /// The first segment present; history before it was archived and is
    /// not here, so the chains are checked from there on.
    pub first_segment: Option<u32>,
    /// The log ends inside a write: a write in progress, or a crash that the
    /// next start sets aside.
    pub unfinished_tail: bool,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub file: PathBuf,
    pub offset: u64,
    pub problem: String,
}

/// Verifies every store of the data directory `root`.
pub fn verify(root: &Path) -> Result<Verification, StoreError> {
    let names = datadir::inspect(root)?;
    let mut stores = Vec::new();
    for name in names {
        stores.push(verify_store(&root.join(STORE_DIR).join(&name), &name)?);
    }
    Ok(Verification { stores })
}

struct Expect {
    /// Snapshot entries to find in the chains: (id, version) → head.
    heads: FxHashMap<(String, u64), (Hash, PathBuf)>,
}

/// Verifies one store directory. A log that seems to end inside a write
/// is read again a moment later: a running node finishes its writes within
/// milliseconds, so what is still unfinished then was left by a crash (or
/// damaged), and is reported.
pub(crate) fn verify_store(dir: &Path, name: &str) -> Result<StoreVerification, StoreError> {
    let first = verify_once(dir, name, false)?;
    if !first.unfinished_tail {
        return Ok(first);
    }
    std::thread::sleep(std::time::Duration::from_millis(50));
    verify_once(dir, name, true)
}

fn verify_once(dir: &Path, name: &str, strict: bool) -> Result<StoreVerification, StoreError> {
    let segs = scan::segments(dir).map_err(StoreError::io(dir))?;
    let mut out = StoreVerification {
        store: name.to_string(),
        segments: segs.len(),
        records: 0,
        aggregates: 0,
        head: Hash::ZERO,
        first_segment: segs.first().map(|s| s.number),
        unfinished_tail: false,
        findings: Vec::new(),
    };
    let complete = segs.first().is_some_and(|s| s.number == 1);
    let mut expect = Expect {
        heads: FxHashMap::default(),
    };
    for which in [snapshot::FILE, snapshot::BACKUP] {
        let path = dir.join(which);
        match snapshot::read::<IgnoredAny>(&path) {
            Ok(snap) => {
                match fits(&snap.point(), &segs) {
                    Fit::Fits(_) => {}
                    Fit::Ahead(why) => out.findings.push(Finding {
                        file: path.clone(),
                        offset: 0,
                        problem: format!("the snapshot does not match the log: {why}"),
                    }),
                    Fit::Missing(_) => {}
                }
                for e in snap.aggregates {
                    expect
                        .heads
                        .insert((e.id, e.version), (e.head, path.clone()));
                }
            }
            Err(snapshot::ReadError::NotFound) => {}
            Err(snapshot::ReadError::Io(e)) => return Err(StoreError::Io { path, source: e }),
            Err(snapshot::ReadError::Invalid(why)) => out.findings.push(Finding {
                file: path,
                offset: 0,
                problem: format!("snapshot unreadable: {why}"),
            }),
        }
    }

    let mut chain: Option<Hash> = complete.then_some(Hash::ZERO);
    let mut heads: FxHashMap<String, (u64, Hash)> = FxHashMap::default();
    let last = segs.len().saturating_sub(1);
    for (i, seg) in segs.iter().enumerate() {
        if i > 0 && seg.number != segs[i - 1].number + 1 {
            out.findings.push(Finding {
                file: seg.path.clone(),
                offset: 0,
                problem: format!("segment {} is missing (removed)", segs[i - 1].number + 1),
            });
        }
        let bytes = scan::read(&seg.path).map_err(StoreError::io(&seg.path))?;
        let findings = &mut out.findings;
        let records = &mut out.records;
        let walked = scan::walk::<std::convert::Infallible>(
            &bytes,
            seg.number,
            0,
            |at, log_prev, payload| {
                let finding = |problem: String| Finding {
                    file: seg.path.clone(),
                    offset: at as u64,
                    problem,
                };
                let record_hash = Hash::of_record(payload);
                match chain {
                    Some(c) if c != *log_prev => {
                        findings.push(finding(
                        "log chain broken: a record before this one was edited, removed, inserted or moved".into(),
                    ));
                    }
                    _ => {}
                }
                chain = Some(Hash::link(log_prev, &record_hash));
                *records += 1;
                let key: RecordKey = match serde_json::from_slice(payload) {
                    Ok(k) => k,
                    Err(e) => {
                        findings.push(finding(format!("record unreadable: {e}")));
                        return Ok(());
                    }
                };
                let id = key.id.as_ref();
                match heads.get_mut(id) {
                    None => {
                        if complete && (key.version != 0 || key.prev != Hash::ZERO) {
                            findings.push(finding(format!(
                                "'{id}' version {}: the records before it are missing (removed)",
                                key.version
                            )));
                        }
                        heads.insert(id.to_string(), (key.version, record_hash));
                    }
                    Some((version, head)) => {
                        if key.version != *version + 1 {
                            let what = if key.version > *version + 1 {
                                format!(
                                    "versions {} to {} are missing (removed)",
                                    *version + 1,
                                    key.version - 1
                                )
                            } else {
                                "repeated or out of order (reordered)".to_string()
                            };
                            findings.push(finding(format!(
                                "'{id}' version {} follows version {version}: {what}",
                                key.version
                            )));
                        } else if key.prev != *head {
                            findings.push(finding(format!(
                            "'{id}' version {}: version {version} is not the record it was written after (edited)",
                            key.version
                        )));
                        }
                        *version = key.version;
                        *head = record_hash;
                    }
                }
                if let Some((want, snap)) = expect.heads.remove(&(id.to_string(), key.version)) {
                    if want != record_hash {
                        findings.push(Finding {
                        file: snap,
                        offset: 0,
                        problem: format!(
                            "the snapshot's '{id}' version {} is not the record in the log at byte {at} of {}",
                            key.version,
                            seg.path.display()
                        ),
                    });
                    }
                }
                let _ = key.time;
                Ok(())
            },
        );
        let Ok((at, end)) = walked;
        let unfinished = i == last
            && match &end {
                End::Incomplete | End::Header(crate::segment::HeaderProblem::Incomplete) => true,
                End::Corrupt(_) => scan::unfinished_write(&bytes, at),
                _ => false,
            };
        if unfinished {
            out.unfinished_tail = true;
            if strict {
                out.findings.push(Finding {
                    file: seg.path.clone(),
                    offset: at as u64,
                    problem: "the log ends with an unfinished or damaged record (a crash during a write, \
                              or damage); the next start sets it aside"
                        .into(),
                });
            }
            continue;
        }
        match end {
            End::Clean => {}
            other => out.findings.push(Finding {
                file: seg.path.clone(),
                offset: at as u64,
                problem: match other {
                    End::Corrupt(why) => format!("damaged record: {why}"),
                    End::Incomplete => "a sealed segment ends inside a record".into(),
                    End::Header(p) => format!("damaged segment header: {p:?}"),
                    End::Clean => unreachable!(),
                },
            }),
        }
    }
    if complete {
        for ((id, version), (_, snap)) in expect.heads {
            out.findings.push(Finding {
                file: snap,
                offset: 0,
                problem: format!(
                    "the snapshot has '{id}' at version {version}, which is not in the log"
                ),
            });
        }
    }
    out.aggregates = heads.len();
    out.head = chain.unwrap_or(Hash::ZERO);
    Ok(out)
}
