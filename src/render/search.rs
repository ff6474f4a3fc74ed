//! Full-text search for any static host: a chunked inverted index written at build
//! time, read by `search.js` on `/search/`.
//!
//! Only published cases (`site.cases`) are indexed, over all the text a case page shows:
//! title; summary, organizations, techniques, sectors, countries, actors, tags and data
//! types; the body, timeline, evidence, indicators and their notes, and references.
//! Output, under `search/`:
//!
//! - `meta.json`: `{v, shards, chunks, docs}`: a version (for cache busting), the first
//!   term of each index shard (shards hold sorted, disjoint ranges of terms, so a term
//!   and every term a prefix starts are found by binary search), each document chunk as
//!   `[first document, name]` (so the chunk of a document is found by binary search),
//!   and how many documents there are.
//! - `index/N.json`: the terms of shard `N`, as `{"term": [v, ...]}`: one number per
//!   case holding the term, `(doc - previous doc) * 8 + fields`, where `fields` has
//!   [`TITLE`], [`META`] and [`BODY`] bits.
//! - `docs/NAME.json`: a chunk's documents, as `[{t, u, l, o, d, x}]` (title, URL,
//!   language, organizations, when it happened, and the text a snippet is cut from):
//!   what a result shows. Chunks are cut where a document's slug says so (about
//!   [`CHUNK`] documents each) and named by what they hold, so a case added or removed
//!   changes the chunk it is in, not the chunks after it, whose documents only move by
//!   one number (which `meta.json` says).
//!
//! Documents are numbered oldest incident first, the reverse of the site's order: a new
//! write-up is most often of a recent breach, and then it only adds a number at the end,
//! so the documents before it and the postings that do not name it stay as they were (a
//! cached build writes again a few files, not the whole index). Results of equal score
//! show newest first, as the site lists cases.
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

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use rayon::prelude::*;
use serde_json::json;
use tera::Tera;

use super::inputs::Ctx;
use super::{of_bytes, Fingerprint, Made, Memo, Shared};
use crate::diagnostics::Diagnostic;
use crate::fingerprint::Hasher;
use crate::resolve::Site;

/// Field bit: the term is in the title.
pub const TITLE: u8 = 4;
/// Field bit: in the summary, an organization, or a technique's id or name.
pub const META: u8 = 2;
/// Field bit: in the body.
pub const BODY: u8 = 1;

/// One document in this many starts a document chunk, on average: a page of ten
/// results fetches a few small chunks.
pub const CHUNK: u64 = 16;
/// At most this many documents in a chunk.
const MAX_CHUNK: usize = 4 * CHUNK as usize;
/// Target size of an index shard, in bytes (before compression).
const SHARD_TARGET: usize = 24 * 1024;
/// Characters of a case's text kept for snippets (past them, a snippet falls back to the
/// summary).
const EXCERPT_CHARS: usize = 20_000;

