//! Objects created and changed through the API, as aggregates for
//! `picket-store`: one per object (id `Type:full name`) in the
//! `api-objects` store. An object the API created keeps its creation
//! (templates, attributes) and is declared again from it at every load, in
//! package `_api`, after the configuration files, so that apply rules and
//! groups take it as if it were in a file. Changes to attributes (of any
//! object, from files too) are kept in the order made and applied again
//! after every commit, as Icinga restores its modified attributes.
//!
//! What is here is free of I/O: the aggregate, the declaration text Icinga
//! would write for the object, and Icinga's rules for changing one
//! attribute of a live object ([`modify_attribute`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use picket_lang::config_writer::{emit_identifier, emit_string, emit_value};
use picket_lang::eval::Context;
use picket_lang::{Dict, Value};
use picket_store::{Aggregate, CommandSummary, Describe};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::schema::{FieldSchema, COMMON_FIELDS};
use crate::{ConfigObject, Registry};

/// The store of the API's objects.
pub const STORE: &str = "api-objects";

/// The package objects created through the API belong to.
pub const PACKAGE: &str = "_api";

/// The aggregate id of an object.
pub fn id(type_name: &str, full_name: &str) -> String {
    format!("{type_name}:{full_name}")
}

/// What a `PUT /v1/objects/<type>/<name>` asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Creation {
    pub templates: Vec<String>,
    /// Attributes by path (`vars.os` sets one custom variable).
    pub attrs: BTreeMap<String, Json>,
    pub ignore_on_error: bool,
    /// When it was created: its `version`.
    pub time: f64,
}

