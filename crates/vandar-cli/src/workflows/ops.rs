//! `vandar ops` and `vandar call`: every operation of every spec, listed from the generated
//! route tables and callable by id through the SDK's whole pipeline.

use std::io::Read as _;

use serde_json::{Value, json};

use crate::api::{self, Product, all_ops, find_op};
use crate::cli::{CallArgs, OpsArgs};
use crate::context::Ctx;
use crate::error::CliError;
use crate::output::{self, Table};

/// `vandar ops`: product, id, method, host, path, whether it moves money.
pub fn list(args: &OpsArgs, json_out: bool) -> Result<(), CliError> {
    if let Some(p) = &args.product
        && !Product::ALL.iter().any(|x| x.name() == p)
    {
        return Err(CliError::usage(format!(
            "unknown product `{p}` (ipg, core, subscription, ravand, sanbod)"
        )));
    }
    let ops: Vec<_> = all_ops()
        .filter(|o| {
            args.product
                .as_deref()
                .is_none_or(|p| p == o.product.name())
        })
        .collect();
    if json_out {
        let list: Vec<Value> = ops
            .iter()
            .map(|o| {
                json!({
                    "product": o.product.name(),
                    "operation_id": o.route.operation_id,
                    "method": o.route.method,
                    "host": o.route.host,
                    "path": o.route.path,
                    "moves_money": o.moves_money(),
                    "retried": o.retried(),
                    "summary": o.spec().map_or("", |s| s.summary),
                    "auth": match o.route.auth {
                        vandar_runtime::Auth::None => "none".to_owned(),
                        vandar_runtime::Auth::Bearer(s) => format!("bearer:{s}"),
                        vandar_runtime::Auth::Basic(s) => format!("basic:{s}"),
                    },
                })
            })
            .collect();
        output::print_json(&Value::Array(list))?;
    } else {
        // MONEY: moves or cancels money or a mandate (asks for a yes); RETRIED: the SDK retries
        // it after a transient failure. The summary is cut so a line fits 120 columns.
        let mut t = Table::new(&[
            "PRODUCT",
            "OPERATION",
            "METHOD",
            "MONEY",
            "RETRIED",
            "SUMMARY",
        ]);
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
        let width = ops
            .iter()
            .map(|o| o.route.operation_id.len())
            .max()
            .unwrap_or(9)
            .max(9);
        let room = OPS_WIDTH.saturating_sub(12 + 2 + width + 2 + 6 + 2 + 5 + 2 + 7 + 2);
        for o in &ops {
            t.row(vec![
                o.product.name().into(),
                o.route.operation_id.into(),
                o.route.method.into(),
                yes_no(o.moves_money()),
                yes_no(o.retried()),
                cut(o.spec().map_or("", |s| s.summary), room),
            ]);
        }
        output::print(&t.render())?;
    }
    Ok(())
}

/// The widest line of the `vandar ops` table.
pub const OPS_WIDTH: usize = 120;

/// `text` cut to `room` characters (with `…` when cut).
fn cut(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(room.saturating_sub(1)).collect();
    s.push('…');
    s
}

fn read_body(spec: &str) -> Result<Value, CliError> {
    let text = if spec == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        s
    } else if let Some(path) = spec.strip_prefix('@') {
        std::fs::read_to_string(path).map_err(|e| CliError::usage(format!("--body {spec}: {e}")))?
    } else {
        spec.to_owned()
    };
    serde_json::from_str(&text).map_err(|e| CliError::usage(format!("--body is not JSON: {e}")))
}

/// `name=value` pairs of `--param`.
pub fn parse_params(params: &[String]) -> Result<Vec<(String, String)>, CliError> {
    // A malformed one is named by its position, never quoted: it may be a value (a card
    // number, a token) typed without its name.
    params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| {
                    CliError::usage(format!(
                        "--param number {} is not name=value (its text is not shown)",
                        i + 1
                    ))
                })
        })
        .collect()
}

/// `vandar call <operation> [--param k=v ...] [--body @file.json|-|JSON]`: path parameters
/// fill the path (percent-encoded), the other parameters go to the query, `business` defaults
/// to the configured one; money-moving operations ask first unless `--yes`. Prints the JSON
/// answer.
pub async fn call(ctx: &Ctx, args: &CallArgs) -> Result<(), CliError> {
    let op = find_op(&args.operation)?;
    let pairs = parse_params(&args.params)?;
    let business = ctx.settings.business.clone();
    op.check_params(&pairs, business.is_some())?;
    let names = op.path_params();
    let mut path: Vec<(&str, &str)> = Vec::new();
    let mut query: Vec<(String, String)> = Vec::new();
    for (k, v) in &pairs {
        if names.contains(&k.as_str()) {
            path.push((k.as_str(), v.as_str()));
        } else {
            query.push((k.clone(), v.clone()));
        }
    }
    if names.contains(&"business") && !path.iter().any(|(k, _)| *k == "business") {
        match &business {
            Some(b) => path.push(("business", b.as_str())),
            None => {
                return Err(CliError::usage(
                    "this operation needs a business: --param business=... or --business",
                ));
            }
        }
    }
    let body = args.body.as_deref().map(read_body).transpose()?;
    if op.moves_money() {
        ctx.confirm(&format!(
            "`{}` ({} {}) may move money or has side effects. Send it?",
            op.qualified(),
            op.route.method,
            op.route.path
        ))?;
    }
    let binding = op.product.binding(&ctx.vandar);
    let answer = api::call(&binding, &op, &path, &query, body.as_ref()).await?;
    output::print_json(&answer)?;
    Ok(())
}
