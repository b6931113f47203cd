//! Command lines from configuration written in Icinga's language, checked
//! for the rules Icinga 2 documents; the conformance with the real Icinga
//! 2 is in the fixture test.

use std::sync::Arc;

use picket_checker::command_line::{build, CommandLineError};
use picket_checker::macros::{Resolvers, Source};
use picket_lang::{Context, Value};

/// Evaluates `expr` (a dictionary literal) in a fresh context.
fn eval(ctx: &Context, expr: &str) -> Value {
    let file = ctx.sources.add("test", expr);
    let ast = picket_lang::parser::parse_expression(expr, file, "test")
        .unwrap_or_else(|e| panic!("{expr}: {e:?}"));
    let mut interp = picket_lang::Interp::new(ctx);
    let mut frame = interp.top_frame();
    interp
        .run(&mut frame, &ast)
        .unwrap_or_else(|e| panic!("{expr}: {e:?}"))
}

fn line(service: &str, host: &str, command: &str) -> Result<Vec<String>, CommandLineError> {
    let ctx = Arc::new(Context::new(|_| {}));
    let service = eval(&ctx, service);
    let host = eval(&ctx, host);
    let command = eval(&ctx, command);
    let get = |v: &Value, k: &str| match v {
        Value::Dict(d) => d.get(k).unwrap_or_default(),
        _ => Value::Null,
    };
    let resolvers = Resolvers {
        sources: vec![
            Source {
                name: "service",
                object: service,
            },
            Source {
                name: "host",
                object: host,
            },
            Source {
                name: "command",
                object: command.clone(),
            },
        ],
        runtime: None,
    };
    build(
        &get(&command, "command"),
        &get(&command, "arguments"),
        &Value::Null,
        &resolvers,
        &ctx,
    )
    .map(|c| c.argv)
}

#[test]
fn documented_examples() {
    let host = r#"{ name = "router", address = "10.0.0.1", vars = { postgres_unixsocket = false, list = [ "a", "b" ] } }"#;
    let argv = line(
        r#"{ name = "ping", vars = { ping_packets = 10 } }"#,
        host,
        r#"{ command = [ "/p/check_ping" ], arguments = {
              "-H" = "$ping_address$"
              "-w" = "$ping_wrta$,$ping_wpl$%"
              "-p" = "$ping_packets$"
              "--sni" = { set_if = "$http_sni$" }
              "-a" = { value = "$list$", repeat_key = false, order = 5 }
              "-b" = { value = "$list$", order = 6 }
              "--first" = { value = "x", order = -5 }
              "--sep" = { value = "v", separator = "=", order = 7 }
              "--skip" = { value = "positional", skip_key = true, order = 8 }
              "--key" = { value = "k", key = "-K", order = 9 }
              "-U" = { value = "$missing$" }
              "--postgres" = { value = "h", set_if = {{ macro("$postgres_unixsocket$") == false }}, order = 10 }
            }, vars = { ping_address = "$address$", ping_wrta = 100, ping_wpl = 5, ping_packets = 5 } }"#,
    )
    .unwrap();
    assert_eq!(
        argv,
        [
            "/p/check_ping",
            "--first",
            "x",
            "-H",
            "10.0.0.1",
            "-p",
            "10",
            "-w",
            "100,5%",
            "-a",
            "a",
            "b",
            "-b",
            "a",
            "-b",
            "b",
            "--sep=v",
            "positional",
            "-K",
            "k",
            "--postgres",
            "h"
        ]
    );
}

#[test]
fn required_missing_and_dollar_escapes() {
    let e = line(
        "{ name = \"s\" }",
        "{ name = \"h\" }",
        r#"{ command = [ "/p/x" ], arguments = { "-H" = { value = "$nope$", required = true } } }"#,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Non-optional macro 'nope' used in argument '-H' is missing."
    );
    let argv = line(
        "{ name = \"s\" }",
        "{ name = \"h\" }",
        r#"{ command = [ "/p/x", "cost $$5", "$host.name$!$service.name$" ] }"#,
    )
    .unwrap();
    assert_eq!(argv, ["/p/x", "cost $5", "h!s"]);
    let e = line("{}", "{}", r#"{ command = [ "/p/x", "broken $macro" ] }"#).unwrap_err();
    assert_eq!(e.to_string(), "Closing $ not found in macro format string.");
}

#[test]
fn clock_macros() {
    let ctx = Arc::new(Context::new(|_| {}));
    let resolvers = Resolvers {
        sources: vec![Source {
            name: "icinga",
            object: Value::Null,
        }],
        runtime: Some(Arc::new(picket_checker::macros::Clock)),
    };
    let v = resolvers
        .resolve(
            &ctx,
            &Value::from("$icinga.timet$ $icinga.date$ $icinga.short_date_time$"),
        )
        .unwrap();
    assert!(v.missing.is_empty());
    let text = v.value.to_display();
    let parts: Vec<&str> = text.split(' ').collect();
    let t: i64 = parts[0].parse().unwrap();
    assert!((t - chrono::Utc::now().timestamp()).abs() < 5, "{text}");
    assert_eq!(parts[1].len(), 10);
    assert_eq!(parts[1], parts[2]);
}
