//! The `Math` namespace.

use super::{arg, def_fn, fail};
use crate::value::{Namespace, Value};

fn unary(ns: &Namespace, name: &str, f: fn(f64) -> f64) {
    def_fn(ns, "Math", name, &["x"], true, move |_, _, args| {
        Ok(Value::Number(f(arg(&args, 0).to_number().map_err(fail)?)))
    });
}

pub(super) fn install(system: &Namespace) {
    let m = Namespace::new(true);
    for (k, v) in [
        ("E", std::f64::consts::E),
        ("LN2", std::f64::consts::LN_2),
        ("LN10", std::f64::consts::LN_10),
        ("LOG2E", std::f64::consts::LOG2_E),
        ("LOG10E", std::f64::consts::LOG10_E),
        ("PI", std::f64::consts::PI),
        ("SQRT1_2", std::f64::consts::FRAC_1_SQRT_2),
        ("SQRT2", std::f64::consts::SQRT_2),
    ] {
        m.force_set(k, Value::Number(v), true);
    }
    unary(&m, "abs", f64::abs);
    unary(&m, "acos", f64::acos);
    unary(&m, "asin", f64::asin);
    unary(&m, "atan", f64::atan);
    unary(&m, "ceil", f64::ceil);
    unary(&m, "cos", f64::cos);
    unary(&m, "exp", f64::exp);
    unary(&m, "floor", f64::floor);
    unary(&m, "log", f64::ln);
    unary(&m, "round", f64::round);
    unary(&m, "sin", f64::sin);
    unary(&m, "sqrt", f64::sqrt);
    unary(&m, "tan", f64::tan);
    unary(&m, "sign", |x| {
        if x > 0.0 {
            1.0
        } else if x < 0.0 {
            -1.0
        } else {
            0.0
        }
    });
    def_fn(&m, "Math", "isinf", &["x"], true, |_, _, args| {
        Ok(Value::Bool(
            arg(&args, 0).to_number().map_err(fail)?.is_infinite(),
        ))
    });
    def_fn(&m, "Math", "isnan", &["x"], true, |_, _, args| {
        Ok(Value::Bool(
            arg(&args, 0).to_number().map_err(fail)?.is_nan(),
        ))
    });
    def_fn(&m, "Math", "atan2", &["y", "x"], true, |_, _, args| {
        let y = arg(&args, 0).to_number().map_err(fail)?;
        let x = arg(&args, 1).to_number().map_err(fail)?;
        Ok(Value::Number(y.atan2(x)))
    });
    def_fn(&m, "Math", "pow", &["x", "y"], true, |_, _, args| {
        let x = arg(&args, 0).to_number().map_err(fail)?;
        let y = arg(&args, 1).to_number().map_err(fail)?;
        Ok(Value::Number(x.powf(y)))
    });
    // `max`/`min` compare with `>`/`<`, so they work on strings and arrays
    // too; without arguments they are -Infinity and Infinity.
    for (name, start, op) in [
        ("max", f64::NEG_INFINITY, crate::ast::BinaryOp::Gt),
        ("min", f64::INFINITY, crate::ast::BinaryOp::Lt),
    ] {
        def_fn(&m, "Math", name, &[], true, move |_, _, args| {
            let mut best = Value::Number(start);
            for (i, a) in args.iter().enumerate() {
                if i == 0
                    || crate::operators::binary(op, a, &best)
                        .map_err(fail)?
                        .to_bool()
                {
                    best = a.clone();
                }
            }
            Ok(best)
        });
    }
    def_fn(&m, "Math", "random", &[], true, |_, _, _| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        Ok(Value::Number((nanos % 1_000_000) as f64 / 1_000_000.0))
    });
    m.freeze();
    system.force_set("Math", Value::Namespace(m), true);
}
