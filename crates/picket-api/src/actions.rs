//! `/v1/actions/<action>`: operations on selected objects, answered with
//! one result per object.

use picket_model::result::{now, CheckResult, Perfdata};
use picket_model::schema::TypeSchema;
use serde_json::{json, Value as Json};

use crate::engine::{Engine, ProcessRequest};
use crate::objects;
use crate::operator;
use crate::params::{not_an_object, Unconvertible};
use crate::render::View;
use crate::reply::{self, Reply};
use crate::server::Call;

/// The actions this node carries out, with the types they apply to.
const ACTIONS: &[(&str, &[&str])] = &[
    ("process-check-result", &["Service", "Host"]),
    ("reschedule-check", &["Service", "Host"]),
    ("send-custom-notification", &["Service", "Host"]),
    ("delay-notification", &["Service", "Host"]),
    ("acknowledge-problem", &["Service", "Host"]),
    ("remove-acknowledgement", &["Service", "Host"]),
    ("add-comment", &["Service", "Host"]),
    ("remove-comment", &["Comment", "Service", "Host"]),
    ("schedule-downtime", &["Service", "Host"]),
    ("remove-downtime", &["Downtime", "Service", "Host"]),
    ("execute-command", &["Service", "Host"]),
    ("generate-ticket", &[]),
    ("shutdown-process", &[]),
    ("restart-process", &[]),
];

fn result(code: u16, status: impl Into<String>) -> Json {
    json!({ "code": code, "status": status.into() })
}

/// An action stopped by a parameter that does not convert, as Icinga
/// reports the exception behind it.
fn conversion_failed(e: &Unconvertible, verbose: bool) -> Json {
    let why = format!("Error: {e}\n");
    let mut r = result(500, format!("Action execution failed: '{why}'."));
    if verbose {
        r["diagnostic_information"] = json!(why);
    }
    r
}

pub async fn handle<E: Engine>(call: Call<'_, E>, action: &str) -> Reply {
    let pretty = call.pretty;
    let Some((name, types)) = ACTIONS.iter().find(|(n, _)| *n == action) else {
        return reply::error(404, &format!("Action '{action}' does not exist."), pretty);
    };
    let permission = format!("actions/{name}");
    if types.is_empty() {
        // Icinga hides what a user may not do behind an unknown path.
        if !call.user.may(&permission) {
            return crate::routes::not_found(&call);
        }
        let r = match *name {
            "generate-ticket" => generate_ticket(&call),
            "shutdown-process" => {
                call.api.engine.request(ProcessRequest::Shutdown);
                result(200, "Shutting down Icinga 2.")
            }
            "restart-process" => {
                call.api.engine.request(ProcessRequest::Restart);
                result(200, "Restarting Icinga 2.")
            }
            _ => result(500, "Action is not implemented."),
        };
        return reply::items(vec![r], pretty);
    }
    // The type: given, the only one, or the one whose name a parameter
    // carries (`host=...`); anything else selects nothing.
    let schema = match call.params.string("type") {
        Some(t) => types.iter().find(|x| x.eq_ignore_ascii_case(&t)).copied(),
        None if types.len() == 1 => Some(types[0]),
        None => types.iter().copied().find(|t| {
            let t = t.to_lowercase();
            call.params.contains(&t) || call.params.contains(&format!("{t}s"))
        }),
    }
    .and_then(type_named);
    let Some(schema) = schema else {
        return objects::not_found(&call, "Invalid type specified for this query.");
    };
    let pick = objects::pick(&call, schema, None);
    let targets = match objects::select(&call, schema, pick, &permission).await {
        Ok(t) => t,
        Err(diagnostic) => return objects::not_found(&call, &diagnostic),
    };
    let verbose = call.verbose();
    let mut results = Vec::with_capacity(targets.len());
    for view in &targets {
        let outcome = match *name {
            "process-check-result" => process_check_result(&call, view).await,
            "reschedule-check" => reschedule_check(&call, view).await,
            "send-custom-notification" => Ok(send_custom_notification(&call, view).await),
            "delay-notification" => delay_notification(&call, view).await,
            "acknowledge-problem" => operator::acknowledge(&call, view).await,
            "remove-acknowledgement" => Ok(operator::remove_acknowledgement(&call, view).await),
            "add-comment" => operator::add_comment(&call, view).await,
            "remove-comment" => Ok(operator::remove_comment(&call, view).await),
            "schedule-downtime" => operator::schedule_downtime(&call, view).await,
            "remove-downtime" => Ok(operator::remove_downtime(&call, view).await),
            "execute-command" => execute_command(&call, view).await,
            _ => Ok(result(500, "Action is not implemented.")),
        };
        results.push(outcome.unwrap_or_else(|e| conversion_failed(&e, verbose)));
    }
    reply::items(results, pretty)
}

