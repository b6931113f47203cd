//! Methods of the built-in types: `"a".upper()`, `[1].map(...)`, ...

use std::sync::Arc;

use super::{arg, fail, method, need};
use crate::error::LangError;
use crate::eval::Interp;
use crate::function::Function;
use crate::value::{Array, Dict, Value};

type R = Result<Value, LangError>;

fn this_str(this: &Value) -> String {
    this.to_display()
}

fn this_array(this: &Value) -> Result<Array, LangError> {
    match this {
        Value::Array(a) => Ok(a.clone()),
        _ => Err(fail("Method must be called on an Array.")),
    }
}

fn this_dict(this: &Value) -> Result<Dict, LangError> {
    match this {
        Value::Dict(d) => Ok(d.clone()),
        _ => Err(fail("Method must be called on a Dictionary.")),
    }
}

/// A function argument, refused with Icinga's messages.
fn function_arg(args: &[Value], i: usize) -> Result<Arc<Function>, LangError> {
    match args.get(i) {
        None => Err(fail("Too few arguments for function.")),
        Some(Value::Function(f)) => Ok(f.clone()),
        Some(Value::Null) => Err(fail("Pointer must not be null: function")),
        Some(v @ (Value::Bool(_) | Value::Number(_) | Value::String(_))) => Err(fail(format!(
            "Cannot convert value of type '{}' to an object.",
            v.type_name()
        ))),
        Some(_) => Err(fail("std::bad_cast")),
    }
}

/// A callback of `Array#map`, `filter`, ...: in sandbox mode (API filters,
/// a sandboxed console) Icinga refuses one that is not marked free of side
/// effects, which every function written in the language is, naming the
/// callback's role ("Map", "Filter", ...), without a location.
fn callback(interp: &Interp<'_>, args: &[Value], role: &str) -> Result<Arc<Function>, LangError> {
    let f = function_arg(args, 0)?;
    if interp.sandboxed && !f.side_effect_free {
        return Err(LangError::unlocated(format!(
            "{role} function must be side-effect free."
        )));
    }
    Ok(f)
}

fn modify<T>(a: &Array, f: impl FnOnce(&mut Vec<Value>) -> T) -> Result<T, LangError> {
    a.modify(f).map_err(fail)
}

/// Deep copy of arrays and dictionaries (`clone()`).
pub fn deep_clone(v: &Value) -> Value {
    stacker::maybe_grow(crate::eval::RED_ZONE, crate::eval::STACK_CHUNK, || {
        deep_clone_inner(v)
    })
}

fn deep_clone_inner(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(Array::new(a.to_vec().iter().map(deep_clone).collect())),
        Value::Dict(d) => {
            let out = Dict::new();
            for (k, v) in d.entries() {
                out.insert(k, deep_clone(&v));
            }
            Value::Dict(out)
        }
        other => other.clone(),
    }
}

/// Icinga orders values with its `<` operator, which refuses to compare a
/// string with a number: `sort()`, `unique()`, `union()` fail the same way.
pub fn value_less(a: &Value, b: &Value) -> Result<bool, LangError> {
    match crate::operators::binary(crate::ast::BinaryOp::Lt, a, b) {
        Ok(v) => Ok(v.to_bool()),
        Err(m) => Err(fail(m)),
    }
}

/// Sorts and removes duplicates with Icinga's ordering (`std::set`).
pub fn sorted_unique(mut items: Vec<Value>) -> Result<Vec<Value>, LangError> {
    items = merge_sort(items, &mut |a, b| value_less(a, b))?;
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for v in items {
        match out.last() {
            Some(last) if !value_less(last, &v)? && !value_less(&v, last)? => {}
            _ => out.push(v),
        }
    }
    Ok(out)
}

/// A stable merge sort with a fallible "less than": a script comparator may
/// fail or be inconsistent, and neither may break anything.
pub fn merge_sort(
    mut items: Vec<Value>,
    less: &mut dyn FnMut(&Value, &Value) -> Result<bool, LangError>,
) -> Result<Vec<Value>, LangError> {
    if items.len() <= 1 {
        return Ok(items);
    }
    let right = items.split_off(items.len() / 2);
    let left = merge_sort(items, less)?;
    let right = merge_sort(right, less)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut l, mut r) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(a), Some(b)) = (l.peek(), r.peek()) {
        if less(b, a)? {
            out.extend(r.next());
        } else {
            out.extend(l.next());
        }
    }
    out.extend(l);
    out.extend(r);
    Ok(out)
}

