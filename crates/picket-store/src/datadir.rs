//! The data directory: the process lock, the versioned store format, and
//! the stores inside it.
//!
//! ```text
//! <data_dir>/
//!   lock                 held (flock) by the process that owns the directory
//!   store/
//!     FORMAT             the data format of everything below
//!     <store>/
//!       log/             the live segments of the log
//!       archived/        segments moved out by archiving
//!       snapshot         the newest snapshot, snapshot.bak the one before
//!       surplus/ corrupt/  what startup or recovery set aside
//!   store.format-<N>/    the data as it was before an upgrade from format N
//! ```

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::aggregate::Aggregate;
use crate::durable;
use crate::error::StoreError;
use crate::migrate::{self, MigrationReport};
use crate::open::OpenReport;
use crate::store::{Store, StoreOptions};
use crate::untyped::Untyped;

/// The data format this build writes. Format 1 is the Krill layout (a JSON
/// file per command); format 2 is the segmented log.
pub const FORMAT_VERSION: u32 = 2;

pub(crate) const STORE_DIR: &str = "store";
pub(crate) const FORMAT_FILE: &str = "FORMAT";
const LOCK_FILE: &str = "lock";
const FORMAT_PREFIX: &str = "picket-store-format ";

/// An open data directory. The lock is an OS lock on an open file: it goes
/// away with the process, however the process ends, so a crash never leaves
/// a directory that refuses to start.
pub struct DataDir {
    root: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Opens (creating) a data directory for exclusive use, bringing its
    /// data format up to date. Reports the migration when one ran.
    pub fn open(root: &Path) -> Result<(DataDir, Option<MigrationReport>), StoreError> {
        durable::create_dir_all(root).map_err(StoreError::io(root))?;
        let lock_path = root.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(StoreError::io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    dir: root.to_path_buf(),
                    lock: lock_path,
                })
            }
            Err(fs::TryLockError::Error(e)) => return Err(StoreError::io(&lock_path)(e)),
        }
        migrate::finish_interrupted(root)?;
        let store_dir = root.join(STORE_DIR);
        let migration = match read_format(&store_dir)? {
            Some(v) if v == FORMAT_VERSION => None,
            Some(v) if v > FORMAT_VERSION => {
                return Err(StoreError::Downgrade {
                    path: store_dir.join(FORMAT_FILE),
                    found: v,
                    supported: FORMAT_VERSION,
                })
            }
            Some(v) => Some(migrate::upgrade(root, v)?),
            None => {
                durable::create_dir_all(&store_dir).map_err(StoreError::io(&store_dir))?;
                write_format(&store_dir, FORMAT_VERSION)?;
                None
            }
        };
        Ok((
            DataDir {
                root: root.to_path_buf(),
                _lock: lock,
            },
            migration,
        ))
    }

    /// The stores of the data directory at `root`, after checking its
    /// format, without opening or locking it (for tools that read it).
    pub fn inspect(root: &Path) -> Result<Vec<String>, StoreError> {
        inspect(root)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn store_dir(&self) -> PathBuf {
        self.root.join(STORE_DIR)
    }

    /// Runs startup on every store without building state: sets aside torn
    /// tails and snapshots ahead of the log, and recovers stores whose log
    /// is damaged (or all of them, with `recover`). For a node to check its
    /// data before the crates that own the stores open them.
    pub fn check_stores(&self, recover: bool) -> Result<Vec<OpenReport>, StoreError> {
        let store_dir = self.store_dir();
        let mut reports = Vec::new();
        for name in store_names(&store_dir)? {
            let opened = crate::open::open::<Untyped>(&store_dir.join(&name), &name, recover)?;
            reports.push(opened.report);
        }
        Ok(reports)
    }

    /// Archives, in every store, the log segments older than
    /// `threshold_days` that its newest snapshot covers.
    pub fn archive(&self, threshold_days: u32) -> Result<Vec<PathBuf>, StoreError> {
        let store_dir = self.store_dir();
        let mut moved = Vec::new();
        for name in store_names(&store_dir)? {
            let dir = store_dir.join(&name);
            if let Ok(snap) = crate::snapshot::read::<Untyped>(&dir.join(crate::snapshot::FILE)) {
                moved.extend(crate::archive::archive_before(
                    &dir,
                    snap.end.segment,
                    crate::archive::cutoff(threshold_days),
                )?);
            }
        }
        Ok(moved)
    }

    /// Opens the store `name`, rebuilding its aggregates.
    pub fn store<A: Aggregate>(
        &self,
        name: &str,
        options: &StoreOptions,
    ) -> Result<(Store<A>, OpenReport), StoreError> {
        check_store_name(name)?;
        let dir = self.store_dir().join(name);
        durable::create_dir_all(&dir).map_err(StoreError::io(&dir))?;
        Store::open(&dir, name, options)
    }
}

