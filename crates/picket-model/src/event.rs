//! The event bus: what happened to monitored objects, fanned out to every
//! subscriber (logs, retention, later the cluster, API streams, writers).
//!
//! The bus is bounded: a subscriber that falls more than its capacity
//! behind loses the oldest events and is told how many (tokio's broadcast
//! semantics), so a slow consumer never holds up the checker.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::result::CheckResult;
use crate::state::{Live, StateType};

/// Which object an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub host: Arc<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<Arc<str>>,
}

impl Subject {
    /// `host` or `host!service`.
    pub fn full_name(&self) -> String {
        match &self.service {
            Some(s) => format!("{}!{}", self.host, s),
            None => self.host.to_string(),
        }
    }
}

/// One event. The names are Icinga 2's event stream types.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type")]
pub enum Event {
    /// A result was processed; `live` is the object's state afterwards.
    CheckResult {
        #[serde(flatten)]
        subject: Subject,
        check_result: Arc<CheckResult>,
        live: Live,
        timestamp: f64,
    },
    /// The state or the state type changed (see `Live::apply`).
    StateChange {
        #[serde(flatten)]
        subject: Subject,
        state: u8,
        state_type: StateType,
        /// The state before this result.
        last_state: u8,
        /// The hard state before this result.
        last_hard_state: u8,
        /// Whether this is a hard state change.
        hard: bool,
        check_result: Arc<CheckResult>,
        /// The live state after this result: the result's `vars_before`,
        /// `vars_after` and `previous_hard_state`, the same as in the
        /// `CheckResult` event of this result.
        live: Box<Live>,
        marks: crate::operations::Marks,
        timestamp: f64,
    },
    /// Flapping started or ended (only with `enable_flapping`).
    Flapping {
        #[serde(flatten)]
        subject: Subject,
        state: u8,
        state_type: StateType,
        is_flapping: bool,
        flapping_current: f64,
        threshold_low: f64,
        threshold_high: f64,
        timestamp: f64,
    },
    /// An acknowledgement, comment or downtime changed.
    Operation(Operated),
    /// A notification went to its users (Icinga publishes it once the
    /// commands are started, whatever they return).
    Notification {
        #[serde(flatten)]
        subject: Subject,
        /// The `Notification` object's full name.
        notification: String,
        command: String,
        users: Vec<String>,
        notification_type: crate::notifications::NotificationType,
        author: String,
        text: String,
        check_result: Option<Arc<CheckResult>>,
        timestamp: f64,
    },
    /// A configuration object came, changed or went while the node runs
    /// (through the API or a reload); comments and downtimes say it with
    /// their own [`Event::Operation`]s.
    Object {
        change: ObjectChange,
        object_type: &'static str,
        object_name: String,
        timestamp: f64,
    },
}

/// What happened to an object, as the stream's event types name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ObjectChange {
    ObjectCreated,
    /// One attribute of its configuration was set (an event each).
    ObjectModified,
    ObjectDeleted,
}

impl ObjectChange {
    /// The event type of the stream.
    pub fn name(self) -> &'static str {
        match self {
            ObjectChange::ObjectCreated => "ObjectCreated",
            ObjectChange::ObjectModified => "ObjectModified",
            ObjectChange::ObjectDeleted => "ObjectDeleted",
        }
    }
}

/// An operation's events on the bus: what changed, with the state of
/// the checkable at that moment and, for comments and downtimes, the
/// object as it is (or was, when removed).
#[derive(Debug, Clone, Serialize)]
pub struct Operated {
    #[serde(flatten)]
    pub subject: Subject,
    pub state: u8,
    pub state_type: StateType,
    pub change: crate::operations::OperationEvent,
    #[serde(skip)]
    pub object: Option<Arc<crate::ConfigObject>>,
    /// See `operations::Change::completes_creation`.
    #[serde(skip)]
    pub completes_creation: bool,
    pub timestamp: f64,
}

/// How many events a subscriber may fall behind before it loses some.
pub const CAPACITY: usize = 1 << 16;

/// The sending side, cheap to clone.
#[derive(Clone)]
pub struct Bus {
    sender: broadcast::Sender<Arc<Event>>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

impl Bus {
    pub fn publish(&self, event: Event) {
        // No subscriber is not an error: nobody asked.
        let _ = self.sender.send(Arc::new(event));
    }

    /// Whether anybody listens; lets publishers skip building events.
    pub fn has_subscribers(&self) -> bool {
        self.sender.receiver_count() > 0
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.sender.subscribe()
    }
}
