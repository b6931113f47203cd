//! `picket daemon`: validates the configuration (`-C`), or runs the node:
//! writes the default configuration on a first start, opens its data
//! directory (upgrading the data format, checking and if needed recovering
//! every store), and hands over to the monitoring loop ([`super::node`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context as _};
use picket_checker::scheduler::Config;
use picket_model::{LoadOptions, Loaded};

use super::{ConfigArgs, DaemonArgs};
use crate::log;

/// What the command line says to load.
pub struct Options {
    pub load: LoadOptions,
    pub config: super::paths::ConfigFile,
    pub pid_file: PathBuf,
    pub cache_dir: PathBuf,
}

/// Turns the command-line options into load options. The data directory
/// is the configuration's `DataDir` unless `-D DataDir` says otherwise.
pub fn load_options(args: &ConfigArgs, data_dir: &Path) -> anyhow::Result<Options> {
    let mut defines = Vec::new();
    for d in &args.define {
        let Some((k, v)) = d.split_once('=') else {
            bail!("invalid -D argument '{d}': expected NAME=VALUE");
        };
        defines.push((k.to_string(), v.to_string()));
    }
    let config = match args.config.as_slice() {
        [] => super::paths::config_file(None, &defines, data_dir),
        [one] => super::paths::config_file(Some(one), &defines, data_dir),
        _ => bail!("only one configuration file (-c) is supported"),
    };
    if super::paths::defined(&defines, "DataDir").is_none() {
        defines.push(("DataDir".into(), data_dir.display().to_string()));
    }
    let pid_file = super::paths::pid_file(&defines, data_dir);
    let cache_dir = super::paths::cache_dir(&defines, data_dir);
    Ok(Options {
        load: LoadOptions {
            config: config.path.clone(),
            include_dirs: args.include.clone(),
            defines,
            packages: Some(
                picket_packages::Packages::in_data_dir(data_dir)
                    .root()
                    .to_path_buf(),
            ),
        },
        config,
        pid_file,
        cache_dir,
    })
}

/// The errors of a failed load as Icinga prints them; errors of the commit
/// phase are followed by their count.
pub fn rendered_errors(loaded: &Loaded, committed: bool) -> Vec<String> {
    let mut out: Vec<String> = loaded
        .errors
        .iter()
        .map(|e| e.render(&loaded.ctx.sources).trim_end().to_string())
        .collect();
    if committed {
        let n = loaded.errors.len();
        out.push(format!("{n} error{}", if n == 1 { "" } else { "s" }));
    }
    out
}

/// Runs and commits the configuration; on failure, every error rendered.
pub fn load(options: &LoadOptions) -> Result<Loaded, Vec<String>> {
    if !options.config.exists() {
        return Err(vec![format!(
            "Error: Include file '{}' does not exist",
            options.config.display()
        )]);
    }
    let mut loaded = picket_model::run_files(options, |r| log::record(&r));
    let committed = loaded.errors.is_empty();
    if committed {
        loaded.commit();
    }
    if loaded.errors.is_empty() {
        Ok(loaded)
    } else {
        Err(rendered_errors(&loaded, committed))
    }
}

/// [`load`], ready for the checker.
pub fn load_config(options: &LoadOptions) -> Result<Config, Vec<String>> {
    load(options).map(|loaded| Config {
        registry: loaded.registry,
        ctx: Arc::new(loaded.ctx),
    })
}

/// The first line of a load (the node's start, `-C`, a stage's
/// validation).
pub fn loader_line() -> String {
    format!(
        "Picket application loader (version: {})",
        env!("CARGO_PKG_VERSION")
    )
}

pub fn loading_line(config: &Path) -> String {
    format!("Loading configuration file(s): {}", config.display())
}

/// The last line of a load that failed.
pub const VALIDATION_FAILED: &str =
    "Config validation failed. Re-run with 'picket daemon -C' after fixing the config.";

/// The `Instantiated N Hosts.` lines of a loaded configuration.
pub fn instantiated(registry: &picket_model::Registry) -> Vec<String> {
    picket_model::counts(registry)
        .into_iter()
        .map(|(name, plural, n)| {
            let word = if n == 1 { name } else { plural };
            format!("Instantiated {n} {word}.")
        })
        .collect()
}

/// `PICKET_FORCE_RECOVER=1` and the like.
fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

pub fn run(args: DaemonArgs, data_dir: &Path) -> anyhow::Result<ExitCode> {
    if args.reload {
        return match super::control::ask(data_dir, &super::control::Request::Reload) {
            Some(reply) => Ok(reply?.print()),
            None => bail!("no node runs on the data directory {}", data_dir.display()),
        };
    }
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
    let options = load_options(&args.config, data_dir)?;
    log::info("cli", &loader_line());
    let first_start = options.config.implicit && !options.config.path.exists();
    if first_start {
        let dir = options.config.path.parent().unwrap_or(Path::new("."));
        super::first_run::write_default_config(dir, &picket_model::node_name())?;
    }
    log::info("cli", &loading_line(&options.config.path));
    let loaded = match load(&options.load) {
        Ok(loaded) => loaded,
        Err(errors) => {
            for e in errors {
                log::critical("config", &e);
            }
            log::critical("cli", VALIDATION_FAILED);
            return Ok(ExitCode::FAILURE);
        }
    };
    for line in instantiated(&loaded.registry) {
        log::info("ConfigItem", &line);
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
    let config = Config {
        registry: loaded.registry,
        ctx: Arc::new(loaded.ctx),
    };
    run_node(
        data_dir,
        &settings,
        &node_name,
        super::node::Setup {
            config,
            options,
            first_start,
        },
    )
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

/// Renews the CA certificate and this node's certificate when they near
/// their end. Only a node holding the CA key does this itself; the others
/// will ask their parent over the cluster.
pub fn renew_certificates(authority: &picket_pki::Authority, node_name: &str) {
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
    setup: super::node::Setup,
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
    let authority = Arc::new(authority);
    if setup.first_start {
        super::first_run::ensure_pki(&authority, node_name)?;
    }
    renew_certificates(&authority, node_name);
    let (operations, _) = dir
        .store::<picket_model::operations::Operations>(
            picket_model::operations::STORE,
            &picket_store::StoreOptions::default(),
        )
        .context("cannot open the operations store")?;
    let (api_objects, _) = dir
        .store::<picket_model::api_objects::ApiObject>(
            picket_model::api_objects::STORE,
            &picket_store::StoreOptions::default(),
        )
        .context("cannot open the api-objects store")?;
    let mut setup = setup;
    super::configuration::ensure_api_package(data_dir);
    let objects = super::configuration::stored(&api_objects);
    if !objects.is_empty() {
        // The files loaded alone first (the stores' settings are in them);
        // now with what the API created and changed.
        let dir = super::configuration::package_dir(data_dir);
        match super::configuration::load(
            &setup.options.load,
            &dir,
            &objects,
            None,
            &super::configuration::LoadLog::Node,
        ) {
            Ok(config) => setup.config = config,
            Err(errors) => {
                for e in errors {
                    log::critical("config", &e);
                }
                bail!("the configuration does not load with the objects created through the API");
            }
        }
    }
    super::node::run(
        data_dir,
        node_name,
        authority,
        super::node::Stores {
            operations,
            api_objects,
        },
        setup,
    )?;
    drop(dir);
    Ok(ExitCode::SUCCESS)
}
