//! One check of a host or service, from its configuration to a result.
//!
//! Planning needs the configuration (objects, macros, functions) and is
//! done where the configuration lives; the plan is self-contained, so
//! running it (a plugin process, or a built-in check) can happen on any
//! task of the runtime.

use std::ffi::OsString;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use picket_lang::{Context, Value};
use picket_model::result::now;
use picket_model::{ConfigObject, Registry};

use crate::command_line::build;
use crate::facts::NodeFacts;
use crate::macros::{Clock, Resolvers, Source};
use crate::process::{self, Invocation, DEFAULT_OUTPUT_LIMIT};
use crate::result::{from_process, parse_output, service_state, split_perfdata};

pub use picket_model::result::{CheckResult, Perfdata, PerfdataValue};

/// What a check will do.
#[derive(Debug, Clone)]
pub enum Plan {
    Plugin {
        invocation: Invocation,
        command: Vec<String>,
    },
    /// `dummy` (and `passive`): the state and text, resolved.
    Dummy {
        name: String,
        state: Value,
        text: String,
    },
    /// `sleep`: waits, whatever the timeout, as Icinga does.
    Sleep { time: Value },
    /// `exception`: fails, for tests of failure handling.
    Exception { name: String },
    /// `random`: a random state.
    Random { node: String },
    /// `NullCheck`: always OK.
    Null { node: String },
    /// `icinga`: the node's health; the checker adds its figures.
    Icinga { name: String, min_version: Value },
    /// `cluster` with an ApiListener: whether the endpoints near this
    /// node are connected.
    Cluster(Arc<picket_model::cluster::Topology>),
    /// `cluster-zone` with an ApiListener: whether a zone is connected,
    /// and its lag against the thresholds that were set.
    ClusterZone(Box<ZoneCheck>),
    /// Decided while planning (a configuration error, for instance).
    Done(Box<CheckResult>),
}

/// A `cluster-zone` check, its macros resolved.
#[derive(Debug, Clone)]
pub struct ZoneCheck {
    pub zone: picket_model::cluster::Zone,
    pub topology: Arc<picket_model::cluster::Topology>,
    /// The thresholds as the performance data shows them (0 when unset),
    /// and whether each was set.
    pub warning: (f64, bool),
    pub critical: (f64, bool),
}

/// Why a check cannot be planned at all (the objects are not there).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    #[error("Check command '{0}' does not exist.")]
    NoCommand(String),
    #[error("Host '{0}' does not exist.")]
    NoHost(String),
}

fn unknown(output: String) -> CheckResult {
    CheckResult::new(3, 3, output, now())
}

/// UNKNOWN with exit status 0 and no performance data: how built-in
/// checks report what keeps them from checking.
fn unknown0(output: &str) -> CheckResult {
    CheckResult {
        exit_status: 0,
        without_perfdata: true,
        ..unknown(output.to_string())
    }
}

fn seconds_of(t: SystemTime) -> f64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn text_perfdata(perfdata: &str) -> Vec<Perfdata> {
    split_perfdata(perfdata)
        .into_iter()
        .map(Perfdata::Text)
        .collect()
}

/// The result of a built-in check that failed, in Icinga's words: UNKNOWN,
/// exit status 0.
pub(crate) fn exception(name: &str, message: &str) -> CheckResult {
    CheckResult {
        // The check never got to set its command.
        bare: true,
        exit_status: 0,
        ..unknown(format!(
            "Exception occurred while checking '{name}': Error: {message}\n\nContext:\n\n\t(0) Executing check for object '{name}'\n"
        ))
    }
}

/// Icinga's `Convert::ToDouble`: a string must be a number as it is
/// (no spaces around it); empty is 0.
fn to_double(v: &Value) -> Result<f64, String> {
    match v {
        Value::String(s) if s.is_empty() => Ok(0.0),
        Value::String(s) => s
            .parse::<f64>()
            .map_err(|_| format!("Can't convert '{s}' to a floating point number.")),
        other => other.to_number(),
    }
}

