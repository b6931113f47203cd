//! The operator actions of `/v1/actions` (acknowledgements, comments,
//! downtimes) and the runtime `Comment` and `Downtime` objects they make.
//!
//! Every change is an operation the node records in its store with the API
//! user as the actor; the answer waits until it is durable. The checks
//! that need the live state (is the object in a problem state?) happen
//! here, the ones that need the durable state (is it acknowledged
//! already?) in the aggregate, so that concurrent requests cannot both
//! pass them.

use std::sync::Arc;

use picket_model::operations::{
    self, Acknowledgement, ChildOptions, Cleared, Comment, Downtime, Operation, Operations,
};
use picket_model::result::now;
use picket_store::Versioned;
use rustc_hash::FxHashMap;
use serde_json::{json, Map, Value as Json};

use crate::engine::{Engine, OperateError};
use crate::params::Unconvertible;
use crate::render::View;
use crate::server::Call;

fn result(code: u16, status: impl Into<String>) -> Json {
    json!({ "code": code, "status": status.into() })
}

/// A failed operation as an action result.
fn failed(e: OperateError) -> Json {
    match e {
        OperateError::Refused(r @ operations::Refusal::AlreadyAcknowledged { .. }) => {
            result(409, r.to_string())
        }
        OperateError::Refused(r @ operations::Refusal::Missing(_)) => result(404, r.to_string()),
        other => result(500, other.to_string()),
    }
}

/// Runs `op` on `checkable` as the calling user; `done` answers when it
/// went through.
async fn run<E: Engine>(
    call: &Call<'_, E>,
    checkable: String,
    op: Operation,
    done: impl FnOnce() -> Json,
) -> Json {
    match call
        .api
        .engine
        .operate(&call.user.name, checkable, op)
        .await
    {
        Ok(()) => done(),
        Err(e) => failed(e),
    }
}

fn new_name(checkable: &str) -> String {
    format!("{checkable}!{}", uuid::Uuid::new_v4())
}

