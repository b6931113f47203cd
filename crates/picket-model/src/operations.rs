//! What operators do to a host or service: acknowledge its problem,
//! comment on it, put it in downtime. One aggregate per checkable (its
//! full name is the id) in the `operations` store, so every change is a
//! command from a named actor, durable before anyone is answered and kept
//! in the history.
//!
//! The rules that are Icinga 2's live here, free of I/O and clocks (the
//! time is in the commands): when an acknowledgement goes (a state change
//! unless sticky, recovery always, its expiry), when a downtime starts
//! (fixed: its window; flexible: the first problem inside its window;
//! triggered: its parent), when it ends, and what all of it means for the
//! checkable ([`Marks`]). The node turns [`Operations::due`] and
//! [`Operations::on_state`] into commands and the events into bus events.

use std::collections::BTreeMap;
use std::sync::Arc;

use picket_store::{Aggregate, CommandSummary, Describe};
use serde::{Deserialize, Serialize};

/// The store of the operations aggregates.
pub const STORE: &str = "operations";

/// Comment entry types, as Icinga numbers them.
pub const COMMENT_USER: u8 = 1;
pub const COMMENT_ACKNOWLEDGEMENT: u8 = 4;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub author: String,
    pub comment: String,
    /// Sticky acknowledgements stay through changes between problem
    /// states and go only on recovery.
    pub sticky: bool,
    pub notify: bool,
    /// Whether its comment stays after the acknowledgement goes.
    pub persistent: bool,
    /// When it goes by itself; 0 for never.
    pub expiry: f64,
    pub set_time: f64,
    /// The number an API client wrote into `acknowledgement` itself when
    /// it is neither 1 nor 2: Icinga keeps any number there, counts it as
    /// acknowledged and never lets a state change take it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<i32>,
}

impl Acknowledgement {
    /// One an API client made by setting `acknowledgement` to `kind`
    /// (not 0): Icinga's bare field, without author, comment or
    /// notification.
    fn bare(kind: i32, expiry: f64, at: f64) -> Acknowledgement {
        let mut a = Acknowledgement {
            author: String::new(),
            comment: String::new(),
            sticky: false,
            notify: false,
            persistent: false,
            expiry,
            set_time: at,
            number: None,
        };
        a.set_kind(kind);
        a
    }

    /// `acknowledgement` as Icinga shows it: 1 normal, 2 sticky.
    pub fn kind(&self) -> i32 {
        self.number.unwrap_or(if self.sticky { 2 } else { 1 })
    }

    fn set_kind(&mut self, kind: i32) {
        self.sticky = kind == 2;
        self.number = (kind != 1 && kind != 2).then_some(kind);
    }

    /// Whether a change from state `old` to `new` takes it: any change a
    /// normal one, a recovery a sticky one.
    fn ends_with(&self, old: u8, new: u8) -> bool {
        old != new
            && match self.kind() {
                1 => true,
                2 => new == 0,
                _ => false,
            }
    }
}

/// The acknowledgement fields an API client sets directly (`POST` to a
/// host or service): Icinga writes them as they are — no comment, no
/// event, no notification — and the checkable counts as acknowledged
/// while `acknowledgement` is not 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AcknowledgementFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_change: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub author: String,
    pub text: String,
    pub entry_type: u8,
    pub entry_time: f64,
    /// When it goes by itself; 0 for never.
    pub expire_time: f64,
    pub persistent: bool,
    pub legacy_id: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Downtime {
    pub author: String,
    pub comment: String,
    pub start_time: f64,
    pub end_time: f64,
    /// How long a flexible downtime lasts once triggered.
    pub duration: f64,
    pub fixed: bool,
    /// The downtime whose start starts this one ("" for none).
    pub triggered_by: String,
    /// The `ScheduledDowntime` that created it ("" for none).
    pub scheduled_by: String,
    /// The downtime this one was created for (child options, all services).
    pub parent: String,
    pub entry_time: f64,
    /// When it started; 0 while it has not.
    pub trigger_time: f64,
    pub legacy_id: u64,
    /// For one a `ScheduledDowntime` made: the hash of its options then
    /// ([`options_hash`]); a downtime of older options is not counted
    /// and, when still far off, removed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub config_owner_hash: String,
    /// For one a `ScheduledDowntime` made: the zone that made it, the
    /// only one that removes it when its `ScheduledDowntime` goes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub authoritative_zone: String,
}

impl Downtime {
    /// Whether it counts now (`downtime_depth`).
    pub fn in_effect(&self, now: f64) -> bool {
        if self.trigger_time <= 0.0 {
            return false;
        }
        if self.fixed {
            now >= self.start_time && now < self.end_time
        } else {
            now < self.trigger_time + self.duration
        }
    }

    /// Whether a trigger at `now` starts it.
    fn can_trigger(&self, now: f64) -> bool {
        self.trigger_time <= 0.0 && now >= self.start_time && now < self.end_time
    }

    /// Whether it is over for good and goes.
    pub fn expired(&self, now: f64) -> bool {
        if !self.fixed && self.trigger_time > 0.0 {
            return now >= self.trigger_time + self.duration;
        }
        now >= self.end_time
    }
}

/// What the operations mean for the checkable: the attributes the API
/// shows and notifications will read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Marks {
    /// 0 none, 1 normal, 2 sticky (or what a client wrote there).
    pub acknowledgement: i32,
    pub acknowledgement_expiry: f64,
    pub acknowledgement_last_change: f64,
    /// How many downtimes are in effect.
    pub downtime_depth: u32,
}

/// Why an acknowledgement went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cleared {
    /// `remove-acknowledgement`.
    Removed,
    /// The state changed (normal) or recovered (sticky).
    StateChanged,
    Expired,
    /// The checkable was deleted: the acknowledgement goes with it
    /// unannounced, as Icinga's goes with its object.
    Deleted,
}

/// The operations on one checkable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Operations {
    /// The checkable's full name (the aggregate's id).
    pub checkable: String,
    pub acknowledgement: Option<Acknowledgement>,
    pub acknowledgement_last_change: f64,
    /// `acknowledgement_expiry` while there is no acknowledgement: what
    /// a client set it to, or what an acknowledgement a client set to 0
    /// left (Icinga keeps the field apart).
    #[serde(default, skip_serializing_if = "crate::result::is_zero")]
    pub loose_expiry: f64,
    /// By full name (`host!uuid`, `host!service!uuid`).
    pub comments: BTreeMap<String, Comment>,
    pub downtimes: BTreeMap<String, Downtime>,
    /// Comments and downtimes changed through the API after they were
    /// made, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub changed: BTreeMap<String, Changed>,
}

