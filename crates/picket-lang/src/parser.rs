//! Builds the syntax tree from tokens.
//!
//! A hand-written recursive-descent parser with precedence climbing for the
//! binary operators, following the precedence table of Icinga's language
//! reference. Newlines end statements, except inside `( )` and `[ ]`; a
//! binary operator at the end of a line is a syntax error, as in Icinga.
//! Syntax errors are reported in Icinga's words (`syntax error, unexpected
//! new-line`) and parsing stops at the first one, as Icinga's does.

use std::sync::Arc;

use crate::ast::*;
use crate::error::{ErrorKind, LangError};
use crate::lexer::{Lexer, Tok, Token};
use crate::source::{FileId, Span};
use crate::value::{Str, Value};

/// Parses a whole file into a block of top-level statements.
pub fn parse_file(src: &str, file: FileId, path: &str) -> Result<Expr, LangError> {
    let mut p = Parser::new(src, file, path)?;
    let start = p.tok.span;
    let stmts = p.statements(&Tok::Eof, Effect::AllButLast)?;
    let end = p.tok.span;
    Ok(Expr::new(ExprKind::Block(stmts), start.to(end)))
}

/// Parses a single expression (API filters, `console --eval`): a statement
/// list whose value is that of its last statement.
pub fn parse_expression(src: &str, file: FileId, path: &str) -> Result<Expr, LangError> {
    parse_file(src, file, path)
}

/// Collects the `assign where` / `ignore where` of the body being parsed.
#[derive(Default)]
struct FilterCollector {
    assign: Vec<Expr>,
    ignore: Vec<Expr>,
}

struct Parser<'s> {
    lexer: Lexer<'s>,
    tok: Token,
    prev: Span,
    /// Per open bracket: whether newlines are insignificant inside it.
    ignore_newlines: Vec<bool>,
    /// Tokens taken so far: tells whether a failed item got past its first.
    consumed: u64,
    /// Brackets open that Icinga counts for an incomplete input: those of
    /// an array, `{` and parentheses around an expression (not those of an
    /// index, a call, a condition or `{{`).
    open_brackets: u32,
    path: Str,
    /// Namespaces made visible by `using` so far in this file.
    imports: Vec<Expr>,
    shared_imports: Option<Arc<Vec<Expr>>>,
    filters: Vec<FilterCollector>,
    /// Current nesting of expressions and statements: bounded so that
    /// hostile input cannot exhaust the stack.
    depth: usize,
    /// Loops around the current statement within the current function:
    /// `break` and `continue` need one.
    loops: usize,
    /// Whether `return` has a function (or object body) to leave.
    in_function: bool,
    /// Inside a dictionary literal: assignments to plain names set keys.
    this_scope: bool,
}

/// Which statements of a block must have an effect.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Effect {
    /// Loop, dictionary, object and namespace bodies.
    All,
    /// Files, function and `if` bodies: the last statement is the value.
    AllButLast,
}

/// Deepest nesting of expressions the parser accepts.
const MAX_NESTING: usize = 256;

#[derive(Clone)]
struct Checkpoint<'s> {
    lexer: Lexer<'s>,
    tok: Token,
    prev: Span,
    consumed: u64,
    open_brackets: u32,
    depth: usize,
}

fn binary_op(tok: &Tok) -> Option<(BinaryOp, u8)> {
    Some(match tok {
        Tok::Pipe => (BinaryOp::BitOr, 3),
        Tok::Caret => (BinaryOp::BitXor, 4),
        Tok::Amp => (BinaryOp::BitAnd, 5),
        Tok::EqEq => (BinaryOp::Eq, 6),
        Tok::NotEq => (BinaryOp::Ne, 6),
        Tok::In => (BinaryOp::In, 7),
        Tok::NotIn => (BinaryOp::NotIn, 7),
        Tok::Lt => (BinaryOp::Lt, 8),
        Tok::Gt => (BinaryOp::Gt, 8),
        Tok::Le => (BinaryOp::Le, 8),
        Tok::Ge => (BinaryOp::Ge, 8),
        Tok::Shl => (BinaryOp::Shl, 9),
        Tok::Shr => (BinaryOp::Shr, 9),
        Tok::Plus => (BinaryOp::Add, 10),
        Tok::Minus => (BinaryOp::Sub, 10),
        Tok::Star => (BinaryOp::Mul, 11),
        Tok::Slash => (BinaryOp::Div, 11),
        Tok::Percent => (BinaryOp::Mod, 11),
        _ => return None,
    })
}

/// The target of `var`: the name innermost in an index chain (or a string
/// standing for one) becomes a key of `locals`; a plain name stays a name,
/// set locally. Anything else is left to fail when assigned, as in Icinga.
fn bind_local(e: Expr) -> Expr {
    let span = e.span;
    match e.kind {
        ExprKind::Variable(..) => Expr::new(e.kind, span),
        ExprKind::Literal(Value::String(name)) => local_key(name, span),
        ExprKind::Index(container, key) => {
            let container = match container.kind {
                ExprKind::Variable(name, _) => local_key(name, container.span),
                _ => bind_local(*container),
            };
            Expr::new(ExprKind::Index(Box::new(container), key), span)
        }
        kind => Expr::new(kind, span),
    }
}

fn local_key(name: Str, span: Span) -> Expr {
    let locals = Expr::new(ExprKind::Locals, span);
    let key = Expr::new(ExprKind::Literal(Value::String(name)), span);
    Expr::new(ExprKind::Index(Box::new(locals), Box::new(key)), span)
}

fn set_op(tok: &Tok) -> Option<SetOp> {
    Some(match tok {
        Tok::Set => SetOp::Set,
        Tok::SetAdd => SetOp::Op(BinaryOp::Add),
        Tok::SetSub => SetOp::Op(BinaryOp::Sub),
        Tok::SetMul => SetOp::Op(BinaryOp::Mul),
        Tok::SetDiv => SetOp::Op(BinaryOp::Div),
        Tok::SetMod => SetOp::Op(BinaryOp::Mod),
        Tok::SetOr => SetOp::Op(BinaryOp::BitOr),
        Tok::SetAnd => SetOp::Op(BinaryOp::BitAnd),
        Tok::SetXor => SetOp::Op(BinaryOp::BitXor),
        _ => return None,
    })
}

