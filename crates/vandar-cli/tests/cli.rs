//! Command tests: the `vandar` binary against a sandbox on 127.0.0.1 (started in the test, or
//! in-process in the CLI with `--sandbox`), with insta snapshots of outputs (volatile values
//! redacted).

use std::path::PathBuf;
use std::process::Output;

use assert_cmd::Command;
use serde_json::{Value, json};
use vandar_sandbox::{Fault, FaultKind, Sandbox};

const BIN: &str = env!("CARGO_BIN_EXE_vandar");

/// `mandate create` of a 100,000 Rial, 4-a-month mandate, JSON out.
const MANDATE_CREATE: [&str; 15] = [
    "--json",
    "mandate",
    "create",
    "--bank-code",
    "062",
    "--mobile",
    "09123456789",
    "--limit",
    "100000",
    "--count",
    "4",
    "--expiration-date",
    "1410/01/01",
    "--callback-url",
    "https://shop.example/dd",
];

/// A settlement with an IBAN the CLI refuses before sending.
const BAD_IBAN: [&str; 6] = ["settlement", "create", "--amount", "5000", "--iban", "IR00"];

struct Harness {
    sb: Sandbox,
    dir: tempfile::TempDir,
}

impl Harness {
    async fn new() -> Harness {
        let sb = Sandbox::builder()
            .rate_limit(false)
            .start()
            .await
            .expect("sandbox starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let h = Harness { sb, dir };
        let c = h.sb.credentials();
        h.write_secrets(&json!({
            "access_token": c.access_token,
            "refresh_token": c.refresh_token,
            "ipg_api_key": c.ipg_api_key,
            "sanbod_client_id": c.sanbod_client_id,
            "sanbod_client_secret": c.sanbod_client_secret,
        }));
        h
    }

    fn secrets(&self) -> PathBuf {
        self.dir.path().join("secrets.json")
    }

    fn write_secrets(&self, v: &Value) {
        std::fs::write(self.secrets(), v.to_string()).expect("write secrets");
        set_mode(&self.secrets(), 0o600);
    }

    fn read_secrets(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.secrets()).expect("read")).expect("json")
    }

    /// `vandar --base-url <sandbox> --business sandbox --secrets-file <tmp> ARGS`.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = bare(self.dir.path());
        c.args([
            "--base-url",
            self.sb.base_url(),
            "--business",
            "sandbox",
            "--secrets-file",
        ])
        .arg(self.secrets())
        .args(args);
        c
    }
}

#[cfg(unix)]
fn set_mode(p: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[cfg(not(unix))]
fn set_mode(_: &std::path::Path, _: u32) {}

/// The binary with a clean environment: HOME and the config dir in `home`.
fn bare(home: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_clear()
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .timeout(std::time::Duration::from_secs(120));
    c
}

async fn run(mut c: Command) -> Output {
    tokio::task::spawn_blocking(move || c.output().expect("runs"))
        .await
        .expect("joined")
}

async fn run_in(mut c: Command, stdin: &str) -> Output {
    c.write_stdin(stdin.to_owned());
    run(c).await
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn ok(o: &Output) -> &Output {
    assert_eq!(code(o), 0, "stdout:\n{}\nstderr:\n{}", stdout(o), stderr(o));
    o
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

/// Snapshot filters for volatile values.
fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[uuid]",
        ),
        (r"127\.0\.0\.1:\d+", "[sandbox]"),
        (
            r"\d{2}:\d{2}:\d{2} - \d{4}/\d{1,2}/\d{1,2}",
            "[time - jalali date]",
        ),
        (r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}( UTC)?", "[datetime]"),
        (r"\d{4}-\d{2}-\d{2}", "[date]"),
        (r"\d{4}/\d{2}/\d{2}", "[jalali date]"),
        (r"\d{2}:\d{2}:\d{2}", "[time]"),
        (r"in \d+d \d+h \d+m", "[in ...]"),
        (r"/v4/[A-Z0-9]{15}", "/v4/[token]"),
        (r"\b[A-Z0-9]{15}\b", "[token]"),
        (r"/tmp/\S+", "[path]"),
    ]
}

macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => filters(), prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ops_lists_every_operation_of_every_spec() {
    let home = tempfile::tempdir().unwrap();
    let mut c = bare(home.path());
    c.args(["ops", "--json"]);
    let o = run(c).await;
    let list = json_of(ok(&o));
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), vandar_cli::api::all_ops().count());
    for product in ["ipg", "core", "subscription", "ravand", "sanbod"] {
        assert!(list.iter().any(|o| o["product"] == product), "{product}");
    }
    for item in list {
        for key in [
            "product",
            "operation_id",
            "method",
            "host",
            "path",
            "moves_money",
        ] {
            assert!(item.get(key).is_some(), "{key} missing in {item}");
        }
    }
    let send = list
        .iter()
        .find(|o| o["operation_id"] == "store_settlement")
        .expect("store_settlement listed");
    assert_eq!(send["moves_money"], true);
    assert_eq!(send["retried"], false);
    assert_eq!(send["method"], "POST");
    // "moves money" is not "not retried": a harmless write is neither retried nor money
    let field = list
        .iter()
        .find(|o| o["operation_id"] == "create_customer_field")
        .expect("create_customer_field listed");
    assert_eq!(
        (&field["moves_money"], &field["retried"]),
        (&json!(false), &json!(false))
    );
    let cancel = list
        .iter()
        .find(|o| o["operation_id"] == "cancel_settlement")
        .expect("cancel_settlement listed");
    assert_eq!(cancel["moves_money"], true);
    assert!(
        list.iter()
            .all(|o| o["summary"].as_str().is_some_and(|s| !s.is_empty()))
    );

    // the whole table fits 120 columns and has the summary column
    let mut c = bare(home.path());
    c.args(["ops"]);
    let o = run(c).await;
    let table = stdout(ok(&o));
    let header = table.lines().next().unwrap_or_default();
    for col in ["MONEY", "RETRIED", "SUMMARY"] {
        assert!(header.contains(col), "{header}");
    }
    for line in table.lines() {
        assert!(
            line.chars().count() <= 120,
            "{} wide: {line}",
            line.chars().count()
        );
    }
    assert_eq!(table.lines().count(), list.len() + 1);
    let balance = list
        .iter()
        .find(|o| o["operation_id"] == "get_balance" && o["product"] == "core")
        .expect("get_balance listed");
    assert_eq!(balance["moves_money"], false);

    let mut c = bare(home.path());
    c.args(["ops", "--product", "ipg"]);
    let o = run(c).await;
    snap!("ops_ipg", stdout(ok(&o)));
}

#[cfg(not(feature = "sandbox"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slim_build_says_how_to_get_the_sandbox() {
    let home = tempfile::tempdir().unwrap();
    for args in [&["--sandbox", "balance"][..], &["sandbox", "serve"][..]] {
        let mut c = bare(home.path());
        c.args(args);
        let o = run(c).await;
        assert_eq!(code(&o), 2, "{args:?}");
        assert!(stderr(&o).contains("--features sandbox"), "{}", stderr(&o));
    }
}

#[cfg(not(feature = "redis"))]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_slim_build_says_how_to_get_redis() {
    let home = tempfile::tempdir().unwrap();
    let mut c = bare(home.path());
    c.args(["token", "set", "--redis", "redis://127.0.0.1:1"]);
    let o = run_in(c, "{\"access_token\": \"a-1\", \"refresh_token\": \"r-1\"}").await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--features redis"), "{}", stderr(&o));
}

#[cfg(feature = "sandbox")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_sandbox_balance_export_and_token_status() {
    let home = tempfile::tempdir().unwrap();
    let mut c = bare(home.path());
    c.args(["--sandbox", "--sandbox-seed", "5", "balance"]);
    let o = run(c).await;
    snap!("sandbox_balance", stdout(ok(&o)));

    let mut c = bare(home.path());
    c.args([
        "--sandbox",
        "--sandbox-seed",
        "5",
        "transactions",
        "export",
        "--format",
        "csv",
    ]);
    let o = run(c).await;
    snap!("sandbox_export_csv", stdout(ok(&o)));
    assert!(stderr(&o).contains("exported 6 rows"), "{}", stderr(&o));
    // piped: no progress bar on stderr, only the summary
    assert_eq!(
        stderr(&o),
        "exported 6 rows (1 pages); sum of amounts: 5,084,190 Toman\n"
    );

    let mut c = bare(home.path());
    c.args(["--sandbox", "token", "status"]);
    let o = run(c).await;
    snap!("sandbox_token_status", stdout(ok(&o)));
}