fn seconds(v: Option<Value>) -> Option<f64> {
    v.filter(|v| !v.is_null())
        .and_then(|v| v.to_number().ok())
        .filter(|n| n.is_finite() && *n >= 0.0)
}

/// The objects a check of `checkable` resolves macros against, in Icinga's
/// order, and its CheckCommand.
pub fn sources(
    registry: &Registry,
    checkable: &Arc<ConfigObject>,
) -> Result<(Resolvers, Arc<ConfigObject>), PlanError> {
    let is_host = checkable.schema.name == "Host";
    let host = if is_host {
        checkable.clone()
    } else {
        let name = checkable.get("host_name").unwrap_or_default().to_display();
        registry
            .find("Host", &name)
            .ok_or(PlanError::NoHost(name))?
    };
    let command_name = checkable
        .get("check_command")
        .unwrap_or_default()
        .to_display();
    let command = registry
        .find("CheckCommand", &command_name)
        .ok_or(PlanError::NoCommand(command_name))?;
    let mut list = Vec::new();
    if !is_host {
        list.push(Source {
            name: "service",
            object: Value::Object(checkable.clone()),
        });
    }
    list.push(Source {
        name: "host",
        object: Value::Object(host),
    });
    list.push(Source {
        name: "command",
        object: Value::Object(command.clone()),
    });
    if let Some(app) = registry.committed("IcingaApplication").into_iter().next() {
        list.push(Source {
            name: "icinga",
            object: Value::Object(app),
        });
    }
    Ok((
        Resolvers {
            sources: list,
            runtime: Some(Arc::new(Clock)),
        },
        command,
    ))
}

/// Plans a check of a host or service.
pub fn plan(
    registry: &Registry,
    ctx: &Context,
    checkable: &Arc<ConfigObject>,
) -> Result<Plan, PlanError> {
    let (resolvers, command) = sources(registry, checkable)?;
    Ok(plan_command(registry, ctx, checkable, &resolvers, &command))
}

