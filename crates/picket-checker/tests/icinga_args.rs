//! Command lines against the real Icinga 2: `fixtures/checker/args` holds a
//! configuration of 126 services, one per rule of arguments, macros and
//! environment, and what Icinga 2.13 gave each plugin (or why it did not
//! run it). Picket builds the same command lines from the same file.
//! Differences not fixed yet are listed, with the reason, in
//! `fixtures/checker/args/known-differences`; one that is fixed must be
//! removed from there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use picket_checker::command_line::build;
use serde_json::Value as Json;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/checker/args")
}

const ARGDUMP: &str = "/fixture/argdump";

fn json_text(v: &Json) -> String {
    match v {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What Picket does for one service, in the fixture's terms.
fn picket(loaded: &picket_model::Loaded, service: &str) -> Json {
    let reg = &loaded.registry;
    let svc = reg
        .find("Service", &format!("h1!{service}"))
        .expect("service");
    let (resolvers, command) = picket_checker::check::sources(reg, &svc).expect("objects");
    let get = |name: &str| command.get(name).unwrap_or_default();
    match build(
        &get("command"),
        &get("arguments"),
        &get("env"),
        &resolvers,
        &loaded.ctx,
    ) {
        Ok(line) => {
            let argv: Vec<Json> = line
                .argv
                .iter()
                .map(|a| Json::from(a.replace(ARGDUMP, "<ArgDump>")))
                .collect();
            let env: BTreeMap<String, String> = line
                .env
                .into_iter()
                .filter(|(k, _)| k != "DUMP_ID")
                .collect();
            if line.shell {
                return serde_json::json!({ "shell": argv[0], "env": env });
            }
            serde_json::json!({ "command": argv, "env": env })
        }
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    }
}

/// What Icinga did, in the same terms: the argv it ran (program first) and
/// the environment from `env`, or the error line of its UNKNOWN result.
fn icinga(expected: &Json) -> Json {
    if expected["argv"].is_null() {
        let output = json_text(&expected["output"]);
        let first = output.lines().next().unwrap_or_default();
        return serde_json::json!({ "error": first.strip_prefix("Error: ").unwrap_or(first) });
    }
    let mut argv = vec![Json::from("<ArgDump>")];
    argv.extend(expected["argv"].as_array().unwrap().iter().cloned());
    let env: BTreeMap<String, String> = expected["env"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), json_text(v))).collect())
        .unwrap_or_default();
    // A command given as one string ran through `sh -c`: Icinga records
    // that string, quoting included.
    if let Json::String(shell) = &expected["command"] {
        return serde_json::json!({ "shell": shell, "env": env });
    }
    serde_json::json!({ "command": argv, "env": env })
}

#[test]
fn command_lines_equal_icinga() {
    let dir = fixtures();
    let expected: BTreeMap<String, Json> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let known: BTreeMap<String, String> = std::fs::read_to_string(dir.join("known-differences"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, why) = l.split_once(' ').unwrap_or((l, ""));
            (name.to_string(), why.trim().to_string())
        })
        .collect();
    let options = picket_model::LoadOptions {
        config: dir.join("icinga2.conf"),
        include_dirs: Vec::new(),
        packages: None,
        defines: vec![("ArgDump".into(), ARGDUMP.into())],
    };
    let loaded = picket_model::load(&options, |_| {});
    assert!(
        loaded.errors.is_empty(),
        "{:?}",
        loaded.errors.first().map(|e| e.render(&loaded.ctx.sources))
    );
    let mut failures = Vec::new();
    let mut fixed = Vec::new();
    for (name, want) in &expected {
        let want = icinga(want);
        let got = picket(&loaded, name);
        match (got == want, known.contains_key(name)) {
            (false, false) => failures.push(format!("{name}:\n  icinga: {want}\n  picket: {got}")),
            (true, true) => fixed.push(name.clone()),
            _ => {}
        }
    }
    assert!(
        fixed.is_empty(),
        "fixed, remove from known-differences: {fixed:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        expected.len(),
        failures.join("\n")
    );
}
