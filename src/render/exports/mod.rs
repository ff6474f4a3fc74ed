//! Machine-readable exports (FORMAT.md section 4): the JSON API, ATT&CK Navigator layers
//! and STIX 2.1 bundles.
//!
//! Everything here is a pure function of the resolved site: no build time, no random ids,
//! and only ordered maps, so two builds of the same input give the same bytes. Only
//! published cases are ever seen (`Site::cases`), so drafts, embargoed cases and TLP
//! levels the site does not publish never reach an export.

pub mod api;
pub mod navigator;
pub mod stix;

use bytes::Bytes;
use rayon::prelude::*;
use serde_json::Value;

use super::{Chunk, Fingerprint, Made, Memo, OutputFile};
use crate::fingerprint::Hasher;
use crate::resolve::Site;
use crate::urls;

/// `api/cases.json`.
pub fn api_url() -> String {
    "api/cases.json".to_string()
}
/// `api/cases.schema.json`: the JSON Schema of `api/cases.json`.
pub fn api_schema_url() -> String {
    "api/cases.schema.json".to_string()
}
/// `cases/SLUG/attack-layer.json`.
pub fn case_layer_url(slug: &str) -> String {
    format!("{}attack-layer.json", urls::case(slug))
}
/// `attack-layer.json`: every case.
pub fn site_layer_url() -> String {
    "attack-layer.json".to_string()
}
/// `cases/SLUG/stix.json`.
pub fn case_stix_url(slug: &str) -> String {
    format!("{}stix.json", urls::case(slug))
}
/// `stix-bundle.json`: every case.
pub fn site_stix_url() -> String {
    "stix-bundle.json".to_string()
}

/// Absolute URL of a site-relative one.
pub(crate) fn permalink(site: &Site, url: &str) -> String {
    urls::permalink(&site.config.base_url, url)
}

/// Compact JSON with a final newline (keys are ordered: serde_json's map is a BTreeMap).
/// Compact, because the site-wide files run to tens of megabytes at 10,000 cases.
pub(crate) fn json_file(path: String, value: &Value) -> OutputFile {
    OutputFile { path, bytes: json_bytes(value) }
}

pub(crate) fn json_bytes(value: &Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// `value` serialized as `json_file` does, cut around its top-level array `key` (left
/// empty in `value`): what comes before the array's items and what after. `None` when
/// `value` has no such array.
pub(crate) fn split(value: &Value, key: &str) -> Option<(Bytes, Bytes)> {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let marker = format!("{}:[]", serde_json::to_string(key).unwrap_or_default());
    // Quotes inside strings are escaped, so the marker can only be the key itself; the
    // first match is the top-level one as long as earlier keys hold no such array.
    let at = bytes.windows(marker.len()).position(|w| w == marker.as_bytes()).map(|p| p + marker.len() - 1)?;
    let mut tail = bytes[at..].to_vec();
    tail.push(b'\n');
    Some((Bytes::copy_from_slice(&bytes[..at]), Bytes::from(tail)))
}

/// Items already serialized, with `comma` between them as a piece of its own, so an
/// item's bytes do not depend on where it stands.
pub(crate) fn with_commas<T: Clone>(items: impl Iterator<Item = T>, comma: T) -> impl Iterator<Item = T> {
    items.enumerate().flat_map(move |(n, item)| (n > 0).then(|| comma.clone()).into_iter().chain([item]))
}

/// A comma, as [`with_commas`] puts between serialized items.
pub(crate) const COMMA: Bytes = Bytes::from_static(b",");

/// `value` serialized as `json_file` does, with its top-level array `key` (left empty in
/// `value`) holding `items` as one file: the same bytes as serializing the whole tree.
pub(crate) fn splice(path: String, value: &Value, key: &str, items: impl Iterator<Item = Bytes>) -> OutputFile {
    match split(value, key) {
        Some((head, tail)) => {
            let pieces: Vec<Bytes> = std::iter::once(head).chain(with_commas(items, COMMA)).chain([tail]).collect();
            OutputFile { path, bytes: pieces.concat() }
        }
        None => json_file(path, value),
    }
}

/// Where a file too big to hold whole goes, piece by piece, with the fingerprint of its
/// inputs (see [`crate::render::Sinks`]).
pub type Stream<'a> = &'a (dyn Fn(&str, Fingerprint, &mut dyn Iterator<Item = Chunk>) + Sync);

/// Where the exports go: each file made, or known to be as the last run made it, and the
/// two site-wide lists piece by piece.
pub struct Sinks<'a> {
    pub memo: &'a dyn Memo,
    pub made: &'a (dyn Fn(Made) + Sync),
    pub stream: Stream<'a>,
}

