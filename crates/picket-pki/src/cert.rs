//! Keys, certificates and signing requests shaped as Icinga 2 shapes them,
//! so that Icinga's nodes accept Picket's and Picket accepts theirs.
//!
//! RSA 4096 keys; X.509 v3 certificates signed with SHA-256 whose names hold
//! only a CN; a CA valid 15 years with `basicConstraints` critical
//! `CA:TRUE` and nothing else; leaves valid 397 days with `CA:FALSE` and a
//! `subjectAltName` of their CN; random 160-bit serials (Icinga takes the
//! SHA-1 of a fresh unique id, which is the same thing to a verifier).

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, PKeyRef, Private, Public};
use openssl::rsa::Rsa;
use openssl::stack::Stack;
use openssl::x509::extension::{BasicConstraints, SubjectAlternativeName};
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::{
    X509Builder, X509NameBuilder, X509NameRef, X509Req, X509ReqBuilder, X509StoreContext, X509,
};
use serde::{Deserialize, Serialize};

use crate::PkiError;

/// The common name of a CA that Icinga 2 or Picket creates.
pub const CA_COMMON_NAME: &str = "Icinga CA";
pub const KEY_BITS: u32 = 4096;
pub const CA_VALID_DAYS: u32 = 15 * 365;
pub const LEAF_VALID_DAYS: u32 = 397;
/// A leaf is renewed when it expires within this many days.
pub const RENEW_LEAF_WITHIN_DAYS: i64 = 30;
/// The CA certificate is renewed when it expires within this many days, so
/// that it always outlives every leaf it signs.
pub const RENEW_CA_WITHIN_DAYS: i64 = LEAF_VALID_DAYS as i64;
/// Certificates issued before this date (2017-01-01) came from Icinga
/// versions with weaker defaults; Icinga renews them whatever their expiry.
const OLDEST_UP_TO_DATE: i64 = 1_483_228_800;

const DAY: i64 = 86_400;

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Lower-case hex without separators, as Icinga prints fingerprints and
/// tickets.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// When a certificate starts and stops being valid, in seconds since the
/// epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: i64,
    pub not_after: i64,
}

impl Validity {
    pub fn days_from(start: i64, days: u32) -> Validity {
        Validity {
            not_before: start,
            not_after: start + i64::from(days) * DAY,
        }
    }
}

/// A certificate as PEM text, the form the stores and the cluster carry.
pub fn pem(cert: &X509) -> Result<String, PkiError> {
    let bytes = cert
        .to_pem()
        .map_err(PkiError::ssl("cannot encode the certificate"))?;
    String::from_utf8(bytes).map_err(|_| PkiError::Invalid("PEM is not text".into()))
}

/// A new RSA key of Icinga's size.
pub fn new_key() -> Result<PKey<Private>, PkiError> {
    let rsa = Rsa::generate(KEY_BITS).map_err(PkiError::ssl("cannot generate an RSA key"))?;
    PKey::from_rsa(rsa).map_err(PkiError::ssl("cannot generate an RSA key"))
}

/// The SHA-256 fingerprint of a certificate's DER form: the name of its
/// request in `ca list` and in the request store.
pub fn fingerprint(cert: &X509) -> Result<String, PkiError> {
    let d = cert
        .digest(MessageDigest::sha256())
        .map_err(PkiError::ssl("cannot hash the certificate"))?;
    Ok(hex(&d))
}

/// The first common name of a name, as text. Icinga takes the CN as the
/// identity of a node; other name parts do not count.
pub fn common_name(name: &X509NameRef) -> Option<String> {
    let entry = name.entries_by_nid(Nid::COMMONNAME).next()?;
    entry.data().to_string().ok()
}

