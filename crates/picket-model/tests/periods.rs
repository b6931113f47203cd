//! TimePeriod segments against the real Icinga 2: `fixtures/periods` holds
//! TimePeriods of every kind of range key and the windows Icinga 2.13
//! worked out for them when it started and after its update timer moved
//! them on (`fixtures/periods/regen`). The same windows are worked out
//! here for the same moments and must come out alike.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use picket_model::period::{Periods, Window};
use picket_model::ConfigObject;
use serde_json::Value as Json;

/// Periods whose windows Icinga works out before those of the periods
/// they include or exclude in some runs and after them in others (it
/// starts objects in no fixed order, and merges whatever segments the
/// others have so far). Picket always works the others out first.
const START_ORDER_DEPENDENT: &[&str] = &["a-incl", "nopref", "pref", "z-excl"];

/// Moments differ by the few microseconds between Icinga starting one
/// period and the next.
fn near(a: f64, b: f64) -> bool {
    (a - b).abs() < 1.0
}

fn same(icinga: &Json, picket: &Window) -> Result<(), String> {
    let bound = |key: &str| icinga[key].as_f64();
    let segments: Vec<(f64, f64)> = icinga["segments"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| Some((s["begin"].as_f64()?, s["end"].as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    let ok = match (bound("valid_begin"), picket.valid_begin) {
        (Some(a), Some(b)) => near(a, b),
        (a, b) => a.is_none() && b.is_none(),
    } && match (bound("valid_end"), picket.valid_end) {
        (Some(a), Some(b)) => near(a, b),
        (a, b) => a.is_none() && b.is_none(),
    } && segments.len() == picket.segments.len()
        && segments
            .iter()
            .zip(&picket.segments)
            .all(|((b, e), s)| near(*b, s.begin) && near(*e, s.end));
    if ok {
        Ok(())
    } else {
        Err(format!("Icinga {icinga}, Picket {picket:?}"))
    }
}

/// Tuesday 2026-11-24, 12:00 UTC.
const NOON: f64 = 1_795_521_600.0;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/periods")
}

/// The TimePeriods of `config`. The fixtures were recorded in UTC; local
/// days must be UTC days here.
fn time_periods(config: PathBuf) -> Vec<Arc<ConfigObject>> {
    std::env::set_var("TZ", "UTC");
    let options = picket_model::LoadOptions {
        config,
        ..Default::default()
    };
    let loaded = picket_model::load(&options, |_| {});
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors.first());
    loaded.registry.committed("TimePeriod")
}

#[test]
fn windows_equal_icinga() {
    let dir = fixtures();
    let expected: Json =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let objects = time_periods(dir.join("icinga2.conf"));

    let at = |stage: &str| expected[stage]["at"].as_f64().unwrap();
    let mut periods = Periods::build(objects, at("start"));
    let mut failures = Vec::new();
    let mut compared = 0;
    for stage in ["start", "update"] {
        if stage == "update" {
            periods.update(at("update"));
        }
        for (name, icinga) in expected[stage]["periods"].as_object().unwrap() {
            if START_ORDER_DEPENDENT.contains(&name.as_str()) {
                continue;
            }
            let window = periods.window(name).expect("every period has a window");
            compared += 1;
            if let Err(e) = same(icinga, window) {
                failures.push(format!("{stage} {name}: {e}"));
            }
        }
    }
    assert!(compared >= 30, "only {compared} windows compared");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_period_merges_the_periods_it_includes_and_excludes() {
    let noon = NOON;
    let periods = Periods::build(time_periods(fixtures().join("icinga2.conf")), noon);
    let hours = |name: &str| -> Vec<(f64, f64)> {
        periods
            .window(name)
            .unwrap()
            .segments
            .iter()
            .map(|s| {
                (
                    (s.begin - noon) / 3600.0 + 12.0,
                    (s.end - noon) / 3600.0 + 12.0,
                )
            })
            .collect()
    };
    // Own 08-09, evening 18-23 included.
    assert_eq!(hours("a-incl"), vec![(8.0, 9.0), (18.0, 23.0)]);
    // Tuesday and Wednesday whole, but for the evening.
    assert_eq!(hours("z-excl"), vec![(0.0, 18.0), (23.0, 48.0)]);
    // Not preferring includes: 9to5 added to its own 17-19, the evening
    // taken out after.
    assert_eq!(hours("nopref"), vec![(9.0, 18.0), (33.0, 41.0)]);
    let z = periods.index("z-excl").unwrap();
    assert!(periods.is_inside(z, noon));
    assert!(!periods.is_inside(z, noon + 7.0 * 3600.0));
}

#[test]
fn periods_that_include_each_other_are_each_worked_out_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("icinga2.conf");
    std::fs::write(
        &config,
        r#"
object TimePeriod "a" { ranges = { monday = "00:00-24:00" }; includes = [ "b", "c" ] }
object TimePeriod "b" { ranges = { tuesday = "00:00-24:00" }; includes = [ "a", "c" ] }
object TimePeriod "c" { ranges = { wednesday = "00:00-24:00" }; includes = [ "a", "b" ] }
"#,
    )
    .unwrap();
    // Asked about a Tuesday a year later, far outside the window worked
    // out at the start.
    let noon = NOON;
    let periods = Periods::build(time_periods(config), noon);
    let later = noon + 364.0 * 86_400.0;
    let a = periods.index("a").unwrap();
    assert!(periods.is_inside(a, later), "a Tuesday, through b");
    assert!(!periods.is_inside(a, later + 3.0 * 86_400.0), "a Friday");
}

#[test]
fn a_restart_keeps_the_bounds_of_each_window_and_works_the_segments_out_again() {
    let config = fixtures().join("icinga2.conf");
    let before = Periods::build(time_periods(config.clone()), NOON);
    let retained = before.windows().into_iter().collect();
    // Restarted three hours later.
    let later = NOON + 3.0 * 3600.0;
    let mut after = Periods::build(time_periods(config), later);
    after.resume(&retained, later);
    let never = after.window("never").unwrap();
    assert_eq!(never.valid_begin, Some(NOON), "begins before the restart");
    assert!(never.segments.is_empty());
    // The evening (Tuesday 18-23) as worked out anew: one segment, not a
    // retained one cut in two.
    let evening = after.window("evening").unwrap();
    assert_eq!(evening.segments.len(), 1, "{:?}", evening.segments);
    assert_eq!(
        evening.valid_begin,
        before.window("evening").unwrap().valid_begin
    );
    // What a period merges comes from the others' new windows.
    assert_eq!(
        after.window("a-incl").unwrap().segments,
        before.window("a-incl").unwrap().segments
    );
}
