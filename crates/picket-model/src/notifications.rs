//! Notifications: which `Notification` objects tell which users about a
//! host or service, and when — Icinga 2's rules, free of I/O and clocks.
//!
//! The monitor asks for notifications where Icinga's checkable asks for
//! them (a hard change, a volatile problem, flapping, an acknowledgement
//! with `notify`, a downtime that starts, ends or is cancelled, the API's
//! custom notification) and keeps those a downtime, an acknowledgement or
//! an unreachable parent suppress, to send once the suppression is over
//! and the reason still holds. [`Monitor::begin_notification`] then
//! applies each notification's filters (period, `times`, `types`,
//! `states`) and its users' (enabled, period, `types`, `states`, and only
//! those told about the problem hear of its recovery), moves its counters
//! and says whom to send what. Running the commands is the checker's job.
//!
//! Where a notification stands ([`Progress`]) lives in its checkable's
//! entry, so that reloads and retention keep it as they keep the state.

use std::sync::Arc;

use picket_lang::Value;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::monitor::{Id, Monitor, Purpose};
use crate::operations::OperationEvent;
use crate::result::CheckResult;
use crate::state::{Kind, StateType};
use crate::{ConfigObject, Registry};

/// What a notification is about; the order gives Icinga's bits
/// (`DowntimeStart` 1 ... `FlappingEnd` 256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationType {
    DowntimeStart,
    DowntimeEnd,
    DowntimeRemoved,
    Custom,
    Acknowledgement,
    Problem,
    Recovery,
    FlappingStart,
    FlappingEnd,
}

const ALL_TYPES: [NotificationType; 9] = [
    NotificationType::DowntimeStart,
    NotificationType::DowntimeEnd,
    NotificationType::DowntimeRemoved,
    NotificationType::Custom,
    NotificationType::Acknowledgement,
    NotificationType::Problem,
    NotificationType::Recovery,
    NotificationType::FlappingStart,
    NotificationType::FlappingEnd,
];

impl NotificationType {
    pub fn bit(self) -> u16 {
        1 << self as u16
    }

    /// The name `types` filters use.
    pub fn name(self) -> &'static str {
        match self {
            NotificationType::DowntimeStart => "DowntimeStart",
            NotificationType::DowntimeEnd => "DowntimeEnd",
            NotificationType::DowntimeRemoved => "DowntimeRemoved",
            NotificationType::Custom => "Custom",
            NotificationType::Acknowledgement => "Acknowledgement",
            NotificationType::Problem => "Problem",
            NotificationType::Recovery => "Recovery",
            NotificationType::FlappingStart => "FlappingStart",
            NotificationType::FlappingEnd => "FlappingEnd",
        }
    }

    /// `$notification.type$` and the event stream's `notification_type`,
    /// as Icinga writes them.
    pub fn macro_value(self) -> &'static str {
        match self {
            NotificationType::DowntimeStart => "DOWNTIMESTART",
            NotificationType::DowntimeEnd => "DOWNTIMEEND",
            NotificationType::DowntimeRemoved => "DOWNTIMECANCELLED",
            NotificationType::Custom => "CUSTOM",
            NotificationType::Acknowledgement => "ACKNOWLEDGEMENT",
            NotificationType::Problem => "PROBLEM",
            NotificationType::Recovery => "RECOVERY",
            NotificationType::FlappingStart => "FLAPPINGSTART",
            NotificationType::FlappingEnd => "FLAPPINGEND",
        }
    }

    fn by_name(name: &str) -> Option<NotificationType> {
        ALL_TYPES.into_iter().find(|t| t.name() == name)
    }
}

/// Everything passes a filter that is not set.
const ALL: u16 = u16::MAX;

/// State filter bits, as Icinga numbers them.
fn state_filter_bit(name: &str) -> Option<u16> {
    Some(match name {
        "OK" => 1,
        "Warning" => 2,
        "Critical" => 4,
        "Unknown" => 8,
        "Up" => 16,
        "Down" => 32,
        _ => return None,
    })
}

