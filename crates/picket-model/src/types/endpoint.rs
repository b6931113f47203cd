//! `Endpoint`: an Icinga instance of the cluster (this node or a peer).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static ENDPOINT: TypeSchema = TypeSchema {
    name: "Endpoint",
    plural: "Endpoints",
    fields: &[
        F::new("host", K::String, D::Str("")),
        F::new("log_duration", K::Number, D::Number(86400.0)),
        // A string in Icinga: `port = 2003` is stored as "2003".
        F::new("port", K::String, D::Str("5665")).required(),
    ],
    load_after: &[],
    apply_targets: &[],
    group_member: None,
};
