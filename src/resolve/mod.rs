//! Resolve: checks what needs more than one file (the ATT&CK catalog, organizations,
//! links between cases) and builds the cross-link index every page type shares.

mod fingerprints;
pub mod links;
pub mod matrix;
pub mod related;
pub mod terms;

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::sync::Arc;

use fnv::FnvHashMap;
use rayon::prelude::*;

use crate::attack::Catalog;
use crate::config::Config;
use crate::diagnostics::Diagnostic;
use crate::diagnostics::SourceFile;
use crate::fingerprint::Fingerprint;
use crate::parse::case::{Case, Located};
use crate::parse::date::PartialDate;
use crate::parse::org::OrgProfile;
use crate::parse::page::Page;
use crate::parse::Parsed;
use crate::slug::slugify;
use crate::urls::{self, Kind};
pub use terms::{Taxonomy, Term};

/// A published case with its place in the index.
#[derive(Debug)]
pub struct SiteCase {
    pub case: Arc<Case>,
    pub url: String,
    pub happened: PartialDate,
    /// Term indices per taxonomy (`Kind::index()`), in the order written.
    pub terms: [Vec<usize>; 9],
    /// Per technique of `case.techniques`: the tactics it counts under.
    pub tactics: Vec<Vec<String>>,
    /// The case that represents its translation group in lists and counts.
    pub counted: bool,
    pub related: Vec<usize>,
    /// Other published languages of the same case.
    pub translations: Vec<usize>,
    /// Per link of the body, its URL (None: shown as plain text). The body is filled
    /// only when a page shows it: most runs show few, and 10,000 filled bodies are
    /// tens of megabytes.
    pub link_urls: Vec<Option<String>>,
    /// Everything a view can read of this case alone (see [`fingerprints`]).
    pub fingerprint: Fingerprint,
}

impl SiteCase {
    /// The body with its links filled in (without links, the case's own HTML, shared
    /// with the engine's cache of parsed files).
    pub fn body_html(&self) -> Cow<'_, str> {
        if self.link_urls.is_empty() {
            return Cow::Borrowed(&self.case.body.html);
        }
        let mut html = String::with_capacity(self.case.body.html.len());
        self.fill_body(&mut html);
        Cow::Owned(html)
    }

    /// Appends [`Self::body_html`] to `out`.
    pub(crate) fn fill_body(&self, out: &mut String) {
        crate::parse::markdown::fill_slots_into(out, &self.case.body.html, &self.link_urls);
    }
}

/// What an organization term knows beyond its name.
#[derive(Debug, Default)]
pub struct OrgInfo {
    pub profile: Option<Arc<OrgProfile>>,
    pub body_html: String,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    /// Everything a view can read of this organization alone (see [`fingerprints`]).
    pub fingerprint: Fingerprint,
}

#[derive(Debug)]
pub struct SitePage {
    pub page: Arc<Page>,
    pub url: String,
    pub body_html: String,
    /// Everything a view can read of this page (see [`fingerprints`]).
    pub fingerprint: Fingerprint,
}

/// A case that exists but is not published, and why (never shown on the site).
#[derive(Debug)]
pub struct LeftOut {
    pub slug: String,
    pub reason: String,
}

#[derive(Debug)]
pub struct Site<'c> {
    pub config: Config,
    pub catalog: &'c Catalog,
    /// Newest incident first.
    pub cases: Vec<SiteCase>,
    /// One per `Kind`, indexed by `Kind::index()`.
    pub taxonomies: Vec<Taxonomy>,
    /// Aligned with the organization taxonomy's terms.
    pub orgs: Vec<OrgInfo>,
    pub pages: Vec<SitePage>,
    pub left_out: Vec<LeftOut>,
    /// Which counted cases use each (tactic, technique) cell.
    pub matrix: matrix::Matrix,
}

impl Site<'_> {
    pub fn taxonomy(&self, kind: Kind) -> &Taxonomy {
        &self.taxonomies[kind.index()]
    }
}

/// Why a case is not published now, if it is not.
fn unpublished_reason(case: &Case, config: &Config, now: jiff::Timestamp) -> Option<String> {
    if case.draft && !config.build.drafts {
        return Some("draft (build with --drafts to include it)".into());
    }
    if !config.publishes(case.tlp) {
        return Some(format!("TLP:{} is not in [publish] tlp", case.tlp.as_str().to_uppercase()));
    }
    match case.publish_after {
        Some(t) if t > now => Some(format!("embargoed until {t}")),
        _ => None,
    }
}