/// A value an operator gives an attribute of a comment or downtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttributeValue {
    Flag(bool),
    Number(f64),
    Text(String),
}

impl AttributeValue {
    pub fn to_value(&self) -> picket_lang::Value {
        match self {
            AttributeValue::Flag(b) => picket_lang::Value::Bool(*b),
            AttributeValue::Number(n) => picket_lang::Value::Number(*n),
            AttributeValue::Text(t) => picket_lang::Value::from(t.as_str()),
        }
    }
}

/// What changed of a comment or downtime after it was made: the first
/// values of the changed attributes (Icinga's `original_attributes`) and
/// when it last changed (its `version`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Changed {
    pub original: BTreeMap<String, AttributeValue>,
    pub version: f64,
}

/// The kind of value each attribute an operator may change takes.
#[derive(Clone, Copy)]
enum Kind {
    Flag,
    Number,
    Text,
}

/// Host and service names are not among them: a comment or downtime
/// stays with the checkable it was made for (Icinga lets them change and
/// then shows them under the other name).
const COMMENT_ATTRIBUTES: &[(&str, Kind)] = &[
    ("author", Kind::Text),
    ("entry_time", Kind::Number),
    ("entry_type", Kind::Number),
    ("expire_time", Kind::Number),
    ("legacy_id", Kind::Number),
    ("persistent", Kind::Flag),
    ("text", Kind::Text),
];

const DOWNTIME_ATTRIBUTES: &[(&str, Kind)] = &[
    ("author", Kind::Text),
    ("comment", Kind::Text),
    ("duration", Kind::Number),
    ("end_time", Kind::Number),
    ("entry_time", Kind::Number),
    ("fixed", Kind::Flag),
    ("legacy_id", Kind::Number),
    ("start_time", Kind::Number),
];

/// Checks a change of attribute `name` of a `Comment` or `Downtime`
/// (`type_name`) to `value`, converting it as Icinga converts values to
/// a field's type; the error is the reason it cannot be set.
pub fn attribute_change(
    type_name: &str,
    name: &str,
    value: &picket_lang::Value,
) -> Result<AttributeValue, String> {
    let table = if type_name == "Comment" {
        COMMENT_ATTRIBUTES
    } else {
        DOWNTIME_ATTRIBUTES
    };
    let Some((_, kind)) = table.iter().find(|(n, _)| *n == name) else {
        return Err("Attribute cannot be modified.".into());
    };
    // Booleans are numbers underneath, as in Icinga.
    let number = || {
        value
            .to_number()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| {
                format!(
                    "Can't convert '{}' to a floating point number.",
                    value.to_display()
                )
            })
    };
    Ok(match kind {
        Kind::Text => AttributeValue::Text(value.to_display()),
        Kind::Number => AttributeValue::Number(number()?),
        Kind::Flag => AttributeValue::Flag(number()? != 0.0),
    })
}

impl Comment {
    /// Sets an attribute; returns the value it had.
    fn set(&mut self, name: &str, value: &AttributeValue) -> Option<AttributeValue> {
        use AttributeValue as V;
        Some(match (name, value) {
            ("author", V::Text(t)) => V::Text(std::mem::replace(&mut self.author, t.clone())),
            ("text", V::Text(t)) => V::Text(std::mem::replace(&mut self.text, t.clone())),
            ("entry_time", V::Number(n)) => V::Number(std::mem::replace(&mut self.entry_time, *n)),
            ("expire_time", V::Number(n)) => {
                V::Number(std::mem::replace(&mut self.expire_time, *n))
            }
            ("persistent", V::Flag(b)) => V::Flag(std::mem::replace(&mut self.persistent, *b)),
            ("entry_type", V::Number(n)) => {
                V::Number(f64::from(std::mem::replace(&mut self.entry_type, *n as u8)))
            }
            ("legacy_id", V::Number(n)) => {
                V::Number(std::mem::replace(&mut self.legacy_id, *n as u64) as f64)
            }
            _ => return None,
        })
    }
}

impl Downtime {
    /// Sets an attribute; returns the value it had.
    fn set(&mut self, name: &str, value: &AttributeValue) -> Option<AttributeValue> {
        use AttributeValue as V;
        Some(match (name, value) {
            ("author", V::Text(t)) => V::Text(std::mem::replace(&mut self.author, t.clone())),
            ("comment", V::Text(t)) => V::Text(std::mem::replace(&mut self.comment, t.clone())),
            ("start_time", V::Number(n)) => V::Number(std::mem::replace(&mut self.start_time, *n)),
            ("end_time", V::Number(n)) => V::Number(std::mem::replace(&mut self.end_time, *n)),
            ("duration", V::Number(n)) => V::Number(std::mem::replace(&mut self.duration, *n)),
            ("entry_time", V::Number(n)) => V::Number(std::mem::replace(&mut self.entry_time, *n)),
            ("fixed", V::Flag(b)) => V::Flag(std::mem::replace(&mut self.fixed, *b)),
            ("legacy_id", V::Number(n)) => {
                V::Number(std::mem::replace(&mut self.legacy_id, *n as u64) as f64)
            }
            _ => return None,
        })
    }
}

/// A change asked of a checkable's operations. Names and legacy ids are
/// chosen by the sender, times are in the command, so that deciding
/// needs nothing but the aggregate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Operation {
    Acknowledge {
        acknowledgement: Acknowledgement,
        /// The comment that goes with it.
        comment_name: String,
        comment_legacy_id: u64,
    },
    RemoveAcknowledgement {
        why: Cleared,
        at: f64,
    },
    SetAcknowledgementFields {
        fields: AcknowledgementFields,
        at: f64,
    },
    AddComment {
        name: String,
        comment: Comment,
    },
    RemoveComment {
        name: String,
    },
    ScheduleDowntime {
        name: String,
        downtime: Downtime,
    },
    /// Starts a downtime (its window opened, a problem came, its parent
    /// started).
    TriggerDowntime {
        name: String,
        at: f64,
    },
    RemoveDowntime {
        name: String,
        /// Removed by someone rather than expired.
        cancelled: bool,
        at: f64,
    },
    /// Changes attributes of a comment or downtime (checked with
    /// [`attribute_change`]).
    Modify {
        name: String,
        changes: Vec<(String, AttributeValue)>,
        at: f64,
    },
}

