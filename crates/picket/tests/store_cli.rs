//! The data directory from the command line: `--data-dir` and
//! `PICKET_DATA_DIR`, `picket store verify|history|backup`, and what
//! `picket daemon` does with the store at startup (upgrade, recovery,
//! `PICKET_UPGRADE_ONLY`, `PICKET_FORCE_RECOVER`, `always_recover_data`,
//! refusing downgrades).
//!
//! The data is the format-1 store committed with `picket-store`'s tests
//! (Krill's file-per-command layout), so these tests also run the upgrade
//! the way an operator would.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn picket() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_picket"));
    c.env_remove("PICKET_DATA_DIR")
        .env_remove("PICKET_FORCE_RECOVER")
        .env_remove("PICKET_UPGRADE_ONLY");
    c
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A data directory holding the committed format-1 store.
fn format1(tmp: &Path) -> PathBuf {
    let dir = tmp.join("data");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../picket-store/tests/data/format-1"),
        &dir,
    );
    dir
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn upgrade_only(data: &Path) -> Output {
    picket()
        .args(["daemon", "--data-dir"])
        .arg(data)
        .env("PICKET_UPGRADE_ONLY", "1")
        .output()
        .unwrap()
}

/// A minimal valid configuration, with extra text appended.
fn config(tmp: &Path, extra: &str) -> PathBuf {
    let path = tmp.join("picket.conf");
    std::fs::write(
        &path,
        format!("object Endpoint \"node\" {{}}\nobject Zone \"z\" {{ endpoints = [ \"node\" ] }}\n{extra}\n"),
    )
    .unwrap();
    path
}

/// Runs the node until it says it is running, stops it with SIGTERM and
/// returns everything it printed.
fn run_node(data: &Path, conf: &Path, env: &[(&str, &str)]) -> String {
    let mut cmd = picket();
    cmd.args(["daemon", "-c"])
        .arg(conf)
        .env("PICKET_DATA_DIR", data);
    for (k, v) in env {
        cmd.env(k, v);
    }
    common::run_until_running(cmd)
}

#[test]
fn upgrade_only_migrates_and_exits_then_verify_and_history_read_the_store() {
    let tmp = tempfile::tempdir().unwrap();
    let data = format1(tmp.path());
    let out = upgrade_only(&data);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("from format 1 to 2"), "{}", text(&out));
    assert!(data.join("store.format-1").is_dir());
    // Again: nothing to do.
    let out = upgrade_only(&data);
    assert!(text(&out).contains("nothing to upgrade"), "{}", text(&out));

    let out = picket()
        .args(["store", "verify"])
        .env("PICKET_DATA_DIR", &data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("store 'accounts': 10 records of 3 aggregates"),
        "{}",
        text(&out)
    );

    let out = picket()
        .args(["store", "history", "accounts", "bob", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.starts_with("VERSION"), "{t}");
    assert!(
        t.contains("user:bob") && t.contains("refused: balance 0 is less than 5"),
        "{t}"
    );
    assert!(t.contains("2025-11-23T08:05:05.000Z"), "{t}");

    let out = picket()
        .args([
            "store",
            "history",
            "accounts",
            "carol/ops",
            "--json",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 4);
    assert_eq!(v[2]["command"]["label"], "close");
    assert_eq!(v[2]["actor"], "user:root");
    assert_eq!(v[2]["effect"], serde_json::json!({"events": ["closed"]}));
    assert_eq!(v[3]["effect"]["error"], "the account is closed");

    let out = picket()
        .args(["store", "history", "accounts", "nobody", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = picket()
        .args(["store", "history", "nostore", "x", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        !out.status.success() && text(&out).contains("no store 'nostore'"),
        "{}",
        text(&out)
    );
}

#[test]
fn verify_fails_on_a_changed_record_and_a_backup_is_a_verified_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let data = format1(tmp.path());
    assert!(upgrade_only(&data).status.success());
    let copy = tmp.path().join("copy");
    let out = picket()
        .args(["store", "backup"])
        .arg(&copy)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = picket()
        .args(["store", "verify", "--data-dir"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));

    // Change alice's deposit of 100 into 900 in the original.
    let seg = data.join("store/accounts/log/0000000001.seg");
    let mut bytes = std::fs::read(&seg).unwrap();
    let at = bytes
        .windows(15)
        .position(|w| w == b"\"deposited\":100")
        .unwrap();
    bytes[at + 12] = b'9';
    std::fs::write(&seg, bytes).unwrap();
    let out = picket()
        .args(["store", "verify", "--json", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["stores"][0]["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(findings[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("0000000001.seg"));
}

#[test]
fn the_node_sets_aside_an_unfinished_write_and_recovers_on_request() {
    let tmp = tempfile::tempdir().unwrap();
    let data = format1(tmp.path());
    let conf = config(tmp.path(), "");
    // The first start upgrades.
    let out = run_node(&data, &conf, &[]);
    assert!(out.contains("from format 1 to 2"), "{out}");
    assert!(
        out.contains("Store 'accounts': 3 aggregates, 10 records replayed"),
        "{out}"
    );

    // A write cut short: the node sets the tail aside and says so.
    let seg = data.join("store/accounts/log/0000000001.seg");
    let len = std::fs::metadata(&seg).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(len - 7).unwrap();
    drop(f);
    let out = run_node(&data, &conf, &[]);
    assert!(
        out.contains("warning/store") && out.contains("an unfinished write"),
        "{out}"
    );
    assert!(out.contains("9 records replayed"), "{out}");
    assert_eq!(
        std::fs::read_dir(data.join("store/accounts/surplus"))
            .unwrap()
            .count(),
        1
    );

    // Forced recovery, from the environment or from the configuration.
    let out = run_node(&data, &conf, &[("PICKET_FORCE_RECOVER", "1")]);
    assert!(out.contains("Recovery mode"), "{out}");
    let conf = config(
        tmp.path(),
        "object EventStore \"store\" { always_recover_data = true }",
    );
    let out = run_node(&data, &conf, &[]);
    assert!(out.contains("Recovery mode"), "{out}");
}

#[test]
fn a_newer_data_format_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = format1(tmp.path());
    std::fs::write(data.join("store/FORMAT"), "picket-store-format 7\n").unwrap();
    let conf = config(tmp.path(), "");
    let out = picket()
        .args(["daemon", "-c"])
        .arg(&conf)
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let t = text(&out);
    assert!(
        t.contains("newer Picket") && t.contains("Downgrades are not supported"),
        "{t}"
    );
    // Nothing was touched.
    assert!(data.join("store/accounts/alice/command-0.json").exists());
}

#[test]
fn define_data_dir_names_the_data_directory_as_icinga_does() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, name) in ["DataDir", "Configuration.DataDir"].iter().enumerate() {
        let data = tmp.path().join(format!("d{i}"));
        let out = picket()
            .args(["daemon", "-D"])
            .arg(format!("{name}={}", data.display()))
            .env("PICKET_UPGRADE_ONLY", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        assert!(data.join("store/FORMAT").is_file(), "{}", text(&out));
    }
    // --data-dir wins.
    let explicit = tmp.path().join("explicit");
    let out = picket()
        .args(["daemon", "-D"])
        .arg(format!("DataDir={}", tmp.path().join("ignored").display()))
        .arg("--data-dir")
        .arg(&explicit)
        .env("PICKET_UPGRADE_ONLY", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(explicit.join("store/FORMAT").is_file());
    assert!(!tmp.path().join("ignored").exists());
}
