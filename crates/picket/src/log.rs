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

/// One log line, with its newline.
pub fn line(severity: Severity, facility: &str, message: &str) -> String {
    format!(
        "[{}] {}/{}: {}\n",
        timestamp(),
        severity.name(),
        facility,
        message
    )
}

pub fn write(severity: Severity, facility: &str, message: &str) {
    // A closed stdout must not bring the process down.
    let _ = std::io::stdout()
        .lock()
        .write_all(line(severity, facility, message).as_bytes());
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

pub fn warning(facility: &str, message: &str) {
    write(Severity::Warning, facility, message);
}

/// Sends the `tracing` events of the library crates to the same output, in
/// the same format; the facility is the crate's name without `picket_`.
struct Bridge;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Bridge {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "message" {
                    self.0 = value.to_string();
                }
            }
        }
        let meta = event.metadata();
        let severity = match *meta.level() {
            tracing::Level::ERROR => Severity::Critical,
            tracing::Level::WARN => Severity::Warning,
            tracing::Level::INFO => Severity::Information,
            // Icinga's console shows information and above by default.
            tracing::Level::DEBUG | tracing::Level::TRACE => return,
        };
        let mut message = Message(String::new());
        event.record(&mut message);
        let target = meta.target();
        let facility = target.split("::").next().unwrap_or(target);
        let facility = facility.strip_prefix("picket_").unwrap_or(facility);
        write(severity, facility, &message.0);
    }
}

/// Installs the bridge for the whole process.
pub fn install() {
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = tracing_subscriber::registry().with(Bridge);
    let _ = tracing::subscriber::set_global_default(subscriber);
}
