//! Performance data (`label=value[UOM];warn;crit;min;max`) as Icinga parses
//! it: units are normalised to a base unit (`ms` becomes seconds, `KiB`
//! bytes), thresholds that are ranges rather than numbers are dropped.

use std::any::Any;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::value::{ScriptObject, Str, Value};

/// One parsed performance data value.
#[derive(Debug, Clone, PartialEq)]
pub struct PerfdataValue {
    pub label: String,
    pub value: f64,
    pub counter: bool,
    pub unit: String,
    pub warn: Option<f64>,
    pub crit: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// Unit → (factor to the base unit, name of the base unit).
fn unit(u: &str) -> Option<(f64, &'static str)> {
    const SI: [(&str, f64); 7] = [
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("", 1.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
    ];
    let time = match u {
        "ns" => Some(1e-9),
        "us" => Some(1e-6),
        "ms" => Some(1e-3),
        "s" => Some(1.0),
        "m" => Some(60.0),
        "h" => Some(3600.0),
        "d" => Some(86400.0),
        _ => None,
    };
    if let Some(f) = time {
        return Some((f, "seconds"));
    }
    let decimal = ["k", "M", "G", "T", "P", "E", "Z"];
    let binary = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi"];
    for (i, p) in decimal.iter().enumerate() {
        let f = 1000f64.powi(i as i32 + 1);
        let lower = p.to_lowercase();
        if u == format!("{p}B") || (i == 0 && u == "KB") {
            return Some((f, "bytes"));
        }
        if u == format!("{p}b") || u == format!("{lower}b") || (i == 0 && u == "Kb") {
            return Some((f, "bits"));
        }
    }
    for (i, p) in binary.iter().enumerate() {
        let f = 1024f64.powi(i as i32 + 1);
        if u == format!("{p}B") || u == format!("{}B", p.to_lowercase()) {
            return Some((f, "bytes"));
        }
        if u == format!("{p}b") {
            return Some((f, "bits"));
        }
    }
    match u {
        "B" => return Some((1.0, "bytes")),
        "b" => return Some((1.0, "bits")),
        "%" => return Some((1.0, "percent")),
        "C" => return Some((1.0, "degrees-celsius")),
        "F" => return Some((1.0, "degrees-fahrenheit")),
        "K" => return Some((1.0, "degrees-kelvin")),
        "lm" => return Some((1.0, "lumens")),
        "dBm" => return Some((1.0, "decibel-milliwatts")),
        "l" => return Some((1.0, "liters")),
        "ml" => return Some((1e-3, "liters")),
        "hl" => return Some((100.0, "liters")),
        "t" => return Some((1e6, "grams")),
        "Ws" => return Some((1.0 / 3600.0, "watt-hours")),
        "kWs" => return Some((1000.0 / 3600.0, "watt-hours")),
        _ => {}
    }
    for (prefix, f) in SI {
        let strip = |base: &str| {
            u.strip_prefix(prefix)
                .filter(|rest| *rest == base)
                .is_some()
        };
        if strip("A") {
            return Some((f, "amperes"));
        }
        if strip("V") {
            return Some((f, "volts"));
        }
        if strip("W") || (prefix.is_empty() && u == "TW") {
            return Some((f, "watts"));
        }
        if strip("Wh") {
            return Some((f, "watt-hours"));
        }
        if strip("As") {
            return Some((f, "ampere-seconds"));
        }
        if strip("Ah") {
            return Some((f * 3600.0, "ampere-seconds"));
        }
        if strip("g") && prefix != "M" && prefix != "G" {
            return Some((f, "grams"));
        }
    }
    match u {
        "TW" => Some((1e12, "watts")),
        "TWh" => Some((1e12, "watt-hours")),
        _ => None,
    }
}

fn threshold(token: Option<&str>, factor: f64) -> Option<f64> {
    let t = token?.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| v * factor)
}

/// Parses one `label=value...` item.
pub fn parse_value(text: &str) -> Result<PerfdataValue, String> {
    let eq = text.rfind('=').ok_or_else(|| {
        format!("Invalid performance data value: {text}")
            .trim_end()
            .to_string()
    })?;
    let mut label = &text[..eq];
    if label.len() >= 2 && label.starts_with('\'') && label.ends_with('\'') {
        label = &label[1..label.len() - 1];
    }
    let mut tokens = text[eq + 1..].split(';');
    let first = tokens.next().unwrap_or("");
    let num_end = first
        .char_indices()
        .find(|(i, c)| {
            !(c.is_ascii_digit()
                || *c == '.'
                || ((*c == '-' || *c == '+') && (*i == 0 || first[..*i].ends_with(['e', 'E'])))
                || ((*c == 'e' || *c == 'E')
                    && *i > 0
                    && first[i + 1..]
                        .starts_with(|d: char| d.is_ascii_digit() || d == '-' || d == '+')))
        })
        .map(|(i, _)| i)
        .unwrap_or(first.len());
    let (number, uom) = first.split_at(num_end);
    // No number at all: the whole token is what failed to convert.
    let (number, uom) = if number.is_empty() {
        (first, "")
    } else {
        (number, uom)
    };
    if uom
        .chars()
        .any(|c| !(c.is_alphabetic() || c == '%' || c == '/'))
    {
        return Err(format!("Invalid performance data value: {text}"));
    }
    let value = Value::str(number).to_number()?;
    let (factor, base) = unit(uom).unwrap_or((1.0, ""));
    Ok(PerfdataValue {
        label: label.to_string(),
        value: value * factor,
        counter: false,
        unit: base.to_string(),
        warn: threshold(tokens.next(), factor),
        crit: threshold(tokens.next(), factor),
        min: threshold(tokens.next(), factor),
        max: threshold(tokens.next(), factor),
    })
}

fn opt(v: Option<f64>) -> Value {
    v.map(Value::Number).unwrap_or(Value::Null)
}

impl PerfdataValue {
    /// A value without unit, thresholds or bounds (status figures).
    pub fn plain(label: impl Into<String>, value: f64) -> PerfdataValue {
        PerfdataValue {
            label: label.into(),
            value,
            counter: false,
            unit: String::new(),
            warn: None,
            crit: None,
            min: None,
            max: None,
        }
    }

