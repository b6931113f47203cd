//! The CA and its requests through the store: every step is recorded with
//! its actor, refusals included, and everything survives a restart; the CA
//! certificate and node certificates are renewed before they expire; files
//! and history are reconciled after a crash between the two.

use std::path::Path;

use picket_pki::ca::{Approval, Origin};
use picket_pki::cert::{self, CertInfo, Validity};
use picket_pki::{files, Authority, PkiError};
use picket_store::{Actor, DataDir, Effect, StoreOptions};

const DAY: i64 = 86_400;

fn open(dir: &Path) -> (DataDir, Authority) {
    let (data, _) = DataDir::open(dir).unwrap();
    let (authority, _) = Authority::open(&data, &StoreOptions::default()).unwrap();
    (data, authority)
}

fn self_signed(cn: &str) -> openssl::x509::X509 {
    let key = cert::new_key().unwrap();
    cert::self_signed(&key, cn, Validity::days_from(cert::now(), 397)).unwrap()
}

#[test]
fn requests_round_trip_and_survive_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let op = Actor::new("cli:alice");
    let peer = Actor::new("endpoint:agent2");
    let (fp_a, fp_b);
    {
        let (_data, ca) = open(tmp.path());
        ca.new_ca(&op, cert::now()).unwrap();
        let a = ca
            .receive_request(&self_signed("agent2"), None, false, &peer)
            .unwrap();
        let b = ca
            .receive_request(&self_signed("agent3"), None, true, &peer)
            .unwrap();
        fp_a = a.state.info.fingerprint.clone();
        fp_b = b.state.info.fingerprint.clone();
        // Receiving the same certificate again changes nothing.
        let again = ca
            .receive_request(
                &openssl::x509::X509::from_pem(a.state.cert_request.as_bytes()).unwrap(),
                None,
                false,
                &peer,
            )
            .unwrap();
        assert_eq!(again.version, 0);
        let signed = ca
            .sign_request(&fp_a, Approval::Operator, &op, cert::now())
            .unwrap();
        let ca_cert = files::read_cert(&ca.ca_dir().join("ca.crt")).unwrap();
        cert::verify_signed_by(&signed, &ca_cert).unwrap();
        assert_eq!(CertInfo::of(&signed).unwrap().cn, "agent2");
        // Icinga refuses to remove what it signed; the refusal is kept.
        let e = ca.remove_request(&fp_a, &op).unwrap_err();
        assert!(e.to_string().contains("already signed"), "{e}");
        ca.remove_request(&fp_b, &op).unwrap();
        let e = ca
            .sign_request(&fp_b, Approval::Operator, &op, cert::now())
            .unwrap_err();
        assert!(e.to_string().contains("removed"), "{e}");
        assert!(matches!(
            ca.remove_request("feedface", &op),
            Err(PkiError::NoRequest(_))
        ));
    }
    // A new process: the same state, from the store.
    let (data, ca) = open(tmp.path());
    let a = ca.request(&fp_a).unwrap();
    let b = ca.request(&fp_b).unwrap();
    assert!(a.state.signed.is_some() && !a.state.removed);
    assert!(b.state.removed && b.state.signed.is_none() && b.state.ticket_given);
    let record = ca.ca().unwrap();
    assert_eq!(record.state.origin, Origin::Created);
    let serial = &a.state.signed.as_ref().unwrap().serial;
    let issued = &record.state.issued[serial];
    assert_eq!(issued.approval, Approval::Operator);
    assert_eq!(issued.approved_by, "cli:alice");
    assert_eq!(issued.request.as_deref(), Some(fp_a.as_str()));

    ca.restore_request(&fp_b, &op).unwrap();
    assert!(ca.restore_request(&fp_b, &op).is_err());
    ca.sign_request(&fp_b, Approval::Operator, &op, cert::now())
        .unwrap();
    // Signing again replaces the answer (as `icinga2 ca sign` does).
    ca.sign_request(&fp_b, Approval::Operator, &op, cert::now())
        .unwrap();
    assert_eq!(ca.ca().unwrap().state.issued.len(), 3);
    drop(ca);
    drop(data);

    let h = picket_store::history(&tmp.path().join("store/certificate-requests"), &fp_b).unwrap();
    let steps: Vec<(&str, &str, bool)> = h
        .iter()
        .map(|e| {
            (
                e.command.label.as_str(),
                e.actor.as_str(),
                matches!(e.effect, Effect::Error(_)),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("receive", "endpoint:agent2", false),
            ("remove", "cli:alice", false),
            ("sign", "cli:alice", true),
            ("restore", "cli:alice", false),
            ("restore", "cli:alice", true),
            ("sign", "cli:alice", false),
            ("sign", "cli:alice", false),
        ]
    );
}

