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
  var current_groups = []; // what the shown results matched, for marking

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

  // Terms come from search-terms.js, the one definition shared with the Rust side.
  var T = window.CasebookTerms;
  if (!T) return;
  var CJK = T.CJK, ALNUM = T.ALNUM;

  // The shard of a term: the last whose first term is not after it (meta.shards is sorted).
  function shardOf(term, firsts) {
    var lo = 0, hi = firsts.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (firsts[mid] <= term) lo = mid + 1; else hi = mid;
    }
    return Math.max(0, lo - 1);
  }

  // How a typed query is looked up: one group per term, every group must match. The
  // word being typed (no space after it yet) also matches as a prefix of indexed
  // terms, as typed and as stemmed, from three characters on.
  var PREFIX_MIN = 3, PREFIX_SHARDS = 4, PREFIX_TERMS = 200;
  function groups(query) {
    var terms = T.tokenize(query);
    var out = terms.map(function (t) { return { exact: t, prefixes: [] }; });
    var norm = T.normalize(query);
    var m = /([\p{Alphabetic}\p{N}]+)$/u.exec(norm);
    if (m && out.length) {
      var word = Array.from(m[1]);
      if (!word.some(function (c) { return CJK.test(c); }) && word.length >= PREFIX_MIN) {
        var last = out[out.length - 1];
        var typed = word.join("");
        last.prefixes = [typed];
        if (T.termOf(typed) !== typed && T.termOf(typed).length >= PREFIX_MIN) last.prefixes.push(T.termOf(typed));
      }
    }
    return out;
  }

  function matches(group, term) {
    if (term === group.exact) return true;
    for (var i = 0; i < group.prefixes.length; i++) {
      if (term.lastIndexOf(group.prefixes[i], 0) === 0) return true;
    }
    return false;
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

  // A chunk's name is what it holds: the same name, the same documents.
  function chunk(m, c) {
    var name = m.chunks[c][1];
    if (!chunkCache.has(name)) {
      var p = getJSON(base + "docs/" + name + ".json");
      p.catch(function () { chunkCache.delete(name); });
      chunkCache.set(name, p);
    }
    return chunkCache.get(name);
  }

  // The chunk holding document d: the last whose first document is not after d.
  function chunkOf(m, d) {
    var lo = 0, hi = m.chunks.length - 1;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (m.chunks[mid][0] <= d) lo = mid; else hi = mid - 1;
    }
    return lo;
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

  // The postings of a group as a Map doc -> fields: its term's, and (while typing)
  // those of every term its prefixes start, from the few shards they fall in.
  function postings(m, group) {
    var wanted = [shardOf(group.exact, m.shards)];
    group.prefixes.forEach(function (p) {
      for (var n = shardOf(p, m.shards); n < m.shards.length && n < shardOf(p, m.shards) + PREFIX_SHARDS; n++) {
        if (n > shardOf(p, m.shards) && m.shards[n].lastIndexOf(p, 0) !== 0) break;
        if (wanted.indexOf(n) < 0) wanted.push(n);
      }
    });
    return Promise.all(wanted.map(function (n) { return shard(m, n); })).then(function (shards) {
      var map = new Map();
      var seen = 0;
      shards.forEach(function (s) {
        Object.keys(s).forEach(function (t) {
          if (!matches(group, t) || (t !== group.exact && ++seen > PREFIX_TERMS)) return;
          decode(s[t]).forEach(function (f, doc) { map.set(doc, (map.get(doc) || 0) | f); });
        });
      });
      return map;
    });
  }

  function lookup(m, gs) {
    return Promise.all(gs.map(function (g) { return postings(m, g); })).then(function (maps) {
      maps.sort(function (a, b) { return a.size - b.size; });
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
      // Best score first; then site order (newest incident first: documents are
      // numbered oldest first).
      found.sort(function (a, b) { return b[1] - a[1] || b[0] - a[0]; });
      return found.map(function (x) { return x[0]; });
    });
  }

  // The code-point ranges of text to mark: its words (and CJK bigrams) whose terms
  // match the query, found with the same rules as the index.
  function marks(text, firstOnly) {
    var chars = Array.from(text);
    var out = [];
    var hit = function (term) { return current_groups.some(function (g) { return matches(g, term); }); };
    var i = 0;
    while (i < chars.length) {
      var j = i;
      if (CJK.test(chars[i])) {
        while (j < chars.length && CJK.test(chars[j])) j++;
        if (j - i === 1 && hit(T.normalize(chars[i]))) out.push([i, j]);
        for (var k = i; k + 1 < j; k++) {
          if (hit(T.normalize(chars[k] + chars[k + 1]))) out.push([k, k + 2]);
        }
        i = j;
        if (firstOnly && out.length) break;
      } else if (ALNUM.test(chars[i])) {
        while (j < chars.length && ALNUM.test(chars[j]) && !CJK.test(chars[j])) j++;
        if (j - i >= 2 && hit(T.termOf(T.normalize(chars.slice(i, j).join(""))))) out.push([i, j]);
        i = j;
        if (firstOnly && out.length) break;
      } else {
        i++;
      }
    }
    // Overlapping bigrams joined into one mark.
    var merged = [];
    out.forEach(function (r) {
      var last = merged[merged.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]); else merged.push(r.slice());
    });
    return { chars: chars, ranges: merged };
  }

  // Appends text to el with the words that match the query in <mark> elements.
  function appendMarked(el, text) {
    var mk = marks(text);
    var at = 0;
    mk.ranges.forEach(function (r) {
      if (r[0] > at) el.appendChild(document.createTextNode(mk.chars.slice(at, r[0]).join("")));
      var mark = document.createElement("mark");
      mark.textContent = mk.chars.slice(r[0], r[1]).join("");
      el.appendChild(mark);
      at = r[1];
    });
    if (at < mk.chars.length) el.appendChild(document.createTextNode(mk.chars.slice(at).join("")));
  }

  // About 220 characters of the summary or the case's text around the first match.
  var SNIPPET = 220, BEFORE = 60;
  function snippet(doc) {
    var texts = [doc.s, doc.x].filter(Boolean);
    for (var i = 0; i < texts.length; i++) {
      // Only up to the first match: the case's text can be long.
      var mk = marks(texts[i], true);
      if (mk.ranges.length) {
        var chars = mk.chars;
        var start = Math.max(0, mk.ranges[0][0] - BEFORE);
        while (start > 0 && start > mk.ranges[0][0] - BEFORE - 20 && !/\s/.test(chars[start - 1])) start--;
        var end = Math.min(chars.length, start + SNIPPET);
        var text = chars.slice(start, end).join("").replace(/\s+/g, " ").trim();
        return (start > 0 ? "… " : "") + text + (end < chars.length ? " …" : "");
      }
    }
    var s = (texts[0] || "").replace(/\s+/g, " ");
    return Array.from(s).length > SNIPPET ? Array.from(s).slice(0, SNIPPET).join("") + " …" : s;
  }

  function showMore(m, token) {
    var page = results.slice(shown, shown + PAGE);
    var need = [];
    page.forEach(function (d) {
      var c = chunkOf(m, d);
      if (need.indexOf(c) < 0) need.push(c);
    });
    return Promise.all(need.map(function (c) { return chunk(m, c); })).then(function (chunks) {
      if (token !== current) return;
      page.forEach(function (d) {
        var c = chunkOf(m, d);
        var doc = chunks[need.indexOf(c)][d - m.chunks[c][0]];
        if (!doc) return;
        var li = document.createElement("li");
        if (doc.l) li.lang = doc.l;
        var a = document.createElement("a");
        a.href = root + doc.u;
        appendMarked(a, doc.t);
        li.appendChild(a);
        var about = [doc.o, doc.d].filter(Boolean).join(" · ");
        if (about) {
          var meta = document.createElement("p");
          meta.className = "search-meta";
          meta.textContent = about;
          li.appendChild(meta);
        }
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
    var gs = groups(query);
    results = [];
    shown = 0;
    list.textContent = "";
    more.hidden = true;
    if (!gs.length) {
      status.textContent = query.trim() ? msg("short", "Type at least two letters.") : "";
      return Promise.resolve();
    }
    status.textContent = msg("searching", "Searching…");
    return meta().then(function (m) {
      return lookup(m, gs).then(function (found) {
        if (token !== current) return;
        results = found;
        current_groups = gs;
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
