//! `/v1/status[/<component>]` and the greeting at `/v1`.

use serde_json::{json, Value as Json};

use crate::engine::Engine;
use crate::reply::{self, Reply};
use crate::server::Call;

pub async fn status<E: Engine>(call: Call<'_, E>, component: Option<&String>) -> Reply {
    if !call.user.may("status/query") {
        return reply::error(
            403,
            "No permission to access this resource (missing permission: status/query).",
            call.pretty,
        );
    }
    let components = call.api.engine.status().await;
    let results: Vec<Json> = components
        .into_iter()
        .filter(|(name, _)| component.is_none_or(|c| c == name))
        .map(|(name, mut doc)| {
            doc["name"] = json!(name);
            doc
        })
        .collect();
    if results.is_empty() {
        return reply::error(404, "No objects found.", call.pretty);
    }
    reply::results(200, results, call.pretty)
}

/// `GET /v1`: who you are and what you may do; a page unless the client
/// asks for JSON.
pub fn hello<E: Engine>(call: &Call<'_, E>, wants_json: bool) -> Reply {
    if wants_json {
        let info = json!({
            "info": "More information about API requests is available in the documentation at https://icinga.com/docs/icinga2/latest/",
            "permissions": call.user.permission_names(),
            "user": call.user.name,
            "version": call.api.version,
        });
        return reply::results(200, vec![info], call.pretty);
    }
    let permissions: String = call
        .user
        .permission_names()
        .iter()
        .map(|p| format!("<li>{}</li>", escape(p)))
        .collect();
    let page = format!(
        "<html><head><title>Icinga 2</title></head><h1>Hello from Icinga 2 (Version: {})!</h1>\
<p>You are authenticated as <b>{}</b>. Your user has the following permissions:</p> <ul>{permissions}</ul>\
<p>More information about API requests is available in the \
<a href=\"https://icinga.com/docs/icinga2/latest/\" target=\"_blank\">documentation</a>.</p></html>",
        call.api.version,
        escape(&call.user.name),
    );
    let mut r = hyper::Response::new(crate::body::Body::full(page));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/html"),
    );
    r
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
