//! `IdoMysqlConnection`: the IDO database writer for MySQL (feature
//! `ido-mysql`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static IDO_MYSQL_CONNECTION: TypeSchema = TypeSchema {
    name: "IdoMysqlConnection",
    plural: "IdoMysqlConnections",
    fields: &[
        F::new(
            "categories",
            K::Array,
            D::Derived(concat!(
                "json:[\"DbCatConfig\",\"DbCatState\",\"DbCatAcknowledgement\",",
                "\"DbCatComment\",\"DbCatDowntime\",\"DbCatEventHandler\",",
                "\"DbCatFlapping\",\"DbCatNotification\",\"DbCatProgramStatus\",",
                "\"DbCatRetention\",\"DbCatStateHistory\"]"
            )),
        ),
        // Required: null is refused, the default {} is fine.
        F::new("cleanup", K::Dictionary, D::EmptyDictionary).required(),
        F::new("database", K::String, D::Str("icinga")),
        F::new("enable_ha", K::Bool, D::Bool(true)),
        F::new("enable_ssl", K::Bool, D::Bool(false)),
        F::new("failover_timeout", K::Number, D::Number(30.0)),
        F::new("host", K::String, D::Str("localhost")),
        F::new("instance_description", K::String, D::Str("")),
        F::new("instance_name", K::String, D::Str("default")),
        F::new("password", K::String, D::Str("icinga")),
        F::new("port", K::Integer, D::Number(3306.0)),
        F::new("socket_path", K::String, D::Str("")),
        F::new("ssl_ca", K::String, D::Str("")),
        F::new("ssl_capath", K::String, D::Str("")),
        F::new("ssl_cert", K::String, D::Str("")),
        F::new("ssl_cipher", K::String, D::Str("")),
        F::new("ssl_key", K::String, D::Str("")),
        F::new("table_prefix", K::String, D::Str("icinga_")),
        F::new("user", K::String, D::Str("icinga")),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
