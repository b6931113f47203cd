//! What to tell the operator when a plugin is not installed: Icinga only
//! says that exec failed; Picket names the package that provides it.

/// Plugins of Debian's monitoring-plugins-basic (read from the package's
/// file list, Debian 12).
const BASIC: &[&str] = &[
    "check_apt",
    "check_by_ssh",
    "check_clamd",
    "check_cluster",
    "check_dhcp",
    "check_disk",
    "check_dummy",
    "check_file_age",
    "check_ftp",
    "check_host",
    "check_http",
    "check_icmp",
    "check_ide_smart",
    "check_imap",
    "check_ircd",
    "check_jabber",
    "check_load",
    "check_log",
    "check_mrtg",
    "check_mrtgtraf",
    "check_nagios",
    "check_nntp",
    "check_nntps",
    "check_nt",
    "check_ntp",
    "check_ntp_peer",
    "check_ntp_time",
    "check_nwstat",
    "check_overcr",
    "check_ping",
    "check_pop",
    "check_procs",
    "check_real",
    "check_rta_multi",
    "check_sensors",
    "check_simap",
    "check_smtp",
    "check_spop",
    "check_ssh",
    "check_ssmtp",
    "check_swap",
    "check_tcp",
    "check_time",
    "check_udp",
    "check_ups",
    "check_users",
];

/// Plugins of Debian's monitoring-plugins-standard.
const STANDARD: &[&str] = &[
    "check_breeze",
    "check_curl",
    "check_dbi",
    "check_dig",
    "check_disk_smb",
    "check_dns",
    "check_flexlm",
    "check_fping",
    "check_game",
    "check_hpjd",
    "check_ifoperstatus",
    "check_ifstatus",
    "check_ldap",
    "check_ldaps",
    "check_mailq",
    "check_mysql",
    "check_mysql_query",
    "check_oracle",
    "check_pgsql",
    "check_radius",
    "check_rpc",
    "check_snmp",
    "check_wave",
];

/// A line for the long output of a check whose plugin `path` is missing.
pub fn hint(path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or(path);
    let package = if BASIC.contains(&name) {
        Some("monitoring-plugins-basic")
    } else if STANDARD.contains(&name) {
        Some("monitoring-plugins-standard")
    } else {
        None
    };
    match package {
        Some(p) => format!(
            "The plugin '{path}' is not installed. On Debian and Ubuntu it comes with the package {p} (or install monitoring-plugins for all of them)."
        ),
        None => format!(
            "The plugin '{path}' is not installed. Install the package that provides it (monitoring-plugins-contrib has many), or correct PluginDir / the command's path."
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_the_package() {
        assert!(
            super::hint("/usr/lib/nagios/plugins/check_http").contains("monitoring-plugins-basic")
        );
        assert!(super::hint("/usr/lib/nagios/plugins/check_snmp")
            .contains("monitoring-plugins-standard"));
        assert!(super::hint("/opt/check_custom").contains("'/opt/check_custom' is not installed"));
    }
}
