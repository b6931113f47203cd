//! The command line of a CheckCommand: its `command`, then its `arguments`
//! in their order, with macros resolved, as Icinga 2 builds it.

use picket_lang::{Context, Interp, Value};

use crate::macros::{word, MacroError, Resolvers};
use crate::order::sort_like_icinga;

/// Why no command line could be built; the text is the check's output.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CommandLineError {
    #[error(transparent)]
    Macro(#[from] MacroError),
    #[error("Non-optional macro '{macro_name}' used in argument '{argument}' is missing.")]
    Required {
        macro_name: String,
        argument: String,
    },
}

/// One entry of `arguments`, resolved.
pub(crate) struct Argument {
    key: String,
    value: Option<Value>,
    /// Icinga keeps the order as an integer.
    pub(crate) order: i64,
    skip_key: bool,
    repeat_key: bool,
    separator: Option<String>,
}

/// A plugin's command line and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The program and its arguments; with `shell`, one string for
    /// `sh -c`, macro values quoted.
    pub argv: Vec<String>,
    pub shell: bool,
    pub env: Vec<(String, String)>,
    /// What Icinga would log as warnings while building it.
    pub warnings: Vec<String>,
}

impl CommandLine {
    /// The argv to execute: a shell command line runs as `sh -c`, with
    /// `sh` found on `PATH`, as Icinga runs it (it shows in `ps` and in
    /// the shell's own error messages).
    pub fn exec_argv(&self) -> Vec<String> {
        if self.shell {
            let mut argv = vec!["sh".to_string(), "-c".to_string()];
            argv.extend(self.argv.iter().cloned());
            argv
        } else {
            self.argv.clone()
        }
    }
}

fn field(spec: &Value, name: &str) -> Option<Value> {
    match spec {
        Value::Dict(d) => d.get(name),
        _ => None,
    }
}

fn flag(spec: &Value, name: &str, default: bool) -> bool {
    field(spec, name).map_or(default, |v| v.to_bool())
}

/// Builds the command line from a CheckCommand's `command`, `arguments`
/// and `env` for the objects in `resolvers`.
pub fn build(
    command: &Value,
    arguments: &Value,
    env: &Value,
    resolvers: &Resolvers,
    ctx: &Context,
) -> Result<CommandLine, CommandLineError> {
    let mut warnings = Vec::new();
    let (mut argv, shell) = match command {
        Value::Array(_) => match resolvers.resolve(ctx, command)?.value {
            Value::Array(items) => (items.to_vec().iter().map(word).collect(), false),
            other => (vec![word(&other)], false),
        },
        Value::Null => (Vec::new(), false),
        other => (
            vec![word(&resolvers.resolve_for_shell(ctx, other)?.value)],
            true,
        ),
    };
    let mut list = Vec::new();
    if let Value::Dict(args) = arguments {
        for (key, spec) in args.entries() {
            if let Some(arg) = resolve_argument(&key, &spec, resolvers, ctx, &mut warnings)? {
                list.push(arg);
            }
        }
    }
    sort_like_icinga(&mut list);
    let mut words = Vec::new();
    for arg in &list {
        match &arg.value {
            Some(Value::Array(items)) => {
                for (i, item) in items.to_vec().iter().enumerate() {
                    push(&mut words, arg, arg.repeat_key || i == 0, Some(item));
                }
            }
            value => push(&mut words, arg, true, value.as_ref()),
        }
    }
    if shell {
        // Arguments of a shell command line are quoted words after it.
        for w in words {
            argv[0].push(' ');
            argv[0].push_str(&crate::macros::shell_quote(&w));
        }
    } else {
        argv.extend(words);
    }
    let mut vars = Vec::new();
    if let Value::Dict(env) = env {
        for (name, value) in env.entries() {
            let resolved = resolvers.resolve(ctx, &value)?;
            vars.push((name.to_string(), word(&resolved.value)));
        }
    }
    Ok(CommandLine {
        argv,
        shell,
        env: vars,
        warnings,
    })
}

fn push(words: &mut Vec<String>, arg: &Argument, with_key: bool, value: Option<&Value>) {
    let Some(value) = value else {
        if !arg.skip_key {
            words.push(arg.key.clone());
        }
        return;
    };
    let value = word(value);
    match &arg.separator {
        _ if arg.skip_key || !with_key => words.push(value),
        Some(sep) => words.push(format!("{}{sep}{value}", arg.key)),
        None => {
            words.push(arg.key.clone());
            words.push(value);
        }
    }
}

/// Calls a function found as an argument's `value` or `set_if`.
fn call_if_function(resolvers: &Resolvers, ctx: &Context, v: Value) -> Result<Value, MacroError> {
    match v {
        Value::Function(f) => resolvers
            .call(&mut Interp::new(ctx), &f)
            .map_err(|e| MacroError::Function(e.message.clone())),
        v => Ok(v),
    }
}

fn resolve_argument(
    name: &str,
    spec: &Value,
    resolvers: &Resolvers,
    ctx: &Context,
    warnings: &mut Vec<String>,
) -> Result<Option<Argument>, CommandLineError> {
    if let Some(set_if) = field(spec, "set_if").filter(|v| !v.is_empty()) {
        let set_if = call_if_function(resolvers, ctx, set_if)?;
        let resolved = resolvers.resolve(ctx, &set_if)?;
        match set_if_value(&resolved.value) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(e) => {
                warnings.push(format!(
                    "Error evaluating set_if value '{}' used in argument '{name}': {e}",
                    word(&resolved.value)
                ));
                return Ok(None);
            }
        }
    }
    let raw_value = match spec {
        Value::Dict(_) => field(spec, "value"),
        other => Some(other.clone()),
    };
    // An empty `value` gives the key alone; one that resolves to empty
    // gives the key and an empty word.
    let value = match raw_value.filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => {
            let raw = call_if_function(resolvers, ctx, raw)?;
            let resolved = resolvers.resolve(ctx, &raw)?;
            if let Some(missing) = resolved.missing.first() {
                if flag(spec, "required", false) {
                    return Err(CommandLineError::Required {
                        macro_name: missing.clone(),
                        argument: name.to_string(),
                    });
                }
                return Ok(None);
            }
            if let Value::Dict(_) = resolved.value {
                warnings.push(format!("Tried to use dictionary in argument '{name}'."));
                return Ok(None);
            }
            Some(resolved.value)
        }
    };
    Ok(Some(Argument {
        key: field(spec, "key")
            .filter(|k| !k.is_empty())
            .map(|k| k.to_display())
            .unwrap_or_else(|| name.to_string()),
        value,
        order: field(spec, "order")
            .and_then(|o| o.to_number().ok())
            .map_or(0, |n| n.trunc() as i64),
        skip_key: flag(spec, "skip_key", false),
        repeat_key: flag(spec, "repeat_key", true),
        separator: field(spec, "separator")
            .filter(|s| !s.is_null())
            .map(|s| s.to_display()),
    }))
}

/// `set_if` as Icinga reads it: `"true"` and `"false"`, else a number,
/// truncated; anything else is an error that drops the argument.
fn set_if_value(v: &Value) -> Result<bool, String> {
    let n = match v {
        Value::String(s) if &**s == "true" => return Ok(true),
        Value::String(s) if &**s == "false" => return Ok(false),
        Value::String(s) => s
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() || s.chars().all(|c| c.is_ascii_alphabetic()))
            .ok_or_else(|| format!("Can't convert '{s}' to a floating point number."))?,
        other => other.to_number()?,
    };
    Ok(n.trunc() != 0.0)
}
