//! `/v1/objects/<type>[/<name>]`: querying objects (with `filter`,
//! `attrs`, `joins`, `meta`), streamed so that a list of 100,000 services
//! is never held in memory as one document.

use std::sync::Arc;

use bytes::Bytes;
use picket_lang::Value;
use picket_model::schema::TypeSchema;
use picket_model::Registry;
use rustc_hash::FxHashMap;
use tokio::sync::{mpsc, oneshot};

use crate::body::Body;
use crate::engine::Engine;
use crate::filter::Selection;
use crate::render::{self, LiveCopy, View};
use crate::reply::{self, Reply};
use crate::server::Call;

/// Bytes gathered before a chunk of a streamed answer is sent.
const CHUNK: usize = 64 * 1024;

/// The type a URL's plural names (`hosts`, `Services`), as Icinga looks it
/// up: case-insensitively.
pub fn type_of_plural(plural: &str) -> Option<&'static TypeSchema> {
    picket_model::types::ALL
        .iter()
        .copied()
        .find(|t| t.plural.eq_ignore_ascii_case(plural))
}

/// A field a join may follow (Icinga's navigation fields).
struct Navigation {
    /// The type having it; "Checkable" stands for hosts and services.
    owner: &'static str,
    /// The join's name (`joins=check_command`).
    name: &'static str,
    /// The attribute holding the target's name.
    field: &'static str,
    /// The target's type.
    target: &'static str,
    /// For a service target, the attribute holding its host's name.
    host_field: Option<&'static str>,
}

const fn nav(
    owner: &'static str,
    name: &'static str,
    field: &'static str,
    target: &'static str,
) -> Navigation {
    Navigation {
        owner,
        name,
        field,
        target,
        host_field: None,
    }
}

const fn service_nav(
    owner: &'static str,
    name: &'static str,
    host_field: &'static str,
    field: &'static str,
) -> Navigation {
    Navigation {
        host_field: Some(host_field),
        ..nav(owner, name, field, "Service")
    }
}

const NAVIGATIONS: &[Navigation] = &[
    nav("Service", "host", "host_name", "Host"),
    nav(
        "Checkable",
        "check_command",
        "check_command",
        "CheckCommand",
    ),
    nav("Checkable", "check_period", "check_period", "TimePeriod"),
    nav(
        "Checkable",
        "event_command",
        "event_command",
        "EventCommand",
    ),
    nav(
        "Checkable",
        "command_endpoint",
        "command_endpoint",
        "Endpoint",
    ),
    nav("Notification", "host", "host_name", "Host"),
    service_nav("Notification", "service", "host_name", "service_name"),
    nav("Notification", "command", "command", "NotificationCommand"),
    nav("Notification", "period", "period", "TimePeriod"),
    nav(
        "Notification",
        "command_endpoint",
        "command_endpoint",
        "Endpoint",
    ),
    nav("Dependency", "child_host", "child_host_name", "Host"),
    service_nav(
        "Dependency",
        "child_service",
        "child_host_name",
        "child_service_name",
    ),
    nav("Dependency", "parent_host", "parent_host_name", "Host"),
    service_nav(
        "Dependency",
        "parent_service",
        "parent_host_name",
        "parent_service_name",
    ),
    nav("Dependency", "period", "period", "TimePeriod"),
    nav("ScheduledDowntime", "host", "host_name", "Host"),
    service_nav("ScheduledDowntime", "service", "host_name", "service_name"),
    nav("Comment", "host", "host_name", "Host"),
    service_nav("Comment", "service", "host_name", "service_name"),
    nav("Downtime", "host", "host_name", "Host"),
    service_nav("Downtime", "service", "host_name", "service_name"),
    nav("User", "period", "period", "TimePeriod"),
    nav("Zone", "parent", "parent", "Zone"),
];

fn navigations(type_name: &str) -> impl Iterator<Item = &'static Navigation> + '_ {
    let checkable = matches!(type_name, "Host" | "Service");
    NAVIGATIONS
        .iter()
        .filter(move |n| n.owner == type_name || (checkable && n.owner == "Checkable"))
}

