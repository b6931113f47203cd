//! The checker: runs every due check of a [`Monitor`], at most
//! `concurrent_checks` plugins at a time, and hands each result to the
//! model.
//!
//! One task owns the monitor, so results, passive submissions, reloads and
//! inspections are applied one after another without locks. Due times sit
//! in a heap; an entry whose time no longer matches the checkable's
//! `next_check` is stale and dropped when it comes up, which is cheaper
//! than removing entries when a result moves the next check. Built-in
//! checks that need no waiting (`dummy`, `random`, ...) run inline; plugins
//! and `sleep` run as tasks whose results come back to the owner.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::Duration;

use picket_lang::{Context, Value};
use picket_model::cluster::ListenerState;
use picket_model::event::{Bus, Event};
use picket_model::monitor::{Entry, Id, Monitor};
use picket_model::notifications::{Dispatch, NotificationType, Request};
use picket_model::operations::Marks;
use picket_model::period::Window;
use picket_model::result::{now, CheckResult};
use picket_model::Registry;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::check::{self, Plan};
use crate::facts::NodeFacts;
use crate::stats::Stats;

/// Icinga 2's default bound on checks running at once.
pub const DEFAULT_CONCURRENT_CHECKS: usize = 512;

/// Due checks started in one go before the task looks at its mailbox
/// again, so that a burst of due checks cannot starve commands.
const BURST: usize = 2048;

/// A configuration the checker plans checks from.
#[derive(Clone)]
pub struct Config {
    pub registry: Arc<Registry>,
    pub ctx: Arc<Context>,
}

/// A look at the checker's state, run on its task.
pub type Inspection = Box<dyn FnOnce(&Monitor, &Config, &Stats) + Send>;

