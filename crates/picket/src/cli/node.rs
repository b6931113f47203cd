//! The running node: the checker on the configuration, retention of the
//! live state, reloads on SIGHUP or `picket daemon --reload`, the control
//! socket, certificate renewal, and a clean stop on SIGTERM or SIGINT.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use picket_api::engine::ProcessRequest;
use picket_checker::scheduler::{self, Checker, Command, Config, Settings};
use picket_model::cluster::ListenerState;
use picket_model::event::{Bus, Event};
use picket_model::monitor::Monitor;
use picket_pki::Authority;
use picket_retention::Retained;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::configuration::Configuration;
use super::control::{self, Reply};
use super::daemon::{self, Options};
use crate::log;

/// How often the CA and this node's certificate are checked for renewal,
/// as in Icinga 2.
const RENEW_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// How often the live state is written, unless the configuration sets the
/// constant `RetentionInterval` (seconds): Icinga 2 writes its state file
/// every five minutes too.
const RETENTION_INTERVAL: f64 = 300.0;

/// What the node starts from.
/// The stores the running node writes to.
pub struct Stores {
    pub operations: picket_store::Store<picket_model::operations::Operations>,
    pub api_objects: picket_store::Store<picket_model::api_objects::ApiObject>,
}

pub struct Setup {
    pub config: Config,
    pub options: Options,
    pub first_start: bool,
}

fn retention_interval(config: &Config) -> Duration {
    let seconds = config
        .ctx
        .globals
        .get("RetentionInterval")
        .and_then(|v| v.to_number().ok())
        .filter(|n| n.is_finite() && *n > 0.0)
        .unwrap_or(RETENTION_INTERVAL);
    Duration::from_secs_f64(seconds.max(0.1))
}

/// The checker's settings from the configuration. Without a
/// `CheckerComponent` nothing is checked actively, as in Icinga 2.
fn settings(config: &Config, node_name: &str, listener: &Arc<ListenerState>) -> Settings {
    let component = config
        .registry
        .committed("CheckerComponent")
        .into_iter()
        .next();
    let concurrent = component
        .as_ref()
        .and_then(|c| c.get("concurrent_checks"))
        .and_then(|v| v.to_number().ok())
        .filter(|n| *n >= 1.0)
        .map_or(scheduler::DEFAULT_CONCURRENT_CHECKS, |n| n as usize);
    Settings {
        concurrent_checks: if component.is_some() { concurrent } else { 0 },
        node_name: node_name.to_string(),
        listener: Some(listener.clone()),
    }
}

/// Logs every hard state change, naming the object and both states.
async fn log_state_changes(bus: Bus) {
    use tokio::sync::broadcast::error::RecvError;
    let mut events = bus.subscribe();
    loop {
        match events.recv().await {
            Ok(event) => {
                if let Event::StateChange {
                    subject,
                    state,
                    last_hard_state,
                    hard: true,
                    check_result,
                    ..
                } = event.as_ref()
                {
                    let kind = match subject.service {
                        None => picket_model::state::Kind::Host,
                        Some(_) => picket_model::state::Kind::Service,
                    };
                    log::info(
                        "Checkable",
                        &format!(
                            "Hard state change of '{}': {} -> {} ({})",
                            subject.full_name(),
                            // A soft problem turning hard changes from the
                            // hard state before it, not from itself.
                            kind.state_name(*last_hard_state),
                            kind.state_name(*state),
                            check_result.output.lines().next().unwrap_or_default()
                        ),
                    );
                }
            }
            Err(RecvError::Lagged(n)) => log::warning(
                "Checkable",
                &format!("The state change log fell behind and skipped {n} events."),
            ),
            Err(RecvError::Closed) => return,
        }
    }
}

