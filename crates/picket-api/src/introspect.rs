//! `/v1/variables`, `/v1/templates` and `/v1/types`: the configuration's
//! global variables, its templates and the type registry, as Icinga lists
//! them.

use picket_lang::{Dict, Value};
use serde_json::json;

use crate::engine::Engine;
use crate::reply::{self, Reply};
use crate::server::Call;

/// One thing a listing may return: its name, what a filter sees of it,
/// and what the answer shows of it.
pub(crate) struct Item {
    pub name: String,
    pub value: Value,
    pub doc: serde_json::Value,
}

/// How a listing names its things in a request: one by the `singular`
/// parameter (which the path sets), several by the `plural` one; `var`
/// is the name a filter sees each under.
pub(crate) struct Naming<'a> {
    pub singular: &'a str,
    pub plural: &'a str,
    pub var: &'a str,
}

/// The items a listing of things that are no configuration objects
/// answers with, as Icinga selects them: those named (by the path, the
/// singular parameter, then each of the plural one); then, with a
/// `filter` or when nothing is named, each item the filter takes (so an
/// item named and taken comes twice, as there). `Err` with why for a name
/// without item or a filter that does not evaluate (Icinga's 404).
pub(crate) fn select<E: Engine>(
    call: &Call<'_, E>,
    naming: &Naming<'_>,
    path: Option<&String>,
    items: &[Item],
) -> Result<Vec<serde_json::Value>, String> {
    let p = &call.params;
    let find = |name: &str| {
        items
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.doc.clone())
            .ok_or_else(|| format!("Object '{name}' not found."))
    };
    let mut out = Vec::new();
    let singular = path.cloned().or_else(|| p.string(naming.singular));
    for name in singular.into_iter().chain(p.list(naming.plural)) {
        out.push(find(&name)?);
    }
    if !p.contains("filter") && !out.is_empty() {
        return Ok(out);
    }
    let filter = match p.string("filter") {
        // Icinga compiles an empty filter to an expression of no value,
        // which takes nothing.
        Some(text) if text.trim().is_empty() => return Ok(out),
        Some(text) => Some(crate::filter::parse(&text).map_err(|e| crate::filter::diagnostic(&e))?),
        None => None,
    };
    let vars = crate::filter::vars_of(p.get("filter_vars"));
    for item in items {
        let taken = match &filter {
            Some(expr) => crate::filter::holds_for(
                &call.config.ctx,
                expr,
                naming.var,
                item.value.clone(),
                &vars,
            )?,
            None => true,
        };
        if taken {
            out.push(item.doc.clone());
        }
    }
    Ok(out)
}

/// Answers a listing: its items, or a 404 with `missing` (and why, with
/// `verbose`).
pub(crate) fn answer<E: Engine>(
    call: &Call<'_, E>,
    selected: Result<Vec<serde_json::Value>, String>,
    missing: &str,
) -> Reply {
    match selected {
        Ok(results) => reply::results(200, results, call.pretty),
        Err(why) => refused(call, missing, &why),
    }
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
    if !call.user.may("variables") {
        return reply::error(404, "No variables found.", call.pretty);
    }
    let ctx = &call.config.ctx;
    let mut entries = ctx.globals.entries();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let items: Vec<Item> = entries
        .into_iter()
        .map(|(k, v)| {
            let item = Dict::new();
            item.insert("name", Value::String(k.clone()));
            item.insert("type", Value::String(ctx.type_of(&v).name.clone()));
            item.insert("value", v);
            let value = Value::Dict(item);
            Item {
                name: k.to_string(),
                doc: picket_lang::json::to_serde(&value),
                value,
            }
        })
        .collect();
    let naming = Naming {
        singular: "variable",
        plural: "variables",
        var: "variable",
    };
    answer(
        call,
        select(call, &naming, name, &items),
        "No variables found.",
    )
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
    let items: Vec<Item> = call
        .config
        .registry
        .templates(schema.name)
        .into_iter()
        .filter(|item| !item.hidden)
        .map(|item| {
            let value = picket_model::registry::template_value(&item, sources);
            Item {
                name: item.name.to_string(),
                doc: picket_lang::json::to_serde(&value),
                value,
            }
        })
        .collect();
    let singular = schema.name.to_lowercase();
    let naming = Naming {
        singular: &singular,
        plural,
        var: "tmpl",
    };
    answer(
        call,
        select(call, &naming, name, &items),
        "No templates found.",
    )
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
    let items: Vec<Item> = picket_model::classes::all()
        .iter()
        .map(|class| Item {
            name: class.name.to_string(),
            value: type_value(class),
            doc: class_doc(class),
        })
        .collect();
    // Icinga takes a `type` parameter as the name.
    let named = name.cloned().or_else(|| call.params.string("type"));
    let naming = Naming {
        singular: "name",
        plural: "types",
        var: "type",
    };
    answer(
        call,
        select(call, &naming, named.as_ref(), &items),
        "No objects found.",
    )
}
