//! `/api/cases.json`: every published case's front matter, resolved terms and URLs.
//!
//! The shape is versioned (`version`) and documented by `schema/cases.schema.json`
//! (JSON Schema draft 2020-12, strict: every object closed, dates, URLs and codes
//! checked), which the site publishes at `/api/cases.schema.json` and the document names
//! in `$schema`. Every key is always present: a field the write-up does not give is
//! `null` (or an empty list), so consumers never guess.

use serde_json::{json, Value};

use super::{permalink, Chunk};
use crate::fingerprint::{of_bytes, Fingerprint};
use crate::parse::case::{Counts, IndicatorType};
use crate::parse::date::PartialDate;
use crate::resolve::{Site, SiteCase};
use crate::urls::{self, Kind};

/// Bump when a field is removed or changes meaning; adding a field keeps the version.
pub const VERSION: u64 = 1;

/// The JSON Schema of `/api/cases.json`, published beside it as is.
pub const SCHEMA: &str = include_str!("../../../schema/cases.schema.json");

/// `api/cases.schema.json`.
pub fn schema_file(path: String) -> super::OutputFile {
    super::OutputFile { path, bytes: SCHEMA.as_bytes().to_vec() }
}

/// `cases` written out, case by case, to `stream`: the same bytes as the whole tree. Each
/// case is a piece made from that case alone (and the settings), so an edit makes one
/// piece again; the file is kept whole when no piece and no setting changed.
pub fn cases_file(site: &Site, settings: Fingerprint, path: &str, sinks: &super::Sinks) {
    let mut head = cases_head(site);
    head["cases"] = json!([]);
    let Some((head, tail)) = super::split(&head, "cases") else { return };
    let pieces: Vec<Fingerprint> =
        site.cases.iter().map(|c| super::declare("api-case", [settings, c.fingerprint])).collect();
    let ends = [of_bytes(&head), of_bytes(&tail)];
    let fingerprint = super::declare("api", ends.into_iter().chain(pieces.iter().copied()));
    sinks.stream(path, fingerprint, || {
        let items = super::in_order(site.cases.len(), move |i| {
            sinks.memo.hashed_piece(pieces[i], &mut || serde_json::to_vec(&case(site, i)).unwrap_or_default())
        });
        std::iter::once(Chunk::of(head))
            .chain(super::with_commas(items, Chunk::of(super::COMMA)))
            .chain([Chunk::of(tail)])
    });
}

fn cases_head(site: &Site) -> Value {
    json!({
        "$schema": permalink(site, &super::api_schema_url()),
        "version": VERSION,
        "generator": "casebook",
        "generator_version": env!("CARGO_PKG_VERSION"),
        "attack_version": site.catalog.version,
        "site": {
            "title": site.config.title,
            "base_url": site.config.base_url.trim_end_matches('/'),
            "language": site.config.language,
        },
    })
}

fn pdate(d: Option<PartialDate>) -> Value {
    d.map_or(Value::Null, |d| Value::String(d.to_iso()))
}

fn counts(c: &Counts) -> Value {
    json!({
        "records": c.records,
        "people": c.people,
        "organizations": c.organizations,
        "accounts": c.accounts,
    })
}

pub(crate) fn indicator_type(t: IndicatorType) -> &'static str {
    match t {
        IndicatorType::Domain => "domain",
        IndicatorType::Ip => "ip",
        IndicatorType::Url => "url",
        IndicatorType::Email => "email",
        IndicatorType::Sha256 => "sha256",
        IndicatorType::Sha1 => "sha1",
        IndicatorType::Md5 => "md5",
        IndicatorType::File => "file",
    }
}

/// `{name, slug, url}` of every term of `kind` the case is under, in the order written.
fn terms(site: &Site, sc: &SiteCase, kind: Kind) -> Vec<Value> {
    sc.terms[kind.index()]
        .iter()
        .map(|&t| {
            let term = &site.taxonomy(kind).terms[t];
            json!({"name": term.name, "slug": term.slug, "url": urls::term(kind, &term.slug)})
        })
        .collect()
}

