//! The command line (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXIT_CODES: &str = "\
Examples:
  vandar --sandbox balance
  vandar settlement create --amount 50000 --iban IR430550011480005587452001
  vandar call list_transactions -p per_page=5 --json
  vandar completion bash > ~/.local/share/bash-completion/completions/vandar

Exit codes:
  0  success
  1  cancelled at a confirmation prompt (nothing was sent)
  2  usage or configuration error (nothing was sent)
  3  the API rejected the call (its field errors are printed)
  4  outcome unknown: a money-moving call may have taken effect and a look-up could not tell
  5  transport, timeout, rate limit or other failure
  6  reconcile found differences (missing, unknown, amount mismatches, duplicates)

Configuration: flags > environment > config file profile > built-in profile.
Config file: $XDG_CONFIG_HOME/vandar/config.toml (or ~/.config/vandar/config.toml).
Secrets: VANDAR_ACCESS_TOKEN, VANDAR_REFRESH_TOKEN, VANDAR_IPG_API_KEY, SANBOD_CLIENT_ID,
SANBOD_CLIENT_SECRET, or the profile's secrets file (JSON, chmod 600).";

/// `vandar`: the Vandar payment APIs and Sanbod open banking from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "vandar",
    version,
    about = "The Vandar payment APIs and Sanbod open banking from the command line.",
    after_help = EXIT_CODES
)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: Global,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes (listed under their own heading in every `--help`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Profile from the config file (built in: production, sandbox).
    #[arg(long, global = true, env = "VANDAR_PROFILE")]
    pub profile: Option<String>,
    /// Run against an in-process sandbox with seeded data (no account needed).
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Statement lines to seed into the in-process sandbox.
    #[arg(long, global = true, env = "VANDAR_SANDBOX_SEED", value_name = "N")]
    pub sandbox_seed: Option<usize>,
    /// Config file.
    #[arg(long, global = true, env = "VANDAR_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Send every host's requests to this base URL (e.g. a running vandar-sandbox).
    #[arg(long, global = true, env = "VANDAR_BASE_URL", value_name = "URL")]
    pub base_url: Option<String>,
    /// Business slug for `{business}` path parameters.
    #[arg(long, global = true, env = "VANDAR_BUSINESS")]
    pub business: Option<String>,
    /// Secrets file (JSON; refused when its group or others have any permission: chmod 600).
    #[arg(long, global = true, env = "VANDAR_SECRETS_FILE", value_name = "PATH")]
    pub secrets_file: Option<PathBuf>,
    /// Print JSON for scripts instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Turn the client-side rate limits off (POST 30 / others 100 per 3 s per credential).
    #[arg(long, global = true, env = "VANDAR_NO_RATE_LIMIT")]
    pub no_rate_limit: bool,
    /// Per-attempt timeout in seconds.
    #[arg(long, global = true, env = "VANDAR_TIMEOUT", value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Unit of every printed amount (default: the command's own, named in its help: Toman for
    /// balance, settlement, transactions and reconcile; Rial for ipg, mandate and sanbod).
    #[arg(long, global = true, value_enum, env = "VANDAR_UNIT")]
    pub unit: Option<crate::output::Unit>,
    /// Confirm money-moving and cancelling commands without a prompt (needed when stdin is
    /// not a terminal: piped input never counts as a "yes").
    #[arg(long, short, global = true)]
    pub yes: bool,
    /// More diagnostics on stderr (-v warnings, -vv info, -vvv debug); never secrets.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The Vandar business token pair.
    #[command(after_help = "Examples:\n  vandar token status
  vandar token refresh --json")]
    #[command(subcommand)]
    Token(TokenCmd),
    /// The business wallet balance.
    #[command(after_help = "Examples:\n  vandar balance
  vandar balance --unit rial --json")]
    Balance,
    /// The business statement.
    #[command(
        after_help = "Examples:\n  vandar transactions export --from 1403/01/01 --to 1403/01/31 -o march.csv"
    )]
    #[command(subcommand)]
    Transactions(TransactionsCmd),
    /// Settlements (payouts to an IBAN).
    #[command(
        after_help = "Examples:\n  vandar settlement create --amount 50000 --iban IR430550011480005587452001
  vandar settlement show <track-id>"
    )]
    #[command(subcommand)]
    Settlement(SettlementCmd),
    /// The payment gateway (IPG).
    #[command(
        after_help = "Examples:\n  vandar ipg send --amount 10000 --callback-url https://shop.example/back
  vandar ipg verify <token>"
    )]
    #[command(subcommand)]
    Ipg(IpgCmd),
    /// Direct debit: mandates and withdrawals.
    #[command(after_help = "Examples:\n  vandar mandate banks
  vandar mandate withdraw --mandate <id> --amount 50000 --yes")]
    #[command(subcommand)]
    Mandate(MandateCmd),
    /// Sanbod open banking: OAuth steps, transfers, statement.
    #[command(
        after_help = "Examples:\n  vandar sanbod authorize --provider 059 --scope statement --redirect-uri https://app.example/cb
  vandar sanbod statement --deposit 0101010101"
    )]
    #[command(subcommand)]
    Sanbod(SanbodCmd),
    /// List every operation of every spec.
    #[command(after_help = "Examples:\n  vandar ops
  vandar ops --product core --json")]
    Ops(OpsArgs),
    /// Call any operation by id, like `gh api`.
    #[command(after_help = "Examples:\n  vandar call list_transactions -p per_page=5
  vandar call store_settlement --body @settlement.json --yes")]
    Call(CallArgs),
    /// Match the shop's orders (CSV) against Vandar's payments of the period.
    #[command(
        after_help = "Examples:\n  vandar reconcile --orders orders.csv\n  vandar reconcile --orders orders.csv --from 1403/01/01 --to 1403/01/31 --format csv -o report.csv\n  vandar reconcile --orders orders.csv --format json --all | jq .summary\n\nThe CSV needs a header with factor_number, amount (Toman, or --orders-unit rial) and date\n(Jalali or Gregorian). Exit code 6 when anything differs."
    )]
    Reconcile(ReconcileArgs),
    /// A local sandbox (needs the `sandbox` feature).
    #[command(subcommand)]
    #[command(
        after_help = "Examples:\n  vandar sandbox serve\n  vandar sandbox serve --listen 127.0.0.1:8910 --no-rate-limit"
    )]
    Sandbox(SandboxCmd),
    /// Fire a sandbox event at a running sandbox (--base-url), like `stripe trigger`.
    #[command(
        after_help = "Examples:\n  vandar --base-url http://127.0.0.1:8910 trigger payment.paid --token <token>\n  vandar --base-url http://127.0.0.1:8910 trigger mandate.approved --token <mandate-token>\n  vandar --base-url http://127.0.0.1:8910 trigger settlement.done --id <settlement-id>"
    )]
    Trigger(TriggerArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  vandar completion bash > ~/.local/share/bash-completion/completions/vandar\n  vandar completion zsh > ~/.zfunc/_vandar\n  vandar completion fish > ~/.config/fish/completions/vandar.fish\n  vandar completion powershell >> $PROFILE"
    )]
    Completion {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory.
    #[command(
        after_help = "Examples:\n  vandar man | man -l -\n  vandar man --out /usr/local/share/man/man1"
    )]
    Man {
        /// Write `vandar.1` and one `vandar-<command>.1` per subcommand here.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
}

