//! The CA of a data directory: its key and certificate files, its two
//! aggregates, and the operations that touch both.
//!
//! The files and the history agree by construction: the key is written
//! before anything refers to it; a certificate is recorded before it is
//! handed out; and at every open the certificate file is brought in line
//! with the recorded one (the history wins for the certificate, the file
//! for the key, which is never recorded).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use openssl::pkey::{PKey, PKeyRef, Private, Public};
use openssl::x509::{X509NameRef, X509Req, X509};
use picket_store::{Actor, Command, DataDir, OpenReport, Store, StoreOptions, Versioned};

use crate::ca::{Approval, Ca, CaCommand, Establish, Issued, Origin, CA_ID, CA_STORE};
use crate::cert::{self, CertInfo, Validity};
use crate::files;
use crate::request::{Receive, Request, RequestCommand, Signed, REQUEST_STORE};
use crate::PkiError;

/// `<data dir>/ca`: the CA key and certificate (signing master only).
pub const CA_DIR: &str = "ca";
/// `<data dir>/certs`: this node's key and certificate and the CA
/// certificate it trusts.
pub const CERTS_DIR: &str = "certs";

/// Who approved a certificate, how, and in answer to which request.
pub struct Grant<'a> {
    pub how: Approval,
    pub by: &'a Actor,
    pub request: Option<String>,
}

impl<'a> Grant<'a> {
    pub fn new(how: Approval, by: &'a Actor) -> Grant<'a> {
        Grant {
            how,
            by,
            request: None,
        }
    }

    pub fn for_request(mut self, fingerprint: &str) -> Grant<'a> {
        self.request = Some(fingerprint.to_string());
        self
    }
}

/// The CA key and certificate, loaded for signing.
pub struct CaKeys {
    pub key: PKey<Private>,
    pub cert: X509,
}

pub struct Authority {
    root: PathBuf,
    ca: Store<Ca>,
    requests: Store<Request>,
}

fn parse_pem(text: &str, what: &str) -> Result<X509, PkiError> {
    X509::from_pem(text.as_bytes())
        .map_err(|e| PkiError::Invalid(format!("{what} is not a PEM certificate: {e}")))
}

impl Authority {
    /// Opens the CA and request stores of a data directory.
    pub fn open(
        data: &DataDir,
        options: &StoreOptions,
    ) -> Result<(Authority, Vec<OpenReport>), PkiError> {
        let (ca, r1) = data.store::<Ca>(CA_STORE, options)?;
        let (requests, r2) = data.store::<Request>(REQUEST_STORE, options)?;
        let authority = Authority {
            root: data.root().to_path_buf(),
            ca,
            requests,
        };
        Ok((authority, vec![r1, r2]))
    }

    pub fn ca_dir(&self) -> PathBuf {
        self.root.join(CA_DIR)
    }

    pub fn certs_dir(&self) -> PathBuf {
        self.root.join(CERTS_DIR)
    }

    /// Whether this node holds the CA key: it signs, renews and answers
    /// certificate requests itself instead of forwarding them.
    pub fn has_ca_key(&self) -> bool {
        self.ca_files().0.exists()
    }

    /// `ca/ca.key` and `ca/ca.crt`.
    pub(crate) fn ca_files(&self) -> (PathBuf, PathBuf) {
        let dir = self.ca_dir();
        (dir.join("ca.key"), dir.join("ca.crt"))
    }

    /// The CA's record, if there is a CA.
    pub fn ca(&self) -> Option<Arc<Versioned<Ca>>> {
        self.ca.get(CA_ID)
    }

    /// Creates a CA: a new key and a self-signed certificate valid 15 years,
    /// written to `ca/` and recorded. Refuses to replace an existing CA.
    pub fn new_ca(&self, actor: &Actor, now: i64) -> Result<CertInfo, PkiError> {
        let (key_file, cert_file) = self.ca_files();
        if key_file.exists() || cert_file.exists() || self.ca().is_some() {
            return Err(PkiError::CaExists {
                cert: cert_file,
                key: key_file,
            });
        }
        let key = cert::new_key()?;
        let cert = cert::new_ca_cert(&key, Validity::days_from(now, cert::CA_VALID_DAYS))?;
        self.install_ca(&key, &cert, Origin::Created, actor)
    }

