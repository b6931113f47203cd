//! The REST API side by side with Icinga 2: both run the same
//! configuration (tests/api/icinga2.conf) with the same certificates, and
//! tests/api/conformance.py sends every request of tests/api/requests.json
//! to both and compares status codes, error texts and JSON shapes.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use openssl::ssl::{SslConnector, SslMethod, SslStream, SslVerifyMode};

use common::free_port;
use common::icinga::api_setup;
use common::node::Node;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api"))
}

/// The test configuration, copied into `dir`: `picket api setup` writes
/// its feature and user files beside the configuration it is given.
fn config_in(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let config = dir.join("icinga2.conf");
    std::fs::copy(fixtures().join("icinga2.conf"), &config).unwrap();
    config
}

#[test]
fn api_answers_as_icinga_does() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config_in(&tmp.path().join("etc"));
    let picket_dir = tmp.path().join("picket");
    let data = format!("DataDir={}", picket_dir.display());
    // `api setup` makes the CA and the node certificate; Icinga is given
    // the same certificates.
    api_setup(&config, &data);
    let icinga_dir = tmp.path().join("icinga");
    common::icinga::share_certificates(&picket_dir, &icinga_dir);
    let (icinga_port, picket_port) = (free_port(), free_port());
    let _icinga = common::icinga::start(&icinga_dir, &config, icinga_port, &[]);
    let port = format!("ApiPort={picket_port}");
    let config_arg = config.display().to_string();
    let node = Node::start(
        &picket_dir,
        &["-c", &config_arg, "-D", &data, "-D", &port],
        &[],
    );
    let run = Command::new("python3")
        .arg(fixtures().join("conformance.py"))
        .arg(format!("https://127.0.0.1:{icinga_port}"))
        .arg(format!("https://127.0.0.1:{picket_port}"))
        .arg(fixtures().join("requests.json"))
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&run.stdout);
    println!("{report}");
    let (_, log) = node.stop();
    assert!(
        run.status.success(),
        "answers differ:\n{report}\n{}\nPicket's log:\n{log}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// A TLS connection to the API, as a client that does not check the
/// server's certificate.
fn connect(port: u16) -> SslStream<TcpStream> {
    let mut b = SslConnector::builder(SslMethod::tls()).unwrap();
    b.set_verify(SslVerifyMode::NONE);
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    b.build()
        .configure()
        .unwrap()
        .verify_hostname(false)
        .connect("picket-lab", tcp)
        .unwrap()
}

/// Sends one request (closing the connection after it) and returns the
/// status code and the body.
fn request(port: u16, method: &str, path: &str, user: &str, body: &[u8]) -> (u16, String) {
    let mut s = connect(port);
    let auth = openssl::base64::encode_block(user.as_bytes());
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: picket\r\nAccept: application/json\r\n\
         Authorization: Basic {auth}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // The server may answer before it has read a body it refuses.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (code, body)
}

#[test]
fn bad_clients_get_errors_while_others_are_served() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config_in(&tmp.path().join("etc"));
    let dir = tmp.path().join("picket");
    let data = format!("DataDir={}", dir.display());
    let setup = api_setup(&config, &data);
    // What `api setup` leaves: the certificates, the enabled feature, and
    // a user file only its owner reads, whose password was printed once.
    use std::os::unix::fs::PermissionsExt;
    let etc = config.parent().unwrap();
    assert!(dir.join("certs/picket-lab.crt").exists());
    assert!(etc.join("features-enabled/api.conf").exists());
    let users = etc.join("conf.d/api-users.conf");
    let mode = std::fs::metadata(&users).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(String::from_utf8_lossy(&setup.stdout).contains("password"));
    let again = api_setup(&config, &data);
    assert!(!String::from_utf8_lossy(&again.stdout).contains("password"));
    let port = free_port();
    let port_define = format!("ApiPort={port}");
    let config_arg = config.display().to_string();
    let node = Node::start(
        &dir,
        &["-c", &config_arg, "-D", &data, "-D", &port_define],
        &[],
    );

    // Clients that stall: one in the middle of its head, one after the
    // handshake without a byte, one half way through a declared body.
    let mut slow_head = connect(port);
    slow_head
        .write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let _silent = connect(port);
    let mut slow_body = connect(port);
    slow_body
        .write_all(b"POST /v1/actions/reschedule-check HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nAuthorization: Basic cm9vdDpyb290cHc=\r\nContent-Length: 100\r\n\r\n{\"type\":")
        .unwrap();

    // Everyone else is served meanwhile, many at once.
    let started = Instant::now();
    let workers: Vec<_> = (0..32)
        .map(|i| {
            std::thread::spawn(move || {
                let path = if i % 2 == 0 {
                    "/v1/objects/hosts?attrs=name"
                } else {
                    "/v1/status/CIB"
                };
                request(port, "GET", path, "root:rootpw", b"")
            })
        })
        .collect();
    for w in workers {
        let (code, body) = w.join().unwrap();
        assert_eq!(code, 200, "{body}");
    }
    println!(
        "32 requests beside 3 stalled clients: {:?}",
        started.elapsed()
    );

    // A body over a user's limit (1 MiB without config/modify).
    let huge = vec![b' '; (1 << 20) + 4096];
    let (code, body) = request(
        port,
        "POST",
        "/v1/actions/reschedule-check",
        "viewer:viewpw",
        &huge,
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("body limit exceeded"), "{body}");
    // Malformed JSON, an unknown type, a filter that does not parse.
    let (code, body) = request(
        port,
        "POST",
        "/v1/actions/reschedule-check",
        "root:rootpw",
        b"{\"type\": ",
    );
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("Invalid request body"), "{body}");
    let (code, _) = request(port, "GET", "/v1/objects/nopes", "root:rootpw", b"");
    assert_eq!(code, 400);
    let (code, body) = request(
        port,
        "GET",
        "/v1/objects/hosts?filter=(((&verbose=1",
        "root:rootpw",
        b"",
    );
    assert_eq!(code, 404);
    assert!(body.contains("<API query>"), "{body}");
    // A filter that would run forever is stopped.
    let (code, _) = request(
        port,
        "GET",
        "/v1/objects/hosts?filter=while%20(true)%20%7B%7D",
        "root:rootpw",
        b"",
    );
    assert_eq!(code, 404);
    // Garbage instead of HTTP ends only that connection.
    let mut garbage = connect(port);
    let _ = garbage.write_all(b"\x01\x02 nonsense\r\n\r\n");
    let mut sink = Vec::new();
    let _ = garbage.read_to_end(&mut sink);

    let (code, body) = request(
        port,
        "GET",
        "/v1/status/IcingaApplication",
        "root:rootpw",
        b"",
    );
    assert_eq!(code, 200, "{body}");
    drop(slow_head);
    drop(slow_body);
    // Where the API listens, in CacheDir as Icinga writes it (no
    // `-D CacheDir`: in the data directory), while it runs.
    let state_file = dir.join("cache/api-state.json");
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_file).unwrap()).unwrap();
    assert_eq!(state["port"], port, "{state}");
    assert!(state["host"].is_string(), "{state}");
    let (status, log) = node.stop();
    assert!(status.success(), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    assert!(!state_file.exists());
}

