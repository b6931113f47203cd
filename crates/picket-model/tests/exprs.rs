//! Expression conformance: every case in `fixtures/lang/exprs/*.txt` was
//! evaluated by the real Icinga 2 (`icinga2 console --eval`, see
//! `fixtures/regen`); Picket must print the same JSON, or fail with the same
//! message.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use picket_lang::eval::{Frame, Interp};
use picket_lang::{json, Dict, Value};

struct Case {
    file: String,
    name: String,
    expr: String,
    kind: String,
    expected: String,
    output: Vec<String>,
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/lang/exprs")
}

fn load() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(fixtures())
        .expect("fixtures dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for path in files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
    {
        let text = std::fs::read_to_string(&path).expect("read case file");
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut current: Option<Case> = None;
        let mut section = "";
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("=== ") {
                cases.extend(current.take());
                current = Some(Case {
                    file: file.clone(),
                    name: name.trim().to_string(),
                    expr: String::new(),
                    kind: String::new(),
                    expected: String::new(),
                    output: Vec::new(),
                });
                section = "expr";
            } else if let Some(kind) = line.strip_prefix("--- ") {
                section = match kind.trim() {
                    "output" => "output",
                    k => {
                        if let Some(c) = current.as_mut() {
                            c.kind = k.to_string();
                        }
                        "expected"
                    }
                };
            } else if let Some(c) = current.as_mut() {
                match section {
                    "expr" => {
                        if !c.expr.is_empty() {
                            c.expr.push('\n');
                        }
                        c.expr.push_str(line);
                    }
                    "output" => c.output.push(line.to_string()),
                    "expected" if !line.is_empty() => c.expected = line.to_string(),
                    _ => {}
                }
            }
        }
        cases.extend(current.take());
    }
    cases
}

/// Evaluates like `icinga2 console --eval`: one scratch dictionary is both
/// the locals and `this` of the session.
fn run(expr: &str) -> (Result<String, String>, Vec<String>) {
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink = logs.clone();
    // The console has every type of the object model, and no objects.
    let (ctx, _registry) = picket_model::context(move |r| {
        if let Ok(mut l) = sink.lock() {
            l.push(format!(
                "{}/{}: {}",
                r.severity.name(),
                r.facility,
                r.message
            ));
        }
    });
    let mut interp = Interp::new(&ctx);
    let scope = Dict::new();
    let mut frame = Frame {
        locals: scope.clone(),
        this: Value::Dict(scope),
    };
    let result = interp.run_text(&mut frame, "<1>", expr.into());
    let out = logs.lock().map(|l| l.clone()).unwrap_or_default();
    (result.map(|v| json::encode(&v)).map_err(|e| e.message), out)
}

/// Cases listed in `known-differences` with the reason Picket differs.
fn known_differences() -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join("known-differences")).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

#[test]
fn expressions_match_icinga() {
    let cases = load();
    assert!(cases.len() > 1000, "expression fixtures missing");
    let known = known_differences();
    let mut failures = Vec::new();
    for c in cases
        .iter()
        .filter(|c| !known.contains(&format!("{}:{}", c.file, c.name)))
    {
        let (got, _out) = run(&c.expr);
        let ok = match (c.kind.as_str(), &got) {
            ("result", Ok(json)) => *json == c.expected,
            ("error", Err(msg)) => {
                *msg == c.expected
                    || c.expected.starts_with("syntax error") && msg.starts_with("syntax error")
            }
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}:{}\n    expr:     {}\n    icinga:   {} {}\n    picket:   {:?}",
                c.file,
                c.name,
                c.expr.replace('\n', "\n              "),
                c.kind,
                c.expected,
                got
            ));
        }
    }
    if !failures.is_empty() {
        panic!(
            "{} of {} expression cases differ from Icinga 2:\n{}",
            failures.len(),
            cases.len(),
            failures.join("\n")
        );
    }
}
