//! The benchmark's local server in its own process: binds 127.0.0.1:0, prints the address on
//! one line, serves until its stdin closes (the parent is gone) or `--max-seconds` pass.
//!
//! `bench-server [--limits POST,OTHER,PER_MS] [--max-seconds N]`
#![forbid(unsafe_code)]

use std::io::Read;
use std::time::Duration;

use vandar_benches::server;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut limits = None;
    let mut max_seconds = 600u64;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--limits" => {
                let v = it.next().expect("--limits POST,OTHER,PER_MS");
                limits = Some(server::parse_limits(v).expect("--limits POST,OTHER,PER_MS"));
            }
            "--max-seconds" => {
                max_seconds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--max-seconds N");
            }
            other => {
                eprintln!("bench-server: unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        println!("{}", listener.local_addr().expect("local address"));
        // Exit when the parent closes our stdin (or dies).
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let mut sink = [0u8; 64];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            let _ = tx.send(());
        });
        tokio::select! {
            () = server::serve(listener, limits) => {}
            _ = rx => {}
            () = tokio::time::sleep(Duration::from_secs(max_seconds)) => {
                eprintln!("bench-server: --max-seconds reached, exiting");
            }
        }
    });
}
