//! Responses in Icinga's shapes: `{"results": [...]}` for success,
//! `{"error": <code>, "status": "<text>"}` for failures, and the few
//! HTML bodies Icinga sends before it knows the client wants JSON.

use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use serde_json::{json, Value as Json};

use crate::body::Body;

pub type Reply = Response<Body>;

pub fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// Encodes `value`, indented with `pretty`.
/// Encodes `value`; `pretty` indents by four spaces and ends with a
/// newline, as Icinga's pretty output does.
pub fn encode(value: &Json, pretty: bool) -> Vec<u8> {
    use serde::Serialize as _;
    if !pretty {
        // Serialising a `serde_json::Value` cannot fail.
        return serde_json::to_vec(value).unwrap_or_default();
    }
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    let _ = value.serialize(&mut ser);
    out.push(b'\n');
    out
}

pub fn json(code: u16, value: &Json, pretty: bool) -> Reply {
    let mut r = Response::new(Body::full(encode(value, pretty)));
    *r.status_mut() = status(code);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

pub fn results(code: u16, results: Vec<Json>, pretty: bool) -> Reply {
    json(code, &json!({ "results": results }), pretty)
}

pub fn error(code: u16, text: &str, pretty: bool) -> Reply {
    json(code, &json!({ "error": code, "status": text }), pretty)
}

/// An error with a diagnostic (`diagnostic_information`), as Icinga adds
/// for failures with an exception behind them (bad filters, failed
/// creations).
pub fn error_with(code: u16, text: &str, diagnostic: &str, pretty: bool) -> Reply {
    json(
        code,
        &json!({ "error": code, "status": text, "diagnostic_information": diagnostic }),
        pretty,
    )
}

pub fn html(code: u16, text: &str) -> Reply {
    let mut r = Response::new(Body::full(format!("<h1>{text}</h1>")));
    *r.status_mut() = status(code);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    r
}

/// Per-item results of actions: one kind of success gives its code, one
/// kind of failure gives its code (even beside successes), several kinds
/// of success give 200, and anything else 500 — Icinga's rule.
pub fn items(results: Vec<Json>, pretty: bool) -> Reply {
    let mut ok = std::collections::BTreeSet::new();
    let mut failed = std::collections::BTreeSet::new();
    for r in &results {
        if let Some(code) = r["code"].as_f64() {
            let code = code as u16;
            if (200..300).contains(&code) {
                ok.insert(code);
            } else {
                failed.insert(code);
            }
        }
    }
    let code = match (ok.len(), failed.len()) {
        (1, 0) => ok.first().copied().unwrap_or(200),
        (_, 1) => failed.first().copied().unwrap_or(500),
        (n, 0) if n >= 2 => 200,
        _ => 500,
    };
    self::results(code, results, pretty)
}
