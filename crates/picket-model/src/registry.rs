//! Collects what the configuration declares while its files run.
//!
//! `object`, `template` and `apply` statements are not evaluated when their
//! file runs: the registry stores them (with the variables captured by
//! `use`) and the commit phase evaluates them once every file has run, so
//! that a body may use constants and templates defined further down. The
//! registry also answers `import`, `get_object` and friends for the
//! evaluator.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use indexmap::IndexMap;
use parking_lot::RwLock;
use picket_lang::ast::{ApplyDef, ObjectDef};
use picket_lang::eval::{ApplyDecl, ConfigHooks, Frame, Interp, ObjectDecl};
use picket_lang::source::Span;
use picket_lang::{Dict, LangError, Str, Value};
use rustc_hash::FxHashMap;

use crate::object::ConfigObject;
use crate::schema::TypeSchema;

/// A declared `object` or `template`.
pub struct Item {
    pub schema: &'static TypeSchema,
    pub name: Str,
    pub is_template: bool,
    pub is_default: bool,
    pub ignore_on_error: bool,
    pub def: Arc<ObjectDef>,
    pub closure: Option<Dict>,
    pub zone: Option<Str>,
    pub package: Str,
    /// Built into every configuration: not counted, not listed.
    pub hidden: bool,
}

/// A declared `apply` rule.
pub struct Rule {
    pub schema: &'static TypeSchema,
    pub name: Str,
    pub def: Arc<ApplyDef>,
    pub closure: Option<Dict>,
    pub zone: Option<Str>,
    pub package: Str,
    /// Set once the rule created an object, for the "does not match
    /// anywhere" warning.
    pub matched: AtomicBool,
}

impl Rule {
    pub fn mark_matched(&self) {
        self.matched.store(true, Ordering::Relaxed);
    }
    pub fn has_matched(&self) -> bool {
        self.matched.load(Ordering::Relaxed)
    }
}

/// Types whose object names are composed from other attributes
/// (`host!service`): they cannot be checked for duplicates before commit.
pub fn has_composite_name(type_name: &str) -> bool {
    matches!(
        type_name,
        "Service" | "Notification" | "Dependency" | "ScheduledDowntime" | "Comment" | "Downtime"
    )
}

