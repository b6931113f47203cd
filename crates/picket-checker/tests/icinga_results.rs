//! Check results against the real Icinga 2: `fixtures/checker/results`
//! holds 57 checks (exit codes, missing and unexecutable plugins, signals,
//! timeouts with and without children that ignore SIGTERM, output with
//! long output and performance data, odd bytes) and the result Icinga 2.13
//! recorded for each. Picket runs the same commands and must record the
//! same state, exit status, output and performance data.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use picket_checker::command_line::build;
use picket_checker::macros::{Resolvers, Source};
use picket_checker::process::{self, Invocation, DEFAULT_OUTPUT_LIMIT};
use picket_checker::result::{from_process, service_state};
use picket_lang::Value;
use serde_json::{json, Value as Json};

fn seconds(v: Option<Value>) -> Option<f64> {
    v.filter(|v| !v.is_null()).and_then(|v| v.to_number().ok())
}

/// The fields of Icinga's result this test compares, from either side.
fn comparable(state: u8, exit_status: i64, output: &str, perfdata: &[String]) -> Json {
    let lines: Vec<&str> = output.lines().collect();
    let head: String = output.chars().take(200).collect();
    let tail: String = {
        let chars: Vec<char> = output.chars().collect();
        chars[chars.len().saturating_sub(200)..].iter().collect()
    };
    if output.len() > 10_000 {
        json!({ "state": state, "exit_status": exit_status, "length": output.chars().count(),
                "lines": lines.len(), "head": head, "tail": tail, "perfdata": perfdata })
    } else {
        json!({ "state": state, "exit_status": exit_status, "output": output, "perfdata": perfdata })
    }
}

fn icinga(e: &Json) -> Json {
    let state = e["state"].as_u64().unwrap() as u8;
    let exit = e["exit_status"].as_i64().unwrap();
    let perf: Vec<String> = serde_json::from_value(e["performance_data"].clone()).unwrap();
    match e["output"].as_str() {
        Some(out) => comparable(state, exit, out, &perf),
        None => json!({ "state": state, "exit_status": exit,
            "length": e["output_length"], "lines": e["output_lines"],
            "head": e["output_head"], "tail": e["output_tail"], "perfdata": perf }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_equal_icinga() {
    process::become_subreaper().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/checker/results");
    let expected: BTreeMap<String, Json> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let options = picket_model::LoadOptions {
        config: dir.join("icinga2.conf"),
        include_dirs: Vec::new(),
        defines: Vec::new(),
    };
    let loaded = picket_model::load(&options, |_| {});
    assert!(loaded.errors.is_empty());
    let reg = &loaded.registry;
    let mut runs = tokio::task::JoinSet::new();
    for name in expected.keys() {
        let (checkable, host) = match name.strip_prefix("host:") {
            Some(h) => {
                let host = reg.find("Host", h).expect("host");
                (host.clone(), host)
            }
            None => (
                reg.find("Service", &format!("h1!{name}")).expect("service"),
                reg.find("Host", "h1").expect("host"),
            ),
        };
        let command_name = checkable
            .get("check_command")
            .unwrap_or_default()
            .to_display();
        let command = reg.find("CheckCommand", &command_name).expect("command");
        let resolvers = Resolvers {
            sources: vec![
                Source {
                    name: "service",
                    object: Value::Object(checkable.clone()),
                },
                Source {
                    name: "host",
                    object: Value::Object(host),
                },
                Source {
                    name: "command",
                    object: Value::Object(command.clone()),
                },
            ],
            runtime: None,
        };
        let get = |f: &str| command.get(f).unwrap_or_default();
        let line = build(
            &get("command"),
            &get("arguments"),
            &get("env"),
            &resolvers,
            &loaded.ctx,
        )
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        let timeout = seconds(checkable.get("check_timeout"))
            .or_else(|| seconds(command.get("timeout")))
            .unwrap_or(60.0);
        let argv: Vec<OsString> = line.exec_argv().into_iter().map(OsString::from).collect();
        let invocation = Invocation {
            argv,
            env: line.env.iter().map(|(k, v)| (k.into(), v.into())).collect(),
            timeout: Duration::from_secs_f64(timeout),
            output_limit: DEFAULT_OUTPUT_LIMIT,
        };
        let name = name.clone();
        runs.spawn(async move {
            let program = invocation.argv[0].to_string_lossy().into_owned();
            let finished = process::run(&invocation).await;
            let r = from_process(&program, &finished);
            let got = comparable(
                service_state(r.exit_status),
                r.exit_status,
                &r.output,
                &r.performance_data,
            );
            (name, got)
        });
    }
    let mut failures = Vec::new();
    while let Some(done) = runs.join_next().await {
        let (name, got) = done.unwrap();
        let want = icinga(&expected[&name]);
        if got != want {
            failures.push(format!("{name}:\n  icinga: {want}\n  picket: {got}"));
        }
    }
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        expected.len(),
        failures.join("\n")
    );
}
