//! Built-in checks that need no process and no waiting: `random`, `null`
//! (`NullCheck`) and `icinga` (the node's own health), worded as Icinga 2
//! words them so that dashboards and scripts read them alike.

use picket_lang::Value;
use picket_model::cluster::Topology;
use picket_model::result::{now, CheckResult, Perfdata, PerfdataValue};

use crate::check::ZoneCheck;
use crate::facts::NodeFacts;

/// The Icinga 2 release whose behaviour Picket follows; version checks
/// (`icinga_min_version`) compare against it.
pub const COMPATIBLE_VERSION: &str = "2.13.6";

/// The application version as Icinga 2 prints it (`r2.13.6-1`), naming
/// Picket after the release it follows.
pub fn app_version() -> String {
    format!("r{COMPATIBLE_VERSION}-picket{}", env!("CARGO_PKG_VERSION"))
}

/// A duration in Icinga's words: "6 seconds", "1 minute and 2 seconds",
/// "792 milliseconds" under a second.
pub fn duration_text(seconds: f64) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    let mut rest = seconds.max(0.0);
    let mut parts = Vec::new();
    for (size, unit) in [(86_400.0, "day"), (3600.0, "hour"), (60.0, "minute")] {
        if rest >= size {
            parts.push(plural((rest / size).floor() as u64, unit));
            rest %= size;
        }
    }
    if rest >= 1.0 {
        parts.push(plural(rest.floor() as u64, "second"));
    }
    if parts.is_empty() {
        return match (rest * 1000.0).floor() as u64 {
            0 => "less than 1 millisecond".to_string(),
            ms => plural(ms, "millisecond"),
        };
    }
    match parts.split_last() {
        Some((last, first)) if !first.is_empty() => format!("{} and {last}", first.join(", ")),
        _ => parts.concat(),
    }
}

/// A time as Icinga prints it in check output: local time with the zone
/// offset (`2026-11-24 12:40:00 +0100`).
fn local_time(seconds: f64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(seconds as i64, 0) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format("%Y-%m-%d %H:%M:%S %z").to_string()
        }
        chrono::LocalResult::None => String::new(),
    }
}

fn running_for(uptime: f64) -> String {
    format!(
        "Icinga 2 has been running for {}. Version: {}",
        duration_text(uptime),
        app_version()
    )
}

/// `random`: a random state, to exercise state handling.
pub fn random(node: &str, uptime: f64) -> CheckResult {
    let draw = picket_model::monitor::spread_random();
    let value = (draw % 1000) as f64;
    let now = now();
    CheckResult {
        performance_data: vec![
            PerfdataValue::plain("time", now),
            PerfdataValue::plain("value", value),
            PerfdataValue::plain("value_1m", value * 0.9),
            PerfdataValue::plain("value_5m", value * 0.8),
            PerfdataValue::plain("uptime", uptime),
        ],
        ..CheckResult::new(
            ((draw >> 32) % 4) as u8,
            0,
            format!("Hello from {node}. {}", running_for(uptime)),
            now,
        )
    }
}

/// `NullCheck`: always OK.
pub fn null(node: &str) -> CheckResult {
    let now = now();
    CheckResult {
        performance_data: vec![PerfdataValue::plain("time", now)],
        ..CheckResult::new(0, 0, format!("Hello from {node}"), now)
    }
}

/// Icinga's version comparison: dot-separated whole numbers, missing
/// parts count as 0. A part that is not a number is an error, in Icinga's
/// words.
fn compare_versions(a: &str, b: &str) -> Result<std::cmp::Ordering, String> {
    let parts = |v: &str| -> Result<Vec<i64>, String> {
        v.split('.')
            .map(|p| {
                p.parse::<i64>()
                    .map_err(|_| format!("Can't convert '{p}' to an integer."))
            })
            .collect()
    };
    let (a, b) = (parts(a)?, parts(b)?);
    let n = a.len().max(b.len());
    let at = |v: &[i64], i: usize| v.get(i).copied().unwrap_or(0);
    Ok((0..n)
        .map(|i| at(&a, i).cmp(&at(&b, i)))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal))
}

