//! The engine: files in, outputs out, one way for `build`, `check` and `serve`.
//!
//! A run goes load -> parse -> resolve -> render -> write. `build` and `check` run a new
//! engine once; `serve` keeps one and runs it again after every edit. What it keeps
//! between runs is only what makes a run cheaper, never what decides its output:
//!
//! - each file parsed, by its text ([`parsed`]): a file whose text is the same is not
//!   parsed again;
//! - the compiled templates and the catalog, by their text;
//! - the fingerprint of every page's inputs ([`memo`]): a page whose view gives the same
//!   values to the same templates is not rendered again, and the store keeps its bytes.
//!
//! Everything else (resolve, the views, exports, feeds, search, the link check) runs
//! every time, so an edit can never leave an output stale, and the outputs a run does not
//! make are gone from the store when it commits.

mod cache;
mod memo;
mod parsed;
mod pieces;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::attack::Catalog;
use crate::config::{Config, Overrides};
use crate::diagnostics::{Diagnostic, Diagnostics, Severity};
use crate::fingerprint::Hasher;
use crate::render::{self, Made, OutputFile};
use crate::write::{self, Store};
use crate::{load, resolve};

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub root: PathBuf,
    pub overrides: Overrides,
    /// `check` validates everything and writes nothing.
    pub write: bool,
    /// The instant embargoes are compared with (now, unless a test says otherwise).
    pub now: Option<jiff::Timestamp>,
    /// `check --external`: fetch external links too.
    pub external: Option<crate::external::Options>,
    /// `build`: keep the engine's memo in `[build] cache` and start from it.
    pub cache: bool,
}

