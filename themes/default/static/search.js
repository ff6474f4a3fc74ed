// Casebook search: reads the index Casebook writes under search/ (see
// src/render/search.rs) and fetches only the shards of the query's terms and the
// document chunks of the results it shows. No framework, no requests elsewhere.
(function () {
  "use strict";

  var TITLE = 4, META = 2, BODY = 1;
  var PAGE = 10;

  var form = document.getElementById("search-form");
  if (!form || !window.fetch) return;
  var input = document.getElementById("search-input");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  // Messages in the page's language, from the template (data-*), English otherwise.
  function msg(name, fallback, values) {
    var text = (status && status.getAttribute("data-" + name)) || fallback;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }
  var root = form.getAttribute("data-root") || "";
  var base = root + "search/";

  var metaPromise = null;
  var shardCache = new Map();
  var chunkCache = new Map();
  var current = 0; // increases with each query, so late answers to old ones are dropped
  var results = [];
  var shown = 0;
  var pattern = null;

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": " + r.status);
      return r.json();
    });
  }

  function meta() {
    if (!metaPromise) {
      metaPromise = getJSON(base + "meta.json?t=" + Date.now()).catch(function (e) {
        metaPromise = null;
        throw e;
      });
    }
    return metaPromise;
  }

  // The same terms as the Rust side: lower case, full-width ASCII folded, runs of
  // letters and digits (2+ characters), CJK bigrams (or a lone CJK character).
  var CJK = /[\u1100-\u11FF\u3040-\u309F\u30A0-\u30FF\u3130-\u318F\u31F0-\u31FF\u3400-\u4DBF\u4E00-\u9FFF\uAC00-\uD7AF\uF900-\uFAFF\uFF66-\uFF9F\u{20000}-\u{3134F}]/u;
  var ALNUM = /[\p{Alphabetic}\p{N}]/u;

  function normalize(text) {
    return text.replace(/[\uFF01-\uFF5E]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    }).toLowerCase();
  }

  function tokenize(query) {
    var chars = Array.from(normalize(query));
    var out = [];
    function add(t) { if (out.indexOf(t) < 0) out.push(t); }
    var i = 0;
    while (i < chars.length) {
      var c = chars[i];
      var j = i;
      if (CJK.test(c)) {
        while (j < chars.length && CJK.test(chars[j])) j++;
        if (j - i === 1) add(c);
        for (var k = i; k + 1 < j; k++) add(chars[k] + chars[k + 1]);
        i = j;
      } else if (ALNUM.test(c)) {
        while (j < chars.length && ALNUM.test(chars[j]) && !CJK.test(chars[j])) j++;
        if (j - i >= 2) add(chars.slice(i, j).join(""));
        i = j;
      } else {
        i++;
      }
    }
    return out;
  }

  // FNV-1a, 32 bits, of the UTF-8 bytes.
  function shardOf(term, shards) {
    var bytes = new TextEncoder().encode(term);
    var h = 0x811c9dc5;
    for (var i = 0; i < bytes.length; i++) {
      h ^= bytes[i];
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h & (shards - 1);
  }

  function shard(m, n) {
    var key = m.v + "/" + n;
    if (!shardCache.has(key)) {
      var p = getJSON(base + "index/" + n + ".json?v=" + m.v);
      p.catch(function () { shardCache.delete(key); });
      shardCache.set(key, p);
    }
    return shardCache.get(key);
  }

  function chunk(m, n) {
    var key = m.v + "/" + n;
    if (!chunkCache.has(key)) {
      var p = getJSON(base + "docs/" + n + ".json?v=" + m.v);
      p.catch(function () { chunkCache.delete(key); });
      chunkCache.set(key, p);
    }
    return chunkCache.get(key);
  }

  // Postings as a Map doc -> fields.
  function decode(list) {
    var map = new Map();
    var doc = 0;
    for (var i = 0; i < list.length; i++) {
      var v = list[i];
      doc += Math.floor(v / 8);
      map.set(doc, v % 8);
    }
    return map;
  }

  function weight(f) {
    return (f & TITLE ? 16 : 0) + (f & META ? 4 : 0) + (f & BODY ? 1 : 0);
  }

  function lookup(m, terms) {
    return Promise.all(terms.map(function (t) {
      return shard(m, shardOf(t, m.shards)).then(function (s) {
        return Object.prototype.hasOwnProperty.call(s, t) ? s[t] : [];
      });
    })).then(function (lists) {
      lists.sort(function (a, b) { return a.length - b.length; });
      var maps = lists.map(decode);
      var found = [];
      maps[0].forEach(function (f, doc) {
        var score = weight(f);
        for (var i = 1; i < maps.length; i++) {
          var g = maps[i].get(doc);
          if (g === undefined) return;
          score += weight(g);
        }
        found.push([doc, score]);
      });
      // Best score first; then site order (newest incident first).
      found.sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
      return found.map(function (x) { return x[0]; });
    });
  }

  function escapeRegExp(s) {
    return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  // What to highlight: the query's words and its CJK runs as typed.
  function highlighter(query) {
    var chars = Array.from(normalize(query));
    var parts = [];
    var i = 0;
    while (i < chars.length) {
      var cjk = CJK.test(chars[i]);
      var j = i;
      if (cjk || ALNUM.test(chars[i])) {
        while (j < chars.length && CJK.test(chars[j]) === cjk && (cjk || ALNUM.test(chars[j]))) j++;
        if (cjk || j - i >= 2) parts.push(chars.slice(i, j).join(""));
        i = j;
      } else {
        i++;
      }
    }
    if (!parts.length) return null;
    parts.sort(function (a, b) { return b.length - a.length; });
    return new RegExp(parts.map(escapeRegExp).join("|"), "giu");
  }

  // Appends text to el with the matches of pattern in <mark> elements.
  function appendMarked(el, text) {
    if (!pattern) { el.appendChild(document.createTextNode(text)); return; }
    pattern.lastIndex = 0;
    var last = 0;
    var m;
    while ((m = pattern.exec(text)) !== null) {
      if (m[0] === "") { pattern.lastIndex++; continue; }
      if (m.index > last) el.appendChild(document.createTextNode(text.slice(last, m.index)));
      var mark = document.createElement("mark");
      mark.textContent = m[0];
      el.appendChild(mark);
      last = m.index + m[0].length;
    }
    if (last < text.length) el.appendChild(document.createTextNode(text.slice(last)));
  }

  // A window of the summary or body start around the first match.
  function snippet(doc) {
    var texts = [doc.s, doc.x].filter(Boolean);
    for (var i = 0; pattern && i < texts.length; i++) {
      pattern.lastIndex = 0;
      var m = pattern.exec(texts[i]);
      if (m) {
        var t = texts[i];
        var start = Math.max(0, m.index - 60);
        var end = Math.min(t.length, start + 220);
        return (start > 0 ? "…" : "") + t.slice(start, end) + (end < t.length ? "…" : "");
      }
    }
    var s = texts[0] || "";
    return s.length > 220 ? s.slice(0, 220) + "…" : s;
  }

  function showMore(m, token) {
    var page = results.slice(shown, shown + PAGE);
    var need = [];
    page.forEach(function (d) {
      var c = Math.floor(d / m.chunk);
      if (need.indexOf(c) < 0) need.push(c);
    });
    return Promise.all(need.map(function (c) { return chunk(m, c); })).then(function (chunks) {
      if (token !== current) return;
      page.forEach(function (d) {
        var doc = chunks[need.indexOf(Math.floor(d / m.chunk))][d % m.chunk];
        if (!doc) return;
        var li = document.createElement("li");
        if (doc.l) li.lang = doc.l;
        var a = document.createElement("a");
        a.href = root + doc.u;
        appendMarked(a, doc.t);
        li.appendChild(a);
        var text = snippet(doc);
        if (text) {
          var p = document.createElement("p");
          appendMarked(p, text);
          li.appendChild(p);
        }
        list.appendChild(li);
      });
      shown += page.length;
      more.hidden = shown >= results.length;
    });
  }

  function search(query) {
    var token = ++current;
    var terms = tokenize(query);
    results = [];
    shown = 0;
    list.textContent = "";
    more.hidden = true;
    if (!terms.length) {
      status.textContent = query.trim() ? msg("short", "Type at least two letters.") : "";
      return Promise.resolve();
    }
    status.textContent = msg("searching", "Searching…");
    return meta().then(function (m) {
      return lookup(m, terms).then(function (found) {
        if (token !== current) return;
        results = found;
        pattern = highlighter(query);
        status.textContent = found.length === 0
          ? msg("none", "No case matches “{query}”.", { query: query.trim() })
          : found.length === 1 ? msg("one", "1 case found.") : msg("many", "{n} cases found.", { n: found.length });
        return showMore(m, token);
      });
    }).catch(function () {
      if (token === current) status.textContent = msg("failed", "The search index could not be loaded.");
    });
  }

  var timer = null;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value;
      var url = new URL(window.location.href);
      if (q.trim()) url.searchParams.set("q", q); else url.searchParams.delete("q");
      history.replaceState(null, "", url.toString());
      search(q);
    }, 150);
  }

  form.hidden = false;
  input.addEventListener("input", schedule);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearTimeout(timer);
    search(input.value);
  });
  more.addEventListener("click", function () {
    meta().then(function (m) { return showMore(m, current); });
  });
  var initial = new URLSearchParams(window.location.search).get("q");
  if (initial) {
    input.value = initial;
    search(initial);
  }
})();
