//! Outgoing calls: webhooks (`notify_url`) the sandbox POSTs and the callbacks a payer's browser
//! is redirected to, kept in a bounded log so a tool can list them and send any again. The HTTP
//! client is a bare hyper HTTP/1.1 connection over plain `http://` (not reqwest: the sandbox
//! must not depend on which TLS backend and crypto provider the embedding application picked;
//! merchants' local callback servers speak plain HTTP).

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::Serialize;

/// How long a delivery may take (connect plus answer).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The log keeps the last this many notifications.
pub const MAX_LOGGED_NOTIFICATIONS: usize = 1_000;

/// Who sends a notification first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sender {
    /// The sandbox POSTs it (a `notify_url` webhook).
    Sandbox,
    /// The payer's browser follows a 302 to it (the IPG callback, the mandate callback); the
    /// sandbox sends it only when asked to send it again.
    Browser,
}

/// A notification to log (and, when the sandbox sends it, to deliver).
#[derive(Debug, Clone)]
pub struct Notification {
    /// `settlement`, `withdrawal`, `ipg_callback`, `mandate_callback`.
    pub kind: &'static str,
    /// `POST` (a form body) or `GET` (the query carries everything).
    pub method: Method,
    /// The full URL.
    pub url: String,
    /// The form fields of a POST.
    pub form: Vec<(String, String)>,
    /// Who sends it first.
    pub sender: Sender,
}

impl Notification {
    /// A form-encoded `notify_url` POST by the sandbox.
    pub fn webhook(kind: &'static str, url: String, form: Vec<(String, String)>) -> Self {
        Notification {
            kind,
            method: Method::POST,
            url,
            form,
            sender: Sender::Sandbox,
        }
    }

    /// A redirect the payer's browser follows (a GET of `url`).
    pub fn browser_callback(kind: &'static str, url: String) -> Self {
        Notification {
            kind,
            method: Method::GET,
            url,
            form: Vec::new(),
            sender: Sender::Browser,
        }
    }
}

/// One try to deliver a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    /// `sandbox` (a delivery or a resend) or `browser` (the 302 the payer followed).
    pub by: Sender,
    /// The receiver's HTTP status, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it failed (refused, timed out, not http, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A logged notification (`GET /__sandbox/notifications`).
#[derive(Debug, Clone, Serialize)]
pub struct LoggedNotification {
    /// The id to send it again (`POST /__sandbox/notifications/{id}/resend`).
    pub id: u64,
    /// `settlement`, `withdrawal`, `ipg_callback`, `mandate_callback`.
    pub kind: &'static str,
    /// `POST` or `GET`.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// The form fields of a POST (as `[name, value]` pairs).
    pub form: Vec<(String, String)>,
    /// Every try so far, oldest first.
    pub attempts: Vec<Attempt>,
}

/// The bounded log of notifications.
#[derive(Debug, Default)]
pub struct NotificationLog {
    entries: VecDeque<LoggedNotification>,
    next_id: u64,
}

impl NotificationLog {
    /// Log a notification; returns its id. A browser callback gets its browser attempt.
    pub fn record(&mut self, n: &Notification) -> u64 {
        self.next_id += 1;
        while self.entries.len() >= MAX_LOGGED_NOTIFICATIONS {
            self.entries.pop_front();
        }
        let attempts = match n.sender {
            Sender::Browser => vec![Attempt {
                by: Sender::Browser,
                status: None,
                error: None,
            }],
            Sender::Sandbox => Vec::new(),
        };
        self.entries.push_back(LoggedNotification {
            id: self.next_id,
            kind: n.kind,
            method: n.method.to_string(),
            url: n.url.clone(),
            form: n.form.clone(),
            attempts,
        });
        self.next_id
    }

    /// Add a delivery's result.
    pub fn attempted(&mut self, id: u64, attempt: Attempt) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == id) {
            e.attempts.push(attempt);
        }
    }

    /// One entry.
    pub fn get(&self, id: u64) -> Option<&LoggedNotification> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Every entry, newest first.
    pub fn newest_first(&self) -> Vec<LoggedNotification> {
        self.entries.iter().rev().cloned().collect()
    }

    /// Forget everything (reset).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Send one notification now; the attempt says how it went.
pub async fn deliver(method: &Method, url: &str, form: &[(String, String)]) -> Attempt {
    let body = if *method == Method::POST {
        serde_urlencoded::to_string(form).unwrap_or_default()
    } else {
        String::new()
    };
    // The notify URL is the merchant's, query included (it may carry a token of theirs):
    // logged without user info and sensitive parameters.
    let logged = crate::values::log_safe_url(url);
    match send(method, url, body).await {
        Ok(status) => {
            tracing::debug!(url = %logged, status, "notification delivered");
            Attempt {
                by: Sender::Sandbox,
                status: Some(status),
                error: None,
            }
        }
        Err(e) => {
            tracing::warn!(url = %logged, error = %e, "notification failed");
            Attempt {
                by: Sender::Sandbox,
                status: None,
                error: Some(e),
            }
        }
    }
}

/// One plain-http request (a form-encoded POST, or a GET); returns the answer's status.
pub(crate) async fn send(method: &Method, url: &str, form: String) -> Result<u16, String> {
    let url = url::Url::parse(url).map_err(|e| e.to_string())?;
    if url.scheme() != "http" {
        return Err(format!(
            "the sandbox delivers notifications over plain http only, not {}",
            url.scheme()
        ));
    }
    let host = url.host_str().ok_or("no host")?.to_owned();
    let port = url.port_or_known_default().unwrap_or(80);
    let exchange = async {
        let stream = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let authority = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let mut request = Request::builder()
            .method(method.clone())
            .uri(target)
            .header(header::HOST, authority)
            .header(header::USER_AGENT, "vandar-sandbox");
        if *method == Method::POST {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let request = request
            .body(Full::new(Bytes::from(form)))
            .map_err(|e| e.to_string())?;
        let answer = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status().as_u16();
        // read the answer so the connection ends cleanly
        let _ = answer.into_body().collect().await;
        Ok::<u16, String>(status)
    };
    tokio::time::timeout(DELIVERY_TIMEOUT, exchange)
        .await
        .map_err(|_| "timed out".to_owned())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_bounded_and_keeps_attempts() {
        let mut log = NotificationLog::default();
        let cb = Notification::browser_callback("ipg_callback", "http://shop/cb?token=t".into());
        let id = log.record(&cb);
        assert_eq!(log.get(id).unwrap().attempts[0].by, Sender::Browser);
        let hook = Notification::webhook("settlement", "http://shop/n".into(), vec![]);
        let id2 = log.record(&hook);
        assert!(log.get(id2).unwrap().attempts.is_empty());
        log.attempted(
            id2,
            Attempt {
                by: Sender::Sandbox,
                status: Some(200),
                error: None,
            },
        );
        assert_eq!(log.get(id2).unwrap().attempts[0].status, Some(200));
        assert_eq!(log.newest_first()[0].id, id2);
        for _ in 0..MAX_LOGGED_NOTIFICATIONS {
            log.record(&hook);
        }
        assert_eq!(log.newest_first().len(), MAX_LOGGED_NOTIFICATIONS);
        assert!(log.get(id).is_none(), "the oldest are forgotten first");
    }

    #[tokio::test]
    async fn only_plain_http_is_delivered() {
        let a = deliver(&Method::POST, "https://shop.example/n", &[]).await;
        assert!(a.error.unwrap().contains("plain http"));
        assert_eq!(a.status, None);
    }
}
