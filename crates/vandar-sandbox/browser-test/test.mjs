// Browser test of the sandbox's pages in headless Chromium (playwright-core, no bundled browser).
// Usage: SANDBOX_URL=http://127.0.0.1:PORT node test.mjs
// Checks: IPG pay page -> Pay -> callback (payment_status=OK) -> verify; Cancel -> FAILED;
// Sanbod consent page -> Allow -> redirect_uri?code&state -> token; direct-debit bank page ->
// Approve -> callback (SUCCEED, authorization_id) -> verify; Reject -> FAILED, error_code 02.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const base = process.env.SANDBOX_URL;
if (!base) throw new Error('SANDBOX_URL is not set');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

let failures = 0;
let passes = 0;
function check(cond, what) {
  if (cond) { passes++; console.log(`ok - ${what}`); }
  else { failures++; console.log(`not ok - ${what}`); }
}

// A local "merchant" that receives the browser after the gateway.
const hits = [];
const merchant = http.createServer((req, res) => {
  hits.push(req.url);
  res.writeHead(200, { 'content-type': 'text/html' });
  res.end(`<!DOCTYPE html><title>merchant</title><p id="landed">${req.url.replace(/</g, '')}</p>`);
});
await new Promise((r) => merchant.listen(0, '127.0.0.1', r));
const merchantUrl = `http://127.0.0.1:${merchant.address().port}`;

const creds = await (await fetch(`${base}/__sandbox/credentials`)).json();

async function sendPayment(amount) {
  const r = await fetch(`${base}/api/v4/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ api_key: creds.ipg_api_key, amount, callback_url: `${merchantUrl}/callback`, factorNumber: 'B-1' }),
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

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-chromium-'));
// a fresh profile: playwright passes it as --user-data-dir
const browser = await chromium.launchPersistentContext(userDataDir, {
  executablePath,
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
try {
  const page = browser.pages()[0] || await browser.newPage();

  // 1. Pay
  {
    const token = await sendPayment(250000);
    await page.goto(`${base}/v4/${token}`);
    const amount = await page.textContent('#amount');
    check(amount && amount.includes('250,000'), `pay page shows the amount (${amount})`);
    check(await page.isVisible('#pay') && await page.isVisible('#cancel'), 'pay page has Pay and Cancel');
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
    // one-time page
    const second = await page.goto(`${base}/v4/${token}`);
    check(second.status() === 404, 'the pay page is one-time (404 on a second visit)');
  }

  // 2. Cancel
  {
    const token = await sendPayment(12000);
    await page.goto(`${base}/v4/${token}`);
    await Promise.all([page.waitForURL(`${merchantUrl}/callback**`), page.click('#cancel')]);
    const landed = new URL(page.url());
    check(landed.searchParams.get('token') === token, 'cancel callback carries the token');
    check(landed.searchParams.get('payment_status') === 'FAILED', 'cancel callback says payment_status=FAILED');
    const info = await ipgCall('transaction', token);
    check(info.body.code === 4, `transaction info code 4 after Cancel (${info.body.code})`);
  }

  // 3. Sanbod consent
  {
    const r = await fetch(`${base}/oautht/v1/authorize?traceid=browser-1`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ provider_code: '059', redirect_uri: `${merchantUrl}/sanbod`, scope: ['statement'],
        client_id: creds.sanbod_client_id, response_type: 'code', state: 'st-42' }),
    });
    check(r.status === 302, `authorize answers 302 (${r.status})`);
    const consent = r.headers.get('location');
    await page.goto(consent);
    check((await page.textContent('#scopes')).includes('statement'), 'consent page lists the scope');
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
  }

  // 4. Direct debit: the bank page -> Approve -> callback with authorization_id -> verify
  {
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${creds.access_token}` };
    const sub = `${base}/v3/business/${creds.business}/subscription`;
    const banks = await (await fetch(`${sub}/banks/actives`, { headers: auth })).json();
    const bank = banks.result.banks.find((b) => b.has_direct_debit_ability && b.is_healthy_on_direct_debit);
    const store = async () => {
      const r = await fetch(`${sub}/authorization/store`, {
        method: 'POST', headers: auth,
        body: JSON.stringify({ bank_code: bank.code, mobile: '09123456789', callback_url: `${merchantUrl}/mandate`,
          count: 5, limit: 500000, expiration_date: '2999-01-01' }),
      });
      return (await r.json()).result.authorization.token;
    };
    let token = await store();
    await page.goto(`${base}/authorizations/${token}`);
    check((await page.textContent('#limit')).includes('500,000'), 'bank page shows the limit');
    await Promise.all([page.waitForURL(`${merchantUrl}/mandate**`), page.click('#approve')]);
    let landed = new URL(page.url());
    check(landed.searchParams.get('status') === 'SUCCEED', 'mandate callback says SUCCEED');
    const id = landed.searchParams.get('authorization_id');
    check(!!id, 'mandate callback carries authorization_id');
    const v = await fetch(`${sub}/authorization/${id}/verify`, { method: 'PATCH', headers: auth });
    check(v.status === 200, `the mandate verifies (${v.status})`);
    token = await store();
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
