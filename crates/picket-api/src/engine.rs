//! What the API needs from the running node, as a trait the binary
//! implements: the API crate must not depend on the checker (a sibling),
//! so the node hands it a way to look at the live model and to submit
//! changes to the task that owns it.

use std::future::Future;
use std::sync::Arc;

use picket_lang::Context;
use picket_model::api_objects::Creation;
use picket_model::event::Bus;
use picket_model::monitor::Monitor;
use picket_model::operations::{Operation, Operations, Refusal};
use picket_model::result::CheckResult;
use picket_model::{ConfigObject, Registry};
use picket_store::Versioned;
use serde_json::Value as Json;

/// The configuration the node runs: replaced as a whole on reload.
#[derive(Clone)]
pub struct Config {
    pub registry: Arc<Registry>,
    pub ctx: Arc<Context>,
}

/// A look at the live model, run on the task that owns it. Looks must be
/// quick: copy out what is needed and do the heavy work elsewhere.
pub type Look = Box<dyn FnOnce(&Monitor) + Send>;

/// The running node, as the API sees it.
pub trait Engine: Send + Sync + 'static {
    /// The configuration in force now.
    fn config(&self) -> Config;
    /// The bus that `/v1/events` streams from.
    fn bus(&self) -> Bus;

    /// What the node's listener shares: its HTTP clients (the API counts
    /// them) and its links to other endpoints.
    fn listener(&self) -> &std::sync::Arc<picket_model::cluster::ListenerState>;
    /// Runs `look` against the live model; false when the node is stopping.
    fn look(&self, look: Look) -> impl Future<Output = bool> + Send;
    /// A result for `full_name` (a host or `host!service`), as a passive
    /// submission: the state machine applies it as to any result.
    fn submit(
        &self,
        full_name: String,
        result: CheckResult,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Moves the next check of `full_name` to `at`; `force` runs it even
    /// where active checks or the check period would not.
    fn reschedule(
        &self,
        full_name: String,
        at: f64,
        force: bool,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Sets runtime attributes of `full_name` (`check_attempt`,
    /// `next_check`, ...) as a `POST` gives them; those Icinga computes
    /// from others are not taken.
    fn set_runtime(
        &self,
        full_name: String,
        attrs: Vec<(String, picket_lang::Value)>,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Sends a custom notification for `full_name`; `force` goes past
    /// the filters and the switches.
    fn notify(
        &self,
        full_name: String,
        author: String,
        text: String,
        force: bool,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Moves the next notification of each notification of `full_name`.
    fn delay_notifications(
        &self,
        full_name: String,
        until: f64,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Runs an operation on the operations of `checkable` (a host or
    /// `host!service`) for the API user `actor`; answered once durable.
    fn operate(
        &self,
        actor: &str,
        checkable: String,
        operation: Operation,
    ) -> impl Future<Output = Result<(), OperateError>> + Send;
    /// The durable operations of every checkable that has any.
    fn operations(&self) -> Vec<Arc<Versioned<Operations>>>;
    /// The next `legacy_id` of a comment (or a downtime).
    fn legacy_id(&self, downtime: bool) -> u64;
    /// Creates an object (`PUT /v1/objects/<type>/<name>`) for the API
    /// user `actor`; answered once durable. False when the object had
    /// errors and was dropped as `ignore_on_error`; the errors are
    /// Icinga's texts.
    fn create_object(
        &self,
        actor: &str,
        type_name: &'static str,
        full_name: String,
        creation: Creation,
    ) -> impl Future<Output = Result<bool, Vec<String>>> + Send;
    /// Changes attributes of objects (`POST /v1/objects/...`); per object,
    /// the attribute that failed and why.
    fn modify_objects(
        &self,
        actor: &str,
        targets: Vec<(Arc<ConfigObject>, Changes)>,
    ) -> impl Future<Output = Vec<Result<(), Unchanged>>> + Send;
    /// Deletes objects the API created (`DELETE /v1/objects/...`), with
    /// those that use them when `cascade`; per object, what kept it.
    fn delete_objects(
        &self,
        actor: &str,
        targets: Vec<Arc<ConfigObject>>,
        cascade: bool,
    ) -> impl Future<Output = Vec<Result<(), Vec<String>>>> + Send;
    /// Asks the node to stop or to load its configuration again
    /// (`shutdown-process`, `restart-process`); it happens after the
    /// answer went out.
    fn request(&self, request: ProcessRequest);
    /// Runs a command for `checkable` (`execute-command`): answered with
    /// the execution's id once it is recorded in the checkable's
    /// `executions`, where its outcome goes when it ends; or the code and
    /// Icinga's text of why it cannot run.
    fn execute_command(
        &self,
        checkable: Arc<ConfigObject>,
        request: Execute,
    ) -> impl Future<Output = Result<String, (u16, String)>> + Send;
    /// The configuration packages (`/v1/config/*`).
    fn packages(&self) -> &picket_packages::Packages;
    /// Where comments, downtimes and objects made through the API are said
    /// to be declared (the `_api` package's active stage).
    fn api_objects_dir(&self) -> &str;
    /// Validates a stage just written, in the background: records its
    /// outcome in the stage, and when it loads activates it (`activate`)
    /// and loads the configuration with it (`reload`). `guard` keeps
    /// other uploads out until then.
    fn deploy_stage(
        &self,
        package: String,
        stage: String,
        activate: bool,
        reload: bool,
        guard: picket_packages::UpdateGuard,
    );
    /// The node's figures for `/v1/status`.
    fn status(&self) -> impl Future<Output = Option<NodeStatus>> + Send;
}

/// What `execute-command` asks for, checked: `ttl` is positive.
#[derive(Debug, Clone)]
pub struct Execute {
    pub command_type: picket_model::monitor::CommandType,
    pub command: Option<String>,
    pub endpoint: Option<String>,
    /// Macro values that win over the objects' (a JSON object).
    pub macros: Option<Json>,
    pub user: Option<String>,
    pub notification: Option<String>,
    /// Seconds until the execution's deadline.
    pub ttl: f64,
}

/// Attribute changes by path (`vars.os`), in the order to make them.
pub type Changes = Vec<(String, Json)>;

/// Why an object kept its attributes: the attribute and Icinga's text.
pub type Unchanged = (String, String);

/// What `shutdown-process` and `restart-process` ask of the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessRequest {
    Shutdown,
    /// Icinga starts a new process that reads the configuration again;
    /// Picket reloads it in place, keeping the state.
    Restart,
}

/// Why an operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OperateError {
    #[error("{0}")]
    Refused(Refusal),
    /// The node could not record it (stopping, a write failure).
    #[error("{0}")]
    Failed(String),
}

/// What the node reports about itself; the API shapes it as Icinga's
/// status components.
#[derive(Debug, Clone, Default)]
pub struct NodeStatus {
    /// The CIB's figures (check rates, latencies, state counts, uptime).
    pub cib: Vec<(String, f64)>,
    /// `IcingaApplication`'s `app` dictionary.
    pub app: Json,
    /// Checks waiting for their time, and checks running.
    pub checks_idle: usize,
    pub checks_pending: usize,
}