#[derive(Debug, Default)]
pub struct Report {
    pub diagnostics: Diagnostics,
    /// Where the site was (or would have been) written.
    pub output: Option<PathBuf>,
    pub pages: usize,
    /// Pages rendered by this run; the others were as the last run left them.
    pub rendered: usize,
    pub files: usize,
    pub cases: usize,
    pub left_out: usize,
    /// Output paths that changed, appeared or went (serve: what to reload).
    pub changed: Vec<String>,
    /// Why the build cache was not used, when there was one: said in one line.
    pub cache: Option<String>,
    /// (stage, milliseconds), for `--timings` and benchmarks.
    pub timings: Vec<(&'static str, u128)>,
    /// Resident memory in MB after each stage of `timings` (Linux only).
    pub resident: Vec<Option<Resident>>,
    /// Where the render's thread time went (see [`render::Profile`]).
    pub render_parts: Vec<(&'static str, u128)>,
    /// `serve`: milliseconds from the start of the run until the pages asked for lately
    /// were shown ([`write::MemoryTxn::publish`]), when they were.
    pub shown: Option<u128>,
    /// Content files read, and content files known by their stamps ([`load::Known`]).
    pub content_files: (usize, usize),
}

impl Report {
    /// Adds the last lap to the earlier one of the same stage, and moves that last: the
    /// cache's index is read before the load, the rest of the cache after it, and its
    /// figure is one.
    fn fold_last_lap(&mut self) {
        let (Some((stage, ms)), Some(resident)) = (self.timings.pop(), self.resident.pop()) else { return };
        let before = match self.timings.iter().position(|(s, _)| *s == stage) {
            Some(i) => {
                self.resident.remove(i);
                self.timings.remove(i).1
            }
            None => 0,
        };
        self.timings.push((stage, before + ms));
        self.resident.push(resident);
    }
}

/// Where a run's outputs go.
pub enum Target<'a> {
    /// Nowhere: `check`.
    None,
    /// The output folder, changed only when the run succeeds.
    Disk,
    /// Memory, swapped in whole when the run succeeds (`serve`).
    Memory(&'a write::Memory),
}

/// `casebook build` and `casebook check`: a new engine, run once.
pub fn run(options: &Options, strict: bool) -> Report {
    let mut engine = Engine::new(options.root.clone(), options.overrides.clone());
    engine.one_shot = true;
    let target = if options.write { Target::Disk } else { Target::None };
    let report = engine.run(options, strict, target);
    std::mem::forget(engine);
    report
}

/// `casebook clean`: removes the output folder (only one `build` wrote) and the build
/// cache. Returns what it removed.
pub fn clean(root: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let config_file = load::read_config(root)?;
    let config = Config::parse(&config_file).map_err(|mut ds| ds.remove(0))?;
    let mut removed = Vec::new();
    let output = output_dir(root, &config, &Overrides::default());
    if write::remove_output(&output)? {
        removed.push(output);
    }
    let cache = root.join(&config.build.cache);
    if cache::remove(&cache)? {
        removed.push(cache);
    }
    Ok(removed)
}

/// The process's resident memory, in MB.
#[derive(Debug, Clone, Copy)]
pub struct Resident {
    pub total: u64,
    /// Of it, pages of mapped files (the build cache's piece file, the binary): the
    /// kernel's page cache, which it can drop, rather than memory the build allocated.
    pub mapped: u64,
}

/// The process's resident memory, from `/proc` (None where there is no `/proc`).
fn resident_mb() -> Option<Resident> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    let mapped = kb("RssFile:").unwrap_or(0) + kb("RssShmem:").unwrap_or(0);
    Some(Resident { total: kb("VmRSS:")? / 1024, mapped: mapped / 1024 })
}

/// The output folder: `--output` is relative to the current folder, `site.toml`'s
/// `[build] output` to the site root.
pub fn output_dir(root: &Path, config: &Config, overrides: &Overrides) -> PathBuf {
    match &overrides.output {
        Some(p) => p.clone(),
        None => root.join(&config.build.output),
    }
}

/// The compiled-in catalog, or one read from the site.
pub enum LoadedCatalog {
    Builtin(&'static Catalog),
    Owned(Box<Catalog>),
}

impl std::ops::Deref for LoadedCatalog {
    type Target = Catalog;
    fn deref(&self) -> &Catalog {
        match self {
            LoadedCatalog::Builtin(c) => c,
            LoadedCatalog::Owned(c) => c,
        }
    }
}

/// What `[attack] catalog` names: the compiled-in catalog (no text), or a file in the site.
#[derive(PartialEq, Eq)]
struct CatalogSource {
    name: String,
    text: Option<String>,
}

/// The catalog's source, read again every run to tell whether it changed.
fn read_catalog(root: &Path, config: &Config) -> Result<CatalogSource, Diagnostic> {
    let name = config.attack.catalog.clone();
    if name == "builtin" {
        return Ok(CatalogSource { name, text: None });
    }
    let path = root.join(&config.attack.catalog);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        config.at_key(
            "attack",
            "catalog",
            Diagnostic::error("catalog-invalid", format!("cannot read the ATT&CK catalog {}: {e}", path.display())),
        )
    })?;
    Ok(CatalogSource { name, text: Some(text) })
}

fn parse_catalog(source: &CatalogSource, config: &Config) -> Result<LoadedCatalog, Diagnostic> {
    let name = &source.name;
    match source.text.as_deref() {
        None => Ok(LoadedCatalog::Builtin(Catalog::builtin())),
        Some(text) => Catalog::from_json(text).map(|c| LoadedCatalog::Owned(Box::new(c))).map_err(|e| {
            config.at_key("attack", "catalog", Diagnostic::error("catalog-invalid", format!("{name}: {e}")))
        }),
    }
}

/// One engine: `build` makes a new one, `serve` keeps one.
pub struct Engine {
    root: PathBuf,
    overrides: Overrides,
    parsed: parsed::Parsed,
    /// The catalog's source, and what was read from it.
    catalog: Option<(CatalogSource, std::sync::Arc<LoadedCatalog>)>,
    /// The templates' fingerprint and the Tera compiled from them.
    tera: Option<(render::Fingerprint, std::sync::Arc<tera::Tera>)>,
    memo: memo::Memo,
    verify: bool,
    /// Content files as the last run read them.
    known: load::Known,
    /// The files a watcher saw change since the last load ([`Engine::saw`]); `None`:
    /// not known, so the next load looks at every file.
    seen: Option<Vec<PathBuf>>,
    /// Whether a watcher reports what changes: only then is "nothing seen" trusted.
    watched: bool,
    /// `build` and `check`: the process ends after this run, so what it made is left for
    /// the OS to free at once; freeing a million allocations one by one takes a quarter
    /// of a second at 10,000 cases.
    one_shot: bool,
}

