//! `SyslogLogger`: writes the log to syslog (feature `syslog`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static SYSLOG_LOGGER: TypeSchema = TypeSchema {
    name: "SyslogLogger",
    plural: "SyslogLoggers",
    fields: &[
        // The value of the FacilityUser constant.
        F::new("facility", K::String, D::Str("LOG_USER")),
        F::new("severity", K::String, D::Str("information")),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
