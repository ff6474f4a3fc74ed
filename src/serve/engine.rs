//! The incremental builder behind `casebook serve`.
//!
//! It runs the same stages as `casebook build` (load, parse, resolve, render) but keeps
//! what it can between runs:
//!
//! - parsed files, by path and text: only files whose text changed are parsed again;
//! - the compiled templates, until a template changes;
//! - the last good [`Site`], to compare the new one with, so only pages whose inputs
//!   changed are rendered again.
//!
//! The common edit, one case whose place in the index does not change (its text,
//! title, summary, timeline, references...), takes a fast path: the case is parsed
//! and patched into the last site without running `resolve` again, its page is
//! rendered and published at once (phase 1), and the pages that show its card are
//! rendered after (phase 2). Every other change runs `resolve` on the whole site and
//! compares. Phase 2 stops early when new changes arrive; what it left is rendered
//! by the next run.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use rayon::prelude::*;
use tera::Tera;

use crate::attack::Catalog;
use crate::config::{Config, Overrides};
use crate::diagnostics::{Diagnostic, Diagnostics, Severity, SourceFile};
use crate::load::{self, AssetData, ContentFile};
use crate::parse::{self, case::Case, markdown, org::OrgProfile, page::Page};
use crate::pipeline::{self, LoadedCatalog};
use crate::render::{self, views, Job, Shared};
use crate::resolve::{self, links, Site};
use crate::urls::{self, Kind};

use super::Live;

type Cache<T> = HashMap<String, (Arc<SourceFile>, (Option<T>, Vec<Diagnostic>))>;

/// Jobs rendered between two looks at whether new changes arrived: one per thread, as
/// a term page of thousands of cases takes a good part of a second on its own.
fn chunk() -> usize {
    rayon::current_num_threads().max(1)
}

/// The last site that built without errors, and what it was made from.
struct Built {
    site: Site<'static>,
    shared: Shared,
    tera: Tera,
    config_text: String,
    templates: Vec<(String, String)>,
    /// Job of every page, by its URL.
    jobs: HashMap<String, Job>,
    /// Case index by slug.
    case_at: HashMap<String, usize>,
    /// Organization names, aliases and slugs, lower-cased, as `resolve` matches them.
    org_names: HashMap<String, usize>,
    assets: HashMap<String, Bytes>,
}

/// What one run did, for the terminal and the tests.
#[derive(Debug, Default)]
pub struct Outcome {
    pub ok: bool,
    pub fast: bool,
    pub pages: usize,
    pub millis: u128,
    /// Pages left for the next run because new changes arrived.
    pub deferred: usize,
}

pub struct Engine {
    root: PathBuf,
    overrides: Overrides,
    cases: Cache<Case>,
    orgs: Cache<OrgProfile>,
    pages: Cache<Page>,
    /// `[markdown] unsafe_html` the caches were parsed with.
    unsafe_html: Option<bool>,
    catalogs: HashMap<String, &'static Catalog>,
    built: Option<Built>,
    /// URLs of pages whose last render is out of date (phase 2 was interrupted).
    stale: HashSet<String>,
    /// Whether the last run failed, so the next good one reloads every page.
    failed: bool,
}

/// A case's place in the site: everything `resolve` reads from it, values only (spans
/// move with every edit above them). Equal keys give equal indexes.
fn structure(c: &Case) -> String {
    fn v(l: &[parse::case::Located]) -> Vec<&str> {
        l.iter().map(|x| x.value.as_str()).collect()
    }
    let techniques: Vec<_> = c
        .techniques
        .iter()
        .map(|t| (&t.id.value, t.tactic.as_ref().map(|x| &x.value), t.name.as_ref().map(|x| &x.value)))
        .collect();
    format!(
        "{:?}",
        (
            (&c.slug, c.date, c.happened(), &c.lang),
            c.translation_of.as_ref().map(|l| &l.value),
            v(&c.related),
            (c.draft, c.publish_after, c.tlp),
            v(&c.organizations),
            techniques,
            (
                v(&c.incident.sectors),
                v(&c.incident.countries),
                v(&c.incident.actors),
                v(&c.impact.data_types),
                v(&c.tags),
            ),
            c.body.headings.iter().map(|h| &h.id).collect::<Vec<_>>(),
        )
    )
}

