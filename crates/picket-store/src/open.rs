//! Startup: rebuilding a store's aggregates from its snapshot and log, and
//! recovering when that fails.
//!
//! Normal startup takes the newest usable snapshot, replays the log from the
//! position it covers, and sets aside a torn tail (the end of a write that a
//! crash interrupted, or that a running copy caught halfway). Anything else
//! that is wrong with the log makes normal startup fail, and recovery runs:
//! it replays every record from the first one, stops at the first that is
//! not valid, sets it aside in `corrupt/` and everything after it in
//! `surplus/`, and reports the version each aggregate was rebuilt to.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::aggregate::{Aggregate, Versioned};
use crate::chain::Hash;
use crate::durable;
use crate::error::StoreError;
use crate::frame::{self, Decoded};
use crate::quarantine::{self, Kind, SetAside};
use crate::record::{RecordKey, ReplayEffect, ReplayRecord};
use crate::scan::{self, End, SegmentRef, LOG_DIR};
use crate::segment::{self, HeaderProblem};
use crate::snapshot::{self, ReadError, Snapshot};
use crate::writer::{self, LogPoint, Position};

pub(crate) type States<A> = FxHashMap<Arc<str>, Versioned<A>>;

/// What startup did, for the log and for the caller.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    pub store: String,
    /// The snapshot startup began from (`snapshot` or `snapshot.bak`), or
    /// none for a replay of the whole log.
    pub snapshot: Option<String>,
    /// Records replayed on top of it.
    pub replayed: u64,
    pub aggregates: usize,
    /// Recovery ran (forced, or because normal startup failed).
    pub recovered: bool,
    /// Why normal startup failed, when it did.
    pub failure: Option<String>,
    pub set_aside: Vec<SetAside>,
    /// The aggregates whose records were set aside: id, the version it was
    /// rebuilt to (none: not rebuilt at all), and the first version set
    /// aside (none: only unreadable data, whose owner is unknown).
    pub recovered_to: Vec<(String, Option<u64>, Option<u64>)>,
}

impl OpenReport {
    /// Whether anything needs an operator's attention.
    pub fn needs_attention(&self) -> bool {
        self.recovered || !self.set_aside.is_empty()
    }
}

pub(crate) struct Opened<A> {
    pub states: States<A>,
    pub tail: LogPoint,
    pub report: OpenReport,
}

/// A record or frame that stops a replay.
#[derive(Debug)]
struct Problem {
    /// Index into the segment list.
    index: usize,
    offset: usize,
    /// How far the bad data reaches, when known.
    len: Option<usize>,
    detail: String,
    /// The log up to the problem.
    point: Option<LogPoint>,
}

impl Problem {
    fn describe(&self, segs: &[SegmentRef]) -> String {
        format!(
            "{} at byte {}: {}",
            segs[self.index].path.display(),
            self.offset,
            self.detail
        )
    }
}

/// How a replay ended when it reached the end of the log.
struct Replayed {
    point: LogPoint,
    /// The last segment ends inside a write: its index and where.
    torn: Option<(usize, usize)>,
}

struct Replay<'a, A> {
    segs: &'a [SegmentRef],
    states: States<A>,
    replayed: u64,
}

