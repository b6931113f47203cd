//! `picket object list`: the objects of the configuration with their
//! attributes and, for hosts and services, their live state. A running node
//! answers from memory (through its control socket); without one, the
//! configuration is loaded and the live state read from retention.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use picket_checker::scheduler::Config;
use picket_lang::json::to_serde;
use picket_model::monitor::{Entry, Monitor};
use picket_model::state::StateType;
use serde_json::{json, Map, Value as Json};

use super::control::{self, Request};
use super::{daemon, ConfigArgs};

#[derive(clap::Subcommand, Debug)]
pub enum ObjectCommand {
    /// List objects with their attributes and live state.
    List(ListArgs),
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Only objects of this type (Host, Service, CheckCommand, ...).
    #[arg(long = "type")]
    pub type_name: Option<String>,
    /// Only objects whose full name matches this pattern (`*` and `?`).
    #[arg(long)]
    pub name: Option<String>,
    /// One JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// The filter of a listing.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Filter {
    pub type_name: Option<String>,
    pub name: Option<String>,
}

fn live_attrs(entry: &Entry, attrs: &mut Map<String, Json>) {
    let l = &entry.live;
    let hard = |t: StateType| t as u8;
    let pairs = [
        ("state", json!(l.state)),
        ("state_type", json!(hard(l.state_type))),
        ("check_attempt", json!(l.check_attempt)),
        ("last_state", json!(l.last_state)),
        ("last_state_type", json!(hard(l.last_state_type))),
        ("last_hard_state", json!(l.last_hard_state)),
        ("last_state_change", json!(l.last_state_change)),
        ("last_hard_state_change", json!(l.last_hard_state_change)),
        ("last_check", json!(l.last_check)),
        ("next_check", json!(entry.next_check)),
        ("last_reachable", json!(l.last_reachable)),
        ("flapping", json!(l.flapping.is_flapping)),
        ("flapping_current", json!(l.flapping.current)),
        (
            "last_check_result",
            entry
                .last_result
                .as_ref()
                .and_then(|r| serde_json::to_value(r.as_ref()).ok())
                .unwrap_or(Json::Null),
        ),
    ];
    for (k, v) in pairs {
        attrs.insert(k.to_string(), v);
    }
}

/// The objects matching `filter`, as `{name, type, attrs}` documents.
pub fn render(monitor: &Monitor, config: &Config, filter: &Filter) -> Vec<Json> {
    let mut out = Vec::new();
    for schema in picket_model::types::ALL {
        if let Some(t) = &filter.type_name {
            if !t.eq_ignore_ascii_case(schema.name) {
                continue;
            }
        }
        for object in config.registry.committed(schema.name) {
            let name = object.full_name();
            if let Some(glob) = &filter.name {
                if !picket_lang::wildcard::wildcard_match(glob, &name) {
                    continue;
                }
            }
            let mut attrs = Map::new();
            for (field, value) in object.all_fields() {
                attrs.insert(field.to_string(), to_serde(&value));
            }
            if let Some(id) = monitor.find(&name) {
                if monitor.checkable(id).object.schema.name == schema.name {
                    live_attrs(monitor.entry(id), &mut attrs);
                }
            }
            out.push(json!({ "name": name, "type": schema.name, "attrs": attrs }));
        }
    }
    out
}

/// Icinga's `object list` layout.
fn print_text(objects: &[Json]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for o in objects {
        let _ = writeln!(
            out,
            "Object '{}' of type '{}':",
            o["name"].as_str().unwrap_or_default(),
            o["type"].as_str().unwrap_or_default()
        );
        let loc = &o["attrs"]["source_location"];
        if let Some(path) = loc["path"].as_str().filter(|p| !p.is_empty()) {
            let _ = writeln!(
                out,
                "  % declared in '{path}', lines {}:{}-{}:{}",
                loc["first_line"], loc["first_column"], loc["last_line"], loc["last_column"]
            );
        }
        if let Some(attrs) = o["attrs"].as_object() {
            for (k, v) in attrs {
                if k != "source_location" {
                    let _ = writeln!(out, "  * {k} = {v}");
                }
            }
        }
        let _ = writeln!(out);
    }
}

pub fn run(command: ObjectCommand, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let ObjectCommand::List(args) = command;
    let filter = Filter {
        type_name: args.type_name.clone(),
        name: args.name.clone(),
    };
    let objects = match control::ask(data_dir, &Request::Objects(filter.clone())) {
        Some(reply) => {
            let reply = reply?;
            if reply.code != 0 {
                return Ok(reply.print());
            }
            serde_json::from_value(reply.data.unwrap_or_default())
                .context("the node's list of objects is unreadable")?
        }
        None => offline(&args, data_dir, &filter)?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&objects)?);
    } else {
        print_text(&objects);
    }
    Ok(ExitCode::SUCCESS)
}

/// No node runs: the configuration, with the state retention kept.
fn offline(args: &ListArgs, data_dir: &Path, filter: &Filter) -> anyhow::Result<Vec<Json>> {
    let options = daemon::load_options(&args.config, data_dir)?;
    let config = match daemon::load_config(&options.load) {
        Ok(config) => config,
        Err(errors) => anyhow::bail!("the configuration has errors:\n{}", errors.join("\n")),
    };
    let mut monitor = Monitor::build(&config.registry, Default::default());
    let retained = picket_retention::load(&picket_retention::path_in(data_dir))?;
    for (name, entry) in retained.entries {
        monitor.adopt(&name, entry);
    }
    Ok(render(&monitor, &config, filter))
}
