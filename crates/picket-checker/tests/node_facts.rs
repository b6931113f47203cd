//! The node's own figures (`icinga` check, `/v1/status/CIB`) count hosts
//! and services as Icinga's CIB counts them: a pending service is UNKNOWN
//! and pending, an unreachable host is neither up nor down, soft problems
//! are problems, and only problems in a downtime or acknowledged are
//! handled.

mod common;

use std::collections::BTreeMap;

use picket_checker::stats::Stats;
use picket_checker::NodeFacts;
use picket_model::cluster::{Link, ListenerState};
use picket_model::event::Bus;
use picket_model::monitor::Monitor;
use picket_model::operations::Marks;
use picket_model::result::{now, CheckResult, Perfdata};

const CONFIG: &str = r#"
object CheckerComponent "checker" { }
object ApiListener "api" { }
object Endpoint "me" { }
object Endpoint "sat" { }
object Zone "master" { endpoints = [ "me" ] }
object Zone "satellite" { endpoints = [ "sat" ]; parent = "master" }
object CheckCommand "c" { command = [ "/bin/true" ] }
template Host "h" { check_command = "c"; max_check_attempts = 1 }
object Host "router" { import "h" }
object Host "behind" { import "h" }
object Host "up" { import "h" }
object Dependency "via-router" {
  parent_host_name = "router"
  child_host_name = "behind"
}
template Service "s" { check_command = "c"; max_check_attempts = 3 }
object Service "ok" { import "s"; host_name = "up" }
object Service "soft" { import "s"; host_name = "up" }
object Service "acked" { import "s"; host_name = "up" }
object Service "in-downtime" { import "s"; host_name = "up" }
object Service "pending" { import "s"; host_name = "up" }
"#;

fn result(state: u8) -> CheckResult {
    CheckResult::new(state, i64::from(state), "x".into(), now())
}

fn figures(perfdata: Vec<Perfdata>) -> BTreeMap<String, f64> {
    perfdata
        .into_iter()
        .filter_map(|p| match p {
            Perfdata::Value(v) => Some((v.label, v.value)),
            Perfdata::Text(_) => None,
        })
        .collect()
}

#[test]
fn figures_count_as_icinga_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("icinga2.conf");
    std::fs::write(&path, CONFIG).unwrap();
    // The ApiListener needs the node's certificate to load.
    let data = dir.path().join("data");
    common::node_certificate(&data, "me");
    let loaded = picket_model::load(
        &picket_model::LoadOptions {
            config: path,
            defines: vec![
                ("NodeName".into(), "me".into()),
                ("DataDir".into(), data.display().to_string()),
            ],
            ..Default::default()
        },
        |_| {},
    );
    assert!(
        loaded.errors.is_empty(),
        "{:?}",
        loaded.errors.first().map(|e| e.render(&loaded.ctx.sources))
    );
    let reg = &loaded.registry;
    let mut m = Monitor::build(reg, Bus::default());
    let id = |m: &Monitor, name: &str| m.find(name).unwrap();
    let t = now();
    for (name, state) in [
        ("router", 2),
        ("behind", 2),
        ("up", 0),
        ("up!ok", 0),
        ("up!soft", 2),
        ("up!acked", 2),
        ("up!in-downtime", 1),
    ] {
        let i = id(&m, name);
        m.process(i, result(state), t).unwrap();
    }
    for _ in 0..2 {
        let i = id(&m, "up!acked");
        m.process(i, result(2), t).unwrap();
        let i = id(&m, "up!in-downtime");
        m.process(i, result(1), t).unwrap();
    }
    let acked = Marks {
        acknowledgement: 1,
        ..Marks::default()
    };
    let down = Marks {
        downtime_depth: 1,
        ..Marks::default()
    };
    let i = id(&m, "up!acked");
    m.operated(i, acked, Vec::new(), t);
    let i = id(&m, "up!in-downtime");
    m.operated(i, down, Vec::new(), t);

    let mut stats = Stats::default();
    stats.running = 2;
    let listener = ListenerState::new("me");
    let _client = listener.client();
    let facts = NodeFacts {
        uptime: 30.0,
        registry: Some(reg),
        identity: "me",
        checker: Some((&m, &stats)),
        listener: Some(&listener),
        ..Default::default()
    };
    let cib = figures(facts.cib());
    let want = [
        ("num_services_ok", 1.0),
        ("num_services_warning", 1.0),
        ("num_services_critical", 2.0),
        ("num_services_unknown", 1.0),
        ("num_services_pending", 1.0),
        ("num_services_acknowledged", 1.0),
        ("num_services_in_downtime", 1.0),
        ("num_services_handled", 2.0),
        ("num_services_problem", 3.0),
        ("num_hosts_up", 1.0),
        ("num_hosts_down", 1.0),
        ("num_hosts_unreachable", 1.0),
        ("num_hosts_problem", 2.0),
        ("num_hosts_handled", 0.0),
        ("num_hosts_pending", 0.0),
        ("current_concurrent_checks", 2.0),
        ("uptime", 30.0),
    ];
    for (label, value) in want {
        assert_eq!(cib.get(label), Some(&value), "{label}");
    }

    // The features: one endpoint near this node, not connected; one HTTP
    // client; eight checkables, two of them running.
    let features = figures(facts.feature_perfdata());
    assert_eq!(features["api_num_endpoints"], 1.0);
    assert_eq!(features["api_num_not_conn_endpoints"], 1.0);
    assert_eq!(features["api_num_http_clients"], 1.0);
    assert_eq!(features["checkercomponent_checker_idle"], 6.0);
    assert_eq!(features["checkercomponent_checker_pending"], 2.0);

    // A link that comes up moves the endpoint and its traffic.
    listener.set_link(
        "sat",
        Link {
            connected: true,
            messages_sent_per_second: 2.5,
            last_message_received: 7.0,
            ..Link::default()
        },
    );
    let health = figures(facts.health());
    assert_eq!(health["api_num_conn_endpoints"], 1.0);
    assert_eq!(health["api_num_not_conn_endpoints"], 0.0);
    assert_eq!(health["sum_messages_sent_per_second"], 2.5);
    assert_eq!(health["last_messages_received"], 7.0);
}
