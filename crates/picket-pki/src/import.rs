//! Taking over an Icinga 2 CA: its key and certificate, its serial counter,
//! the node certificates in `certs/`, and the certificate requests with
//! their state, so that agents already deployed keep trusting the master
//! and pending requests can still be signed.

use std::fs;
use std::path::{Path, PathBuf};

use openssl::x509::X509;
use picket_store::Actor;
use serde::Deserialize;

use crate::ca::{Approval, Origin};
use crate::cert::{self, CertInfo};
use crate::request::{RequestCommand, Signed};
use crate::{files, Authority, Grant, PkiError};

/// What an import took over.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// The CA certificate, unless the CA had been imported before.
    pub ca: Option<CertInfo>,
    /// Files copied into `certs/`.
    pub certs: Vec<PathBuf>,
    /// Files in Icinga's `certs/` left alone because Picket has its own.
    pub certs_kept: Vec<PathBuf>,
    /// Requests taken over by an earlier import, left as they are here.
    pub requests_known: usize,
    pub requests_pending: usize,
    pub requests_signed: usize,
    pub requests_removed: usize,
    /// Request files that could not be used, and why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// A request file of Icinga's `certificate-requests/`.
#[derive(Deserialize)]
struct IcingaRequest {
    cert_request: String,
    #[serde(default)]
    ticket: Option<String>,
    #[serde(default)]
    requestor_ca: Option<String>,
    #[serde(default)]
    cert_response: Option<String>,
}

impl Authority {
    /// Imports the Icinga 2 data directory `from` (normally
    /// `/var/lib/icinga2`). Importing the same CA again takes over the
    /// requests that came since; another CA than the one this node has is
    /// refused.
    pub fn import_icinga(&self, from: &Path, actor: &Actor) -> Result<ImportReport, PkiError> {
        let ca_dir = from.join("ca");
        let key = files::read_key(&ca_dir.join("ca.key"))?;
        let ca_file = ca_dir.join("ca.crt");
        let ca_cert = files::read_cert(&ca_file)?;
        let public = cert::public_of(&key)?;
        if !cert::has_public_key(&ca_cert, &public) {
            return Err(PkiError::BadFile {
                path: ca_file,
                detail: "does not belong to the key beside it (ca.key)".into(),
            });
        }
        if !cert::is_ca(&ca_cert) {
            return Err(PkiError::BadFile {
                path: ca_file,
                detail: "is not a CA certificate".into(),
            });
        }
        let info = CertInfo::of(&ca_cert)?;
        let mut report = ImportReport::default();
        match self.ca() {
            Some(existing) if existing.state.info.fingerprint == info.fingerprint => {}
            Some(existing) => {
                return Err(PkiError::Invalid(format!(
                    "this node already has a CA ({}, fingerprint {}); it cannot take over another ({}, fingerprint {})",
                    existing.state.info.subject, existing.state.info.fingerprint, info.subject, info.fingerprint
                )))
            }
            None => {
                                let (key_file, cert_file) = self.ca_files();
                if key_file.exists() || cert_file.exists() {
                    return Err(PkiError::CaExists {
                        cert: cert_file,
                        key: key_file,
                    });
                }
                let serial_counter = fs::read_to_string(ca_dir.join("serial.txt"))
                    .ok()
                    .map(|s| s.trim().to_string());
                let origin = Origin::Imported {
                    from: from.display().to_string(),
                    serial_counter,
                };
                report.ca = Some(self.install_ca(&key, &ca_cert, origin, actor)?);
            }
        }
        self.import_certs(&from.join("certs"), &mut report)?;
        self.import_requests(
            &from.join("certificate-requests"),
            &ca_cert,
            actor,
            &mut report,
        )?;
        Ok(report)
    }

