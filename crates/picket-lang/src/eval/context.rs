//! What evaluation runs against: globals, loaded sources, the include search
//! path, log output and the hooks of the embedding program.

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::{Frame, Interp};
use crate::ast::{ApplyDef, ObjectDef};
use crate::error::LangError;
use crate::source::{SourceMap, Span};
use crate::value::{Dict, Namespace, Str, TypeObj, Value};

/// Log severities, as Icinga names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Debug,
    Notice,
    Information,
    Warning,
    Critical,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Debug => "debug",
            Severity::Notice => "notice",
            Severity::Information => "information",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// A message from `log()` or from the evaluator (warnings).
#[derive(Debug, Clone)]
pub struct LogRecord {
    pub severity: Severity,
    pub facility: String,
    pub message: String,
}

/// An `object`/`template` statement whose name and captures were evaluated;
/// the body is evaluated later by the hooks.
pub struct ObjectDecl {
    pub def: Arc<ObjectDef>,
    pub name: Str,
    pub closure: Option<Dict>,
    pub zone: Option<Str>,
    pub package: Str,
}

/// An `apply` statement, likewise.
pub struct ApplyDecl {
    pub def: Arc<ApplyDef>,
    pub name: Str,
    pub closure: Option<Dict>,
    pub zone: Option<Str>,
    pub package: Str,
}

