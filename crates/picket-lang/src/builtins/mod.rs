//! The standard library: global functions, constants, the methods of the
//! built-in types, `Math`, `Json` and `DateTime`.
//!
//! Everything is installed into namespaces laid out as Icinga lays them out
//! (`System`, `System.Configuration`, `Types`, `Icinga`, `Internal`), which
//! are searched for names after locals, `this` and the globals.

pub mod datetime;
mod functions;
mod math;
mod methods;
mod platform;
pub mod reference;
pub mod stats;
pub mod types;

use crate::error::{ErrorKind, LangError};
use crate::eval::{Context, Interp};
use crate::function::Function;
use crate::value::{Namespace, Value};

/// An error raised by a native function: Icinga reports these as failures
/// while evaluating the call expression.
pub fn fail(message: impl AsRef<str>) -> LangError {
    LangError::new(
        ErrorKind::Script,
        format!("Error while evaluating expression: {}", message.as_ref()),
        None,
    )
}

/// The `i`th argument, or null when the call passed fewer.
pub fn arg(args: &[Value], i: usize) -> Value {
    args.get(i).cloned().unwrap_or(Value::Null)
}

/// Refuses a call with fewer than `n` arguments, as Icinga does.
pub fn need(args: &[Value], n: usize) -> Result<(), LangError> {
    if args.len() < n {
        Err(fail("Too few arguments for function."))
    } else {
        Ok(())
    }
}

/// Functions that take a variable number of arguments and check them
/// themselves; every other global function takes exactly its parameters.
const VARIADIC: &[&str] = &[
    "log",
    "range",
    "union",
    "intersection",
    "match",
    "regex",
    "cidr_match",
    "glob",
    "glob_recursive",
    "max",
    "min",
];

