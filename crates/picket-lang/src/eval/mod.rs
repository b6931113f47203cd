//! The evaluator: runs syntax trees against a [`Context`].
//!
//! A tree-walking interpreter. Scoping follows Icinga: a frame has `locals`
//! (one dictionary per function call, object body or file, not per block)
//! and `this` (the object being defined, the dictionary being built, the
//! value a method was called on, or the globals at the top of a file).
//! Reading a name looks at locals, then `this`, then the namespaces imported
//! with `using` and the default ones (`System`, `Types`, `Icinga`), then the
//! globals. Writing a name that is not a local writes to `this`.
//!
//! The evaluator knows nothing of hosts or services: `object`, `apply` and
//! `import` are handed to the [`ConfigHooks`] the embedding program installs
//! (picket-model), which stores the bodies and evaluates them later.

mod context;
mod include;

pub use context::{
    ApplyDecl, ConfigHooks, Context, EmbeddedFiles, LiveObjects, LogRecord, ObjectDecl, Severity,
};

use std::sync::Arc;

use crate::ast::*;
use crate::error::{ErrorKind, LangError};
use crate::function::{Function, FunctionBody};
use crate::operators;
use crate::source::Span;
use crate::value::{Array, Dict, Namespace, Str, Value};

/// Deepest nesting of calls and expressions the evaluator follows before it
/// gives up (a runaway recursion must not overflow the stack).
const MAX_DEPTH: usize = 400;

/// Largest index an assignment may extend an array to.
const MAX_ARRAY_INDEX: i64 = 1 << 28;

/// Stack left when the evaluator (or parser) asks for more, and how much more.
pub(crate) const RED_ZONE: usize = 128 * 1024;
pub(crate) const STACK_CHUNK: usize = 4 * 1024 * 1024;

/// A scope of evaluation.
#[derive(Clone)]
pub struct Frame {
    pub locals: Dict,
    pub this: Value,
}

impl Frame {
    pub fn new(this: Value) -> Self {
        Frame {
            locals: Dict::new(),
            this,
        }
    }
}

/// Why evaluation stopped early.
pub enum Flow {
    Error(LangError),
    Break(Span),
    Continue(Span),
    Return(Value, Span),
}

impl From<LangError> for Flow {
    fn from(e: LangError) -> Self {
        Flow::Error(e)
    }
}

type Eval = Result<Value, Flow>;

/// Per-file state that `include_zones` changes for the files it includes.
#[derive(Clone, Debug, Default)]
pub struct FileScope {
    pub zone: Option<Str>,
    pub package: Str,
}

/// The evaluator for one run (loading a configuration, evaluating a filter).
pub struct Interp<'c> {
    pub ctx: &'c Context,
    pub scope: FileScope,
    depth: usize,
    /// Evaluation steps left before evaluation is refused; `None` means no
    /// limit. API filters and fuzzing bound the work an input may cause.
    budget: Option<u64>,
    /// Sandbox mode (the API console's `sandboxed`, API filters): no
    /// assignments, and only functions marked side-effect free.
    pub sandboxed: bool,
    /// Where `StatsFunctions` read the node's status; none outside a
    /// running node's console.
    pub stats: Option<Arc<dyn crate::builtins::stats::StatsSource>>,
    /// The running node's objects for `get_object` & co.; none outside a
    /// running node's console.
    pub live: Option<Arc<dyn LiveObjects>>,
}

fn err(message: impl AsRef<str>, span: Span) -> Flow {
    Flow::Error(LangError::eval(message, span))
}

/// Errors of operators: most are evaluation errors, the `in` operator's are
/// reported without the prefix (as Icinga does).
fn op_error(message: String, span: Span) -> Flow {
    if message.starts_with("Invalid right side argument") {
        Flow::Error(LangError::script(message, span))
    } else {
        err(message, span)
    }
}

/// The error for using a value that is not an object (a reference,
/// a container) where one is needed.
fn not_an_object(v: &Value, span: Span) -> Flow {
    match v {
        Value::Null => Flow::Error(LangError::script("Invalid reference specified.", span)),
        Value::Bool(_) | Value::Number(_) | Value::String(_) => err(
            format!(
                "Cannot convert value of type '{}' to an object.",
                v.type_name()
            ),
            span,
        ),
        _ => err("std::bad_cast", span),
    }
}

/// A dictionary key: strings are shared rather than copied (100,000
/// objects setting `vars.x` must not allocate 100,000 copies of "x").
fn key_name(key: &Value) -> Str {
    match key {
        Value::String(s) => s.clone(),
        other => other.to_display().into(),
    }
}

/// An array index: an integral number, or a string that is one.
fn array_index(key: &Value) -> Option<i64> {
    match key {
        Value::Number(n) if n.fract() == 0.0 => Some(*n as i64),
        Value::String(s) => s.parse::<i64>().ok(),
        _ => None,
    }
}

