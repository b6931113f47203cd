//! Helpers shared by the command-line tests.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Runs a `picket daemon` command until it says it is running, stops it
/// with SIGTERM, checks that it stopped cleanly and returns what it
/// printed.
#[allow(dead_code)]
pub fn run_until_running(mut cmd: Command) -> String {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let running = line.contains("Picket node running");
        lines.push(line);
        if running {
            // SAFETY: kill(2) on our own child.
            unsafe {
                libc::kill(child.id() as i32, libc::SIGTERM);
            }
        }
    }
    let status = child.wait().unwrap();
    let out = lines.join("\n");
    assert!(status.success(), "{out}");
    out
}

#[allow(dead_code)]
pub mod icinga;
#[allow(dead_code)]
pub mod node;

/// A TCP port free on 127.0.0.1 right now, for a node or peer to listen on.
#[allow(dead_code)]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops a real Icinga 2 daemon started by a test. SIGTERM first: Icinga's
/// first process then stops the worker process it started; SIGKILL would
/// leave the worker running after the test.
#[allow(dead_code)]
pub fn stop_icinga(child: &mut std::process::Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(pid, libc::SIGTERM) };
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}
