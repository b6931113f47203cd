//! Reading a store's log: which segment files there are, and walking the
//! frames of one. Shared by startup, recovery, verification, history and
//! backup, which differ only in what they do with each record and with the
//! first thing that is not one.

use std::io;
use std::path::{Path, PathBuf};

use crate::chain::Hash;
use crate::frame::{self, Decoded};
use crate::segment::{self, HeaderProblem};

pub const LOG_DIR: &str = "log";
pub const ARCHIVED_DIR: &str = "archived";
pub const SURPLUS_DIR: &str = "surplus";
pub const CORRUPT_DIR: &str = "corrupt";

/// One segment file of a store.
#[derive(Debug, Clone)]
pub struct SegmentRef {
    pub number: u32,
    pub path: PathBuf,
    pub archived: bool,
}

/// The segments of a store, archived ones first, in order. A number found
/// both in `archived/` and in `log/` (a copy taken while a segment was being
/// archived) is read from `log/`: the two are the same file.
pub fn segments(store_dir: &Path) -> io::Result<Vec<SegmentRef>> {
    let live = segment::list(&store_dir.join(LOG_DIR))?;
    let archived = segment::list(&store_dir.join(ARCHIVED_DIR))?;
    let mut out: Vec<SegmentRef> = archived
        .into_iter()
        .filter(|(n, _)| !live.iter().any(|(m, _)| m == n))
        .map(|(number, path)| SegmentRef {
            number,
            path,
            archived: true,
        })
        .collect();
    out.extend(live.into_iter().map(|(number, path)| SegmentRef {
        number,
        path,
        archived: false,
    }));
    out.sort_by_key(|s| s.number);
    Ok(out)
}

/// How a walk over one segment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// Every byte belonged to a valid frame, up to the end or up to the
    /// zeros the writer keeps ahead of its data.
    Clean,
    /// The bytes stop inside a frame: a write that did not complete.
    Incomplete,
    /// A frame that is not valid.
    Corrupt(&'static str),
    Header(HeaderProblem),
}

/// Walks the frames of segment `number` (its whole contents in `bytes`)
/// from `from`, handing each to `f` with its offset. Returns where and why
/// the walk stopped; `f` stops it early by returning an error.
pub fn walk<E>(
    bytes: &[u8],
    number: u32,
    from: usize,
    mut f: impl FnMut(usize, &Hash, &[u8]) -> Result<(), E>,
) -> Result<(usize, End), E> {
    if let Err(p) = segment::check_header(bytes, number) {
        return Ok((0, End::Header(p)));
    }
    let mut at = from.max(segment::HEADER_LEN);
    while at < bytes.len() {
        match frame::decode(&bytes[at..]) {
            Decoded::Frame {
                log_prev,
                payload,
                len,
            } => {
                f(at, &log_prev, payload)?;
                at += len;
            }
            _ if all_zero(&bytes[at..]) => return Ok((at, End::Clean)),
            Decoded::Incomplete => return Ok((at, End::Incomplete)),
            Decoded::Corrupt(why) => return Ok((at, End::Corrupt(why))),
        }
    }
    Ok((at, End::Clean))
}

fn all_zero(bytes: &[u8]) -> bool {
    bytes.iter().all(|b| *b == 0)
}

/// Whether damage at `at` in the last segment can be a write that a crash
/// interrupted: the writer syncs at most one batch (and one record beyond
/// it) at a time, so only zeros (space it had prepared) or nothing can
/// follow further on. Anything else is damage to data that was synced.
pub fn unfinished_write(bytes: &[u8], at: usize) -> bool {
    let reach = at + crate::writer::BATCH_BYTES + frame::frame_len(frame::MAX_PAYLOAD);
    reach >= bytes.len() || all_zero(&bytes[reach..])
}

pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    std::fs::read(path)
}
