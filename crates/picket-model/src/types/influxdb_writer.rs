//! `InfluxdbWriter`: sends performance data to InfluxDB 1.x (feature
//! `influxdb`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static INFLUXDB_WRITER: TypeSchema = TypeSchema {
    name: "InfluxdbWriter",
    plural: "InfluxdbWriters",
    fields: &[
        F::new("basic_auth", K::Dictionary, D::Null),
        F::new("database", K::String, D::Str("icinga2")).required(),
        F::new("enable_ha", K::Bool, D::Bool(false)),
        F::new("enable_send_metadata", K::Bool, D::Bool(false)),
        F::new("enable_send_thresholds", K::Bool, D::Bool(false)),
        F::new("flush_interval", K::Integer, D::Number(10.0)),
        F::new("flush_threshold", K::Integer, D::Number(1024.0)),
        F::new("host", K::String, D::Str("127.0.0.1")).required(),
        F::new(
            "host_template",
            K::Dictionary,
            D::Derived(concat!(
                "json:{\"measurement\":\"$host.check_command$\",",
                "\"tags\":{\"hostname\":\"$host.name$\"}}"
            )),
        )
        .required(),
        F::new("password", K::String, D::Str("")),
        // A string in Icinga: `port = 2003` is stored as "2003".
        F::new("port", K::String, D::Str("8086")).required(),
        F::new(
            "service_template",
            K::Dictionary,
            D::Derived(concat!(
                "json:{\"measurement\":\"$service.check_command$\",",
                "\"tags\":{\"hostname\":\"$host.name$\",\"service\":",
                "\"$service.name$\"}}"
            )),
        )
        .required(),
        F::new("ssl_ca_cert", K::String, D::Str("")),
        F::new("ssl_cert", K::String, D::Str("")),
        F::new("ssl_enable", K::Bool, D::Bool(false)),
        F::new("ssl_insecure_noverify", K::Bool, D::Bool(false)),
        F::new("ssl_key", K::String, D::Str("")),
        F::new("username", K::String, D::Str("")),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
