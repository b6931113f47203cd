//! Operator actions on the running node: the `operations` store, the
//! commands the API, state changes and the clock send to it, and their
//! effect on the checker (the marks of a checkable and the events on the
//! bus, published only once the record is durable).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use parking_lot::Mutex;
use picket_api::OperateError;
use picket_checker::scheduler::{Checker, Command as CheckerCommand, Config};
use picket_model::event::{Bus, Event};
use picket_model::operations::{
    self, Change, ChildOptions, Cleared, Marks, Operation, OperationEvent, Operations,
};
use picket_model::result::now;
use picket_model::ConfigObject;
use picket_store::{Actor, Aggregate, Command, CommandError, Store, Versioned};
use tokio::sync::broadcast::error::RecvError;

use crate::log;

/// How often time-driven operations (expiry, fixed downtimes starting)
/// are looked for; Icinga's own timers are coarser.
const TICK: Duration = Duration::from_secs(1);

/// How often `ScheduledDowntime` objects plan their next downtime: as
/// Icinga's timer, whose first run is a minute after the start (objects
/// start paused there, so nothing is planned before), a node shows the
/// running range's downtime from the first minute on and the next
/// range's from the second.
const PLAN_TICK: Duration = Duration::from_secs(60);

pub struct Operator {
    store: Store<Operations>,
    checker: Checker,
    next_comment: AtomicU64,
    next_downtime: AtomicU64,
    /// The marks the checker has, per checkable: sent again only when
    /// they change.
    sent: Mutex<HashMap<String, Marks>>,
    /// The `_api` package's `conf.d`, where comments and downtimes are
    /// said to be declared.
    api_objects: String,
}

/// The objects in force and this node's zone.
fn config_of(config: &RwLock<Config>) -> (Arc<picket_model::Registry>, Option<String>) {
    let read = |c: &Config| (c.registry.clone(), super::configuration::local_zone(c));
    match config.read() {
        Ok(c) => read(&c),
        Err(poisoned) => read(&poisoned.into_inner()),
    }
}

fn refused(e: CommandError<operations::Refusal>) -> OperateError {
    match e {
        CommandError::Refused { error, .. } | CommandError::InitRefused(error) => {
            OperateError::Refused(error)
        }
        other => OperateError::Failed(other.to_string()),
    }
}

impl Operator {
    /// `api_objects`: the `_api` package's `conf.d`.
    pub fn new(store: Store<Operations>, checker: Checker, api_objects: String) -> Operator {
        let (mut comments, mut downtimes) = (0, 0);
        for id in store.ids() {
            if let Some(v) = store.get(&id) {
                let o = &v.state;
                comments = o
                    .comments
                    .values()
                    .map(|c| c.legacy_id)
                    .fold(comments, u64::max);
                downtimes = o
                    .downtimes
                    .values()
                    .map(|d| d.legacy_id)
                    .fold(downtimes, u64::max);
            }
        }
        Operator {
            store,
            checker,
            next_comment: AtomicU64::new(comments + 1),
            next_downtime: AtomicU64::new(downtimes + 1),
            sent: Mutex::new(HashMap::new()),
            api_objects,
        }
    }

    pub fn legacy_id(&self, downtime: bool) -> u64 {
        let counter = if downtime {
            &self.next_downtime
        } else {
            &self.next_comment
        };
        counter.fetch_add(1, Ordering::Relaxed)
    }

    pub fn all(&self) -> Vec<Arc<Versioned<Operations>>> {
        self.store
            .ids()
            .into_iter()
            .filter_map(|id| self.store.get(&id))
            .collect()
    }

