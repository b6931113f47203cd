//! `ApiUser`: a user of the REST API.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static API_USER: TypeSchema = TypeSchema {
    name: "ApiUser",
    plural: "ApiUsers",
    fields: &[
        F::new("client_cn", K::String, D::Str("")),
        F::new("password", K::String, D::Str("")),
        // Deprecated.
        F::new("password_hash", K::String, D::Str("")),
        F::new("permissions", K::Array, D::Null),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
