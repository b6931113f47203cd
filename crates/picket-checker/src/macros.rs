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
    #[error("Closing $ not found in macro format string '{0}'.")]
    Unterminated(String),
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

/// The objects of one check, in lookup order, with the configuration's
/// evaluation context for functions and the global `Vars`.
#[derive(Clone)]
pub struct Resolvers {
    pub sources: Vec<Source>,
    pub ctx: Arc<Context>,
    pub runtime: Option<Arc<dyn Runtime>>,
}

/// A resolved value, and the macros that were not defined.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub value: Value,
    pub missing: Vec<String>,
}

fn field(object: &Value, name: &str) -> Option<Value> {
    match object {
        Value::Dict(d) => d.get(name),
        Value::Object(o) => o.get_field(name).filter(|v| !v.is_null()),
        Value::Namespace(n) => n.get(name),
        _ => None,
    }
}

impl Resolvers {
    /// Looks a macro name up; the flag says whether the value came from a
    /// custom variable (and so may hold macros itself).
    pub fn lookup(&self, name: &str) -> Option<(Value, bool)> {
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
            } else if let Some(v) =
                field(&source.object, "vars").and_then(|vars| field(&vars, name))
            {
                return Some((v, true));
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
            for token in &tokens {
                match field(&current, token) {
                    Some(v) => current = v,
                    None => {
                        found = false;
                        break;
                    }
                }
            }
            if found {
                return Some((
                    current,
                    qualifier.is_some() && tokens.first() == Some(&"vars"),
                ));
            }
        }
        if qualifier.is_none() {
            if let Some(v) = self
                .ctx
                .globals
                .get("Vars")
                .and_then(|vars| field(&vars, name))
            {
                return Some((v, true));
            }
        }
        None
    }

    /// Resolves a value: strings have their macros replaced, arrays and
    /// dictionaries element by element, functions are called.
    pub fn resolve(&self, value: &Value) -> Result<Resolved, MacroError> {
        let mut missing = Vec::new();
        let value = self.resolve_value(value, &mut missing, 0)?;
        Ok(Resolved { value, missing })
    }

    fn resolve_value(
        &self,
        value: &Value,
        missing: &mut Vec<String>,
        depth: usize,
    ) -> Result<Value, MacroError> {
        if depth > MAX_RECURSION {
            return Err(MacroError::Recursion);
        }
        match value {
            Value::String(s) => self.resolve_string(s, missing, depth),
            Value::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for v in a.to_vec() {
                    out.push(self.resolve_value(&v, missing, depth)?);
                }
                Ok(Value::from(out))
            }
            Value::Dict(d) => {
                let out = Dict::new();
                for (k, v) in d.entries() {
                    out.insert(k, self.resolve_value(&v, missing, depth)?);
                }
                Ok(Value::Dict(out))
            }
            Value::Function(f) => {
                let v = self
                    .call(f)
                    .map_err(|e| MacroError::Function(e.message.clone()))?;
                self.resolve_value(&v, missing, depth + 1)
            }
            other => Ok(other.clone()),
        }
    }

    fn resolve_string(
        &self,
        text: &str,
        missing: &mut Vec<String>,
        depth: usize,
    ) -> Result<Value, MacroError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find('$') {
            let after = &rest[start + 1..];
            let Some(len) = after.find('$') else {
                return Err(MacroError::Unterminated(text.to_string()));
            };
            let name = &after[..len];
            out.push_str(&rest[..start]);
            rest = &after[len + 1..];
            if name.is_empty() {
                out.push('$');
                continue;
            }
            let value = match self.lookup(name) {
                Some((v, from_vars)) => {
                    let v = match v {
                        Value::Function(f) => self
                            .call(&f)
                            .map_err(|e| MacroError::Function(e.message.clone()))?,
                        v => v,
                    };
                    if from_vars {
                        self.resolve_value(&v, missing, depth + 1)?
                    } else {
                        v
                    }
                }
                None => {
                    missing.push(name.to_string());
                    Value::Null
                }
            };
            // A string that is only one macro takes the macro's value as it
            // is, so that arrays and dictionaries reach the arguments.
            if out.is_empty() && rest.is_empty() && start == 0 {
                return Ok(value);
            }
            out.push_str(&value.to_display());
        }
        out.push_str(rest);
        Ok(Value::from(out.as_str()))
    }

    /// Calls a configuration function with `macro` and
    /// `resolve_arguments` as fields of `this`.
    pub fn call(&self, f: &Arc<Function>) -> Result<Value, LangError> {
        let this = Dict::new();
        let me = self.clone();
        this.insert(
            "macro",
            Value::Function(Function::native(
                "macro",
                &["str"],
                false,
                move |_, _, args| {
                    let arg = args.into_iter().next().unwrap_or_default();
                    me.resolve(&arg).map(|r| r.value).map_err(|e| {
                        LangError::new(picket_lang::ErrorKind::Script, e.to_string(), None)
                    })
                },
            )),
        );
        let mut interp = Interp::new(&self.ctx);
        interp.call(f, &Value::Dict(this), Vec::new())
    }
}
