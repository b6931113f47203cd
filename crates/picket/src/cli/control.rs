//! Commands on the CA while the node runs.
//!
//! The running node holds the data directory's lock, so `picket ca sign`
//! cannot open the stores itself. Instead it hands the command to the node
//! over a Unix socket in the data directory (`control.sock`, mode 0600: the
//! same people who may read the data directory may use it), the node
//! carries it out on its own stores and sends back what to print. The
//! command is recorded under the name of the user who ran the command
//! line, taken from the socket's peer credentials, not under the node's.
//! Without a running node, the command line does the same work itself.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
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
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Reply {
    /// What to print, log lines included.
    pub output: String,
    pub code: u8,
    /// The certificate issued, PEM.
    pub certificate: Option<String>,
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
    };
    let code = result.unwrap_or_else(|e| {
        out.critical("cli", &format!("{e:#}"));
        1
    });
    Reply {
        output: out.into_string(),
        code,
        certificate,
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

fn forward(data_dir: &Path, request: &Request) -> anyhow::Result<Reply> {
    let path = data_dir.join(SOCKET);
    let unreachable = || {
        format!(
            "the data directory {} is in use by a running node, but its control socket {} does not answer",
            data_dir.display(),
            path.display()
        )
    };
    let mut stream = UnixStream::connect(&path).with_context(unreachable)?;
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
pub async fn serve(data_dir: PathBuf, authority: Arc<Authority>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = data_dir.join(SOCKET);
    // A socket left by a node that died: this node holds the lock now.
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    loop {
        let (stream, _) = listener.accept().await?;
        let authority = authority.clone();
        tokio::spawn(async move {
            if let Err(e) = answer(stream, authority).await {
                log::warning("cli", &format!("Control socket: {e}"));
            }
        });
    }
}

async fn answer(stream: tokio::net::UnixStream, authority: Arc<Authority>) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let uid = stream.peer_cred()?.uid();
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    tokio::io::BufReader::new(read.take(MAX_REQUEST))
        .read_line(&mut line)
        .await?;
    let reply = match serde_json::from_str::<Request>(&line) {
        Ok(request) => {
            let actor = super::operator_of(uid);
            log::info(
                "cli",
                &format!(
                    "Command from the command line ({}): {}",
                    actor.as_str(),
                    describe(&request)
                ),
            );
            tokio::task::spawn_blocking(move || execute(request, &authority, &actor))
                .await
                .unwrap_or_else(|_| Reply {
                    output: log::line(
                        picket_lang::eval::Severity::Critical,
                        "cli",
                        "the node failed to carry out the command",
                    ),
                    code: 1,
                    certificate: None,
                })
        }
        Err(e) => Reply {
            output: log::line(
                picket_lang::eval::Severity::Critical,
                "cli",
                &format!("the node cannot read this command ({e}): are the command line and the node the same version?"),
            ),
            code: 1,
            certificate: None,
        },
    };
    let mut bytes = serde_json::to_vec(&reply).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write.write_all(&bytes).await?;
    write.shutdown().await
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