/// What the checker can be asked to do.
pub enum Command {
    /// A result from outside (passive, or from another node).
    Submit {
        full_name: String,
        result: CheckResult,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Switch to a new, already validated configuration: objects of the
    /// same name keep their state and schedule, running checks finish and
    /// count, removed objects go, new ones are scheduled.
    Reload {
        config: Config,
        reply: oneshot::Sender<Reloaded>,
    },
    /// A new configuration did not load; the `icinga` check warns of it
    /// from then on, as Icinga's does after a failed reload.
    ReloadFailed {
        at: f64,
    },
    Inspect(Inspection),
    /// Move the next check of an object (`reschedule-check`).
    Reschedule {
        full_name: String,
        at: f64,
        force: bool,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Runtime attributes an API client set (`POST /v1/objects`), taken
    /// as Icinga takes them ([`Monitor::set_runtime`]).
    SetRuntime {
        full_name: String,
        attrs: Vec<(String, Value)>,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// What operators did to an object: its new marks and the changes
    /// to publish (in order with its results).
    Operated {
        full_name: String,
        marks: Marks,
        changes: Vec<picket_model::operations::Change>,
    },
    /// A run of `execute-command` started or ended: recorded in the
    /// object's `executions`.
    Execution {
        full_name: String,
        id: String,
        execution: picket_model::monitor::Execution,
    },
    /// A custom notification (`send-custom-notification`); `force` goes
    /// past the filters and the switches.
    Notify {
        full_name: String,
        author: String,
        text: String,
        force: bool,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Moves the next notification of every notification of an object
    /// (`delay-notification`).
    DelayNotifications {
        full_name: String,
        until: f64,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Stop checking; the task ends with its monitor.
    Stop,
}

/// How often kept-back notifications and reminders are looked at, as
/// Icinga's notification timer.
const NOTIFICATION_TICK: Duration = Duration::from_secs(5);

/// How often runs of `execute-command` past their deadline are
/// forgotten (Icinga's interval).
const EXECUTIONS_CLEAN_UP: Duration = Duration::from_secs(300);

/// What a reload changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reloaded {
    pub kept: usize,
    pub added: usize,
    pub removed: usize,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub concurrent_checks: usize,
    /// Recorded as `check_source` of every result.
    pub node_name: String,
    /// The node's listener, when it runs: its clients and cluster links
    /// are figures of the `icinga` and `cluster` checks.
    pub listener: Option<Arc<ListenerState>>,
}

/// The checker's handle; the checker stops when told to or when every
/// handle is dropped.
#[derive(Clone)]
pub struct Checker {
    commands: mpsc::Sender<Command>,
}

impl Checker {
    /// Starts the checker on the current runtime. `entries` are states
    /// and `windows` TimePeriod windows to take over (from retention); the
    /// task's result is the monitor as it was when the checker stopped,
    /// for the last retention write.
    pub fn start(
        config: Config,
        bus: Bus,
        settings: Settings,
        entries: Vec<(String, Entry)>,
        windows: Vec<(String, Window)>,
    ) -> (Checker, tokio::task::JoinHandle<Monitor>) {
        let (tx, rx) = mpsc::channel(1024);
        let mut monitor = Monitor::build(&config.registry, bus);
        for (name, entry) in entries {
            monitor.adopt(&name, entry);
        }
        monitor.resume_periods(windows, now());
        monitor.spread_first_checks(now());
        monitor.hold_reminders(now());
        let task = Task::new(config, monitor, settings);
        (Checker { commands: tx }, tokio::spawn(task.run(rx)))
    }

    pub async fn send(&self, command: Command) -> bool {
        self.commands.send(command).await.is_ok()
    }

    /// Runs `f` on the checker's task and returns what it returns.
    pub async fn inspect<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Monitor, &Config, &Stats) -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = oneshot::channel();
        let sent = self
            .send(Command::Inspect(Box::new(move |m, c, s| {
                let _ = tx.send(f(m, c, s));
            })))
            .await;
        if !sent {
            return None;
        }
        rx.await.ok()
    }
}

/// A check running as a task: which configuration generation it belongs
/// to, so that a result arriving after a reload finds its object by name.
struct Done {
    generation: u64,
    id: Id,
    full_name: Arc<str>,
    /// When the check was due.
    scheduled: f64,
    result: CheckResult,
}

struct Task {
    config: Config,
    monitor: Monitor,
    settings: Settings,
    heap: BinaryHeap<Reverse<(u64, Id)>>,
    running: Vec<bool>,
    in_flight: JoinSet<Done>,
    generation: u64,
    stats: Stats,
    /// When a new configuration last failed to load (0: never).
    last_reload_failed: f64,
}

/// Due times in the heap, in microseconds (floats do not order totally).
fn key(at: f64) -> u64 {
    (at.max(0.0) * 1e6) as u64
}

impl Task {
    fn new(config: Config, monitor: Monitor, settings: Settings) -> Task {
        let mut task = Task {
            running: vec![false; monitor.len()],
            config,
            monitor,
            settings,
            heap: BinaryHeap::new(),
            in_flight: JoinSet::new(),
            generation: 0,
            stats: Stats::default(),
            last_reload_failed: 0.0,
        };
        task.fill_heap();
        task
    }

    fn fill_heap(&mut self) {
        self.heap = self
            .monitor
            .checkables()
            .map(|(id, _, e)| Reverse((key(e.next_check), id)))
            .collect();
    }

    /// Zero: no active checks at all (no `CheckerComponent`).
    fn limit(&self) -> usize {
        self.settings.concurrent_checks
    }

    async fn run(mut self, mut commands: mpsc::Receiver<Command>) -> Monitor {
        let mut tick = tokio::time::interval(NOTIFICATION_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut clean = tokio::time::interval(EXECUTIONS_CLEAN_UP);
        clean.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let periods_every = Duration::from_secs_f64(picket_model::period::UPDATE_INTERVAL);
        let mut periods =
            tokio::time::interval_at(tokio::time::Instant::now() + periods_every, periods_every);
        periods.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            self.send_notifications();
            self.start_due();
            let next_due = self.heap.peek().map(|Reverse((at, _))| *at);
            let wait = match next_due {
                _ if self.in_flight.len() >= self.limit() => Duration::from_secs(3600),
                Some(at) => Duration::from_micros(at.saturating_sub(key(now()))),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                Some(done) = self.in_flight.join_next(), if !self.in_flight.is_empty() => {
                    if let Ok(done) = done {
                        self.finished(done);
                    }
                }
                command = commands.recv() => match command {
                    Some(Command::Stop) | None => break,
                    Some(command) => self.command(command),
                },
                _ = tick.tick() => {
                    let now = now();
                    for dispatch in self.monitor.notification_tick(now) {
                        self.dispatch(dispatch, now);
                    }
                }
                _ = clean.tick() => self.monitor.prune_executions(now()),
                _ = periods.tick() => self.monitor.update_periods(now()),
                _ = tokio::time::sleep(wait) => {}
            }
        }
        self.monitor
    }

    /// Starts the checks that are due, up to the concurrency bound.
    fn start_due(&mut self) {
        let now = now();
        let now_key = key(now);
        for _ in 0..BURST {
            if self.in_flight.len() >= self.limit() {
                return;
            }
            let Some(&Reverse((at, id))) = self.heap.peek() else {
                return;
            };
            if at > now_key {
                return;
            }
            self.heap.pop();
            if self.running[id] || key(self.monitor.entry(id).next_check) != at {
                continue;
            }
            if self.monitor.due(id, now).is_err() {
                self.push(id);
                continue;
            }
            let scheduled = self.monitor.entry(id).next_check;
            self.monitor.started(id, now);
            self.start(id, scheduled, now);
        }
    }

    /// What the checks about the node itself read.
    fn facts(&mut self) -> NodeFacts<'_> {
        self.stats.running = self.in_flight.len();
        NodeFacts {
            uptime: self.stats.uptime(),
            registry: Some(&self.config.registry),
            identity: &self.settings.node_name,
            checker: Some((&self.monitor, &self.stats)),
            listener: self.settings.listener.as_deref(),
            last_reload_failed: self.last_reload_failed,
        }
    }

    fn push(&mut self, id: Id) {
        let at = key(self.monitor.entry(id).next_check);
        self.heap.push(Reverse((at, id)));
    }

    fn start(&mut self, id: Id, scheduled: f64, now: f64) {
        let object = self.monitor.checkable(id).object.clone();
        let plan = match check::plan(&self.config.registry, &self.config.ctx, &object) {
            Ok(plan) => plan,
            Err(e) => Plan::Done(Box::new(CheckResult::new(3, 3, e.to_string(), now))),
        };
        let plan = match check::run_inline(plan, &self.facts()) {
            Ok(result) => {
                self.apply(id, result, scheduled);
                return;
            }
            Err(plan) => plan,
        };
        self.running[id] = true;
        let generation = self.generation;
        let full_name: Arc<str> = object.full_name().into();
        self.in_flight.spawn(async move {
            Done {
                generation,
                id,
                full_name,
                scheduled,
                result: check::execute(plan).await,
            }
        });
    }

    fn finished(&mut self, done: Done) {
        let id = if done.generation == self.generation {
            Some(done.id)
        } else {
            self.monitor.find(&done.full_name)
        };
        let Some(id) = id else {
            // Removed by a reload while it ran.
            return;
        };
        self.running[id] = false;
        self.apply(id, done.result, done.scheduled);
    }

    /// Records an active result of `id`, due at `scheduled`, and schedules
    /// its next check.
    fn apply(&mut self, id: Id, mut result: CheckResult, scheduled: f64) {
        let now = now();
        result.schedule_start = scheduled;
        result.schedule_end = now;
        result.check_source = self.settings.node_name.clone();
        self.stats
            .record(self.monitor.checkable(id).rules.kind, true);
        let _ = self.monitor.process(id, result, now);
        self.push(id);
    }

    fn command(&mut self, command: Command) {
        match command {
            Command::Submit {
                full_name,
                result,
                reply,
            } => {
                let outcome = self.on_object(&full_name, |task, id| {
                    let kind = task.monitor.checkable(id).rules.kind;
                    task.monitor.process(id, result, now())?;
                    task.stats.record(kind, false);
                    Ok(())
                });
                let _ = reply.send(outcome);
            }
            Command::ReloadFailed { at } => self.last_reload_failed = at,
            Command::Reload { config, reply } => {
                let _ = reply.send(self.reload(config));
            }
            Command::Inspect(f) => {
                self.stats.running = self.in_flight.len();
                f(&self.monitor, &self.config, &self.stats)
            }
            Command::Reschedule {
                full_name,
                at,
                force,
                reply,
            } => {
                let outcome = self.on_object(&full_name, |task, id| {
                    task.monitor.reschedule(id, at, force);
                    Ok(())
                });
                let _ = reply.send(outcome);
            }
            Command::SetRuntime {
                full_name,
                attrs,
                reply,
            } => {
                let outcome = self.on_object(&full_name, |task, id| {
                    for (name, value) in &attrs {
                        task.monitor.set_runtime(id, name, value);
                    }
                    Ok(())
                });
                let _ = reply.send(outcome);
            }
            Command::Operated {
                full_name,
                marks,
                changes,
            } => {
                if let Some(id) = self.monitor.find(&full_name) {
                    self.monitor.operated(id, marks, changes, now());
                }
            }
            Command::Execution {
                full_name,
                id,
                execution,
            } => {
                if let Some(object) = self.monitor.find(&full_name) {
                    self.monitor.record_execution(object, id, execution);
                }
            }
            Command::Notify {
                full_name,
                author,
                text,
                force,
                reply,
            } => {
                let outcome = self.on_object(&full_name, |task, id| {
                    // As Icinga: forcing marks the checkable, and sending
                    // clears the mark (which stays when nothing sends).
                    if force {
                        task.monitor.force_next_notification(id);
                    }
                    let mut request = Request::new(id, NotificationType::Custom);
                    request.author = author;
                    request.text = text;
                    task.monitor.request_notification(request);
                    Ok(())
                });
                let _ = reply.send(outcome);
            }
            Command::DelayNotifications {
                full_name,
                until,
                reply,
            } => {
                let outcome = self.on_object(&full_name, |task, id| {
                    task.monitor.delay_notifications(id, until);
                    Ok(())
                });
                let _ = reply.send(outcome);
            }
            Command::Stop => {}
        }
    }

    /// Begins the notifications asked for since the last call and starts
    /// their commands, one per user.
    fn send_notifications(&mut self) {
        let now = now();
        for dispatch in self.monitor.begin_pending(now) {
            self.dispatch(dispatch, now);
        }
    }

    fn dispatch(&mut self, dispatch: Dispatch, now: f64) {
        let checkable = self.monitor.checkable(dispatch.checkable);
        let subject = checkable.subject.clone();
        let kind = dispatch.kind.name();
        let notification = dispatch.notification.full_name();
        let command = dispatch.notification.get_str("command").to_string();
        let mut users = Vec::with_capacity(dispatch.users.len());
        for user in &dispatch.users {
            let user_name = user.full_name();
            tracing::info!("Sending '{kind}' notification '{notification}' for user '{user_name}'");
            let plan = crate::notify::plan(
                &self.config.registry,
                &self.config.ctx,
                &self.monitor,
                &dispatch,
                user,
            );
            let (notification, command) = (notification.clone(), command.clone());
            match plan {
                Ok(plan) => {
                    tokio::spawn(async move {
                        let outcome = crate::execute::run(plan).await;
                        if outcome.exit == 0 {
                            tracing::info!(
                                "Completed sending '{kind}' notification '{notification}' \
                                 for user '{user_name}' using command '{command}'."
                            );
                        } else {
                            tracing::warn!(
                                "Notification command '{command}' of '{notification}' for \
                                 user '{user_name}' ended with exit code {}, output: {}",
                                outcome.exit,
                                outcome.output
                            );
                        }
                    });
                }
                Err(e) => tracing::warn!(
                    "Cannot send '{kind}' notification '{notification}' to '{user_name}': {e}"
                ),
            }
            users.push(user.full_name());
        }
        self.monitor.bus().publish(Event::Notification {
            subject,
            notification,
            command,
            users,
            notification_type: dispatch.kind,
            author: dispatch.author,
            text: dispatch.text,
            check_result: dispatch.check_result,
            timestamp: now,
        });
    }

    /// Runs `change` on the object named `full_name` and schedules it
    /// again after a change that went through.
    fn on_object(
        &mut self,
        full_name: &str,
        change: impl FnOnce(&mut Task, Id) -> Result<(), picket_model::monitor::Refused>,
    ) -> Result<(), String> {
        let id = self
            .monitor
            .find(full_name)
            .ok_or_else(|| format!("Object '{full_name}' does not exist."))?;
        change(self, id).map_err(|e| e.to_string())?;
        self.push(id);
        Ok(())
    }

    fn reload(&mut self, config: Config) -> Reloaded {
        let mut monitor = Monitor::build(&config.registry, self.monitor.bus().clone());
        let mut running = vec![false; monitor.len()];
        let mut kept = 0;
        for (id, c, e) in self.monitor.checkables() {
            let name = c.object.full_name();
            if monitor.adopt(&name, e.clone()) {
                kept += 1;
                if let Some(new) = monitor.find(&name) {
                    running[new] = self.running[id];
                }
            }
        }
        let removed = self.monitor.len() - kept;
        let added = monitor.len() - kept;
        monitor.spread_unscheduled(now());
        monitor.hold_new_reminders(&self.monitor, now());
        monitor.adopt_periods(&self.monitor);
        self.monitor = monitor;
        self.running = running;
        self.config = config;
        self.generation += 1;
        self.fill_heap();
        Reloaded {
            kept,
            added,
            removed,
        }
    }
}