impl<A: Aggregate> Replay<'_, A> {
    /// Replays from `start` (a point in segment `segs[first]`) to the end.
    fn run(&mut self, first: usize, start: LogPoint) -> Result<Replayed, Box<Problem>> {
        let mut point = start;
        let last = self.segs.len() - 1;
        for i in first..self.segs.len() {
            let seg = &self.segs[i];
            let here = |offset: usize, len: Option<usize>, detail: String, point: LogPoint| {
                Box::new(Problem {
                    index: i,
                    offset,
                    len,
                    detail,
                    point: Some(point),
                })
            };
            if i > first && seg.number != self.segs[i - 1].number + 1 {
                return Err(here(
                    0,
                    None,
                    format!("segment {} is missing", self.segs[i - 1].number + 1),
                    point,
                ));
            }
            let bytes = scan::read(&seg.path)
                .map_err(|e| here(0, None, format!("cannot read: {e}"), point))?;
            let from = if i == first {
                start.end.offset as usize
            } else {
                0
            };
            match segment::check_header(&bytes, seg.number) {
                Ok(()) => {}
                Err(HeaderProblem::Incomplete) if i == last && i > first => {
                    // The segment was being created; the log ends with the
                    // previous one.
                    return Ok(Replayed {
                        point,
                        torn: Some((i, 0)),
                    });
                }
                Err(HeaderProblem::Incomplete) => {
                    return Err(here(0, None, "segment header cut short".into(), point));
                }
                Err(HeaderProblem::Invalid(why)) => return Err(here(0, None, why, point)),
            }
            if i > first {
                point.end = Position {
                    segment: seg.number,
                    offset: segment::HEADER_LEN as u64,
                };
            } else if bytes.len() < from {
                return Err(here(
                    0,
                    None,
                    format!("shorter than the snapshot's position {from}"),
                    point,
                ));
            }
            let (at, end) = scan::walk(&bytes, seg.number, from, |at, log_prev, payload| {
                if *log_prev != point.chain {
                    return Err(here(
                        at,
                        Some(frame::frame_len(payload.len())),
                        "log chain broken: records before this one were changed, removed or reordered".into(),
                        point,
                    ));
                }
                let record = Hash::of_record(payload);
                self.apply(payload, &record)
                    .map_err(|d| here(at, Some(frame::frame_len(payload.len())), d, point))?;
                point.chain = Hash::link(&point.chain, &record);
                point.last_frame = Some(Position {
                    segment: seg.number,
                    offset: at as u64,
                });
                point.end.offset = (at + frame::frame_len(payload.len())) as u64;
                Ok(())
            })?;
            match end {
                End::Clean => {}
                End::Incomplete if i == last => {
                    return Ok(Replayed {
                        point,
                        torn: Some((i, at)),
                    })
                }
                End::Corrupt(_) if i == last && scan::unfinished_write(&bytes, at) => {
                    return Ok(Replayed {
                        point,
                        torn: Some((i, at)),
                    })
                }
                End::Incomplete => {
                    return Err(here(
                        at,
                        None,
                        "a sealed segment ends inside a frame".into(),
                        point,
                    ));
                }
                End::Corrupt(why) => {
                    let len = corrupt_extent(&bytes[at..]);
                    return Err(here(at, Some(len), why.to_string(), point));
                }
                End::Header(p) => return Err(here(0, None, format!("{p:?}"), point)),
            }
        }
        Ok(Replayed { point, torn: None })
    }

    fn apply(&mut self, payload: &[u8], hash: &Hash) -> Result<(), String> {
        let record: ReplayRecord<A::InitEvent, A::Event> =
            serde_json::from_slice(payload).map_err(|e| format!("record unreadable: {e}"))?;
        let id: &str = &record.id;
        match self.states.get_mut(id) {
            None => {
                let ReplayEffect::Init(event) = record.effect else {
                    return Err(format!(
                        "'{id}' version {}: no earlier record of it (records removed or reordered)",
                        record.version
                    ));
                };
                if record.version != 0 || record.prev != Hash::ZERO {
                    return Err(format!(
                        "'{id}': creation record with version {}",
                        record.version
                    ));
                }
                let state = A::init(id, event);
                self.states.insert(
                    Arc::from(id),
                    Versioned {
                        state,
                        version: 0,
                        head: *hash,
                    },
                );
            }
            Some(v) => {
                if record.version != v.version + 1 {
                    return Err(format!(
                        "'{id}' version {} follows version {} (records removed, repeated or reordered)",
                        record.version, v.version
                    ));
                }
                if record.prev != v.head {
                    return Err(format!(
                        "'{id}' version {}: the hash of version {} differs from the one it was written after (records edited)",
                        record.version, v.version
                    ));
                }
                match record.effect {
                    ReplayEffect::Init(_) => {
                        return Err(format!(
                            "'{id}' created a second time at version {}",
                            record.version
                        ))
                    }
                    ReplayEffect::Events(events) => {
                        for e in events {
                            v.state.apply(e);
                        }
                    }
                    ReplayEffect::Error(_) => {}
                }
                v.version = record.version;
                v.head = *hash;
            }
        }
        self.replayed += 1;
        Ok(())
    }
}

/// How much of the data at a bad frame belongs to it: its own length when
/// that is plausible, otherwise everything left.
fn corrupt_extent(bytes: &[u8]) -> usize {
    if bytes.len() >= 4 {
        let len = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        let total = frame::frame_len(len);
        if len > 0 && len <= frame::MAX_PAYLOAD && total <= bytes.len() {
            return total;
        }
    }
    bytes.len()
}

fn empty_point(number: u32) -> LogPoint {
    LogPoint {
        end: Position {
            segment: number,
            offset: segment::HEADER_LEN as u64,
        },
        chain: Hash::ZERO,
        last_frame: None,
    }
}

