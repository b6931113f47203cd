//! `Notification`: who is told about a host or service, how and when; named
//! `host!name` or `host!service!name`.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static NOTIFICATION: TypeSchema = TypeSchema {
    name: "Notification",
    plural: "Notifications",
    fields: &[
        F::new("command", K::String, D::Str(""))
            .required()
            .refers_to("NotificationCommand"),
        F::new("command_endpoint", K::String, D::Str("")).refers_to("Endpoint"),
        F::new("host_name", K::String, D::Str(""))
            .required()
            .refers_to("Host"),
        F::new("interval", K::Number, D::Number(1800.0)),
        F::new("period", K::String, D::Str("")).refers_to("TimePeriod"),
        F::new("service_name", K::String, D::Str("")),
        F::new("states", K::Array, D::Null),
        F::new("times", K::Dictionary, D::Null),
        F::new("types", K::Array, D::Null),
        // Users or user_groups must name someone (see NOTES.md).
        F::new("user_groups", K::Array, D::Null).refers_to("UserGroup"),
        // Users or user_groups must name someone (see NOTES.md).
        F::new("users", K::Array, D::Null).refers_to("User"),
        F::new("vars", K::Dictionary, D::Null),
    ],
    load_after: &[
        "Host",
        "Service",
        "User",
        "UserGroup",
        "NotificationCommand",
        "TimePeriod",
        "Endpoint",
        "Zone",
    ],
    apply_targets: &["Host", "Service"],
    group_member: None,
};
