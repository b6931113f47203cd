//! `picket daemon`: validates the configuration (`-C`), or runs the node:
//! opens its data directory (upgrading the data format, checking and if
//! needed recovering every store) and holds it until it is told to stop.
//! The monitoring loop comes with the scheduler.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use picket_model::{LoadOptions, Loaded};

use super::{ConfigArgs, DaemonArgs};
use crate::log;

/// Turns the command-line options into load options.
pub fn load_options(args: &ConfigArgs) -> anyhow::Result<LoadOptions> {
    let mut defines = Vec::new();
    for d in &args.define {
        let Some((k, v)) = d.split_once('=') else {
            bail!("invalid -D argument '{d}': expected NAME=VALUE");
        };
        defines.push((k.to_string(), v.to_string()));
    }
    let config = match args.config.as_slice() {
        [] => {
            let dir = defines
                .iter()
                .find(|(k, _)| k == "ConfigDir")
                .map(|(_, v)| PathBuf::from(v))
                .unwrap_or_else(|| PathBuf::from("/etc/icinga2"));
            dir.join("icinga2.conf")
        }
        [one] => one.clone(),
        _ => bail!("only one configuration file (-c) is supported"),
    };
    Ok(LoadOptions {
        config,
        include_dirs: args.include.clone(),
        defines,
    })
}

/// Prints the errors of a failed load as Icinga does; errors of the commit
/// phase are followed by their count.
pub fn report_errors(loaded: &Loaded, committed: bool) {
    for e in &loaded.errors {
        log::critical("config", e.render(&loaded.ctx.sources).trim_end());
    }
    if committed {
        let n = loaded.errors.len();
        log::critical(
            "config",
            &format!("{n} error{}", if n == 1 { "" } else { "s" }),
        );
    }
}

/// `PICKET_FORCE_RECOVER=1` and the like.
fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

