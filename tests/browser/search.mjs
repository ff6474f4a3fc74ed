// Browser test of /search/: node tests/browser/search.mjs PUBLIC_DIR
//
// Serves PUBLIC_DIR (a built example site) on a free loopback port with Python's
// http.server, drives Debian's Chromium with playwright-core, types an English and a
// Chinese query into the search box and checks the right case is among the results.
// Also checks that the page asks for JavaScript when it is off, and records every
// request a query makes (nothing may leave the site).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const dir = resolve(process.argv[2] || 'public');
if (!existsSync(join(dir, 'search', 'index.html'))) {
  console.error(`no search/index.html in ${dir}: build the example site first`);
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

const port = await new Promise((ok, fail) => {
  const s = createServer();
  s.on('error', fail);
  s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
});
const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir], { stdio: 'ignore' });
const base = `http://127.0.0.1:${port}/`;
for (let i = 0; ; i++) {
  try { if ((await fetch(base)).ok) break; } catch { /* not up yet */ }
  if (i > 50) throw new Error('static server did not start');
  await new Promise(r => setTimeout(r, 100));
}

const browser = await chromium.launch({
  executablePath,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok' : 'FAIL'} - ${what}`);
  if (!ok) failures++;
}

async function query(q, expectHref, expectText) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const requests = [];
  page.on('requestfinished', async r => {
    const s = await r.sizes();
    requests.push({ url: r.url(), bytes: s.responseBodySize + s.responseHeadersSize });
  });
  const errors = [];
  page.on('pageerror', e => errors.push(String(e)));
  await page.goto(base + 'search/');
  await page.waitForSelector('#search-input', { state: 'visible' });
  const before = requests.length;
  await page.locator('#search-input').pressSequentially(q, { delay: 30 });
  const hit = page.locator(`#search-results a[href$="${expectHref}"]`);
  let found = true;
  try { await hit.first().waitFor({ timeout: 10000 }); } catch { found = false; }
  check(found, `query ${JSON.stringify(q)} finds ${expectHref}`);
  if (found) {
    const text = await hit.first().textContent();
    check(text.includes(expectText), `result title for ${JSON.stringify(q)} contains ${JSON.stringify(expectText)}`);
    const marks = await page.locator('#search-results mark').count();
    check(marks > 0, `query ${JSON.stringify(q)} highlights its terms`);
  }
  await page.waitForTimeout(300);
  const queryRequests = requests.slice(before);
  check(queryRequests.every(r => r.url.startsWith(base)), `query ${JSON.stringify(q)} requests only the site`);
  const bytes = queryRequests.reduce((a, r) => a + r.bytes, 0);
  console.log(`#   ${queryRequests.length} requests, ${bytes} bytes for ${JSON.stringify(q)}`);
  check(errors.length === 0, `no page errors (${errors.join('; ')})`);
  await context.close();
}

try {
  await query('medibank', 'cases/medibank-2022/', 'Medibank');
  await query('合同', 'cases/ntt-communications-2025/', 'NTT');
  await query('合同编号', 'cases/ntt-communications-2025/', 'NTT');
  // Stemming: "impersonating" finds the body's "impersonation"; a timeline-only phrase.
  await query('impersonating', 'cases/ntt-communications-2020/', 'NTT');
  // While typing: the last word matches as a prefix ("sto" -> "stone").
  await query('stepping sto', 'cases/ntt-communications-2020/', 'NTT');

  // A result shows its organization and date, and a snippet around the match, marked.
  {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base + 'search/?q=' + encodeURIComponent('impersonating'));
    const li = page.locator('#search-results li', { has: page.locator('a[href$="cases/ntt-communications-2020/"]') });
    let ok = true;
    try { await li.first().waitFor({ timeout: 10000 }); } catch { ok = false; }
    check(ok, 'the impersonating result is shown');
    if (ok) {
      const meta = await li.first().locator('.search-meta').textContent();
      check(/NTT/.test(meta) && /20\d\d/.test(meta), `result shows organization and date (${JSON.stringify(meta)})`);
      const marked = await li.first().locator('p:not(.search-meta) mark').allTextContents();
      check(marked.some(m => /^impersonat/i.test(m)), `the snippet marks the matched word (${JSON.stringify(marked)})`);
    }
    await context.close();
  }
  // Query time in the page, printed for the record only: speed is measured by
  // bench/search-query.mjs, never asserted in a test (a loaded machine would fail it).
  {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base + 'search/');
    await page.waitForSelector('#search-input', { state: 'visible' });
    const ms = await page.evaluate(async () => {
      const input = document.getElementById('search-input');
      const run = q => new Promise(done => {
        const list = document.getElementById('search-results');
        const t0 = performance.now();
        const obs = new MutationObserver(() => { if (list.children.length) { obs.disconnect(); done(performance.now() - t0); } });
        obs.observe(list, { childList: true });
        input.value = q;
        input.form.requestSubmit();
      });
      await run('breach');
      input.value = '';
      return run('data breach');
    });
    console.log(`#   query answered in ${ms.toFixed(1)} ms (warm)`);
    await context.close();
  }

  // ?q= in the address runs the query on load.
  {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(base + 'search/?q=' + encodeURIComponent('Equifax'));
    let ok = true;
    try { await page.locator('#search-results a[href$="cases/equifax-2017/"]').first().waitFor({ timeout: 10000 }); } catch { ok = false; }
    check(ok, '?q=Equifax on load finds the Equifax case');
    await page.locator('#search-input').fill('zzqxnotaword');
    await page.locator('#search-status', { hasText: 'No case matches' }).waitFor({ timeout: 10000 }).then(() => check(true, 'a word in no case finds nothing'), () => check(false, 'a word in no case finds nothing'));
    await context.close();
  }

  // Without JavaScript: a message and a link to the case list.
  {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(base + 'search/');
    const link = page.locator('main a[href="../cases/"]');
    check(await link.count() > 0 && await link.first().isVisible(), 'without JavaScript, the page links to the case list');
    check(!(await page.locator('#search-form').isVisible()), 'without JavaScript, the useless form is hidden');
    await context.close();
  }
} finally {
  await browser.close();
  server.kill();
}
console.log(failures ? `${failures} failed` : 'all passed');
process.exit(failures ? 1 : 0);