/// The stores of a data directory, for tools that read it without opening
/// it (verify, history): checks the format and lists the store names.
pub fn inspect(root: &Path) -> Result<Vec<String>, StoreError> {
    let store_dir = root.join(STORE_DIR);
    match read_format(&store_dir)? {
        Some(v) if v == FORMAT_VERSION => {}
        Some(v) if v > FORMAT_VERSION => {
            return Err(StoreError::Downgrade {
                path: store_dir.join(FORMAT_FILE),
                found: v,
                supported: FORMAT_VERSION,
            })
        }
        Some(v) => {
            return Err(StoreError::Format {
                path: store_dir.join(FORMAT_FILE),
                detail: format!(
                    "data format {v} must be upgraded first: start the node once, or run it with PICKET_UPGRADE_ONLY=1"
                ),
            })
        }
        None => {
            return Err(StoreError::Format {
                path: store_dir,
                detail: "no Picket store here".into(),
            })
        }
    }
    store_names(&store_dir)
}

pub(crate) fn store_names(store_dir: &Path) -> Result<Vec<String>, StoreError> {
    let mut names = Vec::new();
    for entry in fs::read_dir(store_dir).map_err(StoreError::io(store_dir))? {
        let entry = entry.map_err(StoreError::io(store_dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && check_store_name(&name).is_ok() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Store names become directory names, so they are kept simple.
pub(crate) fn check_store_name(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidName(name.to_string()))
    }
}

/// The format of the store directory; none when it does not exist or is
/// empty (a new data directory).
pub(crate) fn read_format(store_dir: &Path) -> Result<Option<u32>, StoreError> {
    let path = store_dir.join(FORMAT_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => {
            let v = text
                .strip_prefix(FORMAT_PREFIX)
                .and_then(|rest| rest.trim_end().parse::<u32>().ok())
                .filter(|v| *v > 0);
            match v {
                Some(v) => Ok(Some(v)),
                None => Err(StoreError::Format {
                    path,
                    detail: format!(
                        "not a Picket data format marker (expected '{FORMAT_PREFIX}N'); restore it from a backup"
                    ),
                }),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A new directory, perhaps with the marker half-written by a
            // start that was killed (`FORMAT.tmp`), holds no data yet.
            let empty = match fs::read_dir(store_dir) {
                Ok(entries) => entries
                    .filter_map(|e| e.ok())
                    .all(|e| e.file_name().to_string_lossy().ends_with(".tmp")),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                Err(e) => return Err(StoreError::io(store_dir)(e)),
            };
            if empty {
                Ok(None)
            } else {
                Err(StoreError::Format {
                    path,
                    detail: "missing, but the directory holds data: restore it from a backup"
                        .into(),
                })
            }
        }
        Err(e) => Err(StoreError::Io { path, source: e }),
    }
}

pub(crate) fn write_format(store_dir: &Path, version: u32) -> Result<(), StoreError> {
    let path = store_dir.join(FORMAT_FILE);
    durable::replace(
        &path,
        format!("{FORMAT_PREFIX}{version}\n").as_bytes(),
        None,
    )
    .map_err(StoreError::io(&path))
}
