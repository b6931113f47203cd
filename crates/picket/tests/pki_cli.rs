//! `picket pki` and `picket ca` side by side with the real Icinga 2 and
//! OpenSSL: certificates each makes are accepted by the others, an Icinga
//! 2 CA is taken over, and the request workflow reads like Icinga's.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn picket(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_picket"));
    c.env_remove("PICKET_FORCE_RECOVER")
        .env_remove("PICKET_UPGRADE_ONLY")
        .arg("--data-dir")
        .arg(data);
    c
}

/// `icinga2 <verb...>` with its data directory at `data` (definitions
/// count only after the command's words).
fn icinga(data: &Path, verb: &[&str]) -> Command {
    let mut c = icinga2();
    c.args(verb)
        .arg("--define")
        .arg(format!("Configuration.DataDir={}", data.display()));
    c
}

/// `icinga2` run as the current user: it would drop to `nagios` and then
/// not reach the test's files.
fn icinga2() -> Command {
    let mut c = Command::new("icinga2");
    c.env("ICINGA2_USER", "root").env("ICINGA2_GROUP", "root");
    c
}

fn run(c: &mut Command) -> Output {
    c.output()
        .unwrap_or_else(|e| panic!("cannot run {c:?}: {e}"))
}

fn ok(c: &mut Command) -> String {
    let out = run(c);
    assert!(
        out.status.success(),
        "{c:?} failed ({:?}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn openssl_verify(ca: &Path, cert: &Path) {
    let out = ok(Command::new("openssl")
        .arg("verify")
        .arg("-CAfile")
        .arg(ca)
        .arg(cert));
    assert!(out.trim_end().ends_with(": OK"), "{out}");
}

fn openssl_text(cert: &Path) -> String {
    ok(Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(cert))
}

/// Icinga's verbs inside the command for a CSR; icinga2 has no --data-dir.
fn icinga_verify_ok(args: &[&str]) {
    let out = run(icinga2().args(["pki", "verify"]).args(args));
    assert!(
        out.status.success(),
        "icinga2 pki verify {args:?}:\n{}",
        text(&out)
    );
}

#[test]
fn picket_certificates_have_icingas_shape_and_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let p = |name: &str| tmp.path().join(name);
    ok(picket(&data).args(["pki", "new-ca"]));
    // A second CA is refused, as Icinga refuses.
    let again = run(picket(&data).args(["pki", "new-ca"]));
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again).contains("already exist"), "{}", text(&again));

    ok(picket(&data)
        .args(["pki", "new-cert", "--cn", "agent1", "--key"])
        .arg(p("agent1.key"))
        .arg("--csr")
        .arg(p("agent1.csr")));
    ok(picket(&data)
        .args(["pki", "sign-csr", "--csr"])
        .arg(p("agent1.csr"))
        .arg("--cert")
        .arg(p("agent1.crt")));
    let ca = data.join("ca/ca.crt");
    openssl_verify(&ca, &p("agent1.crt"));
    let ca_s = ca.to_str().unwrap();
    let leaf = p("agent1.crt");
    let leaf_s = leaf.to_str().unwrap();
    icinga_verify_ok(&["--cn", "agent1", "--cert", leaf_s, "--cacert", ca_s]);
    icinga_verify_ok(&["--cacert", ca_s]);

    let ca_text = openssl_text(&ca);
    for want in [
        "Version: 3 (0x2)",
        "Issuer: CN = Icinga CA",
        "Subject: CN = Icinga CA",
        "Public-Key: (4096 bit)",
        "Exponent: 65537",
        "sha256WithRSAEncryption",
        "X509v3 Basic Constraints: critical\n                CA:TRUE",
    ] {
        assert!(ca_text.contains(want), "CA lacks {want:?}:\n{ca_text}");
    }
    let leaf_text = openssl_text(&leaf);
    for want in [
        "Subject: CN = agent1",
        "X509v3 Basic Constraints: critical\n                CA:FALSE",
        "X509v3 Subject Alternative Name: \n                DNS:agent1",
    ] {
        assert!(
            leaf_text.contains(want),
            "leaf lacks {want:?}:\n{leaf_text}"
        );
    }
    assert!(!leaf_text.contains("Key Usage"), "{leaf_text}");
    // 397 days, as Icinga.
    let dates = ok(Command::new("openssl")
        .args(["x509", "-noout", "-startdate", "-enddate", "-in"])
        .arg(&leaf));
    let days = |line: &str| {
        let d = line.split_once('=').unwrap().1;
        let out = ok(Command::new("date").args(["-u", "-d", d, "+%s"]));
        out.trim().parse::<i64>().unwrap()
    };
    let lines: Vec<&str> = dates.lines().collect();
    assert_eq!((days(lines[1]) - days(lines[0])) / 86_400, 397);

    use std::os::unix::fs::PermissionsExt;
    for key in [data.join("ca/ca.key"), p("agent1.key")] {
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", key.display());
        let pem = std::fs::read_to_string(&key).unwrap();
        assert!(
            pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
            "{}",
            key.display()
        );
    }
}