/// A join requested with `joins`: which navigation, and which of the
/// target's attributes (all when `None`).
struct Join {
    nav: &'static Navigation,
    attrs: Option<Vec<String>>,
    /// Which targets the user may see: a join to a type the user may not
    /// query is left out, as are targets its permission filter rejects
    /// (Icinga's rule).
    access: Option<Selection>,
}

fn parse_joins(schema: &TypeSchema, call_joins: &[String], all: bool) -> Result<Vec<Join>, String> {
    let mut joins: Vec<Join> = Vec::new();
    if all {
        for nav in navigations(schema.name) {
            joins.push(Join {
                nav,
                attrs: None,
                access: None,
            });
        }
    }
    for j in call_joins {
        let (name, attr) = match j.split_once('.') {
            Some((n, a)) => (n, Some(a)),
            None => (j.as_str(), None),
        };
        // Icinga ignores joins the type does not have.
        let Some(nav) = navigations(schema.name).find(|n| n.name == name) else {
            continue;
        };
        if let Some(a) = attr {
            let target = type_of_name(nav.target);
            if !target.is_some_and(|t| render::has_attribute(t, a)) {
                return Err(format!("Invalid field specified: {a}"));
            }
        }
        match joins.iter_mut().find(|x| x.nav.name == nav.name) {
            Some(existing) => match (&mut existing.attrs, attr) {
                (Some(list), Some(a)) => list.push(a.to_string()),
                (list, None) => *list = None,
                (None, Some(_)) => {}
            },
            None => joins.push(Join {
                nav,
                attrs: attr.map(|a| vec![a.to_string()]),
                access: None,
            }),
        }
    }
    Ok(joins)
}

/// Keeps the joins to types the user may query, with the permission
/// filters their targets must pass.
fn permitted_joins(joins: Vec<Join>, user: &crate::auth::User) -> Result<Vec<Join>, String> {
    let mut out = Vec::with_capacity(joins.len());
    for mut j in joins {
        let access = user.access(&format!("objects/query/{}", j.nav.target));
        if !access.allowed() {
            continue;
        }
        let selection = Selection::new(None, None, &access)?;
        j.access = (!selection.is_trivial()).then_some(selection);
        out.push(j);
    }
    Ok(out)
}

fn type_of_name(name: &str) -> Option<&'static TypeSchema> {
    picket_model::types::ALL
        .iter()
        .copied()
        .find(|t| t.name == name)
}

/// Objects of the configuration, without live state.
fn config_views(
    registry: &Registry,
    schema: &'static TypeSchema,
    name: Option<String>,
) -> Vec<View> {
    match name {
        Some(n) => registry
            .find(schema.name, &n)
            .map(|o| vec![View::config(o)])
            .unwrap_or_default(),
        // Built-in objects (`ido`, `icingadb`) are listed too, as Icinga
        // lists them, though no configuration file declares them.
        None => registry
            .committed(schema.name)
            .into_iter()
            .map(View::config)
            .collect(),
    }
}

/// TimePeriods with the segments the monitor worked out for them.
async fn with_windows<E: Engine>(engine: &E, mut out: Vec<View>) -> Vec<View> {
    let names: Vec<String> = out.iter().map(|v| v.object.full_name()).collect();
    let (tx, rx) = oneshot::channel();
    let looked = engine
        .look(Box::new(move |m| {
            let now = picket_model::result::now();
            let facts: Vec<_> = names
                .iter()
                .map(|n| crate::render::period_facts(m.periods(), n, now))
                .collect();
            let _ = tx.send(facts);
        }))
        .await;
    if looked {
        if let Ok(facts) = rx.await {
            for (v, f) in out.iter_mut().zip(facts) {
                v.facts = f;
            }
        }
    }
    out
}