/// An operation's event as it is published: with the comment or downtime
/// it concerns as that stood after it, and whether it completes that
/// object's creation (a downtime that starts as it is made is complete
/// only once started, and Icinga tells `ObjectCreated` after that).
#[derive(Debug, Clone)]
pub struct Change {
    pub event: OperationEvent,
    pub object: Option<Arc<crate::ConfigObject>>,
    pub completes_creation: bool,
}

impl Change {
    /// The changes of one command's `events`, `object_of` giving each
    /// one's object.
    pub fn of_command(
        events: &[OperationEvent],
        mut object_of: impl FnMut(&OperationEvent) -> Option<Arc<crate::ConfigObject>>,
    ) -> Vec<Change> {
        let triggered = |name: &str| {
            events.iter().any(
                |e| matches!(e, OperationEvent::DowntimeTriggered { name: n, .. } if n == name),
            )
        };
        let added = |name: &str| {
            events
                .iter()
                .any(|e| matches!(e, OperationEvent::DowntimeAdded { name: n, .. } if n == name))
        };
        events
            .iter()
            .map(|e| Change {
                completes_creation: match e {
                    OperationEvent::CommentAdded { .. } => true,
                    OperationEvent::DowntimeAdded { name, .. } => !triggered(name),
                    OperationEvent::DowntimeTriggered { name, .. } => added(name),
                    _ => false,
                },
                object: object_of(e),
                event: e.clone(),
            })
            .collect()
    }
}

/// What happened; applied to the aggregate and published on the bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum OperationEvent {
    AcknowledgementSet(Acknowledgement),
    AcknowledgementCleared {
        why: Cleared,
        at: f64,
    },
    AcknowledgementFieldsSet {
        fields: AcknowledgementFields,
        at: f64,
    },
    CommentAdded {
        name: String,
        comment: Comment,
    },
    CommentRemoved {
        name: String,
    },
    DowntimeAdded {
        name: String,
        downtime: Downtime,
    },
    DowntimeTriggered {
        name: String,
        at: f64,
    },
    DowntimeRemoved {
        name: String,
        cancelled: bool,
        at: f64,
    },
    Modified {
        name: String,
        changes: Vec<(String, AttributeValue)>,
        at: f64,
    },
}

/// Why an operation was refused; the texts are Icinga's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{kind} {name} is already acknowledged.")]
    AlreadyAcknowledged { kind: &'static str, name: String },
    #[error("Object '{0}' already exists.")]
    Exists(String),
    #[error("Object '{0}' does not exist.")]
    Missing(String),
}

fn kind_of(id: &str) -> &'static str {
    if id.contains('!') {
        "Service"
    } else {
        "Host"
    }
}

impl Operations {
    pub fn new(checkable: &str) -> Operations {
        Operations {
            checkable: checkable.to_string(),
            ..Operations::default()
        }
    }

    pub fn marks(&self, now: f64) -> Marks {
        let ack = self.acknowledgement.as_ref();
        Marks {
            acknowledgement: ack.map_or(0, Acknowledgement::kind),
            acknowledgement_expiry: ack.map_or(self.loose_expiry, |a| a.expiry),
            acknowledgement_last_change: self.acknowledgement_last_change,
            downtime_depth: self.downtimes.values().filter(|d| d.in_effect(now)).count() as u32,
        }
    }

    /// Whether nothing is left: the node may forget the checkable.
    pub fn is_empty(&self) -> bool {
        self.acknowledgement.is_none()
            && self.loose_expiry == 0.0
            && self.comments.is_empty()
            && self.downtimes.is_empty()
    }

    /// What time alone does at `now`: expired acknowledgements, comments
    /// and downtimes go, fixed downtimes whose window opened start.
    pub fn due(&self, now: f64) -> Vec<Operation> {
        let mut out = Vec::new();
        let ack_expires = self
            .acknowledgement
            .as_ref()
            .is_some_and(|a| a.expiry > 0.0 && a.expiry <= now);
        if ack_expires {
            out.push(Operation::RemoveAcknowledgement {
                why: Cleared::Expired,
                at: now,
            });
        }
        for (name, c) in &self.comments {
            // The acknowledgement takes its own comments along.
            let goes_with_ack =
                ack_expires && c.entry_type == COMMENT_ACKNOWLEDGEMENT && !c.persistent;
            if !goes_with_ack && c.expire_time > 0.0 && c.expire_time <= now {
                out.push(Operation::RemoveComment { name: name.clone() });
            }
        }
        for (name, d) in &self.downtimes {
            if d.expired(now) {
                out.push(Operation::RemoveDowntime {
                    name: name.clone(),
                    cancelled: false,
                    at: now,
                });
            } else if d.fixed && d.triggered_by.is_empty() && d.can_trigger(now) {
                out.push(Operation::TriggerDowntime {
                    name: name.clone(),
                    at: now,
                });
            }
        }
        out
    }

    /// What a result that moved the state from `old` to `new` does:
    /// acknowledgements go (sticky ones only on recovery), and a problem
    /// starts the flexible downtimes whose window is open.
    pub fn on_state(&self, old: u8, new: u8, now: f64) -> Vec<Operation> {
        let mut out = Vec::new();
        if let Some(a) = &self.acknowledgement {
            if a.ends_with(old, new) {
                out.push(Operation::RemoveAcknowledgement {
                    why: Cleared::StateChanged,
                    at: now,
                });
            }
        }
        if new != 0 {
            for (name, d) in &self.downtimes {
                if !d.fixed && d.triggered_by.is_empty() && d.can_trigger(now) {
                    out.push(Operation::TriggerDowntime {
                        name: name.clone(),
                        at: now,
                    });
                }
            }
        }
        out
    }

    /// What every result does: when nothing is acknowledged, the
    /// acknowledgement comments left (a client set `acknowledgement` to
    /// 0, or made such a comment itself) go, unless persistent.
    pub fn on_result(&self) -> Vec<Operation> {
        if self.acknowledgement.is_some() {
            return Vec::new();
        }
        self.comments
            .iter()
            .filter(|(_, c)| c.entry_type == COMMENT_ACKNOWLEDGEMENT && !c.persistent)
            .map(|(name, _)| Operation::RemoveComment { name: name.clone() })
            .collect()
    }

