//! `/v1/events`: a long-lived answer with one JSON object per line for
//! every event of the requested types (and filter) on the node's bus.

use picket_model::result::CheckResult;
use picket_model::Registry;

use bytes::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::Version;
use picket_model::event::{Event, ObjectChange, Operated, Subject};
use picket_model::operations::{Cleared, Marks, OperationEvent};
use serde_json::{json, Map, Value as Json};
use tokio::sync::broadcast::error::RecvError;

use crate::body::Body;
use crate::engine::Engine;
use crate::filter::diagnostic;
use crate::render;
use crate::reply::{self, Reply};
use crate::server::Call;

/// Events queued for a slow client before the stream waits (the bus keeps
/// its own, larger, buffer and tells how many a lagging reader lost).
const QUEUE: usize = 256;

pub async fn handle<E: Engine>(call: Call<'_, E>) -> Reply {
    let pretty = call.pretty;
    if call.version == Version::HTTP_10 {
        return reply::error(400, "HTTP/1.0 not supported for event streams.", pretty);
    }
    let types = call.params.list("types");
    if types.is_empty() {
        return reply::error(400, "'types' query parameter is required.", pretty);
    }
    // Icinga answers a stream the user may not read as an unknown path.
    if !types.iter().all(|t| call.user.may(&format!("events/{t}"))) {
        return crate::routes::not_found(&call);
    }
    if call.params.string("queue").is_none_or(|q| q.is_empty()) {
        return reply::error(400, "'queue' query parameter is required.", pretty);
    }
    let filter = match call.params.string("filter") {
        Some(text) => match crate::filter::parse(&text) {
            Ok(e) => Some(e),
            Err(e) => {
                return reply::error_with(400, "Invalid filter specified.", &diagnostic(&e), pretty)
            }
        },
        None => None,
    };
    let ctx = call.config.ctx.clone();
    let api = call.api.clone();
    let mut events = call.api.engine.bus().subscribe();
    let (tx, body) = Body::channel(QUEUE);
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            };
            // The configuration in force names the command of built-in
            // checks.
            let config = api.engine.config();
            for doc in documents(&event, &config.registry) {
                if !types.iter().any(|t| doc["type"] == **t) {
                    continue;
                }
                if let Some(f) = &filter {
                    let event = picket_lang::json::from_serde(&doc);
                    if !crate::filter::holds_for(&ctx, f, "event", event, &[]).unwrap_or(false) {
                        continue;
                    }
                }
                let mut doc = doc;
                if let Json::Object(fields) = &mut doc {
                    // Icinga's dictionaries are sorted by key.
                    fields.sort_keys();
                }
                integral_numbers(&mut doc);
                let mut line = serde_json::to_vec(&doc).unwrap_or_default();
                line.push(b'\n');
                if tx.send(Bytes::from(line)).await.is_err() {
                    return;
                }
            }
        }
    });
    let mut r = hyper::Response::new(body);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // Icinga writes the lines raw and ends the stream by closing the
    // connection. hyper frames a body of unknown length in chunks on
    // HTTP/1.1 and only sends it unframed on HTTP/1.0, so the answer is
    // an HTTP/1.0 one: clients that read the socket line by line see
    // exactly Icinga's bytes.
    *r.version_mut() = Version::HTTP_10;
    r
}

/// Writes whole numbers without a fraction (`"expiry":4102444800`), as
/// Icinga's encoder does; serde writes an `f64` with one.
fn integral_numbers(doc: &mut Json) {
    match doc {
        Json::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0) {
                if (-9.0e15..9.0e15).contains(&f) {
                    *n = serde_json::Number::from(f as i64);
                }
            }
        }
        Json::Array(items) => items.iter_mut().for_each(integral_numbers),
        Json::Object(fields) => fields.values_mut().for_each(integral_numbers),
        _ => {}
    }
}

/// The `type`, the object and the `timestamp` every event has.
fn head(kind: &str, s: &Subject, timestamp: f64) -> Map<String, Json> {
    let mut doc = Map::new();
    doc.insert("type".into(), json!(kind));
    doc.insert("host".into(), json!(s.host.as_ref()));
    if let Some(service) = &s.service {
        doc.insert("service".into(), json!(service.as_ref()));
    }
    doc.insert("timestamp".into(), json!(timestamp));
    doc
}