/// Whether the log holds the position a snapshot covers, with the same
/// history up to it.
pub(crate) enum Fit {
    Fits(usize),
    /// The log ends before it, or differs: a copy of the directory taken
    /// while it was written, or a snapshot of records that recovery set aside.
    Ahead(String),
    /// The log it continues from is not there (archived and removed).
    Missing(String),
}

pub(crate) fn fits(point: &LogPoint, segs: &[SegmentRef]) -> Fit {
    let Some(index) = segs.iter().position(|s| s.number == point.end.segment) else {
        return match segs.last() {
            Some(last) if last.number < point.end.segment => Fit::Ahead(format!(
                "it covers segment {}, the log ends with {}",
                point.end.segment, last.number
            )),
            _ => Fit::Missing(format!(
                "segment {} of the log is not there",
                point.end.segment
            )),
        };
    };
    let bytes = match scan::read(&segs[index].path) {
        Ok(b) => b,
        Err(e) => return Fit::Missing(format!("{}: {e}", segs[index].path.display())),
    };
    if (bytes.len() as u64) < point.end.offset {
        return Fit::Ahead(format!(
            "it covers {} bytes of segment {}, which has {}",
            point.end.offset,
            point.end.segment,
            bytes.len()
        ));
    }
    match point.last_frame {
        None if point.end.offset == segment::HEADER_LEN as u64 && point.chain == Hash::ZERO => {
            Fit::Fits(index)
        }
        None => Fit::Ahead("it describes an impossible log position".into()),
        Some(last) => {
            // The last record is in the same segment, or (when the log
            // ends with segments that have no records yet) ends an
            // earlier one.
            let previous = if last.segment == point.end.segment {
                None
            } else {
                let gap = (point.end.segment - last.segment) as usize;
                let empty_between = point.end.offset == segment::HEADER_LEN as u64
                    && last.segment < point.end.segment
                    && index >= gap
                    && segs[index - gap].number == last.segment
                    && segs[index - gap + 1..index].iter().all(|s| {
                        std::fs::metadata(&s.path)
                            .is_ok_and(|m| m.len() == segment::HEADER_LEN as u64)
                    });
                if !empty_between {
                    return Fit::Ahead("it describes an impossible log position".into());
                }
                match scan::read(&segs[index - gap].path) {
                    Ok(b) => Some(b),
                    Err(e) => {
                        return Fit::Missing(format!("{}: {e}", segs[index - gap].path.display()))
                    }
                }
            };
            let (bytes, frame_end) = match &previous {
                None => (&bytes[..], point.end.offset),
                Some(b) => (&b[..], b.len() as u64),
            };
            if last.offset >= frame_end {
                return Fit::Ahead("it describes an impossible log position".into());
            }
            match frame::decode(&bytes[last.offset as usize..]) {
                Decoded::Frame {
                    log_prev,
                    payload,
                    len,
                } if last.offset + len as u64 == frame_end
                    && Hash::link(&log_prev, &Hash::of_record(payload)) == point.chain =>
                {
                    Fit::Fits(index)
                }
                _ => Fit::Ahead(format!(
                    "the record at byte {} of segment {} is not the one it was taken after",
                    last.offset, last.segment
                )),
            }
        }
    }
}

pub(crate) fn open<A: Aggregate>(
    store_dir: &Path,
    name: &str,
    force_recover: bool,
) -> Result<Opened<A>, StoreError> {
    let log_dir = store_dir.join(LOG_DIR);
    durable::create_dir_all(&log_dir).map_err(StoreError::io(&log_dir))?;
    for leftover in [snapshot::FILE, snapshot::BACKUP] {
        let tmp = durable::tmp_path(&store_dir.join(leftover));
        if tmp.exists() {
            std::fs::remove_file(&tmp).map_err(StoreError::io(&tmp))?;
        }
    }
    let mut report = OpenReport {
        store: name.to_string(),
        ..OpenReport::default()
    };
    let segs = scan::segments(store_dir).map_err(StoreError::io(store_dir))?;
    if segs.is_empty() {
        writer::create_segment(&log_dir, 1).map_err(StoreError::io(&log_dir))?;
        return Ok(Opened {
            states: States::default(),
            tail: empty_point(1),
            report,
        });
    }

    if !force_recover {
        match normal::<A>(store_dir, &segs, &mut report)? {
            Ok(opened) => return Ok(opened),
            Err(failure) => {
                tracing::warn!("store '{name}': normal startup failed: {failure}; recovering");
                report.failure = Some(failure);
            }
        }
    }
    recover::<A>(store_dir, name, report)
}

