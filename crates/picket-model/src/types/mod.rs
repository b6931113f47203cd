//! Temporary table (replaced by the full one).
mod host;
use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};
pub use host::HOST;

pub static CHECK_COMMAND: TypeSchema = TypeSchema {
    name: "CheckCommand",
    plural: "CheckCommands",
    fields: &[
        F::new("arguments", K::Any, D::Null),
        F::new("command", K::Any, D::Null),
        F::new("env", K::Dictionary, D::Null),
        F::new("execute", K::Function, D::Null),
        F::new("timeout", K::Number, D::Number(60.0)),
        F::new("vars", K::Dictionary, D::Null),
    ],
    load_after: &[],
    apply_targets: &[],
    group_member: None,
};
pub static ICINGA_APPLICATION: TypeSchema = TypeSchema {
    name: "IcingaApplication",
    plural: "IcingaApplications",
    fields: &[F::new("vars", K::Dictionary, D::Null)],
    load_after: &[],
    apply_targets: &[],
    group_member: None,
};
pub static SERVICE: TypeSchema = TypeSchema {
    name: "Service",
    plural: "Services",
    fields: &[
        F::new("check_command", K::String, D::Str(""))
            .required()
            .refers_to("CheckCommand"),
        F::new("host_name", K::String, D::Str(""))
            .required()
            .refers_to("Host"),
        F::new("vars", K::Dictionary, D::Null),
    ],
    load_after: &["Host", "CheckCommand"],
    apply_targets: &["Host"],
    group_member: None,
};
pub static ALL: &[&TypeSchema] = &[&HOST, &CHECK_COMMAND, &ICINGA_APPLICATION, &SERVICE];
