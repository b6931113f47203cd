//! The monitoring object model: what a Host, a Service, a Zone ... is.
//!
//! This crate owns the configuration object types (their fields, defaults,
//! required attributes and references, as static tables in [`types`]), turns
//! the declarations collected while configuration files run into objects
//! ([`registry`], [`commit`]: templates, default templates, `apply` rules,
//! group assignment, full names such as `host!service`), validates them as
//! Icinga does ([`validate`]) and ships Picket's own template library
//! ([`itl`]). It also holds the live state of checkables and Icinga's rules
//! for it ([`state`], [`monitor`]), and what operators do to them as an
//! aggregate for `picket-store` ([`operations`]), the objects the API
//! creates and changes ([`api_objects`]), and the zone tree with this
//! node's links to other endpoints ([`cluster`]): the rules only, the binary wires
//! the stores. It does no I/O beyond reading configuration
//! files.
//!
//! [`load`] is the entry point: it runs a configuration and commits it.

#![forbid(unsafe_code)]

pub mod api_objects;
pub mod classes;
pub mod cluster;
pub mod commit;
pub mod event;
pub mod itl;
pub mod methods;
pub mod monitor;
pub mod notifications;
pub mod object;
pub mod operations;
pub mod period;
pub mod registry;
pub mod result;
pub mod schema;
pub mod state;
pub mod timeperiod;
pub mod types;
pub mod validate;

use std::path::PathBuf;
use std::sync::Arc;

use picket_lang::eval::{Context, Interp, LogRecord};
use picket_lang::{LangError, Value};

pub use object::ConfigObject;
pub use registry::Registry;

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The entry file (`icinga2.conf`).
    pub config: PathBuf,
    /// `-I` directories, searched (first given first) before the built-in
    /// library for `include <...>`.
    pub include_dirs: Vec<PathBuf>,
    /// `-D NAME=VALUE` definitions.
    pub defines: Vec<(String, String)>,
    /// The configuration packages (`<DataDir>/api/packages`), whose
    /// active stages load after the entry file, as Icinga loads them.
    pub packages: Option<PathBuf>,
}

/// A loaded configuration: the evaluation context (with all sources, for
/// rendering errors), the objects, and the errors that stopped loading.
pub struct Loaded {
    pub ctx: Context,
    pub registry: Arc<Registry>,
    pub errors: Vec<LangError>,
}

impl Loaded {
    /// See [`counts`].
    pub fn counts(&self) -> Vec<(&'static str, &'static str, usize)> {
        counts(&self.registry)
    }
}

/// Objects per type, for types that have any, in the order Icinga 2
/// prints its `Instantiated` lines: `(type, plural, count)`.
pub fn counts(registry: &Registry) -> Vec<(&'static str, &'static str, usize)> {
    let position = |name: &str| {
        PRINT_ORDER
            .iter()
            .position(|t| *t == name)
            .unwrap_or(PRINT_ORDER.len())
    };
    let mut out: Vec<_> = types::ALL
        .iter()
        .map(|t| (t.name, t.plural, registry.count(t.name)))
        .filter(|(_, _, n)| *n > 0)
        .collect();
    out.sort_by_key(|(name, _, _)| (position(name), *name));
    out
}

/// The order of Icinga 2.13's type registry, in which it prints its
/// `Instantiated N ...` lines (so that the two outputs read alike).
const PRINT_ORDER: &[&str] = &[
    "GelfWriter",
    "GraphiteWriter",
    "InfluxdbWriter",
    "ElasticsearchWriter",
    "NotificationComponent",
    "SyslogLogger",
    "LivestatusListener",
    "IdoPgsqlConnection",
    "IdoMysqlConnection",
    "StatusDataWriter",
    "ExternalCommandListener",
    "CompatLogger",
    "CheckerComponent",
    "UserGroup",
    "TimePeriod",
    "User",
    "Service",
    "ServiceGroup",
    "ScheduledDowntime",
    "Zone",
    "PerfdataWriter",
    "Influxdb2Writer",
    "NotificationCommand",
    "Notification",
    "Host",
    "IcingaApplication",
    "HostGroup",
    "Dependency",
    "Comment",
    "EventCommand",
    "Downtime",
    "Endpoint",
    "FileLogger",
    "ApiUser",
    "OpenTsdbWriter",
    "CheckCommand",
    "ApiListener",
    "IcingaDB",
];

