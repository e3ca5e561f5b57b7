//! A downstream application: its own `reqwest::Client` and the SDK side by side, against a
//! server it starts on 127.0.0.1. Exits non-zero (with a message) if adding `vandar` changed
//! anything for the application's own client.
#![forbid(unsafe_code)]

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vandar::ipg::types::PaymentRequest;
use vandar::{ApiKey, Config, Vandar, domain::Rial};

/// One canned HTTP/1.1 answer per connection: the IPG's documented `send` success for the
/// SDK's POST, a small JSON document for anything else.
async fn serve(listener: TcpListener) {
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head and the body (by Content-Length).
            loop {
                let Ok(n) = socket.read(&mut buf).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                request.extend_from_slice(&buf[..n]);
                if let Some(head_end) = find(&request, b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&request[..head_end]).to_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= head_end + 4 + length {
                        break;
                    }
                }
            }
            let body = if request.starts_with(b"POST /api/v4/send") {
                r#"{"status":1,"token":"downstream-token"}"#
            } else {
                r#"{"hello":"application"}"#
            };
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(answer.as_bytes()).await;
            let _ = socket.shutdown().await;
        });
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(serve(listener));

    // 1. The application's own client, built the usual way. Before the fix, the SDK's TLS
    //    feature made this panic ("No rustls crypto provider is configured").
    let own = reqwest::Client::new();
    let json: serde_json::Value = own
        .get(format!("{base}/hello"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    if json["hello"] != "application" {
        return Err(format!("the application's own call answered {json}").into());
    }
    let built = reqwest::Client::builder().build();
    if let Err(e) = built {
        return Err(format!("the application's ClientBuilder failed: {e}").into());
    }

    // 2. The SDK, on the same loopback server.
    let vandar = Vandar::new(Config::builder().all_hosts(&base).build()?)?;
    let sent = vandar
        .ipg()
        .send_payment()
        .body(
            PaymentRequest::builder()
                .api_key(&ApiKey::from("downstream-api-key"))
                .amount(Rial::new(250_000))
                .callback_url("https://shop.example/payment/callback"),
        )
        .send()
        .await?;
    if sent.token.as_str() != "downstream-token" {
        return Err(format!("the SDK's call answered token {:?}", sent.token.as_str()).into());
    }

    // 3. The application's client still works after the SDK built its own.
    let again = own.get(format!("{base}/hello")).send().await?.status();
    if !again.is_success() {
        return Err(format!("the application's second call answered {again}").into());
    }
    println!("downstream: the application's reqwest client and vandar both work");
    Ok(())
}
