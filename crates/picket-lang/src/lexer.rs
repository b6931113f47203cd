//! Turns configuration text into tokens.
//!
//! Newlines are tokens: they end statements inside `{ }` and at the top level,
//! and the parser skips them inside `( )` and `[ ]`. The lexer is pulled one
//! token at a time and is cheap to copy, which is how the parser looks ahead
//! (a lambda's parameter list and a parenthesised expression start alike).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use rustc_hash::FxHashSet;

use crate::error::{ErrorKind, LangError};
use crate::source::{FileId, Span};
use crate::value::Str;

/// A token's kind and payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Newline,
    Ident(Arc<str>),
    Str(Arc<str>),
    /// `<itl>` after `include`: a name to look up on the include search path.
    AngleStr(Arc<str>),
    Num(f64),
    // Keywords.
    Object,
    Template,
    Include,
    IncludeRecursive,
    IncludeZones,
    Library,
    Null,
    True,
    False,
    Const,
    Var,
    This,
    Globals,
    Locals,
    Use,
    Using,
    Default,
    IgnoreOnError,
    CurrentFilename,
    CurrentLine,
    Apply,
    To,
    Where,
    Import,
    Assign,
    Ignore,
    Function,
    Return,
    Break,
    Continue,
    For,
    If,
    Else,
    While,
    Throw,
    Try,
    Except,
    In,
    NotIn,
    Namespace,
    Debugger,
    // Punctuation.
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    /// `{{`: the start of an abbreviated lambda.
    LLambda,
    /// `}}`
    RLambda,
    Comma,
    Semicolon,
    Colon,
    Dot,
    Question,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Amp,
    Pipe,
    Caret,
    Tilde,
    Bang,
    AndAnd,
    OrOr,
    EqEq,
    NotEq,
    Lt,
    Gt,
    Le,
    Ge,
    Shl,
    Shr,
    Set,
    SetAdd,
    SetSub,
    SetMul,
    SetDiv,
    SetMod,
    SetOr,
    SetAnd,
    SetXor,
    Arrow,
    Eof,
}

