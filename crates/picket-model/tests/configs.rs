//! Configuration conformance: each case in `fixtures/lang/configs/` and
//! `fixtures/lang/broken/` was validated by the real Icinga 2
//! (`fixtures/regen`), which recorded the exit status, the `Instantiated`
//! counts, every message and every object with all its attributes. Picket
//! must agree: same counts and attribute values for valid configurations,
//! the same first error (message and position) for broken ones.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use picket_lang::eval::LogRecord;
use picket_lang::json;
use picket_model::{LoadOptions, Loaded};
use serde_json::Value as Json;

fn fixtures(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/lang")
        .join(kind)
}

/// Attributes that describe where Icinga found things rather than what they
/// are; positions are compared through error messages instead.
const SKIPPED: &[&str] = &["source_location"];

fn cases(kind: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(fixtures(kind))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.join("expected.json").exists())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn load_case(dir: &Path) -> (Loaded, Vec<LogRecord>, Json) {
    let expected: Json = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).expect("read expected"),
    )
    .expect("parse expected.json");
    let mut options = LoadOptions {
        config: dir.join("icinga2.conf"),
        ..Default::default()
    };
    let args: Vec<String> = expected["args"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if let Some(d) = a.strip_prefix("-D") {
            let d = if d.is_empty() {
                it.next().cloned().unwrap_or_default()
            } else {
                d.to_string()
            };
            if let Some((k, v)) = d.split_once('=') {
                options.defines.push((k.to_string(), v.to_string()));
            }
        } else if let Some(i) = a.strip_prefix("-I") {
            let i = if i.is_empty() {
                it.next().cloned().unwrap_or_default()
            } else {
                i.to_string()
            };
            options.include_dirs.push(dir.join(i));
        }
    }
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink = logs.clone();
    let dir = dir.to_path_buf();
    let loaded = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            picket_model::load(&options, move |r| {
                if let Ok(mut l) = sink.lock() {
                    l.push(r);
                }
            })
        })
        .expect("spawn")
        .join()
        .expect("load must not panic");
    let _ = dir;
    let logs = logs.lock().map(|l| l.clone()).unwrap_or_default();
    (loaded, logs, expected)
}

fn relative(path: &str, dir: &Path) -> String {
    let prefix = format!("{}/", dir.display());
    path.strip_prefix(&prefix).unwrap_or(path).to_string()
}

fn numbers_equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| numbers_equal(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| numbers_equal(v, w)))
        }
        _ => a == b,
    }
}

