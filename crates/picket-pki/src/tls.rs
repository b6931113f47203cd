//! TLS settings for the cluster and API port, made to negotiate with
//! Icinga 2's OpenSSL peers exactly as Icinga 2 does.
//!
//! OpenSSL rather than rustls: `ApiListener.cipher_list` is an OpenSSL
//! cipher string that operators have tuned for years and must keep
//! working, Icinga 2.13's default list includes suites rustls does not
//! implement (DHE and plain-RSA key exchange, used by old agents limited to
//! TLS 1.2), `crl_path` needs OpenSSL's CRL checks, and Icinga's
//! verification model (always ask for a client certificate, never fail the
//! handshake over it, decide afterwards) maps directly onto OpenSSL's verify
//! callback. The key and certificate formats are OpenSSL's too.

use std::path::{Path, PathBuf};

use openssl::pkey::{PKey, Private};
use openssl::ssl::{
    SslContext, SslContextBuilder, SslMethod, SslOptions, SslRef, SslSessionCacheMode,
    SslVerifyMode, SslVersion,
};
use openssl::x509::store::X509Lookup;
use openssl::x509::verify::X509VerifyFlags;
use openssl::x509::{X509VerifyResult, X509};

use crate::{cert, files, PkiError};

/// Icinga 2.13's default `cipher_list` (it only governs TLS 1.2; TLS 1.3
/// suites are OpenSSL's defaults, as in Icinga).
pub const DEFAULT_CIPHER_LIST: &str = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:\
ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:\
ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:\
ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:DHE-RSA-AES128-GCM-SHA256:\
DHE-RSA-AES256-GCM-SHA384:AES256-GCM-SHA384:AES128-GCM-SHA256";

/// The session id context Icinga sets, so that session resumption works
/// the same way against either.
const SESSION_ID_CONTEXT: &[u8] = b"Icinga 2";

/// The `ApiListener` attributes that shape TLS.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// `tls_protocolmin`: `TLSv1.2` (default) or `TLSv1.3`.
    pub protocol_min: String,
    /// `cipher_list`.
    pub cipher_list: String,
    /// `crl_path`: a PEM CRL checked for every peer certificate.
    pub crl_path: Option<PathBuf>,
}

impl Default for TlsSettings {
    fn default() -> TlsSettings {
        TlsSettings {
            protocol_min: "TLSv1.2".into(),
            cipher_list: DEFAULT_CIPHER_LIST.into(),
            crl_path: None,
        }
    }
}

/// A node's TLS identity: its key, its certificate (with any chain), and
/// the CA it trusts.
pub struct Identity {
    pub key: PKey<Private>,
    pub chain: Vec<X509>,
    pub ca: X509,
}

impl Identity {
    /// `certs/<cn>.key`, `certs/<cn>.crt` (a chain file) and `certs/ca.crt`.
    pub fn load(certs_dir: &Path, cn: &str) -> Result<Identity, PkiError> {
        let (key, cert) = crate::node_files(certs_dir, cn);
        Ok(Identity {
            key: files::read_key(&key)?,
            chain: files::read_certs(&cert)?,
            ca: files::read_cert(&certs_dir.join("ca.crt"))?,
        })
    }

    /// The common name this node presents.
    pub fn cn(&self) -> Option<String> {
        self.chain
            .first()
            .and_then(|c| cert::common_name(c.subject_name()))
    }
}

fn protocol(min: &str) -> Result<SslVersion, PkiError> {
    match min {
        "TLSv1.2" => Ok(SslVersion::TLS1_2),
        "TLSv1.3" => Ok(SslVersion::TLS1_3),
        other => Err(PkiError::Invalid(format!(
            "tls_protocolmin '{other}' is not supported: use 'TLSv1.2' or 'TLSv1.3'"
        ))),
    }
}