    /// Writes the CA files, then records the CA.
    pub(crate) fn install_ca(
        &self,
        key: &PKeyRef<Private>,
        cert: &X509,
        origin: Origin,
        actor: &Actor,
    ) -> Result<CertInfo, PkiError> {
        let (key_file, cert_file) = self.ca_files();
        files::create_dir(&self.ca_dir(), 0o700)?;
        files::write_key(&key_file, key)?;
        files::write_cert(&cert_file, cert)?;
        self.establish(cert, origin, actor)
    }

    fn establish(&self, cert: &X509, origin: Origin, actor: &Actor) -> Result<CertInfo, PkiError> {
        let info = CertInfo::of(cert)?;
        self.ca.create_blocking(Command::new(
            CA_ID,
            actor.clone(),
            Establish {
                certificate: cert::pem(cert)?,
                info: info.clone(),
                origin,
            },
        ))?;
        Ok(info)
    }

    /// Loads the CA key and certificate for signing, reconciling files and
    /// history: CA files without a record (a crash between the two) are
    /// adopted; a certificate file older than the recorded certificate (a
    /// crash during renewal) is rewritten from the record.
    pub fn load_ca(&self, actor: &Actor) -> Result<CaKeys, PkiError> {
        let (key_file, cert_file) = self.ca_files();
        if !key_file.exists() {
            return Err(PkiError::NoCa { dir: self.ca_dir() });
        }
        let key = files::read_key(&key_file)?;
        let file_cert = files::read_cert(&cert_file)?;
        let public = cert::public_of(&key)?;
        if !cert::has_public_key(&file_cert, &public) {
            return Err(PkiError::BadFile {
                path: cert_file,
                detail: format!("does not belong to the key in {}", key_file.display()),
            });
        }
        let Some(record) = self.ca() else {
            tracing::warn!(
                "The CA in {} has no history; recording it as found.",
                self.ca_dir().display()
            );
            self.establish(&file_cert, Origin::Adopted, actor)?;
            return Ok(CaKeys {
                key,
                cert: file_cert,
            });
        };
        let recorded = parse_pem(&record.state.certificate, "the recorded CA certificate")?;
        if CertInfo::of(&file_cert)?.fingerprint != record.state.info.fingerprint {
            if !cert::has_public_key(&recorded, &public) {
                return Err(PkiError::BadFile {
                    path: key_file,
                    detail: "is not the key of the CA recorded in the store".into(),
                });
            }
            tracing::warn!(
                "{} differs from the recorded CA certificate; rewriting it from the record.",
                cert_file.display()
            );
            files::write_cert(&cert_file, &recorded)?;
        }
        Ok(CaKeys {
            key,
            cert: recorded,
        })
    }

    /// Signs a certificate for `subject` and `public` and records it; only
    /// then is it returned.
    pub fn issue(
        &self,
        keys: &CaKeys,
        subject: &X509NameRef,
        public: &PKeyRef<Public>,
        grant: Grant<'_>,
        now: i64,
    ) -> Result<X509, PkiError> {
        let cert = cert::issue(
            &keys.key,
            &keys.cert,
            subject,
            public,
            Validity::days_from(now, cert::LEAF_VALID_DAYS),
        )?;
        self.record(&cert, grant)?;
        Ok(cert)
    }

    /// Adds a certificate signed with the CA key to the CA's history.
    pub(crate) fn record(&self, cert: &X509, grant: Grant<'_>) -> Result<(), PkiError> {
        let issued = Issued {
            cert: CertInfo::of(cert)?,
            approval: grant.how,
            approved_by: grant.by.as_str().to_string(),
            request: grant.request,
        };
        self.ca.command_blocking(Command::new(
            CA_ID,
            grant.by.clone(),
            CaCommand::Issue(issued),
        ))?;
        Ok(())
    }

