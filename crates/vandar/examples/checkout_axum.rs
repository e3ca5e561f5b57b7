//! A shop checkout with the payment gateway, as a real [axum](https://docs.rs/axum) app:
//! send → redirect the buyer to the pay page → the buyer pays → the gateway sends the buyer
//! back to the shop's callback → verify once → deliver.
//!
//! ```sh
//! # walk two orders end to end (one paid, one cancelled) against an in-process sandbox; exits 0
//! cargo run -p vandar --example checkout_axum --features ipg,sandbox
//! # keep the shop running for a person: open the printed URL, click Buy, then Pay or Cancel
//! cargo run -p vandar --example checkout_axum --features ipg,sandbox -- --serve
//! # against a sandbox you started yourself (`cargo run -p vandar-sandbox`)
//! VANDAR_BASE_URL=http://127.0.0.1:8910 cargo run -p vandar --example checkout_axum --features ipg,sandbox
//! ```
//!
//! `--listen HOST:PORT` sets the shop's address (default `127.0.0.1:0`, or `127.0.0.1:3000`
//! with `--serve`). No credentials are needed: the sandbox's seeded IPG `api_key` is used.
//! With real credentials the code is the same; only the configuration changes.
#![forbid(unsafe_code)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Form, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use common::{BoxResult, Env, ensure, follow};
use vandar::domain::Rial;
use vandar::ipg::types::PaymentRequest;
use vandar::ipg::{Callback, VerifyOutcome};
use vandar::{ApiKey, Vandar};

/// Where an order stands.
#[derive(Clone, Debug, PartialEq, Eq)]
enum OrderState {
    /// Sent to the gateway; the buyer is on the pay page.
    AwaitingPayment,
    /// Verified: the money is the shop's; the order is delivered.
    Paid { trans_id: String },
    /// The buyer cancelled or the payment failed.
    Cancelled,
    /// Paid but not verified in time: the gateway returns the money.
    Expired,
}

#[derive(Clone, Debug)]
struct Order {
    id: u64,
    amount: Rial,
    state: OrderState,
    /// How many times the order was delivered (must end at 0 or 1).
    deliveries: u32,
}

/// The shop's state, shared by the handlers.
struct Shop {
    vandar: Vandar,
    api_key: ApiKey,
    /// `http://HOST:PORT` of this app (for the callback URL).
    public_url: String,
    /// Orders by gateway token. A real shop keeps them in its database.
    orders: Mutex<HashMap<String, Order>>,
    next_id: Mutex<u64>,
}

type AppState = Arc<Shop>;

/// The Buy form.
#[derive(serde::Deserialize)]
struct CheckoutForm {
    amount: i64,
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    ))
}

/// `GET /`: the shop's front page with a Buy button and the orders so far.
async fn index(State(shop): State<AppState>) -> Html<String> {
    let orders = shop.orders.lock().map(|o| o.clone()).unwrap_or_default();
    let mut rows: Vec<_> = orders.values().collect();
    rows.sort_by_key(|o| o.id);
    let list: String = rows
        .iter()
        .map(|o| {
            format!(
                "<li>order {} — {} Rial — {:?}</li>",
                o.id,
                o.amount.get(),
                o.state
            )
        })
        .collect();
    page(
        "Sandbox shop",
        &format!(
            "<form id=\"buy-form\" method=\"post\" action=\"/checkout\">\
             <input type=\"hidden\" name=\"amount\" value=\"250000\">\
             <button type=\"submit\">Buy a book for 250,000 Rial</button></form>\
             <h2>Orders</h2><ul id=\"orders\">{list}</ul>"
        ),
    )
}

/// `POST /checkout`: register the payment, keep its token with the order, redirect the buyer.
async fn checkout(State(shop): State<AppState>, Form(form): Form<CheckoutForm>) -> Response {
    let id = {
        let mut next = shop.next_id.lock().unwrap_or_else(|e| e.into_inner());
        *next += 1;
        *next
    };
    let ipg = shop.vandar.ipg();
    let amount = Rial::new(form.amount);
    let sent = ipg
        .send_payment()
        .body(
            PaymentRequest::builder()
                .api_key(&shop.api_key)
                .amount(amount)
                .callback_url(format!("{}/callback", shop.public_url))
                .factor_number(format!("ORDER-{id}")),
        )
        .send()
        .await;
    let token = match sent {
        Ok(answer) => answer.token,
        Err(e) => {
            // send_payment moves no money: it is safe to show an error and let the buyer retry
            tracing_free_log(&format!("order {id}: send_payment failed: {e}"));
            return (
                StatusCode::BAD_GATEWAY,
                page("Payment unavailable", "<p>Please try again.</p>"),
            )
                .into_response();
        }
    };
    let redirect_to = match ipg.payment_page_url(&token) {
        Ok(url) => url,
        Err(e) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
    };
    shop.orders
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(
            token,
            Order {
                id,
                amount,
                state: OrderState::AwaitingPayment,
                deliveries: 0,
            },
        );
    Redirect::to(redirect_to.as_str()).into_response()
}

