//! Every host and service this node checks, with its live state: the
//! table the checker schedules from and hands results to.
//!
//! Results go through [`Monitor::process`], which applies the state
//! machine ([`crate::state`]), decides reachability through the host of a
//! service and `Dependency` objects, moves `next_check` as Icinga 2 does
//! and publishes what happened on the [`Bus`]. Whether a due check may run
//! at all (active checks enabled, inside its `check_period`, no dependency
//! with `disable_checks` failing) is [`Monitor::due`]. The time is always
//! passed in, so the rules can be replayed.

use std::collections::BTreeMap;
use std::sync::Arc;

use picket_lang::Value;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::event::{Bus, Event, Subject};
use crate::period::Periods;
use crate::registry::Registry;
use crate::result::CheckResult;
use crate::state::{Kind, Live, Rules, StateType};
use crate::ConfigObject;

/// Index of a checkable in a [`Monitor`].
pub type Id = usize;

/// What a reachability question is for (Icinga's dependency types).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The state itself: `last_reachable` of a result.
    State,
    /// Whether a due check runs (`disable_checks`).
    CheckExecution,
    /// Whether notifications go out (`disable_notifications`).
    Notification,
}

/// How deep dependency chains are followed before they count as broken
/// (a cycle, or a chain no configuration means to have).
const MAX_DEPTH: u32 = 256;

/// A `Dependency` of a checkable on a parent.
#[derive(Debug, Clone)]
struct Dependency {
    parent: Id,
    /// Bit `1 << state` for each parent state that keeps the dependency
    /// available.
    states: u8,
    ignore_soft_states: bool,
    disable_checks: bool,
    disable_notifications: bool,
    period: Option<usize>,
}

/// The configuration of a checkable that scheduling and the state rules
/// read, taken from its object once.
#[derive(Debug, Clone)]
pub struct Checkable {
    pub object: Arc<ConfigObject>,
    pub subject: Subject,
    pub rules: Rules,
    pub check_interval: f64,
    pub retry_interval: f64,
    pub enable_active_checks: bool,
    pub enable_passive_checks: bool,
    check_period: Option<usize>,
    /// The host of a service.
    host: Option<Id>,
    dependencies: Vec<Dependency>,
    /// Spreads checks with equal intervals over the interval (a per-object
    /// phase, in hundredths of a second).
    scheduling_offset: u32,
}

impl Checkable {
    /// The host of a service.
    pub fn host(&self) -> Option<Id> {
        self.host
    }
}

/// What a checkable keeps between results (and across restarts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub live: Live,
    pub last_result: Option<Arc<CheckResult>>,
    /// When the next active check is due (seconds since the epoch).
    pub next_check: f64,
    /// The next check runs even where active checks are disabled or the
    /// check period is outside (a forced reschedule).
    #[serde(default)]
    pub force_next_check: bool,
    /// Runs of `execute-command` by id; boxed, since few checkables have
    /// any and every one carries the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executions: Option<Box<BTreeMap<String, Execution>>>,
    /// Where its notifications stand; boxed, as most checkables never
    /// notified anybody.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified: Option<Box<crate::notifications::Notified>>,
    /// The next notification goes past the filters (the API's
    /// `force_next_notification`).
    #[serde(default)]
    pub force_next_notification: bool,
}

impl Entry {
    /// Icinga's `problem`: the last result is not OK (soft or hard; a
    /// pending checkable is none). `state` is already the host state for
    /// hosts, so WARNING counts as UP there.
    pub fn problem(&self) -> bool {
        self.last_result.is_some() && self.live.state != 0
    }

    /// Icinga's `handled`: a problem someone took care of, by a downtime
    /// in effect or an acknowledgement.
    pub fn handled(&self) -> bool {
        self.problem()
            && (self.live.marks.acknowledgement != 0 || self.live.marks.downtime_depth > 0)
    }
}

/// One run of `execute-command`, as the checkable's `executions` shows
/// it: the deadline from the start, the rest once it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    pub deadline: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<Ended>,
}

/// The kinds of command `execute-command` runs (its `command_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandType {
    Check,
    Event,
    Notification,
}

impl CommandType {
    /// `CheckCommand`, `EventCommand` or `NotificationCommand`.
    pub fn parse(name: &str) -> Option<CommandType> {
        match name {
            "CheckCommand" => Some(CommandType::Check),
            "EventCommand" => Some(CommandType::Event),
            "NotificationCommand" => Some(CommandType::Notification),
            _ => None,
        }
    }