    /// Whether a flexible downtime waits, inside its window, for a problem.
    pub fn awaits_problem(&self, now: f64) -> bool {
        self.downtimes
            .values()
            .any(|d| !d.fixed && d.triggered_by.is_empty() && d.can_trigger(now))
    }

    /// The downtimes here that start when `parent` starts.
    pub fn triggered_by(&self, parent: &str, now: f64) -> Vec<Operation> {
        self.downtimes
            .iter()
            .filter(|(_, d)| d.triggered_by == parent && d.can_trigger(now))
            .map(|(name, _)| Operation::TriggerDowntime {
                name: name.clone(),
                at: now,
            })
            .collect()
    }

    fn decide(&self, op: &Operation) -> Result<Vec<OperationEvent>, Refusal> {
        use OperationEvent as E;
        Ok(match op {
            Operation::Acknowledge {
                acknowledgement,
                comment_name,
                comment_legacy_id,
            } => {
                if self.acknowledgement.is_some() {
                    return Err(Refusal::AlreadyAcknowledged {
                        kind: kind_of(&self.checkable),
                        name: self.checkable.clone(),
                    });
                }
                let a = acknowledgement;
                // The comment first, as Icinga makes it before it sets the
                // acknowledgement (so its events come in this order).
                vec![
                    E::CommentAdded {
                        name: comment_name.clone(),
                        comment: Comment {
                            author: a.author.clone(),
                            text: a.comment.clone(),
                            entry_type: COMMENT_ACKNOWLEDGEMENT,
                            entry_time: a.set_time,
                            expire_time: a.expiry,
                            persistent: a.persistent,
                            legacy_id: *comment_legacy_id,
                        },
                    },
                    E::AcknowledgementSet(a.clone()),
                ]
            }
            Operation::RemoveAcknowledgement { why, at } => {
                if self.acknowledgement.is_none() {
                    return Ok(Vec::new());
                }
                let mut out = vec![E::AcknowledgementCleared { why: *why, at: *at }];
                // Its comments go with it, unless persistent (also when
                // an operator removes it: Icinga keeps those then too).
                out.extend(
                    self.comments
                        .iter()
                        .filter(|(_, c)| c.entry_type == COMMENT_ACKNOWLEDGEMENT && !c.persistent)
                        .map(|(name, _)| E::CommentRemoved { name: name.clone() }),
                );
                out
            }
            Operation::SetAcknowledgementFields { fields, at } => {
                vec![E::AcknowledgementFieldsSet {
                    fields: *fields,
                    at: *at,
                }]
            }
            Operation::AddComment { name, comment } => {
                if self.comments.contains_key(name) {
                    return Err(Refusal::Exists(name.clone()));
                }
                vec![E::CommentAdded {
                    name: name.clone(),
                    comment: comment.clone(),
                }]
            }
            Operation::RemoveComment { name } => {
                if !self.comments.contains_key(name) {
                    return Err(Refusal::Missing(name.clone()));
                }
                vec![E::CommentRemoved { name: name.clone() }]
            }
            Operation::ScheduleDowntime { name, downtime } => {
                if self.downtimes.contains_key(name) {
                    return Err(Refusal::Exists(name.clone()));
                }
                // A downtime asked for with a trigger time (a flexible one
                // made while its checkable has a problem: since when) and a
                // fixed one whose window is open start as they are made.
                let mut added = downtime.clone();
                let asked = std::mem::take(&mut added.trigger_time);
                let now = added.entry_time;
                let at = if asked > 0.0 {
                    asked
                } else if added.fixed {
                    now
                } else {
                    0.0
                };
                let starts = at > 0.0 && added.triggered_by.is_empty() && added.can_trigger(now);
                let mut out = vec![E::DowntimeAdded {
                    name: name.clone(),
                    downtime: added,
                }];
                if starts {
                    out.push(E::DowntimeTriggered {
                        name: name.clone(),
                        at,
                    });
                }
                out
            }
            Operation::TriggerDowntime { name, at } => match self.downtimes.get(name) {
                None => return Err(Refusal::Missing(name.clone())),
                Some(d) if !d.can_trigger(*at) => Vec::new(),
                Some(_) => vec![E::DowntimeTriggered {
                    name: name.clone(),
                    at: *at,
                }],
            },
            Operation::RemoveDowntime {
                name,
                cancelled,
                at,
            } => {
                if !self.downtimes.contains_key(name) {
                    return Err(Refusal::Missing(name.clone()));
                }
                vec![E::DowntimeRemoved {
                    name: name.clone(),
                    cancelled: *cancelled,
                    at: *at,
                }]
            }
            Operation::Modify { name, changes, at } => {
                if !self.comments.contains_key(name) && !self.downtimes.contains_key(name) {
                    return Err(Refusal::Missing(name.clone()));
                }
                if changes.is_empty() {
                    return Ok(Vec::new());
                }
                vec![E::Modified {
                    name: name.clone(),
                    changes: changes.clone(),
                    at: *at,
                }]
            }
        })
    }
}

