//! The functions `execute` attributes refer to (`PluginCheck`,
//! `DummyCheck`, ...). Configuration only stores them; the checker and the
//! notification component call them with real arguments.

use picket_lang::builtins::fail;
use picket_lang::function::Function;
use picket_lang::{Context, Value};

/// (name, parameters) of each execution method.
const METHODS: &[(&str, &[&str])] = &[
    (
        "PluginCheck",
        &["checkable", "cr", "resolvedMacros", "useResolvedMacros"],
    ),
    (
        "PluginNotification",
        &[
            "notification",
            "user",
            "cr",
            "itype",
            "author",
            "comment",
            "resolvedMacros",
            "useResolvedMacros",
        ],
    ),
    (
        "PluginEvent",
        &["checkable", "resolvedMacros", "useResolvedMacros"],
    ),
    (
        "DummyCheck",
        &["checkable", "cr", "resolvedMacros", "useResolvedMacros"],
    ),
    (
        "RandomCheck",
        &["checkable", "cr", "resolvedMacros", "useResolvedMacros"],
    ),
    (
        "IcingaCheck",
        &["checkable", "cr", "resolvedMacros", "useResolvedMacros"],
    ),
    (
        "ClusterCheck",
        &["checkable", "cr", "resolvedMacros", "useResolvedMacros"],
    ),
    (
        "ClusterZoneCheck",
        &["checkable", "cr", "resolvedMacros", "useResolvedMacros"],
    ),
    (
        "NullCheck",
        &["checkable", "cr", "resolvedMacros", "useResolvedMacros"],
    ),
    (
        "NullEvent",
        &["checkable", "resolvedMacros", "useResolvedMacros"],
    ),
    (
        "ExceptionCheck",
        &["checkable", "cr", "resolvedMacros", "useResolvedMacros"],
    ),
    (
        "SleepCheck",
        &["checkable", "cr", "resolvedMacros", "useResolvedMacros"],
    ),
    (
        "IdoCheck",
        &["checkable", "cr", "resolvedMacros", "useResolvedMacros"],
    ),
    (
        "IcingadbCheck",
        &["checkable", "cr", "resolvedMacros", "useResolvedMacros"],
    ),
    ("LegacyTimePeriod", &["tp", "begin", "end"]),
    ("EmptyTimePeriod", &["tp", "begin", "end"]),
    ("EvenMinutesTimePeriod", &["tp", "begin", "end"]),
];

/// Installs the execution methods into `Internal`, where Icinga keeps them
/// while its built-in templates are loaded.
pub fn install(ctx: &Context) {
    let Some(Value::Namespace(internal)) = ctx.globals.get("Internal") else {
        return;
    };
    for (name, params) in METHODS {
        let qualified = format!("Internal#{name}");
        let f = Function::native(&qualified, params, false, move |_, _, _| {
            Err(fail("This method can only be run by the checker."))
        });
        internal.force_set(*name, Value::Function(f), false);
    }
}

/// Takes the execution methods out of `Internal` again once the built-in
/// templates captured them, as Icinga's library does: a configuration
/// cannot name them, and `Internal` lists only what is left.
pub fn withdraw(ctx: &Context) {
    let Some(Value::Namespace(internal)) = ctx.globals.get("Internal") else {
        return;
    };
    for (name, _) in METHODS {
        let _ = internal.remove(name);
    }
}
