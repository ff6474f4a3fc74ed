//! What templates see: the resolved site turned into the shapes of docs/THEME.md.
//! Every URL here is site-relative (see `urls`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::charts::stats::HeatScale;
use super::defang::defang;
use super::filters::group_digits;
use super::i18n::{term_name, tr, trf};
use crate::parse::date::Span;
use crate::resolve::{Site, SiteCase};
use crate::urls::{self, Kind};

pub fn lang_name(lang: &str) -> &str {
    match lang.split('-').next().unwrap_or(lang) {
        "en" => "English",
        "zh" => "中文",
        "ja" => "日本語",
        "ko" => "한국어",
        "de" => "Deutsch",
        "fr" => "Français",
        "es" => "Español",
        "ru" => "Русский",
        _ => lang,
    }
}

pub fn term_ref(site: &Site, kind: Kind, t: usize) -> Value {
    let term = &site.taxonomy(kind).terms[t];
    json!({ "name": term_name(kind, &term.slug, &term.name), "url": urls::term(kind, &term.slug), "slug": term.slug })
}

/// A taxonomy's title in the page's language ("Sectors").
pub fn taxonomy_title(kind: Kind) -> String {
    tr(&format!("taxonomy.{}", kind.key()))
}

/// One term's kind in the page's language ("Sector").
pub fn taxonomy_singular(kind: Kind) -> String {
    tr(&format!("taxonomy_one.{}", kind.key()))
}

fn term_refs(site: &Site, case: &SiteCase, kind: Kind) -> Vec<Value> {
    case.terms[kind.index()].iter().map(|&t| term_ref(site, kind, t)).collect()
}

/// The UI language dates are written in.
fn ui_lang<'a>(site: &'a Site<'_>) -> &'a str {
    &site.config.language
}

/// A case card: what every list shows of a case.
pub fn card(site: &Site, i: usize) -> Value {
    let c = &site.cases[i];
    let case = &c.case;
    let lang = ui_lang(site);
    // A translation links its original; the original says it has translations.
    let original = |j: usize| site.cases[j].case.translation_of.is_none() && case.translation_of.is_some();
    json!({
        "slug": case.slug,
        "is_translation": case.translation_of.is_some(),
        "url": c.url,
        "title": case.title,
        "summary": case.summary,
        "lang": case.lang.as_deref().unwrap_or(&site.config.language),
        "date": case.date.to_string(),
        "date_display": crate::parse::case::exact_day(case.date).display(lang),
        "happened_display": c.happened.display(lang),
        "countries": term_refs(site, c, Kind::Countries),
        "happened_year": c.happened.year,
        "tlp": case.tlp.as_str(),
        "status": case.incident.status,
        "organizations": term_refs(site, c, Kind::Organizations),
        "sectors": term_refs(site, c, Kind::Sectors),
        "countries": term_refs(site, c, Kind::Countries),
        "translations": c.translations.iter().map(|&j| {
            let t = &site.cases[j];
            let l = t.case.lang.as_deref().unwrap_or(&site.config.language);
            json!({ "lang": l, "lang_name": lang_name(l), "url": t.url, "title": t.case.title, "original": original(j) })
        }).collect::<Vec<_>>(),
    })
}

/// "Records", "People", "Organizations", "Accounts" in the page's language.
pub fn count_label(key: &str) -> String {
    tr(&format!("impact.{key}"))
}

/// "Started", "Detected", ... in the page's language.
pub fn date_label(key: &str) -> String {
    tr(&format!("date.{key}"))
}