impl Describe for Operation {
    fn summary(&self) -> CommandSummary {
        match self {
            Operation::Acknowledge {
                acknowledgement: a, ..
            } => CommandSummary::new("acknowledge-problem")
                .arg("author", &a.author)
                .arg("comment", &a.comment)
                .arg("sticky", a.sticky)
                .arg("notify", a.notify)
                .arg("expiry", a.expiry),
            Operation::RemoveAcknowledgement { why, .. } => {
                CommandSummary::new("remove-acknowledgement").arg("why", why)
            }
            Operation::SetAcknowledgementFields { fields, .. } => [
                ("acknowledgement", fields.acknowledgement.map(f64::from)),
                ("acknowledgement_expiry", fields.expiry),
                ("acknowledgement_last_change", fields.last_change),
            ]
            .into_iter()
            .fold(
                CommandSummary::new("modify"),
                |summary, field| match field {
                    (name, Some(value)) => summary.arg(name, value),
                    (_, None) => summary,
                },
            ),
            Operation::AddComment { name, comment } => CommandSummary::new("add-comment")
                .arg("name", name)
                .arg("author", &comment.author)
                .arg("text", &comment.text),
            Operation::RemoveComment { name } => {
                CommandSummary::new("remove-comment").arg("name", name)
            }
            Operation::ScheduleDowntime { name, downtime: d } => {
                CommandSummary::new("schedule-downtime")
                    .arg("name", name)
                    .arg("author", &d.author)
                    .arg("comment", &d.comment)
                    .arg("start_time", d.start_time)
                    .arg("end_time", d.end_time)
                    .arg("fixed", d.fixed)
                    .arg("duration", d.duration)
            }
            Operation::TriggerDowntime { name, at } => CommandSummary::new("trigger-downtime")
                .arg("name", name)
                .arg("at", at),
            Operation::RemoveDowntime {
                name, cancelled, ..
            } => CommandSummary::new("remove-downtime")
                .arg("name", name)
                .arg("cancelled", cancelled),
            Operation::Modify { name, changes, .. } => changes.iter().fold(
                CommandSummary::new("modify").arg("name", name),
                |summary, (attribute, value)| match value {
                    AttributeValue::Flag(b) => summary.arg(attribute, b),
                    AttributeValue::Number(n) => summary.arg(attribute, n),
                    AttributeValue::Text(t) => summary.arg(attribute, t),
                },
            ),
        }
    }
}

impl Aggregate for Operations {
    /// The first operation on a checkable creates its aggregate.
    type InitCommand = Operation;
    type Command = Operation;
    type InitEvent = Vec<OperationEvent>;
    type Event = OperationEvent;
    type Error = Refusal;

    fn process_init(id: &str, command: &Operation) -> Result<Vec<OperationEvent>, Refusal> {
        Operations::new(id).decide(command)
    }

    fn init(id: &str, events: Vec<OperationEvent>) -> Operations {
        let mut ops = Operations::new(id);
        for e in events {
            ops.apply(e);
        }
        ops
    }

    fn process(&self, command: &Operation) -> Result<Vec<OperationEvent>, Refusal> {
        self.decide(command)
    }

    fn apply(&mut self, event: OperationEvent) {
        match event {
            OperationEvent::AcknowledgementSet(a) => {
                self.acknowledgement_last_change = a.set_time;
                self.acknowledgement = Some(a);
                self.loose_expiry = 0.0;
            }
            OperationEvent::AcknowledgementCleared { at, .. } => {
                self.acknowledgement = None;
                self.acknowledgement_last_change = at;
                self.loose_expiry = 0.0;
            }
            OperationEvent::AcknowledgementFieldsSet { fields, at } => {
                match (fields.acknowledgement, &mut self.acknowledgement) {
                    (None, _) => {}
                    (Some(0), ack) => {
                        if let Some(a) = ack.take() {
                            self.loose_expiry = a.expiry;
                        }
                    }
                    (Some(kind), Some(a)) => a.set_kind(kind),
                    (Some(kind), ack @ None) => {
                        let expiry = std::mem::take(&mut self.loose_expiry);
                        *ack = Some(Acknowledgement::bare(kind, expiry, at));
                    }
                }
                if let Some(expiry) = fields.expiry {
                    match &mut self.acknowledgement {
                        Some(a) => a.expiry = expiry,
                        None => self.loose_expiry = expiry,
                    }
                }
                if let Some(t) = fields.last_change {
                    self.acknowledgement_last_change = t;
                }
            }
            OperationEvent::CommentAdded { name, comment } => {
                self.comments.insert(name, comment);
            }
            OperationEvent::CommentRemoved { name } => {
                self.comments.remove(&name);
                self.changed.remove(&name);
            }
            OperationEvent::DowntimeAdded { name, downtime } => {
                self.downtimes.insert(name, downtime);
            }
            OperationEvent::DowntimeTriggered { name, at } => {
                if let Some(d) = self.downtimes.get_mut(&name) {
                    d.trigger_time = at;
                }
            }
            OperationEvent::DowntimeRemoved { name, .. } => {
                self.downtimes.remove(&name);
                self.changed.remove(&name);
            }
            OperationEvent::Modified { name, changes, at } => {
                let changed = self.changed.entry(name.clone()).or_default();
                changed.version = at;
                for (attribute, value) in changes {
                    let before = match (self.comments.get_mut(&name), self.downtimes.get_mut(&name))
                    {
                        (Some(c), _) => c.set(&attribute, &value),
                        (None, Some(d)) => d.set(&attribute, &value),
                        (None, None) => None,
                    };
                    if let Some(before) = before {
                        changed.original.entry(attribute).or_insert(before);
                    }
                }
            }
        }
    }
}

/// Which children (through dependencies) a downtime also covers
/// (`child_options` of `schedule-downtime` and of `ScheduledDowntime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildOptions {
    None,
    /// Children get downtimes that the parent's start triggers.
    Triggered,
    /// Children get downtimes of their own, over the same window.
    NonTriggered,
}

impl ChildOptions {
    /// Icinga's names (`DowntimeTriggeredChildren`, ...) or numbers (0–2).
    pub fn parse(value: &picket_lang::Value) -> Option<ChildOptions> {
        use picket_lang::Value;
        Some(match value {
            Value::Null => ChildOptions::None,
            Value::String(s) => match &**s {
                "DowntimeNoChildren" => ChildOptions::None,
                "DowntimeTriggeredChildren" => ChildOptions::Triggered,
                "DowntimeNonTriggeredChildren" => ChildOptions::NonTriggered,
                _ => return None,
            },
            Value::Number(n) if *n == 0.0 => ChildOptions::None,
            Value::Number(n) if *n == 1.0 => ChildOptions::Triggered,
            Value::Number(n) if *n == 2.0 => ChildOptions::NonTriggered,
            _ => return None,
        })
    }

    /// The downtime a child gets of `parent` (named `parent_name`), or
    /// none. Icinga makes it a downtime of its own, not a child of
    /// `parent` (removing `parent` leaves it): started by `parent` for
    /// `Triggered`, else by what `parent` is started by; of the same
    /// `ScheduledDowntime`, when one made `parent`.
    pub fn child_downtime(self, parent: &Downtime, parent_name: &str) -> Option<Downtime> {
        let triggered_by = match self {
            ChildOptions::None => return None,
            ChildOptions::Triggered => parent_name.to_string(),
            ChildOptions::NonTriggered => parent.triggered_by.clone(),
        };
        Some(Downtime {
            triggered_by,
            trigger_time: 0.0,
            legacy_id: 0,
            ..parent.clone()
        })
    }
}

