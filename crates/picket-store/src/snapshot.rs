//! Snapshots: the state of every aggregate of a store at one point of its
//! log, so that startup replays only what came after.
//!
//! A snapshot is a cut of the whole store rather than a file per aggregate:
//! it names the log position it covers, so startup reads the log from there
//! and no further back, however rarely an aggregate changed. The file is a
//! small binary header (magic, CRC-32C and length of the body) and a JSON
//! body. It is written atomically, and the one it replaces is kept as
//! `snapshot.bak`. Snapshots are disposable: any of them can be deleted and
//! the store rebuilds from the log.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use parking_lot::Mutex;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::chain::Hash;
use crate::durable;
use crate::record::Millis;
use crate::writer::{LogPoint, Position};

pub const FILE: &str = "snapshot";
pub const BACKUP: &str = "snapshot.bak";
const MAGIC: &[u8; 8] = b"PKTSNP\x00\x02";
const HEADER_LEN: usize = 20;

#[derive(Serialize)]
pub(crate) struct SnapshotRef<'a, A: Serialize> {
    pub store: &'a str,
    pub time: Millis,
    pub end: Position,
    pub chain: Hash,
    pub last_frame: Option<Position>,
    pub aggregates: Vec<EntryRef<'a, A>>,
}

#[derive(Serialize)]
pub(crate) struct EntryRef<'a, A: Serialize> {
    pub id: &'a str,
    pub version: u64,
    pub head: Hash,
    pub state: &'a A,
}

/// A snapshot as read; `S` is the aggregate type, or `IgnoredAny` for tools
/// that only check where it points.
#[derive(Deserialize)]
pub struct Snapshot<S> {
    pub store: String,
    pub end: Position,
    pub chain: Hash,
    pub last_frame: Option<Position>,
    pub aggregates: Vec<SnapshotEntry<S>>,
}

#[derive(Deserialize)]
pub struct SnapshotEntry<S> {
    pub id: String,
    pub version: u64,
    pub head: Hash,
    pub state: S,
}

impl<S> Snapshot<S> {
    pub fn point(&self) -> LogPoint {
        LogPoint {
            end: self.end,
            chain: self.chain,
            last_frame: self.last_frame,
        }
    }
}

pub(crate) fn encode<A: Serialize>(snapshot: &SnapshotRef<'_, A>) -> serde_json::Result<Vec<u8>> {
    let mut out = vec![0u8; HEADER_LEN];
    serde_json::to_writer(&mut out, snapshot)?;
    let body_len = (out.len() - HEADER_LEN) as u64;
    let crc = crc32c::crc32c(&out[HEADER_LEN..]);
    out[..8].copy_from_slice(MAGIC);
    out[8..12].copy_from_slice(&crc.to_le_bytes());
    out[12..20].copy_from_slice(&body_len.to_le_bytes());
    Ok(out)
}

/// Why a snapshot file could not be used.
#[derive(Debug)]
pub enum ReadError {
    NotFound,
    Io(io::Error),
    /// Damaged, cut short or not a snapshot.
    Invalid(String),
}

pub fn read<S: DeserializeOwned>(path: &Path) -> Result<Snapshot<S>, ReadError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(ReadError::NotFound),
        Err(e) => return Err(ReadError::Io(e)),
    };
    decode(&bytes)
}

pub fn decode<S: DeserializeOwned>(bytes: &[u8]) -> Result<Snapshot<S>, ReadError> {
    if bytes.len() < HEADER_LEN {
        return Err(ReadError::Invalid("shorter than its header".into()));
    }
    if &bytes[..6] != b"PKTSNP" {
        return Err(ReadError::Invalid("not a Picket snapshot".into()));
    }
    if &bytes[..8] != MAGIC {
        return Err(ReadError::Invalid(format!(
            "snapshot of data format {}, expected {}",
            bytes[7], MAGIC[7]
        )));
    }
    let crc = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[12..20]);
    let len = u64::from_le_bytes(len);
    let body = &bytes[HEADER_LEN..];
    if body.len() as u64 != len {
        return Err(ReadError::Invalid(format!(
            "{} bytes of body, the header says {len}",
            body.len()
        )));
    }
    if crc32c::crc32c(body) != crc {
        return Err(ReadError::Invalid("checksum mismatch".into()));
    }
    serde_json::from_slice(body).map_err(|e| ReadError::Invalid(format!("unreadable: {e}")))
}

/// Writes `bytes` as the store's snapshot, keeping the previous one.
pub(crate) fn install(store_dir: &Path, bytes: &[u8]) -> io::Result<()> {
    durable::replace(&store_dir.join(FILE), bytes, Some(&store_dir.join(BACKUP)))
}

pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// A thread that writes snapshots in the background, one at a time. A new
/// one is refused while one is being written: the log writer asks again
/// after its next batch.
pub(crate) struct Snapshotter {
    tx: Mutex<Option<SyncSender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Set while a job runs, so that the log writer does not take a cut of
    /// every state after each batch only to have it refused.
    busy: Arc<AtomicBool>,
}

impl Snapshotter {
    pub fn start(store: &str) -> io::Result<Snapshotter> {
        let (tx, rx) = sync_channel::<Job>(0);
        let busy = Arc::new(AtomicBool::new(false));
        let running = busy.clone();
        let thread = std::thread::Builder::new()
            .name(format!("snapshot-{store}"))
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    running.store(true, Ordering::Release);
                    job();
                    running.store(false, Ordering::Release);
                }
            })?;
        Ok(Snapshotter {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            busy,
        })
    }

    /// Whether a job is being written (a new one would be refused).
    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire)
    }

    /// Hands a job over if the thread is idle.
    pub fn try_run(&self, job: Job) -> bool {
        match &*self.tx.lock() {
            Some(tx) => tx.try_send(job).is_ok(),
            None => false,
        }
    }

    /// Runs a job after the one in progress, waiting for both.
    pub fn run_and_wait(&self, job: Job) {
        let Some(tx) = self.tx.lock().clone() else {
            return;
        };
        let (done_tx, done_rx) = sync_channel::<()>(1);
        let job: Job = Box::new(move || {
            job();
            let _ = done_tx.send(());
        });
        if tx.send(job).is_ok() {
            let _ = done_rx.recv();
        }
    }

    pub fn close(&self) {
        self.tx.lock().take();
        crate::writer::join(&self.thread);
    }
}

impl Drop for Snapshotter {
    fn drop(&mut self) {
        self.close();
    }
}
