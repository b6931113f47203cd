//! `/v1/status[/<component>]` and the greeting at `/v1`.

use serde_json::{json, Map, Value as Json};

use crate::engine::NodeStatus;

use crate::engine::Engine;
use crate::reply::{self, Reply};
use crate::server::Call;

/// Every component with a status function in Icinga 2.13, in its order.
/// Icinga lists them all, whether or not the feature is configured.
const COMPONENTS: &[&str] = &[
    "ApiListener",
    "CIB",
    "CheckResultReader",
    "CheckerComponent",
    "CompatLogger",
    "ElasticsearchWriter",
    "ExternalCommandListener",
    "FileLogger",
    "GelfWriter",
    "GraphiteWriter",
    "IcingaApplication",
    "IdoMysqlConnection",
    "IdoPgsqlConnection",
    "Influxdb2Writer",
    "InfluxdbWriter",
    "LivestatusListener",
    "NotificationComponent",
    "OpenTsdbWriter",
    "PerfdataWriter",
    "StatusDataWriter",
    "SyslogLogger",
];

/// A number as Icinga prints it: integral values without a fraction.
pub fn figure(v: f64) -> Json {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

fn perfdata(label: &str, value: f64) -> Json {
    json!({
        "counter": false, "crit": null, "label": label, "max": null, "min": null,
        "type": "PerfdataValue", "unit": "", "value": figure(value), "warn": null,
    })
}

fn names_of(call_registry: &picket_model::Registry, type_name: &str) -> Vec<String> {
    call_registry
        .committed(type_name)
        .iter()
        .map(|o| o.full_name())
        .collect()
}

/// `ApiListener`: this node's identity, endpoints and zones, and its HTTP
/// clients. Cluster connections come with the cluster.
fn api_listener<E: Engine>(call: &Call<'_, E>) -> Json {
    let registry = &call.config.registry;
    let me = &call.api.node_name;
    let endpoints: Vec<String> = names_of(registry, "Endpoint")
        .into_iter()
        .filter(|e| e != me)
        .collect();
    let mut zones = Map::new();
    for zone in registry.committed("Zone") {
        let members = match zone.get("endpoints") {
            Some(picket_lang::Value::Array(a)) => {
                a.to_vec().iter().map(|v| v.to_display()).collect()
            }
            _ => Vec::<String>::new(),
        };
        let connected = members.iter().any(|m| m == me);
        zones.insert(
            zone.full_name(),
            json!({
                "client_log_lag": 0, "connected": connected, "endpoints": members,
                "parent_zone": zone.get_str("parent"),
            }),
        );
    }
    let clients = call.api.http_clients();
    let figures = [
        ("api_num_conn_endpoints", 0.0),
        ("api_num_endpoints", endpoints.len() as f64),
        ("api_num_http_clients", clients as f64),
        ("api_num_json_rpc_anonymous_clients", 0.0),
        ("api_num_json_rpc_relay_queue_item_rate", 0.0),
        ("api_num_json_rpc_relay_queue_items", 0.0),
        ("api_num_json_rpc_sync_queue_item_rate", 0.0),
        ("api_num_json_rpc_sync_queue_items", 0.0),
        ("api_num_json_rpc_work_queue_item_rate", 0.0),
        ("api_num_not_conn_endpoints", endpoints.len() as f64),
    ];
    json!({
        "perfdata": figures.iter().map(|(l, v)| perfdata(l, *v)).collect::<Vec<_>>(),
        "status": { "api": {
            "conn_endpoints": [],
            "http": { "clients": clients },
            "identity": me,
            "json_rpc": {
                "anonymous_clients": 0, "relay_queue_item_rate": 0, "relay_queue_items": 0,
                "sync_queue_item_rate": 0, "sync_queue_items": 0, "work_queue_item_rate": 0,
            },
            "not_conn_endpoints": endpoints,
            "num_conn_endpoints": 0,
            "num_endpoints": endpoints.len(),
            "num_not_conn_endpoints": endpoints.len(),
            "zones": zones,
        }},
    })
}

fn component<E: Engine>(call: &Call<'_, E>, name: &str, node: &NodeStatus) -> Json {
    let registry = &call.config.registry;
    match name {
        "ApiListener" => api_listener(call),
        "CIB" => {
            let cib: Map<String, Json> = node
                .cib
                .iter()
                .map(|(k, v)| (k.clone(), figure(*v)))
                .collect();
            json!({ "perfdata": [], "status": cib })
        }
        "IcingaApplication" => {
            json!({ "perfdata": [], "status": { "icingaapplication": { "app": node.app } } })
        }
        "CheckerComponent" => {
            let mut status = Map::new();
            let mut perf = Vec::new();
            for checker in names_of(registry, "CheckerComponent") {
                status.insert(
                    checker.clone(),
                    json!({ "idle": node.checks_idle, "pending": node.checks_pending }),
                );
                perf.push(perfdata(
                    &format!("checkercomponent_{checker}_idle"),
                    node.checks_idle as f64,
                ));
                perf.push(perfdata(
                    &format!("checkercomponent_{checker}_pending"),
                    node.checks_pending as f64,
                ));
            }
            json!({ "perfdata": perf, "status": { "checkercomponent": status } })
        }
        other => {
            // Features without figures of their own list their objects.
            let objects: Map<String, Json> = names_of(registry, other)
                .into_iter()
                .map(|n| (n, json!(1)))
                .collect();
            json!({ "perfdata": [], "status": { other.to_lowercase(): objects } })
        }
    }
}

pub async fn status<E: Engine>(call: Call<'_, E>, wanted: Option<&String>) -> Reply {
    if !call.user.may("status/query") {
        return reply::error(404, "No objects found.", call.pretty);
    }
    let names: Vec<&str> = COMPONENTS
        .iter()
        .copied()
        .filter(|c| wanted.is_none_or(|w| w == c))
        .collect();
    if names.is_empty() {
        return reply::error(404, "No objects found.", call.pretty);
    }
    let node = call.api.engine.status().await.unwrap_or_default();
    let results = names
        .into_iter()
        .map(|name| {
            let mut doc = component(&call, name, &node);
            doc["name"] = json!(name);
            doc
        })
        .collect();
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
