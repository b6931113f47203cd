//! `DateTime`: a point in time in local time, with arithmetic and strftime.

use std::any::Any;
use std::sync::Arc;

use chrono::{Local, LocalResult, TimeZone};

use super::{arg, fail, method};
use crate::error::LangError;
use crate::value::{Dict, ScriptObject, Str, Value};

#[derive(Debug)]
pub struct DateTime {
    /// Seconds since the epoch.
    pub value: f64,
}

impl DateTime {
    pub fn value_of(value: f64) -> Value {
        Value::Object(Arc::new(DateTime { value }))
    }

    pub fn format(&self, fmt: &str) -> String {
        // chrono knows no zone abbreviations; "UTC" for a zero offset, the
        // numeric offset otherwise.
        let fmt = if fmt.contains("%Z") {
            let secs = self.value.floor() as i64;
            let zero = matches!(Local.timestamp_opt(secs, 0), LocalResult::Single(t) if t.offset().local_minus_utc() == 0);
            fmt.replace("%Z", if zero { "UTC" } else { "%z" })
        } else {
            fmt.to_string()
        };
        let fmt = fmt.as_str();
        let secs = self.value.floor() as i64;
        let nanos = ((self.value - self.value.floor()) * 1e9) as u32;
        match Local.timestamp_opt(secs, nanos) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                use std::fmt::Write;
                let mut out = String::new();
                // An invalid format specifier must not panic the formatter.
                match write!(out, "{}", t.format(fmt)) {
                    Ok(()) => out,
                    Err(_) => String::new(),
                }
            }
            LocalResult::None => String::new(),
        }
    }
}

impl ScriptObject for DateTime {
    fn type_name(&self) -> Str {
        "DateTime".into()
    }
    fn get_field(&self, name: &str) -> Option<Value> {
        match name {
            "value" => Some(Value::Number(self.value)),
            _ => None,
        }
    }
    /// `value` cannot be changed; assigning it is silently ignored, as in
    /// Icinga.
    fn set_field(
        &self,
        name: &str,
        _value: Value,
        _span: crate::source::Span,
    ) -> Result<(), String> {
        match name {
            "value" => Ok(()),
            _ => Err(format!("Attribute '{name}' does not exist.")),
        }
    }

    fn fields(&self) -> Vec<(Str, Value)> {
        vec![
            ("type".into(), Value::str("DateTime")),
            ("value".into(), Value::Number(self.value)),
        ]
    }
    fn to_display(&self) -> String {
        self.format("%Y-%m-%d %H:%M:%S %z")
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn this_dt(this: &Value) -> Result<f64, LangError> {
    match this {
        Value::Object(o) => o
            .as_any()
            .downcast_ref::<DateTime>()
            .map(|d| d.value)
            .ok_or_else(|| fail("Method must be called on a DateTime.")),
        _ => Err(fail("Method must be called on a DateTime.")),
    }
}

/// `DateTime()`, `DateTime(seconds)`, `DateTime(y, m, d[, h, min, s])`.
pub fn construct(args: Vec<Value>) -> Result<Value, LangError> {
    if args.is_empty() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        return Ok(DateTime::value_of(now));
    }
    if args.len() == 1 {
        return Ok(DateTime::value_of(args[0].to_number().map_err(fail)?));
    }
    if args.len() != 3 && args.len() != 6 {
        return Err(fail(
            "Invalid number of arguments for the DateTime constructor.",
        ));
    }
    let n = |i: usize| -> Result<i64, LangError> {
        Ok(arg(&args, i).to_number().map_err(fail)? as i64)
    };
    let (y, m, d) = (n(0)?, n(1)?, n(2)?);
    let (h, mi, s) = (n(3)?, n(4)?, n(5)?);
    let naive = chrono::NaiveDate::from_ymd_opt(y as i32, 1, 1)
        .and_then(|base| {
            let months = chrono::Months::new(((m - 1).max(0)) as u32);
            base.checked_add_months(months)
        })
        .and_then(|base| base.checked_add_signed(chrono::Duration::days(d - 1)))
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|dt| dt + chrono::Duration::seconds(h * 3600 + mi * 60 + s))
        .ok_or_else(|| fail("Invalid date"))?;
    match Local.from_local_datetime(&naive) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
            Ok(DateTime::value_of(t.timestamp() as f64))
        }
        LocalResult::None => Err(fail("Invalid date")),
    }
}

pub fn prototype() -> Dict {
    let p = Dict::new();
    p.insert(
        "format",
        method("DateTime#format", &["format"], false, |_, this, args| {
            if args.is_empty() {
                return Err(fail("Too few arguments for function."));
            }
            let v = this_dt(this)?;
            Ok(Value::from(
                DateTime { value: v }.format(&arg(&args, 0).to_display()),
            ))
        }),
    );
    p
}
