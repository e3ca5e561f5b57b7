// Browser test of the sandbox's pages in headless Chromium (playwright-core, no bundled browser)
// with axe-core. Usage: SANDBOX_URL=http://127.0.0.1:PORT [SCREENSHOT_DIR=dir] node test.mjs
//
// Every page (IPG pay page, direct-debit bank page, Sanbod consent page), in Persian and in
// English (?lang=en), at 390 px wide: HTTP 200, <html lang dir> right, the Vazirmatn font
// loaded from the sandbox, no horizontal scroll (scrollWidth <= innerWidth), no axe-core
// violation of impact serious or critical; a reload before the decision shows the page again.
// Flows: pay page -> request password -> Pay -> callback (payment_status=OK) -> verify; the page
// is gone after Pay (404); Cancel -> FAILED; consent -> Allow -> redirect_uri?code&state ->
// token; bank page -> Approve -> callback (SUCCEED, authorization_id) -> verify; Reject ->
// FAILED, error_code 02. Screenshots (PNG) of every page in Persian, plus the pay page in
// English, go to SCREENSHOT_DIR (the README shows them).
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const base = process.env.SANDBOX_URL;
if (!base) throw new Error('SANDBOX_URL is not set');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = process.env.SCREENSHOT_DIR || '';
if (shots) fs.mkdirSync(shots, { recursive: true });

let failures = 0;
let passes = 0;
function check(cond, what) {
  if (cond) { passes++; console.log(`ok - ${what}`); }
  else { failures++; console.log(`not ok - ${what}`); }
}

// A local "merchant" that receives the browser after the gateway.
const merchant = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!DOCTYPE html><html lang="en"><title>merchant</title><main><p id="landed">${req.url.replace(/</g, '')}</p></main></html>`);
});
await new Promise((r) => merchant.listen(0, '127.0.0.1', r));
const merchantUrl = `http://127.0.0.1:${merchant.address().port}`;

const creds = await (await fetch(`${base}/__sandbox/credentials`)).json();

async function sendPayment(amount) {
  const r = await fetch(`${base}/api/v4/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: creds.ipg_api_key, amount, callback_url: `${merchantUrl}/callback`,
      factorNumber: 'B-1042', description: 'کتاب «بوف کور»' }),
  });
  const v = await r.json();
  if (r.status !== 200 || !v.token) throw new Error(`send failed: ${r.status} ${JSON.stringify(v)}`);
  return v.token;
}

async function ipgCall(op, token) {
  const r = await fetch(`${base}/api/v4/${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: creds.ipg_api_key, token }),
  });
  return { status: r.status, body: await r.json() };
}

const vandarAuth = { 'content-type': 'application/json', authorization: `Bearer ${creds.access_token}` };
const sub = `${base}/v3/business/${creds.business}/subscription`;
let healthyBank = null;
// a mandate that runs one year from today (YYYY-MM-DD)
const oneYear = new Date(Date.now() + 365 * 86400 * 1000).toISOString().slice(0, 10);
async function storeMandate() {
  if (!healthyBank) {
    const banks = await (await fetch(`${sub}/banks/actives`, { headers: vandarAuth })).json();
    healthyBank = banks.result.banks.find((b) => b.has_direct_debit_ability && b.is_healthy_on_direct_debit);
  }
  const r = await fetch(`${sub}/authorization/store`, {
    method: 'POST', headers: vandarAuth,
    body: JSON.stringify({ bank_code: healthyBank.code, mobile: '09123456789', callback_url: `${merchantUrl}/mandate`,
      count: 5, daily_count: 1, limit: 500000, expiration_date: oneYear, name: 'سارا احمدی', national_code: '0012345679' }),
  });
  return (await r.json()).result.authorization.token;
}