#[test]
fn ca_is_renewed_with_its_key_and_old_leaves_still_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let op = Actor::new("test");
    let (_data, ca) = open(tmp.path());
    // A CA made 14 years and 300 days ago: it expires within 397 days.
    let past = cert::now() - (14 * 365 + 300) * DAY;
    ca.new_ca(&op, past).unwrap();
    let old = files::read_cert(&ca.ca_dir().join("ca.crt")).unwrap();
    ca.node_certificate("master1", &op, cert::now()).unwrap();
    let leaf = files::read_cert(&ca.certs_dir().join("master1.crt")).unwrap();

    assert!(ca.renew_ca_if_due(&op, past + DAY).unwrap().is_none());
    let renewed = ca
        .renew_ca_if_due(&op, cert::now())
        .unwrap()
        .expect("renewed");
    assert!(renewed.not_after > cert::now() + 14 * 365 * DAY);
    let new = files::read_cert(&ca.ca_dir().join("ca.crt")).unwrap();
    assert_ne!(
        CertInfo::of(&new).unwrap().fingerprint,
        CertInfo::of(&old).unwrap().fingerprint
    );
    assert_eq!(
        files::read_cert(&ca.certs_dir().join("ca.crt"))
            .unwrap()
            .to_der()
            .unwrap(),
        new.to_der().unwrap()
    );
    // Same key and subject: what the old CA certificate signed verifies
    // against the new one, so no agent needs a new certificate.
    cert::verify_signed_by(&leaf, &new).unwrap();
    let state = ca.ca().unwrap();
    assert_eq!(state.state.previous.len(), 1);
    assert_eq!(state.state.info.fingerprint, renewed.fingerprint);
    assert!(ca.renew_ca_if_due(&op, cert::now()).unwrap().is_none());
}