pub fn object_prototype() -> Dict {
    let p = Dict::new();
    p.insert(
        "clone",
        method("Object#clone", &[], true, |_, this, _| match this {
            Value::Array(_) | Value::Dict(_) => Ok(deep_clone(this)),
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
                Err(fail(format!(
                    "Cannot convert value of type '{}' to an object.",
                    this.type_name()
                )))
            }
            Value::Function(_) => Ok(this.clone()),
            _ => Err(fail("Object cannot be cloned.")),
        }),
    );
    p.insert(
        "to_string",
        method("Object#to_string", &[], true, |_, this, _| {
            Ok(Value::String(this.to_display().into()))
        }),
    );
    p.insert(
        "notify_attribute",
        method(
            "Object#notify_attribute",
            &["attribute"],
            false,
            |_, _, _| Ok(Value::Null),
        ),
    );
    p
}

pub fn type_prototype() -> Dict {
    let p = Dict::new();
    p.insert(
        "register_attribute_handler",
        method(
            "Type#register_attribute_handler",
            &["field", "callback"],
            false,
            |_, _, _| Ok(Value::Null),
        ),
    );
    p
}

fn this_namespace(this: &Value) -> Result<crate::value::Namespace, LangError> {
    match this {
        Value::Namespace(ns) => Ok(ns.clone()),
        _ => Err(fail("std::bad_cast")),
    }
}

pub fn namespace_prototype() -> Dict {
    let p = Dict::new();
    p.insert(
        "contains",
        method("Namespace#contains", &["key"], true, |_, this, args| {
            need(&args, 1)?;
            Ok(Value::Bool(
                this_namespace(this)?.contains(&args[0].to_display()),
            ))
        }),
    );
    p.insert(
        "get",
        method("Namespace#get", &["key"], true, |_, this, args| {
            need(&args, 1)?;
            Ok(this_namespace(this)?
                .get(&args[0].to_display())
                .unwrap_or_default())
        }),
    );
    p.insert(
        "set",
        method(
            "Namespace#set",
            &["key", "value"],
            false,
            |_, this, args| {
                need(&args, 2)?;
                this_namespace(this)?
                    .set(args[0].to_display(), args[1].clone(), false)
                    .map_err(fail)?;
                Ok(Value::Null)
            },
        ),
    );
    p.insert(
        "remove",
        method("Namespace#remove", &["key"], false, |_, this, args| {
            need(&args, 1)?;
            this_namespace(this)?
                .remove(&args[0].to_display())
                .map_err(fail)?;
            Ok(Value::Null)
        }),
    );
    p.insert(
        "keys",
        method("Namespace#keys", &[], true, |_, this, _| {
            Ok(Value::from(
                this_namespace(this)?
                    .keys()
                    .into_iter()
                    .map(Value::String)
                    .collect::<Vec<_>>(),
            ))
        }),
    );
    p.insert(
        "values",
        method("Namespace#values", &[], true, |_, this, _| {
            Ok(Value::from(
                this_namespace(this)?
                    .entries()
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect::<Vec<_>>(),
            ))
        }),
    );
    p
}

pub fn number_prototype() -> Dict {
    let p = Dict::new();
    p.insert(
        "to_string",
        method("Number#to_string", &[], true, |_, this, _| {
            Ok(Value::String(this.to_display().into()))
        }),
    );
    p
}

pub fn boolean_prototype() -> Dict {
    let p = Dict::new();
    p.insert(
        "to_string",
        method("Boolean#to_string", &[], true, |_, this, _| {
            Ok(Value::String(this.to_display().into()))
        }),
    );
    p
}