/// `vandar token`.
#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Rotate the token pair now and write it back where it came from.
    #[command(after_help = "Examples:\n  vandar token refresh")]
    Refresh,
    /// Where the token comes from and when it expires (never the token).
    #[command(after_help = "Examples:\n  vandar token status --json")]
    Status,
    /// Install a new token pair (after a lockout), read from standard input; with --redis,
    /// into the shared token store every replica adopts it from.
    #[command(after_help = "Examples:\n  vandar token set < new-pair.json
  vandar token set --redis rediss://redis.internal:6380 --namespace shop < new-pair.json
  printf '%s\\n%s\\n' \"$ACCESS\" \"$REFRESH\" | vandar token set")]
    Set(TokenSetArgs),
}

/// Arguments of `vandar token set`.
#[derive(Debug, Clone, clap::Args)]
pub struct TokenSetArgs {
    /// Install into this Redis token store (the one the application's replicas share) instead
    /// of the profile's secrets file. Sealed stores: the key in VANDAR_REDIS_SEALING_KEY (base64).
    /// (Needs a build with the `redis` feature.)
    #[arg(long)]
    pub redis: Option<String>,
    /// The Redis namespace the application uses.
    #[cfg(feature = "redis")]
    #[arg(long, default_value = "vandar")]
    pub namespace: String,
    /// The Vandar base URL of the account (part of the store's key, and the environment the
    /// stored pair is for: the base URL the application's runtimes are configured with).
    #[cfg(feature = "redis")]
    #[arg(long, default_value = vandar::redis::PRODUCTION_BASE_URL)]
    pub account_base_url: String,
    /// The name of the sealing key (with VANDAR_REDIS_SEALING_KEY).
    #[cfg(feature = "redis")]
    #[arg(long, default_value = "default")]
    pub sealing_key_name: String,
}