/// Everything a case page shows.
/// `related`: also give the related cases as cards (`related_html` always).
pub fn case_page<'c>(
    site: &Site,
    i: usize,
    card: &dyn Fn(usize) -> &'c Value,
    related: bool,
    related_html: &[String],
) -> Value {
    let c = &site.cases[i];
    let case = &c.case;
    // The page speaks the case's language, dates included.
    let lang = case.lang.as_deref().unwrap_or(&site.config.language);
    let catalog = site.catalog;
    let inc = &case.incident;
    let span = |a, b| match (a, b) {
        (Some(a), Some(b)) => Span::between(&a, &b).map(|s| s.display(lang)),
        _ => None,
    };
    let techniques: Vec<Value> = case
        .techniques
        .iter()
        .zip(&c.tactics)
        .filter_map(|(t, tactics)| {
            let tech = catalog.technique(&t.id.value)?;
            Some(json!({
                "id": tech.id,
                "name": tech.name,
                "url": urls::term(Kind::Techniques, &tech.id),
                "mitre_url": tech.url,
                "tactics": tactics.iter().filter_map(|s| catalog.tactic(s)).map(|ta| json!({
                    "name": ta.name, "url": urls::term(Kind::Tactics, &ta.shortname)
                })).collect::<Vec<_>>(),
                "confidence": t.confidence.as_str(),
                "evidence": t.evidence,
                "deprecated": tech.deprecated,
            }))
        })
        .collect();
    // Mitigations of its confirmed and likely techniques, each once, with the techniques
    // it applies to: those of a guess would tell readers to defend against a guess.
    let mut mitigations: BTreeMap<&str, (&crate::attack::Object, Vec<&str>)> = BTreeMap::new();
    for t in case.techniques.iter().filter(|t| t.confidence.is_firm()) {
        let Some(tech) = catalog.technique(&t.id.value) else {
            continue;
        };
        for m in &tech.mitigations {
            if let Some(obj) = catalog.mitigation(m).filter(|o| !o.deprecated && !o.revoked) {
                let entry = mitigations.entry(obj.id.as_str()).or_insert((obj, Vec::new()));
                if !entry.1.contains(&tech.id.as_str()) {
                    entry.1.push(tech.id.as_str());
                }
            }
        }
    }
    let mut v = card(i).clone();
    let extra = json!({
        "date_display": crate::parse::case::exact_day(case.date).display(lang),
        "happened_display": c.happened.display(lang),
        "countries": term_refs(site, c, Kind::Countries),
        "updated": case.updated.map(|d| d.to_string()),
        "updated_display": case.updated.map(|d| crate::parse::case::exact_day(d).display(lang)),
        "ransomware": inc.ransomware,
        "actors": term_refs(site, c, Kind::Actors),
        "tags": term_refs(site, c, Kind::Tags),
        "data_types": term_refs(site, c, Kind::DataTypes),
        "year": c.terms[Kind::Years.index()].first().map(|&t| term_ref(site, Kind::Years, t)),
        "dates": inc.dates().map(|(k, d)| json!({
            "key": k, "label": date_label(k), "display": d.display(lang), "iso": d.to_iso()
        })).collect::<Vec<_>>(),
        "dwell_time": span(inc.started, inc.detected),
        "disclosure_lag": span(inc.detected, inc.disclosed),
        "impact": {
            "counts": case.impact.counts.iter().map(|(k, n)| json!({
                "key": k, "label": count_label(k), "word": tr(&format!("impact_word.{k}")), "value": n,
                "display": group_digits(n as i128)
            })).collect::<Vec<_>>(),
            "revisions": case.impact.revisions.iter().map(|r| json!({
                "date_display": r.date.display(lang),
                "counts": r.counts.iter().map(|(k, n)| json!({
                    "label": count_label(k), "word": tr(&format!("impact_word.{k}")), "display": group_digits(n as i128)
                })).collect::<Vec<_>>(),
                "note": r.note,
            })).collect::<Vec<_>>(),
        },
        "techniques": techniques,
        "timeline": case.timeline.iter().map(|t| json!({
            "iso": t.date.to_iso(), "display": t.date.display(lang), "event": t.event
        })).collect::<Vec<_>>(),
        "indicators": case.indicators.iter().map(|ind| json!({
            "type": ind.kind, "defanged": defang(ind.kind, &ind.value), "note": ind.note
        })).collect::<Vec<_>>(),
        "references": case.references.iter().map(|r| json!({
            "url": r.url, "title": r.title, "host": url_host(&r.url), "publisher": r.publisher,
            "date_display": r.date.map(|d| d.display(lang)), "lang": r.lang,
            "lang_name": r.lang.as_deref().map(lang_name),
        })).collect::<Vec<_>>(),
        "related": if related { c.related.iter().map(|&j| card(j).clone()).collect::<Vec<_>>() } else { Vec::new() },
        "related_html": related_html,
        "related_why": c.related.iter().map(|&j| related_why(site, i, j)).collect::<Vec<_>>(),
        "mitigations": mitigations.values().map(|(m, techs)| json!({
            "id": m.id, "name": m.name, "url": m.url, "techniques": techs
        })).collect::<Vec<_>>(),
        "body": c.body_html(),
        "headings": case.body.headings.iter().map(|h| json!({"level": h.level, "id": h.id, "text": h.text})).collect::<Vec<_>>(),
    });
    if let (Value::Object(base), Value::Object(extra)) = (&mut v, extra) {
        base.extend(extra);
    }
    v
}

