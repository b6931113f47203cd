//! `ElasticsearchWriter`: sends check results to Elasticsearch (feature
//! `elasticsearch`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static ELASTICSEARCH_WRITER: TypeSchema = TypeSchema {
    name: "ElasticsearchWriter",
    plural: "ElasticsearchWriters",
    fields: &[
        F::new("ca_path", K::String, D::Str("")),
        F::new("cert_path", K::String, D::Str("")),
        F::new("enable_ha", K::Bool, D::Bool(false)),
        F::new("enable_send_perfdata", K::Bool, D::Bool(false)),
        F::new("enable_tls", K::Bool, D::Bool(false)),
        F::new("flush_interval", K::Integer, D::Number(10.0)),
        F::new("flush_threshold", K::Integer, D::Number(1024.0)),
        F::new("host", K::String, D::Str("127.0.0.1")).required(),
        F::new("index", K::String, D::Str("icinga2")).required(),
        F::new("insecure_noverify", K::Bool, D::Bool(false)),
        F::new("key_path", K::String, D::Str("")),
        F::new("password", K::String, D::Str("")),
        // A string in Icinga: `port = 2003` is stored as "2003".
        F::new("port", K::String, D::Str("9200")).required(),
        F::new("username", K::String, D::Str("")),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