#[test]
fn icinga_csr_is_signed_by_picket() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let p = |name: &str| tmp.path().join(name);
    ok(picket(&data).args(["pki", "new-ca"]));
    ok(icinga2()
        .args(["pki", "new-cert", "--cn", "icinga-agent", "--key"])
        .arg(p("i.key"))
        .arg("--csr")
        .arg(p("i.csr")));
    ok(picket(&data)
        .args(["pki", "sign-csr", "--csr"])
        .arg(p("i.csr"))
        .arg("--cert")
        .arg(p("i.crt")));
    let ca = data.join("ca/ca.crt");
    icinga_verify_ok(&[
        "--cn",
        "icinga-agent",
        "--cert",
        p("i.crt").to_str().unwrap(),
        "--cacert",
        ca.to_str().unwrap(),
    ]);
    openssl_verify(&ca, &p("i.crt"));
    // And the signing is in the CA's history, with the operator.
    let history = ok(picket(&data).args(["ca", "history", "--json"]));
    let entries: serde_json::Value = serde_json::from_str(&history).unwrap();
    let last = entries.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["command"]["label"], "issue");
    assert_eq!(last["command"]["args"]["cn"], "icinga-agent");
    assert_eq!(last["command"]["args"]["approval"], "operator");
    assert!(last["actor"].as_str().unwrap().starts_with("cli:"));
}

#[test]
fn picket_verify_and_ticket_answer_like_icinga() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    ok(picket(&data).args(["pki", "new-ca"]));
    let ca = data.join("ca/ca.crt");
    let other = tmp.path().join("other");
    ok(picket(&other).args(["pki", "new-ca"]));
    let leaf = tmp.path().join("x.crt");
    ok(picket(&data)
        .args(["pki", "new-cert", "--cn", "x", "--key"])
        .arg(tmp.path().join("x.key"))
        .arg("--csr")
        .arg(tmp.path().join("x.csr")));
    ok(picket(&data)
        .args(["pki", "sign-csr", "--csr"])
        .arg(tmp.path().join("x.csr"))
        .arg("--cert")
        .arg(&leaf));
    let cases: Vec<(Vec<String>, i32)> = vec![
        (vec!["--cert".into(), leaf.display().to_string()], 0),
        (
            vec![
                "--cert".into(),
                leaf.display().to_string(),
                "--cn".into(),
                "x".into(),
            ],
            0,
        ),
        (
            vec![
                "--cert".into(),
                leaf.display().to_string(),
                "--cn".into(),
                "y".into(),
            ],
            2,
        ),
        (
            vec![
                "--cert".into(),
                leaf.display().to_string(),
                "--cacert".into(),
                ca.display().to_string(),
            ],
            0,
        ),
        (
            vec![
                "--cert".into(),
                leaf.display().to_string(),
                "--cacert".into(),
                other.join("ca/ca.crt").display().to_string(),
            ],
            2,
        ),
        (vec!["--cacert".into(), ca.display().to_string()], 0),
        (vec!["--cacert".into(), leaf.display().to_string()], 2),
    ];
    for (args, code) in cases {
        let i = run(icinga2().args(["pki", "verify"]).args(&args));
        let p = run(picket(&data).args(["pki", "verify"]).args(&args));
        assert_eq!(
            i.status.code(),
            Some(code),
            "icinga2 {args:?}: {}",
            text(&i)
        );
        assert_eq!(p.status.code(), Some(code), "picket {args:?}: {}", text(&p));
        // The printed certificate block is the same.
        let block = |o: &Output| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| l.starts_with(' '))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(block(&p), block(&i), "{args:?}");
    }
    // Tickets, and the same refusal without a salt.
    let t = ok(picket(&data).args(["pki", "ticket", "--cn", "agent1", "--salt", "somesalt"]));
    assert_eq!(t.trim(), "20f8a35c34a35d7f8ca7cc34fe3fd761ca7a9314");
    let no_salt =
        run(picket(&data).args(["pki", "ticket", "--cn", "a", "-c", "/nonexistent.conf"]));
    assert_eq!(no_salt.status.code(), Some(1));
    assert!(text(&no_salt).contains("Ticket salt (--salt) must be specified."));
    // Without --salt, the TicketSalt constant of the configuration.
    let conf = tmp.path().join("icinga2.conf");
    std::fs::write(&conf, "const TicketSalt = \"somesalt\"\n").unwrap();
    let t = ok(picket(&data)
        .args(["pki", "ticket", "--cn", "agent1", "-c"])
        .arg(&conf));
    assert_eq!(t.trim(), "20f8a35c34a35d7f8ca7cc34fe3fd761ca7a9314");
}