/// The filter bit of a checkable's state.
fn state_bit(kind: Kind, state: u8) -> u16 {
    match kind {
        Kind::Host if state == 0 => 16,
        Kind::Host => 32,
        Kind::Service => 1 << state.min(3),
    }
}

/// A `types` or `states` array as bits; unset lets everything through,
/// an empty array nothing (as Icinga reads them).
fn filter(value: Option<Value>, bit: impl Fn(&str) -> Option<u16>) -> u16 {
    match value {
        Some(Value::Array(a)) => a.to_vec().iter().fold(0, |acc, v| match v {
            Value::Number(n) => acc | *n as u16,
            v => acc | bit(&v.to_display()).unwrap_or(0),
        }),
        _ => ALL,
    }
}

/// Where one notification stands; Icinga's runtime attributes of a
/// `Notification`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub last_notification: f64,
    pub next_notification: f64,
    pub notification_number: u64,
    pub last_problem_notification: f64,
    pub no_more_notifications: bool,
    /// Who heard of the current problem: they, and only they, hear of
    /// its recovery.
    pub notified_problem_users: Vec<String>,
    /// Problem/recovery/flapping notifications held back because the
    /// notification's period was outside, to send when it is inside.
    #[serde(default)]
    pub suppressed: u16,
}

/// What a checkable keeps about its notifications besides each one's
/// [`Progress`] (Icinga's checkable attributes of the same names).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Notified {
    /// By the notification's short name; a list, as a checkable has a
    /// few notifications at most and a map would take far more memory.
    pub progress: Vec<(String, Progress)>,
    /// Types held back by a downtime, an acknowledgement or an unreachable
    /// parent, to send when that is over.
    pub suppressed: u16,
    pub state_before_suppression: u8,
}

impl Notified {
    pub fn get(&self, name: &str) -> Option<&Progress> {
        self.progress
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p)
    }

    /// The progress of `name`, made when it has none yet.
    pub fn entry(&mut self, name: &str) -> &mut Progress {
        let at = match self.progress.iter().position(|(n, _)| n == name) {
            Some(at) => at,
            None => {
                self.progress.push((name.to_string(), Progress::default()));
                self.progress.len() - 1
            }
        };
        &mut self.progress[at].1
    }
}

/// A `User` as notifications read it.
#[derive(Debug, Clone)]
struct Recipient {
    name: String,
    enabled: bool,
    period: Option<usize>,
    types: u16,
    states: u16,
}

/// A `Notification` object, resolved.
#[derive(Debug, Clone)]
pub struct Rule {
    pub object: Arc<ConfigObject>,
    /// Its short name, the key of its progress.
    name: String,
    pub checkable: Id,
    users: Vec<usize>,
    interval: f64,
    period: Option<usize>,
    begin: Option<f64>,
    end: Option<f64>,
    types: u16,
    states: u16,
}

impl Rule {
    /// The name its progress is kept under.
    pub fn short_name(&self) -> &str {
        &self.name
    }
}

/// Notifications asked for a checkable.
#[derive(Debug, Clone)]
pub struct Request {
    pub checkable: Id,
    pub kind: NotificationType,
    pub author: String,
    pub text: String,
    /// Past the filters (the API's `force`, or `force_next_notification`).
    pub force: bool,
    /// For one notification only (by rule index), not all of the
    /// checkable's.
    pub only: Option<usize>,
    /// A reminder (re-notification at the interval).
    pub reminder: bool,
}

impl Request {
    pub fn new(checkable: Id, kind: NotificationType) -> Request {
        Request {
            checkable,
            kind,
            author: String::new(),
            text: String::new(),
            force: false,
            only: None,
            reminder: false,
        }
    }
}

/// One notification, sent to its users.
#[derive(Debug, Clone)]
pub struct Dispatch {
    pub notification: Arc<ConfigObject>,
    pub checkable: Id,
    pub users: Vec<Arc<ConfigObject>>,
    pub kind: NotificationType,
    pub author: String,
    pub text: String,
    pub check_result: Option<Arc<CheckResult>>,
}

