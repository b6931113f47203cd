//! `GelfWriter`: sends events to a GELF receiver such as Graylog (feature
//! `gelf`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static GELF_WRITER: TypeSchema = TypeSchema {
    name: "GelfWriter",
    plural: "GelfWriters",
    fields: &[
        F::new("ca_path", K::String, D::Str("")),
        F::new("cert_path", K::String, D::Str("")),
        F::new("enable_ha", K::Bool, D::Bool(false)),
        F::new("enable_send_perfdata", K::Bool, D::Bool(false)),
        F::new("enable_tls", K::Bool, D::Bool(false)),
        F::new("host", K::String, D::Str("127.0.0.1")),
        F::new("insecure_noverify", K::Bool, D::Bool(false)),
        F::new("key_path", K::String, D::Str("")),
        // A string in Icinga: `port = 2003` is stored as "2003".
        F::new("port", K::String, D::Str("12201")),
        F::new("source", K::String, D::Str("icinga2")),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