/// Writes a request file as Icinga's master does when a node asks without
/// a valid ticket; returns its fingerprint.
fn icinga_request(dir: &Path, work: &Path, cn: &str, ticket: &str, suffix: &str) -> String {
    let key = work.join(format!("{cn}.key"));
    let cert = work.join(format!("{cn}.crt"));
    ok(icinga2()
        .args(["pki", "new-cert", "--cn", cn, "--key"])
        .arg(&key)
        .arg("--cert")
        .arg(&cert));
    let der = ok(Command::new("sh").arg("-c").arg(format!(
        "openssl x509 -in '{}' -outform DER | sha256sum | cut -d' ' -f1",
        cert.display()
    )));
    let fp = der.trim().to_string();
    let body = serde_json::json!({
        "cert_request": std::fs::read_to_string(&cert).unwrap(),
        "ticket": ticket,
    });
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(format!("{fp}.{suffix}")), body.to_string()).unwrap();
    fp
}

fn table_rows(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.contains('|'))
        .map(str::to_string)
        .collect()
}

#[test]
fn icinga_ca_is_taken_over() {
    let tmp = tempfile::tempdir().unwrap();
    let icinga_data = tmp.path().join("icinga");
    let data = tmp.path().join("picket");
    let work = tmp.path().to_path_buf();
    ok(&mut icinga(&icinga_data, &["pki", "new-ca"]));
    // The master's own certificate, as `node setup` leaves it.
    let certs = icinga_data.join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    ok(icinga2()
        .args(["pki", "new-cert", "--cn", "master1", "--key"])
        .arg(certs.join("master1.key"))
        .arg("--csr")
        .arg(work.join("master1.csr")));
    ok(icinga(&icinga_data, &["pki", "sign-csr"])
        .arg("--csr")
        .arg(work.join("master1.csr"))
        .arg("--cert")
        .arg(certs.join("master1.crt")));
    std::fs::copy(icinga_data.join("ca/ca.crt"), certs.join("ca.crt")).unwrap();
    // Requests: one pending, one with a ticket that did not match, one
    // removed by the operator.
    let requests = icinga_data.join("certificate-requests");
    let pending = icinga_request(&requests, &work, "agent2", "", "json");
    let with_ticket = icinga_request(&requests, &work, "agent3", "0123", "json");
    let removed = icinga_request(&requests, &work, "agent4", "", "removed");

    let out = run(picket(&data).args(["ca", "import"]).arg(&icinga_data));
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("2 pending, 0 signed, 1 removed"),
        "{}",
        text(&out)
    );
    let original_ca = icinga_data.join("ca/ca.crt");
    assert_eq!(
        std::fs::read(data.join("ca/ca.key")).unwrap(),
        std::fs::read(icinga_data.join("ca/ca.key")).unwrap()
    );
    assert!(data.join("certs/master1.key").exists() && data.join("certs/master1.crt").exists());

    // `ca list` reads as Icinga's own over the same requests.
    for flags in [&[][..], &["--removed"][..]] {
        let i = ok(icinga(&icinga_data, &["ca", "list"]).args(flags));
        let p = ok(picket(&data).args(["ca", "list"]).args(flags));
        let mut irows = table_rows(&i);
        let mut prows = table_rows(&p);
        irows[2..].sort();
        prows[2..].sort();
        assert_eq!(prows, irows, "ca list {flags:?}");
    }
    let i: serde_json::Value =
        serde_json::from_str(&ok(&mut icinga(&icinga_data, &["ca", "list", "--json"]))).unwrap();
    let p: serde_json::Value =
        serde_json::from_str(&ok(picket(&data).args(["ca", "list", "--json"]))).unwrap();
    assert_eq!(p, i);

    // Sign with the taken-over CA: the certificate verifies against the
    // original Icinga CA certificate, for OpenSSL and for Icinga.
    ok(picket(&data).args(["ca", "sign", &pending]));
    let listed: serde_json::Value =
        serde_json::from_str(&ok(picket(&data).args(["ca", "list", "--all", "--json"]))).unwrap();
    let response = listed[&pending]["cert_response"].as_str().unwrap();
    let signed = work.join("agent2-signed.crt");
    std::fs::write(&signed, response).unwrap();
    openssl_verify(&original_ca, &signed);
    icinga_verify_ok(&[
        "--cn",
        "agent2",
        "--cert",
        signed.to_str().unwrap(),
        "--cacert",
        original_ca.to_str().unwrap(),
    ]);
    // And a new node's CSR, too.
    ok(picket(&data)
        .args(["pki", "new-cert", "--cn", "agent9", "--key"])
        .arg(work.join("agent9.key"))
        .arg("--csr")
        .arg(work.join("agent9.csr")));
    ok(picket(&data)
        .args(["pki", "sign-csr", "--csr"])
        .arg(work.join("agent9.csr"))
        .arg("--cert")
        .arg(work.join("agent9.crt")));
    openssl_verify(&original_ca, &work.join("agent9.crt"));

    // The request workflow, each step a new process.
    let r = run(picket(&data).args(["ca", "remove", &pending]));
    assert_eq!(r.status.code(), Some(1));
    assert!(
        text(&r).contains("already signed, removal is not possible"),
        "{}",
        text(&r)
    );
    ok(picket(&data).args(["ca", "remove", &with_ticket]));
    let listed = ok(picket(&data).args(["ca", "list", "--removed"]));
    assert!(
        listed.contains(&with_ticket) && listed.contains(&removed),
        "{listed}"
    );
    let r = run(picket(&data).args(["ca", "sign", &removed]));
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    let restored = ok(picket(&data).args(["ca", "restore", &removed]));
    assert!(
        restored.contains(&format!("picket ca sign {removed}")),
        "{restored}"
    );
    ok(picket(&data).args(["ca", "sign", &removed]));
    let r = run(picket(&data).args(["ca", "sign", "0000"]));
    assert_eq!(r.status.code(), Some(1));
    assert!(text(&r).contains("No request exists for fingerprint '0000'."));
    let all = ok(picket(&data).args(["ca", "list", "--all"]));
    let signed_rows: Vec<&str> = all.lines().filter(|l| l.contains("| *")).collect();
    assert_eq!(signed_rows.len(), 2, "{all}");
    assert!(!all.contains(&with_ticket), "{all}");

    // Importing again takes nothing twice.
    let again = run(picket(&data).args(["ca", "import"]).arg(&icinga_data));
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("imported before"), "{}", text(&again));
    let history: serde_json::Value = serde_json::from_str(&ok(
        picket(&data).args(["ca", "history", &removed, "--json"])
    ))
    .unwrap();
    let labels: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["command"]["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["receive", "remove", "sign", "restore", "sign"]);
    let refused = &history[2]["effect"];
    assert!(refused.to_string().contains("removed"), "{refused}");
    // The CA history names where the CA came from.
    let ca_history: serde_json::Value =
        serde_json::from_str(&ok(picket(&data).args(["ca", "history", "--json"]))).unwrap();
    assert_eq!(ca_history[0]["command"]["args"]["origin"], "imported");
    // Another CA cannot be imported over this one.
    let other = tmp.path().join("other-icinga");
    ok(&mut icinga(&other, &["pki", "new-ca"]));
    let r = run(picket(&data).args(["ca", "import"]).arg(&other));
    assert_eq!(r.status.code(), Some(1));
    assert!(
        text(&r).contains("cannot take over another"),
        "{}",
        text(&r)
    );
}

