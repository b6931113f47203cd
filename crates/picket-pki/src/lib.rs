//! Picket's public-key infrastructure: the certificate authority every
//! cluster trusts, node keys and certificates, signing tickets, and the TLS
//! settings that make Picket and Icinga 2 peers of each other.
//!
//! Keys and certificates have Icinga 2's shape and tickets Icinga 2's value,
//! so either side can sign for the other and a Picket master can take over
//! an Icinga 2 CA. What the CA does is kept as two event-sourced aggregates
//! in `picket-store`: the CA itself, with every certificate it ever issued
//! and who approved it, and the certificate requests, with their way from
//! pending to signed or removed. The CA key stays a file (`ca/ca.key`, mode
//! 0600), as Icinga keeps it, never an event.
//!
//! This crate opens no sockets: it builds the TLS settings and reads a
//! peer's identity from a finished handshake; the cluster and API crates
//! own the connections.

mod answer;
mod authority;
pub mod ca;
pub mod cert;
mod error;
pub mod files;
mod import;
pub mod request;
pub mod ticket;
pub mod tls;

pub use answer::{IncomingRequest, RequestAnswer, STATUS_PENDING, STATUS_REFUSED, STATUS_SIGNED};
pub use authority::{node_files, Authority, CaKeys, Grant, CA_DIR, CERTS_DIR};
pub use error::PkiError;
pub use import::ImportReport;
