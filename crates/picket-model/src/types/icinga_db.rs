//! `IcingaDB`: the Icinga DB writer, through Redis (feature `icingadb`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static ICINGA_DB: TypeSchema = TypeSchema {
    name: "IcingaDB",
    plural: "IcingaDBs",
    fields: &[
        F::new("ca_path", K::String, D::Str("")),
        F::new("cert_path", K::String, D::Str("")),
        F::new(
            "cipher_list",
            K::String,
            D::Str(concat!(
                "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:",
                "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:",
                "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:",
                "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:",
                "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:",
                "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:",
                "AES256-GCM-SHA384:AES128-GCM-SHA256"
            )),
        ),
        F::new("connect_timeout", K::Number, D::Number(15.0)),
        F::new("crl_path", K::String, D::Str("")),
        F::new("db_index", K::Integer, D::Number(0.0)),
        F::new("enable_tls", K::Bool, D::Bool(false)),
        F::new("host", K::String, D::Str("127.0.0.1")),
        F::new("insecure_noverify", K::Bool, D::Bool(false)),
        F::new("key_path", K::String, D::Str("")),
        F::new("password", K::String, D::Str("")),
        F::new("path", K::String, D::Str("")),
        F::new("port", K::Integer, D::Number(6380.0)),
        F::new("tls_protocolmin", K::String, D::Str("TLSv1.2")),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
