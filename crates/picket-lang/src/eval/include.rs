//! `include`, `include_recursive` and `include_zones`.
//!
//! Included files run in the frame of the `include` statement, as in Icinga.
//! Relative paths are relative to the including file. Wildcards expand in
//! sorted order and may match nothing; a plain path must exist. `include
//! <name>` searches the `-I` directories first, then Picket's embedded
//! library.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Eval, FileScope, Flow, Frame, Interp};
use crate::ast::IncludeKind;
use crate::error::{ErrorKind, LangError};
use crate::parser::parse_file;
use crate::source::Span;
use crate::value::{Str, Value};
use crate::wildcard::wildcard_match;

/// Where a file comes from.
#[derive(Clone, Debug)]
enum Location {
    Disk(PathBuf),
    /// A file of the embedded library, by relative path.
    Embedded(String),
}

fn has_wildcard(s: &str) -> bool {
    s.contains('*') || s.contains('?')
}

impl Interp<'_> {
    pub(super) fn include(&mut self, frame: &mut Frame, kind: &IncludeKind, span: Span) -> Eval {
        match kind {
            IncludeKind::File(path) => {
                let path = self.eval_string(frame, path)?;
                let base = self.base_of(span);
                let files = self.resolve(&base, &path, span)?;
                for f in files {
                    self.run_location(frame, &f, span)?;
                }
            }
            IncludeKind::System(name) => {
                let loc = self.search(name).ok_or_else(|| {
                    Flow::Error(LangError::new(
                        ErrorKind::Include,
                        format!("Include file '{name}' does not exist"),
                        Some(span),
                    ))
                })?;
                self.run_location(frame, &loc, span)?;
            }
            IncludeKind::Recursive { path, pattern } => {
                let path = self.eval_string(frame, path)?;
                let pattern = match pattern {
                    Some(p) => self.eval_string(frame, p)?,
                    None => "*.conf".into(),
                };
                let dir = self.join(&self.base_of(span), &path);
                self.require_dir(&dir, span)?;
                for f in self.walk(&dir, &pattern) {
                    self.run_location(frame, &f, span)?;
                }
            }
            IncludeKind::Zones { tag, path, pattern } => {
                let _tag = self.eval_string(frame, tag)?;
                let path = self.eval_string(frame, path)?;
                let pattern = match pattern {
                    Some(p) => self.eval_string(frame, p)?,
                    None => "*.conf".into(),
                };
                let dir = self.join(&self.base_of(span), &path);
                self.require_dir(&dir, span)?;
                for (zone, zone_dir) in self.subdirs(&dir) {
                    let package = self.scope.package.clone();
                    let saved = std::mem::replace(
                        &mut self.scope,
                        FileScope {
                            zone: Some(zone.into()),
                            package,
                        },
                    );
                    let mut result = Ok(());
                    for f in self.walk(&zone_dir, &pattern) {
                        result = self.run_location(frame, &f, span).map(|_| ());
                        if result.is_err() {
                            break;
                        }
                    }
                    self.scope = saved;
                    result?;
                }
            }
        }
        Ok(Value::Null)
    }

    fn eval_string(&mut self, frame: &mut Frame, e: &crate::ast::Expr) -> Result<Str, Flow> {
        match self.eval(frame, e)? {
            Value::String(s) => Ok(s),
            other => Err(Flow::Error(LangError::eval(
                format!(
                    "Include path must be a string, not '{}'.",
                    other.type_name()
                ),
                e.span,
            ))),
        }
    }

    /// Recursive includes of a missing directory fail as Icinga's `opendir`.
    fn require_dir(&self, dir: &Location, span: Span) -> Result<(), Flow> {
        match dir {
            Location::Disk(d) if !d.is_dir() => Err(Flow::Error(LangError::eval(
                format!(
                    "Function call 'opendir' for file '{}' failed with error code 2, 'No such file or directory'",
                    d.display()
                ),
                span,
            ))),
            _ => Ok(()),
        }
    }

    /// The directory relative includes start from: the including file's.
    fn base_of(&self, span: Span) -> Location {
        let path = self.ctx.sources.path(span.file);
        if let Some(embedded) = self.ctx.embedded() {
            let root = format!("{}/", embedded.root());
            if let Some(rel) = path.strip_prefix(&root) {
                let dir = rel
                    .rsplit_once('/')
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_default();
                return Location::Embedded(dir);
            }
        }
        let p = Path::new(&*path);
        Location::Disk(p.parent().map(Path::to_path_buf).unwrap_or_default())
    }

    fn join(&self, base: &Location, rel: &str) -> Location {
        if rel.starts_with('/') {
            return Location::Disk(PathBuf::from(rel));
        }
        match base {
            Location::Disk(dir) => {
                if dir.as_os_str().is_empty() {
                    Location::Disk(PathBuf::from(rel))
                } else {
                    Location::Disk(dir.join(rel))
                }
            }
            Location::Embedded(dir) => Location::Embedded(if dir.is_empty() {
                rel.to_string()
            } else {
                format!("{dir}/{rel}")
            }),
        }
    }

    /// The files an `include "path"` names.
    fn resolve(&self, base: &Location, path: &str, span: Span) -> Result<Vec<Location>, Flow> {
        let target = self.join(base, path);
        if !has_wildcard(path) {
            let exists = match &target {
                Location::Disk(p) => p.is_file(),
                Location::Embedded(rel) => {
                    self.ctx.embedded().is_some_and(|e| e.read(rel).is_some())
                }
            };
            if !exists {
                return Err(Flow::Error(LangError::new(
                    ErrorKind::Include,
                    format!("Include file '{path}' does not exist"),
                    Some(span),
                )));
            }
            return Ok(vec![target]);
        }
        Ok(match target {
            Location::Disk(p) => {
                let fixed: PathBuf = p
                    .components()
                    .take_while(|c| !has_wildcard(&c.as_os_str().to_string_lossy()))
                    .collect();
                if !fixed.as_os_str().is_empty() && !fixed.is_dir() {
                    return Err(Flow::Error(LangError::eval(
                        format!(
                            "Function call 'glob' for file '{}' failed with error code 2, 'No such file or directory'",
                            p.display()
                        ),
                        span,
                    )));
                }
                glob_disk(&p).into_iter().map(Location::Disk).collect()
            }
            Location::Embedded(pattern) => {
                let mut files: Vec<Location> = self
                    .ctx
                    .embedded()
                    .map(|e| e.list())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|f| f.matches('/').count() == pattern.matches('/').count())
                    .filter(|f| wildcard_match(&pattern, f))
                    .map(|f| Location::Embedded(f.to_string()))
                    .collect();
                files.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
                files
            }
        })
    }

    /// `include <name>`: the search path, then the embedded library.
    fn search(&self, name: &str) -> Option<Location> {
        for dir in self.ctx.search_paths() {
            let p = dir.join(name);
            if p.is_file() {
                return Some(Location::Disk(p));
            }
        }
        let embedded = self.ctx.embedded()?;
        embedded
            .read(name)
            .map(|_| Location::Embedded(name.to_string()))
    }

    /// All files under `dir` matching `pattern`: files in sorted order, then
    /// each subdirectory in sorted order.
    fn walk(&self, dir: &Location, pattern: &str) -> Vec<Location> {
        match dir {
            Location::Disk(d) => {
                let mut out = Vec::new();
                walk_disk(d, pattern, &mut out);
                out.into_iter().map(Location::Disk).collect()
            }
            Location::Embedded(d) => {
                let prefix = if d.is_empty() {
                    String::new()
                } else {
                    format!("{d}/")
                };
                let mut files: Vec<&str> = self
                    .ctx
                    .embedded()
                    .map(|e| e.list())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|f| f.starts_with(&prefix))
                    .filter(|f| wildcard_match(pattern, f.rsplit('/').next().unwrap_or(f)))
                    .collect();
                files.sort();
                files
                    .into_iter()
                    .map(|f| Location::Embedded(f.to_string()))
                    .collect()
            }
        }
    }

    fn subdirs(&self, dir: &Location) -> Vec<(String, Location)> {
        match dir {
            Location::Disk(d) => {
                let mut out: Vec<(String, Location)> = std::fs::read_dir(d)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|e| e.path().is_dir())
                    .map(|e| {
                        (
                            e.file_name().to_string_lossy().into_owned(),
                            Location::Disk(e.path()),
                        )
                    })
                    .collect();
                out.sort_by(|a, b| a.0.cmp(&b.0));
                out
            }
            Location::Embedded(_) => Vec::new(),
        }
    }

    fn run_location(&mut self, frame: &mut Frame, loc: &Location, span: Span) -> Eval {
        let (display, text): (String, Arc<str>) = match loc {
            Location::Disk(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| {
                    Flow::Error(LangError::new(
                        ErrorKind::Include,
                        format!("Could not read file '{}': {e}", p.display()),
                        Some(span),
                    ))
                })?;
                (p.to_string_lossy().into_owned(), text.into())
            }
            Location::Embedded(rel) => {
                let embedded = self.ctx.embedded();
                let Some((root, text)) = embedded
                    .as_ref()
                    .and_then(|e| e.read(rel).map(|t| (e.root().to_string(), t)))
                else {
                    return Err(Flow::Error(LangError::new(
                        ErrorKind::Include,
                        format!("Include file '{rel}' does not exist"),
                        Some(span),
                    )));
                };
                (format!("{root}/{rel}"), text.into())
            }
        };
        self.run_text(frame, &display, text).map_err(Flow::Error)
    }

    /// Parses and runs a file's text in `frame`.
    pub fn run_text(
        &mut self,
        frame: &mut Frame,
        path: &str,
        text: Arc<str>,
    ) -> Result<Value, LangError> {
        let id = self.ctx.sources.add(path, text.clone());
        let ast = parse_file(&text, id, path)?;
        self.run(frame, &ast)
    }

    /// Loads a file from disk and runs it in `frame` (the entry point of a
    /// configuration).
    pub fn run_file(&mut self, frame: &mut Frame, path: &Path) -> Result<Value, LangError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            LangError::new(
                ErrorKind::Include,
                format!("Could not read file '{}': {e}", path.display()),
                None,
            )
        })?;
        self.run_text(frame, &path.to_string_lossy(), text.into())
    }
}

