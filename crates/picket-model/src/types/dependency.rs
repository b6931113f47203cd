//! `Dependency`: a parent host or service whose failure suppresses checks or
//! notifications of a child; named after the child (`host!name`,
//! `host!service!name`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static DEPENDENCY: TypeSchema = TypeSchema {
    name: "Dependency",
    plural: "Dependencies",
    fields: &[
        F::new("child_host_name", K::String, D::Str(""))
            .required()
            .refers_to("Host"),
        F::new("child_service_name", K::String, D::Str("")),
        F::new("disable_checks", K::Bool, D::Bool(false)),
        F::new("disable_notifications", K::Bool, D::Bool(true)),
        F::new("ignore_soft_states", K::Bool, D::Bool(true)),
        F::new("parent_host_name", K::String, D::Str(""))
            .required()
            .refers_to("Host"),
        F::new("parent_service_name", K::String, D::Str("")),
        F::new("period", K::String, D::Str("")).refers_to("TimePeriod"),
        F::new("states", K::Array, D::Null),
        F::new("vars", K::Dictionary, D::Null),
    ],
    load_after: &["Host", "Service", "TimePeriod", "Zone"],
    apply_targets: &["Host", "Service"],
    group_member: None,
};
