//! `StatsFunctions`: one function per status component (`CIB`,
//! `ApiListener`, ...), each adding the component's status fields to a
//! dictionary and its performance data to an array, as `/v1/status`
//! reports them. The language only defines the functions; the figures come
//! from the running node through a [`StatsSource`] on the interpreter (the
//! API's console sets one). Without a source a call adds nothing.

use crate::eval::{Context, Interp};
use crate::perfdata::PerfdataValue;
use crate::value::{Namespace, Str, Value};

use super::{def_fn, fail};

/// Every component with a status function, in Icinga 2.13's order. Icinga
/// lists them all, whether or not the feature is configured.
pub const COMPONENTS: &[&str] = &[
    "ApiListener",
    "CIB",
    "CheckResultReader",
    "CheckerComponent",
    "CompatLogger",
    "ElasticsearchWriter",
    "ExternalCommandListener",
    "FileLogger",
    "GelfWriter",
    "GraphiteWriter",
    "IcingaApplication",
    "IdoMysqlConnection",
    "IdoPgsqlConnection",
    "Influxdb2Writer",
    "InfluxdbWriter",
    "LivestatusListener",
    "NotificationComponent",
    "OpenTsdbWriter",
    "PerfdataWriter",
    "StatusDataWriter",
    "SyslogLogger",
];

/// The running node's status.
pub trait StatsSource: Send + Sync {
    /// The status fields and the performance data of one of
    /// [`COMPONENTS`].
    fn component(&self, name: &str) -> (Vec<(Str, Value)>, Vec<PerfdataValue>);
}

/// Why an argument is not the dictionary or array a status function fills.
fn not_fillable(interp: &Interp<'_>, v: &Value, wanted: &str) -> String {
    let type_name = match v {
        Value::Null => "Empty".into(),
        other => interp.ctx.type_of(other).name.to_string(),
    };
    match v {
        Value::Array(_) | Value::Dict(_) | Value::Function(_) | Value::Object(_) => {
            format!("Cannot convert value of type '{type_name}' to an object of type '{wanted}'.")
        }
        _ => format!("Cannot convert value of type '{type_name}' to an object."),
    }
}

pub(crate) fn install(ctx: &Context) {
    let ns = Namespace::new(false);
    for &component in COMPONENTS {
        def_fn(
            &ns,
            "StatsFunctions",
            component,
            &["status", "perfdata"],
            false,
            move |interp, _, args| {
                let (Value::Dict(status), Value::Array(perfdata)) = (&args[0], &args[1]) else {
                    let why = match &args[0] {
                        Value::Dict(_) => not_fillable(interp, &args[1], "Array"),
                        other => not_fillable(interp, other, "Dictionary"),
                    };
                    return Err(fail(why));
                };
                let Some(source) = interp.stats.clone() else {
                    return Ok(Value::Null);
                };
                let (fields, values) = source.component(component);
                for (k, v) in fields {
                    status.set(k, v).map_err(fail)?;
                }
                perfdata
                    .modify(|items| items.extend(values.iter().map(PerfdataValue::to_value)))
                    .map_err(fail)?;
                Ok(Value::Null)
            },
        );
    }
    ctx.globals
        .force_set("StatsFunctions", Value::Namespace(ns), true);
}
