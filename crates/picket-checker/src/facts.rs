//! What the checks about the node itself read: `icinga`, `cluster` and
//! `cluster-zone`, and `/v1/status` through the API. Icinga computes
//! these figures from the objects, the checker and the listener at the
//! moment a check runs; [`NodeFacts`] gathers the same sources and
//! computes them the same way, so a check result and the status page
//! always agree.

use picket_model::cluster::{Links, ListenerState, ListenerStatus, Topology};
use picket_model::monitor::{Entry, Monitor};
use picket_model::result::{now, Perfdata, PerfdataValue};
use picket_model::state::Kind;
use picket_model::Registry;

use crate::stats::Stats;

/// The sources of the node's figures. A check run away from the checker
/// (`execute-command`, a test) has no monitor; one without a running
/// listener has no listener state.
#[derive(Default, Clone, Copy)]
pub struct NodeFacts<'a> {
    /// Seconds since the node started.
    pub uptime: f64,
    pub registry: Option<&'a Registry>,
    /// This node's endpoint name.
    pub identity: &'a str,
    /// The checker's checkables and counters.
    pub checker: Option<(&'a Monitor, &'a Stats)>,
    pub listener: Option<&'a ListenerState>,
    /// When a new configuration last failed to load (0: never).
    pub last_reload_failed: f64,
}

impl NodeFacts<'_> {
    pub fn links(&self) -> Links {
        self.listener.map(ListenerState::links).unwrap_or_default()
    }

    /// The `ApiListener` status; `None` without an ApiListener object.
    pub fn listener_status(&self) -> Option<ListenerStatus> {
        let registry = self.registry?;
        if registry.count("ApiListener") == 0 {
            return None;
        }
        Some(Topology::of(registry, self.identity).listener_status(&self.links(), now()))
    }

    /// Checkables waiting and checks running (CheckerComponent's `idle`
    /// and `pending`).
    pub fn checker_load(&self) -> (usize, usize) {
        self.checker.map_or((0, 0), |(m, s)| {
            (m.len().saturating_sub(s.running), s.running)
        })
    }

    /// The features' performance data (Icinga's `CIB::GetFeatureStats`),
    /// in the order of their names: ApiListener, CheckerComponent.
    pub fn feature_perfdata(&self) -> Vec<Perfdata> {
        let mut out = Vec::new();
        if let Some(status) = self.listener_status() {
            let clients = self.listener.map_or(0, ListenerState::http_clients);
            for (label, value) in status.perfdata(clients) {
                out.push(PerfdataValue::plain(label, value));
            }
        }
        let (idle, pending) = self.checker_load();
        for checker in self
            .registry
            .map(|r| r.committed("CheckerComponent"))
            .unwrap_or_default()
        {
            let name = checker.full_name();
            out.push(PerfdataValue::plain(
                &format!("checkercomponent_{name}_idle"),
                idle as f64,
            ));
            out.push(PerfdataValue::plain(
                &format!("checkercomponent_{name}_pending"),
                pending as f64,
            ));
        }
        out
    }

    /// The `icinga` check's performance data: the features', the
    /// node's own ([`NodeFacts::cib`]) and the cluster traffic.
    pub fn health(&self) -> Vec<Perfdata> {
        let mut out = self.feature_perfdata();
        out.extend(self.cib());
        let endpoints: Vec<String> = self
            .registry
            .map(|r| r.committed("Endpoint"))
            .unwrap_or_default()
            .iter()
            .map(|e| e.full_name())
            .collect();
        let traffic = self.links().traffic(endpoints.iter().map(String::as_str));
        for (label, value) in traffic.perfdata() {
            out.push(PerfdataValue::plain(label, value));
        }
        out
    }

    /// Check rates, latencies and the hosts and services in each state,
    /// as Icinga's CIB counts them (the `CIB` status).
    pub fn cib(&self) -> Vec<Perfdata> {
        let mut out = Vec::new();
        let mut push = |label: &str, value: f64| out.push(PerfdataValue::plain(label, value));
        let stats = self.checker.map(|(_, s)| s);
        let count = |kind, active, span| stats.map_or(0, |s| s.count(kind, active, span)) as f64;
        // The rate is over the last minute, or over the uptime before
        // the first minute is full, as Icinga's.
        let interval = self.uptime.min(60.0);
        let rate = |kind, active| match interval > 0.0 {
            true => count(kind, active, interval.ceil() as usize) / interval,
            false => 0.0,
        };
        for (kind, word) in [(Kind::Host, "host"), (Kind::Service, "service")] {
            for (active, how) in [(true, "active"), (false, "passive")] {
                push(&format!("{how}_{word}_checks"), rate(kind, active));
            }
            for (span, suffix) in [(60, "1min"), (300, "5min"), (900, "15min")] {
                for (active, how) in [(true, "active"), (false, "passive")] {
                    push(
                        &format!("{how}_{word}_checks_{suffix}"),
                        count(kind, active, span),
                    );
                }
            }
        }
        let (_, running) = self.checker_load();
        push("current_pending_callbacks", 0.0);
        push("current_concurrent_checks", running as f64);
        push("remote_check_queue", 0.0);
        let (mut latency, mut execution) = (Figures::default(), Figures::default());
        let mut services = Counts::default();
        let mut hosts = Counts::default();
        for (_, c, e) in self.checker.into_iter().flat_map(|(m, _)| m.checkables()) {
            if let Some(r) = &e.last_result {
                latency.add(
                    (r.schedule_end - r.schedule_start) - (r.execution_end - r.execution_start),
                );
                execution.add(r.execution_end - r.execution_start);
            }
            match c.rules.kind {
                Kind::Service => services.count(e, true),
                // Icinga counts an unreachable host as neither up nor down.
                Kind::Host => hosts.count(e, e.live.last_reachable),
            }
        }
        for (label, f) in [("latency", &latency), ("execution_time", &execution)] {
            push(&format!("min_{label}"), f.min());
            push(&format!("max_{label}"), f.max);
            push(&format!("avg_{label}"), f.avg());
        }
        for (label, n) in ["ok", "warning", "critical", "unknown"]
            .iter()
            .zip(services.states)
        {
            push(&format!("num_services_{label}"), n as f64);
        }
        for (label, n) in services.marks() {
            push(&format!("num_services_{label}"), n as f64);
        }
        push("uptime", self.uptime);
        for (label, n) in ["up", "down"].iter().zip(hosts.states) {
            push(&format!("num_hosts_{label}"), n as f64);
        }
        for (label, n) in hosts.marks() {
            push(&format!("num_hosts_{label}"), n as f64);
        }
        out
    }
}