/// A context with Picket's library installed, logging to `logger`.
pub fn context(logger: impl FnMut(LogRecord) + Send + 'static) -> (Context, Arc<Registry>) {
    let ctx = Context::new(logger);
    let registry = Registry::new();
    ctx.set_hooks(registry.clone());
    ctx.set_embedded(Arc::new(itl::Library));
    methods::install(&ctx);
    // The application's own globals, overridable by -D and by `const`.
    ctx.globals
        .force_set("NodeName", Value::from(node_name()), false);
    ctx.globals
        .force_set("ReloadTimeout", Value::Number(300.0), false);
    ctx.globals
        .force_set("MaxConcurrentChecks", Value::Number(512.0), false);
    schema::register_types(&ctx);
    (ctx, registry)
}

/// This machine's name, the default `NodeName`.
pub fn node_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

/// Runs the configuration files: declarations are collected, nothing is
/// committed yet. Errors stop at the first one, as in Icinga.
pub fn run_files(options: &LoadOptions, logger: impl FnMut(LogRecord) + Send + 'static) -> Loaded {
    let (ctx, registry) = context(logger);
    for dir in options.include_dirs.iter().rev() {
        ctx.prepend_search_path(dir.clone());
    }
    ctx.apply_defines(&options.defines);
    let errors = run(&ctx, &registry, options);
    Loaded {
        ctx,
        registry,
        errors,
    }
}

impl Loaded {
    /// Runs the declarations of objects created through the API, after
    /// the files, in their package (`_api`) and zone. Returns the index
    /// and error of each declaration that did not run.
    pub fn run_declarations(
        &mut self,
        declarations: &[api_objects::Declaration],
        zone: Option<&str>,
    ) -> Vec<(usize, LangError)> {
        let mut interp = Interp::new(&self.ctx);
        interp.scope = picket_lang::eval::FileScope {
            zone: zone.map(Into::into),
            package: api_objects::PACKAGE.into(),
        };
        let mut failed = Vec::new();
        for (i, d) in declarations.iter().enumerate() {
            let mut frame = interp.top_frame();
            if let Err(e) = interp.run_text(&mut frame, &d.path, d.text.as_str().into()) {
                failed.push((i, e));
            }
        }
        failed
    }

    /// The path of the file an error points into.
    pub fn error_path(&self, e: &LangError) -> Option<std::sync::Arc<str>> {
        e.span.map(|s| self.ctx.sources.path(s.file))
    }

    /// Commits the declarations into objects (when the files ran cleanly).
    pub fn commit(&mut self) {
        if self.errors.is_empty() {
            self.errors = commit::commit(&self.ctx, &self.registry);
            self.registry.release_object_declarations();
        }
    }
}

/// Runs and commits a configuration.
pub fn load(options: &LoadOptions, logger: impl FnMut(LogRecord) + Send + 'static) -> Loaded {
    let mut loaded = run_files(options, logger);
    loaded.commit();
    loaded
}

fn run(ctx: &Context, registry: &Registry, options: &LoadOptions) -> Vec<LangError> {
    let mut interp = Interp::new(ctx);
    if let Some(text) = itl::builtin() {
        let mut frame = interp.top_frame();
        let path = format!("{}/builtin.conf", itl::ROOT);
        if let Err(e) = interp.run_text(&mut frame, &path, text.into()) {
            return vec![e];
        }
    }
    // The commands every configuration has (`ido`, `icingadb`); like
    // Icinga's, they are neither counted nor listed.
    if let Some(text) = itl::builtin_objects() {
        let mut frame = interp.top_frame();
        let path = format!("{}/builtin-objects.conf", itl::ROOT);
        registry.set_hidden_declarations(true);
        let scope = std::mem::take(&mut interp.scope);
        let result = interp.run_text(&mut frame, &path, text.into());
        interp.scope = scope;
        registry.set_hidden_declarations(false);
        if let Err(e) = result {
            return vec![e];
        }
    }
    methods::withdraw(ctx);
    let mut frame = interp.top_frame();
    if let Err(e) = interp.run_file(&mut frame, &options.config) {
        return vec![e];
    }
    let Some(root) = &options.packages else {
        return Vec::new();
    };
    // Each package runs in its own name, so its objects say where they
    // come from (`package`); `include_zones` in it gives them zones.
    for (name, include) in picket_packages::Packages::new(root).includes() {
        interp.scope = picket_lang::eval::FileScope {
            zone: None,
            package: name.as_str().into(),
        };
        let mut frame = interp.top_frame();
        if let Err(e) = interp.run_file(&mut frame, &include) {
            return vec![e];
        }
    }
    Vec::new()
}
