//! `EventStore`: Picket's own settings of its event-sourced store (the data
//! directory's `store/`). Not an Icinga 2 type; a configuration without it
//! gets the defaults.

use crate::schema::{FieldDefault as D, FieldKind as K, FieldSchema as F, TypeSchema};

pub static EVENT_STORE: TypeSchema = TypeSchema {
    name: "EventStore",
    plural: "EventStores",
    fields: &[
        // Verify every record from the start at each startup, setting aside
        // whatever does not verify, instead of trusting the snapshot.
        F::new("always_recover_data", K::Bool, D::Bool(false)),
        // Move log segments older than this many days out of the live log
        // into `archived/`; 0 keeps everything live.
        F::new("archive_threshold_days", K::Integer, D::Number(0.0)),
        // Records between snapshots.
        F::new("snapshot_every", K::Integer, D::Number(10000.0)),
    ],
    load_after: &[],
    apply_targets: &[],
    group_member: None,
};
