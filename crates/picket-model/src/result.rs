//! A check result as Icinga 2 records it (`last_check_result`): what the
//! checker (or a passive submission) hands to the state machine, what the
//! event bus carries and what retention keeps.

use serde::{Deserialize, Serialize};

/// One performance data entry. Plugins' entries stay the text they printed
/// (Icinga keeps them as strings); built-in checks produce values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Perfdata {
    Text(String),
    Value(PerfdataValue),
}

/// A structured performance data value, shaped as Icinga's `PerfdataValue`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerfdataValue {
    pub label: String,
    pub value: f64,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub warn: Option<f64>,
    #[serde(default)]
    pub crit: Option<f64>,
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub counter: bool,
}

impl PerfdataValue {
    /// A value with a label and nothing else.
    pub fn new(label: &str, value: f64) -> PerfdataValue {
        PerfdataValue {
            label: label.to_string(),
            value,
            unit: String::new(),
            warn: None,
            crit: None,
            min: None,
            max: None,
            counter: false,
        }
    }

    /// [`PerfdataValue::new`], as performance data.
    pub fn plain(label: &str, value: f64) -> Perfdata {
        Perfdata::Value(PerfdataValue::new(label, value))
    }
}

/// The result of one check. Times are seconds since the epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The state as the plugin reported it (0–3); hosts map it to UP/DOWN.
    pub state: u8,
    pub exit_status: i64,
    pub output: String,
    pub performance_data: Vec<Perfdata>,
    /// The command line that ran, when a process ran.
    pub command: Option<Vec<String>>,
    pub execution_start: f64,
    pub execution_end: f64,
    pub schedule_start: f64,
    pub schedule_end: f64,
    /// False for results submitted from outside (passive).
    pub active: bool,
    /// The endpoint that ran the check.
    pub check_source: String,
    /// Made by a built-in check that sets only the state and the output
    /// (`ido`, `icingadb`): Icinga leaves `command` and
    /// `performance_data` of such results null.
    #[serde(default)]
    pub bare: bool,
    /// Made by a built-in check that names its command but never got to
    /// performance data (`cluster-zone` for a zone that does not exist):
    /// Icinga leaves `performance_data` null.
    #[serde(default)]
    pub without_perfdata: bool,
    /// The node that took the result in (Icinga's `scheduling_source`),
    /// when it is not the check source (a passive result naming its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling_source: Option<String>,
    /// A passive result's time to live: the next check waits this long
    /// instead of the check interval (0: not given).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ttl: f64,
}

pub(crate) fn is_zero(n: &f64) -> bool {
    *n == 0.0
}

impl CheckResult {
    /// A result with everything but the outcome defaulted to `now`.
    pub fn new(state: u8, exit_status: i64, output: String, now: f64) -> CheckResult {
        CheckResult {
            state,
            exit_status,
            output,
            performance_data: Vec::new(),
            command: None,
            execution_start: now,
            execution_end: now,
            schedule_start: now,
            schedule_end: now,
            active: true,
            check_source: String::new(),
            bare: false,
            without_perfdata: false,
            scheduling_source: None,
            ttl: 0.0,
        }
    }
}

/// Seconds since the epoch, as a float (Icinga's timestamps).
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