impl Tok {
    /// How Icinga's parser names the token in `syntax error, unexpected ...`.
    pub fn describe(&self) -> String {
        let kw = |word: &str, name: &str| format!("{word} ({name})");
        match self {
            Tok::Newline => "new-line".into(),
            Tok::Ident(_) => "T_IDENTIFIER".into(),
            Tok::Str(_) => "T_STRING".into(),
            Tok::AngleStr(_) => "T_STRING_ANGLE".into(),
            Tok::Num(_) => "T_NUMBER".into(),
            Tok::Object => kw("object", "T_OBJECT"),
            Tok::Template => kw("template", "T_TEMPLATE"),
            Tok::Include => kw("include", "T_INCLUDE"),
            Tok::IncludeRecursive => kw("include_recursive", "T_INCLUDE_RECURSIVE"),
            Tok::IncludeZones => kw("include_zones", "T_INCLUDE_ZONES"),
            Tok::Library => kw("library", "T_LIBRARY"),
            Tok::Null => "T_NULL".into(),
            Tok::True | Tok::False => "T_BOOLEAN".into(),
            Tok::Const => kw("const", "T_CONST"),
            Tok::Var => kw("var", "T_VAR"),
            Tok::This => kw("this", "T_THIS"),
            Tok::Globals => kw("globals", "T_GLOBALS"),
            Tok::Locals => kw("locals", "T_LOCALS"),
            Tok::Use => kw("use", "T_USE"),
            Tok::Using => kw("using", "T_USING"),
            Tok::Default => kw("default", "T_DEFAULT"),
            Tok::IgnoreOnError => kw("ignore_on_error", "T_IGNORE_ON_ERROR"),
            Tok::CurrentFilename => kw("current_filename", "T_CURRENT_FILENAME"),
            Tok::CurrentLine => kw("current_line", "T_CURRENT_LINE"),
            Tok::Apply => kw("apply", "T_APPLY"),
            Tok::To => kw("to", "T_TO"),
            Tok::Where => kw("where", "T_WHERE"),
            Tok::Import => kw("import", "T_IMPORT"),
            Tok::Assign => kw("assign", "T_ASSIGN"),
            Tok::Ignore => kw("ignore", "T_IGNORE"),
            Tok::Function => kw("function", "T_FUNCTION"),
            Tok::Return => kw("return", "T_RETURN"),
            Tok::Break => kw("break", "T_BREAK"),
            Tok::Continue => kw("continue", "T_CONTINUE"),
            Tok::For => kw("for", "T_FOR"),
            Tok::If => kw("if", "T_IF"),
            Tok::Else => kw("else", "T_ELSE"),
            Tok::While => kw("while", "T_WHILE"),
            Tok::Throw => kw("throw", "T_THROW"),
            Tok::Try => kw("try", "T_TRY"),
            Tok::Except => kw("except", "T_EXCEPT"),
            Tok::In => kw("in", "T_IN"),
            Tok::NotIn => kw("!in", "T_NOT_IN"),
            Tok::Namespace => kw("namespace", "T_NAMESPACE"),
            Tok::Debugger => kw("debugger", "T_DEBUGGER"),
            Tok::LParen => "'('".into(),
            Tok::RParen => "')'".into(),
            Tok::LBracket => "'['".into(),
            Tok::RBracket => "']'".into(),
            Tok::LBrace => "'{'".into(),
            Tok::RBrace => "'}'".into(),
            Tok::LLambda => "{{ (T_NULLARY_LAMBDA_BEGIN)".into(),
            Tok::RLambda => "}} (T_NULLARY_LAMBDA_END)".into(),
            Tok::Comma => "','".into(),
            Tok::Semicolon => "';'".into(),
            Tok::Colon => "':'".into(),
            Tok::Dot => "'.'".into(),
            Tok::Question => "'?'".into(),
            Tok::Plus => "+ (T_PLUS)".into(),
            Tok::Minus => "- (T_MINUS)".into(),
            Tok::Star => "* (T_MULTIPLY)".into(),
            Tok::Slash => "/ (T_DIVIDE_OP)".into(),
            Tok::Percent => "% (T_MODULO)".into(),
            Tok::Amp => "& (T_BINARY_AND)".into(),
            Tok::Pipe => "| (T_BINARY_OR)".into(),
            Tok::Caret => "^ (T_XOR)".into(),
            Tok::Tilde => "~ (T_BINARY_NOT)".into(),
            Tok::Bang => "! (T_LOGICAL_NOT)".into(),
            Tok::AndAnd => "&& (T_LOGICAL_AND)".into(),
            Tok::OrOr => "|| (T_LOGICAL_OR)".into(),
            Tok::EqEq => "== (T_EQUAL)".into(),
            Tok::NotEq => "!= (T_NOT_EQUAL)".into(),
            Tok::Lt => "< (T_LESS_THAN)".into(),
            Tok::Gt => "> (T_GREATER_THAN)".into(),
            Tok::Le => "<= (T_LESS_THAN_OR_EQUAL)".into(),
            Tok::Ge => ">= (T_GREATER_THAN_OR_EQUAL)".into(),
            Tok::Shl => "<< (T_SHIFT_LEFT)".into(),
            Tok::Shr => ">> (T_SHIFT_RIGHT)".into(),
            Tok::Set => "= (T_SET)".into(),
            Tok::SetAdd => "+= (T_SET_ADD)".into(),
            Tok::SetSub => "-= (T_SET_SUBTRACT)".into(),
            Tok::SetMul => "*= (T_SET_MULTIPLY)".into(),
            Tok::SetDiv => "/= (T_SET_DIVIDE)".into(),
            Tok::SetMod => "%= (T_SET_MODULO)".into(),
            Tok::SetOr => "|= (T_SET_BINARY_OR)".into(),
            Tok::SetAnd => "&= (T_SET_BINARY_AND)".into(),
            Tok::SetXor => "^= (T_SET_XOR)".into(),
            Tok::Arrow => "=> (T_FOLLOWS)".into(),
            Tok::Eof => "end of file".into(),
        }
    }
}

