// Reads the built example site the way a reader does, in Debian's headless Chromium
// driven by playwright-core (no browser download): navigation, keyboard, console,
// narrow screens, dark mode, print and axe-core. Run by tests/browser.rs:
//
//   node tests/browser/run.mjs SITE_DIR
//
// Exits 0 when every check passes, 1 with every failure listed otherwise.
// CASEBOOK_CHROMIUM overrides the browser binary (default /usr/bin/chromium);
// CASEBOOK_SCREENSHOTS=DIR also writes screenshots (360 and 1280 px, light and dark)
// and a print PDF of a case, for a person to look at.
import { chromium } from "playwright-core";
import { readdirSync, existsSync, mkdirSync } from "node:fs";
import { join, relative, sep, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { serve } from "./server.mjs";

const dir = process.argv[2];
if (!dir || !existsSync(join(dir, "index.html"))) {
  console.error("usage: node tests/browser/run.mjs SITE_DIR (a built site, with index.html)");
  process.exit(2);
}
const CHROMIUM = process.env.CASEBOOK_CHROMIUM || "/usr/bin/chromium";
const SHOTS = process.env.CASEBOOK_SCREENSHOTS || "";
const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const here = dirname(fileURLToPath(import.meta.url));

// The pages the checks single out. The example site is this repository's own.
const HOME = "/";
const CASE_EN = "/cases/medibank-2022/";
const CASE_ZH = "/cases/ntt-communications-2025/";
const ORG = "/organizations/ntt-communications/";
const TECHNIQUE = "/techniques/T1078/";
const MATRIX = "/techniques/";
const TACTIC = "/tactics/initial-access/";
// The analysis and search pages: every build has them.
const MORE = ["/timeline/", "/statistics/", "/techniques/confirmed/", "/search/"];
// One page of every type, read at every width in light and dark.
const TYPES = [HOME, "/cases/", CASE_EN, CASE_ZH, "/organizations/", ORG, "/sectors/", "/sectors/telecommunications/",
  TECHNIQUE, MATRIX, TACTIC, ...MORE, "/timeline/2018/", "/years/2022/", "/about/", "/404.html"];
const WIDTHS = [360, 768, 1280];
// Cases whose top a phone must show within a screen and a half.
const CASES_ON_PHONE = [CASE_EN, CASE_ZH, "/cases/ntt-communications-2020/"];

const failures = [];
const t0 = Date.now();

function fail(check, message) {
  failures.push(`${check}: ${message}`);
}

async function check(name, fn) {
  const start = Date.now();
  const before = failures.length;
  try {
    await fn();
  } catch (e) {
    // A failed assertion says what is wrong; anything else gets its stack.
    fail(name, e instanceof CheckFailed ? e.message : e && e.stack ? e.stack : String(e));
  }
  const n = failures.length - before;
  console.log(`${n ? "FAIL" : "ok  "} ${name} (${Date.now() - start} ms)${n ? `: ${n} problem(s)` : ""}`);
}

class CheckFailed extends Error {}

function assert(cond, message) {
  if (!cond) throw new CheckFailed(message);
}

/** Every HTML page of the built site, as the URL path a server gives it. */
function allPages(root) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".html")) {
        const rel = relative(root, p).split(sep).join("/");
        out.push("/" + (rel === "index.html" ? "" : rel.replace(/(^|\/)index\.html$/, "$1")));
      }
    }
  };
  walk(root);
  return out.sort();
}

