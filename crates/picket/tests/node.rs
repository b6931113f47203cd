//! The running node: retention across SIGTERM and SIGKILL, reloads with a
//! valid and a broken configuration, a plugin killed at its timeout with
//! its children, and the first start of a standalone node.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::node::Node;
use serde_json::Value as Json;

const BASE: &str = r#"
include <itl>
object CheckerComponent "checker" { }
const RetentionInterval = 0.5
object Host "h1" {
  check_command = "dummy"
  check_interval = 1h
  enable_active_checks = false
}
template Service "fast" {
  host_name = "h1"
  check_command = "dummy"
  check_interval = 2s
  retry_interval = 0.1s
  max_check_attempts = 3
}
"#;

fn write_config(dir: &Path, services: &str) -> String {
    let path = dir.join("icinga2.conf");
    std::fs::write(&path, format!("{BASE}{services}")).unwrap();
    path.display().to_string()
}

fn service<'a>(objects: &'a [Json], name: &str) -> Option<&'a Json> {
    objects
        .iter()
        .find(|o| o["name"] == name)
        .map(|o| &o["attrs"])
}

/// Polls the node until `pred` holds for the service, and returns it.
fn wait_service(node: &Node, name: &str, what: &str, pred: impl Fn(&Json) -> bool) -> Json {
    let start = Instant::now();
    loop {
        let objects = node.objects("Service");
        if let Some(s) = service(&objects, name).filter(|s| pred(s)) {
            return s.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{name}: never {what}: {:?}\n{}",
            service(&objects, name),
            node.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn hard_critical(s: &Json) -> bool {
    s["state"] == 2 && s["state_type"] == 1
}

const CRITICAL: &str = r#"
object Service "crit" {
  import "fast"
  vars.dummy_state = 2
  vars.dummy_text = "disk full"
}
"#;

#[test]
fn retention_survives_sigterm_and_sigkill() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = write_config(tmp.path(), CRITICAL);
    let node = Node::start(&data, &["-c", &config], &[]);
    let before = wait_service(&node, "h1!crit", "hard CRITICAL", hard_critical);
    let (status, out) = node.stop();
    assert!(status.success(), "{out}");
    let retained = std::fs::read_to_string(data.join("state/retention.jsonl")).unwrap();
    assert!(retained.contains("disk full"), "{retained}");

    // After SIGTERM: the state, its change time and the result come back.
    let node = Node::start(&data, &["-c", &config], &[]);
    assert!(node.output().contains("Restored the state of 2 object(s)"));
    let after = service(&node.objects("Service"), "h1!crit")
        .unwrap()
        .clone();
    assert!(hard_critical(&after), "{after}");
    assert_eq!(
        after["last_hard_state_change"],
        before["last_hard_state_change"]
    );
    assert_eq!(after["last_check_result"]["output"], "disk full");

    // SIGKILL after more than one retention interval: still there, and
    // the file is read without damage.
    std::thread::sleep(Duration::from_millis(1500));
    let out = node.kill();
    assert!(!out.contains("damaged"), "{out}");
    let node = Node::start(&data, &["-c", &config], &[]);
    let out = node.output();
    assert!(!out.contains("damaged"), "{out}");
    let again = service(&node.objects("Service"), "h1!crit")
        .unwrap()
        .clone();
    assert!(hard_critical(&again), "{again}");
    assert_eq!(
        again["last_hard_state_change"],
        before["last_hard_state_change"]
    );
    node.stop();
}

#[test]
fn reload_keeps_state_runs_new_objects_and_survives_a_broken_config() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let slow = r#"
object CheckCommand "slow" {
  command = [ "/bin/sh", "-c", "sleep 1.5; echo slow done" ]
}
object Service "slow" {
  import "fast"
  check_command = "slow"
  check_interval = 0.2s
}
"#;
    let gone = "object Service \"gone\" {\n  import \"fast\"\n}\n";
    let slow = format!(
        "{slow}object Service \"health\" {{\n  import \"fast\"\n  check_command = \"icinga\"\n}}\n"
    );
    let config = write_config(tmp.path(), &format!("{CRITICAL}{slow}{gone}"));
    let node = Node::start(&data, &["-c", &config], &[]);
    let before = wait_service(&node, "h1!crit", "hard CRITICAL", hard_critical);
    // Reload while `slow` runs (it starts every 0.2 s and takes 1.5 s).
    let events = node.events();
    write_config(
        tmp.path(),
        &format!("{CRITICAL}{slow}\nobject Service \"new\" {{\n  import \"fast\"\n  vars.dummy_text = \"I am new\"\n}}\n"),
    );
    node.signal(libc::SIGHUP);
    node.wait_for(
        "Reloaded the configuration: 4 object(s) kept with their state, 1 added, 1 removed.",
        Duration::from_secs(30),
    );
    // The check that ran across the reload counts for its object.
    let mut saw_slow = false;
    for e in events {
        if e["type"] == "CheckResult" && e["service"] == "slow" {
            assert_eq!(e["check_result"]["output"], "slow done");
            saw_slow = true;
            break;
        }
    }
    assert!(saw_slow);
    let objects = node.objects("Service");
    assert!(service(&objects, "h1!gone").is_none());
    let kept = service(&objects, "h1!crit").unwrap();
    assert!(hard_critical(kept), "{kept}");
    assert_eq!(
        kept["last_hard_state_change"],
        before["last_hard_state_change"]
    );
    wait_service(&node, "h1!new", "checked", |s| {
        s["last_check_result"]["output"] == "I am new"
    });

    // A broken configuration: the reload is refused with the error's
    // place, and the node keeps running the configuration it had.
    std::fs::write(&config, format!("{BASE}{CRITICAL}\nobject Service \"bad\" {{\n  import \"fast\"\n  check_interval = \n}}\n")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_picket"))
        .arg("--data-dir")
        .arg(&data)
        .args(["daemon", "--reload"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("icinga2.conf") && text.contains("Reload failed"),
        "{text}"
    );
    let objects = node.objects("Service");
    assert!(service(&objects, "h1!new").is_some());
    assert!(service(&objects, "h1!bad").is_none());
    let checked = service(&objects, "h1!new").unwrap()["last_check"]
        .as_f64()
        .unwrap();
    wait_service(&node, "h1!new", "checked again", |s| {
        s["last_check"].as_f64().unwrap() > checked
    });
    // From then on the node's health check warns of it, as Icinga's.
    let warned = wait_service(&node, "h1!health", "warning of the failed reload", |s| {
        s["last_check_result"]["output"]
            .as_str()
            .is_some_and(|o| o.contains("; Last reload attempt failed at "))
    });
    assert_eq!(warned["state"], 1, "{warned}");
    let (status, out) = node.stop();
    assert!(status.success(), "{out}");
}

#[test]
fn a_plugin_past_its_timeout_is_killed_with_its_children() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let pids = tmp.path().join("pids");
    let config = write_config(
        tmp.path(),
        &format!(
            r#"
object CheckCommand "stuck" {{
  command = [ "/bin/sh", "-c", "sleep 300 & echo $$! > {pids}; echo spawned; sleep 300" ]
  timeout = 1s
}}
object Service "stuck" {{
  import "fast"
  check_command = "stuck"
  // The first check comes within the interval (spread at start), the
  // second only after the assertions below.
  check_interval = 10s
}}
"#,
            pids = pids.display()
        ),
    );
    let node = Node::start(&data, &["-c", &config], &[]);
    let s = wait_service(&node, "h1!stuck", "timed out", |s| {
        !s["last_check_result"].is_null()
    });
    // Icinga 2's words and state for a plugin killed at its timeout.
    assert_eq!(
        s["last_check_result"]["output"],
        "spawned\n<Timeout exceeded.><Terminated by signal 15 (Terminated).>"
    );
    assert_eq!(s["state"], 3);
    let child: i32 = std::fs::read_to_string(&pids)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // SAFETY: kill(2) with signal 0 only probes for the process.
    let alive = unsafe { libc::kill(child, 0) } == 0;
    assert!(!alive, "the plugin's child {child} outlived the check");
    node.stop();
}

#[test]
fn first_start_writes_a_configuration_a_ca_and_a_password_and_checks_this_machine() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let etc = tmp.path().join("etc");
    let define = format!("-DConfigDir={}", etc.display());
    let node = Node::start(&data, &[&define], &[]);
    let out = node.output();
    assert!(out.contains("First start"), "{out}");
    let password = out
        .split("password '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no password in {out}"))
        .to_string();
    let users = etc.join("api-users.conf");
    assert!(std::fs::read_to_string(&users).unwrap().contains(&password));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&users).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let node_name = out
        .split("(node '")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    assert!(data.join(format!("certs/{node_name}.crt")).exists());
    assert!(data.join("certs/ca.crt").exists());
    // Results for this machine come within a minute (first checks are
    // spread over at most a minute).
    let start = Instant::now();
    let checked = loop {
        let objects = node.objects("Service");
        let checked: Vec<&Json> = objects
            .iter()
            .filter(|o| !o["attrs"]["last_check_result"].is_null())
            .collect();
        if !checked.is_empty() {
            break checked.len();
        }
        assert!(
            start.elapsed() < Duration::from_secs(65),
            "{}",
            node.output()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(checked > 0);
    let ca = std::fs::read(data.join("certs/ca.crt")).unwrap();
    let (status, out) = node.stop();
    assert!(status.success(), "{out}");

    // A second start reuses everything: no new password, the same CA.
    let node = Node::start(&data, &[&define], &[]);
    let out = node.output();
    assert!(
        !out.contains("First start") && !out.contains("password"),
        "{out}"
    );
    assert_eq!(std::fs::read(data.join("certs/ca.crt")).unwrap(), ca);
    node.stop();
}