    /// Copies the node's key and certificates; never replaces Picket's own.
    fn import_certs(&self, dir: &Path, report: &mut ImportReport) -> Result<(), PkiError> {
        let Ok(entries) = fs::read_dir(dir) else {
            return Ok(());
        };
        let target = self.certs_dir();
        files::create_dir(&target, 0o700)?;
        for entry in entries {
            let entry = entry.map_err(PkiError::io(dir))?;
            let path = entry.path();
            let Some(name) = path.file_name() else {
                continue;
            };
            let secret = match path.extension().and_then(|e| e.to_str()) {
                Some("key") => true,
                Some("crt") => false,
                // `ticket` and anything else belong to a pending request of
                // Icinga's own, not to the CA.
                _ => continue,
            };
            let to = target.join(name);
            let bytes = fs::read(&path).map_err(PkiError::io(&path))?;
            if to.exists() {
                if fs::read(&to).map_err(PkiError::io(&to))? != bytes {
                    report.certs_kept.push(to);
                }
                continue;
            }
            files::write(
                &to,
                &bytes,
                if secret { files::SECRET } else { files::PUBLIC },
            )?;
            report.certs.push(to);
        }
        Ok(())
    }

    fn import_requests(
        &self,
        dir: &Path,
        ca_cert: &X509,
        actor: &Actor,
        report: &mut ImportReport,
    ) -> Result<(), PkiError> {
        let Ok(entries) = fs::read_dir(dir) else {
            return Ok(());
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let removed = match path.extension().and_then(|e| e.to_str()) {
                Some("json") => false,
                Some("removed") => true,
                _ => continue,
            };
            match self.import_request(&path, removed, ca_cert, actor) {
                Ok(Imported::Known) => report.requests_known += 1,
                Ok(Imported::Pending) => report.requests_pending += 1,
                Ok(Imported::Signed) => report.requests_signed += 1,
                Ok(Imported::Removed) => report.requests_removed += 1,
                Err(e) => report.skipped.push((path, e.to_string())),
            }
        }
        Ok(())
    }

    fn import_request(
        &self,
        path: &Path,
        removed: bool,
        ca_cert: &X509,
        actor: &Actor,
    ) -> Result<Imported, PkiError> {
        let text = fs::read(path).map_err(PkiError::io(path))?;
        let file: IcingaRequest = serde_json::from_slice(&text).map_err(|e| PkiError::BadFile {
            path: path.to_path_buf(),
            detail: format!("not an Icinga 2 certificate request: {e}"),
        })?;
        let presented =
            X509::from_pem(file.cert_request.as_bytes()).map_err(|e| PkiError::BadFile {
                path: path.to_path_buf(),
                detail: format!("cert_request is not a PEM certificate: {e}"),
            })?;
        if self.request(&cert::fingerprint(&presented)?).is_some() {
            // Taken over before: from then on this CA decides.
            return Ok(Imported::Known);
        }
        let ticket_given = file.ticket.is_some_and(|t| !t.is_empty());
        let request = self.receive_request(&presented, file.requestor_ca, ticket_given, actor)?;
        let fingerprint = request.state.info.fingerprint.clone();
        let mut outcome = Imported::Pending;
        if let Some(response) = &file.cert_response {
            let issued = X509::from_pem(response.as_bytes()).map_err(|e| PkiError::BadFile {
                path: path.to_path_buf(),
                detail: format!("cert_response is not a PEM certificate: {e}"),
            })?;
            let info = CertInfo::of(&issued)?;
            // Record what this CA signed; a response from another CA (the
            // request went elsewhere) is only kept with the request.
            if cert::verify_signed_by(&issued, ca_cert).is_ok() {
                let grant = Grant::new(Approval::Imported, actor).for_request(&fingerprint);
                self.record(&issued, grant)?;
            }
            self.request_command(
                &fingerprint,
                RequestCommand::Sign(Signed {
                    certificate: response.clone(),
                    serial: info.serial,
                    approval: Approval::Imported,
                }),
                actor,
            )?;
        }
        if file.cert_response.is_some() {
            outcome = Imported::Signed;
        }
        if removed {
            self.remove_request(&fingerprint, actor)?;
            outcome = Imported::Removed;
        }
        Ok(outcome)
    }
}

enum Imported {
    Known,
    Pending,
    Signed,
    Removed,
}
