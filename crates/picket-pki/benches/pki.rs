//! What bounds a master taking back thousands of agents: ticket checks,
//! certificate signing (with the durable record of each), and TLS
//! handshakes with the default key type (RSA 4096), per core.
//!
//! `cargo bench -p picket-pki` prints a table; `BENCH_SECONDS` sets how long
//! each measurement runs (default 3).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use openssl::ssl::Ssl;
use picket_pki::ca::Approval;
use picket_pki::cert::{self, Validity};
use picket_pki::tls::{self, Identity, TlsSettings};
use picket_pki::{Authority, Grant};
use picket_store::{Actor, DataDir, StoreOptions};

fn seconds() -> Duration {
    Duration::from_secs(
        std::env::var("BENCH_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3),
    )
}

/// Runs `step` until the time is up; returns steps per second.
fn rate(mut step: impl FnMut()) -> f64 {
    let limit = seconds();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < limit {
        step();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the struct we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn main() {
    let tmp = tempfile::tempdir().unwrap();
    let (data, _) = DataDir::open(tmp.path()).unwrap();
    let (ca, _) = Authority::open(&data, &StoreOptions::default()).unwrap();
    let actor = Actor::new("bench");
    ca.new_ca(&actor, cert::now()).unwrap();
    ca.node_certificate("master1", &actor, cert::now()).unwrap();
    ca.node_certificate("agent1", &actor, cert::now()).unwrap();
    println!("| what | per second | per operation |");
    println!("|---|---:|---:|");
    let row = |what: &str, r: f64| println!("| {what} | {r:.1} | {:.3} ms |", 1000.0 / r);

    let ticket = picket_pki::ticket::ticket("agent1", "labsalt").unwrap();
    row(
        "ticket check (PBKDF2-HMAC-SHA1, 50,000 rounds)",
        rate(|| assert!(picket_pki::ticket::ticket_matches("agent1", "labsalt", &ticket).unwrap())),
    );

    let keys = ca.load_ca(&actor).unwrap();
    let presented = cert::self_signed(
        &cert::new_key().unwrap(),
        "agent2",
        Validity::days_from(cert::now(), 397),
    )
    .unwrap();
    let public = presented.public_key().unwrap();
    row(
        "certificate signed (RSA 4096 CA key), not recorded",
        rate(|| {
            cert::issue(
                &keys.key,
                &keys.cert,
                presented.subject_name(),
                &public,
                Validity::days_from(cert::now(), 397),
            )
            .unwrap();
        }),
    );
    row(
        "certificate signed and its record durable",
        rate(|| {
            ca.issue(
                &keys,
                presented.subject_name(),
                &public,
                Grant::new(Approval::Ticket, &actor),
                cert::now(),
            )
            .unwrap();
        }),
    );
    row(
        "RSA 4096 key generated",
        rate(|| drop(cert::new_key().unwrap())),
    );

    let certs = tmp.path().join("certs");
    let settings = TlsSettings::default();
    let server =
        tls::server_context(&Identity::load(&certs, "master1").unwrap(), &settings).unwrap();
    let client =
        tls::client_context(&Identity::load(&certs, "agent1").unwrap(), &settings).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let limit = seconds();
    let srv = std::thread::spawn(move || {
        let mut n = 0u64;
        let cpu = thread_cpu();
        let start = Instant::now();
        for tcp in listener.incoming() {
            let tcp = tcp.unwrap();
            let mut s = Ssl::new(&server).unwrap().accept(tcp).unwrap();
            assert_eq!(tls::peer(s.ssl()).authenticated_cn(), Some("agent1"));
            s.write_all(b"x").unwrap();
            n += 1;
            if start.elapsed() >= limit {
                break;
            }
        }
        (n, thread_cpu() - cpu, start.elapsed())
    });
    // Until the server has had its time and stops answering.
    while let Ok(tcp) = TcpStream::connect(addr) {
        let Ok(mut s) = Ssl::new(&client).unwrap().connect(tcp) else {
            break;
        };
        let mut b = [0u8; 1];
        if s.read_exact(&mut b).is_err() || srv.is_finished() {
            break;
        }
    }
    let (n, cpu, wall) = srv.join().unwrap();
    row(
        "mutual TLS 1.3 handshake, server CPU (one core)",
        n as f64 / cpu.as_secs_f64(),
    );
    row(
        "mutual TLS 1.3 handshake, both ends on this machine, wall clock",
        n as f64 / wall.as_secs_f64(),
    );
}