/// The notifications of a configuration.
#[derive(Debug, Clone, Default)]
pub struct Notifications {
    /// Whether this node sends any: a `NotificationComponent` exists and
    /// `IcingaApplication.enable_notifications` is set.
    pub enabled: bool,
    pub rules: Vec<Rule>,
    users: Vec<Recipient>,
    user_objects: Vec<Arc<ConfigObject>>,
    /// Rules by checkable.
    pub by_checkable: FxHashMap<Id, Vec<usize>>,
    /// Asked for and not yet begun, in order.
    pending: Vec<Request>,
}

impl Notifications {
    /// Resolves the `Notification`, `User` and `UserGroup` objects;
    /// `checkable` and `period` look names up in the monitor.
    pub fn build(
        registry: &Registry,
        checkable: impl Fn(&str) -> Option<Id>,
        period: impl Fn(&ConfigObject, &str) -> Option<usize>,
    ) -> Notifications {
        let app = registry.committed("IcingaApplication").into_iter().next();
        let enabled = !registry.committed("NotificationComponent").is_empty()
            && app
                .as_ref()
                .is_none_or(|a| a.get("enable_notifications").is_none_or(|v| v.to_bool()));
        let user_objects = registry.committed("User");
        let mut user_index = FxHashMap::default();
        let mut members: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        let users = user_objects
            .iter()
            .enumerate()
            .map(|(i, u)| {
                user_index.insert(u.full_name(), i);
                if let Value::Array(groups) = u.runtime_groups() {
                    for g in groups.to_vec() {
                        members.entry(g.to_display()).or_default().push(i);
                    }
                }
                Recipient {
                    name: u.full_name(),
                    enabled: u.get("enable_notifications").is_none_or(|v| v.to_bool()),
                    period: period(u, "period"),
                    types: filter(u.get("types"), |n| {
                        NotificationType::by_name(n).map(NotificationType::bit)
                    }),
                    states: filter(u.get("states"), state_filter_bit),
                }
            })
            .collect();
        let names = |value: Option<Value>| -> Vec<String> {
            match value {
                Some(Value::Array(a)) => a.to_vec().iter().map(Value::to_display).collect(),
                _ => Vec::new(),
            }
        };
        let mut rules = Vec::new();
        let mut by_checkable: FxHashMap<Id, Vec<usize>> = FxHashMap::default();
        for n in registry.committed("Notification") {
            let host = n.get_str("host_name");
            let service = n.get_str("service_name");
            let target = if service.is_empty() {
                host.to_string()
            } else {
                format!("{host}!{service}")
            };
            let Some(id) = checkable(&target) else {
                continue;
            };
            let mut list: Vec<usize> = names(n.get("users"))
                .iter()
                .filter_map(|u| user_index.get(u).copied())
                .collect();
            for g in names(n.get("user_groups")) {
                list.extend(members.get(&g).into_iter().flatten().copied());
            }
            let mut seen = rustc_hash::FxHashSet::default();
            list.retain(|u| seen.insert(*u));
            let times = match n.get("times") {
                Some(Value::Dict(d)) => Some(d),
                _ => None,
            };
            let time = |key: &str| {
                times
                    .as_ref()
                    .and_then(|d| d.get(key))
                    .filter(|v| !v.is_null())
                    .and_then(|v| v.to_number().ok())
            };
            by_checkable.entry(id).or_default().push(rules.len());
            rules.push(Rule {
                name: n.name(),
                checkable: id,
                users: list,
                interval: n
                    .get("interval")
                    .and_then(|v| v.to_number().ok())
                    .unwrap_or(1800.0),
                period: period(&n, "period"),
                begin: time("begin"),
                end: time("end"),
                types: filter(n.get("types"), |t| {
                    NotificationType::by_name(t).map(NotificationType::bit)
                }),
                states: filter(n.get("states"), state_filter_bit),
                object: n,
            });
        }
        Notifications {
            enabled,
            rules,
            users,
            user_objects,
            by_checkable,
            pending: Vec::new(),
        }
    }