/// Parse the exported CSV (Toman): (rows, sum of amount).
fn csv_rows_and_sum(text: &str) -> (i64, i64) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().expect("header").clone();
    let idx = headers
        .iter()
        .position(|h| h == "amount")
        .expect("amount column");
    let unit = headers
        .iter()
        .position(|h| h == "unit")
        .expect("unit column");
    let (mut rows, mut sum) = (0, 0);
    for rec in r.records() {
        let rec = rec.expect("record");
        rows += 1;
        assert_eq!(&rec[unit], "toman");
        sum += rec[idx].parse::<i64>().expect("amount");
    }
    (rows, sum)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_row_count_and_sum_match_the_statement_and_balance() {
    let h = Harness::new().await;
    let seeded = h.sb.seed_transactions(1_234).await.expect("seeded");
    let out = h.dir.path().join("statement.csv");
    let o = run(h.cmd(&[
        "transactions",
        "export",
        "--format",
        "csv",
        "--output",
        out.to_str().unwrap(),
    ]))
    .await;
    ok(&o);
    let text = std::fs::read_to_string(&out).unwrap();
    let (rows, sum) = csv_rows_and_sum(&text);
    assert_eq!(rows, 1_235, "the opening balance and 1,234 seeded lines");
    assert_eq!(sum, seeded.wallet_toman);
    let balance = json_of(ok(&run(h.cmd(&["--json", "balance"])).await));
    assert_eq!(balance["wallet"].as_i64(), Some(sum));
    assert!(
        stderr(&o).contains(&format!(
            "exported 1235 rows (13 pages); sum of amounts: {:#}",
            vandar::domain::Toman::new(sum)
        )),
        "{}",
        stderr(&o)
    );

    // JSON to stdout: the same rows
    let o = run(h.cmd(&["transactions", "export", "--format", "json"])).await;
    let rows = json_of(ok(&o));
    let rows = rows.as_array().expect("array");
    assert_eq!(rows.len(), 1_235);
    let total: i64 = rows.iter().map(|r| r["amount"].as_i64().unwrap()).sum();
    assert_eq!(total, sum);

    // Dates, Jalali or Gregorian: a range before every line, and one around all of them
    let o = run(h.cmd(&["transactions", "export", "--to", "2020-01-01"])).await;
    assert_eq!(csv_rows_and_sum(&stdout(ok(&o))).0, 0);
    let o = run(h.cmd(&[
        "transactions",
        "export",
        "--from",
        "1390/01/01",
        "--to",
        "1499/12/29",
    ]))
    .await;
    assert_eq!(csv_rows_and_sum(&stdout(ok(&o))).0, 1_235);
    let o = run(h.cmd(&["transactions", "export", "--from", "yesterday"])).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("Jalali"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlement_create_asks_first_and_prints_field_errors() {
    let h = Harness::new().await;
    let iban = "IR430550011480005587452001";
    // a "y" from a pipe never counts: refused, nothing sent, the message says --yes
    let o = run_in(
        h.cmd(&[
            "settlement",
            "create",
            "--amount",
            "50000",
            "--iban",
            iban,
            "--track-id",
            "t-1",
        ]),
        "y\n",
    )
    .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("pass --yes"), "{}", stderr(&o));
    let o = run(h.cmd(&["--json", "settlement", "list"])).await;
    assert_eq!(json_of(ok(&o))["total"], 0);

    // --yes, track id given
    let o = run(h.cmd(&[
        "settlement",
        "create",
        "--amount",
        "50,000",
        "--iban",
        iban,
        "--track-id",
        "t-1",
        "--yes",
    ]))
    .await;
    snap!("settlement_create", stdout(ok(&o)));

    // --yes, track id made and printed
    let o = run(h.cmd(&[
        "--json",
        "settlement",
        "create",
        "--amount",
        "60000 Toman",
        "--iban",
        iban,
        "--yes",
    ]))
    .await;
    let j = json_of(ok(&o));
    assert!(j["track_id"].as_str().is_some_and(|t| t.len() == 36), "{j}");
    assert_eq!(j["track_id_made"], true);
    assert_eq!(j["settlement"]["amount"], 60000);
    let id = j["settlement"]["id"].as_str().unwrap().to_owned();

    // the API's field errors, exit 3
    let o = run(h.cmd(&[
        "settlement",
        "create",
        "--amount",
        "50000",
        "--iban",
        iban,
        "--track-id",
        "t-1",
        "--yes",
    ]))
    .await;
    assert_eq!(code(&o), 3);
    snap!("settlement_duplicate_track_id_stderr", stderr(&o));

    // usage errors, exit 2
    let o = run(h.cmd(&[
        "settlement",
        "create",
        "--amount",
        "5 Rial",
        "--iban",
        iban,
        "--yes",
    ]))
    .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    // no made-up track id is printed when validation stops the call
    assert!(!stderr(&o).contains("track id"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    let o = run(h.cmd(&[&BAD_IBAN[..], &["--yes"]].concat())).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));

    let o = run(h.cmd(&["settlement", "list"])).await;
    snap!("settlement_list", stdout(ok(&o)));
    let o = run(h.cmd(&["settlement", "show", &id])).await;
    assert!(stdout(ok(&o)).contains("60,000 Toman"), "{}", stdout(&o));
    // cancelling asks too: refused without a terminal and without --yes
    let o = run(h.cmd(&["settlement", "cancel", &id])).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("pass --yes"), "{}", stderr(&o));
    let o = run(h.cmd(&["settlement", "cancel", &id, "--yes"])).await;
    assert!(stdout(ok(&o)).contains("cancelled"));
    let o = run(h.cmd(&["settlement", "cancel", &id, "--yes"])).await;
    assert_eq!(code(&o), 3, "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlement_with_a_lost_answer_is_looked_up_before_anything_is_said() {
    let h = Harness::new().await;
    let iban = "IR430550011480005587452001";
    // A settlement that took effect, then a call whose answer is lost (the connection drops):
    // the CLI finds it by its track id and says it was registered, exit 0.
    let o = run(h.cmd(&[
        "settlement",
        "create",
        "--amount",
        "50000",
        "--iban",
        iban,
        "--track-id",
        "late-1",
        "--yes",
    ]))
    .await;
    ok(&o);
    h.sb.inject_fault(Fault {
        operation: "store_settlement".into(),
        spec: None,
        count: 1,
        kind: FaultKind::Drop,
    })
    .await
    .unwrap();
    let o = run(settle(&h, "late-1")).await;
    let j = json_of(ok(&o));
    assert_eq!(j["answer_lost"], true);
    assert_eq!(j["settlement"]["track_id"], "late-1");
    // the shape does not change when the answer was lost: same keys as a normal create
    let normal = json_of(ok(&run(settle(&h, "shape-1")).await));
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&j), keys(&normal));
    assert_eq!(keys(&j["settlement"]), keys(&normal["settlement"]));
    assert_eq!(j["settlement"]["amount"], normal["settlement"]["amount"]);
    assert_eq!(
        stderr(&o),
        "the settlement was registered (found by its track id)\n",
        "nothing is said before the look-up's result"
    );

    // The connection drops before the server acts: not found, exit 4 with what to do.
    h.sb.inject_fault(Fault {
        operation: "store_settlement".into(),
        spec: None,
        count: 1,
        kind: FaultKind::Drop,
    })
    .await
    .unwrap();
    let o = run(h.cmd(&[
        "settlement",
        "create",
        "--amount",
        "50000",
        "--iban",
        iban,
        "--track-id",
        "lost-1",
        "--yes",
    ]))
    .await;
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("--track-id lost-1"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_refresh_writes_the_rotated_pair_back() {
    let h = Harness::new().await;
    let o = run(h.cmd(&["token", "status"])).await;
    snap!("token_status_file", stdout(ok(&o)));
    let before = h.read_secrets();
    let o = run(h.cmd(&["token", "refresh"])).await;
    ok(&o);
    let after = h.read_secrets();
    let creds = h.sb.credentials();
    assert_ne!(after["refresh_token"], before["refresh_token"]);
    assert_eq!(after["access_token"], creds.access_token);
    assert_eq!(after["refresh_token"], creds.refresh_token);
    assert_eq!(
        after["ipg_api_key"], before["ipg_api_key"],
        "other secrets kept"
    );
    assert!(after["access_expires_at"].as_u64().is_some());
    for text in [stdout(&o), stderr(&o)] {
        assert!(!text.contains(&creds.access_token) && !text.contains(&creds.refresh_token));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(h.secrets()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // the rotated pair works
    ok(&run(h.cmd(&["balance"])).await);

    // an expired access token: the runtime refreshes on its own (token store) and the
    // rotated pair lands in the file
    let mut expired = h.read_secrets();
    let spent = expired["refresh_token"].clone();
    expired["access_expires_at"] = json!(1_000_000_000u64);
    h.write_secrets(&expired);
    let o = run(h.cmd(&["--json", "balance"])).await;
    assert_eq!(json_of(ok(&o))["wallet"], 5_000_000);
    let after = h.read_secrets();
    assert_ne!(after["refresh_token"], spent);
    assert_eq!(after["refresh_token"], h.sb.credentials().refresh_token);
    assert!(after["access_expires_at"].as_u64().unwrap() > 1_000_000_000);

    // world-readable: refused, exit 2, nothing sent
    set_mode(&h.secrets(), 0o644);
    let o = run(h.cmd(&["balance"])).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("chmod 600"), "{}", stderr(&o));
    set_mode(&h.secrets(), 0o600);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pair_from_the_environment_is_rotated_into_the_secrets_file() {
    let h = Harness::new().await;
    let creds = h.sb.credentials();
    let file = h.dir.path().join("from-env.json");
    let with_env = |args: &[&str]| {
        let mut c = bare(h.dir.path());
        c.env("VANDAR_ACCESS_TOKEN", &creds.access_token)
            .env("VANDAR_REFRESH_TOKEN", &creds.refresh_token)
            .env("VANDAR_BASE_URL", h.sb.base_url())
            .env("VANDAR_BUSINESS", "sandbox")
            .env("VANDAR_SECRETS_FILE", &file)
            .args(args);
        c
    };
    let o = run(with_env(&["token", "status"])).await;
    assert!(
        stdout(ok(&o)).contains("environment (VANDAR_REFRESH_TOKEN)"),
        "{}",
        stdout(&o)
    );
    ok(&run(with_env(&["token", "refresh"])).await);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["refresh_token"], h.sb.credentials().refresh_token);
    assert!(saved["rotated_from_env"].is_string());
    // the same (now spent) environment: the newer pair from the file is used
    let o = run(with_env(&["token", "status"])).await;
    assert!(stdout(ok(&o)).contains("secrets file"), "{}", stdout(&o));
    ok(&run(with_env(&["balance"])).await);
    // and again: the file's pair rotates, the environment stays spent and ignored
    ok(&run(with_env(&["token", "refresh"])).await);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["refresh_token"], h.sb.credentials().refresh_token);
    assert!(saved["rotated_from_env"].is_string());
    ok(&run(with_env(&["balance"])).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipg_send_pay_verify_twice() {
    let h = Harness::new().await;
    let o = run(h.cmd(&[
        "ipg",
        "send",
        "--amount",
        "250000",
        "--callback-url",
        "https://shop.example/cb",
        "--factor-number",
        "INV-7",
    ]))
    .await;
    snap!("ipg_send", stdout(ok(&o)));
    let o = run(h.cmd(&[
        "--json",
        "ipg",
        "send",
        "--amount",
        "250000",
        "--callback-url",
        "https://shop.example/cb",
    ]))
    .await;
    let token = json_of(ok(&o))["token"].as_str().unwrap().to_owned();
    h.sb.pay_ipg(&token).await.expect("paid");
    let o = run(h.cmd(&["ipg", "info", &token])).await;
    assert!(stdout(ok(&o)).contains("250,000 Rial"), "{}", stdout(&o));
    let o = run(h.cmd(&["ipg", "verify", &token])).await;
    assert!(stdout(ok(&o)).starts_with("verified"), "{}", stdout(&o));
    let o = run(h.cmd(&["--json", "ipg", "verify", &token])).await;
    assert_eq!(json_of(ok(&o))["outcome"], "already_verified");
    let o = run(h.cmd(&[
        "ipg",
        "send",
        "--amount",
        "10",
        "--callback-url",
        "https://shop.example/cb",
    ]))
    .await;
    assert_eq!(
        code(&o),
        2,
        "below the spec's minimum: refused before sending\n{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_reaches_any_operation_through_the_pipeline() {
    let h = Harness::new().await;
    let o = run(h.cmd(&["call", "core:get_balance"])).await;
    assert_eq!(json_of(ok(&o))["data"]["wallet"], 5_000_000);
    let o = run(h.cmd(&["call", "get_settlement"])).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("settlement"), "{}", stderr(&o));
    let o = run(h.cmd(&["call", "no_such_op"])).await;
    assert_eq!(code(&o), 2);
    let body = h.dir.path().join("body.json");
    std::fs::write(
        &body,
        r#"{"amount": 5000, "iban": "IR430550011480005587452001", "track_id": "call-1"}"#,
    )
    .unwrap();
    let o = run(h.cmd(&[
        "call",
        "store_settlement",
        "--body",
        &format!("@{}", body.display()),
        "--yes",
    ]))
    .await;
    let j = json_of(ok(&o));
    let id = j["data"]["settlement"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // path parameters are filled (percent-encoded), the rest goes to the query
    let o = run(h.cmd(&[
        "call",
        "get_settlement",
        "--param",
        &format!("settlement={id}"),
    ]))
    .await;
    assert_eq!(json_of(ok(&o))["data"]["settlement"]["track_id"], "call-1");
    let o = run(h.cmd(&[
        "call",
        "list_transactions",
        "-p",
        "track_id=call-1",
        "-p",
        "per_page=5",
    ]))
    .await;
    let data = &json_of(ok(&o))["data"];
    assert_eq!(data.as_array().map(Vec::len), Some(1), "{data}");
    // body from stdin; a money call asks first
    let o = run_in(
        h.cmd(&["call", "store_settlement", "--body", "-"]),
        r#"{"amount": 5000, "iban": "IR430550011480005587452001", "track_id": "call-2"}"#,
    )
    .await;
    assert_eq!(
        code(&o),
        2,
        "stdin is not a terminal: not confirmed\n{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("pass --yes"), "{}", stderr(&o));
    // an API rejection through `call`: exit 3 with the field errors
    let o = run(h.cmd(&[
        "call",
        "store_settlement",
        "--body",
        &format!("@{}", body.display()),
        "--yes",
    ]))
    .await;
    assert_eq!(code(&o), 3);
    assert!(
        stderr(&o).contains("field track_id (API message): The track id has already been taken."),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mandate_flow_with_the_bank_page() {
    let h = Harness::new().await;
    let o = run(h.cmd(&["mandate", "banks"])).await;
    snap!("mandate_banks", stdout(ok(&o)));
    let o = run(h.cmd(&MANDATE_CREATE)).await;
    let j = json_of(ok(&o));
    let token = j["token"].as_str().unwrap().to_owned();
    assert!(j["bank_page_url"].as_str().unwrap().ends_with(&token));
    let callback = h.sb.approve_mandate(&token).await.expect("approved");
    let id = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "authorization_id")
        .map(|(_, v)| v.into_owned())
        .expect("authorization_id");
    ok(&run(h.cmd(&["mandate", "verify", &id])).await);
    let o = run(h.cmd(&["mandate", "list"])).await;
    assert!(stdout(ok(&o)).contains("100,000 Rial"), "{}", stdout(&o));
    let o = run(h.cmd(&[
        "--json",
        "mandate",
        "withdraw",
        "--mandate",
        &id,
        "--amount",
        "50000",
        "--track-id",
        "w-1",
        "--yes",
    ]))
    .await;
    assert_eq!(json_of(ok(&o))["withdrawal"]["track_id"], "w-1");
    // a lost answer: looked up by track id (found: exit 0; not found: exit 4)
    for (track, expected) in [("w-1", 0), ("w-lost", 4)] {
        h.sb.inject_fault(Fault {
            operation: "store_withdrawal".into(),
            spec: None,
            count: 1,
            kind: FaultKind::Drop,
        })
        .await
        .unwrap();
        let o = run(h.cmd(&[
            "--json",
            "mandate",
            "withdraw",
            "--mandate",
            &id,
            "--amount",
            "50000",
            "--track-id",
            track,
            "--yes",
        ]))
        .await;
        assert_eq!(code(&o), expected, "{track}: {}", stderr(&o));
        if expected == 0 {
            let j = json_of(&o);
            assert_eq!(j["answer_lost"], true);
            assert_eq!(j["withdrawal"]["track_id"], track);
        } else {
            // with --json the error is one object on stdout
            let e = json_of(&o);
            assert_eq!(
                (&e["code"], &e["exit_code"]),
                (&json!("outcome_unknown"), &json!(4))
            );
            assert!(
                e["message"].as_str().unwrap().contains("--track-id w-lost"),
                "{e}"
            );
        }
    }
    let o = run(h.cmd(&["mandate", "withdrawal", "--track-id", "w-1"])).await;
    assert!(stdout(ok(&o)).contains("50,000 Rial"), "{}", stdout(&o));
    let o = run(h.cmd(&[
        "mandate",
        "withdraw",
        "--mandate",
        &id,
        "--amount",
        "5000000",
        "--yes",
    ]))
    .await;
    assert_eq!(code(&o), 3);
    assert!(stderr(&o).contains("field amount"), "{}", stderr(&o));
    assert_eq!(code(&run(h.cmd(&["mandate", "revoke", &id])).await), 2);
    ok(&run(h.cmd(&["mandate", "revoke", &id, "--yes"])).await);
}

/// `args` without the flag `drop` (and its value), and with the value of `change.0` set to
/// `change.1`.
fn edited(args: &[&str], drop: Option<&str>, change: Option<(&str, &str)>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i];
        if Some(a) == drop {
            i += 2;
            continue;
        }
        out.push(a.to_owned());
        if let Some((flag, value)) = change
            && a == flag
        {
            out.push(value.to_owned());
            i += 2;
            continue;
        }
        i += 1;
    }
    out
}

/// Run the binary on the sandbox with owned arguments.
async fn run_args(h: &Harness, args: &[String]) -> Output {
    run(h.cmd(&args.iter().map(String::as_str).collect::<Vec<_>>())).await
}

/// Bad flags of the typed workflows are refused, naming the flag, before anything is sent. A
/// one-shot fault (the connection dropped, so the outcome is unknown: exit 4) waits on the
/// operation; none of the refused commands meets it, the first good one does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_workflows_refuse_bad_flags_before_sending() {
    let h = Harness::new().await;
    let arm = |operation: &str| {
        let fault = Fault {
            operation: operation.into(),
            spec: None,
            count: 1,
            kind: FaultKind::Drop,
        };
        let sb = &h.sb;
        async move { sb.inject_fault(fault).await.expect("fault") }
    };
    // mandate create
    arm("store_authorization").await;
    for (flag, bad) in [
        ("--mobile", "0912"),
        ("--mobile", "not a phone"),
        ("--limit", "a lot"),
        ("--expiration-date", "next year"),
        ("--callback-url", "shop.example/dd"),
        ("--bank-code", ""),
    ] {
        let args = edited(&MANDATE_CREATE, None, Some((flag, bad)));
        let o = run_args(&h, &args).await;
        assert_eq!(code(&o), 2, "{flag} {bad}: {}", stdout(&o));
        let e = json_of(&o);
        assert_eq!(e["code"], "usage", "{flag}: {e}");
        assert!(
            e["message"].as_str().unwrap().starts_with(flag),
            "{flag}: {e}"
        );
    }
    for (flag, bad) in [
        ("--national-code", "1234567890"),
        ("--wage-type", "SOMEONE_ELSE"),
    ] {
        let args = [&MANDATE_CREATE[..], &[flag, bad]].concat();
        let o = run(h.cmd(&args)).await;
        assert_eq!(code(&o), 2, "{flag}: {}", stdout(&o));
        assert!(stdout(&o).contains(flag), "{flag}: {}", stdout(&o));
    }
    // the first good one meets the fault, the next one works
    assert_eq!(code(&run(h.cmd(&MANDATE_CREATE)).await), 4);
    ok(&run(h.cmd(&MANDATE_CREATE)).await);

    // mandate withdraw (money: checked before the confirmation too)
    arm("store_withdrawal").await;
    let withdraw = [
        "mandate",
        "withdraw",
        "--mandate",
        "9f307e30-dc77-11ea-830e-7533ca1787c5",
        "--amount",
        "50000",
        "--track-id",
        "w-typed",
        "--yes",
    ];
    let long_track = "t".repeat(65);
    for (flag, bad) in [
        ("--amount", "fifty"),
        ("--track-id", long_track.as_str()),
        ("--mandate", ""),
    ] {
        let args = edited(&withdraw, None, Some((flag, bad)));
        let o = run_args(&h, &args).await;
        assert_eq!(code(&o), 2, "{flag}: {}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{flag}: {}", stderr(&o));
    }
    // without --yes and a terminal, a bad flag is still named (not the confirmation)
    let args = edited(&withdraw, Some("--yes"), Some(("--amount", "fifty")));
    let o = run_args(&h, &args).await;
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("--amount") && !stderr(&o).contains("pass --yes"),
        "{}",
        stderr(&o)
    );
    // the good one (an unknown mandate) meets the dropped connection: outcome unknown
    assert_eq!(code(&run(h.cmd(&withdraw)).await), 4);

    // settlement create: the notify URL is checked like the rest
    arm("store_settlement").await;
    let mut bad_url = settle(&h, "typed-0");
    bad_url.args(["--notify-url", "callback"]);
    let e = json_of(&run(bad_url).await);
    assert_eq!(e["exit_code"], 2, "{e}");
    assert!(
        e["message"].as_str().unwrap().starts_with("--notify-url"),
        "{e}"
    );
    let o = run(h.cmd(&[&BAD_IBAN[..], &["--yes"]].concat())).await;
    assert!(stderr(&o).contains("--iban"), "{}", stderr(&o));
    assert_eq!(code(&run(settle(&h, "typed-1")).await), 4);
    // the reads too
    let o = run(h.cmd(&["settlement", "list", "--per-page", "0"])).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--per-page"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sanbod_consent_code_transfer_statement_revoke() {
    let h = Harness::new().await;
    let o = run(h.cmd(&[
        "--json",
        "sanbod",
        "authorize",
        "--provider",
        "059",
        "--scope",
        "statement",
        "normaltransfer",
        "--redirect-uri",
        "https://app.example/cb",
        "--state",
        "s1",
    ]))
    .await;
    let page = json_of(ok(&o))["consent_url"].as_str().unwrap().to_owned();
    let session = page.rsplit('/').next().unwrap().to_owned();
    let callback =
        h.sb.decide_sanbod_consent(&session, true)
            .await
            .expect("allowed");
    let code_ = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code");
    let o = run(h.cmd(&["sanbod", "token", "--code", &code_])).await;
    ok(&o);
    let kept = h.read_secrets();
    let token = kept["sanbod_tokens"]["default"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!stdout(&o).contains(&token) && !stderr(&o).contains(&token));
    let o = run(h.cmd(&["sanbod", "statement", "--deposit", "119-813-2618257-1"])).await;
    assert!(stdout(ok(&o)).contains("Rial"), "{}", stdout(&o));
    let o = run(h.cmd(&[
        "sanbod",
        "transfer",
        "normal",
        "--from-deposit",
        "119-813-2618257-1",
        "--to",
        "119-813-2295556-1",
        "--amount",
        "20000",
        "--yes",
    ]))
    .await;
    assert!(stdout(ok(&o)).contains("transfer sent"));
    // a lost transfer answer: exit 4, with where to look
    h.sb.inject_fault(Fault {
        operation: "normal_transfer".into(),
        spec: None,
        count: 1,
        kind: FaultKind::Drop,
    })
    .await
    .unwrap();
    let o = run(h.cmd(&[
        "sanbod",
        "transfer",
        "normal",
        "--from-deposit",
        "119-813-2618257-1",
        "--to",
        "119-813-2295556-1",
        "--amount",
        "20000",
        "--yes",
    ]))
    .await;
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("statement"), "{}", stderr(&o));
    // PAYA was not consented to: 403, exit 3
    let paya = [
        "sanbod",
        "transfer",
        "paya",
        "--from-deposit",
        "119-813-2618257-1",
        "--to",
        "IR410590011981302618257001",
        "--amount",
        "20000",
        "--first-name",
        "a",
        "--last-name",
        "b",
        "--description",
        "rent",
        "--yes",
    ];
    let o = run(h.cmd(&paya)).await;
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    // typed requests: PAYA needs the receiver's names and a description, and `--to` is an
    // IBAN; refused locally, naming the flag (exit 2, nothing printed on stdout)
    for (drop, change, flag) in [
        (Some("--description"), None, "--description"),
        (Some("--last-name"), None, "--last-name"),
        (None, Some(("--to", "IR410590011981302618257002")), "--to"),
        (None, Some(("--amount", "twenty")), "--amount"),
        (None, Some(("--from-deposit", "")), "--from-deposit"),
    ] {
        let args = edited(&paya, drop, change);
        let o = run_args(&h, &args).await;
        assert_eq!(code(&o), 2, "{flag}: {}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{flag}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{flag}: {}", stdout(&o));
    }
    ok(&run(h.cmd(&["sanbod", "revoke"])).await);
    assert!(h.read_secrets()["sanbod_tokens"].get("default").is_none());
    let o = run(h.cmd(&["sanbod", "statement", "--deposit", "119-813-2618257-1"])).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_name_no_secret_and_profiles_come_from_the_config_file() {
    let h = Harness::new().await;
    // a wrong token: 401, the refresh token is spent... the message shows neither token
    h.write_secrets(
        &json!({"access_token": "wrong-SECRET-access-1", "ipg_api_key": "wrong-SECRET-key-2"}),
    );
    let o = run(h.cmd(&["-vvv", "balance"])).await;
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let o2 = run(h.cmd(&["-vvv", "ipg", "info", "ABC"])).await;
    assert_eq!(code(&o2), 3, "{}", stderr(&o2));
    for text in [stdout(&o), stderr(&o), stdout(&o2), stderr(&o2)] {
        assert!(!text.contains("SECRET"), "{text}");
    }

    // a config file with profiles
    let c = h.sb.credentials();
    h.write_secrets(&json!({"access_token": c.access_token, "refresh_token": c.refresh_token}));
    let config = h.dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "default_profile = \"staging\"\n[profiles.staging]\nbase_url = \"{}\"\nbusiness = \"sandbox\"\nsecrets_file = \"{}\"\n",
            h.sb.base_url(),
            h.secrets().display()
        ),
    )
    .unwrap();
    let mut cmd = bare(h.dir.path());
    cmd.args(["--config", config.to_str().unwrap(), "--json", "balance"]);
    assert_eq!(json_of(ok(&run(cmd).await))["wallet"], 5_000_000);
    let mut cmd = bare(h.dir.path());
    cmd.args([
        "--config",
        config.to_str().unwrap(),
        "--profile",
        "nope",
        "balance",
    ]);
    let o = run(cmd).await;
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("unknown profile `nope`"),
        "{}",
        stderr(&o)
    );
    // no business: exit 2, nothing sent
    let mut cmd = bare(h.dir.path());
    cmd.args(["--base-url", h.sb.base_url(), "balance"]);
    assert_eq!(code(&run(cmd).await), 2);
    // clap usage error: exit 2
    let mut cmd = bare(h.dir.path());
    cmd.args(["settlement", "create"]);
    assert_eq!(code(&run(cmd).await), 2);
}