/// What CheckResult and StateChange events both carry about the result;
/// `registry` has the checkable, whose command built-in checks name.
fn with_result(
    doc: &mut Map<String, Json>,
    subject: &Subject,
    cr: &CheckResult,
    vars: render::Vars,
    marks: &Marks,
    registry: &Registry,
) {
    doc.insert("acknowledgement".into(), json!(marks.acknowledgement != 0));
    let object = match cr.command {
        Some(_) => None,
        None => match &subject.service {
            Some(_) => registry.find("Service", &subject.full_name()),
            None => registry.find("Host", &subject.host),
        },
    };
    let cr = render::check_result(cr, Some(vars), object.as_deref());
    doc.insert("check_result".into(), picket_lang::json::to_serde(&cr));
    doc.insert("downtime_depth".into(), json!(marks.downtime_depth));
}

/// The documents of an operation: a comment or downtime event carries the
/// object; a fixed downtime that starts is both started and triggered.
fn operation_documents(o: &Operated) -> Vec<Json> {
    let with_state = |kind: &str| {
        let mut doc = head(kind, &o.subject, o.timestamp);
        doc.insert("state".into(), json!(o.state));
        doc.insert("state_type".into(), json!(o.state_type as u8));
        doc
    };
    // Icinga tells that a downtime was added, and that it started, before
    // it sets the trigger time.
    let untriggered = |kind: &str| matches!(kind, "DowntimeAdded" | "DowntimeStarted");
    let with_object = |kind: &str, key: &str| {
        let mut doc = Map::new();
        doc.insert("type".into(), json!(kind));
        // Icinga serialises the object's configuration here (with
        // `version`), not what the API shows of it at runtime.
        let object = o.object.as_ref().map_or(Json::Null, |object| {
            let dict = picket_lang::value::Dict::new();
            for (k, v) in object.all_fields() {
                if k.as_ref() != "was_cancelled" {
                    dict.insert(k, v);
                }
            }
            if untriggered(kind) {
                dict.insert("trigger_time", picket_lang::Value::Number(0.0));
            }
            dict.insert("version", picket_lang::Value::Number(object.version()));
            picket_lang::json::to_serde(&picket_lang::Value::Dict(dict))
        });
        doc.insert(key.into(), object);
        doc.insert("timestamp".into(), json!(o.timestamp));
        Json::Object(doc)
    };
    // Comments and downtimes are objects too: Icinga tells of each one
    // made, changed or dropped after the event of its own kind (of one
    // made, once it is complete).
    let object_event = |change: ObjectChange| {
        o.object.as_ref().map(|object| {
            object_document(change, object.schema.name, &object.full_name(), o.timestamp)
        })
    };
    let created = || {
        o.completes_creation
            .then(|| object_event(ObjectChange::ObjectCreated))
            .flatten()
    };
    let fixed = o
        .object
        .as_ref()
        .and_then(|d| d.get("fixed"))
        .is_some_and(|f| f.to_bool());
    match &o.change {
        OperationEvent::AcknowledgementSet(a) => {
            let mut doc = with_state("AcknowledgementSet");
            doc.insert("acknowledgement_type".into(), json!(a.kind()));
            doc.insert("author".into(), json!(a.author));
            doc.insert("comment".into(), json!(a.comment));
            doc.insert("expiry".into(), json!(a.expiry));
            doc.insert("notify".into(), json!(a.notify));
            doc.insert("persistent".into(), json!(a.persistent));
            vec![Json::Object(doc)]
        }
        OperationEvent::AcknowledgementCleared {
            why: Cleared::Deleted,
            ..
        } => Vec::new(),
        // Icinga writes the bare fields without telling anyone.
        OperationEvent::AcknowledgementFieldsSet { .. } => Vec::new(),
        OperationEvent::AcknowledgementCleared { .. } => {
            let mut doc = with_state("AcknowledgementCleared");
            doc.insert("acknowledgement_type".into(), json!(0));
            vec![Json::Object(doc)]
        }
        OperationEvent::CommentAdded { .. } => [with_object("CommentAdded", "comment")]
            .into_iter()
            .chain(created())
            .collect(),
        OperationEvent::CommentRemoved { .. } => [with_object("CommentRemoved", "comment")]
            .into_iter()
            .chain(object_event(ObjectChange::ObjectDeleted))
            .collect(),
        OperationEvent::DowntimeAdded { .. } => [with_object("DowntimeAdded", "downtime")]
            .into_iter()
            .chain(created())
            .collect(),
        // Only a fixed downtime starts by the clock; a flexible one is
        // triggered by a problem.
        OperationEvent::DowntimeTriggered { .. } => fixed
            .then(|| with_object("DowntimeStarted", "downtime"))
            .into_iter()
            .chain([with_object("DowntimeTriggered", "downtime")])
            .chain(created())
            .collect(),
        OperationEvent::DowntimeRemoved { .. } => [with_object("DowntimeRemoved", "downtime")]
            .into_iter()
            .chain(object_event(ObjectChange::ObjectDeleted))
            .collect(),
        // One for each attribute set, as Icinga sets them one by one.
        OperationEvent::Modified { changes, .. } => changes
            .iter()
            .filter_map(|_| object_event(ObjectChange::ObjectModified))
            .collect(),
    }
}

