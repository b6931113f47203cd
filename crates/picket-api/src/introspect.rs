//! `/v1/variables` and `/v1/templates`: the configuration's global
//! variables and its templates, as Icinga lists them.

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
            Err(d) => return reply::error_with(404, "No variables found.", &d, pretty),
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
            Err(d) => return reply::error_with(404, "No templates found.", &d, pretty),
        }
    }
    if results.is_empty() && name.is_some() {
        return reply::error(404, "No templates found.", pretty);
    }
    reply::results(200, results, pretty)
}