fn check_valid(dir: &Path) -> Vec<String> {
    let (loaded, logs, expected) = load_case(dir);
    let mut problems = Vec::new();
    // The configuration warnings Icinga logged, and no others.
    let theirs: Vec<String> = expected["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["severity"] == "warning" && m["facility"] == "config")
        .filter_map(|m| m["text"].as_str().map(String::from))
        .collect();
    let ours: Vec<String> = logs
        .iter()
        .filter(|l| l.severity == picket_lang::eval::Severity::Warning && l.facility == "config")
        .map(|l| l.message.replace(&format!("{}/", dir.display()), ""))
        .collect();
    if ours != theirs {
        problems.push(format!("warnings: icinga {theirs:?} picket {ours:?}"));
    }
    if !loaded.errors.is_empty() {
        for e in &loaded.errors {
            problems.push(format!(
                "unexpected error: {}",
                relative(&e.render(&loaded.ctx.sources), dir)
            ));
        }
        return problems;
    }
    let ours: serde_json::Map<String, Json> = loaded
        .counts()
        .into_iter()
        .map(|(t, _, n)| (t.to_string(), Json::from(n)))
        .collect();
    if Json::Object(ours.clone()) != expected["counts"] {
        problems.push(format!(
            "counts: icinga {} picket {}",
            expected["counts"],
            Json::Object(ours)
        ));
    }
    for obj in expected["objects"].as_array().into_iter().flatten() {
        let (t, n) = (
            obj["type"].as_str().unwrap_or(""),
            obj["properties"]["__name"]
                .as_str()
                .or(obj["name"].as_str())
                .unwrap_or(""),
        );
        let Some(mine) = loaded.registry.find(t, n) else {
            problems.push(format!("missing object {t} '{n}'"));
            continue;
        };
        for (attr, want) in obj["properties"].as_object().into_iter().flatten() {
            if SKIPPED.contains(&attr.as_str()) {
                continue;
            }
            let got = match mine.get(attr) {
                Some(v) => {
                    let text = json::encode_config(&v).replace(&format!("{}/", dir.display()), "");
                    serde_json::from_str::<Json>(&text).unwrap_or(Json::Null)
                }
                None => {
                    problems.push(format!("{t} '{n}': no attribute '{attr}' (icinga: {want})"));
                    continue;
                }
            };
            if !numbers_equal(&got, want) {
                problems.push(format!("{t} '{n}'.{attr}: icinga {want} picket {got}"));
            }
        }
    }
    problems
}

/// An error as text: the message and where it points (`path: l:c-l:c`).
type Reported = (String, String);

fn check_broken(dir: &Path) -> Vec<String> {
    let (loaded, _logs, expected) = load_case(dir);
    // Icinga's errors, without the closing "N errors" line.
    let theirs: Vec<Reported> = expected["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["severity"] == "critical" && m["facility"] == "config")
        .filter_map(|m| {
            let text = m["text"].as_str()?.strip_prefix("Error: ")?.to_string();
            let loc = m.get("location").map(|l| {
                format!(
                    "{}: {}:{}-{}:{}",
                    l["path"].as_str().unwrap_or(""),
                    l["first_line"],
                    l["first_column"],
                    l["last_line"],
                    l["last_column"]
                )
            });
            Some((text, loc.unwrap_or_default()))
        })
        .collect();
    if theirs.is_empty() {
        return vec!["fixture has no error message".into()];
    }
    if loaded.errors.is_empty() {
        return vec![format!("Picket accepted it; Icinga said: {}", theirs[0].0)];
    }
    let ours: Vec<Reported> = loaded
        .errors
        .iter()
        .map(|e| {
            let text = e.message.replace(&format!("{}/", dir.display()), "");
            let loc = e
                .span
                .map(|span| {
                    format!(
                        "{}: {}:{}-{}:{}",
                        relative(&loaded.ctx.sources.path(span.file), dir),
                        span.first_line,
                        span.first_column,
                        span.last_line,
                        span.last_column
                    )
                })
                .unwrap_or_default();
            (text, loc)
        })
        .collect();
    // Syntax errors name what was expected in bison's words; only the
    // position and the start of the message are compared for them.
    let same = |a: &Reported, b: &Reported| {
        a.1 == b.1
            && (a.0 == b.0 || (a.0.starts_with("syntax error") && b.0.starts_with("syntax error")))
    };
    // Icinga reports the errors of one type in hash order: compare as sets.
    let mut problems = Vec::new();
    for o in &ours {
        if !theirs.iter().any(|t| same(t, o)) {
            problems.push(format!(
                "picket reported {:?} at {}; icinga: {:?}",
                o.0, o.1, theirs
            ));
        }
    }
    for t in &theirs {
        if !ours.iter().any(|o| same(t, o)) {
            problems.push(format!(
                "icinga reported {:?} at {}; picket did not",
                t.0, t.1
            ));
        }
    }
    problems
}

fn run(kind: &str, check: fn(&Path) -> Vec<String>) {
    let all = cases(kind);
    assert!(!all.is_empty(), "no {kind} fixtures");
    let mut report = Vec::new();
    for dir in &all {
        let problems = check(dir);
        if !problems.is_empty() {
            let name = dir
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            report.push(format!("{name}:\n    {}", problems.join("\n    ")));
        }
    }
    if !report.is_empty() {
        panic!(
            "{} of {} {kind} cases differ from Icinga 2:\n{}",
            report.len(),
            all.len(),
            report.join("\n")
        );
    }
}

#[test]
fn valid_configurations_match_icinga() {
    run("configs", check_valid);
}

#[test]
fn broken_configurations_fail_like_icinga() {
    if cases("broken").is_empty() {
        return;
    }
    run("broken", check_broken);
}
