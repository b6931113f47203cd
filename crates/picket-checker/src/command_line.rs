//! The command line of a CheckCommand: its `command`, then its `arguments`
//! in their order, with macros resolved, as Icinga 2 builds it.

use picket_lang::Value;

use crate::macros::{MacroError, Resolvers};

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
struct Argument {
    key: String,
    value: Option<Value>,
    order: f64,
    skip_key: bool,
    repeat_key: bool,
    separator: Option<String>,
}

/// A plugin's argv and environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
}

fn flag(spec: &Value, name: &str, default: bool) -> bool {
    match spec {
        Value::Dict(d) => d.get(name).map_or(default, |v| v.to_bool()),
        _ => default,
    }
}

/// Builds the command line of `command` (`command`, `arguments` and `env`
/// attributes given as values) for the objects in `resolvers`.
pub fn build(
    command: &Value,
    arguments: &Value,
    env: &Value,
    resolvers: &Resolvers,
) -> Result<CommandLine, CommandLineError> {
    let mut argv: Vec<String> = match &resolvers.resolve(command)?.value {
        Value::Array(a) => a.to_vec().iter().map(Value::to_display).collect(),
        other => vec![other.to_display()],
    };
    let mut list = Vec::new();
    if let Value::Dict(args) = arguments {
        for (key, spec) in args.entries() {
            if let Some(arg) = resolve_argument(&key, &spec, resolvers)? {
                list.push(arg);
            }
        }
    }
    // Stable: equal orders keep the dictionary's (sorted) key order.
    list.sort_by(|a, b| a.order.total_cmp(&b.order));
    for arg in list {
        match &arg.value {
            Some(Value::Array(items)) => {
                for (i, item) in items.to_vec().iter().enumerate() {
                    let with_key = arg.repeat_key || i == 0;
                    push(&mut argv, &arg, with_key, Some(item));
                }
            }
            Some(v) => push(&mut argv, &arg, true, Some(v)),
            None => push(&mut argv, &arg, true, None),
        }
    }
    let mut vars = Vec::new();
    if let Value::Dict(env) = env {
        for (name, value) in env.entries() {
            let resolved = resolvers.resolve(&value)?;
            vars.push((name.to_string(), resolved.value.to_display()));
        }
    }
    Ok(CommandLine { argv, env: vars })
}

fn push(argv: &mut Vec<String>, arg: &Argument, with_key: bool, value: Option<&Value>) {
    let value = value.map(Value::to_display);
    match (&arg.separator, value) {
        (_, None) => {
            if !arg.skip_key {
                argv.push(arg.key.clone());
            }
        }
        (_, Some(v)) if arg.skip_key || !with_key => argv.push(v),
        (Some(sep), Some(v)) => argv.push(format!("{}{sep}{v}", arg.key)),
        (None, Some(v)) => {
            argv.push(arg.key.clone());
            argv.push(v);
        }
    }
}

fn resolve_argument(
    name: &str,
    spec: &Value,
    resolvers: &Resolvers,
) -> Result<Option<Argument>, CommandLineError> {
    let get = |field: &str| match spec {
        Value::Dict(d) => d.get(field),
        _ => None,
    };
    if let Some(set_if) = get("set_if") {
        let resolved = resolvers.resolve(&set_if)?;
        if !resolved.missing.is_empty() || !truthy(&resolved.value) {
            return Ok(None);
        }
    }
    let raw_value = match spec {
        Value::Dict(_) => get("value"),
        other => Some(other.clone()),
    };
    let value = match raw_value {
        None => None,
        Some(raw) => {
            let resolved = resolvers.resolve(&raw)?;
            if let Some(missing) = resolved.missing.first() {
                if flag(spec, "required", false) {
                    return Err(CommandLineError::Required {
                        macro_name: missing.clone(),
                        argument: name.to_string(),
                    });
                }
                return Ok(None);
            }
            Some(resolved.value)
        }
    };
    Ok(Some(Argument {
        key: get("key")
            .filter(|k| !k.is_empty())
            .map(|k| k.to_display())
            .unwrap_or_else(|| name.to_string()),
        value,
        order: get("order").and_then(|o| o.to_number().ok()).unwrap_or(0.0),
        skip_key: flag(spec, "skip_key", false),
        repeat_key: flag(spec, "repeat_key", true),
        separator: get("separator")
            .filter(|s| !s.is_empty())
            .map(|s| s.to_display()),
    }))
}

/// `set_if` as Icinga reads it: a number, or a string that is one.
fn truthy(v: &Value) -> bool {
    match v {
        Value::String(s) => s.parse::<f64>().map(|n| n != 0.0).unwrap_or(!s.is_empty()),
        other => other.to_bool(),
    }
}
