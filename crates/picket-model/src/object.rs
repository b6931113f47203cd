//! A configuration object: typed fields with Icinga's conversions.
//!
//! Only fields that were set are stored; the others read as their schema
//! default. Assignments convert the value to the field's kind the way Icinga
//! does (a number assigned to a string field becomes `"1.500000"`, a string
//! assigned to a number field is parsed), and remember where they happened so
//! that a validation error can point at the offending line.
//!
//! Storage is sized for configurations of 100,000 objects: fields live in a
//! small vector keyed by their index in the type's field table (no string
//! keys, no tree nodes), and what can be derived (the type, the source
//! location) is not stored at all.

use std::any::Any;
use std::sync::{Arc, OnceLock};

use parking_lot::RwLock;
use picket_lang::source::Span;
use picket_lang::value::{Array, Dict, ScriptObject, Str, Value};
use rustc_hash::FxHashMap;

use crate::schema::{FieldDefault, FieldKind, FieldSchema, TypeSchema, COMMON_FIELDS};

/// Index of a field: the common fields first, then the type's own.
type Slot = u16;

/// Field name → slot, for one type. A fast non-cryptographic hash: the
/// keys are the schema's own names, not attacker-chosen input.
type SlotTable = FxHashMap<&'static str, Slot>;

/// For every type, its field names and their slots.
fn slots(schema: &'static TypeSchema) -> &'static SlotTable {
    static TABLES: OnceLock<FxHashMap<usize, SlotTable>> = OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        crate::types::ALL
            .iter()
            .map(|t| {
                let names = COMMON_FIELDS
                    .iter()
                    .copied()
                    .chain(t.fields.iter().map(|f| f.name));
                let map = names.enumerate().map(|(i, n)| (n, i as Slot)).collect();
                (*t as *const TypeSchema as usize, map)
            })
            .collect()
    });
    static EMPTY: OnceLock<SlotTable> = OnceLock::new();
    tables
        .get(&(schema as *const TypeSchema as usize))
        .unwrap_or_else(|| EMPTY.get_or_init(SlotTable::default))
}

/// The shared empty string (most string fields are empty).
fn empty() -> Value {
    static EMPTY: OnceLock<Str> = OnceLock::new();
    Value::String(EMPTY.get_or_init(|| Str::from("")).clone())
}

/// One object of a configuration type.
pub struct ConfigObject {
    pub schema: &'static TypeSchema,
    slots: &'static SlotTable,
    state: RwLock<ObjectState>,
}

#[derive(Default)]
struct ObjectState {
    values: Vec<(Slot, Value)>,
    /// `templates`, kept as its items (a list value is made when it is
    /// read).
    templates: Vec<Value>,
    /// The configuration assigned null to `templates` (and imported
    /// nothing since).
    templates_null: bool,
    /// Where each top-level field was last assigned.
    hints: Vec<(Slot, Span)>,
    /// The `object ...` header (or the apply rule's) that made the object,
    /// and the path of its file: `source_location` is built from them.
    header: Span,
    path: Option<Str>,
    /// Declared `ignore_on_error`: dropped silently when it fails.
    ignore_on_error: bool,
    /// Built into every configuration (not counted or listed).
    hidden: bool,
    /// Groups whose `assign where` took this object: the running node
    /// lists them in `groups`, the objects file does not.
    assigned_groups: Option<Box<[Str]>>,
    /// What the API changed (rare: boxed so that other objects pay one
    /// pointer for it).
    modified: Option<Box<Modified>>,
}

/// The bookkeeping of an object the API created or changed.
#[derive(Default)]
struct Modified {
    /// `version`: when the API last changed a configuration attribute.
    version: f64,
    /// `original_attributes`: the value of each changed path before its
    /// first change.
    originals: Option<Dict>,
}

impl ObjectState {
    fn get(&self, slot: Slot) -> Option<&Value> {
        self.values.iter().find(|(s, _)| *s == slot).map(|(_, v)| v)
    }

    fn set(&mut self, slot: Slot, value: Value) {
        match self.values.iter_mut().find(|(s, _)| *s == slot) {
            Some(entry) => entry.1 = value,
            None => self.values.push((slot, value)),
        }
    }
}

impl std::fmt::Debug for ConfigObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} '{}'", self.schema.name, self.name())
    }
}

