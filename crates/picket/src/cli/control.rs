//! Commands to a running node.
//!
//! The running node holds the data directory's lock, so `picket ca sign`
//! cannot open the stores itself. Instead it hands the command to the node
//! over a Unix socket in the data directory (`control.sock`, mode 0600: the
//! same people who may read the data directory may use it), the node
//! carries it out on its own stores and sends back what to print. The
//! command is recorded under the name of the user who ran the command
//! line, taken from the socket's peer credentials, not under the node's.
//! Without a running node, the command line does the same work itself.
//!
//! The same socket lists objects with their live state, reloads the
//! configuration, takes passive check results and streams the event bus
//! (one JSON document per line) for as long as the client reads.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use picket_pki::{cert, files, Authority};
use picket_store::{Actor, StoreError, StoreOptions};
use serde::{Deserialize, Serialize};

use super::ca::CaCommand;
use super::output::Output;
use crate::log;

pub const SOCKET: &str = "control.sock";
/// Requests carry at most a certificate request or a command: far less.
const MAX_REQUEST: u64 = 1 << 20;

#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    Ca(CaCommand),
    /// `pki sign-csr`: the request travels as PEM, so the node need not
    /// be able to read the operator's files.
    SignCsr {
        csr: String,
    },
    /// `object list`.
    Objects(super::object::Filter),
    /// `daemon --reload`: validate the configuration again and switch to
    /// it if it is valid.
    Reload,
    /// A passive check result for a host or service.
    ProcessCheckResult {
        name: String,
        exit_status: i64,
        output: String,
        #[serde(default)]
        performance_data: Vec<String>,
    },
    /// The event bus, until the client hangs up.
    Events,
    /// The node's check statistics (as the `icinga` check reports them)
    /// and how late checks started.
    Status,
}

/// What the node offers the control socket.
pub struct Node {
    pub authority: Arc<Authority>,
    pub checker: picket_checker::scheduler::Checker,
    pub bus: picket_model::event::Bus,
    /// Asks the node's main loop for a reload; the reply says how it went.
    pub reload: tokio::sync::mpsc::Sender<tokio::sync::oneshot::Sender<Reply>>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Reply {
    /// What to print, log lines included.
    pub output: String,
    pub code: u8,
    /// The certificate issued, PEM.
    pub certificate: Option<String>,
    /// Structured answers (the objects of `object list`).
    #[serde(default)]
    pub data: Option<serde_json::Value>,
}

impl Reply {
    pub fn print(&self) -> ExitCode {
        let _ = std::io::stdout().lock().write_all(self.output.as_bytes());
        ExitCode::from(self.code)
    }
}

fn describe(request: &Request) -> String {
    match request {
        Request::Ca(c) => format!("ca {c:?}"),
        Request::SignCsr { .. } => "pki sign-csr".to_string(),
        Request::Objects(f) => format!("object list {f:?}"),
        Request::Reload => "daemon --reload".to_string(),
        Request::ProcessCheckResult { name, .. } => format!("process-check-result for '{name}'"),
        Request::Events => "events".to_string(),
        Request::Status => "status".to_string(),
    }
}

/// Carries out a request on the CA; failures become the reply's text and
/// exit code, as the command line would have shown them.
pub fn execute(request: Request, authority: &Authority, actor: &Actor) -> Reply {
    let mut out = Output::default();
    let mut certificate = None;
    let result = match request {
        Request::Ca(command) => super::ca::execute(command, authority, actor, &mut out),
        Request::SignCsr { csr } => (|| {
            let csr = openssl::x509::X509Req::from_pem(csr.as_bytes())
                .context("not a PEM certificate signing request")?;
            let issued = authority.sign_csr(&csr, actor, cert::now())?;
            certificate = Some(String::from_utf8(issued.to_pem()?)?);
            Ok(0)
        })(),
        _ => Err(anyhow::anyhow!("only a running node can do this")),
    };
    let code = result.unwrap_or_else(|e| {
        out.critical("cli", &format!("{e:#}"));
        1
    });
    Reply {
        output: out.into_string(),
        code,
        certificate,
        data: None,
    }
}

impl Reply {
    fn failed(message: &str) -> Reply {
        Reply {
            output: log::line(picket_lang::eval::Severity::Critical, "cli", message),
            code: 1,
            ..Reply::default()
        }
    }
}

fn is_locked(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<StoreError>(),
            Some(StoreError::Locked { .. })
        )
    })
}

/// Runs `request` on the data directory's CA: here if no node runs,
/// otherwise in the node.
pub fn with_authority(data_dir: &Path, request: Request) -> anyhow::Result<Reply> {
    match super::data_dir::open(data_dir) {
        Ok((dir, _)) => {
            let (authority, _) = Authority::open(&dir, &StoreOptions::default())
                .with_context(|| format!("cannot open the CA stores in {}", data_dir.display()))?;
            Ok(execute(request, &authority, &super::operator()))
        }
        Err(e) if is_locked(&e) => forward(data_dir, &request),
        Err(e) => Err(e),
    }
}

