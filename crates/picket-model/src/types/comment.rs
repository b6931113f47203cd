//! `Comment`: a comment on a host or service (normally created at runtime);
//! named `host!name` or `host!service!name`.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static COMMENT: TypeSchema = TypeSchema {
    name: "Comment",
    plural: "Comments",
    fields: &[
        F::new("author", K::String, D::Str("")).required(),
        F::new("entry_time", K::Timestamp, D::Derived("now")),
        F::new("entry_type", K::Integer, D::Number(1.0)),
        F::new("expire_time", K::Timestamp, D::Number(0.0)),
        F::new("host_name", K::String, D::Str(""))
            .required()
            .refers_to("Host"),
        // State: a number per comment for the old interfaces.
        F::new("legacy_id", K::Integer, D::Number(0.0)),
        F::new("persistent", K::Bool, D::Bool(false)),
        F::new("service_name", K::String, D::Str("")),
        // Internal.
        F::new("sticky", K::Bool, D::Bool(false)),
        F::new("text", K::String, D::Str("")).required(),
    ],
    load_after: &["Host", "Service", "Zone"],
    apply_targets: &[],
    group_member: None,
};
