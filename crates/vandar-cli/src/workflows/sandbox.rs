//! `vandar sandbox serve` (with the `sandbox` feature) and `vandar trigger <event>` (any
//! build: plain HTTP to a running sandbox's controls under `/__sandbox/`).

use serde_json::{Value, json};

use crate::cli::{Event, SandboxCmd, TriggerArgs};
use crate::error::CliError;
use crate::output;

/// The control path and what the event needs (`token` or `id`).
pub fn control_path(
    event: Event,
    token: Option<&str>,
    id: Option<&str>,
) -> Result<String, CliError> {
    let need = |v: Option<&str>, flag: &str| {
        v.filter(|s| !s.trim().is_empty())
            .map(|s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>())
            .ok_or_else(|| CliError::usage(format!("this event needs --{flag}")))
    };
    Ok(match event {
        Event::PaymentPaid => format!("/__sandbox/ipg/{}/pay", need(token, "token")?),
        Event::PaymentFailed => format!("/__sandbox/ipg/{}/fail", need(token, "token")?),
        Event::MandateApproved => format!("/__sandbox/mandates/{}/approve", need(token, "token")?),
        Event::MandateRejected => format!("/__sandbox/mandates/{}/fail", need(token, "token")?),
        Event::SettlementDone => format!("/__sandbox/settlements/{}/done", need(id, "id")?),
        Event::SettlementFailed => format!("/__sandbox/settlements/{}/failed", need(id, "id")?),
        // `--id` is a notification's id (`GET /__sandbox/notifications` lists them).
        Event::NotifyResend => format!("/__sandbox/notifications/{}/resend", need(id, "id")?),
    })
}

/// `vandar trigger <event>`: POST the event's control to the sandbox at `base` and print its
/// answer. A sandbox that does not know the control answers 404, reported as such.
pub async fn trigger(base: &str, args: &TriggerArgs, json_out: bool) -> Result<(), CliError> {
    let path = control_path(args.event, args.token.as_deref(), args.id.as_deref())?;
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| CliError::Other(format!("HTTP client: {e}")))?;
    let answer = client
        .post(&url)
        .json(&json!({}))
        .send()
        .await
        .map_err(|e| CliError::Other(format!("the sandbox at {base} did not answer: {e}")))?;
    let status = answer.status().as_u16();
    let body: Value = answer.json().await.unwrap_or(Value::Null);
    if !(200..300).contains(&status) {
        let why = body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        return Err(CliError::Other(format!(
            "the sandbox refused the event (HTTP {status} on POST {path}): {why}"
        )));
    }
    let event = args.event_name();
    if json_out {
        output::print_json(&json!({"event": event, "control": path, "answer": body}))?;
    } else {
        let mut text = format!("{event}: done\n");
        if let Some(r) = body.get("redirect_url").and_then(Value::as_str) {
            text.push_str(&format!("redirect: {r}\n"));
        }
        output::print(&text)?;
    }
    Ok(())
}

impl TriggerArgs {
    /// The event's name as typed (`payment.paid`).
    pub fn event_name(&self) -> String {
        use clap::ValueEnum as _;
        self.event
            .to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_owned())
    }
}

/// `vandar sandbox serve`: a persistent sandbox until Ctrl-C.
#[cfg(feature = "sandbox")]
pub async fn serve(cmd: &SandboxCmd) -> Result<(), CliError> {
    use crate::config::{SecretsFile, config_dir, target_of};
    let SandboxCmd::Serve {
        listen,
        no_rate_limit,
        seed,
    } = cmd;
    let sb = vandar_sandbox::Sandbox::builder()
        .listen(*listen)
        .rate_limit(!no_rate_limit)
        .start()
        .await
        .map_err(|e| CliError::Other(format!("the sandbox did not start on {listen}: {e}")))?;
    if *seed > 0 {
        sb.seed_transactions(*seed)
            .await
            .map_err(|e| CliError::Other(format!("sandbox seeding: {e}")))?;
    }
    let url = sb.base_url().to_owned();
    let c = sb.credentials();
    // the file `vandar --profile sandbox --base-url <url>` reads (see config: named for the URL)
    let target = target_of(Some(&url));
    let file = SecretsFile::new(config_dir().join(format!(
        "sandbox@{}.secrets.json",
        crate::config::slug(&target)
    )))
    .bound_to(&target);
    file.update(|m| {
        for (k, v) in [
            ("access_token", &c.access_token),
            ("refresh_token", &c.refresh_token),
            ("ipg_api_key", &c.ipg_api_key),
            ("sanbod_client_id", &c.sanbod_client_id),
            ("sanbod_client_secret", &c.sanbod_client_secret),
        ] {
            m.insert(k.into(), Value::String(v.clone()));
        }
        for k in ["access_expires_at", "refresh_expires_at", "sanbod_tokens"] {
            m.remove(k);
        }
    })?;
    output::print(&format!(
        "sandbox listening on {url}\ncredentials written to {}\ntry: vandar --profile sandbox --base-url {url} --business {} balance\nstop with Ctrl-C\n",
        file.path.display(),
        c.business
    ))?;
    let _ = tokio::signal::ctrl_c().await;
    sb.shutdown().await;
    Ok(())
}

/// `vandar sandbox serve` in a slim build: says how to get it.
#[cfg(not(feature = "sandbox"))]
pub async fn serve(_: &SandboxCmd) -> Result<(), CliError> {
    Err(CliError::usage(crate::context::NO_SANDBOX))
}