impl Engine {
    pub fn new(root: PathBuf, overrides: Overrides) -> Self {
        Engine {
            root,
            overrides,
            parsed: parsed::Parsed::default(),
            catalog: None,
            tera: None,
            memo: memo::Memo::default(),
            verify: cfg!(debug_assertions),
            known: load::Known::default(),
            seen: None,
            watched: false,
            one_shot: false,
        }
    }

    /// A watcher saw these files change (written, made or removed), or, with `None`, lost
    /// track (its queue overflowed). The next run looks again only at the files seen, and
    /// lists a content folder again only if one was added to it or taken from it; as long
    /// as this is never called, every run looks at everything.
    pub fn saw(&mut self, changed: Option<Vec<PathBuf>>) {
        self.watched = true;
        match (changed, &mut self.seen) {
            (Some(paths), Some(seen)) => seen.extend(paths),
            _ => self.seen = None,
        }
    }

    /// Whether each run makes every output again and checks that those whose declared
    /// inputs did not change came out the same, instead of keeping them: on in debug
    /// builds, so every test checks that views declare all they read; a test turns it
    /// off to try the path release builds take.
    pub fn set_verify(&mut self, on: bool) {
        self.verify = on;
    }

    /// One run, from the files as they are now to `target`. The target changes only when
    /// the run has no error (`strict`: no warning either).
    pub fn run(&mut self, options: &Options, strict: bool, target: Target) -> Report {
        let mut report = Report::default();
        let began = Instant::now();
        let mut clock = began;
        let mut lap = |report: &mut Report, stage: &'static str| {
            report.timings.push((stage, clock.elapsed().as_millis()));
            report.resident.push(resident_mb());
            clock = Instant::now();
        };
        let finish = |mut report: Report| {
            if strict {
                report.diagnostics.promote_warnings();
            }
            report.diagnostics.sort();
            report
        };
        let root = self.root.clone();
        let root = root.as_path();
        let config_file = match load::read_config(root) {
            Ok(f) => f,
            Err(d) => {
                report.diagnostics.push(d);
                return finish(report);
            }
        };
        let mut config = match Config::parse(&config_file) {
            Ok(c) => c,
            Err(ds) => {
                report.diagnostics.extend(ds);
                return finish(report);
            }
        };
        config.apply(&self.overrides);
        let output = output_dir(root, &config, &self.overrides);
        // `check` refuses what `build` would: the output folder and the cache's place.
        let mut checked_output = None;
        if matches!(target, Target::Disk | Target::None) {
            match write::check_output(root, &output) {
                Ok(out) => checked_output = Some(out),
                Err(d) if self.overrides.output.is_none() => {
                    report.diagnostics.push(config.at_key("build", "output", d))
                }
                Err(d) => report.diagnostics.push(d),
            }
        }
        if matches!(target, Target::Disk) {
            report.output = checked_output.clone();
        }
        // A build killed while committing: its commit is finished first, and what the
        // cache says of the output is not trusted.
        let mut interrupted = false;
        if let Some(out) = &report.output {
            match write::recover(out) {
                Ok(recovered) => interrupted = recovered,
                Err(d) => report.diagnostics.push(d),
            }
        }
        let source = match read_catalog(root, &config) {
            Ok(source) => source,
            Err(d) => {
                report.diagnostics.push(d);
                return finish(report);
            }
        };
        let catalog_fp = render::of_bytes(source.text.as_deref().unwrap_or(&source.name).as_bytes());
        let catalog = match &self.catalog {
            Some((k, c)) if *k == source => c.clone(),
            _ => match parse_catalog(&source, &config) {
                Ok(c) => {
                    let c = std::sync::Arc::new(c);
                    self.catalog = Some((source, c.clone()));
                    c
                }
                Err(d) => {
                    report.diagnostics.push(d);
                    return finish(report);
                }
            },
        };
        let cache_dir = root.join(&config.build.cache);
        let mut use_cache = options.cache;
        if let Some(out) = &checked_output {
            if let Err(d) = cache::check_place(root, &cache_dir, out, &config) {
                report.diagnostics.push(d);
                use_cache = false;
            }
        }

