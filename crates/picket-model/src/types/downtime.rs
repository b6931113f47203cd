//! `Downtime`: a downtime of a host or service (normally created at runtime);
//! named `host!name` or `host!service!name`.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static DOWNTIME: TypeSchema = TypeSchema {
    name: "Downtime",
    plural: "Downtimes",
    fields: &[
        F::new("author", K::String, D::Str("")).required(),
        F::new("authoritative_zone", K::String, D::Str("")),
        F::new("comment", K::String, D::Str("")).required(),
        F::new("config_owner", K::String, D::Str("")),
        F::new("config_owner_hash", K::String, D::Str("")),
        // A Timestamp field in Icinga (unlike ScheduledDowntime.duration).
        F::new("duration", K::Timestamp, D::Number(0.0)),
        F::new("end_time", K::Timestamp, D::Number(0.0)),
        F::new("entry_time", K::Timestamp, D::Derived("now")),
        // False here, true for ScheduledDowntime.
        F::new("fixed", K::Bool, D::Bool(false)),
        F::new("host_name", K::String, D::Str(""))
            .required()
            .refers_to("Host"),
        // State: a number per downtime for the old interfaces.
        F::new("legacy_id", K::Integer, D::Number(0.0)),
        F::new("parent", K::String, D::Str("")),
        F::new("remove_time", K::Timestamp, D::Number(0.0)),
        F::new("scheduled_by", K::String, D::Str("")),
        F::new("service_name", K::String, D::Str("")),
        F::new("start_time", K::Timestamp, D::Number(0.0)),
        // State: when it started (0 until then) and which downtimes its
        // start starts.
        F::new("trigger_time", K::Timestamp, D::Number(0.0)),
        F::new("triggered_by", K::String, D::Str("")),
        F::new("triggers", K::Array, D::EmptyArray),
        F::new("was_cancelled", K::Bool, D::Bool(false)),
    ],
    load_after: &["Host", "Service", "Zone"],
    apply_targets: &[],
    group_member: None,
};