    pub fn to_value(&self) -> Value {
        Value::Object(Arc::new(PerfdataObject(RwLock::new(self.clone()))))
    }

    fn fields(&self) -> Vec<(Str, Value)> {
        vec![
            ("counter".into(), Value::Bool(self.counter)),
            ("crit".into(), opt(self.crit)),
            ("label".into(), Value::from(self.label.as_str())),
            ("max".into(), opt(self.max)),
            ("min".into(), opt(self.min)),
            ("type".into(), Value::str("PerfdataValue")),
            ("unit".into(), Value::from(self.unit.as_str())),
            ("value".into(), Value::Number(self.value)),
            ("warn".into(), opt(self.warn)),
        ]
    }
}

/// A performance data value as the language sees it (`PerfdataValue()`,
/// `parse_performance_data()`): its fields can be set.
#[derive(Debug)]
pub struct PerfdataObject(pub RwLock<PerfdataValue>);

impl PerfdataObject {
    /// An empty value, as `PerfdataValue()` makes it.
    pub fn new_value() -> Value {
        PerfdataValue::plain("", 0.0).to_value()
    }
}

impl ScriptObject for PerfdataObject {
    fn type_name(&self) -> Str {
        "PerfdataValue".into()
    }
    fn get_field(&self, name: &str) -> Option<Value> {
        // `type` is in the serialised form only, not a field.
        if name == "type" {
            return None;
        }
        self.0
            .read()
            .fields()
            .into_iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v)
    }
    fn set_field(
        &self,
        name: &str,
        value: Value,
        _span: crate::source::Span,
    ) -> Result<(), String> {
        let eval = |m: String| format!("Error while evaluating expression: {m}");
        let number = |v: &Value| v.to_number().map_err(eval);
        let optional = |v: &Value| {
            if v.is_null() {
                Ok(None)
            } else {
                number(v).map(Some)
            }
        };
        let mut p = self.0.write();
        match name {
            "label" => p.label = value.to_display(),
            "unit" => p.unit = value.to_display(),
            "counter" => p.counter = value.to_bool(),
            "value" => p.value = number(&value)?,
            "warn" => p.warn = optional(&value)?,
            "crit" => p.crit = optional(&value)?,
            "min" => p.min = optional(&value)?,
            "max" => p.max = optional(&value)?,
            _ => return Err(format!("Attribute '{name}' does not exist.")),
        }
        Ok(())
    }
    fn fields(&self) -> Vec<(Str, Value)> {
        self.0.read().fields()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_normalised() {
        let p = parse_value("'time'=1.5ms;1;2;0;10").expect("parse");
        assert_eq!(p.label, "time");
        assert_eq!(p.unit, "seconds");
        assert!((p.value - 0.0015).abs() < 1e-12);
        assert_eq!(p.warn, Some(0.001));
        assert_eq!(parse_value("b=10KB").expect("kb").value, 10000.0);
        assert_eq!(parse_value("b=5KiB").expect("kib").value, 5120.0);
        assert_eq!(parse_value("b=1kb").expect("bits").unit, "bits");
        assert_eq!(parse_value("e=7xyz").expect("unknown").unit, "");
    }

    #[test]
    fn ranges_are_dropped_and_bad_values_refused() {
        let p = parse_value("a=1;10:20;@5:;0;").expect("parse");
        assert_eq!((p.warn, p.crit, p.min), (None, None, Some(0.0)));
        assert!(parse_value("h=1,5").is_err());
        assert!(parse_value("g=U").is_err());
    }
}