/// The search page, the index and the document store, each handed to `out` made anew or
/// known to be as it was.
pub(super) fn render(
    site: &Site,
    tera: &Tera,
    shared: &Shared,
    memo: &dyn Memo,
    out: &(dyn Fn(Result<Made, Diagnostic>) + Sync),
) {
    // A theme without a search page still gets the index; it just has no page for it.
    if super::has_template(tera, "search.html") {
        let url = crate::urls::search();
        let url = url.as_str();
        // It reads the settings only.
        out(super::page(tera, memo, shared.inputs.of_site(url), url, &|| {
            let mut ctx = Ctx::new();
            ctx.put("site", shared.site.clone());
            ctx.insert("root", &crate::urls::root_prefix(url));
            ctx.insert("page", &super::page_meta(site, url, "search", &super::i18n::tr("search.title"), None, None));
            ctx.insert("cases_url", &crate::urls::cases_page(1));
            Ok(("search.html", ctx))
        }));
    }
    index(site, memo, &|m| out(Ok(m)));
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

/// The index files: `meta.json`, the shards and the document chunks.
///
/// Made so that an edit costs what it changed. Each case's terms are a piece by the
/// fingerprint of what they are made from, so only an edited case is tokenized again.
/// The terms are grouped in buckets by their first two bytes: ranges of the sorted
/// terms that do not depend on the data; the documents, in parts (see [`cuts`]).
/// A part's share of a bucket is a piece, keyed by what the part's cases give it, so an
/// edit merges again only the shares of its part; a bucket is its shares one after
/// another. Shards are cut from the buckets' terms, and a shard or document chunk whose
/// inputs are as they were is not made again.
fn index(site: &Site, memo: &dyn Memo, out: &(dyn Fn(Made) + Sync)) {
    // What a case's document reads besides the case: the site's language (its `l`) and
    // the Markdown option its text was parsed with.
    let mut settings = Hasher::new();
    settings.bytes(b"search");
    settings.bytes(site.config.language.as_bytes());
    settings.bytes(&[u8::from(site.config.markdown.unsafe_html)]);
    let catalog = site.catalog.fingerprint();
    // Document numbers: oldest first (see the module's doc).
    let docs: Vec<&crate::resolve::SiteCase> = site.cases.iter().rev().collect();
    // Per case: (its document's inputs, its terms' inputs).
    let fps: Vec<(Fingerprint, Fingerprint)> = docs
        .par_iter()
        .map(|sc| {
            let mut h = settings.clone();
            h.bytes(&sc.fingerprint.to_le_bytes());
            let doc = h.finish();
            // Its terms also read the names of its actors and techniques from the catalog:
            // the ids are in its text, the names stand or fall with the catalog.
            h.bytes(b"terms");
            h.bytes(&catalog.to_le_bytes());
            (doc, h.finish())
        })
        .collect();
    let pieces: Vec<bytes::Bytes> = docs
        .par_iter()
        .zip(fps.par_iter())
        .map(|(sc, &(_, fp))| memo.piece(fp, &mut || encode_terms(&Doc::new(site, sc).terms())))
        .collect();
    let cases: Vec<CaseTerms> = pieces.iter().map(|p| CaseTerms::parse(p)).collect();

    // Parts: runs of consecutive documents, cut where a document's slug says so (see
    // [`cuts`]), so a case added, removed or moved changes the part it is in and
    // not the parts after it, whose documents only move by one number.
    let parts = cuts(&docs, PART, MAX_PART);
    // What each case of a part gives each bucket, numbered in the part: a piece per part,
    // by what its cases' terms are made from.
    let sums: Vec<bytes::Bytes> = parts
        .par_iter()
        .map(|r| {
            let mut h = Hasher::new();
            h.bytes(b"search part");
            for (_, terms) in &fps[r.clone()] {
                h.bytes(&terms.to_le_bytes());
            }
            memo.piece(h.finish(), &mut || part_sums(&cases[r.clone()]))
        })
        .collect();
    // Each part's share of each bucket: (bucket, part, key). A share's postings are
    // numbered in its part, so its key is what the part's cases give the bucket.
    let mut shares: Vec<(u16, u32, Fingerprint)> = Vec::new();
    for (part, sums) in sums.iter().enumerate() {
        for e in sums.chunks_exact(SUM_ENTRY) {
            let b = u16::from_le_bytes([e[0], e[1]]);
            let mut h = Hasher::new();
            h.bytes(b"search share");
            h.bytes(&e[..SUM_ENTRY]);
            shares.push((b, part as u32, h.finish()));
        }
    }
    drop(sums);
    shares.sort_unstable_by_key(|&(b, part, _)| (b, part));
    // A share made again looks each case of its part up in it, unless many are: then
    // the part's runs are sorted by bucket once.
    let misses = AtomicUsize::new(0);
    let tables: Vec<OnceLock<RunsByBucket>> = parts.iter().map(|_| OnceLock::new()).collect();
    let made: Vec<bytes::Bytes> = shares
        .par_iter()
        .map(|&(b, part, key)| {
            memo.piece(key, &mut || {
                let r = parts[part as usize].clone();
                let in_part = &cases[r];
                let given: Vec<(u32, &[u8])> = if misses.fetch_add(1, Ordering::Relaxed) < FEW_MISSES {
                    (in_part.iter().enumerate()).filter_map(|(i, ct)| Some((i as u32, ct.find(b)?))).collect()
                } else {
                    let (present, table) = tables[part as usize].get_or_init(|| {
                        let mut present: Vec<u16> =
                            in_part.iter().flat_map(|c| (0..c.runs()).map(|r| c.run(r).0)).collect();
                        present.sort_unstable();
                        present.dedup();
                        let table = runs_by_bucket(in_part, &present);
                        (present, table)
                    });
                    let n = present.binary_search(&b).unwrap_or(usize::MAX);
                    let runs = table.get(n).map(Vec::as_slice).unwrap_or_default();
                    runs.iter().map(|&(i, r)| (i, in_part[i as usize].run(r as usize).1)).collect()
                };
                make_part(&given)
            })
        })
        .collect();
    // A bucket: its shares, each numbered from where its part starts, one after another.
    let groups: Vec<std::ops::Range<usize>> = {
        let mut groups = Vec::new();
        let mut from = 0;
        for i in 1..=shares.len() {
            if i == shares.len() || shares[i].0 != shares[from].0 {
                groups.push(from..i);
                from = i;
            }
        }
        groups
    };
    let keys: Vec<Fingerprint> = groups
        .iter()
        .map(|g| {
            let mut h = Hasher::new();
            h.bytes(b"search bucket");
            for &(_, part, key) in &shares[g.clone()] {
                h.bytes(&key.to_le_bytes());
                h.bytes(&(parts[part as usize].start as u64).to_le_bytes());
            }
            h.finish()
        })
        .collect();
    let buckets: Vec<bytes::Bytes> = (groups.par_iter().zip(keys.par_iter()))
        .map(|(g, &key)| {
            memo.piece(key, &mut || {
                let shares: Vec<(u32, PartTerms)> = (shares[g.clone()].iter().zip(&made[g.clone()]))
                    .map(|(&(_, part, _), bytes)| (parts[part as usize].start as u32, PartTerms::parse(bytes)))
                    .collect();
                merge_parts(&shares)
            })
        })
        .collect();
    let buckets: Vec<BucketTerms> = buckets.iter().map(|b| BucketTerms::parse(b)).collect();

    let starts = cut(&buckets, SHARD_TARGET);
    let spans = |k: usize| shard_spans(&starts, &buckets, k);
    let shard_fps: Vec<Fingerprint> = (0..starts.len())
        .map(|k| {
            let mut h = Hasher::new();
            h.bytes(b"search shard");
            for (bi, from, to) in spans(k) {
                h.bytes(&keys[bi].to_le_bytes());
                h.bytes(&(from as u64).to_le_bytes());
                h.bytes(&(to as u64).to_le_bytes());
            }
            h.finish()
        })
        .collect();
    shard_fps.par_iter().enumerate().for_each(|(k, &fingerprint)| {
        let path = format!("search/index/{k}.json");
        if memo.unchanged(&path, fingerprint) {
            return out(Made::Same { path, fingerprint });
        }
        out(Made::New { path, bytes: shard(&buckets, &spans(k)), fingerprint });
    });

    // Chunks: cut by what their documents are, named by it (see the module's doc).
    let chunks = cuts(&docs, CHUNK, MAX_CHUNK);
    let chunk_fps: Vec<Fingerprint> = chunks
        .iter()
        .map(|r| {
            let mut h = Hasher::new();
            h.bytes(b"search docs");
            for (doc, _) in &fps[r.clone()] {
                h.bytes(&doc.to_le_bytes());
            }
            h.finish()
        })
        .collect();
    let names: Vec<String> = chunk_fps.iter().map(|&fp| format!("{:016x}", fp as u64)).collect();
    // Each document is a piece: a chunk made again (a case of it added, edited or
    // removed) is put together from the others' pieces, not written anew.
    (chunks.par_iter().zip(chunk_fps.par_iter()).zip(names.par_iter())).for_each(|((r, &fingerprint), name)| {
        let path = format!("search/docs/{name}.json");
        if memo.unchanged(&path, fingerprint) {
            return out(Made::Same { path, fingerprint });
        }
        let (cases, fps) = (&docs[r.clone()], &fps[r.clone()]);
        let docs: Vec<bytes::Bytes> = (cases.iter().zip(fps))
            .map(|(sc, &(doc, _))| memo.piece(doc_piece(doc), &mut || doc_json(site, sc)))
            .collect();
        memo.made_from(&path, fps.iter().map(|&(doc, _)| doc_piece(doc)).collect());
        let mut bytes = Vec::with_capacity(docs.iter().map(|d| d.len() + 1).sum::<usize>() + 1);
        bytes.push(b'[');
        for (i, d) in docs.iter().enumerate() {
            if i > 0 {
                bytes.push(b',');
            }
            bytes.extend_from_slice(d);
        }
        bytes.push(b']');
        out(Made::New { path, bytes, fingerprint });
    });

    // The version changes whenever a shard or chunk may have (what they are made from).
    let mut version = Hasher::new();
    version.bytes(b"search version");
    for fp in shard_fps.iter().chain(&chunk_fps) {
        version.bytes(&fp.to_le_bytes());
    }
    for chunk in &chunks {
        version.bytes(&(chunk.start as u64).to_le_bytes());
    }
    let firsts: Vec<&str> = starts.iter().map(|&(bi, j)| buckets[bi].name(j)).collect();
    let meta = json!({
        "v": format!("{:016x}", version.finish() as u64),
        "shards": firsts,
        "chunks": chunks.iter().zip(&names).map(|(r, name)| json!([r.start, name])).collect::<Vec<_>>(),
        "docs": site.cases.len(),
    });
    let bytes = meta.to_string().into_bytes();
    out(Made::New { path: "search/meta.json".into(), fingerprint: of_bytes(&bytes), bytes });
}

/// Where shards start, as `(bucket, term)`: shards of consecutive terms, about `target`
/// bytes each. A term is in the last shard whose first term is not after it, and the
/// terms a prefix starts are in one run of shards.
fn cut(buckets: &[BucketTerms], target: usize) -> Vec<(usize, usize)> {
    let mut starts = Vec::new();
    let mut size = target;
    for (bi, bt) in buckets.iter().enumerate() {
        for j in 0..bt.len() {
            if size >= target {
                starts.push((bi, j));
                size = 0;
            }
            size += bt.field(j, 2) as usize;
        }
    }
    starts
}

/// A shard's file: `{"term":[v, ...], ...}`.
fn shard(buckets: &[BucketTerms], spans: &[(usize, usize, usize)]) -> Vec<u8> {
    let mut bytes = vec![b'{'];
    for &(bi, from, to) in spans {
        for j in from..to {
            if bytes.len() > 1 {
                bytes.push(b',');
            }
            bytes.extend_from_slice(buckets[bi].text(j));
        }
    }
    bytes.push(b'}');
    bytes
}

/// Shard `k`'s terms as `(bucket, from, to)`, over one or more buckets.
fn shard_spans(starts: &[(usize, usize)], buckets: &[BucketTerms], k: usize) -> Vec<(usize, usize, usize)> {
    let (start, end) = (starts[k], starts.get(k + 1).copied().unwrap_or((buckets.len(), 0)));
    (start.0..=end.0.min(buckets.len().saturating_sub(1)))
        .map(|bi| {
            let from = if bi == start.0 { start.1 } else { 0 };
            let to = if bi == end.0 { end.1 } else { buckets[bi].len() };
            (bi, from, to)
        })
        .filter(|&(_, from, to)| from < to)
        .collect()
}

/// The piece of a document made from inputs `doc` (apart from its terms' piece, which
/// can have the same inputs).
fn doc_piece(doc: Fingerprint) -> Fingerprint {
    let mut h = Hasher::new();
    h.bytes(b"search doc");
    h.bytes(&doc.to_le_bytes());
    h.finish()
}

/// A case's document in `docs/NAME.json`, as JSON.
fn doc_json(site: &Site, sc: &crate::resolve::SiteCase) -> Vec<u8> {
    let orgs = site.taxonomy(crate::urls::Kind::Organizations);
    let names: Vec<&str> =
        sc.terms[crate::urls::Kind::Organizations.index()].iter().map(|&t| orgs.terms[t].name.as_str()).collect();
    let doc = json!({
        "t": sc.case.title,
        "u": sc.url,
        "l": sc.case.lang.as_deref().unwrap_or(&site.config.language),
        "o": names.join(", "),
        "d": sc.happened.to_iso(),
        "s": sc.case.summary.as_deref().unwrap_or(""),
        "x": excerpt(&visible_text(sc), EXCERPT_CHARS),
    });
    serde_json::to_vec(&doc).unwrap_or_default()
}

/// Buckets: every value of a term's first two bytes.
const BUCKETS: usize = 1 << 16;
/// Shares made again by looking each case up; past these, runs are sorted by bucket.
const FEW_MISSES: usize = 16;

/// One document in this many starts a part, on average (see [`cuts`]).
const PART: u64 = 1024;
/// At most this many documents in a part.
const MAX_PART: usize = 4 * PART as usize;
/// A part's sum for one bucket: `(bucket: u16, sum: u128, runs: u32)`.
const SUM_ENTRY: usize = 22;

/// The documents in runs of consecutive ones: each starts before a document whose slug
/// hashes to a multiple of `every`, or after `max` documents. Cut by what a document is,
/// not where it is, a run keeps its cuts when a case is added, removed or moved
/// elsewhere. Index parts ([`PART`]) and document chunks ([`CHUNK`]) are cut so.
fn cuts(docs: &[&crate::resolve::SiteCase], every: u64, max: usize) -> Vec<std::ops::Range<usize>> {
    let mut starts: Vec<usize> = Vec::new();
    for (i, sc) in docs.iter().enumerate() {
        let mut h = Hasher::new();
        h.bytes(sc.case.slug.as_bytes());
        let cut = (h.finish() as u64).is_multiple_of(every);
        if cut || starts.last().is_none_or(|&s| i - s >= max) {
            starts.push(i);
        }
    }
    (0..starts.len()).map(|r| starts[r]..starts.get(r + 1).copied().unwrap_or(docs.len())).collect()
}

/// What the cases of a part give each bucket, as a piece: [`SUM_ENTRY`]s by bucket, each
/// the sum of what each case gives it (numbered in the part) and how many do.
fn part_sums(cases: &[CaseTerms]) -> Vec<u8> {
    let mut sums: Vec<(u16, u128)> = Vec::new();
    for (j, ct) in cases.iter().enumerate() {
        ct.each_run(|b, _, hash| sums.push((b, mix(j as u32, hash))));
    }
    sums.sort_unstable_by_key(|&(b, _)| b);
    let mut out = Vec::new();
    for run in sums.chunk_by(|x, y| x.0 == y.0) {
        let sum = run.iter().fold(0u128, |a, &(_, s)| a.wrapping_add(s));
        out.extend_from_slice(&run[0].0.to_le_bytes());
        out.extend_from_slice(&sum.to_le_bytes());
        out.extend_from_slice(&(run.len() as u32).to_le_bytes());
    }
    out
}

/// The bucket of a term: its first two bytes (a one-byte term's second is 0, which
/// sorts before any letter), so buckets in order hold the terms in order.
fn bucket(term: &[u8]) -> u16 {
    u16::from_be_bytes([term.first().copied().unwrap_or(0), term.get(1).copied().unwrap_or(0)])
}

/// A case's contribution to a bucket as a number; a bucket's key sums them. Injective
/// (multiplying by an odd number and xor-shifting are bijections), so two cases, or
/// two contributions of a case, never give the same number.
fn mix(doc: u32, hash: u64) -> u128 {
    let mut x = (u128::from(hash) << 32) | u128::from(doc);
    x = x.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835);
    x ^= x >> 67;
    x = x.wrapping_mul(0xd6e8_feb8_6659_fd93_a5a5_a5a5_a5a5_a5a5);
    x ^ (x >> 59)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).and_then(|s| s.try_into().ok()).map_or(0, u32::from_le_bytes)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_le_bytes)
}

