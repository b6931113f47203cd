//! Archiving: moving old segments out of the live log into `archived/`.
//!
//! Only sealed segments that the newest snapshot covers entirely, and whose
//! newest record is older than the threshold, are moved: startup never
//! reads them again, and history, verification and full recovery still
//! find them in `archived/` (or, if an operator moved them elsewhere, say
//! that they are missing).

use std::path::{Path, PathBuf};

use crate::aggregate::Aggregate;
use crate::durable;
use crate::error::StoreError;
use crate::record::{now_millis, RecordKey};
use crate::scan::{self, ARCHIVED_DIR, LOG_DIR};
use crate::store::Store;

impl<A: Aggregate> Store<A> {
    /// Archives the segments whose records are all older than
    /// `threshold_days` and covered by the newest snapshot; returns the
    /// files moved.
    pub fn archive(&self, threshold_days: u32) -> Result<Vec<PathBuf>, StoreError> {
        let Some(covered) = self.snapshot_position() else {
            return Ok(Vec::new());
        };
        archive_before(self.dir(), covered.end.segment, cutoff(threshold_days))
    }
}

pub(crate) fn cutoff(threshold_days: u32) -> i64 {
    now_millis() - i64::from(threshold_days) * 86_400_000
}

pub(crate) fn archive_before(
    dir: &Path,
    before_segment: u32,
    cutoff: i64,
) -> Result<Vec<PathBuf>, StoreError> {
    let log_dir = dir.join(LOG_DIR);
    let archived = dir.join(ARCHIVED_DIR);
    let mut moved = Vec::new();
    for seg in scan::segments(dir).map_err(StoreError::io(dir))? {
        if seg.archived || seg.number >= before_segment {
            continue;
        }
        let bytes = scan::read(&seg.path).map_err(StoreError::io(&seg.path))?;
        let mut newest = i64::MIN;
        let _ = scan::walk::<std::convert::Infallible>(&bytes, seg.number, 0, |_, _, payload| {
            if let Ok(key) = serde_json::from_slice::<RecordKey>(payload) {
                newest = newest.max(key.time);
            }
            Ok(())
        });
        if newest >= cutoff {
            break;
        }
        durable::create_dir_all(&archived).map_err(StoreError::io(&archived))?;
        let to = archived.join(seg.path.file_name().unwrap_or_default());
        std::fs::rename(&seg.path, &to).map_err(StoreError::io(&seg.path))?;
        durable::sync_dir(&archived).map_err(StoreError::io(&archived))?;
        durable::sync_dir(&log_dir).map_err(StoreError::io(&log_dir))?;
        tracing::info!("archived {}", to.display());
        moved.push(to);
    }
    Ok(moved)
}