pub fn resolve<'c>(
    parsed: Parsed,
    config: Config,
    catalog: &'c Catalog,
    now: jiff::Timestamp,
) -> (Site<'c>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let Parsed { cases: all_cases, organizations: profiles, pages } = parsed;
    // A case that could not be read has its own error; what refers to it is not a second one.
    let (unreadable, all_cases): (Vec<Arc<Case>>, Vec<Arc<Case>>) = all_cases.into_iter().partition(|c| c.unreadable);
    let unreadable: HashMap<String, Arc<crate::diagnostics::SourceFile>> =
        unreadable.into_iter().map(|c| (c.slug.clone(), c.file.clone())).collect();
    // Per unreadable slug: the files that refer to it.
    let mut referrers: HashMap<String, std::collections::BTreeSet<String>> = HashMap::default();

    // Checks that hold for every case, published or not: `check` must see them all.
    // Each case on its own, in parallel; the diagnostics kept in case order.
    let checked: Vec<(Vec<Vec<String>>, Vec<Diagnostic>)> = all_cases
        .par_iter()
        .map(|case| {
            let mut d = Vec::new();
            let tactics = check_techniques(case, catalog, &config, &mut d);
            check_actors(case, catalog, &mut d);
            (tactics, d)
        })
        .collect();
    let mut tactics_of = Vec::with_capacity(all_cases.len());
    for (tactics, d) in checked {
        tactics_of.push(tactics);
        diags.extend(d);
    }
    let all_slugs: FnvHashMap<&str, &Case> = all_cases.iter().map(|c| (c.slug.as_str(), &**c)).collect();
    for case in &all_cases {
        for r in case.related.iter().chain(&case.translation_of) {
            if unreadable.contains_key(&r.value) {
                referrers.entry(r.value.clone()).or_default().insert(case.file.path.clone());
            } else if !all_slugs.contains_key(r.value.as_str()) {
                diags.push(
                    Diagnostic::error("case-unknown", format!("no case with slug {:?}", r.value))
                        .at(&case.file, r.span.clone())
                        .hint(match crate::toml_input::did_you_mean(&r.value, all_slugs.keys().copied()) {
                            Some(near) => format!("did you mean {near:?}? a case's slug is its file name without .md"),
                            None => "a case's slug is its file name without .md".to_string(),
                        }),
                );
            } else if r.value == case.slug {
                diags.push(
                    Diagnostic::error("case-self", "a case cannot refer to itself").at(&case.file, r.span.clone()),
                );
            }
        }
    }

    // Publishing: what is left out is noted, and from here on never seen again.
    let mut left_out = Vec::new();
    let mut published = Vec::new();
    let mut unpublished_slugs = std::collections::HashSet::default();
    // A translation is published only if its original would be: the original's TLP,
    // draft and embargo bind it too (followed up the chain of translations).
    let own: FnvHashMap<&str, Option<String>> =
        all_cases.iter().map(|c| (c.slug.as_str(), unpublished_reason(c, &config, now))).collect();
    let reasons: Vec<Option<String>> = all_cases
        .iter()
        .map(|case| {
            let mut reason = own[case.slug.as_str()].clone();
            let mut at: &Case = case;
            for _ in 0..all_cases.len() {
                if reason.is_some() {
                    break;
                }
                let Some(original) = at.translation_of.as_ref().and_then(|t| all_slugs.get(t.value.as_str())) else {
                    break;
                };
                if let Some(r) = &own[original.slug.as_str()] {
                    reason = Some(format!("a translation of {}, which is left out ({r})", original.slug));
                }
                at = original;
            }
            reason
        })
        .collect();
    drop(own);
    for ((case, reason), tactics) in all_cases.into_iter().zip(reasons).zip(tactics_of) {
        match reason {
            Some(reason) => {
                diags.push(Diagnostic::note("case-left-out", format!("left out: {reason}")).in_file(&case.file));
                unpublished_slugs.insert(case.slug.clone());
                left_out.push(LeftOut { slug: case.slug.clone(), reason });
            }
            None => {
                let happened = case.happened();
                published.push((happened, case, tactics, happened.sort_date()));
            }
        }
    }
    // Slugs are unique, so the order is total and an unstable sort gives the same one.
    // `sort_cmp` compares sort dates first: kept, they are worked out once, not per comparison.
    published.sort_unstable_by(|(ha, a, _, da), (hb, b, _, db)| {
        db.cmp(da).then_with(|| hb.sort_cmp(ha)).then(b.date.cmp(&a.date)).then(a.slug.cmp(&b.slug))
    });
    let index_of: HashMap<String, usize> =
        published.iter().enumerate().map(|(i, (_, c, _, _))| (c.slug.clone(), i)).collect();

    // Translation groups: the root is the case nothing is a translation of.
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::default();
    let mut root_of = vec![0usize; published.len()];
    for (i, (_, case, _, _)) in published.iter().enumerate() {
        let mut root = i;
        let mut seen = 0;
        // A case naming itself has its own error (`case-self`), not a cycle's too.
        while let Some(&next) =
            published[root].1.translation_of.as_ref().and_then(|t| index_of.get(&t.value)).filter(|&&n| n != root)
        {
            root = next;
            seen += 1;
            if seen > published.len() {
                let at = case.translation_of.as_ref().map(|t| t.span.clone()).unwrap_or(0..0);
                diags.push(
                    Diagnostic::error(
                        "translation-cycle",
                        "translation_of forms a cycle: no case of it is the original",
                    )
                    .at(&case.file, at)
                    .hint("one case of the loop is the original: remove its translation_of"),
                );
                root = i;
                break;
            }
        }
        root_of[i] = root;
        groups.entry(root).or_default().push(i);
    }
    let site_lang = config.language.as_str();
    let counted: Vec<bool> = (0..published.len())
        .map(|i| {
            let group = &groups[&root_of[i]];
            let in_site_lang = |j: usize| published[j].1.lang.as_deref().unwrap_or(site_lang) == site_lang;
            match group.iter().copied().find(|&j| in_site_lang(j)) {
                Some(rep) => rep == i,
                None => root_of[i] == i,
            }
        })
        .collect();

    // Organizations: profiles first, so names and aliases resolve to them.
    let mut taxonomies: Vec<Taxonomy> = Kind::ALL.iter().map(|&k| Taxonomy::new(k)).collect();
    let mut org_names: HashMap<String, usize> = HashMap::default();
    let mut orgs: Vec<OrgInfo> = Vec::new();
    for profile in profiles {
        let Some(t) = taxonomies[Kind::Organizations.index()].intern(
            profile.slug.clone(),
            &profile.name.value,
            Some((&profile.file, profile.name.span.clone())),
            &mut diags,
        ) else {
            continue;
        };
        for name in std::iter::once(&profile.name).chain(&profile.aliases) {
            let key = name.value.to_lowercase();
            if let Some(&other) = org_names.get(&key).filter(|&&o| o != t) {
                diags.push(
                    Diagnostic::error(
                        "organization-ambiguous",
                        format!(
                            "{:?} names two organizations: {} and {}",
                            name.value,
                            taxonomies[Kind::Organizations.index()].terms[other].name,
                            profile.name.value
                        ),
                    )
                    .at(&profile.file, name.span.clone()),
                );
            }
            org_names.entry(key).or_insert(t);
        }
        org_names.entry(profile.slug.clone()).or_insert(t);
        orgs.resize_with(t + 1, OrgInfo::default);
        orgs[t].profile = Some(profile);
    }

    // The cross-link index: every published case under each of its terms. Most names
    // recur in thousands of cases: each name as written is made a slug and interned once,
    // then found by its text (`remembered`). Each taxonomy reads its own fields of every case,
    // the passes side by side; within one, terms are numbered in the order the cases
    // first name them.
    let [orgs_tax, techniques_tax, tactics_tax, sectors_tax, countries_tax, data_tax, actors_tax, tags_tax, years_tax] =
        taxonomies.iter_mut().collect::<Vec<_>>().try_into().expect("one taxonomy per kind");
    let cases: &Vec<&Case> = &published.iter().map(|(_, c, _, _)| &**c).collect();
    let tactics: &Vec<&Vec<Vec<String>>> = &published.iter().map(|(_, _, t, _)| t).collect();
    let (mut orgs_of, mut sectors_of, mut data_of, mut tags_of, mut countries_of, mut actors_of, mut years_of) =
        Default::default();
    let mut attack = AttackTerms::default();
    let mut said: [Vec<Diagnostic>; 8] = Default::default();
    let [d_orgs, d_attack, d_sectors, d_data, d_tags, d_countries, d_actors, d_years] = &mut said;
    rayon::scope(|s| {
        s.spawn(|_| {
            // A profile's name or alias is its term (interning it again changes nothing).
            orgs_of = names(
                cases,
                orgs_tax,
                d_orgs,
                |case| case.organizations.iter(),
                |org, tax, file, diags| match org_names.get(&org.value.to_lowercase()) {
                    Some(&t) => Some(t),
                    None => intern_term(tax, file, slugify(&org.value), &org.value, Some(org.span.clone()), diags),
                },
            )
        });
        s.spawn(|_| attack = attack_terms(cases, tactics, &counted, catalog, [techniques_tax, tactics_tax], d_attack));
        for (kind, tax, out, diags) in [
            (Kind::Sectors, sectors_tax, &mut sectors_of, d_sectors),
            (Kind::DataTypes, data_tax, &mut data_of, d_data),
            (Kind::Tags, tags_tax, &mut tags_of, d_tags),
        ] {
            s.spawn(move |_| {
                fn field(kind: Kind, case: &Case) -> std::slice::Iter<'_, Located> {
                    match kind {
                        Kind::Sectors => case.incident.sectors.iter(),
                        Kind::DataTypes => case.impact.data_types.iter(),
                        _ => case.tags.iter(),
                    }
                }
                *out = names(
                    cases,
                    tax,
                    diags,
                    move |case| field(kind, case),
                    |s, tax, file, diags| {
                        intern_term(tax, file, urls::term_slug(kind, &s.value), &s.value, Some(s.span.clone()), diags)
                    },
                )
            });
        }
        s.spawn(|_| {
            countries_of = names(
                cases,
                countries_tax,
                d_countries,
                |case| case.incident.countries.iter(),
                |cc, tax, file, diags| {
                    let name = crate::countries::country_name(&cc.value).unwrap_or(&cc.value);
                    intern_term(tax, file, urls::term_slug(Kind::Countries, &cc.value), name, None, diags)
                },
            )
        });
        s.spawn(|_| {
            actors_of = names(
                cases,
                actors_tax,
                d_actors,
                |case| case.incident.actors.iter(),
                |a, tax, file, diags| {
                    let name = catalog.group(&a.value).map_or(a.value.as_str(), |g| g.name.as_str());
                    intern_term(tax, file, urls::term_slug(Kind::Actors, name), name, Some(a.span.clone()), diags)
                },
            )
        });
        s.spawn(|_| {
            let mut years = FnvHashMap::default();
            years_of = published
                .iter()
                .map(|(happened, case, _, _)| {
                    let year = remembered(&mut years, happened.year, || {
                        let year = happened.year.to_string();
                        intern_term(years_tax, &case.file, year.clone(), &year, None, d_years)
                    });
                    year.into_iter().collect()
                })
                .collect()
        });
    });
    diags.extend(said.into_iter().flatten());
    let AttackTerms { techniques: techniques_of, tactics: tactics_of, parents, gather } = attack;
    // Kind::ALL's order.
    let mut per_kind =
        [orgs_of, techniques_of, tactics_of, sectors_of, countries_of, data_of, actors_of, tags_of, years_of]
            .map(Vec::into_iter);
    let terms_of: Vec<[Vec<usize>; 9]> =
        (0..published.len()).map(|_| std::array::from_fn(|k| per_kind[k].next().unwrap_or_default())).collect();
    for (i, terms) in terms_of.iter().enumerate().filter(|&(i, _)| counted[i]) {
        for (tax, list) in taxonomies.iter_mut().zip(terms) {
            for &t in list {
                tax.terms[t].cases.push(i);
            }
        }
    }
    let mut site_cases = Vec::with_capacity(published.len());
    for (i, ((happened, case, tactics, _), terms)) in published.into_iter().zip(terms_of).enumerate() {
        site_cases.push(SiteCase {
            url: urls::case(&case.slug),
            happened,
            terms,
            tactics,
            counted: counted[i],
            related: Vec::new(),
            translations: groups[&root_of[i]].iter().copied().filter(|&j| j != i).collect(),
            link_urls: Vec::new(),
            fingerprint: 0,
            case,
        });
    }
    // The parent of a used sub-technique gets a page too: the matrix links it.
    for parent in parents {
        taxonomies[Kind::Techniques.index()].intern(parent.id.clone(), &parent.name, None, &mut diags);
    }
    orgs.resize_with(taxonomies[Kind::Organizations.index()].terms.len(), OrgInfo::default);

    // Organization parents: a name, alias or slug; one with no profile still gets a page.
    for t in 0..orgs.len() {
        let Some(profile) = &orgs[t].profile else {
            continue;
        };
        let Some(parent) = profile.parent.clone() else {
            continue;
        };
        let file = profile.file.clone();
        let key = parent.value.to_lowercase();
        let p = match org_names.get(&key) {
            Some(&p) => Some(p),
            None => taxonomies[Kind::Organizations.index()].intern(
                slugify(&parent.value),
                &parent.value,
                Some((&file, parent.span.clone())),
                &mut diags,
            ),
        };
        orgs.resize_with(taxonomies[Kind::Organizations.index()].terms.len(), OrgInfo::default);
        if let Some(p) = p {
            if p == t {
                diags.push(
                    Diagnostic::error("organization-parent", "an organization cannot be its own parent")
                        .at(&file, parent.span),
                );
            } else {
                orgs[t].parent = Some(p);
                orgs[p].children.push(t);
            }
        }
    }

    related::compute(&mut site_cases, &taxonomies, &index_of);

    let matrix = gather.finish();
    let mut site = Site { config, catalog, cases: site_cases, taxonomies, orgs, pages: Vec::new(), left_out, matrix };
    let slugs = links::CaseSlugs { published: index_of, unpublished: unpublished_slugs };
    links::fill_bodies(&mut site, &slugs, &org_names, &mut diags);
    site.pages = resolve_pages(pages, &site, &org_names, &slugs, &mut diags);
    fingerprints::fill(&mut site);
    // Links to an unreadable case: counted under its own error instead of one error each.
    diags.retain(|d| {
        let Some(slug) = (d.code == "link-case-unknown")
            .then(|| d.message.strip_prefix("no case with slug "))
            .flatten()
            .and_then(|q| serde_json::from_str::<String>(q).ok())
            .filter(|s| unreadable.contains_key(s))
        else {
            return true;
        };
        if let Some(loc) = &d.location {
            referrers.entry(slug).or_default().insert(loc.file.path.clone());
        }
        false
    });
    for (slug, files) in referrers {
        let file = &unreadable[&slug];
        let n = files.len();
        let list: Vec<&str> = files.iter().map(String::as_str).collect();
        diags.push(
            Diagnostic::note(
                "case-unreadable-links",
                format!(
                    "{n} file{} link{} to this case, which cannot be read (see the error above): {}",
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "s" } else { "" },
                    list.join(", ")
                ),
            )
            // At the file's end, so it reads after the file's own errors.
            .at(file, file.text().len()..file.text().len()),
        );
    }
    (site, diags)
}