/// Why case `j` is listed as related to case `i`: what they share, strongest first.
fn related_why(site: &Site, i: usize, j: usize) -> String {
    let (a, b) = (&site.cases[i], &site.cases[j]);
    let shared = |kind: Kind| -> Vec<&str> {
        let tax = site.taxonomy(kind);
        a.terms[kind.index()]
            .iter()
            .filter(|t| b.terms[kind.index()].contains(t))
            .map(|&t| &tax.terms[t])
            .filter(|t| !(kind == Kind::Actors && crate::resolve::related::is_unknown_actor(&t.slug)))
            .map(|t| t.name.as_str())
            .collect()
    };
    let mut why = Vec::new();
    if a.case.related.iter().any(|r| r.value == b.case.slug) {
        why.push(tr("related.listed"));
    }
    for (kind, one, many) in [
        (Kind::Organizations, "related.organization", "related.organizations"),
        (Kind::Actors, "related.actor", "related.actors"),
        (Kind::Sectors, "related.sector", "related.sectors"),
    ] {
        let names = shared(kind);
        if !names.is_empty() {
            why.push(trf(if names.len() == 1 { one } else { many }, &[("names", names.join(&tr("list.sep")))]));
        }
    }
    let techniques = shared(Kind::Techniques).len();
    if techniques > 0 {
        why.push(trf("related.techniques", &[("count", techniques.to_string())]));
    }
    why.join(&tr("related.sep"))
}

/// The host of an http(s) URL without `www.`: what an untitled reference is called.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    host.strip_prefix("www.").unwrap_or(host)
}

/// The pages a list's pagination links: the first, the last, and two on each side of
/// the current one, with a gap (`{"gap": true}`) where pages are left out. Every page
/// linking every other would make each of 200 pages list 200 links: a wall of numbers
/// on a phone, and work that grows with the square of the pages.
pub fn page_links(current: usize, total: usize, url: impl Fn(usize) -> String) -> Vec<Value> {
    let near = current.saturating_sub(2).max(1)..=(current + 2).min(total);
    let mut shown: Vec<usize> = std::iter::once(1).chain(near).chain(std::iter::once(total)).collect();
    shown.sort_unstable();
    shown.dedup();
    let mut out = Vec::with_capacity(shown.len() + 2);
    let mut last = 0;
    for n in shown {
        // A gap of one page is the page itself.
        if n == last + 2 {
            out.push(json!({"number": last + 1, "url": url(last + 1)}));
        } else if n > last + 2 {
            out.push(json!({"gap": true}));
        }
        out.push(json!({"number": n, "url": url(n)}));
        last = n;
    }
    out
}

/// `{key, title, singular, url}` of a taxonomy.
pub fn taxonomy(kind: Kind) -> Value {
    json!({ "key": kind.key(), "title": taxonomy_title(kind), "singular": taxonomy_singular(kind), "url": urls::term_index(kind) })
}

