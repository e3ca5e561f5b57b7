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
//! with `--serve`); `--lang fa|en` the shop's language (default `fa`, Persian and right-to-left
//! like the gateway's pay page; amounts as `۲۵۰٬۰۰۰ ریال`, or `250,000 Rial` in English). No
//! credentials are needed: the sandbox's seeded IPG `api_key` is used.
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

impl OrderState {
    /// A machine-readable name for the page (`data-state`), stable across languages.
    fn key(&self) -> &'static str {
        match self {
            OrderState::AwaitingPayment => "awaiting-payment",
            OrderState::Paid { .. } => "paid",
            OrderState::Cancelled => "cancelled",
            OrderState::Expired => "expired",
        }
    }

    /// The state for people, in the shop's language.
    fn describe(&self, lang: Lang) -> String {
        match self {
            OrderState::AwaitingPayment => lang.t("در انتظار پرداخت", "Awaiting payment").into(),
            OrderState::Paid { trans_id } if trans_id.is_empty() => {
                lang.t("پرداخت‌شده", "Paid").into()
            }
            OrderState::Paid { trans_id } => format!(
                "{} {}",
                lang.t("پرداخت‌شده، شمارهٔ تراکنش", "Paid, transaction"),
                lang.digits(trans_id)
            ),
            OrderState::Cancelled => lang.t("لغو به دست خریدار", "Cancelled by the buyer").into(),
            OrderState::Expired => lang
                .t(
                    "دیر تأیید شد؛ مبلغ به کارت خریدار برمی‌گردد",
                    "Verified too late; the money goes back to the buyer's card",
                )
                .into(),
        }
    }
}

/// The shop's language: Persian (right-to-left, Persian digits) or English.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lang {
    Fa,
    En,
}

impl Lang {
    fn t(self, fa: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::Fa => fa,
            Lang::En => en,
        }
    }

    /// ASCII digits and `,` become Persian digits and `٬` in Persian.
    fn digits(self, text: &str) -> String {
        match self {
            Lang::En => text.to_owned(),
            Lang::Fa => text
                .chars()
                .map(|c| match c {
                    '0'..='9' => char::from_u32(0x06F0 + (c as u32 - '0' as u32)).unwrap_or(c),
                    ',' => '\u{066C}',
                    c => c,
                })
                .collect(),
        }
    }

    /// `250,000 Rial (25,000 Toman)` or `۲۵۰٬۰۰۰ ریال (۲۵٬۰۰۰ تومان)`: the SDK's grouping
    /// (`{:#}` on `Rial`), the unit in the shop's language.
    fn money(self, amount: Rial) -> String {
        let grouped = |v: i64| {
            let text = format!("{:#}", Rial::new(v));
            self.digits(text.trim_end_matches(" Rial"))
        };
        let toman = amount.get() / 10;
        format!(
            "{} {} ({} {})",
            grouped(amount.get()),
            self.t("ریال", "Rial"),
            grouped(toman),
            self.t("تومان", "Toman")
        )
    }
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
    /// The language of the shop's pages.
    lang: Lang,
    api_key: ApiKey,
    /// `http://HOST:PORT` of this app (for the callback URL).
    public_url: String,
    /// Orders by gateway token. A real shop keeps them in its database.
    orders: Mutex<HashMap<String, Order>>,
    next_id: Mutex<u64>,
}

type AppState = Arc<Shop>;

/// The price of the shop's one product, in Rial.
const BOOK_PRICE: i64 = 250_000;

/// The Buy form.
#[derive(serde::Deserialize)]
struct CheckoutForm {
    amount: i64,
}

/// A shop page: `lang`/`dir`, viewport, a little style; `body` is trusted HTML.
fn page(lang: Lang, title: &str, body: &str) -> Html<String> {
    let (code, dir) = match lang {
        Lang::Fa => ("fa", "rtl"),
        Lang::En => ("en", "ltr"),
    };
    Html(format!(
        "<!DOCTYPE html><html lang=\"{code}\" dir=\"{dir}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:Vazirmatn,Tahoma,sans-serif;max-width:34rem;margin:1.5rem auto;padding:0 1rem;line-height:1.7}}\
         button{{font:inherit;font-weight:700;padding:.6rem 1.2rem;border-radius:.5rem;border:0;background:#0b5cad;color:#fff}}\
         li{{margin:.3rem 0}}</style></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>"
    ))
}

