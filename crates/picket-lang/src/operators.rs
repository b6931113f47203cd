//! The operators on values, with Icinga's coercions and error messages.
//!
//! Icinga's notion of "empty" is null or the empty string: empty acts as 0
//! in arithmetic and as the empty array or dictionary when added to one, but
//! two empty operands are refused. Bitwise operators and shifts work on
//! 32-bit integers (Icinga casts to `int`: `1 << 31` is negative, shift
//! counts wrap at 32, out-of-range values become `INT_MIN`), `%` on 64-bit
//! ones after converting both operands like `number()` does.

use std::cmp::Ordering;

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

fn numeric(v: &Value) -> bool {
    v.is_empty() || matches!(v, Value::Number(_))
}

/// Numbers or empty values, but not both empty.
fn numeric_pair(a: &Value, b: &Value) -> bool {
    numeric(a) && numeric(b) && !(a.is_empty() && b.is_empty())
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => *n,
        _ => 0.0,
    }
}

/// C's conversion of a double to `int` on x86: out of range is `INT_MIN`.
pub fn to_int(n: f64) -> i32 {
    if n.is_nan() || !(-2147483648.0..2147483648.0).contains(&n) {
        i32::MIN
    } else {
        n as i32
    }
}

fn datetime(v: &Value) -> Option<f64> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<DateTime>().map(|d| d.value),
        _ => None,
    }
}

fn is_array(v: &Value) -> bool {
    matches!(v, Value::Array(_))
}

fn is_dict(v: &Value) -> bool {
    matches!(v, Value::Dict(_))
}

fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.to_vec(),
        _ => Vec::new(),
    }
}

/// Applies a binary operator (not `&&`/`||`, which short-circuit).
pub fn binary(op: BinaryOp, a: &Value, b: &Value) -> Result<Value, String> {
    use Value::*;
    let sym = op.symbol();
    let both_empty = a.is_empty() && b.is_empty();
    Ok(match op {
        BinaryOp::Add => {
            let stringish = |v: &Value| matches!(v, String(_) | Number(_)) || v.is_empty();
            if numeric_pair(a, b) && !matches!(a, String(_)) && !matches!(b, String(_)) {
                Number(num(a) + num(b))
            } else if stringish(a)
                && stringish(b)
                && (!both_empty || matches!(a, String(_)) || matches!(b, String(_)))
            {
                String(format!("{}{}", a.to_display(), b.to_display()).into())
            } else if let Some(t) = datetime_plus(a, b) {
                DateTime::value_of(t)
            } else if (is_array(a) || a.is_empty()) && (is_array(b) || b.is_empty()) && !both_empty
            {
                let mut items = list(a);
                items.extend(list(b));
                Value::Array(self::Array::new(items))
            } else if (is_dict(a) || a.is_empty()) && (is_dict(b) || b.is_empty()) && !both_empty {
                let out = self::Dict::new();
                for d in [a, b] {
                    if let Dict(d) = d {
                        for (k, v) in d.entries() {
                            out.insert(k, v);
                        }
                    }
                }
                Value::Dict(out)
            } else {
                return Err(type_error(sym, a, b));
            }
        }
        BinaryOp::Sub | BinaryOp::Lt | BinaryOp::Gt | BinaryOp::Le | BinaryOp::Ge
            if not_a_datetime(a, b) =>
        {
            return Err("Not a DateTime value.".into());
        }
        BinaryOp::Sub => {
            if numeric_pair(a, b) {
                Number(num(a) - num(b))
            } else if let (Some(t), Some(u)) = (datetime(a), datetime(b)) {
                Number(t - u)
            } else if let (Some(t), Number(n)) = (datetime(a), b) {
                DateTime::value_of(t - n)
            } else if (is_array(a) || a.is_empty()) && (is_array(b) || b.is_empty()) && !both_empty
            {
                let remove = list(b);
                let items: Vec<Value> = list(a)
                    .into_iter()
                    .filter(|x| !remove.iter().any(|r| r.loose_eq(x)))
                    .collect();
                Value::Array(self::Array::new(items))
            } else {
                return Err(type_error(sym, a, b));
            }
        }
        BinaryOp::Mul => {
            if !numeric_pair(a, b) {
                return Err(type_error(sym, a, b));
            }
            Number(num(a) * num(b))
        }
        BinaryOp::Div => {
            if !numeric_pair(a, b) {
                return Err(type_error(sym, a, b));
            }
            if b.is_empty() {
                return Err("Right-hand side argument for operator / is Empty.".into());
            }
            if num(b) == 0.0 {
                return Err("Right-hand side argument for operator / is 0.".into());
            }
            Number(num(a) / num(b))
        }
        BinaryOp::Mod => {
            if !matches!(b, Number(_)) && !b.is_empty() {
                return Err(type_error(sym, a, b));
            }
            if b.is_empty() {
                return Err("Right-hand side argument for operator % is Empty.".into());
            }
            let divisor = b.to_number()?;
            if divisor as i64 == 0 {
                return Err("Right-hand side argument for operator % is 0.".into());
            }
            let dividend = a.to_number()?;
            Number((dividend as i64).wrapping_rem(divisor as i64) as f64)
        }
        BinaryOp::BitAnd | BinaryOp::BitOr | BinaryOp::BitXor | BinaryOp::Shl | BinaryOp::Shr => {
            if !numeric_pair(a, b) {
                // Icinga's `^` reports itself as `&`.
                let shown = if op == BinaryOp::BitXor { "&" } else { sym };
                return Err(type_error(shown, a, b));
            }
            let (x, y) = (to_int(num(a)), to_int(num(b)));
            Number(match op {
                BinaryOp::BitAnd => x & y,
                BinaryOp::BitOr => x | y,
                BinaryOp::BitXor => x ^ y,
                BinaryOp::Shl => x.wrapping_shl(y as u32),
                _ => x.wrapping_shr(y as u32),
            } as f64)
        }
        BinaryOp::Eq => Bool(a.loose_eq(b)),
        BinaryOp::Ne => Bool(!a.loose_eq(b)),
        BinaryOp::Lt => Bool(less(a, b).ok_or_else(|| type_error(sym, a, b))?),
        BinaryOp::Gt => Bool(less(b, a).ok_or_else(|| type_error(sym, a, b))?),
        // `<=` and `>=` do not compare arrays, unlike `<` and `>`.
        BinaryOp::Le | BinaryOp::Ge if is_array(a) || is_array(b) => {
            return Err(type_error(sym, a, b))
        }
        BinaryOp::Le => Bool(!less(b, a).ok_or_else(|| type_error(sym, a, b))?),
        BinaryOp::Ge => Bool(!less(a, b).ok_or_else(|| type_error(sym, a, b))?),
        BinaryOp::In | BinaryOp::NotIn => {
            let found = match b {
                Array(arr) => arr.read().iter().any(|x| x.loose_eq(a)),
                _ if b.is_empty() => false,
                other => {
                    return Err(format!(
                        "Invalid right side argument for 'in' operator: {}",
                        json::encode_plain(other)
                    ))
                }
            };
            Bool(if op == BinaryOp::In { found } else { !found })
        }
    })
}

