//! Signing tickets: the secret a new node presents so that the master signs
//! its certificate without an operator.
//!
//! A ticket is PBKDF2-HMAC-SHA1 of the node's common name, keyed by the
//! cluster's ticket salt (the CN is the password, the salt the salt), 50,000
//! iterations, 20 bytes, in lower-case hex: exactly what Icinga 2 computes,
//! so tickets made by either work with the other.

use crate::PkiError;

const ITERATIONS: usize = 50_000;
const LEN: usize = 20;

/// The ticket for `cn` under `salt`. Both are taken as the bytes given (no
/// normalisation), as Icinga does.
pub fn ticket(cn: &str, salt: &str) -> Result<String, PkiError> {
    let mut out = [0u8; LEN];
    openssl::pkcs5::pbkdf2_hmac(
        cn.as_bytes(),
        salt.as_bytes(),
        ITERATIONS,
        openssl::hash::MessageDigest::sha1(),
        &mut out,
    )
    .map_err(PkiError::ssl("cannot compute the ticket"))?;
    Ok(crate::cert::hex(&out))
}

/// Whether `given` is the ticket for `cn`. The comparison takes the same
/// time wherever the first difference is, so that answers do not leak how
/// much of a guessed ticket was right.
pub fn ticket_matches(cn: &str, salt: &str, given: &str) -> Result<bool, PkiError> {
    let expected = ticket(cn, salt)?;
    Ok(expected.len() == given.len() && openssl::memcmp::eq(expected.as_bytes(), given.as_bytes()))
}
