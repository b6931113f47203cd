//! `Influxdb2Writer`: sends performance data to InfluxDB 2.x (feature
//! `influxdb2`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static INFLUXDB2_WRITER: TypeSchema = TypeSchema {
    name: "Influxdb2Writer",
    plural: "Influxdb2Writers",
    fields: &[
        F::new("auth_token", K::String, D::Str("")).required(),
        F::new("bucket", K::String, D::Str("")).required(),
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
        F::new("organization", K::String, D::Str("")).required(),
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
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
