//! The commit phase: turning declarations into objects.
//!
//! Types are committed in dependency order (`load_after`), so that a Service
//! finds its Host and a Host its CheckCommand. For each type, the declared
//! objects are evaluated first, then the apply rules that create objects of
//! the type are matched against their targets. Each body runs with the new
//! object as `this`, after its own name was added to `templates` and the
//! type's default templates were imported. As in Icinga, all errors of one
//! type are reported together and the commit stops after a type that had
//! errors; objects declared `ignore_on_error` are dropped instead.

use std::sync::Arc;

use picket_lang::ast::Expr;
use picket_lang::eval::{Context, Frame, Interp, LogRecord, Severity};
use picket_lang::source::Span;
use picket_lang::{Dict, LangError, Str, Value};

use crate::object::ConfigObject;
use crate::registry::{Item, Registry, Rule};
use crate::schema::{FieldDefault, TypeSchema};
use crate::validate;

/// Everything needed to create one object.
struct Spec<'a> {
    schema: &'static TypeSchema,
    name: Str,
    /// The item whose body is evaluated (its own name goes first into
    /// `templates`, and it is not imported again as a default template).
    own_name: Str,
    body: &'a Arc<Expr>,
    header: Span,
    closure: Option<&'a Dict>,
    locals: Vec<(Str, Value)>,
    presets: Vec<(&'static str, Value)>,
    zone: Option<Str>,
    package: Str,
    ignore_on_error: bool,
}

/// Commits every declaration of `registry`. Returns the errors that stopped
/// it (empty on success).
pub fn commit(ctx: &Context, registry: &Arc<Registry>) -> Vec<LangError> {
    let mut interp = Interp::new(ctx);
    for schema in type_order() {
        let mut errors = Vec::new();
        for item in registry
            .objects_declared()
            .iter()
            .filter(|i| std::ptr::eq(i.schema, schema))
        {
            if let Err(e) = instantiate_item(&mut interp, registry, item) {
                // `ignore_on_error` objects are dropped without a word.
                if !item.ignore_on_error {
                    errors.push(e);
                }
            }
        }
        for rule in registry
            .rules()
            .iter()
            .filter(|r| std::ptr::eq(r.schema, schema))
        {
            apply_rule(&mut interp, registry, rule, &mut errors);
        }
        if validated_later(schema) {
            for obj in registry.committed(schema.name) {
                errors.extend(validate_one(ctx, registry, &obj));
            }
        }
        errors.extend(validate::type_done(registry, schema.name));
        if !errors.is_empty() {
            return errors;
        }
    }
    for rule in registry.rules() {
        if !rule.has_matched() {
            let h = rule.def.header;
            ctx.log(LogRecord {
                severity: Severity::Warning,
                facility: "ApplyRule".into(),
                message: format!(
                    "Apply rule '{}' (in {}: {}:{}-{}:{}) for type '{}' does not match anywhere!",
                    rule.name,
                    ctx.sources.path(h.file),
                    h.first_line,
                    h.first_column,
                    h.last_line,
                    h.last_column,
                    rule.schema.name
                ),
            });
        }
    }
    let mut errors = Vec::new();
    if let Err(e) = assign_groups(&mut interp, registry) {
        errors.push(e);
    }
    if errors.is_empty() && registry.count("IcingaApplication") == 0 {
        if let Some(schema) = crate::schema::find_type("IcingaApplication") {
            let app = ConfigObject::new(schema, "app");
            materialize_defaults(&interp, &app);
            app.set_raw("__name", Value::str("app"));
            app.push_template(&Str::from("app"));
            registry.add_committed(app);
        }
    }
    errors
}

/// Types ordered so that each comes after the types it loads after.
pub fn type_order() -> Vec<&'static TypeSchema> {
    let all = crate::types::ALL;
    let mut done: Vec<&'static TypeSchema> = Vec::with_capacity(all.len());
    while done.len() < all.len() {
        let before = done.len();
        for t in all {
            if done.iter().any(|d| std::ptr::eq(*d, *t)) {
                continue;
            }
            let ready = t.load_after.iter().all(|dep| {
                dep == &t.name
                    || done.iter().any(|d| d.name == *dep)
                    || !all.iter().any(|a| a.name == *dep)
            });
            if ready {
                done.push(t);
            }
        }
        if done.len() == before {
            // A dependency cycle in the tables: take the rest as listed.
            for t in all {
                if !done.iter().any(|d| std::ptr::eq(*d, *t)) {
                    done.push(t);
                }
            }
        }
    }
    done
}