fn restore(path: &Path) -> Retained {
    match picket_retention::load(path) {
        Ok(r) => {
            if !r.damaged_lines.is_empty() {
                log::warning(
                    "retention",
                    &format!(
                        "{}: {} damaged line(s) skipped (lines {:?}); those objects start pending.",
                        path.display(),
                        r.damaged_lines.len(),
                        r.damaged_lines
                    ),
                );
            }
            if !r.entries.is_empty() {
                log::info(
                    "retention",
                    &format!(
                        "Restored the state of {} object(s) from {}.",
                        r.entries.len(),
                        path.display()
                    ),
                );
            }
            r
        }
        Err(e) => {
            log::warning(
                "retention",
                &format!("{e}; starting with every object pending."),
            );
            Retained::default()
        }
    }
}

/// What retention keeps of the monitor: every checkable's state and every
/// TimePeriod's window.
fn retained_of(monitor: &Monitor) -> Retained {
    Retained {
        entries: monitor
            .checkables()
            .map(|(_, c, e)| (c.object.full_name(), e.clone()))
            .collect(),
        windows: monitor.periods().windows(),
        ..Retained::default()
    }
}

fn save(path: &Path, retained: &Retained) {
    let now = picket_model::result::now();
    if let Err(e) = picket_retention::save(path, &retained.entries, &retained.windows, now) {
        log::critical("retention", &format!("{e}"));
    }
}

/// Takes a copy of the live state on the checker's task and writes it on
/// a blocking thread.
async fn save_now(checker: &Checker, path: &Path) {
    let Some(retained) = checker.inspect(|m, _, _| retained_of(m)).await else {
        return;
    };
    let path = path.to_path_buf();
    let _ = tokio::task::spawn_blocking(move || save(&path, &retained)).await;
}

/// Removes the pid file when the node stops, however it stops.
/// A file that says the node runs (the pid file, the API's
/// `api-state.json`): written at start, removed when the node stops.
struct RunFile(PathBuf);

impl RunFile {
    fn write(path: PathBuf, contents: &str) -> std::io::Result<RunFile> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, contents)?;
        Ok(RunFile(path))
    }
}

impl Drop for RunFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Where the API listens, in `CacheDir/api-state.json` as Icinga writes
/// it for tools that look for the local API. Not being able to write it
/// does not stop the node.
fn api_state_file(cache_dir: &Path, bound: SocketAddr) -> Option<RunFile> {
    let path = cache_dir.join("api-state.json");
    let state = json!({ "host": bound.ip().to_string(), "port": bound.port() });
    match RunFile::write(path.clone(), &state.to_string()) {
        Ok(f) => Some(f),
        Err(e) => {
            log::warning(
                "ApiListener",
                &format!("Cannot write {} ({e}).", path.display()),
            );
            None
        }
    }
}