/// A case's terms as a piece: `[runs: u32] [run: (end: u32, hash: u64)]... [text]`, the
/// text each term followed by `0` and its field bits, sorted. A run is the terms of one
/// bucket: `end` is where its text ends, `hash` stands for its terms and bits.
fn encode_terms((buf, spans): &DocTerms) -> Vec<u8> {
    let mut runs: Vec<(u32, u64)> = Vec::new();
    let mut text: Vec<u8> = Vec::with_capacity(buf.len() + 2 * spans.len());
    let hash = |t: &[u8]| {
        let mut h = Hasher::new();
        h.bytes(t);
        h.finish() as u64
    };
    let (mut run_start, mut current) = (0, None);
    for &(a, b, f) in spans {
        let term = &buf.as_bytes()[a as usize..b as usize];
        if current.is_some_and(|c| c != bucket(term)) {
            runs.push((text.len() as u32, hash(&text[run_start..])));
            run_start = text.len();
        }
        current = Some(bucket(term));
        text.extend_from_slice(term);
        text.extend_from_slice(&[0, f]);
    }
    if current.is_some() {
        runs.push((text.len() as u32, hash(&text[run_start..])));
    }
    let mut out = Vec::with_capacity(4 + runs.len() * 12 + text.len());
    out.extend_from_slice(&(runs.len() as u32).to_le_bytes());
    for (end, hash) in runs {
        out.extend_from_slice(&end.to_le_bytes());
        out.extend_from_slice(&hash.to_le_bytes());
    }
    out.extend_from_slice(&text);
    out
}

