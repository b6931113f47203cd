//! Source files and positions.
//!
//! Every token and expression carries a [`Span`] in Icinga's terms: 1-based
//! lines and columns, the last column inclusive, so that messages read
//! `Location: in hosts.conf: 7:14-7:20` exactly as Icinga prints them. The
//! texts themselves stay in a [`SourceMap`] for as long as the configuration
//! lives, so that an error found while committing objects, long after parsing,
//! can still quote the offending lines.

use std::sync::Arc;

use parking_lot::RwLock;

/// Index of a file in its [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FileId(pub u32);

/// A range in a source file: 1-based line and column, end inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub file: FileId,
    pub first_line: u32,
    pub first_column: u32,
    pub last_line: u32,
    pub last_column: u32,
}

impl Span {
    /// No place at all: Icinga raises some errors from inside native
    /// functions without a location, and the API console shows them with
    /// an empty path and line 0. Its file is not in any source map.
    pub const NOWHERE: Span = Span {
        file: FileId(u32::MAX),
        first_line: 0,
        first_column: 0,
        last_line: 0,
        last_column: 0,
    };

    /// The smallest span covering both.
    pub fn to(self, end: Span) -> Span {
        Span {
            file: self.file,
            first_line: self.first_line,
            first_column: self.first_column,
            last_line: end.last_line,
            last_column: end.last_column,
        }
    }
}

/// One loaded file.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the include that loaded it spelled it (what messages show).
    pub path: Arc<str>,
    pub text: Arc<str>,
}

/// All files loaded for one configuration.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Arc<RwLock<Vec<Arc<SourceFile>>>>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&self, path: &str, text: impl Into<Arc<str>>) -> FileId {
        let mut files = self.files.write();
        files.push(Arc::new(SourceFile {
            path: path.into(),
            text: text.into(),
        }));
        FileId((files.len() - 1) as u32)
    }

    pub fn get(&self, id: FileId) -> Option<Arc<SourceFile>> {
        self.files.read().get(id.0 as usize).cloned()
    }

    pub fn path(&self, id: FileId) -> Arc<str> {
        self.get(id)
            .map(|f| f.path.clone())
            .unwrap_or_else(|| "".into())
    }

    /// Icinga's `Location:` block: the span, then up to two lines of context on
    /// either side with carets under the offending part.
    pub fn render_location(&self, span: Span) -> String {
        self.render_location_with(span, 2)
    }

    /// The `Location:` block with `context` lines on either side (Icinga's
    /// short form, for warnings, has none).
    pub fn render_location_with(&self, span: Span, context: u32) -> String {
        let Some(file) = self.get(span.file) else {
            return String::new();
        };
        let mut out = format!(
            "Location: in {}: {}:{}-{}:{}\n",
            file.path, span.first_line, span.first_column, span.last_line, span.last_column
        );
        let lines: Vec<&str> = file.text.split('\n').collect();
        let first = span.first_line.saturating_sub(context).max(1);
        let last = (span.last_line + context).min(lines.len() as u32);
        for n in first..=last {
            let text = lines
                .get(n as usize - 1)
                .copied()
                .unwrap_or("")
                .trim_end_matches('\r')
                // Icinga shows tabs as single spaces, so columns line up.
                .replace('\t', " ");
            let prefix = format!("{}({}): ", file.path, n);
            out.push_str(&prefix);
            out.push_str(&text);
            out.push('\n');
            if n >= span.first_line && n <= span.last_line {
                // Icinga's arithmetic: from the column before the first
                // (0-based) to the last; a span from column 0 is shifted
                // right by one.
                let mut start = if n == span.first_line {
                    i64::from(span.first_column) - 1
                } else {
                    0
                };
                let mut end = if n == span.last_line {
                    i64::from(span.last_column)
                } else {
                    text.len() as i64
                };
                if start < 0 {
                    end -= start;
                    start = 0;
                }
                out.push_str(&" ".repeat(prefix.chars().count() + start as usize));
                out.push_str(&"^".repeat((end - start).max(0) as usize));
                out.push('\n');
            }
        }
        out
    }
}
