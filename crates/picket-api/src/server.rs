//! Serving the port: one task per connection, hyper for HTTP/1.x, and the
//! request pipeline Icinga runs before a handler sees a request (Accept
//! header, authentication, body limits, parameters, method override).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{
    HeaderValue, ACCEPT, ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS,
    ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_REQUEST_METHOD,
    AUTHORIZATION, CONTENT_LENGTH, ORIGIN, SERVER, WWW_AUTHENTICATE,
};
use hyper::{Method, Request, Response, Version};
use hyper_util::rt::{TokioIo, TokioTimer};
use openssl::ssl::SslContext;
use picket_pki::tls::Peer;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::auth::{self, User};
use crate::body::Body;
use crate::engine::{Config, Engine};
use crate::listener::{self, ListenerSettings, Protocol};
use crate::params::{self, Params, ParamsError};
use crate::reply::{self, Reply};
use crate::routes;

/// The methods `X-HTTP-Method-Override` may name, spelled exactly (as
/// Icinga's HTTP library knows them); any other value is ignored, `get`
/// included, and the request keeps its own method.
const VERBS: &[&str] = &[
    "DELETE",
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "COPY",
    "LOCK",
    "MKCOL",
    "MOVE",
    "PROPFIND",
    "PROPPATCH",
    "SEARCH",
    "UNLOCK",
    "BIND",
    "REBIND",
    "UNBIND",
    "ACL",
    "REPORT",
    "MKACTIVITY",
    "CHECKOUT",
    "MERGE",
    "M-SEARCH",
    "NOTIFY",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "PATCH",
    "PURGE",
    "MKCALENDAR",
    "LINK",
    "UNLINK",
];

/// Request bodies of ordinary users are limited to 1 MiB; users who may
/// change configuration packages may send 512 MiB, as in Icinga.
const BODY_LIMIT: u64 = 1 << 20;
const BODY_LIMIT_CONFIG: u64 = 512 << 20;

/// Request heads are limited as in Icinga (1 MiB).
const HEAD_LIMIT: usize = 1 << 20;

/// A keep-alive connection with no request for this long is closed
/// (Icinga's liveness timeout), and so is one slow to send its head.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The API of one node.
pub struct Api<E: Engine> {
    pub engine: E,
    pub settings: ListenerSettings,
    /// Bounds the CPU-heavy work of requests (filters, big answers) so
    /// that the I/O threads never stall.
    pub pool: Arc<Semaphore>,
    /// What `Server:` and `/v1/status` call this program.
    pub version: String,
    pub node_name: String,
    /// The script console's sessions.
    pub consoles: crate::console::Sessions,
}

impl<E: Engine> Api<E> {
    pub fn new(engine: E, settings: ListenerSettings, node_name: &str, version: &str) -> Api<E> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Api {
            engine,
            settings,
            pool: Arc::new(Semaphore::new((cores * 3 / 2).max(2))),
            version: version.to_string(),
            node_name: node_name.to_string(),
            consoles: Default::default(),
        }
    }

    /// A slot of the pool for CPU-heavy work; `None` once the pool is
    /// closed (never, in practice: work then goes ahead unbounded).
    pub async fn slot(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.pool.clone().acquire_owned().await.ok()
    }
}

