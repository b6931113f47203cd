//! The state machine against the real Icinga 2: `fixtures/states` holds
//! scenarios (a scripted plugin returns a fixed sequence of exit codes per
//! host or service) and every result Icinga 2.13 recorded: state, state
//! type, attempt, last states, whether the state and the hard state
//! changed, flapping. The scenarios that need no other object (no parent
//! host state, dependency, passive result, freshness or time period) are
//! replayed here through `Live::apply`; those are for the scheduler.

use std::collections::BTreeMap;
use std::path::Path;

use picket_model::state::{Kind, Live, Rules};
use serde_json::{json, Value as Json};

/// Scenarios whose results depend on other objects or on the scheduler.
fn standalone(name: &str) -> bool {
    ![
        "dep-",
        "svc-on-",
        "svc-fails-before",
        "passive",
        "host-passive",
        "freshness",
        "check-period",
    ]
    .iter()
    .any(|p| name.starts_with(p))
}

#[test]
fn sequences_equal_icinga() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/states");
    let expected: BTreeMap<String, Json> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let options = picket_model::LoadOptions {
        config: dir.join("icinga2.conf"),
        include_dirs: Vec::new(),
        packages: None,
        defines: vec![("PktPlugin".into(), "/fixture/pkt-seq".into())],
    };
    let loaded = picket_model::load(&options, |_| {});
    assert!(
        loaded.errors.is_empty(),
        "{:?}",
        loaded.errors.first().map(|e| e.render(&loaded.ctx.sources))
    );
    let reg = &loaded.registry;
    let mut failures = Vec::new();
    let mut compared = 0;
    for (scenario, data) in &expected {
        if !standalone(scenario) {
            continue;
        }
        for (name, object) in data["objects"].as_object().unwrap() {
            let kind = if object["type"] == "Host" {
                Kind::Host
            } else {
                Kind::Service
            };
            let obj = reg
                .find(
                    if kind == Kind::Host {
                        "Host"
                    } else {
                        "Service"
                    },
                    name,
                )
                .unwrap_or_else(|| panic!("no object {name}"));
            let num = |f: &str, d: f64| obj.get(f).and_then(|v| v.to_number().ok()).unwrap_or(d);
            let rules = Rules {
                kind,
                max_check_attempts: num("max_check_attempts", 3.0) as u32,
                volatile: obj.get("volatile").is_some_and(|v| v.to_bool()),
                enable_flapping: obj.get("enable_flapping").is_some_and(|v| v.to_bool()),
                flapping_threshold_low: num("flapping_threshold_low", 25.0),
                flapping_threshold_high: num("flapping_threshold_high", 30.0),
            };

            let mut live = Live::new(kind);
            for (i, r) in object["results"].as_array().unwrap().iter().enumerate() {
                let change = live.apply(
                    &rules,
                    r["cr_state"].as_u64().unwrap() as u8,
                    true,
                    i as f64,
                );
                let want = json!({
                    "state": r["state"], "state_type": r["state_type"], "check_attempt": r["check_attempt"],
                    "last_state": r["last_state"], "last_hard_state": r["last_hard_state"],
                    "last_state_type": r["last_state_type"], "state_changed": r["state_changed"],
                    "hard_state_changed": r["hard_state_changed"],
                    "is_flapping": r["is_flapping"],
                    "flapping_current": (r["flapping_current"].as_f64().unwrap() * 10.0).round() / 10.0,
                });
                let got = json!({
                    "state": live.state, "state_type": live.state_type as u8, "check_attempt": live.check_attempt,
                    "last_state": live.last_state, "last_hard_state": live.last_hard_state,
                    "last_state_type": live.last_state_type as u8, "state_changed": change.state_changed,
                    "hard_state_changed": change.hard_changed,
                                        "is_flapping": live.flapping.is_flapping,
                    "flapping_current": (live.flapping.current * 10.0).round() / 10.0,
                });
                compared += 1;
                if got != want {
                    failures.push(format!(
                        "{scenario} {name} result {}:\n  icinga: {want}\n  picket: {got}",
                        i + 1
                    ));
                    break;
                }
            }
        }
    }
    assert!(compared > 150, "only {compared} results compared");
    assert!(
        failures.is_empty(),
        "{} objects differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
