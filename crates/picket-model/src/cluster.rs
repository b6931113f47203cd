//! The cluster as the configuration draws it and as this node sees it.
//!
//! Zones, their parents and endpoints come from the configuration
//! ([`Topology`]); how this node's links to other endpoints stand
//! ([`Links`]) comes from whoever keeps those connections. Icinga derives
//! its `ApiListener` status, the `cluster` and `cluster-zone` checks, the
//! `icinga` check's message figures and the runtime attributes of
//! endpoints and zones from these two; so does Picket, in one place, so
//! that the API and the checks can never disagree.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::RwLock;
use picket_lang::Value;

use crate::Registry;

/// One zone of the configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub name: String,
    /// Empty for a top-level (or global) zone.
    pub parent: String,
    /// Its endpoints that exist as Endpoint objects, in configuration
    /// order.
    pub endpoints: Vec<String>,
    pub global: bool,
}

/// The zone tree and this node's place in it.
#[derive(Debug, Clone)]
pub struct Topology {
    /// This node's endpoint name (its certificate's CN).
    pub identity: String,
    pub zones: Vec<Zone>,
    /// The zone whose endpoints include `identity`.
    local: Option<usize>,
}

impl Topology {
    /// The zones of `registry`, seen from the endpoint `identity`.
    pub fn of(registry: &Registry, identity: &str) -> Topology {
        let endpoints: std::collections::HashSet<String> = registry
            .committed("Endpoint")
            .iter()
            .map(|e| e.full_name())
            .collect();
        let zones: Vec<Zone> = registry
            .committed("Zone")
            .iter()
            .map(|z| Zone {
                name: z.full_name(),
                parent: z.get_str("parent"),
                endpoints: match z.get("endpoints") {
                    Some(Value::Array(a)) => a
                        .to_vec()
                        .iter()
                        .map(Value::to_display)
                        .filter(|e| endpoints.contains(e))
                        .collect(),
                    _ => Vec::new(),
                },
                global: z.get("global").is_some_and(|g| g.to_bool()),
            })
            .collect();
        Topology::new(identity, zones)
    }

    /// The zones seen from the endpoint `identity`.
    pub fn new(identity: &str, zones: Vec<Zone>) -> Topology {
        let local = zones
            .iter()
            .position(|z| z.endpoints.iter().any(|e| e == identity));
        Topology {
            identity: identity.to_string(),
            zones,
            local,
        }
    }

