//! Real processes: exit codes, merged output, the output limit, signals,
//! missing programs, and the timeout that kills a plugin with every child
//! it started.

use std::ffi::OsString;
use std::time::Duration;

use picket_checker::process::{run, Ending, Invocation, DEFAULT_OUTPUT_LIMIT};

fn sh(script: &str, timeout: Duration) -> Invocation {
    Invocation {
        argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
        env: vec![(OsString::from("PKT_TEST"), OsString::from("from env"))],
        timeout,
        output_limit: DEFAULT_OUTPUT_LIMIT,
    }
}

/// Whether any process, zombies included, is left in the group.
fn group_alive(pgid: u32) -> bool {
    // SAFETY: signal 0 only checks whether the group exists.
    unsafe { libc::kill(-(pgid as i32), 0) == 0 }
}

/// As the node does at start: orphans of killed plugins come to us.
fn subreaper() {
    picket_checker::process::become_subreaper().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_code_and_output_of_both_streams() {
    let f = run(&sh(
        "echo out; echo err >&2; echo \"$PKT_TEST\"; exit 2",
        Duration::from_secs(10),
    ))
    .await;
    assert_eq!(f.ending, Ending::Exited(2));
    assert_eq!(String::from_utf8_lossy(&f.output), "out\nerr\nfrom env\n");
    assert!(!f.truncated);
}

#[tokio::test(flavor = "multi_thread")]
async fn output_is_capped_without_blocking_the_plugin() {
    let mut inv = sh("head -c 5000000 /dev/zero; exit 0", Duration::from_secs(20));
    inv.output_limit = 1000;
    let f = run(&inv).await;
    assert_eq!(f.ending, Ending::Exited(0));
    assert_eq!(f.output.len(), 1000);
    assert!(f.truncated);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signal_is_reported() {
    let f = run(&sh("kill -SEGV $$", Duration::from_secs(10))).await;
    assert_eq!(f.ending, Ending::Signaled(libc::SIGSEGV));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_program_is_not_started() {
    let f = run(&Invocation {
        argv: vec!["/nonexistent/check_nothing".into()],
        env: Vec::new(),
        timeout: Duration::from_secs(5),
        output_limit: 100,
    })
    .await;
    match f.ending {
        Ending::NotStarted { errno, .. } => assert_eq!(errno, Some(libc::ENOENT)),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_timeout_kills_the_whole_group() {
    subreaper();
    // The plugin starts a child that would outlive it and ignores TERM,
    // and both hang.
    let f = run(&sh(
        "trap '' TERM; echo started; sleep 300 & sleep 300",
        Duration::from_millis(500),
    ))
    .await;
    assert_eq!(
        f.ending,
        Ending::TimedOut {
            signal: Some(libc::SIGKILL)
        }
    );
    assert_eq!(String::from_utf8_lossy(&f.output), "started\n");
    assert!(f.duration < Duration::from_secs(5), "{:?}", f.duration);
    // The group is gone: no orphan left running, no zombie left.
    let pgid = f.pid.unwrap();
    assert!(!group_alive(pgid), "process group {pgid} still exists");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_child_holding_the_pipe_keeps_the_check_until_the_timeout() {
    subreaper();
    // The plugin exits at once but leaves a child with its output open:
    // the check is not over until the pipe closes, and the timeout ends it.
    let f = run(&sh(
        "sleep 300 & echo done; exit 0",
        Duration::from_millis(500),
    ))
    .await;
    assert_eq!(f.ending, Ending::TimedOut { signal: None });
    assert_eq!(String::from_utf8_lossy(&f.output), "done\n");
    assert!(!group_alive(f.pid.unwrap()));
}

#[tokio::test(flavor = "multi_thread")]
async fn at_the_timeout_the_plugin_gets_term_first() {
    subreaper();
    let f = run(&sh("echo partial; sleep 300", Duration::from_millis(300))).await;
    assert_eq!(
        f.ending,
        Ending::TimedOut {
            signal: Some(libc::SIGTERM)
        }
    );
    assert_eq!(String::from_utf8_lossy(&f.output), "partial\n");
    assert!(!group_alive(f.pid.unwrap()));
}