/// Runs `picket daemon` until it says it is running, stops it and returns
/// what it printed.
fn run_daemon(data: &Path, conf: &Path) -> String {
    let mut cmd = picket(data);
    cmd.args(["daemon", "-c"]).arg(conf);
    common::run_until_running(cmd)
}

#[test]
fn the_node_renews_its_ca_and_its_certificate_before_they_expire() {
    use picket_pki::cert::{self, CertInfo};
    use picket_pki::{files, Authority};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let day = 86_400;
    {
        // A CA with 65 days left and a node certificate with 17.
        let (dir, _) = picket_store::DataDir::open(&data).unwrap();
        let (ca, _) = Authority::open(&dir, &picket_store::StoreOptions::default()).unwrap();
        let actor = picket_store::Actor::new("test");
        ca.new_ca(&actor, cert::now() - (5475 - 65) * day).unwrap();
        ca.node_certificate("master1", &actor, cert::now() - 380 * day)
            .unwrap();
    }
    let old_leaf = files::read_cert(&data.join("certs/master1.crt")).unwrap();
    let conf = tmp.path().join("icinga2.conf");
    std::fs::write(&conf, "const NodeName = \"master1\"\n").unwrap();
    let out = run_daemon(&data, &conf);
    assert!(out.contains("Renewed the CA certificate"), "{out}");
    assert!(
        out.contains("Renewed the certificate of 'master1'"),
        "{out}"
    );
    let ca = files::read_cert(&data.join("ca/ca.crt")).unwrap();
    let leaf = files::read_cert(&data.join("certs/master1.crt")).unwrap();
    assert!(CertInfo::of(&ca).unwrap().not_after > cert::now() + 5000 * day);
    assert!(CertInfo::of(&leaf).unwrap().not_after > cert::now() + 390 * day);
    openssl_verify(&data.join("certs/ca.crt"), &data.join("certs/master1.crt"));
    // The old leaf still verifies against the renewed CA (same key).
    cert::verify_signed_by(&old_leaf, &ca).unwrap();
    // Nothing is due at the next start.
    let out = run_daemon(&data, &conf);
    assert!(!out.contains("Renewed"), "{out}");
    let history = ok(picket(&data).args(["ca", "history", "--json"]));
    let entries: serde_json::Value = serde_json::from_str(&history).unwrap();
    let labels: Vec<&str> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["command"]["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["establish-ca", "issue", "renew-ca", "issue"]);
    assert_eq!(entries[3]["command"]["args"]["approval"], "renewal");
    assert_eq!(entries[3]["actor"], "node:master1");
}

#[test]
fn save_cert_fetches_the_peer_certificate() {
    use picket_pki::tls::{self, Identity, TlsSettings};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    {
        let (dir, _) = picket_store::DataDir::open(&data).unwrap();
        let (ca, _) =
            picket_pki::Authority::open(&dir, &picket_store::StoreOptions::default()).unwrap();
        let actor = picket_store::Actor::new("test");
        ca.new_ca(&actor, picket_pki::cert::now()).unwrap();
        ca.node_certificate("master1", &actor, picket_pki::cert::now())
            .unwrap();
    }
    let identity = Identity::load(&data.join("certs"), "master1").unwrap();
    let server = tls::server_context(&identity, &TlsSettings::default()).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let srv = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let _ = openssl::ssl::Ssl::new(&server).unwrap().accept(tcp);
    });
    let saved = tmp.path().join("trusted-parent.crt");
    ok(picket(&tmp.path().join("agent"))
        .args(["pki", "save-cert", "--host", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .arg("--trustedcert")
        .arg(&saved));
    srv.join().unwrap();
    assert_eq!(
        std::fs::read(&saved).unwrap(),
        std::fs::read(data.join("certs/master1.crt")).unwrap()
    );
    // Nobody listening: a clear error, not a hang.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let r = run(picket(&tmp.path().join("agent"))
        .args(["pki", "save-cert", "--host", "127.0.0.1", "--port"])
        .arg(port.to_string())
        .arg("--trustedcert")
        .arg(&saved));
    assert!(!r.status.success());
    assert!(
        text(&r).contains(&format!("127.0.0.1:{port}")),
        "{}",
        text(&r)
    );
}

