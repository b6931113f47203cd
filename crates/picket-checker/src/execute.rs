//! `execute-command`: a check, event or notification command run once for
//! a host or service, outside its schedule, with macros the caller may
//! override (`macros`, looked up before the objects' own). The outcome is
//! not a check result: it is kept in the checkable's `executions` only.
//!
//! Picking the endpoint, the command, and for notification commands the
//! user and the notification, follows Icinga's rules and texts: each is a
//! name that may hold macros, resolved for the checkable, and must name an
//! object of the configuration.

use std::sync::Arc;

use picket_lang::{Context, Value};
pub use picket_model::monitor::CommandType;
use picket_model::result::now;
use picket_model::{ConfigObject, Registry};

use crate::check::{plan_command, sources, Plan, PlanError};
use crate::macros::{Resolvers, Source};

/// The command when the request names none: the checkable's own.
fn default_command(kind: CommandType) -> &'static str {
    match kind {
        CommandType::Check => "$check_command$",
        CommandType::Event => "$event_command$",
        CommandType::Notification => "$notification_command$",
    }
}

/// What `execute-command` asks for, besides the checkable.
#[derive(Debug, Clone)]
pub struct Request {
    pub command_type: CommandType,
    pub command: Option<String>,
    /// Where to run it; by default the checkable's `command_endpoint`.
    pub endpoint: Option<String>,
    /// Macro values that win over the objects' (a dictionary).
    pub macros: Option<Value>,
    pub user: Option<String>,
    pub notification: Option<String>,
}

/// Why a command cannot run; the texts are Icinga's answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecuteError {
    #[error("Can't find a valid endpoint for '{0}'.")]
    NoEndpoint(String),
    #[error("Can't find a valid {0} for '{1}'.")]
    NoCommand(&'static str, String),
    #[error("Can't find a valid user for '{0}'.")]
    NoUser(String),
    #[error("Can't find a valid notification for '{0}'.")]
    NoNotification(String),
    #[error("{0}")]
    Objects(#[from] PlanError),
    #[error("{0}")]
    Macro(String),
}

/// A command ready to run on `endpoint`.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub endpoint: String,
    pub plan: Plan,
}

/// How a run ended, as `executions` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub start: f64,
    pub end: f64,
    pub exit: i64,
    /// The whole output, performance data included.
    pub output: String,
}

/// Resolves the endpoint and the objects and plans the command.
pub fn prepare(
    registry: &Registry,
    ctx: &Context,
    checkable: &Arc<ConfigObject>,
    request: &Request,
) -> Result<Prepared, ExecuteError> {
    let (mut resolvers, _) = sources(registry, checkable)?;
    if let Some(macros) = &request.macros {
        resolvers.sources.insert(
            0,
            Source {
                name: "macros",
                object: macros.clone(),
            },
        );
    }
    let resolve = |resolvers: &Resolvers, text: Option<&str>, default: &str| {
        resolvers
            .resolve(ctx, &Value::from(text.unwrap_or(default)))
            .map(|r| match r.value {
                Value::Null => String::new(),
                v => v.to_display(),
            })
            .map_err(|e| ExecuteError::Macro(e.to_string()))
    };
    let endpoint = resolve(
        &resolvers,
        request.endpoint.as_deref(),
        "$command_endpoint$",
    )?;
    if registry.find("Endpoint", &endpoint).is_none() {
        return Err(ExecuteError::NoEndpoint(endpoint));
    }
    let kind = request.command_type;
    let name = resolve(
        &resolvers,
        request.command.as_deref(),
        default_command(kind),
    )?;
    let command = registry
        .find(kind.type_name(), &name)
        .ok_or(ExecuteError::NoCommand(kind.type_name(), name))?;
    if let Some(source) = resolvers.sources.iter_mut().find(|s| s.name == "command") {
        source.object = Value::Object(command.clone());
    }
    if kind == CommandType::Notification {
        let user = resolve(&resolvers, request.user.as_deref(), "")?;
        let user = registry
            .find("User", &user)
            .ok_or(ExecuteError::NoUser(user))?;
        let notification = resolve(&resolvers, request.notification.as_deref(), "")?;
        let notification = registry
            .find("Notification", &notification)
            .ok_or(ExecuteError::NoNotification(notification))?;
        // A notification's macros come from its user and itself first.
        let at = usize::from(request.macros.is_some());
        for (name, object) in [("notification", notification), ("user", user)] {
            resolvers.sources.insert(
                at,
                Source {
                    name,
                    object: Value::Object(object),
                },
            );
        }
    }
    Ok(Prepared {
        endpoint,
        plan: plan_command(registry, ctx, checkable, &resolvers, &command),
    })
}

/// Runs a planned command to its end.
pub async fn run(plan: Plan) -> Outcome {
    let start = now();
    match plan {
        Plan::Plugin {
            invocation,
            command,
        } => {
            let finished = crate::process::run(&invocation).await;
            let program = command.first().map_or("", String::as_str);
            let (exit, output) = crate::result::raw_output(program, &finished);
            Outcome {
                start,
                end: now(),
                exit,
                output,
            }
        }
        plan => {
            let result = crate::check::execute(plan).await;
            Outcome {
                start,
                end: now(),
                exit: result.exit_status,
                output: result.output,
            }
        }
    }
}
