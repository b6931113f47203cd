//! Notification decisions without processes or clocks: results go through
//! the monitor at chosen times, and what it asks to send (to whom, with
//! which counters) follows Icinga 2.13's rules as recorded side by side in
//! crates/picket/tests/notifications (see FINDINGS.md there).

use picket_model::event::Bus;
use picket_model::monitor::{Id, Monitor};
use picket_model::notifications::{Dispatch, NotificationType, Progress, Request};
use picket_model::result::CheckResult;

const CONFIG: &str = r#"
object NotificationComponent "notification" { }
object CheckCommand "dummy" { command = [ "true" ] }
object NotificationCommand "mail" { command = [ "true" ] }
object User "all" { }
object User "crit" { states = [ Critical ] }
object User "problems" { types = [ Problem ] }
object User "acks" { types = [ Acknowledgement ] }
object User "off" { enable_notifications = false }
object Host "h" { check_command = "dummy"; enable_active_checks = false; max_check_attempts = 1 }
object Service "s" { host_name = "h"; check_command = "dummy"; enable_active_checks = false; max_check_attempts = 1 }
object Notification "n" { host_name = "h"; service_name = "s"; command = "mail"; interval = 0
  users = [ "all", "crit", "problems", "acks", "off" ] }
object Notification "crit-only" { host_name = "h"; service_name = "s"; command = "mail"; interval = 0
  users = [ "all" ]; states = [ Critical ] }
object TimePeriod "mondays" { ranges = { monday = "00:00-24:00" } }
object Service "p" { host_name = "h"; check_command = "dummy"; enable_active_checks = false; max_check_attempts = 1 }
object Notification "mondays" { host_name = "h"; service_name = "p"; command = "mail"; interval = 0
  users = [ "all" ]; period = "mondays" }
object Notification "reminder" { host_name = "h"; service_name = "s"; command = "mail"; interval = 10
  users = [ "all" ]; types = [ Problem ] }
"#;

fn monitor() -> (tempfile::TempDir, Monitor) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("icinga2.conf");
    std::fs::write(&config, CONFIG).unwrap();
    let options = picket_model::LoadOptions {
        config,
        ..Default::default()
    };
    let loaded = picket_model::load(&options, |_| {});
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors.first());
    let monitor = Monitor::build(&loaded.registry, Bus::default());
    (dir, monitor)
}

/// Submits a passive result at `at` and begins what it asked for:
/// (notification short name, type, users).
fn result(
    m: &mut Monitor,
    id: Id,
    state: u8,
    at: f64,
) -> Vec<(String, NotificationType, Vec<String>)> {
    let mut cr = CheckResult::new(state, i64::from(state), "out".into(), at);
    cr.active = false;
    m.process(id, cr, at).unwrap();
    begin_all(m, at)
}

fn begin_all(m: &mut Monitor, at: f64) -> Vec<(String, NotificationType, Vec<String>)> {
    let dispatches = m.begin_pending(at);
    sent(dispatches)
}

