//! Objects as the API shows them: every configuration attribute with its
//! default, plus the runtime attributes Icinga adds (live state for hosts
//! and services, the bookkeeping every object has). The same view serves
//! filters (`host.state == 1` reads live state) and JSON output.

use std::sync::Arc;

use picket_lang::value::{Dict, ScriptObject, Str};
use picket_lang::{Array, Value};
use picket_model::monitor::Entry;
use picket_model::result::{CheckResult, Perfdata};
use picket_model::state::{ResultVars, StateType};
use picket_model::ConfigObject;

/// Attributes every configuration object has at runtime, with the values
/// of an object loaded from files that nothing has changed.
const BASE: &[&str] = &[
    "active",
    "ha_mode",
    "original_attributes",
    "paused",
    "version",
];

const CHECKABLE: &[&str] = &[
    "acknowledgement",
    "acknowledgement_expiry",
    "acknowledgement_last_change",
    "check_attempt",
    "downtime_depth",
    "executions",
    "flapping",
    "flapping_current",
    "flapping_last_change",
    "force_next_check",
    "force_next_notification",
    "handled",
    "last_check",
    "last_check_result",
    "last_hard_state",
    "last_hard_state_change",
    "last_reachable",
    "last_state",
    "last_state_change",
    "last_state_type",
    "last_state_unreachable",
    "next_check",
    "next_update",
    "previous_state_change",
    "problem",
    "severity",
    "state",
    "state_type",
];

/// Runtime attributes of other types: (type, attribute).
const OTHER: &[(&str, &str)] = &[
    ("User", "last_notification"),
    ("Notification", "last_notification"),
    ("Notification", "last_problem_notification"),
    ("Notification", "next_notification"),
    ("Notification", "no_more_notifications"),
    ("Notification", "notification_number"),
    ("Notification", "notified_problem_users"),
    ("ApiListener", "identity"),
    ("ApiListener", "last_failed_zones_stage_validation"),
    ("TimePeriod", "is_inside"),
    ("TimePeriod", "segments"),
    ("TimePeriod", "valid_begin"),
    ("TimePeriod", "valid_end"),
    ("Zone", "all_parents"),
];

const HOST_STATES: &[&str] = &["last_state_down", "last_state_up"];
const SERVICE_STATES: &[&str] = &[
    "last_state_critical",
    "last_state_ok",
    "last_state_unknown",
    "last_state_warning",
];

/// The live part of a host or service, copied from the monitor.
#[derive(Debug, Clone)]
pub struct LiveCopy {
    pub entry: Entry,
    pub check_interval: f64,
    pub retry_interval: f64,
    pub active_checks: bool,
    /// For a service: whether its host is UP (severity depends on it).
    pub host_up: bool,
}

/// An object with its live state, as filters and output see it.
#[derive(Debug, Clone)]
pub struct View {
    pub object: Arc<ConfigObject>,
    pub live: Option<Arc<LiveCopy>>,
    /// A service's host; the host of a comment, downtime or notification.
    pub host: Option<Arc<View>>,
    /// The service of a comment, downtime or notification.
    pub service: Option<Arc<View>>,
    /// Runtime attributes worked out when the view was made, for types
    /// whose runtime state is the cluster's (endpoints, zones, the
    /// listener).
    pub facts: Option<Arc<Vec<(&'static str, Value)>>>,
}

impl View {
    /// An object without live state.
    pub fn config(object: Arc<ConfigObject>) -> View {
        View {
            object,
            live: None,
            host: None,
            service: None,
            facts: None,
        }
    }
}

fn is_host(object: &ConfigObject) -> bool {
    object.schema.name == "Host"
}

/// The runtime attribute names of objects of a type, besides their
/// configuration.
fn runtime_names_of(type_name: &str) -> Vec<&'static str> {
    let mut names = BASE.to_vec();
    names.extend(
        OTHER
            .iter()
            .filter(|(t, _)| *t == type_name)
            .map(|(_, n)| *n),
    );
    match type_name {
        "Endpoint" => names.extend(picket_model::cluster::ENDPOINT_ATTRIBUTES),
        "Host" => names.extend(CHECKABLE.iter().chain(HOST_STATES)),
        "Service" => names.extend(CHECKABLE.iter().chain(SERVICE_STATES)),
        _ => {}
    }
    names
}

/// Whether objects of `schema` have an attribute `name` (configuration
/// or runtime), as `attrs` and `joins` require.
pub fn has_attribute(schema: &picket_model::schema::TypeSchema, name: &str) -> bool {
    name == "type"
        || picket_model::schema::COMMON_FIELDS.contains(&name)
        || schema.fields.iter().any(|f| f.name == name)
        || runtime_names_of(schema.name).contains(&name)
        || picket_model::classes::field_names(schema.name).contains(&name)
}

