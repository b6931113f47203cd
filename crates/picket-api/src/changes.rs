//! `PUT`, `POST` and `DELETE` on `/v1/objects`: creating objects,
//! changing their attributes, deleting them. The node does the work (a
//! new object must load with the whole configuration, and every change is
//! made durable before the answer); here are the requests' rules and
//! Icinga's answers. Comments and downtimes are operations rather than
//! configuration, so creating and deleting them goes to the operations.

use std::collections::BTreeMap;

use picket_model::api_objects::{self, Creation};
use picket_model::operations::{self, AcknowledgementFields, Comment, Downtime, Operation};
use picket_model::result::now;
use picket_model::schema::{TypeSchema, COMMON_FIELDS};
use serde_json::{json, Map, Value as Json};

use crate::engine::{Changes, Engine};
use crate::objects;
use crate::render;
use crate::reply::{self, Reply};
use crate::routes;
use crate::server::Call;

/// Runtime attributes every object has that nobody may change.
const FIXED: &[&str] = &[
    "active",
    "ha_mode",
    "original_attributes",
    "paused",
    "version",
];

fn create_failed<E: Engine>(call: &Call<'_, E>, errors: Vec<String>, diagnostic: bool) -> Reply {
    let mut r = json!({
        "code": 500,
        "errors": errors,
        "status": "Object could not be created.",
    });
    if call.verbose() {
        let info: Vec<String> = if diagnostic { errors } else { Vec::new() };
        r["diagnostic_information"] = json!(info);
    }
    reply::results(500, vec![r], call.pretty)
}

/// `PUT /v1/objects/<type>/<name>`.
pub async fn create<E: Engine>(
    call: Call<'_, E>,
    schema: &'static TypeSchema,
    name: &str,
) -> Reply {
    if !call.user.may(&format!("objects/create/{}", schema.name)) {
        return routes::not_found(&call);
    }
    let templates: Vec<String> = match call.params.get("templates") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(a)) => a
            .iter()
            .map(|t| match t {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
        Some(_) => return routes::not_found(&call),
    };
    let attrs: Map<String, Json> = match call.params.last("attrs") {
        None | Some(Json::Null) => Map::new(),
        Some(Json::Object(m)) => m.clone(),
        Some(_) => return routes::not_found(&call),
    };
    for key in attrs.keys() {
        let field = key.split('.').next().unwrap_or_default();
        // The bookkeeping every object has is written into the declaration
        // as any attribute (Icinga's), to be read as the language reads
        // it; only `name` and `type` are refused.
        let configurable = !matches!(field, "name" | "type")
            && (COMMON_FIELDS.contains(&field) || schema.fields.iter().any(|f| f.name == field));
        if configurable {
            continue;
        }
        let text = if render::has_attribute(schema, field) {
            format!("Error: Attribute is marked for internal use only and may not be set: {key}\n")
        } else {
            format!("Error: Invalid attribute specified: {key}\n")
        };
        return create_failed(&call, vec![text], true);
    }
    let Ok(ignore_on_error) = call.params.switch("ignore_on_error") else {
        return routes::not_found(&call);
    };
    if let Err(e) = api_objects::name_parts(schema.name, name) {
        return create_failed(&call, vec![format!("Error: {e}\n")], true);
    }
    let outcome = if matches!(schema.name, "Comment" | "Downtime") {
        create_remark(&call, schema, name, &attrs)
            .await
            .map(|()| true)
    } else {
        let creation = Creation {
            templates,
            attrs: attrs.into_iter().collect::<BTreeMap<_, _>>(),
            ignore_on_error,
            time: now(),
        };
        call.api
            .engine
            .create_object(&call.user.name, schema.name, name.to_string(), creation)
            .await
    };
    match outcome {
        Ok(created) => {
            let status = if created {
                "Object was created"
            } else {
                "Object was not created but 'ignore_on_error' was set to true"
            };
            reply::results(
                200,
                vec![json!({ "code": 200, "status": status })],
                call.pretty,
            )
        }
        Err(errors) => create_failed(&call, errors, false),
    }
}