async function consentUrl(state) {
  const r = await fetch(`${base}/oautht/v1/authorize?traceid=browser-${state}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ provider_code: '059', redirect_uri: `${merchantUrl}/sanbod`,
      scope: ['statement', 'normaltransfer', 'achreport'],
      client_id: creds.sanbod_client_id, response_type: 'code', state }),
  });
  check(r.status === 302, `authorize answers 302 (${r.status})`);
  return r.headers.get('location');
}

// The checks every page gets, in one language.
async function checkPage(page, url, name, lang, screenshot) {
  const resp = await page.goto(lang === 'en' ? `${url}?lang=en` : url);
  check(resp.status() === 200, `${name} [${lang}] answers 200 (${resp.status()})`);
  const attrs = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    dir: document.documentElement.dir,
    title: document.title,
  }));
  const dir = lang === 'fa' ? 'rtl' : 'ltr';
  check(attrs.lang === lang && attrs.dir === dir, `${name} [${lang}] has lang="${lang}" dir="${dir}" (${attrs.lang} ${attrs.dir})`);
  check(attrs.title.length > 0, `${name} [${lang}] has a title (${attrs.title})`);
  const font = await page.evaluate(async () => {
    await document.fonts.ready;
    return document.fonts.check('700 16px Vazirmatn') && [...document.fonts].some((f) => f.family.includes('Vazirmatn') && f.status === 'loaded');
  });
  check(font, `${name} [${lang}] renders with the embedded Vazirmatn font`);
  const width = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
  check(width.scroll <= width.inner, `${name} [${lang}] has no horizontal scroll at 390 px (${width.scroll} <= ${width.inner})`);
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  for (const v of result.violations) {
    console.log(`# axe ${name} [${lang}]: ${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  }
  check(bad.length === 0, `${name} [${lang}] has no serious or critical axe-core violation (${bad.map((v) => v.id).join(', ') || 'none'})`);
  if (screenshot && shots) {
    const file = path.join(shots, `${screenshot}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`# screenshot ${file}`);
  }
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-chromium-'));
// a fresh profile: playwright passes it as --user-data-dir
const browser = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 1,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
try {
  const page = browser.pages()[0] || await browser.newPage();
  await page.setViewportSize({ width: 390, height: 844 });

  // 1. Every page in both languages; a reload before the decision shows it again.
  {
    const token = await sendPayment(250000);
    const url = `${base}/v4/${token}`;
    await checkPage(page, url, 'pay page', 'fa', 'pay-page-fa');
    await checkPage(page, url, 'pay page', 'en', 'pay-page-en');
    await page.goto(url);
    const reload = await page.reload();
    check(reload.status() === 200 && await page.isVisible('#pay'), 'a reload of the pay page before Pay shows it again');
    const amount = await page.textContent('#amount');
    check(amount.includes('۲۵۰٬۰۰۰') && amount.includes('ریال'), `pay page shows the amount in Rial with Persian digits (${amount})`);
    const toman = await page.textContent('#amount-toman');
    check(toman.includes('۲۵٬۰۰۰') && toman.includes('تومان'), `pay page shows the amount in Toman (${toman})`);
    check((await page.inputValue('#card')) === '6037 9975 9999 9993', 'the card number is shown in groups of 4');
    await page.fill('#card', '');
    await page.type('#card', '6104337812345678');
    check((await page.inputValue('#card')) === '6104 3378 1234 5678', 'typed card digits are grouped by 4');
    const left = await page.getAttribute('#countdown', 'data-seconds');
    check(Number(left) > 0 && Number(left) <= 1200, `the countdown starts at most 20 minutes (${left} s)`);
    for (const id of ['#cvv2', '#exp-month', '#exp-year', '#otp', '#request-otp', '#cancel']) {
      check(await page.isVisible(id), `pay page shows ${id}`);
    }
  }
  {
    const token = await storeMandate();
    const url = `${base}/authorizations/${token}`;
    await checkPage(page, url, 'bank mandate page', 'fa', 'bank-mandate-page-fa');
    await checkPage(page, url, 'bank mandate page', 'en', '');
    await page.goto(url);
    const reload = await page.reload();
    check(reload.status() === 200 && await page.isVisible('#approve'), 'a reload of the bank page before the decision shows it again');
    const bank = await page.textContent('#bank');
    check(bank.includes('بانک آینده'), `the bank page names the bank in Persian, not its code (${bank})`);
    check((await page.textContent('#limit')).includes('۵۰۰٬۰۰۰'), 'bank page shows the limit per withdrawal');
    check((await page.textContent('#count')).includes('۵'), 'bank page shows the monthly count');
    check((await page.textContent('#daily-count')).includes('۱'), 'bank page shows the daily count');
    check((await page.textContent('#expiry')).includes('/'), 'bank page shows the expiry date');
  }
  {
    const url = await consentUrl('shots');
    await checkPage(page, url, 'consent page', 'fa', 'sanbod-consent-page-fa');
    await checkPage(page, url, 'consent page', 'en', '');
    await page.goto(url);
    const reload = await page.reload();
    check(reload.status() === 200 && await page.isVisible('#allow'), 'a reload of the consent page before the decision shows it again');
    check((await page.textContent('#client-app')).length > 0, 'the consent page names the client app');
    check((await page.textContent('#bank')).includes('بانک سینا'), 'the consent page names the bank (059: Sina)');
    check((await page.textContent('#scopes')).includes('صورت‌حساب'), 'the consent page names the scopes in Persian');
    check((await page.textContent('#redirect-target')).includes(`${merchantUrl}/sanbod`), 'the consent page says where the user is sent');
  }

  // 2. Pay: request the dynamic password, then Pay; the page is one-time afterwards.
  {
    const token = await sendPayment(250000);
    await page.goto(`${base}/v4/${token}`);
    await page.click('#request-otp');
    check((await page.inputValue('#otp')).length > 0, 'request password fills the dynamic password');
    await Promise.all([page.waitForURL(`${merchantUrl}/callback**`), page.click('#pay')]);
    const landed = new URL(page.url());
    check(landed.searchParams.get('token') === token, 'callback carries the token');
    check(landed.searchParams.get('payment_status') === 'OK', 'callback says payment_status=OK');
    const info = await ipgCall('transaction', token);
    check(info.body.code === 1, `transaction info code 1 after Pay (${info.body.code})`);
    const verify = await ipgCall('verify', token);
    check(verify.status === 200 && verify.body.status === 1, 'verify succeeds once');
    check(verify.body.cid === info.body.CID, 'card hash is the same in info and verify');
    const again = await ipgCall('verify', token);
    check(again.body.status === 2, 'a second verify answers status 2');
    const second = await page.goto(`${base}/v4/${token}`);
    check(second.status() === 404, 'after Pay the pay page is one-time (404)');
  }

  // 3. Cancel
  {
    const token = await sendPayment(12000);
    await page.goto(`${base}/v4/${token}?lang=en`);
    await Promise.all([page.waitForURL(`${merchantUrl}/callback**`), page.click('#cancel')]);
    const landed = new URL(page.url());
    check(landed.searchParams.get('token') === token, 'cancel callback carries the token');
    check(landed.searchParams.get('payment_status') === 'FAILED', 'cancel callback says payment_status=FAILED');
    const info = await ipgCall('transaction', token);
    check(info.body.code === 4, `transaction info code 4 after Cancel (${info.body.code})`);
  }

  // 4. Sanbod consent: Allow -> code -> token
  {
    const url = await consentUrl('st-42');
    await page.goto(url);
    await Promise.all([page.waitForURL(`${merchantUrl}/sanbod**`), page.click('#allow')]);
    const landed = new URL(page.url());
    check(landed.searchParams.get('state') === 'st-42', 'consent redirect carries the state');
    const code = landed.searchParams.get('code');
    check(!!code, 'consent redirect carries a code');
    const basic = Buffer.from(`${creds.sanbod_client_id}:${creds.sanbod_client_secret}`).toString('base64');
    const t = await fetch(`${base}/oauth/v1/token?traceid=browser-2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Basic ${basic}` },
      body: JSON.stringify({ grant_type: 'authorization_code', code }),
    });
    const tv = await t.json();
    check(t.status === 200 && typeof tv.access_token === 'string', 'the code buys an access token');
    const after = await page.goto(url);
    check(after.status() === 404, 'after the decision the consent page is one-time (404)');
  }

  // 5. Direct debit: the bank page -> Approve -> callback with authorization_id -> verify; Reject
  {
    let token = await storeMandate();
    await page.goto(`${base}/authorizations/${token}`);
    await Promise.all([page.waitForURL(`${merchantUrl}/mandate**`), page.click('#approve')]);
    let landed = new URL(page.url());
    check(landed.searchParams.get('status') === 'SUCCEED', 'mandate callback says SUCCEED');
    const id = landed.searchParams.get('authorization_id');
    check(!!id, 'mandate callback carries authorization_id');
    const v = await fetch(`${sub}/authorization/${id}/verify`, { method: 'PATCH', headers: vandarAuth });
    check(v.status === 200, `the mandate verifies (${v.status})`);
    token = await storeMandate();
    await page.goto(`${base}/authorizations/${token}`);
    await Promise.all([page.waitForURL(`${merchantUrl}/mandate**`), page.click('#reject')]);
    landed = new URL(page.url());
    check(landed.searchParams.get('status') === 'FAILED' && landed.searchParams.get('error_code') === '02',
      'reject: callback says FAILED with error_code 02');
  }
} catch (e) {
  failures++;
  console.log(`not ok - ${e.stack || e}`);
} finally {
  await browser.close();
  merchant.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
console.log(`browser: ${passes} passed, ${failures} failed`);
process.exit(failures === 0 && passes > 0 ? 0 : 1);
