//! Links inside bodies (`@/cases/…`, `org:…`, `attack:…`): each checked, then made a URL
//! relative to the page it is on.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use super::Site;
use crate::diagnostics::{Diagnostic, SourceFile};
use crate::parse::markdown::{fill_slots, LinkTarget, Rendered};
use crate::slug::slugify;
use crate::urls::{self, Kind};

pub struct CaseSlugs {
    pub published: HashMap<String, usize>,
    pub unpublished: HashSet<String>,
}

/// Checks the links of every case and organization body: a case keeps its links' URLs
/// (its body is filled when a page shows it), an organization its filled body.
pub fn fill_bodies(
    site: &mut Site,
    slugs: &CaseSlugs,
    org_names: &HashMap<String, usize>,
    diags: &mut Vec<Diagnostic>,
) {
    let site_ref = &*site;
    let cases: Vec<(Vec<Option<String>>, Vec<Diagnostic>)> = site_ref
        .cases
        .par_iter()
        .map(|c| {
            let mut d = Vec::new();
            let urls =
                link_urls(&c.case.body, &c.case.file, c.case.body_offset, &c.url, site_ref, slugs, org_names, &mut d);
            (urls, d)
        })
        .collect();
    let orgs: Vec<(String, Vec<Diagnostic>)> = site_ref
        .orgs
        .iter()
        .enumerate()
        .map(|(t, o)| match &o.profile {
            Some(p) => {
                let mut d = Vec::new();
                let url = urls::term(Kind::Organizations, &site_ref.taxonomy(Kind::Organizations).terms[t].slug);
                let urls = link_urls(&p.body, &p.file, p.body_offset, &url, site_ref, slugs, org_names, &mut d);
                (filled(&p.body, &urls), d)
            }
            None => (String::new(), Vec::new()),
        })
        .collect();
    for (c, (urls, d)) in site.cases.iter_mut().zip(cases) {
        c.link_urls = urls;
        diags.extend(d);
    }
    for (o, (html, d)) in site.orgs.iter_mut().zip(orgs) {
        o.body_html = html;
        diags.extend(d);
    }
}

/// The body with its links filled in (`urls` from [`link_urls`]).
pub fn filled(body: &Rendered, urls: &[Option<String>]) -> String {
    if body.links.is_empty() {
        return body.html.to_string();
    }
    fill_slots(&body.html, urls)
}

/// Per link of `body`, its URL relative to `page_url`, or None (shown as plain text)
/// when it is not a link here.
#[allow(clippy::too_many_arguments)]
pub fn link_urls(
    body: &Rendered,
    file: &Arc<SourceFile>,
    body_offset: usize,
    page_url: &str,
    site: &Site,
    slugs: &CaseSlugs,
    org_names: &HashMap<String, usize>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Option<String>> {
    let root = urls::root_prefix(page_url);
    body.links
        .iter()
        .map(|link| {
            let at = body_offset + link.range.start..body_offset + link.range.end;
            match target_url(&link.target, site, slugs, org_names) {
                Ok(url) if url.starts_with("https://") => Some(url),
                Ok(url) if root.is_empty() && url.is_empty() => Some("./".to_string()),
                Ok(url) => Some(format!("{root}{url}")),
                Err(d) => {
                    diags.push(d.at(file, at));
                    None
                }
            }
        })
        .collect()
}

/// The site-relative URL of a checked link target, or why there is none.
fn target_url(
    target: &LinkTarget,
    site: &Site,
    slugs: &CaseSlugs,
    org_names: &HashMap<String, usize>,
) -> Result<String, Diagnostic> {
    match target {
        LinkTarget::Case { slug, anchor } => {
            if let Some(&i) = slugs.published.get(slug) {
                let case = &site.cases[i];
                match anchor {
                    None => Ok(case.url.clone()),
                    Some(a) if case.case.body.headings.iter().any(|h| &h.id == a) => Ok(format!("{}#{a}", case.url)),
                    Some(a) => {
                        let ids: Vec<&str> = case.case.body.headings.iter().map(|h| h.id.as_str()).collect();
                        let d = Diagnostic::error(
                            "link-anchor-unknown",
                            format!("case {slug:?} has no heading with id {a:?}"),
                        );
                        Err(match crate::toml_input::did_you_mean(a, ids.iter().copied()) {
                            _ if ids.is_empty() => d.hint("that case has no headings; link to the case itself"),
                            Some(near) => d.hint(format!("did you mean #{near}?")),
                            None => d.hint(format!("its headings are: {}", ids.join(", "))),
                        })
                    }
                }
            } else if slugs.unpublished.contains(slug) {
                Err(Diagnostic::warning(
                    "link-unpublished",
                    format!("case {slug:?} is not published; the link is shown as plain text"),
                ))
            } else {
                let all = slugs.published.keys().chain(&slugs.unpublished).map(String::as_str);
                Err(Diagnostic::error("link-case-unknown", format!("no case with slug {slug:?}")).hint(
                    match crate::toml_input::did_you_mean(slug, all) {
                        Some(near) => format!("did you mean @/cases/{near}.md?"),
                        None => "link to a case as @/cases/SLUG.md, where SLUG is its file name".to_string(),
                    },
                ))
            }
        }
        LinkTarget::Org(name) => {
            let tax = site.taxonomy(Kind::Organizations);
            let term = org_names.get(&name.to_lowercase()).copied().or_else(|| tax.get(&slugify(name)));
            match term {
                Some(t) => Ok(urls::term(Kind::Organizations, &tax.terms[t].slug)),
                None => {
                    let names = tax.terms.iter().map(|t| t.name.as_str());
                    Err(Diagnostic::error("link-org-unknown", format!("no organization named {name:?}")).hint(
                        match crate::toml_input::did_you_mean(name, names) {
                            Some(near) => format!("did you mean org:{near}?"),
                            None => {
                                "name an organization of a published case or of a profile in content/organizations/"
                                    .to_string()
                            }
                        },
                    ))
                }
            }
        }
        // Checked against the built site with the other local links (`link-broken`).
        LinkTarget::SitePath(path) => Ok(path.clone()),
        LinkTarget::Technique(id) => {
            let id = id.to_ascii_uppercase();
            match site.catalog.technique(&id) {
                Some(t) if site.taxonomy(Kind::Techniques).get(&t.id).is_some() => {
                    Ok(urls::term(Kind::Techniques, &t.id))
                }
                // No case here uses it, so it has no page here: link to MITRE's.
                Some(t) => Ok(t.url.clone()),
                None => Err(Diagnostic::error(
                    "link-technique-unknown",
                    format!("{id} is not an ATT&CK Enterprise technique"),
                )),
            }
        }
    }
}