/// A case's terms, read from its piece ([`encode_terms`]).
struct CaseTerms<'a> {
    runs: &'a [u8],
    text: &'a [u8],
}

impl<'a> CaseTerms<'a> {
    fn parse(b: &'a [u8]) -> Self {
        let end = (4 + u32_at(b, 0) as usize * 12).min(b.len());
        CaseTerms { runs: b.get(4..end).unwrap_or_default(), text: &b[end..] }
    }

    fn runs(&self) -> usize {
        self.runs.len() / 12
    }

    /// Run `r`: its bucket, its text and its hash.
    fn run(&self, r: usize) -> (u16, &'a [u8], u64) {
        let start = if r == 0 { 0 } else { u32_at(self.runs, (r - 1) * 12) as usize };
        let end = u32_at(self.runs, r * 12) as usize;
        let text = self.text.get(start..end).unwrap_or_default();
        (bucket(text), text, u64_at(self.runs, r * 12 + 4))
    }

    /// Calls `f` with each run's bucket, text and hash, in order.
    fn each_run(&self, mut f: impl FnMut(u16, &'a [u8], u64)) {
        let mut start = 0;
        for run in self.runs.chunks_exact(12) {
            let end = u32_at(run, 0) as usize;
            let text = self.text.get(start..end).unwrap_or_default();
            f(bucket(text), text, u64_at(run, 4));
            start = end;
        }
    }

    /// The text of its run in bucket `b`, if it has terms there.
    fn find(&self, b: u16) -> Option<&'a [u8]> {
        let (mut lo, mut hi) = (0, self.runs());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let (mb, text, _) = self.run(mid);
            match mb.cmp(&b) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(text),
            }
        }
        None
    }
}