    pub fn type_name(self) -> &'static str {
        match self {
            CommandType::Check => "CheckCommand",
            CommandType::Event => "EventCommand",
            CommandType::Notification => "NotificationCommand",
        }
    }
}

/// How a run of `execute-command` ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ended {
    pub start: f64,
    pub end: f64,
    pub exit: i64,
    pub output: String,
}

/// Why a due check does not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    ActiveChecksDisabled,
    OutsideCheckPeriod,
    DependencyFailed,
}

/// Why a result was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("Passive checks are disabled for object '{0}'.")]
    PassiveChecksDisabled(String),
    /// A dependency with `disable_checks` holds: no check runs, and no
    /// passive result is taken either.
    #[error("Ignoring passive check result for unreachable object '{0}'.")]
    Unreachable(String),
}

/// The node-wide switches of `IcingaApplication`.
#[derive(Debug, Clone, Copy)]
struct Switches {
    host_checks: bool,
    service_checks: bool,
    flapping: bool,
}

pub struct Monitor {
    checkables: Vec<Checkable>,
    entries: Vec<Entry>,
    by_name: FxHashMap<String, Id>,
    periods: Periods,
    switches: Switches,
    bus: Bus,
    pub(crate) notifications: crate::notifications::Notifications,
}

fn number(object: &ConfigObject, field: &str, default: f64) -> f64 {
    object
        .get(field)
        .and_then(|v| v.to_number().ok())
        .filter(|n| n.is_finite())
        .unwrap_or(default)
}

fn flag(object: &ConfigObject, field: &str, default: bool) -> bool {
    object.get(field).map_or(default, |v| v.to_bool())
}

fn text(object: &ConfigObject, field: &str) -> String {
    object
        .get(field)
        .filter(|v| !v.is_null())
        .map(|v| v.to_display())
        .unwrap_or_default()
}

/// The state bit a name of a `states` filter stands for.
fn state_bit(name: &str, parent_is_host: bool) -> u8 {
    let state = match (name, parent_is_host) {
        ("Up", true) => 0,
        ("Down", true) => 1,
        ("OK", false) => 0,
        ("Warning", false) => 1,
        ("Critical", false) => 2,
        ("Unknown", false) => 3,
        _ => return 0,
    };
    1 << state
}

/// A small, fast pseudo-random number (splitmix64), seeded from the clock
/// and a counter: for spreading checks, not for anything secret.
pub fn spread_random() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut z = STATE
        .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
        .wrapping_add(seed);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A random fraction in [0, 1).
fn fraction() -> f64 {
    (spread_random() >> 11) as f64 / (1u64 << 53) as f64
}

