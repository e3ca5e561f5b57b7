//! What the examples share: where the sandbox is, its credentials, the SDK configured for it,
//! and a tiny "browser" that submits the sandbox's HTML forms the way a person's click would.
//!
//! Every example runs against `vandar-sandbox`: an in-process one (started here) unless
//! `VANDAR_BASE_URL` names a running one (`cargo run -p vandar-sandbox`), whose credentials
//! are read from `GET /__sandbox/credentials`.
// Each example uses a part of this module.
#![allow(dead_code)]

use std::error::Error;

use vandar::sandbox::{Credentials, Sandbox};
use vandar::{Config, ConfigBuilder, Vandar};

/// The result type of the examples: any error ends the process with a non-zero status.
pub type BoxResult<T> = Result<T, Box<dyn Error + Send + Sync>>;

/// A sandbox to talk to, in-process or external.
pub struct Env {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub base_url: String,
    /// The seeded credentials.
    pub credentials: Credentials,
    /// A plain HTTP client for the sandbox's controls and pages: the SDK's own (same TLS
    /// set-up, redirects not followed).
    pub http: reqwest::Client,
    /// Kept alive for the example's lifetime (dropping it stops the in-process server).
    sandbox: Option<Sandbox>,
}

impl Env {
    /// Start an in-process sandbox, or use the one at `VANDAR_BASE_URL`.
    pub async fn start() -> BoxResult<Env> {
        match std::env::var("VANDAR_BASE_URL") {
            Ok(base) if !base.trim().is_empty() => {
                let base_url = base.trim().trim_end_matches('/').to_owned();
                let http = plain_http(&base_url)?;
                let credentials = http
                    .get(format!("{base_url}/__sandbox/credentials"))
                    .send()
                    .await?
                    .error_for_status()?
                    .json::<Credentials>()
                    .await?;
                eprintln!("using the sandbox at {base_url}");
                Ok(Env {
                    base_url,
                    credentials,
                    http,
                    sandbox: None,
                })
            }
            _ => {
                let sandbox = Sandbox::start().await?;
                let base_url = sandbox.base_url().to_owned();
                let http = plain_http(&base_url)?;
                eprintln!("started an in-process sandbox at {base_url}");
                Ok(Env {
                    base_url,
                    credentials: sandbox.credentials(),
                    http,
                    sandbox: Some(sandbox),
                })
            }
        }
    }

    /// A configuration whose every host is the sandbox.
    pub fn config(&self) -> ConfigBuilder {
        Config::builder().all_hosts(&self.base_url)
    }

    /// The SDK with the business API's access token set.
    pub fn vandar_with_token(&self) -> BoxResult<Vandar> {
        Ok(Vandar::new(
            self.config()
                .access_token(self.credentials.access_token.clone())
                .build()?,
        )?)
    }

    /// `POST /__sandbox/<path>` with a JSON body (a test control); fails on a non-2xx answer.
    pub async fn control(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> BoxResult<serde_json::Value> {
        let answer = self
            .http
            .post(format!("{}/__sandbox/{path}", self.base_url))
            .json(&body)
            .send()
            .await?;
        let status = answer.status();
        let text = answer.text().await?;
        if !status.is_success() {
            return Err(format!("control {path} answered {status}: {text}").into());
        }
        Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    /// Stop the in-process sandbox (if any).
    pub async fn shutdown(self) {
        if let Some(sandbox) = self.sandbox {
            sandbox.shutdown().await;
        }
    }
}

/// The SDK runtime's HTTP client (it follows no redirects), reused so the example needs no
/// client set-up of its own.
fn plain_http(base_url: &str) -> BoxResult<reqwest::Client> {
    let vandar = Vandar::new(Config::builder().all_hosts(base_url).build()?)?;
    Ok(vandar.runtime().http_client().clone())
}

/// One HTML form: where it posts and its fields.
#[derive(Debug, Clone)]
pub struct Form {
    /// The `action` attribute (a path or a URL).
    pub action: String,
    /// `name=value` of its `<input>`s.
    pub fields: Vec<(String, String)>,
}

/// The value of `attr="..."` inside one tag.
fn attribute(tag: &str, attr: &str) -> Option<String> {
    let key = format!("{attr}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(tag[start..end].replace("&amp;", "&"))
}

/// The form `<form id="{id}" ...>` of a page (the sandbox's pages are simple, well-formed HTML).
pub fn find_form(html: &str, id: &str) -> BoxResult<Form> {
    let open = format!("<form id=\"{id}\"");
    let start = html
        .find(&open)
        .ok_or_else(|| format!("the page has no form `{id}`"))?;
    let end = html[start..]
        .find("</form>")
        .map(|e| e + start)
        .ok_or("unterminated form")?;
    let form = &html[start..end];
    let head_end = form.find('>').ok_or("malformed form tag")?;
    let action = attribute(&form[..head_end], "action").ok_or("the form has no action")?;
    let mut fields = Vec::new();
    let mut rest = &form[head_end..];
    while let Some(i) = rest.find("<input") {
        let tag_end = rest[i..]
            .find('>')
            .map(|e| e + i)
            .ok_or("malformed input")?;
        let tag = &rest[i..tag_end];
        if let Some(name) = attribute(tag, "name") {
            fields.push((name, attribute(tag, "value").unwrap_or_default()));
        }
        rest = &rest[tag_end..];
    }
    Ok(Form { action, fields })
}

/// What a browser does with an answer: follow `Location` (302/303 become a GET), at most 5
/// times. Returns the final URL, status and body.
pub async fn follow(
    http: &reqwest::Client,
    first: reqwest::RequestBuilder,
) -> BoxResult<(url::Url, reqwest::StatusCode, String)> {
    let mut answer = first.send().await?;
    for _ in 0..5 {
        if !answer.status().is_redirection() {
            break;
        }
        let location = answer
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or("a redirect without Location")?;
        let next = answer.url().join(location)?;
        answer = http.get(next).send().await?;
    }
    let url = answer.url().clone();
    let status = answer.status();
    Ok((url, status, answer.text().await?))
}

/// Submit form `form_id` of `html` (the page at `page_url`) the way a click does, without
/// following the answer. Returns the `Location` it redirects to (e.g. the merchant's
/// callback URL).
pub async fn submit(
    http: &reqwest::Client,
    page_url: &url::Url,
    html: &str,
    form_id: &str,
) -> BoxResult<String> {
    let form = find_form(html, form_id)?;
    let answer = http
        .post(page_url.join(&form.action)?)
        .form(&form.fields)
        .send()
        .await?;
    if !answer.status().is_redirection() {
        return Err(format!("submitting {form_id} answered {}", answer.status()).into());
    }
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or("the redirect has no Location")?;
    Ok(location.to_owned())
}

/// What a person does in a browser: open `page_url`, click the button of form `form_id`.
/// Returns the `Location` the form's answer redirects to (the merchant's callback URL).
pub async fn click(env: &Env, page_url: &str, form_id: &str) -> BoxResult<String> {
    let page = env.http.get(page_url).send().await?;
    let status = page.status();
    let html = page.text().await?;
    if !status.is_success() {
        return Err(format!("GET {page_url} answered {status}: {html}").into());
    }
    submit(&env.http, &url::Url::parse(page_url)?, &html, form_id).await
}

/// Fail the example with `message` unless `condition` holds.
pub fn ensure(condition: bool, message: impl Into<String>) -> BoxResult<()> {
    if condition {
        Ok(())
    } else {
        Err(message.into().into())
    }
}
