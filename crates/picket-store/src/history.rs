//! `picket store history`: the audit trail of one aggregate.

use std::path::Path;

use serde::Serialize;

use crate::chain::Hash;
use crate::error::StoreError;
use crate::record::{Actor, CommandSummary, Effect, Millis, Record, RecordKey};
use crate::scan;

/// One stored command, as the history shows it.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub version: u64,
    pub time: Millis,
    pub actor: Actor,
    pub command: CommandSummary,
    pub effect: Effect,
    pub hash: Hash,
}

/// Every stored command of aggregate `id` in the store directory `dir`,
/// archived ones included, oldest first. Reads the files only, so it works
/// while the node runs and without knowing the aggregate's types.
pub fn history(dir: &Path, id: &str) -> Result<Vec<HistoryEntry>, StoreError> {
    if !dir.is_dir() {
        return Err(StoreError::Format {
            path: dir.to_path_buf(),
            detail: "no such store".into(),
        });
    }
    let mut out = Vec::new();
    for seg in scan::segments(dir).map_err(StoreError::io(dir))? {
        let bytes = scan::read(&seg.path).map_err(StoreError::io(&seg.path))?;
        let walked = scan::walk(&bytes, seg.number, 0, |at, _, payload| {
            let Ok(key) = serde_json::from_slice::<RecordKey>(payload) else {
                return Ok(());
            };
            if key.id != id {
                return Ok(());
            }
            let record: Record =
                serde_json::from_slice(payload).map_err(|e| StoreError::Format {
                    path: seg.path.clone(),
                    detail: format!("record at byte {at} unreadable: {e}"),
                })?;
            out.push(HistoryEntry {
                version: record.version,
                time: record.time,
                actor: record.actor,
                command: record.command,
                effect: record.effect,
                hash: Hash::of_record(payload),
            });
            Ok(())
        });
        walked?;
    }
    Ok(out)
}
