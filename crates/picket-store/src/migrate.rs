//! Upgrading the data format at startup.
//!
//! An upgrade never changes data in place. It converts `store/` into
//! `store.upgrade/`, checks the result the way `picket store verify` does,
//! and only then swaps the two: the old data stays next to the new as
//! `store.format-<N>/`. A crash at any point leaves either the old data in
//! place (and the upgrade runs again) or the new data complete (and the
//! swap is finished at the next start).

use std::fs;
use std::path::{Path, PathBuf};

use crate::datadir::{read_format, store_names, write_format, FORMAT_VERSION, STORE_DIR};
use crate::durable;
use crate::error::StoreError;
use crate::format1;
use crate::verify;

const STAGING: &str = "store.upgrade";

/// What an upgrade did.
#[derive(Debug, Clone)]
pub struct MigrationReport {
    pub from: u32,
    pub to: u32,
    /// Each store and the number of records carried over.
    pub stores: Vec<(String, u64)>,
    /// Where the data in the old format was kept.
    pub previous: PathBuf,
}

/// One step: converts the stores of one format into the next, from the
/// directory `from` into the (empty) directory `to`.
type Step = fn(from: &Path, to: &Path) -> Result<Vec<(String, u64)>, StoreError>;

/// Index `i` upgrades format `i + 1` to `i + 2`.
const STEPS: &[Step] = &[format1_to_2];

fn format1_to_2(from: &Path, to: &Path) -> Result<Vec<(String, u64)>, StoreError> {
    let mut out = Vec::new();
    for name in store_names(from)? {
        let dst = to.join(&name);
        durable::create_dir_all(&dst).map_err(StoreError::io(&dst))?;
        let n = format1::to_format2(
            &from.join(&name),
            &dst,
            crate::StoreOptions::default().segment_size,
        )?;
        out.push((name, n));
    }
    Ok(out)
}

pub(crate) fn upgrade(root: &Path, from: u32) -> Result<MigrationReport, StoreError> {
    let current = root.join(STORE_DIR);
    let staging = root.join(STAGING);
    let mut stores = Vec::new();
    let mut source = current.clone();
    let mut scratch: Vec<PathBuf> = Vec::new();
    for version in from..FORMAT_VERSION {
        let Some(step) = STEPS.get(version as usize - 1) else {
            return Err(StoreError::Format {
                path: current.clone(),
                detail: format!("no upgrade from data format {version}"),
            });
        };
        let target = if version + 1 == FORMAT_VERSION {
            staging.clone()
        } else {
            root.join(format!("{STAGING}-{}", version + 1))
        };
        if target.exists() {
            fs::remove_dir_all(&target).map_err(StoreError::io(&target))?;
        }
        durable::create_dir_all(&target).map_err(StoreError::io(&target))?;
        stores = step(&source, &target)?;
        write_format(&target, version + 1)?;
        if target != staging {
            scratch.push(target.clone());
        }
        source = target;
    }
    // Check the new data before it replaces the old.
    for name in store_names(&staging)? {
        let v = verify::verify_store(&staging.join(&name), &name)?;
        if let Some(f) = v.findings.first() {
            return Err(StoreError::Format {
                path: f.file.clone(),
                detail: format!("the upgraded data does not verify: {}", f.problem),
            });
        }
    }
    let previous = root.join(format!("{STORE_DIR}.format-{from}"));
    if previous.exists() {
        fs::remove_dir_all(&previous).map_err(StoreError::io(&previous))?;
    }
    fs::rename(&current, &previous).map_err(StoreError::io(&current))?;
    fs::rename(&staging, &current).map_err(StoreError::io(&staging))?;
    durable::sync_dir(root).map_err(StoreError::io(root))?;
    for dir in scratch {
        let _ = fs::remove_dir_all(dir);
    }

    Ok(MigrationReport {
        from,
        to: FORMAT_VERSION,
        stores,
        previous,
    })
}

/// Completes an upgrade that stopped between moving the old data away and
/// moving the new data in.
pub(crate) fn finish_interrupted(root: &Path) -> Result<(), StoreError> {
    let current = root.join(STORE_DIR);
    let staging = root.join(STAGING);
    if !current.exists() && read_format(&staging).ok().flatten() == Some(FORMAT_VERSION) {
        fs::rename(&staging, &current).map_err(StoreError::io(&staging))?;
        durable::sync_dir(root).map_err(StoreError::io(root))?;
    }
    Ok(())
}
