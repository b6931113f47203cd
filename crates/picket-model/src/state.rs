//! The live state of a host or service and Icinga 2's rules for changing
//! it with each check result: soft and hard states, check attempts, state
//! change times, volatile checkables and flapping detection.
//!
//! This is pure bookkeeping with the time passed in, so that it can be
//! replayed and tested against the sequences Icinga 2 produces; scheduling,
//! dependencies and the event bus use what [`Live::apply`] reports.

use serde::{Deserialize, Serialize};

/// Soft (still retrying) or hard (confirmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum StateType {
    Soft = 0,
    #[default]
    Hard = 1,
}

/// Whether the checkable is a host (states UP/DOWN) or a service
/// (OK/WARNING/CRITICAL/UNKNOWN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Host,
    Service,
}

impl Kind {
    /// The checkable's state for a check result's state: hosts are UP for
    /// OK and WARNING, DOWN otherwise.
    pub fn state_of(self, result_state: u8) -> u8 {
        match self {
            Kind::Service => result_state.min(3),
            Kind::Host if result_state <= 1 => 0,
            Kind::Host => 1,
        }
    }

    /// A state's name as Icinga writes it in logs and macros.
    pub fn state_name(self, state: u8) -> &'static str {
        match (self, state) {
            (Kind::Host, 0) => "UP",
            (Kind::Host, _) => "DOWN",
            (Kind::Service, 0) => "OK",
            (Kind::Service, 1) => "WARNING",
            (Kind::Service, 2) => "CRITICAL",
            _ => "UNKNOWN",
        }
    }
}

/// The attributes of a checkable that the rules read.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub kind: Kind,
    pub max_check_attempts: u32,
    pub volatile: bool,
    pub enable_flapping: bool,
    /// Percentages: flapping starts above `high`, stops at or below `low`.
    pub flapping_threshold_low: f64,
    pub flapping_threshold_high: f64,
}

/// Flapping detection: which of the last 20 results changed the state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub struct Flapping {
    pub buffer: u32,
    pub index: u8,
    pub current: f64,
    pub is_flapping: bool,
    pub last_change: f64,
}

impl Flapping {
    /// Records one result; recent changes weigh more (0.8 for the oldest
    /// slot to 1.18 for the newest).
    fn record(&mut self, changed: bool, rules: &Rules, now: f64) {
        let bit = 1u32 << self.index;
        if changed {
            self.buffer |= bit;
        } else {
            self.buffer &= !bit;
        }
        self.index = (self.index + 1) % 20;
        let mut changes = 0.0;
        for i in 0..20u32 {
            let slot = (u32::from(self.index) + i) % 20;
            if self.buffer & (1 << slot) != 0 {
                changes += 0.8 + 0.02 * f64::from(i);
            }
        }
        self.current = 100.0 * changes / 20.0;
        let flapping = if self.is_flapping {
            self.current > rules.flapping_threshold_low
        } else {
            self.current > rules.flapping_threshold_high
        };
        if flapping != self.is_flapping {
            self.last_change = now;
        }
        self.is_flapping = flapping;
    }
}

/// The state a result left, as its `vars_after` shows it (and the next
/// result's `vars_before`): the result's own state (0–3, also for hosts),
/// the state type, the attempt and the reachability after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultVars {
    pub state: u8,
    pub state_type: StateType,
    pub attempt: u32,
    pub reachable: bool,
}

/// The live state of one checkable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Live {
    pub state: u8,
    pub state_type: StateType,
    pub check_attempt: u32,
    pub last_state: u8,
    pub last_state_type: StateType,
    pub last_hard_state: u8,
    pub last_state_change: f64,
    pub last_hard_state_change: f64,
    pub last_check: f64,
    pub last_reachable: bool,
    pub flapping: Flapping,
    /// The last check result's own state (0–3): hosts keep it besides
    /// UP/DOWN, and flapping counts its changes.
    pub result_state: u8,
    /// The result states (0–3) of the last two hard changes, as Icinga
    /// keeps them: the latest times 100 plus the one before, 99 for none.
    #[serde(default = "no_hard_states")]
    pub hard_states: u16,
    /// When each state was last seen (`last_state_ok`, ... for services;
    /// `last_state_up`, `last_state_down` for hosts at 0 and 1).
    #[serde(default)]
    pub last_in_state: [f64; 4],
    /// When a result last found the checkable unreachable.
    #[serde(default)]
    pub last_unreachable: f64,
    /// The state change before the last one.
    #[serde(default)]
    pub previous_state_change: f64,
    /// What the result before the last one left (none before a second
    /// result): the last result's `vars_before`.
    #[serde(default)]
    pub vars_before: Option<ResultVars>,
    /// What operators did (acknowledgement, downtimes), as the node last
    /// derived it from the operations store; not part of the rules.
    #[serde(default)]
    pub marks: crate::operations::Marks,
}

fn no_hard_states() -> u16 {
    99 * 100 + 99
}

impl Live {
    /// A checkable that was never checked (pending): UNKNOWN for a
    /// service, DOWN for a host, soft, first attempt — as Icinga starts.
    pub fn new(kind: Kind) -> Live {
        let state = kind.state_of(3);
        Live {
            state,
            state_type: StateType::Soft,
            check_attempt: 1,
            last_state: state,
            last_state_type: StateType::Soft,
            last_hard_state: state,
            last_state_change: 0.0,
            last_hard_state_change: 0.0,
            last_check: 0.0,
            last_reachable: true,
            flapping: Flapping::default(),
            result_state: 3,
            hard_states: no_hard_states(),
            last_in_state: [0.0; 4],
            last_unreachable: 0.0,
            previous_state_change: 0.0,
            vars_before: None,
            marks: Default::default(),
        }
    }
}

