//! The configuration the node runs: its files, plus the objects the API
//! created and the attribute changes it made, which the `api-objects`
//! store keeps. Every change of it (a reload, a create, a change, a
//! delete) goes through here, one at a time: the new configuration is
//! built and validated beside the running one, what the API asked for is
//! made durable only once it is known to load, and then the checker
//! switches to it keeping the state of every object that stays.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, RwLock};

use picket_api::engine::{Changes, Unchanged};
use picket_checker::scheduler::{Checker, Command, Config};
use picket_lang::eval::Severity;
use picket_lang::{LangError, Value};
use picket_model::api_objects::{self, ApiObject, ApiObjectCommand, Creation};
use picket_model::event::{Bus, Event, ObjectChange};
use picket_model::{ConfigObject, LoadOptions};
use picket_packages::Packages;
use picket_store::{Actor, Command as StoreCommand, CommandError, Store};
use tokio::sync::oneshot;

use super::control::Reply;
use super::operator::Operator;
use crate::log;

/// Makes sure the `_api` package has an active stage, as Icinga's API
/// does when it starts: objects created through the API are said to be
/// declared there.
pub fn ensure_api_package(data_dir: &Path) {
    if let Err(e) = Packages::in_data_dir(data_dir).ensure_api_package() {
        log::warning(
            "config",
            &format!("Cannot write the '_api' configuration package: {e}"),
        );
    }
}

/// Where the declarations of API-created objects are said to be (their
/// `source_location`), as in Icinga's `_api` package.
pub fn package_dir(data_dir: &Path) -> String {
    Packages::in_data_dir(data_dir).api_objects_dir()
}

/// The objects the store holds.
pub fn stored(store: &Store<ApiObject>) -> Vec<ApiObject> {
    store
        .ids()
        .into_iter()
        .filter_map(|id| store.get(&id))
        .map(|v| v.state.clone())
        .collect()
}

/// An error as the API shows it: the message and where, without the
/// source lines.
fn short(e: &LangError, path: Option<&str>) -> String {
    match (e.span, path) {
        (Some(s), Some(p)) => format!(
            "Error: {}\nLocation: in {p}: {}:{}-{}:{}",
            e.message, s.first_line, s.first_column, s.last_line, s.last_column
        ),
        _ => format!("Error: {}\n", e.message),
    }
}

/// The zone this node's endpoint is in, for API-created objects that
/// name none (Icinga puts them there).
pub(super) fn local_zone(config: &Config) -> Option<String> {
    let node = config.ctx.globals.get("NodeName")?.to_display();
    config
        .registry
        .committed("Zone")
        .into_iter()
        .find(|z| match z.get("endpoints") {
            Some(Value::Array(a)) => a.to_vec().iter().any(|e| e.to_display() == node),
            _ => false,
        })
        .map(|z| z.full_name())
}

/// Where the lines of a load go: the node's log, or the transcript of a
/// stage's validation (its `startup.log`).
#[derive(Clone, Default)]
pub enum LoadLog {
    #[default]
    Node,
    Transcript(Arc<parking_lot::Mutex<String>>),
}

impl LoadLog {
    fn transcript() -> LoadLog {
        LoadLog::Transcript(Arc::default())
    }

    pub fn write(&self, severity: Severity, facility: &str, message: &str) {
        match self {
            LoadLog::Node => log::write(severity, facility, message),
            LoadLog::Transcript(t) => t.lock().push_str(&log::line(severity, facility, message)),
        }
    }

    fn text(&self) -> String {
        match self {
            LoadLog::Node => String::new(),
            LoadLog::Transcript(t) => t.lock().clone(),
        }
    }
}