/// The slug of a case file: `content/cases/SLUG.md` or `content/cases/SLUG/index.md`.
fn case_slug(rel: &Path) -> Option<String> {
    let parts: Vec<&str> = rel.iter().filter_map(|p| p.to_str()).collect();
    match parts.as_slice() {
        ["content", "cases", file] => file.strip_suffix(".md").map(str::to_string),
        ["content", "cases", dir, "index.md"] => Some(dir.to_string()),
        _ => None,
    }
}

/// Hidden files and editors' temporary files: never part of a site.
pub fn ignored(rel: &Path) -> bool {
    rel.iter().any(|p| {
        let p = p.to_string_lossy();
        p.starts_with('.') || p.ends_with('~') || p.ends_with(".swp") || p.ends_with(".tmp")
    }) || rel.file_name().is_some_and(|n| n == "4913")
}

fn parse_cached<T: Clone + Send>(
    cache: &mut Cache<T>,
    files: &[ContentFile],
    parse: impl Fn(&ContentFile) -> (Option<T>, Vec<Diagnostic>) + Sync,
) -> (Vec<T>, Vec<Diagnostic>) {
    let misses: Vec<&ContentFile> =
        files.iter().filter(|f| cache.get(&f.file.path).is_none_or(|(old, _)| old.text != f.file.text)).collect();
    let parsed: Vec<_> = misses.par_iter().map(|f| (f.file.path.clone(), (f.file.clone(), parse(f)))).collect();
    cache.extend(parsed);
    let keep: HashSet<&str> = files.iter().map(|f| f.file.path.as_str()).collect();
    cache.retain(|k, _| keep.contains(k.as_str()));
    let mut ok = Vec::with_capacity(files.len());
    let mut diags = Vec::new();
    for f in files {
        let (value, d) = &cache[&f.file.path].1;
        ok.extend(value.iter().cloned());
        diags.extend(d.iter().cloned());
    }
    (ok, diags)
}

fn org_names(site: &Site) -> HashMap<String, usize> {
    let mut names = HashMap::new();
    for (t, info) in site.orgs.iter().enumerate() {
        if let Some(p) = &info.profile {
            for n in std::iter::once(&p.name).chain(&p.aliases) {
                names.entry(n.value.to_lowercase()).or_insert(t);
            }
            names.entry(p.slug.clone()).or_insert(t);
        }
    }
    names
}

fn case_slugs(site: &Site) -> links::CaseSlugs {
    links::CaseSlugs {
        published: site.cases.iter().enumerate().map(|(i, c)| (c.case.slug.clone(), i)).collect(),
        unpublished: site.left_out.iter().map(|l| l.slug.clone()).collect(),
    }
}

fn page_url(job_url: &str) -> String {
    format!("/{job_url}")
}

impl Engine {
    pub fn new(root: PathBuf, overrides: Overrides) -> Self {
        Engine {
            root,
            overrides,
            cases: HashMap::new(),
            orgs: HashMap::new(),
            pages: HashMap::new(),
            unsafe_html: None,
            catalogs: HashMap::new(),
            built: None,
            stale: HashSet::new(),
            failed: false,
        }
    }

    /// Rebuilds after `changed` (absolute paths; `None`: the first build). `interrupted`
    /// tells phase 2 to stop because more changes arrived.
    pub fn run(&mut self, changed: Option<&[PathBuf]>, live: &Live, interrupted: &dyn Fn() -> bool) -> Outcome {
        let start = Instant::now();
        let mut outcome = match changed {
            Some(paths) => match self.fast(paths, live, interrupted) {
                Some(o) => o,
                None => self.slow(live, interrupted),
            },
            None => self.slow(live, interrupted),
        };
        outcome.millis = start.elapsed().as_millis();
        outcome
    }

    fn md(&self, config: &Config) -> markdown::Options {
        markdown::Options { unsafe_html: config.markdown.unsafe_html }
    }

