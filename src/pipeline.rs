//! The build, stage after stage: load -> parse -> resolve -> render -> write.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::attack::Catalog;
use crate::config::{Config, Overrides};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::render::OutputFile;
use crate::{load, parse, render, resolve, write};

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
}

#[derive(Debug, Default)]
pub struct Report {
    pub diagnostics: Diagnostics,
    /// Where the site was (or would have been) written.
    pub output: Option<PathBuf>,
    pub pages: usize,
    pub files: usize,
    pub cases: usize,
    pub left_out: usize,
    /// (stage, milliseconds), for `--timings` and benchmarks.
    pub timings: Vec<(&'static str, u128)>,
    /// Resident memory in MB after each stage of `timings` (Linux only).
    pub resident: Vec<Option<u64>>,
    /// Where the render's thread time went (see [`render::Profile`]).
    pub render_parts: Vec<(&'static str, u128)>,
}

/// The process's resident memory in MB, from `/proc` (None where there is no `/proc`).
fn resident_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
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

/// The catalog `[attack] catalog` names: the compiled-in one, or a file in the site.
pub fn catalog(root: &Path, config: &Config) -> Result<LoadedCatalog, Diagnostic> {
    if config.attack.catalog == "builtin" {
        return Ok(LoadedCatalog::Builtin(Catalog::builtin()));
    }
    let path = root.join(&config.attack.catalog);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Diagnostic::error("catalog-invalid", format!("cannot read the ATT&CK catalog {}: {e}", path.display()))
            .in_path("site.toml")
    })?;
    Catalog::from_json(&text).map(|c| LoadedCatalog::Owned(Box::new(c))).map_err(|e| {
        Diagnostic::error("catalog-invalid", format!("{}: {e}", config.attack.catalog)).in_path("site.toml")
    })
}

/// Builds the site and, when there is no error (`strict`: no warning either), writes it.
///
/// Pages are written into the output's temporary folder as they are rendered, so the
/// site is never held whole in memory; a build that ends with errors removes that
/// folder and leaves the previous output untouched.
pub fn run(options: &Options, strict: bool) -> Report {
    let mut report = Report::default();
    let mut clock = Instant::now();
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
    let root = &options.root;
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
    config.apply(&options.overrides);
    let output = output_dir(root, &config, &options.overrides);
    if options.write {
        match write::check_output(root, &output) {
            Ok(out) => report.output = Some(out),
            Err(d) => report.diagnostics.push(d),
        }
    }
    let catalog = match catalog(root, &config) {
        Ok(c) => c,
        Err(d) => {
            report.diagnostics.push(d);
            return finish(report);
        }
    };

    let (sources, diags) = load::load(root, &config);
    report.diagnostics.extend(diags);
    lap(&mut report, "load");
    let (parsed, diags) = parse::parse_all(&sources, &config);
    report.diagnostics.extend(diags);
    lap(&mut report, "parse");
    let tera = render::compile(&sources.templates);
    let now = options.now.unwrap_or_else(jiff::Timestamp::now);
    let (site, diags) = resolve::resolve(parsed, config, &catalog, now);
    report.diagnostics.extend(diags);
    report.cases = site.cases.len();
    report.left_out = site.left_out.len();
    lap(&mut report, "resolve");
    let tera = match tera {
        Ok(t) => t,
        Err(ds) => {
            report.diagnostics.extend(ds);
            return finish(report);
        }
    };
    let failed = |d: &Diagnostics| d.has_errors() || (strict && d.count(crate::diagnostics::Severity::Warning) > 0);
    // Write only a build that can still succeed; the rest is rendered and checked only.
    let mut write_ms = 0;
    let staging = match &report.output {
        Some(out) if options.write && !failed(&report.diagnostics) => {
            let start = Instant::now();
            let staging = write::Staging::new(out, &sources.assets);
            write_ms += start.elapsed().as_millis();
            match staging {
                Ok(s) => Some(s),
                Err(d) => {
                    report.diagnostics.push(d);
                    None
                }
            }
        }
        _ => None,
    };
    let builtin = render::builtin_names(sources.templates.iter().map(|t| (t.name.as_str(), t.file.text.as_str())));
    let seen = render::check::Seen::new(&site);
    let (pages, files) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let sink = |f: OutputFile| -> Result<(), Diagnostic> {
        files.fetch_add(1, Ordering::Relaxed);
        if f.path.ends_with(".html") {
            pages.fetch_add(1, Ordering::Relaxed);
        }
        seen.add(&f.path, &f.bytes);
        match &staging {
            Some(staging) => staging.write(&f),
            None => Ok(()),
        }
    };
    let stream = |path: &str, pieces: &mut dyn Iterator<Item = Vec<u8>>| -> Result<(), Diagnostic> {
        files.fetch_add(1, Ordering::Relaxed);
        seen.add(path, &[]);
        match &staging {
            Some(staging) => staging.write_pieces(path, pieces),
            None => {
                pieces.for_each(drop);
                Ok(())
            }
        }
    };
    let profile = render::Profile::default();
    let sinks = render::Sinks { file: &sink, stream: &stream };
    let diags = render::render_streaming(&site, &tera, &builtin, &sinks, &profile);
    report.diagnostics.extend(diags);
    report.diagnostics.extend(render::check::local_links(&site, seen, &sources.assets));
    if let Some(external) = &options.external {
        report.diagnostics.extend(crate::external::check(&site, external));
    }
    report.pages = pages.into_inner();
    report.files = files.into_inner() + sources.assets.len();
    lap(&mut report, "render");
    report.render_parts = profile.parts();
    let mut report = finish(report);
    let start = Instant::now();
    if let Some(staging) = staging {
        if report.diagnostics.has_errors() {
            staging.abort();
        } else if let Err(d) = staging.finish() {
            report.diagnostics.push(d);
        }
        write_ms += start.elapsed().as_millis();
        report.timings.push(("write", write_ms));
        report.resident.push(resident_mb());
    }
    report
}
