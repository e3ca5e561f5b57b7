//! The HTML pages, modelled on the real flows: the IPG pay page, the direct-debit bank page, the
//! Sanbod consent page (Persian and right-to-left by default, English with `?lang=en`), plain
//! pages for the other browser pages, and the embedded Vazirmatn font.

use http::{HeaderValue, Response, header};

use crate::banks;
use crate::calendar::to_jalali;
use crate::http::{Body, Req, html_response, redirect};
use crate::i18n::{Lang, escape};
use crate::ipg::{PAY_PAGE_LIFETIME, PayState};
use crate::spec::Page;
use crate::values::DEFAULT_CARD;
use crate::world::Shared;

/// The merchant the sandbox's pay page names: `(Persian, English)`.
pub const MERCHANT_NAME: (&str, &str) = ("فروشگاه نمونهٔ سندباکس", "Sandbox demo shop");
/// The Sanbod client application the consent page names: `(Persian, English)`.
pub const SANBOD_APP_NAME: (&str, &str) = ("برنامهٔ نمونهٔ سندباکس", "Sandbox demo app");
/// The dynamic password (رمز پویا) the pay page's "request password" button shows.
pub const SANDBOX_OTP: &str = "123456";

/// Vazirmatn Regular (OFL 1.1, `assets/fonts/OFL.txt`), served at `/__sandbox/assets/vazirmatn-400.woff2`.
const VAZIRMATN_400: &[u8] = include_bytes!("../assets/fonts/Vazirmatn-Regular.woff2");
/// Vazirmatn Bold, served at `/__sandbox/assets/vazirmatn-700.woff2`.
const VAZIRMATN_700: &[u8] = include_bytes!("../assets/fonts/Vazirmatn-Bold.woff2");

/// `GET /__sandbox/assets/{name}`: the embedded fonts (`None` for another name).
pub(crate) fn asset(name: &str) -> Option<Response<Body>> {
    let bytes = match name {
        "vazirmatn-400.woff2" => VAZIRMATN_400,
        "vazirmatn-700.woff2" => VAZIRMATN_700,
        _ => return None,
    };
    let mut r = Response::new(Body::from(bytes));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("font/woff2"));
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Some(r)
}

