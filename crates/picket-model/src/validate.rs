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
    let _ = ctx;
    let span = obj.hint(attr).unwrap_or_else(|| obj.header());
    LangError::script(
        format!(
            "Validation failed for object '{}' of type '{}'; Attribute '{attr}': {message}",
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
    for field in obj.schema.fields {
        let value = obj.get(field.name).unwrap_or_default();
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
    if matches!(obj.schema.name, "Host" | "Service") {
        for attr in ["check_interval", "retry_interval"] {
            if obj
                .get(attr)
                .and_then(|v| v.to_number().ok())
                .is_some_and(|n| n <= 0.0)
            {
                return Some(failed(ctx, obj, attr, "Interval must be greater than 0."));
            }
        }
    }
    None
}

/// Rules across objects: zone trees and endpoint membership.
pub fn global(ctx: &Context, registry: &Arc<Registry>) -> Vec<LangError> {
    let mut errors = Vec::new();
    let zones = registry.committed("Zone");
    let parent_of: HashMap<String, String> = zones
        .iter()
        .map(|z| (z.full_name(), z.get_str("parent")))
        .collect();
    for z in &zones {
        let mut seen = HashSet::new();
        let mut cur = z.full_name();
        while let Some(p) = parent_of.get(&cur).filter(|p| !p.is_empty()) {
            if !seen.insert(cur.clone()) || *p == z.full_name() {
                errors.push(failed(
                    ctx,
                    z,
                    "parent",
                    "Zone object has cycle in its parent hierarchy.",
                ));
                break;
            }
            cur = p.clone();
        }
    }
    let mut member_of: HashMap<String, String> = HashMap::new();
    for z in &zones {
        if let Some(Value::Array(eps)) = z.get("endpoints") {
            for ep in eps.to_vec() {
                let ep = ep.to_display();
                if let Some(other) = member_of.get(&ep) {
                    if *other != z.full_name() {
                        errors.push(failed(
                            ctx,
                            z,
                            "endpoints",
                            &format!("Endpoint '{ep}' is already a member of zone '{other}'."),
                        ));
                    }
                } else {
                    member_of.insert(ep, z.full_name());
                }
            }
        }
    }
    errors
}
