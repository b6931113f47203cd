//! An example aggregate for the tests: a ledger account that can be
//! opened, paid into, drawn from (refused when it would go negative) and
//! closed.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command as Process;

use picket_store::{Actor, Aggregate, Command, CommandSummary, Describe, Store, StoreOptions};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub owner: String,
    pub balance: i64,
    pub closed: bool,
    pub movements: u64,
}

pub struct Open {
    pub owner: String,
}

#[derive(Clone, Debug)]
pub enum Change {
    Deposit(i64),
    Withdraw(i64),
    Close,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opened {
    pub owner: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Event {
    Deposited(i64),
    Withdrawn(i64),
    Closed,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    Insufficient { balance: i64, wanted: i64 },
    Closed,
    NoOwner,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Insufficient { balance, wanted } => {
                write!(f, "balance {balance} is less than {wanted}")
            }
            Refusal::Closed => f.write_str("the account is closed"),
            Refusal::NoOwner => f.write_str("an account needs an owner"),
        }
    }
}

impl Describe for Open {
    fn summary(&self) -> CommandSummary {
        CommandSummary::new("open").arg("owner", &self.owner)
    }
}

impl Describe for Change {
    fn summary(&self) -> CommandSummary {
        match self {
            Change::Deposit(n) => CommandSummary::new("deposit").arg("amount", n),
            Change::Withdraw(n) => CommandSummary::new("withdraw").arg("amount", n),
            Change::Close => CommandSummary::new("close"),
        }
    }
}

impl Aggregate for Account {
    type InitCommand = Open;
    type Command = Change;
    type InitEvent = Opened;
    type Event = Event;
    type Error = Refusal;

    fn process_init(_id: &str, command: &Open) -> Result<Opened, Refusal> {
        if command.owner.is_empty() {
            return Err(Refusal::NoOwner);
        }
        Ok(Opened {
            owner: command.owner.clone(),
        })
    }

    fn init(_id: &str, event: Opened) -> Account {
        Account {
            owner: event.owner,
            balance: 0,
            closed: false,
            movements: 0,
        }
    }

    fn process(&self, command: &Change) -> Result<Vec<Event>, Refusal> {
        if self.closed {
            return Err(Refusal::Closed);
        }
        match *command {
            Change::Deposit(0) | Change::Withdraw(0) => Ok(vec![]),
            Change::Deposit(n) => Ok(vec![Event::Deposited(n)]),
            Change::Withdraw(n) if n > self.balance => Err(Refusal::Insufficient {
                balance: self.balance,
                wanted: n,
            }),
            Change::Withdraw(n) => Ok(vec![Event::Withdrawn(n)]),
            Change::Close => Ok(vec![Event::Closed]),
        }
    }

    fn apply(&mut self, event: Event) {
        self.movements += 1;
        match event {
            Event::Deposited(n) => self.balance += n,
            Event::Withdrawn(n) => self.balance -= n,
            Event::Closed => self.closed = true,
        }
    }
}

pub fn actor() -> Actor {
    Actor::new("user:test")
}

pub fn open(store: &Store<Account>, id: &str) {
    store
        .create_blocking(Command::new(
            id,
            actor(),
            Open {
                owner: format!("owner of {id}"),
            },
        ))
        .expect("open");
}

pub fn change(
    store: &Store<Account>,
    id: &str,
    c: Change,
) -> Result<u64, picket_store::CommandError<Refusal>> {
    store
        .command_blocking(Command::new(id, actor(), c))
        .map(|v| v.version)
}

pub fn small_options() -> StoreOptions {
    StoreOptions {
        snapshot_every: 50,
        segment_size: 16 << 10,
        ..StoreOptions::default()
    }
}

/// Runs this test binary again as a child that executes only `test`
/// (an ignored test that acts when `PICKET_STORE_CHILD` is set).
pub fn child(test: &str, dir: &Path) -> Process {
    let mut p = Process::new(std::env::current_exe().expect("test binary"));
    p.args([
        test,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("PICKET_STORE_CHILD", dir);
    p
}

/// Copies a directory tree, as a backup by `cp -r` would.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