/// The terms of a run's text, with their field bits.
struct RunTerms<'a>(&'a [u8]);

impl<'a> Iterator for RunTerms<'a> {
    type Item = (&'a str, u8);
    fn next(&mut self) -> Option<Self::Item> {
        let z = self.0.iter().position(|&c| c == 0)?;
        let term = std::str::from_utf8(&self.0[..z]).unwrap_or_default();
        let bits = self.0.get(z + 1).copied().unwrap_or(0);
        self.0 = self.0.get(z + 2..).unwrap_or_default();
        Some((term, bits))
    }
}

/// The buckets some cases have terms in, and for each, those cases and their run there.
type RunsByBucket = (Vec<u16>, Vec<Vec<(u32, u32)>>);

/// For each present bucket, the cases with terms in it, ascending, and their run there.
fn runs_by_bucket(cases: &[CaseTerms], present: &[u16]) -> Vec<Vec<(u32, u32)>> {
    let mut slot = vec![usize::MAX; BUCKETS];
    for (n, &b) in present.iter().enumerate() {
        slot[b as usize] = n;
    }
    let mut table = vec![Vec::new(); present.len()];
    for (i, ct) in cases.iter().enumerate() {
        let mut r = 0;
        ct.each_run(|b, _, _| {
            if let Some(v) = table.get_mut(slot[b as usize]) {
                v.push((i as u32, r));
            }
            r += 1;
        });
    }
    table
}

/// A part's share of a bucket: its terms with their postings, from what each case of the
/// part gives it (numbered in the part, ascending), as a piece: `[n: u32] [(name end,
/// rest end, first, last, postings, fields of the first): u32 * 6]... [names] [rests]`.
/// `rest` is the postings after the first as a shard writes them, `,v,v...`: they hold
/// only differences, so they are the same wherever the part starts.
fn make_part(given: &[(u32, &[u8])]) -> Vec<u8> {
    let mut postings: FastMap<&str, Vec<(u32, u8)>> = FastMap::default();
    for &(doc, text) in given {
        for (t, f) in RunTerms(text) {
            postings.entry(t).or_default().push((doc, f));
        }
    }
    let mut terms: Vec<(&str, Vec<(u32, u8)>)> = postings.into_iter().collect();
    terms.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut table = Vec::with_capacity(4 + terms.len() * PartTerms::ROW);
    table.extend_from_slice(&(terms.len() as u32).to_le_bytes());
    let (mut names, mut rests) = (String::new(), String::new());
    for (t, p) in &terms {
        names.push_str(t);
        for w in p.windows(2) {
            let _ = write!(rests, ",{}", (u64::from(w[1].0 - w[0].0) << 3) | u64::from(w[1].1));
        }
        let (first, last) = (p[0], p[p.len() - 1]);
        let n = [names.len(), rests.len(), first.0 as usize, last.0 as usize, p.len(), usize::from(first.1)];
        for n in n {
            table.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
        }
    }
    table.extend_from_slice(names.as_bytes());
    table.extend_from_slice(rests.as_bytes());
    table
}

/// A piece laid out as `[n: u32] [n rows of WIDTH u32 fields] [names] [texts]`, row
/// `j`'s first two fields being where its name and its text end: a part's share of a
/// bucket ([`make_part`]) and a bucket ([`merge_parts`]).
struct Table<'a, const WIDTH: usize> {
    rows: &'a [u8],
    names: &'a [u8],
    texts: &'a [u8],
}

