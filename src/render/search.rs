//! Full-text search for any static host: a chunked inverted index written at build
//! time, read by `search.js` on `/search/`.
//!
//! Only published cases (`site.cases`) are indexed, over all the text a case page shows:
//! title; summary, organizations, techniques, sectors, countries, actors, tags and data
//! types; the body, timeline, evidence, indicators and their notes, and references.
//! Output, under `search/`:
//!
//! - `meta.json`: `{v, shards, chunk, docs}`: a version (for cache busting), the first
//!   term of each index shard (shards hold sorted, disjoint ranges of terms, so a term
//!   and every term a prefix starts are found by binary search), how many documents each
//!   document chunk holds, and how many documents there are.
//! - `index/N.json`: the terms of shard `N`, as `{"term": [v, ...]}`: one number per
//!   case holding the term, `(doc - previous doc) * 8 + fields`, where `fields` has
//!   [`TITLE`], [`META`] and [`BODY`] bits.
//! - `docs/N.json`: documents `N * chunk ..`, as `[{t, u, l, o, d, x}]` (title, URL,
//!   language, organizations, when it happened, and the text a snippet is cut from):
//!   what a result shows.
//!
//! Terms ([`for_each_term`]): lower-cased runs of letters and digits (two characters or
//! more), those of a-z only stemmed with the Snowball English stemmer ("breached" ->
//! "breach"); in CJK text (Han, Hiragana, Katakana, Hangul), overlapping character
//! bigrams, so a query of several CJK characters matches by its bigrams.
//! `static/search-terms.js` is the same definition for the browser (tests/search.rs
//! compares the two on the same texts).

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use rayon::prelude::*;
use serde_json::json;
use tera::{Context, Tera};

use super::{OutputFile, Shared};
use crate::diagnostics::Diagnostic;
use crate::resolve::Site;

/// Field bit: the term is in the title.
pub const TITLE: u8 = 4;
/// Field bit: in the summary, an organization, or a technique's id or name.
pub const META: u8 = 2;
/// Field bit: in the body.
pub const BODY: u8 = 1;

/// Documents per `docs/N.json`: a page of ten results fetches a few small chunks.
pub const DOCS_PER_CHUNK: usize = 16;
/// Target size of an index shard, in bytes (before compression).
const SHARD_TARGET: usize = 24 * 1024;
/// Characters of a case's text kept for snippets (past them, a snippet falls back to the
/// summary).
const EXCERPT_CHARS: usize = 20_000;

/// The search page, the index and the document store.
pub fn render(site: &Site, tera: &Tera, shared: &Shared, files: &mut Vec<OutputFile>, diags: &mut Vec<Diagnostic>) {
    // A theme without a search page still gets the index; it just has no page for it.
    if tera.get_template_names().any(|n| n == "search.html") {
        let url = crate::urls::search();
        let url = url.as_str();
        let mut ctx = Context::new();
        ctx.insert("site", &shared.site);
        ctx.insert("root", &crate::urls::root_prefix(url));
        ctx.insert("page", &super::page_meta(site, url, "search", &super::i18n::tr("search.title"), None, None));
        ctx.insert("cases_url", &crate::urls::cases_page(1));
        match super::run(tera, "search.html", &ctx, url) {
            Ok(f) => files.push(f),
            Err(d) => diags.push(d),
        }
    }
    files.extend(index_files(site));
}

/// What a query needs to know: the plain text of every field of a case.
struct Doc {
    title: String,
    meta: String,
    body: String,
}

/// The text of a case a search result can show, in page order after the summary:
/// timeline, evidence, indicators, references, then the body.
fn visible_text(sc: &crate::resolve::SiteCase) -> String {
    let c = &sc.case;
    let mut text = String::new();
    let mut line = |s: &str| {
        if !s.is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(s);
        }
    };
    for t in &c.timeline {
        line(&t.event);
    }
    for t in &c.techniques {
        line(t.evidence.as_deref().unwrap_or_default());
    }
    for x in &c.indicators {
        line(&x.value);
        line(x.note.as_deref().unwrap_or_default());
    }
    for r in &c.references {
        line(r.title.as_deref().unwrap_or_default());
        line(r.publisher.as_deref().unwrap_or_default());
        line(&r.url);
    }
    line(&c.body.text);
    text
}