impl<'s> Parser<'s> {
    fn new(src: &'s str, file: FileId, path: &str) -> Result<Self, LangError> {
        let mut lexer = Lexer::new(src, file);
        let tok = lexer.next_token()?;
        Ok(Parser {
            lexer,
            prev: tok.span,
            tok,
            ignore_newlines: vec![false],
            consumed: 0,
            open_brackets: 0,
            path: path.into(),
            imports: Vec::new(),
            shared_imports: None,
            filters: Vec::new(),
            depth: 0,
            loops: 0,
            in_function: false,
            this_scope: false,
        })
    }

    fn ignoring_newlines(&self) -> bool {
        self.ignore_newlines.last().copied().unwrap_or(false)
    }

    /// The current token, skipping newlines where they do not matter.
    fn cur(&mut self) -> Result<&Tok, LangError> {
        if self.ignoring_newlines() {
            while self.tok.tok == Tok::Newline && !self.tok.at_end {
                self.tok = self.lexer.next_token()?;
            }
        }
        Ok(&self.tok.tok)
    }

    fn is(&mut self, tok: &Tok) -> Result<bool, LangError> {
        Ok(self.cur()? == tok)
    }

    fn advance(&mut self) -> Result<Token, LangError> {
        self.cur()?;
        let next = self.lexer.next_token()?;
        let t = std::mem::replace(&mut self.tok, next);
        self.prev = t.span;
        self.consumed += 1;
        Ok(t)
    }

