//! The syntax tree.
//!
//! Object, template and apply bodies are kept as `Arc<Expr>` because they are
//! evaluated later, once per object (and once per match of an apply rule),
//! long after their file was parsed.

use std::sync::Arc;

use crate::source::Span;
use crate::value::{Str, Value};

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    BitNot,
    Minus,
    /// `&x`: a reference to a variable or field.
    Ref,
    /// `*p`: the value a reference points to.
    Deref,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
    In,
    NotIn,
}

impl BinaryOp {
    /// The operator as messages show it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::BitAnd => "&",
            BinaryOp::BitOr => "|",
            BinaryOp::BitXor => "^",
            BinaryOp::Shl => "<<",
            BinaryOp::Shr => ">>",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Gt => ">",
            BinaryOp::Le => "<=",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "!in",
        }
    }
}

/// `=`, or the operator a compound assignment applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOp {
    Set,
    Op(BinaryOp),
}

/// A variable captured by `use (...)`: its name and, optionally, the
/// expression that gives its value (`use (x = 1)`).
#[derive(Debug, Clone)]
pub struct Capture {
    pub name: Str,
    pub value: Option<Expr>,
    pub span: Span,
}

#[derive(Debug)]
pub struct FunctionDef {
    pub name: Option<Str>,
    pub params: Vec<Str>,
    pub captures: Option<Vec<Capture>>,
    pub body: Arc<Expr>,
}

/// `object`/`template` statements.
#[derive(Debug)]
pub struct ObjectDef {
    pub is_template: bool,
    pub type_name: Str,
    pub type_span: Span,
    pub name: Option<Expr>,
    pub captures: Option<Vec<Capture>>,
    pub is_default: bool,
    pub ignore_on_error: bool,
    /// `assign where` / `ignore where` found in the body (group objects).
    pub filter: Option<Arc<Expr>>,
    pub body: Arc<Expr>,
    /// The header, `object Host "name"`: what `source_location` shows.
    pub header: Span,
}

/// The `for (k => v in expr)` of an apply rule.
#[derive(Debug)]
pub struct ApplyFor {
    pub key: Option<Str>,
    pub value: Str,
    pub iter: Expr,
}

/// `apply` statements.
#[derive(Debug)]
pub struct ApplyDef {
    pub type_name: Str,
    pub type_span: Span,
    /// `apply Type`: where errors about the rule's header point.
    pub name_span: Span,
    pub name: Option<Expr>,
    pub target: Option<Str>,
    pub target_span: Span,
    pub apply_for: Option<ApplyFor>,
    pub captures: Option<Vec<Capture>>,
    pub ignore_on_error: bool,
    pub filter: Option<Arc<Expr>>,
    pub body: Arc<Expr>,
    pub header: Span,
}

#[derive(Debug, Clone)]
pub enum IncludeKind {
    /// `include "path"` (relative, may contain wildcards).
    File(Box<Expr>),
    /// `include <name>` (search path).
    System(Str),
    /// `include_recursive "dir", "pattern"`.
    Recursive {
        path: Box<Expr>,
        pattern: Option<Box<Expr>>,
    },
    /// `include_zones "tag", "dir", "pattern"`.
    Zones {
        tag: Box<Expr>,
        path: Box<Expr>,
        pattern: Option<Box<Expr>>,
    },
}

/// `for (key => value in iter) body`.
#[derive(Debug, Clone)]
pub struct ForLoop {
    pub key: Option<Str>,
    pub value: Str,
    pub iter: Expr,
    pub body: Expr,
}

/// Large variants are boxed so that every node stays small: a parsed
/// configuration of 100,000 objects is millions of nodes.
#[derive(Debug, Clone)]
pub enum ExprKind {
    Literal(Value),
    /// A variable, with the namespaces `using` made visible where it was
    /// written (Icinga binds those when parsing, not when running).
    Variable(Str, Option<Arc<Vec<Expr>>>),
    This,
    Globals,
    Locals,
    Array(Vec<Expr>),
    /// `{ ... }` used as a value: a new dictionary is `this` while the
    /// statements run.
    Dict(Vec<Expr>),
    /// Statements run in the current scope; the value is the last one's.
    Block(Vec<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `a[b]` and `a.b`.
    Index(Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Box<[Expr]>),
    Set {
        target: Box<Expr>,
        op: SetOp,
        value: Box<Expr>,
        local: bool,
    },
    Function(Arc<FunctionDef>),
    If(Box<Expr>, Box<Expr>, Option<Box<Expr>>),
    While(Box<Expr>, Box<Expr>),
    For(Box<ForLoop>),
    Break,
    Continue,
    Return(Option<Box<Expr>>),
    Throw(Box<Expr>),
    Try(Box<Expr>, Box<Expr>),
    Include(Box<IncludeKind>),
    Library(Box<Expr>),
    Import(Box<Expr>),
    Const(Str, Box<Expr>),
    Object(Arc<ObjectDef>),
    Apply(Arc<ApplyDef>),
    Namespace(Str, Box<Expr>),
    /// `using X`: later variable lookups in this file also search X.
    Using(Box<Expr>),
    /// `assign where` / `ignore where` inside a body; collected into the
    /// owner's filter by the parser, a no-op when evaluated.
    FilterMarker,
    Debugger,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// Whether evaluating the expression can change anything: Icinga refuses
    /// a body statement whose value would just be dropped.
    pub fn has_side_effect(&self) -> bool {
        !matches!(
            self.kind,
            ExprKind::Literal(_)
                | ExprKind::Variable(..)
                | ExprKind::This
                | ExprKind::Globals
                | ExprKind::Locals
                | ExprKind::Array(_)
                | ExprKind::Dict(_)
                | ExprKind::Unary(..)
                | ExprKind::Binary(..)
                | ExprKind::And(..)
                | ExprKind::Or(..)
                | ExprKind::Ternary(..)
                | ExprKind::Index(..)
        )
    }
}