        // The cache is locked and its index read before the site is loaded: it says which
        // files are as the last build read them, and those are not read again.
        let cache_lock = match (&target, &report.output) {
            (Target::Disk, Some(_)) if use_cache => match cache::lock(&cache_dir) {
                Ok(lock) => Some(lock),
                Err(e) => {
                    let at = cache_dir.display();
                    report.cache = Some(format!("the build cache cannot be used ({at}: {e}); building without it"));
                    None
                }
            },
            _ => None,
        };
        let mut index = cache_lock.as_ref().map(|held| cache::read(&cache_dir, held));
        if let Some(Ok(index)) = &mut index {
            self.known = index.take_known(root);
            self.seen = None;
        }
        if cache_lock.is_some() {
            lap(&mut report, "cache");
        }
        // The site loads while the cache's pieces are mapped and its parses decoded.
        let (known, seen) = (&mut self.known, self.seen.as_deref());
        let output = report.output.as_deref();
        let ((sources, diags), opened) = rayon::join(
            || load::load(root, &config, known, seen),
            || {
                let (index, output) = (index?, output?);
                let index =
                    if interrupted { Err(Some("the last build was stopped while writing".into())) } else { index };
                Some(cache::open(&cache_dir, index, catalog_fp, output))
            },
        );
        report.content_files = self.known.counts();
        // Seen from here on: what changes while this run goes on is seen by the next.
        self.seen = self.watched.then(Vec::new);
        report.diagnostics.extend(diags);
        lap(&mut report, "load");
        let templates = memo::templates(&sources.templates);
        // The cache's key, and its lock, held until the cache is saved at the end of the run.
        let cache_key =
            cache_lock.and_then(|lock| Some((cache::Key::new(templates, catalog_fp, report.output.as_ref()?), lock)));
        let failed = |d: &Diagnostics| d.has_errors() || (strict && d.count(Severity::Warning) > 0);
        let (mut cached_memo, mut blob) = (None, None);
        if let (Some((key, _)), Some(opened)) = (&cache_key, opened) {
            match cache::trust(opened, key.theme) {
                cache::Loaded::Trusted(stored) => {
                    let (memo, parsed, pieces) = *stored;
                    cached_memo = Some(memo);
                    blob = Some(pieces);
                    self.parsed = parsed;
                }
                cache::Loaded::Untrusted(why) => {
                    report.cache = why.map(|w| format!("the build cache was not used: {w}; building everything"));
                }
            }
            lap(&mut report, "cache");
            report.fold_last_lap();
        }
        // Opened before the site is parsed: a patch commit lists the output meanwhile.
        let mut write_ms = 0;
        let start = Instant::now();
        let mut txn = if failed(&report.diagnostics) {
            None
        } else {
            let txn = match (&target, &report.output) {
                // A cache that describes the output: only what changes is written.
                (Target::Disk, Some(out)) => write::Staging::new(out, cached_memo.is_some()).map(Txn::Disk).map(Some),
                (Target::Memory(m), _) => Ok(Some(Txn::Memory(m.begin()))),
                _ => Ok(None),
            };
            txn.unwrap_or_else(|d| {
                report.diagnostics.push(d);
                None
            })
        };
        write_ms += start.elapsed().as_millis();
        let (parsed, diags) = self.parsed.parse(&sources, &config);
        report.diagnostics.extend(diags);
        lap(&mut report, "parse");
        let now = options.now.unwrap_or_else(jiff::Timestamp::now);
        // The templates compile on one core while the site resolves on the other.
        let (tera, (site, diags)) = rayon::join(
            || match &self.tera {
                Some((fp, t)) if *fp == templates => Ok(t.clone()),
                _ => render::compile(&sources.templates).map(std::sync::Arc::new),
            },
            || resolve::resolve(parsed, config, &catalog, now),
        );
        report.diagnostics.extend(diags);
        report.cases = site.cases.len();
        report.left_out = site.left_out.len();
        lap(&mut report, "resolve");
        let tera = match tera {
            Ok(t) => {
                self.tera = Some((templates, t.clone()));
                t
            }
            Err(ds) => {
                // A theme that is not there has its own error: each of its templates
                // missing is not one more.
                let no_theme = report.diagnostics.items.iter().any(|d| d.code == "theme-missing");
                report.diagnostics.extend(ds.into_iter().filter(|d| !(no_theme && d.code == "template-missing")));
                return finish(report);
            }
        };
        // Write only a run that can still succeed; the rest is rendered and checked only.
        if failed(&report.diagnostics) {
            txn.take().into_iter().for_each(Txn::abort);
        }
        let store: Option<&dyn Store> = txn.as_ref().map(Txn::store);
        let builtin = render::builtin_names(sources.templates.iter().map(|t| (t.name.as_str(), t.file.text())));
        let seen = render::check::Seen::new(&site);
        // The memo stands for what the target holds: with nothing held, nothing is kept.
        let disk_cache = match (cache_key, &report.output) {
            (Some(key), Some(out)) if store.is_some() => Some((key, out.clone())),
            _ => None,
        };
        let trusted = cached_memo.is_some();
        let mut before = match (&target, store, &disk_cache) {
            (Target::Memory(_), Some(_), _) => std::mem::take(&mut self.memo),
            (_, _, Some(_)) => cached_memo.unwrap_or_default(),
            _ => memo::Memo::default(),
        };
        // The site is resolved: the parsed files' pages of the cache's piece file may go.
        before.pieces.release();
        // A patch commit has listed the output with each file's size and time.
        let listed = match &txn {
            Some(Txn::Disk(staging)) => Some(staging),
            _ => None,
        };
        // Whole seconds: an output restored from an archive (a CI cache) keeps no more.
        let intact = |path: &str, f: &memo::FileState| {
            let seconds = |ns: i128| ns.div_euclid(1_000_000_000);
            disk_cache.as_ref().is_some_and(|(_, out)| {
                let stat = match listed.and_then(write::Staging::output_files) {
                    Some(files) => files.get(path).copied(),
                    None => cache::stat(&out.join(path)),
                };
                stat.is_some_and(|(size, mtime)| size == f.size && seconds(mtime) == seconds(f.mtime))
            })
        };
        let intact = disk_cache.as_ref().map(|_| &intact as &memo::Intact);
        // What every output reads besides the site: the templates and the catalog.
        let revision = {
            let mut h = Hasher::new();
            h.bytes(&templates.to_le_bytes());
            h.bytes(&catalog_fp.to_le_bytes());
            h.finish()
        };
        let remember = matches!(target, Target::Memory(_)) || disk_cache.is_some();
        let memo = memo::Run::new(&before, revision, &seen, intact, self.verify, remember);
        let (pages, files, rendered) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
        // A file whose bytes are those of the committed one is kept, not written again,
        // so its modification time says when it last changed.
        // `Some`: kept; `None`: the new bytes are to be written (and are remembered).
        let keep_if_same = |store: &dyn Store, path: &str, hash| {
            if memo.same(path, hash) {
                memo.kept(path);
                return Some(store.keep(path));
            }
            memo.file(path, hash);
            None
        };
        let put = |path: &str, bytes: Vec<u8>| -> Result<(), Diagnostic> {
            let Some(store) = store else { return Ok(()) };
            if memo.hashing() {
                if let Some(kept) = keep_if_same(store, path, render::of_bytes(&bytes)) {
                    return kept;
                }
            }
            store.put(path, bytes)
        };
        // Assets first: a page or export of the same path, put later, wins.
        if store.is_some() {
            use rayon::prelude::*;
            let start = Instant::now();
            if let Err(d) = sources.assets.par_iter().try_for_each(|a| put(&a.dest, write::read_asset(a)?)) {
                report.diagnostics.push(d);
            }
            write_ms += start.elapsed().as_millis();
        }
        // Exports and the search index come this way too: only HTML counts as a page.
        let page = |m: Made| -> Result<(), Diagnostic> {
            files.fetch_add(1, Ordering::Relaxed);
            let html = match &m {
                Made::New { path, .. } | Made::Same { path, .. } => path.ends_with(".html"),
            };
            pages.fetch_add(usize::from(html), Ordering::Relaxed);
            match m {
                Made::New { path, bytes, fingerprint } => {
                    rendered.fetch_add(usize::from(html), Ordering::Relaxed);
                    memo.verify(&path, fingerprint, &bytes);
                    let found = seen.add(&path, &bytes);
                    memo.page(&path, fingerprint, &bytes, found);
                    put(&path, bytes)
                }
                Made::Same { path, .. } => {
                    seen.add_found(&path, memo.found(&path));
                    let kept = store.map_or(Ok(()), |s| s.keep(&path));
                    memo.keep(path);
                    kept
                }
            }
        };
        let file = |f: OutputFile| -> Result<(), Diagnostic> {
            files.fetch_add(1, Ordering::Relaxed);
            if f.path.ends_with(".html") {
                pages.fetch_add(1, Ordering::Relaxed);
            }
            seen.add(&f.path, &f.bytes);
            put(&f.path, f.bytes)
        };
        // A file too big to hold whole, from inputs with this fingerprint (remembered like
        // a page's, so the next run can keep it), written as it streams.
        // Its hash is made from its pieces' hashes, not its bytes: a kept piece is not read
        // again to tell whether the file changed.
        let stream = |path: &str, fingerprint, pieces: &mut dyn Iterator<Item = render::Chunk>| {
            files.fetch_add(1, Ordering::Relaxed);
            seen.add(path, &[]);
            let mut hash = (memo.verifying() || (store.is_some() && memo.hashing())).then(Hasher::new);
            let mut pieces = pieces.map(|c| {
                hash.iter_mut().for_each(|h| h.bytes(&c.hash.to_le_bytes()));
                c.bytes
            });
            let written = match store {
                Some(s) => s.put_pieces(path, &mut pieces),
                None => {
                    pieces.for_each(drop);
                    Ok(())
                }
            };
            let hash = hash.map(|h| h.finish());
            memo.streamed(path, fingerprint, hash.filter(|_| memo.verifying()));
            // Tens of megabytes of pieces, read once: their pages of the cache's file go.
            before.pieces.release();
            written?;
            // Replaced by the old file if the bytes are the same.
            match (store, hash) {
                (Some(store), Some(hash)) if memo.hashing() => keep_if_same(store, path, hash).unwrap_or(Ok(())),
                _ => Ok(()),
            }
        };
        let profile = render::Profile::default();
        let start = Instant::now();
        let shared = render::shared(&site, &tera, &builtin, &memo);
        profile.add_shared(start);
        // `serve`: the pages the writer is looking at are shown as soon as they are made,
        // and with them, gone, those of what this run no longer publishes. Only a run
        // with no error yet; one that fails later puts them back (`MemoryTxn::abort`).
        let asked = match (&target, &txn) {
            (Target::Memory(m), Some(_)) if !failed(&report.diagnostics) => m.asked(),
            _ => Vec::new(),
        };
        let shown = std::sync::OnceLock::new();
        let show_first = |is_page: &render::IsPage| {
            if let Some(Txn::Memory(m)) = &txn {
                let gone: Vec<String> = asked.iter().filter(|p| withdrawn(p, is_page, m)).cloned().collect();
                m.publish(&asked, &gone);
                let _ = shown.set(began.elapsed().as_millis());
            }
        };
        let first = (!asked.is_empty()).then(|| render::First { paths: &asked, made: &show_first });
        let sinks = render::Sinks { page: &page, file: &file, stream: &stream, memo: &memo, first };
        let diags = render::render(&site, &tera, &shared, &sinks, &profile);
        report.diagnostics.extend(diags);
        report.diagnostics.extend(render::check::local_links(&site, &seen, &sources.assets));
        report.diagnostics.extend(render::check::shadowed(&seen, &sources.assets, root));
        if let Some(external) = &options.external {
            report.diagnostics.extend(crate::external::check(&site, external));
        }
        report.pages = pages.into_inner();
        report.rendered = rendered.into_inner();
        report.files = files.into_inner() + sources.assets.len();
        lap(&mut report, "render");
        report.render_parts = profile.parts();
        report.shown = shown.get().copied();
        let mut report = finish(report);
        let start = Instant::now();
        let ok = !report.diagnostics.has_errors();
        // Timed apart: it is the cache's cost, not the output's (it runs beside the commit).
        let mut save_ms = None;
        // The pages' shared data ends here (it reads the memo for the cards).
        if self.one_shot {
            std::mem::forget(shared);
        } else {
            drop(shared);
        }
        // What this run made and kept, for the next run (the run's view of the output ends).
        let mut run = memo.into_memo();
        if before.pieces.damaged() {
            report.cache = Some(
                "the build cache was not used for some pieces: they are damaged or were edited (their checksum \
                 does not match), and were made again"
                    .into(),
            );
        }
        match txn {
            Some(Txn::Disk(staging)) if ok => {
                // The cache is saved while the output is committed, and put in place only
                // if the commit succeeds.
                let used = std::mem::take(&mut run.used);
                let (mut memo, same) = before.carry(run);
                // Nothing parsed and every output as it was: the cache says so already.
                let unchanged = trusted && !self.parsed.changed && !self.known.changed() && same;
                let save = |memo: &memo::Memo| {
                    let ((key, _), _) = disk_cache.as_ref()?;
                    let saving = Instant::now();
                    let saved = (!unchanged).then(|| {
                        cache::save((&cache_dir, root), key, (memo, &self.parsed, &self.known), blob.as_ref(), &used)
                    });
                    Some((saved, saving.elapsed().as_millis()))
                };
                if disk_cache.is_some() {
                    stamp(&mut memo, &staging);
                }
                let (finished, saved) = rayon::join(|| staging.finish(), || save(&memo));
                match finished {
                    Err(d) => report.diagnostics.push(d),
                    // What is left of the previous output is removed in the background.
                    Ok(_cleanup) => {
                        if let Some((saved, ms)) = saved {
                            if let Some(Err(e)) = saved.map(|s| s.and_then(cache::Saving::publish)) {
                                report.cache = Some(format!("the build cache could not be saved: {e}"));
                            }
                            save_ms = Some(ms);
                        }
                    }
                }
                if self.one_shot {
                    std::mem::forget(memo);
                }
            }
            Some(Txn::Memory(m)) if ok => {
                report.changed = m.commit();
                let used = std::mem::take(&mut run.used);
                let (mut memo, _) = before.carry(run);
                memo.drop_dead_pieces(&used);
                self.memo = memo;
            }
            Some(Txn::Disk(staging)) => staging.abort(),
            Some(Txn::Memory(m)) => {
                m.abort();
                // The pieces made are good ones: kept for the next run.
                before.pieces = std::mem::take(&mut before.pieces).with(run.made);
                self.memo = before;
            }
            None => {}
        }
        if matches!(target, Target::Disk) && report.output.is_some() {
            write_ms += start.elapsed().as_millis();
            report.timings.push(("write", write_ms));
            report.resident.push(resident_mb());
            if let Some(ms) = save_ms {
                report.timings.push(("save", ms));
                report.resident.push(resident_mb());
            }
        }
        if self.one_shot {
            std::mem::forget(site);
            std::mem::forget(sources);
        }
        report
    }
}