/// Loads the files and the API's objects. Errors of `candidate` (an
/// object being created) fail the load; a stored object that no longer
/// loads (the files changed under it) is left out with a log line and
/// stays in the store.
pub fn load(
    options: &LoadOptions,
    dir: &str,
    objects: &[ApiObject],
    candidate: Option<&ApiObject>,
    out: &LoadLog,
) -> Result<Config, Vec<String>> {
    let mut skipped: HashSet<usize> = HashSet::new();
    let leave_out = |i: usize, why: &str, skipped: &mut HashSet<usize>| {
        let o = &objects[i];
        out.write(
            Severity::Critical,
            "config",
            &format!(
                "{} '{}', created through the API, cannot be loaded and is left out: {why}",
                o.type_name, o.name
            ),
        );
        skipped.insert(i);
    };
    loop {
        // (index into `objects`, or None for the candidate; declaration)
        let mut decls = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            match o.declaration(dir) {
                Some(Ok(d)) if !skipped.contains(&i) => decls.push((Some(i), d)),
                Some(Err(e)) if !skipped.contains(&i) => leave_out(i, &e, &mut skipped),
                _ => {}
            }
        }
        if let Some(c) = candidate {
            match c.declaration(dir) {
                Some(Ok(d)) => decls.push((None, d)),
                Some(Err(e)) => return Err(vec![format!("Error: {e}\n")]),
                None => {}
            }
        }
        let sink = out.clone();
        let mut loaded = picket_model::run_files(options, move |r| {
            sink.write(r.severity, &r.facility, &r.message)
        });
        if !loaded.errors.is_empty() {
            return Err(super::daemon::rendered_errors(&loaded, false));
        }
        let texts: Vec<_> = decls.iter().map(|(_, d)| d.clone()).collect();
        let mut retry = false;
        for (i, e) in loaded.run_declarations(&texts, None) {
            match decls[i].0 {
                None => return Err(vec![short(&e, Some(&decls[i].1.path))]),
                Some(owner) => {
                    leave_out(owner, &e.message, &mut skipped);
                    retry = true;
                }
            }
        }
        if retry {
            continue;
        }
        loaded.commit();
        if !loaded.errors.is_empty() {
            let owner_of = |e: &LangError| {
                let path = loaded.error_path(e)?;
                decls.iter().find(|(_, d)| *d.path == *path)
            };
            let mut mine = Vec::new();
            for e in &loaded.errors {
                match owner_of(e) {
                    Some((None, d)) => mine.push(short(e, Some(&d.path))),
                    Some((Some(i), _)) => {
                        let i = *i;
                        leave_out(i, &e.message, &mut skipped);
                        retry = true;
                    }
                    None => {}
                }
            }
            if !mine.is_empty() {
                return Err(mine);
            }
            if retry {
                continue;
            }
            return Err(super::daemon::rendered_errors(&loaded, true));
        }
        let config = Config {
            registry: loaded.registry,
            ctx: Arc::new(loaded.ctx),
        };
        let kept: Vec<ApiObject> = objects
            .iter()
            .enumerate()
            .filter(|(i, _)| !skipped.contains(i))
            .map(|(_, o)| o.clone())
            .chain(candidate.cloned())
            .collect();
        for problem in api_objects::restore(&config.ctx, &config.registry, &kept) {
            out.write(Severity::Warning, "config", &problem);
        }
        if let Some(zone) = local_zone(&config) {
            for o in kept.iter().filter(|o| o.created.is_some()) {
                if let Some(obj) = config.registry.find(&o.type_name, &o.name) {
                    if obj.get_str("zone").is_empty() {
                        obj.set_raw("zone", Value::from(zone.as_str()));
                    }
                }
            }
        }
        return Ok(config);
    }
}

/// Runs [`load`] on a thread with a large stack (the evaluator recurses
/// with the input), off the runtime.
async fn load_aside(
    options: LoadOptions,
    dir: String,
    objects: Vec<ApiObject>,
    candidate: Option<ApiObject>,
    out: LoadLog,
) -> Result<Config, Vec<String>> {
    let (tx, rx) = oneshot::channel();
    let spawned = std::thread::Builder::new()
        .name("config".into())
        .stack_size(256 << 20)
        .spawn(move || {
            let _ = tx.send(load(&options, &dir, &objects, candidate.as_ref(), &out));
        });
    if spawned.is_err() {
        return Err(vec!["cannot start the validation thread".into()]);
    }
    rx.await
        .unwrap_or_else(|_| Err(vec!["the validation stopped unexpectedly".into()]))
}

fn refusal<E: std::fmt::Display>(e: CommandError<E>) -> String {
    e.to_string()
}