/// The views of the objects of `schema` (only `name` when given), with
/// live state for hosts and services taken from the monitor.
pub async fn views<E: Engine>(
    engine: &E,
    registry: &Registry,
    schema: &'static TypeSchema,
    name: Option<String>,
) -> Vec<View> {
    if matches!(schema.name, "Comment" | "Downtime") {
        let ops = engine.operations();
        let dir = engine.api_objects_dir();
        let mut out = crate::operator::views(&ops, schema.name, name.as_deref(), dir);
        out.extend(config_views(registry, schema, name));
        return with_owners(engine, out, false).await;
    }
    if schema.name == "Notification" {
        return with_owners(engine, config_views(registry, schema, name), true).await;
    }
    if matches!(schema.name, "Endpoint" | "Zone" | "ApiListener") {
        let listener = engine.listener();
        let topology = picket_model::cluster::Topology::of(registry, &listener.identity);
        let links = listener.links();
        let mut out = config_views(registry, schema, name);
        for v in &mut out {
            v.facts = crate::render::cluster_facts(&v.object, &topology, &links);
        }
        return out;
    }
    if schema.name == "TimePeriod" {
        return with_windows(engine, config_views(registry, schema, name)).await;
    }
    if !matches!(schema.name, "Host" | "Service") {
        return config_views(registry, schema, name);
    }
    let want_hosts = schema.name == "Host";
    let (tx, rx) = oneshot::channel();
    let looked = engine
        .look(Box::new(move |m| {
            let copy = |id| live_copy(m, id);
            let host_view = |host: &str| {
                m.find(host).map(|id| {
                    Arc::new(View {
                        object: m.checkable(id).object.clone(),
                        live: Some(copy(id)),
                        host: None,
                        service: None,
                        facts: None,
                    })
                })
            };
            let mut out = Vec::new();
            let mut hosts: FxHashMap<Arc<str>, Option<Arc<View>>> = FxHashMap::default();
            let mut add = |id| {
                let c = m.checkable(id);
                if c.subject.service.is_none() != want_hosts {
                    return;
                }
                let host = if want_hosts {
                    None
                } else {
                    hosts
                        .entry(c.subject.host.clone())
                        .or_insert_with(|| host_view(&c.subject.host))
                        .clone()
                };
                let mut live = copy(id);
                if let Some(h) = &host {
                    if let Some(l) = Arc::get_mut(&mut live) {
                        l.host_up = h.live.as_ref().is_none_or(|hl| hl.entry.live.state == 0);
                    }
                }
                out.push(View {
                    object: c.object.clone(),
                    live: Some(live),
                    host,
                    service: None,
                    facts: None,
                });
            };
            match &name {
                Some(n) => {
                    if let Some(id) = m.find(n) {
                        add(id);
                    }
                }
                None => {
                    for (id, _, _) in m.checkables() {
                        add(id);
                    }
                }
            }
            let _ = tx.send(out);
        }))
        .await;
    if !looked {
        return Vec::new();
    }
    rx.await.unwrap_or_default()
}

/// The live part of checkable `id`, copied out of the monitor.
fn live_copy(m: &picket_model::monitor::Monitor, id: picket_model::monitor::Id) -> Arc<LiveCopy> {
    let c = m.checkable(id);
    Arc::new(LiveCopy {
        entry: m.entry(id).clone(),
        check_interval: c.check_interval,
        retry_interval: c.retry_interval,
        active_checks: c.enable_active_checks,
        host_up: true,
    })
}

/// Binds what objects that belong to a host or service navigate to:
/// `host` and `service` with their live state, for filters
/// (`host.name == "x"`), as Icinga binds navigation fields. A
/// notification also takes its checkable's live entry, where its progress
/// is kept (`with_progress`).
async fn with_owners<E: Engine>(
    engine: &E,
    mut views: Vec<View>,
    with_progress: bool,
) -> Vec<View> {
    let owners: Vec<(String, String)> = views
        .iter()
        .map(|v| {
            let host = v.object.get_str("host_name").to_string();
            let service = match v.object.get_str("service_name") {
                s if s.is_empty() => String::new(),
                s => format!("{host}!{s}"),
            };
            (host, service)
        })
        .collect();
    let (tx, rx) = oneshot::channel();
    let looked = engine
        .look(Box::new(move |m| {
            let view = |name: &str| {
                m.find(name).map(|id| {
                    Arc::new(View {
                        object: m.checkable(id).object.clone(),
                        live: Some(live_copy(m, id)),
                        host: None,
                        service: None,
                        facts: None,
                    })
                })
            };
            let found: Vec<_> = owners
                .iter()
                .map(|(host, service)| (view(host), view(service)))
                .collect();
            let _ = tx.send(found);
        }))
        .await;
    if looked {
        if let Ok(found) = rx.await {
            for (v, (host, service)) in views.iter_mut().zip(found) {
                if with_progress {
                    v.live = service
                        .as_ref()
                        .or(host.as_ref())
                        .and_then(|o| o.live.clone());
                }
                v.host = host;
                v.service = service;
            }
        }
    }
    views
}

