//! `ServiceGroup`: a group of services.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static SERVICE_GROUP: TypeSchema = TypeSchema {
    name: "ServiceGroup",
    plural: "ServiceGroups",
    fields: &[
        F::new("action_url", K::String, D::Str("")),
        F::new("display_name", K::String, D::Derived("name")),
        F::new("groups", K::Array, D::Null).refers_to("ServiceGroup"),
        F::new("notes", K::String, D::Str("")),
        F::new("notes_url", K::String, D::Str("")),
        F::new("vars", K::Dictionary, D::Null),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: Some("Service"),
};
