//! `picket`: the command line and the wiring of the library crates.

mod cli;
mod log;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than glibc's allocator: loading a large configuration
/// makes millions of small allocations, which it serves faster and with
/// less fragmentation (measured in bench/validate.sh).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    log::install();
    // Configuration evaluation recurses with the nesting of the input; give
    // it a stack that the evaluator's own depth limits cannot exhaust.
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || cli::run(args));
    match worker.map(|h| h.join()) {
        Ok(Ok(Ok(code))) => code,
        Ok(Ok(Err(e))) => {
            log::critical("cli", &format!("{e:#}"));
            ExitCode::FAILURE
        }
        _ => {
            log::critical(
                "cli",
                "internal error: the worker thread stopped unexpectedly",
            );
            ExitCode::FAILURE
        }
    }
}
