//! What an aggregate is, and the command envelope every change arrives in.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::chain::Hash;
use crate::record::{now_millis, Actor, CommandSummary, Millis};

/// A piece of durable state that changes only through commands.
///
/// The store calls `process*` to decide, and `init`/`apply` to change: the
/// first may refuse, the second may not. Both must be free of side effects
/// (no I/O, no clocks, no randomness): replaying the same events must always
/// rebuild the same state, on this node and on any other.
pub trait Aggregate: Clone + Send + Sync + Serialize + DeserializeOwned + 'static {
    /// What creating an instance asks for.
    type InitCommand: Describe + Send;
    /// What changing an instance asks for.
    type Command: Describe + Send;
    type InitEvent: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Cloned once per command, so that the caller can publish what
    /// happened ([`crate::Pending::await_events`]).
    type Event: Clone + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// Why a command was refused; its text is stored in the history.
    type Error: std::fmt::Display + Send + 'static;

    /// Decides how to create the instance `id`.
    fn process_init(id: &str, command: &Self::InitCommand) -> Result<Self::InitEvent, Self::Error>;

    /// Builds the instance from its first event.
    fn init(id: &str, event: Self::InitEvent) -> Self;

    /// Decides what a command changes. No events means nothing to do: the
    /// command is answered and not stored.
    fn process(&self, command: &Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    /// Applies one event. It cannot fail: everything that could make it fail
    /// was checked when the event was decided.
    fn apply(&mut self, event: Self::Event);
}

/// How a command is written to the history.
pub trait Describe {
    fn summary(&self) -> CommandSummary;
}

/// A command with the facts every change is stored with.
#[derive(Debug, Clone)]
pub struct Command<C> {
    /// The aggregate instance it is for.
    pub id: String,
    pub actor: Actor,
    pub time: Millis,
    /// The version the sender based its request on. When set and the
    /// aggregate has moved on, the command is refused as a conflict without
    /// being stored (optimistic concurrency).
    pub expected_version: Option<u64>,
    pub details: C,
}

impl<C> Command<C> {
    pub fn new(id: impl Into<String>, actor: Actor, details: C) -> Command<C> {
        Command {
            id: id.into(),
            actor,
            time: now_millis(),
            expected_version: None,
            details,
        }
    }

    pub fn expecting(mut self, version: u64) -> Command<C> {
        self.expected_version = Some(version);
        self
    }
}

/// An aggregate's state with its place in history.
#[derive(Debug, Clone)]
pub struct Versioned<A> {
    pub state: A,
    /// The version of the last record applied: 0 after creation, one more
    /// for every stored command, accepted or refused.
    pub version: u64,
    /// The hash of that record: the `prev` of the next one.
    pub head: Hash,
}