/// `GET path` as root, parsed; panics on anything but 200.
fn get(port: u16, path: &str) -> serde_json::Value {
    let (code, body) = request(port, "GET", path, "root:rootpw", b"");
    assert_eq!(code, 200, "{path}: {body}");
    // Object lists come chunked.
    serde_json::from_str(&body).unwrap_or_else(|_| serde_json::from_str(&dechunk(&body)).unwrap())
}

/// The payload of a chunked HTTP body.
fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

/// `POST /v1/actions/<action>` as root; the first result.
fn act(port: u16, action: &str, body: serde_json::Value) -> serde_json::Value {
    let (code, text) = request(
        port,
        "POST",
        &format!("/v1/actions/{action}"),
        "root:rootpw",
        body.to_string().as_bytes(),
    );
    assert!(code == 200 || code == 202, "{action} {body}: {code} {text}");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["results"][0].clone()
}

/// One string attribute of every result of a query, sorted.
fn sorted(doc: &serde_json::Value, attr: &str) -> Vec<String> {
    let mut out: Vec<String> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["attrs"][attr].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// Polls `GET path` until it answers `code` (a reload or restart in the
/// background has taken effect).
fn wait_code(port: u16, path: &str, code: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while request(port, "GET", path, "root:rootpw", b"").0 != code {
        assert!(Instant::now() < deadline, "{path} never answered {code}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Polls `path` until `ok` holds for its first result's attributes.
fn wait_attrs(port: u16, path: &str, ok: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let doc = get(port, path);
        let attrs = doc["results"][0]["attrs"].clone();
        if ok(&attrs) {
            return attrs;
        }
        assert!(Instant::now() < deadline, "{path} never matched: {attrs}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A node on the test configuration with its API on a free port, in a
/// directory of its own.
struct Lab {
    _tmp: tempfile::TempDir,
    config: std::path::PathBuf,
    dir: std::path::PathBuf,
    port: u16,
    args: Vec<String>,
}

impl Lab {
    fn new() -> Lab {
        let tmp = tempfile::tempdir().unwrap();
        let config = config_in(&tmp.path().join("etc"));
        let dir = tmp.path().join("picket");
        let data = format!("DataDir={}", dir.display());
        api_setup(&config, &data);
        let port = free_port();
        let args = vec![
            "-c".to_string(),
            config.display().to_string(),
            "-D".into(),
            data,
            "-D".into(),
            format!("ApiPort={port}"),
        ];
        Lab {
            _tmp: tmp,
            config,
            dir,
            port,
            args,
        }
    }

    fn start(&self) -> Node {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        Node::start(&self.dir, &args, &[])
    }

    /// `picket store history <store> <id>` of this node's data.
    fn history(&self, store: &str, id: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_picket"))
            .args(["store", "history", store, id, "--json", "--data-dir"])
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

#[test]
fn operator_actions_are_durable_and_follow_the_state() {
    let lab = Lab::new();
    let port = lab.port;
    let node = lab.start();
    let broken = "/v1/objects/services/host2!broken?attrs=state&attrs=acknowledgement&attrs=downtime_depth&attrs=handled";
    wait_attrs(port, broken, |a| a["state"] == 2.0);

    // A sticky acknowledgement, a comment, a fixed downtime in its window
    // and a flexible one made during the problem (so started at once).
    act(
        port,
        "acknowledge-problem",
        serde_json::json!({
        "service": "host2!broken", "author": "op", "comment": "on it", "sticky": true }),
    );
    let comment = act(
        port,
        "add-comment",
        serde_json::json!({
        "host": "host1", "author": "op", "comment": "note" }),
    );
    let comment_name = comment["name"].as_str().unwrap().to_string();
    assert!(comment_name.starts_with("host1!"), "{comment}");
    // Changed after it was made: kept with its first text.
    let (code, changed) = change(
        port,
        "POST",
        &format!("/v1/objects/comments/{comment_name}"),
        serde_json::json!({ "attrs": { "text": "note, edited" } }),
    );
    assert_eq!(
        (code, &changed["code"]),
        (200, &serde_json::json!(200)),
        "{changed}"
    );
    act(
        port,
        "schedule-downtime",
        serde_json::json!({
        "host": "host1", "author": "op", "comment": "fixed",
        "start_time": 1, "end_time": 4102444800u64 }),
    );
    act(
        port,
        "schedule-downtime",
        serde_json::json!({
        "service": "host2!broken", "author": "op", "comment": "flexible", "fixed": false,
        "duration": 3600, "start_time": 1, "end_time": 4102444800u64 }),
    );
    let before = wait_attrs(port, broken, |a| a["downtime_depth"] == 1.0);
    assert_eq!(before["acknowledgement"], 2.0, "{before}");
    assert_eq!(before["handled"], true, "{before}");

    // A normal acknowledgement goes with the next state change.
    let passive = "/v1/objects/services/host1!passive?attrs=state&attrs=acknowledgement";
    let result = |exit: u8| {
        serde_json::json!({
        "service": "host1!passive", "exit_status": exit, "plugin_output": "scripted" })
    };
    act(port, "process-check-result", result(2));
    act(
        port,
        "acknowledge-problem",
        serde_json::json!({
        "service": "host1!passive", "author": "op", "comment": "brief" }),
    );
    wait_attrs(port, passive, |a| a["acknowledgement"] == 1.0);
    act(port, "process-check-result", result(1));
    wait_attrs(port, passive, |a| {
        a["state"] == 1.0 && a["acknowledgement"] == 0.0
    });

    // The ScheduledDowntime plans on Icinga's minute timer: the running
    // range's downtime after a minute, the next range's after two.
    let planned =
        "/v1/objects/downtimes?attrs=comment&filter=downtime.scheduled_by==%22host2!always%22";
    let deadline = Instant::now() + Duration::from_secs(150);
    while get(port, planned)["results"].as_array().map_or(0, Vec::len) < 2 {
        assert!(Instant::now() < deadline, "{}", get(port, planned));
        std::thread::sleep(Duration::from_millis(500));
    }

    // Killed without warning, the node comes back with all of it.
    node.kill();
    let node = lab.start();
    let after = wait_attrs(port, broken, |a| a["downtime_depth"] == 1.0);
    assert_eq!(after["acknowledgement"], 2.0, "{after}");
    let host1 = wait_attrs(port, "/v1/objects/hosts/host1?attrs=downtime_depth", |a| {
        a["downtime_depth"] == 1.0
    });
    assert_eq!(host1["downtime_depth"], 1.0);
    let comments = get(
        port,
        "/v1/objects/comments?attrs=text&attrs=original_attributes",
    );
    assert_eq!(
        sorted(&comments, "text"),
        ["note, edited", "on it"],
        "{comments}"
    );
    let edited = get(
        port,
        &format!("/v1/objects/comments/{comment_name}?attrs=original_attributes"),
    );
    assert_eq!(
        edited["results"][0]["attrs"]["original_attributes"]["text"], "note",
        "{edited}"
    );
    // The planned downtimes of the ScheduledDowntime (the running range's
    // and the next one's) came back with the others.
    let downtimes = get(port, "/v1/objects/downtimes?attrs=comment");
    assert_eq!(
        sorted(&downtimes, "comment"),
        ["Planned", "Planned", "fixed", "flexible"],
        "{downtimes}"
    );
    let (status, log) = node.stop();
    assert!(status.success(), "{log}");

    // The history names who did what: the API user, and the node itself
    // for what followed from the state.
    let history = |id: &str| lab.history("operations", id);
    let broken_history = history("host2!broken");
    assert!(broken_history.contains("user:root"), "{broken_history}");
    assert!(
        broken_history.contains("acknowledge-problem"),
        "{broken_history}"
    );
    assert!(
        broken_history.contains("schedule-downtime"),
        "{broken_history}"
    );
    let host1_history = history("host1");
    assert!(host1_history.contains("modify"), "{host1_history}");
    let passive_history = history("host1!passive");
    assert!(
        passive_history.contains("remove-acknowledgement"),
        "{passive_history}"
    );
    assert!(
        passive_history.contains("system:operations"),
        "{passive_history}"
    );
}

/// `method path` as root with a JSON body; the status and the first result.
fn change(
    port: u16,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let (code, text) = request(
        port,
        method,
        path,
        "root:rootpw",
        body.to_string().as_bytes(),
    );
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    (code, doc["results"][0].clone())
}

#[test]
fn objects_created_and_changed_through_the_api_are_durable() {
    let lab = Lab::new();
    let port = lab.port;
    let node = lab.start();
    wait_attrs(port, "/v1/objects/hosts/host1?attrs=last_check", |a| {
        a["last_check"].as_f64() > Some(0.0)
    });

    let (code, r) = change(
        port,
        "PUT",
        "/v1/objects/hosts/web1",
        serde_json::json!({"templates": ["generic-host"], "attrs": {"address": "10.0.0.1", "vars.os": "Linux"}}),
    );
    assert_eq!(
        (code, r["status"].as_str()),
        (200, Some("Object was created")),
        "{r}"
    );
    let (code, r) = change(
        port,
        "PUT",
        "/v1/objects/services/web1!http",
        serde_json::json!({"attrs": {"check_command": "dummy", "check_interval": 1, "vars.dummy_state": 1}}),
    );
    assert_eq!(code, 200, "{r}");
    // A failed create leaves nothing behind.
    let (code, r) = change(
        port,
        "PUT",
        "/v1/objects/hosts/web2",
        serde_json::json!({"attrs": {"check_command": "no-such-command"}}),
    );
    assert_eq!(code, 500, "{r}");
    // The new host is checked, and the apply rules took it.
    wait_attrs(port, "/v1/objects/services/web1!http?attrs=state", |a| {
        a["state"] == 1.0
    });
    get(port, "/v1/objects/services/web1!ping?attrs=name");
    let (code, r) = change(
        port,
        "POST",
        "/v1/objects/hosts/host1",
        serde_json::json!({"attrs": {"vars.team": "ops", "check_interval": 30}}),
    );
    assert_eq!((code, r["code"].as_f64()), (200, Some(200.0)), "{r}");
    // Replacing all custom variables records them as they were, with the
    // team set just before: the restart must not forget that.
    let (code, r) = change(
        port,
        "POST",
        "/v1/objects/hosts/host1",
        serde_json::json!({"attrs": {"vars": {"only": 1}}}),
    );
    assert_eq!((code, r["code"].as_f64()), (200, Some(200.0)), "{r}");
    let host1_path =
        "/v1/objects/hosts/host1?attrs=vars&attrs=check_interval&attrs=original_attributes";
    let host1_before = get(port, host1_path)["results"][0]["attrs"].clone();
    assert_eq!(
        host1_before["original_attributes"]["vars"]["team"], "ops",
        "{host1_before}"
    );
    let (code, r) = change(
        port,
        "PUT",
        "/v1/objects/hosts/gone",
        serde_json::json!({"attrs": {"check_command": "dummy"}}),
    );
    assert_eq!(code, 200, "{r}");
    let (code, r) = change(
        port,
        "DELETE",
        "/v1/objects/hosts/gone?cascade=1",
        serde_json::json!({}),
    );
    assert_eq!(code, 200, "{r}");

    // Killed without warning, the node comes back with all of it.
    node.kill();
    let node = lab.start();
    let web1 = get(
        port,
        "/v1/objects/hosts/web1?attrs=address&attrs=vars&attrs=package&attrs=templates&attrs=groups",
    );
    let attrs = &web1["results"][0]["attrs"];
    assert_eq!(attrs["address"], "10.0.0.1", "{web1}");
    assert_eq!(attrs["package"], "_api", "{web1}");
    assert_eq!(
        attrs["templates"],
        serde_json::json!(["web1", "generic-host"]),
        "{web1}"
    );
    assert_eq!(attrs["groups"], serde_json::json!(["linux"]), "{web1}");
    wait_attrs(port, "/v1/objects/services/web1!http?attrs=state", |a| {
        a["state"] == 1.0
    });
    let host1 = get(port, host1_path);
    let attrs = &host1["results"][0]["attrs"];
    assert_eq!(attrs["vars"], serde_json::json!({"only": 1}), "{host1}");
    assert_eq!(attrs["check_interval"], 30.0, "{host1}");
    assert_eq!(attrs, &host1_before, "{host1}");
    assert_eq!(attrs["original_attributes"]["check_interval"], 2, "{host1}");
    assert!(
        attrs["original_attributes"]["vars.team"].is_null(),
        "{host1}"
    );
    for gone in ["/v1/objects/hosts/web2", "/v1/objects/hosts/gone"] {
        let (code, _) = request(port, "GET", gone, "root:rootpw", b"");
        assert_eq!(code, 404, "{gone}");
    }
    let (status, log) = node.stop();
    assert!(status.success(), "{log}");

    // The history says who created and changed what.
    let history = lab.history("api-objects", "Host:web1");
    assert!(
        history.contains("user:root") && history.contains("create-object"),
        "{history}"
    );
    let history = lab.history("api-objects", "Host:gone");
    assert!(history.contains("delete-object"), "{history}");
}

/// A real client: the `icinga2apic` package from PyPI (`.ci/run` installs
/// it) runs its scripted session against Picket, every step checked.
#[test]
fn icinga2apic_session_runs_against_picket() {
    let lab = Lab::new();
    let port = lab.port;
    let node = lab.start();
    wait_attrs(
        port,
        "/v1/objects/services/host1!ping?attrs=last_check",
        |a| a["last_check"].as_f64() > Some(0.0),
    );
    let run = Command::new("python3")
        .arg(fixtures().join("icinga2apic_session.py"))
        .arg(format!("https://127.0.0.1:{port}"))
        .args(["root", "rootpw"])
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&run.stdout);
    println!("{report}");
    let (_, log) = node.stop();
    assert!(
        run.status.success() && report.contains("session complete"),
        "the session failed:\n{report}\n{}\nPicket's log:\n{log}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// `restart-process` loads the configuration again (in place, keeping the
/// state); `shutdown-process` stops the node as SIGTERM would.
#[test]
fn restart_and_shutdown_process_actions() {
    let lab = Lab::new();
    let port = lab.port;
    let node = lab.start();
    // A host added to the files is there after the restart.
    let mut text = std::fs::read_to_string(&lab.config).unwrap();
    text.push_str("\nobject Host \"added\" { check_command = \"dummy\" }\n");
    std::fs::write(&lab.config, text).unwrap();
    let r = act(port, "restart-process", serde_json::json!({}));
    assert_eq!(r["status"], "Restarting Icinga 2.", "{r}");
    wait_code(port, "/v1/objects/hosts/added", 200);
    let r = act(port, "shutdown-process", serde_json::json!({}));
    assert_eq!(r["status"], "Shutting down Icinga 2.", "{r}");
    let (status, log) = node.wait();
    assert!(status.success(), "{log}");
    assert!(log.contains("shutdown-process"), "{log}");
}

/// The stage `POST /v1/config/stages/<package>` created.
fn upload_stage(port: u16, package: &str, body: serde_json::Value) -> String {
    let (code, text) = request(
        port,
        "POST",
        &format!("/v1/config/stages/{package}"),
        "root:rootpw",
        body.to_string().as_bytes(),
    );
    assert_eq!(code, 200, "{text}");
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["results"][0]["stage"].as_str().unwrap().to_string()
}

/// Waits for a stage's validation and returns its `status` file.
fn validated(lab: &Lab, package: &str, stage: &str) -> String {
    let path = lab
        .dir
        .join(format!("api/packages/{package}/{stage}/status"));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(status) = std::fs::read_to_string(&path) {
            return status;
        }
        assert!(Instant::now() < deadline, "{stage} was never validated");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn config_stages_are_validated_activated_and_loaded_at_every_start() {
    let lab = Lab::new();
    let port = lab.port;
    let node = lab.start();
    let (code, text) = request(
        port,
        "POST",
        "/v1/config/packages/deploy",
        "root:rootpw",
        b"",
    );
    assert_eq!(code, 200, "{text}");
    let host = |name: &str| format!("object Host \"{name}\" {{ check_command = \"dummy\" }}");
    let good = upload_stage(
        port,
        "deploy",
        serde_json::json!({"files": {"zones.d/master/h.conf": host("deployed")}}),
    );
    assert_eq!(validated(&lab, "deploy", &good), "0");
    // Valid, activated and loaded in place (Icinga restarts for it).
    wait_code(port, "/v1/objects/hosts/deployed", 200);
    let attrs = get(port, "/v1/objects/hosts/deployed")["results"][0]["attrs"].clone();
    assert_eq!(attrs["package"], "deploy", "{attrs}");
    assert_eq!(attrs["zone"], "master", "{attrs}");
    // A stage that does not load changes nothing, and says why.
    let bad = upload_stage(
        port,
        "deploy",
        serde_json::json!({"files": {"conf.d/bad.conf": "object Host \"bad\" { nope = 1 }"}}),
    );
    assert_eq!(validated(&lab, "deploy", &bad), "1");
    let log = std::fs::read_to_string(
        lab.dir
            .join(format!("api/packages/deploy/{bad}/startup.log")),
    )
    .unwrap();
    assert!(log.contains("critical/config"), "{log}");
    assert!(log.contains("bad.conf"), "{log}");
    let packages = get(port, "/v1/config/packages");
    let deploy = packages["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "deploy")
        .unwrap()
        .clone();
    assert_eq!(deploy["active-stage"], good.as_str(), "{packages}");
    assert_eq!(deploy["stages"].as_array().unwrap().len(), 2, "{packages}");
    get(port, "/v1/objects/hosts/deployed");
    // After a crash the active stage loads with the files.
    node.kill();
    let node = lab.start();
    get(port, "/v1/objects/hosts/deployed");
    // Deleting the package removes its objects.
    let (code, text) = request(
        port,
        "DELETE",
        "/v1/config/packages/deploy",
        "root:rootpw",
        b"",
    );
    assert_eq!(code, 200, "{text}");
    wait_code(port, "/v1/objects/hosts/deployed", 404);
    let (status, log) = node.stop();
    assert!(status.success(), "{log}");
}

#[test]
fn execute_command_runs_the_command_and_keeps_its_outcome() {
    let lab = Lab::new();
    let port = lab.port;
    let node = lab.start();
    let r = act(
        port,
        "execute-command",
        serde_json::json!({
            "type": "Service", "service": "host1!ping", "ttl": 30, "command": "echo-event",
            "macros": {"command_endpoint": "picket-lab", "event_text": "hello"},
        }),
    );
    assert_eq!(r["code"], 202, "{r}");
    let id = r["execution"].as_str().unwrap().to_string();
    let attrs = wait_attrs(
        port,
        "/v1/objects/services/host1!ping?attrs=executions",
        |a| a["executions"][&id]["end"].is_number(),
    );
    let run = &attrs["executions"][&id];
    assert_eq!(run["exit"], 0, "{run}");
    assert_eq!(run["output"], "event for host1: hello\n", "{run}");
    assert!(run["deadline"].as_f64().unwrap() > run["start"].as_f64().unwrap() + 29.0);
    // The command's result is not a check result.
    let cr = get(
        port,
        "/v1/objects/services/host1!ping?attrs=last_check_result",
    );
    let output = &cr["results"][0]["attrs"]["last_check_result"]["output"];
    assert_ne!(output, "event for host1: hello", "{cr}");
    let (status, log) = node.stop();
    assert!(status.success(), "{log}");
}

#[test]
fn scheduled_downtimes_cover_the_children_their_child_options_name() {
    let lab = Lab::new();
    let port = lab.port;
    let original = std::fs::read_to_string(&lab.config).unwrap();
    let days = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .map(|d| format!("{d} = \"00:00-24:00\""))
    .join("\n");
    let objects = "\nobject Host \"child1\" { check_command = \"dummy\" }\n\
         object Dependency \"child1-behind-host1\" { parent_host_name = \"host1\"; child_host_name = \"child1\" }\n";
    let window = format!(
        "object ScheduledDowntime \"with-children\" {{\n  host_name = \"host1\"\n  author = \"a\"\n  \
         comment = \"window\"\n  child_options = \"DowntimeTriggeredChildren\"\n  ranges = {{\n{days}\n}}\n}}\n"
    );
    std::fs::write(&lab.config, format!("{original}{objects}{window}")).unwrap();
    let node = lab.start();
    // Planned on the minute timer (see the test above).
    let query = "/v1/objects/downtimes?filter=downtime.host_name==%22child1%22&attrs=parent&attrs=triggered_by&attrs=scheduled_by";
    let deadline = Instant::now() + Duration::from_secs(90);
    let child = loop {
        let (code, body) = request(port, "GET", query, "root:rootpw", b"");
        if code == 200 {
            let doc: serde_json::Value = serde_json::from_str(&dechunk(&body)).unwrap();
            let attrs = &doc["results"][0]["attrs"];
            if !attrs.is_null() {
                break attrs.clone();
            }
        }
        assert!(Instant::now() < deadline, "child1 got no downtime");
        std::thread::sleep(Duration::from_millis(200));
    };
    // As Icinga 2.13.6 makes it: a downtime of the same ScheduledDowntime
    // that the host's starts, not a child of that one.
    let parent = child["triggered_by"].as_str().unwrap().to_string();
    assert!(parent.starts_with("host1!"), "{child}");
    assert_eq!(child["parent"], "", "{child}");
    assert_eq!(child["scheduled_by"], "host1!with-children", "{child}");
    let planned = get(
        port,
        &format!("/v1/objects/downtimes/{parent}?attrs=scheduled_by"),
    );
    assert_eq!(
        planned["results"][0]["attrs"]["scheduled_by"],
        "host1!with-children"
    );
    // As Icinga plans them: the range running now and, queued behind it,
    // the next one ("always" covers every day).
    let query_always = "/v1/objects/downtimes?filter=downtime.scheduled_by==%22host2!always%22&attrs=start_time&attrs=end_time";
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let doc = get(port, query_always);
        let mut spans: Vec<(f64, f64)> = doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let a = &r["attrs"];
                (
                    a["start_time"].as_f64().unwrap(),
                    a["end_time"].as_f64().unwrap(),
                )
            })
            .collect();
        if spans.len() == 2 {
            spans.sort_by(|a, b| a.0.total_cmp(&b.0));
            let now = picket_model::result::now();
            assert!(spans[0].0 <= now && now < spans[0].1, "{spans:?}");
            assert_eq!(spans[0].1, spans[1].0, "{spans:?}");
            break;
        }
        assert!(spans.len() < 2, "{doc}");
        assert!(Instant::now() < deadline, "no next downtime: {doc}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Without the ScheduledDowntime, its downtime goes and its child's too.
    std::fs::write(&lab.config, format!("{original}{objects}")).unwrap();
    act(port, "restart-process", serde_json::json!({}));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !get(port, query)["results"].as_array().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the child's downtime stayed");
        std::thread::sleep(Duration::from_millis(200));
    }
    let (status, log) = node.stop();
    assert!(status.success(), "{log}");
}
