//! A store of one aggregate type: commands in, durable records out, and the
//! latest state of every instance in memory.
//!
//! Commands to one instance are decided one at a time under its lock, and
//! their records enter the log in that order; commands to different
//! instances only meet in the log writer, which syncs them together. The
//! lock is held while deciding and encoding, not while the disk syncs, so
//! commands to one busy instance share syncs too. Readers see an instance's
//! state only once the record that produced it is durable.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::{Mutex, RwLock};
use rustc_hash::FxHashMap;
use tokio::sync::oneshot;

use crate::aggregate::{Aggregate, Command, Describe, Versioned};
use crate::chain::Hash;
use crate::error::{CommandError, StoreError};
use crate::frame;
use crate::open::{self, OpenReport};
use crate::record::{EffectRef, RecordRef};
use crate::scan::LOG_DIR;
use crate::snapshot::{self, EntryRef, SnapshotRef, Snapshotter};
use crate::writer::{Append, Done, LogPoint, OnWriteFailure, Writer, WriterConfig};

/// How a store is run.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Write a snapshot after this many records (at most one at a time, in
    /// the background).
    pub snapshot_every: u64,
    /// Start a new log segment when the current one would grow past this.
    pub segment_size: u64,
    /// Verify every record from the start instead of trusting the snapshot
    /// (`PICKET_FORCE_RECOVER=1`, `always_recover_data = true`).
    pub recover: bool,
    pub on_write_failure: OnWriteFailure,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            snapshot_every: 10_000,
            segment_size: 64 << 20,
            recover: false,
            on_write_failure: OnWriteFailure::Exit,
        }
    }
}

/// A handle to a store; clones share it.
pub struct Store<A: Aggregate> {
    inner: Arc<Inner<A>>,
}