fn num(n: f64) -> Value {
    Value::Number(n)
}

fn state_type(t: StateType) -> Value {
    num(f64::from(t as u8))
}

#[derive(Debug, Clone, Copy)]
pub struct Vars {
    /// None for a checkable's first result.
    pub before: Option<ResultVars>,
    pub after: ResultVars,
    /// The hard state the hard change before the last one left, 99 for
    /// none.
    pub previous_hard_state: u8,
}

impl Vars {
    /// The states around the last result of `live`.
    pub fn of(live: &picket_model::state::Live) -> Vars {
        Vars {
            before: live.vars_before,
            after: live.vars_after(),
            previous_hard_state: live.previous_hard_state(),
        }
    }
}

/// A check result as Icinga serialises `last_check_result`.
/// `object`, when known, names the command of built-in checks.
pub fn check_result(
    cr: &CheckResult,
    vars_of: Option<Vars>,
    object: Option<&ConfigObject>,
) -> Value {
    let d = Dict::new();
    d.insert("active", Value::Bool(cr.active));
    d.insert("check_source", Value::from(cr.check_source.as_str()));
    d.insert(
        "command",
        match &cr.command {
            Some(args) => Value::Array(Array::new(
                args.iter().map(|a| Value::from(a.as_str())).collect(),
            )),
            // Built-in checks record the name of their command, as Icinga's.
            None => match object {
                Some(o) if cr.active && !cr.bare => Value::from(o.get_str("check_command")),
                _ => Value::Null,
            },
        },
    );
    d.insert("execution_end", num(cr.execution_end));
    d.insert("execution_start", num(cr.execution_start));
    d.insert("exit_status", num(cr.exit_status as f64));
    d.insert("output", Value::from(cr.output.as_str()));
    let perfdata: Vec<Value> = cr
        .performance_data
        .iter()
        .map(|p| match p {
            Perfdata::Text(t) => Value::from(t.as_str()),
            Perfdata::Value(v) => {
                let pv = Dict::new();
                pv.insert("counter", Value::Bool(v.counter));
                let opt = |x: Option<f64>| x.map_or(Value::Null, num);
                pv.insert("crit", opt(v.crit));
                pv.insert("label", Value::from(v.label.as_str()));
                pv.insert("max", opt(v.max));
                pv.insert("min", opt(v.min));
                pv.insert("type", Value::from("PerfdataValue"));
                pv.insert("unit", Value::from(v.unit.as_str()));
                pv.insert("value", num(v.value));
                pv.insert("warn", opt(v.warn));
                Value::Dict(pv)
            }
        })
        .collect();
    // A passive result given without performance data has none at all.
    d.insert(
        "performance_data",
        if perfdata.is_empty() && (cr.bare || cr.without_perfdata) {
            Value::Null
        } else {
            Value::Array(Array::new(perfdata))
        },
    );
    d.insert(
        "previous_hard_state",
        num(vars_of.map_or(99.0, |v| f64::from(v.previous_hard_state))),
    );
    d.insert("schedule_end", num(cr.schedule_end));
    d.insert("schedule_start", num(cr.schedule_start));
    let scheduling_source = cr.scheduling_source.as_deref().unwrap_or(&cr.check_source);
    d.insert("scheduling_source", Value::from(scheduling_source));
    d.insert("state", num(f64::from(cr.state)));
    d.insert("ttl", num(cr.ttl));
    d.insert("type", Value::from("CheckResult"));
    let vars = |v: &ResultVars| {
        let d = Dict::new();
        d.insert("attempt", num(f64::from(v.attempt)));
        d.insert("reachable", Value::Bool(v.reachable));
        d.insert("state", num(f64::from(v.state)));
        d.insert("state_type", state_type(v.state_type));
        Value::Dict(d)
    };
    match vars_of {
        Some(v) => {
            d.insert("vars_after", vars(&v.after));
            d.insert("vars_before", v.before.as_ref().map_or(Value::Null, vars));
        }
        None => {
            d.insert("vars_after", Value::Null);
            d.insert("vars_before", Value::Null);
        }
    }
    Value::Dict(d)
}

/// Icinga's `severity`: a sort key for problem lists, where handled
/// problems (acknowledged, in downtime) sort below the others.
fn severity(host: bool, live: &LiveCopy) -> f64 {
    let l = &live.entry.live;
    if live.entry.last_result.is_none() {
        return 16.0;
    }
    if l.state == 0 {
        return 0.0;
    }
    let handling = if l.marks.acknowledgement != 0 {
        512.0
    } else if l.marks.downtime_depth > 0 {
        256.0
    } else {
        2048.0
    };
    if host {
        let base = if l.last_reachable { 64.0 } else { 32.0 };
        return base + handling;
    }
    let base = match l.state {
        1 => 32.0,
        3 => 64.0,
        2 => 128.0,
        _ => 256.0,
    };
    base + if live.host_up { handling } else { 1024.0 }
}

