//! Which handler a request goes to, by method and path.

use hyper::header::{HeaderValue, LOCATION};
use hyper::{Method, StatusCode};

use crate::body::Body;
use crate::engine::Engine;
use crate::reply::{self, Reply};
use crate::server::Call;
use crate::{actions, changes, console, events, introspect, objects, packages, status};

pub async fn route<E: Engine>(call: Call<'_, E>) -> Reply {
    let path: Vec<String> = call.path.clone();
    let segs: Vec<&str> = path.iter().map(String::as_str).collect();
    let method = call.method.clone();
    match (&method, segs.as_slice()) {
        (_, []) => {
            let mut r = hyper::Response::new(Body::empty());
            *r.status_mut() = StatusCode::FOUND;
            r.headers_mut()
                .insert(LOCATION, HeaderValue::from_static("/v1"));
            r
        }
        (&Method::GET, ["v1"]) => status::hello(&call, call.wants_json),
        (&Method::GET, ["v1", "status"]) => status::status(call, None).await,
        (&Method::GET, ["v1", "status", c]) => {
            let c = c.to_string();
            status::status(call, Some(&c)).await
        }
        (&Method::GET, ["v1", "objects", plural, rest @ ..]) if rest.len() <= 1 => {
            match objects::type_of_plural(plural) {
                Some(schema) => {
                    let name = rest.first().map(|n| n.to_string());
                    objects::query(call, schema, name.as_ref()).await
                }
                None => reply::error(400, "Invalid type specified.", call.pretty),
            }
        }
        (&Method::PUT, ["v1", "objects", plural, name]) => match objects::type_of_plural(plural) {
            Some(schema) => {
                let name = name.to_string();
                changes::create(call, schema, &name).await
            }
            None => reply::error(400, "Invalid type specified.", call.pretty),
        },
        (&Method::POST | &Method::DELETE, ["v1", "objects", plural, rest @ ..])
            if rest.len() <= 1 =>
        {
            match objects::type_of_plural(plural) {
                Some(schema) => {
                    let name = rest.first().map(|n| n.to_string());
                    if method == Method::POST {
                        changes::modify(call, schema, name.as_ref()).await
                    } else {
                        changes::delete(call, schema, name.as_ref()).await
                    }
                }
                None => reply::error(400, "Invalid type specified.", call.pretty),
            }
        }
        (&Method::POST, ["v1", "actions", action]) => {
            let action = action.to_string();
            actions::handle(call, &action).await
        }
        (&Method::POST, ["v1", "events"]) => events::handle(call).await,
        (&Method::POST, ["v1", "console", what]) => {
            let what = what.to_string();
            console::handle(call, &what).await
        }
        (&Method::GET, ["v1", "variables"]) => introspect::variables(&call, None),
        (&Method::GET, ["v1", "variables", name]) => {
            let name = name.to_string();
            introspect::variables(&call, Some(&name))
        }
        (&Method::GET, ["v1", "types", rest @ ..]) if rest.len() <= 1 => {
            let name = rest.first().map(|n| n.to_string());
            introspect::types(&call, name.as_ref())
        }
        (&Method::GET, ["v1", "templates", plural, rest @ ..]) if rest.len() <= 1 => {
            let name = rest.first().map(|n| n.to_string());
            introspect::templates(&call, plural, name.as_ref())
        }
        (&Method::GET, ["v1", "config", "packages", ..]) => packages::list(&call),
        (&Method::POST | &Method::DELETE, ["v1", "config", "packages", rest @ ..])
            if rest.len() <= 1 =>
        {
            let name = rest.first().copied().unwrap_or_default();
            if method == Method::POST {
                packages::create(&call, name)
            } else {
                packages::delete(&call, name)
            }
        }
        (&Method::POST, ["v1", "config", "stages", rest @ ..]) if rest.len() <= 1 => {
            packages::upload(&call, rest.first().copied().unwrap_or_default())
        }
        (&Method::GET | &Method::DELETE, ["v1", "config", "stages", package, rest @ ..])
            if rest.len() <= 1 =>
        {
            let stage = rest.first().copied();
            if method == Method::GET {
                packages::entries(&call, package, stage)
            } else {
                packages::delete_stage(&call, package, stage)
            }
        }
        (&Method::GET, ["v1", "config", "files", package, stage, rest @ ..]) => {
            packages::file(&call, package, stage, &rest.join("/"))
        }
        _ => not_found(&call),
    }
}

/// Icinga's answer for a path no handler takes.
pub fn not_found<E: Engine>(call: &Call<'_, E>) -> Reply {
    reply::error(
        404,
        &format!(
            "The requested path '{}' could not be found or the request method is not valid for this path.",
            call.path.join("/")
        ),
        call.pretty,
    )
}
