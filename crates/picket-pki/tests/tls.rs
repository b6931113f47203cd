//! Real TLS handshakes on 127.0.0.1 with the cluster's settings: two nodes
//! of one CA authenticate each other and learn each other's CN; a node of
//! another CA is not authenticated (but still connected, as in Icinga, so
//! that it can ask for a certificate); the OpenSSL command-line client, the
//! TLS stack of Icinga 2, negotiates with Picket's server.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;

use openssl::ssl::{Ssl, SslContext, SslVersion};
use picket_pki::tls::{self, Identity, Peer, TlsSettings};
use picket_pki::{cert, Authority};
use picket_store::{Actor, DataDir, StoreOptions};

/// A data directory with a CA and certificates for `nodes`.
fn cluster(dir: &Path, nodes: &[&str]) -> DataDir {
    let (data, _) = DataDir::open(dir).unwrap();
    let (authority, _) = Authority::open(&data, &StoreOptions::default()).unwrap();
    let actor = Actor::new("test");
    authority.new_ca(&actor, cert::now()).unwrap();
    for n in nodes {
        authority.node_certificate(n, &actor, cert::now()).unwrap();
    }
    data
}

fn identity(data: &DataDir, cn: &str) -> Identity {
    Identity::load(&data.root().join("certs"), cn).unwrap()
}

struct Outcome {
    server_saw: Peer,
    client_saw: Peer,
    version: &'static str,
    cipher: String,
}

fn handshake(server: SslContext, client: SslContext, client_max: Option<SslVersion>) -> Outcome {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let srv = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut s = Ssl::new(&server).unwrap().accept(tcp).unwrap();
        let peer = tls::peer(s.ssl());
        s.write_all(b"hello").unwrap();
        peer
    });
    let tcp = TcpStream::connect(addr).unwrap();
    let mut ssl = Ssl::new(&client).unwrap();
    ssl.set_max_proto_version(client_max).unwrap();
    let mut s = ssl.connect(tcp).unwrap();
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    Outcome {
        client_saw: tls::peer(s.ssl()),
        version: s.ssl().version_str(),
        cipher: s.ssl().current_cipher().unwrap().name().to_string(),
        server_saw: srv.join().unwrap(),
    }
}

#[test]
fn nodes_of_one_ca_authenticate_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let data = cluster(tmp.path(), &["master1", "agent1"]);
    let settings = TlsSettings::default();
    let server = tls::server_context(&identity(&data, "master1"), &settings).unwrap();
    let client = tls::client_context(&identity(&data, "agent1"), &settings).unwrap();
    let o = handshake(server, client, None);
    assert_eq!(
        o.server_saw.authenticated_cn(),
        Some("agent1"),
        "{:?}",
        o.server_saw.verified
    );
    assert_eq!(
        o.client_saw.authenticated_cn(),
        Some("master1"),
        "{:?}",
        o.client_saw.verified
    );
    assert_eq!(o.version, "TLSv1.3");
    assert_eq!(o.cipher, "TLS_AES_256_GCM_SHA384");
}

#[test]
fn tls12_uses_the_server_preferred_cipher_of_icingas_list() {
    let tmp = tempfile::tempdir().unwrap();
    let data = cluster(tmp.path(), &["master1", "agent1"]);
    let settings = TlsSettings::default();
    let server = tls::server_context(&identity(&data, "master1"), &settings).unwrap();
    let client = tls::client_context(&identity(&data, "agent1"), &settings).unwrap();
    let o = handshake(server, client, Some(SslVersion::TLS1_2));
    assert_eq!(o.version, "TLSv1.2");
    assert_eq!(o.cipher, "ECDHE-RSA-AES256-GCM-SHA384");
    assert_eq!(o.server_saw.authenticated_cn(), Some("agent1"));
}

#[test]
fn a_node_of_another_ca_is_not_authenticated() {
    let ours = tempfile::tempdir().unwrap();
    let theirs = tempfile::tempdir().unwrap();
    let data = cluster(ours.path(), &["master1"]);
    let other = cluster(theirs.path(), &["intruder"]);
    let settings = TlsSettings::default();
    let server = tls::server_context(&identity(&data, "master1"), &settings).unwrap();
    let client = tls::client_context(&identity(&other, "intruder"), &settings).unwrap();
    let o = handshake(server, client, None);
    // The connection stands (the peer may still request a certificate)
    // but carries no identity, either way round.
    assert_eq!(o.server_saw.cn.as_deref(), Some("intruder"));
    assert_eq!(o.server_saw.authenticated_cn(), None);
    let why = o.server_saw.verified.unwrap_err();
    assert!(why.contains("code"), "{why}");
    assert_eq!(o.client_saw.authenticated_cn(), None);
}