type Attempt<A> = Result<Opened<A>, String>;

/// The aggregates a snapshot holds, as the store keeps them in memory.
fn states_of<A>(snap: Snapshot<A>) -> States<A> {
    snap.aggregates
        .into_iter()
        .map(|e| {
            let v = Versioned {
                state: e.state,
                version: e.version,
                head: e.head,
            };
            (Arc::from(e.id.as_str()), v)
        })
        .collect()
}

fn normal<A: Aggregate>(
    store_dir: &Path,
    segs: &[SegmentRef],
    report: &mut OpenReport,
) -> Result<Attempt<A>, StoreError> {
    let (first, start, states) = match usable_snapshot::<A>(store_dir, segs, report)? {
        Some((index, snap, which)) => {
            report.snapshot = Some(which.to_string());
            let point = snap.point();
            (index, point, states_of(snap))
        }
        None => {
            if segs[0].number != 1 {
                return Ok(Err(format!(
                    "no usable snapshot, and the log before segment {} is not there to replay",
                    segs[0].number
                )));
            }
            (0, empty_point(1), States::default())
        }
    };
    let mut replay = Replay {
        segs,
        states,
        replayed: 0,
    };
    match replay.run(first, start) {
        Ok(done) => {
            let mut tail = done.point;
            if let Some((index, offset)) = done.torn {
                tail = set_aside_torn(store_dir, segs, index, offset, tail, report)?;
            }
            report.replayed = replay.replayed;
            report.aggregates = replay.states.len();
            Ok(Ok(Opened {
                states: replay.states,
                tail,
                report: report.clone(),
            }))
        }
        Err(problem) => Ok(Err(problem.describe(segs))),
    }
}

