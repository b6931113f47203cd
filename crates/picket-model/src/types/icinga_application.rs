//! `IcingaApplication`: the application object `app` (created when the
//! configuration has none).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static ICINGA_APPLICATION: TypeSchema = TypeSchema {
    name: "IcingaApplication",
    plural: "IcingaApplications",
    fields: &[
        F::new("enable_event_handlers", K::Bool, D::Bool(true)),
        F::new("enable_flapping", K::Bool, D::Bool(true)),
        F::new("enable_host_checks", K::Bool, D::Bool(true)),
        F::new("enable_notifications", K::Bool, D::Bool(true)),
        F::new("enable_perfdata", K::Bool, D::Bool(true)),
        F::new("enable_service_checks", K::Bool, D::Bool(true)),
        F::new("environment", K::String, D::Derived("const:Environment|")),
        F::new("vars", K::Dictionary, D::Null),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
