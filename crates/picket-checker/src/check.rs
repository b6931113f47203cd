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
use picket_model::{ConfigObject, Registry};

use crate::command_line::build;
use crate::macros::{Clock, Resolvers, Source};
use crate::process::{self, Invocation, DEFAULT_OUTPUT_LIMIT};
use crate::result::{from_process, parse_output, service_state, split_perfdata};

/// A check result as Icinga records it (`last_check_result`).
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// The state as the plugin reported it (0–3); the model maps it to a
    /// host state for hosts.
    pub state: u8,
    pub exit_status: i64,
    pub output: String,
    pub performance_data: Vec<String>,
    /// The command line that ran, when a process ran.
    pub command: Option<Vec<String>>,
    pub execution_start: SystemTime,
    pub execution_end: SystemTime,
}

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
    /// Decided while planning (a configuration error, for instance).
    Done(CheckResult),
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
    let now = SystemTime::now();
    CheckResult {
        state: 3,
        exit_status: 3,
        output,
        performance_data: Vec::new(),
        command: None,
        execution_start: now,
        execution_end: now,
    }
}

/// The result of a built-in check that failed, in Icinga's words: UNKNOWN,
/// exit status 0.
fn exception(name: &str, message: &str) -> CheckResult {
    CheckResult {
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
    let failed = |e: &dyn std::fmt::Display| {
        Plan::Done(unknown(format!(
            "Error: {e}\n\nContext:\n\n\t(0) Executing check for object '{}'",
            checkable.full_name()
        )))
    };
    // The methods are named as Icinga names them, `Internal#DummyCheck`.
    let method = match command.get("execute") {
        Some(Value::Function(f)) => f.name.rsplit('#').next().unwrap_or_default().to_string(),
        _ => "PluginCheck".to_string(),
    };
    match method.as_str() {
        "DummyCheck" => {
            let resolve =
                |name: &str| resolvers.resolve(ctx, &Value::from(format!("${name}$").as_str()));
            let state = match resolve("dummy_state") {
                Ok(r) => r.value,
                Err(e) => return Ok(failed(&e)),
            };
            let text = match resolve("dummy_text") {
                Ok(r) => r.value.to_display(),
                Err(e) => return Ok(failed(&e)),
            };
            Ok(Plan::Dummy {
                name: checkable.full_name(),
                state,
                text,
            })
        }
        "SleepCheck" => match resolvers.resolve(ctx, &Value::from("$sleep_time$")) {
            Ok(r) => Ok(Plan::Sleep { time: r.value }),
            Err(e) => Ok(failed(&e)),
        },
        "ExceptionCheck" => Ok(Plan::Exception {
            name: checkable.full_name(),
        }),
        _ => {
            let get = |f: &str| command.get(f).unwrap_or_default();
            let line = match build(
                &get("command"),
                &get("arguments"),
                &get("env"),
                &resolvers,
                ctx,
            ) {
                Ok(line) => line,
                Err(e) => return Ok(failed(&e)),
            };
            let timeout = seconds(checkable.get("check_timeout"))
                .or_else(|| seconds(command.get("timeout")))
                .unwrap_or(60.0);
            let argv = line.exec_argv();
            Ok(Plan::Plugin {
                invocation: Invocation {
                    argv: argv.iter().map(OsString::from).collect(),
                    env: line.env.iter().map(|(k, v)| (k.into(), v.into())).collect(),
                    timeout: Duration::from_secs_f64(timeout),
                    output_limit: DEFAULT_OUTPUT_LIMIT,
                },
                command: argv,
            })
        }
    }
}

/// Carries a plan out.
pub async fn execute(plan: Plan) -> CheckResult {
    match plan {
        Plan::Done(result) => result,
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
            CheckResult {
                state: service_state(r.exit_status),
                exit_status: r.exit_status,
                output: r.output,
                performance_data: r.performance_data,
                command: Some(command),
                execution_start: finished.started,
                execution_end: finished.started + finished.duration,
            }
        }
        Plan::Dummy { name, state, text } => {
            let now = SystemTime::now();
            let code = match to_double(&state) {
                Ok(n) => n.trunc() as i64,
                Err(e) => return exception(&name, &e),
            };
            // Split like plugin output, but not trimmed.
            let (output, perfdata) = parse_output(&text);
            CheckResult {
                state: service_state(code),
                exit_status: code,
                output,
                performance_data: split_perfdata(&perfdata),
                command: None,
                execution_start: now,
                execution_end: now,
            }
        }
        Plan::Sleep { time } => {
            let seconds = to_double(&time).unwrap_or(0.0);
            if seconds.is_finite() && seconds > 0.0 {
                tokio::time::sleep(Duration::from_secs_f64(seconds.min(86_400.0))).await;
            }
            let now = SystemTime::now();
            CheckResult {
                state: 0,
                exit_status: 0,
                output: format!("Slept for {} seconds.", time.to_display()),
                performance_data: Vec::new(),
                command: None,
                execution_start: now,
                execution_end: now,
            }
        }
        Plan::Exception { name } => exception(&name, "Test"),
    }
}