/// `GET /callback?token=..&payment_status=..`: the buyer is back; verify once, then deliver.
async fn callback(State(shop): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let Ok(cb) = Callback::parse(query.as_deref().unwrap_or_default()) else {
        return (
            StatusCode::BAD_REQUEST,
            page("Bad callback", "<p>Unreadable callback.</p>"),
        )
            .into_response();
    };
    // Only tokens this shop issued are looked at: anyone can call this URL.
    let state = {
        let orders = shop.orders.lock().unwrap_or_else(|e| e.into_inner());
        match orders.get(&cb.token) {
            Some(order) => order.state.clone(),
            None => {
                return (
                    StatusCode::NOT_FOUND,
                    page("Unknown order", "<p>No order has this payment token.</p>"),
                )
                    .into_response();
            }
        }
    };
    if let OrderState::Paid { trans_id } = &state {
        // a reload or a second callback: the order is already paid and delivered
        return page(
            "Already paid",
            &format!("<p id=\"result\">already-paid {trans_id}</p>"),
        )
        .into_response();
    }
    if state != OrderState::AwaitingPayment {
        return page("Order closed", &format!("<p id=\"result\">{state:?}</p>")).into_response();
    }
    if !cb.is_paid() {
        set_state(&shop, &cb.token, OrderState::Cancelled, false);
        return page(
            "Payment cancelled",
            "<p id=\"result\">cancelled</p><p><a href=\"/\">Back to the shop</a></p>",
        )
        .into_response();
    }
    // The callback alone proves nothing: only verify makes the money the shop's.
    match shop.vandar.ipg().verify(&shop.api_key, &cb.token).await {
        Ok(VerifyOutcome::Verified(payment)) => {
            let order_amount = shop
                .orders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&cb.token)
                .map(|o| o.amount);
            if payment.amount.is_some() && payment.amount != order_amount {
                tracing_free_log("verified amount differs from the order: not delivering");
                return (
                    StatusCode::CONFLICT,
                    page("Amount mismatch", "<p id=\"result\">mismatch</p>"),
                )
                    .into_response();
            }
            let trans_id = payment.trans_id.map(|t| t.to_string()).unwrap_or_default();
            set_state(
                &shop,
                &cb.token,
                OrderState::Paid {
                    trans_id: trans_id.clone(),
                },
                true,
            );
            page(
                "Thank you",
                &format!(
                    "<p id=\"result\">paid {trans_id}</p><p>Card {}</p><p><a href=\"/\">Back to the shop</a></p>",
                    payment
                        .card_number
                        .map(|c| c.to_string())
                        .unwrap_or_default()
                ),
            )
            .into_response()
        }
        Ok(VerifyOutcome::AlreadyVerified(_)) => {
            // verified earlier (e.g. our first verify's answer was lost): deliver once
            set_state(
                &shop,
                &cb.token,
                OrderState::Paid {
                    trans_id: String::new(),
                },
                true,
            );
            page("Thank you", "<p id=\"result\">paid</p>").into_response()
        }
        Ok(VerifyOutcome::Expired(_)) => {
            set_state(&shop, &cb.token, OrderState::Expired, false);
            page(
                "Too late",
                "<p id=\"result\">expired: the payment goes back to your card</p>",
            )
            .into_response()
        }
        Err(e) if e.is_outcome_unknown() => (
            // the verify went out but its answer was lost: the next callback (or a job calling
            // get_transaction_info) settles it; never deliver on a guess
            StatusCode::SERVICE_UNAVAILABLE,
            page("Checking your payment", "<p id=\"result\">unknown</p>"),
        )
            .into_response(),
        Err(e) => {
            tracing_free_log(&format!("verify failed: {e}"));
            (
                StatusCode::BAD_GATEWAY,
                page("Payment not confirmed", "<p id=\"result\">error</p>"),
            )
                .into_response()
        }
    }
}

fn set_state(shop: &Shop, token: &str, state: OrderState, deliver: bool) {
    let mut orders = shop.orders.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(order) = orders.get_mut(token) {
        if deliver && !matches!(order.state, OrderState::Paid { .. }) {
            order.deliveries += 1;
        }
        order.state = state;
    }
}

/// The example's log line (stderr); a real app would use `tracing`.
fn tracing_free_log(line: &str) {
    eprintln!("shop: {line}");
}

fn app(shop: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/checkout", post(checkout))
        .route("/callback", get(callback))
        .with_state(shop)
}

struct Args {
    serve: bool,
    listen: Option<SocketAddr>,
}

fn args() -> BoxResult<Args> {
    let mut out = Args {
        serve: false,
        listen: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--serve" => out.serve = true,
            "--listen" => out.listen = Some(it.next().ok_or("--listen needs HOST:PORT")?.parse()?),
            other => {
                return Err(
                    format!("unknown argument {other} (use --serve, --listen HOST:PORT)").into(),
                );
            }
        }
    }
    Ok(out)
}

