//! Runtime macros (`$host.name$`, `$address$`, `$service.vars.x$`,
//! `$icinga.timet$`) resolved against the objects of a check, in Icinga
//! 2's order: the service, the host, the command, then the global `Vars`.
//!
//! A macro qualified with an object's name (`host.`) is looked up only
//! there, by walking fields and dictionary keys; an unqualified one is
//! looked up first among each object's custom variables and then among its
//! fields. A value that came from a custom variable may itself hold macros
//! and is resolved again. Functions (`{{ ... }}`) are called with `macro()`
//! and `resolve_arguments()` in reach, as Icinga calls them.

use std::sync::Arc;

use picket_lang::function::Function;
use picket_lang::{Context, Interp};
use picket_lang::{Dict, LangError, Value};

/// How deep custom variables may refer to each other through macros.
const MAX_RECURSION: usize = 15;

/// Why a macro string could not be resolved.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum MacroError {
    #[error("Closing $ not found in macro format string.")]
    Unterminated,
    #[error("Mixing both strings and non-strings in macros is not allowed.")]
    Mixed,
    #[error("Infinite recursion detected while resolving macros")]
    Recursion,
    #[error("{0}")]
    Function(String),
}

/// One object macros are looked up in, under the name that qualifies it.
#[derive(Clone)]
pub struct Source {
    pub name: &'static str,
    pub object: Value,
}

/// Values of `$icinga.*$` macros computed at the time of the check.
pub trait Runtime: Send + Sync {
    fn icinga(&self, name: &str) -> Option<Value>;
}

/// The objects of one check, in lookup order. Functions and the global
/// `Vars` come from the configuration's evaluation context, given with each
/// call.
#[derive(Clone)]
pub struct Resolvers {
    pub sources: Vec<Source>,
    pub runtime: Option<Arc<dyn Runtime>>,
}

/// A resolved value, and the macros that were not defined.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub value: Value,
    pub missing: Vec<String>,
}

/// One step of a macro path: a dictionary key or an object's field; an
/// absent one is missing. Stepping past an empty value (an object without
/// `vars`) gives an empty value, not a missing one, as in Icinga.
fn field(object: &Value, name: &str) -> Option<Value> {
    match object {
        Value::Dict(d) => d.get(name),
        Value::Object(o) => o.get_field(name),
        Value::Namespace(n) => n.get(name),
        Value::Null => Some(Value::Null),
        _ => None,
    }
}

/// How macro values are put into a string: as they are, or quoted for the
/// shell (a CheckCommand whose `command` is one string runs through
/// `sh -c`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    None,
    Shell,
}

/// A value as one word: arrays joined with `;`, as Icinga joins them when
/// it turns them into an argument or an environment variable.
pub fn word(value: &Value) -> String {
    match value {
        Value::Array(a) => a.to_vec().iter().map(word).collect::<Vec<_>>().join(";"),
        other => other.to_display(),
    }
}

/// Single-quotes `s` for `sh`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// One resolution under way: where functions run, and the macros found
/// missing so far.
struct Pass<'a, 'c> {
    interp: &'a mut Interp<'c>,
    missing: Vec<String>,
}