/// A name as OpenSSL's one-line form prints it (`CN = agent1`), which is
/// what Icinga shows as a subject.
pub fn name_text(name: &X509NameRef) -> String {
    name.entries()
        .map(|e| {
            let key = e.object().nid().short_name().unwrap_or("?");
            let value = e.data().to_string().unwrap_or_default();
            format!("{key} = {value}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn unix(t: &Asn1TimeRef) -> Result<i64, PkiError> {
    let epoch = Asn1Time::from_unix(0).map_err(PkiError::ssl("time"))?;
    let d = epoch
        .diff(t)
        .map_err(PkiError::ssl("cannot read a certificate's validity"))?;
    Ok(i64::from(d.days) * DAY + i64::from(d.secs))
}

/// A time as OpenSSL prints it (`Nov 22 22:18:35 2026 GMT`), the form of
/// Icinga's `ca list` and `pki verify`.
pub fn time_text(unix: i64) -> String {
    Asn1Time::from_unix(unix)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| unix.to_string())
}

/// What the CA and the request store keep about a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertInfo {
    /// The serial number in lower-case hex.
    pub serial: String,
    pub cn: String,
    /// The subject in one-line form (`CN = agent1`).
    pub subject: String,
    pub issuer: String,
    /// SHA-256 of the DER form, lower-case hex.
    pub fingerprint: String,
    pub not_before: i64,
    pub not_after: i64,
}

impl CertInfo {
    pub fn of(cert: &X509) -> Result<CertInfo, PkiError> {
        let serial = cert
            .serial_number()
            .to_bn()
            .map_err(PkiError::ssl("cannot read the serial number"))?;
        Ok(CertInfo {
            serial: hex(&serial.to_vec()),
            cn: common_name(cert.subject_name()).unwrap_or_default(),
            subject: name_text(cert.subject_name()),
            issuer: name_text(cert.issuer_name()),
            fingerprint: fingerprint(cert)?,
            not_before: unix(cert.not_before())?,
            not_after: unix(cert.not_after())?,
        })
    }

    /// Whether a leaf should be replaced: it expires within 30 days, or it
    /// predates 2017 (Icinga's rule, kept so both renew the same nodes).
    pub fn needs_renewal(&self, now: i64) -> bool {
        self.not_after - now < RENEW_LEAF_WITHIN_DAYS * DAY || self.not_before < OLDEST_UP_TO_DATE
    }

    /// Whether a CA certificate should be replaced: it would expire before
    /// a leaf signed now.
    pub fn ca_needs_renewal(&self, now: i64) -> bool {
        self.not_after - now < RENEW_CA_WITHIN_DAYS * DAY
    }
}

fn random_serial() -> Result<BigNum, PkiError> {
    let mut bn = BigNum::new().map_err(PkiError::ssl("serial"))?;
    bn.rand(160, MsbOption::MAYBE_ZERO, false)
        .map_err(PkiError::ssl("cannot draw a serial number"))?;
    if bn.num_bits() == 0 {
        bn = BigNum::from_u32(1).map_err(PkiError::ssl("serial"))?;
    }
    Ok(bn)
}

/// A name holding only a common name, as Icinga's names do.
pub fn cn_name(cn: &str) -> Result<openssl::x509::X509Name, PkiError> {
    if cn.is_empty() {
        return Err(PkiError::Invalid(
            "the common name must not be empty".into(),
        ));
    }
    let mut b = X509NameBuilder::new().map_err(PkiError::ssl("name"))?;
    b.append_entry_by_nid(Nid::COMMONNAME, cn)
        .map_err(PkiError::ssl(format!("cannot use '{cn}' as a common name")))?;
    Ok(b.build())
}

/// What goes into a certificate besides its key and names.
struct Shape {
    ca: bool,
    validity: Validity,
}

fn build(
    subject: &X509NameRef,
    public: &PKeyRef<Public>,
    issuer: Option<&X509>,
    signer: &PKeyRef<Private>,
    shape: Shape,
) -> Result<X509, PkiError> {
    let serial = random_serial()?;
    let mut b = X509Builder::new().map_err(PkiError::ssl("certificate"))?;
    (|| {
        b.set_version(2)?;
        let serial = serial.to_asn1_integer()?;
        b.set_serial_number(&serial)?;
        b.set_subject_name(subject)?;
        b.set_issuer_name(issuer.map_or(subject, |c| c.subject_name()))?;
        b.set_pubkey(public)?;
        let not_before = Asn1Time::from_unix(shape.validity.not_before)?;
        let not_after = Asn1Time::from_unix(shape.validity.not_after)?;
        b.set_not_before(&not_before)?;
        b.set_not_after(&not_after)?;
        let mut bc = BasicConstraints::new();
        bc.critical();
        if shape.ca {
            bc.ca();
        }
        b.append_extension(bc.build()?)?;
        if !shape.ca {
            if let Some(cn) = common_name(subject) {
                let san = SubjectAlternativeName::new()
                    .dns(&cn)
                    .build(&b.x509v3_context(issuer.map(|c| c.as_ref()), None))?;
                b.append_extension(san)?;
            }
        }
        b.sign(signer, MessageDigest::sha256())
    })()
    .map_err(PkiError::ssl("cannot build the certificate"))?;
    Ok(b.build())
}

/// The public half of a private key.
pub fn public_of(key: &PKeyRef<Private>) -> Result<PKey<Public>, PkiError> {
    let der = key
        .public_key_to_der()
        .map_err(PkiError::ssl("cannot read the public key"))?;
    PKey::public_key_from_der(&der).map_err(PkiError::ssl("cannot read the public key"))
}

/// A new self-signed CA certificate for `key`.
pub fn new_ca_cert(key: &PKeyRef<Private>, validity: Validity) -> Result<X509, PkiError> {
    let name = cn_name(CA_COMMON_NAME)?;
    let public = public_of(key)?;
    build(&name, &public, None, key, Shape { ca: true, validity })
}

/// A new certificate for an existing CA: same key and subject, so that
/// every certificate the old one signed verifies against the new one.
pub fn renew_ca_cert(
    key: &PKeyRef<Private>,
    old: &X509,
    validity: Validity,
) -> Result<X509, PkiError> {
    let public = public_of(key)?;
    build(
        old.subject_name(),
        &public,
        None,
        key,
        Shape { ca: true, validity },
    )
}

/// A leaf for `subject` and `public`, signed by the CA.
pub fn issue(
    ca_key: &PKeyRef<Private>,
    ca_cert: &X509,
    subject: &X509NameRef,
    public: &PKeyRef<Public>,
    validity: Validity,
) -> Result<X509, PkiError> {
    if common_name(subject).is_none_or(|cn| cn.is_empty()) {
        return Err(PkiError::Invalid(format!(
            "the subject '{}' has no common name",
            name_text(subject)
        )));
    }
    build(
        subject,
        public,
        Some(ca_cert),
        ca_key,
        Shape {
            ca: false,
            validity,
        },
    )
}

/// A self-signed leaf: what a new node presents when it asks for a signed
/// one (`pki new-cert --cert`).
pub fn self_signed(key: &PKeyRef<Private>, cn: &str, validity: Validity) -> Result<X509, PkiError> {
    let name = cn_name(cn)?;
    let public = public_of(key)?;
    build(
        &name,
        &public,
        None,
        key,
        Shape {
            ca: false,
            validity,
        },
    )
}

/// A PKCS#10 request for `cn` that asks for a `subjectAltName` of the CN.
pub fn new_csr(key: &PKeyRef<Private>, cn: &str) -> Result<X509Req, PkiError> {
    let name = cn_name(cn)?;
    let mut b = X509ReqBuilder::new().map_err(PkiError::ssl("request"))?;
    (|| {
        b.set_version(0)?;
        b.set_subject_name(&name)?;
        b.set_pubkey(key)?;
        let san = SubjectAlternativeName::new()
            .dns(cn)
            .build(&b.x509v3_context(None))?;
        let mut exts = Stack::new()?;
        exts.push(san)?;
        b.add_extensions(&exts)?;
        b.sign(key, MessageDigest::sha256())
    })()
    .map_err(PkiError::ssl(
        "cannot build the certificate signing request",
    ))?;
    Ok(b.build())
}

/// The public key of a request, once its signature shows that whoever sent
/// it holds the private key.
pub fn csr_public_key(csr: &X509Req) -> Result<PKey<Public>, PkiError> {
    let public = csr
        .public_key()
        .map_err(|e| PkiError::Invalid(format!("the request's public key is unreadable: {e}")))?;
    match csr.verify(&public) {
        Ok(true) => Ok(public),
        _ => Err(PkiError::Invalid(
            "the request's signature does not match its public key".into(),
        )),
    }
}

/// Checks that `cert` chains to `ca` and is valid now, with OpenSSL's
/// verifier. The error is OpenSSL's text and code, as Icinga reports it.
pub fn verify_signed_by(cert: &X509, ca: &X509) -> Result<(), String> {
    let run = || -> Result<Result<(), String>, openssl::error::ErrorStack> {
        let mut store = X509StoreBuilder::new()?;
        store.add_cert(ca.clone())?;
        let store = store.build();
        let chain = Stack::new()?;
        let mut ctx = X509StoreContext::new()?;
        ctx.init(&store, cert, &chain, |c| {
            Ok(if c.verify_cert()? {
                Ok(())
            } else {
                let e = c.error();
                Err(format!("{} (code {})", e.error_string(), e.as_raw()))
            })
        })
    };
    run().unwrap_or_else(|e| Err(e.to_string()))
}

/// Whether a certificate is marked as a CA (`basicConstraints CA:TRUE`).
pub fn is_ca(cert: &X509) -> bool {
    use foreign_types::ForeignTypeRef;
    // The openssl crate has no binding for this libcrypto function.
    extern "C" {
        fn X509_check_ca(x: *mut openssl_sys::X509) -> std::os::raw::c_int;
    }
    // SAFETY: the pointer is valid for the borrow of `cert`; X509_check_ca
    // only reads the certificate (it caches extension flags inside it, as
    // every OpenSSL verification does).
    unsafe { X509_check_ca(cert.as_ref().as_ptr()) >= 1 }
}

/// Whether the certificate carries `public`.
pub fn has_public_key(cert: &X509, public: &PKeyRef<Public>) -> bool {
    cert.public_key().is_ok_and(|k| k.public_eq(public))
}
