//! Icinga's binary form of a value (its `PackObject`): what it hashes
//! where a hash must come out the same on every node of a cluster, such
//! as the options of a `ScheduledDowntime` that its downtimes carry
//! (`config_owner_hash`). Picket packs exactly as Icinga does so that
//! those hashes agree between the two.

use crate::value::Value;

/// Appends the packed form of `value` to `out`: a tag byte, then for
/// numbers the big-endian IEEE double, for strings the big-endian 64-bit
/// byte length and the bytes, for arrays and dictionaries the 64-bit
/// count and the items (dictionary keys as strings without a tag, in key
/// order). Values Icinga cannot pack (functions, types, other objects)
/// pack as null, as there.
pub fn pack(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null
        | Value::Function(_)
        | Value::Type(_)
        | Value::Namespace(_)
        | Value::Object(_) => out.push(0),
        Value::Bool(false) => out.push(1),
        Value::Bool(true) => out.push(2),
        Value::Number(n) => {
            out.push(3);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Value::String(s) => {
            out.push(4);
            pack_str(s, out);
        }
        Value::Array(a) => {
            let items = a.to_vec();
            out.push(5);
            out.extend_from_slice(&(items.len() as u64).to_be_bytes());
            items.iter().for_each(|v| pack(v, out));
        }
        Value::Dict(d) => {
            let mut entries = d.entries();
            // Icinga's dictionaries are ordered by the bytes of their keys.
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(6);
            out.extend_from_slice(&(entries.len() as u64).to_be_bytes());
            for (k, v) in &entries {
                pack_str(k, out);
                pack(v, out);
            }
        }
    }
}

fn pack_str(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(s.len() as u64).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Array, Dict};

    #[test]
    fn packs_each_kind_as_icinga_does() {
        let d = Dict::new();
        d.insert("b", Value::Bool(true));
        d.insert("a", Value::Number(1.5));
        d.insert(
            "c",
            Value::Array(Array::new(vec![Value::Null, Value::from("xy")])),
        );
        let mut out = Vec::new();
        pack(&Value::Dict(d), &mut out);
        let mut want = vec![6, 0, 0, 0, 0, 0, 0, 0, 3];
        want.extend([0, 0, 0, 0, 0, 0, 0, 1, b'a', 3]);
        want.extend(1.5f64.to_be_bytes());
        want.extend([0, 0, 0, 0, 0, 0, 0, 1, b'b', 2]);
        want.extend([0, 0, 0, 0, 0, 0, 0, 1, b'c', 5, 0, 0, 0, 0, 0, 0, 0, 2, 0]);
        want.extend([4, 0, 0, 0, 0, 0, 0, 0, 2, b'x', b'y']);
        assert_eq!(out, want);
    }
}
