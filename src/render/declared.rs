//! What each page reads, declared: a page's fingerprint is made from these before its
//! view runs, so a page whose inputs did not change costs a lookup, not a view.
//!
//! Each input is a fingerprint made once per run: the settings and what every page
//! shows (nav, footer), each case's card, each taxonomy's list of terms, the matrix
//! counts. A page declares the ones it reads; [`declared`] mirrors the views of
//! `render_page` arm for arm. Debug builds check every declaration: they make every page
//! again, and one whose declared inputs did not change must come out the same (see
//! `engine::memo::Run::verify`), so a view that reads more than it declares fails the
//! tests instead of leaving a page stale.

use rayon::prelude::*;

use super::{counted_count, Job};

type Counts = std::collections::BTreeMap<(String, String), usize>;
use crate::fingerprint::{Fingerprint, Hasher};
use crate::resolve::Site;
use crate::urls::Kind;

/// The inputs pages declare, each made once per run.
#[derive(Default)]
pub(super) struct Inputs {
    /// The settings, the catalog and templates' revision, and what every page shows.
    site: Fingerprint,
    /// Per case: its card, which shows the case and its translations.
    cards: Vec<Fingerprint>,
    /// Every case, in site order.
    all: Fingerprint,
    /// Per taxonomy: the terms that get a page, with their names and counts.
    terms: [Fingerprint; 9],
    /// The matrix: uses per tactic and technique, all and confirmed.
    counts: Fingerprint,
    /// Per tactic: its column of the matrix (all uses), and the heat scale the whole
    /// matrix sets.
    tactics: std::collections::HashMap<String, Fingerprint>,
    /// The years of the timeline, with their counts.
    years: Fingerprint,
    /// The years of the timeline, without their counts (above each year's page).
    year_list: Fingerprint,
}

impl Inputs {
    pub(super) fn new(
        site: &Site,
        revision: Fingerprint,
        site_value: &serde_json::Value,
        counts: [&Counts; 2],
    ) -> Inputs {
        let mut h = Hasher::new();
        h.bytes(&revision.to_le_bytes());
        h.value(site_value);
        h.bytes(format!("{:?}", site.config).as_bytes());
        let site_fp = h.finish();
        let cards: Vec<Fingerprint> = (0..site.cases.len())
            .into_par_iter()
            .map(|i| {
                let c = &site.cases[i];
                let mut h = Hasher::new();
                for j in std::iter::once(i).chain(c.translations.iter().copied()) {
                    h.bytes(&site.cases[j].fingerprint.to_le_bytes());
                }
                h.finish()
            })
            .collect();
        let mut h = Hasher::new();
        for c in &site.cases {
            h.bytes(&c.fingerprint.to_le_bytes());
        }
        let all = h.finish();
        let terms = Kind::ALL.map(|kind| {
            let mut h = Hasher::new();
            let tax = site.taxonomy(kind);
            for t in (0..tax.terms.len()).filter(|&t| super::views::shown(site, kind, t)) {
                h.bytes(tax.terms[t].slug.as_bytes());
                h.bytes(tax.terms[t].name.as_bytes());
                h.bytes(&tax.terms[t].cases.len().to_le_bytes());
            }
            h.finish()
        });
        let mut h = Hasher::new();
        for c in counts {
            h.value(&c.iter().collect::<Vec<_>>());
        }
        let heat = format!("{:?}", super::charts::stats::HeatScale::from_counts(counts[0].values().copied()));
        let mut columns: std::collections::HashMap<String, Hasher> = Default::default();
        for ((tactic, technique), n) in counts[0] {
            let h = columns.entry(tactic.clone()).or_insert_with(|| {
                let mut h = Hasher::new();
                h.bytes(heat.as_bytes());
                h
            });
            h.bytes(technique.as_bytes());
            h.bytes(&n.to_le_bytes());
        }
        let tactics = columns.into_iter().map(|(t, h)| (t, h.finish())).collect();
        let counts = h.finish();
        // What the timeline's index shows: each year with its count.
        let mut h = Hasher::new();
        h.value(&super::charts::timeline_index(site)["years"]);
        let years = h.finish();
        let mut h = Hasher::new();
        h.value(&super::charts::timeline_years(site));
        Inputs { site: site_fp, cards, all, terms, counts, tactics, years, year_list: h.finish() }
    }

    /// What case `i`'s card is drawn from: the card, the site, the templates.
    pub(super) fn card_key(&self, i: usize) -> Fingerprint {
        let mut h = Hasher::new();
        h.bytes(&self.site.to_le_bytes());
        h.bytes(&self.cards[i].to_le_bytes());
        h.finish()
    }

    /// What a row of case `i` drawn by `template` reads: the case's card, the site,
    /// and `extra` (its axis, root, language...).
    pub(super) fn row_key(&self, i: usize, template: &str, extra: &str) -> Fingerprint {
        let mut h = Hasher::new();
        h.bytes(&self.card_key(i).to_le_bytes());
        h.bytes(template.as_bytes());
        h.bytes(extra.as_bytes());
        h.finish()
    }

    /// What a page that reads only the settings reads.
    pub(super) fn of_site(&self, url: &str) -> Fingerprint {
        let mut d = Declare(Hasher::new());
        d.fp(self.site).text(url);
        d.0.finish()
    }

    /// What the feed reads: the settings, and the cards of the cases it shows, in order.
    pub(super) fn of_feed(&self, cases: &[usize]) -> Fingerprint {
        let mut d = Declare(Hasher::new());
        d.fp(self.site).text("atom.xml").cards(self, cases.iter().copied());
        d.0.finish()
    }