    /// The rules of a checkable.
    pub fn of(&self, id: Id) -> &[usize] {
        self.by_checkable.get(&id).map_or(&[], Vec::as_slice)
    }

    pub fn rule(&self, index: usize) -> &Rule {
        &self.rules[index]
    }

    pub fn request(&mut self, request: Request) {
        if self.enabled {
            self.pending.push(request);
        }
    }

    /// The requests asked for since the last call, in order.
    pub fn take(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.pending)
    }
}

/// Problem and recovery cancel each other out, as flapping start and end
/// do: what is left of `before | added`.
fn stash(before: u16, added: u16) -> u16 {
    let mut after = before | added;
    for conflict in [
        NotificationType::Problem.bit() | NotificationType::Recovery.bit(),
        NotificationType::FlappingStart.bit() | NotificationType::FlappingEnd.bit(),
    ] {
        if after & conflict == conflict {
            after &= !conflict;
        }
    }
    after
}

fn is_ok(state: u8) -> bool {
    state == 0
}

impl Monitor {
    /// Whether notifications of `id` are held back now: a downtime, an
    /// acknowledgement, or a parent through which it is unreachable.
    fn suppressing(&self, id: Id, now: f64) -> bool {
        let marks = self.entry(id).live.marks;
        marks.downtime_depth > 0
            || marks.acknowledgement != 0
            || !self.reachable(id, Purpose::Notification, now)
    }

    /// Asks for a problem or recovery (after a result), or keeps it for
    /// later when it is suppressed. `old_state`/`old_type` are from before
    /// the result.
    pub(crate) fn after_result(
        &mut self,
        id: Id,
        old_state: u8,
        old_type: StateType,
        hard_changed: bool,
        flapping: Option<bool>,
        now: f64,
    ) {
        if !self.notifications.enabled || self.notifications.of(id).is_empty() {
            return;
        }
        if is_ok(self.entry(id).live.state) {
            // Every OK result starts the count again, before a recovery
            // is counted.
            for (_, progress) in self.notified_mut(id).progress.iter_mut() {
                progress.notification_number = 0;
            }
        }
        let live = &self.entry(id).live;
        let new_state = live.state;
        let volatile = self.checkable(id).rules.volatile;
        let was_flapping = flapping.map_or(live.flapping.is_flapping, |started| !started);
        let is_flapping = live.flapping.is_flapping;
        let mut send = if hard_changed && !(old_type == StateType::Soft && is_ok(new_state)) {
            true
        } else {
            volatile && live.state_type == StateType::Hard
        };
        if is_ok(old_state) && old_type == StateType::Soft {
            send = false;
        }
        if volatile && is_ok(old_state) && is_ok(new_state) {
            send = false;
        }
        let recovery = is_ok(new_state);
        // The acknowledgement this result ends (any on recovery, a normal
        // one on a change) no longer holds anything back: Icinga clears it
        // before it decides.
        let marks = live.marks;
        let ack_ends = recovery || (marks.acknowledgement == 1 && old_state != new_state);
        let suppress = marks.downtime_depth > 0
            || (marks.acknowledgement != 0 && !ack_ends)
            || !self.reachable(id, Purpose::Notification, now);
        let state_kind = (send && !was_flapping && !is_flapping).then_some(if recovery {
            NotificationType::Recovery
        } else {
            NotificationType::Problem
        });
        let flapping_kind = flapping.map(|started| {
            if started {
                NotificationType::FlappingStart
            } else {
                NotificationType::FlappingEnd
            }
        });
        let mut suppressed = 0;
        for kind in [state_kind, flapping_kind].into_iter().flatten() {
            if suppress {
                suppressed |= kind.bit();
            } else {
                self.notifications.request(Request::new(id, kind));
            }
        }
        if suppressed != 0 {
            let before_state = if old_type == StateType::Hard {
                old_state
            } else {
                0
            };
            let notified = self.notified_mut(id);
            let after = stash(notified.suppressed, suppressed);
            if after != notified.suppressed {
                if notified.suppressed == 0 {
                    notified.state_before_suppression = before_state;
                }
                notified.suppressed = after;
            }
        }
    }

