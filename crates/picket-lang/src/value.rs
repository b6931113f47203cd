//! Runtime values and Icinga's rules for converting and comparing them.
//!
//! Arrays, dictionaries and namespaces have reference semantics, as in Icinga:
//! `var b = a; b.add(1)` changes `a` too, and an object's `vars` can be shared
//! with whatever it was assigned from. They are `Arc`s with a lock so that an
//! evaluated configuration can be handed to other threads (the API evaluates
//! filters against live objects). Dictionaries keep their keys sorted because
//! Icinga's do, and `keys()`, JSON output and `to_string()` show that order.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use crate::function::Function;

/// Shared immutable string.
pub type Str = Arc<str>;

/// A value of the language.
#[derive(Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(f64),
    String(Str),
    Array(Array),
    Dict(Dict),
    Function(Arc<Function>),
    Type(Arc<TypeObj>),
    Namespace(Namespace),
    Object(Arc<dyn ScriptObject>),
}

/// Values provided by the embedding program (configuration objects) or by the
/// library for types that are not containers (DateTime, references).
pub trait ScriptObject: Send + Sync + fmt::Debug {
    /// Icinga's type name (`Host`, `DateTime`).
    fn type_name(&self) -> Str;
    /// The value of a field, or `None` when the type has no such field.
    fn get_field(&self, name: &str) -> Option<Value>;
    /// Sets a field from an assignment at `span`; the error text is shown
    /// to the user as is. Errors that Icinga reports as evaluation failures
    /// (conversions) carry the `Error while evaluating expression: ` prefix.
    fn set_field(&self, name: &str, value: Value, span: crate::source::Span) -> Result<(), String> {
        let _ = (value, span);
        Err(format!("Attribute '{name}' does not exist."))
    }
    /// Whether a sandboxed script (an API filter) may not read the field:
    /// Icinga's `no_user_view` fields (passwords, the ticket salt).
    fn is_hidden(&self, name: &str) -> bool {
        let _ = name;
        false
    }
    /// The fields in serialisation order, for JSON and `to_string()`.
    fn fields(&self) -> Vec<(Str, Value)> {
        Vec::new()
    }
    /// The text `to_string()` gives.
    fn to_display(&self) -> String {
        format!("Object of type '{}'", self.type_name())
    }
    fn as_any(&self) -> &dyn Any;
}

/// An array with reference semantics.
#[derive(Clone, Default)]
pub struct Array(Arc<ArrayData>);

#[derive(Default)]
struct ArrayData {
    items: RwLock<Vec<Value>>,
    frozen: AtomicBool,
}

impl Array {
    pub fn new(items: Vec<Value>) -> Self {
        Array(Arc::new(ArrayData {
            items: RwLock::new(items),
            frozen: AtomicBool::new(false),
        }))
    }
    pub fn len(&self) -> usize {
        self.0.items.read().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, i: usize) -> Option<Value> {
        self.0.items.read().get(i).cloned()
    }
    /// A copy of the elements (the array may change while they are used).
    pub fn to_vec(&self) -> Vec<Value> {
        self.0.items.read().clone()
    }
    pub fn read(&self) -> parking_lot::RwLockReadGuard<'_, Vec<Value>> {
        self.0.items.read()
    }
    pub fn frozen(&self) -> bool {
        self.0.frozen.load(Ordering::Relaxed)
    }
    pub fn freeze(&self) {
        self.0.frozen.store(true, Ordering::Relaxed)
    }
    /// Changes the elements, unless the array is frozen.
    pub fn modify<R>(&self, f: impl FnOnce(&mut Vec<Value>) -> R) -> Result<R, String> {
        if self.frozen() {
            return Err("Array must not be modified.".into());
        }
        Ok(f(&mut self.0.items.write()))
    }
    pub fn ptr_eq(&self, other: &Array) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    pub fn shallow_clone(&self) -> Array {
        Array::new(self.to_vec())
    }
}

