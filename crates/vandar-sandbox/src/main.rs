//! `vandar-sandbox [--listen 127.0.0.1:8910] [--no-rate-limit]`: run the local sandbox.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::process::ExitCode;

use vandar_sandbox::{DEFAULT_PORT, Sandbox};

const USAGE: &str = "usage: vandar-sandbox [--listen HOST:PORT] [--no-rate-limit]\n\
  --listen HOST:PORT   address to serve on (default 127.0.0.1:8910; port 0 picks a free one)\n\
  --no-rate-limit      do not enforce the documented rate limits";

#[tokio::main]
async fn main() -> ExitCode {
    let level = match std::env::var("VANDAR_SANDBOX_LOG").as_deref() {
        Ok("debug") => tracing::Level::DEBUG,
        Ok("warn") => tracing::Level::WARN,
        _ => tracing::Level::INFO,
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .try_init();
    let mut addr = SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT));
    let mut rate_limit = true;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => match args.next().map(|a| a.parse::<SocketAddr>()) {
                Some(Ok(a)) => addr = a,
                _ => {
                    eprintln!("--listen needs HOST:PORT\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "--no-rate-limit" => rate_limit = false,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => {
                eprintln!("unknown argument {other}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let sandbox = match Sandbox::builder()
        .listen(addr)
        .rate_limit(rate_limit)
        .start()
        .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("vandar-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    let c = sandbox.credentials();
    println!("vandar-sandbox listening on {}", sandbox.base_url());
    println!("ipg_api_key={}", c.ipg_api_key);
    println!("access_token={}", c.access_token);
    println!("refresh_token={}", c.refresh_token);
    println!("business={}", c.business);
    println!("sanbod_client_id={}", c.sanbod_client_id);
    println!("sanbod_client_secret={}", c.sanbod_client_secret);
    println!(
        "credentials as JSON: {}/__sandbox/credentials",
        sandbox.base_url()
    );
    let _ = tokio::signal::ctrl_c().await;
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}