fn instantiate_item(
    interp: &mut Interp<'_>,
    registry: &Arc<Registry>,
    item: &Item,
) -> Result<(), LangError> {
    let spec = Spec {
        schema: item.schema,
        name: item.name.clone(),
        own_name: item.name.clone(),
        body: &item.def.body,
        header: item.def.header,
        closure: item.closure.as_ref(),
        locals: Vec::new(),
        presets: Vec::new(),
        zone: item.zone.clone(),
        package: item.package.clone(),
        ignore_on_error: item.ignore_on_error,
    };
    let obj = instantiate(interp, registry, spec)?;
    obj.set_hidden(item.hidden);
    register(interp, registry, obj, item.def.header)
}

/// Types whose objects refer to objects of the same type (a zone's
/// parent, a group's groups): they are validated once all of them exist.
/// Objects of other types are validated as soon as they are made, so that
/// what only validation needs can be dropped early.
fn validated_later(schema: &TypeSchema) -> bool {
    schema
        .fields
        .iter()
        .any(|f| f.reference == Some(schema.name))
}

/// Validates one object; an `ignore_on_error` object that fails is taken
/// out again without a word.
fn validate_one(
    ctx: &Context,
    registry: &Arc<Registry>,
    obj: &Arc<ConfigObject>,
) -> Option<LangError> {
    let result = match validate::object(ctx, registry, obj) {
        Some(_) if obj.ignore_on_error() => {
            registry.remove_committed(obj);
            None
        }
        other => other,
    };
    obj.settle();
    result
}

fn register(
    interp: &Interp<'_>,
    registry: &Arc<Registry>,
    obj: Arc<ConfigObject>,
    header: Span,
) -> Result<(), LangError> {
    let sources = &interp.ctx.sources;
    let full = obj.full_name();
    if let Some(prev) = registry.find(obj.schema.name, &full) {
        let prev_loc = location_of(&prev);
        return Err(LangError::script(
            format!(
                "An object with type '{}' and name '{full}' already exists (in {prev_loc}), new declaration: in {}: {}:{}-{}:{}",
                obj.schema.name,
                sources.path(header.file),
                header.first_line,
                header.first_column,
                header.last_line,
                header.last_column
            ),
            header,
        ));
    }
    registry.add_committed(obj.clone());
    if !validated_later(obj.schema) {
        if let Some(e) = validate_one(interp.ctx, registry, &obj) {
            return Err(e);
        }
    }
    Ok(())
}

fn location_of(obj: &ConfigObject) -> String {
    match obj.get("source_location") {
        Some(Value::Dict(d)) => {
            let g = |k: &str| d.get(k).map(|v| v.to_display()).unwrap_or_default();
            format!(
                "{}: {}:{}-{}:{}",
                g("path"),
                g("first_line"),
                g("first_column"),
                g("last_line"),
                g("last_column")
            )
        }
        _ => String::new(),
    }
}

/// Sets the defaults that depend on the configuration (constants, paths,
/// the creation time, non-empty containers); see `types/mod.rs`.
pub fn materialize_defaults(interp: &Interp<'_>, obj: &ConfigObject) {
    for field in obj.schema.fields {
        let FieldDefault::Derived(rule) = field.default else {
            continue;
        };
        let frame = interp.top_frame();
        let constant = |name: &str| interp.lookup(&frame, name, None);
        let value = if rule == "now" {
            Value::Number(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs_f64())
                    .unwrap_or(0.0),
            )
        } else if let Some(spec) = rule.strip_prefix("const:") {
            let (name, fallback) = spec.split_once('|').unwrap_or((spec, ""));
            constant(name).unwrap_or_else(|| Value::str(fallback))
        } else if let Some(spec) = rule.strip_prefix("path:") {
            let (name, rest) = spec.split_once('/').unwrap_or((spec, ""));
            let base = constant(name).map(|v| v.to_display()).unwrap_or_default();
            Value::from(format!("{base}/{rest}"))
        } else if let Some(literal) = rule.strip_prefix("json:") {
            picket_lang::json::decode(literal).unwrap_or_default()
        } else {
            continue;
        };
        let value = crate::object::convert(field.name, field.kind, value).unwrap_or_default();
        obj.set_raw(field.name, value);
    }
}

