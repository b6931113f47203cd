//! `NotificationComponent`: sends notifications (feature `notification`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static NOTIFICATION_COMPONENT: TypeSchema = TypeSchema {
    name: "NotificationComponent",
    plural: "NotificationComponents",
    fields: &[F::new("enable_ha", K::Bool, D::Bool(true))],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
