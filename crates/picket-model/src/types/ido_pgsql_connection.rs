//! `IdoPgsqlConnection`: the IDO database writer for PostgreSQL (feature
//! `ido-pgsql`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static IDO_PGSQL_CONNECTION: TypeSchema = TypeSchema {
    name: "IdoPgsqlConnection",
    plural: "IdoPgsqlConnections",
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
        F::new("failover_timeout", K::Number, D::Number(30.0)),
        F::new("host", K::String, D::Str("localhost")),
        F::new("instance_description", K::String, D::Str("")),
        F::new("instance_name", K::String, D::Str("default")),
        F::new("password", K::String, D::Str("icinga")),
        // A string in Icinga: `port = 2003` is stored as "2003".
        F::new("port", K::String, D::Str("5432")),
        F::new("ssl_ca", K::String, D::Str("")),
        F::new("ssl_cert", K::String, D::Str("")),
        F::new("ssl_key", K::String, D::Str("")),
        F::new("ssl_mode", K::String, D::Str("")),
        F::new("table_prefix", K::String, D::Str("icinga_")),
        F::new("user", K::String, D::Str("icinga")),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
