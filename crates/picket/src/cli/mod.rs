//! Command-line definitions and dispatch.

mod api;
mod api_setup;
mod ca;
mod configuration;
mod control;
mod daemon;
mod data_dir;
mod first_run;
mod node;
mod object;
mod operator;
mod output;
mod paths;
mod pki;
mod store;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "picket",
    version,
    about = "A monitoring node that is a drop-in for Icinga 2"
)]
pub struct Cli {
    /// The data directory: the CA, the certificates and the event-sourced
    /// store (default: /var/lib/picket for root, ~/.local/share/picket
    /// otherwise).
    #[arg(
        long = "data-dir",
        env = "PICKET_DATA_DIR",
        global = true,
        value_name = "DIR"
    )]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the node, or validate its configuration with -C.
    Daemon(DaemonArgs),
    /// Verify, read the history of, or back up the event-sourced store.
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// Keys, certificates, signing requests and tickets.
    #[command(subcommand)]
    Pki(pki::PkiCommand),
    /// Certificate requests at this node's CA, and its audit trail.
    #[command(subcommand)]
    Ca(ca::CaCommand),
    /// The objects of the configuration with their live state.
    #[command(subcommand)]
    Object(object::ObjectCommand),
    /// The REST API: `api setup` enables it.
    #[command(subcommand)]
    Api(api_setup::ApiCommand),
}

/// Options shared by every command that loads the configuration, spelled as
/// Icinga 2 spells them.
#[derive(Args, Debug, Clone)]
pub struct ConfigArgs {
    /// The configuration file (default: ConfigDir/icinga2.conf).
    #[arg(short = 'c', long = "config")]
    pub config: Vec<PathBuf>,
    /// Put a directory first on the `include <...>` search path.
    #[arg(short = 'I', long = "include")]
    pub include: Vec<PathBuf>,
    /// Define a constant: NAME=VALUE.
    #[arg(short = 'D', long = "define")]
    pub define: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DaemonArgs {
    /// Validate the configuration and exit.
    #[arg(short = 'C', long = "validate")]
    pub validate: bool,
    /// Ask the running node to load its configuration again; it keeps
    /// running the old one if the new one has errors.
    #[arg(long = "reload", conflicts_with = "validate")]
    pub reload: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let given = cli.data_dir.or_else(|| match &cli.command {
        Command::Daemon(args) => data_dir::from_defines(&args.config.define),
        Command::Object(object::ObjectCommand::List(args)) => {
            data_dir::from_defines(&args.config.define)
        }
        Command::Api(api_setup::ApiCommand::Setup { config, .. }) => {
            data_dir::from_defines(&config.define)
        }
        _ => None,
    });
    let data_dir = data_dir::resolve(given);
    match cli.command {
        Command::Daemon(args) => daemon::run(args, &data_dir),
        Command::Store(command) => store::run(command, &data_dir),
        Command::Pki(command) => pki::run(command, &data_dir),
        Command::Ca(command) => ca::run(command, &data_dir),
        Command::Object(command) => object::run(command, &data_dir),
        Command::Api(command) => api_setup::run(command, &data_dir),
    }
}

/// The actor recorded for commands given on this command line: the user
/// running it, as the audit trail should name them.
pub fn operator() -> picket_store::Actor {
    // SAFETY: getuid has no preconditions and cannot fail.
    operator_of(unsafe { libc::getuid() })
}

/// The actor for a command given by the user `uid`.
pub fn operator_of(uid: u32) -> picket_store::Actor {
    // SAFETY: getpwuid returns null or a pointer to a static record that
    // stays valid until the next call on this thread; it is copied at once.
    let name = unsafe {
        let pw = libc::getpwuid(uid);
        if pw.is_null() || (*pw).pw_name.is_null() {
            None
        } else {
            Some(
                std::ffi::CStr::from_ptr((*pw).pw_name)
                    .to_string_lossy()
                    .into_owned(),
            )
        }
    };
    let name = name.unwrap_or_else(|| format!("uid {uid}"));
    picket_store::Actor::new(format!("cli:{name}"))
}