    /// One or more case files whose place in the index did not change.
    fn fast(&mut self, paths: &[PathBuf], live: &Live, interrupted: &dyn Fn() -> bool) -> Option<Outcome> {
        let built = self.built.as_ref()?;
        if self.failed {
            return None;
        }
        let md = self.md(&built.site.config);
        let mut updates = Vec::new();
        for path in paths {
            let rel = path.strip_prefix(&self.root).ok()?;
            if ignored(rel) {
                continue;
            }
            let slug = case_slug(rel)?;
            let &i = built.case_at.get(&slug)?;
            let file = load::read_text(&self.root, path).ok()?;
            if file.path != built.site.cases[i].case.file.path {
                return None;
            }
            if file.text == built.site.cases[i].case.file.text {
                continue;
            }
            let content = ContentFile { slug, file: file.clone() };
            let parsed = parse::case::parse(&content, &md);
            self.cases.insert(file.path.clone(), (file.clone(), parsed.clone()));
            // Any diagnostic sends the edit down the full path, which reports it.
            let (case, ds) = parsed;
            if !ds.is_empty() {
                return None;
            }
            let case = case?;
            if structure(&case) != structure(&built.site.cases[i].case) {
                return None;
            }
            let mut diags = Vec::new();
            let html = links::fill(
                &case.body,
                &case.file,
                case.body_offset,
                &built.site.cases[i].url,
                &built.site,
                &case_slugs(&built.site),
                &built.org_names,
                &mut diags,
            );
            if diags.iter().any(|d| d.severity == Severity::Error) {
                return None;
            }
            updates.push((i, case, html, diags));
        }
        let built = self.built.as_mut()?;
        let mut warnings = Diagnostics::default();
        let mut changed_src = Vec::new();
        for (i, case, html, diags) in updates {
            built.site.cases[i].case = case;
            built.site.cases[i].body_html = html;
            warnings.extend(diags);
            changed_src.push(i);
        }
        if changed_src.is_empty() && self.stale.is_empty() {
            return Some(Outcome { ok: true, fast: true, ..Default::default() });
        }
        // Cards of the edited cases and of their translations (which show their titles).
        let mut changed_cards = Vec::new();
        for &i in &changed_src {
            for k in std::iter::once(i).chain(built.site.cases[i].translations.clone()) {
                // In the site's language, as every card (see `render::shared`).
                let lang = built.site.config.language.as_str();
                let card = render::i18n::with(&built.shared.strings, lang, || views::card(&built.site, k));
                if card != built.shared.cards[k] {
                    built.shared.cards[k] = card;
                    // A card that cannot be drawn goes the full way, which reports why.
                    render::refresh_card_html(&built.site, &built.tera, &mut built.shared, k).ok()?;
                    changed_cards.push(k);
                }
            }
        }
        let site = &built.site;
        let per = site.config.pagination.per_page.max(1);
        let mut first: Vec<Job> = vec![Job::Home];
        let mut second: Vec<Job> = Vec::new();
        for &i in &changed_src {
            first.push(Job::Case(i));
            first.push(Job::Cases(i / per + 1));
        }
        let card_set: HashSet<usize> = changed_cards.iter().copied().collect();
        if !card_set.is_empty() {
            for (j, c) in site.cases.iter().enumerate() {
                if c.related.iter().chain(&c.translations).any(|k| card_set.contains(k)) {
                    second.push(Job::Case(j));
                }
            }
            // The timeline and statistics name every case.
            second.extend(render::timeline_jobs(site));
            second.push(Job::Statistics);
            for &k in &changed_cards {
                second.push(Job::Cases(k / per + 1));
                for kind in Kind::ALL {
                    for &t in &site.cases[k].terms[kind.index()] {
                        if views::shown(site, kind, t) {
                            second.push(Job::Term(kind, t));
                        }
                    }
                }
            }
        }
        print_diags(&warnings.items);
        Some(self.publish(first, second, false, None, live, interrupted, true))
    }

