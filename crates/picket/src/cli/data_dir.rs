//! Where the data directory is: `--data-dir DIR`, else `PICKET_DATA_DIR`
//! (both handled by clap), else the default for the user running Picket.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::log;

/// `-D DataDir=X` or `-D Configuration.DataDir=X`: Icinga's way to move
/// the data directory, kept so that service files written for Icinga work.
/// `--data-dir` and `PICKET_DATA_DIR` win over it.
pub fn from_defines(defines: &[String]) -> Option<PathBuf> {
    defines.iter().rev().find_map(|d| {
        let (name, value) = d.split_once('=')?;
        matches!(name, "DataDir" | "Configuration.DataDir").then(|| PathBuf::from(value))
    })
}

/// `/var/lib/picket` for root, as Icinga 2 keeps `/var/lib/icinga2`;
/// otherwise `$XDG_DATA_HOME/picket` or `~/.local/share/picket`, so that a
/// user who tries Picket without root gets a working node too.
pub fn resolve(given: Option<PathBuf>) -> PathBuf {
    if let Some(dir) = given {
        return dir;
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        return PathBuf::from("/var/lib/picket");
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("picket");
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home).join(".local/share/picket"),
        None => PathBuf::from("picket-data"),
    }
}

/// Opens (creating, upgrading and locking) the data directory.
pub fn open(
    data_dir: &Path,
) -> anyhow::Result<(picket_store::DataDir, Option<picket_store::MigrationReport>)> {
    let (dir, migration) = picket_store::DataDir::open(data_dir)
        .with_context(|| format!("cannot open the data directory {}", data_dir.display()))?;
    if let Some(m) = &migration {
        let stores: Vec<String> = m
            .stores
            .iter()
            .map(|(s, n)| format!("'{s}' ({n} records)"))
            .collect();
        log::info(
            "store",
            &format!(
                "Upgraded the data in {} from format {} to {}: {}. The previous data is kept in {}.",
                data_dir.display(),
                m.from,
                m.to,
                if stores.is_empty() { "no stores".to_string() } else { stores.join(", ") },
                m.previous.display()
            ),
        );
    }
    Ok((dir, migration))
}