    fn notified_mut(&mut self, id: Id) -> &mut Notified {
        self.entry_mut(id)
            .notified
            .get_or_insert_with(Default::default)
    }

    /// Whether a kept-back notification still has its reason.
    fn reason_applies(&self, id: Id, kind: NotificationType) -> bool {
        let entry = self.entry(id);
        let before = entry
            .notified
            .as_ref()
            .map_or(0, |n| n.state_before_suppression);
        let cr = entry.last_result.as_ref();
        let state = entry.live.state;
        match kind {
            NotificationType::Problem => {
                cr.is_some()
                    && !is_ok(state)
                    && entry.live.state_type == StateType::Hard
                    && state != before
            }
            NotificationType::Recovery => cr.is_some() && is_ok(state) && state != before,
            NotificationType::FlappingStart => entry.live.flapping.is_flapping,
            NotificationType::FlappingEnd => !entry.live.flapping.is_flapping,
            _ => false,
        }
    }

    /// Asks for the notification an operation brings: an acknowledgement
    /// with `notify`, a downtime that starts, or one in effect that ends
    /// or is removed (both `DowntimeEnd`).
    pub(crate) fn after_operation(
        &mut self,
        id: Id,
        change: &OperationEvent,
        object: Option<&ConfigObject>,
    ) {
        let text = |field: &str| {
            object
                .map(|o| o.get_str(field).to_string())
                .unwrap_or_default()
        };
        let (kind, author, comment) = match change {
            OperationEvent::AcknowledgementSet(ack) if ack.notify => (
                NotificationType::Acknowledgement,
                ack.author.clone(),
                ack.comment.clone(),
            ),
            OperationEvent::DowntimeTriggered { .. } => (
                NotificationType::DowntimeStart,
                text("author"),
                text("comment"),
            ),
            // Icinga 2.13 sends DowntimeEnd whether the downtime ran out or
            // was removed; DowntimeRemoved stays a filter name only.
            OperationEvent::DowntimeRemoved { .. } => {
                let started = object
                    .and_then(|o| o.get("trigger_time"))
                    .and_then(|v| v.to_number().ok())
                    .is_some_and(|t| t > 0.0);
                if !started {
                    return;
                }
                (
                    NotificationType::DowntimeEnd,
                    text("author"),
                    text("comment"),
                )
            }
            _ => return,
        };
        let mut request = Request::new(id, kind);
        request.author = author;
        request.text = comment;
        self.notifications.request(request);
    }

    /// Asks for an operator's notification (acknowledgement, downtime,
    /// custom); `force` goes past the filters and the switches.
    /// Sends the next notification of `id` past its filters and switches
    /// (`force_next_notification`).
    pub fn force_next_notification(&mut self, id: Id) {
        self.entry_mut(id).force_next_notification = true;
    }

    pub fn request_notification(&mut self, request: Request) {
        self.notifications.request(request);
    }

    /// Sets `next_notification` of every notification of `id`
    /// (`delay-notification`).
    pub fn delay_notifications(&mut self, id: Id, until: f64) {
        let names: Vec<String> = self
            .notifications
            .of(id)
            .iter()
            .map(|&r| self.notifications.rule(r).short_name().to_string())
            .collect();
        let notified = self.notified_mut(id);
        for name in names {
            notified.entry(&name).next_notification = until;
        }
    }

    /// Begins the notifications asked for since the last call, in order.
    pub fn begin_pending(&mut self, now: f64) -> Vec<Dispatch> {
        let mut out = Vec::new();
        for request in self.notifications.take() {
            out.extend(self.begin_notification(&request, now));
        }
        out
    }

