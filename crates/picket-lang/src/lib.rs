//! Icinga 2's configuration language, as Icinga 2.13 defines it.
//!
//! This crate turns configuration text into values: it lexes and parses
//! (keeping Icinga's 1-based line and column positions for every message),
//! evaluates (with Icinga's scoping, coercion and error rules) and provides
//! the standard library (global functions, type methods, `Math`, `Json`,
//! `DateTime`). It also evaluates API filter expressions.
//!
//! It does not know what a Host is: `object`, `apply` and `import` are
//! handed to the [`eval::ConfigHooks`] that the object model installs.
//!
//! Map of the crate:
//! - [`source`]: files and positions, and Icinga's `Location:` blocks;
//! - [`lexer`], [`parser`], [`ast`]: text to syntax tree;
//! - [`value`], [`function`]: runtime values and their conversions;
//! - [`operators`]: the operators with Icinga's coercions;
//! - [`eval`]: the evaluator, its context and `include` handling;
//! - [`builtins`]: the standard library;
//! - [`json`], [`config_writer`]: values as JSON and as configuration text;
//! - [`perfdata`], [`wildcard`]: performance data and `*`/`?` matching.

#![forbid(unsafe_code)]

pub mod ast;
pub mod builtins;
pub mod config_writer;
pub mod error;
pub mod eval;
pub mod function;
pub mod json;
pub mod lexer;
pub mod operators;
pub mod pack;
pub mod parser;
pub mod perfdata;
pub mod source;
pub mod value;
pub mod wildcard;

pub use error::{ErrorKind, LangError};
pub use eval::{Context, Frame, Interp};
pub use value::{Array, Dict, Namespace, Str, Value};
