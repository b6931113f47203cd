//! Function values: script functions with their closures, and native ones.

use std::fmt;
use std::sync::Arc;

use crate::ast::Expr;
use crate::error::LangError;
use crate::eval::Interp;
use crate::value::{Dict, Str, Value};

/// A function implemented in Rust. It gets the interpreter (to call back into
/// script functions), the value it was called on (`this`) and the arguments.
pub type NativeFn =
    Arc<dyn Fn(&mut Interp<'_>, &Value, Vec<Value>) -> Result<Value, LangError> + Send + Sync>;

/// What runs when the function is called.
pub enum FunctionBody {
    Script {
        body: Arc<Expr>,
        /// Variables captured with `use (...)`, copied into the locals of
        /// every call.
        closure: Option<Dict>,
    },
    Native(NativeFn),
}

/// A function value.
pub struct Function {
    pub name: Str,
    pub params: Vec<Str>,
    pub side_effect_free: bool,
    pub deprecated: bool,
    pub body: FunctionBody,
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Function({})", self.name)
    }
}

impl Function {
    /// A native function.
    pub fn native(
        name: &str,
        params: &[&str],
        side_effect_free: bool,
        f: impl Fn(&mut Interp<'_>, &Value, Vec<Value>) -> Result<Value, LangError>
            + Send
            + Sync
            + 'static,
    ) -> Arc<Function> {
        Arc::new(Function {
            name: name.into(),
            params: params.iter().map(|p| Str::from(*p)).collect(),
            side_effect_free,
            deprecated: false,
            body: FunctionBody::Native(Arc::new(f)),
        })
    }

    /// The fields Icinga serialises for a function.
    pub fn fields(&self) -> Vec<(Str, Value)> {
        vec![
            (
                "arguments".into(),
                Value::from(
                    self.params
                        .iter()
                        .map(|p| Value::String(p.clone()))
                        .collect::<Vec<_>>(),
                ),
            ),
            ("deprecated".into(), Value::Bool(self.deprecated)),
            ("name".into(), Value::String(self.name.clone())),
            (
                "side_effect_free".into(),
                Value::Bool(self.side_effect_free),
            ),
            ("type".into(), Value::str("Function")),
        ]
    }
}