/// The checkable a `ScheduledDowntime` covers (`host` or `host!service`).
pub fn scheduled_checkable(sd: &crate::ConfigObject) -> String {
    let host = sd.get_str("host_name");
    match sd.get_str("service_name") {
        service if service.is_empty() => host,
        service => format!("{host}!{service}"),
    }
}

/// The options of a `ScheduledDowntime` its downtimes depend on, hashed
/// as Icinga hashes them (SHA-256 of their packed dictionary): the
/// downtimes carry it (`config_owner_hash`), so that those planned with
/// options since changed are told apart, also between Picket and Icinga
/// nodes of one cluster.
pub fn options_hash(sd: &crate::ConfigObject) -> String {
    use picket_lang::{Dict, Value};
    use sha2::Digest;
    let options = Dict::new();
    let given = |name: &str| sd.get(name).filter(|v| !matches!(v, Value::Null));
    for name in ["author", "comment", "ranges", "vars"] {
        options.insert(name, given(name).unwrap_or_default());
    }
    options.insert(
        "child_options",
        given("child_options").unwrap_or_else(|| Value::from("DowntimeNoChildren")),
    );
    let duration = given("duration").and_then(|v| v.to_number().ok());
    options.insert("duration", Value::Number(duration.unwrap_or(0.0)));
    let fixed = given("fixed").is_none_or(|v| v.to_bool());
    options.insert("fixed", Value::Bool(fixed));
    let mut packed = Vec::new();
    picket_lang::pack::pack(&Value::Dict(options), &mut packed);
    hex::encode(sha2::Sha256::digest(&packed))
}

/// Whether `d` was planned with the options `sd` has now (`hash`); one
/// without a hash was planned before hashes were kept and counts.
fn planned_with(d: &Downtime, hash: &str) -> bool {
    d.config_owner_hash.is_empty() || d.config_owner_hash == hash
}

/// The downtime a `ScheduledDowntime` makes at `now`, given the downtimes
/// it made before (`owned`), as Icinga plans them: nothing while one of
/// them has not started yet; else the range running now when it ends
/// after all of them, or else the next range to start (within a week).
/// So a running downtime always has its successor planned. Downtimes
/// planned with other options do not count. `zone` is this node's. The
/// name is left to the caller.
pub fn planned(
    sd: &crate::ConfigObject,
    now: f64,
    owned: &[&Downtime],
    zone: &str,
) -> Option<Downtime> {
    use chrono::TimeZone;
    let hash = options_hash(sd);
    let owned: Vec<&Downtime> = owned
        .iter()
        .copied()
        .filter(|d| planned_with(d, &hash))
        .collect();
    if owned.iter().any(|d| d.start_time >= now) {
        return None;
    }
    let ranges = match sd.get("ranges") {
        Some(picket_lang::Value::Dict(d)) => crate::timeperiod::Ranges::parse(&d),
        _ => return None,
    };
    let local = |t: f64| {
        chrono::DateTime::from_timestamp(t as i64, 0)
            .map(|t| t.with_timezone(&chrono::Local).naive_local())
    };
    let at = local(now)?;
    let min_end = owned.iter().map(|d| d.end_time).fold(0.0, f64::max);
    let min_end = if min_end > 0.0 { local(min_end) } else { None };
    let (start, end) = ranges
        .running_segment(at, min_end)
        .or_else(|| ranges.next_segment(at))?;
    let epoch = |t: chrono::NaiveDateTime| {
        chrono::Local
            .from_local_datetime(&t)
            .earliest()
            .map(|t| t.timestamp() as f64)
    };
    let number = |f: &str| sd.get(f).and_then(|v| v.to_number().ok()).unwrap_or(0.0);
    Some(Downtime {
        author: sd.get_str("author"),
        comment: sd.get_str("comment"),
        start_time: epoch(start)?,
        end_time: epoch(end)?,
        duration: number("duration"),
        fixed: sd.get("fixed").is_none_or(|v| v.to_bool()),
        triggered_by: String::new(),
        scheduled_by: sd.full_name(),
        parent: String::new(),
        entry_time: now,
        trigger_time: 0.0,
        legacy_id: 0,
        config_owner_hash: hash,
        authoritative_zone: zone.to_string(),
    })
}

/// Of the downtimes `sd` made (`owned`, by name), those to remove at
/// `now`: planned with options it no longer has and starting more than
/// five minutes later (so none is removed as it starts), as Icinga does.
pub fn obsolete<'a>(
    sd: &crate::ConfigObject,
    now: f64,
    owned: &[(&'a str, &Downtime)],
) -> Vec<&'a str> {
    let hash = options_hash(sd);
    owned
        .iter()
        .filter(|(_, d)| d.start_time > now + 300.0 && !planned_with(d, &hash))
        .map(|(name, _)| *name)
        .collect()
}

impl Operations {
    /// The downtimes the `ScheduledDowntime` named `sd` made here, by
    /// name.
    pub fn planned_by(&self, sd: &str) -> Vec<(&str, &Downtime)> {
        self.downtimes
            .iter()
            .filter(|(_, d)| d.scheduled_by == sd)
            .map(|(name, d)| (name.as_str(), d))
            .collect()
    }
}

/// Splits a checkable's full name into host and service ("" for hosts).
fn host_service(checkable: &str) -> (&str, &str) {
    checkable.split_once('!').unwrap_or((checkable, ""))
}

/// A runtime object as the API and event streams show it: named by its
/// last part, `__name` the full name, in the `_api` package.
/// Where a comment or downtime is declared: Icinga writes each in a file
/// of its own under the `_api` package's `conf.d` (`api_objects`), as
/// `object Comment "<uuid>" ignore_on_error { ... }`.
struct Origin<'a> {
    api_objects: &'a str,
    /// When it was made: its `version` until it is changed.
    created: f64,
}

