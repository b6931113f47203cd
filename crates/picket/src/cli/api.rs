//! The REST API of the running node: the [`picket_api::Engine`] on the
//! checker, and the listener started when the configuration has an
//! `ApiListener`.

use std::path::Path;
use std::sync::Arc;

use picket_api::engine::{Changes, Execute, ProcessRequest, Unchanged};
use picket_api::{Api, Engine, ListenerSettings, NodeStatus, OperateError};
use picket_checker::scheduler::{Checker, Command, Config};
use picket_model::api_objects::Creation;
use picket_model::cluster::ListenerState;
use picket_model::event::Bus;
use picket_model::monitor::{Ended, Execution};
use picket_model::operations::{Operation, Operations};
use picket_model::result::CheckResult;
use picket_model::ConfigObject;
use picket_pki::tls::Identity;
use picket_store::Versioned;
use serde_json::{json, Value as Json};
use tokio::sync::oneshot;

use crate::log;

/// The store's actor for an API user.
fn user(name: &str) -> picket_store::Actor {
    picket_store::Actor::new(format!("user:{name}"))
}

/// The node as the API sees it.
pub struct NodeEngine {
    pub checker: Checker,
    pub bus: Bus,
    /// The configuration in force, and the way to change it.
    pub configuration: Arc<super::configuration::Configuration>,
    pub node_name: String,
    pub started: f64,
    pub operator: Arc<super::operator::Operator>,
    /// Where `shutdown-process` and `restart-process` go: the node's loop.
    pub process: tokio::sync::mpsc::Sender<ProcessRequest>,
    /// Shared with the checker, for the `icinga` and `cluster` checks.
    pub listener: Arc<ListenerState>,
}

impl NodeEngine {
    /// Sends the checker a command that answers with an outcome.
    async fn ask(
        &self,
        command: impl FnOnce(oneshot::Sender<Result<(), String>>) -> Command,
    ) -> Result<(), String> {
        let stopping = || Err("The node is stopping.".to_string());
        let (tx, rx) = oneshot::channel();
        if !self.checker.send(command(tx)).await {
            return stopping();
        }
        rx.await.unwrap_or_else(|_| stopping())
    }
}

impl Engine for NodeEngine {
    fn config(&self) -> picket_api::Config {
        let c = self.configuration.current();
        picket_api::Config {
            registry: c.registry,
            ctx: c.ctx,
        }
    }

    fn bus(&self) -> Bus {
        self.bus.clone()
    }

    fn listener(&self) -> &Arc<ListenerState> {
        &self.listener
    }

    async fn look(&self, look: picket_api::Look) -> bool {
        self.checker.inspect(move |m, _, _| look(m)).await.is_some()
    }

    async fn submit(&self, full_name: String, result: CheckResult) -> Result<(), String> {
        self.ask(|reply| Command::Submit {
            full_name,
            result,
            reply,
        })
        .await
    }

    async fn reschedule(&self, full_name: String, at: f64, force: bool) -> Result<(), String> {
        self.ask(|reply| Command::Reschedule {
            full_name,
            at,
            force,
            reply,
        })
        .await
    }

    async fn set_runtime(
        &self,
        full_name: String,
        attrs: Vec<(String, picket_lang::Value)>,
    ) -> Result<(), String> {
        self.ask(|reply| Command::SetRuntime {
            full_name,
            attrs,
            reply,
        })
        .await
    }

    async fn notify(
        &self,
        full_name: String,
        author: String,
        text: String,
        force: bool,
    ) -> Result<(), String> {
        self.ask(|reply| Command::Notify {
            full_name,
            author,
            text,
            force,
            reply,
        })
        .await
    }

    async fn delay_notifications(&self, full_name: String, until: f64) -> Result<(), String> {
        self.ask(|reply| Command::DelayNotifications {
            full_name,
            until,
            reply,
        })
        .await
    }

    async fn operate(
        &self,
        actor: &str,
        checkable: String,
        operation: Operation,
    ) -> Result<(), OperateError> {
        self.operator
            .execute(&user(actor), &checkable, operation)
            .await
    }