/// A part's share of a bucket: per term, (name end, rest end, first, last, postings,
/// fields of the first); its text, the rest of its postings.
type PartTerms<'a> = Table<'a, 6>;
/// A bucket: per term, (name end, entry end, size); its text, the term's entry.
type BucketTerms<'a> = Table<'a, 3>;

impl<'a, const WIDTH: usize> Table<'a, WIDTH> {
    const ROW: usize = WIDTH * 4;

    fn parse(b: &'a [u8]) -> Self {
        let n = u32_at(b, 0) as usize;
        let rows = b.get(4..4 + n * Self::ROW).unwrap_or_default();
        let names_len = if n == 0 { 0 } else { u32_at(rows, (n - 1) * Self::ROW) as usize };
        let rest = b.get(4 + rows.len()..).unwrap_or_default();
        let (names, texts) = rest.split_at(names_len.min(rest.len()));
        Table { rows, names, texts }
    }

    fn len(&self) -> usize {
        self.rows.len() / Self::ROW
    }

    fn field(&self, j: usize, f: usize) -> u32 {
        u32_at(self.rows, j * Self::ROW + f * 4)
    }

    /// Where row `j`'s item `f` (0: name, 1: text) is in its region.
    fn range(&self, j: usize, f: usize) -> std::ops::Range<usize> {
        let start = if j == 0 { 0 } else { self.field(j - 1, f) as usize };
        start..self.field(j, f) as usize
    }

