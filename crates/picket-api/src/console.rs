//! `/v1/console/execute-script` and `/v1/console/auto-complete-script`:
//! Icinga's script console (`icinga2 console --connect`). A session keeps
//! its variables between commands, and numbers its commands (`<1>`,
//! `<2>`...) as the names errors point into. Sessions live in memory only
//! and go after half an hour without use, as in Icinga.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use picket_lang::builtins::stats::StatsSource;
use picket_lang::eval::{ConfigHooks, LiveObjects};
use picket_lang::perfdata::PerfdataValue;
use picket_lang::source::{FileId, Span};
use picket_lang::value::Str;
use picket_lang::{Context, Dict, Frame, Interp, LangError, Value};
use picket_model::Registry;
use serde_json::{json, Value as Json};

use crate::engine::{Engine, NodeStatus};
use crate::objects;
use crate::reply::{self, Reply};
use crate::routes;
use crate::server::{Api, Call};
use crate::status;

/// How long a session is kept without use.
const SESSION_TIMEOUT: Duration = Duration::from_secs(1800);

/// Evaluation steps one command may take: a loop that never ends must
/// not hold a slot of the pool forever.
const STEP_LIMIT: u64 = 50_000_000;

/// The id commands of the console are parsed with; their errors name the
/// command (`<2>`), not a file.
const CONSOLE_FILE: FileId = FileId(u32::MAX - 1);

struct Session {
    locals: Dict,
    next_line: u64,
    /// The text of each command by its name, for error messages.
    lines: HashMap<String, String>,
    seen: Instant,
}

/// The sessions of one API.
#[derive(Default)]
pub struct Sessions(Mutex<HashMap<String, Session>>);

impl Sessions {
    /// The locals of `id` and the name of its next command.
    fn begin(&self, id: &str, command: &str) -> (Dict, String) {
        let mut all = self.0.lock();
        let now = Instant::now();
        all.retain(|_, s| now.duration_since(s.seen) < SESSION_TIMEOUT);
        let s = all.entry(id.to_string()).or_insert_with(|| Session {
            locals: Dict::new(),
            next_line: 1,
            lines: HashMap::new(),
            seen: now,
        });
        s.seen = now;
        let name = format!("<{}>", s.next_line);
        s.next_line += 1;
        s.lines.insert(name.clone(), command.to_string());
        (s.locals.clone(), name)
    }

    fn line(&self, id: &str, name: &str) -> String {
        self.0
            .lock()
            .get(id)
            .and_then(|s| s.lines.get(name).cloned())
            .unwrap_or_default()
    }

    fn locals(&self, id: &str) -> Option<Dict> {
        self.0.lock().get(id).map(|s| s.locals.clone())
    }
}

pub async fn handle<E: Engine>(call: Call<'_, E>, what: &str) -> Reply {
    if !call.user.may("console") {
        return routes::not_found(&call);
    }
    let command = call.params.string("command").unwrap_or_default();
    let session = call
        .params
        .string("session")
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let Ok(sandboxed) = call.params.switch("sandboxed") else {
        return routes::not_found(&call);
    };
    let result = match what {
        "execute-script" => {
            let (locals, name) = call.api.consoles.begin(&session, &command);
            let ctx = call.config.ctx.clone();
            let node = Arc::new(Node {
                api: call.api.clone(),
                registry: call.config.registry.clone(),
                runtime: tokio::runtime::Handle::current(),
                status: OnceLock::new(),
            });
            let _slot = call.api.slot().await;
            let outcome = tokio::task::spawn_blocking(move || {
                execute(&ctx, locals, &name, &command, sandboxed, node)
            })
            .await
            .unwrap_or_else(|_| {
                Err((
                    LangError::new(
                        picket_lang::error::ErrorKind::Script,
                        "The script stopped unexpectedly.",
                        None,
                    ),
                    String::new(),
                ))
            });
            match outcome {
                Ok(value) => json!({
                    "code": 200,
                    "result": picket_lang::json::to_serde(&value),
                    "status": "Executed successfully.",
                }),
                Err((e, name)) => failure(&call, &session, &name, &e),
            }
        }
        "auto-complete-script" => {
            let locals = call.api.consoles.locals(&session).unwrap_or_default();
            json!({
                "code": 200,
                "status": "Auto-completed successfully.",
                "suggestions": suggestions(&call.config.ctx, &locals, &command),
            })
        }
        _ => return routes::not_found(&call),
    };
    reply::results(200, vec![result], call.pretty)
}

/// The running node as console scripts see it: its objects, hosts and
/// services with their live state as `/v1/objects` shows them, and its
/// status for `StatsFunctions` (read once per command). Read from the
/// checker by blocking, since scripts run on a blocking thread.
struct Node<E: Engine> {
    api: Arc<Api<E>>,
    registry: Arc<Registry>,
    runtime: tokio::runtime::Handle,
    status: OnceLock<NodeStatus>,
}

impl<E: Engine> Node<E> {
    /// The objects of a type (one by name), or `None` for a type the API
    /// does not show.
    fn views(&self, type_name: &str, name: Option<&str>) -> Option<Vec<Value>> {
        let schema = picket_model::types::ALL
            .iter()
            .copied()
            .find(|t| t.name == type_name)?;
        let views = self.runtime.block_on(objects::views(
            &self.api.engine,
            &self.registry,
            schema,
            name.map(str::to_string),
        ));
        Some(
            views
                .into_iter()
                .map(|v| Value::Object(Arc::new(v)))
                .collect(),
        )
    }
}

