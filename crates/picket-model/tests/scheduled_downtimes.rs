//! What a `ScheduledDowntime` plans, checked against the downtimes the
//! real Icinga 2.13.6 planned from the same objects: their options hash
//! (`config_owner_hash`, compared between nodes of a cluster) and what
//! happens to downtimes planned before the options changed.

use picket_model::operations::{self, ChildOptions, Downtime};

const CONFIG: &str = r#"
object CheckCommand "dummy" { command = [ "true" ] }
object Host "host1" { check_command = "dummy" }
object Host "host2" { check_command = "dummy" }
const EveryDay = {
  monday = "00:00-24:00"
  tuesday = "00:00-24:00"
  wednesday = "00:00-24:00"
  thursday = "00:00-24:00"
  friday = "00:00-24:00"
  saturday = "00:00-24:00"
  sunday = "00:00-24:00"
}
object ScheduledDowntime "always" {
  host_name = "host2"
  author = "icingaadmin"
  comment = "Planned"
  ranges = EveryDay
}
object ScheduledDowntime "with-children" {
  host_name = "host1"
  author = "a"
  comment = "window"
  child_options = "DowntimeTriggeredChildren"
  vars.x = [1, "a", true]
  duration = 30m
  ranges = EveryDay
}
"#;

fn load() -> (tempfile::TempDir, std::sync::Arc<picket_model::Registry>) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("icinga2.conf");
    std::fs::write(&config, CONFIG).unwrap();
    let options = picket_model::LoadOptions {
        config,
        ..Default::default()
    };
    let loaded = picket_model::load(&options, |_| {});
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors.first());
    (dir, loaded.registry)
}

#[test]
fn options_hash_as_icinga_computes_it() {
    let (_dir, registry) = load();
    let hash = |name: &str| {
        let sd = registry.find("ScheduledDowntime", name).unwrap();
        operations::options_hash(&sd)
    };
    // The config_owner_hash of the downtimes Icinga 2.13.6 planned.
    assert_eq!(
        hash("host2!always"),
        "5de937378ae69dee57a86ec3c67f999be86a6b39f73f9f7e5dcf03392b701a8d"
    );
    assert_eq!(
        hash("host1!with-children"),
        "b0b5e2bfcc92ef6d2f5919880fc190c9e398f98b75d5d52b67d4acd9766bbf25"
    );
}

#[test]
fn downtimes_of_other_options_do_not_count_and_far_ones_go() {
    let (_dir, registry) = load();
    let sd = registry.find("ScheduledDowntime", "host2!always").unwrap();
    let now = picket_model::result::now();
    let first = operations::planned(&sd, now, &[], "master").unwrap();
    assert_eq!(first.config_owner_hash, operations::options_hash(&sd));
    assert_eq!(first.authoritative_zone, "master");
    assert!(first.start_time <= now && now < first.end_time);
    // A planned one not started yet: nothing more to plan.
    let ahead = Downtime {
        start_time: now + 3600.0,
        end_time: now + 7200.0,
        ..first.clone()
    };
    assert!(operations::planned(&sd, now, &[&ahead], "master").is_none());
    assert!(operations::obsolete(&sd, now, &[("a", &ahead)]).is_empty());
    // Planned with other options: planned again, and removed while it is
    // more than five minutes off.
    let stale = Downtime {
        config_owner_hash: "other".into(),
        ..ahead.clone()
    };
    assert!(operations::planned(&sd, now, &[&stale], "master").is_some());
    assert_eq!(operations::obsolete(&sd, now, &[("a", &stale)]), ["a"]);
    let soon = Downtime {
        start_time: now + 60.0,
        ..stale.clone()
    };
    assert!(operations::obsolete(&sd, now, &[("a", &soon)]).is_empty());
    // Kept from before hashes were recorded: counts as planned alike.
    let older = Downtime {
        config_owner_hash: String::new(),
        ..ahead
    };
    assert!(operations::planned(&sd, now, &[&older], "master").is_none());
}

#[test]
fn a_child_gets_a_downtime_of_its_own() {
    let (_dir, registry) = load();
    let sd = registry
        .find("ScheduledDowntime", "host1!with-children")
        .unwrap();
    let now = picket_model::result::now();
    let parent = operations::planned(&sd, now, &[], "master").unwrap();
    let child = ChildOptions::Triggered
        .child_downtime(&parent, "host1!p")
        .unwrap();
    // As Icinga 2.13.6 makes it: started by the parent, not its child,
    // and of the same ScheduledDowntime.
    assert_eq!(child.triggered_by, "host1!p");
    assert_eq!(child.parent, "");
    assert_eq!(child.scheduled_by, "host1!with-children");
    assert_eq!(child.config_owner_hash, parent.config_owner_hash);
    let untriggered = ChildOptions::NonTriggered
        .child_downtime(&parent, "host1!p")
        .unwrap();
    assert_eq!(untriggered.triggered_by, "");
}