/// What one result changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Change {
    pub state_changed: bool,
    pub hard_changed: bool,
    /// A hard problem ended.
    pub recovery: bool,
    pub flapping_started: bool,
    pub flapping_ended: bool,
}

impl Live {
    /// The result state of the hard change before the last one; 99 until
    /// there were two. The last result's `previous_hard_state`.
    pub fn previous_hard_state(&self) -> u8 {
        (self.hard_states % 100) as u8
    }

    /// What the last result left: its `vars_after`.
    pub fn vars_after(&self) -> ResultVars {
        ResultVars {
            state: self.result_state,
            state_type: self.state_type,
            attempt: self.check_attempt,
            reachable: self.last_reachable,
        }
    }

    /// Applies a check result of state `result_state` (0–3, as the plugin
    /// reported it) at `now` (seconds since the epoch).
    pub fn apply(&mut self, rules: &Rules, result_state: u8, reachable: bool, now: f64) -> Change {
        let new_state = rules.kind.state_of(result_state);
        let vars_before = (self.last_check > 0.0).then(|| self.vars_after());
        let old_state = self.state;
        let old_type = self.state_type;
        let old_attempt = self.check_attempt;
        let ok = |s: u8| s == 0;
        let mut attempt = 1;
        let mut state_type = old_type;
        if ok(new_state) {
            state_type = StateType::Hard;
        } else {
            if ok(old_state) {
                // The first problem after OK: a soft state, first attempt.
                state_type = StateType::Soft;
            }
            if old_type == StateType::Soft && !ok(old_state) {
                state_type = StateType::Soft;
                attempt = old_attempt + 1;
            }
            if !ok(old_state) && old_type == StateType::Hard {
                attempt = old_attempt;
            }
            if attempt >= rules.max_check_attempts.max(1) {
                state_type = StateType::Hard;
                attempt = 1;
            }
        }
        let state_changed = old_state != new_state;
        // A volatile checkable has a hard change with every result.
        let hard_changed = rules.volatile
            || (state_type == StateType::Hard && (old_type == StateType::Soft || state_changed));
        let result_changed = self.result_state != result_state;
        let recovery = ok(new_state) && !ok(old_state) && old_type == StateType::Hard;

        self.last_state = old_state;
        self.last_state_type = old_type;
        self.state = new_state;
        self.state_type = state_type;
        self.check_attempt = attempt;
        self.last_check = now;
        self.last_reachable = reachable;
        self.result_state = result_state;
        // Every result moves the previous change time up, changed or not
        // (Icinga keeps it for the next result's comparison).
        self.previous_state_change = self.last_state_change;
        if state_changed {
            self.last_state_change = now;
        }
        self.last_in_state[usize::from(new_state.min(3))] = now;
        if !reachable {
            self.last_unreachable = now;
        }
        if hard_changed {
            self.hard_states = self.hard_states / 100 + u16::from(result_state.min(3)) * 100;
            self.last_hard_state = new_state;
            self.last_hard_state_change = now;
        }
        self.vars_before = vars_before;
        let mut change = Change {
            state_changed,
            hard_changed,
            recovery,
            ..Change::default()
        };
        // Icinga keeps the flapping figures whether or not flapping
        // detection is enabled; enabling it makes them count (events,
        // notifications).
        let was = self.flapping.is_flapping;
        self.flapping.record(result_changed, rules, now);
        if rules.enable_flapping {
            change.flapping_started = !was && self.flapping.is_flapping;
            change.flapping_ended = was && !self.flapping.is_flapping;
        }
        change
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(max: u32) -> Rules {
        Rules {
            kind: Kind::Service,
            max_check_attempts: max,
            volatile: false,
            enable_flapping: true,
            flapping_threshold_low: 25.0,
            flapping_threshold_high: 30.0,
        }
    }

    /// (state, type, attempt) after each result.
    fn run(rules: &Rules, results: &[u8]) -> Vec<(u8, StateType, u32)> {
        let mut live = Live::new(rules.kind);
        results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                live.apply(rules, *r, true, i as f64);
                (live.state, live.state_type, live.check_attempt)
            })
            .collect()
    }

    #[test]
    fn soft_then_hard_then_recovery() {
        use StateType::*;
        assert_eq!(
            run(&rules(3), &[0, 2, 2, 2, 2, 0]),
            [
                (0, Hard, 1),
                (2, Soft, 1),
                (2, Soft, 2),
                (2, Hard, 1),
                (2, Hard, 1),
                (0, Hard, 1)
            ]
        );
        assert_eq!(run(&rules(1), &[2, 0]), [(2, Hard, 1), (0, Hard, 1)]);
    }

    #[test]
    fn hosts_are_up_for_warning() {
        let mut r = rules(1);
        r.kind = Kind::Host;
        let mut live = Live::new(Kind::Host);
        live.apply(&r, 0, true, 0.0);
        assert!(!live.apply(&r, 1, true, 1.0).state_changed);
        assert!(live.apply(&r, 2, true, 2.0).hard_changed);
        assert_eq!(live.state, 1);
    }

    #[test]
    fn flapping_starts_and_stops() {
        let r = rules(1);
        let mut live = Live::new(Kind::Service);
        let mut started = false;
        for i in 0..20 {
            let c = live.apply(&r, if i % 2 == 0 { 2 } else { 0 }, true, f64::from(i));
            started |= c.flapping_started;
        }
        assert!(started && live.flapping.is_flapping);
        let mut ended = false;
        for i in 20..45 {
            ended |= live.apply(&r, 0, true, f64::from(i)).flapping_ended;
        }
        assert!(ended && !live.flapping.is_flapping);
    }
}
