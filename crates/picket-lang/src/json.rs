//! JSON encoding and decoding as Icinga does it.
//!
//! Encoding is written here rather than through serde because Icinga's output
//! has its own rules: integral numbers without a fraction, functions, types
//! and objects serialised as dictionaries of their fields, keys sorted.

use std::collections::BTreeMap;

use crate::value::{Array, Dict, Value};

/// How values that are neither scalars nor containers are written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// As dictionaries of their fields: what the console, the objects file
    /// and the API show (a function is `{"arguments": [...], ...}`).
    Serialize,
    /// As their string form: what `Json.encode()` and `log()` write
    /// (`"Object of type 'Function'"`).
    Plain,
    /// As their configuration attributes: what the objects file and
    /// `object list` show (a type is only `{"type": "Type"}`).
    Config,
}

/// Encodes a value as compact JSON, objects as their fields.
pub fn encode(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, None, 0, Mode::Serialize);
    out
}

/// Encodes a value as indented JSON (`pretty`), four spaces per level.
pub fn encode_pretty(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, Some(4), 0, Mode::Serialize);
    out
}

/// Encodes a value as the objects file shows attribute values.
pub fn encode_config(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, None, 0, Mode::Config);
    out
}

/// Encodes a value as `Json.encode()` does: functions, types, dates and
/// other objects as their string form.
pub fn encode_plain(value: &Value) -> String {
    let mut out = String::new();
    write(&mut out, value, None, 0, Mode::Plain);
    out
}

/// Formats a number for JSON as Icinga does: integral values that fit a
/// 64-bit integer without a fraction, others in the shortest form that reads
/// back as the same number, switching to exponent notation below 1e-4 and
/// from 1e15 on (`1e-07`, `1.0000000000000005e+15`).
pub fn number(n: f64) -> String {
    if !n.is_finite() {
        return "null".into();
    }
    if n.fract() == 0.0 && (-9223372036854775808.0..18446744073709551616.0).contains(&n) {
        return if n < 0.0 {
            format!("{}", n as i64)
        } else {
            format!("{}", n as u64)
        };
    }
    // Shortest digits and decimal exponent, from Rust's `{:e}`.
    let sci = format!("{:e}", n.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let exp: i32 = exp.parse().unwrap_or(0);
    // Position of the decimal point relative to the digits.
    let point = exp + 1;
    let k = digits.len() as i32;
    let sign = if n < 0.0 { "-" } else { "" };
    let body = if 0 < point && point <= 15 {
        if k <= point {
            format!("{digits}{}.0", "0".repeat((point - k) as usize))
        } else {
            format!(
                "{}.{}",
                &digits[..point as usize],
                &digits[point as usize..]
            )
        }
    } else if -4 < point && point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let e = point - 1;
        let m = if k == 1 {
            digits.clone()
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
    };
    format!("{sign}{body}")
}

/// Writes a JSON string: ASCII only, everything else as `\uXXXX` escapes
/// (UTF-16 surrogate pairs beyond the basic plane).
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c as u32 >= 0x7f => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(w) = indent {
        out.push('\n');
        out.push_str(&" ".repeat(w * level));
    }
}

fn write_entries(
    out: &mut String,
    entries: &[(impl AsRef<str>, Value)],
    indent: Option<usize>,
    level: usize,
    mode: Mode,
) {
    out.push('{');
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        newline(out, indent, level + 1);
        write_str(out, k.as_ref());
        out.push(':');
        if indent.is_some() {
            out.push(' ');
        }
        write(out, v, indent, level + 1, mode);
    }
    if !entries.is_empty() {
        newline(out, indent, level);
    }
    out.push('}');
}

fn write(out: &mut String, value: &Value, indent: Option<usize>, level: usize, mode: Mode) {
    stacker::maybe_grow(crate::eval::RED_ZONE, crate::eval::STACK_CHUNK, || {
        write_inner(out, value, indent, level, mode)
    })
}

fn write_inner(out: &mut String, value: &Value, indent: Option<usize>, level: usize, mode: Mode) {
    let configuration = matches!(value, Value::Namespace(ns) if ns.is_configuration());
    if mode == Mode::Plain
        && (configuration
            || matches!(
                value,
                Value::Function(_) | Value::Type(_) | Value::Object(_)
            ))
    {
        write_str(out, &value.to_display());
        return;
    }
    if mode == Mode::Config && matches!(value, Value::Type(_)) {
        out.push_str("{\"type\":\"Type\"}");
        return;
    }
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&number(*n)),
        Value::String(s) => write_str(out, s),
        Value::Array(a) => {
            let items = a.to_vec();
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write(out, item, indent, level + 1, mode);
            }
            if !items.is_empty() {
                newline(out, indent, level);
            }
            out.push(']');
        }
        Value::Dict(d) => write_entries(out, &d.entries(), indent, level, mode),
        Value::Namespace(ns) if configuration => {
            let mut entries = ns.entries();
            entries.push(("type".into(), Value::str("Configuration")));
            write_entries(out, &entries, indent, level, mode)
        }
        Value::Namespace(ns) => write_entries(out, &ns.entries(), indent, level, mode),
        Value::Function(f) => write_entries(out, &f.fields(), indent, level, mode),
        Value::Type(t) => {
            let entries: Vec<(&str, Value)> = vec![
                (
                    "base",
                    t.base
                        .as_ref()
                        .map(|b| Value::Type(b.clone()))
                        .unwrap_or(Value::Null),
                ),
                ("name", Value::String(t.name.clone())),
                (
                    "prototype",
                    t.prototype.clone().map_or(Value::Null, Value::Dict),
                ),
                ("type", Value::str("Type")),
            ];
            write_entries(out, &entries, indent, level, mode)
        }
        Value::Object(o) => write_entries(out, &o.fields(), indent, level, mode),
    }
}

/// Decodes JSON text into a value; dictionaries come out with sorted keys.
pub fn decode(text: &str) -> Result<Value, String> {
    let parsed: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("Invalid JSON String: {e}"))?;
    Ok(from_serde(&parsed))
}

/// Converts a serde_json value.
pub fn from_serde(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::String(s.as_str().into()),
        serde_json::Value::Array(a) => Value::Array(Array::new(a.iter().map(from_serde).collect())),
        serde_json::Value::Object(o) => {
            let map: BTreeMap<_, _> = o
                .iter()
                .map(|(k, v)| (k.as_str().into(), from_serde(v)))
                .collect();
            Value::Dict(Dict::from_map(map))
        }
    }
}

/// Converts to a serde_json value (for callers that speak serde).
pub fn to_serde(v: &Value) -> serde_json::Value {
    serde_json::from_str(&encode(v)).unwrap_or(serde_json::Value::Null)
}
