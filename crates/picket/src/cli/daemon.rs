//! `picket daemon`: today the validation (`-C`); the monitoring loop comes
//! with the scheduler.

use std::path::PathBuf;
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

pub fn run(args: DaemonArgs) -> anyhow::Result<ExitCode> {
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
    Err(anyhow::anyhow!("running the node is not implemented yet")).context("picket daemon")
}