pub fn string_prototype() -> Dict {
    let p = Dict::new();
    p.insert(
        "len",
        method("String#len", &[], true, |_, this, _| {
            Ok(Value::from(this_str(this).len()))
        }),
    );
    p.insert(
        "to_string",
        method("String#to_string", &[], true, |_, this, _| {
            Ok(Value::String(this_str(this).into()))
        }),
    );
    p.insert(
        "lower",
        method("String#lower", &[], true, |_, this, _| {
            Ok(Value::from(this_str(this).to_ascii_lowercase()))
        }),
    );
    p.insert(
        "upper",
        method("String#upper", &[], true, |_, this, _| {
            Ok(Value::from(this_str(this).to_ascii_uppercase()))
        }),
    );
    p.insert(
        "trim",
        method("String#trim", &[], true, |_, this, _| {
            Ok(Value::from(
                this_str(this)
                    .trim_matches(|c: char| c.is_ascii_whitespace())
                    .to_string(),
            ))
        }),
    );
    p.insert(
        "reverse",
        method("String#reverse", &[], true, |_, this, _| {
            Ok(Value::from(
                this_str(this).chars().rev().collect::<String>(),
            ))
        }),
    );
    p.insert(
        "contains",
        method("String#contains", &["str"], true, |_, this, args| {
            need(&args, 1)?;
            Ok(Value::Bool(
                this_str(this).contains(&arg(&args, 0).to_display()),
            ))
        }),
    );
    p.insert(
        "find",
        method("String#find", &["str", "start"], true, |_, this, args| {
            if args.is_empty() {
                return Err(fail("Too few arguments"));
            }
            let s = this_str(this);
            let start = match args.get(1) {
                Some(v) => v.to_number().map_err(fail)?,
                None => 0.0,
            };
            if start < 0.0 {
                return Err(fail("String index is out of range"));
            }
            let start = start as usize;
            if start > s.len() {
                return Ok(Value::Number(-1.0));
            }
            let needle = args[0].to_display();
            if needle.is_empty() {
                return Ok(Value::from(start));
            }
            Ok(
                match s.as_bytes()[start..]
                    .windows(needle.len())
                    .position(|w| w == needle.as_bytes())
                {
                    Some(i) => Value::from(start + i),
                    None => Value::Number(-1.0),
                },
            )
        }),
    );
    p.insert(
        "replace",
        method(
            "String#replace",
            &["search", "replacement"],
            true,
            |_, this, args| {
                need(&args, 2)?;
                let search = arg(&args, 0).to_display();
                let s = this_str(this);
                if search.is_empty() {
                    return Ok(Value::from(s));
                }
                Ok(Value::from(s.replace(&search, &arg(&args, 1).to_display())))
            },
        ),
    );
    p.insert(
        "split",
        method("String#split", &["delimiters"], true, |_, this, args| {
            need(&args, 1)?;
            let delims: Vec<char> = arg(&args, 0).to_display().chars().collect();
            let s = this_str(this);
            let parts: Vec<Value> = s.split(|c| delims.contains(&c)).map(Value::from).collect();
            Ok(Value::from(parts))
        }),
    );
    p.insert(
        "substr",
        method("String#substr", &["start", "len"], true, |_, this, args| {
            if args.is_empty() {
                return Err(fail("Too few arguments"));
            }
            let s = this_str(this);
            let start = arg(&args, 0).to_number().map_err(fail)?;
            if start < 0.0 || start as usize >= s.len() {
                return Err(fail("String index is out of range"));
            }
            let start = start as usize;
            let end = match args.get(1) {
                Some(l) => {
                    let l = l.to_number().map_err(fail)?;
                    if l < 0.0 {
                        s.len()
                    } else {
                        start.saturating_add(l as usize).min(s.len())
                    }
                }
                None => s.len(),
            };
            let bytes = &s.as_bytes()[start..end];
            Ok(Value::from(String::from_utf8_lossy(bytes).into_owned()))
        }),
    );
    p
}

/// A callback's answer as Icinga reads it: through the number conversion,
/// so `"a"` is an error and `""` is false.
fn truthy(v: &Value) -> Result<bool, LangError> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => other.to_number().map(|n| n != 0.0).map_err(fail),
    }
}

/// The C++ library's message for an index past the end, which Icinga lets
/// through.
fn range_check(index: &Value, len: usize) -> Result<usize, LangError> {
    let i = index.to_number().map_err(fail)? as i64 as u64;
    if i >= len as u64 {
        return Err(fail(format!(
            "vector::_M_range_check: __n (which is {i}) >= this->size() (which is {len})"
        )));
    }
    Ok(i as usize)
}