/// `ObjectCreated`, `ObjectModified` or `ObjectDeleted`: which object,
/// not what it is.
fn object_document(change: ObjectChange, object_type: &str, name: &str, timestamp: f64) -> Json {
    json!({
        "object_name": name,
        "object_type": object_type,
        "timestamp": timestamp,
        "type": change.name(),
    })
}

/// An event as Icinga's stream shows it (some events are several there).
pub fn documents(event: &Event, registry: &Registry) -> Vec<Json> {
    let doc = match event {
        Event::Operation(o) => return operation_documents(o),
        Event::Object {
            change,
            object_type,
            object_name,
            timestamp,
        } => {
            return vec![object_document(
                *change,
                object_type,
                object_name,
                *timestamp,
            )]
        }
        Event::CheckResult {
            subject,
            check_result,
            live,
            timestamp,
        } => {
            let mut doc = head("CheckResult", subject, *timestamp);
            let vars = render::Vars::of(live);
            with_result(&mut doc, subject, check_result, vars, &live.marks, registry);
            doc
        }
        Event::StateChange {
            subject,
            state,
            state_type,
            check_result,
            live,
            marks,
            timestamp,
            ..
        } => {
            let mut doc = head("StateChange", subject, *timestamp);
            let vars = render::Vars::of(live);
            with_result(&mut doc, subject, check_result, vars, marks, registry);
            doc.insert("state".into(), json!(state));
            doc.insert("state_type".into(), json!(*state_type as u8));
            doc
        }
        Event::Flapping {
            subject,
            state,
            state_type,
            is_flapping,
            flapping_current,
            threshold_low,
            threshold_high,
            timestamp,
        } => {
            let mut doc = head("Flapping", subject, *timestamp);
            doc.insert("current_flapping".into(), json!(flapping_current));
            doc.insert("is_flapping".into(), json!(is_flapping));
            doc.insert("state".into(), json!(state));
            doc.insert("state_type".into(), json!(*state_type as u8));
            doc.insert("threshold_high".into(), json!(threshold_high));
            doc.insert("threshold_low".into(), json!(threshold_low));
            doc
        }
        Event::Notification {
            subject,
            command,
            users,
            notification_type,
            author,
            text,
            check_result,
            timestamp,
            ..
        } => {
            let mut doc = head("Notification", subject, *timestamp);
            doc.insert("author".into(), json!(author));
            let cr = check_result.as_ref().map_or(Json::Null, |cr| {
                picket_lang::json::to_serde(&render::check_result(cr, None, None))
            });
            doc.insert("check_result".into(), cr);
            doc.insert("command".into(), json!(command));
            doc.insert(
                "notification_type".into(),
                json!(notification_type.macro_value()),
            );
            doc.insert("text".into(), json!(text));
            doc.insert("users".into(), json!(users));
            doc
        }
    };
    vec![Json::Object(doc)]
}
