//! Configuration packages on disk, in the layout Icinga 2 keeps under
//! `<DataDir>/api/packages`, so that a data directory deployed by Icinga
//! (Icinga Director deploys this way) loads in Picket and the other way
//! round:
//!
//! ```text
//! <package>/include.conf        includes every stage's include.conf
//! <package>/active.conf         sets ActiveStages["<package>"]
//! <package>/active-stage        the active stage's name
//! <package>/<stage>/include.conf   loads conf.d and zones.d when active
//! <package>/<stage>/status         0 or 1 once validated
//! <package>/<stage>/startup.log    what the validation printed
//! <package>/<stage>/conf.d/, zones.d/<zone>/, ...   the uploaded files
//! ```
//!
//! This crate knows names, files and directories: creating packages,
//! writing a stage, recording its validation, activating it, listing and
//! reading. It does not evaluate configuration: the node validates a
//! stage by loading its configuration with the stage forced active
//! (`ActiveStageOverride`, as Icinga's validation run does), and loads
//! the active stages by running each package's `include.conf`.

mod layout;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use picket_store::durable;

/// The package Icinga keeps objects created through the API in. Picket
/// keeps those objects in its `api-objects` store; the package exists on
/// disk (with one empty stage) so that clients find it where Icinga has
/// it, and it is never loaded from disk.
pub const API_PACKAGE: &str = "_api";

/// A package as `GET /v1/config/packages` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    /// Empty when no stage was activated yet.
    pub active_stage: String,
    /// In name order.
    pub stages: Vec<String>,
}

/// A file or directory of a stage, by its path inside the stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub directory: bool,
}

/// Why a change of packages or stages did not happen. The texts are the
/// reasons Icinga gives in its diagnostics.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("Package does not exist.")]
    NoPackage,
    #[error("Package already exists.")]
    PackageExists,
    #[error("Stage does not exist.")]
    NoStage,
    #[error("Active stage cannot be deleted.")]
    ActiveStage,
    #[error("Path must not contain '..'.")]
    DotDot,
    #[error("Package '_api' holds the objects created through the API; delete those through /v1/objects.")]
    ApiPackage,
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// Why a stage's file could not be read (`GET /v1/config/files/...`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("Path contains '..' (not allowed).")]
    DotDot,
    #[error("Path not found.")]
    NotFound,
    #[error("Could not read file.")]
    Unreadable,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Icinga's rule for package and stage names: letters, digits, `_` and
/// `-`, at least one. It keeps every name a single path component.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn has_dot_dot(path: &str) -> bool {
    path.contains("..")
}

/// The packages of one data directory.
pub struct Packages {
    root: PathBuf,
    /// Set while a stage is being written and validated: Icinga takes
    /// one package update at a time and answers 423 to the others.
    updating: Arc<AtomicBool>,
}

/// Held while a stage upload is validated; dropping it lets the next
/// upload in.
pub struct UpdateGuard(Arc<AtomicBool>);

