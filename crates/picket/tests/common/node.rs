//! A `picket daemon` run by a test: started as a process, watched through
//! its output and its control socket, stopped with a signal.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

pub struct Node {
    pub child: Child,
    pub data_dir: PathBuf,
    output: Arc<Mutex<String>>,
}

impl Node {
    /// Starts `picket daemon ARGS` on `data_dir` and waits until it runs.
    pub fn start(data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Node {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_picket"));
        cmd.arg("--data-dir").arg(data_dir).arg("daemon").args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Node::spawn(cmd, data_dir)
    }

    /// Starts a prepared command and waits until the node runs.
    pub fn spawn(mut cmd: Command, data_dir: &Path) -> Node {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    let mut o = output.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        let node = Node {
            child,
            data_dir: data_dir.to_path_buf(),
            output,
        };
        node.wait_for("Picket node running", Duration::from_secs(60));
        node
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the output contains `text`; panics with the output if
    /// it does not within `limit`.
    pub fn wait_for(&self, text: &str, limit: Duration) {
        let start = Instant::now();
        while !self.output().contains(text) {
            assert!(
                start.elapsed() < limit,
                "no '{text}' within {limit:?}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn connect(&self) -> UnixStream {
        UnixStream::connect(self.data_dir.join("control.sock")).unwrap()
    }

    /// Sends one control request and returns the reply.
    pub fn request(&self, request: Json) -> Json {
        let mut s = self.connect();
        let mut line = serde_json::to_vec(&request).unwrap();
        line.push(b'\n');
        s.write_all(&line).unwrap();
        let mut reply = String::new();
        BufReader::new(s).read_line(&mut reply).unwrap();
        serde_json::from_str(&reply).unwrap()
    }

    /// Objects of a type with their attributes and live state.
    pub fn objects(&self, type_name: &str) -> Vec<Json> {
        let r = self.request(json!({"Objects": {"type_name": type_name, "name": null}}));
        serde_json::from_value(r["data"].clone()).unwrap()
    }

    /// The event stream, from now on.
    pub fn events(&self) -> impl Iterator<Item = Json> {
        let mut s = self.connect();
        s.write_all(b"\"Events\"\n").unwrap();
        let mut lines = BufReader::new(s).lines();
        let first: Json = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        assert_eq!(first["type"], "Subscribed");
        lines
            .map_while(Result::ok)
            .map(|l| serde_json::from_str(&l).unwrap())
    }

    pub fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// SIGTERM, and the exit status once it stopped.
    pub fn stop(mut self) -> (std::process::ExitStatus, String) {
        self.signal(libc::SIGTERM);
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        (status, self.output())
    }

    /// Waits until the node stops by itself (60 s at most, then it is
    /// killed); its exit status and output.
    pub fn wait(mut self) -> (std::process::ExitStatus, String) {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                break self.child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        std::thread::sleep(Duration::from_millis(100));
        (status, self.output())
    }

    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.output()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
