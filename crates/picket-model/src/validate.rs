//! Validation of committed objects: required attributes, references to other
//! objects, value rules, and the cluster rules that span objects (zone
//! trees, endpoint membership).
//!
//! Messages are Icinga's: `Validation failed for object 'h' of type 'Host';
//! Attribute 'check_command': Object 'x' of type 'CheckCommand' does not
//! exist.`, located at the assignment that set the attribute when there is
//! one, at the object's header otherwise.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use picket_lang::eval::Context;
use picket_lang::{LangError, Value};

use crate::object::ConfigObject;
use crate::registry::Registry;

fn failed(ctx: &Context, obj: &ConfigObject, attr: &str, message: &str) -> LangError {
    failed_at(ctx, obj, attr, &[], message)
}

/// Like [`failed`], for a value inside attribute `attr`: `path` runs from
/// it down (`arguments` -> `-a` -> `value`); the location is the
/// attribute's.
fn failed_at(
    ctx: &Context,
    obj: &ConfigObject,
    attr: &str,
    path: &[&str],
    message: &str,
) -> LangError {
    let _ = ctx;
    let span = obj.hint(attr).unwrap_or_else(|| obj.header());
    let inner: String = path.iter().map(|p| format!(" -> '{p}'")).collect();
    LangError::script(
        format!(
            "Validation failed for object '{}' of type '{}'; Attribute '{attr}'{inner}: {message}",
            obj.full_name(),
            obj.schema.name
        ),
        span,
    )
}

/// Checks one object; Icinga stops at the first failing attribute.
pub fn object(
    ctx: &Context,
    registry: &Arc<Registry>,
    obj: &Arc<ConfigObject>,
) -> Option<LangError> {
    for (index, field) in obj.schema.fields.iter().enumerate() {
        if !field.required && field.reference.is_none() {
            continue;
        }
        let value = match obj.raw_at(index) {
            // Unset fields only matter for `required` (and `groups` whose
            // default is an empty list).
            None if !field.required => continue,
            _ => obj.get(field.name).unwrap_or_default(),
        };
        if field.required {
            let empty = match &value {
                Value::Null => true,
                Value::String(s) => s.is_empty(),
                _ => false,
            };
            if empty {
                return Some(failed(ctx, obj, field.name, "Attribute must not be empty."));
            }
        }
        if let Some(target) = field.reference {
            let names: Vec<String> = match &value {
                Value::Array(a) => a.to_vec().iter().map(Value::to_display).collect(),
                Value::Null => Vec::new(),
                other => vec![other.to_display()],
            };
            for n in names.into_iter().filter(|n| !n.is_empty()) {
                if registry.find(target, &n).is_none() {
                    return Some(failed(
                        ctx,
                        obj,
                        field.name,
                        &format!("Object '{n}' of type '{target}' does not exist."),
                    ));
                }
            }
        }
    }
    let zone = obj.get_str("zone");
    if !zone.is_empty() && registry.find("Zone", &zone).is_none() {
        return Some(failed(
            ctx,
            obj,
            "zone",
            &format!("Object '{zone}' of type 'Zone' does not exist."),
        ));
    }
    type_rules(ctx, registry, obj)
}

