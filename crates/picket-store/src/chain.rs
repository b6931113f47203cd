//! The two hash chains that make the history tamper-evident.
//!
//! Every record names the hash of the previous record of the same aggregate
//! (`prev` inside the record), so editing, removing or reordering one
//! aggregate's history breaks its chain. Every frame of a store's log also
//! carries the running hash of the whole log before it, so removing a whole
//! aggregate or moving records between aggregates breaks the log chain. Only
//! the newest record of each chain can be changed without a trace, which is
//! why `picket store verify` prints the head of every chain: an operator who
//! keeps those values elsewhere can check the tail too.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A SHA-256 value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The `prev` of an aggregate's first record and the chain value before
    /// a log's first frame.
    pub const ZERO: Hash = Hash([0; 32]);

    /// The hash of one record's stored bytes.
    pub fn of_record(payload: &[u8]) -> Hash {
        Hash(Sha256::digest(payload).into())
    }

    /// The log chain after a record: the chain before it, then its hash.
    pub fn link(log_prev: &Hash, record: &Hash) -> Hash {
        let mut h = Sha256::new();
        h.update(log_prev.0);
        h.update(record.0);
        Hash(h.finalize().into())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Option<Hash> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Hash(out))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 64];
        // Cannot fail: the buffer is exactly twice the input.
        let _ = hex::encode_to_slice(self.0, &mut buf);
        s.serialize_str(std::str::from_utf8(&buf).unwrap_or_default())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Hash;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a SHA-256 value in 64 hexadecimal digits")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Hash, E> {
                Hash::from_hex(s).ok_or_else(|| E::custom("expected 64 hexadecimal digits"))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let h = Hash::of_record(b"abc");
        assert_eq!(
            h.to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<Hash>(&json).unwrap(), h);
        assert!(serde_json::from_str::<Hash>("\"00\"").is_err());
    }

    #[test]
    fn link_depends_on_order() {
        let a = Hash::of_record(b"a");
        let b = Hash::of_record(b"b");
        assert_ne!(
            Hash::link(&Hash::link(&Hash::ZERO, &a), &b),
            Hash::link(&Hash::link(&Hash::ZERO, &b), &a)
        );
    }
}