    pub fn zone(&self, name: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.name == name)
    }

    /// The zone whose endpoints include `endpoint`.
    pub fn zone_of_endpoint(&self, endpoint: &str) -> Option<&Zone> {
        self.zones
            .iter()
            .find(|z| z.endpoints.iter().any(|e| e == endpoint))
    }

    /// Whether `zone` is `ancestor` or lies below it.
    fn is_child_of(&self, zone: &str, ancestor: &str) -> bool {
        zone == ancestor || self.all_parents(zone).iter().any(|p| p == ancestor)
    }

    /// Who keeps an `execute-command` for the remote `endpoint` from
    /// being sent on, as Icinga decides it: every endpoint of the child
    /// zones of the local zone that `endpoint` is reached through must
    /// have said (in its hello) that it runs such commands; one never
    /// connected has not.
    pub fn execution_refused_by(&self, endpoint: &str, links: &Links) -> Option<String> {
        let local = self.local_zone()?;
        let target = self.zone_of_endpoint(endpoint);
        let reached_through = |zone: &Zone| match target {
            Some(t) if t.global => true,
            Some(t) => self.is_child_of(&t.name, &zone.name),
            None => self.is_child_of(local, &zone.name),
        };
        self.zones
            .iter()
            .filter(|z| z.parent == local && reached_through(z))
            .flat_map(|z| &z.endpoints)
            .find(|e| links.get(e).capabilities & CAN_EXECUTE_COMMANDS == 0)
            .cloned()
    }

    /// The local zone's name, if this node's endpoint is in one.
    pub fn local_zone(&self) -> Option<&str> {
        self.local.map(|i| self.zones[i].name.as_str())
    }

    /// A zone's parents, nearest first (Icinga's `all_parents`). A cycle
    /// stops where it would repeat (the configuration refuses cycles).
    pub fn all_parents(&self, name: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut at = self.zone(name);
        while let Some(parent) = at.and_then(|z| self.zone(&z.parent)) {
            if parent.name == name || out.contains(&parent.name) {
                break;
            }
            out.push(parent.name.clone());
            at = Some(parent);
        }
        out
    }

    /// The `ApiListener` status: the endpoints of the local zone, its
    /// parent and its children (not this node's own), and those zones.
    pub fn listener_status(&self, links: &Links, now: f64) -> ListenerStatus {
        let local = self.local_zone().unwrap_or_default();
        let local_parent = self.local.map_or("", |i| self.zones[i].parent.as_str());
        let mut status = ListenerStatus {
            identity: self.identity.clone(),
            ..ListenerStatus::default()
        };
        for zone in &self.zones {
            // Without a local zone Icinga takes the top-level zones.
            let near = zone.name == local
                || zone.parent == local
                || (!local_parent.is_empty() && zone.name == local_parent);
            if !near {
                continue;
            }
            let (mut connected, mut others, mut lag) = (false, 0, 0.0_f64);
            for endpoint in zone.endpoints.iter().filter(|e| **e != self.identity) {
                let link = links.get(endpoint);
                lag = lag.max(link.lag(now));
                others += 1;
                if link.connected {
                    connected = true;
                    status.connected.push(endpoint.clone());
                } else {
                    status.not_connected.push(endpoint.clone());
                }
            }
            // A zone of this node alone counts as connected.
            if zone.endpoints.len() == 1 && others == 0 {
                connected = true;
            }
            status.zones.push(ZoneStatus {
                name: zone.name.clone(),
                connected,
                client_log_lag: lag,
                endpoints: zone.endpoints.clone(),
                parent_zone: zone.parent.clone(),
            });
        }
        status
    }

    /// How a zone's endpoints stand, for the `cluster-zone` check.
    pub fn zone_health(&self, zone: &Zone, links: &Links, now: f64) -> ZoneHealth {
        let mut health = ZoneHealth::default();
        for endpoint in &zone.endpoints {
            let link = links.get(endpoint);
            health.connected |= link.connected;
            health.lag = health.lag.max(link.lag(now));
        }
        health.traffic = links.traffic(zone.endpoints.iter().map(String::as_str));
        health
    }
}

/// One zone in the `ApiListener` status.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneStatus {
    pub name: String,
    pub connected: bool,
    pub client_log_lag: f64,
    pub endpoints: Vec<String>,
    pub parent_zone: String,
}

/// The cluster part of the `ApiListener` status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListenerStatus {
    pub identity: String,
    pub connected: Vec<String>,
    pub not_connected: Vec<String>,
    pub zones: Vec<ZoneStatus>,
}

impl ListenerStatus {
    pub fn num_endpoints(&self) -> usize {
        self.connected.len() + self.not_connected.len()
    }

    /// The `ApiListener` performance data, named and ordered as Icinga's.
    /// The JSON-RPC queues and anonymous clients belong to the cluster
    /// connections, which this node does not accept yet: they are zero.
    pub fn perfdata(&self, http_clients: usize) -> Vec<(&'static str, f64)> {
        vec![
            ("api_num_conn_endpoints", self.connected.len() as f64),
            ("api_num_endpoints", self.num_endpoints() as f64),
            ("api_num_http_clients", http_clients as f64),
            ("api_num_json_rpc_anonymous_clients", 0.0),
            ("api_num_json_rpc_relay_queue_item_rate", 0.0),
            ("api_num_json_rpc_relay_queue_items", 0.0),
            ("api_num_json_rpc_sync_queue_item_rate", 0.0),
            ("api_num_json_rpc_sync_queue_items", 0.0),
            ("api_num_json_rpc_work_queue_item_rate", 0.0),
            (
                "api_num_not_conn_endpoints",
                self.not_connected.len() as f64,
            ),
        ]
    }
}

/// What the `cluster-zone` check reports of a zone.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ZoneHealth {
    pub connected: bool,
    /// The largest replay-log lag of its endpoints, in seconds.
    pub lag: f64,
    pub traffic: Traffic,
}

/// Messages and bytes to and from a set of endpoints.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Traffic {
    pub last_message_sent: f64,
    pub last_message_received: f64,
    pub messages_sent_per_second: f64,
    pub messages_received_per_second: f64,
    pub bytes_sent_per_second: f64,
    pub bytes_received_per_second: f64,
}