/// Serves the port until the task is dropped. Cluster connections are
/// handed to `cluster` (the JSON-RPC side of the port).
pub async fn serve<E: Engine>(
    api: Arc<Api<E>>,
    listener: TcpListener,
    tls: SslContext,
    cluster: Option<Arc<dyn Fn(listener::Connection) + Send + Sync>>,
) {
    let tls = Arc::new(tls);
    loop {
        let (tcp, remote) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(target: "ApiListener", "Cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (api, tls, cluster) = (api.clone(), tls.clone(), cluster.clone());
        tokio::spawn(async move {
            match listener::accept(&tls, tcp, remote).await {
                Ok(Protocol::Http(c)) => serve_http(api, c).await,
                Ok(Protocol::JsonRpc(c)) => match cluster {
                    Some(handle) => handle(c),
                    None => tracing::info!(
                        target: "ApiListener",
                        "Closing the JSON-RPC connection from {remote}: this node has no cluster endpoint configured."
                    ),
                },
                Err(why) => tracing::info!(target: "ApiListener", "{why} (from {remote})"),
            }
        });
    }
}

async fn serve_http<E: Engine>(api: Arc<Api<E>>, c: listener::Connection) {
    let counted = api.clone();
    let _client = counted.engine.listener().client();
    let peer = Arc::new(c.peer);
    let remote = c.remote;
    let service = hyper::service::service_fn(move |req| {
        let (api, peer) = (api.clone(), peer.clone());
        async move { Ok::<_, std::convert::Infallible>(handle(&api, &peer, remote, req).await) }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(IDLE_TIMEOUT)
        .max_buf_size(HEAD_LIMIT)
        .keep_alive(true)
        .serve_connection(TokioIo::new(c.stream), service)
        .await;
    if let Err(e) = served {
        tracing::debug!(target: "HttpServerConnection", "Connection from {remote} ended: {e}");
    }
}

/// One request, after Icinga's checks, as the handlers see it.
pub struct Call<'a, E: Engine> {
    pub api: &'a Arc<Api<E>>,
    pub config: Config,
    pub user: User,
    pub method: Method,
    /// The path's segments, percent-decoded (`["v1", "objects", "hosts"]`).
    pub path: Vec<String>,
    pub params: Params,
    pub pretty: bool,
    pub version: Version,
    /// The client sent `Accept: application/json`.
    pub wants_json: bool,
}

impl<E: Engine> Call<'_, E> {
    /// Whether errors carry their diagnostic. A `verbose` that is no
    /// number never gets here: the server answers such requests itself.
    pub fn verbose(&self) -> bool {
        self.params.switch("verbose").unwrap_or(false)
    }
}

fn header(req: &Request<Incoming>, name: impl hyper::header::AsHeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn wants_json(req: &Request<Incoming>) -> bool {
    header(req, ACCEPT) == Some("application/json")
}

async fn handle<E: Engine>(
    api: &Arc<Api<E>>,
    peer: &Peer,
    remote: SocketAddr,
    req: Request<Incoming>,
) -> Response<Body> {
    // CORS, as Icinga does it once `access_control_allow_origin` lists
    // any origin: credentials are always allowed, a listed origin is
    // echoed, and a preflight is answered before authentication.
    let cors = !api.settings.allow_origin.is_empty();
    let origin = header(&req, ORIGIN)
        .filter(|o| api.settings.allow_origin.iter().any(|a| a == o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let preflight = cors
        && req.method() == Method::OPTIONS
        && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    let mut reply = if preflight {
        preflight_reply()
    } else {
        pipeline(api, peer, remote, req).await
    };
    if reply.extensions().get::<Unhandled>().is_some() {
        return reply;
    }
    let headers = reply.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("Icinga/{}", api.version)) {
        headers.insert(SERVER, v);
    }
    if cors {
        if let Some(origin) = origin {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        }
        headers.insert(
            ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    reply
}

/// The answer to a CORS preflight: what browsers may send.
fn preflight_reply() -> Reply {
    let mut r = Response::new(Body::full("Preflight OK"));
    let h = r.headers_mut();
    h.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, DELETE"),
    );
    h.insert(
        ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type, X-HTTP-Method-Override"),
    );
    h.insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    r
}

/// Icinga's answer to a body over the limit; the connection is closed,
/// since the rest of the body is not read.
fn body_limit_exceeded() -> Reply {
    let mut r = reply::error(400, "Bad Request: body limit exceeded", false);
    r.headers_mut()
        .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    r
}

async fn pipeline<E: Engine>(
    api: &Arc<Api<E>>,
    peer: &Peer,
    remote: SocketAddr,
    req: Request<Incoming>,
) -> Reply {
    if req.method() != Method::GET && header(&req, ACCEPT) != Some("application/json") {
        return reply::html(
            400,
            "Accept header is missing or not set to 'application/json'.",
        );
    }
    let config = api.engine.config();
    let Some(user) = auth::authenticate(&config.registry, peer, header(&req, AUTHORIZATION)) else {
        tracing::warn!(target: "HttpServerConnection", "Unauthorized request from {remote}: {} {}", req.method(), req.uri());
        let mut r = if wants_json(&req) {
            reply::error(
                401,
                "Unauthorized. Please check your user credentials.",
                false,
            )
        } else {
            reply::html(401, "Unauthorized. Please check your user credentials.")
        };
        r.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Icinga 2\""),
        );
        r.headers_mut()
            .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
        return r;
    };
    let limit = if user.may("config/modify") {
        BODY_LIMIT_CONFIG
    } else {
        BODY_LIMIT
    };
    let declared = header(&req, CONTENT_LENGTH).and_then(|l| l.trim().parse::<u64>().ok());
    if declared.is_some_and(|l| l > limit) {
        return body_limit_exceeded();
    }
    let method = req.method().clone();
    let version = req.version();
    let wants_json = wants_json(&req);
    let override_method = header(&req, "x-http-method-override")
        .filter(|m| VERBS.contains(m))
        .map(str::to_string);
    let uri = req.uri().clone();
    let body = match http_body_util::Limited::new(req.into_body(), limit as usize)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return body_limit_exceeded(),
        Err(_) => Bytes::new(),
    };
    if !crate::target::is_valid(uri.path(), uri.query()) {
        return unhandled();
    }
    let params = match Params::parse(&body, uri.query()) {
        Ok(p) => p,
        Err(ParamsError::Body(text)) => return reply::error(400, &text, false),
    };
    let method = match override_method {
        Some(m) => Method::from_bytes(m.as_bytes()).unwrap_or(method),
        None => method,
    };
    let path: Vec<String> = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| params::decode(s, false))
        .collect();
    // Icinga reads `pretty` and `verbose` through numbers, and a value
    // that is none fails where it is read: `pretty` when any answer is
    // encoded, `verbose` when an error is, and before anything is done
    // in the handlers that read it first (actions, create, modify,
    // delete). Either failure leaves a bare 500.
    let pretty = params.switch("pretty");
    let pretty_fails = pretty.is_err();
    let verbose_fails = params.switch("verbose").is_err();
    if verbose_fails && reads_verbose_first(&method, &path) {
        return unhandled();
    }
    let event_stream = path == ["v1", "events"];
    let call = Call {
        api,
        config,
        pretty: pretty.unwrap_or(false),
        user,
        method,
        path,
        params,
        version,
        wants_json,
    };
    let reply = routes::route(call).await;
    let failed = reply.status().as_u16() >= 400;
    if (pretty_fails && (failed || !event_stream)) || (verbose_fails && failed) {
        return unhandled();
    }
    reply
}

/// Marks Icinga's answer to an exception that escapes its handlers: a
/// response made afresh, without the `Server` and CORS headers.
#[derive(Clone, Copy)]
struct Unhandled;

fn unhandled() -> Reply {
    let mut r = reply::error(500, "Unhandled exception", false);
    r.extensions_mut().insert(Unhandled);
    r
}

/// The handlers that read `verbose` before they act.
fn reads_verbose_first(method: &Method, path: &[String]) -> bool {
    match path {
        [v1, actions, _] if v1 == "v1" && actions == "actions" => *method == Method::POST,
        [v1, objects, _, ..] if v1 == "v1" && objects == "objects" && path.len() <= 4 => {
            matches!(*method, Method::PUT | Method::POST | Method::DELETE)
        }
        _ => false,
    }
}
