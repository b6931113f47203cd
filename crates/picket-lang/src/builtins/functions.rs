//! The global functions of the `System` and `Icinga` namespaces.

use std::net::IpAddr;
use std::sync::Arc;

use super::methods::sorted_unique;
use super::{arg, def_fn, fail, need};
use crate::error::LangError;
use crate::eval::{Context, Interp, LogRecord, Severity};
use crate::json;
use crate::perfdata;
use crate::value::{Array, Namespace, Value};
use crate::wildcard::wildcard_match;

type R = Result<Value, LangError>;

/// A type argument given as a type object or its name.
fn type_name_arg(v: &Value) -> Result<String, LangError> {
    match v {
        Value::Type(t) => Ok(t.name.to_string()),
        other @ (Value::Bool(_) | Value::Number(_) | Value::String(_)) => Err(fail(format!(
            "Cannot convert value of type '{}' to an object.",
            other.type_name()
        ))),
        Value::Null => Err(fail("Pointer must not be null: type")),
        _ => Err(fail("std::bad_cast")),
    }
}

fn match_mode(args: &[Value], i: usize) -> Result<bool, LangError> {
    // true = MatchAll (the default), false = MatchAny
    match args.get(i) {
        None | Some(Value::Null) => Ok(true),
        Some(v) => Ok(v.to_number().map_err(fail)? == 0.0),
    }
}

/// Applies `test` to a string or to every element of an array.
fn match_values(value: &Value, all: bool, test: impl Fn(&str) -> bool) -> Value {
    match value {
        Value::Array(a) => {
            let items = a.to_vec();
            if items.is_empty() {
                return Value::Bool(false);
            }
            let hit = |v: &Value| test(&v.to_display());
            Value::Bool(if all {
                items.iter().all(hit)
            } else {
                items.iter().any(hit)
            })
        }
        other => Value::Bool(test(&other.to_display())),
    }
}

fn cidr_matches(pattern: &str, ip: &str) -> Result<bool, LangError> {
    let (net, bits) = match pattern.split_once('/') {
        Some((n, b)) => (n, Some(b)),
        None => (pattern, None),
    };
    let net: IpAddr = net
        .parse()
        .map_err(|_| fail("Invalid IP address specified."))?;
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return Ok(false);
    };
    let to_v6 = |a: IpAddr| match a {
        IpAddr::V4(v4) => (v4.to_ipv6_mapped().octets(), 96u32),
        IpAddr::V6(v6) => (v6.octets(), 0u32),
    };
    let (n, offset) = to_v6(net);
    let (i, _) = to_v6(ip);
    let max = 128 - offset;
    let bits: u32 = match bits {
        Some(b) => match b.parse::<u32>() {
            Ok(b) if b <= max => b,
            _ => {
                let family = if offset == 96 { "IPv4" } else { "IPv6" };
                return Err(fail(format!(
                    "Mask must be between 0 and {max} for {family} CIDR masks."
                )));
            }
        },
        None => max,
    } + offset;
    let n = u128::from_be_bytes(n);
    let i = u128::from_be_bytes(i);
    let mask = if bits == 0 {
        0
    } else {
        u128::MAX << (128 - bits)
    };
    Ok(n & mask == i & mask)
}