/// The entries of a dictionary, sorted by key. Most dictionaries of a
/// configuration are small (`vars` with a few keys, on 100,000 objects), so
/// they start as a sorted vector, which costs a fraction of a tree's nodes,
/// and become a tree once they grow.
#[derive(Clone)]
enum Entries {
    Small(Vec<(Str, Value)>),
    Large(BTreeMap<Str, Value>),
}

/// Entries a small dictionary holds before it becomes a tree.
const SMALL_DICT: usize = 32;

impl Default for Entries {
    fn default() -> Self {
        Entries::Small(Vec::new())
    }
}

impl Entries {
    fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Entries::Small(v) => v
                .binary_search_by(|(k, _)| (**k).cmp(key))
                .ok()
                .map(|i| &v[i].1),
            Entries::Large(m) => m.get(key),
        }
    }

    fn insert(&mut self, key: Str, value: Value) {
        match self {
            Entries::Small(v) => match v.binary_search_by(|(k, _)| (**k).cmp(&*key)) {
                Ok(i) => v[i].1 = value,
                Err(i) => {
                    // Most dictionaries hold one or two keys: grow from one.
                    if v.capacity() == 0 {
                        v.reserve_exact(1);
                    }
                    v.insert(i, (key, value));
                    if v.len() > SMALL_DICT {
                        *self = Entries::Large(std::mem::take(v).into_iter().collect());
                    }
                }
            },
            Entries::Large(m) => {
                m.insert(key, value);
            }
        }
    }

    fn remove(&mut self, key: &str) -> Option<Value> {
        match self {
            Entries::Small(v) => v
                .binary_search_by(|(k, _)| (**k).cmp(key))
                .ok()
                .map(|i| v.remove(i).1),
            Entries::Large(m) => m.remove(key),
        }
    }

    fn len(&self) -> usize {
        match self {
            Entries::Small(v) => v.len(),
            Entries::Large(m) => m.len(),
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (&Str, &Value)> + '_> {
        match self {
            Entries::Small(v) => Box::new(v.iter().map(|(k, v)| (k, v))),
            Entries::Large(m) => Box::new(m.iter()),
        }
    }

    fn into_values(self) -> Vec<Value> {
        match self {
            Entries::Small(v) => v.into_iter().map(|(_, v)| v).collect(),
            Entries::Large(m) => m.into_values().collect(),
        }
    }
}

/// A dictionary with reference semantics and sorted keys.
#[derive(Clone, Default)]
pub struct Dict(Arc<DictData>);

#[derive(Default)]
struct DictData {
    map: RwLock<Entries>,
    frozen: AtomicBool,
}

