//! The names of a package's files and the configuration Picket writes
//! into them. The generated files behave as Icinga's do (the same global
//! `ActiveStages`, the same `ActiveStageOverride` for validation runs),
//! so either program loads a package the other wrote.

pub const INCLUDE: &str = "include.conf";
pub const ACTIVE: &str = "active.conf";
pub const ACTIVE_STAGE: &str = "active-stage";
pub const STATUS: &str = "status";
pub const STARTUP_LOG: &str = "startup.log";
pub const CONF_D: &str = "conf.d";
pub const ZONES_D: &str = "zones.d";

/// A package's `include.conf`: runs every stage's, and only the active
/// stage's loads its files.
pub fn package_include() -> String {
    "// Every stage of this package; only the active one loads its files.\ninclude \"*/include.conf\"\n"
        .to_string()
}

/// A stage's `include.conf`: its files are loaded when the package's
/// active stage is this one. Names are checked (letters, digits, `_`,
/// `-`), so they can be quoted as they are.
pub fn stage_include(package: &str, stage: &str) -> String {
    format!(
        "// Stage {stage} of package '{package}'.\n\
         include \"../{ACTIVE}\"\n\
         \n\
         if (ActiveStages[\"{package}\"] == \"{stage}\") {{\n\
         \x20 include_recursive \"{CONF_D}\"\n\
         \x20 include_zones \"{package}\", \"{ZONES_D}\"\n\
         }}\n"
    )
}

/// A package's `active.conf`: records its active stage in the global
/// `ActiveStages`, unless `ActiveStageOverride` ("package:stage", set
/// while a new stage is validated) names another stage of it.
pub fn active(package: &str, stage: &str) -> String {
    format!(
        "// The active stage of package '{package}'.\n\
         if (!globals.contains(\"ActiveStages\")) {{\n\
         \x20 globals.ActiveStages = {{}}\n\
         }}\n\
         \n\
         if (globals.contains(\"ActiveStageOverride\")) {{\n\
         \x20 var parts = ActiveStageOverride.split(\":\")\n\
         \x20 if (parts[0] == \"{package}\") {{\n\
         \x20   if (parts.len() == 2) {{\n\
         \x20     ActiveStages[\"{package}\"] = parts[1]\n\
         \x20   }} else {{\n\
         \x20     log(LogCritical, \"config\", \"ActiveStageOverride must be 'package:stage'\")\n\
         \x20   }}\n\
         \x20 }}\n\
         }}\n\
         \n\
         if (!ActiveStages.contains(\"{package}\")) {{\n\
         \x20 ActiveStages[\"{package}\"] = \"{stage}\"\n\
         }}\n"
    )
}
