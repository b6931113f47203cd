//! Notifications side by side with Icinga 2: both run
//! tests/notifications/icinga2.conf (every check passive, a notification
//! command that appends a line per user to a file), and
//! tests/notifications/scenarios.py drives each through the same problems,
//! recoveries, acknowledgements, downtimes, custom and delayed
//! notifications. What each sent — type, user, object, author, comment,
//! state, in order — and where its Notification objects stand afterwards
//! must be the same.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::free_port;
use common::icinga::{api_setup, share_certificates};
use common::node::Node;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/notifications"))
}

/// Runs the scenarios against the API on `port`, whose notifications go
/// to `log`; returns the scenarios' record.
fn scenarios(port: u16, log: &Path, out: &Path) -> std::thread::JoinHandle<(bool, String)> {
    let (log, out) = (log.to_path_buf(), out.to_path_buf());
    std::thread::spawn(move || {
        let run = Command::new("python3")
            .arg(fixtures().join("scenarios.py"))
            .arg(format!("https://127.0.0.1:{port}"))
            .arg(&log)
            .arg(&out)
            .output()
            .expect("python3 runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        (run.status.success(), text)
    })
}

fn record(path: &PathBuf) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
}

#[test]
fn notifications_go_out_as_icinga_sends_them() {
    let tmp = tempfile::tempdir().unwrap();
    let etc = tmp.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    let config = etc.join("icinga2.conf");
    std::fs::copy(fixtures().join("icinga2.conf"), &config).unwrap();
    let picket_dir = tmp.path().join("picket");
    let data = format!("DataDir={}", picket_dir.display());
    api_setup(&config, &data);
    let icinga_dir = tmp.path().join("icinga");
    share_certificates(&picket_dir, &icinga_dir);

    let (icinga_port, picket_port) = (free_port(), free_port());
    let (icinga_log, picket_log) = (tmp.path().join("icinga.log"), tmp.path().join("picket.log"));
    std::fs::write(&icinga_log, "").unwrap();
    std::fs::write(&picket_log, "").unwrap();
    let _icinga = common::icinga::start(
        &icinga_dir,
        &config,
        icinga_port,
        &[format!("NotifyLog={}", icinga_log.display())],
    );
    let config_arg = config.display().to_string();
    let node = Node::start(
        &picket_dir,
        &[
            "-c",
            &config_arg,
            "-D",
            &data,
            "-D",
            &format!("ApiPort={picket_port}"),
            "-D",
            &format!("NotifyLog={}", picket_log.display()),
        ],
        &[],
    );
    let (icinga_out, picket_out) = (
        tmp.path().join("icinga.json"),
        tmp.path().join("picket.json"),
    );
    let icinga_run = scenarios(icinga_port, &icinga_log, &icinga_out);
    let picket_run = scenarios(picket_port, &picket_log, &picket_out);
    let (icinga_ok, icinga_text) = icinga_run.join().unwrap();
    let (picket_ok, picket_text) = picket_run.join().unwrap();
    let (_, log) = node.stop();
    assert!(
        icinga_ok,
        "the scenarios failed against Icinga:\n{icinga_text}"
    );
    assert!(
        picket_ok,
        "the scenarios failed against Picket:\n{picket_text}\nPicket's log:\n{log}"
    );
    let (expected, seen) = (record(&icinga_out), record(&picket_out));
    let mut differences = Vec::new();
    if let (Some(expected), Some(seen)) = (expected.as_object(), seen.as_object()) {
        for (scenario, want) in expected {
            let got = seen.get(scenario).unwrap_or(&serde_json::Value::Null);
            if got != want {
                differences.push(format!("{scenario}:\n  Icinga: {want}\n  Picket: {got}"));
            }
        }
    } else {
        differences.push(format!("records: Icinga {expected}, Picket {seen}"));
    }
    assert!(
        differences.is_empty(),
        "{} scenarios differ:\n{}\nPicket's log:\n{log}",
        differences.len(),
        differences.join("\n")
    );
}