    fn checkpoint(&self) -> Checkpoint<'s> {
        Checkpoint {
            lexer: self.lexer.clone(),
            tok: self.tok.clone(),
            prev: self.prev,
            consumed: self.consumed,
            open_brackets: self.open_brackets,
            depth: self.ignore_newlines.len(),
        }
    }

    fn restore(&mut self, cp: Checkpoint<'s>) {
        self.lexer = cp.lexer;
        self.tok = cp.tok;
        self.prev = cp.prev;
        self.consumed = cp.consumed;
        self.open_brackets = cp.open_brackets;
        self.ignore_newlines.truncate(cp.depth);
    }

    fn unexpected(&mut self, expecting: Option<&str>) -> LangError {
        let _ = self.cur();
        let mut msg = format!("syntax error, unexpected {}", self.tok.tok.describe());
        if let Some(e) = expecting {
            msg.push_str(", expecting ");
            msg.push_str(e);
        }
        let mut error = LangError::syntax(msg, self.tok.span);
        error.incomplete = (self.tok.tok == Tok::Eof || self.tok.at_end) && self.open_brackets > 0;
        error
    }

    /// Parses an item of a list that `end` closes. When the item's first
    /// token cannot start one, Icinga's parser names the closing token as
    /// what it expected there (its state then allows nothing else), so
    /// this says so too.
    fn item_or_end<T>(
        &mut self,
        end: &Tok,
        item: impl FnOnce(&mut Self) -> Result<T, LangError>,
    ) -> Result<T, LangError> {
        self.cur()?;
        let (at, consumed) = (self.tok.span, self.consumed);
        item(self).map_err(|mut e| {
            if e.kind == ErrorKind::Syntax
                && e.span == Some(at)
                && self.consumed == consumed
                && e.message.starts_with("syntax error, unexpected ")
                && !e.message.contains(", expecting ")
            {
                e.message.push_str(", expecting ");
                e.message.push_str(&end.describe());
            }
            e
        })
    }

    fn expect(&mut self, tok: Tok, expecting: &str) -> Result<Token, LangError> {
        if self.is(&tok)? {
            self.advance()
        } else {
            Err(self.unexpected(Some(expecting)))
        }
    }

    fn ident(&mut self) -> Result<(Str, Span), LangError> {
        match self.cur()?.clone() {
            Tok::Ident(name) => {
                let t = self.advance()?;
                Ok((name, t.span))
            }
            _ => Err(self.unexpected(Some("T_IDENTIFIER"))),
        }
    }

    /// A name where Icinga also accepts a string literal (`for ("x" in ...)`,
    /// `var "v"`, `use ("z")`, parameter names).
    fn name(&mut self) -> Result<(Str, Span), LangError> {
        if let Tok::Str(s) = self.cur()?.clone() {
            let t = self.advance()?;
            return Ok((s, t.span));
        }
        self.ident()
    }

    /// Opens a bracket: pushes its newline rule and consumes the token.
    fn open(&mut self, ignore_newlines: bool) -> Result<Token, LangError> {
        let t = self.advance()?;
        if t.tok == Tok::LBrace {
            self.open_brackets += 1;
        }
        self.ignore_newlines.push(ignore_newlines);
        Ok(t)
    }

    /// Closes a bracket that follows a whole expression. Icinga's parser
    /// names no expected token when something else comes there: an
    /// operator could have continued the expression.
    fn close_after_expr(&mut self, tok: Tok) -> Result<Token, LangError> {
        if !self.is(&tok)? {
            return Err(self.unexpected(None));
        }
        self.close(tok, "")
    }

    fn close(&mut self, tok: Tok, expecting: &str) -> Result<Token, LangError> {
        let t = self.expect(tok, expecting)?;
        if t.tok == Tok::RBrace {
            self.open_brackets = self.open_brackets.saturating_sub(1);
        }
        self.ignore_newlines.pop();
        Ok(t)
    }

    // ----- statements -----------------------------------------------------

    /// Statements up to `end` (not consumed), separated by one `;` or `,`
    /// or by line breaks. `effect` says which statements must do something
    /// (Icinga refuses a statement whose value would just be dropped).
    fn statements(&mut self, end: &Tok, effect: Effect) -> Result<Vec<Expr>, LangError> {
        let mut out: Vec<Expr> = Vec::new();
        self.skip_newlines()?;
        loop {
            if self.cur()? == end {
                break;
            }
            let stmt = self.item_or_end(end, |p| p.statement())?;
            let required = match effect {
                Effect::All => true,
                Effect::AllButLast => false,
            };
            if required && !stmt.has_side_effect() {
                return Err(LangError::script("Value computed is not used.", stmt.span));
            }
            if let Some(prev) = out.last() {
                if effect == Effect::AllButLast && !prev.has_side_effect() {
                    return Err(LangError::script("Value computed is not used.", prev.span));
                }
            }
            out.push(stmt);
            match self.cur()?.clone() {
                Tok::Semicolon | Tok::Comma => {
                    self.advance()?;
                    self.skip_newlines()?;
                }
                Tok::Newline => self.skip_newlines()?,
                t if t == *end => break,
                _ => {
                    let expecting = match end {
                        Tok::Eof => "end of file",
                        Tok::RBrace => "'}'",
                        _ => "new-line",
                    };
                    return Err(self.unexpected(Some(expecting)));
                }
            }
        }
        Ok(out)
    }

    fn skip_newlines(&mut self) -> Result<(), LangError> {
        while self.tok.tok == Tok::Newline {
            self.advance()?;
        }
        Ok(())
    }

    fn statement(&mut self) -> Result<Expr, LangError> {
        self.depth += 1;
        let r = stacker::maybe_grow(crate::eval::RED_ZONE, crate::eval::STACK_CHUNK, || {
            self.statement_inner()
        });
        self.depth -= 1;
        r
    }

    fn statement_inner(&mut self) -> Result<Expr, LangError> {
        if self.depth > MAX_NESTING {
            return Err(LangError::syntax(
                "Expression is nested too deeply",
                self.tok.span,
            ));
        }
        let start = self.tok.span;
        match self.cur()?.clone() {
            Tok::Object | Tok::Template => self.object_def(),
            Tok::Apply => self.apply_def(),
            Tok::Include => {
                self.advance()?;
                let kind = if let Tok::AngleStr(name) = self.cur()?.clone() {
                    self.advance()?;
                    IncludeKind::System(name)
                } else {
                    IncludeKind::File(Box::new(self.expr()?))
                };
                Ok(Expr::new(
                    ExprKind::Include(Box::new(kind)),
                    start.to(self.prev),
                ))
            }
            Tok::IncludeRecursive => {
                self.advance()?;
                let path = Box::new(self.expr()?);
                let pattern = if self.is(&Tok::Comma)? {
                    self.advance()?;
                    Some(Box::new(self.expr()?))
                } else {
                    None
                };
                Ok(Expr::new(
                    ExprKind::Include(Box::new(IncludeKind::Recursive { path, pattern })),
                    start.to(self.prev),
                ))
            }
            Tok::IncludeZones => {
                self.advance()?;
                let tag = Box::new(self.expr()?);
                self.expect(Tok::Comma, "','")?;
                let path = Box::new(self.expr()?);
                let pattern = if self.is(&Tok::Comma)? {
                    self.advance()?;
                    Some(Box::new(self.expr()?))
                } else {
                    None
                };
                Ok(Expr::new(
                    ExprKind::Include(Box::new(IncludeKind::Zones { tag, path, pattern })),
                    start.to(self.prev),
                ))
            }
            Tok::Library => {
                self.advance()?;
                let e = self.expr()?;
                Ok(Expr::new(
                    ExprKind::Library(Box::new(e)),
                    start.to(self.prev),
                ))
            }
            Tok::Const => {
                self.advance()?;
                let (name, _) = self.ident()?;
                self.expect(Tok::Set, "= (T_SET)")?;
                let value = self.expr()?;
                Ok(Expr::new(
                    ExprKind::Const(name, Box::new(value)),
                    start.to(self.prev),
                ))
            }
            Tok::Var => {
                self.advance()?;
                // Any expression may follow (`var x.y = 1`, `var x[0] = 2`):
                // its innermost name is the local one, as Icinga binds it.
                let target = bind_local(self.expr()?);
                let span = target.span;
                let target = Box::new(target);
                let op = set_op(self.cur()?).unwrap_or(SetOp::Set);
                let value = if set_op(self.cur()?).is_some() {
                    self.advance()?;
                    self.expr()?
                } else {
                    Expr::new(ExprKind::Literal(Value::Null), span)
                };
                Ok(Expr::new(
                    ExprKind::Set {
                        target,
                        op,
                        value: Box::new(value),
                        local: true,
                    },
                    start.to(self.prev),
                ))
            }
            Tok::Import => {
                self.advance()?;
                let e = self.expr()?;
                Ok(Expr::new(
                    ExprKind::Import(Box::new(e)),
                    start.to(self.prev),
                ))
            }
            Tok::Assign | Tok::Ignore => {
                let is_assign = self.cur()? == &Tok::Assign;
                self.advance()?;
                self.expect(Tok::Where, "where (T_WHERE)")?;
                let cond = self.expr()?;
                let span = start.to(self.prev);
                let Some(collector) = self.filters.last_mut() else {
                    let word = if is_assign { "assign" } else { "ignore" };
                    return Err(LangError::syntax(
                        format!("'{word}' keyword not valid in this context."),
                        span,
                    ));
                };
                if is_assign {
                    collector.assign.push(cond);
                } else {
                    collector.ignore.push(cond);
                }
                Ok(Expr::new(ExprKind::FilterMarker, span))
            }
            Tok::Namespace => {
                self.advance()?;
                let (mut name, _) = self.name()?;
                while self.is(&Tok::Dot)? {
                    self.advance()?;
                    let (part, _) = self.ident()?;
                    name = format!("{name}.{part}").into();
                }
                let body = self.scope_block(Effect::All)?;
                Ok(Expr::new(
                    ExprKind::Namespace(name, Box::new(body)),
                    start.to(self.prev),
                ))
            }
            Tok::Using => {
                self.advance()?;
                let e = self.expr()?;
                self.imports.push(e.clone());
                self.shared_imports = None;
                Ok(Expr::new(ExprKind::Using(Box::new(e)), start.to(self.prev)))
            }
            Tok::Return => {
                self.advance()?;
                let value = if matches!(
                    self.cur()?,
                    Tok::Newline | Tok::Semicolon | Tok::RBrace | Tok::Eof | Tok::RLambda
                ) {
                    None
                } else {
                    Some(Box::new(self.expr()?))
                };
                if !self.in_function {
                    return Err(LangError::script(
                        "Invalid flow control statement.",
                        start.to(self.prev),
                    ));
                }
                Ok(Expr::new(ExprKind::Return(value), start.to(self.prev)))
            }
            Tok::Break | Tok::Continue => {
                let kind = if self.advance()?.tok == Tok::Break {
                    ExprKind::Break
                } else {
                    ExprKind::Continue
                };
                if self.loops == 0 {
                    return Err(LangError::script("Invalid flow control statement.", start));
                }
                Ok(Expr::new(kind, start))
            }
            Tok::Throw => {
                self.advance()?;
                let e = self.expr()?;
                Ok(Expr::new(ExprKind::Throw(Box::new(e)), start.to(self.prev)))
            }
            Tok::Debugger => {
                self.advance()?;
                Ok(Expr::new(ExprKind::Debugger, start))
            }
            Tok::Try => {
                self.advance()?;
                let body = self.scope_block(Effect::AllButLast)?;
                self.expect(Tok::Except, "except (T_EXCEPT)")?;
                let handler = self.scope_block(Effect::AllButLast)?;
                Ok(Expr::new(
                    ExprKind::Try(Box::new(body), Box::new(handler)),
                    start.to(self.prev),
                ))
            }
            Tok::Function => {
                // `function name(...) { }` defines a variable; an anonymous
                // one is an ordinary expression.
                let cp = self.checkpoint();
                self.advance()?;
                if let Tok::Ident(name) | Tok::Str(name) = self.cur()?.clone() {
                    let name_span = self.tok.span;
                    self.restore(cp);
                    let func = self.function_expr(true)?;
                    // A field of `this` (the globals at the top), as
                    // Icinga's grammar makes it: no implicit-global warning.
                    let this = Expr::new(ExprKind::This, name_span);
                    let key = Expr::new(ExprKind::Literal(Value::String(name)), name_span);
                    let target = Box::new(Expr::new(
                        ExprKind::Index(Box::new(this), Box::new(key)),
                        name_span,
                    ));
                    let span = func.span;
                    return Ok(Expr::new(
                        ExprKind::Set {
                            target,
                            op: SetOp::Set,
                            value: Box::new(func),
                            local: false,
                        },
                        span,
                    ));
                }
                self.restore(cp);
                self.expression_statement()
            }
            _ => self.expression_statement(),
        }
    }

    fn expression_statement(&mut self) -> Result<Expr, LangError> {
        let lhs = self.expr()?;
        let Some(op) = set_op(self.cur()?) else {
            return Ok(lhs);
        };
        // A string on the left names a variable or key like an identifier
        // does: `"-H" = { ... }` in command arguments.
        let lhs = match lhs.kind {
            ExprKind::Literal(Value::String(name)) if self.this_scope => {
                Expr::new(ExprKind::Variable(name, None), lhs.span)
            }
            _ => lhs,
        };
        // In a dictionary literal a name on the left is a key of the
        // dictionary, whatever locals or globals of that name exist.
        let lhs = match lhs.kind {
            ExprKind::Variable(name, _) if self.this_scope => {
                let key = Expr::new(ExprKind::Literal(Value::String(name)), lhs.span);
                let this = Expr::new(ExprKind::This, lhs.span);
                Expr::new(ExprKind::Index(Box::new(this), Box::new(key)), lhs.span)
            }
            _ => lhs,
        };
        self.advance()?;
        let value = self.expr()?;
        let span = lhs.span.to(self.prev);
        Ok(Expr::new(
            ExprKind::Set {
                target: Box::new(lhs),
                op,
                value: Box::new(value),
                local: false,
            },
            span,
        ))
    }

    /// `{ statements }` evaluated in the current scope.
    fn scope_block(&mut self, effect: Effect) -> Result<Expr, LangError> {
        if !self.is(&Tok::LBrace)? {
            return Err(self.unexpected(Some("'{'")));
        }
        let start = self.open(false)?.span;
        let stmts = self.statements(&Tok::RBrace, effect)?;
        self.close(Tok::RBrace, "'}'")?;
        Ok(Expr::new(ExprKind::Block(stmts), start.to(self.prev)))
    }

    /// Parses a function (or object) body: `return` is allowed, loops
    /// outside it do not count for `break`.
    fn in_function<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, LangError>,
    ) -> Result<T, LangError> {
        let saved = (self.loops, self.in_function, self.this_scope);
        self.loops = 0;
        self.in_function = true;
        self.this_scope = false;
        let r = f(self);
        (self.loops, self.in_function, self.this_scope) = saved;
        r
    }

    /// Parses a loop body: `break` and `continue` are allowed.
    fn loop_body(&mut self) -> Result<Expr, LangError> {
        self.loops += 1;
        let r = self.scope_block(Effect::All);
        self.loops -= 1;
        r
    }

    /// An object or apply body: a block that must have effects and may
    /// carry `assign where` / `ignore where`.
    fn body_with_filter(&mut self) -> Result<(Arc<Expr>, FilterCollector), LangError> {
        if !self.is(&Tok::LBrace)? {
            return Err(self.unexpected(Some("'{'")));
        }
        let start = self.open(false)?.span;
        self.filters.push(FilterCollector::default());
        let stmts = self.in_function(|p| p.statements(&Tok::RBrace, Effect::All));
        let filters = self.filters.pop().unwrap_or_default();
        let stmts = stmts?;
        self.close(Tok::RBrace, "'}'")?;
        Ok((
            Arc::new(Expr::new(ExprKind::Block(stmts), start.to(self.prev))),
            filters,
        ))
    }

    /// `assign where` conditions or-ed, minus the `ignore where` ones; with
    /// only `ignore where`, everything not ignored.
    fn combine_filter(filters: FilterCollector) -> Option<Arc<Expr>> {
        let or_all = |exprs: Vec<Expr>| {
            exprs.into_iter().reduce(|a, b| {
                let span = a.span.to(b.span);
                Expr::new(ExprKind::Or(Box::new(a), Box::new(b)), span)
            })
        };
        let assign = or_all(filters.assign);
        let ignore = or_all(filters.ignore).map(|ignore| {
            let span = ignore.span;
            Expr::new(ExprKind::Unary(UnaryOp::Not, Box::new(ignore)), span)
        });
        let filter = match (assign, ignore) {
            (Some(a), Some(not)) => {
                let span = a.span.to(not.span);
                Expr::new(ExprKind::And(Box::new(a), Box::new(not)), span)
            }
            (Some(a), None) => a,
            (None, Some(not)) => not,
            (None, None) => return None,
        };
        Some(Arc::new(filter))
    }

    fn captures(&mut self) -> Result<Option<Vec<Capture>>, LangError> {
        if !self.is(&Tok::Use)? {
            return Ok(None);
        }
        self.advance()?;
        if !self.is(&Tok::LParen)? {
            return Err(self.unexpected(Some("'('")));
        }
        self.open(true)?;
        let mut out = Vec::new();
        if self.is(&Tok::RParen)? {
            return Err(self.unexpected(Some("T_STRING or T_IDENTIFIER")));
        }
        while !self.is(&Tok::RParen)? {
            let (name, span) = self.name()?;
            let value = if self.is(&Tok::Set)? {
                self.advance()?;
                Some(self.expr()?)
            } else {
                None
            };
            out.push(Capture { name, value, span });
            if self.is(&Tok::Comma)? {
                self.advance()?;
            } else if !self.is(&Tok::RParen)? {
                return Err(self.unexpected(Some("')'")));
            }
        }
        self.close(Tok::RParen, "')'")?;
        Ok(Some(out))
    }

    fn object_def(&mut self) -> Result<Expr, LangError> {
        let start = self.advance()?;
        let is_template = start.tok == Tok::Template;
        let (type_name, type_span) = self.ident()?;
        let name = if self.is(&Tok::LBrace)? {
            None
        } else {
            Some(self.expr()?)
        };
        let captures = self.captures()?;
        let is_default = if self.is(&Tok::Default)? {
            self.advance()?;
            true
        } else {
            false
        };
        let ignore_on_error = if self.is(&Tok::IgnoreOnError)? {
            self.advance()?;
            true
        } else {
            false
        };
        // As in Icinga, the declaration's location runs to the end of its
        // last header word (`use (...)`, `default`, `ignore_on_error`).
        let header = start.span.to(self.prev);
        let (body, filters) = self.body_with_filter()?;
        let def = ObjectDef {
            is_template,
            type_name,
            type_span,
            name,
            captures,
            is_default,
            ignore_on_error,
            filter: Self::combine_filter(filters),
            body,
            header,
        };
        Ok(Expr::new(
            ExprKind::Object(Arc::new(def)),
            start.span.to(self.prev),
        ))
    }

    fn apply_def(&mut self) -> Result<Expr, LangError> {
        let start = self.advance()?;
        let (type_name, type_span) = self.ident()?;
        let name = match self.cur()? {
            Tok::For | Tok::To | Tok::Use | Tok::IgnoreOnError | Tok::LBrace => None,
            _ => Some(self.expr()?),
        };
        let mut apply_for = None;
        let mut target = None;
        let mut target_span = start.span;
        let mut captures = None;
        let mut ignore_on_error = false;
        loop {
            match self.cur()? {
                Tok::For if apply_for.is_none() => {
                    self.advance()?;
                    if !self.is(&Tok::LParen)? {
                        return Err(self.unexpected(Some("'('")));
                    }
                    self.open(true)?;
                    let (key, value) = self.for_vars()?;
                    self.expect(Tok::In, "in (T_IN)")?;
                    let iter = self.expr()?;
                    self.close_after_expr(Tok::RParen)?;
                    apply_for = Some(ApplyFor { key, value, iter });
                }
                Tok::To if target.is_none() => {
                    let to = self.advance()?.span;
                    let (t, span) = self.ident()?;
                    target = Some(t);
                    target_span = to.to(span);
                }
                Tok::Use if captures.is_none() => captures = self.captures()?,
                Tok::IgnoreOnError => {
                    self.advance()?;
                    ignore_on_error = true;
                }
                _ => break,
            }
        }
        let header = start.span.to(self.prev);
        let (body, filters) = self.body_with_filter()?;
        let has_assign = !filters.assign.is_empty();
        let filter = Self::combine_filter(filters);
        if !has_assign && apply_for.is_none() {
            return Err(LangError::script(
                "'apply' is missing 'assign'/'for'",
                start.span.to(type_span),
            ));
        }
        let def = ApplyDef {
            type_name,
            type_span,
            name_span: start.span.to(type_span),
            name,
            target,
            target_span,
            apply_for,
            captures,
            ignore_on_error,
            filter,
            body,
            header,
        };
        Ok(Expr::new(
            ExprKind::Apply(Arc::new(def)),
            start.span.to(self.prev),
        ))
    }

    /// `[var] k => [var] v` or `[var] v` in a `for` header.
    fn for_vars(&mut self) -> Result<(Option<Str>, Str), LangError> {
        if self.is(&Tok::Var)? {
            self.advance()?;
        }
        let (first, _) = self.name()?;
        if self.is(&Tok::Arrow)? {
            self.advance()?;
            if self.is(&Tok::Var)? {
                self.advance()?;
            }
            let (second, _) = self.name()?;
            Ok((Some(first), second))
        } else {
            Ok((None, first))
        }
    }

    // ----- expressions ----------------------------------------------------

    pub fn expr(&mut self) -> Result<Expr, LangError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            let span = self.tok.span;
            self.depth -= 1;
            return Err(LangError::syntax("Expression is nested too deeply", span));
        }
        let r = stacker::maybe_grow(crate::eval::RED_ZONE, crate::eval::STACK_CHUNK, || {
            self.ternary()
        });
        self.depth -= 1;
        r.map(|r| r.expr)
    }

    fn ternary(&mut self) -> Result<Ranged, LangError> {
        let cond = self.logical_or()?;
        if !self.is(&Tok::Question)? {
            return Ok(cond);
        }
        self.advance()?;
        let a = self.ternary()?.expr;
        if !self.is(&Tok::Colon)? {
            return Err(self.unexpected(None));
        }
        self.advance()?;
        let b = self.ternary()?;
        let span = cond.range.to(b.range);
        Ok(Ranged::of(Expr::new(
            ExprKind::Ternary(Box::new(cond.expr), Box::new(a), Box::new(b.expr)),
            span,
        )))
    }

    fn logical_or(&mut self) -> Result<Ranged, LangError> {
        let mut lhs = self.logical_and()?;
        while self.is(&Tok::OrOr)? {
            self.advance()?;
            let rhs = self.logical_and()?;
            let span = lhs.range.to(rhs.range);
            lhs = Ranged::of(Expr::new(
                ExprKind::Or(Box::new(lhs.expr), Box::new(rhs.expr)),
                span,
            ));
        }
        Ok(lhs)
    }

    fn logical_and(&mut self) -> Result<Ranged, LangError> {
        let mut lhs = self.binary(3)?;
        while self.is(&Tok::AndAnd)? {
            self.advance()?;
            let rhs = self.binary(3)?;
            let span = lhs.range.to(rhs.range);
            lhs = Ranged::of(Expr::new(
                ExprKind::And(Box::new(lhs.expr), Box::new(rhs.expr)),
                span,
            ));
        }
        Ok(lhs)
    }

    fn binary(&mut self, min_prec: u8) -> Result<Ranged, LangError> {
        let mut lhs = self.unary()?;
        let mut last_prec = None;
        while let Some((op, prec)) = binary_op(self.cur()?) {
            if prec < min_prec {
                break;
            }
            // `==`/`!=` and the relational operators do not chain.
            if last_prec == Some(prec) && (prec == 6 || prec == 8) {
                return Err(self.unexpected(None));
            }
            self.advance()?;
            let rhs = self.binary(prec + 1)?;
            let span = lhs.range.to(rhs.range);
            lhs = Ranged::of(Expr::new(
                ExprKind::Binary(op, Box::new(lhs.expr), Box::new(rhs.expr)),
                span,
            ));
            last_prec = Some(prec);
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Ranged, LangError> {
        if self.depth > MAX_NESTING {
            return Err(LangError::syntax(
                "Expression is nested too deeply",
                self.tok.span,
            ));
        }
        // Icinga's grammar drops a unary plus: `+x` is `x` itself, as
        // value, as location and as something to assign to.
        let op = match self.cur()? {
            Tok::Bang => Some(UnaryOp::Not),
            Tok::Tilde => Some(UnaryOp::BitNot),
            Tok::Plus => None,
            Tok::Minus => Some(UnaryOp::Minus),
            Tok::Amp => Some(UnaryOp::Ref),
            Tok::Star => Some(UnaryOp::Deref),
            _ => return self.postfix(),
        };
        let start = self.advance()?.span;
        self.depth += 1;
        let operand = stacker::maybe_grow(crate::eval::RED_ZONE, crate::eval::STACK_CHUNK, || {
            self.unary()
        });
        self.depth -= 1;
        let operand = operand?;
        let Some(op) = op else {
            return Ok(operand);
        };
        let span = start.to(operand.range);
        Ok(Ranged::of(Expr::new(
            ExprKind::Unary(op, Box::new(operand.expr)),
            span,
        )))
    }

    fn postfix(&mut self) -> Result<Ranged, LangError> {
        let mut e = self.operand()?;
        loop {
            let expr = match self.cur()? {
                Tok::Dot => {
                    self.advance()?;
                    let (name, span) = self.ident()?;
                    let key = Expr::new(ExprKind::Literal(Value::String(name)), span);
                    let full = e.range.to(span);
                    Expr::new(ExprKind::Index(Box::new(e.expr), Box::new(key)), full)
                }
                Tok::LBracket => {
                    self.open(true)?;
                    let key = self.expr()?;
                    self.close(Tok::RBracket, "']'")?;
                    let full = e.range.to(self.prev);
                    Expr::new(ExprKind::Index(Box::new(e.expr), Box::new(key)), full)
                }
                Tok::LParen => {
                    self.open(true)?;
                    let mut args = Vec::new();
                    while !self.is(&Tok::RParen)? {
                        args.push(self.item_or_end(&Tok::RParen, |p| p.expr())?);
                        // The newline at the end of the input may follow an
                        // argument or a comma, not the opening parenthesis.
                        self.skip_newlines()?;
                        if self.is(&Tok::Comma)? {
                            self.advance()?;
                            self.skip_newlines()?;
                        } else if !self.is(&Tok::RParen)? {
                            return Err(self.unexpected(Some("')'")));
                        }
                    }
                    self.close(Tok::RParen, "')'")?;
                    let full = e.range.to(self.prev);
                    Expr::new(
                        ExprKind::Call(Box::new(e.expr), args.into_boxed_slice()),
                        full,
                    )
                }
                _ => return Ok(e),
            };
            e = Ranged::of(expr);
        }
    }

    /// A primary expression, or one in parentheses: that one keeps its own
    /// location, while what is built around it spans the parentheses too
    /// (Icinga's grammar passes the inner expression up, and locates the
    /// enclosing rule by its symbols).
    fn operand(&mut self) -> Result<Ranged, LangError> {
        if !self.is(&Tok::LParen)? {
            return self.primary().map(Ranged::of);
        }
        let start = self.tok.span;
        if let Some(lambda) = self.try_lambda()? {
            return Ok(Ranged::of(lambda));
        }
        self.open(true)?;
        self.open_brackets += 1;
        let expr = self.expr()?;
        self.close_after_expr(Tok::RParen)?;
        self.open_brackets -= 1;
        Ok(Ranged {
            expr,
            range: start.to(self.prev),
        })
    }

    fn variable(&mut self, name: Str, span: Span) -> Expr {
        let imports = if self.imports.is_empty() {
            None
        } else {
            let shared = self
                .shared_imports
                .get_or_insert_with(|| Arc::new(self.imports.clone()))
                .clone();
            Some(shared)
        };
        Expr::new(ExprKind::Variable(name, imports), span)
    }

    fn primary(&mut self) -> Result<Expr, LangError> {
        let start = self.tok.span;
        let lit = |v: Value| ExprKind::Literal(v);
        match self.cur()?.clone() {
            Tok::Num(n) => {
                let t = self.advance()?;
                Ok(Expr::new(lit(Value::Number(n)), t.span))
            }
            Tok::Str(s) => {
                let t = self.advance()?;
                if self.is(&Tok::Arrow)? {
                    self.advance()?;
                    return self.lambda_body(vec![s], None, t.span);
                }
                Ok(Expr::new(lit(Value::String(s)), t.span))
            }
            Tok::True | Tok::False => {
                let t = self.advance()?;
                Ok(Expr::new(lit(Value::Bool(t.tok == Tok::True)), t.span))
            }
            Tok::Null => {
                let t = self.advance()?;
                Ok(Expr::new(lit(Value::Null), t.span))
            }
            Tok::CurrentFilename => {
                let t = self.advance()?;
                Ok(Expr::new(lit(Value::String(self.path.clone())), t.span))
            }
            Tok::CurrentLine => {
                let t = self.advance()?;
                Ok(Expr::new(
                    lit(Value::Number(t.span.first_line as f64)),
                    t.span,
                ))
            }
            Tok::This => Ok(Expr::new(ExprKind::This, self.advance()?.span)),
            Tok::Globals => Ok(Expr::new(ExprKind::Globals, self.advance()?.span)),
            Tok::Locals => Ok(Expr::new(ExprKind::Locals, self.advance()?.span)),
            Tok::Ident(name) => {
                let t = self.advance()?;
                if self.is(&Tok::Arrow)? {
                    self.advance()?;
                    return self.lambda_body(vec![name], None, t.span);
                }
                Ok(self.variable(name, t.span))
            }
            Tok::LBracket => {
                // Line breaks may follow `[` and `,` and precede `]`, but a
                // `,` may not start a line (Icinga's grammar).
                self.open(false)?;
                self.open_brackets += 1;
                let mut items = Vec::new();
                self.skip_newlines()?;
                while !self.is(&Tok::RBracket)? {
                    items.push(self.item_or_end(&Tok::RBracket, |p| p.expr())?);
                    if self.is(&Tok::Comma)? {
                        self.advance()?;
                        self.skip_newlines()?;
                    } else {
                        self.skip_newlines()?;
                        if !self.is(&Tok::RBracket)? {
                            return Err(self.unexpected(Some("']'")));
                        }
                    }
                }
                self.close(Tok::RBracket, "']'")?;
                self.open_brackets -= 1;
                Ok(Expr::new(ExprKind::Array(items), start.to(self.prev)))
            }
            Tok::LBrace => {
                self.open(false)?;
                // A dictionary literal has its own (empty) filter context.
                let saved = std::mem::take(&mut self.filters);
                let saved_scope = std::mem::replace(&mut self.this_scope, true);
                let stmts = self.statements(&Tok::RBrace, Effect::All);
                self.this_scope = saved_scope;
                self.filters = saved;
                let stmts = stmts?;
                self.close(Tok::RBrace, "'}'")?;
                Ok(Expr::new(ExprKind::Dict(stmts), start.to(self.prev)))
            }
            Tok::LLambda => {
                self.open(false)?;
                let saved = std::mem::take(&mut self.filters);
                let stmts = self.in_function(|p| p.statements(&Tok::RLambda, Effect::AllButLast));
                self.filters = saved;
                let stmts = stmts?;
                self.close(Tok::RLambda, "}} (T_NULLARY_LAMBDA_END)")?;
                let span = start.to(self.prev);
                let body = Arc::new(Expr::new(ExprKind::Block(stmts), span));
                let def = FunctionDef {
                    name: None,
                    params: Vec::new(),
                    captures: None,
                    body,
                };
                Ok(Expr::new(ExprKind::Function(Arc::new(def)), span))
            }
            Tok::Function => self.function_expr(false),
            Tok::If => self.if_expr(),
            Tok::While => {
                self.advance()?;
                self.expect_open_paren()?;
                let cond = self.expr()?;
                self.close_after_expr(Tok::RParen)?;
                let body = self.loop_body()?;
                Ok(Expr::new(
                    ExprKind::While(Box::new(cond), Box::new(body)),
                    start.to(self.prev),
                ))
            }
            Tok::For => {
                self.advance()?;
                self.expect_open_paren()?;
                let (key, value) = self.for_vars()?;
                self.expect(Tok::In, "in (T_IN)")?;
                let iter = self.expr()?;
                self.close_after_expr(Tok::RParen)?;
                let body = self.loop_body()?;
                Ok(Expr::new(
                    ExprKind::For(Box::new(ForLoop {
                        key,
                        value,
                        iter,
                        body,
                    })),
                    start.to(self.prev),
                ))
            }
            _ => Err(self.unexpected(None)),
        }
    }

    fn expect_open_paren(&mut self) -> Result<(), LangError> {
        if !self.is(&Tok::LParen)? {
            return Err(self.unexpected(Some("'('")));
        }
        self.open(true)?;
        Ok(())
    }

    fn if_expr(&mut self) -> Result<Expr, LangError> {
        let start = self.advance()?.span;
        self.expect_open_paren()?;
        let cond = self.expr()?;
        self.close_after_expr(Tok::RParen)?;
        let then = self.scope_block(Effect::AllButLast)?;
        let otherwise = if self.tok.tok == Tok::Else {
            self.advance()?;
            match self.cur()? {
                Tok::If => Some(Box::new(self.if_expr()?)),
                Tok::LBrace => Some(Box::new(self.scope_block(Effect::AllButLast)?)),
                _ => return Err(self.unexpected(Some("if (T_IF) or '{'"))),
            }
        } else {
            None
        };
        Ok(Expr::new(
            ExprKind::If(Box::new(cond), Box::new(then), otherwise),
            start.to(self.prev),
        ))
    }

    /// `(a, b) [use (...)] => body`, if that is what follows; otherwise the
    /// parser is left where it was.
    fn try_lambda(&mut self) -> Result<Option<Expr>, LangError> {
        let cp = self.checkpoint();
        let start = self.tok.span;
        self.open(true)?;
        let mut params = Vec::new();
        loop {
            match self.cur()?.clone() {
                Tok::RParen => break,
                Tok::Ident(name) | Tok::Str(name) => {
                    self.advance()?;
                    params.push(name);
                    match self.cur()? {
                        Tok::Comma => {
                            self.advance()?;
                        }
                        Tok::RParen => {}
                        _ => {
                            self.restore(cp);
                            return Ok(None);
                        }
                    }
                }
                _ => {
                    self.restore(cp);
                    return Ok(None);
                }
            }
        }
        self.close(Tok::RParen, "')'")?;
        if !matches!(self.tok.tok, Tok::Arrow | Tok::Use) {
            self.restore(cp);
            return Ok(None);
        }
        let captures = self.captures()?;
        self.expect(Tok::Arrow, "=> (T_FOLLOWS)")?;
        self.lambda_body(params, captures, start).map(Some)
    }

    fn lambda_body(
        &mut self,
        params: Vec<Str>,
        captures: Option<Vec<Capture>>,
        start: Span,
    ) -> Result<Expr, LangError> {
        let body = if self.is(&Tok::LBrace)? {
            self.in_function(|p| p.scope_block(Effect::AllButLast))?
        } else {
            self.in_function(|p| p.expr())?
        };
        let span = start.to(self.prev);
        let def = FunctionDef {
            name: None,
            params,
            captures,
            body: Arc::new(body),
        };
        Ok(Expr::new(ExprKind::Function(Arc::new(def)), span))
    }

    /// `function [name](params) [use (...)] { body }`; only a statement may
    /// name the function.
    fn function_expr(&mut self, named: bool) -> Result<Expr, LangError> {
        let start = self.advance()?.span;
        let name = match self.cur()?.clone() {
            Tok::Ident(name) | Tok::Str(name) if named => {
                self.advance()?;
                Some(name)
            }
            _ => None,
        };
        self.expect_open_paren()?;
        let mut params = Vec::new();
        while !self.is(&Tok::RParen)? {
            // Where a parameter may start, Icinga expects ')' (a trailing
            // comma is allowed).
            if !matches!(self.cur()?, Tok::Ident(_) | Tok::Str(_)) {
                return Err(self.unexpected(Some("')'")));
            }
            params.push(self.name()?.0);
            if self.is(&Tok::Comma)? {
                self.advance()?;
            } else if !self.is(&Tok::RParen)? {
                return Err(self.unexpected(Some("')'")));
            }
        }
        self.close(Tok::RParen, "')'")?;
        let captures = self.captures()?;
        let saved = std::mem::take(&mut self.filters);
        let body = self.in_function(|p| p.scope_block(Effect::AllButLast));
        self.filters = saved;
        let body = body?;
        let def = FunctionDef {
            name,
            params,
            captures,
            body: Arc::new(body),
        };
        Ok(Expr::new(
            ExprKind::Function(Arc::new(def)),
            start.to(self.prev),
        ))
    }
}

/// An expression and the source range it was parsed from, which is larger
/// when it stands in parentheses.
struct Ranged {
    expr: Expr,
    range: Span,
}

impl Ranged {
    fn of(expr: Expr) -> Ranged {
        Ranged {
            range: expr.span,
            expr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Result<Expr, LangError> {
        parse_file(src, FileId(0), "test.conf")
    }

    #[test]
    fn precedence_of_arithmetic() {
        let e = parse("1 + 2 * 3").expect("parse");
        let ExprKind::Block(stmts) = e.kind else {
            panic!("block")
        };
        assert!(matches!(
            stmts[0].kind,
            ExprKind::Binary(BinaryOp::Add, _, _)
        ));
    }

    #[test]
    fn newline_after_operator_is_an_error() {
        let err = parse("a = 1 +\n2").expect_err("must fail");
        assert_eq!(err.message, "syntax error, unexpected new-line");
    }

    #[test]
    fn apply_needs_assign_or_for() {
        let err = parse("apply Service \"x\" { check_command = \"c\" }").expect_err("must fail");
        assert_eq!(err.message, "'apply' is missing 'assign'/'for'");
    }

    #[test]
    fn lambdas_and_parentheses() {
        assert!(parse("f = (x, y) => x + y\ng = (1 + 2) * 3\nh = x => x\nk = {{ 3 }}").is_ok());
    }
}