/// The last element of a path, as boost's `path::filename` gives it: a
/// trailing slash names the directory itself (`.`).
fn basename(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    if path == "/" {
        return "/".into();
    }
    if path.ends_with('/') {
        return ".".into();
    }
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// Everything before the last element, as boost's `path::parent_path`.
fn dirname(path: &str) -> String {
    if path.is_empty() || path == "/" {
        return String::new();
    }
    if let Some(stripped) = path.strip_suffix('/') {
        return stripped.to_string();
    }
    match path.rfind('/') {
        None => String::new(),
        Some(0) => "/".into(),
        Some(i) => path[..i].to_string(),
    }
}

fn escape_shell_arg(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

fn escape_shell_cmd(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let escape = match c {
            '#' | '&' | ';' | '`' | '|' | '*' | '?' | '~' | '<' | '>' | '^' | '(' | ')' | '['
            | ']' | '{' | '}' | '$' | '\\' | ',' | '\n' | '\u{ff}' => true,
            // Quotes stay as they are when they come in pairs.
            '\'' | '"' => !chars[i + 1..].contains(&c) && !chars[..i].contains(&c),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn collect_glob(path: &str, kind: u32) -> Vec<Value> {
    let p = std::path::Path::new(path);
    let (dir, pattern) = match (p.parent(), p.file_name()) {
        (Some(d), Some(f)) => (d.to_path_buf(), f.to_string_lossy().into_owned()),
        _ => return Vec::new(),
    };
    let dir = if dir.as_os_str().is_empty() {
        std::path::PathBuf::from(".")
    } else {
        dir
    };
    let mut out: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| wildcard_match(&pattern, &e.file_name().to_string_lossy()))
        .filter(|e| {
            let is_dir = e.path().is_dir();
            (is_dir && kind & 2 != 0) || (!is_dir && kind & 1 != 0)
        })
        .map(|e| e.path().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out.into_iter().map(Value::from).collect()
}

fn glob_recursive(dir: &std::path::Path, pattern: &str, kind: u32, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let is_dir = p.is_dir();
        if wildcard_match(pattern, &e.file_name().to_string_lossy())
            && ((is_dir && kind & 2 != 0) || (!is_dir && kind & 1 != 0))
        {
            out.push(p.to_string_lossy().into_owned());
        }
        if is_dir {
            glob_recursive(&p, pattern, kind, out);
        }
    }
}

fn severity_of(v: &Value) -> Severity {
    match v.to_number().unwrap_or(2.0) as i64 {
        0 => Severity::Debug,
        1 => Severity::Notice,
        2 => Severity::Information,
        3 => Severity::Warning,
        _ => Severity::Critical,
    }
}

/// The text `log()` writes: strings as they are, arrays and dictionaries
/// as JSON, everything else in its string form.
fn log_text(v: &Value) -> String {
    match v {
        Value::Array(_) | Value::Dict(_) => json::encode_plain(v),
        other => other.to_display(),
    }
}

fn array_args(args: &[Value]) -> Result<Vec<Option<Vec<Value>>>, LangError> {
    args.iter()
        .map(|a| match a {
            Value::Array(a) => Ok(Some(a.to_vec())),
            Value::Null => Ok(None),
            other @ (Value::Bool(_) | Value::Number(_) | Value::String(_)) => Err(fail(format!(
                "Cannot convert value of type '{}' to an object.",
                other.type_name()
            ))),
            _ => Err(fail("std::bad_cast")),
        })
        .collect()
}

/// `union()`: every element of every array, sorted, once.
fn union(args: &[Value]) -> R {
    let all: Vec<Value> = array_args(args)?.into_iter().flatten().flatten().collect();
    Ok(Value::from(sorted_unique(all)?))
}

/// `intersection()`: like `std::set_intersection` over the sorted arrays,
/// so duplicates common to all of them stay; fewer than two arrays, or a
/// null one, give an empty result.
fn intersection(args: &[Value]) -> R {
    let arrays = array_args(args)?;
    if arrays.len() < 2 || arrays.iter().any(Option::is_none) {
        return Ok(Value::from(Vec::new()));
    }
    let sort =
        |v: Vec<Value>| super::methods::merge_sort(v, &mut |a, b| super::methods::value_less(a, b));
    let mut iter = arrays.into_iter().flatten();
    let mut result = sort(iter.next().unwrap_or_default())?;
    for next in iter {
        let other = sort(next)?;
        let (mut i, mut j, mut out) = (0, 0, Vec::new());
        while i < result.len() && j < other.len() {
            if super::methods::value_less(&result[i], &other[j])? {
                i += 1;
            } else if super::methods::value_less(&other[j], &result[i])? {
                j += 1;
            } else {
                out.push(result[i].clone());
                i += 1;
                j += 1;
            }
        }
        result = out;
    }
    Ok(Value::from(result))
}

/// A function from text to text (`basename`, `escape_shell_arg`, ...).
fn def_text_fn(system: &Namespace, name: &str, param: &str, f: fn(&str) -> String) {
    def_fn(system, "System", name, &[param], true, move |_, _, args| {
        Ok(Value::from(f(&args[0].to_display())))
    });
}

pub(super) fn install(ctx: &Context, system: &Namespace, icinga: &Namespace) {
    let _ = ctx;
    def_fn(
        system,
        "System",
        "log",
        &["severity", "facility", "value"],
        false,
        |interp, _, args| -> R {
            if args.len() != 1 && args.len() != 3 {
                return Err(fail("Invalid number of arguments for log()"));
            }
            let record = if args.len() >= 3 {
                LogRecord {
                    severity: severity_of(&args[0]),
                    facility: args[1].to_display(),
                    message: log_text(&args[2]),
                }
            } else {
                LogRecord {
                    severity: Severity::Information,
                    facility: "config".into(),
                    message: log_text(&arg(&args, 0)),
                }
            };
            interp.ctx.log(record);
            Ok(Value::Null)
        },
    );
    def_fn(
        system,
        "System",
        "typeof",
        &["value"],
        true,
        |interp, _, args| Ok(Value::Type(interp.ctx.type_of(&args[0]))),
    );
    def_fn(system, "System", "len", &["value"], true, |_, _, args| {
        Ok(Value::from(match arg(&args, 0) {
            Value::Array(a) => a.len(),
            Value::Dict(d) => d.len(),
            Value::Namespace(n) if !n.is_configuration() => n.len(),
            Value::String(s) => s.len(),
            _ => 0,
        }))
    });
    def_fn(system, "System", "keys", &["value"], true, |_, _, args| {
        let names = |keys: Vec<crate::value::Str>| {
            Value::from(keys.into_iter().map(Value::String).collect::<Vec<_>>())
        };
        match &args[0] {
            Value::Dict(d) => Ok(names(d.keys())),
            Value::Namespace(n) if !n.is_configuration() => Ok(names(n.keys())),
            Value::Null | Value::Array(_) => Ok(Value::from(Vec::new())),
            other @ (Value::Bool(_) | Value::Number(_) | Value::String(_)) => Err(fail(format!(
                "Cannot convert value of type '{}' to an object.",
                other.type_name()
            ))),
            _ => Ok(Value::from(Vec::new())),
        }
    });
    def_fn(system, "System", "bool", &["value"], true, |_, _, args| {
        Ok(Value::Bool(args[0].to_bool()))
    });
    def_fn(
        system,
        "System",
        "number",
        &["value"],
        true,
        |_, _, args| args[0].to_number().map(Value::Number).map_err(fail),
    );
    def_fn(
        system,
        "System",
        "string",
        &["value"],
        true,
        |_, _, args| Ok(Value::from(args[0].to_display())),
    );
    def_text_fn(system, "basename", "path", basename);
    def_text_fn(system, "dirname", "path", dirname);
    def_text_fn(system, "escape_shell_arg", "text", escape_shell_arg);
    def_text_fn(system, "escape_shell_cmd", "text", escape_shell_cmd);
    def_fn(system, "System", "get_time", &[], true, |_, _, _| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Ok(Value::Number(now))
    });
    def_fn(
        system,
        "System",
        "getenv",
        &["value"],
        true,
        |_, _, args| {
            Ok(Value::from(
                std::env::var(args[0].to_display()).unwrap_or_default(),
            ))
        },
    );
    def_fn(
        system,
        "System",
        "path_exists",
        &["path"],
        false,
        |_, _, args| {
            Ok(Value::Bool(
                std::path::Path::new(&args[0].to_display()).exists(),
            ))
        },
    );
    def_fn(
        system,
        "System",
        "glob",
        &["pathspec", "type"],
        false,
        |_, _, args| {
            need(&args, 1)?;
            let kind = match args.get(1) {
                Some(v) => v.to_number().map_err(fail)? as u32,
                None => 3,
            };
            Ok(Value::from(collect_glob(&args[0].to_display(), kind)))
        },
    );
    def_fn(
        system,
        "System",
        "glob_recursive",
        &["pathspec", "pattern", "type"],
        false,
        |_, _, args| {
            need(&args, 2)?;
            let kind = match args.get(2) {
                Some(v) => v.to_number().map_err(fail)? as u32,
                None => 3,
            };
            let mut out = Vec::new();
            glob_recursive(
                std::path::Path::new(&args[0].to_display()),
                &args[1].to_display(),
                kind,
                &mut out,
            );
            Ok(Value::from(
                out.into_iter().map(Value::from).collect::<Vec<_>>(),
            ))
        },
    );
    def_fn(
        system,
        "System",
        "match",
        &["pattern", "text", "mode"],
        true,
        |_, _, args| {
            if args.len() < 2 {
                return Err(fail("Pattern and text must be specified for match()."));
            }
            if matches!(args[1], Value::Dict(_)) {
                return Err(fail("Dictionaries are not supported by match()."));
            }
            let pattern = args[0].to_display();
            let all = match_mode(&args, 2)?;
            Ok(match_values(&args[1], all, |s| {
                crate::wildcard::match_ignore_case(&pattern, s)
            }))
        },
    );
    def_fn(
        system,
        "System",
        "regex",
        &["pattern", "text", "mode"],
        true,
        |_, _, args| {
            if args.len() < 2 {
                return Err(fail(
                    "Regular expression and text must be specified for regex().",
                ));
            }
            if matches!(args[1], Value::Dict(_)) {
                return Err(fail("Dictionaries are not supported by regex()."));
            }
            let pattern = args[0].to_display();
            let re = regex::Regex::new(&pattern)
                .map_err(|e| fail(format!("Invalid regex '{pattern}': {e}")))?;
            let all = match_mode(&args, 2)?;
            Ok(match_values(&args[1], all, |s| re.is_match(s)))
        },
    );
    def_fn(
        system,
        "System",
        "cidr_match",
        &["pattern", "ip", "mode"],
        true,
        |_, _, args| {
            need(&args, 2)?;
            let pattern = args[0].to_display();
            cidr_matches(&pattern, "::")?;
            let all = match_mode(&args, 2)?;
            Ok(match_values(&args[1], all, |s| {
                cidr_matches(&pattern, s).unwrap_or(false)
            }))
        },
    );
    def_fn(
        system,
        "System",
        "range",
        &["start", "end", "increment"],
        false,
        |_, _, args| {
            let nums: Vec<f64> = args
                .iter()
                .map(|a| a.to_number().map_err(fail))
                .collect::<Result<_, _>>()?;
            let (start, end, step) = match nums.as_slice() {
                [end] => (0.0, *end, 1.0),
                [start, end] => (*start, *end, 1.0),
                [start, end, step] => (*start, *end, *step),
                _ => return Err(fail("Invalid number of arguments for range()")),
            };
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
                out.push(Value::Number(x));
                x += step;
                if out.len() > 10_000_000 {
                    return Err(fail("Range is too large."));
                }
            }
            Ok(Value::from(out))
        },
    );
    def_fn(system, "System", "union", &[""], true, |_, _, args| {
        union(&args)
    });
    def_fn(
        system,
        "System",
        "intersection",
        &[""],
        true,
        |_, _, args| intersection(&args),
    );
    def_fn(system, "System", "random", &[], true, |_, _, _| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        Ok(Value::Number(
            (nanos as u64 * 2_654_435_761 % 2_147_483_647) as f64,
        ))
    });
    def_fn(
        system,
        "System",
        "sleep",
        &["interval"],
        false,
        |_, _, args| {
            let secs = arg(&args, 0).to_number().map_err(fail)?;
            if secs > 0.0 && secs.is_finite() {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
            }
            Ok(Value::Null)
        },
    );
    def_fn(
        system,
        "System",
        "assert",
        &["value"],
        false,
        |_, _, args| {
            if arg(&args, 0).to_bool() {
                Ok(Value::Null)
            } else {
                Err(fail("Assertion failed"))
            }
        },
    );
    def_fn(system, "System", "exit", &["code"], false, |_, _, args| {
        Err(fail(format!(
            "exit({}) called while loading the configuration",
            arg(&args, 0).to_display()
        )))
    });
    def_fn(system, "System", "ptr", &["object"], false, |_, _, args| {
        let p = match arg(&args, 0) {
            Value::Array(a) => a.len() as f64,
            _ => 0.0,
        };
        Ok(Value::Number(p))
    });
    def_fn(
        system,
        "System",
        "track_parents",
        &["child"],
        true,
        |_, _, _| Ok(Value::from(Vec::new())),
    );
    def_fn(
        system,
        "System",
        "msi_get_component_path",
        &["component"],
        true,
        |_, _, _| Ok(Value::str("")),
    );
    def_fn(
        system,
        "System",
        "parse_performance_data",
        &["pd"],
        false,
        |_, _, args| {
            perfdata::parse_value(&args[0].to_display())
                .map(|p| p.to_value())
                .map_err(fail)
        },
    );

    let json_ns = Namespace::new(true);
    def_fn(
        &json_ns,
        "Json",
        "encode",
        &["value"],
        true,
        |_, _, args| Ok(Value::from(json::encode_plain(&arg(&args, 0)))),
    );
    def_fn(
        &json_ns,
        "Json",
        "decode",
        &["value"],
        true,
        |_, _, args| json::decode(&arg(&args, 0).to_display()).map_err(fail),
    );
    json_ns.freeze();
    system.force_set("Json", Value::Namespace(json_ns), true);

    def_fn(
        system,
        "System",
        "get_object",
        &["type", "name"],
        true,
        |interp, _, args| {
            let t = match &args[0] {
                Value::Type(t) => t.name.to_string(),
                other => other.to_display(),
            };
            Ok(find_object(interp, &t, &args[1].to_display()).unwrap_or_default())
        },
    );
    def_fn(
        system,
        "System",
        "get_objects",
        &["type"],
        true,
        |interp, _, args| {
            let t = type_name_arg(&args[0])?;
            Ok(Value::from(find_objects(interp, &t)))
        },
    );
    def_fn(
        system,
        "System",
        "get_template",
        &["type", "name"],
        true,
        |interp, _, args| {
            let t = type_name_arg(&args[0])?;
            Ok(hooks_of(interp)
                .and_then(|h| h.get_template(&t, &args[1].to_display(), &interp.ctx.sources))
                .unwrap_or_default())
        },
    );
    def_fn(
        system,
        "System",
        "get_templates",
        &["type"],
        true,
        |interp, _, args| {
            let t = type_name_arg(&args[0])?;
            Ok(Value::from(
                hooks_of(interp)
                    .map(|h| h.get_templates(&t, &interp.ctx.sources))
                    .unwrap_or_default(),
            ))
        },
    );

    for (fname, tname) in [
        ("get_check_command", "CheckCommand"),
        ("get_event_command", "EventCommand"),
        ("get_notification_command", "NotificationCommand"),
        ("get_host", "Host"),
        ("get_host_group", "HostGroup"),
        ("get_service_group", "ServiceGroup"),
        ("get_time_period", "TimePeriod"),
        ("get_user", "User"),
        ("get_user_group", "UserGroup"),
    ] {
        def_fn(
            icinga,
            "Icinga",
            fname,
            &["name"],
            false,
            move |interp, _, args| {
                Ok(find_object(interp, tname, &args[0].to_display()).unwrap_or_default())
            },
        );
    }
    def_fn(
        icinga,
        "Icinga",
        "get_service",
        &["host", "name"],
        false,
        |interp, _, args| {
            let host = match &args[0] {
                Value::Object(o) => o
                    .get_field("name")
                    .map(|v| v.to_display())
                    .unwrap_or_default(),
                other => other.to_display(),
            };
            let full = format!("{host}!{}", args[1].to_display());
            Ok(find_object(interp, "Service", &full).unwrap_or_default())
        },
    );
    def_fn(
        icinga,
        "Icinga",
        "get_services",
        &["host"],
        false,
        |interp, _, args| {
            let host = match &args[0] {
                Value::Object(o) => o
                    .get_field("name")
                    .map(|v| v.to_display())
                    .unwrap_or_default(),
                other => other.to_display(),
            };
            if find_object(interp, "Host", &host).is_none() {
                return Ok(Value::Null);
            }
            let services: Vec<Value> = find_objects(interp, "Service")
                .into_iter()
                .filter(|s| match s {
                    Value::Object(o) => o
                        .get_field("host_name")
                        .is_some_and(|h| h.to_display() == host),
                    _ => false,
                })
                .collect();
            Ok(Value::Array(Array::new(services)))
        },
    );
}

