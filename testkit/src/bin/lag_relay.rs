//! A TCP relay that delays every byte by a fixed time each way: the benches' stand-in for a
//! server on another host (no `tc netem` needed). `lag_relay LISTEN_PORT UPSTREAM_PORT
//! ONE_WAY_MICROS`, on loopback; it prints nothing and runs until killed.
//!
//! Each direction is a reader and a writer thread: the reader stamps what it reads with the
//! time it may leave, so the delay holds whatever the rate (a throughput of its own, unlike a
//! sleep per read).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

fn relay(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    thread::spawn(move || {
        let mut buf = vec![0u8; 256 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if tx
                .send((Instant::now() + delay, buf[..n].to_vec()))
                .is_err()
            {
                break;
            }
        }
    });
    thread::spawn(move || {
        for (due, bytes) in rx {
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [listen, upstream, micros] = args.as_slice() else {
        eprintln!("usage: lag_relay LISTEN_PORT UPSTREAM_PORT ONE_WAY_MICROS");
        std::process::exit(2);
    };
    let (Ok(listen), Ok(upstream), Ok(micros)) = (
        listen.parse::<u16>(),
        upstream.parse::<u16>(),
        micros.parse::<u64>(),
    ) else {
        eprintln!("lag_relay: ports and microseconds are numbers");
        std::process::exit(2);
    };
    let delay = Duration::from_micros(micros);
    let listener = TcpListener::bind(("127.0.0.1", listen)).expect("lag_relay: bind");
    for client in listener.incoming().flatten() {
        let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
            continue;
        };
        for s in [&client, &server] {
            let _ = s.set_nodelay(true);
        }
        match (client.try_clone(), server.try_clone()) {
            (Ok(c), Ok(s)) => {
                relay(c, server, delay);
                relay(s, client, delay);
            }
            _ => continue,
        }
    }
}