    /// `pki sign-csr`: signs a PKCS#10 request as an operator.
    pub fn sign_csr(&self, csr: &X509Req, actor: &Actor, now: i64) -> Result<X509, PkiError> {
        let public = cert::csr_public_key(csr)?;
        let keys = self.load_ca(actor)?;
        let grant = Grant::new(Approval::Operator, actor);
        self.issue(&keys, csr.subject_name(), &public, grant, now)
    }

    /// Records a request for the certificate `presented`, unless one with
    /// its fingerprint exists; returns its state.
    pub fn receive_request(
        &self,
        presented: &X509,
        requestor_ca: Option<String>,
        ticket_given: bool,
        actor: &Actor,
    ) -> Result<Arc<Versioned<Request>>, PkiError> {
        let info = CertInfo::of(presented)?;
        if let Some(existing) = self.requests.get(&info.fingerprint) {
            return Ok(existing);
        }
        Ok(self.requests.create_blocking(Command::new(
            info.fingerprint.clone(),
            actor.clone(),
            Receive {
                cert_request: cert::pem(presented)?,
                info,
                requestor_ca,
                ticket_given,
            },
        ))?)
    }

    pub fn request(&self, fingerprint: &str) -> Option<Arc<Versioned<Request>>> {
        self.requests.get(fingerprint)
    }

    /// Every request, oldest first by the validity start of the presented
    /// certificate (Icinga lists its request files in no useful order).
    pub fn requests(&self) -> Vec<Arc<Versioned<Request>>> {
        let mut all: Vec<_> = self
            .requests
            .ids()
            .iter()
            .filter_map(|id| self.requests.get(id))
            .collect();
        all.sort_by(|a, b| {
            (a.state.info.not_before, &a.state.info.fingerprint)
                .cmp(&(b.state.info.not_before, &b.state.info.fingerprint))
        });
        all
    }

    /// Signs a pending request (`ca sign`, or a valid ticket).
    pub fn sign_request(
        &self,
        fingerprint: &str,
        approval: Approval,
        actor: &Actor,
        now: i64,
    ) -> Result<X509, PkiError> {
        let request = self
            .request(fingerprint)
            .ok_or_else(|| PkiError::NoRequest(fingerprint.to_string()))?;
        // What the aggregate would refuse is refused before anything is
        // signed, through the aggregate, so that the refused intent is in
        // the history; the expected version makes sure it is refused.
        if request.state.removed {
            self.requests.command_blocking(
                Command::new(
                    fingerprint,
                    actor.clone(),
                    RequestCommand::Sign(placeholder()),
                )
                .expecting(request.version),
            )?;
        }
        let presented = parse_pem(&request.state.cert_request, "the requested certificate")?;
        let public = presented.public_key().map_err(|e| {
            PkiError::Invalid(format!("the request's public key is unreadable: {e}"))
        })?;
        let keys = self.load_ca(actor)?;
        let grant = Grant::new(approval, actor).for_request(fingerprint);
        let cert = self.issue(&keys, presented.subject_name(), &public, grant, now)?;
        let serial = CertInfo::of(&cert)?.serial;
        self.requests.command_blocking(Command::new(
            fingerprint,
            actor.clone(),
            RequestCommand::Sign(Signed {
                certificate: cert::pem(&cert)?,
                serial,
                approval,
            }),
        ))?;
        Ok(cert)
    }

    /// `ca remove`: declines a request.
    pub fn remove_request(&self, fingerprint: &str, actor: &Actor) -> Result<CertInfo, PkiError> {
        self.request_command(fingerprint, RequestCommand::Remove, actor)
            .map(|r| r.state.info.clone())
    }

