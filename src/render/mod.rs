//! Render: the resolved site through Tera templates, every page in parallel.
//!
//! Pages are listed first as [`Job`]s (URL + template + what to show), then rendered
//! with rayon; the output is a list of files in a fixed order, so two builds of the
//! same input give the same bytes.

pub mod charts;
pub mod check;
mod declared;
pub mod defang;
pub mod exports;
pub mod filters;
pub mod i18n;
mod inputs;
pub mod search;
pub mod sitemap;
pub mod views;

use inputs::Ctx;
pub use inputs::{of_bytes, Chunk, Fingerprint, Made, Memo};

use rayon::prelude::*;
use serde_json::{json, Value};
use tera::{Context, Tera};

use crate::diagnostics::Diagnostic;
use crate::load::Template;
use crate::resolve::Site;
use crate::urls::{self, Kind};
use rustc_hash::FxHashSet;

/// A file of the built site.
#[derive(Debug, Clone)]
pub struct OutputFile {
    /// Relative to the output root, `/`-separated.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// One page to render.
#[derive(Debug, Clone)]
pub enum Job {
    Home,
    Cases(usize),
    Case(usize),
    TermIndex(Kind),
    Term(Kind, usize),
    /// The ATT&CK matrix; `true`: confirmed and likely uses only.
    Matrix(bool),
    /// The year index of the timeline.
    Timeline,
    /// The timeline of one year.
    TimelineYear(i16),
    Statistics,
    Page(usize),
    NotFound,
}

/// Templates compiled once, with the theme's filters.
pub fn compile(templates: &[Template]) -> Result<Tera, Vec<Diagnostic>> {
    let mut tera = Tera::default();
    let raw: Vec<(&str, &str)> =
        templates.iter().filter(|t| !t.name.starts_with("i18n:")).map(|t| (t.name.as_str(), t.file.text())).collect();
    if let Err(e) = tera.add_raw_templates(raw) {
        let (file, message) = tera_error(&e, templates);
        let hint = "fix the template; Tera's syntax is at https://keats.github.io/tera/docs/";
        let placed = file.and_then(|f| Some((f, syntax_error(&message, f.file.text())?)));
        return Err(vec![match (file, placed) {
            (_, Some((f, (at, message)))) => Diagnostic::error("template-invalid", message).at(&f.file, at).hint(hint),
            (Some(f), None) => Diagnostic::error("template-invalid", message).in_file(&f.file).hint(hint),
            (None, None) => Diagnostic::error("template-invalid", message).hint(hint),
        }]);
    }
    // `&<>"'` only: Tera's default also escapes `/`, which makes URLs unreadable.
    tera.set_escape_fn(crate::html::escape);
    tera.register_filter("number", filters::number);
    tera.register_filter("confidence_label", filters::confidence_label);
    i18n::register(&mut tera, i18n::Strings::load(templates)?);
    let missing: Vec<Diagnostic> = REQUIRED
        .iter()
        .filter(|name| !has_template(&tera, name))
        .map(|name| {
            Diagnostic::error("template-missing", format!("the theme has no template {name}"))
                .in_path(format!("templates/{name}"))
        })
        .collect();
    if missing.is_empty() {
        Ok(tera)
    } else {
        Err(missing)
    }
}

/// Every template a site needs, one per page type.
pub const REQUIRED: &[&str] = &[
    "index.html",
    "cases.html",
    "case.html",
    "organization.html",
    "terms.html",
    "term.html",
    "techniques.html",
    "technique.html",
    "timeline.html",
    "statistics.html",
    "tactic.html",
    "page.html",
    "404.html",
    "atom.xml",
    "sitemap.xml",
    "robots.txt",
];

/// Tera's message, with the chain of causes, and the template it is about.
fn tera_error<'a>(e: &tera::Error, templates: &'a [Template]) -> (Option<&'a Template>, String) {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    let file = templates.iter().find(|t| message.contains(&format!("'{}'", t.name)));
    (file, message.replace('\n', " "))
}

/// A template's syntax error as pest words it (`--> 3:9`, the line drawn, `= expected
/// ...`): where it is in the template's text, and what it says, on one line.
fn syntax_error(message: &str, text: &str) -> Option<(std::ops::Range<usize>, String)> {
    let (head, rest) = message.split_once("-->")?;
    let (line, col) = rest.split_whitespace().next()?.split_once(':')?;
    let (line, col): (usize, usize) = (line.parse().ok()?, col.parse().ok()?);
    let start: usize = text.split_inclusive('\n').take(line.checked_sub(1)?).map(str::len).sum();
    let in_line = text[start..].lines().next().unwrap_or("");
    let at = start + in_line.char_indices().nth(col.saturating_sub(1)).map_or(in_line.len(), |(i, _)| i);
    let head = head.trim_end().trim_end_matches(':');
    Some((at..at, rest.rsplit_once("= ").map_or(head.to_string(), |(_, why)| format!("{head}: {}", why.trim()))))
}

/// Incidents, each once: a translation is not another case.
fn counted_count(site: &Site) -> usize {
    site.cases.iter().filter(|c| c.counted).count()
}

/// The timeline's index and its pages per year, newest first.
fn timeline_jobs(site: &Site) -> Vec<Job> {
    std::iter::once(Job::Timeline).chain(charts::years(site).into_iter().rev().map(Job::TimelineYear)).collect()
}

/// Every page of the site, in output order.
pub fn jobs(site: &Site) -> Vec<Job> {
    let mut jobs = vec![Job::Home];
    let per_page = site.config.pagination.per_page.max(1);
    let pages = counted_count(site).div_ceil(per_page).max(1);
    jobs.extend((1..=pages).map(Job::Cases));
    jobs.extend((0..site.cases.len()).map(Job::Case));
    for kind in Kind::ALL {
        if kind == Kind::Techniques {
            jobs.push(Job::Matrix(false));
            jobs.push(Job::Matrix(true));
        } else {
            jobs.push(Job::TermIndex(kind));
        }
        let tax = site.taxonomy(kind);
        jobs.extend((0..tax.terms.len()).filter(|&t| views::shown(site, kind, t)).map(|t| Job::Term(kind, t)));
    }
    jobs.extend(timeline_jobs(site));
    jobs.push(Job::Statistics);
    jobs.extend((0..site.pages.len()).map(Job::Page));
    jobs.push(Job::NotFound);
    jobs
}

impl Job {
    /// How many cases the page lists: what its time to render grows with.
    fn rows(&self, site: &Site) -> usize {
        match *self {
            Job::Term(kind, t) => site.taxonomy(kind).terms[t].cases.len(),
            Job::TimelineYear(_) | Job::Statistics | Job::Matrix(_) | Job::TermIndex(_) | Job::Home => site.cases.len(),
            Job::Cases(_) => site.config.pagination.per_page,
            Job::Case(_) | Job::Timeline | Job::Page(_) | Job::NotFound => 1,
        }
    }

    pub fn url(&self, site: &Site) -> String {
        match *self {
            Job::Home => urls::home(),
            Job::Cases(n) => urls::cases_page(n),
            Job::Case(i) => site.cases[i].url.clone(),
            Job::TermIndex(kind) => urls::term_index(kind),
            Job::Term(kind, t) => urls::term(kind, &site.taxonomy(kind).terms[t].slug),
            Job::Matrix(false) => urls::term_index(Kind::Techniques),
            Job::Matrix(true) => urls::matrix_confirmed(),
            Job::Timeline => urls::timeline(),
            Job::TimelineYear(y) => urls::timeline_year(y),
            Job::Statistics => urls::statistics(),
            Job::Page(i) => site.pages[i].url.clone(),
            Job::NotFound => "404.html".to_string(),
        }
    }
}

/// Where the render's time went, for `build --timings`: for pages, thread time summed
/// over the workers (so it adds up to more than the wall time on several cores); for
/// the parts after the pages (feed, exports, search), which run one after the other,
/// each parallel inside, the wall time of each.
#[derive(Debug, Default)]
pub struct Profile {
    parts: [std::sync::atomic::AtomicU64; Profile::NAMES.len()],
}

