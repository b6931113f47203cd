//! `/v1/config/packages`, `/v1/config/stages` and `/v1/config/files`:
//! configuration deployed through the API, as Icinga Director deploys it.
//! A stage is written whole, answered at once, and validated by the node
//! in the background; its `status` and `startup.log` tell the outcome.
//! The files are the node's ([`picket_packages`]); this module checks
//! permissions and names and gives Icinga's answers.

use hyper::header::{HeaderValue, CONTENT_TYPE};
use picket_packages::{valid_name, Error as PackageError, FileError};
use serde_json::{json, Value as Json};

use crate::body::Body;
use crate::engine::Engine;
use crate::reply::{self, Reply};
use crate::routes::not_found;
use crate::server::Call;

const QUERY: &str = "config/query";
const MODIFY: &str = "config/modify";

/// A failure with Icinga's text, and the reason behind it for `verbose`.
fn failed<E: Engine>(
    call: &Call<'_, E>,
    code: u16,
    text: &str,
    why: &dyn std::fmt::Display,
) -> Reply {
    if call.verbose() {
        reply::error_with(code, text, &format!("Error: {why}\n"), call.pretty)
    } else {
        reply::error(code, text, call.pretty)
    }
}

fn invalid_package<E: Engine>(call: &Call<'_, E>, name: &str) -> Reply {
    reply::error(400, &format!("Invalid package name '{name}'."), call.pretty)
}

fn invalid_stage<E: Engine>(call: &Call<'_, E>, name: &str) -> Reply {
    reply::error(400, &format!("Invalid stage name '{name}'."), call.pretty)
}

/// `GET /v1/config/packages[/<anything>]`: every package (Icinga ignores
/// a name here too).
pub fn list<E: Engine>(call: &Call<'_, E>) -> Reply {
    if !call.user.may(QUERY) {
        return not_found(call);
    }
    let results = call
        .api
        .engine
        .packages()
        .list()
        .into_iter()
        .map(|p| json!({"active-stage": p.active_stage, "name": p.name, "stages": p.stages}))
        .collect();
    reply::results(200, results, call.pretty)
}

/// `POST /v1/config/packages/<name>`.
pub fn create<E: Engine>(call: &Call<'_, E>, name: &str) -> Reply {
    if !call.user.may(MODIFY) {
        return not_found(call);
    }
    if !valid_name(name) {
        return invalid_package(call, name);
    }
    match call.api.engine.packages().create(name) {
        Ok(()) => {
            tracing::info!(target: "ConfigPackages", "Package '{name}' created by '{}'.", call.user.name);
            reply::results(
                200,
                vec![json!({"code": 200, "package": name, "status": "Created package."})],
                call.pretty,
            )
        }
        Err(e) => failed(
            call,
            500,
            &format!("Could not create package '{name}'."),
            &e,
        ),
    }
}

/// `DELETE /v1/config/packages/<name>`: its objects go with the next
/// load, which follows at once (Icinga restarts).
pub fn delete<E: Engine>(call: &Call<'_, E>, name: &str) -> Reply {
    if !call.user.may(MODIFY) {
        return not_found(call);
    }
    if !valid_name(name) {
        return invalid_package(call, name);
    }
    let engine = &call.api.engine;
    match engine.packages().delete(name) {
        Ok(()) => {
            tracing::info!(target: "ConfigPackages", "Package '{name}' deleted by '{}'.", call.user.name);
            engine.request(crate::engine::ProcessRequest::Restart);
            reply::results(
                200,
                vec![json!({"code": 200, "package": name, "status": "Deleted package."})],
                call.pretty,
            )
        }
        Err(e) => failed(
            call,
            500,
            &format!("Failed to delete package '{name}'."),
            &e,
        ),
    }
}