/// Plans a run of `command` (a check, event or notification command)
/// for `checkable`, its macros resolved by `resolvers`.
pub fn plan_command(
    registry: &Registry,
    ctx: &Context,
    checkable: &Arc<ConfigObject>,
    resolvers: &Resolvers,
    command: &Arc<ConfigObject>,
) -> Plan {
    let failed = |e: &dyn std::fmt::Display| {
        Plan::Done(Box::new(unknown(format!(
            "Error: {e}\n\nContext:\n\n\t(0) Executing check for object '{}'",
            checkable.full_name()
        ))))
    };
    // The methods are named as Icinga names them, `Internal#DummyCheck`.
    let method = match command.get("execute") {
        Some(Value::Function(f)) => f.name.rsplit('#').next().unwrap_or_default().to_string(),
        _ => "PluginCheck".to_string(),
    };
    // A built-in check's macro, by name.
    let resolve = |name: &str| resolvers.resolve(ctx, &Value::from(format!("${name}$").as_str()));
    match method.as_str() {
        "DummyCheck" => {
            let state = match resolve("dummy_state") {
                Ok(r) => r.value,
                Err(e) => return failed(&e),
            };
            let text = match resolve("dummy_text") {
                Ok(r) => r.value.to_display(),
                Err(e) => return failed(&e),
            };
            Plan::Dummy {
                name: checkable.full_name(),
                state,
                text,
            }
        }
        "SleepCheck" => match resolve("sleep_time") {
            Ok(r) => Plan::Sleep { time: r.value },
            Err(e) => failed(&e),
        },
        "ExceptionCheck" => Plan::Exception {
            name: checkable.full_name(),
        },
        "RandomCheck" => Plan::Random {
            node: node_name(ctx),
        },
        "NullCheck" => Plan::Null {
            node: node_name(ctx),
        },
        "IcingaCheck" => match resolve("icinga_min_version") {
            Ok(r) => Plan::Icinga {
                name: checkable.full_name(),
                min_version: r.value,
            },
            Err(e) => failed(&e),
        },
        "IdoCheck" | "IcingadbCheck" => {
            let text = |name: &str| resolve(name).map(|r| r.value.to_display());
            let verdict = if method == "IdoCheck" {
                text("ido_type").and_then(|t| Ok((t, text("ido_name")?)))
            } else {
                text("icingadb_name").map(|n| (String::new(), n))
            };
            match verdict {
                Ok((kind, name)) => Plan::Done(Box::new(database_check(
                    registry,
                    method == "IdoCheck",
                    &kind,
                    &name,
                ))),
                Err(e) => failed(&e),
            }
        }
        "ClusterCheck" | "ClusterZoneCheck" if registry.count("ApiListener") == 0 => {
            // Only `cluster-zone` names its command here, as in Icinga.
            Plan::Done(Box::new(CheckResult {
                bare: method == "ClusterCheck",
                ..unknown0("No API listener is configured for this instance.")
            }))
        }
        "ClusterCheck" => Plan::Cluster(Arc::new(picket_model::cluster::Topology::of(
            registry,
            &node_name(ctx),
        ))),
        "ClusterZoneCheck" => {
            let threshold = |name: &str| -> Result<(f64, bool), String> {
                let r = resolve(name).map_err(|e| e.to_string())?;
                Ok((to_double(&r.value)?, r.missing.is_empty()))
            };
            let zone = match resolve("cluster_zone") {
                Ok(r) => r.value.to_display(),
                Err(e) => return failed(&e),
            };
            let (warning, critical) = match threshold("cluster_lag_warning")
                .and_then(|w| Ok((w, threshold("cluster_lag_critical")?)))
            {
                Ok(t) => t,
                Err(e) => return failed(&e),
            };
            if zone.is_empty() {
                return Plan::Done(Box::new(unknown0("Macro 'cluster_zone' must be set.")));
            }
            let topology = picket_model::cluster::Topology::of(registry, &node_name(ctx));
            match topology.zone(&zone).cloned() {
                Some(zone) => Plan::ClusterZone(Box::new(ZoneCheck {
                    zone,
                    topology: Arc::new(topology),
                    warning,
                    critical,
                })),
                None => Plan::Done(Box::new(unknown0(&format!(
                    "Zone '{zone}' does not exist."
                )))),
            }
        }
        _ => {
            let get = |f: &str| command.get(f).unwrap_or_default();
            let line = match build(
                &get("command"),
                &get("arguments"),
                &get("env"),
                resolvers,
                ctx,
            ) {
                Ok(line) => line,
                Err(e) => return failed(&e),
            };
            let timeout = seconds(checkable.get("check_timeout"))
                .or_else(|| seconds(command.get("timeout")))
                .unwrap_or(60.0);
            let argv = line.exec_argv();
            Plan::Plugin {
                invocation: Invocation {
                    argv: argv.iter().map(OsString::from).collect(),
                    env: line.env.iter().map(|(k, v)| (k.into(), v.into())).collect(),
                    timeout: Duration::from_secs_f64(timeout),
                    output_limit: DEFAULT_OUTPUT_LIMIT,
                },
                command: argv,
            }
        }
    }
}

/// `ido` and `icingadb`: how the node's connection to the IDO database or
/// to Icinga DB fares, in Icinga's words. Picket writes neither, so a
/// connection that is configured is one that never connected.
fn database_check(registry: &Registry, ido: bool, kind: &str, name: &str) -> CheckResult {
    let (state, output) = if ido {
        if kind.is_empty() {
            (3, "Attribute 'ido_type' must be set.".to_string())
        } else if name.is_empty() {
            (3, "Attribute 'ido_name' must be set.".to_string())
        } else if !matches!(kind, "IdoMysqlConnection" | "IdoPgsqlConnection") {
            (3, format!("DB IDO type '{kind}' is invalid."))
        } else if registry.find(kind, name).is_none() {
            (3, format!("DB IDO connection '{name}' does not exist."))
        } else {
            (2, "Could not connect to the database server.".to_string())
        }
    } else if name.is_empty() {
        (
            3,
            "Icinga DB UNKNOWN: Attribute 'icingadb_name' must be set.".to_string(),
        )
    } else if registry.find("IcingaDB", name).is_none() {
        (
            3,
            format!("Icinga DB UNKNOWN: Icinga DB connection '{name}' does not exist."),
        )
    } else {
        (2, "Icinga DB CRITICAL: Not connected to Redis.".to_string())
    };
    // Icinga reports these with the state and the output only.
    CheckResult {
        bare: true,
        ..CheckResult::new(state, 0, output, now())
    }
}