    fn name(&self, j: usize) -> &'a str {
        std::str::from_utf8(self.names.get(self.range(j, 0)).unwrap_or_default()).unwrap_or_default()
    }

    fn text(&self, j: usize) -> &'a [u8] {
        self.texts.get(self.range(j, 1)).unwrap_or_default()
    }
}

/// A bucket's terms with their postings, from its parts' shares (`(where the part starts,
/// share)`, in document order), as a piece: `[n: u32] [(name end, entry end, size): u32 *
/// 3]... [names] [entries]`. An entry is the term as a shard holds it, `"term":[v, ...]`;
/// `size` is what it weighs when shards are cut. Each share's first posting is numbered
/// again from the last one before it; the rest are copied.
fn merge_parts(shares: &[(u32, PartTerms)]) -> Vec<u8> {
    // The shares' terms merged in order: a heap of each share's next term.
    let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<(&str, usize, usize)>> = (shares.iter().enumerate())
        .filter(|(_, (_, s))| s.len() > 0)
        .map(|(k, (_, s))| std::cmp::Reverse((s.name(0), k, 0)))
        .collect();
    let mut table = Vec::new();
    table.extend_from_slice(&0u32.to_le_bytes());
    let (mut names, mut entries) = (Vec::new(), Vec::new());
    let mut count = 0u32;
    while let Some(std::cmp::Reverse((name, _, _))) = heap.peek().copied() {
        names.extend_from_slice(name.as_bytes());
        entries.extend_from_slice(serde_json::to_string(name).unwrap_or_default().as_bytes());
        entries.extend_from_slice(b":[");
        let (mut prev, mut postings) = (0u64, 0usize);
        // Shares with this term, in document order (ties in the heap go by share).
        while let Some(&std::cmp::Reverse((n, k, j))) = heap.peek() {
            if n != name {
                break;
            }
            heap.pop();
            let (start, share) = &shares[k];
            let first = u64::from(*start) + u64::from(share.field(j, 2));
            if postings > 0 {
                entries.push(b',');
            }
            push_number(&mut entries, ((first - prev) << 3) | u64::from(share.field(j, 5)));
            entries.extend_from_slice(share.text(j));
            prev = u64::from(*start) + u64::from(share.field(j, 3));
            postings += share.field(j, 4) as usize;
            if j + 1 < share.len() {
                heap.push(std::cmp::Reverse((share.name(j + 1), k, j + 1)));
            }
        }
        entries.push(b']');
        let size = name.len() + 6 + postings * 4;
        for n in [names.len(), entries.len(), size] {
            table.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_le_bytes());
        }
        count += 1;
    }
    table[..4].copy_from_slice(&count.to_le_bytes());
    table.extend_from_slice(&names);
    table.extend_from_slice(&entries);
    table
}