#[derive(Default)]
struct Store {
    /// Objects (not templates) in declaration order.
    objects: Vec<Arc<Item>>,
    /// Templates and simply named objects, for `import` and duplicates.
    by_name: HashMap<(&'static str, Str), Arc<Item>>,
    defaults: HashMap<&'static str, Vec<Arc<Item>>>,
    rules: Vec<Arc<Rule>>,
    /// Members added by `assign where` of group objects: (group type,
    /// group name) → member full names.
    assigned: HashMap<(&'static str, String), Vec<String>>,
    /// Committed objects per type, by full name, in commit order.
    committed: HashMap<&'static str, IndexMap<Str, Arc<ConfigObject>>>,
}

/// Pairs of fields that together name a service.
const SERVICE_REFERENCES: &[(&str, &str)] = &[
    ("host_name", "service_name"),
    ("child_host_name", "child_service_name"),
    ("parent_host_name", "parent_service_name"),
];

/// The declarations of one configuration and, after commit, its objects.
#[derive(Default)]
pub struct Registry {
    store: RwLock<Store>,
    /// Declarations made now are built-in objects (see [`Item::hidden`]).
    hidden: AtomicBool,
}

fn location(sources: &picket_lang::source::SourceMap, span: Span) -> String {
    format!(
        "{}: {}:{}-{}:{}",
        sources.path(span.file),
        span.first_line,
        span.first_column,
        span.last_line,
        span.last_column
    )
}

impl Registry {
    pub fn new() -> Arc<Self> {
        Arc::new(Registry::default())
    }

    /// Marks the following declarations as built-in.
    pub fn set_hidden_declarations(&self, hidden: bool) {
        self.hidden.store(hidden, Ordering::Relaxed);
    }

    pub fn objects_declared(&self) -> Vec<Arc<Item>> {
        self.store.read().objects.clone()
    }

    /// Drops the declarations of objects once they are committed: their
    /// syntax trees are a quarter of a large configuration's memory and
    /// nothing reads them afterwards (a change through the API runs the
    /// files again into a new registry). Templates, default templates and
    /// apply rules stay: `/v1/templates` lists them.
    pub fn release_object_declarations(&self) {
        let mut store = self.store.write();
        store.objects = Vec::new();
        store.by_name.retain(|_, item| item.is_template);
        store.by_name.shrink_to_fit();
    }

    pub fn rules(&self) -> Vec<Arc<Rule>> {
        self.store.read().rules.clone()
    }

    pub fn defaults(&self, type_name: &str) -> Vec<Arc<Item>> {
        self.store
            .read()
            .defaults
            .get(type_name)
            .cloned()
            .unwrap_or_default()
    }

    pub fn item(&self, type_name: &str, name: &str) -> Option<Arc<Item>> {
        let store = self.store.read();
        let schema = crate::schema::find_type(type_name)?;
        store.by_name.get(&(schema.name, Str::from(name))).cloned()
    }

    /// Records a committed object; false if one of that name exists.
    pub fn add_committed(&self, obj: Arc<ConfigObject>) -> bool {
        let mut store = self.store.write();
        let name = obj.full_name_str();
        let map = store.committed.entry(obj.schema.name).or_default();
        if map.contains_key(&name) {
            return false;
        }
        map.insert(name, obj);
        true
    }

    /// Records that `assign where` of a group matched a member.
    pub fn add_member(&self, group_type: &'static str, group: &str, member: &str) {
        self.store
            .write()
            .assigned
            .entry((group_type, group.to_string()))
            .or_default()
            .push(member.to_string());
    }

    /// The members `assign where` gave a group.
    pub fn assigned_members(&self, group_type: &'static str, group: &str) -> Vec<String> {
        self.store
            .read()
            .assigned
            .get(&(group_type, group.to_string()))
            .cloned()
            .unwrap_or_default()
    }

    /// The templates of a type, by name.
    pub fn templates(&self, type_name: &str) -> Vec<Arc<Item>> {
        let store = self.store.read();
        let mut items: Vec<Arc<Item>> = store
            .by_name
            .values()
            .filter(|i| i.is_template && i.schema.name == type_name)
            .cloned()
            .collect();
        items.sort_by(|a, b| a.name.cmp(&b.name));
        items
    }

    /// Takes an object back out (an `ignore_on_error` object that failed).
    pub fn remove_committed(&self, obj: &ConfigObject) {
        let mut store = self.store.write();
        if let Some(map) = store.committed.get_mut(obj.schema.name) {
            map.shift_remove(obj.full_name().as_str());
        }
    }

    pub fn committed(&self, type_name: &str) -> Vec<Arc<ConfigObject>> {
        self.store
            .read()
            .committed
            .get(type_name)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The objects of this registry that `other` has none of the same
    /// type and name of: what changing the configuration from `other` to
    /// this one adds. Types come in load order (hosts before their
    /// services), objects of a type in commit order.
    pub fn not_in(&self, other: &Registry) -> Vec<(&'static str, Str)> {
        if std::ptr::eq(self, other) {
            return Vec::new();
        }
        let mine = self.store.read();
        let theirs = other.store.read();
        let mut out = Vec::new();
        for schema in crate::commit::type_order() {
            let Some(objects) = mine.committed.get(schema.name) else {
                continue;
            };
            let known = theirs.committed.get(schema.name);
            out.extend(
                objects
                    .keys()
                    .filter(|name| known.is_none_or(|k| !k.contains_key(*name)))
                    .map(|name| (schema.name, name.clone())),
            );
        }
        out
    }

    pub fn find(&self, type_name: &str, full_name: &str) -> Option<Arc<ConfigObject>> {
        self.store
            .read()
            .committed
            .get(type_name)
            .and_then(|m| m.get(full_name).cloned())
    }

    /// Who names whom, as Icinga's dependency graph has it: for each
    /// object named in a reference of another (a Service's host, a Host's
    /// check command and groups, a Dependency's parent service...), the
    /// objects that name it. `meta=used_by` shows it; deleting an object
    /// others use needs `cascade`.
    pub fn users(&self) -> FxHashMap<(&'static str, Str), Vec<Arc<ConfigObject>>> {
        let mut out: FxHashMap<(&'static str, Str), Vec<Arc<ConfigObject>>> = FxHashMap::default();
        let all: Vec<Arc<ConfigObject>> = {
            let store = self.store.read();
            store
                .committed
                .values()
                .flat_map(|m| m.values().cloned())
                .collect()
        };
        for obj in all {
            let mut named: Vec<(&'static str, Str)> = Vec::new();
            for f in obj.schema.fields {
                let Some(target) = f.reference else {
                    continue;
                };
                let value = if f.name == "groups" {
                    obj.runtime_groups()
                } else {
                    obj.raw(f.name).unwrap_or_default()
                };
                match value {
                    Value::Array(a) => named.extend(
                        a.to_vec()
                            .into_iter()
                            .map(|v| (target, Str::from(v.to_display()))),
                    ),
                    Value::String(s) if !s.is_empty() => named.push((target, s)),
                    _ => {}
                }
            }
            for (host, service) in SERVICE_REFERENCES {
                let svc = obj.get_str(service);
                if obj.field_schema(service).is_some() && !svc.is_empty() {
                    let name = format!("{}!{svc}", obj.get_str(host));
                    named.push(("Service", Str::from(name)));
                }
            }
            named.sort();
            named.dedup();
            for key in named {
                out.entry(key).or_default().push(obj.clone());
            }
        }
        out
    }

    /// Objects of a type, not counting built-in ones.
    pub fn count(&self, type_name: &str) -> usize {
        self.store
            .read()
            .committed
            .get(type_name)
            .map(|m| m.values().filter(|o| !o.hidden()).count())
            .unwrap_or(0)
    }

    /// Runs a template's (or object's) body on the object in `frame`.
    pub fn run_import(
        &self,
        interp: &mut Interp<'_>,
        frame: &mut Frame,
        item: &Item,
    ) -> Result<(), LangError> {
        if let Value::Object(o) = &frame.this {
            if let Some(obj) = o.as_any().downcast_ref::<ConfigObject>() {
                obj.push_template(&item.name);
            }
        }
        if let Some(c) = &item.closure {
            for (k, v) in c.entries() {
                frame.locals.insert(k, v);
            }
        }
        // An object imported like a template brings its default templates
        // again: in Icinga they are part of every object's body.
        if !item.is_template {
            for default in self.defaults(item.schema.name) {
                if default.name != item.name {
                    self.run_import(interp, frame, &default)?;
                }
            }
        }
        interp.run_body(frame, &item.def.body).map(|_| ())
    }
}

impl ConfigHooks for Registry {
    fn declare_object(&self, interp: &mut Interp<'_>, decl: ObjectDecl) -> Result<(), LangError> {
        let def = decl.def;
        let header = def.header;
        // The type is a name like any other: an unknown one is an undefined
        // variable, at the type name.
        let Some(schema) = crate::schema::find_type(&def.type_name) else {
            return Err(LangError::eval(
                format!(
                    "Tried to access undefined script variable '{}'",
                    def.type_name
                ),
                def.type_span,
            ));
        };
        if def.filter.is_some() && schema.group_member.is_none() {
            return Err(LangError::script(
                format!(
                    "Object '{}' of type '{}' must not have 'assign where' and 'ignore where' rules: in {}",
                    decl.name,
                    schema.name,
                    location(&interp.ctx.sources, header)
                ),
                header,
            ));
        }
        if decl.name.contains('!') && !def.is_template {
            return Err(LangError::script(
                format!(
                    "Name for object '{}' of type '{}' is invalid: Object names may not contain '!'",
                    decl.name, schema.name
                ),
                header,
            ));
        }
        let item = Arc::new(Item {
            schema,
            name: decl.name.clone(),
            is_template: def.is_template,
            is_default: def.is_default,
            ignore_on_error: def.ignore_on_error,
            def: def.clone(),
            closure: decl.closure,
            zone: decl.zone,
            package: decl.package,
            hidden: self.hidden.load(Ordering::Relaxed),
        });
        let mut store = self.store.write();
        let key = (schema.name, decl.name.clone());
        if def.is_template || !has_composite_name(schema.name) {
            // Templates and objects of a type share one namespace.
            if let Some(prev) = store.by_name.get(&key) {
                return Err(LangError::script(
                    format!(
                        "Object '{}' of type '{}' re-defined: in {}; previous definition: in {}",
                        decl.name,
                        schema.name,
                        location(&interp.ctx.sources, header),
                        location(&interp.ctx.sources, prev.def.header)
                    ),
                    header,
                ));
            }
            store.by_name.insert(key, item.clone());
        }
        if def.is_default {
            store
                .defaults
                .entry(schema.name)
                .or_default()
                .push(item.clone());
        }
        if !def.is_template {
            store.objects.push(item);
        }
        Ok(())
    }

    fn declare_apply(&self, _interp: &mut Interp<'_>, decl: ApplyDecl) -> Result<(), LangError> {
        let def = decl.def;
        let Some(schema) = crate::schema::find_type(&def.type_name) else {
            return Err(LangError::eval(
                format!(
                    "Tried to access undefined script variable '{}'",
                    def.type_name
                ),
                def.type_span,
            ));
        };
        if schema.apply_targets.is_empty() {
            return Err(LangError::script(
                format!("'apply' cannot be used with type '{}'", schema.name),
                def.type_span,
            ));
        }
        if let Some(target) = &def.target {
            if !schema.apply_targets.contains(&&**target) {
                return Err(LangError::script(
                    format!("'apply' target type '{target}' is invalid"),
                    def.target_span,
                ));
            }
        } else if schema.apply_targets.len() > 1 {
            let names: Vec<String> = schema
                .apply_targets
                .iter()
                .map(|t| format!("'{t}'"))
                .collect();
            return Err(LangError::script(
                format!(
                    "'apply' target type is ambiguous (can be one of {}): use 'to' to specify a type",
                    names.join(" or ")
                ),
                def.name_span,
            ));
        }
        self.store.write().rules.push(Arc::new(Rule {
            schema,
            name: decl.name,
            def,
            closure: decl.closure,
            zone: decl.zone,
            package: decl.package,
            matched: AtomicBool::new(false),
        }));
        Ok(())
    }

    fn import(
        &self,
        interp: &mut Interp<'_>,
        frame: &mut Frame,
        name: &Value,
        span: Span,
    ) -> Result<(), LangError> {
        let type_name = match &frame.this {
            Value::Object(o) => o.type_name(),
            _ => {
                return Err(LangError::script(
                    format!(
                        "Import references unknown template: '{}'",
                        name.to_display()
                    ),
                    span,
                ))
            }
        };
        let name = name.to_display();
        let Some(item) = self.item(&type_name, &name) else {
            return Err(LangError::script(
                format!("Import references unknown template: '{name}'"),
                span,
            ));
        };
        self.run_import(interp, frame, &item)
    }

    fn get_object(&self, type_name: &str, name: &str) -> Option<Value> {
        self.find(type_name, name).map(|o| Value::Object(o))
    }

    fn get_objects(&self, type_name: &str) -> Vec<Value> {
        self.committed(type_name)
            .into_iter()
            .map(|o| Value::Object(o))
            .collect()
    }

    fn get_template(
        &self,
        type_name: &str,
        name: &str,
        sources: &picket_lang::source::SourceMap,
    ) -> Option<Value> {
        let item = self.item(type_name, name).filter(|i| i.is_template)?;
        Some(template_value(&item, sources))
    }

    fn get_templates(
        &self,
        type_name: &str,
        sources: &picket_lang::source::SourceMap,
    ) -> Vec<Value> {
        let store = self.store.read();
        let mut items: Vec<&Arc<Item>> = store
            .by_name
            .values()
            .filter(|i| i.is_template && i.schema.name == type_name)
            .collect();
        items.sort_by(|a, b| a.name.cmp(&b.name));
        items
            .into_iter()
            .map(|i| template_value(i, sources))
            .collect()
    }
}

/// A template as `get_template()` and `/v1/templates` describe it: its
/// name, type and where it is declared.
pub fn template_value(item: &Item, sources: &picket_lang::source::SourceMap) -> Value {
    let span = item.def.header;
    let location = Dict::new();
    location.insert("first_column", Value::Number(f64::from(span.first_column)));
    location.insert("first_line", Value::Number(f64::from(span.first_line)));
    location.insert("last_column", Value::Number(f64::from(span.last_column)));
    location.insert("last_line", Value::Number(f64::from(span.last_line)));
    location.insert(
        "path",
        Value::String(sources.path(span.file).as_ref().into()),
    );
    let d = Dict::new();
    d.insert("location", Value::Dict(location));
    d.insert("name", Value::String(item.name.clone()));
    d.insert("type", Value::from(item.schema.name));
    Value::Dict(d)
}