impl Sinks<'_> {
    /// A file from inputs with this fingerprint: kept if they did not change, else made.
    fn file(&self, path: String, fingerprint: Fingerprint, make: impl FnOnce() -> Vec<u8>) {
        if self.memo.unchanged(&path, fingerprint) {
            return (self.made)(Made::Same { path, fingerprint });
        }
        (self.made)(Made::New { bytes: make(), path, fingerprint })
    }

    /// A file streamed from `pieces`, kept instead if its inputs did not change (its
    /// pieces are still asked for, so that the memo keeps them for the next run).
    fn stream<I: Iterator<Item = Chunk>>(&self, path: &str, fingerprint: Fingerprint, pieces: impl FnOnce() -> I) {
        if self.memo.unchanged(path, fingerprint) {
            pieces().for_each(drop);
            return (self.made)(Made::Same { path: path.to_string(), fingerprint });
        }
        (self.stream)(path, fingerprint, &mut pieces())
    }
}

/// What every export reads of the site besides its cases: the settings it shows, the
/// TLP levels published (the marking of shared STIX objects) and the catalog.
fn settings(site: &Site) -> Fingerprint {
    let c = &site.config;
    let mut h = Hasher::new();
    for s in [&c.title, &c.base_url, &c.language, &c.description] {
        h.bytes(s.as_bytes());
    }
    for tlp in stix::TLPS {
        h.bytes(&[u8::from(c.publishes(tlp))]);
    }
    h.bytes(&site.catalog.fingerprint().to_le_bytes());
    h.finish()
}

/// The fingerprint of an output or piece: what it is, and the fingerprints of all it
/// reads. `what` keeps apart pieces of different outputs made from the same inputs.
pub(crate) fn declare(what: &str, inputs: impl IntoIterator<Item = Fingerprint>) -> Fingerprint {
    let mut h = Hasher::new();
    h.bytes(what.as_bytes());
    for fp in inputs {
        h.bytes(&fp.to_le_bytes());
    }
    h.finish()
}

/// `f(i)` for `i` in `0..n`, made in parallel a few hundred at a time and handed on in
/// order, so a long list is never held whole beside the file it goes into.
pub(crate) fn in_order<'a, T: Send + 'a>(n: usize, f: impl Fn(usize) -> T + Sync + 'a) -> impl Iterator<Item = T> + 'a {
    (0..n).step_by(256).flat_map(move |start| (start..(start + 256).min(n)).into_par_iter().map(&f).collect::<Vec<T>>())
}

/// Every export file, each handed on once made or known unchanged (per-case files from
/// several threads, in no fixed order), so they are never all held at once; the two
/// site-wide lists (`/api/cases.json`, `/stix-bundle.json`) are streamed piece by piece,
/// one piece per case, each made again only when that case changed.
pub fn render_each(site: &Site, out: &(dyn Fn(OutputFile) + Sync), sinks: &Sinks) {
    let settings = settings(site);
    // The two site-wide lists are each written by one thread, piece after piece: side by
    // side, and beside the per-case files, they do not leave a core idle.
    rayon::join(
        || api::cases_file(site, settings, &api_url(), sinks),
        || {
            let graph = stix::Graph::new(site, settings, sinks.memo);
            rayon::join(
                || graph.site_bundle_file(&site_stix_url(), sinks),
                || {
                    out(api::schema_file(api_schema_url()));
                    // Each case's files are independent: made and handed on by whichever
                    // worker is free, so writing them never waits on one thread.
                    (0..site.cases.len()).into_par_iter().for_each(|i| {
                        let slug = &site.cases[i].case.slug;
                        let layer = declare("case-layer", [settings, site.cases[i].fingerprint]);
                        sinks.file(case_layer_url(slug), layer, || json_bytes(&navigator::case_layer(site, i)));
                        let (url, bundle) = (case_stix_url(slug), graph.case_bundle_fingerprint(i));
                        sinks.file(url.clone(), bundle, || graph.case_bundle_file(i, url).bytes);
                    });
                    // Every case's techniques (counted ones, but which count is in each fingerprint).
                    let layer = declare(
                        "site-layer",
                        std::iter::once(settings).chain(site.cases.iter().map(|c| c.fingerprint)),
                    );
                    sinks.file(site_layer_url(), layer, || json_bytes(&navigator::site_layer(site)));
                },
            )
        },
    );
}
