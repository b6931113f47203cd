//! A real Icinga 2 beside Picket: both run one configuration with the same
//! certificates (made by `picket api setup`), so that a script can send the
//! same requests to both and compare.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `picket api setup` for node `picket-lab` on `config` and data `define`.
pub fn api_setup(config: &Path, define: &str) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["api", "setup", "--cn", "picket-lab", "-c"])
        .arg(config)
        .args(["-D", define])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    out
}

/// Stops Icinga when the test ends, however it ends.
pub struct Icinga(Child);

impl Drop for Icinga {
    fn drop(&mut self) {
        super::stop_icinga(&mut self.0);
    }
}

/// Starts Icinga on `config` with its directories under `dir`, the API on
/// `port` and more `-D` definitions.
pub fn start(dir: &Path, config: &Path, port: u16, defines: &[String]) -> Icinga {
    for sub in ["data", "log", "cache", "spool", "run"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let define = |name: &str, sub: &str| format!("{name}={}", dir.join(sub).display());
    let mut command = Command::new("icinga2");
    command
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
        .args(["-D", &format!("ApiPort={port}")]);
    for d in defines {
        command.args(["-D", d]);
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("icinga2 runs (apt-get install icinga2)");
    Icinga(child)
}

/// Gives Icinga (its DataDir under `icinga_dir`) the certificates `picket
/// api setup` made in `picket_dir`.
pub fn share_certificates(picket_dir: &Path, icinga_dir: &Path) {
    std::fs::create_dir_all(icinga_dir.join("data/certs")).unwrap();
    for f in ["ca.crt", "picket-lab.crt", "picket-lab.key"] {
        std::fs::copy(
            picket_dir.join("certs").join(f),
            icinga_dir.join("data/certs").join(f),
        )
        .unwrap();
    }
}
