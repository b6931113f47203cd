//! Opening a store without knowing its aggregate type.
//!
//! A node starts before every crate that owns a store has opened it, and
//! tools read stores they know nothing about. [`Untyped`] accepts any
//! history and keeps no state, so running the ordinary startup with it
//! does everything startup does to the files (torn tails and snapshots
//! ahead of the log set aside, recovery when forced or needed) and reports
//! it, without building any state.

use std::fmt;

use serde::de::{Deserialize, Deserializer, IgnoredAny};
use serde::{Serialize, Serializer};

use crate::aggregate::{Aggregate, Describe};
use crate::record::CommandSummary;

/// Any state or event, read and dropped.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Untyped;

impl Serialize for Untyped {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for Untyped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Untyped, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Untyped)
    }
}

/// No command can be sent to an untyped store.
pub(crate) enum Never {}

impl Describe for Never {
    fn summary(&self) -> CommandSummary {
        match *self {}
    }
}

impl fmt::Display for Never {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl Aggregate for Untyped {
    type InitCommand = Never;
    type Command = Never;
    type InitEvent = Untyped;
    type Event = Untyped;
    type Error = Never;

    fn process_init(_: &str, command: &Never) -> Result<Untyped, Never> {
        match *command {}
    }

    fn init(_: &str, _: Untyped) -> Untyped {
        Untyped
    }

    fn process(&self, command: &Never) -> Result<Vec<Untyped>, Never> {
        match *command {}
    }

    fn apply(&mut self, _: Untyped) {}
}
