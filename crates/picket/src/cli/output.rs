//! A command's answer, collected so that it can be printed here or sent
//! back from the running node to the command line that asked for it (see
//! [`super::control`]).

use picket_lang::eval::Severity;

use crate::log;

#[derive(Default)]
pub struct Output {
    text: String,
}

impl Output {
    pub fn into_string(self) -> String {
        self.text
    }

    /// Plain text, followed by a newline.
    pub fn println(&mut self, text: &str) {
        self.text.push_str(text);
        self.text.push('\n');
    }

    pub fn log(&mut self, severity: Severity, facility: &str, message: &str) {
        self.text.push_str(&log::line(severity, facility, message));
    }

    pub fn info(&mut self, facility: &str, message: &str) {
        self.log(Severity::Information, facility, message);
    }

    pub fn warning(&mut self, facility: &str, message: &str) {
        self.log(Severity::Warning, facility, message);
    }

    pub fn critical(&mut self, facility: &str, message: &str) {
        self.log(Severity::Critical, facility, message);
    }
}