    /// Everything from disk, parsed where changed, resolved, compared with the last site.
    fn slow(&mut self, live: &Live, interrupted: &dyn Fn() -> bool) -> Outcome {
        let mut diags = Diagnostics::default();
        let fail = |this: &mut Self, diags: Diagnostics| {
            this.fail(diags, live);
            Outcome::default()
        };
        let config_file = match load::read_config(&self.root) {
            Ok(f) => f,
            Err(d) => {
                diags.push(d);
                return fail(self, diags);
            }
        };
        let mut config = match Config::parse(&config_file) {
            Ok(c) => c,
            Err(ds) => {
                diags.extend(ds);
                return fail(self, diags);
            }
        };
        config.apply(&self.overrides);
        let catalog = match self.catalog(&config) {
            Ok(c) => c,
            Err(d) => {
                diags.push(d);
                return fail(self, diags);
            }
        };
        let (sources, ds) = load::load(&self.root, &config);
        diags.extend(ds);
        if self.unsafe_html != Some(config.markdown.unsafe_html) {
            self.cases.clear();
            self.orgs.clear();
            self.pages.clear();
            self.unsafe_html = Some(config.markdown.unsafe_html);
        }
        let md = self.md(&config);
        let (cases, ds) = parse_cached(&mut self.cases, &sources.cases, |f| parse::case::parse(f, &md));
        diags.extend(ds);
        let (organizations, ds) = parse_cached(&mut self.orgs, &sources.organizations, |f| parse::org::parse(f, &md));
        diags.extend(ds);
        let (pages, ds) = parse_cached(&mut self.pages, &sources.pages, |f| parse::page::parse(f, &md));
        diags.extend(ds);
        let templates: Vec<(String, String)> =
            sources.templates.iter().map(|t| (t.name.clone(), t.file.text.clone())).collect();
        let reuse_tera = self.built.as_ref().is_some_and(|b| b.templates == templates);
        let tera = if reuse_tera {
            None
        } else {
            match render::compile(&sources.templates) {
                Ok(t) => Some(t),
                Err(ds) => {
                    diags.extend(ds);
                    None
                }
            }
        };
        let parsed = parse::Parsed { cases, organizations, pages };
        let (site, ds) = resolve::resolve(parsed, config, catalog, jiff::Timestamp::now());
        diags.extend(ds);
        if diags.has_errors() {
            return fail(self, diags);
        }
        // Assets are small next to the pages; read them whole, compare them whole.
        let mut assets = HashMap::new();
        for a in &sources.assets {
            let bytes = match &a.data {
                AssetData::Builtin(b) => Bytes::from_static(b),
                AssetData::File(p) => match std::fs::read(p) {
                    Ok(b) => Bytes::from(b),
                    Err(e) => {
                        diags.push(
                            Diagnostic::error("io", format!("cannot read: {e}")).in_path(load::display(&self.root, p)),
                        );
                        continue;
                    }
                },
            };
            assets.insert(a.dest.clone(), bytes);
        }
        if diags.has_errors() {
            return fail(self, diags);
        }
        let mut old = self.built.take();
        let same_templates = tera.is_none();
        let tera = match tera {
            Some(t) => t,
            // Same templates as the last good build: keep them compiled.
            None => std::mem::take(&mut old.as_mut().expect("compiled on the first build").tera),
        };
        let builtin = render::builtin_names(templates.iter().map(|(n, t)| (n.as_str(), t.as_str())));
        // Same templates: a card whose data did not change keeps its HTML.
        let old_index = |i: usize| old.as_ref().and_then(|o| o.case_at.get(&site.cases[i].case.slug).copied());
        let reuse = match &old {
            Some(o) if same_templates => Some((&o.shared, &old_index as &(dyn Fn(usize) -> Option<usize> + Sync))),
            _ => None,
        };
        let shared = render::shared_reusing(&site, &tera, &builtin, reuse);
        self.finish(site, shared, tera, config_file, templates, assets, old, diags, live, interrupted)
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        site: Site<'static>,
        shared: Shared,
        tera: Tera,
        config_file: Arc<SourceFile>,
        templates: Vec<(String, String)>,
        assets: HashMap<String, Bytes>,
        old: Option<Built>,
        diags: Diagnostics,
        live: &Live,
        interrupted: &dyn Fn() -> bool,
    ) -> Outcome {
        let jobs: HashMap<String, Job> = render::jobs(&site).into_iter().map(|j| (j.url(&site), j)).collect();
        let new = Built {
            case_at: site.cases.iter().enumerate().map(|(i, c)| (c.case.slug.clone(), i)).collect(),
            org_names: org_names(&site),
            site,
            shared,
            tera,
            config_text: config_file.text.clone(),
            templates,
            jobs,
            assets,
        };
        let full = match &old {
            None => true,
            Some(o) => {
                o.config_text != new.config_text
                    || o.templates != new.templates
                    || !std::ptr::eq(o.site.catalog, new.site.catalog)
                    || o.shared.site != new.shared.site
                    || self.failed
            }
        };
        let shown: Vec<&Diagnostic> =
            diags.items.iter().filter(|d| old.is_none() || d.severity != Severity::Note).collect();
        print_diags(&shown.into_iter().cloned().collect::<Vec<_>>());
        let (first, second, removed, assets_changed) = match &old {
            Some(o) if !full => diff(o, &new),
            _ => {
                let mut all: Vec<Job> = render::jobs(&new.site);
                // The first pages a writer looks at go first.
                all.sort_by_key(|j| !matches!(j, Job::Home | Job::Cases(1) | Job::Page(_)));
                let removed = old
                    .as_ref()
                    .map(|o| {
                        o.jobs
                            .keys()
                            .filter(|u| !new.jobs.contains_key(*u))
                            .map(|u| urls::output_path(u))
                            .chain(o.assets.keys().filter(|k| !new.assets.contains_key(*k)).cloned())
                            .collect()
                    })
                    .unwrap_or_default();
                (Vec::new(), all, removed, true)
            }
        };
        // Assets go out with the first pages.
        let changed_assets: Vec<(String, Bytes)> = new
            .assets
            .iter()
            .filter(|(k, v)| old.as_ref().and_then(|o| o.assets.get(*k)) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.built = Some(new);
        // The old site is big at 10,000 cases: free it off the critical path.
        std::thread::spawn(move || drop(old));
        let all = full || assets_changed || !changed_assets.is_empty();
        if full {
            self.stale.clear();
        }
        live.files_update(changed_assets, &removed);
        self.publish(first, second, full, Some(all), live, interrupted, false)
    }

    /// Renders `first` and publishes it (with a reload), then `second` in chunks until
    /// done or interrupted. Stale pages from an interrupted run join `second`.
    #[allow(clippy::too_many_arguments)]
    fn publish(
        &mut self,
        first: Vec<Job>,
        mut second: Vec<Job>,
        full: bool,
        reload_all: Option<bool>,
        live: &Live,
        interrupted: &dyn Fn() -> bool,
        fast: bool,
    ) -> Outcome {
        let built = self.built.as_ref().expect("published after a build");
        let site = &built.site;
        let mut seen: HashSet<String> = HashSet::new();
        let mut dedup =
            |jobs: Vec<Job>| -> Vec<Job> { jobs.into_iter().filter(|j| seen.insert(j.url(site))).collect() };
        let first = dedup(first);
        second.extend(self.stale.drain().filter_map(|u| built.jobs.get(&u).cloned()));
        let second = dedup(second);
        let mut diags = Vec::new();
        let mut pages = 0;
        let all = reload_all.unwrap_or(false) || self.failed;
        self.failed = false;
        live.clear_error();
        if !first.is_empty() {
            let (files, ds) = render::render_some(site, &built.tera, &built.shared, &first, false, false);
            diags.extend(ds);
            pages += files.len();
            let urls: Vec<String> = first.iter().map(|j| page_url(&j.url(site))).collect();
            live.put(files);
            live.reload(if all { None } else { Some(urls) });
        } else if all && second.is_empty() {
            live.reload(None);
        }
        let mut done = 0;
        let mut announced = Vec::new();
        for chunk in second.chunks(chunk()) {
            if interrupted() {
                break;
            }
            let (files, ds) = render::render_some(site, &built.tera, &built.shared, chunk, false, false);
            diags.extend(ds);
            pages += files.len();
            live.put(files);
            announced.extend(chunk.iter().map(|j| page_url(&j.url(site))));
            done += chunk.len();
        }
        let deferred = second.len() - done;
        if deferred > 0 {
            self.stale.extend(second[done..].iter().map(|j| j.url(site)));
        }
        let (files, ds) = render::render_some(site, &built.tera, &built.shared, &[], true, full);
        diags.extend(ds);
        live.put(files);
        if !second.is_empty() || (first.is_empty() && all) {
            if all && first.is_empty() {
                live.reload(None);
            } else if !announced.is_empty() {
                live.reload(Some(announced));
            }
        }
        if !diags.is_empty() {
            // A template that fails on some page: shown like any other error.
            let mut d = Diagnostics::default();
            d.extend(diags);
            self.fail(d, live);
        }
        Outcome { ok: !self.failed, fast, pages, millis: 0, deferred }
    }

    fn fail(&mut self, mut diags: Diagnostics, live: &Live) {
        diags.sort();
        let errors: Vec<Diagnostic> = diags.items.iter().filter(|d| d.severity == Severity::Error).cloned().collect();
        print_diags(&errors);
        let text = crate::report::human(&errors);
        eprintln!(
            "error: {} error{}; still serving the last good site",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
        self.failed = true;
        live.set_error(text);
    }

    // `Diagnostic` is the project's error type everywhere, large or not.
    fn catalog(&mut self, config: &Config) -> Result<&'static Catalog, Diagnostic> {
        if config.attack.catalog == "builtin" {
            return Ok(Catalog::builtin());
        }
        let path = self.root.join(&config.attack.catalog);
        let key = format!("{}:{:?}", path.display(), std::fs::metadata(&path).and_then(|m| m.modified()).ok());
        if let Some(c) = self.catalogs.get(&key) {
            return Ok(c);
        }
        // A site's own catalog lives as long as the server: a new one is read only when
        // its file changes, so what is kept is bounded by the edits made to it.
        let c: &'static Catalog = match pipeline::catalog(&self.root, config)? {
            LoadedCatalog::Builtin(c) => c,
            LoadedCatalog::Owned(c) => Box::leak(c),
        };
        self.catalogs.insert(key, c);
        Ok(c)
    }
}

