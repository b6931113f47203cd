//! Loads a configuration and prints the resident memory after each phase:
//! a diagnostic for the memory figures of `bench/validate.sh`.
//!
//!     cargo run --release -p picket-model --example load_stats -- FILE [-DNAME=VALUE ...]

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(config) = args.next() else {
        eprintln!("usage: load_stats FILE [-DNAME=VALUE ...]");
        std::process::exit(2);
    };
    let defines = args
        .filter_map(|a| {
            a.strip_prefix("-D")
                .and_then(|d| d.split_once('=').map(|(k, v)| (k.into(), v.into())))
        })
        .collect();
    let options = picket_model::LoadOptions {
        config: config.into(),
        include_dirs: Vec::new(),
        packages: None,
        defines,
    };
    let start = std::time::Instant::now();
    println!("start: {:.0} MiB", rss_mib());
    let mut loaded = picket_model::run_files(&options, |_| {});
    println!(
        "files run: {:.0} MiB, {:.2} s",
        rss_mib(),
        start.elapsed().as_secs_f64()
    );
    loaded.commit();
    println!(
        "committed: {:.0} MiB, {:.2} s, {} errors",
        rss_mib(),
        start.elapsed().as_secs_f64(),
        loaded.errors.len()
    );
}
