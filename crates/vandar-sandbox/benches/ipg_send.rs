//! Throughput and memory of the sandbox under IPG `send_payment` load, on loopback.
//!
//! ```sh
//! cargo bench -p vandar-sandbox --bench ipg_send                         # 200,000 sends
//! IPG_SEND_REQUESTS=1000000 cargo bench -p vandar-sandbox --bench ipg_send
//! ```
//!
//! The sandbox runs in this process on a 2-worker Tokio runtime (what "2 cores" means here);
//! the load generator runs on its own 2-worker runtime: `IPG_SEND_CONNECTIONS` (default 32)
//! keep-alive HTTP/1.1 connections, each sending the next request when its answer is in.
//! Rate limits are off. It prints sends per second and the process's resident memory
//! (VmRSS, VmHWM from `/proc/self/status`) before and after, and fails (exit 1) when a send is
//! not answered 200 or the throughput is under `IPG_SEND_MIN_RPS` (default 0: report only).
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `(VmRSS, VmHWM)` in KiB.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn connection(
    addr: std::net::SocketAddr,
    body: Bytes,
    next: Arc<AtomicU64>,
    total: u64,
) -> Result<u64, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut done = 0;
    while next.fetch_add(1, Ordering::Relaxed) < total {
        let request = http::Request::post("/api/v4/send")
            .header(http::header::HOST, addr.to_string())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body.clone()))
            .map_err(|e| e.to_string())?;
        sender.ready().await.map_err(|e| e.to_string())?;
        let answer = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status();
        let bytes = answer
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if status != http::StatusCode::OK {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
        }
        done += 1;
    }
    Ok(done)
}

fn main() {
    let total = env_u64("IPG_SEND_REQUESTS", 200_000);
    let connections = env_u64("IPG_SEND_CONNECTIONS", 32);
    let min_rps = env_u64("IPG_SEND_MIN_RPS", 0);
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("server runtime");
    let sandbox = server_rt
        .block_on(vandar_sandbox::Sandbox::builder().rate_limit(false).start())
        .expect("sandbox");
    let addr = sandbox.local_addr();
    let key = sandbox.credentials().ipg_api_key;
    let body = Bytes::from(
        serde_json::json!({
            "api_key": key,
            "amount": 250_000,
            "callback_url": "http://127.0.0.1:9/callback",
            "factorNumber": "INV-1",
            "mobile_number": "09123456789",
            "description": "bench"
        })
        .to_string(),
    );
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("client runtime");
    let (rss0, _) = memory();
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let results: Vec<Result<u64, String>> = client_rt.block_on(async {
        let tasks: Vec<_> = (0..connections)
            .map(|_| tokio::spawn(connection(addr, body.clone(), next.clone(), total)))
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap_or_else(|e| Err(e.to_string())));
        }
        out
    });
    let elapsed = started.elapsed();
    let mut sent = 0;
    let mut failed = false;
    for r in results {
        match r {
            Ok(n) => sent += n,
            Err(e) => {
                eprintln!("connection failed: {e}");
                failed = true;
            }
        }
    }
    let (rss1, hwm) = memory();
    let rps = sent as f64 / elapsed.as_secs_f64();
    println!(
        "ipg_send: {sent} sends over {connections} connections in {:.2} s = {rps:.0} sends/s",
        elapsed.as_secs_f64()
    );
    println!(
        "memory: VmRSS {} MiB before, {} MiB after; peak (VmHWM) {} MiB",
        rss0 / 1024,
        rss1 / 1024,
        hwm / 1024
    );
    drop(sandbox);
    if failed || sent != total || rps < min_rps as f64 {
        eprintln!("ipg_send: FAILED (sent {sent} of {total}, {rps:.0}/s, minimum {min_rps}/s)");
        std::process::exit(1);
    }
}