pub fn run(
    data_dir: &Path,
    node_name: &str,
    authority: Arc<Authority>,
    stores: Stores,
    setup: Setup,
) -> anyhow::Result<()> {
    let pid_file = &setup.options.pid_file;
    let _pid = RunFile::write(pid_file.clone(), &format!("{}\n", std::process::id()))
        .with_context(|| format!("cannot write the pid file {}", pid_file.display()))?;
    // Children a timed-out plugin leaves behind come to this process, to
    // be killed and reaped with their group rather than left to PID 1.
    if let Err(e) = picket_checker::process::become_subreaper() {
        log::warning(
            "checker",
            &format!("Cannot become the reaper of orphaned plugin children ({e}); a killed plugin's children may be left as zombies."),
        );
    }
    let retention = picket_retention::path_in(data_dir);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .enable_time()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        // Handlers first: a signal right after the log line below must find
        // them in place.
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut hup = signal(SignalKind::hangup())?;
        let bus = Bus::default();
        tokio::spawn(log_state_changes(bus.clone()));
        let listener = Arc::new(ListenerState::new(node_name));
        let settings = settings(&setup.config, node_name, &listener);
        let every = retention_interval(&setup.config);
        let retained = restore(&retention);
        let current = Arc::new(RwLock::new(setup.config.clone()));
        let (checker, finished) =
            Checker::start(
                setup.config,
                bus.clone(),
                settings,
                retained.entries,
                retained.windows,
            );
        let operator = Arc::new(super::operator::Operator::new(
            stores.operations,
            checker.clone(),
            super::configuration::package_dir(data_dir),
        ));
        operator.restore().await;
        tokio::spawn(operator.clone().keep(bus.clone(), current.clone()));
        let configuration = Arc::new(Configuration::new(
            setup.options.load.clone(),
            data_dir,
            stores.api_objects,
            current.clone(),
            checker.clone(),
            operator.clone(),
            bus.clone(),
        ));
        let (process_tx, mut process_rx) = mpsc::channel::<ProcessRequest>(4);
        let engine = super::api::NodeEngine {
            process: process_tx,
            checker: checker.clone(),
            bus: bus.clone(),
            configuration: configuration.clone(),
            node_name: node_name.to_string(),
            started: picket_model::result::now(),
            operator: operator.clone(),
            listener,
        };
        let api = super::api::start(engine, &authority.certs_dir()).await;
        let _api_state = api
            .as_ref()
            .and_then(|(_, bound)| api_state_file(&setup.options.cache_dir, *bound));
        let (reload_tx, mut reload_rx) = mpsc::channel::<oneshot::Sender<Reply>>(4);
        let node = Arc::new(control::Node {
            authority: authority.clone(),
            checker: checker.clone(),
            bus,
            reload: reload_tx,
        });
        let control = match control::bind(data_dir) {
            Ok(listener) => tokio::spawn(control::serve(listener, node)),
            Err(e) => tokio::spawn(async move { Err(e) }),
        };
        let mut control = std::pin::pin!(control);
        log::info(
            "cli",
            &format!(
                "Picket node running with data directory {} (node '{node_name}').",
                data_dir.display()
            ),
        );
        let mut renew = tokio::time::interval_at(
            tokio::time::Instant::now() + RENEW_INTERVAL,
            RENEW_INTERVAL,
        );
        let mut keep = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        keep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = int.recv() => break,
                _ = term.recv() => break,
                Some(request) = process_rx.recv() => {
                    // The API's answer goes out first.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    match request {
                        ProcessRequest::Shutdown => {
                            log::info("cli", "Shutting down as the API asked (shutdown-process).");
                            break;
                        }
                        ProcessRequest::Restart => {
                            log::info("cli", "Loading the configuration again as the API asked (restart-process).");
                            configuration.reload().await;
                        }
                    }
                }
                _ = hup.recv() => {
                    configuration.reload().await;
                }
                Some(reply) = reload_rx.recv() => {
                    let _ = reply.send(configuration.reload().await);
                }
                _ = keep.tick() => save_now(&checker, &retention).await,
                served = &mut control => {
                    let why = match served {
                        Ok(Err(e)) => e.to_string(),
                        _ => "it stopped".to_string(),
                    };
                    log::warning(
                        "cli",
                        &format!("The control socket is not served ({why}); `picket ca` needs the node stopped."),
                    );
                    control.set(tokio::spawn(std::future::pending()));
                }
                _ = renew.tick() => {
                    let (authority, node) = (authority.clone(), node_name.to_string());
                    let _ = tokio::task::spawn_blocking(move || daemon::renew_certificates(&authority, &node)).await;
                }
            }
        }
        log::info("cli", "Received a request to stop; writing the state and shutting down.");
        control.abort();
        if let Some((api, _)) = api {
            api.abort();
        }
        checker.send(Command::Stop).await;
        if let Ok(monitor) = finished.await {
            let retained = retained_of(&monitor);
            let path = retention.clone();
            let _ = tokio::task::spawn_blocking(move || save(&path, &retained)).await;
        }
        anyhow::Ok(())
    })?;
    // Plugins still running are not waited for.
    runtime.shutdown_timeout(Duration::from_millis(100));
    log::info("cli", "Picket has shut down.");
    Ok(())
}
