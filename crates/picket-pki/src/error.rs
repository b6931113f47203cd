//! The errors of the PKI.

use std::io;
use std::path::PathBuf;

use picket_store::{CommandError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// OpenSSL refused an operation; `what` says which.
    #[error("{what}: {source}")]
    Ssl {
        what: String,
        source: openssl::error::ErrorStack,
    },
    /// A file that should hold a key, a certificate or a request does not.
    #[error("{}: {detail}", path.display())]
    BadFile { path: PathBuf, detail: String },
    /// A certificate or request received from elsewhere is unusable.
    #[error("{0}")]
    Invalid(String),
    #[error("CA files '{}' and '{}' already exist", cert.display(), key.display())]
    CaExists { cert: PathBuf, key: PathBuf },
    #[error("there is no CA in {}: create one with `picket pki new-ca` or take over an Icinga 2 CA with `picket ca import`", dir.display())]
    NoCa { dir: PathBuf },
    #[error("No request exists for fingerprint '{0}'.")]
    NoRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The CA or request aggregate refused a command, or it could not be
    /// stored.
    #[error("{0}")]
    Command(String),
}

impl PkiError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(io::Error) -> PkiError {
        let path = path.into();
        move |source| PkiError::Io { path, source }
    }

    pub(crate) fn ssl(
        what: impl Into<String>,
    ) -> impl FnOnce(openssl::error::ErrorStack) -> PkiError {
        let what = what.into();
        move |source| PkiError::Ssl { what, source }
    }
}

impl<E: std::fmt::Display> From<CommandError<E>> for PkiError {
    fn from(e: CommandError<E>) -> PkiError {
        PkiError::Command(e.to_string())
    }
}