/// Sends `request` to the node running on `data_dir`; `None` when no node
/// answers there (no socket, or one left behind by a node that stopped).
pub fn ask(data_dir: &Path, request: &Request) -> Option<anyhow::Result<Reply>> {
    let stream = UnixStream::connect(data_dir.join(SOCKET)).ok()?;
    Some(send(stream, data_dir, request))
}

fn forward(data_dir: &Path, request: &Request) -> anyhow::Result<Reply> {
    let stream =
        UnixStream::connect(data_dir.join(SOCKET)).with_context(|| unreachable(data_dir))?;
    send(stream, data_dir, request)
}

fn unreachable(data_dir: &Path) -> String {
    format!(
        "the data directory {} is in use by a running node, but its control socket {} does not answer",
        data_dir.display(),
        data_dir.join(SOCKET).display()
    )
}

fn send(mut stream: UnixStream, data_dir: &Path, request: &Request) -> anyhow::Result<Reply> {
    let path = data_dir.join(SOCKET);
    let unreachable = || unreachable(data_dir);
    // Signing takes milliseconds; an import of thousands of requests, a
    // few seconds. A node that does not answer in minutes is stuck.
    stream.set_read_timeout(Some(Duration::from_secs(600)))?;
    stream.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    stream.write_all(&line).with_context(unreachable)?;
    let mut reply = String::new();
    BufReader::new(stream)
        .read_line(&mut reply)
        .with_context(unreachable)?;
    serde_json::from_str(&reply)
        .with_context(|| format!("{}: the node's reply is unreadable", path.display()))
}

/// Serves the control socket until the task is dropped.
/// Binds the control socket of the data directory (readable by its owner
/// only). Done before the node says it runs, so that a command sent right
/// after finds it.
pub fn bind(data_dir: &Path) -> std::io::Result<tokio::net::UnixListener> {
    use std::os::unix::fs::PermissionsExt;
    let path = data_dir.join(SOCKET);
    // A socket left by a node that died: this node holds the lock now.
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

pub async fn serve(listener: tokio::net::UnixListener, node: Arc<Node>) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let node = node.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, node).await {
                log::warning("cli", &format!("Control socket: {e}"));
            }
        });
    }
}

async fn answer(stream: tokio::net::UnixStream, node: Arc<Node>) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let uid = stream.peer_cred()?.uid();
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    tokio::io::BufReader::new(read.take(MAX_REQUEST))
        .read_line(&mut line)
        .await?;
    let reply = match serde_json::from_str::<Request>(&line) {
        Ok(Request::Events) => return stream_events(&node, write).await,
        Ok(request) => {
            let actor = super::operator_of(uid);
            // Reads are not worth a log line; changes are.
            if !matches!(request, Request::Objects(_) | Request::Status) {
                log::info(
                    "cli",
                    &format!(
                        "Command from the command line ({}): {}",
                        actor.as_str(),
                        describe(&request)
                    ),
                );
            }
            carry_out(request, &node, actor).await
        }
        Err(e) => Reply::failed(&format!(
            "the node cannot read this command ({e}): are the command line and the node the same version?"
        )),
    };
    let mut bytes = serde_json::to_vec(&reply).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write.write_all(&bytes).await?;
    write.shutdown().await
}

