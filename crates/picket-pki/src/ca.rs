//! The CA as an aggregate: its certificate, where it came from, and every
//! certificate it ever issued, with how each was approved.
//!
//! Signing happens before the command (it needs the key and randomness,
//! which `process` must not touch); the command then records the
//! certificate, and the store makes that record durable before the
//! certificate is handed out. A certificate that exists is therefore always
//! in this history.

use std::collections::BTreeMap;

use picket_store::{Aggregate, CommandSummary, Describe};
use serde::{Deserialize, Serialize};

use crate::cert::CertInfo;

/// The one instance of the CA aggregate in its store.
pub const CA_ID: &str = "ca";
/// The store of the CA aggregate.
pub const CA_STORE: &str = "ca";

/// How the CA came to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// Created by `picket pki new-ca` (or the first start of a master).
    Created,
    /// Found as files in the data directory without a history (written by
    /// a Picket that stopped before it could record them).
    Adopted,
    /// Taken over from an Icinga 2 installation.
    Imported {
        from: String,
        /// The content of Icinga's `serial.txt` (used by Icinga before
        /// 2.8), kept for the record: Picket draws random 160-bit serials,
        /// which never meet a counter's small numbers.
        serial_counter: Option<String>,
    },
}

/// How an issued certificate was approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    /// The requester presented a valid ticket.
    Ticket,
    /// An operator signed it (`ca sign`, `pki sign-csr`).
    Operator,
    /// It replaced a certificate of this CA that was about to expire.
    Renewal,
    /// This node's own certificate, made when the node was set up.
    Setup,
    /// Issued by Icinga 2 before the CA was taken over.
    Imported,
}

impl Approval {
    pub fn as_str(self) -> &'static str {
        match self {
            Approval::Ticket => "ticket",
            Approval::Operator => "operator",
            Approval::Renewal => "renewal",
            Approval::Setup => "setup",
            Approval::Imported => "imported",
        }
    }
}

/// A certificate the CA issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issued {
    #[serde(flatten)]
    pub cert: CertInfo,
    pub approval: Approval,
    /// Who approved it: the operator, or the peer that presented the ticket.
    pub approved_by: String,
    /// The fingerprint of the request it answered, if any.
    pub request: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ca {
    /// The CA certificate in use, PEM.
    pub certificate: String,
    pub info: CertInfo,
    pub origin: Origin,
    /// CA certificates replaced by renewal, oldest first.
    pub previous: Vec<CertInfo>,
    /// Every certificate issued, by serial (lower-case hex).
    pub issued: BTreeMap<String, Issued>,
}

/// Creating the CA record: the command is its own event, since there is
/// nothing to decide.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Establish {
    pub certificate: String,
    pub info: CertInfo,
    pub origin: Origin,
}

pub enum CaCommand {
    /// Record a certificate signed with the CA key.
    Issue(Issued),
    /// Replace the CA certificate with one for the same key and subject.
    Renew { certificate: String, info: CertInfo },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CaEvent {
    Issued(Issued),
    Renewed { certificate: String, info: CertInfo },
}

impl Describe for Establish {
    fn summary(&self) -> CommandSummary {
        let s = CommandSummary::new("establish-ca")
            .arg("fingerprint", &self.info.fingerprint)
            .arg("not_after", self.info.not_after);
        match &self.origin {
            Origin::Created => s.arg("origin", "created"),
            Origin::Adopted => s.arg("origin", "adopted"),
            Origin::Imported { from, .. } => s.arg("origin", "imported").arg("from", from),
        }
    }
}

impl Describe for CaCommand {
    fn summary(&self) -> CommandSummary {
        match self {
            CaCommand::Issue(i) => CommandSummary::new("issue")
                .arg("cn", &i.cert.cn)
                .arg("serial", &i.cert.serial)
                .arg("approval", i.approval.as_str()),
            CaCommand::Renew { info, .. } => CommandSummary::new("renew-ca")
                .arg("fingerprint", &info.fingerprint)
                .arg("not_after", info.not_after),
        }
    }
}

impl Aggregate for Ca {
    type InitCommand = Establish;
    type Command = CaCommand;
    type InitEvent = Establish;
    type Event = CaEvent;
    type Error = String;

    fn process_init(_: &str, c: &Establish) -> Result<Establish, String> {
        Ok(c.clone())
    }

    fn init(_: &str, e: Establish) -> Ca {
        Ca {
            certificate: e.certificate,
            info: e.info,
            origin: e.origin,
            previous: Vec::new(),
            issued: BTreeMap::new(),
        }
    }

    fn process(&self, c: &CaCommand) -> Result<Vec<CaEvent>, String> {
        match c {
            CaCommand::Issue(i) => {
                if let Some(earlier) = self.issued.get(&i.cert.serial) {
                    return Err(format!(
                        "serial {} was already issued to '{}'",
                        i.cert.serial, earlier.cert.cn
                    ));
                }
                if i.cert.issuer != self.info.subject {
                    return Err(format!(
                        "'{}' was issued by '{}', not by this CA ('{}')",
                        i.cert.cn, i.cert.issuer, self.info.subject
                    ));
                }
                Ok(vec![CaEvent::Issued(i.clone())])
            }
            CaCommand::Renew { certificate, info } => {
                if info.subject != self.info.subject {
                    return Err(format!(
                        "a renewed CA certificate must keep the subject '{}', not '{}'",
                        self.info.subject, info.subject
                    ));
                }
                if info.fingerprint == self.info.fingerprint {
                    return Ok(Vec::new());
                }
                Ok(vec![CaEvent::Renewed {
                    certificate: certificate.clone(),
                    info: info.clone(),
                }])
            }
        }
    }

    fn apply(&mut self, e: CaEvent) {
        match e {
            CaEvent::Issued(i) => {
                self.issued.insert(i.cert.serial.clone(), i);
            }
            CaEvent::Renewed { certificate, info } => {
                let old = std::mem::replace(&mut self.info, info);
                self.previous.push(old);
                self.certificate = certificate;
            }
        }
    }
}