const STYLE: &str = r#"@font-face{font-family:Vazirmatn;src:url(/__sandbox/assets/vazirmatn-400.woff2) format("woff2");font-weight:400;font-display:swap}
@font-face{font-family:Vazirmatn;src:url(/__sandbox/assets/vazirmatn-700.woff2) format("woff2");font-weight:700;font-display:swap}
*{box-sizing:border-box}
html{font-family:Vazirmatn,Tahoma,Arial,sans-serif;background:#eef1f5;color:#1b1f24;line-height:1.7;-webkit-text-size-adjust:100%}
body{margin:0}
.top{background:#0b3d6e;color:#fff;display:flex;justify-content:space-between;align-items:center;gap:.5rem;flex-wrap:wrap;padding:.6rem 1rem}
.top a{color:#fff;font-weight:700}
.brand{font-weight:700;font-size:1.05rem}
main{max-width:30rem;margin:1rem auto;padding:0 1rem}
.box{background:#fff;border-radius:.75rem;padding:1rem 1.1rem;box-shadow:0 1px 3px rgba(0,0,0,.15);margin-bottom:1rem}
h1{font-size:1.3rem;margin:.2rem 0 .8rem}
h2{font-size:1.05rem;margin:0 0 .5rem}
p{margin:.4rem 0}
.note{background:#fff4ce;color:#4d3800;border:1px solid #c9a227;border-radius:.5rem;padding:.45rem .75rem;font-size:.9rem}
dl.facts{display:grid;grid-template-columns:auto 1fr;gap:.3rem .9rem;margin:0}
dl.facts dt{color:#47505c}
dl.facts dd{margin:0;font-weight:700;overflow-wrap:anywhere}
.amount{font-size:1.35rem}
.muted{color:#47505c;font-weight:400;font-size:.9rem}
label,legend{display:block;font-weight:700;margin:.7rem 0 .2rem;padding:0}
fieldset{border:0;margin:0;padding:0;min-width:0}
input{width:100%;font:inherit;padding:.5rem .7rem;border:1px solid #6b7480;border-radius:.5rem;background:#fff;color:#1b1f24}
.ltr{direction:ltr;text-align:left;unicode-bidi:isolate}
.row{display:flex;gap:.75rem}
.row>div{flex:1;min-width:0}
.row label{font-weight:400;margin-top:0}
.otp{display:flex;gap:.5rem;align-items:stretch}
.otp input{flex:1;min-width:0}
button{font:inherit;font-weight:700;border-radius:.5rem;padding:.6rem 1rem;cursor:pointer;border:2px solid #0b5cad}
.primary{background:#0b5cad;color:#fff;width:100%}
.secondary{background:#fff;color:#0b3d6e;white-space:nowrap}
.danger{background:#fff;color:#9b1c1c;border-color:#9b1c1c;width:100%}
button:disabled{background:#dde1e6;color:#3b424b;border-color:#8a929c;cursor:not-allowed}
:focus-visible{outline:3px solid #c25e00;outline-offset:2px}
.actions{display:grid;gap:.6rem;margin-top:1rem}
.actions form{margin:0}
.timer{font-weight:700;color:#8a2d00}
ul.scopes{list-style:none;padding:0;margin:.5rem 0}
ul.scopes li{border-top:1px solid #dde1e6;padding:.5rem 0}
ul.scopes li:first-child{border-top:0}
.scope-name{display:block;font-weight:700}
footer{text-align:center;color:#47505c;font-size:.85rem;padding:0 1rem 1.5rem}
code{direction:ltr;unicode-bidi:isolate;overflow-wrap:anywhere}"#;

/// A whole page: `lang`/`dir`, viewport, title, the header with the language switch, `main`,
/// and the sandbox footer. `brand` names who shows the page (the gateway, the bank, Sanbod).
fn layout(lang: Lang, brand: &str, title: &str, body: &str, script: &str) -> String {
    let other = lang.other();
    let script = if script.is_empty() {
        String::new()
    } else {
        format!("<script>{script}</script>")
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\" dir=\"{dir}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} | {brand}</title><style>{STYLE}</style></head><body>\
<header class=\"top\"><span class=\"brand\">{brand}</span>\
<a id=\"lang-switch\" href=\"?lang={other_code}\" lang=\"{other_code}\" hreflang=\"{other_code}\">{other_name}</a></header>\
<main id=\"main\"><h1>{title}</h1>{body}</main>\
<footer><p>{footer}</p></footer>{script}</body></html>\n",
        code = lang.code(),
        dir = lang.dir(),
        title = escape(title),
        brand = escape(brand),
        other_code = other.code(),
        other_name = other.own_name(),
        footer = lang.t(
            "این صفحه را <bdi lang=\"en\">vandar-sandbox</bdi> نشان می‌دهد: سرور آزمایشی محلی؛ هیچ پول واقعی جابه‌جا نمی‌شود.",
            "Shown by <bdi>vandar-sandbox</bdi>: a local test server; no real money moves."
        ),
    )
}

/// A page that only says something (not found, expired, decided).
fn message_page(status: u16, lang: Lang, brand: &str, title: &str, text: &str) -> Response<Body> {
    html_response(
        status,
        layout(
            lang,
            brand,
            title,
            &format!(
                "<div class=\"box\"><p id=\"message\">{}</p></div>",
                escape(text)
            ),
            "",
        ),
    )
}

/// The page a browser form lands on when a decision is refused (decided twice, expired).
pub(crate) fn refused_decision(lang: Lang, reason: &str) -> Response<Body> {
    message_page(
        409,
        lang,
        "vandar-sandbox",
        lang.t("این درخواست پذیرفته نشد", "This request was refused"),
        reason,
    )
}

/// A form that posts one decision to a sandbox control, as a browser does (`redirect=1`: the
/// answer is the 302 onwards); `extra` holds more hidden inputs.
fn decision_form(
    lang: Lang,
    form_id: &str,
    action: &str,
    button_id: &str,
    class: &str,
    label: &str,
    extra: &str,
) -> String {
    format!(
        "<form id=\"{form_id}\" method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"redirect\" value=\"1\">\
<input type=\"hidden\" name=\"lang\" value=\"{l}\">{extra}<button id=\"{button_id}\" class=\"{class}\" type=\"submit\">{label}</button></form>",
        l = lang.code(),
        label = escape(label),
    )
}

/// The two decision buttons of a page, Yes (primary) then No (danger): each is
/// `(button id, control action under base, label)`; the form ids are `{button id}-form`.
fn decision_pair(
    lang: Lang,
    base: &str,
    yes: (&str, &str, &str),
    no: (&str, &str, &str),
    no_extra: &str,
) -> String {
    let mut out = String::from("<div class=\"actions\">");
    for ((id, action, label), class, extra) in [(yes, "primary", ""), (no, "danger", no_extra)] {
        out.push_str(&decision_form(
            lang,
            &format!("{id}-form"),
            &format!("{base}/{action}"),
            id,
            class,
            label,
            extra,
        ));
    }
    out.push_str("</div>");
    out
}

/// The language a page request asks for (`?lang=en`; Persian otherwise).
pub(crate) fn lang_of(req: &Req) -> Lang {
    Lang::parse(req.query("lang"))
}

/// Serve a browser page from the specs' `x-browser-pages`.
pub(crate) fn serve(
    shared: &Shared,
    req: &Req,
    page: &Page,
    params: &[(String, String)],
) -> Response<Body> {
    let lang = lang_of(req);
    let token = params
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    match (page.spec, page.name.as_str()) {
        ("vandar-ipg", "payment_page") => pay_page(shared, lang, &token),
        ("vandar-subscription", "authorization_page") => bank_page(shared, lang, &token),
        _ => html_response(
            200,
            layout(
                lang,
                "vandar-sandbox",
                &page.name.replace('_', " "),
                &format!(
                    "<div class=\"box\"><p>{text}</p><p><code>{path}</code></p>\
<p>{token_label}: <code id=\"token\">{token}</code></p></div>",
                    text = lang.t(
                        "سندباکس این صفحه را شبیه‌سازی نمی‌کند؛ فقط نشان می‌دهد که مرورگر به آن رسیده است.",
                        "The sandbox does not simulate this page; it only confirms that the browser reached it."
                    ),
                    token_label = lang.t("توکن", "Token"),
                    path = escape(&page.path),
                    token = escape(&token)
                ),
                "",
            ),
        ),
    }
}

/// `mm:ss` of a number of seconds.
fn clock_text(lang: Lang, secs: i64) -> String {
    let secs = secs.max(0);
    lang.digits(&format!("{:02}:{:02}", secs / 60, secs % 60))
}

/// The countdown, card grouping and password button's script: plain DOM, no library; Persian
/// digits when `<html lang="fa">`.
const PAY_SCRIPT: &str = r#"(function(){
var fa=document.documentElement.lang==='fa';
function dg(s){return fa?String(s).replace(/[0-9]/g,function(d){return '۰۱۲۳۴۵۶۷۸۹'[d];}):String(s);}
function mmss(t){t=Math.max(0,t);var m=Math.floor(t/60),s=t%60;return dg((m<10?'0':'')+m+':'+(s<10?'0':'')+s);}
function ascii(v){return v.replace(/[۰-۹]/g,function(d){return String(d.charCodeAt(0)-0x06F0);}).replace(/[٠-٩]/g,function(d){return String(d.charCodeAt(0)-0x0660);});}
var cd=document.getElementById('countdown'),pay=document.getElementById('pay'),exp=document.getElementById('expired');
var left=parseInt(cd.getAttribute('data-seconds'),10),end=Date.now()+left*1000;
var timer=setInterval(function(){var t=Math.round((end-Date.now())/1000);cd.textContent=mmss(t);
 if(t<=0){clearInterval(timer);pay.disabled=true;exp.hidden=false;}},1000);
var card=document.getElementById('card');
card.addEventListener('input',function(){var d=ascii(card.value).replace(/\D/g,'').slice(0,16);card.value=d.replace(/(\d{4})(?=\d)/g,'$1 ');});
var btn=document.getElementById('request-otp'),otp=document.getElementById('otp'),st=document.getElementById('otp-status');
btn.addEventListener('click',function(){var code=btn.getAttribute('data-otp');otp.value=code;
 st.textContent=st.getAttribute('data-sent').replace('{code}',dg(code));btn.disabled=true;var w=120;
 var again=btn.textContent;var i=setInterval(function(){w--;btn.textContent=mmss(w);if(w<=0){clearInterval(i);btn.disabled=false;btn.textContent=again;}},1000);
 btn.textContent=mmss(w);otp.focus();});
})();"#;

fn pay_page(shared: &Shared, lang: Lang, token: &str) -> Response<Body> {
    let brand = lang.t("درگاه پرداخت وندار", "Vandar payment gateway");
    let st = shared.lock();
    let now = st.now();
    let Some(p) = st.ipg.payments.get(token) else {
        return message_page(
            404,
            lang,
            brand,
            lang.t("پرداخت پیدا نشد", "Payment not found"),
            lang.t(
                "این نشانی پرداخت معتبر نیست.",
                "This payment link is not valid.",
            ),
        );
    };
    // The page shows again on every visit (a reload) until the buyer decides or it expires;
    // then the one-time rule applies: 404, as upstream answers a used payment URL.
    if p.state != PayState::Pending {
        return message_page(
            404,
            lang,
            brand,
            lang.t("این پرداخت بسته شده است", "This payment is closed"),
            lang.t(
                "برای این پرداخت پیش‌تر تصمیم گرفته شده است؛ به فروشگاه برگردید.",
                "This payment was already decided; go back to the shop.",
            ),
        );
    }
    let left_ms = p.created_ms + PAY_PAGE_LIFETIME.as_millis() as i64 - now;
    if left_ms <= 0 {
        return message_page(
            404,
            lang,
            brand,
            lang.t("مهلت پرداخت تمام شده است", "This payment has expired"),
            lang.t(
                "زمان این صفحهٔ پرداخت تمام شده است؛ از فروشگاه دوباره اقدام کنید.",
                "The time for this payment page is over; start again from the shop.",
            ),
        );
    }
    let left = left_ms / 1000;
    let t = escape(token);
    let l = lang.code();
    let rial = p.amount;
    let card_grouped: String = DEFAULT_CARD
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let merchant = lang.t(MERCHANT_NAME.0, MERCHANT_NAME.1);
    let mut facts = format!(
        "<dt>{merchant_l}</dt><dd id=\"merchant\">{merchant}</dd>\
<dt>{amount_l}</dt><dd><span class=\"amount\" id=\"amount\" data-rial=\"{rial}\">{rial_text} {rial_unit}</span><br>\
<span class=\"muted\" id=\"amount-toman\" data-toman=\"{toman}\">{toman_text} {toman_unit}</span></dd>",
        merchant_l = lang.t("پذیرنده", "Merchant"),
        merchant = escape(merchant),
        amount_l = lang.t("مبلغ", "Amount"),
        rial_text = lang.number(rial),
        rial_unit = lang.t("ریال", "Rial"),
        toman = rial / 10,
        toman_text = lang.number(rial / 10),
        toman_unit = lang.t("تومان", "Toman"),
    );
    if let Some(f) = &p.factor_number {
        facts.push_str(&format!(
            // an identifier, shown as the merchant wrote it
            "<dt>{}</dt><dd id=\"factor\"><bdi dir=\"ltr\">{}</bdi></dd>",
            lang.t("شمارهٔ فاکتور", "Invoice"),
            escape(f)
        ));
    }
    if let Some(d) = &p.description {
        facts.push_str(&format!(
            "<dt>{}</dt><dd id=\"description\" dir=\"auto\">{}</dd>",
            lang.t("توضیحات", "Description"),
            escape(d)
        ));
    }
    let body = format!(
        "<p class=\"note\">{sandbox_note}</p>\
<section class=\"box\" aria-labelledby=\"order-h\"><h2 id=\"order-h\">{order_h}</h2><dl class=\"facts\">{facts}</dl>\
<p>{left_l}: <span id=\"countdown\" class=\"timer\" role=\"timer\" data-seconds=\"{left}\">{left_text}</span></p>\
<p id=\"expired\" class=\"timer\" hidden>{expired_text}</p></section>\
<section class=\"box\" aria-labelledby=\"card-h\"><h2 id=\"card-h\">{card_h}</h2>\
<form id=\"pay-form\" method=\"post\" action=\"/__sandbox/ipg/{t}/pay\">\
<input type=\"hidden\" name=\"redirect\" value=\"1\"><input type=\"hidden\" name=\"lang\" value=\"{l}\">\
<label for=\"card\">{card_l}</label>\
<input id=\"card\" name=\"card\" class=\"ltr\" value=\"{card_grouped}\" inputmode=\"numeric\" autocomplete=\"cc-number\" maxlength=\"19\" required>\
<label for=\"cvv2\">{cvv_l}</label>\
<input id=\"cvv2\" name=\"cvv2\" class=\"ltr\" value=\"123\" inputmode=\"numeric\" autocomplete=\"cc-csc\" maxlength=\"4\" required>\
<fieldset><legend>{exp_l}</legend><div class=\"row\">\
<div><label for=\"exp-month\">{month_l}</label><input id=\"exp-month\" name=\"exp_month\" class=\"ltr\" value=\"12\" inputmode=\"numeric\" autocomplete=\"cc-exp-month\" maxlength=\"2\" required></div>\
<div><label for=\"exp-year\">{year_l}</label><input id=\"exp-year\" name=\"exp_year\" class=\"ltr\" value=\"09\" inputmode=\"numeric\" autocomplete=\"cc-exp-year\" maxlength=\"2\" required></div>\
</div></fieldset>\
<label for=\"otp\">{otp_l}</label>\
<div class=\"otp\"><input id=\"otp\" name=\"otp\" class=\"ltr\" inputmode=\"numeric\" autocomplete=\"one-time-code\" maxlength=\"8\" required>\
<button id=\"request-otp\" class=\"secondary\" type=\"button\" data-otp=\"{SANDBOX_OTP}\">{otp_button}</button></div>\
<p id=\"otp-status\" role=\"status\" class=\"muted\" data-sent=\"{otp_sent}\"></p>\
<div class=\"actions\"><button id=\"pay\" class=\"primary\" type=\"submit\">{pay_l} {rial_text} {rial_unit}</button></div></form>\
<div class=\"actions\">{cancel}</div></section>",
        sandbox_note = lang.t(
            "محیط آزمایشی: هر کارت، CVV2 و تاریخی پذیرفته می‌شود.",
            "Test environment: any card, CVV2 and expiry date is accepted."
        ),
        order_h = lang.t("جزئیات پرداخت", "Payment details"),
        left_l = lang.t("زمان باقی‌مانده", "Time left"),
        left_text = clock_text(lang, left),
        expired_text = lang.t("مهلت پرداخت تمام شد.", "The time for this payment is over."),
        card_h = lang.t("اطلاعات کارت", "Card details"),
        card_l = lang.t("شمارهٔ کارت", "Card number"),
        cvv_l = lang.t("CVV2", "CVV2"),
        exp_l = lang.t("تاریخ انقضای کارت", "Card expiry date"),
        month_l = lang.t("ماه", "Month"),
        year_l = lang.t("سال", "Year"),
        otp_l = lang.t("رمز پویا", "Dynamic password"),
        otp_button = lang.t("درخواست رمز پویا", "Request password"),
        otp_sent = escape(lang.t(
            "رمز پویا پیامک شد (در سندباکس: {code}).",
            "The password was sent by SMS (sandbox: {code})."
        )),
        pay_l = lang.t("پرداخت", "Pay"),
        rial_text = lang.number(rial),
        rial_unit = lang.t("ریال", "Rial"),
        cancel = decision_form(
            lang,
            "cancel-form",
            &format!("/__sandbox/ipg/{t}/fail"),
            "cancel",
            "danger",
            lang.t("انصراف", "Cancel"),
            ""
        ),
    );
    html_response(
        200,
        layout(
            lang,
            brand,
            lang.t("پرداخت اینترنتی", "Online payment"),
            &body,
            PAY_SCRIPT,
        ),
    )
}

/// A Gregorian `YYYY-MM-DD` as a Jalali date in the page's language (`۱۴۰۳/۰۱/۰۹`), or the
/// text itself when it is not such a date.
fn jalali_text(lang: Lang, gregorian: &str) -> String {
    let mut it = gregorian.get(..10).unwrap_or(gregorian).split('-');
    let parsed = (|| {
        let y = it.next()?.parse::<i64>().ok()?;
        let m = it.next()?.parse::<u32>().ok()?;
        let d = it.next()?.parse::<u32>().ok()?;
        ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
    })();
    match parsed {
        Some((y, m, d)) => {
            let (jy, jm, jd) = to_jalali(y, m, d);
            lang.digits(&format!("{jy:04}/{jm:02}/{jd:02}"))
        }
        None => lang.digits(gregorian),
    }
}

/// The direct-debit bank page: the bank's name, the payer, the limits; approve or refuse.
fn bank_page(shared: &Shared, lang: Lang, token: &str) -> Response<Body> {
    let mut world = shared.lock();
    let st = &mut *world;
    let visit = crate::dd::page_visit(&mut st.core, &mut st.dd, token);
    let brand_default = lang.t("سامانهٔ پرداخت مستقیم", "Direct debit");
    match visit {
        Err(e) => message_page(
            404,
            lang,
            brand_default,
            lang.t("درخواست پیدا نشد", "Authorization not found"),
            &e,
        ),
        Ok(Some(url)) => redirect(&url),
        Ok(None) => {
            let Some(m) = st.dd.mandates.iter().find(|m| m.token == token) else {
                return message_page(
                    404,
                    lang,
                    brand_default,
                    lang.t("درخواست پیدا نشد", "Authorization not found"),
                    "",
                );
            };
            let bank = banks::name(&m.bank_code, lang == Lang::Fa)
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    format!(
                        "{} {}",
                        lang.t("بانک با کد", "Bank code"),
                        lang.digits(&m.bank_code)
                    )
                });
            let brand = format!("{bank} · {}", lang.t("پرداخت مستقیم", "direct debit"));
            let t = escape(token);
            let unlimited = lang.t("بدون سقف جداگانه", "no separate limit");
            let mut payer = format!(
                "<dt>{}</dt><dd id=\"mobile\"><bdi dir=\"ltr\">{}</bdi></dd>",
                lang.t("شمارهٔ همراه", "Mobile"),
                escape(&lang.digits(&m.mobile))
            );
            if let Some(name) = &m.name {
                payer = format!(
                    "<dt>{}</dt><dd id=\"payer-name\" dir=\"auto\">{}</dd>{payer}",
                    lang.t("نام", "Name"),
                    escape(name)
                );
            }
            if let Some(nc) = &m.national_code {
                // a national code is a secret on pages too: only its last three digits
                let tail: String = nc
                    .chars()
                    .rev()
                    .take(3)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                payer.push_str(&format!(
                    "<dt>{}</dt><dd id=\"national-code\"><bdi dir=\"ltr\">{}</bdi></dd>",
                    lang.t("کد ملی", "National code"),
                    escape(&lang.digits(&format!("*******{tail}")))
                ));
            }
            let rial = lang.t("ریال", "Rial");
            let body = format!(
                "<p class=\"note\">{note}</p>\
<section class=\"box\" aria-labelledby=\"ask-h\"><h2 id=\"ask-h\">{ask_h}</h2>\
<p>{ask}</p><dl class=\"facts\"><dt>{bank_l}</dt><dd id=\"bank\" data-code=\"{code}\">{bank}</dd>\
<dt>{merchant_l}</dt><dd id=\"merchant\">{merchant}</dd></dl></section>\
<section class=\"box\" aria-labelledby=\"payer-h\"><h2 id=\"payer-h\">{payer_h}</h2><dl class=\"facts\">{payer}</dl></section>\
<section class=\"box\" aria-labelledby=\"limits-h\"><h2 id=\"limits-h\">{limits_h}</h2><dl class=\"facts\">\
<dt>{limit_l}</dt><dd id=\"limit\" data-rial=\"{limit}\">{limit_text} {rial}</dd>\
<dt>{count_l}</dt><dd id=\"count\" data-count=\"{count}\">{count_text}</dd>\
<dt>{daily_count_l}</dt><dd id=\"daily-count\">{daily_count}</dd>\
<dt>{daily_limit_l}</dt><dd id=\"daily-limit\">{daily_limit}</dd>\
<dt>{exp_l}</dt><dd id=\"expiry\" data-date=\"{exp_raw}\">{exp}</dd></dl></section>\
{decisions}",
                note = lang.t(
                    "محیط آزمایشی: تأیید شما هیچ حساب واقعی را درگیر نمی‌کند.",
                    "Test environment: approving touches no real account."
                ),
                ask_h = lang.t("درخواست دسترسی برداشت مستقیم", "Direct debit request"),
                ask = lang.t(
                    "وندار از طرف پذیرنده اجازه می‌خواهد در چارچوب سقف‌های زیر از حساب شما برداشت کند.",
                    "Vandar asks, for the merchant, to withdraw from your account within the limits below."
                ),
                bank_l = lang.t("بانک", "Bank"),
                code = escape(&m.bank_code),
                bank = escape(&bank),
                merchant_l = lang.t("پذیرنده", "Merchant"),
                merchant = escape(lang.t(MERCHANT_NAME.0, MERCHANT_NAME.1)),
                payer_h = lang.t("پرداخت‌کننده", "Payer"),
                limits_h = lang.t("سقف‌ها", "Limits"),
                limit_l = lang.t("سقف مبلغ هر برداشت", "Most per withdrawal"),
                limit = m.limit,
                limit_text = lang.number(m.limit),
                count_l = lang.t("سقف تعداد برداشت در ماه", "Most withdrawals a month"),
                count = m.count,
                count_text = lang.number(m.count),
                daily_count_l = lang.t("سقف تعداد برداشت در روز", "Most withdrawals a day"),
                daily_count = m
                    .daily_count
                    .map(|n| lang.number(n))
                    .unwrap_or_else(|| unlimited.to_owned()),
                daily_limit_l = lang.t("سقف مبلغ برداشت در روز", "Most withdrawn a day"),
                daily_limit = m
                    .daily_limit
                    .map(|n| format!("{} {rial}", lang.number(n)))
                    .unwrap_or_else(|| unlimited.to_owned()),
                exp_l = lang.t("اعتبار تا تاریخ", "Valid until"),
                exp_raw = escape(&m.expiration_date),
                exp = escape(&match lang {
                    Lang::Fa => jalali_text(lang, &m.expiration_date),
                    Lang::En => format!(
                        "{} ({})",
                        m.expiration_date,
                        jalali_text(lang, &m.expiration_date)
                    ),
                }),
                decisions = decision_pair(
                    lang,
                    &format!("/__sandbox/mandates/{t}"),
                    ("approve", "approve", lang.t("تأیید و امضای دستور پرداخت", "Approve")),
                    ("reject", "fail", lang.t("رد درخواست", "Reject")),
                    "<input type=\"hidden\" name=\"error_code\" value=\"02\">"
                ),
            );
            html_response(
                200,
                layout(
                    lang,
                    &brand,
                    lang.t("امضای دستور پرداخت مستقیم", "Sign the direct debit mandate"),
                    &body,
                    "",
                ),
            )
        }
    }
}

/// A Sanbod scope in plain words: `(Persian name, Persian line, English name, English line)`.
fn scope_words(scope: &str) -> Option<(&'static str, &'static str, &'static str, &'static str)> {
    Some(match scope.to_ascii_lowercase().as_str() {
        "statement" => (
            "صورت‌حساب",
            "واریزها و برداشت‌های حساب شما را ببیند.",
            "Statement",
            "See the deposits and withdrawals of your account.",
        ),
        "normaltransfer" => (
            "انتقال داخلی",
            "از حساب شما به حساب دیگری در همین بانک پول بفرستد.",
            "Internal transfer",
            "Send money from your account to another account at the same bank.",
        ),
        "achtransfer" => (
            "انتقال پایا",
            "با پایا به حساب بانک‌های دیگر پول بفرستد (در چرخه‌های پایا).",
            "PAYA transfer",
            "Send money to other banks through PAYA (in its cycles).",
        ),
        "achreport" => (
            "گزارش پایا",
            "وضعیت انتقال‌های پایای شما را ببیند.",
            "PAYA report",
            "See the state of your PAYA transfers.",
        ),
        "rtgstransfer" => (
            "انتقال ساتنا",
            "با ساتنا مبلغ‌های بزرگ را به بانک‌های دیگر بفرستد.",
            "SATNA transfer",
            "Send large amounts to other banks through SATNA.",
        ),
        "rtgsreport" => (
            "گزارش ساتنا",
            "وضعیت انتقال‌های ساتنای شما را ببیند.",
            "SATNA report",
            "See the state of your SATNA transfers.",
        ),
        "ibaninquiry" => (
            "استعلام شبا",
            "نام صاحب یک شمارهٔ شبا را بپرسد.",
            "IBAN inquiry",
            "Look up the owner of an IBAN.",
        ),
        "cardtoiban" => (
            "تبدیل کارت به شبا",
            "شمارهٔ شبای یک کارت را بپرسد.",
            "Card to IBAN",
            "Look up the IBAN of a card.",
        ),
        "cardtodeposit" => (
            "تبدیل کارت به حساب",
            "شمارهٔ حساب یک کارت را بپرسد.",
            "Card to account",
            "Look up the account number of a card.",
        ),
        "deposittoiban" => (
            "تبدیل حساب به شبا",
            "شمارهٔ شبای یک حساب را بپرسد.",
            "Account to IBAN",
            "Look up the IBAN of an account number.",
        ),
        "ibantodeposit" => (
            "تبدیل شبا به حساب",
            "شمارهٔ حساب یک شبا را بپرسد.",
            "IBAN to account",
            "Look up the account number of an IBAN.",
        ),
        "mobilenationalid" => (
            "تطبیق همراه و کد ملی",
            "بپرسد که یک شمارهٔ همراه به نام یک کد ملی هست یا نه.",
            "Mobile and national code match",
            "Check whether a mobile number belongs to a national code.",
        ),
        "cardnationalid" => (
            "تطبیق کارت و کد ملی",
            "بپرسد که یک کارت به نام یک کد ملی هست یا نه.",
            "Card and national code match",
            "Check whether a card belongs to a national code.",
        ),
        "personalinquiry" | "personal" => (
            "استعلام هویت",
            "نام و مشخصات ثبت‌احوال یک کد ملی را بپرسد.",
            "Identity inquiry",
            "Look up the registered name and details of a national code.",
        ),
        "personalimageinquiry" | "personalimage" => (
            "استعلام هویت با تصویر",
            "مشخصات و تصویر ثبت‌احوال یک کد ملی را بپرسد.",
            "Identity inquiry with photo",
            "Look up the registered details and photo of a national code.",
        ),
        "citizenshipverification" => (
            "احراز تابعیت",
            "بپرسد که یک شخص تابعیت ایران دارد یا نه.",
            "Citizenship check",
            "Check whether a person is an Iranian citizen.",
        ),
        "foreignersiddenty" => (
            "استعلام اتباع خارجی",
            "مشخصات ثبت‌شدهٔ یک تبعهٔ خارجی را بپرسد.",
            "Foreign national inquiry",
            "Look up the registered details of a foreign national.",
        ),
        "inquery" => (
            "استعلام قبض",
            "مبلغ و وضعیت یک قبض را بپرسد.",
            "Bill inquiry",
            "Look up the amount and state of a bill.",
        ),
        _ => return None,
    })
}

/// The Sanbod consent page of a session: the client app, the bank, the scopes, the redirect.
pub(crate) fn consent_page(shared: &Shared, req: &Req, session: &str) -> Response<Body> {
    let lang = lang_of(req);
    let brand = lang.t("سنبد · بانکداری باز", "Sanbod open banking");
    let st = shared.lock();
    let Some(s) = st.sanbod.sessions.get(session) else {
        return message_page(
            404,
            lang,
            brand,
            lang.t("درخواست پیدا نشد", "Consent not found"),
            lang.t(
                "این نشانی رضایت معتبر نیست.",
                "This consent link is not valid.",
            ),
        );
    };
    if s.decided {
        return message_page(
            404,
            lang,
            brand,
            lang.t(
                "برای این درخواست تصمیم گرفته شده است",
                "This consent was already decided",
            ),
            lang.t(
                "این درخواست پیش‌تر پذیرفته یا رد شده است؛ به برنامه برگردید.",
                "This request was already allowed or denied; go back to the application.",
            ),
        );
    }
    let id = escape(session);
    let app = lang.t(SANBOD_APP_NAME.0, SANBOD_APP_NAME.1);
    let bank = s
        .provider_code
        .as_deref()
        .and_then(|c| banks::name(c, lang == Lang::Fa))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            format!(
                "{} {}",
                lang.t("بانک با کد", "Bank code"),
                lang.digits(s.provider_code.as_deref().unwrap_or("-"))
            )
        });
    let scopes: String = s
        .scope
        .iter()
        .map(|x| {
            let (name, line) = match scope_words(x) {
                Some((fa, fa_line, en, en_line)) => (lang.t(fa, en), lang.t(fa_line, en_line)),
                None => (
                    x.as_str(),
                    lang.t(
                        "خدمتی که سندباکس توضیحی برایش ندارد.",
                        "A service the sandbox has no description for.",
                    ),
                ),
            };
            format!(
                "<li data-scope=\"{raw}\"><span class=\"scope-name\">{name}</span>{line} <span class=\"muted ltr\" lang=\"en\">({raw})</span></li>",
                raw = escape(x),
                name = escape(name),
                line = escape(line)
            )
        })
        .collect();
    // where the user goes next: the redirect_uri without its query (the code is added there)
    let target = s
        .redirect_uri
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        })
        .unwrap_or_else(|| "-".into());
    let body = format!(
        "<p class=\"note\">{note}</p>\
<section class=\"box\" aria-labelledby=\"who-h\"><h2 id=\"who-h\">{who_h}</h2><dl class=\"facts\">\
<dt>{app_l}</dt><dd id=\"client-app\">{app}</dd><dt>{bank_l}</dt><dd id=\"bank\">{bank}</dd></dl>\
<p>{asks}</p><ul id=\"scopes\" class=\"scopes\">{scopes}</ul></section>\
<section class=\"box\" aria-labelledby=\"next-h\"><h2 id=\"next-h\">{next_h}</h2>\
<p>{next}</p><p><code id=\"redirect-target\">{target}</code></p></section>\
{decisions}",
        note = lang.t(
            "محیط آزمایشی: هیچ حساب واقعی به برنامه داده نمی‌شود.",
            "Test environment: no real account is shared with the application."
        ),
        who_h = lang.t("درخواست‌کننده", "Who is asking"),
        app_l = lang.t("برنامه", "Application"),
        app = escape(app),
        bank_l = lang.t("بانک", "Bank"),
        bank = escape(&bank),
        asks = lang.t(
            "این برنامه می‌خواهد به این خدمات حساب شما دسترسی داشته باشد:",
            "The application asks to use these services of your account:"
        ),
        next_h = lang.t("پس از تصمیم شما", "After you decide"),
        next = lang.t("به این نشانی فرستاده می‌شوید:", "You will be sent to:"),
        target = escape(&target),
        decisions = decision_pair(
            lang,
            &format!("/__sandbox/sanbod/consent/{id}"),
            ("allow", "allow", lang.t("اجازه می‌دهم", "Allow")),
            ("deny", "deny", lang.t("اجازه نمی‌دهم", "Deny")),
            ""
        ),
    );
    html_response(
        200,
        layout(
            lang,
            brand,
            lang.t("اجازهٔ دسترسی به حساب", "Allow access to your account"),
            &body,
            "",
        ),
    )
}

/// `GET /`: what this sandbox is.
pub(crate) fn index(shared: &Shared, req: &Req) -> Response<Body> {
    let lang = lang_of(req);
    let pages: String = shared
        .catalog
        .pages
        .iter()
        .map(|p| {
            format!(
                "<li>{} <code>{}</code></li>",
                escape(&p.name),
                escape(&p.path)
            )
        })
        .collect();
    html_response(
        200,
        layout(
            lang,
            "vandar-sandbox",
            "vandar-sandbox",
            &format!(
                "<div class=\"box\"><p>{ops}: {n}</p><p><a href=\"/__sandbox/credentials\">/__sandbox/credentials</a><br>\
<a href=\"/__sandbox/operations\">/__sandbox/operations</a></p><h2>{pages_h}</h2><ul>{pages}</ul></div>",
                ops = lang.t("عملیات‌های مشخصه‌ها", "Operations from the embedded specs"),
                n = lang.number(shared.catalog.operations.len() as i64),
                pages_h = lang.t("صفحه‌های مرورگر", "Browser pages"),
            ),
            "",
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_clocks_in_each_language() {
        assert_eq!(jalali_text(Lang::En, "2021-10-30"), "1400/08/08");
        assert_eq!(jalali_text(Lang::Fa, "2021-10-30"), "۱۴۰۰/۰۸/۰۸");
        assert_eq!(jalali_text(Lang::En, "someday"), "someday");
        assert_eq!(clock_text(Lang::En, 1199), "19:59");
        assert_eq!(clock_text(Lang::Fa, 61), "۰۱:۰۱");
        assert_eq!(clock_text(Lang::En, -5), "00:00");
    }

    #[test]
    fn every_documented_scope_has_words() {
        for s in [
            "statement",
            "normaltransfer",
            "achtransfer",
            "achreport",
            "rtgstransfer",
            "rtgsreport",
            "ibaninquiry",
            "cardtoiban",
            "cardtodeposit",
            "deposittoiban",
            "ibantodeposit",
            "mobilenationalid",
            "cardnationalid",
            "personalinquiry",
            "personalimageinquiry",
            "personalimage",
            "personal",
            "citizenshipverification",
            "foreignersiddenty",
            "inquery",
        ] {
            assert!(scope_words(s).is_some(), "{s}");
        }
        assert!(scope_words("teleport").is_none());
    }

    #[test]
    fn layout_sets_language_direction_viewport_and_landmarks() {
        let fa = layout(Lang::Fa, "b", "t", "<p>x</p>", "");
        assert!(fa.contains("<html lang=\"fa\" dir=\"rtl\">"));
        assert!(fa.contains("name=\"viewport\""));
        assert!(
            fa.contains("<main id=\"main\">") && fa.contains("<header") && fa.contains("<footer>")
        );
        assert!(fa.contains("href=\"?lang=en\""));
        let en = layout(Lang::En, "b", "t", "", "");
        assert!(en.contains("<html lang=\"en\" dir=\"ltr\">") && en.contains("href=\"?lang=fa\""));
    }
}