impl Profile {
    pub const NAMES: [&'static str; 9] = [
        "shared data and cards",
        "case pages",
        "organization pages",
        "technique and tactic pages",
        "other term pages",
        "lists, matrix, timeline, statistics, pages",
        "feed and sitemap",
        "exports (JSON, Navigator, STIX)",
        "search index",
    ];

    const SHARED: usize = 0;
    const FEEDS: usize = 6;
    const EXPORTS: usize = 7;
    const SEARCH: usize = 8;

    /// The time spent on the data every page shares, since `since`.
    pub fn add_shared(&self, since: std::time::Instant) {
        self.add(Self::SHARED, since)
    }

    fn add(&self, part: usize, since: std::time::Instant) {
        let micros = since.elapsed().as_micros() as u64;
        self.parts[part].fetch_add(micros, std::sync::atomic::Ordering::Relaxed);
    }

    /// `(part, milliseconds)`, in [`Profile::NAMES`] order.
    pub fn parts(&self) -> Vec<(&'static str, u128)> {
        Self::NAMES
            .iter()
            .zip(&self.parts)
            .map(|(n, v)| (*n, u128::from(v.load(std::sync::atomic::Ordering::Relaxed) / 1000)))
            .collect()
    }

    fn part_of(job: &Job) -> usize {
        match job {
            Job::Case(_) => 1,
            Job::Term(Kind::Organizations, _) => 2,
            Job::Term(Kind::Techniques | Kind::Tactics, _) => 3,
            Job::Term(..) => 4,
            _ => 5,
        }
    }
}

/// Data shared by every page: computed once per build.
pub struct Shared<'a> {
    pub site: Value,
    cards: Cards<'a>,
    /// Page templates that are the built-in theme's own (with their parents and macro
    /// files): they read `cards_html` only, so they get no `cases` cards.
    pub lean: std::collections::BTreeSet<&'static str>,
    /// The interface strings, and the warnings of what shows in English instead.
    pub strings: std::sync::Arc<i18n::Strings>,
    pub strings_warnings: Vec<Diagnostic>,
    pub matrix_counts: std::collections::BTreeMap<(String, String), usize>,
    /// As `matrix_counts`, confirmed and likely uses only.
    pub matrix_counts_confirmed: std::collections::BTreeMap<(String, String), usize>,
    /// What pages declare they read (see [`declared`]).
    inputs: declared::Inputs,
}

/// Each case's card, made the first time a page needs it: after an edit most pages
/// are kept, and so the cards only they show are never made.
struct Cards<'a> {
    full: Vec<std::sync::OnceLock<Value>>,
    /// Only what the built-in `technique.html` and `tactic.html` read of a card.
    slim: Vec<std::sync::OnceLock<Value>>,
    /// As HTML through `card.html` at [`CARD_ROOT`] in the site's language: `[h=2, h=3]`,
    /// each read once a run, however many lists show it.
    html: Vec<[std::sync::OnceLock<bytes::Bytes>; 2]>,
    /// Whether the theme has a `card.html`.
    has_html: bool,
    /// Where each card's HTML is kept between runs: a piece by what the card is drawn from.
    memo: &'a dyn Memo,
    /// Errors of rendering `card.html`, each once.
    errors: std::sync::Mutex<Vec<Diagnostic>>,
}

impl Shared<'_> {
    /// Case `i`'s card, in the site's language.
    fn card(&self, site: &Site, i: usize) -> &Value {
        self.cards.full[i].get_or_init(|| i18n::with(&self.strings, &site.config.language, || views::card(site, i)))
    }

    fn slim_card(&self, site: &Site, i: usize) -> &Value {
        self.cards.slim[i].get_or_init(|| slim_card(self.card(site, i)))
    }

    /// Case `i`'s card as HTML (`k`: 0 for h=2, 1 for h=3) at [`CARD_ROOT`] in the site's
    /// language; empty when `card.html` failed (the error is reported once, not per list).
    fn card_html(&self, site: &Site, tera: &Tera, i: usize, k: usize) -> &bytes::Bytes {
        let (h, lang) = (2 + k as u8, site.config.language.as_str());
        // Noted by every page that shows it, though drawn (or read) once a run.
        let key = self.card_key(i, CARD_ROOT, h, lang);
        drawn_from(key);
        self.cards.html[i][k].get_or_init(|| {
            self.card_piece(site, tera, i, key, CARD_ROOT, h, lang).unwrap_or_else(|d| {
                let mut errors = self.cards.errors.lock().unwrap_or_else(|e| e.into_inner());
                if !errors.iter().any(|e| e.message == d.message) {
                    errors.push(d);
                }
                bytes::Bytes::new()
            })
        })
    }

    /// What case `i`'s card drawn at `root` in `lang` with heading level `h` reads.
    fn card_key(&self, i: usize, root: &str, h: u8, lang: &str) -> Fingerprint {
        let at = of_bytes(format!("{root}\0{lang}\0{h}").as_bytes());
        exports::declare("card", [self.inputs.card_key(i), at])
    }

    /// Case `i`'s card drawn by `card.html`: a piece by what it is drawn from (`key`).
    #[allow(clippy::too_many_arguments)]
    fn card_piece(
        &self,
        site: &Site,
        tera: &Tera,
        i: usize,
        key: Fingerprint,
        root: &str,
        h: u8,
        lang: &str,
    ) -> Result<bytes::Bytes, Diagnostic> {
        fallible_piece(self.cards.memo, key, || {
            i18n::with(&self.strings, lang, || card_html(tera, &self.site, self.card(site, i), root, h, lang))
                .map(String::into_bytes)
        })
    }

    /// Errors of rendering `card.html`.
    pub fn card_errors(&self) -> Vec<Diagnostic> {
        self.cards.errors.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The root prefix cards are rendered at once: every term and case page is two folders deep.
pub const CARD_ROOT: &str = "../../";

/// Names of the templates whose text is the built-in theme's, byte for byte.
pub fn builtin_names<'a>(
    templates: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> std::collections::BTreeSet<String> {
    templates
        .into_iter()
        .filter(|(name, text)| crate::load::builtin_template(name) == Some(text.as_bytes()))
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Whether `name`, its parents and its macro files are all built-in.
fn is_lean(tera: &Tera, builtin: &std::collections::BTreeSet<String>, name: &str) -> bool {
    let Ok(t) = tera.get_template(name) else {
        return false;
    };
    builtin.contains(name)
        && t.parents.iter().all(|p| builtin.contains(p))
        && t.imported_macro_files.iter().all(|(f, _)| builtin.contains(f))
}

/// One card through `card.html`.
fn card_html(tera: &Tera, site: &Value, card: &Value, root: &str, h: u8, lang: &str) -> Result<String, Diagnostic> {
    let mut ctx = Context::new();
    ctx.insert("site", site);
    ctx.insert("c", card);
    ctx.insert("root", root);
    ctx.insert("h", &h);
    ctx.insert("lang", lang);
    run(tera, "card.html", &ctx, "card.html").map(|f| String::from_utf8(f.bytes).unwrap_or_default())
}

/// Cards of `cases` as HTML: the ones rendered once when root and language match
/// (spliced into the page, see [`as_html`]), else rendered here. Empty when the theme
/// has no `card.html`.
#[allow(clippy::too_many_arguments)]
fn cards_html(
    site: &Site,
    tera: &Tera,
    shared: &Shared,
    cases: &[usize],
    root: &str,
    h: u8,
    lang: &str,
    site_lang: &str,
) -> Result<Vec<String>, Diagnostic> {
    if !shared.cards.has_html {
        return Ok(Vec::new());
    }
    if root == CARD_ROOT && lang == site_lang {
        let k = usize::from(h != 2);
        return Ok(cases.iter().map(|&i| as_html(shared.card_html(site, tera, i, k).clone())).collect());
    }
    // Elsewhere (another depth or language): a piece for each, kept like the others.
    cases
        .iter()
        .map(|&i| {
            let key = shared.card_key(i, root, h, lang);
            drawn_from(key);
            shared.card_piece(site, tera, i, key, root, h, lang).map(as_html)
        })
        .collect()
}

/// `card` with only the fields `keep`.
fn pick(card: &Value, keep: &[&str]) -> Value {
    let mut m = serde_json::Map::new();
    for &k in keep {
        if let Some(v) = card.get(k) {
            m.insert(k.to_string(), v.clone());
        }
    }
    Value::Object(m)
}

fn slim_card(card: &Value) -> Value {
    pick(card, &["url", "title", "lang", "tlp", "happened_display"])
}

/// Each card's HTML by the fingerprint of what it is drawn from (the case and its
/// translations, the site, the templates), so a card that did not change is not drawn again.
/// The data every page shares. The card HTML is a piece of the memo: the last build's,
/// where the card, the site and the templates are as they were.
pub fn shared<'a>(
    site: &Site,
    tera: &Tera,
    builtin: &std::collections::BTreeSet<String>,
    memo: &'a dyn Memo,
) -> Shared<'a> {
    let strings = i18n::of(tera);
    // What is made once for every page speaks the site's language.
    i18n::with(&strings, &site.config.language, || shared_in(site, tera, builtin, memo, strings.clone()))
}

