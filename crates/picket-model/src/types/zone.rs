//! `Zone`: a group of endpoints, arranged in a tree by `parent`.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static ZONE: TypeSchema = TypeSchema {
    name: "Zone",
    plural: "Zones",
    fields: &[
        F::new("endpoints", K::Array, D::Null).refers_to("Endpoint"),
        F::new("global", K::Bool, D::Bool(false)),
        F::new("parent", K::String, D::Str("")).refers_to("Zone"),
    ],
    load_after: &["Endpoint"],
    apply_targets: &[],
    group_member: None,
};