fn keyword(word: &str) -> Option<Tok> {
    Some(match word {
        "object" => Tok::Object,
        "template" => Tok::Template,
        "include" => Tok::Include,
        "include_recursive" => Tok::IncludeRecursive,
        "include_zones" => Tok::IncludeZones,
        "library" => Tok::Library,
        "null" => Tok::Null,
        "true" => Tok::True,
        "false" => Tok::False,
        "const" => Tok::Const,
        "var" => Tok::Var,
        "this" => Tok::This,
        "globals" => Tok::Globals,
        "locals" => Tok::Locals,
        "use" => Tok::Use,
        "using" => Tok::Using,
        "default" => Tok::Default,
        "ignore_on_error" => Tok::IgnoreOnError,
        "current_filename" => Tok::CurrentFilename,
        "current_line" => Tok::CurrentLine,
        "apply" => Tok::Apply,
        "to" => Tok::To,
        "where" => Tok::Where,
        "import" => Tok::Import,
        "assign" => Tok::Assign,
        "ignore" => Tok::Ignore,
        "function" => Tok::Function,
        "return" => Tok::Return,
        "break" => Tok::Break,
        "continue" => Tok::Continue,
        "for" => Tok::For,
        "if" => Tok::If,
        "else" => Tok::Else,
        "while" => Tok::While,
        "throw" => Tok::Throw,
        "try" => Tok::Try,
        "except" => Tok::Except,
        "in" => Tok::In,
        "namespace" => Tok::Namespace,
        "debugger" => Tok::Debugger,
        _ => return None,
    })
}

/// A token and where it is.
#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
    /// The newline Icinga's lexer gives once at the end of the input, even
    /// where line breaks are ignored: the grammar takes it where it takes
    /// line breaks, and reports it as unexpected elsewhere.
    pub at_end: bool,
}

/// Position of the lexer; copying it is how the parser backtracks.
#[derive(Debug, Clone)]
pub struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    line: u32,
    col: u32,
    file: FileId,
    /// Names and strings seen so far in this file, shared by every token
    /// that spells them: a file with 100,000 `vars` keeps one copy.
    interned: Rc<RefCell<FxHashSet<Str>>>,
    /// Where the last token ended and where it was: the newline at the end
    /// of the input takes its place when nothing came between them.
    last: Option<(usize, Span)>,
    /// The newline at the end of the input has been given.
    ended: bool,
}

/// Strings longer than this are not worth a lookup: they are rarely
/// repeated.
const INTERN_MAX: usize = 64;

impl<'s> Lexer<'s> {
    pub fn new(src: &'s str, file: FileId) -> Self {
        // Icinga counts columns from 0 on the first line and from 1 after
        // every newline; positions in messages follow it.
        Lexer {
            src,
            pos: 0,
            line: 1,
            col: 0,
            file,
            interned: Rc::default(),
            last: None,
            ended: false,
        }
    }

    fn intern(&self, text: &str) -> Str {
        if text.len() > INTERN_MAX {
            return text.into();
        }
        let mut set = self.interned.borrow_mut();
        if let Some(s) = set.get(text) {
            return s.clone();
        }
        let s: Str = text.into();
        set.insert(s.clone());
        s
    }

