//! `/v1/status[/<component>]` and the greeting at `/v1`.

use picket_lang::builtins::stats::COMPONENTS;
use picket_lang::perfdata::PerfdataValue;
use picket_lang::value::{Str, Value};
use picket_model::cluster::{Links, Topology};
use picket_model::Registry;
use serde_json::{json, Map, Value as Json};

use crate::engine::{Engine, NodeStatus};
use crate::introspect::{answer, select, Item, Naming};
use crate::reply::{self, Reply};
use crate::server::{Api, Call};

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

/// What a component's status is made of.
struct Inputs<'a> {
    registry: &'a Registry,
    node_name: &'a str,
    http_clients: usize,
    links: &'a Links,
    node: &'a NodeStatus,
}

/// A component's status fields, and its performance data as labelled
/// figures.
struct Component {
    status: Map<String, Json>,
    perfdata: Vec<(String, f64)>,
}

impl Component {
    fn status(status: Json) -> Component {
        Component {
            status: match status {
                Json::Object(m) => m,
                _ => Map::new(),
            },
            perfdata: Vec::new(),
        }
    }

    fn to_json(&self, name: &str) -> Json {
        json!({
            "name": name,
            "perfdata": self.perfdata.iter().map(|(l, v)| perfdata(l, *v)).collect::<Vec<_>>(),
            "status": self.status,
        })
    }
}

fn names_of(call_registry: &picket_model::Registry, type_name: &str) -> Vec<String> {
    call_registry
        .committed(type_name)
        .iter()
        .map(|o| o.full_name())
        .collect()
}

/// `ApiListener`: this node's identity, the endpoints and zones near it
/// and how its links to them stand, and its HTTP clients.
fn api_listener(inputs: &Inputs<'_>) -> Component {
    let topology = Topology::of(inputs.registry, inputs.node_name);
    let s = topology.listener_status(inputs.links, picket_model::result::now());
    let zones: Map<String, Json> = s
        .zones
        .iter()
        .map(|z| {
            let zone = json!({
                "client_log_lag": figure(z.client_log_lag), "connected": z.connected,
                "endpoints": z.endpoints, "parent_zone": z.parent_zone,
            });
            (z.name.clone(), zone)
        })
        .collect();
    let clients = inputs.http_clients;
    let status = json!({ "api": {
            "conn_endpoints": s.connected,
            "http": { "clients": clients },
            "identity": s.identity,
            "json_rpc": {
                "anonymous_clients": 0, "relay_queue_item_rate": 0, "relay_queue_items": 0,
                "sync_queue_item_rate": 0, "sync_queue_items": 0, "work_queue_item_rate": 0,
            },
            "not_conn_endpoints": s.not_connected,
            "num_conn_endpoints": s.connected.len(),
            "num_endpoints": s.num_endpoints(),
            "num_not_conn_endpoints": s.not_connected.len(),
            "zones": zones,
    }});
    Component {
        perfdata: s
            .perfdata(clients)
            .into_iter()
            .map(|(l, v)| (l.to_string(), v))
            .collect(),
        ..Component::status(status)
    }
}

fn component(inputs: &Inputs<'_>, name: &str) -> Component {
    let (registry, node) = (inputs.registry, inputs.node);
    match name {
        "ApiListener" => api_listener(inputs),
        "CIB" => Component {
            status: node
                .cib
                .iter()
                .map(|(k, v)| (k.clone(), figure(*v)))
                .collect(),
            perfdata: Vec::new(),
        },
        "IcingaApplication" => {
            Component::status(json!({ "icingaapplication": { "app": node.app } }))
        }
        "CheckerComponent" => {
            let mut status = Map::new();
            let mut perf = Vec::new();
            for checker in names_of(registry, "CheckerComponent") {
                status.insert(
                    checker.clone(),
                    json!({ "idle": node.checks_idle, "pending": node.checks_pending }),
                );
                perf.push((
                    format!("checkercomponent_{checker}_idle"),
                    node.checks_idle as f64,
                ));
                perf.push((
                    format!("checkercomponent_{checker}_pending"),
                    node.checks_pending as f64,
                ));
            }
            Component {
                perfdata: perf,
                ..Component::status(json!({ "checkercomponent": status }))
            }
        }
        other => {
            // Features without figures of their own list their objects.
            let objects: Map<String, Json> = names_of(registry, other)
                .into_iter()
                .map(|n| (n, json!(1)))
                .collect();
            Component::status(json!({ other.to_lowercase(): objects }))
        }
    }
}

pub async fn status<E: Engine>(call: Call<'_, E>, wanted: Option<&String>) -> Reply {
    if !call.user.may("status/query") {
        return reply::error(404, "No objects found.", call.pretty);
    }
    let node = call.api.engine.status().await.unwrap_or_default();
    let inputs = Inputs {
        registry: &call.config.registry,
        node_name: &call.api.node_name,
        http_clients: call.api.engine.listener().http_clients(),
        links: &call.api.engine.listener().links(),
        node: &node,
    };
    let items: Vec<Item> = COMPONENTS
        .iter()
        .map(|name| {
            let doc = component(&inputs, name).to_json(name);
            Item {
                name: name.to_string(),
                value: picket_lang::json::from_serde(&doc),
                doc,
            }
        })
        .collect();
    // Components are dictionaries to Icinga: a filter sees each as
    // `dictionary` (and `obj`).
    let naming = Naming {
        singular: "status",
        plural: "statuses",
        var: "dictionary",
    };
    let selected = select(&call, &naming, wanted, &items);
    answer(&call, selected, "No objects found.")
}

/// One component's status for `StatsFunctions` in the console, as
/// language values: its fields and its performance data.
pub(crate) fn script_component<E: Engine>(
    api: &Api<E>,
    registry: &Registry,
    node: &NodeStatus,
    name: &str,
) -> (Vec<(Str, Value)>, Vec<PerfdataValue>) {
    let inputs = Inputs {
        registry,
        node_name: &api.node_name,
        http_clients: api.engine.listener().http_clients(),
        links: &api.engine.listener().links(),
        node,
    };
    let c = component(&inputs, name);
    let fields = c
        .status
        .iter()
        .map(|(k, v)| (Str::from(k.as_str()), picket_lang::json::from_serde(v)))
        .collect();
    let perfdata = c
        .perfdata
        .into_iter()
        .map(|(label, value)| PerfdataValue::plain(label, value))
        .collect();
    (fields, perfdata)
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