/** Records console errors, uncaught exceptions, failed requests and HTTP errors. */
function watch(page) {
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => {
    // ERR_ABORTED: the next navigation cancelled it (the favicon, typically); a
    // missing file shows up as an HTTP error below instead.
    const why = r.failure()?.errorText || "";
    if (!why.includes("ERR_ABORTED")) problems.push(`request failed: ${r.url()} ${why}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return problems;
}

const norm = (s) => (s || "").replace(/\s+/g, " ").trim();

function luminance(rgb) {
  const m = rgb.match(/[\d.]+/g).map(Number);
  const [r, g, b] = m.slice(0, 3).map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

const server = await serve(dir);
const base = server.url;
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  // Playwright gives the browser a fresh, empty profile of its own.
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

async function newPage(opts = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  return { context, page, problems: watch(page) };
}

async function h1(page) {
  return norm(await page.locator("h1").first().innerText());
}

try {
  const pages = allPages(dir);
  for (const p of [HOME, CASE_EN, CASE_ZH, ORG, TECHNIQUE, MATRIX, TACTIC]) {
    if (!pages.includes(p)) fail("site", `the example site has no page ${p}`);
  }

  // ---- home -> case -> organization -> (back) case -> technique -> tactic -> back
  await check("navigation: home -> case -> organization -> technique -> tactic -> back", async () => {
    const { context, page, problems } = await newPage();
    const expectAt = async (path, title, what) => {
      const got = new URL(page.url()).pathname;
      assert(got === path, `${what}: expected URL ${path}, at ${got}`);
      const h = await h1(page);
      assert(h === title, `${what}: expected h1 "${title}" at ${path}, got "${h}"`);
    };
    const follow = async (selector, what) => {
      const link = page.locator(selector).first();
      assert((await link.count()) > 0, `${what}: no link matches ${selector} on ${new URL(page.url()).pathname}`);
      const text = norm(await link.innerText());
      const target = new URL(await link.getAttribute("href"), page.url()).pathname;
      await Promise.all([page.waitForURL((u) => u.pathname === target), link.click()]);
      await page.waitForLoadState("load");
      return { text, target };
    };

    await page.goto(base + HOME);
    await expectAt(HOME, norm(await page.title()), "home");
    const kase = await follow(".home-latest .card__title a", "home -> case");
    assert(/^\/cases\/[^/]+\/$/.test(kase.target), `home -> case: ${kase.target} is not a case URL`);
    await expectAt(kase.target, kase.text, "case");
    // Lists may show the case in another of its languages.
    const versions = [kase.target, ...(await page.locator("link[rel=alternate][hreflang]").evaluateAll(
      (ls) => ls.map((l) => new URL(l.href).pathname)))];
    const listsCase = async (list) => {
      const hrefs = await page.locator(`${list} a[href]`).evaluateAll((as) => as.map((a) => new URL(a.href).pathname));
      return hrefs.some((h) => versions.includes(h));
    };

    const org = await follow('.facts__list a[href*="organizations/"]', "case -> organization");
    assert(/^\/organizations\/[^/]+\/$/.test(org.target), `case -> organization: ${org.target}`);
    await expectAt(org.target, org.text, "organization");
    assert(await listsCase(".card__title"), `organization ${org.target} does not list the case ${versions.join(" or ")}`);

    await page.goBack();
    await expectAt(kase.target, kase.text, "back to the case");

    const tech = await follow(".attack-table__tech a:not(.ext)", "case -> technique");
    assert(/^\/techniques\/T\d{4}(\.\d{3})?\/$/.test(tech.target), `case -> technique: ${tech.target}`);
    await expectAt(tech.target, tech.text, "technique");
    assert(await listsCase(".uses-table"), `technique ${tech.target} does not list the case ${versions.join(" or ")}`);

    const tactic = await follow('.meta-grid a[href*="tactics/"]', "technique -> tactic");
    assert(/^\/tactics\/[a-z-]+\/$/.test(tactic.target), `technique -> tactic: ${tactic.target}`);
    await expectAt(tactic.target, tactic.text, "tactic");

    await page.goBack();
    await expectAt(tech.target, tech.text, "back to the technique");
    await page.goBack();
    await expectAt(kase.target, kase.text, "back to the case");
    for (const p of problems) fail("navigation", p);
    await context.close();
  });

  // ---- keyboard only: Tab reaches every visible link, with a visible focus
  for (const path of [HOME, CASE_EN]) {
    await check(`keyboard: Tab reaches every link on ${path}`, async () => {
      const { context, page, problems } = await newPage();
      await page.goto(base + path);
      const links = await page.evaluate(() => {
        const out = [];
        document.querySelectorAll("a[href]").forEach((a, i) => {
          a.dataset.kb = String(i);
          const style = getComputedStyle(a);
          // Content of a closed <details> is reached by opening it first, not by Tab.
          const closed = a.closest("details:not([open])");
          const folded = closed && !a.closest("summary");
          if (a.getClientRects().length && style.visibility !== "hidden" && !a.closest("[inert],[hidden]") && !folded) {
            out.push({ kb: String(i), text: a.textContent.replace(/\s+/g, " ").trim(), href: a.getAttribute("href") });
          }
        });
        return out;
      });
      assert(links.length > 5, `only ${links.length} links found`);
      const reached = new Set();
      const noRing = [];
      let first = null;
      for (let i = 0; i < links.length * 2 + 40 && reached.size < links.length; i++) {
        await page.keyboard.press("Tab");
        const f = await page.evaluate(() => {
          const el = document.activeElement;
          if (!el || el === document.body) return null;
          const s = getComputedStyle(el);
          return {
            kb: el.dataset ? el.dataset.kb || null : null,
            tag: el.tagName,
            ring: s.outlineStyle !== "none" || s.boxShadow !== "none",
          };
        });
        if (!f) continue;
        const key = f.kb || `${f.tag}#${i}`;
        if (first === null) first = key;
        else if (key === first) break; // wrapped around
        if (f.kb) reached.add(f.kb);
        if (!f.ring) noRing.push(f.kb || f.tag);
      }
      const missed = links.filter((l) => !reached.has(l.kb));
      if (missed.length) {
        fail(
          `keyboard ${path}`,
          `${missed.length} of ${links.length} links never got focus: ` +
            missed.slice(0, 10).map((l) => `"${l.text}" (${l.href})`).join(", "),
        );
      }
      if (noRing.length) fail(`keyboard ${path}`, `${noRing.length} focused elements show no focus ring`);

      // The skip link is the first stop and moves focus to the main content.
      await page.goto(base + path);
      await page.keyboard.press("Tab");
      const skip = await page.evaluate(() => document.activeElement.className);
      assert(skip.includes("skip-link"), `the first Tab stop is "${skip}", not the skip link`);
      const visible = await page.evaluate(() => {
        const r = document.activeElement.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= innerHeight && r.width > 0;
      });
      assert(visible, "the focused skip link is not on screen");
      await page.keyboard.press("Enter");
      const target = await page.evaluate(() => document.activeElement.id);
      assert(target === "main", `Enter on the skip link focused #${target}, not #main`);
      for (const p of problems) fail(`keyboard ${path}`, p);
      await context.close();
    });
  }

  // ---- every page at 360 px: no horizontal scrolling, no console errors
  await check(`every page (${pages.length}) at 360 px: no horizontal scroll, no console errors`, async () => {
    const { context, page, problems } = await newPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    for (const path of pages) {
      problems.length = 0;
      const resp = await page.goto(base + path, { waitUntil: "load" });
      if (!resp || resp.status() !== 200) fail(path, `HTTP ${resp && resp.status()}`);
      const { sw, culprits } = await page.evaluate(() => {
        const vw = document.documentElement.clientWidth;
        const culprits = [];
        for (const el of document.body.querySelectorAll("*")) {
          const r = el.getBoundingClientRect();
          if (r.right > vw + 0.5 && r.width > 0) {
            // Report the outermost offenders only (not those inside a scroll box).
            let p = el.parentElement, inScroller = false;
            while (p && p !== document.body) {
              const o = getComputedStyle(p).overflowX;
              if (o === "auto" || o === "scroll" || o === "hidden") { inScroller = true; break; }
              p = p.parentElement;
            }
            if (!inScroller) culprits.push(`${el.tagName.toLowerCase()}.${[...el.classList].join(".")} (right ${Math.round(r.right)})`);
          }
        }
        return { sw: document.documentElement.scrollWidth, culprits: culprits.slice(0, 5) };
      });
      if (sw > 360) fail(path, `scrolls sideways at 360 px (scrollWidth ${sw}): ${culprits.join(", ")}`);
      for (const p of problems) fail(path, p);
    }
    await context.close();
  });

  // ---- one page of every type at 360, 768 and 1280 px, light and dark: nothing wider
  // than the page, and (at 360) no SVG text drawn smaller than 11 CSS px
  await check(`every page type (${TYPES.length}) at ${WIDTHS.join(", ")} px, light and dark: no sideways scroll; SVG text at least 11 px at 360`, async () => {
    for (const p of TYPES) if (!pages.includes(p)) fail("page types", `the example site has no page ${p}`);
    for (const scheme of ["light", "dark"]) {
      for (const width of WIDTHS) {
        const phone = width < 400;
        const { context, page, problems } = await newPage({ colorScheme: scheme, viewport: { width, height: phone ? 740 : 900 }, isMobile: phone, hasTouch: phone });
        for (const path of TYPES.filter((p) => pages.includes(p))) {
          problems.length = 0;
          await page.goto(base + path, { waitUntil: "load" });
          const r = await page.evaluate(() => {
            const vw = document.documentElement.clientWidth;
            const small = [];
            let texts = 0;
            for (const t of document.querySelectorAll("svg text")) {
              if (!t.getClientRects().length) continue; // not rendered (display: none)
              const m = t.getScreenCTM();
              const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
              texts++;
              if (px < 10.95) small.push(`"${t.textContent.slice(0, 20)}" ${px.toFixed(1)} px in svg.${[...t.ownerSVGElement.classList].join(".")}`);
              // Text that starts left of its chart is cut off by the chart's frame.
              if (t.getBoundingClientRect().left < t.ownerSVGElement.getBoundingClientRect().left - 1) small.push(`"${t.textContent.slice(0, 20)}" cut off at the left`);
            }
            return { sw: document.documentElement.scrollWidth, vw, small, texts };
          });
          const where = `${scheme} ${width} ${path}`;
          if (r.sw > r.vw) fail(where, `scrolls sideways (scrollWidth ${r.sw}, viewport ${r.vw})`);
          if (phone && r.small.length) fail(where, `${r.small.length} of ${r.texts} SVG texts under 11 px or cut off: ${r.small.slice(0, 4).join("; ")}`);
          for (const p of problems) fail(where, p);
        }
        await context.close();
      }
    }
  });

  // ---- a case on a phone leads like a news story
  await check(`case on a phone: headline, standfirst and key facts within 1.5 screens, story before the tables`, async () => {
    const { context, page } = await newPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    for (const path of CASES_ON_PHONE) {
      await page.goto(base + path);
      const r = await page.evaluate(() => {
        const bottom = (s) => { const e = document.querySelector(s); return e ? e.getBoundingClientRect().bottom + scrollY : null; };
        const top = (s) => { const e = document.querySelector(s); return e ? e.getBoundingClientRect().top + scrollY : null; };
        const labels = [...document.querySelectorAll(".facts__list dt")].map((d) => d.textContent.trim()).filter(Boolean);
        // A word broken across lines inside a fact ("Telecommunicati / ons").
        const broken = [...document.querySelectorAll(".facts__list dd a")].filter((a) => {
          const rects = a.getClientRects();
          return a.textContent.trim().split(/\s+/).length === 1 && rects.length > 1;
        }).map((a) => a.textContent.trim());
        return { screen: innerHeight, h1: bottom("h1"), standfirst: bottom(".standfirst"), facts: bottom(".facts__list"),
          labels, broken, story: top(".prose"), attack: top(".attack"), refs: top(".references") };
      });
      const limit = 1.5 * r.screen;
      for (const [what, y] of [["headline", r.h1], ["standfirst", r.standfirst], ["key facts", r.facts]]) {
        if (y === null) fail(path, `no ${what}`);
        else if (y > limit) fail(path, `the ${what} ends at ${Math.round(y)} px, below 1.5 screens (${limit} px)`);
      }
      if (r.labels.length < 4) fail(path, `the key facts have ${r.labels.length} labels`);
      if (r.broken.length) fail(path, `key facts break words: ${r.broken.join(", ")}`);
      if (!(r.story !== null && r.story < (r.attack ?? Infinity) && r.story < (r.refs ?? Infinity))) {
        fail(path, `the story (${r.story}) does not come before the techniques (${r.attack}) and references (${r.refs})`);
      }
    }
    await context.close();
  });

  // ---- a phone's header and search form: six sections at most, all in sight; the
  // search button clear of the screen's edge
  await check(`phone chrome: at most six sections, all on screen; the search button off the edge`, async () => {
    const { context, page } = await newPage({ viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true });
    await page.goto(base + "/search/");
    await page.waitForSelector("#search-form:not([hidden])");
    const r = await page.evaluate(() => ({
      nav: [...document.querySelectorAll(".site-nav a")].map((a) => { const b = a.getBoundingClientRect(); return [a.textContent.trim(), b.left, b.right]; }),
      button: document.querySelector("#search-form button").getBoundingClientRect().right,
      vw: document.documentElement.clientWidth,
    }));
    assert(r.nav.length >= 1 && r.nav.length <= 6, `${r.nav.length} sections in the main navigation`);
    const off = r.nav.filter(([, l, rt]) => l < 0 || rt > r.vw);
    assert(!off.length, `sections off screen: ${off.map((n) => n[0]).join(", ")}`);
    assert(r.button <= r.vw - 8, `the search button ends at ${r.button} px of ${r.vw}`);
    await context.close();
  });

  // ---- the matrix: a labelled frame that scrolls, heads that stay, a sign of more
  await check(`matrix at 1280 px: scrolls inside its labelled frame, tactic heads sticky, a hint of more`, async () => {
    const { context, page } = await newPage();
    await page.goto(base + MATRIX);
    const r = await page.evaluate(() => {
      const w = document.querySelector(".matrix-wrap");
      const head = document.querySelector(".matrix__head");
      const label = w.getAttribute("aria-labelledby") && document.getElementById(w.getAttribute("aria-labelledby"));
      return { role: w.getAttribute("role"), label: label ? label.textContent.trim() : "", hint: !!document.querySelector("#" + w.getAttribute("aria-describedby")),
        overflow: getComputedStyle(w).overflowX, sticky: getComputedStyle(head).position, sw: document.documentElement.scrollWidth,
        legend: document.querySelectorAll(".legend__item").length, wider: w.scrollWidth > w.clientWidth };
    });
    assert(r.role === "region" && r.label, `the matrix frame is not a labelled region (${r.role}, "${r.label}")`);
    assert(r.overflow === "auto" && r.sticky === "sticky", `frame overflow ${r.overflow}, heads ${r.sticky}`);
    assert(r.hint, "no hint says the matrix scrolls");
    assert(r.sw <= 1280, `the page scrolls sideways at 1280 px (${r.sw})`);
    assert(r.legend > 0, "the matrix has no legend of its shades");
    await context.close();
  });

  // ---- dark mode follows prefers-color-scheme
  await check("dark mode: prefers-color-scheme: dark gives a dark page with light text", async () => {
    for (const scheme of ["light", "dark"]) {
      const { context, page, problems } = await newPage({ colorScheme: scheme });
      for (const path of [HOME, CASE_ZH, MATRIX]) {
        await page.goto(base + path);
        const { bg, fg, head } = await page.evaluate(() => ({
          bg: getComputedStyle(document.body).backgroundColor,
          fg: getComputedStyle(document.body).color,
          head: getComputedStyle(document.querySelector(".site-header")).backgroundColor,
        }));
        const [lb, lf, lh] = [luminance(bg), luminance(fg), luminance(head)];
        if (scheme === "dark") {
          if (!(lb < 0.05 && lh < 0.05)) fail(`dark ${path}`, `background is not dark: body ${bg}, header ${head}`);
          if (!(lf > 0.6)) fail(`dark ${path}`, `text is not light: ${fg}`);
        } else {
          if (!(lb > 0.8)) fail(`light ${path}`, `background is not light: ${bg}`);
          if (!(lf < 0.05)) fail(`light ${path}`, `text is not dark: ${fg}`);
        }
      }
      for (const p of problems) fail(`${scheme} mode`, p);
      await context.close();
    }
  });

  // ---- print
  await check(`print: ${CASE_EN} prints without navigation, with reference URLs`, async () => {
    const { context, page, problems } = await newPage();
    await page.goto(base + CASE_EN);
    await page.emulateMedia({ media: "print" });
    const r = await page.evaluate(() => {
      const hidden = (sel) => [...document.querySelectorAll(sel)].every((e) => getComputedStyle(e).display === "none");
      const refs = [...document.querySelectorAll(".ref-list a[href^='http']")];
      const withUrl = refs.filter((a) => getComputedStyle(a, "::after").content.includes(a.href.slice(0, 8)));
      const bare = refs.filter((a) => a.classList.contains("ref-bare"));
      return {
        nav: hidden(".site-header nav"),
        skip: hidden(".skip-link"),
        footerNav: hidden(".footer-nav"),
        toc: hidden(".toc"),
        refs: refs.length,
        withUrl: withUrl.length,
        bare: bare.length,
        titled: refs.length - bare.length,
        sample: (() => {
          const t = refs.find((a) => !a.classList.contains("ref-bare"));
          return t ? getComputedStyle(t, "::after").content : "";
        })(),
        bg: getComputedStyle(document.body).backgroundColor,
      };
    });
    assert(r.nav, "the header navigation is shown in print");
    assert(r.skip && r.footerNav && r.toc, "navigation chrome (skip link, footer navigation or contents) is shown in print");
    assert(r.refs > 0, `${CASE_EN} has no references to check`);
    assert(r.withUrl === r.refs, `only ${r.withUrl} of ${r.refs} references show their URL in print (first: ${r.sample})`);
    assert(r.titled > 0, `${CASE_EN} has no titled reference to check`);
    assert(r.sample.includes("http"), `a titled reference's ::after content is ${r.sample}`);
    assert(luminance(r.bg) > 0.95, `print background is ${r.bg}`);
    if (SHOTS) await page.pdf({ path: join(SHOTS, "case-print.pdf"), format: "A4", printBackground: true });
    for (const p of problems) fail("print", p);
    await context.close();
  });

  // ---- axe-core on the pages that matter, in light and dark mode
  // /about/ has highlighted code: its colours are checked too.
  const axePages = [HOME, CASE_EN, CASE_ZH, ORG, TECHNIQUE, MATRIX, TACTIC, ...MORE, "/timeline/2018/", "/about/", "/cases/ntt-communications-2020/"];
  for (const scheme of ["light", "dark"]) {
    await check(`axe-core (${scheme}): no violations on ${axePages.join(" ")}`, async () => {
      const { context, page, problems } = await newPage({ colorScheme: scheme });
      for (const path of axePages) {
        await page.goto(base + path);
        await page.addScriptTag({ path: AXE });
        if (path === "/about/") {
          const code = await page.locator("pre.code span[class^='hl-']").count();
          if (!code) fail(`axe ${scheme} ${path}`, "no highlighted code to check the contrast of");
        }
        const violations = await page.evaluate(async () => {
          const res = await window.axe.run(document, { resultTypes: ["violations"] });
          return res.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.map((n) => `${n.target.join(" ")}${n.failureSummary ? ` [${n.failureSummary.replace(/\s+/g, " ").slice(0, 160)}]` : ""}`),
          }));
        });
        for (const v of violations) {
          fail(
            `axe ${scheme} ${path}`,
            `${v.id} (${v.impact}): ${v.help}\n      ${v.nodes.slice(0, 8).join("\n      ")}${v.nodes.length > 8 ? `\n      ... ${v.nodes.length - 8} more` : ""}`,
          );
        }
      }
      for (const p of problems) fail(`axe ${scheme}`, p);
      await context.close();
    });
  }

  // ---- screenshots for a person to look at
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await check(`screenshots into ${SHOTS}`, async () => {
      const shots = [["home", HOME], ["case-en", CASE_EN], ["case-zh", CASE_ZH], ["matrix", MATRIX], ["org", ORG], ["technique", TECHNIQUE], ["tactic", TACTIC]];
      for (const p of MORE) shots.push([p.replace(/\//g, ""), p]);
      for (const scheme of ["light", "dark"]) {
        for (const width of [360, 1280]) {
          const { context, page } = await newPage({ colorScheme: scheme, viewport: { width, height: width === 360 ? 740 : 900 } });
          for (const [name, path] of shots) {
            await page.goto(base + path);
            await page.screenshot({ path: join(SHOTS, `${name}-${width}-${scheme}.png`), fullPage: true });
          }
          await context.close();
        }
      }
    });
  }
} finally {
  await browser.close();
  await server.close();
}

console.log(`browser checks took ${((Date.now() - t0) / 1000).toFixed(1)} s (${relative(process.cwd(), here) || "."})`);
if (failures.length) {
  console.log(`\n${failures.length} problem(s):`);
  for (const f of failures) console.log(`- ${f}`);
  process.exit(1);
}