/// `icinga`: OK with the uptime and version; WARNING after a reload
/// whose configuration did not load; CRITICAL when the version is below
/// `icinga_min_version`.
pub fn icinga(
    name: &str,
    min_version: &Value,
    node: &NodeFacts<'_>,
    perfdata: Vec<Perfdata>,
) -> CheckResult {
    let now = now();
    let mut state = 0;
    let mut output = running_for(node.uptime);
    if node.last_reload_failed > 0.0 {
        output.push_str(&format!(
            "; Last reload attempt failed at {}",
            local_time(node.last_reload_failed)
        ));
        state = 1;
    }
    let min = match min_version {
        Value::Null => String::new(),
        Value::Number(n) => format!("{n:.6}"),
        other => other.to_display(),
    };
    if !min.is_empty() {
        match compare_versions(COMPATIBLE_VERSION, &min) {
            Ok(std::cmp::Ordering::Less) => {
                state = 2;
                output.push_str(&format!("; Minimum version {min} is not installed."));
            }
            Ok(_) => {}
            Err(e) => return crate::check::exception(name, &e),
        }
    }
    CheckResult {
        performance_data: perfdata,
        ..CheckResult::new(state, 0, output, now)
    }
}

/// `cluster`: CRITICAL while an endpoint near this node is not
/// connected, naming them; the features' figures as performance data.
pub fn cluster(topology: &Topology, node: &NodeFacts<'_>) -> CheckResult {
    let status = topology.listener_status(&node.links(), now());
    let (state, output) = if status.not_connected.is_empty() {
        let n = status.connected.len();
        (
            0,
            format!(
                "Icinga 2 Cluster OK: {n} endpoints are connected.\n({})",
                status.connected.join(", ")
            ),
        )
    } else {
        let n = status.not_connected.len();
        (
            2,
            format!(
                "Icinga 2 Cluster Problem: {n} endpoints are not connected.\n({})",
                status.not_connected.join(", ")
            ),
        )
    };
    CheckResult {
        performance_data: node.feature_perfdata(),
        ..CheckResult::new(state, 0, output, now())
    }
}

/// `cluster-zone`: whether any endpoint of the zone is connected, and its
/// lag against the thresholds that were set.
pub fn cluster_zone(check: &ZoneCheck, node: &NodeFacts<'_>) -> CheckResult {
    let zone = &check.zone.name;
    let health = check
        .topology
        .zone_health(&check.zone, &node.links(), now());
    let lag = duration_text(health.lag);
    let (state, output) = if !health.connected {
        (2, format!("Zone '{zone}' is not connected. Log lag: {lag}"))
    } else {
        let over = |(limit, set): (f64, bool)| set && health.lag > limit;
        let beyond = |word: &str, limit: f64| {
            format!(
                "Zone '{zone}' is connected. Log lag: {lag} greater than {word} threshold: {}",
                duration_text(limit)
            )
        };
        if over(check.critical) {
            (2, beyond("critical", check.critical.0))
        } else if over(check.warning) {
            (1, beyond("warning", check.warning.0))
        } else {
            (0, format!("Zone '{zone}' is connected. Log lag: {lag}"))
        }
    };
    let mut performance_data = vec![Perfdata::Value(PerfdataValue {
        unit: "s".into(),
        warn: Some(check.warning.0),
        crit: Some(check.critical.0),
        ..PerfdataValue::new("slave_lag", health.lag)
    })];
    for (label, value) in health.traffic.perfdata() {
        performance_data.push(PerfdataValue::plain(label, value));
    }
    CheckResult {
        performance_data,
        ..CheckResult::new(state, 0, output, now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_icinga_writes_them() {
        assert_eq!(duration_text(0.792), "792 milliseconds");
        assert_eq!(duration_text(0.0004), "less than 1 millisecond");
        assert_eq!(duration_text(1.2), "1 second");
        assert_eq!(duration_text(6.0), "6 seconds");
        assert_eq!(duration_text(62.0), "1 minute and 2 seconds");
        assert_eq!(
            duration_text(90061.0),
            "1 day, 1 hour, 1 minute and 1 second"
        );
    }

    #[test]
    fn versions() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("2.13.6", "2.14"), Ok(Less));
        assert_eq!(compare_versions("2.13.6", "2.13"), Ok(Greater));
        assert_eq!(compare_versions("2.13.6", "2.13.6"), Ok(Equal));
        assert_eq!(
            compare_versions("2.13.6", "2.13.6-1"),
            Err("Can't convert '6-1' to an integer.".into())
        );
    }
}
