//! `picket store ...`: reading and copying the event-sourced store of a
//! data directory. These commands only read the files, so they work while
//! the node runs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use picket_store::{Effect, HistoryEntry};

use crate::log;

#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// Check every record, both hash chains and the snapshots of every store.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// The audit trail of one aggregate: who did what, when, and what came of it.
    History {
        /// The store (for example `ca`).
        store: String,
        /// The aggregate.
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Copy the data directory consistently, while the node runs.
    Backup {
        /// Where the copy goes; must not exist yet.
        dir: PathBuf,
    },
}

pub fn run(command: StoreCommand, data_dir: &Path) -> anyhow::Result<ExitCode> {
    match command {
        StoreCommand::Verify { json } => verify(data_dir, json),
        StoreCommand::History { store, id, json } => history(data_dir, &store, &id, json),
        StoreCommand::Backup { dir } => backup(data_dir, &dir),
    }
}

fn verify(data_dir: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let v = picket_store::verify(data_dir)
        .with_context(|| format!("cannot verify {}", data_dir.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        for s in &v.stores {
            println!(
                "store '{}': {} records of {} aggregates in {} segments; head {}",
                s.store, s.records, s.aggregates, s.segments, s.head
            );
            if let Some(first) = s.first_segment.filter(|n| *n > 1) {
                println!("  history before segment {first} is not here (archived elsewhere); checked from there on");
            }
            if s.unfinished_tail {
                println!(
                    "  the log ends inside a write (in progress, or set aside at the next start)"
                );
            }
            for f in &s.findings {
                println!(
                    "  FAILED {} at byte {}: {}",
                    f.file.display(),
                    f.offset,
                    f.problem
                );
            }
            if s.findings.is_empty() {
                println!("  ok");
            }
        }
        if v.stores.is_empty() {
            println!("no stores in {}", data_dir.display());
        }
    }
    Ok(if v.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

fn effect_text(e: &Effect) -> String {
    match e {
        Effect::Init(_) => "created".into(),
        Effect::Events(events) => {
            let list: Vec<String> = events.iter().map(|e| e.to_string()).collect();
            format!(
                "{} event{}: {}",
                events.len(),
                if events.len() == 1 { "" } else { "s" },
                list.join(", ")
            )
        }
        Effect::Error(msg) => format!("refused: {msg}"),
    }
}

pub fn history(data_dir: &Path, store: &str, id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let names = picket_store::DataDir::inspect(data_dir)?;
    if !names.iter().any(|n| n == store) {
        anyhow::bail!(
            "no store '{store}' in {} (stores: {})",
            data_dir.display(),
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        );
    }
    let dir = data_dir.join("store").join(store);
    let entries: Vec<HistoryEntry> = picket_store::history(&dir, id)?;
    if entries.is_empty() {
        log::critical("cli", &format!("no history for '{id}' in store '{store}'"));
        return Ok(ExitCode::FAILURE);
    }
    if json {
        let out: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "version": e.version,
                    "time": time(e.time),
                    "actor": e.actor,
                    "command": e.command,
                    "effect": e.effect,
                    "hash": e.hash,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<[String; 5]> = entries
        .iter()
        .map(|e| {
            [
                e.version.to_string(),
                time(e.time),
                e.actor.to_string(),
                e.command.to_string(),
                effect_text(&e.effect),
            ]
        })
        .collect();
    let header = ["VERSION", "TIME", "ACTOR", "COMMAND", "EFFECT"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 4 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        println!("{}", s.trim_end());
    };
    line(header);
    for r in &rows {
        line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
    }
    Ok(ExitCode::SUCCESS)
}

fn backup(data_dir: &Path, dest: &Path) -> anyhow::Result<ExitCode> {
    let report = picket_store::backup(data_dir, dest).with_context(|| {
        format!(
            "cannot back {} up to {}",
            data_dir.display(),
            dest.display()
        )
    })?;
    log::info(
        "cli",
        &format!(
            "Copied {} files ({} bytes) of {} to {}.",
            report.files,
            report.bytes,
            data_dir.display(),
            dest.display()
        ),
    );
    for t in &report.trimmed {
        log::info(
            "cli",
            &format!("Left out of the copy to keep it consistent: {t}"),
        );
    }
    Ok(ExitCode::SUCCESS)
}
