//! Setting data aside: records beyond the last complete write go to
//! `surplus/`, records that cannot be read go to `corrupt/`. Nothing is
//! deleted; an operator can inspect, and `picket store history` can read,
//! what was set aside.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::durable;
use crate::scan::{CORRUPT_DIR, SURPLUS_DIR};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Intact data beyond the point the store was rebuilt to.
    Surplus,
    /// Data that could not be read.
    Corrupt,
}

impl Kind {
    fn dir(self) -> &'static str {
        match self {
            Kind::Surplus => SURPLUS_DIR,
            Kind::Corrupt => CORRUPT_DIR,
        }
    }
}

/// One piece of data that was set aside, and why.
#[derive(Debug, Clone)]
pub struct SetAside {
    pub kind: Kind,
    pub path: PathBuf,
    pub reason: String,
}

/// Copies `bytes` (part of `from`, starting at `offset`) into the store's
/// `kind` directory, durably. The caller truncates the source afterwards,
/// so a crash in between leaves the data in both places, never in neither.
pub fn copy_out(
    store_dir: &Path,
    kind: Kind,
    from: &Path,
    offset: usize,
    bytes: &[u8],
    reason: String,
) -> io::Result<SetAside> {
    let dir = store_dir.join(kind.dir());
    durable::create_dir_all(&dir)?;
    let name = format!(
        "{}@{offset}",
        from.file_name().unwrap_or_default().to_string_lossy()
    );
    let path = durable::free_name(&dir, &name);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    durable::sync_dir(&dir)?;
    Ok(SetAside { kind, path, reason })
}

/// Moves a whole file into the store's `kind` directory.
pub fn move_file(
    store_dir: &Path,
    kind: Kind,
    from: &Path,
    reason: String,
) -> io::Result<SetAside> {
    let dir = store_dir.join(kind.dir());
    durable::create_dir_all(&dir)?;
    let name = from.file_name().unwrap_or_default().to_string_lossy();
    let path = durable::free_name(&dir, &name);
    fs::rename(from, &path)?;
    durable::sync_dir(&dir)?;
    if let Some(parent) = from.parent() {
        durable::sync_dir(parent)?;
    }
    Ok(SetAside { kind, path, reason })
}

/// Cuts a segment back to `len` bytes, durably.
pub fn truncate(path: &Path, len: u64) -> io::Result<()> {
    let f = OpenOptions::new().write(true).open(path)?;
    f.set_len(len)?;
    f.sync_all()
}