    /// What the sitemap reads: the settings, and each page's URL with, for a case, its
    /// date and its versions (not the rest of the case: a title edit leaves it alone).
    pub(super) fn of_sitemap(&self, site: &Site, jobs: &[&Job]) -> Fingerprint {
        let mut d = Declare(Hasher::new());
        d.fp(self.site).text("sitemap");
        for &j in jobs {
            d.text(&j.url(site)).text("\0");
            if let Job::Case(i) = *j {
                let c = &site.cases[i];
                d.text(&c.case.updated.unwrap_or(c.case.date).to_string());
                for &k in &c.translations {
                    d.text(site.cases[k].case.lang.as_deref().unwrap_or("")).text(&site.cases[k].url);
                }
                d.text(c.case.lang.as_deref().unwrap_or("")).text("\0");
            }
        }
        d.0.finish()
    }
}

/// Hashes declared inputs.
struct Declare(Hasher);

impl Declare {
    fn fp(&mut self, fp: Fingerprint) -> &mut Self {
        self.0.bytes(&fp.to_le_bytes());
        self
    }
    fn cards(&mut self, inputs: &Inputs, cases: impl IntoIterator<Item = usize>) -> &mut Self {
        for i in cases {
            self.fp(inputs.cards[i]);
        }
        self.0.bytes(b"\x01");
        self
    }
    fn text(&mut self, s: &str) -> &mut Self {
        self.0.bytes(s.as_bytes());
        self
    }
}

/// The fingerprint of what `job`'s view reads (its template is hashed in by the caller).
pub(super) fn declared(site: &Site, inputs: &Inputs, job: &Job) -> Fingerprint {
    let mut d = Declare(Hasher::new());
    d.fp(inputs.site).text(&job.url(site));
    match *job {
        // The latest cases' cards, the counts, what it says of techniques, and each
        // taxonomy's terms: a case further down the list changes none of these by its
        // title or its text.
        Job::Home => {
            let home = super::home_techniques(site);
            d.fp(counted_count(site) as Fingerprint).cards(inputs, super::latest(site));
            for fp in inputs.terms {
                d.fp(fp);
            }
            d.fp(home.named as Fingerprint);
            for (n, id, name) in home.top {
                d.fp(n as Fingerprint).text(id).text(name);
            }
        }
        // The years and their counts.
        Job::Timeline => {
            d.fp(inputs.years);
        }
        Job::Statistics => {
            d.fp(inputs.all);
        }
        Job::Cases(n) => {
            let per = site.config.pagination.per_page.max(1);
            let counted = (0..site.cases.len()).filter(|&i| site.cases[i].counted);
            d.fp(counted_count(site) as Fingerprint).cards(inputs, counted.skip((n - 1) * per).take(per));
        }
        Job::Case(i) => {
            let c = &site.cases[i];
            // Related cases show as cards, with why (the terms they share).
            d.cards(inputs, std::iter::once(i).chain(c.related.iter().copied()));
        }
        Job::TermIndex(kind) => {
            d.fp(inputs.terms[kind.index()]);
        }
        Job::Term(kind, t) => {
            let term = &site.taxonomy(kind).terms[t];
            d.text(&term.slug).text(&term.name).cards(inputs, term.cases.iter().copied());
            match kind {
                // Its profile links the sectors and countries that have pages.
                Kind::Organizations => {
                    d.fp(site.orgs[t].fingerprint);
                    if let Some(p) = &site.orgs[t].profile {
                        for (kind, list) in [(Kind::Sectors, &p.sectors), (Kind::Countries, &p.countries)] {
                            for l in list {
                                let slug = crate::urls::term_slug(kind, &l.value);
                                d.text(&slug).fp(Fingerprint::from(super::views::has_page(site, kind, &slug)));
                            }
                        }
                    }
                }
                // Its sub-techniques with their counts; whether its parent and its
                // tactics have pages.
                Kind::Techniques => {
                    let (techniques, tactics) = (site.taxonomy(Kind::Techniques), site.taxonomy(Kind::Tactics));
                    let count = |id: &str| {
                        techniques.get(id).map_or(Fingerprint::MAX, |t| techniques.terms[t].cases.len() as Fingerprint)
                    };
                    for sub in site.catalog.subtechniques(&term.slug) {
                        d.text(&sub.id).fp(count(&sub.id));
                    }
                    if let Some(tech) = site.catalog.technique(&term.slug) {
                        if let Some(parent) = &tech.subtechnique_of {
                            d.text(parent).fp(count(parent));
                        }
                        for tactic in &tech.tactics {
                            d.text(tactic).fp(Fingerprint::from(tactics.get(tactic).is_some()));
                        }
                    }
                }
                // Its column of the matrix, with the heat scale.
                Kind::Tactics => {
                    d.fp(inputs.tactics.get(&term.slug).copied().unwrap_or_default());
                }
                _ => {}
            }
        }
        Job::Matrix(_) => {
            d.fp(inputs.counts).fp(inputs.terms[Kind::Tactics.index()]);
        }
        Job::TimelineYear(year) => {
            let cases = (0..site.cases.len()).filter(|&i| site.cases[i].counted && site.cases[i].happened.year == year);
            d.fp(inputs.year_list).cards(inputs, cases);
        }
        Job::Page(i) => {
            d.fp(site.pages[i].fingerprint);
        }
        Job::NotFound => {}
    }
    d.0.finish()
}
