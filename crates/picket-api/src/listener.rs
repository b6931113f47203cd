//! The TLS port: binding as Icinga's `ApiListener` does, the handshake,
//! and telling HTTP from cluster connections by their first byte.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use openssl::ssl::{Ssl, SslContext};
use picket_model::Registry;
use picket_pki::tls::{Peer, TlsSettings};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_openssl::SslStream;

/// Icinga's `TlsHandshakeTimeout`.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a new connection may stay silent after the handshake before
/// it is closed ("No data received on new API connection").
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(10);

/// The `ApiListener` attributes the port needs.
#[derive(Debug, Clone)]
pub struct ListenerSettings {
    pub bind_host: String,
    pub bind_port: String,
    pub tls: TlsSettings,
    /// `access_control_allow_origin`: origins that get CORS headers.
    pub allow_origin: Vec<String>,
    /// `ticket_salt`, for `generate-ticket`.
    pub ticket_salt: String,
}

impl ListenerSettings {
    /// The settings of the configuration's `ApiListener`; `None` when it
    /// has none (the `api` feature is off).
    pub fn from_registry(registry: &Registry) -> Option<ListenerSettings> {
        let listener = registry.committed("ApiListener").into_iter().next()?;
        let list = |name: &str| -> Vec<String> {
            match listener.get(name) {
                Some(picket_lang::Value::Array(a)) => {
                    a.to_vec().iter().map(|v| v.to_display()).collect()
                }
                _ => Vec::new(),
            }
        };
        let crl = listener.get_str("crl_path");
        Some(ListenerSettings {
            bind_host: listener.get_str("bind_host"),
            bind_port: listener.get_str("bind_port"),
            tls: TlsSettings {
                protocol_min: listener.get_str("tls_protocolmin"),
                cipher_list: listener.get_str("cipher_list"),
                crl_path: (!crl.is_empty()).then(|| crl.into()),
            },
            allow_origin: list("access_control_allow_origin"),
            ticket_salt: listener.get_str("ticket_salt"),
        })
    }
}

/// Binds `bind_host`:`bind_port` with `SO_REUSEADDR`. The default host
/// `::` also takes IPv4 (Linux maps it unless `bindv6only` is set); a
/// machine without IPv6 gets `0.0.0.0` instead, as with Icinga.
pub async fn bind(settings: &ListenerSettings) -> io::Result<TcpListener> {
    let port: u16 = settings.bind_port.trim().parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "ApiListener bind_port '{}' is not a port number",
                settings.bind_port
            ),
        )
    })?;
    let host = settings.bind_host.trim();
    let host = if host.is_empty() { "::" } else { host };
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
    let mut last = io::Error::new(
        io::ErrorKind::AddrNotAvailable,
        format!("ApiListener bind_host '{host}' resolves to no address"),
    );
    for addr in addrs {
        match listen(addr) {
            Ok(l) => return Ok(l),
            Err(e) if host == "::" => {
                let v4 = SocketAddr::from(([0, 0, 0, 0], port));
                return listen(v4).map_err(|_| e);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv6() {
        TcpSocket::new_v6()?
    } else {
        TcpSocket::new_v4()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

/// An accepted connection after its handshake, with the byte that told
/// what protocol it speaks put back in front.
pub struct Connection {
    pub stream: Prefixed<SslStream<TcpStream>>,
    pub peer: Peer,
    pub remote: SocketAddr,
}

/// What a connection speaks.
pub enum Protocol {
    Http(Connection),
    /// A JSON-RPC cluster connection: its first byte is a netstring digit.
    JsonRpc(Connection),
}

/// Runs the handshake and reads the first byte. `Err` carries the reason
/// for the log.
pub async fn accept(
    tls: &SslContext,
    tcp: TcpStream,
    remote: SocketAddr,
) -> Result<Protocol, String> {
    let _ = tcp.set_nodelay(true);
    let ssl = Ssl::new(tls).map_err(|e| format!("TLS setup failed: {e}"))?;
    let mut stream = SslStream::new(ssl, tcp).map_err(|e| format!("TLS setup failed: {e}"))?;
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, Pin::new(&mut stream).accept()).await {
        Err(_) => return Err("TLS handshake timed out".into()),
        Ok(Err(e)) => return Err(format!("TLS handshake failed: {e}")),
        Ok(Ok(())) => {}
    }
    let peer = picket_pki::tls::peer(stream.ssl());
    let mut first = [0u8; 1];
    match tokio::time::timeout(FIRST_BYTE_TIMEOUT, stream.read(&mut first)).await {
        Ok(Ok(1)) => {}
        _ => return Err("No data received on new API connection".into()),
    }
    let connection = Connection {
        stream: Prefixed {
            prefix: Some(first[0]),
            inner: stream,
        },
        peer,
        remote,
    };
    Ok(if first[0].is_ascii_digit() {
        Protocol::JsonRpc(connection)
    } else {
        Protocol::Http(connection)
    })
}

/// A stream with one byte already read from it put back in front.
pub struct Prefixed<S> {
    prefix: Option<u8>,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(b) = self.prefix {
            if buf.remaining() > 0 {
                buf.put_slice(&[b]);
                self.prefix = None;
                return Poll::Ready(Ok(()));
            }
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
