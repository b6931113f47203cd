//! The errors of the store.

use std::io;
use std::path::PathBuf;

/// Opening, recovering, verifying or copying a store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("data directory {} is in use by another process (it holds {})", dir.display(), lock.display())]
    Locked { dir: PathBuf, lock: PathBuf },
    #[error("{}: {detail}", path.display())]
    Format { path: PathBuf, detail: String },
    #[error(
        "{}: the data was written by a newer Picket (data format {found}; this one reads up to {supported}). \
         Downgrades are not supported: run the newer Picket again, or restore a backup made by this version",
        path.display()
    )]
    Downgrade {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("store '{store}' cannot be rebuilt: {detail}")]
    Unrecoverable { store: String, detail: String },
    #[error("invalid store name '{0}': use lower-case letters, digits and '-'")]
    InvalidName(String),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> StoreError {
        let path = path.into();
        move |source| StoreError::Io { path, source }
    }
}

/// A command was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E> {
    #[error("'{0}' does not exist")]
    NotFound(String),
    #[error("'{0}' already exists")]
    AlreadyExists(String),
    /// The sender expected another version: someone else changed the
    /// aggregate first. Not stored; the sender may reload and retry.
    #[error("'{id}' is at version {actual}, not {expected}: it was changed concurrently")]
    Conflict {
        id: String,
        expected: u64,
        actual: u64,
    },
    /// The aggregate refused the command. This refusal is stored in the
    /// history at `version`.
    #[error("{error}")]
    Refused { version: u64, error: E },
    /// The aggregate refused to be created. Nothing is stored: there is no
    /// history to put it in yet.
    #[error("{0}")]
    InitRefused(E),
    #[error("the command cannot be stored: {0}")]
    Encode(String),
    /// The store stopped after a write failure; nothing more is accepted.
    #[error("the store has stopped after a write failure")]
    Stopped,
}
