//! The operators on values, with Icinga's coercions and error messages.
//!
//! Null acts as 0 in arithmetic, as the empty string in concatenation, and as
//! the empty array or dictionary when added to one. Bitwise operators, `%` and
//! the shifts work on the integer part of their operands (Icinga casts to
//! `long`), so `7 % 3.5` is 1 and `1 << 70` wraps like the hardware does.

use crate::ast::BinaryOp;
use crate::builtins::datetime::DateTime;
use crate::json;
use crate::value::{Array, Dict, Value};

fn type_error(op: &str, a: &Value, b: &Value) -> String {
    format!(
        "Operator {op} cannot be applied to values of type '{}' and '{}'",
        a.type_name(),
        b.type_name()
    )
}

fn is_numeric(v: &Value) -> bool {
    matches!(v, Value::Null | Value::Number(_))
}

/// Icinga's rule for numeric operands: numbers or null, but not both null.
fn numeric_pair(a: &Value, b: &Value) -> bool {
    is_numeric(a) && is_numeric(b) && !(a.is_null() && b.is_null())
}

fn num(v: &Value) -> f64 {
    v.to_number().unwrap_or(0.0)
}

/// Icinga's cast of a double to `long`.
fn long(v: &Value) -> i64 {
    let n = num(v);
    if n.is_nan() {
        0
    } else {
        n as i64
    }
}

fn datetime(v: &Value) -> Option<f64> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<DateTime>().map(|d| d.value),
        _ => None,
    }
}

/// Applies a binary operator (not `&&`/`||`, which short-circuit).
pub fn binary(op: BinaryOp, a: &Value, b: &Value) -> Result<Value, String> {
    use Value::*;
    let sym = op.symbol();
    Ok(match op {
        BinaryOp::Add => {
            if let (Some(t), Number(n)) = (datetime(a), b) {
                return Ok(DateTime::value_of(t + n));
            }
            match (a, b) {
                _ if is_numeric(a)
                    && is_numeric(b)
                    && !matches!((a, b), (Bool(_), _) | (_, Bool(_))) =>
                {
                    Number(num(a) + num(b))
                }
                (String(_) | Null | Number(_), String(_) | Null | Number(_)) => {
                    String(format!("{}{}", a.to_display(), b.to_display()).into())
                }
                (Array(_), Array(_) | Null) | (Null, Array(_)) => {
                    let mut items = list(a);
                    items.extend(list(b));
                    Value::Array(self::Array::new(items))
                }
                (Dict(_), Dict(_) | Null) | (Null, Dict(_)) => {
                    let out = self::Dict::new();
                    for d in [a, b] {
                        if let Dict(d) = d {
                            for (k, v) in d.entries() {
                                out.insert(k, v);
                            }
                        }
                    }
                    Value::Dict(out)
                }
                _ => return Err(type_error(sym, a, b)),
            }
        }
        BinaryOp::Sub => {
            if let Some(t) = datetime(a) {
                if let Some(u) = datetime(b) {
                    return Ok(Number(t - u));
                }
                if let Number(n) = b {
                    return Ok(DateTime::value_of(t - n));
                }
            }
            match (a, b) {
                _ if is_numeric(a)
                    && is_numeric(b)
                    && !matches!((a, b), (Bool(_), _) | (_, Bool(_))) =>
                {
                    Number(num(a) - num(b))
                }
                (Array(_) | Null, Array(_) | Null) => {
                    let remove = list(b);
                    let items: Vec<Value> = list(a)
                        .into_iter()
                        .filter(|x| !remove.iter().any(|r| r.loose_eq(x)))
                        .collect();
                    Value::Array(self::Array::new(items))
                }
                _ => return Err(type_error(sym, a, b)),
            }
        }
        BinaryOp::Mul => arith(a, b, sym, |x, y| Ok(x * y))?,
        BinaryOp::Div | BinaryOp::Mod if b.is_null() && is_numeric(a) && !a.is_null() => {
            return Err(format!(
                "Right-hand side argument for operator {sym} is Empty."
            ));
        }
        BinaryOp::Div => arith(a, b, sym, |x, y| {
            if y == 0.0 {
                Err("Right-hand side argument for operator / is 0.".to_string())
            } else {
                Ok(x / y)
            }
        })?,
        BinaryOp::Mod => integral(a, b, sym, |x, y| {
            if y == 0 {
                Err("Right-hand side argument for operator % is 0.".to_string())
            } else {
                Ok(x.wrapping_rem(y))
            }
        })?,
        BinaryOp::BitAnd => integral(a, b, sym, |x, y| Ok(x & y))?,
        BinaryOp::BitOr => integral(a, b, sym, |x, y| Ok(x | y))?,
        BinaryOp::BitXor => integral(a, b, sym, |x, y| Ok(x ^ y))?,
        BinaryOp::Shl => integral(a, b, sym, |x, y| Ok(x.wrapping_shl(y as u32)))?,
        BinaryOp::Shr => integral(a, b, sym, |x, y| Ok(x.wrapping_shr(y as u32)))?,
        BinaryOp::Eq => Bool(a.loose_eq(b)),
        BinaryOp::Ne => Bool(!a.loose_eq(b)),
        BinaryOp::Lt | BinaryOp::Gt | BinaryOp::Le | BinaryOp::Ge => {
            let ord = compare(a, b).ok_or_else(|| type_error(sym, a, b))?;
            Bool(match op {
                BinaryOp::Lt => ord.is_lt(),
                BinaryOp::Gt => ord.is_gt(),
                BinaryOp::Le => ord.is_le(),
                _ => ord.is_ge(),
            })
        }
        BinaryOp::In | BinaryOp::NotIn => {
            let found = match b {
                Null => false,
                Array(arr) => arr.read().iter().any(|x| x.loose_eq(a)),
                other => {
                    return Err(format!(
                        "Invalid right side argument for '{}' operator: {}",
                        if op == BinaryOp::In { "in" } else { "!in" },
                        json::encode(other)
                    ))
                }
            };
            Bool(if op == BinaryOp::In { found } else { !found })
        }
    })
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.to_vec(),
        _ => Vec::new(),
    }
}

fn arith(
    a: &Value,
    b: &Value,
    sym: &str,
    f: impl Fn(f64, f64) -> Result<f64, String>,
) -> Result<Value, String> {
    if numeric_pair(a, b) {
        Ok(Value::Number(f(num(a), num(b))?))
    } else {
        Err(type_error(sym, a, b))
    }
}

fn integral(
    a: &Value,
    b: &Value,
    sym: &str,
    f: impl Fn(i64, i64) -> Result<i64, String>,
) -> Result<Value, String> {
    if numeric_pair(a, b) {
        Ok(Value::Number(f(long(a), long(b))? as f64))
    } else {
        Err(type_error(sym, a, b))
    }
}

/// Ordering for `<` and friends: numbers with numbers, strings with strings,
/// dates with dates.
pub fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    use Value::*;
    match (a, b) {
        (String(x), String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (String(x), Null) => Some(x.as_bytes().cmp(b"")),
        (Null, String(y)) => Some(b"".as_slice().cmp(y.as_bytes())),
        _ if is_numeric(a) && is_numeric(b) => num(a)
            .partial_cmp(&num(b))
            .or(Some(std::cmp::Ordering::Equal)),
        _ => match (datetime(a), datetime(b)) {
            (Some(x), Some(y)) => x.partial_cmp(&y),
            _ => None,
        },
    }
}