/// Adds a native function to a namespace, named `Owner#name` as Icinga
/// names them, refusing calls with the wrong number of arguments.
pub(crate) fn def_fn(
    ns: &Namespace,
    owner: &str,
    name: &str,
    params: &[&str],
    side_effect_free: bool,
    f: impl Fn(&mut Interp<'_>, &Value, Vec<Value>) -> Result<Value, LangError> + Send + Sync + 'static,
) {
    let arity = if VARIADIC.contains(&name) {
        None
    } else {
        Some(params.len())
    };
    let qualified = format!("{owner}#{name}");
    let func = Function::native(
        &qualified,
        params,
        side_effect_free,
        move |interp, this, args| {
            if let Some(n) = arity {
                if args.len() < n {
                    return Err(fail("Too few arguments for function."));
                }
                if args.len() > n {
                    return Err(fail("Too many arguments for function."));
                }
            }
            f(interp, this, args)
        },
    );
    ns.force_set(name, Value::Function(func), true);
}

/// A native function value named `Type#method`.
pub(crate) fn method(
    qualified: &str,
    params: &[&str],
    side_effect_free: bool,
    f: impl Fn(&mut Interp<'_>, &Value, Vec<Value>) -> Result<Value, LangError> + Send + Sync + 'static,
) -> Value {
    Value::Function(Function::native(qualified, params, side_effect_free, f))
}

/// Installs the standard library into a fresh context.
pub(crate) fn install(ctx: &Context) {
    let system = Namespace::new(false);
    let configuration = Namespace::new_configuration();
    let icinga = Namespace::new(false);
    let internal = Namespace::new(false);

    ctx.globals
        .force_set("System", Value::Namespace(system.clone()), true);
    ctx.globals
        .force_set("Types", Value::Namespace(ctx.types().clone()), true);
    ctx.globals
        .force_set("Icinga", Value::Namespace(icinga.clone()), true);
    ctx.globals
        .force_set("Internal", Value::Namespace(internal.clone()), true);
    system.force_set(
        "Configuration",
        Value::Namespace(configuration.clone()),
        true,
    );

    for t in ctx.builtin_types.all() {
        ctx.register_type(t);
    }
    functions::install(ctx, &system, &icinga);
    // Icinga commits and activates the objects the function declares at
    // once; here they are committed with the rest of the configuration.
    def_fn(
        &internal,
        "Internal",
        "run_with_activation_context",
        &["func"],
        false,
        |interp, _, args| {
            let f = match args.into_iter().next() {
                Some(Value::Function(f)) => f,
                Some(Value::Null) | None => {
                    return Err(fail("'function' argument must not be null."))
                }
                Some(other) => {
                    return Err(fail(format!(
                        "Cannot convert value of type '{}' to an object.",
                        other.type_name()
                    )))
                }
            };
            interp.call(&f, &Value::Null, Vec::new())?;
            Ok(Value::Bool(true))
        },
    );
    math::install(&system);
    stats::install(ctx);
    constants(&system, &configuration, &icinga);
    ctx.set_default_imports(vec![system, configuration, ctx.types().clone(), icinga]);
}

fn constants(system: &Namespace, configuration: &Namespace, icinga: &Namespace) {
    let s = |ns: &Namespace, k: &str, v: Value| ns.force_set(k, v, true);
    s(system, "ApplicationType", Value::str("IcingaApplication"));
    s(
        system,
        "ApplicationVersion",
        Value::str(concat!("picket-", env!("CARGO_PKG_VERSION"))),
    );
    s(system, "BuildCompilerName", Value::str("rustc"));
    s(system, "BuildCompilerVersion", Value::str(""));
    s(system, "BuildHostName", Value::str(""));
    for (k, v) in [
        ("LogDebug", 0.0),
        ("LogNotice", 1.0),
        ("LogInformation", 2.0),
        ("LogWarning", 3.0),
        ("LogCritical", 4.0),
        ("MatchAll", 0.0),
        ("MatchAny", 1.0),
        ("GlobFile", 1.0),
        ("GlobDirectory", 2.0),
    ] {
        s(system, k, Value::Number(v));
    }
    for f in [
        "Auth", "AuthPriv", "Cron", "Daemon", "Ftp", "Kern", "Local0", "Local1", "Local2",
        "Local3", "Local4", "Local5", "Local6", "Local7", "Lpr", "Mail", "News", "Syslog", "User",
        "Uucp",
    ] {
        s(
            system,
            &format!("Facility{f}"),
            Value::String(format!("LOG_{}", f.to_uppercase()).into()),
        );
    }
    s(
        system,
        "PlatformArchitecture",
        Value::str(std::env::consts::ARCH),
    );
    let platform = platform::platform();
    s(system, "PlatformKernel", Value::str(&platform.kernel));
    s(
        system,
        "PlatformKernelVersion",
        Value::str(&platform.kernel_version),
    );
    s(system, "PlatformName", Value::str(&platform.name));
    s(system, "PlatformVersion", Value::str(&platform.version));

    // Paths: the Debian layout, each overridable with -D.
    let paths = [
        ("PrefixDir", "/usr"),
        ("SysconfDir", "/etc"),
        ("LocalStateDir", "/var"),
        ("RunDir", "/run"),
        ("ConfigDir", "/etc/icinga2"),
        ("DataDir", "/var/lib/icinga2"),
        ("LogDir", "/var/log/icinga2"),
        ("CacheDir", "/var/cache/icinga2"),
        ("SpoolDir", "/var/spool/icinga2"),
        ("InitRunDir", "/run/icinga2"),
        ("ZonesDir", "/etc/icinga2/zones.d"),
        ("PkgDataDir", "/usr/share/icinga2"),
        ("IncludeConfDir", "/usr/share/icinga2/include"),
        ("StatePath", "/var/lib/icinga2/icinga2.state"),
        ("ModAttrPath", "/var/lib/icinga2/modified-attributes.conf"),
        ("ObjectsPath", "/var/cache/icinga2/icinga2.debug"),
        ("VarsPath", "/var/cache/icinga2/icinga2.vars"),
        ("PidPath", "/run/icinga2/icinga2.pid"),
        ("ApiBindHost", "::"),
        ("ApiBindPort", "5665"),
        ("EventEngine", ""),
        ("ProgramData", ""),
    ];
    for (k, v) in paths {
        s(configuration, k, Value::str(v));
    }
    // As Icinga's service scripts pass them: the account from the
    // environment, Debian's package account otherwise.
    for (k, env) in [
        ("RunAsUser", "ICINGA2_USER"),
        ("RunAsGroup", "ICINGA2_GROUP"),
    ] {
        let account = std::env::var(env)
            .ok()
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "nagios".to_string());
        s(configuration, k, Value::from(account));
    }
    s(configuration, "AttachDebugger", Value::Bool(false));
    s(
        configuration,
        "Concurrency",
        Value::Number(
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1) as f64,
        ),
    );
    s(configuration, "RLimitFiles", Value::Number(16384.0));
    s(configuration, "RLimitProcesses", Value::Number(16384.0));
    s(configuration, "RLimitStack", Value::Number(262144.0));
    s(configuration, "TlsHandshakeTimeout", Value::Number(10.0));

    for (k, v) in [
        ("HostUp", 0.0),
        ("HostDown", 1.0),
        ("ServiceOK", 0.0),
        ("ServiceWarning", 1.0),
        ("ServiceCritical", 2.0),
        ("ServiceUnknown", 3.0),
    ] {
        s(icinga, k, Value::Number(v));
    }
    for name in [
        "Acknowledgement",
        "Critical",
        "Custom",
        "Down",
        "DowntimeEnd",
        "DowntimeNoChildren",
        "DowntimeNonTriggeredChildren",
        "DowntimeRemoved",
        "DowntimeStart",
        "DowntimeTriggeredChildren",
        "FlappingEnd",
        "FlappingStart",
        "OK",
        "Problem",
        "Recovery",
        "Unknown",
        "Up",
        "Warning",
    ] {
        s(icinga, name, Value::str(name));
    }
    for (k, v) in [
        ("DbCatConfig", 1.0),
        ("DbCatState", 2.0),
        ("DbCatAcknowledgement", 4.0),
        ("DbCatComment", 8.0),
        ("DbCatDowntime", 16.0),
        ("DbCatEventHandler", 32.0),
        ("DbCatExternalCommand", 64.0),
        ("DbCatFlapping", 128.0),
        ("DbCatCheck", 256.0),
        ("DbCatLog", 512.0),
        ("DbCatNotification", 1024.0),
        ("DbCatProgramStatus", 2048.0),
        ("DbCatRetention", 4096.0),
        ("DbCatStateHistory", 8192.0),
        ("DbCatEverything", -1.0),
    ] {
        s(icinga, k, Value::Number(v));
    }
}