fn context(identity: &Identity, settings: &TlsSettings) -> Result<SslContextBuilder, PkiError> {
    let e = |what: &str| PkiError::ssl(format!("TLS setup: {what}"));
    let mut b = SslContextBuilder::new(SslMethod::tls()).map_err(e("context"))?;
    b.set_options(
        SslOptions::ALL
            | SslOptions::NO_COMPRESSION
            | SslOptions::NO_SSLV2
            | SslOptions::NO_SSLV3
            | SslOptions::NO_TLSV1
            | SslOptions::NO_TLSV1_1
            | SslOptions::CIPHER_SERVER_PREFERENCE
            | SslOptions::NO_RENEGOTIATION,
    );
    b.set_min_proto_version(Some(protocol(&settings.protocol_min)?))
        .map_err(e("tls_protocolmin"))?;
    b.set_cipher_list(&settings.cipher_list)
        .map_err(|source| PkiError::Ssl {
            what: format!(
                "cipher_list '{}' selects no usable cipher",
                settings.cipher_list
            ),
            source,
        })?;
    b.set_session_id_context(SESSION_ID_CONTEXT)
        .map_err(e("session id"))?;
    b.set_session_cache_mode(SslSessionCacheMode::SERVER);
    let Some(leaf) = identity.chain.first() else {
        return Err(PkiError::Invalid(
            "the certificate file holds no certificate".into(),
        ));
    };
    b.set_certificate(leaf).map_err(e("certificate"))?;
    for extra in &identity.chain[1..] {
        b.add_extra_chain_cert(extra.clone())
            .map_err(e("certificate chain"))?;
    }
    b.set_private_key(&identity.key).map_err(e("private key"))?;
    b.check_private_key().map_err(|_| {
        PkiError::Invalid("the private key does not belong to the certificate".into())
    })?;
    b.cert_store_mut()
        .add_cert(identity.ca.clone())
        .map_err(e("CA certificate"))?;
    if let Some(crl) = &settings.crl_path {
        let lookup = b
            .cert_store_mut()
            .add_lookup(X509Lookup::file())
            .map_err(e("CRL"))?;
        lookup
            .load_crl_file(crl, openssl::ssl::SslFiletype::PEM)
            .map_err(|source| PkiError::Ssl {
                what: format!("cannot load the CRL {}", crl.display()),
                source,
            })?;
        b.cert_store_mut()
            .set_flags(X509VerifyFlags::CRL_CHECK)
            .map_err(e("CRL"))?;
    }
    // Ask for the peer's certificate but never fail the handshake over it:
    // a node without a signed certificate must still reach the port to
    // request one, and an API client may authenticate with a password. The
    // verification result is read afterwards ([`peer`]).
    b.set_verify_callback(SslVerifyMode::PEER, |_, _| true);
    Ok(b)
}

/// The context of the listening side.
pub fn server_context(identity: &Identity, settings: &TlsSettings) -> Result<SslContext, PkiError> {
    let mut b = context(identity, settings)?;
    b.add_client_ca(&identity.ca)
        .map_err(PkiError::ssl("TLS setup: client CA list"))?;
    Ok(b.build())
}

/// The context of the connecting side. Names are not checked against the
/// address: a cluster peer is identified by its certificate's CN, which the
/// caller compares with the Endpoint it meant to reach.
pub fn client_context(identity: &Identity, settings: &TlsSettings) -> Result<SslContext, PkiError> {
    Ok(context(identity, settings)?.build())
}

/// Who is on the other side of a finished handshake.
#[derive(Debug, Clone)]
pub struct Peer {
    /// The certificate's common name: the peer's Endpoint name.
    pub cn: Option<String>,
    pub certificate: Option<X509>,
    /// Whether the certificate chains to our CA; the error otherwise, in
    /// OpenSSL's words. A peer that failed is treated as anonymous: it may
    /// only ask for a certificate.
    pub verified: Result<(), String>,
}

impl Peer {
    /// The CN of a peer whose certificate verified.
    pub fn authenticated_cn(&self) -> Option<&str> {
        self.verified.as_ref().ok().and(self.cn.as_deref())
    }
}

pub fn peer(ssl: &SslRef) -> Peer {
    let certificate = ssl.peer_certificate();
    let cn = certificate
        .as_ref()
        .and_then(|c| cert::common_name(c.subject_name()));
    let verified = match (&certificate, ssl.verify_result()) {
        (None, _) => Err("no certificate was presented".to_string()),
        (Some(_), r) if r == X509VerifyResult::OK => Ok(()),
        (Some(_), r) => Err(format!("{} (code {})", r.error_string(), r.as_raw())),
    };
    Peer {
        cn,
        certificate,
        verified,
    }
}
