//! `picket store backup`: a consistent copy of a data directory while the
//! node keeps running.
//!
//! The log is only ever appended to and snapshots are replaced atomically,
//! so a copy needs no lock, only an order: snapshots first, then archived
//! segments, then the live log. Every snapshot copied then points at records
//! the copied log has. The copy of the last segment may end inside a write
//! that was in progress; that tail is cut from the copy, so the copy opens
//! at the state before the unfinished write, exactly as a restore of a plain
//! `cp -a` taken mid-write would after setting the tail aside.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;

use crate::datadir::{self, STORE_DIR};
use crate::durable;
use crate::error::StoreError;
use crate::open::{fits, Fit};
use crate::quarantine;
use crate::scan::{self, End, ARCHIVED_DIR, LOG_DIR};
use crate::snapshot;

#[derive(Debug, Default)]
pub struct BackupReport {
    pub files: u64,
    pub bytes: u64,
    /// What was left out of the copy to make it consistent.
    pub trimmed: Vec<String>,
}

/// Copies the data directory `root` to `dest`, which must not exist yet.
pub fn backup(root: &Path, dest: &Path) -> Result<BackupReport, StoreError> {
    let names = datadir::inspect(root)?;
    if dest.exists() {
        return Err(StoreError::Format {
            path: dest.to_path_buf(),
            detail: "already exists; a backup goes into a new directory".into(),
        });
    }
    let mut report = BackupReport::default();
    durable::create_dir_all(dest).map_err(StoreError::io(dest))?;
    // Everything outside the stores first, as it is.
    for entry in fs::read_dir(root).map_err(StoreError::io(root))? {
        let entry = entry.map_err(StoreError::io(root))?;
        let name = entry.file_name();
        if name == STORE_DIR || name == "lock" {
            continue;
        }
        copy_tree(&entry.path(), &dest.join(&name), &mut report)?;
    }
    let src_store = root.join(STORE_DIR);
    let dst_store = dest.join(STORE_DIR);
    durable::create_dir_all(&dst_store).map_err(StoreError::io(&dst_store))?;
    copy_file(
        &src_store.join(datadir::FORMAT_FILE),
        &dst_store.join(datadir::FORMAT_FILE),
        &mut report,
    )?;
    for name in names {
        let src = src_store.join(&name);
        let dst = dst_store.join(&name);
        durable::create_dir_all(&dst).map_err(StoreError::io(&dst))?;
        for file in [snapshot::FILE, snapshot::BACKUP] {
            match copy_file(&src.join(file), &dst.join(file), &mut report) {
                Err(StoreError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
                other => other?,
            }
        }
        for sub in [ARCHIVED_DIR, LOG_DIR, scan::SURPLUS_DIR, scan::CORRUPT_DIR] {
            if src.join(sub).is_dir() {
                copy_tree(&src.join(sub), &dst.join(sub), &mut report)?;
            }
        }
        trim(&dst, &name, &mut report)?;
    }
    durable::sync_dir(dest).map_err(StoreError::io(dest))?;
    Ok(report)
}

/// Cuts an unfinished write from the end of the copied log and drops
/// copied snapshots that the copied log does not reach.
fn trim(dir: &Path, name: &str, report: &mut BackupReport) -> Result<(), StoreError> {
    let segs = scan::segments(dir).map_err(StoreError::io(dir))?;
    if let Some(last) = segs.last() {
        let bytes = scan::read(&last.path).map_err(StoreError::io(&last.path))?;
        let Ok((at, end)) =
            scan::walk::<std::convert::Infallible>(&bytes, last.number, 0, |_, _, _| Ok(()));
        let unfinished = match end {
            End::Incomplete => true,
            End::Corrupt(_) => scan::unfinished_write(&bytes, at),
            _ => false,
        };
        match end {
            _ if unfinished && at < bytes.len() => {
                quarantine::truncate(&last.path, at as u64).map_err(StoreError::io(&last.path))?;
                report.trimmed.push(format!(
                    "{name}: {} bytes of a write in progress",
                    bytes.len() - at
                ));
            }
            End::Header(crate::segment::HeaderProblem::Incomplete) => {
                fs::remove_file(&last.path).map_err(StoreError::io(&last.path))?;
                report
                    .trimmed
                    .push(format!("{name}: a segment being created"));
            }
            _ => {}
        }
    }
    let segs = scan::segments(dir).map_err(StoreError::io(dir))?;
    for file in [snapshot::FILE, snapshot::BACKUP] {
        let path = dir.join(file);
        if let Ok(snap) = snapshot::read::<IgnoredAny>(&path) {
            if let Fit::Ahead(why) = fits(&snap.point(), &segs) {
                fs::remove_file(&path).map_err(StoreError::io(&path))?;
                report.trimmed.push(format!("{name}: {file} ({why})"));
            }
        }
    }
    Ok(())
}

fn copy_tree(src: &Path, dst: &Path, report: &mut BackupReport) -> Result<(), StoreError> {
    let meta = fs::symlink_metadata(src).map_err(StoreError::io(src))?;
    if meta.is_dir() {
        durable::create_dir_all(dst).map_err(StoreError::io(dst))?;
        let mut entries: Vec<PathBuf> = fs::read_dir(src)
            .map_err(StoreError::io(src))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for path in entries {
            let to = dst.join(path.file_name().unwrap_or_default());
            copy_tree(&path, &to, report)?;
        }
        durable::sync_dir(dst).map_err(StoreError::io(dst))
    } else if meta.is_file() {
        copy_file(src, dst, report)
    } else {
        Ok(())
    }
}

fn copy_file(src: &Path, dst: &Path, report: &mut BackupReport) -> Result<(), StoreError> {
    let n = fs::copy(src, dst).map_err(StoreError::io(src))?;
    fs::File::open(dst)
        .and_then(|f| f.sync_all())
        .map_err(StoreError::io(dst))?;
    report.files += 1;
    report.bytes += n;
    Ok(())
}