fn shared_in<'a>(
    site: &Site,
    tera: &Tera,
    builtin: &std::collections::BTreeSet<String>,
    memo: &'a dyn Memo,
    strings: std::sync::Arc<i18n::Strings>,
) -> Shared<'a> {
    let languages: std::collections::BTreeSet<String> = std::iter::once(site.config.language.clone())
        .chain(site.cases.iter().filter_map(|c| c.case.lang.clone()))
        .chain(site.pages.iter().filter_map(|p| p.page.lang.clone()))
        .collect();
    let strings_warnings = strings.check(&languages);
    // `key`: templates show the title in the page's language.
    let nav_item = |url: String, key: &str| json!({"url": url, "key": key, "title": i18n::tr(key)});
    // Six entries at most, one row on a laptop: the other indexes and the free pages
    // are in the footer (`taxonomies`, `pages`).
    let nav = vec![
        nav_item(urls::cases_page(1), "nav.cases"),
        nav_item(urls::term_index(Kind::Organizations), "nav.organizations"),
        nav_item(urls::term_index(Kind::Techniques), "nav.attack"),
        nav_item(urls::timeline(), "nav.timeline"),
        nav_item(urls::statistics(), "nav.statistics"),
        nav_item(urls::search(), "nav.search"),
    ];
    let pages: Vec<Value> = site.pages.iter().map(|p| json!({"url": p.url, "title": p.page.title})).collect();
    // What a page shows of every taxonomy; their counts are the home page's alone.
    let taxonomies: Vec<Value> = taxonomy_counts(site)
        .into_iter()
        .map(|mut v| {
            if let Value::Object(m) = &mut v {
                m.remove("count");
            }
            v
        })
        .collect();
    let c = &site.config;
    let site_value = json!({
            "title": c.title,
            "description": c.description,
            "base_url": c.base_url,
            "language": c.language,
            "attribution": crate::attack::ATTRIBUTION,
            "attack_version": site.catalog.version,
            "nav": nav,
            "pages": pages,
            "taxonomies": taxonomies,
    });
    let lean =
        ["cases.html", "term.html", "organization.html", "case.html", "technique.html", "tactic.html", "timeline.html"]
            .into_iter()
            .filter(|n| is_lean(tera, builtin, n))
            .collect();
    let [matrix_counts, matrix_counts_confirmed] = views::matrix_counts(site);
    let inputs = declared::Inputs::new(site, memo.templates(), &site_value, [&matrix_counts, &matrix_counts_confirmed]);
    let n = site.cases.len();
    fn lazy<T>(n: usize) -> Vec<std::sync::OnceLock<T>> {
        (0..n).map(|_| std::sync::OnceLock::new()).collect()
    }
    Shared {
        site: site_value,
        cards: Cards {
            full: lazy(n),
            slim: lazy(n),
            html: (0..n).map(|_| Default::default()).collect(),
            has_html: has_template(tera, "card.html"),
            memo,
            errors: std::sync::Mutex::default(),
        },
        lean,
        strings,
        strings_warnings,
        matrix_counts,
        matrix_counts_confirmed,
        inputs,
    }
}

/// Every taxonomy with at least one term that gets a page: `{key, title, url, count}`.
fn taxonomy_counts(site: &Site) -> Vec<Value> {
    Kind::ALL
        .iter()
        .map(|&k| {
            let count = views::shown_count(site, k);
            json!({"key": k.key(), "title": views::taxonomy_title(k), "url": urls::term_index(k), "count": count})
        })
        .filter(|v| v["count"].as_u64() > Some(0))
        .collect()
}

/// Where a streaming render puts what it makes: whole files, and the few files too big
/// to hold whole (hundreds of megabytes at 100,000 cases), piece by piece.
pub struct Sinks<'a> {
    /// Pages and exports, made anew or known to be as they were (see [`Memo`]).
    pub page: &'a (dyn Fn(Made) -> Result<(), Diagnostic> + Sync),
    pub file: &'a (dyn Fn(OutputFile) -> Result<(), Diagnostic> + Sync),
    pub stream: StreamSink<'a>,
    pub memo: &'a dyn Memo,
    /// Pages to make before all the others, and what to call once they are made.
    pub first: Option<First<'a>>,
}

/// The pages a writer is looking at (`serve`): made first, so they can be shown before
/// the rest of the run is done.
pub struct First<'a> {
    /// Output paths (`cases/x/index.html`); those that are no page of the site are ignored.
    pub paths: &'a [String],
    /// Called once those pages are made, with whether an output path is a page of this run.
    pub made: &'a (dyn Fn(&IsPage) + Sync),
}

/// Whether an output path (`cases/x/index.html`) is a page of this run.
pub type IsPage<'a> = dyn Fn(&str) -> bool + 'a;

/// Takes a file's path, the fingerprint of its inputs and its pieces, in order.
pub type StreamSink<'a> =
    &'a (dyn Fn(&str, Fingerprint, &mut dyn Iterator<Item = Chunk>) -> Result<(), Diagnostic> + Sync);

fn page_meta(site: &Site, url: &str, kind: &str, title: &str, description: Option<&str>, lang: Option<&str>) -> Value {
    json!({
        "url": url,
        "permalink": urls::permalink(&site.config.base_url, url),
        "title": title,
        "description": description.unwrap_or(&site.config.description),
        "lang": lang.unwrap_or(&site.config.language),
        "kind": kind,
    })
}

fn render_job(site: &Site, tera: &Tera, shared: &Shared, job: &Job, memo: &dyn Memo) -> Result<Made, Diagnostic> {
    // The page's language: a case's or a free page's own, else the site's.
    let lang = match *job {
        Job::Case(i) => site.cases[i].case.lang.as_deref(),
        Job::Page(i) => site.pages[i].page.lang.as_deref(),
        _ => None,
    };
    i18n::with(&shared.strings, lang.unwrap_or(&site.config.language), || render_page(site, tera, shared, job, memo))
}

/// The cases the home page shows as cards: the ten latest.
fn latest<'s>(site: &'s Site) -> impl Iterator<Item = usize> + 's {
    (0..site.cases.len()).filter(|&i| site.cases[i].counted).take(10)
}

/// What the home page says of techniques.
#[derive(Debug, PartialEq)]
struct HomeTechniques<'s> {
    /// How many techniques the cases name (not the parents of named sub-techniques).
    named: usize,
    /// The ten most used by confirmed or likely mappings only (what the labels say):
    /// count, id, name.
    top: Vec<(usize, &'s str, &'s str)>,
}

