//! Errors of the language: where they happened and what Icinga would say.
//!
//! Messages are worded as Icinga 2 words them, because operators grep their
//! logs for them and the conformance tests compare them. Icinga prefixes
//! errors raised by operations on values (`Tried to access undefined script
//! variable 'x'`, `Operator - cannot be applied ...`) with `Error while
//! evaluating expression: `, but not errors raised by the configuration
//! machinery (`Attribute 'foo' does not exist.`); [`LangError::eval`] and
//! [`LangError::script`] make that distinction explicit at each call site.

use crate::source::{SourceMap, Span};

/// What went wrong, broadly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not a valid program.
    Syntax,
    /// Evaluation failed (also `throw` and validation errors raised while
    /// evaluating object bodies).
    Script,
    /// An included file could not be read or a search path entry is missing.
    Include,
}

/// An error with the message Icinga would print and its location.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct LangError {
    pub kind: ErrorKind,
    pub message: String,
    pub span: Option<Span>,
    /// A syntax error at the end of the input inside an open bracket: more
    /// lines could complete it (the API console then asks for them).
    pub incomplete: bool,
}

impl LangError {
    pub fn new(kind: ErrorKind, message: impl Into<String>, span: Option<Span>) -> Self {
        LangError {
            kind,
            message: message.into(),
            span,
            incomplete: false,
        }
    }

    /// An error from an operation on values: Icinga prefixes these.
    pub fn eval(message: impl AsRef<str>, span: Span) -> Self {
        LangError::new(
            ErrorKind::Script,
            format!("Error while evaluating expression: {}", message.as_ref()),
            Some(span),
        )
    }

    /// An error from the configuration machinery, printed as is.
    pub fn script(message: impl Into<String>, span: Span) -> Self {
        LangError::new(ErrorKind::Script, message, Some(span))
    }

    pub fn syntax(message: impl Into<String>, span: Span) -> Self {
        LangError::new(ErrorKind::Syntax, message, Some(span))
    }

    /// An error Icinga raises without a location and without the
    /// "Error while evaluating expression" prefix (a `ScriptError` thrown
    /// by a native function): the call site does not become its location.
    pub fn unlocated(message: impl Into<String>) -> Self {
        LangError::new(ErrorKind::Script, message, Some(Span::NOWHERE))
    }

    /// Sets the location if the error does not have one yet: errors from
    /// native functions learn where they were called from.
    pub fn at(mut self, span: Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }

    /// The error as Icinga's log shows it: `Error: message` and the
    /// `Location:` block with context lines.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = format!("Error: {}\n", self.message);
        if let Some(span) = self.span {
            out.push_str(&sources.render_location(span));
        }
        out
    }
}

pub type Result<T, E = LangError> = std::result::Result<T, E>;
