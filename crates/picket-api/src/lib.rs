//! Icinga 2's `/v1` REST API, served on the node's TLS port.
//!
//! The crate owns the port (binding as `ApiListener` does, the TLS
//! handshake with the node's certificate, telling HTTP from cluster
//! connections by their first byte), authentication (`ApiUser` passwords
//! and client certificates), permissions with their filter functions, and
//! the handlers: objects (queried, created, changed, deleted), actions,
//! status, the event stream, the script console and configuration
//! packages. Answers
//! keep Icinga's status codes, texts and JSON shapes so that existing
//! clients work unchanged; big answers are streamed.
//!
//! It holds no state of its own: what it shows and changes belongs to the
//! running node, reached through the [`Engine`] trait the binary
//! implements, and cluster connections are handed back to the caller.

pub mod actions;
pub mod auth;
pub mod body;
pub mod changes;
pub mod console;
pub mod engine;
pub mod events;
pub mod filter;
pub mod introspect;
pub mod listener;
pub mod objects;
pub mod operator;
pub mod packages;
pub mod params;
pub mod render;
pub mod reply;
pub mod routes;
pub mod server;
pub mod status;
pub mod target;

pub use engine::{Config, Engine, Look, NodeStatus, OperateError};
pub use listener::ListenerSettings;
pub use server::{serve, Api};
