//! The CLI's error type and its documented exit codes.

use std::process::ExitCode;

/// The documented exit codes of `vandar`.
///
/// | code | meaning |
/// |---|---|
/// | 0 | success |
/// | 1 | cancelled at a confirmation prompt (nothing was sent) |
/// | 2 | usage or configuration error (bad flag, missing credential, unreadable or group/world-accessible secrets file, a money command without a terminal and without `--yes`); nothing was sent |
/// | 3 | the API rejected the call (4xx/5xx answer, validation errors, refused token refresh) |
/// | 4 | outcome unknown: a money-moving call may or may not have taken effect, and a look-up could not settle it |
/// | 5 | transport, timeout, rate limit, undecodable answer or any other failure |
/// | 6 | `vandar reconcile` found differences |
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Cancelled at a confirmation prompt.
    pub const CANCELLED: u8 = 1;
    /// Usage or configuration error.
    pub const USAGE: u8 = 2;
    /// The API rejected the call.
    pub const API: u8 = 3;
    /// Outcome unknown.
    pub const OUTCOME_UNKNOWN: u8 = 4;
    /// Transport or other failure.
    pub const OTHER: u8 = 5;
    /// `vandar reconcile` found differences.
    pub const DIFFERENCES: u8 = 6;
}

/// Everything that can end a command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A bad flag combination, a missing setting or a configuration problem.
    #[error("{0}")]
    Usage(String),
    /// The user answered "no" at a confirmation prompt.
    #[error("cancelled: nothing was sent")]
    Cancelled,
    /// A command that moves or cancels money (or a mandate) ran without a terminal to ask on
    /// and without `--yes`; the text names what was not confirmed.
    #[error(
        "not confirmed, nothing was sent: {0}. stdin is not a terminal and piped input never counts as a yes; pass --yes to confirm"
    )]
    ConfirmationRequired(String),
    /// An SDK error (API rejection, transport, outcome unknown, ...).
    #[error(transparent)]
    Sdk(#[from] vandar::Error),
    /// A money call whose outcome is still unknown after the look-up; the text says what to do.
    #[error("{0}")]
    OutcomeUnknown(String),
    /// Writing output or reading input failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// `vandar reconcile` found differences (the report says which).
    #[error("reconcile found differences: {0}")]
    Differences(String),
    /// Anything else (an answer without an expected field, a sandbox that did not start).
    #[error("{0}")]
    Other(String),
}

/// `text` with sensitive shapes masked (no call's own secrets are known here).
fn scrub(text: String) -> String {
    vandar_runtime::redact::Scrubber::new().scrub_owned(text)
}

impl CliError {
    /// A usage error from any message. Card-, IBAN- and national-code-shaped digits in it are
    /// masked ([`vandar_runtime::redact`]): a usage error may quote what was typed, and a card
    /// number typed into the wrong flag must not end up in a terminal's scrollback or a CI log.
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(scrub(message.into()))
    }

    /// The process exit code for this error (see [`exit`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::ConfirmationRequired(_) => exit::USAGE,
            CliError::Cancelled => exit::CANCELLED,
            CliError::OutcomeUnknown(_) => exit::OUTCOME_UNKNOWN,
            CliError::Io(_) | CliError::Other(_) => exit::OTHER,
            CliError::Differences(_) => exit::DIFFERENCES,
            CliError::Sdk(e) => sdk_exit_code(e),
        }
    }

    /// The exit code as an [`ExitCode`].
    pub fn exit(&self) -> ExitCode {
        ExitCode::from(self.exit_code())
    }
}

