//! Where the node's files are. Icinga 2's path constants (`ConfigDir`,
//! `DataDir`, `LogDir`, `CacheDir`, `SpoolDir`, `InitRunDir`, `PidPath`)
//! can be set with `-D NAME=VALUE` or `-D Configuration.NAME=VALUE`, so
//! service files and scripts written for Icinga 2 keep working.

use std::path::{Path, PathBuf};

/// Icinga's own configuration, read when present and nothing else is
/// asked for: a node dropped in for Icinga 2 runs Icinga's configuration.
const ICINGA_CONFIG_DIR: &str = "/etc/icinga2";

/// The value of a path constant given with `-D`, the last one winning.
pub fn defined(defines: &[(String, String)], name: &str) -> Option<PathBuf> {
    defines.iter().rev().find_map(|(k, v)| {
        let k = k.strip_prefix("Configuration.").unwrap_or(k);
        (k == name).then(|| PathBuf::from(v))
    })
}

/// Which configuration file the node reads.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// Nobody named it: when missing, the default configuration is
    /// written there (a first start).
    pub implicit: bool,
}

/// `-c FILE`; else `ConfigDir/icinga2.conf` with `-D ConfigDir`; else
/// Icinga's `/etc/icinga2/icinga2.conf` when it exists; else the node's own
/// configuration in `<data dir>/etc`.
pub fn config_file(
    given: Option<&Path>,
    defines: &[(String, String)],
    data_dir: &Path,
) -> ConfigFile {
    if let Some(path) = given {
        return ConfigFile {
            path: path.to_path_buf(),
            implicit: false,
        };
    }
    let dir = defined(defines, "ConfigDir").unwrap_or_else(|| {
        let icinga = Path::new(ICINGA_CONFIG_DIR);
        if icinga.join("icinga2.conf").exists() {
            icinga.to_path_buf()
        } else {
            data_dir.join("etc")
        }
    });
    ConfigFile {
        path: dir.join("icinga2.conf"),
        implicit: true,
    }
}

/// The pid file: `-D PidPath`, else `InitRunDir/icinga2.pid` with
/// `-D InitRunDir`, else `picket.pid` in the data directory (Icinga's
/// `/run/icinga2` belongs to Icinga, which may run beside Picket).
pub fn pid_file(defines: &[(String, String)], data_dir: &Path) -> PathBuf {
    defined(defines, "PidPath")
        .or_else(|| defined(defines, "InitRunDir").map(|d| d.join("icinga2.pid")))
        .unwrap_or_else(|| data_dir.join("picket.pid"))
}

/// Icinga's `CacheDir` for the files it keeps there (`api-state.json`):
/// `-D CacheDir`, else `cache` in the data directory, for the same reason
/// as the pid file.
pub fn cache_dir(defines: &[(String, String)], data_dir: &Path) -> PathBuf {
    defined(defines, "CacheDir").unwrap_or_else(|| data_dir.join("cache"))
}
