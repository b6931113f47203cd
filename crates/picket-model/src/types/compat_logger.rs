//! `CompatLogger`: writes Icinga 1.x compatible log files (feature
//! `compatlog`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static COMPAT_LOGGER: TypeSchema = TypeSchema {
    name: "CompatLogger",
    plural: "CompatLoggers",
    fields: &[
        F::new("log_dir", K::String, D::Derived("path:LogDir/compat")),
        F::new("rotation_method", K::String, D::Str("HOURLY")),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