impl Resolvers {
    /// Looks a macro name up; the flag says whether the value came from a
    /// custom variable (and so may hold macros itself).
    pub fn lookup(&self, ctx: &Context, name: &str) -> Option<(Value, bool)> {
        let mut tokens: Vec<&str> = name.split('.').collect();
        let qualifier = (tokens.len() > 1)
            .then(|| self.sources.iter().find(|s| s.name == tokens[0]))
            .flatten()
            .map(|s| s.name);
        if qualifier.is_some() {
            tokens.remove(0);
        }
        for source in &self.sources {
            if let Some(q) = qualifier {
                if q != source.name {
                    continue;
                }
            } else if let Some(Value::Dict(vars)) = field(&source.object, "vars") {
                if let Some(v) = vars.get(name) {
                    return Some((v, true));
                }
            }
            if source.name == "icinga" {
                if let Some(v) = self
                    .runtime
                    .as_ref()
                    .and_then(|r| r.icinga(&tokens.join(".")))
                {
                    return Some((v, false));
                }
            }
            let mut current = source.object.clone();
            let mut found = true;
            for (i, token) in tokens.iter().enumerate() {
                // The source itself is an object even when it is given as
                // a dictionary: its unknown fields are missing.
                let step = match &current {
                    Value::Null if i == 0 => None,
                    other => field(other, token),
                };
                match step {
                    Some(v) => current = v,
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if found {
                let from_vars = tokens.first() == Some(&"vars");
                return Some((current, from_vars));
            }
        }
        if qualifier.is_none() {
            if let Some(Value::Dict(vars)) = ctx.globals.get("Vars") {
                if let Some(v) = vars.get(name) {
                    return Some((v, true));
                }
            }
        }
        None
    }

    /// Resolves a value: strings have their macros replaced, arrays and
    /// dictionaries element by element. Functions are left as they are:
    /// only those found as a macro's value are called.
    pub fn resolve(&self, ctx: &Context, value: &Value) -> Result<Resolved, MacroError> {
        self.resolve_with(&mut Interp::new(ctx), value, Escape::None)
    }

    /// [`Resolvers::resolve`] with macro values quoted for the shell.
    pub fn resolve_for_shell(&self, ctx: &Context, value: &Value) -> Result<Resolved, MacroError> {
        self.resolve_with(&mut Interp::new(ctx), value, Escape::Shell)
    }

    fn resolve_with(
        &self,
        interp: &mut Interp<'_>,
        value: &Value,
        escape: Escape,
    ) -> Result<Resolved, MacroError> {
        let mut pass = Pass {
            interp,
            missing: Vec::new(),
        };
        let value = self.resolve_value(&mut pass, value, 0, escape)?;
        Ok(Resolved {
            value,
            missing: pass.missing,
        })
    }

    fn resolve_value(
        &self,
        pass: &mut Pass<'_, '_>,
        value: &Value,
        depth: usize,
        escape: Escape,
    ) -> Result<Value, MacroError> {
        match value {
            Value::String(s) => self.resolve_string(pass, s, depth, escape),
            Value::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for v in a.to_vec() {
                    out.push(self.resolve_value(pass, &v, depth, escape)?);
                }
                Ok(Value::from(out))
            }
            Value::Dict(d) => {
                let out = Dict::new();
                for (k, v) in d.entries() {
                    out.insert(k, self.resolve_value(pass, &v, depth, escape)?);
                }
                Ok(Value::Dict(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// The value of one macro, with functions called and custom variables
    /// resolved again; arrays come back as arrays of strings.
    fn macro_value(
        &self,
        pass: &mut Pass<'_, '_>,
        name: &str,
        depth: usize,
    ) -> Result<Option<Value>, MacroError> {
        let Some((value, from_vars)) = self.lookup(pass.interp.ctx, name) else {
            return Ok(None);
        };
        let value = match value {
            Value::Function(f) => self
                .call(pass.interp, &f)
                .map_err(|e| MacroError::Function(e.message.clone()))?,
            v => v,
        };
        Ok(Some(match value {
            Value::String(s) if from_vars => {
                self.resolve_string(pass, &s, depth + 1, Escape::None)?
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.to_vec() {
                    let item = match item {
                        Value::String(s) => {
                            self.resolve_string(pass, &s, depth + 1, Escape::None)?
                        }
                        other => other,
                    };
                    out.push(Value::from(word(&item).as_str()));
                }
                Value::from(out)
            }
            other => other,
        }))
    }

    fn resolve_string(
        &self,
        pass: &mut Pass<'_, '_>,
        text: &str,
        depth: usize,
        escape: Escape,
    ) -> Result<Value, MacroError> {
        if depth > MAX_RECURSION {
            return Err(MacroError::Recursion);
        }
        let put = |out: &mut String, s: &str| match escape {
            Escape::None => out.push_str(s),
            Escape::Shell => out.push_str(&shell_quote(s)),
        };
        let mut out = String::new();
        let mut rest = text;
        let mut first = true;
        while let Some(start) = rest.find('$') {
            let after = &rest[start + 1..];
            let Some(len) = after.find('$') else {
                return Err(MacroError::Unterminated);
            };
            let name = &after[..len];
            let whole = first && start == 0 && len + 2 == rest.len();
            first = false;
            out.push_str(&rest[..start]);
            rest = &after[len + 1..];
            if name.is_empty() {
                put(&mut out, "$");
                continue;
            }
            let value = match self.macro_value(pass, name, depth)? {
                Some(v) => v,
                None => {
                    pass.missing.push(name.to_string());
                    Value::Null
                }
            };
            match value {
                Value::Array(items) if escape == Escape::Shell => {
                    let quoted: Vec<String> = items
                        .to_vec()
                        .iter()
                        .map(|i| shell_quote(&word(i)))
                        .collect();
                    out.push_str(&quoted.join(" "));
                }
                // A string that is only one macro takes the macro's value as
                // it is, so that arrays and dictionaries reach the
                // arguments; an array inside other text is refused.
                v @ (Value::Array(_) | Value::Dict(_)) if whole && escape == Escape::None => {
                    return Ok(v)
                }
                Value::Array(_) => return Err(MacroError::Mixed),
                v if whole && escape == Escape::None => return Ok(v),
                v => put(&mut out, &v.to_display()),
            }
        }
        out.push_str(rest);
        Ok(Value::from(out.as_str()))
    }

    /// Calls a configuration function with `macro` and
    /// `resolve_arguments` as fields of `this`.
    pub fn call(&self, interp: &mut Interp<'_>, f: &Arc<Function>) -> Result<Value, LangError> {
        let this = Dict::new();
        let me = self.clone();
        this.insert(
            "macro",
            Value::Function(Function::native(
                "macro",
                &["str"],
                false,
                move |interp, _, args| {
                    let arg = args.into_iter().next().unwrap_or_default();
                    me.resolve_with(interp, &arg, Escape::None)
                        .map(|r| r.value)
                        .map_err(|e| {
                            LangError::new(picket_lang::ErrorKind::Script, e.to_string(), None)
                        })
                },
            )),
        );
        interp.call(f, &Value::Dict(this), Vec::new())
    }
}

/// `$icinga.timet$` and the date and time macros, from the clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct Clock;

impl Runtime for Clock {
    fn icinga(&self, name: &str) -> Option<Value> {
        let now = chrono::Local::now();
        let text = |f: &str| Some(Value::from(now.format(f).to_string().as_str()));
        match name {
            "timet" => Some(Value::Number(now.timestamp() as f64)),
            "long_date_time" => text("%Y-%m-%d %H:%M:%S %z"),
            "short_date_time" => text("%Y-%m-%d %H:%M:%S"),
            "date" => text("%Y-%m-%d"),
            "time" => text("%H:%M:%S %z"),
            _ => None,
        }
    }
}