impl<'c> Interp<'c> {
    pub fn new(ctx: &'c Context) -> Self {
        Interp {
            ctx,
            scope: FileScope {
                zone: None,
                package: "_etc".into(),
            },
            depth: 0,
            budget: None,
            sandboxed: false,
            stats: None,
            live: None,
        }
    }

    /// Limits the number of evaluation steps (expressions evaluated).
    pub fn with_step_limit(mut self, steps: u64) -> Self {
        self.budget = Some(steps);
        self
    }

    /// Evaluates top-level code (a file, a console line, a filter):
    /// `return`, `break` and `continue` have nothing to leave and are errors.
    pub fn run(&mut self, frame: &mut Frame, e: &Expr) -> Result<Value, LangError> {
        match self.eval(frame, e) {
            Ok(v) => Ok(v),
            Err(Flow::Return(_, span) | Flow::Break(span) | Flow::Continue(span)) => {
                Err(LangError::script("Invalid flow control statement.", span))
            }
            Err(Flow::Error(e)) => Err(e),
        }
    }

    /// Evaluates an object or template body: `return` ends the body.
    pub fn run_body(&mut self, frame: &mut Frame, e: &Expr) -> Result<Value, LangError> {
        match self.eval(frame, e) {
            Ok(v) | Err(Flow::Return(v, _)) => Ok(v),
            Err(Flow::Break(span) | Flow::Continue(span)) => {
                Err(LangError::script("Invalid flow control statement.", span))
            }
            Err(Flow::Error(e)) => Err(e),
        }
    }

    /// A frame for top-level code: `this` is the globals.
    pub fn top_frame(&self) -> Frame {
        Frame::new(Value::Namespace(self.ctx.globals.clone()))
    }

    pub fn eval(&mut self, frame: &mut Frame, e: &Expr) -> Eval {
        if let Some(b) = self.budget.as_mut() {
            if *b == 0 {
                return Err(Flow::Error(LangError::script(
                    "Evaluation step limit exceeded.",
                    e.span,
                )));
            }
            *b -= 1;
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(Flow::Error(LangError::new(
                ErrorKind::Script,
                "Stack overflow while evaluating expression: Recursion level too deep.",
                None,
            )));
        }
        // Deep but legal nesting must work on any caller's thread: grow the
        // stack on demand instead of relying on the caller's size.
        let r = stacker::maybe_grow(RED_ZONE, STACK_CHUNK, || self.eval_inner(frame, e));
        self.depth -= 1;
        r
    }