/// Icinga's checks beyond required attributes and references.
fn type_rules(
    ctx: &Context,
    registry: &Arc<Registry>,
    obj: &Arc<ConfigObject>,
) -> Option<LangError> {
    let number = |attr: &str| obj.get(attr).and_then(|v| v.to_number().ok());
    match obj.schema.name {
        "Host" | "Service" => {
            for attr in ["check_interval", "retry_interval"] {
                if number(attr).is_some_and(|n| n <= 0.0) {
                    return Some(failed(ctx, obj, attr, "Interval must be greater than 0."));
                }
            }
            if number("max_check_attempts").is_some_and(|n| n <= 0.0) {
                return Some(failed(
                    ctx,
                    obj,
                    "max_check_attempts",
                    "Value must be greater than 0.",
                ));
            }
            let zone = obj.get_str("zone");
            let global = registry
                .find("Zone", &zone)
                .and_then(|z| z.get("global"))
                .is_some_and(|g| g.to_bool());
            if global {
                return Some(LangError::new(
                    picket_lang::ErrorKind::Script,
                    format!(
                        "{} '{}' cannot be put into global zone '{zone}'.",
                        obj.schema.name,
                        obj.full_name()
                    ),
                    None,
                ));
            }
            command_endpoint(ctx, registry, obj)
        }
        "CheckCommand" | "NotificationCommand" | "EventCommand" => command_rules(ctx, obj),
        "Notification" => {
            let empty = |attr: &str| match obj.get(attr) {
                Some(Value::Array(a)) => a.is_empty(),
                _ => true,
            };
            if empty("users") && empty("user_groups") {
                return Some(LangError::script(
                    format!(
                        "Validation failed for object '{}' of type 'Notification': Validation failed: No users/user_groups specified.",
                        obj.full_name()
                    ),
                    obj.header(),
                ));
            }
            let on_service = !obj.get_str("service_name").is_empty();
            filter_rules(ctx, obj, on_service)
        }
        "Dependency" => {
            let on_service = !obj.get_str("parent_service_name").is_empty();
            filter_rules(ctx, obj, on_service)
        }
        // Users may filter on host and service states alike.
        "User" => filter_rules(ctx, obj, true),
        "Zone" => zone_cycle(ctx, registry, obj),
        "ApiListener" => api_certificate(ctx, obj),
        "FileLogger" | "SyslogLogger" => {
            let severity = obj.get_str("severity");
            let known = ["debug", "notice", "information", "warning", "critical"];
            (!known.contains(&severity.as_str())).then(|| {
                let message = format!("Invalid severity specified: {severity}");
                failed(ctx, obj, "severity", &message)
            })
        }
        "TimePeriod" | "ScheduledDowntime" => match obj.get("ranges") {
            Some(Value::Dict(ranges)) => crate::timeperiod::validate_ranges(&ranges)
                .err()
                .map(|m| failed(ctx, obj, "ranges", &m)),
            _ => None,
        },
        _ => None,
    }
}

/// A command's `command`, `arguments` and `env` as Icinga's `Command`
/// class checks them: the types it declares (a string takes any scalar,
/// a number anything that converts), then a command line that is a list
/// when there are arguments, then macros whose `$` are not closed.
fn command_rules(ctx: &Context, obj: &ConfigObject) -> Option<LangError> {
    let fail = |path: &[&str], message: &str| {
        let (attr, inner) = path.split_first().unwrap_or((&"", &[]));
        Some(failed_at(ctx, obj, attr, inner, message))
    };
    let text = |v: &Value| {
        matches!(
            v,
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_)
        )
    };
    let text_or_function = |v: &Value| text(v) || matches!(v, Value::Function(_));
    let sorted = |d: &picket_lang::Dict| {
        let mut entries = d.entries();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries
    };
    let command = obj.get("command").unwrap_or_default();
    match &command {
        Value::Array(items) => {
            for (i, item) in items.to_vec().iter().enumerate() {
                if !text_or_function(item) {
                    return fail(&["command", &i.to_string()], "Invalid type.");
                }
            }
        }
        v if text_or_function(v) => {}
        _ => return fail(&["command"], "Invalid type."),
    }
    let arguments = obj.get("arguments").unwrap_or_default();
    let has_arguments = !arguments.is_null();
    let arguments = match &arguments {
        Value::Null => Vec::new(),
        Value::Dict(d) => sorted(d),
        _ => return fail(&["arguments"], "Invalid type."),
    };
    for (key, argument) in &arguments {
        match argument {
            Value::Dict(spec) => {
                for (name, v) in sorted(spec) {
                    let fits = match name.as_ref() {
                        "key" | "description" | "separator" => text(&v),
                        "value" | "set_if" => text_or_function(&v),
                        "required" | "skip_key" | "repeat_key" | "order" => v.to_number().is_ok(),
                        _ => {
                            let message = format!("Invalid attribute: {name}");
                            return fail(&["arguments", key, &name], &message);
                        }
                    };
                    if !fits {
                        return fail(&["arguments", key, &name], "Invalid type.");
                    }
                }
            }
            v if text_or_function(v) => {}
            _ => return fail(&["arguments", key], "Invalid type."),
        }
    }
    let env = match obj.get("env") {
        Some(Value::Dict(d)) => sorted(&d),
        _ => Vec::new(),
    };
    for (key, v) in &env {
        if !text_or_function(v) {
            return fail(&["env", key], "Invalid type.");
        }
    }
    if has_arguments && !matches!(command, Value::Array(_)) {
        return fail(
            &["command"],
            "Attribute 'command' must be an array if the 'arguments' attribute is set.",
        );
    }
    let unclosed = |v: &Value| match v {
        Value::String(s) => s.matches('$').count() % 2 == 1,
        _ => false,
    };
    let unclosed_message = |v: &Value| {
        format!(
            "Closing $ not found in macro format string '{}'.",
            v.to_display()
        )
    };
    for (key, argument) in &arguments {
        match argument {
            Value::Dict(spec) => {
                if let Some(v) = spec.get("value").filter(|v| unclosed(v)) {
                    let message = format!("Validation failed: {}", unclosed_message(&v));
                    return fail(&["arguments", key, "value"], &message);
                }
                if let Some(v) = spec.get("set_if").filter(|v| unclosed(v)) {
                    return fail(&["arguments", key, "set_if"], &unclosed_message(&v));
                }
            }
            v if unclosed(v) => return fail(&["arguments", key], &unclosed_message(v)),
            _ => {}
        }
    }
    env.iter()
        .find(|(_, v)| unclosed(v))
        .and_then(|(key, v)| fail(&["env", key], &unclosed_message(v)))
}