fn home_techniques<'s>(site: &'s Site) -> HomeTechniques<'s> {
    let terms = &site.taxonomy(Kind::Techniques).terms;
    let mut top: Vec<(usize, &str, &str)> = site
        .matrix
        .named
        .iter()
        .filter(|n| n.firm_cases > 0)
        .map(|n| (n.firm_cases, terms[n.technique].slug.as_str(), terms[n.technique].name.as_str()))
        .collect();
    top.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    top.truncate(10);
    HomeTechniques { named: site.matrix.named.len(), top }
}

fn render_page(site: &Site, tera: &Tera, shared: &Shared, job: &Job, memo: &dyn Memo) -> Result<Made, Diagnostic> {
    let url = job.url(site);
    let fingerprint = declared::declared(site, &shared.inputs, job);
    page(tera, memo, fingerprint, &url, &|| view(site, tera, shared, job, &url, memo))
}

/// What a page's template is given, and which template.
fn view(
    site: &Site,
    tera: &Tera,
    shared: &Shared,
    job: &Job,
    url: &str,
    memo: &dyn Memo,
) -> Result<(&'static str, Ctx), Diagnostic> {
    let url = url.to_string();
    let mut ctx = Ctx::new();
    ctx.put("site", shared.site.clone());
    ctx.insert("root", &urls::root_prefix(&url));
    let template = match *job {
        Job::Home => {
            let HomeTechniques { named, top } = home_techniques(site);
            ctx.insert("page", &page_meta(site, &url, "home", &site.config.title, None, None));
            // One card per incident: translations show as "also in" on their card.
            let latest: Vec<&Value> = latest(site).map(|i| shared.card(site, i)).collect();
            ctx.insert("latest", &latest);
            let count = |k: Kind| views::shown_count(site, k);
            ctx.insert(
                "counts",
                &json!({
                    "cases": counted_count(site),
                    "organizations": count(Kind::Organizations),
                    "techniques": named,
                    "sectors": count(Kind::Sectors),
                    "countries": count(Kind::Countries),
                }),
            );
            ctx.put("taxonomies", taxonomy_counts(site).into());
            ctx.insert(
                "top_techniques",
                &top.iter()
                    .map(|(n, id, name)| json!({"id": id, "name": name, "url": urls::term(Kind::Techniques, id), "count": n}))
                    .collect::<Vec<_>>(),
            );
            "index.html"
        }
        Job::Cases(n) => {
            let per = site.config.pagination.per_page.max(1);
            let total = counted_count(site).div_ceil(per).max(1);
            let title =
                if n > 1 { i18n::trf("cases.title_page", &[("n", n.to_string())]) } else { i18n::tr("cases.title") };
            ctx.insert("page", &page_meta(site, &url, "cases", &title, None, None));
            // One card per incident: its translations show as links on it.
            // Cards are made when first asked for: skip the other pages' before asking.
            let counted = (0..site.cases.len()).filter(|&i| site.cases[i].counted);
            let cases: Vec<usize> = counted.skip((n - 1) * per).take(per).collect();
            insert_cards(&mut ctx, site, tera, shared, "cases.html", &cases, &url, 2)?;
            ctx.insert(
                "pagination",
                &json!({
                    "current": n,
                    "total": total,
                    "prev_url": (n > 1).then(|| urls::cases_page(n - 1)),
                    "next_url": (n < total).then(|| urls::cases_page(n + 1)),
                    "pages": views::page_links(n, total, urls::cases_page),
                }),
            );
            "cases.html"
        }
        Job::Case(i) => {
            let c = &site.cases[i].case;
            ctx.insert("page", &page_meta(site, &url, "case", &c.title, c.summary.as_deref(), c.lang.as_deref()));
            let root = urls::root_prefix(&url);
            let lang = c.lang.as_deref().unwrap_or(&site.config.language);
            let related = &site.cases[i].related;
            let html = cards_html(site, tera, shared, related, &root, 3, lang, &site.config.language)?;
            let lean = shared.lean.contains("case.html") && shared.cards.has_html;
            ctx.put("case", views::case_page(site, i, &|j| shared.card(site, j), !lean, &html));
            ctx.put("charts", charts::case_charts(site, i));
            "case.html"
        }
        Job::TermIndex(kind) => {
            ctx.insert("page", &page_meta(site, &url, "terms", &views::taxonomy_title(kind), None, None));
            ctx.insert("taxonomy", &views::taxonomy(kind));
            ctx.put("terms", views::terms(site, kind).into());
            "terms.html"
        }
        Job::Matrix(confirmed) => {
            let counts = if confirmed { &shared.matrix_counts_confirmed } else { &shared.matrix_counts };
            let columns: Vec<Value> = site
                .catalog
                .tactics
                .iter()
                .map(|t| {
                    json!({
                        // A tactic no case uses has no page here: its column links to MITRE.
                        "tactic": {"id": t.id, "shortname": t.shortname, "name": t.name, "url": match site.taxonomy(Kind::Tactics).get(&t.shortname) {
                            Some(_) => urls::term(Kind::Tactics, &t.shortname),
                            None => t.url.clone(),
                        }},
                        "techniques": views::tactic_techniques(site, &t.shortname, counts),
                    })
                })
                .collect();
            let title = i18n::tr(if confirmed { "matrix.title_confirmed" } else { "matrix.title" });
            ctx.insert("page", &page_meta(site, &url, "techniques", &title, None, None));
            ctx.insert("taxonomy", &views::taxonomy(Kind::Techniques));
            ctx.insert(
                "matrix",
                &json!({
                    "columns": columns,
                    "view": if confirmed { "confirmed" } else { "all" },
                    "filters": [
                        {"key": "all", "title": i18n::tr("matrix.filter_all"), "url": urls::term_index(Kind::Techniques)},
                        {"key": "confirmed", "title": i18n::tr("matrix.filter_confirmed"), "url": urls::matrix_confirmed()},
                    ],
                    "legend": charts::heat_legend(counts),
                }),
            );
            "techniques.html"
        }
        Job::Timeline => {
            // The index: years with their counts; each year's rows are on its own page.
            ctx.insert("page", &page_meta(site, &url, "timeline", &i18n::tr("timeline.title"), None, None));
            ctx.put("timeline", charts::timeline_index(site));
            "timeline.html"
        }
        Job::TimelineYear(year) => {
            let title = i18n::trf("timeline.title_year", &[("year", year.to_string())]);
            ctx.insert("page", &page_meta(site, &url, "timeline", &title, None, None));
            // One row per case. The built-in template reads a few fields of each card,
            // and its rows come made by `timeline-row.html`, one at a time.
            const ROW: &str = "timeline-row.html";
            let lean = shared.lean.contains("timeline.html") && has_template(tera, ROW);
            let card = |i: usize| {
                let keep = ["slug", "url", "lang", "title", "translations", "date", "happened_display"];
                if lean {
                    pick(shared.card(site, i), &keep)
                } else {
                    shared.card(site, i).clone()
                }
            };
            let row_html = |i: usize, axis: (i32, i32), row: &dyn Fn() -> Value| {
                row_piece(site, tera, shared, memo, &url, (ROW, "r"), (i, &format!("{axis:?}")), row)
            };
            let mut timeline = charts::timeline(site, &card, lean.then_some(&row_html as charts::RowHtml), year)?;
            timeline["index"] = charts::timeline_years(site);
            timeline["year"] = json!(year);
            ctx.put("timeline", timeline);
            "timeline.html"
        }
        Job::Statistics => {
            ctx.insert("page", &page_meta(site, &url, "statistics", &i18n::tr("statistics.title"), None, None));
            ctx.put("stats", charts::statistics(site, &shared.matrix_counts));
            "statistics.html"
        }
        Job::Term(kind, t) => return render_term(site, tera, shared, ctx, &url, kind, t, memo),
        Job::Page(i) => {
            let p = &site.pages[i];
            ctx.insert(
                "page",
                &page_meta(site, &url, "page", &p.page.title, p.page.description.as_deref(), p.page.lang.as_deref()),
            );
            ctx.insert("body", &p.body_html);
            "page.html"
        }
        Job::NotFound => {
            // Served at any depth, so links must be absolute from the site's base path.
            let base_path = site.config.base_url.splitn(4, '/').nth(3).unwrap_or("");
            let root =
                if base_path.is_empty() { "/".to_string() } else { format!("/{}/", base_path.trim_matches('/')) };
            ctx.insert("root", &root);
            ctx.insert("page", &page_meta(site, &url, "404", &i18n::tr("notfound.title"), None, None));
            "404.html"
        }
    };
    Ok((template, ctx))
}