impl<E: Engine> LiveObjects for Node<E> {
    fn get_object(&self, type_name: &str, name: &str) -> Option<Value> {
        match self.views(type_name, Some(name)) {
            Some(found) => found.into_iter().next(),
            None => ConfigHooks::get_object(&*self.registry, type_name, name),
        }
    }

    fn get_objects(&self, type_name: &str) -> Vec<Value> {
        self.views(type_name, None)
            .unwrap_or_else(|| ConfigHooks::get_objects(&*self.registry, type_name))
    }
}

impl<E: Engine> StatsSource for Node<E> {
    fn component(&self, name: &str) -> (Vec<(Str, Value)>, Vec<PerfdataValue>) {
        let status = self.status.get_or_init(|| {
            self.runtime
                .block_on(self.api.engine.status())
                .unwrap_or_default()
        });
        status::script_component(&self.api, &self.registry, status, name)
    }
}

fn execute(
    ctx: &Context,
    locals: Dict,
    name: &str,
    command: &str,
    sandboxed: bool,
    node: Arc<impl StatsSource + LiveObjects + 'static>,
) -> Result<Value, (LangError, String)> {
    let ast = picket_lang::parser::parse_file(command, CONSOLE_FILE, name)
        .map_err(|e| (e, name.to_string()))?;
    let mut frame = Frame {
        locals: locals.clone(),
        this: Value::Dict(locals),
    };
    let mut interp = Interp::new(ctx).with_step_limit(STEP_LIMIT);
    interp.sandboxed = sandboxed;
    interp.stats = Some(node.clone());
    interp.live = Some(node);
    interp
        .run(&mut frame, &ast)
        .map_err(|e| (e, name.to_string()))
}

/// A failed command as Icinga shows it: the command with the failing part
/// marked, then the message.
fn failure<E: Engine>(call: &Call<'_, E>, session: &str, name: &str, e: &LangError) -> Json {
    // An error without a place shows no command and an empty path.
    let nowhere = e.span == Some(Span::NOWHERE);
    let name = if nowhere { "" } else { name };
    let line = match nowhere {
        true => String::new(),
        false => call.api.consoles.line(session, name),
    };
    let (first_line, first_column, last_line, last_column) = match e.span {
        Some(s) => (s.first_line, s.first_column, s.last_line, s.last_column),
        None => (1, 0, 1, 0),
    };
    let incomplete = e.incomplete;
    let message = &e.message;
    let marks = last_column.saturating_sub(first_column) as usize + 1;
    let status = format!(
        "{name}: {line}\n{}{}{}\n{}\n",
        " ".repeat(name.len() + 2),
        " ".repeat(first_column as usize),
        "^".repeat(marks),
        message
    );
    json!({
        "code": 500,
        "debug_info": {
            "first_column": first_column,
            "first_line": first_line,
            "last_column": last_column,
            "last_line": last_line,
            "path": name,
        },
        "incomplete_expression": incomplete,
        "status": status,
    })
}

/// Completions of the last word of `command`: keywords, the session's
/// variables and the globals; after a `.`, the fields of the value before
/// it.
fn suggestions(ctx: &Context, locals: &Dict, command: &str) -> Vec<String> {
    let start = command
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .map_or(0, |i| i + 1);
    let word = &command[start..];
    let mut out: Vec<String> = match word.rsplit_once('.') {
        Some((base, _)) => {
            let ast = picket_lang::parser::parse_expression(base, CONSOLE_FILE, "<auto-complete>");
            let value = ast.ok().and_then(|ast| {
                let mut frame = Frame {
                    locals: locals.clone(),
                    this: Value::Dict(locals.clone()),
                };
                Interp::new(ctx)
                    .with_step_limit(100_000)
                    .run(&mut frame, &ast)
                    .ok()
            });
            let fields: Vec<String> = match value {
                Some(Value::Dict(d)) => d.keys().iter().map(|k| k.to_string()).collect(),
                Some(Value::Object(o)) => {
                    o.fields().into_iter().map(|(k, _)| k.to_string()).collect()
                }
                Some(Value::Namespace(n)) => n.keys().iter().map(|k| k.to_string()).collect(),
                _ => Vec::new(),
            };
            fields.into_iter().map(|f| format!("{base}.{f}")).collect()
        }
        None => {
            // The namespaces every script imports.
            let imported: Vec<_> = ["System", "Types", "Icinga"]
                .iter()
                .filter_map(|n| match ctx.globals.get(n) {
                    Some(Value::Namespace(ns)) => Some(ns.keys()),
                    _ => None,
                })
                .flatten()
                .collect();
            // Icinga offers neither the session's variables nor `this`.
            picket_lang::config_writer::KEYWORDS
                .iter()
                .map(|k| k.to_string())
                .chain(ctx.globals.keys().iter().map(|k| k.to_string()))
                .chain(imported.iter().map(|k| k.to_string()))
                .collect()
        }
    };
    out.retain(|s| s.starts_with(word));
    out.sort();
    out.dedup();
    out
}