    /// Runs an operation and what follows from it (downtimes triggered by
    /// a downtime that started).
    pub async fn execute(
        &self,
        actor: &Actor,
        checkable: &str,
        mut operation: Operation,
    ) -> Result<(), OperateError> {
        // A flexible downtime made while its checkable has a problem starts
        // as it is made, as if triggered when the problem came (Icinga).
        if let Operation::ScheduleDowntime { downtime, .. } = &mut operation {
            if !downtime.fixed && downtime.triggered_by.is_empty() && downtime.trigger_time <= 0.0 {
                if let Some(since) = self.problem_since(checkable).await {
                    downtime.trigger_time = since;
                }
            }
        }
        let mut queue = VecDeque::from([(checkable.to_string(), operation)]);
        let mut first = true;
        while let Some((id, op)) = queue.pop_front() {
            let events = match self.one(actor, &id, op).await {
                Ok(events) => events,
                Err(e) if first => return Err(e),
                Err(e) => {
                    log::warning("operations", &format!("'{id}': {e}"));
                    continue;
                }
            };
            first = false;
            for e in events {
                if let OperationEvent::DowntimeTriggered { name, at } = e {
                    for v in self.all() {
                        for op in v.state.triggered_by(&name, at) {
                            queue.push_back((v.state.checkable.clone(), op));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Since when `checkable` has had the problem it has now; `None` when
    /// it has none.
    async fn problem_since(&self, checkable: &str) -> Option<f64> {
        let id = checkable.to_string();
        self.checker
            .inspect(move |m, _, _| {
                let live = &m.entry(m.find(&id)?).live;
                (live.state != 0).then_some(live.last_state_change)
            })
            .await
            .flatten()
    }

    /// Records one operation; once durable, hands its effect to the
    /// checker.
    async fn one(
        &self,
        actor: &Actor,
        id: &str,
        operation: Operation,
    ) -> Result<Vec<OperationEvent>, OperateError> {
        let before = self.store.get(id);
        let command = Command::new(id, actor.clone(), operation);
        let (after, events) = if before.is_none() {
            let events =
                Operations::process_init(id, &command.details).map_err(OperateError::Refused)?;
            match self.store.create(command.clone()).await {
                Ok(v) => (v, events),
                // Created meanwhile by someone else: a command then.
                Err(CommandError::AlreadyExists(_)) => self
                    .store
                    .submit(command)
                    .map_err(refused)?
                    .await_events()
                    .await
                    .map_err(refused)?,
                Err(e) => return Err(refused(e)),
            }
        } else {
            self.store
                .submit(command)
                .map_err(refused)?
                .await_events()
                .await
                .map_err(refused)?
        };
        let changes = Change::of_command(&events, |e| {
            object_of(e, before.as_deref(), &after, &self.api_objects)
        });
        self.send(id, after.state.marks(now()), changes).await;
        Ok(events)
    }

    async fn send(&self, id: &str, marks: Marks, changes: Vec<Change>) {
        self.sent.lock().insert(id.to_string(), marks);
        self.checker
            .send(CheckerCommand::Operated {
                full_name: id.to_string(),
                marks,
                changes,
            })
            .await;
    }

    /// Every checkable below `checkable` through dependencies.
    async fn children(&self, checkable: &str) -> Vec<String> {
        let name = checkable.to_string();
        self.checker
            .inspect(move |m, _, _| {
                m.find(&name)
                    .map(|id| {
                        m.all_children(id)
                            .into_iter()
                            .map(|c| m.checkable(c).object.full_name())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .await
            .unwrap_or_default()
    }

    /// Removes everything operators left on a checkable that is gone.
    pub async fn forget(&self, actor: &Actor, checkable: &str) {
        let Some(ops) = self.store.get(checkable) else {
            return;
        };
        let at = picket_model::result::now();
        let mut work = Vec::new();
        for name in ops.state.comments.keys() {
            work.push(Operation::RemoveComment { name: name.clone() });
        }
        for name in ops.state.downtimes.keys() {
            work.push(Operation::RemoveDowntime {
                name: name.clone(),
                cancelled: true,
                at,
            });
        }
        // Last: its comments are gone already.
        if ops.state.acknowledgement.is_some() {
            work.push(Operation::RemoveAcknowledgement {
                why: Cleared::Deleted,
                at,
            });
        }
        for op in work {
            if let Err(e) = self.execute(actor, checkable, op).await {
                log::warning("operations", &format!("'{checkable}': {e}"));
            }
        }
    }

    /// Hands every checkable's marks to the checker (at startup, and after
    /// a reload made new objects of old names).
    pub async fn restore(&self) {
        let t = now();
        for v in self.all() {
            self.send(&v.state.checkable, v.state.marks(t), Vec::new())
                .await;
        }
    }

    /// What state changes and time do: acknowledgements go, downtimes
    /// start and end, comments expire. Runs until the bus closes.
    pub async fn keep(self: Arc<Self>, bus: Bus, config: Arc<RwLock<Config>>) {
        let actor = Actor::new("system:operations");
        let mut events = bus.subscribe();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut plan_tick =
            tokio::time::interval_at(tokio::time::Instant::now() + PLAN_TICK, PLAN_TICK);
        plan_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => self.on_event(&actor, &event).await,
                    Err(RecvError::Lagged(n)) => log::warning(
                        "operations",
                        &format!("Missed {n} events; acknowledgements and downtimes catch up on the next results."),
                    ),
                    Err(RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    self.drop_orphans(&config).await;
                    self.on_tick(&actor).await;
                }
                _ = plan_tick.tick() => self.plan(&config).await,
            }
        }
    }

    /// Makes the downtimes `ScheduledDowntime` objects ask for (their
    /// running or next range), and removes those planned far ahead with
    /// options they no longer have.
    async fn plan(&self, config: &RwLock<Config>) {
        let (registry, zone) = config_of(config);
        let zone = zone.unwrap_or_default();
        let actor = Actor::new("system:scheduled-downtime");
        let t = now();
        for sd in registry.committed("ScheduledDowntime") {
            let checkable = operations::scheduled_checkable(&sd);
            let current = self.store.get(&checkable);
            let owned = current
                .as_ref()
                .map(|v| v.state.planned_by(&sd.full_name()))
                .unwrap_or_default();
            let downtimes: Vec<&operations::Downtime> = owned.iter().map(|(_, d)| *d).collect();
            let planned = operations::planned(&sd, t, &downtimes, &zone);
            for name in operations::obsolete(&sd, t, &owned) {
                let op = Operation::RemoveDowntime {
                    name: name.to_string(),
                    cancelled: false,
                    at: t,
                };
                if let Err(e) = self.execute(&actor, &checkable, op).await {
                    log::warning("operations", &format!("'{name}': {e}"));
                }
            }
            let Some(mut downtime) = planned else {
                continue;
            };
            downtime.legacy_id = self.legacy_id(true);
            let name = format!("{checkable}!{}", uuid::Uuid::new_v4());
            let template = downtime.clone();
            let op = Operation::ScheduleDowntime {
                name: name.clone(),
                downtime,
            };
            if let Err(e) = self.execute(&actor, &checkable, op).await {
                log::warning("operations", &format!("'{}': {e}", sd.full_name()));
                continue;
            }
            let options = sd
                .get("child_options")
                .map_or(Some(ChildOptions::None), |v| ChildOptions::parse(&v));
            let Some(options) = options.filter(|o| *o != ChildOptions::None) else {
                continue;
            };
            for child in self.children(&checkable).await {
                let Some(mut d) = options.child_downtime(&template, &name) else {
                    break;
                };
                d.legacy_id = self.legacy_id(true);
                let op = Operation::ScheduleDowntime {
                    name: format!("{child}!{}", uuid::Uuid::new_v4()),
                    downtime: d,
                };
                if let Err(e) = self.execute(&actor, &child, op).await {
                    log::warning("operations", &format!("'{}': {e}", sd.full_name()));
                }
            }
        }
    }

    /// Removes the downtimes of `ScheduledDowntime` objects that are
    /// gone (those this node's zone made: another zone removes its own),
    /// with their children.
    async fn drop_orphans(&self, config: &RwLock<Config>) {
        let (registry, zone) = config_of(config);
        let zone = zone.unwrap_or_default();
        let owners: HashSet<String> = registry
            .committed("ScheduledDowntime")
            .iter()
            .map(|sd| sd.full_name())
            .collect();
        let actor = Actor::new("system:scheduled-downtime");
        let t = now();
        let mut gone: HashSet<String> = HashSet::new();
        loop {
            let before = gone.len();
            for v in self.all() {
                for (name, d) in &v.state.downtimes {
                    let orphan = !d.scheduled_by.is_empty()
                        && !owners.contains(&d.scheduled_by)
                        && (d.authoritative_zone.is_empty() || d.authoritative_zone == zone);
                    if orphan || gone.contains(&d.parent) {
                        gone.insert(name.clone());
                    }
                }
            }
            if gone.len() == before {
                break;
            }
        }
        for v in self.all() {
            for name in v.state.downtimes.keys() {
                if gone.contains(name) {
                    let op = Operation::RemoveDowntime {
                        name: name.clone(),
                        cancelled: false,
                        at: t,
                    };
                    if let Err(e) = self.execute(&actor, &v.state.checkable, op).await {
                        log::warning("operations", &format!("'{name}': {e}"));
                    }
                }
            }
        }
    }

    async fn on_event(&self, actor: &Actor, event: &Event) {
        let (Event::StateChange { subject, .. } | Event::CheckResult { subject, .. }) = event
        else {
            return;
        };
        let id = subject.full_name();
        let Some(v) = self.store.get(&id) else {
            return;
        };
        let ops = match event {
            Event::StateChange {
                state, last_state, ..
            } => v.state.on_state(*last_state, *state, now()),
            _ => v.state.on_result(),
        };
        for op in ops {
            if let Err(e) = self.execute(actor, &id, op).await {
                log::warning("operations", &format!("'{id}': {e}"));
            }
        }
    }

    async fn on_tick(&self, actor: &Actor) {
        let t = now();
        let mut waiting = Vec::new();
        for v in self.all() {
            let id = &v.state.checkable;
            for op in v.state.due(t) {
                if let Err(e) = self.execute(actor, id, op).await {
                    log::warning("operations", &format!("'{id}': {e}"));
                }
            }
            if v.state.awaits_problem(t) {
                waiting.push(id.clone());
            }
        }
        // Flexible downtimes whose window opened while the problem was
        // already there start now.
        if !waiting.is_empty() {
            let states = self
                .checker
                .inspect(move |m, _, _| {
                    waiting
                        .into_iter()
                        .filter_map(|id| m.find(&id).map(|i| (id, m.entry(i).live.state)))
                        .collect::<Vec<_>>()
                })
                .await
                .unwrap_or_default();
            for (id, state) in states {
                let Some(v) = self.store.get(&id) else {
                    continue;
                };
                for op in v.state.on_state(state, state, t) {
                    if let Err(e) = self.execute(actor, &id, op).await {
                        log::warning("operations", &format!("'{id}': {e}"));
                    }
                }
            }
        }
        // Downtimes that came into or went out of effect with time alone.
        for v in self.all() {
            let marks = v.state.marks(t);
            let id = &v.state.checkable;
            if self.sent.lock().get(id) != Some(&marks) {
                self.send(id, marks, Vec::new()).await;
            }
        }
    }
}

/// The comment or downtime an event is about: as it is after the event,
/// or, when removed, as it was.
fn object_of(
    event: &OperationEvent,
    before: Option<&Versioned<Operations>>,
    after: &Versioned<Operations>,
    api_objects: &str,
) -> Option<Arc<ConfigObject>> {
    let id = &after.state.checkable;
    let triggers = |name: &str, o: &Operations| {
        o.downtimes
            .iter()
            .filter(|(_, d)| d.triggered_by == name)
            .map(|(n, _)| n.clone())
            .collect()
    };
    let comment = |name: &str, o: &Operations| {
        o.comments
            .get(name)
            .map(|c| operations::comment_object(name, id, c, o.changed.get(name), api_objects))
    };
    let downtime = |name: &str, o: &Operations| {
        o.downtimes.get(name).map(|d| {
            let changed = o.changed.get(name);
            operations::downtime_object(name, id, d, triggers(name, o), changed, api_objects)
        })
    };
    match event {
        OperationEvent::CommentAdded { name, .. } => comment(name, &after.state),
        OperationEvent::CommentRemoved { name } => comment(name, &before?.state),
        OperationEvent::DowntimeAdded { name, .. }
        | OperationEvent::DowntimeTriggered { name, .. } => downtime(name, &after.state),
        OperationEvent::Modified { name, .. } => {
            comment(name, &after.state).or_else(|| downtime(name, &after.state))
        }
        OperationEvent::DowntimeRemoved {
            name,
            cancelled,
            at,
        } => {
            let object = downtime(name, &before?.state)?;
            object.set_raw("was_cancelled", picket_lang::Value::Bool(*cancelled));
            object.set_raw("remove_time", picket_lang::Value::Number(*at));
            Some(object)
        }
        _ => None,
    }
}
