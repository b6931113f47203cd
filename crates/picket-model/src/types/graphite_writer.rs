//! `GraphiteWriter`: sends performance data to Graphite (feature `graphite`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static GRAPHITE_WRITER: TypeSchema = TypeSchema {
    name: "GraphiteWriter",
    plural: "GraphiteWriters",
    fields: &[
        F::new("enable_ha", K::Bool, D::Bool(false)),
        F::new("enable_send_metadata", K::Bool, D::Bool(false)),
        F::new("enable_send_thresholds", K::Bool, D::Bool(false)),
        F::new("host", K::String, D::Str("127.0.0.1")),
        F::new(
            "host_name_template",
            K::String,
            D::Str("icinga2.$host.name$.host.$host.check_command$"),
        ),
        // A string in Icinga: `port = 2003` is stored as "2003".
        F::new("port", K::String, D::Str("2003")),
        F::new(
            "service_name_template",
            K::String,
            D::Str("icinga2.$host.name$.services.$service.name$.$service.check_command$"),
        ),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