/// How many hosts or services are in each state and carry each mark, as
/// Icinga's CIB counts them.
#[derive(Default)]
struct Counts {
    states: [u64; 4],
    pending: u64,
    unreachable: u64,
    flapping: u64,
    in_downtime: u64,
    acknowledged: u64,
    handled: u64,
    problem: u64,
}

impl Counts {
    /// Counts one checkable; `by_state` is false where its state is not
    /// counted (an unreachable host).
    fn count(&mut self, e: &Entry, by_state: bool) {
        let live = &e.live;
        if by_state {
            self.states[usize::from(live.state.min(3))] += 1;
        }
        self.pending += u64::from(e.last_result.is_none());
        self.unreachable += u64::from(!live.last_reachable);
        self.flapping += u64::from(live.flapping.is_flapping);
        self.in_downtime += u64::from(live.marks.downtime_depth > 0);
        self.acknowledged += u64::from(live.marks.acknowledgement != 0);
        self.handled += u64::from(e.handled());
        self.problem += u64::from(e.problem());
    }

    /// The figures after the states, in Icinga's order.
    fn marks(&self) -> [(&'static str, u64); 7] {
        [
            ("pending", self.pending),
            ("unreachable", self.unreachable),
            ("flapping", self.flapping),
            ("in_downtime", self.in_downtime),
            ("acknowledged", self.acknowledged),
            ("handled", self.handled),
            ("problem", self.problem),
        ]
    }
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