/// Run `vandar ARGS` (with the harness's flags) on a pseudo-terminal (util-linux `script`), typing
/// `input`; stdout and stderr come back merged in `stdout`.
async fn run_tty(h: &Harness, args: &[&str], input: &str) -> Output {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let secrets = h.secrets();
    let mut line = vec![
        quote(BIN),
        "--base-url".into(),
        quote(h.sb.base_url()),
        "--business".into(),
        "sandbox".into(),
        "--secrets-file".into(),
        quote(secrets.to_str().expect("utf-8 path")),
    ];
    line.extend(args.iter().map(|a| quote(a)));
    let mut c = Command::new("script");
    c.env_clear()
        .env("HOME", h.dir.path())
        .env("XDG_CONFIG_HOME", h.dir.path().join("config"))
        .env("PATH", "/usr/bin:/bin")
        .args(["-qec", &line.join(" "), "/dev/null"])
        .timeout(std::time::Duration::from_secs(120));
    run_in(c, input).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_prompt_shows_the_full_iban_and_the_holder_and_needs_a_terminal_yes() {
    let h = Harness::new().await;
    let iban = "IR430550011480005587452001";
    let args = [
        "settlement",
        "create",
        "--amount",
        "70000",
        "--iban",
        iban,
        "--track-id",
        "tty-1",
    ];
    let o = run_tty(&h, &args, "n\n").await;
    let text = stdout(&o);
    assert_eq!(code(&o), 1, "{text}");
    assert!(text.contains(&format!("to IBAN {iban}")), "{text}");
    assert!(text.contains("holder: "), "{text}");
    assert!(text.contains("cancelled: nothing was sent"), "{text}");
    let o = run(h.cmd(&["--json", "settlement", "list"])).await;
    assert_eq!(json_of(ok(&o))["total"], 0);
    // a yes typed on the terminal goes on
    let o = run_tty(&h, &args, "y\n").await;
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("settlement registered"),
        "{}",
        stdout(&o)
    );
    let o = run(h.cmd(&["--json", "settlement", "list"])).await;
    assert_eq!(json_of(ok(&o))["total"], 1);
    // --yes with piped stdin: no prompt, nothing read
    let mut again = args;
    again[7] = "tty-2";
    let mut cmd = h.cmd(&again);
    cmd.arg("--yes");
    let o = run_in(cmd, "n\n").await;
    ok(&o);
    assert!(!stderr(&o).contains("[y/N]"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_sent_elsewhere_never_writes_the_profile_secrets() {
    let h = Harness::new().await;
    let c = h.sb.credentials();
    let cfg = h.dir.path().join("config").join("vandar");
    std::fs::create_dir_all(&cfg).unwrap();
    let prod = cfg.join("production.secrets.json");
    let prod_text = r#"{"access_token":"PROD-access","refresh_token":"PROD-refresh"}"#;
    std::fs::write(&prod, prod_text).unwrap();
    set_mode(&prod, 0o600);
    // the production profile, sent to the sandbox with its tokens from the environment
    let mut cmd = bare(h.dir.path());
    cmd.env("VANDAR_ACCESS_TOKEN", &c.access_token)
        .env("VANDAR_REFRESH_TOKEN", &c.refresh_token)
        .args(["--base-url", h.sb.base_url(), "--business", "sandbox"])
        .args(["token", "refresh"]);
    let o = run(cmd).await;
    ok(&o);
    let port = h.sb.local_addr().port();
    let named = cfg.join(format!("production@127.0.0.1_{port}.secrets.json"));
    assert!(
        stderr(&o).contains(&format!("{}", named.display())),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("not profile `production`'s"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&prod).unwrap(), prod_text);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&named).unwrap()).unwrap();
    assert_eq!(written["base_url"], h.sb.base_url().trim_end_matches('/'));
    assert!(written["refresh_token"].is_string());

    // the production file once bound to production: an explicit --secrets-file to it with
    // another base URL is refused (nothing read, nothing written)
    let bound =
        r#"{"access_token":"PROD-access","refresh_token":"PROD-refresh","base_url":"production"}"#;
    std::fs::write(&prod, bound).unwrap();
    set_mode(&prod, 0o600);
    let mut cmd = bare(h.dir.path());
    cmd.args(["--base-url", h.sb.base_url(), "--business", "sandbox"])
        .arg("--secrets-file")
        .arg(&prod)
        .args(["token", "refresh"]);
    let o = run(cmd).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("belongs to base URL production"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("PROD-"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&prod).unwrap(), bound);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_files_with_group_or_other_bits_are_refused() {
    let h = Harness::new().await;
    for mode in [0o640, 0o660, 0o620, 0o604, 0o610, 0o602] {
        set_mode(&h.secrets(), mode);
        let o = run(h.cmd(&["balance"])).await;
        assert_eq!(code(&o), 2, "mode {mode:o}: {}", stderr(&o));
        assert!(stderr(&o).contains("chmod 600"), "{}", stderr(&o));
        assert!(!stderr(&o).contains(&h.sb.credentials().access_token));
    }
    for mode in [0o600, 0o400] {
        set_mode(&h.secrets(), mode);
        ok(&run(h.cmd(&["balance"])).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_scripts_and_man_pages() {
    let home = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _vandar"),
        ("zsh", "#compdef vandar"),
        ("fish", "complete -c vandar"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let mut c = bare(home.path());
        c.args(["completion", shell]);
        let o = run(c).await;
        let text = stdout(ok(&o));
        assert!(text.contains(marker), "{shell}: {text}");
        assert!(text.contains("settlement"), "{shell}");
    }
    let mut c = bare(home.path());
    c.args(["completion", "tcsh"]);
    assert_eq!(code(&run(c).await), 2);

    let mut c = bare(home.path());
    c.arg("man");
    let o = run(c).await;
    let page = stdout(ok(&o));
    assert!(page.contains(".TH vandar 1"), "{page}");
    assert!(page.contains("settlement"), "{page}");
    let dir = home.path().join("man1");
    let mut c = bare(home.path());
    c.args(["man", "--out"]).arg(&dir);
    ok(&run(c).await);
    for name in [
        "vandar.1",
        "vandar-settlement.1",
        "vandar-settlement-create.1",
        "vandar-call.1",
    ] {
        let text =
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.starts_with(".ie") || text.contains(".TH"), "{name}");
    }
    let create = std::fs::read_to_string(dir.join("vandar-settlement-create.1")).unwrap();
    assert!(create.contains("\\-\\-iban"), "{create}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_has_examples_and_lists_global_flags_apart() {
    let home = tempfile::tempdir().unwrap();
    let mut c = bare(home.path());
    c.args(["settlement", "create", "--help"]);
    let o = run(c).await;
    let help = stdout(ok(&o));
    let (own, global) = help
        .split_once("Global options:")
        .expect("a Global options heading");
    let global = global.split("Examples:").next().unwrap_or_default();
    assert!(
        own.contains("--iban") && !own.contains("--profile"),
        "{own}"
    );
    assert!(global.contains("--profile") && global.contains("--yes") && !global.contains("--iban"));
    assert!(
        help.contains("Examples:\n  vandar settlement create"),
        "{help}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_errors_are_one_object() {
    let h = Harness::new().await;
    // an API rejection with field errors
    let body = h.dir.path().join("body.json");
    std::fs::write(
        &body,
        r#"{"amount": 5000, "iban": "IR430550011480005587452001", "track_id": "j-1"}"#,
    )
    .unwrap();
    let send = |h: &Harness| {
        let mut c = h.cmd(&["--json", "call", "store_settlement", "--yes", "--body"]);
        c.arg(format!("@{}", body.display()));
        c
    };
    ok(&run(send(&h)).await);
    let o = run(send(&h)).await;
    assert_eq!(code(&o), 3, "{}", stderr(&o));
    let e = json_of(&o);
    assert_eq!(e["code"], "api_rejected");
    assert_eq!(e["exit_code"], 3);
    assert_eq!(e["http_status"], 422);
    assert!(e["field_errors"]["track_id"].is_array(), "{e}");
    assert!(e["message"].as_str().is_some_and(|m| m.is_ascii()), "{e}");
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
    // a usage error of clap, and one of the CLI
    let mut c = bare(h.dir.path());
    c.args(["--json", "settlement", "creat"]);
    let o = run(c).await;
    assert_eq!(code(&o), 2);
    let e = json_of(&o);
    assert_eq!((&e["code"], &e["exit_code"]), (&json!("usage"), &json!(2)));
    assert!(e["message"].as_str().unwrap().contains("'create'"), "{e}");
    let o = run(h.cmd(&[&["--json"], &BAD_IBAN[..]].concat())).await;
    assert_eq!(json_of(&o)["code"], "usage");
    // the refusal to move money without a terminal
    let o = run(h.cmd(&["--json", "settlement", "cancel", "x"])).await;
    let e = json_of(&o);
    assert_eq!(e["code"], "confirmation_required");
    assert!(e["message"].as_str().unwrap().contains("--yes"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_checks_parameters_against_the_spec_before_sending() {
    let home = tempfile::tempdir().unwrap();
    // nothing listens on this port: a request that went out would end in a transport error
    // (exit 5); every refusal below is exit 2, so nothing was sent
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let cases: [(&[&str], &str); 9] = [
        (
            &["call", "list_transactionz"],
            "did you mean one of `list_transactions`",
        ),
        (&["call", "get_balanc"], "did you mean"),
        (
            &["call", "list_transactions", "-p", "per_page=abc"],
            "parameter `per_page`: is not an integer",
        ),
        // a value typed without its name, or in the wrong place, is never quoted back
        (
            &["call", "list_transactions", "-p", "6037997599999993"],
            "--param number 1 is not name=value",
        ),
        (
            &[
                "call",
                "list_transactions",
                "-p",
                "per_page=6037997599999993x",
            ],
            "parameter `per_page`: is not an integer",
        ),
        (
            &["settlement", "create", "--amount", "6037997599999993x"],
            "--amount",
        ),
        (
            &["call", "list_transactions", "-p", "perpage=5"],
            "has no parameter `perpage`; did you mean `per_page`?",
        ),
        (
            &["call", "list_transactions", "-p", "per_page=0"],
            "below the minimum 1",
        ),
        (
            &["call", "get_settlement"],
            "needs the path parameter `settlement`",
        ),
    ];
    for (args, expected) in cases {
        let mut c = bare(home.path());
        c.env("VANDAR_ACCESS_TOKEN", "t")
            .args(["--base-url", &url, "--business", "shop"])
            .args(args);
        let o = run(c).await;
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expected), "{args:?}: {}", stderr(&o));
        assert!(
            !stderr(&o).contains("6037997599999993") && !stdout(&o).contains("6037997599999993"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    // a valid call does go out (and fails on the closed port: exit 5)
    let mut c = bare(home.path());
    c.env("VANDAR_ACCESS_TOKEN", "t")
        .args(["--base-url", &url, "--business", "shop", "--timeout", "1"])
        .args(["call", "list_transactions", "-p", "per_page=5"]);
    assert_eq!(code(&run(c).await), 5);
}

/// `--json settlement create` of 50,000 Toman to the test IBAN with this track id, `--yes`.
fn settle(h: &Harness, track_id: &str) -> Command {
    h.cmd(&[
        "--json",
        "settlement",
        "create",
        "--amount",
        "50000",
        "--iban",
        "IR430550011480005587452001",
        "--track-id",
        track_id,
        "--yes",
    ])
}

/// `ipg send` through the CLI; the payment token.
async fn send_payment(h: &Harness, amount: &str, factor: &str) -> String {
    let o = run(h.cmd(&[
        "--json",
        "ipg",
        "send",
        "--amount",
        amount,
        "--callback-url",
        "https://shop.example/cb",
        "--factor-number",
        factor,
    ]))
    .await;
    json_of(ok(&o))["token"].as_str().expect("token").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_fires_payment_and_mandate_events() {
    let h = Harness::new().await;
    let trigger = |args: &[&str]| {
        let mut c = bare(h.dir.path());
        c.args(["--base-url", h.sb.base_url(), "trigger"])
            .args(args);
        c
    };
    // paid: verify then succeeds
    let paid = send_payment(&h, "150000", "T-1").await;
    let o = run(trigger(&["payment.paid", "--token", &paid])).await;
    assert!(
        stdout(ok(&o)).starts_with("payment.paid: done"),
        "{}",
        stdout(&o)
    );
    let o = run(h.cmd(&["--json", "ipg", "verify", &paid])).await;
    assert_eq!(json_of(ok(&o))["outcome"], "verified");
    // failed: the payment cannot be paid any more, and verify is refused
    let failed = send_payment(&h, "150000", "T-2").await;
    ok(&run(trigger(&["payment.failed", "--token", &failed])).await);
    let o = run(trigger(&["payment.paid", "--token", &failed])).await;
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the sandbox refused the event (HTTP 409"),
        "{}",
        stderr(&o)
    );
    assert_eq!(code(&run(h.cmd(&["ipg", "verify", &failed])).await), 3);
    // mandate approved / rejected
    for (event, approved) in [("mandate.approved", true), ("mandate.rejected", false)] {
        let o = run(h.cmd(&MANDATE_CREATE)).await;
        let token = json_of(ok(&o))["token"].as_str().unwrap().to_owned();
        let o = run(trigger(&["--json", event, "--token", &token])).await;
        let j = json_of(ok(&o));
        assert_eq!(j["event"], event);
        let redirect = j["answer"]["redirect_url"].as_str().unwrap_or_default();
        assert_eq!(redirect.contains("authorization_id"), approved, "{j}");
    }
    // an event without what it needs, and without a sandbox to send it to
    let o = run(trigger(&["payment.paid"])).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--token"), "{}", stderr(&o));
    let mut c = bare(h.dir.path());
    c.args(["trigger", "payment.paid", "--token", "x"]);
    let o = run(c).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--base-url"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_fires_settlement_events() {
    let h = Harness::new().await;
    for (event, status) in [("settlement.done", "DONE"), ("settlement.failed", "FAILED")] {
        let track = format!("trig-{event}");
        let o = run(settle(&h, &track)).await;
        let id = json_of(ok(&o))["settlement"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut c = bare(h.dir.path());
        c.args(["--base-url", h.sb.base_url(), "trigger", event, "--id", &id]);
        ok(&run(c).await);
        let o = run(h.cmd(&["--json", "settlement", "show", &id])).await;
        let shown = json_of(ok(&o)).to_string();
        assert!(shown.to_uppercase().contains(status), "{event}: {shown}");
        // The settlement's webhook, sent again (the newest notification).
        let listed: serde_json::Value = reqwest::get(format!(
            "{}/__sandbox/notifications",
            h.sb.base_url().trim_end_matches('/')
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let Some(newest) = listed["notifications"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| {
                listed["notifications"][0]["id"]
                    .as_u64()
                    .map(|n| n.to_string())
            })
        else {
            continue;
        };
        let mut c = bare(h.dir.path());
        c.args([
            "--base-url",
            h.sb.base_url(),
            "trigger",
            "notify.resend",
            "--id",
            &newest,
        ]);
        ok(&run(c).await);
    }
}

#[cfg(feature = "sandbox")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_serve_runs_until_stopped_and_its_credentials_work() {
    use std::io::BufRead as _;
    let home = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(BIN)
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .args([
            "sandbox",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-rate-limit",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = tokio::task::block_in_place(|| lines.next())
        .expect("a line")
        .expect("utf-8");
    let url = first
        .strip_prefix("sandbox listening on ")
        .expect("the URL first")
        .to_owned();
    for _ in 0..2 {
        let mut c = bare(home.path());
        c.args([
            "--profile",
            "sandbox",
            "--base-url",
            &url,
            "--business",
            "sandbox",
            "--json",
            "balance",
        ]);
        let o = run(c).await;
        assert_eq!(json_of(ok(&o))["wallet"], 5_000_000, "{}", stderr(&o));
    }
    child.kill().expect("stopped");
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unit_per_command_and_the_export_columns() {
    let h = Harness::new().await;
    h.sb.seed_transactions(30).await.expect("seeded");
    // balance: Toman by default, Rial when asked; JSON amounts are numbers with a unit
    let toman = json_of(ok(&run(h.cmd(&["--json", "balance"])).await));
    let rial = json_of(ok(
        &run(h.cmd(&["--json", "--unit", "rial", "balance"])).await
    ));
    assert_eq!(toman["unit"], "toman");
    assert_eq!(rial["unit"], "rial");
    let w = toman["wallet"].as_i64().expect("a number");
    assert_eq!(rial["wallet"].as_i64(), Some(w * 10));
    assert!(toman.get("currency").is_none());
    let text = stdout(ok(&run(h.cmd(&["--unit", "rial", "balance"])).await));
    assert!(
        text.contains(&format!("{:#}", vandar::domain::Rial::new(w * 10))),
        "{text}"
    );
    assert!(!text.contains("Toman"), "{text}");
    // settlement create (the API answers in Rial and Toman) prints one unit
    let o = run(settle(&h, "u-1")).await;
    let j = json_of(ok(&o));
    assert_eq!(j["settlement"]["unit"], "toman");
    assert_eq!(j["settlement"]["amount"], 50000);
    assert!(j["settlement"].get("amount_toman").is_none(), "{j}");
    let text = stdout(ok(&run(h.cmd(&["settlement", "show", "u-1"])).await));
    assert!(
        text.contains("50,000 Toman") && !text.contains("Rial"),
        "{text}"
    );
    let mut c = settle(&h, "u-2");
    c.args(["--unit", "rial"]);
    assert_eq!(json_of(ok(&run(c).await))["settlement"]["amount"], 500000);
    // export: ISO-8601 instants, zero-padded Jalali, status name and code, one unit
    let o = run(h.cmd(&["--unit", "rial", "transactions", "export"])).await;
    let csv_text = stdout(ok(&o));
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{name}"))
    };
    let iso = shape("9999-99-99T99:99:99Z");
    let jal = shape("1499/99/99 99:99:99");
    let mut n = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        n += 1;
        assert!(
            iso(&rec[col("created_at")]),
            "{:?}",
            &rec[col("created_at")]
        );
        assert!(
            jal(&rec[col("created_at_jalali")]),
            "{:?}",
            &rec[col("created_at_jalali")]
        );
        assert_eq!(&rec[col("unit")], "rial");
        let code = &rec[col("status_code")];
        let name = &rec[col("status")];
        assert!(
            matches!(
                (code, name),
                ("1", "succeeded") | ("0", "failed") | (_, "other")
            ),
            "{code} {name}"
        );
    }
    assert!(n >= 30, "{n}");
}

/// Whether `text` has the shape of `template`, where `9` stands for any digit.
fn shape(template: &'static str) -> impl Fn(&str) -> bool {
    move |text: &str| {
        text.chars().count() == template.chars().count()
            && text
                .chars()
                .zip(template.chars())
                .all(|(c, t)| if t == '9' { c.is_ascii_digit() } else { c == t })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlement_show_finds_the_track_id_the_cli_told_you_to_keep() {
    let h = Harness::new().await;
    // a made track id: printed (with the advice to keep it) only once the settlement exists
    let o = run(h.cmd(&[
        "settlement",
        "create",
        "--amount",
        "51000",
        "--iban",
        "IR430550011480005587452001",
        "--yes",
    ]))
    .await;
    let text = stdout(ok(&o));
    let line = text
        .lines()
        .find(|l| l.starts_with("track id: "))
        .expect("the track id");
    assert!(line.contains("keep it"), "{line}");
    let track = line["track id: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    let by_track = json_of(ok(
        &run(h.cmd(&["--json", "settlement", "show", &track])).await
    ));
    assert_eq!(by_track["track_id"], track.as_str());
    assert_eq!(by_track["amount"], 51000);
    // by its id too, same shape
    let id = by_track["id"].as_str().unwrap().to_owned();
    let by_id = json_of(ok(&run(h.cmd(&["--json", "settlement", "show", &id])).await));
    assert_eq!(by_id, by_track);
    // the statement export filtered by the track id has its line, track id column filled
    let o = run(h.cmd(&[
        "transactions",
        "export",
        "--format",
        "csv",
        "--track-id",
        &track,
    ]))
    .await;
    let csv = stdout(ok(&o));
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|c| *c == "track_id").unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(!rows.is_empty(), "{csv}");
    for row in rows {
        assert_eq!(row.split(',').nth(col), Some(track.as_str()), "{csv}");
    }
    // neither: a clear error naming what was looked for
    let o = run(h.cmd(&["settlement", "show", "no-such-track"])).await;
    assert_ne!(code(&o), 0);
    assert!(stderr(&o).contains("no-such-track"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_reports_every_kind_of_difference() {
    let h = Harness::new().await;
    // the Vandar side: paid payments with factor numbers (amounts in Rial at the gateway)
    let pay = |amount: &'static str, factor: &'static str| {
        let h = &h;
        async move {
            let token = send_payment(h, amount, factor).await;
            h.sb.pay_ipg(&token).await.expect("paid");
            ok(&run(h.cmd(&["ipg", "verify", &token])).await);
        }
    };
    pay("100000", "F-1").await; // matched: 10,000 Toman
    pay("200000", "F-2").await; // amount mismatch: the shop says 25,000 Toman
    pay("300000", "F-3").await; // unknown to the shop
    pay("400000", "F-4").await; // ordered twice by the shop
    pay("500000", "F-5").await; // paid twice at Vandar
    pay("500000", "F-5").await;
    // orders dated inside a wide period (no dependence on today's date)
    let today = "1403/01/15";
    let orders = h.dir.path().join("orders.csv");
    std::fs::write(
        &orders,
        format!(
            "factor_number,amount,date,customer\nF-1,\"10,000\",{today},a\nF-2,25000,{today},b\nF-4,40000,{today},c\nF-4,40000,{today},c\nF-5,50000,{today},d\nF-9,90000,{today},e\n"
        ),
    )
    .unwrap();
    let orders_arg = orders.to_str().unwrap();
    let rec = |args: &[&str]| {
        let mut c = h.cmd(&[
            "reconcile",
            "--from",
            "2020-01-01",
            "--to",
            "2099-12-31",
            "--orders",
            orders_arg,
        ]);
        c.args(args);
        c
    };
    // JSON: every kind, with its count; exit 6
    let o = run(rec(&["--json", "--all"])).await;
    assert_eq!(code(&o), 6, "{}", stderr(&o));
    let j = json_of(&o);
    let counts = &j["summary"]["counts"];
    assert_eq!(
        counts,
        &json!({"matched": 3, "amount_mismatch": 1, "missing_at_vandar": 1, "unknown_to_shop": 1, "duplicate_order": 1, "duplicate_at_vandar": 1}),
        "{j}"
    );
    assert_eq!(j["summary"]["differences"], true);
    let rows = j["rows"].as_array().unwrap();
    let find = |kind: &str| {
        rows.iter()
            .filter(|r| r["kind"] == kind)
            .collect::<Vec<_>>()
    };
    assert_eq!(find("amount_mismatch")[0]["factor_number"], "F-2");
    assert_eq!(find("amount_mismatch")[0]["order_amount"], 25000);
    assert_eq!(find("amount_mismatch")[0]["vandar_amount"], 20000);
    assert_eq!(find("amount_mismatch")[0]["unit"], "toman");
    assert_eq!(find("missing_at_vandar")[0]["factor_number"], "F-9");
    assert_eq!(find("unknown_to_shop")[0]["factor_number"], "F-3");
    assert_eq!(find("duplicate_order")[0]["factor_number"], "F-4");
    assert_eq!(find("duplicate_at_vandar")[0]["factor_number"], "F-5");
    // CSV in Rial, only the differences
    let o = run(rec(&["--unit", "rial", "--format", "csv"])).await;
    assert_eq!(code(&o), 6);
    let text = stdout(&o);
    assert!(
        text.starts_with("kind,factor_number,order_amount,vandar_amount,unit"),
        "{text}"
    );
    assert!(
        text.contains("amount_mismatch,F-2,250000,200000,rial"),
        "{text}"
    );
    assert!(!text.contains("matched,F-1"), "{text}");
    assert!(stderr(&o).contains("matched 3"), "{}", stderr(&o));
    // the table
    let o = run(rec(&[])).await;
    assert_eq!(code(&o), 6);
    assert!(stdout(&o).contains("25,000 Toman"), "{}", stdout(&o));
    // everything matches: exit 0
    std::fs::write(
        &orders,
        format!("factor_number,amount,date\nF-1,10000,{today}\nF-2,20000,{today}\nF-3,30000,{today}\nF-4,40000,{today}\n"),
    )
    .unwrap();
    let o = run(rec(&["--json"])).await;
    // F-5 (paid twice, not ordered) still differs
    assert_eq!(code(&o), 6);
    let mut ok_orders = std::fs::read_to_string(&orders).unwrap();
    ok_orders.push_str(&format!("F-5,50000,{today}\n"));
    std::fs::write(&orders, ok_orders).unwrap();
    let o = run(rec(&["--json"])).await;
    let j = json_of(&o);
    assert_eq!(j["summary"]["counts"]["duplicate_at_vandar"], 1, "{j}");
    // bad input: the field is named, nothing is fetched
    std::fs::write(&orders, "factor_number,amount,date\nF-1,abc,2024-01-01\n").unwrap();
    let o = run(rec(&[])).await;
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("line 2: field amount `abc`"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&orders, "factor,sum\nF-1,1\n").unwrap();
    let o = run(rec(&[])).await;
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no `amount` column"), "{}", stderr(&o));
}

/// `reconcile` cuts its period into day windows walked at once: over statement lines spread
/// across several days every line is counted once (none lost or doubled at a window's edge).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_counts_every_line_once_across_day_windows() {
    let h = Harness::new().await;
    // 6,000 lines 30 s apart: 50 hours, three or four Tehran days; 5,400 are IPG payments
    let n = 6_000usize;
    h.sb.seed_transactions(n).await.expect("seeded");
    let orders = h.dir.path().join("orders.csv");
    let mut text = String::from("factor_number,amount,date\n");
    for i in (0..n).filter(|i| i % 10 != 9) {
        let toman = 1_000 + (i as i64 * 7_919) % 99_000;
        let amount = if i == 0 { toman + 1 } else { toman };
        text.push_str(&format!("SEED-{i},{amount},\n"));
    }
    text.push_str("LOST-1,5000,\n");
    std::fs::write(&orders, text).unwrap();
    // six days around today (UTC dates; Tehran's day is at most one later)
    let today = chrono::DateTime::from_timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
        0,
    )
    .unwrap()
    .date_naive();
    let from = (today - chrono::Duration::days(4)).to_string();
    let to = (today + chrono::Duration::days(1)).to_string();
    let o = run(h.cmd(&[
        "--json",
        "reconcile",
        "--from",
        &from,
        "--to",
        &to,
        "--orders",
        orders.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(code(&o), 6, "{}", stderr(&o));
    let j = json_of(&o);
    assert_eq!(j["summary"]["vandar_lines"], 5_400, "{}", j["summary"]);
    assert_eq!(
        j["summary"]["counts"],
        json!({"matched": 5_399, "amount_mismatch": 1, "missing_at_vandar": 1, "unknown_to_shop": 0, "duplicate_order": 0, "duplicate_at_vandar": 0}),
        "{}",
        j["summary"]
    );
}

/// `vandar token set --redis` writes the pair for the account's environment: a runtime of that
/// environment (its base URL, a store made with the same account) uses it; one of another
/// environment refuses it. Needs `redis-server` (skipped without it, unless
/// `VANDAR_REQUIRE_REDIS=1`).
#[cfg(feature = "redis")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_set_into_redis_names_the_accounts_environment() {
    use vandar::redis::{Account, RedisConnection, RedisTokenStore};
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    /// Killed on drop, also when the test fails.
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let child = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let _server = match child {
        Ok(c) => Server(c),
        Err(e) if std::env::var("VANDAR_REQUIRE_REDIS").as_deref() != Ok("1") => {
            eprintln!("SKIPPED: redis-server cannot be run ({e})");
            return;
        }
        Err(e) => panic!("redis-server cannot be run ({e}) (VANDAR_REQUIRE_REDIS=1)"),
    };
    let redis = format!("redis://127.0.0.1:{port}/");
    for _ in 0..250 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // A sandbox on 127.0.0.1 (never called: the install only writes the store).
    let sandbox = "http://127.0.0.1:9";
    let home = tempfile::tempdir().unwrap();
    let mut c = bare(home.path());
    c.args([
        "--business",
        "shop",
        "token",
        "set",
        "--redis",
        &redis,
        "--namespace",
        "ns",
        "--account-base-url",
        sandbox,
    ]);
    ok(&run_in(c, "{\"access_token\": \"a-1\", \"refresh_token\": \"r-1\"}").await);
    let runtime = |base: &str| {
        let store = RedisTokenStore::new(
            RedisConnection::open(&redis).unwrap(),
            "ns",
            &Account::new("shop", sandbox).unwrap(),
        )
        .unwrap();
        vandar::Runtime::new(
            vandar::Config::builder()
                .all_hosts(base)
                .token_store(store)
                .build()
                .unwrap(),
        )
        .unwrap()
    };
    let pair = runtime(sandbox).token_pair().await.unwrap().unwrap();
    assert_eq!(pair.access_token.expose(), "a-1");
    let refused = runtime(vandar::redis::PRODUCTION_BASE_URL)
        .token_pair()
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            vandar::Error::Auth(vandar::AuthError::EnvironmentMismatch { .. })
        ),
        "{refused}"
    );
}