/// Output format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// `vandar transactions`.
#[derive(Debug, Subcommand)]
pub enum TransactionsCmd {
    /// Stream the statement page by page (constant memory) as CSV or JSON.
    #[command(
        after_help = "Examples:\n  vandar transactions export --from 1403/01/01 --to 1403/01/31 -o march.csv
  vandar transactions export --format json --unit rial | jq length"
    )]
    Export(ExportArgs),
}

/// `vandar transactions export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// First day (inclusive), Jalali (1403/01/15, 14030115) or Gregorian (2024-04-03).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day (inclusive), Jalali or Gregorian.
    #[arg(long)]
    pub to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Write to this file instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Rows per page (1-100).
    #[arg(long, default_value_t = 100)]
    pub per_page: u64,
    /// Only this channel.
    #[arg(long)]
    pub channel: Option<String>,
    /// Only `transactions` or `settlements`.
    #[arg(long)]
    pub status_kind: Option<String>,
    /// Only this track id.
    #[arg(long)]
    pub track_id: Option<String>,
}

/// `vandar settlement`.
#[derive(Debug, Subcommand)]
pub enum SettlementCmd {
    /// Pay out to an IBAN (asks for confirmation unless --yes).
    #[command(
        after_help = "Examples:\n  vandar settlement create --amount 50000 --iban IR430550011480005587452001
  vandar settlement create --amount '500000 Rial' --iban IR430550011480005587452001 --track-id order-17 --yes"
    )]
    Create(SettlementCreate),
    /// One settlement by id.
    #[command(
        after_help = "Examples:\n  vandar settlement show 0f8e1c7a-...   (a settlement id)
  vandar settlement show order-17       (the track id you kept)"
    )]
    Show {
        /// Settlement id (UUID) or transaction id.
        id: String,
    },
    /// Settlements, newest first.
    #[command(after_help = "Examples:\n  vandar settlement list --per-page 50")]
    List {
        /// Page number.
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Settlements per page.
        #[arg(long, default_value_t = 20)]
        per_page: u64,
    },
    /// Cancel a pending settlement (the money returns to the wallet; asks unless --yes).
    #[command(after_help = "Examples:\n  vandar settlement cancel <id>
  vandar settlement cancel <id> --yes")]
    Cancel {
        /// Settlement id.
        id: String,
    },
}