/// Why an upload was refused before anything was written.
#[derive(Debug, thiserror::Error)]
enum UploadError {
    #[error("Parameter 'files' must be specified.")]
    NoFiles,
    #[error("Parameter 'reload' must be false when 'activate' is false.")]
    ReloadWithoutActivate,
    #[error("The content of file '{0}' must be a string.")]
    NotText(String),
    #[error("{0}")]
    Package(#[from] PackageError),
}

/// The uploaded files as (path, text); scalars are taken as their text,
/// as Icinga converts them.
fn files(value: Option<&Json>) -> Result<Vec<(String, String)>, UploadError> {
    let Some(Json::Object(map)) = value else {
        return Err(UploadError::NoFiles);
    };
    map.iter()
        .map(|(path, v)| {
            let text = match v {
                Json::String(s) => s.clone(),
                Json::Null => String::new(),
                Json::Bool(_) | Json::Number(_) => v.to_string(),
                Json::Array(_) | Json::Object(_) => return Err(UploadError::NotText(path.clone())),
            };
            Ok((path.clone(), text))
        })
        .collect()
}

/// `POST /v1/config/stages/<package>` with `files`, `activate` and
/// `reload` (both true unless given).
pub fn upload<E: Engine>(call: &Call<'_, E>, package: &str) -> Reply {
    if !call.user.may(MODIFY) {
        return not_found(call);
    }
    if !valid_name(package) {
        return invalid_package(call, package);
    }
    let (Ok(reload), Ok(activate)) = (
        call.params.switch_or("reload", true),
        call.params.switch_or("activate", true),
    ) else {
        return not_found(call);
    };
    let engine = &call.api.engine;
    let packages = engine.packages();
    let prepared = files(call.params.get("files")).and_then(|files| {
        if reload && !activate {
            return Err(UploadError::ReloadWithoutActivate);
        }
        if !packages.exists(package) {
            return Err(PackageError::NoPackage.into());
        }
        Ok(files)
    });
    let files = match prepared {
        Ok(f) => f,
        Err(e) => return failed(call, 500, "Stage creation failed.", &e),
    };
    let Some(guard) = packages.begin_update() else {
        return reply::error(
            423,
            "Conflicting request, there is already an ongoing package update in progress. Please try it again later.",
            call.pretty,
        );
    };
    let stage = match packages.create_stage(package, &files) {
        Ok(s) => s,
        Err(e) => return failed(call, 500, "Stage creation failed.", &e),
    };
    tracing::info!(
        target: "ConfigPackages",
        "Stage '{stage}' of package '{package}' uploaded by '{}' ({} files); validating it.",
        call.user.name,
        files.len()
    );
    engine.deploy_stage(package.to_string(), stage.clone(), activate, reload, guard);
    let status = if reload {
        "Created stage. Reload triggered."
    } else {
        "Created stage. Reload skipped."
    };
    reply::results(
        200,
        vec![json!({"code": 200, "package": package, "stage": stage, "status": status})],
        call.pretty,
    )
}

/// The stage a request names, once the user may do `permission` and both
/// names are valid; otherwise Icinga's answer.
fn stage_named<'a, E: Engine>(
    call: &Call<'_, E>,
    permission: &str,
    package: &str,
    stage: Option<&'a str>,
) -> Result<&'a str, Box<Reply>> {
    if !call.user.may(permission) {
        return Err(Box::new(not_found(call)));
    }
    if !valid_name(package) {
        return Err(Box::new(invalid_package(call, package)));
    }
    let stage = stage.unwrap_or_default();
    if !valid_name(stage) {
        return Err(Box::new(invalid_stage(call, stage)));
    }
    Ok(stage)
}

/// `GET /v1/config/stages/<package>/<stage>`: its files and directories.
pub fn entries<E: Engine>(call: &Call<'_, E>, package: &str, stage: Option<&str>) -> Reply {
    let stage = match stage_named(call, QUERY, package, stage) {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    match call.api.engine.packages().stage_entries(package, stage) {
        Some(entries) => {
            let results = entries
                .into_iter()
                .map(|e| {
                    let kind = if e.directory { "directory" } else { "file" };
                    json!({"name": e.name, "type": kind})
                })
                .collect();
            reply::results(200, results, call.pretty)
        }
        None => not_found(call),
    }
}

/// `DELETE /v1/config/stages/<package>/<stage>`.
pub fn delete_stage<E: Engine>(call: &Call<'_, E>, package: &str, stage: Option<&str>) -> Reply {
    let stage = match stage_named(call, MODIFY, package, stage) {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    match call.api.engine.packages().delete_stage(package, stage) {
        Ok(()) => reply::results(
            200,
            vec![
                json!({"code": 200, "package": package, "stage": stage, "status": "Stage deleted."}),
            ],
            call.pretty,
        ),
        Err(e) => failed(
            call,
            500,
            &format!("Failed to delete stage '{stage}' in package '{package}'."),
            &e,
        ),
    }
}

/// `GET /v1/config/files/<package>/<stage>/<path>`: the file as it is,
/// for clients that do not ask for JSON.
pub fn file<E: Engine>(call: &Call<'_, E>, package: &str, stage: &str, path: &str) -> Reply {
    if !call.user.may(QUERY) {
        return not_found(call);
    }
    if call.wants_json {
        return reply::error(
            400,
            "Invalid Accept header. Either remove the Accept header or set it to 'application/octet-stream'.",
            call.pretty,
        );
    }
    if !valid_name(package) {
        return invalid_package(call, package);
    }
    if !valid_name(stage) {
        return invalid_stage(call, stage);
    }
    match call.api.engine.packages().read(package, stage, path) {
        Ok(bytes) => {
            let mut r = hyper::Response::new(Body::full(bytes));
            r.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            r
        }
        Err(e) => {
            let code = match e {
                FileError::DotDot => 400,
                FileError::NotFound => 404,
                FileError::Unreadable => 500,
            };
            reply::error(code, &e.to_string(), call.pretty)
        }
    }
}
