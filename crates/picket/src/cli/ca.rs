//! `picket ca ...`: the certificate requests waiting at this CA, their
//! signing, removal and restoring, the CA's audit trail, and taking over
//! an Icinga 2 CA. Messages and the `list` layout are Icinga 2's.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use picket_pki::ca::{Approval, CA_ID, CA_STORE};
use picket_pki::cert;
use picket_pki::request::REQUEST_STORE;
use picket_pki::PkiError;

use super::pki::authority;
use crate::log;

#[derive(Subcommand, Debug)]
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
    match command {
        CaCommand::List { all, removed, json } => list(data_dir, all, removed, json),
        CaCommand::Sign { fingerprint } => sign(data_dir, &fingerprint),
        CaCommand::Remove { fingerprint } => remove(data_dir, &fingerprint),
        CaCommand::Restore { fingerprint } => restore(data_dir, &fingerprint),
        CaCommand::History { fingerprint, json } => {
            let (store, id) = match &fingerprint {
                Some(fp) => (REQUEST_STORE, fp.as_str()),
                None => (CA_STORE, CA_ID),
            };
            super::store::history(data_dir, store, id, json)
        }
        CaCommand::Import { from } => import(data_dir, &from),
    }
}

fn list(data_dir: &Path, all: bool, removed: bool, json: bool) -> anyhow::Result<ExitCode> {
    let authority = authority(data_dir)?;
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
        let mut out = serde_json::Map::new();
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
            out.insert(s.info.fingerprint.clone(), entry.into());
        }
        println!("{}", serde_json::Value::Object(out));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<64} | {:<24} | {:<6} | Subject",
        "Fingerprint", "Timestamp", "Signed"
    );
    println!(
        "{}|{}|{}|{}",
        "-".repeat(65),
        "-".repeat(26),
        "-".repeat(8),
        "-".repeat(8)
    );
    for r in &shown {
        let s = &r.state;
        println!(
            "{:<64} | {:<24} | {:<6} | {}",
            s.info.fingerprint,
            cert::time_text(s.info.not_before),
            if s.signed.is_some() { "*" } else { "" },
            s.info.subject
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A refusal of the CA or of a request is the operator's answer, not a
/// program error: printed as Icinga prints it, with exit code 1.
fn answer(result: Result<String, PkiError>) -> anyhow::Result<ExitCode> {
    match result {
        Ok(message) => {
            log::info("cli", &message);
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ (PkiError::NoRequest(_) | PkiError::Command(_) | PkiError::NoCa { .. })) => {
            log::critical("cli", &e.to_string());
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

fn sign(data_dir: &Path, fingerprint: &str) -> anyhow::Result<ExitCode> {
    let authority = authority(data_dir)?;
    answer(
        authority
            .sign_request(
                fingerprint,
                Approval::Operator,
                &super::operator(),
                cert::now(),
            )
            .and_then(|issued| {
                let info = cert::CertInfo::of(&issued)?;
                Ok(format!(
                    "Signed certificate for '{}' (serial {}).",
                    info.subject, info.serial
                ))
            }),
    )
}

fn remove(data_dir: &Path, fingerprint: &str) -> anyhow::Result<ExitCode> {
    let authority = authority(data_dir)?;
    answer(
        authority
            .remove_request(fingerprint, &super::operator())
            .map(|r| format!("Certificate request for CN {} removed.", r.cn)),
    )
}

fn restore(data_dir: &Path, fingerprint: &str) -> anyhow::Result<ExitCode> {
    let authority = authority(data_dir)?;
    answer(
        authority
            .restore_request(fingerprint, &super::operator())
            .map(|r| {
                format!(
                    "Restored certificate request for CN '{}', sign it with:\n\"picket ca sign {fingerprint}\"",
                    r.cn
                )
            }),
    )
}

fn import(data_dir: &Path, from: &Path) -> anyhow::Result<ExitCode> {
    let authority = authority(data_dir)?;
    let report = match authority.import_icinga(from, &super::operator()) {
        Ok(r) => r,
        Err(e @ (PkiError::CaExists { .. } | PkiError::Invalid(_))) => {
            log::critical("cli", &e.to_string());
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(e.into()),
    };
    match &report.ca {
        Some(info) => log::info(
            "cli",
            &format!(
                "Took over the CA '{}' (fingerprint {}, valid until {}) from {}.",
                info.subject,
                info.fingerprint,
                cert::time_text(info.not_after),
                from.display()
            ),
        ),
        None => log::info(
            "cli",
            "The CA was imported before; taking over what came since.",
        ),
    }
    for path in &report.certs {
        log::info("cli", &format!("Copied {}.", path.display()));
    }
    for path in &report.certs_kept {
        log::warning(
            "cli",
            &format!(
                "Kept {}: it differs from the file of the same name in {}.",
                path.display(),
                from.display()
            ),
        );
    }
    log::info(
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
        log::warning("cli", &format!("Skipped {}: {why}", path.display()));
    }
    Ok(ExitCode::SUCCESS)
}
