//! `CheckerComponent`: the check scheduler (feature `checker`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static CHECKER_COMPONENT: TypeSchema = TypeSchema {
    name: "CheckerComponent",
    plural: "CheckerComponents",
    fields: &[
        // Deprecated; not taken from MaxConcurrentChecks.
        F::new("concurrent_checks", K::Integer, D::Number(0.0)),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