/// Terms of a taxonomy with at least one case (organizations with a profile too), in
/// the order a reader expects: matrix order for tactics, newest first for years.
pub fn terms(site: &Site, kind: Kind) -> Vec<Value> {
    let tax = site.taxonomy(kind);
    let mut idx: Vec<usize> = (0..tax.terms.len()).filter(|&t| shown(site, kind, t)).collect();
    match kind {
        Kind::Tactics => {
            idx.sort_by_key(|&t| site.catalog.tactics.iter().position(|x| x.shortname == tax.terms[t].slug))
        }
        Kind::Years => idx.sort_by(|&a, &b| tax.terms[b].slug.cmp(&tax.terms[a].slug)),
        Kind::Techniques => idx.sort_by(|&a, &b| tax.terms[a].slug.cmp(&tax.terms[b].slug)),
        _ => idx.sort_by_cached_key(|&t| {
            let term = &tax.terms[t];
            (term_name(kind, &term.slug, &term.name).to_lowercase(), term.slug.clone())
        }),
    }
    idx.into_iter()
        .map(|t| {
            let term = &tax.terms[t];
            json!({ "name": term_name(kind, &term.slug, &term.name), "slug": term.slug, "url": urls::term(kind, &term.slug), "count": term.cases.len() })
        })
        .collect()
}

/// Whether a term gets a page: it has published cases, or it is an organization with a
/// profile or with children.
pub fn shown(site: &Site, kind: Kind, t: usize) -> bool {
    // Every technique term is used, or the parent of a used sub-technique.
    kind == Kind::Techniques
        || !site.taxonomy(kind).terms[t].cases.is_empty()
        || (kind == Kind::Organizations && (site.orgs[t].profile.is_some() || !site.orgs[t].children.is_empty()))
}

/// How many terms of a taxonomy get a page.
pub fn shown_count(site: &Site, kind: Kind) -> usize {
    (0..site.taxonomy(kind).terms.len()).filter(|&t| shown(site, kind, t)).count()
}

/// (tactic shortname, technique id) -> number of counted cases: by every use, and by
/// confirmed and likely uses only (cells with none of those are left out).
pub fn matrix_counts(site: &Site) -> [BTreeMap<(String, String), usize>; 2] {
    let techniques = &site.taxonomy(Kind::Techniques).terms;
    let mut counts: [BTreeMap<(String, String), usize>; 2] = Default::default();
    for cell in &site.matrix.cells {
        let key = || (cell.tactic.clone(), techniques[cell.technique].slug.clone());
        counts[0].insert(key(), cell.uses);
        if cell.firm_uses > 0 {
            counts[1].insert(key(), cell.firm_uses);
        }
    }
    counts
}

/// Whether the term `slug` of `kind` has a page (a case names it).
pub fn has_page(site: &Site, kind: Kind, slug: &str) -> bool {
    site.taxonomy(kind).get(slug).is_some_and(|t| !site.taxonomy(kind).terms[t].cases.is_empty())
}

/// Techniques used under one tactic, sub-techniques under their parent.
pub fn tactic_techniques(site: &Site, shortname: &str, counts: &BTreeMap<(String, String), usize>) -> Vec<Value> {
    let catalog = site.catalog;
    let heat = HeatScale::from_counts(counts.values().copied());
    let heat_level = |n: usize| heat.level(n);
    let mut parents: BTreeMap<String, Vec<(String, usize)>> = BTreeMap::new();
    for ((tactic, id), &n) in counts.range((shortname.to_string(), String::new())..) {
        if tactic != shortname {
            break;
        }
        let Some(tech) = catalog.technique(id) else {
            continue;
        };
        let parent = tech.subtechnique_of.clone().unwrap_or_else(|| tech.id.clone());
        let entry = parents.entry(parent).or_default();
        entry.push((id.clone(), n));
    }
    // Most used first (a parent with its sub-techniques), then in id order.
    let mut parents: Vec<(String, Vec<(String, usize)>)> = parents.into_iter().collect();
    parents.sort_by_key(|(_, used)| std::cmp::Reverse(used.iter().map(|u| u.1).sum::<usize>()));
    parents
        .into_iter()
        .filter_map(|(parent, used)| {
            let p = catalog.technique(&parent)?;
            let own = used.iter().find(|(id, _)| *id == parent).map_or(0, |(_, n)| *n);
            let subs: Vec<Value> = used
                .iter()
                .filter(|(id, _)| *id != parent)
                .filter_map(|(id, n)| {
                    let t = catalog.technique(id)?;
                    Some(json!({"id": t.id, "name": t.name, "url": urls::term(Kind::Techniques, &t.id), "count": n, "level": heat_level(*n)}))
                })
                .collect();
            let url = urls::term(Kind::Techniques, &p.id);
            Some(json!({"id": p.id, "name": p.name, "url": url, "count": own, "level": heat_level(own), "subtechniques": subs}))
        })
        .collect()
}

