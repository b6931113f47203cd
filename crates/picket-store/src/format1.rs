//! Data format 1: Krill's layout, one JSON file per command.
//!
//! ```text
//! store/FORMAT                      picket-store-format 1
//! store/<store>/<id>/command-<N>.json   the record of version N
//! ```
//!
//! Each file is written to a temporary name, synced, renamed and its
//! directory synced, so each command costs a file, a rename and two syncs.
//! Picket's storage started from this layout; it is kept to upgrade data
//! written in it and as the baseline that the log is measured against
//! (`cargo bench -p picket-store`). Records have no hash chain in this
//! format: the upgrade computes it.

use std::collections::BinaryHeap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::chain::Hash;
use crate::durable;
use crate::error::StoreError;
use crate::frame;
use crate::record::{Actor, CommandSummary, Effect, Millis, Record};
use crate::scan::LOG_DIR;
use crate::segment;

/// A record as format 1 stored it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Format1Record {
    pub id: String,
    pub version: u64,
    pub time: Millis,
    pub actor: Actor,
    pub command: CommandSummary,
    pub effect: Effect,
}

/// The directory of one aggregate: its id with every byte outside
/// `[A-Za-z0-9._-]` written as `%XX`, so any id is a safe file name.
pub fn aggregate_dir(store: &Path, id: &str) -> PathBuf {
    let mut name = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (b == b'.' && !name.is_empty()) {
            name.push(b as char);
        } else {
            name.push_str(&format!("%{b:02X}"));
        }
    }
    store.join(name)
}

fn command_file(dir: &Path, version: u64) -> PathBuf {
    dir.join(format!("command-{version}.json"))
}

/// Writes one record durably, refusing to overwrite an existing version.
pub fn write_record(store: &Path, record: &Format1Record) -> io::Result<()> {
    let dir = aggregate_dir(store, &record.id);
    if record.version == 0 {
        durable::create_dir_all(&dir)?;
    }
    let path = command_file(&dir, record.version);
    let tmp = durable::tmp_path(&path);
    let bytes = serde_json::to_vec(record).map_err(io::Error::other)?;
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
    }
    if path.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} already exists", path.display()),
        ));
    }
    fs::rename(&tmp, &path)?;
    durable::sync_dir(&dir)
}

/// Reads the records of one aggregate directory, in version order.
fn read_aggregate(dir: &Path) -> Result<Vec<Format1Record>, StoreError> {
    let mut out: Vec<Format1Record> = Vec::new();
    loop {
        let path = command_file(dir, out.len() as u64);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => break,
            Err(e) => return Err(StoreError::Io { path, source: e }),
        };
        let record: Format1Record =
            serde_json::from_slice(&bytes).map_err(|e| StoreError::Format {
                path: path.clone(),
                detail: format!("unreadable format-1 record: {e}"),
            })?;
        if record.version != out.len() as u64 || out.first().is_some_and(|f| f.id != record.id) {
            return Err(StoreError::Format {
                path,
                detail: format!("holds version {} of '{}'", record.version, record.id),
            });
        }
        out.push(record);
    }
    Ok(out)
}

/// Converts one format-1 store directory into a format-2 one: every
/// aggregate's records, merged into one log in the order they were made,
/// chained. Snapshots are not carried over; the first start writes one.
/// Returns the number of records.
pub(crate) fn to_format2(from: &Path, to: &Path, segment_size: u64) -> Result<u64, StoreError> {
    let mut aggregates: Vec<Vec<Format1Record>> = Vec::new();
    for entry in fs::read_dir(from).map_err(StoreError::io(from))? {
        let entry = entry.map_err(StoreError::io(from))?;
        if entry.path().is_dir() {
            let mut records = read_aggregate(&entry.path())?;
            if !records.is_empty() {
                records.reverse();
                aggregates.push(records);
            }
        }
    }
    // Merge by time, each aggregate's records staying in version order.
    let mut heap: BinaryHeap<std::cmp::Reverse<(Millis, String, usize)>> = aggregates
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            a.last()
                .map(|r| std::cmp::Reverse((r.time, r.id.clone(), i)))
        })
        .collect();
    let log_dir = to.join(LOG_DIR);
    durable::create_dir_all(&log_dir).map_err(StoreError::io(&log_dir))?;
    let mut log = LogBuilder::new(&log_dir, segment_size)?;
    let mut heads: rustc_hash::FxHashMap<String, Hash> = Default::default();
    let mut count = 0;
    while let Some(std::cmp::Reverse((_, _, i))) = heap.pop() {
        let Some(r) = aggregates[i].pop() else {
            continue;
        };
        let prev = heads.get(&r.id).copied().unwrap_or(Hash::ZERO);
        let record = Record {
            id: r.id,
            version: r.version,
            prev,
            time: r.time,
            actor: r.actor,
            command: r.command,
            effect: r.effect,
        };
        let payload = serde_json::to_vec(&record).map_err(|e| StoreError::Format {
            path: from.to_path_buf(),
            detail: e.to_string(),
        })?;
        let hash = log.append(&payload)?;
        heads.insert(record.id, hash);
        count += 1;
        if let Some(next) = aggregates[i].last() {
            heap.push(std::cmp::Reverse((next.time, next.id.clone(), i)));
        }
    }
    log.finish()?;
    Ok(count)
}

/// Writes a log sequentially, for conversions (no group commit needed: one
/// writer, one sync at the end of each segment).
struct LogBuilder {
    dir: PathBuf,
    segment_size: u64,
    number: u32,
    buf: Vec<u8>,
    chain: Hash,
}

impl LogBuilder {
    fn new(dir: &Path, segment_size: u64) -> Result<LogBuilder, StoreError> {
        Ok(LogBuilder {
            dir: dir.to_path_buf(),
            segment_size,
            number: 1,
            buf: segment::header(1).to_vec(),
            chain: Hash::ZERO,
        })
    }

    fn append(&mut self, payload: &[u8]) -> Result<Hash, StoreError> {
        let len = frame::frame_len(payload.len());
        if self.buf.len() > segment::HEADER_LEN && (self.buf.len() + len) as u64 > self.segment_size
        {
            self.flush()?;
            self.number += 1;
            self.buf = segment::header(self.number).to_vec();
        }
        frame::encode(&mut self.buf, &self.chain, payload);
        let hash = Hash::of_record(payload);
        self.chain = Hash::link(&self.chain, &hash);
        Ok(hash)
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        let path = self.dir.join(segment::file_name(self.number));
        let mut f = fs::File::create(&path).map_err(StoreError::io(&path))?;
        f.write_all(&self.buf)
            .and_then(|()| f.sync_all())
            .map_err(StoreError::io(&path))
    }

    fn finish(mut self) -> Result<(), StoreError> {
        self.flush()?;
        durable::sync_dir(&self.dir).map_err(StoreError::io(&self.dir))
    }
}