pub fn array_prototype() -> Dict {
    let p = Dict::new();
    p.insert(
        "len",
        method("Array#len", &[], true, |_, this, _| {
            Ok(Value::from(this_array(this)?.len()))
        }),
    );
    p.insert(
        "add",
        method("Array#add", &["value"], false, |_, this, args| {
            need(&args, 1)?;
            let a = this_array(this)?;
            modify(&a, |v| v.push(arg(&args, 0)))?;
            Ok(Value::Null)
        }),
    );
    p.insert(
        "clear",
        method("Array#clear", &[], false, |_, this, _| {
            let a = this_array(this)?;
            modify(&a, |v| v.clear())?;
            Ok(Value::Null)
        }),
    );
    p.insert(
        "shallow_clone",
        method("Array#shallow_clone", &[], true, |_, this, _| {
            Ok(Value::Array(this_array(this)?.shallow_clone()))
        }),
    );
    p.insert(
        "freeze",
        method("Array#freeze", &[], false, |_, this, _| {
            this_array(this)?.freeze();
            Ok(Value::Null)
        }),
    );
    p.insert(
        "contains",
        method("Array#contains", &["value"], true, |_, this, args| {
            need(&args, 1)?;
            let needle = arg(&args, 0);
            Ok(Value::Bool(
                this_array(this)?.read().iter().any(|v| v.loose_eq(&needle)),
            ))
        }),
    );
    p.insert(
        "get",
        method("Array#get", &["index"], true, |_, this, args| {
            need(&args, 1)?;
            let a = this_array(this)?;
            let i = range_check(&args[0], a.len())?;
            Ok(a.get(i).unwrap_or_default())
        }),
    );
    p.insert(
        "set",
        method("Array#set", &["index", "value"], false, |_, this, args| {
            need(&args, 2)?;
            let a = this_array(this)?;
            if a.frozen() {
                return Err(fail("Value in array must not be modified."));
            }
            let i = range_check(&args[0], a.len())?;
            let value = arg(&args, 1);
            modify(&a, |v| {
                if let Some(slot) = v.get_mut(i) {
                    *slot = value;
                }
            })?;
            Ok(Value::Null)
        }),
    );
    p.insert(
        "remove",
        method("Array#remove", &["index"], false, |_, this, args| {
            need(&args, 1)?;
            let a = this_array(this)?;
            let i = args[0].to_number().map_err(fail)? as i64;
            if a.frozen() {
                return Err(fail("Array must not be modified."));
            }
            if i < 0 || i as usize >= a.len() {
                return Err(fail("Index to remove must be within bounds."));
            }
            modify(&a, |v| {
                v.remove(i as usize);
            })?;
            Ok(Value::Null)
        }),
    );
    p.insert(
        "reverse",
        method("Array#reverse", &[], true, |_, this, _| {
            let mut v = this_array(this)?.to_vec();
            v.reverse();
            Ok(Value::from(v))
        }),
    );
    p.insert(
        "join",
        method("Array#join", &["separator"], true, |_, this, args| {
            need(&args, 1)?;
            // Built with `+`, as Icinga does: `[1, 2].join(0)` is 3.
            let add = |a: &Value, b: &Value| {
                crate::operators::binary(crate::ast::BinaryOp::Add, a, b).map_err(fail)
            };
            let mut acc = Value::Null;
            for (i, item) in this_array(this)?.to_vec().iter().enumerate() {
                if i > 0 {
                    acc = add(&acc, &args[0])?;
                }
                acc = add(&acc, item)?;
            }
            Ok(acc)
        }),
    );
    p.insert(
        "sort",
        method("Array#sort", &["less_cmp"], true, |interp, this, args| {
            let v = this_array(this)?.to_vec();
            let sorted = match args.first() {
                None => merge_sort(v, &mut |a, b| value_less(a, b))?,
                Some(_) => {
                    let f = callback(interp, &args, "Sort")?;
                    merge_sort(v, &mut |a, b| {
                        truthy(&interp.call(&f, &Value::Null, vec![a.clone(), b.clone()])?)
                    })?
                }
            };
            Ok(Value::from(sorted))
        }),
    );
    p.insert(
        "unique",
        method("Array#unique", &[], true, |_, this, _| {
            Ok(Value::from(sorted_unique(this_array(this)?.to_vec())?))
        }),
    );
    p.insert(
        "map",
        method("Array#map", &["func"], true, |interp, this, args| {
            let f = callback(interp, &args, "Map")?;
            let mut out = Vec::new();
            for item in this_array(this)?.to_vec() {
                out.push(interp.call(&f, &Value::Null, vec![item])?);
            }
            Ok(Value::from(out))
        }),
    );
    p.insert(
        "filter",
        method("Array#filter", &["func"], true, |interp, this, args| {
            let f = callback(interp, &args, "Filter")?;
            let mut out = Vec::new();
            for item in this_array(this)?.to_vec() {
                if truthy(&interp.call(&f, &Value::Null, vec![item.clone()])?)? {
                    out.push(item);
                }
            }
            Ok(Value::from(out))
        }),
    );
    p.insert(
        "reduce",
        method("Array#reduce", &["reduce"], true, |interp, this, args| {
            let f = callback(interp, &args, "Reduce")?;
            let items = this_array(this)?.to_vec();
            let mut iter = items.into_iter();
            let Some(mut acc) = iter.next() else {
                return Ok(Value::Null);
            };
            for item in iter {
                acc = interp.call(&f, &Value::Null, vec![acc, item])?;
            }
            Ok(acc)
        }),
    );
    p.insert(
        "any",
        method("Array#any", &["func"], true, |interp, this, args| {
            let f = callback(interp, &args, "Filter")?;
            for item in this_array(this)?.to_vec() {
                if truthy(&interp.call(&f, &Value::Null, vec![item])?)? {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }),
    );
    p.insert(
        "all",
        method("Array#all", &["func"], true, |interp, this, args| {
            let f = callback(interp, &args, "Filter")?;
            for item in this_array(this)?.to_vec() {
                if !truthy(&interp.call(&f, &Value::Null, vec![item])?)? {
                    return Ok(Value::Bool(false));
                }
            }
            Ok(Value::Bool(true))
        }),
    );
    p
}

pub fn dictionary_prototype() -> Dict {
    let p = Dict::new();
    p.insert(
        "len",
        method("Dictionary#len", &[], true, |_, this, _| {
            Ok(Value::from(this_dict(this)?.len()))
        }),
    );
    p.insert(
        "set",
        method(
            "Dictionary#set",
            &["key", "value"],
            false,
            |_, this, args| {
                need(&args, 2)?;
                let d = this_dict(this)?;
                if d.frozen() {
                    return Err(fail("Value in dictionary must not be modified."));
                }
                d.set(arg(&args, 0).to_display(), arg(&args, 1))
                    .map_err(fail)?;
                Ok(Value::Null)
            },
        ),
    );
    p.insert(
        "get",
        method("Dictionary#get", &["key"], true, |_, this, args| {
            need(&args, 1)?;
            Ok(this_dict(this)?
                .get(&arg(&args, 0).to_display())
                .unwrap_or_default())
        }),
    );
    p.insert(
        "remove",
        method("Dictionary#remove", &["key"], false, |_, this, args| {
            need(&args, 1)?;
            this_dict(this)?
                .remove(&arg(&args, 0).to_display())
                .map_err(fail)?;
            Ok(Value::Null)
        }),
    );
    p.insert(
        "contains",
        method("Dictionary#contains", &["key"], true, |_, this, args| {
            need(&args, 1)?;
            Ok(Value::Bool(
                this_dict(this)?.contains(&arg(&args, 0).to_display()),
            ))
        }),
    );
    p.insert(
        "clear",
        method("Dictionary#clear", &[], false, |_, this, _| {
            this_dict(this)?.clear().map_err(fail)?;
            Ok(Value::Null)
        }),
    );
    p.insert(
        "shallow_clone",
        method("Dictionary#shallow_clone", &[], true, |_, this, _| {
            Ok(Value::Dict(this_dict(this)?.shallow_clone()))
        }),
    );
    p.insert(
        "freeze",
        method("Dictionary#freeze", &[], false, |_, this, _| {
            this_dict(this)?.freeze();
            Ok(Value::Null)
        }),
    );
    p.insert(
        "keys",
        method("Dictionary#keys", &[], true, |_, this, _| {
            Ok(Value::from(
                this_dict(this)?
                    .keys()
                    .into_iter()
                    .map(Value::String)
                    .collect::<Vec<_>>(),
            ))
        }),
    );
    p.insert(
        "values",
        method("Dictionary#values", &[], true, |_, this, _| {
            Ok(Value::from(
                this_dict(this)?
                    .entries()
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect::<Vec<_>>(),
            ))
        }),
    );
    p
}

pub fn function_prototype() -> Dict {
    let p = Dict::new();
    p.insert(
        "call",
        method(
            // Icinga declares both without parameter names.
            "Function#call",
            &[],
            false,
            |interp, this, args| -> R {
                let Value::Function(f) = this else {
                    return Err(fail("Method must be called on a Function."));
                };
                if args.is_empty() {
                    return Err(fail("Too few arguments for call()"));
                }
                let mut args = args.into_iter();
                let this_arg = args.next().unwrap_or_default();
                interp.call(f, &this_arg, args.collect())
            },
        ),
    );
    p.insert(
        "callv",
        method("Function#callv", &[], false, |interp, this, args| -> R {
            let Value::Function(f) = this else {
                return Err(fail("Method must be called on a Function."));
            };
            need(&args, 2)?;
            let list = match &args[1] {
                Value::Array(a) => a.to_vec(),
                Value::Null => return Err(fail("Pointer must not be null: args")),
                other @ (Value::Bool(_) | Value::Number(_) | Value::String(_)) => {
                    return Err(fail(format!(
                        "Cannot convert value of type '{}' to an object.",
                        other.type_name()
                    )))
                }
                _ => return Err(fail("std::bad_cast")),
            };
            interp.call(f, &args[0], list)
        }),
    );
    p
}