fn sent(dispatches: Vec<Dispatch>) -> Vec<(String, NotificationType, Vec<String>)> {
    let mut out: Vec<_> = dispatches
        .into_iter()
        .map(|d| {
            let users = d.users.iter().map(|u| u.full_name()).collect();
            (d.notification.name(), d.kind, users)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn progress(m: &Monitor, id: Id, name: &str) -> Progress {
    m.entry(id)
        .notified
        .as_ref()
        .and_then(|n| n.get(name).cloned())
        .unwrap_or_default()
}

fn users(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn problems_recoveries_and_their_counters() {
    let (_dir, mut m) = monitor();
    let s = m.find("h!s").unwrap();
    let t = 1_000_000.0;
    assert!(result(&mut m, s, 0, t).is_empty() || m.entry(s).live.state == 0);
    // WARNING: the notification limited to CRITICAL keeps quiet; the
    // user limited to CRITICAL too; the disabled user always.
    let sent = result(&mut m, s, 1, t + 1.0);
    assert_eq!(
        sent,
        vec![
            (
                "n".into(),
                NotificationType::Problem,
                users(&["all", "problems"])
            ),
            (
                "reminder".into(),
                NotificationType::Problem,
                users(&["all"])
            ),
        ]
    );
    let n = progress(&m, s, "n");
    assert_eq!((n.notification_number, n.no_more_notifications), (1, true));
    assert_eq!(n.notified_problem_users, users(&["all", "problems"]));
    // The reminder notification moved its next notification on.
    assert_eq!(progress(&m, s, "reminder").next_notification, t + 11.0);
    assert!(!progress(&m, s, "reminder").no_more_notifications);

    let sent = result(&mut m, s, 2, t + 2.0);
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[0].2, users(&["all"]), "crit-only at CRITICAL");

    // OK: the count starts again before the recovery counts; the recovery
    // goes to those told of the problem (the CRITICAL-only user included,
    // not the one who takes problems only) and to nobody through a
    // notification without Recovery in `types`.
    let sent = result(&mut m, s, 0, t + 3.0);
    assert_eq!(
        sent,
        vec![
            (
                "crit-only".into(),
                NotificationType::Recovery,
                users(&["all"])
            ),
            (
                "n".into(),
                NotificationType::Recovery,
                users(&["all", "crit"])
            ),
        ]
    );
    let n = progress(&m, s, "n");
    assert_eq!((n.notification_number, n.no_more_notifications), (1, false));
    assert!(n.notified_problem_users.is_empty());
    let r = progress(&m, s, "reminder");
    assert_eq!(r.notification_number, 0);
    assert_eq!(
        r.notified_problem_users,
        users(&["all"]),
        "kept: recovery filtered"
    );
}

#[test]
fn reminders_wait_for_the_interval_and_the_start_hold() {
    let (_dir, mut m) = monitor();
    let s = m.find("h!s").unwrap();
    let t = 1_000_000.0;
    m.hold_reminders(t);
    result(&mut m, s, 0, t);
    result(&mut m, s, 2, t + 1.0);
    // The problem set the reminder's next notification to +10 s; at +12 s
    // it is due.
    assert!(m.notification_tick(t + 5.0).is_empty());
    let sent = sent(m.notification_tick(t + 12.0));
    assert_eq!(
        sent,
        vec![(
            "reminder".into(),
            NotificationType::Problem,
            users(&["all"])
        )]
    );
    assert_eq!(progress(&m, s, "reminder").notification_number, 2);
    // Interval 0 with "no more notifications": never reminded.
    assert_eq!(progress(&m, s, "n").notification_number, 1);
}

#[test]
fn acknowledgements_go_to_those_told_of_the_problem() {
    let (_dir, mut m) = monitor();
    let s = m.find("h!s").unwrap();
    let t = 1_000_000.0;
    result(&mut m, s, 0, t);
    result(&mut m, s, 1, t + 1.0);
    let mut request = Request::new(s, NotificationType::Acknowledgement);
    request.author = "alice".into();
    m.request_notification(request);
    let sent = begin_all(&mut m, t + 2.0);
    // "n": all and problems were told; acks takes no problems, so it
    // needs no telling; problems takes no acknowledgements.
    assert_eq!(
        sent[1],
        (
            "n".into(),
            NotificationType::Acknowledgement,
            users(&["all", "acks"])
        )
    );
    assert_eq!(progress(&m, s, "n").notification_number, 2);
    assert!(!progress(&m, s, "n").no_more_notifications);
}

/// Local noon of a day in November 2026 (the 23rd is a Monday).
fn noon(day: u32) -> f64 {
    use chrono::TimeZone;
    chrono::Local
        .with_ymd_and_hms(2026, 11, day, 12, 0, 0)
        .single()
        .unwrap()
        .timestamp() as f64
}

#[test]
fn problems_outside_the_period_go_when_it_starts() {
    let (_dir, mut m) = monitor();
    let p = m.find("h!p").unwrap();
    let tuesday = noon(24);
    result(&mut m, p, 0, tuesday);
    assert!(result(&mut m, p, 2, tuesday + 1.0).is_empty());
    assert!(m.notification_tick(tuesday + 10.0).is_empty());
    // Next Monday, still CRITICAL: the problem goes, once.
    let monday = noon(30);
    let sent = sent(m.notification_tick(monday));
    assert_eq!(
        sent,
        vec![("mondays".into(), NotificationType::Problem, users(&["all"]))]
    );
    assert!(m.notification_tick(monday + 5.0).is_empty());
}
