//! `User`: someone who receives notifications.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static USER: TypeSchema = TypeSchema {
    name: "User",
    plural: "Users",
    fields: &[
        F::new("display_name", K::String, D::Derived("name")),
        F::new("email", K::String, D::Str("")),
        F::new("enable_notifications", K::Bool, D::Bool(true)),
        // Required: null is refused, the default [] is fine.
        F::new("groups", K::Array, D::EmptyArray)
            .required()
            .refers_to("UserGroup"),
        F::new("pager", K::String, D::Str("")),
        F::new("period", K::String, D::Str("")).refers_to("TimePeriod"),
        F::new("states", K::Array, D::Null),
        F::new("types", K::Array, D::Null),
        F::new("vars", K::Dictionary, D::Null),
    ],
    load_after: &["UserGroup", "TimePeriod", "Zone"],
    apply_targets: &[],
    group_member: None,
};