impl Doc {
    fn new(site: &Site, sc: &crate::resolve::SiteCase) -> Doc {
        let c = &sc.case;
        let mut meta = String::new();
        if let Some(s) = &c.summary {
            meta.push_str(s);
        }
        let i = &c.incident;
        let names =
            (c.organizations.iter()).chain(&i.sectors).chain(&i.actors).chain(&c.tags).chain(&c.impact.data_types);
        for o in names {
            meta.push('\n');
            meta.push_str(&o.value);
        }
        for cc in &i.countries {
            meta.push('\n');
            meta.push_str(crate::countries::country_name(&cc.value).unwrap_or(&cc.value));
        }
        // Actors as the site shows them: an ATT&CK group id under its name.
        for a in &i.actors {
            if let Some(g) = site.catalog.group_of_actor(&a.value) {
                meta.push('\n');
                meta.push_str(&g.name);
            }
        }
        for t in &c.techniques {
            meta.push('\n');
            meta.push_str(&t.id.value);
            if let Some(n) = &t.name {
                meta.push('\n');
                meta.push_str(&n.value);
            }
            if let Some(tech) = site.catalog.technique(&t.id.value) {
                meta.push('\n');
                meta.push_str(&tech.name);
            }
        }
        Doc { title: normalize(&c.title), meta: normalize(&meta), body: normalize(&visible_text(sc)) }
    }

    /// Its distinct terms with their field bits, sorted, in one buffer.
    fn terms(&self) -> DocTerms {
        // Distinct words first, then each stemmed once (a body repeats its words).
        let mut words: FastMap<(&str, bool), u8> = FastMap::default();
        for (text, bit) in [(&self.title, TITLE), (&self.meta, META), (&self.body, BODY)] {
            for_each_word(text, |w, cjk| *words.entry((w, cjk)).or_insert(0) |= bit);
        }
        let mut terms: FastMap<Cow<str>, u8> = FastMap::with_capacity_and_hasher(words.len(), Default::default());
        for ((w, cjk), bits) in words {
            *terms.entry(if cjk { Cow::Borrowed(w) } else { term_of(w) }).or_insert(0) |= bits;
        }
        let mut sorted: Vec<(Cow<str>, u8)> = terms.into_iter().collect();
        sorted.sort_unstable();
        let mut buf = String::with_capacity(sorted.iter().map(|(t, _)| t.len()).sum());
        let spans = sorted
            .into_iter()
            .map(|(t, f)| {
                let start = buf.len() as u32;
                buf.push_str(&t);
                (start, buf.len() as u32, f)
            })
            .collect();
        (buf, spans)
    }
}

/// A document's terms: `(text, [(start, end, fields)])`, each term a slice of `text`.
type DocTerms = (String, Vec<(u32, u32, u8)>);

/// Documents tokenized at once (in parallel) before their terms join the postings.
const BATCH: usize = 512;

