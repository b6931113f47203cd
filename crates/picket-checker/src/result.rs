//! What a finished plugin amounts to, as Icinga 2 records it: exit status,
//! output (short and long), performance data, and the notes Icinga adds
//! when a plugin could not start, was killed, or ran over its timeout.

use std::ffi::CStr;

use crate::process::{Ending, Finished};

/// The part of a check result the plugin determines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginResult {
    /// The exit code, or 128 when there was none (not started, signal).
    pub exit_status: i64,
    /// Output and long output, without the performance data.
    pub output: String,
    /// One entry per metric, labels quoted where they hold spaces.
    pub performance_data: Vec<String>,
}

/// Icinga's mapping of an exit status to a service state: 0–3 as they are,
/// anything else UNKNOWN.
pub fn service_state(exit_status: i64) -> u8 {
    match exit_status {
        0..=3 => exit_status as u8,
        _ => 3,
    }
}

fn strerror(errno: i32) -> String {
    // SAFETY: strerror returns a pointer to a static, NUL-terminated text.
    unsafe { CStr::from_ptr(libc::strerror(errno)) }
        .to_string_lossy()
        .into_owned()
}

fn strsignal(signal: i32) -> String {
    // SAFETY: strsignal returns a pointer to a NUL-terminated text that
    // stays valid until the next call in this thread; it is copied at once.
    let p = unsafe { libc::strsignal(signal) };
    if p.is_null() {
        return format!("Unknown signal {signal}");
    }
    // SAFETY: checked non-null above.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn terminated(signal: i32) -> String {
    format!("<Terminated by signal {signal} ({}).>", strsignal(signal))
}

/// The exit status and the whole output of a plugin run, with what
/// Icinga appends when it did not exit by itself.
pub fn raw_output(program: &str, finished: &Finished) -> (i64, String) {
    let mut raw = String::from_utf8_lossy(&finished.output).into_owned();
    let exit_status = match &finished.ending {
        Ending::Exited(code) => i64::from(*code),
        Ending::Signaled(signal) => {
            raw.push_str(&terminated(*signal));
            128
        }
        Ending::TimedOut { signal } => {
            raw.push_str("<Timeout exceeded.>");
            if let Some(signal) = signal {
                raw.push_str(&terminated(*signal));
            }
            128
        }
        Ending::NotStarted { errno, message } => {
            let why = errno.map(strerror).unwrap_or_else(|| message.clone());
            raw = format!("execvpe({program}) failed: {why}");
            128
        }
    };
    (exit_status, raw)
}

/// The result of a run of `program`.
pub fn from_process(program: &str, finished: &Finished) -> PluginResult {
    let (exit_status, raw) = raw_output(program, finished);
    let (output, perfdata) = parse_output(raw.trim());
    PluginResult {
        exit_status,
        output,
        performance_data: split_perfdata(&perfdata),
    }
}

/// Splits output into text and performance data: on every line, what
/// follows the first `|` is performance data when it holds an `=`; lines
/// are split at `\r` as well as `\n`.
pub fn parse_output(output: &str) -> (String, String) {
    let mut text = String::new();
    let mut perfdata = String::new();
    for (i, line) in output.split(['\r', '\n']).enumerate() {
        if i > 0 {
            text.push('\n');
        }
        match line.find('|') {
            Some(bar) if line[bar..].contains('=') => {
                text.push_str(&line[..bar]);
                if !perfdata.is_empty() {
                    perfdata.push(' ');
                }
                perfdata.push_str(&line[bar + 1..]);
            }
            _ => text.push_str(line),
        }
    }
    (text, perfdata.trim().to_string())
}

/// Splits performance data into metrics as Icinga does: a label runs to
/// the next `=` (spaces included), a value to the next space. Labels lose
/// their surrounding quotes and get them back if they hold a space; a
/// `prefix::` label (check_multi) prefixes the labels after it.
pub fn split_perfdata(perfdata: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut begin = 0;
    let mut multi_prefix = String::new();
    while let Some(eq) = perfdata[begin..].find('=').map(|i| begin + i) {
        let mut label = &perfdata[begin..eq];
        if label.len() > 2 && label.starts_with('\'') && label.ends_with('\'') {
            label = &label[1..label.len() - 1];
        }
        let mut label = label.to_string();
        if let Some(idx) = label.rfind("::") {
            multi_prefix = label[..idx].to_string();
            label = label[idx + 2..].to_string();
        }
        let end = perfdata[eq..].find(' ').map_or(perfdata.len(), |i| eq + i);
        let value = &perfdata[eq + 1..end];
        if !multi_prefix.is_empty() {
            label = format!("{multi_prefix}::{label}");
        }
        out.push(if label.contains(' ') {
            format!("'{label}'={value}")
        } else {
            format!("{label}={value}")
        });
        if end >= perfdata.len() {
            break;
        }
        begin = end + 1;
    }
    out
}
