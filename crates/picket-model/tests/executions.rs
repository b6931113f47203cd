//! Runs of `execute-command` stay in a checkable's `executions` until
//! their deadline passes, ended or not; then the clean-up forgets them,
//! as Icinga's does every five minutes.

use picket_model::event::Bus;
use picket_model::monitor::{Ended, Execution, Monitor};

#[test]
fn runs_past_their_deadline_are_forgotten() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("icinga2.conf");
    std::fs::write(
        &config,
        "object CheckCommand \"c\" { command = [ \"/bin/true\" ] }\n\
         object Host \"h\" { check_command = \"c\" }\n",
    )
    .unwrap();
    let loaded = picket_model::load(
        &picket_model::LoadOptions {
            config,
            ..Default::default()
        },
        |_| {},
    );
    assert!(loaded.errors.is_empty());
    let mut m = Monitor::build(&loaded.registry, Bus::default());
    let h = m.find("h").unwrap();
    let ended = Ended {
        start: 10.0,
        end: 11.0,
        exit: 0,
        output: "done".into(),
    };
    m.record_execution(
        h,
        "old".into(),
        Execution {
            deadline: 100.0,
            ended: Some(ended),
        },
    );
    m.record_execution(
        h,
        "running".into(),
        Execution {
            deadline: 400.0,
            ended: None,
        },
    );
    m.prune_executions(200.0);
    let kept: Vec<&String> = m.entry(h).executions.as_ref().unwrap().keys().collect();
    assert_eq!(kept, ["running"]);
    m.prune_executions(500.0);
    assert!(m.entry(h).executions.as_ref().unwrap().is_empty());
}