/// The index files, in a fixed order (`meta.json`, shards, document chunks).
pub fn index_files(site: &Site) -> Vec<OutputFile> {
    // Postings: term -> [(doc, fields)], docs ascending. A batch of documents is
    // tokenized in parallel while the previous batch is merged in order, so the
    // normalized text of the whole site is never held at once and the serial merge
    // overlaps the tokenizing.
    let mut postings: FastMap<String, Vec<(u32, u8)>> = FastMap::default();
    let merge = |postings: &mut FastMap<String, Vec<(u32, u8)>>, start: usize, batch: Vec<DocTerms>| {
        for (k, (buf, spans)) in batch.iter().enumerate() {
            let doc = (start + k) as u32;
            for &(a, b, f) in spans {
                let t = &buf[a as usize..b as usize];
                match postings.get_mut(t) {
                    Some(p) => p.push((doc, f)),
                    None => {
                        postings.insert(t.to_string(), vec![(doc, f)]);
                    }
                }
            }
        }
    };
    let mut pending: Option<(usize, Vec<DocTerms>)> = None;
    for start in (0..site.cases.len()).step_by(BATCH) {
        let (batch, ()) = rayon::join(
            || {
                site.cases[start..(start + BATCH).min(site.cases.len())]
                    .par_iter()
                    .map(|sc| Doc::new(site, sc).terms())
                    .collect::<Vec<DocTerms>>()
            },
            || {
                if let Some((at, done)) = pending.take() {
                    merge(&mut postings, at, done);
                }
            },
        );
        pending = Some((start, batch));
    }
    if let Some((at, done)) = pending.take() {
        merge(&mut postings, at, done);
    }
    let mut terms: Vec<(String, Vec<(u32, u8)>)> = postings.into_iter().collect();
    terms.sort_unstable_by(|a, b| a.0.cmp(&b.0));

    // Shards of consecutive terms, about SHARD_TARGET bytes each: a term is in the
    // last shard whose first term is not after it, and the terms a prefix starts are in
    // one run of shards.
    let mut firsts: Vec<&str> = Vec::new();
    let mut bounds: Vec<usize> = Vec::new();
    let mut size = SHARD_TARGET;
    for (i, (t, p)) in terms.iter().enumerate() {
        if size >= SHARD_TARGET {
            firsts.push(t);
            bounds.push(i);
            size = 0;
        }
        size += t.len() + 6 + p.len() * 4;
    }
    bounds.push(terms.len());
    let shard_files: Vec<String> = bounds
        .par_windows(2)
        .map(|w| {
            let mut s = String::from("{");
            for (k, (t, p)) in terms[w[0]..w[1]].iter().enumerate() {
                if k > 0 {
                    s.push(',');
                }
                s.push_str(&serde_json::to_string(t).unwrap_or_default());
                s.push_str(":[");
                let mut prev = 0u32;
                for (j, &(doc, f)) in p.iter().enumerate() {
                    if j > 0 {
                        s.push(',');
                    }
                    let _ = write!(s, "{}", (u64::from(doc - prev) << 3) | u64::from(f));
                    prev = doc;
                }
                s.push(']');
            }
            s.push('}');
            s
        })
        .collect();
    let firsts: Vec<String> = firsts.into_iter().map(str::to_string).collect();

    let chunks: Vec<String> = site
        .cases
        .par_chunks(DOCS_PER_CHUNK)
        .map(|cases| {
            let list: Vec<serde_json::Value> = cases
                .iter()
                .map(|sc| {
                    let orgs = site.taxonomy(crate::urls::Kind::Organizations);
                    let names: Vec<&str> = sc.terms[crate::urls::Kind::Organizations.index()]
                        .iter()
                        .map(|&t| orgs.terms[t].name.as_str())
                        .collect();
                    json!({
                        "t": sc.case.title,
                        "u": sc.url,
                        "l": sc.case.lang.as_deref().unwrap_or(&site.config.language),
                        "o": names.join(", "),
                        "d": sc.happened.to_iso(),
                        "s": sc.case.summary.as_deref().unwrap_or(""),
                        "x": excerpt(&visible_text(sc), EXCERPT_CHARS),
                    })
                })
                .collect();
            serde_json::to_string(&list).unwrap_or_default()
        })
        .collect();

    let mut version = Fnv64::new();
    for s in shard_files.iter().chain(&chunks) {
        version.write(s.as_bytes());
        version.write(&[0]);
    }
    let meta = json!({
        "v": format!("{:016x}", version.0),
        "shards": firsts,
        "chunk": DOCS_PER_CHUNK,
        "docs": site.cases.len(),
    });
    let mut files = Vec::with_capacity(1 + shard_files.len() + chunks.len());
    drop(terms);
    files.push(OutputFile { path: "search/meta.json".into(), bytes: meta.to_string().into_bytes() });
    files.extend(
        shard_files
            .into_iter()
            .enumerate()
            .map(|(i, s)| OutputFile { path: format!("search/index/{i}.json"), bytes: s.into_bytes() }),
    );
    files.extend(
        chunks
            .into_iter()
            .enumerate()
            .map(|(i, s)| OutputFile { path: format!("search/docs/{i}.json"), bytes: s.into_bytes() }),
    );
    files
}

/// The first `n` characters of `text`, cut at a space when there is one near the end.
fn excerpt(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        None => text,
        Some((end, _)) => {
            let cut = &text[..end];
            match cut.rfind(' ') {
                Some(sp) if sp > end / 2 => &cut[..sp],
                _ => cut,
            }
        }
    }
}

/// Lower case, with full-width ASCII (`ＮＴＴ`) folded to ASCII, as `search.js` does.
pub fn normalize(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase(); // one pass; no full-width forms in it
    }
    // A whole string's lower case, not a character's: a final sigma is `ς`, as in JS.
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect::<String>()
        .to_lowercase()
}

/// Han, Hiragana, Katakana and Hangul: scripts written without spaces between words.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF     // Hangul Jamo
        | 0x3040..=0x309F   // Hiragana
        | 0x30A0..=0x30FF   // Katakana
        | 0x3130..=0x318F   // Hangul Compatibility Jamo
        | 0x31F0..=0x31FF   // Katakana Phonetic Extensions
        | 0x3400..=0x4DBF   // CJK Extension A
        | 0x4E00..=0x9FFF   // CJK Unified Ideographs
        | 0xAC00..=0xD7AF   // Hangul Syllables
        | 0xF900..=0xFAFF   // CJK Compatibility Ideographs
        | 0xFF66..=0xFF9F   // Half-width Katakana
        | 0x20000..=0x3134F // CJK Extensions B to G
    )
}

/// The Snowball English stemmer, made once.
fn stemmer() -> &'static rust_stemmers::Stemmer {
    static STEMMER: std::sync::OnceLock<rust_stemmers::Stemmer> = std::sync::OnceLock::new();
    STEMMER.get_or_init(|| rust_stemmers::Stemmer::create(rust_stemmers::Algorithm::English))
}