/// A global or built-in constant, as the configuration sees it.
fn constant(ctx: &Context, name: &str) -> Option<Value> {
    let interp = picket_lang::Interp::new(ctx);
    interp.lookup(&interp.top_frame(), name, None)
}

/// Icinga 2.13 reads the node certificate when it loads the ApiListener,
/// from `DataDir/certs/<NodeName>.crt` (whatever `cert_path` says), and
/// refuses the configuration without a readable one.
fn api_certificate(ctx: &Context, obj: &ConfigObject) -> Option<LangError> {
    let text = |name: &str| {
        constant(ctx, name)
            .map(|v| v.to_display())
            .unwrap_or_default()
    };
    let path = format!("{}/certs//{}.crt", text("DataDir"), text("NodeName"));
    let readable =
        std::fs::read_to_string(&path).is_ok_and(|pem| pem.contains("-----BEGIN CERTIFICATE-----"));
    if readable {
        return None;
    }
    ctx.log(picket_lang::eval::LogRecord {
        severity: picket_lang::eval::Severity::Critical,
        facility: "SSL".into(),
        message: format!("Error on reading certificate file '{path}'"),
    });
    Some(LangError::script(
        format!("Cannot get certificate from cert path: '{path}'."),
        obj.header(),
    ))
}

const HOST_STATES: &[&str] = &["Up", "Down"];
const SERVICE_STATES: &[&str] = &["OK", "Warning", "Critical", "Unknown"];
const TYPES: &[&str] = &[
    "DowntimeStart",
    "DowntimeEnd",
    "DowntimeRemoved",
    "Custom",
    "Acknowledgement",
    "Problem",
    "Recovery",
    "FlappingStart",
    "FlappingEnd",
];

/// `states` and `types` filters may only name states and notification types
/// that apply to the object.
fn filter_rules(ctx: &Context, obj: &ConfigObject, on_service: bool) -> Option<LangError> {
    let names = |attr: &str| -> Vec<String> {
        match obj.get(attr) {
            Some(Value::Array(a)) => a.to_vec().iter().map(Value::to_display).collect(),
            _ => Vec::new(),
        }
    };
    let allowed: Vec<&str> = if obj.schema.name == "User" {
        HOST_STATES.iter().chain(SERVICE_STATES).copied().collect()
    } else if on_service {
        SERVICE_STATES.to_vec()
    } else {
        HOST_STATES.to_vec()
    };
    if names("states")
        .iter()
        .any(|s| !allowed.contains(&s.as_str()))
    {
        let message = match (obj.schema.name, on_service) {
            ("Dependency", false) => "State filter is invalid for host dependency.",
            ("Dependency", true) => "State filter is invalid for service dependency.",
            _ => "State filter is invalid.",
        };
        return Some(failed(ctx, obj, "states", message));
    }
    if obj.schema.name != "Dependency"
        && names("types").iter().any(|t| !TYPES.contains(&t.as_str()))
    {
        return Some(failed(ctx, obj, "types", "Type filter is invalid."));
    }
    None
}

