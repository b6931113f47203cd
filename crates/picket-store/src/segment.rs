//! Log segments: numbered files of frames, each with a small header.
//!
//! A store's log is split into segments so that old history can be moved to
//! `archived/` a file at a time and so that no file grows without bound. A
//! segment is only ever appended to; once the next one exists it is sealed.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// `PKTLOG` and the segment format; the format is the data format's, kept
/// here too so a lone segment file says what it is.
pub const MAGIC: &[u8; 8] = b"PKTLOG\x00\x02";
pub const HEADER_LEN: usize = 20;
pub const EXTENSION: &str = "seg";

pub fn file_name(number: u32) -> String {
    format!("{number:010}.{EXTENSION}")
}

pub fn parse_file_name(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(".seg")?;
    if stem.len() != 10 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// The header of segment `number`: magic, number, and a checksum of both.
pub fn header(number: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&number.to_le_bytes());
    // Four reserved bytes stay zero.
    let crc = crc32c::crc32c(&h[..16]);
    h[16..20].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Why a segment's header was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderProblem {
    /// Shorter than a header: the segment was being created.
    Incomplete,
    /// Not a segment of this format, or damaged.
    Invalid(String),
}

pub fn check_header(bytes: &[u8], number: u32) -> Result<(), HeaderProblem> {
    if bytes.len() < HEADER_LEN {
        return Err(HeaderProblem::Incomplete);
    }
    let crc = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    if crc32c::crc32c(&bytes[..16]) != crc {
        return Err(HeaderProblem::Invalid("header checksum mismatch".into()));
    }
    if &bytes[..6] != b"PKTLOG" {
        return Err(HeaderProblem::Invalid("not a Picket log segment".into()));
    }
    if &bytes[..8] != MAGIC {
        return Err(HeaderProblem::Invalid(format!(
            "segment of data format {}, expected {}",
            bytes[7], MAGIC[7]
        )));
    }
    let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
    if n != number {
        return Err(HeaderProblem::Invalid(format!(
            "header says segment {n}, file name says {number}"
        )));
    }
    Ok(())
}

/// The segment files of one directory, in order.
pub fn list(dir: &Path) -> io::Result<Vec<(u32, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        if let Some(n) = entry.file_name().to_str().and_then(parse_file_name) {
            out.push((n, entry.path()));
        }
    }
    out.sort_by_key(|(n, _)| *n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_headers() {
        assert_eq!(file_name(7), "0000000007.seg");
        assert_eq!(parse_file_name("0000000007.seg"), Some(7));
        assert_eq!(parse_file_name("7.seg"), None);
        assert_eq!(parse_file_name("0000000007.seg.tmp"), None);
        let h = header(7);
        assert_eq!(check_header(&h, 7), Ok(()));
        assert!(matches!(
            check_header(&h, 8),
            Err(HeaderProblem::Invalid(_))
        ));
        assert_eq!(check_header(&h[..10], 7), Err(HeaderProblem::Incomplete));
        let mut bad = h;
        bad[3] ^= 4;
        assert!(matches!(
            check_header(&bad, 7),
            Err(HeaderProblem::Invalid(_))
        ));
    }
}