/// Adds term `t` to a case's list of one kind, once.
fn add(list: &mut Vec<usize>, t: Option<usize>) {
    if let Some(t) = t.filter(|t| !list.contains(t)) {
        list.push(t);
    }
}

/// One taxonomy's pass over the cases: per case, in order, the terms of the names `of`
/// gives, each made by `make` the first time its text is seen (and again while it
/// fails, so that its error is reported at every use).
fn names<'a, I: Iterator<Item = &'a Located>>(
    cases: &[&'a Case],
    tax: &mut Taxonomy,
    diags: &mut Vec<Diagnostic>,
    of: impl Fn(&'a Case) -> I,
    make: impl Fn(&'a Located, &mut Taxonomy, &Arc<SourceFile>, &mut Vec<Diagnostic>) -> Option<usize>,
) -> Vec<Vec<usize>> {
    let mut seen: FnvHashMap<&'a str, usize> = FnvHashMap::default();
    cases
        .iter()
        .map(|case| {
            let mut list = Vec::new();
            for name in of(case) {
                add(&mut list, remembered(&mut seen, name.value.as_str(), || make(name, tax, &case.file, diags)));
            }
            list
        })
        .collect()
}

/// What the techniques' pass gives: per case its techniques and tactics, the parents of
/// the sub-techniques used (in the order first used: each gets a page too), and the matrix.
#[derive(Default)]
struct AttackTerms<'c> {
    techniques: Vec<Vec<usize>>,
    tactics: Vec<Vec<usize>>,
    parents: Vec<&'c crate::attack::Technique>,
    gather: matrix::Gather,
}

/// The techniques' and tactics' pass: one pass for both, as each use names its tactics
/// (`tactics`, per case and use), and the matrix gathered on the way.
fn attack_terms<'c>(
    cases: &[&Case],
    tactics: &[&Vec<Vec<String>>],
    counted: &[bool],
    catalog: &'c Catalog,
    [techniques_tax, tactics_tax]: [&mut Taxonomy; 2],
    diags: &mut Vec<Diagnostic>,
) -> AttackTerms<'c> {
    let mut out = AttackTerms::default();
    let (mut seen_t, mut seen_a) = (FnvHashMap::default(), FnvHashMap::default());
    for (i, (case, tactics)) in cases.iter().zip(tactics).enumerate() {
        let (mut techniques, mut tactic_terms) = (Vec::new(), Vec::new());
        for (t, tactics) in case.techniques.iter().zip(tactics.iter()) {
            let technique = remembered(&mut seen_t, t.id.value.as_str(), || {
                let tech = catalog.technique(&t.id.value)?;
                if let Some(parent) = tech.subtechnique_of.as_deref().and_then(|p| catalog.technique(p)) {
                    out.parents.push(parent);
                }
                intern_term(techniques_tax, &case.file, tech.id.clone(), &tech.name, None, diags)
            });
            add(&mut techniques, technique);
            if let Some(technique) = technique.filter(|_| counted[i]) {
                out.gather.add(i, technique, tactics, t.confidence.is_firm());
            }
            for shortname in tactics {
                let tactic = remembered(&mut seen_a, shortname.as_str(), || {
                    let tactic = catalog.tactic(shortname)?;
                    intern_term(tactics_tax, &case.file, tactic.shortname.clone(), &tactic.name, None, diags)
                });
                add(&mut tactic_terms, tactic);
            }
        }
        out.techniques.push(techniques);
        out.tactics.push(tactic_terms);
    }
    out
}

