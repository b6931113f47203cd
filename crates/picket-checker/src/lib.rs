//! Running checks: the command lines Icinga 2 builds for monitoring
//! plugins and the plugins as processes, the built-in checks (those about
//! the node itself read its figures through [`facts`]), and the scheduler.
//!
//! A plugin runs in a process group of its own, with its standard output
//! and error on one pipe as Icinga 2 reads them; past its timeout the whole
//! group is killed, so no child it started outlives the check; its output
//! is capped so that a runaway plugin cannot exhaust memory. This crate
//! decides nothing about states: it reports what the process did, and the
//! model turns that into a check result.

pub mod builtin;
pub mod check;
pub mod command_line;
pub mod execute;
pub mod facts;
pub mod macros;
mod missing;
pub mod notify;
mod order;
pub mod process;
pub mod result;
pub mod scheduler;
pub mod stats;

pub use builtin::{app_version, duration_text, COMPATIBLE_VERSION};
pub use facts::NodeFacts;