/// Converts a value for a field of the given kind, as Icinga's typed
/// setters do; the error is Icinga's message.
pub fn convert(name: &str, kind: FieldKind, value: Value) -> Result<Value, String> {
    let eval = |m: String| format!("Error while evaluating expression: {m}");
    let wrong_container = |v: &Value, expected: &str| {
        format!(
            "Attribute '{name}' cannot be set to value of type '{}', expected '{expected}'",
            v.type_name()
        )
    };
    match kind {
        FieldKind::Any => Ok(value),
        FieldKind::Function => match value {
            Value::Null | Value::Function(_) => Ok(value),
            Value::Array(_)
            | Value::Dict(_)
            | Value::Object(_)
            | Value::Namespace(_)
            | Value::Type(_) => Err(wrong_container(&value, "Function")),
            other => Err(eval(format!(
                "Cannot convert value of type '{}' to an object.",
                other.type_name()
            ))),
        },
        FieldKind::Integer => value
            .to_number()
            .map(|n| Value::Number(n.trunc()))
            .map_err(eval),
        FieldKind::String => Ok(match value {
            Value::Null => empty(),
            Value::String(s) => Value::String(s),
            other => Value::from(other.to_display()),
        }),
        FieldKind::Number | FieldKind::Timestamp => {
            value.to_number().map(Value::Number).map_err(eval)
        }
        // Booleans go through the number conversion: "yes" is refused.
        FieldKind::Bool => value
            .to_number()
            .map(|n| Value::Bool(n != 0.0))
            .map_err(eval),
        FieldKind::Array => match value {
            Value::Null | Value::Array(_) => Ok(value),
            Value::Dict(_)
            | Value::Function(_)
            | Value::Object(_)
            | Value::Namespace(_)
            | Value::Type(_) => Err(wrong_container(&value, "Array")),
            other => Err(eval(format!(
                "Cannot convert value of type '{}' to an object.",
                other.type_name()
            ))),
        },
        FieldKind::Dictionary => match value {
            Value::Null | Value::Dict(_) => Ok(value),
            Value::Array(_)
            | Value::Function(_)
            | Value::Object(_)
            | Value::Namespace(_)
            | Value::Type(_) => Err(wrong_container(&value, "Dictionary")),
            other => Err(eval(format!(
                "Cannot convert value of type '{}' to an object.",
                other.type_name()
            ))),
        },
    }
}

/// The kind of a field every object has ([`COMMON_FIELDS`]), as Icinga's
/// `ConfigObject` types them: an assignment converts to it.
fn common_kind(name: &str) -> FieldKind {
    match name {
        "templates" => FieldKind::Array,
        "source_location" => FieldKind::Dictionary,
        _ => FieldKind::String,
    }
}

impl ConfigObject {
    pub fn new(schema: &'static TypeSchema, name: &str) -> Arc<Self> {
        let obj = ConfigObject {
            schema,
            slots: slots(schema),
            state: RwLock::new(ObjectState::default()),
        };
        obj.set_raw("name", Value::from(name));
        Arc::new(obj)
    }

