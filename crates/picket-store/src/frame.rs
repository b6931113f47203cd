//! Framing of records in a log segment.
//!
//! A frame is `[payload length u32][CRC-32C u32][log chain before it, 32
//! bytes][payload]`, little-endian. The checksum covers the length, the chain
//! value and the payload, so a torn or flipped frame is never taken for a
//! record. CRC-32C rather than a cryptographic hash because it runs in
//! hardware at memory speed on every startup; tamper evidence comes from the
//! hash chains, not from this checksum.

use crate::chain::Hash;

pub const HEADER_LEN: usize = 4 + 4 + 32;

/// Larger payloads are refused when written and read as corruption: no
/// command record of a control-plane aggregate comes near it, and a flipped
/// high bit in a length must not make the reader allocate gigabytes.
pub const MAX_PAYLOAD: usize = 16 << 20;

/// Appends one frame to `buf`.
pub fn encode(buf: &mut Vec<u8>, log_prev: &Hash, payload: &[u8]) {
    let len = (payload.len() as u32).to_le_bytes();
    let crc = checksum(&len, log_prev, payload);
    buf.extend_from_slice(&len);
    buf.extend_from_slice(&crc.to_le_bytes());
    buf.extend_from_slice(&log_prev.0);
    buf.extend_from_slice(payload);
}

pub fn frame_len(payload_len: usize) -> usize {
    HEADER_LEN + payload_len
}

fn checksum(len: &[u8; 4], log_prev: &Hash, payload: &[u8]) -> u32 {
    let c = crc32c::crc32c(len);
    let c = crc32c::crc32c_append(c, &log_prev.0);
    crc32c::crc32c_append(c, payload)
}

/// What the bytes at one position of a segment hold.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    Frame {
        log_prev: Hash,
        payload: &'a [u8],
        /// Header and payload: where the next frame starts, relative to this one.
        len: usize,
    },
    /// The bytes end inside a frame: a write that did not finish, or a copy
    /// taken while it was being written.
    Incomplete,
    /// A whole frame is there but it is not a valid one.
    Corrupt(&'static str),
}

/// Decodes the frame at the start of `buf`.
pub fn decode(buf: &[u8]) -> Decoded<'_> {
    if buf.len() < HEADER_LEN {
        return Decoded::Incomplete;
    }
    let len_bytes: [u8; 4] = [buf[0], buf[1], buf[2], buf[3]];
    let len = u32::from_le_bytes(len_bytes) as usize;
    if len > MAX_PAYLOAD {
        return Decoded::Corrupt("frame length out of range");
    }
    if len == 0 {
        return Decoded::Corrupt("empty frame");
    }
    let total = HEADER_LEN + len;
    if buf.len() < total {
        return Decoded::Incomplete;
    }
    let crc = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
    let mut log_prev = Hash::ZERO;
    log_prev.0.copy_from_slice(&buf[8..40]);
    let payload = &buf[HEADER_LEN..total];
    if checksum(&len_bytes, &log_prev, payload) != crc {
        return Decoded::Corrupt("checksum mismatch");
    }
    Decoded::Frame {
        log_prev,
        payload,
        len: total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_and_every_truncation() {
        let mut buf = Vec::new();
        let prev = Hash::of_record(b"x");
        encode(&mut buf, &prev, b"{\"a\":1}");
        match decode(&buf) {
            Decoded::Frame {
                log_prev,
                payload,
                len,
            } => {
                assert_eq!(log_prev, prev);
                assert_eq!(payload, b"{\"a\":1}");
                assert_eq!(len, buf.len());
            }
            other => panic!("{other:?}"),
        }
        for cut in 0..buf.len() {
            assert_eq!(decode(&buf[..cut]), Decoded::Incomplete, "cut at {cut}");
        }
    }

    proptest! {
        /// Any single flipped bit is detected (or, in the length, makes the
        /// frame look incomplete or out of range).
        #[test]
        fn bit_flips_are_never_valid(payload in proptest::collection::vec(any::<u8>(), 1..200), bit in 0usize..2000) {
            let mut buf = Vec::new();
            encode(&mut buf, &Hash::ZERO, &payload);
            let bit = bit % (buf.len() * 8);
            buf[bit / 8] ^= 1 << (bit % 8);
                        let valid = matches!(decode(&buf), Decoded::Frame { .. });
            prop_assert!(!valid);
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
        }
    }
}