pub struct Configuration {
    options: LoadOptions,
    dir: String,
    store: Store<ApiObject>,
    current: Arc<RwLock<Config>>,
    checker: Checker,
    operator: Arc<Operator>,
    /// The configuration packages (`/v1/config/*`); their active stages
    /// load with the files.
    packages: Arc<Packages>,
    /// One change of the configuration at a time.
    lock: tokio::sync::Mutex<()>,
    /// Where objects that come, change or go are told of.
    bus: Bus,
}

impl Configuration {
    pub fn new(
        options: LoadOptions,
        data_dir: &Path,
        store: Store<ApiObject>,
        current: Arc<RwLock<Config>>,
        checker: Checker,
        operator: Arc<Operator>,
        bus: Bus,
    ) -> Configuration {
        let packages = Packages::in_data_dir(data_dir);
        Configuration {
            options,
            packages: Arc::new(packages),
            dir: package_dir(data_dir),
            store,
            current,
            checker,
            operator,
            lock: tokio::sync::Mutex::new(()),
            bus,
        }
    }

    pub fn current(&self) -> Config {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn packages(&self) -> &Arc<Packages> {
        &self.packages
    }

    /// Where objects created through the API are said to be declared,
    /// worked out once at start.
    pub fn api_objects_dir(&self) -> &str {
        &self.dir
    }

    /// The load options for a change through the API: the packages load
    /// the stages in force, as Icinga compiles only the new object and
    /// loads a stage activated since (or a new package) at the next
    /// reload. `ActiveStages` set beforehand is what each package's
    /// `active.conf` keeps.
    fn pinned_options(&self) -> LoadOptions {
        let mut options = self.options.clone();
        let in_force = self.current().ctx.globals.get("ActiveStages");
        for package in self.packages.list() {
            let stage = match &in_force {
                Some(Value::Dict(d)) => d.get(&package.name),
                Some(Value::Namespace(ns)) => ns.get(&package.name),
                _ => None,
            };
            let stage = stage.map(|v| v.to_display()).unwrap_or_default();
            options
                .defines
                .push((format!("ActiveStages.{}", package.name), stage));
        }
        options
    }

    /// Validates a stage just uploaded (`POST /v1/config/stages/<p>`) by
    /// loading the configuration with it as its package's active stage,
    /// as Icinga's validation run does; records `status` and
    /// `startup.log` in the stage; on success activates it when asked,
    /// and loads the configuration with it when asked. `guard` keeps
    /// other uploads out until this one is done.
    pub async fn deploy_stage(
        &self,
        package: &str,
        stage: &str,
        activate: bool,
        reload: bool,
        guard: picket_packages::UpdateGuard,
    ) {
        let one = self.lock.lock().await;
        let mut options = self.options.clone();
        options
            .defines
            .push(("ActiveStageOverride".into(), format!("{package}:{stage}")));
        let out = LoadLog::transcript();
        let info = |text: &str| out.write(Severity::Information, "cli", text);
        info(&super::daemon::loader_line());
        info(&super::daemon::loading_line(&options.config));
        let loaded = load_aside(
            options,
            self.dir.clone(),
            stored(&self.store),
            None,
            out.clone(),
        )
        .await;
        let valid = match &loaded {
            Ok(config) => {
                for line in super::daemon::instantiated(&config.registry) {
                    out.write(Severity::Information, "ConfigItem", &line);
                }
                info("Finished validating the configuration file(s).");
                true
            }
            Err(errors) => {
                for e in errors {
                    out.write(Severity::Critical, "config", e);
                }
                out.write(Severity::Critical, "cli", super::daemon::VALIDATION_FAILED);
                false
            }
        };
        drop(loaded);
        let what = format!("Stage '{stage}' of package '{package}'");
        if let Err(e) = self
            .packages
            .record_validation(package, stage, valid, &out.text())
        {
            log::critical(
                "config",
                &format!("{what}: cannot record its validation: {e}"),
            );
            return;
        }
        if !valid {
            log::warning(
                "config",
                &format!("{what} does not load; see its startup.log. The active stage stays."),
            );
            return;
        }
        log::info("config", &format!("{what} is valid."));
        if activate {
            if let Err(e) = self.packages.activate(package, stage) {
                log::critical("config", &format!("{what}: cannot activate it: {e}"));
                return;
            }
            log::info("config", &format!("{what} is now active."));
        }
        if reload {
            self.reload_locked().await;
        }
        drop(one);
        drop(guard);
    }

    /// Whether the API created the object (and may delete it).
    pub fn created(&self, type_name: &str, full_name: &str) -> bool {
        self.store
            .get(&api_objects::id(type_name, full_name))
            .is_some_and(|v| v.state.created.is_some())
    }

    /// Hands a configuration to the checker (which keeps the state of
    /// the objects that stay) and makes it the one in force; tells the
    /// bus of the objects it adds and drops.
    async fn switch(&self, config: Config) -> Option<picket_checker::scheduler::Reloaded> {
        let before = self.current().registry;
        let (tx, rx) = oneshot::channel();
        if !self
            .checker
            .send(Command::Reload {
                config: config.clone(),
                reply: tx,
            })
            .await
        {
            return None;
        }
        let reloaded = rx.await.ok()?;
        let after = config.registry.clone();
        match self.current.write() {
            Ok(mut c) => *c = config,
            Err(poisoned) => *poisoned.into_inner() = config,
        }
        self.operator.restore().await;
        if self.bus.has_subscribers() {
            let created = after.not_in(&before);
            // Those that use others go first, as a cascade deletes them.
            let deleted = before.not_in(&after).into_iter().rev();
            let told = created
                .into_iter()
                .map(|o| (ObjectChange::ObjectCreated, o))
                .chain(deleted.map(|o| (ObjectChange::ObjectDeleted, o)));
            for (change, (object_type, name)) in told {
                self.tell(change, object_type, name.to_string());
            }
        }
        Some(reloaded)
    }

    fn tell(&self, change: ObjectChange, object_type: &'static str, object_name: String) {
        self.bus.publish(Event::Object {
            change,
            object_type,
            object_name,
            timestamp: picket_model::result::now(),
        });
    }

    /// Loads the files again (SIGHUP, `picket daemon --reload`).
    pub async fn reload(&self) -> Reply {
        let _one = self.lock.lock().await;
        self.reload_locked().await
    }

    async fn reload_locked(&self) -> Reply {
        log::info("cli", "Reloading: validating the configuration.");
        let loaded = load_aside(
            self.options.clone(),
            self.dir.clone(),
            stored(&self.store),
            None,
            LoadLog::Node,
        )
        .await;
        let config = match loaded {
            Ok(c) => c,
            Err(errors) => {
                let at = picket_model::result::now();
                self.checker.send(Command::ReloadFailed { at }).await;
                return failed_reload(errors);
            }
        };
        match self.switch(config).await {
            Some(r) => {
                let text = format!(
                    "Reloaded the configuration: {} object(s) kept with their state, {} added, {} removed.",
                    r.kept, r.added, r.removed
                );
                log::info("cli", &text);
                Reply {
                    output: log::line(Severity::Information, "cli", &text),
                    ..Reply::default()
                }
            }
            None => failed_reload(vec!["the checker has stopped".into()]),
        }
    }

    /// Records a command for the object's aggregate (creating it with the
    /// command when it has none yet); answered once durable.
    async fn record(
        &self,
        actor: &Actor,
        id: &str,
        command: ApiObjectCommand,
    ) -> Result<(), String> {
        let command = StoreCommand::new(id, actor.clone(), command);
        if self.store.get(id).is_none() {
            match self.store.create(command.clone()).await {
                Ok(_) => return Ok(()),
                Err(CommandError::AlreadyExists(_)) => {}
                Err(e) => return Err(refusal(e)),
            }
        }
        self.store
            .submit(command)
            .map_err(refusal)?
            .await_events()
            .await
            .map(|_| ())
            .map_err(refusal)
    }

    /// Creates an object (`PUT /v1/objects/<type>/<name>`): it must load
    /// with everything else before it is stored. False when it did not
    /// load and is declared `ignore_on_error`.
    pub async fn create(
        &self,
        actor: &Actor,
        type_name: &str,
        full_name: &str,
        creation: Creation,
    ) -> Result<bool, Vec<String>> {
        let _one = self.lock.lock().await;
        if self.current().registry.find(type_name, full_name).is_some() {
            return Err(vec![format!("Object '{full_name}' already exists.")]);
        }
        let id = api_objects::id(type_name, full_name);
        let candidate = ApiObject {
            type_name: type_name.to_string(),
            name: full_name.to_string(),
            version: creation.time,
            created: Some(creation.clone()),
            ..ApiObject::default()
        };
        let others: Vec<ApiObject> = stored(&self.store)
            .into_iter()
            .filter(|o| o.type_name != type_name || o.name != full_name)
            .collect();
        let config = load_aside(
            self.pinned_options(),
            self.dir.clone(),
            others,
            Some(candidate),
            LoadLog::Node,
        )
        .await?;
        if config.registry.find(type_name, full_name).is_none() {
            log::info(
                "config",
                &format!("{type_name} '{full_name}' was not created: it had errors and is declared ignore_on_error."),
            );
            return Ok(false);
        }
        self.record(actor, &id, ApiObjectCommand::Create(creation))
            .await
            .map_err(|e| vec![e])?;
        self.switch(config)
            .await
            .ok_or_else(|| vec!["The node is stopping.".to_string()])?;
        log::info(
            "config",
            &format!("Created {type_name} '{full_name}' for {actor}."),
        );
        Ok(true)
    }

    /// Changes attributes of live objects (`POST /v1/objects/...`), each
    /// object's attributes in name order up to the first that fails (as
    /// Icinga does); what changed is stored, then the checker takes the
    /// objects as they are now. Per object: `Err((attribute, error))`.
    pub async fn modify(
        &self,
        actor: &Actor,
        targets: Vec<(Arc<ConfigObject>, Changes)>,
    ) -> Vec<Result<(), Unchanged>> {
        let _one = self.lock.lock().await;
        let config = self.current();
        let at = picket_model::result::now();
        let mut results = Vec::with_capacity(targets.len());
        let mut changed = false;
        for (obj, mut attrs) in targets {
            // A reload since the request picked it made a new object of
            // the same name: that one is in force.
            let obj = config
                .registry
                .find(obj.schema.name, &obj.full_name())
                .unwrap_or(obj);
            attrs.sort_by(|a, b| a.0.cmp(&b.0));
            let recorded = |o: &ConfigObject| match o.original_attributes() {
                Value::Dict(d) => d
                    .entries()
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), picket_lang::json::to_serde(&v)))
                    .collect(),
                _ => Vec::<(String, serde_json::Value)>::new(),
            };
            let before = recorded(&obj);
            let mut applied = Vec::new();
            let mut outcome = Ok(());
            for (path, value) in attrs {
                let v = picket_lang::json::from_serde(&value);
                match api_objects::modify_attribute(
                    &config.ctx,
                    &config.registry,
                    &obj,
                    &path,
                    v,
                    at,
                ) {
                    Ok(()) => applied.push((path, value)),
                    Err(e) => {
                        outcome = Err((path, e.to_string()));
                        break;
                    }
                }
            }
            let original_values: Vec<(String, serde_json::Value)> = recorded(&obj)
                .into_iter()
                .filter(|(k, _)| before.iter().all(|(b, _)| b != k))
                .collect();
            let originals: Vec<String> = original_values.iter().map(|(k, _)| k.clone()).collect();
            changed |= !applied.is_empty();
            let modified = applied.len();
            if !applied.is_empty() || !originals.is_empty() {
                let id = api_objects::id(obj.schema.name, &obj.full_name());
                let command = ApiObjectCommand::Modify {
                    changes: applied,
                    originals,
                    original_values,
                    at,
                };
                match self.record(actor, &id, command).await {
                    // An event for each attribute, as Icinga sets them
                    // one by one.
                    Ok(()) => (0..modified).for_each(|_| {
                        self.tell(
                            ObjectChange::ObjectModified,
                            obj.schema.name,
                            obj.full_name(),
                        )
                    }),
                    Err(e) => outcome = Err((String::new(), e)),
                }
            }
            results.push(outcome);
        }
        if changed {
            self.switch(config).await;
        }
        results
    }

    /// Deletes objects the API created (`DELETE /v1/objects/...`), with
    /// the objects that use them when `cascade` is set. Per object, the
    /// errors that kept it.
    pub async fn delete(
        &self,
        actor: &Actor,
        targets: Vec<Arc<ConfigObject>>,
        cascade: bool,
    ) -> Vec<Result<(), Vec<String>>> {
        let _one = self.lock.lock().await;
        let config = self.current();
        let users = config.registry.users();
        let operations = self.operator.all();
        let remarks_of = |name: &str| {
            operations.iter().any(|o| {
                o.state.checkable == name
                    && (!o.state.comments.is_empty() || !o.state.downtimes.is_empty())
            })
        };
        let mut doomed: Vec<Arc<ConfigObject>> = Vec::new();
        let is_doomed = |d: &[Arc<ConfigObject>], o: &ConfigObject| {
            d.iter()
                .any(|x| std::ptr::eq(x.schema, o.schema) && x.full_name() == o.full_name())
        };
        let mut results = Vec::with_capacity(targets.len());
        for obj in targets {
            let name = obj.full_name();
            // One whose `package` was set to another (an attribute of its
            // PUT) counts as not the API's, as in Icinga.
            if !self.created(obj.schema.name, &name) || obj.get_str("package") != "_api" {
                results.push(Err(vec![
                    "Object cannot be deleted because it was not created using the API.".into(),
                ]));
                continue;
            }
            let used = users
                .get(&(obj.schema.name, name.as_str().into()))
                .is_some_and(|u| u.iter().any(|x| !is_doomed(&doomed, x)))
                || remarks_of(&name);
            if used && !cascade {
                results.push(Err(vec![format!(
                    "Object '{name}' of type '{}' cannot be deleted because other objects depend on it. Use cascading delete to delete it anyway.",
                    obj.schema.name
                )]));
                continue;
            }
            let mut queue = vec![obj];
            while let Some(o) = queue.pop() {
                if is_doomed(&doomed, &o) {
                    continue;
                }
                if let Some(u) = users.get(&(o.schema.name, o.full_name_str())) {
                    queue.extend(u.iter().cloned());
                }
                doomed.push(o);
            }
            results.push(Ok(()));
        }
        if doomed.is_empty() {
            return results;
        }
        let gone: HashSet<String> = doomed
            .iter()
            .map(|o| api_objects::id(o.schema.name, &o.full_name()))
            .collect();
        let remaining: Vec<ApiObject> = stored(&self.store)
            .into_iter()
            .filter(|o| !gone.contains(&api_objects::id(&o.type_name, &o.name)))
            .collect();
        let loaded = load_aside(
            self.pinned_options(),
            self.dir.clone(),
            remaining,
            None,
            LoadLog::Node,
        )
        .await;
        let config = match loaded {
            Ok(c) => c,
            Err(errors) => {
                return results
                    .into_iter()
                    .map(|r| r.and(Err(errors.clone())))
                    .collect()
            }
        };
        for o in &doomed {
            let name = o.full_name();
            if self.created(o.schema.name, &name) {
                let id = api_objects::id(o.schema.name, &name);
                if let Err(e) = self.record(actor, &id, ApiObjectCommand::Delete).await {
                    log::critical(
                        "config",
                        &format!("Cannot record the deletion of '{id}': {e}"),
                    );
                }
            }
            if matches!(o.schema.name, "Host" | "Service") {
                self.operator.forget(actor, &name).await;
            }
            log::info(
                "config",
                &format!("Deleted {} '{name}' for {actor}.", o.schema.name),
            );
        }
        self.switch(config).await;
        results
    }
}

fn failed_reload(errors: Vec<String>) -> Reply {
    let mut output = String::new();
    for e in &errors {
        log::critical("config", e);
        output.push_str(&log::line(Severity::Critical, "config", e));
    }
    let last =
        "Reload failed: the configuration is not valid; the node keeps running the previous one.";
    log::critical("cli", last);
    output.push_str(&log::line(Severity::Critical, "cli", last));
    Reply {
        output,
        code: 1,
        ..Reply::default()
    }
}
