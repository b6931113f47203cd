//! `TimePeriod`: a set of time ranges.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static TIME_PERIOD: TypeSchema = TypeSchema {
    name: "TimePeriod",
    plural: "TimePeriods",
    fields: &[
        F::new("display_name", K::String, D::Derived("name")),
        // Required: null is refused, the default [] is fine.
        F::new("excludes", K::Array, D::EmptyArray)
            .required()
            .refers_to("TimePeriod"),
        // Required: null is refused, the default [] is fine.
        F::new("includes", K::Array, D::EmptyArray)
            .required()
            .refers_to("TimePeriod"),
        F::new("prefer_includes", K::Bool, D::Bool(true)),
        F::new("ranges", K::Dictionary, D::Null),
        // Set by the default template `legacy-timeperiod` (builtin.conf), not by the type.
        F::new("update", K::Function, D::Null).required(),
        F::new("vars", K::Dictionary, D::Null),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