/// A usable snapshot: the index of the segment it continues in, the
/// snapshot, and which file it came from.
type Found<A> = (usize, Snapshot<A>, &'static str);

/// The newest snapshot that can be used; unreadable ones are moved to
/// `corrupt/`, ones ahead of the log to `surplus/`.
fn usable_snapshot<A: Aggregate>(
    store_dir: &Path,
    segs: &[SegmentRef],
    report: &mut OpenReport,
) -> Result<Option<Found<A>>, StoreError> {
    for which in [snapshot::FILE, snapshot::BACKUP] {
        let path = store_dir.join(which);
        let (kind, reason) = match snapshot::read::<A>(&path) {
            Err(ReadError::NotFound) => continue,
            Err(ReadError::Io(e)) => return Err(StoreError::Io { path, source: e }),
            Err(ReadError::Invalid(why)) => (Kind::Corrupt, format!("snapshot unreadable: {why}")),
            Ok(snap) if snap.store != report.store => (
                Kind::Corrupt,
                format!("snapshot of store '{}', not of this one", snap.store),
            ),
            Ok(snap) => match fits(&snap.point(), segs) {
                Fit::Fits(index) => return Ok(Some((index, snap, which))),
                Fit::Ahead(why) => (Kind::Surplus, format!("snapshot ahead of the log: {why}")),
                Fit::Missing(why) => {
                    tracing::warn!("store '{}': {which} not used: {why}", report.store);
                    continue;
                }
            },
        };
        tracing::warn!(
            "store '{}': {}: {reason}; moving it aside",
            report.store,
            path.display()
        );
        let moved =
            quarantine::move_file(store_dir, kind, &path, reason).map_err(StoreError::io(&path))?;
        report.set_aside.push(moved);
    }
    Ok(None)
}

/// Sets aside the unfinished write at the end of the log and cuts the log
/// back to the last complete record.
fn set_aside_torn(
    store_dir: &Path,
    segs: &[SegmentRef],
    index: usize,
    offset: usize,
    tail: LogPoint,
    report: &mut OpenReport,
) -> Result<LogPoint, StoreError> {
    let seg = &segs[index];
    let reason = "an unfinished write at the end of the log".to_string();
    if offset == 0 {
        let moved = quarantine::move_file(store_dir, Kind::Surplus, &seg.path, reason)
            .map_err(StoreError::io(&seg.path))?;
        warn_set_aside(&report.store, &moved);
        report.set_aside.push(moved);
        if index > 0 {
            reattach(store_dir, &segs[index - 1])?;
        }
        return Ok(tail);
    }
    let bytes = scan::read(&seg.path).map_err(StoreError::io(&seg.path))?;
    // Up to the last byte written: the zeros after it were only prepared.
    let used = bytes
        .iter()
        .rposition(|b| *b != 0)
        .map_or(offset, |p| p + 1)
        .max(offset);
    if used > offset {
        let moved = quarantine::copy_out(
            store_dir,
            Kind::Surplus,
            &seg.path,
            offset,
            &bytes[offset..used],
            reason,
        )
        .map_err(StoreError::io(&seg.path))?;
        warn_set_aside(&report.store, &moved);
        collect_versions(&bytes[offset..used], &mut report.recovered_to);
        report.set_aside.push(moved);
    }
    quarantine::truncate(&seg.path, offset as u64).map_err(StoreError::io(&seg.path))?;
    reattach(store_dir, seg)?;
    Ok(tail)
}

fn warn_set_aside(store: &str, s: &SetAside) {
    tracing::warn!(
        "store '{store}': {}; set aside as {}",
        s.reason,
        s.path.display()
    );
}

/// The log's last segment must be in `log/` for the writer to append to it.
fn reattach(store_dir: &Path, seg: &SegmentRef) -> Result<(), StoreError> {
    if seg.archived {
        let to = store_dir.join(LOG_DIR).join(segment::file_name(seg.number));
        std::fs::rename(&seg.path, &to).map_err(StoreError::io(&seg.path))?;
        durable::sync_dir(&store_dir.join(LOG_DIR)).map_err(StoreError::io(&to))?;
    }
    Ok(())
}

/// Notes the first version of each aggregate among set-aside records.
fn collect_versions(bytes: &[u8], out: &mut Vec<(String, Option<u64>, Option<u64>)>) {
    let mut at = 0;
    while let Decoded::Frame { payload, len, .. } = frame::decode(&bytes[at..]) {
        if let Ok(key) = serde_json::from_slice::<RecordKey>(payload) {
            if !out.iter().any(|(id, _, _)| *id == *key.id) {
                out.push((key.id.into_owned(), None, Some(key.version)));
            }
        }
        at += len;
    }
}

fn recover<A: Aggregate>(
    store_dir: &Path,
    name: &str,
    mut report: OpenReport,
) -> Result<Opened<A>, StoreError> {
    report.recovered = true;
    report.snapshot = None;
    let segs = scan::segments(store_dir).map_err(StoreError::io(store_dir))?;
    let (first, start, states) = if segs.first().is_some_and(|s| s.number == 1) {
        (0, empty_point(1), States::default())
    } else {
        // The oldest history was archived and removed: verify from the
        // newest snapshot, which is then the oldest trusted state.
        match usable_snapshot::<A>(store_dir, &segs, &mut report)? {
            Some((index, snap, which)) => {
                report.snapshot = Some(which.to_string());
                                let point = snap.point();
                (index, point, states_of(snap))
            }
            None => {
                return Err(StoreError::Unrecoverable {
                    store: name.to_string(),
                    detail: format!(
                        "the log starts at segment {} and no snapshot covers what came before; restore `archived/` or a backup",
                        segs.first().map(|s| s.number).unwrap_or(1)
                    ),
                })
            }
        }
    };
    let mut replay = Replay {
        segs: &segs,
        states,
        replayed: 0,
    };
    let tail = match replay.run(first, start) {
        Ok(done) => match done.torn {
            Some((index, offset)) => {
                set_aside_torn(store_dir, &segs, index, offset, done.point, &mut report)?
            }
            None => done.point,
        },
        Err(problem) => {
            let what = problem.describe(&segs);
            tracing::warn!("store '{name}': {what}; everything from there on is set aside");
            set_aside_from(store_dir, &segs, &problem, &mut report)?;
            match problem.point {
                Some(p) if problem.index > 0 || problem.offset > 0 => p,
                _ if segs[problem.index].number == 1 => {
                    let log_dir = store_dir.join(LOG_DIR);
                    writer::create_segment(&log_dir, 1).map_err(StoreError::io(&log_dir))?;
                    empty_point(1)
                }
                _ => {
                    return Err(StoreError::Unrecoverable {
                        store: name.to_string(),
                        detail: format!("{what}, and nothing before it can be trusted"),
                    })
                }
            }
        }
    };
    // Snapshots of what was just set aside no longer describe the log.
    let segs_now = scan::segments(store_dir).map_err(StoreError::io(store_dir))?;
    for which in [snapshot::FILE, snapshot::BACKUP] {
        let path = store_dir.join(which);
        if let Ok(snap) = snapshot::read::<serde::de::IgnoredAny>(&path) {
            let p = snap.point();
            if p.end > tail.end || !matches!(fits(&p, &segs_now), Fit::Fits(_)) {
                let moved = quarantine::move_file(
                    store_dir,
                    Kind::Surplus,
                    &path,
                    "snapshot of records set aside by recovery".into(),
                )
                .map_err(StoreError::io(&path))?;
                report.set_aside.push(moved);
            }
        }
    }
    for (id, to, _) in report.recovered_to.iter_mut() {
        *to = replay.states.get(id.as_str()).map(|v| v.version);
    }
    report.replayed = replay.replayed;
    report.aggregates = replay.states.len();
    log_recovery(&report, &replay.states);
    Ok(Opened {
        states: replay.states,
        tail,
        report,
    })
}

fn log_recovery<A>(report: &OpenReport, states: &States<A>) {
    let name = &report.store;
    if report.recovered_to.is_empty() {
        tracing::warn!(
            "store '{name}': recovery verified {} records; nothing was set aside, {} aggregates at their latest version",
            report.replayed,
            states.len()
        );
    }
    for (id, to, from) in &report.recovered_to {
        match (to, from) {
            (Some(v), Some(f)) => tracing::warn!(
                "store '{name}': '{id}' recovered to version {v}; versions from {f} on are set aside"
            ),
            (None, Some(f)) => {
                tracing::warn!("store '{name}': '{id}' not recovered; its versions from {f} on are set aside")
            }
            (Some(v), None) => tracing::warn!("store '{name}': '{id}' recovered to version {v}"),
            (None, None) => {}
        }
    }
}

/// Sets aside the bad data at a problem (to `corrupt/`) and everything
/// after it (to `surplus/`), leaving the log ending right before it.
fn set_aside_from(
    store_dir: &Path,
    segs: &[SegmentRef],
    problem: &Problem,
    report: &mut OpenReport,
) -> Result<(), StoreError> {
    let seg = &segs[problem.index];
    let io = |p: &PathBuf| StoreError::io(p.clone());
    if problem.offset == 0 {
        let moved =
            quarantine::move_file(store_dir, Kind::Corrupt, &seg.path, problem.detail.clone())
                .map_err(io(&seg.path))?;
        report.set_aside.push(moved);
    } else {
        let bytes = scan::read(&seg.path).map_err(io(&seg.path))?;
        let bad_end = problem.offset + problem.len.unwrap_or(bytes.len() - problem.offset);
        let bad_end = bad_end.min(bytes.len());
        let bad = &bytes[problem.offset..bad_end];
        collect_versions(bad, &mut report.recovered_to);
        let moved = quarantine::copy_out(
            store_dir,
            Kind::Corrupt,
            &seg.path,
            problem.offset,
            bad,
            problem.detail.clone(),
        )
        .map_err(io(&seg.path))?;
        report.set_aside.push(moved);
        if bad_end < bytes.len() {
            let rest = &bytes[bad_end..];
            collect_versions(rest, &mut report.recovered_to);
            let moved = quarantine::copy_out(
                store_dir,
                Kind::Surplus,
                &seg.path,
                bad_end,
                rest,
                "follows a record set aside as corrupt".into(),
            )
            .map_err(io(&seg.path))?;
            report.set_aside.push(moved);
        }
        quarantine::truncate(&seg.path, problem.offset as u64).map_err(io(&seg.path))?;
        reattach(store_dir, seg)?;
    }
    for later in &segs[problem.index + 1..] {
        if let Ok(bytes) = scan::read(&later.path) {
            if bytes.len() > segment::HEADER_LEN {
                collect_versions(&bytes[segment::HEADER_LEN..], &mut report.recovered_to);
            }
        }
        let moved = quarantine::move_file(
            store_dir,
            Kind::Surplus,
            &later.path,
            "follows a record set aside as corrupt".into(),
        )
        .map_err(io(&later.path))?;
        report.set_aside.push(moved);
    }
    if problem.offset == 0 && problem.index > 0 {
        reattach(store_dir, &segs[problem.index - 1])?;
    }
    if report.recovered_to.is_empty() || problem.len.is_none() {
        report
            .recovered_to
            .push(("(unreadable data)".into(), None, None));
    }
    Ok(())
}

impl fmt::Display for OpenReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "store '{}': {} aggregates from {} and {} records",
            self.store,
            self.aggregates,
            self.snapshot.as_deref().unwrap_or("the start of the log"),
            self.replayed
        )?;
        if self.recovered {
            write!(f, " (recovered)")?;
        }
        Ok(())
    }
}
