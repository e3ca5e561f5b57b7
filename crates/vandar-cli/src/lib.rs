//! `vandar`, the command-line tool for the Vandar payment APIs and Sanbod open banking.
//!
//! Built on the SDK facade ([`vandar`]), so every command inherits its host routing, auth,
//! token refresh, rate limits, retries and error model. The binary is a thin `main` over
//! [`main_entry`]; this library holds the pieces so they can be tested.
//!
//! * [`config`]: flags, environment, a TOML config file with profiles, secrets from the
//!   environment or a private secrets file; the rotated token pair is written back.
//! * [`api`]: every operation of every spec from the generated route tables, and one generic
//!   call through `Binding::call::<serde_json::Value>`.
//! * [`workflows`]: token, balance, statement export, settlements, IPG, direct debit, Sanbod,
//!   `ops` and `call`.
//! * [`output`]: tables for people, JSON for scripts, money always with its unit.
//! * [`error`]: the error type and the documented exit codes ([`error::exit`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod api;
pub mod cli;
pub mod config;
pub mod context;
pub mod error;
pub mod output;
pub mod workflows;

use std::process::ExitCode;

use clap::Parser as _;

use crate::cli::{
    Cli, Command, IpgCmd, MandateCmd, SanbodCmd, SettlementCmd, TokenCmd, TransactionsCmd,
};
use crate::config::{Overrides, Settings};
use crate::context::Ctx;
use crate::error::CliError;
use crate::output::Format;
use crate::workflows as wf;

/// Parse the command line, run the command, print any error, and return the exit code.
pub fn main_entry() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            if std::env::args_os().any(|a| a == "--json") {
                let usage = CliError::usage(
                    e.render()
                        .to_string()
                        .trim()
                        .trim_start_matches("error: ")
                        .to_owned(),
                );
                let _ = output::print_json(&error::to_json(&usage));
            } else {
                let _ = e.print();
            }
            return ExitCode::from(error::exit::USAGE);
        }
    };
    let json = cli.global.json;
    init_tracing(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(error::exit::OTHER);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                // reconcile's JSON report already says what differs: one document on stdout
                if !matches!(e, CliError::Differences(_)) {
                    let _ = output::print_json(&error::to_json(&e));
                }
            } else {
                eprintln!("{}", error::render(&e));
            }
            e.exit()
        }
    }
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let level = match verbose {
        0 => tracing::Level::ERROR,
        1 => tracing::Level::WARN,
        2 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_filter(tracing_subscriber::filter::LevelFilter::from_level(level)),
        )
        .try_init();
}

use tracing_subscriber::Layer as _;

/// Run a parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let g = &cli.global;
    let format = if g.json { Format::Json } else { Format::Human };
    match &cli.command {
        Command::Ops(args) => return wf::ops::list(args, g.json),
        Command::Completion { shell } => return wf::docs::completion(*shell),
        Command::Man { out } => return wf::docs::man(out.as_deref()),
        Command::Sandbox(cmd) => return wf::sandbox::serve(cmd).await,
        Command::Trigger(args) => {
            let base = g.base_url.as_deref().ok_or_else(|| {
                CliError::usage(
                    "trigger needs a running sandbox: pass --base-url (or VANDAR_BASE_URL)",
                )
            })?;
            return wf::sandbox::trigger(base, args, g.json).await;
        }
        _ => {}
    }
    let settings = Settings::resolve(&Overrides {
        config: g.config.clone(),
        profile: g.profile.clone(),
        sandbox: g.sandbox,
        sandbox_seed: g.sandbox_seed,
        base_url: g.base_url.clone(),
        business: g.business.clone(),
        secrets_file: g.secrets_file.clone(),
        no_rate_limit: g.no_rate_limit,
        timeout_secs: g.timeout,
    })?;
    tracing::info!(profile = %settings.profile, sandbox = settings.in_process_sandbox, "settings");
    if let Command::Call(a) = &cli.command {
        // parameters are checked against the spec before any secret is read or call is made
        let op = api::find_op(&a.operation)?;
        op.check_params(
            &wf::ops::parse_params(&a.params)?,
            settings.business.is_some(),
        )?;
    }
    if let Some(note) = settings
        .off_profile_note
        .as_deref()
        .filter(|_| !settings.in_process_sandbox)
    {
        eprintln!("note: {note}");
    }
    let mut ctx = Ctx::new(settings, format).await?;
    ctx.yes = g.yes;
    ctx.unit = g.unit;
    let result = dispatch(&ctx, &cli.command).await;
    ctx.finish().await;
    result
}