/// An ATT&CK description (Markdown, with `(Citation: Name)` marks, cut short with `...`
/// by the catalog) as HTML: its links and `<code>` kept, other HTML shown as text,
/// citations as numbered marks; and the names cited, in order, each once.
pub fn attack_summary(summary: &str) -> (String, Vec<String>) {
    use pulldown_cmark::{html, Event, Parser};
    const OPEN: char = '\u{E000}';
    const CLOSE: char = '\u{E001}';
    let mut cited: Vec<String> = Vec::new();
    let mut text = String::with_capacity(summary.len());
    let mut rest = summary;
    while let Some(i) = rest.find("(Citation:") {
        text.push_str(&rest[..i]);
        let Some(j) = rest[i..].find(')') else {
            // A citation the catalog cut off.
            rest = "";
            break;
        };
        let name = rest[i + 10..i + j].trim().to_string();
        let n = cited.iter().position(|c| *c == name).unwrap_or_else(|| {
            cited.push(name);
            cited.len() - 1
        }) + 1;
        text.push_str(&format!("{OPEN}{n}{CLOSE}"));
        rest = &rest[i + j + 1..];
    }
    text.push_str(rest);
    // MITRE writes some links with a space between text and target: `[Shell History] (https://...)`.
    let text = text.replace("] (http", "](http");
    let mut text = text.replace("]\n(http", "](http");
    // A link the catalog cut off (`[Latera...`) would show as raw Markdown.
    if let Some(cut) = text.strip_suffix("...") {
        let open = cut.rfind('[');
        let closed = open.is_some_and(|o| cut[o..].contains("](") && cut[o..].rfind(')') > cut[o..].find("]("));
        let kept = match open {
            Some(o) if !closed => &cut[..o],
            _ => cut,
        };
        text = format!("{}…", kept.trim_end());
    }
    let events = Parser::new(&text).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) if matches!(h.as_ref(), "<code>" | "</code>") => Event::InlineHtml(h),
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    let mut marked = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(i) = rest.find(OPEN) {
        marked.push_str(&rest[..i]);
        let after = &rest[i + OPEN.len_utf8()..];
        let end = after.find(CLOSE).unwrap_or(after.len());
        let n = &after[..end];
        marked.push_str(&format!(r##"<sup class="cite"><a href="#cite-{n}">[{n}]</a></sup>"##));
        rest = after.get(end + CLOSE.len_utf8()..).unwrap_or("");
    }
    marked.push_str(rest);
    (marked, cited)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attack_descriptions_are_markdown_with_numbered_citations() {
        let (html, cited) = attack_summary(
            "Use [Remote Services] (https://attack.mitre.org/techniques/T1021) and <code>cmd.exe</code>.(Citation: A)(Citation: B) Again.(Citation: A) <b>x</b> then [Latera...",
        );
        assert!(html.contains(r#"<a href="https://attack.mitre.org/techniques/T1021">Remote Services</a>"#), "{html}");
        assert!(html.contains("<code>cmd.exe</code>"), "{html}");
        assert!(html.contains("&lt;b&gt;x"), "other HTML is text: {html}");
        assert!(
            html.contains(r##"<a href="#cite-1">[1]</a></sup><sup class="cite"><a href="#cite-2">[2]</a>"##),
            "{html}"
        );
        assert!(html.contains(r##"Again.<sup class="cite"><a href="#cite-1">[1]</a>"##), "{html}");
        assert!(!html.contains("[Latera") && html.contains("then…"), "{html}");
        assert_eq!(cited, ["A", "B"]);
        assert!(!html.contains("Citation"));
    }
}