impl<A: Aggregate> Clone for Store<A> {
    fn clone(&self) -> Self {
        Store {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<A: Aggregate> {
    name: String,
    dir: PathBuf,
    entries: RwLock<FxHashMap<Arc<str>, Arc<Entry<A>>>>,
    writer: Writer,
    snapshots: Snapshotter,
    /// The log position of the newest snapshot written.
    snapshot_at: Mutex<Option<LogPoint>>,
    /// The end of the durable log.
    durable: Mutex<LogPoint>,
}

struct Entry<A> {
    /// The newest state, including records not yet durable: what the next
    /// command is decided on.
    latest: Mutex<Option<Arc<Versioned<A>>>>,
    /// The newest durable state: what readers see.
    visible: RwLock<Option<Arc<Versioned<A>>>>,
}

impl<A> Entry<A> {
    fn new(state: Option<Arc<Versioned<A>>>) -> Entry<A> {
        Entry {
            latest: Mutex::new(state.clone()),
            visible: RwLock::new(state),
        }
    }
}

impl<A: Aggregate> Store<A> {
    /// Opens the store in `dir` (creating it when new), rebuilding every
    /// aggregate. Use [`crate::DataDir::store`], which also holds the data
    /// directory's lock, unless the directory is private to the caller.
    pub fn open(
        dir: &Path,
        name: &str,
        options: &StoreOptions,
    ) -> Result<(Store<A>, OpenReport), StoreError> {
        crate::datadir::check_store_name(name)?;
        let opened = open::open::<A>(dir, name, options.recover)?;
        let hook: Arc<OnceLock<Weak<Inner<A>>>> = Arc::default();
        let every = options.snapshot_every.max(1);
        let after_batch = {
            let hook = hook.clone();
            Box::new(move |point: LogPoint, since: u64| {
                let Some(inner) = hook.get().and_then(Weak::upgrade) else {
                    return false;
                };
                *inner.durable.lock() = point;
                since >= every && inner.schedule_snapshot(point)
            })
        };
        let writer = Writer::start(
            WriterConfig {
                store: name.to_string(),
                log_dir: dir.join(LOG_DIR),
                segment_size: options.segment_size,
                on_failure: options.on_write_failure,
                after_batch,
            },
            opened.tail,
        )
        .map_err(StoreError::io(dir.join(LOG_DIR)))?;
        let snapshots = Snapshotter::start(name).map_err(StoreError::io(dir))?;
        let entries = opened
            .states
            .into_iter()
            .map(|(id, v)| (id, Arc::new(Entry::new(Some(Arc::new(v))))))
            .collect();
        let inner = Arc::new(Inner {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            entries: RwLock::new(entries),
            writer,
            snapshots,
            snapshot_at: Mutex::new(None),
            durable: Mutex::new(opened.tail),
        });
        let _ = hook.set(Arc::downgrade(&inner));
        let report = opened.report;
        if report.needs_attention() || report.replayed >= every {
            inner.snapshot_now();
        }
        Ok((Store { inner }, report))
    }

    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The durable state of an instance.
    pub fn get(&self, id: &str) -> Option<Arc<Versioned<A>>> {
        let entry = self.inner.entries.read().get(id).cloned()?;
        let visible = entry.visible.read().clone();
        visible
    }

    /// The instances that exist durably, in no particular order.
    pub fn ids(&self) -> Vec<String> {
        let entries = self.inner.entries.read();
        entries
            .iter()
            .filter(|(_, e)| e.visible.read().is_some())
            .map(|(id, _)| id.to_string())
            .collect()
    }

    /// Creates an instance; answered once its first record is durable.
    pub async fn create(
        &self,
        command: Command<A::InitCommand>,
    ) -> Result<Arc<Versioned<A>>, CommandError<A::Error>> {
        self.submit_create(command)?.await_durable().await
    }

    /// [`Store::create`] for threads outside an async runtime.
    pub fn create_blocking(
        &self,
        command: Command<A::InitCommand>,
    ) -> Result<Arc<Versioned<A>>, CommandError<A::Error>> {
        self.submit_create(command)?.wait()
    }

    /// Sends a command to an instance; answered once its record is durable.
    pub async fn command(
        &self,
        command: Command<A::Command>,
    ) -> Result<Arc<Versioned<A>>, CommandError<A::Error>> {
        self.submit(command)?.await_durable().await
    }

    /// [`Store::command`] for threads outside an async runtime.
    pub fn command_blocking(
        &self,
        command: Command<A::Command>,
    ) -> Result<Arc<Versioned<A>>, CommandError<A::Error>> {
        self.submit(command)?.wait()
    }

    /// Decides a creation and queues its record.
    pub fn submit_create(
        &self,
        command: Command<A::InitCommand>,
    ) -> Result<Pending<A>, CommandError<A::Error>> {
        if self.inner.writer.is_stopped() {
            return Err(CommandError::Stopped);
        }
        let event =
            A::process_init(&command.id, &command.details).map_err(CommandError::InitRefused)?;
        let entry = {
            let mut entries = self.inner.entries.write();
            entries
                .entry(Arc::from(command.id.as_str()))
                .or_insert_with(|| Arc::new(Entry::new(None)))
                .clone()
        };
        let mut latest = entry.latest.lock();
        if latest.is_some() {
            return Err(CommandError::AlreadyExists(command.id));
        }
        let summary = command.details.summary();
        let payload = encode(&RecordRef::<A::InitEvent, A::Event> {
            id: &command.id,
            version: 0,
            prev: &Hash::ZERO,
            time: command.time,
            actor: &command.actor,
            command: &summary,
            effect: EffectRef::Init(&event),
        })?;
        let head = Hash::of_record(&payload);
        let next = Arc::new(Versioned {
            state: A::init(&command.id, event),
            version: 0,
            head,
        });
        let rx = self.append(&entry, payload, head, next.clone())?;
        *latest = Some(next.clone());
        Ok(Pending::Waiting {
            rx,
            next,
            outcome: Ok(Vec::new()),
        })
    }

    /// Decides a command and queues its record.
    pub fn submit(
        &self,
        command: Command<A::Command>,
    ) -> Result<Pending<A>, CommandError<A::Error>> {
        if self.inner.writer.is_stopped() {
            return Err(CommandError::Stopped);
        }
        let entry = self.inner.entries.read().get(command.id.as_str()).cloned();
        let entry = entry.ok_or_else(|| CommandError::NotFound(command.id.clone()))?;
        let mut latest = entry.latest.lock();
        let Some(current) = latest.clone() else {
            return Err(CommandError::NotFound(command.id));
        };
        if let Some(expected) = command.expected_version {
            if expected != current.version {
                return Err(CommandError::Conflict {
                    id: command.id,
                    expected,
                    actual: current.version,
                });
            }
        }
        let summary = command.details.summary();
        let record = |effect| RecordRef::<A::InitEvent, A::Event> {
            id: &command.id,
            version: current.version + 1,
            prev: &current.head,
            time: command.time,
            actor: &command.actor,
            command: &summary,
            effect,
        };
        let (payload, state, refused) = match current.state.process(&command.details) {
            Ok(events) if events.is_empty() => return Ok(Pending::Ready(current)),
            Ok(events) => {
                let payload = encode(&record(EffectRef::Events(&events)))?;
                let mut state = current.state.clone();
                for e in events.iter().cloned() {
                    state.apply(e);
                }
                (payload, state, Ok(events))
            }
            Err(error) => {
                let text = error.to_string();
                let payload = encode(&record(EffectRef::Error(&text)))?;
                (payload, current.state.clone(), Err(error))
            }
        };
        let head = Hash::of_record(&payload);
        let next = Arc::new(Versioned {
            state,
            version: current.version + 1,
            head,
        });
        let rx = self.append(&entry, payload, head, next.clone())?;
        *latest = Some(next.clone());
        Ok(Pending::Waiting {
            rx,
            next,
            outcome: refused,
        })
    }

    /// Queues a record; once durable, its state becomes visible.
    fn append(
        &self,
        entry: &Arc<Entry<A>>,
        payload: Vec<u8>,
        record: Hash,
        next: Arc<Versioned<A>>,
    ) -> Result<oneshot::Receiver<bool>, CommandError<A::Error>> {
        let (tx, rx) = oneshot::channel();
        let entry = entry.clone();
        let done: Done = Box::new(move |result| {
            if result.is_ok() {
                let mut visible = entry.visible.write();
                if visible.as_ref().is_none_or(|v| v.version < next.version) {
                    *visible = Some(next);
                }
            }
            let _ = tx.send(result.is_ok());
        });
        self.inner
            .writer
            .append(Append {
                payload,
                record,
                done,
            })
            .map_err(|_| CommandError::Stopped)?;
        Ok(rx)
    }

    /// Writes a snapshot now and waits for it.
    pub fn snapshot_now(&self) {
        self.inner.snapshot_now();
    }

    /// The log position the newest snapshot covers.
    pub fn snapshot_position(&self) -> Option<LogPoint> {
        *self.inner.snapshot_at.lock()
    }

    /// Stops accepting commands, lets queued ones complete, and writes a
    /// final snapshot so the next start replays nothing.
    pub fn close(&self) {
        self.inner.writer.close();
        if self.inner.snapshot_at.lock().map(|p| p.end) != Some(self.inner.durable.lock().end) {
            self.inner.snapshot_now();
        }
        self.inner.snapshots.close();
    }
}

fn encode<I: serde::Serialize, E: serde::Serialize, Err>(
    record: &RecordRef<'_, I, E>,
) -> Result<Vec<u8>, CommandError<Err>> {
    let payload = serde_json::to_vec(record).map_err(|e| CommandError::Encode(e.to_string()))?;
    if payload.len() > frame::MAX_PAYLOAD {
        return Err(CommandError::Encode(format!(
            "the record would be {} bytes, more than the limit of {}",
            payload.len(),
            frame::MAX_PAYLOAD
        )));
    }
    Ok(payload)
}

impl<A: Aggregate> Inner<A> {
    /// The durable state of every instance; called by the writer between
    /// batches, so it is exactly the state at `point`.
    fn cut(&self) -> Vec<(Arc<str>, Arc<Versioned<A>>)> {
        let entries = self.entries.read();
        entries
            .iter()
            .filter_map(|(id, e)| e.visible.read().clone().map(|v| (id.clone(), v)))
            .collect()
    }

    fn snapshot_job(self: &Arc<Self>, point: LogPoint) -> snapshot::Job {
        let states = self.cut();
        let weak = Arc::downgrade(self);
        Box::new(move || {
            let Some(inner) = weak.upgrade() else { return };
            inner.write_snapshot(point, &states);
        })
    }

    fn schedule_snapshot(self: &Arc<Self>, point: LogPoint) -> bool {
        !self.snapshots.is_busy() && self.snapshots.try_run(self.snapshot_job(point))
    }

    /// Takes the cut in the writer thread, between two batches, where the
    /// visible states and the durable log agree; once the writer has
    /// stopped, they agree anyway.
    fn snapshot_now(self: &Arc<Self>) {
        let (tx, rx) = std::sync::mpsc::sync_channel::<snapshot::Job>(1);
        let weak = Arc::downgrade(self);
        let sent = self.writer.between(Box::new(move |point| {
            if let Some(inner) = weak.upgrade() {
                let _ = tx.send(inner.snapshot_job(point));
            }
        }));
        let job = match sent {
            true => rx.recv().ok(),
            false => Some(self.snapshot_job(*self.durable.lock())),
        };
        if let Some(job) = job {
            self.snapshots.run_and_wait(job);
        }
    }

    fn write_snapshot(&self, point: LogPoint, states: &[(Arc<str>, Arc<Versioned<A>>)]) {
        let snap = SnapshotRef {
            store: &self.name,
            time: crate::record::now_millis(),
            end: point.end,
            chain: point.chain,
            last_frame: point.last_frame,
            aggregates: states
                .iter()
                .map(|(id, v)| EntryRef {
                    id,
                    version: v.version,
                    head: v.head,
                    state: &v.state,
                })
                .collect(),
        };
        let result = snapshot::encode(&snap)
            .map_err(std::io::Error::other)
            .and_then(|bytes| snapshot::install(&self.dir, &bytes));
        match result {
            Ok(()) => *self.snapshot_at.lock() = Some(point),
            // The log holds everything; a missing snapshot only makes the
            // next start slower.
            Err(e) => tracing::error!("store '{}': cannot write its snapshot: {e}", self.name),
        }
    }
}

/// A command whose record is queued; resolves once it is durable.
pub enum Pending<A: Aggregate> {
    /// Nothing to store (a no-op).
    Ready(Arc<Versioned<A>>),
    Waiting {
        rx: oneshot::Receiver<bool>,
        next: Arc<Versioned<A>>,
        /// The events decided (none for a creation), or the refusal.
        outcome: Result<Vec<A::Event>, A::Error>,
    },
}

/// The state after a command and the events it caused.
pub type Outcome<A> = (Arc<Versioned<A>>, Vec<<A as Aggregate>::Event>);

impl<A: Aggregate> Pending<A> {
    fn finish(
        durable: bool,
        next: Arc<Versioned<A>>,
        outcome: Result<Vec<A::Event>, A::Error>,
    ) -> Result<Outcome<A>, CommandError<A::Error>> {
        if !durable {
            return Err(CommandError::Stopped);
        }
        match outcome {
            Err(error) => Err(CommandError::Refused {
                version: next.version,
                error,
            }),
            Ok(events) => Ok((next, events)),
        }
    }

    /// Blocks until durable. Not for use inside an async runtime.
    pub fn wait(self) -> Result<Arc<Versioned<A>>, CommandError<A::Error>> {
        match self {
            Pending::Ready(v) => Ok(v),
            Pending::Waiting { rx, next, outcome } => {
                Self::finish(rx.blocking_recv().unwrap_or(false), next, outcome).map(|(v, _)| v)
            }
        }
    }

    pub async fn await_durable(self) -> Result<Arc<Versioned<A>>, CommandError<A::Error>> {
        self.await_events().await.map(|(v, _)| v)
    }

    /// Like [`Pending::await_durable`], with the events the command caused
    /// (none for a no-op), for callers that publish them.
    pub async fn await_events(self) -> Result<Outcome<A>, CommandError<A::Error>> {
        match self {
            Pending::Ready(v) => Ok((v, Vec::new())),
            Pending::Waiting { rx, next, outcome } => {
                Self::finish(rx.await.unwrap_or(false), next, outcome)
            }
        }
    }
}