fn walk_disk(dir: &Path, pattern: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            dirs.push(p);
        } else if wildcard_match(pattern, &e.file_name().to_string_lossy()) {
            files.push(p);
        }
    }
    files.sort();
    dirs.sort();
    out.extend(files);
    for d in dirs {
        walk_disk(&d, pattern, out);
    }
}

/// Expands wildcards in any component of a path, in sorted order.
fn glob_disk(pattern: &Path) -> Vec<PathBuf> {
    let mut current: Vec<PathBuf> = vec![if pattern.is_absolute() {
        PathBuf::from("/")
    } else {
        PathBuf::new()
    }];
    let comps: Vec<String> = pattern
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    for (i, comp) in comps.iter().enumerate() {
        let last = i + 1 == comps.len();
        let mut next = Vec::new();
        for base in &current {
            if has_wildcard(comp) {
                let dir = if base.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    base.as_path()
                };
                let mut matches: Vec<PathBuf> = std::fs::read_dir(dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .filter(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        !name.starts_with('.') && wildcard_match(comp, &name)
                    })
                    .map(|e| base.join(e.file_name()))
                    .filter(|p| if last { p.is_file() } else { p.is_dir() })
                    .collect();
                matches.sort();
                next.extend(matches);
            } else {
                let p = base.join(comp);
                if (last && p.is_file()) || (!last && p.is_dir()) {
                    next.push(p);
                }
            }
        }
        current = next;
    }
    current
}