    fn eval_inner(&mut self, frame: &mut Frame, e: &Expr) -> Eval {
        match &e.kind {
            ExprKind::Literal(v) => Ok(v.clone()),
            ExprKind::Variable(name, imports) => {
                self.lookup(frame, name, imports.as_deref()).ok_or_else(|| {
                    err(
                        format!("Tried to access undefined script variable '{name}'"),
                        e.span,
                    )
                })
            }
            ExprKind::This => Ok(frame.this.clone()),
            ExprKind::Globals => Ok(Value::Namespace(self.ctx.globals.clone())),
            ExprKind::Locals => Ok(Value::Dict(frame.locals.clone())),
            ExprKind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.eval(frame, item)?);
                }
                Ok(Value::Array(Array::new(out)))
            }
            ExprKind::Dict(stmts) => {
                let dict = Dict::new();
                let saved = std::mem::replace(&mut frame.this, Value::Dict(dict.clone()));
                let r = self.block(frame, stmts);
                frame.this = saved;
                r?;
                Ok(Value::Dict(dict))
            }
            ExprKind::Block(stmts) => self.block(frame, stmts),
            ExprKind::Unary(op, operand) => self.unary(frame, *op, operand, e.span),
            ExprKind::Binary(op, a, b) => {
                let a = self.eval(frame, a)?;
                let b = self.eval(frame, b)?;
                operators::binary(*op, &a, &b).map_err(|m| op_error(m, e.span))
            }
            ExprKind::And(a, b) => {
                let a = self.eval(frame, a)?;
                if !a.to_bool() {
                    return Ok(a);
                }
                self.eval(frame, b)
            }
            ExprKind::Or(a, b) => {
                let a = self.eval(frame, a)?;
                if a.to_bool() {
                    return Ok(a);
                }
                self.eval(frame, b)
            }
            ExprKind::Ternary(c, a, b) => {
                if self.eval(frame, c)?.to_bool() {
                    self.eval(frame, a)
                } else {
                    self.eval(frame, b)
                }
            }
            ExprKind::Index(obj, key) => {
                let obj = self.eval(frame, obj)?;
                let key = self.eval(frame, key)?;
                self.get_index(&obj, &key, e.span)
            }
            ExprKind::Call(f, args) => self.call_expr(frame, f, args, e.span),
            ExprKind::Set { .. } if self.sandboxed => Err(Flow::Error(LangError::script(
                "Assignments are not allowed in sandbox mode.",
                e.span,
            ))),
            ExprKind::Set {
                target,
                op,
                value,
                local,
            } => {
                self.assign(frame, target, *op, value, *local, e.span)?;
                Ok(Value::Null)
            }
            ExprKind::Function(def) => self.make_function(frame, def),
            ExprKind::If(cond, then, otherwise) => {
                if self.eval(frame, cond)?.to_bool() {
                    self.eval(frame, then)
                } else if let Some(o) = otherwise {
                    self.eval(frame, o)
                } else {
                    Ok(Value::Null)
                }
            }
            ExprKind::While(cond, body) => {
                while self.eval(frame, cond)?.to_bool() {
                    match self.eval(frame, body) {
                        Ok(_) | Err(Flow::Continue(_)) => {}
                        Err(Flow::Break(_)) => break,
                        Err(other) => return Err(other),
                    }
                }
                Ok(Value::Null)
            }
            ExprKind::For(l) => {
                let collection = self.eval(frame, &l.iter)?;
                self.for_loop(
                    frame,
                    l.key.as_ref(),
                    &l.value,
                    &collection,
                    &l.body,
                    e.span,
                )
            }
            ExprKind::Break => Err(Flow::Break(e.span)),
            ExprKind::Continue => Err(Flow::Continue(e.span)),
            ExprKind::Return(v) => {
                let v = match v {
                    Some(v) => self.eval(frame, v)?,
                    None => Value::Null,
                };
                Err(Flow::Return(v, e.span))
            }
            ExprKind::Throw(v) => {
                let v = self.eval(frame, v)?;
                Err(Flow::Error(LangError::script(v.to_display(), e.span)))
            }
            ExprKind::Try(body, handler) => {
                match self.eval(frame, body) {
                    Err(Flow::Error(_)) => {
                        self.eval(frame, handler)?;
                    }
                    Err(other) => return Err(other),
                    Ok(_) => {}
                }
                Ok(Value::Null)
            }
            ExprKind::Include(kind) => self.include(frame, kind, e.span),
            ExprKind::Using(ns) => {
                self.eval(frame, ns)?;
                Ok(Value::Null)
            }
            ExprKind::Library(_) | ExprKind::FilterMarker | ExprKind::Debugger => Ok(Value::Null),
            ExprKind::Import(name) => {
                let name = self.eval(frame, name)?;
                let hooks = self.hooks(e.span)?;
                hooks.import(self, frame, &name, e.span)?;
                Ok(Value::Null)
            }
            ExprKind::Const(name, value) => {
                let v = self.eval(frame, value)?;
                if self.ctx.globals.is_constant(name) {
                    // Icinga logs the whole text, with the short location,
                    // as the facility of an empty message.
                    self.ctx.log(LogRecord {
                        severity: Severity::Warning,
                        facility: format!(
                            "Value for constant '{name}' was modified. This behaviour is deprecated.\n{}",
                            self.ctx.sources.render_location_with(e.span, 0)
                        ),
                        message: String::new(),
                    });
                }
                self.ctx.globals.force_set(name.clone(), v, true);
                Ok(Value::Null)
            }
            ExprKind::Object(def) => {
                self.declare_object(frame, def, e.span)?;
                Ok(Value::Null)
            }
            ExprKind::Apply(def) => {
                self.declare_apply(frame, def, e.span)?;
                Ok(Value::Null)
            }
            ExprKind::Namespace(name, body) => {
                // Entries of a namespace cannot change once set; a dotted
                // name nests namespaces.
                let mut parent = self.ctx.globals.clone();
                let mut parts = name.split('.').peekable();
                let mut ns = Namespace::new(true);
                while let Some(part) = parts.next() {
                    let existing = match parent.get(part) {
                        Some(Value::Namespace(n)) => Some(n),
                        _ => None,
                    };
                    let next = match existing {
                        Some(n) => n,
                        None => {
                            let n = Namespace::new(parts.peek().is_none());
                            parent.force_set(part, Value::Namespace(n.clone()), true);
                            n
                        }
                    };
                    parent = next.clone();
                    ns = next;
                }
                let saved = std::mem::replace(&mut frame.this, Value::Namespace(ns));
                let r = self.eval(frame, body);
                frame.this = saved;
                r?;
                Ok(Value::Null)
            }
        }
    }

    fn block(&mut self, frame: &mut Frame, stmts: &[Expr]) -> Eval {
        let mut last = Value::Null;
        for s in stmts {
            last = self.eval(frame, s)?;
        }
        Ok(last)
    }

    fn hooks(&self, span: Span) -> Result<Arc<dyn ConfigHooks>, Flow> {
        self.ctx.hooks().ok_or_else(|| {
            Flow::Error(LangError::script(
                "Object definitions are not allowed here.",
                span,
            ))
        })
    }

    // ----- names ----------------------------------------------------------

    /// A field that `this` itself has (not one found through its type).
    /// When `this` is the globals (at the top of a file), a global comes
    /// before the imported namespaces, as in Icinga: `const DataDir = ...`
    /// hides `System.Configuration.DataDir` there, not inside objects.
    fn own_field(this: &Value, name: &str) -> Option<Value> {
        match this {
            Value::Dict(d) => d.get(name),
            Value::Object(o) => o.get_field(name),
            Value::Namespace(ns) => ns.get(name),
            _ => None,
        }
    }

    /// A name in the `using` imports, the default namespaces (`System`,
    /// `Types`, ...) or the globals, in that order, with the namespace that
    /// holds it.
    fn find_global(&self, name: &str, imports: Option<&Vec<Expr>>) -> Option<(Namespace, Value)> {
        if let Some(imports) = imports {
            for imp in imports {
                let mut scratch = Frame::new(Value::Null);
                let mut sub = Interp::new(self.ctx);
                if let Ok(Value::Namespace(ns)) = sub.eval(&mut scratch, imp) {
                    if let Some(v) = ns.get(name) {
                        return Some((ns, v));
                    }
                }
            }
        }
        if let Some(found) = self
            .ctx
            .default_imports()
            .into_iter()
            .find_map(|ns| ns.get(name).map(|v| (ns, v)))
        {
            return Some(found);
        }
        self.ctx
            .globals
            .get(name)
            .map(|v| (self.ctx.globals.clone(), v))
    }

    /// Reads a variable: locals, `this`, imported namespaces, globals.
    pub fn lookup(&self, frame: &Frame, name: &str, imports: Option<&Vec<Expr>>) -> Option<Value> {
        if let Some(v) = frame.locals.get(name) {
            return Some(v);
        }
        if let Some(v) = Self::own_field(&frame.this, name) {
            return Some(v);
        }
        self.find_global(name, imports).map(|(_, v)| v)
    }

    /// The function a plain call `f()` names and the value it is called on:
    /// the scope the name was found in. A name found nowhere is looked up
    /// as a field of `this` (an error for configuration objects, null for
    /// the globals), as Icinga does.
    fn call_target(
        &mut self,
        frame: &Frame,
        name: &Str,
        imports: Option<&Vec<Expr>>,
        span: Span,
    ) -> Result<(Value, Value), Flow> {
        if let Some(v) = frame.locals.get(name) {
            return Ok((Value::Dict(frame.locals.clone()), v));
        }
        if let Some(v) = Self::own_field(&frame.this, name) {
            return Ok((frame.this.clone(), v));
        }
        if let Some((ns, v)) = self.find_global(name, imports) {
            return Ok((Value::Namespace(ns), v));
        }
        let v = self.get_index(&frame.this, &Value::String(name.clone()), span)?;
        Ok((frame.this.clone(), v))
    }

    fn warn_implicit_global(&self, name: &str, span: Span) {
        self.ctx.log(LogRecord {
            severity: Severity::Warning,
            facility: "config".into(),
            message: format!(
                "Global variable '{name}' has been set implicitly via '{name} = ...' in {}: {}:{}-{}:{}. Please set it explicitly via 'globals.{name} = ...' instead.",
                self.ctx.sources.path(span.file),
                span.first_line,
                span.first_column,
                span.last_line,
                span.last_column
            ),
        });
    }

    /// Writes a variable where reading it would find it (locals, `this`,
    /// a namespace), or else into `this`.
    fn set_variable(
        &mut self,
        frame: &mut Frame,
        name: &Str,
        value: Value,
        local: bool,
        imports: Option<&Vec<Expr>>,
        span: Span,
    ) -> Result<(), Flow> {
        let script = |m: String| Flow::Error(LangError::script(m, span));
        if local || frame.locals.contains(name) {
            frame.locals.insert(name.clone(), value);
            return Ok(());
        }
        if Self::own_field(&frame.this, name).is_some() {
            return match &frame.this {
                Value::Dict(d) => d.set(name.clone(), value).map_err(|m| err(m, span)),
                Value::Object(o) => o.set_field(name, value, span).map_err(script),
                Value::Namespace(ns) => {
                    if ns.ptr_eq(&self.ctx.globals) {
                        self.warn_implicit_global(name, span);
                    }
                    set_in_namespace(ns, name.clone(), value, span)
                }
                _ => Ok(()),
            };
        }
        if let Some((ns, _)) = self.find_global(name, imports) {
            if ns.ptr_eq(&self.ctx.globals) {
                self.warn_implicit_global(name, span);
            }
            return set_in_namespace(&ns, name.clone(), value, span);
        }
        match &frame.this {
            Value::Dict(d) => d.set(name.clone(), value).map_err(|m| err(m, span)),
            Value::Object(o) => o.set_field(name, value, span).map_err(script),
            Value::Namespace(ns) => {
                if ns.ptr_eq(&self.ctx.globals) {
                    self.warn_implicit_global(name, span);
                }
                set_in_namespace(ns, name.clone(), value, span)
            }
            _ => {
                self.warn_implicit_global(name, span);
                self.ctx
                    .globals
                    .set(name.clone(), value, false)
                    .map_err(script)
            }
        }
    }

    // ----- fields and indexing -----------------------------------------------

    /// `obj[key]` / `obj.key`, falling back to the methods of the value's type.
    pub fn get_index(&mut self, obj: &Value, key: &Value, span: Span) -> Eval {
        let key_str = || key.to_display();
        let script = |m: String| Flow::Error(LangError::script(m, span));
        match obj {
            Value::Dict(d) => {
                if let Some(v) = d.get(&key_str()) {
                    return Ok(v);
                }
            }
            Value::Array(a) => {
                if matches!(key, Value::String(k) if &**k == "type") {
                    return Ok(Value::str("Array"));
                }
                if let Some(i) = array_index(key) {
                    return match usize::try_from(i).ok().and_then(|i| a.get(i)) {
                        Some(v) => Ok(v),
                        None => Err(script(format!("Array index '{i}' is out of bounds."))),
                    };
                }
            }
            Value::Namespace(ns) => {
                if let Some(v) = ns.get(&key_str()) {
                    return Ok(v);
                }
                if !ns.is_configuration() {
                    let name = key_str();
                    return Ok(self.ctx.type_of(obj).find_method(&name).unwrap_or_default());
                }
            }
            Value::Object(o) => {
                let name = key_str();
                if self.sandboxed && o.is_hidden(&name) {
                    return Err(script(format!(
                        "Accessing the field '{name}' for type '{}' is not allowed in sandbox mode.",
                        o.type_name()
                    )));
                }
                if let Some(v) = o.get_field(&name) {
                    return Ok(v);
                }
            }
            Value::Function(f) => {
                let name = key_str();
                if name != "type" {
                    if let Some((_, v)) = f.fields().into_iter().find(|(k, _)| **k == *name) {
                        return Ok(v);
                    }
                }
            }
            Value::Type(t) => match key_str().as_str() {
                "name" => return Ok(Value::String(t.name.clone())),
                "base" => {
                    return Ok(t
                        .base
                        .as_ref()
                        .map(|b| Value::Type(b.clone()))
                        .unwrap_or(Value::Null))
                }
                "prototype" => return Ok(t.prototype.clone().map_or(Value::Null, Value::Dict)),
                "type" => return Ok(Value::str("Type")),
                _ => {}
            },
            Value::Null => return Ok(Value::Null),
            _ => {}
        }
        let name = key_str();
        if let Some(m) = self.ctx.type_of(obj).find_method(&name) {
            return Ok(m);
        }
        match obj {
            Value::Dict(_) => Ok(Value::Null),
            _ => Err(script(format!(
                "Invalid field access (for value of type '{}'): '{name}'",
                obj.type_name()
            ))),
        }
    }

    /// `obj[key] = value`.
    pub fn set_index(
        &mut self,
        obj: &Value,
        key: &Value,
        value: Value,
        span: Span,
    ) -> Result<(), Flow> {
        let script = |m: String| Flow::Error(LangError::script(m, span));
        match obj {
            Value::Dict(d) => {
                if d.frozen() {
                    return Err(err("Value in dictionary must not be modified.", span));
                }
                d.set(key_name(key), value).map_err(|m| err(m, span))
            }
            Value::Array(a) => {
                let i = match key {
                    Value::Number(n) => *n as i64,
                    other => other.to_display().parse::<i64>().map_err(|_| {
                        err(
                            format!("Can't convert '{}' to an integer.", other.to_display()),
                            span,
                        )
                    })?,
                };
                if a.frozen() {
                    let msg = if (i as usize) < a.len() {
                        "Value in array must not be modified."
                    } else {
                        "Array must not be modified."
                    };
                    return Err(err(msg, span));
                }
                if i < 0 {
                    return Err(script(format!("Array index '{i}' is out of bounds.")));
                }
                // Writing past the end extends the array with nulls; an index
                // no memory could hold fails as Icinga's allocation would.
                if i > MAX_ARRAY_INDEX {
                    return Err(err("std::bad_alloc", span));
                }
                let i = i as usize;
                a.modify(|items| {
                    if i >= items.len() {
                        items.resize(i + 1, Value::Null);
                    }
                    items[i] = value;
                })
                .map_err(|m| err(m, span))
            }
            Value::Namespace(ns) => set_in_namespace(ns, key.to_display().into(), value, span),
            Value::Object(o) => o.set_field(&key.to_display(), value, span).map_err(script),
            other => Err(err(
                format!(
                    "Cannot convert value of type '{}' to an object.",
                    other.type_name()
                ),
                span,
            )),
        }
    }

    /// Evaluates the container an assignment writes into, creating missing
    /// dictionaries along the way (`vars.a.b = 1` creates `vars.a`). Like
    /// Icinga, an element of an array used as a container is replaced by a
    /// new dictionary.
    fn container(&mut self, frame: &mut Frame, e: &Expr) -> Eval {
        match &e.kind {
            ExprKind::Variable(name, imports) => match self.lookup(frame, name, imports.as_deref())
            {
                Some(v) if !v.is_null() => Ok(v),
                _ => {
                    let d = Value::Dict(Dict::new());
                    self.set_variable(frame, name, d.clone(), false, imports.as_deref(), e.span)?;
                    Ok(d)
                }
            },
            ExprKind::Index(obj, key) => {
                let obj = self.container(frame, obj)?;
                let key = self.eval(frame, key)?;
                let current = match &obj {
                    Value::Array(_) => Value::Null,
                    Value::Dict(d) => d.get(&key.to_display()).unwrap_or_default(),
                    other => self.get_index(other, &key, e.span)?,
                };
                if current.is_null() {
                    let d = Value::Dict(Dict::new());
                    self.set_index(&obj, &key, d.clone(), e.span)?;
                    Ok(d)
                } else {
                    Ok(current)
                }
            }
            _ => self.eval(frame, e),
        }
    }

    fn assign(
        &mut self,
        frame: &mut Frame,
        target: &Expr,
        op: SetOp,
        value: &Expr,
        local: bool,
        span: Span,
    ) -> Result<(), Flow> {
        match &target.kind {
            ExprKind::Variable(name, imports) => {
                let rhs = self.eval(frame, value)?;
                let new = match op {
                    SetOp::Set => rhs,
                    SetOp::Op(bop) => {
                        let old = self
                            .lookup(frame, name, imports.as_deref())
                            .unwrap_or(Value::Null);
                        operators::binary(bop, &old, &rhs).map_err(|m| op_error(m, span))?
                    }
                };
                self.set_variable(frame, name, new, local, imports.as_deref(), span)
            }
            ExprKind::Index(obj, key) => {
                let container = self.container(frame, obj)?;
                let key = self.eval(frame, key)?;
                let rhs = self.eval(frame, value)?;
                let new = match op {
                    SetOp::Set => rhs,
                    SetOp::Op(bop) => {
                        let old = match &container {
                            Value::Dict(d) => d.get(&key.to_display()).unwrap_or(Value::Null),
                            other => self.get_index(other, &key, span)?,
                        };
                        operators::binary(bop, &old, &rhs).map_err(|m| op_error(m, span))?
                    }
                };
                self.set_index(&container, &key, new, span)
            }
            ExprKind::Unary(UnaryOp::Deref, inner) => {
                let r = self.eval(frame, inner)?;
                let Some((parent, index)) = crate::builtins::reference::parts(&r) else {
                    return Err(not_an_object(&r, span));
                };
                let rhs = self.eval(frame, value)?;
                let new = match op {
                    SetOp::Set => rhs,
                    SetOp::Op(bop) => {
                        let old = self.get_index(&parent, &Value::String(index.clone()), span)?;
                        operators::binary(bop, &old, &rhs).map_err(|m| op_error(m, span))?
                    }
                };
                self.set_index(&parent, &Value::String(index), new, span)
            }
            _ => Err(Flow::Error(LangError::script(
                "Expression cannot be assigned to.",
                span,
            ))),
        }
    }

    fn unary(&mut self, frame: &mut Frame, op: UnaryOp, operand: &Expr, span: Span) -> Eval {
        match op {
            UnaryOp::Ref => {
                let (parent, index) = match &operand.kind {
                    ExprKind::Variable(name, imports) => {
                        // Where the name would be read from (or written to).
                        let parent = if frame.locals.contains(name) {
                            Value::Dict(frame.locals.clone())
                        } else if Self::own_field(&frame.this, name).is_some() {
                            frame.this.clone()
                        } else if let Some((ns, _)) = self.find_global(name, imports.as_deref()) {
                            Value::Namespace(ns)
                        } else {
                            frame.this.clone()
                        };
                        (parent, name.clone())
                    }
                    ExprKind::Index(obj, key) => {
                        let obj = self.eval(frame, obj)?;
                        let key = self.eval(frame, key)?;
                        (obj, Str::from(key.to_display()))
                    }
                    _ => {
                        return Err(Flow::Error(LangError::script(
                            "Cannot obtain reference for expression.",
                            span,
                        )))
                    }
                };
                Ok(crate::builtins::reference::make(parent, index))
            }
            UnaryOp::Deref => {
                let r = self.eval(frame, operand)?;
                let Some((parent, index)) = crate::builtins::reference::parts(&r) else {
                    return Err(not_an_object(&r, span));
                };
                self.get_index(&parent, &Value::String(index), span)
            }
            _ => {
                let v = self.eval(frame, operand)?;
                match op {
                    UnaryOp::Not => Ok(Value::Bool(!v.to_bool())),
                    UnaryOp::BitNot => match v.to_number() {
                        Ok(n) => Ok(Value::Number(!(n as i64) as f64)),
                        Err(m) => Err(err(m, span)),
                    },
                    UnaryOp::Minus => operators::binary(BinaryOp::Sub, &Value::Number(0.0), &v)
                        .map_err(|m| err(m, span)),
                    // Handled above.
                    UnaryOp::Ref | UnaryOp::Deref => Ok(v),
                }
            }
        }
    }

    // ----- functions --------------------------------------------------------

    fn captures(&mut self, frame: &mut Frame, captures: &[Capture]) -> Result<Dict, Flow> {
        let closure = Dict::new();
        for c in captures {
            let v = match &c.value {
                Some(e) => self.eval(frame, e)?,
                None => self.lookup(frame, &c.name, None).ok_or_else(|| {
                    err(
                        format!("Tried to access undefined script variable '{}'", c.name),
                        c.span,
                    )
                })?,
            };
            closure.insert(c.name.clone(), v);
        }
        Ok(closure)
    }

    fn make_function(&mut self, frame: &mut Frame, def: &Arc<FunctionDef>) -> Eval {
        let closure = match &def.captures {
            Some(c) => Some(self.captures(frame, c)?),
            None => None,
        };
        Ok(Value::Function(Arc::new(Function {
            name: def.name.clone().unwrap_or_else(|| "<anonymous>".into()),
            params: def.params.clone(),
            side_effect_free: false,
            deprecated: false,
            body: FunctionBody::Script {
                body: def.body.clone(),
                closure,
            },
        })))
    }

    fn call_expr(&mut self, frame: &mut Frame, f: &Expr, args: &[Expr], span: Span) -> Eval {
        let (this, callee) = match &f.kind {
            ExprKind::Index(obj, key) => {
                let obj = self.eval(frame, obj)?;
                let key = self.eval(frame, key)?;
                // Icinga places a failed method lookup at the whole call.
                let callee = self.get_index(&obj, &key, span)?;
                (obj, callee)
            }
            ExprKind::Variable(name, imports) => {
                self.call_target(frame, name, imports.as_deref(), span)?
            }
            _ => (Value::Null, self.eval(frame, f)?),
        };
        if !matches!(callee, Value::Function(_) | Value::Type(_)) {
            return Err(Flow::Error(LangError::script(
                "Argument is not a callable object.",
                span,
            )));
        }
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(self.eval(frame, a)?);
        }
        match callee {
            Value::Function(func) if self.sandboxed && !func.side_effect_free => Err(Flow::Error(
                LangError::script("Function is not marked as safe for sandbox mode.", span),
            )),
            Value::Function(func) => self
                .call(&func, &this, values)
                .map_err(|e| Flow::Error(e.at(span))),
            Value::Type(t) => match &t.constructor {
                Some(ctor) => {
                    let ctor = ctor.clone();
                    ctor(self, &Value::Type(t.clone()), values).map_err(|e| Flow::Error(e.at(span)))
                }
                None => Err(err("Type does not have a factory function.", span)),
            },
            _ => Err(Flow::Error(LangError::script(
                "Argument is not a callable object.",
                span,
            ))),
        }
    }

    /// Calls a function value with `this` and arguments.
    pub fn call(
        &mut self,
        func: &Arc<Function>,
        this: &Value,
        args: Vec<Value>,
    ) -> Result<Value, LangError> {
        match &func.body {
            FunctionBody::Native(f) => {
                let f = f.clone();
                f(self, this, args)
            }
            FunctionBody::Script { body, closure } => {
                if args.len() < func.params.len() {
                    return Err(LangError::new(
                        ErrorKind::Script,
                        "Error while evaluating expression: Too few arguments for function"
                            .to_string(),
                        None,
                    ));
                }
                let mut frame = Frame::new(this.clone());
                if let Some(c) = closure {
                    for (k, v) in c.entries() {
                        frame.locals.insert(k, v);
                    }
                }
                for (p, a) in func.params.iter().zip(args) {
                    frame.locals.insert(p.clone(), a);
                }
                self.depth += 1;
                let r = if self.depth > MAX_DEPTH {
                    Err(Flow::Error(LangError::new(
                        ErrorKind::Script,
                        "Stack overflow while evaluating expression: Recursion level too deep.",
                        None,
                    )))
                } else {
                    self.eval(&mut frame, body)
                };
                self.depth -= 1;
                match r {
                    Ok(v) | Err(Flow::Return(v, _)) => Ok(v),
                    Err(Flow::Break(span) | Flow::Continue(span)) => {
                        Err(LangError::script("Invalid flow control statement.", span))
                    }
                    Err(Flow::Error(e)) => Err(e),
                }
            }
        }
    }

    fn for_loop(
        &mut self,
        frame: &mut Frame,
        key: Option<&Str>,
        value: &Str,
        collection: &Value,
        body: &Expr,
        span: Span,
    ) -> Eval {
        let run = |this: &mut Self, frame: &mut Frame| -> Result<bool, Flow> {
            match this.eval(frame, body) {
                Ok(_) | Err(Flow::Continue(_)) => Ok(true),
                Err(Flow::Break(_)) => Ok(false),
                Err(other) => Err(other),
            }
        };
        let script = |m: String| Flow::Error(LangError::script(m, span));
        match (collection, key) {
            // Arrays are walked live: elements added by the body are visited.
            (Value::Array(a), None) => {
                let mut i = 0;
                while let Some(item) = a.get(i) {
                    frame.locals.insert(value.clone(), item);
                    if !run(self, frame)? {
                        break;
                    }
                    i += 1;
                }
            }
            // Dictionaries: the keys as they were, the values as they are.
            (Value::Dict(d), Some(k)) => {
                for name in d.keys() {
                    let item = d.get(&name).unwrap_or_default();
                    frame.locals.insert(k.clone(), Value::String(name));
                    frame.locals.insert(value.clone(), item);
                    if !run(self, frame)? {
                        break;
                    }
                }
            }
            (Value::Namespace(ns), Some(k)) => {
                for name in ns.keys() {
                    let item = ns.get(&name).unwrap_or_default();
                    frame.locals.insert(k.clone(), Value::String(name));
                    frame.locals.insert(value.clone(), item);
                    if !run(self, frame)? {
                        break;
                    }
                }
            }
            (Value::Array(_), Some(_)) => {
                return Err(script("Cannot use dictionary iterator for array.".into()))
            }
            (Value::Dict(_), None) => {
                return Err(script("Cannot use array iterator for dictionary.".into()))
            }
            (Value::Namespace(_), None) => {
                return Err(script("Cannot use array iterator for namespace.".into()))
            }
            (other, _) => {
                return Err(script(format!(
                    "Invalid type in for expression: {}",
                    other.type_name()
                )));
            }
        }
        Ok(Value::Null)
    }

    // ----- objects ----------------------------------------------------------

    /// The evaluated name (any value names an object, in its string form)
    /// and `use (...)` captures of an `object` or `apply` statement.
    fn name_and_closure(
        &mut self,
        frame: &mut Frame,
        name: &Option<Expr>,
        captures: &Option<Vec<Capture>>,
    ) -> Result<(Str, Option<Dict>), Flow> {
        let name: Str = match name {
            Some(e) => match self.eval(frame, e)? {
                Value::String(s) => s,
                other => other.to_display().into(),
            },
            None => "".into(),
        };
        let closure = match captures {
            Some(c) => Some(self.captures(frame, c)?),
            None => None,
        };
        Ok((name, closure))
    }

    fn declare_object(
        &mut self,
        frame: &mut Frame,
        def: &Arc<ObjectDef>,
        span: Span,
    ) -> Result<(), Flow> {
        let (name, closure) = self.name_and_closure(frame, &def.name, &def.captures)?;
        let (zone, package) = (self.scope.zone.clone(), self.scope.package.clone());
        let hooks = self.hooks(span)?;
        hooks.declare_object(
            self,
            ObjectDecl {
                def: def.clone(),
                name,
                closure,
                zone,
                package,
            },
        )?;
        Ok(())
    }

    fn declare_apply(
        &mut self,
        frame: &mut Frame,
        def: &Arc<ApplyDef>,
        span: Span,
    ) -> Result<(), Flow> {
        let (name, closure) = self.name_and_closure(frame, &def.name, &def.captures)?;
        let (zone, package) = (self.scope.zone.clone(), self.scope.package.clone());
        let hooks = self.hooks(span)?;
        hooks.declare_apply(
            self,
            ApplyDecl {
                def: def.clone(),
                name,
                closure,
                zone,
                package,
            },
        )?;
        Ok(())
    }
}

/// An assignment into a namespace. `System.Configuration` refuses every
/// assignment; to one of its entries without pointing at the script, as
/// Icinga's does (that error comes from the object, which knows no
/// location).
fn set_in_namespace(ns: &Namespace, key: Str, value: Value, span: Span) -> Result<(), Flow> {
    let unlocated = ns.is_configuration() && ns.contains(&key);
    ns.set(key, value, false).map_err(|m| {
        Flow::Error(match unlocated {
            true => LangError::unlocated(m),
            false => LangError::script(m, span),
        })
    })
}