/// Icinga's `<`: strings by bytes, numbers (or one empty value) by value,
/// dates by time, arrays element by element (a missing element is empty);
/// `None` when the operands cannot be compared.
pub fn less(a: &Value, b: &Value) -> Option<bool> {
    use Value::*;
    match (a, b) {
        (String(x), String(y)) => Some(x.as_bytes() < y.as_bytes()),
        _ if numeric_pair(a, b) => Some(num(a) < num(b)),
        (Array(x), Array(y)) => {
            let (x, y) = (x.to_vec(), y.to_vec());
            for i in 0..x.len().max(y.len()) {
                let l = x.get(i).cloned().unwrap_or_default();
                let r = y.get(i).cloned().unwrap_or_default();
                if less(&l, &r)? {
                    return Some(true);
                }
                if less(&r, &l)? {
                    return Some(false);
                }
            }
            Some(false)
        }
        _ => match (datetime(a), datetime(b)) {
            (Some(x), Some(y)) => Some(x < y),
            _ => None,
        },
    }
}

/// A total order built on [`less`], for sorting.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    if less(a, b)? {
        Some(Ordering::Less)
    } else if less(b, a)? {
        Some(Ordering::Greater)
    } else {
        Some(Ordering::Equal)
    }
}

/// A date plus a number of seconds (only in that order, as in Icinga).
fn datetime_plus(a: &Value, b: &Value) -> Option<f64> {
    match (datetime(a), b) {
        (Some(t), Value::Number(n)) => Some(t + n),
        _ => None,
    }
}

/// An empty operand next to a date.
fn not_a_datetime(a: &Value, b: &Value) -> bool {
    (datetime(a).is_some() && b.is_empty()) || (datetime(b).is_some() && a.is_empty())
}
