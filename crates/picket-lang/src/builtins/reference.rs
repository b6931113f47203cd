//! References (`&x`, `*p`): a container and a key within it.

use std::any::Any;
use std::sync::Arc;

use super::{arg, method};
use crate::value::{Dict, ScriptObject, Str, Value};

#[derive(Debug)]
pub struct Reference {
    pub parent: Value,
    pub index: Str,
}

impl ScriptObject for Reference {
    fn type_name(&self) -> Str {
        "Reference".into()
    }
    fn get_field(&self, name: &str) -> Option<Value> {
        (name == "type").then(|| Value::str("Reference"))
    }
    fn fields(&self) -> Vec<(Str, Value)> {
        vec![("type".into(), Value::str("Reference"))]
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A reference value.
pub fn make(parent: Value, index: Str) -> Value {
    Value::Object(Arc::new(Reference { parent, index }))
}

/// The container and key of a reference value.
pub fn parts(v: &Value) -> Option<(Value, Str)> {
    match v {
        Value::Object(o) => o
            .as_any()
            .downcast_ref::<Reference>()
            .map(|r| (r.parent.clone(), r.index.clone())),
        _ => None,
    }
}

pub fn prototype() -> Dict {
    let p = Dict::new();
    p.insert(
        "get",
        method("Reference#get", &[], true, |interp, this, _| {
            let Some((parent, index)) = parts(this) else {
                return Ok(Value::Null);
            };
            let span = crate::source::Span::default();
            interp
                .get_index(&parent, &Value::String(index), span)
                .or(Ok(Value::Null))
        }),
    );
    p.insert(
        "set",
        method("Reference#set", &["value"], false, |interp, this, args| {
            let Some((parent, index)) = parts(this) else {
                return Ok(Value::Null);
            };
            let span = crate::source::Span::default();
            let _ = interp.set_index(&parent, &Value::String(index), arg(&args, 0), span);
            Ok(Value::Null)
        }),
    );
    p
}