    /// What the notification timer does (Icinga's runs every 5 s):
    /// notifications kept back that may go now, then reminders of
    /// problems at each notification's interval. Each is begun before the
    /// next is looked at, so that one sent moves the counters a reminder
    /// reads, as in Icinga.
    pub fn notification_tick(&mut self, now: f64) -> Vec<Dispatch> {
        let mut out = self.begin_pending(now);
        if !self.notifications.enabled {
            return out;
        }
        let ids: Vec<Id> = self.notifications.by_checkable.keys().copied().collect();
        for id in ids {
            if self.checkable_notifies(id) {
                self.fire_suppressed(id, now);
            }
        }
        out.extend(self.begin_pending(now));
        for index in 0..self.notifications.rules.len() {
            self.fire_outside_period(index, now);
            out.extend(self.begin_pending(now));
            self.remind(index, now);
            out.extend(self.begin_pending(now));
        }
        out
    }

    /// Sends what a notification's period kept back, once the period is
    /// inside again and the reason still holds.
    fn fire_outside_period(&mut self, index: usize, now: f64) {
        let held = self.progress(index).map_or(0, |p| p.suppressed);
        if held == 0 {
            return;
        }
        let (id, period) = {
            let rule = self.notifications.rule(index);
            (rule.checkable, rule.period)
        };
        if !self.inside_period(period, now) || self.suppressing(id, now) {
            return;
        }
        let mut done = 0;
        for kind in ALL_TYPES {
            if held & kind.bit() == 0 {
                continue;
            }
            done |= kind.bit();
            let entry = self.entry(id);
            let applies = match kind {
                NotificationType::Problem => {
                    !is_ok(entry.live.state) && entry.live.state_type == StateType::Hard
                }
                // A recovery only for a problem somebody heard of.
                NotificationType::Recovery => {
                    is_ok(entry.live.state)
                        && self
                            .progress(index)
                            .is_some_and(|p| !p.notified_problem_users.is_empty())
                }
                NotificationType::FlappingStart => entry.live.flapping.is_flapping,
                NotificationType::FlappingEnd => !entry.live.flapping.is_flapping,
                _ => false,
            };
            if applies {
                let mut request = Request::new(id, kind);
                request.only = Some(index);
                self.notifications.request(request);
            }
        }
        self.progress_mut(index).suppressed &= !done;
    }

    /// The checkable's own switch (`enable_notifications`).
    fn checkable_notifies(&self, id: Id) -> bool {
        self.checkable(id)
            .object
            .get("enable_notifications")
            .is_none_or(|v| v.to_bool())
    }

    fn fire_suppressed(&mut self, id: Id, now: f64) {
        let Some(mut types) = self.entry(id).notified.as_ref().map(|n| n.suppressed) else {
            return;
        };
        if types == 0 {
            return;
        }
        let mut done = 0;
        for kind in [
            NotificationType::Problem,
            NotificationType::Recovery,
            NotificationType::FlappingStart,
            NotificationType::FlappingEnd,
        ] {
            if types & kind.bit() != 0 && !self.reason_applies(id, kind) {
                done |= kind.bit();
                types &= !kind.bit();
            }
        }
        // A check due within a minute (or its interval less ten seconds)
        // may end the reason: wait for it.
        let c = self.checkable(id);
        let threshold = (c.check_interval - 10.0).clamp(0.0, 60.0);
        let checked_soon = c.enable_active_checks && self.entry(id).next_check <= now + threshold;
        if types != 0
            && !self.suppressing(id, now)
            && !checked_soon
            && !self.parent_recovered_since_check(id)
        {
            for kind in ALL_TYPES {
                if types & kind.bit() != 0 && self.reason_applies(id, kind) {
                    self.notifications.request(Request::new(id, kind));
                    done |= kind.bit();
                }
            }
        }
        if done != 0 {
            let notified = self.notified_mut(id);
            notified.suppressed &= !done;
        }
    }

