//! Reading and writing keys, certificates and requests as PEM files.
//!
//! Every write goes to a temporary file in the same directory, is synced
//! and renamed over the target, so a crash leaves the old file or the new
//! one, never half of a key. Private keys are created with mode 0600 from
//! the start: there is no moment at which another user could read them.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::x509::{X509Req, X509};

use crate::PkiError;

/// Mode of private keys and of files holding secrets (tickets).
pub const SECRET: u32 = 0o600;
/// Mode of certificates.
pub const PUBLIC: u32 = 0o644;

/// Writes `bytes` to `path` atomically with `mode`.
pub fn write(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PkiError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| PkiError::BadFile {
            path: path.to_path_buf(),
            detail: "not a file name".into(),
        })?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)?;
        // The mode given to open() is reduced by the umask; set it exactly.
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        fs::File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(PkiError::io(path))
}

/// Creates `dir` (and its parents) and gives it `mode`.
pub fn create_dir(dir: &Path, mode: u32) -> Result<(), PkiError> {
    fs::create_dir_all(dir).map_err(PkiError::io(dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(mode)).map_err(PkiError::io(dir))
}

fn read(path: &Path) -> Result<Vec<u8>, PkiError> {
    fs::read(path).map_err(PkiError::io(path))
}

fn bad(path: &Path, what: &str) -> impl FnOnce(openssl::error::ErrorStack) -> PkiError {
    let path = path.to_path_buf();
    let what = what.to_string();
    move |e| PkiError::BadFile {
        path,
        detail: format!("not a PEM {what}: {e}"),
    }
}

pub fn read_key(path: &Path) -> Result<PKey<Private>, PkiError> {
    PKey::private_key_from_pem(&read(path)?).map_err(bad(path, "private key"))
}

pub fn read_cert(path: &Path) -> Result<X509, PkiError> {
    X509::from_pem(&read(path)?).map_err(bad(path, "certificate"))
}

/// Every certificate in a PEM file, in order (a chain file).
pub fn read_certs(path: &Path) -> Result<Vec<X509>, PkiError> {
    let certs = X509::stack_from_pem(&read(path)?).map_err(bad(path, "certificate"))?;
    if certs.is_empty() {
        return Err(PkiError::BadFile {
            path: path.to_path_buf(),
            detail: "holds no certificate".into(),
        });
    }
    Ok(certs)
}

pub fn read_csr(path: &Path) -> Result<X509Req, PkiError> {
    X509Req::from_pem(&read(path)?).map_err(bad(path, "certificate signing request"))
}

/// Writes a private key as PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), the form
/// Icinga 2 writes and reads, mode 0600.
pub fn write_key(path: &Path, key: &PKeyRef<Private>) -> Result<(), PkiError> {
    let pem = match key.rsa() {
        Ok(rsa) => rsa.private_key_to_pem(),
        // Other key types (an imported EC key) keep their PKCS#8 form.
        Err(_) => key.private_key_to_pem_pkcs8(),
    }
    .map_err(PkiError::ssl("cannot encode the private key"))?;
    write(path, &pem, SECRET)
}

pub fn write_cert(path: &Path, cert: &X509) -> Result<(), PkiError> {
    let pem = cert
        .to_pem()
        .map_err(PkiError::ssl("cannot encode the certificate"))?;
    write(path, &pem, PUBLIC)
}

pub fn write_csr(path: &Path, csr: &X509Req) -> Result<(), PkiError> {
    let pem = csr
        .to_pem()
        .map_err(PkiError::ssl("cannot encode the request"))?;
    write(path, &pem, PUBLIC)
}
