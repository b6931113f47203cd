//! `StatusDataWriter`: writes Icinga 1.x `status.dat` and `objects.cache`
//! (feature `statusdata`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static STATUS_DATA_WRITER: TypeSchema = TypeSchema {
    name: "StatusDataWriter",
    plural: "StatusDataWriters",
    fields: &[
        F::new(
            "objects_path",
            K::String,
            D::Derived("path:CacheDir/objects.cache"),
        ),
        F::new(
            "status_path",
            K::String,
            D::Derived("path:CacheDir/status.dat"),
        ),
        F::new("update_interval", K::Number, D::Number(15.0)),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