    /// `ca restore`: takes a removal back.
    pub fn restore_request(&self, fingerprint: &str, actor: &Actor) -> Result<CertInfo, PkiError> {
        self.request_command(fingerprint, RequestCommand::Restore, actor)
            .map(|r| r.state.info.clone())
    }

    pub(crate) fn request_command(
        &self,
        fingerprint: &str,
        command: RequestCommand,
        actor: &Actor,
    ) -> Result<Arc<Versioned<Request>>, PkiError> {
        if self.request(fingerprint).is_none() {
            return Err(PkiError::NoRequest(fingerprint.to_string()));
        }
        Ok(self
            .requests
            .command_blocking(Command::new(fingerprint, actor.clone(), command))?)
    }

    /// Renews the CA certificate when it would expire before a leaf signed
    /// now: same key, same subject, another 15 years. Every certificate
    /// the old one signed verifies against the new one. Writes `ca/ca.crt`
    /// and, when present, `certs/ca.crt`.
    pub fn renew_ca_if_due(&self, actor: &Actor, now: i64) -> Result<Option<CertInfo>, PkiError> {
        let keys = self.load_ca(actor)?;
        if !CertInfo::of(&keys.cert)?.ca_needs_renewal(now) {
            return Ok(None);
        }
        let renewed = cert::renew_ca_cert(
            &keys.key,
            &keys.cert,
            Validity::days_from(now, cert::CA_VALID_DAYS),
        )?;
        let info = CertInfo::of(&renewed)?;
        self.ca.command_blocking(Command::new(
            CA_ID,
            actor.clone(),
            CaCommand::Renew {
                certificate: cert::pem(&renewed)?,
                info: info.clone(),
            },
        ))?;
        files::write_cert(&self.ca_files().1, &renewed)?;
        let trusted = self.certs_dir().join("ca.crt");
        if trusted.exists() {
            files::write_cert(&trusted, &renewed)?;
        }
        Ok(Some(info))
    }

    /// This node's key and certificate for `cn` in `certs/`, signed by the
    /// local CA: made when missing, renewed when due (or when signed by
    /// another CA). Also writes `certs/ca.crt`. Returns the certificate
    /// when it was made or renewed.
    pub fn node_certificate(
        &self,
        cn: &str,
        actor: &Actor,
        now: i64,
    ) -> Result<Option<CertInfo>, PkiError> {
        let keys = self.load_ca(actor)?;
        let dir = self.certs_dir();
        files::create_dir(&dir, 0o700)?;
        let (key_file, cert_file) = node_files(&dir, cn);
        files::write_cert(&dir.join("ca.crt"), &keys.cert)?;
        let current = if cert_file.exists() && key_file.exists() {
            Some(files::read_cert(&cert_file)?)
        } else {
            None
        };
        let (approval, key) = match &current {
            Some(c)
                if cert::verify_signed_by(c, &keys.cert).is_ok()
                    && !CertInfo::of(c)?.needs_renewal(now) =>
            {
                return Ok(None);
            }
            Some(_) => (Approval::Renewal, files::read_key(&key_file)?),
            None => {
                let key = cert::new_key()?;
                files::write_key(&key_file, &key)?;
                (Approval::Setup, key)
            }
        };
        let name = cert::cn_name(cn)?;
        let public = cert::public_of(&key)?;
        let issued = self.issue(&keys, &name, &public, Grant::new(approval, actor), now)?;
        files::write_cert(&cert_file, &issued)?;
        Ok(Some(CertInfo::of(&issued)?))
    }
}

/// `certs/<cn>.key` and `certs/<cn>.crt`, as Icinga names them.
pub fn node_files(dir: &Path, cn: &str) -> (PathBuf, PathBuf) {
    (dir.join(format!("{cn}.key")), dir.join(format!("{cn}.crt")))
}

/// A sign command that the request aggregate will refuse: sent so that the
/// refusal of an operator's intent is in the history.
fn placeholder() -> Signed {
    Signed {
        certificate: String::new(),
        serial: String::new(),
        approval: Approval::Operator,
    }
}