fn runtime_object(
    schema: &'static crate::schema::TypeSchema,
    full_name: &str,
    checkable: &str,
    changed: Option<&Changed>,
    origin: Origin<'_>,
) -> std::sync::Arc<crate::ConfigObject> {
    use picket_lang::Value;
    let short = full_name.rsplit('!').next().unwrap_or(full_name);
    let object = crate::ConfigObject::new(schema, short);
    object.set_raw("__name", Value::from(full_name));
    object.set_raw("package", Value::from("_api"));
    object.push_template(&short.into());
    let (host, service) = host_service(checkable);
    object.set_raw("host_name", Value::from(host));
    object.set_raw("service_name", Value::from(service));
    let header = format!("object {} \"{short}\" ignore_on_error", schema.name);
    let span = picket_lang::source::Span {
        first_line: 1,
        last_line: 1,
        last_column: header.len().saturating_sub(1) as u32,
        ..Default::default()
    };
    let dir = schema.name.to_lowercase() + "s";
    let path = format!("{}/{dir}/{full_name}.conf", origin.api_objects);
    object.set_origin(span, path.into());
    object.set_version(changed.map_or(origin.created, |c| c.version));
    if let Some(changed) = changed {
        for (attribute, value) in &changed.original {
            object.record_original(attribute, value.to_value());
        }
    }
    object
}

/// A comment as a `Comment` object; `api_objects` is the `_api`
/// package's `conf.d`, where it is said to be declared.
pub fn comment_object(
    full_name: &str,
    checkable: &str,
    c: &Comment,
    changed: Option<&Changed>,
    api_objects: &str,
) -> std::sync::Arc<crate::ConfigObject> {
    use picket_lang::Value;
    let origin = Origin {
        api_objects,
        created: c.entry_time,
    };
    let o = runtime_object(
        &crate::types::COMMENT,
        full_name,
        checkable,
        changed,
        origin,
    );
    o.set_raw("author", Value::from(c.author.as_str()));
    o.set_raw("text", Value::from(c.text.as_str()));
    o.set_raw("entry_type", Value::Number(f64::from(c.entry_type)));
    o.set_raw("entry_time", Value::Number(c.entry_time));
    o.set_raw("expire_time", Value::Number(c.expire_time));
    o.set_raw("persistent", Value::Bool(c.persistent));
    o.set_raw("legacy_id", Value::Number(c.legacy_id as f64));
    o
}