#[test]
fn a_client_without_certificate_is_anonymous() {
    let tmp = tempfile::tempdir().unwrap();
    let data = cluster(tmp.path(), &["master1"]);
    let server = tls::server_context(&identity(&data, "master1"), &TlsSettings::default()).unwrap();
    let mut b = openssl::ssl::SslContext::builder(openssl::ssl::SslMethod::tls()).unwrap();
    b.set_verify(openssl::ssl::SslVerifyMode::NONE);
    let o = handshake(server, b.build(), None);
    assert!(o.server_saw.certificate.is_none());
    assert_eq!(o.server_saw.authenticated_cn(), None);
    assert_eq!(o.client_saw.cn.as_deref(), Some("master1"));
}

#[test]
fn tls_protocolmin_13_refuses_a_tls12_client() {
    let tmp = tempfile::tempdir().unwrap();
    let data = cluster(tmp.path(), &["master1", "agent1"]);
    let strict = TlsSettings {
        protocol_min: "TLSv1.3".into(),
        ..TlsSettings::default()
    };
    let server = tls::server_context(&identity(&data, "master1"), &strict).unwrap();
    let client = tls::client_context(&identity(&data, "agent1"), &TlsSettings::default()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let srv = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        Ssl::new(&server).unwrap().accept(tcp).is_err()
    });
    let mut ssl = Ssl::new(&client).unwrap();
    ssl.set_max_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    assert!(ssl.connect(TcpStream::connect(addr).unwrap()).is_err());
    assert!(srv.join().unwrap());
    let bad = TlsSettings {
        protocol_min: "TLSv1.0".into(),
        ..TlsSettings::default()
    };
    let e = tls::server_context(&identity(&data, "master1"), &bad)
        .err()
        .unwrap();
    assert!(e.to_string().contains("tls_protocolmin"), "{e}");
}

#[test]
fn openssl_s_client_authenticates_against_picket() {
    let tmp = tempfile::tempdir().unwrap();
    let data = cluster(tmp.path(), &["master1", "agent1"]);
    let server = tls::server_context(&identity(&data, "master1"), &TlsSettings::default()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let srv = thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut s = Ssl::new(&server).unwrap().accept(tcp).unwrap();
        let peer = tls::peer(s.ssl());
        s.write_all(b"picket\n").unwrap();
        let _ = s.shutdown();
        peer
    });
    let certs = data.root().join("certs");
    let out = Command::new("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
        .arg("-cert")
        .arg(certs.join("agent1.crt"))
        .arg("-key")
        .arg(certs.join("agent1.key"))
        .arg("-CAfile")
        .arg(certs.join("ca.crt"))
        .args(["-verify_return_error", "-quiet"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let peer = srv.join().unwrap();
    assert_eq!(
        peer.authenticated_cn(),
        Some("agent1"),
        "{:?}",
        peer.verified
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("picket"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `crl_path`: a certificate the CA revoked is not authenticated; the
/// others still are. The CRL is made by the openssl command, as an
/// operator would make it.
#[test]
fn revoked_certificates_are_refused_with_a_crl() {
    let tmp = tempfile::tempdir().unwrap();
    let data = cluster(tmp.path(), &["master1", "agent1", "agent2"]);
    let root = data.root();
    let work = tmp.path().join("openssl-ca");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::write(work.join("index.txt"), "").unwrap();
    std::fs::write(work.join("crlnumber"), "01\n").unwrap();
    let cnf = work.join("ca.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[ca]\ndefault_ca = picket\n[picket]\ndatabase = {}\ncrlnumber = {}\ndefault_md = sha256\ndefault_crl_days = 30\n",
            work.join("index.txt").display(),
            work.join("crlnumber").display()
        ),
    )
    .unwrap();
    let openssl_ca = |extra: &[&str]| {
        let out = Command::new("openssl")
            .arg("ca")
            .arg("-config")
            .arg(&cnf)
            .arg("-keyfile")
            .arg(root.join("ca/ca.key"))
            .arg("-cert")
            .arg(root.join("ca/ca.crt"))
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    let agent2 = root.join("certs/agent2.crt");
    openssl_ca(&["-revoke", agent2.to_str().unwrap()]);
    let crl = work.join("crl.pem");
    openssl_ca(&["-gencrl", "-out", crl.to_str().unwrap()]);

    let settings = TlsSettings {
        crl_path: Some(crl),
        ..TlsSettings::default()
    };
    let server = || tls::server_context(&identity(&data, "master1"), &settings).unwrap();
    let client =
        |cn: &str| tls::client_context(&identity(&data, cn), &TlsSettings::default()).unwrap();
    let revoked = handshake(server(), client("agent2"), None);
    let why = revoked.server_saw.verified.unwrap_err();
    assert!(why.contains("revoked"), "{why}");
    let fine = handshake(server(), client("agent1"), None);
    assert_eq!(
        fine.server_saw.authenticated_cn(),
        Some("agent1"),
        "{:?}",
        fine.server_saw.verified
    );
}