    pub fn type_name(&self) -> &'static str {
        self.schema.name
    }

    pub fn field_schema(&self, name: &str) -> Option<&'static FieldSchema> {
        let slot = *self.slots.get(name)? as usize;
        slot.checked_sub(COMMON_FIELDS.len())
            .and_then(|i| self.schema.fields.get(i))
    }

    fn slot(&self, name: &str) -> Option<Slot> {
        self.slots.get(name).copied()
    }

    /// The stored value of the type's `index`th field (its schema order),
    /// without a name lookup.
    pub fn raw_at(&self, index: usize) -> Option<Value> {
        let slot = (COMMON_FIELDS.len() + index) as Slot;
        self.state.read().get(slot).cloned()
    }

    /// Sets a field without conversion or bookkeeping (the model's own use).
    /// Unknown field names are ignored.
    pub fn set_raw(&self, name: &str, value: Value) {
        debug_assert!(name != "templates", "templates are set with push_template");
        if let Some(slot) = self.slot(name) {
            self.state.write().set(slot, value);
        }
    }

    /// Forgets a field's value, so that it reads as its default again.
    pub fn unset_raw(&self, name: &str) {
        if let Some(slot) = self.slot(name) {
            self.state.write().values.retain(|(s, _)| *s != slot);
        }
    }

    /// `version`: 0 for an object as the files made it, else the time the
    /// API created or last changed it.
    pub fn version(&self) -> f64 {
        self.state
            .read()
            .modified
            .as_ref()
            .map_or(0.0, |m| m.version)
    }

    pub fn set_version(&self, version: f64) {
        self.state
            .write()
            .modified
            .get_or_insert_with(Box::default)
            .version = version;
    }

    /// `original_attributes`: null until the API changes an attribute.
    pub fn original_attributes(&self) -> Value {
        match self
            .state
            .read()
            .modified
            .as_ref()
            .and_then(|m| m.originals.clone())
        {
            Some(d) => Value::Dict(d),
            None => Value::Null,
        }
    }

    /// Records the value `path` had before its first change; later
    /// changes keep the first record.
    pub fn record_original(&self, path: &str, value: Value) {
        let mut st = self.state.write();
        let m = st.modified.get_or_insert_with(Box::default);
        let originals = m.originals.get_or_insert_with(Dict::new);
        if !originals.contains(path) {
            originals.insert(path, value);
        }
    }

    /// Puts back a value `original_attributes` recorded earlier, over
    /// whatever replaying the changes recorded (the replay starts from
    /// fewer changes than were made).
    pub fn set_original(&self, path: &str, value: Value) {
        let mut st = self.state.write();
        let m = st.modified.get_or_insert_with(Box::default);
        m.originals
            .get_or_insert_with(Dict::new)
            .insert(path, value);
    }

    /// Whether the configuration set this field.
    pub fn is_set(&self, name: &str) -> bool {
        self.slot(name)
            .is_some_and(|slot| self.state.read().get(slot).is_some())
    }

    /// The value stored for a field, without defaults.
    pub fn raw(&self, name: &str) -> Option<Value> {
        let slot = self.slot(name)?;
        self.state.read().get(slot).cloned()
    }

    /// Where the object was declared.
    pub fn header(&self) -> Span {
        self.state.read().header
    }

    /// Records where the object was declared (`path` is the file's).
    pub fn set_origin(&self, header: Span, path: Str) {
        let mut st = self.state.write();
        st.header = header;
        st.path = Some(path);
    }

    pub fn ignore_on_error(&self) -> bool {
        self.state.read().ignore_on_error
    }

    pub fn set_ignore_on_error(&self, ignore: bool) {
        self.state.write().ignore_on_error = ignore;
    }

    pub fn hidden(&self) -> bool {
        self.state.read().hidden
    }

    pub fn set_hidden(&self, hidden: bool) {
        self.state.write().hidden = hidden;
    }

    /// Where the field was last assigned.
    pub fn hint(&self, name: &str) -> Option<Span> {
        let slot = self.slot(name)?;
        self.state
            .read()
            .hints
            .iter()
            .find(|(s, _)| *s == slot)
            .map(|(_, sp)| *sp)
    }

    /// The object's short name (`name`).
    pub fn name(&self) -> String {
        self.raw("name").map(|v| v.to_display()).unwrap_or_default()
    }

    /// The full name (`__name`), falling back to the short name.
    pub fn full_name(&self) -> String {
        match self.raw("__name") {
            Some(Value::String(s)) if !s.is_empty() => s.to_string(),
            _ => self.name(),
        }
    }

    /// A string field's value (defaults applied).
    pub fn get_str(&self, name: &str) -> String {
        self.get(name).map(|v| v.to_display()).unwrap_or_default()
    }

    /// `source_location` as Icinga writes it.
    fn source_location(&self) -> Value {
        let st = self.state.read();
        let h = st.header;
        let d = Dict::new();
        d.insert(
            "path",
            st.path.clone().map(Value::String).unwrap_or_else(empty),
        );
        d.insert("first_line", Value::from(h.first_line as i64));
        d.insert("first_column", Value::from(h.first_column as i64));
        d.insert("last_line", Value::from(h.last_line as i64));
        d.insert("last_column", Value::from(h.last_column as i64));
        Value::Dict(d)
    }

    /// A field's value with its default applied; `None` for unknown fields.
    pub fn get(&self, name: &str) -> Option<Value> {
        match name {
            "type" => return Some(Value::from(self.schema.name)),
            "source_location" => return Some(self.source_location()),
            "templates" => {
                let st = self.state.read();
                return Some(if st.templates_null {
                    Value::Null
                } else {
                    Value::Array(Array::new(st.templates.clone()))
                });
            }
            _ => {}
        }
        if let Some(v) = self.raw(name) {
            // Only the name rule applies again to an explicit "" or null.
            if v.is_empty()
                && self
                    .field_schema(name)
                    .is_some_and(|f| f.default == FieldDefault::Derived("name"))
            {
                return Some(Value::from(self.name()));
            }
            return Some(v);
        }
        if COMMON_FIELDS.contains(&name) {
            return Some(match name {
                "templates" => Value::Array(Array::default()),
                _ => empty(),
            });
        }
        let f = self.field_schema(name)?;
        Some(match f.default {
            FieldDefault::Null => Value::Null,
            FieldDefault::Bool(b) => Value::Bool(b),
            FieldDefault::Number(n) => Value::Number(n),
            FieldDefault::Str("") => empty(),
            FieldDefault::Str(s) => Value::str(s),
            // Containers become part of the object on first read, so that
            // `groups.add(...)` in a body changes the object.
            FieldDefault::EmptyArray => {
                let v = Value::Array(Array::default());
                self.set_raw(name, v.clone());
                v
            }
            FieldDefault::EmptyDictionary => {
                let v = Value::Dict(Dict::new());
                self.set_raw(name, v.clone());
                v
            }
            FieldDefault::Derived("name") => Value::from(self.name()),
            // Other derived defaults are set when the object is created
            // (they need the configuration's constants).
            FieldDefault::Derived(_) => empty(),
        })
    }

    /// All fields in objects-file order (sorted), defaults included.
    pub fn all_fields(&self) -> Vec<(Str, Value)> {
        let mut names: Vec<&str> = COMMON_FIELDS.to_vec();
        names.extend(self.schema.fields.iter().map(|f| f.name));
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .map(|n| (Str::from(n), self.get(n).unwrap_or_default()))
            .collect()
    }

    /// Records that a group's `assign where` took this object.
    pub fn add_assigned_group(&self, group: &str) {
        let mut st = self.state.write();
        let mut list = st.assigned_groups.take().map(Vec::from).unwrap_or_default();
        if !list.iter().any(|g| g.as_ref() == group) {
            list.push(Str::from(group));
        }
        st.assigned_groups = Some(list.into_boxed_slice());
    }

    /// `groups` as the running node has it: the configured groups, then
    /// those that assigned the object.
    pub fn runtime_groups(&self) -> Value {
        let configured = self.get("groups");
        let st = self.state.read();
        let Some(assigned) = &st.assigned_groups else {
            return configured.unwrap_or_default();
        };
        let mut list = match &configured {
            Some(Value::Array(a)) => a.to_vec(),
            _ => Vec::new(),
        };
        for g in assigned.iter() {
            if !list.iter().any(|v| v.as_str() == Some(g.as_ref())) {
                list.push(Value::String(g.clone()));
            }
        }
        Value::Array(Array::new(list))
    }

    /// Appends to the `templates` list (done by `import`).
    pub fn push_template(&self, name: &Str) {
        let mut st = self.state.write();
        st.templates_null = false;
        st.templates.push(Value::String(name.clone()));
    }

    /// The names in the `templates` list.
    pub fn templates(&self) -> Vec<String> {
        self.state
            .read()
            .templates
            .iter()
            .map(Value::to_display)
            .collect()
    }

    /// The full name as a shared string (`host!service`).
    pub fn full_name_str(&self) -> Str {
        match self.raw("__name") {
            Some(Value::String(s)) if !s.is_empty() => s,
            _ => Str::from(self.name()),
        }
    }

    /// Drops what only validation needs (where each field was set) and
    /// spare capacity, once the object has been validated.
    pub fn settle(&self) {
        let mut st = self.state.write();
        st.hints = Vec::new();
        st.values.shrink_to_fit();
        st.templates.shrink_to_fit();
    }
}