impl Monitor {
    /// The checkables of a committed configuration, all pending.
    pub fn build(registry: &Registry, bus: Bus) -> Monitor {
        let app = registry.committed("IcingaApplication").into_iter().next();
        let switches = Switches {
            host_checks: app
                .as_ref()
                .is_none_or(|a| flag(a, "enable_host_checks", true)),
            service_checks: app
                .as_ref()
                .is_none_or(|a| flag(a, "enable_service_checks", true)),
            flapping: app
                .as_ref()
                .is_none_or(|a| flag(a, "enable_flapping", true)),
        };
        let periods = Periods::build(registry.committed("TimePeriod"), crate::result::now());
        let period_of = |o: &ConfigObject, field: &str| {
            let name = text(o, field);
            (!name.is_empty()).then(|| periods.index(&name)).flatten()
        };

        let hosts = registry.committed("Host");
        let services = registry.committed("Service");
        let mut checkables = Vec::with_capacity(hosts.len() + services.len());
        let mut by_name = FxHashMap::default();
        for object in hosts.into_iter().chain(services) {
            let kind = if object.schema.name == "Host" {
                Kind::Host
            } else {
                Kind::Service
            };
            let subject = match kind {
                Kind::Host => Subject {
                    host: object.name().into(),
                    service: None,
                },
                Kind::Service => Subject {
                    host: text(&object, "host_name").into(),
                    service: Some(object.name().into()),
                },
            };
            let check_interval = number(&object, "check_interval", 300.0);
            let rules = Rules {
                kind,
                max_check_attempts: number(&object, "max_check_attempts", 3.0).max(1.0) as u32,
                volatile: flag(&object, "volatile", false),
                enable_flapping: flag(&object, "enable_flapping", false) && switches.flapping,
                flapping_threshold_low: number(&object, "flapping_threshold_low", 25.0),
                flapping_threshold_high: number(&object, "flapping_threshold_high", 30.0),
            };
            by_name.insert(object.full_name(), checkables.len());
            checkables.push(Checkable {
                subject,
                rules,
                check_interval,
                retry_interval: number(&object, "retry_interval", 60.0),
                enable_active_checks: flag(&object, "enable_active_checks", true),
                enable_passive_checks: flag(&object, "enable_passive_checks", true),
                check_period: period_of(&object, "check_period"),
                host: None,
                dependencies: Vec::new(),
                scheduling_offset: (spread_random() % 100_000_000) as u32,
                object,
            });
        }
        for c in checkables.iter_mut() {
            if c.rules.kind == Kind::Service {
                c.host = by_name.get(c.subject.host.as_ref()).copied();
            }
        }
        for dep in registry.committed("Dependency") {
            let child = match text(&dep, "child_service_name") {
                s if s.is_empty() => text(&dep, "child_host_name"),
                s => format!("{}!{s}", text(&dep, "child_host_name")),
            };
            let parent_service = text(&dep, "parent_service_name");
            let parent = match parent_service.as_str() {
                "" => text(&dep, "parent_host_name"),
                s => format!("{}!{s}", text(&dep, "parent_host_name")),
            };
            let (Some(&child), Some(&parent)) = (by_name.get(&child), by_name.get(&parent)) else {
                continue;
            };
            let parent_is_host = parent_service.is_empty();
            let states = match dep.get("states") {
                Some(Value::Array(a)) => a
                    .to_vec()
                    .iter()
                    .map(|s| state_bit(&s.to_display(), parent_is_host))
                    .fold(0, |acc, b| acc | b),
                // Up for a host; OK and Warning for a service.
                _ if parent_is_host => 1,
                _ => 0b11,
            };
            checkables[child].dependencies.push(Dependency {
                parent,
                states,
                ignore_soft_states: flag(&dep, "ignore_soft_states", true),
                disable_checks: flag(&dep, "disable_checks", false),
                disable_notifications: flag(&dep, "disable_notifications", true),
                period: period_of(&dep, "period"),
            });
        }
        let entries = checkables
            .iter()
            .map(|c| Entry {
                live: Live::new(c.rules.kind),
                last_result: None,
                next_check: 0.0,
                force_next_check: false,
                executions: None,
                notified: None,
                force_next_notification: false,
            })
            .collect();
        let notifications = crate::notifications::Notifications::build(
            registry,
            |name| by_name.get(name).copied(),
            |o, field| period_of(o, field),
        );
        Monitor {
            checkables,
            entries,
            by_name,
            periods,
            switches,
            bus,
            notifications,
        }
    }

    pub fn len(&self) -> usize {
        self.checkables.len()
    }

