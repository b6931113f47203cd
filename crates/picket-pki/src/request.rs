//! A certificate request as an aggregate, one per fingerprint of the
//! certificate the requester presented: received, then signed (perhaps
//! again), or removed (declined) and restored, each step by a named actor.
//!
//! The ticket itself is not kept: it is a lasting credential for its CN,
//! and this history is never pruned. Whether one came is enough to explain
//! why the request waited for an operator.

use picket_store::{Aggregate, CommandSummary, Describe};
use serde::{Deserialize, Serialize};

use crate::ca::Approval;
use crate::cert::CertInfo;

/// The store of the request aggregates.
pub const REQUEST_STORE: &str = "certificate-requests";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Signed {
    /// The certificate issued, PEM: what the requester gets back.
    pub certificate: String,
    pub serial: String,
    pub approval: Approval,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    /// The certificate the requester presented (usually self-signed), PEM.
    pub cert_request: String,
    pub info: CertInfo,
    /// The CA the requester trusted, when it came through a satellite.
    pub requestor_ca: Option<String>,
    pub ticket_given: bool,
    pub signed: Option<Signed>,
    /// Declined by an operator (`ca remove`): further requests with this
    /// certificate are refused until it is restored.
    pub removed: bool,
}

/// Recording a request: the command is its own event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Receive {
    pub cert_request: String,
    pub info: CertInfo,
    pub requestor_ca: Option<String>,
    pub ticket_given: bool,
}

pub enum RequestCommand {
    Sign(Signed),
    Remove,
    Restore,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RequestEvent {
    Signed(Signed),
    Removed,
    Restored,
}

impl Describe for Receive {
    fn summary(&self) -> CommandSummary {
        CommandSummary::new("receive")
            .arg("cn", &self.info.cn)
            .arg("ticket", self.ticket_given)
    }
}

impl Describe for RequestCommand {
    fn summary(&self) -> CommandSummary {
        match self {
            RequestCommand::Sign(s) => CommandSummary::new("sign")
                .arg("serial", &s.serial)
                .arg("approval", s.approval.as_str()),
            RequestCommand::Remove => CommandSummary::new("remove"),
            RequestCommand::Restore => CommandSummary::new("restore"),
        }
    }
}

impl Aggregate for Request {
    type InitCommand = Receive;
    type Command = RequestCommand;
    type InitEvent = Receive;
    type Event = RequestEvent;
    type Error = String;

    fn process_init(_: &str, c: &Receive) -> Result<Receive, String> {
        Ok(c.clone())
    }

    fn init(_: &str, e: Receive) -> Request {
        Request {
            cert_request: e.cert_request,
            info: e.info,
            requestor_ca: e.requestor_ca,
            ticket_given: e.ticket_given,
            signed: None,
            removed: false,
        }
    }

    fn process(&self, c: &RequestCommand) -> Result<Vec<RequestEvent>, String> {
        match c {
            // Signing again replaces the answer, as in Icinga: an operator
            // may do it when the first certificate was lost.
            RequestCommand::Sign(_) if self.removed => Err(format!(
                "the certificate request for CN '{}' was removed; restore it before signing",
                self.info.cn
            )),
            RequestCommand::Sign(s) => Ok(vec![RequestEvent::Signed(s.clone())]),
            RequestCommand::Remove if self.signed.is_some() => Err(format!(
                "Certificate request for CN '{}' already signed, removal is not possible.",
                self.info.cn
            )),
            RequestCommand::Remove if self.removed => Err(format!(
                "the certificate request for CN '{}' is already removed",
                self.info.cn
            )),
            RequestCommand::Remove => Ok(vec![RequestEvent::Removed]),
            RequestCommand::Restore if !self.removed => Err(format!(
                "the certificate request for CN '{}' is not removed",
                self.info.cn
            )),
            RequestCommand::Restore => Ok(vec![RequestEvent::Restored]),
        }
    }

    fn apply(&mut self, e: RequestEvent) {
        match e {
            RequestEvent::Signed(s) => self.signed = Some(s),
            RequestEvent::Removed => self.removed = true,
            RequestEvent::Restored => self.removed = false,
        }
    }
}
