//! Time of the resolve stage alone, on a site parsed once.
//!
//! ```text
//! cargo run --release --example bench_resolve -- SITE [RUNS]
//! ```
//!
//! Loads and parses SITE, then resolves it RUNS times (default 10) and prints each
//! run's milliseconds, the median and the CPU time a run: what `build --timings` shows
//! as `resolve`, less the noise of the stages around it. Last, a digest of what the
//! site resolved to: two versions of resolve that print the same resolved the same.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use casebook::parse::{self, markdown};

// As the binary's: resolve allocates a good deal, and glibc's malloc times differently.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(root) = args.first().map(Path::new) else {
        eprintln!("usage: bench_resolve SITE [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = args.get(1).map_or(10, |n| n.parse().expect("RUNS is a number"));
    let config_file = casebook::load::read_config(root).expect("site.toml");
    let config = casebook::config::Config::parse(&config_file).expect("valid site.toml");
    let (sources, _) = casebook::load::load(root, &config, &mut Default::default(), None);
    let md = markdown::Options { unsafe_html: config.markdown.unsafe_html };
    let cases = sources.cases.par_iter().filter_map(|f| parse::case::parse(f, &md).0).map(Arc::new).collect();
    let organizations =
        sources.organizations.par_iter().filter_map(|f| parse::org::parse(f, &md).0).map(Arc::new).collect();
    let pages = sources.pages.par_iter().filter_map(|f| parse::page::parse(f, &md).0).map(Arc::new).collect();
    let parsed = parse::Parsed { cases, organizations, pages };
    // `build --timings` counts compiling the templates under `resolve` (the engine does it
    // between the two laps): shown here so the two figures can be compared.
    let start = Instant::now();
    let compiled = casebook::render::compile(&sources.templates);
    println!("templates compiled in {:.1} ms ({})", start.elapsed().as_secs_f64() * 1e3, compiled.is_ok());
    let catalog = casebook::attack::Catalog::builtin();
    let now = jiff::Timestamp::now();
    let mut times = Vec::new();
    let mut last = None;
    let mut cpu = 0.0;
    for _ in 0..runs {
        let input = parse::Parsed {
            cases: parsed.cases.clone(),
            organizations: parsed.organizations.clone(),
            pages: parsed.pages.clone(),
        };
        let (start, cpu_start) = (Instant::now(), cpu_ms());
        let (site, diags) = casebook::resolve::resolve(input, config.clone(), catalog, now);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        cpu += cpu_ms() - cpu_start;
        println!("resolve: {ms:.1} ms ({} cases, {} diagnostics)", site.cases.len(), diags.len());
        times.push(ms);
        last = Some(site);
    }
    times.sort_by(f64::total_cmp);
    // On a machine shared with other work, CPU time varies less than the wall clock.
    println!(
        "median: {:.1} ms over {runs} runs; CPU {:.0} ms a run (both threads)",
        times[times.len() / 2],
        cpu / runs as f64
    );
    if let Some(site) = last {
        println!("digest: {:016x}", site_digest(&site));
    }
}

/// CPU time of the whole process so far (every thread), from /proc (Linux only; 0 elsewhere).
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name in parentheses: utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|t| t.parse::<f64>().ok()).sum());
    ticks * 10.0 // USER_HZ is 100 on Linux
}

/// What the site came to, in one number: two versions of resolve that print the same
/// resolved the same (fingerprints cover each case's terms, related cases and body).
fn site_digest(site: &casebook::resolve::Site) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for c in &site.cases {
        (c.fingerprint, &c.url, &c.related, &c.translations, c.counted, &c.tactics, &c.terms).hash(&mut h);
    }
    for o in &site.orgs {
        (o.fingerprint, &o.body_html, o.parent, &o.children).hash(&mut h);
    }
    for p in &site.pages {
        (p.fingerprint, &p.body_html).hash(&mut h);
    }
    for t in &site.taxonomies {
        for term in &t.terms {
            (&term.slug, &term.name, &term.cases).hash(&mut h);
        }
    }
    h.finish()
}