impl Dict {
    pub fn new() -> Self {
        Dict::default()
    }
    pub fn from_map(map: BTreeMap<Str, Value>) -> Self {
        let entries = if map.len() > SMALL_DICT {
            Entries::Large(map)
        } else {
            Entries::Small(map.into_iter().collect())
        };
        Dict(Arc::new(DictData {
            map: RwLock::new(entries),
            frozen: AtomicBool::new(false),
        }))
    }
    pub fn get(&self, key: &str) -> Option<Value> {
        self.0.map.read().get(key).cloned()
    }
    pub fn contains(&self, key: &str) -> bool {
        self.0.map.read().get(key).is_some()
    }
    pub fn len(&self) -> usize {
        self.0.map.read().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn keys(&self) -> Vec<Str> {
        self.0.map.read().iter().map(|(k, _)| k.clone()).collect()
    }
    pub fn entries(&self) -> Vec<(Str, Value)> {
        self.0
            .map
            .read()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
    pub fn frozen(&self) -> bool {
        self.0.frozen.load(Ordering::Relaxed)
    }
    pub fn freeze(&self) {
        self.0.frozen.store(true, Ordering::Relaxed)
    }
    /// Sets a key, unless the dictionary is frozen.
    pub fn set(&self, key: impl Into<Str>, value: Value) -> Result<(), String> {
        if self.frozen() {
            return Err("Dictionary must not be modified.".into());
        }
        self.0.map.write().insert(key.into(), value);
        Ok(())
    }
    /// Sets a key even in a frozen dictionary: for the library's own use.
    pub fn insert(&self, key: impl Into<Str>, value: Value) {
        self.0.map.write().insert(key.into(), value);
    }
    pub fn remove(&self, key: &str) -> Result<Option<Value>, String> {
        if self.frozen() {
            return Err("Dictionary must not be modified.".into());
        }
        Ok(self.0.map.write().remove(key))
    }
    pub fn clear(&self) -> Result<(), String> {
        if self.frozen() {
            return Err("Dictionary must not be modified.".into());
        }
        *self.0.map.write() = Entries::default();
        Ok(())
    }
    pub fn ptr_eq(&self, other: &Dict) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
    pub fn shallow_clone(&self) -> Dict {
        let entries = self.0.map.read().clone();
        Dict(Arc::new(DictData {
            map: RwLock::new(entries),
            frozen: AtomicBool::new(false),
        }))
    }
}

/// A namespace: a dictionary whose entries can be constant.
#[derive(Clone, Default)]
pub struct Namespace(Arc<NamespaceData>);

#[derive(Default)]
struct NamespaceData {
    map: RwLock<BTreeMap<Str, NsEntry>>,
    /// Every entry is constant once set (`System`, `Types`).
    const_values: bool,
    frozen: AtomicBool,
    /// `System.Configuration`, which Icinga keeps as an object of type
    /// `Configuration`: scripts read its entries by name, but it is not a
    /// container (no `keys()`, `len()` 0, its string form names its type),
    /// and after the `-D` definitions every entry is read-only.
    configuration: bool,
}

#[derive(Clone)]
struct NsEntry {
    value: Value,
    constant: bool,
}

impl Namespace {
    pub fn new(const_values: bool) -> Self {
        Namespace(Arc::new(NamespaceData {
            map: RwLock::new(BTreeMap::new()),
            const_values,
            frozen: AtomicBool::new(false),
            configuration: false,
        }))
    }
    /// The namespace behind `System.Configuration`.
    pub fn new_configuration() -> Self {
        Namespace(Arc::new(NamespaceData {
            configuration: true,
            ..NamespaceData::default()
        }))
    }
    pub fn is_configuration(&self) -> bool {
        self.0.configuration
    }
    pub fn get(&self, key: &str) -> Option<Value> {
        self.0.map.read().get(key).map(|e| e.value.clone())
    }
    pub fn contains(&self, key: &str) -> bool {
        self.0.map.read().contains_key(key)
    }
    pub fn is_constant(&self, key: &str) -> bool {
        self.0.map.read().get(key).is_some_and(|e| e.constant)
    }
    pub fn keys(&self) -> Vec<Str> {
        self.0.map.read().keys().cloned().collect()
    }
    pub fn entries(&self) -> Vec<(Str, Value)> {
        self.0
            .map
            .read()
            .iter()
            .map(|(k, e)| (k.clone(), e.value.clone()))
            .collect()
    }
    pub fn len(&self) -> usize {
        self.0.map.read().len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Sets an entry; refuses to change a constant or a frozen namespace.
    pub fn set(&self, key: impl Into<Str>, value: Value, constant: bool) -> Result<(), String> {
        let key = key.into();
        let mut map = self.0.map.write();
        if self.0.configuration {
            return Err(match map.contains_key(&key) {
                true => format!("Configuration attribute '{key}' is read-only."),
                false => format!("Attribute '{key}' does not exist."),
            });
        }
        if let Some(e) = map.get(&key) {
            if e.constant || self.0.const_values {
                return Err("Constant must not be modified.".into());
            }
        }
        if self.0.frozen.load(Ordering::Relaxed) {
            return Err("Namespace is read-only and must not be modified.".into());
        }
        map.insert(
            key,
            NsEntry {
                value,
                constant: constant || self.0.const_values,
            },
        );
        Ok(())
    }
    /// Sets an entry regardless of constness: for `-D` overrides and setup.
    pub fn force_set(&self, key: impl Into<Str>, value: Value, constant: bool) {
        self.0
            .map
            .write()
            .insert(key.into(), NsEntry { value, constant });
    }
    pub fn remove(&self, key: &str) -> Result<(), String> {
        let mut map = self.0.map.write();
        if map.get(key).is_some_and(|e| e.constant) {
            return Err(format!("Constant '{key}' cannot be removed."));
        }
        map.remove(key);
        Ok(())
    }
    pub fn freeze(&self) {
        self.0.frozen.store(true, Ordering::Relaxed)
    }
    pub fn ptr_eq(&self, other: &Namespace) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A type object (`Number`, `Host`): its name, base type and methods.
pub struct TypeObj {
    pub name: Str,
    pub base: Option<Arc<TypeObj>>,
    /// Methods shared by all values of the type (`String.prototype`);
    /// none for most configuration types, as in Icinga.
    pub prototype: Option<Dict>,
    /// Called for `Type(args)`.
    pub constructor: Option<crate::function::NativeFn>,
    /// Field names, for configuration object types.
    pub fields: Vec<Str>,
}

impl fmt::Debug for TypeObj {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Type({})", self.name)
    }
}

impl TypeObj {
    /// Looks a method up on this type and its bases.
    pub fn find_method(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.prototype.as_ref().and_then(|p| p.get(name)) {
            return Some(v);
        }
        self.base.as_ref().and_then(|b| b.find_method(name))
    }

    pub fn is_subtype_of(&self, other: &TypeObj) -> bool {
        if self.name == other.name {
            return true;
        }
        self.base.as_ref().is_some_and(|b| b.is_subtype_of(other))
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", crate::json::encode(self))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n as f64)
    }
}
impl From<usize> for Value {
    fn from(n: usize) -> Self {
        Value::Number(n as f64)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.into())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s.into())
    }
}
impl From<Str> for Value {
    fn from(s: Str) -> Self {
        Value::String(s)
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Array(Array::new(v))
    }
}
impl From<Dict> for Value {
    fn from(d: Dict) -> Self {
        Value::Dict(d)
    }
}

/// Formats a number the way Icinga converts numbers to strings: integral
/// values without a fraction (`-0` keeps its sign), others with six
/// decimals (`1.100000`), special values as C's printf writes them.
pub fn number_to_string(n: f64) -> String {
    if n.is_nan() {
        return if n.is_sign_negative() {
            "-nan".into()
        } else {
            "nan".into()
        };
    }
    if n.is_infinite() {
        return if n > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if n.fract() == 0.0 {
        format!("{n:.0}")
    } else {
        format!("{n:.6}")
    }
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::String(s.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Icinga's "empty": null or the empty string.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::String(s) => s.is_empty(),
            _ => false,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The name of the value's type as messages show it.
    pub fn type_name(&self) -> Str {
        match self {
            Value::Null => "Empty".into(),
            Value::Bool(_) => "Boolean".into(),
            Value::Number(_) => "Number".into(),
            Value::String(_) => "String".into(),
            Value::Array(_) => "Array".into(),
            Value::Dict(_) => "Dictionary".into(),
            Value::Function(_) => "Function".into(),
            Value::Type(_) => "Type".into(),
            Value::Namespace(ns) if ns.is_configuration() => "Configuration".into(),
            Value::Namespace(_) => "Namespace".into(),
            Value::Object(o) => o.type_name(),
        }
    }

    /// Truthiness as `if`, `!`, `assign where` and `bool()` see it.
    pub fn to_bool(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(n) => *n != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Dict(d) => !d.is_empty(),
            _ => true,
        }
    }

    /// Conversion to a number as Icinga's `Convert::ToDouble` does it.
    pub fn to_number(&self) -> Result<f64, String> {
        match self {
            Value::Null => Ok(0.0),
            Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
            Value::Number(n) => Ok(*n),
            Value::String(s) if s.is_empty() => Ok(0.0),
            Value::String(s) => parse_number(s)
                .ok_or_else(|| format!("Can't convert '{s}' to a floating point number.")),
            other => Err(format!(
                "Can't convert '{}' to a floating point number.",
                other.to_display()
            )),
        }
    }

    /// Conversion to a string as Icinga's `Convert::ToString` does it.
    pub fn to_display(&self) -> String {
        match self {
            Value::Null => String::new(),
            Value::Bool(b) => if *b { "true" } else { "false" }.into(),
            Value::Number(n) => number_to_string(*n),
            Value::String(s) => s.to_string(),
            Value::Array(_) | Value::Dict(_) => crate::config_writer::emit_value(self),
            Value::Function(_) => "Object of type 'Function'".into(),
            Value::Type(t) => format!("type '{}'", t.name),
            Value::Namespace(_) => format!("Object of type '{}'", self.type_name()),
            Value::Object(o) => o.to_display(),
        }
    }

    /// Icinga's `==`.
    pub fn loose_eq(&self, other: &Value) -> bool {
        stacker::maybe_grow(crate::eval::RED_ZONE, crate::eval::STACK_CHUNK, || {
            self.loose_eq_inner(other)
        })
    }

    fn loose_eq_inner(&self, other: &Value) -> bool {
        use Value::*;
        if self.is_empty() || other.is_empty() {
            return self.is_empty() == other.is_empty();
        }
        match (self, other) {
            (Number(_) | Bool(_), Number(_) | Bool(_)) => {
                self.to_number().ok() == other.to_number().ok()
            }
            (String(a), String(b)) => a == b,
            (Array(a), Array(b)) => {
                if a.ptr_eq(b) {
                    return true;
                }
                let (x, y) = (a.to_vec(), b.to_vec());
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| p.loose_eq(q))
            }
            (Dict(a), Dict(b)) => a.ptr_eq(b),
            (Function(a), Function(b)) => Arc::ptr_eq(a, b),
            (Type(a), Type(b)) => Arc::ptr_eq(a, b) || a.name == b.name,
            (Namespace(a), Namespace(b)) => a.ptr_eq(b),
            (Object(a), Object(b)) => {
                std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b)) || object_value_eq(a, b)
            }
            _ => false,
        }
    }
}