    fn operations(&self) -> Vec<Arc<Versioned<Operations>>> {
        self.operator.all()
    }

    fn legacy_id(&self, downtime: bool) -> u64 {
        self.operator.legacy_id(downtime)
    }

    async fn create_object(
        &self,
        actor: &str,
        type_name: &'static str,
        full_name: String,
        creation: Creation,
    ) -> Result<bool, Vec<String>> {
        self.configuration
            .create(&user(actor), type_name, &full_name, creation)
            .await
    }

    async fn modify_objects(
        &self,
        actor: &str,
        targets: Vec<(Arc<ConfigObject>, Changes)>,
    ) -> Vec<Result<(), Unchanged>> {
        self.configuration.modify(&user(actor), targets).await
    }

    async fn delete_objects(
        &self,
        actor: &str,
        targets: Vec<Arc<ConfigObject>>,
        cascade: bool,
    ) -> Vec<Result<(), Vec<String>>> {
        self.configuration
            .delete(&user(actor), targets, cascade)
            .await
    }

    fn request(&self, request: ProcessRequest) {
        if self.process.try_send(request).is_err() {
            log::warning(
                "cli",
                &format!("{request:?} was asked for while the node is busy; ignored."),
            );
        }
    }

    async fn execute_command(
        &self,
        checkable: Arc<ConfigObject>,
        request: Execute,
    ) -> Result<String, (u16, String)> {
        use picket_checker::execute::{self, Request};
        let config = self.configuration.current();
        let ask = Request {
            command_type: request.command_type,
            command: request.command,
            endpoint: request.endpoint,
            macros: request.macros.as_ref().map(picket_lang::json::from_serde),
            user: request.user,
            notification: request.notification,
        };
        let prepared = execute::prepare(&config.registry, &config.ctx, &checkable, &ask)
            .map_err(|e| (404, e.to_string()))?;
        let full_name = checkable.full_name();
        let id = uuid::Uuid::new_v4().to_string();
        let deadline = picket_model::result::now() + request.ttl;
        let remote = prepared.endpoint != self.node_name;
        let refused_by = remote
            .then(|| {
                picket_model::cluster::Topology::of(&config.registry, &self.node_name)
                    .execution_refused_by(&prepared.endpoint, &self.listener.links())
            })
            .flatten();
        let elsewhere = remote.then(|| {
            format!(
                "Execution '{id}' for '{full_name}' is for endpoint '{}', which this node cannot reach.",
                prepared.endpoint
            )
        });
        let answer = id.clone();
        let record = move |ended| Command::Execution {
            full_name: full_name.clone(),
            id: id.clone(),
            execution: Execution { deadline, ended },
        };
        if !self.checker.send(record(None)).await {
            return Err((500, "The node is stopping.".into()));
        }
        if let Some(endpoint) = refused_by {
            // Icinga ends the execution at once, as failed, when an
            // endpoint on the way cannot run it.
            let now = picket_model::result::now();
            let ended = Ended {
                start: now,
                end: now,
                exit: 126,
                output: format!(
                    "Endpoint '{endpoint}' doesn't support executing arbitrary commands."
                ),
            };
            self.checker.send(record(Some(ended))).await;
            return Ok(answer);
        }
        if let Some(why) = elsewhere {
            // Other endpoints are reached over the cluster, which this
            // node does not join yet: the execution stays pending, as in
            // Icinga when the endpoint is not connected.
            log::warning("ApiActions", &why);
            return Ok(answer);
        }
        let checker = self.checker.clone();
        tokio::spawn(async move {
            let o = execute::run(prepared.plan).await;
            let ended = Ended {
                start: o.start,
                end: o.end,
                exit: o.exit,
                output: o.output,
            };
            checker.send(record(Some(ended))).await;
        });
        Ok(answer)
    }

    fn packages(&self) -> &picket_packages::Packages {
        self.configuration.packages()
    }

    fn api_objects_dir(&self) -> &str {
        self.configuration.api_objects_dir()
    }