/// `command_endpoint` needs the checkable in a zone, and the endpoint in that
/// zone or a direct child of it.
fn command_endpoint(
    ctx: &Context,
    registry: &Arc<Registry>,
    obj: &ConfigObject,
) -> Option<LangError> {
    let ep_name = obj.get_str("command_endpoint");
    if ep_name.is_empty() {
        return None;
    }
    let zone = obj.get_str("zone");
    if zone.is_empty() {
        return Some(LangError::script(
            format!(
                "Validation failed for object '{}' of type '{}'; Attribute 'command_endpoint': Checkable with command endpoint requires a zone. Please check the troubleshooting documentation.",
                obj.full_name(),
                obj.schema.name
            ),
            obj.header(),
        ));
    }
    let endpoint = registry.find("Endpoint", &ep_name)?;
    let Some(ep_zone) = zone_of_endpoint(registry, &ep_name) else {
        return Some(LangError::script(
            format!("Endpoint '{ep_name}' does not belong to a zone."),
            endpoint.header(),
        ));
    };
    let parent = registry
        .find("Zone", &ep_zone)
        .map(|z| z.get_str("parent"))
        .unwrap_or_default();
    if ep_zone != zone && parent != zone {
        return Some(LangError::script(
            format!(
                "Validation failed for object '{}' of type '{}'; Attribute 'command_endpoint': Command endpoint must be in zone '{zone}' or in a direct child zone thereof.",
                obj.full_name(),
                obj.schema.name
            ),
            obj.header(),
        ));
    }
    let _ = ctx;
    None
}

/// The zone that lists an endpoint.
pub fn zone_of_endpoint(registry: &Arc<Registry>, endpoint: &str) -> Option<String> {
    registry
        .committed("Zone")
        .into_iter()
        .find_map(|z| match z.get("endpoints") {
            Some(Value::Array(a)) if a.to_vec().iter().any(|e| e.to_display() == endpoint) => {
                Some(z.full_name())
            }
            _ => None,
        })
}

fn zone_cycle(ctx: &Context, registry: &Arc<Registry>, zone: &ConfigObject) -> Option<LangError> {
    let _ = ctx;
    let mut seen = HashSet::new();
    let mut cur = zone.full_name();
    loop {
        if !seen.insert(cur.clone()) {
            return Some(LangError::script(
                "Infinite recursion detected while resolving zone graph. Check your zone hierarchy.",
                zone.header(),
            ));
        }
        let parent = registry
            .find("Zone", &cur)
            .map(|z| z.get_str("parent"))
            .unwrap_or_default();
        if parent.is_empty() {
            return None;
        }
        cur = parent;
    }
}

/// Rules across the objects of a type, checked once all of them exist:
/// an endpoint may be listed by one zone only.
pub fn type_done(registry: &Arc<Registry>, type_name: &str) -> Vec<LangError> {
    let mut errors = Vec::new();
    if type_name != "Zone" {
        return errors;
    }
    let mut member_of: HashMap<String, String> = HashMap::new();
    for z in registry.committed("Zone") {
        if let Some(Value::Array(eps)) = z.get("endpoints") {
            for ep in eps.to_vec() {
                let ep = ep.to_display();
                match member_of.get(&ep) {
                    Some(other) if *other != z.full_name() => {
                        let span = registry
                            .find("Endpoint", &ep)
                            .map(|e| e.header())
                            .unwrap_or_else(|| z.header());
                        errors.push(LangError::script(
                            format!("Endpoint '{ep}' is in more than one zone."),
                            span,
                        ));
                    }
                    _ => {
                        member_of.insert(ep, z.full_name());
                    }
                }
            }
        }
    }
    // An endpoint is reached through its zone: one in none is an error,
    // as in Icinga.
    for ep in registry.committed("Endpoint") {
        if !member_of.contains_key(&ep.full_name()) {
            errors.push(LangError::script(
                format!("Endpoint '{}' does not belong to a zone.", ep.full_name()),
                ep.header(),
            ));
        }
    }
    errors
}