/// Dropping a deeply nested value must not recurse once per level (a
/// configuration can build a chain of 100,000 nested dictionaries in a
/// loop): containers hand their children to an explicit work list instead.
fn drop_children(mut pending: Vec<Value>) {
    while let Some(v) = pending.pop() {
        match v {
            Value::Array(Array(arc)) => {
                if let Ok(mut data) = Arc::try_unwrap(arc) {
                    pending.append(data.items.get_mut());
                }
            }
            Value::Dict(Dict(arc)) => {
                if let Ok(mut data) = Arc::try_unwrap(arc) {
                    pending.extend(std::mem::take(data.map.get_mut()).into_values());
                }
            }
            other => drop(other),
        }
    }
}

impl Drop for ArrayData {
    fn drop(&mut self) {
        let items = std::mem::take(self.items.get_mut());
        if items
            .iter()
            .any(|v| matches!(v, Value::Array(_) | Value::Dict(_)))
        {
            drop_children(items);
        }
    }
}

impl Drop for DictData {
    fn drop(&mut self) {
        let map = std::mem::take(self.map.get_mut());
        if map
            .iter()
            .any(|(_, v)| matches!(v, Value::Array(_) | Value::Dict(_)))
        {
            drop_children(map.into_values());
        }
    }
}

/// Objects compare equal by identity, except value-like ones (DateTime) that
/// say otherwise through their fields.
fn object_value_eq(a: &Arc<dyn ScriptObject>, b: &Arc<dyn ScriptObject>) -> bool {
    match (
        a.as_any()
            .downcast_ref::<crate::builtins::datetime::DateTime>(),
        b.as_any()
            .downcast_ref::<crate::builtins::datetime::DateTime>(),
    ) {
        (Some(x), Some(y)) => x.value == y.value,
        _ => false,
    }
}

/// Parses a number the way Icinga's string conversion accepts it: the
/// whole string, no surrounding blanks; `inf` and `nan` are numbers.
pub fn parse_number(s: &str) -> Option<f64> {
    if s.is_empty()
        || s.starts_with(|c: char| c.is_whitespace())
        || s.ends_with(|c: char| c.is_whitespace())
    {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("0x") || lower.starts_with("-0x") || lower.starts_with("+0x") {
        return None;
    }
    s.parse::<f64>().ok()
}