/// `vandar settlement create`.
#[derive(Debug, Args)]
pub struct SettlementCreate {
    /// Amount in Toman (`50000`, `50,000`, `50000 Toman`; `500000 Rial` is converted).
    #[arg(long)]
    pub amount: String,
    /// Destination IBAN (IR + 24 digits).
    #[arg(long)]
    pub iban: String,
    /// Your unique key for this settlement; made (UUID) and printed when left out.
    #[arg(long)]
    pub track_id: Option<String>,
    /// Instant settlement (not in the 30-minute cycles; cannot be cancelled).
    #[arg(long)]
    pub instant: bool,
    /// URL Vandar posts the final state to.
    #[arg(long)]
    pub notify_url: Option<String>,
    /// Payment number (shenase) for the receiving bank.
    #[arg(long)]
    pub payment_number: Option<String>,
    /// Description.
    #[arg(long)]
    pub description: Option<String>,
}

/// `vandar ipg`.
#[derive(Debug, Subcommand)]
pub enum IpgCmd {
    /// Register a payment and print its payment page URL.
    #[command(
        after_help = "Examples:\n  vandar ipg send --amount 10000 --callback-url https://shop.example/back --factor-number 17"
    )]
    Send {
        /// Amount in Rial (at least 1000).
        #[arg(long)]
        amount: String,
        /// Where the buyer returns after paying.
        #[arg(long)]
        callback_url: String,
        /// Buyer's mobile number.
        #[arg(long)]
        mobile: Option<String>,
        /// Invoice number.
        #[arg(long)]
        factor_number: Option<String>,
        /// Description.
        #[arg(long)]
        description: Option<String>,
    },
    /// A payment's state by token.
    #[command(after_help = "Examples:\n  vandar ipg info <token>")]
    Info {
        /// The payment token.
        token: String,
    },
    /// Verify a paid payment (once; only then is the money yours).
    #[command(after_help = "Examples:\n  vandar ipg verify <token> --json")]
    Verify {
        /// The payment token.
        token: String,
    },
}

/// `vandar mandate`.
#[derive(Debug, Subcommand)]
pub enum MandateCmd {
    /// Banks that accept mandates now.
    #[command(after_help = "Examples:\n  vandar mandate banks")]
    Banks,
    /// Ask a customer for a mandate; prints the bank page URL.
    #[command(
        after_help = "Examples:\n  vandar mandate create --bank-code 062 --mobile 09120000000 --limit 5000000 --count 4 --expiration-date 1404/12/29 --callback-url https://shop.example/mandate"
    )]
    Create(MandateCreate),
    /// Verify a mandate the customer approved (after the callback).
    #[command(after_help = "Examples:\n  vandar mandate verify <authorization-id>")]
    Verify {
        /// Authorization (mandate) id.
        id: String,
    },
    /// Mandates.
    #[command(after_help = "Examples:\n  vandar mandate list --json")]
    List,
    /// One mandate.
    #[command(after_help = "Examples:\n  vandar mandate show <authorization-id>")]
    Show {
        /// Authorization (mandate) id.
        id: String,
    },
    /// Revoke a mandate (asks unless --yes).
    #[command(after_help = "Examples:\n  vandar mandate revoke <authorization-id> --yes")]
    Revoke {
        /// Authorization (mandate) id.
        id: String,
    },
    /// Withdraw from a customer's account under a mandate (asks unless --yes).
    #[command(
        after_help = "Examples:\n  vandar mandate withdraw --mandate <authorization-id> --amount 50000 --track-id bill-17"
    )]
    Withdraw {
        /// Authorization (mandate) id.
        #[arg(long)]
        mandate: String,
        /// Amount in Rial.
        #[arg(long)]
        amount: String,
        /// Your unique key; made and printed when left out.
        #[arg(long)]
        track_id: Option<String>,
    },
    /// One withdrawal by id, or by --track-id.
    #[command(after_help = "Examples:\n  vandar mandate withdrawal <withdrawal-id>
  vandar mandate withdrawal --track-id bill-17")]
    Withdrawal {
        /// Withdrawal id.
        id: Option<String>,
        /// Look it up by track id instead.
        #[arg(long)]
        track_id: Option<String>,
    },
}