fn print_diags(diags: &[Diagnostic]) {
    if !diags.is_empty() {
        eprint!("{}", crate::report::human(diags));
    }
}

/// The pages whose inputs differ between two good builds: (first, second, removed
/// output paths, whether to reload every page).
fn diff(old: &Built, new: &Built) -> (Vec<Job>, Vec<Job>, Vec<String>, bool) {
    let (os, ns) = (&old.site, &new.site);
    let term_slugs = |site: &Site, kind: Kind, ts: &[usize]| -> Vec<String> {
        ts.iter().map(|&t| site.taxonomy(kind).terms[t].slug.clone()).collect()
    };
    let case_slugs =
        |site: &Site, is: &[usize]| -> Vec<String> { is.iter().map(|&i| site.cases[i].case.slug.clone()).collect() };
    // Cases whose card changed or is new: every list that shows them changes.
    let mut changed_cards: HashSet<String> = HashSet::new();
    let mut first = vec![Job::Home];
    let mut second = Vec::new();
    let per = ns.config.pagination.per_page.max(1);
    let mut case_dirty = vec![false; ns.cases.len()];
    for (i, c) in ns.cases.iter().enumerate() {
        let slug = &c.case.slug;
        match old.case_at.get(slug) {
            None => {
                changed_cards.insert(slug.clone());
                case_dirty[i] = true;
                first.push(Job::Case(i));
                first.push(Job::Cases(i / per + 1));
            }
            Some(&o) => {
                let oc = &os.cases[o];
                if new.shared.cards[i] != old.shared.cards[o] {
                    changed_cards.insert(slug.clone());
                }
                if oc.case.file.text != c.case.file.text || oc.body_html != c.body_html {
                    case_dirty[i] = true;
                    first.push(Job::Case(i));
                    first.push(Job::Cases(i / per + 1));
                } else if oc.counted != c.counted
                    || oc.tactics != c.tactics
                    || case_slugs(os, &oc.related) != case_slugs(ns, &c.related)
                    || case_slugs(os, &oc.translations) != case_slugs(ns, &c.translations)
                    || Kind::ALL
                        .iter()
                        .any(|&k| term_slugs(os, k, &oc.terms[k.index()]) != term_slugs(ns, k, &c.terms[k.index()]))
                {
                    case_dirty[i] = true;
                }
            }
        }
    }
    for (i, c) in ns.cases.iter().enumerate() {
        if case_dirty[i]
            || c.related.iter().chain(&c.translations).any(|&j| changed_cards.contains(&ns.cases[j].case.slug))
        {
            second.push(Job::Case(i));
        }
    }
    // Case lists: a page changes when its cases or their cards do.
    let pages = ns.cases.len().div_ceil(per).max(1);
    for n in 1..=pages {
        let slice = |site: &Site| -> Vec<String> {
            site.cases.iter().skip((n - 1) * per).take(per).map(|c| c.case.slug.clone()).collect()
        };
        let now = slice(ns);
        if now != slice(os) || now.iter().any(|s| changed_cards.contains(s)) {
            second.push(Job::Cases(n));
        }
    }
    // Terms: their case lists, the cards in them, and for organizations the profile.
    let matrix_changed = old.shared.matrix_counts != new.shared.matrix_counts;
    for kind in Kind::ALL {
        let (ot, nt) = (os.taxonomy(kind), ns.taxonomy(kind));
        let mut any = ot.terms.len() != nt.terms.len();
        let mut dirty_slugs = Vec::new();
        for (t, term) in nt.terms.iter().enumerate() {
            let dirty = match ot.get(&term.slug) {
                None => true,
                Some(o) => {
                    let old_term = &ot.terms[o];
                    old_term.name != term.name
                        || case_slugs(os, &old_term.cases) != case_slugs(ns, &term.cases)
                        || term.cases.iter().any(|&i| changed_cards.contains(&ns.cases[i].case.slug))
                        || (kind == Kind::Organizations && org_changed(os, o, ns, t))
                        || (kind == Kind::Tactics && matrix_changed)
                }
            };
            if dirty {
                any = true;
                dirty_slugs.push(term.slug.clone());
                if views::shown(ns, kind, t) {
                    second.push(Job::Term(kind, t));
                }
            }
        }
        if kind == Kind::Techniques {
            // A technique's page counts the cases of its sub-techniques.
            for (t, term) in nt.terms.iter().enumerate() {
                let prefix = format!("{}.", term.slug);
                if dirty_slugs.iter().any(|s| s.starts_with(&prefix)) && views::shown(ns, kind, t) {
                    second.push(Job::Term(kind, t));
                }
            }
        }
        if any {
            if kind == Kind::Techniques {
                second.extend([Job::Matrix(false), Job::Matrix(true)]);
            } else {
                second.push(Job::TermIndex(kind));
            }
        }
    }
    if matrix_changed {
        second.extend([Job::Matrix(false), Job::Matrix(true)]);
    }
    // The timeline and statistics show every case: any change to one redraws them.
    if case_dirty.iter().any(|&d| d) || !changed_cards.is_empty() || ns.cases.len() != os.cases.len() {
        second.extend(render::timeline_jobs(ns));
        second.push(Job::Statistics);
    }
    for (i, p) in ns.pages.iter().enumerate() {
        let same = os
            .pages
            .iter()
            .any(|o| o.url == p.url && o.page.file.text == p.page.file.text && o.body_html == p.body_html);
        if !same {
            first.push(Job::Page(i));
        }
    }
    let removed: Vec<String> = old
        .jobs
        .keys()
        .filter(|u| !new.jobs.contains_key(*u))
        .map(|u| urls::output_path(u))
        .chain(old.assets.keys().filter(|k| !new.assets.contains_key(*k)).cloned())
        .collect();
    let assets_changed =
        old.assets.len() != new.assets.len() || new.assets.iter().any(|(k, v)| old.assets.get(k) != Some(v));
    (first, second, removed, assets_changed)
}

fn org_changed(os: &Site, o: usize, ns: &Site, t: usize) -> bool {
    let (a, b) = (&os.orgs[o], &ns.orgs[t]);
    let text = |i: &resolve::OrgInfo| i.profile.as_ref().map(|p| p.file.text.clone());
    let slug = |s: &Site, i: usize| s.taxonomy(Kind::Organizations).terms[i].slug.clone();
    text(a) != text(b)
        || a.body_html != b.body_html
        || a.parent.map(|p| slug(os, p)) != b.parent.map(|p| slug(ns, p))
        || a.children.iter().map(|&c| slug(os, c)).collect::<Vec<_>>()
            != b.children.iter().map(|&c| slug(ns, c)).collect::<Vec<_>>()
}