impl Drop for UpdateGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Packages {
    pub fn new(root: impl Into<PathBuf>) -> Packages {
        Packages {
            root: root.into(),
            updating: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The packages of the data directory `data_dir`, where Icinga has
    /// them.
    pub fn in_data_dir(data_dir: &Path) -> Packages {
        Packages::new(data_dir.join("api").join("packages"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the declarations of objects the API creates are said to be
    /// (their `source_location`): in the active stage of the `_api`
    /// package, as in Icinga.
    pub fn api_objects_dir(&self) -> String {
        let stage = self.active_stage(API_PACKAGE);
        let dir = if stage.is_empty() {
            self.dir(API_PACKAGE)
        } else {
            self.stage_dir(API_PACKAGE, &stage)
        };
        format!("{}/conf.d", dir.display())
    }

    fn dir(&self, package: &str) -> PathBuf {
        self.root.join(package)
    }

    fn stage_dir(&self, package: &str, stage: &str) -> PathBuf {
        self.dir(package).join(stage)
    }

    /// Starts a package update unless one is under way.
    pub fn begin_update(&self) -> Option<UpdateGuard> {
        self.updating
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| UpdateGuard(self.updating.clone()))
    }

    pub fn exists(&self, package: &str) -> bool {
        valid_name(package) && self.dir(package).is_dir()
    }

    /// Every package, in name order. Entries that are not packages
    /// (files, temporary directories) are passed over.
    pub fn list(&self) -> Vec<Package> {
        subdirs(&self.root)
            .into_iter()
            .map(|name| Package {
                active_stage: self.active_stage(&name),
                stages: subdirs(&self.dir(&name)),
                name,
            })
            .collect()
    }

    /// The active stage of a package, empty when none is.
    pub fn active_stage(&self, package: &str) -> String {
        fs::read_to_string(self.dir(package).join(layout::ACTIVE_STAGE))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    /// The `include.conf` of every package that is loaded from disk, in
    /// name order: the configuration runs each in its package.
    pub fn includes(&self) -> Vec<(String, PathBuf)> {
        subdirs(&self.root)
            .into_iter()
            .filter(|name| name != API_PACKAGE)
            .map(|name| {
                let include = self.dir(&name).join(layout::INCLUDE);
                (name, include)
            })
            .filter(|(_, include)| include.is_file())
            .collect()
    }

    pub fn create(&self, package: &str) -> Result<(), Error> {
        let dir = self.dir(package);
        if dir.exists() {
            return Err(Error::PackageExists);
        }
        durable::create_dir_all(&self.root).map_err(io_error(&self.root))?;
        fs::create_dir(&dir).map_err(io_error(&dir))?;
        self.write_package_files(package, "")?;
        durable::sync_dir(&self.root).map_err(io_error(&self.root))
    }

    fn write_package_files(&self, package: &str, stage: &str) -> Result<(), Error> {
        let dir = self.dir(package);
        let write = |name: &str, text: String| {
            let path = dir.join(name);
            durable::replace(&path, text.as_bytes(), None).map_err(io_error(&path))
        };
        write(layout::INCLUDE, layout::package_include())?;
        write(layout::ACTIVE, layout::active(package, stage))?;
        if !stage.is_empty() {
            write(layout::ACTIVE_STAGE, stage.to_string())?;
        }
        Ok(())
    }

    pub fn delete(&self, package: &str) -> Result<(), Error> {
        if package == API_PACKAGE {
            return Err(Error::ApiPackage);
        }
        let dir = self.dir(package);
        if !dir.is_dir() {
            return Err(Error::NoPackage);
        }
        fs::remove_dir_all(&dir).map_err(io_error(&dir))?;
        durable::sync_dir(&self.root).map_err(io_error(&self.root))
    }

    /// Writes a new stage with `files` (paths inside the stage, contents)
    /// and returns its name. The stage appears whole or not at all: it is
    /// written under a temporary name and renamed.
    pub fn create_stage(&self, package: &str, files: &[(String, String)]) -> Result<String, Error> {
        let dir = self.dir(package);
        if !dir.is_dir() {
            return Err(Error::NoPackage);
        }
        if files.iter().any(|(path, _)| has_dot_dot(path)) {
            return Err(Error::DotDot);
        }
        let stage = uuid::Uuid::new_v4().to_string();
        let tmp = dir.join(format!(".{stage}.tmp"));
        let written = self.write_stage(&tmp, package, &stage, files);
        if let Err(e) = written {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
        let target = self.stage_dir(package, &stage);
        fs::rename(&tmp, &target).map_err(io_error(&target))?;
        durable::sync_dir(&dir).map_err(io_error(&dir))?;
        Ok(stage)
    }

    fn write_stage(
        &self,
        dir: &Path,
        package: &str,
        stage: &str,
        files: &[(String, String)],
    ) -> Result<(), Error> {
        for sub in [layout::CONF_D, layout::ZONES_D] {
            let d = dir.join(sub);
            durable::create_dir_all(&d).map_err(io_error(&d))?;
        }
        for (path, text) in files {
            let path = dir.join(path.trim_start_matches('/'));
            if let Some(parent) = path.parent() {
                durable::create_dir_all(parent).map_err(io_error(parent))?;
            }
            durable::replace(&path, text.as_bytes(), None).map_err(io_error(&path))?;
        }
        let include = dir.join(layout::INCLUDE);
        durable::replace(
            &include,
            layout::stage_include(package, stage).as_bytes(),
            None,
        )
        .map_err(io_error(&include))
    }

    /// Records the outcome of a stage's validation: `status` (0 when it
    /// loaded) and `startup.log`.
    pub fn record_validation(
        &self,
        package: &str,
        stage: &str,
        valid: bool,
        log: &str,
    ) -> Result<(), Error> {
        let dir = self.stage_dir(package, stage);
        if !dir.is_dir() {
            return Err(Error::NoStage);
        }
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.join(name);
            durable::replace(&path, bytes, None).map_err(io_error(&path))
        };
        write(layout::STARTUP_LOG, log.as_bytes())?;
        write(layout::STATUS, if valid { b"0" } else { b"1" })
    }

    /// Makes `stage` the one the package loads from the next load on.
    pub fn activate(&self, package: &str, stage: &str) -> Result<(), Error> {
        if !self.dir(package).is_dir() {
            return Err(Error::NoPackage);
        }
        if !valid_name(stage) || !self.stage_dir(package, stage).is_dir() {
            return Err(Error::NoStage);
        }
        self.write_package_files(package, stage)
    }

    pub fn delete_stage(&self, package: &str, stage: &str) -> Result<(), Error> {
        let dir = self.stage_dir(package, stage);
        if !valid_name(stage) || !dir.is_dir() {
            return Err(Error::NoStage);
        }
        if self.active_stage(package) == stage {
            return Err(Error::ActiveStage);
        }
        fs::remove_dir_all(&dir).map_err(io_error(&dir))?;
        let parent = self.dir(package);
        durable::sync_dir(&parent).map_err(io_error(&parent))
    }

    /// The files and directories of a stage, files of a directory before
    /// its subdirectories, each subdirectory followed by its contents (the
    /// order Icinga lists them in); `None` for an unknown stage.
    pub fn stage_entries(&self, package: &str, stage: &str) -> Option<Vec<Entry>> {
        let dir = self.stage_dir(package, stage);
        if !valid_name(package) || !valid_name(stage) || !dir.is_dir() {
            return None;
        }
        let mut out = Vec::new();
        walk(&dir, "", &mut out);
        Some(out)
    }

    /// A file of a stage, by its path inside the stage.
    pub fn read(&self, package: &str, stage: &str, path: &str) -> Result<Vec<u8>, FileError> {
        if has_dot_dot(package) || has_dot_dot(stage) || has_dot_dot(path) {
            return Err(FileError::DotDot);
        }
        let full = self.stage_dir(package, stage).join(path);
        if !full.exists() {
            return Err(FileError::NotFound);
        }
        if full.is_dir() {
            return Err(FileError::Unreadable);
        }
        fs::read(&full).map_err(|_| FileError::Unreadable)
    }

    /// Makes sure the `_api` package exists with an active stage, as
    /// Icinga's API does when it starts.
    pub fn ensure_api_package(&self) -> Result<(), Error> {
        if !self.dir(API_PACKAGE).is_dir() {
            self.create(API_PACKAGE)?;
        }
        let active = self.active_stage(API_PACKAGE);
        if !active.is_empty() && self.stage_dir(API_PACKAGE, &active).is_dir() {
            return Ok(());
        }
        let stage = self.create_stage(API_PACKAGE, &[])?;
        self.activate(API_PACKAGE, &stage)
    }
}

/// The subdirectories of `dir` whose names are valid package or stage
/// names, in name order.
fn subdirs(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| valid_name(n))
        .collect();
    names.sort();
    names
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<Entry>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for e in entries.flatten() {
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            dirs.push(name);
        } else {
            files.push(name);
        }
    }
    files.sort();
    dirs.sort();
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_string()
        } else {
            format!("{prefix}/{name}")
        }
    };
    for f in files {
        out.push(Entry {
            name: join(&f),
            directory: false,
        });
    }
    for d in dirs {
        let name = join(&d);
        out.push(Entry {
            name: name.clone(),
            directory: true,
        });
        walk(&dir.join(&d), &name, out);
    }
}

#[cfg(test)]
mod tests;