#[allow(clippy::too_many_arguments)]
fn render_term(
    site: &Site,
    tera: &Tera,
    shared: &Shared,
    mut ctx: Ctx,
    url: &str,
    kind: Kind,
    t: usize,
    memo: &dyn Memo,
) -> Result<(&'static str, Ctx), Diagnostic> {
    let term = &site.taxonomy(kind).terms[t];
    let catalog = site.catalog;
    ctx.insert("taxonomy", &views::taxonomy(kind));
    let template = match kind {
        Kind::Organizations => {
            let info = &site.orgs[t];
            let profile = info.profile.as_ref();
            let refs = |kind: Kind, list: Option<&Vec<crate::parse::case::Located>>| -> Vec<Value> {
                list.into_iter()
                    .flatten()
                    .map(|l| {
                        let slug = urls::term_slug(kind, &l.value);
                        let name = match kind {
                            Kind::Countries => i18n::term_name(
                                kind,
                                &slug,
                                crate::countries::country_name(&l.value).unwrap_or(&l.value),
                            ),
                            _ => l.value.clone(),
                        };
                        let linked = views::has_page(site, kind, &slug);
                        json!({"name": name, "url": if linked { Some(urls::term(kind, &slug)) } else { None }})
                    })
                    .collect()
            };
            // Cases in time order: oldest incident first.
            let mut cases = term.cases.clone();
            cases.reverse();
            ctx.insert("page", &page_meta(site, url, "organization", &term.name, None, None));
            ctx.insert(
                "org",
                &json!({
                    "name": term.name,
                    "url": url,
                    "aliases": profile.map(|p| p.aliases.iter().map(|a| a.value.clone()).collect::<Vec<_>>()).unwrap_or_default(),
                    "sectors": refs(Kind::Sectors, profile.map(|p| &p.sectors)),
                    "countries": refs(Kind::Countries, profile.map(|p| &p.countries)),
                    "website": profile.and_then(|p| p.website.clone()),
                    "parent": info.parent.map(|p| views::term_ref(site, Kind::Organizations, p)),
                    "children": info.children.iter().map(|&c| views::term_ref(site, Kind::Organizations, c)).collect::<Vec<_>>(),
                    "body": info.body_html,
                }),
            );
            insert_cards(&mut ctx, site, tera, shared, "organization.html", &cases, url, 3)?;
            ctx.put("charts", charts::org_charts(site, &term.slug, &cases));
            "organization.html"
        }
        Kind::Techniques => {
            let tech = catalog.technique(&term.slug);
            let slim = shared.lean.contains("technique.html");
            let tech_card = |i| if slim { shared.slim_card(site, i) } else { shared.card(site, i) };
            let use_of = |i: usize, u: &crate::parse::case::TechniqueUse, tactics: &[String]| {
                json!({
                    "case": tech_card(i),
                    "confidence": u.confidence.as_str(),
                    "evidence": u.evidence,
                    "tactics": tactics.iter().filter_map(|s| catalog.tactic(s)).map(|ta| json!({"name": ta.name, "url": urls::term(Kind::Tactics, &ta.shortname)})).collect::<Vec<_>>(),
                })
            };
            // (case, its use's place in its list) for each use of this technique.
            let found: Vec<(usize, usize)> = term
                .cases
                .iter()
                .flat_map(|&i| {
                    let c = &site.cases[i];
                    c.case
                        .techniques
                        .iter()
                        .enumerate()
                        .filter(|(_, u)| u.id.value == term.slug)
                        .map(move |(k, _)| (i, k))
                })
                .collect();
            // Each row drawn once by `technique-row.html`, and kept until its case changes.
            const ROW: &str = "technique-row.html";
            let rows_made = has_template(tera, ROW);
            if rows_made {
                let rows = found
                    .iter()
                    .map(|&(i, k)| {
                        let c = &site.cases[i];
                        let extra = format!("{}#{k}", term.slug);
                        row_piece(site, tera, shared, memo, url, (ROW, "u"), (i, &extra), &|| {
                            use_of(i, &c.case.techniques[k], &c.tactics[k])
                        })
                        .map(Value::String)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                ctx.put("uses_html", Value::Array(rows));
            }
            let used_subs: Vec<Value> = catalog
                .subtechniques(&term.slug)
                .into_iter()
                .filter_map(|s| {
                    let i = site.taxonomy(Kind::Techniques).get(&s.id)?;
                    Some(json!({"id": s.id, "name": s.name, "url": urls::term(Kind::Techniques, &s.id), "count": site.taxonomy(Kind::Techniques).terms[i].cases.len()}))
                })
                .collect();
            let tech_view = tech.map(|tech| {
                let (summary_html, citations) = views::attack_summary(&tech.summary);
                json!({
                    "summary_html": summary_html,
                    "citations": citations,
                    "id": tech.id,
                    "name": tech.name,
                    "url": url,
                    "mitre_url": tech.url,
                    "summary": strip_citations(&tech.summary),
                    "tactics": tech.tactics.iter().filter_map(|s| catalog.tactic(s)).map(|ta| {
                        let has_page = site.taxonomy(Kind::Tactics).get(&ta.shortname).is_some();
                        json!({"name": ta.name, "url": if has_page { urls::term(Kind::Tactics, &ta.shortname) } else { ta.url.clone() }})
                    }).collect::<Vec<_>>(),
                    "parent": tech.subtechnique_of.as_deref().and_then(|p| catalog.technique(p)).map(|p| {
                        let has_page = site.taxonomy(Kind::Techniques).get(&p.id).is_some();
                        json!({"id": p.id, "name": p.name, "url": if has_page { urls::term(Kind::Techniques, &p.id) } else { p.url.clone() }})
                    }),
                    "subtechniques": used_subs,
                    "platforms": tech.platforms,
                    "deprecated": tech.deprecated,
                    "groups": tech.used_by.iter().filter_map(|g| catalog.group(g)).map(|g| json!({"id": g.id, "name": g.name, "url": g.url})).collect::<Vec<_>>(),
                    "mitigations": tech.mitigations.iter().filter_map(|m| catalog.mitigation(m)).filter(|m| !m.deprecated && !m.revoked).map(|m| json!({"id": m.id, "name": m.name, "url": m.url})).collect::<Vec<_>>(),
                })
            });
            ctx.insert(
                "page",
                &page_meta(site, url, "technique", &format!("{}: {}", term.slug, term.name), None, None),
            );
            ctx.put("technique", tech_view.into());
            // The built-in template reads the rows only.
            if !shared.lean.contains("technique.html") || !rows_made {
                let uses: Vec<Value> = found
                    .iter()
                    .map(|&(i, k)| use_of(i, &site.cases[i].case.techniques[k], &site.cases[i].tactics[k]))
                    .collect();
                ctx.put("uses", uses.into());
            }
            "technique.html"
        }
        Kind::Tactics => {
            let tactic = catalog.tactic(&term.slug);
            let slim = shared.lean.contains("tactic.html");
            let tactic_card = |i| if slim { shared.slim_card(site, i) } else { shared.card(site, i) };
            // Each technique's cases under this tactic, with the confidence of the case's
            // first use of it here: one pass over the tactic's cases, not one per row.
            let mut uses: rustc_hash::FxHashMap<&str, Vec<(usize, &str)>> = Default::default();
            for &i in &term.cases {
                let c = &site.cases[i];
                for (u, ts) in c.case.techniques.iter().zip(&c.tactics) {
                    if ts.contains(&term.slug) {
                        let found = uses.entry(u.id.value.as_str()).or_default();
                        if found.last().is_none_or(|&(last, _)| last != i) {
                            found.push((i, u.confidence.as_str()));
                        }
                    }
                }
            }
            let techniques: Vec<Value> = views::tactic_techniques(site, &term.slug, &shared.matrix_counts)
                .into_iter()
                .flat_map(|mut parent| {
                    let subs = parent.get_mut("subtechniques").map(Value::take).unwrap_or_default();
                    let mut rows = Vec::new();
                    if parent["count"].as_u64() > Some(0) {
                        rows.push(parent);
                    }
                    rows.extend(subs.as_array().cloned().unwrap_or_default());
                    rows
                })
                .map(|mut row| -> Result<Value, Diagnostic> {
                    let id = row["id"].as_str().unwrap_or("").to_string();
                    // Each case with the confidence of its mapping.
                    let found: &[(usize, &str)] = uses.get(id.as_str()).map_or(&[], Vec::as_slice);
                    let card = |i: usize, confidence: &str| {
                        let mut card = tactic_card(i).clone();
                        card["confidence"] = json!(confidence);
                        card
                    };
                    // Each drawn once by `tactic-case.html`, and kept until its case changes.
                    const ROW: &str = "tactic-case.html";
                    let rows_made = has_template(tera, ROW);
                    if rows_made {
                        let extra = format!("{id}#{}", term.slug);
                        let html = found
                            .iter()
                            .map(|&(i, confidence)| {
                                row_piece(site, tera, shared, memo, url, (ROW, "c"), (i, &extra), &|| {
                                    card(i, confidence)
                                })
                                .map(Value::String)
                            })
                            .collect::<Result<Vec<_>, _>>()?;
                        row["cases_html"] = Value::Array(html);
                    }
                    // The built-in template reads `cases_html` only.
                    if !slim || !rows_made {
                        row["cases"] = found.iter().map(|&(i, confidence)| card(i, confidence)).collect();
                    }
                    Ok(row)
                })
                .collect::<Result<_, _>>()?;
            ctx.insert("page", &page_meta(site, url, "tactic", &term.name, None, None));
            ctx.insert(
                "tactic",
                &tactic.map(
                    |t| json!({"id": t.id, "shortname": t.shortname, "name": t.name, "url": url, "mitre_url": t.url}),
                ),
            );
            ctx.put("techniques", techniques.into());
            "tactic.html"
        }
        _ => {
            let name = i18n::term_name(kind, &term.slug, &term.name);
            ctx.insert(
                "page",
                &page_meta(site, url, "term", &format!("{}: {}", views::taxonomy_singular(kind), name), None, None),
            );
            // An actor ATT&CK knows (by group id, name or alias) links to its group.
            let group = (kind == Kind::Actors).then(|| catalog.group_of_actor(&term.name)).flatten();
            let attack_group = group.map(|g| json!({"id": g.id, "name": g.name, "url": g.url}));
            ctx.insert(
                "term",
                &json!({"name": name, "url": url, "count": term.cases.len(), "attack_group": attack_group}),
            );
            insert_cards(&mut ctx, site, tera, shared, "term.html", &term.cases, url, 2)?;
            "term.html"
        }
    };
    Ok((template, ctx))
}

/// `cards_html` of a list page, and `cases` (full cards) unless its template is the
/// built-in one, which reads `cards_html` only.
#[allow(clippy::too_many_arguments)]
fn insert_cards(
    ctx: &mut Ctx,
    site: &Site,
    tera: &Tera,
    shared: &Shared,
    template: &str,
    cases: &[usize],
    url: &str,
    h: u8,
) -> Result<(), Diagnostic> {
    let lang = &site.config.language;
    let html = cards_html(site, tera, shared, cases, &urls::root_prefix(url), h, lang, lang)?;
    ctx.put("cards_html", Value::Array(html.into_iter().map(Value::String).collect()));
    if !shared.lean.contains(template) || !shared.cards.has_html {
        ctx.put("cases", cases.iter().map(|&i| shared.card(site, i).clone()).collect::<Vec<_>>().into());
    }
    Ok(())
}

/// A page made by `view`, unless `fingerprint`, what the view declares it reads, is the
/// one it was last made from.
fn page(
    tera: &Tera,
    memo: &dyn Memo,
    fingerprint: Fingerprint,
    url: &str,
    view: &dyn Fn() -> Result<(&'static str, Ctx), Diagnostic>,
) -> Result<Made, Diagnostic> {
    let path = urls::output_path(url);
    if memo.unchanged(&path, fingerprint) {
        return Ok(Made::Same { path, fingerprint });
    }
    // A view runs on one thread from start to end (it starts no parallel work), so the
    // pieces it asks for are those this thread notes meanwhile. A piece missed here is
    // only drawn again by the run that next draws the page, never shown stale.
    DRAWN_FROM.with(|d| d.borrow_mut().clear());
    SPLICED.with(|s| *s.borrow_mut() = Some(Vec::new()));
    let viewed = view();
    let spliced = SPLICED.with(|s| s.borrow_mut().take()).unwrap_or_default();
    memo.made_from(&path, DRAWN_FROM.with(|d| std::mem::take(&mut *d.borrow_mut())));
    let (template, ctx) = viewed?;
    let f = run(tera, template, &ctx.ctx, url)?;
    if spliced.is_empty() {
        return Ok(Made::New { path: f.path, bytes: f.bytes, fingerprint });
    }
    let bytes = match splice(&f.bytes, &spliced) {
        Some(bytes) => bytes,
        // The template changed a mark (a filter other than `safe`): drawn again with the
        // pieces' text itself.
        None => {
            let (template, ctx) = view()?;
            run(tera, template, &ctx.ctx, url)?.bytes
        }
    };
    Ok(Made::New { path: f.path, bytes, fingerprint })
}

thread_local! {
    /// The pieces the page being drawn on this thread asked for (see [`page`]).
    static DRAWN_FROM: std::cell::RefCell<Vec<Fingerprint>> = const { std::cell::RefCell::new(Vec::new()) };
    /// While a page's view runs on this thread: the pieces it put in as marks, to be
    /// spliced into what the template made (see [`as_html`]).
    static SPLICED: std::cell::RefCell<Option<Vec<bytes::Bytes>>> = const { std::cell::RefCell::new(None) };
}

/// What a mark starts with: a control character, letters (a filter that changes case
/// changes the mark), then a number drawn for this process, which no text of the site
/// can know beforehand.
static MARK: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    use std::hash::{BuildHasher, Hasher as _};
    format!("\u{1}cb{:016x}", std::collections::hash_map::RandomState::new().build_hasher().finish())
});

/// A piece of HTML (a row of a long list) as a page's view puts it in the template's
/// context. While a page is drawn it is a short mark, and the piece's bytes are spliced
/// in for it after the template ran: the thousands of rows of a long page then go from
/// the cache to the page once, instead of being checked, copied into JSON values and
/// copied again through the template. Elsewhere, the text itself.
fn as_html(piece: bytes::Bytes) -> String {
    SPLICED.with(|s| match s.borrow_mut().as_mut() {
        Some(spliced) => {
            spliced.push(piece);
            format!("{}{}\u{2}", *MARK, spliced.len() - 1)
        }
        None => piece_text(&piece),
    })
}

/// `text` with each mark replaced by its piece; `None` unless every mark in it came out
/// whole (a filter may have changed one, which the caller then draws with the text). A
/// piece whose mark the template did not print is left out, as its text would have been:
/// a theme's own template may show `cases` instead of `cards_html`.
fn splice(text: &[u8], pieces: &[bytes::Bytes]) -> Option<Vec<u8>> {
    let mark = MARK.as_bytes();
    let mut out = Vec::with_capacity(text.len() + pieces.iter().map(bytes::Bytes::len).sum::<usize>());
    let mut marks = 0;
    let mut rest = text;
    while let Some(at) = memchr::memmem::find(rest, mark) {
        out.extend_from_slice(&rest[..at]);
        let after = &rest[at + mark.len()..];
        let end = memchr::memchr(2, after)?;
        let n: usize = std::str::from_utf8(&after[..end]).ok()?.parse().ok()?;
        out.extend_from_slice(pieces.get(n)?);
        marks += 1;
        rest = &after[end + 1..];
    }
    out.extend_from_slice(rest);
    // A mark cut short or changed leaves its first byte behind.
    (memchr::memchr_iter(1, text).count() == marks).then_some(out)
}

/// Notes that the page being drawn on this thread uses the piece `key`.
fn drawn_from(key: Fingerprint) {
    DRAWN_FROM.with(|d| d.borrow_mut().push(key));
}

/// The text of a piece Tera drew. `from_utf8` checks a word at a time, the lossy decoder
/// a byte at a time: the lossy path is only ever for a damaged piece.
fn piece_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Whether the theme has a template of this name.
fn has_template(tera: &Tera, name: &str) -> bool {
    tera.get_template_names().any(|n| n == name)
}

/// Case `i`'s row of a long list on the page at `url`, through `template`, which gets the
/// row as `name` with `root` and `lang` (the site's). A piece keyed by what the row
/// reads (the case's card, and `extra`), so after an edit a list of thousands of rows
/// draws one again.
#[allow(clippy::too_many_arguments)]
fn row_piece(
    site: &Site,
    tera: &Tera,
    shared: &Shared,
    memo: &dyn Memo,
    url: &str,
    (template, name): (&str, &str),
    (i, extra): (usize, &str),
    row: &dyn Fn() -> Value,
) -> Result<String, Diagnostic> {
    let (root, lang) = (urls::root_prefix(url), site.config.language.as_str());
    let key = shared.inputs.row_key(i, template, &format!("{extra}{root}{lang}"));
    drawn_from(key);
    fallible_piece(memo, key, || {
        let mut ctx = Context::new();
        ctx.insert(name, &row());
        ctx.insert("root", &root);
        ctx.insert("lang", lang);
        run(tera, template, &ctx, url).map(|f| f.bytes)
    })
    .map(as_html)
}

/// [`Memo::piece`] of a maker that can fail: its error, or the piece.
fn fallible_piece(
    memo: &dyn Memo,
    key: Fingerprint,
    make: impl FnOnce() -> Result<Vec<u8>, Diagnostic>,
) -> Result<bytes::Bytes, Diagnostic> {
    let (mut make, mut failed) = (Some(make), None);
    let piece = memo.piece(key, &mut || match make.take().map(|m| m()) {
        Some(Ok(bytes)) => bytes,
        Some(Err(d)) => {
            failed = Some(d);
            Vec::new()
        }
        None => Vec::new(),
    });
    failed.map_or(Ok(piece), Err)
}

/// MITRE's summaries carry `(Citation: …)` markers meant for their own site.
fn strip_citations(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("(Citation:") {
        out.push_str(&rest[..i]);
        match rest[i..].find(')') {
            Some(j) => rest = &rest[i + j + 1..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn run(tera: &Tera, template: &str, ctx: &Context, url: &str) -> Result<OutputFile, Diagnostic> {
    // `t()` speaks the language of what is rendered: a card's `lang`, else its page's.
    let lang = ctx.get("lang").or_else(|| ctx.get("page").and_then(|p| p.get("lang"))).and_then(Value::as_str);
    let rendered = match lang {
        Some(lang) => i18n::with_lang(lang, || tera.render(template, ctx)),
        None => tera.render(template, ctx),
    };
    match rendered {
        Ok(s) => Ok(OutputFile { path: urls::output_path(url), bytes: s.into_bytes() }),
        Err(e) => {
            let (_, message) = tera_error(&e, &[]);
            Err(Diagnostic::error("template-render", format!("rendering /{url} with {template}: {message}"))
                .in_path(format!("templates/{template}")))
        }
    }
}

/// How many write-ups the Atom feed holds.
const FEED_ENTRIES: usize = 20;

/// The Atom feed, kept when the cases it shows and the settings are as they were.
fn feed(site: &Site, tera: &Tera, shared: &Shared, memo: &dyn Memo) -> Result<Made, Diagnostic> {
    let mut order: Vec<usize> = (0..site.cases.len()).filter(|&i| site.cases[i].counted).collect();
    // A feed is about what was published, newest write-up first. Slugs are unique, so
    // the order is total: the newest 20 are picked out, and only they are sorted.
    let newest = |&a: &usize, &b: &usize| {
        let (a, b) = (&site.cases[a].case, &site.cases[b].case);
        b.updated.unwrap_or(b.date).cmp(&a.updated.unwrap_or(a.date)).then(a.slug.cmp(&b.slug))
    };
    if order.len() > FEED_ENTRIES {
        order.select_nth_unstable_by(FEED_ENTRIES - 1, newest);
        order.truncate(FEED_ENTRIES);
    }
    order.sort_unstable_by(newest);
    page(tera, memo, shared.inputs.of_feed(&order), "atom.xml", &|| Ok(("atom.xml", feed_view(site, shared, &order))))
}

fn feed_view(site: &Site, shared: &Shared, order: &[usize]) -> Ctx {
    let rfc = |d: jiff::civil::Date| format!("{d}T00:00:00Z");
    let cases: Vec<Value> = order
        .iter()
        .map(|&i| {
            let c = &site.cases[i];
            let mut card = shared.card(site, i).clone();
            card["permalink"] = json!(urls::permalink(&site.config.base_url, &c.url));
            card["updated_rfc3339"] = json!(rfc(c.case.updated.unwrap_or(c.case.date)));
            card
        })
        .collect();
    let updated = order
        .first()
        .map(|&i| rfc(site.cases[i].case.updated.unwrap_or(site.cases[i].case.date)))
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
    let mut ctx = Ctx::new();
    ctx.put("site", shared.site.clone());
    ctx.insert("root", "");
    ctx.insert("page", &page_meta(site, "atom.xml", "feed", &site.config.title, None, None));
    ctx.put("cases", Value::Array(cases));
    ctx.insert("updated", &updated);
    ctx
}

/// `sitemap.xml`, or past [`sitemap::MAX_URLS`] an index and its numbered parts; kept
/// when the pages, the cases' dates and versions, and the settings are as they were.
fn sitemap(site: &Site, tera: &Tera, shared: &Shared, memo: &dyn Memo, jobs: &[Job]) -> Vec<Result<Made, Diagnostic>> {
    let jobs: Vec<&Job> = jobs.iter().filter(|j| !matches!(j, Job::NotFound)).collect();
    let fingerprint = shared.inputs.of_sitemap(site, &jobs);
    let paths = sitemap::files(jobs.len(), sitemap::MAX_URLS);
    if paths.iter().all(|p| memo.unchanged(p, fingerprint)) {
        return paths.into_iter().map(|path| Ok(Made::Same { path, fingerprint })).collect();
    }
    let urls: Vec<Value> = jobs
        .iter()
        .map(|&j| {
            let lastmod = match *j {
                Job::Case(i) => Some(site.cases[i].case.updated.unwrap_or(site.cases[i].case.date).to_string()),
                _ => None,
            };
            // A case with translations lists every version, itself included, as search engines ask.
            let alternates: Vec<Value> = match *j {
                Job::Case(i) if !site.cases[i].translations.is_empty() => std::iter::once(i)
                    .chain(site.cases[i].translations.iter().copied())
                    .map(|k| {
                        let c = &site.cases[k];
                        let lang = c.case.lang.as_deref().unwrap_or(&site.config.language);
                        json!({"lang": lang, "permalink": urls::permalink(&site.config.base_url, &c.url)})
                    })
                    .collect(),
                _ => Vec::new(),
            };
            json!({"permalink": urls::permalink(&site.config.base_url, &j.url(site)), "lastmod": lastmod, "alternates": alternates})
        })
        .collect();
    let parts = sitemap::parts(urls, sitemap::MAX_URLS);
    let mut files: Vec<Result<OutputFile, Diagnostic>> = sitemap::index(site, &parts).map(Ok).into_iter().collect();
    for (url, urls) in &parts {
        let mut ctx = Context::new();
        ctx.insert("site", &shared.site);
        ctx.insert("urls", urls);
        files.push(run(tera, "sitemap.xml", &ctx, url));
    }
    files.into_iter().map(|f| f.map(|f| Made::New { path: f.path, bytes: f.bytes, fingerprint })).collect()
}

fn robots(tera: &Tera, shared: &Shared) -> Result<OutputFile, Diagnostic> {
    let mut ctx = Context::new();
    ctx.insert("site", &shared.site);
    run(tera, "robots.txt", &ctx, "robots.txt")
}

/// Renders every page, the feeds and the highlighting CSS, handing each file to `sink`
/// as soon as it is made (from several threads), so the site is never held whole in
/// memory. Returns the diagnostics of rendering and of `sink` (the caller sorts them).
pub fn render(site: &Site, tera: &Tera, shared: &Shared, sinks: &Sinks, profile: &Profile) -> Vec<Diagnostic> {
    let sink = sinks.file;
    let mut jobs = jobs(site);
    let each = |job: &Job| {
        let start = std::time::Instant::now();
        let r = render_job(site, tera, shared, job, sinks.memo).and_then(sinks.page).err();
        profile.add(Profile::part_of(job), start);
        r
    };
    let mut diags = Vec::new();
    if let Some(first) = sinks.first.as_ref().filter(|f| !f.paths.is_empty()) {
        let paths: Vec<String> = jobs.iter().map(|j| urls::output_path(&j.url(site))).collect();
        let (now, rest): (Vec<_>, Vec<_>) = jobs.into_iter().zip(&paths).partition(|(_, p)| first.paths.contains(p));
        diags.extend(now.par_iter().filter_map(|(j, _)| each(j)).collect::<Vec<_>>());
        let pages: FxHashSet<&str> = paths.iter().map(String::as_str).collect();
        (first.made)(&|path| pages.contains(path));
        jobs = rest.into_iter().map(|(j, _)| j).collect();
    }
    // Longest first, each handed to the next free worker in that order: a long page
    // started last would leave one core working alone at the end. A page's length is
    // the number of cases it lists.
    jobs.sort_by_key(|j| std::cmp::Reverse(j.rows(site)));
    diags.extend(jobs.iter().par_bridge().filter_map(each).collect::<Vec<_>>());
    sinks.memo.pages_made();
    // After the pages, not beside them: the tail is parallel inside, so this costs no
    // time, and the two never hold their memory at once (10,000 cases: 0.8 GB, not 0.9).
    let tail_diags = std::sync::Mutex::new(Vec::new());
    let failed = |d: Diagnostic| tail_diags.lock().unwrap_or_else(|e| e.into_inner()).push(d);
    let stream = |path: &str, fingerprint, pieces: &mut dyn Iterator<Item = Chunk>| {
        if let Err(d) = (sinks.stream)(path, fingerprint, pieces) {
            failed(d)
        }
    };
    let made = |m: Made| {
        if let Err(d) = (sinks.page)(m) {
            failed(d)
        }
    };
    let exports = exports::Sinks { memo: sinks.memo, made: &made, stream: &stream };
    // The search index hands on what it made or kept, as pages do.
    let searched = |r: Result<Made, Diagnostic>| {
        if let Err(d) = r.and_then(sinks.page) {
            failed(d)
        }
    };
    rayon::join(
        || {
            let out = |r: Result<OutputFile, Diagnostic>| {
                if let Err(d) = r.and_then(sink) {
                    failed(d)
                }
            };
            tail(site, tera, shared, profile, &out, &exports)
        },
        || {
            let start = std::time::Instant::now();
            i18n::with(&shared.strings, &site.config.language, || {
                search::render(site, tera, shared, sinks.memo, &searched)
            });
            profile.add(Profile::SEARCH, start);
        },
    );
    diags.extend(tail_diags.into_inner().unwrap_or_else(|e| e.into_inner()));
    diags
}

/// What shows every case at once (feeds, sitemap, exports), and the
/// files made from the configuration alone; `out` is called from several threads.
fn tail(
    site: &Site,
    tera: &Tera,
    shared: &Shared,
    profile: &Profile,
    out: &(dyn Fn(Result<OutputFile, Diagnostic>) + Sync),
    exports: &exports::Sinks,
) {
    // The feed and the sitemap are one thread's work each: beside the exports, not
    // before them, so that no core waits on them alone.
    rayon::join(
        || {
            let start = std::time::Instant::now();
            let site_lang = site.config.language.as_str();
            let made = |m: Result<Made, Diagnostic>| match m {
                Ok(m) => (exports.made)(m),
                Err(d) => out(Err(d)),
            };
            made(i18n::with(&shared.strings, site_lang, || feed(site, tera, shared, exports.memo)));
            sitemap(site, tera, shared, exports.memo, &self::jobs(site)).into_iter().for_each(made);
            profile.add(Profile::FEEDS, start);
        },
        || {
            let start = std::time::Instant::now();
            exports::render_each(site, &|f| out(Ok(f)), exports);
            profile.add(Profile::EXPORTS, start);
        },
    );
    {
        for d in shared.card_errors().into_iter().chain(shared.strings_warnings.iter().cloned()) {
            out(Err(d));
        }
        out(robots(tera, shared));
        out(crate::parse::markdown::highlight_css(
            &site.config.markdown.highlight_theme,
            &site.config.markdown.highlight_theme_dark,
        )
        .map(|css| OutputFile { path: "syntax.css".into(), bytes: css.into_bytes() })
        .map_err(|e| Diagnostic::error("config-invalid", e).in_path("site.toml")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marks as a page's view makes them, with their pieces.
    fn marked(pieces: &[&str]) -> (Vec<String>, Vec<bytes::Bytes>) {
        SPLICED.with(|s| *s.borrow_mut() = Some(Vec::new()));
        let marks = pieces.iter().map(|p| as_html(bytes::Bytes::copy_from_slice(p.as_bytes()))).collect();
        (marks, SPLICED.with(|s| s.borrow_mut().take()).unwrap_or_default())
    }

    #[test]
    fn marks_are_replaced_by_their_pieces_wherever_the_template_put_them() {
        let (m, pieces) = marked(&["<li>a</li>", "<li>b</li>"]);
        let page = format!("<ol>{}{}</ol><p>{}</p>", m[1], m[0], m[1]);
        assert_eq!(splice(page.as_bytes(), &pieces).unwrap(), b"<ol><li>b</li><li>a</li></ol><p><li>b</li></p>");
    }

    #[test]
    fn a_mark_a_filter_changed_or_cut_is_refused() {
        let (m, pieces) = marked(&["<li>a</li>", "<li>b</li>"]);
        // Cut short (truncated), changed (upper-cased).
        for page in [format!("{}{}", m[0], &m[1][..5]), format!("{}{}", m[0], m[1].to_uppercase())] {
            assert_eq!(splice(page.as_bytes(), &pieces), None, "{page:?}");
        }
        // Not printed at all: left out, as its text would have been.
        assert_eq!(splice(m[0].as_bytes(), &pieces).unwrap(), b"<li>a</li>");
        // Outside a page's view a piece is its text.
        assert_eq!(as_html(bytes::Bytes::from_static(b"<li>c</li>")), "<li>c</li>");
    }
}
