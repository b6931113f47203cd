//! Sending a notification: its command run once per user, with Icinga's
//! macros — the user, `$notification.type|author|comment$`, the
//! notification object, then the service and the host with their live
//! state (`$service.state$`, `$host.output$`, ...) before their
//! configuration, the command and `$icinga.*$`.
//!
//! Which notifications go to whom is the model's decision
//! ([`picket_model::notifications`]); this module only plans and runs.

use std::sync::Arc;

use picket_lang::value::Dict;
use picket_lang::{Context, Value};
use picket_model::monitor::{Id, Monitor};
use picket_model::notifications::Dispatch;
use picket_model::result::{now, Perfdata};
use picket_model::state::StateType;
use picket_model::{ConfigObject, Registry};

use crate::check::{plan_command, sources, Plan, PlanError};
use crate::macros::Source;

/// The live attributes of a checkable its notification commands read,
/// under Icinga's macro names.
fn live_macros(monitor: &Monitor, id: Id, at: f64) -> Value {
    let kind = monitor.checkable(id).rules.kind;
    let live = &monitor.entry(id).live;
    let state_name = |state: u8| kind.state_name(state);
    let type_name = |t: StateType| match t {
        StateType::Soft => "SOFT",
        StateType::Hard => "HARD",
    };
    let d = Dict::new();
    let num = |n: f64| Value::Number(n);
    d.insert("state", Value::from(state_name(live.state)));
    d.insert("state_id", num(f64::from(live.state)));
    d.insert("state_type", Value::from(type_name(live.state_type)));
    d.insert("last_state", Value::from(state_name(live.last_state)));
    d.insert("last_state_id", num(f64::from(live.last_state)));
    d.insert(
        "last_state_type",
        Value::from(type_name(live.last_state_type)),
    );
    d.insert("last_state_change", num(live.last_state_change));
    d.insert("last_hard_state_change", num(live.last_hard_state_change));
    d.insert("duration_sec", num(at - live.last_state_change));
    d.insert("check_attempt", num(f64::from(live.check_attempt)));
    d.insert("last_check", num(live.last_check));
    d.insert("downtime_depth", num(f64::from(live.marks.downtime_depth)));
    if let Some(cr) = &monitor.entry(id).last_result {
        d.insert("output", Value::from(cr.output.as_str()));
        let perfdata: Vec<String> = cr.performance_data.iter().map(perfdata_text).collect();
        d.insert("perfdata", Value::from(perfdata.join(" ").as_str()));
        d.insert("check_source", Value::from(cr.check_source.as_str()));
        d.insert("execution_time", num(cr.execution_end - cr.execution_start));
        d.insert("latency", num(cr.schedule_end - cr.schedule_start));
    }
    Value::Dict(d)
}

/// Plans the run of `dispatch`'s command for one of its users.
pub fn plan(
    registry: &Registry,
    ctx: &Context,
    monitor: &Monitor,
    dispatch: &Dispatch,
    user: &Arc<ConfigObject>,
) -> Result<Plan, PlanError> {
    let checkable = &monitor.checkable(dispatch.checkable).object;
    let (mut resolvers, _) = sources(registry, checkable)?;
    let name = dispatch.notification.get_str("command").to_string();
    let command = registry
        .find("NotificationCommand", &name)
        .ok_or(PlanError::NoCommand(name))?;
    let at = now();
    for source in resolvers.sources.iter_mut() {
        if source.name == "command" {
            source.object = Value::Object(command.clone());
        }
    }
    // The live state goes before each object's configuration.
    let mut inserted = Vec::new();
    for (i, source) in resolvers.sources.iter().enumerate() {
        let id = match source.name {
            "service" => Some(dispatch.checkable),
            "host" => monitor.find(&checkable_host(checkable)),
            _ => None,
        };
        if let Some(id) = id {
            inserted.push((i, source.name, live_macros(monitor, id, at)));
        }
    }
    for (i, name, object) in inserted.into_iter().rev() {
        resolvers.sources.insert(i, Source { name, object });
    }
    let extra = Dict::new();
    extra.insert("type", Value::from(dispatch.kind.macro_value()));
    extra.insert("author", Value::from(dispatch.author.as_str()));
    extra.insert("comment", Value::from(dispatch.text.as_str()));
    let front = [
        ("user", Value::Object(user.clone())),
        ("notification", Value::Dict(extra)),
        ("notification", Value::Object(dispatch.notification.clone())),
    ];
    for (i, (name, object)) in front.into_iter().enumerate() {
        resolvers.sources.insert(i, Source { name, object });
    }
    Ok(plan_command(registry, ctx, checkable, &resolvers, &command))
}

/// A performance data entry as a plugin would print it.
fn perfdata_text(p: &Perfdata) -> String {
    match p {
        Perfdata::Text(t) => t.clone(),
        Perfdata::Value(v) => {
            let opt = |x: Option<f64>| x.map(|n| n.to_string()).unwrap_or_default();
            let text = format!(
                "{}={}{};{};{};{};{}",
                v.label,
                v.value,
                v.unit,
                opt(v.warn),
                opt(v.crit),
                opt(v.min),
                opt(v.max)
            );
            text.trim_end_matches(';').to_string()
        }
    }
}

/// The host a checkable belongs to (itself for a host).
fn checkable_host(checkable: &ConfigObject) -> String {
    if checkable.schema.name == "Host" {
        checkable.full_name()
    } else {
        checkable.get_str("host_name").to_string()
    }
}
