//! A configuration object: typed fields with Icinga's conversions.
//!
//! Only fields that were set are stored; the others read as their schema
//! default. Assignments convert the value to the field's kind the way Icinga
//! does (a number assigned to a string field becomes `"1.500000"`, a string
//! assigned to a number field is parsed), and remember where they happened so
//! that a validation error can point at the offending line.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLock;
use picket_lang::source::Span;
use picket_lang::value::{Array, Dict, ScriptObject, Str, Value};

use crate::schema::{FieldDefault, FieldKind, FieldSchema, TypeSchema, COMMON_FIELDS};

/// One object of a configuration type.
pub struct ConfigObject {
    pub schema: &'static TypeSchema,
    state: RwLock<ObjectState>,
}

/// Field names are the schema's static strings, so storing a field never
/// allocates a key (this matters with 100,000 objects).
#[derive(Default)]
struct ObjectState {
    fields: BTreeMap<&'static str, Value>,
    /// Where each top-level field was last assigned.
    hints: BTreeMap<&'static str, Span>,
    /// The `object ...` header (or the apply rule's) that made the object.
    header: Span,
    /// Declared `ignore_on_error`: dropped silently when it fails.
    ignore_on_error: bool,
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
            Value::Null => Value::str(""),
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

impl ConfigObject {
    pub fn new(schema: &'static TypeSchema, name: &str) -> Arc<Self> {
        let obj = ConfigObject {
            schema,
            state: RwLock::new(ObjectState::default()),
        };
        obj.set_raw("name", Value::from(name));
        obj.set_raw("type", Value::from(schema.name));
        Arc::new(obj)
    }

    pub fn type_name(&self) -> &'static str {
        self.schema.name
    }

    pub fn field_schema(&self, name: &str) -> Option<&'static FieldSchema> {
        self.schema.fields.iter().find(|f| f.name == name)
    }

    /// The static name of a known field.
    fn key(&self, name: &str) -> Option<&'static str> {
        COMMON_FIELDS
            .iter()
            .copied()
            .find(|f| *f == name)
            .or_else(|| self.field_schema(name).map(|f| f.name))
    }

    /// Sets a field without conversion or bookkeeping (the model's own use).
    /// Unknown field names are ignored.
    pub fn set_raw(&self, name: &str, value: Value) {
        if let Some(key) = self.key(name) {
            self.state.write().fields.insert(key, value);
        }
    }

    /// Whether the configuration set this field.
    pub fn is_set(&self, name: &str) -> bool {
        self.state.read().fields.contains_key(name)
    }

    /// The value stored for a field, without defaults.
    pub fn raw(&self, name: &str) -> Option<Value> {
        self.state.read().fields.get(name).cloned()
    }

    /// Where the object was declared.
    pub fn header(&self) -> Span {
        self.state.read().header
    }

    pub fn set_header(&self, span: Span) {
        self.state.write().header = span;
    }

    pub fn ignore_on_error(&self) -> bool {
        self.state.read().ignore_on_error
    }

    pub fn set_ignore_on_error(&self, ignore: bool) {
        self.state.write().ignore_on_error = ignore;
    }

    /// Where the field was last assigned.
    pub fn hint(&self, name: &str) -> Option<Span> {
        self.state.read().hints.get(name).copied()
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

    /// A field's value with its default applied; `None` for unknown fields.
    pub fn get(&self, name: &str) -> Option<Value> {
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
                "source_location" => Value::Null,
                _ => Value::str(""),
            });
        }
        let f = self.field_schema(name)?;
        Some(match f.default {
            FieldDefault::Null => Value::Null,
            FieldDefault::Bool(b) => Value::Bool(b),
            FieldDefault::Number(n) => Value::Number(n),
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
            FieldDefault::Derived(rule) => self.derived(rule),
        })
    }

    /// Derived defaults other than the name are set when the object is
    /// created (they need the configuration's constants); one that was not
    /// reads as empty.
    fn derived(&self, rule: &str) -> Value {
        match rule {
            "name" => Value::from(self.name()),
            _ => Value::str(""),
        }
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

    /// Appends to the `templates` list (done by `import`).
    pub fn push_template(&self, name: &str) {
        let mut st = self.state.write();
        let entry = st
            .fields
            .entry("templates")
            .or_insert_with(|| Value::Array(Array::default()));
        match entry {
            Value::Array(a) => {
                let _ = a.modify(|v| v.push(Value::from(name)));
            }
            other => *other = Value::from(vec![Value::from(name)]),
        }
    }

    /// The names in the `templates` list.
    pub fn templates(&self) -> Vec<String> {
        match self.raw("templates") {
            Some(Value::Array(a)) => a.to_vec().iter().map(Value::to_display).collect(),
            _ => Vec::new(),
        }
    }
}

impl ScriptObject for ConfigObject {
    fn type_name(&self) -> Str {
        self.schema.name.into()
    }

    fn get_field(&self, name: &str) -> Option<Value> {
        self.get(name)
    }

    fn set_field(&self, name: &str, value: Value, span: Span) -> Result<(), String> {
        let Some(key) = self.key(name) else {
            return Err(format!("Attribute '{name}' does not exist."));
        };
        if key == "type" {
            return Err("Error while evaluating expression: Type field cannot be set.".into());
        }
        let value = match self.field_schema(name) {
            Some(f) => convert(name, f.kind, value)?,
            None => value,
        };
        let mut st = self.state.write();
        st.fields.insert(key, value);
        st.hints.insert(key, span);
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
