//! `CheckCommand`: how a host or service is checked.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static CHECK_COMMAND: TypeSchema = TypeSchema {
    name: "CheckCommand",
    plural: "CheckCommands",
    fields: &[
        F::new("arguments", K::Any, D::Null),
        F::new("command", K::Any, D::Null),
        F::new("env", K::Dictionary, D::Null),
        // Set by the default template `plugin-check-command` (Picket's builtin.conf); the type itself has no default.
        F::new("execute", K::Function, D::Str("Object of type 'Function'")).required(),
        // Integer: fractions are cut off (2.7 becomes 2).
        F::new("timeout", K::Number, D::Number(60.0)),
        F::new("vars", K::Dictionary, D::Null),
    ],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