/// `v` in decimal.
fn push_number(out: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
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

/// FNV-1a, 64 bits: the hash of the index's maps (short words, millions of them: SipHash
/// showed in the profile).
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

    /// Documents' terms through pieces, buckets and cuts give the shards one sorted
    /// list of all terms gives, for any shard size.
    #[test]
    fn buckets_cut_into_the_shards_of_one_sorted_list() {
        let texts = ["the breach of a bank", "banks breached again 2024", "a 情報漏えい case", "zebra b x1 aardvark"];
        let docs: Vec<DocTerms> = texts
            .iter()
            .map(|t| {
                let doc = Doc { title: normalize(t), meta: String::new(), body: normalize(&t.repeat(2)) };
                doc.terms()
            })
            .collect();
        let pieces: Vec<Vec<u8>> = docs.iter().map(encode_terms).collect();
        let cases: Vec<CaseTerms> = pieces.iter().map(|p| CaseTerms::parse(p)).collect();
        let mut present: Vec<u16> = cases.iter().flat_map(|c| (0..c.runs()).map(|r| c.run(r).0)).collect();
        present.sort_unstable();
        present.dedup();
        let table = runs_by_bucket(&cases, &present);
        for (n, &b) in present.iter().enumerate() {
            let by_table: Vec<(u32, &[u8])> =
                table[n].iter().map(|&(i, r)| (i, cases[i as usize].run(r as usize).1)).collect();
            let by_search: Vec<(u32, &[u8])> =
                cases.iter().enumerate().filter_map(|(i, c)| Some((i as u32, c.find(b)?))).collect();
            assert_eq!(by_table, by_search);
        }
        // Documents cut into parts anywhere give the same buckets.
        let bucket_sets: Vec<Vec<Vec<u8>>> = [vec![0], vec![0, 1, 3], vec![0, 2], vec![0, 1, 2, 3]]
            .iter()
            .map(|starts| {
                let parts: Vec<std::ops::Range<usize>> =
                    (0..starts.len()).map(|p| starts[p]..starts.get(p + 1).copied().unwrap_or(cases.len())).collect();
                present
                    .iter()
                    .map(|&b| {
                        let made: Vec<(u32, Vec<u8>)> = parts
                            .iter()
                            .map(|r| {
                                let given: Vec<(u32, &[u8])> = (cases[r.clone()].iter().enumerate())
                                    .filter_map(|(i, c)| Some((i as u32, c.find(b)?)))
                                    .collect();
                                (r.start as u32, given)
                            })
                            .filter(|(_, given)| !given.is_empty())
                            .map(|(start, given)| (start, make_part(&given)))
                            .collect();
                        let shares: Vec<(u32, PartTerms)> =
                            made.iter().map(|(start, bytes)| (*start, PartTerms::parse(bytes))).collect();
                        merge_parts(&shares)
                    })
                    .collect()
            })
            .collect();
        for other in &bucket_sets[1..] {
            assert_eq!(other, &bucket_sets[0]);
        }
        let made = &bucket_sets[0];
        let buckets: Vec<BucketTerms> = made.iter().map(|b| BucketTerms::parse(b)).collect();

        // The reference: every posting in one map, sorted, cut as it goes.
        let mut all: std::collections::BTreeMap<String, Vec<(u32, u8)>> = Default::default();
        for (doc, (buf, spans)) in docs.iter().enumerate() {
            for &(a, b, f) in spans {
                all.entry(buf[a as usize..b as usize].to_string()).or_default().push((doc as u32, f));
            }
        }
        for target in [1, 20, 60, 200, 100_000] {
            let (mut firsts, mut shards, mut size) = (Vec::new(), Vec::<String>::new(), target);
            for (t, p) in &all {
                if size >= target {
                    firsts.push(t.clone());
                    shards.push(String::new());
                    size = 0;
                }
                size += t.len() + 6 + p.len() * 4;
                let s = shards.last_mut().unwrap();
                s.push_str(if s.is_empty() { "{" } else { "," });
                let mut prev = 0;
                let v: Vec<String> = p
                    .iter()
                    .map(|&(d, f)| {
                        let x = (u64::from(d - prev) << 3) | u64::from(f);
                        prev = d;
                        x.to_string()
                    })
                    .collect();
                s.push_str(&format!("{}:[{}]", serde_json::to_string(t).unwrap(), v.join(",")));
            }
            shards.iter_mut().for_each(|s| s.push('}'));
            let starts = cut(&buckets, target);
            let got: Vec<String> = (0..starts.len())
                .map(|k| String::from_utf8(shard(&buckets, &shard_spans(&starts, &buckets, k))).unwrap())
                .collect();
            let got_firsts: Vec<&str> = starts.iter().map(|&(bi, j)| buckets[bi].name(j)).collect();
            assert_eq!(got, shards, "shard size {target}");
            assert_eq!(got_firsts, firsts, "shard size {target}");
        }
    }

    #[test]
    fn excerpt_cuts_at_a_space() {
        assert_eq!(excerpt("one two three", 9), "one two");
        assert_eq!(excerpt("short", 9), "short");
    }
}