/// `GET /`: the shop's front page with a Buy button and the orders so far.
async fn index(State(shop): State<AppState>) -> Html<String> {
    let lang = shop.lang;
    let orders = shop.orders.lock().map(|o| o.clone()).unwrap_or_default();
    let mut rows: Vec<_> = orders.values().collect();
    rows.sort_by_key(|o| o.id);
    let list: String = rows
        .iter()
        .map(|o| {
            format!(
                "<li data-state=\"{}\">{} {} — {} — {}</li>",
                o.state.key(),
                lang.t("سفارش", "Order"),
                lang.digits(&o.id.to_string()),
                lang.money(o.amount),
                o.state.describe(lang)
            )
        })
        .collect();
    let none = format!("<li>{}</li>", lang.t("هنوز سفارشی نیست.", "No orders yet."));
    page(
        lang,
        lang.t("فروشگاه سندباکس", "Sandbox shop"),
        &format!(
            "<form id=\"buy-form\" method=\"post\" action=\"/checkout\">\
             <input type=\"hidden\" name=\"amount\" value=\"{BOOK_PRICE}\">\
             <button type=\"submit\">{buy} {price}</button></form>\
             <h2>{orders_h}</h2><ul id=\"orders\">{list}</ul>",
            buy = lang.t("خرید کتاب به بهای", "Buy a book for"),
            price = lang.money(Rial::new(BOOK_PRICE)),
            orders_h = lang.t("سفارش‌ها", "Orders"),
            list = if list.is_empty() { none } else { list },
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
                outcome(
                    shop.lang,
                    "unavailable",
                    shop.lang.t("درگاه در دسترس نیست", "Payment unavailable"),
                    shop.lang.t("لطفاً دوباره تلاش کنید.", "Please try again."),
                ),
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

/// A page that tells the buyer how the order ended: `key` (`data-result`) is for machines,
/// `title` and `text` for people.
fn outcome(lang: Lang, key: &str, title: &str, text: &str) -> Html<String> {
    page(
        lang,
        title,
        &format!(
            "<p id=\"result\" data-result=\"{key}\">{text}</p><p><a href=\"/\">{back}</a></p>",
            back = lang.t("بازگشت به فروشگاه", "Back to the shop")
        ),
    )
}

/// `GET /callback?token=..&payment_status=..`: the buyer is back; verify once, then deliver.
async fn callback(State(shop): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let lang = shop.lang;
    let Ok(cb) = Callback::parse(query.as_deref().unwrap_or_default()) else {
        return (
            StatusCode::BAD_REQUEST,
            outcome(
                lang,
                "bad-callback",
                lang.t("بازگشت نامعتبر", "Bad callback"),
                lang.t(
                    "پاسخ درگاه خوانا نیست.",
                    "The gateway's answer is unreadable.",
                ),
            ),
        )
            .into_response();
    };
    // Only tokens this shop issued are looked at: anyone can call this URL.
    let (state, amount) = {
        let orders = shop.orders.lock().unwrap_or_else(|e| e.into_inner());
        match orders.get(&cb.token) {
            Some(order) => (order.state.clone(), order.amount),
            None => {
                return (
                    StatusCode::NOT_FOUND,
                    outcome(
                        lang,
                        "unknown-order",
                        lang.t("سفارش پیدا نشد", "Unknown order"),
                        lang.t(
                            "هیچ سفارشی با این پرداخت نیست.",
                            "No order has this payment.",
                        ),
                    ),
                )
                    .into_response();
            }
        }
    };
    if let OrderState::Paid { .. } = &state {
        // a reload or a second callback: the order is already paid and delivered
        return outcome(
            lang,
            "already-paid",
            lang.t("این سفارش پرداخت شده است", "Already paid"),
            &state.describe(lang),
        )
        .into_response();
    }
    if state != OrderState::AwaitingPayment {
        return outcome(
            lang,
            state.key(),
            lang.t("این سفارش بسته شده است", "Order closed"),
            &state.describe(lang),
        )
        .into_response();
    }
    if !cb.is_paid() {
        set_state(&shop, &cb.token, OrderState::Cancelled, false);
        return outcome(
            lang,
            "cancelled",
            lang.t("پرداخت لغو شد", "Payment cancelled"),
            &OrderState::Cancelled.describe(lang),
        )
        .into_response();
    }
    // The callback alone proves nothing: only verify makes the money the shop's.
    match shop.vandar.ipg().verify(&shop.api_key, &cb.token).await {
        Ok(VerifyOutcome::Verified(payment)) => {
            if payment.amount.is_some() && payment.amount != Some(amount) {
                tracing_free_log("verified amount differs from the order: not delivering");
                return (
                    StatusCode::CONFLICT,
                    outcome(
                        lang,
                        "mismatch",
                        lang.t("مبلغ با سفارش نمی‌خواند", "Amount mismatch"),
                        lang.t(
                            "سفارش تحویل نشد؛ با پشتیبانی تماس بگیرید.",
                            "The order was not delivered; contact support.",
                        ),
                    ),
                )
                    .into_response();
            }
            let paid = OrderState::Paid {
                trans_id: payment.trans_id.map(|t| t.to_string()).unwrap_or_default(),
            };
            set_state(&shop, &cb.token, paid.clone(), true);
            let card = payment
                .card_number
                .map(|c| {
                    format!(
                        "{} <bdi dir=\"ltr\">{c}</bdi>",
                        lang.t("، با کارت", ", card")
                    )
                })
                .unwrap_or_default();
            outcome(
                lang,
                "paid",
                lang.t("سپاس از خرید شما", "Thank you"),
                &format!("{} — {}{card}", paid.describe(lang), lang.money(amount)),
            )
            .into_response()
        }
        Ok(VerifyOutcome::AlreadyVerified(_)) => {
            // verified earlier (e.g. our first verify's answer was lost): deliver once
            let paid = OrderState::Paid {
                trans_id: String::new(),
            };
            set_state(&shop, &cb.token, paid.clone(), true);
            outcome(
                lang,
                "paid",
                lang.t("سپاس از خرید شما", "Thank you"),
                &paid.describe(lang),
            )
            .into_response()
        }
        Ok(VerifyOutcome::Expired(_)) => {
            set_state(&shop, &cb.token, OrderState::Expired, false);
            outcome(
                lang,
                "expired",
                lang.t("دیر شد", "Too late"),
                &OrderState::Expired.describe(lang),
            )
            .into_response()
        }
        Err(e) if e.is_outcome_unknown() => (
            // the verify went out but its answer was lost: the next callback (or a job calling
            // get_transaction_info) settles it; never deliver on a guess
            StatusCode::SERVICE_UNAVAILABLE,
            outcome(
                lang,
                "unknown",
                lang.t("در حال بررسی پرداخت", "Checking your payment"),
                lang.t(
                    "نتیجه هنوز روشن نیست؛ چند دقیقهٔ دیگر این صفحه را دوباره باز کنید.",
                    "The result is not known yet; open this page again in a few minutes.",
                ),
            ),
        )
            .into_response(),
        Err(e) => {
            tracing_free_log(&format!("verify failed: {e}"));
            (
                StatusCode::BAD_GATEWAY,
                outcome(
                    lang,
                    "error",
                    lang.t("پرداخت تأیید نشد", "Payment not confirmed"),
                    lang.t(
                        "اگر مبلغی کم شده باشد، تا ۷۲ ساعت به کارت شما برمی‌گردد.",
                        "If money left your card, it comes back within 72 hours.",
                    ),
                ),
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
    lang: Lang,
}

fn args() -> BoxResult<Args> {
    let mut out = Args {
        serve: false,
        listen: None,
        lang: Lang::Fa,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--serve" => out.serve = true,
            "--listen" => out.listen = Some(it.next().ok_or("--listen needs HOST:PORT")?.parse()?),
            "--lang" => {
                out.lang = match it.next().as_deref() {
                    Some("fa") => Lang::Fa,
                    Some("en") => Lang::En,
                    _ => return Err("--lang needs fa or en".into()),
                }
            }
            other => {
                return Err(format!(
                    "unknown argument {other} (use --serve, --listen HOST:PORT, --lang fa|en)"
                )
                .into());
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
        html.contains(&format!("data-rial=\"{BOOK_PRICE}\"")),
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
        landed.contains("data-result=\"paid\""),
        format!("the paid order did not end on the thank-you page: {landed}"),
    )?;
    let order = order_of(shop, &token)?;
    ensure(
        matches!(order.state, OrderState::Paid { .. }) && order.deliveries == 1,
        format!("order after payment: {order:?}"),
    )?;
    println!(
        "order {}: {} — {}",
        order.id,
        shop.lang.money(order.amount),
        order.state.describe(shop.lang)
    );

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
        reload.contains("data-result=\"already-paid\""),
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
        landed.contains("data-result=\"cancelled\""),
        "the cancelled order did not say so",
    )?;
    let order = order_of(shop, &token)?;
    ensure(
        order.state == OrderState::Cancelled && order.deliveries == 0,
        format!("order after cancel: {order:?}"),
    )?;
    println!(
        "order {}: {} — {}",
        order.id,
        shop.lang.money(order.amount),
        order.state.describe(shop.lang)
    );

    // the front page lists both orders for people: amounts grouped with their unit, states
    // in words (no Rust Debug output)
    let front = http.get(shop_url).send().await?.text().await?;
    let price = shop.lang.money(Rial::new(BOOK_PRICE));
    ensure(
        front.matches(price.as_str()).count() >= 3
            && front.contains(&OrderState::Cancelled.describe(shop.lang))
            && !front.contains("Paid {")
            && !front.contains("Cancelled<"),
        format!("the front page does not list the orders for people: {front}"),
    )?;

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
        lang: args.lang,
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