impl Traffic {
    /// The figures as the `icinga` and `cluster-zone` checks label them.
    pub fn perfdata(&self) -> [(&'static str, f64); 6] {
        [
            ("last_messages_sent", self.last_message_sent),
            ("last_messages_received", self.last_message_received),
            (
                "sum_messages_sent_per_second",
                self.messages_sent_per_second,
            ),
            (
                "sum_messages_received_per_second",
                self.messages_received_per_second,
            ),
            ("sum_bytes_sent_per_second", self.bytes_sent_per_second),
            (
                "sum_bytes_received_per_second",
                self.bytes_received_per_second,
            ),
        ]
    }
}

/// The capability bit of an endpoint that runs `execute-command` (Icinga's
/// `ApiCapabilities::ExecuteArbitraryCommand`).
pub const CAN_EXECUTE_COMMANDS: u64 = 1;

/// This node's link to one endpoint: the runtime attributes Icinga shows
/// on the Endpoint object. An endpoint without a link is all zero and
/// disconnected, as Icinga shows one it never reached (and its own).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Link {
    pub connected: bool,
    pub connecting: bool,
    pub syncing: bool,
    pub last_message_sent: f64,
    pub last_message_received: f64,
    pub messages_sent_per_second: f64,
    pub messages_received_per_second: f64,
    pub bytes_sent_per_second: f64,
    pub bytes_received_per_second: f64,
    /// Replay-log positions (timestamps) of both sides.
    pub local_log_position: f64,
    pub remote_log_position: f64,
    pub icinga_version: u64,
    pub capabilities: u64,
}

impl Link {
    /// How far the endpoint is behind on the replay log: only while it
    /// is away or catching up, and only once it ever confirmed a
    /// position (Icinga's zone lag).
    pub fn lag(&self, now: f64) -> f64 {
        if (self.syncing || !self.connected) && self.remote_log_position != 0.0 {
            (now - self.remote_log_position).max(0.0)
        } else {
            0.0
        }
    }

    /// The Endpoint runtime attributes, by name.
    pub fn attribute(&self, name: &str) -> Option<Value> {
        let n = Value::Number;
        Some(match name {
            "connected" => Value::Bool(self.connected),
            "connecting" => Value::Bool(self.connecting),
            "syncing" => Value::Bool(self.syncing),
            "last_message_sent" => n(self.last_message_sent),
            "last_message_received" => n(self.last_message_received),
            "messages_sent_per_second" => n(self.messages_sent_per_second),
            "messages_received_per_second" => n(self.messages_received_per_second),
            "bytes_sent_per_second" => n(self.bytes_sent_per_second),
            "bytes_received_per_second" => n(self.bytes_received_per_second),
            "local_log_position" => n(self.local_log_position),
            "remote_log_position" => n(self.remote_log_position),
            "icinga_version" => n(self.icinga_version as f64),
            "capabilities" => n(self.capabilities as f64),
            _ => return None,
        })
    }
}

/// The runtime attribute names of an Endpoint ([`Link::attribute`]).
pub const ENDPOINT_ATTRIBUTES: &[&str] = &[
    "bytes_received_per_second",
    "bytes_sent_per_second",
    "capabilities",
    "connected",
    "connecting",
    "icinga_version",
    "last_message_received",
    "last_message_sent",
    "local_log_position",
    "messages_received_per_second",
    "messages_sent_per_second",
    "remote_log_position",
    "syncing",
];

/// This node's links, by endpoint name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Links(BTreeMap<String, Link>);

impl Links {
    pub fn get(&self, endpoint: &str) -> Link {
        self.0.get(endpoint).copied().unwrap_or_default()
    }

    pub fn set(&mut self, endpoint: &str, link: Link) {
        self.0.insert(endpoint.to_string(), link);
    }

    /// The newest message times and the summed rates of `endpoints`.
    pub fn traffic<'a>(&self, endpoints: impl IntoIterator<Item = &'a str>) -> Traffic {
        let mut t = Traffic::default();
        for link in endpoints.into_iter().map(|e| self.get(e)) {
            t.last_message_sent = t.last_message_sent.max(link.last_message_sent);
            t.last_message_received = t.last_message_received.max(link.last_message_received);
            t.messages_sent_per_second += link.messages_sent_per_second;
            t.messages_received_per_second += link.messages_received_per_second;
            t.bytes_sent_per_second += link.bytes_sent_per_second;
            t.bytes_received_per_second += link.bytes_received_per_second;
        }
        t
    }
}