pub fn run(args: DaemonArgs, data_dir: &Path) -> anyhow::Result<ExitCode> {
    if env_flag("PICKET_UPGRADE_ONLY") && !args.validate {
        // Upgrading needs the data directory only, not a valid
        // configuration: it can run before the configuration is migrated.
        let (_dir, migration) = super::data_dir::open(data_dir)?;
        if migration.is_none() {
            log::info(
                "store",
                &format!(
                    "The data in {} is already in format {}; nothing to upgrade.",
                    data_dir.display(),
                    picket_store::FORMAT_VERSION
                ),
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let options = load_options(&args.config)?;
    log::info(
        "cli",
        &format!(
            "Picket application loader (version: {})",
            env!("CARGO_PKG_VERSION")
        ),
    );
    log::info("cli", "Loading configuration file(s).");
    if !options.config.exists() {
        log::critical(
            "config",
            &format!(
                "Error: Include file '{}' does not exist",
                options.config.display()
            ),
        );
        log::critical(
            "cli",
            "Config validation failed. Re-run with 'picket daemon -C' after fixing the config.",
        );
        return Ok(ExitCode::FAILURE);
    }
    let mut loaded = picket_model::run_files(&options, |r| log::record(&r));
    let committed = loaded.errors.is_empty();
    if committed {
        log::info("ConfigItem", "Committing config item(s).");
        loaded.commit();
    }
    if !loaded.errors.is_empty() {
        report_errors(&loaded, committed);
        log::critical(
            "cli",
            "Config validation failed. Re-run with 'picket daemon -C' after fixing the config.",
        );
        return Ok(ExitCode::FAILURE);
    }
    for (name, plural, n) in loaded.counts() {
        let word = if n == 1 { name } else { plural };
        log::info("ConfigItem", &format!("Instantiated {n} {word}."));
    }
    if args.validate {
        log::info("cli", "Finished validating the configuration file(s).");
        return Ok(ExitCode::SUCCESS);
    }
    let settings = StoreSettings::from_config(&loaded);
    let node_name = loaded
        .ctx
        .globals
        .get("NodeName")
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(picket_model::node_name);
    drop(loaded);
    run_node(data_dir, &settings, &node_name)
}

/// The `EventStore` object of the configuration, or its defaults.
struct StoreSettings {
    always_recover_data: bool,
    archive_threshold_days: u32,
}

impl StoreSettings {
    fn from_config(loaded: &Loaded) -> StoreSettings {
        let object = loaded.registry.committed("EventStore").into_iter().next();
        let get = |field: &str| object.as_ref().and_then(|o| o.get(field));
        StoreSettings {
            always_recover_data: get("always_recover_data").is_some_and(|v| v.to_bool()),
            archive_threshold_days: match get("archive_threshold_days") {
                Some(picket_lang::Value::Number(n)) if n > 0.0 => n.min(f64::from(u32::MAX)) as u32,
                _ => 0,
            },
        }
    }
}

/// How often the CA and this node's certificate are checked for renewal,
/// as in Icinga 2.
const RENEW_INTERVAL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Renews the CA certificate and this node's certificate when they near
/// their end. Only a node holding the CA key does this itself; the others
/// will ask their parent over the cluster.
fn renew_certificates(authority: &picket_pki::Authority, node_name: &str) {
    if !authority.has_ca_key() {
        return;
    }
    let actor = picket_store::Actor::new(format!("node:{node_name}"));
    let now = picket_pki::cert::now();
    match authority.renew_ca_if_due(&actor, now) {
        Ok(Some(info)) => log::info(
            "pki",
            &format!(
                "Renewed the CA certificate: new fingerprint {}, valid until {}.",
                info.fingerprint,
                picket_pki::cert::time_text(info.not_after)
            ),
        ),
        Ok(None) => {}
        Err(e) => log::critical("pki", &format!("Cannot renew the CA certificate: {e}")),
    }
    let (_, own) = picket_pki::node_files(&authority.certs_dir(), node_name);
    if !own.exists() {
        return;
    }
    match authority.node_certificate(node_name, &actor, now) {
        Ok(Some(info)) => log::info(
            "pki",
            &format!(
                "Renewed the certificate of '{node_name}': serial {}, valid until {}.",
                info.serial,
                picket_pki::cert::time_text(info.not_after)
            ),
        ),
        Ok(None) => {}
        Err(e) => log::critical(
            "pki",
            &format!("Cannot renew the certificate of '{node_name}': {e}"),
        ),
    }
}

fn run_node(
    data_dir: &Path,
    settings: &StoreSettings,
    node_name: &str,
) -> anyhow::Result<ExitCode> {
    let (dir, _) = super::data_dir::open(data_dir)?;
    let recover = env_flag("PICKET_FORCE_RECOVER") || settings.always_recover_data;
    if recover {
        log::info(
            "store",
            "Recovery mode: verifying every record of every store.",
        );
    }
    for report in dir.check_stores(recover)? {
        let line = format!(
            "Store '{}': {} aggregates, {} records replayed{}.",
            report.store,
            report.aggregates,
            report.replayed,
            match &report.snapshot {
                Some(s) => format!(" on top of its {s}"),
                None => String::new(),
            }
        );
        if !report.needs_attention() {
            log::info("store", &line);
            continue;
        }
        log::warning("store", &line);
        if let Some(failure) = &report.failure {
            log::warning(
                "store",
                &format!("Normal startup failed ({failure}); recovered."),
            );
        }
        for s in &report.set_aside {
            log::warning(
                "store",
                &format!("Set aside {}: {}", s.path.display(), s.reason),
            );
        }
        for (id, to, from) in &report.recovered_to {
            let to = to.map_or("not recovered".to_string(), |v| {
                format!("recovered to version {v}")
            });
            let from = from.map_or(String::new(), |f| {
                format!(", versions from {f} on set aside")
            });
            log::warning(
                "store",
                &format!("'{id}' in '{}': {to}{from}", report.store),
            );
        }
    }
    if settings.archive_threshold_days > 0 {
        for path in dir.archive(settings.archive_threshold_days)? {
            log::info("store", &format!("Archived {}.", path.display()));
        }
    }
    let (authority, _) = picket_pki::Authority::open(&dir, &picket_store::StoreOptions::default())
        .context("cannot open the CA stores")?;
    let authority = std::sync::Arc::new(authority);
    renew_certificates(&authority, node_name);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        // Handlers first: a stop request right after the line below must
        // find them in place.
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        log::info(
            "cli",
            &format!(
                "Picket node running with data directory {}.",
                data_dir.display()
            ),
        );
                                let control = tokio::spawn(super::control::serve(data_dir.to_path_buf(), authority.clone()));
        let mut renew =
            tokio::time::interval_at(tokio::time::Instant::now() + RENEW_INTERVAL, RENEW_INTERVAL);
                let mut control = std::pin::pin!(control);
        loop {
            tokio::select! {
                _ = int.recv() => break,
                _ = term.recv() => break,
                served = &mut control => {
                    let why = match served {
                        Ok(Err(e)) => e.to_string(),
                        _ => "it stopped".to_string(),
                    };
                    log::warning("cli", &format!("The control socket is not served ({why}); `picket ca` needs the node stopped."));
                    control.set(tokio::spawn(std::future::pending()));
                }
                _ = renew.tick() => {
                    let (authority, node) = (authority.clone(), node_name.to_string());
                    let _ = tokio::task::spawn_blocking(move || renew_certificates(&authority, &node)).await;
                }
            }
        }
        std::io::Result::Ok(())
    })?;
    log::info("cli", "Received a request to stop; shutting down.");
    drop(authority);
    drop(dir);
    Ok(ExitCode::SUCCESS)
}
