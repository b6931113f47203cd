//! Log lines in Icinga's format (`[2026-01-01 12:00:00 +0000]
//! information/cli: ...`), so that scripts reading Icinga's output can read
//! Picket's.

use std::io::Write;

use picket_lang::eval::{LogRecord, Severity};

fn timestamp() -> String {
    chrono::Local::now()
        .format("%Y-%m-%d %H:%M:%S %z")
        .to_string()
}

pub fn write(severity: Severity, facility: &str, message: &str) {
    let line = format!(
        "[{}] {}/{}: {}\n",
        timestamp(),
        severity.name(),
        facility,
        message
    );
    // A closed stdout must not bring the process down.
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}

pub fn record(r: &LogRecord) {
    write(r.severity, &r.facility, &r.message);
}

pub fn info(facility: &str, message: &str) {
    write(Severity::Information, facility, message);
}

pub fn critical(facility: &str, message: &str) {
    write(Severity::Critical, facility, message);
}
