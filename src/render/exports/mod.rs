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

use rayon::prelude::*;
use serde_json::Value;

use super::OutputFile;
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
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    OutputFile { path, bytes }
}

/// `value` serialized as `json_file` does, with its top-level array `key` (left empty
/// in `value`) holding `items`, each already serialized, as pieces in order: the same
/// bytes as serializing the whole, without holding it as one tree, nor (streamed) as
/// one buffer. `None` when `value` has no such array.
pub(crate) fn spliced<'a>(
    value: &Value,
    key: &str,
    items: impl Iterator<Item = Vec<u8>> + 'a,
) -> Option<impl Iterator<Item = Vec<u8>> + 'a> {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let marker = format!("{}:[]", serde_json::to_string(key).unwrap_or_default());
    // Quotes inside strings are escaped, so the marker can only be the key itself; the
    // first match is the top-level one as long as earlier keys hold no such array.
    let at = bytes.windows(marker.len()).position(|w| w == marker.as_bytes()).map(|p| p + marker.len() - 1)?;
    let mut tail = bytes[at..].to_vec();
    tail.push(b'\n');
    let head = bytes[..at].to_vec();
    let items = items.enumerate().map(|(n, mut item)| {
        if n > 0 {
            item.insert(0, b',');
        }
        item
    });
    Some(std::iter::once(head).chain(items).chain(std::iter::once(tail)))
}

/// [`spliced`] as one file.
pub(crate) fn splice(path: String, value: &Value, key: &str, items: impl Iterator<Item = Vec<u8>>) -> OutputFile {
    match spliced(value, key, items) {
        Some(pieces) => OutputFile { path, bytes: pieces.collect::<Vec<_>>().concat() },
        None => json_file(path, value),
    }
}

/// Where a file too big to hold whole goes, piece by piece (see [`crate::render::Sinks`]).
pub type Stream<'a> = &'a (dyn Fn(&str, &mut dyn Iterator<Item = Vec<u8>>) + Sync);

/// `f(i)` for `i` in `0..n`, made in parallel a few hundred at a time and handed on in
/// order, so a long list is never held whole beside the file it goes into.
pub(crate) fn in_order<'a, T: Send + 'a>(n: usize, f: impl Fn(usize) -> T + Sync + 'a) -> impl Iterator<Item = T> + 'a {
    (0..n).step_by(256).flat_map(move |start| (start..(start + 256).min(n)).into_par_iter().map(&f).collect::<Vec<T>>())
}

/// Every export file, each handed to `out` once made (per-case files from several
/// threads, in no fixed order), so they are never all held at once; the two site-wide
/// lists (`/api/cases.json`, `/stix-bundle.json`) go to `stream` piece by piece.
pub fn render_each(site: &Site, out: &(dyn Fn(OutputFile) + Sync), stream: Stream) {
    let graph = stix::Graph::new(site);
    api::cases_file(site, &api_url(), stream);
    out(api::schema_file(api_schema_url()));
    // Each case's files are independent: made and handed on by whichever worker is free,
    // so writing them never waits on one thread.
    (0..site.cases.len()).into_par_iter().for_each(|i| {
        let slug = &site.cases[i].case.slug;
        out(json_file(case_layer_url(slug), &navigator::case_layer(site, i)));
        out(graph.case_bundle_file(i, case_stix_url(slug)));
    });
    out(json_file(site_layer_url(), &navigator::site_layer(site)));
    graph.site_bundle_file(&site_stix_url(), stream);
}