    pub fn is_empty(&self) -> bool {
        self.checkables.is_empty()
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// The checkable named `host` or `host!service`.
    pub fn find(&self, full_name: &str) -> Option<Id> {
        self.by_name.get(full_name).copied()
    }

    pub fn checkable(&self, id: Id) -> &Checkable {
        &self.checkables[id]
    }

    pub fn entry(&self, id: Id) -> &Entry {
        &self.entries[id]
    }

    pub(crate) fn entry_mut(&mut self, id: Id) -> &mut Entry {
        &mut self.entries[id]
    }

    /// The notifications of the configuration and where they stand.
    pub fn notifications(&self) -> &crate::notifications::Notifications {
        &self.notifications
    }

    pub fn checkables(&self) -> impl Iterator<Item = (Id, &Checkable, &Entry)> {
        self.checkables
            .iter()
            .zip(&self.entries)
            .enumerate()
            .map(|(id, (c, e))| (id, c, e))
    }

    /// Takes over what another table (the previous configuration, or
    /// retention) knows of objects of the same name; the rest stays pending.
    pub fn adopt(&mut self, full_name: &str, entry: Entry) -> bool {
        let Some(id) = self.find(full_name) else {
            return false;
        };
        self.entries[id] = entry;
        true
    }

    /// Sets the first `next_check` of every checkable: a check already
    /// scheduled more than a minute ahead keeps its time; the others are
    /// spread at random over their interval (at most a minute), so that a
    /// start does not run every check at once.
    pub fn spread_first_checks(&mut self, now: f64) {
        self.spread(now, |next| next < now + 60.0);
    }

    /// Spreads the first checks of checkables that were never scheduled
    /// (new in a reload); the others keep their schedule.
    pub fn spread_unscheduled(&mut self, now: f64) {
        self.spread(now, |next| next == 0.0);
    }

    fn spread(&mut self, now: f64, which: impl Fn(f64) -> bool) {
        for (c, e) in self.checkables.iter().zip(self.entries.iter_mut()) {
            if which(e.next_check) {
                e.next_check = now + fraction() * c.check_interval.clamp(0.0, 60.0);
            }
        }
    }

    pub(crate) fn inside_period(&self, period: Option<usize>, now: f64) -> bool {
        self.inside(period, now)
    }

    fn inside(&self, period: Option<usize>, now: f64) -> bool {
        period.is_none_or(|p| self.periods.is_inside(p, now))
    }

    /// The TimePeriods and their segments.
    pub fn periods(&self) -> &Periods {
        &self.periods
    }

    /// Moves the TimePeriods' windows on (every
    /// `period::UPDATE_INTERVAL`); see `Periods::update`.
    pub fn update_periods(&mut self, now: f64) {
        self.periods.update(now);
    }

    /// Takes the TimePeriods' windows a previous run left (retention).
    pub fn resume_periods(&mut self, retained: Vec<(String, crate::period::Window)>, now: f64) {
        self.periods.resume(&retained.into_iter().collect(), now);
    }

    /// Keeps the windows of the TimePeriods that `old` had unchanged.
    pub fn adopt_periods(&mut self, old: &Monitor) {
        self.periods.adopt(&old.periods);
    }

    /// Whether `id` counts as reachable for `purpose`: every parent is
    /// reachable, a service's host is not hard DOWN (for the state and
    /// notifications), and every dependency is available.
    pub fn reachable(&self, id: Id, purpose: Purpose, now: f64) -> bool {
        self.reachable_at(id, purpose, now, 0)
    }

    fn reachable_at(&self, id: Id, purpose: Purpose, now: f64, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        let c = &self.checkables[id];
        if c.dependencies
            .iter()
            .any(|d| !self.reachable_at(d.parent, purpose, now, depth + 1))
        {
            return false;
        }
        if purpose != Purpose::CheckExecution {
            if let Some(host) = c.host {
                let live = &self.entries[host].live;
                if live.state != 0 && live.state_type == StateType::Hard {
                    return false;
                }
            }
        }
        c.dependencies
            .iter()
            .all(|d| self.available(d, purpose, now))
    }

    fn available(&self, dep: &Dependency, purpose: Purpose, now: f64) -> bool {
        let parent = &self.entries[dep.parent];
        // A parent that was never checked does not fail anything.
        if parent.last_result.is_none() {
            return true;
        }
        if dep.ignore_soft_states && parent.live.state_type == StateType::Soft {
            return true;
        }
        if dep.states & (1 << parent.live.state.min(7)) != 0 {
            return true;
        }
        if !self.inside(dep.period, now) {
            return true;
        }
        match purpose {
            Purpose::State => false,
            Purpose::CheckExecution => !dep.disable_checks,
            Purpose::Notification => !dep.disable_notifications,
        }
    }

    /// Whether the check of `id`, due now, may run. When it may not, its
    /// next check is moved on by its interval.
    pub fn due(&mut self, id: Id, now: f64) -> Result<(), Skip> {
        if self.entries[id].force_next_check {
            return Ok(());
        }
        let c = &self.checkables[id];
        let enabled = match c.rules.kind {
            Kind::Host => self.switches.host_checks,
            Kind::Service => self.switches.service_checks,
        };
        let skip = if !c.enable_active_checks || !enabled {
            Some(Skip::ActiveChecksDisabled)
        } else if !self.inside(c.check_period, now) {
            Some(Skip::OutsideCheckPeriod)
        } else if !self.reachable(id, Purpose::CheckExecution, now) {
            Some(Skip::DependencyFailed)
        } else {
            None
        };
        match skip {
            Some(why) => {
                self.entries[id].next_check = self.next_check_after(id, now);
                Err(why)
            }
            None => Ok(()),
        }
    }

    /// A check of `id` starts: if its result never comes, it is due again
    /// after its check interval.
    pub fn started(&mut self, id: Id, now: f64) {
        let e = &mut self.entries[id];
        e.next_check = now + self.checkables[id].check_interval;
        e.force_next_check = false;
    }

    /// Records a run of `execute-command` (started or ended) under its id.
    pub fn record_execution(&mut self, id: Id, key: String, execution: Execution) {
        self.entries[id]
            .executions
            .get_or_insert_with(Default::default)
            .insert(key, execution);
    }

    /// Forgets the runs of `execute-command` whose deadline has passed,
    /// ended or not, as Icinga's periodic clean-up does (an emptied
    /// `executions` stays an empty dictionary there).
    pub fn prune_executions(&mut self, now: f64) {
        for e in &mut self.entries {
            if let Some(runs) = &mut e.executions {
                runs.retain(|_, run| run.deadline >= now);
            }
        }
    }

    /// Takes a runtime attribute as an API client set it (`POST` with
    /// `check_attempt`, `next_check`, `last_state_ok`, ...), as Icinga's
    /// `ModifyAttribute` stores it, until results move it on. Attributes
    /// Icinga computes from others (`state`, `last_check`, `severity`, ...)
    /// and those the operations store keeps (`acknowledgement*`, set
    /// there; `downtime_depth`) are not taken; the answer says whether it
    /// was.
    pub fn set_runtime(&mut self, id: Id, name: &str, value: &Value) -> bool {
        let host = self.checkables[id].rules.kind == Kind::Host;
        let e = &mut self.entries[id];
        let l = &mut e.live;
        let number = || value.to_number().ok();
        let flag = value.to_bool();
        let state_type = || match number() {
            Some(0.0) => Some(StateType::Soft),
            Some(1.0) => Some(StateType::Hard),
            _ => None,
        };
        let at = |slot: &mut f64| number().map(|n| *slot = n).is_some();
        let in_state = match (host, name) {
            (true, "last_state_up") | (false, "last_state_ok") => Some(0),
            (true, "last_state_down") | (false, "last_state_warning") => Some(1),
            (false, "last_state_critical") => Some(2),
            (false, "last_state_unknown") => Some(3),
            _ => None,
        };
        if let Some(i) = in_state {
            return at(&mut l.last_in_state[i]);
        }
        match name {
            "check_attempt" => match number() {
                // Icinga keeps an unsigned number; what does not fit is refused.
                Some(n) if (0.0..=f64::from(u32::MAX)).contains(&n) => {
                    l.check_attempt = n as u32;
                    true
                }
                _ => false,
            },
            "state_type" => state_type().map(|t| l.state_type = t).is_some(),
            "last_state_type" => state_type().map(|t| l.last_state_type = t).is_some(),
            "last_state_change" => at(&mut l.last_state_change),
            "last_hard_state_change" => at(&mut l.last_hard_state_change),
            "previous_state_change" => at(&mut l.previous_state_change),
            "last_state_unreachable" => at(&mut l.last_unreachable),
            "last_reachable" => {
                l.last_reachable = flag;
                true
            }
            "flapping" => {
                l.flapping.is_flapping = flag;
                true
            }
            "flapping_current" => at(&mut l.flapping.current),
            "flapping_last_change" => at(&mut l.flapping.last_change),
            "next_check" => at(&mut e.next_check),
            "force_next_check" => {
                e.force_next_check = flag;
                true
            }
            "force_next_notification" => {
                e.force_next_notification = flag;
                true
            }
            _ => false,
        }
    }

    /// Moves the next check of `id` to `at` (Icinga's `reschedule-check`);
    /// `force` runs it whatever active checks or the check period say.
    pub fn reschedule(&mut self, id: Id, at: f64, force: bool) {
        let e = &mut self.entries[id];
        e.next_check = at;
        e.force_next_check = force;
    }

    /// The interval after the current state: the retry interval while a
    /// problem is soft, else the check interval.
    fn interval(&self, id: Id) -> f64 {
        let e = &self.entries[id];
        let c = &self.checkables[id];
        if e.live.state_type == StateType::Soft && e.last_result.is_some() {
            c.retry_interval
        } else {
            c.check_interval
        }
    }

    /// The next check after `now`: one interval later, pulled back a little
    /// towards the checkable's own phase so that checks with the same
    /// interval stay spread out rather than drifting into bunches.
    fn next_check_after(&self, id: Id, now: f64) -> f64 {
        let interval = self.interval(id).max(0.0);
        let offset = f64::from(self.checkables[id].scheduling_offset);
        let mut adjust = 0.0;
        if interval > 1.0 {
            adjust = (now * 100.0 + offset).rem_euclid(interval * 100.0) / 100.0;
            adjust = adjust.min(0.5 + offset.rem_euclid(interval * 5.0) / 100.0);
        }
        now - adjust + interval
    }

    /// Every checkable that depends on `id` through `Dependency` objects,
    /// directly or further down (Icinga's children, for downtimes with
    /// child options).
    pub fn all_children(&self, id: Id) -> Vec<Id> {
        let mut seen = vec![false; self.checkables.len()];
        let mut out = Vec::new();
        let mut queue = vec![id];
        while let Some(parent) = queue.pop() {
            for (child, c) in self.checkables.iter().enumerate() {
                if !seen[child] && child != id && c.dependencies.iter().any(|d| d.parent == parent)
                {
                    seen[child] = true;
                    out.push(child);
                    queue.push(child);
                }
            }
        }
        out
    }

    /// Takes what operators did to `id` (its marks, derived from the
    /// operations store) and publishes the changes that led there.
    pub fn operated(
        &mut self,
        id: Id,
        marks: crate::operations::Marks,
        changes: Vec<crate::operations::Change>,
        now: f64,
    ) {
        let live = &mut self.entries[id].live;
        live.marks = marks;
        let (state, state_type) = (live.state, live.state_type);
        for change in changes {
            self.after_operation(id, &change.event, change.object.as_deref());
            self.bus.publish(Event::Operation(crate::event::Operated {
                subject: self.checkables[id].subject.clone(),
                state,
                state_type,
                change: change.event,
                object: change.object,
                completes_creation: change.completes_creation,
                timestamp: now,
            }));
        }
    }

    /// Processes a result for `id` at `now`: the state machine, reachability,
    /// the next check, and the events.
    pub fn process(&mut self, id: Id, result: CheckResult, now: f64) -> Result<(), Refused> {
        let c = &self.checkables[id];
        if !result.active && !c.enable_passive_checks {
            return Err(Refused::PassiveChecksDisabled(c.object.full_name()));
        }
        if !result.active && !self.reachable(id, Purpose::CheckExecution, now) {
            return Err(Refused::Unreachable(c.object.full_name()));
        }
        // A result older than the one in force is dropped (unless that one
        // claims to come from the future), as Icinga drops it.
        if let Some(last) = &self.entries[id].last_result {
            if last.execution_start <= now && result.execution_start < last.execution_start {
                if result.active {
                    self.entries[id].next_check = self.next_check_after(id, now);
                }
                return Ok(());
            }
        }
        let reachable = self.reachable(id, Purpose::State, now);
        let rules = self.checkables[id].rules;
        let entry = &mut self.entries[id];
        let old_hard_state = entry.live.last_hard_state;
        let (old_state, old_type) = (entry.live.state, entry.live.state_type);
        let first = entry.last_result.is_none();
        let change = entry.live.apply(&rules, result.state, reachable, now);
        let result = Arc::new(result);
        entry.last_result = Some(result.clone());
        let next = if result.active {
            self.next_check_after(id, now)
        } else if result.ttl > 0.0 {
            now + result.ttl
        } else {
            // Passive results push the next active check back: as long as
            // they keep coming, no active check runs (freshness).
            now + self.checkables[id].check_interval
        };
        let entry = &mut self.entries[id];
        entry.next_check = next;
        let flapping =
            (change.flapping_started || change.flapping_ended).then_some(change.flapping_started);
        self.after_result(id, old_state, old_type, change.hard_changed, flapping, now);
        let entry = &self.entries[id];
        if !self.bus.has_subscribers() {
            return Ok(());
        }
        let live = entry.live.clone();
        let subject = self.checkables[id].subject.clone();
        // Icinga sends a StateChange for the first result, for every soft
        // result and for every hard change but OK to OK (which volatile
        // checkables count as one).
        let ok_to_ok = live.last_state == 0 && live.state == 0;
        if first || live.state_type == StateType::Soft || (change.hard_changed && !ok_to_ok) {
            self.bus.publish(Event::StateChange {
                subject: subject.clone(),
                state: live.state,
                state_type: live.state_type,
                last_state: live.last_state,
                last_hard_state: old_hard_state,
                hard: change.hard_changed,
                check_result: result.clone(),
                live: Box::new(live.clone()),
                marks: live.marks,
                timestamp: now,
            });
        }
        if change.flapping_started || change.flapping_ended {
            self.bus.publish(Event::Flapping {
                subject: subject.clone(),
                state: live.state,
                state_type: live.state_type,
                is_flapping: live.flapping.is_flapping,
                flapping_current: live.flapping.current,
                threshold_low: rules.flapping_threshold_low,
                threshold_high: rules.flapping_threshold_high,
                timestamp: now,
            });
        }
        self.bus.publish(Event::CheckResult {
            subject,
            check_result: result,
            live,
            timestamp: now,
        });
        Ok(())
    }
}