/// The `Comment` or `Downtime` objects the operations hold (only `name`
/// when given); `api_objects` is where they are said to be declared.
pub fn views(
    ops: &[Arc<Versioned<Operations>>],
    type_name: &str,
    name: Option<&str>,
    api_objects: &str,
) -> Vec<View> {
    let mut out = Vec::new();
    match type_name {
        "Comment" => {
            for v in ops {
                let o = &v.state;
                for (n, c) in &o.comments {
                    if name.is_none_or(|x| x == n) {
                        out.push(View::config(operations::comment_object(
                            n,
                            &o.checkable,
                            c,
                            o.changed.get(n),
                            api_objects,
                        )));
                    }
                }
            }
        }
        "Downtime" => {
            let mut triggers: FxHashMap<&str, Vec<String>> = FxHashMap::default();
            for v in ops {
                for (n, d) in &v.state.downtimes {
                    if !d.triggered_by.is_empty() {
                        triggers.entry(&d.triggered_by).or_default().push(n.clone());
                    }
                }
            }
            for v in ops {
                let o = &v.state;
                for (n, d) in &o.downtimes {
                    if name.is_none_or(|x| x == n) {
                        let t = triggers.get(n.as_str()).cloned().unwrap_or_default();
                        out.push(View::config(operations::downtime_object(
                            n,
                            &o.checkable,
                            d,
                            t,
                            o.changed.get(n),
                            api_objects,
                        )));
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// The checkable a comment or downtime view belongs to.
pub(crate) fn checkable_of(view: &View) -> String {
    let host = view.object.get_str("host_name");
    match view.object.get_str("service_name") {
        s if s.is_empty() => host,
        s => format!("{host}!{s}"),
    }
}

fn kind_and_state(view: &View) -> (bool, u8) {
    let state = view.live.as_ref().map_or(0, |l| l.entry.live.state);
    (view.object.schema.name == "Host", state)
}

/// A comment or downtime needs an author and a text (required and not
/// empty in Icinga's types): without them Icinga fails to make it.
fn unmade_without(author: &str, text: &str, what: &str) -> Result<(), Unconvertible> {
    if author.is_empty() || text.is_empty() {
        return Err(Unconvertible(format!("Could not create {what}.")));
    }
    Ok(())
}

pub async fn acknowledge<E: Engine>(
    call: &Call<'_, E>,
    view: &View,
) -> Result<Json, Unconvertible> {
    let name = view.object.full_name();
    let p = &call.params;
    // Given is enough, null too (Icinga checks for the keys only).
    if !(p.contains("author") && p.contains("comment")) {
        return Ok(result(400, "Acknowledgements require author and comment."));
    }
    let author = p.string("author").unwrap_or_default();
    let comment = p.string("comment").unwrap_or_default();
    let (sticky, notify, persistent) = (
        p.switch("sticky")?,
        p.switch("notify")?,
        p.switch("persistent")?,
    );
    let t = now();
    let expiry = p.numeric("expiry")?;
    if expiry.is_some_and(|e| e <= t) {
        return Ok(result(
            409,
            format!("Acknowledgement 'expiry' timestamp must be in the future for object {name}"),
        ));
    }
    match kind_and_state(view) {
        (true, 0) => return Ok(result(409, format!("Host {name} is UP."))),
        (false, 0) => return Ok(result(409, format!("Service {name} is OK."))),
        _ => {}
    }
    let acknowledged = view
        .live
        .as_ref()
        .is_some_and(|l| l.entry.live.marks.acknowledgement != 0);
    if !acknowledged {
        unmade_without(&author, &comment, "comment")?;
    }
    let op = Operation::Acknowledge {
        acknowledgement: Acknowledgement {
            author,
            comment,
            sticky,
            notify,
            persistent,
            expiry: expiry.unwrap_or(0.0),
            set_time: t,
            number: None,
        },
        comment_name: new_name(&name),
        comment_legacy_id: call.api.engine.legacy_id(false),
    };
    Ok(run(call, name.clone(), op, || {
        result(
            200,
            format!("Successfully acknowledged problem for object '{name}'."),
        )
    })
    .await)
}

pub async fn remove_acknowledgement<E: Engine>(call: &Call<'_, E>, view: &View) -> Json {
    let name = view.object.full_name();
    let op = Operation::RemoveAcknowledgement {
        why: Cleared::Removed,
        at: now(),
    };
    run(call, name.clone(), op, || {
        result(
            200,
            format!("Successfully removed acknowledgement for object '{name}'."),
        )
    })
    .await
}

pub async fn add_comment<E: Engine>(
    call: &Call<'_, E>,
    view: &View,
) -> Result<Json, Unconvertible> {
    let checkable = view.object.full_name();
    let p = &call.params;
    if !(p.contains("author") && p.contains("comment")) {
        return Ok(result(400, "Comments require author and comment."));
    }
    let author = p.string("author").unwrap_or_default();
    let text = p.string("comment").unwrap_or_default();
    let expire_time = p.numeric("expiry")?.unwrap_or(0.0);
    unmade_without(&author, &text, "comment")?;
    let name = new_name(&checkable);
    let legacy_id = call.api.engine.legacy_id(false);
    let op = Operation::AddComment {
        name: name.clone(),
        comment: Comment {
            author,
            text,
            entry_type: operations::COMMENT_USER,
            entry_time: now(),
            expire_time,
            persistent: false,
            legacy_id,
        },
    };
    Ok(run(call, checkable.clone(), op, || {
        json!({
            "code": 200,
            "legacy_id": legacy_id,
            "name": name,
            "status": format!("Successfully added comment '{name}' for object '{checkable}'."),
        })
    })
    .await)
}

/// The durable operations of one checkable.
fn operations_of<E: Engine>(
    call: &Call<'_, E>,
    checkable: &str,
) -> Option<Arc<Versioned<Operations>>> {
    call.api
        .engine
        .operations()
        .into_iter()
        .find(|v| v.state.checkable == checkable)
}

pub async fn remove_comment<E: Engine>(call: &Call<'_, E>, view: &View) -> Json {
    let actor = &call.user.name;
    let engine = &call.api.engine;
    if view.object.schema.name == "Comment" {
        let name = view.object.full_name();
        let op = Operation::RemoveComment { name: name.clone() };
        return run(call, checkable_of(view), op, || {
            result(200, format!("Successfully removed comment '{name}'."))
        })
        .await;
    }
    let checkable = view.object.full_name();
    let names: Vec<String> = operations_of(call, &checkable)
        .map(|v| v.state.comments.keys().cloned().collect())
        .unwrap_or_default();
    for name in names {
        let op = Operation::RemoveComment { name };
        match engine.operate(actor, checkable.clone(), op).await {
            Ok(()) | Err(OperateError::Refused(_)) => {}
            Err(e) => return failed(e),
        }
    }
    result(
        200,
        format!("Successfully removed all comments for object '{checkable}'."),
    )
}

fn child_options(value: Option<&Json>) -> Option<ChildOptions> {
    match value {
        None => Some(ChildOptions::None),
        Some(v) => ChildOptions::parse(&picket_lang::json::from_serde(v)),
    }
}

/// Every checkable below `checkable` through dependencies.
async fn children_of<E: Engine>(call: &Call<'_, E>, checkable: &str) -> Vec<String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let name = checkable.to_string();
    let looked = call
        .api
        .engine
        .look(Box::new(move |m| {
            let names = m
                .find(&name)
                .map(|id| {
                    m.all_children(id)
                        .into_iter()
                        .map(|c| m.checkable(c).object.full_name())
                        .collect()
                })
                .unwrap_or_default();
            let _ = tx.send(names);
        }))
        .await;
    if !looked {
        return Vec::new();
    }
    rx.await.unwrap_or_default()
}

pub async fn schedule_downtime<E: Engine>(
    call: &Call<'_, E>,
    view: &View,
) -> Result<Json, Unconvertible> {
    let checkable = view.object.full_name();
    let p = &call.params;
    if !["start_time", "end_time", "author", "comment"]
        .iter()
        .all(|k| p.contains(k))
    {
        return Ok(result(
            400,
            "Options 'start_time', 'end_time', 'author' and 'comment' are required",
        ));
    }
    let fixed = p.switch_or("fixed", true)?;
    let duration = p.numeric("duration")?;
    if !fixed && duration.is_none() {
        return Ok(result(
            400,
            "Option 'duration' is required for flexible downtime",
        ));
    }
    let (author, comment) = (
        p.string("author").unwrap_or_default(),
        p.string("comment").unwrap_or_default(),
    );
    let start_time = p.numeric("start_time")?.unwrap_or(0.0);
    let end_time = p.numeric("end_time")?.unwrap_or(0.0);
    let Some(children) = child_options(p.last("child_options")) else {
        return Ok(result(
            400,
            "Option 'child_options' provided an invalid value.",
        ));
    };
    // Icinga reads `all_services` only after it made the host's downtime,
    // and then reports the action failed with the downtime in place;
    // refused here before anything is made.
    let all_services = p.switch("all_services")?;
    let trigger = p.string("trigger_name").unwrap_or_default();
    let engine = &call.api.engine;
    // Icinga 2.13 aborts on a trigger that does not exist; a clear answer
    // is what an operator expects instead.
    if !trigger.is_empty()
        && !engine
            .operations()
            .iter()
            .any(|v| v.state.downtimes.contains_key(&trigger))
    {
        return Ok(result(404, format!("Downtime '{trigger}' does not exist.")));
    }
    unmade_without(&author, &comment, "downtime object")?;
    let t = now();
    let downtime = |triggered_by: &str, parent: &str| Downtime {
        author: author.clone(),
        comment: comment.clone(),
        start_time,
        end_time,
        duration: duration.unwrap_or(0.0),
        fixed,
        triggered_by: triggered_by.to_string(),
        scheduled_by: String::new(),
        parent: parent.to_string(),
        entry_time: t,
        trigger_time: 0.0,
        legacy_id: engine.legacy_id(true),
        config_owner_hash: String::new(),
        authoritative_zone: String::new(),
    };
    let schedule = |target: String, d: Downtime| async move {
        let name = new_name(&target);
        let legacy_id = d.legacy_id;
        let op = Operation::ScheduleDowntime {
            name: name.clone(),
            downtime: d,
        };
        engine
            .operate(&call.user.name, target, op)
            .await
            .map(|()| json!({ "legacy_id": legacy_id, "name": name }))
    };
    let first = downtime(&trigger, "");
    let template = first.clone();
    let legacy_id = first.legacy_id;
    let name = match schedule(checkable.clone(), first).await {
        Ok(r) => r["name"].as_str().unwrap_or_default().to_string(),
        Err(e) => return Ok(failed(e)),
    };
    // A host's services get downtimes that are its downtime's children
    // (removed with it), started as it is started.
    let with_services = |host: String, parent: String, trigger: String| async move {
        let mut list = Vec::new();
        for service in services_of(call, &host).await {
            list.push(schedule(service, downtime(&trigger, &parent)).await?);
        }
        Ok::<_, OperateError>(Json::Array(list))
    };
    let mut out = Map::new();
    if view.object.schema.name == "Host" && all_services {
        match with_services(checkable.clone(), name.clone(), trigger.clone()).await {
            Ok(list) => out.insert("service_downtimes".into(), list),
            Err(e) => return Ok(failed(e)),
        };
    }
    if p.contains("child_options") {
        let mut list = Vec::new();
        if children != ChildOptions::None {
            let all = children_of(call, &checkable).await;
            // With `all_services`, a child service whose host is a child
            // too is covered as one of that host's services.
            let covered = |child: &String| {
                all_services
                    && child
                        .split_once('!')
                        .is_some_and(|(host, _)| all.iter().any(|c| c == host))
            };
            for child in all.iter().filter(|c| !covered(c)) {
                let Some(mut d) = children.child_downtime(&template, &name) else {
                    break;
                };
                d.legacy_id = engine.legacy_id(true);
                let trigger = d.triggered_by.clone();
                let mut made = match schedule(child.clone(), d).await {
                    Ok(r) => r,
                    Err(e) => return Ok(failed(e)),
                };
                if all_services && !child.contains('!') {
                    let parent = made["name"].as_str().unwrap_or_default().to_string();
                    match with_services(child.clone(), parent, trigger).await {
                        Ok(services) => made["service_downtimes"] = services,
                        Err(e) => return Ok(failed(e)),
                    }
                }
                list.push(made);
            }
        }
        out.insert("child_downtimes".into(), Json::Array(list));
    }
    out.insert("code".into(), json!(200));
    out.insert("legacy_id".into(), json!(legacy_id));
    out.insert("name".into(), json!(name));
    out.sort_keys();
    out.insert(
        "status".into(),
        json!(format!(
            "Successfully scheduled downtime '{name}' for object '{checkable}'."
        )),
    );
    Ok(Json::Object(out))
}

/// The services of a host, by full name, in name order (Icinga's order).
async fn services_of<E: Engine>(call: &Call<'_, E>, host: &str) -> Vec<String> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let host = host.to_string();
    let looked = call
        .api
        .engine
        .look(Box::new(move |m| {
            let mut names: Vec<String> = m
                .checkables()
                .filter(|(_, c, _)| c.subject.service.is_some() && *c.subject.host == *host)
                .map(|(_, c, _)| c.object.full_name())
                .collect();
            names.sort_unstable();
            let _ = tx.send(names);
        }))
        .await;
    if !looked {
        return Vec::new();
    }
    rx.await.unwrap_or_default()
}

/// Removes a downtime and, recursively, those made for it; returns how
/// many of the latter went.
async fn remove_with_children<E: Engine>(
    call: &Call<'_, E>,
    checkable: String,
    name: String,
) -> Result<usize, OperateError> {
    let engine = &call.api.engine;
    let actor = &call.user.name;
    let mut queue = vec![(checkable, name)];
    let mut children = 0;
    let mut first = true;
    while let Some((checkable, name)) = queue.pop() {
        let op = Operation::RemoveDowntime {
            name: name.clone(),
            cancelled: true,
            at: now(),
        };
        match engine.operate(actor, checkable, op).await {
            Ok(()) if !first => children += 1,
            Ok(()) => {}
            // A child that went meanwhile is not an error.
            Err(OperateError::Refused(_)) if !first => {}
            Err(e) => return Err(e),
        }
        first = false;
        for v in engine.operations() {
            for (n, d) in &v.state.downtimes {
                if d.parent == name {
                    queue.push((v.state.checkable.clone(), n.clone()));
                }
            }
        }
    }
    Ok(children)
}

pub async fn remove_downtime<E: Engine>(call: &Call<'_, E>, view: &View) -> Json {
    if view.object.schema.name == "Downtime" {
        let name = view.object.full_name();
        let owner = view.object.get_str("scheduled_by");
        if !owner.is_empty() {
            return result(
                400,
                format!(
                    "Cannot remove downtime '{name}'. It is owned by scheduled downtime object '{owner}'"
                ),
            );
        }
        return match remove_with_children(call, checkable_of(view), name.clone()).await {
            Ok(n) => result(
                200,
                format!("Successfully removed downtime '{name}' and {n} child downtimes."),
            ),
            Err(e) => failed(e),
        };
    }
    let checkable = view.object.full_name();
    let downtimes: Vec<(String, Downtime)> = operations_of(call, &checkable)
        .map(|v| v.state.downtimes.clone().into_iter().collect())
        .unwrap_or_default();
    let mut children = 0;
    let mut owned = None;
    for (name, d) in downtimes {
        if !d.scheduled_by.is_empty() {
            owned.get_or_insert((name, d.scheduled_by));
            continue;
        }
        match remove_with_children(call, checkable.clone(), name).await {
            Ok(n) => children += n,
            Err(OperateError::Refused(_)) => {}
            Err(e) => return failed(e),
        }
    }
    // As Icinga: a planned downtime among them fails the whole request.
    if let Some((name, owner)) = owned {
        return result(
            400,
            format!("Cannot remove downtime '{name}'. It is owned by scheduled downtime object '{owner}'"),
        );
    }
    result(
        200,
        format!(
            "Successfully removed all downtimes for object '{checkable}' and {children} child downtimes."
        ),
    )
}