/// Each file's size and modification time as written, so the next build can tell that
/// nobody changed it since: taken from the staged file, which the commit moves into place
/// as it is. A kept file is the same file, stamped when it was written.
fn stamp(memo: &mut memo::Memo, staging: &write::Staging) {
    use rayon::prelude::*;
    memo.files.par_iter_mut().filter(|(_, f)| f.mtime == 0 && f.size == 0).for_each(|(path, f)| {
        if let Some((size, mtime)) = staging.staged_stat(path) {
            (f.size, f.mtime) = (size, mtime);
        }
    });
}

/// Whether `path`, asked for, is gone with this run: it is, or lies beside, a page of the
/// last site that this run does not make (a case left out takes its exports with it).
fn withdrawn(path: &str, is_page: &render::IsPage, txn: &write::MemoryTxn) -> bool {
    let page = match path.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/index.html"),
        None => "index.html".to_string(),
    };
    txn.was(&page) && !is_page(&page)
}

/// A run's open store.
enum Txn<'a> {
    Disk(write::Staging),
    Memory(write::MemoryTxn<'a>),
}

impl Txn<'_> {
    fn abort(self) {
        match self {
            Txn::Disk(s) => s.abort(),
            Txn::Memory(m) => m.abort(),
        }
    }

    fn store(&self) -> &dyn Store {
        match self {
            Txn::Disk(s) => s,
            Txn::Memory(m) => m,
        }
    }
}
