//! The stored command record: who asked for what, when, at which version,
//! and what came of it (the events, or the reason it was refused).
//!
//! Records are JSON so that history stays readable by operators and by tools
//! that do not know an aggregate's types (`picket store history`), framed and
//! checksummed by [`crate::frame`].

use std::borrow::Cow;
use std::fmt;

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::chain::Hash;

/// Who issued a command. There is deliberately no default: every command
/// names its actor, so an internal action is never recorded as an
/// operator's, or the reverse. By convention `user:NAME` for API users,
/// `node:NAME` for cluster peers and `system:WHAT` for the node itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Actor(String);

impl Actor {
    pub fn new(name: impl Into<String>) -> Actor {
        Actor(name.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

pub fn now_millis() -> Millis {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    now.as_millis() as Millis
}

/// What a command asked for, in the form that is written to disk: a label
/// and arguments. Commands may carry secrets (keys, CSRs, passwords) that
/// must never reach the history; their summary leaves them out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CommandSummary {
    pub label: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub args: Map<String, Value>,
}

impl CommandSummary {
    pub fn new(label: impl Into<String>) -> CommandSummary {
        CommandSummary {
            label: label.into(),
            args: Map::new(),
        }
    }

    /// Adds an argument; a value that cannot be represented as JSON is
    /// recorded as `null` rather than failing the command.
    pub fn arg(mut self, name: &str, value: impl Serialize) -> CommandSummary {
        let v = serde_json::to_value(value).unwrap_or(Value::Null);
        self.args.insert(name.to_string(), v);
        self
    }
}

impl fmt::Display for CommandSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)?;
        for (k, v) in &self.args {
            match v {
                Value::String(s) => write!(f, " {k}={s}")?,
                other => write!(f, " {k}={other}")?,
            }
        }
        Ok(())
    }
}

/// What a command did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect<I = Value, E = Value> {
    /// The aggregate was created with this event (version 0).
    Init(I),
    /// The command was accepted and produced these events.
    Events(Vec<E>),
    /// The command was refused for this reason; the state did not change.
    Error(String),
}

/// A record as written: borrowed, so that events are serialised without a
/// copy before they are applied.
#[derive(Serialize)]
pub(crate) struct RecordRef<'a, I: Serialize, E: Serialize> {
    pub id: &'a str,
    pub version: u64,
    pub prev: &'a Hash,
    pub time: Millis,
    pub actor: &'a Actor,
    pub command: &'a CommandSummary,
    pub effect: EffectRef<'a, I, E>,
}

#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum EffectRef<'a, I: Serialize, E: Serialize> {
    Init(&'a I),
    Events(&'a [E]),
    Error(&'a str),
}

/// A record as replayed: only what rebuilding the state needs, so startup
/// does not build the command summary it never looks at.
#[derive(Deserialize)]
#[serde(bound(deserialize = "I: Deserialize<'de>, E: Deserialize<'de>"))]
pub(crate) struct ReplayRecord<'a, I, E> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    pub version: u64,
    pub prev: Hash,
    #[allow(dead_code)]
    pub time: IgnoredAny,
    #[allow(dead_code)]
    pub actor: IgnoredAny,
    #[allow(dead_code)]
    pub command: IgnoredAny,
    pub effect: ReplayEffect<I, E>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ReplayEffect<I, E> {
    Init(I),
    Events(Vec<E>),
    Error(IgnoredAny),
}

/// A record read without knowing the aggregate's types: for history,
/// verification, backup and migration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub version: u64,
    pub prev: Hash,
    pub time: Millis,
    pub actor: Actor,
    pub command: CommandSummary,
    pub effect: Effect,
}

/// Only the fields that identify a record, for scans that check chains.
#[derive(Deserialize)]
pub(crate) struct RecordKey<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    pub version: u64,
    pub prev: Hash,
    pub time: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_and_generic_forms_agree() {
        let summary = CommandSummary::new("acknowledge")
            .arg("author", "root")
            .arg("sticky", true);
        let prev = Hash::of_record(b"p");
        let actor = Actor::new("user:root");
        let events = vec![serde_json::json!({"set": 1})];
        let out = RecordRef::<Value, Value> {
            id: "h!s",
            version: 3,
            prev: &prev,
            time: 1_700_000_000_000,
            actor: &actor,
            command: &summary,
            effect: EffectRef::Events(&events),
        };
        let bytes = serde_json::to_vec(&out).unwrap();
        let back: Record = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back.id, "h!s");
        assert_eq!(back.effect, Effect::Events(events));
        assert_eq!(
            back.command.to_string(),
            "acknowledge author=root sticky=true"
        );
        // The generic form writes the very same bytes, so tools that rewrite
        // records (migration) keep their hashes stable.
        assert_eq!(serde_json::to_vec(&back).unwrap(), bytes);
        let replay: ReplayRecord<Value, Value> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(replay.version, 3);
        assert_eq!(replay.prev, prev);
    }
}
