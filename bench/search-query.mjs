// Query time of /search/ in Chromium on a built site: node bench/search-query.mjs PUBLIC_DIR
//
// Serves PUBLIC_DIR on a loopback port, opens /search/ and submits each query twice:
// cold (its shards and documents fetched) and warm (cached), timing from submit to the
// first result shown. Prints one line per query.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';

const dir = resolve(process.argv[2] || 'public');
const port = await new Promise((ok, fail) => {
  const s = createServer();
  s.on('error', fail);
  s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
});
const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir], { stdio: 'ignore' });
const base = `http://127.0.0.1:${port}/`;
for (let i = 0; ; i++) {
  try { if ((await fetch(base + 'search/')).ok) break; } catch { /* not up yet */ }
  if (i > 50) throw new Error('static server did not start');
  await new Promise(r => setTimeout(r, 100));
}
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage();
  await page.goto(base + 'search/');
  await page.waitForSelector('#search-input', { state: 'visible' });
  for (const q of ['breach', 'data breach', 'ransomware encrypted', 'impersonat', 'phishing credentials', 'T1566']) {
    const times = await page.evaluate(async (q) => {
      const input = document.getElementById('search-input');
      const list = document.getElementById('search-results');
      const status = document.getElementById('search-status');
      const run = () => new Promise(done => {
        input.value = '';
        list.textContent = '';
        const t0 = performance.now();
        const obs = new MutationObserver(() => {
          if (list.children.length || /No case/.test(status.textContent)) { obs.disconnect(); done([performance.now() - t0, status.textContent]); }
        });
        obs.observe(list, { childList: true });
        obs.observe(status, { childList: true, characterData: true, subtree: true });
        input.value = q;
        input.form.requestSubmit();
      });
      const cold = await run();
      const warm = await run();
      return [cold[0], warm[0], warm[1]];
    }, q);
    console.log(`${JSON.stringify(q)}: cold ${times[0].toFixed(1)} ms, warm ${times[1].toFixed(1)} ms (${times[2]})`);
  }
} finally {
  await browser.close();
  server.kill();
}