fn instantiate(
    interp: &mut Interp<'_>,
    registry: &Arc<Registry>,
    spec: Spec<'_>,
) -> Result<Arc<ConfigObject>, LangError> {
    let obj = ConfigObject::new(spec.schema, &spec.name);
    materialize_defaults(interp, &obj);
    obj.push_template(&spec.own_name);
    if let Some(zone) = &spec.zone {
        obj.set_raw("zone", Value::String(zone.clone()));
    }
    obj.set_raw("package", Value::String(spec.package.clone()));
    obj.set_origin(spec.header, interp.ctx.sources.path(spec.header.file));
    obj.set_ignore_on_error(spec.ignore_on_error);
    let mut frame = Frame::new(Value::Object(obj.clone()));
    if let Some(c) = spec.closure {
        for (k, v) in c.entries() {
            frame.locals.insert(k, v);
        }
    }
    for (k, v) in spec.locals {
        frame.locals.insert(k, v);
    }
    for default in registry.defaults(spec.schema.name) {
        if default.name != spec.own_name {
            registry.run_import(interp, &mut frame, &default)?;
        }
    }
    for (field, value) in spec.presets {
        obj.set_raw(field, value);
    }
    interp.run_body(&mut frame, spec.body)?;
    // The short name is the full one until set (Icinga's `name` getter):
    // a body that sets only `__name` renames the object.
    if obj.hint("__name").is_some() && obj.hint("name").is_none() {
        obj.set_raw("name", obj.get("__name").unwrap_or_default());
    }
    finish_names(&obj, spec.header)?;
    Ok(obj)
}

/// Computes `__name` from the name and, for composite types, the names of
/// the objects it belongs to.
fn finish_names(obj: &ConfigObject, header: Span) -> Result<(), LangError> {
    let name = obj.name();
    let parts: Vec<String> = match obj.schema.name {
        "Service" | "ScheduledDowntime" | "Notification" => {
            let mut p = vec![obj.get_str("host_name")];
            if obj.schema.name != "Service" {
                let svc = obj.get_str("service_name");
                if !svc.is_empty() {
                    p.push(svc);
                }
            }
            p
        }
        "Dependency" => {
            let mut p = vec![obj.get_str("child_host_name")];
            let svc = obj.get_str("child_service_name");
            if !svc.is_empty() {
                p.push(svc);
            }
            p
        }
        _ => Vec::new(),
    };
    if name.contains('!') {
        return Err(LangError::script(
            format!(
                "Name for object '{name}' of type '{}' is invalid: Object names may not contain '!'",
                obj.schema.name
            ),
            header,
        ));
    }
    let full = if parts.is_empty() {
        name
    } else {
        format!("{}!{name}", parts.join("!"))
    };
    obj.set_raw("__name", Value::from(full));
    Ok(())
}

