//! One plugin run: spawn, read, wait, and kill at the timeout.

use std::ffi::OsString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use tokio::io::AsyncReadExt;

/// Output beyond this is read and dropped, so the plugin never blocks on a
/// full pipe and the node never holds more than this per check.
pub const DEFAULT_OUTPUT_LIMIT: usize = 1 << 20;

/// How long a plugin has to end after SIGTERM at its timeout.
const TERM_GRACE: Duration = Duration::from_millis(500);

/// What to run.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The program and its arguments; the program is looked up in `PATH`
    /// when it has no slash, as `execvp` does.
    pub argv: Vec<OsString>,
    /// Added to the node's environment.
    pub env: Vec<(OsString, OsString)>,
    pub timeout: Duration,
    pub output_limit: usize,
}

/// How the process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Exited(i32),
    /// Killed by a signal it did not ask for from us.
    Signaled(i32),
    /// Ran past its timeout; its process group was killed. `signal` is the
    /// one that ended the plugin itself, none if it had exited and only a
    /// child holding its output ran over.
    TimedOut {
        signal: Option<i32>,
    },
    /// It could not be started; the error as the system gave it.
    NotStarted {
        errno: Option<i32>,
        message: String,
    },
}

#[derive(Debug, Clone)]
pub struct Finished {
    pub ending: Ending,
    /// Standard output and error, interleaved as written, up to the limit.
    pub output: Vec<u8>,
    /// Whether output was dropped at the limit.
    pub truncated: bool,
    pub started: SystemTime,
    pub duration: Duration,
    pub pid: Option<u32>,
}

/// A pipe whose read end is the parent's and write end the child's
/// standard output and error.
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody
    // else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Runs the plugin to its end or its timeout.
pub async fn run(invocation: &Invocation) -> Finished {
    let started = SystemTime::now();
    let clock = Instant::now();
    let not_started = |e: std::io::Error| Finished {
        ending: Ending::NotStarted {
            errno: e.raw_os_error(),
            message: e.to_string(),
        },
        output: Vec::new(),
        truncated: false,
        started,
        duration: clock.elapsed(),
        pid: None,
    };
    let Some(program) = invocation.argv.first() else {
        return not_started(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "empty command line",
        ));
    };
    let (read, write) = match pipe() {
        Ok(p) => p,
        Err(e) => return not_started(e),
    };
    let write2 = match write.try_clone() {
        Ok(w) => w,
        Err(e) => return not_started(e),
    };
    let mut command = std::process::Command::new(program);
    command
        .args(&invocation.argv[1..])
        // Icinga gives every plugin C number formatting (`1.5`, not `1,5`).
        .env("LC_NUMERIC", "C")
        .envs(invocation.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(write))
        .stderr(Stdio::from(write2))
        // A group of its own: the timeout kills everything it started.
        .process_group(0);
    let mut command = tokio::process::Command::from(command);
    command.kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => return not_started(e),
    };
    // The write ends now live only in the child (the Command dropped ours).
    drop(command);
    let pid = child.id();
    let reader = tokio::net::unix::pipe::Receiver::from_owned_fd(read);
    let limit = invocation.output_limit;
    let collect = async move {
        let mut output = Vec::new();
        let mut truncated = false;
        if let Ok(mut reader) = reader {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let room = limit.saturating_sub(output.len());
                        output.extend_from_slice(&buf[..n.min(room)]);
                        truncated |= n > room;
                    }
                }
            }
        }
        (output, truncated)
    };
    let mut collect = std::pin::pin!(collect);
    let mut collected = None;
    let mut status = None;
    let deadline = tokio::time::sleep(invocation.timeout);
    let mut deadline = std::pin::pin!(deadline);
    // The check is over when the plugin has exited and everything that
    // holds its output pipe has closed it (Icinga waits for both).
    let timed_out = loop {
        if collected.is_some() && status.is_some() {
            break false;
        }
        tokio::select! {
            out = &mut collect, if collected.is_none() => collected = Some(out),
            st = child.wait(), if status.is_none() => status = Some(st),
            _ = &mut deadline => break true,
        }
    };
    // As Icinga: SIGTERM to the plugin, a moment to end, then SIGKILL to
    // everything in its group.
    let mut timeout_signal = None;
    if timed_out {
        if let (Some(pid), None) = (pid, &status) {
            // SAFETY: kill(2) on the plugin we started.
            unsafe {
                libc::kill(pid as i32, libc::SIGTERM);
            }
            if let Ok(st) = tokio::time::timeout(TERM_GRACE, child.wait()).await {
                status = Some(st);
            }
        }
        if let Some(pid) = pid {
            // SAFETY: kill(2) with a negative pid signals the group we
            // created for this plugin.
            unsafe {
                libc::kill(-(pid as i32), libc::SIGKILL);
            }
        }
        let st = match status.take() {
            Some(st) => st,
            None => child.wait().await,
        };
        // A plugin that had exited before the timeout ends without a
        // signal: only what held its output ran over.
        timeout_signal = st.ok().and_then(|s| s.signal());
        if let Some(pid) = pid {
            reap_group(pid).await;
        }
    }
    let (output, truncated) = match collected {
        Some(c) => c,
        // After the kill the pipe closes promptly, unless a process left
        // the group holding it: do not wait for that one.
        None => tokio::time::timeout(Duration::from_millis(200), &mut collect)
            .await
            .unwrap_or_default(),
    };
    let ending = if timed_out {
        Ending::TimedOut {
            signal: timeout_signal,
        }
    } else {
        match status {
            Some(Ok(st)) => match (st.code(), st.signal()) {
                (Some(code), _) => Ending::Exited(code),
                (None, Some(sig)) => Ending::Signaled(sig),
                (None, None) => Ending::Exited(-1),
            },
            Some(Err(e)) => Ending::NotStarted {
                errno: e.raw_os_error(),
                message: e.to_string(),
            },
            None => Ending::TimedOut { signal: None },
        }
    };
    Finished {
        ending,
        output,
        truncated,
        started,
        duration: clock.elapsed(),
        pid,
    }
}

/// Makes this process the reaper of orphans from the plugins it starts
/// (`PR_SET_CHILD_SUBREAPER`). Without it, the children of a killed plugin
/// go to PID 1, which in a container may never reap them. Every child this
/// process starts must be a process-group leader (as [`run`] makes them),
/// so that the reaper can tell orphans from children others wait for.
pub fn become_subreaper() -> std::io::Result<()> {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes one integer argument.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// A process as `/proc/<pid>/stat` describes it: state, parent, group.
fn stat(pid: i32) -> Option<(u8, i32, i32)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold anything.
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    let state = *fields.next()?.as_bytes().first()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, ppid, pgrp))
}

/// Waits for the members of a killed plugin's group that became our
/// children (as subreaper) and are now zombies, so that none is left. Gives
/// up after a second: a member that left the group or ignores SIGKILL
/// (uninterruptible I/O) is the kernel's to finish.
async fn reap_group(pgid: u32) {
    let pgid = pgid as i32;
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    for _ in 0..50 {
        let mut remaining = 0;
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                let Some(pid) = entry
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<i32>().ok())
                else {
                    continue;
                };
                match stat(pid) {
                    Some((_, _, group)) if group != pgid => {}
                    Some((b'Z', parent, _)) if parent == me => {
                        let mut status = 0;
                        // SAFETY: waitpid on a zombie child of ours.
                        unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
                    }
                    Some(_) => remaining += 1,
                    None => {}
                }
            }
        }
        if remaining == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