/// What the node's listener shares with the checks and the API: how many
/// HTTP clients it serves and its links to other endpoints. The API
/// counts its clients; the links stay empty while this node keeps no
/// cluster connections.
#[derive(Debug, Default)]
pub struct ListenerState {
    /// This node's endpoint name (its certificate's CN).
    pub identity: String,
    http_clients: AtomicUsize,
    links: RwLock<Links>,
}

impl ListenerState {
    pub fn new(identity: &str) -> ListenerState {
        ListenerState {
            identity: identity.to_string(),
            ..ListenerState::default()
        }
    }

    pub fn http_clients(&self) -> usize {
        self.http_clients.load(Ordering::Relaxed)
    }

    /// Counts a client in; it is counted out when the guard drops.
    pub fn client(&self) -> ClientGuard<'_> {
        self.http_clients.fetch_add(1, Ordering::Relaxed);
        ClientGuard(self)
    }

    /// A copy of the links as they are now.
    pub fn links(&self) -> Links {
        self.links.read().clone()
    }

    pub fn set_link(&self, endpoint: &str, link: Link) {
        self.links.write().set(endpoint, link);
    }
}

/// One HTTP client of the listener, counted while it lives.
pub struct ClientGuard<'a>(&'a ListenerState);

impl Drop for ClientGuard<'_> {
    fn drop(&mut self) {
        self.0.http_clients.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology(zones: &[(&str, &str, &[&str])], me: &str) -> Topology {
        let zones: Vec<Zone> = zones
            .iter()
            .map(|(name, parent, eps)| Zone {
                name: name.to_string(),
                parent: parent.to_string(),
                endpoints: eps.iter().map(|e| e.to_string()).collect(),
                global: false,
            })
            .collect();
        Topology::new(me, zones)
    }

    #[test]
    fn the_status_takes_the_local_zone_its_parent_and_its_children() {
        let t = topology(
            &[
                ("master", "", &["m1", "m2"]),
                ("sat", "master", &["s1"]),
                ("leaf", "sat", &["l1"]),
                ("global", "", &[]),
            ],
            "s1",
        );
        let mut links = Links::default();
        links.set(
            "m2",
            Link {
                connected: true,
                ..Link::default()
            },
        );
        let s = t.listener_status(&links, 100.0);
        let names: Vec<&str> = s.zones.iter().map(|z| z.name.as_str()).collect();
        assert_eq!(names, ["master", "sat", "leaf"]);
        assert_eq!(s.connected, ["m2"]);
        assert_eq!(s.not_connected, ["m1", "l1"]);
        // The own zone of one endpoint is connected; master through m2.
        assert!(s.zones.iter().all(|z| z.connected != (z.name == "leaf")));
        assert_eq!(t.all_parents("leaf"), ["sat", "master"]);
        assert!(t.all_parents("master").is_empty());
    }

    #[test]
    fn lag_counts_only_for_a_known_position_while_away() {
        let away = Link {
            remote_log_position: 90.0,
            ..Link::default()
        };
        assert_eq!(away.lag(100.0), 10.0);
        assert_eq!(Link::default().lag(100.0), 0.0);
        let back = Link {
            connected: true,
            ..away
        };
        assert_eq!(back.lag(100.0), 0.0);
    }

    #[test]
    fn an_execution_waits_on_every_endpoint_of_the_child_zone_it_goes_through() {
        let t = topology(
            &[
                ("master", "", &["m1"]),
                ("sat", "master", &["s1", "s2"]),
                ("leaf", "sat", &["l1"]),
                ("other", "master", &["o1"]),
            ],
            "m1",
        );
        let mut links = Links::default();
        assert_eq!(t.execution_refused_by("l1", &links).as_deref(), Some("s1"));
        let able = Link {
            connected: true,
            capabilities: CAN_EXECUTE_COMMANDS,
            ..Link::default()
        };
        links.set("s1", able);
        assert_eq!(t.execution_refused_by("s1", &links).as_deref(), Some("s2"));
        links.set("s2", able);
        assert_eq!(t.execution_refused_by("l1", &links), None);
        // Only the child zone on the way counts, not the others.
        assert_eq!(t.execution_refused_by("o1", &links).as_deref(), Some("o1"));
        assert_eq!(t.execution_refused_by("s2", &links), None);
    }
}
