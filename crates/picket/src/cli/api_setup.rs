//! `picket api setup`: what Icinga 2's `api setup` does — this node's CA
//! and certificate when missing, an `ApiUser` "root" with a random
//! password, and the `api` feature (an `ApiListener`) enabled.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use super::{first_run, paths, ConfigArgs};
use crate::log;

#[derive(clap::Subcommand, Debug)]
pub enum ApiCommand {
    /// Enable the REST API: CA, node certificate, API user, ApiListener.
    Setup {
        /// The node's common name (default: this machine's name).
        #[arg(long)]
        cn: Option<String>,
        #[command(flatten)]
        config: ConfigArgs,
    },
}

const API_FEATURE: &str = "/*
 * The REST API and cluster port (5665 unless bind_port says otherwise).
 * Written by `picket api setup`.
 */
object ApiListener \"api\" {
  ticket_salt = TicketSalt
}
";

pub fn run(command: ApiCommand, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let ApiCommand::Setup { cn, config } = command;
    let cn = cn.unwrap_or_else(picket_model::node_name);
    let defines: Vec<(String, String)> = config
        .define
        .iter()
        .filter_map(|d| {
            d.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    let (dir, _) = super::data_dir::open(data_dir)?;
    let (authority, _) = picket_pki::Authority::open(&dir, &picket_store::StoreOptions::default())
        .context("cannot open the CA stores")?;
    let actor = super::operator();
    let now = picket_pki::cert::now();
    if authority.ca().is_none() {
        let ca = authority
            .new_ca(&actor, now)
            .context("cannot create the CA")?;
        log::info(
            "cli",
            &format!("Created the CA (fingerprint {}).", ca.fingerprint),
        );
    } else {
        log::info("cli", "The CA exists already; it is kept.");
    }
    let (_, own) = picket_pki::node_files(&authority.certs_dir(), &cn);
    if own.exists() {
        log::info(
            "cli",
            &format!(
                "The certificate of '{cn}' exists already in {}.",
                own.display()
            ),
        );
    } else {
        authority
            .node_certificate(&cn, &actor, now)
            .with_context(|| format!("cannot create the certificate of '{cn}'"))?;
        log::info(
            "cli",
            &format!("Created the certificate of '{cn}': {}.", own.display()),
        );
    }
    let file = paths::config_file(
        config.config.first().map(|p| p.as_path()),
        &defines,
        data_dir,
    );
    let conf_dir = file.path.parent().unwrap_or(Path::new(".")).to_path_buf();
    // Icinga's layout: the feature file and its link in features-enabled/
    // (Picket's own configuration includes that directory too).
    let available = conf_dir.join("features-available");
    let enabled = conf_dir.join("features-enabled");
    let feature = available.join("api.conf");
    if !feature.exists() {
        picket_pki::files::create_dir(&available, 0o755)
            .with_context(|| format!("cannot create {}", available.display()))?;
        picket_pki::files::write(&feature, API_FEATURE.as_bytes(), 0o644)
            .with_context(|| format!("cannot write {}", feature.display()))?;
    }
    picket_pki::files::create_dir(&enabled, 0o755)
        .with_context(|| format!("cannot create {}", enabled.display()))?;
    let link = enabled.join("api.conf");
    if std::fs::symlink_metadata(&link).is_err() {
        std::os::unix::fs::symlink("../features-available/api.conf", &link)
            .with_context(|| format!("cannot enable the api feature in {}", link.display()))?;
        log::info("cli", "Enabled the 'api' feature.");
    }
    let users = conf_dir.join("conf.d").join("api-users.conf");
    let own_users = conf_dir.join("api-users.conf");
    if !users.exists() && !own_users.exists() {
        first_run::write_api_user(&users)?;
    }
    log::info(
        "cli",
        "Done. Restart the node (or reload it) for the API to listen.",
    );
    Ok(ExitCode::SUCCESS)
}