impl ScriptObject for ConfigObject {
    fn type_name(&self) -> Str {
        self.schema.name.into()
    }

    fn get_field(&self, name: &str) -> Option<Value> {
        self.get(name)
    }

    fn is_hidden(&self, name: &str) -> bool {
        crate::classes::hidden_fields(self.schema.name).contains(&name)
    }

    fn set_field(&self, name: &str, value: Value, span: Span) -> Result<(), String> {
        let Some(slot) = self.slot(name) else {
            return Err(format!("Attribute '{name}' does not exist."));
        };
        if name == "type" {
            return Err("Error while evaluating expression: Type field cannot be set.".into());
        }
        let kind = match self.field_schema(name) {
            Some(f) => f.kind,
            None => common_kind(name),
        };
        let value = convert(name, kind, value)?;
        if name == "templates" {
            let mut st = self.state.write();
            st.templates_null = value.is_null();
            st.templates = match &value {
                Value::Array(a) => a.to_vec(),
                _ => Vec::new(),
            };
            return Ok(());
        }
        let mut st = self.state.write();
        st.set(slot, value);
        match st.hints.iter_mut().find(|(s, _)| *s == slot) {
            Some(h) => h.1 = span,
            None => st.hints.push((slot, span)),
        }
        Ok(())
    }

    fn fields(&self) -> Vec<(Str, Value)> {
        self.all_fields()
    }

    fn to_display(&self) -> String {
        format!(
            "Object '{}' of type '{}'",
            self.full_name(),
            self.schema.name
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