/// What the embedding program (the object model) does with object
/// definitions. The language itself has no idea what a Host is.
pub trait ConfigHooks: Send + Sync {
    fn declare_object(&self, interp: &mut Interp<'_>, decl: ObjectDecl) -> Result<(), LangError>;
    fn declare_apply(&self, interp: &mut Interp<'_>, decl: ApplyDecl) -> Result<(), LangError>;
    /// `import "name"` inside a body: runs the template's body on `frame`.
    fn import(
        &self,
        interp: &mut Interp<'_>,
        frame: &mut Frame,
        name: &Value,
        span: Span,
    ) -> Result<(), LangError>;
    /// `get_object(Type, name)`.
    fn get_object(&self, type_name: &str, name: &str) -> Option<Value>;
    /// `get_objects(Type)`.
    fn get_objects(&self, type_name: &str) -> Vec<Value>;
    /// `get_template(Type, name)`; `sources` place its declaration.
    fn get_template(&self, type_name: &str, name: &str, sources: &SourceMap) -> Option<Value>;
    /// `get_templates(Type)`.
    fn get_templates(&self, type_name: &str, sources: &SourceMap) -> Vec<Value>;
}

/// A running node's objects with their live state (`state`,
/// `last_check_result`, ...): where `get_object`, `get_objects` and the
/// `get_host` family look when an interpreter has them (the API console).
/// Without them they read the configuration.
pub trait LiveObjects: Send + Sync {
    fn get_object(&self, type_name: &str, name: &str) -> Option<Value>;
    fn get_objects(&self, type_name: &str) -> Vec<Value>;
}

/// Files that `include <name>` finds without touching the disk: Picket's
/// own template library, compiled into the binary.
pub trait EmbeddedFiles: Send + Sync {
    /// The directory the embedded files appear under in messages.
    fn root(&self) -> &str;
    /// The text of a file, by path relative to the root.
    fn read(&self, relative: &str) -> Option<&'static str>;
    /// Relative paths of all files.
    fn list(&self) -> Vec<&'static str>;
}

/// Everything evaluation needs that outlives a single call.
pub struct Context {
    pub globals: Namespace,
    pub sources: SourceMap,
    search_paths: RwLock<Vec<PathBuf>>,
    embedded: RwLock<Option<Arc<dyn EmbeddedFiles>>>,
    hooks: RwLock<Option<Arc<dyn ConfigHooks>>>,
    logger: Mutex<Box<dyn FnMut(LogRecord) + Send>>,
    types: Namespace,
    default_imports: RwLock<Vec<Namespace>>,
    pub(crate) builtin_types: crate::builtins::types::BuiltinTypes,
}

impl Context {
    /// A context with the standard library in place (the `System`, `Types`
    /// and `Icinga` namespaces) and log output going to `logger`.
    pub fn new(logger: impl FnMut(LogRecord) + Send + 'static) -> Self {
        let globals = Namespace::new(false);
        let types = Namespace::new(true);
        let builtin_types = crate::builtins::types::BuiltinTypes::new();
        let ctx = Context {
            globals,
            sources: SourceMap::new(),
            search_paths: RwLock::new(Vec::new()),
            embedded: RwLock::new(None),
            hooks: RwLock::new(None),
            logger: Mutex::new(Box::new(logger)),
            types,
            default_imports: RwLock::new(Vec::new()),
            builtin_types,
        };
        crate::builtins::install(&ctx);
        ctx
    }

    pub fn log(&self, record: LogRecord) {
        (self.logger.lock())(record)
    }

    pub fn set_hooks(&self, hooks: Arc<dyn ConfigHooks>) {
        *self.hooks.write() = Some(hooks);
    }

    pub fn hooks(&self) -> Option<Arc<dyn ConfigHooks>> {
        self.hooks.read().clone()
    }

    pub fn set_embedded(&self, files: Arc<dyn EmbeddedFiles>) {
        *self.embedded.write() = Some(files);
    }

    pub fn embedded(&self) -> Option<Arc<dyn EmbeddedFiles>> {
        self.embedded.read().clone()
    }

    /// Puts a directory first on the `include <...>` search path (`-I`).
    pub fn prepend_search_path(&self, dir: PathBuf) {
        self.search_paths.write().insert(0, dir);
    }

    pub fn search_paths(&self) -> Vec<PathBuf> {
        self.search_paths.read().clone()
    }

    /// The `Types` namespace.
    pub fn types(&self) -> &Namespace {
        &self.types
    }

    /// Registers a type so that its name resolves to it.
    pub fn register_type(&self, t: Arc<TypeObj>) {
        self.types.force_set(t.name.clone(), Value::Type(t), true);
    }

    /// Looks up a registered type by name.
    pub fn find_type(&self, name: &str) -> Option<Arc<TypeObj>> {
        match self.types.get(name) {
            Some(Value::Type(t)) => Some(t),
            _ => None,
        }
    }

    /// The type of a value (`typeof`).
    pub fn type_of(&self, v: &Value) -> Arc<TypeObj> {
        let b = &self.builtin_types;
        match v {
            Value::Null => b.object.clone(),
            Value::Bool(_) => b.boolean.clone(),
            Value::Number(_) => b.number.clone(),
            Value::String(_) => b.string.clone(),
            Value::Array(_) => b.array.clone(),
            Value::Dict(_) => b.dictionary.clone(),
            Value::Function(_) => b.function.clone(),
            Value::Type(_) => b.type_.clone(),
            Value::Namespace(ns) if ns.is_configuration() => self
                .find_type("Configuration")
                .unwrap_or_else(|| b.object.clone()),
            Value::Namespace(_) => b.namespace.clone(),
            Value::Object(o) => self
                .find_type(&o.type_name())
                .unwrap_or_else(|| b.object.clone()),
        }
    }

    pub(crate) fn set_default_imports(&self, namespaces: Vec<Namespace>) {
        *self.default_imports.write() = namespaces;
    }

    pub fn default_imports(&self) -> Vec<Namespace> {
        self.default_imports.read().clone()
    }

    /// The `System.Configuration` namespace.
    fn configuration(&self) -> Option<Namespace> {
        let Some(Value::Namespace(system)) = self.globals.get("System") else {
            return None;
        };
        match system.get("Configuration") {
            Some(Value::Namespace(conf)) => Some(conf),
            _ => None,
        }
    }

    /// Applies the `-D NAME=VALUE` definitions in order, then works out the
    /// paths Icinga derives from them once they are all known.
    pub fn apply_defines(&self, defines: &[(String, String)]) {
        for (k, v) in defines {
            self.define(k, Value::from(v.as_str()));
        }
        self.derive_paths(defines);
    }

    /// Defines a variable as `-D NAME=VALUE` does. As in Icinga it is an
    /// ordinary global (a `const` of the same name in the configuration
    /// replaces it), except for the path constants of `System.Configuration`
    /// (`ConfigDir`, `DataDir`, ...), whose built-in values it replaces. A
    /// dotted name starts where a script's variable of that name would
    /// (`Configuration.DataDir` is `System.Configuration.DataDir`).
    pub fn define(&self, name: &str, value: Value) {
        let mut parts: Vec<&str> = name.split('.').collect();
        let Some(last) = parts.pop() else { return };
        let conf = self.configuration();
        if parts.is_empty() {
            if let Some(conf) = conf.as_ref().filter(|c| c.contains(last)) {
                conf.force_set(last, value, true);
                return;
            }
        }
        let mut ns = self.globals.clone();
        for (i, p) in parts.into_iter().enumerate() {
            let found = ns.get(p).or_else(|| {
                (i == 0)
                    .then(|| self.default_imports().iter().find_map(|n| n.get(p)))
                    .flatten()
            });
            ns = match found {
                Some(Value::Namespace(inner)) => inner,
                _ => {
                    let inner = Namespace::new(false);
                    ns.force_set(p, Value::Namespace(inner.clone()), false);
                    inner
                }
            };
        }
        let constant = conf.is_some_and(|c| c.ptr_eq(&ns));
        ns.force_set(last, value, constant);
    }

    /// What Icinga works out after the definitions: the deprecated
    /// `LocalStateDir`, `SysconfDir` and `RunDir`, when defined, still set
    /// the directories below them (with a warning each), and the files kept
    /// in the data, cache and run directories follow those directories
    /// whatever was defined for them.
    fn derive_paths(&self, defines: &[(String, String)]) {
        let Some(conf) = self.configuration() else {
            return;
        };
        let defined = |name: &str| {
            defines.iter().any(|(k, _)| {
                let k = k.strip_prefix("System.").unwrap_or(k);
                k.strip_prefix("Configuration.").unwrap_or(k) == name
            })
        };
        let text = |name: &str| conf.get(name).map(|v| v.to_display()).unwrap_or_default();
        let set = |name: &str, value: String| conf.force_set(name, Value::from(value), true);
        for legacy in LEGACY_DIRS {
            if !defined(legacy.name) {
                continue;
            }
            self.log(LogRecord {
                severity: Severity::Warning,
                facility: "icinga-app".into(),
                message: legacy.warning.into(),
            });
            let base = text(legacy.name);
            for (dir, suffix) in legacy.below {
                set(dir, format!("{base}{suffix}"));
            }
        }
        for (file, dir, leaf) in [
            ("StatePath", "DataDir", "icinga2.state"),
            ("ModAttrPath", "DataDir", "modified-attributes.conf"),
            ("ObjectsPath", "CacheDir", "icinga2.debug"),
            ("VarsPath", "CacheDir", "icinga2.vars"),
            ("PidPath", "InitRunDir", "icinga2.pid"),
        ] {
            set(file, format!("{}/{leaf}", text(dir)));
        }
    }
}

/// A deprecated directory constant that, when defined, still sets the
/// directories below it, with a warning.
struct LegacyDir {
    name: &'static str,
    warning: &'static str,
    /// (directory constant, what follows the legacy one in it)
    below: &'static [(&'static str, &'static str)],
}

const LEGACY_DIRS: [LegacyDir; 3] = [
    LegacyDir {
        name: "LocalStateDir",
        warning: "Please do not set the deprecated 'LocalStateDir' constant, use the 'DataDir', \
                  'LogDir', 'CacheDir' and 'SpoolDir' constants instead! For compatibility reasons, \
                  these are now set based on the 'LocalStateDir' constant.",
        below: &[
            ("DataDir", "/lib/icinga2"),
            ("LogDir", "/log/icinga2"),
            ("CacheDir", "/cache/icinga2"),
            ("SpoolDir", "/spool/icinga2"),
        ],
    },
    LegacyDir {
        name: "SysconfDir",
        warning: "Please do not set the deprecated 'Sysconfdir' constant, use the 'ConfigDir' \
                  constant instead! For compatibility reasons, their value is set based on the \
                  'SysconfDir' constant.",
        below: &[("ConfigDir", "/icinga2")],
    },
    LegacyDir {
        name: "RunDir",
        warning: "Please do not set the deprecated 'RunDir' constant, use the 'InitRunDir' constant \
                  instead! For compatibility reasons, their value is set based on the 'RunDir' \
                  constant.",
        below: &[("InitRunDir", "/icinga2")],
    },
];