fn hooks_of(interp: &Interp<'_>) -> Option<Arc<dyn crate::eval::ConfigHooks>> {
    interp.ctx.hooks()
}

/// An object by type and name: live when the interpreter has a running
/// node's objects, else from the configuration.
fn find_object(interp: &Interp<'_>, type_name: &str, name: &str) -> Option<Value> {
    match &interp.live {
        Some(live) => live.get_object(type_name, name),
        None => hooks_of(interp)?.get_object(type_name, name),
    }
}

fn find_objects(interp: &Interp<'_>, type_name: &str) -> Vec<Value> {
    match &interp.live {
        Some(live) => live.get_objects(type_name),
        None => hooks_of(interp)
            .map(|h| h.get_objects(type_name))
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts() {
        assert_eq!(basename("/etc/icinga2/scripts/x.pl"), "x.pl");
        assert_eq!(dirname("/etc/icinga2/scripts/x.pl"), "/etc/icinga2/scripts");
        assert_eq!(dirname("x"), "");
        assert_eq!(dirname("/x"), "/");
        assert_eq!(basename("/etc/icinga2/"), ".");
        assert_eq!(dirname("/etc/icinga2/"), "/etc/icinga2");
    }

    #[test]
    fn shell_escapes() {
        assert_eq!(
            escape_shell_arg("'$host.name$' '$service.name$'"),
            "''\\''$host.name$'\\'' '\\''$service.name$'\\'''"
        );
        assert_eq!(
            escape_shell_cmd("/bin/echo 'shell test' $ENV"),
            "/bin/echo 'shell test' \\$ENV"
        );
    }

    #[test]
    fn cidr() {
        assert!(cidr_matches("192.168.56.0/24", "192.168.56.101").unwrap_or(false));
        assert!(!cidr_matches("192.168.56.0/26", "192.168.56.101").unwrap_or(true));
        assert!(cidr_matches("2001:db8::/32", "2001:db8:1::1").unwrap_or(false));
    }
}
