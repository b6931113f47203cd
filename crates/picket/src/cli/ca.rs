//! `picket ca ...`: the certificate requests waiting at this CA, their
//! signing, removal and restoring, the CA's audit trail, and taking over
//! an Icinga 2 CA. Messages and the `list` layout are Icinga 2's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use picket_pki::ca::{Approval, CA_ID, CA_STORE};
use picket_pki::request::REQUEST_STORE;
use picket_pki::{cert, Authority, PkiError};
use picket_store::Actor;
use serde::{Deserialize, Serialize};

use super::output::Output;

#[derive(Subcommand, Debug, Serialize, Deserialize)]
pub enum CaCommand {
    /// List pending certificate signing requests.
    List {
        /// Include signed requests.
        #[arg(long)]
        all: bool,
        /// List removed requests (for `ca restore`).
        #[arg(long)]
        removed: bool,
        #[arg(long)]
        json: bool,
    },
    /// Sign a certificate request.
    Sign { fingerprint: String },
    /// Decline a certificate request.
    Remove { fingerprint: String },
    /// Take back the removal of a certificate request.
    Restore { fingerprint: String },
    /// The audit trail of the CA, or of one certificate request.
    History {
        /// A request's fingerprint; without it, the CA's own history.
        fingerprint: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Take over an Icinga 2 CA: its key, certificate, serial counter,
    /// node certificates and certificate requests.
    Import {
        /// Icinga 2's data directory, holding `ca/`, `certs/` and
        /// `certificate-requests/`.
        #[arg(default_value = "/var/lib/icinga2")]
        from: PathBuf,
    },
}

pub fn run(command: CaCommand, data_dir: &Path) -> anyhow::Result<ExitCode> {
    if let CaCommand::History { fingerprint, json } = &command {
        // Reads the files only: works while the node runs.
        let (store, id) = match fingerprint {
            Some(fp) => (REQUEST_STORE, fp.as_str()),
            None => (CA_STORE, CA_ID),
        };
        return super::store::history(data_dir, store, id, *json);
    }
    let reply = super::control::with_authority(data_dir, super::control::Request::Ca(command))?;
    Ok(reply.print())
}

/// Carries out a command on the CA; the exit code is Icinga's.
pub fn execute(
    command: CaCommand,
    authority: &Authority,
    operator: &Actor,
    out: &mut Output,
) -> anyhow::Result<u8> {
    match command {
        CaCommand::List { all, removed, json } => list(authority, out, all, removed, json),
        CaCommand::Sign { fingerprint } => Ok(answer(
            out,
            authority
                .sign_request(&fingerprint, Approval::Operator, operator, cert::now())
                .and_then(|issued| {
                    let info = cert::CertInfo::of(&issued)?;
                    Ok(format!(
                        "Signed certificate for '{}' (serial {}).",
                        info.subject, info.serial
                    ))
                }),
        )?),
        CaCommand::Remove { fingerprint } => Ok(answer(
            out,
            authority
                .remove_request(&fingerprint, operator)
                .map(|r| format!("Certificate request for CN {} removed.", r.cn)),
        )?),
        CaCommand::Restore { fingerprint } => Ok(answer(
            out,
            authority.restore_request(&fingerprint, operator).map(|r| {
                format!(
                    "Restored certificate request for CN '{}', sign it with:\n\"picket ca sign {fingerprint}\"",
                    r.cn
                )
            }),
        )?),
        CaCommand::Import { from } => import(authority, operator, out, &from),
        CaCommand::History { .. } => {
            out.critical("cli", "ca history reads the files; it is not sent to the node");
            Ok(1)
        }
    }
}

fn list(
    authority: &Authority,
    out: &mut Output,
    all: bool,
    removed: bool,
    json: bool,
) -> anyhow::Result<u8> {
    let shown: Vec<_> = authority
        .requests()
        .into_iter()
        .filter(|r| {
            if removed {
                r.state.removed
            } else {
                !r.state.removed && (all || r.state.signed.is_none())
            }
        })
        .collect();
    if json {
        let mut map = serde_json::Map::new();
        for r in &shown {
            let s = &r.state;
            let mut entry = serde_json::Map::new();
            entry.insert("cert_request".into(), s.cert_request.clone().into());
            if let Some(signed) = &s.signed {
                entry.insert("cert_response".into(), signed.certificate.clone().into());
            }
            entry.insert("subject".into(), s.info.subject.clone().into());
            entry.insert(
                "timestamp".into(),
                cert::time_text(s.info.not_before).into(),
            );
            map.insert(s.info.fingerprint.clone(), entry.into());
        }
        out.println(&serde_json::Value::Object(map).to_string());
        return Ok(0);
    }
    out.println(&format!(
        "{:<64} | {:<24} | {:<6} | Subject",
        "Fingerprint", "Timestamp", "Signed"
    ));
    out.println(&format!(
        "{}|{}|{}|{}",
        "-".repeat(65),
        "-".repeat(26),
        "-".repeat(8),
        "-".repeat(8)
    ));
    for r in &shown {
        let s = &r.state;
        out.println(&format!(
            "{:<64} | {:<24} | {:<6} | {}",
            s.info.fingerprint,
            cert::time_text(s.info.not_before),
            if s.signed.is_some() { "*" } else { "" },
            s.info.subject
        ));
    }
    Ok(0)
}

/// A refusal of the CA or of a request is the operator's answer, not a
/// program error: printed as Icinga prints it, with exit code 1.
fn answer(out: &mut Output, result: Result<String, PkiError>) -> anyhow::Result<u8> {
    match result {
        Ok(message) => {
            out.info("cli", &message);
            Ok(0)
        }
        Err(e @ (PkiError::NoRequest(_) | PkiError::Command(_) | PkiError::NoCa { .. })) => {
            out.critical("cli", &e.to_string());
            Ok(1)
        }
        Err(e) => Err(e.into()),
    }
}

fn import(
    authority: &Authority,
    operator: &Actor,
    out: &mut Output,
    from: &Path,
) -> anyhow::Result<u8> {
    let report = match authority.import_icinga(from, operator) {
        Ok(r) => r,
        Err(e @ (PkiError::CaExists { .. } | PkiError::Invalid(_))) => {
            out.critical("cli", &e.to_string());
            return Ok(1);
        }
        Err(e) => return Err(e.into()),
    };
    match &report.ca {
        Some(info) => out.info(
            "cli",
            &format!(
                "Took over the CA '{}' (fingerprint {}, valid until {}) from {}.",
                info.subject,
                info.fingerprint,
                cert::time_text(info.not_after),
                from.display()
            ),
        ),
        None => out.info(
            "cli",
            "The CA was imported before; taking over what came since.",
        ),
    }
    for path in &report.certs {
        out.info("cli", &format!("Copied {}.", path.display()));
    }
    for path in &report.certs_kept {
        out.warning(
            "cli",
            &format!(
                "Kept {}: it differs from the file of the same name in {}.",
                path.display(),
                from.display()
            ),
        );
    }
    out.info(
        "cli",
        &format!(
            "Certificate requests: {} pending, {} signed, {} removed, {} taken over before.",
            report.requests_pending,
            report.requests_signed,
            report.requests_removed,
            report.requests_known
        ),
    );
    for (path, why) in &report.skipped {
        out.warning("cli", &format!("Skipped {}: {why}", path.display()));
    }
    Ok(0)
}
