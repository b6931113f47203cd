//! `ScheduledDowntime`: a recurring downtime of a host or service; named
//! `host!name` or `host!service!name`.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static SCHEDULED_DOWNTIME: TypeSchema = TypeSchema {
    name: "ScheduledDowntime",
    plural: "ScheduledDowntimes",
    fields: &[
        F::new("author", K::String, D::Str("")).required(),
        // Any value: "DowntimeNoChildren", "DowntimeTriggeredChildren",
        // "DowntimeNonTriggeredChildren" or 0, 1, 2.
        F::new("child_options", K::Any, D::Str("DowntimeNoChildren")),
        F::new("comment", K::String, D::Str("")).required(),
        F::new("duration", K::Number, D::Number(0.0)),
        F::new("fixed", K::Bool, D::Bool(true)),
        F::new("host_name", K::String, D::Str(""))
            .required()
            .refers_to("Host"),
        F::new("ranges", K::Dictionary, D::Null).required(),
        F::new("service_name", K::String, D::Str("")),
        F::new("vars", K::Dictionary, D::Null),
    ],
    load_after: &["Host", "Service", "Zone"],
    apply_targets: &["Host", "Service"],
    group_member: None,
};
