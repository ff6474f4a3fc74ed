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

/// Every export file, in a fixed order.
pub fn render(site: &Site) -> Vec<OutputFile> {
    let graph = stix::Graph::new(site);
    // Each case's files, and each site-wide file, are independent: made in parallel,
    // collected in a fixed order.
    let per_case: Vec<[OutputFile; 2]> = (0..site.cases.len())
        .into_par_iter()
        .map(|i| {
            let slug = &site.cases[i].case.slug;
            [
                json_file(case_layer_url(slug), &navigator::case_layer(site, i)),
                json_file(case_stix_url(slug), &graph.case_bundle(i)),
            ]
        })
        .collect();
    let ((api, layer), bundle) = rayon::join(
        || {
            rayon::join(
                || json_file(api_url(), &api::cases(site)),
                || json_file(site_layer_url(), &navigator::site_layer(site)),
            )
        },
        || json_file(site_stix_url(), &graph.site_bundle()),
    );
    let mut files = Vec::with_capacity(per_case.len() * 2 + 3);
    files.push(api);
    files.extend(per_case.into_iter().flatten());
    files.push(layer);
    files.push(bundle);
    files
}