async fn carry_out(request: Request, node: &Arc<Node>, actor: Actor) -> Reply {
    match request {
        Request::Objects(filter) => {
            let listed = node
                .checker
                .inspect(move |monitor, config, _| super::object::render(monitor, config, &filter))
                .await;
            match listed {
                Some(objects) => Reply {
                    data: Some(serde_json::Value::Array(objects)),
                    ..Reply::default()
                },
                None => Reply::failed("the checker has stopped"),
            }
        }
        Request::Status => match node.checker.inspect(status).await {
            Some(data) => Reply {
                data: Some(data),
                ..Reply::default()
            },
            None => Reply::failed("the checker has stopped"),
        },
        Request::Reload => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            if node.reload.send(tx).await.is_err() {
                return Reply::failed("the node is stopping");
            }
            rx.await
                .unwrap_or_else(|_| Reply::failed("the reload was abandoned"))
        }
        Request::ProcessCheckResult {
            name,
            exit_status,
            output,
            performance_data,
        } => {
            let now = picket_model::result::now();
            // As Icinga's API: a host takes 0 (UP) or 1 (DOWN, recorded as
            // CRITICAL); the result keeps exit status 0.
            let state = match (name.contains('!'), exit_status) {
                (true, _) => picket_checker::result::service_state(exit_status),
                (false, 0) => 0,
                (false, 1) => 2,
                (false, _) => return Reply::failed("Invalid 'exit_status' for Host"),
            };
            let (output, perf) = picket_checker::result::parse_output(&output);
            let mut perfdata: Vec<_> = performance_data;
            perfdata.extend(picket_checker::result::split_perfdata(&perf));
            let result = picket_model::result::CheckResult {
                active: false,
                without_perfdata: perfdata.is_empty(),
                performance_data: perfdata
                    .into_iter()
                    .map(picket_model::result::Perfdata::Text)
                    .collect(),
                check_source: actor.as_str().to_string(),
                ..picket_model::result::CheckResult::new(state, 0, output, now)
            };
            let (tx, rx) = tokio::sync::oneshot::channel();
            let command = picket_checker::scheduler::Command::Submit {
                full_name: name.clone(),
                result,
                reply: tx,
            };
            if !node.checker.send(command).await {
                return Reply::failed("the checker has stopped");
            }
            match rx.await {
                Ok(Ok(())) => Reply {
                    output: format!("Successfully processed check result for object '{name}'.\n"),
                    ..Reply::default()
                },
                Ok(Err(e)) => Reply::failed(&e),
                Err(_) => Reply::failed("the checker has stopped"),
            }
        }
        request => {
            let authority = node.authority.clone();
            tokio::task::spawn_blocking(move || execute(request, &authority, &actor))
                .await
                .unwrap_or_else(|_| Reply::failed("the node failed to carry out the command"))
        }
    }
}

/// The health figures by label, and the percentiles of how late the last
/// check of every checkable started after it was due.
fn status(
    monitor: &picket_model::monitor::Monitor,
    config: &picket_checker::scheduler::Config,
    stats: &picket_checker::stats::Stats,
) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    let identity = config
        .ctx
        .globals
        .get("NodeName")
        .map(|v| v.to_display())
        .unwrap_or_default();
    let facts = picket_checker::NodeFacts {
        uptime: stats.uptime(),
        registry: Some(&config.registry),
        identity: &identity,
        checker: Some((monitor, stats)),
        listener: None,
        ..Default::default()
    };
    for p in facts.health() {
        if let picket_model::result::Perfdata::Value(v) = p {
            out.insert(v.label, serde_json::json!(v.value));
        }
    }
    let mut late: Vec<f64> = monitor
        .checkables()
        .filter_map(|(_, _, e)| e.last_result.as_ref())
        .filter(|r| r.active)
        .map(|r| r.execution_start - r.schedule_start)
        .collect();
    late.sort_by(f64::total_cmp);
    let at = |q: f64| {
        late.get(((late.len() as f64 - 1.0) * q).round() as usize)
            .copied()
    };
    out.insert("lateness_p50".into(), serde_json::json!(at(0.5)));
    out.insert("lateness_p99".into(), serde_json::json!(at(0.99)));
    out.insert("lateness_max".into(), serde_json::json!(late.last()));
    serde_json::Value::Object(out)
}

/// Writes every event of the bus as a JSON line until the client leaves.
/// A client too slow for the bus is told how many events it missed.
async fn stream_events(
    node: &Node,
    mut write: tokio::net::unix::OwnedWriteHalf,
) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    use tokio::sync::broadcast::error::RecvError;
    let mut events = node.bus.subscribe();
    // The subscription is in place: say so, so the client can start
    // whatever it wants to watch.
    write.write_all(b"{\"type\":\"Subscribed\"}\n").await?;
    loop {
        let mut line = match events.recv().await {
            Ok(event) => serde_json::to_vec(event.as_ref()).map_err(std::io::Error::other)?,
            Err(RecvError::Lagged(n)) => {
                format!("{{\"type\":\"Lagged\",\"missed\":{n}}}").into_bytes()
            }
            Err(RecvError::Closed) => return Ok(()),
        };
        line.push(b'\n');
        write.write_all(&line).await?;
    }
}

/// `pki sign-csr` through [`with_authority`]: the certificate is written by
/// the command line, wherever the node runs.
pub fn sign_csr(data_dir: &Path, csr: &Path, cert_file: &Path) -> anyhow::Result<ExitCode> {
    let pem =
        std::fs::read_to_string(csr).with_context(|| format!("cannot read {}", csr.display()))?;
    let reply = with_authority(data_dir, Request::SignCsr { csr: pem })?;
    let code = reply.print();
    if let Some(certificate) = &reply.certificate {
        let issued = openssl::x509::X509::from_pem(certificate.as_bytes())?;
        files::write_cert(cert_file, &issued)?;
        log::info(
            "pki",
            &format!("Writing certificate to file '{}'.", cert_file.display()),
        );
    }
    Ok(code)
}
