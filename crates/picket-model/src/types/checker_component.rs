//! `CheckerComponent`: the check scheduler (feature `checker`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static CHECKER_COMPONENT: TypeSchema = TypeSchema {
    name: "CheckerComponent",
    plural: "CheckerComponents",
    fields: &[
        // Integer: fractions are cut off (2.7 becomes 2).
        // Deprecated; not taken from MaxConcurrentChecks.
        F::new("concurrent_checks", K::Number, D::Number(0.0)),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
