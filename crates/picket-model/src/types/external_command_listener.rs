//! `ExternalCommandListener`: the external command pipe (feature `command`).

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static EXTERNAL_COMMAND_LISTENER: TypeSchema = TypeSchema {
    name: "ExternalCommandListener",
    plural: "ExternalCommandListeners",
    fields: &[F::new(
        "command_path",
        K::String,
        D::Derived("path:InitRunDir/cmd/icinga2.cmd"),
    )],
    load_after: &["Zone"],
    apply_targets: &[],
    group_member: None,
};
