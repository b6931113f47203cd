//! `picket pki ...`: keys, certificates, requests and tickets, with Icinga
//! 2's options, messages and exit codes, so that setup scripts written for
//! `icinga2 pki` work with `picket pki`.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Subcommand;
use openssl::x509::X509;
use picket_pki::cert::{self, CertInfo, Validity};
use picket_pki::{files, Authority};
use picket_store::StoreOptions;

use super::ConfigArgs;
use crate::log;

#[derive(Subcommand, Debug)]
pub enum PkiCommand {
    /// Set up a new CA in the data directory.
    NewCa,
    /// Create a new key, and a certificate signing request and/or a
    /// self-signed certificate for it.
    NewCert {
        /// The common name: the node's Endpoint name.
        #[arg(long)]
        cn: Option<String>,
        /// Where the private key goes.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Where the certificate signing request goes.
        #[arg(long)]
        csr: Option<PathBuf>,
        /// Where the self-signed certificate goes.
        #[arg(long)]
        cert: Option<PathBuf>,
    },
    /// Sign a certificate signing request with the CA of the data directory.
    SignCsr {
        #[arg(long)]
        csr: Option<PathBuf>,
        /// Where the signed certificate goes.
        #[arg(long)]
        cert: Option<PathBuf>,
    },
    /// Compute the signing ticket of a common name.
    Ticket {
        #[arg(long)]
        cn: Option<String>,
        /// The ticket salt (default: the TicketSalt constant of the
        /// configuration).
        #[arg(long)]
        salt: Option<String>,
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Print a certificate; check its CN, that a CA signed it, or that a
    /// certificate is a CA.
    Verify {
        #[arg(long)]
        cn: Option<String>,
        #[arg(long)]
        cert: Option<PathBuf>,
        #[arg(long)]
        cacert: Option<PathBuf>,
    },
    /// Fetch another node's certificate (to trust it on first use).
    SaveCert {
        #[arg(long)]
        host: Option<String>,
        #[arg(long, default_value = "5665")]
        port: u16,
        /// Where the fetched certificate goes.
        #[arg(long)]
        trustedcert: Option<PathBuf>,
    },
}

/// Icinga's CLI exits 1 after a failed check of its arguments or input.
fn fail(message: &str) -> anyhow::Result<ExitCode> {
    log::critical("cli", message);
    Ok(ExitCode::FAILURE)
}

pub fn run(command: PkiCommand, data_dir: &Path) -> anyhow::Result<ExitCode> {
    match command {
        PkiCommand::NewCa => new_ca(data_dir),
        PkiCommand::NewCert { cn, key, csr, cert } => new_cert(cn, key, csr, cert),
        PkiCommand::SignCsr { csr, cert } => sign_csr(data_dir, csr, cert),
        PkiCommand::Ticket { cn, salt, config } => ticket(cn, salt, &config, data_dir),
        PkiCommand::Verify { cn, cert, cacert } => verify(cn, cert, cacert),
        PkiCommand::SaveCert {
            host,
            port,
            trustedcert,
        } => save_cert(host, port, trustedcert),
    }
}

/// Opens the data directory and the CA's stores.
pub fn authority(data_dir: &Path) -> anyhow::Result<Authority> {
    let (dir, _) = super::data_dir::open(data_dir)?;
    let (authority, _) = Authority::open(&dir, &StoreOptions::default())
        .with_context(|| format!("cannot open the CA stores in {}", data_dir.display()))?;
    Ok(authority)
}

fn new_ca(data_dir: &Path) -> anyhow::Result<ExitCode> {
    let authority = authority(data_dir)?;
    match authority.new_ca(&super::operator(), cert::now()) {
        Ok(info) => {
            let dir = authority.ca_dir();
            log::info(
                "pki",
                &format!("Writing private key to '{}'.", dir.join("ca.key").display()),
            );
            log::info(
                "pki",
                &format!(
                    "Writing X509 certificate to '{}' (fingerprint {}).",
                    dir.join("ca.crt").display(),
                    info.fingerprint
                ),
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e @ picket_pki::PkiError::CaExists { .. }) => {
            log::warning("cli", &format!("{e}."));
            Ok(ExitCode::FAILURE)
        }
        Err(e) => Err(e.into()),
    }
}

fn new_cert(
    cn: Option<String>,
    key: Option<PathBuf>,
    csr: Option<PathBuf>,
    cert_file: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let Some(cn) = cn else {
        return fail("Common name (--cn) must be specified.");
    };
    let Some(key_file) = key else {
        return fail("Key file path (--key) must be specified.");
    };
    if csr.is_none() && cert_file.is_none() {
        return fail("At least one of --csr and --cert must be specified.");
    }
    let key = cert::new_key()?;
    files::write_key(&key_file, &key)?;
    log::info(
        "base",
        &format!("Writing private key to '{}'.", key_file.display()),
    );
    if let Some(path) = csr {
        files::write_csr(&path, &cert::new_csr(&key, &cn)?)?;
        log::info(
            "base",
            &format!(
                "Writing certificate signing request to '{}'.",
                path.display()
            ),
        );
    }
    if let Some(path) = cert_file {
        let validity = Validity::days_from(cert::now(), cert::LEAF_VALID_DAYS);
        files::write_cert(&path, &cert::self_signed(&key, &cn, validity)?)?;
        log::info(
            "base",
            &format!("Writing X509 certificate to '{}'.", path.display()),
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn sign_csr(
    data_dir: &Path,
    csr: Option<PathBuf>,
    cert_file: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let Some(csr) = csr else {
        return fail("Certificate signing request (--csr) must be specified.");
    };
    let Some(cert_file) = cert_file else {
        return fail("Certificate file path (--cert) must be specified.");
    };
    super::control::sign_csr(data_dir, &csr, &cert_file)
}

/// The `TicketSalt` constant of the configuration, as Icinga's CLI finds
/// it in the variables the daemon last saw.
fn configured_salt(config: &ConfigArgs, data_dir: &Path) -> Option<String> {
    let options = super::daemon::load_options(config, data_dir).ok()?.load;
    if !options.config.exists() {
        return None;
    }
    let loaded = picket_model::run_files(&options, |_| {});
    loaded
        .ctx
        .globals
        .get("TicketSalt")
        .and_then(|v| v.as_str().map(str::to_string))
}

fn ticket(
    cn: Option<String>,
    salt: Option<String>,
    config: &ConfigArgs,
    data_dir: &Path,
) -> anyhow::Result<ExitCode> {
    let Some(cn) = cn else {
        return fail("Common name (--cn) must be specified.");
    };
    let salt = salt
        .or_else(|| configured_salt(config, data_dir))
        .filter(|s| !s.is_empty());
    let Some(salt) = salt else {
        return fail("Ticket salt (--salt) must be specified.");
    };
    println!("{}", picket_pki::ticket::ticket(&cn, &salt)?);
    Ok(ExitCode::SUCCESS)
}

/// The certificate as Icinga's `pki verify` prints it.
fn print_cert(cert: &X509) -> anyhow::Result<()> {
    let info = CertInfo::of(cert)?;
    let serial: Vec<String> = info
        .serial
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let fingerprint = cert.digest(openssl::hash::MessageDigest::sha256())?;
    let fingerprint: Vec<String> = fingerprint.iter().map(|b| format!("{b:02X}")).collect();
    let san: Vec<String> = cert
        .subject_alt_names()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.dnsname().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let algorithm = cert.signature_algorithm().object().nid().long_name()?;
    println!();
    println!(" Version:             {}", cert.version() + 1);
    println!(" Subject:             {}", info.subject);
    println!(" Issuer:              {}", info.issuer);
    println!(" Valid From:          {}", cert::time_text(info.not_before));
    println!(" Valid Until:         {}", cert::time_text(info.not_after));
    println!(" Serial:              {}", serial.join(":"));
    println!();
    println!(" Signature Algorithm: {algorithm}");
    println!(" Subject Alt Names:   {}", san.join(" "));
    println!(" Fingerprint:         {} ", fingerprint.join(" "));
    println!();
    Ok(())
}

fn verify(
    cn: Option<String>,
    cert_file: Option<PathBuf>,
    cacert: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    const CRITICAL: u8 = 2;
    let Some(cert_file) = cert_file else {
        let Some(cacert) = cacert else {
            return fail("Please add the '--cert' or '--cacert' option.");
        };
        log::info(
            "cli",
            &format!(
                "Checking whether certificate '{}' is a valid CA certificate.",
                cacert.display()
            ),
        );
        let ca = files::read_cert(&cacert)?;
        print_cert(&ca)?;
        if !cert::is_ca(&ca) {
            log::critical(
                "cli",
                &format!(
                    "CRITICAL: The file '{}' does not seem to be a CA certificate file.",
                    cacert.display()
                ),
            );
            return Ok(ExitCode::from(CRITICAL));
        }
        log::info(
            "cli",
            &format!(
                "OK: CA certificate file '{}' was verified successfully.",
                cacert.display()
            ),
        );
        return Ok(ExitCode::SUCCESS);
    };
    let cert = files::read_cert(&cert_file)?;
    let info = CertInfo::of(&cert)?;
    if let Some(cn) = &cn {
        log::info(
            "cli",
            &format!(
                "Verifying common name (CN) '{cn} in certificate '{}'.",
                cert_file.display()
            ),
        );
        print_cert(&cert)?;
        if *cn != info.cn {
            log::critical(
                "cli",
                &format!(
                    "CRITICAL: CN '{cn}' does NOT match certificate CN '{}'.",
                    info.cn
                ),
            );
            return Ok(ExitCode::from(CRITICAL));
        }
        log::info(
            "cli",
            &format!("OK: CN '{cn}' matches certificate CN '{}'.", info.cn),
        );
    }
    if let Some(cacert) = &cacert {
        log::info(
            "cli",
            &format!("Verifying certificate '{}'", cert_file.display()),
        );
        print_cert(&cert)?;
        let ca = files::read_cert(cacert)?;
        log::info(
            "cli",
            &format!(" with CA certificate '{}'.", cacert.display()),
        );
        print_cert(&ca)?;
        if let Err(why) = cert::verify_signed_by(&cert, &ca) {
            log::critical(
                "cli",
                &format!(
                    "CRITICAL: Certificate with CN '{}' is NOT signed by CA: {why}",
                    info.cn
                ),
            );
            return Ok(ExitCode::from(CRITICAL));
        }
        log::info(
            "cli",
            &format!("OK: Certificate with CN '{}' is signed by CA.", info.cn),
        );
    }
    if cn.is_none() && cacert.is_none() {
        log::info(
            "cli",
            &format!("Printing certificate '{}'", cert_file.display()),
        );
        print_cert(&cert)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn save_cert(
    host: Option<String>,
    port: u16,
    trustedcert: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let Some(host) = host else {
        return fail("Icinga 2 host (--host) must be specified.");
    };
    let Some(trustedcert) = trustedcert else {
        return fail("Trusted certificate output file path (--trustedcert) must be specified.");
    };
    let cert = fetch_cert(&host, port)
        .with_context(|| format!("cannot fetch the certificate of {host}:{port}"))?;
    files::write_cert(&trustedcert, &cert)?;
    let info = CertInfo::of(&cert)?;
    log::info(
        "pki",
        &format!(
            "Writing certificate to file '{}' (CN '{}', fingerprint {}).",
            trustedcert.display(),
            info.cn,
            info.fingerprint
        ),
    );
    Ok(ExitCode::SUCCESS)
}

/// Connects without checking anything and returns the leaf certificate the
/// peer presents: this is trust on first use, and the caller is expected to
/// compare the fingerprint out of band.
fn fetch_cert(host: &str, port: u16) -> anyhow::Result<X509> {
    use std::net::ToSocketAddrs;
    let timeout = Duration::from_secs(15);
    let mut last = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(tcp) => {
                tcp.set_read_timeout(Some(timeout))?;
                tcp.set_write_timeout(Some(timeout))?;
                let mut b = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls())?;
                b.set_verify(openssl::ssl::SslVerifyMode::NONE);
                let connector = b.build();
                let mut config = connector.configure()?;
                config.set_verify_hostname(false);
                config.set_use_server_name_indication(true);
                let stream = config
                    .connect(host, tcp)
                    .map_err(|e| anyhow::anyhow!("TLS handshake failed: {e}"))?;
                let Some(cert) = stream.ssl().peer_certificate() else {
                    bail!("the peer presented no certificate");
                };
                return Ok(cert);
            }
            Err(e) => last = Some(e),
        }
    }
    match last {
        Some(e) => Err(e.into()),
        None => bail!("'{host}' has no address"),
    }
}