fn type_named(name: &str) -> Option<&'static TypeSchema> {
    picket_model::types::ALL
        .iter()
        .copied()
        .find(|t| t.name == name)
}

/// A plugin exit code as a service state: 0–2 as they are, anything
/// else UNKNOWN.
fn service_state(exit: i64) -> u8 {
    match exit {
        0..=2 => exit as u8,
        _ => 3,
    }
}

async fn process_check_result<E: Engine>(
    call: &Call<'_, E>,
    view: &View,
) -> Result<Json, Unconvertible> {
    let name = view.object.full_name();
    let is_host = view.object.schema.name == "Host";
    if !view
        .object
        .get("enable_passive_checks")
        .is_some_and(|v| v.to_bool())
    {
        return Ok(result(
            403,
            format!("Passive checks are disabled for object '{name}'."),
        ));
    }
    let p = &call.params;
    let Some(exit) = p.numeric("exit_status")? else {
        return Ok(result(400, "Parameter 'exit_status' is required."));
    };
    let exit = exit as i64;
    let state = match (is_host, exit) {
        (false, e) => service_state(e),
        // Hosts take 0 (UP) and 1 (DOWN, kept as CRITICAL).
        (true, 0) => 0,
        (true, 1) => 2,
        (true, _) => {
            return Ok(result(
                400,
                format!("Invalid 'exit_status' for Host {name}."),
            ))
        }
    };
    if !p.contains("plugin_output") {
        return Ok(result(400, "Parameter 'plugin_output' is required"));
    }
    let output = p.string("plugin_output").unwrap_or_default();
    let execution_start = p.numeric("execution_start")?;
    let execution_end = p.numeric("execution_end")?;
    // The next check waits for the result's time to live.
    let ttl = p.numeric("ttl")?.unwrap_or(0.0);
    let t = now();
    // A list, or a string to split (Icinga Web sends one); none at all is
    // null, unlike an empty list.
    let (performance_data, without_perfdata) = match p.get("performance_data") {
        Some(Json::Array(a)) => (
            a.iter()
                .map(|v| Perfdata::Text(v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                .collect(),
            false,
        ),
        Some(Json::String(s)) => (
            s.split_whitespace()
                .map(|s| Perfdata::Text(s.to_string()))
                .collect(),
            false,
        ),
        None | Some(Json::Null) => (Vec::new(), true),
        Some(other) => return Err(Unconvertible(not_an_object(other))),
    };
    let command = match p.get("check_command") {
        Some(Json::Array(a)) => Some(
            a.iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect(),
        ),
        Some(Json::String(s)) => Some(vec![s.clone()]),
        _ => None,
    };
    let check_source = p
        .string("check_source")
        .unwrap_or_else(|| call.api.node_name.clone());
    let cr = CheckResult {
        state,
        exit_status: 0,
        output,
        performance_data,
        command,
        execution_start: execution_start.unwrap_or(t),
        execution_end: execution_end.unwrap_or(t),
        schedule_start: t,
        schedule_end: t,
        active: false,
        scheduling_source: (check_source != call.api.node_name).then(|| call.api.node_name.clone()),
        check_source,
        bare: false,
        without_perfdata,
        ttl,
    };
    Ok(match call.api.engine.submit(name.clone(), cr).await {
        Ok(()) => result(
            200,
            format!("Successfully processed check result for object '{name}'."),
        ),
        Err(e) if e.starts_with("Passive checks are disabled") => result(403, e),
        Err(e) if e.starts_with("Ignoring passive check result") => result(200, e),
        Err(e) => result(500, e),
    })
}

async fn reschedule_check<E: Engine>(
    call: &Call<'_, E>,
    view: &View,
) -> Result<Json, Unconvertible> {
    let name = view.object.full_name();
    let force = call.params.flag("force");
    let at = call.params.numeric("next_check")?.unwrap_or_else(now);
    Ok(
        match call.api.engine.reschedule(name.clone(), at, force).await {
            Ok(()) => result(
                200,
                format!("Successfully rescheduled check for object '{name}'."),
            ),
            Err(e) => result(500, e),
        },
    )
}

async fn send_custom_notification<E: Engine>(call: &Call<'_, E>, view: &View) -> Json {
    let name = view.object.full_name();
    let p = &call.params;
    let Some(author) = p.string("author") else {
        return result(400, "Parameter 'author' is required.");
    };
    let Some(comment) = p.string("comment") else {
        return result(400, "Parameter 'comment' is required.");
    };
    let force = p.flag("force");
    match call
        .api
        .engine
        .notify(name.clone(), author, comment, force)
        .await
    {
        Ok(()) => result(
            200,
            format!("Successfully sent custom notification for object '{name}'."),
        ),
        Err(e) => result(500, e),
    }
}

async fn delay_notification<E: Engine>(
    call: &Call<'_, E>,
    view: &View,
) -> Result<Json, Unconvertible> {
    let name = view.object.full_name();
    let Some(until) = call.params.numeric("timestamp")? else {
        return Ok(result(
            400,
            "A timestamp is required to delay notifications",
        ));
    };
    Ok(
        match call
            .api
            .engine
            .delay_notifications(name.clone(), until)
            .await
        {
            Ok(()) => result(
                200,
                format!("Successfully delayed notifications for object '{name}'."),
            ),
            Err(e) => result(500, e),
        },
    )
}

async fn execute_command<E: Engine>(
    call: &Call<'_, E>,
    view: &View,
) -> Result<Json, Unconvertible> {
    let p = &call.params;
    // In Icinga's order of checks.
    let name = p
        .string("command_type")
        .unwrap_or_else(|| "EventCommand".into());
    let Some(command_type) = picket_model::monitor::CommandType::parse(&name) else {
        return Ok(result(400, format!("Invalid command_type '{name}'.")));
    };
    let Some(ttl) = p.numeric("ttl")? else {
        return Ok(result(400, "Parameter ttl is required."));
    };
    if ttl <= 0.0 {
        return Ok(result(400, "Parameter ttl must be greater than 0."));
    }
    let macros = match p.contains("macros").then(|| p.last("macros")) {
        None => None,
        Some(Some(m @ Json::Object(_))) => Some(m.clone()),
        Some(_) => return Ok(result(400, "Parameter macros must be a dictionary.")),
    };
    let request = crate::engine::Execute {
        command_type,
        command: p.string("command"),
        endpoint: p.string("endpoint"),
        macros,
        user: p.string("user"),
        notification: p.string("notification"),
        ttl,
    };
    let name = view.object.full_name();
    Ok(
        match call
            .api
            .engine
            .execute_command(view.object.clone(), request)
            .await
        {
            Ok(execution) => json!({
                "checkable": name, "code": 202, "execution": execution, "status": "Accepted",
            }),
            Err((code, text)) => result(code, text),
        },
    )
}

fn generate_ticket<E: Engine>(call: &Call<'_, E>) -> Json {
    let Some(cn) = call.params.string("cn") else {
        return result(400, "Option 'cn' is required");
    };
    let salt = &call.api.settings.ticket_salt;
    if salt.is_empty() {
        return result(500, "Ticket salt is not configured in ApiListener object");
    }
    match picket_pki::ticket::ticket(&cn, salt) {
        Ok(ticket) => json!({
            "code": 200,
            "status": format!("Generated PKI ticket '{ticket}' for common name '{cn}'."),
            "ticket": ticket,
        }),
        Err(e) => result(500, e.to_string()),
    }
}