/// How a request picks its objects: a name in the URL, the type's
/// parameter (`host=x`, `hosts=[..]`), or a filter over all of them.
pub enum Pick {
    Names(Vec<String>),
    Filter(Option<String>),
}

pub fn pick<E: Engine>(call: &Call<'_, E>, schema: &TypeSchema, url_name: Option<&String>) -> Pick {
    if let Some(n) = url_name {
        return Pick::Names(vec![n.clone()]);
    }
    let one = schema.name.to_lowercase();
    let many = schema.plural.to_lowercase();
    if let Some(n) = call.params.string(&one) {
        return Pick::Names(vec![n]);
    }
    if call.params.contains(&many) {
        return Pick::Names(call.params.list(&many));
    }
    Pick::Filter(call.params.string("filter"))
}

/// Selects the objects of a request. `Err` is the diagnostic of a filter
/// that failed to parse or run, or of a missing permission.
pub async fn select<E: Engine>(
    call: &Call<'_, E>,
    schema: &'static TypeSchema,
    pick: Pick,
    permission: &str,
) -> Result<Vec<View>, String> {
    let _slot = call.api.slot().await;
    select_in_slot(call, schema, pick, permission).await
}

/// [`select`] for a caller that holds a slot of the pool: the copy of the
/// live state and the filtering happen only with one, so that concurrent
/// big queries cannot each hold a copy of 100,000 objects.
async fn select_in_slot<E: Engine>(
    call: &Call<'_, E>,
    schema: &'static TypeSchema,
    pick: Pick,
    permission: &str,
) -> Result<Vec<View>, String> {
    let access = call.user.access(permission);
    if !access.allowed() {
        return Err(format!("Missing permission: {}", permission.to_lowercase()));
    }
    let (filter, views) = match pick {
        Pick::Names(names) => {
            let mut out = Vec::new();
            for n in names {
                let found = views(
                    &call.api.engine,
                    &call.config.registry,
                    schema,
                    Some(n.clone()),
                )
                .await;
                if found.is_empty() {
                    return Err(format!(
                        "Object '{n}' of type '{}' does not exist.",
                        schema.name
                    ));
                }
                out.extend(found);
            }
            // A named object the user may not see does not exist for them.
            let selection = Selection::new(None, None, &access)?;
            if !selection.is_trivial() {
                let ctx = call.config.ctx.clone();
                for v in &out {
                    if !selection.permits(&ctx, v)? {
                        return Err(format!(
                            "Object '{}' of type '{}' does not exist.",
                            v.object.full_name(),
                            schema.name
                        ));
                    }
                }
            }
            (None, out)
        }
        Pick::Filter(f) => (
            f,
            views(&call.api.engine, &call.config.registry, schema, None).await,
        ),
    };
    let selection = Selection::new(filter.as_deref(), call.params.get("filter_vars"), &access)?;
    if selection.is_trivial() {
        return Ok(views);
    }
    let ctx = call.config.ctx.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for v in views {
            if selection.matches(&ctx, &v)? {
                out.push(v);
            }
        }
        Ok(out)
    })
    .await
    .unwrap_or_else(|_| Err("the filter stopped unexpectedly".into()))
}