    fn peek_byte(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.as_bytes().get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.src[self.pos..].chars().next()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    fn span_from(&self, line: u32, col: u32) -> Span {
        let last_column = self.col.saturating_sub(1);
        Span {
            file: self.file,
            first_line: line,
            first_column: col,
            last_line: self.line,
            last_column: if self.line == line {
                last_column.max(col)
            } else {
                last_column
            },
        }
    }

    fn error(&self, line: u32, col: u32, message: impl Into<String>) -> LangError {
        LangError::new(ErrorKind::Syntax, message, Some(self.span_from(line, col)))
    }

    /// Where the end of the input is, as Icinga reports it: the column
    /// before the current one.
    fn eof_span(&self) -> Span {
        let col = self.col.saturating_sub(1);
        Span {
            file: self.file,
            first_line: self.line,
            first_column: col,
            last_line: self.line,
            last_column: col,
        }
    }

    /// Skips blanks and comments; stops at a newline, which is a token.
    fn skip_trivia(&mut self) -> Result<(), LangError> {
        loop {
            match self.peek_byte() {
                Some(b' ' | b'\t' | b'\r' | 0x0b | 0x0c) => {
                    self.bump();
                }
                Some(b'#') => self.skip_line(),
                Some(b'/') if self.peek_at(1) == Some(b'/') => self.skip_line(),
                Some(b'/') if self.peek_at(1) == Some(b'*') => {
                    self.bump();
                    self.bump();
                    loop {
                        match self.peek_byte() {
                            None => {
                                return Err(LangError::new(
                                    ErrorKind::Syntax,
                                    "End-of-file while in comment",
                                    Some(self.eof_span()),
                                ))
                            }
                            Some(b'*') if self.peek_at(1) == Some(b'/') => {
                                self.bump();
                                self.bump();
                                break;
                            }
                            _ => {
                                self.bump();
                            }
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn skip_line(&mut self) {
        while let Some(b) = self.peek_byte() {
            if b == b'\n' {
                break;
            }
            self.bump();
        }
    }

    pub fn next_token(&mut self) -> Result<Token, LangError> {
        self.skip_trivia()?;
        let (line, col) = (self.line, self.col);
        // Icinga's lexer stops at the first byte outside ASCII (outside a
        // string or comment) as if the input ended there.
        let Some(b) = self.peek_byte().filter(u8::is_ascii) else {
            if !self.ended {
                self.ended = true;
                let span = match self.last {
                    Some((end, span)) if end == self.pos => span,
                    _ => self.eof_span(),
                };
                return Ok(Token {
                    tok: Tok::Newline,
                    span,
                    at_end: true,
                });
            }
            return Ok(Token {
                tok: Tok::Eof,
                span: self.eof_span(),
                at_end: false,
            });
        };
        let tok = match b {
            b'\n' => {
                self.bump();
                // Icinga places a newline at column 0 of the line it ends.
                let span = Span {
                    file: self.file,
                    first_line: line + 1,
                    first_column: 0,
                    last_line: line + 1,
                    last_column: 0,
                };
                self.last = Some((self.pos, span));
                return Ok(Token {
                    tok: Tok::Newline,
                    span,
                    at_end: false,
                });
            }
            b'"' => self.string(line, col)?,
            b'<' if self.angle_string_ahead() => match self.angle_string() {
                Some(t) => t,
                None => self.operator(line, col)?,
            },
            b'{' if self.src[self.pos..].starts_with("{{{") => self.multiline_string(line, col)?,
            b'0'..=b'9' => self.number(line, col)?,
            b'@' => {
                self.bump();
                match self.peek_byte() {
                    Some(c) if c.is_ascii_alphabetic() || c == b'_' => Tok::Ident({
                        let w = self.word();
                        self.intern(w)
                    }),
                    _ => return Err(self.error(line, col, "syntax error, unexpected '@'")),
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let word = self.word();
                match keyword(word) {
                    Some(tok) => tok,
                    None => Tok::Ident(self.intern(word)),
                }
            }
            _ => self.operator(line, col)?,
        };
        let span = self.span_from(line, col);
        self.last = Some((self.pos, span));
        Ok(Token {
            tok,
            span,
            at_end: false,
        })
    }

    fn angle_string_ahead(&self) -> bool {
        let rest = &self.src.as_bytes()[self.pos + 1..];
        matches!(rest.iter().position(|&c| c == b'>' || c == b' ' || c == b'\t'), Some(i) if rest[i] == b'>')
    }

    fn word(&mut self) -> &'s str {
        let start = self.pos;
        while let Some(c) = self.peek_byte() {
            if c.is_ascii_alphanumeric() || c == b'_' {
                self.bump();
            } else {
                break;
            }
        }
        &self.src[start..self.pos]
    }

    fn number(&mut self, line: u32, col: u32) -> Result<Tok, LangError> {
        let start = self.pos;
        while matches!(self.peek_byte(), Some(b'0'..=b'9')) {
            self.bump();
        }
        if self.peek_byte() == Some(b'.') && matches!(self.peek_at(1), Some(b'0'..=b'9')) {
            self.bump();
            while matches!(self.peek_byte(), Some(b'0'..=b'9')) {
                self.bump();
            }
        }
        let digits = &self.src[start..self.pos];
        let value: f64 = digits
            .parse()
            .map_err(|_| self.error(line, col, "Invalid number"))?;
        let rest = &self.src[self.pos..];
        // Longest match, like Icinga's lexer: `2min` is `2m` followed by `in`.
        let unit = |suffix: &str| rest.starts_with(suffix);
        let (factor, len) = if unit("ms") {
            (0.001, 2)
        } else if unit("s") {
            (1.0, 1)
        } else if unit("m") {
            (60.0, 1)
        } else if unit("h") {
            (3600.0, 1)
        } else if unit("d") {
            (86400.0, 1)
        } else {
            (1.0, 0)
        };
        for _ in 0..len {
            self.bump();
        }
        Ok(Tok::Num(value * factor))
    }

    fn string(&mut self, line: u32, col: u32) -> Result<Tok, LangError> {
        self.bump();
        // Icinga's strings are bytes: octal escapes can produce any byte,
        // and the result is read as UTF-8 (invalid sequences replaced).
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(LangError::new(
                    ErrorKind::Syntax,
                    "End-of-file while in string literal",
                    Some(self.eof_span()),
                ));
            };
            match c {
                '"' => break,
                '\n' => return Err(self.error(line, col, "Unterminated string literal")),
                '\\' => {
                    let (eline, ecol) = (self.line, self.col.saturating_sub(1));
                    let Some(e) = self.bump() else {
                        return Err(LangError::new(
                            ErrorKind::Syntax,
                            "End-of-file while in string literal",
                            Some(self.eof_span()),
                        ));
                    };
                    match e {
                        'n' => out.push(b'\n'),
                        't' => out.push(b'\t'),
                        'r' => out.push(b'\r'),
                        'b' => out.push(8),
                        'f' => out.push(12),
                        '0'..='9' => {
                            // The longest run of digits is the escape; up to
                            // three octal digits are a byte, anything else is
                            // refused (as Icinga's lexer does).
                            let mut digits = String::from(e);
                            while let Some(d @ b'0'..=b'9') = self.peek_byte() {
                                digits.push(d as char);
                                self.bump();
                            }
                            if digits.len() > 3 || digits.contains(['8', '9']) {
                                return Err(self.error(
                                    eline,
                                    ecol,
                                    format!("Bad escape sequence found: \\{digits}"),
                                ));
                            }
                            let n = u32::from_str_radix(&digits, 8).unwrap_or(256);
                            if n > 0xff {
                                return Err(self.error(
                                    eline,
                                    ecol,
                                    format!("Constant is out of bounds: \\{digits}"),
                                ));
                            }
                            out.push(n as u8);
                        }
                        '"' | '\\' => out.push(e as u8),
                        // A backslash before a line break continues the string
                        // on the next line, keeping the line break.
                        '\n' => out.push(b'\n'),
                        other => {
                            return Err(self.error(
                                eline,
                                ecol,
                                format!("Bad escape sequence found: \\{other}"),
                            ))
                        }
                    }
                }
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        Ok(Tok::Str(self.intern(&String::from_utf8_lossy(&out))))
    }

    fn multiline_string(&mut self, line: u32, col: u32) -> Result<Tok, LangError> {
        let _ = (line, col);
        for _ in 0..3 {
            self.bump();
        }
        let rest = &self.src[self.pos..];
        let Some(end) = rest.find("}}}") else {
            while self.bump().is_some() {}
            return Err(LangError::new(
                ErrorKind::Syntax,
                "End-of-file while in string literal",
                Some(self.eof_span()),
            ));
        };
        let text: Arc<str> = rest[..end].into();
        let stop = self.pos + end;
        while self.pos < stop {
            self.bump();
        }
        for _ in 0..3 {
            self.bump();
        }
        Ok(Tok::Str(text))
    }

    /// `<name>`: anywhere a `<` is followed by a `>` with no blank in between,
    /// Icinga's lexer reads a search-path name (so `1<2>3` is a syntax error
    /// there too).
    fn angle_string(&mut self) -> Option<Tok> {
        let rest = &self.src.as_bytes()[self.pos + 1..];
        let end = rest
            .iter()
            .position(|&c| c == b'>' || c == b' ' || c == b'\t')?;
        if rest[end] != b'>' {
            return None;
        }
        let name: Arc<str> = self.src[self.pos + 1..self.pos + 1 + end].into();
        for _ in 0..end + 2 {
            self.bump();
        }
        Some(Tok::AngleStr(name))
    }

    fn operator(&mut self, line: u32, col: u32) -> Result<Tok, LangError> {
        const OPS: &[(&str, Tok)] = &[
            ("!in", Tok::NotIn),
            ("{{", Tok::LLambda),
            ("}}", Tok::RLambda),
            ("&&", Tok::AndAnd),
            ("||", Tok::OrOr),
            ("==", Tok::EqEq),
            ("!=", Tok::NotEq),
            ("<=", Tok::Le),
            (">=", Tok::Ge),
            ("<<", Tok::Shl),
            (">>", Tok::Shr),
            ("=>", Tok::Arrow),
            ("+=", Tok::SetAdd),
            ("-=", Tok::SetSub),
            ("*=", Tok::SetMul),
            ("/=", Tok::SetDiv),
            ("%=", Tok::SetMod),
            ("|=", Tok::SetOr),
            ("&=", Tok::SetAnd),
            ("^=", Tok::SetXor),
            ("(", Tok::LParen),
            (")", Tok::RParen),
            ("[", Tok::LBracket),
            ("]", Tok::RBracket),
            ("{", Tok::LBrace),
            ("}", Tok::RBrace),
            (",", Tok::Comma),
            (";", Tok::Semicolon),
            (":", Tok::Colon),
            (".", Tok::Dot),
            ("?", Tok::Question),
            ("+", Tok::Plus),
            ("-", Tok::Minus),
            ("*", Tok::Star),
            ("/", Tok::Slash),
            ("%", Tok::Percent),
            ("&", Tok::Amp),
            ("|", Tok::Pipe),
            ("^", Tok::Caret),
            ("~", Tok::Tilde),
            ("!", Tok::Bang),
            ("<", Tok::Lt),
            (">", Tok::Gt),
            ("=", Tok::Set),
        ];
        let rest = &self.src[self.pos..];
        for (text, tok) in OPS {
            if rest.starts_with(text) {
                for _ in 0..text.len() {
                    self.bump();
                }
                return Ok(tok.clone());
            }
        }
        let c = self.bump().unwrap_or('?');
        Err(self.error(line, col, format!("syntax error, unexpected '{c}'")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        let mut lx = Lexer::new(src, FileId(0));
        let mut out = Vec::new();
        loop {
            let t = lx.next_token().expect("lex");
            if t.tok == Tok::Eof || t.at_end {
                return out;
            }
            out.push(t.tok);
        }
    }

    #[test]
    fn durations_are_seconds() {
        assert_eq!(
            toks("5m 1.5h 10ms 2d 3s"),
            vec![
                Tok::Num(300.0),
                Tok::Num(5400.0),
                Tok::Num(0.01),
                Tok::Num(172800.0),
                Tok::Num(3.0)
            ]
        );
    }

    #[test]
    fn comments_of_every_kind_vanish() {
        assert_eq!(
            toks("a /* x \n y */ b // c\n# d\nc"),
            vec![
                Tok::Ident("a".into()),
                Tok::Ident("b".into()),
                Tok::Newline,
                Tok::Newline,
                Tok::Ident("c".into())
            ]
        );
    }

    #[test]
    fn strings_with_escapes_and_multiline() {
        assert_eq!(toks(r#""a\tb\"\101""#), vec![Tok::Str("a\tb\"A".into())]);
        assert_eq!(toks("{{{x\n\"y}}}"), vec![Tok::Str("x\n\"y".into())]);
    }

    #[test]
    fn include_angle_names() {
        assert_eq!(
            toks("include <itl>\na < b"),
            vec![
                Tok::Include,
                Tok::AngleStr("itl".into()),
                Tok::Newline,
                Tok::Ident("a".into()),
                Tok::Lt,
                Tok::Ident("b".into())
            ]
        );
    }

    #[test]
    fn spans_are_one_based_and_inclusive() {
        // Icinga's quirk: the first line counts from 0, later lines from 1.
        let mut lx = Lexer::new("  abc\n  abc", FileId(0));
        let t = lx.next_token().expect("lex");
        assert_eq!((t.span.first_column, t.span.last_column), (2, 4));
        lx.next_token().expect("newline");
        let t = lx.next_token().expect("lex");
        assert_eq!(
            (t.span.first_line, t.span.first_column, t.span.last_column),
            (2, 3, 5)
        );
    }
}
