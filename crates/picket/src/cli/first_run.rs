//! The first start of a standalone node: a configuration that monitors
//! this machine with the monitoring plugins, an API user with a random
//! password, and (once the data directory is open) the node's CA and
//! certificate. Later starts find all of it and change nothing.

use std::path::Path;

use anyhow::Context as _;

use crate::log;

/// Random hex, for passwords and the ticket salt.
fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    openssl::rand::rand_bytes(&mut buf).context("cannot draw random bytes")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn write(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    picket_pki::files::write(path, text.as_bytes(), mode)
        .with_context(|| format!("cannot write {}", path.display()))
}

const MAIN: &str = r#"/*
 * Picket's configuration of a standalone node, written on its first start.
 * It is Icinga 2's configuration language: edit it, check it with
 * `picket daemon -C`, and send the node SIGHUP (or run
 * `picket daemon --reload`) to switch to it without a restart.
 */

include "constants.conf"

/* The check commands of the template library and the monitoring plugins. */
include <itl>
include <plugins>

object IcingaApplication "app" { }

/* Runs the checks of this node. */
object CheckerComponent "checker" { }

object Endpoint NodeName { }

object Zone ZoneName {
  endpoints = [ NodeName ]
}

include "api-users.conf"
include "local.conf"

/* Features switched on with `picket api setup` (the REST API) and the like. */
include "features-enabled/*.conf"
"#;

const LOCAL: &str = r#"/*
 * This machine and what is checked on it. Intervals: every minute, every
 * 30 seconds while a problem is not yet confirmed.
 */

template Host "generic-host" {
  max_check_attempts = 3
  check_interval = 1m
  retry_interval = 30s
  check_command = "hostalive"
}

template Service "generic-service" {
  max_check_attempts = 5
  check_interval = 1m
  retry_interval = 30s
}

object Host NodeName {
  import "generic-host"
  address = "127.0.0.1"
  address6 = "::1"
  vars.os = "Linux"
}

/* The node's own health: uptime, check rates, states. */
object Service "picket" {
  import "generic-service"
  host_name = NodeName
  check_command = "icinga"
}

object Service "load" {
  import "generic-service"
  host_name = NodeName
  check_command = "load"
}

object Service "procs" {
  import "generic-service"
  host_name = NodeName
  check_command = "procs"
}

object Service "users" {
  import "generic-service"
  host_name = NodeName
  check_command = "users"
}

object Service "swap" {
  import "generic-service"
  host_name = NodeName
  check_command = "swap"
}

object Service "disk" {
  import "generic-service"
  host_name = NodeName
  check_command = "disk"
}

object Service "ping4" {
  import "generic-service"
  host_name = NodeName
  check_command = "ping4"
}
"#;

/// Writes the default configuration into `dir` (which holds no
/// `icinga2.conf`), and prints the API user's password once.
pub fn write_default_config(dir: &Path, node_name: &str) -> anyhow::Result<()> {
    picket_pki::files::create_dir(dir, 0o755)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let salt = random_hex(16)?;
    let quoted = |s: &str| picket_lang::json::encode(&picket_lang::Value::from(s));
    let constants = format!(
        "/* Where the monitoring plugins are (Debian's monitoring-plugins). */\n\
         const PluginDir = \"/usr/lib/nagios/plugins\"\n\
         const PluginContribDir = \"/usr/lib/nagios/plugins\"\n\
         const ManubulonPluginDir = \"/usr/lib/nagios/plugins\"\n\n\
         /* The name of this node, its zone, and the salt of its signing tickets. */\n\
         const NodeName = {node}\n\
         const ZoneName = NodeName\n\
         const TicketSalt = {salt}\n",
        node = quoted(node_name),
        salt = quoted(&salt),
    );
    write(&dir.join("constants.conf"), &constants, 0o644)?;
    write_api_user(&dir.join("api-users.conf"))?;
    write(&dir.join("local.conf"), LOCAL, 0o644)?;
    picket_pki::files::create_dir(&dir.join("features-enabled"), 0o755)
        .with_context(|| format!("cannot create {}", dir.join("features-enabled").display()))?;
    // The entry file last: its presence marks a complete configuration.
    write(&dir.join("icinga2.conf"), MAIN, 0o644)?;
    log::info(
        "cli",
        &format!(
            "First start: wrote a configuration monitoring this machine to {}.",
            dir.display()
        ),
    );
    Ok(())
}

/// Writes an `ApiUser` "root" with a random password to `path` (readable
/// by its owner only) and prints the password once.
pub fn write_api_user(path: &Path) -> anyhow::Result<()> {
    let password = random_hex(12)?;
    let quoted = picket_lang::json::encode(&picket_lang::Value::from(password.as_str()));
    let users = format!(
        "/* Readable by the node's owner only: it holds a password. */\n\
         object ApiUser \"root\" {{\n  password = {quoted}\n  permissions = [ \"*\" ]\n}}\n"
    );
    if let Some(dir) = path.parent() {
        picket_pki::files::create_dir(dir, 0o755)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write(path, &users, 0o600)?;
    println!(
        "API user 'root', password '{password}' (shown this once; kept in {}, readable by its owner only)",
        path.display()
    );
    Ok(())
}

/// Gives a standalone node a CA and a certificate of its own, once.
pub fn ensure_pki(authority: &picket_pki::Authority, node_name: &str) -> anyhow::Result<()> {
    let (_, own) = picket_pki::node_files(&authority.certs_dir(), node_name);
    if authority.ca().is_some() || own.exists() {
        return Ok(());
    }
    let actor = picket_store::Actor::new(format!("node:{node_name}"));
    let now = picket_pki::cert::now();
    let ca = authority
        .new_ca(&actor, now)
        .context("cannot create the CA")?;
    authority
        .node_certificate(node_name, &actor, now)
        .with_context(|| format!("cannot create the certificate of '{node_name}'"))?;
    log::info(
        "pki",
        &format!(
            "First start: created the CA (fingerprint {}) and the certificate of '{node_name}' in {}.",
            ca.fingerprint,
            authority.certs_dir().display()
        ),
    );
    Ok(())
}