async fn dispatch(ctx: &Ctx, command: &Command) -> Result<(), CliError> {
    match command {
        Command::Token(TokenCmd::Status) => wf::token::status(ctx).await,
        Command::Token(TokenCmd::Refresh) => wf::token::refresh(ctx).await,
        Command::Token(TokenCmd::Set(args)) => wf::token::set(ctx, args).await,
        Command::Balance => wf::balance::run(ctx).await,
        Command::Transactions(TransactionsCmd::Export(a)) => {
            wf::export::run(ctx, a).await.map(drop)
        }
        Command::Settlement(c) => match c {
            SettlementCmd::Create(a) => wf::settlement::create(ctx, a).await,
            SettlementCmd::Show { id } => wf::settlement::show(ctx, id).await,
            SettlementCmd::List { page, per_page } => {
                wf::settlement::list(ctx, *page, *per_page).await
            }
            SettlementCmd::Cancel { id } => wf::settlement::cancel(ctx, id).await,
        },
        Command::Ipg(c) => match c {
            IpgCmd::Send {
                amount,
                callback_url,
                mobile,
                factor_number,
                description,
            } => {
                wf::ipg::send(
                    ctx,
                    amount,
                    callback_url,
                    mobile.as_deref(),
                    factor_number.as_deref(),
                    description.as_deref(),
                )
                .await
            }
            IpgCmd::Info { token } => wf::ipg::info(ctx, token).await,
            IpgCmd::Verify { token } => wf::ipg::verify(ctx, token).await,
        },
        Command::Mandate(c) => match c {
            MandateCmd::Banks => wf::mandate::banks(ctx).await,
            MandateCmd::Create(a) => wf::mandate::create(ctx, a).await,
            MandateCmd::Verify { id } => wf::mandate::verify(ctx, id).await,
            MandateCmd::List => wf::mandate::list(ctx).await,
            MandateCmd::Show { id } => wf::mandate::show(ctx, id).await,
            MandateCmd::Revoke { id } => wf::mandate::revoke(ctx, id).await,
            MandateCmd::Withdraw {
                mandate,
                amount,
                track_id,
            } => wf::mandate::withdraw(ctx, mandate, amount, track_id.as_deref()).await,
            MandateCmd::Withdrawal { id, track_id } => {
                wf::mandate::withdrawal(ctx, id.as_deref(), track_id.as_deref()).await
            }
        },
        Command::Sanbod(c) => match c {
            SanbodCmd::Authorize {
                provider,
                scope,
                redirect_uri,
                state,
            } => wf::sanbod::authorize(ctx, provider, scope, redirect_uri, state.as_deref()).await,
            SanbodCmd::Token {
                code,
                client_credentials,
                scope,
                provider,
                user,
            } => {
                wf::sanbod::token(
                    ctx,
                    code.as_deref(),
                    *client_credentials,
                    scope,
                    provider.as_deref(),
                    user,
                )
                .await
            }
            SanbodCmd::Transfer(a) => wf::sanbod::transfer(ctx, a).await,
            SanbodCmd::Statement { deposit, user } => {
                wf::sanbod::statement(ctx, deposit, user).await
            }
            SanbodCmd::Revoke { user } => wf::sanbod::revoke(ctx, user).await,
        },
        Command::Call(a) => wf::ops::call(ctx, a).await,
        Command::Reconcile(a) => {
            let a = wf::reconcile::effective(a, ctx.json());
            let c = wf::reconcile::run(ctx, &a).await?;
            if c.has_differences() {
                let parts: Vec<String> = wf::reconcile::KINDS[1..]
                    .iter()
                    .zip(&c.by_kind[1..])
                    .filter(|(_, n)| **n > 0)
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect();
                return Err(CliError::Differences(parts.join(", ")));
            }
            Ok(())
        }
        Command::Ops(a) => wf::ops::list(a, ctx.json()),
        Command::Completion { shell } => wf::docs::completion(*shell),
        Command::Man { out } => wf::docs::man(out.as_deref()),
        Command::Sandbox(cmd) => wf::sandbox::serve(cmd).await,
        Command::Trigger(args) => {
            wf::sandbox::trigger(
                ctx.settings.base_url.as_deref().unwrap_or_default(),
                args,
                ctx.json(),
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    fn check(cmd: &clap::Command, path: &str) {
        let help = cmd
            .get_after_help()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(
            help.contains("Examples:\n  vandar"),
            "`{path}` has no examples in --help"
        );
        for sub in cmd.get_subcommands() {
            check(sub, &format!("{path} {}", sub.get_name()));
        }
    }

    #[test]
    fn every_command_has_examples_in_its_help() {
        check(&super::Cli::command(), "vandar");
    }
}