/// `executions`: by id, the deadline and, once ended, how (keys in
/// Icinga's order).
fn executions(
    runs: &std::collections::BTreeMap<String, picket_model::monitor::Execution>,
) -> Value {
    let out = Dict::new();
    for (id, run) in runs {
        let d = Dict::new();
        d.insert("deadline", num(run.deadline));
        if let Some(e) = &run.ended {
            d.insert("end", num(e.end));
            d.insert("exit", num(e.exit as f64));
            d.insert("output", Value::from(e.output.as_str()));
            d.insert("start", num(e.start));
        }
        out.insert(id.as_str(), Value::Dict(d));
    }
    Value::Dict(out)
}

/// The cluster's runtime attributes of an endpoint, a zone or the
/// listener; `None` for other types.
pub fn cluster_facts(
    object: &ConfigObject,
    topology: &picket_model::cluster::Topology,
    links: &picket_model::cluster::Links,
) -> Option<Arc<Vec<(&'static str, Value)>>> {
    let facts = match object.schema.name {
        "Endpoint" => {
            let link = links.get(&object.full_name());
            picket_model::cluster::ENDPOINT_ATTRIBUTES
                .iter()
                .filter_map(|n| Some((*n, link.attribute(n)?)))
                .collect()
        }
        "Zone" => {
            let parents = topology.all_parents(&object.full_name());
            vec![(
                "all_parents",
                Value::Array(Array::new(
                    parents.iter().map(|p| Value::from(p.as_str())).collect(),
                )),
            )]
        }
        // No zone configuration was ever synced to this node, so none
        // failed to validate.
        "ApiListener" => vec![
            ("identity", Value::from(topology.identity.as_str())),
            ("last_failed_zones_stage_validation", Value::Null),
        ],
        _ => return None,
    };
    Some(Arc::new(facts))
}

/// A TimePeriod's window as the monitor keeps it: the segments it worked
/// out and whether `now` is inside one.
pub fn period_facts(
    periods: &picket_model::period::Periods,
    full_name: &str,
    now: f64,
) -> Option<Arc<Vec<(&'static str, Value)>>> {
    let index = periods.index(full_name)?;
    let window = periods.window(full_name)?;
    let bound = |b: Option<f64>| b.map_or(Value::Null, num);
    let segments = window
        .segments
        .iter()
        .map(|s| {
            let d = Dict::new();
            d.insert("begin", num(s.begin));
            d.insert("end", num(s.end));
            Value::Dict(d)
        })
        .collect();
    Some(Arc::new(vec![
        ("is_inside", Value::Bool(periods.is_inside(index, now))),
        ("segments", Value::Array(Array::new(segments))),
        ("valid_begin", bound(window.valid_begin)),
        ("valid_end", bound(window.valid_end)),
    ]))
}