/// `seen[key]`, else what `make` makes, remembered if it made one.
fn remembered<K: std::hash::Hash + Eq>(
    seen: &mut FnvHashMap<K, usize>,
    key: K,
    make: impl FnOnce() -> Option<usize>,
) -> Option<usize> {
    if let Some(&t) = seen.get(&key) {
        return Some(t);
    }
    let t = make()?;
    seen.insert(key, t);
    Some(t)
}

/// A case's term, or None (and why, when the case wrote it at `at`).
fn intern_term(
    tax: &mut Taxonomy,
    file: &Arc<crate::diagnostics::SourceFile>,
    slug: String,
    name: &str,
    at: Option<std::ops::Range<usize>>,
    diags: &mut Vec<Diagnostic>,
) -> Option<usize> {
    if slug.is_empty() {
        if let Some(r) = at {
            diags.push(
                Diagnostic::error("slug-empty", format!("{:?} has no letter or digit to make a URL from", name))
                    .at(file, r),
            );
        }
        return None;
    }
    tax.intern(slug, name, at.map(|r| (file, r)), diags)
}

fn resolve_pages(
    pages: Vec<Arc<Page>>,
    site: &Site,
    org_names: &HashMap<String, usize>,
    slugs: &links::CaseSlugs,
    diags: &mut Vec<Diagnostic>,
) -> Vec<SitePage> {
    let mut out = Vec::new();
    for page in pages {
        if page.draft && !site.config.build.drafts {
            continue;
        }
        if urls::RESERVED.contains(&page.slug.as_str()) || page.slug == "index" {
            diags.push(
                Diagnostic::error(
                    "page-reserved",
                    format!("a page cannot be named {:?}: the site uses /{}/ itself", page.slug, page.slug),
                )
                .in_file(&page.file)
                .hint("rename the file"),
            );
            continue;
        }
        let url = urls::page(&page.slug);
        let urls = links::link_urls(&page.body, &page.file, page.body_offset, &url, site, slugs, org_names, diags);
        let body_html = links::filled(&page.body, &urls);
        out.push(SitePage { page, url, body_html, fingerprint: 0 });
    }
    out
}

