//! The signing master's answer to a certificate request
//! (`pki::RequestCertificate`), decided as Icinga 2 decides it: renew a
//! certificate of this CA that is about to expire, hand out what an
//! operator signed, refuse what an operator removed, sign at once for a
//! valid ticket, and otherwise keep the request for an operator.
//!
//! The answer has the shape of Icinga's JSON-RPC result, so the cluster
//! sends it as it is, and Icinga agents read it as they would from an
//! Icinga master.

use openssl::x509::X509;
use picket_store::Actor;
use serde::Serialize;

use crate::ca::Approval;
use crate::cert::{self, CertInfo};
use crate::{Authority, Grant, PkiError};

/// Icinga's `status_code`s.
pub const STATUS_SIGNED: u8 = 0;
pub const STATUS_REFUSED: u8 = 1;
pub const STATUS_PENDING: u8 = 2;

/// A certificate request as it arrives.
pub struct IncomingRequest<'a> {
    /// The certificate the requester sent, or else the one it presented in
    /// the TLS handshake.
    pub presented: &'a X509,
    /// The ticket; empty when none was sent.
    pub ticket: &'a str,
    /// The CA the requester trusts, when a satellite forwards the request.
    pub requestor_ca: Option<&'a str>,
}

/// The result of `pki::RequestCertificate`, with Icinga's keys.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RequestAnswer {
    pub status_code: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The signed certificate, PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// This CA's certificate, PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint_request: Option<String>,
}

impl Authority {
    /// Answers a certificate request. `salt` is `ApiListener.ticket_salt`
    /// (empty: no automatic signing); `actor` names the peer it came from.
    pub fn answer_request(
        &self,
        request: &IncomingRequest<'_>,
        salt: &str,
        actor: &Actor,
        now: i64,
    ) -> Result<RequestAnswer, PkiError> {
        let keys = self.load_ca(actor)?;
        let presented = CertInfo::of(request.presented)?;
        let cn = presented.cn.clone();
        let ca_pem = cert::pem(&keys.cert)?;
        let ca_info = CertInfo::of(&keys.cert)?;
        let refused = |error: String| RequestAnswer {
            status_code: STATUS_REFUSED,
            error: Some(error),
            cert: None,
            ca: None,
            fingerprint_request: None,
        };

        let signed_by_us = cert::verify_signed_by(request.presented, &keys.cert).is_ok();
        if signed_by_us
            && !presented.needs_renewal(now)
            && !requestor_ca_due(request, &ca_info, now)
        {
            return Ok(refused(format!(
                "The certificates for CN '{cn}' and its root CA are valid and uptodate. Skipping automated renewal."
            )));
        }
        let fingerprint = presented.fingerprint.clone();
        let answer = |status_code, error: Option<String>, cert: Option<String>| RequestAnswer {
            status_code,
            error,
            cert,
            ca: Some(ca_pem.clone()),
            fingerprint_request: Some(fingerprint.clone()),
        };
        if let Some(known) = self.request(&fingerprint) {
            if known.state.removed {
                return Ok(refused(format!(
                    "Ticket for CN {cn} declined by administrator."
                )));
            }
            if let Some(signed) = &known.state.signed {
                return Ok(answer(
                    STATUS_SIGNED,
                    None,
                    Some(signed.certificate.clone()),
                ));
            }
        }
        let approval = if signed_by_us {
            Approval::Renewal
        } else if request.ticket.is_empty() || salt.is_empty() {
            // Without a ticket, or without a salt to check one, an
            // operator decides.
            self.receive_request(
                request.presented,
                request.requestor_ca.map(str::to_string),
                !request.ticket.is_empty(),
                actor,
            )?;
            return Ok(answer(
                STATUS_PENDING,
                Some(format!(
                    "Certificate request for CN '{cn}' is pending. Waiting for approval from the parent Icinga instance."
                )),
                None,
            ));
        } else if crate::ticket::ticket_matches(&cn, salt, request.ticket)? {
            Approval::Ticket
        } else {
            return Ok(refused(format!("Invalid ticket for CN '{cn}'.")));
        };
        let public = request.presented.public_key().map_err(|e| {
            PkiError::Invalid(format!(
                "the presented certificate's key is unreadable: {e}"
            ))
        })?;
        let issued = self.issue(
            &keys,
            request.presented.subject_name(),
            &public,
            Grant::new(approval, actor),
            now,
        )?;
        Ok(answer(STATUS_SIGNED, None, Some(cert::pem(&issued)?)))
    }
}

/// Whether the CA the requester trusts is an older certificate of ours
/// that is about to expire: then its certificate is renewed even if it is
/// itself still good, so that it receives the current CA.
fn requestor_ca_due(request: &IncomingRequest<'_>, ours: &CertInfo, now: i64) -> bool {
    let Some(theirs) = request
        .requestor_ca
        .and_then(|p| X509::from_pem(p.as_bytes()).ok())
        .and_then(|c| CertInfo::of(&c).ok())
    else {
        return false;
    };
    theirs.not_after < ours.not_after && theirs.ca_needs_renewal(now)
}
