//! `OpenTsdbWriter`: sends performance data to OpenTSDB (feature `opentsdb`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static OPEN_TSDB_WRITER: TypeSchema = TypeSchema {
    name: "OpenTsdbWriter",
    plural: "OpenTsdbWriters",
    fields: &[
        F::new("enable_generic_metrics", K::Bool, D::Bool(false)),
        F::new("enable_ha", K::Bool, D::Bool(false)),
        F::new("host", K::String, D::Str("127.0.0.1")),
        // Setting it to null crashes Icinga 2.13.6 (SIGABRT) instead of failing validation.
        F::new("host_template", K::Dictionary, D::EmptyDictionary),
        // A string in Icinga: `port = 2003` is stored as "2003".
        F::new("port", K::String, D::Str("4242")),
        // Setting it to null crashes Icinga 2.13.6 (SIGABRT) instead of failing validation.
        F::new("service_template", K::Dictionary, D::EmptyDictionary),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
