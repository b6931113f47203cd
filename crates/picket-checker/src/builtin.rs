//! Built-in checks that need no process and no waiting: `random`, `null`
//! (`NullCheck`) and `icinga` (the node's own health), worded as Icinga 2
//! words them so that dashboards and scripts read them alike.

use picket_lang::Value;
use picket_model::monitor::Monitor;
use picket_model::result::{now, CheckResult, Perfdata, PerfdataValue};
use picket_model::state::{Kind, StateType};

use crate::stats::Stats;

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
        return plural((rest * 1000.0).floor() as u64, "millisecond");
    }
    match parts.split_last() {
        Some((last, first)) if !first.is_empty() => format!("{} and {last}", first.join(", ")),
        _ => parts.concat(),
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

/// The node's health figures, named as Icinga's `icinga` check names them.
pub fn health(monitor: &Monitor, stats: &Stats, running: usize) -> Vec<Perfdata> {
    let mut out = Vec::new();
    let mut push = |label: &str, value: f64| out.push(PerfdataValue::plain(label, value));
    push("checkercomponent_checker_idle", 0.0);
    push("checkercomponent_checker_pending", running as f64);
    for (kind, word) in [(Kind::Host, "host"), (Kind::Service, "service")] {
        for (active, how) in [(true, "active"), (false, "passive")] {
            push(
                &format!("{how}_{word}_checks"),
                stats.count(kind, active, 60) as f64 / 60.0,
            );
        }
        for (span, suffix) in [(60, "1min"), (300, "5min"), (900, "15min")] {
            for (active, how) in [(true, "active"), (false, "passive")] {
                push(
                    &format!("{how}_{word}_checks_{suffix}"),
                    stats.count(kind, active, span) as f64,
                );
            }
        }
    }
    push("current_pending_callbacks", 0.0);
    push("current_concurrent_checks", running as f64);
    push("remote_check_queue", 0.0);
    let (mut latency, mut execution) = (Figures::default(), Figures::default());
    // Services: ok, warning, critical, unknown, pending, unreachable,
    // flapping, problem. Hosts: up, down, pending, unreachable, flapping,
    // problem.
    let mut services = [0u64; 8];
    let mut hosts = [0u64; 6];
    for (_, c, e) in monitor.checkables() {
        let Some(r) = &e.last_result else {
            match c.rules.kind {
                Kind::Service => services[4] += 1,
                Kind::Host => hosts[2] += 1,
            }
            continue;
        };
        latency.add((r.schedule_end - r.schedule_start) - (r.execution_end - r.execution_start));
        execution.add(r.execution_end - r.execution_start);
        let live = &e.live;
        let problem = live.state != 0 && live.state_type == StateType::Hard;
        match c.rules.kind {
            Kind::Service => {
                services[usize::from(live.state.min(3))] += 1;
                services[5] += u64::from(!live.last_reachable);
                services[6] += u64::from(live.flapping.is_flapping);
                services[7] += u64::from(problem);
            }
            Kind::Host => {
                hosts[usize::from(live.state.min(1))] += 1;
                hosts[3] += u64::from(!live.last_reachable);
                hosts[4] += u64::from(live.flapping.is_flapping);
                hosts[5] += u64::from(problem);
            }
        }
    }
    for (label, f) in [("latency", &latency), ("execution_time", &execution)] {
        push(&format!("min_{label}"), f.min());
        push(&format!("max_{label}"), f.max);
        push(&format!("avg_{label}"), f.avg());
    }
    let service_labels = [
        "ok",
        "warning",
        "critical",
        "unknown",
        "pending",
        "unreachable",
        "flapping",
    ];
    for (i, label) in service_labels.iter().enumerate() {
        push(&format!("num_services_{label}"), services[i] as f64);
    }
    // Downtimes and acknowledgements arrive with the API (operator actions).
    push("num_services_in_downtime", 0.0);
    push("num_services_acknowledged", 0.0);
    push("num_services_handled", services[5] as f64);
    push("num_services_problem", services[7] as f64);
    push("uptime", stats.uptime());
    for (i, label) in ["up", "down", "pending", "unreachable", "flapping"]
        .iter()
        .enumerate()
    {
        push(&format!("num_hosts_{label}"), hosts[i] as f64);
    }
    push("num_hosts_in_downtime", 0.0);
    push("num_hosts_acknowledged", 0.0);
    push("num_hosts_handled", hosts[3] as f64);
    push("num_hosts_problem", hosts[5] as f64);
    // No cluster yet: nothing sent or received.
    for label in [
        "last_messages_sent",
        "last_messages_received",
        "sum_messages_sent_per_second",
        "sum_messages_received_per_second",
        "sum_bytes_sent_per_second",
        "sum_bytes_received_per_second",
    ] {
        push(label, 0.0);
    }
    out
}

#[derive(Default)]
struct Figures {
    min: Option<f64>,
    max: f64,
    sum: f64,
    n: u64,
}

impl Figures {
    fn add(&mut self, v: f64) {
        let v = v.max(0.0);
        self.min = Some(self.min.map_or(v, |m| m.min(v)));
        self.max = self.max.max(v);
        self.sum += v;
        self.n += 1;
    }

    fn min(&self) -> f64 {
        self.min.unwrap_or(0.0)
    }

    fn avg(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }
}

/// `icinga`: OK with the uptime and version, CRITICAL when the version
/// is below `icinga_min_version`.
pub fn icinga(
    name: &str,
    min_version: &Value,
    uptime: f64,
    perfdata: Vec<Perfdata>,
) -> CheckResult {
    let now = now();
    let mut state = 0;
    let mut output = running_for(uptime);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_icinga_writes_them() {
        assert_eq!(duration_text(0.792), "792 milliseconds");
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
