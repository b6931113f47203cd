//! Static descriptions of the configuration object types.
//!
//! Every object type Picket understands is described once, as data: its
//! fields, what kind of value each holds, the default an object gets when the
//! configuration does not set it, whether it is required, and which other type
//! a name in it refers to. Validation, `object list`, the API and the
//! attribute defaults all read these tables, so a type's behaviour cannot
//! drift between them. The tables mirror what Icinga 2 2.13 writes to its
//! objects file for a freshly defined object, field for field.

/// A configuration object type.
#[derive(Debug)]
pub struct TypeSchema {
    /// Type name as written after `object` (`Host`).
    pub name: &'static str,
    /// Plural used in messages such as `Instantiated 3 Dependencies.`
    pub plural: &'static str,
    /// Fields in the order of the objects file (alphabetical), without the
    /// ones every object has (`__name`, `name`, `type`, `zone`, `package`,
    /// `templates`, `source_location`: see [`COMMON_FIELDS`]); `vars` is
    /// listed where the type has it.
    pub fields: &'static [FieldSchema],
    /// Types whose objects must be committed before objects of this type,
    /// because this type's validation or `apply` rules look them up.
    pub load_after: &'static [&'static str],
    /// Whether objects of this type may be created with `apply` and which
    /// types they can be applied to (`Service` → `Host`).
    pub apply_targets: &'static [&'static str],
    /// For group types: the member type whose objects `assign where` is
    /// evaluated against (`HostGroup` → `Host`).
    pub group_member: Option<&'static str>,
}

/// One field of an object type.
#[derive(Debug)]
pub struct FieldSchema {
    pub name: &'static str,
    pub kind: FieldKind,
    pub default: FieldDefault,
    /// Icinga refuses an object that leaves this field unset (null or "").
    pub required: bool,
    /// The field holds the name of an object of this type (or, for arrays,
    /// a list of such names); unknown names are validation errors.
    pub reference: Option<&'static str>,
}

/// The value kind a field holds, used to convert assigned values the way
/// Icinga does (a number assigned to a string field becomes its string form)
/// and to reject values that cannot be converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    String,
    Number,
    /// A number whose fraction Icinga cuts off (`2.7` becomes 2).
    Integer,
    /// A number of seconds since the epoch.
    Timestamp,
    Bool,
    Array,
    Dictionary,
    /// A function value (`execute`).
    Function,
    /// Any value: string, number, array, dictionary or function.
    Any,
}

/// The value a field has before the configuration sets it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldDefault {
    Null,
    Bool(bool),
    Number(f64),
    Str(&'static str),
    EmptyArray,
    EmptyDictionary,
    /// Computed from the object or the configuration; the string names the
    /// rule (see `types/mod.rs`: `name`, `now`, `const:`, `path:`, `json:`).
    Derived(&'static str),
}

impl FieldSchema {
    /// A plain field with the given kind and default that nothing requires.
    pub const fn new(name: &'static str, kind: FieldKind, default: FieldDefault) -> Self {
        FieldSchema {
            name,
            kind,
            default,
            required: false,
            reference: None,
        }
    }

    /// Marks the field as required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks the field as a reference to objects of `target`.
    pub const fn refers_to(mut self, target: &'static str) -> Self {
        self.reference = Some(target);
        self
    }
}

/// Fields every configuration object has, whatever its type.
pub const COMMON_FIELDS: &[&str] = &[
    "__name",
    "name",
    "package",
    "source_location",
    "templates",
    "type",
    "zone",
];

/// The schema of a type by name.
pub fn find_type(name: &str) -> Option<&'static TypeSchema> {
    crate::types::ALL.iter().copied().find(|t| t.name == name)
}

/// The abstract types between `Object` and the configuration types, as
/// Icinga has them: (name, base).
const ABSTRACT_TYPES: &[(&str, &str)] = &[
    ("ConfigObject", "Object"),
    ("CustomVarObject", "ConfigObject"),
    ("Checkable", "CustomVarObject"),
    ("Command", "CustomVarObject"),
    ("Logger", "ConfigObject"),
    ("StreamLogger", "Logger"),
    ("DbConnection", "ConfigObject"),
    ("InfluxdbCommonWriter", "ConfigObject"),
    ("Application", "ConfigObject"),
];

/// The base type of a configuration type.
fn base_of(t: &TypeSchema) -> &'static str {
    match t.name {
        "Host" | "Service" => "Checkable",
        "CheckCommand" | "NotificationCommand" | "EventCommand" => "Command",
        "FileLogger" => "StreamLogger",
        "SyslogLogger" => "Logger",
        "IdoMysqlConnection" | "IdoPgsqlConnection" => "DbConnection",
        "InfluxdbWriter" | "Influxdb2Writer" => "InfluxdbCommonWriter",
        "IcingaApplication" => "Application",
        _ if t.fields.iter().any(|f| f.name == "vars") => "CustomVarObject",
        _ => "ConfigObject",
    }
}

/// Registers the configuration types (and the abstract types between them
/// and `Object`) with the language: `typeof(h) == Host`, `Host.base.name`,
/// `get_objects(Host)`, and `Host()` making an unnamed object.
pub fn register_types(ctx: &picket_lang::Context) {
    use std::sync::Arc;

    use picket_lang::value::TypeObj;

    let find = |name: &str| ctx.find_type(name);
    for (name, base) in ABSTRACT_TYPES {
        // Icinga gives these two methods (`modify_attribute`,
        // `process_check_result`, which Picket does not offer to scripts);
        // every other configuration type has no prototype.
        let prototype = matches!(*name, "ConfigObject" | "Checkable").then(picket_lang::Dict::new);
        ctx.register_type(Arc::new(TypeObj {
            name: (*name).into(),
            base: find(base),
            prototype,
            constructor: None,
            fields: Vec::new(),
        }));
    }
    for t in crate::types::ALL {
        let schema: &'static TypeSchema = t;
        let constructor: picket_lang::function::NativeFn = Arc::new(move |_, _, _| {
            Ok(picket_lang::Value::Object(
                crate::object::ConfigObject::new(schema, ""),
            ))
        });
        ctx.register_type(Arc::new(TypeObj {
            name: t.name.into(),
            base: find(base_of(t)),
            prototype: None,
            constructor: Some(constructor),
            fields: COMMON_FIELDS
                .iter()
                .map(|f| (*f).into())
                .chain(t.fields.iter().map(|f| f.name.into()))
                .collect(),
        }));
    }
}
