//! Built-in checks against the real Icinga 2 (`fixtures/checker/builtin`):
//! `dummy`, `passive`, `sleep` and `exception`, on services and hosts,
//! `ido` and `icingadb` without their databases, `cluster` and
//! `cluster-zone` with and without an ApiListener, and `icinga` with one,
//! with the values and texts Icinga 2.13 recorded. (`random` and `null`
//! come with the scheduler.)

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use picket_checker::check::{self, CheckResult};
use picket_checker::stats::Stats;
use picket_checker::NodeFacts;
use picket_model::cluster::ListenerState;
use picket_model::event::Bus;
use picket_model::monitor::Monitor;
use serde_json::{json, Value as Json};

const COVERED: &[&str] = &[
    "dummy-",
    "passive-",
    "sleep-",
    "exception-",
    "host:host-dummy-",
    "ido-",
    "icingadb-",
    "cluster-",
    "icinga-with-api",
];

/// The configuration variants the fixtures were recorded with (the
/// `random` one needs a running scheduler).
const VARIANTS: &[&str] = &["standalone", "api-satellite", "api-alone"];

/// Runs every covered case of `variant` on a node loaded from the
/// fixtures' configuration: inline checks against a real monitor,
/// checker statistics and listener state, the others as processes.
async fn run_variant(
    dir: &Path,
    data: &Path,
    variant: &str,
    expected: &BTreeMap<String, Json>,
) -> Vec<(String, CheckResult)> {
    let options = picket_model::LoadOptions {
        config: dir.join("icinga2.conf"),
        include_dirs: Vec::new(),
        packages: None,
        defines: vec![
            ("PktVariant".into(), variant.into()),
            ("PktApiPort".into(), "1".into()),
            ("PktSpoolDir".into(), "/nonexistent".into()),
            ("DataDir".into(), data.display().to_string()),
        ],
    };
    let loaded = picket_model::load(&options, |_| {});
    assert!(
        loaded.errors.is_empty(),
        "{:?}",
        loaded.errors.first().map(|e| e.render(&loaded.ctx.sources))
    );
    let reg = &loaded.registry;
    let monitor = Monitor::build(reg, Bus::default());
    let stats = Stats::default();
    let listener = ListenerState::default();
    let facts = NodeFacts {
        uptime: 10.0,
        registry: Some(reg),
        identity: "picket-node",
        checker: Some((&monitor, &stats)),
        listener: Some(&listener),
        ..Default::default()
    };
    let mut done = Vec::new();
    let mut runs = tokio::task::JoinSet::new();
    for (name, want) in expected {
        if !COVERED.iter().any(|p| name.starts_with(p)) || want["variant"] != variant {
            continue;
        }
        let checkable = match name.strip_prefix("host:") {
            Some(h) => reg.find("Host", h).expect("host"),
            None => ["h1", "h2"]
                .iter()
                .find_map(|h| reg.find("Service", &format!("{h}!{name}")))
                .unwrap_or_else(|| panic!("no service {name}")),
        };
        let plan = check::plan(reg, &loaded.ctx, &checkable).unwrap();
        match check::run_inline(plan, &facts) {
            Ok(r) => done.push((name.clone(), r)),
            Err(plan) => {
                let name = name.clone();
                runs.spawn(async move { (name, check::execute(plan).await) });
            }
        }
    }
    while let Some(r) = runs.join_next().await {
        done.push(r.unwrap());
    }
    done
}

/// The result as the fixtures record it, figures Icinga's run could not
/// fix (`<number>`, `<uptime>`, ...) taken from `want`.
fn comparable(r: &CheckResult, want: &Json) -> Json {
    let mut perf = serde_json::to_value(&r.performance_data).unwrap();
    if let (Some(got), Some(want)) = (perf.as_array_mut(), want["performance_data"].as_array()) {
        for (g, w) in got.iter_mut().zip(want) {
            if w["value"].as_str().is_some_and(|v| v.starts_with('<')) && g["value"].is_number() {
                g["value"] = w["value"].clone();
            }
        }
    }
    let running = regex_free_running(&r.output);
    // As the API shows it: null where the check never set performance
    // data.
    let perf_null = r.performance_data.is_empty() && (r.bare || r.without_perfdata);
    json!({ "state": r.state, "exit_status": r.exit_status, "output": running, "perf": plain(&perf), "bare": r.bare, "perf_null": perf_null })
}

/// Performance data without Icinga's `type` key, numbers as floats: the
/// fields compared.
fn plain(perf: &Json) -> Json {
    fn number(v: &Json) -> Json {
        v.as_f64().map_or_else(|| v.clone(), |n| json!(n))
    }
    match perf {
        Json::Array(items) => Json::Array(items.iter().map(plain).collect()),
        Json::Object(fields) => Json::Object(
            fields
                .iter()
                .filter(|(k, _)| *k != "type")
                .map(|(k, v)| (k.clone(), number(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `icinga`'s output with the uptime and version as the fixtures mask
/// them.
fn regex_free_running(output: &str) -> String {
    match output.strip_prefix("Icinga 2 has been running for ") {
        Some(rest) => match rest.split_once(". Version: ") {
            Some((_, tail)) => {
                let tail = tail.split_once(';').map_or("", |(_, t)| t);
                format!(
                    "Icinga 2 has been running for <duration>. Version: <version>{}",
                    if tail.is_empty() {
                        String::new()
                    } else {
                        format!(";{tail}")
                    }
                )
            }
            None => output.to_string(),
        },
        None => output.to_string(),
    }
}

/// A data directory with a CA and the node's certificate, which the
/// ApiListener variants need.
fn data_dir() -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    common::node_certificate(data.path(), "picket-node");
    data
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_checks_equal_icinga() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/checker/builtin");
    let expected: BTreeMap<String, Json> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let data = tokio::task::spawn_blocking(data_dir).await.unwrap();
    let mut results = Vec::new();
    for variant in VARIANTS {
        results.extend(run_variant(&dir, data.path(), variant, &expected).await);
    }
    assert!(results.len() >= 45, "only {} cases", results.len());
    let mut failures = Vec::new();
    for (name, r) in results {
        let e = &expected[&name];
        // Picket cannot print C++ stack frames.
        let output = e["output"]
            .as_str()
            .unwrap()
            .replace("\n\nStacktrace:\n<stack frames>", "");
        let perf = if e["performance_data"].is_null() {
            json!([])
        } else {
            e["performance_data"].clone()
        };
        // Icinga leaves `command` out where a check sets only state and
        // output.
        let bare = e["command"].is_null();
        let perf_null = e["performance_data"].is_null();
        let want = json!({ "state": e["state"], "exit_status": e["exit_status"], "output": output, "perf": plain(&perf), "bare": bare, "perf_null": perf_null });
        let got = comparable(&r, e);
        if got != want {
            failures.push(format!("{name}:\n  icinga: {want}\n  picket: {got}"));
        }
    }
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