/// `vandar mandate create`.
#[derive(Debug, Args)]
pub struct MandateCreate {
    /// Bank code (see `vandar mandate banks`).
    #[arg(long)]
    pub bank_code: String,
    /// Customer's mobile number.
    #[arg(long)]
    pub mobile: String,
    /// Customer's national code.
    #[arg(long)]
    pub national_code: Option<String>,
    /// Most per withdrawal, in Rial.
    #[arg(long)]
    pub limit: String,
    /// Withdrawals per month.
    #[arg(long)]
    pub count: u32,
    /// Last day, Jalali or Gregorian.
    #[arg(long)]
    pub expiration_date: String,
    /// Where the customer returns.
    #[arg(long)]
    pub callback_url: String,
    /// Customer's name.
    #[arg(long)]
    pub name: Option<String>,
    /// Who pays the fee (e.g. APPLICATION_SELF).
    #[arg(long)]
    pub wage_type: Option<String>,
}

/// `vandar sanbod`.
#[derive(Debug, Subcommand)]
pub enum SanbodCmd {
    /// Start the consent flow: print the bank's login page URL.
    #[command(
        after_help = "Examples:\n  vandar sanbod authorize --provider 059 --scope statement normaltransfer --redirect-uri https://app.example/cb"
    )]
    Authorize {
        /// Bank (provider) code, e.g. 059.
        #[arg(long)]
        provider: String,
        /// Scopes, e.g. statement normaltransfer.
        #[arg(long, num_args = 1.., required = true)]
        scope: Vec<String>,
        /// Your callback URL.
        #[arg(long)]
        redirect_uri: String,
        /// Your anti-CSRF state.
        #[arg(long)]
        state: Option<String>,
    },
    /// Get a token (from a consent code, or client credentials) and keep it in the secrets file.
    #[command(after_help = "Examples:\n  vandar sanbod token --code <code>
  vandar sanbod token --client-credentials --provider 059 --scope iban-inquiry")]
    Token {
        /// The `code` of the consent callback (authorization code grant).
        #[arg(long, conflicts_with = "client_credentials")]
        code: Option<String>,
        /// A client-credentials token instead (conversions).
        #[arg(long)]
        client_credentials: bool,
        /// Scopes (client credentials).
        #[arg(long, num_args = 1..)]
        scope: Vec<String>,
        /// Bank (provider) code (client credentials).
        #[arg(long)]
        provider: Option<String>,
        /// Name to keep the token under.
        #[arg(long, default_value = "default")]
        user: String,
    },
    /// A transfer from the user's account (asks unless --yes).
    #[command(
        after_help = "Examples:\n  vandar sanbod transfer paya --from-deposit 0101010101 --to IR430550011480005587452001 --amount 1000000 --first-name Ali --last-name Ahmadi"
    )]
    Transfer(SanbodTransfer),
    /// The user's account statement.
    #[command(after_help = "Examples:\n  vandar sanbod statement --deposit 0101010101 --json")]
    Statement {
        /// Deposit (account) number.
        #[arg(long)]
        deposit: String,
        /// Token name.
        #[arg(long, default_value = "default")]
        user: String,
    },
    /// Revoke a kept token.
    #[command(after_help = "Examples:\n  vandar sanbod revoke --user default")]
    Revoke {
        /// Token name.
        #[arg(long, default_value = "default")]
        user: String,
    },
}

/// Sanbod transfer kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TransferKind {
    /// Internal (same bank).
    Normal,
    /// PAYA (ACH).
    Paya,
    /// SATNA (RTGS).
    Satna,
}

/// `vandar sanbod transfer`.
#[derive(Debug, Args)]
pub struct SanbodTransfer {
    /// Kind of transfer.
    #[arg(value_enum)]
    pub kind: TransferKind,
    /// Source deposit number.
    #[arg(long)]
    pub from_deposit: String,
    /// Destination deposit number (normal) or IBAN (PAYA/SATNA).
    #[arg(long)]
    pub to: String,
    /// Amount in Rial.
    #[arg(long)]
    pub amount: String,
    /// Receiver's first name (PAYA/SATNA).
    #[arg(long)]
    pub first_name: Option<String>,
    /// Receiver's last name (PAYA/SATNA).
    #[arg(long)]
    pub last_name: Option<String>,
    /// Description.
    #[arg(long)]
    pub description: Option<String>,
    /// Token name.
    #[arg(long, default_value = "default")]
    pub user: String,
}