/// Technique checks (FORMAT.md section 2), and the tactics each use counts under.
fn check_techniques(case: &Case, catalog: &Catalog, config: &Config, diags: &mut Vec<Diagnostic>) -> Vec<Vec<String>> {
    let english = case.lang.as_deref().unwrap_or(&config.language).starts_with("en");
    let mut out = Vec::new();
    for t in &case.techniques {
        let Some(tech) = catalog.technique(&t.id.value) else {
            diags.push(
                Diagnostic::error(
                    "technique-unknown",
                    format!("{} is not an ATT&CK Enterprise technique (catalog v{})", t.id.value, catalog.version),
                )
                .at(&case.file, t.id.span.clone())
                .hint("look the id up at https://attack.mitre.org/techniques/enterprise/"),
            );
            out.push(Vec::new());
            continue;
        };
        if tech.revoked {
            let by = tech.revoked_by.as_deref().and_then(|r| catalog.technique(r));
            let msg = match by {
                Some(r) => {
                    format!("{} ({}) is revoked in ATT&CK; use {} ({}) instead", tech.id, tech.name, r.id, r.name)
                }
                None => format!("{} ({}) is revoked in ATT&CK", tech.id, tech.name),
            };
            diags.push(Diagnostic::error("technique-revoked", msg).at(&case.file, t.id.span.clone()));
        } else if tech.deprecated {
            diags.push(
                Diagnostic::warning(
                    "technique-deprecated",
                    format!("{} ({}) is deprecated in ATT&CK", tech.id, tech.name),
                )
                .at(&case.file, t.id.span.clone())
                .hint("choose a current technique if one fits"),
            );
        }
        let tactics = match &t.tactic {
            Some(tactic) => {
                let short = tactic.value.to_ascii_lowercase();
                if tech.tactics.contains(&short) {
                    vec![short]
                } else {
                    let theirs = tech.tactics.join(", ");
                    let near = crate::toml_input::did_you_mean(&short, tech.tactics.iter().map(String::as_str));
                    let listed = |whose: &str| match near {
                        Some(near) => format!("did you mean \"{near}\"? {whose} tactics are: {theirs}"),
                        None => format!("{whose} tactics are: {theirs}"),
                    };
                    // Written as the tactic's name or id: the short name is what is asked for.
                    let named = catalog.tactics.iter().find(|x| {
                        x.shortname != short
                            && (x.name.eq_ignore_ascii_case(&tactic.value) || x.id.eq_ignore_ascii_case(&tactic.value))
                    });
                    let (message, hint) = match named {
                        Some(named) => (
                            format!(
                                "{:?} is the tactic {} ({}): write its short name",
                                tactic.value, named.name, named.id
                            ),
                            if tech.tactics.contains(&named.shortname) {
                                format!("write tactic = \"{}\"", named.shortname)
                            } else {
                                format!(
                                    "its short name is \"{}\", but {} is not in it: its tactics are {theirs}",
                                    named.shortname, tech.id
                                )
                            },
                        ),
                        None if catalog.tactic(&short).is_none() => {
                            (format!("{:?} is not an ATT&CK tactic", tactic.value), listed(&format!("{}'s", tech.id)))
                        }
                        None => (
                            format!("{} ({}) does not belong to tactic {:?}", tech.id, tech.name, tactic.value),
                            listed("its"),
                        ),
                    };
                    diags.push(
                        Diagnostic::error("tactic-mismatch", message).at(&case.file, tactic.span.clone()).hint(hint),
                    );
                    Vec::new()
                }
            }
            None => tech.tactics.clone(),
        };
        if let Some(name) = &t.name {
            if english && !name.value.eq_ignore_ascii_case(&tech.name) {
                diags.push(
                    Diagnostic::warning(
                        "technique-name",
                        format!("{} is named {:?} in ATT&CK, not {:?}", tech.id, tech.name, name.value),
                    )
                    .at(&case.file, name.span.clone())
                    .hint("the catalog's name is what the site shows; fix the name or the id"),
                );
            }
        }
        out.push(tactics);
    }
    out
}

/// An actor written as an ATT&CK group id must be one.
fn check_actors(case: &Case, catalog: &Catalog, diags: &mut Vec<Diagnostic>) {
    for a in &case.incident.actors {
        let v = a.value.as_bytes();
        let looks_like_id = v.len() == 5 && v[0] == b'G' && v[1..].iter().all(u8::is_ascii_digit);
        if looks_like_id && catalog.group(&a.value).is_none() {
            diags.push(
                Diagnostic::error("actor-unknown", format!("{} is not an ATT&CK group id", a.value))
                    .at(&case.file, a.span.clone())
                    .hint("look the group up at https://attack.mitre.org/groups/, or write the actor's name"),
            );
        }
    }
}