/// One purchase, clicking `button_form` (`pay-form` or `cancel-form`) on the pay page, the
/// way a buyer's browser does (redirects followed). Returns the shop's page the buyer lands
/// on, and the payment token.
async fn buy(
    http: &reqwest::Client,
    shop_url: &str,
    button_form: &str,
) -> BoxResult<(String, String)> {
    // the shop's page, then its Buy form: the shop redirects to the pay page
    let (_, _, front) = follow(http, http.get(shop_url)).await?;
    let buy = common::find_form(&front, "buy-form")?;
    let (pay_url, status, html) = follow(
        http,
        http.post(format!("{shop_url}{}", buy.action))
            .form(&buy.fields),
    )
    .await?;
    ensure(
        status.is_success(),
        format!("the pay page answered {status}"),
    )?;
    let token = pay_url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or_default()
        .to_owned();
    ensure(
        html.contains("250,000"),
        "the pay page does not show the amount",
    )?;
    // click the button: the gateway redirects the browser to the shop's callback
    let form = common::find_form(&html, button_form)?;
    let (at, status, body) = follow(
        http,
        http.post(pay_url.join(&form.action)?).form(&form.fields),
    )
    .await?;
    ensure(
        status.is_success() && at.path() == "/callback",
        format!("the buyer landed on {at} with {status}"),
    )?;
    Ok((body, token))
}

fn order_of(shop: &Shop, token: &str) -> BoxResult<Order> {
    shop.orders
        .lock()
        .map_err(|_| "poisoned")?
        .get(token)
        .cloned()
        .ok_or_else(|| format!("no order for token {token}").into())
}

/// Walk a paid order, a reloaded callback, a cancelled order and a forged callback.
async fn walk(http: &reqwest::Client, shop: &Shop, shop_url: &str) -> BoxResult<()> {
    // 1. a paid order
    let (landed, token) = buy(http, shop_url, "pay-form").await?;
    ensure(
        landed.contains("<p id=\"result\">paid "),
        format!("the paid order did not end on the thank-you page: {landed}"),
    )?;
    let order = order_of(shop, &token)?;
    ensure(
        matches!(order.state, OrderState::Paid { .. }) && order.deliveries == 1,
        format!("order after payment: {order:?}"),
    )?;
    println!("order {} paid and verified: {:?}", order.id, order.state);

    // 2. the buyer reloads the callback page: no second verify, no second delivery
    let reload = http
        .get(format!(
            "{shop_url}/callback?token={token}&payment_status=OK"
        ))
        .send()
        .await?
        .text()
        .await?;
    ensure(
        reload.contains("already-paid"),
        "a reloaded callback was not recognised",
    )?;
    ensure(
        order_of(shop, &token)?.deliveries == 1,
        "the order was delivered twice",
    )?;
    // the gateway itself refuses a second verify (status 2): the SDK says AlreadyVerified
    let again = shop.vandar.ipg().verify(&shop.api_key, &token).await?;
    ensure(
        matches!(again, VerifyOutcome::AlreadyVerified(_)),
        format!("a second verify answered {again:?}"),
    )?;

    // 3. a cancelled order: never verified, never delivered
    let (landed, token) = buy(http, shop_url, "cancel-form").await?;
    ensure(
        landed.contains("cancelled"),
        "the cancelled order did not say so",
    )?;
    let order = order_of(shop, &token)?;
    ensure(
        order.state == OrderState::Cancelled && order.deliveries == 0,
        format!("order after cancel: {order:?}"),
    )?;
    println!("order {} cancelled by the buyer", order.id);

    // 4. a forged callback for a token the shop never issued
    let forged = http
        .get(format!(
            "{shop_url}/callback?token=FORGED&payment_status=OK"
        ))
        .send()
        .await?;
    ensure(
        forged.status() == reqwest::StatusCode::NOT_FOUND,
        format!("a forged callback answered {}", forged.status()),
    )?;
    println!("a forged callback was refused");
    Ok(())
}

#[tokio::main]
async fn main() -> BoxResult<()> {
    let args = args()?;
    let env = Env::start().await?;
    let default_listen = if args.serve {
        "127.0.0.1:3000"
    } else {
        "127.0.0.1:0"
    };
    let listen = args.listen.unwrap_or(default_listen.parse()?);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let shop_url = format!("http://{}", listener.local_addr()?);
    let shop = Arc::new(Shop {
        vandar: Vandar::new(env.config().build()?)?,
        api_key: ApiKey::from(env.credentials.ipg_api_key.clone()),
        public_url: shop_url.clone(),
        orders: Mutex::new(HashMap::new()),
        next_id: Mutex::new(1000),
    });
    let router = app(shop.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    if args.serve {
        println!("shop: {shop_url}/  (sandbox: {})", env.base_url);
        println!("open the shop in a browser, click Buy, then Pay or Cancel; Ctrl-C stops");
        tokio::signal::ctrl_c().await?;
    } else {
        walk(&env.http, &shop, &shop_url).await?;
        println!("checkout_axum: OK");
    }
    server.abort();
    env.shutdown().await;
    Ok(())
}
