//! Picket's TLS and certificates against a real Icinga 2 2.13 master, in
//! both directions: Picket takes over the master's CA, connects to its API
//! port as an agent and is accepted as that agent; the master connects to
//! Picket's listener and presents a certificate Picket verifies; `picket
//! pki save-cert` fetches the master's certificate.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use openssl::ssl::Ssl;
use picket_pki::tls::{self, Identity, TlsSettings};
use picket_pki::{cert, Authority};
use picket_store::{Actor, DataDir, StoreOptions};

use common::free_port;

fn icinga2(args: &[&str]) -> Command {
    let mut c = Command::new("icinga2");
    c.args(args)
        .env("ICINGA2_USER", "root")
        .env("ICINGA2_GROUP", "root");
    c
}

fn ok(c: &mut Command) {
    let out = c.output().expect("icinga2 is not installed: run .ci/run");
    assert!(out.status.success(), "{c:?}: {out:?}");
}

/// A running Icinga 2 master; stopped when dropped.
struct Master {
    child: Child,
    lines: mpsc::Receiver<String>,
    data: PathBuf,
    port: u16,
}

impl Drop for Master {
    fn drop(&mut self) {
        common::stop_icinga(&mut self.child);
    }
}

impl Master {
    /// Sets up the CA and the certificate of `master1` as `node setup
    /// --master` does, and starts the daemon with an API listener on a
    /// free port and an Endpoint `picket1` it connects to at `picket_port`.
    fn start(dir: &Path, picket_port: u16) -> Master {
        let data = dir.join("data");
        let def = format!("-DConfiguration.DataDir={}", data.display());
        ok(&mut icinga2(&["pki", "new-ca", &def]));
        let certs = data.join("certs");
        std::fs::create_dir_all(&certs).unwrap();
        let key = certs.join("master1.key");
        let csr = dir.join("master1.csr");
        ok(icinga2(&["pki", "new-cert", "--cn", "master1", "--key"])
            .arg(&key)
            .arg("--csr")
            .arg(&csr));
        ok(icinga2(&["pki", "sign-csr", &def, "--csr"])
            .arg(&csr)
            .arg("--cert")
            .arg(certs.join("master1.crt")));
        std::fs::copy(data.join("ca/ca.crt"), certs.join("ca.crt")).unwrap();
        let port = free_port();
        let conf = dir.join("icinga2.conf");
        std::fs::write(
            &conf,
            format!(
                r#"const NodeName = "master1"
const ZoneName = "master"
const TicketSalt = "labsalt"
object Endpoint "master1" {{}}
object Zone "master" {{ endpoints = [ "master1" ] }}
object Endpoint "agent1" {{}}
object Zone "agent1" {{ endpoints = [ "agent1" ]; parent = "master" }}
object Endpoint "picket1" {{ host = "127.0.0.1"; port = {picket_port} }}
object Zone "picket1" {{ endpoints = [ "picket1" ]; parent = "master" }}
object ApiListener "api" {{
  bind_host = "127.0.0.1"
  bind_port = {port}
  ticket_salt = TicketSalt
}}
"#
            ),
        )
        .unwrap();
        let mut args = vec![
            "daemon".to_string(),
            "-c".into(),
            conf.display().to_string(),
            def,
        ];
        for (name, sub) in [
            ("LogDir", "log"),
            ("CacheDir", "cache"),
            ("SpoolDir", "spool"),
            ("InitRunDir", "run"),
        ] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).unwrap();
            args.push(format!("-DConfiguration.{name}={}", path.display()));
        }
        args.push(format!(
            "-DConfiguration.PidPath={}",
            dir.join("run/icinga2.pid").display()
        ));
        let mut child = icinga2(&[])
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let master = Master {
            child,
            lines,
            data,
            port,
        };
        master.wait_for("Started new listener on");
        master
    }

    /// Waits until the master logs a line containing `text`.
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) if line.contains(text) => return line,
                Ok(line) => seen.push(line),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("icinga2 never logged {text:?}:\n{}", seen.join("\n"));
    }
}

/// A Picket data directory that took over the master's CA and holds the
/// certificates of `cns`.
fn picket_side(dir: &Path, master: &Master, cns: &[&str]) -> PathBuf {
    let (data, _) = DataDir::open(dir).unwrap();
    let (ca, _) = Authority::open(&data, &StoreOptions::default()).unwrap();
    let actor = Actor::new("test");
    ca.import_icinga(&master.data, &actor).unwrap();
    for cn in cns {
        ca.node_certificate(cn, &actor, cert::now()).unwrap();
    }
    dir.join("certs")
}

/// One netstring, as the cluster frames messages.
fn netstring(payload: &str) -> Vec<u8> {
    format!("{}:{payload},", payload.len()).into_bytes()
}

#[test]
fn picket_and_icinga_authenticate_each_other() {
    let tmp = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let picket_port = listener.local_addr().unwrap().port();
    let master = Master::start(&tmp.path().join("icinga"), picket_port);
    let certs = picket_side(&tmp.path().join("picket"), &master, &["agent1", "picket1"]);
    let settings = TlsSettings::default();

    // Icinga's reconnect timer reaches Picket's listener as master1.
    let server =
        tls::server_context(&Identity::load(&certs, "picket1").unwrap(), &settings).unwrap();
    listener.set_nonblocking(false).unwrap();
    let (tcp, _) = listener.accept().unwrap();
    let s = Ssl::new(&server).unwrap().accept(tcp).unwrap();
    let peer = tls::peer(s.ssl());
    assert_eq!(
        peer.authenticated_cn(),
        Some("master1"),
        "{:?}",
        peer.verified
    );
    assert_eq!(s.ssl().version_str(), "TLSv1.3");
    drop(s);

    // Picket connects to Icinga's API port as agent1.
    let client =
        tls::client_context(&Identity::load(&certs, "agent1").unwrap(), &settings).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", master.port)).unwrap();
    let mut s = Ssl::new(&client).unwrap().connect(tcp).unwrap();
    let peer = tls::peer(s.ssl());
    assert_eq!(
        peer.authenticated_cn(),
        Some("master1"),
        "{:?}",
        peer.verified
    );
    assert_eq!(s.ssl().version_str(), "TLSv1.3");
    assert_eq!(
        s.ssl().current_cipher().unwrap().name(),
        "TLS_AES_256_GCM_SHA384"
    );
    let hello =
        r#"{"jsonrpc":"2.0","method":"icinga::Hello","params":{"capabilities":3,"version":21306}}"#;
    s.write_all(&netstring(hello)).unwrap();
    // Icinga adds "(certificate validation failed: ...)" to this line for
    // a certificate it does not trust.
    let line = master.wait_for("New client connection for identity 'agent1'");
    assert!(!line.contains("certificate validation failed"), "{line}");
    // Icinga answers with its own Hello.
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap();
    assert!(n > 0 && buf[0].is_ascii_digit(), "{:?}", &buf[..n]);
}

#[test]
fn save_cert_fetches_icingas_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let master = Master::start(&tmp.path().join("icinga"), free_port());
    let saved = tmp.path().join("trusted-parent.crt");
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data-dir")
        .arg(tmp.path().join("agent"))
        .args(["pki", "save-cert", "--host", "127.0.0.1", "--port"])
        .arg(master.port.to_string())
        .arg("--trustedcert")
        .arg(&saved)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let theirs = openssl::x509::X509::from_pem(
        &std::fs::read(master.data.join("certs/master1.crt")).unwrap(),
    )
    .unwrap();
    let ours = openssl::x509::X509::from_pem(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(ours.to_der().unwrap(), theirs.to_der().unwrap());
}