/// The value of a runtime attribute; `None` when the object has none of
/// that name.
pub fn runtime(view: &View, name: &str) -> Option<Value> {
    match name {
        "active" => return Some(Value::Bool(true)),
        "ha_mode" => return Some(num(0.0)),
        "version" => return Some(num(view.object.version())),
        "original_attributes" => return Some(view.object.original_attributes()),
        "paused" => return Some(Value::Bool(false)),
        "last_notification" if view.object.schema.name == "User" => return Some(num(0.0)),
        _ => {}
    }
    if view.object.schema.name == "Notification" {
        return notification(view, name);
    }
    if let Some(facts) = &view.facts {
        return facts
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone());
    }
    let live = view.live.as_deref()?;
    let host = is_host(&view.object);
    let l = &live.entry.live;
    let checked = live.entry.last_result.is_some();
    Some(match name {
        "acknowledgement" => num(f64::from(l.marks.acknowledgement)),
        "acknowledgement_expiry" => num(l.marks.acknowledgement_expiry),
        "acknowledgement_last_change" => num(l.marks.acknowledgement_last_change),
        "downtime_depth" => num(f64::from(l.marks.downtime_depth)),
        "handled" => Value::Bool(live.entry.handled()),
        "executions" => match &live.entry.executions {
            Some(runs) => executions(runs),
            None => Value::Null,
        },
        "flapping" => Value::Bool(l.flapping.is_flapping),
        "flapping_current" => num(l.flapping.current),
        "flapping_last_change" => num(l.flapping.last_change),
        "force_next_check" => Value::Bool(live.entry.force_next_check),
        "force_next_notification" => Value::Bool(live.entry.force_next_notification),
        "check_attempt" => num(f64::from(l.check_attempt)),
        "last_check" => num(if checked { l.last_check } else { -1.0 }),
        "last_check_result" => match &live.entry.last_result {
            Some(cr) => check_result(cr, Some(Vars::of(l)), Some(&view.object)),
            None => Value::Null,
        },
        "last_hard_state" => num(f64::from(l.last_hard_state)),
        "last_hard_state_change" => num(l.last_hard_state_change),
        "last_reachable" => Value::Bool(l.last_reachable),
        "last_state" => num(f64::from(l.last_state)),
        "last_state_change" => num(l.last_state_change),
        "last_state_type" => state_type(l.last_state_type),
        "last_state_unreachable" => num(l.last_unreachable),
        "next_check" => num(live.entry.next_check),
        "next_update" => {
            let interval = if l.state_type == StateType::Soft {
                live.retry_interval
            } else {
                live.check_interval
            };
            let latency = live
                .entry
                .last_result
                .as_ref()
                .map_or(0.0, |cr| cr.execution_end - cr.schedule_start);
            let next = if live.active_checks {
                live.entry.next_check
            } else {
                picket_model::result::now()
            };
            num(next + interval + 2.0 * latency)
        }
        "previous_state_change" => num(l.previous_state_change),
        "problem" => Value::Bool(live.entry.problem()),
        "severity" => num(severity(host, live)),
        "state" => num(f64::from(l.state)),
        "state_type" => state_type(l.state_type),
        "last_state_up" if host => num(l.last_in_state[0]),
        "last_state_down" if host => num(l.last_in_state[1]),
        "last_state_ok" if !host => num(l.last_in_state[0]),
        "last_state_warning" if !host => num(l.last_in_state[1]),
        "last_state_critical" if !host => num(l.last_in_state[2]),
        "last_state_unknown" if !host => num(l.last_in_state[3]),
        _ => return None,
    })
}

/// A notification's runtime attributes: where it stands, kept with its
/// checkable's live state (`live` is the checkable's).
fn notification(view: &View, name: &str) -> Option<Value> {
    let default = picket_model::notifications::Progress::default();
    let progress = view
        .live
        .as_ref()
        .and_then(|l| l.entry.notified.as_ref())
        .and_then(|n| n.get(&view.object.name()))
        .unwrap_or(&default);
    Some(match name {
        "last_notification" => num(progress.last_notification),
        "last_problem_notification" => num(progress.last_problem_notification),
        "next_notification" => num(progress.next_notification),
        "no_more_notifications" => Value::Bool(progress.no_more_notifications),
        "notification_number" => num(progress.notification_number as f64),
        "notified_problem_users" => Value::Array(Array::new(
            progress
                .notified_problem_users
                .iter()
                .map(|u| Value::from(u.as_str()))
                .collect(),
        )),
        _ => return None,
    })
}

impl View {
    /// The value of any attribute, runtime or configuration.
    pub fn get(&self, name: &str) -> Option<Value> {
        if name == "groups" && self.object.field_schema("groups").is_some() {
            return Some(self.object.runtime_groups());
        }
        // A service's host, as an object (`service.host.vars.os`).
        if name == "host" && self.object.schema.name == "Service" {
            return self
                .host
                .as_ref()
                .map(|h| Value::Object(Arc::new(h.as_ref().clone())));
        }
        runtime(self, name).or_else(|| self.object.get(name))
    }

    /// Every attribute, sorted by name.
    pub fn all(&self) -> Vec<(Str, Value)> {
        let type_name = self.object.schema.name;
        let mut out = self.object.all_fields();
        let hidden = picket_model::classes::hidden_fields(type_name);
        out.retain(|(k, _)| !hidden.contains(&k.as_ref()));
        for (k, v) in &mut out {
            if k.as_ref() == "groups" {
                *v = self.object.runtime_groups();
            }
        }
        for name in runtime_names_of(type_name) {
            if let Some(v) = runtime(self, name) {
                out.push((Str::from(name), v));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

impl ScriptObject for View {
    fn type_name(&self) -> Str {
        self.object.schema.name.into()
    }

    fn get_field(&self, name: &str) -> Option<Value> {
        self.get(name)
    }

    fn is_hidden(&self, name: &str) -> bool {
        picket_model::classes::hidden_fields(self.object.schema.name).contains(&name)
    }

    /// What scripts see of the object: its attributes and, for a
    /// service, its host object (which the API never lists).
    fn fields(&self) -> Vec<(Str, Value)> {
        let mut out = self.all();
        if let Some(host) = self
            .get("host")
            .filter(|_| self.object.schema.name == "Service")
        {
            out.push(("host".into(), host));
            out.sort_by(|a, b| a.0.cmp(&b.0));
        }
        out
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
