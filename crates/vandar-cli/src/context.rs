//! A command's context: settings, secrets, the SDK facade, the in-process sandbox.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::sync::{Arc, Mutex};

use vandar::{Config, RateLimits, Timeouts, Vandar};
#[cfg(feature = "sandbox")]
use vandar_sandbox::Sandbox;

use crate::config::{FileTokenStore, Secrets, Settings, TokenSource};
use crate::error::CliError;
use crate::output::Format;

/// Everything a command needs.
pub struct Ctx {
    /// The resolved settings.
    pub settings: Settings,
    /// The secrets (never printed).
    pub secrets: Secrets,
    /// The SDK.
    pub vandar: Vandar,
    /// Output format.
    pub format: Format,
    /// Where the token store saved the last rotated pair.
    pub token_saved_to: Option<Arc<Mutex<Option<String>>>>,
    /// The in-process sandbox, when one runs (kept alive for the command).
    #[cfg(feature = "sandbox")]
    pub sandbox: Option<Sandbox>,
    /// `--yes`: money-moving and cancelling commands are confirmed.
    pub yes: bool,
    /// `--unit`, when given.
    pub unit: Option<crate::output::Unit>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("settings", &self.settings)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

impl Ctx {
    /// Resolve secrets, start the in-process sandbox if asked, and build the SDK.
    pub async fn new(settings: Settings, format: Format) -> Result<Ctx, CliError> {
        #[cfg(not(feature = "sandbox"))]
        let secrets = if settings.in_process_sandbox {
            return Err(CliError::usage(NO_SANDBOX));
        } else {
            Secrets::load(&settings)?
        };
        #[cfg(feature = "sandbox")]
        let mut settings = settings;
        #[cfg(feature = "sandbox")]
        let (sandbox, secrets) = if settings.in_process_sandbox {
            let sb = Sandbox::builder()
                .rate_limit(settings.rate_limit)
                .start()
                .await
                .map_err(|e| {
                    CliError::Other(format!("the in-process sandbox did not start: {e}"))
                })?;
            if settings.sandbox_seed > 0 {
                sb.seed_transactions(settings.sandbox_seed)
                    .await
                    .map_err(|e| CliError::Other(format!("sandbox seeding: {e}")))?;
            }
            let creds = sb.credentials();
            settings.base_url = Some(sb.base_url().to_owned());
            settings.business.get_or_insert(creds.business.clone());
            (Some(sb), Secrets::sandbox(&creds))
        } else {
            (None, Secrets::load(&settings)?)
        };
        let mut b = Config::builder().user_agent(concat!("vandar-cli/", env!("CARGO_PKG_VERSION")));
        if let Some(base) = &settings.base_url {
            b = b.all_hosts(base);
        }
        for (host, base) in &settings.hosts {
            b = b.host(host, base);
        }
        if !settings.rate_limit {
            b = b.rate_limits(RateLimits::unlimited());
        }
        if let Some(t) = settings.timeout {
            b = b.timeouts(
                Timeouts::default()
                    .with_per_attempt(t)
                    .with_total(t.saturating_mul(2)),
            );
        }
        let mut token_saved_to = None;
        match &secrets.token {
            TokenSource::None => {}
            TokenSource::Static(token, _) => b = b.access_token(token.expose()),
            TokenSource::Pair(pair, _) => {
                let store = FileTokenStore::new(
                    pair.clone(),
                    secrets.file.clone(),
                    secrets.rotated_from_env.clone(),
                );
                token_saved_to = Some(store.saved_to());
                b = b.token_store(store).on_token_refresh(|_| {
                    tracing::info!("the Vandar token pair was rotated");
                });
            }
        }
        if let Some((id, secret, _)) = &secrets.sanbod_client {
            b = b.basic_auth(vandar::sanbod::CLIENT_SCHEME, id, secret.expose());
        }
        let config = b
            .build()
            .map_err(|e| CliError::usage(format!("configuration: {e}")))?;
        let vandar = Vandar::new(config)?;
        Ok(Ctx {
            settings,
            secrets,
            vandar,
            format,
            token_saved_to,
            #[cfg(feature = "sandbox")]
            sandbox,
            yes: false,
            unit: None,
        })
    }

    /// Confirm a money-moving or cancelling step (see [`confirm`]).
    pub fn confirm(&self, question: &str) -> Result<(), CliError> {
        confirm(question, self.yes)
    }

    /// The unit amounts are printed in: `--unit`, else the command's `default`.
    pub fn out_unit(&self, default: crate::output::Unit) -> crate::output::Unit {
        self.unit.unwrap_or(default)
    }

    /// Whether to print JSON.
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// The business slug, or a usage error saying how to set it.
    pub fn business(&self) -> Result<&str, CliError> {
        self.settings.business.as_deref().ok_or_else(|| {
            CliError::usage(
                "no business configured: pass --business, set VANDAR_BUSINESS or `business` in the profile",
            )
        })
    }

    /// Stop the in-process sandbox, if any.
    pub async fn finish(self) {
        #[cfg(feature = "sandbox")]
        if let Some(sb) = self.sandbox {
            sb.shutdown().await;
        }
    }
}

/// What a slim build (without the `sandbox` feature) says when a sandbox is asked for.
pub const NO_SANDBOX: &str = "this vandar was built without the `sandbox` feature: install it with `cargo install vandar-cli --features sandbox`, or run a sandbox elsewhere (`vandar-sandbox`, or `vandar sandbox serve` of a build with the feature) and pass --base-url";

/// Confirm a command that moves or cancels money (or a mandate): `yes` (the global `--yes`)
/// confirms; otherwise `question` is asked on stderr and only `y`/`yes` typed on a terminal
/// goes on. When stdin is not a terminal nothing is read (piped input never counts) and the
/// refusal says to pass `--yes`.
pub fn confirm(question: &str, yes: bool) -> Result<(), CliError> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        let what = question.trim_end_matches('?').replace('\n', "; ");
        return Err(CliError::ConfirmationRequired(what));
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{question} [y/N] ")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    match line.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(CliError::Cancelled),
    }
}