#[test]
fn ca_commands_reach_the_running_node() {
    use picket_pki::{cert, Authority};
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let fingerprint;
    {
        let (dir, _) = picket_store::DataDir::open(&data).unwrap();
        let (ca, _) = Authority::open(&dir, &picket_store::StoreOptions::default()).unwrap();
        ca.new_ca(&picket_store::Actor::new("test"), cert::now())
            .unwrap();
        let key = cert::new_key().unwrap();
        let presented =
            cert::self_signed(&key, "agent7", cert::Validity::days_from(cert::now(), 397)).unwrap();
        let r = ca
            .receive_request(
                &presented,
                None,
                false,
                &picket_store::Actor::new("endpoint:agent7"),
            )
            .unwrap();
        fingerprint = r.state.info.fingerprint.clone();
    }
    let conf = tmp.path().join("icinga2.conf");
    std::fs::write(&conf, "const NodeName = \"master1\"\n").unwrap();
    let mut node = picket(&data)
        .args(["daemon", "-c"])
        .arg(&conf)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(node.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("Picket node running") {
            break;
        }
    }
    let listed = ok(picket(&data).args(["ca", "list"]));
    assert!(listed.contains(&fingerprint), "{listed}");
    let signed = ok(picket(&data).args(["ca", "sign", &fingerprint]));
    assert!(
        signed.contains("Signed certificate for 'CN = agent7'"),
        "{signed}"
    );
    let r = run(picket(&data).args(["ca", "remove", &fingerprint]));
    assert_eq!(r.status.code(), Some(1));
    assert!(text(&r).contains("already signed"), "{}", text(&r));
    ok(picket(&data)
        .args(["pki", "new-cert", "--cn", "agent8", "--key"])
        .arg(tmp.path().join("a8.key"))
        .arg("--csr")
        .arg(tmp.path().join("a8.csr")));
    ok(picket(&data)
        .args(["pki", "sign-csr", "--csr"])
        .arg(tmp.path().join("a8.csr"))
        .arg("--cert")
        .arg(tmp.path().join("a8.crt")));
    openssl_verify(&data.join("ca/ca.crt"), &tmp.path().join("a8.crt"));
    // The history names the operator, not the node.
    let history: serde_json::Value = serde_json::from_str(&ok(picket(&data).args([
        "ca",
        "history",
        &fingerprint,
        "--json",
    ])))
    .unwrap();
    assert_eq!(history[1]["command"]["label"], "sign");
    let operator = history[1]["actor"].as_str().unwrap().to_string();
    assert!(operator.starts_with("cli:"), "{operator}");

    // SAFETY: kill(2) on our own child.
    unsafe {
        libc::kill(node.id() as i32, libc::SIGTERM);
    }
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(node.wait().unwrap().success());
    let log = rest.join("\n");
    assert!(
        log.contains(&format!("Command from the command line ({operator})")),
        "{log}"
    );
    // Stopped: the command line works on the files itself again.
    let listed = ok(picket(&data).args(["ca", "list", "--all"]));
    assert!(listed.contains(&fingerprint), "{listed}");
}
