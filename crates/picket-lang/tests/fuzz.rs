//! Property test standing in for a fuzzer: random token soups and random
//! text go through the lexer, the parser and (with a step budget) the
//! evaluator. Whatever the input, the result is a value or an error, never
//! a panic or a hang.

use picket_lang::eval::{Context, Frame, Interp};
use picket_lang::source::FileId;
use picket_lang::{parser, Dict, Value};
use proptest::prelude::*;

/// Tokens of the language; `include*`, `sleep` and file globbing are left
/// out so that random programs cannot touch the file system or stall.
const VOCABULARY: &[&str] = &[
    "object",
    "template",
    "apply",
    "Host",
    "Service",
    "to",
    "for",
    "in",
    "!in",
    "if",
    "else",
    "while",
    "break",
    "continue",
    "return",
    "function",
    "var",
    "const",
    "this",
    "globals",
    "locals",
    "use",
    "default",
    "ignore_on_error",
    "assign",
    "ignore",
    "where",
    "import",
    "namespace",
    "using",
    "try",
    "except",
    "throw",
    "null",
    "true",
    "false",
    "a",
    "b",
    "x",
    "vars",
    "len",
    "typeof",
    "keys",
    "string",
    "number",
    "match",
    "regex",
    "Math",
    "Json",
    "DateTime",
    "union",
    "log",
    "1",
    "0",
    "2.5",
    "5m",
    "3d",
    "\"s\"",
    "\"\"",
    "{{{m}}}",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "{{",
    "}}",
    ",",
    ";",
    ":",
    ".",
    "?",
    "+",
    "-",
    "*",
    "/",
    "%",
    "&",
    "|",
    "^",
    "~",
    "!",
    "&&",
    "||",
    "==",
    "!=",
    "<",
    ">",
    "<=",
    ">=",
    "<<",
    ">>",
    "=",
    "+=",
    "-=",
    "*=",
    "/=",
    "|=",
    "&=",
    "^=",
    "=>",
    "\n",
    "@if",
    "#c\n",
    "/*c*/",
];

fn program() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(VOCABULARY), 0..60).prop_map(|toks| toks.join(" "))
}

fn run(src: &str) {
    let ctx = Context::new(|_| {});
    let id = ctx.sources.add("fuzz.conf", src);
    if let Ok(ast) = parser::parse_file(src, id, "fuzz.conf") {
        let mut interp = Interp::new(&ctx).with_step_limit(20_000);
        let mut frame = Frame::new(Value::Dict(Dict::new()));
        let _ = interp.run(&mut frame, &ast);
    }
    let _ = FileId(0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn token_soup_never_panics(src in program()) {
        run(&src);
    }

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,200}") {
        run(&src);
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    run(&deep);
    let deep_unary = format!("{}1", "-".repeat(100_000));
    run(&deep_unary);
    let deep_dict = format!("x = {}{}", "{a=".repeat(50_000), "}".repeat(50_000));
    run(&deep_dict);
    run("function f(n) { f(n + 1) }; f(0)");
}

#[test]
fn long_chains_of_nested_values_drop_without_recursion() {
    let ctx = Context::new(|_| {});
    let src = "var d = {}; var a = []; var i = 0; while (i < 200000) { d = { x = d }; a = [ a ]; i += 1 }; \
               var s = Json.encode(d) + string(a); var c = d.clone(); [a] == [a]";
    let id = ctx.sources.add("chain.conf", src);
    let ast = parser::parse_file(src, id, "chain.conf").expect("parse");
    let mut interp = Interp::new(&ctx);
    let mut frame = Frame::new(Value::Dict(Dict::new()));
    assert!(interp.run(&mut frame, &ast).is_ok());
    drop(frame);
}
