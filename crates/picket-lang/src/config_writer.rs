//! Writes values back in the configuration language.
//!
//! This is what `to_string()` gives for arrays and dictionaries and what
//! `object list` prints: numbers always with six decimals, dictionary keys bare
//! when they are identifiers (keywords escaped with `@`), quoted otherwise.

use crate::value::Value;

/// The language's reserved words (also what the console offers to
/// complete).
pub const KEYWORDS: &[&str] = &[
    "object",
    "template",
    "include",
    "include_recursive",
    "include_zones",
    "library",
    "null",
    "true",
    "false",
    "const",
    "var",
    "this",
    "globals",
    "locals",
    "use",
    "using",
    "default",
    "ignore_on_error",
    "current_filename",
    "current_line",
    "apply",
    "to",
    "where",
    "import",
    "assign",
    "ignore",
    "function",
    "return",
    "break",
    "continue",
    "for",
    "if",
    "else",
    "while",
    "throw",
    "try",
    "except",
    "in",
    "namespace",
    "debugger",
];

/// Whether `word` is one of the language's reserved words.
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// The value in configuration syntax.
pub fn emit_value(value: &Value) -> String {
    let mut out = String::new();
    emit(&mut out, value, 1);
    out
}

/// A string literal with the escapes the lexer understands.
pub fn emit_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A dictionary key: bare identifier, `@keyword` or a quoted string.
pub fn emit_identifier(out: &mut String, key: &str) {
    let is_ident = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if is_ident {
        if is_keyword(key) {
            out.push('@');
        }
        out.push_str(key);
    } else {
        emit_string(out, key);
    }
}

fn emit(out: &mut String, value: &Value, indent: usize) {
    stacker::maybe_grow(crate::eval::RED_ZONE, crate::eval::STACK_CHUNK, || {
        emit_inner(out, value, indent)
    })
}

fn emit_inner(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&format!("{n:.6}")),
        Value::String(s) => emit_string(out, s),
        Value::Array(a) => {
            let items = a.to_vec();
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { " " } else { ", " });
                emit(out, item, indent);
            }
            out.push_str(" ]");
        }
        Value::Dict(d) => {
            out.push_str("{\n");
            for (k, v) in d.entries() {
                out.push_str(&"\t".repeat(indent));
                emit_identifier(out, &k);
                out.push_str(" = ");
                emit(out, &v, indent + 1);
                out.push('\n');
            }
            out.push_str(&"\t".repeat(indent - 1));
            out.push('}');
        }
        // Icinga writes nothing for a function (seen in macro values).
        Value::Function(_) => {}
        other => emit_string(out, &other.to_display()),
    }
}