    /// Whether the host of a service came back after the service's last
    /// result: its own next result says whether the problem is still
    /// there, so kept-back notifications wait for it.
    fn parent_recovered_since_check(&self, id: Id) -> bool {
        let last_check = self.entry(id).live.last_check;
        self.checkable(id).host().is_some_and(|host| {
            let live = &self.entry(host).live;
            is_ok(live.state) && live.last_state_change > last_check
        })
    }

    /// Holds every reminder back for a minute after the node starts, as
    /// Icinga 2.13 does (its notifications wait for the cluster to settle).
    pub fn hold_reminders(&mut self, now: f64) {
        // Whether or not notifications are sent: Icinga sets it as it
        // starts each notification.
        for index in 0..self.notifications.rules.len() {
            self.progress_mut(index).next_notification = now + 60.0;
        }
    }

    /// Holds back, as [`Self::hold_reminders`], the reminders of the
    /// notifications `before` (the configuration replaced) did not have:
    /// Icinga does so for each notification it starts, also one created
    /// through the API.
    pub fn hold_new_reminders(&mut self, before: &Monitor, now: f64) {
        let known: std::collections::HashSet<String> = before
            .notifications
            .rules
            .iter()
            .map(|r| r.object.full_name())
            .collect();
        for index in 0..self.notifications.rules.len() {
            if known.contains(&self.notifications.rules[index].object.full_name()) {
                continue;
            }
            let progress = self.progress_mut(index);
            progress.next_notification = progress.next_notification.max(now + 60.0);
        }
    }

    fn progress(&self, index: usize) -> Option<&Progress> {
        let rule = self.notifications.rule(index);
        self.entry(rule.checkable)
            .notified
            .as_ref()
            .and_then(|n| n.get(rule.short_name()))
    }

    fn progress_mut(&mut self, index: usize) -> &mut Progress {
        let rule = &self.notifications.rules[index];
        let (id, name) = (rule.checkable, rule.short_name().to_string());
        self.notified_mut(id).entry(&name)
    }

    fn remind(&mut self, index: usize, now: f64) {
        let (id, interval) = {
            let rule = self.notifications.rule(index);
            (rule.checkable, rule.interval)
        };
        if !self.checkable_notifies(id) {
            return;
        }
        let (next, no_more, held) = self.progress(index).map_or((0.0, false, 0), |p| {
            (p.next_notification, p.no_more_notifications, p.suppressed)
        });
        if interval <= 0.0 && no_more {
            return;
        }
        if next > now {
            return;
        }
        self.progress_mut(index).next_notification = now + interval;
        let entry = self.entry(id);
        if entry.live.state_type == StateType::Soft || is_ok(entry.live.state) {
            return;
        }
        let problem = NotificationType::Problem.bit();
        let held_here = entry.notified.as_ref().map_or(0, |n| n.suppressed);
        if (held_here | held) & problem != 0 {
            return;
        }
        if self.suppressing(id, now) || entry.live.flapping.is_flapping {
            return;
        }
        let mut request = Request::new(id, NotificationType::Problem);
        request.only = Some(index);
        request.reminder = true;
        self.notifications.request(request);
    }

    /// Begins a requested notification: for each notification of the
    /// checkable (or the one reminded), its filters and its users', and
    /// its counters moved. Returns what to send to whom.
    pub fn begin_notification(&mut self, request: &Request, now: f64) -> Vec<Dispatch> {
        let id = request.checkable;
        let entry = self.entry(id);
        let force = request.force || entry.force_next_notification;
        if !force && !self.checkable_notifies(id) {
            return Vec::new();
        }
        self.entry_mut(id).force_next_notification = false;
        let indexes: Vec<usize> = match request.only {
            Some(index) => vec![index],
            None => self.notifications.of(id).to_vec(),
        };
        indexes
            .into_iter()
            .filter_map(|index| self.begin_one(index, request, force, now))
            .collect()
    }