/// A downtime as a `Downtime` object; `triggers` are the downtimes its
/// start starts; `api_objects` as for [`comment_object`].
pub fn downtime_object(
    full_name: &str,
    checkable: &str,
    d: &Downtime,
    triggers: Vec<String>,
    changed: Option<&Changed>,
    api_objects: &str,
) -> std::sync::Arc<crate::ConfigObject> {
    use picket_lang::{Array, Value};
    let origin = Origin {
        api_objects,
        created: d.entry_time,
    };
    let o = runtime_object(
        &crate::types::DOWNTIME,
        full_name,
        checkable,
        changed,
        origin,
    );
    o.set_raw("author", Value::from(d.author.as_str()));
    o.set_raw("comment", Value::from(d.comment.as_str()));
    o.set_raw("start_time", Value::Number(d.start_time));
    o.set_raw("end_time", Value::Number(d.end_time));
    o.set_raw("duration", Value::Number(d.duration));
    o.set_raw("fixed", Value::Bool(d.fixed));
    o.set_raw("triggered_by", Value::from(d.triggered_by.as_str()));
    o.set_raw("scheduled_by", Value::from(d.scheduled_by.as_str()));
    o.set_raw("config_owner", Value::from(d.scheduled_by.as_str()));
    o.set_raw(
        "config_owner_hash",
        Value::from(d.config_owner_hash.as_str()),
    );
    o.set_raw(
        "authoritative_zone",
        Value::from(d.authoritative_zone.as_str()),
    );
    o.set_raw("parent", Value::from(d.parent.as_str()));
    o.set_raw("entry_time", Value::Number(d.entry_time));
    o.set_raw("trigger_time", Value::Number(d.trigger_time));
    o.set_raw("legacy_id", Value::Number(d.legacy_id as f64));
    o.set_raw(
        "triggers",
        Value::Array(Array::new(
            triggers
                .into_iter()
                .map(|t| Value::from(t.as_str()))
                .collect(),
        )),
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(ops: &mut Operations, op: Operation) -> Result<Vec<OperationEvent>, Refusal> {
        let events = ops.decide(&op)?;
        for e in events.clone() {
            ops.apply(e);
        }
        Ok(events)
    }

    fn ack(sticky: bool, expiry: f64) -> Operation {
        Operation::Acknowledge {
            acknowledgement: Acknowledgement {
                author: "op".into(),
                comment: "c".into(),
                sticky,
                notify: false,
                persistent: false,
                expiry,
                set_time: 100.0,
                number: None,
            },
            comment_name: "h!s!a".into(),
            comment_legacy_id: 1,
        }
    }

    fn downtime(fixed: bool, start: f64, end: f64, duration: f64) -> Downtime {
        Downtime {
            author: "op".into(),
            comment: "c".into(),
            start_time: start,
            end_time: end,
            duration,
            fixed,
            triggered_by: String::new(),
            scheduled_by: String::new(),
            parent: String::new(),
            entry_time: 100.0,
            trigger_time: 0.0,
            legacy_id: 1,
            config_owner_hash: String::new(),
            authoritative_zone: String::new(),
        }
    }

    fn apply_all(ops: &mut Operations, list: Vec<Operation>) {
        for op in list {
            run(ops, op).unwrap();
        }
    }

    #[test]
    fn a_normal_acknowledgement_goes_with_any_change_a_sticky_one_on_recovery() {
        let mut ops = Operations::new("h!s");
        run(&mut ops, ack(false, 0.0)).unwrap();
        assert_eq!(ops.marks(0.0).acknowledgement, 1);
        assert_eq!(ops.comments["h!s!a"].entry_type, COMMENT_ACKNOWLEDGEMENT);
        assert!(ops.on_state(2, 2, 1.0).is_empty());
        let change = ops.on_state(2, 1, 1.0);
        apply_all(&mut ops, change);
        assert!(ops.acknowledgement.is_none() && ops.comments.is_empty());

        run(&mut ops, ack(true, 0.0)).unwrap();
        assert_eq!(
            run(&mut ops, ack(false, 0.0)),
            Err(Refusal::AlreadyAcknowledged {
                kind: "Service",
                name: "h!s".into()
            })
        );
        assert!(ops.on_state(2, 1, 1.0).is_empty());
        let recovery = ops.on_state(1, 0, 2.0);
        apply_all(&mut ops, recovery);
        assert_eq!(ops.marks(3.0).acknowledgement, 0);
        assert_eq!(ops.marks(3.0).acknowledgement_last_change, 2.0);
    }

    #[test]
    fn an_acknowledgement_expires() {
        let mut ops = Operations::new("h");
        run(&mut ops, ack(false, 500.0)).unwrap();
        assert!(ops.due(499.0).is_empty());
        let due = ops.due(500.0);
        // Its comment goes with it.
        assert_eq!(due.len(), 1, "{due:?}");
        apply_all(&mut ops, due);
        assert!(ops.is_empty());
    }

    fn fields(acknowledgement: Option<i32>, expiry: Option<f64>) -> Operation {
        Operation::SetAcknowledgementFields {
            fields: AcknowledgementFields {
                acknowledgement,
                expiry,
                last_change: None,
            },
            at: 50.0,
        }
    }

    #[test]
    fn acknowledgement_fields_set_directly_are_bare() {
        let mut ops = Operations::new("h!s");
        let events = run(&mut ops, fields(Some(2), None)).unwrap();
        assert_eq!(events.len(), 1);
        assert!(ops.comments.is_empty(), "no comment comes with it");
        let marks = ops.marks(60.0);
        assert_eq!(
            (marks.acknowledgement, marks.acknowledgement_last_change),
            (2, 0.0)
        );
        // A bare sticky one is still sticky.
        assert!(ops.on_state(2, 1, 60.0).is_empty());
        assert_eq!(ops.on_state(1, 0, 60.0).len(), 1);

        // Cleared, its expiry stays in the field; acknowledged again,
        // the acknowledgement takes it.
        run(&mut ops, fields(None, Some(900.0))).unwrap();
        run(&mut ops, fields(Some(0), None)).unwrap();
        assert_eq!(ops.marks(60.0).acknowledgement, 0);
        assert_eq!(ops.marks(60.0).acknowledgement_expiry, 900.0);
        assert!(!ops.is_empty());
        run(&mut ops, fields(Some(1), None)).unwrap();
        assert_eq!(ops.acknowledgement.as_ref().map(|a| a.expiry), Some(900.0));
        assert_eq!(ops.due(900.0).len(), 1, "and expires with it");

        // Any other number counts as acknowledged; no change takes it.
        run(&mut ops, fields(Some(5), None)).unwrap();
        assert_eq!(ops.marks(60.0).acknowledgement, 5);
        assert!(ops.on_state(2, 0, 60.0).is_empty());
    }

    #[test]
    fn a_result_takes_acknowledgement_comments_left_without_acknowledgement() {
        let mut ops = Operations::new("h!s");
        run(&mut ops, ack(false, 0.0)).unwrap();
        assert!(ops.on_result().is_empty(), "while acknowledged");
        run(&mut ops, fields(Some(0), None)).unwrap();
        assert_eq!(ops.comments.len(), 1, "the bare clear leaves it");
        let taken = ops.on_result();
        assert_eq!(taken.len(), 1);
        apply_all(&mut ops, taken);
        assert!(ops.is_empty());
    }

    #[test]
    fn a_fixed_downtime_counts_inside_its_window_only() {
        let mut ops = Operations::new("h");
        let events = run(
            &mut ops,
            Operation::ScheduleDowntime {
                name: "h!d".into(),
                downtime: downtime(true, 200.0, 300.0, 0.0),
            },
        )
        .unwrap();
        assert_eq!(events.len(), 1, "not started before its window");
        assert_eq!(ops.marks(250.0).downtime_depth, 0);
        let start = ops.due(200.0);
        apply_all(&mut ops, start);
        assert_eq!(ops.marks(250.0).downtime_depth, 1);
        assert_eq!(ops.marks(300.0).downtime_depth, 0);
        let end = ops.due(300.0);
        apply_all(&mut ops, end);
        assert!(ops.downtimes.is_empty());
    }

    #[test]
    fn a_flexible_downtime_starts_with_a_problem_and_lasts_its_duration() {
        let mut ops = Operations::new("h!s");
        run(
            &mut ops,
            Operation::ScheduleDowntime {
                name: "h!s!d".into(),
                downtime: downtime(false, 0.0, 1000.0, 60.0),
            },
        )
        .unwrap();
        assert!(ops.on_state(0, 0, 150.0).is_empty());
        assert!(ops.awaits_problem(150.0));
        let problem = ops.on_state(0, 2, 150.0);
        apply_all(&mut ops, problem);
        assert_eq!(ops.marks(200.0).downtime_depth, 1);
        assert!(ops.on_state(2, 2, 160.0).is_empty(), "starts once");
        assert_eq!(ops.marks(210.0).downtime_depth, 0);
        assert_eq!(ops.due(210.0).len(), 1);
    }

    #[test]
    fn a_flexible_downtime_made_during_a_problem_starts_when_the_problem_came() {
        let mut ops = Operations::new("h!s");
        let mut d = downtime(false, 0.0, 1000.0, 60.0);
        d.trigger_time = 90.0;
        let events = run(
            &mut ops,
            Operation::ScheduleDowntime {
                name: "h!s!d".into(),
                downtime: d,
            },
        )
        .unwrap();
        assert!(matches!(
            &events[..],
            [
                OperationEvent::DowntimeAdded { downtime, .. },
                OperationEvent::DowntimeTriggered { at, .. },
            ] if downtime.trigger_time == 0.0 && *at == 90.0
        ));
        assert_eq!(ops.marks(140.0).downtime_depth, 1);
        assert_eq!(
            ops.marks(150.0).downtime_depth,
            0,
            "over 60 s after the problem came"
        );
    }

    #[test]
    fn a_triggered_downtime_starts_with_its_parent() {
        let mut child = Operations::new("c");
        let mut d = downtime(true, 0.0, 1000.0, 0.0);
        d.triggered_by = "p!d".into();
        run(
            &mut child,
            Operation::ScheduleDowntime {
                name: "c!d".into(),
                downtime: d,
            },
        )
        .unwrap();
        assert!(child.due(150.0).is_empty(), "waits for its parent");
        let follow = child.triggered_by("p!d", 150.0);
        apply_all(&mut child, follow);
        assert_eq!(child.marks(200.0).downtime_depth, 1);
    }
}