/// A comment or downtime made with `PUT`: its owner comes from its name
/// (`host!name`, `host!service!name`).
async fn create_remark<E: Engine>(
    call: &Call<'_, E>,
    schema: &'static TypeSchema,
    name: &str,
    attrs: &Map<String, Json>,
) -> Result<(), Vec<String>> {
    let invalid = |field: &str, why: String| {
        vec![format!(
            "Error: Validation failed for object '{name}' of type '{}'; Attribute '{field}': {why}\n",
            schema.name
        )]
    };
    let (_, owners) = api_objects::name_parts(schema.name, name).map_err(|e| vec![e])?;
    let checkable = owners
        .iter()
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join("!");
    let owner_type = if owners.len() == 1 { "Host" } else { "Service" };
    let exists = !objects::views(
        &call.api.engine,
        &call.config.registry,
        picket_model::schema::find_type(owner_type).unwrap_or(schema),
        Some(checkable.clone()),
    )
    .await
    .is_empty();
    if !exists {
        let field = if owners.len() == 1 {
            "host_name"
        } else {
            "service_name"
        };
        return Err(invalid(
            field,
            format!("Object '{checkable}' of type '{owner_type}' does not exist."),
        ));
    }
    let text = |k: &str| {
        attrs
            .get(k)
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    let number = |k: &str| attrs.get(k).and_then(Json::as_f64).unwrap_or(0.0);
    let flag = |k: &str, default: bool| attrs.get(k).and_then(Json::as_bool).unwrap_or(default);
    for f in schema.fields.iter().filter(|f| f.required) {
        let set = attrs.get(f.name).is_some_and(|v| match v {
            Json::Null => false,
            Json::String(s) => !s.is_empty(),
            _ => true,
        });
        if !set && !owners.iter().any(|(o, _)| *o == f.name) {
            return Err(invalid(f.name, "Attribute must not be empty.".into()));
        }
    }
    let engine = &call.api.engine;
    let t = now();
    let op = if schema.name == "Comment" {
        Operation::AddComment {
            name: name.to_string(),
            comment: Comment {
                author: text("author"),
                text: text("text"),
                entry_type: number("entry_type").max(1.0) as u8,
                entry_time: t,
                expire_time: number("expire_time"),
                persistent: flag("persistent", false),
                legacy_id: engine.legacy_id(false),
            },
        }
    } else {
        Operation::ScheduleDowntime {
            name: name.to_string(),
            downtime: Downtime {
                author: text("author"),
                comment: text("comment"),
                start_time: number("start_time"),
                end_time: number("end_time"),
                duration: number("duration"),
                fixed: flag("fixed", true),
                triggered_by: text("triggered_by"),
                scheduled_by: text("scheduled_by"),
                parent: text("parent"),
                entry_time: t,
                trigger_time: 0.0,
                legacy_id: engine.legacy_id(true),
                config_owner_hash: text("config_owner_hash"),
                authoritative_zone: text("authoritative_zone"),
            },
        }
    };
    engine
        .operate(&call.user.name, checkable, op)
        .await
        .map_err(|e| vec![format!("Error: {e}\n")])
}

/// The attributes of a `POST`, sorted; `None` when there is no
/// dictionary of them.
fn attrs_of<E: Engine>(call: &Call<'_, E>) -> Option<Changes> {
    let Some(Json::Object(m)) = call.params.last("attrs") else {
        return None;
    };
    let mut list: Changes = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    Some(list)
}

/// `POST /v1/objects/<type>[/<name>]`: every selected object gets the
/// attributes, in name order up to the first that fails; the answer is
/// 200 whatever each object's result (Icinga's).
pub async fn modify<E: Engine>(
    call: Call<'_, E>,
    schema: &'static TypeSchema,
    name: Option<&String>,
) -> Reply {
    let pick = objects::pick(&call, schema, name);
    let permission = format!("objects/modify/{}", schema.name);
    let targets = match objects::select(&call, schema, pick, &permission).await {
        Ok(t) => t,
        Err(diagnostic) => return objects::not_found(&call, &diagnostic),
    };
    let Some(attrs) = attrs_of(&call) else {
        return reply::error(
            400,
            "Invalid type for 'attrs' attribute specified. Dictionary type is required.Or is this a POST query and you missed adding a 'X-HTTP-Method-Override: GET' header?",
            call.pretty,
        );
    };
    let item = |name: String, outcome: Result<(), (String, String)>| match outcome {
        Ok(()) => json!({
            "code": 200, "name": name, "status": "Attributes updated.", "type": schema.name,
        }),
        Err((attr, e)) => json!({
            "code": 500,
            "name": name,
            "status": format!("Attribute '{attr}' could not be set: Error: {e}\n"),
            "type": schema.name,
        }),
    };
    let engine = &call.api.engine;
    // Runtime attributes (`check_attempt`, `next_check`) are the node's
    // live state, taken there; the rest goes to the configuration.
    let mut config_attrs = Vec::new();
    let mut stop = None;
    let mut runtime = Vec::new();
    let mut acknowledgement = AcknowledgementFields::default();
    for (k, v) in attrs {
        let field = k.split('.').next().unwrap_or_default();
        if field == "type" {
            stop = Some((k, "Type field cannot be set.".to_string()));
            break;
        }
        if FIXED.contains(&field) {
            stop = Some((k, "Attribute cannot be modified.".to_string()));
            break;
        }
        let live = schema.fields.iter().all(|f| f.name != field)
            && !COMMON_FIELDS.contains(&field)
            && render::has_attribute(schema, field);
        if live {
            if let Err(e) = settable(schema.name, field, &v) {
                stop = Some((k, e));
                break;
            }
            let value = picket_lang::json::from_serde(&v);
            if !take_acknowledgement(&mut acknowledgement, field, &value) {
                runtime.push((k, value));
            }
            continue;
        }
        config_attrs.push((k, v));
    }
    if matches!(schema.name, "Comment" | "Downtime") {
        let mut results = Vec::with_capacity(targets.len());
        for view in &targets {
            let name = view.object.full_name();
            let outcome = modify_operation(&call, view, &config_attrs).await;
            let outcome = outcome.and_then(|()| stop.clone().map_or(Ok(()), Err));
            results.push(item(name, outcome));
        }
        return reply::results(200, results, call.pretty);
    }
    let list = targets
        .iter()
        .map(|v| (v.object.clone(), config_attrs.clone()))
        .collect();
    let outcomes = engine.modify_objects(&call.user.name, list).await;
    let mut results = Vec::with_capacity(targets.len());
    for (view, outcome) in targets.iter().zip(outcomes) {
        let name = view.object.full_name();
        // Those before a refused attribute are taken, as Icinga takes
        // them one by one.
        if outcome.is_ok() && view.live.is_some() && !runtime.is_empty() {
            let _ = engine.set_runtime(name.clone(), runtime.clone()).await;
        }
        // Kept with the checkable's operations, though Icinga tells no
        // one: they make it acknowledged and survive restarts.
        let outcome = match outcome {
            Ok(()) if view.live.is_some() && acknowledgement != Default::default() => {
                let op = Operation::SetAcknowledgementFields {
                    fields: acknowledgement,
                    at: now(),
                };
                engine
                    .operate(&call.user.name, name.clone(), op)
                    .await
                    .map_err(|e| ("acknowledgement".to_string(), e.to_string()))
            }
            outcome => outcome,
        };
        let outcome = outcome.and_then(|()| stop.clone().map_or(Ok(()), Err));
        results.push(item(name, outcome));
    }
    reply::results(200, results, call.pretty)
}

/// Takes `field` into `fields` when it is one of the acknowledgement's
/// (already checked to convert to a number); false for any other.
fn take_acknowledgement(
    fields: &mut AcknowledgementFields,
    field: &str,
    value: &picket_lang::Value,
) -> bool {
    let number = value.to_number().unwrap_or(0.0);
    match field {
        // An enumeration in Icinga: the number's integer part.
        "acknowledgement" => fields.acknowledgement = Some(number as i32),
        "acknowledgement_expiry" => fields.expiry = Some(number),
        "acknowledgement_last_change" => fields.last_change = Some(number),
        _ => return false,
    }
    true
}

/// Whether a runtime attribute may take `value`, in Icinga's words when
/// not: fields for internal use are refused, numbers must convert, and
/// object fields take objects only.
fn settable(type_name: &str, field: &str, value: &Json) -> Result<(), String> {
    let Some(f) = picket_model::classes::field(type_name, field) else {
        return Ok(());
    };
    if f.flags.no_user_modify {
        return Err("Attribute cannot be modified.".into());
    }
    let numeric = matches!(
        f.type_name,
        "Number" | "Timestamp" | "unsigned short" | "unsigned long" | "uint_fast64_t"
    );
    let object = f.type_name.starts_with(char::is_uppercase)
        && !matches!(
            f.type_name,
            "Number" | "Timestamp" | "String" | "Value" | "Dictionary" | "Array"
        );
    if numeric && f.array_rank == 0 {
        picket_lang::json::from_serde(value).to_number()?;
    } else if object && f.array_rank == 0 && !value.is_null() {
        return Err(crate::params::not_an_object(value));
    }
    Ok(())
}

/// Changes a comment or downtime: an operation on its checkable's
/// operations, durable and audited like the action that made it. The
/// attributes up to the first that cannot be set are changed.
async fn modify_operation<E: Engine>(
    call: &Call<'_, E>,
    view: &render::View,
    attrs: &[(String, Json)],
) -> Result<(), (String, String)> {
    let type_name = view.object.schema.name;
    let mut changes = Vec::new();
    let mut failed = None;
    for (k, v) in attrs {
        match operations::attribute_change(type_name, k, &picket_lang::json::from_serde(v)) {
            Ok(value) => changes.push((k.clone(), value)),
            Err(e) => {
                failed = Some((k.clone(), e));
                break;
            }
        }
    }
    if !changes.is_empty() {
        let first = changes[0].0.clone();
        let op = Operation::Modify {
            name: view.object.full_name(),
            changes,
            at: now(),
        };
        let checkable = crate::operator::checkable_of(view);
        if let Err(e) = call
            .api
            .engine
            .operate(&call.user.name, checkable, op)
            .await
        {
            return Err((first, e.to_string()));
        }
    }
    failed.map_or(Ok(()), Err)
}

/// `DELETE /v1/objects/<type>[/<name>]`.
pub async fn delete<E: Engine>(
    call: Call<'_, E>,
    schema: &'static TypeSchema,
    name: Option<&String>,
) -> Reply {
    let pick = objects::pick(&call, schema, name);
    let permission = format!("objects/delete/{}", schema.name);
    let targets = match objects::select(&call, schema, pick, &permission).await {
        Ok(t) => t,
        Err(diagnostic) => return objects::not_found(&call, &diagnostic),
    };
    let Ok(cascade) = call.params.switch("cascade") else {
        return routes::not_found(&call);
    };
    let engine = &call.api.engine;
    let outcomes: Vec<Result<(), Vec<String>>> = if matches!(schema.name, "Comment" | "Downtime") {
        let mut out = Vec::with_capacity(targets.len());
        for v in &targets {
            let name = v.object.full_name();
            let checkable = match v.object.get_str("service_name") {
                s if s.is_empty() => v.object.get_str("host_name"),
                s => format!("{}!{s}", v.object.get_str("host_name")),
            };
            let op = if schema.name == "Comment" {
                Operation::RemoveComment { name }
            } else {
                Operation::RemoveDowntime {
                    name,
                    cancelled: true,
                    at: now(),
                }
            };
            out.push(
                engine
                    .operate(&call.user.name, checkable, op)
                    .await
                    .map_err(|e| vec![e.to_string()]),
            );
        }
        out
    } else {
        let list = targets.iter().map(|v| v.object.clone()).collect();
        engine.delete_objects(&call.user.name, list, cascade).await
    };
    let verbose = call.verbose();
    let mut failed = false;
    let mut results = Vec::with_capacity(targets.len());
    for (view, outcome) in targets.iter().zip(outcomes) {
        let name = view.object.full_name();
        results.push(match outcome {
            Ok(()) => json!({
                "code": 200, "errors": [], "name": name,
                "status": "Object was deleted.", "type": schema.name,
            }),
            Err(errors) => {
                failed = true;
                let mut r = json!({
                    "code": 500, "errors": errors, "name": name,
                    "status": "Object could not be deleted.", "type": schema.name,
                });
                if verbose {
                    r["diagnostic_information"] = json!([]);
                }
                r
            }
        });
    }
    reply::results(if failed { 500 } else { 200 }, results, call.pretty)
}
