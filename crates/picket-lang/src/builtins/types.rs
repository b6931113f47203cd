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
}

/// A type with the given base, methods and constructor.
pub fn make_type(
    name: &str,
    base: Option<&Arc<TypeObj>>,
    prototype: Dict,
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

impl BuiltinTypes {
    pub fn new() -> Self {
        let object = make_type(
            "Object",
            None,
            methods::object_prototype(),
            ctor(|_| Ok(Value::Dict(Dict::new()))),
        );
        let o = Some(&object);
        let type_ = make_type("Type", o, methods::type_prototype(), None);
        let number = make_type(
            "Number",
            None,
            methods::number_prototype(),
            ctor(|args| arg(&args, 0).to_number().map(Value::Number).map_err(fail)),
        );
        let string = make_type(
            "String",
            None,
            methods::string_prototype(),
            ctor(|args| Ok(Value::String(arg(&args, 0).to_display().into()))),
        );
        let boolean = make_type(
            "Boolean",
            None,
            methods::boolean_prototype(),
            ctor(|args| Ok(Value::Bool(arg(&args, 0).to_bool()))),
        );
        let array = make_type(
            "Array",
            o,
            methods::array_prototype(),
            ctor(|args| {
                Ok(match arg(&args, 0) {
                    Value::Array(a) => Value::Array(a.shallow_clone()),
                    Value::Null => Value::Array(Array::default()),
                    other => Value::Array(Array::new(vec![other])),
                })
            }),
        );
        let dictionary = make_type(
            "Dictionary",
            o,
            methods::dictionary_prototype(),
            ctor(|args| {
                Ok(match arg(&args, 0) {
                    Value::Dict(d) => Value::Dict(d.shallow_clone()),
                    _ => Value::Dict(Dict::new()),
                })
            }),
        );
        let function = make_type("Function", o, methods::function_prototype(), None);
        let namespace = make_type("Namespace", o, Dict::new(), None);
        let datetime = make_type(
            "DateTime",
            o,
            super::datetime::prototype(),
            Some(Arc::new(|_, _, args| super::datetime::construct(args))),
        );
        let reference = make_type("Reference", o, super::reference::prototype(), None);
        let configuration = make_type("Configuration", o, Dict::new(), None);
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
        ]
    }
}

impl Default for BuiltinTypes {
    fn default() -> Self {
        Self::new()
    }
}