/// Report formats of `vandar reconcile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Aligned columns for people.
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object: `rows` and `summary`.
    Json,
}

/// `vandar reconcile`.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The shop's orders: CSV with factor_number, amount and date columns.
    #[arg(long, value_name = "CSV")]
    pub orders: PathBuf,
    /// First day of the period (default: the earliest order), Jalali or Gregorian.
    #[arg(long)]
    pub from: Option<String>,
    /// Last day of the period (default: the latest order), Jalali or Gregorian.
    #[arg(long)]
    pub to: Option<String>,
    /// Report format (with --json: json).
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Write the report here instead of stdout.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// List matched orders too (by default only differences are listed; all are counted).
    #[arg(long)]
    pub all: bool,
    /// Unit of the orders' amount column (the report uses --unit, Toman by default).
    #[arg(long, value_enum, default_value = "toman")]
    pub orders_unit: crate::output::Unit,
}

/// `vandar sandbox`.
#[derive(Debug, Subcommand)]
pub enum SandboxCmd {
    /// Run a persistent sandbox until Ctrl-C; its credentials go to the secrets file of
    /// `--profile sandbox --base-url <its URL>`.
    #[command(
        after_help = "Examples:\n  vandar sandbox serve\n  vandar sandbox serve --listen 127.0.0.1:0 --seed 100"
    )]
    Serve {
        /// Address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8910", value_name = "HOST:PORT")]
        listen: std::net::SocketAddr,
        /// Do not enforce the documented rate limits.
        #[arg(long)]
        no_rate_limit: bool,
        /// Statement lines to seed.
        #[arg(long, default_value_t = 0, value_name = "N")]
        seed: usize,
    },
}

/// Sandbox events for `vandar trigger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Event {
    /// The buyer pays on the IPG page (`--token`).
    #[value(name = "payment.paid")]
    PaymentPaid,
    /// The buyer cancels on the IPG page (`--token`).
    #[value(name = "payment.failed")]
    PaymentFailed,
    /// The customer approves a mandate at the bank (`--token`).
    #[value(name = "mandate.approved")]
    MandateApproved,
    /// The customer rejects a mandate at the bank (`--token`).
    #[value(name = "mandate.rejected")]
    MandateRejected,
    /// A settlement is paid out (`--id`).
    #[value(name = "settlement.done")]
    SettlementDone,
    /// A settlement fails and its money returns (`--id`).
    #[value(name = "settlement.failed")]
    SettlementFailed,
    /// The notify POST of a settlement is sent again (`--id`).
    #[value(name = "notify.resend")]
    NotifyResend,
}

/// `vandar trigger`.
#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// The event.
    #[arg(value_enum)]
    pub event: Event,
    /// The payment or mandate token (payment.*, mandate.*).
    #[arg(long)]
    pub token: Option<String>,
    /// The settlement id (settlement.*), or the notification id (notify.resend; `GET /__sandbox/notifications` lists them).
    #[arg(long)]
    pub id: Option<String>,
}

/// `vandar ops`.
#[derive(Debug, Args)]
pub struct OpsArgs {
    /// Only this product (ipg, core, subscription, ravand, sanbod).
    #[arg(long)]
    pub product: Option<String>,
}

/// `vandar call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// Operation id, or product:operation_id when several products use it.
    pub operation: String,
    /// A path or query parameter, `name=value` (repeatable). `business` defaults to the
    /// configured business.
    #[arg(long = "param", short = 'p', value_name = "K=V")]
    pub params: Vec<String>,
    /// JSON body: `@file.json`, `-` for stdin, or inline JSON.
    #[arg(long)]
    pub body: Option<String>,
}