fn node_name(ctx: &Context) -> String {
    ctx.globals
        .get("NodeName")
        .map(|v| v.to_display())
        .unwrap_or_else(picket_model::node_name)
}

/// Carries out a plan that needs no waiting, at once; gives the plan back
/// when it must wait (a process, `sleep`). The checks about the node
/// itself read `node`.
pub fn run_inline(plan: Plan, node: &NodeFacts<'_>) -> Result<CheckResult, Plan> {
    Ok(match plan {
        Plan::Done(result) => *result,
        Plan::Dummy { name, state, text } => {
            let code = match to_double(&state) {
                Ok(n) => n.trunc() as i64,
                Err(e) => return Ok(exception(&name, &e)),
            };
            // Split like plugin output, but not trimmed.
            let (output, perfdata) = parse_output(&text);
            CheckResult {
                performance_data: text_perfdata(&perfdata),
                ..CheckResult::new(service_state(code), code, output, now())
            }
        }
        Plan::Exception { name } => exception(&name, "Test"),
        Plan::Random { node: name } => crate::builtin::random(&name, node.uptime),
        Plan::Null { node: name } => crate::builtin::null(&name),
        Plan::Icinga { name, min_version } => {
            crate::builtin::icinga(&name, &min_version, node, node.health())
        }
        Plan::Cluster(topology) => crate::builtin::cluster(&topology, node),
        Plan::ClusterZone(check) => crate::builtin::cluster_zone(&check, node),
        plan @ (Plan::Plugin { .. } | Plan::Sleep { .. }) => return Err(plan),
    })
}

/// Carries a plan out, away from the checker: the checks about the node
/// see no checkables and no listener.
pub async fn execute(plan: Plan) -> CheckResult {
    let alone = NodeFacts {
        uptime: process_uptime(),
        ..NodeFacts::default()
    };
    let plan = match run_inline(plan, &alone) {
        Ok(result) => return result,
        Err(plan) => plan,
    };
    match plan {
        Plan::Plugin {
            invocation,
            command,
        } => {
            let finished = process::run(&invocation).await;
            let program = command.first().map_or("", String::as_str);
            let mut r = from_process(program, &finished);
            if let process::Ending::NotStarted {
                errno: Some(libc::ENOENT),
                ..
            } = finished.ending
            {
                r.output.push('\n');
                r.output.push_str(&crate::missing::hint(program));
            }
            let start = seconds_of(finished.started);
            CheckResult {
                performance_data: r.performance_data.into_iter().map(Perfdata::Text).collect(),
                command: Some(command),
                execution_start: start,
                execution_end: start + finished.duration.as_secs_f64(),
                ..CheckResult::new(service_state(r.exit_status), r.exit_status, r.output, start)
            }
        }
        Plan::Sleep { time } => {
            let start = now();
            let seconds = to_double(&time).unwrap_or(0.0);
            if seconds.is_finite() && seconds > 0.0 {
                tokio::time::sleep(Duration::from_secs_f64(seconds.min(86_400.0))).await;
            }
            let output = format!("Slept for {} seconds.", time.to_display());
            CheckResult {
                execution_end: now(),
                without_perfdata: true,
                ..CheckResult::new(0, 0, output, start)
            }
        }
        _ => unknown("Unexpected check plan.".into()),
    }
}

/// Seconds since this process started, for built-in checks run outside a
/// checker.
fn process_uptime() -> f64 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}