/// The exit code of an SDK error.
pub fn sdk_exit_code(e: &vandar::Error) -> u8 {
    use vandar::{AuthError, Error};
    if e.is_outcome_unknown() {
        return exit::OUTCOME_UNKNOWN;
    }
    match e {
        Error::InvalidRequest(_) | Error::Config(_) => exit::USAGE,
        Error::Auth(AuthError::NoToken) => exit::USAGE,
        Error::Auth(AuthError::RefreshOutcomeUnknown { .. }) => exit::OUTCOME_UNKNOWN,
        Error::Auth(AuthError::RefreshRejected { .. } | AuthError::RefreshTokenExpired) => {
            exit::API
        }
        // Sent and answered 401: the API rejected the call.
        Error::Unauthorized { .. } => exit::API,
        Error::Api(_) | Error::Redirect { .. } | Error::UnexpectedStatus { .. } => exit::API,
        _ => exit::OTHER,
    }
}

/// A short machine name of the error's kind (the `code` of `--json` errors).
pub fn code_name(e: &CliError) -> &'static str {
    match e {
        CliError::Usage(_) => "usage",
        CliError::Cancelled => "cancelled",
        CliError::ConfirmationRequired(_) => "confirmation_required",
        CliError::OutcomeUnknown(_) => "outcome_unknown",
        CliError::Io(_) => "io",
        CliError::Other(_) => "other",
        CliError::Differences(_) => "differences",
        CliError::Sdk(sdk) => match sdk_exit_code(sdk) {
            exit::OUTCOME_UNKNOWN => "outcome_unknown",
            exit::USAGE => "invalid_request",
            exit::API => "api_rejected",
            _ if matches!(
                sdk,
                vandar::Error::Transport(_) | vandar::Error::Timeout { .. }
            ) =>
            {
                "transport"
            }
            _ => "other",
        },
    }
}

/// The `--json` form of an error: one object with `code`, `message` (English), `field_errors`
/// (`{field: [messages]}`, the API's own words), `api_messages` (the API's own words, often
/// Persian), `http_status` (when an answer came) and `exit_code`.
pub fn to_json(e: &CliError) -> serde_json::Value {
    let api = match e {
        CliError::Sdk(sdk) => sdk.api_error(),
        _ => None,
    };
    let message = match (e, api) {
        (_, Some(api)) => format!("the API refused the call (HTTP {})", api.http_status),
        (e, None) => e.to_string(),
    };
    serde_json::json!({
        "code": code_name(e),
        "message": message,
        "field_errors": api.map_or_else(|| serde_json::json!({}), |a| serde_json::json!(a.field_errors)),
        "api_messages": api.map_or_else(Vec::new, |a| a.messages.clone()),
        "http_status": api.map(|a| a.http_status),
        "exit_code": e.exit_code(),
    })
}

/// Render an error for stderr: the message, then the API's field errors one per line. Never
/// a secret: the SDK's errors are scrubbed of the call's credentials, and the CLI's own messages
/// name settings, never their values.
pub fn render(e: &CliError) -> String {
    let mut out = match e {
        CliError::Sdk(sdk) => match sdk.api_error() {
            Some(api) => {
                let mut head = format!("error: the API refused the call (HTTP {}", api.http_status);
                if let Some(code) = &api.code {
                    head.push_str(&format!(", code {code}"));
                }
                head.push(')');
                if !api.messages.is_empty() {
                    // the API's own words (often Persian), labelled as such
                    head.push_str(&format!("\n  API message: {}", api.messages.join("; ")));
                }
                head
            }
            None => format!("error: {e}"),
        },
        _ => format!("error: {e}"),
    };
    if let CliError::Sdk(sdk) = e {
        if let vandar::Error::Redirect {
            location: Some(l), ..
        } = sdk
        {
            out.push_str(&format!("\n  location: {l}"));
        }
        if let Some(api) = sdk.api_error() {
            for (field, messages) in &api.field_errors {
                for m in messages {
                    out.push_str(&format!("\n  field {field} (API message): {m}"));
                }
            }
        }
        if sdk.is_outcome_unknown() {
            out.push_str("\n  the call may have taken effect: look it up before sending it again");
        }
    }
    out
}