/// `GET /v1/objects/<type>[/<name>]`.
pub async fn query<E: Engine>(
    call: Call<'_, E>,
    schema: &'static TypeSchema,
    name: Option<&String>,
) -> Reply {
    let pretty = call.pretty;
    let Ok(all_joins) = call.params.switch("all_joins") else {
        return crate::routes::not_found(&call);
    };
    let lists = ["attrs", "joins", "meta"].map(|k| call.params.strict_list(k));
    let [attrs, joins, meta] = match lists {
        [Ok(a), Ok(j), Ok(m)] => [a, j, m],
        [Err(e), _, _] | [_, Err(e), _] | [_, _, Err(e)] => return reply::error(400, &e, pretty),
    };
    for a in &attrs {
        if !render::has_attribute(schema, a) {
            return reply::error(400, &format!("Invalid field specified: {a}"), pretty);
        }
    }
    let joins =
        match parse_joins(schema, &joins, all_joins).and_then(|j| permitted_joins(j, &call.user)) {
            Ok(j) => j,
            Err(e) => return reply::error(400, &e, pretty),
        };
    for m in &meta {
        if m != "used_by" && m != "location" {
            return reply::error(
                400,
                &format!("Invalid field specified for meta: {m}"),
                pretty,
            );
        }
    }
    let pick = pick(&call, schema, name);
    let permission = format!("objects/query/{}", schema.name);
    // One slot of the pool for the whole request: copy, filter, render.
    let slot = call.api.slot().await;
    let views = match select_in_slot(&call, schema, pick, &permission).await {
        Ok(v) => v,
        Err(diagnostic) => return not_found(&call, &diagnostic),
    };
    let attrs = (!attrs.is_empty()).then_some(attrs);
    let registry = call.config.registry.clone();
    let (tx, body) = Body::channel(4);
    // Comments and downtimes use their host and service, as in Icinga.
    let remarks = if meta.iter().any(|m| m == "used_by") {
        let ops = call.api.engine.operations();
        let dir = call.api.engine.api_objects_dir();
        ["Comment", "Downtime"]
            .into_iter()
            .flat_map(|t| crate::operator::views(&ops, t, None, dir))
            .map(|v| v.object)
            .collect()
    } else {
        Vec::new()
    };
    let spec = Spec {
        attrs,
        joins,
        meta,
        ctx: call.config.ctx.clone(),
        remarks,
    };
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        stream(views, &spec, &registry, pretty, tx);
    });
    let mut r = hyper::Response::new(body);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

/// Icinga answers every failed selection of a query with 404; the reason
/// is shown with `verbose`.
pub fn not_found<E: Engine>(call: &Call<'_, E>, diagnostic: &str) -> Reply {
    if call.verbose() {
        reply::error_with(404, "No objects found.", diagnostic, call.pretty)
    } else {
        reply::error(404, "No objects found.", call.pretty)
    }
}

struct Spec {
    attrs: Option<Vec<String>>,
    joins: Vec<Join>,
    meta: Vec<String>,
    /// For the joins' permission filters.
    ctx: Arc<picket_lang::Context>,
    /// The comments and downtimes kept in the operations store, for
    /// `used_by` (the registry knows those from files only).
    remarks: Vec<Arc<picket_model::ConfigObject>>,
}

fn push_string(out: &mut String, s: &str) {
    out.push_str(&picket_lang::json::encode(&Value::from(s)));
}

fn write_attrs(out: &mut String, view: &View, attrs: Option<&Vec<String>>) {
    out.push('{');
    let mut first = true;
    let mut field = |out: &mut String, k: &str, v: &Value| {
        if !first {
            out.push(',');
        }
        first = false;
        push_string(out, k);
        out.push(':');
        out.push_str(&picket_lang::json::encode(v));
    };
    match attrs {
        Some(list) => {
            let mut list: Vec<&String> = list.iter().collect();
            list.sort();
            list.dedup();
            let hidden = picket_model::classes::unlisted_fields(view.object.schema.name);
            for a in list.into_iter().filter(|a| !hidden.contains(&a.as_str())) {
                field(out, a, &view.get(a).unwrap_or_default());
            }
        }
        None => {
            for (k, v) in view.all() {
                field(out, &k, &v);
            }
        }
    }
    out.push('}');
}