#[test]
fn node_certificate_is_made_then_renewed_when_due() {
    let tmp = tempfile::tempdir().unwrap();
    let op = Actor::new("test");
    let (_data, ca) = open(tmp.path());
    ca.new_ca(&op, cert::now()).unwrap();
    // Made 380 days ago: 17 days left.
    let then = cert::now() - 380 * DAY;
    let made = ca
        .node_certificate("master1", &op, then)
        .unwrap()
        .expect("made");
    assert!(ca
        .node_certificate("master1", &op, then + DAY)
        .unwrap()
        .is_none());
    let key_before = std::fs::read(ca.certs_dir().join("master1.key")).unwrap();
    let renewed = ca
        .node_certificate("master1", &op, cert::now())
        .unwrap()
        .expect("renewed");
    assert_ne!(renewed.serial, made.serial);
    assert!(renewed.not_after > cert::now() + 390 * DAY);
    // Renewal keeps the key.
    assert_eq!(
        std::fs::read(ca.certs_dir().join("master1.key")).unwrap(),
        key_before
    );
    let issued = &ca.ca().unwrap().state.issued;
    assert_eq!(issued[&made.serial].approval, Approval::Setup);
    assert_eq!(issued[&renewed.serial].approval, Approval::Renewal);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(ca.certs_dir().join("master1.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn files_and_history_are_reconciled() {
    let tmp = tempfile::tempdir().unwrap();
    let op = Actor::new("test");
    // CA files without a history (a crash after the files were written).
    let key = cert::new_key().unwrap();
    let ca_cert = cert::new_ca_cert(&key, Validity::days_from(cert::now(), 5475)).unwrap();
    std::fs::create_dir_all(tmp.path().join("ca")).unwrap();
    files::write_key(&tmp.path().join("ca/ca.key"), &key).unwrap();
    files::write_cert(&tmp.path().join("ca/ca.crt"), &ca_cert).unwrap();
    {
        let (_data, ca) = open(tmp.path());
        assert!(ca.ca().is_none());
        ca.load_ca(&op).unwrap();
        assert_eq!(ca.ca().unwrap().state.origin, Origin::Adopted);
        // A renewal recorded, but the file not yet rewritten.
        let before = std::fs::read(ca.ca_dir().join("ca.crt")).unwrap();
        ca.renew_ca_if_due(&op, cert::now() + 5400 * DAY)
            .unwrap()
            .unwrap();
        std::fs::write(ca.ca_dir().join("ca.crt"), &before).unwrap();
    }
    let (_data, ca) = open(tmp.path());
    let keys = ca.load_ca(&op).unwrap();
    let on_disk = files::read_cert(&ca.ca_dir().join("ca.crt")).unwrap();
    assert_eq!(
        CertInfo::of(&on_disk).unwrap().fingerprint,
        ca.ca().unwrap().state.info.fingerprint
    );
    assert_eq!(keys.cert.to_der().unwrap(), on_disk.to_der().unwrap());
    // A key that does not belong to the certificate is refused.
    let other = cert::new_key().unwrap();
    files::write_key(&ca.ca_dir().join("ca.key"), &other).unwrap();
    let e = ca.load_ca(&op).err().unwrap();
    assert!(e.to_string().contains("does not belong"), "{e}");
}

mod answers {
    use super::*;
    use picket_pki::{IncomingRequest, STATUS_PENDING, STATUS_REFUSED, STATUS_SIGNED};

    const SALT: &str = "labsalt";

    fn ask(
        ca: &Authority,
        presented: &openssl::x509::X509,
        ticket: &str,
        now: i64,
    ) -> picket_pki::RequestAnswer {
        let request = IncomingRequest {
            presented,
            ticket,
            requestor_ca: None,
        };
        ca.answer_request(&request, SALT, &Actor::new("endpoint:test"), now)
            .unwrap()
    }

    #[test]
    fn a_valid_ticket_is_signed_at_once() {
        let tmp = tempfile::tempdir().unwrap();
        let (_data, ca) = open(tmp.path());
        ca.new_ca(&Actor::new("test"), cert::now()).unwrap();
        let presented = self_signed("agent1");
        // The vector of the lab: PBKDF2("agent1", "labsalt").
        let a = ask(
            &ca,
            &presented,
            "b6c403df3599325f5a7c1cdec0295483e299ee41",
            cert::now(),
        );
        assert_eq!(a.status_code, STATUS_SIGNED, "{a:?}");
        let issued = openssl::x509::X509::from_pem(a.cert.unwrap().as_bytes()).unwrap();
        let ca_cert = openssl::x509::X509::from_pem(a.ca.unwrap().as_bytes()).unwrap();
        cert::verify_signed_by(&issued, &ca_cert).unwrap();
        assert!(cert::has_public_key(
            &issued,
            &presented.public_key().unwrap()
        ));
        assert_eq!(CertInfo::of(&issued).unwrap().cn, "agent1");
        let record = ca.ca().unwrap();
        let i = &record.state.issued[&CertInfo::of(&issued).unwrap().serial];
        assert_eq!(
            (i.approval, i.approved_by.as_str()),
            (Approval::Ticket, "endpoint:test")
        );
        // Nothing waits for an operator.
        assert!(ca.requests().is_empty());

        let bad = ask(&ca, &self_signed("agent1"), "0000", cert::now());
        assert_eq!(bad.status_code, STATUS_REFUSED);
        assert_eq!(
            bad.error.as_deref(),
            Some("Invalid ticket for CN 'agent1'.")
        );
        // A ticket for another CN is no ticket for this one.
        let other = ask(
            &ca,
            &self_signed("agent2"),
            "b6c403df3599325f5a7c1cdec0295483e299ee41",
            cert::now(),
        );
        assert_eq!(other.status_code, STATUS_REFUSED);
    }

    #[test]
    fn without_a_ticket_the_request_waits_for_an_operator() {
        let tmp = tempfile::tempdir().unwrap();
        let (_data, ca) = open(tmp.path());
        let op = Actor::new("cli:alice");
        ca.new_ca(&op, cert::now()).unwrap();
        let presented = self_signed("agent2");
        let a = ask(&ca, &presented, "", cert::now());
        assert_eq!(a.status_code, STATUS_PENDING);
        assert_eq!(
            a.error.as_deref(),
            Some("Certificate request for CN 'agent2' is pending. Waiting for approval from the parent Icinga instance.")
        );
        let fp = a.fingerprint_request.clone().unwrap();
        assert_eq!(fp, cert::fingerprint(&presented).unwrap());
        assert!(a.ca.is_some() && a.cert.is_none());
        // Asking again changes nothing until an operator signs.
        assert_eq!(
            ask(&ca, &presented, "", cert::now()).status_code,
            STATUS_PENDING
        );
        assert_eq!(ca.request(&fp).unwrap().version, 0);
        let signed = ca
            .sign_request(&fp, Approval::Operator, &op, cert::now())
            .unwrap();
        let a = ask(&ca, &presented, "", cert::now());
        assert_eq!(a.status_code, STATUS_SIGNED);
        assert_eq!(a.cert.unwrap().as_bytes(), signed.to_pem().unwrap());

        // Removed by the operator: declined.
        let declined = self_signed("agent3");
        let fp = ask(&ca, &declined, "", cert::now())
            .fingerprint_request
            .unwrap();
        ca.remove_request(&fp, &op).unwrap();
        let a = ask(&ca, &declined, "", cert::now());
        assert_eq!(a.status_code, STATUS_REFUSED);
        assert_eq!(
            a.error.as_deref(),
            Some("Ticket for CN agent3 declined by administrator.")
        );
    }

    #[test]
    fn certificates_of_this_ca_are_renewed_only_when_due() {
        let tmp = tempfile::tempdir().unwrap();
        let (_data, ca) = open(tmp.path());
        ca.new_ca(&Actor::new("test"), cert::now()).unwrap();
        let first = ask(
            &ca,
            &self_signed("agent1"),
            "b6c403df3599325f5a7c1cdec0295483e299ee41",
            cert::now(),
        );
        let current = openssl::x509::X509::from_pem(first.cert.unwrap().as_bytes()).unwrap();
        let a = ask(&ca, &current, "", cert::now());
        assert_eq!(a.status_code, STATUS_REFUSED);
        assert_eq!(
            a.error.as_deref(),
            Some("The certificates for CN 'agent1' and its root CA are valid and uptodate. Skipping automated renewal.")
        );
        // 380 days on, 17 are left: renewed without a ticket.
        let later = cert::now() + 380 * DAY;
        let a = ask(&ca, &current, "", later);
        assert_eq!(a.status_code, STATUS_SIGNED, "{a:?}");
        let renewed = openssl::x509::X509::from_pem(a.cert.unwrap().as_bytes()).unwrap();
        let info = CertInfo::of(&renewed).unwrap();
        assert!(info.not_after > later + 390 * DAY);
        assert_eq!(
            ca.ca().unwrap().state.issued[&info.serial].approval,
            Approval::Renewal
        );
    }

    #[test]
    fn an_empty_salt_disables_automatic_signing() {
        let tmp = tempfile::tempdir().unwrap();
        let (_data, ca) = open(tmp.path());
        ca.new_ca(&Actor::new("test"), cert::now()).unwrap();
        let presented = self_signed("agent1");
        let request = IncomingRequest {
            presented: &presented,
            ticket: "b6c403df3599325f5a7c1cdec0295483e299ee41",
            requestor_ca: None,
        };
        let a = ca
            .answer_request(&request, "", &Actor::new("endpoint:agent1"), cert::now())
            .unwrap();
        assert_eq!(a.status_code, STATUS_PENDING);
        let r = ca.request(&a.fingerprint_request.unwrap()).unwrap();
        assert!(r.state.ticket_given);
        let json = serde_json::to_value(ask(&ca, &presented, "", cert::now())).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(keys, ["ca", "error", "fingerprint_request", "status_code"]);
    }
}