fn case(site: &Site, i: usize) -> Value {
    let sc = &site.cases[i];
    let c = &sc.case;
    let slugs = |list: &[usize]| -> Vec<String> { list.iter().map(|&j| site.cases[j].case.slug.clone()).collect() };
    let all_terms: serde_json::Map<String, Value> =
        Kind::ALL.iter().map(|&k| (k.key().to_string(), Value::from(terms(site, sc, k)))).collect();
    let techniques: Vec<Value> = c
        .techniques
        .iter()
        .zip(&sc.tactics)
        .map(|(t, tactics)| {
            let tech = site.catalog.technique(&t.id.value);
            json!({
                "id": tech.map_or(t.id.value.as_str(), |x| x.id.as_str()),
                "name": tech.map_or_else(
                    || t.name.as_ref().map_or(t.id.value.as_str(), |n| n.value.as_str()),
                    |x| x.name.as_str(),
                ),
                "tactic": t.tactic.as_ref().map(|x| x.value.to_ascii_lowercase()),
                "tactics": tactics,
                "confidence": t.confidence.as_str(),
                "evidence": t.evidence,
                "url": tech.map(|x| urls::term(Kind::Techniques, &x.id)),
                "mitre_url": tech.map(|x| x.url.clone()),
            })
        })
        .collect();
    let i_ = &c.incident;
    json!({
        "slug": c.slug,
        "title": c.title,
        "summary": c.summary,
        "lang": c.lang.as_deref().unwrap_or(&site.config.language),
        "date": c.date.to_string(),
        "updated": c.updated.map(|d| d.to_string()),
        "happened": sc.happened.to_iso(),
        "tlp": c.tlp.as_str(),
        "url": sc.url,
        "permalink": permalink(site, &sc.url),
        "exports": {
            "attack_layer": super::case_layer_url(&c.slug),
            "stix": super::case_stix_url(&c.slug),
        },
        "counted": sc.counted,
        "translation_of": c.translation_of.as_ref().map(|t| t.value.clone()),
        "translations": slugs(&sc.translations),
        "related": slugs(&sc.related),
        "organizations": terms(site, sc, Kind::Organizations),
        "tags": c.tags.iter().map(|t| t.value.clone()).collect::<Vec<_>>(),
        "incident": {
            "status": match i_.status {
                crate::parse::case::Status::Confirmed => "confirmed",
                crate::parse::case::Status::Suspected => "suspected",
            },
            "sectors": i_.sectors.iter().map(|s| s.value.clone()).collect::<Vec<_>>(),
            "countries": i_.countries.iter().map(|s| s.value.clone()).collect::<Vec<_>>(),
            "actors": i_.actors.iter().map(|s| s.value.clone()).collect::<Vec<_>>(),
            "individuals": i_.individuals.iter().map(|s| s.value.clone()).collect::<Vec<_>>(),
            "ransomware": i_.ransomware,
            "started": pdate(i_.started),
            "detected": pdate(i_.detected),
            "contained": pdate(i_.contained),
            "disclosed": pdate(i_.disclosed),
            "notified": pdate(i_.notified),
        },
        "impact": {
            "counts": counts(&c.impact.counts),
            "data_types": c.impact.data_types.iter().map(|s| s.value.clone()).collect::<Vec<_>>(),
            "revisions": c.impact.revisions.iter().map(|r| json!({
                "date": r.date.to_iso(),
                "counts": counts(&r.counts),
                "note": r.note,
            })).collect::<Vec<_>>(),
        },
        "techniques": techniques,
        "timeline": c.timeline.iter().map(|t| json!({
            "date": t.date.to_iso(),
            "event": t.event,
        })).collect::<Vec<_>>(),
        "indicators": c.indicators.iter().map(|x| json!({
            "type": indicator_type(x.kind),
            "value": x.value,
            "note": x.note,
        })).collect::<Vec<_>>(),
        "references": c.references.iter().map(|r| json!({
            "url": r.url,
            "title": r.title,
            "publisher": r.publisher,
            "date": pdate(r.date),
            "lang": r.lang,
        })).collect::<Vec<_>>(),
        "terms": all_terms,
    })
}