fn apply_rule(
    interp: &mut Interp<'_>,
    registry: &Arc<Registry>,
    rule: &Arc<Rule>,
    errors: &mut Vec<LangError>,
) {
    let target = match &rule.def.target {
        Some(t) => t.to_string(),
        None => rule
            .schema
            .apply_targets
            .first()
            .copied()
            .unwrap_or("Host")
            .to_string(),
    };
    // Names are shared with the target objects rather than copied.
    let field = |obj: &ConfigObject, name: &str| obj.raw(name).unwrap_or_default();
    for obj in registry.committed(&target) {
        let mut locals: Vec<(Str, Value)> = Vec::with_capacity(2);
        let mut presets: Vec<(&'static str, Value)> = Vec::with_capacity(3);
        if target == "Service" {
            let host = registry
                .find("Host", &obj.get_str("host_name"))
                .map(|h| Value::Object(h))
                .unwrap_or_default();
            locals.push(("host".into(), host));
            locals.push(("service".into(), Value::Object(obj.clone())));
        } else {
            locals.push(("host".into(), Value::Object(obj.clone())));
        }
        // An applied object lives in its target's zone, wherever the rule is.
        let zone = match obj.raw("zone") {
            Some(Value::String(z)) => Some(z),
            _ => None,
        };
        let dependency = rule.schema.name == "Dependency";
        if target == "Host" {
            let host_field = if dependency {
                "child_host_name"
            } else {
                "host_name"
            };
            presets.push((host_field, field(&obj, "name")));
        } else {
            let (hf, sf) = if dependency {
                ("child_host_name", "child_service_name")
            } else {
                ("host_name", "service_name")
            };
            presets.push((hf, field(&obj, "host_name")));
            presets.push((sf, field(&obj, "name")));
        }
        let result = match &rule.def.apply_for {
            None => match eval_filter(interp, rule, &locals) {
                Ok(false) => continue,
                Ok(true) => create_applied(
                    interp,
                    registry,
                    rule,
                    rule.name.clone(),
                    locals,
                    presets,
                    zone,
                ),
                Err(e) => Err(e),
            },
            Some(af) => apply_for_each(interp, registry, rule, af, locals, presets, zone),
        };
        if let Err(e) = result {
            if !rule.def.ignore_on_error {
                errors.push(e);
            }
        }
    }
}

fn scratch_frame(rule: &Rule, locals: &[(Str, Value)]) -> Frame {
    let frame = Frame::new(Value::Null);
    if let Some(c) = &rule.closure {
        for (k, v) in c.entries() {
            frame.locals.insert(k, v);
        }
    }
    for (k, v) in locals {
        frame.locals.insert(k.clone(), v.clone());
    }
    frame
}

fn eval_filter(
    interp: &mut Interp<'_>,
    rule: &Rule,
    locals: &[(Str, Value)],
) -> Result<bool, LangError> {
    let Some(filter) = &rule.def.filter else {
        return Ok(true);
    };
    let mut frame = scratch_frame(rule, locals);
    Ok(interp.run(&mut frame, filter)?.to_bool())
}

fn apply_for_each(
    interp: &mut Interp<'_>,
    registry: &Arc<Registry>,
    rule: &Arc<Rule>,
    af: &picket_lang::ast::ApplyFor,
    locals: Vec<(Str, Value)>,
    presets: Vec<(&'static str, Value)>,
    zone: Option<Str>,
) -> Result<(), LangError> {
    let mut frame = scratch_frame(rule, &locals);
    let collection = interp.run(&mut frame, &af.iter)?;
    let entries: Vec<(Value, Value)> = match (&collection, &af.key) {
        (Value::Null, _) => return Ok(()),
        (Value::Array(a), None) => a.to_vec().into_iter().map(|v| (Value::Null, v)).collect(),
        (Value::Dict(d), Some(_)) => d
            .entries()
            .into_iter()
            .map(|(k, v)| (Value::String(k), v))
            .collect(),
        (Value::Array(_), Some(_)) => {
            return Err(LangError::script(
                "Dictionary iterator requires value to be a dictionary.",
                rule.def.header,
            ))
        }
        (Value::Dict(_), None) => {
            return Err(LangError::script(
                "Array iterator requires value to be an array.",
                rule.def.header,
            ))
        }
        // Anything else (a string, a number) simply matches nothing.
        _ => return Ok(()),
    };
    for (k, v) in entries {
        let mut l = locals.clone();
        let suffix = match &af.key {
            Some(key) => {
                l.push((key.clone(), k.clone()));
                k.to_display()
            }
            None => v.to_display(),
        };
        l.push((af.value.clone(), v));
        if !eval_filter(interp, rule, &l)? {
            continue;
        }
        let name: Str = format!("{}{suffix}", rule.name).into();
        create_applied(
            interp,
            registry,
            rule,
            name,
            l,
            presets.clone(),
            zone.clone(),
        )?;
    }
    Ok(())
}

fn create_applied(
    interp: &mut Interp<'_>,
    registry: &Arc<Registry>,
    rule: &Arc<Rule>,
    name: Str,
    locals: Vec<(Str, Value)>,
    presets: Vec<(&'static str, Value)>,
    zone: Option<Str>,
) -> Result<(), LangError> {
    rule.mark_matched();
    let spec = Spec {
        schema: rule.schema,
        name: name.clone(),
        own_name: name,
        body: &rule.def.body,
        header: rule.def.header,
        closure: rule.closure.as_ref(),
        locals,
        presets,
        zone,
        package: rule.package.clone(),
        ignore_on_error: rule.def.ignore_on_error,
    };
    let obj = instantiate(interp, registry, spec)?;
    register(interp, registry, obj, rule.def.header)
}

/// Group membership from `assign where` / `ignore where` in group objects.
/// As in Icinga it is kept apart from the members' `groups` attribute,
/// which lists only the groups the configuration named.
fn assign_groups(interp: &mut Interp<'_>, registry: &Arc<Registry>) -> Result<(), LangError> {
    for item in registry.objects_declared() {
        let Some(member_type) = item.schema.group_member else {
            continue;
        };
        let Some(filter) = &item.def.filter else {
            continue;
        };
        let Some(group) = registry.find(item.schema.name, &item.name) else {
            continue;
        };
        let group_name = group.full_name();
        for member in registry.committed(member_type) {
            let mut frame = Frame::new(Value::Null);
            if let Some(c) = &item.closure {
                for (k, v) in c.entries() {
                    frame.locals.insert(k, v);
                }
            }
            match member_type {
                "Service" => {
                    let host = registry
                        .find("Host", &member.get_str("host_name"))
                        .map(|h| Value::Object(h))
                        .unwrap_or_default();
                    frame.locals.insert("host", host);
                    frame
                        .locals
                        .insert("service", Value::Object(member.clone()));
                }
                "User" => frame.locals.insert("user", Value::Object(member.clone())),
                _ => frame.locals.insert("host", Value::Object(member.clone())),
            }
            if interp.run(&mut frame, filter)?.to_bool() {
                registry.add_member(item.schema.name, &group_name, &member.full_name());
                member.add_assigned_group(&group_name);
            }
        }
    }
    Ok(())
}