/// Who uses each object, for `meta=used_by`: computed once per request.
type Users = FxHashMap<(&'static str, picket_lang::Str), Vec<Arc<picket_model::ConfigObject>>>;

fn write_object(out: &mut String, view: &View, spec: &Spec, registry: &Registry, users: &Users) {
    out.push_str("{\"attrs\":");
    write_attrs(out, view, spec.attrs.as_ref());
    out.push_str(",\"joins\":{");
    let mut first = true;
    for j in &spec.joins {
        let target = if j.nav.name == "host" && view.host.is_some() {
            view.host.as_deref().cloned()
        } else {
            let name = view.object.get_str(j.nav.field);
            let name = match j.nav.host_field {
                Some(_) if name.is_empty() => None,
                Some(host) => Some(format!("{}!{name}", view.object.get_str(host))),
                None => Some(name.to_string()),
            };
            name.and_then(|n| registry.find(j.nav.target, &n))
                .map(View::config)
        };
        // Unset references and targets the user may not see are left out.
        let Some(target) = target else { continue };
        if let Some(access) = &j.access {
            if !access.permits(&spec.ctx, &target).unwrap_or(false) {
                continue;
            }
        }
        if !first {
            out.push(',');
        }
        first = false;
        push_string(out, j.nav.name);
        out.push(':');
        write_attrs(out, &target, j.attrs.as_ref());
    }
    out.push_str("},\"meta\":{");
    for (i, m) in spec.meta.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(out, m);
        out.push(':');
        if m == "location" {
            out.push_str(&picket_lang::json::encode(
                &view.object.get("source_location").unwrap_or_default(),
            ));
        } else {
            let key = (view.object.schema.name, view.object.full_name_str());
            let list: Vec<serde_json::Value> = users
                .get(&key)
                .map(|u| {
                    u.iter()
                        .map(|o| serde_json::json!({"name": o.full_name(), "type": o.schema.name}))
                        .collect()
                })
                .unwrap_or_default();
            out.push_str(&serde_json::Value::Array(list).to_string());
        }
    }
    out.push_str("},\"name\":");
    push_string(out, &view.object.full_name());
    out.push_str(",\"type\":");
    push_string(out, view.object.schema.name);
    out.push('}');
}

/// Writes `{"results":[...]}` into the channel, chunk by chunk.
fn stream(
    views: Vec<View>,
    spec: &Spec,
    registry: &Registry,
    pretty: bool,
    tx: mpsc::Sender<Bytes>,
) {
    let users = if spec.meta.iter().any(|m| m == "used_by") {
        let mut users = registry.users();
        for r in &spec.remarks {
            let host = r.get_str("host_name");
            let service = r.get_str("service_name");
            if !service.is_empty() {
                let name = picket_lang::Str::from(format!("{host}!{service}"));
                users.entry(("Service", name)).or_default().push(r.clone());
            }
            users
                .entry(("Host", host.into()))
                .or_default()
                .push(r.clone());
        }
        users
    } else {
        Users::default()
    };
    if pretty {
        let mut out = String::from("[");
        for (i, v) in views.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_object(&mut out, v, spec, registry, &users);
        }
        out.push(']');
        let results: serde_json::Value = serde_json::from_str(&out).unwrap_or_default();
        let doc = serde_json::json!({ "results": results });
        let _ = tx.blocking_send(Bytes::from(reply::encode(&doc, true)));
        return;
    }
    let mut out = String::with_capacity(CHUNK + 4096);
    out.push_str("{\"results\":[");
    for (i, v) in views.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_object(&mut out, v, spec, registry, &users);
        if out.len() >= CHUNK {
            let chunk = std::mem::replace(&mut out, String::with_capacity(CHUNK + 4096));
            if tx.blocking_send(Bytes::from(chunk)).is_err() {
                return;
            }
        }
    }
    out.push_str("]}");
    let _ = tx.blocking_send(Bytes::from(out));
}
