//! `LivestatusListener`: the Livestatus query socket (feature `livestatus`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static LIVESTATUS_LISTENER: TypeSchema = TypeSchema {
    name: "LivestatusListener",
    plural: "LivestatusListeners",
    fields: &[
        F::new("bind_host", K::String, D::Str("127.0.0.1")),
        // A string in Icinga: `port = 2003` is stored as "2003".
        F::new("bind_port", K::String, D::Str("6558")),
        F::new(
            "compat_log_path",
            K::String,
            D::Derived("path:LogDir/compat"),
        ),
        F::new(
            "socket_path",
            K::String,
            D::Derived("path:InitRunDir/cmd/livestatus"),
        ),
        F::new("socket_type", K::String, D::Str("unix")),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
