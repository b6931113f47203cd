//! `ApiListener`: the cluster and REST API listener (feature `api`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static API_LISTENER: TypeSchema = TypeSchema {
    name: "ApiListener",
    plural: "ApiListeners",
    fields: &[
        F::new("accept_commands", K::Bool, D::Bool(false)),
        F::new("accept_config", K::Bool, D::Bool(false)),
        // Deprecated.
        F::new("access_control_allow_credentials", K::Bool, D::Bool(false)),
        // Deprecated.
        F::new("access_control_allow_headers", K::String, D::Str("")),
        // Deprecated.
        F::new("access_control_allow_methods", K::String, D::Str("")),
        F::new("access_control_allow_origin", K::Array, D::Null),
        F::new("bind_host", K::String, D::Derived("const:ApiBindHost|::")),
        // A string in Icinga: `port = 2003` is stored as "2003".
        F::new("bind_port", K::String, D::Derived("const:ApiBindPort|5665")),
        // Deprecated.
        F::new("ca_path", K::String, D::Str("")),
        // Deprecated.
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
        // Deprecated.
        F::new("key_path", K::String, D::Str("")),
        F::new("max_anonymous_clients", K::Integer, D::Number(-1.0)),
        // Not taken from the TicketSalt constant; the feature file assigns it.
        F::new("ticket_salt", K::String, D::Str("")),
        // Deprecated.
        F::new("tls_handshake_timeout", K::Number, D::Number(10.0)),
        F::new("tls_protocolmin", K::String, D::Str("TLSv1.2")),
    ],
    load_after: &["Endpoint", "Zone"],
    apply_targets: &[],
    group_member: None,
};