/// An object the API created or changed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ApiObject {
    pub type_name: String,
    pub name: String,
    /// Set while the object exists because the API created it.
    pub created: Option<Creation>,
    /// Attribute changes by path, in the order they were made (a path
    /// changed again moves to the end).
    pub changes: Vec<(String, Json)>,
    /// The paths whose values before the first change are shown as
    /// `original_attributes` (also those whose change failed, as in Icinga).
    pub originals: Vec<String>,
    /// Those values as they were recorded: replaying the kept changes
    /// cannot always find them again, since a change that a later one
    /// replaced is not kept (records older than this field have none).
    #[serde(default)]
    pub original_values: Vec<(String, Json)>,
    /// When a configuration attribute was last changed (0: never).
    pub version: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ApiObjectCommand {
    Create(Creation),
    Modify {
        changes: Vec<(String, Json)>,
        originals: Vec<String>,
        #[serde(default)]
        original_values: Vec<(String, Json)>,
        at: f64,
    },
    Delete,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ApiObjectEvent {
    Created(Creation),
    Modified {
        changes: Vec<(String, Json)>,
        originals: Vec<String>,
        #[serde(default)]
        original_values: Vec<(String, Json)>,
        at: f64,
    },
    Deleted,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiObjectRefusal {
    #[error("the object exists already")]
    Exists,
    #[error("the object was not created through the API")]
    NotCreated,
}

impl ApiObject {
    fn new(id: &str) -> ApiObject {
        let (type_name, name) = id.split_once(':').unwrap_or(("", id));
        ApiObject {
            type_name: type_name.to_string(),
            name: name.to_string(),
            ..ApiObject::default()
        }
    }

    fn decide(&self, command: &ApiObjectCommand) -> Result<Vec<ApiObjectEvent>, ApiObjectRefusal> {
        Ok(match command {
            ApiObjectCommand::Create(c) => {
                if self.created.is_some() {
                    return Err(ApiObjectRefusal::Exists);
                }
                vec![ApiObjectEvent::Created(c.clone())]
            }
            ApiObjectCommand::Modify {
                changes,
                originals,
                original_values,
                at,
            } => {
                if changes.is_empty() && originals.iter().all(|o| self.originals.contains(o)) {
                    return Ok(Vec::new());
                }
                vec![ApiObjectEvent::Modified {
                    changes: changes.clone(),
                    originals: originals.clone(),
                    original_values: original_values.clone(),
                    at: *at,
                }]
            }
            ApiObjectCommand::Delete => {
                if self.created.is_none() {
                    return Err(ApiObjectRefusal::NotCreated);
                }
                vec![ApiObjectEvent::Deleted]
            }
        })
    }

    /// The declaration to run for an object the API created.
    pub fn declaration(&self, dir: &str) -> Option<Result<Declaration, String>> {
        let c = self.created.as_ref()?;
        Some(declaration(&self.type_name, &self.name, c, dir))
    }
}

impl Describe for ApiObjectCommand {
    fn summary(&self) -> CommandSummary {
        match self {
            ApiObjectCommand::Create(c) => {
                let mut s = CommandSummary::new("create-object");
                if !c.templates.is_empty() {
                    s = s.arg("templates", c.templates.join(","));
                }
                for (k, v) in &c.attrs {
                    s = s.arg(k, v);
                }
                s
            }
            ApiObjectCommand::Modify { changes, .. } => {
                let mut s = CommandSummary::new("modify-object");
                for (k, v) in changes {
                    s = s.arg(k, v);
                }
                s
            }
            ApiObjectCommand::Delete => CommandSummary::new("delete-object"),
        }
    }
}

impl Aggregate for ApiObject {
    type InitCommand = ApiObjectCommand;
    type Command = ApiObjectCommand;
    type InitEvent = Vec<ApiObjectEvent>;
    type Event = ApiObjectEvent;
    type Error = ApiObjectRefusal;

    fn process_init(
        id: &str,
        command: &ApiObjectCommand,
    ) -> Result<Vec<ApiObjectEvent>, ApiObjectRefusal> {
        ApiObject::new(id).decide(command)
    }

    fn init(id: &str, events: Vec<ApiObjectEvent>) -> ApiObject {
        let mut o = ApiObject::new(id);
        for e in events {
            o.apply(e);
        }
        o
    }

    fn process(&self, command: &ApiObjectCommand) -> Result<Vec<ApiObjectEvent>, ApiObjectRefusal> {
        self.decide(command)
    }

    fn apply(&mut self, event: ApiObjectEvent) {
        match event {
            ApiObjectEvent::Created(c) => {
                self.version = c.time;
                self.created = Some(c);
            }
            ApiObjectEvent::Modified {
                changes,
                originals,
                original_values,
                at,
            } => {
                let changes_made = changes.clone();
                for (path, value) in changes {
                    // What a path replaces is gone: its earlier change and
                    // changes below it.
                    let below = format!("{path}.");
                    self.changes
                        .retain(|(p, _)| p != &path && !p.starts_with(&below));
                    self.changes.push((path, value));
                }
                if !changes_made.is_empty() {
                    self.version = at;
                }
                for o in originals {
                    if !self.originals.contains(&o) {
                        self.originals.push(o);
                    }
                }
                for (path, value) in original_values {
                    if self.original_values.iter().all(|(p, _)| p != &path) {
                        self.original_values.push((path, value));
                    }
                }
            }
            ApiObjectEvent::Deleted => {
                *self = ApiObject {
                    type_name: std::mem::take(&mut self.type_name),
                    name: std::mem::take(&mut self.name),
                    ..ApiObject::default()
                };
            }
        }
    }
}

/// A declaration in the configuration language, with the path Icinga
/// would have written it to.
#[derive(Debug, Clone)]
pub struct Declaration {
    pub path: String,
    pub text: String,
}

/// The attributes a composite name stands for: (field, value).
pub type Owners = Vec<(&'static str, String)>;

/// The short name and the attributes a composite name stands for
/// (`host!service` of a Service is its `host_name`); `Err` is Icinga's
/// error for a name with the wrong number of parts.
pub fn name_parts(type_name: &str, full_name: &str) -> Result<(String, Owners), String> {
    let parts: Vec<&str> = full_name.split('!').collect();
    let fields: &[&'static str] = match type_name {
        "Service" => &["host_name"],
        "Notification" | "ScheduledDowntime" | "Comment" | "Downtime" => {
            &["host_name", "service_name"]
        }
        "Dependency" => &["child_host_name", "child_service_name"],
        _ => return Ok((full_name.to_string(), Vec::new())),
    };
    let fits = match fields.len() {
        1 => parts.len() == 2,
        _ => parts.len() == 2 || parts.len() == 3,
    };
    if !fits || parts.iter().any(|p| p.is_empty()) {
        return Err(format!("Invalid {type_name} name."));
    }
    let (short, owners) = parts.split_last().unwrap_or((&"", &[]));
    let named = fields
        .iter()
        .zip(owners.iter())
        .map(|(f, v)| (*f, v.to_string()))
        .collect();
    Ok((short.to_string(), named))
}

/// The declaration Icinga writes for a created object: its templates,
/// then its attributes sorted by path (a path `vars.os` is written as
/// `vars["os"]`), the owners from its name among them.
pub fn declaration(
    type_name: &str,
    full_name: &str,
    creation: &Creation,
    dir: &str,
) -> Result<Declaration, String> {
    let (short, owners) = name_parts(type_name, full_name)?;
    let mut attrs: BTreeMap<String, Value> = creation
        .attrs
        .iter()
        .filter(|(k, _)| k.as_str() != "name")
        .map(|(k, v)| (k.clone(), picket_lang::json::from_serde(v)))
        .collect();
    for (field, value) in owners {
        attrs.insert(field.to_string(), Value::from(value));
    }
    let mut text = format!("object {type_name} ");
    emit_string(&mut text, &short);
    if creation.ignore_on_error {
        text.push_str(" ignore_on_error");
    }
    text.push_str(" {\n");
    for t in &creation.templates {
        text.push_str("\timport ");
        emit_string(&mut text, t);
        text.push('\n');
    }
    if !creation.templates.is_empty() {
        text.push('\n');
    }
    for (path, value) in &attrs {
        text.push('\t');
        let mut tokens = path.split('.');
        emit_identifier(&mut text, tokens.next().unwrap_or_default());
        for t in tokens {
            text.push('[');
            emit_string(&mut text, t);
            text.push(']');
        }
        text.push_str(" = ");
        text.push_str(&emit_value(value));
        text.push('\n');
    }
    text.push_str("}\n");
    let plural = crate::schema::find_type(type_name)
        .map(|t| t.plural.to_lowercase())
        .unwrap_or_else(|| type_name.to_lowercase());
    Ok(Declaration {
        path: format!("{dir}/{plural}/{full_name}.conf"),
        text,
    })
}

/// Fields the API may never change (Icinga's `no_user_modify`): the
/// bookkeeping every object has, and group membership, which apply rules
/// and `assign where` decide at commit.
fn user_modifiable(field: &str) -> bool {
    !COMMON_FIELDS.contains(&field) && field != "groups"
}

/// Why a change of one attribute failed, in Icinga's words (the API puts
/// `Error: ` before them).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModifyError {
    #[error("Invalid field ID.")]
    UnknownField,
    #[error("Attribute cannot be modified.")]
    NotModifiable,
    #[error("{0}")]
    Invalid(String),
}

/// Changes one configuration attribute (`path` may reach into a
/// dictionary: `vars.os`) of a live object, as Icinga's `ModifyAttribute`
/// does: the value before the first change of the path is recorded in
/// `original_attributes` (even when the change then fails: Icinga records
/// first), the new value is converted to the field's kind and the object
/// validated with it; a change that fails leaves the value as it was.
pub fn modify_attribute(
    ctx: &Context,
    registry: &Arc<Registry>,
    obj: &Arc<ConfigObject>,
    path: &str,
    value: Value,
    at: f64,
) -> Result<(), ModifyError> {
    let mut tokens = path.split('.');
    let name = tokens.next().unwrap_or_default();
    let field: &FieldSchema = obj
        .field_schema(name)
        .ok_or(if COMMON_FIELDS.contains(&name) {
            ModifyError::NotModifiable
        } else {
            ModifyError::UnknownField
        })?;
    if !user_modifiable(name) {
        return Err(ModifyError::NotModifiable);
    }
    let keys: Vec<&str> = tokens.collect();
    let old = obj.get(name).unwrap_or_default();
    let new = if keys.is_empty() {
        obj.record_original(path, old.clone());
        value
    } else {
        // Copies along the path only: the old dictionaries may be shared.
        let top = match &old {
            Value::Dict(d) => d.shallow_clone(),
            Value::Null => Dict::new(),
            _ => return Err(ModifyError::Invalid("Value must be a dictionary.".into())),
        };
        let mut current = top.clone();
        for key in &keys[..keys.len() - 1] {
            let next = match current.get(key) {
                Some(Value::Dict(d)) => d.shallow_clone(),
                None | Some(Value::Null) => Dict::new(),
                Some(_) => return Err(ModifyError::Invalid("Value must be a dictionary.".into())),
            };
            current.insert(*key, Value::Dict(next.clone()));
            current = next;
        }
        let leaf = keys[keys.len() - 1];
        match current.get(leaf) {
            // A dictionary replaced is recorded key by key, as Icinga
            // does, and the keys of a new one as null (they were not).
            Some(Value::Dict(was)) => {
                for (k, v) in was.entries() {
                    obj.record_original(&format!("{path}.{k}"), v);
                }
                if let Value::Dict(new) = &value {
                    for k in new.keys() {
                        obj.record_original(&format!("{path}.{k}"), Value::Null);
                    }
                }
            }
            was => obj.record_original(path, was.unwrap_or_default()),
        }
        current.insert(leaf, value);
        Value::Dict(top)
    };
    let converted = crate::object::convert(name, field.kind, new).map_err(|e| {
        let e = e
            .strip_prefix("Error while evaluating expression: ")
            .map(str::to_string)
            .unwrap_or(e);
        ModifyError::Invalid(e)
    })?;
    let before = obj.raw(name);
    obj.set_raw(name, converted);
    if let Some(e) = crate::validate::object(ctx, registry, obj) {
        match before {
            Some(v) => obj.set_raw(name, v),
            None => obj.unset_raw(name),
        }
        let text = e.render(&ctx.sources);
        let text = text.strip_prefix("Error: ").unwrap_or(&text);
        return Err(ModifyError::Invalid(
            text.trim_end_matches('\n').to_string(),
        ));
    }
    obj.set_version(at);
    Ok(())
}

/// Puts back what the API did to the objects of a freshly committed
/// configuration: the `version` of created objects, then every stored
/// change in order, then `original_attributes` for paths whose change
/// had failed. Returns what could not be applied (the files changed
/// since), for the log.
pub fn restore(ctx: &Context, registry: &Arc<Registry>, objects: &[ApiObject]) -> Vec<String> {
    let mut problems = Vec::new();
    for o in objects {
        let Some(obj) = registry.find(&o.type_name, &o.name) else {
            continue;
        };
        for (path, value) in &o.changes {
            let v = picket_lang::json::from_serde(value);
            if let Err(e) = modify_attribute(ctx, registry, &obj, path, v, o.version) {
                problems.push(format!(
                    "The change of '{path}' of {} '{}' made through the API no longer applies: {e}",
                    o.type_name, o.name
                ));
            }
        }
        for path in &o.originals {
            match o.original_values.iter().find(|(p, _)| p == path) {
                Some((_, v)) => obj.set_original(path, picket_lang::json::from_serde(v)),
                None => obj.record_original(path, value_at(&obj, path)),
            }
        }
        if o.version > 0.0 {
            obj.set_version(o.version);
        }
    }
    problems
}

/// The value at a path of an object (`vars.os`), null when absent.
pub fn value_at(obj: &ConfigObject, path: &str) -> Value {
    let mut tokens = path.split('.');
    let mut v = obj
        .get(tokens.next().unwrap_or_default())
        .unwrap_or_default();
    for t in tokens {
        v = match &v {
            Value::Dict(d) => d.get(t).unwrap_or_default(),
            _ => Value::Null,
        };
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creation(attrs: Json, templates: &[&str]) -> Creation {
        let attrs = match attrs {
            Json::Object(m) => m.into_iter().collect(),
            _ => BTreeMap::new(),
        };
        Creation {
            templates: templates.iter().map(|t| t.to_string()).collect(),
            attrs,
            ignore_on_error: false,
            time: 1.0,
        }
    }

    #[test]
    fn declarations_read_as_icinga_writes_them() {
        let c = creation(
            serde_json::json!({"check_command": "dummy", "vars.os": "Linux", "address": "a\"b"}),
            &["generic-host"],
        );
        let d = declaration("Host", "api1", &c, "/d").unwrap();
        assert_eq!(d.path, "/d/hosts/api1.conf");
        assert_eq!(
            d.text,
            "object Host \"api1\" {\n\timport \"generic-host\"\n\n\taddress = \"a\\\"b\"\n\tcheck_command = \"dummy\"\n\tvars[\"os\"] = \"Linux\"\n}\n"
        );
        let s = declaration(
            "Service",
            "h1!disk",
            &creation(serde_json::json!({}), &[]),
            "/d",
        )
        .unwrap();
        assert_eq!(
            s.text,
            "object Service \"disk\" {\n\thost_name = \"h1\"\n}\n"
        );
        assert_eq!(
            declaration("Service", "disk", &c, "/d").unwrap_err(),
            "Invalid Service name."
        );
        assert_eq!(
            name_parts("Notification", "h!s!n").unwrap().1,
            vec![("host_name", "h".into()), ("service_name", "s".into())]
        );
    }

    #[test]
    fn changes_replace_earlier_changes_of_their_path_and_below() {
        let mut o = ApiObject::new("Host:h");
        o.apply(ApiObjectEvent::Modified {
            changes: vec![
                ("vars.x".into(), Json::from(1)),
                ("address".into(), Json::from("a")),
            ],
            originals: vec!["vars.x".into(), "address".into()],
            original_values: vec![
                ("vars.x".into(), Json::Null),
                ("address".into(), Json::Null),
            ],
            at: 5.0,
        });
        o.apply(ApiObjectEvent::Modified {
            changes: vec![("vars".into(), serde_json::json!({"y": 2}))],
            originals: vec!["vars".into()],
            original_values: vec![("vars".into(), serde_json::json!({"os": "L", "x": 1}))],
            at: 6.0,
        });
        assert_eq!(
            o.changes,
            vec![
                ("address".into(), Json::from("a")),
                ("vars".into(), serde_json::json!({"y": 2}))
            ]
        );
        assert_eq!(o.originals, vec!["vars.x", "address", "vars"]);
        // The values before the changes are kept as they were: `vars`
        // had the `x` that its kept change no longer says.
        assert_eq!(
            o.original_values.last(),
            Some(&("vars".into(), serde_json::json!({"os": "L", "x": 1})))
        );
        assert_eq!(o.version, 6.0);
        assert!(matches!(
            o.decide(&ApiObjectCommand::Delete),
            Err(ApiObjectRefusal::NotCreated)
        ));
    }
}