    fn deploy_stage(
        &self,
        package: String,
        stage: String,
        activate: bool,
        reload: bool,
        guard: picket_packages::UpdateGuard,
    ) {
        let configuration = self.configuration.clone();
        tokio::spawn(async move {
            configuration
                .deploy_stage(&package, &stage, activate, reload, guard)
                .await;
        });
    }

    async fn status(&self) -> Option<NodeStatus> {
        let node = self.node_name.clone();
        let started = self.started;
        let listener = self.listener.clone();
        self.checker
            .inspect(move |m, c, s| {
                let facts = picket_checker::NodeFacts {
                    uptime: picket_model::result::now() - started,
                    registry: Some(&c.registry),
                    identity: &node,
                    checker: Some((m, s)),
                    listener: Some(&listener),
                    ..Default::default()
                };
                let cib = facts
                    .cib()
                    .into_iter()
                    .filter_map(|p| match p {
                        picket_model::result::Perfdata::Value(v) => Some((v.label, v.value)),
                        picket_model::result::Perfdata::Text(_) => None,
                    })
                    .collect();
                let (checks_idle, checks_pending) = facts.checker_load();
                NodeStatus {
                    cib,
                    app: app_status(&node, started, c),
                    checks_idle,
                    checks_pending,
                }
            })
            .await
    }
}

/// `IcingaApplication`'s status: the node and its global switches.
fn app_status(node: &str, started: f64, config: &Config) -> Json {
    let app = config
        .registry
        .committed("IcingaApplication")
        .into_iter()
        .next();
    let flag = |name: &str| {
        app.as_ref()
            .and_then(|a| a.get(name))
            .is_none_or(|v| v.to_bool())
    };
    json!({
        "enable_event_handlers": flag("enable_event_handlers"),
        "enable_flapping": flag("enable_flapping"),
        "enable_host_checks": flag("enable_host_checks"),
        "enable_notifications": flag("enable_notifications"),
        "enable_perfdata": flag("enable_perfdata"),
        "enable_service_checks": flag("enable_service_checks"),
        "environment": "",
        "node_name": node,
        "pid": std::process::id(),
        "program_start": started,
        "version": picket_checker::builtin::app_version(),
    })
}

/// Starts the API when the configuration has an `ApiListener`; logs why
/// not otherwise. Returns the listener task and the address it is bound to.
pub async fn start(
    engine: NodeEngine,
    certs_dir: &Path,
) -> Option<(tokio::task::JoinHandle<()>, std::net::SocketAddr)> {
    let settings = ListenerSettings::from_registry(&engine.config().registry)?;
    let identity = match Identity::load(certs_dir, &engine.node_name) {
        Ok(i) => i,
        Err(e) => {
            log::critical(
                "ApiListener",
                &format!(
                    "Cannot load this node's certificate from {} ({e}); the API is not started.",
                    certs_dir.display()
                ),
            );
            return None;
        }
    };
    let tls = match picket_pki::tls::server_context(&identity, &settings.tls) {
        Ok(t) => t,
        Err(e) => {
            log::critical("ApiListener", &format!("{e}; the API is not started."));
            return None;
        }
    };
    let listener = match picket_api::listener::bind(&settings).await {
        Ok(l) => l,
        Err(e) => {
            log::critical(
                "ApiListener",
                &format!(
                    "Cannot bind to [{}]:{} ({e}); the API is not started.",
                    settings.bind_host, settings.bind_port
                ),
            );
            return None;
        }
    };
    let bound = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            log::critical("ApiListener", &format!("{e}; the API is not started."));
            return None;
        }
    };
    log::info(
        "ApiListener",
        &format!(
            "Started new listener on '[{}]:{}'",
            bound.ip(),
            bound.port()
        ),
    );
    let node = engine.node_name.clone();
    let api = Arc::new(Api::new(
        engine,
        settings,
        &node,
        &picket_checker::builtin::app_version(),
    ));
    Some((
        tokio::spawn(picket_api::serve(api, listener, tls, None)),
        bound,
    ))
}
