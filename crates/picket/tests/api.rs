//! The REST API side by side with Icinga 2: both run the same
//! configuration (tests/api/icinga2.conf) with the same certificates, and
//! tests/api/conformance.py sends every request of tests/api/requests.json
//! to both and compares status codes, error texts and JSON shapes.

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::node::Node;

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills Icinga when the test ends, however it ends.
struct Icinga(Child);

impl Drop for Icinga {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_icinga(dir: &Path, config: &Path, port: u16) -> Icinga {
    for sub in ["data", "log", "cache", "spool", "run"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let define = |name: &str, sub: &str| format!("{name}={}", dir.join(sub).display());
    let child = Command::new("icinga2")
        .env("ICINGA2_USER", "root")
        .env("ICINGA2_GROUP", "root")
        .arg("daemon")
        .arg("-c")
        .arg(config)
        .args(["-D", &define("DataDir", "data")])
        .args(["-D", &define("LogDir", "log")])
        .args(["-D", &define("CacheDir", "cache")])
        .args(["-D", &define("SpoolDir", "spool")])
        .args(["-D", &define("InitRunDir", "run")])
        .args(["-D", &format!("ApiPort={port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("icinga2 runs (apt-get install icinga2)");
    Icinga(child)
}

#[test]
fn api_answers_as_icinga_does() {
    let tmp = tempfile::tempdir().unwrap();
    let config = fixtures().join("icinga2.conf");
    let picket_dir = tmp.path().join("picket");
    let data = format!("DataDir={}", picket_dir.display());
    // `api setup` makes the CA and the node certificate; Icinga is given
    // the same certificates.
    let setup = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["api", "setup", "--cn", "picket-lab", "-c"])
        .arg(&config)
        .args(["-D", &data])
        .output()
        .unwrap();
    assert!(setup.status.success(), "{setup:?}");
    let icinga_dir = tmp.path().join("icinga");
    std::fs::create_dir_all(icinga_dir.join("data/certs")).unwrap();
    for f in ["ca.crt", "picket-lab.crt", "picket-lab.key"] {
        std::fs::copy(
            picket_dir.join("certs").join(f),
            icinga_dir.join("data/certs").join(f),
        )
        .unwrap();
    }
    let (icinga_port, picket_port) = (free_port(), free_port());
    let _icinga = start_icinga(&icinga_dir, &config, icinga_port);
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
