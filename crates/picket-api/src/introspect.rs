//! `/v1/variables`, `/v1/templates` and `/v1/types`: the configuration's
//! global variables, its templates and the type registry, as Icinga lists
//! them.

use picket_lang::{Dict, Value};
use serde_json::json;

use crate::engine::Engine;
use crate::reply::{self, Reply};
use crate::server::Call;

/// Whether an item passes the request's optional `filter`, with `var`
/// bound to it.
fn passes<E: Engine>(call: &Call<'_, E>, var: &str, item: Value) -> Result<bool, String> {
    let Some(text) = call.params.string("filter") else {
        return Ok(true);
    };
    let expr = crate::filter::parse(&text).map_err(|e| crate::filter::diagnostic(&e))?;
    crate::filter::holds_for(&call.config.ctx, &expr, var, item)
}

/// A 404 for a filter that did not evaluate; why, with `verbose`.
fn refused<E: Engine>(call: &Call<'_, E>, text: &str, diagnostic: &str) -> Reply {
    if call.verbose() {
        reply::error_with(404, text, diagnostic, call.pretty)
    } else {
        reply::error(404, text, call.pretty)
    }
}

/// `GET /v1/variables[/<name>]`.
pub fn variables<E: Engine>(call: &Call<'_, E>, name: Option<&String>) -> Reply {
    let pretty = call.pretty;
    if !call.user.may("variables") {
        return reply::error(404, "No variables found.", pretty);
    }
    let ctx = &call.config.ctx;
    let mut results = Vec::new();
    let mut entries = ctx.globals.entries();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (k, v) in entries {
        if name.is_some_and(|n| n.as_str() != k.as_ref()) {
            continue;
        }
        let item = Dict::new();
        item.insert("name", Value::String(k.clone()));
        item.insert("type", Value::String(ctx.type_of(&v).name.clone()));
        item.insert("value", v.clone());
        match passes(call, "variable", Value::Dict(item.clone())) {
            Ok(true) => results.push(picket_lang::json::to_serde(&Value::Dict(item))),
            Ok(false) => {}
            Err(d) => return refused(call, "No variables found.", &d),
        }
    }
    if results.is_empty() {
        return reply::error(404, "No variables found.", pretty);
    }
    reply::results(200, results, pretty)
}

/// `GET /v1/templates/<type>[/<name>]`.
pub fn templates<E: Engine>(call: &Call<'_, E>, plural: &str, name: Option<&String>) -> Reply {
    let pretty = call.pretty;
    let Some(schema) = crate::objects::type_of_plural(plural) else {
        return reply::error(400, "Invalid type specified.", pretty);
    };
    if !call.user.may(&format!("templates/query/{}", schema.name)) {
        return reply::error(404, "No templates found.", pretty);
    }
    let sources = &call.config.ctx.sources;
    let mut results = Vec::new();
    for item in call.config.registry.templates(schema.name) {
        if item.hidden {
            continue;
        }
        if name.is_some_and(|n| n.as_str() != item.name.as_ref()) {
            continue;
        }
        let span = item.def.header;
        let doc = json!({
            "location": {
                "first_column": span.first_column, "first_line": span.first_line,
                "last_column": span.last_column, "last_line": span.last_line,
                "path": sources.path(span.file).as_ref(),
            },
            "name": item.name.as_ref(),
            "type": schema.name,
        });
        let value = picket_lang::json::from_serde(&doc);
        match passes(call, "tmpl", value) {
            Ok(true) => results.push(doc),
            Ok(false) => {}
            Err(d) => return refused(call, "No templates found.", &d),
        }
    }
    if results.is_empty() && name.is_some() {
        return reply::error(404, "No templates found.", pretty);
    }
    reply::results(200, results, pretty)
}

/// A class as `/v1/types` shows it; keys in Icinga's (sorted) order.
fn class_doc(class: &picket_model::classes::Class) -> serde_json::Value {
    let mut fields: Vec<_> = class.fields.iter().collect();
    fields.sort_by_key(|f| f.name);
    let mut field_docs = serde_json::Map::new();
    for f in fields {
        let a = f.flags;
        let mut doc = json!({
            "array_rank": f.array_rank,
            "attributes": {
                "config": a.config, "deprecated": a.deprecated, "navigation": a.navigation,
                "no_user_modify": a.no_user_modify, "no_user_view": a.no_user_view,
                "required": a.required, "state": a.state,
            },
            "id": f.id,
        });
        if let Some(n) = f.navigation_name {
            doc["navigation_name"] = json!(n);
        }
        if let Some(r) = f.ref_type {
            doc["ref_type"] = json!(r);
        }
        doc["type"] = json!(f.type_name);
        field_docs.insert(f.name.to_string(), doc);
    }
    let mut doc = json!({"abstract": class.is_abstract});
    if let Some(base) = class.base {
        doc["base"] = json!(base);
    }
    doc["fields"] = serde_json::Value::Object(field_docs);
    doc["name"] = json!(class.name);
    doc["plural_name"] = json!(class.plural);
    doc["prototype_keys"] = json!(class.prototype_keys);
    doc
}

/// A class as a filter sees it: Icinga binds its `Type` object, whose
/// fields are `name`, `base` (the base's `Type`) and `prototype`.
fn type_value(class: &picket_model::classes::Class) -> Value {
    let d = Dict::new();
    d.insert("name", Value::from(class.name));
    let base = class.base.and_then(picket_model::classes::find);
    d.insert("base", base.map_or(Value::Null, type_value));
    let prototype = Dict::new();
    for k in &class.prototype_keys {
        prototype.insert(*k, Value::Bool(true));
    }
    d.insert("prototype", Value::Dict(prototype));
    Value::Dict(d)
}

/// `GET /v1/types[/<name>]`: the type registry (see
/// [`picket_model::classes`]).
pub fn types<E: Engine>(call: &Call<'_, E>, name: Option<&String>) -> Reply {
    let pretty = call.pretty;
    if !call.user.may("types") {
        return reply::error(404, "No objects found.", pretty);
    }
    let mut results = Vec::new();
    for class in picket_model::classes::all() {
        if name.is_some_and(|n| n.as_str() != class.name) {
            continue;
        }
        let doc = class_doc(class);
        match passes(call, "type", type_value(class)) {
            Ok(true) => results.push(doc),
            Ok(false) => {}
            Err(d) => return refused(call, "No objects found.", &d),
        }
    }
    if results.is_empty() {
        return reply::error(404, "No objects found.", pretty);
    }
    reply::results(200, results, pretty)
}
