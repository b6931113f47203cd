//! Object selection by `filter` expressions (Icinga's language, evaluated
//! by picket-lang) and by the filter functions of a user's permissions.

use std::sync::Arc;

use picket_lang::ast::Expr;
use picket_lang::source::FileId;
use picket_lang::{Context, Dict, Frame, Interp, LangError, Value};
use serde_json::Value as Json;

use crate::auth::Access;
use crate::render::View;

/// Evaluation steps one object's filter may take: enough for any real
/// filter, and a bound on what a hostile one (`while (true) {}`) costs.
const STEP_LIMIT: u64 = 100_000;

/// Where filter errors say they happened, as in Icinga.
const QUERY_PATH: &str = "<API query>";

/// A parsed selection, shared by the threads that evaluate it.
#[derive(Clone, Default)]
pub struct Selection {
    expr: Option<Arc<Expr>>,
    vars: Vec<(String, Value)>,
    /// Permission filter functions; an object must pass one of them.
    restrictions: Vec<Value>,
}

/// An error as Icinga's `diagnostic_information` shows it.
pub fn diagnostic(e: &LangError) -> String {
    let mut out = format!("Error: {}", e.message);
    if let Some(s) = e.span {
        out.push_str(&format!(
            "\nLocation: in {QUERY_PATH}: {}:{}-{}:{}",
            s.first_line, s.first_column, s.last_line, s.last_column
        ));
    }
    out
}

/// Parses a filter expression of a request.
pub fn parse(text: &str) -> Result<Arc<Expr>, LangError> {
    picket_lang::parser::parse_expression(text, FileId(u32::MAX), QUERY_PATH).map(Arc::new)
}

/// Evaluates `expr` with `vars` (the request's `filter_vars`) and `value`
/// (the event of a stream, the variable or template of a listing) bound,
/// as `obj` and as `var`, as Icinga binds them.
pub fn holds_for(
    ctx: &Context,
    expr: &Expr,
    var: &str,
    value: Value,
    vars: &[(String, Value)],
) -> Result<bool, String> {
    let scope = Dict::new();
    for (k, v) in vars {
        scope.insert(k.as_str(), v.clone());
    }
    scope.insert("obj", value.clone());
    scope.insert(var, value);
    let mut frame = Frame {
        locals: scope.clone(),
        this: Value::Dict(scope),
    };
    sandboxed(ctx)
        .run(&mut frame, expr)
        .map(|v| v.to_bool())
        .map_err(|e| diagnostic(&e))
}

/// The variables of a request's `filter_vars` (a dictionary; anything
/// else binds none).
pub fn vars_of(filter_vars: Option<&Json>) -> Vec<(String, Value)> {
    match filter_vars {
        Some(Json::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), picket_lang::json::from_serde(v)))
            .collect(),
        _ => Vec::new(),
    }
}

/// Filters run as Icinga runs them: bounded, and in sandbox mode (no
/// assignments, only side-effect free functions), so that a query cannot
/// change anything.
fn sandboxed(ctx: &Context) -> Interp<'_> {
    let mut interp = Interp::new(ctx).with_step_limit(STEP_LIMIT);
    interp.sandboxed = true;
    interp
}

impl Selection {
    /// The selection of a request: its `filter` text, its `filter_vars`
    /// and what the user's permission allows.
    pub fn new(
        filter: Option<&str>,
        filter_vars: Option<&Json>,
        access: &Access,
    ) -> Result<Selection, String> {
        let expr = match filter {
            Some(text) => Some(parse(text).map_err(|e| diagnostic(&e))?),
            None => None,
        };
        let vars = vars_of(filter_vars);
        let restrictions = match access {
            Access::Filtered(f) => f.clone(),
            _ => Vec::new(),
        };
        Ok(Selection {
            expr,
            vars,
            restrictions,
        })
    }

    /// Whether this selects anything beyond "everything".
    pub fn is_trivial(&self) -> bool {
        self.expr.is_none() && self.restrictions.is_empty()
    }

    /// Whether the user's permission lets them see `view` at all.
    pub fn permits(&self, ctx: &Context, view: &View) -> Result<bool, String> {
        if self.restrictions.is_empty() {
            return Ok(true);
        }
        let scope = scope(view, &[]);
        let mut interp = Interp::new(ctx).with_step_limit(STEP_LIMIT);
        for f in &self.restrictions {
            if let Value::Function(func) = f {
                let v = interp
                    .call(func, &Value::Dict(scope.clone()), Vec::new())
                    .map_err(|e| diagnostic(&e))?;
                if v.to_bool() {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Whether `view` passes the permission and the filter.
    pub fn matches(&self, ctx: &Context, view: &View) -> Result<bool, String> {
        if !self.permits(ctx, view)? {
            return Ok(false);
        }
        let Some(expr) = &self.expr else {
            return Ok(true);
        };
        let scope = scope(view, &self.vars);
        let mut frame = Frame {
            locals: scope.clone(),
            this: Value::Dict(scope),
        };
        sandboxed(ctx)
            .run(&mut frame, expr)
            .map(|v| v.to_bool())
            .map_err(|e| diagnostic(&e))
    }
}

/// The variables a filter sees: `obj` and the object under its type's
/// lowercase name, the objects it navigates to (a service's `host`), and
/// the request's `filter_vars`.
fn scope(view: &View, vars: &[(String, Value)]) -> Dict {
    let d = Dict::new();
    for (k, v) in vars {
        d.insert(k.as_str(), v.clone());
    }
    let me = Value::Object(Arc::new(view.clone()));
    d.insert("obj", me.clone());
    d.insert(view.object.schema.name.to_lowercase(), me);
    if let Some(host) = &view.host {
        d.insert("host", Value::Object(Arc::new(host.as_ref().clone())));
    }
    match &view.service {
        Some(service) => d.insert("service", Value::Object(Arc::new(service.as_ref().clone()))),
        // Of a host's comment, downtime or notification: null, as Icinga
        // binds a navigation that leads nowhere.
        None if view.object.schema.name != "Service"
            && view.object.field_schema("service_name").is_some() =>
        {
            d.insert("service", Value::Null)
        }
        None => {}
    }
    d
}
