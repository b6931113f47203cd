//! Picket's durable control plane: event-sourced aggregates on an
//! append-only, hash-chained log.
//!
//! Everything an operator or a peer changes on purpose (the CA and its
//! certificates, certificate requests, objects created through the API,
//! acknowledgements, downtimes, comments) is an [`Aggregate`] in a
//! [`Store`]. A change is a [`Command`] from a named [`Actor`]; the aggregate
//! decides it into events (or refuses it), and the caller is answered only
//! once the record of that decision is on disk. The history is the truth:
//! snapshots only shorten startup and can always be rebuilt from it.
//!
//! The layout follows Krill's event-sourcing design with the changes its
//! history argued for: one log per store with checksummed frames and group
//! commit instead of a file per command, fsync before every answer, startup
//! from a snapshot of the whole store, hash chains that make edits visible,
//! and recovery that sets damaged data aside instead of guessing.
//!
//! This crate knows nothing of monitoring or PKI, and opens no sockets:
//! later crates define the aggregates; the binary wires stores to the
//! data directory, the configuration and the command line.

mod aggregate;
mod archive;
mod backup;
mod chain;
mod datadir;
pub mod durable;
mod error;
pub mod format1;
mod frame;
mod history;
mod migrate;
mod open;
mod quarantine;
mod record;
mod scan;
mod segment;
mod snapshot;
mod store;
mod untyped;
mod verify;
mod writer;

pub use aggregate::{Aggregate, Command, Describe, Versioned};
pub use backup::{backup, BackupReport};
pub use chain::Hash;
pub use datadir::{DataDir, FORMAT_VERSION};
pub use error::{CommandError, StoreError};
pub use history::{history, HistoryEntry};
pub use migrate::MigrationReport;
pub use open::OpenReport;
pub use quarantine::{Kind as SetAsideKind, SetAside};
pub use record::{now_millis, Actor, CommandSummary, Effect, Millis, Record};
pub use store::{Outcome, Pending, Store, StoreOptions};
pub use verify::{verify, Finding, StoreVerification, Verification};
pub use writer::{LogPoint, OnWriteFailure, Position, EXIT_WRITE_FAILURE};