/// A word as indexed: a run of a-z only is stemmed, anything else kept as it is (so the
/// browser's stemmer sees exactly the words it was written for).
pub fn term_of(word: &str) -> Cow<'_, str> {
    if !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return Cow::Borrowed(word);
    }
    // A site's vocabulary is small beside its word count: each thread stems a word once.
    thread_local! {
        static STEMS: std::cell::RefCell<FastMap<Box<str>, Option<Box<str>>>> = Default::default();
    }
    STEMS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(stem) = cache.get(word) {
            return stem.as_deref().map_or(Cow::Borrowed(word), |s| Cow::Owned(s.to_string()));
        }
        let stem = match stemmer().stem(word) {
            Cow::Owned(s) if s != word => Some(s.into_boxed_str()),
            _ => None,
        };
        if cache.len() > 1 << 20 {
            cache.clear(); // bounded, whatever the input
        }
        cache.insert(word.into(), stem.clone());
        stem.map_or(Cow::Borrowed(word), |s| Cow::Owned(s.into_string()))
    })
}

/// Calls `f` with every term of `text` (already [`normalize`]d), repeats included.
pub fn for_each_term<'a>(text: &'a str, mut f: impl FnMut(Cow<'a, str>)) {
    for_each_word(text, |w, cjk| f(if cjk { Cow::Borrowed(w) } else { term_of(w) }));
}

/// Calls `f` with every word of `text` before stemming: a CJK bigram (or lone
/// character) with `true`, a run of letters and digits with `false`.
fn for_each_word<'a>(text: &'a str, mut f: impl FnMut(&'a str, bool)) {
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if is_cjk(c) {
            // A run of CJK characters: its bigrams, or the character alone.
            let mut run: Vec<usize> = Vec::new();
            while let Some(&(i, c)) = chars.peek() {
                if !is_cjk(c) {
                    break;
                }
                run.push(i);
                chars.next();
            }
            let end = chars.peek().map_or(text.len(), |&(i, _)| i);
            run.push(end);
            if run.len() == 2 {
                f(&text[run[0]..run[1]], true);
            } else {
                for w in run.windows(3) {
                    f(&text[w[0]..w[2]], true);
                }
            }
        } else if c.is_alphanumeric() {
            let mut n = 0;
            while let Some(&(_, c)) = chars.peek() {
                if !c.is_alphanumeric() || is_cjk(c) {
                    break;
                }
                n += 1;
                chars.next();
            }
            let end = chars.peek().map_or(text.len(), |&(i, _)| i);
            if n >= 2 {
                f(&text[start..end], false);
            }
        } else {
            chars.next();
        }
    }
}

/// The distinct terms of a query, in order.
pub fn tokenize(query: &str) -> Vec<String> {
    let text = normalize(query);
    let mut out: Vec<String> = Vec::new();
    for_each_term(&text, |t| {
        if !out.iter().any(|o| *o == t) {
            out.push(t.into_owned());
        }
    });
    out
}

/// Every term of a text, repeats included, in order: what `terms` in
/// `static/search-terms.js` gives for the same text.
pub fn terms(text: &str) -> Vec<String> {
    let text = normalize(text);
    let mut out = Vec::new();
    for_each_term(&text, |t| out.push(t.into_owned()));
    out
}

/// The shard holding `term`, given each shard's first term (sorted): the last one not
/// after it.
pub fn shard_of(term: &str, firsts: &[String]) -> usize {
    firsts.partition_point(|f| f.as_str() <= term).saturating_sub(1)
}

/// FNV-1a, 64 bits: a stable version stamp for the index files, and the hash of the
/// index's maps (short words, millions of them: SipHash showed in the profile).
struct Fnv64(u64);

impl Fnv64 {
    fn new() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64::new()
    }
}

impl std::hash::Hasher for Fnv64 {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        Fnv64::write(self, bytes);
    }
}

/// A map keyed by words, hashed with FNV-1a.
type FastMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv64>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_bigrams() {
        assert_eq!(tokenize("T1566.001 Spear-phishing a"), ["t1566", "001", "spear", "phish"]);
        assert_eq!(tokenize("breached breaches"), ["breach"]);
        assert_eq!(tokenize("données"), ["données"]);
        assert_eq!(tokenize("合同信息"), ["合同", "同信", "信息"]);
        assert_eq!(tokenize("NTT通讯"), ["ntt", "通讯"]);
        assert_eq!(tokenize("ＮＴＴ 漏"), ["ntt", "漏"]);
        assert_eq!(tokenize("情報漏えい"), ["情報", "報漏", "漏え", "えい"]);
    }

    #[test]
    fn excerpt_cuts_at_a_space() {
        assert_eq!(excerpt("one two three", 9), "one two");
        assert_eq!(excerpt("short", 9), "short");
    }
}
