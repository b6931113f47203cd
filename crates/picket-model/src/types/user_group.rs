//! `UserGroup`: a group of users.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static USER_GROUP: TypeSchema = TypeSchema {
    name: "UserGroup",
    plural: "UserGroups",
    fields: &[
        F::new("display_name", K::String, D::Derived("name")),
        F::new("groups", K::Array, D::Null).refers_to("UserGroup"),
        F::new("vars", K::Dictionary, D::Null),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: Some("User"),
};
