//! `Host`: a checkable machine or device.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static HOST: TypeSchema = TypeSchema {
    name: "Host",
    plural: "Hosts",
    fields: &[
        F::new("action_url", K::String, D::Str("")),
        F::new("address", K::String, D::Str("")),
        F::new("address6", K::String, D::Str("")),
        F::new("check_command", K::String, D::Str(""))
            .required()
            .refers_to("CheckCommand"),
        F::new("check_interval", K::Number, D::Number(300.0)),
        F::new("check_period", K::String, D::Str("")).refers_to("TimePeriod"),
        F::new("check_timeout", K::Any, D::Null),
        F::new("command_endpoint", K::String, D::Str("")).refers_to("Endpoint"),
        F::new("display_name", K::String, D::Derived("name")),
        F::new("enable_active_checks", K::Bool, D::Bool(true)),
        F::new("enable_event_handler", K::Bool, D::Bool(true)),
        F::new("enable_flapping", K::Bool, D::Bool(false)),
        F::new("enable_notifications", K::Bool, D::Bool(true)),
        F::new("enable_passive_checks", K::Bool, D::Bool(true)),
        F::new("enable_perfdata", K::Bool, D::Bool(true)),
        F::new("event_command", K::String, D::Str("")).refers_to("EventCommand"),
        F::new("flapping_ignore_states", K::Array, D::Null),
        F::new("flapping_threshold", K::Number, D::Number(0.0)),
        F::new("flapping_threshold_high", K::Number, D::Number(30.0)),
        F::new("flapping_threshold_low", K::Number, D::Number(25.0)),
        F::new("groups", K::Array, D::EmptyArray)
            .required()
            .refers_to("HostGroup"),
        F::new("icon_image", K::String, D::Str("")),
        F::new("icon_image_alt", K::String, D::Str("")),
        F::new("max_check_attempts", K::Integer, D::Number(3.0)),
        F::new("notes", K::String, D::Str("")),
        F::new("notes_url", K::String, D::Str("")),
        F::new("retry_interval", K::Number, D::Number(60.0)),
        F::new("vars", K::Dictionary, D::Null),
        F::new("volatile", K::Bool, D::Bool(false)),
    ],
    load_after: &[
        "HostGroup",
        "CheckCommand",
        "EventCommand",
        "TimePeriod",
        "Endpoint",
        "Zone",
    ],
    apply_targets: &[],
    group_member: None,
};