    fn begin_one(
        &mut self,
        index: usize,
        request: &Request,
        force: bool,
        now: f64,
    ) -> Option<Dispatch> {
        let rule = self.notifications.rule(index).clone();
        let kind = request.kind;
        let id = rule.checkable;
        let (state, kind_of) = (self.entry(id).live.state, self.checkable(id).rules.kind);
        if !force && !self.passes(&rule, index, request, now) {
            return None;
        }
        let progress = self.progress(index).cloned().unwrap_or_default();
        let mut users = Vec::new();
        let mut names = Vec::new();
        for &u in &rule.users {
            let user = &self.notifications.users[u];
            // A user who takes no notifications takes no forced ones either.
            if !user.enabled {
                continue;
            }
            if !force {
                if user.period.is_some() && !self.inside_period(user.period, now) {
                    continue;
                }
                if user.types & kind.bit() == 0 {
                    continue;
                }
                if kind != NotificationType::Recovery
                    && user.states & state_bit(kind_of, state) == 0
                {
                    continue;
                }
            }
            // Recoveries and acknowledgements go to those who heard of the
            // problem, unless they take no problems at all.
            let told = progress.notified_problem_users.contains(&user.name);
            if matches!(
                kind,
                NotificationType::Recovery | NotificationType::Acknowledgement
            ) && !told
                && user.types & NotificationType::Problem.bit() != 0
            {
                continue;
            }
            names.push(user.name.clone());
            users.push(self.notifications.user_objects[u].clone());
        }
        let p = self.progress_mut(index);
        p.notification_number += 1;
        p.last_notification = now;
        p.no_more_notifications = kind == NotificationType::Problem && rule.interval <= 0.0;
        match kind {
            NotificationType::Problem => {
                p.last_problem_notification = now;
                if rule.interval > 0.0 && !request.reminder {
                    p.next_notification = now + rule.interval;
                }
                for name in &names {
                    if !p.notified_problem_users.contains(name) {
                        p.notified_problem_users.push(name.clone());
                    }
                }
            }
            NotificationType::Recovery => p.notified_problem_users.clear(),
            _ => {}
        }
        let check_result = self.entry(id).last_result.clone();
        Some(Dispatch {
            notification: rule.object.clone(),
            checkable: id,
            users,
            kind,
            author: request.author.clone(),
            text: request.text.clone(),
            check_result,
        })
    }

    /// The notification's own filters: its period (keeping problems and
    /// recoveries for later), `times` for problems, `types`, and `states`
    /// for problems only.
    fn passes(&mut self, rule: &Rule, index: usize, request: &Request, now: f64) -> bool {
        let kind = request.kind;
        let live = &self.entry(rule.checkable).live;
        let (state, last_hard_change) = (live.state, live.last_hard_state_change);
        let kind_of = self.checkable(rule.checkable).rules.kind;
        if rule.period.is_some() && !self.inside_period(rule.period, now) {
            let kept = matches!(
                kind,
                NotificationType::Problem
                    | NotificationType::Recovery
                    | NotificationType::FlappingStart
                    | NotificationType::FlappingEnd
            );
            if !request.reminder && kept {
                let progress = self.progress_mut(index);
                progress.suppressed = stash(progress.suppressed, kind.bit());
            }
            return false;
        }
        if kind == NotificationType::Problem {
            if let Some(begin) = rule.begin.filter(|b| *b >= 0.0) {
                if now < last_hard_change + begin {
                    self.progress_mut(index).next_notification = last_hard_change + begin + 1.0;
                    return false;
                }
            }
            if let Some(end) = rule.end.filter(|e| *e >= 0.0) {
                if now > last_hard_change + end {
                    return false;
                }
            }
        }
        if rule.types & kind.bit() == 0 {
            // A recovery nobody takes still ends "no more notifications".
            if kind == NotificationType::Recovery {
                self.progress_mut(index).no_more_notifications = false;
            }
            return false;
        }
        !(kind == NotificationType::Problem && rule.states & state_bit(kind_of, state) == 0)
    }
}
