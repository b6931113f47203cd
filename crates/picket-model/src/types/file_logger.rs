//! `FileLogger`: writes the log to a file (features `mainlog`, `debuglog`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static FILE_LOGGER: TypeSchema = TypeSchema {
    name: "FileLogger",
    plural: "FileLoggers",
    fields: &[
        F::new("path", K::String, D::Str("")).required(),
        F::new("severity", K::String, D::Str("information")),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
