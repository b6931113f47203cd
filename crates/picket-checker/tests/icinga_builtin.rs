//! Built-in checks against the real Icinga 2 (`fixtures/checker/builtin`):
//! `dummy`, `passive`, `sleep` and `exception`, on services and hosts,
//! `ido` and `icingadb` without their databases, and `cluster*` without an
//! ApiListener, with the values and texts Icinga 2.13 recorded. (`icinga`,
//! `random`, `null` report statistics as perfdata objects and come with the
//! scheduler.)

use std::collections::BTreeMap;
use std::path::Path;

use picket_checker::check;
use serde_json::{json, Value as Json};

const COVERED: &[&str] = &[
    "dummy-",
    "passive-",
    "sleep-",
    "exception-",
    "host:host-dummy-",
    "ido-",
    "icingadb-",
    "cluster-no-api",
    "cluster-zone-no-api",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn builtin_checks_equal_icinga() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/checker/builtin");
    let expected: BTreeMap<String, Json> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let options = picket_model::LoadOptions {
        config: dir.join("icinga2.conf"),
        include_dirs: Vec::new(),
        packages: None,
        defines: vec![
            ("PktVariant".into(), "standalone".into()),
            ("PktApiPort".into(), "1".into()),
            ("PktSpoolDir".into(), "/nonexistent".into()),
        ],
    };
    let loaded = picket_model::load(&options, |_| {});
    assert!(
        loaded.errors.is_empty(),
        "{:?}",
        loaded.errors.first().map(|e| e.render(&loaded.ctx.sources))
    );
    let reg = &loaded.registry;
    let mut runs = tokio::task::JoinSet::new();
    let mut count = 0;
    for (name, want) in &expected {
        if !COVERED.iter().any(|p| name.starts_with(p)) || want["variant"] != "standalone" {
            continue;
        }
        count += 1;
        let checkable = match name.strip_prefix("host:") {
            Some(h) => reg.find("Host", h).expect("host"),
            None => ["h1", "h2"]
                .iter()
                .find_map(|h| reg.find("Service", &format!("{h}!{name}")))
                .unwrap_or_else(|| panic!("no service {name}")),
        };
        let plan = check::plan(reg, &loaded.ctx, &checkable).unwrap();
        let name = name.clone();
        runs.spawn(async move { (name, check::execute(plan).await) });
    }
    assert!(count >= 35, "only {count} cases");
    let mut failures = Vec::new();
    while let Some(done) = runs.join_next().await {
        let (name, r) = done.unwrap();
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
        let want = json!({ "state": e["state"], "exit_status": e["exit_status"], "output": output, "perf": perf });
        let got = json!({ "state": r.state, "exit_status": r.exit_status, "output": r.output, "perf": r.performance_data });
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
