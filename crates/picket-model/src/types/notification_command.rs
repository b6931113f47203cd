//! `NotificationCommand`: how a notification is sent.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static NOTIFICATION_COMMAND: TypeSchema = TypeSchema {
    name: "NotificationCommand",
    plural: "NotificationCommands",
    fields: &[
        F::new("arguments", K::Any, D::Null),
        F::new("command", K::Any, D::Null),
        F::new("env", K::Dictionary, D::Null),
        // Set by the default template `plugin-notification-command` (builtin.conf), not by the
        // type.
        F::new("execute", K::Function, D::Null).required(),
        F::new("timeout", K::Integer, D::Number(60.0)),
        F::new("vars", K::Dictionary, D::Null),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
