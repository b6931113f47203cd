//! The built-in types (`Object`, `Number`, `String`, ...), their bases,
//! constructors and methods.

use std::sync::Arc;

use super::{arg, fail, methods};
use crate::function::NativeFn;
use crate::value::{Array, Dict, Str, TypeObj, Value};

/// The type objects the evaluator needs to hand out for `typeof`.
pub struct BuiltinTypes {
    pub object: Arc<TypeObj>,
    pub type_: Arc<TypeObj>,
    pub number: Arc<TypeObj>,
    pub string: Arc<TypeObj>,
    pub boolean: Arc<TypeObj>,
    pub array: Arc<TypeObj>,
    pub dictionary: Arc<TypeObj>,
    pub function: Arc<TypeObj>,
    pub namespace: Arc<TypeObj>,
    pub datetime: Arc<TypeObj>,
    pub reference: Arc<TypeObj>,
    pub configuration: Arc<TypeObj>,
    pub perfdata: Arc<TypeObj>,
}

/// A type with the given base, methods and constructor.
pub fn make_type(
    name: &str,
    base: Option<&Arc<TypeObj>>,
    prototype: Option<Dict>,
    constructor: Option<NativeFn>,
) -> Arc<TypeObj> {
    Arc::new(TypeObj {
        name: Str::from(name),
        base: base.cloned(),
        prototype,
        constructor,
        fields: Vec::new(),
    })
}

fn ctor(
    f: impl Fn(Vec<Value>) -> Result<Value, crate::error::LangError> + Send + Sync + 'static,
) -> Option<NativeFn> {
    Some(Arc::new(move |_, _, args| f(args)))
}

/// A plain `Object()`: nothing but its type.
#[derive(Debug)]
pub struct PlainObject;

impl crate::value::ScriptObject for PlainObject {
    fn type_name(&self) -> Str {
        "Object".into()
    }
    fn get_field(&self, name: &str) -> Option<Value> {
        (name == "type").then(|| Value::str("Object"))
    }
    fn fields(&self) -> Vec<(Str, Value)> {
        vec![("type".into(), Value::str("Object"))]
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Scalar constructors take at most one argument.
fn at_most_one(args: &[Value]) -> Result<(), crate::error::LangError> {
    if args.len() > 1 {
        return Err(crate::error::LangError::new(
            crate::error::ErrorKind::Script,
            "Too many arguments for constructor.",
            None,
        ));
    }
    Ok(())
}

impl BuiltinTypes {
    pub fn new() -> Self {
        let object = make_type(
            "Object",
            None,
            Some(methods::object_prototype()),
            ctor(|_| Ok(Value::Object(Arc::new(PlainObject)))),
        );
        let o = Some(&object);
        let type_prototype = methods::type_prototype();
        let type_ = make_type("Type", o, Some(type_prototype), None);
        let number = make_type(
            "Number",
            None,
            Some(methods::number_prototype()),
            ctor(|args| {
                at_most_one(&args)?;
                arg(&args, 0).to_number().map(Value::Number).map_err(fail)
            }),
        );
        let string = make_type(
            "String",
            None,
            Some(methods::string_prototype()),
            ctor(|args| {
                at_most_one(&args)?;
                Ok(Value::String(arg(&args, 0).to_display().into()))
            }),
        );
        let boolean = make_type(
            "Boolean",
            None,
            Some(methods::boolean_prototype()),
            ctor(|args| {
                at_most_one(&args)?;
                // Icinga's `Boolean()` without an argument is the number 0.
                Ok(match args.first() {
                    None => Value::Number(0.0),
                    Some(v) => Value::Bool(v.to_bool()),
                })
            }),
        );
        let no_arguments = || fail("Constructor does not take any arguments.");
        let array = make_type(
            "Array",
            o,
            Some(methods::array_prototype()),
            ctor(move |args| match args.as_slice() {
                [] => Ok(Value::Array(Array::default())),
                [Value::Array(a)] => Ok(Value::Array(a.clone())),
                _ => Err(no_arguments()),
            }),
        );
        let dictionary = make_type(
            "Dictionary",
            o,
            Some(methods::dictionary_prototype()),
            ctor(move |args| match args.as_slice() {
                [] => Ok(Value::Dict(Dict::new())),
                [Value::Dict(d)] => Ok(Value::Dict(d.clone())),
                _ => Err(no_arguments()),
            }),
        );
        let function = make_type("Function", o, Some(methods::function_prototype()), None);
        let namespace = make_type("Namespace", o, Some(methods::namespace_prototype()), None);
        let datetime = make_type(
            "DateTime",
            o,
            Some(super::datetime::prototype()),
            Some(Arc::new(|_, _, args| super::datetime::construct(args))),
        );
        let reference = make_type("Reference", o, Some(super::reference::prototype()), None);
        // These two have no prototype in Icinga.
        let configuration = make_type("Configuration", o, None, None);
        let perfdata = make_type(
            "PerfdataValue",
            o,
            None,
            ctor(|_| Ok(crate::perfdata::PerfdataObject::new_value())),
        );
        BuiltinTypes {
            object,
            type_,
            number,
            string,
            boolean,
            array,
            dictionary,
            function,
            namespace,
            datetime,
            reference,
            configuration,
            perfdata,
        }
    }

    pub fn all(&self) -> Vec<Arc<TypeObj>> {
        vec![
            self.object.clone(),
            self.type_.clone(),
            self.number.clone(),
            self.string.clone(),
            self.boolean.clone(),
            self.array.clone(),
            self.dictionary.clone(),
            self.function.clone(),
            self.namespace.clone(),
            self.datetime.clone(),
            self.reference.clone(),
            self.configuration.clone(),
            self.perfdata.clone(),
        ]
    }
}

impl Default for BuiltinTypes {
    fn default() -> Self {
        Self::new()
    }
}
