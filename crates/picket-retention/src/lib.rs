//! Retention: the live state of every host and service (last result,
//! state, state type, attempts, next check, flapping history) and the
//! windows of the TimePeriods kept in one file of the data directory, so
//! that a restart continues where the node stopped.
//!
//! The file is replaced atomically (written beside it, synced, renamed,
//! the directory synced): a crash leaves the previous file or the new one,
//! never a mix. It holds one JSON line per object after a header line, so
//! a damaged line (a disk error, an edit) costs that object's state only;
//! loading reports how many lines it could not read. This crate knows the
//! file; what is in an entry is the model's.

use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use picket_model::monitor::Entry;
use picket_model::period::Window;
use serde::{Deserialize, Serialize};

/// The version of the file layout; a newer one is refused rather than
/// misread.
pub const FORMAT: u32 = 1;

/// The retention file inside the data directory.
pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join("state").join("retention.jsonl")
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} has no valid header line; it is not a retention file")]
    NoHeader { path: PathBuf },
    #[error("{path} is in format {found}, newer than this Picket's {FORMAT}; refusing to read it")]
    Newer { path: PathBuf, found: u32 },
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    written: f64,
    objects: usize,
    #[serde(default)]
    periods: usize,
}

#[derive(Serialize)]
struct LineOut<'a> {
    name: &'a str,
    #[serde(flatten)]
    entry: &'a Entry,
}

#[derive(Deserialize)]
struct LineIn {
    name: String,
    #[serde(flatten)]
    entry: Entry,
}

/// A TimePeriod's line, after the objects' lines; it starts with
/// [`PERIOD_LINE`], which tells it apart without trying both shapes.
#[derive(Serialize, Deserialize)]
struct PeriodLine<S, W> {
    period: S,
    window: W,
}

const PERIOD_LINE: &str = "{\"period\":";

/// Writes `entries` (object full name, state) and `windows` (TimePeriod
/// full name, window) to `path`, replacing what was there only once the
/// new file is complete and durable.
pub fn save(
    path: &Path,
    entries: &[(String, Entry)],
    windows: &[(String, Window)],
    now: f64,
) -> Result<(), Error> {
    let fail = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(fail)?;
    let tmp = path.with_extension("jsonl.tmp");
    let file = File::create(&tmp).map_err(fail)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let header = Header {
        format: FORMAT,
        written: now,
        objects: entries.len(),
        periods: windows.len(),
    };
    fn line(out: &mut impl Write, value: &impl Serialize) -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, value).map_err(std::io::Error::other)?;
        out.write_all(b"\n")
    }
    line(&mut out, &header).map_err(fail)?;
    for (name, entry) in entries {
        line(&mut out, &LineOut { name, entry }).map_err(fail)?;
    }
    for (period, window) in windows {
        line(&mut out, &PeriodLine { period, window }).map_err(fail)?;
    }
    let file = out.into_inner().map_err(|e| fail(e.into_error()))?;
    file.sync_all().map_err(fail)?;
    drop(file);
    fs::rename(&tmp, path).map_err(fail)?;
    File::open(dir).and_then(|d| d.sync_all()).map_err(fail)?;
    Ok(())
}

/// What a retention file held.
#[derive(Debug, Default)]
pub struct Retained {
    pub entries: Vec<(String, Entry)>,
    pub windows: Vec<(String, Window)>,
    /// When the file was written (0 without a file).
    pub written: f64,
    /// Lines that could not be read (1-based line numbers).
    pub damaged_lines: Vec<usize>,
}

/// Reads the retention file; no file is an empty state (a first start).
pub fn load(path: &Path) -> Result<Retained, Error> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Retained::default()),
        Err(source) => {
            return Err(Error::Read {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let mut lines = BufReader::with_capacity(1 << 20, file).lines();
    let header: Header = lines
        .next()
        .and_then(|l| l.ok())
        .and_then(|l| serde_json::from_str(&l).ok())
        .ok_or_else(|| Error::NoHeader {
            path: path.to_path_buf(),
        })?;
    if header.format > FORMAT {
        return Err(Error::Newer {
            path: path.to_path_buf(),
            found: header.format,
        });
    }
    let mut retained = Retained {
        entries: Vec::with_capacity(header.objects.min(1 << 24)),
        windows: Vec::with_capacity(header.periods.min(1 << 16)),
        written: header.written,
        damaged_lines: Vec::new(),
    };
    for (i, line) in lines.enumerate() {
        let read = line.ok().and_then(|l| {
            if l.starts_with(PERIOD_LINE) {
                let p: PeriodLine<String, Window> = serde_json::from_str(&l).ok()?;
                retained.windows.push((p.period, p.window));
            } else {
                let o: LineIn = serde_json::from_str(&l).ok()?;
                retained.entries.push((o.name, o.entry));
            }
            Some(())
        });
        if read.is_none() {
            retained.damaged_lines.push(i + 2);
        }
    }
    Ok(retained)
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_model::period::Segment;
    use picket_model::state::{Kind, Live};

    #[test]
    fn states_and_windows_come_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        let entry = Entry {
            live: Live::new(Kind::Service),
            last_result: None,
            next_check: 25.0,
            force_next_check: false,
            executions: None,
            notified: None,
            force_next_notification: false,
        };
        let entries = vec![("h!s".to_string(), entry)];
        let window = Window {
            valid_begin: Some(10.0),
            valid_end: Some(20.0),
            segments: vec![Segment {
                begin: 12.0,
                end: 14.0,
            }],
        };
        let windows = vec![("work".to_string(), window)];
        save(&path, &entries, &windows, 30.0).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back.entries, entries);
        assert_eq!(back.windows, windows);
        assert!(back.damaged_lines.is_empty());
        assert_eq!(back.written, 30.0);
    }
}
