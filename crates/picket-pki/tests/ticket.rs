//! Tickets equal Icinga 2's: the committed vectors made with Icinga 2.13,
//! and `icinga2 pki ticket` run now for names and salts with spaces and
//! non-ASCII text.

use std::process::Command;

use picket_pki::ticket::{ticket, ticket_matches};

/// The shared vectors beside the project (`../shared`, present in CI).
fn vectors() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/tickets.tsv");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the shared vectors must sit beside the project)",
            path.display()
        )
    })
}

#[test]
fn every_vector() {
    let mut n = 0;
    for line in vectors().lines().skip(1).filter(|l| !l.is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let [cn, salt, expected] = cols[..] else {
            panic!("bad vector line {line:?}");
        };
        assert_eq!(
            ticket(cn, salt).unwrap(),
            expected,
            "cn {cn:?} salt {salt:?}"
        );
        assert!(ticket_matches(cn, salt, expected).unwrap());
        n += 1;
    }
    assert!(n >= 10, "only {n} vectors");
}

#[test]
fn near_misses_do_not_match() {
    let good = ticket("agent1", "somesalt").unwrap();
    assert!(!ticket_matches("agent1", "somesalt", &good.to_uppercase()).unwrap());
    assert!(!ticket_matches("agent1", "somesalt", &good[..39]).unwrap());
    assert!(!ticket_matches("agent1", "somesalt", &format!("{good}0")).unwrap());
    assert!(!ticket_matches("agent1", "somesalt", "").unwrap());
    assert!(!ticket_matches("Agent1", "somesalt", &good).unwrap());
    let mut flipped = good.clone().into_bytes();
    flipped[20] = if flipped[20] == b'0' { b'1' } else { b'0' };
    assert!(!ticket_matches("agent1", "somesalt", std::str::from_utf8(&flipped).unwrap()).unwrap());
}

fn icinga_ticket(cn: &str, salt: &str) -> String {
    let out = Command::new("icinga2")
        .args(["pki", "ticket", "--cn", cn, "--salt", salt])
        .output()
        .expect("icinga2 is not installed: run .ci/run, or apt-get install icinga2");
    assert!(out.status.success(), "icinga2 pki ticket failed: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

#[test]
fn same_as_icinga2_for_generated_names() {
    let cns = [
        "agent-42.example.org",
        "host with spaces",
        " leading and trailing ",
        "Grüße-Köln",
        "日本のエージェント",
        "emoji-🚀-node",
        "x",
        "a-very-long-common-name-that-goes-on.and-on.and-on.example.internal.zone",
    ];
    let salts = [
        "s",
        "salt with spaces",
        "sälz",
        "0123456789abcdef0123456789abcdef",
    ];
    for (i, cn) in cns.iter().enumerate() {
        let salt = salts[i % salts.len()];
        assert_eq!(
            ticket(cn, salt).unwrap(),
            icinga_ticket(cn, salt),
            "cn {cn:?} salt {salt:?}"
        );
    }
}
